//! The probe phase of `cargo xtask e2e`: every directive `sysprof suggest` emits, proven in real systemd.

// For each directive there is a pair of tiny oneshot services (tests/e2e/probes/probe.py):
//
// - "needs" does what the directive forbids. It is recorded with `sysprof record --backend
//   ebpf --unit`; `sysprof suggest` must leave the directive out or emit it in a form that
//   allows the behaviour; with the drop-in installed the service must still succeed.
// - "free" does a harmless sibling of that behaviour (same interpreter, same kinds of
//   syscalls). sysprof must emit the directive, `systemctl show` must show it in force, the
//   service must succeed with it, and the same unit switched to its violating mode (a second
//   drop-in that only sets PROBE_MODE=violate) must be stopped.
//
// A violation can be stopped by another line of the drop-in first (an empty capability
// bounding set stops most privileged actions), so two more runs attribute the block: the
// "isolation" run takes the other directives that also stop it out of the drop-in, and must
// still be stopped, the way systemd documents for the directive; the "control" run also takes
// the directive under test out, and must then succeed. The control run is also what shows the
// action is possible at all in this guest.
//
// Recordings run in batches of concurrent recorders; runs of the hardened units are started
// together (one `systemctl start` per stage, one daemon-reload per stage).

use super::cmd;
use super::container::{Container, SHARE_IN_GUEST};
use super::leaks::BpfIds;
use super::recorder::Recording;
use super::scenario::{report, Check};
use anyhow::{Context, Result};
use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::path::Path;
use std::time::{Duration, Instant};
use sysprof_core::trace::{Backend, Trace};

/// The probe files in the workspace, copied to `probes/` in the share directory.
const PROBE_DIR: &str = "tests/e2e/probes";
const PROBE_FILES: &[&str] = &[
    "probe.py",
    "setup.sh",
    "probe.service.in",
    "probe-listener.service",
];
/// Recorders attaching at once. Attaching is CPU-bound (the verifier): on 2 CPUs eight take
/// about 3 s together, and a larger batch only makes every recorder wait longer.
const BATCH: usize = 8;
/// The recorders are stopped as soon as their units are done; this is only a safety limit.
const RECORD_LIMIT: Duration = Duration::from_secs(60);
const STEP: Duration = Duration::from_secs(30);
const START: Duration = Duration::from_secs(120);
/// Exit statuses of probe.py (see its docstring).
const EXIT_DENIED: u32 = 3;
const EXIT_BROKEN: u32 = 2;
const EXIT_ERRNO_BASE: u32 = 64;
/// Exit statuses from 200 up are systemd's own (it could not set the unit up).
const EXIT_SYSTEMD: u32 = 200;
/// Probes whose suggestion is made with `sysprof suggest -p UNIT`: their unit's own settings
/// (a writable path, a bind mount) must be taken into account.
const SUGGEST_WITH_UNIT: &[&str] = &["exec-writable"];

/// A check on a directive's value, in the drop-in or as `systemctl show` prints it.
#[derive(Debug, Clone, Copy)]
enum Want {
    /// Exactly this text.
    Is(&'static str),
    /// This word among the space-separated words.
    Has(&'static str),
    /// An allow-list (not empty, not `~…`) without this word.
    AllowsNot(&'static str),
}

impl Want {
    fn holds(self, value: &str) -> bool {
        let mut words = value.split_whitespace();
        match self {
            Want::Is(text) => value.trim() == text,
            Want::Has(word) => words.any(|w| w == word),
            Want::AllowsNot(word) => {
                !value.trim().is_empty() && !value.starts_with('~') && words.all(|w| w != word)
            }
        }
    }

    fn describe(self) -> String {
        match self {
            Want::Is("") => "empty".to_owned(),
            Want::Is(text) => format!("= {text}"),
            Want::Has(word) => format!("has {word}"),
            Want::AllowsNot(word) => format!("an allow-list without {word}"),
        }
    }
}

/// What sysprof must make of the needs side's trace.
struct Need {
    key: &'static str,
    /// `None`: not emitted; `Some`: emitted, and its value (list lines joined) passes.
    emitted: Option<Want>,
    /// The property as `systemctl show` prints it with the drop-in installed.
    shown: Want,
}

/// How a violation must end once only the directive under test stands in its way.
#[derive(Debug, Clone, Copy)]
enum Blocked {
    /// It fails with one of these errno values.
    Errno(&'static [&'static str]),
    /// The process is killed by this signal.
    Signal(u32),
    /// It runs but its effect is denied (probe.py exit status 3).
    Denied,
    /// It works inside the unit, but its result is not seen outside (a mount).
    Unseen,
}

impl Blocked {
    fn describe(self) -> String {
        match self {
            Blocked::Errno(names) => names.join("/"),
            Blocked::Signal(n) => format!("signal {n}"),
            Blocked::Denied => "denied".to_owned(),
            Blocked::Unseen => "not visible outside".to_owned(),
        }
    }
}

/// The free side of a probe.
struct Free {
    /// What the violating mode does.
    violation: &'static str,
    /// `[Service]` lines of the free unit (its vendor settings).
    unit: &'static [&'static str],
    /// Keys the drop-in must set, and how `systemctl show` must print them once installed.
    in_force: &'static [(&'static str, Want)],
    blocked: Blocked,
    /// Other directives of the drop-in that stop the violation too.
    co_blockers: &'static [&'static str],
    /// What the control run takes out besides the co-blockers: the directive under test.
    lift: &'static [&'static str],
    /// For a violation made of many attempts (probe.py prints `attempt PLACE WHAT: RESULT`
    /// lines to the share directory's `UNIT.out`): the places that must each be attempted.
    /// Every attempt must then be blocked, each place is a row of the table.
    attempts: &'static [&'static str],
    /// A run with the drop-in's `KEY=` lines replaced by `KEY=VALUE` (what sysprof emitted
    /// before a fix), in which the violation must work again: the fix is what blocks it.
    regress: Option<(&'static str, &'static str)>,
}

/// One directive probe: a unit that needs what the directive forbids, and one that does not.
struct Probe {
    name: &'static str,
    /// The directives it proves; the table has a row for each.
    directives: &'static [&'static str],
    /// What the needs side does.
    needs: &'static str,
    /// `[Service]` lines of the needs unit (its vendor settings).
    needs_unit: &'static [&'static str],
    need: &'static [Need],
    /// `None` for directives that grant rather than forbid.
    free: Option<Free>,
}

const fn absent(key: &'static str, shown: &'static str) -> Need {
    Need {
        key,
        emitted: None,
        shown: Want::Is(shown),
    }
}

const fn keeps_cap(cap: &'static str, shown: &'static str) -> Need {
    Need {
        key: "CapabilityBoundingSet",
        emitted: Some(Want::Has(cap)),
        shown: Want::Has(shown),
    }
}

const fn free(
    violation: &'static str,
    in_force: &'static [(&'static str, Want)],
    blocked: Blocked,
    co_blockers: &'static [&'static str],
    lift: &'static [&'static str],
) -> Option<Free> {
    Some(Free {
        violation,
        unit: &[],
        in_force,
        blocked,
        co_blockers,
        lift,
        attempts: &[],
        regress: None,
    })
}

