//! One rule per directive: find the evidence that rules out its strictest value, emit or explain.

use super::paths::{self, is_strictly_under, is_under, minimal_cover, parent};
use super::{min_version, Directive, Level, Omitted, SuggestOptions, Suggestion, TargetFacts};
use crate::event::{Abi, Access, AddressOp, CapOrigin, Namespace};
use crate::tables::caps;
use crate::trace::{Backend, FileRecord, Trace};
use crate::unit::{quote_directory_name, quote_path, quote_word, PROC_TUNABLES};
use std::collections::{BTreeMap, BTreeSet};

/// Long `SystemCallFilter=` allow-lists are split into lines of about this many characters
/// (allow-list lines are additive, so splitting does not change the meaning).
const FILTER_LINE_WIDTH: usize = 96;

/// At most this many observations are quoted as evidence for one decision.
const EVIDENCE_SAMPLES: usize = 6;

/// Programs that are set-uid/set-gid or carry file capabilities on Debian (the standard system
/// and the common daemons' helpers); `NoNewPrivileges=` would strip the privileges they exist
/// for. A trace holds paths, not file modes, so the list is by name.
const PRIVILEGED_PROGRAMS: [&str; 35] = [
    // passwd, login, util-linux, sudo, policykit
    "sudo",
    "sudoedit",
    "su",
    "sg",
    "passwd",
    "chsh",
    "chfn",
    "chage",
    "expiry",
    "gpasswd",
    "newgrp",
    "mount",
    "umount",
    "wall",
    "write",
    "pkexec",
    "polkit-agent-helper-1",
    // PAM, D-Bus, OpenSSH, cron, at, mail
    "unix_chkpwd",
    "dbus-daemon-launch-helper",
    "ssh-keysign",
    "crontab",
    "at",
    "dotlockfile",
    "postdrop",
    "postqueue",
    "exim4",
    // FUSE, network file systems, user namespaces, ping and friends
    "fusermount",
    "fusermount3",
    "mount.cifs",
    "mount.nfs",
    "ntfs-3g",
    "newuidmap",
    "newgidmap",
    "ping",
    "mtr-packet",
];

/// Directives that make systemd install a seccomp filter. For a unit whose user is not root,
/// systemd then sets no_new_privs whatever `NoNewPrivileges=` says (it does so whenever the
/// process lacks CAP_SYS_ADMIN at that point), so a set-id program needs all of them left out.
const SECCOMP_DIRECTIVES: [&str; 15] = [
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
];

/// `@clock` members, used if the target's table lacks the group.
const CLOCK_FALLBACK: [&str; 6] = [
    "adjtimex",
    "clock_adjtime",
    "clock_adjtime64",
    "clock_settime",
    "clock_settime64",
    "settimeofday",
];

/// `@raw-io` members, used if the target's table lacks the group.
const RAW_IO_FALLBACK: [&str; 5] = [
    "ioperm",
    "iopl",
    "pciconfig_iobase",
    "pciconfig_read",
    "pciconfig_write",
];

/// Accumulates directives in emission order.
pub(super) struct Builder<'a> {
    trace: &'a Trace,
    facts: &'a TargetFacts,
    options: SuggestOptions,
    directives: Vec<Directive>,
    omitted: Vec<Omitted>,
    warnings: Vec<String>,
    /// Successful file observations, the only ones that prove a need.
    ok_files: Vec<&'a FileRecord>,
    /// Every syscall name used, over all ABIs.
    used_syscalls: BTreeSet<&'a str>,
}

/// A short, escaped quote of a path for evidence text.
fn show(path: &str) -> String {
    quote_word(path)
}

fn sample(items: impl IntoIterator<Item = String>) -> String {
    let all: Vec<String> = items.into_iter().collect();
    let shown: Vec<&str> = all
        .iter()
        .take(EVIDENCE_SAMPLES)
        .map(String::as_str)
        .collect();
    let mut s = shown.join(", ");
    if all.len() > EVIDENCE_SAMPLES {
        s.push_str(&format!(" and {} more", all.len() - EVIDENCE_SAMPLES));
    }
    s
}

fn basename(path: &str) -> &str {
    path.rsplit('/').next().unwrap_or(path)
}

fn is_loopback(address: &str) -> bool {
    let host = address
        .strip_prefix('[')
        .and_then(|rest| rest.split(']').next())
        .unwrap_or_else(|| address.rsplit_once(':').map_or(address, |(h, _)| h));
    host.starts_with("127.") || host == "::1" || host.starts_with("::ffff:127.")
}

fn is_wildcard(address: &str) -> bool {
    let host = address
        .strip_prefix('[')
        .and_then(|rest| rest.split(']').next())
        .unwrap_or_else(|| address.rsplit_once(':').map_or(address, |(h, _)| h));
    host == "0.0.0.0" || host == "::" || host == "::ffff:0.0.0.0"
}

/// systemd's name for an ABI in `SystemCallArchitectures=`.
fn systemd_arch_name(abi: Abi) -> &'static str {
    match abi {
        Abi::X86_64 => "x86-64",
        Abi::I386 => "x86",
        Abi::X32 => "x32",
        Abi::Aarch64 => "arm64",
    }
}

/// The ELF interpreter the kernel maps for dynamically linked programs; it must stay executable.
fn elf_interpreter(arch: &str) -> Option<&'static str> {
    match arch {
        "x86_64" => Some("/lib64/ld-linux-x86-64.so.2"),
        "aarch64" => Some("/lib/ld-linux-aarch64.so.1"),
        "i386" | "i686" => Some("/lib/ld-linux.so.2"),
        _ => None,
    }
}

