//! Replay tests over `tests/fixtures/*`: import → suggest snapshots, systemd's own verdict on the
//! suggestion (`verify`, `security`), and `check` of each trace against its own and a broken policy.
//!
//! Golden files are rewritten with `UPDATE_GOLDEN=1`; review the diff before committing.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn sysprof(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_sysprof"))
        .args(args)
        .current_dir(root())
        .output()
        .expect("run sysprof")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// Compares `actual` with the golden file, or rewrites it under `UPDATE_GOLDEN=1`.
fn golden(path: &Path, actual: &str) {
    if std::env::var_os("UPDATE_GOLDEN").is_some() {
        std::fs::write(path, actual).expect("write golden file");
        return;
    }
    let expected = std::fs::read_to_string(path)
        .unwrap_or_else(|e| panic!("{}: {e} (run with UPDATE_GOLDEN=1)", path.display()));
    assert!(
        expected == actual,
        "{} differs from the new output (UPDATE_GOLDEN=1 to accept):\n{}",
        path.display(),
        actual
    );
}

const GROUPS: &str = "crates/sysprof-core/data/syscall-filter/252.txt";

struct Fixture {
    name: &'static str,
    logs: Vec<String>,
}

fn fixtures() -> Vec<Fixture> {
    let ff_dir = root().join("tests/fixtures/shell-pipeline/strace-ff");
    let mut ff: Vec<String> = std::fs::read_dir(&ff_dir)
        .expect("ff logs")
        .map(|e| {
            format!(
                "tests/fixtures/shell-pipeline/strace-ff/{}",
                e.expect("entry").file_name().to_string_lossy()
            )
        })
        .collect();
    ff.sort();
    vec![
        Fixture {
            name: "http-server",
            logs: vec!["tests/fixtures/http-server/strace.log".into()],
        },
        Fixture {
            name: "shell-pipeline",
            logs: ff,
        },
        Fixture {
            name: "threads-fork-exec",
            logs: vec!["tests/fixtures/threads-fork-exec/strace.log".into()],
        },
    ]
}

/// Imports the fixture's logs into its committed `trace.json` (checked against the golden copy).
fn import(fx: &Fixture, out_dir: &Path) -> PathBuf {
    let out = out_dir.join(format!("{}.json", fx.name));
    let out_s = out.to_string_lossy().into_owned();
    let mut args = vec!["-q", "import", "strace", "--arch", "x86_64", "-o", &out_s];
    args.extend(fx.logs.iter().map(String::as_str));
    let o = sysprof(&args);
    assert!(
        o.status.success(),
        "import {}: {}",
        fx.name,
        text(&o.stderr)
    );
    let mut trace = std::fs::read_to_string(&out).expect("trace");
    // The target names the log files by the paths given, which are repository-relative here.
    trace = trace.replace(&out_dir.to_string_lossy().into_owned(), "<tmp>");
    golden(
        &root().join(format!("tests/fixtures/{}/trace.json", fx.name)),
        &trace,
    );
    out
}

fn suggest(trace: &Path, level: &str, format: &str) -> String {
    let t = trace.to_string_lossy().into_owned();
    let o = sysprof(&[
        "-q",
        "suggest",
        &t,
        "--explain",
        "--level",
        level,
        "--format",
        format,
        "--systemd-version",
        "252",
        "--syscall-groups",
        GROUPS,
    ]);
    assert!(o.status.success(), "suggest: {}", text(&o.stderr));
    text(&o.stdout).replace(&t, "<trace>")
}

/// `systemd-analyze` on a unit directory; returns (stdout, stderr).
fn analyze(args: &[&str], dir: &Path) -> (String, String) {
    let o = Command::new("systemd-analyze")
        .args(args)
        .current_dir(dir)
        .output()
        .expect("systemd-analyze must be installed (CI installs package systemd)");
    (text(&o.stdout), text(&o.stderr))
}

fn exposure(stdout: &str) -> f64 {
    let line = stdout
        .lines()
        .find(|l| l.contains("Overall exposure level"))
        .unwrap_or_else(|| panic!("no exposure line in {stdout}"));
    line.split(':')
        .nth(1)
        .and_then(|rest| rest.split_whitespace().next())
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("cannot parse exposure from {line}"))
}

