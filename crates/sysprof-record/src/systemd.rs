//! The local systemd, through its own tools: version, syscall groups, unit files and state,
//! reloads and restarts, the journal, and `systemd-analyze security`.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// A systemd tool that could not be run or failed.
#[derive(Debug, thiserror::Error)]
pub enum SystemdError {
    #[error("cannot run {tool}: {source}")]
    Spawn {
        tool: String,
        #[source]
        source: std::io::Error,
    },
    #[error("{command} failed: {stderr}")]
    Failed { command: String, stderr: String },
}

fn run(tool: &str, args: &[&str]) -> Result<Output, SystemdError> {
    let out = Command::new(tool)
        .args(args)
        .env("SYSTEMD_COLORS", "0")
        .env("SYSTEMD_PAGER", "")
        .output()
        .map_err(|source| SystemdError::Spawn {
            tool: tool.to_owned(),
            source,
        })?;
    if out.status.success() {
        Ok(out)
    } else {
        let stderr = String::from_utf8_lossy(&out.stderr);
        Err(SystemdError::Failed {
            command: format!("{tool} {}", args.join(" ")),
            stderr: stderr
                .lines()
                .next()
                .unwrap_or("(no message)")
                .trim()
                .to_owned(),
        })
    }
}

/// True when systemd is the running service manager (`sd_booted()`'s test).
pub fn is_running() -> bool {
    Path::new("/run/systemd/system").is_dir()
}

/// `systemctl show -p P1,P2… UNIT` as a map (properties systemd does not know are absent).
pub fn show(unit: &str, properties: &[&str]) -> Result<HashMap<String, String>, SystemdError> {
    let props = properties.join(",");
    let out = run("systemctl", &["show", "-p", &props, "--", unit])?;
    Ok(String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter_map(|l| l.split_once('='))
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect())
}

/// The unit file and its drop-ins, in the order systemd applies them.
pub fn unit_files(unit: &str) -> Result<Vec<PathBuf>, SystemdError> {
    let props = show(unit, &["FragmentPath", "DropInPaths", "LoadState"])?;
    if props.get("LoadState").is_some_and(|s| s == "not-found") {
        return Err(SystemdError::Failed {
            command: format!("systemctl show {unit}"),
            stderr: format!("unit {unit} not found"),
        });
    }
    let mut files: Vec<PathBuf> = props
        .get("FragmentPath")
        .filter(|p| !p.is_empty())
        .map(PathBuf::from)
        .into_iter()
        .collect();
    files.extend(
        props
            .get("DropInPaths")
            .map(|p| p.split_whitespace().map(PathBuf::from).collect::<Vec<_>>())
            .unwrap_or_default(),
    );
    Ok(files)
}

/// `systemctl daemon-reload`.
pub fn daemon_reload() -> Result<(), SystemdError> {
    run("systemctl", &["daemon-reload"]).map(drop)
}

/// `systemctl restart UNIT` (waits for the start job).
pub fn restart(unit: &str) -> Result<(), SystemdError> {
    run("systemctl", &["restart", "--", unit]).map(drop)
}

/// `systemctl VERB UNIT` for `start`, `stop` and `reload` (each waits for its job).
pub fn unit_job(verb: &str, unit: &str) -> Result<(), SystemdError> {
    run("systemctl", &[verb, "--", unit]).map(drop)
}

/// When the unit's life last changed: main process start, entering inactive, and the last run
/// of `ExecReload=` (from its `start_time=[…]`). Two snapshots tell which phases happened
/// between them.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LifeSnapshot {
    pub started: String,
    pub stopped: String,
    pub reloaded: String,
}

/// The unit's [`LifeSnapshot`] now.
pub fn life_snapshot(unit: &str) -> Result<LifeSnapshot, SystemdError> {
    let p = show(
        unit,
        &[
            "ExecMainStartTimestampMonotonic",
            "InactiveEnterTimestampMonotonic",
            "ExecReload",
        ],
    )?;
    let get = |k: &str| p.get(k).cloned().unwrap_or_default();
    Ok(LifeSnapshot {
        started: get("ExecMainStartTimestampMonotonic"),
        stopped: get("InactiveEnterTimestampMonotonic"),
        reloaded: last_start_times(&get("ExecReload")),
    })
}

