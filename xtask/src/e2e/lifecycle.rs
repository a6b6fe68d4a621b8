//! Policies across the whole service life (issue 6): a cold start after a reboot must work.
//!
//! For nginx (which creates and chowns `/var/lib/nginx/*` when they are missing) and a probe
//! service that, like apache2's `apachectl`, creates and chowns a directory under /run on every
//! start: a policy recorded on a warm machine is applied at a simulated reboot and must be
//! caught by `apply`'s health check and rolled back; then `record --exercise` (which drives the
//! unit through a cold start, reload, restart and stop) gives a policy that survives the reboot
//! and a reload.

use super::cmd;
use super::container::{Container, SHARE_IN_GUEST};
use super::scenario::Outcome;
use super::services;
use anyhow::{Context, Result};
use std::fs;
use std::path::Path;
use std::time::{Duration, Instant};
use sysprof_core::event::Access;
use sysprof_core::trace::{Phase, Trace};

const STEP: Duration = Duration::from_secs(30);
const LONG: Duration = Duration::from_secs(120);

/// The probe unit: like `apachectl`, its start creates a directory under /run and hands it to
/// the service user; a reload (SIGHUP) writes into it.
const PROBE_UNIT: &str = "[Unit]
Description=sysprof probe: creates and chowns a runtime directory on every start

[Service]
ExecStartPre=/bin/sh -c 'mkdir -p /run/probe-apachectl && chown nobody:nogroup /run/probe-apachectl && mktemp -d /run/probe-apachectl/socks.XXXXXX'
ExecStart=/bin/sh -c 'trap \"date > /run/probe-apachectl/reloaded\" HUP; while :; do sleep 1 & wait; done'
ExecReload=/bin/kill -HUP $MAINPID

[Install]
WantedBy=multi-user.target
";

/// A unit under the lifecycle test.
struct Subject {
    unit: &'static str,
    /// What a reboot (or a fresh machine) leaves missing; removed with the unit stopped.
    cold_paths: &'static [&'static str],
    /// Record the warm policy with `--restart` (start-up seen, state already there).
    warm_restart: bool,
    health_cmd: &'static str,
    /// A path the exercise's cold start must have created (and so recorded).
    created_at_cold_start: &'static str,
    /// Checks that the service does its job.
    works: fn(&Container) -> Result<String>,
}

const SUBJECTS: [Subject; 2] = [
    Subject {
        unit: "nginx.service",
        cold_paths: &[
            "/var/lib/nginx/body",
            "/var/lib/nginx/proxy",
            "/var/lib/nginx/fastcgi",
            "/var/lib/nginx/uwsgi",
            "/var/lib/nginx/scgi",
            "/run/nginx.pid",
        ],
        warm_restart: true,
        health_cmd: "curl -fsS --max-time 5 -o /dev/null http://127.0.0.1/",
        created_at_cold_start: "/var/lib/nginx/body",
        works: nginx_works,
    },
    Subject {
        unit: "probe-apachectl.service",
        cold_paths: &["/run/probe-apachectl"],
        warm_restart: false,
        health_cmd: "test -d /run/probe-apachectl",
        created_at_cold_start: "/run/probe-apachectl",
        works: probe_works,
    },
];

fn nginx_works(guest: &Container) -> Result<String> {
    (services::SERVICES[0].exercise)(guest, "lifecycle")
}

fn probe_works(guest: &Container) -> Result<String> {
    let state = guest.is_active("probe-apachectl.service")?;
    let listed = guest.exec_ok(&["ls", "-ld", "/run/probe-apachectl"], STEP)?;
    if state != "active" || !listed.stdout.contains("nobody") {
        anyhow::bail!("{state}; {}", listed.stdout.trim());
    }
    Ok("active, /run/probe-apachectl owned by nobody".to_owned())
}

/// Runs the lifecycle test for both subjects.
pub fn run(guest: &Container, share: &Path, selected: &[&str]) -> Result<Vec<Outcome>> {
    let mut outcomes = Vec::new();
    let selected: Vec<&str> = selected.to_vec();
    fs::write(share.join("probe-apachectl.service"), PROBE_UNIT)
        .context("cannot write the probe unit")?;
    for subject in &SUBJECTS {
        if !selected.is_empty() && !selected.contains(&subject.unit) {
            continue;
        }
        let started = Instant::now();
        let mut outcome = Outcome::new(subject.unit);
        eprintln!("==> lifecycle: {}", subject.unit);
        let result = steps(subject, guest, share, &mut outcome);
        outcome.elapsed = started.elapsed();
        match result {
            Err(e) if cmd::interrupted() => return Err(e),
            Err(e) => {
                outcome.check(false, "lifecycle scenario aborted", format!("{e:#}"));
                guest.save_journal(share, subject.unit);
            }
            Ok(()) => {}
        }
        outcomes.push(outcome);
    }
    Ok(outcomes)
}

