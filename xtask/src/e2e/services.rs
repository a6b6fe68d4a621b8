//! The services under test: how to drive real traffic through each, and what their trace must show.

use super::cmd;
use super::container::Container;
use anyhow::{bail, Context, Result};
use std::time::{Duration, Instant};
use sysprof_core::event::Access;
use sysprof_core::trace::Trace;

/// The page nginx serves during the run (copied into the share directory).
pub const NGINX_PAGE: &str = "tests/e2e/nginx/index.html";
const NGINX_PAGE_IN_SHARE: &str = "nginx-index.html";
const REDIS_KEY: &str = "sysprof:e2e";
const STEP: Duration = Duration::from_secs(20);

/// One evidence check on a trace: what, whether it holds, and what was seen instead.
pub struct Evidence {
    pub what: String,
    pub ok: bool,
    pub seen: String,
}

/// A Debian service driven by the e2e.
pub struct Service {
    pub unit: &'static str,
    /// The unit's main executable: an `execve` of it in the trace proves the restart in the
    /// middle of the recording was followed into the re-created cgroup.
    pub daemon: &'static str,
    /// Files the daemon reads at start-up (only the restart can have read them).
    pub startup_reads: &'static [&'static str],
    /// Puts service data in place before anything is recorded.
    pub prepare: fn(&Container) -> Result<()>,
    /// Real client traffic; `tag` makes each round's data distinct. Ok means the service
    /// answered correctly; the string says what was exercised.
    pub exercise: fn(&Container, &str) -> Result<String>,
    /// Service-specific evidence the traffic must have left in the trace.
    pub evidence: fn(&Trace) -> Vec<Evidence>,
    /// The vendor unit has no sandbox to speak of: the drop-in must lower the exposure. Units
    /// that come hardened (Debian's redis scores 1.1) must at least not get worse.
    pub exposure_must_drop: bool,
    /// The highest exposure the hardened unit may score (issue 5: nginx ≤ 2.5).
    pub exposure_at_most: f64,
    /// `systemctl reload` is part of the unit's life (nginx re-reads its configuration).
    pub reloads: bool,
    /// A shell command that succeeds only when the service answers (`apply --check-cmd`).
    pub health_cmd: &'static str,
    /// Restart through `record --restart` (as soon as the recorder is attached) instead of a
    /// `systemctl restart` between two rounds of traffic.
    pub restart_by_recorder: bool,
    /// The unit sets a seccomp filter of its own: `record` must warn about it.
    pub has_seccomp: bool,
}

pub const SERVICES: &[Service] = &[
    Service {
        unit: "nginx.service",
        daemon: "/usr/sbin/nginx",
        startup_reads: &["/etc/nginx/nginx.conf", "/etc/nginx/mime.types"],
        prepare: nginx_prepare,
        exercise: nginx_exercise,
        evidence: nginx_evidence,
        exposure_must_drop: true,
        exposure_at_most: 2.5,
        reloads: true,
        health_cmd: "curl -fsS --max-time 5 -o /dev/null http://127.0.0.1/",
        restart_by_recorder: false,
        has_seccomp: false,
    },
    Service {
        unit: "redis-server.service",
        daemon: "/usr/bin/redis-server",
        startup_reads: &["/etc/redis/redis.conf"],
        prepare: redis_prepare,
        exercise: redis_exercise,
        evidence: redis_evidence,
        exposure_must_drop: false,
        exposure_at_most: 1.1,
        reloads: false,
        health_cmd: "redis-cli -h 127.0.0.1 PING | grep -qx PONG",
        restart_by_recorder: true,
        has_seccomp: true,
    },
];

/// The share-directory files a run needs besides the binary: (source in the workspace, name).
pub fn share_files() -> &'static [(&'static str, &'static str)] {
    &[(NGINX_PAGE, NGINX_PAGE_IN_SHARE)]
}

fn page() -> Result<String> {
    let path = crate::workspace_root().join(NGINX_PAGE);
    std::fs::read_to_string(&path).with_context(|| format!("cannot read {}", path.display()))
}

fn nginx_prepare(guest: &Container) -> Result<()> {
    let source = format!("{}/{NGINX_PAGE_IN_SHARE}", super::container::SHARE_IN_GUEST);
    guest.exec_ok(
        &["install", "-m", "0644", &source, "/var/www/html/index.html"],
        STEP,
    )?;
    Ok(())
}

/// `curl` from inside the guest: (HTTP status, body).
fn http_get(guest: &Container, url: &str) -> Result<(String, String)> {
    let out = guest.exec_ok(
        &[
            "curl",
            "-sS",
            "--max-time",
            "10",
            "-w",
            "\\n%{http_code}",
            url,
        ],
        STEP,
    )?;
    let (body, code) = out
        .stdout
        .rsplit_once('\n')
        .context("curl printed no status line")?;
    Ok((code.trim().to_owned(), body.to_owned()))
}

