//! `cargo xtask e2e`: real Debian services in real systemd, recorded, hardened, still working.

// Steps: host packages (systemd-container, debootstrap, bpftool); `cargo build --release -p
// sysprof-cli`; a cached bookworm rootfs with nginx and redis-server; a pristine boot of it
// (`--volatile=overlay`) in cgroups of its own; for each service a scenario (see
// [`scenario`]); the directive probes (see [`probes`]); teardown on every path; a host leak
// check (BPF objects, cgroups, processes, mounts); summary tables. Any failure, or any missing
// prerequisite, is a non-zero exit.

mod cmd;
mod container;
mod json;
mod leaks;
mod lifecycle;
mod probes;
mod recorder;
mod rootfs;
mod scenario;
mod services;

use anyhow::{bail, Context, Result};
use container::Container;
use scenario::Outcome;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};
use std::time::{Duration, Instant};

const USAGE: &str = "usage: cargo xtask e2e [--only UNIT|probe-NAME]... [--only-probes | --skip-probes]
                       [--duration SECS] [--rebuild-rootfs] [--sysprof BIN]

Boots a Debian 12 rootfs (cached under /var/tmp/sysprof-e2e/) in systemd-nspawn and, for
nginx.service and redis-server.service: records the unit with the eBPF backend for SECS seconds
(default 15) under real traffic, a restart and a reload, applies the suggestion with `sysprof
apply`, and checks that the service still works, that the sandbox is in force, that
`systemd-analyze security` improves and that `sysprof check` accepts the trace. Then the lifecycle
test: a warm-only policy must be rolled back at a simulated reboot, and one recorded with
`record --exercise` must survive it (nginx and a probe unit like apache2's apachectl). Then the
directive probes: for every directive sysprof emits, a tiny service that needs what it forbids
(sysprof must not get in its way) and one that does not (the directive must be emitted, in force, and stop a violation); see
tests/e2e/README.md. --only selects services and probes (probe-NAME; several allowed),
--only-probes and --skip-probes leave out the services or the probes. Needs root and
network access to deb.debian.org (or SYSPROF_E2E_MIRROR) the first time. Outputs (traces,
drop-ins, journals, security reports) are kept in target/e2e/<run>/. --sysprof BIN tests that
binary instead of building target/release/sysprof (a candidate fix, an older release).
";

struct Args {
    only: Vec<String>,
    only_probes: Vec<String>,
    services: bool,
    probes: bool,
    duration: Duration,
    rebuild: bool,
    sysprof: Option<PathBuf>,
}

fn parse_args(args: &[String]) -> Result<Option<Args>> {
    let mut parsed = Args {
        only: Vec::new(),
        only_probes: Vec::new(),
        services: true,
        probes: true,
        duration: Duration::from_secs(15),
        rebuild: false,
        sysprof: None,
    };
    let mut it = args.iter();
    while let Some(arg) = it.next() {
        match arg.as_str() {
            "-h" | "--help" => return Ok(None),
            "--only" => {
                let unit = it.next().context("--only needs a unit or probe name")?;
                if let Some(name) = unit.strip_prefix("probe-") {
                    if !probes::names().contains(&name) {
                        bail!(
                            "--only {unit}: no such probe (probes: {})",
                            probes::names().join(" ")
                        );
                    }
                    parsed.only_probes.push(name.to_owned());
                    continue;
                }
                let full = if unit.contains('.') {
                    unit.clone()
                } else {
                    format!("{unit}.service")
                };
                if !services::SERVICES.iter().any(|s| s.unit == full) {
                    bail!("--only {unit}: not one of the e2e services");
                }
                parsed.only.push(full);
            }
            "--duration" => {
                let secs: u64 = it
                    .next()
                    .context("--duration needs seconds")?
                    .parse()
                    .context("--duration needs a whole number of seconds")?;
                if !(5..=600).contains(&secs) {
                    bail!("--duration must be between 5 and 600 seconds");
                }
                parsed.duration = Duration::from_secs(secs);
            }
            "--rebuild-rootfs" => parsed.rebuild = true,
            "--only-probes" => parsed.services = false,
            "--skip-probes" => parsed.probes = false,
            "--sysprof" => {
                let path = PathBuf::from(it.next().context("--sysprof needs a path")?);
                if !path.is_file() {
                    bail!("--sysprof {}: no such file", path.display());
                }
                parsed.sysprof = Some(path);
            }
            other => bail!("unknown argument {other:?} (see `cargo xtask e2e --help`)"),
        }
    }
    if !parsed.services && !parsed.probes {
        bail!("--only-probes and --skip-probes leave nothing to run");
    }
    // `--only` of services alone runs no probes, and of probes alone no services.
    if !parsed.only.is_empty() && parsed.only_probes.is_empty() {
        parsed.probes = false;
    }
    if parsed.only.is_empty() && !parsed.only_probes.is_empty() {
        parsed.services = false;
    }
    Ok(Some(parsed))
}

pub fn run(args: &[String]) -> Result<ExitCode> {
    let Some(args) = parse_args(args)? else {
        print!("{USAGE}");
        return Ok(ExitCode::SUCCESS);
    };
    // SAFETY: geteuid has no preconditions.
    if unsafe { libc::geteuid() } != 0 {
        bail!("cargo xtask e2e must run as root (it boots containers and loads eBPF)");
    }
    cmd::install_interrupt_handlers()?;
    let total = Instant::now();
    let mut timings: Vec<(&'static str, Duration)> = Vec::new();

    eprintln!("==> host packages");
    let t = Instant::now();
    rootfs::ensure_host_packages()?;
    leaks::require_bpftool()?;
    timings.push(("host packages", t.elapsed()));

    let t = Instant::now();
    let binary = match &args.sysprof {
        Some(path) => {
            eprintln!("==> sysprof under test: {}", path.display());
            path.clone()
        }
        None => {
            eprintln!("==> build: cargo build --release -p sysprof-cli");
            build_sysprof()?
        }
    };
    timings.push(("build sysprof", t.elapsed()));

    eprintln!("==> rootfs");
    let t = Instant::now();
    let (root, _cache_lock) = rootfs::ensure_rootfs(args.rebuild)?;
    timings.push(("rootfs", t.elapsed()));

    let name = format!("sysprof-e2e-{}", std::process::id());
    let share = prepare_share(&name, &binary)?;
    let roots = container::cgroup_roots()?;
    let before = leaks::snapshot()?;

    let selected: Vec<&services::Service> = services::SERVICES
        .iter()
        .filter(|s| {
            args.services && (args.only.is_empty() || args.only.iter().any(|o| o == s.unit))
        })
        .collect();
    let mut outcomes: Vec<Outcome> = Vec::new();
    let mut probe_outcomes: Vec<probes::ProbeOutcome> = Vec::new();
    let mut guest: Option<Container> = None;
    let guest_result = run_guest(
        &mut guest,
        &GuestRun {
            name: &name,
            root: &root,
            share: &share,
            roots: &roots,
            selected: &selected,
            duration: args.duration,
            probes: args.probes.then_some(args.only_probes.as_slice()),
        },
        &mut outcomes,
        &mut probe_outcomes,
        &mut timings,
    );

    eprintln!("==> teardown");
    let t = Instant::now();
    let teardown = guest.take().map(|mut g| g.teardown());
    timings.push(("teardown", t.elapsed()));
    let mut failures: Vec<String> = Vec::new();
    if let Err(e) = &guest_result {
        failures.push(format!("{e:#}"));
    }
    match teardown {
        Some(Err(e)) => failures.push(format!("{e:#}")),
        Some(Ok(())) => eprintln!("    guest powered off; cgroups and nspawn leftovers removed"),
        None => {}
    }
    if cmd::interrupted() {
        bail!("interrupted; the guest was torn down (leak check skipped)");
    }

    eprintln!("==> host leak check");
    let t = Instant::now();
    let mut ours = leaks::BpfIds::default();
    for outcome in &outcomes {
        ours.extend(&outcome.recorder_bpf);
    }
    for outcome in &probe_outcomes {
        ours.extend(&outcome.recorder_bpf);
    }
    let cg2_root = roots
        .first()
        .map(PathBuf::as_path)
        .unwrap_or(Path::new("/"));
    let verdict = match leaks::check(&before, &ours, &name, cg2_root) {
        Ok(verdict) => verdict,
        Err(e) => leaks::Verdict {
            leaks: vec![format!("leak check failed: {e:#}")],
            foreign: Default::default(),
        },
    };
    timings.push(("leak check", t.elapsed()));
    for (owner, what) in &verdict.foreign {
        let shown: Vec<&str> = what.iter().take(3).map(String::as_str).collect();
        let more = what.len().saturating_sub(shown.len());
        eprintln!(
            "    note: not ours, new since the start and held by {owner}: {}{}",
            shown.join(", "),
            if more > 0 {
                format!(" and {more} more")
            } else {
                String::new()
            }
        );
    }
    for leak in &verdict.leaks {
        eprintln!("    FAIL  {leak}");
        failures.push(leak.clone());
    }
    if verdict.leaks.is_empty() {
        eprintln!(
            "    ok    no BPF program, link or map ({} held by the recorders), cgroup, process or mount left behind",
            ours.count()
        );
    }

    print_summary(
        &outcomes,
        &probe_outcomes,
        &timings,
        total.elapsed(),
        &share,
    );
    let failed: Vec<String> = outcomes
        .iter()
        .filter(|o| !o.passed())
        .map(|o| o.unit.to_owned())
        .chain(
            probe_outcomes
                .iter()
                .filter(|o| !o.passed())
                .map(|o| format!("probe-{}", o.name)),
        )
        .collect();
    if !failed.is_empty() {
        failures.push(format!("failed: {}", failed.join(", ")));
    }
    if outcomes.len() < selected.len() && guest_result.is_ok() {
        failures.push("not every service was run".to_owned());
    }
    if args.probes && probe_outcomes.is_empty() && guest_result.is_ok() {
        failures.push("the directive probes were not run".to_owned());
    }
    if failures.is_empty() {
        println!("\ne2e: all checks passed");
        Ok(ExitCode::SUCCESS)
    } else {
        println!("\ne2e: FAILED");
        for failure in &failures {
            println!("  - {failure}");
        }
        Ok(ExitCode::FAILURE)
    }
}

/// What to run in the guest.
struct GuestRun<'a> {
    name: &'a str,
    root: &'a Path,
    share: &'a Path,
    roots: &'a [PathBuf],
    selected: &'a [&'a services::Service],
    duration: Duration,
    /// `None`: no probes; `Some(names)`: those probes (all when empty).
    probes: Option<&'a [String]>,
}

