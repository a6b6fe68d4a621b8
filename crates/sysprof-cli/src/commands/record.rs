//! `sysprof record` and `sysprof demo`: choose a backend, record, write the trace atomically.

use crate::cli::{BackendChoice, DemoArgs, RecordArgs};
use crate::output::{note, print, write_atomic};
use anyhow::{bail, Context, Result};
use std::io::IsTerminal;
use std::path::PathBuf;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::{Duration, Instant};
use sysprof_record::{Progress, RecordOptions, Recording, StopFlag, Target};

/// A small service-like workload for `sysprof demo`: a loopback HTTP server answering a client,
/// plus the shell and file work a real service's start-up does.
const DEMO_SCRIPT: &str = r#"
set -e
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
printf 'hello from sysprof\n' > "$dir/index.html"
py=/usr/bin/python3
[ -x "$py" ] || py=$(command -v python3 || true)
if [ -n "$py" ]; then
"$py" - "$dir" <<'PY'
import http.server, socketserver, sys, threading, urllib.request, os
os.chdir(sys.argv[1])
class Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass
with socketserver.TCPServer(("127.0.0.1", 0), Quiet) as srv:
    port = srv.server_address[1]
    t = threading.Thread(target=srv.serve_forever, daemon=True)
    t.start()
    for _ in range(3):
        body = urllib.request.urlopen(f"http://127.0.0.1:{port}/index.html").read()
    srv.shutdown()
print("served", len(body), "bytes")
PY
else
cat "$dir/index.html" | tr a-z A-Z | sha256sum
fi
"#;

/// Decides the backend for `auto`, saying why when it falls back.
fn choose_backend(choice: BackendChoice, target: &Target, quiet: bool) -> Result<BackendChoice> {
    match choice {
        BackendChoice::Ebpf | BackendChoice::Ptrace => Ok(choice),
        BackendChoice::Auto => match sysprof_record::ebpf::probe() {
            // Without the syscall hook a recording would be empty; the other hooks degrade alone.
            Ok(hooks) => match hooks.iter().find(|h| h.hook == "syscalls") {
                Some(h) if h.ok() => Ok(BackendChoice::Ebpf),
                Some(h) => fallback(target, &h.summary(), quiet),
                None => fallback(target, "no syscall hook", quiet),
            },
            Err(e) => fallback(target, &e.to_string(), quiet),
        },
    }
}

fn fallback(target: &Target, why: &str, quiet: bool) -> Result<BackendChoice> {
    if matches!(target, Target::Unit(_) | Target::Cgroup(_)) {
        bail!("eBPF is unavailable ({why}); --unit and --cgroup need it (use --pid with the unit's processes for ptrace)");
    }
    note(
        quiet,
        &format!("note: using the ptrace backend: eBPF is unavailable ({why})"),
    );
    Ok(BackendChoice::Ptrace)
}

fn target_of(args: &RecordArgs) -> Result<Target> {
    let mut targets = Vec::new();
    if let Some(unit) = &args.unit {
        targets.push(Target::Unit(unit.clone()));
    }
    if let Some(cg) = &args.cgroup {
        targets.push(Target::Cgroup(cg.clone()));
    }
    if !args.pid.is_empty() {
        targets.push(Target::Pids(args.pid.clone()));
    }
    if !args.command.is_empty() {
        targets.push(Target::Command(args.command.clone()));
    }
    match targets.len() {
        1 => Ok(targets.remove(0)),
        0 => bail!("nothing to record: give --unit, --cgroup, --pid or -- COMMAND"),
        _ => bail!("give only one of --unit, --cgroup, --pid and -- COMMAND"),
    }
}

fn default_output(target: &Target) -> PathBuf {
    let what = match target {
        Target::Unit(u) => u.clone(),
        Target::Cgroup(c) => c
            .file_name()
            .map_or_else(|| "cgroup".into(), |n| n.to_string_lossy().into_owned()),
        Target::Pids(p) => format!("pid{}", p.first().copied().unwrap_or(0)),
        Target::Command(c) => c
            .first()
            .and_then(|a| std::path::Path::new(a).file_name())
            .map_or_else(|| "command".into(), |n| n.to_string_lossy().into_owned()),
    };
    let safe: String = what
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '.' || c == '-' || c == '_' {
                c
            } else {
                '_'
            }
        })
        .collect();
    let stamp = sysprof_record::host::now_rfc3339().replace([':', '-'], "");
    PathBuf::from(format!("sysprof-{safe}-{stamp}.json"))
}

/// Prints a one-line live status on stderr until `done` is raised.
fn spawn_progress(
    progress: Arc<Progress>,
    done: StopFlag,
    duration: Option<Duration>,
) -> std::thread::JoinHandle<()> {
    std::thread::spawn(move || {
        let start = Instant::now();
        let mut last_events = 0;
        while !done.is_raised() {
            std::thread::sleep(Duration::from_millis(500));
            let elapsed = start.elapsed();
            let events = progress.events.load(Ordering::Relaxed);
            let rate = (events - last_events.min(events)) * 2;
            last_events = events;
            let remaining = duration
                .map(|d| format!(" ({}s left)", d.saturating_sub(elapsed).as_secs()))
                .unwrap_or_default();
            eprint!(
                "\r\x1b[K{}s{remaining}  processes {}  syscalls {}  files {}  {rate} events/s  nothing new for {}s",
                elapsed.as_secs(),
                progress.processes.load(Ordering::Relaxed),
                progress.syscalls_distinct.load(Ordering::Relaxed),
                progress.files_distinct.load(Ordering::Relaxed),
                progress.quiet_for().as_secs(),
            );
        }
        eprint!("\r\x1b[K");
    })
}

