//! Fits a suggestion to the unit it is for: never looser than what the unit already sets.
//!
//! The suggestion is rendered, parsed back and merged after the unit's own files exactly as
//! systemd would ([`Policy::from_units`]); wherever that result allows something the unit alone
//! does not, the suggestion is narrowed (a `~` line, a path left out, a directive dropped), so
//! applying it can only take permissions away.

use super::{Directive, Omitted, Suggestion};
use crate::tables::{caps, groups::SyscallGroups, net};
use crate::unit::{
    parse_unit, quote_path, split_path_words, CapabilitySet, Policy, ProtectHome, ProtectProc,
    UnitFile,
};
use serde::Serialize;

/// One setting the suggestion changes: what the unit has now and what it would have.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Change {
    pub key: String,
    /// The unit's own assignments, in order (empty: not set).
    pub before: Vec<String>,
    /// The suggestion's assignments, in order.
    pub after: Vec<String>,
}

/// Narrows `suggestion` so that, applied after `current` (a unit file and its drop-ins, in
/// systemd's order), it never allows what `current` denies. Adds the `AmbientCapabilities=` a
/// non-root service needs once its bounding set shrinks.
pub fn respect_current(suggestion: &mut Suggestion, current: &[UnitFile], groups: &SyscallGroups) {
    let now = Policy::from_units(current, groups);
    let Some(after) = merged(suggestion, current, groups) else {
        return;
    };

    // Syscalls: a `~` line takes them back out of the suggested allow-list.
    if now.syscall_filter.is_some() {
        let widened: Vec<String> = groups
            .known()
            .into_iter()
            .filter(|name| allows_syscall(&after, name) && !allows_syscall(&now, name))
            .collect();
        if !widened.is_empty() {
            let evidence = vec![format!(
                "the unit's own SystemCallFilter= denies {}: they stay denied",
                count(widened.len(), "syscall")
            )];
            insert_after(
                suggestion,
                "SystemCallFilter",
                vec![("~", widened)],
                evidence,
            );
        }
    }

    // Capabilities: never more than the unit's own bounding set.
    let extra = CapabilitySet(after.capability_bounding_set.0 & !now.capability_bounding_set.0);
    let extra_names = known_caps(extra);
    if !extra_names.is_empty() {
        let evidence = vec!["the unit's own CapabilityBoundingSet= lacks these".to_owned()];
        insert_after(
            suggestion,
            "CapabilityBoundingSet",
            vec![("~", extra_names)],
            evidence,
        );
    }
    let bounding = CapabilitySet(after.capability_bounding_set.0 & now.capability_bounding_set.0);

    // A non-root service gets its capabilities from AmbientCapabilities=, which must stay inside
    // the bounding set: systemd fails the start (218/CAPABILITIES) otherwise.
    let non_root = now.dynamic_user || now.user.as_deref().is_some_and(|u| u != "root" && u != "0");
    let ambient = CapabilitySet(now.ambient_capabilities.0 & bounding.0);
    if non_root && ambient != now.ambient_capabilities {
        let dropped = known_caps(CapabilitySet(now.ambient_capabilities.0 & !bounding.0));
        let mut evidence = vec![format!(
            "User={}: ambient capabilities outside the new bounding set would fail the start; \
             dropped: {}",
            now.user.as_deref().unwrap_or("(dynamic)"),
            dropped.join(" ")
        )];
        suggestion.directives.push(Directive {
            key: "AmbientCapabilities".to_owned(),
            value: String::new(),
            evidence: vec!["AmbientCapabilities= empty first: replaces what the unit sets".into()],
        });
        let kept = known_caps(ambient);
        if !kept.is_empty() {
            evidence.push(format!(
                "kept: the ones the service used ({})",
                kept.join(" ")
            ));
            suggestion.directives.push(Directive {
                key: "AmbientCapabilities".to_owned(),
                value: kept.join(" "),
                evidence,
            });
        } else if let Some(reset) = suggestion.directives.last_mut() {
            reset.evidence.extend(evidence);
        }
    }

    // Address families.
    if now.restrict_address_families.is_restricted() {
        let widened: Vec<String> = net::ADDRESS_FAMILIES
            .iter()
            .map(|(name, _)| *name)
            .filter(|f| {
                after.restrict_address_families.allows(f)
                    && !now.restrict_address_families.allows(f)
            })
            .map(str::to_owned)
            .collect();
        if !widened.is_empty() {
            let evidence = vec!["the unit's own RestrictAddressFamilies= denies these".to_owned()];
            insert_after(
                suggestion,
                "RestrictAddressFamilies",
                vec![("~", widened)],
                evidence,
            );
        }
    }

    // Single-valued settings where the unit is already stricter: leave the unit's value alone.
    if protect_home_rank(now.protect_home) > protect_home_rank(after.protect_home) {
        keep_units(
            suggestion,
            "ProtectHome",
            &format!("ProtectHome={}", now.protect_home.as_str()),
        );
    }
    if protect_proc_rank(now.protect_proc) > protect_proc_rank(after.protect_proc) {
        keep_units(
            suggestion,
            "ProtectProc",
            protect_proc_str(now.protect_proc),
        );
    }
    if now.protect_system > after.protect_system {
        keep_units(
            suggestion,
            "ProtectSystem",
            &format!("ProtectSystem={}", now.protect_system.as_str()),
        );
    }
    if let (Some(unit_mask), Some(ours)) = (now.umask, after.umask) {
        if ours & unit_mask != unit_mask {
            let value = format!("{:04o}", ours | unit_mask);
            for d in suggestion
                .directives
                .iter_mut()
                .filter(|d| d.key == "UMask")
            {
                d.value.clone_from(&value);
                d.evidence.push(format!(
                    "the unit's own UMask={unit_mask:04o} masks more: kept"
                ));
            }
        }
    }
    if current.iter().any(|u| {
        u.entries("Service")
            .any(|e| e.key == "IPAddressDeny" || e.key == "IPAddressAllow")
    }) {
        // IPAddressAllow= lines accumulate: ours would add to the unit's allow-list.
        for key in ["IPAddressDeny", "IPAddressAllow"] {
            keep_units(suggestion, key, "its own IP address lists");
        }
    }

    // Paths: nothing writable or executable that the unit keeps read-only, hidden or noexec.
    let table = now.mount_table();
    narrow_paths(suggestion, "ReadWritePaths", |path| {
        let state = table.lookup(path);
        state
            .inaccessible
            .or(state.hidden)
            .or(state.read_only)
            .map(|by| format!("the unit's own {by} keeps it from being written"))
    });
    // The unit's own writable mounts (its ReadWritePaths=, *Directory=, BindPaths=, …) stay
    // in force under the drop-in and would stay executable under NoExecPaths=/: list them too.
    if let Some(after) = merged(suggestion, current, groups) {
        let keep = suggestion.keep_exec.clone();
        super::noexec::list_writable_mounts(
            &mut suggestion.directives,
            &after,
            &keep,
            &mut suggestion.warnings,
        );
    }
    // ExecPaths= is left alone: every file it lists was executed under the unit's current
    // settings, so it is executable there already, and systemd resolves symlinks when it
    // mounts ExecPaths= (Debian's redis lists the symlink /usr/bin/redis-server; the trace has
    // its target), which a path-only model cannot follow.

    if let Some(after) = merged(suggestion, current, groups) {
        let still: Vec<String> = groups
            .known()
            .into_iter()
            .filter(|n| {
                now.syscall_filter.is_some()
                    && allows_syscall(&after, n)
                    && !allows_syscall(&now, n)
            })
            .collect();
        if !still.is_empty() {
            suggestion.warnings.push(format!(
                "the suggestion still allows syscalls the unit denies: {}",
                still.join(" ")
            ));
        }
    }
}