impl<'a> Builder<'a> {
    pub(super) fn new(trace: &'a Trace, facts: &'a TargetFacts, options: SuggestOptions) -> Self {
        Builder {
            trace,
            facts,
            options,
            directives: Vec::new(),
            omitted: Vec::new(),
            warnings: Vec::new(),
            ok_files: trace.files.iter().filter(|f| f.ok()).collect(),
            used_syscalls: trace.syscalls.iter().map(|s| s.name.as_str()).collect(),
        }
    }

    pub(super) fn finish(self) -> Suggestion {
        let keep_exec = self.written_and_executed().into_iter().collect();
        Suggestion {
            systemd_version: self.facts.systemd_version,
            level: self.options.level,
            directives: self.directives,
            omitted: self.omitted,
            warnings: self.warnings,
            keep_exec,
        }
    }

    /// Files the service both writes (creates, renames, …) and executes or maps executable:
    /// they may not exist when systemd sets the namespace up, so an `ExecPaths=` entry cannot
    /// cover them, and the writable mount that holds them must stay executable.
    fn written_and_executed(&self) -> BTreeSet<String> {
        let written: BTreeSet<&str> = self
            .ok_files
            .iter()
            .filter(|f| f.access.is_write())
            .map(|f| f.path.as_str())
            .collect();
        let mut executed: BTreeSet<&str> = self
            .ok_files
            .iter()
            .filter(|f| f.access.is_exec())
            .map(|f| f.path.as_str())
            .collect();
        for e in &self.trace.execs {
            executed.insert(&e.path);
            if let Some(i) = &e.interpreter {
                executed.insert(i);
            }
        }
        executed
            .intersection(&written)
            .map(|p| (*p).to_owned())
            .collect()
    }

    /// `NoExecPaths=/` alone leaves every writable mount executable in systemd 252: list them,
    /// once every other rule (and [`Self::keep_set_id_programs_working`]) has settled which
    /// mounts the drop-in makes.
    fn no_exec_writable_mounts(&mut self) {
        let mut policy = match super::noexec::policy_of(&self.directives, &self.facts.groups) {
            Ok(p) => p,
            Err(e) => {
                self.warnings.push(format!(
                    "NoExecPaths: cannot model the drop-in's mounts ({e}); writable paths may stay executable"
                ));
                return;
            }
        };
        // ProtectKernelTunables=, ProtectControlGroups=, ProtectProc= and ProcSubset= mount the
        // API file systems, whose /run entry keeps /run writable and executable under
        // ProtectSystem=strict in systemd 252. ReadOnlyPaths=/run merges with that entry and
        // lets the read-only / cover /run again; the service's own places below /run
        // (RuntimeDirectory=, ReadWritePaths=) are entries of their own and stay writable.
        let strict = policy.protect_system == crate::unit::ProtectSystem::Strict;
        let run_granted = policy.read_write_paths.iter().any(|p| p.path == "/run");
        if strict && !run_granted && policy.mount_table().lookup("/run").read_only.is_none() {
            let at = self
                .directives
                .iter()
                .rposition(|d| d.key == "ReadWritePaths" || d.key == "ProtectSystem")
                .map_or(self.directives.len(), |i| i + 1);
            self.directives.insert(
                at,
                Directive {
                    key: "ReadOnlyPaths".to_owned(),
                    value: "-/run".to_owned(),
                    evidence: vec![
                        "/run read-only: systemd 252 leaves it writable under ProtectSystem=strict once the API file systems are mounted (ProtectKernelTunables=, ProtectControlGroups=, ProtectProc=, ProcSubset=)".to_owned(),
                    ],
                },
            );
            if let Ok(p) = super::noexec::policy_of(&self.directives, &self.facts.groups) {
                policy = p;
            }
        }
        if !self.directives.iter().any(|d| d.key == "NoExecPaths") {
            return;
        }
        let keep: Vec<String> = self.written_and_executed().into_iter().collect();
        super::noexec::list_writable_mounts(
            &mut self.directives,
            &policy,
            &keep,
            &mut self.warnings,
        );
    }

    fn emit(&mut self, key: &str, value: impl Into<String>, evidence: Vec<String>) {
        if let Some(min) = min_version(key) {
            if self.facts.systemd_version < min {
                self.omit(
                    key,
                    format!(
                        "needs systemd {min} or newer (target has {})",
                        self.facts.systemd_version
                    ),
                );
                return;
            }
        }
        self.directives.push(Directive {
            key: key.to_owned(),
            value: value.into(),
            evidence,
        });
    }

    /// `path` as one word of a path setting (`ReadWritePaths=`, `ExecPaths=`), with `prefix`;
    /// `None`, with a warning, for paths such settings cannot express (control characters).
    fn path_word(&mut self, key: &str, prefix: &str, path: &str) -> Option<String> {
        match quote_path(path) {
            Ok(word) => Some(format!("{prefix}{word}")),
            Err(e) => {
                self.warnings
                    .push(format!("{key}: left out {}: {e}", quote_word(path)));
                None
            }
        }
    }

    /// An empty assignment first, so the suggestion replaces a list the unit already has instead
    /// of adding to it (list settings accumulate across a unit and its drop-ins).
    fn reset(&mut self, key: &str) {
        self.emit(
            key,
            "",
            vec![format!(
                "{key}= empty first: replaces what the unit already sets"
            )],
        );
    }

    fn omit(&mut self, key: &str, reason: impl Into<String>) {
        self.omitted.push(Omitted {
            key: key.to_owned(),
            reason: reason.into(),
        });
    }

    /// Emits `key=yes` unless `blockers` is non-empty, in which case it is omitted with them as reason.
    fn yes_unless(&mut self, key: &str, checked: &str, blockers: Vec<String>) {
        if blockers.is_empty() {
            self.emit(key, "yes", vec![format!("{key}: no {checked} observed")]);
        } else {
            self.omit(key, format!("needed: {}", sample(blockers)));
        }
    }

