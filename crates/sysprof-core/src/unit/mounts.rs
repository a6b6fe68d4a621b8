//! The mount namespace systemd 252 builds for a policy, reduced to per-path answers.
//!
//! `setup_namespace()` turns the file-system settings into mount entries, sorts them parents
//! first (same path: by mode priority), merges same-path entries (`drop_duplicates()`, flags
//! OR-ed), drops everything below an inaccessible path (`drop_inaccessible()`) and read-only /
//! read-write entries whose nearest parent entry has the same mode (`drop_nop()`). Every
//! remaining entry becomes its own mount, and the recursive read-only and noexec remounts skip
//! the mounts of all other entries (the deny list holds every entry path, in 252 for noexec
//! too). So for any path the **nearest entry at or above it decides** read-only and noexec on its
//! own flags alone. That single rule reproduces 252's quirks: an `ExecPaths=` entry is writable
//! under `ProtectSystem=strict`, and every writable entry (`ReadWritePaths=`, the
//! `*Directory=` bind mounts, `PrivateTmp=`'s `/tmp` and `/var/tmp`, `BindPaths=`, the `/dev`,
//! `/home`, `/root` and `/run/user` that `ProtectSystem=strict` leaves writable) stays executable
//! under `NoExecPaths=/` unless it is listed in `NoExecPaths=` itself (measured in the e2e
//! guest, probe `exec-writable`); `ReadOnlyPaths=X` + `ExecPaths=X` under a read-only parent is
//! dropped as redundant, taking its exec flag with it, while `BindReadOnlyPaths=X` + `ExecPaths=X`
//! is a read-only, executable mount.
//!
//! Mounts inside an entry's own file system that are not entries themselves (the private
//! `/dev`'s `/dev/shm`, `/dev/mqueue`, …) are reached by that entry's recursive remounts only:
//! the `NoExecPaths=` flag is applied recursively, but the private `/dev`'s own read-only and
//! noexec options are not.

use super::policy::{Policy, ProcSubset, ProtectHome, ProtectProc, ProtectSystem};
use super::words::printable;
use std::cmp::Ordering;

/// `/proc` entries `ProtectKernelTunables=` makes read-only (systemd's protect_kernel_tunables
/// table); the `/sys` ones follow in [`Policy::mount_table`].
pub(crate) const PROC_TUNABLES: [&str; 12] = [
    "/proc/acpi",
    "/proc/apm",
    "/proc/asound",
    "/proc/bus",
    "/proc/fs",
    "/proc/irq",
    "/proc/latency_stats",
    "/proc/mtrr",
    "/proc/scsi",
    "/proc/sys",
    "/proc/sysrq-trigger",
    "/proc/timer_stats",
];
/// systemd's `MountMode`, in its priority order (earlier wins on the same path).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Mode {
    Inaccessible,
    Bind,
    PrivateTmp,
    PrivateDev,
    Sysfs,
    Procfs,
    ReadOnly,
    ReadWrite,
    NoExec,
    Exec,
    Tmpfs,
    /// `/run` of the API file systems: systemd 252 mounts nothing there when `/run` already is
    /// a mount point, but the entry keeps the recursive read-only and noexec remounts of `/`
    /// away from it, so `/run` stays writable and executable under `ProtectSystem=strict`
    /// (measured in the e2e guest with `ProtectKernelTunables=yes`).
    Run,
    ReadWriteImplicit,
    /// Not a mount entry of systemd's: a mount inside another entry's file system (the private
    /// `/dev`'s submounts). Lowest priority, so a real entry on the same path replaces it.
    Submount,
}

/// One mount entry with the directive behind each of its effective flags.
#[derive(Debug, Clone)]
struct MountEntry {
    path: String,
    mode: Mode,
    /// Directive that made the mount read-only (`mount_entry_read_only()`).
    read_only: Option<String>,
    /// Directive that made it noexec (`mount_entry_noexec()`, or a noexec tmpfs).
    noexec: Option<String>,
    /// The `NoExecPaths=` flag: applied with a recursive remount, so it also reaches the
    /// submounts that are not entries of their own.
    noexec_flag: Option<String>,
    /// Directive that asked for exec (`mount_entry_exec()`).
    exec: Option<String>,
    /// An empty file system on top: nothing that existed below it is visible.
    hides_content: bool,
    origin: String,
    /// Dropped by `drop_nop()`: no mount of its own, kept only to explain read-only paths.
    redundant: bool,
}

