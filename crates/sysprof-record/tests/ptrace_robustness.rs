//! Robustness of the ptrace recorder: early stops, crashes, attach/detach, and clean errors.

mod ptrace_support;

use ptrace_support::*;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};
use sysprof_record::ptrace::{self, PtraceError};
use sysprof_record::{ChildExit, Progress, RecordOptions, StopFlag, Target};

fn state(pid: u32) -> Option<char> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    stat[stat.rfind(')')? + 1..].trim_start().chars().next()
}

fn tracer_of(pid: u32) -> Option<u32> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    status
        .lines()
        .find_map(|l| l.strip_prefix("TracerPid:"))
        .and_then(|v| v.trim().parse().ok())
}

fn attach_error(pids: Vec<u32>) -> PtraceError {
    ptrace::record(
        &Target::Pids(pids),
        &RecordOptions::default(),
        &StopFlag::new(),
        &Progress::default(),
    )
    .expect_err("attach should fail")
}

#[test]
fn duration_expiry_ends_a_launched_command_with_a_trace() {
    if !privileged() {
        return;
    }
    let opts = RecordOptions {
        duration: Some(Duration::from_millis(300)),
        ..RecordOptions::default()
    };
    let started = Instant::now();
    let recording = record_with(&["sleep", "30"], &opts, &StopFlag::new());
    assert!(started.elapsed() < Duration::from_secs(10));
    assert_eq!(recording.exit, Some(ChildExit::Signal(libc::SIGTERM)));
    let calls = syscalls(&recording.trace);
    assert!(
        calls.contains("execve") && calls.contains("clock_nanosleep"),
        "{calls:?}"
    );
    assert!(recording.trace.meta.end.is_some());
}

#[test]
fn stop_flag_ends_the_recording_promptly() {
    if !privileged() {
        return;
    }
    let stop = StopFlag::new();
    let raiser = {
        let stop = stop.clone();
        std::thread::spawn(move || {
            std::thread::sleep(Duration::from_millis(300));
            stop.raise();
        })
    };
    let started = Instant::now();
    // A command that ignores SIGTERM is killed after the grace period.
    let recording = record_with(
        &["sh", "-c", "trap '' TERM; while :; do sleep 0.05; done"],
        &RecordOptions::default(),
        &stop,
    );
    raiser.join().expect("raiser thread");
    assert!(started.elapsed() < Duration::from_secs(15));
    assert_eq!(recording.exit, Some(ChildExit::Signal(libc::SIGKILL)));
    assert!(syscalls(&recording.trace).contains("wait4"));
}

#[test]
fn crash_is_reported_with_its_signal_and_a_trace() {
    if !privileged() {
        return;
    }
    let recording = record(&["python3", "-B", "-c", "import ctypes; ctypes.string_at(0)"]);
    assert_eq!(recording.exit, Some(ChildExit::Signal(libc::SIGSEGV)));
    assert!(syscalls(&recording.trace).contains("execve"));
    assert!(recording
        .trace
        .execs
        .iter()
        .any(|e| e.path.contains("python3")));
}

#[test]
fn exit_codes_and_signal_delivery_are_preserved() {
    if !privileged() {
        return;
    }
    let recording = record(&["sh", "-c", "exit 3"]);
    assert_eq!(recording.exit, Some(ChildExit::Code(3)));

    // A handled signal must reach the program (re-injected at its signal-delivery-stop).
    let dir = scratch("signals");
    let marker = dir.join("got-usr1");
    let script = format!(
        "trap 'echo handled > {}' USR1; kill -USR1 $$; sleep 0.1; exit 0",
        marker.display()
    );
    let recording = record(&["sh", "-c", &script]);
    assert_eq!(recording.exit, Some(ChildExit::Code(0)));
    assert!(marker.exists(), "the USR1 handler did not run");
    assert!(syscalls(&recording.trace).contains("kill"));
}

