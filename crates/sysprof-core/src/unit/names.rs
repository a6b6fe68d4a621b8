//! Name tables systemd's setting parsers consult: errno names, address families, booleans.

use crate::tables::net::{ADDRESS_FAMILIES, ADDRESS_FAMILY_ALIASES};

/// Linux errno names and numbers (generic table, as on x86 and arm64).
const ERRNOS: &[(&str, u16)] = &[
    ("EPERM", 1),
    ("ENOENT", 2),
    ("ESRCH", 3),
    ("EINTR", 4),
    ("EIO", 5),
    ("ENXIO", 6),
    ("E2BIG", 7),
    ("ENOEXEC", 8),
    ("EBADF", 9),
    ("ECHILD", 10),
    ("EAGAIN", 11),
    ("EWOULDBLOCK", 11),
    ("ENOMEM", 12),
    ("EACCES", 13),
    ("EFAULT", 14),
    ("ENOTBLK", 15),
    ("EBUSY", 16),
    ("EEXIST", 17),
    ("EXDEV", 18),
    ("ENODEV", 19),
    ("ENOTDIR", 20),
    ("EISDIR", 21),
    ("EINVAL", 22),
    ("ENFILE", 23),
    ("EMFILE", 24),
    ("ENOTTY", 25),
    ("ETXTBSY", 26),
    ("EFBIG", 27),
    ("ENOSPC", 28),
    ("ESPIPE", 29),
    ("EROFS", 30),
    ("EMLINK", 31),
    ("EPIPE", 32),
    ("EDOM", 33),
    ("ERANGE", 34),
    ("EDEADLK", 35),
    ("EDEADLOCK", 35),
    ("ENAMETOOLONG", 36),
    ("ENOLCK", 37),
    ("ENOSYS", 38),
    ("ENOTEMPTY", 39),
    ("ELOOP", 40),
    ("ENOMSG", 42),
    ("EIDRM", 43),
    ("ECHRNG", 44),
    ("EL2NSYNC", 45),
    ("EL3HLT", 46),
    ("EL3RST", 47),
    ("ELNRNG", 48),
    ("EUNATCH", 49),
    ("ENOCSI", 50),
    ("EL2HLT", 51),
    ("EBADE", 52),
    ("EBADR", 53),
    ("EXFULL", 54),
    ("ENOANO", 55),
    ("EBADRQC", 56),
    ("EBADSLT", 57),
    ("EBFONT", 59),
    ("ENOSTR", 60),
    ("ENODATA", 61),
    ("ETIME", 62),
    ("ENOSR", 63),
    ("ENONET", 64),
    ("ENOPKG", 65),
    ("EREMOTE", 66),
    ("ENOLINK", 67),
    ("EADV", 68),
    ("ESRMNT", 69),
    ("ECOMM", 70),
    ("EPROTO", 71),
    ("EMULTIHOP", 72),
    ("EDOTDOT", 73),
    ("EBADMSG", 74),
    ("EOVERFLOW", 75),
    ("ENOTUNIQ", 76),
    ("EBADFD", 77),
    ("EREMCHG", 78),
    ("ELIBACC", 79),
    ("ELIBBAD", 80),
    ("ELIBSCN", 81),
    ("ELIBMAX", 82),
    ("ELIBEXEC", 83),
    ("EILSEQ", 84),
    ("ERESTART", 85),
    ("ESTRPIPE", 86),
    ("EUSERS", 87),
    ("ENOTSOCK", 88),
    ("EDESTADDRREQ", 89),
    ("EMSGSIZE", 90),
    ("EPROTOTYPE", 91),
    ("ENOPROTOOPT", 92),
    ("EPROTONOSUPPORT", 93),
    ("ESOCKTNOSUPPORT", 94),
    ("EOPNOTSUPP", 95),
    ("ENOTSUP", 95),
    ("EPFNOSUPPORT", 96),
    ("EAFNOSUPPORT", 97),
    ("EADDRINUSE", 98),
    ("EADDRNOTAVAIL", 99),
    ("ENETDOWN", 100),
    ("ENETUNREACH", 101),
    ("ENETRESET", 102),
    ("ECONNABORTED", 103),
    ("ECONNRESET", 104),
    ("ENOBUFS", 105),
    ("EISCONN", 106),
    ("ENOTCONN", 107),
    ("ESHUTDOWN", 108),
    ("ETOOMANYREFS", 109),
    ("ETIMEDOUT", 110),
    ("ECONNREFUSED", 111),
    ("EHOSTDOWN", 112),
    ("EHOSTUNREACH", 113),
    ("EALREADY", 114),
    ("EINPROGRESS", 115),
    ("ESTALE", 116),
    ("EUCLEAN", 117),
    ("ENOTNAM", 118),
    ("ENAVAIL", 119),
    ("EISNAM", 120),
    ("EREMOTEIO", 121),
    ("EDQUOT", 122),
    ("ENOMEDIUM", 123),
    ("EMEDIUMTYPE", 124),
    ("ECANCELED", 125),
    ("ENOKEY", 126),
    ("EKEYEXPIRED", 127),
    ("EKEYREVOKED", 128),
    ("EKEYREJECTED", 129),
    ("EOWNERDEAD", 130),
    ("ENOTRECOVERABLE", 131),
    ("ERFKILL", 132),
    ("EHWPOISON", 133),
];

/// Largest errno value systemd accepts (`ERRNO_MAX`).
pub(crate) const ERRNO_MAX: u16 = 4095;