/// What `current` sets for every key the suggestion sets, and what the suggestion sets.
pub fn changes(suggestion: &Suggestion, current: &[UnitFile]) -> Vec<Change> {
    let mut keys: Vec<&str> = Vec::new();
    for d in &suggestion.directives {
        if !keys.contains(&d.key.as_str()) {
            keys.push(&d.key);
        }
    }
    keys.into_iter()
        .map(|key| Change {
            key: key.to_owned(),
            before: current
                .iter()
                .flat_map(|u| u.entries("Service"))
                .filter(|e| e.key == key)
                .map(|e| e.value.clone())
                .collect(),
            after: suggestion
                .directives
                .iter()
                .filter(|d| d.key == key)
                .map(|d| d.value.clone())
                .collect(),
        })
        .filter(|c| c.before != c.after)
        .collect()
}

/// The unit's policy with the suggestion applied last, as systemd merges it.
fn merged(
    suggestion: &mut Suggestion,
    current: &[UnitFile],
    groups: &SyscallGroups,
) -> Option<Policy> {
    match parse_unit("sysprof.conf", &suggestion.render_dropin(&[], false)) {
        Ok(ours) => {
            let mut units = current.to_vec();
            units.push(ours);
            Some(Policy::from_units(&units, groups))
        }
        Err(e) => {
            suggestion
                .warnings
                .push(format!("cannot compare with the unit's settings: {e}"));
            None
        }
    }
}

