//! eBPF rows of `cargo xtask bench`: cost of the eBPF recorder inside and outside its target.
//!
//! Each workload runs inside a bench cgroup; the recorder (driven through the library, release
//! build) targets that cgroup with `--cgroup` semantics. Per round: untraced, then recorder
//! attached with the workload inside the target, then outside it (what every other process
//! on the host pays while a recording runs). `strace -f` rows use a 1/100 scaled workload for
//! the syscall loops (it stops on every syscall) with its own untraced baseline. The server row
//! measures nginx throughput on loopback under `wrk`. `--rss SECS` records a loaded server and
//! an open-heavy loop for SECS seconds and samples the recorder's resident memory.

use anyhow::{bail, Context, Result};
use std::ffi::CString;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitCode, Stdio};
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::{Duration, Instant};
use sysprof_record::cgroup::{self, TransientCgroup};
use sysprof_record::{ebpf, Progress, RecordOptions, Recording, StopFlag, Target};

const USAGE: &str =
    "usage: cargo xtask bench-ebpf [--runs N] [--only dd|getppid|find|server] [--rss SECS]

Medians of N interleaved runs (default 5): untraced, eBPF recorder with the workload inside its
target cgroup, and outside it; strace -f for comparison. Targets: <= 1.4x on dd inside the
target, <= 1.05x server throughput loss. --rss SECS: record a loaded server plus an open-heavy
loop for SECS seconds (300 for the issue's 5 minutes) and report the recorder's RSS.
";

const RELEASE_MARKER: &str = "SYSPROF_BENCH_EBPF_RELEASE";

const GETPPID_C: &str = "#include <unistd.h>\n#include <sys/syscall.h>\n#include <stdlib.h>\n\
int main(int argc, char **argv) { long n = argc > 1 ? atol(argv[1]) : 2000000;\n\
for (long i = 0; i < n; i++) syscall(SYS_getppid); return 0; }\n";

/// A timed workload; `{getppid}` is replaced by the compiled loop's path.
struct Workload {
    name: &'static str,
    argv: &'static [&'static str],
    /// The same workload scaled down for `strace -f`, or `None` to run it whole.
    strace_argv: Option<&'static [&'static str]>,
}

const WORKLOADS: [Workload; 3] = [
    Workload {
        name: "dd",
        argv: &[
            "dd",
            "if=/dev/zero",
            "of=/dev/null",
            "bs=1",
            "count=2000000",
        ],
        strace_argv: Some(&["dd", "if=/dev/zero", "of=/dev/null", "bs=1", "count=20000"]),
    },
    Workload {
        name: "getppid",
        argv: &["{getppid}", "2000000"],
        strace_argv: Some(&["{getppid}", "20000"]),
    },
    Workload {
        name: "find",
        argv: &[
            "sh",
            "-c",
            "find /usr/include -type f -print0 | xargs -0 cat > /dev/null",
        ],
        strace_argv: None,
    },
];