const PROBES: &[Probe] = &[
    Probe {
        name: "syscall-filter",
        directives: &["SystemCallFilter", "SystemCallErrorNumber"],
        needs: "fdatasync(2), outside @default",
        needs_unit: &[],
        need: &[Need {
            key: "SystemCallFilter",
            emitted: Some(Want::Has("fdatasync")),
            shown: Want::Has("fdatasync"),
        }],
        free: free(
            "fdatasync(2)",
            &[
                ("SystemCallFilter", Want::AllowsNot("fdatasync")),
                ("SystemCallErrorNumber", Want::Is("1")),
            ],
            Blocked::Errno(&["EPERM"]),
            &[],
            &["SystemCallFilter"],
        ),
    },
    Probe {
        name: "arch",
        directives: &["SystemCallArchitectures"],
        needs: "getpid through int 0x80 (i386 ABI)",
        needs_unit: &[],
        need: &[Need {
            key: "SystemCallArchitectures",
            emitted: Some(Want::Has("x86")),
            shown: Want::Has("x86"),
        }],
        free: free(
            "getpid through int 0x80",
            &[("SystemCallArchitectures", Want::Is("native"))],
            Blocked::Signal(libc::SIGSYS as u32),
            &[],
            &["SystemCallArchitectures"],
        ),
    },
    Probe {
        name: "caps",
        directives: &["CapabilityBoundingSet"],
        needs: "bind 127.0.0.1:700 (CAP_NET_BIND_SERVICE)",
        needs_unit: &[],
        need: &[keeps_cap("CAP_NET_BIND_SERVICE", "cap_net_bind_service")],
        free: free(
            "bind 127.0.0.1:700",
            &[("CapabilityBoundingSet", Want::Is(""))],
            Blocked::Errno(&["EACCES"]),
            &["PrivateUsers"],
            &["CapabilityBoundingSet"],
        ),
    },
    Probe {
        name: "nnp",
        directives: &["NoNewPrivileges"],
        needs: "as nobody: chage -l (set-gid) and passwd -S (set-uid)",
        needs_unit: &["User=nobody"],
        need: &[absent("NoNewPrivileges", "no")],
        free: Some(Free {
            violation: "as nobody: chage -l nobody (set-gid shadow)",
            unit: &["User=nobody"],
            in_force: &[("NoNewPrivileges", Want::Is("yes"))],
            blocked: Blocked::Denied,
            co_blockers: &[
                "NoExecPaths",
                "ExecPaths",
                "SystemCallFilter",
                "RestrictAddressFamilies",
                "PrivateUsers",
            ],
            // For a unit that is not root, every seccomp option implies NoNewPrivileges=.
            lift: &[
                "NoNewPrivileges",
                "SystemCallArchitectures",
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
            ],
            attempts: &[],
            regress: None,
        }),
    },
    Probe {
        name: "fs",
        directives: &["ProtectSystem", "ReadWritePaths"],
        needs: "creates files in /srv/probe-fs/needs/, appends to /srv/probe-fs/needs.log",
        needs_unit: &[],
        need: &[
            Need {
                key: "ProtectSystem",
                emitted: Some(Want::Is("strict")),
                shown: Want::Is("strict"),
            },
            Need {
                key: "ReadWritePaths",
                emitted: Some(Want::Has("-/srv/probe-fs/needs")),
                shown: Want::Has("-/srv/probe-fs/needs"),
            },
            Need {
                key: "ReadWritePaths",
                emitted: Some(Want::Has("-/srv/probe-fs/needs.log")),
                shown: Want::Has("-/srv/probe-fs/needs.log"),
            },
        ],
        free: free(
            "append to /srv/probe-fs/free.txt",
            &[("ProtectSystem", Want::Is("strict"))],
            Blocked::Errno(&["EROFS"]),
            &[],
            &["ProtectSystem"],
        ),
    },
    Probe {
        name: "managed",
        directives: &[
            "StateDirectory",
            "CacheDirectory",
            "LogsDirectory",
            "RuntimeDirectory",
        ],
        needs: "writes below /var/lib, /var/cache, /var/log and /run",
        needs_unit: &[],
        need: &[
            Need {
                key: "StateDirectory",
                emitted: Some(Want::Is("probe-managed")),
                shown: Want::Is("probe-managed"),
            },
            Need {
                key: "CacheDirectory",
                emitted: Some(Want::Is("probe-managed")),
                shown: Want::Is("probe-managed"),
            },
            Need {
                key: "LogsDirectory",
                emitted: Some(Want::Is("probe-managed")),
                shown: Want::Is("probe-managed"),
            },
            Need {
                key: "RuntimeDirectory",
                emitted: Some(Want::Is("probe-managed")),
                shown: Want::Is("probe-managed"),
            },
        ],
        free: None,
    },
    Probe {
        name: "exec",
        directives: &["NoExecPaths", "ExecPaths"],
        needs: "runs /usr/bin/true",
        needs_unit: &[],
        need: &[
            Need {
                key: "NoExecPaths",
                emitted: Some(Want::Has("/")),
                shown: Want::Has("/"),
            },
            Need {
                key: "ExecPaths",
                emitted: Some(Want::Has("-/usr/bin/true")),
                shown: Want::Has("-/usr/bin/true"),
            },
        ],
        free: free(
            "runs /usr/bin/true",
            &[
                ("NoExecPaths", Want::Has("/")),
                ("ExecPaths", Want::AllowsNot("-/usr/bin/true")),
            ],
            Blocked::Errno(&["EACCES"]),
            &[],
            &["NoExecPaths", "ExecPaths"],
        ),
    },
    Probe {
        name: "exec-writable",
        directives: &["NoExecPaths", "BindReadOnlyPaths", "ReadOnlyPaths"],
        needs: "runs a script it wrote in its StateDirectory= and a copy of /usr/bin/true it made in /tmp",
        needs_unit: &[],
        need: &[
            Need {
                key: "NoExecPaths",
                emitted: Some(Want::AllowsNot("-/tmp")),
                shown: Want::AllowsNot("-/tmp"),
            },
            Need {
                key: "NoExecPaths",
                emitted: Some(Want::AllowsNot("-/var/lib/probe-exec-writable-needs")),
                shown: Want::AllowsNot("-/var/lib/probe-exec-writable-needs"),
            },
            Need {
                key: "NoExecPaths",
                emitted: Some(Want::Has("-/var/tmp")),
                shown: Want::Has("-/var/tmp"),
            },
        ],
        free: Some(Free {
            violation: "copies /usr/bin/true and a #!/bin/sh script into every writable place, \
                        runs them and maps the binary PROT_EXEC",
            // A place only its vendor unit grants (and only the violation writes to), and a
            // bind mount; `sysprof suggest -p` reads this unit (see SUGGEST_WITH_UNIT).
            unit: &[
                "ReadWritePaths=/srv/probe-exec/vendor-rw",
                "BindPaths=/srv/probe-exec/bind-src:/srv/probe-exec/bind",
                "StandardOutput=truncate:/harness/probe-exec-writable-free.out",
            ],
            in_force: &[
                ("NoExecPaths", Want::Has("/")),
                ("NoExecPaths", Want::Has("-/srv/probe-exec/rw")),
                ("NoExecPaths", Want::Has("-/srv/probe-exec/rw.bin")),
                ("NoExecPaths", Want::Has("-/srv/probe-exec/bind")),
                ("NoExecPaths", Want::Has("-/srv/probe-exec/vendor-rw")),
                ("NoExecPaths", Want::Has("-/var/lib/probe-exec-writable-free")),
                ("NoExecPaths", Want::Has("-/var/cache/probe-exec-writable-free")),
                ("NoExecPaths", Want::Has("-/var/log/probe-exec-writable-free")),
                ("NoExecPaths", Want::Has("-/run/probe-exec-writable-free")),
                ("NoExecPaths", Want::Has("-/tmp")),
                ("NoExecPaths", Want::Has("-/var/tmp")),
                ("NoExecPaths", Want::Has("-/dev")),
                ("ReadOnlyPaths", Want::Has("-/run")),
                (
                    "BindReadOnlyPaths",
                    Want::Has("-/usr/bin/true:/usr/bin/true:rbind"),
                ),
            ],
            blocked: Blocked::Errno(&["EACCES"]),
            co_blockers: &[],
            lift: &["NoExecPaths"],
            attempts: &[
                "/srv/probe-exec/rw",
                "/srv/probe-exec/rw.bin",
                "/srv/probe-exec/bind",
                "/srv/probe-exec/vendor-rw",
                "/var/lib/probe-exec-writable-free",
                "/var/cache/probe-exec-writable-free",
                "/var/log/probe-exec-writable-free",
                "/run/probe-exec-writable-free",
                "/tmp",
                "/var/tmp",
                "/dev/shm",
            ],
            regress: Some(("NoExecPaths", "/")),
        }),
    },
    Probe {
        name: "tmp",
        directives: &["PrivateTmp"],
        needs: "reads /tmp/probe-shared.txt (made by someone else)",
        needs_unit: &[],
        need: &[absent("PrivateTmp", "no")],
        free: free(
            "reads /tmp/probe-shared.txt",
            &[("PrivateTmp", Want::Is("yes"))],
            Blocked::Errno(&["ENOENT"]),
            &[],
            &["PrivateTmp"],
        ),
    },
    Probe {
        name: "home",
        directives: &["ProtectHome"],
        needs: "reads /home/probe/data.txt",
        needs_unit: &[],
        need: &[Need {
            key: "ProtectHome",
            emitted: Some(Want::Is("read-only")),
            shown: Want::Is("read-only"),
        }],
        free: free(
            "reads /home/probe/data.txt",
            &[("ProtectHome", Want::Is("yes"))],
            Blocked::Errno(&["EACCES", "ENOENT"]),
            &[],
            &["ProtectHome"],
        ),
    },
    Probe {
        name: "devices",
        directives: &["PrivateDevices"],
        needs: "opens /dev/net/tun",
        needs_unit: &[],
        need: &[absent("PrivateDevices", "no")],
        free: free(
            "opens /dev/net/tun",
            &[("PrivateDevices", Want::Is("yes"))],
            Blocked::Errno(&["ENOENT"]),
            &[],
            &["PrivateDevices"],
        ),
    },
    Probe {
        name: "sysctl",
        directives: &["ProtectKernelTunables"],
        needs: "writes /proc/sys/net/ipv4/tcp_keepalive_time, opens /proc/irq/default_smp_affinity for writing",
        // nspawn mounts /proc/irq read-only; a private procfs of the unit shows it as a host does.
        needs_unit: &["ProtectProc=invisible"],
        need: &[absent("ProtectKernelTunables", "no")],
        free: free(
            "writes /proc/sys/net/ipv4/tcp_keepalive_time",
            &[("ProtectKernelTunables", Want::Is("yes"))],
            Blocked::Errno(&["EROFS"]),
            &[],
            &["ProtectKernelTunables"],
        ),
    },
    Probe {
        name: "modules",
        directives: &["ProtectKernelModules"],
        needs: "reads /lib/modules/probe/modules.dep",
        needs_unit: &[],
        need: &[absent("ProtectKernelModules", "no")],
        free: free(
            "reads /lib/modules/probe/modules.dep",
            &[("ProtectKernelModules", Want::Is("yes"))],
            Blocked::Errno(&["EACCES", "ENOENT"]),
            &[],
            &["ProtectKernelModules"],
        ),
    },
    Probe {
        name: "kernel-logs",
        directives: &["ProtectKernelLogs"],
        needs: "syslog(SYSLOG_ACTION_SIZE_BUFFER)",
        needs_unit: &[],
        need: &[
            absent("ProtectKernelLogs", "no"),
            keeps_cap("CAP_SYSLOG", "cap_syslog"),
        ],
        free: free(
            "syslog(SYSLOG_ACTION_SIZE_BUFFER)",
            &[("ProtectKernelLogs", Want::Is("yes"))],
            Blocked::Errno(&["EPERM"]),
            &["SystemCallFilter", "CapabilityBoundingSet", "PrivateUsers"],
            &["ProtectKernelLogs"],
        ),
    },
    Probe {
        name: "cgroups",
        directives: &["ProtectControlGroups"],
        needs: "writes its PID to its own cgroup.procs",
        needs_unit: &[],
        need: &[absent("ProtectControlGroups", "no")],
        free: free(
            "writes its PID to its own cgroup.procs",
            &[("ProtectControlGroups", Want::Is("yes"))],
            Blocked::Errno(&["EROFS"]),
            &[],
            &["ProtectControlGroups"],
        ),
    },
    Probe {
        name: "clock",
        directives: &["ProtectClock"],
        needs: "adjtimex(2) with modes 0 (a read-only query)",
        needs_unit: &[],
        need: &[absent("ProtectClock", "no")],
        free: free(
            "adjtimex(2) with modes 0",
            &[("ProtectClock", Want::Is("yes"))],
            Blocked::Errno(&["EPERM"]),
            &["SystemCallFilter"],
            &["ProtectClock"],
        ),
    },
    Probe {
        name: "hostname",
        directives: &["ProtectHostname"],
        needs: "sethostname(2) to its current name",
        needs_unit: &[],
        need: &[
            absent("ProtectHostname", "no"),
            keeps_cap("CAP_SYS_ADMIN", "cap_sys_admin"),
        ],
        free: free(
            "sethostname(2) to its current name",
            &[("ProtectHostname", Want::Is("yes"))],
            Blocked::Errno(&["EPERM"]),
            &["SystemCallFilter", "CapabilityBoundingSet", "PrivateUsers"],
            &["ProtectHostname"],
        ),
    },
    Probe {
        name: "proc",
        directives: &["ProtectProc"],
        needs: "as nobody: reads /proc/1/status (a process of root)",
        needs_unit: &["User=nobody"],
        need: &[absent("ProtectProc", "default")],
        free: Some(Free {
            violation: "as nobody: reads /proc/1/status",
            unit: &["User=nobody"],
            in_force: &[("ProtectProc", Want::Is("invisible"))],
            blocked: Blocked::Errno(&["ENOENT"]),
            co_blockers: &[],
            lift: &["ProtectProc"],
            attempts: &[],
            regress: None,
        }),
    },
    Probe {
        name: "proc-subset",
        directives: &["ProcSubset"],
        needs: "reads /proc/meminfo",
        needs_unit: &[],
        need: &[absent("ProcSubset", "all")],
        free: free(
            "reads /proc/meminfo",
            &[("ProcSubset", Want::Is("pid"))],
            Blocked::Errno(&["ENOENT"]),
            &[],
            &["ProcSubset"],
        ),
    },
    Probe {
        name: "address-families",
        directives: &["RestrictAddressFamilies"],
        needs: "socket(AF_NETLINK)",
        needs_unit: &[],
        need: &[Need {
            key: "RestrictAddressFamilies",
            emitted: Some(Want::Has("AF_NETLINK")),
            shown: Want::Has("AF_NETLINK"),
        }],
        free: free(
            "socket(AF_NETLINK)",
            &[("RestrictAddressFamilies", Want::AllowsNot("AF_NETLINK"))],
            Blocked::Errno(&["EAFNOSUPPORT"]),
            &[],
            &["RestrictAddressFamilies"],
        ),
    },
    Probe {
        name: "private-network",
        directives: &["PrivateNetwork"],
        needs: "connects to an abstract socket bound outside the unit",
        needs_unit: &[],
        need: &[absent("PrivateNetwork", "no")],
        free: free(
            "connects to an abstract socket bound outside the unit",
            &[("PrivateNetwork", Want::Is("yes"))],
            Blocked::Errno(&["ECONNREFUSED"]),
            &[],
            &["PrivateNetwork"],
        ),
    },
    Probe {
        name: "ip-address",
        directives: &["IPAddressDeny", "IPAddressAllow"],
        needs: "connects to 192.0.2.1:7777 (not loopback)",
        needs_unit: &[],
        need: &[absent("IPAddressDeny", "")],
        free: free(
            "connects to 192.0.2.1:7777",
            &[
                ("IPAddressDeny", Want::Has("0.0.0.0/0")),
                ("IPAddressAllow", Want::Has("127.0.0.0/8")),
            ],
            Blocked::Errno(&["EPERM", "ETIMEDOUT"]),
            &[],
            &["IPAddressDeny", "IPAddressAllow"],
        ),
    },
    Probe {
        name: "namespaces",
        directives: &["RestrictNamespaces"],
        needs: "unshare(CLONE_NEWUSER)",
        needs_unit: &[],
        need: &[Need {
            key: "RestrictNamespaces",
            emitted: Some(Want::Is("user")),
            shown: Want::Is("user"),
        }],
        free: free(
            "unshare(CLONE_NEWUSER)",
            &[("RestrictNamespaces", Want::Is("yes"))],
            Blocked::Errno(&["EPERM"]),
            &[],
            &["RestrictNamespaces"],
        ),
    },
    Probe {
        name: "realtime",
        directives: &["RestrictRealtime"],
        needs: "sched_setscheduler(SCHED_FIFO)",
        needs_unit: &[],
        need: &[
            absent("RestrictRealtime", "no"),
            keeps_cap("CAP_SYS_NICE", "cap_sys_nice"),
        ],
        free: free(
            "sched_setscheduler(SCHED_FIFO)",
            &[("RestrictRealtime", Want::Is("yes"))],
            Blocked::Errno(&["EPERM"]),
            &["CapabilityBoundingSet", "PrivateUsers"],
            &["RestrictRealtime"],
        ),
    },
    Probe {
        name: "suid",
        directives: &["RestrictSUIDSGID"],
        needs: "chmod 4755 of a file it made",
        needs_unit: &[],
        need: &[absent("RestrictSUIDSGID", "no")],
        free: free(
            "chmod 4755 of a file it made",
            &[("RestrictSUIDSGID", Want::Is("yes"))],
            Blocked::Errno(&["EPERM"]),
            &[],
            &["RestrictSUIDSGID"],
        ),
    },
    Probe {
        name: "personality",
        directives: &["LockPersonality"],
        needs: "personality(ADDR_NO_RANDOMIZE)",
        needs_unit: &[],
        need: &[absent("LockPersonality", "no")],
        free: free(
            "personality(ADDR_NO_RANDOMIZE)",
            &[("LockPersonality", Want::Is("yes"))],
            Blocked::Errno(&["EPERM"]),
            &[],
            &["LockPersonality"],
        ),
    },
    Probe {
        name: "mdwe",
        directives: &["MemoryDenyWriteExecute"],
        needs: "mmap of a writable+executable page",
        needs_unit: &[],
        need: &[absent("MemoryDenyWriteExecute", "no")],
        free: free(
            "mmap of a writable+executable page",
            &[("MemoryDenyWriteExecute", Want::Is("yes"))],
            Blocked::Errno(&["EPERM"]),
            &[],
            &["MemoryDenyWriteExecute"],
        ),
    },
    Probe {
        name: "mounts",
        directives: &["PrivateMounts"],
        needs: "mounts a tmpfs (for itself) and unmounts it",
        needs_unit: &[],
        need: &[
            absent("PrivateMounts", "no"),
            keeps_cap("CAP_SYS_ADMIN", "cap_sys_admin"),
        ],
        free: free(
            "mounts a tmpfs on /mnt/probe-mounts-free and leaves it",
            &[("PrivateMounts", Want::Is("yes"))],
            Blocked::Unseen,
            // Every other directive that gives the unit a mount namespace of its own stops
            // its mounts from propagating to the host as well.
            &[
                "CapabilityBoundingSet",
                "PrivateUsers",
                "SystemCallFilter",
                "ProtectSystem",
                "ReadWritePaths",
                "NoExecPaths",
                "ExecPaths",
                "BindReadOnlyPaths",
                "ReadOnlyPaths",
                "PrivateTmp",
                "ProtectHome",
                "PrivateDevices",
                "ProtectKernelTunables",
                "ProtectKernelModules",
                "ProtectKernelLogs",
                "ProtectControlGroups",
                "ProtectProc",
                "ProcSubset",
            ],
            &["PrivateMounts"],
        ),
    },
    Probe {
        name: "private-users",
        directives: &["PrivateUsers"],
        needs: "reads a 0600 file of uid 4242 (CAP_DAC_READ_SEARCH)",
        needs_unit: &[],
        need: &[absent("PrivateUsers", "no")],
        free: free(
            "reads a 0600 file of uid 4242",
            &[("PrivateUsers", Want::Is("yes"))],
            Blocked::Errno(&["EACCES"]),
            &["CapabilityBoundingSet"],
            &["PrivateUsers"],
        ),
    },
    Probe {
        name: "umask",
        directives: &["UMask"],
        needs: "binds a socket file nobody connects to (the unit sets UMask=0000)",
        needs_unit: &["UMask=0000"],
        need: &[absent("UMask", "0000")],
        free: free(
            "creates a file with mode 0666 that others must read",
            &[("UMask", Want::Is("0077"))],
            Blocked::Denied,
            &[],
            &["UMask"],
        ),
    },
];

