//! Syscall number ↔ name per ABI: x86_64, i386 and aarch64 from the `syscalls` crate (Linux 6.18
//! tables), x32 derived here because the crate has no x32 table.

use crate::event::Abi;
use std::str::FromStr;
use syscalls::{aarch64, x86, x86_64};

/// Bit set in the syscall number of every x32 call.
pub const X32_SYSCALL_BIT: u32 = 0x4000_0000;

/// x32's own entries (512–547): calls whose x86_64 variant takes 64-bit-only structures.
const X32_SPECIFIC: [(u32, &str); 36] = [
    (512, "rt_sigaction"),
    (513, "rt_sigreturn"),
    (514, "ioctl"),
    (515, "readv"),
    (516, "writev"),
    (517, "recvfrom"),
    (518, "sendmsg"),
    (519, "recvmsg"),
    (520, "execve"),
    (521, "ptrace"),
    (522, "rt_sigpending"),
    (523, "rt_sigtimedwait"),
    (524, "rt_sigqueueinfo"),
    (525, "sigaltstack"),
    (526, "timer_create"),
    (527, "mq_notify"),
    (528, "kexec_load"),
    (529, "waitid"),
    (530, "set_robust_list"),
    (531, "get_robust_list"),
    (532, "vmsplice"),
    (533, "move_pages"),
    (534, "preadv"),
    (535, "pwritev"),
    (536, "rt_tgsigqueueinfo"),
    (537, "recvmmsg"),
    (538, "sendmmsg"),
    (539, "process_vm_readv"),
    (540, "process_vm_writev"),
    (541, "setsockopt"),
    (542, "getsockopt"),
    (543, "io_setup"),
    (544, "io_submit"),
    (545, "execveat"),
    (546, "preadv2"),
    (547, "pwritev2"),
];

/// x86_64 numbers marked `64` (not `common`) in the kernel's table: invalid through the x32 ABI.
const X86_64_ONLY: [u32; 46] = [
    13, 15, 16, 19, 20, 45, 46, 47, 54, 55, 59, 101, 127, 128, 129, 131, 134, 156, 174, 177, 178,
    180, 205, 206, 209, 211, 222, 236, 240, 246, 247, 273, 274, 278, 279, 295, 296, 297, 299, 307,
    310, 311, 322, 327, 328, 335,
];

/// The name of syscall `nr` in `abi`, or `None` if the number is not assigned.
///
/// x32 numbers are accepted with or without [`X32_SYSCALL_BIT`].
pub fn name(abi: Abi, nr: u32) -> Option<&'static str> {
    raw_name(abi, nr).map(|n| n.trim_start_matches("r#"))
}

/// The crate spells names that are Rust keywords as raw identifiers (i386 `r#break`).
fn raw_name(abi: Abi, nr: u32) -> Option<&'static str> {
    let nr_usize = nr as usize;
    match abi {
        Abi::X86_64 => x86_64::Sysno::new(nr_usize).map(|s| s.name()),
        Abi::I386 => x86::Sysno::new(nr_usize).map(|s| s.name()),
        Abi::Aarch64 => aarch64::Sysno::new(nr_usize).map(|s| s.name()),
        Abi::X32 => {
            let nr = nr & !X32_SYSCALL_BIT;
            if let Some((_, name)) = X32_SPECIFIC.iter().find(|(n, _)| *n == nr) {
                return Some(name);
            }
            if X86_64_ONLY.contains(&nr) {
                return None;
            }
            x86_64::Sysno::new(nr as usize).map(|s| s.name())
        }
    }
}

/// The number of syscall `name` in `abi` (x32 numbers without [`X32_SYSCALL_BIT`]).
pub fn number(abi: Abi, name: &str) -> Option<u32> {
    raw_number(abi, name).or_else(|| raw_number(abi, &format!("r#{name}")))
}

