//! The unit workflow: `suggest --unit` (recordings + current settings), `apply` and `revert`.

use super::{load_merged, target_facts};
use crate::cli::{ApplyArgs, LevelChoice, RevertArgs, SuggestSource, TargetArgs};
use crate::output::{note, print, write_atomic};
use crate::state::{self, UnitState};
use crate::EXIT_FINDINGS;
use anyhow::{bail, Context, Result};
use std::os::unix::fs::{DirBuilderExt, MetadataExt};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};
use sysprof_core::suggest::{Change, Level, SuggestOptions, Suggestion, TargetFacts};
use sysprof_core::unit::{parse_unit_bytes, UnitFile};
use sysprof_record::systemd;

/// The name of the drop-in `apply` writes (drop-ins apply in name order: an administrator's
/// `override.conf` from `systemctl edit` still comes after it and wins).
pub const DROPIN_NAME: &str = "50-sysprof.conf";

/// A suggestion with everything it was made from.
pub struct UnitSuggestion {
    pub suggestion: Suggestion,
    pub facts: TargetFacts,
    /// The unit's current files (unit file, then drop-ins), sysprof's own drop-in left out.
    pub current: Vec<(PathBuf, UnitFile)>,
    pub sources: Vec<PathBuf>,
}

impl UnitSuggestion {
    pub fn render(&self, explain: bool) -> String {
        let sources: Vec<String> = self
            .sources
            .iter()
            .map(|p| p.display().to_string())
            .collect();
        let mut header = vec![format!(
            "Suggested by sysprof {} for systemd {} from {}",
            env!("CARGO_PKG_VERSION"),
            self.facts.systemd_version,
            sources.join(", ")
        )];
        if !self.current.is_empty() {
            header.push(format!(
                "Never looser than the unit's current settings ({} file{}).",
                self.current.len(),
                if self.current.len() == 1 { "" } else { "s" }
            ));
        }
        header.push(
            "Review it, then test it with `sysprof check` and `systemd-analyze verify`.".to_owned(),
        );
        self.suggestion.render_dropin(&header, explain)
    }

    pub fn changes(&self) -> Vec<Change> {
        let units: Vec<UnitFile> = self.current.iter().map(|(_, u)| u.clone()).collect();
        sysprof_core::suggest::changes(&self.suggestion, &units)
    }
}

pub fn level_of(choice: LevelChoice) -> Level {
    match choice {
        LevelChoice::Strict => Level::Strict,
        LevelChoice::Groups => Level::Groups,
    }
}

/// Validates and normalizes a unit name from the command line.
pub fn unit_name(name: &str) -> Result<String> {
    Ok(sysprof_record::unit::normalize_unit_name(name)?)
}

/// Builds the suggestion for `source`: its traces (and the unit's recordings), fitted to the
/// unit's current files (or the `--policy` files).
pub fn suggest(
    source: &SuggestSource,
    traces: &[PathBuf],
    state_root: &Path,
    quiet: bool,
) -> Result<UnitSuggestion> {
    let unit = source.unit.as_deref().map(unit_name).transpose()?;
    let mut sources: Vec<PathBuf> = traces.to_vec();
    if let Some(unit) = &unit {
        let recordings = UnitState::new(state_root, unit).recordings()?;
        if recordings.is_empty() && traces.is_empty() {
            bail!(
                "no recordings of {unit} in {} (record one with `sysprof record --unit {unit}`)",
                state_root.display()
            );
        }
        sources.extend(recordings);
    }
    let trace = load_merged(&sources)?;
    let facts = target_facts(&source.target, &trace, quiet)?;
    let mut suggestion = sysprof_core::suggest::suggest(
        &trace,
        &facts,
        SuggestOptions {
            level: level_of(source.level),
        },
    );
    let files = if !source.policies.is_empty() {
        source.policies.clone()
    } else if let Some(unit) = &unit {
        systemd::unit_files(unit)
            .with_context(|| format!("cannot read the current settings of {unit}"))?
            .into_iter()
            .filter(|p| p.file_name().is_none_or(|n| n != DROPIN_NAME))
            .collect()
    } else {
        Vec::new()
    };
    let mut current = Vec::new();
    for path in files {
        let bytes =
            std::fs::read(&path).with_context(|| format!("cannot read {}", path.display()))?;
        let name = path.to_string_lossy().into_owned();
        let file = parse_unit_bytes(&name, &bytes)?;
        current.push((path, file));
    }
    if !current.is_empty() {
        let units: Vec<UnitFile> = current.iter().map(|(_, u)| u.clone()).collect();
        sysprof_core::suggest::respect_current(&mut suggestion, &units, &facts.groups);
    }
    Ok(UnitSuggestion {
        suggestion,
        facts,
        current,
        sources,
    })
}

