//! Loads the embedded object and attaches each hook, falling back per hook with a reason.

use super::EbpfError;
use aya::programs::{BtfTracePoint, TracePoint};
use aya::{Btf, Ebpf, EbpfLoader};
use std::path::Path;

/// The committed, reproducibly built object (`cargo xtask build-ebpf` rebuilds it).
pub static OBJECT: &[u8] = aya::include_bytes_aligned!("../../../../ebpf/obj/x86_64/sysprof.bpf.o");

/// How a hook is attached.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Attach {
    /// `tp_btf/<name>`.
    BtfTracePoint(&'static str),
    /// `tracepoint/<category>/<name>`.
    TracePoint(&'static str, &'static str),
}

impl Attach {
    fn describe(self) -> String {
        match self {
            Attach::BtfTracePoint(name) => format!("tp_btf/{name}"),
            Attach::TracePoint(category, name) => format!("tracepoint/{category}/{name}"),
        }
    }
}

/// One hook: what it records, and its programs in order of preference.
#[derive(Debug, Clone, Copy)]
pub struct HookSpec {
    pub hook: &'static str,
    pub what: &'static str,
    pub variants: &'static [(&'static str, Attach)],
}

/// Every hook the recorder uses.
pub const HOOKS: &[HookSpec] = &[
    HookSpec {
        hook: "syscalls",
        what: "syscall set and argument capture",
        variants: &[
            ("sys_enter_btf", Attach::BtfTracePoint("sys_enter")),
            (
                "sys_enter_tp",
                Attach::TracePoint("raw_syscalls", "sys_enter"),
            ),
        ],
    },
    HookSpec {
        hook: "capabilities",
        what: "capability checks with kernel stacks",
        variants: &[
            ("cap_capable_btf", Attach::BtfTracePoint("cap_capable")),
            (
                "cap_capable_tp",
                Attach::TracePoint("capability", "cap_capable"),
            ),
        ],
    },
    HookSpec {
        hook: "exec",
        what: "executed binaries and scripts",
        variants: &[(
            "process_exec_btf",
            Attach::BtfTracePoint("sched_process_exec"),
        )],
    },
    HookSpec {
        hook: "fork",
        what: "process tree following (--pid) and process counts",
        variants: &[(
            "process_fork_btf",
            Attach::BtfTracePoint("sched_process_fork"),
        )],
    },
    HookSpec {
        hook: "exit",
        what: "forgetting exited processes of a --pid tree",
        variants: &[(
            "process_exit_btf",
            Attach::BtfTracePoint("sched_process_exit"),
        )],
    },
    HookSpec {
        hook: "cgroup-mkdir",
        what: "following new child cgroups and re-created unit cgroups",
        variants: &[
            ("cgroup_mkdir_btf", Attach::BtfTracePoint("cgroup_mkdir")),
            (
                "cgroup_mkdir_tp",
                Attach::TracePoint("cgroup", "cgroup_mkdir"),
            ),
        ],
    },
    HookSpec {
        hook: "signals",
        what: "signals sent to the target (reloads, log rotation)",
        variants: &[(
            "signal_generate_btf",
            Attach::BtfTracePoint("signal_generate"),
        )],
    },
    HookSpec {
        hook: "cgroup-attach",
        what: "leaving out a unit's set-up by systemd before its first exec",
        variants: &[
            (
                "cgroup_attach_btf",
                Attach::BtfTracePoint("cgroup_attach_task"),
            ),
            (
                "cgroup_attach_tp",
                Attach::TracePoint("cgroup", "cgroup_attach_task"),
            ),
        ],
    },
];

/// Syscalls whose results are recorded, through `syscalls:sys_exit_<name>` (the tracepoint
/// of `umount2` is named after its kernel entry point, `umount`).
pub const EXIT_TRACEPOINTS: &[&str] = &[
    "open",
    "openat",
    "openat2",
    "creat",
    "mmap",
    "mprotect",
    "pkey_mprotect",
    "socket",
    "socketpair",
    "bind",
    "connect",
    "clone",
    "clone3",
    "unshare",
    "setns",
    "truncate",
    "rename",
    "renameat",
    "renameat2",
    "mkdir",
    "mkdirat",
    "rmdir",
    "unlink",
    "unlinkat",
    "link",
    "linkat",
    "symlink",
    "symlinkat",
    "chmod",
    "fchmod",
    "fchmodat",
    "fchmodat2",
    "chown",
    "fchown",
    "lchown",
    "fchownat",
    "mknod",
    "mknodat",
    "mount",
    "umount",
    "open_tree",
    "move_mount",
    "fsopen",
    "fsmount",
    "mount_setattr",
];

