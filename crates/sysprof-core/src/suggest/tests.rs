//! Rule tests: each builds a small trace and checks the directive (or its absence) it leads to.

use super::*;
use crate::event::{Abi, Access, AddressOp, CapOrigin, Event, MapKind, Namespace};
use crate::trace::{Backend, Trace};

fn facts(version: u32) -> TargetFacts {
    TargetFacts {
        systemd_version: version,
        groups: SyscallGroups::embedded(version),
    }
}

fn base() -> Trace {
    let mut t = Trace::new("x86_64");
    t.meta.backends.insert(Backend::Ptrace);
    for name in [
        "read",
        "write",
        "openat",
        "close",
        "execve",
        "exit_group",
        "mmap",
    ] {
        t.record(Event::Syscall {
            abi: Abi::X86_64,
            name: name.into(),
        });
    }
    t.record(Event::Exec {
        path: "/usr/bin/true".into(),
        interpreter: None,
    });
    t
}

fn file(t: &mut Trace, path: &str, access: Access) {
    t.record(Event::File {
        path: path.into(),
        access,
        outcome: Ok(()),
    });
}

fn run(t: &Trace, level: Level) -> Suggestion {
    suggest(t, &facts(252), SuggestOptions { level })
}

/// The effective (last) value of `key`.
fn value<'a>(s: &'a Suggestion, key: &str) -> Option<&'a str> {
    s.directives
        .iter()
        .rfind(|d| d.key == key)
        .map(|d| d.value.as_str())
}

/// The non-empty values of `key`, in order (the empty reset line is left out).
fn values<'a>(s: &'a Suggestion, key: &str) -> Vec<&'a str> {
    s.directives
        .iter()
        .filter(|d| d.key == key && !d.value.is_empty())
        .map(|d| d.value.as_str())
        .collect()
}

fn omitted(s: &Suggestion, key: &str) -> bool {
    s.omitted.iter().any(|o| o.key == key)
}

#[test]
fn quiet_program_gets_the_full_sandbox() {
    let s = run(&base(), Level::Strict);
    let expected = [
        ("SystemCallErrorNumber", "EPERM"),
        ("SystemCallArchitectures", "native"),
        ("CapabilityBoundingSet", ""),
        ("NoNewPrivileges", "yes"),
        ("ProtectSystem", "strict"),
        ("ReadOnlyPaths", "-/run"),
        ("NoExecPaths", "/ -/dev -/tmp -/var/tmp"),
        ("PrivateTmp", "yes"),
        ("ProtectHome", "yes"),
        ("PrivateDevices", "yes"),
        ("ProtectKernelTunables", "yes"),
        ("ProtectKernelModules", "yes"),
        ("ProtectKernelLogs", "yes"),
        ("ProtectControlGroups", "yes"),
        ("ProtectClock", "yes"),
        ("ProtectHostname", "yes"),
        ("ProtectProc", "invisible"),
        ("ProcSubset", "pid"),
        ("RestrictAddressFamilies", "none"),
        ("PrivateNetwork", "yes"),
        ("IPAddressDeny", "any"),
        ("RestrictNamespaces", "yes"),
        ("RestrictRealtime", "yes"),
        ("RestrictSUIDSGID", "yes"),
        ("LockPersonality", "yes"),
        ("MemoryDenyWriteExecute", "yes"),
        ("PrivateMounts", "yes"),
        ("UMask", "0077"),
    ];
    for (key, want) in expected {
        assert_eq!(value(&s, key), Some(want), "{key}");
    }
    assert!(
        omitted(&s, "PrivateUsers"),
        "ptrace evidence cannot prove no capability"
    );
    assert_eq!(
        value(&s, "ExecPaths"),
        Some("-/lib64/ld-linux-x86-64.so.2 -/usr/bin/true")
    );
    assert_eq!(
        value(&s, "BindReadOnlyPaths"),
        Some("-/lib64/ld-linux-x86-64.so.2 -/usr/bin/true")
    );
}

#[test]
fn strict_filter_lists_names_outside_default() {
    let s = run(&base(), Level::Strict);
    assert_eq!(values(&s, "SystemCallFilter"), ["close openat read write"]);
}

#[test]
fn groups_filter_removes_only_unused_scored_groups() {
    let mut t = base();
    t.record(Event::Syscall {
        abi: Abi::X86_64,
        name: "setrlimit".into(),
    });
    t.record(Event::Syscall {
        abi: Abi::X86_64,
        name: "ptrace".into(),
    });
    let s = run(&t, Level::Groups);
    let lines = values(&s, "SystemCallFilter");
    assert_eq!(lines, ["@system-service ptrace", "~@privileged"]);
}