    fn used(&self, name: &str) -> bool {
        self.used_syscalls.contains(name)
    }

    fn used_from(&self, names: &[&str]) -> Vec<String> {
        names
            .iter()
            .filter(|n| self.used(n))
            .map(|n| format!("syscall {n}"))
            .collect()
    }

    fn group_or(&self, group: &str, fallback: &[&str]) -> BTreeSet<String> {
        self.facts
            .groups
            .expand(group)
            .unwrap_or_else(|| fallback.iter().map(|s| (*s).to_owned()).collect())
    }

    fn ok_files_where(&self, pred: impl Fn(&FileRecord) -> bool) -> Vec<String> {
        let mut seen = BTreeSet::new();
        for f in &self.ok_files {
            if pred(f) {
                seen.insert(format!("{} {}", f.access, show(&f.path)));
            }
        }
        seen.into_iter().collect()
    }

    pub(super) fn run_all(&mut self) {
        if !self.trace.meta.integrity.is_clean() {
            let i = &self.trace.meta.integrity;
            self.warnings.push(format!(
                "the evidence is incomplete (events lost {}, paths truncated {}, lossy {}, unresolved {}, unparsed lines {}); review the result",
                i.events_lost, i.paths_truncated, i.paths_lossy, i.paths_unresolved, i.lines_unparsed
            ));
        }
        self.lifecycle_coverage();
        self.syscall_filter();
        self.emit(
            "SystemCallErrorNumber",
            "EPERM",
            vec!["denied calls fail with EPERM instead of killing the service".to_owned()],
        );
        self.syscall_architectures();
        self.capabilities();
        self.no_new_privileges();
        self.file_system();
        self.exec_paths();
        self.private_tmp();
        self.protect_home();
        self.private_devices();
        self.kernel_and_system();
        self.proc_rules();
        self.network();
        self.restrictions();
        self.private_users();
        self.umask();
        self.keep_set_id_programs_working();
        self.no_exec_writable_mounts();
    }

    /// A set-id program the service runs (the evidence that kept `NoNewPrivileges=` out) only
    /// gains its privileges if systemd does not set no_new_privs behind the unit's back, which
    /// it does for a unit that is not root as soon as any seccomp-based directive is set; and
    /// only if its owner and group are mapped, which `PrivateUsers=` does not do for most. So
    /// those directives go too. (For a root service the set-id bits change nothing, and they
    /// could be added back.)
    fn keep_set_id_programs_working(&mut self) {
        let Some(programs) = self.set_id_programs() else {
            return;
        };
        let reason = format!(
            "the service runs set-id programs ({programs}): for a unit that is not root, systemd sets no_new_privs when any seccomp-based directive is set"
        );
        let mut removed: Vec<String> = Vec::new();
        self.directives.retain(|d| {
            let seccomp = SECCOMP_DIRECTIVES.contains(&d.key.as_str());
            if seccomp && !removed.contains(&d.key) {
                removed.push(d.key.clone());
            }
            !seccomp
        });
        for key in removed {
            self.omit(&key, reason.clone());
        }
        let before = self.directives.len();
        self.directives.retain(|d| d.key != "PrivateUsers");
        if self.directives.len() != before {
            self.omit(
                "PrivateUsers",
                format!("the service runs set-id programs ({programs}), and a user namespace ignores the set-id bits of files whose owner or group it does not map"),
            );
        }
    }

    /// The set-id programs the service executes, for messages; `None` if it runs none.
    fn set_id_programs(&self) -> Option<String> {
        let found: BTreeSet<String> = self
            .trace
            .execs
            .iter()
            .filter(|e| PRIVILEGED_PROGRAMS.contains(&basename(&e.path)))
            .map(|e| show(&e.path))
            .collect();
        (!found.is_empty()).then(|| sample(found))
    }

    /// A unit's recording shows only the phases of its life that happened while it ran: code that
    /// runs only at a cold start, a reload or a stop is missing from the evidence otherwise.
    fn lifecycle_coverage(&mut self) {
        use crate::trace::{Phase, Target};
        if !self
            .trace
            .meta
            .targets
            .iter()
            .any(|t| matches!(t, Target::Unit(_)))
        {
            return;
        }
        let seen = &self.trace.meta.lifecycle.phases;
        let missing: Vec<&str> = [Phase::Start, Phase::ColdStart, Phase::Reload, Phase::Stop]
            .into_iter()
            .filter(|p| !seen.contains(p))
            .map(Phase::as_str)
            .collect();
        if !missing.is_empty() {
            self.warnings.push(format!(
                "the recording never saw the unit's {}: what only those run (ExecStartPre=, \
                 first-start set-up such as creating and chowning directories, ExecReload=, \
                 ExecStop=) is missing from this suggestion; record with --exercise to cover them",
                missing.join(", ")
            ));
        }
    }

