//! Which syscalls the importer decodes beyond their name, and where their arguments are.

use crate::event::Access;

/// Argument positions are zero-based indexes into the call's argument list.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    /// Only the name matters.
    Plain,
    /// Not a syscall name strace prints (garbage, or a typo): the line is unparsed.
    Invalid,
    Close,
    /// `dup(old)`, `dup2(old, new)`, `dup3(old, new, flags)`: the result copies `old`.
    Dup,
    Fcntl,
    /// Returns a new descriptor whose path the log does not give (unless `-y` decorates it).
    FdNew,
    /// `pipe([a, b])`, `pipe2([a, b], flags)`, `socketpair(f, t, p, [a, b])`: fds in an array.
    FdPair {
        array: u8,
    },
    /// `open(path, flags, mode)` / `openat(dirfd, path, flags, mode)`.
    Open {
        dirfd: Option<u8>,
        path: u8,
    },
    OpenAt2,
    Creat,
    /// A single path accessed in one way (`stat`, `unlink`, `truncate`, `chown`, …).
    /// `empty_path_is_fd`: with `AT_EMPTY_PATH` and `""`, the call works on `dirfd` itself.
    Path {
        dirfd: Option<u8>,
        path: u8,
        access: Access,
        empty_path_is_fd: bool,
    },
    /// The access is on an already open descriptor (`ftruncate`, `fchown`, `fsetxattr`).
    OnFd {
        fd: u8,
        access: Access,
    },
    /// `utimensat(dirfd, path|NULL, times, flags)`.
    Utimensat,
    Chmod {
        dirfd: Option<u8>,
        path: u8,
        mode: u8,
    },
    Fchmod,
    Mkdir {
        dirfd: Option<u8>,
        path: u8,
        mode: u8,
    },
    Mknod {
        dirfd: Option<u8>,
        path: u8,
        mode: u8,
    },
    /// `rename*`: old → Delete, new → Rename.
    Rename {
        old_dirfd: Option<u8>,
        old: u8,
        new_dirfd: Option<u8>,
        new: u8,
    },
    /// `link*`/`symlink*`: the new name is created (`old` is `None` for symlinks, whose target
    /// is only a string).
    Link {
        old_dirfd: Option<u8>,
        old: Option<u8>,
        new_dirfd: Option<u8>,
        new: u8,
    },
    Chdir,
    Fchdir,
    Chroot,
    Exec {
        dirfd: Option<u8>,
        path: u8,
        flags: Option<u8>,
    },
    Mmap,
    Mprotect,
    Shmat,
    Socket,
    Bind,
    Connect,
    /// `fork`/`vfork` (no flags), `clone` (`flags=` field), `clone3` (`{flags=...}`).
    Clone,
    Unshare,
    Setns,
    Personality,
    SchedSetScheduler,
    SchedSetAttr,
    /// Mount-table syscalls; `target` is the mount point argument, `cap` says when success
    /// proves `CAP_SYS_ADMIN`.
    Mount {
        dirfd: Option<u8>,
        target: Option<u8>,
        cap: MountCap,
        returns_fd: bool,
    },
    /// Success proves the capability in the initial user namespace.
    CapOnSuccess(u8),
    /// Success proves the capability unless the process created its own user namespace.
    NamespacedCapOnSuccess(u8),
    /// `adjtimex(buf)` / `clock_adjtime(clk, buf)`: needs `CAP_SYS_TIME` unless it only reads.
    AdjTime {
        arg: u8,
    },
    SetId(IdCall),
    SetGroups,
    GetId(IdQuery),
    /// `getpid`/`gettid`: names a process whose pid the log has not printed yet.
    PidProbe,
    /// `getcwd(buf, size)`: the buffer shows the working directory.
    Getcwd,
}

/// Which ids a `set*id` call changes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum IdCall {
    /// `setuid(id)` / `setgid(id)`.
    Set { gid: bool },
    /// `setreuid(r, e)` / `setregid(r, e)`.
    SetRe { gid: bool },
    /// `setresuid(r, e, s)` / `setresgid(r, e, s)`.
    SetRes { gid: bool },
}