fn nginx_exercise(guest: &Container, tag: &str) -> Result<String> {
    let expected = page()?;
    for i in 0..5 {
        let url = if i % 2 == 0 {
            format!("http://127.0.0.1/?round={tag}&n={i}")
        } else {
            format!("http://[::1]/index.html?round={tag}&n={i}")
        };
        let (code, body) = http_get(guest, &url)?;
        if code != "200" {
            bail!("GET {url} gave HTTP {code}, expected 200");
        }
        if body != expected {
            bail!(
                "GET {url} gave a body of {} bytes that is not the test page",
                body.len()
            );
        }
    }
    let missing = format!("http://127.0.0.1/sysprof-e2e-missing-{tag}");
    let (code, _) = http_get(guest, &missing)?;
    if code != "404" {
        bail!("GET {missing} gave HTTP {code}, expected 404");
    }
    Ok("5 x GET / → 200 with the test page, 1 x GET of a missing page → 404".to_owned())
}

fn has_file(trace: &Trace, path: &str, access: Access) -> bool {
    trace
        .files
        .iter()
        .any(|f| f.path == path && f.access == access && f.ok())
}

fn files_matching(trace: &Trace, prefix: &str) -> String {
    let seen: Vec<String> = trace
        .files
        .iter()
        .filter(|f| f.path.starts_with(prefix))
        .map(|f| format!("{} {} {}", f.access, f.path, f.result))
        .collect();
    if seen.is_empty() {
        format!("nothing under {prefix}")
    } else {
        seen.join(", ")
    }
}

fn nginx_evidence(trace: &Trace) -> Vec<Evidence> {
    vec![Evidence {
        what: "traffic recorded: a worker read /var/www/html/index.html".to_owned(),
        ok: has_file(trace, "/var/www/html/index.html", Access::Read),
        seen: files_matching(trace, "/var/www/"),
    }]
}

fn redis_prepare(_guest: &Container) -> Result<()> {
    Ok(())
}

fn redis_cli(guest: &Container, args: &[&str]) -> Result<String> {
    let mut argv = vec!["redis-cli", "-h", "127.0.0.1", "-p", "6379"];
    argv.extend_from_slice(args);
    let out = guest.exec_ok(&argv, STEP)?;
    Ok(out.stdout.trim().to_owned())
}

fn info_field(info: &str, key: &str) -> Option<String> {
    info.lines()
        .find_map(|l| l.trim().strip_prefix(key)?.strip_prefix(':'))
        .map(|v| v.trim().to_owned())
}

fn redis_exercise(guest: &Container, tag: &str) -> Result<String> {
    let pong = redis_cli(guest, &["PING"])?;
    if pong != "PONG" {
        bail!("PING answered {pong:?}, expected PONG");
    }
    let value = format!("value-{tag}");
    let set = redis_cli(guest, &["SET", REDIS_KEY, &value])?;
    if set != "OK" {
        bail!("SET answered {set:?}, expected OK");
    }
    let got = redis_cli(guest, &["GET", REDIS_KEY])?;
    if got != value {
        bail!("GET answered {got:?}, expected {value:?}");
    }
    let started = redis_cli(guest, &["BGSAVE"])?;
    if !started.starts_with("Background saving started") {
        bail!("BGSAVE answered {started:?}");
    }
    let deadline = Instant::now() + STEP;
    loop {
        let info = redis_cli(guest, &["INFO", "persistence"])?;
        if info_field(&info, "rdb_bgsave_in_progress").as_deref() == Some("0") {
            let status = info_field(&info, "rdb_last_bgsave_status").unwrap_or_default();
            let changes = info_field(&info, "rdb_changes_since_last_save").unwrap_or_default();
            if status != "ok" {
                bail!("BGSAVE failed: rdb_last_bgsave_status:{status}");
            }
            if changes != "0" {
                bail!("BGSAVE finished but rdb_changes_since_last_save is {changes}");
            }
            break;
        }
        if Instant::now() >= deadline {
            bail!("BGSAVE still in progress after {}s", STEP.as_secs());
        }
        cmd::sleep(Duration::from_millis(100))?;
    }
    Ok("PING → PONG, SET/GET round trip, BGSAVE → rdb_last_bgsave_status:ok".to_owned())
}

fn redis_evidence(trace: &Trace) -> Vec<Evidence> {
    let wrote_state = trace
        .files
        .iter()
        .any(|f| f.path.starts_with("/var/lib/redis/") && f.access.is_write() && f.ok());
    vec![Evidence {
        what: "BGSAVE recorded: a write below /var/lib/redis/".to_owned(),
        ok: wrote_state,
        seen: files_matching(trace, "/var/lib/redis"),
    }]
}