fn run_guest(
    guest: &mut Option<Container>,
    run: &GuestRun,
    outcomes: &mut Vec<Outcome>,
    probe_outcomes: &mut Vec<probes::ProbeOutcome>,
    timings: &mut Vec<(&'static str, Duration)>,
) -> Result<()> {
    let GuestRun {
        name,
        root,
        share,
        roots,
        selected,
        duration,
        probes: probe_names,
    } = *run;
    eprintln!("==> boot {name} from {}", root.display());
    let t = Instant::now();
    let booted = guest.insert(Container::boot(name, root, share, roots)?);
    timings.push(("boot to running", t.elapsed()));
    let version = booted.exec_ok(&["systemctl", "--version"], Duration::from_secs(10))?;
    eprintln!(
        "    {} up in {:.1}s (leader {}, cgroup {}): {}",
        name,
        t.elapsed().as_secs_f64(),
        booted.leader(),
        booted.payload_cgroup().display(),
        version.stdout.lines().next().unwrap_or("?")
    );
    for service in selected {
        let outcome = scenario::run(service, booted, share, duration)?;
        outcomes.push(outcome);
    }
    if !selected.is_empty() {
        outcomes.push(scenario::refusals(booted, share)?);
    }
    // Issue 6: cold starts, for the selected services (all of them: the probe unit too).
    if !selected.is_empty() {
        let lifecycle_units: Vec<&str> = if selected.len() == services::SERVICES.len() {
            Vec::new()
        } else {
            selected.iter().map(|s| s.unit).collect()
        };
        let t = Instant::now();
        outcomes.extend(lifecycle::run(booted, share, &lifecycle_units)?);
        timings.push(("lifecycle", t.elapsed()));
    }
    if let Some(names) = probe_names {
        let t = Instant::now();
        probes::run(booted, share, names, probe_outcomes, timings)?;
        timings.push(("probe phase", t.elapsed()));
    }
    Ok(())
}

/// Builds the release binary and returns its path.
fn build_sysprof() -> Result<PathBuf> {
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let mut child = Command::new(cargo)
        .args(["build", "--release", "-p", "sysprof-cli"])
        .current_dir(crate::workspace_root())
        .spawn()
        .context("cannot run cargo build")?;
    let status = cmd::wait_child(&mut child, Duration::from_secs(3600), "cargo build")?;
    if !status.success() {
        bail!("cargo build --release -p sysprof-cli failed ({status})");
    }
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| crate::workspace_root().join("target"));
    let binary = target.join("release/sysprof");
    if !binary.is_file() {
        bail!("cargo build succeeded but {} is missing", binary.display());
    }
    Ok(binary)
}