/// The `start_time=[…]` fields of an `Exec*=` property as `systemctl show` prints it.
fn last_start_times(value: &str) -> String {
    value
        .split("start_time=[")
        .skip(1)
        .filter_map(|rest| rest.split(']').next())
        .collect::<Vec<_>>()
        .join(",")
}

/// The unit's journal lines since `since` (seconds since the epoch), message text only.
pub fn journal_since(unit: &str, since: u64) -> Vec<String> {
    let since = format!("@{since}");
    run(
        "journalctl",
        &["--no-pager", "-o", "cat", "-u", unit, "--since", &since],
    )
    .map(|out| {
        String::from_utf8_lossy(&out.stdout)
            .lines()
            .map(str::to_owned)
            .collect()
    })
    .unwrap_or_default()
}

/// The "Overall exposure level" number of `systemd-analyze security` output.
pub fn parse_exposure(text: &str) -> Option<f64> {
    let line = text
        .lines()
        .find(|l| l.contains("Overall exposure level"))?;
    line.split(':')
        .nth(1)?
        .split_whitespace()
        .next()?
        .parse()
        .ok()
}

/// `systemd-analyze security UNIT` against the running manager.
pub fn exposure_online(unit: &str) -> Option<f64> {
    let out = run("systemd-analyze", &["security", "--no-pager", "--", unit]).ok()?;
    parse_exposure(&String::from_utf8_lossy(&out.stdout))
}

/// `systemd-analyze security --offline=yes` of a unit file in `dir` (with its drop-ins in
/// `dir/UNIT.d/`).
pub fn exposure_offline(dir: &Path, unit: &str) -> Option<f64> {
    let out = Command::new("systemd-analyze")
        .args(["security", "--offline=yes", "--no-pager"])
        .arg(format!("./{unit}"))
        .current_dir(dir)
        .env("SYSTEMD_COLORS", "0")
        .output()
        .ok()?;
    parse_exposure(&String::from_utf8_lossy(&out.stdout))
}

/// The major version of the local systemd (`systemctl --version`), if systemctl runs.
pub fn local_version() -> Option<u32> {
    let out = Command::new("systemctl")
        .arg("--version")
        .env("SYSTEMD_COLORS", "0")
        .output()
        .ok()?;
    if !out.status.success() {
        return None;
    }
    parse_version(&String::from_utf8_lossy(&out.stdout))
}

/// Parses the first line of `systemctl --version` (`systemd 252 (252.38-1~deb12u1)`).
pub fn parse_version(text: &str) -> Option<u32> {
    let first = text.lines().next()?;
    let mut words = first.split_whitespace();
    if words.next()? != "systemd" {
        return None;
    }
    words.next()?.parse().ok()
}

/// The output of the local `systemd-analyze syscall-filter`, colours off.
pub fn local_syscall_filter() -> Option<String> {
    let out = Command::new("systemd-analyze")
        .args(["syscall-filter", "--no-pager"])
        .env("SYSTEMD_COLORS", "0")
        .output()
        .ok()?;
    out.status
        .success()
        .then(|| String::from_utf8_lossy(&out.stdout).into_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_exec_start_times() {
        let v = "{ path=/bin/kill ; argv[]=/bin/kill -HUP $MAINPID ; ignore_errors=no ; \
                 start_time=[Mon 2026-11-23 12:00:01 UTC] ; stop_time=[Mon 2026-11-23 12:00:01 UTC] ; \
                 pid=77 ; code=exited ; status=0 }";
        assert_eq!(last_start_times(v), "Mon 2026-11-23 12:00:01 UTC");
        assert_eq!(
            last_start_times("{ path=/bin/kill ; start_time=[n/a] }"),
            "n/a"
        );
        assert_eq!(last_start_times(""), "");
    }

    #[test]
    fn parses_exposure_lines() {
        let text = "  NAME  DESCRIPTION  EXPOSURE\n→ Overall exposure level for x.service: 9.6 UNSAFE 😨\n";
        assert_eq!(parse_exposure(text), Some(9.6));
        assert_eq!(parse_exposure("nothing"), None);
    }

    #[test]
    fn parses_version_lines() {
        assert_eq!(
            parse_version("systemd 252 (252.38-1~deb12u1)\n+PAM"),
            Some(252)
        );
        assert_eq!(parse_version("systemd 256.5\n"), None);
        assert_eq!(parse_version("something else"), None);
        assert_eq!(parse_version(""), None);
    }
}