/// The probe names, for `--only probe-NAME`.
pub fn names() -> Vec<&'static str> {
    PROBES.iter().map(|p| p.name).collect()
}

/// The share-directory files the probes need: (source in the workspace, name in the share).
pub fn share_files() -> Vec<(String, String)> {
    PROBE_FILES
        .iter()
        .map(|f| (format!("{PROBE_DIR}/{f}"), format!("probes/{f}")))
        .collect()
}

/// How a run of a probe unit ended.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Ending {
    Ok,
    Denied,
    Errno(String),
    Signal(u32),
    /// probe.py could not do its job.
    Broken,
    /// systemd could not set the unit up (its own exit statuses, 200 and up).
    Setup(u32),
    /// Anything else (an unexpected exit status, an unknown state).
    Other(String),
}

impl Ending {
    fn describe(&self) -> String {
        match self {
            Ending::Ok => "succeeded".to_owned(),
            Ending::Denied => "ran, effect denied".to_owned(),
            Ending::Errno(name) => name.clone(),
            Ending::Signal(n) => format!("killed by signal {n}"),
            Ending::Broken => "probe broken (exit 2)".to_owned(),
            Ending::Setup(n) => format!("systemd could not start it (status {n})"),
            Ending::Other(what) => what.clone(),
        }
    }

