//! Which decoder each syscall name needs; everything not listed is only counted.

use sysprof_core::event::Abi;

/// The decoder a syscall needs at its entry stop. Argument positions are fixed per variant.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Op {
    /// Counted in the syscall set, nothing else.
    Boring,
    // --- files -----------------------------------------------------------------------------
    Open,
    Creat,
    Openat,
    Openat2,
    OpenByHandle,
    /// `(path, …)` metadata probes: stat, access, readlink, getxattr, statfs, …
    StatPath,
    /// `(dirfd, path, …)` metadata probes: newfstatat, statx, faccessat, readlinkat, …
    StatAt,
    InotifyAddWatch,
    Execve,
    Execveat,
    Chdir,
    Fchdir,
    Chroot,
    Mkdir,
    Mkdirat,
    Mknod,
    Mknodat,
    /// unlink, rmdir
    Unlink,
    Unlinkat,
    Rename,
    /// renameat, renameat2
    Renameat,
    Link,
    Linkat,
    Symlink,
    Symlinkat,
    Chmod,
    Fchmod,
    /// fchmodat, fchmodat2
    Fchmodat,
    /// chown, lchown (+32)
    Chown,
    Lchown,
    Fchown,
    Fchownat,
    /// truncate, utime, utimes
    WritePath,
    Futimesat,
    Utimensat,
    /// setxattr, lsetxattr, removexattr, lremovexattr: (path, name)
    SetXattr,
    /// fsetxattr, fremovexattr: (fd, name)
    FsetXattr,
    /// setxattrat, removexattrat: (dirfd, path, flags, name)
    SetXattrAt,
    Acct,
    Swap,
    // --- mounts ----------------------------------------------------------------------------
    Mount,
    /// umount, umount2
    Umount,
    PivotRoot,
    MoveMount,
    /// open_tree, open_tree_attr, mount_setattr: (dirfd, path, …)
    MountAt,
    /// fsopen, fsconfig, fsmount
    MountApi,
    // --- memory ----------------------------------------------------------------------------
    /// mmap (64-bit), mmap2
    Mmap,
    /// i386 `mmap`: one pointer to six 32-bit arguments
    OldMmap,
    /// mprotect, pkey_mprotect
    Mprotect,
    Shmat,
    // --- sockets ---------------------------------------------------------------------------
    Socket,
    Bind,
    Connect,
    Socketcall,
    /// write: (fd, buf, count), decoded only for netlink sockets
    Write,
    /// sendto: (fd, buf, len, flags, addr, addrlen)
    Sendto,
    /// sendmsg: (fd, msg, flags)
    Sendmsg,
    /// setsockopt: (fd, level, optname, optval, optlen)
    Setsockopt,
    /// ioctl: (fd, request, arg)
    Ioctl,
    // --- fd bookkeeping (what an fd number refers to changes) --------------------------------
    Close,
    /// close_range: (first, last, flags)
    CloseRange,
    /// dup2, dup3: (oldfd, newfd, …)
    Dup2,
    // --- processes, namespaces, scheduling --------------------------------------------------
    Clone,
    Clone3,
    Unshare,
    Setns,
    Personality,
    SchedSetscheduler,
    SchedSetattr,
    Setpriority,
    Nice,
    /// setuid, setgid (+32): (id)
    SetId1 {
        gid: bool,
    },
    /// setreuid, setregid: (r, e)
    SetId2 {
        gid: bool,
    },
    /// setresuid, setresgid: (r, e, s)
    SetId3 {
        gid: bool,
    },
    SetFsId {
        gid: bool,
    },
    Setgroups,
    Capset,
    Prctl,
    /// kill, tkill, rt_sigqueueinfo: (pid, sig)
    Kill,
    /// tgkill, rt_tgsigqueueinfo: (tgid, tid, sig)
    Tgkill,
    PidfdSendSignal,
    Ptrace,
    /// process_vm_readv/writev, kcmp: (pid, …)
    PeekProcess,
    PidfdGetfd,
    Setrlimit,
    Prlimit,
    Module,
    /// settimeofday, stime
    SetTime,
    ClockSettime,
    Adjtimex,
    ClockAdjtime,
    Boot,
    /// sethostname, setdomainname, quotactl, fanotify_init, …: success needs CAP_SYS_ADMIN
    Admin,
    Syslog,
    Vhangup,
    Rawio,
    Bpf,
    PerfEventOpen,
    /// timer_create, timerfd_create: (clockid, …)
    TimerCreate,
}

