//! Replays a trace against a policy: every observed behaviour the sandbox would break.
//!
//! Only evidence counts: syscalls the trace shows as used, capabilities it shows as needed, and
//! *successful* file, socket, namespace, memory, mode, device and mount operations (a failed
//! access, such as an `ENOENT` probe, proves no need). Each violation names the directive that
//! forbids the behaviour; the result is sorted and free of duplicates.

use crate::event::{Abi, Access, MapKind};
use crate::tables::caps;
use crate::tables::groups::SyscallGroups;
use crate::trace::Trace;
use crate::unit::{
    canonical_address_family, path_is_under, personality_value, printable, simplify_path,
    ErrnoAction, FilterMode, Policy, ProcSubset, SyscallFilter,
};
use serde::Serialize;
use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::net::{IpAddr, SocketAddr};

/// What kind of behaviour a policy breaks (the mechanism, not the directive).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum ViolationKind {
    /// A used syscall is blocked by a seccomp filter (`SystemCallFilter=` or an implied one).
    Syscall,
    /// Syscalls through an ABI that `SystemCallArchitectures=` blocks.
    Architecture,
    /// A needed capability the process will not have.
    Capability,
    /// A write to a path on a read-only mount.
    ReadOnly,
    /// An access to a path that is inaccessible or hidden.
    Inaccessible,
    /// An exec or executable mapping of a path on a noexec mount.
    NoExec,
    /// `socket()` of a family `RestrictAddressFamilies=` refuses.
    AddressFamily,
    /// Creating or joining a namespace kind `RestrictNamespaces=` refuses.
    Namespace,
    /// Network traffic that a private network namespace cannot carry.
    Network,
    /// A `personality()` change under `LockPersonality=`.
    Personality,
    /// A realtime scheduling request under `RestrictRealtime=`.
    Realtime,
    /// A W+X or exec-gaining mapping under `MemoryDenyWriteExecute=`.
    WriteExecute,
    /// Set-uid/set-gid mode bits under `RestrictSUIDSGID=`.
    SetId,
    /// A device node the private `/dev` does not have, or creating one.
    Device,
    /// A `/proc` file `ProcSubset=pid` hides.
    ProcSubset,
    /// Mount activity that `PrivateMounts=` keeps from propagating.
    Mount,
}

impl ViolationKind {
    /// The name used in output.
    pub fn as_str(self) -> &'static str {
        match self {
            ViolationKind::Syscall => "syscall",
            ViolationKind::Architecture => "architecture",
            ViolationKind::Capability => "capability",
            ViolationKind::ReadOnly => "read-only",
            ViolationKind::Inaccessible => "inaccessible",
            ViolationKind::NoExec => "noexec",
            ViolationKind::AddressFamily => "address-family",
            ViolationKind::Namespace => "namespace",
            ViolationKind::Network => "network",
            ViolationKind::Personality => "personality",
            ViolationKind::Realtime => "realtime",
            ViolationKind::WriteExecute => "write-execute",
            ViolationKind::SetId => "set-id",
            ViolationKind::Device => "device",
            ViolationKind::ProcSubset => "proc-subset",
            ViolationKind::Mount => "mount",
        }
    }
}

impl fmt::Display for ViolationKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One observed behaviour the policy would break.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub struct Violation {
    pub kind: ViolationKind,
    /// What is affected: a syscall, capability, path, family, namespace kind, ….
    pub subject: String,
    /// The directive that forbids it (`ProtectSystem=strict`, `SystemCallFilter=`, …).
    pub directive: String,
    /// Why, and the observations behind it.
    pub detail: String,
}

impl fmt::Display for Violation {
    /// One line: `kind subject: detail [directive]`, control characters escaped.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} {}: {} [{}]",
            self.kind,
            printable(&self.subject),
            printable(&self.detail),
            printable(&self.directive)
        )
    }
}

/// Findings keyed by (kind, subject, directive): a detail prefix and the observations behind it.
#[derive(Default)]
struct Findings {
    map: BTreeMap<(ViolationKind, String, String), (String, BTreeSet<String>)>,
}

impl Findings {
    fn add(
        &mut self,
        kind: ViolationKind,
        subject: impl Into<String>,
        directive: impl Into<String>,
        detail: impl Into<String>,
        observation: impl Into<String>,
    ) {
        let entry = self
            .map
            .entry((kind, subject.into(), directive.into()))
            .or_insert_with(|| (detail.into(), BTreeSet::new()));
        let observation = observation.into();
        if !observation.is_empty() {
            entry.1.insert(observation);
        }
    }

    fn finish(self) -> Vec<Violation> {
        self.map
            .into_iter()
            .map(|((kind, subject, directive), (detail, observed))| {
                let observed: Vec<String> = observed.into_iter().collect();
                let detail = if observed.is_empty() {
                    detail
                } else {
                    format!("{detail}{}", observed.join(", "))
                };
                Violation {
                    kind,
                    subject,
                    directive,
                    detail,
                }
            })
            .collect()
    }
}

/// Every observed behaviour in `trace` that `policy` would break, sorted, without duplicates.
/// `groups` expands the syscall groups behind implied filters (`ProtectClock=` → `@clock`, …).
pub fn check(trace: &Trace, policy: &Policy, groups: &SyscallGroups) -> Vec<Violation> {
    let mut findings = Findings::default();
    check_syscalls(trace, policy, groups, &mut findings);
    check_capabilities(trace, policy, &mut findings);
    check_files(trace, policy, &mut findings);
    check_sockets(trace, policy, &mut findings);
    check_network(trace, policy, &mut findings);
    check_namespaces(trace, policy, &mut findings);
    check_process_restrictions(trace, policy, &mut findings);
    check_devices_and_mounts(trace, policy, &mut findings);
    findings.finish()
}

fn ok(result: &str) -> bool {
    result == "ok"
}

/// True if `SystemCallArchitectures=` lets syscalls through `abi` in.
fn abi_allowed(abi: Abi, architectures: &BTreeSet<String>, native: Option<Abi>) -> bool {
    architectures.iter().any(|arch| match arch.as_str() {
        // Without a known recording arch, take the 64-bit ABIs as the native ones.
        "native" => native.map_or(matches!(abi, Abi::X86_64 | Abi::Aarch64), |n| n == abi),
        "x86-64" => abi == Abi::X86_64,
        "x86" => abi == Abi::I386,
        "x32" => abi == Abi::X32,
        "arm64" => abi == Abi::Aarch64,
        _ => false,
    })
}

