//! The non-capability rules (DAC with POSIX ACLs, ownership, file flags, tun device owners) the
//! kernel applies before it asks for a capability, evaluated in user space so a capability is
//! inferred only when it made the difference; and the facts about a tracee's fds those rules and
//! the socket decoders need (ACL xattrs, file flags, socket protocols).
//!
//! DAC follows the kernel's `acl_permission_check()`: the owner class uses the mode bits; anyone
//! else is judged by the `system.posix_acl_access` ACL when there is one and its mask (the
//! group-class mode bits) is not empty, else by the mode bits. Not modelled: ACLs on filesystems
//! that keep them elsewhere than in that xattr (NFSv4 ACLs), idmapped mounts, and LSMs.

use super::procfs::Creds;
use std::ffi::CString;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::MetadataExt;

/// A capability number (`CAP_*`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Cap(pub u8);

pub const CHOWN: Cap = Cap(0);
pub const DAC_OVERRIDE: Cap = Cap(1);
pub const DAC_READ_SEARCH: Cap = Cap(2);
pub const FOWNER: Cap = Cap(3);
pub const KILL: Cap = Cap(5);
pub const SETGID: Cap = Cap(6);
pub const SETUID: Cap = Cap(7);
pub const SETPCAP: Cap = Cap(8);
pub const LINUX_IMMUTABLE: Cap = Cap(9);
pub const NET_BIND_SERVICE: Cap = Cap(10);
pub const NET_ADMIN: Cap = Cap(12);
pub const NET_RAW: Cap = Cap(13);
pub const SYS_MODULE: Cap = Cap(16);
pub const SYS_RAWIO: Cap = Cap(17);
pub const SYS_CHROOT: Cap = Cap(18);
pub const SYS_PTRACE: Cap = Cap(19);
pub const SYS_PACCT: Cap = Cap(20);
pub const SYS_ADMIN: Cap = Cap(21);
pub const SYS_BOOT: Cap = Cap(22);
pub const SYS_NICE: Cap = Cap(23);
pub const SYS_RESOURCE: Cap = Cap(24);
pub const SYS_TIME: Cap = Cap(25);
pub const SYS_TTY_CONFIG: Cap = Cap(26);
pub const MKNOD: Cap = Cap(27);
pub const SETFCAP: Cap = Cap(31);
pub const SYSLOG: Cap = Cap(34);
pub const WAKE_ALARM: Cap = Cap(35);
pub const PERFMON: Cap = Cap(38);
pub const BPF: Cap = Cap(39);

/// The parts of `stat()` the rules look at.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Stat {
    pub mode: u32,
    pub uid: u32,
    pub gid: u32,
}

fn from_metadata(m: &std::fs::Metadata) -> Stat {
    Stat {
        mode: m.mode(),
        uid: m.uid(),
        gid: m.gid(),
    }
}

/// `stat()` (or `lstat()` when `follow` is false) of an absolute path.
pub fn stat(path: &[u8], follow: bool) -> Option<Stat> {
    let path = std::path::Path::new(std::ffi::OsStr::from_bytes(path));
    let meta = if follow {
        std::fs::metadata(path)
    } else {
        std::fs::symlink_metadata(path)
    };
    meta.ok().map(|m| from_metadata(&m))
}

/// `fstat()` of a tracee's fd, through its `/proc` magic link.
pub fn stat_fd(tid: i32, fd: i64) -> Option<Stat> {
    std::fs::metadata(format!("/proc/{tid}/fd/{fd}"))
        .ok()
        .map(|m| from_metadata(&m))
}

// --- DAC: mode bits and POSIX ACLs ----------------------------------------------------------

/// The tag of an ACL entry (`ACL_USER_OBJ`, …), with the id for named entries.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AclTag {
    UserObj,
    User(u32),
    GroupObj,
    Group(u32),
    Mask,
    Other,
}

/// One ACL entry: a tag and its `rwx` bits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AclEntry {
    pub tag: AclTag,
    pub perm: u32,
}

/// An access ACL, entries in stored order (the kernel keeps them sorted by tag, then id).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Acl(pub Vec<AclEntry>);