fn sysprof() -> String {
    format!("{SHARE_IN_GUEST}/sysprof")
}

/// Stops the unit and removes what a reboot (or a fresh machine) would not have.
fn simulate_reboot(guest: &Container, subject: &Subject) -> Result<()> {
    guest.exec_ok(&["systemctl", "stop", subject.unit], STEP)?;
    let mut argv = vec!["rm", "-rf"];
    argv.extend_from_slice(subject.cold_paths);
    guest.exec_ok(&argv, STEP)?;
    Ok(())
}

/// The newest recording of the unit, copied to the share and read.
fn newest_recording(guest: &Container, share: &Path, unit: &str, tag: &str) -> Result<Trace> {
    let dir = format!("/var/lib/sysprof/units/{unit}/recordings");
    let listed = guest.exec_ok(&["ls", &dir], STEP)?;
    let newest = listed
        .stdout
        .split_whitespace()
        .filter(|n| n.ends_with(".json"))
        .max()
        .context("no recording")?
        .to_owned();
    let name = format!("{unit}.{tag}.json");
    guest.exec_ok(
        &[
            "cp",
            &format!("{dir}/{newest}"),
            &format!("{SHARE_IN_GUEST}/{name}"),
        ],
        STEP,
    )?;
    let bytes = fs::read(share.join(&name)).context("cannot read the recording")?;
    Trace::from_slice(&bytes).map_err(|e| anyhow::anyhow!("{name}: {e}"))
}

fn apply(guest: &Container, subject: &Subject) -> Result<cmd::Output> {
    let out = guest.exec(
        &[
            &sysprof(),
            "apply",
            "--unit",
            subject.unit,
            "--settle",
            "3s",
            "--check-cmd",
            subject.health_cmd,
        ],
        LONG,
    )?;
    for line in out.stderr.lines().filter(|l| !l.starts_with("  ")) {
        eprintln!("      apply: {line}");
    }
    Ok(out)
}

