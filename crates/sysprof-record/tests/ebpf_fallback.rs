//! Privileged: the fallback programs (classic tracepoints) are complete on their own. The
//! preferred `tp_btf` programs are turned off with `SYSPROF_EBPF_DISABLE`, so the fallbacks
//! are proven here although this kernel accepts the preferred ones.

mod ebpf_common;

use ebpf_common::*;
use sysprof_core::event::{Access, CapOrigin};

fn with_disabled<T>(programs: &str, f: impl FnOnce() -> T) -> T {
    let _guard = serial();
    // Every test of this binary holds the lock while the variable is set.
    std::env::set_var(sysprof_record::ebpf::loader::DISABLE_ENV, programs);
    let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(f));
    std::env::remove_var(sysprof_record::ebpf::loader::DISABLE_ENV);
    result.unwrap_or_else(|e| std::panic::resume_unwind(e))
}

#[test]
fn classic_tracepoints_give_the_same_syscalls_files_and_capabilities() {
    if !privileged() {
        return;
    }
    with_disabled("sys_enter_btf,cap_capable_btf,cgroup_mkdir_btf", || {
        let statuses = sysprof_record::ebpf::probe().expect("probe");
        let by_hook = |h: &str| statuses.iter().find(|s| s.hook == h).expect("hook");
        assert_eq!(
            by_hook("syscalls").attached.as_deref(),
            Some("tracepoint/raw_syscalls/sys_enter")
        );
        assert!(by_hook("syscalls").summary().contains("disabled by"));
        assert_eq!(
            by_hook("capabilities").attached.as_deref(),
            Some("tracepoint/capability/cap_capable")
        );
        assert_eq!(
            by_hook("cgroup-mkdir").attached.as_deref(),
            Some("tracepoint/cgroup/cgroup_mkdir")
        );

        let dir = tempfile::tempdir().expect("tempdir");
        let script = format!(
            "ls -l /usr/bin | sort > {d}/out; chown 65534 {d}/out; cat {d}/out > /dev/null",
            d = dir.path().display()
        );
        let argv = ["sh", "-c", script.as_str()];
        let rec = record_command(&argv);
        let view = strace(&argv);
        assert_eq!(syscall_names(&rec), view.syscalls);
        assert_eq!(files(&rec, &[Access::Write, Access::Create]), view.written);
        assert_eq!(files(&rec, &[Access::Exec]), view.executed);
        let caps = capabilities(&rec);
        assert_eq!(caps.into_iter().collect::<Vec<_>>(), ["CAP_CHOWN"]);
        assert!(rec
            .trace
            .capabilities
            .iter()
            .all(|c| c.origin == CapOrigin::Observed));
    });
}

#[test]
fn without_a_capability_hook_capabilities_are_inferred() {
    if !privileged() {
        return;
    }
    with_disabled("cap_capable_btf,cap_capable_tp", || {
        let rec = record_command(&[
            "python3",
            "-S",
            "-B",
            "-c",
            "import socket\ns = socket.socket()\ns.bind(('127.0.0.1', 1023))\n",
        ]);
        assert!(
            rec.warnings.iter().any(|w| w.contains("inferred")),
            "{:?}",
            rec.warnings
        );
        let caps: Vec<_> = rec
            .trace
            .capabilities
            .iter()
            .map(|c| (c.cap.0, c.origin))
            .collect();
        assert_eq!(caps, [(10, CapOrigin::Inferred)]);
    });
}
