//! `cargo xtask codegen --check` against the committed tables, and its behaviour with stale files, another or no systemd.

use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

type Result<T = ()> = std::result::Result<T, Box<dyn std::error::Error>>;

fn data_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../crates/sysprof-core/data/syscall-filter")
}

/// Runs the xtask binary with `args`; `systemd_analyze` replaces the host's program if given.
fn xtask(args: &[&str], systemd_analyze: Option<&Path>) -> Result<Output> {
    let mut command = Command::new(env!("CARGO_BIN_EXE_xtask"));
    command.args(args);
    if let Some(program) = systemd_analyze {
        command.env("XTASK_SYSTEMD_ANALYZE", program);
    }
    Ok(command.output()?)
}

fn text(output: &Output) -> String {
    format!(
        "status {:?}\n--- stdout\n{}--- stderr\n{}",
        output.status.code(),
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    )
}

fn stale_lines(output: &Output) -> Vec<String> {
    String::from_utf8_lossy(&output.stderr)
        .lines()
        .filter(|l| l.starts_with("stale: "))
        .map(str::to_owned)
        .collect()
}

/// A copy of the committed data directory.
fn copy_of_data() -> Result<tempfile::TempDir> {
    let dir = tempfile::tempdir()?;
    for entry in fs::read_dir(data_dir())? {
        let path = entry?.path();
        if let Some(name) = path.file_name() {
            fs::copy(&path, dir.path().join(name))?;
        }
    }
    Ok(dir)
}

/// A stand-in `systemd-analyze` printing `version` and, for `syscall-filter`, `output`.
fn fake_systemd_analyze(dir: &Path, version: &str, output: &str) -> Result<PathBuf> {
    let capture = dir.join("capture.out");
    fs::write(&capture, output)?;
    let script = dir.join("systemd-analyze");
    fs::write(
        &script,
        format!(
            "#!/bin/sh\ncase \"$1\" in\n--version) echo '{version}'; echo '+PAM -IDN';;\n\
             syscall-filter) cat '{}';;\n*) exit 1;;\nesac\n",
            capture.display()
        ),
    )?;
    fs::set_permissions(&script, fs::Permissions::from_mode(0o755))?;
    Ok(script)
}

/// What systemd 252.38 printed, recovered from the committed file (header and kernel line out).
fn committed_capture(with_unlisted: bool) -> Result<String> {
    let committed = fs::read_to_string(data_dir().join("252.txt"))?;
    let mut out = String::new();
    for line in committed.lines().skip_while(|l| l.starts_with('#')) {
        if line.starts_with("# The Unlisted section below") {
            continue;
        }
        if line.starts_with("# Unlisted") && !with_unlisted {
            break;
        }
        out.push_str(line);
        out.push('\n');
    }
    Ok(out)
}

#[test]
fn committed_tables_are_fresh() -> Result {
    let output = xtask(&["codegen", "--check"], None)?;
    assert!(
        output.status.success(),
        "stale tables: run `cargo xtask codegen`\n{}",
        text(&output)
    );
    // Say what was and was not re-checked on this host.
    eprintln!("{}", text(&output));
    Ok(())
}

#[test]
fn without_systemd_analyze_the_derived_files_are_still_checked() -> Result {
    let output = xtask(
        &["codegen", "--check"],
        Some(Path::new("/nonexistent/systemd-analyze")),
    )?;
    assert!(output.status.success(), "{}", text(&output));
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        stdout.contains("/nonexistent/systemd-analyze not found")
            && stdout.contains("not re-captured"),
        "{}",
        text(&output)
    );
    Ok(())
}