#[test]
fn fixtures_replay() {
    let tmp = tempfile::tempdir().expect("tempdir");
    for fx in fixtures() {
        let dir = root().join("tests/fixtures").join(fx.name);
        let trace = import(&fx, tmp.path());

        let dropin = suggest(&trace, "strict", "text");
        golden(&dir.join("suggest.conf"), &dropin);
        golden(
            &dir.join("suggest-groups.conf"),
            &suggest(&trace, "groups", "text"),
        );
        golden(
            &dir.join("suggest.json"),
            &suggest(&trace, "strict", "json"),
        );

        // systemd itself must accept the suggestion without a single warning …
        let unit_dir = tmp.path().join(fx.name);
        let unit = format!("sysprof-{}.service", fx.name);
        std::fs::create_dir_all(unit_dir.join(format!("{unit}.d"))).expect("mkdir");
        std::fs::copy(dir.join("unit.service"), unit_dir.join(&unit)).expect("copy unit");
        let (_, bare_err) = analyze(&["verify", "--man=no", &format!("./{unit}")], &unit_dir);
        assert_eq!(bare_err, "", "{}: the bare unit already warns", fx.name);
        let (bare, _) = analyze(
            &["security", "--offline=yes", &format!("./{unit}")],
            &unit_dir,
        );
        std::fs::write(unit_dir.join(format!("{unit}.d/sysprof.conf")), &dropin).expect("drop-in");
        let (_, err) = analyze(&["verify", "--man=no", &format!("./{unit}")], &unit_dir);
        assert_eq!(
            err, "",
            "{}: systemd-analyze verify warns about\n{dropin}",
            fx.name
        );
        // … and score it far better than the bare unit.
        let (after, _) = analyze(
            &["security", "--offline=yes", &format!("./{unit}")],
            &unit_dir,
        );
        let (before, after) = (exposure(&bare), exposure(&after));
        eprintln!("{}: exposure {before} -> {after}", fx.name);
        assert!(before >= 9.6, "{}: bare exposure {before}", fx.name);
        assert!(after <= 3.0, "{}: exposure {after} with\n{dropin}", fx.name);

        // The trace passes its own suggestion …
        let policy = unit_dir.join(format!("{unit}.d/sysprof.conf"));
        let t = trace.to_string_lossy().into_owned();
        let p = policy.to_string_lossy().into_owned();
        let unit_path = unit_dir.join(&unit).to_string_lossy().into_owned();
        let ok = sysprof(&[
            "check",
            &t,
            "-p",
            &unit_path,
            "-p",
            &p,
            "--systemd-version",
            "252",
            "--syscall-groups",
            GROUPS,
        ]);
        assert_eq!(
            (ok.status.code(), text(&ok.stdout).as_str()),
            (Some(0), ""),
            "{}: check against its own suggestion: {}",
            fx.name,
            text(&ok.stderr)
        );

        // … and a policy without one needed syscall breaks exactly that syscall.
        let needed = dropin
            .lines()
            .filter_map(|l| l.strip_prefix("SystemCallFilter="))
            .find_map(|v| v.split_whitespace().find(|w| !w.starts_with('@')))
            .unwrap_or_else(|| panic!("{}: no explicit syscall in\n{dropin}", fx.name))
            .to_owned();
        let broken = unit_dir.join("broken.conf");
        std::fs::write(&broken, format!("[Service]\nSystemCallFilter=~{needed}\n")).expect("write");
        let b = broken.to_string_lossy().into_owned();
        let bad = sysprof(&[
            "check",
            &t,
            "-p",
            &unit_path,
            "-p",
            &p,
            "-p",
            &b,
            "--systemd-version",
            "252",
            "--syscall-groups",
            GROUPS,
        ]);
        let out = text(&bad.stdout);
        assert_eq!(bad.status.code(), Some(1), "{}: {out}", fx.name);
        let lines: Vec<&str> = out.lines().collect();
        assert_eq!(
            lines.len(),
            1,
            "{}: expected one violation, got\n{out}",
            fx.name
        );
        assert!(lines[0].contains(&needed), "{}: {}", fx.name, lines[0]);
    }
}