/// The xattr that holds a file's access ACL.
const ACL_ACCESS_XATTR: &str = "system.posix_acl_access";
/// `POSIX_ACL_XATTR_VERSION`: the only layout the kernel reads or writes.
const ACL_XATTR_VERSION: u32 = 2;
const ACL_HEADER_LEN: usize = 4;
const ACL_ENTRY_LEN: usize = 8;

/// Parses the xattr form of an ACL: a little-endian `u32` version 2, then 8-byte entries
/// `{u16 tag, u16 perm, u32 id}`. `None` for anything the kernel would not have stored (wrong
/// version, ragged length, unknown tag) and for an empty list, which the kernel treats as no ACL.
pub fn parse_acl(bytes: &[u8]) -> Option<Acl> {
    let header: [u8; ACL_HEADER_LEN] = bytes.get(..ACL_HEADER_LEN)?.try_into().ok()?;
    if u32::from_le_bytes(header) != ACL_XATTR_VERSION {
        return None;
    }
    let body = &bytes[ACL_HEADER_LEN..];
    if body.is_empty() || !body.len().is_multiple_of(ACL_ENTRY_LEN) {
        return None;
    }
    let entries = body
        .chunks_exact(ACL_ENTRY_LEN)
        .map(|e| {
            let tag = u16::from_le_bytes([e[0], e[1]]);
            let perm = u32::from(u16::from_le_bytes([e[2], e[3]])) & 0o7;
            let id = u32::from_le_bytes([e[4], e[5], e[6], e[7]]);
            let tag = match tag {
                0x01 => AclTag::UserObj,
                0x02 => AclTag::User(id),
                0x04 => AclTag::GroupObj,
                0x08 => AclTag::Group(id),
                0x10 => AclTag::Mask,
                0x20 => AclTag::Other,
                _ => return None,
            };
            Some(AclEntry { tag, perm })
        })
        .collect::<Option<Vec<_>>>()?;
    Some(Acl(entries))
}

/// The kernel's `posix_acl_permission()`: the first entry that matches the caller decides;
/// named users and all groups are limited by the mask that follows them; a caller in a
/// matching group whose entries all lack the bits gets nothing, not the `other` entry.
pub fn acl_allows(creds: &Creds, st: &Stat, acl: &Acl, want: u32) -> bool {
    let fsuid = creds.uids[3];
    let masked = |index: usize, perm: u32| {
        let mask = acl.0[index + 1..]
            .iter()
            .find(|e| e.tag == AclTag::Mask)
            .map_or(0o7, |m| m.perm);
        perm & mask & want == want
    };
    let mut in_a_group = false;
    for (index, entry) in acl.0.iter().enumerate() {
        match entry.tag {
            AclTag::UserObj if st.uid == fsuid => return entry.perm & want == want,
            AclTag::User(id) if id == fsuid => return masked(index, entry.perm),
            AclTag::GroupObj | AclTag::Group(_) => {
                let gid = match entry.tag {
                    AclTag::Group(id) => id,
                    _ => st.gid,
                };
                if creds.in_group(gid) {
                    in_a_group = true;
                    if entry.perm & want == want {
                        return masked(index, entry.perm);
                    }
                }
            }
            AclTag::Other => return !in_a_group && entry.perm & want == want,
            AclTag::UserObj | AclTag::User(_) | AclTag::Mask => {}
        }
    }
    // No `other` entry: the kernel reports EIO, i.e. denies.
    false
}

/// Whether the mode bits alone grant `want` (`0o4` read, `0o2` write, `0o1` exec/search).
pub fn mode_allows(creds: &Creds, st: &Stat, want: u32) -> bool {
    let class = if creds.uids[3] == st.uid {
        (st.mode >> 6) & 0o7
    } else if creds.in_group(st.gid) {
        (st.mode >> 3) & 0o7
    } else {
        st.mode & 0o7
    };
    class & want == want
}

/// Whether the caller's ACL can decide: it never does for the owner, and the kernel skips it
/// when the group-class bits (the ACL mask) are empty.
fn acl_matters(creds: &Creds, st: &Stat) -> bool {
    creds.uids[3] != st.uid && st.mode & 0o070 != 0
}

