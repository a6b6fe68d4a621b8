//! The effective sandbox of a `[Service]`: its settings merged over a unit file and its drop-ins.
//!
//! Each setting is parsed and merged the way systemd's `config_parse_*()` function for it does
//! (line by line, in file order, drop-ins after the unit), bad values become systemd-style
//! warnings instead of errors, and the implied effects of `unit_patch_contexts()` are applied last.

use super::file::{Entry, UnitFile};
use super::names::{
    address_family_from_setting, errno_name, parse_boolean, parse_errno, personality_value,
};
use super::words::{
    extract_directory_items, extract_words, printable, resolve_specifiers, Escapes,
};
use crate::event::Namespace;
use crate::tables::caps;
use crate::tables::groups::SyscallGroups;
use crate::tables::syscalls;
use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

/// What a blocked syscall gets: the kill action or an errno.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub enum ErrnoAction {
    /// `SIGSYS` for the process (`kill`, and the default of `SystemCallErrorNumber=`).
    #[default]
    Kill,
    /// Fail with this errno (0 makes the call "succeed" without running).
    Errno(u16),
}

impl fmt::Display for ErrnoAction {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ErrnoAction::Kill => f.write_str("kill"),
            ErrnoAction::Errno(n) => f.write_str(&errno_name(*n)),
        }
    }
}

/// Whether a `SystemCallFilter=` lists what is allowed or what is denied; fixed by its first line.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum FilterMode {
    AllowList,
    DenyList,
}

/// The merged `SystemCallFilter=`: syscall name → `None` (the mode's own action) or an errno.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SyscallFilter {
    pub mode: FilterMode,
    /// Allow-list: `None` = allowed, `Some(e)` = returns `e`; deny-list: every entry is denied,
    /// with its own action or (`None`) `SystemCallErrorNumber=`.
    pub entries: BTreeMap<String, Option<ErrnoAction>>,
}

impl SyscallFilter {
    /// True if the filter lets `name` run.
    pub fn allows(&self, name: &str) -> bool {
        match self.mode {
            FilterMode::AllowList => matches!(self.entries.get(name), Some(None)),
            FilterMode::DenyList => !self.entries.contains_key(name),
        }
    }
}

/// A capability mask: bit `n` is capability `n`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct CapabilitySet(pub u64);

impl CapabilitySet {
    /// Every capability (the unset bounding set).
    pub const ALL: CapabilitySet = CapabilitySet(u64::MAX);
    /// No capability.
    pub const EMPTY: CapabilitySet = CapabilitySet(0);

    /// True if capability number `cap` is in the set.
    pub fn contains(self, cap: u8) -> bool {
        cap < 64 && self.0 & (1u64 << cap) != 0
    }

    /// The names of the known capabilities in the set, in numeric order.
    pub fn names(self) -> Vec<String> {
        caps::all()
            .filter(|c| self.contains(*c))
            .map(caps::name)
            .collect()
    }
}

/// `RestrictAddressFamilies=` as systemd stores it: a set and whether it is an allow-list.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct AddressFamilyRule {
    /// True for an allow-list (also after `none`, with an empty set).
    pub allow_list: bool,
    /// Canonical family names (`AF_INET`); `None` before the first assignment and after `none`.
    pub families: Option<BTreeSet<String>>,
}

impl AddressFamilyRule {
    /// True if `socket()` is filtered at all.
    pub fn is_restricted(&self) -> bool {
        self.allow_list || self.families.as_ref().is_some_and(|f| !f.is_empty())
    }

    /// True if `socket(family, …)` is allowed (`family` canonical, e.g. `AF_INET`).
    pub fn allows(&self, family: &str) -> bool {
        let listed = self.families.as_ref().is_some_and(|f| f.contains(family));
        if self.allow_list {
            listed
        } else {
            !listed
        }
    }
}

/// `RestrictNamespaces=`: the namespace kinds that may still be created or joined.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct NamespaceRule {
    /// `None` when unrestricted (never set, reset, `no`, or every kind allowed).
    pub allowed: Option<BTreeSet<Namespace>>,
}

impl NamespaceRule {
    /// True if creating or joining `kind` is allowed.
    pub fn allows(&self, kind: Namespace) -> bool {
        self.allowed.as_ref().is_none_or(|a| a.contains(&kind))
    }
}

/// `ProtectSystem=`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub enum ProtectSystem {
    #[default]
    No,
    Yes,
    Full,
    Strict,
}

impl ProtectSystem {
    /// The value as written in a unit file.
    pub fn as_str(self) -> &'static str {
        match self {
            ProtectSystem::No => "no",
            ProtectSystem::Yes => "yes",
            ProtectSystem::Full => "full",
            ProtectSystem::Strict => "strict",
        }
    }
}

/// `ProtectHome=`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub enum ProtectHome {
    #[default]
    No,
    Yes,
    ReadOnly,
    Tmpfs,
}

impl ProtectHome {
    /// The value as written in a unit file.
    pub fn as_str(self) -> &'static str {
        match self {
            ProtectHome::No => "no",
            ProtectHome::Yes => "yes",
            ProtectHome::ReadOnly => "read-only",
            ProtectHome::Tmpfs => "tmpfs",
        }
    }
}

/// `ProtectProc=`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub enum ProtectProc {
    #[default]
    Default,
    NoAccess,
    Invisible,
    Ptraceable,
}

/// `ProcSubset=`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub enum ProcSubset {
    #[default]
    All,
    Pid,
}

/// One entry of `ReadWritePaths=` and friends.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct PathSetting {
    /// Absolute, simplified; unexpandable specifiers kept verbatim.
    pub path: String,
    /// `-` prefix: a missing path is ignored instead of failing the unit.
    pub ignore_missing: bool,
    /// `+` prefix: relative to `RootDirectory=` (not modelled: treated as a host path).
    pub root_relative: bool,
}

impl fmt::Display for PathSetting {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.ignore_missing {
            f.write_str("-")?;
        }
        if self.root_relative {
            f.write_str("+")?;
        }
        f.write_str(&printable(&self.path))
    }
}

/// `BindPaths=` / `BindReadOnlyPaths=` entry.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct BindPath {
    pub source: String,
    pub destination: String,
    pub read_only: bool,
    pub ignore_missing: bool,
}

/// `TemporaryFileSystem=` entry.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct TemporaryFileSystem {
    pub path: String,
    /// The mount options as written (may be empty).
    pub options: String,
    pub read_only: bool,
    pub noexec: bool,
}

/// The `*Directory=` settings and where their relative names live for system services.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum ExecDirectory {
    Runtime,
    State,
    Cache,
    Logs,
    Configuration,
}

impl ExecDirectory {
    /// Every kind, in systemd's order.
    pub const ALL: [ExecDirectory; 5] = [
        ExecDirectory::Runtime,
        ExecDirectory::State,
        ExecDirectory::Cache,
        ExecDirectory::Logs,
        ExecDirectory::Configuration,
    ];

    /// The setting's name (`StateDirectory`).
    pub fn key(self) -> &'static str {
        match self {
            ExecDirectory::Runtime => "RuntimeDirectory",
            ExecDirectory::State => "StateDirectory",
            ExecDirectory::Cache => "CacheDirectory",
            ExecDirectory::Logs => "LogsDirectory",
            ExecDirectory::Configuration => "ConfigurationDirectory",
        }
    }

    /// The base directory of a system service's names (`/var/lib`).
    pub fn base(self) -> &'static str {
        match self {
            ExecDirectory::Runtime => "/run",
            ExecDirectory::State => "/var/lib",
            ExecDirectory::Cache => "/var/cache",
            ExecDirectory::Logs => "/var/log",
            ExecDirectory::Configuration => "/etc",
        }
    }

    /// True for the kinds that `DynamicUser=yes` keeps under `<base>/private/`.
    pub fn is_private_with_dynamic_user(self) -> bool {
        matches!(
            self,
            ExecDirectory::State | ExecDirectory::Cache | ExecDirectory::Logs
        )
    }
}

