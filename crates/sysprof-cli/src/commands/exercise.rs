//! `record --unit NAME --exercise`: drives the unit through its whole life while it is recorded.
//!
//! stop → cold start (runtime state removed, as a reboot leaves it) → reload → restart → stop →
//! start, with a pause after each step for the service to settle. Every step is a real
//! `systemctl` job, so `ExecStartPre=`/`ExecStartPost=`/`ExecReload=`/`ExecStop=`/
//! `ExecStopPost=` all run inside the recorded cgroup.

use crate::output::note;
use anyhow::{bail, Result};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use sysprof_core::trace::Phase;
use sysprof_record::{systemd, Progress, StopFlag};

/// Units whose restart can cut off the operator or the machine: refused without `--yes`.
const CRITICAL: [&str; 14] = [
    "dbus",
    "dbus-broker",
    "ssh",
    "sshd",
    "systemd-journald",
    "systemd-logind",
    "systemd-networkd",
    "systemd-resolved",
    "systemd-udevd",
    "networking",
    "NetworkManager",
    "polkit",
    "getty@",
    "user@",
];

/// How long the service gets after each step before the next one.
pub const PAUSE: Duration = Duration::from_secs(3);

/// What the exercise will do, worked out (and refused) before recording starts.
pub struct Plan {
    unit: String,
    was_active: bool,
    can_reload: bool,
    /// Runtime state a reboot would remove: the unit's `RuntimeDirectory=` and `PIDFile=`, and
    /// `/run/<name>` and `/run/<name>.pid` when they exist.
    cold_paths: Vec<PathBuf>,
}

impl Plan {
    /// Checks that `unit` may be exercised and lists what will happen.
    pub fn new(unit: &str, yes: bool) -> Result<Plan> {
        if !systemd::is_running() {
            bail!("--exercise needs systemd as the running service manager");
        }
        let p = systemd::show(
            unit,
            &[
                "LoadState",
                "ActiveState",
                "CanStart",
                "CanStop",
                "CanReload",
                "RefuseManualStart",
                "RefuseManualStop",
                "RuntimeDirectory",
                "PIDFile",
            ],
        )?;
        let get = |k: &str| p.get(k).map_or("", String::as_str);
        if get("LoadState") != "loaded" {
            bail!("unit {unit} is not loaded ({})", get("LoadState"));
        }
        if get("CanStart") == "no"
            || get("CanStop") == "no"
            || get("RefuseManualStart") == "yes"
            || get("RefuseManualStop") == "yes"
        {
            bail!("unit {unit} cannot be stopped and started by hand; --exercise refuses it");
        }
        let stem = unit.rsplit_once('.').map_or(unit, |(s, _)| s);
        let prefix = stem.split_once('@').map_or(stem, |(p, _)| p);
        let critical = CRITICAL
            .iter()
            .any(|c| *c == stem || c.strip_suffix('@').is_some_and(|c| c == prefix));
        if critical && !yes {
            bail!(
                "restarting {unit} can cut this machine off; --exercise refuses it without --yes"
            );
        }
        let mut cold_paths: Vec<PathBuf> = get("RuntimeDirectory")
            .split_whitespace()
            .filter(|d| is_plain_name(d))
            .map(|d| Path::new("/run").join(d))
            .collect();
        let pid_file = get("PIDFile");
        if pid_file.starts_with("/run/") || pid_file.starts_with("/var/run/") {
            cold_paths.push(PathBuf::from(pid_file));
        }
        if is_plain_name(prefix) {
            for candidate in [format!("/run/{prefix}"), format!("/run/{prefix}.pid")] {
                let path = PathBuf::from(candidate);
                if path.symlink_metadata().is_ok() && !cold_paths.contains(&path) {
                    cold_paths.push(path);
                }
            }
        }
        Ok(Plan {
            unit: unit.to_owned(),
            was_active: get("ActiveState") == "active",
            can_reload: get("CanReload") == "yes",
            cold_paths,
        })
    }

    /// The steps, one line each, for the operator to read before anything happens.
    pub fn describe(&self) -> Vec<String> {
        let u = &self.unit;
        let cold = if self.cold_paths.is_empty() {
            "(no runtime state found to remove)".to_owned()
        } else {
            self.cold_paths
                .iter()
                .map(|p| p.display().to_string())
                .collect::<Vec<_>>()
                .join(" ")
        };
        let mut steps = vec![
            format!("systemctl stop {u}"),
            format!("remove runtime state, as a reboot would: {cold}"),
            format!("systemctl start {u}   (cold start)"),
        ];
        if self.can_reload {
            steps.push(format!("systemctl reload {u}"));
        }
        steps.push(format!("systemctl restart {u}"));
        steps.push(format!("systemctl stop {u}"));
        steps.push(format!("systemctl start {u}"));
        if !self.was_active {
            steps.push(format!("systemctl stop {u}   (it was not running before)"));
        }
        steps
    }
}