/// The kernel's `acl_permission_check()`: DAC with the file's ACL, if it has one.
pub fn permits(creds: &Creds, st: &Stat, acl: Option<&Acl>, want: u32) -> bool {
    match acl {
        Some(acl) if acl_matters(creds, st) => acl_allows(creds, st, acl, want),
        _ => mode_allows(creds, st, want),
    }
}

/// Whether DAC grants `want`; `load_acl` runs only if an ACL could change the answer.
pub fn dac_allows(
    creds: &Creds,
    st: &Stat,
    load_acl: impl FnOnce() -> Option<Acl>,
    want: u32,
) -> bool {
    let acl = if acl_matters(creds, st) {
        load_acl()
    } else {
        None
    };
    permits(creds, st, acl.as_ref(), want)
}

/// Reads xattr `name` of `path` (following symlinks unless `follow` is false); the errno on
/// failure.
fn xattr(path: &[u8], name: &str, follow: bool) -> Result<Vec<u8>, i32> {
    let path = CString::new(path).map_err(|_| libc::EINVAL)?;
    let name = CString::new(name).map_err(|_| libc::EINVAL)?;
    let get = |buf: &mut [u8]| {
        let (ptr, len) = if buf.is_empty() {
            (std::ptr::null_mut(), 0)
        } else {
            (buf.as_mut_ptr().cast(), buf.len())
        };
        // SAFETY: `path` and `name` are NUL-terminated; `ptr` is null with length 0 (a size
        // query) or points to `len` writable bytes of `buf`.
        let n = unsafe {
            if follow {
                libc::getxattr(path.as_ptr(), name.as_ptr(), ptr, len)
            } else {
                libc::lgetxattr(path.as_ptr(), name.as_ptr(), ptr, len)
            }
        };
        usize::try_from(n).map_err(|_| {
            std::io::Error::last_os_error()
                .raw_os_error()
                .unwrap_or(libc::EIO)
        })
    };
    // Most ACLs fit in a small buffer; only larger ones pay for a size query first.
    let mut buf = vec![0u8; 256];
    match get(&mut buf) {
        Ok(n) => {
            buf.truncate(n);
            return Ok(buf);
        }
        Err(libc::ERANGE) => {}
        Err(errno) => return Err(errno),
    }
    let size = get(&mut [])?;
    buf.resize(size, 0);
    let n = get(&mut buf)?;
    buf.truncate(n);
    Ok(buf)
}

/// The access ACL of an absolute path, if it has one.
pub fn acl_of_path(path: &[u8], follow: bool) -> Option<Acl> {
    parse_acl(&xattr(path, ACL_ACCESS_XATTR, follow).ok()?)
}

/// The access ACL of the file behind a tracee's fd (through its `/proc` magic link).
pub fn acl_of_fd(tid: i32, fd: i64) -> Option<Acl> {
    let link = format!("/proc/{tid}/fd/{fd}");
    parse_acl(&xattr(link.as_bytes(), ACL_ACCESS_XATTR, true).ok()?)
}

/// Whether `chown(uid, gid)` on a file with `st` needs CAP_CHOWN (`u32::MAX` leaves an id).
pub fn chown_needs_cap(creds: &Creds, st: &Stat, uid: u32, gid: u32) -> bool {
    let owner = creds.uids[3] == st.uid;
    let uid_change = uid != u32::MAX && uid != st.uid;
    let gid_change = gid != u32::MAX && gid != st.gid && !(owner && creds.in_group(gid));
    uid_change || gid_change
}

// --- file flags ----------------------------------------------------------------------------

/// `FS_IMMUTABLE_FL | FS_APPEND_FL`, the inode flags only CAP_LINUX_IMMUTABLE may change.
pub const FS_PROTECTED_FLAGS: u32 = 0x10 | 0x20;
/// `FS_XFLAG_IMMUTABLE | FS_XFLAG_APPEND`, the same two flags in `struct fsxattr` spelling.
pub const FS_XFLAG_PROTECTED: u32 = 0x08 | 0x10;
const FS_IOC_GETFLAGS: libc::c_ulong = 0x8008_6601;
const FS_IOC_FSGETXATTR: libc::c_ulong = 0x801c_581f;

