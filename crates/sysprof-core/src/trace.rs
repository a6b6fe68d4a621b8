//! Trace format v1: the aggregated evidence of a recording, as one deterministic JSON document.
//!
//! Every collection is a sorted set, so the same observations always serialise to the same bytes,
//! traces diff cleanly, and [`Trace::merge`] is a plain union.

use crate::event::{Abi, Access, AddressOp, CapOrigin, DeviceKind, Event, MapKind, Namespace};
use crate::tables::caps;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::collections::BTreeSet;
use std::io::{Read, Write};

/// The value of the `format` field.
pub const FORMAT: &str = "sysprof-trace";
/// The version this build writes.
pub const VERSION: u32 = 2;
/// The versions this build reads: 1 (no `meta.lifecycle`) and 2.
pub const READABLE_VERSIONS: [u32; 2] = [1, 2];
/// Traces larger than this are refused rather than read into memory.
pub const MAX_TRACE_BYTES: u64 = 1 << 30;

/// Errors reading or writing a trace.
#[derive(Debug, thiserror::Error)]
pub enum TraceError {
    #[error("cannot read trace: {0}")]
    Io(#[from] std::io::Error),
    #[error("trace is empty")]
    Empty,
    #[error("trace is larger than {} bytes", MAX_TRACE_BYTES)]
    TooLarge,
    #[error("not a sysprof trace: {0}")]
    NotATrace(String),
    #[error("unsupported trace version {found} (this sysprof reads versions 1 and {VERSION})")]
    UnsupportedVersion { found: u64 },
    #[error("malformed trace: {0}")]
    Malformed(String),
}

/// A capability number, written by name (`CAP_NET_BIND_SERVICE`) in the format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Cap(pub u8);

impl Serialize for Cap {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&caps::name(self.0))
    }
}

impl<'de> Deserialize<'de> for Cap {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let name = String::deserialize(d)?;
        caps::parse(&name)
            .map(Cap)
            .ok_or_else(|| serde::de::Error::custom(format!("unknown capability {name:?}")))
    }
}

/// Which recorder produced the evidence.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Backend {
    Ebpf,
    Ptrace,
    StraceImport,
}

/// What was recorded.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(tag = "kind", content = "value", rename_all = "kebab-case")]
pub enum Target {
    /// A systemd unit.
    Unit(String),
    /// A cgroup v2 directory.
    Cgroup(String),
    /// Process trees rooted at these pids.
    Pid(Vec<u32>),
    /// A command launched by sysprof.
    Command(Vec<String>),
    /// strace logs imported from these files.
    StraceLog(Vec<String>),
}

/// Counters that tell whether the evidence is complete.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Integrity {
    /// Events the kernel could not hand to user space (ring-buffer reservation failures).
    pub events_lost: u64,
    /// Paths cut at the recorder's maximum length.
    pub paths_truncated: u64,
    /// Paths that were not valid UTF-8 and were stored with replacement characters.
    pub paths_lossy: u64,
    /// Relative paths that could not be made absolute (unknown cwd or dirfd).
    pub paths_unresolved: u64,
    /// Input lines (strace import) that could not be parsed.
    pub lines_unparsed: u64,
    /// Processes and threads followed.
    pub processes: u64,
}

impl Integrity {
    fn add(&mut self, other: &Integrity) {
        self.events_lost += other.events_lost;
        self.paths_truncated += other.paths_truncated;
        self.paths_lossy += other.paths_lossy;
        self.paths_unresolved += other.paths_unresolved;
        self.lines_unparsed += other.lines_unparsed;
        self.processes += other.processes;
    }

    /// True when nothing was lost or approximated.
    pub fn is_clean(&self) -> bool {
        self.events_lost == 0
            && self.paths_truncated == 0
            && self.paths_lossy == 0
            && self.paths_unresolved == 0
            && self.lines_unparsed == 0
    }
}

