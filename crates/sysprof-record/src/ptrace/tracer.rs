//! The ptrace event loop: one `waitpid` per stop, decode, resume; then a clean ending.
//!
//! Launched commands run under a `SECCOMP_RET_TRACE` filter, so each syscall is one seccomp stop
//! and only calls whose result matters get a second (exit) stop. Attached processes cannot be
//! given a filter, so they are driven with `PTRACE_SYSCALL` (entry and exit stops).

use super::decode::{abi_of, Decoder, Pending};
use super::sys::{self, SyscallInfo, Wait};
use crate::{ChildExit, StopFlag};
use nix::errno::Errno;
use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Once};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// One traced thread.
struct Tracee {
    /// The entry half of a call whose exit stop we asked for.
    pending: Option<Pending>,
    /// The CPU set to give back when detaching (attached tracees that were pinned).
    original_affinity: Option<libc::cpu_set_t>,
}

/// How tracees are driven.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// Launched under our seccomp filter: `PTRACE_CONT` between seccomp stops.
    Seccomp,
    /// Attached: `PTRACE_SYSCALL` everywhere.
    SyscallStops,
}

/// Why the loop ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum End {
    AllExited,
    StopRequested,
}

/// Grace periods when a recording of a launched command is stopped early: the command may be
/// exiting on its own (Ctrl-C reaches the whole foreground process group), then it is asked to
/// terminate, then killed. It cannot simply be detached: without a tracer, the seccomp filter it
/// inherited would fail every syscall with ENOSYS.
const NATURAL_EXIT_GRACE: Duration = Duration::from_millis(500);
const TERM_GRACE: Duration = Duration::from_secs(3);
/// After SIGKILL, how long to wait for the last exits before returning anyway (a task stuck in
/// uninterruptible sleep; EXITKILL kills it when sysprof exits).
const KILL_GRACE: Duration = Duration::from_secs(5);
/// How long detaching may take before the remaining tracees are left to the kernel (which
/// detaches them when sysprof exits).
const DETACH_DEADLINE: Duration = Duration::from_secs(5);

pub struct Tracer<'p> {
    pub decoder: Decoder<'p>,
    mode: Mode,
    tracees: HashMap<i32, Tracee>,
    /// The launched command's pid, and how it ended.
    root: Option<i32>,
    pub root_exit: Option<ChildExit>,
    /// Pin new attached tracees to this set (and restore their own set on detach).
    pin: Option<libc::cpu_set_t>,
}

fn is_stop_signal(signal: i32) -> bool {
    matches!(
        signal,
        libc::SIGSTOP | libc::SIGTSTP | libc::SIGTTIN | libc::SIGTTOU
    )
}

