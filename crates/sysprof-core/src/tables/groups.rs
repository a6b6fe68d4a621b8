//! systemd syscall groups (`@system-service`, …): parser for `systemd-analyze syscall-filter` output and embedded per-version tables.
//!
//! The target's own table is the truth (distributions backport names into groups within one major
//! version), so [`SyscallGroups::parse`] reads what `SYSTEMD_COLORS=0 systemd-analyze syscall-filter
//! --no-pager` prints on the target. [`SyscallGroups::embedded`] is the fallback when that output is
//! not available: the tables under `crates/sysprof-core/data/syscall-filter/`, written by
//! `cargo xtask codegen`:
//!
//! * `252.txt` is the output of Debian's systemd 252.38 as captured on the build host, including
//!   the "Unlisted System Calls" section of the kernel it ran on (recorded in a comment line).
//!   Debian 252.38 carries backports, so its groups hold more than upstream v252.0.
//! * `253.txt` … `256.txt` are derived from `252.txt` by a committed delta table (upstream tag
//!   contents, i.e. the minimum a target of that version has). They have no "Unlisted" section:
//!   that section describes a running kernel, not a systemd version. Their `@known` is 252.38's list
//!   plus the names documented for v256; treat it as approximate.

use std::borrow::Cow;
use std::collections::{BTreeMap, BTreeSet};

/// The groups `systemd-analyze security` scores, with their weights (`SystemCallFilter=~@…` checks).
pub const SCORED_GROUPS: [(&str, u32); 11] = [
    ("@swap", 1000),
    ("@obsolete", 250),
    ("@clock", 1000),
    ("@cpu-emulation", 250),
    ("@debug", 1000),
    ("@mount", 1000),
    ("@module", 1000),
    ("@raw-io", 1000),
    ("@reboot", 1000),
    ("@privileged", 700),
    ("@resources", 700),
];

/// systemd major versions with an embedded table, oldest first.
pub const EMBEDDED_VERSIONS: [u32; 5] = [252, 253, 254, 255, 256];

/// The embedded tables, in the order of [`EMBEDDED_VERSIONS`].
const EMBEDDED: [&str; 5] = [
    include_str!("../../data/syscall-filter/252.txt"),
    include_str!("../../data/syscall-filter/253.txt"),
    include_str!("../../data/syscall-filter/254.txt"),
    include_str!("../../data/syscall-filter/255.txt"),
    include_str!("../../data/syscall-filter/256.txt"),
];

/// Longest group or syscall name accepted by the parser.
const MAX_NAME_LEN: usize = 64;

/// Where a [`SyscallGroups`] table came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GroupSource {
    /// Parsed from the target's `systemd-analyze syscall-filter` output.
    Target,
    /// An embedded table; `exact` is false when no table for the requested version exists and
    /// the one for `version` (the nearest older, or the oldest) stands in.
    Embedded {
        /// The systemd major version whose table this is.
        version: u32,
        /// True if `version` is the version that was asked for.
        exact: bool,
    },
}

/// Why `systemd-analyze syscall-filter` output could not be parsed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum GroupsError {
    /// The input is empty or only whitespace.
    #[error("empty syscall-filter output")]
    Empty,
    /// The input has no `@group` header at all.
    #[error("no `@group` header found: not `systemd-analyze syscall-filter` output")]
    NoGroups,
    /// A line that fits nowhere in the format.
    #[error("line {line}: {what}: {text:?}")]
    UnexpectedLine {
        /// 1-based line number.
        line: usize,
        /// What is wrong with it.
        what: &'static str,
        /// The line (colour codes removed, shortened).
        text: String,
    },
    /// A group header that is never followed by a member (truncated output?).
    #[error("group {group} has no members (truncated output?)")]
    EmptyGroup {
        /// The group name, with its `@`.
        group: String,
    },
}

/// One group as listed: its help text, plain syscalls and nested `@group` references.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
struct Group {
    description: Option<String>,
    syscalls: BTreeSet<String>,
    nested: BTreeSet<String>,
}

