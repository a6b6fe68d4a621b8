//! systemd units: name validation and `ControlGroup` lookup through `systemctl show`.

use std::path::{Path, PathBuf};
use std::process::Command;

/// Errors resolving a unit.
#[derive(Debug, thiserror::Error)]
pub enum UnitError {
    #[error("invalid unit name {name:?}: {reason}")]
    InvalidName { name: String, reason: &'static str },
    #[error("failed to run systemctl show for {unit}")]
    Spawn {
        unit: String,
        #[source]
        source: std::io::Error,
    },
    #[error("systemctl show {unit} failed: {stderr}")]
    Failed { unit: String, stderr: String },
    #[error("unit {unit} has no control group (not loaded or not running)")]
    NoControlGroup { unit: String },
}

const UNIT_SUFFIXES: [&str; 11] = [
    ".service",
    ".socket",
    ".device",
    ".mount",
    ".automount",
    ".swap",
    ".target",
    ".path",
    ".timer",
    ".slice",
    ".scope",
];

/// Checks a unit name the way systemd does (allowed characters, a known suffix, length), and
/// appends `.service` when no suffix is given, as `systemctl` does.
pub fn normalize_unit_name(name: &str) -> Result<String, UnitError> {
    let invalid = |reason| UnitError::InvalidName {
        name: name.to_owned(),
        reason,
    };
    if name.is_empty() {
        return Err(invalid("empty"));
    }
    let full = if UNIT_SUFFIXES.iter().any(|s| name.ends_with(s)) {
        name.to_owned()
    } else if name.contains('.') && !name.contains('@') {
        return Err(invalid("unknown unit type suffix"));
    } else {
        format!("{name}.service")
    };
    if full.len() > 255 {
        return Err(invalid("longer than 255 characters"));
    }
    let Some(dot) = full.rfind('.') else {
        return Err(invalid("no unit type suffix"));
    };
    let stem = &full[..dot];
    if stem.is_empty() {
        return Err(invalid("empty name before the suffix"));
    }
    if full.starts_with('-') {
        return Err(invalid("starts with '-' (would be read as an option)"));
    }
    let allowed = |c: char| c.is_ascii_alphanumeric() || ":-_.\\@".contains(c);
    if !stem.chars().all(allowed) {
        return Err(invalid(
            "only ASCII letters, digits, ':', '-', '_', '.', '\\' and '@' are allowed",
        ));
    }
    if stem.matches('@').count() > 1 {
        return Err(invalid("more than one '@'"));
    }
    if stem.starts_with('@') {
        return Err(invalid("empty prefix before '@'"));
    }
    Ok(full)
}

/// The unit's `ControlGroup` (relative to the cgroup2 root, e.g. `/system.slice/x.service`),
/// from `systemctl show -P ControlGroup UNIT`. Empty when the unit is not running.
pub fn control_group(unit: &str) -> Result<Option<String>, UnitError> {
    let unit = normalize_unit_name(unit)?;
    let output = Command::new("systemctl")
        .args(["show", "-P", "ControlGroup", "--", &unit])
        .output()
        .map_err(|source| UnitError::Spawn {
            unit: unit.clone(),
            source,
        })?;
    if !output.status.success() {
        return Err(UnitError::Failed {
            unit,
            stderr: String::from_utf8_lossy(&output.stderr).trim().to_owned(),
        });
    }
    let text = String::from_utf8_lossy(&output.stdout).trim().to_owned();
    Ok((!text.is_empty()).then_some(text))
}

/// The host path of a `ControlGroup` value under the cgroup2 mount.
pub fn cgroup_dir(mount: &Path, control_group: &str) -> PathBuf {
    mount.join(control_group.trim_start_matches('/'))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unit_names() {
        assert_eq!(
            normalize_unit_name("nginx").ok().as_deref(),
            Some("nginx.service")
        );
        assert_eq!(
            normalize_unit_name("getty@tty1.service").ok().as_deref(),
            Some("getty@tty1.service")
        );
        assert_eq!(
            normalize_unit_name("system.slice").ok().as_deref(),
            Some("system.slice")
        );
        for bad in [
            "",
            "-x.service",
            "a b.service",
            "x.bogus",
            "a@b@c.service",
            "../x",
            ".service",
        ] {
            assert!(normalize_unit_name(bad).is_err(), "{bad:?} accepted");
        }
    }

    #[test]
    fn control_group_paths() {
        assert_eq!(
            cgroup_dir(
                Path::new("/sys/fs/cgroup/unified"),
                "/system.slice/x.service"
            ),
            PathBuf::from("/sys/fs/cgroup/unified/system.slice/x.service")
        );
    }
}
