//! `cargo xtask codegen [--check]`: regenerates the embedded systemd syscall-group tables in `crates/sysprof-core/data/syscall-filter/`.
//!
//! Files and where they come from:
//!
//! * `252.txt`: `SYSTEMD_COLORS=0 systemd-analyze syscall-filter --no-pager` of the host, which
//!   must run systemd 252 (the project's reference machine: Debian 12, 252.38), under a short
//!   comment header naming the exact version. Its "Unlisted System Calls" section describes the
//!   running kernel, so it is kept apart: it follows a comment line naming the kernel release.
//!   systemd prints that section only when tracefs is mounted; where it is not, the committed
//!   section is carried over (to refresh it as root without touching the host's mounts:
//!   `unshare -m sh -c 'mount -t tracefs tracefs /sys/kernel/tracing && cargo xtask codegen'`).
//! * `253.txt` … `256.txt`: derived from `252.txt` with the delta table in [`delta`], rendered in
//!   systemd's own format, without an "Unlisted" section (a kernel property, not a systemd one).
//!
//! The output depends only on the inputs (the host's systemd-analyze output and kernel release,
//! or the committed `252.txt`, plus the delta table): same inputs, same bytes.
//!
//! `--check` regenerates into memory and prints one `stale: FILE` line per file that differs
//! (or is missing, or is not produced by codegen), exiting 1 if there is any. Only the
//! systemd-determined part of `252.txt` counts: a different kernel or a host without tracefs is
//! reported as a note. Without `systemd-analyze`, or with a systemd other than 252, `252.txt`
//! cannot be re-captured: that is said, and the derived files are checked against it.
//!
//! The tables are embedded with `include_str!`, and this crate depends on `sysprof-core`, so a
//! deleted table stops the xtask from building: restore it from git, then regenerate.
//!
//! `XTASK_SYSTEMD_ANALYZE` names the program to run instead of `systemd-analyze` (tests use a
//! missing one); `--dir DIR` works on another directory (tests use a copy).

mod delta;
mod table;

use anyhow::{bail, Context, Result};
use std::collections::BTreeSet;
use std::ffi::OsString;
use std::io::ErrorKind;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};
use sysprof_core::tables::groups::SyscallGroups;
use table::Table;

/// The data directory, relative to the workspace root.
const DATA_DIR: &str = "crates/sysprof-core/data/syscall-filter";

/// How the comment line that introduces the kernel-dependent part of the base file starts.
const KERNEL_LINE_START: &str = "# The Unlisted section below was captured on Linux ";

/// Every header starts with this line.
const HEADER_FIRST: &str =
    "# systemd-analyze syscall-filter table for sysprof (crates/sysprof-core/src/tables/groups.rs).\n";

/// Every header ends with this line.
const HEADER_LAST: &str =
    "# Written by `cargo xtask codegen`; do not edit (`cargo xtask codegen --check` verifies it).\n";

const USAGE: &str = "usage: cargo xtask codegen [--check] [--dir DIR]