    fn matches(&self, blocked: Blocked) -> bool {
        match (self, blocked) {
            (Ending::Errno(name), Blocked::Errno(names)) => names.contains(&name.as_str()),
            (Ending::Signal(n), Blocked::Signal(m)) => *n == m,
            (Ending::Denied, Blocked::Denied) => true,
            _ => false,
        }
    }
}

/// The errno names probe results are reported with.
const ERRNO_NAMES: &[(i32, &str)] = &[
    (libc::EPERM, "EPERM"),
    (libc::ENOENT, "ENOENT"),
    (libc::EIO, "EIO"),
    (libc::ENXIO, "ENXIO"),
    (libc::EBADF, "EBADF"),
    (libc::EAGAIN, "EAGAIN"),
    (libc::EACCES, "EACCES"),
    (libc::EBUSY, "EBUSY"),
    (libc::EEXIST, "EEXIST"),
    (libc::ENOTDIR, "ENOTDIR"),
    (libc::EINVAL, "EINVAL"),
    (libc::EROFS, "EROFS"),
    (libc::ENOSYS, "ENOSYS"),
    (libc::EAFNOSUPPORT, "EAFNOSUPPORT"),
    (libc::EADDRINUSE, "EADDRINUSE"),
    (libc::ETIMEDOUT, "ETIMEDOUT"),
    (libc::ECONNREFUSED, "ECONNREFUSED"),
];

fn errno_name(code: u32) -> String {
    ERRNO_NAMES
        .iter()
        .find(|(n, _)| u32::try_from(*n).ok() == Some(code))
        .map_or_else(|| format!("errno {code}"), |(_, name)| (*name).to_owned())
}

/// The ending of the last run, from `systemctl show` (`Result`, `ExecMainCode`,
/// `ExecMainStatus`; the code is the CLD_* value of waitid).
fn ending(props: &BTreeMap<String, String>) -> Ending {
    let get = |k: &str| props.get(k).map(String::as_str).unwrap_or("");
    let status: u32 = get("ExecMainStatus").parse().unwrap_or(u32::MAX);
    match get("ExecMainCode") {
        // A oneshot unit that succeeded shows no exit code at all.
        "0" if get("Result") == "success" => Ending::Ok,
        "1" => match status {
            0 => Ending::Ok,
            EXIT_DENIED => Ending::Denied,
            EXIT_BROKEN => Ending::Broken,
            n if (EXIT_ERRNO_BASE + 1..EXIT_SYSTEMD).contains(&n) => {
                Ending::Errno(errno_name(n - EXIT_ERRNO_BASE))
            }
            n if n >= EXIT_SYSTEMD => Ending::Setup(n),
            n => Ending::Other(format!("exit {n}")),
        },
        "2" | "3" => Ending::Signal(status),
        code => Ending::Other(format!(
            "Result={} ExecMainCode={code} ExecMainStatus={}",
            get("Result"),
            get("ExecMainStatus")
        )),
    }
}

/// `Key=value` lines of a drop-in (comments and section headers left out), values of repeated
/// keys in order (list settings start with an empty reset line).
fn directives(dropin: &str) -> BTreeMap<String, Vec<String>> {
    let mut out: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for line in dropin.lines() {
        let line = line.trim();
        if line.starts_with('#') || line.starts_with('[') {
            continue;
        }
        if let Some((key, value)) = line.split_once('=') {
            out.entry(key.to_owned())
                .or_default()
                .push(value.to_owned());
        }
    }
    out
}

/// A directive's value as the drop-in sets it: its non-empty lines joined.
fn joined(values: &[String]) -> String {
    values
        .iter()
        .filter(|v| !v.is_empty())
        .cloned()
        .collect::<Vec<_>>()
        .join(" ")
}

/// The drop-in with its `key=` lines replaced by one `key=value` line where the first was.
fn replaced(dropin: &str, key: &str, value: &str) -> String {
    let mut out = String::new();
    let mut done = false;
    for line in dropin.lines() {
        let is_key = !line.trim_start().starts_with('#')
            && line.split_once('=').is_some_and(|(k, _)| k.trim() == key);
        if is_key {
            if !done {
                out.push_str(&format!("{key}={value}\n"));
                done = true;
            }
            continue;
        }
        out.push_str(line);
        out.push('\n');
    }
    out
}

