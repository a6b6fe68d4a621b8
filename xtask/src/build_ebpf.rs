//! `cargo xtask build-ebpf [--check]`: rebuild the committed eBPF objects reproducibly.
//!
//! The objects under `ebpf/obj/<arch>/` are committed so that `cargo build` needs no clang.
//! This task rebuilds them with Debian's clang 14 and flags that keep the output independent of
//! the checkout path and the compiler's identity; `--check` rebuilds into a temporary directory
//! and fails when the committed bytes differ (CI runs it).

use anyhow::{bail, Context};
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};

/// The clang major version the committed objects are built with; another version emits
/// different (equally valid) bytes, so `--check` would report a false difference.
const CLANG_MAJOR: &str = "14";

/// One object: source, include directory of its vmlinux.h, `__TARGET_ARCH_*`, output.
struct ObjectSpec {
    source: &'static str,
    vmlinux_dir: &'static str,
    target_arch: &'static str,
    output: &'static str,
}

const OBJECTS: &[ObjectSpec] = &[ObjectSpec {
    source: "sysprof.bpf.c",
    vmlinux_dir: "include/x86",
    target_arch: "x86",
    output: "obj/x86_64/sysprof.bpf.o",
}];

pub fn run(args: &[String]) -> anyhow::Result<ExitCode> {
    let mut check = false;
    for arg in args {
        match arg.as_str() {
            "--check" => check = true,
            "-h" | "--help" => {
                println!(
                    "usage: cargo xtask build-ebpf [--check]\n\n\
                     Rebuilds ebpf/obj/*/*.bpf.o with clang {CLANG_MAJOR} (override with CLANG=, \
                     LLVM_STRIP=).\n--check: rebuild into a temporary directory and fail if the \
                     committed objects differ."
                );
                return Ok(ExitCode::SUCCESS);
            }
            other => bail!("unknown argument {other:?} (try --help)"),
        }
    }
    let ebpf_dir = crate::workspace_root().join("ebpf");
    let clang = std::env::var("CLANG").unwrap_or_else(|_| "clang".to_owned());
    let strip = std::env::var("LLVM_STRIP").unwrap_or_else(|_| "llvm-strip".to_owned());
    check_clang_version(&clang)?;
    let scratch = std::env::temp_dir().join(format!("sysprof-build-ebpf-{}", std::process::id()));
    std::fs::create_dir_all(&scratch)
        .with_context(|| format!("failed to create {}", scratch.display()))?;
    let result = build_all(&ebpf_dir, &scratch, &clang, &strip, check);
    let _ = std::fs::remove_dir_all(&scratch);
    result
}

fn build_all(
    ebpf_dir: &Path,
    scratch: &Path,
    clang: &str,
    strip: &str,
    check: bool,
) -> anyhow::Result<ExitCode> {
    let mut stale = Vec::new();
    for spec in OBJECTS {
        let built = build_one(ebpf_dir, scratch, clang, strip, spec)?;
        let committed_path = ebpf_dir.join(spec.output);
        if check {
            let committed = std::fs::read(&committed_path).unwrap_or_default();
            if committed != built {
                stale.push(committed_path);
            }
        } else {
            if let Some(parent) = committed_path.parent() {
                std::fs::create_dir_all(parent)?;
            }
            std::fs::write(&committed_path, &built)
                .with_context(|| format!("failed to write {}", committed_path.display()))?;
            println!("wrote {} ({} bytes)", committed_path.display(), built.len());
        }
    }
    if stale.is_empty() {
        if check {
            println!("eBPF objects are up to date");
        }
        return Ok(ExitCode::SUCCESS);
    }
    for path in &stale {
        eprintln!("stale: {} differs from a rebuild", path.display());
    }
    eprintln!("run `cargo xtask build-ebpf` and commit the result");
    Ok(ExitCode::FAILURE)
}

fn build_one(
    ebpf_dir: &Path,
    scratch: &Path,
    clang: &str,
    strip: &str,
    spec: &ObjectSpec,
) -> anyhow::Result<Vec<u8>> {
    let unstripped: PathBuf = scratch.join("unstripped.o");
    let stripped: PathBuf = scratch.join("stripped.o");
    // Relative paths from inside ebpf/, a fixed compilation directory and a prefix map keep
    // the checkout location out of the object; -fno-ident keeps the clang version string out.
    let prefix_map = format!("-fdebug-prefix-map={}=.", ebpf_dir.display());
    let arch_define = format!("-D__TARGET_ARCH_{}", spec.target_arch);
    run_tool(
        Command::new(clang)
            .current_dir(ebpf_dir)
            .args([
                "-O2",
                "-g",
                "-target",
                "bpf",
                &arch_define,
                "-I",
                spec.vmlinux_dir,
                "-I",
                ".",
                "-fno-ident",
                &prefix_map,
                "-fdebug-compilation-dir=.",
                "-Wall",
                "-Werror",
                "-Wno-unused-function",
                "-c",
                spec.source,
                "-o",
            ])
            .arg(&unstripped),
    )?;
    // DWARF is only for humans; BTF and BTF.ext (what CO-RE needs) stay.
    run_tool(
        Command::new(strip)
            .arg("-g")
            .arg(&unstripped)
            .arg("-o")
            .arg(&stripped),
    )?;
    std::fs::read(&stripped).with_context(|| format!("failed to read {}", stripped.display()))
}

fn run_tool(command: &mut Command) -> anyhow::Result<()> {
    let status = command.status().with_context(|| {
        format!("failed to run {command:?} (apt-get install clang llvm libbpf-dev)")
    })?;
    if !status.success() {
        bail!("{command:?} failed with {status}");
    }
    Ok(())
}

fn check_clang_version(clang: &str) -> anyhow::Result<()> {
    let output = Command::new(clang)
        .arg("--version")
        .output()
        .with_context(|| format!("failed to run {clang} --version (apt-get install clang)"))?;
    let text = String::from_utf8_lossy(&output.stdout);
    let first = text.lines().next().unwrap_or_default();
    let major = first
        .split("version ")
        .nth(1)
        .and_then(|v| v.split('.').next())
        .unwrap_or_default();
    if major != CLANG_MAJOR {
        bail!(
            "{clang} is {first:?}; the committed objects are built with clang {CLANG_MAJOR} \
             (Debian 12's `clang`), set CLANG= to one"
        );
    }
    Ok(())
}
