//! The directive engine: a pure function of (trace, target facts, options) → a `[Service]` drop-in
//! with the evidence behind every line.
//!
//! Each directive rule looks only at the evidence that would break the directive's strictest value
//! (semantics reference §5.4/§5.5) and either emits that value or says why it cannot.

mod current;
mod noexec;
mod paths;
mod rules;

use crate::tables::groups::SyscallGroups;
use crate::trace::Trace;
use serde::Serialize;

pub use current::{changes, respect_current, Change};
pub use paths::{is_strictly_under, is_under};

/// How syscalls are expressed in `SystemCallFilter=`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Level {
    /// Explicit syscall names (`@default` is implicit): the tightest list.
    Strict,
    /// `@system-service`, plus names outside it, minus `~@group` lines for scored groups never used.
    Groups,
}

/// What the engine knows about the machine the drop-in is for.
#[derive(Debug, Clone)]
pub struct TargetFacts {
    /// Major version of the target's systemd.
    pub systemd_version: u32,
    /// The target's syscall groups (parsed from its `systemd-analyze syscall-filter`, or embedded).
    pub groups: SyscallGroups,
}

/// Knobs of `sysprof suggest`.
#[derive(Debug, Clone, Copy)]
pub struct SuggestOptions {
    pub level: Level,
}

/// One line of the drop-in.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Directive {
    pub key: String,
    /// The value exactly as written in the unit file (already escaped).
    pub value: String,
    /// Why this value is safe: the evidence checked, or the observations that set it.
    pub evidence: Vec<String>,
}

/// A directive that was considered and not emitted.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Omitted {
    pub key: String,
    pub reason: String,
}

/// The result of `suggest`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Suggestion {
    pub systemd_version: u32,
    pub level: Level,
    pub directives: Vec<Directive>,
    pub omitted: Vec<Omitted>,
    /// Things the operator must know (syscalls that cannot be allowed, incomplete evidence, …).
    pub warnings: Vec<String>,
    /// Files the service writes and then executes or maps executable: the writable mounts that
    /// hold them must stay executable (see [`respect_current`], which lists the unit's own
    /// writable mounts in `NoExecPaths=` too).
    #[serde(skip)]
    pub keep_exec: Vec<String>,
}

/// The first systemd version that knows each directive we emit (semantics reference §6.1).
pub const MIN_VERSIONS: [(&str, u32); 41] = [
    ("SystemCallFilter", 209),
    ("SystemCallErrorNumber", 209),
    ("SystemCallArchitectures", 209),
    ("CapabilityBoundingSet", 209),
    ("AmbientCapabilities", 229),
    ("NoNewPrivileges", 209),
    ("ProtectSystem", 232),
    ("ReadWritePaths", 231),
    ("ReadOnlyPaths", 231),
    ("StateDirectory", 235),
    ("CacheDirectory", 235),
    ("LogsDirectory", 235),
    ("RuntimeDirectory", 211),
    ("NoExecPaths", 248),
    ("ExecPaths", 248),
    ("BindReadOnlyPaths", 233),
    ("PrivateTmp", 209),
    ("ProtectHome", 214),
    ("PrivateDevices", 209),
    ("ProtectKernelTunables", 232),
    ("ProtectKernelModules", 232),
    ("ProtectKernelLogs", 244),
    ("ProtectControlGroups", 232),
    ("ProtectClock", 245),
    ("ProtectHostname", 242),
    ("ProtectProc", 247),
    ("ProcSubset", 247),
    ("RestrictAddressFamilies", 211),
    ("RestrictNamespaces", 233),
    ("RestrictRealtime", 231),
    ("RestrictSUIDSGID", 242),
    ("LockPersonality", 235),
    ("MemoryDenyWriteExecute", 231),
    ("PrivateMounts", 239),
    ("UMask", 209),
    ("PrivateNetwork", 209),
    ("IPAddressDeny", 235),
    ("IPAddressAllow", 235),
    ("PrivateUsers", 232),
    ("KeyringMode", 235),
    ("DevicePolicy", 205),
];

/// The first systemd version that knows `key`, if it is one we emit.
pub fn min_version(key: &str) -> Option<u32> {
    MIN_VERSIONS
        .iter()
        .find(|(k, _)| *k == key)
        .map(|(_, v)| *v)
}

/// Maps the evidence in `trace` to the strictest directives that still let it work.
pub fn suggest(trace: &Trace, facts: &TargetFacts, options: SuggestOptions) -> Suggestion {
    let mut out = rules::Builder::new(trace, facts, options);
    out.run_all();
    out.finish()
}

/// Escapes free text (evidence, notes) for a `#` comment line: no newline or control character
/// can end the comment and start a directive.
pub fn comment_safe(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\\' => out.push_str("\\\\"),
            c if c.is_control() => out.push_str(&format!("\\x{:02x}", u32::from(c))),
            c => out.push(c),
        }
    }
    out
}

impl Suggestion {
    /// Renders the `[Service]` drop-in. With `explain`, every directive is preceded by the
    /// evidence behind it, and omitted directives are listed with their reasons.
    pub fn render_dropin(&self, header: &[String], explain: bool) -> String {
        let mut s = String::new();
        for line in header {
            s.push_str("# ");
            s.push_str(&comment_safe(line));
            s.push('\n');
        }
        for w in &self.warnings {
            s.push_str("# warning: ");
            s.push_str(&comment_safe(w));
            s.push('\n');
        }
        s.push_str("[Service]\n");
        for d in &self.directives {
            if explain {
                for e in &d.evidence {
                    s.push_str("# ");
                    s.push_str(&comment_safe(e));
                    s.push('\n');
                }
            }
            s.push_str(&d.key);
            s.push('=');
            s.push_str(&d.value);
            s.push('\n');
        }
        if explain && !self.omitted.is_empty() {
            s.push_str("\n# Not set:\n");
            for o in &self.omitted {
                s.push_str("#   ");
                s.push_str(&comment_safe(&o.key));
                s.push_str(": ");
                s.push_str(&comment_safe(&o.reason));
                s.push('\n');
            }
        }
        s
    }
}

#[cfg(test)]
mod tests;
