//! `sysprof import strace`: strace logs → trace.

use crate::cli::ImportStraceArgs;
use crate::output::{note, write_atomic};
use anyhow::{bail, Context, Result};
use std::io::BufReader;
use sysprof_core::strace::{pid_from_ff_name, StraceImporter};
use sysprof_core::trace::Target;

pub fn strace(args: ImportStraceArgs, quiet: bool) -> Result<u8> {
    let arch = args.arch.unwrap_or_else(sysprof_record::host::arch);
    let mut importer = StraceImporter::new(&arch);
    let per_process_files = args.files.len() > 1;
    // Children inherit cwd and fds from their parent, so `-ff` files are replayed in pid order
    // (pids grow as processes are created; a wrapped pid counter is not handled).
    let mut files = args.files.clone();
    if per_process_files {
        files.sort_by_key(|p| (pid_from_ff_name(&p.display().to_string()), p.clone()));
    }
    for path in &files {
        let name = path.display().to_string();
        let file = std::fs::File::open(path).with_context(|| format!("cannot open {name}"))?;
        if file.metadata().is_ok_and(|m| m.is_dir()) {
            bail!("{name} is a directory, not an strace log");
        }
        // Only `-ff -o PREFIX` logs (several files named PREFIX.PID) lack a pid on each line.
        let hint = if per_process_files {
            pid_from_ff_name(&name)
        } else {
            None
        };
        importer
            .feed(&name, BufReader::new(file), hint)
            .with_context(|| name.clone())?;
    }
    let (mut trace, report) = importer.finish();
    if report.lines > 0 && report.unparsed == report.lines {
        bail!(
            "{}: no line could be parsed as strace output (first: {:?})",
            args.files[0].display(),
            report.samples.first().map(|s| s.2.as_str()).unwrap_or("")
        );
    }
    trace
        .meta
        .tool_versions
        .insert(env!("CARGO_PKG_VERSION").to_owned());
    trace.meta.targets.insert(Target::StraceLog(
        args.files.iter().map(|p| p.display().to_string()).collect(),
    ));
    write_atomic(&args.output, trace.to_json().as_bytes())?;
    note(
        quiet,
        &format!(
            "imported {} lines: {} syscalls, {} file observations, {} execs -> {}",
            report.lines,
            trace.syscalls.len(),
            trace.files.len(),
            trace.execs.len(),
            args.output.display()
        ),
    );
    if report.unparsed > 0 {
        note(
            quiet,
            &format!(
                "warning: {} lines could not be parsed; first ones:",
                report.unparsed
            ),
        );
        for (source, line, text) in &report.samples {
            let shown: String = text.chars().take(160).collect();
            note(
                quiet,
                &format!("  {source}:{line}: {}", shown.escape_debug()),
            );
        }
    }
    Ok(0)
}
