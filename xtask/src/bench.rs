//! `cargo xtask bench`: wall time of the ptrace recorder against strace on the same machine.
//!
//! Every configuration runs the same workload `--runs` times (default 5), interleaved so drift
//! hits all alike, and the table shows medians. The recorder is driven through the library, in
//! a release build (a debug build of this task re-runs itself with `--release`).

use anyhow::{bail, Context, Result};
use std::ffi::OsString;
use std::os::fd::AsFd;
use std::process::{Command, ExitCode, Stdio};
use std::time::{Duration, Instant};
use sysprof_record::{Progress, RecordOptions, StopFlag, Target};

const USAGE: &str = "usage: cargo xtask bench [--runs N] [--only dd|forkexec]
       cargo xtask bench --ebpf [--runs N] [--only dd|getppid|find|server] [--rss SECS]

Times untraced runs, the sysprof ptrace recorder (pinned and unpinned), `strace -f -o /dev/null`
and `taskset -c 0 strace -f -o /dev/null` on two workloads and prints the medians. The goal:
sysprof pinned takes at most 0.5x the time of the faster strace run.
";

const RELEASE_MARKER: &str = "SYSPROF_BENCH_RELEASE";

struct Workload {
    name: &'static str,
    argv: &'static [&'static str],
}

const WORKLOADS: [Workload; 2] = [
    Workload {
        name: "dd",
        argv: &["dd", "if=/dev/zero", "of=/dev/null", "bs=1", "count=200000"],
    },
    Workload {
        name: "forkexec",
        argv: &[
            "sh",
            "-c",
            "for i in $(seq 200); do cat /etc/hostname >/dev/null; done",
        ],
    },
];

#[derive(Clone, Copy, PartialEq, Eq)]
enum Config {
    Untraced,
    SysprofPinned,
    SysprofUnpinned,
    Strace,
    StracePinned,
}

impl Config {
    const ALL: [Config; 5] = [
        Config::Untraced,
        Config::SysprofPinned,
        Config::SysprofUnpinned,
        Config::Strace,
        Config::StracePinned,
    ];

    fn label(self) -> &'static str {
        match self {
            Config::Untraced => "untraced",
            Config::SysprofPinned => "sysprof ptrace (pinned, default)",
            Config::SysprofUnpinned => "sysprof ptrace --no-pin",
            Config::Strace => "strace -f -o /dev/null",
            Config::StracePinned => "taskset -c 0 strace -f -o /dev/null",
        }
    }
}