#[test]
fn syscalls_unknown_to_the_target_are_dropped_with_a_warning() {
    let mut t = base();
    t.record(Event::Syscall {
        abi: Abi::X86_64,
        name: "mseal".into(),
    });
    let s = run(&t, Level::Strict);
    assert!(!values(&s, "SystemCallFilter").concat().contains("mseal"));
    assert!(
        s.warnings.iter().any(|w| w.contains("mseal")),
        "{:?}",
        s.warnings
    );
}

#[test]
fn foreign_abi_keeps_its_architecture() {
    let mut t = base();
    t.record(Event::Syscall {
        abi: Abi::I386,
        name: "read".into(),
    });
    let s = run(&t, Level::Strict);
    assert_eq!(value(&s, "SystemCallArchitectures"), Some("native x86"));
}

#[test]
fn capabilities_become_the_bounding_set() {
    let mut t = base();
    for cap in [13, 10] {
        t.record(Event::Capability {
            cap,
            origin: CapOrigin::Inferred,
            syscall: Some("bind".into()),
        });
    }
    let s = run(&t, Level::Strict);
    assert_eq!(
        value(&s, "CapabilityBoundingSet"),
        Some("CAP_NET_BIND_SERVICE CAP_NET_RAW")
    );
}

#[test]
fn writes_map_to_managed_directories_and_read_write_paths() {
    let mut t = base();
    file(&mut t, "/var/lib/redis/dump.rdb", Access::Create);
    file(&mut t, "/var/log/nginx/access.log", Access::Write);
    file(&mut t, "/run/nginx/nginx.pid", Access::Create);
    file(&mut t, "/srv/data/upload.bin", Access::Create);
    file(&mut t, "/srv/data/sub/x", Access::Write);
    file(&mut t, "/etc/app.conf", Access::Write);
    file(&mut t, "/run/lock/app.lock", Access::Create);
    file(&mut t, "/dev/null", Access::Write);
    let s = run(&t, Level::Strict);
    assert_eq!(value(&s, "StateDirectory"), Some("redis"));
    assert_eq!(value(&s, "LogsDirectory"), Some("nginx"));
    assert_eq!(value(&s, "RuntimeDirectory"), Some("nginx"));
    assert_eq!(
        value(&s, "ReadWritePaths"),
        Some("-/etc/app.conf -/run/lock -/srv/data")
    );
}

#[test]
fn hostile_paths_are_escaped_and_cannot_inject_directives() {
    let mut t = base();
    file(
        &mut t,
        "/srv/a b/%n\"q'\\\nExecStart=/bin/evil",
        Access::Write,
    );
    let s = run(&t, Level::Strict);
    let text = s.render_dropin(&["hdr\nInjected=1".into()], true);
    for line in text.lines() {
        assert!(
            line.starts_with('#')
                || line.starts_with('[')
                || line.is_empty()
                || line
                    .split('=')
                    .next()
                    .is_some_and(|k| { MIN_VERSIONS.iter().any(|(known, _)| *known == k) }),
            "unexpected line {line:?} in\n{text}"
        );
    }
    // Path settings cannot hold a newline: the path is left out, loudly.
    assert!(value(&s, "ReadWritePaths").is_none());
    assert!(
        s.warnings.iter().any(|w| w.contains("left out")),
        "{:?}",
        s.warnings
    );

    let mut t = base();
    file(&mut t, "/srv/a b/100%n \"q\"", Access::Write);
    let s = run(&t, Level::Strict);
    assert_eq!(
        value(&s, "ReadWritePaths"),
        Some("-\"/srv/a b/100%%n \\\"q\\\"\"")
    );
}

#[test]
fn tmp_home_and_device_evidence_turn_directives_off() {
    let mut t = base();
    file(&mut t, "/tmp/.X11-unix/X0", Access::Read);
    file(&mut t, "/root/.config/app", Access::Read);
    file(&mut t, "/dev/sda", Access::Read);
    let s = run(&t, Level::Strict);
    assert!(omitted(&s, "PrivateTmp"));
    assert_eq!(value(&s, "ProtectHome"), Some("read-only"));
    assert!(omitted(&s, "PrivateDevices"));

    let mut own_tmp = base();
    file(&mut own_tmp, "/tmp/work", Access::Create);
    file(&mut own_tmp, "/tmp/work", Access::Read);
    assert_eq!(
        value(&run(&own_tmp, Level::Strict), "PrivateTmp"),
        Some("yes")
    );
}

