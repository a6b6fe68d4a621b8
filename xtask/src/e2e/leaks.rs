//! What a run must leave on the host: nothing (BPF objects, cgroups, processes, mounts).

// Other work may run on the host at the same time (benchmarks, tests), so a new object that a
// live process still holds (an fd, a link of it, a map of its programs) or that is attached to a
// live cgroup is reported as someone else's; anything new that nothing holds is a leak.

use super::cmd;
use super::json::Json;
use anyhow::{bail, Context, Result};
use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

/// BPF object ids by kind.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct BpfIds {
    pub progs: BTreeSet<u64>,
    pub maps: BTreeSet<u64>,
    pub links: BTreeSet<u64>,
}

impl BpfIds {
    pub fn is_empty(&self) -> bool {
        self.progs.is_empty() && self.maps.is_empty() && self.links.is_empty()
    }

    pub fn extend(&mut self, other: &BpfIds) {
        self.progs.extend(&other.progs);
        self.maps.extend(&other.maps);
        self.links.extend(&other.links);
    }

    pub fn count(&self) -> usize {
        self.progs.len() + self.maps.len() + self.links.len()
    }
}

/// Every BPF object on the host, with what links point at and what programs use.
#[derive(Debug, Default)]
struct BpfObjects {
    /// prog id → (name, map ids)
    progs: BTreeMap<u64, (String, Vec<u64>)>,
    /// map id → name
    maps: BTreeMap<u64, String>,
    /// link id → (type, prog id)
    links: BTreeMap<u64, (String, Option<u64>)>,
}

fn bpftool(args: &[&str]) -> Result<Json> {
    let out = cmd::run_ok(Command::new("bpftool").args(args), Duration::from_secs(30))?;
    let text = out.stdout.trim();
    if text.is_empty() {
        return Ok(Json::Array(Vec::new()));
    }
    Json::parse(text).map_err(|e| anyhow::anyhow!("bpftool {}: bad JSON: {e}", args.join(" ")))
}

fn ids(values: Option<&Json>) -> Vec<u64> {
    values
        .map(Json::as_array)
        .unwrap_or_default()
        .iter()
        .filter_map(Json::as_u64)
        .collect()
}

fn text(value: Option<&Json>) -> String {
    value.and_then(Json::as_str).unwrap_or("").to_owned()
}

fn bpf_objects() -> Result<BpfObjects> {
    let mut all = BpfObjects::default();
    for prog in bpftool(&["-j", "prog", "list"])?.as_array() {
        if let Some(id) = prog.get("id").and_then(Json::as_u64) {
            all.progs
                .insert(id, (text(prog.get("name")), ids(prog.get("map_ids"))));
        }
    }
    for map in bpftool(&["-j", "map", "list"])?.as_array() {
        if let Some(id) = map.get("id").and_then(Json::as_u64) {
            all.maps.insert(id, text(map.get("name")));
        }
    }
    for link in bpftool(&["-j", "link", "list"])?.as_array() {
        if let Some(id) = link.get("id").and_then(Json::as_u64) {
            let prog = link.get("prog_id").and_then(Json::as_u64);
            all.links.insert(id, (text(link.get("type")), prog));
        }
    }
    Ok(all)
}

/// The BPF objects a process holds descriptors to (from `/proc/PID/fdinfo`); a link's
/// program counts as held too.
pub fn held_by(pid: u32) -> BpfIds {
    let mut held = BpfIds::default();
    let Ok(fds) = fs::read_dir(format!("/proc/{pid}/fd")) else {
        return held;
    };
    for fd in fds.flatten() {
        let is_bpf = fs::read_link(fd.path())
            .is_ok_and(|t| t.to_string_lossy().starts_with("anon_inode:bpf"));
        if !is_bpf {
            continue;
        }
        let info_path = format!("/proc/{pid}/fdinfo/{}", fd.file_name().to_string_lossy());
        let info = fs::read_to_string(info_path).unwrap_or_default();
        let field = |key: &str| {
            info.lines()
                .find_map(|l| l.strip_prefix(key))
                .and_then(|v| v.trim().parse::<u64>().ok())
        };
        if let Some(id) = field("link_id:") {
            held.links.insert(id);
        }
        if let Some(id) = field("prog_id:") {
            held.progs.insert(id);
        }
        if let Some(id) = field("map_id:") {
            held.maps.insert(id);
        }
    }
    held
}

fn live_pids() -> Vec<u32> {
    fs::read_dir("/proc")
        .map(|entries| {
            entries
                .flatten()
                .filter_map(|e| e.file_name().to_str().and_then(|s| s.parse().ok()))
                .collect()
        })
        .unwrap_or_default()
}

fn comm(pid: u32) -> String {
    fs::read_to_string(format!("/proc/{pid}/comm"))
        .map(|c| c.trim().to_owned())
        .unwrap_or_else(|_| "?".to_owned())
}