impl<'p> Tracer<'p> {
    pub fn new(decoder: Decoder<'p>, mode: Mode, pin: Option<libc::cpu_set_t>) -> Tracer<'p> {
        Tracer {
            decoder,
            mode,
            tracees: HashMap::new(),
            root: None,
            root_exit: None,
            pin,
        }
    }

    /// Starts following `tid` (already seized). `original_affinity` is restored on detach.
    pub fn add(&mut self, tid: i32, original_affinity: Option<libc::cpu_set_t>) {
        if self.tracees.contains_key(&tid) {
            return;
        }
        self.decoder.process_started();
        self.tracees.insert(
            tid,
            Tracee {
                pending: None,
                original_affinity,
            },
        );
    }

    /// Marks `pid` as the launched command whose exit status is reported.
    pub fn set_root(&mut self, pid: i32) {
        self.root = Some(pid);
        self.add(pid, None);
    }

    pub fn is_tracing(&self, tid: i32) -> bool {
        self.tracees.contains_key(&tid)
    }

    /// Runs until every tracee is gone, or until a stop is requested (then ends cleanly).
    pub fn run(&mut self, watchdog: &Watchdog) {
        let end = self.event_loop(watchdog);
        self.decoder.flush_progress();
        if end == End::StopRequested {
            match self.mode {
                Mode::Seccomp => self.terminate_launched(watchdog),
                Mode::SyscallStops => self.detach_all(),
            }
        }
        self.decoder.flush_progress();
    }

    fn event_loop(&mut self, watchdog: &Watchdog) -> End {
        let mut since_flush = 0u32;
        loop {
            if watchdog.requested() {
                return End::StopRequested;
            }
            if self.tracees.is_empty() {
                return End::AllExited;
            }
            match sys::wait_any() {
                Ok(wait) => self.handle(wait),
                Err(Errno::EINTR) => continue,
                // No tracee or child left (e.g. all reaped through a path we did not see).
                Err(_) => return End::AllExited,
            }
            since_flush += 1;
            if since_flush >= 1024 {
                since_flush = 0;
                self.decoder.flush_progress();
            }
        }
    }

    fn resume(&mut self, pid: i32, signal: i32) {
        let syscall_stops = match self.tracees.get(&pid) {
            Some(t) => self.mode == Mode::SyscallStops || t.pending.is_some(),
            None => self.mode == Mode::SyscallStops,
        };
        // ESRCH: killed meanwhile (SIGKILL needs no stop); its exit is reported next.
        let _ = sys::resume(pid, signal, syscall_stops);
    }

    fn ensure(&mut self, pid: i32) {
        if !self.tracees.contains_key(&pid) {
            self.add(pid, None);
        }
    }

    fn exited(&mut self, pid: i32, how: ChildExit) {
        if self.root == Some(pid) {
            self.root_exit = Some(how);
        }
        self.tracees.remove(&pid);
        self.decoder.forget(pid);
    }

    fn handle(&mut self, wait: Wait) {
        match wait {
            Wait::Exited { pid, code } => self.exited(pid, ChildExit::Code(code)),
            Wait::Killed { pid, signal } => self.exited(pid, ChildExit::Signal(signal)),
            Wait::SyscallStop { pid } => {
                self.ensure(pid);
                self.syscall_stop(pid);
                self.resume(pid, 0);
            }
            Wait::Event { pid, event, signal } => {
                self.ensure(pid);
                self.event(pid, event, signal);
            }
            Wait::Signal { pid, signal } => {
                self.ensure(pid);
                // A signal-delivery-stop: note it, then hand the signal on, unchanged.
                self.decoder.signal_delivered(signal);
                self.resume(pid, signal);
            }
            Wait::Other => {}
        }
    }

    fn syscall_stop(&mut self, pid: i32) {
        match sys::syscall_info(pid) {
            Ok(SyscallInfo::Entry { arch, nr, args }) => self.entry(pid, arch, nr, &args),
            Ok(SyscallInfo::Exit { value, is_error }) => {
                let pending = self.tracees.get_mut(&pid).and_then(|t| t.pending.take());
                if let Some(pending) = pending {
                    let result = if is_error { Err(-value) } else { Ok(value) };
                    self.decoder.exit(pid, pending, result);
                }
            }
            _ => {}
        }
    }

    fn entry(&mut self, pid: i32, arch: u32, nr: u64, args: &[u64; 6]) {
        let Some(abi) = abi_of(arch, nr) else {
            return;
        };
        let pending = self.decoder.entry(pid, abi, nr, args);
        if let Some(t) = self.tracees.get_mut(&pid) {
            t.pending = pending;
        }
    }

    fn event(&mut self, pid: i32, event: i32, signal: i32) {
        match event {
            sys::EVENT_SECCOMP => {
                self.syscall_stop(pid);
                self.resume(pid, 0);
            }
            sys::EVENT_FORK | sys::EVENT_VFORK | sys::EVENT_CLONE => {
                if let Ok(child) = sys::event_message(pid) {
                    let child = child as i32;
                    let inherited = self.tracees.get(&pid).and_then(|t| t.original_affinity);
                    if !self.tracees.contains_key(&child) {
                        self.add(child, inherited);
                    } else if let Some(t) = self.tracees.get_mut(&child) {
                        // The child's first stop was reported before this event.
                        t.original_affinity = t.original_affinity.or(inherited);
                    }
                }
                self.resume(pid, 0);
            }
            sys::EVENT_EXEC => {
                self.exec_event(pid);
                self.resume(pid, 0);
            }
            sys::EVENT_STOP => {
                if is_stop_signal(signal) {
                    // Group-stop: stay stopped like an untraced process would, but keep
                    // hearing about SIGCONT.
                    let _ = sys::listen(pid);
                } else {
                    // A new tracee's first stop, or the end of a PTRACE_LISTEN.
                    self.resume(pid, 0);
                }
            }
            _ => self.resume(pid, 0),
        }
    }

    fn exec_event(&mut self, pid: i32) {
        // A non-leader thread that execs takes over the leader's pid; the old tid is gone
        // without an exit report of its own.
        if let Ok(former) = sys::event_message(pid) {
            let former = former as i32;
            if former != pid {
                if let Some(moved) = self.tracees.remove(&former) {
                    self.decoder.forget(former);
                    self.decoder.forget(pid);
                    self.tracees.insert(pid, moved);
                }
            }
        }
        let pending = self.tracees.get_mut(&pid).and_then(|t| t.pending.take());
        match pending {
            Some(pending) if pending.is_exec() => self.decoder.exit(pid, pending, Ok(0)),
            Some(other) => {
                if let Some(t) = self.tracees.get_mut(&pid) {
                    t.pending = Some(other);
                }
            }
            None => {}
        }
        self.decoder.forget(pid);
    }

    /// Ends a launched command that is still running when a stop was requested.
    fn terminate_launched(&mut self, watchdog: &Watchdog) {
        let started = Instant::now();
        let mut termed = false;
        let mut killed = false;
        while !self.tracees.is_empty() {
            let elapsed = started.elapsed();
            if !termed && elapsed >= NATURAL_EXIT_GRACE {
                termed = true;
                self.signal_all(libc::SIGTERM);
            }
            if !killed && elapsed >= NATURAL_EXIT_GRACE + TERM_GRACE {
                killed = true;
                self.signal_all(libc::SIGKILL);
            }
            if elapsed >= NATURAL_EXIT_GRACE + TERM_GRACE + KILL_GRACE {
                break;
            }
            watchdog.keep_waking();
            match sys::wait_any() {
                Ok(wait) => self.handle(wait),
                Err(Errno::EINTR) => {}
                Err(_) => break,
            }
        }
    }

    fn signal_all(&self, signal: i32) {
        for pid in self.tracees.keys() {
            // SAFETY: kill has no memory-safety preconditions; a stale pid yields ESRCH.
            unsafe {
                libc::kill(*pid, signal);
            }
        }
    }

    /// Detaches from every tracee so that it runs on exactly as if never traced: each is
    /// interrupted, and at its next stop released, with a pending signal re-injected.
    pub fn detach_all(&mut self) {
        for pid in self.tracees.keys() {
            let _ = sys::interrupt(*pid);
        }
        let deadline = Instant::now() + DETACH_DEADLINE;
        while !self.tracees.is_empty() && Instant::now() < deadline {
            let wait = match sys::wait_any() {
                Ok(wait) => wait,
                Err(Errno::EINTR) => continue,
                Err(_) => break,
            };
            match wait {
                Wait::Exited { pid, code } => self.exited(pid, ChildExit::Code(code)),
                Wait::Killed { pid, signal } => self.exited(pid, ChildExit::Signal(signal)),
                Wait::SyscallStop { pid } => {
                    self.ensure(pid);
                    // Finish a call in flight so its evidence is not lost.
                    self.syscall_stop(pid);
                    self.release(pid, 0);
                }
                Wait::Event { pid, event, .. } => {
                    if matches!(event, sys::EVENT_FORK | sys::EVENT_VFORK | sys::EVENT_CLONE) {
                        // The new child is traced too and will report a stop of its own.
                        if let Ok(child) = sys::event_message(pid) {
                            let child = child as i32;
                            let inherited =
                                self.tracees.get(&pid).and_then(|t| t.original_affinity);
                            self.add(child, inherited);
                        }
                    }
                    self.ensure(pid);
                    self.release(pid, 0);
                }
                Wait::Signal { pid, signal } => {
                    self.ensure(pid);
                    self.release(pid, signal);
                }
                Wait::Other => {}
            }
        }
    }

    fn release(&mut self, pid: i32, signal: i32) {
        if let Some(t) = self.tracees.remove(&pid) {
            if let (Some(original), Some(pinned)) = (t.original_affinity, self.pin) {
                // Give the thread its own CPU set back, unless it chose a new one meanwhile.
                if sys::affinity_of(pid).is_ok_and(|now| sys::same_cpus(&now, &pinned)) {
                    let _ = sys::set_affinity(pid, &original);
                }
            }
        }
        self.decoder.forget(pid);
        let _ = sys::detach(pid, signal);
    }
}

/// The signal used to interrupt the tracer's blocking `waitpid` (its handler does nothing; the
/// point is the EINTR). SIGURG is ignored by default and unused by the programs sysprof hosts.
const WAKE_SIGNAL: i32 = libc::SIGURG;

extern "C" fn on_wake(_signal: libc::c_int) {}

fn install_wake_handler() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        // SAFETY: sigaction structs are plain data; zeroed is valid (empty mask, no flags).
        let mut action: libc::sigaction = unsafe { std::mem::zeroed() };
        action.sa_sigaction = on_wake as *const () as usize;
        // No SA_RESTART: the point is that waitpid returns EINTR.
        action.sa_flags = 0;
        // SAFETY: `action` is fully initialised and `on_wake` is async-signal-safe (empty).
        unsafe {
            libc::sigemptyset(&mut action.sa_mask);
            libc::sigaction(WAKE_SIGNAL, &action, std::ptr::null_mut());
        }
    });
}

