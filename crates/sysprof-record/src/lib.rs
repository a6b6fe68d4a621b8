//! sysprof-record: the only crate that touches the kernel — recording backends, cgroups, units.
//!
//! Every backend turns a [`Target`] into a [`sysprof_core::trace::Trace`] and leaves nothing
//! attached, stopped or mounted behind on any exit path.

pub mod cgroup;
pub mod ebpf;
pub mod host;
pub mod ptrace;
pub mod signals;
pub mod systemd;
pub mod unit;

use std::ffi::OsString;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

/// What to record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    /// Launch this command (argv[0] looked up in `PATH`) and record it and its descendants.
    Command(Vec<OsString>),
    /// Attach to these processes (every thread) and their future descendants.
    Pids(Vec<u32>),
    /// A cgroup v2 directory and every descendant cgroup.
    Cgroup(PathBuf),
    /// A systemd unit (its `ControlGroup`).
    Unit(String),
}

/// Options shared by every backend.
#[derive(Debug, Clone, Default)]
pub struct RecordOptions {
    /// Stop after this long (`None`: until the target exits or [`StopFlag`] is raised).
    pub duration: Option<Duration>,
    /// ptrace backend: do not pin tracer and tracees to one CPU (pinning is the default; in VMs
    /// a cross-CPU ptrace stop costs about 15 times a same-CPU one).
    pub no_cpu_pinning: bool,
}

/// Raised (by a signal handler, a timer, or a test) to end a recording early; the backend then
/// detaches cleanly and still returns everything recorded so far.
#[derive(Debug, Clone, Default)]
pub struct StopFlag(Arc<AtomicBool>);

impl StopFlag {
    /// A flag that is not raised.
    pub fn new() -> StopFlag {
        StopFlag::default()
    }

    /// Asks the recording to stop.
    pub fn raise(&self) {
        self.0.store(true, Ordering::SeqCst);
    }

    /// True once [`StopFlag::raise`] was called.
    pub fn is_raised(&self) -> bool {
        self.0.load(Ordering::SeqCst)
    }

    /// The shared flag, for signal handlers that can only store to an atomic.
    pub fn as_atomic(&self) -> &Arc<AtomicBool> {
        &self.0
    }
}

/// Live counters a backend updates while recording (read by the CLI's progress line).
#[derive(Debug, Default)]
pub struct Progress {
    pub processes: std::sync::atomic::AtomicU64,
    pub syscalls_distinct: std::sync::atomic::AtomicU64,
    pub files_distinct: std::sync::atomic::AtomicU64,
    pub events: std::sync::atomic::AtomicU64,
    /// Set once the backend is recording (hooks attached, target set up): events from then on
    /// are seen.
    pub recording: AtomicBool,
    /// Distinct observations so far, and when that number last grew (milliseconds since
    /// [`Progress::epoch`]): how long the recording has seen nothing new (`--until-stable`).
    pub distinct: std::sync::atomic::AtomicU64,
    pub last_new_ms: std::sync::atomic::AtomicU64,
    epoch: std::sync::OnceLock<std::time::Instant>,
}

impl Progress {
    /// The instant `last_new_ms` counts from (the first call fixes it).
    pub fn epoch(&self) -> std::time::Instant {
        *self.epoch.get_or_init(std::time::Instant::now)
    }

    /// A backend reports its number of distinct observations; returns true when it grew.
    pub fn observe_distinct(&self, total: u64) -> bool {
        let before = self.distinct.swap(total, Ordering::Relaxed);
        if total > before {
            let ms = u64::try_from(self.epoch().elapsed().as_millis()).unwrap_or(u64::MAX);
            self.last_new_ms.store(ms, Ordering::Relaxed);
            true
        } else {
            false
        }
    }

    /// How long nothing new has been observed.
    pub fn quiet_for(&self) -> std::time::Duration {
        let now = self.epoch().elapsed();
        now.saturating_sub(std::time::Duration::from_millis(
            self.last_new_ms.load(Ordering::Relaxed),
        ))
    }
}

/// The result of a recording.
#[derive(Debug)]
pub struct Recording {
    /// The evidence (meta filled: backend, kernel, arch, target, start/end, integrity).
    pub trace: sysprof_core::trace::Trace,
    /// For a launched command: how it ended (`None` for attached targets, or if it was still
    /// running when the recording stopped).
    pub exit: Option<ChildExit>,
    /// Things the operator should know (fallbacks taken, filters detected, …), one line each.
    pub warnings: Vec<String>,
}

/// How a launched command ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChildExit {
    /// `exit(code)`.
    Code(i32),
    /// Killed by this signal number.
    Signal(i32),
}
