//! Helpers shared by the privileged eBPF tests: privilege gate, serialisation, strace runs,
//! bpftool snapshots.
#![allow(dead_code)]

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::{Mutex, MutexGuard};
use sysprof_core::event::{Abi, Access};
use sysprof_record::{ebpf, Progress, RecordOptions, Recording, StopFlag, Target};

/// True when the tests can load BPF programs (root). Without root they skip, unless
/// `SYSPROF_REQUIRE_PRIVILEGED=1` or `CI` is set, where a skip would hide a failure.
pub fn privileged() -> bool {
    // SAFETY: geteuid has no preconditions.
    let root = unsafe { libc::geteuid() } == 0;
    if !root {
        let required = std::env::var_os("SYSPROF_REQUIRE_PRIVILEGED").is_some()
            || std::env::var_os("CI").is_some();
        assert!(!required, "privileged eBPF tests need root here");
        eprintln!("skipping: not root");
    }
    root
}

static SERIAL: Mutex<()> = Mutex::new(());

/// Serialises recordings inside one test binary: the bpftool before/after comparisons must
/// not see another test's programs.
pub fn serial() -> MutexGuard<'static, ()> {
    SERIAL.lock().unwrap_or_else(|e| e.into_inner())
}

/// Records `argv` as a launched command until it exits.
pub fn record_command(argv: &[&str]) -> Recording {
    let target = Target::Command(argv.iter().map(Into::into).collect());
    ebpf::record(
        &target,
        &RecordOptions::default(),
        &StopFlag::new(),
        &Progress::default(),
    )
    .unwrap_or_else(|e| panic!("recording {argv:?} failed: {e}"))
}

/// Native syscall names of a recording.
pub fn syscall_names(rec: &Recording) -> BTreeSet<String> {
    rec.trace
        .syscall_names(Abi::X86_64)
        .into_iter()
        .map(str::to_owned)
        .collect()
}

/// Successful file accesses of the given kinds.
pub fn files(rec: &Recording, kinds: &[Access]) -> BTreeSet<String> {
    rec.trace
        .files
        .iter()
        .filter(|f| f.ok() && kinds.contains(&f.access))
        .map(|f| canonical(&f.path))
        .collect()
}

/// Capability names of a recording.
pub fn capabilities(rec: &Recording) -> BTreeSet<String> {
    rec.trace
        .capabilities
        .iter()
        .map(|c| sysprof_core::tables::caps::name(c.cap.0))
        .collect()
}

/// The path with symlinks resolved where it still exists (strace shows paths as passed, the
/// kernel walk shows them resolved).
pub fn canonical(path: &str) -> String {
    std::fs::canonicalize(path)
        .map(|p| p.to_string_lossy().into_owned())
        .unwrap_or_else(|_| path.to_owned())
}

/// What `strace -f` saw of a command.
#[derive(Debug, Default)]
pub struct StraceView {
    pub syscalls: BTreeSet<String>,
    /// Paths opened successfully for writing or creation (open/openat/creat), plus mkdir.
    pub written: BTreeSet<String>,
    /// Paths passed to successful execve calls.
    pub executed: BTreeSet<String>,
}

/// Runs `argv` under `strace -f -y` and reads its log.
pub fn strace(argv: &[&str]) -> StraceView {
    let log = tempfile::NamedTempFile::new().expect("temp file");
    let status = Command::new("strace")
        .args(["-f", "-qq", "-y", "-s", "4096", "-o"])
        .arg(log.path())
        .arg("--")
        .args(argv)
        .status()
        .expect("strace runs (apt-get install strace)");
    assert!(status.success(), "strace {argv:?}: {status}");
    let text = std::fs::read_to_string(log.path()).expect("strace log");
    parse_strace(&text)
}

/// Top-level arguments of a syscall line (quotes and brackets respected).
fn split_args(args: &str) -> Vec<String> {
    let mut out = Vec::new();
    let (mut depth, mut quoted, mut escaped) = (0i32, false, false);
    let mut current = String::new();
    for c in args.chars() {
        if quoted {
            current.push(c);
            match (escaped, c) {
                (true, _) => escaped = false,
                (false, '\\') => escaped = true,
                (false, '"') => quoted = false,
                _ => {}
            }
            continue;
        }
        match c {
            '"' => quoted = true,
            '(' | '[' | '{' | '<' => depth += 1,
            ')' | ']' | '}' | '>' => depth -= 1,
            ',' if depth == 0 => {
                out.push(current.trim().to_owned());
                current.clear();
                continue;
            }
            _ => {}
        }
        if depth < 0 {
            break; // the closing parenthesis of the call
        }
        current.push(c);
    }
    if !current.trim().is_empty() {
        out.push(current.trim().to_owned());
    }
    out
}

fn unquote(token: &str) -> Option<String> {
    let inner = token.strip_prefix('"')?;
    let inner = inner.strip_suffix("...").unwrap_or(inner);
    Some(
        inner
            .strip_suffix('"')?
            .replace("\\\"", "\"")
            .replace("\\\\", "\\"),
    )
}

