//! An ordered syscall-filter table (groups in systemd's order, members as listed), read from and rendered in the exact no-colour format of `systemd-analyze syscall-filter`.
//!
//! The runtime parser (`sysprof_core::tables::groups`) keeps sets and is lenient; this one is
//! strict, keeps order and only has to read systemd's own output, so that the derived tables can
//! be written in the same format, byte for byte.

use anyhow::{bail, Context, Result};
use std::collections::BTreeSet;

/// The header line of the "Ungrouped" section, as systemd prints it.
pub const UNGROUPED_HEADER: &str =
    "# Ungrouped System Calls (known but not included in any of the groups except @known):";

/// How the header line of the kernel-dependent "Unlisted" section starts.
pub const UNLISTED_HEADER_START: &str = "# Unlisted System Calls";

/// One group: name with `@`, help text, members (nested `@groups` first, then names, each sorted).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Group {
    pub name: String,
    pub help: String,
    pub members: Vec<String>,
}

impl Group {
    /// Puts members in systemd's table order: nested groups first, then syscalls, each sorted.
    pub fn sort_members(&mut self) {
        self.members
            .sort_by(|a, b| (!a.starts_with('@'), a).cmp(&(!b.starts_with('@'), b)));
    }
}

/// The groups of one systemd version, in output order. The "Ungrouped" section is not stored: it
/// is derived from `@known` when rendering.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Table {
    pub groups: Vec<Group>,
}

impl Table {
    /// Reads the groups of `text`: leading column-0 `#` lines are skipped, then `@group` blocks
    /// (header, `    # help`, `    member` lines, a blank line) up to the first column-0 `#`
    /// section line or the end.
    pub fn parse(text: &str) -> Result<Table> {
        let mut groups: Vec<Group> = Vec::new();
        let mut current: Option<Group> = None;
        for (index, line) in text.lines().enumerate() {
            let number = index + 1;
            if let Some(group) = current.as_mut() {
                if line.is_empty() {
                    if group.members.is_empty() {
                        bail!("line {number}: group {} has no members", group.name);
                    }
                    groups.extend(current.take());
                } else if let Some(help) = line.strip_prefix("    # ") {
                    if !group.help.is_empty() || !group.members.is_empty() {
                        bail!("line {number}: unexpected help line {line:?}");
                    }
                    group.help = help.to_owned();
                } else if let Some(member) = line.strip_prefix("    ") {
                    if member.is_empty() || member.contains(char::is_whitespace) {
                        bail!("line {number}: bad member line {line:?}");
                    }
                    group.members.push(member.to_owned());
                } else {
                    bail!("line {number}: expected a member or a blank line, got {line:?}");
                }
            } else if line.starts_with('@') {
                if groups.iter().any(|g| g.name == line) {
                    bail!("line {number}: group {line} listed twice");
                }
                current = Some(Group {
                    name: line.to_owned(),
                    help: String::new(),
                    members: Vec::new(),
                });
            } else if line.starts_with('#') {
                if !groups.is_empty() {
                    break;
                }
            } else if !line.is_empty() {
                bail!("line {number}: expected `@group` or `#`, got {line:?}");
            }
        }
        if let Some(group) = current {
            bail!("group {} is not followed by a blank line", group.name);
        }
        if groups.is_empty() {
            bail!("no groups found");
        }
        Ok(Table { groups })
    }

    /// The group called `name`.
    pub fn group_mut(&mut self, name: &str) -> Result<&mut Group> {
        self.groups
            .iter_mut()
            .find(|g| g.name == name)
            .with_context(|| format!("no group {name}"))
    }

    /// Every syscall of `group`, nested groups expanded (cycle-safe; unknown references skipped).
    pub fn expand(&self, group: &str) -> BTreeSet<&str> {
        let mut names = BTreeSet::new();
        let mut seen = BTreeSet::new();
        let mut pending = vec![group];
        while let Some(current) = pending.pop() {
            if !seen.insert(current) {
                continue;
            }
            for member in self
                .groups
                .iter()
                .filter(|g| g.name == current)
                .flat_map(|g| &g.members)
            {
                if member.starts_with('@') {
                    pending.push(member);
                } else {
                    names.insert(member.as_str());
                }
            }
        }
        names
    }

    /// Names in `@known` but in no other group, sorted (systemd's "Ungrouped" section).
    pub fn ungrouped(&self) -> Vec<&str> {
        let grouped: BTreeSet<&str> = self
            .groups
            .iter()
            .filter(|g| g.name != "@known")
            .flat_map(|g| self.expand(&g.name))
            .collect();
        self.expand("@known")
            .into_iter()
            .filter(|n| !grouped.contains(n))
            .collect()
    }

    /// The table in systemd's format: every group followed by a blank line, then the "Ungrouped"
    /// section (no trailing blank line).
    pub fn render(&self) -> String {
        let mut out = String::new();
        for group in &self.groups {
            out.push_str(&group.name);
            out.push_str("\n    # ");
            out.push_str(&group.help);
            out.push('\n');
            for member in &group.members {
                out.push_str("    ");
                out.push_str(member);
                out.push('\n');
            }
            out.push('\n');
        }
        let ungrouped = self.ungrouped();
        if !ungrouped.is_empty() {
            out.push_str(UNGROUPED_HEADER);
            out.push('\n');
            for name in ungrouped {
                out.push_str("#   ");
                out.push_str(name);
                out.push('\n');
            }
        }
        out
    }
}

/// `text` from its first `@group` line on (drops leading comment lines).
pub fn body(text: &str) -> &str {
    if text.starts_with('@') {
        return text;
    }
    text.find("\n@").map_or("", |at| &text[at + 1..])
}

#[cfg(test)]
mod tests {
    use super::*;

    const SAMPLE: &str = "@b\n    # Bee\n    @a\n    write\n\n@a\n    # Ay\n    read\n\n\
                          @known\n    # All\n    @a\n    close\n    read\n    write\n\n\
                          # Ungrouped System Calls (known but not included in any of the groups except @known):\n\
                          #   close\n";

    #[test]
    fn round_trip_and_ungrouped() -> Result<()> {
        let table = Table::parse(&format!(
            "# header\n{SAMPLE}\n# Unlisted System Calls (x):\n#   y\n"
        ))?;
        assert_eq!(table.groups.len(), 3);
        assert_eq!(table.ungrouped(), ["close"]);
        assert_eq!(table.render(), SAMPLE);
        assert_eq!(body(&format!("# one\n# two\n{SAMPLE}")), SAMPLE);
        Ok(())
    }

    #[test]
    fn rejects_what_systemd_does_not_print() {
        for bad in [
            "",
            "@a\n    read\n",
            "@a\n    # A\n\n",
            "@a\n    # A\n    two words\n\n",
            "@a\n    # A\n    read\nwrite\n\n",
            "@a\n    # A\n    read\n\n@a\n    # A\n    read\n\n",
            "junk\n",
        ] {
            assert!(Table::parse(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn members_sort_like_systemd_tables() {
        let mut g = Group {
            name: "@x".into(),
            help: String::new(),
            members: ["write", "@b", "_llseek", "@a", "read"]
                .map(String::from)
                .to_vec(),
        };
        g.sort_members();
        assert_eq!(g.members, ["@a", "@b", "_llseek", "read", "write"]);
    }
}