/// A helper thread that turns "stop requested" (flag raised, duration over) into an EINTR in
/// the tracer's `waitpid`, which would otherwise block as long as every tracee is quiet.
pub struct Watchdog {
    requested: Arc<AtomicBool>,
    done: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl Watchdog {
    /// Starts watching `stop` and `deadline` on behalf of the calling (tracer) thread.
    pub fn start(stop: StopFlag, deadline: Option<Instant>) -> Watchdog {
        install_wake_handler();
        let requested = Arc::new(AtomicBool::new(false));
        let done = Arc::new(AtomicBool::new(false));
        // SAFETY: pthread_self has no preconditions.
        let tracer = unsafe { libc::pthread_self() };
        let thread = {
            let requested = Arc::clone(&requested);
            let done = Arc::clone(&done);
            std::thread::Builder::new()
                .name("sysprof-watchdog".into())
                .spawn(move || {
                    let mut last_wake: Option<Instant> = None;
                    while !done.load(Ordering::SeqCst) {
                        std::thread::sleep(Duration::from_millis(20));
                        let expired = deadline.is_some_and(|d| Instant::now() >= d);
                        if stop.is_raised() || expired {
                            requested.store(true, Ordering::SeqCst);
                        }
                        // Keep waking while a stop is pending: a wake that lands just before
                        // the tracer enters waitpid would otherwise be lost.
                        if requested.load(Ordering::SeqCst)
                            && last_wake.is_none_or(|t| t.elapsed() >= Duration::from_millis(100))
                            && !done.load(Ordering::SeqCst)
                        {
                            last_wake = Some(Instant::now());
                            // SAFETY: the tracer thread outlives this thread: `Watchdog::drop`
                            // (run on the tracer thread) joins it before returning.
                            unsafe {
                                libc::pthread_kill(tracer, WAKE_SIGNAL);
                            }
                        }
                    }
                })
                .ok()
        };
        Watchdog {
            requested,
            done,
            thread,
        }
    }

    /// True once the recording should end.
    pub fn requested(&self) -> bool {
        self.requested.load(Ordering::Relaxed)
    }

    /// Makes sure periodic wake-ups continue (used while waiting out grace periods).
    pub fn keep_waking(&self) {
        self.requested.store(true, Ordering::SeqCst);
    }
}

impl Drop for Watchdog {
    fn drop(&mut self) {
        self.done.store(true, Ordering::SeqCst);
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}