fn allows_syscall(policy: &Policy, name: &str) -> bool {
    policy
        .syscall_filter
        .as_ref()
        .is_none_or(|f| f.allows(name))
}

fn known_caps(set: CapabilitySet) -> Vec<String> {
    caps::all()
        .filter(|c| set.contains(*c))
        .map(caps::name)
        .collect()
}

fn count(n: usize, what: &str) -> String {
    if n == 1 {
        format!("1 {what}")
    } else {
        format!("{n} {what}s")
    }
}

/// Adds `key=` lines (one per `(prefix, words)` group) right after the last `key=` directive.
fn insert_after(
    suggestion: &mut Suggestion,
    key: &str,
    lines: Vec<(&str, Vec<String>)>,
    evidence: Vec<String>,
) {
    let at = suggestion
        .directives
        .iter()
        .rposition(|d| d.key == key)
        .map_or(suggestion.directives.len(), |i| i + 1);
    let new: Vec<Directive> = lines
        .into_iter()
        .map(|(prefix, words)| Directive {
            key: key.to_owned(),
            value: format!("{prefix}{}", words.join(" ")),
            evidence: evidence.clone(),
        })
        .collect();
    suggestion.directives.splice(at..at, new);
}

/// Drops the suggestion's `key=` lines: the unit's own value is at least as strict.
fn keep_units(suggestion: &mut Suggestion, key: &str, value: &str) {
    let before = suggestion.directives.len();
    suggestion.directives.retain(|d| d.key != key);
    if suggestion.directives.len() != before {
        suggestion.omitted.push(Omitted {
            key: key.to_owned(),
            reason: format!("the unit already sets {value}, which is at least as strict: kept"),
        });
    }
}

/// Removes from every `key=` path list the paths `refuse` objects to, with a warning each.
fn narrow_paths(suggestion: &mut Suggestion, key: &str, refuse: impl Fn(&str) -> Option<String>) {
    let mut warnings = Vec::new();
    for d in suggestion.directives.iter_mut().filter(|d| d.key == key) {
        let Ok(words) = split_path_words(&d.value) else {
            continue;
        };
        let mut kept = Vec::new();
        let mut changed = false;
        for word in words {
            let (prefix, path) = match word.strip_prefix('-') {
                Some(rest) => ("-", rest.to_owned()),
                None => ("", word.clone()),
            };
            match refuse(&path) {
                Some(reason) => {
                    changed = true;
                    warnings.push(format!("{key}: left out {path}: {reason}"));
                }
                None => match quote_path(&path) {
                    Ok(quoted) => kept.push(format!("{prefix}{quoted}")),
                    Err(_) => changed = true,
                },
            }
        }
        if changed {
            d.value = kept.join(" ");
        }
    }
    // A list emptied by the narrowing would read as a reset: drop it rather than mislead.
    suggestion
        .directives
        .retain(|d| d.key != key || !d.value.is_empty() || is_first_reset(d));
    suggestion.warnings.extend(warnings);
}

fn is_first_reset(d: &Directive) -> bool {
    d.evidence.iter().any(|e| e.contains("empty first"))
}

fn protect_home_rank(p: ProtectHome) -> u8 {
    match p {
        ProtectHome::No => 0,
        ProtectHome::ReadOnly => 1,
        ProtectHome::Tmpfs => 2,
        ProtectHome::Yes => 3,
    }
}

fn protect_proc_str(p: ProtectProc) -> &'static str {
    match p {
        ProtectProc::Default => "ProtectProc=default",
        ProtectProc::Ptraceable => "ProtectProc=ptraceable",
        ProtectProc::Invisible => "ProtectProc=invisible",
        ProtectProc::NoAccess => "ProtectProc=noaccess",
    }
}

