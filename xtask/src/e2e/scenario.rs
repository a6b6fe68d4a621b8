//! One service end to end: record with traffic and a restart, harden, prove it still works.

use super::cmd;
use super::container::{Container, SHARE_IN_GUEST};
use super::leaks::BpfIds;
use super::recorder::Recording;
use super::services::Service;
use anyhow::{bail, Context, Result};
use std::fs;
use std::path::Path;
use std::time::{Duration, Instant};
use sysprof_core::event::Access;
use sysprof_core::trace::{Backend, Trace};

const STEP: Duration = Duration::from_secs(30);
const RESTART: Duration = Duration::from_secs(90);

/// A check's result, printed as it happens.
pub struct Check {
    pub what: String,
    pub ok: bool,
}

/// What one service's run measured.
pub struct Outcome {
    pub unit: &'static str,
    pub checks: Vec<Check>,
    pub syscalls: Option<usize>,
    pub exposure_before: Option<String>,
    pub exposure_after: Option<String>,
    pub works_after: Option<bool>,
    pub recording: Option<Duration>,
    /// Every BPF object the recorder held while it ran (none may outlive it).
    pub recorder_bpf: BpfIds,
    pub elapsed: Duration,
    pub(super) journal_saved: bool,
}

impl Outcome {
    /// An outcome with nothing measured yet.
    pub fn new(unit: &'static str) -> Outcome {
        Outcome {
            unit,
            checks: Vec::new(),
            syscalls: None,
            exposure_before: None,
            exposure_after: None,
            works_after: None,
            recording: None,
            recorder_bpf: BpfIds::default(),
            elapsed: Duration::ZERO,
            journal_saved: false,
        }
    }

    pub fn passed(&self) -> bool {
        !self.checks.is_empty() && self.checks.iter().all(|c| c.ok)
    }

    pub(super) fn check(
        &mut self,
        ok: bool,
        what: impl Into<String>,
        detail: impl AsRef<str>,
    ) -> bool {
        report(&mut self.checks, ok, what, detail)
    }
}

/// Prints a check as it happens (`ok` or `FAIL` with the detail) and records it.
pub fn report(
    checks: &mut Vec<Check>,
    ok: bool,
    what: impl Into<String>,
    detail: impl AsRef<str>,
) -> bool {
    let what = what.into();
    if ok {
        eprintln!("    ok    {what}");
    } else {
        eprintln!("    FAIL  {what}: {}", detail.as_ref());
    }
    checks.push(Check { what, ok });
    ok
}

/// Runs the whole scenario for `service`. Failed steps become failed checks; the only error
/// returned is an interruption (the caller then tears down).
pub fn run(
    service: &Service,
    guest: &Container,
    share: &Path,
    duration: Duration,
) -> Result<Outcome> {
    let started = Instant::now();
    let mut outcome = Outcome::new(service.unit);
    eprintln!("==> {}", service.unit);
    let result = steps(service, guest, share, duration, &mut outcome);
    outcome.elapsed = started.elapsed();
    match result {
        Err(e) if cmd::interrupted() => Err(e),
        Err(e) => {
            outcome.check(false, "scenario aborted", format!("{e:#}"));
            if !outcome.journal_saved {
                guest.save_journal(share, service.unit);
            }
            Ok(outcome)
        }
        Ok(()) => Ok(outcome),
    }
}

/// `systemd-analyze security UNIT`: the overall exposure ("9.6 UNSAFE"), full text saved.
fn exposure(guest: &Container, share: &Path, unit: &str, when: &str) -> Result<String> {
    let out = guest.exec_ok(&["systemd-analyze", "security", "--no-pager", unit], STEP)?;
    let file = share.join(format!("{unit}.security-{when}.txt"));
    fs::write(&file, &out.stdout).with_context(|| format!("cannot write {}", file.display()))?;
    overall_exposure(&out.stdout).context("systemd-analyze security printed no overall exposure")
}

/// "9.6 UNSAFE" from the last line of `systemd-analyze security UNIT`.
fn overall_exposure(report: &str) -> Option<String> {
    let line = report
        .lines()
        .find_map(|l| l.split_once("Overall exposure level for ").map(|x| x.1))?;
    let (_, score) = line.split_once(": ")?;
    Some(
        score
            .split_whitespace()
            .take(2)
            .collect::<Vec<_>>()
            .join(" "),
    )
}