pub fn run(args: &[String]) -> Result<ExitCode> {
    let mut runs = 5usize;
    let mut only: Option<String> = None;
    let mut it = args.iter();
    while let Some(arg) = it.next() {
        match arg.as_str() {
            "-h" | "--help" => {
                print!("{USAGE}");
                return Ok(ExitCode::SUCCESS);
            }
            "--runs" => {
                runs = it
                    .next()
                    .context("--runs needs a number")?
                    .parse()
                    .context("--runs needs a number")?;
            }
            "--only" => only = Some(it.next().context("--only needs a workload name")?.clone()),
            // The eBPF recorder's rows (xtask/src/bench_ebpf.rs); the rest goes to them.
            "--ebpf" => return crate::bench_ebpf::run(it.as_slice()),
            other => bail!("unknown argument {other:?}\n\n{USAGE}"),
        }
    }
    if runs == 0 {
        bail!("--runs must be at least 1");
    }
    if let Some(code) = rerun_in_release("bench", RELEASE_MARKER, args)? {
        return Ok(code);
    }
    // `cargo run` adds its library directories to LD_LIBRARY_PATH; the workloads' dynamic loader
    // would then probe each of them on every exec, which no real deployment does.
    // SAFETY (of the environment change): nothing else runs in this process yet.
    std::env::remove_var("LD_LIBRARY_PATH");
    if Command::new("strace").arg("-V").output().is_err() {
        bail!("strace is not installed (apt-get install strace)");
    }

    let mut verdict_ok = true;
    println!("median wall time of {runs} interleaved runs per configuration\n");
    for workload in WORKLOADS
        .iter()
        .filter(|w| only.as_deref().is_none_or(|o| o == w.name))
    {
        let mut samples: Vec<Vec<Duration>> = vec![Vec::new(); Config::ALL.len()];
        for round in 0..runs {
            for (i, config) in Config::ALL.iter().enumerate() {
                let took = time_once(*config, workload.argv)
                    .with_context(|| format!("{} under {}", workload.name, config.label()))?;
                samples[i].push(took);
            }
            eprintln!("  {}: round {}/{runs} done", workload.name, round + 1);
        }
        let medians: Vec<f64> = samples.iter_mut().map(|s| median(s)).collect();
        let untraced = medians[0];
        let best_strace = medians[3].min(medians[4]);
        println!("workload {}: {}", workload.name, workload.argv.join(" "));
        println!(
            "  {:<38} {:>9} {:>11} {:>16} {:>19}",
            "configuration", "median s", "x untraced", "x faster strace", "overhead vs strace"
        );
        for (config, m) in Config::ALL.iter().zip(&medians) {
            println!(
                "  {:<38} {:>9.3} {:>11.1} {:>16.2} {:>19.2}",
                config.label(),
                m,
                m / untraced,
                m / best_strace,
                (m - untraced) / (best_strace - untraced)
            );
        }
        let ratio = medians[1] / best_strace;
        let ok = ratio <= 0.5;
        verdict_ok &= ok;
        println!(
            "  sysprof (pinned) / faster strace = {ratio:.2} (target <= 0.50): {}; \
             added time vs strace's added time = {:.2}",
            if ok { "met" } else { "NOT met" },
            (medians[1] - untraced) / (best_strace - untraced)
        );
        if untraced / best_strace > 0.5 {
            println!(
                "  (untraced alone is {:.2}x the faster strace here: the 0.5 target is out of reach \
                 for any tracer on this workload)",
                untraced / best_strace
            );
        }
        println!();
    }
    Ok(if verdict_ok {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}

fn median(samples: &mut [Duration]) -> f64 {
    samples.sort_unstable();
    let n = samples.len();
    let mid = if n % 2 == 1 {
        samples[n / 2]
    } else {
        (samples[n / 2 - 1] + samples[n / 2]) / 2
    };
    mid.as_secs_f64()
}

fn time_once(config: Config, argv: &[&str]) -> Result<Duration> {
    let external = |prefix: &[&str]| -> Result<Duration> {
        let all: Vec<&str> = prefix.iter().chain(argv).copied().collect();
        let start = Instant::now();
        let status = Command::new(all[0])
            .args(&all[1..])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .with_context(|| format!("running {}", all[0]))?;
        let took = start.elapsed();
        if !status.success() {
            bail!("{} exited with {status}", all.join(" "));
        }
        Ok(took)
    };
    match config {
        Config::Untraced => external(&[]),
        Config::Strace => external(&["strace", "-f", "-o", "/dev/null"]),
        Config::StracePinned => {
            external(&["taskset", "-c", "0", "strace", "-f", "-o", "/dev/null"])
        }
        Config::SysprofPinned | Config::SysprofUnpinned => {
            let opts = RecordOptions {
                no_cpu_pinning: config == Config::SysprofUnpinned,
                ..RecordOptions::default()
            };
            let target = Target::Command(argv.iter().map(OsString::from).collect());
            let quiet = Silenced::stdout_and_stderr()?;
            let start = Instant::now();
            let recording = sysprof_record::ptrace::record(
                &target,
                &opts,
                &StopFlag::new(),
                &Progress::default(),
            );
            let took = start.elapsed();
            drop(quiet);
            let recording = recording?;
            if recording.exit != Some(sysprof_record::ChildExit::Code(0)) {
                bail!("the workload ended with {:?}", recording.exit);
            }
            Ok(took)
        }
    }
}

/// Points fds 1 and 2 at /dev/null while a recorded workload (which inherits them) runs, as the
/// external runs get `Stdio::null()`.
struct Silenced {
    saved: [std::os::fd::OwnedFd; 2],
}

impl Silenced {
    fn stdout_and_stderr() -> Result<Silenced> {
        use std::io::Write;
        let _ = std::io::stdout().flush();
        let _ = std::io::stderr().flush();
        let null = std::fs::OpenOptions::new().write(true).open("/dev/null")?;
        let saved = [
            std::io::stdout().as_fd().try_clone_to_owned()?,
            std::io::stderr().as_fd().try_clone_to_owned()?,
        ];
        redirect(&null, libc::STDOUT_FILENO)?;
        redirect(&null, libc::STDERR_FILENO)?;
        Ok(Silenced { saved })
    }
}

fn redirect(from: &impl AsFd, to: i32) -> Result<()> {
    use std::os::fd::AsRawFd;
    // SAFETY: dup2 on an open descriptor onto a standard stream this process owns; no memory
    // is involved.
    let ret = unsafe { libc::dup2(from.as_fd().as_raw_fd(), to) };
    if ret < 0 {
        bail!("dup2: {}", std::io::Error::last_os_error());
    }
    Ok(())
}

impl Drop for Silenced {
    fn drop(&mut self) {
        let _ = redirect(&self.saved[0], libc::STDOUT_FILENO);
        let _ = redirect(&self.saved[1], libc::STDERR_FILENO);
    }
}

/// Re-runs `cargo xtask TASK ARGS` from a release build when this is a debug one (timing a debug
/// build would measure the compiler, not the design); `marker` stops the recursion.
pub(crate) fn rerun_in_release(
    task: &str,
    marker: &str,
    args: &[String],
) -> Result<Option<ExitCode>> {
    if !cfg!(debug_assertions) || std::env::var_os(marker).is_some() {
        return Ok(None);
    }
    let status = Command::new(std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into()))
        .args([
            "run",
            "--release",
            "--quiet",
            "--package",
            "xtask",
            "--",
            task,
        ])
        .args(args)
        .env(marker, "1")
        .status()
        .context("re-running the benchmark in release mode")?;
    Ok(Some(if status.success() {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }))
}
