//! Privileged: no BPF program, map or link and no transient cgroup is left after a normal
//! end, a stop (Ctrl-C), SIGTERM/SIGINT to the recorder process, or an error.

mod ebpf_common;

use ebpf_common::*;
use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};
use sysprof_record::{ebpf, Progress, RecordOptions, StopFlag, Target};

/// Pid of the process whose command line is exactly `argv` (a unique `sleep` duration).
fn pid_of(argv: &[&str]) -> Option<u32> {
    let wanted: Vec<u8> = argv.iter().flat_map(|a| a.bytes().chain([0])).collect();
    std::fs::read_dir("/proc").ok()?.flatten().find_map(|e| {
        let pid: u32 = e.file_name().to_str()?.parse().ok()?;
        (std::fs::read(format!("/proc/{pid}/cmdline")).ok()? == wanted).then_some(pid)
    })
}

fn kill(pid: u32) {
    // SAFETY: kill has no memory preconditions; the pid is one this test started.
    unsafe {
        libc::kill(i32::try_from(pid).unwrap_or(0), libc::SIGKILL);
    }
}

#[test]
fn nothing_left_after_a_normal_end() {
    if !privileged() {
        return;
    }
    let _guard = serial();
    let before = bpf_objects();
    let rec = record_command(&["/bin/true"]);
    assert_eq!(rec.exit, Some(sysprof_record::ChildExit::Code(0)));
    assert_nothing_left(&before);
}

#[test]
fn nothing_left_after_stop_flag() {
    if !privileged() {
        return;
    }
    let _guard = serial();
    let before = bpf_objects();
    let argv = ["sleep", "31.7"];
    let recorder = record_in_background(Target::Command(argv.iter().map(Into::into).collect()));
    recorder.wait_until_recording();
    let started = Instant::now();
    let rec = recorder.finish();
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "stop took {:?}",
        started.elapsed()
    );
    assert_eq!(rec.exit, None, "the command was still running");
    assert!(syscall_names(&rec).contains("execve"));
    assert_nothing_left(&before);
    // The command was moved out of the removed cgroup and keeps running; end it.
    let pid = pid_of(&argv).expect("the command still runs");
    kill(pid);
}

#[test]
fn nothing_left_after_an_error() {
    if !privileged() {
        return;
    }
    let _guard = serial();
    let before = bpf_objects();
    let result = ebpf::record(
        &Target::Command(vec!["/nonexistent/sysprof-test-binary".into()]),
        &RecordOptions::default(),
        &StopFlag::new(),
        &Progress::default(),
    );
    assert!(result.is_err(), "a missing binary must fail");
    assert_nothing_left(&before);
}

/// The recorder process for the signal tests: runs only when the parent test re-executes
/// this binary with `SYSPROF_EBPF_CHILD` set.
#[test]
fn child_recorder_for_signal_tests() {
    let Some(ready) = std::env::var_os("SYSPROF_EBPF_CHILD") else {
        return;
    };
    let stop = StopFlag::new();
    sysprof_record::signals::install_stop_handlers(&stop).expect("handlers");
    let progress = std::sync::Arc::new(Progress::default());
    let watcher_progress = progress.clone();
    std::thread::spawn(move || {
        while !watcher_progress
            .recording
            .load(std::sync::atomic::Ordering::SeqCst)
        {
            std::thread::sleep(Duration::from_millis(20));
        }
        std::fs::write(&ready, "ready").expect("ready file");
    });
    let rec = ebpf::record(
        &Target::Command(vec!["sleep".into(), "32.3".into()]),
        &RecordOptions::default(),
        &stop,
        &progress,
    )
    .expect("recording");
    assert!(rec.trace.syscalls.iter().any(|s| s.name == "execve"));
}

fn signal_leaves_nothing(signal: i32) {
    let _guard = serial();
    let before = bpf_objects();
    let dir = tempfile::tempdir().expect("tempdir");
    let ready = dir.path().join("ready");
    let mut child = Command::new(std::env::current_exe().expect("test binary"))
        .args(["--exact", "child_recorder_for_signal_tests", "--nocapture"])
        .env("SYSPROF_EBPF_CHILD", &ready)
        .spawn()
        .expect("child recorder");
    let deadline = Instant::now() + Duration::from_secs(120);
    while !Path::new(&ready).exists() {
        assert!(Instant::now() < deadline, "child recorder never started");
        assert!(
            child.try_wait().expect("wait").is_none(),
            "child recorder ended early"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    // SAFETY: kill has no memory preconditions; the pid is our child's.
    unsafe {
        libc::kill(i32::try_from(child.id()).expect("pid"), signal);
    }
    let status = child.wait().expect("wait");
    assert!(status.success(), "child recorder: {status}");
    assert_nothing_left(&before);
    let prefix = format!("sysprof-{}-", child.id());
    let leftovers: Vec<_> = std::fs::read_dir(cgroup_mount())
        .expect("cgroup mount")
        .flatten()
        .filter(|e| e.file_name().to_string_lossy().starts_with(&prefix))
        .collect();
    assert!(leftovers.is_empty(), "transient cgroup left: {leftovers:?}");
    if let Some(pid) = pid_of(&["sleep", "32.3"]) {
        kill(pid);
    }
}

#[test]
fn nothing_left_after_sigterm() {
    if privileged() {
        signal_leaves_nothing(libc::SIGTERM);
    }
}

#[test]
fn nothing_left_after_sigint() {
    if privileged() {
        signal_leaves_nothing(libc::SIGINT);
    }
}