/// Prints the changes and the exposure before → after on stderr (stdout stays the drop-in).
pub fn report(unit: Option<&str>, s: &UnitSuggestion, dropin: &str, quiet: bool) {
    if quiet {
        return;
    }
    let changes = s.changes();
    if !s.current.is_empty() {
        eprintln!("changes to the current settings ({}):", changes.len());
        for c in &changes {
            eprintln!(
                "  {}: {} → {}",
                c.key,
                summarize(&c.before),
                summarize(&c.after)
            );
        }
    }
    if let Some(unit) = unit {
        let before = if systemd::is_running() {
            systemd::exposure_online(unit).map(|e| (e, "online"))
        } else {
            offline_exposure(unit, &s.current, None).map(|e| (e, "offline"))
        };
        let after = offline_exposure(unit, &s.current, Some(dropin));
        match (before, after) {
            (Some((b, how)), Some(a)) => eprintln!(
                "exposure (systemd-analyze security): {b:.1} ({how}) → {a:.1} (offline, with the drop-in)"
            ),
            _ => eprintln!("exposure: systemd-analyze security gave no answer"),
        }
    }
}

fn summarize(values: &[String]) -> String {
    let shown: Vec<String> = values
        .iter()
        .map(|v| {
            if v.is_empty() {
                "(empty)".to_owned()
            } else if v.chars().count() > 60 {
                let head: String = v.chars().take(57).collect();
                format!("{head}…")
            } else {
                v.clone()
            }
        })
        .collect();
    if shown.is_empty() {
        "(not set)".to_owned()
    } else {
        shown.join(" | ")
    }
}

/// `systemd-analyze security --offline=yes` of the unit's files copied into a scratch directory,
/// with `dropin` added last when given.
fn offline_exposure(
    unit: &str,
    current: &[(PathBuf, UnitFile)],
    dropin: Option<&str>,
) -> Option<f64> {
    let (first, rest) = current.split_first()?;
    let tmp = tempfile::tempdir().ok()?;
    std::fs::copy(&first.0, tmp.path().join(unit)).ok()?;
    let dir = tmp.path().join(format!("{unit}.d"));
    std::fs::create_dir(&dir).ok()?;
    for (i, (path, _)) in rest.iter().enumerate() {
        // Numbered copies keep systemd's order whatever the original names were.
        std::fs::copy(path, dir.join(format!("{i:03}.conf"))).ok()?;
    }
    if let Some(text) = dropin {
        std::fs::write(dir.join("999-sysprof.conf"), text).ok()?;
    }
    systemd::exposure_offline(tmp.path(), unit)
}

/// Where drop-ins of `unit` live.
fn dropin_dir(unit: &str, runtime: bool) -> PathBuf {
    let base = if runtime {
        "/run/systemd/system"
    } else {
        "/etc/systemd/system"
    };
    Path::new(base).join(format!("{unit}.d"))
}

/// Creates the drop-in directory, refusing one that is a symlink or not root's own directory
/// (sysprof must never write through a link into somewhere else).
fn ensure_dropin_dir(dir: &Path) -> Result<()> {
    match dir.symlink_metadata() {
        Ok(meta) if meta.file_type().is_symlink() => {
            bail!(
                "{} is a symlink; refusing to write through it",
                dir.display()
            )
        }
        Ok(meta) if !meta.is_dir() => bail!("{} is not a directory", dir.display()),
        Ok(meta) if meta.uid() != 0 => bail!(
            "{} is owned by uid {}, not root; refusing to write there",
            dir.display(),
            meta.uid()
        ),
        Ok(_) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => std::fs::DirBuilder::new()
            .mode(0o755)
            .create(dir)
            .with_context(|| format!("cannot create {}", dir.display())),
        Err(e) => Err(e).with_context(|| format!("cannot inspect {}", dir.display())),
    }
}

/// The drop-in file, refusing a symlink or anything but a regular file in its place.
fn existing_dropin(path: &Path) -> Result<Option<Vec<u8>>> {
    match path.symlink_metadata() {
        Ok(meta) if !meta.file_type().is_file() => bail!(
            "{} is not a regular file (a symlink?); refusing to replace it",
            path.display()
        ),
        Ok(_) => {
            Ok(Some(std::fs::read(path).with_context(|| {
                format!("cannot read {}", path.display())
            })?))
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(e).with_context(|| format!("cannot inspect {}", path.display())),
    }
}

/// The unit's health as systemd reports it.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Health {
    active: String,
    sub: String,
    restarts: String,
    main_pid: String,
}

fn health(unit: &str) -> Result<Health> {
    let p = systemd::show(unit, &["ActiveState", "SubState", "NRestarts", "MainPID"])?;
    let get = |k: &str| p.get(k).cloned().unwrap_or_default();
    Ok(Health {
        active: get("ActiveState"),
        sub: get("SubState"),
        restarts: get("NRestarts"),
        main_pid: get("MainPID"),
    })
}

