//! One function per subcommand; each returns the exit status or an error for `main` to render.

use crate::cli::{Cli, Command, Format, TargetArgs};
use crate::output::{note, print, write_atomic};
use crate::{EXIT_ERROR, EXIT_FINDINGS};
use anyhow::{bail, Context, Result};
use clap::CommandFactory;
use std::path::{Path, PathBuf};
use sysprof_core::suggest::TargetFacts;
use sysprof_core::tables::groups::SyscallGroups;
use sysprof_core::trace::Trace;

mod check;
mod exercise;
mod import;
mod record;
mod unit;

/// Runs the parsed command line.
pub fn run(cli: Cli) -> Result<u8> {
    let quiet = cli.quiet;
    let state_root = crate::state::root(cli.state_dir.as_deref());
    match cli.command {
        Command::Record(args) => record::run(args, &state_root, quiet),
        Command::Import(crate::cli::ImportCommand::Strace(args)) => import::strace(args, quiet),
        Command::Suggest(args) => unit::suggest_command(args, &state_root, quiet),
        Command::Check(args) => check::run(args, quiet),
        Command::Apply(args) => unit::apply(args, &state_root, quiet),
        Command::Revert(args) => unit::revert(args, &state_root, quiet),
        Command::Diff(args) => diff(args),
        Command::Merge(args) => merge(args, quiet),
        Command::Show(args) => show(args),
        Command::Demo(args) => record::demo(args, quiet),
        Command::Completions { shell } => {
            let mut buf = Vec::new();
            clap_complete::generate(shell, &mut Cli::command(), "sysprof", &mut buf);
            print(&String::from_utf8_lossy(&buf))?;
            Ok(0)
        }
        Command::Man { output } => man(&output, quiet),
    }
}

/// Reads and validates one trace file.
pub fn load_trace(path: &Path) -> Result<Trace> {
    let file =
        std::fs::File::open(path).with_context(|| format!("cannot open {}", path.display()))?;
    if file.metadata().is_ok_and(|m| m.is_dir()) {
        bail!("{} is a directory, not a trace", path.display());
    }
    Trace::read_from(std::io::BufReader::new(file)).with_context(|| format!("{}", path.display()))
}

/// Reads several traces and unions them.
pub fn load_merged(paths: &[PathBuf]) -> Result<Trace> {
    let mut iter = paths.iter();
    let first = iter.next().context("no trace given")?;
    let mut merged = load_trace(first)?;
    for p in iter {
        merged.merge(load_trace(p)?);
    }
    Ok(merged)
}

/// Works out the target's systemd version and syscall groups, saying where they came from.
pub fn target_facts(args: &TargetArgs, trace: &Trace, quiet: bool) -> Result<TargetFacts> {
    let local = sysprof_record::systemd::local_version();
    let version = match (args.systemd_version, trace.meta.systemd_version, local) {
        (Some(v), _, _) | (None, Some(v), _) | (None, None, Some(v)) => v,
        (None, None, None) => {
            note(quiet, "warning: systemd version unknown (no --systemd-version, none in the trace, no local systemctl); assuming 252");
            252
        }
    };
    let groups = if let Some(path) = &args.syscall_groups {
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("cannot read {}", path.display()))?;
        SyscallGroups::parse(&text).with_context(|| format!("{}", path.display()))?
    } else if local == Some(version) {
        match sysprof_record::systemd::local_syscall_filter()
            .map(|text| SyscallGroups::parse(&text))
        {
            Some(Ok(groups)) => groups,
            _ => SyscallGroups::embedded(version),
        }
    } else {
        let groups = SyscallGroups::embedded(version);
        note(
            quiet,
            &format!(
                "note: using sysprof's built-in syscall groups for systemd {version}; pass --syscall-groups with the target's `systemd-analyze syscall-filter` output for exact results"
            ),
        );
        groups
    };
    Ok(TargetFacts {
        systemd_version: version,
        groups,
    })
}