/// `target/e2e/NAME/`: bound at /harness in the guest; holds the binary under test, the files
/// the services need, and every output of the run. Directories of finished runs are removed.
fn prepare_share(name: &str, binary: &Path) -> Result<PathBuf> {
    let base = crate::workspace_root().join("target/e2e");
    fs::create_dir_all(&base).with_context(|| format!("cannot create {}", base.display()))?;
    for entry in fs::read_dir(&base).with_context(|| format!("cannot list {}", base.display()))? {
        let path = entry
            .with_context(|| format!("cannot list {}", base.display()))?
            .path();
        let pid = path
            .file_name()
            .and_then(|n| n.to_str())
            .and_then(|n| n.strip_prefix("sysprof-e2e-"))
            .and_then(|p| p.parse::<u32>().ok());
        if let Some(pid) = pid {
            if !Path::new(&format!("/proc/{pid}")).exists() && path.is_dir() {
                fs::remove_dir_all(&path)
                    .with_context(|| format!("cannot remove {}", path.display()))?;
            }
        }
    }
    let share = base.join(name);
    fs::create_dir_all(&share).with_context(|| format!("cannot create {}", share.display()))?;
    // A copy, so that a concurrent rebuild cannot swap the binary in the middle of the run.
    fs::copy(binary, share.join("sysprof"))
        .with_context(|| format!("cannot copy {}", binary.display()))?;
    let files = services::share_files()
        .iter()
        .map(|(source, dest)| ((*source).to_owned(), (*dest).to_owned()))
        .chain(probes::share_files());
    for (source, dest) in files {
        let from = crate::workspace_root().join(&source);
        let to = share.join(&dest);
        if let Some(dir) = to.parent() {
            fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
        }
        fs::copy(&from, &to).with_context(|| format!("cannot copy {}", from.display()))?;
    }
    let last = base.join("last");
    let _ = fs::remove_file(&last);
    let _ = std::os::unix::fs::symlink(name, &last);
    Ok(share)
}

