//! The event vocabulary beyond syscalls: inferred capabilities, sockets and addresses,
//! namespaces, memory, set-id modes, devices, mounts, personality, realtime, interpreters.
//! Run as root, so every capability is available and inference is exercised.

mod ptrace_support;

use ptrace_support::*;

fn py(script: &str) -> sysprof_core::trace::Trace {
    record_ok(&["python3", "-B", "-c", script])
}

#[test]
fn bind_to_a_privileged_port_needs_net_bind_service() {
    if !privileged() {
        return;
    }
    let start: u16 = std::fs::read_to_string("/proc/sys/net/ipv4/ip_unprivileged_port_start")
        .ok()
        .and_then(|s| s.trim().parse().ok())
        .unwrap_or(1024);
    let trace = py(r#"
import socket
for port in range(981, 1000):
    s = socket.socket(socket.AF_INET6, socket.SOCK_STREAM)
    try:
        s.bind(("::1", port))
        break
    except OSError:
        s.close()
high = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
high.bind(("127.0.0.1", 0))
"#);
    assert_eq!(has_cap(&trace, "CAP_NET_BIND_SERVICE"), start > 981);
    assert!(trace
        .addresses
        .iter()
        .any(|a| a.family == "AF_INET6" && a.address.starts_with("[::1]:9") && a.result == "ok"));
    assert!(trace
        .addresses
        .iter()
        .any(|a| a.family == "AF_INET" && a.address == "127.0.0.1:0"));
    assert!(trace.sockets.iter().any(|s| s.family == "AF_INET"
        && s.sock_type == "SOCK_DGRAM"
        && s.protocol == "IPPROTO_IP"));
}

#[test]
fn raw_sockets_need_net_raw() {
    if !privileged() {
        return;
    }
    let trace =
        py("import socket; socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_ICMP)");
    assert!(has_cap(&trace, "CAP_NET_RAW"));
    assert!(trace
        .sockets
        .iter()
        .any(|s| s.sock_type == "SOCK_RAW" && s.protocol == "IPPROTO_ICMP"));
    let trace = py("import socket; socket.socket(socket.AF_INET, socket.SOCK_STREAM)");
    assert!(!has_cap(&trace, "CAP_NET_RAW"));
}

#[test]
fn unix_socket_paths_and_abstract_names() {
    if !privileged() {
        return;
    }
    let dir = scratch("unix");
    let path = dir.join("s.sock").display().to_string();
    let trace = py(&format!(
        r#"
import socket
a = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
a.bind({path:?})
a.listen(1)
b = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
b.connect({path:?})
c = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
c.bind("\0sysprof-test-abstract")
"#
    ));
    assert!(trace
        .addresses
        .iter()
        .any(|a| a.family == "AF_UNIX" && a.address == path && a.result == "ok"));
    assert!(trace
        .addresses
        .iter()
        .any(|a| a.address == "@sysprof-test-abstract"));
    assert!(trace
        .files
        .iter()
        .any(|f| f.path == path && f.access.as_str() == "create"));
    assert!(trace
        .files
        .iter()
        .any(|f| f.path == path && f.access.as_str() == "connect"));
}

#[test]
fn ownership_and_permission_overrides() {
    if !privileged() {
        return;
    }
    let dir = scratch("dac");
    let theirs = dir.join("theirs");
    std::fs::write(&theirs, "secret").expect("write");
    // Owned by nobody, readable and writable by nobody only: root gets in only by capability.
    let status = std::process::Command::new("chown")
        .args(["65534:65534"])
        .arg(&theirs)
        .status()
        .expect("chown");
    assert!(status.success());
    std::fs::set_permissions(&theirs, std::os::unix::fs::PermissionsExt::from_mode(0o600))
        .expect("chmod");
    let theirs = theirs.display().to_string();

    let trace = py(&format!("open({theirs:?}).read()"));
    assert!(
        has_cap(&trace, "CAP_DAC_READ_SEARCH"),
        "{:?}",
        trace.capabilities
    );
    assert!(!has_cap(&trace, "CAP_DAC_OVERRIDE"));

    let trace = py(&format!("open({theirs:?}, 'a').write('x')"));
    assert!(
        has_cap(&trace, "CAP_DAC_OVERRIDE"),
        "{:?}",
        trace.capabilities
    );

    let mine = dir.join("mine").display().to_string();
    let trace = py(&format!(
        "import os; open({mine:?}, 'w').close(); os.chown({mine:?}, 0, 0); os.chown({mine:?}, -1, -1)"
    ));
    assert!(
        !has_cap(&trace, "CAP_CHOWN"),
        "chown to the same ids needs nothing"
    );
    let trace = py(&format!("import os; os.chown({mine:?}, 65534, 65534)"));
    assert!(has_cap(&trace, "CAP_CHOWN"));
    let trace = py(&format!("import os; os.chmod({theirs:?}, 0o640)"));
    assert!(has_cap(&trace, "CAP_FOWNER"));
}

#[test]
fn identity_changes_signals_and_limits() {
    if !privileged() {
        return;
    }
    let dir = scratch("ids");
    let raised = dir.join("raised");
    let trace = py(&format!(
        r#"
import os, resource, signal, time
pid = os.fork()
if pid == 0:
    os.setgroups([])
    os.setgid(65534)
    os.setuid(65534)
    time.sleep(5)
    os._exit(0)
time.sleep(0.3)
os.kill(pid, 0)
os.kill(pid, signal.SIGTERM)
os.waitpid(pid, 0)
resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
try:
    resource.setrlimit(resource.RLIMIT_CORE, (0, 100))
    open({raised:?}, "w").close()
except ValueError:
    pass  # no CAP_SYS_RESOURCE in this environment
os.nice(-1)
os.setuid(0)
"#,
        raised = raised.display().to_string()
    ));
    for cap in ["CAP_SETUID", "CAP_SETGID", "CAP_KILL", "CAP_SYS_NICE"] {
        assert!(
            has_cap(&trace, cap),
            "{cap} missing: {:?}",
            trace.capabilities
        );
    }
    assert_eq!(
        has_cap(&trace, "CAP_SYS_RESOURCE"),
        raised.exists(),
        "CAP_SYS_RESOURCE is inferred exactly when raising the hard limit succeeded"
    );
    // setuid(0) by root changes nothing: it is not evidence for CAP_SETUID on its own.
    let trace = py("import os; os.setuid(0); os.kill(os.getpid(), 0)");
    assert!(!has_cap(&trace, "CAP_SETUID") && !has_cap(&trace, "CAP_KILL"));
}

#[test]
fn namespaces_mounts_and_chroot() {
    if !privileged() {
        return;
    }
    let dir = scratch("mount");
    let target = dir.display().to_string();
    let trace = record_ok(&[
        "unshare",
        "-m",
        "--propagation",
        "private",
        "sh",
        "-c",
        &format!("mount -t tmpfs none {target} && umount {target}"),
    ]);
    assert!(has_cap(&trace, "CAP_SYS_ADMIN"));
    assert!(trace
        .namespaces
        .iter()
        .any(|n| n.kind.as_str() == "mnt" && n.syscall == "unshare" && n.result == "ok"));
    assert!(trace
        .mounts
        .iter()
        .any(|m| m.syscall == "mount" && m.target.as_deref() == Some(target.as_str())));

    let trace = record_ok(&["unshare", "-U", "true"]);
    assert!(trace.namespaces.iter().any(|n| n.kind.as_str() == "user"));
    assert!(
        !has_cap(&trace, "CAP_SYS_ADMIN"),
        "a user namespace needs no capability"
    );

    let trace = py("import os; os.chroot('/')");
    assert!(has_cap(&trace, "CAP_SYS_CHROOT"));
}

#[test]
fn memory_setid_devices_personality_realtime() {
    if !privileged() {
        return;
    }
    let trace = py(r#"
import mmap
m = mmap.mmap(-1, 4096, prot=mmap.PROT_READ | mmap.PROT_WRITE | mmap.PROT_EXEC)
"#);
    assert!(trace
        .memory
        .iter()
        .any(|m| m.kind == sysprof_core::event::MapKind::WriteExec && m.result == "ok"));
    assert!(trace
        .files
        .iter()
        .any(|f| f.access.as_str() == "mmap-exec" && f.path.contains("libc.so")));

    let dir = scratch("modes");
    let file = dir.join("f").display().to_string();
    let node = dir.join("null").display().to_string();
    let trace = py(&format!(
        "import os, stat; open({file:?}, 'w').close(); os.chmod({file:?}, 0o4755); \
         os.mknod({node:?}, 0o600 | stat.S_IFCHR, os.makedev(1, 3))"
    ));
    assert!(trace
        .setid_modes
        .iter()
        .any(|s| s.path.as_deref() == Some(file.as_str()) && s.mode == "4755"));
    assert!(trace
        .devices
        .iter()
        .any(|d| d.path == node && d.result == "ok"));
    assert!(has_cap(&trace, "CAP_MKNOD"));

    let trace = record_ok(&["setarch", "-R", "true"]);
    assert!(
        trace.personalities.contains("0x40000"),
        "{:?}",
        trace.personalities
    );

    let trace = record_ok(&["chrt", "-f", "1", "true"]);
    assert!(trace
        .realtime
        .iter()
        .any(|r| r.policy == "SCHED_FIFO" && r.syscall == "sched_setscheduler"));
    assert!(has_cap(&trace, "CAP_SYS_NICE"));
}

#[test]
fn scripts_record_their_interpreters() {
    if !privileged() {
        return;
    }
    let dir = scratch("script");
    let script = dir.join("run.sh");
    std::fs::write(&script, "#!/bin/sh\nexit 0\n").expect("write script");
    std::fs::set_permissions(&script, std::os::unix::fs::PermissionsExt::from_mode(0o755))
        .expect("chmod");
    let script = script.display().to_string();
    let trace = record_ok(&[&script]);
    let exec = trace.execs.iter().find(|e| e.path == script).expect("exec");
    assert_eq!(exec.interpreter.as_deref(), Some("/bin/sh"));
    assert!(trace
        .files
        .iter()
        .any(|f| f.path == "/bin/sh" && f.access.as_str() == "exec"));
    // Relative paths resolve against the tracee's own cwd.
    let trace = record_ok(&[
        "sh",
        "-c",
        &format!("cd {} && cat ./run.sh > /dev/null", dir.display()),
    ]);
    assert!(trace
        .files
        .iter()
        .any(|f| f.path == script && f.access.as_str() == "read"));
    // /proc/self names the tracee, not sysprof.
    let trace = record_ok(&["cat", "/proc/self/status"]);
    assert!(!trace
        .files
        .iter()
        .any(|f| f.path == format!("/proc/{}/status", std::process::id())));
    assert!(trace.files.iter().any(|f| f.path.starts_with("/proc/")
        && f.path.ends_with("/status")
        && f.access.as_str() == "read"));
}

#[test]
fn compat_i386_calls_are_recorded_with_their_abi() {
    if !privileged() {
        return;
    }
    // A libc-free 32-bit program (no multilib needed): getpid and exit through `int 0x80`.
    let dir = scratch("i386");
    let source = dir.join("i386.S");
    std::fs::write(
        &source,
        ".globl _start\n_start:\n  movl $20, %eax\n  int $0x80\n  movl $1, %eax\n  xorl %ebx, %ebx\n  int $0x80\n",
    )
    .expect("write source");
    let binary = dir.join("i386bin");
    let built = std::process::Command::new("gcc")
        .args(["-m32", "-nostdlib", "-static", "-o"])
        .arg(&binary)
        .arg(&source)
        .status()
        .expect("gcc must be installed");
    assert!(built.success(), "gcc -m32 -nostdlib failed");
    let binary = binary.display().to_string();
    let trace = record_ok(&[&binary]);
    let i386: Vec<&str> = trace
        .syscall_names(sysprof_core::event::Abi::I386)
        .into_iter()
        .collect();
    assert_eq!(i386, vec!["exit", "getpid"]);
    // The execve that started it was a native call.
    assert!(syscalls(&trace).contains("execve"));
}