/// The effective sandbox of a service. Build it with [`Policy::from_units`]; [`Policy::default`]
/// is an unsandboxed service.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Policy {
    pub syscall_filter: Option<SyscallFilter>,
    pub syscall_error_number: ErrnoAction,
    /// `SystemCallArchitectures=` names (`native`, `x86-64`, …); empty = no restriction.
    pub syscall_architectures: BTreeSet<String>,
    /// The bounding set after implied removals (`PrivateDevices=` etc.).
    pub capability_bounding_set: CapabilitySet,
    pub ambient_capabilities: CapabilitySet,
    pub restrict_address_families: AddressFamilyRule,
    pub restrict_namespaces: NamespaceRule,
    pub protect_system: ProtectSystem,
    pub protect_home: ProtectHome,
    pub private_tmp: bool,
    pub private_devices: bool,
    pub private_network: bool,
    pub private_users: bool,
    /// `PrivateMounts=` (tristate: `None` when not set).
    pub private_mounts: Option<bool>,
    pub dynamic_user: bool,
    pub read_write_paths: Vec<PathSetting>,
    pub read_only_paths: Vec<PathSetting>,
    pub inaccessible_paths: Vec<PathSetting>,
    pub exec_paths: Vec<PathSetting>,
    pub no_exec_paths: Vec<PathSetting>,
    pub bind_paths: Vec<BindPath>,
    /// `*Directory=` names, relative to [`ExecDirectory::base`].
    pub directories: BTreeMap<ExecDirectory, Vec<String>>,
    pub temporary_file_systems: Vec<TemporaryFileSystem>,
    pub protect_kernel_tunables: bool,
    pub protect_kernel_modules: bool,
    pub protect_kernel_logs: bool,
    pub protect_control_groups: bool,
    pub protect_clock: bool,
    pub protect_hostname: bool,
    pub protect_proc: ProtectProc,
    pub proc_subset: ProcSubset,
    /// `MountAPIVFS=` (tristate).
    pub mount_api_vfs: Option<bool>,
    pub restrict_realtime: bool,
    pub restrict_suid_sgid: bool,
    pub lock_personality: bool,
    pub memory_deny_write_execute: bool,
    pub no_new_privileges: bool,
    /// `User=` (specifiers kept verbatim); `None` = root.
    pub user: Option<String>,
    pub umask: Option<u32>,
    /// `Personality=` as written.
    pub personality: Option<String>,
    /// systemd-style `file:line: message` warnings for values systemd would ignore.
    pub warnings: Vec<String>,
    /// `[Service]` keys this model does not evaluate (all other service settings, unknown keys).
    pub ignored_keys: BTreeSet<String>,
    /// Settings changed by implication (`unit_patch_contexts()`): setting → implying directive.
    pub implied: BTreeMap<String, String>,
    /// Capabilities taken out of the bounding set by implication → the directive that did it.
    pub capabilities_removed_by: BTreeMap<u8, String>,
}

impl Default for Policy {
    fn default() -> Policy {
        Policy {
            syscall_filter: None,
            syscall_error_number: ErrnoAction::Kill,
            syscall_architectures: BTreeSet::new(),
            capability_bounding_set: CapabilitySet::ALL,
            ambient_capabilities: CapabilitySet::EMPTY,
            restrict_address_families: AddressFamilyRule::default(),
            restrict_namespaces: NamespaceRule::default(),
            protect_system: ProtectSystem::No,
            protect_home: ProtectHome::No,
            private_tmp: false,
            private_devices: false,
            private_network: false,
            private_users: false,
            private_mounts: None,
            dynamic_user: false,
            read_write_paths: Vec::new(),
            read_only_paths: Vec::new(),
            inaccessible_paths: Vec::new(),
            exec_paths: Vec::new(),
            no_exec_paths: Vec::new(),
            bind_paths: Vec::new(),
            directories: BTreeMap::new(),
            temporary_file_systems: Vec::new(),
            protect_kernel_tunables: false,
            protect_kernel_modules: false,
            protect_kernel_logs: false,
            protect_control_groups: false,
            protect_clock: false,
            protect_hostname: false,
            protect_proc: ProtectProc::Default,
            proc_subset: ProcSubset::All,
            mount_api_vfs: None,
            restrict_realtime: false,
            restrict_suid_sgid: false,
            lock_personality: false,
            memory_deny_write_execute: false,
            no_new_privileges: false,
            user: None,
            umask: None,
            personality: None,
            warnings: Vec::new(),
            ignored_keys: BTreeSet::new(),
            implied: BTreeMap::new(),
            capabilities_removed_by: BTreeMap::new(),
        }
    }
}

/// Where an assignment came from, for warnings.
struct Loc<'a> {
    file: &'a str,
    line: usize,
}

/// Lookup data shared by every assignment of one build.
struct Ctx<'a> {
    groups: &'a SyscallGroups,
    /// Names the target systemd's tables list plus every name of the kernel tables (stands in for
    /// libseccomp's resolver).
    known_syscalls: BTreeSet<String>,
}

impl Ctx<'_> {
    fn syscall_is_known(&self, name: &str) -> bool {
        self.known_syscalls.contains(name) || syscalls::is_known(name)
    }
}

/// Namespace-creating settings whose bounding-set and implied effects `unit_patch_contexts()`
/// applies, with the capabilities each removes.
const CAPABILITIES_REMOVED: [(&str, &[u8]); 4] = [
    ("PrivateDevices", &[27, 17]),   // CAP_MKNOD, CAP_SYS_RAWIO
    ("ProtectKernelModules", &[16]), // CAP_SYS_MODULE
    ("ProtectKernelLogs", &[34]),    // CAP_SYSLOG
    ("ProtectClock", &[25, 35]),     // CAP_SYS_TIME, CAP_WAKE_ALARM
];

/// `SystemCallArchitectures=` names `seccomp_arch_from_string()` accepts.
const ARCHITECTURES: [&str; 22] = [
    "native",
    "x86",
    "x86-64",
    "x32",
    "arm",
    "arm64",
    "loongarch64",
    "mips",
    "mips-le",
    "mips64",
    "mips64-le",
    "mips64-n32",
    "mips64-le-n32",
    "parisc",
    "parisc64",
    "ppc",
    "ppc64",
    "ppc64-le",
    "riscv64",
    "s390",
    "s390x",
    "sparc",
];

/// Sandboxing-looking key prefixes: an unknown key with one of them is probably a typo.
const SANDBOX_PREFIXES: [&str; 10] = [
    "Protect",
    "Private",
    "Restrict",
    "SystemCall",
    "Capabilit",
    "Ambient",
    "Lock",
    "MemoryDeny",
    "NoNewPriv",
    "DynamicUs",
];

impl Policy {
    /// The sandbox of an unsandboxed service (same as [`Policy::default`]).
    pub fn permissive() -> Policy {
        Policy::default()
    }

    /// Merges the `[Service]` settings of `units` in order (a unit file, then its drop-ins) and
    /// applies the implied effects. Syscall groups are expanded with `groups`.
    pub fn from_units(units: &[UnitFile], groups: &SyscallGroups) -> Policy {
        let ctx = Ctx {
            groups,
            known_syscalls: groups.known(),
        };
        let mut policy = Policy::default();
        for unit in units {
            for section in &unit.sections {
                match section.name.as_str() {
                    "Service" => {
                        for entry in &section.entries {
                            policy.assign(&ctx, &unit.name, entry);
                        }
                    }
                    "Unit" | "Install" => {}
                    other if other.starts_with("X-") => {}
                    other => policy.warn(
                        &Loc {
                            file: &unit.name,
                            line: section.line,
                        },
                        format!("Unknown section '{other}'. Ignoring."),
                    ),
                }
            }
        }
        policy.patch_contexts();
        policy
    }

    /// True if the service's processes run as root (no non-root `User=`, no `DynamicUser=`).
    pub fn runs_as_root(&self) -> bool {
        !self.dynamic_user && self.user.as_deref().is_none_or(|u| u == "root" || u == "0")
    }

    /// `Key=value` for a setting, naming what implied it if it was not set directly.
    pub fn describe(&self, key: &str, value: &str) -> String {
        match self.implied.get(key) {
            Some(by) => format!("{key}={value} (implied by {by})"),
            None => format!("{key}={value}"),
        }
    }

    /// Absolute paths of every `*Directory=` (and, with `DynamicUser=yes`, their `private/`
    /// locations, which is where the kernel resolves them).
    pub fn directory_paths(&self) -> Vec<(ExecDirectory, String)> {
        let mut out = Vec::new();
        for (kind, names) in &self.directories {
            for name in names {
                out.push((*kind, format!("{}/{name}", kind.base())));
                if self.dynamic_user && kind.is_private_with_dynamic_user() {
                    out.push((*kind, format!("{}/private/{name}", kind.base())));
                }
            }
        }
        out
    }