/// Where and how the evidence was recorded.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Meta {
    /// sysprof version(s) that wrote the evidence.
    pub tool_versions: BTreeSet<String>,
    pub backends: BTreeSet<Backend>,
    /// `uname -r` of the recording host(s).
    pub kernels: BTreeSet<String>,
    /// `uname -m` of the recording host; decides which ABI is native.
    pub arch: String,
    /// `systemctl --version` major number of the target, where known.
    #[serde(default)]
    pub systemd_version: Option<u32>,
    pub targets: BTreeSet<Target>,
    /// RFC 3339 UTC timestamps of the first start and last end.
    #[serde(default)]
    pub start: Option<String>,
    #[serde(default)]
    pub end: Option<String>,
    #[serde(default)]
    pub integrity: Integrity,
    /// Which parts of a unit's life the recording saw (version 2; empty in version 1 traces).
    #[serde(default)]
    pub lifecycle: Lifecycle,
}

/// A part of a service's life: each runs code (ExecStartPre=, ExecReload=, ExecStop=, start-up
/// paths) that the others may not.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Phase {
    /// The unit started (a new invocation) while recording.
    Start,
    /// It started from the state a reboot leaves: its runtime state under /run removed.
    ColdStart,
    /// `systemctl reload` (ExecReload=) ran.
    Reload,
    /// `systemctl restart`.
    Restart,
    /// The unit stopped (ExecStop=, ExecStopPost=).
    Stop,
}

impl Phase {
    pub const ALL: [Phase; 5] = [
        Phase::Start,
        Phase::ColdStart,
        Phase::Reload,
        Phase::Restart,
        Phase::Stop,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Phase::Start => "start",
            Phase::ColdStart => "cold-start",
            Phase::Reload => "reload",
            Phase::Restart => "restart",
            Phase::Stop => "stop",
        }
    }
}

/// Coverage of a recording: the lifecycle phases and signals it saw, and how fresh its last
/// new observation is (a recording whose last news is old has likely seen it all).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Lifecycle {
    #[serde(default)]
    pub phases: BTreeSet<Phase>,
    /// Signals the target's processes were sent (`SIGHUP`, `SIGUSR1`, …: reloads, log rotation).
    #[serde(default)]
    pub signals: BTreeSet<String>,
    /// RFC 3339 UTC time of the last observation that was new to the recording.
    #[serde(default)]
    pub last_new_behaviour: Option<String>,
}

/// A system call used through an ABI.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SyscallRecord {
    pub abi: Abi,
    pub name: String,
}

/// A capability that was needed.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CapabilityRecord {
    pub cap: Cap,
    pub origin: CapOrigin,
    #[serde(default)]
    pub syscall: Option<String>,
}

/// A distinct (path, access, result) observation.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FileRecord {
    pub path: String,
    pub access: Access,
    /// `ok` or the errno name.
    pub result: String,
}

impl FileRecord {
    /// True when the access succeeded.
    pub fn ok(&self) -> bool {
        self.result == "ok"
    }
}

/// A program that was executed.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ExecRecord {
    pub path: String,
    #[serde(default)]
    pub interpreter: Option<String>,
}

/// A socket that was created.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SocketRecord {
    pub family: String,
    #[serde(rename = "type")]
    pub sock_type: String,
    pub protocol: String,
    pub result: String,
}

/// A bind or connect address.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AddressRecord {
    pub op: AddressOp,
    pub family: String,
    pub address: String,
    pub result: String,
}

/// Namespaces created or joined.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NamespaceRecord {
    pub syscall: String,
    pub kind: Namespace,
    pub result: String,
}

/// A realtime scheduling request.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RealtimeRecord {
    pub syscall: String,
    pub policy: String,
}

/// A W+X or exec-gaining mapping.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MemoryRecord {
    pub kind: MapKind,
    pub syscall: String,
    pub result: String,
}

/// A set-id mode bit request.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SetIdRecord {
    pub syscall: String,
    #[serde(default)]
    pub path: Option<String>,
    /// The requested mode, in octal.
    pub mode: String,
    pub result: String,
}

/// A device node creation.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DeviceRecord {
    pub path: String,
    pub kind: DeviceKind,
    pub result: String,
}

/// Mount-table activity.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MountRecord {
    pub syscall: String,
    #[serde(default)]
    pub target: Option<String>,
    pub result: String,
}