    fn syscall_filter(&mut self) {
        let key = "SystemCallFilter";
        let known = self.facts.groups.known();
        let mut allowed: BTreeSet<&str> = BTreeSet::new();
        let mut unknown: BTreeSet<&str> = BTreeSet::new();
        // glibc tries clone3 first and falls back to clone only on ENOSYS. A trace with clone
        // but no clone3 was recorded under a filter that answered ENOSYS (RestrictNamespaces=
        // does); under ours clone3 would get EPERM and there would be no fallback.
        let clone3_implied = self.used("clone") && !self.used("clone3") && known.contains("clone3");
        if clone3_implied {
            allowed.insert("clone3");
        }
        for name in &self.used_syscalls {
            if known.contains(*name) {
                allowed.insert(name);
            } else {
                unknown.insert(name);
            }
        }
        if !unknown.is_empty() {
            let list: Vec<&str> = unknown.iter().copied().collect();
            self.warnings.push(format!(
                "systemd {} cannot name these observed syscalls, so the filter will deny them (EPERM): {}",
                self.facts.systemd_version,
                list.join(" ")
            ));
        }
        let default = self.facts.groups.expand("@default").unwrap_or_default();
        let level = if self.options.level == Level::Groups
            && !self.facts.groups.has_group("@system-service")
        {
            self.warnings.push(format!(
                "systemd {} has no @system-service group; using explicit syscall names",
                self.facts.systemd_version
            ));
            Level::Strict
        } else {
            self.options.level
        };
        let mut evidence = vec![format!(
            "{} distinct syscalls observed; @default is always allowed",
            self.used_syscalls.len()
        )];
        if clone3_implied {
            evidence.push(
                "clone3 allowed because clone was used (glibc tries clone3 first)".to_owned(),
            );
        }
        let mut lines: Vec<String> = Vec::new();
        match level {
            Level::Strict => {
                let names: Vec<&str> = allowed
                    .iter()
                    .copied()
                    .filter(|n| !default.contains(*n))
                    .collect();
                if names.is_empty() {
                    lines.push("@default".to_owned());
                } else {
                    lines.extend(wrap_words(&names, FILTER_LINE_WIDTH));
                }
            }
            Level::Groups => {
                let service = self
                    .facts
                    .groups
                    .expand("@system-service")
                    .unwrap_or_default();
                let extra: Vec<&str> = allowed
                    .iter()
                    .copied()
                    .filter(|n| !service.contains(*n) && !default.contains(*n))
                    .collect();
                let mut first = vec!["@system-service"];
                first.extend(extra.iter().copied());
                lines.extend(wrap_words(&first, FILTER_LINE_WIDTH));
                if !extra.is_empty() {
                    evidence.push(format!("used outside @system-service: {}", extra.join(" ")));
                }
                let mut allow_list: BTreeSet<String> = service.clone();
                allow_list.extend(extra.iter().map(|s| (*s).to_owned()));
                let mut removals = Vec::new();
                for (group, _) in crate::tables::groups::SCORED_GROUPS {
                    let Some(members) = self.facts.groups.expand(group) else {
                        continue;
                    };
                    let used: Vec<&String> =
                        members.iter().filter(|m| self.used(m.as_str())).collect();
                    let touches_default = members.iter().any(|m| default.contains(m));
                    let in_allow_list = members.iter().any(|m| allow_list.contains(m));
                    if used.is_empty() && !touches_default && in_allow_list {
                        removals.push(group);
                    } else if !used.is_empty() && in_allow_list {
                        evidence.push(format!(
                            "{group} kept: used {}",
                            sample(used.iter().map(|s| (*s).clone()))
                        ));
                    }
                }
                if !removals.is_empty() {
                    evidence.push(format!("never used: {}", removals.join(" ")));
                    lines.push(format!("~{}", removals.join(" ")));
                }
            }
        }
        if self.facts.systemd_version < min_version(key).unwrap_or(0) {
            self.omit(key, "target systemd is too old");
            return;
        }
        self.reset(key);
        for (i, line) in lines.into_iter().enumerate() {
            let ev = if i == 0 {
                std::mem::take(&mut evidence)
            } else {
                Vec::new()
            };
            self.emit(key, line, ev);
        }
    }

    fn syscall_architectures(&mut self) {
        let key = "SystemCallArchitectures";
        let abis: BTreeSet<Abi> = self.trace.syscalls.iter().map(|s| s.abi).collect();
        let native = self.trace.native_abi();
        let foreign: Vec<Abi> = abis
            .iter()
            .copied()
            .filter(|a| Some(*a) != native)
            .collect();
        if native.is_none() {
            self.omit(
                key,
                format!("unknown recording architecture {:?}", self.trace.meta.arch),
            );
        } else if foreign.is_empty() {
            self.emit(
                key,
                "native",
                vec![format!(
                    "every syscall used the native ABI ({})",
                    self.trace.meta.arch
                )],
            );
        } else {
            let mut names = vec!["native".to_owned()];
            names.extend(foreign.iter().map(|a| systemd_arch_name(*a).to_owned()));
            self.emit(
                key,
                names.join(" "),
                vec![format!(
                    "syscalls made through other ABIs: {}",
                    sample(foreign.iter().map(|a| a.to_string()))
                )],
            );
        }
    }

    fn capabilities(&mut self) {
        let mut needed: BTreeMap<u8, Vec<String>> = BTreeMap::new();
        for c in &self.trace.capabilities {
            let how = match c.origin {
                CapOrigin::Observed => "checked by the kernel",
                CapOrigin::Inferred => "inferred",
            };
            let what = match &c.syscall {
                Some(s) => format!("{how} in {s}"),
                None => how.to_owned(),
            };
            needed.entry(c.cap.0).or_default().push(what);
        }
        let value: Vec<String> = needed.keys().map(|c| caps::name(*c)).collect();
        let mut evidence: Vec<String> = needed
            .iter()
            .map(|(cap, whys)| format!("{}: {}", caps::name(*cap), whys.join(", ")))
            .collect();
        if evidence.is_empty() {
            evidence.push("no capability was needed".to_owned());
        }
        if !self.trace.meta.backends.contains(&Backend::Ebpf) {
            evidence.push(
                "capabilities were inferred from syscalls, not observed in the kernel".to_owned(),
            );
        }
        if !value.is_empty() {
            self.reset("CapabilityBoundingSet");
        }
        self.emit("CapabilityBoundingSet", value.join(" "), evidence);
    }

    fn no_new_privileges(&mut self) {
        let blockers: Vec<String> = self
            .trace
            .execs
            .iter()
            .filter(|e| PRIVILEGED_PROGRAMS.contains(&basename(&e.path)))
            .map(|e| format!("exec {}", show(&e.path)))
            .collect();
        self.yes_unless("NoNewPrivileges", "exec of set-id programs", blockers);
    }

