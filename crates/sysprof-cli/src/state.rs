//! The state directory: each unit's recordings and the drop-ins `apply` replaced.
//!
//! ```text
//! <state>/units/<unit>/recordings/<time>.json     one trace per `record --unit`
//! <state>/units/<unit>/previous/<time>.<place>.conf    what `apply` replaced (a copy)
//! <state>/units/<unit>/previous/<time>.<place>.absent  `apply` created the drop-in
//! ```
//!
//! `<place>` is `etc` or `run`, the directory the drop-in lives in. Unit names are validated
//! before they become path components, so they cannot climb out of the directory.

use anyhow::{Context, Result};
use std::path::{Path, PathBuf};

/// The default when neither `--state-dir` nor `$SYSPROF_STATE_DIR` is given.
pub const DEFAULT_STATE_DIR: &str = "/var/lib/sysprof";

/// The state directory, from the flag, the environment or the default.
pub fn root(flag: Option<&Path>) -> PathBuf {
    flag.map(Path::to_owned)
        .or_else(|| std::env::var_os("SYSPROF_STATE_DIR").map(PathBuf::from))
        .unwrap_or_else(|| PathBuf::from(DEFAULT_STATE_DIR))
}

/// Paths of one unit's state; `unit` must be a validated, normalized unit name.
pub struct UnitState {
    dir: PathBuf,
}

impl UnitState {
    pub fn new(root: &Path, unit: &str) -> UnitState {
        UnitState {
            dir: root.join("units").join(unit),
        }
    }

    pub fn recordings_dir(&self) -> PathBuf {
        self.dir.join("recordings")
    }

    pub fn previous_dir(&self) -> PathBuf {
        self.dir.join("previous")
    }

    /// A fresh path for a new recording (created with its parents).
    pub fn new_recording(&self, stamp: &str) -> Result<PathBuf> {
        let dir = self.recordings_dir();
        create_private_dir(&dir)?;
        Ok(unique(&dir, stamp, "json"))
    }

    /// Every recording, oldest first.
    pub fn recordings(&self) -> Result<Vec<PathBuf>> {
        sorted_files(&self.recordings_dir(), |name| name.ends_with(".json"))
    }

    /// Every saved previous state, oldest first.
    pub fn previous(&self) -> Result<Vec<PathBuf>> {
        sorted_files(&self.previous_dir(), |name| {
            !name.starts_with('.') && (name.ends_with(".conf") || name.ends_with(".absent"))
        })
    }
}

/// `dir/stamp.ext`, or `dir/stamp_N.ext` when that exists already (`_` sorts after `.`, so
/// names still sort by time).
pub fn unique(dir: &Path, stamp: &str, ext: &str) -> PathBuf {
    let mut path = dir.join(format!("{stamp}.{ext}"));
    let mut n = 1;
    while path.symlink_metadata().is_ok() {
        path = dir.join(format!("{stamp}_{n}.{ext}"));
        n += 1;
    }
    path
}

/// Creates `dir` and its parents, readable by root only (recordings list what a service touches).
pub fn create_private_dir(dir: &Path) -> Result<()> {
    use std::os::unix::fs::DirBuilderExt;
    std::fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(dir)
        .with_context(|| format!("cannot create {}", dir.display()))
}

fn sorted_files(dir: &Path, keep: impl Fn(&str) -> bool) -> Result<Vec<PathBuf>> {
    let entries = match std::fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(e).with_context(|| format!("cannot read {}", dir.display())),
    };
    let mut files = Vec::new();
    for entry in entries {
        let entry = entry.with_context(|| format!("cannot read {}", dir.display()))?;
        let name = entry.file_name();
        let name = name.to_string_lossy();
        if keep(&name) && entry.file_type().is_ok_and(|t| t.is_file()) {
            files.push(entry.path());
        }
    }
    // Names start with an RFC 3339 stamp without separators, so names sort by time.
    files.sort();
    Ok(files)
}

/// The current time as a file-name-safe stamp (`20261123T114500Z`).
pub fn stamp() -> String {
    sysprof_record::host::now_rfc3339().replace([':', '-'], "")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn recordings_are_listed_oldest_first_and_never_overwritten() {
        let tmp = tempfile::tempdir().expect("tempdir");
        let unit = UnitState::new(tmp.path(), "nginx.service");
        assert!(unit.recordings().expect("empty is fine").is_empty());
        let first = unit.new_recording("20261123T100000Z").expect("path");
        std::fs::write(&first, "{}").expect("write");
        let again = unit.new_recording("20261123T100000Z").expect("path");
        assert_ne!(first, again);
        std::fs::write(&again, "{}").expect("write");
        let older = unit.new_recording("20261122T100000Z").expect("path");
        std::fs::write(&older, "{}").expect("write");
        std::fs::write(unit.recordings_dir().join("notes.txt"), "x").expect("write");
        assert_eq!(unit.recordings().expect("list"), [older, first, again]);
    }

    #[test]
    fn the_flag_wins_over_the_environment() {
        assert_eq!(root(Some(Path::new("/x"))), PathBuf::from("/x"));
    }
}
