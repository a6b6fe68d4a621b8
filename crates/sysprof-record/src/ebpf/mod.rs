//! The eBPF backend: whole-cgroup (or process-tree) recording with tracepoints and in-kernel dedup.
//!
//! Kernel side: `ebpf/sysprof.bpf.c` (CO-RE C, committed object). User side: [`probe`] loads and
//! attaches every program for real and reports per hook; [`record`] does the same, points the
//! programs at the target through BPF maps, drains the ring buffer until the target is done or
//! the [`StopFlag`] is raised, and reads the syscall bitmaps and counters at the end. Dropping
//! the loaded object detaches every program and frees every map, on every exit path.

pub mod abi;
pub mod decode;
pub mod kallsyms;
pub mod loader;

pub use loader::HookStatus;

use crate::cgroup::{self, CgroupError, TransientCgroup};
use crate::{ChildExit, Progress, RecordOptions, Recording, StopFlag, Target};
use abi::*;
use aya::maps::{Array, HashMap, MapData, PerCpuArray, RingBuf};
use std::collections::BTreeSet;
use std::os::fd::AsRawFd;
use std::os::unix::process::{CommandExt, ExitStatusExt};
use std::path::{Path, PathBuf};
use std::process::{Child, Command};
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};
use sysprof_core::event::{Abi, Event};
use sysprof_core::tables::syscalls;
use sysprof_core::trace::{self, Backend, Trace};

