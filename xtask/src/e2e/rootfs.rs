//! Host prerequisites and the cached Debian bookworm rootfs (debootstrap, keyed by its inputs).

use super::cmd;
use anyhow::{bail, Context, Result};
use std::ffi::CString;
use std::fs;
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::symlink;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant, SystemTime};

/// Where every e2e artefact kept between runs lives.
pub const CACHE_DIR: &str = "/var/tmp/sysprof-e2e";
const SUITE: &str = "bookworm";
const VARIANT: &str = "minbase";
const DEFAULT_MIRROR: &str = "http://deb.debian.org/debian";
/// The mirror can be overridden (a local apt cache); it is part of the cache key.
const MIRROR_ENV: &str = "SYSPROF_E2E_MIRROR";
/// Packages of the guest: a booting systemd, tools the checks call, the services under test, and
/// python3 for the directive probes (they need raw syscalls and exact errno values).
pub const GUEST_PACKAGES: &[&str] = &[
    "systemd",
    "systemd-sysv",
    "dbus",
    "curl",
    "iproute2",
    "procps",
    "python3",
    "nginx",
    "redis-server",
];
/// Host packages the e2e drives: nspawn, debootstrap, and bpftool for the leak check.
const HOST_PACKAGES: &[&str] = &["systemd-container", "debootstrap", "bpftool"];
/// Complete trees of other keys kept besides the current one (see [`reclaim`]).
const KEEP_OTHER_TREES: usize = 2;
/// A tree of another key unused for longer than this is removed.
const KEEP_UNUSED: Duration = Duration::from_secs(3 * 24 * 3600);
/// Bump when [`configure`] changes what it writes, so cached trees are rebuilt.
const LAYOUT_VERSION: u32 = 1;

/// Installs the missing host packages with apt-get.
pub fn ensure_host_packages() -> Result<()> {
    let mut missing = Vec::new();
    for package in HOST_PACKAGES {
        let out = cmd::run(
            Command::new("dpkg-query").args(["-W", "-f=${Status}", package]),
            Duration::from_secs(30),
        )?;
        if !(out.ok() && out.stdout.ends_with("ok installed")) {
            missing.push(*package);
        }
    }
    if missing.is_empty() {
        eprintln!("    host packages present: {}", HOST_PACKAGES.join(" "));
        return Ok(());
    }
    eprintln!("    installing {}", missing.join(" "));
    cmd::run_ok(
        Command::new("apt-get")
            .args(["update", "-q"])
            .env("DEBIAN_FRONTEND", "noninteractive"),
        Duration::from_secs(600),
    )
    .context("apt-get update failed (the e2e needs deb.debian.org)")?;
    cmd::run_ok(
        Command::new("apt-get")
            .args(["install", "-y", "-q", "--no-install-recommends"])
            .args(&missing)
            .env("DEBIAN_FRONTEND", "noninteractive"),
        Duration::from_secs(1200),
    )
    .with_context(|| format!("cannot install {}", missing.join(" ")))?;
    Ok(())
}

fn mirror() -> String {
    std::env::var(MIRROR_ENV).unwrap_or_else(|_| DEFAULT_MIRROR.to_owned())
}

/// FNV-1a over everything that decides the tree's content.
fn cache_key(mirror: &str) -> String {
    let input = format!(
        "{SUITE}|{VARIANT}|{mirror}|{}|{LAYOUT_VERSION}",
        GUEST_PACKAGES.join(",")
    );
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for byte in input.bytes() {
        hash ^= u64::from(byte);
        hash = hash.wrapping_mul(0x0100_0000_01b3);
    }
    format!("{hash:016x}")
}

/// The rootfs to boot: the cached tree for the current key, built first if missing (or if
/// `rebuild`). Returns its `root` directory and a shared lock that keeps other runs from
/// deleting it while it is booted.
pub fn ensure_rootfs(rebuild: bool) -> Result<(PathBuf, CacheLock)> {
    let cache = Path::new(CACHE_DIR);
    fs::create_dir_all(cache).with_context(|| format!("cannot create {}", cache.display()))?;
    let mirror = mirror();
    let dir = cache.join(format!("rootfs-{}", cache_key(&mirror)));
    if !rebuild {
        let shared = CacheLock::acquire(&cache.join("lock"), false)?;
        if is_complete(&dir) {
            touch(&dir);
            eprintln!(
                "    reusing cached rootfs {} (key of: {SUITE} {VARIANT} {mirror} {})",
                dir.join("root").display(),
                GUEST_PACKAGES.join(",")
            );
            return Ok((dir.join("root"), shared));
        }
    }
    let exclusive = CacheLock::acquire(&cache.join("lock"), true)?;
    let root = ensure_locked(cache, &dir, &mirror, rebuild)?;
    exclusive.downgrade()?;
    Ok((root, exclusive))
}