fn action_text(action: ErrnoAction) -> String {
    match action {
        ErrnoAction::Kill => "the process is killed (SIGSYS)".to_owned(),
        ErrnoAction::Errno(0) => "it returns 0 without running".to_owned(),
        ErrnoAction::Errno(_) => format!("it fails with {action}"),
    }
}

/// Why `filter` blocks `name` (assumes it does).
fn filter_reason(filter: &SyscallFilter, name: &str, default: ErrnoAction) -> String {
    match (filter.mode, filter.entries.get(name)) {
        (FilterMode::AllowList, Some(Some(action))) => {
            format!("listed as ~{name}:{action}, so {}", action_text(*action))
        }
        (FilterMode::AllowList, _) => {
            format!("not in the allow-list, so {}", action_text(default))
        }
        (FilterMode::DenyList, entry) => {
            let action = entry.copied().flatten().unwrap_or(default);
            format!("in the deny-list, so {}", action_text(action))
        }
    }
}

/// The seccomp filters other directives add, as (directive, syscall names).
fn implied_filters(
    policy: &Policy,
    groups: &SyscallGroups,
) -> Vec<(&'static str, BTreeSet<String>)> {
    let group = |name: &str, fallback: &[&str]| -> BTreeSet<String> {
        groups
            .expand(name)
            .unwrap_or_else(|| fallback.iter().map(|s| (*s).to_owned()).collect())
    };
    let names =
        |list: &[&str]| -> BTreeSet<String> { list.iter().map(|s| (*s).to_owned()).collect() };
    let mut filters = Vec::new();
    if policy.protect_kernel_tunables {
        filters.push(("ProtectKernelTunables=yes", names(&["_sysctl"])));
    }
    if policy.protect_kernel_modules {
        filters.push((
            "ProtectKernelModules=yes",
            group("@module", &["delete_module", "finit_module", "init_module"]),
        ));
    }
    if policy.protect_kernel_logs {
        filters.push(("ProtectKernelLogs=yes", names(&["syslog"])));
    }
    if policy.protect_clock {
        filters.push((
            "ProtectClock=yes",
            group(
                "@clock",
                &[
                    "adjtimex",
                    "clock_adjtime",
                    "clock_adjtime64",
                    "clock_settime",
                    "clock_settime64",
                    "settimeofday",
                ],
            ),
        ));
    }
    if policy.protect_hostname {
        filters.push((
            "ProtectHostname=yes",
            names(&["sethostname", "setdomainname"]),
        ));
    }
    if policy.private_devices {
        filters.push((
            "PrivateDevices=yes",
            group(
                "@raw-io",
                &[
                    "ioperm",
                    "iopl",
                    "pciconfig_iobase",
                    "pciconfig_read",
                    "pciconfig_write",
                    "s390_pci_mmio_read",
                    "s390_pci_mmio_write",
                ],
            ),
        ));
    }
    filters
}

fn check_syscalls(trace: &Trace, policy: &Policy, groups: &SyscallGroups, out: &mut Findings) {
    let native = trace.native_abi();
    let architectures = &policy.syscall_architectures;
    let arch_directive = format!(
        "SystemCallArchitectures={}",
        architectures.iter().cloned().collect::<Vec<_>>().join(" ")
    );
    let implied = implied_filters(policy, groups);
    for record in &trace.syscalls {
        if !architectures.is_empty() && !abi_allowed(record.abi, architectures, native) {
            out.add(
                ViolationKind::Architecture,
                record.abi.as_str(),
                &arch_directive,
                "the ABI is blocked, so its syscalls kill the process; used: ",
                &record.name,
            );
            continue;
        }
        let subject = if native.is_none_or(|n| n == record.abi) {
            record.name.clone()
        } else {
            format!("{} ({})", record.name, record.abi)
        };
        if let Some(filter) = &policy.syscall_filter {
            if !filter.allows(&record.name) {
                out.add(
                    ViolationKind::Syscall,
                    &subject,
                    "SystemCallFilter=",
                    filter_reason(filter, &record.name, policy.syscall_error_number),
                    "",
                );
            }
        }
        for (directive, names) in &implied {
            if names.contains(&record.name) {
                out.add(
                    ViolationKind::Syscall,
                    &subject,
                    *directive,
                    "the directive's seccomp filter makes it fail with EPERM",
                    "",
                );
            }
        }
    }
}

fn check_capabilities(trace: &Trace, policy: &Policy, out: &mut Findings) {
    let runs_as = if policy.dynamic_user {
        "DynamicUser=yes".to_owned()
    } else {
        format!("User={}", policy.user.as_deref().unwrap_or_default())
    };
    for record in &trace.capabilities {
        let cap = record.cap.0;
        let name = caps::name(cap);
        let origin = match record.origin {
            crate::event::CapOrigin::Observed => "observed",
            crate::event::CapOrigin::Inferred => "inferred",
        };
        let needed_by = format!(
            "{} ({origin})",
            record.syscall.as_deref().unwrap_or("unknown syscall")
        );
        if !policy.capability_bounding_set.contains(cap) {
            let directive = policy
                .capabilities_removed_by
                .get(&cap)
                .cloned()
                .unwrap_or_else(|| "CapabilityBoundingSet=".to_owned());
            out.add(
                ViolationKind::Capability,
                &name,
                directive,
                "not in the bounding set; needed by ",
                &needed_by,
            );
        }
        if !policy.runs_as_root() && !policy.ambient_capabilities.contains(cap) {
            out.add(
                ViolationKind::Capability,
                &name,
                "AmbientCapabilities=",
                format!("{runs_as} runs without it unless it is ambient; needed by "),
                &needed_by,
            );
        }
        if policy.private_users {
            out.add(
                ViolationKind::Capability,
                &name,
                "PrivateUsers=yes",
                "capabilities in a private user namespace do not apply to host objects; needed by ",
                &needed_by,
            );
        }
    }
}

/// Nodes and trees the private `/dev` of `PrivateDevices=yes` provides.
pub(crate) fn private_dev_provides(path: &str) -> bool {
    const NODES: [&str; 14] = [
        "/dev",
        "/dev/null",
        "/dev/zero",
        "/dev/full",
        "/dev/random",
        "/dev/urandom",
        "/dev/tty",
        "/dev/ptmx",
        "/dev/log",
        "/dev/stdin",
        "/dev/stdout",
        "/dev/stderr",
        "/dev/fd",
        "/dev/core",
    ];
    const TREES: [&str; 5] = [
        "/dev/pts",
        "/dev/shm",
        "/dev/mqueue",
        "/dev/hugepages",
        "/dev/fd",
    ];
    NODES.contains(&path) || TREES.iter().any(|tree| path_is_under(path, tree))
}

