//! Privileged: the rest of the event vocabulary — namespaces, personality, realtime, W+X and
//! exec-gaining mappings, set-id modes, device nodes, mounts, addresses, /proc/sys writes,
//! scripts — as the kernel reports it.

mod ebpf_common;

use ebpf_common::*;
use sysprof_core::event::{Access, AddressOp, DeviceKind, MapKind, Namespace};

const WORKLOAD: &str = r#"
import ctypes, mmap, os, socket, sys
d = sys.argv[1]
libc = ctypes.CDLL(None, use_errno=True)
libc.mmap.restype = ctypes.c_void_p
libc.mmap.argtypes = [ctypes.c_void_p, ctypes.c_size_t, ctypes.c_int, ctypes.c_int, ctypes.c_int, ctypes.c_long]
libc.mprotect.argtypes = [ctypes.c_void_p, ctypes.c_size_t, ctypes.c_int]
# A new UTS namespace, where changing the host name touches nothing outside.
assert libc.unshare(0x04000000) == 0
with open('/proc/sys/kernel/hostname', 'w') as f:
    f.write('sysprof-test')
assert libc.personality(0x0040000) != -1          # ADDR_NO_RANDOMIZE
class Param(ctypes.Structure):
    _fields_ = [('prio', ctypes.c_int)]
assert libc.sched_setscheduler(0, 1, ctypes.byref(Param(1))) == 0   # SCHED_FIFO
assert libc.sched_setscheduler(0, 0, ctypes.byref(Param(0))) == 0
wx = libc.mmap(None, 4096, 7, 0x22, -1, 0)          # PROT_READ|WRITE|EXEC, private anonymous
assert wx not in (None, ctypes.c_void_p(-1).value)
rw = libc.mmap(None, 4096, 3, 0x22, -1, 0)
assert libc.mprotect(rw, 4096, 5) == 0               # gains PROT_EXEC
open(d + '/suid', 'w').close()
os.chmod(d + '/suid', 0o4755)
os.mknod(d + '/null', 0o600 | 0o020000, os.makedev(1, 3))
os.mkdir(d + '/mnt')
assert libc.unshare(0x00020000) == 0                  # CLONE_NEWNS
assert libc.mount(b'none', b'/', None, 0x40000 | 0x4000, None) == 0   # MS_PRIVATE|MS_REC
assert libc.mount(b'tmpfs', (d + '/mnt').encode(), b'tmpfs', 0, None) == 0
assert libc.umount2((d + '/mnt').encode(), 0) == 0
s = socket.socket(); s.bind(('127.0.0.1', 0)); s.close()
u = socket.socket(socket.AF_UNIX); u.bind('\0sysprof-abstract'); u.close()
"#;