pub fn run(args: &[String]) -> Result<ExitCode> {
    let mut runs = 5usize;
    let mut only: Option<String> = None;
    let mut rss_secs: Option<u64> = None;
    let mut it = args.iter();
    while let Some(arg) = it.next() {
        match arg.as_str() {
            "-h" | "--help" => {
                print!("{USAGE}");
                return Ok(ExitCode::SUCCESS);
            }
            "--runs" => runs = it.next().context("--runs needs a number")?.parse()?,
            "--only" => only = Some(it.next().context("--only needs a name")?.clone()),
            "--rss" => rss_secs = Some(it.next().context("--rss needs seconds")?.parse()?),
            other => bail!("unknown argument {other:?}\n\n{USAGE}"),
        }
    }
    if runs == 0 {
        bail!("--runs must be at least 1");
    }
    if let Some(code) = crate::bench::rerun_in_release("bench-ebpf", RELEASE_MARKER, args)? {
        return Ok(code);
    }
    let work = ScratchDir::create()?;
    let getppid = compile_getppid(work.path())?;
    let mount = cgroup::cgroup2_mount()?;
    let target_cg = TransientCgroup::create(&mount)?;
    let other_cg = TransientCgroup::create(&mount)?;
    if let Some(secs) = rss_secs {
        return rss_mode(secs, &target_cg, work.path());
    }
    let mut all_met = true;
    println!("median of {runs} interleaved runs; ratios to untraced\n");
    for workload in WORKLOADS
        .iter()
        .filter(|w| only.as_deref().is_none_or(|o| o == w.name))
    {
        let argv = substitute(workload.argv, &getppid);
        let strace_argv = workload.strace_argv.map(|a| substitute(a, &getppid));
        let mut untraced = Vec::new();
        let mut inside = Vec::new();
        let mut outside = Vec::new();
        let mut scaled_untraced = Vec::new();
        let mut strace = Vec::new();
        for round in 0..runs {
            untraced.push(time_in(&argv, &target_cg)?);
            let recorder = Recorder::start(target_cg.path())?;
            inside.push(time_in(&argv, &target_cg)?);
            outside.push(time_in(&argv, &other_cg)?);
            let rec = recorder.stop()?;
            if rec.trace.meta.integrity.events_lost > 0 {
                eprintln!(
                    "  warning: {} events lost",
                    rec.trace.meta.integrity.events_lost
                );
            }
            let small = strace_argv.as_ref().unwrap_or(&argv);
            if strace_argv.is_some() {
                scaled_untraced.push(time_in(small, &other_cg)?);
            }
            let mut with_strace = vec![
                "strace".to_owned(),
                "-f".into(),
                "-o".into(),
                "/dev/null".into(),
            ];
            with_strace.extend(small.iter().cloned());
            strace.push(time_in(&with_strace, &other_cg)?);
            eprintln!("  {}: round {}/{runs}", workload.name, round + 1);
        }
        let base = median(&mut untraced);
        let inside_m = median(&mut inside);
        let outside_m = median(&mut outside);
        let strace_base = if scaled_untraced.is_empty() {
            base
        } else {
            median(&mut scaled_untraced)
        };
        let strace_m = median(&mut strace);
        println!("workload {}: {}", workload.name, argv.join(" "));
        row("untraced", base, 1.0);
        row("eBPF, workload in target cgroup", inside_m, inside_m / base);
        row("eBPF, workload outside target", outside_m, outside_m / base);
        match &strace_argv {
            Some(small) => {
                row(
                    &format!("untraced, scaled ({})", small.join(" ")),
                    strace_base,
                    1.0,
                );
                row(
                    "strace -f -o /dev/null, scaled",
                    strace_m,
                    strace_m / strace_base,
                );
            }
            None => row("strace -f -o /dev/null", strace_m, strace_m / base),
        }
        if workload.name == "dd" {
            let ratio = inside_m / base;
            let met = ratio <= 1.4;
            all_met &= met;
            println!(
                "  dd in target: {ratio:.2}x (target <= 1.40x): {}",
                verdict(met)
            );
        }
        println!();
    }
    if only.as_deref().is_none_or(|o| o == "server") {
        all_met &= server_rows(runs, &target_cg, &other_cg, work.path())?;
    }
    Ok(if all_met {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}

fn verdict(met: bool) -> &'static str {
    if met {
        "met"
    } else {
        "NOT met"
    }
}

fn row(label: &str, seconds: f64, ratio: f64) {
    println!("  {label:<60} {seconds:>9.3} s {ratio:>8.2}x");
}

fn substitute(argv: &[&str], getppid: &Path) -> Vec<String> {
    argv.iter()
        .map(|a| {
            if *a == "{getppid}" {
                getppid.to_string_lossy().into_owned()
            } else {
                (*a).to_owned()
            }
        })
        .collect()
}

fn median(samples: &mut [f64]) -> f64 {
    samples.sort_by(f64::total_cmp);
    let n = samples.len();
    if n == 0 {
        return f64::NAN;
    }
    if n % 2 == 1 {
        samples[n / 2]
    } else {
        (samples[n / 2 - 1] + samples[n / 2]) / 2.0
    }
}

fn compile_getppid(dir: &Path) -> Result<PathBuf> {
    let src = dir.join("getppid.c");
    let bin = dir.join("getppid-loop");
    std::fs::write(&src, GETPPID_C)?;
    let status = Command::new("gcc")
        .args(["-O2", "-o"])
        .arg(&bin)
        .arg(&src)
        .status()
        .context("gcc (apt-get install gcc libc6-dev)")?;
    if !status.success() {
        bail!("compiling the getppid loop failed");
    }
    Ok(bin)
}

/// Spawns `argv` inside `cg` (moved in before exec), output discarded.
fn spawn_in(argv: &[String], cg: &TransientCgroup) -> Result<Child> {
    let procs: CString = cg.procs_file().clone();
    let mut command = Command::new(&argv[0]);
    command
        .args(&argv[1..])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    // SAFETY: the hook only calls async-signal-safe open/write on a string prepared before fork.
    unsafe {
        command.pre_exec(move || TransientCgroup::join_self_in_child(&procs));
    }
    command
        .spawn()
        .with_context(|| format!("starting {}", argv[0]))
}

/// Wall time of `argv` run inside `cg`, in seconds.
fn time_in(argv: &[String], cg: &TransientCgroup) -> Result<f64> {
    let start = Instant::now();
    let status = spawn_in(argv, cg)?.wait()?;
    let took = start.elapsed().as_secs_f64();
    if !status.success() {
        bail!("{} exited with {status}", argv.join(" "));
    }
    Ok(took)
}

/// The eBPF recorder on its own thread, targeting a cgroup.
struct Recorder {
    stop: StopFlag,
    progress: Arc<Progress>,
    handle: std::thread::JoinHandle<Result<Recording, ebpf::EbpfError>>,
}

impl Recorder {
    fn start(cgroup: &Path) -> Result<Recorder> {
        let stop = StopFlag::new();
        let progress = Arc::new(Progress::default());
        let (thread_stop, thread_progress) = (stop.clone(), progress.clone());
        let target = Target::Cgroup(cgroup.to_owned());
        let handle = std::thread::spawn(move || {
            ebpf::record(
                &target,
                &RecordOptions::default(),
                &thread_stop,
                &thread_progress,
            )
        });
        let recorder = Recorder {
            stop,
            progress,
            handle,
        };
        while !recorder.progress.recording.load(Ordering::SeqCst) {
            if recorder.handle.is_finished() {
                return Err(recorder
                    .stop()
                    .err()
                    .unwrap_or_else(|| anyhow::anyhow!("recorder ended")));
            }
            std::thread::sleep(Duration::from_millis(10));
        }
        Ok(recorder)
    }

    fn stop(self) -> Result<Recording> {
        self.stop.raise();
        match self.handle.join() {
            Ok(result) => Ok(result?),
            Err(_) => bail!("the recorder thread panicked"),
        }
    }
}

/// A server on loopback (in the bench cgroup) serving a small file.
struct Server {
    child: Child,
    port: u16,
}

fn free_port() -> Result<u16> {
    let probe = std::net::TcpListener::bind("127.0.0.1:0")?;
    Ok(probe.local_addr()?.port())
}

fn wait_listening(port: u16, dir: &Path) -> Result<()> {
    let deadline = Instant::now() + Duration::from_secs(10);
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        if Instant::now() > deadline {
            bail!("the server did not start; see {}", dir.display());
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    Ok(())
}

impl Server {
    /// `python3 -m http.server`: a typical interpreted server (a thread per connection).
    fn python(dir: &Path, cg: &TransientCgroup) -> Result<Server> {
        let port = free_port()?;
        let root = dir.join("www");
        std::fs::create_dir_all(&root)?;
        std::fs::write(root.join("index.html"), "x".repeat(612))?;
        let argv: Vec<String> = [
            "python3",
            "-m",
            "http.server",
            "--bind",
            "127.0.0.1",
            "--directory",
            &root.to_string_lossy(),
            &port.to_string(),
        ]
        .iter()
        .map(|s| (*s).to_owned())
        .collect();
        let child = spawn_in(&argv, cg)?;
        let server = Server { child, port };
        wait_listening(port, dir)?;
        Ok(server)
    }

    /// nginx with one worker: a syscall-bound server, the worst case for a syscall hook.
    fn nginx(dir: &Path, cg: &TransientCgroup) -> Result<Server> {
        use std::os::unix::fs::PermissionsExt;
        let port = free_port()?;
        let root = dir.join("www");
        std::fs::create_dir_all(&root)?;
        std::fs::write(root.join("index.html"), "x".repeat(612))?;
        for p in [dir, root.as_path()] {
            std::fs::set_permissions(p, std::fs::Permissions::from_mode(0o755))?;
        }
        let conf = dir.join("nginx.conf");
        std::fs::write(
            &conf,
            format!(
                "worker_processes 1;\ndaemon off;\npid {d}/nginx.pid;\nerror_log {d}/error.log;\n\
                 events {{ worker_connections 1024; }}\n\
                 http {{ access_log off; server {{ listen 127.0.0.1:{port}; root {r}; }} }}\n",
                d = dir.display(),
                r = root.display()
            ),
        )?;
        let argv: Vec<String> = [
            "nginx",
            "-e",
            &dir.join("error.log").to_string_lossy(),
            "-p",
            &dir.to_string_lossy(),
            "-c",
            &conf.to_string_lossy(),
        ]
        .iter()
        .map(|s| (*s).to_owned())
        .collect();
        let child = spawn_in(&argv, cg).context("nginx (apt-get install nginx)")?;
        let server = Server { child, port };
        wait_listening(port, dir)?;
        Ok(server)
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        // SAFETY: signalling the server process this bench started; no memory involved.
        // (SIGQUIT is nginx's graceful stop; python exits on it too.)
        unsafe {
            libc::kill(i32::try_from(self.child.id()).unwrap_or(0), libc::SIGQUIT);
        }
        let _ = self.child.wait();
    }
}

/// Requests per second `wrk` reaches against `port` in `secs` seconds.
fn wrk(port: u16, secs: u64) -> Result<f64> {
    let out = Command::new("wrk")
        .args(["-t1", "-c16", &format!("-d{secs}s")])
        .arg(format!("http://127.0.0.1:{port}/index.html"))
        .output()
        .context("wrk (apt-get install wrk)")?;
    let text = String::from_utf8_lossy(&out.stdout);
    if text.contains("Non-2xx") {
        bail!("nginx answered errors:\n{text}");
    }
    text.lines()
        .find_map(|l| l.strip_prefix("Requests/sec:"))
        .and_then(|v| v.trim().parse().ok())
        .with_context(|| format!("no Requests/sec in wrk output:\n{text}"))
}

fn tools_present(tools: &[&str]) -> bool {
    tools.iter().all(|t| {
        Command::new("sh")
            .args(["-c", &format!("command -v {t} >/dev/null")])
            .status()
            .is_ok_and(|s| s.success())
    })
}

fn server_rows(
    runs: usize,
    cg: &TransientCgroup,
    other_cg: &TransientCgroup,
    dir: &Path,
) -> Result<bool> {
    if !tools_present(&["nginx", "wrk"]) {
        println!("server row skipped: apt-get install nginx wrk\n");
        return Ok(true);
    }
    let mut all_met = true;
    let servers: [(&str, ServerStart); 2] = [
        ("nginx (1 worker)", Server::nginx),
        ("python3 -m http.server", Server::python),
    ];
    for (name, start) in servers {
        let server_dir = dir.join(name.split_whitespace().next().unwrap_or("server"));
        std::fs::create_dir_all(&server_dir)?;
        let server = start(&server_dir, cg)?;
        all_met &= server_row(runs, name, &server, cg, other_cg)?;
    }
    Ok(all_met)
}

type ServerStart = fn(&Path, &TransientCgroup) -> Result<Server>;

fn server_row(
    runs: usize,
    name: &str,
    server: &Server,
    cg: &TransientCgroup,
    other_cg: &TransientCgroup,
) -> Result<bool> {
    let secs = 5;
    wrk(server.port, 1)?; // warm up
    let mut untraced = Vec::new();
    let mut traced = Vec::new();
    let mut elsewhere = Vec::new();
    for round in 0..runs {
        untraced.push(wrk(server.port, secs)?);
        let recorder = Recorder::start(cg.path())?;
        traced.push(wrk(server.port, secs)?);
        recorder.stop()?;
        // Recording another (idle) cgroup: what the server and wrk pay for the global hooks.
        let recorder = Recorder::start(other_cg.path())?;
        elsewhere.push(wrk(server.port, secs)?);
        recorder.stop()?;
        eprintln!("  {name}: round {}/{runs}", round + 1);
    }
    let base = median(&mut untraced);
    let with = median(&mut traced);
    let other = median(&mut elsewhere);
    let loss = base / with;
    println!("workload server: {name} on loopback, wrk -t1 -c16 -d{secs}s, requests/s");
    println!("  {:<60} {base:>11.0} {:>8.2}x", "untraced", 1.0);
    println!(
        "  {:<60} {with:>11.0} {loss:>8.2}x",
        "eBPF, server in target cgroup"
    );
    println!(
        "  {:<60} {other:>11.0} {:>8.2}x",
        "eBPF recording an idle cgroup (server and wrk outside)",
        base / other
    );
    let met = loss <= 1.05;
    println!(
        "  throughput ratio untraced/traced {loss:.3} (target <= 1.05): {}\n",
        verdict(met)
    );
    Ok(met)
}

fn rss_kb() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find_map(|l| l.strip_prefix("VmRSS:"))
                .and_then(|v| v.split_whitespace().next())
                .and_then(|v| v.parse().ok())
        })
        .unwrap_or(0)
}