/// Every directory of every cgroup hierarchy mounted on the host.
fn all_cgroups() -> Result<BTreeSet<PathBuf>> {
    let text = fs::read_to_string("/proc/self/mountinfo").context("cannot read mountinfo")?;
    let mut roots = BTreeSet::new();
    for line in text.lines() {
        let Some((left, right)) = line.split_once(" - ") else {
            continue;
        };
        let fstype = right.split_whitespace().next().unwrap_or_default();
        if fstype == "cgroup" || fstype == "cgroup2" {
            if let Some(point) = left.split_whitespace().nth(4) {
                roots.insert(PathBuf::from(point));
            }
        }
    }
    let mut all = BTreeSet::new();
    let mut queue: Vec<PathBuf> = roots.into_iter().collect();
    while let Some(dir) = queue.pop() {
        if let Ok(entries) = fs::read_dir(&dir) {
            for entry in entries.flatten() {
                if entry.file_type().is_ok_and(|t| t.is_dir()) {
                    queue.push(entry.path());
                }
            }
        }
        all.insert(dir);
    }
    Ok(all)
}

/// The host state a run is compared against.
pub struct Snapshot {
    bpf: BpfObjects,
    cgroups: BTreeSet<PathBuf>,
}

pub fn snapshot() -> Result<Snapshot> {
    Ok(Snapshot {
        bpf: bpf_objects()?,
        cgroups: all_cgroups()?,
    })
}

/// Programs attached to live cgroups (systemd's device and firewall programs of other guests).
fn attached_to_cgroups(cg2_root: &Path) -> BTreeSet<u64> {
    let mut attached = BTreeSet::new();
    let root = cg2_root.to_string_lossy();
    if let Ok(tree) = bpftool(&["-j", "cgroup", "tree", &root]) {
        for cgroup in tree.as_array() {
            for prog in cgroup
                .get("programs")
                .map(Json::as_array)
                .unwrap_or_default()
            {
                if let Some(id) = prog.get("id").and_then(Json::as_u64) {
                    attached.insert(id);
                }
            }
        }
    }
    attached
}

fn populated(dir: &Path) -> bool {
    let events = fs::read_to_string(dir.join("cgroup.events")).unwrap_or_default();
    if events.lines().any(|l| l.trim() == "populated 1") {
        return true;
    }
    !fs::read_to_string(dir.join("cgroup.procs"))
        .unwrap_or_default()
        .trim()
        .is_empty()
}

/// A `sysprof-PID-N` transient cgroup of a sysprof process that is still running.
fn live_transient(dir: &Path) -> bool {
    let name = dir
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    name.strip_prefix("sysprof-")
        .and_then(|rest| rest.split('-').next())
        .and_then(|pid| pid.parse::<u32>().ok())
        .is_some_and(|pid| Path::new(&format!("/proc/{pid}")).exists())
}

/// The `sysprof-e2e-PID` component of a cgroup path, when that run (another `cargo xtask e2e`;
/// ours is matched by name before) is still running.
fn other_live_run(dir: &Path) -> Option<String> {
    dir.components().find_map(|c| {
        let name = c.as_os_str().to_string_lossy();
        let pid: u32 = name.strip_prefix("sysprof-e2e-")?.parse().ok()?;
        Path::new(&format!("/proc/{pid}"))
            .exists()
            .then(|| name.into_owned())
    })
}

/// Host processes still in the guest's cgroups, or nspawn processes for it.
fn guest_processes(name: &str) -> Vec<String> {
    let mut found = Vec::new();
    for pid in live_pids() {
        let cgroups = fs::read_to_string(format!("/proc/{pid}/cgroup")).unwrap_or_default();
        let in_guest = cgroups.lines().any(|l| {
            l.splitn(3, ':')
                .nth(2)
                .is_some_and(|p| p.split('/').any(|c| c == name))
        });
        let cmdline = fs::read(format!("/proc/{pid}/cmdline")).unwrap_or_default();
        let words: Vec<String> = cmdline
            .split(|b| *b == 0)
            .map(|w| String::from_utf8_lossy(w).into_owned())
            .collect();
        let is_nspawn = words.first().is_some_and(|w| w.ends_with("systemd-nspawn"))
            && words.iter().any(|w| w == name);
        if in_guest || is_nspawn {
            found.push(format!("{pid} ({})", comm(pid)));
        }
    }
    found
}

/// The outcome of the leak check: leaks (failures) and new objects owned by others (notes).
pub struct Verdict {
    pub leaks: Vec<String>,
    /// owner → what it holds that is new since the snapshot
    pub foreign: BTreeMap<String, Vec<String>>,
}

/// Compares the host with `before` once the guest is gone. `ours` are the BPF objects the
/// recorders held while they ran; `name` is the guest's name. Retries for a while, since the
/// kernel frees BPF objects and cgroups asynchronously.
pub fn check(before: &Snapshot, ours: &BpfIds, name: &str, cg2_root: &Path) -> Result<Verdict> {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let verdict = compare(before, ours, name, cg2_root)?;
        if verdict.leaks.is_empty() || Instant::now() >= deadline {
            return Ok(verdict);
        }
        std::thread::sleep(Duration::from_millis(500));
    }
}