/// The aggregated evidence of one or more recordings.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Trace {
    pub format: String,
    pub version: u32,
    pub meta: Meta,
    #[serde(default)]
    pub syscalls: BTreeSet<SyscallRecord>,
    #[serde(default)]
    pub capabilities: BTreeSet<CapabilityRecord>,
    #[serde(default)]
    pub files: BTreeSet<FileRecord>,
    #[serde(default)]
    pub execs: BTreeSet<ExecRecord>,
    #[serde(default)]
    pub sockets: BTreeSet<SocketRecord>,
    #[serde(default)]
    pub addresses: BTreeSet<AddressRecord>,
    #[serde(default)]
    pub namespaces: BTreeSet<NamespaceRecord>,
    /// `personality()` arguments, in hex.
    #[serde(default)]
    pub personalities: BTreeSet<String>,
    #[serde(default)]
    pub realtime: BTreeSet<RealtimeRecord>,
    #[serde(default)]
    pub memory: BTreeSet<MemoryRecord>,
    #[serde(default)]
    pub setid_modes: BTreeSet<SetIdRecord>,
    #[serde(default)]
    pub devices: BTreeSet<DeviceRecord>,
    #[serde(default)]
    pub mounts: BTreeSet<MountRecord>,
}

fn result_string(outcome: &crate::event::Outcome) -> String {
    match outcome {
        Ok(()) => "ok".to_owned(),
        Err(errno) => errno.clone(),
    }
}

impl Trace {
    /// An empty trace for a recording on `arch` (`uname -m`).
    pub fn new(arch: &str) -> Trace {
        Trace {
            format: FORMAT.to_owned(),
            version: VERSION,
            meta: Meta {
                arch: arch.to_owned(),
                ..Meta::default()
            },
            syscalls: BTreeSet::new(),
            capabilities: BTreeSet::new(),
            files: BTreeSet::new(),
            execs: BTreeSet::new(),
            sockets: BTreeSet::new(),
            addresses: BTreeSet::new(),
            namespaces: BTreeSet::new(),
            personalities: BTreeSet::new(),
            realtime: BTreeSet::new(),
            memory: BTreeSet::new(),
            setid_modes: BTreeSet::new(),
            devices: BTreeSet::new(),
            mounts: BTreeSet::new(),
        }
    }

    /// How many distinct observations the trace holds (grows only when something new is seen).
    pub fn distinct_observations(&self) -> usize {
        self.syscalls.len()
            + self.capabilities.len()
            + self.files.len()
            + self.execs.len()
            + self.sockets.len()
            + self.addresses.len()
            + self.namespaces.len()
            + self.personalities.len()
            + self.realtime.len()
            + self.memory.len()
            + self.setid_modes.len()
            + self.devices.len()
            + self.mounts.len()
            + self.meta.lifecycle.signals.len()
    }