/// Errors of the eBPF backend.
#[derive(Debug, thiserror::Error)]
pub enum EbpfError {
    #[error("failed to load the eBPF object: {0}")]
    Load(String),
    #[error("failed to mount tracefs at /sys/kernel/tracing")]
    Tracefs(#[source] std::io::Error),
    #[error("required hook {hook} could not be attached: {reason}")]
    HookUnavailable { hook: &'static str, reason: String },
    #[error("failed to access BPF map {map}: {reason}")]
    Map { map: &'static str, reason: String },
    #[error(transparent)]
    Cgroup(#[from] CgroupError),
    #[error(transparent)]
    Unit(#[from] crate::unit::UnitError),
    #[error("failed to start {command}")]
    Spawn {
        command: String,
        #[source]
        source: std::io::Error,
    },
    #[error("nothing to record: {0}")]
    EmptyTarget(String),
    #[error("failed to wait for the ring buffer")]
    Poll(#[source] std::io::Error),
}

/// Loads and attaches every program for real, then detaches them all; one status per hook.
pub fn probe() -> Result<Vec<HookStatus>, EbpfError> {
    let _ = loader::ensure_tracefs()?;
    let loaded = loader::load(loader::Config {
        filter_mode: SP_FILTER_CGROUP,
        gate_until_exec: false,
    })?;
    Ok(loaded.statuses)
    // `loaded.ebpf` is dropped here: every link and map is released.
}

/// The maps user space drives, taken out of the object so they can be used independently.
struct Maps {
    events: RingBuf<MapData>,
    target_cgroups: HashMap<MapData, u64, u8>,
    cgroup_slots: Array<MapData, u64>,
    target_tgids: HashMap<MapData, u32, u8>,
    watch_cgroups: HashMap<MapData, SpCgroupWatch, u8>,
    syscall_bits: Array<MapData, SpSyscallBits>,
    counters: PerCpuArray<MapData, SpCounters>,
}

fn take_map(ebpf: &mut aya::Ebpf, name: &'static str) -> Result<aya::maps::Map, EbpfError> {
    ebpf.take_map(name).ok_or(EbpfError::Map {
        map: name,
        reason: "missing from the object".into(),
    })
}

fn map_err(map: &'static str) -> impl Fn(aya::maps::MapError) -> EbpfError {
    move |e| EbpfError::Map {
        map,
        reason: loader::one_line(&e),
    }
}

impl Maps {
    fn take(ebpf: &mut aya::Ebpf) -> Result<Maps, EbpfError> {
        Ok(Maps {
            events: RingBuf::try_from(take_map(ebpf, "events")?).map_err(map_err("events"))?,
            target_cgroups: HashMap::try_from(take_map(ebpf, "target_cgroups")?)
                .map_err(map_err("target_cgroups"))?,
            cgroup_slots: Array::try_from(take_map(ebpf, "cgroup_slots")?)
                .map_err(map_err("cgroup_slots"))?,
            target_tgids: HashMap::try_from(take_map(ebpf, "target_tgids")?)
                .map_err(map_err("target_tgids"))?,
            watch_cgroups: HashMap::try_from(take_map(ebpf, "watch_cgroups")?)
                .map_err(map_err("watch_cgroups"))?,
            syscall_bits: Array::try_from(take_map(ebpf, "syscall_bits")?)
                .map_err(map_err("syscall_bits"))?,
            counters: PerCpuArray::try_from(take_map(ebpf, "counters")?)
                .map_err(map_err("counters"))?,
        })
    }

    /// Adds a target cgroup: to the hash, and to its fast-filter slot if that is free (the
    /// kernel side's invariant: every target's slot is non-zero).
    fn add_cgroup(&mut self, id: u64) -> Result<(), EbpfError> {
        self.target_cgroups
            .insert(id, 1, 0)
            .map_err(map_err("target_cgroups"))?;
        let index = u32::try_from(id % u64::from(SP_CGROUP_SLOTS)).unwrap_or(0);
        if self.cgroup_slots.get(&index, 0).unwrap_or(0) == 0 {
            self.cgroup_slots
                .set(index, id, 0)
                .map_err(map_err("cgroup_slots"))?;
        }
        Ok(())
    }

    /// Watches for the (re-)creation of a unit's cgroup `dir` (`rel` below the mount): by parent
    /// id and leaf name, which the kernel reports the same in every cgroup namespace (a
    /// container's systemd), and by path for the classic tracepoint, which has no parent id.
    fn watch_unit_cgroup(&mut self, dir: &Path, rel: &str, unit: &str) -> Result<(), EbpfError> {
        let too_long =
            || EbpfError::EmptyTarget(format!("cgroup path of {unit} is too long: {rel}"));
        let mut keys = vec![SpCgroupWatch::new(0, rel).ok_or_else(too_long)?];
        let parent = dir.parent().map(cgroup::cgroup_id);
        if let (Some(Ok(parent_id)), Some(leaf)) = (parent, dir.file_name()) {
            let leaf = leaf.to_string_lossy();
            keys.push(SpCgroupWatch::new(parent_id, &leaf).ok_or_else(too_long)?);
        }
        for key in keys {
            self.watch_cgroups
                .insert(key, 1, 0)
                .map_err(map_err("watch_cgroups"))?;
        }
        Ok(())
    }

    fn add_tgid(&mut self, tgid: u32) -> Result<(), EbpfError> {
        self.target_tgids
            .insert(tgid, 1, 0)
            .map_err(map_err("target_tgids"))
    }

    fn counters(&self) -> SpCounters {
        let mut sum = SpCounters::default();
        if let Ok(per_cpu) = self.counters.get(&0, 0) {
            for c in per_cpu.iter() {
                sum.events_sent += c.events_sent;
                sum.events_lost += c.events_lost;
                sum.paths_truncated += c.paths_truncated;
                sum.processes += c.processes;
                sum.cgroups_followed += c.cgroups_followed;
            }
        }
        sum
    }

    /// (ABI index, syscall number) of every bit set.
    fn syscalls(&self) -> Vec<(u32, u32)> {
        let mut out = Vec::new();
        for abi in 0..SP_ABI_COUNT {
            let Ok(bits) = self.syscall_bits.get(&abi, 0) else {
                continue;
            };
            for (w, word) in bits.words.iter().enumerate() {
                for b in 0..64u32 {
                    if word & (1u64 << b) != 0 {
                        out.push((abi, u32::try_from(w).unwrap_or(0) * 64 + b));
                    }
                }
            }
        }
        out
    }
}

/// What the recording waits for before it ends on its own.
enum Lifetime {
    /// A launched command: until it and everything left in its cgroup has exited.
    Command {
        child: Child,
        cgroup: TransientCgroup,
        exit: Option<ChildExit>,
    },
    /// `--pid`: until every process of the trees has exited.
    Pids,
    /// `--cgroup` / `--unit`: until stopped or the duration expires.
    Open,
}

/// Records `target` until it is done, the duration expires, or `stop` is raised.
pub fn record(
    target: &Target,
    opts: &RecordOptions,
    stop: &StopFlag,
    progress: &Progress,
) -> Result<Recording, EbpfError> {
    let mut warnings = Vec::new();
    if let Some(note) = loader::ensure_tracefs()? {
        warnings.push(note);
    }
    let mut loaded = loader::load(loader::Config {
        filter_mode: match target {
            Target::Pids(_) => SP_FILTER_TGID,
            _ => SP_FILTER_CGROUP,
        },
        // What systemd (or sysprof, for a command) does in a process it has just moved into the
        // cgroup is its set-up of the service (mounts, chroot, capability drops), not the
        // service. A process moved into a --cgroup by hand has no such phase: it is recorded.
        gate_until_exec: matches!(target, Target::Unit(_) | Target::Command(_)),
    })?;
    let required: &[&str] = match target {
        Target::Pids(_) => &["syscalls", "fork", "exit"],
        _ => &["syscalls"],
    };
    for status in &loaded.statuses {
        if !status.ok() && required.contains(&status.hook) {
            return Err(EbpfError::HookUnavailable {
                hook: status.hook,
                reason: status.refused.join("; "),
            });
        }
        if !status.ok() || !status.refused.is_empty() {
            warnings.push(format!("eBPF hook {}", status.summary()));
        }
    }
    let mut maps = Maps::take(&mut loaded.ebpf)?;
    let kallsyms = kallsyms::Kallsyms::load();
    if kallsyms.is_none() {
        warnings.push(
            "cannot read kernel symbols from /proc/kallsyms: capability probes (noaudit) \
             cannot be told from needs, so all granted checks are kept"
                .to_owned(),
        );
    }
    let native = Abi::native_for_arch(&crate::host::arch()).unwrap_or(Abi::X86_64);
    let mut decoder = decode::Decoder::new(native, kallsyms);
    if loaded
        .statuses
        .iter()
        .any(|s| s.hook == "capabilities" && !s.ok())
    {
        decoder.infer_caps = true;
        warnings.push(
            "no capability hook: capabilities are inferred from syscalls and their arguments \
             (marked inferred), as with the ptrace backend"
                .to_owned(),
        );
    }
    let mut trace = Trace::new(&crate::host::arch());
    trace.meta.backends.insert(Backend::Ebpf);
    trace
        .meta
        .tool_versions
        .insert(format!("sysprof {}", env!("CARGO_PKG_VERSION")));
    if let Some(kernel) = crate::host::kernel_release() {
        trace.meta.kernels.insert(kernel);
    }
    trace.meta.targets.insert(trace_target(target));
    trace.meta.start = Some(crate::host::now_rfc3339());

    let mut lifetime = setup_target(target, &mut maps, &mut warnings)?;
    progress.epoch();
    progress.recording.store(true, Ordering::SeqCst);
    let started = Instant::now();
    let deadline = opts.duration.map(|d| started + d);
    let mut last_progress = Instant::now();
    let mut buf_events = 0u64;
    loop {
        let got = drain(&mut maps, &mut decoder, &mut trace);
        buf_events += got;
        if got > 0 {
            progress.events.store(buf_events, Ordering::Relaxed);
            progress
                .files_distinct
                .store(trace.files.len() as u64, Ordering::Relaxed);
        }
        if last_progress.elapsed() > Duration::from_millis(250) {
            last_progress = Instant::now();
            progress
                .syscalls_distinct
                .store(maps.syscalls().len() as u64, Ordering::Relaxed);
            progress
                .processes
                .store(maps.counters().processes, Ordering::Relaxed);
            let distinct = trace.distinct_observations() + maps.syscalls().len();
            if progress.observe_distinct(distinct as u64) {
                trace.meta.lifecycle.last_new_behaviour = Some(crate::host::now_rfc3339());
            }
        }
        if stop.is_raised() || deadline.is_some_and(|d| Instant::now() >= d) {
            break;
        }
        if target_done(&mut lifetime, &maps) {
            break;
        }
        wait_readable(&maps.events, Duration::from_millis(50))?;
    }
    // Events submitted just before the end are still in the buffer.
    drain(&mut maps, &mut decoder, &mut trace);

    let counters = maps.counters();
    for (abi, nr) in maps.syscalls() {
        let abi = match abi {
            SP_ABI_COMPAT => Abi::I386,
            SP_ABI_X32 => Abi::X32,
            _ => native,
        };
        let lookup = if abi == Abi::X32 {
            nr | syscalls::X32_SYSCALL_BIT
        } else {
            nr
        };
        let name = syscalls::name(abi, lookup)
            .map(str::to_owned)
            .unwrap_or_else(|| format!("syscall_{nr}"));
        if decoder.infer_caps {
            if let Some(cap) = decode::capability_of_syscall(&name) {
                trace.record(Event::Capability {
                    cap,
                    origin: sysprof_core::event::CapOrigin::Inferred,
                    syscall: Some(name.clone()),
                });
            }
        }
        trace.record(Event::Syscall { abi, name });
    }
    // What arrived after the last progress tick (the end of a short command) is news too.
    if progress.observe_distinct(trace.distinct_observations() as u64) {
        trace.meta.lifecycle.last_new_behaviour = Some(crate::host::now_rfc3339());
    }
    let integrity = &mut trace.meta.integrity;
    integrity.events_lost += counters.events_lost;
    integrity.paths_truncated += decoder.paths_truncated;
    integrity.paths_lossy += decoder.paths_lossy;
    integrity.paths_unresolved += decoder.paths_unresolved;
    integrity.processes += counters.processes;
    if counters.events_lost > 0 {
        warnings.push(format!(
            "{} events were lost because the ring buffer was full",
            counters.events_lost
        ));
    }
    if decoder.paths_truncated > 0 {
        warnings.push(format!(
            "{} paths were truncated at {} bytes",
            decoder.paths_truncated, SP_PATH_MAX
        ));
    }
    for (id, path) in &decoder.cgroups_followed {
        if matches!(target, Target::Unit(_)) {
            warnings.push(format!(
                "followed cgroup {path} (id {id}) created during the recording"
            ));
        }
    }
    trace.meta.end = Some(crate::host::now_rfc3339());

    // Detach everything before the transient cgroup goes, so nothing is left on any path.
    drop(maps);
    drop(loaded);
    let exit = match lifetime {
        Lifetime::Command {
            mut child,
            mut cgroup,
            exit,
        } => {
            let exit = exit.or_else(|| child.try_wait().ok().flatten().map(child_exit));
            if let Err(e) = cgroup.remove() {
                warnings.push(format!("{e}: {}", loader::one_line(&e)));
            }
            exit
        }
        _ => None,
    };
    Ok(Recording {
        trace,
        exit,
        warnings,
    })
}

fn trace_target(target: &Target) -> trace::Target {
    match target {
        Target::Command(argv) => trace::Target::Command(
            argv.iter()
                .map(|a| a.to_string_lossy().into_owned())
                .collect(),
        ),
        Target::Pids(pids) => trace::Target::Pid(pids.clone()),
        Target::Cgroup(path) => trace::Target::Cgroup(path.to_string_lossy().into_owned()),
        Target::Unit(name) => trace::Target::Unit(name.clone()),
    }
}

fn child_exit(status: std::process::ExitStatus) -> ChildExit {
    match (status.code(), status.signal()) {
        (Some(code), _) => ChildExit::Code(code),
        (None, Some(sig)) => ChildExit::Signal(sig),
        (None, None) => ChildExit::Code(-1),
    }
}

/// A warning when a process already runs under a seccomp filter: `sys_enter` fires after
/// seccomp, so calls the filter denies are invisible.
fn seccomp_warning(pid: u32) -> Option<String> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let mode = status
        .lines()
        .find_map(|l| l.strip_prefix("Seccomp:"))?
        .trim()
        .to_owned();
    (mode != "0").then(|| {
        format!(
            "process {pid} runs under a seccomp filter (Seccomp: {mode}): syscalls it denies are \
             not seen by the eBPF recorder"
        )
    })
}

fn setup_target(
    target: &Target,
    maps: &mut Maps,
    warnings: &mut Vec<String>,
) -> Result<Lifetime, EbpfError> {
    match target {
        Target::Command(argv) => {
            let Some((program, args)) = argv.split_first() else {
                return Err(EbpfError::EmptyTarget("empty command".into()));
            };
            let mount = cgroup::cgroup2_mount()?;
            let cgroup = TransientCgroup::create(&mount)?;
            maps.add_cgroup(cgroup.id())?;
            if let Some(w) = seccomp_warning(std::process::id()) {
                warnings.push(format!("sysprof itself (inherited by the command): {w}"));
            }
            let procs_file = cgroup.procs_file().clone();
            let mut command = Command::new(program);
            command.args(args);
            // SAFETY: the hook only calls async-signal-safe functions (open/write/close) on
            // a path prepared before fork, as required between fork and exec.
            unsafe {
                command.pre_exec(move || TransientCgroup::join_self_in_child(&procs_file));
            }
            let child = command.spawn().map_err(|source| EbpfError::Spawn {
                command: program.to_string_lossy().into_owned(),
                source,
            })?;
            Ok(Lifetime::Command {
                child,
                cgroup,
                exit: None,
            })
        }
        Target::Pids(pids) => {
            if pids.is_empty() {
                return Err(EbpfError::EmptyTarget("no pid given".into()));
            }
            let mut all: BTreeSet<u32> = BTreeSet::new();
            for &pid in pids {
                if !Path::new(&format!("/proc/{pid}")).exists() {
                    return Err(EbpfError::EmptyTarget(format!(
                        "process {pid} does not exist"
                    )));
                }
                all.extend(descendants(pid));
            }
            for &pid in &all {
                maps.add_tgid(pid)?;
            }
            for &pid in pids {
                if let Some(w) = seccomp_warning(pid) {
                    warnings.push(w);
                }
            }
            Ok(Lifetime::Pids)
        }
        Target::Cgroup(dir) => {
            let mount = cgroup::cgroup2_mount()?;
            let dir = absolute_cgroup_dir(dir, &mount);
            cgroup::relative_to_mount(&dir, &mount)?;
            add_subtree(maps, &dir, warnings)?;
            Ok(Lifetime::Open)
        }
        Target::Unit(name) => {
            let mount = cgroup::cgroup2_mount()?;
            let unit = crate::unit::normalize_unit_name(name)?;
            let control_group = crate::unit::control_group(&unit)?.unwrap_or_else(|| {
                // Not running: systemd puts system services here, so watch for it.
                format!("/system.slice/{unit}")
            });
            let dir = crate::unit::cgroup_dir(&mount, &control_group);
            let rel = cgroup::relative_to_mount(&dir, &mount)?;
            maps.watch_unit_cgroup(&dir, &rel, &unit)?;
            if dir.is_dir() {
                add_subtree(maps, &dir, warnings)?;
            } else {
                warnings.push(format!(
                    "unit {unit} is not running; recording starts when {rel} is created"
                ));
            }
            Ok(Lifetime::Open)
        }
    }
}

/// `--cgroup` accepts a path on the mount or one relative to its root.
fn absolute_cgroup_dir(dir: &Path, mount: &Path) -> PathBuf {
    if dir.starts_with(mount) {
        dir.to_owned()
    } else {
        mount.join(dir.strip_prefix("/").unwrap_or(dir))
    }
}

fn add_subtree(maps: &mut Maps, dir: &Path, warnings: &mut Vec<String>) -> Result<(), EbpfError> {
    let mut seccomp_seen = false;
    for d in cgroup::subtree(dir)? {
        maps.add_cgroup(cgroup::cgroup_id(&d)?)?;
        if !seccomp_seen {
            for pid in cgroup::procs(&d).unwrap_or_default() {
                if let Some(w) = seccomp_warning(pid) {
                    warnings.push(w);
                    seccomp_seen = true;
                    break;
                }
            }
        }
    }
    Ok(())
}

/// `pid` and every process descending from it, from `/proc/*/stat` parent links.
fn descendants(pid: u32) -> BTreeSet<u32> {
    let mut parent_of: Vec<(u32, u32)> = Vec::new();
    if let Ok(entries) = std::fs::read_dir("/proc") {
        for entry in entries.flatten() {
            let Some(p) = entry
                .file_name()
                .to_str()
                .and_then(|s| s.parse::<u32>().ok())
            else {
                continue;
            };
            let Ok(stat) = std::fs::read_to_string(format!("/proc/{p}/stat")) else {
                continue;
            };
            // "pid (comm) state ppid ...": comm may hold spaces and parentheses.
            let ppid = stat
                .rsplit_once(')')
                .and_then(|(_, rest)| rest.split_whitespace().nth(1))
                .and_then(|s| s.parse::<u32>().ok());
            if let Some(ppid) = ppid {
                parent_of.push((p, ppid));
            }
        }
    }
    let mut out = BTreeSet::from([pid]);
    loop {
        let before = out.len();
        for &(p, pp) in &parent_of {
            if out.contains(&pp) {
                out.insert(p);
            }
        }
        if out.len() == before {
            return out;
        }
    }
}

fn target_done(lifetime: &mut Lifetime, maps: &Maps) -> bool {
    match lifetime {
        Lifetime::Command {
            child,
            cgroup,
            exit,
        } => {
            if exit.is_none() {
                if let Ok(Some(status)) = child.try_wait() {
                    *exit = Some(child_exit(status));
                }
            }
            // Like `strace -f`: wait for everything the command started, too.
            exit.is_some() && !cgroup.is_populated()
        }
        Lifetime::Pids => maps
            .target_tgids
            .keys()
            .flatten()
            .all(|pid| !Path::new(&format!("/proc/{pid}")).exists()),
        Lifetime::Open => false,
    }
}

fn drain(maps: &mut Maps, decoder: &mut decode::Decoder, trace: &mut Trace) -> u64 {
    let mut n = 0;
    while let Some(item) = maps.events.next() {
        n += 1;
        if let Some(ev) = SpEvent::from_bytes(&item) {
            for event in decoder.decode(&ev) {
                trace.record(event);
            }
        }
    }
    n
}

fn wait_readable(events: &RingBuf<MapData>, timeout: Duration) -> Result<(), EbpfError> {
    let mut pfd = libc::pollfd {
        fd: events.as_raw_fd(),
        events: libc::POLLIN,
        revents: 0,
    };
    let ms = libc::c_int::try_from(timeout.as_millis()).unwrap_or(100);
    // SAFETY: one valid pollfd, count 1; the fd stays open for the call.
    let rc = unsafe { libc::poll(&mut pfd, 1, ms) };
    if rc < 0 {
        let err = std::io::Error::last_os_error();
        if err.kind() != std::io::ErrorKind::Interrupted {
            return Err(EbpfError::Poll(err));
        }
    }
    Ok(())
}
