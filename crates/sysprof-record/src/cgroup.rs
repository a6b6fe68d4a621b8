//! cgroup v2 handling: find the mount, create/join/remove transient cgroups, ids and subtrees.
//!
//! A cgroup's id (what `bpf_get_current_cgroup_id()` returns) is the inode number of its
//! directory on the cgroup2 mount; that holds on hybrid hosts too, where v2 sits at
//! `/sys/fs/cgroup/unified`.

use std::ffi::CString;
use std::fs;
use std::io;
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant};

/// Errors handling cgroups.
#[derive(Debug, thiserror::Error)]
pub enum CgroupError {
    #[error("no cgroup2 file system is mounted (nothing of type cgroup2 in /proc/self/mountinfo)")]
    NoCgroup2Mount,
    #[error("failed to read {path}")]
    Read {
        path: PathBuf,
        #[source]
        source: io::Error,
    },
    #[error("failed to create cgroup {path}")]
    Create {
        path: PathBuf,
        #[source]
        source: io::Error,
    },
    #[error("failed to remove cgroup {path}")]
    Remove {
        path: PathBuf,
        #[source]
        source: io::Error,
    },
    #[error("failed to move process {pid} into {path}")]
    Move {
        pid: u32,
        path: PathBuf,
        #[source]
        source: io::Error,
    },
    #[error("{path} is not on the cgroup2 mount {mount}")]
    NotOnCgroup2 { path: PathBuf, mount: PathBuf },
}

/// Where the unified (v2) hierarchy is mounted, from `/proc/self/mountinfo`.
pub fn cgroup2_mount() -> Result<PathBuf, CgroupError> {
    let path = Path::new("/proc/self/mountinfo");
    let text = fs::read_to_string(path).map_err(|source| CgroupError::Read {
        path: path.to_owned(),
        source,
    })?;
    parse_cgroup2_mount(&text).ok_or(CgroupError::NoCgroup2Mount)
}

/// The mount point of the first `cgroup2` entry of a mountinfo text.
pub fn parse_cgroup2_mount(mountinfo: &str) -> Option<PathBuf> {
    mountinfo.lines().find_map(|line| {
        // "<id> <parent> <maj:min> <root> <mount point> <options> [optional...] - <type> ..."
        let (left, right) = line.split_once(" - ")?;
        if right.split_whitespace().next()? != "cgroup2" {
            return None;
        }
        let mount_point = left.split_whitespace().nth(4)?;
        Some(PathBuf::from(unescape_mountinfo(mount_point)))
    })
}