fn exposure_value(text: &str) -> Option<f64> {
    text.split_whitespace().next()?.parse().ok()
}

/// Waits (up to a minute) until the unit runs with a main process other than `old` and is
/// active again; returns the new one.
fn wait_new_main_pid(guest: &Container, unit: &str, old: &str) -> Result<Option<String>> {
    let deadline = Instant::now() + Duration::from_secs(60);
    while Instant::now() < deadline {
        cmd::check_interrupt()?;
        let pid = guest.property(unit, "MainPID")?;
        if pid != old && pid != "0" && !pid.is_empty() && guest.is_active(unit)? == "active" {
            return Ok(Some(pid));
        }
        cmd::sleep(Duration::from_millis(100))?;
    }
    Ok(None)
}

/// (Seccomp, Seccomp_filters) of a guest process, from the guest's /proc.
fn seccomp(guest: &Container, pid: &str) -> Result<(String, u32)> {
    let out = guest.exec_ok(&["cat", &format!("/proc/{pid}/status")], STEP)?;
    let field = |key: &str| {
        out.stdout
            .lines()
            .find_map(|l| l.strip_prefix(key))
            .map(|v| v.trim().to_owned())
            .unwrap_or_default()
    };
    Ok((
        field("Seccomp:"),
        field("Seccomp_filters:").parse().unwrap_or(0),
    ))
}