/// `parse_errno()`: an errno name (exact case) or a number 0…4095.
pub(crate) fn parse_errno(text: &str) -> Option<u16> {
    if let Some((_, n)) = ERRNOS.iter().find(|(name, _)| *name == text) {
        return Some(*n);
    }
    if !text.bytes().all(|b| b.is_ascii_digit()) || text.is_empty() {
        return None;
    }
    text.parse::<u16>().ok().filter(|n| *n <= ERRNO_MAX)
}

/// The canonical name of errno `n`, or the number.
pub(crate) fn errno_name(n: u16) -> String {
    ERRNOS
        .iter()
        .find(|(_, number)| *number == n)
        .map_or_else(|| n.to_string(), |(name, _)| (*name).to_owned())
}

/// `af_from_name()` for a unit file: the exact spelling (`AF_INET`, `AF_DECnet`), aliases mapped
/// to the canonical name.
pub(crate) fn address_family_from_setting(word: &str) -> Option<&'static str> {
    if let Some((name, _)) = ADDRESS_FAMILIES.iter().find(|(name, _)| *name == word) {
        return Some(name);
    }
    ADDRESS_FAMILY_ALIASES
        .iter()
        .find(|(alias, _)| *alias == word)
        .map(|(_, canonical)| *canonical)
}

/// Canonical name of a family as a trace spells it: `AF_INET`, `PF_INET`, `inet`, `af_inet6` or
/// the number `10`. `None` if unknown.
pub fn canonical_address_family(text: &str) -> Option<&'static str> {
    let text = text.trim();
    if let Ok(n) = text.parse::<u64>() {
        return ADDRESS_FAMILIES
            .iter()
            .find(|(_, number)| *number == n)
            .map(|(name, _)| *name);
    }
    let upper = text.to_ascii_uppercase();
    let bare = upper
        .strip_prefix("AF_")
        .or_else(|| upper.strip_prefix("PF_"))
        .unwrap_or(&upper);
    let wanted = format!("AF_{bare}");
    ADDRESS_FAMILIES
        .iter()
        .map(|(name, _)| *name)
        .chain(ADDRESS_FAMILY_ALIASES.iter().map(|(alias, _)| *alias))
        .find(|name| name.eq_ignore_ascii_case(&wanted))
        .and_then(address_family_from_setting)
}

/// systemd's `parse_boolean()`.
pub(crate) fn parse_boolean(text: &str) -> Option<bool> {
    const TRUE: [&str; 6] = ["1", "yes", "y", "true", "t", "on"];
    const FALSE: [&str; 6] = ["0", "no", "n", "false", "f", "off"];
    if TRUE.iter().any(|t| t.eq_ignore_ascii_case(text)) {
        Some(true)
    } else if FALSE.iter().any(|f| f.eq_ignore_ascii_case(text)) {
        Some(false)
    } else {
        None
    }
}

/// `Personality=` names: the `personality()` value each one locks to (`PER_LINUX32` = 8 for the
/// 32-bit ones, `PER_LINUX` = 0 otherwise).
pub(crate) fn personality_value(name: &str) -> Option<u64> {
    const LINUX32: [&str; 12] = [
        "x86", "arm", "arm-be", "mips", "mips-le", "parisc", "ppc", "ppc-le", "s390", "sparc",
        "riscv32", "m68k",
    ];
    const LINUX: [&str; 13] = [
        "x86-64",
        "x32",
        "arm64",
        "arm64-be",
        "alpha",
        "ia64",
        "mips64",
        "mips64-le",
        "parisc64",
        "ppc64",
        "ppc64-le",
        "s390x",
        "riscv64",
    ];
    if LINUX32.contains(&name) {
        Some(8)
    } else if LINUX.contains(&name) || name == "sparc64" || name == "loongarch64" {
        Some(0)
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn errno_names_and_numbers() {
        assert_eq!(parse_errno("EPERM"), Some(1));
        assert_eq!(parse_errno("0"), Some(0));
        assert_eq!(parse_errno("4095"), Some(4095));
        assert_eq!(parse_errno("4096"), None);
        assert_eq!(parse_errno("eperm"), None);
        assert_eq!(parse_errno("-1"), None);
        assert_eq!(parse_errno(""), None);
        assert_eq!(errno_name(38), "ENOSYS");
        assert_eq!(errno_name(999), "999");
    }

    #[test]
    fn address_family_spellings() {
        assert_eq!(address_family_from_setting("AF_INET6"), Some("AF_INET6"));
        assert_eq!(address_family_from_setting("AF_LOCAL"), Some("AF_UNIX"));
        assert_eq!(address_family_from_setting("af_inet"), None);
        for t in ["AF_INET", "PF_INET", "inet", "2", " af_inet "] {
            assert_eq!(canonical_address_family(t), Some("AF_INET"), "{t}");
        }
        assert_eq!(canonical_address_family("AF_LOCAL"), Some("AF_UNIX"));
        assert_eq!(canonical_address_family("decnet"), Some("AF_DECnet"));
        assert_eq!(canonical_address_family("AF_BOGUS"), None);
    }

    #[test]
    fn booleans_like_systemd() {
        for t in ["1", "yes", "Y", "TRUE", "t", "On"] {
            assert_eq!(parse_boolean(t), Some(true), "{t}");
        }
        for t in ["0", "no", "N", "false", "F", "off"] {
            assert_eq!(parse_boolean(t), Some(false), "{t}");
        }
        for t in ["", "maybe", "2", "yess"] {
            assert_eq!(parse_boolean(t), None, "{t}");
        }
    }
}