/// True for the `/proc` paths `ProcSubset=pid` leaves visible.
fn visible_with_pid_subset(path: &str) -> bool {
    let mut components = path.split('/').filter(|c| !c.is_empty()).skip(1);
    match components.next() {
        None => true,
        Some(first) => {
            first == "self"
                || first == "thread-self"
                || (!first.is_empty() && first.bytes().all(|b| b.is_ascii_digit()))
        }
    }
}

fn list(accesses: &BTreeSet<Access>) -> Vec<String> {
    accesses.iter().map(|a| a.as_str().to_owned()).collect()
}

fn check_files(trace: &Trace, policy: &Policy, out: &mut Findings) {
    // Successful accesses per normalized absolute path; executions count as exec accesses.
    let mut by_path: BTreeMap<String, BTreeSet<Access>> = BTreeMap::new();
    let mut note = |path: &str, access: Access| {
        if let Some(path) = path.starts_with('/').then(|| simplify_path(path)).flatten() {
            by_path.entry(path).or_default().insert(access);
        }
    };
    for record in trace.files.iter().filter(|f| f.ok()) {
        note(&record.path, record.access);
    }
    for exec in &trace.execs {
        note(&exec.path, Access::Exec);
        if let Some(interpreter) = &exec.interpreter {
            note(interpreter, Access::Exec);
        }
    }
    let table = policy.mount_table();
    for (path, accesses) in &by_path {
        let state = table.lookup(path);
        if let Some(directive) = &state.inaccessible {
            // The inaccessible node itself can still be stat()ed and searched.
            let on_node = state.decided_by.as_deref() == Some(path.as_str());
            let hits: BTreeSet<Access> = accesses
                .iter()
                .copied()
                .filter(|a| !(on_node && matches!(a, Access::Stat | Access::Search)))
                .collect();
            for access in list(&hits) {
                out.add(
                    ViolationKind::Inaccessible,
                    path,
                    directive,
                    "the path is inaccessible; observed: ",
                    access,
                );
            }
            continue;
        }
        if let Some(directive) = &state.hidden {
            for access in list(accesses) {
                out.add(
                    ViolationKind::Inaccessible,
                    path,
                    directive,
                    "an empty read-only file system hides the path; observed: ",
                    access,
                );
            }
            continue;
        }
        if let Some(directive) = &state.read_only {
            // Device nodes stay writable on read-only mounts; the private /dev is judged below.
            let device = path_is_under(path, "/dev");
            let private_dev = policy.private_devices && state.decided_by.as_deref() == Some("/dev");
            for access in accesses.iter().filter(|a| a.is_write()) {
                if private_dev || (device && *access == Access::Write) {
                    continue;
                }
                out.add(
                    ViolationKind::ReadOnly,
                    path,
                    directive,
                    "the path is read-only; observed: ",
                    access.as_str(),
                );
            }
        }
        if let Some(directive) = &state.noexec {
            let overridden = policy
                .exec_paths
                .iter()
                .find(|e| path_is_under(path, &e.path))
                .map(|e| {
                    format!(
                        "ExecPaths={e} does not take effect here (systemd 252 merges mount entries); "
                    )
                })
                .unwrap_or_default();
            for access in accesses.iter().filter(|a| a.is_exec()) {
                out.add(
                    ViolationKind::NoExec,
                    path,
                    directive,
                    format!("{overridden}the path is mounted noexec; observed: "),
                    access.as_str(),
                );
            }
        }
        if policy.private_devices && path_is_under(path, "/dev") && !private_dev_provides(path) {
            for access in list(accesses) {
                out.add(
                    ViolationKind::Device,
                    path,
                    "PrivateDevices=yes",
                    "the private /dev has no such node; observed: ",
                    access,
                );
            }
        }
        if policy.proc_subset == ProcSubset::Pid
            && path_is_under(path, "/proc")
            && !visible_with_pid_subset(path)
        {
            for access in list(accesses) {
                out.add(
                    ViolationKind::ProcSubset,
                    path,
                    "ProcSubset=pid",
                    "only process directories are visible; observed: ",
                    access,
                );
            }
        }
    }
}

/// `RestrictAddressFamilies=` as one line, for messages.
fn address_family_directive(policy: &Policy) -> String {
    let rule = &policy.restrict_address_families;
    let families: Vec<String> = rule
        .families
        .as_ref()
        .map(|f| f.iter().cloned().collect())
        .unwrap_or_default();
    match (rule.allow_list, families.is_empty()) {
        (true, true) => "RestrictAddressFamilies=none".to_owned(),
        (true, false) => format!("RestrictAddressFamilies={}", families.join(" ")),
        (false, _) => format!("RestrictAddressFamilies=~{}", families.join(" ")),
    }
}

fn check_sockets(trace: &Trace, policy: &Policy, out: &mut Findings) {
    let rule = &policy.restrict_address_families;
    if !rule.is_restricted() {
        return;
    }
    let directive = address_family_directive(policy);
    for socket in trace.sockets.iter().filter(|s| ok(&s.result)) {
        let family = canonical_address_family(&socket.family)
            .map_or_else(|| socket.family.clone(), str::to_owned);
        if !rule.allows(&family) {
            out.add(
                ViolationKind::AddressFamily,
                &family,
                &directive,
                "socket() fails with EAFNOSUPPORT; observed: ",
                format!("{} {}", socket.sock_type, socket.protocol)
                    .trim()
                    .to_owned(),
            );
        }
    }
}

/// The IP address in `1.2.3.4`, `1.2.3.4:80`, `::1`, `[::1]:80` and `[fe80::1%eth0]:80`.
fn parse_ip(address: &str) -> Option<IpAddr> {
    let address = address.trim();
    if let Ok(socket) = address.parse::<SocketAddr>() {
        return Some(socket.ip());
    }
    if let Ok(ip) = address.parse::<IpAddr>() {
        return Some(ip);
    }
    let inner = address.strip_prefix('[')?.split(']').next()?;
    inner.split('%').next()?.parse().ok()
}

fn is_loopback(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => v4.is_loopback(),
        IpAddr::V6(v6) => {
            v6.is_loopback() || v6.to_ipv4_mapped().is_some_and(|v4| v4.is_loopback())
        }
    }
}

