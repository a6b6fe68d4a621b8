//! Linux constants that strace prints by name (`-X abbrev`) or by number (`-X raw`), so both
//! spellings decode to the same value and numbers can be named the way strace names them.

/// A name ↔ value table.
pub(crate) type Table = &'static [(&'static str, u64)];

/// The value of `name` in `table`.
pub(crate) fn value_of(table: Table, name: &[u8]) -> Option<u64> {
    table
        .iter()
        .find(|(n, _)| n.as_bytes() == name)
        .map(|&(_, v)| v)
}

/// The first name whose value is `value`.
pub(crate) fn name_of(table: Table, value: u64) -> Option<&'static str> {
    table.iter().find(|&&(_, v)| v == value).map(|&(n, _)| n)
}

/// `open(2)` flags that matter for access classification, with the values that are the same on
/// every supported architecture.
pub(crate) mod open {
    pub const ACCMODE: u64 = 0o3;
    pub const WRONLY: u64 = 0o1;
    pub const RDWR: u64 = 0o2;
    pub const CREAT: u64 = 0o100;
    pub const TRUNC: u64 = 0o1000;
    pub const APPEND: u64 = 0o2000;
    pub const PATH: u64 = 0o1000_0000;
    /// `__O_TMPFILE` (the bit `O_TMPFILE` adds to `O_DIRECTORY`).
    pub const TMPFILE_BIT: u64 = 0o2000_0000;
}

/// `O_*` names on x86 (x86_64, i386, x32).
pub(crate) const OPEN_FLAGS_X86: Table = &[
    ("O_RDONLY", 0),
    ("O_WRONLY", 0o1),
    ("O_RDWR", 0o2),
    ("O_ACCMODE", 0o3),
    ("O_CREAT", 0o100),
    ("O_EXCL", 0o200),
    ("O_NOCTTY", 0o400),
    ("O_TRUNC", 0o1000),
    ("O_APPEND", 0o2000),
    ("O_NONBLOCK", 0o4000),
    ("O_NDELAY", 0o4000),
    ("O_DSYNC", 0o10000),
    ("O_ASYNC", 0o20000),
    ("FASYNC", 0o20000),
    ("O_DIRECT", 0o40000),
    ("O_LARGEFILE", 0o100000),
    ("O_DIRECTORY", 0o200000),
    ("O_NOFOLLOW", 0o400000),
    ("O_NOATIME", 0o1000000),
    ("O_CLOEXEC", 0o2000000),
    ("O_SYNC", 0o4010000),
    ("O_PATH", 0o10000000),
    ("O_TMPFILE", 0o20200000),
];

/// `O_*` names on aarch64 (four bits differ from x86).
pub(crate) const OPEN_FLAGS_ARM64: Table = &[
    ("O_RDONLY", 0),
    ("O_WRONLY", 0o1),
    ("O_RDWR", 0o2),
    ("O_ACCMODE", 0o3),
    ("O_CREAT", 0o100),
    ("O_EXCL", 0o200),
    ("O_NOCTTY", 0o400),
    ("O_TRUNC", 0o1000),
    ("O_APPEND", 0o2000),
    ("O_NONBLOCK", 0o4000),
    ("O_NDELAY", 0o4000),
    ("O_DSYNC", 0o10000),
    ("O_ASYNC", 0o20000),
    ("FASYNC", 0o20000),
    ("O_DIRECTORY", 0o40000),
    ("O_NOFOLLOW", 0o100000),
    ("O_DIRECT", 0o200000),
    ("O_LARGEFILE", 0o400000),
    ("O_NOATIME", 0o1000000),
    ("O_CLOEXEC", 0o2000000),
    ("O_SYNC", 0o4010000),
    ("O_PATH", 0o10000000),
    ("O_TMPFILE", 0o20040000),
];

/// `AT_FDCWD` as strace prints it with `-X raw` (and as the kernel defines it).
pub(crate) const AT_FDCWD: i64 = -100;

pub(crate) const PROT_WRITE: u64 = 0x2;
pub(crate) const PROT_EXEC: u64 = 0x4;
pub(crate) const PROT: Table = &[
    ("PROT_NONE", 0),
    ("PROT_READ", 0x1),
    ("PROT_WRITE", 0x2),
    ("PROT_EXEC", 0x4),
    ("PROT_SEM", 0x8),
    ("PROT_BTI", 0x10),
    ("PROT_MTE", 0x20),
    ("PROT_GROWSDOWN", 0x0100_0000),
    ("PROT_GROWSUP", 0x0200_0000),
];