/// A systemd syscall-group table: group → members, plus the "Ungrouped" and "Unlisted" sections.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SyscallGroups {
    source: GroupSource,
    groups: BTreeMap<String, Group>,
    ungrouped: BTreeSet<String>,
    unlisted: BTreeSet<String>,
}

/// Which comment section the parser is in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Section {
    Ungrouped,
    Unlisted,
}

/// Parser position: between blocks, inside a group, or inside a comment section.
#[derive(Debug, Clone, PartialEq, Eq)]
enum State {
    Between,
    Group(String),
    Section(Section),
}

impl SyscallGroups {
    /// Parses `systemd-analyze syscall-filter` output (any colour setting, any subset of groups).
    ///
    /// Accepted: `@group` headers at column 0; indented members below them (`# help` text, plain
    /// names, nested `@other` references, which are kept as references); the column-0
    /// `# Ungrouped System Calls …:` and `# Unlisted System Calls …:` sections with `#   name`
    /// entries; other column-0 `#` comments (ignored); blank lines; ANSI colour escapes anywhere.
    /// Anything else is an error naming the line.
    pub fn parse(text: &str) -> Result<SyscallGroups, GroupsError> {
        if text.trim().is_empty() {
            return Err(GroupsError::Empty);
        }
        let mut groups: BTreeMap<String, Group> = BTreeMap::new();
        let mut ungrouped = BTreeSet::new();
        let mut unlisted = BTreeSet::new();
        let mut state = State::Between;
        for (index, raw) in text.lines().enumerate() {
            let number = index + 1;
            let clean = strip_ansi(raw);
            let line = clean.trim_end();
            let bad = |what: &'static str| GroupsError::UnexpectedLine {
                line: number,
                what,
                text: shorten(line),
            };
            if line.is_empty() {
                state = State::Between;
            } else if let Some(name) = line.strip_prefix('@') {
                if !is_group_name(name) {
                    return Err(bad("invalid group name"));
                }
                groups.entry(line.to_owned()).or_default();
                state = State::Group(line.to_owned());
            } else if let Some(comment) = line.strip_prefix('#') {
                let body = comment.trim_start();
                if body.starts_with("Ungrouped System Calls") {
                    state = State::Section(Section::Ungrouped);
                } else if body.starts_with("Unlisted System Calls") {
                    state = State::Section(Section::Unlisted);
                } else if let (State::Section(section), true) = (&state, is_entry(comment)) {
                    match section {
                        Section::Ungrouped => ungrouped.insert(body.to_owned()),
                        Section::Unlisted => unlisted.insert(body.to_owned()),
                    };
                } else {
                    // A free comment (a header line, or a notice mixed in from stderr).
                    state = State::Between;
                }
            } else if line.starts_with(char::is_whitespace) {
                let State::Group(current) = &state else {
                    return Err(bad("indented line outside a group"));
                };
                let Some(group) = groups.get_mut(current) else {
                    return Err(bad("indented line outside a group"));
                };
                let member = line.trim_start();
                if let Some(help) = member.strip_prefix('#') {
                    if group.description.is_none() {
                        group.description = Some(help.trim().to_owned());
                    }
                } else if let Some(name) = member.strip_prefix('@') {
                    if !is_group_name(name) {
                        return Err(bad("invalid nested group name"));
                    }
                    group.nested.insert(member.to_owned());
                } else if is_syscall_name(member) {
                    group.syscalls.insert(member.to_owned());
                } else {
                    return Err(bad("invalid syscall name"));
                }
            } else {
                return Err(bad(
                    "expected `@group`, an indented member or a `#` comment",
                ));
            }
        }
        if groups.is_empty() {
            return Err(GroupsError::NoGroups);
        }
        if let Some((name, _)) = groups
            .iter()
            .find(|(_, g)| g.syscalls.is_empty() && g.nested.is_empty())
        {
            return Err(GroupsError::EmptyGroup {
                group: name.clone(),
            });
        }
        Ok(SyscallGroups {
            source: GroupSource::Target,
            groups,
            ungrouped,
            unlisted,
        })
    }

    /// The embedded table for systemd major `systemd_version`: the exact one if embedded, else
    /// the nearest older one, else the oldest (both with `exact: false`).
    pub fn embedded(systemd_version: u32) -> SyscallGroups {
        let index = EMBEDDED_VERSIONS
            .iter()
            .rposition(|&v| v <= systemd_version)
            .unwrap_or(0);
        let version = EMBEDDED_VERSIONS[index];
        let source = GroupSource::Embedded {
            version,
            exact: version == systemd_version,
        };
        let mut table = SyscallGroups::parse(EMBEDDED[index]).unwrap_or_else(|_| SyscallGroups {
            // Unreachable with the committed files (a test parses each); never panic regardless.
            source,
            groups: BTreeMap::new(),
            ungrouped: BTreeSet::new(),
            unlisted: BTreeSet::new(),
        });
        table.source = source;
        table
    }

    /// Where this table came from.
    pub fn source(&self) -> &GroupSource {
        &self.source
    }

    /// Every group name, with its `@`, sorted.
    pub fn group_names(&self) -> impl Iterator<Item = &str> {
        self.groups.keys().map(String::as_str)
    }

    /// True if the table lists `name` (with its `@`, e.g. `@sandbox`).
    pub fn has_group(&self, name: &str) -> bool {
        self.groups.contains_key(name)
    }

    /// All plain syscall names of `group`, nested groups expanded recursively (cycles and
    /// references to groups the table does not list are tolerated); `None` for an unknown group.
    pub fn expand(&self, group: &str) -> Option<BTreeSet<String>> {
        self.groups.get(group)?;
        let mut names = BTreeSet::new();
        let mut seen = BTreeSet::new();
        let mut pending = vec![group];
        while let Some(current) = pending.pop() {
            if !seen.insert(current) {
                continue;
            }
            if let Some(g) = self.groups.get(current) {
                names.extend(g.syscalls.iter().cloned());
                pending.extend(g.nested.iter().map(String::as_str));
            }
        }
        Some(names)
    }

    /// The `# help` text of `group`.
    pub fn description(&self, group: &str) -> Option<&str> {
        self.groups.get(group)?.description.as_deref()
    }

    /// Every syscall name the target systemd can put in a filter: the expanded `@known` (or, before
    /// systemd 247, every group) together with any name another group lists but `@known` does not
    /// (252.38 lists `uretprobe`, `nfsservctl` and `set_tls` in groups, not in `@known`).
    pub fn known(&self) -> BTreeSet<String> {
        self.groups
            .values()
            .flat_map(|g| g.syscalls.iter().cloned())
            .collect()
    }

    /// Syscalls in `@known` but in no other group (the "Ungrouped System Calls" section).
    pub fn ungrouped(&self) -> &BTreeSet<String> {
        &self.ungrouped
    }

    /// Syscalls the kernel that produced the output supports but no group lists (the "Unlisted
    /// System Calls" section; empty when the output had none).
    pub fn unlisted(&self) -> &BTreeSet<String> {
        &self.unlisted
    }
}