    /// Successful writes grouped into managed directories and `ReadWritePaths=`.
    fn file_system(&mut self) {
        let mut managed: BTreeMap<&'static str, BTreeSet<String>> = BTreeMap::new();
        let mut read_write: Vec<String> = Vec::new();
        let mut evidence: Vec<String> = Vec::new();
        let writes: Vec<&FileRecord> = self
            .ok_files
            .iter()
            .copied()
            .filter(|f| f.access.is_write())
            .collect();
        let all_paths: BTreeSet<&str> = self.trace.files.iter().map(|f| f.path.as_str()).collect();
        // ProtectSystem=strict makes /tmp read-only too; only a private /tmp keeps it writable.
        let tmp_is_private = self.private_tmp_blockers().is_empty();
        for f in &writes {
            let p = f.path.as_str();
            if !p.starts_with('/') {
                self.warnings
                    .push(format!("write to unresolved relative path {}", show(p)));
                continue;
            }
            let in_tmp = is_under(p, "/tmp") || is_under(p, "/var/tmp");
            let outside_protect_system = ["/proc", "/sys", "/dev", "/home", "/root", "/run/user"]
                .iter()
                .any(|d| is_under(p, d))
                || (in_tmp && tmp_is_private);
            if outside_protect_system {
                continue;
            }
            let mut placed = false;
            for (setting, base) in paths::MANAGED_DIRECTORIES {
                let Some(name) = paths::first_component_below(p, base) else {
                    continue;
                };
                if base == "/run" && paths::SHARED_RUN_DIRS.contains(&name) {
                    break;
                }
                let dir = format!("{base}/{name}");
                let is_directory = all_paths.iter().any(|q| is_strictly_under(q, &dir));
                // systemd chowns a managed directory's whole tree back to the unit's user before
                // every Exec*= command: a service that hands (part of) it to another owner itself
                // (apachectl's /run/apache2, nginx's /var/lib/nginx/body) would lose that.
                let owner_changed_by_service = self
                    .ok_files
                    .iter()
                    .any(|g| g.access == Access::Chattr && is_under(&g.path, &dir));
                if is_directory && owner_changed_by_service {
                    evidence.push(format!(
                        "ReadWritePaths: not {setting}={name}: the service changes owners or modes below {}, which systemd would reset at every start",
                        show(&dir)
                    ));
                } else if is_directory {
                    managed.entry(setting).or_default().insert(name.to_owned());
                    evidence.push(format!("{setting}={name}: {} {}", f.access, show(p)));
                    placed = true;
                }
                break;
            }
            if placed {
                continue;
            }
            let target = match f.access {
                Access::Write | Access::Chattr => p.to_owned(),
                _ => parent(p).to_owned(),
            };
            evidence.push(format!("ReadWritePaths: {} {}", f.access, show(p)));
            read_write.push(target);
        }
        self.emit(
            "ProtectSystem",
            "strict",
            vec!["the whole file system is read-only but for the paths below".to_owned()],
        );
        let managed_dirs: Vec<String> = managed
            .iter()
            .flat_map(|(setting, names)| {
                let base = paths::MANAGED_DIRECTORIES
                    .iter()
                    .find(|(s, _)| s == setting)
                    .map_or("/", |(_, b)| *b);
                names.iter().map(move |n| format!("{base}/{n}"))
            })
            .collect();
        let read_write: Vec<String> = minimal_cover(read_write)
            .into_iter()
            .filter(|p| !managed_dirs.iter().any(|m| is_under(p, m)))
            .collect();
        for (setting, names) in &managed {
            let mut words: Vec<String> = Vec::new();
            for name in names {
                match quote_directory_name(name) {
                    Ok(word) => words.push(word),
                    Err(e) => self.warnings.push(format!("{setting}: left out {e}")),
                }
            }
            if words.is_empty() {
                continue;
            }
            let ev: Vec<String> = evidence
                .iter()
                .filter(|e| e.starts_with(setting))
                .take(EVIDENCE_SAMPLES)
                .cloned()
                .collect();
            self.emit(setting, words.join(" "), ev);
        }
        let words: Vec<String> = read_write
            .iter()
            .filter_map(|p| self.path_word("ReadWritePaths", "-", p))
            .collect();
        if !words.is_empty() {
            let ev: Vec<String> = evidence
                .iter()
                .filter(|e| e.starts_with("ReadWritePaths"))
                .take(EVIDENCE_SAMPLES)
                .cloned()
                .collect();
            self.emit("ReadWritePaths", words.join(" "), ev);
        }
    }