/// Waits until the backend records (true), or until `give_up` is raised first (false).
pub(super) fn wait_until_recording(progress: &Progress, give_up: &StopFlag) -> bool {
    while !progress.recording.load(Ordering::Acquire) {
        if give_up.is_raised() {
            return false;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    true
}

/// Restarts `unit` once the recorder is attached, so the recording starts at its first exec.
fn spawn_restart(
    unit: String,
    progress: Arc<Progress>,
    done: StopFlag,
    quiet: bool,
) -> std::thread::JoinHandle<()> {
    std::thread::spawn(move || {
        if !wait_until_recording(&progress, &done) {
            return;
        }
        note(quiet, &format!("recording; restarting {unit}"));
        if let Err(e) = sysprof_record::systemd::restart(&unit) {
            note(quiet, &format!("warning: --restart: {e}"));
        }
    })
}

/// What runs alongside a recording: a restart or a whole exercise of the unit, and the
/// "nothing new for D" end.
#[derive(Default)]
struct Drivers {
    restart: Option<String>,
    exercise: Option<super::exercise::Plan>,
    until_stable: Option<Duration>,
}

/// Ends the recording once nothing new has been seen for `quiet` (after it started).
fn spawn_until_stable(
    quiet_needed: Duration,
    progress: Arc<Progress>,
    stop: StopFlag,
    done: StopFlag,
    reached: Arc<std::sync::atomic::AtomicBool>,
) -> std::thread::JoinHandle<()> {
    std::thread::spawn(move || {
        while !done.is_raised() && !stop.is_raised() {
            if progress.recording.load(Ordering::Acquire) && progress.quiet_for() >= quiet_needed {
                reached.store(true, Ordering::SeqCst);
                stop.raise();
                return;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    })
}

/// Records `target` with the chosen backend; the trace so far survives Ctrl-C and SIGTERM.
fn record_target(
    target: &Target,
    backend: BackendChoice,
    opts: &RecordOptions,
    drivers: Drivers,
    quiet: bool,
) -> Result<(Recording, Vec<sysprof_core::trace::Phase>)> {
    let stop = StopFlag::new();
    sysprof_record::signals::install_stop_handlers(&stop)
        .context("cannot install signal handlers")?;
    let progress = Arc::new(Progress::default());
    let show_progress = !quiet && std::io::stderr().is_terminal();
    let done = StopFlag::new();
    let ticker =
        show_progress.then(|| spawn_progress(progress.clone(), done.clone(), opts.duration));
    let restarter = drivers
        .restart
        .map(|unit| spawn_restart(unit, progress.clone(), done.clone(), quiet));
    let phases = Arc::new(std::sync::Mutex::new(Vec::new()));
    // The exercise stops the recording through its own flag, so that is not taken for Ctrl-C.
    let exercise_done = StopFlag::new();
    let exerciser = drivers.exercise.map(|plan| {
        super::exercise::spawn(
            plan,
            progress.clone(),
            exercise_done.clone(),
            phases.clone(),
            quiet,
        )
    });
    let stable = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let stabiliser = drivers.until_stable.map(|d| {
        spawn_until_stable(
            d,
            progress.clone(),
            stop.clone(),
            done.clone(),
            stable.clone(),
        )
    });
    let forward = exerciser.is_some().then(|| {
        let (from, to, done) = (exercise_done.clone(), stop.clone(), done.clone());
        std::thread::spawn(move || {
            while !done.is_raised() {
                if from.is_raised() {
                    to.raise();
                    return;
                }
                std::thread::sleep(Duration::from_millis(50));
            }
        })
    });
    let result = match backend {
        BackendChoice::Ebpf => sysprof_record::ebpf::record(target, opts, &stop, &progress)
            .map_err(anyhow::Error::from),
        _ => sysprof_record::ptrace::record(target, opts, &stop, &progress)
            .map_err(anyhow::Error::from),
    };
    done.raise();
    // A Ctrl-C during the exercise ends it too (it checks the flag between steps).
    exercise_done.raise();
    for t in [ticker, restarter, exerciser, stabiliser, forward]
        .into_iter()
        .flatten()
    {
        let _ = t.join();
    }
    if stable.load(Ordering::SeqCst) {
        if let Some(d) = drivers.until_stable {
            note(
                quiet,
                &format!("nothing new for {}s: recording ended", d.as_secs()),
            );
        }
    } else if stop.is_raised() && !exercise_done_first(&phases) {
        note(quiet, "stopped by signal; writing what was recorded");
    }
    let phases = phases.lock().map(|p| p.clone()).unwrap_or_default();
    result.map(|r| (r, phases))
}

/// True when the exercise ran (and so raised the stop itself).
fn exercise_done_first(phases: &std::sync::Mutex<Vec<sysprof_core::trace::Phase>>) -> bool {
    phases.lock().is_ok_and(|p| !p.is_empty())
}

pub fn run(args: RecordArgs, state_root: &std::path::Path, quiet: bool) -> Result<u8> {
    let mut target = target_of(&args)?;
    if let Target::Unit(name) = &target {
        target = Target::Unit(sysprof_record::unit::normalize_unit_name(name)?);
    }
    let backend = choose_backend(args.backend, &target, quiet)?;
    let opts = RecordOptions {
        duration: args.duration,
        no_cpu_pinning: args.no_pin,
    };
    let output = match (&args.output, &target) {
        (Some(path), _) => path.clone(),
        (None, Target::Unit(unit)) => {
            crate::state::UnitState::new(state_root, unit).new_recording(&crate::state::stamp())?
        }
        (None, _) => default_output(&target),
    };
    let unit = match &target {
        Target::Unit(unit) => Some(unit.clone()),
        _ => None,
    };
    let mut drivers = Drivers {
        restart: unit.clone().filter(|_| args.restart),
        exercise: None,
        until_stable: args.until_stable,
    };
    if let (Some(unit), true) = (&unit, args.exercise) {
        let plan = super::exercise::Plan::new(unit, args.yes)?;
        // Printed even with -q: these steps stop and start a service.
        eprintln!("sysprof will exercise {unit} while recording:");
        for (i, step) in plan.describe().iter().enumerate() {
            eprintln!("  {}. {step}", i + 1);
        }
        drivers.exercise = Some(plan);
    }
    let before = unit
        .as_deref()
        .and_then(|u| sysprof_record::systemd::life_snapshot(u).ok());
    let (mut recording, mut phases) = record_target(&target, backend, &opts, drivers, quiet)?;
    if let (Some(unit), Some(before)) = (unit.as_deref(), before) {
        // What happened to the unit while it was recorded, as systemd saw it.
        if let Ok(after) = sysprof_record::systemd::life_snapshot(unit) {
            use sysprof_core::trace::Phase;
            if after.started != before.started {
                phases.push(Phase::Start);
            }
            if after.stopped != before.stopped {
                phases.push(Phase::Stop);
            }
            if after.reloaded != before.reloaded {
                phases.push(Phase::Reload);
            }
            if args.restart && after.started != before.started {
                phases.push(Phase::Restart);
            }
        }
    }
    recording.trace.meta.lifecycle.phases.extend(phases);
    recording
        .trace
        .meta
        .tool_versions
        .insert(env!("CARGO_PKG_VERSION").to_owned());
    if recording.trace.meta.systemd_version.is_none() {
        recording.trace.meta.systemd_version = sysprof_record::systemd::local_version();
    }
    for w in &recording.warnings {
        note(quiet, &format!("warning: {w}"));
    }
    write_atomic(&output, recording.trace.to_json().as_bytes())?;
    let t = &recording.trace;
    note(
        quiet,
        &format!(
            "wrote {} ({} syscalls, {} capabilities, {} file observations, {} processes)",
            output.display(),
            t.syscalls.len(),
            t.capabilities.len(),
            t.files.len(),
            t.meta.integrity.processes
        ),
    );
    Ok(super::child_status(recording.exit))
}

pub fn demo(args: DemoArgs, quiet: bool) -> Result<u8> {
    let target = Target::Command(vec!["sh".into(), "-c".into(), DEMO_SCRIPT.into()]);
    let backend = choose_backend(args.backend, &target, quiet)?;
    note(
        quiet,
        &format!("recording the built-in workload with the {backend:?} backend…"),
    );
    let opts = RecordOptions {
        duration: Some(Duration::from_secs(60)),
        no_cpu_pinning: false,
    };
    let (mut recording, _) = record_target(&target, backend, &opts, Drivers::default(), quiet)?;
    recording
        .trace
        .meta
        .tool_versions
        .insert(env!("CARGO_PKG_VERSION").to_owned());
    if let Some(path) = &args.output {
        write_atomic(path, recording.trace.to_json().as_bytes())?;
        note(quiet, &format!("wrote {}", path.display()));
    }
    let facts = super::target_facts(
        &crate::cli::TargetArgs {
            systemd_version: None,
            syscall_groups: None,
        },
        &recording.trace,
        quiet,
    )?;
    let suggestion = sysprof_core::suggest::suggest(
        &recording.trace,
        &facts,
        sysprof_core::suggest::SuggestOptions {
            level: sysprof_core::suggest::Level::Strict,
        },
    );
    let header = vec![format!(
        "sysprof demo: drop-in for the built-in workload ({} syscalls, {} files observed)",
        recording.trace.syscalls.len(),
        recording.trace.files.len()
    )];
    print(&suggestion.render_dropin(&header, true))?;
    match recording.exit {
        Some(sysprof_record::ChildExit::Code(0)) | None => Ok(0),
        other => bail!("the demo workload failed ({other:?})"),
    }
}