#[test]
fn group_stop_is_kept_until_sigcont() {
    if !privileged() {
        return;
    }
    let dir = scratch("groupstop");
    let marker = dir.join("resumed");
    let pid_file = dir.join("pid");
    let script = format!(
        "echo $$ > {}; kill -STOP $$; echo yes > {}",
        pid_file.display(),
        marker.display()
    );
    let continuer = {
        let pid_file = pid_file.clone();
        let marker = marker.clone();
        std::thread::spawn(move || {
            let deadline = Instant::now() + Duration::from_secs(10);
            let pid: u32 = loop {
                if let Some(pid) = std::fs::read_to_string(&pid_file)
                    .ok()
                    .and_then(|s| s.trim().parse().ok())
                {
                    break pid;
                }
                assert!(Instant::now() < deadline, "no pid file");
                std::thread::sleep(Duration::from_millis(10));
            };
            // The shell stays stopped (it does not run on to write the marker) ...
            std::thread::sleep(Duration::from_millis(300));
            assert!(!marker.exists(), "the process ran on through SIGSTOP");
            assert!(matches!(state(pid), Some('t' | 'T')), "{:?}", state(pid));
            // ... until SIGCONT.
            // SAFETY: kill has no memory-safety preconditions.
            unsafe { libc::kill(pid as i32, libc::SIGCONT) };
        })
    };
    let recording = record(&["sh", "-c", &script]);
    continuer.join().expect("continuer thread");
    assert_eq!(recording.exit, Some(ChildExit::Code(0)));
    assert!(marker.exists());
}

#[test]
fn attach_then_stop_leaves_the_process_running() {
    if !privileged() {
        return;
    }
    let mut child = KillOnDrop(
        Command::new("sh")
            .args(["-c", "while :; do sleep 0.05; done"])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("spawn workload"),
    );
    let pid = child.0.id();
    std::thread::sleep(Duration::from_millis(100));
    let stop = StopFlag::new();
    let raiser = {
        let stop = stop.clone();
        std::thread::spawn(move || {
            std::thread::sleep(Duration::from_millis(700));
            stop.raise();
        })
    };
    let progress = Progress::default();
    let recording = ptrace::record(
        &Target::Pids(vec![pid]),
        &RecordOptions::default(),
        &stop,
        &progress,
    );
    raiser.join().expect("raiser thread");
    let recording = recording.expect("attach recording");
    assert_eq!(recording.exit, None);
    let calls = syscalls(&recording.trace);
    // dash starts commands with vfork.
    assert!(
        calls.contains("wait4") && (calls.contains("vfork") || calls.contains("clone")),
        "{calls:?}"
    );
    assert!(recording
        .trace
        .execs
        .iter()
        .any(|e| e.path.ends_with("/sleep")));

    // Still alive, not stopped, no longer traced, and still doing its work.
    std::thread::sleep(Duration::from_millis(200));
    let st = state(pid);
    assert!(matches!(st, Some('S' | 'R')), "state after detach: {st:?}");
    assert_eq!(tracer_of(pid), Some(0));
    assert!(
        child.0.try_wait().expect("try_wait").is_none(),
        "the process died"
    );
    // Its affinity was given back (it is not pinned to one CPU any more, if it was not before).
    let cpus = std::fs::read_to_string(format!("/proc/{pid}/status"))
        .expect("status")
        .lines()
        .find(|l| l.starts_with("Cpus_allowed_list:"))
        .map(str::to_owned);
    let mine = std::fs::read_to_string("/proc/self/status")
        .expect("status")
        .lines()
        .find(|l| l.starts_with("Cpus_allowed_list:"))
        .map(str::to_owned);
    assert_eq!(cpus, mine);
}

/// Kills a spawned workload even when an assertion fails first.
struct KillOnDrop(std::process::Child);