#[test]
fn failed_accesses_are_not_evidence() {
    let mut t = base();
    t.record(Event::File {
        path: "/root/.pythonrc".into(),
        access: Access::Read,
        outcome: Err("ENOENT".into()),
    });
    assert_eq!(value(&run(&t, Level::Strict), "ProtectHome"), Some("yes"));
}

#[test]
fn network_rules_follow_sockets_and_addresses() {
    let mut t = base();
    t.record(Event::Socket {
        family: "AF_INET".into(),
        sock_type: "SOCK_STREAM".into(),
        protocol: "IPPROTO_TCP".into(),
        outcome: Ok(()),
    });
    t.record(Event::Address {
        op: AddressOp::Bind,
        family: "AF_INET".into(),
        address: "127.0.0.1:8080".into(),
        outcome: Ok(()),
    });
    let s = run(&t, Level::Strict);
    assert_eq!(value(&s, "RestrictAddressFamilies"), Some("AF_INET"));
    assert!(omitted(&s, "PrivateNetwork"));
    assert_eq!(value(&s, "IPAddressAllow"), Some("localhost"));

    t.record(Event::Address {
        op: AddressOp::Bind,
        family: "AF_INET".into(),
        address: "0.0.0.0:80".into(),
        outcome: Ok(()),
    });
    let s = run(&t, Level::Strict);
    assert!(omitted(&s, "IPAddressDeny"));
    assert!(value(&s, "IPAddressAllow").is_none());
}

#[test]
fn behaviour_switches_off_matching_restrictions() {
    let mut t = base();
    t.record(Event::Namespace {
        syscall: "unshare".into(),
        kinds: vec![Namespace::Net, Namespace::User],
        outcome: Ok(()),
    });
    t.record(Event::Personality {
        persona: 0x0040_0000,
    });
    t.record(Event::Memory {
        kind: MapKind::ExecGain,
        syscall: "mprotect".into(),
        outcome: Ok(()),
    });
    t.record(Event::Realtime {
        syscall: "sched_setscheduler".into(),
        policy: "SCHED_FIFO".into(),
    });
    t.record(Event::Syscall {
        abi: Abi::X86_64,
        name: "clock_settime".into(),
    });
    let s = run(&t, Level::Strict);
    assert_eq!(value(&s, "RestrictNamespaces"), Some("net user"));
    for key in [
        "LockPersonality",
        "MemoryDenyWriteExecute",
        "RestrictRealtime",
        "ProtectClock",
    ] {
        assert!(omitted(&s, key), "{key} should be omitted");
    }
}

#[test]
fn directives_newer_than_the_target_are_not_emitted() {
    let s = suggest(
        &base(),
        &facts(240),
        SuggestOptions {
            level: Level::Strict,
        },
    );
    for key in [
        "ProtectClock",
        "ProtectKernelLogs",
        "ExecPaths",
        "ProtectProc",
        "ProtectHostname",
    ] {
        assert!(value(&s, key).is_none(), "{key} emitted for systemd 240");
        assert!(omitted(&s, key), "{key} not explained");
    }
    assert_eq!(value(&s, "RestrictAddressFamilies"), Some("AF_UNIX"));
}

#[test]
fn ebpf_evidence_without_capabilities_allows_private_users() {
    let mut t = base();
    t.meta.backends = [Backend::Ebpf].into();
    assert_eq!(value(&run(&t, Level::Strict), "PrivateUsers"), Some("yes"));
}

#[test]
fn output_is_deterministic() {
    let mut t = base();
    file(&mut t, "/srv/b", Access::Write);
    file(&mut t, "/srv/a", Access::Write);
    let a = run(&t, Level::Groups).render_dropin(&[], true);
    let b = run(&t.clone(), Level::Groups).render_dropin(&[], true);
    assert_eq!(a, b);
}

#[test]
fn shared_tmp_writes_become_read_write_paths() {
    let mut t = base();
    file(&mut t, "/tmp/out/a", Access::Write);
    let s = run(&t, Level::Strict);
    assert!(omitted(&s, "PrivateTmp"));
    assert_eq!(value(&s, "ReadWritePaths"), Some("-/tmp/out/a"));

    let mut own = base();
    file(&mut own, "/tmp/out", Access::Create);
    file(&mut own, "/tmp/out/a", Access::Write);
    let s = run(&own, Level::Strict);
    assert_eq!(value(&s, "PrivateTmp"), Some("yes"));
    assert_eq!(value(&s, "ReadWritePaths"), None);
}