fn protect_proc_rank(p: ProtectProc) -> u8 {
    match p {
        ProtectProc::Default => 0,
        ProtectProc::Ptraceable => 1,
        ProtectProc::Invisible => 2,
        ProtectProc::NoAccess => 3,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::suggest::{Level, Suggestion};
    use std::collections::BTreeSet;

    fn groups() -> SyscallGroups {
        SyscallGroups::embedded(252)
    }

    fn unit(text: &str) -> UnitFile {
        parse_unit("x.service", text).expect("unit parses")
    }

    fn suggestion(lines: &[(&str, &str)]) -> Suggestion {
        Suggestion {
            systemd_version: 252,
            level: Level::Strict,
            directives: lines
                .iter()
                .map(|(k, v)| Directive {
                    key: (*k).to_owned(),
                    value: (*v).to_owned(),
                    evidence: if v.is_empty() {
                        vec![format!(
                            "{k}= empty first: replaces what the unit already sets"
                        )]
                    } else {
                        Vec::new()
                    },
                })
                .collect(),
            omitted: Vec::new(),
            warnings: Vec::new(),
            keep_exec: Vec::new(),
        }
    }

    fn values<'a>(s: &'a Suggestion, key: &str) -> Vec<&'a str> {
        s.directives
            .iter()
            .filter(|d| d.key == key)
            .map(|d| d.value.as_str())
            .collect()
    }

    #[test]
    fn syscalls_the_unit_denies_stay_denied() {
        let current = [unit(
            "[Service]\nSystemCallFilter=@system-service\nSystemCallFilter=~@privileged\n",
        )];
        let mut s = suggestion(&[
            ("SystemCallFilter", ""),
            ("SystemCallFilter", "read write setuid chown"),
        ]);
        respect_current(&mut s, &current, &groups());
        let lines = values(&s, "SystemCallFilter");
        assert_eq!(lines.len(), 3, "{lines:?}");
        let denied = lines[2].strip_prefix('~').expect("a ~ line");
        let denied: BTreeSet<&str> = denied.split(' ').collect();
        assert!(
            denied.contains("setuid") && denied.contains("chown"),
            "{denied:?}"
        );
        assert!(!denied.contains("read"));
        let after = merged(&mut s, &current, &groups()).expect("parses");
        assert!(allows_syscall(&after, "read") && !allows_syscall(&after, "setuid"));
        assert!(s.warnings.is_empty(), "{:?}", s.warnings);
    }

    #[test]
    fn no_filter_in_the_unit_changes_nothing() {
        let mut s = suggestion(&[
            ("SystemCallFilter", ""),
            ("SystemCallFilter", "read setuid"),
        ]);
        let before = s.clone();
        respect_current(
            &mut s,
            &[unit("[Service]\nExecStart=/bin/true\n")],
            &groups(),
        );
        assert_eq!(s, before);
    }

    #[test]
    fn capabilities_never_grow_and_ambient_follows_for_non_root() {
        let current = [unit(
            "[Service]\nUser=www\nCapabilityBoundingSet=CAP_NET_BIND_SERVICE CAP_SYS_ADMIN\n\
             AmbientCapabilities=CAP_NET_BIND_SERVICE CAP_SYS_ADMIN\n",
        )];
        let mut s = suggestion(&[
            ("CapabilityBoundingSet", ""),
            ("CapabilityBoundingSet", "CAP_NET_BIND_SERVICE CAP_CHOWN"),
        ]);
        respect_current(&mut s, &current, &groups());
        assert_eq!(
            values(&s, "CapabilityBoundingSet"),
            ["", "CAP_NET_BIND_SERVICE CAP_CHOWN", "~CAP_CHOWN"]
        );
        assert_eq!(
            values(&s, "AmbientCapabilities"),
            ["", "CAP_NET_BIND_SERVICE"]
        );
        let after = merged(&mut s, &current, &groups()).expect("parses");
        assert_eq!(
            known_caps(after.capability_bounding_set),
            ["CAP_NET_BIND_SERVICE"]
        );
        assert_eq!(
            known_caps(after.ambient_capabilities),
            ["CAP_NET_BIND_SERVICE"]
        );
    }

    #[test]
    fn root_services_get_no_ambient_line() {
        let current = [unit("[Service]\nAmbientCapabilities=CAP_SYS_ADMIN\n")];
        let mut s = suggestion(&[("CapabilityBoundingSet", "")]);
        respect_current(&mut s, &current, &groups());
        assert!(values(&s, "AmbientCapabilities").is_empty());
    }

    #[test]
    fn stricter_single_values_of_the_unit_are_kept() {
        let current = [unit(
            "[Service]\nProtectHome=yes\nProtectProc=noaccess\nUMask=0077\n",
        )];
        let mut s = suggestion(&[
            ("ProtectHome", "read-only"),
            ("ProtectProc", "invisible"),
            ("UMask", "0027"),
            ("ProtectSystem", "strict"),
        ]);
        respect_current(&mut s, &current, &groups());
        assert!(values(&s, "ProtectHome").is_empty());
        assert!(values(&s, "ProtectProc").is_empty());
        assert_eq!(values(&s, "UMask"), ["0077"]);
        assert_eq!(values(&s, "ProtectSystem"), ["strict"]);
        assert_eq!(s.omitted.len(), 2);
    }

    #[test]
    fn address_families_and_ip_lists_never_widen() {
        let current = [unit(
            "[Service]\nRestrictAddressFamilies=AF_UNIX AF_INET\nIPAddressDeny=any\nIPAddressAllow=10.0.0.0/8\n",
        )];
        let mut s = suggestion(&[
            ("RestrictAddressFamilies", ""),
            ("RestrictAddressFamilies", "AF_INET AF_INET6"),
            ("IPAddressDeny", "any"),
            ("IPAddressAllow", "localhost"),
        ]);
        respect_current(&mut s, &current, &groups());
        assert_eq!(
            values(&s, "RestrictAddressFamilies"),
            ["", "AF_INET AF_INET6", "~AF_INET6"]
        );
        assert!(values(&s, "IPAddressAllow").is_empty() && values(&s, "IPAddressDeny").is_empty());
    }

    #[test]
    fn paths_the_unit_keeps_read_only_are_not_made_writable() {
        let current = [unit("[Service]\nProtectSystem=strict\nReadWritePaths=/var/lib/app\nInaccessiblePaths=/srv/secret\n")];
        let mut s = suggestion(&[
            ("ProtectSystem", "strict"),
            ("ReadWritePaths", ""),
            ("ReadWritePaths", "/var/lib/app -/srv/secret /var/log/app"),
        ]);
        respect_current(&mut s, &current, &groups());
        assert_eq!(values(&s, "ReadWritePaths"), ["", "/var/lib/app"]);
        assert_eq!(s.warnings.len(), 2, "{:?}", s.warnings);
    }

    #[test]
    fn writable_mounts_of_the_unit_become_noexec_too() {
        let current = [unit(
            "[Service]\nReadWritePaths=/srv/vendor\nBindPaths=/srv/src:/srv/bound\n\
             StateDirectory=vendor\nExecStart=/usr/bin/app\n",
        )];
        let mut s = suggestion(&[
            ("ProtectSystem", "strict"),
            ("PrivateTmp", "yes"),
            ("PrivateDevices", "yes"),
            ("ProtectHome", "yes"),
            ("NoExecPaths", "/ -/dev -/tmp -/var/tmp"),
            ("ExecPaths", ""),
            (
                "ExecPaths",
                "-/usr/bin/app -/srv/vendor/bin/tool -/srv/bound/run.sh",
            ),
        ]);
        s.keep_exec = vec!["/srv/bound/run.sh".to_owned()];
        respect_current(&mut s, &current, &groups());
        assert_eq!(
            values(&s, "NoExecPaths"),
            ["/ -/dev -/tmp -/var/tmp -/srv/vendor -/var/lib/vendor"]
        );
        assert!(
            s.warnings
                .iter()
                .any(|w| w.contains("/srv/bound stays executable")),
            "{:?}",
            s.warnings
        );
        let after = merged(&mut s, &current, &groups()).expect("parses");
        let table = after.mount_table();
        assert!(table.lookup("/srv/vendor/copy").noexec.is_some());
        assert!(table.lookup("/var/lib/vendor/copy").noexec.is_some());
        assert_eq!(table.lookup("/srv/vendor/bin/tool").noexec, None);
        assert_eq!(table.lookup("/srv/bound/copy").noexec, None);
    }

    #[test]
    fn changes_list_before_and_after() {
        let current = [unit("[Service]\nProtectSystem=full\nPrivateTmp=yes\n")];
        let s = suggestion(&[("ProtectSystem", "strict"), ("PrivateTmp", "yes")]);
        let c = changes(&s, &current);
        assert_eq!(
            c,
            [Change {
                key: "ProtectSystem".into(),
                before: vec!["full".into()],
                after: vec!["strict".into()],
            }]
        );
    }
}
