//! Shared helpers for the ptrace backend's integration tests (real kernel, run as root in CI).

#![allow(dead_code)]

use std::collections::BTreeSet;
use std::ffi::OsString;
use std::path::PathBuf;
use sysprof_core::event::Abi;
use sysprof_core::trace::Trace;
use sysprof_record::{ptrace, ChildExit, Progress, RecordOptions, Recording, StopFlag, Target};

/// True when the test may run. Outside root it fails loudly, unless the caller opted into
/// skipping with `SYSPROF_ALLOW_UNPRIVILEGED_SKIP=1` (CI runs as root and never skips).
pub fn privileged() -> bool {
    // SAFETY: geteuid has no preconditions.
    if unsafe { libc::geteuid() } == 0 {
        return true;
    }
    let required = std::env::var("SYSPROF_REQUIRE_PRIVILEGED").as_deref() == Ok("1");
    if !required && std::env::var("SYSPROF_ALLOW_UNPRIVILEGED_SKIP").as_deref() == Ok("1") {
        eprintln!("skipped: needs root (SYSPROF_ALLOW_UNPRIVILEGED_SKIP=1)");
        return false;
    }
    panic!(
        "the ptrace tests need root (CI runs them as root); \
         set SYSPROF_ALLOW_UNPRIVILEGED_SKIP=1 to skip them"
    );
}

/// A fresh, empty directory for one test.
pub fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("sysprof-ptrace-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("create scratch dir");
    dir
}

pub fn argv(args: &[&str]) -> Vec<OsString> {
    args.iter().map(OsString::from).collect()
}

/// Records a command with the ptrace backend and default options.
pub fn record(args: &[&str]) -> Recording {
    record_with(args, &RecordOptions::default(), &StopFlag::new())
}

pub fn record_with(args: &[&str], opts: &RecordOptions, stop: &StopFlag) -> Recording {
    ptrace::record(
        &Target::Command(argv(args)),
        opts,
        stop,
        &Progress::default(),
    )
    .unwrap_or_else(|e| panic!("recording {args:?} failed: {e}"))
}

/// Records a command that must exit 0.
pub fn record_ok(args: &[&str]) -> Trace {
    let recording = record(args);
    assert_eq!(
        recording.exit,
        Some(ChildExit::Code(0)),
        "{args:?} did not exit 0"
    );
    recording.trace
}

/// Runs `args` under `strace -f` and imports the log with the core's strace importer.
pub fn strace(args: &[&str], log: &std::path::Path) -> Trace {
    let status = std::process::Command::new("strace")
        .args(["-f", "-qq", "-s", "8192", "-o"])
        .arg(log)
        .args(args)
        .status()
        .expect("strace must be installed for the differential tests (apt-get install strace)");
    assert!(status.success(), "strace {args:?} exited with {status}");
    let file = std::fs::File::open(log).expect("strace log");
    let mut importer = sysprof_core::strace::StraceImporter::new(std::env::consts::ARCH);
    importer
        .feed("strace.log", std::io::BufReader::new(file), None)
        .expect("import strace log");
    importer.finish().0
}

pub fn syscalls(trace: &Trace) -> BTreeSet<String> {
    trace
        .syscall_names(Abi::X86_64)
        .into_iter()
        .map(str::to_owned)
        .collect()
}

/// Paths written (created, deleted, renamed, chmod-ed, …) successfully.
pub fn written(trace: &Trace) -> BTreeSet<String> {
    trace
        .files
        .iter()
        .filter(|f| f.access.is_write() && f.ok())
        .map(|f| f.path.clone())
        .collect()
}

/// Programs executed successfully.
pub fn executed(trace: &Trace) -> BTreeSet<String> {
    trace.execs.iter().map(|e| e.path.clone()).collect()
}

pub fn has_cap(trace: &Trace, name: &str) -> bool {
    let number = sysprof_core::tables::caps::parse(name).expect("capability name");
    trace.capabilities.iter().any(|c| c.cap.0 == number)
}

/// Describes how two sets differ (for assertion messages).
pub fn difference(ours: &BTreeSet<String>, theirs: &BTreeSet<String>) -> String {
    let only_ours: Vec<_> = ours.difference(theirs).collect();
    let only_theirs: Vec<_> = theirs.difference(ours).collect();
    format!("only sysprof: {only_ours:?}\nonly strace: {only_theirs:?}")
}