fn check_network(trace: &Trace, policy: &Policy, out: &mut Findings) {
    if !policy.private_network {
        return;
    }
    let directive = "PrivateNetwork=yes";
    for address in trace.addresses.iter().filter(|a| ok(&a.result)) {
        let family = canonical_address_family(&address.family).unwrap_or_default();
        let op = match address.op {
            crate::event::AddressOp::Bind => "bind",
            crate::event::AddressOp::Connect => "connect",
        };
        let broken = match family {
            "AF_INET" | "AF_INET6" => parse_ip(&address.address).is_some_and(|ip| {
                !is_loopback(ip)
                    && (address.op == crate::event::AddressOp::Connect || !ip.is_unspecified())
            }),
            // Abstract sockets belong to the network namespace: the host's are out of reach.
            "AF_UNIX" => {
                address.op == crate::event::AddressOp::Connect
                    && (address.address.starts_with('@') || address.address.starts_with('\0'))
            }
            _ => false,
        };
        if broken {
            out.add(
                ViolationKind::Network,
                &address.address,
                directive,
                "the private network namespace has only loopback; observed: ",
                op,
            );
        }
    }
    for socket in trace.sockets.iter().filter(|s| ok(&s.result)) {
        if canonical_address_family(&socket.family) == Some("AF_PACKET") {
            out.add(
                ViolationKind::Network,
                "AF_PACKET",
                directive,
                "packet sockets only see the loopback interface; observed: ",
                "socket",
            );
        }
    }
}

fn check_namespaces(trace: &Trace, policy: &Policy, out: &mut Findings) {
    let Some(allowed) = &policy.restrict_namespaces.allowed else {
        return;
    };
    let directive = if allowed.is_empty() {
        "RestrictNamespaces=yes".to_owned()
    } else {
        let names: Vec<&str> = allowed.iter().map(|k| k.as_str()).collect();
        format!("RestrictNamespaces={}", names.join(" "))
    };
    for record in trace.namespaces.iter().filter(|n| ok(&n.result)) {
        if !policy.restrict_namespaces.allows(record.kind) {
            out.add(
                ViolationKind::Namespace,
                record.kind.as_str(),
                &directive,
                "creating or joining it fails with EPERM; via ",
                &record.syscall,
            );
        }
    }
}

/// Value of a `SCHED_*` policy as recorded (`SCHED_FIFO`, `SCHED_RR|SCHED_RESET_ON_FORK`, `1`).
fn sched_policy_value(text: &str) -> Option<u64> {
    text.split('|').try_fold(0u64, |acc, part| {
        let part = part.trim();
        let value = match part {
            "SCHED_OTHER" | "SCHED_NORMAL" => 0,
            "SCHED_FIFO" => 1,
            "SCHED_RR" => 2,
            "SCHED_BATCH" => 3,
            "SCHED_IDLE" => 5,
            "SCHED_DEADLINE" => 6,
            "SCHED_RESET_ON_FORK" => 0x4000_0000,
            number => match number.strip_prefix("0x") {
                Some(hex) => u64::from_str_radix(hex, 16).ok()?,
                None => number.parse().ok()?,
            },
        };
        Some(acc | value)
    })
}

fn check_process_restrictions(trace: &Trace, policy: &Policy, out: &mut Findings) {
    if policy.lock_personality {
        let current = policy
            .personality
            .as_deref()
            .and_then(personality_value)
            .unwrap_or(0);
        for persona in &trace.personalities {
            let value = persona
                .strip_prefix("0x")
                .and_then(|hex| u64::from_str_radix(hex, 16).ok());
            if value != Some(current) {
                out.add(
                    ViolationKind::Personality,
                    persona,
                    "LockPersonality=yes",
                    format!(
                        "personality() with any value but the current {current:#x} fails with EPERM (queries included)"
                    ),
                    "",
                );
            }
        }
    }
    if policy.restrict_realtime {
        for request in &trace.realtime {
            // Only sched_setscheduler() is filtered; sched_setattr() gets through.
            if request.syscall == "sched_setattr" {
                continue;
            }
            let blocked =
                sched_policy_value(&request.policy).is_none_or(|v| v == 1 || v == 2 || v > 5);
            if blocked {
                out.add(
                    ViolationKind::Realtime,
                    &request.policy,
                    "RestrictRealtime=yes",
                    "realtime scheduling fails with EPERM; via ",
                    &request.syscall,
                );
            }
        }
    }
    if policy.memory_deny_write_execute {
        for mapping in trace.memory.iter().filter(|m| ok(&m.result)) {
            let subject = match mapping.kind {
                MapKind::WriteExec => "writable and executable mapping",
                MapKind::ExecGain => "mapping made executable",
                MapKind::ShmExec => "executable shared memory",
            };
            out.add(
                ViolationKind::WriteExecute,
                subject,
                "MemoryDenyWriteExecute=yes",
                "fails with EPERM; via ",
                &mapping.syscall,
            );
        }
    }
    if policy.restrict_suid_sgid {
        for request in trace.setid_modes.iter().filter(|s| ok(&s.result)) {
            let mode = u32::from_str_radix(&request.mode, 8).unwrap_or(0o6000);
            if mode & 0o6000 == 0 {
                continue;
            }
            let subject = request
                .path
                .clone()
                .unwrap_or_else(|| request.syscall.clone());
            out.add(
                ViolationKind::SetId,
                subject,
                policy.describe("RestrictSUIDSGID", "yes"),
                "set-uid/set-gid bits are refused with EPERM; observed: ",
                format!("{} {:04o}", request.syscall, mode),
            );
        }
    }
}