/// The drop-in without the lines of `keys`.
fn without(dropin: &str, keys: &BTreeSet<&str>) -> String {
    let mut out = String::new();
    for line in dropin.lines() {
        let key = line.split_once('=').map(|(k, _)| k.trim());
        if key.is_some_and(|k| !line.trim_start().starts_with('#') && keys.contains(k)) {
            continue;
        }
        out.push_str(line);
        out.push('\n');
    }
    out
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Side {
    Needs,
    Free,
}

impl Side {
    fn as_str(self) -> &'static str {
        match self {
            Side::Needs => "needs",
            Side::Free => "free",
        }
    }
}

/// One probe unit through the phase.
struct Unit {
    probe: usize,
    side: Side,
    name: String,
    /// False once a step failed: later steps skip it.
    alive: bool,
    dropin: Option<String>,
}

/// What one probe's run measured.
pub struct ProbeOutcome {
    pub name: &'static str,
    pub checks: Vec<Check>,
    pub recorder_bpf: BpfIds,
    /// (directive, needs result, free result) rows of the summary table.
    rows: Vec<(String, String, String)>,
    needs_notes: Vec<String>,
    free_notes: Vec<String>,
    needs_failed: bool,
    free_failed: bool,
    /// Per place of a many-attempt violation: (place, with the drop-in, with the regress run's).
    places: Vec<(String, String, String)>,
}

impl ProbeOutcome {
    pub fn passed(&self) -> bool {
        !self.checks.is_empty() && self.checks.iter().all(|c| c.ok)
    }

    fn check(&mut self, side: Side, ok: bool, what: String, detail: impl AsRef<str>) -> bool {
        if !ok {
            let note = format!("FAIL {what}");
            match side {
                Side::Needs => {
                    self.needs_failed = true;
                    self.needs_notes.push(note);
                }
                Side::Free => {
                    self.free_failed = true;
                    self.free_notes.push(note);
                }
            }
        }
        report(
            &mut self.checks,
            ok,
            format!("{}: {what}", self.name),
            detail,
        )
    }
}

/// Parsed `systemctl show -p … UNIT` output.
fn show(guest: &Container, unit: &str, props: &[&str]) -> Result<BTreeMap<String, String>> {
    let mut argv = vec!["systemctl", "show", unit];
    for p in props {
        argv.push("-p");
        argv.push(p);
    }
    let out = guest.exec_ok(&argv, STEP)?;
    Ok(out
        .stdout
        .lines()
        .filter_map(|l| l.split_once('='))
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect())
}

/// The phase, for the probes named in `only` (all when empty). Failed steps become failed
/// checks; the only error returned is an interruption or a guest that cannot be driven at all.
/// `outcomes` is filled from the start, so that the leak check knows every recorder's BPF
/// objects even when the phase stops half-way.
pub fn run(
    guest: &Container,
    share: &Path,
    only: &[String],
    outcomes: &mut Vec<ProbeOutcome>,
    timings: &mut Vec<(&'static str, Duration)>,
) -> Result<()> {
    let selected: Vec<usize> = (0..PROBES.len())
        .filter(|&i| only.is_empty() || only.iter().any(|o| o == PROBES[i].name))
        .collect();
    *outcomes = selected
        .iter()
        .map(|&i| ProbeOutcome {
            name: PROBES[i].name,
            checks: Vec::new(),
            recorder_bpf: BpfIds::default(),
            rows: Vec::new(),
            needs_notes: Vec::new(),
            free_notes: Vec::new(),
            needs_failed: false,
            free_failed: false,
            places: Vec::new(),
        })
        .collect();
    let mut units: Vec<Unit> = Vec::new();
    for (slot, &i) in selected.iter().enumerate() {
        let probe = &PROBES[i];
        for side in [Side::Needs, Side::Free] {
            if side == Side::Free && probe.free.is_none() {
                continue;
            }
            units.push(Unit {
                probe: slot,
                side,
                name: format!("probe-{}-{}.service", probe.name, side.as_str()),
                alive: true,
                dropin: None,
            });
        }
    }
    let probe_of = |u: &Unit| &PROBES[selected[u.probe]];

    eprintln!("==> directive probes: set-up ({} units)", units.len());
    let t = Instant::now();
    install_units(guest, share, &units, &probe_of)?;
    timings.push(("probes: set-up", t.elapsed()));

    eprintln!("==> directive probes: record (batches of {BATCH})");
    let t = Instant::now();
    record_all(guest, share, &mut units, outcomes)?;
    timings.push(("probes: record", t.elapsed()));

    eprintln!("==> directive probes: suggest, install, run hardened");
    let t = Instant::now();
    suggest_all(guest, share, &mut units, outcomes, &probe_of)?;
    install_dropins(guest, share, &units, |_| None)?;
    start_all(guest, &units, |_| true)?;
    check_hardened(guest, &mut units, outcomes, &probe_of)?;
    timings.push(("probes: hardened", t.elapsed()));

    eprintln!("==> directive probes: violations");
    let t = Instant::now();
    violations(guest, share, &mut units, outcomes, &probe_of)?;
    timings.push(("probes: violations", t.elapsed()));

    for u in units.iter().filter(|u| !u.alive) {
        guest.save_journal(share, &u.name);
    }
    for (slot, &i) in selected.iter().enumerate() {
        fill_rows(&PROBES[i], &mut outcomes[slot]);
    }
    print_table(outcomes);
    Ok(())
}

/// Writes the probe units from the template, installs them in the guest, runs setup.sh.
fn install_units<'a>(
    guest: &Container,
    share: &Path,
    units: &[Unit],
    probe_of: &impl Fn(&Unit) -> &'a Probe,
) -> Result<()> {
    let template_path = share.join("probes/probe.service.in");
    let template = fs::read_to_string(&template_path)
        .with_context(|| format!("cannot read {}", template_path.display()))?;
    let dir = share.join("probe-units");
    fs::create_dir_all(&dir).with_context(|| format!("cannot create {}", dir.display()))?;
    for u in units {
        let probe = probe_of(u);
        let extra = match (u.side, &probe.free) {
            (Side::Needs, _) => probe.needs_unit,
            (Side::Free, Some(f)) => f.unit,
            (Side::Free, None) => &[],
        };
        let text = template
            .replace("@NAME@", probe.name)
            .replace("@SIDE@", u.side.as_str())
            .replace("@EXTRA@", &extra.join("\n"));
        let path = dir.join(&u.name);
        fs::write(&path, text).with_context(|| format!("cannot write {}", path.display()))?;
    }
    let script = format!(
        "set -e; cp {SHARE_IN_GUEST}/probe-units/*.service {SHARE_IN_GUEST}/probes/probe-listener.service /etc/systemd/system/; \
         systemctl daemon-reload; sh {SHARE_IN_GUEST}/probes/setup.sh"
    );
    guest.exec_ok(&["sh", "-c", &script], START)?;
    Ok(())
}

/// Records every unit's first (unsandboxed) run, [`BATCH`] recorders at a time. A recorder
/// takes seconds to detach after it is told to stop (the kernel waits for an RCU grace period
/// per tracepoint link), so each batch is collected only after the next one has attached.
fn record_all(
    guest: &Container,
    share: &Path,
    units: &mut [Unit],
    outcomes: &mut [ProbeOutcome],
) -> Result<()> {
    let sysprof = format!("{SHARE_IN_GUEST}/sysprof");
    let indices: Vec<usize> = (0..units.len()).collect();
    let mut stopping: Vec<Stopping> = Vec::new();
    for batch in indices.chunks(BATCH) {
        let started = Instant::now();
        let mut recordings: Vec<(usize, Recording)> = Vec::new();
        for &i in batch {
            let unit = &units[i].name;
            let trace = format!("{SHARE_IN_GUEST}/{unit}.json");
            let _ = fs::remove_file(share.join(format!("{unit}.json")));
            let log = share.join(format!("{unit}.record.log"));
            match Recording::spawn(guest, &sysprof, unit, RECORD_LIMIT, Some(&trace), &[], &log) {
                Ok(r) => recordings.push((i, r)),
                Err(e) => fail_unit(units, outcomes, i, "sysprof record started", e),
            }
        }
        let mut attached: Vec<(usize, Recording)> = Vec::new();
        for (i, mut r) in recordings {
            match r.wait_attached() {
                Ok(()) => {
                    outcomes[units[i].probe].recorder_bpf.extend(r.held());
                    attached.push((i, r));
                }
                Err(e) => {
                    cmd::check_interrupt()?;
                    fail_unit(units, outcomes, i, "sysprof record attached", e);
                }
            }
        }
        let attach = started.elapsed();
        let names: Vec<&str> = attached
            .iter()
            .map(|(i, _)| units[*i].name.as_str())
            .collect();
        let mut argv = vec!["systemctl", "start"];
        argv.extend(names.iter().copied());
        // Failures are read per unit below.
        let _ = guest.exec(&argv, START)?;
        let mut batch_stopping = Vec::new();
        for (i, recording) in attached {
            let end = ending(&show(
                guest,
                &units[i].name,
                &["Result", "ExecMainCode", "ExecMainStatus"],
            )?);
            recording.request_stop();
            batch_stopping.push(Stopping {
                unit: i,
                recording,
                end,
            });
        }
        eprintln!(
            "    {} recorders attached after {:.1}s, units ended after {:.1}s: {}",
            names.len(),
            attach.as_secs_f64(),
            started.elapsed().as_secs_f64(),
            names.join(" ")
        );
        collect(share, units, outcomes, std::mem::take(&mut stopping))?;
        stopping = batch_stopping;
        cmd::check_interrupt()?;
    }
    collect(share, units, outcomes, stopping)
}