/// The directory a `-y`-decorated dirfd token names (`3</tmp/x>`), or the cwd.
fn dir_of(token: &str) -> PathBuf {
    token
        .split_once('<')
        .and_then(|(_, rest)| rest.strip_suffix('>'))
        .map(PathBuf::from)
        .unwrap_or_else(|| std::env::current_dir().unwrap_or_default())
}

fn resolve(dir: &Path, path: &str) -> String {
    canonical_parent(&dir.join(path))
}

/// Canonical form of a path whose last component may no longer exist.
fn canonical_parent(path: &Path) -> String {
    match (path.parent(), path.file_name()) {
        (Some(parent), Some(name)) => {
            let parent = std::fs::canonicalize(parent).unwrap_or_else(|_| parent.to_owned());
            parent.join(name).to_string_lossy().into_owned()
        }
        _ => path.to_string_lossy().into_owned(),
    }
}

/// Minimal `strace -f -y` log reader: syscall names, written paths, executed paths.
pub fn parse_strace(text: &str) -> StraceView {
    let mut view = StraceView::default();
    let mut unfinished: std::collections::HashMap<String, String> = Default::default();
    for line in text.lines() {
        let (pid, rest) = line
            .trim_start()
            .split_once(char::is_whitespace)
            .unwrap_or(("", line));
        let mut rest = rest.trim_start().to_owned();
        if rest.starts_with("+++") || rest.starts_with("---") {
            continue;
        }
        if let Some(resumed) = rest.strip_prefix("<... ") {
            let name = resumed
                .split_whitespace()
                .next()
                .unwrap_or_default()
                .to_owned();
            view.syscalls.insert(name.clone());
            let tail = resumed.split_once("resumed>").map_or("", |(_, t)| t);
            match unfinished.remove(pid) {
                Some(head) => rest = format!("{head}{tail}"),
                None => continue,
            }
        } else if let Some(head) = rest.strip_suffix(" <unfinished ...>") {
            unfinished.insert(pid.to_owned(), head.to_owned());
            let name = head.split('(').next().unwrap_or_default();
            view.syscalls.insert(name.to_owned());
            continue;
        }
        let Some((name, args)) = rest.split_once('(') else {
            continue;
        };
        if name.is_empty() || !name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
            continue;
        }
        view.syscalls.insert(name.to_owned());
        // strace pads the return column after a resumed call: ")      = 0".
        let Some((call, ret)) = rest.rsplit_once(" = ") else {
            continue;
        };
        if !call.trim_end().ends_with(')') {
            continue;
        }
        if !ret.trim_start().starts_with(|c: char| c.is_ascii_digit()) {
            continue;
        }
        let args = split_args(args);
        let arg = |i: usize| args.get(i).map(String::as_str).unwrap_or_default();
        let returned_path = ret
            .split_once('<')
            .and_then(|(_, p)| p.split_once('>'))
            .map(|(p, _)| canonical_parent(Path::new(p)));
        let writes = |flags: &str| {
            flags.contains("O_WRONLY") || flags.contains("O_RDWR") || flags.contains("O_CREAT")
        };
        let cwd = std::env::current_dir().unwrap_or_default();
        let path_at =
            |dir: usize, path: usize| unquote(arg(path)).map(|p| resolve(&dir_of(arg(dir)), &p));
        let path_cwd = |path: usize| unquote(arg(path)).map(|p| resolve(&cwd, &p));
        let written = match name {
            "open" if writes(arg(1)) => returned_path,
            "openat" if writes(arg(2)) => returned_path,
            "openat2" if writes(arg(2)) => returned_path,
            "creat" => returned_path,
            "mkdir" | "mknod" => path_cwd(0),
            "mkdirat" | "mknodat" => path_at(0, 1),
            "symlink" | "link" => path_cwd(1),
            "symlinkat" => path_at(1, 2),
            "linkat" => path_at(2, 3),
            "execve" => {
                view.executed.extend(path_cwd(0));
                None
            }
            "execveat" => {
                view.executed.extend(path_at(0, 1));
                None
            }
            _ => None,
        };
        view.written.extend(written);
    }
    view.executed = view.executed.iter().map(|p| canonical(p)).collect();
    view
}

/// Ids of every loaded BPF program, map and link (`bpftool -j … show`).
#[derive(Debug, PartialEq, Eq)]
pub struct BpfObjects {
    pub progs: BTreeSet<u64>,
    pub maps: BTreeSet<u64>,
    pub links: BTreeSet<u64>,
}

fn bpftool_ids(kind: &str) -> BTreeSet<u64> {
    let out = Command::new("bpftool")
        .args(["-j", kind, "show"])
        .output()
        .expect("bpftool runs (apt-get install bpftool)");
    assert!(out.status.success(), "bpftool {kind} show failed");
    let value: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap_or_default();
    value
        .as_array()
        .map(|items| {
            items
                .iter()
                .filter_map(|i| i.get("id").and_then(serde_json::Value::as_u64))
                .collect()
        })
        .unwrap_or_default()
}