    fn exec_paths(&mut self) {
        let mut files: BTreeSet<String> = BTreeSet::new();
        for e in &self.trace.execs {
            files.insert(e.path.clone());
            if let Some(i) = &e.interpreter {
                files.insert(i.clone());
            }
        }
        for f in &self.ok_files {
            if f.access.is_exec() {
                files.insert(f.path.clone());
            }
        }
        files.retain(|p| p.starts_with('/'));
        if files.is_empty() {
            self.omit(
                "NoExecPaths",
                "no exec or executable mapping was observed, so the needed set is unknown",
            );
            return;
        }
        let has_interpreter = self.trace.execs.iter().any(|e| e.interpreter.is_some());
        let mut evidence = vec![format!(
            "{} executed or PROT_EXEC-mapped files; each is listed alone because systemd 252 makes ExecPaths= entries writable under ProtectSystem=strict",
            files.len()
        )];
        if !has_interpreter {
            if let Some(ld) = elf_interpreter(&self.trace.meta.arch) {
                files.insert(ld.to_owned());
                evidence.push(format!(
                    "{ld} added: the kernel maps the ELF interpreter without a syscall"
                ));
            }
            if self.trace.meta.backends.contains(&Backend::StraceImport) {
                self.warnings.push(
                    "strace logs do not show script interpreters (#!): check ExecPaths= if the service runs scripts".to_owned(),
                );
            }
        }
        self.emit(
            "NoExecPaths",
            "/",
            vec!["nothing is executable but ExecPaths=".to_owned()],
        );
        let words: Vec<String> = files
            .iter()
            .filter_map(|p| self.path_word("ExecPaths", "-", p))
            .collect();
        self.reset("ExecPaths");
        self.emit("ExecPaths", words.join(" "), evidence);

        // systemd 252 mounts each ExecPaths= entry on its own, before ProtectSystem= turns the
        // tree read-only, and leaves it writable: a root service could overwrite a listed
        // program and run what it wrote. A read-only bind mount of the same file merges with
        // the ExecPaths= entry into one read-only, executable mount (measured in the e2e
        // guest). Files the service writes itself keep their writable mount; paths with a
        // colon cannot be written in BindReadOnlyPaths= unambiguously and are left out.
        let written = self.written_and_executed();
        let mut skipped = Vec::new();
        let read_only: Vec<String> = files
            .iter()
            .filter(|p| {
                let keep = written.contains(*p) || p.contains(':');
                if keep {
                    skipped.push(show(p));
                }
                !keep
            })
            .filter_map(|p| self.path_word("BindReadOnlyPaths", "-", p))
            .collect();
        if !read_only.is_empty() {
            let mut evidence = vec![
                "ExecPaths= files read-only: systemd 252 leaves each ExecPaths= mount writable, even under ProtectSystem=strict".to_owned(),
            ];
            if !skipped.is_empty() {
                evidence.push(format!(
                    "left writable (written by the service, or a colon in the path): {}",
                    sample(skipped)
                ));
            }
            self.emit("BindReadOnlyPaths", read_only.join(" "), evidence);
        }
    }

    /// Observations that a private `/tmp` would break: files there the service did not create.
    fn private_tmp_blockers(&self) -> Vec<String> {
        let in_tmp = |p: &str| is_strictly_under(p, "/tmp") || is_strictly_under(p, "/var/tmp");
        let created: Vec<&str> = self
            .ok_files
            .iter()
            .filter(|f| f.access == Access::Create && in_tmp(&f.path))
            .map(|f| f.path.as_str())
            .collect();
        let mut blockers: Vec<String> = self
            .ok_files
            .iter()
            .filter(|f| in_tmp(&f.path) && f.access != Access::Create)
            .filter(|f| !created.iter().any(|c| is_under(&f.path, c)))
            .map(|f| {
                format!(
                    "{} {} (not created by the service)",
                    f.access,
                    show(&f.path)
                )
            })
            .collect();
        for a in &self.trace.addresses {
            if a.family == "AF_UNIX" && in_tmp(&a.address) && a.op == AddressOp::Connect {
                blockers.push(format!("connect {}", show(&a.address)));
            }
        }
        blockers
    }

    fn private_tmp(&mut self) {
        let blockers = self.private_tmp_blockers();
        self.yes_unless(
            "PrivateTmp",
            "use of /tmp or /var/tmp files made by others",
            blockers,
        );
    }

    fn protect_home(&mut self) {
        let homes = ["/home", "/root", "/run/user"];
        let touched: Vec<&FileRecord> = self
            .ok_files
            .iter()
            .copied()
            .filter(|f| {
                homes.iter().any(|h| {
                    is_strictly_under(&f.path, h) || (f.path == *h && f.access != Access::Stat)
                })
            })
            .collect();
        let writes: Vec<String> = touched
            .iter()
            .filter(|f| f.access.is_write())
            .map(|f| format!("{} {}", f.access, show(&f.path)))
            .collect();
        if !writes.is_empty() {
            self.omit("ProtectHome", format!("needed: {}", sample(writes)));
        } else if !touched.is_empty() {
            self.emit(
                "ProtectHome",
                "read-only",
                vec![format!(
                    "home directories are read: {}",
                    sample(
                        touched
                            .iter()
                            .map(|f| format!("{} {}", f.access, show(&f.path)))
                    )
                )],
            );
        } else {
            self.emit(
                "ProtectHome",
                "yes",
                vec!["no access below /home, /root or /run/user".to_owned()],
            );
        }
    }

    fn private_devices(&mut self) {
        let mut blockers = self.ok_files_where(|f| {
            is_strictly_under(&f.path, "/dev") && !crate::check::private_dev_provides(&f.path)
        });
        blockers.extend(
            self.trace
                .devices
                .iter()
                .filter(|d| d.result == "ok")
                .map(|d| format!("mknod {}", show(&d.path))),
        );
        let raw_io = self.group_or("@raw-io", &RAW_IO_FALLBACK);
        blockers.extend(
            raw_io
                .iter()
                .filter(|n| self.used(n))
                .map(|n| format!("syscall {n}")),
        );
        self.yes_unless("PrivateDevices", "device access", blockers);
    }

