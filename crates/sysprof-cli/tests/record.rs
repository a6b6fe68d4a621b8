//! `sysprof record` and `sysprof demo` end to end, as root, with the real backends.
//!
//! These need root (ptrace of any process, eBPF). They fail without it, unless
//! `SYSPROF_ALLOW_UNPRIVILEGED_SKIP=1` is set outside CI.

use std::path::Path;
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

fn privileged() -> bool {
    // SAFETY: geteuid has no preconditions.
    if unsafe { libc::geteuid() } == 0 {
        return true;
    }
    let skip_allowed = std::env::var_os("SYSPROF_ALLOW_UNPRIVILEGED_SKIP").is_some()
        && std::env::var_os("SYSPROF_REQUIRE_PRIVILEGED").is_none();
    assert!(skip_allowed, "these tests need root");
    eprintln!("skipped: not root");
    false
}

fn sysprof() -> Command {
    Command::new(env!("CARGO_BIN_EXE_sysprof"))
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

fn trace_json(path: &Path) -> serde_json::Value {
    let bytes = std::fs::read(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_json::from_slice(&bytes).expect("trace is JSON")
}

fn syscalls(trace: &serde_json::Value) -> Vec<String> {
    trace["syscalls"]
        .as_array()
        .expect("syscalls")
        .iter()
        .filter_map(|s| s["name"].as_str().map(str::to_owned))
        .collect()
}

fn only_the_trace_is_left(dir: &Path) {
    let names: Vec<String> = std::fs::read_dir(dir)
        .expect("read_dir")
        .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(names, ["t.json"], "temporary files left behind");
}

#[test]
fn exit_status_of_the_command_becomes_sysprofs() {
    if !privileged() {
        return;
    }
    for backend in ["ptrace", "ebpf"] {
        let dir = tempfile::tempdir().expect("tempdir");
        let out = dir.path().join("t.json");
        let o = sysprof()
            .args(["-q", "record", "--backend", backend, "-o"])
            .arg(&out)
            .args(["--", "sh", "-c", "cat /etc/hostname >/dev/null; exit 3"])
            .output()
            .expect("run");
        assert_eq!(o.status.code(), Some(3), "{backend}: {}", stderr(&o));
        let t = trace_json(&out);
        assert_eq!(t["meta"]["backends"][0], backend);
        let names = syscalls(&t);
        for needed in ["execve", "openat", "exit_group"] {
            assert!(
                names.iter().any(|n| n == needed),
                "{backend}: no {needed} in {names:?}"
            );
        }
        only_the_trace_is_left(dir.path());
    }
}

#[test]
fn sigterm_mid_recording_still_writes_the_trace() {
    if !privileged() {
        return;
    }
    for backend in ["ptrace", "ebpf"] {
        let dir = tempfile::tempdir().expect("tempdir");
        let out = dir.path().join("t.json");
        let marker = format!("sysprof-sigterm-{backend}-{}", std::process::id());
        let mut child = sysprof()
            .args(["-q", "record", "--backend", backend, "-o"])
            .arg(&out)
            .args([
                "--",
                "sh",
                "-c",
                &format!("while :; do sleep 0.1; done # {marker}"),
            ])
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn");
        std::thread::sleep(Duration::from_millis(1500));
        // SAFETY: kill with a valid pid and signal has no memory-safety preconditions.
        let pid = i32::try_from(child.id()).expect("pid");
        assert_eq!(unsafe { libc::kill(pid, libc::SIGTERM) }, 0);
        let start = Instant::now();
        let status = loop {
            if let Some(s) = child.try_wait().expect("wait") {
                break s;
            }
            assert!(
                start.elapsed() < Duration::from_secs(15),
                "{backend}: sysprof did not stop"
            );
            std::thread::sleep(Duration::from_millis(50));
        };
        assert!(
            status.code().is_some(),
            "{backend}: sysprof died from the signal: {status:?}"
        );
        let t = trace_json(&out);
        assert!(
            syscalls(&t)
                .iter()
                .any(|n| n == "clone" || n == "vfork" || n == "clone3"),
            "{backend}: the loop's forks are missing"
        );
        only_the_trace_is_left(dir.path());
        // ptrace ends a launched command with the recording (it cannot run on without its
        // tracer); eBPF leaves it running, moved out of the transient cgroup.
        std::thread::sleep(Duration::from_millis(500));
        let left = Command::new("pgrep")
            .args(["-f", &marker])
            .output()
            .expect("pgrep");
        if backend == "ptrace" {
            assert!(left.stdout.is_empty(), "{backend}: workload still running");
        }
        let _ = Command::new("pkill").args(["-f", &marker]).status();
    }
}

#[test]
fn attached_process_keeps_running_after_the_recording() {
    if !privileged() {
        return;
    }
    let mut victim = Command::new("sh")
        .args(["-c", "while :; do sleep 0.1; done"])
        .spawn()
        .expect("spawn");
    let pid = victim.id().to_string();
    let dir = tempfile::tempdir().expect("tempdir");
    let out = dir.path().join("t.json");
    let o = sysprof()
        .args([
            "-q",
            "record",
            "--backend",
            "ptrace",
            "--duration",
            "1s",
            "--pid",
            &pid,
            "-o",
        ])
        .arg(&out)
        .output()
        .expect("run");
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let t = trace_json(&out);
    assert!(
        syscalls(&t).iter().any(|n| n == "wait4"),
        "{:?}",
        syscalls(&t)
    );
    std::thread::sleep(Duration::from_millis(300));
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).expect("victim alive");
    let state = stat
        .rsplit(')')
        .next()
        .and_then(|r| r.split_whitespace().next());
    assert!(matches!(state, Some("S" | "R")), "victim state {state:?}");
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).expect("status");
    assert!(status.contains("TracerPid:\t0"), "still traced:\n{status}");
    victim.kill().expect("kill");
    let _ = victim.wait();
}