fn rss_mode(secs: u64, cg: &TransientCgroup, dir: &Path) -> Result<ExitCode> {
    if !tools_present(&["nginx", "wrk"]) {
        bail!("--rss needs nginx and wrk (apt-get install nginx wrk)");
    }
    let server_dir = dir.join("nginx");
    std::fs::create_dir_all(&server_dir)?;
    let nginx = Server::nginx(&server_dir, cg)?;
    let recorder = Recorder::start(cg.path())?;
    let started = Instant::now();
    let mut samples: Vec<(u64, u64)> = Vec::new();
    let find = vec![
        "sh".to_owned(),
        "-c".into(),
        "find /usr/include -type f -print0 | xargs -0 cat > /dev/null".into(),
    ];
    println!("recording nginx under wrk plus an open-heavy loop for {secs} s; recorder RSS:");
    while started.elapsed() < Duration::from_secs(secs) {
        let mut loop_child = spawn_in(&find, cg)?;
        let rps = wrk(nginx.port, 10)?;
        let _ = loop_child.wait();
        let sample = (started.elapsed().as_secs(), rss_kb());
        println!(
            "  t={:>4}s  rss={:>7} kB  ({rps:.0} req/s)",
            sample.0, sample.1
        );
        samples.push(sample);
    }
    let rec = recorder.stop()?;
    drop(nginx);
    let max = samples.iter().map(|s| s.1).max().unwrap_or(0);
    // Flat: after the first minute (unique paths are learned then), growth stays small.
    let settled: Vec<u64> = samples
        .iter()
        .filter(|s| s.0 >= 60.min(secs / 2))
        .map(|s| s.1)
        .collect();
    let growth = settled.iter().max().unwrap_or(&0) - settled.iter().min().unwrap_or(&0);
    println!(
        "max RSS {:.1} MB (target <= 50 MB), growth after warm-up {:.1} MB; {} files, {} events lost",
        max as f64 / 1024.0,
        growth as f64 / 1024.0,
        rec.trace.files.len(),
        rec.trace.meta.integrity.events_lost
    );
    let met = max <= 50 * 1024 && growth <= 5 * 1024;
    println!("RSS flat and <= 50 MB: {}", verdict(met));
    Ok(if met {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}

/// A private directory under the temp dir, removed when dropped.
struct ScratchDir(PathBuf);

impl ScratchDir {
    fn create() -> Result<ScratchDir> {
        let path = std::env::temp_dir().join(format!("sysprof-bench-ebpf-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&path);
        std::fs::create_dir_all(&path).with_context(|| format!("creating {}", path.display()))?;
        Ok(ScratchDir(path))
    }

    fn path(&self) -> &Path {
        &self.0
    }
}

impl Drop for ScratchDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}