#[test]
fn list_settings_are_reset_before_they_are_set() {
    let mut t = base();
    t.record(Event::Syscall {
        abi: Abi::X86_64,
        name: "clone".into(),
    });
    t.record(Event::Capability {
        cap: 10,
        origin: CapOrigin::Inferred,
        syscall: Some("bind".into()),
    });
    let s = run(&t, Level::Strict);
    for key in [
        "SystemCallFilter",
        "CapabilityBoundingSet",
        "ExecPaths",
        "RestrictAddressFamilies",
    ] {
        let first = s
            .directives
            .iter()
            .find(|d| d.key == key)
            .map(|d| d.value.as_str());
        assert_eq!(first, Some(""), "{key} is not reset first");
    }
    assert!(values(&s, "SystemCallFilter").concat().contains("clone3"));
}

#[test]
fn unit_recordings_warn_about_lifecycle_phases_never_seen() {
    use crate::trace::{Phase, Target};
    let mut trace = Trace::new("x86_64");
    trace
        .meta
        .targets
        .insert(Target::Unit("nginx.service".into()));
    trace
        .meta
        .lifecycle
        .phases
        .extend([Phase::Start, Phase::Reload]);
    let s = suggest(
        &trace,
        &facts(252),
        SuggestOptions {
            level: Level::Strict,
        },
    );
    let warning = s
        .warnings
        .iter()
        .find(|w| w.contains("never saw"))
        .expect("a coverage warning");
    assert!(warning.contains("cold-start, stop"), "{warning}");
    assert!(!warning.contains("reload"), "{warning}");

    trace.meta.lifecycle.phases.extend(Phase::ALL);
    let s = suggest(
        &trace,
        &facts(252),
        SuggestOptions {
            level: Level::Strict,
        },
    );
    assert!(!s.warnings.iter().any(|w| w.contains("never saw")));

    let mut command = Trace::new("x86_64");
    command
        .meta
        .targets
        .insert(Target::Command(vec!["/bin/true".into()]));
    let s = suggest(
        &command,
        &facts(252),
        SuggestOptions {
            level: Level::Strict,
        },
    );
    assert!(!s.warnings.iter().any(|w| w.contains("never saw")));
}

#[test]
fn directories_the_service_chowns_stay_its_own() {
    // apachectl-like: the service creates /run/probe and hands it to another user; as a
    // RuntimeDirectory= systemd would chown it back before every command.
    let mut t = base();
    file(&mut t, "/run/probe", Access::Create);
    file(&mut t, "/run/probe", Access::Chattr);
    file(&mut t, "/run/probe/socks.1", Access::Create);
    file(&mut t, "/run/other/x.pid", Access::Create);
    let s = run(&t, Level::Strict);
    assert_eq!(value(&s, "RuntimeDirectory"), Some("other"));
    assert_eq!(value(&s, "ReadWritePaths"), Some("-/run"));
}

/// Found by the e2e probe `nnp`: a service that runs as nobody and execs set-id programs got
/// no `NoNewPrivileges=` but seccomp-based directives, which make systemd set no_new_privs
/// anyway for a unit that is not root, and `PrivateUsers=`, whose namespace does not map the
/// `shadow` group of set-gid chage: both programs lost their privileges.
#[test]
fn set_id_programs_keep_seccomp_and_user_namespaces_out() {
    for program in ["/usr/bin/passwd", "/usr/bin/chage"] {
        let mut t = base();
        t.meta.backends = [Backend::Ebpf].into();
        t.record(Event::Exec {
            path: program.into(),
            interpreter: None,
        });
        let s = run(&t, Level::Strict);
        for key in [
            "NoNewPrivileges",
            "PrivateUsers",
            "SystemCallFilter",
            "SystemCallErrorNumber",
            "SystemCallArchitectures",
            "RestrictAddressFamilies",
            "RestrictNamespaces",
            "RestrictRealtime",
            "RestrictSUIDSGID",
            "LockPersonality",
            "MemoryDenyWriteExecute",
            "PrivateDevices",
            "ProtectClock",
            "ProtectHostname",
            "ProtectKernelTunables",
            "ProtectKernelModules",
            "ProtectKernelLogs",
        ] {
            assert!(value(&s, key).is_none(), "{program}: {key} emitted");
            assert!(omitted(&s, key), "{program}: {key} not explained");
        }
        // What does not involve seccomp or a user namespace stays.
        assert_eq!(value(&s, "ProtectSystem"), Some("strict"), "{program}");
        assert_eq!(value(&s, "ProtectControlGroups"), Some("yes"), "{program}");
        assert_eq!(value(&s, "CapabilityBoundingSet"), Some(""), "{program}");
    }
    // Without a set-id program the seccomp-based directives are there.
    let s = run(&base(), Level::Strict);
    assert_eq!(value(&s, "NoNewPrivileges"), Some("yes"));
    assert_eq!(value(&s, "RestrictSUIDSGID"), Some("yes"));
}

