//! Helpers shared by the privileged eBPF tests.
#![allow(dead_code)]

use std::sync::{Mutex, MutexGuard};

/// True when the tests can load BPF programs (root). Without root they skip, unless
/// `SYSPROF_REQUIRE_PRIVILEGED=1` or `CI` is set, where a skip would hide a failure.
pub fn privileged() -> bool {
    // SAFETY: geteuid has no preconditions.
    let root = unsafe { libc::geteuid() } == 0;
    if !root {
        let required = std::env::var_os("SYSPROF_REQUIRE_PRIVILEGED").is_some()
            || std::env::var_os("CI").is_some();
        assert!(!required, "privileged eBPF tests need root here");
        eprintln!("skipping: not root");
    }
    root
}

static SERIAL: Mutex<()> = Mutex::new(());

/// Serialises recordings inside one test binary: probes are global, and the
/// bpftool before/after comparisons must not see another test's programs.
pub fn serial() -> MutexGuard<'static, ()> {
    SERIAL.lock().unwrap_or_else(|e| e.into_inner())
}