    /// Folds one observation into the evidence.
    pub fn record(&mut self, event: Event) {
        match event {
            Event::Syscall { abi, name } => {
                self.syscalls.insert(SyscallRecord { abi, name });
            }
            Event::Capability {
                cap,
                origin,
                syscall,
            } => {
                self.capabilities.insert(CapabilityRecord {
                    cap: Cap(cap),
                    origin,
                    syscall,
                });
            }
            Event::File {
                path,
                access,
                outcome,
            } => {
                self.files.insert(FileRecord {
                    path,
                    access,
                    result: result_string(&outcome),
                });
            }
            Event::Exec { path, interpreter } => {
                self.execs.insert(ExecRecord { path, interpreter });
            }
            Event::Socket {
                family,
                sock_type,
                protocol,
                outcome,
            } => {
                self.sockets.insert(SocketRecord {
                    family,
                    sock_type,
                    protocol,
                    result: result_string(&outcome),
                });
            }
            Event::Address {
                op,
                family,
                address,
                outcome,
            } => {
                self.addresses.insert(AddressRecord {
                    op,
                    family,
                    address,
                    result: result_string(&outcome),
                });
            }
            Event::Namespace {
                syscall,
                kinds,
                outcome,
            } => {
                let result = result_string(&outcome);
                for kind in kinds {
                    self.namespaces.insert(NamespaceRecord {
                        syscall: syscall.clone(),
                        kind,
                        result: result.clone(),
                    });
                }
            }
            Event::Personality { persona } => {
                self.personalities.insert(format!("{persona:#x}"));
            }
            Event::Realtime { syscall, policy } => {
                self.realtime.insert(RealtimeRecord { syscall, policy });
            }
            Event::Memory {
                kind,
                syscall,
                outcome,
            } => {
                self.memory.insert(MemoryRecord {
                    kind,
                    syscall,
                    result: result_string(&outcome),
                });
            }
            Event::SetIdMode {
                syscall,
                path,
                mode,
                outcome,
            } => {
                self.setid_modes.insert(SetIdRecord {
                    syscall,
                    path,
                    mode: format!("{mode:04o}"),
                    result: result_string(&outcome),
                });
            }
            Event::Mknod {
                path,
                kind,
                outcome,
            } => {
                self.devices.insert(DeviceRecord {
                    path,
                    kind,
                    result: result_string(&outcome),
                });
            }
            Event::Mount {
                syscall,
                target,
                outcome,
            } => {
                self.mounts.insert(MountRecord {
                    syscall,
                    target,
                    result: result_string(&outcome),
                });
            }
            Event::ProcessStarted => self.meta.integrity.processes += 1,
            Event::Signal { name } => {
                self.meta.lifecycle.signals.insert(name);
            }
        }
    }