fn diff(args: crate::cli::DiffArgs) -> Result<u8> {
    let old = load_trace(&args.old)?;
    let new = load_trace(&args.new)?;
    let d = sysprof_core::diff::diff(&old, &new);
    let text = match args.format {
        Format::Json => format!("{}\n", serde_json::to_string_pretty(&d)?),
        Format::Text => {
            let mut s = String::new();
            for line in &d.added {
                s.push_str(&format!("+ {line}\n"));
            }
            for line in &d.removed {
                s.push_str(&format!("- {line}\n"));
            }
            s
        }
    };
    print(&text)?;
    Ok(if d.added.is_empty() { 0 } else { EXIT_FINDINGS })
}

fn merge(args: crate::cli::MergeArgs, quiet: bool) -> Result<u8> {
    let merged = load_merged(&args.traces)?;
    write_atomic(&args.output, merged.to_json().as_bytes())?;
    note(
        quiet,
        &format!(
            "merged {} traces into {}",
            args.traces.len(),
            args.output.display()
        ),
    );
    Ok(0)
}

fn show(args: crate::cli::ShowArgs) -> Result<u8> {
    let trace = load_trace(&args.trace)?;
    let m = &trace.meta;
    let summary = serde_json::json!({
        "targets": m.targets,
        "backends": m.backends,
        "arch": m.arch,
        "kernels": m.kernels,
        "systemd_version": m.systemd_version,
        "start": m.start,
        "end": m.end,
        "integrity": m.integrity,
        "counts": {
            "syscalls": trace.syscalls.len(),
            "capabilities": trace.capabilities.len(),
            "files": trace.files.len(),
            "execs": trace.execs.len(),
            "sockets": trace.sockets.len(),
            "addresses": trace.addresses.len(),
            "namespaces": trace.namespaces.len(),
        }
    });
    let text = match args.format {
        Format::Json => format!("{}\n", serde_json::to_string_pretty(&summary)?),
        Format::Text => {
            let mut s = String::new();
            let list = |v: &serde_json::Value| v.to_string();
            s.push_str(&format!("targets:      {}\n", list(&summary["targets"])));
            s.push_str(&format!("backends:     {}\n", list(&summary["backends"])));
            s.push_str(&format!("arch:         {}\n", m.arch));
            s.push_str(&format!(
                "time:         {} .. {}\n",
                m.start.as_deref().unwrap_or("?"),
                m.end.as_deref().unwrap_or("?")
            ));
            s.push_str(&format!("syscalls:     {}\n", trace.syscalls.len()));
            s.push_str(&format!("capabilities: {}\n", trace.capabilities.len()));
            s.push_str(&format!("files:        {}\n", trace.files.len()));
            s.push_str(&format!("execs:        {}\n", trace.execs.len()));
            s.push_str(&format!("sockets:      {}\n", trace.sockets.len()));
            s.push_str(&format!("integrity:    {}\n", list(&summary["integrity"])));
            s
        }
    };
    print(&text)?;
    Ok(0)
}

fn man(dir: &Path, quiet: bool) -> Result<u8> {
    std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    let cmd = Cli::command();
    let mut pages = vec![(String::from("sysprof"), cmd.clone())];
    for sub in cmd.get_subcommands() {
        pages.push((format!("sysprof-{}", sub.get_name()), sub.clone()));
    }
    for (name, page) in pages {
        let mut buf = Vec::new();
        clap_mangen::Man::new(page.name(name.clone()))
            .render(&mut buf)
            .context("cannot render man page")?;
        let path = dir.join(format!("{name}.1"));
        write_atomic(&path, &buf)?;
        note(quiet, &format!("wrote {}", path.display()));
    }
    Ok(0)
}

/// The exit status that mirrors a launched command's end (`128+N` for signal N, like a shell).
pub fn child_status(exit: Option<sysprof_record::ChildExit>) -> u8 {
    match exit {
        Some(sysprof_record::ChildExit::Code(c)) => u8::try_from(c & 0xff).unwrap_or(EXIT_ERROR),
        Some(sysprof_record::ChildExit::Signal(s)) => {
            u8::try_from(128 + (s & 0x7f)).unwrap_or(EXIT_ERROR)
        }
        None => 0,
    }
}