    fn warn(&mut self, loc: &Loc<'_>, message: String) {
        self.warnings.push(format!(
            "{}:{}: {}",
            printable(loc.file),
            loc.line,
            printable(&message)
        ));
    }

    fn assign(&mut self, ctx: &Ctx<'_>, file: &str, entry: &Entry) {
        let loc = Loc {
            file,
            line: entry.line,
        };
        let value = entry.value.as_str();
        match entry.key.as_str() {
            "SystemCallFilter" => self.parse_syscall_filter(ctx, &loc, value),
            "SystemCallErrorNumber" => self.parse_syscall_error_number(&loc, value),
            "SystemCallArchitectures" => self.parse_architectures(&loc, value),
            "CapabilityBoundingSet" => {
                let mut set = self.capability_bounding_set.0;
                self.parse_capabilities(&loc, &entry.key, value, &mut set, u64::MAX);
                self.capability_bounding_set = CapabilitySet(set);
            }
            "AmbientCapabilities" => {
                let mut set = self.ambient_capabilities.0;
                self.parse_capabilities(&loc, &entry.key, value, &mut set, 0);
                self.ambient_capabilities = CapabilitySet(set);
            }
            "RestrictAddressFamilies" => self.parse_address_families(&loc, value),
            "RestrictNamespaces" => self.parse_namespaces(&loc, value),
            "ProtectSystem" => {
                let parsed = match value {
                    "full" => Some(ProtectSystem::Full),
                    "strict" => Some(ProtectSystem::Strict),
                    _ => parse_boolean(value).map(|b| {
                        if b {
                            ProtectSystem::Yes
                        } else {
                            ProtectSystem::No
                        }
                    }),
                };
                match parsed {
                    Some(v) => self.protect_system = v,
                    None => self.warn(
                        &loc,
                        format!("Failed to parse protect system value, ignoring: {value}"),
                    ),
                }
            }
            "ProtectHome" => {
                let parsed = match value {
                    "read-only" => Some(ProtectHome::ReadOnly),
                    "tmpfs" => Some(ProtectHome::Tmpfs),
                    _ => {
                        parse_boolean(value)
                            .map(|b| if b { ProtectHome::Yes } else { ProtectHome::No })
                    }
                };
                match parsed {
                    Some(v) => self.protect_home = v,
                    None => self.warn(
                        &loc,
                        format!("Failed to parse protect home value, ignoring: {value}"),
                    ),
                }
            }
            "ProtectProc" => {
                let parsed = match value {
                    "default" => Some(ProtectProc::Default),
                    "noaccess" => Some(ProtectProc::NoAccess),
                    "invisible" => Some(ProtectProc::Invisible),
                    "ptraceable" => Some(ProtectProc::Ptraceable),
                    _ => None,
                };
                match parsed {
                    Some(v) => self.protect_proc = v,
                    None => self.warn(
                        &loc,
                        format!("Failed to parse /proc/ protection mode, ignoring: {value}"),
                    ),
                }
            }
            "ProcSubset" => match value {
                "all" => self.proc_subset = ProcSubset::All,
                "pid" => self.proc_subset = ProcSubset::Pid,
                _ => self.warn(
                    &loc,
                    format!("Failed to parse /proc/ subset mode, ignoring: {value}"),
                ),
            },
            "PrivateTmp" => self.parse_bool(&loc, value, |p, b| p.private_tmp = b),
            "PrivateDevices" => self.parse_bool(&loc, value, |p, b| p.private_devices = b),
            "PrivateNetwork" => self.parse_bool(&loc, value, |p, b| p.private_network = b),
            "PrivateUsers" => self.parse_bool(&loc, value, |p, b| p.private_users = b),
            "DynamicUser" => self.parse_bool(&loc, value, |p, b| p.dynamic_user = b),
            "ProtectKernelTunables" => {
                self.parse_bool(&loc, value, |p, b| p.protect_kernel_tunables = b)
            }
            "ProtectKernelModules" => {
                self.parse_bool(&loc, value, |p, b| p.protect_kernel_modules = b)
            }
            "ProtectKernelLogs" => self.parse_bool(&loc, value, |p, b| p.protect_kernel_logs = b),
            "ProtectControlGroups" => {
                self.parse_bool(&loc, value, |p, b| p.protect_control_groups = b)
            }
            "ProtectClock" => self.parse_bool(&loc, value, |p, b| p.protect_clock = b),
            "ProtectHostname" => self.parse_bool(&loc, value, |p, b| p.protect_hostname = b),
            "RestrictRealtime" => self.parse_bool(&loc, value, |p, b| p.restrict_realtime = b),
            "RestrictSUIDSGID" => self.parse_bool(&loc, value, |p, b| p.restrict_suid_sgid = b),
            "LockPersonality" => self.parse_bool(&loc, value, |p, b| p.lock_personality = b),
            "MemoryDenyWriteExecute" => {
                self.parse_bool(&loc, value, |p, b| p.memory_deny_write_execute = b)
            }
            "NoNewPrivileges" => self.parse_bool(&loc, value, |p, b| p.no_new_privileges = b),
            "PrivateMounts" => self.parse_tristate(&loc, value, |p, b| p.private_mounts = b),
            "MountAPIVFS" => self.parse_tristate(&loc, value, |p, b| p.mount_api_vfs = b),
            "ReadWritePaths" | "ReadWriteDirectories" => {
                let mut list = std::mem::take(&mut self.read_write_paths);
                self.parse_path_list(&loc, &entry.key, value, &mut list);
                self.read_write_paths = list;
            }
            "ReadOnlyPaths" | "ReadOnlyDirectories" => {
                let mut list = std::mem::take(&mut self.read_only_paths);
                self.parse_path_list(&loc, &entry.key, value, &mut list);
                self.read_only_paths = list;
            }
            "InaccessiblePaths" | "InaccessibleDirectories" => {
                let mut list = std::mem::take(&mut self.inaccessible_paths);
                self.parse_path_list(&loc, &entry.key, value, &mut list);
                self.inaccessible_paths = list;
            }
            "ExecPaths" => {
                let mut list = std::mem::take(&mut self.exec_paths);
                self.parse_path_list(&loc, &entry.key, value, &mut list);
                self.exec_paths = list;
            }
            "NoExecPaths" => {
                let mut list = std::mem::take(&mut self.no_exec_paths);
                self.parse_path_list(&loc, &entry.key, value, &mut list);
                self.no_exec_paths = list;
            }
            "BindPaths" => self.parse_bind_paths(&loc, &entry.key, value, false),
            "BindReadOnlyPaths" => self.parse_bind_paths(&loc, &entry.key, value, true),
            "RuntimeDirectory" => self.parse_directories(&loc, ExecDirectory::Runtime, value),
            "StateDirectory" => self.parse_directories(&loc, ExecDirectory::State, value),
            "CacheDirectory" => self.parse_directories(&loc, ExecDirectory::Cache, value),
            "LogsDirectory" => self.parse_directories(&loc, ExecDirectory::Logs, value),
            "ConfigurationDirectory" => {
                self.parse_directories(&loc, ExecDirectory::Configuration, value)
            }
            "TemporaryFileSystem" => self.parse_temporary_file_systems(&loc, value),
            "User" => self.parse_user(&loc, value),
            "UMask" => self.parse_umask(&loc, value),
            "Personality" => {
                if value.is_empty() {
                    self.personality = None;
                } else if personality_value(value).is_some() {
                    self.personality = Some(value.to_owned());
                } else {
                    self.warn(
                        &loc,
                        format!("Failed to parse personality, ignoring: {value}"),
                    );
                }
            }
            other => {
                if SANDBOX_PREFIXES.iter().any(|p| other.starts_with(p))
                    && !KNOWN_UNMODELLED.contains(&other)
                {
                    self.warn(
                        &loc,
                        format!("Unknown key '{other}' in section [Service], ignoring."),
                    );
                }
                self.ignored_keys.insert(other.to_owned());
            }
        }
    }