/// The outcome of probing one hook.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HookStatus {
    /// Short hook name (`syscalls`, `capabilities`, `syscall-exits`, …).
    pub hook: &'static str,
    /// What the hook records.
    pub what: &'static str,
    /// The program that is attached (`tp_btf/sys_enter`), or `None` if none could be.
    pub attached: Option<String>,
    /// One line per variant that was refused, `program: reason`.
    pub refused: Vec<String>,
}

impl HookStatus {
    /// True if some variant is attached.
    pub fn ok(&self) -> bool {
        self.attached.is_some()
    }

    /// One line for the operator.
    pub fn summary(&self) -> String {
        match (&self.attached, self.refused.is_empty()) {
            (Some(p), true) => format!("{}: {p}", self.hook),
            (Some(p), false) => {
                format!("{}: {p} (fallback; {})", self.hook, self.refused.join("; "))
            }
            (None, _) => format!("{}: unavailable ({})", self.hook, self.refused.join("; ")),
        }
    }
}

/// First line of an error chain, squeezed to one line.
pub fn one_line(err: &dyn std::error::Error) -> String {
    // The verifier log follows the errno on later lines; the first line is the reason.
    let mut text = err
        .to_string()
        .lines()
        .next()
        .unwrap_or_default()
        .to_owned();
    let mut source = err.source();
    while let Some(s) = source {
        text.push_str(": ");
        text.push_str(&s.to_string());
        source = s.source();
    }
    text.replace('\n', " ").chars().take(300).collect()
}

/// Makes sure tracefs is mounted: classic tracepoints are attached by their tracefs id.
pub fn ensure_tracefs() -> Result<Option<String>, EbpfError> {
    let mounted = || {
        Path::new("/sys/kernel/tracing/events").is_dir()
            || Path::new("/sys/kernel/debug/tracing/events").is_dir()
    };
    if mounted() {
        return Ok(None);
    }
    let target = c"/sys/kernel/tracing";
    let fstype = c"tracefs";
    // SAFETY: every pointer is a valid NUL-terminated string (or null for data) that lives
    // for the duration of the call.
    let rc = unsafe {
        libc::mount(
            fstype.as_ptr(),
            target.as_ptr(),
            fstype.as_ptr(),
            libc::MS_NOSUID | libc::MS_NODEV | libc::MS_NOEXEC,
            std::ptr::null(),
        )
    };
    if rc != 0 {
        let err = std::io::Error::last_os_error();
        // Another recorder started at the same time may have mounted it first (the loser
        // sees EBUSY): what matters is that it is there now.
        return tracefs_after_failed_mount(err, mounted());
    }
    Ok(Some(
        "mounted tracefs at /sys/kernel/tracing (classic tracepoints need it)".to_owned(),
    ))
}

/// The result of a failed tracefs mount: fine if tracefs is there anyway, else the error.
fn tracefs_after_failed_mount(
    err: std::io::Error,
    mounted_now: bool,
) -> Result<Option<String>, EbpfError> {
    if mounted_now {
        Ok(None)
    } else {
        Err(EbpfError::Tracefs(err))
    }
}

/// The loaded object with its hooks attached.
pub struct Loaded {
    pub ebpf: Ebpf,
    pub statuses: Vec<HookStatus>,
}

/// How the programs pick the target (the object's `cfg_*` constants).
#[derive(Debug, Clone, Copy)]
pub struct Config {
    /// `SP_FILTER_CGROUP` or `SP_FILTER_TGID`.
    pub filter_mode: u32,
    /// Leave out what a process moved into a target cgroup does before its first exec.
    pub gate_until_exec: bool,
}