/// Units recorded for real by `cargo xtask e2e` (eBPF, systemd 252 in nspawn, Debian's nginx and
/// redis under traffic, a restart and a reload) with the vendor unit and the drop-in `sysprof
/// apply` installed there: the suggestion stays reproducible, and the recorded behaviour passes
/// the applied policy — a new release that needs more fails here, not in production.
#[test]
fn recorded_units_replay() {
    for (name, at_most) in [("nginx", 2.5), ("redis-server", 1.1)] {
        let dir = root().join("tests/fixtures/units").join(name);
        let rel = |f: &str| format!("tests/fixtures/units/{name}/{f}");
        let o = sysprof(&[
            "-q",
            "suggest",
            "--policy",
            &rel("vendor.service"),
            "--explain",
            "--systemd-version",
            "252",
            "--syscall-groups",
            GROUPS,
            &rel("trace.json"),
        ]);
        assert!(o.status.success(), "{name}: suggest: {}", text(&o.stderr));
        let suggested = text(&o.stdout);
        golden(&dir.join("suggest.conf"), &suggested);

        // What `apply` installed in the guest is the same suggestion (comments aside).
        let applied = std::fs::read_to_string(dir.join("applied.conf")).expect("applied.conf");
        let directives = |t: &str| -> Vec<String> {
            t.lines()
                .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
                .map(str::to_owned)
                .collect()
        };
        assert_eq!(directives(&suggested), directives(&applied), "{name}");

        // The recorded behaviour passes the vendor unit with the applied drop-in …
        let ok = sysprof(&[
            "check",
            &rel("trace.json"),
            "-p",
            &rel("vendor.service"),
            "-p",
            &rel("applied.conf"),
            "--systemd-version",
            "252",
            "--syscall-groups",
            GROUPS,
        ]);
        assert_eq!(
            (ok.status.code(), text(&ok.stdout).as_str()),
            (Some(0), ""),
            "{name}: check against the applied policy: {}",
            text(&ok.stderr)
        );
        // … and exactly one violation appears when the policy loses one recorded syscall.
        let needed = applied
            .lines()
            .filter_map(|l| l.strip_prefix("SystemCallFilter="))
            .find_map(|v| v.split_whitespace().find(|w| !w.starts_with('@')))
            .unwrap_or_else(|| panic!("{name}: no syscall in applied.conf"))
            .to_owned();
        let tmp = tempfile::tempdir().expect("tempdir");
        let broken = tmp.path().join("broken.conf");
        std::fs::write(&broken, format!("[Service]\nSystemCallFilter=~{needed}\n")).expect("write");
        let bad = sysprof(&[
            "check",
            &rel("trace.json"),
            "-p",
            &rel("vendor.service"),
            "-p",
            &rel("applied.conf"),
            "-p",
            &broken.to_string_lossy(),
            "--systemd-version",
            "252",
            "--syscall-groups",
            GROUPS,
        ]);
        let out = text(&bad.stdout);
        assert_eq!(bad.status.code(), Some(1), "{name}: {out}");
        assert_eq!(out.lines().count(), 1, "{name}: {out}");
        assert!(out.contains(&needed), "{name}: {out}");

        // systemd scores the hardened unit as the e2e measured it.
        let unit = format!("{name}.service");
        let unit_dir = tmp.path().join("unit");
        std::fs::create_dir_all(unit_dir.join(format!("{unit}.d"))).expect("mkdir");
        std::fs::copy(dir.join("vendor.service"), unit_dir.join(&unit)).expect("copy");
        std::fs::copy(
            dir.join("applied.conf"),
            unit_dir.join(format!("{unit}.d/50-sysprof.conf")),
        )
        .expect("copy");
        let (report, _) = analyze(
            &["security", "--offline=yes", &format!("./{unit}")],
            &unit_dir,
        );
        let after = exposure(&report);
        eprintln!("{name}: exposure with the applied drop-in {after}");
        assert!(after <= at_most, "{name}: exposure {after} > {at_most}");
    }
}