/// Whether going from `old` to `new` flips a protected flag (`fileattr_set_prepare()`).
/// Unknown old flags count as none set: the common case is setting a flag on a plain file.
pub fn flags_need_immutable(old: Option<u32>, new: u32, protected: u32) -> bool {
    (old.unwrap_or(0) ^ new) & protected != 0
}

/// A duplicate of fd `fd` of process `tgid`, taken with `pidfd_getfd()` (Linux 5.6): the very
/// open file the tracee uses, without reopening it (no side effects, works for sockets).
fn tracee_fd(tgid: i32, fd: i32) -> Option<OwnedFd> {
    // SAFETY: pidfd_open takes a pid and flags and touches no memory of ours.
    let pidfd = unsafe { libc::syscall(libc::SYS_pidfd_open, tgid, 0) };
    let pidfd = i32::try_from(pidfd).ok().filter(|fd| *fd >= 0)?;
    // SAFETY: `pidfd` was just returned to us and is owned by nothing else.
    let pidfd = unsafe { OwnedFd::from_raw_fd(pidfd) };
    // SAFETY: pidfd_getfd takes two fds and flags and touches no memory of ours.
    let dup = unsafe { libc::syscall(libc::SYS_pidfd_getfd, pidfd.as_raw_fd(), fd, 0) };
    let dup = i32::try_from(dup).ok().filter(|fd| *fd >= 0)?;
    // SAFETY: `dup` was just returned to us and is owned by nothing else.
    Some(unsafe { OwnedFd::from_raw_fd(dup) })
}

/// The current inode flags (`FS_IOC_GETFLAGS`) of the file behind a tracee's fd.
pub fn fs_flags(tgid: i32, fd: i32) -> Option<u32> {
    let file = tracee_fd(tgid, fd)?;
    let mut flags: libc::c_int = 0;
    // SAFETY: FS_IOC_GETFLAGS writes one int, and `flags` is a valid, writable int.
    let r = unsafe { libc::ioctl(file.as_raw_fd(), FS_IOC_GETFLAGS, &mut flags) };
    (r == 0).then_some(flags as u32)
}

/// The current `fsx_xflags` (`FS_IOC_FSGETXATTR`) of the file behind a tracee's fd.
pub fn fs_xflags(tgid: i32, fd: i32) -> Option<u32> {
    let file = tracee_fd(tgid, fd)?;
    // struct fsxattr: five u32 fields and 8 bytes of padding; xflags comes first.
    let mut fsx = [0u32; 7];
    // SAFETY: FS_IOC_FSGETXATTR writes a 28-byte struct fsxattr; `fsx` has 28 writable bytes.
    let r = unsafe { libc::ioctl(file.as_raw_fd(), FS_IOC_FSGETXATTR, fsx.as_mut_ptr()) };
    (r == 0).then_some(fsx[0])
}

// --- sockets -------------------------------------------------------------------------------

/// What a tracee's fd is, as far as the netlink decoder cares.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FdKind {
    /// An `AF_NETLINK` socket of protocol `NETLINK_ROUTE`.
    NetlinkRoute,
    /// Anything else that exists.
    Other,
}

/// Whether fd `fd` of thread `tid` (in process `tgid`) is a NETLINK_ROUTE socket; `None` when
/// that cannot be told (fd gone, `pidfd_getfd` refused).
///
/// Sockets name their protocol in the `system.sockprotoname` xattr: one cheap call rules out
/// files, pipes and other sockets. Netlink sockets are then asked for `SO_PROTOCOL` through a
/// duplicate: `/proc/net/netlink` would miss sockets that are not bound yet (the kernel binds
/// them on their first send, i.e. after the entry stop this is called at).
pub fn fd_kind(tid: i32, tgid: i32, fd: i32) -> Option<FdKind> {
    let link = format!("/proc/{tid}/fd/{fd}");
    let proto = match xattr(link.as_bytes(), "system.sockprotoname", true) {
        Ok(proto) => proto,
        // No such fd (or tracee): nothing to remember.
        Err(libc::ENOENT | libc::ESRCH | libc::EBADF | libc::EACCES) => return None,
        // EOPNOTSUPP, ENODATA: not a socket.
        Err(_) => return Some(FdKind::Other),
    };
    if proto.split(|b| *b == 0).next() != Some(b"NETLINK") {
        return Some(FdKind::Other);
    }
    let socket = tracee_fd(tgid, fd)?;
    let mut protocol: libc::c_int = -1;
    let mut len = std::mem::size_of::<libc::c_int>() as libc::socklen_t;
    // SAFETY: `protocol` and `len` are valid and writable; `len` holds the size of `protocol`.
    let r = unsafe {
        libc::getsockopt(
            socket.as_raw_fd(),
            libc::SOL_SOCKET,
            libc::SO_PROTOCOL,
            (&raw mut protocol).cast(),
            &mut len,
        )
    };
    // A failure here means the file only claimed to be a socket (a FUSE xattr, say).
    Some(if r == 0 && protocol == libc::NETLINK_ROUTE {
        FdKind::NetlinkRoute
    } else {
        FdKind::Other
    })
}

