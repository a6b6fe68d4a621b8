//! Developer tasks: `cargo xtask <task> [args]`; each task is a module `src/<task>.rs` listed in [`TASKS`].

mod bench;
mod bench_ebpf;
mod build_ebpf;
mod codegen;
mod e2e;
mod test;

use std::path::{Path, PathBuf};
use std::process::ExitCode;

/// A task's entry point: its arguments (after the task name) → exit code.
type Task = fn(&[String]) -> anyhow::Result<ExitCode>;

/// Every task: name, one-line summary, entry point. Add new tasks here.
const TASKS: &[(&str, &str, Task)] = &[
    (
        "bench",
        "time the ptrace recorder against strace -f (medians; --runs N)",
        bench::run,
    ),
    (
        "bench-ebpf",
        "time the eBPF recorder in/outside its target vs strace, nginx req/s, RSS (--rss SECS)",
        bench_ebpf::run,
    ),
    (
        "build-ebpf",
        "rebuild the committed eBPF objects with clang (--check: fail if stale)",
        build_ebpf::run,
    ),
    (
        "codegen",
        "regenerate the embedded systemd syscall-group tables (--check: fail if stale)",
        codegen::run,
    ),
    (
        "e2e",
        "nginx and redis in real systemd (nspawn): record, harden, still work",
        e2e::run,
    ),
    (
        "test",
        "the whole CI suite: fmt, clippy, freshness checks, every test",
        test::run,
    ),
];

fn main() -> ExitCode {
    let mut args = Vec::new();
    for arg in std::env::args_os().skip(1) {
        match arg.into_string() {
            Ok(arg) => args.push(arg),
            Err(arg) => {
                eprintln!("error: argument {arg:?} is not UTF-8");
                return ExitCode::from(2);
            }
        }
    }
    let Some((name, rest)) = args.split_first() else {
        eprint!("{}", usage());
        return ExitCode::from(2);
    };
    if matches!(name.as_str(), "help" | "-h" | "--help") {
        print!("{}", usage());
        return ExitCode::SUCCESS;
    }
    let Some((_, _, task)) = TASKS.iter().find(|(n, _, _)| n == name) else {
        eprint!("error: unknown task {name:?}\n\n{}", usage());
        return ExitCode::from(2);
    };
    match task(rest) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

/// The task list.
fn usage() -> String {
    let mut text = String::from("usage: cargo xtask <task> [args]\n\ntasks:\n");
    for (name, summary, _) in TASKS {
        text.push_str(&format!("  {name:<12} {summary}\n"));
    }
    text.push_str("\n`cargo xtask <task> --help` describes a task's arguments.\n");
    text
}

/// The workspace root (the parent of this crate's directory).
pub(crate) fn workspace_root() -> PathBuf {
    let manifest = Path::new(env!("CARGO_MANIFEST_DIR"));
    manifest.parent().unwrap_or(manifest).to_path_buf()
}