/// Only a single path component: `RuntimeDirectory=` values are relative to /run.
fn is_plain_name(name: &str) -> bool {
    !name.is_empty() && name != "." && name != ".." && !name.contains('/')
}

/// Runs the plan once the recorder is attached; records the phases it went through in `phases`
/// and raises `stop` when it is done (after a last pause), so the recording ends with it.
pub fn spawn(
    plan: Plan,
    progress: Arc<Progress>,
    stop: StopFlag,
    phases: Arc<Mutex<Vec<Phase>>>,
    quiet: bool,
) -> std::thread::JoinHandle<()> {
    std::thread::spawn(move || {
        if !super::record::wait_until_recording(&progress, &stop) {
            return;
        }
        let result = run(&plan, &stop, &phases, quiet);
        if let Err(e) = result {
            eprintln!("error: --exercise: {e:#}");
            // Leave the unit as it was found, whatever step failed.
            if plan.was_active {
                let _ = systemd::unit_job("start", &plan.unit);
            }
        }
        stop.raise();
    })
}

fn run(plan: &Plan, stop: &StopFlag, phases: &Mutex<Vec<Phase>>, quiet: bool) -> Result<()> {
    let u = plan.unit.as_str();
    let step = |what: &str| note(quiet, &format!("exercise: {what}"));
    let pause = || -> Result<()> {
        let deadline = std::time::Instant::now() + PAUSE;
        while std::time::Instant::now() < deadline {
            if stop.is_raised() {
                bail!("stopped before the exercise was complete");
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        Ok(())
    };
    let seen = |p: Phase| {
        if let Ok(mut v) = phases.lock() {
            v.push(p);
        }
    };
    step(&format!("systemctl stop {u}"));
    systemd::unit_job("stop", u)?;
    seen(Phase::Stop);
    for path in &plan.cold_paths {
        step(&format!("removing {}", path.display()));
        remove_runtime_state(path)?;
    }
    step(&format!("systemctl start {u} (cold start)"));
    systemd::unit_job("start", u)?;
    seen(Phase::ColdStart);
    seen(Phase::Start);
    pause()?;
    if plan.can_reload {
        step(&format!("systemctl reload {u}"));
        systemd::unit_job("reload", u)?;
        seen(Phase::Reload);
        pause()?;
    }
    step(&format!("systemctl restart {u}"));
    systemd::unit_job("restart", u)?;
    seen(Phase::Restart);
    pause()?;
    step(&format!("systemctl stop {u}"));
    systemd::unit_job("stop", u)?;
    pause()?;
    step(&format!("systemctl start {u}"));
    systemd::unit_job("start", u)?;
    pause()?;
    if !plan.was_active {
        step(&format!("systemctl stop {u} (as it was before)"));
        systemd::unit_job("stop", u)?;
    }
    step("done");
    Ok(())
}

/// Removes a runtime directory or file below /run, never following a symlink out of it.
fn remove_runtime_state(path: &Path) -> Result<()> {
    let Ok(meta) = path.symlink_metadata() else {
        return Ok(()); // already gone
    };
    let under_run = path.starts_with("/run/") || path.starts_with("/var/run/");
    if !under_run {
        bail!("refusing to remove {} (not below /run)", path.display());
    }
    let result = if meta.is_dir() {
        std::fs::remove_dir_all(path)
    } else {
        std::fs::remove_file(path)
    };
    result.map_err(|e| anyhow::anyhow!("cannot remove {}: {e}", path.display()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_names_only() {
        assert!(is_plain_name("nginx"));
        assert!(!is_plain_name("../etc"));
        assert!(!is_plain_name("a/b"));
        assert!(!is_plain_name(".."));
        assert!(!is_plain_name(""));
    }

    #[test]
    fn runtime_state_outside_run_is_never_removed() {
        let tmp = tempfile::tempdir().expect("tempdir");
        let file = tmp.path().join("x");
        std::fs::write(&file, "x").expect("write");
        assert!(remove_runtime_state(&file).is_err());
        assert!(file.exists());
        assert!(remove_runtime_state(Path::new("/run/sysprof-test-does-not-exist")).is_ok());
    }

    #[test]
    fn the_plan_lists_every_step_in_order() {
        let plan = Plan {
            unit: "nginx.service".into(),
            was_active: true,
            can_reload: true,
            cold_paths: vec![PathBuf::from("/run/nginx.pid")],
        };
        let steps = plan.describe();
        assert_eq!(steps.len(), 7, "{steps:?}");
        assert!(steps[1].contains("/run/nginx.pid"));
        assert!(steps[3].contains("reload"));
        assert!(steps[6].starts_with("systemctl start"));
    }
}
