//! SIGINT/SIGTERM handling for recordings: the first signal raises a [`StopFlag`] so the
//! backend can end cleanly; another one more than a second later ends sysprof at once (an
//! operator pressing Ctrl-C again). Repeats within that second are tools such as `timeout`,
//! which signal the process and then its whole process group, and are ignored.
//!
//! The handlers are installed without `SA_RESTART`, so a blocking `waitpid`/`read` on the
//! thread that receives the signal returns EINTR and the backend notices the flag promptly.

use crate::StopFlag;
use nix::errno::Errno;
use std::sync::atomic::{AtomicBool, AtomicPtr, AtomicU64, Ordering};
use std::sync::Arc;

/// The flag the handler raises. Leaked on purpose: a handler may run at any time, so the flag
/// must outlive every installation.
static FLAG: AtomicPtr<AtomicBool> = AtomicPtr::new(std::ptr::null_mut());
/// When the first stop signal arrived (CLOCK_MONOTONIC, nanoseconds).
static FIRST_SIGNAL_NS: AtomicU64 = AtomicU64::new(0);
/// Repeats closer than this to the first signal do not force an exit.
const REPEAT_GRACE_NS: u64 = 1_000_000_000;

fn monotonic_ns() -> u64 {
    // SAFETY: clock_gettime is async-signal-safe and writes only to `now`.
    let mut now: libc::timespec = unsafe { std::mem::zeroed() };
    // SAFETY: `now` is a valid, writable timespec.
    unsafe { libc::clock_gettime(libc::CLOCK_MONOTONIC, &mut now) };
    (now.tv_sec as u64)
        .saturating_mul(1_000_000_000)
        .saturating_add(now.tv_nsec as u64)
}

extern "C" fn on_stop_signal(signal: libc::c_int) {
    let flag = FLAG.load(Ordering::SeqCst);
    if flag.is_null() {
        return;
    }
    // SAFETY: FLAG only ever holds a pointer obtained from `Arc::into_raw` that is never
    // released, so it stays valid for the life of the process.
    let flag = unsafe { &*flag };
    let now = monotonic_ns();
    if !flag.swap(true, Ordering::SeqCst) {
        FIRST_SIGNAL_NS.store(now, Ordering::SeqCst);
        return;
    }
    if now.saturating_sub(FIRST_SIGNAL_NS.load(Ordering::SeqCst)) > REPEAT_GRACE_NS {
        // Second request: the operator wants out now. Restore the default action and re-raise
        // (async-signal-safe calls only).
        // SAFETY: signal and raise are async-signal-safe.
        unsafe {
            libc::signal(signal, libc::SIG_DFL);
            libc::raise(signal);
        }
    }
}

/// Makes SIGINT and SIGTERM raise `stop` (then, if repeated, terminate the process).
pub fn install_stop_handlers(stop: &StopFlag) -> Result<(), Errno> {
    let raw = Arc::into_raw(Arc::clone(stop.as_atomic())).cast_mut();
    FLAG.store(raw, Ordering::SeqCst);
    for signal in [libc::SIGINT, libc::SIGTERM] {
        // SAFETY: sigaction is plain data; zeroed means empty mask and no flags (no SA_RESTART).
        let mut action: libc::sigaction = unsafe { std::mem::zeroed() };
        action.sa_sigaction = on_stop_signal as *const () as usize;
        // SAFETY: `action` is initialised; the handler only touches atomics and
        // async-signal-safe functions.
        let ret = unsafe {
            libc::sigemptyset(&mut action.sa_mask);
            libc::sigaction(signal, &action, std::ptr::null_mut())
        };
        Errno::result(ret)?;
    }
    Ok(())
}