impl MountEntry {
    fn new(path: &str, mode: Mode, origin: &str) -> MountEntry {
        let read_only = matches!(mode, Mode::ReadOnly | Mode::Inaccessible | Mode::PrivateDev);
        let noexec = matches!(
            mode,
            Mode::NoExec | Mode::Inaccessible | Mode::Sysfs | Mode::Procfs | Mode::PrivateDev
        );
        MountEntry {
            path: path.to_owned(),
            mode,
            read_only: read_only.then(|| origin.to_owned()),
            noexec: noexec.then(|| origin.to_owned()),
            noexec_flag: (mode == Mode::NoExec).then(|| origin.to_owned()),
            exec: (mode == Mode::Exec).then(|| origin.to_owned()),
            hides_content: matches!(mode, Mode::Tmpfs | Mode::PrivateDev),
            origin: origin.to_owned(),
            redundant: false,
        }
    }

    fn read_only(mut self, origin: &str) -> MountEntry {
        self.read_only = Some(origin.to_owned());
        self
    }

    fn noexec(mut self, origin: &str) -> MountEntry {
        self.noexec = Some(origin.to_owned());
        self
    }
}

/// What the namespace does to one path.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct PathState {
    /// The path is replaced by an inaccessible node (the directive doing it).
    pub inaccessible: Option<String>,
    /// The path lies below an empty read-only file system (`ProtectHome=tmpfs`), so whatever was
    /// there is gone.
    pub hidden: Option<String>,
    /// Writes fail with `EROFS`.
    pub read_only: Option<String>,
    /// Execution and `PROT_EXEC` mappings fail.
    pub noexec: Option<String>,
    /// The entry that decided (its path), if any.
    pub decided_by: Option<String>,
}

/// The reduced mount table of a policy. Build it with [`Policy::mount_table`].
#[derive(Debug, Clone)]
pub struct MountTable {
    entries: Vec<MountEntry>,
}

impl Policy {
    /// The mount entries this policy's namespace would have, merged as systemd 252 merges them.
    pub fn mount_table(&self) -> MountTable {
        MountTable::new(self)
    }
}

/// Components of an absolute path, for parent-first ordering (`path_compare()`).
fn components(path: &str) -> impl Iterator<Item = &str> {
    path.split('/').filter(|c| !c.is_empty())
}

/// True if `path` is `ancestor` or lies below it, component-wise (`/etc` does not contain
/// `/etcfoo`).
pub fn path_is_under(path: &str, ancestor: &str) -> bool {
    let mut inner = components(path);
    components(ancestor).all(|a| inner.next() == Some(a)) && path.starts_with('/')
}

fn compare_paths(a: &str, b: &str) -> Ordering {
    components(a).cmp(components(b))
}