    fn parse_bool(&mut self, loc: &Loc<'_>, value: &str, set: impl FnOnce(&mut Policy, bool)) {
        match parse_boolean(value) {
            Some(b) => set(self, b),
            None => self.warn(
                loc,
                format!("Failed to parse boolean value, ignoring: {value}"),
            ),
        }
    }

    fn parse_tristate(
        &mut self,
        loc: &Loc<'_>,
        value: &str,
        set: impl FnOnce(&mut Policy, Option<bool>),
    ) {
        if value.is_empty() {
            set(self, None);
            return;
        }
        match parse_boolean(value) {
            Some(b) => set(self, Some(b)),
            None => self.warn(
                loc,
                format!("Failed to parse boolean value, ignoring: {value}"),
            ),
        }
    }

    /// `config_parse_syscall_filter()`: the first non-empty line fixes the mode (an allow-list is
    /// seeded with `@default`), later words add or remove per the mode, empty resets.
    fn parse_syscall_filter(&mut self, ctx: &Ctx<'_>, loc: &Loc<'_>, value: &str) {
        if value.is_empty() {
            self.syscall_filter = None;
            return;
        }
        let (invert, rest) = match value.strip_prefix('~') {
            Some(rest) => (true, rest),
            None => (false, value),
        };
        let words = match extract_words(rest, Escapes::Literal) {
            Ok(words) => words,
            Err(_) => {
                self.warn(loc, format!("Invalid syntax, ignoring: {value}"));
                return;
            }
        };
        let mut filter = match self.syscall_filter.take() {
            Some(filter) => filter,
            None => {
                let mut filter = SyscallFilter {
                    mode: if invert {
                        FilterMode::DenyList
                    } else {
                        FilterMode::AllowList
                    },
                    entries: BTreeMap::new(),
                };
                if !invert {
                    // "Accept default syscalls if we are on an allow-list", quietly.
                    self.filter_item(ctx, loc, &mut filter, "@default", None, false, false);
                }
                filter
            }
        };
        for word in words {
            let (name, errno) = match word.split_once(':') {
                Some((name, errno_text)) => {
                    let action = if errno_text == "kill" {
                        Some(ErrnoAction::Kill)
                    } else {
                        parse_errno(errno_text).map(ErrnoAction::Errno)
                    };
                    match action {
                        Some(action) => (name.to_owned(), Some(action)),
                        None => {
                            self.warn(
                                loc,
                                format!("Failed to parse syscall:errno, ignoring: {word}"),
                            );
                            continue;
                        }
                    }
                }
                None => (word.clone(), None),
            };
            if !invert && errno.is_some() {
                self.warn(
                    loc,
                    format!("Allow-listed system calls cannot take error number, ignoring: {word}"),
                );
                continue;
            }
            self.filter_item(ctx, loc, &mut filter, &name, errno, invert, true);
        }
        self.syscall_filter = Some(filter);
    }

    /// `seccomp_parse_syscall_filter()` for one name or `@group` (groups fully expanded).
    #[allow(clippy::too_many_arguments)]
    fn filter_item(
        &mut self,
        ctx: &Ctx<'_>,
        loc: &Loc<'_>,
        filter: &mut SyscallFilter,
        name: &str,
        errno: Option<ErrnoAction>,
        invert: bool,
        log: bool,
    ) {
        let names: Vec<String> = if name.starts_with('@') {
            match ctx.groups.expand(name) {
                Some(members) => members.into_iter().collect(),
                None => {
                    if log {
                        self.warn(loc, format!("Unknown system call group, ignoring: {name}"));
                    }
                    return;
                }
            }
        } else if ctx.syscall_is_known(name) {
            vec![name.to_owned()]
        } else {
            if log {
                self.warn(
                    loc,
                    format!("Failed to parse system call, ignoring: {name}"),
                );
            }
            return;
        };
        let allow_list = filter.mode == FilterMode::AllowList;
        // Same polarity as the mode adds; the other removes, except `~name:errno` in an allow-list.
        let put = invert != allow_list || (invert && allow_list && errno.is_some());
        for syscall in names {
            if put {
                filter.entries.insert(syscall, errno);
            } else {
                filter.entries.remove(&syscall);
            }
        }
    }

    /// `config_parse_syscall_errno()`: empty or `kill` → kill; 0 is refused.
    fn parse_syscall_error_number(&mut self, loc: &Loc<'_>, value: &str) {
        if value.is_empty() || value == "kill" {
            self.syscall_error_number = ErrnoAction::Kill;
            return;
        }
        match parse_errno(value) {
            Some(0) => self.warn(loc, format!("Invalid error number, ignoring: {value}")),
            Some(n) => self.syscall_error_number = ErrnoAction::Errno(n),
            None => self.warn(
                loc,
                format!("Failed to parse error number, ignoring: {value}"),
            ),
        }
    }

    /// `config_parse_syscall_archs()`: union of known names; empty resets.
    fn parse_architectures(&mut self, loc: &Loc<'_>, value: &str) {
        if value.is_empty() {
            self.syscall_architectures.clear();
            return;
        }
        let Ok(words) = extract_words(value, Escapes::Literal) else {
            self.warn(loc, format!("Invalid syntax, ignoring: {value}"));
            return;
        };
        for word in words {
            if ARCHITECTURES.contains(&word.as_str()) {
                self.syscall_architectures.insert(word);
            } else {
                self.warn(
                    loc,
                    format!(
                        "Failed to parse system call architecture \"{word}\", ignoring: Invalid argument"
                    ),
                );
            }
        }
    }

    /// `config_parse_capability_set()`: the first line (or any line naming nothing) replaces,
    /// later lines OR, later `~` lines AND-NOT; unknown names are silently ignored.
    fn parse_capabilities(
        &mut self,
        loc: &Loc<'_>,
        key: &str,
        value: &str,
        set: &mut u64,
        unset: u64,
    ) {
        let (invert, rest) = match value.strip_prefix('~') {
            Some(rest) => (true, rest),
            None => (false, value),
        };
        let Ok(words) = extract_words(rest, Escapes::Literal) else {
            self.warn(
                loc,
                format!("Failed to parse {key}= specifier '{value}', ignoring"),
            );
            return;
        };
        let sum = words
            .iter()
            .filter_map(|w| capability_from_name(w.as_str()))
            .fold(0u64, |acc, cap| acc | (1u64 << cap));
        if sum == 0 || *set == unset {
            *set = if invert { !sum } else { sum };
        } else if invert {
            *set &= !sum;
        } else {
            *set |= sum;
        }
    }

    /// `config_parse_address_families()`, including its quirks: `none` empties an allow-list;
    /// the first line after a reset or `none` fixes the mode again.
    fn parse_address_families(&mut self, loc: &Loc<'_>, value: &str) {
        let rule = &mut self.restrict_address_families;
        if value.is_empty() {
            *rule = AddressFamilyRule::default();
            return;
        }
        if value == "none" {
            rule.families = None;
            rule.allow_list = true;
            return;
        }
        let (invert, rest) = match value.strip_prefix('~') {
            Some(rest) => (true, rest),
            None => (false, value),
        };
        let Ok(words) = extract_words(rest, Escapes::Literal) else {
            self.warn(loc, format!("Invalid syntax, ignoring: {value}"));
            return;
        };
        let rule = &mut self.restrict_address_families;
        if rule.families.is_none() {
            rule.families = Some(BTreeSet::new());
            rule.allow_list = !invert;
        }
        let allow_list = rule.allow_list;
        let mut unknown = Vec::new();
        if let Some(families) = rule.families.as_mut() {
            for word in words {
                let Some(family) = address_family_from_setting(&word) else {
                    unknown.push(word);
                    continue;
                };
                if invert != allow_list {
                    families.insert(family.to_owned());
                } else {
                    families.remove(family);
                }
            }
        }
        for word in unknown {
            self.warn(
                loc,
                format!("Failed to parse address family, ignoring: {word}"),
            );
        }
    }