    fn kernel_and_system(&mut self) {
        let tunables = {
            let mut b = self.ok_files_where(|f| {
                let write = f.access.is_write();
                (write
                    && (PROC_TUNABLES.iter().any(|t| is_under(&f.path, t))
                        || (is_under(&f.path, "/sys") && !is_under(&f.path, "/sys/fs/cgroup"))))
                    || f.path == "/proc/kallsyms"
                    || f.path == "/proc/kcore"
            });
            b.extend(self.used_from(&["_sysctl"]));
            b
        };
        self.yes_unless(
            "ProtectKernelTunables",
            "write to kernel tunables in /proc or /sys",
            tunables,
        );

        let modules = {
            let mut b = self.ok_files_where(|f| {
                is_under(&f.path, "/usr/lib/modules") || is_under(&f.path, "/lib/modules")
            });
            b.extend(self.used_from(&["init_module", "finit_module", "delete_module"]));
            b.extend(
                self.trace
                    .execs
                    .iter()
                    .filter(|e| ["modprobe", "insmod", "rmmod"].contains(&basename(&e.path)))
                    .map(|e| format!("exec {}", show(&e.path))),
            );
            b
        };
        self.yes_unless("ProtectKernelModules", "kernel module activity", modules);

        let logs = {
            let mut b = self.ok_files_where(|f| f.path == "/dev/kmsg" || f.path == "/proc/kmsg");
            b.extend(self.used_from(&["syslog"]));
            b
        };
        self.yes_unless("ProtectKernelLogs", "kernel log access", logs);

        let cgroups =
            self.ok_files_where(|f| f.access.is_write() && is_under(&f.path, "/sys/fs/cgroup"));
        self.yes_unless("ProtectControlGroups", "cgroup writes", cgroups);

        let clock = {
            let group = self.group_or("@clock", &CLOCK_FALLBACK);
            let mut b: Vec<String> = group
                .iter()
                .filter(|n| self.used(n))
                .map(|n| format!("syscall {n}"))
                .collect();
            b.extend(
                self.ok_files_where(|f| f.access.is_write() && f.path.starts_with("/dev/rtc")),
            );
            b.extend(
                self.trace
                    .capabilities
                    .iter()
                    .filter(|c| c.cap.0 == 25 || c.cap.0 == 35)
                    .map(|c| caps::name(c.cap.0)),
            );
            b
        };
        self.yes_unless("ProtectClock", "clock changes", clock);

        let hostname = {
            let mut b = self.used_from(&["sethostname", "setdomainname"]);
            b.extend(self.ok_files_where(|f| {
                f.access.is_write()
                    && (f.path == "/proc/sys/kernel/hostname"
                        || f.path == "/proc/sys/kernel/domainname")
            }));
            b
        };
        self.yes_unless("ProtectHostname", "hostname changes", hostname);
    }

    fn proc_rules(&mut self) {
        let ptrace_cap = self.trace.capabilities.iter().any(|c| c.cap.0 == 19);
        // `invisible` hides the processes of other users from a service that is not root. A
        // trace cannot tell the service's own processes from others (an eBPF recording shows
        // /proc/self as /proc/<pid>), so any process directory read, or a listing of /proc
        // (what ps and pgrep do), keeps it out.
        let other_processes = self.ok_files_where(|f| {
            f.path == "/proc"
                || paths::first_component_below(&f.path, "/proc")
                    .is_some_and(|first| first.bytes().all(|b| b.is_ascii_digit()))
        });
        if !ptrace_cap && !other_processes.is_empty() {
            self.omit(
                "ProtectProc",
                format!(
                    "processes are looked at in /proc ({}); other users' would be hidden from a service that is not root",
                    sample(other_processes)
                ),
            );
        } else if ptrace_cap {
            self.emit(
                "ProtectProc",
                "ptraceable",
                vec!["CAP_SYS_PTRACE is needed, so ptrace-able processes stay visible".to_owned()],
            );
        } else {
            self.emit(
                "ProtectProc",
                "invisible",
                vec!["processes of other users are hidden (no effect on root services)".to_owned()],
            );
        }
        let outside = self.ok_files_where(|f| {
            let Some(first) = paths::first_component_below(&f.path, "/proc") else {
                return false;
            };
            !(first == "self"
                || first == "thread-self"
                || first.bytes().all(|b| b.is_ascii_digit()))
        });
        self.yes_unless_value(
            "ProcSubset",
            "pid",
            "/proc access outside process directories",
            outside,
        );
    }

    /// Like [`Self::yes_unless`] for directives whose strict value is not `yes`.
    fn yes_unless_value(&mut self, key: &str, value: &str, checked: &str, blockers: Vec<String>) {
        if blockers.is_empty() {
            self.emit(key, value, vec![format!("{key}: no {checked} observed")]);
        } else {
            self.omit(key, format!("needed: {}", sample(blockers)));
        }
    }

    fn network(&mut self) {
        let families: BTreeSet<&str> = self
            .trace
            .sockets
            .iter()
            .filter(|s| s.result == "ok")
            .map(|s| s.family.as_str())
            .collect();
        self.reset("RestrictAddressFamilies");
        let valid = |f: &str| {
            f.starts_with("AF_")
                && f.len() > 3
                && f[3..]
                    .bytes()
                    .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit() || b == b'_')
        };
        if let Some(bad) = families.iter().find(|f| !valid(f)) {
            self.omit(
                "RestrictAddressFamilies",
                format!("socket family {bad:?} has no name systemd understands"),
            );
        } else if families.is_empty() {
            if self.facts.systemd_version >= 249 {
                self.emit(
                    "RestrictAddressFamilies",
                    "none",
                    vec!["no socket was created".to_owned()],
                );
            } else {
                self.emit(
                    "RestrictAddressFamilies",
                    "AF_UNIX",
                    vec!["no socket was created; `none` needs systemd 249".to_owned()],
                );
            }
        } else {
            let list: Vec<&str> = families.iter().copied().collect();
            let ev: Vec<String> = self
                .trace
                .sockets
                .iter()
                .filter(|s| s.result == "ok")
                .map(|s| format!("socket({}, {}, {})", s.family, s.sock_type, s.protocol))
                .collect();
            self.emit(
                "RestrictAddressFamilies",
                list.join(" "),
                vec![format!("created: {}", sample(ev))],
            );
        }

        let abstract_unix: Vec<String> = self
            .trace
            .addresses
            .iter()
            .filter(|a| a.family == "AF_UNIX" && a.address.starts_with('@') && a.result == "ok")
            .map(|a| format!("{:?} {}", a.op, show(&a.address)))
            .collect();
        let non_unix: Vec<String> = families
            .iter()
            .filter(|f| **f != "AF_UNIX")
            .map(|f| format!("socket {f}"))
            .collect();
        let mut net_blockers = non_unix.clone();
        net_blockers.extend(abstract_unix);
        self.yes_unless("PrivateNetwork", "network socket", net_blockers);