/// The decoder for syscall `name` made through `abi`.
pub fn classify(abi: Abi, name: &str) -> Op {
    use Op::*;
    match name {
        "open" => Open,
        "creat" => Creat,
        "openat" => Openat,
        "openat2" => Openat2,
        "open_by_handle_at" => OpenByHandle,
        "stat" | "lstat" | "stat64" | "lstat64" | "oldstat" | "oldlstat" | "statfs"
        | "statfs64" | "access" | "readlink" | "getxattr" | "lgetxattr" | "listxattr"
        | "llistxattr" => StatPath,
        "newfstatat" | "fstatat64" | "statx" | "faccessat" | "faccessat2" | "readlinkat"
        | "name_to_handle_at" | "getxattrat" | "listxattrat" | "file_getattr" => StatAt,
        "inotify_add_watch" => InotifyAddWatch,
        "execve" => Execve,
        "execveat" => Execveat,
        "chdir" => Chdir,
        "fchdir" => Fchdir,
        "chroot" => Chroot,
        "mkdir" => Mkdir,
        "mkdirat" => Mkdirat,
        "mknod" => Mknod,
        "mknodat" => Mknodat,
        "unlink" | "rmdir" => Unlink,
        "unlinkat" => Unlinkat,
        "rename" => Rename,
        "renameat" | "renameat2" => Renameat,
        "link" => Link,
        "linkat" => Linkat,
        "symlink" => Symlink,
        "symlinkat" => Symlinkat,
        "chmod" => Chmod,
        "fchmod" => Fchmod,
        "fchmodat" | "fchmodat2" => Fchmodat,
        "chown" | "chown32" => Chown,
        "lchown" | "lchown32" => Lchown,
        "fchown" | "fchown32" => Fchown,
        "fchownat" => Fchownat,
        "truncate" | "truncate64" | "utime" | "utimes" => WritePath,
        "futimesat" => Futimesat,
        "utimensat" | "utimensat_time64" => Utimensat,
        "setxattr" | "lsetxattr" | "removexattr" | "lremovexattr" => SetXattr,
        "fsetxattr" | "fremovexattr" => FsetXattr,
        "setxattrat" | "removexattrat" => SetXattrAt,
        "acct" => Acct,
        "swapon" | "swapoff" => Swap,
        "mount" => Mount,
        "umount" | "umount2" | "oldumount" => Umount,
        "pivot_root" => PivotRoot,
        "move_mount" => MoveMount,
        "open_tree" | "open_tree_attr" | "mount_setattr" => MountAt,
        "fsopen" | "fsconfig" | "fsmount" | "fspick" => MountApi,
        "mmap" if abi == Abi::I386 => OldMmap,
        "mmap" | "mmap2" => Mmap,
        "mprotect" | "pkey_mprotect" => Mprotect,
        "shmat" => Shmat,
        "socket" => Socket,
        "bind" => Bind,
        "connect" => Connect,
        "socketcall" => Socketcall,
        "write" => Write,
        "sendto" => Sendto,
        "sendmsg" => Sendmsg,
        "setsockopt" => Setsockopt,
        "ioctl" => Ioctl,
        "close" => Close,
        "close_range" => CloseRange,
        "dup2" | "dup3" => Dup2,
        "clone" => Clone,
        "clone3" => Clone3,
        "unshare" => Unshare,
        "setns" => Setns,
        "personality" => Personality,
        "sched_setscheduler" => SchedSetscheduler,
        "sched_setattr" => SchedSetattr,
        "setpriority" => Setpriority,
        "nice" => Nice,
        "setuid" | "setuid32" => SetId1 { gid: false },
        "setgid" | "setgid32" => SetId1 { gid: true },
        "setreuid" | "setreuid32" => SetId2 { gid: false },
        "setregid" | "setregid32" => SetId2 { gid: true },
        "setresuid" | "setresuid32" => SetId3 { gid: false },
        "setresgid" | "setresgid32" => SetId3 { gid: true },
        "setfsuid" | "setfsuid32" => SetFsId { gid: false },
        "setfsgid" | "setfsgid32" => SetFsId { gid: true },
        "setgroups" | "setgroups32" => Setgroups,
        "capset" => Capset,
        "prctl" => Prctl,
        "kill" | "tkill" | "rt_sigqueueinfo" => Kill,
        "tgkill" | "rt_tgsigqueueinfo" => Tgkill,
        "pidfd_send_signal" => PidfdSendSignal,
        "ptrace" => Ptrace,
        "process_vm_readv" | "process_vm_writev" | "kcmp" => PeekProcess,
        "pidfd_getfd" => PidfdGetfd,
        "setrlimit" => Setrlimit,
        "prlimit64" => Prlimit,
        "init_module" | "finit_module" | "delete_module" => Module,
        "settimeofday" | "stime" => SetTime,
        "clock_settime" | "clock_settime64" => ClockSettime,
        "adjtimex" => Adjtimex,
        "clock_adjtime" | "clock_adjtime64" => ClockAdjtime,
        "reboot" | "kexec_load" | "kexec_file_load" => Boot,
        "sethostname" | "setdomainname" | "quotactl" | "quotactl_fd" | "fanotify_init"
        | "lookup_dcookie" => Admin,
        "syslog" => Syslog,
        "vhangup" => Vhangup,
        "iopl" | "ioperm" => Rawio,
        "bpf" => Bpf,
        "perf_event_open" => PerfEventOpen,
        "timer_create" | "timerfd_create" => TimerCreate,
        _ => Boring,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classifies_per_abi() {
        assert_eq!(classify(Abi::X86_64, "mmap"), Op::Mmap);
        assert_eq!(classify(Abi::I386, "mmap"), Op::OldMmap);
        assert_eq!(classify(Abi::I386, "chown32"), Op::Chown);
        assert_eq!(classify(Abi::X86_64, "read"), Op::Boring);
        assert_eq!(classify(Abi::X86_64, "setresgid"), Op::SetId3 { gid: true });
        assert_eq!(classify(Abi::X32, "sendmsg"), Op::Sendmsg);
        assert_eq!(classify(Abi::Aarch64, "dup3"), Op::Dup2);
        assert_eq!(classify(Abi::I386, "ioctl"), Op::Ioctl);
    }
}