    /// `config_parse_restrict_namespaces()`: a boolean replaces, the first list sets, later lists
    /// add (`~`: remove) kinds; an unknown kind discards the whole line.
    fn parse_namespaces(&mut self, loc: &Loc<'_>, value: &str) {
        let all: BTreeSet<Namespace> = Namespace::ALL.into_iter().collect();
        if value.is_empty() {
            self.restrict_namespaces.allowed = None;
            return;
        }
        if let Some(restrict) = parse_boolean(value) {
            self.restrict_namespaces.allowed = restrict.then(BTreeSet::new);
            return;
        }
        let (invert, rest) = match value.strip_prefix('~') {
            Some(rest) => (true, rest),
            None => (false, value),
        };
        let mut kinds = BTreeSet::new();
        for word in rest.split([' ', '\t', '\n', '\r']) {
            if word.is_empty() {
                continue;
            }
            match Namespace::ALL.into_iter().find(|n| n.as_str() == word) {
                Some(kind) => {
                    kinds.insert(kind);
                }
                None => {
                    self.warn(
                        loc,
                        format!("Failed to parse namespace type string, ignoring: {value}"),
                    );
                    return;
                }
            }
        }
        let current = self.restrict_namespaces.allowed.take();
        let next = match current {
            None => {
                if invert {
                    all.difference(&kinds).copied().collect()
                } else {
                    kinds
                }
            }
            Some(mut allowed) => {
                if invert {
                    allowed.retain(|k| !kinds.contains(k));
                } else {
                    allowed.extend(kinds);
                }
                allowed
            }
        };
        self.restrict_namespaces.allowed = Some(next);
    }

    /// Unit specifiers in a path word: `%%` becomes `%`; others are kept and reported.
    fn resolve_path_word(&mut self, loc: &Loc<'_>, key: &str, word: &str) -> String {
        let resolved = resolve_specifiers(word);
        for spec in &resolved.unexpanded {
            self.warn(
                loc,
                format!(
                    "{key}= specifier {spec} cannot be expanded without the unit, kept verbatim: {word}"
                ),
            );
        }
        resolved.text
    }

    /// `config_parse_namespace_path_strv()`: `-`/`+` prefixes, specifiers, absolute and
    /// normalized paths only; empty resets; lines accumulate.
    fn parse_path_list(
        &mut self,
        loc: &Loc<'_>,
        key: &str,
        value: &str,
        list: &mut Vec<PathSetting>,
    ) {
        if value.is_empty() {
            list.clear();
            return;
        }
        let Ok(words) = extract_words(value, Escapes::Literal) else {
            self.warn(
                loc,
                format!("Failed to extract first word, ignoring: {value}"),
            );
            return;
        };
        for word in words {
            let mut rest = word.as_str();
            let ignore_missing = rest.starts_with('-');
            if ignore_missing {
                rest = &rest[1..];
            }
            let root_relative = rest.starts_with('+');
            if root_relative {
                rest = &rest[1..];
            }
            let resolved = self.resolve_path_word(loc, key, rest);
            if let Some(path) = self.absolute_path(loc, key, &resolved) {
                list.push(PathSetting {
                    path,
                    ignore_missing,
                    root_relative,
                });
            }
        }
    }

    /// `path_simplify_and_warn(…, PATH_CHECK_ABSOLUTE)`.
    fn absolute_path(&mut self, loc: &Loc<'_>, key: &str, path: &str) -> Option<String> {
        if !path.starts_with('/') {
            self.warn(
                loc,
                format!("{key}= path is not absolute, ignoring: {path}"),
            );
            return None;
        }
        match simplify_path(path) {
            Some(simple) => Some(simple),
            None => {
                self.warn(
                    loc,
                    format!("{key}= path is not normalized, ignoring: {path}"),
                );
                None
            }
        }
    }

    /// `config_parse_bind_paths()`, simplified: `[-]source[:destination[:options]]` per word.
    fn parse_bind_paths(&mut self, loc: &Loc<'_>, key: &str, value: &str, read_only: bool) {
        if value.is_empty() {
            // Both settings share one list in systemd, so either empty assignment resets both.
            self.bind_paths.clear();
            return;
        }
        let Ok(words) = extract_words(value, Escapes::Literal) else {
            self.warn(loc, format!("Failed to parse {key}, ignoring: {value}"));
            return;
        };
        for word in words {
            let resolved = self.resolve_path_word(loc, key, &word);
            let (ignore_missing, rest) = match resolved.strip_prefix('-') {
                Some(rest) => (true, rest),
                None => (false, resolved.as_str()),
            };
            let mut fields = rest.splitn(3, ':');
            let source = fields.next().unwrap_or_default().to_owned();
            let destination = fields.next().map(str::to_owned);
            let Some(source) = self.absolute_path(loc, key, &source) else {
                continue;
            };
            let destination = match destination {
                Some(d) => match self.absolute_path(loc, key, &d) {
                    Some(d) => d,
                    None => continue,
                },
                None => source.clone(),
            };
            self.bind_paths.push(BindPath {
                source,
                destination,
                read_only,
                ignore_missing,
            });
        }
    }

    /// `config_parse_exec_directories()`: relative, normalized names, not `private`.
    fn parse_directories(&mut self, loc: &Loc<'_>, kind: ExecDirectory, value: &str) {
        let key = kind.key();
        if value.is_empty() {
            self.directories.remove(&kind);
            return;
        }
        let items = match extract_directory_items(value) {
            Ok(items) => items,
            Err(_) => {
                self.warn(loc, format!("Invalid syntax {key}={value}, ignoring"));
                return;
            }
        };
        for item in items {
            let name = self.resolve_path_word(loc, key, &item.name);
            if name.starts_with('/') {
                self.warn(loc, format!("{key}= path is absolute, ignoring: {name}"));
                continue;
            }
            let Some(simple) = simplify_path(&format!("/{name}")) else {
                self.warn(
                    loc,
                    format!("{key}= path is not normalized, ignoring: {name}"),
                );
                continue;
            };
            let relative = simple.trim_start_matches('/').to_owned();
            if relative.is_empty() {
                self.warn(loc, format!("{key}= path is empty, ignoring: {name}"));
                continue;
            }
            if relative == "private" || relative.starts_with("private/") {
                self.warn(
                    loc,
                    format!("{key}= path can't be 'private', ignoring assignment: {name}"),
                );
                continue;
            }
            self.directories.entry(kind).or_default().push(relative);
        }
    }

    /// `config_parse_temporary_filesystems()`: `path[:options]` words; empty resets.
    fn parse_temporary_file_systems(&mut self, loc: &Loc<'_>, value: &str) {
        if value.is_empty() {
            self.temporary_file_systems.clear();
            return;
        }
        let Ok(words) = extract_words(value, Escapes::Literal) else {
            self.warn(
                loc,
                format!("Failed to extract first word, ignoring: {value}"),
            );
            return;
        };
        for word in words {
            let (path, options) = match word.split_once(':') {
                Some((path, options)) => (path, options),
                None => (word.as_str(), ""),
            };
            let resolved = self.resolve_path_word(loc, "TemporaryFileSystem", path);
            let Some(path) = self.absolute_path(loc, "TemporaryFileSystem", &resolved) else {
                continue;
            };
            let mut read_only = false;
            let mut noexec = false;
            for option in options.split(',') {
                match option {
                    "ro" => read_only = true,
                    "rw" => read_only = false,
                    "noexec" => noexec = true,
                    "exec" => noexec = false,
                    _ => {}
                }
            }
            self.temporary_file_systems.push(TemporaryFileSystem {
                path,
                options: options.to_owned(),
                read_only,
                noexec,
            });
        }
    }

    /// `config_parse_user_group_compat()`: empty resets; the name must be a plausible user name
    /// or numeric id.
    fn parse_user(&mut self, loc: &Loc<'_>, value: &str) {
        if value.is_empty() {
            self.user = None;
            return;
        }
        let resolved = resolve_specifiers(value);
        let name = resolved.text;
        let valid = !name.starts_with('-')
            && name != "."
            && name != ".."
            && !name.contains(['/', ':'])
            && !name.chars().any(|c| c.is_whitespace() || c.is_control());
        if valid {
            if !resolved.unexpanded.is_empty() {
                self.warn(
                    loc,
                    format!("User= specifiers cannot be expanded without the unit, kept verbatim: {value}"),
                );
            }
            self.user = Some(name);
        } else {
            self.warn(
                loc,
                format!("Invalid user/group name or numeric ID, ignoring: {value}"),
            );
        }
    }

    /// `config_parse_mode()`: octal, at most 07777.
    fn parse_umask(&mut self, loc: &Loc<'_>, value: &str) {
        let parsed = (!value.is_empty() && value.bytes().all(|b| (b'0'..=b'7').contains(&b)))
            .then(|| u32::from_str_radix(value, 8).ok())
            .flatten()
            .filter(|m| *m <= 0o7777);
        match parsed {
            Some(mask) => self.umask = Some(mask),
            None => self.warn(
                loc,
                format!("Failed to parse mode value, ignoring: {value}"),
            ),
        }
    }