#[test]
fn missing_pid_and_unit_are_one_line_errors() {
    if !privileged() {
        return;
    }
    let dir = tempfile::tempdir().expect("tempdir");
    let out = dir.path().join("t.json");
    let o = sysprof()
        .args(["record", "--backend", "ptrace", "--pid", "999999", "-o"])
        .arg(&out)
        .output()
        .expect("run");
    assert_eq!(o.status.code(), Some(2));
    assert_eq!(stderr(&o).lines().count(), 1, "{}", stderr(&o));
    assert!(stderr(&o).contains("999999"));
    assert!(!out.exists());
}

#[test]
fn demo_records_and_prints_a_drop_in() {
    if !privileged() {
        return;
    }
    let dir = tempfile::tempdir().expect("tempdir");
    let trace = dir.path().join("demo.json");
    let o = sysprof()
        .args(["demo", "-o"])
        .arg(&trace)
        .output()
        .expect("run");
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let out = String::from_utf8_lossy(&o.stdout);
    for line in [
        "[Service]",
        "SystemCallFilter=",
        "RestrictAddressFamilies=AF_INET",
        "IPAddressAllow=localhost",
        "ProtectSystem=strict",
    ] {
        assert!(out.contains(line), "no {line} in\n{out}");
    }
    assert!(trace_json(&trace)["execs"]
        .as_array()
        .is_some_and(|e| !e.is_empty()));
}

/// Moves every process of `dir` to the root cgroup and removes `dir`, whatever the test did.
struct CgroupDir(std::path::PathBuf);

impl Drop for CgroupDir {
    fn drop(&mut self) {
        let root = self.0.parent().expect("parent").to_owned();
        for sub in [self.0.join("svc"), self.0.clone()] {
            if let Ok(procs) = std::fs::read_to_string(sub.join("cgroup.procs")) {
                for pid in procs.lines() {
                    let _ = std::fs::write(root.join("cgroup.procs"), pid);
                }
            }
            let _ = std::fs::remove_dir(&sub);
        }
    }
}

#[test]
fn unit_restart_is_caught_inside_a_cgroup_namespace() {
    if !privileged() {
        return;
    }
    // A container's view: systemd and sysprof run in a cgroup namespace rooted at `ns`, where
    // the unit's ControlGroup is `/svc`, while the kernel names the cgroup by its full path.
    // The stand-in `systemctl` answers the ControlGroup query (PID 1 here is not systemd); the
    // re-created cgroup must still be caught before the service's first exec.
    let mount = Path::new("/sys/fs/cgroup/unified");
    let mount = if mount.join("cgroup.procs").exists() {
        mount
    } else {
        Path::new("/sys/fs/cgroup")
    };
    let ns = CgroupDir(mount.join(format!("sysprof-test-ns-{}", std::process::id())));
    std::fs::create_dir_all(ns.0.join("svc")).expect("mkdir cgroups");
    let dir = tempfile::tempdir().expect("tempdir");
    let bin = dir.path().join("bin");
    std::fs::create_dir(&bin).expect("mkdir");
    std::fs::write(
        bin.join("systemctl"),
        "#!/bin/sh\n[ \"$1 $2 $3\" = \"show -P ControlGroup\" ] && echo /svc\n",
    )
    .expect("fake systemctl");
    std::fs::set_permissions(
        bin.join("systemctl"),
        std::os::unix::fs::PermissionsExt::from_mode(0o755),
    )
    .expect("chmod");
    let out = dir.path().join("t.json");
    let marker = dir.path().join("after-restart");
    let inner = format!(
        "umount {mount} && mount -t cgroup2 none {mount} || exit 90
         PATH={bin}:$PATH {sysprof} -q record --backend ebpf --unit demo.service --duration 6s -o {out} &
         n=0; until bpftool prog show | grep -q cgroup_mkdir; do sleep 0.1; n=$((n+1)); [ $n -lt 100 ] || exit 91; done
         sleep 1
         rmdir {mount}/svc && mkdir {mount}/svc || exit 92
         sh -c 'echo $$ > {mount}/svc/cgroup.procs; exec touch {marker}' || exit 93
         wait $!",
        mount = mount.display(),
        bin = bin.display(),
        sysprof = env!("CARGO_BIN_EXE_sysprof"),
        out = out.display(),
        marker = marker.display(),
    );
    let status = Command::new("sh")
        .arg("-c")
        .arg(format!(
            "echo $$ > {}/cgroup.procs && exec unshare --cgroup --mount --propagation private sh -c \"$0\"",
            ns.0.display()
        ))
        .arg(&inner)
        .status()
        .expect("sh runs");
    assert!(status.success(), "namespace script: {status}");
    let t = trace_json(&out);
    let created: Vec<&str> = t["files"]
        .as_array()
        .expect("files")
        .iter()
        .filter(|f| f["access"] == "create")
        .filter_map(|f| f["path"].as_str())
        .collect();
    assert!(
        created.contains(&marker.to_string_lossy().as_ref()),
        "the restarted unit's work is missing: {created:?}"
    );
    let execs = t["execs"].to_string();
    assert!(execs.contains("/usr/bin/touch"), "{execs}");
    assert!(
        !execs.contains("/bin/sh") && !execs.contains("dash"),
        "set-up recorded: {execs}"
    );
}