fn steps(
    service: &Service,
    guest: &Container,
    share: &Path,
    duration: Duration,
    outcome: &mut Outcome,
) -> Result<()> {
    let unit = service.unit;
    (service.prepare)(guest)?;
    let state = guest.is_active(unit)?;
    if !outcome.check(
        state == "active",
        format!("{unit} is active after boot"),
        &state,
    ) {
        bail!("{unit} did not start at boot");
    }
    let filter_before = guest.property(unit, "SystemCallFilter")?;
    let caps_before = guest.property(unit, "CapabilityBoundingSet")?;
    let main_before = guest.property(unit, "MainPID")?;
    let (_, filters_before) = seccomp(guest, &main_before)?;
    let exposure_before = exposure(guest, share, unit, "before")?;
    eprintln!("    exposure before: {exposure_before}");
    outcome.exposure_before = Some(exposure_before.clone());

    // Record with traffic, a restart and (where the unit has one) a reload in the middle, into
    // the unit's recordings in the guest's state directory, as an operator would.
    let trace_in_guest = format!("{SHARE_IN_GUEST}/{unit}.json");
    let trace_on_host = share.join(format!("{unit}.json"));
    let _ = fs::remove_file(&trace_on_host);
    let recordings = format!("/var/lib/sysprof/units/{unit}/recordings");
    guest.exec_ok(
        &["rm", "-rf", &format!("/var/lib/sysprof/units/{unit}")],
        STEP,
    )?;
    let log_path = share.join(format!("{unit}.record.log"));
    let sysprof = format!("{SHARE_IN_GUEST}/sysprof");
    let extra: &[&str] = if service.restart_by_recorder {
        &["--restart"]
    } else {
        &[]
    };
    eprintln!(
        "    {sysprof} record --backend ebpf --unit {unit} --duration {}s {}",
        duration.as_secs(),
        extra.join(" ")
    );
    let mut recording = Recording::spawn(guest, &sysprof, unit, duration, None, extra, &log_path)?;
    recording.wait_attached()?;
    outcome.recorder_bpf.extend(recording.held());
    let held = recording.held();
    eprintln!(
        "    recorder {} attached after {:.1}s ({} BPF programs, {} links, {} maps)",
        recording.pid().unwrap_or(0),
        recording.attached_after().unwrap_or_default().as_secs_f64(),
        held.progs.len(),
        held.links.len(),
        held.maps.len()
    );
    if service.restart_by_recorder {
        let restarted = wait_new_main_pid(guest, unit, &main_before)?;
        outcome.check(
            restarted.is_some(),
            format!("record --restart restarted {unit} once attached"),
            format!("MainPID still {main_before}"),
        );
    } else {
        let before = (service.exercise)(guest, "before-restart");
        outcome.check(
            before.is_ok(),
            "traffic before the restart",
            before
                .as_ref()
                .err()
                .map(|e| format!("{e:#}"))
                .unwrap_or_default(),
        );
        let restart = guest.exec(&["systemctl", "restart", unit], RESTART)?;
        outcome.check(
            restart.ok(),
            format!("systemctl restart {unit} while recording"),
            restart.summary(),
        );
    }
    let after = (service.exercise)(guest, "after-restart");
    outcome.check(
        after.is_ok(),
        "traffic after the restart",
        after
            .as_ref()
            .err()
            .map(|e| format!("{e:#}"))
            .unwrap_or_default(),
    );
    if service.reloads {
        let reload = guest.exec(&["systemctl", "reload", unit], RESTART)?;
        outcome.check(
            reload.ok(),
            format!("systemctl reload {unit} while recording"),
            reload.summary(),
        );
        let after = (service.exercise)(guest, "after-reload");
        outcome.check(
            after.is_ok(),
            "traffic after the reload",
            after
                .as_ref()
                .err()
                .map(|e| format!("{e:#}"))
                .unwrap_or_default(),
        );
    }
    let finished = recording.wait(duration + STEP * 2)?;
    outcome.recorder_bpf.extend(&finished.held);
    let status = finished.status;
    let recording = finished.elapsed;
    outcome.recording = Some(recording);
    let record_log = fs::read_to_string(&log_path).unwrap_or_default();
    for line in record_log.lines() {
        eprintln!("      | {line}");
    }
    if !outcome.check(
        status.success(),
        format!(
            "sysprof record exited 0 after {:.1}s",
            recording.as_secs_f64()
        ),
        format!("{status}"),
    ) {
        bail!("no trace");
    }
    // (Every guest process runs under nspawn's own filter, so only the warning's presence for a
    // unit with a filter of its own is checked, not its absence for the others.)
    if service.has_seccomp {
        outcome.check(
            record_log.contains("runs under a seccomp filter"),
            "record warned that the unit already runs under a seccomp filter",
            record_log.trim(),
        );
    }

    // The recording went to the unit's recordings; a copy on the share is checked here.
    let listed = guest.exec_ok(&["ls", &recordings], STEP)?;
    let files: Vec<&str> = listed.stdout.split_whitespace().collect();
    if !outcome.check(
        files.len() == 1 && files[0].ends_with(".json"),
        format!("the recording is in {recordings}/"),
        format!("found {files:?}"),
    ) {
        bail!("no trace");
    }
    guest.exec_ok(
        &["cp", &format!("{recordings}/{}", files[0]), &trace_in_guest],
        STEP,
    )?;

    // What the trace must show.
    let bytes = fs::read(&trace_on_host)
        .with_context(|| format!("cannot read {}", trace_on_host.display()))?;
    let trace = Trace::from_slice(&bytes)
        .map_err(|e| anyhow::anyhow!("{}: {e}", trace_on_host.display()))?;
    outcome.syscalls = Some(trace.syscalls.len());
    eprintln!(
        "    trace: {} syscalls, {} capabilities, {} files, {} execs, {} sockets ({} → {})",
        trace.syscalls.len(),
        trace.capabilities.len(),
        trace.files.len(),
        trace.execs.len(),
        trace.sockets.len(),
        trace.meta.start.as_deref().unwrap_or("?"),
        trace.meta.end.as_deref().unwrap_or("?"),
    );
    outcome.check(
        trace.meta.backends.contains(&Backend::Ebpf),
        "recorded by the eBPF backend",
        format!("{:?}", trace.meta.backends),
    );
    outcome.check(
        trace.meta.integrity.events_lost == 0,
        "no events lost",
        format!("{} lost", trace.meta.integrity.events_lost),
    );
    // The trace holds the executed file, which may be the target of a symlink
    // (Debian's /usr/bin/redis-server → redis-check-rdb).
    let resolved = guest.exec_ok(&["readlink", "-f", service.daemon], STEP)?;
    let resolved = resolved.stdout.trim();
    let execs: Vec<&str> = trace.execs.iter().map(|e| e.path.as_str()).collect();
    let daemon = if resolved == service.daemon {
        service.daemon.to_owned()
    } else {
        format!("{} (= {resolved})", service.daemon)
    };
    outcome.check(
        execs.contains(&service.daemon) || execs.contains(&resolved),
        format!("restart followed into the re-created cgroup: execve of {daemon}"),
        format!("execs seen: {execs:?}"),
    );
    for path in service.startup_reads {
        let read = trace
            .files
            .iter()
            .any(|f| f.path == *path && f.access == Access::Read && f.ok());
        outcome.check(
            read,
            format!("start-up after the restart read {path}"),
            "not in the trace",
        );
    }
    for evidence in (service.evidence)(&trace) {
        outcome.check(evidence.ok, evidence.what, evidence.seen);
    }

    // Suggest from the unit's recordings and current settings (the target's systemd version and
    // syscall groups), then `apply`: install, reload, restart, health check.
    let suggest = guest.exec(&[&sysprof, "suggest", "--unit", unit, "--explain"], STEP)?;
    if !outcome.check(
        suggest.ok(),
        format!("sysprof suggest --unit {unit} --explain exited 0"),
        suggest.summary(),
    ) {
        bail!("no drop-in");
    }
    let dropin_host = share.join(format!("{unit}.sysprof.conf"));
    fs::write(&dropin_host, &suggest.stdout)
        .with_context(|| format!("cannot write {}", dropin_host.display()))?;
    eprintln!(
        "    drop-in ({}, comments left out):",
        dropin_host.display()
    );
    for line in suggest.stdout.lines() {
        if !line.starts_with('#') && !line.trim().is_empty() {
            eprintln!("      | {line}");
        }
    }
    for line in suggest.stderr.lines() {
        eprintln!("      ! {line}");
    }
    outcome.check(
        suggest.stderr.lines().any(|l| {
            l.starts_with("exposure (systemd-analyze security): ") && l.contains("(online) →")
        }),
        "suggest --unit printed the exposure before (online) → after",
        suggest.stderr.trim(),
    );
    outcome.check(
        suggest.stderr.contains("changes to the current settings"),
        "suggest --unit printed the changes to the current settings",
        suggest.stderr.trim(),
    );
    let apply = guest.exec(
        &[
            &sysprof,
            "apply",
            "--unit",
            unit,
            "--settle",
            "5s",
            "--check-cmd",
            service.health_cmd,
        ],
        RESTART,
    )?;
    for line in apply.stderr.lines() {
        eprintln!("      apply: {line}");
    }
    let restarted = outcome.check(
        apply.ok(),
        format!("sysprof apply --unit {unit} (restart, 5 s settle, health command) exited 0"),
        apply.summary(),
    );
    let verify = guest.exec(&["systemd-analyze", "verify", "--man=no", unit], STEP)?;
    for line in verify.stderr.lines().chain(verify.stdout.lines()) {
        eprintln!("      verify: {line}");
    }
    let state = guest.is_active(unit)?;
    outcome.check(
        state == "active",
        format!("{unit} is active with the drop-in"),
        &state,
    );
    let works = (service.exercise)(guest, "hardened");
    outcome.works_after = Some(works.is_ok());
    match &works {
        Ok(what) => outcome.check(true, format!("works hardened: {what}"), ""),
        Err(e) => outcome.check(false, "works hardened", format!("{e:#}")),
    };
    if service.reloads {
        let reload = guest.exec(&["systemctl", "reload", unit], RESTART)?;
        outcome.check(
            reload.ok(),
            format!("systemctl reload {unit} with the drop-in"),
            reload.summary(),
        );
        let state = guest.is_active(unit)?;
        let works = (service.exercise)(guest, "hardened-reloaded");
        outcome.check(
            state == "active" && works.is_ok(),
            format!("{unit} still active and serving after the reload"),
            format!(
                "{state}; {}",
                works.err().map(|e| format!("{e:#}")).unwrap_or_default()
            ),
        );
    }
    if !restarted || works.is_err() {
        guest.save_journal(share, unit);
        outcome.journal_saved = true;
    }

    // The drop-in is in force, and narrows what the unit had.
    let filter_after = guest.property(unit, "SystemCallFilter")?;
    outcome.check(
        narrows(&filter_before, &filter_after),
        "SystemCallFilter= in force and narrower than before",
        format!(
            "before {}, after {}",
            describe_list(&filter_before),
            describe_list(&filter_after)
        ),
    );
    let caps_after = guest.property(unit, "CapabilityBoundingSet")?;
    let widened: Vec<&str> = words(&caps_after)
        .into_iter()
        .filter(|c| !words(&caps_before).contains(c))
        .collect();
    outcome.check(
        widened.is_empty(),
        format!(
            "CapabilityBoundingSet= not widened ({} → {} capabilities)",
            words(&caps_before).len(),
            words(&caps_after).len()
        ),
        format!("added by the drop-in: {}", widened.join(" ")),
    );
    let protect = guest.property(unit, "ProtectSystem")?;
    outcome.check(
        protect == "strict",
        "ProtectSystem=strict in force",
        format!("ProtectSystem={protect}"),
    );
    let main_after = guest.property(unit, "MainPID")?;
    if main_after == "0" || main_after.is_empty() {
        outcome.check(false, "main process runs under seccomp", "no main process");
    } else {
        let (mode, filters_after) = seccomp(guest, &main_after)?;
        let (_, filters_pid1) = seccomp(guest, "1")?;
        outcome.check(
            mode == "2" && filters_after > filters_pid1,
            format!(
                "main process {main_after} has Seccomp: 2 and its own filters ({filters_after}; nspawn's alone: {filters_pid1}; before the drop-in: {filters_before})"
            ),
            format!("Seccomp: {mode}, {filters_after} filters"),
        );
    }

    let exposure_after = exposure(guest, share, unit, "after")?;
    eprintln!("    exposure: {exposure_before} → {exposure_after}");
    outcome.exposure_after = Some(exposure_after.clone());
    let (better, wording) = match (
        exposure_value(&exposure_before),
        exposure_value(&exposure_after),
    ) {
        (Some(b), Some(a)) if service.exposure_must_drop => (a < b, "went down"),
        (Some(b), Some(a)) => (a <= b, "did not go up"),
        _ => (false, "was measured"),
    };
    outcome.check(
        better,
        format!("systemd-analyze security exposure {wording}"),
        format!("{exposure_before} → {exposure_after}"),
    );
    outcome.check(
        exposure_value(&exposure_after).is_some_and(|a| a <= service.exposure_at_most),
        format!("exposure at most {:.1}", service.exposure_at_most),
        &exposure_after,
    );

    // Replay: the recorded behaviour under the vendor unit plus every drop-in.
    let fragment = guest.property(unit, "FragmentPath")?;
    let applied = format!("/etc/systemd/system/{unit}.d/{APPLIED}");
    let dropins = guest.property(unit, "DropInPaths")?;
    let mut check_argv = vec![sysprof.clone(), "check".into(), trace_in_guest.clone()];
    for policy in std::iter::once(fragment.as_str()).chain(dropins.split_whitespace()) {
        check_argv.push("-p".into());
        check_argv.push(policy.to_owned());
    }
    let argv: Vec<&str> = check_argv.iter().map(String::as_str).collect();
    let replay = guest.exec(&argv, STEP)?;
    outcome.check(
        replay.ok(),
        format!("sysprof check {}", argv[2..].join(" ")),
        format!("{}\n{}", replay.summary(), replay.stdout.trim_end()),
    );
    for (name, text) in [
        (
            format!("{unit}.vendor.service"),
            fs_read_guest(guest, &fragment)?,
        ),
        (
            format!("{unit}.applied.conf"),
            fs_read_guest(guest, &applied)?,
        ),
    ] {
        let file = share.join(&name);
        fs::write(&file, text).with_context(|| format!("cannot write {}", file.display()))?;
    }

    rollback_and_revert(service, guest, share, &sysprof, outcome)
}