/// Loads the object with `config` and attaches every hook that the kernel accepts.
pub fn load(config: Config) -> Result<Loaded, EbpfError> {
    let btf = Btf::from_sys_fs().ok();
    let gate_until_exec = u32::from(config.gate_until_exec);
    let mut ebpf = EbpfLoader::new()
        .btf(btf.as_ref())
        .override_global("cfg_filter_mode", &config.filter_mode, true)
        .override_global("cfg_gate_until_exec", &gate_until_exec, true)
        .load(OBJECT)
        .map_err(|e| EbpfError::Load(one_line(&e)))?;
    let mut statuses = Vec::new();
    for spec in HOOKS {
        let mut status = HookStatus {
            hook: spec.hook,
            what: spec.what,
            attached: None,
            refused: Vec::new(),
        };
        for &(program, attach) in spec.variants {
            match attach_one(&mut ebpf, btf.as_ref(), program, attach) {
                Ok(()) => {
                    status.attached = Some(attach.describe());
                    break;
                }
                Err(reason) => status
                    .refused
                    .push(format!("{}: {reason}", attach.describe())),
            }
        }
        statuses.push(status);
    }
    statuses.push(attach_exits(&mut ebpf));
    Ok(Loaded { ebpf, statuses })
}

/// Programs named in `SYSPROF_EBPF_DISABLE` (comma separated) are treated as refused, so the
/// fallbacks can be exercised (and compared) on a kernel that accepts the preferred programs.
pub const DISABLE_ENV: &str = "SYSPROF_EBPF_DISABLE";

fn disabled(program: &str) -> bool {
    std::env::var(DISABLE_ENV)
        .map(|list| list.split(',').any(|p| p.trim() == program))
        .unwrap_or(false)
}

fn attach_one(
    ebpf: &mut Ebpf,
    btf: Option<&Btf>,
    program: &str,
    attach: Attach,
) -> Result<(), String> {
    if disabled(program) {
        return Err(format!("disabled by {DISABLE_ENV}"));
    }
    let prog = ebpf
        .program_mut(program)
        .ok_or_else(|| format!("program {program} missing from the object"))?;
    match attach {
        Attach::BtfTracePoint(name) => {
            let btf = btf.ok_or("no kernel BTF at /sys/kernel/btf/vmlinux")?;
            let p: &mut BtfTracePoint = prog.try_into().map_err(|e| one_line(&e))?;
            p.load(name, btf).map_err(|e| one_line(&e))?;
            p.attach().map_err(|e| one_line(&e))?;
        }
        Attach::TracePoint(category, name) => {
            let p: &mut TracePoint = prog.try_into().map_err(|e| one_line(&e))?;
            p.load().map_err(|e| one_line(&e))?;
            p.attach(category, name).map_err(|e| one_line(&e))?;
        }
    }
    Ok(())
}

/// Attaches `sys_exit_detail` to every per-syscall exit tracepoint that exists.
fn attach_exits(ebpf: &mut Ebpf) -> HookStatus {
    let mut status = HookStatus {
        hook: "syscall-exits",
        what: "file opens, sockets, addresses, namespaces, path operations with results",
        attached: None,
        refused: Vec::new(),
    };
    if disabled("sys_exit_detail") {
        status.refused.push(format!("disabled by {DISABLE_ENV}"));
        return status;
    }
    let prog = match ebpf.program_mut("sys_exit_detail") {
        Some(p) => p,
        None => {
            status
                .refused
                .push("program sys_exit_detail missing".into());
            return status;
        }
    };
    let p: &mut TracePoint = match prog.try_into() {
        Ok(p) => p,
        Err(e) => {
            status.refused.push(one_line(&e));
            return status;
        }
    };
    if let Err(e) = p.load() {
        status
            .refused
            .push(format!("tracepoint/syscalls/sys_exit_*: {}", one_line(&e)));
        return status;
    }
    let mut attached = 0;
    for name in EXIT_TRACEPOINTS {
        match p.attach("syscalls", &format!("sys_exit_{name}")) {
            Ok(_) => attached += 1,
            Err(e) => status
                .refused
                .push(format!("sys_exit_{name}: {}", one_line(&e))),
        }
    }
    if attached > 0 {
        status.attached = Some(format!(
            "tracepoint/syscalls/sys_exit_* ({attached} of {})",
            EXIT_TRACEPOINTS.len()
        ));
    }
    status
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn concurrent_tracefs_mount_is_not_an_error() {
        let busy = || std::io::Error::from_raw_os_error(libc::EBUSY);
        // Another recorder mounted it between our check and our mount.
        assert!(matches!(tracefs_after_failed_mount(busy(), true), Ok(None)));
        // Nobody did: the failure stands.
        assert!(matches!(
            tracefs_after_failed_mount(busy(), false),
            Err(EbpfError::Tracefs(_))
        ));
    }
}