/// `shmat` flag that maps the segment executable.
pub(crate) const SHM_EXEC: u64 = 0o100000;
pub(crate) const SHM_FLAGS: Table = &[
    ("SHM_RDONLY", 0o10000),
    ("SHM_RND", 0o20000),
    ("SHM_REMAP", 0o40000),
    ("SHM_EXEC", 0o100000),
];

/// File-type and set-id bits of a mode.
pub(crate) mod mode {
    pub const IFMT: u64 = 0o170000;
    pub const IFCHR: u64 = 0o020000;
    pub const IFBLK: u64 = 0o060000;
    pub const SETID: u64 = 0o6000;
}
pub(crate) const MODE: Table = &[
    ("S_IFSOCK", 0o140000),
    ("S_IFLNK", 0o120000),
    ("S_IFREG", 0o100000),
    ("S_IFBLK", 0o060000),
    ("S_IFDIR", 0o040000),
    ("S_IFCHR", 0o020000),
    ("S_IFIFO", 0o010000),
    ("S_ISUID", 0o4000),
    ("S_ISGID", 0o2000),
    ("S_ISVTX", 0o1000),
];

pub(crate) mod clone {
    pub const FS: u64 = 0x200;
    pub const FILES: u64 = 0x400;
    pub const NEWUSER: u64 = 0x1000_0000;
    /// Every `CLONE_NEW*` bit (including `CLONE_NEWTIME`, which has no `Namespace` kind).
    pub const NEW_ANY: u64 = 0x0002_0000
        | 0x0200_0000
        | 0x0400_0000
        | 0x0800_0000
        | 0x1000_0000
        | 0x2000_0000
        | 0x4000_0000;
}
pub(crate) const CLONE_FLAGS: Table = &[
    ("CLONE_NEWTIME", 0x80),
    ("CLONE_VM", 0x100),
    ("CLONE_FS", 0x200),
    ("CLONE_FILES", 0x400),
    ("CLONE_SIGHAND", 0x800),
    ("CLONE_PIDFD", 0x1000),
    ("CLONE_PTRACE", 0x2000),
    ("CLONE_VFORK", 0x4000),
    ("CLONE_PARENT", 0x8000),
    ("CLONE_THREAD", 0x10000),
    ("CLONE_NEWNS", 0x20000),
    ("CLONE_SYSVSEM", 0x40000),
    ("CLONE_SETTLS", 0x80000),
    ("CLONE_PARENT_SETTID", 0x0010_0000),
    ("CLONE_CHILD_CLEARTID", 0x0020_0000),
    ("CLONE_DETACHED", 0x0040_0000),
    ("CLONE_UNTRACED", 0x0080_0000),
    ("CLONE_CHILD_SETTID", 0x0100_0000),
    ("CLONE_NEWCGROUP", 0x0200_0000),
    ("CLONE_NEWUTS", 0x0400_0000),
    ("CLONE_NEWIPC", 0x0800_0000),
    ("CLONE_NEWUSER", 0x1000_0000),
    ("CLONE_NEWPID", 0x2000_0000),
    ("CLONE_NEWNET", 0x4000_0000),
    ("CLONE_IO", 0x8000_0000),
    ("CLONE_CLEAR_SIGHAND", 0x1_0000_0000),
    ("CLONE_INTO_CGROUP", 0x2_0000_0000),
];

/// `OPEN_TREE_CLONE`: only a cloning `open_tree` needs `CAP_SYS_ADMIN`.
pub(crate) const OPEN_TREE_CLONE: u64 = 1;
pub(crate) const OPEN_TREE_FLAGS: Table = &[
    ("OPEN_TREE_CLONE", 1),
    ("OPEN_TREE_CLOEXEC", 0o2000000),
    ("AT_RECURSIVE", 0x8000),
    ("AT_EMPTY_PATH", 0x1000),
    ("AT_SYMLINK_NOFOLLOW", 0x100),
    ("AT_NO_AUTOMOUNT", 0x800),
];

/// Address families, named as strace names them.
pub(crate) const ADDRESS_FAMILIES: Table = crate::tables::net::ADDRESS_FAMILIES;

pub(crate) const AF_UNIX: u64 = 1;
pub(crate) const AF_INET: u64 = 2;
pub(crate) const AF_INET6: u64 = 10;
pub(crate) const AF_NETLINK: u64 = 16;
pub(crate) const AF_PACKET: u64 = 17;