/// Found by the e2e probe `proc`: a service running as nobody that reads /proc/1/status got
/// `ProtectProc=invisible`, which hides root's processes from it.
#[test]
fn looking_at_processes_keeps_protect_proc_out() {
    for path in ["/proc/1/status", "/proc/4242/stat", "/proc"] {
        let mut t = base();
        file(&mut t, path, Access::Read);
        let s = run(&t, Level::Strict);
        assert!(value(&s, "ProtectProc").is_none(), "{path}");
        assert!(omitted(&s, "ProtectProc"), "{path}");
    }
    // /proc/self as strace shows it, and other /proc files, are no reason.
    let mut t = base();
    file(&mut t, "/proc/self/status", Access::Read);
    file(&mut t, "/proc/meminfo", Access::Read);
    assert_eq!(
        value(&run(&t, Level::Strict), "ProtectProc"),
        Some("invisible")
    );
    // With CAP_SYS_PTRACE the processes it can trace stay visible.
    let mut t = base();
    file(&mut t, "/proc/1/status", Access::Read);
    t.record(Event::Capability {
        cap: 19,
        origin: CapOrigin::Observed,
        syscall: None,
    });
    assert_eq!(
        value(&run(&t, Level::Strict), "ProtectProc"),
        Some("ptraceable")
    );
}

/// Found while building the `sysctl` probe: `ProtectKernelTunables=` also makes /proc/irq,
/// /proc/bus, /proc/fs and others read-only, so writes there (irqbalance) rule it out.
#[test]
fn writes_to_any_proc_tunable_keep_protect_kernel_tunables_out() {
    for path in [
        "/proc/irq/default_smp_affinity",
        "/proc/irq/24/smp_affinity",
        "/proc/bus/pci/00/00.0",
        "/proc/fs/nfsd/threads",
        "/proc/sys/vm/swappiness",
        "/proc/sysrq-trigger",
    ] {
        let mut t = base();
        file(&mut t, path, Access::Write);
        let s = run(&t, Level::Strict);
        assert!(omitted(&s, "ProtectKernelTunables"), "{path}");
    }
    let mut t = base();
    file(&mut t, "/proc/irq/default_smp_affinity", Access::Read);
    file(&mut t, "/proc/interrupts", Access::Read);
    assert_eq!(
        value(&run(&t, Level::Strict), "ProtectKernelTunables"),
        Some("yes")
    );
}

/// The drop-in's own mounts, as systemd 252 builds them.
fn table_of(s: &Suggestion) -> crate::unit::MountTable {
    let unit = crate::unit::parse_unit("sysprof.conf", &s.render_dropin(&[], false))
        .expect("the drop-in parses");
    crate::unit::Policy::from_units(&[unit], &SyscallGroups::embedded(252)).mount_table()
}

