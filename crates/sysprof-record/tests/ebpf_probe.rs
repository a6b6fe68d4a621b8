//! Privileged: every hook of the eBPF backend loads and attaches on this kernel.

mod ebpf_common;

#[test]
fn every_hook_loads_here() {
    if !ebpf_common::privileged() {
        return;
    }
    let statuses = sysprof_record::ebpf::probe().expect("probe");
    for s in &statuses {
        eprintln!("{}", s.summary());
    }
    for s in &statuses {
        assert!(s.ok(), "hook not attached: {}", s.summary());
    }
    let syscalls = statuses
        .iter()
        .find(|s| s.hook == "syscalls")
        .expect("syscalls hook");
    assert_eq!(syscalls.attached.as_deref(), Some("tp_btf/sys_enter"));
}