const APPLIED: &str = "50-sysprof.conf";

fn fs_read_guest(guest: &Container, path: &str) -> Result<String> {
    Ok(guest.exec_ok(&["cat", path], STEP)?.stdout)
}

/// A drop-in that breaks the service must be caught by `apply`'s health check and rolled back
/// to the drop-in before it; `revert` then removes sysprof's drop-in altogether.
fn rollback_and_revert(
    service: &Service,
    guest: &Container,
    share: &Path,
    sysprof: &str,
    outcome: &mut Outcome,
) -> Result<()> {
    let unit = service.unit;
    let applied = format!("/etc/systemd/system/{unit}.d/{APPLIED}");
    let good = fs_read_guest(guest, &applied)?;
    // Sockets are the service's whole job: denying them kills it at its first socket() call.
    let broken = "[Service]\nSystemCallFilter=~@network-io\nSystemCallErrorNumber=\n";
    fs::write(share.join("broken.conf"), broken).context("cannot write broken.conf")?;
    let apply = guest.exec(
        &[
            sysprof,
            "apply",
            "--unit",
            unit,
            "--settle",
            "3s",
            "--check-cmd",
            service.health_cmd,
            "--dropin",
            &format!("{SHARE_IN_GUEST}/broken.conf"),
        ],
        RESTART,
    )?;
    for line in apply.stderr.lines() {
        eprintln!("      apply (broken): {line}");
    }
    outcome.check(
        apply.status.code() == Some(1),
        "a breaking drop-in: apply exits 1 (health check failed, rolled back)",
        apply.summary(),
    );
    outcome.check(
        apply.stderr.contains("failed its health check") && apply.stderr.contains("rolled back:"),
        "apply said why and that it rolled back",
        apply.stderr.trim(),
    );
    outcome.check(
        apply.stderr.contains("status=31/SYS")
            || apply.stderr.contains("ExecMainStatus=31")
            || apply.stderr.contains("Bad system call"),
        "apply showed the journal's reason (SIGSYS from the filter)",
        apply.stderr.trim(),
    );
    let restored = fs_read_guest(guest, &applied)?;
    outcome.check(
        restored == good,
        "the drop-in before the broken one is back in place",
        "different content",
    );
    let state = guest.is_active(unit)?;
    let works = (service.exercise)(guest, "rolled-back");
    outcome.check(
        state == "active" && works.is_ok(),
        format!("{unit} active and working after the rollback"),
        format!(
            "{state}; {}",
            works.err().map(|e| format!("{e:#}")).unwrap_or_default()
        ),
    );

    let revert = guest.exec(&[sysprof, "revert", "--unit", unit], RESTART)?;
    let dropins = guest.property(unit, "DropInPaths")?;
    let state = guest.is_active(unit)?;
    outcome.check(
        revert.ok() && !dropins.contains(APPLIED) && state == "active",
        format!("sysprof revert --unit {unit}: drop-in removed, unit active"),
        format!("{}; DropInPaths={dropins}; {state}", revert.summary()),
    );

    // --runtime: the same drop-in under /run (gone at reboot), then reverted from there.
    fs::write(share.join("good.conf"), &good).context("cannot write good.conf")?;
    let runtime_file = format!("/run/systemd/system/{unit}.d/{APPLIED}");
    let apply = guest.exec(
        &[
            sysprof,
            "apply",
            "--unit",
            unit,
            "--runtime",
            "--settle",
            "3s",
            "--check-cmd",
            service.health_cmd,
            "--dropin",
            &format!("{SHARE_IN_GUEST}/good.conf"),
        ],
        RESTART,
    )?;
    let dropins = guest.property(unit, "DropInPaths")?;
    outcome.check(
        apply.ok() && dropins.contains(&runtime_file) && !dropins.contains(&applied),
        format!("sysprof apply --runtime: {runtime_file} in force, healthy"),
        format!("{}; DropInPaths={dropins}", apply.summary()),
    );
    let revert = guest.exec(&[sysprof, "revert", "--unit", unit], RESTART)?;
    let dropins = guest.property(unit, "DropInPaths")?;
    outcome.check(
        revert.ok() && !dropins.contains(APPLIED) && guest.is_active(unit)? == "active",
        "sysprof revert after --runtime: the /run drop-in removed, unit active",
        format!("{}; DropInPaths={dropins}", revert.summary()),
    );
    Ok(())
}