/// Which ids an id query reports.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum IdQuery {
    Real {
        gid: bool,
    },
    Effective {
        gid: bool,
    },
    /// `getresuid([r], [e], [s])`.
    All {
        gid: bool,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum MountCap {
    Always,
    Never,
    /// Only `open_tree(..., OPEN_TREE_CLONE)`.
    WhenCloneFlag {
        flags: u8,
    },
}

use crate::strace::consts::cap;

/// The decoding for syscall `name`.
pub(crate) fn kind_of(name: &[u8]) -> Kind {
    use Access::*;
    let path = |path: u8, access: Access| Kind::Path {
        dirfd: None,
        path,
        access,
        empty_path_is_fd: false,
    };
    let at = |access: Access| Kind::Path {
        dirfd: Some(0),
        path: 1,
        access,
        empty_path_is_fd: true,
    };
    match name {
        b"close" => Kind::Close,
        b"dup" | b"dup2" | b"dup3" => Kind::Dup,
        b"fcntl" | b"fcntl64" => Kind::Fcntl,
        b"accept"
        | b"accept4"
        | b"memfd_create"
        | b"memfd_secret"
        | b"eventfd"
        | b"eventfd2"
        | b"epoll_create"
        | b"epoll_create1"
        | b"signalfd"
        | b"signalfd4"
        | b"timerfd_create"
        | b"inotify_init"
        | b"inotify_init1"
        | b"fanotify_init"
        | b"userfaultfd"
        | b"perf_event_open"
        | b"io_uring_setup"
        | b"pidfd_open"
        | b"pidfd_getfd"
        | b"open_by_handle_at"
        | b"landlock_create_ruleset" => Kind::FdNew,
        b"pipe" | b"pipe2" => Kind::FdPair { array: 0 },
        b"socketpair" => Kind::FdPair { array: 3 },
        b"open" => Kind::Open {
            dirfd: None,
            path: 0,
        },
        b"openat" => Kind::Open {
            dirfd: Some(0),
            path: 1,
        },
        b"openat2" => Kind::OpenAt2,
        b"creat" => Kind::Creat,
        b"stat" | b"lstat" | b"stat64" | b"lstat64" | b"oldstat" | b"oldlstat" | b"statfs"
        | b"statfs64" | b"access" | b"readlink" | b"getxattr" | b"lgetxattr" | b"listxattr"
        | b"llistxattr" | b"uselib" => path(0, Stat),
        b"inotify_add_watch" => path(1, Stat),
        b"newfstatat" | b"fstatat64" | b"statx" | b"faccessat" | b"faccessat2" | b"readlinkat"
        | b"name_to_handle_at" | b"getxattrat" | b"listxattrat" | b"file_getattr" => at(Stat),
        b"utime" | b"utimes" | b"truncate" | b"truncate64" | b"setxattr" | b"lsetxattr"
        | b"removexattr" | b"lremovexattr" => path(0, Write),
        b"futimesat" | b"setxattrat" | b"removexattrat" | b"file_setattr" => at(Write),
        b"ftruncate" | b"ftruncate64" | b"fsetxattr" | b"fremovexattr" => Kind::OnFd {
            fd: 0,
            access: Write,
        },
        b"fchown" | b"fchown32" => Kind::OnFd {
            fd: 0,
            access: Chattr,
        },
        b"utimensat" | b"utimensat_time64" => Kind::Utimensat,
        b"chown" | b"lchown" | b"chown32" | b"lchown32" => path(0, Chattr),
        b"fchownat" => at(Chattr),
        b"chmod" => Kind::Chmod {
            dirfd: None,
            path: 0,
            mode: 1,
        },
        b"fchmodat" | b"fchmodat2" => Kind::Chmod {
            dirfd: Some(0),
            path: 1,
            mode: 2,
        },
        b"fchmod" => Kind::Fchmod,
        b"unlink" | b"rmdir" => path(0, Delete),
        b"unlinkat" => Kind::Path {
            dirfd: Some(0),
            path: 1,
            access: Delete,
            empty_path_is_fd: false,
        },
        b"mkdir" => Kind::Mkdir {
            dirfd: None,
            path: 0,
            mode: 1,
        },
        b"mkdirat" => Kind::Mkdir {
            dirfd: Some(0),
            path: 1,
            mode: 2,
        },
        b"mknod" => Kind::Mknod {
            dirfd: None,
            path: 0,
            mode: 1,
        },
        b"mknodat" => Kind::Mknod {
            dirfd: Some(0),
            path: 1,
            mode: 2,
        },
        b"rename" => Kind::Rename {
            old_dirfd: None,
            old: 0,
            new_dirfd: None,
            new: 1,
        },
        b"renameat" | b"renameat2" => Kind::Rename {
            old_dirfd: Some(0),
            old: 1,
            new_dirfd: Some(2),
            new: 3,
        },
        b"link" => Kind::Link {
            old_dirfd: None,
            old: Some(0),
            new_dirfd: None,
            new: 1,
        },
        b"linkat" => Kind::Link {
            old_dirfd: Some(0),
            old: Some(1),
            new_dirfd: Some(2),
            new: 3,
        },
        b"symlink" => Kind::Link {
            old_dirfd: None,
            old: None,
            new_dirfd: None,
            new: 1,
        },
        b"symlinkat" => Kind::Link {
            old_dirfd: None,
            old: None,
            new_dirfd: Some(1),
            new: 2,
        },
        b"chdir" => Kind::Chdir,
        b"fchdir" => Kind::Fchdir,
        b"chroot" => Kind::Chroot,
        b"execve" => Kind::Exec {
            dirfd: None,
            path: 0,
            flags: None,
        },
        b"execveat" => Kind::Exec {
            dirfd: Some(0),
            path: 1,
            flags: Some(4),
        },
        b"mmap" | b"mmap2" => Kind::Mmap,
        b"mprotect" | b"pkey_mprotect" => Kind::Mprotect,
        b"shmat" => Kind::Shmat,
        b"socket" => Kind::Socket,
        b"bind" => Kind::Bind,
        b"connect" => Kind::Connect,
        b"fork" | b"vfork" | b"clone" | b"clone2" | b"clone3" => Kind::Clone,
        b"unshare" => Kind::Unshare,
        b"setns" => Kind::Setns,
        b"personality" => Kind::Personality,
        b"sched_setscheduler" => Kind::SchedSetScheduler,
        b"sched_setattr" => Kind::SchedSetAttr,
        b"mount" => Kind::Mount {
            dirfd: None,
            target: Some(1),
            cap: MountCap::Always,
            returns_fd: false,
        },
        b"umount" | b"umount2" | b"oldumount" | b"pivot_root" => Kind::Mount {
            dirfd: None,
            target: Some(0),
            cap: MountCap::Always,
            returns_fd: false,
        },
        b"move_mount" => Kind::Mount {
            dirfd: Some(2),
            target: Some(3),
            cap: MountCap::Always,
            returns_fd: false,
        },
        b"mount_setattr" => Kind::Mount {
            dirfd: Some(0),
            target: Some(1),
            cap: MountCap::Always,
            returns_fd: false,
        },
        b"open_tree" | b"open_tree_attr" => Kind::Mount {
            dirfd: Some(0),
            target: Some(1),
            cap: MountCap::WhenCloneFlag { flags: 2 },
            returns_fd: true,
        },
        b"fspick" => Kind::Mount {
            dirfd: Some(0),
            target: Some(1),
            cap: MountCap::Always,
            returns_fd: true,
        },
        b"fsopen" | b"fsmount" => Kind::Mount {
            dirfd: None,
            target: None,
            cap: MountCap::Always,
            returns_fd: true,
        },
        b"fsconfig" => Kind::Mount {
            dirfd: None,
            target: None,
            cap: MountCap::Never,
            returns_fd: false,
        },
        b"init_module" | b"finit_module" | b"delete_module" => Kind::CapOnSuccess(cap::SYS_MODULE),
        b"reboot" | b"kexec_load" | b"kexec_file_load" => Kind::CapOnSuccess(cap::SYS_BOOT),
        b"acct" => Kind::CapOnSuccess(cap::SYS_PACCT),
        b"iopl" | b"ioperm" => Kind::CapOnSuccess(cap::SYS_RAWIO),
        b"vhangup" => Kind::CapOnSuccess(cap::SYS_TTY_CONFIG),
        b"swapon" | b"swapoff" => Kind::CapOnSuccess(cap::SYS_ADMIN),
        b"settimeofday" | b"stime" | b"clock_settime" | b"clock_settime64" => {
            Kind::CapOnSuccess(cap::SYS_TIME)
        }
        b"sethostname" | b"setdomainname" => Kind::NamespacedCapOnSuccess(cap::SYS_ADMIN),
        b"adjtimex" => Kind::AdjTime { arg: 0 },
        b"clock_adjtime" | b"clock_adjtime64" => Kind::AdjTime { arg: 1 },
        b"setuid" | b"setuid32" => Kind::SetId(IdCall::Set { gid: false }),
        b"setgid" | b"setgid32" => Kind::SetId(IdCall::Set { gid: true }),
        b"setreuid" | b"setreuid32" => Kind::SetId(IdCall::SetRe { gid: false }),
        b"setregid" | b"setregid32" => Kind::SetId(IdCall::SetRe { gid: true }),
        b"setresuid" | b"setresuid32" => Kind::SetId(IdCall::SetRes { gid: false }),
        b"setresgid" | b"setresgid32" => Kind::SetId(IdCall::SetRes { gid: true }),
        b"setgroups" | b"setgroups32" => Kind::SetGroups,
        b"getuid" | b"getuid32" => Kind::GetId(IdQuery::Real { gid: false }),
        b"getgid" | b"getgid32" => Kind::GetId(IdQuery::Real { gid: true }),
        b"geteuid" | b"geteuid32" => Kind::GetId(IdQuery::Effective { gid: false }),
        b"getegid" | b"getegid32" => Kind::GetId(IdQuery::Effective { gid: true }),
        b"getresuid" | b"getresuid32" => Kind::GetId(IdQuery::All { gid: false }),
        b"getresgid" | b"getresgid32" => Kind::GetId(IdQuery::All { gid: true }),
        b"getpid" | b"gettid" => Kind::PidProbe,
        b"getcwd" => Kind::Getcwd,
        _ => Kind::Plain,
    }
}