    /// Unions `other` into `self`. The result keeps the earliest start and the latest end.
    pub fn merge(&mut self, other: Trace) {
        let m = &mut self.meta;
        m.tool_versions.extend(other.meta.tool_versions);
        m.backends.extend(other.meta.backends);
        m.kernels.extend(other.meta.kernels);
        m.targets.extend(other.meta.targets);
        if m.arch.is_empty() {
            m.arch = other.meta.arch;
        }
        m.systemd_version = m.systemd_version.or(other.meta.systemd_version);
        // RFC 3339 UTC timestamps in one format sort lexically.
        m.start = match (m.start.take(), other.meta.start) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        };
        m.end = match (m.end.take(), other.meta.end) {
            (Some(a), Some(b)) => Some(a.max(b)),
            (a, b) => a.or(b),
        };
        m.integrity.add(&other.meta.integrity);
        let l = &mut m.lifecycle;
        l.phases.extend(other.meta.lifecycle.phases);
        l.signals.extend(other.meta.lifecycle.signals);
        l.last_new_behaviour = match (
            l.last_new_behaviour.take(),
            other.meta.lifecycle.last_new_behaviour,
        ) {
            (Some(a), Some(b)) => Some(a.max(b)),
            (a, b) => a.or(b),
        };
        self.syscalls.extend(other.syscalls);
        self.capabilities.extend(other.capabilities);
        self.files.extend(other.files);
        self.execs.extend(other.execs);
        self.sockets.extend(other.sockets);
        self.addresses.extend(other.addresses);
        self.namespaces.extend(other.namespaces);
        self.personalities.extend(other.personalities);
        self.realtime.extend(other.realtime);
        self.memory.extend(other.memory);
        self.setid_modes.extend(other.setid_modes);
        self.devices.extend(other.devices);
        self.mounts.extend(other.mounts);
    }

    /// The native ABI of the recording host, if its arch is known.
    pub fn native_abi(&self) -> Option<Abi> {
        Abi::native_for_arch(&self.meta.arch)
    }

    /// Names of syscalls used through `abi`.
    pub fn syscall_names(&self, abi: Abi) -> BTreeSet<&str> {
        self.syscalls
            .iter()
            .filter(|s| s.abi == abi)
            .map(|s| s.name.as_str())
            .collect()
    }

    /// Writes the trace as pretty-printed JSON followed by a newline.
    pub fn write_to(&self, mut out: impl Write) -> Result<(), TraceError> {
        serde_json::to_writer_pretty(&mut out, self)
            .map_err(|e| TraceError::Io(std::io::Error::other(e)))?;
        out.write_all(b"\n")?;
        Ok(())
    }

    /// Serialises to a string (used for atomic writes and snapshots).
    pub fn to_json(&self) -> String {
        let mut buf = Vec::new();
        // Writing to a Vec cannot fail and every map key is a string.
        if self.write_to(&mut buf).is_err() {
            return String::new();
        }
        String::from_utf8_lossy(&buf).into_owned()
    }

    /// Reads and validates a trace.
    pub fn read_from(input: impl Read) -> Result<Trace, TraceError> {
        let mut bytes = Vec::new();
        input.take(MAX_TRACE_BYTES + 1).read_to_end(&mut bytes)?;
        if bytes.len() as u64 > MAX_TRACE_BYTES {
            return Err(TraceError::TooLarge);
        }
        Trace::from_slice(&bytes)
    }

    /// Parses and validates a trace held in memory.
    pub fn from_slice(bytes: &[u8]) -> Result<Trace, TraceError> {
        if bytes.iter().all(u8::is_ascii_whitespace) {
            return Err(TraceError::Empty);
        }
        let value: serde_json::Value = serde_json::from_slice(bytes).map_err(|e| {
            if e.is_eof() {
                TraceError::Malformed(format!("truncated JSON ({e})"))
            } else {
                TraceError::NotATrace(format!("not JSON ({e})"))
            }
        })?;
        let obj = value
            .as_object()
            .ok_or_else(|| TraceError::NotATrace("top level is not a JSON object".into()))?;
        match obj.get("format").and_then(|f| f.as_str()) {
            Some(FORMAT) => {}
            Some(other) => {
                return Err(TraceError::NotATrace(format!(
                    "format is {other:?}, expected {FORMAT:?}"
                )))
            }
            None => return Err(TraceError::NotATrace("no \"format\" field".into())),
        }
        match obj.get("version").and_then(|v| v.as_u64()) {
            Some(v) if READABLE_VERSIONS.iter().any(|&r| u64::from(r) == v) => {}
            Some(found) => return Err(TraceError::UnsupportedVersion { found }),
            None => return Err(TraceError::Malformed("no numeric \"version\" field".into())),
        }
        let v1 = obj.get("version").and_then(|v| v.as_u64()) == Some(1);
        if v1 && obj.get("meta").and_then(|m| m.get("lifecycle")).is_some() {
            return Err(TraceError::Malformed(
                "meta.lifecycle is not part of version 1".into(),
            ));
        }
        let mut trace: Trace =
            serde_json::from_value(value).map_err(|e| TraceError::Malformed(e.to_string()))?;
        // Read into the current model: written again, it is a current-version trace.
        trace.version = VERSION;
        Ok(trace)
    }
}

