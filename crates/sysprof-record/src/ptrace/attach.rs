//! Attaching to running processes: every thread, including threads born while attaching.

use super::procfs;
use super::sys;
use super::tracer::Tracer;
use super::PtraceError;
use nix::errno::Errno;
use nix::sys::ptrace::{self, Options};
use nix::unistd::Pid;
use std::collections::BTreeSet;

/// Options for attached processes: follow everything, but no EXITKILL (the process must
/// survive sysprof) and no seccomp (it has no filter of ours).
pub fn attach_options() -> Options {
    Options::PTRACE_O_TRACESYSGOOD
        | Options::PTRACE_O_TRACEFORK
        | Options::PTRACE_O_TRACEVFORK
        | Options::PTRACE_O_TRACECLONE
        | Options::PTRACE_O_TRACEEXEC
        | Options::PTRACE_O_TRACEEXIT
}

/// Why the kernel said EPERM, in words an operator can act on.
fn eperm_reason(pid: i32) -> String {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    let tracer = status
        .lines()
        .find_map(|l| l.strip_prefix("TracerPid:"))
        .and_then(|v| v.trim().parse::<i32>().ok())
        .unwrap_or(0);
    if tracer != 0 {
        return format!("it is already traced by pid {tracer}");
    }
    if procfs::sysctl_int("/proc/sys/kernel/yama/ptrace_scope").is_some_and(|v| v >= 3) {
        return "ptrace attach is disabled (kernel.yama.ptrace_scope = 3)".into();
    }
    if procfs::sysctl_int("/proc/sys/kernel/yama/ptrace_scope").is_some_and(|v| v >= 1) {
        return "operation not permitted (kernel.yama.ptrace_scope restricts attaching; run as root or with CAP_SYS_PTRACE)".into();
    }
    "operation not permitted (it belongs to another user or is not dumpable; run as root or with CAP_SYS_PTRACE)".into()
}

/// Seizes every thread of each pid and asks each to stop, so the tracer can start driving it.
/// `pin` (the tracer's CPU) is applied to each thread; its own set is kept for the detach.
pub fn attach(
    tracer: &mut Tracer<'_>,
    pids: &[u32],
    pin: Option<&libc::cpu_set_t>,
) -> Result<Vec<String>, PtraceError> {
    let mut warnings = Vec::new();
    let me = std::process::id();
    for &pid_u in pids {
        let pid = i32::try_from(pid_u).map_err(|_| PtraceError::NoSuchPid(pid_u))?;
        if pid <= 0 || !std::path::Path::new(&format!("/proc/{pid}")).exists() {
            return Err(PtraceError::NoSuchPid(pid_u));
        }
        let Some(creds) = procfs::creds(pid) else {
            return Err(PtraceError::ExitedDuringAttach(pid_u));
        };
        if creds.tgid as u32 == me {
            return Err(PtraceError::SelfTrace(pid_u));
        }
        // A thread id stands for its whole process.
        let tgid = if creds.tgid > 0 { creds.tgid } else { pid };
        if procfs::state(tgid) == Some('Z') {
            return Err(PtraceError::ExitedDuringAttach(pid_u));
        }
        if std::fs::read_to_string(format!("/proc/{tgid}/status")).is_ok_and(|s| {
            s.lines()
                .any(|l| l.starts_with("Seccomp:") && !l.ends_with('0'))
        }) {
            warnings.push(format!(
                "pid {tgid} runs under a seccomp filter: calls it denies are recorded too (ptrace sees them before the filter does)"
            ));
        }
        if procfs::readlink(&format!("/proc/{tgid}/root")).is_some_and(|r| r != b"/") {
            tracer.decoder.assume_chroot_possible();
        }
        attach_threads(tracer, tgid, pid_u, pin)?;
    }
    Ok(warnings)
}

fn attach_threads(
    tracer: &mut Tracer<'_>,
    tgid: i32,
    asked: u32,
    pin: Option<&libc::cpu_set_t>,
) -> Result<(), PtraceError> {
    let mut seized: BTreeSet<i32> = BTreeSet::new();
    // Threads created by a not-yet-seized thread are not auto-attached: list again until the
    // set is stable.
    loop {
        let tids = procfs::threads(tgid).map_err(|_| PtraceError::ExitedDuringAttach(asked))?;
        let fresh: Vec<i32> = tids
            .into_iter()
            .filter(|t| !seized.contains(t) && !tracer.is_tracing(*t))
            .collect();
        if fresh.is_empty() {
            break;
        }
        for tid in fresh {
            seized.insert(tid);
            match ptrace::seize(Pid::from_raw(tid), attach_options()) {
                Ok(()) => {}
                Err(Errno::ESRCH) if tid != tgid => continue,
                Err(Errno::ESRCH) => return Err(PtraceError::ExitedDuringAttach(asked)),
                Err(Errno::EPERM) => {
                    return Err(PtraceError::NotPermitted {
                        pid: asked,
                        reason: eperm_reason(tgid),
                    })
                }
                Err(errno) => return Err(PtraceError::sys(format!("PTRACE_SEIZE {tid}"), errno)),
            }
            let original = pin.and_then(|p| {
                let original = sys::affinity_of(tid).ok()?;
                sys::set_affinity(tid, p).ok()?;
                Some(original)
            });
            tracer.add(tid, original);
            // The thread keeps running until this stop; the tracer then resumes it with
            // PTRACE_SYSCALL.
            let _ = sys::interrupt(tid);
        }
    }
    if seized.is_empty() {
        return Err(PtraceError::ExitedDuringAttach(asked));
    }
    Ok(())
}