impl Drop for KillOnDrop {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[test]
fn attach_errors_are_one_line_and_specific() {
    if !privileged() {
        return;
    }
    // A pid that does not exist.
    let max: u32 = std::fs::read_to_string("/proc/sys/kernel/pid_max")
        .ok()
        .and_then(|s| s.trim().parse().ok())
        .unwrap_or(32768);
    let missing = (2..max)
        .rev()
        .find(|p| !std::path::Path::new(&format!("/proc/{p}")).exists())
        .expect("a free pid");
    let err = attach_error(vec![missing]);
    assert!(
        matches!(err, PtraceError::NoSuchPid(p) if p == missing),
        "{err}"
    );
    assert_eq!(err.to_string(), format!("pid {missing} does not exist"));

    // A process that already exited (a zombie nobody reaped yet).
    let mut zombie = Command::new("true").spawn().expect("spawn true");
    std::thread::sleep(Duration::from_millis(100));
    let err = attach_error(vec![zombie.id()]);
    assert!(matches!(err, PtraceError::ExitedDuringAttach(_)), "{err}");
    assert!(err.to_string().contains("exited during attach"));
    let _ = zombie.wait();

    // sysprof itself.
    let err = attach_error(vec![std::process::id()]);
    assert!(matches!(err, PtraceError::SelfTrace(_)), "{err}");
}

#[test]
fn attach_to_an_already_traced_process_is_eperm() {
    if !privileged() {
        return;
    }
    let dir = scratch("eperm");
    let pid_file = dir.join("pid");
    let script = format!("echo $$ > {}; sleep 2", pid_file.display());
    let tracer = std::thread::spawn(move || record(&["sh", "-c", &script]));
    let deadline = Instant::now() + Duration::from_secs(10);
    let pid: u32 = loop {
        if let Some(pid) = std::fs::read_to_string(&pid_file)
            .ok()
            .and_then(|s| s.trim().parse().ok())
        {
            break pid;
        }
        assert!(Instant::now() < deadline, "no pid file");
        std::thread::sleep(Duration::from_millis(10));
    };
    let err = attach_error(vec![pid]);
    let text = err.to_string();
    assert!(matches!(err, PtraceError::NotPermitted { .. }), "{text}");
    assert!(
        text.starts_with(&format!(
            "not permitted to trace pid {pid}: it is already traced by pid"
        )),
        "{text}"
    );
    assert!(!text.contains('\n'));
    let recording = tracer.join().expect("tracer thread");
    assert_eq!(recording.exit, Some(ChildExit::Code(0)));
}

#[test]
fn launch_errors_are_one_line_and_specific() {
    if !privileged() {
        return;
    }
    let run = |args: &[&str]| {
        ptrace::record(
            &Target::Command(argv(args)),
            &RecordOptions::default(),
            &StopFlag::new(),
            &Progress::default(),
        )
        .expect_err("launch should fail")
    };
    let err = run(&["sysprof-no-such-command-xyz"]);
    assert_eq!(
        err.to_string(),
        "command not found: sysprof-no-such-command-xyz"
    );
    let err = run(&["/nonexistent/dir/tool"]);
    assert!(matches!(err, PtraceError::CommandNotFound(_)), "{err}");
    let err = run(&["/etc/hostname"]);
    assert!(matches!(err, PtraceError::Exec { .. }), "{err}");
    assert!(err.to_string().starts_with("cannot execute /etc/hostname"));
    let err = run(&[]);
    assert!(matches!(err, PtraceError::EmptyCommand), "{err}");
}

#[test]
fn unpinned_recording_works_too() {
    if !privileged() {
        return;
    }
    let opts = RecordOptions {
        no_cpu_pinning: true,
        ..RecordOptions::default()
    };
    let recording = record_with(&["sh", "-c", "ls / > /dev/null"], &opts, &StopFlag::new());
    assert_eq!(recording.exit, Some(ChildExit::Code(0)));
    assert!(syscalls(&recording.trace).contains("getdents64"));
}

#[test]
fn exec_from_a_thread_switches_the_leader() {
    if !privileged() {
        return;
    }
    let dir = scratch("threadexec");
    let marker = dir.join("after-exec");
    let script = format!(
        r#"
import os, threading, time
def run():
    os.execv("/bin/sh", ["sh", "-c", "echo ok > {}"])
threading.Thread(target=run).start()
time.sleep(5)
"#,
        marker.display()
    );
    let recording = record(&["python3", "-B", "-c", &script]);
    assert_eq!(recording.exit, Some(ChildExit::Code(0)));
    assert!(marker.exists());
    assert!(recording.trace.execs.iter().any(|e| e.path == "/bin/sh"));
    assert!(written(&recording.trace).contains(&marker.display().to_string()));
}