fn check_devices_and_mounts(trace: &Trace, policy: &Policy, out: &mut Findings) {
    if policy.private_devices {
        for node in trace.devices.iter().filter(|d| ok(&d.result)) {
            let kind = match node.kind {
                crate::event::DeviceKind::Char => "mknod char",
                crate::event::DeviceKind::Block => "mknod block",
            };
            out.add(
                ViolationKind::Device,
                &node.path,
                "PrivateDevices=yes",
                "device nodes cannot be created (no CAP_MKNOD, read-only /dev); observed: ",
                kind,
            );
        }
    }
    if policy.private_mounts == Some(true) {
        for mount in trace.mounts.iter().filter(|m| ok(&m.result)) {
            let subject = mount
                .target
                .clone()
                .unwrap_or_else(|| mount.syscall.clone());
            out.add(
                ViolationKind::Mount,
                subject,
                "PrivateMounts=yes",
                "the mount stays inside the service's namespace; via ",
                &mount.syscall,
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::event::{AddressOp, CapOrigin, DeviceKind, Event, Namespace};
    use crate::unit::parse_unit;

    fn groups() -> SyscallGroups {
        SyscallGroups::embedded(252)
    }

    fn policy(lines: &[&str]) -> Policy {
        let text = format!("[Service]\n{}\n", lines.join("\n"));
        let unit = parse_unit("test.service", &text).expect("valid unit");
        let policy = Policy::from_units(&[unit], &groups());
        assert!(policy.warnings.is_empty(), "{:?}", policy.warnings);
        policy
    }

    fn trace(events: Vec<Event>) -> Trace {
        let mut t = Trace::new("x86_64");
        for e in events {
            t.record(e);
        }
        t
    }

    fn syscall(abi: Abi, name: &str) -> Event {
        Event::Syscall {
            abi,
            name: name.into(),
        }
    }

    fn file(path: &str, access: Access) -> Event {
        Event::File {
            path: path.into(),
            access,
            outcome: Ok(()),
        }
    }

    fn failed_file(path: &str, access: Access) -> Event {
        Event::File {
            path: path.into(),
            access,
            outcome: Err("ENOENT".into()),
        }
    }

    fn cap(name: &str, syscall: &str) -> Event {
        Event::Capability {
            cap: caps::parse(name).expect("known cap"),
            origin: CapOrigin::Inferred,
            syscall: Some(syscall.into()),
        }
    }

    /// One observation of every kind a strict policy breaks, plus allowed and failed ones.
    fn busy_trace() -> Trace {
        trace(vec![
            syscall(Abi::X86_64, "read"),
            syscall(Abi::X86_64, "mount"),
            syscall(Abi::I386, "read"),
            cap("CAP_SYS_ADMIN", "mount"),
            cap("CAP_NET_BIND_SERVICE", "bind"),
            file("/etc/app.conf", Access::Write),
            file("/var/lib/app/db", Access::Write),
            failed_file("/etc/missing", Access::Create),
            file("/secret/key", Access::Read),
            failed_file("/secret/other", Access::Read),
            file("/opt/tool", Access::Exec),
            Event::Exec {
                path: "/usr/bin/true".into(),
                interpreter: Some("/usr/lib/x86_64-linux-gnu/ld-linux-x86-64.so.2".into()),
            },
            Event::Socket {
                family: "AF_INET6".into(),
                sock_type: "SOCK_STREAM".into(),
                protocol: "IPPROTO_TCP".into(),
                outcome: Ok(()),
            },
            Event::Socket {
                family: "AF_PACKET".into(),
                sock_type: "SOCK_RAW".into(),
                protocol: "0".into(),
                outcome: Err("EPERM".into()),
            },
            Event::Address {
                op: AddressOp::Connect,
                family: "AF_INET".into(),
                address: "93.184.216.34:443".into(),
                outcome: Ok(()),
            },
            Event::Address {
                op: AddressOp::Connect,
                family: "AF_INET".into(),
                address: "127.0.0.1:5432".into(),
                outcome: Ok(()),
            },
            Event::Namespace {
                syscall: "unshare".into(),
                kinds: vec![Namespace::User],
                outcome: Ok(()),
            },
            Event::Personality { persona: 0x8 },
            Event::Realtime {
                syscall: "sched_setscheduler".into(),
                policy: "SCHED_FIFO".into(),
            },
            Event::Memory {
                kind: MapKind::WriteExec,
                syscall: "mmap".into(),
                outcome: Ok(()),
            },
            Event::SetIdMode {
                syscall: "chmod".into(),
                path: Some("/var/lib/app/tool".into()),
                mode: 0o4755,
                outcome: Ok(()),
            },
            file("/dev/sda", Access::Read),
            file("/dev/null", Access::Write),
            file("/proc/meminfo", Access::Read),
            file("/proc/self/status", Access::Read),
            file("/proc/1234/stat", Access::Read),
            Event::Mount {
                syscall: "mount".into(),
                target: Some("/mnt".into()),
                outcome: Ok(()),
            },
        ])
    }

    fn strict_policy() -> Policy {
        policy(&[
            "SystemCallFilter=@system-service",
            "SystemCallArchitectures=native",
            "CapabilityBoundingSet=CAP_NET_BIND_SERVICE",
            "ProtectSystem=strict",
            "ReadWritePaths=/var/lib/app",
            "InaccessiblePaths=/secret",
            "NoExecPaths=/",
            "ExecPaths=/usr/bin /usr/lib",
            "RestrictAddressFamilies=AF_UNIX AF_INET",
            "RestrictNamespaces=yes",
            "PrivateNetwork=yes",
            "LockPersonality=yes",
            "RestrictRealtime=yes",
            "MemoryDenyWriteExecute=yes",
            "RestrictSUIDSGID=yes",
            "PrivateDevices=yes",
            "ProcSubset=pid",
            "PrivateMounts=yes",
        ])
    }

    #[test]
    fn finds_every_kind_exactly_once() {
        let violations = check(&busy_trace(), &strict_policy(), &groups());
        let found: Vec<(ViolationKind, &str, &str)> = violations
            .iter()
            .map(|v| (v.kind, v.subject.as_str(), v.directive.as_str()))
            .collect();
        use ViolationKind::*;
        let expected: Vec<(ViolationKind, &str, &str)> = vec![
            (Syscall, "mount", "SystemCallFilter="),
            (Architecture, "i386", "SystemCallArchitectures=native"),
            (Capability, "CAP_SYS_ADMIN", "CapabilityBoundingSet="),
            (ReadOnly, "/etc/app.conf", "ProtectSystem=strict"),
            (Inaccessible, "/secret/key", "InaccessiblePaths=/secret"),
            (NoExec, "/opt/tool", "NoExecPaths=/"),
            (
                AddressFamily,
                "AF_INET6",
                "RestrictAddressFamilies=AF_INET AF_UNIX",
            ),
            (Namespace, "user", "RestrictNamespaces=yes"),
            (Network, "93.184.216.34:443", "PrivateNetwork=yes"),
            (Personality, "0x8", "LockPersonality=yes"),
            (Realtime, "SCHED_FIFO", "RestrictRealtime=yes"),
            (
                WriteExecute,
                "writable and executable mapping",
                "MemoryDenyWriteExecute=yes",
            ),
            (SetId, "/var/lib/app/tool", "RestrictSUIDSGID=yes"),
            (Device, "/dev/sda", "PrivateDevices=yes"),
            (ProcSubset, "/proc/meminfo", "ProcSubset=pid"),
            (Mount, "/mnt", "PrivateMounts=yes"),
        ];
        assert_eq!(found, expected, "{violations:#?}");
        for v in &violations {
            let line = v.to_string();
            assert!(!line.contains('\n'), "{line}");
            assert!(line.starts_with(v.kind.as_str()), "{line}");
            assert!(line.ends_with(&format!("[{}]", v.directive)), "{line}");
        }
        assert_eq!(
            violations[0].to_string(),
            "syscall mount: not in the allow-list, so the process is killed (SIGSYS) [SystemCallFilter=]"
        );
        assert_eq!(
            violations[3].to_string(),
            "read-only /etc/app.conf: the path is read-only; observed: write [ProtectSystem=strict]"
        );
    }

    #[test]
    fn permissive_policy_finds_nothing() {
        assert!(check(&busy_trace(), &Policy::default(), &groups()).is_empty());
        assert!(check(&Trace::new("x86_64"), &strict_policy(), &groups()).is_empty());
    }

    #[test]
    fn output_is_sorted_deterministic_and_deduplicated() {
        let mut t = busy_trace();
        // The same observation through a second path spelling and a merged copy of the trace.
        t.record(file("/etc//app.conf/", Access::Write));
        t.record(file("/etc/app.conf", Access::Create));
        t.merge(busy_trace());
        let a = check(&t, &strict_policy(), &groups());
        let b = check(&t, &strict_policy(), &groups());
        assert_eq!(a, b);
        assert!(a.windows(2).all(|w| w[0] < w[1]), "{a:#?}");
        let etc: Vec<&Violation> = a.iter().filter(|v| v.subject == "/etc/app.conf").collect();
        assert_eq!(etc.len(), 1);
        assert_eq!(
            etc[0].detail,
            "the path is read-only; observed: create, write"
        );
    }

    /// (policy lines, events, expected (kind, subject, directive) findings).
    type Case = (
        &'static [&'static str],
        Vec<Event>,
        Vec<(ViolationKind, &'static str, &'static str)>,
    );

    fn run(cases: Vec<Case>) {
        for (lines, events, expected) in cases {
            let found = check(&trace(events), &policy(lines), &groups());
            let found: Vec<(ViolationKind, &str, &str)> = found
                .iter()
                .map(|v| (v.kind, v.subject.as_str(), v.directive.as_str()))
                .collect();
            assert_eq!(found, expected, "{lines:?}");
        }
    }

    #[test]
    fn file_system_directives() {
        use ViolationKind::*;
        run(vec![
            // Component-wise comparison: /etcfoo is not under /etc.
            (
                &["ReadOnlyPaths=/etc"],
                vec![
                    file("/etcfoo/x", Access::Write),
                    file("/etc/x", Access::Delete),
                ],
                vec![(ReadOnly, "/etc/x", "ReadOnlyPaths=/etc")],
            ),
            (
                &["ProtectSystem=yes"],
                vec![
                    file("/usr/local/x", Access::Create),
                    file("/boot/grub", Access::Chattr),
                    file("/etc/x", Access::Write),
                ],
                vec![
                    (ReadOnly, "/boot/grub", "ProtectSystem=yes"),
                    (ReadOnly, "/usr/local/x", "ProtectSystem=yes"),
                ],
            ),
            (
                &["ProtectSystem=full", "ReadWritePaths=/etc/app"],
                vec![
                    file("/etc/x", Access::Write),
                    file("/etc/app/x", Access::Write),
                    file("/var/x", Access::Write),
                ],
                vec![(ReadOnly, "/etc/x", "ProtectSystem=full")],
            ),
            // strict leaves /proc /sys /dev /home /root /run/user alone; /tmp needs PrivateTmp=.
            (
                &[
                    "ProtectSystem=strict",
                    "StateDirectory=app",
                    "RuntimeDirectory=app",
                ],
                vec![
                    file("/home/u/x", Access::Write),
                    file("/root/x", Access::Write),
                    file("/run/user/0/x", Access::Write),
                    file("/proc/self/oom_score_adj", Access::Write),
                    file("/var/lib/app/db", Access::Write),
                    file("/run/app/pid", Access::Create),
                    file("/run/other", Access::Create),
                    file("/tmp/x", Access::Create),
                ],
                vec![
                    (ReadOnly, "/run/other", "ProtectSystem=strict"),
                    (ReadOnly, "/tmp/x", "ProtectSystem=strict"),
                ],
            ),
            (
                &["ProtectSystem=strict", "PrivateTmp=yes"],
                vec![
                    file("/tmp/x", Access::Create),
                    file("/var/tmp/y", Access::Rename),
                ],
                vec![],
            ),
            (
                &["DynamicUser=yes", "StateDirectory=app"],
                vec![
                    file("/var/lib/private/app/db", Access::Write),
                    file("/tmp/x", Access::Write),
                    file("/home/u/x", Access::Write),
                    file("/etc/x", Access::Write),
                ],
                vec![
                    (
                        ReadOnly,
                        "/etc/x",
                        "ProtectSystem=strict (implied by DynamicUser=yes)",
                    ),
                    (
                        ReadOnly,
                        "/home/u/x",
                        "ProtectHome=read-only (implied by DynamicUser=yes)",
                    ),
                ],
            ),
            // ProtectHome=yes: the nodes themselves can be stat()ed, nothing below them is there.
            (
                &["ProtectHome=yes"],
                vec![
                    file("/home", Access::Stat),
                    file("/root", Access::Read),
                    file("/home/u/.profile", Access::Stat),
                    failed_file("/root/.cache", Access::Read),
                ],
                vec![
                    (Inaccessible, "/home/u/.profile", "ProtectHome=yes"),
                    (Inaccessible, "/root", "ProtectHome=yes"),
                ],
            ),
            (
                &["ProtectHome=tmpfs"],
                vec![
                    file("/home/u/.profile", Access::Read),
                    file("/home", Access::Read),
                ],
                vec![(Inaccessible, "/home/u/.profile", "ProtectHome=tmpfs")],
            ),
            (
                &["ProtectHome=read-only"],
                vec![
                    file("/root/.cache/x", Access::Write),
                    file("/root/.profile", Access::Read),
                ],
                vec![(ReadOnly, "/root/.cache/x", "ProtectHome=read-only")],
            ),
            // systemd 252: ExecPaths= entries are writable, ReadWritePaths= entries executable.
            (
                &[
                    "ProtectSystem=strict",
                    "NoExecPaths=/",
                    "ExecPaths=/usr/bin",
                    "ReadWritePaths=/var/lib/app",
                ],
                vec![
                    file("/usr/bin/new", Access::Create),
                    file("/usr/lib/libc.so.6", Access::MmapExec),
                    file("/var/lib/app/plugin.so", Access::MmapExec),
                ],
                vec![(NoExec, "/usr/lib/libc.so.6", "NoExecPaths=/")],
            ),
            // Listed in NoExecPaths= itself, a writable mount is noexec (the private /dev's
            // /dev/shm through /dev); a more specific ExecPaths= file below it still runs,
            // and BindReadOnlyPaths= makes that file read-only without taking exec away.
            (
                &[
                    "ProtectSystem=strict",
                    "PrivateTmp=yes",
                    "PrivateDevices=yes",
                    "NoExecPaths=/ -/var/lib/app -/tmp -/dev",
                    "ExecPaths=/var/lib/app/bin/tool",
                    "BindReadOnlyPaths=-/var/lib/app/bin/tool",
                    "ReadWritePaths=/var/lib/app",
                ],
                vec![
                    file("/var/lib/app/plugin.so", Access::MmapExec),
                    file("/var/lib/app/bin/tool", Access::Exec),
                    file("/var/lib/app/bin/tool", Access::Write),
                    file("/tmp/copy", Access::Exec),
                    file("/dev/shm/copy", Access::Exec),
                    file("/dev/shm/copy", Access::Create),
                ],
                vec![
                    (
                        ReadOnly,
                        "/var/lib/app/bin/tool",
                        "BindReadOnlyPaths=/var/lib/app/bin/tool",
                    ),
                    (NoExec, "/dev/shm/copy", "NoExecPaths=-/dev"),
                    (NoExec, "/tmp/copy", "NoExecPaths=-/tmp"),
                    (
                        NoExec,
                        "/var/lib/app/plugin.so",
                        "NoExecPaths=-/var/lib/app",
                    ),
                ],
            ),
        ]);
    }

    #[test]
    fn same_path_read_only_and_exec_paths_breaks_exec() {
        let policy = policy(&[
            "ProtectSystem=strict",
            "NoExecPaths=/",
            "ReadOnlyPaths=/usr",
            "ExecPaths=/usr",
        ]);
        let t = trace(vec![Event::Exec {
            path: "/usr/bin/true".into(),
            interpreter: None,
        }]);
        let found = check(&t, &policy, &groups());
        assert_eq!(found.len(), 1, "{found:#?}");
        assert_eq!(found[0].kind, ViolationKind::NoExec);
        assert!(
            found[0]
                .detail
                .starts_with("ExecPaths=/usr does not take effect here"),
            "{}",
            found[0].detail
        );
    }

    #[test]
    fn kernel_and_proc_directives() {
        use ViolationKind::*;
        run(vec![
            (
                &["ProtectKernelTunables=yes"],
                vec![
                    file("/proc/sys/net/ipv4/ip_forward", Access::Write),
                    file("/proc/sys/kernel/hostname", Access::Read),
                    file("/proc/kallsyms", Access::Read),
                    file("/sys/class/net/eth0/mtu", Access::Write),
                    file("/sys/fs/cgroup/app/cgroup.procs", Access::Write),
                    syscall(Abi::X86_64, "_sysctl"),
                ],
                vec![
                    (Syscall, "_sysctl", "ProtectKernelTunables=yes"),
                    (
                        ReadOnly,
                        "/proc/sys/net/ipv4/ip_forward",
                        "ProtectKernelTunables=yes",
                    ),
                    (
                        ReadOnly,
                        "/sys/class/net/eth0/mtu",
                        "ProtectKernelTunables=yes",
                    ),
                    (Inaccessible, "/proc/kallsyms", "ProtectKernelTunables=yes"),
                ],
            ),
            (
                &["ProtectControlGroups=yes"],
                vec![
                    file("/sys/fs/cgroup/app/cgroup.procs", Access::Write),
                    file("/sys/fs/cgroup/x", Access::Read),
                ],
                vec![(
                    ReadOnly,
                    "/sys/fs/cgroup/app/cgroup.procs",
                    "ProtectControlGroups=yes",
                )],
            ),
            (
                &["ProtectKernelLogs=yes"],
                vec![
                    file("/dev/kmsg", Access::Write),
                    syscall(Abi::X86_64, "syslog"),
                    cap("CAP_SYSLOG", "syslog"),
                ],
                vec![
                    (Syscall, "syslog", "ProtectKernelLogs=yes"),
                    (Capability, "CAP_SYSLOG", "ProtectKernelLogs=yes"),
                    (Inaccessible, "/dev/kmsg", "ProtectKernelLogs=yes"),
                ],
            ),
            (
                &["ProtectKernelModules=yes"],
                vec![
                    file("/usr/lib/modules/6.1.0/modules.dep", Access::Read),
                    syscall(Abi::X86_64, "finit_module"),
                ],
                vec![
                    (Syscall, "finit_module", "ProtectKernelModules=yes"),
                    (
                        Inaccessible,
                        "/usr/lib/modules/6.1.0/modules.dep",
                        "ProtectKernelModules=yes",
                    ),
                ],
            ),
            (
                &["ProtectClock=yes"],
                vec![
                    syscall(Abi::X86_64, "clock_settime"),
                    syscall(Abi::X86_64, "clock_gettime"),
                    cap("CAP_SYS_TIME", "clock_settime"),
                ],
                vec![
                    (Syscall, "clock_settime", "ProtectClock=yes"),
                    (Capability, "CAP_SYS_TIME", "ProtectClock=yes"),
                ],
            ),
            (
                &["ProtectHostname=yes"],
                vec![
                    syscall(Abi::X86_64, "sethostname"),
                    syscall(Abi::X86_64, "uname"),
                ],
                vec![(Syscall, "sethostname", "ProtectHostname=yes")],
            ),
            (
                &["PrivateDevices=yes"],
                vec![
                    file("/dev/shm/seg", Access::Create),
                    file("/dev/pts/3", Access::Write),
                    file("/dev/urandom", Access::Read),
                    file("/dev/zero", Access::MmapExec),
                    file("/dev/newnode", Access::Create),
                    Event::Mknod {
                        path: "/dev/loop9".into(),
                        kind: DeviceKind::Block,
                        outcome: Ok(()),
                    },
                    syscall(Abi::X86_64, "iopl"),
                ],
                vec![
                    (Syscall, "iopl", "PrivateDevices=yes"),
                    (NoExec, "/dev/zero", "PrivateDevices=yes"),
                    (Device, "/dev/loop9", "PrivateDevices=yes"),
                    (Device, "/dev/newnode", "PrivateDevices=yes"),
                ],
            ),
        ]);
    }

    #[test]
    fn syscall_filters_and_architectures() {
        use ViolationKind::*;
        run(vec![
            (
                &["SystemCallFilter=~@mount", "SystemCallErrorNumber=EPERM"],
                vec![
                    syscall(Abi::X86_64, "mount"),
                    syscall(Abi::X86_64, "read"),
                    syscall(Abi::I386, "umount2"),
                ],
                vec![
                    (Syscall, "mount", "SystemCallFilter="),
                    (Syscall, "umount2 (i386)", "SystemCallFilter="),
                ],
            ),
            (
                &["SystemCallArchitectures=native x86"],
                vec![
                    syscall(Abi::I386, "read"),
                    syscall(Abi::X32, "read"),
                    syscall(Abi::X86_64, "read"),
                ],
                vec![(Architecture, "x32", "SystemCallArchitectures=native x86")],
            ),
        ]);
        let found = check(
            &trace(vec![syscall(Abi::X86_64, "mount")]),
            &policy(&["SystemCallFilter=~@mount", "SystemCallErrorNumber=EPERM"]),
            &groups(),
        );
        assert_eq!(found[0].detail, "in the deny-list, so it fails with EPERM");
        let found = check(
            &trace(vec![syscall(Abi::X86_64, "ioctl")]),
            &policy(&[
                "SystemCallFilter=@system-service",
                "SystemCallFilter=~ioctl:ENOTTY",
            ]),
            &groups(),
        );
        assert_eq!(
            found[0].detail,
            "listed as ~ioctl:ENOTTY, so it fails with ENOTTY"
        );
    }

    #[test]
    fn capabilities_for_non_root_and_private_users() {
        use ViolationKind::*;
        run(vec![
            (
                &[
                    "User=www-data",
                    "AmbientCapabilities=CAP_NET_BIND_SERVICE",
                    "CapabilityBoundingSet=CAP_NET_BIND_SERVICE",
                ],
                vec![
                    cap("CAP_NET_BIND_SERVICE", "bind"),
                    cap("CAP_NET_RAW", "socket"),
                ],
                vec![
                    (Capability, "CAP_NET_RAW", "AmbientCapabilities="),
                    (Capability, "CAP_NET_RAW", "CapabilityBoundingSet="),
                ],
            ),
            (&["User=root"], vec![cap("CAP_NET_RAW", "socket")], vec![]),
            (
                &["PrivateUsers=yes"],
                vec![cap("CAP_CHOWN", "chown")],
                vec![(Capability, "CAP_CHOWN", "PrivateUsers=yes")],
            ),
        ]);
    }

    #[test]
    fn process_restrictions_need_successful_evidence() {
        use ViolationKind::*;
        run(vec![
            (
                &["RestrictRealtime=yes"],
                vec![
                    Event::Realtime {
                        syscall: "sched_setattr".into(),
                        policy: "SCHED_FIFO".into(),
                    },
                    Event::Realtime {
                        syscall: "sched_setscheduler".into(),
                        policy: "SCHED_OTHER".into(),
                    },
                    Event::Realtime {
                        syscall: "sched_setscheduler".into(),
                        policy: "SCHED_OTHER|SCHED_RESET_ON_FORK".into(),
                    },
                ],
                vec![(
                    Realtime,
                    "SCHED_OTHER|SCHED_RESET_ON_FORK",
                    "RestrictRealtime=yes",
                )],
            ),
            (
                &["LockPersonality=yes", "Personality=x86"],
                vec![
                    Event::Personality { persona: 0x8 },
                    Event::Personality {
                        persona: 0xffff_ffff,
                    },
                ],
                vec![(Personality, "0xffffffff", "LockPersonality=yes")],
            ),
            (
                &[
                    "MemoryDenyWriteExecute=yes",
                    "RestrictSUIDSGID=yes",
                    "RestrictNamespaces=net",
                ],
                vec![
                    Event::Memory {
                        kind: MapKind::ExecGain,
                        syscall: "mprotect".into(),
                        outcome: Err("EACCES".into()),
                    },
                    Event::SetIdMode {
                        syscall: "chmod".into(),
                        path: Some("/x".into()),
                        mode: 0o755,
                        outcome: Ok(()),
                    },
                    Event::SetIdMode {
                        syscall: "mkdir".into(),
                        path: None,
                        mode: 0o2775,
                        outcome: Err("EPERM".into()),
                    },
                    Event::Namespace {
                        syscall: "unshare".into(),
                        kinds: vec![crate::event::Namespace::Net],
                        outcome: Ok(()),
                    },
                    Event::Namespace {
                        syscall: "clone".into(),
                        kinds: vec![crate::event::Namespace::Mnt],
                        outcome: Err("EPERM".into()),
                    },
                ],
                vec![],
            ),
            (
                &["PrivateNetwork=yes"],
                vec![
                    Event::Address {
                        op: AddressOp::Bind,
                        family: "AF_INET6".into(),
                        address: "[::]:80".into(),
                        outcome: Ok(()),
                    },
                    Event::Address {
                        op: AddressOp::Bind,
                        family: "inet".into(),
                        address: "10.0.0.5:80".into(),
                        outcome: Ok(()),
                    },
                    Event::Address {
                        op: AddressOp::Connect,
                        family: "AF_INET6".into(),
                        address: "[::1]:53".into(),
                        outcome: Ok(()),
                    },
                    Event::Address {
                        op: AddressOp::Connect,
                        family: "AF_UNIX".into(),
                        address: "@/org/freedesktop/x".into(),
                        outcome: Ok(()),
                    },
                    Event::Address {
                        op: AddressOp::Connect,
                        family: "AF_UNIX".into(),
                        address: "/run/x.sock".into(),
                        outcome: Ok(()),
                    },
                ],
                vec![
                    (Network, "10.0.0.5:80", "PrivateNetwork=yes"),
                    (Network, "@/org/freedesktop/x", "PrivateNetwork=yes"),
                ],
            ),
        ]);
    }

    #[test]
    fn odd_trace_values_do_not_panic() {
        let mut t = trace(vec![
            file("relative/path", Access::Write),
            file("/a/../b", Access::Write),
            file("", Access::Exec),
            Event::Personality { persona: u64::MAX },
            Event::Realtime {
                syscall: "sched_setscheduler".into(),
                policy: "garbage|||".into(),
            },
            Event::Socket {
                family: "".into(),
                sock_type: "".into(),
                protocol: "".into(),
                outcome: Ok(()),
            },
            Event::Address {
                op: AddressOp::Connect,
                family: "AF_INET".into(),
                address: "[".into(),
                outcome: Ok(()),
            },
            cap("CAP_CHECKPOINT_RESTORE", "clone3"),
        ]);
        t.personalities.insert("not-hex".into());
        t.setid_modes.insert(crate::trace::SetIdRecord {
            syscall: "chmod".into(),
            path: None,
            mode: "9999".into(),
            result: "ok".into(),
        });
        t.meta.arch = "sparc".into();
        let found = check(&t, &strict_policy(), &groups());
        assert!(found.iter().all(|v| !v.to_string().contains('\n')));
        assert!(found
            .iter()
            .any(|v| v.kind == ViolationKind::AddressFamily && v.subject.is_empty()));
    }
}