/// A snapshot of what is loaded in the kernel.
pub fn bpf_objects() -> BpfObjects {
    BpfObjects {
        progs: bpftool_ids("prog"),
        maps: bpftool_ids("map"),
        links: bpftool_ids("link"),
    }
}

/// Asserts that nothing was loaded since `before` and is still there. The kernel frees closed
/// programs and maps from deferred work, so they may linger for a moment after the last close.
pub fn assert_nothing_left(before: &BpfObjects) {
    let new = |a: &BTreeSet<u64>, b: &BTreeSet<u64>| a.difference(b).copied().collect::<Vec<_>>();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
    loop {
        let after = bpf_objects();
        let left = (
            new(&after.progs, &before.progs),
            new(&after.maps, &before.maps),
            new(&after.links, &before.links),
        );
        if left.0.is_empty() && left.1.is_empty() && left.2.is_empty() {
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "BPF objects left (programs, maps, links): {left:?}"
        );
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    let leftovers = transient_cgroups();
    assert!(
        leftovers.is_empty(),
        "transient cgroups left: {leftovers:?}"
    );
}

/// The cgroup2 mount of this host.
pub fn cgroup_mount() -> PathBuf {
    sysprof_record::cgroup::cgroup2_mount().expect("cgroup2 mounted")
}

/// `sysprof-<this pid>-*` cgroups that still exist.
pub fn transient_cgroups() -> Vec<PathBuf> {
    let prefix = format!("sysprof-{}-", std::process::id());
    std::fs::read_dir(cgroup_mount())
        .map(|entries| {
            entries
                .flatten()
                .filter(|e| e.file_name().to_string_lossy().starts_with(&prefix))
                .map(|e| e.path())
                .collect()
        })
        .unwrap_or_default()
}

/// A cgroup made by a test, removed (after moving its processes out) when dropped.
pub struct TestCgroup(pub PathBuf);

impl TestCgroup {
    pub fn new(name: &str) -> TestCgroup {
        let path = cgroup_mount().join(format!("sysprof-test-{}-{name}", std::process::id()));
        let _ = std::fs::remove_dir(&path);
        std::fs::create_dir(&path).expect("create test cgroup");
        TestCgroup(path)
    }

    /// Runs `sh -c script` inside `dir` (this cgroup or a child of it) and waits for it.
    pub fn run_in(dir: &Path, script: &str) {
        let procs = dir.join("cgroup.procs");
        let status = Command::new("sh")
            .arg("-c")
            .arg(format!("echo $$ > {}; {script}", procs.display()))
            .status()
            .expect("sh runs");
        assert!(status.success(), "{script}: {status}");
    }
}

impl Drop for TestCgroup {
    fn drop(&mut self) {
        let mount = cgroup_mount();
        if let Ok(dirs) = sysprof_record::cgroup::subtree(&self.0) {
            for dir in dirs.iter().rev() {
                for pid in sysprof_record::cgroup::procs(dir).unwrap_or_default() {
                    let _ = std::fs::write(mount.join("cgroup.procs"), pid.to_string());
                }
                let _ = std::fs::remove_dir(dir);
            }
        }
    }
}

/// A recording running on its own thread.
pub struct Background {
    pub stop: StopFlag,
    pub progress: std::sync::Arc<Progress>,
    pub handle: std::thread::JoinHandle<Result<Recording, ebpf::EbpfError>>,
}

impl Background {
    /// Waits until the recorder has attached and set up its target.
    pub fn wait_until_recording(&self) {
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(120);
        while !self
            .progress
            .recording
            .load(std::sync::atomic::Ordering::SeqCst)
        {
            assert!(
                !self.handle.is_finished(),
                "the recorder ended before recording"
            );
            assert!(
                std::time::Instant::now() < deadline,
                "the recorder never started"
            );
            std::thread::sleep(std::time::Duration::from_millis(20));
        }
    }

    /// Raises the stop flag and returns the recording.
    pub fn finish(self) -> Recording {
        self.stop.raise();
        self.join()
    }

    /// Waits for the recording to end by itself.
    pub fn join(self) -> Recording {
        self.handle
            .join()
            .expect("recorder thread panicked")
            .unwrap_or_else(|e| panic!("recording failed: {e}"))
    }
}

/// Records `target` on a thread until it ends or is stopped.
pub fn record_in_background(target: Target) -> Background {
    let stop = StopFlag::new();
    let progress = std::sync::Arc::new(Progress::default());
    let (thread_stop, thread_progress) = (stop.clone(), progress.clone());
    let handle = std::thread::spawn(move || {
        ebpf::record(
            &target,
            &RecordOptions::default(),
            &thread_stop,
            &thread_progress,
        )
    });
    Background {
        stop,
        progress,
        handle,
    }
}