/// `apply` never writes through a symlink (as the drop-in directory or the drop-in), and
/// `record --exercise` refuses a unit whose restart could cut the machine off.
pub fn refusals(guest: &Container, share: &Path) -> Result<Outcome> {
    let mut outcome = Outcome::new("refusals");
    eprintln!("==> refusals: symlinks for apply, critical units for --exercise");
    let sysprof = format!("{SHARE_IN_GUEST}/sysprof");
    let unit = "rescue.service";
    let dir = format!("/etc/systemd/system/{unit}.d");
    fs::write(share.join("any.conf"), "[Service]\nPrivateTmp=yes\n").context("cannot write")?;
    let any = format!("{SHARE_IN_GUEST}/any.conf");
    guest.exec_ok(&["mkdir", "-p", "/var/tmp/sysprof-elsewhere"], STEP)?;
    guest.exec_ok(&["ln", "-sfn", "/var/tmp/sysprof-elsewhere", &dir], STEP)?;
    let refused = guest.exec(&[&sysprof, "apply", "--unit", unit, "--dropin", &any], STEP)?;
    let written = guest.exec(&["ls", "-A", "/var/tmp/sysprof-elsewhere"], STEP)?;
    outcome.check(
        refused.status.code() == Some(2)
            && refused.stderr.contains("is a symlink")
            && written.stdout.trim().is_empty(),
        format!("a symlinked {dir} is refused (exit 2), nothing written through it"),
        format!(
            "{}; target holds {:?}",
            refused.summary(),
            written.stdout.trim()
        ),
    );
    guest.exec_ok(&["rm", "-f", &dir], STEP)?;
    guest.exec_ok(&["mkdir", "-p", &dir], STEP)?;
    let file = format!("{dir}/{APPLIED}");
    guest.exec_ok(
        &["ln", "-sfn", "/var/tmp/sysprof-elsewhere/x.conf", &file],
        STEP,
    )?;
    let refused = guest.exec(&[&sysprof, "apply", "--unit", unit, "--dropin", &any], STEP)?;
    let written = guest.exec(&["ls", "-A", "/var/tmp/sysprof-elsewhere"], STEP)?;
    outcome.check(
        refused.status.code() == Some(2)
            && refused.stderr.contains("not a regular file")
            && written.stdout.trim().is_empty(),
        format!("a symlink as {file} is refused (exit 2), nothing written through it"),
        format!(
            "{}; target holds {:?}",
            refused.summary(),
            written.stdout.trim()
        ),
    );
    guest.exec_ok(&["rm", "-rf", &dir, "/var/tmp/sysprof-elsewhere"], STEP)?;

    // --exercise stops and starts a unit: never one that can cut the machine off, unless --yes.
    let before = guest.property("systemd-journald.service", "ExecMainPID")?;
    let refused = guest.exec(
        &[
            &sysprof,
            "record",
            "--unit",
            "systemd-journald",
            "--exercise",
        ],
        STEP,
    )?;
    let after = guest.property("systemd-journald.service", "ExecMainPID")?;
    outcome.check(
        refused.status.code() == Some(2)
            && refused.stderr.contains("without --yes")
            && before == after,
        "record --exercise refuses systemd-journald without --yes (exit 2, not restarted)",
        format!("{}; main pid {before} → {after}", refused.summary()),
    );
    Ok(outcome)
}