    /// `unit_patch_contexts()`: implied bounding-set removals and `DynamicUser=` implications.
    fn patch_contexts(&mut self) {
        let enabled = [
            self.private_devices,
            self.protect_kernel_modules,
            self.protect_kernel_logs,
            self.protect_clock,
        ];
        for ((key, removed), on) in CAPABILITIES_REMOVED.iter().zip(enabled) {
            if !on {
                continue;
            }
            for cap in *removed {
                if self.capability_bounding_set.contains(*cap) {
                    self.capability_bounding_set.0 &= !(1u64 << cap);
                    self.capabilities_removed_by
                        .insert(*cap, format!("{key}=yes"));
                }
            }
        }
        if self.dynamic_user {
            let by = "DynamicUser=yes".to_owned();
            if !self.private_tmp {
                self.private_tmp = true;
                self.implied.insert("PrivateTmp".into(), by.clone());
            }
            if self.protect_system != ProtectSystem::Strict {
                self.protect_system = ProtectSystem::Strict;
                self.implied.insert("ProtectSystem".into(), by.clone());
            }
            if self.protect_home == ProtectHome::No {
                self.protect_home = ProtectHome::ReadOnly;
                self.implied.insert("ProtectHome".into(), by.clone());
            }
            if !self.no_new_privileges {
                self.no_new_privileges = true;
                self.implied.insert("NoNewPrivileges".into(), by.clone());
            }
            if !self.restrict_suid_sgid {
                self.restrict_suid_sgid = true;
                self.implied.insert("RestrictSUIDSGID".into(), by);
            }
        }
    }
}

/// Sandboxing settings systemd knows that this model does not evaluate (no typo warning).
const KNOWN_UNMODELLED: [&str; 6] = [
    "PrivateIPC",
    "PrivatePIDs",
    "PrivateBPF",
    "RestrictFileSystems",
    "RestrictNetworkInterfaces",
    "SystemCallLog",
];

/// `capability_from_name()`: a number 0…62 or a `cap_*` name in any case.
fn capability_from_name(word: &str) -> Option<u8> {
    if word.bytes().all(|b| b.is_ascii_digit()) {
        return word.parse::<u8>().ok().filter(|n| *n <= 62);
    }
    let lower = word.to_ascii_lowercase();
    let rest = lower.strip_prefix("cap_")?;
    // `CAP_41` is our own spelling for unnamed numbers, not systemd's.
    if rest.is_empty() || rest.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    caps::parse(word)
}

