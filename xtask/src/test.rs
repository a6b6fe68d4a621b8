//! `cargo xtask test`: the whole CI suite — formatting, lints, generated-file freshness, every test.

use anyhow::{bail, Context, Result};
use std::process::{Command, ExitCode};

/// One step of the suite: a label and the cargo arguments that run it.
const STEPS: &[(&str, &[&str])] = &[
    ("format", &["fmt", "--all", "--", "--check"]),
    (
        "lints",
        &[
            "clippy",
            "--workspace",
            "--all-targets",
            "--",
            "-D",
            "warnings",
        ],
    ),
    ("group tables are fresh", &["xtask", "codegen", "--check"]),
    (
        "eBPF objects are fresh",
        &["xtask", "build-ebpf", "--check"],
    ),
    ("tests", &["test", "--workspace", "--no-fail-fast"]),
];

pub fn run(args: &[String]) -> Result<ExitCode> {
    if args.iter().any(|a| a == "--help" || a == "-h") {
        println!("usage: cargo xtask test\n\nRuns, in order and stopping at the first failure:");
        for (label, step) in STEPS {
            println!("  {label:<26} cargo {}", step.join(" "));
        }
        return Ok(ExitCode::SUCCESS);
    }
    if let Some(unknown) = args.first() {
        bail!("unexpected argument {unknown:?} (see `cargo xtask test --help`)");
    }
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_owned());
    for (label, step) in STEPS {
        eprintln!("==> {label}: cargo {}", step.join(" "));
        let status = Command::new(&cargo)
            .args(*step)
            .current_dir(crate::workspace_root())
            .status()
            .with_context(|| format!("cannot run cargo {}", step.join(" ")))?;
        if !status.success() {
            eprintln!("==> FAILED: {label}");
            return Ok(ExitCode::FAILURE);
        }
    }
    eprintln!("==> all checks passed");
    Ok(ExitCode::SUCCESS)
}