/// A recorder told to stop, with how its unit's run ended.
struct Stopping {
    unit: usize,
    recording: Recording,
    end: Ending,
}

/// Waits for stopped recorders and checks the runs and the traces.
fn collect(
    share: &Path,
    units: &mut [Unit],
    outcomes: &mut [ProbeOutcome],
    stopping: Vec<Stopping>,
) -> Result<()> {
    for Stopping {
        unit: i,
        recording,
        end,
    } in stopping
    {
        let finished = recording.wait(STEP)?;
        let u = &units[i];
        let slot = u.probe;
        outcomes[slot].recorder_bpf.extend(&finished.held);
        let side = u.side;
        let ok_run = outcomes[slot].check(
            side,
            end == Ending::Ok,
            format!("{} succeeds unsandboxed while recorded", u.name),
            end.describe(),
        );
        let ok_record = outcomes[slot].check(
            side,
            finished.status.success(),
            format!(
                "sysprof record --unit {} exited 0 ({:.1}s)",
                u.name,
                finished.elapsed.as_secs_f64()
            ),
            format!(
                "{}; log: {}",
                finished.status,
                share.join(format!("{}.record.log", u.name)).display()
            ),
        );
        let ok_trace = ok_record && check_trace(share, &units[i], &mut outcomes[slot]);
        if !(ok_run && ok_record && ok_trace) {
            units[i].alive = false;
        }
    }
    Ok(())
}

fn fail_unit(
    units: &mut [Unit],
    outcomes: &mut [ProbeOutcome],
    i: usize,
    what: &str,
    error: anyhow::Error,
) {
    let u = &mut units[i];
    u.alive = false;
    outcomes[u.probe].check(
        u.side,
        false,
        format!("{}: {what}", u.name),
        format!("{error:#}"),
    );
}

/// The trace must be an eBPF recording without lost events that followed the unit's python.
fn check_trace(share: &Path, u: &Unit, outcome: &mut ProbeOutcome) -> bool {
    let path = share.join(format!("{}.json", u.name));
    let trace = match fs::read(&path)
        .map_err(|e| e.to_string())
        .and_then(|b| Trace::from_slice(&b).map_err(|e| e.to_string()))
    {
        Ok(t) => t,
        Err(e) => {
            return outcome.check(
                u.side,
                false,
                format!("trace of {}", u.name),
                format!("{}: {e}", path.display()),
            )
        }
    };
    let python = trace
        .execs
        .iter()
        .any(|e| e.path.starts_with("/usr/bin/python3"));
    outcome.check(
        u.side,
        trace.meta.backends.iter().eq([Backend::Ebpf].iter())
            && trace.meta.integrity.events_lost == 0
            && python,
        format!(
            "trace of {}: eBPF, no events lost, execve of python3 ({} syscalls)",
            u.name,
            trace.syscalls.len()
        ),
        format!(
            "backends {:?}, {} events lost, execs {:?}",
            trace.meta.backends,
            trace.meta.integrity.events_lost,
            trace
                .execs
                .iter()
                .map(|e| e.path.as_str())
                .collect::<Vec<_>>()
        ),
    )
}

/// `sysprof suggest` on every trace (inside the guest: its systemd and syscall groups), and
/// what the needs and free sides require of the drop-in.
fn suggest_all<'a>(
    guest: &Container,
    share: &Path,
    units: &mut [Unit],
    outcomes: &mut [ProbeOutcome],
    probe_of: &impl Fn(&Unit) -> &'a Probe,
) -> Result<()> {
    let sysprof = format!("{SHARE_IN_GUEST}/sysprof");
    for u in units.iter_mut().filter(|u| u.alive) {
        let trace = format!("{SHARE_IN_GUEST}/{}.json", u.name);
        let unit_file = format!("/etc/systemd/system/{}", u.name);
        let mut argv = vec![sysprof.as_str(), "suggest", &trace, "--explain"];
        if SUGGEST_WITH_UNIT.contains(&probe_of(u).name) {
            argv.extend(["-p", &unit_file]);
        }
        let out = guest.exec(&argv, STEP)?;
        let outcome = &mut outcomes[u.probe];
        if !outcome.check(
            u.side,
            out.ok(),
            format!("sysprof suggest {}.json", u.name),
            out.summary(),
        ) {
            u.alive = false;
            continue;
        }
        let path = share.join(format!("{}.sysprof.conf", u.name));
        fs::write(&path, &out.stdout)
            .with_context(|| format!("cannot write {}", path.display()))?;
        let set = directives(&out.stdout);
        let probe = probe_of(u);
        match (u.side, &probe.free) {
            (Side::Needs, _) => {
                for need in probe.need {
                    let value = set.get(need.key).map(|v| joined(v));
                    let (ok, what) = match need.emitted {
                        None => (value.is_none(), format!("{} not emitted", need.key)),
                        Some(want) => (
                            value.as_deref().is_some_and(|v| want.holds(v)),
                            format!("{} emitted, {}", need.key, want.describe()),
                        ),
                    };
                    outcome.check(
                        u.side,
                        ok,
                        format!("{}: {what}", u.name),
                        format!("drop-in has {}={}", need.key, value.unwrap_or_default()),
                    );
                }
            }
            (Side::Free, Some(free)) => {
                for (key, _) in free.in_force {
                    let value = set.get(*key).map(|v| joined(v));
                    outcome.check(
                        u.side,
                        value.is_some(),
                        format!("{}: {key} emitted", u.name),
                        format!("not in {}", path.display()),
                    );
                }
            }
            (Side::Free, None) => {}
        }
        u.dropin = Some(out.stdout);
    }
    Ok(())
}

/// Installs `/etc/systemd/system/UNIT.d/sysprof.conf` for every live unit: sysprof's drop-in,
/// or what `variant` makes of it. Then one daemon-reload.
fn install_dropins(
    guest: &Container,
    share: &Path,
    units: &[Unit],
    variant: impl Fn(&Unit) -> Option<String>,
) -> Result<()> {
    let dir = share.join("probe-dropins");
    let _ = fs::remove_dir_all(&dir);
    fs::create_dir_all(&dir).with_context(|| format!("cannot create {}", dir.display()))?;
    let mut script = String::from("set -e\n");
    for u in units.iter().filter(|u| u.alive) {
        let Some(dropin) = variant(u).or_else(|| u.dropin.clone()) else {
            continue;
        };
        let path = dir.join(&u.name);
        fs::write(&path, dropin).with_context(|| format!("cannot write {}", path.display()))?;
        script.push_str(&format!(
            "mkdir -p /etc/systemd/system/{n}.d; cp {SHARE_IN_GUEST}/probe-dropins/{n} /etc/systemd/system/{n}.d/sysprof.conf\n",
            n = u.name
        ));
    }
    script.push_str("systemctl daemon-reload\n");
    guest.exec_ok(&["sh", "-c", &script], START)?;
    Ok(())
}

/// `systemctl start` of every live unit `pick` chooses, at once; they are oneshot units, so
/// this returns when all have ended. Their endings are read with [`ending`].
fn start_all(guest: &Container, units: &[Unit], pick: impl Fn(&Unit) -> bool) -> Result<()> {
    let names: Vec<&str> = units
        .iter()
        .filter(|u| u.alive && pick(u))
        .map(|u| u.name.as_str())
        .collect();
    if names.is_empty() {
        return Ok(());
    }
    // Failed units leave their state behind; clear it so that each run starts afresh.
    let mut reset = vec!["systemctl", "reset-failed"];
    reset.extend(names.iter().copied());
    let _ = guest.exec(&reset, STEP)?;
    let mut argv = vec!["systemctl", "start"];
    argv.extend(names.iter().copied());
    let _ = guest.exec(&argv, START)?;
    Ok(())
}

