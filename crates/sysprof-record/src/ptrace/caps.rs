//! The non-capability rules (DAC, ownership) the kernel applies before it asks for a capability,
//! evaluated in user space so a capability is inferred only when it made the difference.
//!
//! POSIX ACLs are not evaluated: a file whose ACL grants the caller access looks denied by its
//! mode bits, so the inference can over-report DAC_OVERRIDE/DAC_READ_SEARCH on such files.

use super::procfs::Creds;
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
pub const NET_BIND_SERVICE: Cap = Cap(10);
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

/// Whether the mode bits alone grant `want` (`0o4` read, `0o2` write, `0o1` exec/search).
pub fn dac_allows(creds: &Creds, st: &Stat, want: u32) -> bool {
    let class = if creds.uids[3] == st.uid {
        (st.mode >> 6) & 0o7
    } else if creds.in_group(st.gid) {
        (st.mode >> 3) & 0o7
    } else {
        st.mode & 0o7
    };
    class & want == want
}

/// Whether `chown(uid, gid)` on a file with `st` needs CAP_CHOWN (`u32::MAX` leaves an id).
pub fn chown_needs_cap(creds: &Creds, st: &Stat, uid: u32, gid: u32) -> bool {
    let owner = creds.uids[3] == st.uid;
    let uid_change = uid != u32::MAX && uid != st.uid;
    let gid_change = gid != u32::MAX && gid != st.gid && !(owner && creds.in_group(gid));
    uid_change || gid_change
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

    #[test]
    fn evaluates_mode_bits_for_the_callers_class() {
        let st = Stat {
            mode: 0o100640,
            uid: 1000,
            gid: 50,
        };
        assert!(dac_allows(&creds(1000, 1, &[]), &st, 0o6));
        assert!(dac_allows(&creds(7, 7, &[50]), &st, 0o4));
        assert!(!dac_allows(&creds(7, 7, &[50]), &st, 0o2));
        assert!(
            !dac_allows(&creds(0, 0, &[]), &st, 0o4),
            "root is 'other' here"
        );
    }

    #[test]
    fn chown_needs_cap_only_for_real_changes() {
        let st = Stat {
            mode: 0o100644,
            uid: 1000,
            gid: 1000,
        };
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
}