fn is_complete(dir: &Path) -> bool {
    dir.join("complete").is_file() && dir.join("root/usr/sbin/nginx").is_file()
}

/// Marks a tree as used now (the mtime of its `complete` file), for [`reclaim`].
fn touch(dir: &Path) {
    if let Ok(file) = fs::OpenOptions::new()
        .append(true)
        .open(dir.join("complete"))
    {
        let _ = file.set_modified(SystemTime::now());
    }
}

/// Removes interrupted builds and the trees of other keys that are not worth keeping. Several
/// checkouts (branches with different guest packages) share the cache, so a complete tree of
/// another key survives while it is one of the [`KEEP_OTHER_TREES`] most recently used and was
/// used within [`KEEP_UNUSED`]: removing it would make the next run of that checkout rebuild it
/// and remove this one in turn. Runs under the exclusive lock: no other run has a tree booted.
fn reclaim(cache: &Path, current: &Path) -> Result<()> {
    let mut others: Vec<(SystemTime, PathBuf)> = Vec::new();
    for entry in fs::read_dir(cache).with_context(|| format!("cannot list {CACHE_DIR}"))? {
        let path = entry
            .with_context(|| format!("cannot list {CACHE_DIR}"))?
            .path();
        let name = path.file_name().map(|n| n.to_string_lossy().into_owned());
        let Some(name) = name else { continue };
        let complete_other = name.starts_with("rootfs-") && path != current && is_complete(&path);
        if complete_other {
            let used = fs::metadata(path.join("complete"))
                .and_then(|m| m.modified())
                .unwrap_or(SystemTime::UNIX_EPOCH);
            others.push((used, path));
        } else if name.starts_with("rootfs-") || name == "build" {
            eprintln!("    removing stale {}", path.display());
            remove_tree(&path)?;
        }
    }
    // Most recently used first.
    others.sort_by_key(|(used, _)| std::cmp::Reverse(*used));
    let now = SystemTime::now();
    for (i, (used, path)) in others.iter().enumerate() {
        let idle = now.duration_since(*used).unwrap_or_default();
        if i >= KEEP_OTHER_TREES || idle > KEEP_UNUSED {
            eprintln!(
                "    removing {} (another key, unused for {}h)",
                path.display(),
                idle.as_secs() / 3600
            );
            remove_tree(path)?;
        } else {
            eprintln!(
                "    keeping {} (another key, recently used)",
                path.display()
            );
        }
    }
    Ok(())
}

fn ensure_locked(cache: &Path, dir: &Path, mirror: &str, rebuild: bool) -> Result<PathBuf> {
    let root = dir.join("root");
    if !rebuild && is_complete(dir) {
        // Another run built it while this one waited for the lock.
        return Ok(root);
    }
    reclaim(cache, dir)?;
    let build = cache.join("build");
    let started = Instant::now();
    eprintln!(
        "    debootstrap {SUITE} ({VARIANT}, {}) from {mirror}: about a minute",
        GUEST_PACKAGES.join(",")
    );
    fs::create_dir_all(&build).with_context(|| format!("cannot create {}", build.display()))?;
    let result = debootstrap(&build.join("root"), mirror).and_then(|()| configure(&build));
    if let Err(e) = result {
        let _ = remove_tree(&build);
        return Err(e);
    }
    fs::rename(&build, dir)
        .with_context(|| format!("cannot move the rootfs to {}", dir.display()))?;
    eprintln!(
        "    built {} in {:.0}s",
        root.display(),
        started.elapsed().as_secs_f64()
    );
    Ok(root)
}

fn debootstrap(root: &Path, mirror: &str) -> Result<()> {
    let out = cmd::run(
        Command::new("debootstrap")
            .arg(format!("--variant={VARIANT}"))
            .arg(format!("--include={}", GUEST_PACKAGES.join(",")))
            .arg(SUITE)
            .arg(root)
            .arg(mirror),
        Duration::from_secs(1800),
    )?;
    if !out.ok() {
        let log = fs::read_to_string(root.join("debootstrap/debootstrap.log")).unwrap_or_default();
        let tail: Vec<&str> = log.lines().rev().take(15).collect();
        for line in tail.iter().rev() {
            eprintln!("    | {line}");
        }
        bail!("debootstrap failed ({})", out.summary());
    }
    Ok(())
}