#[test]
fn every_writable_mount_is_listed_in_no_exec_paths() {
    let mut t = base();
    for (path, access) in [
        ("/srv/data/new", Access::Create),
        ("/srv/app.log", Access::Write),
        ("/var/lib/app/db", Access::Create),
        ("/var/cache/app/c", Access::Create),
        ("/var/log/app/l", Access::Create),
        ("/run/app/pid", Access::Create),
        ("/tmp/own", Access::Create),
        // Pre-existing and only run: ExecPaths= lists it, its mount can be noexec.
        ("/var/lib/app/bin/tool", Access::Exec),
    ] {
        file(&mut t, path, access);
    }
    let s = run(&t, Level::Strict);
    assert_eq!(
        value(&s, "NoExecPaths"),
        Some(
            "/ -/dev -/run/app -/srv/app.log -/srv/data -/tmp -/var/cache/app -/var/lib/app -/var/log/app -/var/tmp"
        )
    );
    assert!(values(&s, "ExecPaths")[0].contains("-/var/lib/app/bin/tool"));
    assert!(value(&s, "BindReadOnlyPaths").is_some_and(|v| v.contains("-/var/lib/app/bin/tool")));
    let table = table_of(&s);
    assert!(
        table.writable_executable().is_empty(),
        "{:?}",
        table.writable_executable()
    );
    for copy in [
        "/srv/data/copy",
        "/srv/app.log",
        "/var/lib/app/copy",
        "/var/cache/app/copy",
        "/var/log/app/copy",
        "/run/app/copy",
        "/tmp/copy",
        "/var/tmp/copy",
        "/dev/shm/copy",
    ] {
        let state = table.lookup(copy);
        assert!(state.noexec.is_some(), "{copy}: {state:?}");
        assert_eq!(state.read_only, None, "{copy} is writable");
    }
    for program in [
        "/usr/bin/true",
        "/var/lib/app/bin/tool",
        "/lib64/ld-linux-x86-64.so.2",
    ] {
        let state = table.lookup(program);
        assert_eq!(state.noexec, None, "{program} runs");
        assert!(state.read_only.is_some(), "{program} cannot be overwritten");
    }
    assert!(s.warnings.is_empty(), "{:?}", s.warnings);
}

#[test]
fn a_mount_holding_what_the_service_writes_and_runs_stays_executable() {
    let mut t = base();
    file(&mut t, "/var/lib/app/plugin.so", Access::Create);
    file(&mut t, "/var/lib/app/plugin.so", Access::MmapExec);
    file(&mut t, "/tmp/helper.sh", Access::Create);
    t.record(Event::Exec {
        path: "/tmp/helper.sh".into(),
        interpreter: Some("/usr/bin/dash".into()),
    });
    let s = run(&t, Level::Strict);
    let no_exec = value(&s, "NoExecPaths").expect("emitted");
    assert_eq!(no_exec, "/ -/dev -/var/tmp");
    assert_eq!(s.keep_exec, ["/tmp/helper.sh", "/var/lib/app/plugin.so"]);
    assert_eq!(s.warnings.len(), 2, "{:?}", s.warnings);
    let read_only = value(&s, "BindReadOnlyPaths").expect("emitted");
    assert!(!read_only.contains("plugin.so") && !read_only.contains("helper.sh"));
    assert!(read_only.contains("-/usr/bin/dash"));
    let table = table_of(&s);
    assert_eq!(table.lookup("/var/lib/app/plugin.so").noexec, None);
    assert_eq!(table.lookup("/tmp/helper.sh").noexec, None);
    assert_eq!(table.lookup("/var/lib/app/plugin.so").read_only, None);
}

#[test]
fn homes_and_dev_left_writable_are_listed_too() {
    let mut t = base();
    file(&mut t, "/home/u/out", Access::Create);
    file(&mut t, "/dev/net/tun", Access::Read);
    let s = run(&t, Level::Strict);
    assert!(omitted(&s, "ProtectHome") && omitted(&s, "PrivateDevices"));
    assert_eq!(
        value(&s, "NoExecPaths"),
        Some("/ -/dev -/home -/root -/run/user -/tmp -/var/tmp")
    );
    assert!(table_of(&s).writable_executable().is_empty());
}

#[test]
fn run_is_read_only_and_noexec_unless_the_service_writes_there() {
    // ProtectKernelTunables= mounts the API file systems, which leaves /run writable and
    // executable in systemd 252: ReadOnlyPaths=-/run puts it back under the read-only /.
    let s = run(&base(), Level::Strict);
    assert_eq!(value(&s, "ProtectKernelTunables"), Some("yes"));
    assert_eq!(value(&s, "ReadOnlyPaths"), Some("-/run"));
    let table = table_of(&s);
    assert!(table.lookup("/run/x").read_only.is_some());
    assert!(table.lookup("/run/x").noexec.is_some());

    // A pid file created directly in /run makes /run writable: it is listed noexec instead.
    let mut t = base();
    file(&mut t, "/run/app.pid", Access::Create);
    let s = run(&t, Level::Strict);
    assert_eq!(value(&s, "ReadWritePaths"), Some("-/run"));
    assert_eq!(value(&s, "ReadOnlyPaths"), None);
    assert_eq!(
        value(&s, "NoExecPaths"),
        Some("/ -/dev -/run -/tmp -/var/tmp")
    );
    let table = table_of(&s);
    assert_eq!(table.lookup("/run/x").read_only, None);
    assert!(table.lookup("/run/x").noexec.is_some());
}
