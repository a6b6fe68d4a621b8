//! `NoExecPaths=` that holds: every writable mount listed explicitly.
//!
//! systemd 252 applies `NoExecPaths=/` with one recursive remount of `/` that skips the mounts of
//! every other mount entry, so each writable entry keeps its own flags and stays executable:
//! `ReadWritePaths=`, the `*Directory=` bind mounts, `PrivateTmp=`'s `/tmp` and `/var/tmp`,
//! `BindPaths=`, and the `/dev` (with `/dev/shm`), `/home`, `/root` and `/run/user` that
//! `ProtectSystem=strict` leaves writable (measured in the e2e guest: a copy of `/usr/bin/true`
//! runs from each). Listed in `NoExecPaths=` themselves, they become noexec, and `ExecPaths=`
//! files below them still run, because the more specific entry decides.

use super::Directive;
use crate::tables::groups::SyscallGroups;
use crate::unit::{parse_unit, quote_path, quote_word, Policy};

/// The policy a list of directives makes on its own (an error if it does not parse back).
pub(super) fn policy_of(
    directives: &[Directive],
    groups: &SyscallGroups,
) -> Result<Policy, String> {
    let mut text = String::from("[Service]\n");
    for d in directives {
        text.push_str(&d.key);
        text.push('=');
        text.push_str(&d.value);
        text.push('\n');
    }
    let unit = parse_unit("sysprof.conf", &text).map_err(|e| e.to_string())?;
    Ok(Policy::from_units(&[unit], groups))
}

/// Adds to the suggestion's `NoExecPaths=/` line every mount `policy` (the suggestion alone, or
/// merged after the unit's own files) leaves writable and executable, except those holding a
/// file the service writes and then runs (`keep_exec`): those stay executable, with a warning.
/// Does nothing when the suggestion sets no `NoExecPaths=`.
pub(super) fn list_writable_mounts(
    directives: &mut [Directive],
    policy: &Policy,
    keep_exec: &[String],
    warnings: &mut Vec<String>,
) {
    let Some(line) = directives.iter_mut().rfind(|d| d.key == "NoExecPaths") else {
        return;
    };
    let mut listed: Vec<String> = line.value.split(' ').map(str::to_owned).collect();
    for (path, origin) in policy.mount_table().writable_executable() {
        if let Some(file) = keep_exec
            .iter()
            .find(|f| crate::unit::path_is_under(f, &path))
        {
            let note = format!(
                "{} stays executable ({origin} makes it writable): the service runs {}, which it writes itself",
                quote_word(&path),
                quote_word(file)
            );
            line.evidence.push(note.clone());
            warnings.push(format!("NoExecPaths: {note}"));
            continue;
        }
        let Ok(word) = quote_path(&path).map(|w| format!("-{w}")) else {
            warnings.push(format!(
                "NoExecPaths: {} cannot be listed and stays executable",
                quote_word(&path)
            ));
            continue;
        };
        if listed.contains(&word) {
            continue;
        }
        line.evidence.push(format!(
            "{word}: writable ({origin}); systemd 252 leaves a writable mount executable under NoExecPaths=/ unless it is listed itself"
        ));
        listed.push(word);
    }
    line.value = listed.join(" ");
}