fn raw_number(abi: Abi, name: &str) -> Option<u32> {
    let id = match abi {
        Abi::X86_64 => x86_64::Sysno::from_str(name).ok().map(|s| s.id()),
        Abi::I386 => x86::Sysno::from_str(name).ok().map(|s| s.id()),
        Abi::Aarch64 => aarch64::Sysno::from_str(name).ok().map(|s| s.id()),
        Abi::X32 => {
            if let Some((n, _)) = X32_SPECIFIC.iter().find(|(_, n)| *n == name) {
                return Some(*n);
            }
            x86_64::Sysno::from_str(name)
                .ok()
                .map(|s| s.id())
                .filter(|n| !X86_64_ONLY.contains(&n.unsigned_abs()))
        }
    };
    id.and_then(|n| u32::try_from(n).ok())
}

/// Every syscall name of `abi`, in number order.
pub fn names(abi: Abi) -> Vec<&'static str> {
    match abi {
        Abi::X86_64 => x86_64::Sysno::iter().map(|s| unraw(s.name())).collect(),
        Abi::I386 => x86::Sysno::iter().map(|s| unraw(s.name())).collect(),
        Abi::Aarch64 => aarch64::Sysno::iter().map(|s| unraw(s.name())).collect(),
        Abi::X32 => {
            let mut all: Vec<(u32, &'static str)> = x86_64::Sysno::iter()
                .filter(|s| !X86_64_ONLY.contains(&s.id().unsigned_abs()))
                .map(|s| (s.id().unsigned_abs(), s.name()))
                .chain(X32_SPECIFIC.iter().copied())
                .collect();
            all.sort_unstable();
            all.into_iter().map(|(_, n)| unraw(n)).collect()
        }
    }
}

fn unraw(name: &'static str) -> &'static str {
    name.trim_start_matches("r#")
}

/// True if `name` is a syscall of any supported ABI.
pub fn is_known(name: &str) -> bool {
    Abi::ALL.into_iter().any(|abi| number(abi, name).is_some())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn covers_kernel_6_18_additions_on_every_abi() {
        let new = [
            "mseal",
            "statmount",
            "listmount",
            "getxattrat",
            "setxattrat",
            "listxattrat",
            "removexattrat",
            "cachestat",
            "open_tree_attr",
            "file_getattr",
            "file_setattr",
            "lsm_get_self_attr",
            "lsm_set_self_attr",
            "lsm_list_modules",
        ];
        for abi in Abi::ALL {
            for n in new {
                let nr = number(abi, n).unwrap_or_else(|| panic!("{abi}: {n} missing"));
                assert_eq!(name(abi, nr), Some(n), "{abi} {n}");
            }
        }
        assert_eq!(number(Abi::X86_64, "uretprobe"), Some(335));
        assert_eq!(number(Abi::X86_64, "mseal"), Some(462));
        assert_eq!(number(Abi::I386, "mseal"), Some(462));
    }

    #[test]
    fn abis_number_differently() {
        assert_eq!(name(Abi::X86_64, 0), Some("read"));
        assert_eq!(name(Abi::I386, 3), Some("read"));
        assert_eq!(name(Abi::I386, 0), Some("restart_syscall"));
        assert_eq!(name(Abi::Aarch64, 63), Some("read"));
        assert_eq!(name(Abi::X32, X32_SYSCALL_BIT), Some("read"));
        assert_eq!(name(Abi::X32, X32_SYSCALL_BIT | 520), Some("execve"));
        assert_eq!(name(Abi::X32, X32_SYSCALL_BIT | 59), None);
        assert_eq!(number(Abi::X32, "execve"), Some(520));
        assert_eq!(name(Abi::X86_64, 99_999), None);
        assert!(names(Abi::X32).contains(&"readv"));
        assert!(is_known("_llseek"));
        assert_eq!(name(Abi::I386, 17), Some("break"));
        assert_eq!(number(Abi::I386, "break"), Some(17));
        assert!(names(Abi::I386).contains(&"break"));
        assert!(!is_known("no_such_call"));
    }
}
