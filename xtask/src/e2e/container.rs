//! One booted guest: systemd-nspawn in its own cgroups, `nsenter` into it, teardown on every path.

use super::cmd::{self, Output};
use anyhow::{bail, Context, Result};
use std::ffi::CString;
use std::fs;
use std::os::unix::ffi::OsStrExt;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// Where the share directory appears inside the guest.
pub const SHARE_IN_GUEST: &str = "/harness";
/// nspawn leaves this directory behind on hosts whose /run is not a tmpfs.
const PROPAGATE_DIR: &str = "/run/systemd/nspawn/propagate";
/// A plain environment for commands inside the guest: no host paths, no colours, no pager.
const GUEST_ENV: &[(&str, &str)] = &[
    (
        "PATH",
        "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
    ),
    ("HOME", "/root"),
    ("LC_ALL", "C"),
    ("TERM", "dumb"),
    ("SYSTEMD_COLORS", "0"),
    ("SYSTEMD_PAGER", "cat"),
];
const BOOT_TIMEOUT: Duration = Duration::from_secs(90);
/// Timeout of one systemctl/journalctl query.
const STEP: Duration = Duration::from_secs(30);
const POWEROFF_TIMEOUT: Duration = Duration::from_secs(20);

/// The cgroup hierarchies the container gets a directory of its own in: the cgroup2 mount and,
/// on hybrid hosts, the `name=systemd` v1 hierarchy (which nspawn reads its own cgroup from).
pub fn cgroup_roots() -> Result<Vec<PathBuf>> {
    let text = fs::read_to_string("/proc/self/mountinfo").context("cannot read mountinfo")?;
    let mut v2 = None;
    let mut named = None;
    for line in text.lines() {
        let Some((left, right)) = line.split_once(" - ") else {
            continue;
        };
        let mut fields = right.split_whitespace();
        let fstype = fields.next().unwrap_or_default();
        let options = fields.nth(1).unwrap_or_default();
        let Some(point) = left.split_whitespace().nth(4) else {
            continue;
        };
        if fstype == "cgroup2" && v2.is_none() {
            v2 = Some(PathBuf::from(point));
        } else if fstype == "cgroup"
            && options.split(',').any(|o| o == "name=systemd")
            && named.is_none()
        {
            named = Some(PathBuf::from(point));
        }
    }
    let Some(v2) = v2 else {
        bail!("no cgroup2 mount on this host (the e2e needs cgroup v2, pure or hybrid)");
    };
    Ok([Some(v2), named].into_iter().flatten().collect())
}

/// A running guest. Dropping it tears it down if [`Container::teardown`] was not called.
pub struct Container {
    pub name: String,
    /// `NAME` directories created in each cgroup hierarchy; the cgroup2 one first.
    cgroups: Vec<PathBuf>,
    console: PathBuf,
    child: Option<Child>,
    leader: u32,
    torn_down: bool,
}

impl Container {
    /// Boots `root` (read-only lower layer, tmpfs upper: every boot is pristine) with `share`
    /// bound at [`SHARE_IN_GUEST`], and waits for `running` or `degraded`.
    pub fn boot(name: &str, root: &Path, share: &Path, roots: &[PathBuf]) -> Result<Container> {
        let console = share.join("console.log");
        let mut container = Container {
            name: name.to_owned(),
            cgroups: Vec::new(),
            console: console.clone(),
            child: None,
            leader: 0,
            torn_down: false,
        };
        // From here on, any error drops `container`, which tears down what exists so far.
        let mut procs_files = Vec::new();
        for cg_root in roots {
            let dir = cg_root.join(name);
            fs::create_dir(&dir).with_context(|| format!("cannot create {}", dir.display()))?;
            container.cgroups.push(dir.clone());
            procs_files.push(
                CString::new(dir.join("cgroup.procs").as_os_str().as_bytes())
                    .context("NUL in a cgroup path")?,
            );
        }
        let log = fs::File::create(&console)
            .with_context(|| format!("cannot create {}", console.display()))?;
        let log_err = log
            .try_clone()
            .context("cannot duplicate the console log")?;
        let mut command = Command::new("systemd-nspawn");
        command
            .args(["-q", "-D"])
            .arg(root)
            .args([
                "--volatile=overlay",
                "-b",
                "--register=no",
                "--keep-unit",
                "-M",
                name,
                "--console=read-only",
                "--private-network",
                // bpf(): systemd's IP and device firewalls. @clock: read-only adjtimex() for
                // the ProtectClock= probe (setting the clock still needs CAP_SYS_TIME, which
                // the guest does not get). CAP_SYSLOG: syslog(2) for the ProtectKernelLogs=
                // probe (nspawn drops it, and blocks syslog(2) with it).
                "--system-call-filter=bpf @clock",
                "--capability=CAP_SYSLOG",
            ])
            .arg(format!("--bind={}:{SHARE_IN_GUEST}", share.display()))
            .env("SYSTEMD_NSPAWN_UNIFIED_HIERARCHY", "1")
            .stdin(Stdio::null())
            .stdout(log)
            .stderr(log_err);
        // SAFETY: between fork and exec the hook only calls setsid, open, write and close,
        // which are async-signal-safe, on C strings prepared before the fork.
        unsafe {
            command.pre_exec(move || {
                // Its own session: a Ctrl-C on the terminal reaches us, and we power it off.
                if libc::setsid() < 0 {
                    return Err(std::io::Error::last_os_error());
                }
                for file in &procs_files {
                    let fd = libc::open(file.as_ptr(), libc::O_WRONLY | libc::O_CLOEXEC);
                    if fd < 0 {
                        return Err(std::io::Error::last_os_error());
                    }
                    let written = libc::write(fd, b"0".as_ptr().cast(), 1);
                    libc::close(fd);
                    if written != 1 {
                        return Err(std::io::Error::last_os_error());
                    }
                }
                Ok(())
            });
        }
        let child = command
            .spawn()
            .context("cannot start systemd-nspawn (package systemd-container)")?;
        container.child = Some(child);
        container.wait_booted()?;
        Ok(container)
    }