        let inet: Vec<&crate::trace::AddressRecord> = self
            .trace
            .addresses
            .iter()
            .filter(|a| {
                (a.family == "AF_INET" || a.family == "AF_INET6")
                    && (a.result == "ok" || a.result == "EINPROGRESS")
            })
            .collect();
        let uses_inet = families.contains("AF_INET") || families.contains("AF_INET6");
        if !uses_inet {
            self.emit(
                "IPAddressDeny",
                "any",
                vec!["no IP socket was created".to_owned()],
            );
        } else if !inet.is_empty()
            && inet
                .iter()
                .all(|a| is_loopback(&a.address) && !is_wildcard(&a.address))
        {
            self.emit(
                "IPAddressDeny",
                "any",
                vec!["every IP address bound or connected to was loopback".to_owned()],
            );
            self.emit(
                "IPAddressAllow",
                "localhost",
                vec![format!(
                    "seen: {}",
                    sample(inet.iter().map(|a| format!("{:?} {}", a.op, a.address)))
                )],
            );
        } else if inet.is_empty() {
            self.omit(
                "IPAddressDeny",
                "IP sockets were used but no address was seen (sendto/recvfrom peers are not recorded)",
            );
        } else {
            let remote: Vec<String> = inet
                .iter()
                .filter(|a| !is_loopback(&a.address) || is_wildcard(&a.address))
                .map(|a| format!("{:?} {}", a.op, a.address))
                .collect();
            self.omit("IPAddressDeny", format!("needed: {}", sample(remote)));
        }
    }

    fn restrictions(&mut self) {
        let kinds: BTreeSet<Namespace> = self
            .trace
            .namespaces
            .iter()
            .filter(|n| n.result == "ok")
            .map(|n| n.kind)
            .collect();
        if kinds.is_empty() {
            self.emit(
                "RestrictNamespaces",
                "yes",
                vec!["no namespace was created or joined".to_owned()],
            );
        } else {
            let names: Vec<&str> = kinds.iter().map(|k| k.as_str()).collect();
            self.emit(
                "RestrictNamespaces",
                names.join(" "),
                vec![format!("used: {}", names.join(" "))],
            );
        }
        let realtime: Vec<String> = self
            .trace
            .realtime
            .iter()
            .map(|r| format!("{} {}", r.syscall, r.policy))
            .collect();
        self.yes_unless("RestrictRealtime", "realtime scheduling", realtime);
        let setid: Vec<String> = self
            .trace
            .setid_modes
            .iter()
            .filter(|s| s.result == "ok")
            .map(|s| format!("{} mode {}", s.syscall, s.mode))
            .collect();
        self.yes_unless("RestrictSUIDSGID", "set-id file creation", setid);
        let personality: Vec<String> = self
            .trace
            .personalities
            .iter()
            .filter(|p| p.as_str() != "0x0")
            .map(|p| format!("personality({p})"))
            .collect();
        self.yes_unless("LockPersonality", "personality change", personality);
        let memory: Vec<String> = self
            .trace
            .memory
            .iter()
            .filter(|m| m.result == "ok")
            .map(|m| format!("{} {:?}", m.syscall, m.kind))
            .collect();
        self.yes_unless(
            "MemoryDenyWriteExecute",
            "writable+executable or exec-gaining mapping",
            memory,
        );
        let mounts: Vec<String> = self
            .trace
            .mounts
            .iter()
            .filter(|m| m.result == "ok")
            .map(|m| m.syscall.clone())
            .collect();
        self.yes_unless("PrivateMounts", "mount activity", mounts);
    }

    fn private_users(&mut self) {
        if !self.trace.meta.backends.contains(&Backend::Ebpf) || self.trace.meta.backends.len() != 1
        {
            self.omit(
                "PrivateUsers",
                "capability checks were not observed in the kernel (only eBPF recordings prove none is needed)",
            );
            return;
        }
        let mut blockers: Vec<String> = self
            .trace
            .capabilities
            .iter()
            .map(|c| caps::name(c.cap.0))
            .collect();
        blockers.extend(self.used_from(&[
            "setuid",
            "setgid",
            "setresuid",
            "setresgid",
            "setreuid",
            "setregid",
            "setgroups",
            "chown",
            "fchown",
            "lchown",
            "fchownat",
        ]));
        self.yes_unless(
            "PrivateUsers",
            "capability use or identity change",
            blockers,
        );
    }

    fn umask(&mut self) {
        let sockets: Vec<String> = self
            .trace
            .addresses
            .iter()
            .filter(|a| {
                a.op == AddressOp::Bind && a.family == "AF_UNIX" && a.address.starts_with('/')
            })
            .map(|a| format!("bind {}", show(&a.address)))
            .collect();
        if sockets.is_empty() {
            self.emit(
                "UMask",
                "0077",
                vec!["no socket file for other users was created".to_owned()],
            );
        } else {
            self.omit(
                "UMask",
                format!(
                    "socket files may need to be reachable by other users: {}",
                    sample(sockets)
                ),
            );
        }
    }
}

/// Splits words into lines no longer than `width` (a word longer than that gets a line of its own).
fn wrap_words(words: &[&str], width: usize) -> Vec<String> {
    let mut lines = Vec::new();
    let mut line = String::new();
    for w in words {
        if !line.is_empty() && line.len() + 1 + w.len() > width {
            lines.push(std::mem::take(&mut line));
        }
        if !line.is_empty() {
            line.push(' ');
        }
        line.push_str(w);
    }
    if !line.is_empty() {
        lines.push(line);
    }
    lines
}
