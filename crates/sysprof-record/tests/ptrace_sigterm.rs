//! SIGTERM to sysprof mid-recording: the handler raises the stop flag and the recording returns
//! a complete trace. In a test binary of its own because the handler is process-wide.

mod ptrace_support;

use ptrace_support::*;
use std::time::{Duration, Instant};
use sysprof_record::{signals, ChildExit, RecordOptions, StopFlag};

#[test]
fn sigterm_mid_recording_returns_a_trace() {
    if !privileged() {
        return;
    }
    let stop = StopFlag::new();
    signals::install_stop_handlers(&stop).expect("install handlers");
    let sender = std::thread::spawn(|| {
        std::thread::sleep(Duration::from_millis(400));
        // Twice in a row, as `timeout` does (the process, then its group): a quick repeat must
        // not turn into a forced exit.
        for _ in 0..2 {
            // SAFETY: kill has no memory-safety preconditions.
            unsafe { libc::kill(std::process::id() as i32, libc::SIGTERM) };
        }
    });
    let started = Instant::now();
    let recording = record_with(&["sleep", "30"], &RecordOptions::default(), &stop);
    sender.join().expect("sender thread");
    assert!(stop.is_raised());
    assert!(started.elapsed() < Duration::from_secs(10));
    assert_eq!(recording.exit, Some(ChildExit::Signal(libc::SIGTERM)));
    let calls = syscalls(&recording.trace);
    assert!(
        calls.contains("execve") && calls.contains("clock_nanosleep"),
        "{calls:?}"
    );
    assert!(recording.trace.meta.start.is_some() && recording.trace.meta.end.is_some());
}