// --- tun devices ---------------------------------------------------------------------------

/// Whether attaching to an existing tun/tap device needs CAP_NET_ADMIN (`tun_not_capable()`):
/// only when the device has an owner that is not the caller's euid, or a group the caller is
/// not in (egid or supplementary groups). `None` means unset (-1).
pub fn tun_attach_needs_cap(creds: &Creds, owner: Option<u32>, group: Option<u32>) -> bool {
    let egid = creds.gids[1];
    owner.is_some_and(|o| o != creds.uids[1])
        || group.is_some_and(|g| g != egid && !creds.groups.contains(&g))
}

/// Whether network device `name` exists in the network namespace of thread `tid`, from its
/// `/proc/TID/net/dev` (which shows the devices of that thread's namespace, not ours).
pub fn netdev_exists(tid: i32, name: &[u8]) -> bool {
    let Ok(text) = std::fs::read(format!("/proc/{tid}/net/dev")) else {
        return false;
    };
    text.split(|b| *b == b'\n')
        .skip(2)
        .filter_map(|line| line.split(|b| *b == b':').next())
        .any(|dev| dev.trim_ascii() == name)
}

/// The owner and group of tun device `name` (`None` inside: unset), from sysfs. Sysfs shows the
/// devices of the namespace it was mounted in, so this answers only for a thread in our own
/// network namespace; otherwise the outer `None`.
pub fn tun_owner_group(tid: i32, name: &[u8]) -> Option<(Option<u32>, Option<u32>)> {
    let theirs = std::fs::read_link(format!("/proc/{tid}/ns/net")).ok()?;
    let ours = std::fs::read_link("/proc/self/ns/net").ok()?;
    if theirs != ours || name.contains(&b'/') {
        return None;
    }
    let name = String::from_utf8_lossy(name);
    let id = |attr: &str| -> Option<Option<u32>> {
        let text = std::fs::read_to_string(format!("/sys/class/net/{name}/{attr}")).ok()?;
        // -1 (INVALID_UID) means unset.
        Some(text.trim().parse::<u32>().ok())
    };
    Some((id("owner")?, id("group")?))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn creds(uid: u32, gid: u32, groups: &[u32]) -> Creds {
        Creds {
            uids: [uid; 4],
            gids: [gid; 4],
            groups: groups.to_vec(),
            cap_eff: u64::MAX,
            tgid: 1,
        }
    }

    fn stat(mode: u32, uid: u32, gid: u32) -> Stat {
        Stat { mode, uid, gid }
    }

    fn entry(tag: AclTag, perm: u32) -> AclEntry {
        AclEntry { tag, perm }
    }

    /// The xattr bytes of `entries`, as setfacl would store them.
    fn xattr_bytes(entries: &[(u16, u16, u32)]) -> Vec<u8> {
        let mut out = 2u32.to_le_bytes().to_vec();
        for (tag, perm, id) in entries {
            out.extend_from_slice(&tag.to_le_bytes());
            out.extend_from_slice(&perm.to_le_bytes());
            out.extend_from_slice(&id.to_le_bytes());
        }
        out
    }

    const NO_ID: u32 = u32::MAX;

    #[test]
    fn evaluates_mode_bits_for_the_callers_class() {
        let st = stat(0o100640, 1000, 50);
        assert!(mode_allows(&creds(1000, 1, &[]), &st, 0o6));
        assert!(mode_allows(&creds(7, 7, &[50]), &st, 0o4));
        assert!(!mode_allows(&creds(7, 7, &[50]), &st, 0o2));
        assert!(
            !mode_allows(&creds(0, 0, &[]), &st, 0o4),
            "root is 'other' here"
        );
    }

    #[test]
    fn parses_the_acl_xattr_format() {
        let bytes = xattr_bytes(&[
            (0x01, 6, NO_ID),
            (0x02, 4, 1000),
            (0x04, 0, NO_ID),
            (0x08, 5, 50),
            (0x10, 4, NO_ID),
            (0x20, 0, NO_ID),
        ]);
        assert_eq!(
            parse_acl(&bytes),
            Some(Acl(vec![
                entry(AclTag::UserObj, 6),
                entry(AclTag::User(1000), 4),
                entry(AclTag::GroupObj, 0),
                entry(AclTag::Group(50), 5),
                entry(AclTag::Mask, 4),
                entry(AclTag::Other, 0),
            ]))
        );
        let mut wrong_version = bytes.clone();
        wrong_version[0] = 1;
        assert_eq!(parse_acl(&wrong_version), None);
        assert_eq!(parse_acl(&bytes[..bytes.len() - 3]), None, "ragged");
        assert_eq!(parse_acl(&bytes[..4]), None, "no entries");
        assert_eq!(parse_acl(&[2, 0]), None, "short header");
        assert_eq!(parse_acl(&xattr_bytes(&[(0x40, 7, NO_ID)])), None);
    }

    #[test]
    fn acl_named_user_is_limited_by_the_mask() {
        // setfacl -m u:0:r on a 0600 file of 65534; then a mask of --- (chmod g-rwx).
        let st = stat(0o100640, 65534, 65534);
        let mut acl = Acl(vec![
            entry(AclTag::UserObj, 6),
            entry(AclTag::User(0), 4),
            entry(AclTag::GroupObj, 0),
            entry(AclTag::Mask, 4),
            entry(AclTag::Other, 0),
        ]);
        let root = creds(0, 0, &[]);
        assert!(permits(&root, &st, Some(&acl), 0o4));
        assert!(!permits(&root, &st, Some(&acl), 0o2));
        assert!(!permits(&root, &st, None, 0o4), "mode bits alone deny");
        acl.0[3].perm = 0;
        assert!(!acl_allows(&root, &st, &acl, 0o4));
        // A zero mask means zero group-class bits: the kernel then skips the ACL entirely.
        let st_no_mask = stat(0o100604, 65534, 65534);
        assert!(permits(&root, &st_no_mask, Some(&acl), 0o4));
    }

    #[test]
    fn acl_named_user_entry_can_deny_what_other_allows() {
        let st = stat(0o100644, 65534, 65534);
        let acl = Acl(vec![
            entry(AclTag::UserObj, 6),
            entry(AclTag::User(0), 0),
            entry(AclTag::GroupObj, 4),
            entry(AclTag::Mask, 4),
            entry(AclTag::Other, 4),
        ]);
        assert!(!permits(&creds(0, 0, &[]), &st, Some(&acl), 0o4));
        assert!(permits(&creds(5, 5, &[]), &st, Some(&acl), 0o4));
    }

    #[test]
    fn acl_owner_ignores_the_acl_and_groups_do_not_fall_through_to_other() {
        let st = stat(0o100674, 1000, 50);
        let acl = Acl(vec![
            entry(AclTag::UserObj, 6),
            entry(AclTag::GroupObj, 0),
            entry(AclTag::Group(60), 2),
            entry(AclTag::Mask, 7),
            entry(AclTag::Other, 4),
        ]);
        // The owner's class is the owner bits, whatever the ACL says.
        assert!(permits(&creds(1000, 1, &[]), &st, Some(&acl), 0o6));
        // In the owning group (perm ---) and in group 60 (-w-): read matches neither, and being
        // in a matching group rules out the `other` entry.
        assert!(!permits(&creds(7, 50, &[60]), &st, Some(&acl), 0o4));
        assert!(permits(&creds(7, 50, &[60]), &st, Some(&acl), 0o2));
        // Not in any listed group: `other` applies.
        assert!(permits(&creds(7, 7, &[]), &st, Some(&acl), 0o4));
        assert!(!permits(&creds(7, 7, &[]), &st, Some(&acl), 0o2));
    }

    #[test]
    fn acl_is_loaded_only_when_it_can_matter() {
        let owner = creds(1000, 1, &[]);
        let st = stat(0o100640, 1000, 50);
        let loaded = std::cell::Cell::new(false);
        let load = || {
            loaded.set(true);
            None
        };
        assert!(dac_allows(&owner, &st, load, 0o4));
        assert!(!loaded.get(), "the owner never consults the ACL");
        let st = stat(0o100600, 1000, 50);
        assert!(!dac_allows(&creds(0, 0, &[]), &st, load, 0o4));
        assert!(!loaded.get(), "an empty mask makes the ACL irrelevant");
    }

    #[test]
    fn chown_needs_cap_only_for_real_changes() {
        let st = stat(0o100644, 1000, 1000);
        let owner = creds(1000, 1000, &[20]);
        assert!(!chown_needs_cap(&owner, &st, u32::MAX, u32::MAX));
        assert!(!chown_needs_cap(&owner, &st, 1000, 1000));
        assert!(
            !chown_needs_cap(&owner, &st, u32::MAX, 20),
            "owner to own group"
        );
        assert!(chown_needs_cap(&owner, &st, u32::MAX, 30));
        assert!(chown_needs_cap(&owner, &st, 0, u32::MAX));
        assert!(chown_needs_cap(&creds(0, 0, &[]), &st, 65534, 65534));
    }

    #[test]
    fn only_flipping_append_or_immutable_needs_linux_immutable() {
        const APPEND: u32 = 0x20;
        const NODUMP: u32 = 0x40;
        assert!(flags_need_immutable(Some(0), APPEND, FS_PROTECTED_FLAGS));
        assert!(flags_need_immutable(Some(APPEND), 0, FS_PROTECTED_FLAGS));
        assert!(!flags_need_immutable(
            Some(APPEND),
            APPEND | NODUMP,
            FS_PROTECTED_FLAGS
        ));
        assert!(!flags_need_immutable(Some(0), NODUMP, FS_PROTECTED_FLAGS));
        assert!(flags_need_immutable(None, APPEND, FS_PROTECTED_FLAGS));
        assert!(!flags_need_immutable(None, NODUMP, FS_PROTECTED_FLAGS));
    }

    #[test]
    fn tun_owner_and_group_decide_attaching() {
        let me = creds(1000, 100, &[20]);
        assert!(!tun_attach_needs_cap(&me, None, None));
        assert!(!tun_attach_needs_cap(&me, Some(1000), None));
        assert!(tun_attach_needs_cap(&me, Some(0), None));
        assert!(!tun_attach_needs_cap(&me, None, Some(20)));
        assert!(tun_attach_needs_cap(&me, None, Some(30)));
    }

    #[test]
    fn reads_facts_about_our_own_fds() {
        let me = std::process::id() as i32;
        let route = std::net::UdpSocket::bind("127.0.0.1:0").expect("udp socket");
        let udp_fd = route.as_raw_fd();
        assert_eq!(fd_kind(me, me, udp_fd), Some(FdKind::Other));
        // SAFETY: socket() takes three integers and returns a new fd or -1.
        let raw = unsafe { libc::socket(libc::AF_NETLINK, libc::SOCK_RAW, libc::NETLINK_ROUTE) };
        assert!(raw >= 0, "netlink socket");
        // SAFETY: `raw` is a fresh fd owned by nothing else.
        let netlink = unsafe { OwnedFd::from_raw_fd(raw) };
        assert_eq!(
            fd_kind(me, me, netlink.as_raw_fd()),
            Some(FdKind::NetlinkRoute),
            "unbound netlink sockets are recognised too"
        );
        assert_eq!(fd_kind(me, me, 1_000_000), None);
    }
}