/// `path_simplify()` for an absolute path: no empty or `.` components, no trailing slash;
/// `None` if a `..` component makes it unnormalized.
pub(crate) fn simplify_path(path: &str) -> Option<String> {
    let mut out = String::with_capacity(path.len());
    for component in path.split('/') {
        match component {
            "" | "." => {}
            ".." => return None,
            c => {
                out.push('/');
                out.push_str(c);
            }
        }
    }
    if out.is_empty() {
        out.push('/');
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::unit::parse_unit;

    fn groups() -> SyscallGroups {
        SyscallGroups::embedded(252)
    }

    /// The policy of a unit whose `[Service]` holds `lines`, followed by drop-ins.
    fn policy_of(files: &[&[&str]]) -> Policy {
        let units: Vec<UnitFile> = files
            .iter()
            .enumerate()
            .map(|(i, lines)| {
                let text = format!("[Service]\n{}\n", lines.join("\n"));
                parse_unit(&format!("f{i}.conf"), &text).expect("valid unit")
            })
            .collect();
        Policy::from_units(&units, &groups())
    }

    fn policy(lines: &[&str]) -> Policy {
        policy_of(&[lines])
    }

    fn filter(lines: &[&str]) -> SyscallFilter {
        policy(lines).syscall_filter.expect("a filter")
    }

    fn caps(names: &[&str]) -> u64 {
        names
            .iter()
            .map(|n| crate::tables::caps::parse(n).expect("known cap"))
            .fold(0, |acc, c| acc | (1u64 << c))
    }

    #[test]
    fn syscall_filter_merge_rules() {
        // (lines, allowed, blocked)
        let cases: &[(&[&str], &[&str], &[&str])] = &[
            // Verified examples of the semantics reference.
            (
                &["SystemCallFilter=~@mount @swap", "SystemCallFilter=@swap"],
                &["swapon", "swapoff", "read"],
                &["mount", "umount2"],
            ),
            (
                &[
                    "SystemCallFilter=@system-service",
                    "SystemCallFilter=~@privileged",
                    "SystemCallFilter=setuid",
                ],
                &["setuid", "read", "execve"],
                &["setresuid", "chown", "mount", "reboot"],
            ),
            (
                &[
                    "SystemCallFilter=~@mount",
                    "SystemCallFilter=",
                    "SystemCallFilter=@system-service",
                ],
                &["read", "execve", "ioctl"],
                &["mount", "reboot"],
            ),
            // An allow-list is seeded with @default.
            (
                &["SystemCallFilter=read"],
                &["read", "execve", "exit_group", "brk"],
                &["write", "mount"],
            ),
            // ~name in allow-list mode removes, even @default members.
            (
                &["SystemCallFilter=read write", "SystemCallFilter=~execve"],
                &["read", "write"],
                &["execve"],
            ),
            // ~name:errno in allow-list mode keeps the entry, returning the errno.
            (
                &[
                    "SystemCallFilter=@system-service",
                    "SystemCallFilter=~ioctl:EPERM",
                ],
                &["read"],
                &["ioctl"],
            ),
            // Deny-list: later plain lines allow again.
            (
                &["SystemCallFilter=~mount umount2", "SystemCallFilter=mount"],
                &["mount", "read"],
                &["umount2"],
            ),
        ];
        for (lines, allowed, blocked) in cases {
            let f = filter(lines);
            for name in *allowed {
                assert!(f.allows(name), "{lines:?}: {name} should be allowed");
            }
            for name in *blocked {
                assert!(!f.allows(name), "{lines:?}: {name} should be blocked");
            }
        }
        assert_eq!(
            filter(&["SystemCallFilter=~@mount"]).mode,
            FilterMode::DenyList
        );
        assert_eq!(
            filter(&[
                "SystemCallFilter=~@mount",
                "SystemCallFilter=",
                "SystemCallFilter=@basic-io"
            ])
            .mode,
            FilterMode::AllowList
        );
        assert!(policy(&["SystemCallFilter=read", "SystemCallFilter="])
            .syscall_filter
            .is_none());
        let f = filter(&[
            "SystemCallFilter=@system-service",
            "SystemCallFilter=~ioctl:EPERM",
        ]);
        assert_eq!(f.entries.get("ioctl"), Some(&Some(ErrnoAction::Errno(1))));
        let f = filter(&["SystemCallFilter=~mount:EACCES umount2:kill"]);
        assert_eq!(f.entries.get("mount"), Some(&Some(ErrnoAction::Errno(13))));
        assert_eq!(f.entries.get("umount2"), Some(&Some(ErrnoAction::Kill)));
    }

    #[test]
    fn syscall_filter_warnings_like_systemd() {
        let cases: &[(&str, &str)] = &[
            (
                "SystemCallFilter=read:EPERM",
                "f0.conf:2: Allow-listed system calls cannot take error number, ignoring: read:EPERM",
            ),
            (
                "SystemCallFilter=~fchown:4096",
                "f0.conf:2: Failed to parse syscall:errno, ignoring: fchown:4096",
            ),
            (
                "SystemCallFilter=@sandbox",
                "f0.conf:2: Unknown system call group, ignoring: @sandbox",
            ),
            (
                "SystemCallFilter=no_such_call",
                "f0.conf:2: Failed to parse system call, ignoring: no_such_call",
            ),
            (
                "SystemCallFilter=\"open",
                "f0.conf:2: Invalid syntax, ignoring: \"open",
            ),
        ];
        for (line, warning) in cases {
            let p = policy(&[line]);
            assert_eq!(p.warnings, vec![(*warning).to_owned()], "{line}");
        }
        // Ignored words leave an allow-list of just @default, as in systemd.
        let f = filter(&["SystemCallFilter=@sandbox"]);
        assert!(f.allows("execve") && !f.allows("read"));
    }

    #[test]
    fn capability_set_merge_rules() {
        let all = u64::MAX;
        let cases: &[(&[&str], u64)] = &[
            (
                &[
                    "CapabilityBoundingSet=CAP_CHOWN CAP_KILL",
                    "CapabilityBoundingSet=~CAP_KILL CAP_NET_RAW",
                ],
                caps(&["CAP_CHOWN"]),
            ),
            (&["CapabilityBoundingSet="], 0),
            (
                &["CapabilityBoundingSet=CAP_CHOWN", "CapabilityBoundingSet="],
                0,
            ),
            (&["CapabilityBoundingSet=~"], all),
            // `~` alone leaves the "unset" value, so the next line replaces instead of merging.
            (
                &["CapabilityBoundingSet=~", "CapabilityBoundingSet=CAP_CHOWN"],
                caps(&["CAP_CHOWN"]),
            ),
            (
                &["CapabilityBoundingSet=~CAP_SYS_ADMIN"],
                !caps(&["CAP_SYS_ADMIN"]),
            ),
            (
                &[
                    "CapabilityBoundingSet=CAP_CHOWN",
                    "CapabilityBoundingSet=CAP_KILL",
                ],
                caps(&["CAP_CHOWN", "CAP_KILL"]),
            ),
            (
                &["CapabilityBoundingSet=cap_chown 5"],
                caps(&["CAP_CHOWN", "CAP_KILL"]),
            ),
            // Unknown names are ignored silently; a line naming nothing replaces.
            (
                &[
                    "CapabilityBoundingSet=CAP_CHOWN",
                    "CapabilityBoundingSet=CAP_BOGUS",
                ],
                0,
            ),
            (&["CapabilityBoundingSet=net_raw"], 0),
        ];
        for (lines, expected) in cases {
            let p = policy(lines);
            assert_eq!(p.capability_bounding_set.0, *expected, "{lines:?}");
            assert!(p.warnings.is_empty(), "{lines:?}: {:?}", p.warnings);
        }
        let cases: &[(&[&str], u64)] = &[
            (&[], 0),
            (
                &[
                    "AmbientCapabilities=CAP_NET_BIND_SERVICE",
                    "AmbientCapabilities=CAP_NET_RAW",
                ],
                caps(&["CAP_NET_BIND_SERVICE", "CAP_NET_RAW"]),
            ),
            (&["AmbientCapabilities=~"], all),
            (
                &["AmbientCapabilities=CAP_NET_RAW", "AmbientCapabilities="],
                0,
            ),
        ];
        for (lines, expected) in cases {
            assert_eq!(policy(lines).ambient_capabilities.0, *expected, "{lines:?}");
        }
    }

    #[test]
    fn implied_effects_of_unit_patch_contexts() {
        let p = policy(&[
            "PrivateDevices=yes",
            "ProtectClock=yes",
            "ProtectKernelModules=yes",
            "ProtectKernelLogs=yes",
        ]);
        for cap in [
            "CAP_MKNOD",
            "CAP_SYS_RAWIO",
            "CAP_SYS_TIME",
            "CAP_WAKE_ALARM",
            "CAP_SYS_MODULE",
            "CAP_SYSLOG",
        ] {
            let n = crate::tables::caps::parse(cap).expect("known");
            assert!(!p.capability_bounding_set.contains(n), "{cap}");
        }
        assert_eq!(
            p.capabilities_removed_by.get(&27).map(String::as_str),
            Some("PrivateDevices=yes")
        );
        assert!(p.capability_bounding_set.contains(21));

        let p = policy(&["DynamicUser=yes", "ProtectHome=tmpfs"]);
        assert_eq!(p.protect_system, ProtectSystem::Strict);
        assert_eq!(p.protect_home, ProtectHome::Tmpfs);
        assert!(p.private_tmp && p.no_new_privileges && p.restrict_suid_sgid);
        assert!(!p.runs_as_root());
        assert_eq!(
            p.describe("ProtectSystem", "strict"),
            "ProtectSystem=strict (implied by DynamicUser=yes)"
        );
        assert_eq!(
            policy(&["DynamicUser=yes"]).protect_home,
            ProtectHome::ReadOnly
        );
        assert!(policy(&["User=root"]).runs_as_root());
        assert!(!policy(&["User=www-data"]).runs_as_root());
        assert!(policy(&["User=www-data", "User="]).runs_as_root());
    }

    #[test]
    fn address_family_rules() {
        // (lines, restricted, allowed, blocked)
        type Case<'a> = (&'a [&'a str], bool, &'a [&'a str], &'a [&'a str]);
        let cases: &[Case] = &[
            (&[], false, &["AF_INET", "AF_PACKET"], &[]),
            (
                &[
                    "RestrictAddressFamilies=AF_INET AF_INET6",
                    "RestrictAddressFamilies=AF_UNIX",
                ],
                true,
                &["AF_INET", "AF_INET6", "AF_UNIX"],
                &["AF_PACKET", "AF_NETLINK"],
            ),
            (
                &[
                    "RestrictAddressFamilies=AF_INET AF_UNIX",
                    "RestrictAddressFamilies=~AF_INET",
                ],
                true,
                &["AF_UNIX"],
                &["AF_INET"],
            ),
            (
                &["RestrictAddressFamilies=~AF_PACKET"],
                true,
                &["AF_INET", "AF_UNIX"],
                &["AF_PACKET"],
            ),
            (
                &[
                    "RestrictAddressFamilies=~AF_PACKET",
                    "RestrictAddressFamilies=AF_PACKET",
                ],
                false,
                &["AF_PACKET"],
                &[],
            ),
            (
                &["RestrictAddressFamilies=none"],
                true,
                &[],
                &["AF_UNIX", "AF_INET"],
            ),
            (
                &[
                    "RestrictAddressFamilies=none",
                    "RestrictAddressFamilies=AF_UNIX",
                ],
                true,
                &["AF_UNIX"],
                &["AF_INET"],
            ),
            (
                &[
                    "RestrictAddressFamilies=AF_INET",
                    "RestrictAddressFamilies=",
                ],
                false,
                &["AF_PACKET"],
                &[],
            ),
            (
                &["RestrictAddressFamilies=AF_LOCAL"],
                true,
                &["AF_UNIX"],
                &["AF_INET"],
            ),
        ];
        for (lines, restricted, allowed, blocked) in cases {
            let rule = policy(lines).restrict_address_families;
            assert_eq!(rule.is_restricted(), *restricted, "{lines:?}");
            for family in *allowed {
                assert!(rule.allows(family), "{lines:?}: {family}");
            }
            for family in *blocked {
                assert!(!rule.allows(family), "{lines:?}: {family}");
            }
        }
        assert_eq!(
            policy(&["RestrictAddressFamilies=AF_INET AF_FOO"]).warnings,
            vec!["f0.conf:2: Failed to parse address family, ignoring: AF_FOO".to_owned()]
        );
    }

    #[test]
    fn namespace_rules() {
        use Namespace::*;
        let cases: &[(&[&str], Option<&[Namespace]>)] = &[
            (&[], None),
            (&["RestrictNamespaces=yes"], Some(&[])),
            (&["RestrictNamespaces=no"], None),
            (&["RestrictNamespaces=net"], Some(&[Net])),
            (
                &["RestrictNamespaces=~user"],
                Some(&[Cgroup, Ipc, Net, Mnt, Pid, Uts]),
            ),
            (
                &["RestrictNamespaces=net", "RestrictNamespaces=ipc"],
                Some(&[Ipc, Net]),
            ),
            (
                &["RestrictNamespaces=net ipc", "RestrictNamespaces=~net"],
                Some(&[Ipc]),
            ),
            (
                &["RestrictNamespaces=net", "RestrictNamespaces=yes"],
                Some(&[]),
            ),
            (&["RestrictNamespaces=net", "RestrictNamespaces="], None),
            (
                &["RestrictNamespaces=net", "RestrictNamespaces=net bogus"],
                Some(&[Net]),
            ),
        ];
        for (lines, expected) in cases {
            let got = policy(lines).restrict_namespaces.allowed;
            let expected = expected.map(|e| e.iter().copied().collect::<BTreeSet<_>>());
            assert_eq!(got, expected, "{lines:?}");
        }
        let rule = policy(&["RestrictNamespaces=~user"]).restrict_namespaces;
        assert!(rule.allows(Net) && !rule.allows(User));
    }

    #[test]
    fn path_lists_accumulate_reset_and_validate() {
        let p = policy(&[
            "ReadWritePaths=-/var/lib/a \"/srv/with space\" /x//y/./z/",
            "ReadWritePaths=relative /a/../b -+/c",
            "ReadOnlyPaths=/etc",
            "ReadOnlyPaths=",
            "ReadOnlyPaths=/usr",
            "InaccessibleDirectories=/secret",
            "ExecPaths=/usr/bin/%n",
        ]);
        let rw: Vec<String> = p.read_write_paths.iter().map(|s| s.to_string()).collect();
        assert_eq!(rw, vec!["-/var/lib/a", "/srv/with space", "/x/y/z", "-+/c"]);
        let ro: Vec<&str> = p.read_only_paths.iter().map(|s| s.path.as_str()).collect();
        assert_eq!(ro, vec!["/usr"]);
        assert_eq!(p.inaccessible_paths[0].path, "/secret");
        assert_eq!(p.exec_paths[0].path, "/usr/bin/%n");
        assert_eq!(
            p.warnings,
            vec![
                "f0.conf:3: ReadWritePaths= path is not absolute, ignoring: relative".to_owned(),
                "f0.conf:3: ReadWritePaths= path is not normalized, ignoring: /a/../b".to_owned(),
                "f0.conf:8: ExecPaths= specifier %n cannot be expanded without the unit, kept verbatim: /usr/bin/%n".to_owned(),
            ]
        );
    }

    #[test]
    fn directories_and_temporary_file_systems() {
        let p = policy(&[
            "StateDirectory=app app/sub",
            "CacheDirectory=/abs private ../up",
            "RuntimeDirectory=run:link",
            "LogsDirectory=a",
            "LogsDirectory=",
            "TemporaryFileSystem=/var:ro /scratch",
            "DynamicUser=yes",
        ]);
        assert_eq!(
            p.directories.get(&ExecDirectory::State),
            Some(&vec!["app".to_owned(), "app/sub".to_owned()])
        );
        assert_eq!(p.directories.get(&ExecDirectory::Cache), None);
        assert_eq!(p.directories.get(&ExecDirectory::Logs), None);
        let paths: Vec<String> = p.directory_paths().into_iter().map(|(_, p)| p).collect();
        assert_eq!(
            paths,
            vec![
                "/run/run",
                "/var/lib/app",
                "/var/lib/private/app",
                "/var/lib/app/sub",
                "/var/lib/private/app/sub"
            ]
        );
        assert_eq!(p.warnings.len(), 3, "{:?}", p.warnings);
        assert!(p.temporary_file_systems[0].read_only);
        assert!(!p.temporary_file_systems[1].read_only);
    }

    #[test]
    fn booleans_enums_and_values() {
        let p = policy(&[
            "ProtectSystem=full",
            "ProtectHome=read-only",
            "PrivateTmp=on",
            "PrivateDevices=1",
            "ProtectKernelTunables=true",
            "PrivateNetwork=maybe",
            "ProtectSystem=sometimes",
            "ProtectProc=invisible",
            "ProcSubset=pid",
            "PrivateMounts=yes",
            "UMask=0027",
            "UMask=99",
            "SystemCallErrorNumber=EPERM",
            "SystemCallErrorNumber=0",
            "SystemCallArchitectures=native x86",
            "SystemCallArchitectures=vax",
            "Personality=x86",
            "NoNewPrivileges=",
        ]);
        assert_eq!(p.protect_system, ProtectSystem::Full);
        assert_eq!(p.protect_home, ProtectHome::ReadOnly);
        assert!(p.private_tmp && p.private_devices && p.protect_kernel_tunables);
        assert!(!p.private_network);
        assert_eq!(p.protect_proc, ProtectProc::Invisible);
        assert_eq!(p.proc_subset, ProcSubset::Pid);
        assert_eq!(p.private_mounts, Some(true));
        assert_eq!(p.umask, Some(0o027));
        assert_eq!(p.syscall_error_number, ErrnoAction::Errno(1));
        let archs: Vec<&str> = p.syscall_architectures.iter().map(String::as_str).collect();
        assert_eq!(archs, vec!["native", "x86"]);
        assert_eq!(p.personality.as_deref(), Some("x86"));
        assert_eq!(
            p.warnings,
            vec![
                "f0.conf:7: Failed to parse boolean value, ignoring: maybe",
                "f0.conf:8: Failed to parse protect system value, ignoring: sometimes",
                "f0.conf:13: Failed to parse mode value, ignoring: 99",
                "f0.conf:15: Invalid error number, ignoring: 0",
                "f0.conf:17: Failed to parse system call architecture \"vax\", ignoring: Invalid argument",
                "f0.conf:19: Failed to parse boolean value, ignoring: ",
            ]
        );
        assert_eq!(
            policy(&["SystemCallErrorNumber=EPERM", "SystemCallErrorNumber=kill"])
                .syscall_error_number,
            ErrnoAction::Kill
        );
    }

    #[test]
    fn drop_ins_apply_in_order() {
        let p = policy_of(&[
            &[
                "ProtectSystem=full",
                "SystemCallFilter=@system-service",
                "ReadWritePaths=/a",
            ],
            &[
                "ProtectSystem=strict",
                "SystemCallFilter=",
                "ReadWritePaths=/b",
            ],
        ]);
        assert_eq!(p.protect_system, ProtectSystem::Strict);
        assert!(p.syscall_filter.is_none());
        let rw: Vec<&str> = p.read_write_paths.iter().map(|s| s.path.as_str()).collect();
        assert_eq!(rw, vec!["/a", "/b"]);
    }

    #[test]
    fn unknown_sections_and_keys() {
        let unit = parse_unit(
            "u.service",
            "[Unit]\nDescription=x\n[Service]\nExecStart=/bin/true\nProtectSytem=strict\n[Bogus]\nA=1\n[X-Mine]\nB=2\n",
        )
        .expect("valid");
        let p = Policy::from_units(&[unit], &groups());
        assert_eq!(
            p.warnings,
            vec![
                "u.service:5: Unknown key 'ProtectSytem' in section [Service], ignoring.",
                "u.service:6: Unknown section 'Bogus'. Ignoring.",
            ]
        );
        let ignored: Vec<&str> = p.ignored_keys.iter().map(String::as_str).collect();
        assert_eq!(ignored, vec!["ExecStart", "ProtectSytem"]);
        assert_eq!(p.protect_system, ProtectSystem::No);
    }

    #[test]
    fn permissive_is_default() {
        assert_eq!(Policy::permissive(), Policy::default());
        assert_eq!(policy(&[]), Policy::default());
    }

    #[test]
    fn never_panics_on_odd_values() {
        let keys = [
            "SystemCallFilter",
            "SystemCallErrorNumber",
            "SystemCallArchitectures",
            "CapabilityBoundingSet",
            "AmbientCapabilities",
            "RestrictAddressFamilies",
            "RestrictNamespaces",
            "ProtectSystem",
            "ProtectHome",
            "ProtectProc",
            "ProcSubset",
            "PrivateTmp",
            "PrivateMounts",
            "ReadWritePaths",
            "ExecPaths",
            "BindPaths",
            "StateDirectory",
            "TemporaryFileSystem",
            "User",
            "UMask",
            "Personality",
        ];
        let values = [
            "",
            "~",
            "~~",
            ":",
            "::",
            "@",
            "@@default",
            "-",
            "-+",
            "+-/x",
            "\\",
            "\"",
            "'",
            "%",
            "%%",
            "%n",
            "/",
            "//",
            "/..",
            "a:b:c:d",
            "~read:",
            "read:kill:EPERM",
            "\u{1}\u{7f}",
            "99999999999999999999",
            "-1",
            "0x",
            "CAP_",
            "cap_999",
            "AF_",
            "none none",
            "yes no",
            "\u{202e}",
            "/a\\",
            ":ro,noexec",
        ];
        for key in keys {
            for value in values {
                let p = policy(&[&format!("{key}={value}")]);
                for warning in &p.warnings {
                    assert!(!warning.contains(['\n', '\r']), "{warning}");
                }
            }
        }
    }
}