#[test]
fn signals_and_the_last_news_are_recorded_by_both_backends() {
    if !privileged() {
        return;
    }
    for backend in ["ptrace", "ebpf"] {
        let dir = tempfile::tempdir().expect("tempdir");
        let out = dir.path().join("t.json");
        let o = sysprof()
            .args(["-q", "record", "--backend", backend, "-o"])
            .arg(&out)
            .args([
                "--",
                // a shell cannot trap a signal ignored on entry (under nohup, SIGHUP is), and
                // the kernel then drops it as ignored: start from the default dispositions
                "env",
                "--default-signal=HUP,USR1",
                "sh",
                "-c",
                "trap : HUP USR1; kill -HUP $$; kill -USR1 $$; sleep 0.3; cat /etc/hostname",
            ])
            .output()
            .expect("run");
        assert!(o.status.success(), "{backend}: {}", stderr(&o));
        let t = trace_json(&out);
        assert_eq!(t["version"], 2);
        let lifecycle = &t["meta"]["lifecycle"];
        let signals: Vec<&str> = lifecycle["signals"]
            .as_array()
            .expect("signals")
            .iter()
            .filter_map(|s| s.as_str())
            .collect();
        assert!(
            signals.contains(&"SIGHUP") && signals.contains(&"SIGUSR1"),
            "{backend}: {signals:?}, integrity {}",
            t["meta"]["integrity"]
        );
        // The last new observation (cat's files) came after the start and not after the end.
        let last = lifecycle["last_new_behaviour"].as_str().expect("last news");
        let start = t["meta"]["start"].as_str().expect("start");
        let end = t["meta"]["end"].as_str().expect("end");
        assert!(
            start <= last && last <= end,
            "{backend}: {start} {last} {end}"
        );
    }
}

#[test]
fn until_stable_ends_a_quiet_recording() {
    if !privileged() {
        return;
    }
    for backend in ["ptrace", "ebpf"] {
        let dir = tempfile::tempdir().expect("tempdir");
        let out = dir.path().join("t.json");
        // a unique duration names the sleep for pkill (exec leaves no shell to carry a marker)
        let marker = format!("sleep 59.{}{}", std::process::id(), backend.len());
        let start = Instant::now();
        let o = sysprof()
            .args(["record", "--backend", backend, "--until-stable", "2s", "-o"])
            .arg(&out)
            .args([
                "--",
                "sh",
                "-c",
                // exec, and no stderr: a command left running (eBPF) must not hold our pipe
                &format!("cat /etc/hostname >/dev/null; exec {marker} 2>/dev/null"),
            ])
            .stdout(Stdio::null())
            .output()
            .expect("run");
        let took = start.elapsed();
        let _ = Command::new("pkill").args(["-f", &marker]).status();
        assert!(o.status.code().is_some(), "{backend}: {:?}", o.status);
        assert!(
            took < Duration::from_secs(30),
            "{backend}: the recording did not end when quiet ({took:?})"
        );
        let err = stderr(&o);
        assert!(
            err.contains("nothing new for 2s: recording ended"),
            "{backend}: {err}"
        );
        let t = trace_json(&out);
        assert!(
            syscalls(&t).iter().any(|n| n == "read"),
            "{backend}: cat's reads are missing"
        );
        only_the_trace_is_left(dir.path());
    }
}