Regenerates crates/sysprof-core/data/syscall-filter/*.txt: 252.txt from this host's
`systemd-analyze syscall-filter` (systemd 252 only), 253-256 from 252.txt and the delta
table in xtask/src/codegen/delta.rs.

  --check    regenerate in memory; print one line per stale file and exit 1 if any
  --dir DIR  use DIR instead of the committed data directory
";

/// Parsed command line.
struct Options {
    check: bool,
    dir: PathBuf,
}

/// What the host's systemd can contribute.
enum Host {
    /// No usable `systemd-analyze`: why.
    Absent(String),
    /// A systemd whose output is not the base version's.
    Other { version: String },
    /// A base-version systemd and its output.
    Base { version: String, output: String },
}

/// One generated file.
struct Generated {
    name: String,
    text: String,
}

/// Runs the task.
pub fn run(args: &[String]) -> Result<ExitCode> {
    let Some(options) = parse_args(args)? else {
        print!("{USAGE}");
        return Ok(ExitCode::SUCCESS);
    };
    let (files, notes) = generate(&options.dir)?;
    for note in &notes {
        println!("note: {note}");
    }
    if options.check {
        check(&options.dir, &files)
    } else {
        write(&options.dir, &files)?;
        Ok(ExitCode::SUCCESS)
    }
}

/// `None` for `--help`.
fn parse_args(args: &[String]) -> Result<Option<Options>> {
    let mut options = Options {
        check: false,
        dir: crate::workspace_root().join(DATA_DIR),
    };
    let mut args = args.iter();
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--check" => options.check = true,
            "--dir" => {
                let dir = args.next().context("--dir needs a directory")?;
                options.dir = PathBuf::from(dir);
            }
            "-h" | "--help" => return Ok(None),
            other => bail!("unknown argument {other:?}\n\n{USAGE}"),
        }
    }
    Ok(Some(options))
}

/// Generates every file in memory, with notes on what could not be regenerated from the host.
fn generate(dir: &Path) -> Result<(Vec<Generated>, Vec<String>)> {
    let base_name = format!("{}.txt", delta::BASE_VERSION);
    let base_path = dir.join(&base_name);
    let committed = read_if_present(&base_path)?;
    let mut notes = Vec::new();
    let base = match probe_host()? {
        Host::Base { version, output } => {
            notes.push(format!("{base_name}: captured from this host's {version}"));
            let (groups_part, unlisted) = split_output(&output);
            let kernel_part = match unlisted {
                Some(section) => Some(kernel_part(&kernel_release(), &section)),
                None => {
                    let carried = committed.as_deref().and_then(|c| split_base(c).1);
                    notes.push(format!(
                        "this host's systemd-analyze printed no \"Unlisted System Calls\" section \
                         (tracefs not mounted?); {} in {base_name}",
                        if carried.is_some() {
                            "the committed one is kept"
                        } else {
                            "there is none"
                        }
                    ));
                    carried.map(str::to_owned)
                }
            };
            // A package update with the same tables (252.38 → 252.39) keeps the committed header,
            // so upgrading the host's systemd does not make an unchanged table look stale.
            let version = match committed.as_deref() {
                Some(c)
                    if table::body(split_base(c).0) == table::body(&groups_part)
                        && captured_version(c).is_some_and(|old| old != version) =>
                {
                    let old = captured_version(c).unwrap_or_default().to_owned();
                    notes.push(format!(
                        "{base_name}: this host's {version} prints the same groups as the captured {old}"
                    ));
                    old
                }
                _ => version,
            };
            base_file(&version, &groups_part, kernel_part.as_deref())
        }
        Host::Absent(why) => committed_base(committed, &base_path, why, &mut notes)?,
        Host::Other { version } => {
            let why = format!("this host runs {version}");
            committed_base(committed, &base_path, why, &mut notes)?
        }
    };
    let mut table = Table::parse(&base).with_context(|| format!("reading {base_name}"))?;
    // The derived files are only right if rendering reproduces systemd's own output.
    let (base_groups, _) = split_base(&base);
    if table.render() != table::body(base_groups) {
        bail!("rendering {base_name} does not reproduce it: the format of this systemd is not understood");
    }
    let mut files = vec![Generated {
        name: base_name,
        text: base,
    }];
    for step in &delta::STEPS {
        delta::apply(&mut table, step)?;
        files.push(Generated {
            name: format!("{}.txt", step.version),
            text: derived_file(step, &table.render()),
        });
    }
    for file in &files {
        SyscallGroups::parse(&file.text)
            .with_context(|| format!("generated {} does not parse", file.name))?;
    }
    Ok((files, notes))
}

/// The committed base file, used when the host cannot capture it (`why`).
fn committed_base(
    committed: Option<String>,
    path: &Path,
    why: String,
    notes: &mut Vec<String>,
) -> Result<String> {
    let base = delta::BASE_VERSION;
    notes.push(format!(
        "{why}: {base}.txt can only be captured on a systemd {base} host, so it is not \
         re-captured; the derived tables are generated from the committed {base}.txt"
    ));
    committed.with_context(|| format!("{} is missing and cannot be captured here", path.display()))
}

/// Asks the host's systemd for its version and, if it is the base version, its table.
fn probe_host() -> Result<Host> {
    let program = std::env::var_os("XTASK_SYSTEMD_ANALYZE")
        .unwrap_or_else(|| OsString::from("systemd-analyze"));
    let shown = Path::new(&program).display().to_string();
    let version = match run_tool(&program, &["--version"]) {
        Ok(out) => out,
        Err(e) if e.kind() == ErrorKind::NotFound => {
            return Ok(Host::Absent(format!("{shown} not found")));
        }
        Err(e) => return Err(e).with_context(|| format!("running {shown} --version")),
    };
    let version = version.lines().next().unwrap_or_default().trim().to_owned();
    let major = version
        .strip_prefix("systemd ")
        .and_then(|rest| rest.split_whitespace().next())
        .and_then(|major| major.parse::<u32>().ok())
        .with_context(|| format!("unexpected `{shown} --version` output {version:?}"))?;
    if major != delta::BASE_VERSION {
        return Ok(Host::Other { version });
    }
    let output = run_tool(&program, &["syscall-filter", "--no-pager"])
        .with_context(|| format!("running {shown} syscall-filter"))?;
    Ok(Host::Base { version, output })
}

/// Runs `program args` without colours or pager; its stdout, or an error with its stderr.
fn run_tool(program: &OsString, args: &[&str]) -> std::io::Result<String> {
    let out = Command::new(program)
        .args(args)
        .env("SYSTEMD_COLORS", "0")
        .env("SYSTEMD_PAGER", "")
        .output()?;
    if !out.status.success() {
        return Err(std::io::Error::other(format!(
            "{}: {}",
            out.status,
            String::from_utf8_lossy(&out.stderr).trim()
        )));
    }
    String::from_utf8(out.stdout).map_err(std::io::Error::other)
}

/// The running kernel's release (`uname -r`).
fn kernel_release() -> String {
    std::fs::read_to_string("/proc/sys/kernel/osrelease")
        .map(|r| r.trim().to_owned())
        .unwrap_or_else(|_| "(unknown release)".to_owned())
}

/// Splits systemd's output into the groups and "Ungrouped" part and the "Unlisted" section,
/// each ending in exactly one newline.
fn split_output(output: &str) -> (String, Option<String>) {
    let lines: Vec<&str> = output.lines().collect();
    let at = lines
        .iter()
        .position(|l| l.starts_with(table::UNLISTED_HEADER_START));
    let (groups, unlisted) = match at {
        Some(at) => (&lines[..at], Some(&lines[at..])),
        None => (&lines[..], None),
    };
    (join_lines(groups), unlisted.map(join_lines))
}

/// `lines` without trailing blank ones, each followed by a newline.
fn join_lines(lines: &[&str]) -> String {
    let end = lines
        .iter()
        .rposition(|l| !l.trim().is_empty())
        .map_or(0, |last| last + 1);
    lines[..end].iter().map(|l| format!("{l}\n")).collect()
}

/// The kernel-dependent tail of the base file: a blank line, the comment naming the kernel,
/// the "Unlisted" section.
fn kernel_part(release: &str, unlisted: &str) -> String {
    format!("\n{KERNEL_LINE_START}{release}; it describes that kernel, not systemd.\n{unlisted}")
}

/// Splits a base file into its systemd-determined part and its kernel-dependent tail.
fn split_base(text: &str) -> (&str, Option<&str>) {
    match text.find(&format!("\n\n{KERNEL_LINE_START}")) {
        Some(at) => (&text[..=at], Some(&text[at + 1..])),
        None => (text, None),
    }
}

/// The systemd version named in a base file's header.
fn captured_version(base: &str) -> Option<&str> {
    base.lines()
        .find_map(|l| l.strip_prefix("# Captured from "))
        .and_then(|rest| rest.split(" with `").next())
}

/// The base file: header, systemd's groups and "Ungrouped" section, the kernel part if any.
fn base_file(version: &str, groups: &str, kernel: Option<&str>) -> String {
    format!(
        "{HEADER_FIRST}# Captured from {version} with \
         `SYSTEMD_COLORS=0 systemd-analyze syscall-filter --no-pager`.\n{HEADER_LAST}{groups}{}",
        kernel.unwrap_or_default()
    )
}

/// A derived file: header and the rendered table.
fn derived_file(step: &delta::Step, rendered: &str) -> String {
    format!(
        "{HEADER_FIRST}# systemd {version}, derived from {base}.txt by xtask/src/codegen/delta.rs: {summary}.\n\
         # Group members are the upstream tag's (the minimum a systemd {version} target has); @known is approximate;\n\
         # no Unlisted section (it describes a running kernel, not a systemd version).\n\
         {HEADER_LAST}{rendered}",
        version = step.version,
        base = delta::BASE_VERSION,
        summary = step.summary,
    )
}

/// The file's contents, or `None` if it does not exist.
fn read_if_present(path: &Path) -> Result<Option<String>> {
    match std::fs::read_to_string(path) {
        Ok(text) => Ok(Some(text)),
        Err(e) if e.kind() == ErrorKind::NotFound => Ok(None),
        Err(e) => Err(e).with_context(|| format!("reading {}", path.display())),
    }
}

/// `*.txt` files in `dir` that codegen does not produce.
fn strays(dir: &Path, files: &[Generated]) -> Result<Vec<PathBuf>> {
    let wanted: BTreeSet<&str> = files.iter().map(|f| f.name.as_str()).collect();
    let entries = match std::fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(e) if e.kind() == ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(e).with_context(|| format!("listing {}", dir.display())),
    };
    let mut found = Vec::new();
    for entry in entries {
        let path = entry
            .with_context(|| format!("listing {}", dir.display()))?
            .path();
        let name = path
            .file_name()
            .and_then(|n| n.to_str())
            .unwrap_or_default();
        if name.ends_with(".txt") && !wanted.contains(name) {
            found.push(path);
        }
    }
    found.sort();
    Ok(found)
}

/// Compares `files` with what is on disk; one `stale:` line per difference.
fn check(dir: &Path, files: &[Generated]) -> Result<ExitCode> {
    let mut stale = 0;
    for file in files {
        let path = dir.join(&file.name);
        let Some(committed) = read_if_present(&path)? else {
            eprintln!("stale: {} (missing)", path.display());
            stale += 1;
            continue;
        };
        let (want, want_kernel) = split_base(&file.text);
        let (have, have_kernel) = split_base(&committed);
        if want != have {
            eprintln!("stale: {}", path.display());
            stale += 1;
        } else if want_kernel != have_kernel {
            println!(
                "note: {}: the kernel-dependent \"Unlisted\" section differs from this host's \
                 kernel; not a freshness failure (`cargo xtask codegen` refreshes it)",
                path.display()
            );
        }
    }
    for path in strays(dir, files)? {
        eprintln!("stale: {} (not produced by codegen)", path.display());
        stale += 1;
    }
    if stale > 0 {
        eprintln!("{stale} stale file(s); run `cargo xtask codegen` and commit the result");
        return Ok(ExitCode::FAILURE);
    }
    println!("{} syscall-filter tables are up to date", files.len());
    Ok(ExitCode::SUCCESS)
}

/// Writes the files that changed and removes stray `*.txt` files.
fn write(dir: &Path, files: &[Generated]) -> Result<()> {
    std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    for file in files {
        let path = dir.join(&file.name);
        if read_if_present(&path)?.as_deref() == Some(file.text.as_str()) {
            println!("unchanged: {}", path.display());
            continue;
        }
        std::fs::write(&path, &file.text).with_context(|| format!("writing {}", path.display()))?;
        println!("wrote: {}", path.display());
    }
    for path in strays(dir, files)? {
        std::fs::remove_file(&path).with_context(|| format!("removing {}", path.display()))?;
        println!("removed: {}", path.display());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn output_splits_into_groups_and_unlisted() {
        let out = "@a\n    # A\n    read\n\n# Ungrouped System Calls (x):\n#   b\n\n\
                   # Unlisted System Calls (y):\n#   c\n";
        let (groups, unlisted) = split_output(out);
        assert_eq!(
            groups,
            "@a\n    # A\n    read\n\n# Ungrouped System Calls (x):\n#   b\n"
        );
        assert_eq!(
            unlisted.as_deref(),
            Some("# Unlisted System Calls (y):\n#   c\n")
        );
        let (groups, unlisted) = split_output("@a\n    # A\n    read\n\n#   b\n\n");
        assert_eq!(groups, "@a\n    # A\n    read\n\n#   b\n");
        assert_eq!(unlisted, None);
    }

    #[test]
    fn captured_version_is_read_back_from_the_header() {
        let file = base_file("systemd 252 (252.38-1~deb12u1)", "@default\n", None);
        assert_eq!(
            captured_version(&file),
            Some("systemd 252 (252.38-1~deb12u1)")
        );
        assert_eq!(captured_version("@default\n"), None);
    }

    #[test]
    fn base_file_splits_back() {
        let kernel = kernel_part("6.1.0", "# Unlisted System Calls (y):\n#   c\n");
        let text = base_file(
            "systemd 252 (252.1)",
            "@a\n    # A\n    read\n",
            Some(&kernel),
        );
        let (groups, tail) = split_base(&text);
        assert!(groups.ends_with("@a\n    # A\n    read\n"), "{groups:?}");
        assert_eq!(tail, Some(kernel.as_str()));
        assert_eq!(format!("{groups}{}", tail.unwrap_or_default()), text);
        let plain = base_file("systemd 252 (252.1)", "@a\n    # A\n    read\n", None);
        assert_eq!(split_base(&plain), (plain.as_str(), None));
        let parsed = SyscallGroups::parse(&text).map(|t| t.unlisted().clone());
        assert_eq!(parsed.ok(), Some(BTreeSet::from(["c".to_owned()])));
    }

    #[test]
    fn arguments() -> Result<()> {
        let opts = parse_args(&["--check".into(), "--dir".into(), "/x".into()])?;
        assert!(opts.is_some_and(|o| o.check && o.dir == Path::new("/x")));
        assert!(parse_args(&["--help".into()])?.is_none());
        assert!(parse_args(&["--bogus".into()]).is_err());
        assert!(parse_args(&["--dir".into()]).is_err());
        Ok(())
    }
}
