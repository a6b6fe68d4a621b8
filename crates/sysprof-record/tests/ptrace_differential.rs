//! Differential tests: the ptrace recorder against `strace -f` on the same workloads.
//!
//! Each workload runs once under `strace -f` (its log imported with the core's strace importer)
//! and once under the recorder. The syscall sets must be equal, and so must the sets of paths
//! written and programs executed. Principled exception: strace's log and ours both start at the
//! first `execve`; neither sees what the launcher did before it. Workloads are written to be
//! deterministic (Python with `-B`, so no bytecode is written on the first run only).

mod ptrace_support;

use ptrace_support::*;
use std::path::Path;

/// Runs `args` both ways (in `dir`, which is emptied before each run) and compares.
fn compare(name: &str, dir: &Path, args: &[&str]) -> sysprof_core::trace::Trace {
    let reset = || {
        for entry in std::fs::read_dir(dir).expect("scratch dir").flatten() {
            if entry.file_name() == "strace.log" || entry.file_name() == "keep" {
                continue;
            }
            let p = entry.path();
            let _ = std::fs::remove_dir_all(&p).or_else(|_| std::fs::remove_file(&p));
        }
    };
    reset();
    let theirs = strace(args, &dir.join("strace.log"));
    reset();
    let ours = record_ok(args);

    let (our_calls, their_calls) = (syscalls(&ours), syscalls(&theirs));
    assert_eq!(
        our_calls,
        their_calls,
        "{name}: syscall sets differ\n{}",
        difference(&our_calls, &their_calls)
    );
    let log = dir.join("strace.log").to_string_lossy().into_owned();
    let without_log = |set: std::collections::BTreeSet<String>| {
        set.into_iter()
            .filter(|p| *p != log)
            .collect::<std::collections::BTreeSet<_>>()
    };
    let (our_writes, their_writes) = (without_log(written(&ours)), without_log(written(&theirs)));
    assert_eq!(
        our_writes,
        their_writes,
        "{name}: written paths differ\n{}",
        difference(&our_writes, &their_writes)
    );
    let (our_execs, their_execs) = (executed(&ours), executed(&theirs));
    assert_eq!(
        our_execs,
        their_execs,
        "{name}: executed programs differ\n{}",
        difference(&our_execs, &their_execs)
    );
    assert!(ours.meta.integrity.processes >= 1);
    eprintln!(
        "{name}: {} syscalls, {} written paths, {} execs: equal",
        our_calls.len(),
        our_writes.len(),
        our_execs.len()
    );
    ours
}

#[test]
fn coreutils_pipeline() {
    if !privileged() {
        return;
    }
    let dir = scratch("pipeline");
    let script = format!(
        "cd {d} && ls -l /etc | sort -r | sed -n 1,5p > out.txt && wc -l < out.txt > count.txt \
         && cat /etc/hostname | tr a-z A-Z > upper.txt && mkdir sub && mv out.txt sub/ \
         && rm -r sub && cp count.txt copy.txt",
        d = dir.display()
    );
    let trace = compare("coreutils pipeline", &dir, &["sh", "-c", &script]);
    assert!(syscalls(&trace).len() > 30 && written(&trace).len() >= 5);
}

#[test]
fn python_threads() {
    if !privileged() {
        return;
    }
    let dir = scratch("threads");
    let script = format!(
        r#"
import threading, os
def work(i):
    with open(os.path.join({d:?}, "t%d.txt" % i), "w") as f:
        f.write("x" * 1000)
    with open("/etc/hostname") as f:
        f.read()
threads = [threading.Thread(target=work, args=(i,)) for i in range(4)]
for t in threads: t.start()
for t in threads: t.join()
"#,
        d = dir.display().to_string()
    );
    compare("python threads", &dir, &["python3", "-B", "-c", &script]);
}

#[test]
fn fork_and_exec() {
    if !privileged() {
        return;
    }
    let dir = scratch("forkexec");
    let script = format!(
        r#"
import os, subprocess
pid = os.fork()
if pid == 0:
    os.execv("/bin/sh", ["sh", "-c", "echo child > {d}/child.txt"])
os.waitpid(pid, 0)
subprocess.run(["/usr/bin/env", "true"], check=True)
with open("{d}/parent.txt", "w") as f:
    f.write("done")
"#,
        d = dir.display()
    );
    compare("fork and exec", &dir, &["python3", "-B", "-c", &script]);
}