/// `line` without ANSI escape sequences (CSI `ESC [ … final`, OSC `ESC ] … BEL|ESC \`, and
/// two-character `ESC x`).
fn strip_ansi(line: &str) -> Cow<'_, str> {
    if !line.contains('\x1b') {
        return Cow::Borrowed(line);
    }
    let mut out = String::with_capacity(line.len());
    let mut chars = line.chars().peekable();
    while let Some(c) = chars.next() {
        if c != '\x1b' {
            out.push(c);
            continue;
        }
        match chars.next() {
            Some('[') => {
                for c in chars.by_ref() {
                    if ('\x40'..='\x7e').contains(&c) {
                        break;
                    }
                }
            }
            Some(']') => {
                while let Some(c) = chars.next() {
                    if c == '\x07' {
                        break;
                    }
                    if c == '\x1b' {
                        if chars.peek() == Some(&'\\') {
                            chars.next();
                        }
                        break;
                    }
                }
            }
            Some(_) | None => {}
        }
    }
    Cow::Owned(out)
}

/// True for the part after `#` of a section entry: whitespace, then one syscall name.
fn is_entry(comment: &str) -> bool {
    comment.starts_with(char::is_whitespace) && is_syscall_name(comment.trim_start())
}

/// `[a-z_][a-z0-9_]*`, at most [`MAX_NAME_LEN`] bytes.
fn is_syscall_name(name: &str) -> bool {
    let mut bytes = name.bytes();
    matches!(bytes.next(), Some(b'a'..=b'z' | b'_'))
        && name.len() <= MAX_NAME_LEN
        && bytes.all(|b| matches!(b, b'a'..=b'z' | b'0'..=b'9' | b'_'))
}