/// Guest configuration on top of debootstrap: no gettys on the console, a hostname, and a
/// record of what the tree was built from.
fn configure(build: &Path) -> Result<()> {
    let root = build.join("root");
    let units = root.join("etc/systemd/system");
    fs::create_dir_all(&units).with_context(|| format!("cannot create {}", units.display()))?;
    for unit in [
        "console-getty.service",
        "getty@.service",
        "serial-getty@.service",
    ] {
        let link = units.join(unit);
        let _ = fs::remove_file(&link);
        symlink("/dev/null", &link).with_context(|| format!("cannot mask {unit}"))?;
    }
    fs::write(root.join("etc/hostname"), "sysprof-e2e\n").context("cannot write /etc/hostname")?;
    let manifest = format!(
        "suite {SUITE}\nvariant {VARIANT}\nmirror {}\npackages {}\nlayout {LAYOUT_VERSION}\n",
        mirror(),
        GUEST_PACKAGES.join(",")
    );
    fs::write(build.join("complete"), manifest).context("cannot mark the rootfs complete")?;
    Ok(())
}

/// Mount points at or below `dir`, deepest first.
fn mounts_below(dir: &Path) -> Vec<PathBuf> {
    let text = fs::read_to_string("/proc/self/mountinfo").unwrap_or_default();
    let mut found: Vec<PathBuf> = text
        .lines()
        .filter_map(|l| l.split_whitespace().nth(4))
        .map(|m| PathBuf::from(m.replace("\\040", " ")))
        .filter(|m| m.starts_with(dir))
        .collect();
    found.sort_by_key(|m| std::cmp::Reverse(m.components().count()));
    found
}

/// Removes a tree that an interrupted debootstrap may have left mounts in: detaches them first
/// and refuses to delete while any remain (a bind of /proc or /dev must never be recursed into).
pub fn remove_tree(dir: &Path) -> Result<()> {
    for mount in mounts_below(dir) {
        let path = CString::new(mount.as_os_str().as_bytes())
            .with_context(|| format!("bad mount point {}", mount.display()))?;
        // SAFETY: a valid NUL-terminated path; MNT_DETACH has no other argument.
        unsafe { libc::umount2(path.as_ptr(), libc::MNT_DETACH) };
    }
    if let Some(left) = mounts_below(dir).first() {
        bail!(
            "cannot remove {}: {} is still mounted",
            dir.display(),
            left.display()
        );
    }
    fs::remove_dir_all(dir).with_context(|| format!("cannot remove {}", dir.display()))
}

/// A `flock` on the cache: exclusive to build or delete a tree, shared while one is booted.
pub struct CacheLock(fs::File);

impl CacheLock {
    fn acquire(path: &Path, exclusive: bool) -> Result<CacheLock> {
        use std::os::fd::AsRawFd;
        let file = fs::OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(path)
            .with_context(|| format!("cannot open {}", path.display()))?;
        let mut said = false;
        loop {
            // SAFETY: a valid open descriptor.
            let mode = if exclusive {
                libc::LOCK_EX
            } else {
                libc::LOCK_SH
            };
            let rc = unsafe { libc::flock(file.as_raw_fd(), mode | libc::LOCK_NB) };
            if rc == 0 {
                return Ok(CacheLock(file));
            }
            let err = std::io::Error::last_os_error();
            if err.raw_os_error() != Some(libc::EWOULDBLOCK) {
                return Err(err).with_context(|| format!("cannot lock {}", path.display()));
            }
            if !said {
                eprintln!("    waiting for another e2e run to finish with the rootfs cache");
                said = true;
            }
            cmd::sleep(Duration::from_millis(200))?;
        }
    }
}

impl CacheLock {
    /// Exclusive → shared: other runs may boot the tree too, none may delete it.
    fn downgrade(&self) -> Result<()> {
        use std::os::fd::AsRawFd;
        // SAFETY: a valid open descriptor.
        if unsafe { libc::flock(self.0.as_raw_fd(), libc::LOCK_SH) } != 0 {
            return Err(std::io::Error::last_os_error()).context("cannot downgrade the cache lock");
        }
        Ok(())
    }
}

impl Drop for CacheLock {
    fn drop(&mut self) {
        use std::os::fd::AsRawFd;
        // SAFETY: a valid open descriptor.
        unsafe { libc::flock(self.0.as_raw_fd(), libc::LOCK_UN) };
    }
}