#[test]
fn stale_missing_and_stray_files_get_one_line_each_and_codegen_repairs_them() -> Result {
    let dir = copy_of_data()?;
    let data = dir.path();
    let dir_arg = data.to_string_lossy().into_owned();
    let absent = Some(Path::new("/nonexistent/systemd-analyze"));
    let mut edited = fs::read_to_string(data.join("254.txt"))?;
    edited = edited.replace("    seccomp\n", "");
    fs::write(data.join("254.txt"), edited)?;
    fs::remove_file(data.join("255.txt"))?;
    fs::write(data.join("999.txt"), "@x\n    # X\n    read\n")?;

    let output = xtask(&["codegen", "--check", "--dir", &dir_arg], absent)?;
    assert_eq!(output.status.code(), Some(1), "{}", text(&output));
    let stale = stale_lines(&output);
    assert_eq!(stale.len(), 3, "{}", text(&output));
    assert!(stale[0].ends_with("254.txt"), "{stale:?}");
    assert!(stale[1].ends_with("255.txt (missing)"), "{stale:?}");
    assert!(
        stale[2].ends_with("999.txt (not produced by codegen)"),
        "{stale:?}"
    );

    let output = xtask(&["codegen", "--dir", &dir_arg], absent)?;
    assert!(output.status.success(), "{}", text(&output));
    let output = xtask(&["codegen", "--check", "--dir", &dir_arg], absent)?;
    assert!(output.status.success(), "{}", text(&output));
    assert!(!data.join("999.txt").exists());
    for version in 252..=256 {
        let name = format!("{version}.txt");
        assert_eq!(
            fs::read(data.join(&name))?,
            fs::read(data_dir().join(&name))?,
            "{name} not reproduced"
        );
    }
    Ok(())
}

#[test]
fn a_systemd_252_host_rechecks_the_captured_file() -> Result {
    let dir = copy_of_data()?;
    let dir_arg = dir.path().to_string_lossy().into_owned();
    let tools = tempfile::tempdir()?;
    let fake = fake_systemd_analyze(
        tools.path(),
        "systemd 252 (252.38-1~deb12u1)",
        &committed_capture(true)?,
    )?;

    // Same capture: fresh (a different kernel release here is only a note).
    let output = xtask(&["codegen", "--check", "--dir", &dir_arg], Some(&fake))?;
    assert!(output.status.success(), "{}", text(&output));

    // A committed 252.txt that differs from what the host prints is stale; nothing else is.
    let path = dir.path().join("252.txt");
    let committed = fs::read_to_string(&path)?;
    fs::write(&path, committed.replacen("    uretprobe\n", "", 1))?;
    let output = xtask(&["codegen", "--check", "--dir", &dir_arg], Some(&fake))?;
    assert_eq!(output.status.code(), Some(1), "{}", text(&output));
    let stale = stale_lines(&output);
    assert_eq!(stale.len(), 1, "{}", text(&output));
    assert!(stale[0].ends_with("252.txt"), "{stale:?}");
    fs::write(&path, &committed)?;

    // A host without tracefs prints no "Unlisted" section: the committed one is kept.
    let no_tracefs = fake_systemd_analyze(
        tools.path(),
        "systemd 252 (252.38-1~deb12u1)",
        &committed_capture(false)?,
    )?;
    let output = xtask(&["codegen", "--dir", &dir_arg], Some(&no_tracefs))?;
    assert!(output.status.success(), "{}", text(&output));
    assert!(String::from_utf8_lossy(&output.stdout).contains("the committed one is kept"));
    assert_eq!(fs::read_to_string(&path)?, committed);
    Ok(())
}

#[test]
fn another_systemd_version_is_reported_and_not_captured() -> Result {
    let tools = tempfile::tempdir()?;
    let fake = fake_systemd_analyze(tools.path(), "systemd 257 (257.9-1)", "@bogus\n")?;
    let output = xtask(&["codegen", "--check"], Some(&fake))?;
    assert!(output.status.success(), "{}", text(&output));
    assert!(
        String::from_utf8_lossy(&output.stdout).contains("this host runs systemd 257 (257.9-1)"),
        "{}",
        text(&output)
    );
    Ok(())
}

#[test]
fn unknown_tasks_and_arguments_print_usage() -> Result {
    let output = xtask(&["no-such-task"], None)?;
    assert_eq!(output.status.code(), Some(2), "{}", text(&output));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("unknown task \"no-such-task\""), "{stderr}");
    assert!(stderr.contains("usage: cargo xtask <task>") && stderr.contains("codegen"));

    let output = xtask(&[], None)?;
    assert_eq!(output.status.code(), Some(2), "{}", text(&output));

    let output = xtask(&["--help"], None)?;
    assert!(output.status.success(), "{}", text(&output));

    let output = xtask(&["codegen", "--frobnicate"], None)?;
    assert_eq!(output.status.code(), Some(1), "{}", text(&output));
    assert!(String::from_utf8_lossy(&output.stderr).contains("unknown argument \"--frobnicate\""));
    Ok(())
}