/// With sysprof's drop-in: every unit must succeed, and show its directives as required.
fn check_hardened<'a>(
    guest: &Container,
    units: &mut [Unit],
    outcomes: &mut [ProbeOutcome],
    probe_of: &impl Fn(&Unit) -> &'a Probe,
) -> Result<()> {
    for u in units.iter_mut().filter(|u| u.alive) {
        let probe = probe_of(u);
        let mut props = vec!["Result", "ExecMainCode", "ExecMainStatus"];
        let wanted: Vec<(&str, Want)> = match (u.side, &probe.free) {
            (Side::Needs, _) => probe.need.iter().map(|n| (n.key, n.shown)).collect(),
            (Side::Free, Some(f)) => f.in_force.to_vec(),
            (Side::Free, None) => Vec::new(),
        };
        props.extend(wanted.iter().map(|(k, _)| *k));
        let shown = show(guest, &u.name, &props)?;
        let end = ending(&shown);
        let outcome = &mut outcomes[u.probe];
        let what = match u.side {
            Side::Needs => probe.needs,
            Side::Free => "its harmless sibling",
        };
        let works = outcome.check(
            u.side,
            end == Ending::Ok,
            format!("{} succeeds with the drop-in ({what})", u.name),
            end.describe(),
        );
        for (key, want) in wanted {
            let value = shown.get(key).cloned().unwrap_or_default();
            outcome.check(
                u.side,
                want.holds(&value),
                format!("{}: systemctl show {key} {}", u.name, want.describe()),
                format!("{key}={value}"),
            );
        }
        if !works {
            u.alive = false;
        }
    }
    Ok(())
}

/// The violation, isolation and control runs of every free unit.
fn violations<'a>(
    guest: &Container,
    share: &Path,
    units: &mut [Unit],
    outcomes: &mut [ProbeOutcome],
    probe_of: &impl Fn(&Unit) -> &'a Probe,
) -> Result<()> {
    // The switch to the violating mode: one more drop-in that only sets the environment.
    let mut script = String::from("set -e\n");
    for u in units.iter().filter(|u| u.alive && u.side == Side::Free) {
        script.push_str(&format!(
            "printf '[Service]\\nEnvironment=PROBE_MODE=violate\\n' > /etc/systemd/system/{}.d/zz-violate.conf\n",
            u.name
        ));
    }
    script.push_str("systemctl daemon-reload\n");
    guest.exec_ok(&["sh", "-c", &script], START)?;
    let is_free = |u: &Unit| u.side == Side::Free;

    // 1. The drop-in as sysprof wrote it.
    start_all(guest, units, is_free)?;
    for u in units.iter().filter(|u| u.alive && is_free(u)) {
        let end = last_ending(guest, u)?;
        let unseen = probe_of(u)
            .free
            .as_ref()
            .is_some_and(|f| matches!(f.blocked, Blocked::Unseen));
        let stopped = if end == Ending::Ok && unseen {
            !unseen_visible(guest, u)?
        } else {
            end != Ending::Ok && !matches!(end, Ending::Broken | Ending::Setup(_))
        };
        let outcome = &mut outcomes[u.probe];
        outcome.check(
            u.side,
            stopped,
            format!(
                "{}: violation ({}) stopped by the drop-in: {}",
                u.name,
                probe_of(u).free.as_ref().map_or("", |f| f.violation),
                end.describe()
            ),
            end.describe(),
        );
        outcome
            .free_notes
            .push(format!("blocked: {}", end.describe()));
    }

    // 1b. A violation made of many attempts: each place attempted, every attempt blocked.
    for u in units.iter().filter(|u| u.alive && is_free(u)) {
        let Some(free) = probe_of(u).free.as_ref() else {
            continue;
        };
        if free.attempts.is_empty() {
            continue;
        }
        let found = attempts(share, u);
        let outcome = &mut outcomes[u.probe];
        for place in free.attempts {
            let here: Vec<&(String, String, String)> =
                found.iter().filter(|(p, _, _)| p == place).collect();
            let blocked =
                !here.is_empty() && here.iter().all(|(_, _, r)| r == "EACCES" || r == "EPERM");
            let summary = summarize(&here);
            outcome.check(
                u.side,
                blocked,
                format!("{}: nothing written to {place} runs: {summary}", u.name),
                &summary,
            );
            outcome
                .places
                .push(((*place).to_owned(), summary, String::new()));
        }
        // Places outside the list (read-only ones that turned out writable) must not run either.
        let others: Vec<&(String, String, String)> = found
            .iter()
            .filter(|(p, _, _)| !free.attempts.contains(&p.as_str()))
            .collect();
        let ran: Vec<String> = others
            .iter()
            .filter(|(_, w, r)| w != "write" && r == "ok")
            .map(|(p, w, _)| format!("{p} {w}"))
            .collect();
        outcome.check(
            u.side,
            ran.is_empty(),
            format!(
                "{}: the other places are read-only or noexec: {}",
                u.name,
                summarize(&others)
            ),
            ran.join(", "),
        );
    }

    // 2. Isolation: the other directives that stop it taken out.
    let has_co = |u: &Unit| {
        is_free(u)
            && probe_of(u)
                .free
                .as_ref()
                .is_some_and(|f| !f.co_blockers.is_empty())
    };
    install_dropins(guest, share, units, |u| {
        let free = probe_of(u).free.as_ref()?;
        if !has_co(u) {
            return None;
        }
        let keys: BTreeSet<&str> = free.co_blockers.iter().copied().collect();
        u.dropin.as_deref().map(|d| without(d, &keys))
    })?;
    start_all(guest, units, has_co)?;
    for u in units.iter().filter(|u| u.alive && is_free(u)) {
        let Some(free) = probe_of(u).free.as_ref() else {
            continue;
        };
        // Without co-blockers the first run was the isolated one, and its ending is still
        // what systemctl shows.
        let end = last_ending(guest, u)?;
        let ok = match free.blocked {
            Blocked::Unseen => end == Ending::Ok && !unseen_visible(guest, u)?,
            blocked => end.matches(blocked),
        };
        let also = if free.co_blockers.is_empty() {
            String::new()
        } else {
            format!(" (drop-in without {})", free.co_blockers.join(" "))
        };
        outcomes[u.probe].check(
            u.side,
            ok,
            format!(
                "{}: violation stopped by {} alone{also}: {} (expected {})",
                u.name,
                probe_of(u).directives[0],
                end.describe(),
                free.blocked.describe()
            ),
            end.describe(),
        );
    }

    // 3. Control: the directive under test taken out as well; the violation must now work.
    install_dropins(guest, share, units, |u| {
        let free = probe_of(u).free.as_ref()?;
        let keys: BTreeSet<&str> = free
            .co_blockers
            .iter()
            .chain(free.lift.iter())
            .copied()
            .collect();
        u.dropin.as_deref().map(|d| without(d, &keys))
    })?;
    start_all(guest, units, is_free)?;
    for u in units.iter().filter(|u| u.alive && is_free(u)) {
        let Some(free) = probe_of(u).free.as_ref() else {
            continue;
        };
        let end = last_ending(guest, u)?;
        let ok = end == Ending::Ok
            && match free.blocked {
                Blocked::Unseen => unseen_visible(guest, u)?,
                _ => true,
            };
        let lifted = free.lift.join(" ");
        outcomes[u.probe].check(
            u.side,
            ok,
            format!(
                "{}: violation succeeds once {lifted} is taken out too: {}",
                u.name,
                end.describe()
            ),
            end.describe(),
        );
    }

    // 4. Regression: the drop-in as sysprof wrote it before the fix; the violation must work.
    let has_regress = |u: &Unit| {
        is_free(u)
            && probe_of(u)
                .free
                .as_ref()
                .is_some_and(|f| f.regress.is_some())
    };
    if !units.iter().any(|u| u.alive && has_regress(u)) {
        return Ok(());
    }
    install_dropins(guest, share, units, |u| {
        let (key, value) = probe_of(u).free.as_ref()?.regress?;
        if !has_regress(u) {
            return None;
        }
        u.dropin.as_deref().map(|d| replaced(d, key, value))
    })?;
    start_all(guest, units, has_regress)?;
    for u in units.iter().filter(|u| u.alive && has_regress(u)) {
        let Some(free) = probe_of(u).free.as_ref() else {
            continue;
        };
        let Some((key, value)) = free.regress else {
            continue;
        };
        let end = last_ending(guest, u)?;
        let found = attempts(share, u);
        let ran: Vec<String> = found
            .iter()
            .filter(|(_, w, r)| w != "write" && r == "ok")
            .map(|(p, w, _)| format!("{p} {w}"))
            .collect();
        let outcome = &mut outcomes[u.probe];
        for (place, _, regress) in outcome.places.iter_mut() {
            let here: Vec<&(String, String, String)> =
                found.iter().filter(|(p, _, _)| p == place).collect();
            *regress = summarize(&here);
        }
        outcome.check(
            u.side,
            end == Ending::Ok && !ran.is_empty(),
            format!(
                "{}: with {key}={value} alone (before the fix) the violation works: {} ({} ran: {})",
                u.name,
                end.describe(),
                ran.len(),
                ran.join(", ")
            ),
            end.describe(),
        );
    }
    Ok(())
}