/// Undoes mountinfo's octal escapes (`\040` for a space, …).
fn unescape_mountinfo(field: &str) -> String {
    let bytes = field.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'\\' && i + 4 <= bytes.len() {
            let digits = std::str::from_utf8(&bytes[i + 1..i + 4]).ok();
            if let Some(value) = digits.and_then(|d| u8::from_str_radix(d, 8).ok()) {
                out.push(value);
                i += 4;
                continue;
            }
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// The cgroup id of a cgroup2 directory (its inode number).
pub fn cgroup_id(dir: &Path) -> Result<u64, CgroupError> {
    fs::metadata(dir)
        .map(|m| m.ino())
        .map_err(|source| CgroupError::Read {
            path: dir.to_owned(),
            source,
        })
}

/// `dir` and every cgroup below it, parents first.
pub fn subtree(dir: &Path) -> Result<Vec<PathBuf>, CgroupError> {
    let mut out = vec![dir.to_owned()];
    let mut next = 0;
    while next < out.len() {
        let current = out[next].clone();
        next += 1;
        let entries = fs::read_dir(&current).map_err(|source| CgroupError::Read {
            path: current.clone(),
            source,
        })?;
        for entry in entries.flatten() {
            if entry.file_type().is_ok_and(|t| t.is_dir()) {
                out.push(entry.path());
            }
        }
    }
    Ok(out)
}

/// The path of `dir` relative to the cgroup2 mount, as the kernel names it (`/a/b`).
pub fn relative_to_mount(dir: &Path, mount: &Path) -> Result<String, CgroupError> {
    let rel = dir
        .strip_prefix(mount)
        .map_err(|_| CgroupError::NotOnCgroup2 {
            path: dir.to_owned(),
            mount: mount.to_owned(),
        })?;
    Ok(format!("/{}", rel.to_string_lossy()).replace("//", "/"))
}

/// The pids listed in a cgroup's `cgroup.procs`.
pub fn procs(dir: &Path) -> Result<Vec<u32>, CgroupError> {
    let path = dir.join("cgroup.procs");
    let text = fs::read_to_string(&path).map_err(|source| CgroupError::Read { path, source })?;
    Ok(text.lines().filter_map(|l| l.trim().parse().ok()).collect())
}

/// The cgroup2 directory the calling process is in (the `0::` line of `/proc/self/cgroup`).
pub fn own_cgroup(mount: &Path) -> Result<PathBuf, CgroupError> {
    let path = Path::new("/proc/self/cgroup");
    let text = fs::read_to_string(path).map_err(|source| CgroupError::Read {
        path: path.to_owned(),
        source,
    })?;
    let rel = text
        .lines()
        .find_map(|l| l.strip_prefix("0::"))
        .unwrap_or("/");
    Ok(mount.join(rel.trim_start_matches('/')))
}

/// A cgroup created for one recording and removed when dropped.
///
/// Removal first moves any process still inside (a daemon the command left behind) back to
/// the cgroup sysprof runs in, because a populated cgroup cannot be removed.
#[derive(Debug)]
pub struct TransientCgroup {
    path: PathBuf,
    procs_file: CString,
    evacuate_to: PathBuf,
    id: u64,
    removed: bool,
}

static SEQUENCE: AtomicU32 = AtomicU32::new(0);

impl TransientCgroup {
    /// Creates `sysprof-<pid>-<n>` under the cgroup2 mount.
    pub fn create(mount: &Path) -> Result<TransientCgroup, CgroupError> {
        let name = format!(
            "sysprof-{}-{}",
            std::process::id(),
            SEQUENCE.fetch_add(1, Ordering::Relaxed)
        );
        let path = mount.join(name);
        fs::create_dir(&path).map_err(|source| CgroupError::Create {
            path: path.clone(),
            source,
        })?;
        let evacuate_to = own_cgroup(mount).unwrap_or_else(|_| mount.to_owned());
        let procs_path = path.join("cgroup.procs");
        let procs_file =
            CString::new(procs_path.as_os_str().as_bytes()).map_err(|_| CgroupError::Create {
                path: path.clone(),
                source: io::Error::new(io::ErrorKind::InvalidInput, "NUL in cgroup path"),
            });
        let procs_file = match procs_file {
            Ok(p) => p,
            Err(e) => {
                let _ = fs::remove_dir(&path);
                return Err(e);
            }
        };
        let id = match cgroup_id(&path) {
            Ok(id) => id,
            Err(e) => {
                let _ = fs::remove_dir(&path);
                return Err(e);
            }
        };
        Ok(TransientCgroup {
            path,
            procs_file,
            evacuate_to,
            id,
            removed: false,
        })
    }

    /// The cgroup's directory.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The cgroup's id.
    pub fn id(&self) -> u64 {
        self.id
    }

    /// `cgroup.procs` as a C string, for a `pre_exec` hook that must not allocate.
    pub fn procs_file(&self) -> &CString {
        &self.procs_file
    }

    /// Moves the calling process into the cgroup with async-signal-safe calls only; meant for
    /// `CommandExt::pre_exec`, between fork and exec. The descriptor is left to `O_CLOEXEC`, so
    /// that the only system call the child makes inside the cgroup before the command's own is
    /// `execve` (a recording then matches `strace -f` of the same command).
    pub fn join_self_in_child(procs_file: &CString) -> io::Result<()> {
        // SAFETY: open and write are async-signal-safe; the path is a valid NUL-terminated
        // string that outlives the call, and the buffer is a 1-byte static slice.
        unsafe {
            let fd = libc::open(procs_file.as_ptr(), libc::O_WRONLY | libc::O_CLOEXEC);
            if fd < 0 {
                return Err(io::Error::last_os_error());
            }
            // "0" means "the writing process" to cgroup.procs.
            if libc::write(fd, b"0".as_ptr().cast(), 1) != 1 {
                return Err(io::Error::last_os_error());
            }
        }
        Ok(())
    }

    /// True while a process is still inside (or below) the cgroup.
    pub fn is_populated(&self) -> bool {
        fs::read_to_string(self.path.join("cgroup.events"))
            .map(|t| t.lines().any(|l| l.trim() == "populated 1"))
            .unwrap_or(false)
    }

    /// Moves every remaining process out and removes the cgroup (and any child cgroups).
    pub fn remove(&mut self) -> Result<(), CgroupError> {
        if self.removed {
            return Ok(());
        }
        let deadline = Instant::now() + Duration::from_secs(2);
        loop {
            let mut dirs = subtree(&self.path).unwrap_or_else(|_| vec![self.path.clone()]);
            // Children first: a cgroup with child cgroups cannot be removed.
            dirs.reverse();
            for dir in &dirs {
                for pid in procs(dir).unwrap_or_default() {
                    let _ = fs::write(self.evacuate_to.join("cgroup.procs"), pid.to_string());
                }
            }
            let mut last_error = None;
            for dir in &dirs {
                if let Err(e) = fs::remove_dir(dir) {
                    if e.kind() != io::ErrorKind::NotFound {
                        last_error = Some(e);
                    }
                }
            }
            match last_error {
                None => {
                    self.removed = true;
                    return Ok(());
                }
                // EBUSY right after the last process left: the kernel frees it lazily.
                Some(e) if Instant::now() < deadline => {
                    let _ = e;
                    std::thread::sleep(Duration::from_millis(20));
                }
                Some(source) => {
                    return Err(CgroupError::Remove {
                        path: self.path.clone(),
                        source,
                    })
                }
            }
        }
    }
}

impl Drop for TransientCgroup {
    fn drop(&mut self) {
        let _ = self.remove();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_cgroup2_on_hybrid_and_pure_hosts() {
        let hybrid = "31 23 0:28 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw,mode=755\n\
                      36 31 0:33 / /sys/fs/cgroup/devices rw,relatime - cgroup cgroup rw,devices\n\
                      41 31 0:38 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw\n";
        assert_eq!(
            parse_cgroup2_mount(hybrid),
            Some(PathBuf::from("/sys/fs/cgroup/unified"))
        );
        let pure =
            "30 23 0:26 / /sys/fs/cgroup rw,nosuid shared:4 - cgroup2 cgroup2 rw,nsdelegate\n";
        assert_eq!(
            parse_cgroup2_mount(pure),
            Some(PathBuf::from("/sys/fs/cgroup"))
        );
        let escaped = "30 23 0:26 / /mnt/my\\040cg rw - cgroup2 cgroup2 rw\n";
        assert_eq!(
            parse_cgroup2_mount(escaped),
            Some(PathBuf::from("/mnt/my cg"))
        );
        assert_eq!(
            parse_cgroup2_mount("1 0 0:1 / / rw - ext4 /dev/vda rw\n"),
            None
        );
    }

    #[test]
    fn relative_paths_are_kernel_style() {
        let mount = Path::new("/sys/fs/cgroup/unified");
        assert_eq!(
            relative_to_mount(Path::new("/sys/fs/cgroup/unified/a/b.service"), mount).ok(),
            Some("/a/b.service".to_owned())
        );
        assert_eq!(relative_to_mount(mount, mount).ok(), Some("/".to_owned()));
        assert!(relative_to_mount(Path::new("/tmp"), mount).is_err());
    }
}
