//! The ptrace backend: records a launched command or attached processes like `strace -f`, with
//! one stop per syscall (seccomp `RET_TRACE`) and tracer and tracees pinned to one CPU.
//!
//! Entry point: [`record`].

mod attach;
mod binfmt;
mod caps;
mod decode;
mod launch;
mod memory;
mod names;
mod ops;
mod paths;
mod procfs;
mod sys;
mod tracer;

use crate::{host, Progress, RecordOptions, Recording, StopFlag, Target};
use decode::Decoder;
use nix::errno::Errno;
use std::time::Instant;
use sysprof_core::trace::{self, Backend, Trace};
use tracer::{Mode, Tracer, Watchdog};

/// Why a ptrace recording could not start (or went wrong underneath).
#[derive(Debug, thiserror::Error)]
pub enum PtraceError {
    #[error("no command given")]
    EmptyCommand,
    #[error("command not found: {0}")]
    CommandNotFound(String),
    #[error("cannot execute {program}: {}", errno.desc())]
    Exec { program: String, errno: Errno },
    #[error("a command-line argument contains a NUL byte")]
    NulInArgument,
    #[error("no pid given")]
    NoPids,
    #[error("pid {0} does not exist")]
    NoSuchPid(u32),
    #[error("not permitted to trace pid {pid}: {reason}")]
    NotPermitted { pid: u32, reason: String },
    #[error("process {0} exited during attach")]
    ExitedDuringAttach(u32),
    #[error("cannot trace pid {0}: it is sysprof itself")]
    SelfTrace(u32),
    #[error("cannot install the seccomp filter: {}", .0.desc())]
    Seccomp(Errno),
    #[error("the ptrace backend records commands and pids, not {0} (use the eBPF backend)")]
    UnsupportedTarget(&'static str),
    #[error("{what}: {}", errno.desc())]
    Sys { what: String, errno: Errno },
}

impl PtraceError {
    fn sys(what: impl Into<String>, errno: Errno) -> PtraceError {
        PtraceError::Sys {
            what: what.into(),
            errno,
        }
    }
}

/// Pins the calling thread to one CPU for the recording and gives its CPU set back afterwards.
struct PinGuard {
    original: libc::cpu_set_t,
    pinned: libc::cpu_set_t,
}

impl PinGuard {
    fn pin_here() -> Option<PinGuard> {
        let original = sys::current_affinity().ok()?;
        // SAFETY: sched_getcpu has no preconditions.
        let here = unsafe { libc::sched_getcpu() };
        let cpu = usize::try_from(here)
            .ok()
            .filter(|c| sys::has_cpu(&original, *c))
            .or_else(|| sys::first_cpu(&original))?;
        let pinned = sys::single_cpu(cpu);
        sys::set_affinity(0, &pinned).ok()?;
        Some(PinGuard { original, pinned })
    }
}

impl Drop for PinGuard {
    fn drop(&mut self) {
        let _ = sys::set_affinity(0, &self.original);
    }
}

/// Records `target` until it exits, `stop` is raised or `opts.duration` passes.
///
/// A launched command keeps its stdin/stdout/stderr; its exit status is in
/// [`Recording::exit`]. If the recording is stopped early it is asked to terminate (SIGTERM,
/// then SIGKILL after a grace period): it runs under a seccomp filter that needs its tracer.
/// Attached processes are detached and keep running, with pending signals re-delivered and
/// their CPU affinity restored.
///
/// Runs on the calling thread (ptrace ties tracees to the thread that attached them); several
/// recordings may run at once on different threads.
pub fn record(
    target: &Target,
    opts: &RecordOptions,
    stop: &StopFlag,
    progress: &Progress,
) -> Result<Recording, PtraceError> {
    let started = Instant::now();
    let mut trace = Trace::new(&host::arch());
    trace.meta.backends.insert(Backend::Ptrace);
    if let Some(kernel) = host::kernel_release() {
        trace.meta.kernels.insert(kernel);
    }
    trace
        .meta
        .tool_versions
        .insert(env!("CARGO_PKG_VERSION").to_owned());
    trace.meta.start = Some(host::now_rfc3339());
    let mut warnings = Vec::new();

    let pin = if opts.no_cpu_pinning {
        None
    } else {
        let guard = PinGuard::pin_here();
        if guard.is_none() {
            warnings.push(
                "could not pin tracer and tracees to one CPU; recording will be slower".into(),
            );
        }
        guard
    };
    let pinned_set = pin.as_ref().map(|p| p.pinned);

    let deadline = opts.duration.map(|d| started + d);
    let decoder = Decoder::new(trace, progress);
    let (mut tracer, launched, program) = match target {
        Target::Command(argv) => {
            let first = argv.first().ok_or(PtraceError::EmptyCommand)?;
            let program = launch::resolve_program(first)?;
            let mut decoder = decoder;
            decoder
                .trace
                .meta
                .targets
                .insert(trace::Target::Command(launch::display_argv(argv)));
            // The child inherits this thread's (pinned) CPU set through fork.
            let launched = launch::launch(&program, argv)?;
            let mut tracer = Tracer::new(decoder, Mode::Seccomp, None);
            tracer.set_root(launched.pid);
            (tracer, Some(launched), Some(program))
        }
        Target::Pids(pids) if pids.is_empty() => return Err(PtraceError::NoPids),
        Target::Pids(pids) => {
            let mut decoder = decoder;
            decoder
                .trace
                .meta
                .targets
                .insert(trace::Target::Pid(pids.clone()));
            let mut tracer = Tracer::new(decoder, Mode::SyscallStops, pinned_set);
            match attach::attach(&mut tracer, pids, pinned_set.as_ref()) {
                Ok(more) => warnings.extend(more),
                Err(e) => {
                    // Leave nothing half-attached behind.
                    tracer.detach_all();
                    return Err(e);
                }
            }
            (tracer, None, None)
        }
        Target::Cgroup(_) => return Err(PtraceError::UnsupportedTarget("cgroups")),
        Target::Unit(_) => return Err(PtraceError::UnsupportedTarget("systemd units")),
    };

    {
        let watchdog = Watchdog::start(stop.clone(), deadline);
        // Every tracee is attached (or launched and seized): from here on everything is seen.
        progress.epoch();
        progress
            .recording
            .store(true, std::sync::atomic::Ordering::SeqCst);
        tracer.run(&watchdog);
    }
    drop(pin);

    if let (Some(launched), Some(program)) = (&launched, &program) {
        if matches!(tracer.root_exit, Some(crate::ChildExit::Code(127))) {
            if let Some(err) = launched.exec_failure(program) {
                return Err(err);
            }
        }
    }
    let exit = tracer.root_exit;
    let mut trace = tracer.decoder.trace;
    trace.meta.end = Some(host::now_rfc3339());
    Ok(Recording {
        trace,
        exit,
        warnings,
    })
}