/// The `attempt PLACE WHAT: RESULT` lines of a unit's last run, from the share directory's
/// `UNIT.out` (its `StandardOutput=`), as (place, what, result).
fn attempts(share: &Path, u: &Unit) -> Vec<(String, String, String)> {
    let path = share.join(format!("{}.out", u.name.trim_end_matches(".service")));
    let text = fs::read_to_string(&path).unwrap_or_default();
    text.lines()
        .filter_map(|l| l.split_once(": attempt ").map(|(_, rest)| rest))
        .filter_map(|rest| {
            let (head, result) = rest.rsplit_once(": ")?;
            let (place, what) = head.rsplit_once(' ')?;
            Some((place.to_owned(), what.to_owned(), result.trim().to_owned()))
        })
        .collect()
}

/// `exec EACCES, mmap EPERM, …` for a place's attempts.
fn summarize(attempts: &[&(String, String, String)]) -> String {
    if attempts.is_empty() {
        return "not attempted".to_owned();
    }
    attempts
        .iter()
        .map(|(_, what, result)| format!("{what} {result}"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// The ending of a unit's last run.
fn last_ending(guest: &Container, u: &Unit) -> Result<Ending> {
    Ok(ending(&show(
        guest,
        &u.name,
        &["Result", "ExecMainCode", "ExecMainStatus"],
    )?))
}

/// Whether the mount the `mounts` probe leaves behind is visible outside the unit; takes it
/// down if so, for the next run.
fn unseen_visible(guest: &Container, u: &Unit) -> Result<bool> {
    let point = format!("/mnt/{}", u.name.trim_end_matches(".service"));
    let visible = guest.exec(&["mountpoint", "-q", &point], STEP)?.ok();
    if visible {
        guest.exec_ok(&["umount", &point], STEP)?;
    }
    Ok(visible)
}

/// The table rows of one probe: one per directive it proves.
fn fill_rows(probe: &Probe, outcome: &mut ProbeOutcome) {
    let failed_needs = outcome.needs_failed.then(|| {
        outcome
            .needs_notes
            .first()
            .cloned()
            .unwrap_or_else(|| "FAIL".to_owned())
    });
    let free = match &probe.free {
        None => "n/a (grants access, forbids nothing)".to_owned(),
        Some(_) if outcome.free_failed => outcome
            .free_notes
            .iter()
            .find(|n| n.starts_with("FAIL"))
            .cloned()
            .unwrap_or_else(|| "FAIL".to_owned()),
        Some(free) => format!(
            "emitted, in force, violation blocked ({}), attributed",
            free.blocked.describe()
        ),
    };
    for d in probe.directives {
        let needs = failed_needs.clone().unwrap_or_else(|| {
            let parts: Vec<String> = probe
                .need
                .iter()
                .filter(|n| n.key == *d)
                .map(|n| match n.emitted {
                    None => "not emitted".to_owned(),
                    Some(want) => want.describe(),
                })
                .collect();
            if parts.is_empty() {
                "ok (nothing needs it off)".to_owned()
            } else {
                format!("ok: {}", parts.join(", "))
            }
        });
        outcome.rows.push(((*d).to_owned(), needs, free.clone()));
    }
    let regress = probe
        .free
        .as_ref()
        .and_then(|f| f.regress)
        .map(|(k, v)| format!("{k}={v}"));
    for (place, with_dropin, before) in &outcome.places {
        let mut text = format!("copy in {place}: {with_dropin}");
        if let Some(r) = &regress {
            text.push_str(&format!("; with {r} alone: {before}"));
        }
        outcome.rows.push((
            format!("{} ({place})", probe.directives[0]),
            "(free side only)".to_owned(),
            text,
        ));
    }
}

fn print_table(outcomes: &[ProbeOutcome]) {
    let rows: Vec<(&str, &str, &str, &str)> = outcomes
        .iter()
        .flat_map(|o| {
            o.rows
                .iter()
                .map(move |(d, n, f)| (d.as_str(), o.name, n.as_str(), f.as_str()))
        })
        .collect();
    let width = |column: usize, title: &str| {
        rows.iter()
            .map(|r| [r.0, r.1, r.2][column].chars().count())
            .chain([title.len()])
            .max()
            .unwrap_or(0)
    };
    let (d, p, n) = (
        width(0, "directive"),
        width(1, "probe"),
        width(2, "needs probe"),
    );
    println!();
    println!(
        "{:<d$}  {:<p$}  {:<n$}  free probe",
        "directive", "probe", "needs probe"
    );
    for (directive, probe, needs, free) in rows {
        println!("{directive:<d$}  {probe:<p$}  {needs:<n$}  {free}");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wants() {
        assert!(Want::Is("yes").holds("yes"));
        assert!(Want::Is("").holds(""));
        assert!(!Want::Is("yes").holds("no"));
        assert!(Want::Has("x86").holds("native x86"));
        assert!(!Want::Has("x86").holds("x86-64"));
        assert!(Want::AllowsNot("fdatasync").holds("read write"));
        assert!(!Want::AllowsNot("fdatasync").holds("read fdatasync"));
        assert!(!Want::AllowsNot("fdatasync").holds("~"));
        assert!(!Want::AllowsNot("fdatasync").holds(""));
    }

    #[test]
    fn dropin_lines() {
        let text = "# c\n[Service]\nSystemCallFilter=\nSystemCallFilter=read write\nSystemCallFilter=open\nUMask=0077\n";
        let set = directives(text);
        assert_eq!(joined(&set["SystemCallFilter"]), "read write open");
        assert_eq!(set["UMask"], ["0077"]);
        let keys: BTreeSet<&str> = ["SystemCallFilter"].into_iter().collect();
        assert_eq!(without(text, &keys), "# c\n[Service]\nUMask=0077\n");
        assert_eq!(
            replaced(text, "SystemCallFilter", "read"),
            "# c\n[Service]\nSystemCallFilter=read\nUMask=0077\n"
        );
    }

    #[test]
    fn endings() {
        let props = |code: &str, status: &str| -> BTreeMap<String, String> {
            [("ExecMainCode", code), ("ExecMainStatus", status)]
                .into_iter()
                .map(|(k, v)| (k.to_owned(), v.to_owned()))
                .collect()
        };
        assert_eq!(ending(&props("1", "0")), Ending::Ok);
        let mut success = props("0", "0");
        success.insert("Result".to_owned(), "success".to_owned());
        assert_eq!(ending(&success), Ending::Ok);
        assert_eq!(ending(&props("1", "3")), Ending::Denied);
        assert_eq!(ending(&props("1", "65")), Ending::Errno("EPERM".to_owned()));
        assert_eq!(ending(&props("1", "94")), Ending::Errno("EROFS".to_owned()));
        assert_eq!(ending(&props("1", "226")), Ending::Setup(226));
        assert_eq!(ending(&props("3", "31")), Ending::Signal(31));
        assert!(ending(&props("1", "65")).matches(Blocked::Errno(&["EPERM"])));
        assert!(!ending(&props("1", "77")).matches(Blocked::Errno(&["EPERM"])));
    }

    #[test]
    fn probe_table() {
        let mut names = BTreeSet::new();
        for p in PROBES {
            assert!(names.insert(p.name), "duplicate probe {}", p.name);
            assert!(!p.directives.is_empty() && !p.need.is_empty(), "{}", p.name);
            if let Some(f) = &p.free {
                assert!(!f.lift.is_empty() && !f.in_force.is_empty(), "{}", p.name);
            }
        }
        for p in PROBES {
            for key in p.directives {
                assert!(sysprof_core::suggest::min_version(key).is_some(), "{key}");
            }
        }
    }
}
