//! The committed delta table: how the captured Debian 252.38 table becomes the upstream v253 … v256 tables (facts from `reference/systemd-semantics.md` §2.1–§2.3).
//!
//! Steps apply in order, each to the result of the previous one, starting from `252.txt`.
//! Every edit is checked: adding a name a group already has, or removing one it lacks, is an
//! error, so a re-captured base that no longer fits the table is caught instead of silently
//! producing wrong files.
//!
//! What the derived tables are, and are not:
//! * group members are the upstream tag's (`syscall_filter_sets[]` of `v253` … `v256`), the
//!   minimum a target of that major version has; stable branches and distributions may add names;
//! * `@known` is not documented per tag in our reference: it stays 252.38's list (the
//!   `v252-stable` one), plus the two names documented for v256 (`mseal`, `statmount`; v256 has 521
//!   names, the other five are unknown to us). Its "Ungrouped" section is recomputed from it.

use super::table::{Group, Table};
use anyhow::{bail, Context, Result};

/// The systemd major version whose `systemd-analyze syscall-filter` output is captured.
pub const BASE_VERSION: u32 = 252;

/// One change to a table.
#[derive(Debug, Clone, Copy)]
pub enum Edit {
    /// Add names (or `@group` references) to an existing group.
    Add(&'static str, &'static [&'static str]),
    /// Remove names from an existing group.
    Remove(&'static str, &'static [&'static str]),
    /// A group that did not exist before, inserted after `after` in the output order.
    NewGroup {
        name: &'static str,
        after: &'static str,
        help: &'static str,
        members: &'static [&'static str],
    },
}

/// The edits that turn the previous table into the one for `version`.
#[derive(Debug, Clone, Copy)]
pub struct Step {
    pub version: u32,
    /// One line for the generated file's header.
    pub summary: &'static str,
    pub edits: &'static [Edit],
}

/// Debian 252.38 → v253 → v254 → v255 → v256.
pub const STEPS: [Step; 4] = [
    Step {
        version: 253,
        // §2.2: v252.0 → v253 changed nothing, so v253 is upstream v252.0; §2.1 lists what
        // v252-stable and Debian added on top of v252.0.
        summary: "upstream v253 = v252.0: the v252-stable and Debian backports of 252.38 removed",
        edits: &[
            Edit::Remove("@default", &["futex_waitv", "riscv_hwprobe", "uretprobe"]),
            Edit::Remove("@file-system", &["fchmodat2"]),
            Edit::Remove("@privileged", &["quotactl_fd"]),
            Edit::Remove("@resources", &["set_mempolicy_home_node"]),
            Edit::Remove("@system-service", &["arm_fadvise64_64"]),
        ],
    },
    Step {
        version: 254,
        summary: "upstream v254: futex_waitv, riscv_hwprobe, quotactl_fd, \
                  set_mempolicy_home_node, arm_fadvise64_64 added; new group @sandbox",
        edits: &[
            Edit::Add("@default", &["futex_waitv", "riscv_hwprobe"]),
            Edit::Add("@privileged", &["quotactl_fd"]),
            Edit::Add("@resources", &["set_mempolicy_home_node"]),
            Edit::NewGroup {
                name: "@sandbox",
                after: "@resources",
                // The help text is not in our reference; this is upstream's to our knowledge.
                help: "Sandbox functionality",
                members: &[
                    "landlock_add_rule",
                    "landlock_create_ruleset",
                    "landlock_restrict_self",
                    "seccomp",
                ],
            },
            Edit::Add("@system-service", &["arm_fadvise64_64"]),
        ],
    },
    Step {
        version: 255,
        summary: "upstream v255: fchmodat2 added to @file-system",
        edits: &[Edit::Add("@file-system", &["fchmodat2"])],
    },
    Step {
        version: 256,
        summary: "upstream v256: groups as v255; @known gains mseal and statmount",
        edits: &[Edit::Add("@known", &["mseal", "statmount"])],
    },
];

/// Applies `step` to `table` (the table of the previous version).
pub fn apply(table: &mut Table, step: &Step) -> Result<()> {
    let version = step.version;
    for edit in step.edits {
        match *edit {
            Edit::Add(group, names) => {
                let g = table
                    .group_mut(group)
                    .with_context(|| format!("v{version}"))?;
                for &name in names {
                    if g.members.iter().any(|m| m == name) {
                        bail!("v{version}: {group} already lists {name}");
                    }
                    g.members.push(name.to_owned());
                }
                g.sort_members();
            }
            Edit::Remove(group, names) => {
                let g = table
                    .group_mut(group)
                    .with_context(|| format!("v{version}"))?;
                for &name in names {
                    let Some(at) = g.members.iter().position(|m| m == name) else {
                        bail!("v{version}: {group} does not list {name}, cannot remove it");
                    };
                    g.members.remove(at);
                }
                if g.members.is_empty() {
                    bail!("v{version}: {group} would have no members");
                }
            }
            Edit::NewGroup {
                name,
                after,
                help,
                members,
            } => {
                if table.groups.iter().any(|g| g.name == name) {
                    bail!("v{version}: group {name} exists already");
                }
                let Some(at) = table.groups.iter().position(|g| g.name == after) else {
                    bail!("v{version}: no group {after} to put {name} after");
                };
                if members.is_empty() {
                    bail!("v{version}: new group {name} has no members");
                }
                let mut group = Group {
                    name: name.to_owned(),
                    help: help.to_owned(),
                    members: members.iter().map(|&m| m.to_owned()).collect(),
                };
                group.sort_members();
                table.groups.insert(at + 1, group);
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// v256 group members as listed in the reference (semantics §2.1), `@known` aside.
    const V256: [(&str, &str); 29] = [
        ("@default", "arch_prctl brk cacheflush clock_getres clock_getres_time64 clock_gettime clock_gettime64 clock_nanosleep clock_nanosleep_time64 execve exit exit_group futex futex_time64 futex_waitv get_robust_list get_thread_area getegid getegid32 geteuid geteuid32 getgid getgid32 getgroups getgroups32 getpgid getpgrp getpid getppid getrandom getresgid getresgid32 getresuid getresuid32 getrlimit getsid gettid gettimeofday getuid getuid32 membarrier mmap mmap2 mprotect munmap nanosleep pause prlimit64 restart_syscall riscv_flush_icache riscv_hwprobe rseq rt_sigreturn sched_getaffinity sched_yield set_robust_list set_thread_area set_tid_address set_tls sigreturn time ugetrlimit"),
        ("@aio", "io_cancel io_destroy io_getevents io_pgetevents io_pgetevents_time64 io_setup io_submit io_uring_enter io_uring_register io_uring_setup"),
        ("@basic-io", "_llseek close close_range dup dup2 dup3 lseek pread64 preadv preadv2 pwrite64 pwritev pwritev2 read readv write writev"),
        ("@chown", "chown chown32 fchown fchown32 fchownat lchown lchown32"),
        ("@clock", "adjtimex clock_adjtime clock_adjtime64 clock_settime clock_settime64 settimeofday"),
        ("@cpu-emulation", "modify_ldt subpage_prot switch_endian vm86 vm86old"),
        ("@debug", "lookup_dcookie perf_event_open pidfd_getfd ptrace rtas s390_runtime_instr sys_debug_setcontext"),
        ("@file-system", "access chdir chmod close creat faccessat faccessat2 fallocate fchdir fchmod fchmodat fchmodat2 fcntl fcntl64 fgetxattr flistxattr fremovexattr fsetxattr fstat fstat64 fstatat64 fstatfs fstatfs64 ftruncate ftruncate64 futimesat getcwd getdents getdents64 getxattr inotify_add_watch inotify_init inotify_init1 inotify_rm_watch lgetxattr link linkat listxattr llistxattr lremovexattr lsetxattr lstat lstat64 mkdir mkdirat mknod mknodat newfstatat oldfstat oldlstat oldstat open openat openat2 readlink readlinkat removexattr rename renameat renameat2 rmdir setxattr stat stat64 statfs statfs64 statx symlink symlinkat truncate truncate64 unlink unlinkat utime utimensat utimensat_time64 utimes"),
        ("@io-event", "_newselect epoll_create epoll_create1 epoll_ctl epoll_ctl_old epoll_pwait epoll_pwait2 epoll_wait epoll_wait_old eventfd eventfd2 poll ppoll ppoll_time64 pselect6 pselect6_time64 select"),
        ("@ipc", "ipc memfd_create mq_getsetattr mq_notify mq_open mq_timedreceive mq_timedreceive_time64 mq_timedsend mq_timedsend_time64 mq_unlink msgctl msgget msgrcv msgsnd pipe pipe2 process_madvise process_vm_readv process_vm_writev semctl semget semop semtimedop semtimedop_time64 shmat shmctl shmdt shmget"),
        ("@keyring", "add_key keyctl request_key"),
        ("@memlock", "mlock mlock2 mlockall munlock munlockall"),
        ("@module", "delete_module finit_module init_module"),
        ("@mount", "chroot fsconfig fsmount fsopen fspick mount mount_setattr move_mount open_tree pivot_root umount umount2"),
        ("@network-io", "accept accept4 bind connect getpeername getsockname getsockopt listen recv recvfrom recvmmsg recvmmsg_time64 recvmsg send sendmmsg sendmsg sendto setsockopt shutdown socket socketcall socketpair"),
        ("@obsolete", "_sysctl afs_syscall bdflush break create_module ftime get_kernel_syms getpmsg gtty idle lock mpx prof profil putpmsg query_module security sgetmask ssetmask stime stty sysfs tuxcall ulimit uselib ustat vserver"),
        ("@pkey", "pkey_alloc pkey_free pkey_mprotect"),
        ("@privileged", "@chown @clock @module @raw-io @reboot @swap _sysctl acct bpf capset chroot fanotify_init fanotify_mark nfsservctl open_by_handle_at pivot_root quotactl quotactl_fd setdomainname setfsuid setfsuid32 setgroups setgroups32 sethostname setresuid setresuid32 setreuid setreuid32 setuid setuid32 vhangup"),
        ("@process", "capget clone clone3 execveat fork getrusage kill pidfd_open pidfd_send_signal prctl rt_sigqueueinfo rt_tgsigqueueinfo setns swapcontext tgkill times tkill unshare vfork wait4 waitid waitpid"),
        ("@raw-io", "ioperm iopl pciconfig_iobase pciconfig_read pciconfig_write s390_pci_mmio_read s390_pci_mmio_write"),
        ("@reboot", "kexec_file_load kexec_load reboot"),
        ("@resources", "ioprio_set mbind migrate_pages move_pages nice sched_setaffinity sched_setattr sched_setparam sched_setscheduler set_mempolicy set_mempolicy_home_node setpriority setrlimit"),
        ("@sandbox", "landlock_add_rule landlock_create_ruleset landlock_restrict_self seccomp"),
        ("@setuid", "setgid setgid32 setgroups setgroups32 setregid setregid32 setresgid setresgid32 setresuid setresuid32 setreuid setreuid32 setuid setuid32"),
        ("@signal", "rt_sigaction rt_sigpending rt_sigprocmask rt_sigsuspend rt_sigtimedwait rt_sigtimedwait_time64 sigaction sigaltstack signal signalfd signalfd4 sigpending sigprocmask sigsuspend"),
        ("@swap", "swapoff swapon"),
        ("@sync", "fdatasync fsync msync sync sync_file_range sync_file_range2 syncfs"),
        ("@system-service", "@aio @basic-io @chown @default @file-system @io-event @ipc @keyring @memlock @network-io @process @resources @setuid @signal @sync @timer arm_fadvise64_64 capget capset copy_file_range fadvise64 fadvise64_64 flock get_mempolicy getcpu getpriority ioctl ioprio_get kcmp madvise mremap name_to_handle_at oldolduname olduname personality readahead readdir remap_file_pages sched_get_priority_max sched_get_priority_min sched_getattr sched_getparam sched_getscheduler sched_rr_get_interval sched_rr_get_interval_time64 sched_yield sendfile sendfile64 setfsgid setfsgid32 setfsuid setfsuid32 setpgid setsid splice sysinfo tee umask uname userfaultfd vmsplice"),
        ("@timer", "alarm getitimer setitimer timer_create timer_delete timer_getoverrun timer_gettime timer_gettime64 timer_settime timer_settime64 timerfd_create timerfd_gettime timerfd_gettime64 timerfd_settime timerfd_settime64 times"),
    ];

    fn base() -> Result<Table> {
        let path = crate::workspace_root()
            .join(super::super::DATA_DIR)
            .join("252.txt");
        let text = std::fs::read_to_string(&path).with_context(|| path.display().to_string())?;
        Table::parse(&text)
    }

    #[test]
    fn steps_are_in_version_order_after_the_base() {
        let versions: Vec<u32> = STEPS.iter().map(|s| s.version).collect();
        assert_eq!(versions, [253, 254, 255, 256]);
        assert!(STEPS.iter().all(|s| s.version > BASE_VERSION));
    }

    #[test]
    fn the_chain_ends_at_the_documented_v256_groups() -> Result<()> {
        let mut table = base()?;
        for step in &STEPS {
            apply(&mut table, step)?;
        }
        let names: Vec<&str> = table.groups.iter().map(|g| g.name.as_str()).collect();
        let mut expected: Vec<&str> = V256.iter().map(|(g, _)| *g).collect();
        expected.push("@known");
        assert_eq!(names, expected, "group order");
        for (group, members) in V256 {
            let have = table
                .groups
                .iter()
                .find(|g| g.name == group)
                .map(|g| g.members.join(" "));
            assert_eq!(have.as_deref(), Some(members), "{group}");
        }
        let known = table.expand("@known");
        assert!(known.contains("mseal") && known.contains("statmount"));
        Ok(())
    }

    #[test]
    fn edits_that_do_not_fit_the_table_are_errors() -> Result<()> {
        // 252.38 has the v254 additions already: applying v254 straight to it must fail.
        assert!(apply(&mut base()?, &STEPS[1]).is_err());
        let bad = |edits: &'static [Edit]| {
            let step = Step {
                version: 999,
                summary: "",
                edits,
            };
            base().and_then(|mut t| apply(&mut t, &step))
        };
        assert!(bad(&[Edit::Remove("@default", &["no_such_call"])]).is_err());
        assert!(bad(&[Edit::Add("@nope", &["read"])]).is_err());
        assert!(bad(&[Edit::Remove("@swap", &["swapon", "swapoff"])]).is_err());
        macro_rules! new_group {
            ($name:literal after $after:literal) => {
                &[Edit::NewGroup {
                    name: $name,
                    after: $after,
                    help: "",
                    members: &["read"],
                }]
            };
        }
        assert!(bad(new_group!("@aio" after "@default")).is_err());
        assert!(bad(new_group!("@new" after "@nope")).is_err());
        assert!(bad(new_group!("@new" after "@timer")).is_ok());
        Ok(())
    }
}