fn words(text: &str) -> Vec<&str> {
    text.split_whitespace().collect()
}

/// `SystemCallFilter` as `systemctl show` prints it: empty (no filter), `~a b` (deny-list) or
/// `a b` (allow-list, groups expanded).
fn describe_list(value: &str) -> String {
    if value.is_empty() {
        return "no filter".to_owned();
    }
    match value.strip_prefix('~') {
        Some(deny) => format!("deny-list of {}", words(deny).len()),
        None => format!("allow-list of {}", words(value).len()),
    }
}

/// True when `after` is an allow-list that is strictly narrower than `before` (any allow-list
/// is narrower than no filter or a deny-list).
fn narrows(before: &str, after: &str) -> bool {
    if after.is_empty() || after.starts_with('~') {
        return false;
    }
    if before.is_empty() || before.starts_with('~') {
        return true;
    }
    let old = words(before);
    let new = words(after);
    new.len() < old.len() && new.iter().all(|w| old.contains(w))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exposure_line() {
        let report = "  NAME  DESCRIPTION  EXPOSURE\n\u{2192} Overall exposure level for nginx.service: 9.6 UNSAFE :-{\n";
        assert_eq!(overall_exposure(report).as_deref(), Some("9.6 UNSAFE"));
        assert_eq!(exposure_value("9.6 UNSAFE"), Some(9.6));
        assert_eq!(overall_exposure("nothing here"), None);
    }

    #[test]
    fn filters_narrow() {
        assert!(narrows("", "read write"));
        assert!(narrows("~mount", "read write"));
        assert!(narrows("read write open", "read write"));
        assert!(
            !narrows("read write", "read write"),
            "equal is not narrower"
        );
        assert!(!narrows("read write", "read write mount"), "wider");
        assert!(!narrows("read write open", "read mount"), "not a subset");
        assert!(!narrows("read", ""), "no filter after");
        assert!(!narrows("", "~mount"), "a deny-list is not an allow-list");
        assert_eq!(describe_list(""), "no filter");
        assert_eq!(describe_list("~a b"), "deny-list of 2");
        assert_eq!(describe_list("a b c"), "allow-list of 3");
    }
}