fn steps(subject: &Subject, guest: &Container, share: &Path, outcome: &mut Outcome) -> Result<()> {
    let unit = subject.unit;
    if unit == "probe-apachectl.service" {
        guest.exec_ok(
            &[
                "cp",
                &format!("{SHARE_IN_GUEST}/probe-apachectl.service"),
                "/etc/systemd/system/",
            ],
            STEP,
        )?;
        guest.exec_ok(&["systemctl", "daemon-reload"], STEP)?;
        guest.exec_ok(&["systemctl", "restart", unit], STEP)?;
    }
    // nginx keeps the recordings its service scenario made under traffic: policies come from
    // all of a unit's recordings, and the warm ones alone must fail the cold start.
    let works = (subject.works)(guest);
    outcome.check(
        works.is_ok(),
        format!("{unit} works before anything is recorded"),
        works.err().map(|e| format!("{e:#}")).unwrap_or_default(),
    );

    // 1. A warm recording: the state a first start creates is already there.
    let mut argv = vec![
        sysprof(),
        "record".into(),
        "--backend".into(),
        "ebpf".into(),
    ];
    argv.extend([
        "--unit".into(),
        unit.into(),
        "--duration".into(),
        "6s".into(),
    ]);
    if subject.warm_restart {
        argv.push("--restart".into());
    }
    let argv: Vec<&str> = argv.iter().map(String::as_str).collect();
    let record = guest.exec(&argv, LONG)?;
    outcome.check(
        record.ok(),
        format!("warm recording: {}", argv[1..].join(" ")),
        record.summary(),
    );
    let warm = newest_recording(guest, share, unit, "warm")?;
    outcome.check(
        !warm.meta.lifecycle.phases.contains(&Phase::ColdStart),
        "the warm recording saw no cold start",
        format!("{:?}", warm.meta.lifecycle.phases),
    );

    // 2. Its policy, applied at the next boot, must fail the health check and be rolled back.
    simulate_reboot(guest, subject)?;
    let applied = apply(guest, subject)?;
    outcome.check(
        applied.status.code() == Some(1) && applied.stderr.contains("rolled back:"),
        "a warm-only policy applied at a reboot: the cold start fails the health check and is rolled back (exit 1)",
        applied.summary(),
    );
    let why: Vec<&str> = applied
        .stderr
        .lines()
        .filter(|l| l.starts_with("  | "))
        .collect();
    outcome.check(
        !why.is_empty(),
        format!("apply showed why: {}", why.first().copied().unwrap_or("")),
        applied.stderr.trim(),
    );
    let state = guest.is_active(unit)?;
    outcome.check(
        state == "active",
        format!("{unit} active again after the rollback"),
        &state,
    );

    // 3. The exercise: a fresh machine's first start is part of the recording.
    let mut argv = vec!["rm", "-rf"];
    argv.extend(
        subject
            .cold_paths
            .iter()
            .filter(|p| !p.starts_with("/run/")),
    );
    if argv.len() > 2 {
        guest.exec_ok(&argv, STEP)?;
    }
    let exercise = guest.exec(
        &[
            &sysprof(),
            "record",
            "--backend",
            "ebpf",
            "--unit",
            unit,
            "--exercise",
        ],
        LONG,
    )?;
    for line in exercise.stderr.lines() {
        eprintln!("      record: {line}");
    }
    outcome.check(
        exercise.ok(),
        format!("sysprof record --unit {unit} --exercise"),
        exercise.summary(),
    );
    outcome.check(
        exercise.stderr.contains("sysprof will exercise") && exercise.stderr.contains("cold start"),
        "the exercise printed its steps before running them",
        exercise.stderr.trim(),
    );
    let trace = newest_recording(guest, share, unit, "exercise")?;
    outcome.syscalls = Some(trace.syscalls.len());
    let phases = &trace.meta.lifecycle.phases;
    let wanted = [
        Phase::Start,
        Phase::ColdStart,
        Phase::Reload,
        Phase::Restart,
        Phase::Stop,
    ];
    outcome.check(
        wanted.iter().all(|p| phases.contains(p)),
        "the trace records start, cold start, reload, restart and stop",
        format!("{phases:?}"),
    );
    outcome.check(
        trace.meta.lifecycle.signals.contains("SIGHUP"),
        "the reload's SIGHUP is in the trace",
        format!("{:?}", trace.meta.lifecycle.signals),
    );
    let created = trace
        .files
        .iter()
        .any(|f| f.path == subject.created_at_cold_start && f.access == Access::Create && f.ok());
    let chowned = trace.syscalls.iter().any(|s| s.name.contains("chown"));
    outcome.check(
        created && chowned,
        format!(
            "the cold start created {} and chowned it",
            subject.created_at_cold_start
        ),
        format!("created: {created}, a chown syscall: {chowned}"),
    );

    // 4. The policy from both recordings survives a reboot and a reload.
    let applied = apply(guest, subject)?;
    outcome.check(
        applied.ok(),
        format!("sysprof apply --unit {unit} with the exercised recording"),
        applied.summary(),
    );
    simulate_reboot(guest, subject)?;
    let start = guest.exec(&["systemctl", "start", unit], LONG)?;
    let works = (subject.works)(guest);
    outcome.works_after = Some(start.ok() && works.is_ok());
    outcome.check(
        start.ok() && works.is_ok(),
        format!(
            "after a simulated reboot ({} removed) {unit} starts and works",
            subject.cold_paths.join(" ")
        ),
        format!(
            "{}; {}",
            start.summary(),
            works.err().map(|e| format!("{e:#}")).unwrap_or_default()
        ),
    );
    let reload = guest.exec(&["systemctl", "reload", unit], LONG)?;
    let works = (subject.works)(guest);
    outcome.check(
        reload.ok() && works.is_ok(),
        format!("{unit} survives systemctl reload with the policy"),
        format!(
            "{}; {}",
            reload.summary(),
            works.err().map(|e| format!("{e:#}")).unwrap_or_default()
        ),
    );
    let dropins = guest.property(unit, "DropInPaths")?;
    outcome.check(
        dropins.contains("50-sysprof.conf"),
        "the drop-in is in force",
        &dropins,
    );
    let revert = guest.exec(&[&sysprof(), "revert", "--unit", unit], LONG)?;
    outcome.check(
        revert.ok(),
        format!("sysprof revert --unit {unit}"),
        revert.summary(),
    );
    Ok(())
}