/// Restarts `unit` and watches it for `settle`: it must become active and then stay active
/// with the same main process and no automatic restart. Returns why not, if it did not.
fn restart_and_settle(unit: &str, settle: Duration, check_cmd: Option<&str>) -> Option<String> {
    if let Err(e) = systemd::restart(unit) {
        return Some(format!("restart failed: {e}"));
    }
    let first = match health(unit) {
        Ok(h) => h,
        Err(e) => return Some(format!("cannot read the unit's state: {e}")),
    };
    let deadline = Instant::now() + settle;
    let mut last = first.clone();
    loop {
        if last.active != "active" {
            return Some(format!("unit is {} ({})", last.active, last.sub));
        }
        if last.restarts != first.restarts {
            return Some(format!(
                "unit restarted itself (NRestarts {} → {})",
                first.restarts, last.restarts
            ));
        }
        if last.main_pid != first.main_pid {
            return Some(format!(
                "main process changed ({} → {}): it died and was replaced",
                first.main_pid, last.main_pid
            ));
        }
        if Instant::now() >= deadline {
            break;
        }
        std::thread::sleep(Duration::from_millis(250));
        last = match health(unit) {
            Ok(h) => h,
            Err(e) => return Some(format!("cannot read the unit's state: {e}")),
        };
    }
    if let Some(cmd) = check_cmd {
        match std::process::Command::new("sh").args(["-c", cmd]).status() {
            Ok(s) if s.success() => {}
            Ok(s) => return Some(format!("--check-cmd failed ({s})")),
            Err(e) => return Some(format!("cannot run --check-cmd: {e}")),
        }
    }
    None
}

/// Journal lines that say why a sandboxed start failed, plus systemd's own result.
fn failure_evidence(unit: &str, since: u64) -> Vec<String> {
    const SIGNS: [&str; 12] = [
        "status=",
        "EXEC",
        "NAMESPACE",
        "CAPABILITIES",
        "SECCOMP",
        "Permission denied",
        "Operation not permitted",
        "Read-only file system",
        "No such file or directory",
        "Bad system call",
        "core-dump",
        "Failed",
    ];
    let mut lines: Vec<String> = systemd::journal_since(unit, since)
        .into_iter()
        .filter(|l| SIGNS.iter().any(|s| l.contains(s)))
        .collect();
    let keep = lines.len().saturating_sub(12);
    lines.drain(..keep);
    if let Ok(p) = systemd::show(unit, &["Result", "ExecMainCode", "ExecMainStatus"]) {
        let get = |k: &str| p.get(k).map_or("?", String::as_str).to_owned();
        lines.push(format!(
            "systemd: Result={} ExecMainCode={} ExecMainStatus={}",
            get("Result"),
            get("ExecMainCode"),
            get("ExecMainStatus")
        ));
    }
    lines
}

fn epoch_now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

/// Puts `previous` back at `path` (or removes the file when there was none).
fn restore(path: &Path, previous: Option<&[u8]>) -> Result<()> {
    match previous {
        Some(bytes) => write_atomic(path, bytes),
        None => match std::fs::remove_file(path) {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => {
                Err(e).with_context(|| format!("cannot remove {}", path.display()))
            }
            _ => Ok(()),
        },
    }
}