#[test]
fn loopback_tcp_client_server() {
    if !privileged() {
        return;
    }
    let dir = scratch("tcp");
    let script = r#"
import os, socket
server = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
server.bind(("127.0.0.1", 0))
server.listen(1)
port = server.getsockname()[1]
pid = os.fork()
if pid == 0:
    server.close()
    client = socket.create_connection(("127.0.0.1", port))
    client.sendall(b"ping")
    assert client.recv(4) == b"pong"
    client.close()
    os._exit(0)
conn, _ = server.accept()
assert conn.recv(4) == b"ping"
conn.sendall(b"pong")
conn.close()
_, status = os.waitpid(pid, 0)
assert status == 0
"#;
    let trace = compare("loopback tcp", &dir, &["python3", "-B", "-c", script]);
    assert!(
        trace
            .sockets
            .iter()
            .any(|s| s.family == "AF_INET" && s.sock_type == "SOCK_STREAM"),
        "{:?}",
        trace.sockets
    );
    assert!(trace
        .addresses
        .iter()
        .any(|a| a.address.starts_with("127.0.0.1:") && a.result == "ok"));
}

#[test]
fn at_calls_with_dirfds() {
    if !privileged() {
        return;
    }
    let dir = scratch("atcalls");
    let script = format!(
        r#"
import os
d = os.open({d:?}, os.O_RDONLY | os.O_DIRECTORY)
fd = os.open("created.txt", os.O_CREAT | os.O_WRONLY, 0o644, dir_fd=d)
os.write(fd, b"hello")
os.close(fd)
os.mkdir("sub", dir_fd=d)
os.rename("created.txt", "sub/moved.txt", src_dir_fd=d, dst_dir_fd=d)
os.stat("sub/moved.txt", dir_fd=d)
os.symlink("moved.txt", "sub/link", dir_fd=d)
os.chmod("sub/moved.txt", 0o600, dir_fd=d)
os.chdir({d:?})
os.open("sub/../relative.txt", os.O_CREAT | os.O_WRONLY, 0o644)
os.unlink("sub/link", dir_fd=d)
os.unlink("sub/moved.txt", dir_fd=d)
os.rmdir("sub", dir_fd=d)
"#,
        d = dir.display().to_string()
    );
    let trace = compare("*at calls", &dir, &["python3", "-B", "-c", &script]);
    let wanted = |p: &str, access: &str| {
        let path = format!("{}/{p}", dir.display());
        trace
            .files
            .iter()
            .any(|f| f.path == path && f.access.as_str() == access && f.ok())
    };
    assert!(wanted("created.txt", "create"), "{:#?}", trace.files);
    assert!(wanted("sub", "create"));
    assert!(wanted("sub/moved.txt", "rename"));
    assert!(wanted("sub/moved.txt", "chattr"));
    assert!(wanted("relative.txt", "create"));
    assert!(wanted("sub/link", "delete"));
}

#[test]
fn statically_linked_binary() {
    if !privileged() {
        return;
    }
    let dir = scratch("static");
    let source = dir.join("keep").join("static.c");
    std::fs::create_dir_all(source.parent().expect("parent")).expect("mkdir");
    std::fs::write(
        &source,
        r#"
#include <fcntl.h>
#include <stdio.h>
#include <sys/wait.h>
#include <unistd.h>
int main(int argc, char **argv) {
    char buf[64];
    int fd = open("/etc/hostname", O_RDONLY);
    if (fd >= 0) { read(fd, buf, sizeof buf); close(fd); }
    fd = open(argv[1], O_CREAT | O_WRONLY | O_TRUNC, 0644);
    write(fd, "static\n", 7);
    close(fd);
    pid_t pid = fork();
    if (pid == 0) _exit(0);
    waitpid(pid, NULL, 0);
    return 0;
}
"#,
    )
    .expect("write source");
    let binary = dir.join("keep").join("static");
    let built = std::process::Command::new("gcc")
        .args(["-static", "-O1", "-o"])
        .arg(&binary)
        .arg(&source)
        .status()
        .expect("gcc must be installed for the static-binary test");
    assert!(
        built.success(),
        "gcc -static failed (is libc6-dev installed?)"
    );
    let out = dir.join("out.txt");
    let (binary, out) = (binary.display().to_string(), out.display().to_string());
    let trace = compare("static binary", &dir, &[&binary, &out]);
    let exec = trace.execs.iter().find(|e| e.path == binary).expect("exec");
    assert_eq!(
        exec.interpreter, None,
        "a static binary has no ELF interpreter"
    );
}