impl MountTable {
    fn new(policy: &Policy) -> MountTable {
        let mut entries = Vec::new();
        let add = |entries: &mut Vec<MountEntry>, path: &str, mode: Mode, origin: &str| {
            entries.push(MountEntry::new(path, mode, origin));
        };
        for (list, mode, key) in [
            (&policy.read_write_paths, Mode::ReadWrite, "ReadWritePaths"),
            (&policy.read_only_paths, Mode::ReadOnly, "ReadOnlyPaths"),
            (
                &policy.inaccessible_paths,
                Mode::Inaccessible,
                "InaccessiblePaths",
            ),
            (&policy.exec_paths, Mode::Exec, "ExecPaths"),
            (&policy.no_exec_paths, Mode::NoExec, "NoExecPaths"),
        ] {
            for setting in list {
                add(
                    &mut entries,
                    &setting.path,
                    mode,
                    &format!("{key}={setting}"),
                );
            }
        }
        if policy.private_tmp {
            let origin = policy.describe("PrivateTmp", "yes");
            add(&mut entries, "/tmp", Mode::PrivateTmp, &origin);
            add(&mut entries, "/var/tmp", Mode::PrivateTmp, &origin);
        }
        if policy.private_devices {
            add(&mut entries, "/dev", Mode::PrivateDev, "PrivateDevices=yes");
            // Submounts of the private /dev, writable and executable as on the host: the
            // private /dev's read-only and noexec options are its own file system's.
            for sub in ["/dev/pts", "/dev/shm", "/dev/mqueue", "/dev/hugepages"] {
                add(&mut entries, sub, Mode::Submount, "PrivateDevices=yes");
            }
        }
        if policy.protect_kernel_tunables {
            let origin = "ProtectKernelTunables=yes";
            for path in PROC_TUNABLES.into_iter().chain([
                "/sys",
                "/sys/fs/bpf",
                "/sys/kernel/debug",
                "/sys/kernel/tracing",
            ]) {
                add(&mut entries, path, Mode::ReadOnly, origin);
            }
            add(&mut entries, "/proc/kallsyms", Mode::Inaccessible, origin);
            add(&mut entries, "/proc/kcore", Mode::Inaccessible, origin);
            add(
                &mut entries,
                "/sys/fs/cgroup",
                Mode::ReadWriteImplicit,
                origin,
            );
            add(
                &mut entries,
                "/sys/fs/selinux",
                Mode::ReadWriteImplicit,
                origin,
            );
        }
        if policy.protect_kernel_modules {
            add(
                &mut entries,
                "/usr/lib/modules",
                Mode::Inaccessible,
                "ProtectKernelModules=yes",
            );
            // Split-usr builds (and unresolved paths on merged-usr hosts).
            add(
                &mut entries,
                "/lib/modules",
                Mode::Inaccessible,
                "ProtectKernelModules=yes",
            );
        }
        if policy.protect_kernel_logs {
            add(
                &mut entries,
                "/proc/kmsg",
                Mode::Inaccessible,
                "ProtectKernelLogs=yes",
            );
            add(
                &mut entries,
                "/dev/kmsg",
                Mode::Inaccessible,
                "ProtectKernelLogs=yes",
            );
        }
        if policy.protect_control_groups {
            add(
                &mut entries,
                "/sys/fs/cgroup",
                Mode::ReadOnly,
                "ProtectControlGroups=yes",
            );
        }
        let api_vfs = policy.mount_api_vfs == Some(true)
            || policy.protect_control_groups
            || policy.protect_kernel_tunables
            || policy.protect_proc != ProtectProc::Default
            || policy.proc_subset != ProcSubset::All;
        if api_vfs {
            add(&mut entries, "/proc", Mode::Procfs, "MountAPIVFS=yes");
            add(&mut entries, "/sys", Mode::Sysfs, "MountAPIVFS=yes");
            add(&mut entries, "/run", Mode::Run, &api_vfs_origin(policy));
        }
        let home = policy.describe("ProtectHome", policy.protect_home.as_str());
        for path in ["/home", "/run/user", "/root"] {
            match policy.protect_home {
                ProtectHome::No => {}
                ProtectHome::Yes => add(&mut entries, path, Mode::Inaccessible, &home),
                ProtectHome::ReadOnly => add(&mut entries, path, Mode::ReadOnly, &home),
                ProtectHome::Tmpfs => {
                    entries.push(MountEntry::new(path, Mode::Tmpfs, &home).read_only(&home));
                }
            }
        }
        let system = policy.describe("ProtectSystem", policy.protect_system.as_str());
        match policy.protect_system {
            ProtectSystem::No => {}
            ProtectSystem::Yes | ProtectSystem::Full => {
                for path in ["/usr", "/boot", "/efi"] {
                    add(&mut entries, path, Mode::ReadOnly, &system);
                }
                if policy.protect_system == ProtectSystem::Full {
                    add(&mut entries, "/etc", Mode::ReadOnly, &system);
                }
            }
            ProtectSystem::Strict => {
                add(&mut entries, "/", Mode::ReadOnly, &system);
                for path in ["/proc", "/sys", "/dev", "/home", "/run/user", "/root"] {
                    add(&mut entries, path, Mode::ReadWriteImplicit, &system);
                }
            }
        }
        for bind in &policy.bind_paths {
            let key = if bind.read_only {
                "BindReadOnlyPaths"
            } else {
                "BindPaths"
            };
            let origin = format!("{key}={}", printable(&bind.destination));
            let entry = MountEntry::new(&bind.destination, Mode::Bind, &origin);
            entries.push(if bind.read_only {
                entry.read_only(&origin)
            } else {
                entry
            });
        }
        for (kind, path) in policy.directory_paths() {
            let name = path
                .strip_prefix(kind.base())
                .map(|p| p.trim_start_matches('/'))
                .unwrap_or(&path);
            let name = name.strip_prefix("private/").unwrap_or(name);
            let origin = format!("{}={}", kind.key(), printable(name));
            entries.push(MountEntry::new(&path, Mode::Bind, &origin));
        }
        for tmpfs in &policy.temporary_file_systems {
            let origin = if tmpfs.options.is_empty() {
                format!("TemporaryFileSystem={}", printable(&tmpfs.path))
            } else {
                format!(
                    "TemporaryFileSystem={}:{}",
                    printable(&tmpfs.path),
                    printable(&tmpfs.options)
                )
            };
            let mut entry = MountEntry::new(&tmpfs.path, Mode::Tmpfs, &origin);
            if tmpfs.read_only {
                entry = entry.read_only(&origin);
            }
            if tmpfs.noexec {
                entry = entry.noexec(&origin);
            }
            entries.push(entry);
        }
        MountTable {
            entries: reduce(entries),
        }
    }