    fn wait_booted(&mut self) -> Result<()> {
        let init_scope = self.cgroups[0].join("payload/init.scope/cgroup.procs");
        let deadline = Instant::now() + BOOT_TIMEOUT;
        let mut last_state = String::from("no init.scope yet");
        loop {
            cmd::check_interrupt()?;
            if let Some(child) = self.child.as_mut() {
                if let Some(status) = child.try_wait().context("cannot wait for nspawn")? {
                    bail!(
                        "systemd-nspawn exited during boot ({status}); console: {}",
                        self.console_tail(8)
                    );
                }
            }
            let leader = fs::read_to_string(&init_scope)
                .ok()
                .and_then(|t| t.lines().next().and_then(|l| l.trim().parse::<u32>().ok()));
            if let Some(leader) = leader {
                self.leader = leader;
                let out =
                    self.exec(&["systemctl", "is-system-running"], Duration::from_secs(10))?;
                last_state = out.stdout.trim().to_owned();
                if last_state == "degraded" {
                    let failed = self.exec(
                        &["systemctl", "--failed", "--no-legend", "--plain"],
                        Duration::from_secs(10),
                    )?;
                    eprintln!(
                        "    note: guest is degraded; failed units: {}",
                        failed.stdout.split_whitespace().next().unwrap_or("?")
                    );
                }
                if last_state == "running" || last_state == "degraded" {
                    return Ok(());
                }
            }
            if Instant::now() >= deadline {
                bail!(
                    "the guest did not reach running/degraded within {}s (last state: {last_state}); console: {}",
                    BOOT_TIMEOUT.as_secs(),
                    self.console_tail(8)
                );
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    fn console_tail(&self, lines: usize) -> String {
        let text = fs::read_to_string(&self.console).unwrap_or_default();
        let tail: Vec<&str> = text.lines().rev().take(lines).collect();
        let joined: Vec<&str> = tail.into_iter().rev().collect();
        format!(
            "[{}] (full log: {})",
            joined.join(" | "),
            self.console.display()
        )
    }

    /// The host PID of the guest's PID 1.
    pub fn leader(&self) -> u32 {
        self.leader
    }

    /// The host directory of the guest's cgroup2 tree (what the guest sees as `/sys/fs/cgroup`).
    pub fn payload_cgroup(&self) -> PathBuf {
        self.cgroups[0].join("payload")
    }

    /// A command run in every namespace of the guest, with the host's capabilities and no
    /// seccomp filter (what a root tool of the guest's admin would get).
    pub fn command(&self, args: &[&str]) -> Command {
        let mut command = Command::new("nsenter");
        command
            .arg("-t")
            .arg(self.leader.to_string())
            .arg("-a")
            .args(args)
            .env_clear()
            .envs(GUEST_ENV.iter().copied());
        command
    }

    pub fn exec(&self, args: &[&str], timeout: Duration) -> Result<Output> {
        cmd::run(&mut self.command(args), timeout)
    }

    pub fn exec_ok(&self, args: &[&str], timeout: Duration) -> Result<Output> {
        cmd::run_ok(&mut self.command(args), timeout)
    }

    /// `systemctl show -P PROPERTY UNIT`.
    pub fn property(&self, unit: &str, name: &str) -> Result<String> {
        let out = self.exec_ok(&["systemctl", "show", "-P", name, unit], STEP)?;
        Ok(out.stdout.trim().to_owned())
    }

    /// `systemctl is-active UNIT` (its answer, whatever the exit status).
    pub fn is_active(&self, unit: &str) -> Result<String> {
        let out = self.exec(&["systemctl", "is-active", unit], STEP)?;
        Ok(out.stdout.trim().to_owned())
    }

    /// Saves the unit's journal of this boot as `UNIT.journal.txt` in `share` and shows its
    /// last lines (for failures).
    pub fn save_journal(&self, share: &Path, unit: &str) {
        let Ok(out) = self.exec(
            &[
                "journalctl",
                "-u",
                unit,
                "-b",
                "--no-pager",
                "-o",
                "short-monotonic",
            ],
            STEP,
        ) else {
            return;
        };
        let file = share.join(format!("{unit}.journal.txt"));
        let _ = fs::write(&file, &out.stdout);
        eprintln!(
            "    journal of {unit} (last 25 lines; all of it in {}):",
            file.display()
        );
        let lines: Vec<&str> = out.stdout.lines().collect();
        for line in &lines[lines.len().saturating_sub(25)..] {
            eprintln!("      | {line}");
        }
    }

    /// Powers the guest off (SIGTERM to nspawn → clean shutdown; SIGKILL after a timeout),
    /// kills what is left in its cgroups, removes them and nspawn's leftovers. Idempotent;
    /// signals are ignored here, since this is where a Ctrl-C leads.
    pub fn teardown(&mut self) -> Result<()> {
        self.torn_down = true;
        let mut problems = Vec::new();
        if let Some(mut child) = self.child.take() {
            if matches!(child.try_wait(), Ok(None)) {
                if let Ok(pid) = libc::pid_t::try_from(child.id()) {
                    // SAFETY: signalling our own child, which has not been reaped yet.
                    unsafe { libc::kill(pid, libc::SIGTERM) };
                }
                let deadline = Instant::now() + POWEROFF_TIMEOUT;
                while matches!(child.try_wait(), Ok(None)) && Instant::now() < deadline {
                    std::thread::sleep(Duration::from_millis(50));
                }
                if matches!(child.try_wait(), Ok(None)) {
                    problems.push(format!(
                        "the guest did not power off within {}s; killed",
                        POWEROFF_TIMEOUT.as_secs()
                    ));
                    let _ = child.kill();
                    let _ = child.wait();
                }
            }
        }
        for dir in &self.cgroups {
            if let Err(e) = remove_cgroup_tree(dir) {
                problems.push(format!("{e:#}"));
            }
        }
        let propagate = Path::new(PROPAGATE_DIR).join(&self.name);
        if propagate.exists() {
            if let Err(e) = super::rootfs::remove_tree(&propagate) {
                problems.push(format!("{e:#}"));
            }
        }
        if problems.is_empty() {
            Ok(())
        } else {
            bail!("teardown of {}: {}", self.name, problems.join("; "))
        }
    }
}

impl Drop for Container {
    fn drop(&mut self) {
        if !self.torn_down {
            if let Err(e) = self.teardown() {
                eprintln!("error: {e:#}");
            }
        }
    }
}

/// `dir` and every cgroup below it, deepest first.
fn cgroup_subtree(dir: &Path) -> Vec<PathBuf> {
    let mut all = vec![dir.to_owned()];
    let mut i = 0;
    while i < all.len() {
        if let Ok(entries) = fs::read_dir(&all[i]) {
            for entry in entries.flatten() {
                if entry.file_type().is_ok_and(|t| t.is_dir()) {
                    all.push(entry.path());
                }
            }
        }
        i += 1;
    }
    all.reverse();
    all
}

fn pids_in(dir: &Path) -> Vec<i32> {
    fs::read_to_string(dir.join("cgroup.procs"))
        .unwrap_or_default()
        .lines()
        .filter_map(|l| l.trim().parse().ok())
        .collect()
}

/// Kills every process left in a cgroup tree and removes its directories.
fn remove_cgroup_tree(dir: &Path) -> Result<()> {
    if !dir.exists() {
        return Ok(());
    }
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let subtree = cgroup_subtree(dir);
        let kill_file = dir.join("cgroup.kill");
        if kill_file.exists() {
            let _ = fs::write(&kill_file, "1");
        } else {
            for d in &subtree {
                for pid in pids_in(d) {
                    // SAFETY: plain kill(2); the pid was just listed in our own cgroup.
                    unsafe { libc::kill(pid, libc::SIGKILL) };
                }
            }
        }
        for d in &subtree {
            let _ = fs::remove_dir(d);
        }
        if !dir.exists() {
            return Ok(());
        }
        if Instant::now() >= deadline {
            let left: Vec<String> = cgroup_subtree(dir)
                .iter()
                .map(|d| format!("{} ({} processes)", d.display(), pids_in(d).len()))
                .collect();
            bail!("cannot remove cgroups: {}", left.join(", "));
        }
        std::thread::sleep(Duration::from_millis(100));
    }
}
