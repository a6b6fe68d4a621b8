//! Privileged: `--cgroup` follows child cgroups created later and never sees outsiders;
//! `--pid` follows a process tree.

mod ebpf_common;

use ebpf_common::*;
use std::io::Write;
use std::process::{Command, Stdio};
use sysprof_core::event::Access;
use sysprof_record::Target;

#[test]
fn cgroup_target_follows_new_children_and_ignores_outsiders() {
    if !privileged() {
        return;
    }
    let _guard = serial();
    let before = bpf_objects();
    let cg = TestCgroup::new("target");
    let dir = tempfile::tempdir().expect("tempdir");
    let inside = dir.path().join("inside-marker");
    let outside = dir.path().join("outside-marker");
    let recorder = record_in_background(Target::Cgroup(cg.0.clone()));
    recorder.wait_until_recording();

    // A child cgroup created after the start, with a process doing the inside work.
    let child = cg.0.join("late-child");
    std::fs::create_dir(&child).expect("child cgroup");
    TestCgroup::run_in(
        &child,
        &format!("touch {}; /usr/bin/nproc > /dev/null", inside.display()),
    );
    // The same kind of work from outside the target cgroup.
    let status = Command::new("sh")
        .arg("-c")
        .arg(format!(
            "touch {}; /usr/bin/getconf PAGESIZE > /dev/null",
            outside.display()
        ))
        .status()
        .expect("sh");
    assert!(status.success());

    let rec = recorder.finish();
    let created = files(&rec, &[Access::Create]);
    let executed = files(&rec, &[Access::Exec]);
    assert!(
        created.contains(&canonical(&inside.to_string_lossy())),
        "{created:?}"
    );
    assert!(executed.contains("/usr/bin/nproc"), "{executed:?}");
    let outside = canonical(&outside.to_string_lossy());
    assert!(
        rec.trace.files.iter().all(|f| f.path != outside),
        "outsider's file recorded"
    );
    assert!(
        !executed.contains("/usr/bin/getconf"),
        "outsider's exec recorded"
    );
    drop(cg);
    assert_nothing_left(&before);
}

#[test]
fn pid_target_follows_the_process_tree() {
    if !privileged() {
        return;
    }
    let _guard = serial();
    let before = bpf_objects();
    let dir = tempfile::tempdir().expect("tempdir");
    let marker = dir.path().join("grandchild-marker");
    let outside = dir.path().join("outside-marker");
    // Blocks on stdin until the recorder is attached, then forks a grandchild.
    let mut target = Command::new("sh")
        .arg("-c")
        .arg(format!(
            "read go; sh -c 'touch {}; /usr/bin/nproc >/dev/null'",
            marker.display()
        ))
        .stdin(Stdio::piped())
        .spawn()
        .expect("sh");
    let recorder = record_in_background(Target::Pids(vec![target.id()]));
    recorder.wait_until_recording();
    let status = Command::new("sh")
        .arg("-c")
        .arg(format!(
            "touch {}; /usr/bin/getconf PAGESIZE >/dev/null",
            outside.display()
        ))
        .status()
        .expect("sh");
    assert!(status.success());
    target
        .stdin
        .take()
        .expect("stdin")
        .write_all(b"go\n")
        .expect("release target");
    assert!(target.wait().expect("wait").success());
    // The recording ends by itself once the whole tree has exited.
    let rec = recorder.join();
    let created = files(&rec, &[Access::Create]);
    let executed = files(&rec, &[Access::Exec]);
    assert!(
        created.contains(&canonical(&marker.to_string_lossy())),
        "{created:?}"
    );
    assert!(executed.contains("/usr/bin/nproc"), "{executed:?}");
    assert!(
        !executed.contains("/usr/bin/getconf"),
        "outsider's exec recorded"
    );
    let outside = canonical(&outside.to_string_lossy());
    assert!(rec.trace.files.iter().all(|f| f.path != outside));
    assert!(syscall_names(&rec).contains("read"));
    assert_nothing_left(&before);
}

#[test]
fn a_target_under_seccomp_is_reported() {
    if !privileged() {
        return;
    }
    let _guard = serial();
    // An allow-everything filter (one BPF_RET|BPF_K SECCOMP_RET_ALLOW), then wait on stdin.
    let mut target = Command::new("python3")
        .args([
            "-S",
            "-B",
            "-c",
            "import ctypes, struct, sys\n\
             libc = ctypes.CDLL(None, use_errno=True)\n\
             assert libc.prctl(38, 1, 0, 0, 0) == 0\n\
             insn = ctypes.create_string_buffer(struct.pack('HBBI', 0x06, 0, 0, 0x7fff0000))\n\
             prog = struct.pack('HxxxxxxP', 1, ctypes.addressof(insn))\n\
             assert libc.prctl(22, 2, ctypes.c_char_p(prog), 0, 0) == 0\n\
             sys.stdin.read()\n",
        ])
        .stdin(Stdio::piped())
        .spawn()
        .expect("python3");
    let pid = target.id();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    while !std::fs::read_to_string(format!("/proc/{pid}/status")).is_ok_and(|s| {
        s.lines()
            .any(|l| l.starts_with("Seccomp:") && l.trim_end().ends_with('2'))
    }) {
        assert!(
            std::time::Instant::now() < deadline,
            "filter never installed"
        );
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    let recorder = record_in_background(Target::Pids(vec![pid]));
    recorder.wait_until_recording();
    drop(target.stdin.take());
    assert!(target.wait().expect("wait").success());
    let rec = recorder.join();
    assert!(
        rec.warnings
            .iter()
            .any(|w| w.contains(&format!("process {pid} runs under a seccomp filter"))),
        "{:?}",
        rec.warnings
    );
}