#[test]
fn the_whole_vocabulary_is_recorded() {
    if !privileged() {
        return;
    }
    let _guard = serial();
    let dir = tempfile::tempdir().expect("tempdir");
    let d = canonical(&dir.path().to_string_lossy());
    std::fs::write(dir.path().join("w.py"), WORKLOAD).expect("workload");
    let script = dir.path().join("run.sh");
    std::fs::write(&script, "#!/bin/sh\nexec python3 -S -B w.py \"$PWD\"\n").expect("script");
    std::process::Command::new("chmod")
        .args(["755", &script.to_string_lossy()])
        .status()
        .expect("chmod");
    let rec = record_command(&["sh", "-c", &format!("cd {d} && ./run.sh")]);
    assert_eq!(
        rec.exit,
        Some(sysprof_record::ChildExit::Code(0)),
        "workload failed"
    );
    let t = &rec.trace;

    let namespaces: Vec<_> = t
        .namespaces
        .iter()
        .map(|n| (n.syscall.as_str(), n.kind))
        .collect();
    assert!(
        namespaces.contains(&("unshare", Namespace::Uts)),
        "{namespaces:?}"
    );
    assert!(
        namespaces.contains(&("unshare", Namespace::Mnt)),
        "{namespaces:?}"
    );
    assert!(t.personalities.contains("0x40000"), "{:?}", t.personalities);
    assert!(
        t.realtime
            .iter()
            .any(|r| r.syscall == "sched_setscheduler" && r.policy == "SCHED_FIFO"),
        "{:?}",
        t.realtime
    );
    let memory: Vec<_> = t
        .memory
        .iter()
        .map(|m| (m.kind, m.syscall.as_str()))
        .collect();
    assert!(memory.contains(&(MapKind::WriteExec, "mmap")), "{memory:?}");
    assert!(
        memory.contains(&(MapKind::ExecGain, "mprotect")),
        "{memory:?}"
    );
    assert!(
        t.setid_modes.iter().any(|s| s.syscall == "chmod"
            && s.path.as_deref() == Some(&format!("{d}/suid"))
            && s.mode == "4755"),
        "{:?}",
        t.setid_modes
    );
    assert!(
        t.devices
            .iter()
            .any(|x| x.path == format!("{d}/null") && x.kind == DeviceKind::Char),
        "{:?}",
        t.devices
    );
    let mounts: Vec<_> = t
        .mounts
        .iter()
        .map(|m| (m.syscall.as_str(), m.target.clone()))
        .collect();
    assert!(
        mounts.contains(&("mount", Some(format!("{d}/mnt")))),
        "{mounts:?}"
    );
    assert!(
        mounts.contains(&("umount2", Some(format!("{d}/mnt")))),
        "{mounts:?}"
    );
    assert!(
        t.files
            .iter()
            .any(|f| f.path == "/proc/sys/kernel/hostname" && f.access == Access::Write),
        "write under /proc/sys missing"
    );
    let addresses: Vec<_> = t
        .addresses
        .iter()
        .map(|a| (a.op, a.family.as_str(), a.address.as_str()))
        .collect();
    assert!(
        addresses.contains(&(AddressOp::Bind, "AF_INET", "127.0.0.1:0")),
        "{addresses:?}"
    );
    assert!(
        addresses.contains(&(AddressOp::Bind, "AF_UNIX", "@sysprof-abstract")),
        "{addresses:?}"
    );
    // The script is recorded with its interpreter line; the interpreter binary is executed.
    assert!(
        t.execs
            .iter()
            .any(|e| e.path == format!("{d}/run.sh") && e.interpreter.as_deref() == Some("/bin/sh")),
        "{:?}",
        t.execs
    );
    assert!(t.meta.integrity.is_clean(), "{:?}", t.meta.integrity);
}

#[test]
fn a_path_longer_than_the_walk_buffer_is_counted_as_truncated() {
    if !privileged() {
        return;
    }
    let _guard = serial();
    let dir = tempfile::tempdir().expect("tempdir");
    // Six 200-byte components: longer than the 1024 bytes the kernel-side walk keeps.
    let mut deep = dir.path().to_path_buf();
    for i in 0..6 {
        deep.push(format!("{i}{}", "d".repeat(199)));
    }
    std::fs::create_dir_all(&deep).expect("deep dirs");
    let file = deep.join("f");
    std::fs::write(&file, "x").expect("deep file");
    let rec = record_command(&["cat", &file.to_string_lossy()]);
    assert_eq!(
        rec.trace.meta.integrity.paths_truncated, 1,
        "{:?}",
        rec.trace.meta.integrity
    );
    assert!(
        rec.warnings.iter().any(|w| w.contains("truncated")),
        "{:?}",
        rec.warnings
    );
    assert_eq!(rec.trace.meta.integrity.events_lost, 0);
    // The cut path is not recorded as if it were a real (shorter) absolute path.
    assert!(
        rec.trace.files.iter().all(|f| !f.path.ends_with("/f")),
        "a truncated path was recorded"
    );
}