/// The part after `@`: `[a-z][a-z0-9-]*`, at most [`MAX_NAME_LEN`] bytes.
fn is_group_name(name: &str) -> bool {
    let mut bytes = name.bytes();
    matches!(bytes.next(), Some(b'a'..=b'z'))
        && name.len() <= MAX_NAME_LEN
        && bytes.all(|b| matches!(b, b'a'..=b'z' | b'0'..=b'9' | b'-'))
}

/// A line for an error message: at most 80 characters.
fn shorten(line: &str) -> String {
    match line.char_indices().nth(80) {
        Some((cut, _)) => format!("{}…", &line[..cut]),
        None => line.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tables::syscalls::is_known;

    fn table(version: u32) -> SyscallGroups {
        let t = SyscallGroups::embedded(version);
        assert_eq!(
            t.source(),
            &GroupSource::Embedded {
                version,
                exact: true
            }
        );
        t
    }

    fn set(names: &str) -> BTreeSet<String> {
        names.split_whitespace().map(str::to_owned).collect()
    }

    fn expanded(t: &SyscallGroups, group: &str) -> BTreeSet<String> {
        t.expand(group)
            .unwrap_or_else(|| panic!("{group} missing from {:?}", t.source()))
    }

    #[test]
    fn every_embedded_table_parses() {
        for (version, text) in EMBEDDED_VERSIONS.iter().zip(EMBEDDED) {
            let parsed = SyscallGroups::parse(text);
            assert!(parsed.is_ok(), "{version}: {parsed:?}");
        }
    }

    #[test]
    fn host_table_252_matches_the_reference_figures() {
        let t = table(252);
        assert_eq!(t.group_names().count(), 29);
        assert!(t.has_group("@known"));
        assert!(t.group_names().is_sorted());
        assert_eq!(t.group_names().next(), Some("@aio"));
        assert_eq!(expanded(&t, "@system-service").len(), 376);
        assert_eq!(expanded(&t, "@privileged").len(), 53);
        assert_eq!(expanded(&t, "@known").len(), 536);
        assert_eq!(t.ungrouped().len(), 77);
        assert_eq!(
            t.description("@default"),
            Some("System calls that are always permitted")
        );
        assert_eq!(t.description("@nope"), None);
        assert_eq!(t.expand("@nope"), None);
        assert_eq!(t.expand("system-service"), None);
    }

    #[test]
    fn nested_groups_are_expanded() {
        let t = table(252);
        let service = expanded(&t, "@system-service");
        for nested in [
            "@default",
            "@basic-io",
            "@file-system",
            "@network-io",
            "@timer",
        ] {
            assert!(expanded(&t, nested).is_subset(&service), "{nested}");
        }
        assert!(service.contains("execve") && service.contains("openat"));
        assert!(expanded(&t, "@resources").is_subset(&service));
        let privileged = expanded(&t, "@privileged");
        assert!(privileged.contains("reboot") && privileged.contains("swapon"));
        assert!(!service.iter().any(|n| n.starts_with('@')));
        let known = expanded(&t, "@known");
        assert!(known.contains("_sysctl"), "@obsolete nested in @known");
    }

    #[test]
    fn system_service_and_privileged_share_exactly_the_reference_names() {
        let t = table(252);
        let both: BTreeSet<String> = expanded(&t, "@system-service")
            .intersection(&expanded(&t, "@privileged"))
            .cloned()
            .collect();
        let expected = set(
            "capset chown chown32 fchown fchown32 fchownat lchown lchown32 setfsuid setfsuid32 \
             setgroups setgroups32 setresuid setresuid32 setreuid setreuid32 setuid setuid32",
        );
        assert_eq!(both, expected);
        let service = expanded(&t, "@system-service");
        let default = expanded(&t, "@default");
        for (group, _) in SCORED_GROUPS {
            if matches!(group, "@privileged" | "@resources") {
                continue;
            }
            let members = expanded(&t, group);
            assert!(members.is_disjoint(&service), "{group}");
            assert!(members.is_disjoint(&default), "{group}");
        }
    }

    #[test]
    fn per_version_changes_follow_the_change_table() {
        let v: BTreeMap<u32, SyscallGroups> =
            EMBEDDED_VERSIONS.iter().map(|&v| (v, table(v))).collect();
        let has =
            |version: u32, group: &str, name: &str| expanded(&v[&version], group).contains(name);
        // @sandbox: new in v254, not backported to 252.
        for (version, t) in &v {
            assert_eq!(t.has_group("@sandbox"), *version >= 254, "{version}");
        }
        assert_eq!(
            v[&254].expand("@sandbox"),
            Some(set(
                "landlock_add_rule landlock_create_ruleset landlock_restrict_self seccomp"
            ))
        );
        // fchmodat2: upstream v255, backported into Debian 252.38.
        let fchmodat2: Vec<bool> = EMBEDDED_VERSIONS
            .iter()
            .map(|&n| has(n, "@file-system", "fchmodat2"))
            .collect();
        assert_eq!(fchmodat2, [true, false, false, true, true]);
        // The v254 additions, also backported.
        for (group, name) in [
            ("@default", "futex_waitv"),
            ("@default", "riscv_hwprobe"),
            ("@privileged", "quotactl_fd"),
            ("@resources", "set_mempolicy_home_node"),
            ("@system-service", "arm_fadvise64_64"),
        ] {
            let present: Vec<bool> = EMBEDDED_VERSIONS
                .iter()
                .map(|&n| has(n, group, name))
                .collect();
            assert_eq!(present, [true, false, true, true, true], "{group} {name}");
        }
        // uretprobe: a Debian backport only (upstream after v256).
        let uretprobe: Vec<bool> = EMBEDDED_VERSIONS
            .iter()
            .map(|&n| has(n, "@default", "uretprobe"))
            .collect();
        assert_eq!(uretprobe, [true, false, false, false, false]);
        // @known: v256 documents mseal and statmount.
        assert!(v[&256].known().contains("mseal") && v[&256].known().contains("statmount"));
        assert!(!v[&255].known().contains("mseal"));
        // Sections: only the host table has the kernel-dependent "Unlisted" one.
        for (version, t) in &v {
            assert_eq!(t.unlisted().is_empty(), *version != 252, "{version}");
            assert!(!t.ungrouped().is_empty(), "{version}");
            assert_eq!(
                t.group_names().count(),
                if *version >= 254 { 30 } else { 29 }
            );
        }
        assert!(v[&252].ungrouped().contains("seccomp"));
        assert!(!v[&254].ungrouped().contains("seccomp"));
        assert!(v[&256].ungrouped().contains("mseal"));
    }

    #[test]
    fn unlisted_section_of_the_host_table() {
        let t = table(252);
        for name in ["mseal", "statmount", "listmount", "cachestat"] {
            assert!(t.unlisted().contains(name), "{name}");
            assert!(!t.known().contains(name), "{name}");
        }
        assert!(t.ungrouped().contains("landlock_add_rule"));
    }

    #[test]
    fn known_is_expanded_known_plus_stray_group_members() {
        let t = table(252);
        let known = t.known();
        let listed = expanded(&t, "@known");
        assert!(listed.is_subset(&known));
        let extra: Vec<&String> = known.difference(&listed).collect();
        assert_eq!(extra, ["nfsservctl", "set_tls", "uretprobe"]);
        let no_known = SyscallGroups::parse("@a\n    read\n\n@b\n    @a\n    write\n").ok();
        assert_eq!(no_known.map(|t| t.known()), Some(set("read write")));
    }

    #[test]
    fn embedded_picks_exact_then_older_then_oldest() {
        let source = |v: u32| *SyscallGroups::embedded(v).source();
        assert_eq!(
            source(254),
            GroupSource::Embedded {
                version: 254,
                exact: true
            }
        );
        assert_eq!(
            source(259),
            GroupSource::Embedded {
                version: 256,
                exact: false
            }
        );
        assert_eq!(
            source(u32::MAX),
            GroupSource::Embedded {
                version: 256,
                exact: false
            }
        );
        assert_eq!(
            source(249),
            GroupSource::Embedded {
                version: 252,
                exact: false
            }
        );
        assert_eq!(
            source(0),
            GroupSource::Embedded {
                version: 252,
                exact: false
            }
        );
        assert!(SyscallGroups::embedded(0).has_group("@system-service"));
    }

    #[test]
    fn every_listed_name_is_a_syscall() {
        // Calls of architectures our tables (x86_64, i386, x32, aarch64) do not cover: Alpha
        // (osf_*, pciconfig_*), ARC, ARM, m68k (atomic_*), OpenRISC, PowerPC (spu_*), RISC-V,
        // s390, SPARC (utrap_install, kern_features).
        const OTHER_ARCH_PREFIXES: [&str; 12] = [
            "osf_",
            "pciconfig_",
            "arc_",
            "arm_",
            "atomic_",
            "or1k_",
            "spu_",
            "riscv_",
            "s390_",
            "utrap_",
            "kern_",
            "sparc_",
        ];
        // Unprefixed calls of those architectures (and of MIPS, PA-RISC), plus i386 17, which the
        // `syscalls` crate spells `r#break`.
        const OTHER_NAMES: [&str; 34] = [
            "break",
            "cachectl",
            "cacheflush",
            "dipc",
            "exec_with_loader",
            "execv",
            "getdomainname",
            "getdtablesize",
            "gethostname",
            "getpagesize",
            "getxgid",
            "getxpid",
            "getxuid",
            "memory_ordering",
            "multiplexer",
            "old_adjtimex",
            "oldumount",
            "perfctr",
            "recv",
            "rtas",
            "sched_get_affinity",
            "sched_set_affinity",
            "send",
            "set_tls",
            "sethae",
            "setpgrp",
            "subpage_prot",
            "swapcontext",
            "switch_endian",
            "sync_file_range2",
            "sys_debug_setcontext",
            "syscall",
            "sysmips",
            "timerfd",
        ];
        let mut unknown = BTreeSet::new();
        for version in EMBEDDED_VERSIONS {
            let t = table(version);
            let names = t.known().into_iter().chain(t.ungrouped().iter().cloned());
            for name in names.chain(t.unlisted().iter().cloned()) {
                let other = OTHER_ARCH_PREFIXES.iter().any(|p| name.starts_with(p))
                    || OTHER_NAMES.contains(&name.as_str());
                if !is_known(&name) && !other {
                    unknown.insert(name);
                }
            }
        }
        assert!(unknown.is_empty(), "not syscalls of any ABI: {unknown:?}");
    }

    #[test]
    fn colour_codes_are_stripped() {
        let coloured = "\x1b[0;1;39m@default\x1b[0m\n    # System calls that are always permitted\n    \
                        brk\x1b[0m\n    exit\x1b[0m\n\n\x1b[0;1;39m@known\x1b[0m\n    # All known\n    \
                        \x1b[0m\x1b[0;4m@default\x1b[0m\n    \x1b]8;;https://x\x1b\\open\x1b]8;;\x07\x1b[0m\n\n\
                        # \x1b[0;1;39mUngrouped System Calls\x1b[0m (known but not included):\n#   open\n";
        let t = SyscallGroups::parse(coloured);
        assert!(t.is_ok(), "{t:?}");
        let t = t.unwrap_or_else(|_| SyscallGroups::embedded(0));
        assert_eq!(t.source(), &GroupSource::Target);
        assert_eq!(t.group_names().collect::<Vec<_>>(), ["@default", "@known"]);
        assert_eq!(t.expand("@known"), Some(set("brk exit open")));
        assert_eq!(t.ungrouped(), &set("open"));
        assert_eq!(
            t.description("@default"),
            Some("System calls that are always permitted")
        );
        let plain = SyscallGroups::parse(&EMBEDDED[0].replace("\n    ", "\n    \x1b[0m"));
        assert_eq!(plain.map(|p| p.groups), Ok(table(252).groups));
    }

    #[test]
    fn crlf_subsets_comments_and_cycles() {
        let text = "# a notice\r\n@a\r\n    # help\r\n    @b\r\n    read\r\n\r\n@b\r\n    @a\r\n    @gone\r\n    write\r\n\
                    # Not showing unlisted system calls, couldn't retrieve kernel system call list\r\n";
        let t = SyscallGroups::parse(text);
        assert_eq!(
            t.as_ref().ok().and_then(|t| t.expand("@a")),
            Some(set("read write"))
        );
        assert_eq!(
            t.as_ref().ok().and_then(|t| t.expand("@b")),
            Some(set("read write"))
        );
        assert_eq!(t.as_ref().ok().map(|t| t.unlisted().is_empty()), Some(true));
    }

    #[test]
    fn garbage_is_an_error() {
        use GroupsError::*;
        let err = |text: &str| SyscallGroups::parse(text).err();
        assert_eq!(err(""), Some(Empty));
        assert_eq!(err(" \n\t\n"), Some(Empty));
        assert_eq!(err("# only a comment\n"), Some(NoGroups));
        assert_eq!(
            err("@default\n"),
            Some(EmptyGroup {
                group: "@default".into()
            })
        );
        assert_eq!(
            err("@default\n    # help only\n"),
            Some(EmptyGroup {
                group: "@default".into()
            })
        );
        let line = |text: &str| match err(text) {
            Some(UnexpectedLine { line, .. }) => Some(line),
            _ => None,
        };
        assert_eq!(line("hello world\n"), Some(1));
        assert_eq!(line("{\"json\": true}"), Some(1));
        assert_eq!(line("@default\n    read\n    not a name\n"), Some(3));
        assert_eq!(line("@default\n    READ\n"), Some(2));
        assert_eq!(line("@Default\n    read\n"), Some(1));
        assert_eq!(line("@\n    read\n"), Some(1));
        assert_eq!(line("@a b\n    read\n"), Some(1));
        assert_eq!(line("    read\n"), Some(1));
        assert_eq!(line("@a\n    read\n\n    write\n"), Some(4));
        assert_eq!(line("@a\n    @@b\n"), Some(2));
        assert_eq!(line("@a\n    read\nwrite\n"), Some(3));
        assert_eq!(line("\u{0}\u{1}\u{2}"), Some(1));
        let long = format!("@a\n    {}\n", "x".repeat(200));
        assert_eq!(line(&long), Some(2));
        let message = err("@a\n    read\n    bad name here\n").map(|e| e.to_string());
        assert_eq!(
            message.as_deref(),
            Some("line 3: invalid syscall name: \"    bad name here\"")
        );
    }

    #[test]
    fn never_panics_on_mangled_input() {
        let text = EMBEDDED[0];
        for cut in (0..text.len()).step_by(97) {
            if text.is_char_boundary(cut) {
                let _ = SyscallGroups::parse(&text[..cut]);
                let _ = SyscallGroups::parse(&text[cut..]);
            }
        }
        for junk in [
            "\x1b",
            "\x1b[",
            "\x1b]",
            "@a\n    \x1b[0",
            "#",
            "#\t",
            "@a\n\t#",
        ] {
            let _ = SyscallGroups::parse(junk);
        }
    }

    #[test]
    fn scored_groups_exist_in_every_table() {
        for version in EMBEDDED_VERSIONS {
            let t = table(version);
            for (group, weight) in SCORED_GROUPS {
                assert!(t.has_group(group), "{version} {group}");
                assert!(weight > 0);
            }
        }
        let total: u32 = SCORED_GROUPS.iter().map(|(_, w)| w).sum();
        assert_eq!(total, 8900);
    }
}