/// Seconds since the epoch as `YYYY-MM-DDTHH:MM:SSZ` (proleptic Gregorian, UTC): the format of
/// `meta.start`/`meta.end`, which sorts lexically.
pub fn rfc3339(secs: u64) -> String {
    let days = i64::try_from(secs / 86_400).unwrap_or(0);
    let rem = secs % 86_400;
    // Days to civil date (the well-known era-based conversion).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}Z",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::event::Outcome;

    fn sample() -> Trace {
        let mut t = Trace::new("x86_64");
        t.meta.backends.insert(Backend::StraceImport);
        t.record(Event::Syscall {
            abi: Abi::X86_64,
            name: "read".into(),
        });
        t.record(Event::File {
            path: "/etc/passwd".into(),
            access: Access::Read,
            outcome: Outcome::Ok(()),
        });
        t.record(Event::Capability {
            cap: 10,
            origin: CapOrigin::Inferred,
            syscall: Some("bind".into()),
        });
        t
    }

    #[test]
    fn round_trips_byte_for_byte() {
        let json = sample().to_json();
        let back = Trace::from_slice(json.as_bytes()).expect("valid trace");
        assert_eq!(back, sample());
        assert_eq!(back.to_json(), json);
        assert!(json.contains("\"CAP_NET_BIND_SERVICE\""));
    }

    #[test]
    fn rejects_bad_input_with_specific_errors() {
        let cases: &[(&str, &str)] = &[
            ("", "empty"),
            ("   \n", "empty"),
            ("{\"format\":\"sysprof-trace\",\"version\":1", "truncated"),
            ("\u{0}\u{1}binary", "not JSON"),
            ("[1,2]", "not a JSON object"),
            (
                "{\"format\":\"other\",\"version\":1}",
                "format is \"other\"",
            ),
            ("{\"format\":\"sysprof-trace\",\"version\":7}", "version 7"),
            ("{\"format\":\"sysprof-trace\"}", "no numeric \"version\""),
            (
                "{\"format\":\"sysprof-trace\",\"version\":1,\"meta\":{}}",
                "missing field",
            ),
        ];
        for (input, expected) in cases {
            let err = Trace::from_slice(input.as_bytes()).expect_err(input);
            assert!(
                err.to_string().contains(expected),
                "{input:?}: {err} does not mention {expected:?}"
            );
        }
    }

    #[test]
    fn merge_is_a_union_and_keeps_the_time_span() {
        let mut a = sample();
        a.meta.start = Some("2026-01-01T00:00:00Z".into());
        a.meta.end = Some("2026-01-01T00:10:00Z".into());
        let mut b = Trace::new("x86_64");
        b.meta.start = Some("2025-12-31T23:00:00Z".into());
        b.meta.end = Some("2026-01-01T00:05:00Z".into());
        b.meta.integrity.lines_unparsed = 3;
        b.record(Event::Syscall {
            abi: Abi::I386,
            name: "read".into(),
        });
        a.merge(b);
        assert_eq!(a.syscalls.len(), 2);
        assert_eq!(a.meta.start.as_deref(), Some("2025-12-31T23:00:00Z"));
        assert_eq!(a.meta.end.as_deref(), Some("2026-01-01T00:10:00Z"));
        assert_eq!(a.meta.integrity.lines_unparsed, 3);
    }

    #[test]
    fn version_1_traces_are_read_and_lifecycle_is_version_2_only() {
        let v1 = r#"{"format":"sysprof-trace","version":1,"meta":{"tool_versions":[],"backends":[],"kernels":[],"arch":"x86_64","targets":[]}}"#;
        let t = Trace::from_slice(v1.as_bytes()).expect("version 1 reads");
        assert_eq!(t.version, VERSION);
        assert_eq!(t.meta.lifecycle, Lifecycle::default());
        assert!(
            t.to_json().contains("\"version\": 2"),
            "written as the current version"
        );
        let bad = v1.replace(r#""targets":[]"#, r#""targets":[],"lifecycle":{}"#);
        let err = Trace::from_slice(bad.as_bytes()).expect_err("lifecycle in v1");
        assert!(err.to_string().contains("not part of version 1"), "{err}");
    }

    #[test]
    fn lifecycle_merges_as_a_union_with_the_latest_news() {
        let mut a = Trace::new("x86_64");
        a.meta.lifecycle.phases.insert(Phase::Start);
        a.meta.lifecycle.last_new_behaviour = Some("2026-01-01T00:00:05Z".into());
        let mut b = Trace::new("x86_64");
        b.meta.lifecycle.phases.insert(Phase::ColdStart);
        b.meta.lifecycle.signals.insert("SIGHUP".into());
        b.meta.lifecycle.last_new_behaviour = Some("2026-01-01T00:01:00Z".into());
        a.merge(b);
        assert_eq!(
            a.meta
                .lifecycle
                .phases
                .iter()
                .map(|p| p.as_str())
                .collect::<Vec<_>>(),
            ["start", "cold-start"]
        );
        assert!(a.meta.lifecycle.signals.contains("SIGHUP"));
        assert_eq!(
            a.meta.lifecycle.last_new_behaviour.as_deref(),
            Some("2026-01-01T00:01:00Z")
        );
        let back = Trace::from_slice(a.to_json().as_bytes()).expect("round trip");
        assert_eq!(back, a);
    }
}