fn compare(before: &Snapshot, ours: &BpfIds, name: &str, cg2_root: &Path) -> Result<Verdict> {
    let after = snapshot()?;
    let mut leaks = Vec::new();
    let mut foreign: BTreeMap<String, Vec<String>> = BTreeMap::new();

    // Exactly the objects the recorders held: none may survive them.
    for id in &ours.progs {
        if let Some((pname, _)) = after.bpf.progs.get(id) {
            leaks.push(format!(
                "recorder's BPF program {id} ({pname}) still loaded"
            ));
        }
    }
    for id in &ours.maps {
        if let Some(mname) = after.bpf.maps.get(id) {
            leaks.push(format!("recorder's BPF map {id} ({mname}) still exists"));
        }
    }
    for id in &ours.links {
        if let Some((kind, _)) = after.bpf.links.get(id) {
            leaks.push(format!("recorder's BPF link {id} ({kind}) still exists"));
        }
    }

    // Everything new since the snapshot: held by a live process, attached to a live cgroup, or
    // leaked.
    let mut owner: BTreeMap<(char, u64), String> = BTreeMap::new();
    for pid in live_pids() {
        let held = held_by(pid);
        if held.is_empty() {
            continue;
        }
        let who = format!("{pid} ({})", comm(pid));
        for id in &held.links {
            owner.entry(('l', *id)).or_insert_with(|| who.clone());
            if let Some((_, Some(prog))) = after.bpf.links.get(id) {
                owner.entry(('p', *prog)).or_insert_with(|| who.clone());
            }
        }
        for id in &held.progs {
            owner.entry(('p', *id)).or_insert_with(|| who.clone());
        }
        for id in &held.maps {
            owner.entry(('m', *id)).or_insert_with(|| who.clone());
        }
    }
    for id in attached_to_cgroups(cg2_root) {
        owner
            .entry(('p', id))
            .or_insert_with(|| "attached to a live cgroup".to_owned());
    }
    let prog_owners: Vec<(u64, String)> = owner
        .iter()
        .filter(|((kind, _), _)| *kind == 'p')
        .map(|((_, id), who)| (*id, who.clone()))
        .collect();
    for (prog, who) in prog_owners {
        for map in after
            .bpf
            .progs
            .get(&prog)
            .map(|p| p.1.clone())
            .unwrap_or_default()
        {
            owner.entry(('m', map)).or_insert_with(|| who.clone());
        }
    }
    let mut classify = |kind: char, id: u64, label: String| match owner.get(&(kind, id)) {
        Some(who) => foreign.entry(who.clone()).or_default().push(label),
        None => leaks.push(format!("{label}: left on the host, held by nothing")),
    };
    for (id, (pname, _)) in &after.bpf.progs {
        if !before.bpf.progs.contains_key(id) && !ours.progs.contains(id) {
            classify('p', *id, format!("BPF program {id} ({pname})"));
        }
    }
    for (id, mname) in &after.bpf.maps {
        if !before.bpf.maps.contains_key(id) && !ours.maps.contains(id) {
            classify('m', *id, format!("BPF map {id} ({mname})"));
        }
    }
    for (id, (kind, _)) in &after.bpf.links {
        if !before.bpf.links.contains_key(id) && !ours.links.contains(id) {
            classify('l', *id, format!("BPF link {id} ({kind})"));
        }
    }

    for dir in after.cgroups.difference(&before.cgroups) {
        let label = dir.display().to_string();
        if dir.components().any(|c| c.as_os_str() == name) {
            leaks.push(format!("cgroup {label} of the guest still exists"));
        } else if populated(dir) || live_transient(dir) {
            foreign
                .entry("live processes".to_owned())
                .or_default()
                .push(format!("cgroup {label}"));
        } else if let Some(run) = other_live_run(dir) {
            // Another e2e run's guest: its empty cgroups come and go with its units.
            foreign
                .entry(format!("the e2e run {run}"))
                .or_default()
                .push(format!("cgroup {label}"));
        } else {
            leaks.push(format!("cgroup {label}: new, empty, left on the host"));
        }
    }
    for process in guest_processes(name) {
        leaks.push(format!("process {process} of the guest is still running"));
    }
    let mountinfo = fs::read_to_string("/proc/self/mountinfo").unwrap_or_default();
    for line in mountinfo.lines() {
        if line.split_whitespace().any(|field| {
            field.split('/').any(|c| c == name) || field.starts_with(super::rootfs::CACHE_DIR)
        }) {
            leaks.push(format!("host mount of the guest: {line}"));
        }
    }
    Ok(Verdict { leaks, foreign })
}

/// Fails unless bpftool can list programs (it is what the leak check relies on).
pub fn require_bpftool() -> Result<()> {
    if bpftool(&["-j", "prog", "list"]).is_err() {
        bail!("bpftool -j prog list failed (package bpftool; run as root)");
    }
    Ok(())
}