/// Socket types; the flag bits (`SOCK_CLOEXEC`, `SOCK_NONBLOCK`) are stripped before naming.
pub(crate) const SOCKET_TYPES: Table = &[
    ("SOCK_STREAM", 1),
    ("SOCK_DGRAM", 2),
    ("SOCK_RAW", 3),
    ("SOCK_RDM", 4),
    ("SOCK_SEQPACKET", 5),
    ("SOCK_DCCP", 6),
    ("SOCK_PACKET", 10),
];
pub(crate) const SOCK_RAW: u64 = 3;
pub(crate) const SOCKET_TYPE_MASK: u64 = 0xf;
pub(crate) const SOCKET_TYPE_FLAGS: Table =
    &[("SOCK_NONBLOCK", 0o4000), ("SOCK_CLOEXEC", 0o2000000)];

pub(crate) const IP_PROTOCOLS: Table = &[
    ("IPPROTO_IP", 0),
    ("IPPROTO_ICMP", 1),
    ("IPPROTO_IGMP", 2),
    ("IPPROTO_IPIP", 4),
    ("IPPROTO_TCP", 6),
    ("IPPROTO_EGP", 8),
    ("IPPROTO_PUP", 12),
    ("IPPROTO_UDP", 17),
    ("IPPROTO_IDP", 22),
    ("IPPROTO_TP", 29),
    ("IPPROTO_DCCP", 33),
    ("IPPROTO_IPV6", 41),
    ("IPPROTO_RSVP", 46),
    ("IPPROTO_GRE", 47),
    ("IPPROTO_ESP", 50),
    ("IPPROTO_AH", 51),
    ("IPPROTO_ICMPV6", 58),
    ("IPPROTO_MTP", 92),
    ("IPPROTO_BEETPH", 94),
    ("IPPROTO_ENCAP", 98),
    ("IPPROTO_PIM", 103),
    ("IPPROTO_COMP", 108),
    ("IPPROTO_L2TP", 115),
    ("IPPROTO_SCTP", 132),
    ("IPPROTO_UDPLITE", 136),
    ("IPPROTO_MPLS", 137),
    ("IPPROTO_ETHERNET", 143),
    ("IPPROTO_RAW", 255),
    ("IPPROTO_MPTCP", 262),
];

pub(crate) const NETLINK_PROTOCOLS: Table = &[
    ("NETLINK_ROUTE", 0),
    ("NETLINK_UNUSED", 1),
    ("NETLINK_USERSOCK", 2),
    ("NETLINK_FIREWALL", 3),
    ("NETLINK_SOCK_DIAG", 4),
    ("NETLINK_NFLOG", 5),
    ("NETLINK_XFRM", 6),
    ("NETLINK_SELINUX", 7),
    ("NETLINK_ISCSI", 8),
    ("NETLINK_AUDIT", 9),
    ("NETLINK_FIB_LOOKUP", 10),
    ("NETLINK_CONNECTOR", 11),
    ("NETLINK_NETFILTER", 12),
    ("NETLINK_IP6_FW", 13),
    ("NETLINK_DNRTMSG", 14),
    ("NETLINK_KOBJECT_UEVENT", 15),
    ("NETLINK_GENERIC", 16),
    ("NETLINK_SCSITRANSPORT", 18),
    ("NETLINK_ECRYPTFS", 19),
    ("NETLINK_RDMA", 20),
    ("NETLINK_CRYPTO", 21),
    ("NETLINK_SMC", 22),
];

/// Scheduling policies; the realtime ones are what `RestrictRealtime=` forbids.
pub(crate) const SCHED_POLICIES: Table = &[
    ("SCHED_OTHER", 0),
    ("SCHED_FIFO", 1),
    ("SCHED_RR", 2),
    ("SCHED_BATCH", 3),
    ("SCHED_ISO", 4),
    ("SCHED_IDLE", 5),
    ("SCHED_DEADLINE", 6),
    ("SCHED_EXT", 7),
    ("SCHED_RESET_ON_FORK", 0x4000_0000),
];
pub(crate) const SCHED_RESET_ON_FORK: u64 = 0x4000_0000;

/// True for `SCHED_FIFO`, `SCHED_RR` and `SCHED_DEADLINE`.
pub(crate) fn is_realtime_policy(policy: u64) -> bool {
    matches!(policy, 1 | 2 | 6)
}