pub fn apply(args: ApplyArgs, state_root: &Path, quiet: bool) -> Result<u8> {
    let unit = unit_name(&args.unit)?;
    if !systemd::is_running() {
        bail!("systemd is not the running service manager here; `apply` needs it (use `suggest` and install the drop-in yourself)");
    }
    let text = match &args.dropin {
        Some(path) => {
            let bytes =
                std::fs::read(path).with_context(|| format!("cannot read {}", path.display()))?;
            // Refuse anything systemd's parser would not read the way it looks.
            parse_unit_bytes(&path.to_string_lossy(), &bytes)?;
            String::from_utf8(bytes).with_context(|| format!("{} is not UTF-8", path.display()))?
        }
        None => {
            let source = SuggestSource {
                unit: Some(unit.clone()),
                policies: Vec::new(),
                level: args.level,
                target: TargetArgs {
                    systemd_version: args.target.systemd_version,
                    syscall_groups: args.target.syscall_groups.clone(),
                },
            };
            let s = suggest(&source, &args.traces, state_root, quiet)?;
            for w in &s.suggestion.warnings {
                note(quiet, &format!("warning: {w}"));
            }
            let text = s.render(true);
            report(Some(&unit), &s, &text, quiet);
            text
        }
    };

    let dir = dropin_dir(&unit, args.runtime);
    ensure_dropin_dir(&dir)?;
    let path = dir.join(DROPIN_NAME);
    let previous = existing_dropin(&path)?;

    // Keep what is replaced, so `revert` (and a failed health check) can put it back.
    let unit_state = UnitState::new(state_root, &unit);
    state::create_private_dir(&unit_state.previous_dir())?;
    let place = if args.runtime { "run" } else { "etc" };
    let stamp = state::stamp();
    let saved = match &previous {
        Some(bytes) => {
            let saved = state::unique(
                &unit_state.previous_dir(),
                &format!("{stamp}.{place}"),
                "conf",
            );
            write_atomic(&saved, bytes)?;
            saved
        }
        None => {
            let saved = state::unique(
                &unit_state.previous_dir(),
                &format!("{stamp}.{place}"),
                "absent",
            );
            write_atomic(&saved, b"")?;
            saved
        }
    };

    let since = epoch_now();
    write_atomic(&path, text.as_bytes())?;
    note(quiet, &format!("wrote {}", path.display()));
    systemd::daemon_reload()?;
    note(
        quiet,
        &format!(
            "restarting {unit}, then watching it for {}s…",
            args.settle.as_secs()
        ),
    );
    match restart_and_settle(&unit, args.settle, args.check_cmd.as_deref()) {
        None => {
            let after = systemd::exposure_online(&unit)
                .map_or_else(|| "?".to_owned(), |e| format!("{e:.1}"));
            note(
                quiet,
                &format!("{unit} is healthy with the drop-in (exposure now {after}); `sysprof revert --unit {unit}` undoes it"),
            );
            Ok(0)
        }
        Some(why) => {
            let evidence = failure_evidence(&unit, since);
            eprintln!("error: {unit} failed its health check with the drop-in: {why}");
            for line in &evidence {
                eprintln!("  | {line}");
            }
            restore(&path, previous.as_deref())?;
            let _ = std::fs::remove_file(&saved);
            systemd::daemon_reload()?;
            match restart_and_settle(&unit, Duration::from_secs(2), None) {
                None => eprintln!("rolled back: {unit} runs with its previous settings again"),
                Some(still) => {
                    eprintln!("rolled back the drop-in, but {unit} is still unhealthy: {still}")
                }
            }
            Ok(EXIT_FINDINGS)
        }
    }
}

pub fn revert(args: RevertArgs, state_root: &Path, quiet: bool) -> Result<u8> {
    let unit = unit_name(&args.unit)?;
    let unit_state = UnitState::new(state_root, &unit);
    let Some(saved) = unit_state.previous()?.pop() else {
        bail!(
            "nothing to revert: no `sysprof apply` of {unit} recorded in {}",
            state_root.display()
        );
    };
    let name = saved
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let runtime = name.contains(".run.");
    let dir = dropin_dir(&unit, runtime);
    ensure_dropin_dir(&dir)?;
    let path = dir.join(DROPIN_NAME);
    existing_dropin(&path)?; // refuses a symlink in its place
    let previous = if name.ends_with(".absent") {
        None
    } else {
        Some(std::fs::read(&saved).with_context(|| format!("cannot read {}", saved.display()))?)
    };
    restore(&path, previous.as_deref())?;
    std::fs::remove_file(&saved).with_context(|| format!("cannot remove {}", saved.display()))?;
    note(
        quiet,
        &match previous {
            Some(_) => format!("restored the previous {}", path.display()),
            None => format!("removed {} (there was none before)", path.display()),
        },
    );
    if systemd::is_running() {
        systemd::daemon_reload()?;
        if !args.no_restart {
            systemd::restart(&unit)?;
            note(quiet, &format!("restarted {unit}"));
        }
    }
    Ok(0)
}

/// `suggest` with `--unit` or `--policy`: the drop-in on stdout, changes and exposure on stderr.
pub fn suggest_command(
    args: crate::cli::SuggestArgs,
    state_root: &Path,
    quiet: bool,
) -> Result<u8> {
    let s = suggest(&args.source, &args.traces, state_root, quiet)?;
    let text = match args.format {
        crate::cli::Format::Json => format!("{}\n", serde_json::to_string_pretty(&s.suggestion)?),
        crate::cli::Format::Text => {
            for w in &s.suggestion.warnings {
                note(quiet, &format!("warning: {w}"));
            }
            s.render(args.explain)
        }
    };
    let unit = args.source.unit.as_deref().map(unit_name).transpose()?;
    if args.format == crate::cli::Format::Text {
        report(unit.as_deref(), &s, &text, quiet);
    }
    match &args.output {
        Some(path) => {
            write_atomic(path, text.as_bytes())?;
            note(quiet, &format!("wrote {}", path.display()));
        }
        None => print(&text)?,
    }
    Ok(0)
}
