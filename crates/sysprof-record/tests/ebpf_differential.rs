//! Privileged: the eBPF recorder sees the same syscalls and written/executed files as
//! `strace -f` on the same workloads.

mod ebpf_common;

use ebpf_common::*;
use std::collections::BTreeSet;
use sysprof_core::event::Access;

fn compare(name: &str, argv: &[&str]) {
    let _guard = serial();
    let rec = record_command(argv);
    let view = strace(argv);
    let ebpf = syscall_names(&rec);
    let only_ebpf: BTreeSet<_> = ebpf.difference(&view.syscalls).collect();
    let only_strace: BTreeSet<_> = view.syscalls.difference(&ebpf).collect();
    eprintln!(
        "{name}: {} syscalls; only eBPF {only_ebpf:?}; only strace {only_strace:?}",
        ebpf.len()
    );
    assert!(
        only_ebpf.is_empty() && only_strace.is_empty(),
        "{name}: syscall sets differ: only eBPF {only_ebpf:?}, only strace {only_strace:?}"
    );
    let written = files(&rec, &[Access::Write, Access::Create]);
    assert_eq!(written, view.written, "{name}: written/created files");
    let executed = files(&rec, &[Access::Exec]);
    assert_eq!(executed, view.executed, "{name}: executed files");
    assert!(
        rec.trace.meta.integrity.is_clean(),
        "{name}: {:?}",
        rec.trace.meta.integrity
    );
    assert_eq!(rec.trace.meta.integrity.events_lost, 0);
}

#[test]
fn coreutils_pipeline() {
    if !privileged() {
        return;
    }
    let dir = tempfile::tempdir().expect("tempdir");
    let out = dir.path().join("sorted.txt");
    let script = format!(
        "ls -l /usr/bin | sort -r | tail -n 20 > {}; wc -l < {} > /dev/null",
        out.display(),
        out.display()
    );
    compare("pipeline", &["sh", "-c", &script]);
}

#[test]
fn python_threads() {
    if !privileged() {
        return;
    }
    compare(
        "python threads",
        &[
            "python3",
            "-B",
            "-S",
            "-c",
            "import threading\n\
             def work():\n    sum(range(100000))\n\
             ts=[threading.Thread(target=work) for _ in range(4)]\n\
             [t.start() for t in ts]\n[t.join() for t in ts]\n",
        ],
    );
}

#[test]
fn fork_and_exec() {
    if !privileged() {
        return;
    }
    let dir = tempfile::tempdir().expect("tempdir");
    let script = format!(
        "(/bin/true); /bin/echo hello > {d}/a; cat {d}/a > {d}/b; env true",
        d = dir.path().display()
    );
    compare("fork+exec", &["sh", "-c", &script]);
}

#[test]
fn loopback_client_server() {
    if !privileged() {
        return;
    }
    compare(
        "loopback",
        &[
            "python3",
            "-B",
            "-S",
            "-c",
            "import socket, threading\n\
             srv = socket.socket(); srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)\n\
             srv.bind(('127.0.0.1', 0)); srv.listen(1)\n\
             def serve():\n    c, _ = srv.accept(); c.sendall(c.recv(64).upper()); c.close()\n\
             t = threading.Thread(target=serve); t.start()\n\
             cl = socket.create_connection(srv.getsockname()); cl.sendall(b'ping')\n\
             assert cl.recv(64) == b'PING'; cl.close(); t.join(); srv.close()\n",
        ],
    );
}

#[test]
fn at_calls() {
    if !privileged() {
        return;
    }
    let dir = tempfile::tempdir().expect("tempdir");
    let script = format!(
        "import os\n\
         d = os.open('{d}', os.O_RDONLY | os.O_DIRECTORY)\n\
         os.mkdir('sub', dir_fd=d)\n\
         f = os.open('sub/new.txt', os.O_WRONLY | os.O_CREAT, 0o644, dir_fd=d); os.write(f, b'x'); os.close(f)\n\
         os.rename('sub/new.txt', 'sub/renamed.txt', src_dir_fd=d, dst_dir_fd=d)\n\
         os.chmod('sub/renamed.txt', 0o600, dir_fd=d)\n\
         os.stat('sub/renamed.txt', dir_fd=d)\n\
         os.symlink('renamed.txt', 'sub/link', dir_fd=d)\n\
         os.unlink('sub/link', dir_fd=d); os.unlink('sub/renamed.txt', dir_fd=d)\n\
         os.rmdir('sub', dir_fd=d)\n",
        d = dir.path().display()
    );
    compare("*at calls", &["python3", "-B", "-S", "-c", &script]);
}

#[test]
fn static_binary() {
    if !privileged() {
        return;
    }
    let dir = tempfile::tempdir().expect("tempdir");
    let src = dir.path().join("s.c");
    let bin = dir.path().join("s");
    std::fs::write(
        &src,
        "#include <fcntl.h>\n#include <unistd.h>\n\
         int main(void) { int fd = open(\"/etc/hostname\", O_RDONLY); char b[64];\n\
         if (fd >= 0) { read(fd, b, sizeof b); close(fd); }\n\
         write(1, \"\", 0); return getppid() > 0 ? 0 : 1; }\n",
    )
    .expect("write source");
    let status = std::process::Command::new("gcc")
        .args(["-static", "-O2", "-o"])
        .arg(&bin)
        .arg(&src)
        .status()
        .expect("gcc runs (apt-get install gcc libc6-dev)");
    assert!(status.success(), "gcc -static failed");
    let bin = bin.to_string_lossy().into_owned();
    compare("static binary", &[&bin]);
}