/// `personality(2)` types (low byte) and flags, as strace combines them.
pub(crate) const PERSONALITY: Table = &[
    ("PER_LINUX", 0x0000),
    ("PER_SVR4", 0x0001),
    ("PER_SVR3", 0x0002),
    ("PER_SCOSVR3", 0x0003),
    ("PER_OSR5", 0x0003),
    ("PER_WYSEV386", 0x0004),
    ("PER_ISCR4", 0x0005),
    ("PER_BSD", 0x0006),
    ("PER_SUNOS", 0x0006),
    ("PER_XENIX", 0x0007),
    ("PER_LINUX32", 0x0008),
    ("PER_IRIX32", 0x0009),
    ("PER_IRIXN32", 0x000a),
    ("PER_IRIX64", 0x000b),
    ("PER_RISCOS", 0x000c),
    ("PER_SOLARIS", 0x000d),
    ("PER_UW7", 0x000e),
    ("PER_OSF4", 0x000f),
    ("PER_HPUX", 0x0010),
    ("UNAME26", 0x0002_0000),
    ("ADDR_NO_RANDOMIZE", 0x0004_0000),
    ("FDPIC_FUNCPTRS", 0x0008_0000),
    ("MMAP_PAGE_ZERO", 0x0010_0000),
    ("ADDR_COMPAT_LAYOUT", 0x0020_0000),
    ("READ_IMPLIES_EXEC", 0x0040_0000),
    ("ADDR_LIMIT_32BIT", 0x0080_0000),
    ("SHORT_INODE", 0x0100_0000),
    ("WHOLE_SECONDS", 0x0200_0000),
    ("STICKY_TIMEOUTS", 0x0400_0000),
    ("ADDR_LIMIT_3GB", 0x0800_0000),
];

/// `adjtimex` mode bits: which `modes` values only read the clock.
pub(crate) const ADJ_ADJTIME: u64 = 0x8000;
pub(crate) const ADJ_OFFSET_READONLY: u64 = 0x2000;
pub(crate) const ADJ_MODES: Table = &[
    ("ADJ_OFFSET", 0x0001),
    ("ADJ_FREQUENCY", 0x0002),
    ("ADJ_MAXERROR", 0x0004),
    ("ADJ_ESTERROR", 0x0008),
    ("ADJ_STATUS", 0x0010),
    ("ADJ_TIMECONST", 0x0020),
    ("ADJ_TAI", 0x0080),
    ("ADJ_SETOFFSET", 0x0100),
    ("ADJ_MICRO", 0x1000),
    ("ADJ_NANO", 0x2000),
    ("ADJ_TICK", 0x4000),
    ("ADJ_OFFSET_SINGLESHOT", 0x8001),
    ("ADJ_OFFSET_SS_READ", 0xa001),
];

/// `F_DUPFD` and `F_DUPFD_CLOEXEC`: the `fcntl` commands that create a descriptor.
pub(crate) const FCNTL_DUP: Table = &[("F_DUPFD", 0), ("F_DUPFD_CLOEXEC", 1030)];

/// `CLONE_NEW*` as `setns` takes it (`nstype`), plus the `/proc/PID/ns/` and nsfs names.
pub(crate) const NS_FILE_NAMES: &[(&str, u64)] = &[
    ("cgroup", 0x0200_0000),
    ("ipc", 0x0800_0000),
    ("mnt", 0x0002_0000),
    ("net", 0x4000_0000),
    ("pid", 0x2000_0000),
    ("pid_for_children", 0x2000_0000),
    ("time", 0x80),
    ("time_for_children", 0x80),
    ("user", 0x1000_0000),
    ("uts", 0x0400_0000),
];

/// Capability numbers used by the inference rules.
pub(crate) mod cap {
    pub const SETGID: u8 = 6;
    pub const SETUID: u8 = 7;
    pub const NET_BIND_SERVICE: u8 = 10;
    pub const NET_RAW: u8 = 13;
    pub const SYS_MODULE: u8 = 16;
    pub const SYS_RAWIO: u8 = 17;
    pub const SYS_CHROOT: u8 = 18;
    pub const SYS_PACCT: u8 = 20;
    pub const SYS_ADMIN: u8 = 21;
    pub const SYS_BOOT: u8 = 22;
    pub const SYS_TIME: u8 = 25;
    pub const SYS_TTY_CONFIG: u8 = 26;
    pub const MKNOD: u8 = 27;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tables_round_trip() {
        assert_eq!(value_of(OPEN_FLAGS_X86, b"O_CLOEXEC"), Some(0x80000));
        assert_eq!(value_of(OPEN_FLAGS_X86, b"O_DIRECTORY"), Some(0x10000));
        assert_eq!(value_of(OPEN_FLAGS_ARM64, b"O_DIRECTORY"), Some(0x4000));
        assert_eq!(name_of(ADDRESS_FAMILIES, 10), Some("AF_INET6"));
        assert_eq!(name_of(ADDRESS_FAMILIES, 1), Some("AF_UNIX"));
        assert_eq!(name_of(SOCKET_TYPES, 2), Some("SOCK_DGRAM"));
        assert_eq!(value_of(CLONE_FLAGS, b"CLONE_NEWNET"), Some(0x4000_0000));
        assert_eq!(value_of(MODE, b"S_IFCHR"), Some(mode::IFCHR));
    }
}