    /// What the namespace does to `path` (absolute and normalized).
    pub fn lookup(&self, path: &str) -> PathState {
        let deepest = |redundant_too: bool| {
            self.entries
                .iter()
                .filter(|e| (redundant_too || !e.redundant) && path_is_under(path, &e.path))
                .max_by(|a, b| compare_paths(&a.path, &b.path))
        };
        let Some(entry) = deepest(false) else {
            return PathState::default();
        };
        if entry.mode == Mode::Submount {
            return self.lookup_submount(entry);
        }
        // A redundant entry below the deciding one has the same mode: it names the setting
        // the user wrote for this subtree, which explains the outcome better than the parent.
        let read_only = match deepest(true) {
            Some(closer) if closer.redundant && entry.read_only.is_some() => {
                closer.read_only.clone().or_else(|| entry.read_only.clone())
            }
            _ => entry.read_only.clone(),
        };
        let below = path != entry.path;
        PathState {
            inaccessible: (entry.mode == Mode::Inaccessible).then(|| entry.origin.clone()),
            hidden: (below && entry.hides_content && entry.mode == Mode::Tmpfs)
                .then(|| entry.read_only.clone())
                .flatten(),
            read_only,
            noexec: entry.noexec.clone(),
            decided_by: Some(entry.path.clone()),
        }
    }

    /// The entry whose file system holds `submount` (the deepest real entry above it).
    fn holder_of(&self, submount: &MountEntry) -> Option<&MountEntry> {
        self.entries
            .iter()
            .filter(|e| {
                !e.redundant
                    && e.mode != Mode::Submount
                    && e.path != submount.path
                    && path_is_under(&submount.path, &e.path)
            })
            .max_by(|a, b| compare_paths(&a.path, &b.path))
    }

    /// A path on a submount that is not an entry: only the recursive flags of the entry whose
    /// file system holds it reach it.
    fn lookup_submount(&self, submount: &MountEntry) -> PathState {
        let Some(holder) = self.holder_of(submount) else {
            return PathState {
                decided_by: Some(submount.path.clone()),
                ..PathState::default()
            };
        };
        // The private /dev is made read-only alone; other read-only entries are remounted
        // recursively.
        let read_only = if holder.mode == Mode::PrivateDev {
            None
        } else {
            holder.read_only.clone()
        };
        let noexec = if holder.exec.is_some() {
            None
        } else {
            holder.noexec_flag.clone()
        };
        PathState {
            read_only,
            noexec,
            decided_by: Some(submount.path.clone()),
            ..PathState::default()
        }
    }

    /// Mounts the service can write to and execute from: every surviving entry (or submount)
    /// that is writable and not noexec, and is not an `ExecPaths=` entry, as `(path to list in
    /// `NoExecPaths=`, the directive that makes it writable)`. A submount is answered with the
    /// entry that holds it (its recursive noexec remount reaches the submount). `/proc` and
    /// `/sys` are left out: no file can be created there.
    pub fn writable_executable(&self) -> Vec<(String, String)> {
        let mut out: Vec<(String, String)> = Vec::new();
        for e in self.entries.iter().filter(|e| !e.redundant) {
            if e.exec.is_some()
                || matches!(e.mode, Mode::Inaccessible | Mode::Procfs | Mode::Sysfs)
                || path_is_under(&e.path, "/proc")
                || path_is_under(&e.path, "/sys")
            {
                continue;
            }
            let state = self.lookup(&e.path);
            if state.read_only.is_some() || state.noexec.is_some() || state.hidden.is_some() {
                continue;
            }
            let path = if e.mode == Mode::Submount {
                self.holder_of(e)
                    .map_or_else(|| e.path.clone(), |h| h.path.clone())
            } else {
                e.path.clone()
            };
            if !out.iter().any(|(p, _)| *p == path) {
                out.push((path, e.origin.clone()));
            }
        }
        out
    }