fn print_summary(
    outcomes: &[Outcome],
    probe_outcomes: &[probes::ProbeOutcome],
    timings: &[(&str, Duration)],
    total: Duration,
    share: &Path,
) {
    println!();
    if !outcomes.is_empty() {
        println!(
            "{:<22} {:>8}  {:<28} {:<14} {:>9}  {:>6}",
            "service",
            "syscalls",
            "exposure before → after",
            "works hardened",
            "recording",
            "checks"
        );
    }
    for o in outcomes {
        let exposure = format!(
            "{} → {}",
            o.exposure_before.as_deref().unwrap_or("?"),
            o.exposure_after.as_deref().unwrap_or("?")
        );
        let works = match o.works_after {
            Some(true) => "yes",
            Some(false) => "NO",
            None => "not reached",
        };
        let passed = o.checks.iter().filter(|c| c.ok).count();
        println!(
            "{:<22} {:>8}  {:<28} {:<14} {:>9}  {:>6}",
            o.unit,
            o.syscalls.map_or_else(|| "?".to_owned(), |n| n.to_string()),
            exposure,
            works,
            o.recording
                .map_or_else(|| "?".to_owned(), |d| format!("{:.1}s", d.as_secs_f64())),
            format!("{passed}/{}", o.checks.len()),
        );
    }
    for o in outcomes {
        for c in o.checks.iter().filter(|c| !c.ok) {
            println!("  FAILED {}: {}", o.unit, c.what);
        }
    }
    if !probe_outcomes.is_empty() {
        let passed = probe_outcomes.iter().filter(|o| o.passed()).count();
        let checks: usize = probe_outcomes.iter().map(|o| o.checks.len()).sum();
        let ok: usize = probe_outcomes
            .iter()
            .map(|o| o.checks.iter().filter(|c| c.ok).count())
            .sum();
        println!(
            "directive probes: {passed}/{} passed, {ok}/{checks} checks (table above)",
            probe_outcomes.len()
        );
        for o in probe_outcomes {
            for c in o.checks.iter().filter(|c| !c.ok) {
                println!("  FAILED {}", c.what);
            }
        }
    }
    println!();
    let mut line = String::from("timings:");
    for (label, d) in timings {
        line.push_str(&format!(" {label} {:.1}s,", d.as_secs_f64()));
    }
    for o in outcomes {
        line.push_str(&format!(" {} {:.1}s,", o.unit, o.elapsed.as_secs_f64()));
    }
    line.push_str(&format!(" total {:.1}s", total.as_secs_f64()));
    println!("{line}");
    println!("outputs: {}", share.display());
}
