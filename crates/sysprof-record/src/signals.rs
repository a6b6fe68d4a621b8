//! SIGINT/SIGTERM handling for recordings: the first signal raises a [`StopFlag`] so the
//! backend can end cleanly; a second one of the same kind ends sysprof at once.
//!
//! The handlers are installed without `SA_RESTART`, so a blocking `waitpid`/`read` on the
//! thread that receives the signal returns EINTR and the backend notices the flag promptly.

use crate::StopFlag;
use nix::errno::Errno;
use std::sync::atomic::{AtomicBool, AtomicPtr, Ordering};
use std::sync::Arc;

/// The flag the handler raises. Leaked on purpose: a handler may run at any time, so the flag
/// must outlive every installation.
static FLAG: AtomicPtr<AtomicBool> = AtomicPtr::new(std::ptr::null_mut());

extern "C" fn on_stop_signal(signal: libc::c_int) {
    let flag = FLAG.load(Ordering::SeqCst);
    if flag.is_null() {
        return;
    }
    // SAFETY: FLAG only ever holds a pointer obtained from `Arc::into_raw` that is never
    // released, so it stays valid for the life of the process.
    let flag = unsafe { &*flag };
    if flag.swap(true, Ordering::SeqCst) {
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