    /// The surviving entries as `(path, origin)`, parents first.
    pub fn entries(&self) -> impl Iterator<Item = (&str, &str)> {
        self.entries
            .iter()
            .filter(|e| !e.redundant)
            .map(|e| (e.path.as_str(), e.origin.as_str()))
    }
}

/// The setting that mounts the API file systems, for explanations.
fn api_vfs_origin(policy: &Policy) -> String {
    if policy.mount_api_vfs == Some(true) {
        "MountAPIVFS=yes".to_owned()
    } else if policy.protect_kernel_tunables {
        "ProtectKernelTunables=yes (implies MountAPIVFS=yes)".to_owned()
    } else if policy.protect_control_groups {
        "ProtectControlGroups=yes (implies MountAPIVFS=yes)".to_owned()
    } else if policy.protect_proc != ProtectProc::Default {
        "ProtectProc= (implies MountAPIVFS=yes)".to_owned()
    } else {
        "ProcSubset=pid (implies MountAPIVFS=yes)".to_owned()
    }
}

/// Sorts and reduces the entries like `drop_unused_mounts()` (without a root directory).
fn reduce(mut entries: Vec<MountEntry>) -> Vec<MountEntry> {
    entries.sort_by(|a, b| compare_paths(&a.path, &b.path).then(a.mode.cmp(&b.mode)));

    // drop_duplicates(): the first (highest priority) wins; the others' flags are OR-ed in.
    let mut merged: Vec<MountEntry> = Vec::with_capacity(entries.len());
    for entry in entries {
        if let Some(previous) = merged.last_mut() {
            if compare_paths(&previous.path, &entry.path) == Ordering::Equal {
                previous.read_only = previous.read_only.take().or(entry.read_only);
                previous.noexec = previous.noexec.take().or(entry.noexec);
                previous.noexec_flag = previous.noexec_flag.take().or(entry.noexec_flag);
                previous.exec = previous.exec.take().or(entry.exec);
                continue;
            }
        }
        merged.push(entry);
    }

    // drop_inaccessible(): nothing below an inaccessible path survives.
    let mut visible: Vec<MountEntry> = Vec::with_capacity(merged.len());
    let mut clear: Option<String> = None;
    for entry in merged {
        if let Some(hidden_below) = &clear {
            if path_is_under(&entry.path, hidden_below) {
                continue;
            }
        }
        clear = (entry.mode == Mode::Inaccessible).then(|| entry.path.clone());
        visible.push(entry);
    }

    // drop_nop(): a read-only/read-write entry under a parent entry of the same mode is
    // redundant (its other flags are lost with it). Kept, marked, for explanations only.
    let mut kept: Vec<MountEntry> = Vec::with_capacity(visible.len());
    for mut entry in visible {
        if matches!(
            entry.mode,
            Mode::ReadOnly | Mode::ReadWrite | Mode::ReadWriteImplicit
        ) {
            let parent = kept
                .iter()
                .rev()
                .filter(|p| !p.redundant)
                .find(|p| path_is_under(&entry.path, &p.path));
            entry.redundant = parent.is_some_and(|p| p.mode == entry.mode);
        }
        kept.push(entry);
    }
    kept
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::unit::policy::PathSetting;

    fn paths(list: &[&str]) -> Vec<PathSetting> {
        list.iter()
            .map(|p| PathSetting {
                path: (*p).to_owned(),
                ignore_missing: false,
                root_relative: false,
            })
            .collect()
    }

    #[test]
    fn component_wise_containment() {
        assert!(path_is_under("/etc", "/etc"));
        assert!(path_is_under("/etc/passwd", "/etc"));
        assert!(!path_is_under("/etcfoo", "/etc"));
        assert!(path_is_under("/anything", "/"));
        assert!(path_is_under("/", "/"));
        assert!(!path_is_under("/", "/etc"));
        assert!(!path_is_under("relative", "/"));
    }

    #[test]
    fn most_specific_entry_wins() {
        let policy = Policy {
            protect_system: ProtectSystem::Strict,
            read_write_paths: paths(&["/var/lib/app"]),
            read_only_paths: paths(&["/var/lib/app/conf"]),
            inaccessible_paths: paths(&["/secret"]),
            ..Policy::default()
        };
        let table = policy.mount_table();
        assert!(table.lookup("/etc/passwd").read_only.is_some());
        assert!(table.lookup("/etcfoo").read_only.is_some());
        assert_eq!(table.lookup("/var/lib/app/db").read_only, None);
        assert_eq!(
            table.lookup("/var/lib/app/conf/x").read_only.as_deref(),
            Some("ReadOnlyPaths=/var/lib/app/conf")
        );
        assert_eq!(table.lookup("/home/u/f").read_only, None);
        assert_eq!(table.lookup("/proc/self/x").read_only, None);
        assert_eq!(
            table.lookup("/secret/key").inaccessible.as_deref(),
            Some("InaccessiblePaths=/secret")
        );
    }

    #[test]
    fn systemd_252_quirks() {
        // ExecPaths= entries become writable under ProtectSystem=strict.
        let policy = Policy {
            protect_system: ProtectSystem::Strict,
            no_exec_paths: paths(&["/"]),
            exec_paths: paths(&["/usr/bin"]),
            read_write_paths: paths(&["/var/lib/probe"]),
            ..Policy::default()
        };
        let table = policy.mount_table();
        assert_eq!(table.lookup("/usr/bin/probe-test").read_only, None);
        assert!(table.lookup("/usr/probe-test").read_only.is_some());
        assert_eq!(table.lookup("/usr/bin/true").noexec, None);
        assert!(table.lookup("/opt/true-copy").noexec.is_some());
        // ReadWritePaths= entries stay executable under NoExecPaths=/.
        assert_eq!(table.lookup("/var/lib/probe/bin").noexec, None);

        // The same path in ReadOnlyPaths= and ExecPaths= under a read-only parent loses exec.
        let policy = Policy {
            protect_system: ProtectSystem::Strict,
            no_exec_paths: paths(&["/"]),
            read_only_paths: paths(&["/usr"]),
            exec_paths: paths(&["/usr"]),
            ..Policy::default()
        };
        let state = policy.mount_table().lookup("/usr/bin/true");
        assert!(state.noexec.is_some());
        assert!(state.read_only.is_some());

        // ProtectSystem=full, NoExecPaths=/ and ExecPaths=/usr: /usr read-only and executable.
        let policy = Policy {
            protect_system: ProtectSystem::Full,
            no_exec_paths: paths(&["/"]),
            exec_paths: paths(&["/usr"]),
            ..Policy::default()
        };
        let state = policy.mount_table().lookup("/usr/bin/true");
        assert_eq!(state.noexec, None);
        assert!(state.read_only.is_some());
    }

    /// What the e2e guest's systemd 252 did with a binary copied into each writable place
    /// (probe `exec-writable`): `NoExecPaths=/` alone leaves every writable entry executable;
    /// listing them in `NoExecPaths=` makes them noexec, `/dev` covering the private `/dev`'s
    /// `/dev/shm`; `ExecPaths=` files below them still run.
    #[test]
    fn writable_entries_stay_executable_unless_listed() {
        let mut policy = Policy {
            protect_system: ProtectSystem::Strict,
            private_tmp: true,
            private_devices: true,
            protect_home: ProtectHome::Yes,
            no_exec_paths: paths(&["/"]),
            exec_paths: paths(&["/usr/bin/true", "/var/lib/exp/bin/tool"]),
            read_write_paths: paths(&["/srv/rw"]),
            ..Policy::default()
        };
        policy
            .directories
            .entry(super::super::policy::ExecDirectory::State)
            .or_default()
            .push("exp".to_owned());
        let table = policy.mount_table();
        for place in [
            "/srv/rw/x",
            "/var/lib/exp/x",
            "/tmp/x",
            "/var/tmp/x",
            "/dev/shm/x",
        ] {
            let state = table.lookup(place);
            assert_eq!(state.noexec, None, "{place}");
            assert_eq!(state.read_only, None, "{place}");
        }
        assert!(table.lookup("/run/x").noexec.is_some());
        assert!(table.lookup("/dev/x").read_only.is_some());
        let holes: Vec<String> = table
            .writable_executable()
            .into_iter()
            .map(|(p, _)| p)
            .collect();
        assert_eq!(
            holes,
            ["/dev", "/srv/rw", "/tmp", "/var/lib/exp", "/var/tmp"],
            "{holes:?}"
        );

        policy.no_exec_paths = paths(&["/", "/dev", "/srv/rw", "/tmp", "/var/lib/exp", "/var/tmp"]);
        let table = policy.mount_table();
        for place in [
            "/srv/rw/x",
            "/var/lib/exp/x",
            "/tmp/x",
            "/var/tmp/x",
            "/dev/shm/x",
        ] {
            let state = table.lookup(place);
            assert!(state.noexec.is_some(), "{place}");
            assert_eq!(state.read_only, None, "{place}");
        }
        assert!(table.lookup("/dev/null").read_only.is_some());
        assert_eq!(table.lookup("/var/lib/exp/bin/tool").noexec, None);
        assert_eq!(table.lookup("/usr/bin/true").noexec, None);
        assert!(table.writable_executable().is_empty());

        // Without PrivateDevices= and ProtectHome=, ProtectSystem=strict leaves /dev, /home,
        // /root and /run/user writable and executable; /proc and /sys hold no files to run.
        let policy = Policy {
            protect_system: ProtectSystem::Strict,
            no_exec_paths: paths(&["/"]),
            ..Policy::default()
        };
        let holes: Vec<String> = policy
            .mount_table()
            .writable_executable()
            .into_iter()
            .map(|(p, _)| p)
            .collect();
        assert_eq!(holes, ["/dev", "/home", "/root", "/run/user"], "{holes:?}");
    }

    #[test]
    fn api_file_systems_leave_run_writable_and_executable() {
        let mut policy = Policy {
            protect_system: ProtectSystem::Strict,
            protect_kernel_tunables: true,
            no_exec_paths: paths(&["/"]),
            ..Policy::default()
        };
        let state = policy.mount_table().lookup("/run/x");
        assert_eq!((state.read_only, state.noexec), (None, None));
        // ReadOnlyPaths=/run merges with the entry and is then redundant under the read-only
        // /: /run is read-only again; RuntimeDirectory= below it stays writable.
        policy.read_only_paths = paths(&["/run"]);
        policy.no_exec_paths = paths(&["/", "/run/app"]);
        policy
            .directories
            .entry(super::super::policy::ExecDirectory::Runtime)
            .or_default()
            .push("app".to_owned());
        let table = policy.mount_table();
        assert!(table.lookup("/run/x").read_only.is_some());
        assert!(table.lookup("/run/x").noexec.is_some());
        assert_eq!(table.lookup("/run/app/x").read_only, None);
        assert!(table.lookup("/run/app/x").noexec.is_some());
    }

    #[test]
    fn bind_read_only_and_exec_paths_make_a_read_only_executable_file() {
        let policy = Policy {
            protect_system: ProtectSystem::Strict,
            no_exec_paths: paths(&["/"]),
            exec_paths: paths(&["/usr/bin/true", "/usr/bin/env"]),
            bind_paths: vec![super::super::policy::BindPath {
                source: "/usr/bin/true".to_owned(),
                destination: "/usr/bin/true".to_owned(),
                read_only: true,
                ignore_missing: true,
            }],
            ..Policy::default()
        };
        let table = policy.mount_table();
        let state = table.lookup("/usr/bin/true");
        assert_eq!(state.noexec, None);
        assert!(state.read_only.is_some());
        // Without the read-only bind mount an ExecPaths= file is writable (systemd 252).
        let state = table.lookup("/usr/bin/env");
        assert_eq!(state.noexec, None);
        assert_eq!(state.read_only, None);
    }

    #[test]
    fn same_path_read_only_beats_read_write() {
        let policy = Policy {
            read_write_paths: paths(&["/srv"]),
            read_only_paths: paths(&["/srv"]),
            ..Policy::default()
        };
        assert!(policy.mount_table().lookup("/srv/x").read_only.is_some());
    }

    #[test]
    fn inaccessible_drops_everything_below() {
        let policy = Policy {
            inaccessible_paths: paths(&["/data"]),
            read_write_paths: paths(&["/data/open"]),
            ..Policy::default()
        };
        let table = policy.mount_table();
        assert!(table.lookup("/data/open/f").inaccessible.is_some());
        assert_eq!(table.lookup("/database").inaccessible, None);
    }

    #[test]
    fn protect_home_tmpfs_hides_content() {
        let policy = Policy {
            protect_home: ProtectHome::Tmpfs,
            ..Policy::default()
        };
        let table = policy.mount_table();
        assert!(table.lookup("/home/u/.profile").hidden.is_some());
        assert_eq!(table.lookup("/home").hidden, None);
    }
}
