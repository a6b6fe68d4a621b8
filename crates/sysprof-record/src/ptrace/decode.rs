//! Turns syscall stops into trace events: arguments at the entry stop, outcome at the exit stop.
//!
//! The entry half decides whether the exit stop is worth its cost: only calls whose result
//! changes the evidence (a file's errno, a capability that is needed only if the call succeeded,
//! …) return a [`Pending`] and get one.

use super::caps::{self, Cap, FdKind};
use super::memory::{self, PATH_MAX};
use super::names::{self, SockAddr};
use super::ops::{classify, Op};
use super::paths::{self, AT_FDCWD};
use super::procfs::{self, Creds};
use super::{binfmt, sys};
use crate::{host, Progress};
use std::collections::HashMap;
use std::sync::atomic::Ordering;
use sysprof_core::event::{
    Abi, Access, AddressOp, CapOrigin, DeviceKind, Event, MapKind, Namespace, Outcome,
};
use sysprof_core::tables::syscalls;
use sysprof_core::trace::Trace;

const O_ACCMODE: u64 = 0o3;
const O_CREAT: u64 = 0o100;
const O_TRUNC: u64 = 0o1000;
const O_DIRECTORY: u64 = 0o200000;
const O_PATH: u64 = 0o10000000;
const O_TMPFILE_DIR: u64 = 0o20000000;
const AT_EMPTY_PATH: u64 = 0x1000;
const AT_SYMLINK_NOFOLLOW: u64 = 0x100;
const PROT_WRITE: u64 = 2;
const PROT_EXEC: u64 = 4;
const MAP_ANONYMOUS: u64 = 0x20;
const SHM_EXEC: u64 = 0o100000;
const S_IFMT: u64 = 0o170000;
const S_IFCHR: u64 = 0o020000;
const S_IFBLK: u64 = 0o060000;
const SETID_BITS: u64 = 0o6000;
const CLONE_NEWUSER: u64 = 0x1000_0000;
const NO_ID: u32 = u32::MAX;
const CLOSE_RANGE_CLOEXEC: u64 = 1 << 2;
/// How much of a netlink send is read to find its requests (rtnetlink requests are small).
const NETLINK_READ_MAX: usize = 4096;
const TUNSETIFF: u32 = 0x4004_54ca;
const FS_IOC_SETFLAGS: u32 = 0x4008_6602;
/// The 32-bit spelling (i386, compat); the kernel reads an int for both.
const FS_IOC32_SETFLAGS: u32 = 0x4004_6602;
const FS_IOC_FSSETXATTR: u32 = 0x401c_5820;

/// Something to record once the outcome of the call is known.
#[derive(Debug)]
enum Deferred {
    File {
        path: Vec<u8>,
        access: Access,
    },
    Open {
        path: Vec<u8>,
        flags: u64,
        existed: bool,
    },
    Exec {
        path: Vec<u8>,
    },
    Socket {
        family: u64,
        sock_type: u64,
        protocol: u64,
    },
    Address {
        op: AddressOp,
        family: u64,
        address: String,
    },
    Namespace {
        kinds: Vec<Namespace>,
    },
    Memory {
        kind: MapKind,
    },
    SetId {
        path: Option<Vec<u8>>,
        mode: u32,
    },
    Mknod {
        path: Vec<u8>,
        kind: DeviceKind,
    },
    Mount {
        target: Option<Vec<u8>>,
    },
    /// A capability needed if (and only if) the call succeeds.
    Cap(Cap),
    /// Working directory or root may have changed: drop cached cwds.
    CwdChanged,
}

/// Where a netlink message with an explicit destination address goes.
enum NetlinkDestination {
    /// `nl_pid` 0, no groups: the kernel processes it.
    Kernel,
    /// Multicast groups (and the kernel, if `nl_pid` is 0).
    Groups,
    /// Another socket's port: the kernel only relays it.
    Process,
}

/// The entry half of a call that waits for its exit stop.
#[derive(Debug)]
pub struct Pending {
    name: &'static str,
    deferred: Vec<Deferred>,
}

impl Pending {
    /// True for execve/execveat, whose success is reported by `PTRACE_EVENT_EXEC`.
    pub fn is_exec(&self) -> bool {
        self.deferred
            .iter()
            .any(|d| matches!(d, Deferred::Exec { .. }))
    }
}

/// Per-ABI classification, filled the first time a number is seen (which is also when the
/// syscall enters the trace).
#[derive(Default)]
struct AbiTable {
    by_nr: Vec<Option<(Op, &'static str)>>,
}

/// The recorder's evidence and the caches that make decoding cheap.
pub struct Decoder<'p> {
    pub trace: Trace,
    progress: &'p Progress,
    tables: [AbiTable; 4],
    cwd_generation: u64,
    cwds: HashMap<i32, (u64, Vec<u8>)>,
    roots: HashMap<i32, (u64, Vec<u8>)>,
    /// Set once any tracee may run under a root other than ours (chroot, pivot_root, setns, an
    /// attached chrooted process); until then the root lookup per tracee is skipped.
    chroot_possible: bool,
    creds: HashMap<i32, Creds>,
    /// Interpreters per executed path: the same programs are executed over and over.
    interpreters: HashMap<Vec<u8>, Option<Vec<u8>>>,
    /// (path, wants write, fsuid) already checked against DAC: the answer is in the trace.
    dac_checked: std::collections::HashSet<(Vec<u8>, bool, u32)>,
    /// What fds are, per process (tgid → fd → kind), learnt on a process's first send or write
    /// on each fd; dropped on close, dup2/dup3 over it, close_range, exec and exit.
    fd_kinds: HashMap<i32, HashMap<i32, FdKind>>,
    /// Whether the running kernel also accepts CAP_NET_RAW for SO_MARK and SO_PRIORITY.
    net_raw_sets_mark: bool,
    events: u64,
}

fn abi_index(abi: Abi) -> usize {
    match abi {
        Abi::X86_64 => 0,
        Abi::I386 => 1,
        Abi::X32 => 2,
        Abi::Aarch64 => 3,
    }
}

/// The ABI of a call from the audit arch token and the raw number (x32 sets a bit in it).
pub fn abi_of(arch: u32, nr: u64) -> Option<Abi> {
    match arch {
        sys::AUDIT_ARCH_X86_64 if nr & u64::from(syscalls::X32_SYSCALL_BIT) != 0 => Some(Abi::X32),
        sys::AUDIT_ARCH_X86_64 => Some(Abi::X86_64),
        sys::AUDIT_ARCH_I386 => Some(Abi::I386),
        sys::AUDIT_ARCH_AARCH64 => Some(Abi::Aarch64),
        _ => None,
    }
}

fn outcome(result: Result<i64, i64>) -> Outcome {
    result.map(drop).map_err(names::errno)
}

fn arg_i32(v: u64) -> i32 {
    v as u32 as i32
}

/// The size of a pointer in the structures of `abi`'s calls (x32 uses the compat layouts).
fn word_size(abi: Abi) -> usize {
    match abi {
        Abi::I386 | Abi::X32 => 4,
        Abi::X86_64 | Abi::Aarch64 => 8,
    }
}

/// Whether a kernel release (`uname -r`) is at least `major.minor`.
fn release_at_least(release: &str, major: u32, minor: u32) -> bool {
    let mut parts = release.split(['.', '-']).map(|p| {
        p.chars()
            .take_while(char::is_ascii_digit)
            .collect::<String>()
            .parse::<u32>()
            .unwrap_or(0)
    });
    let found = (parts.next().unwrap_or(0), parts.next().unwrap_or(0));
    found >= (major, minor)
}

impl<'p> Decoder<'p> {
    pub fn new(trace: Trace, progress: &'p Progress) -> Decoder<'p> {
        Decoder {
            trace,
            progress,
            tables: Default::default(),
            cwd_generation: 0,
            cwds: HashMap::new(),
            roots: HashMap::new(),
            chroot_possible: false,
            creds: HashMap::new(),
            interpreters: HashMap::new(),
            dac_checked: std::collections::HashSet::new(),
            fd_kinds: HashMap::new(),
            // Linux 5.17 ("net: allow SO_MARK with CAP_NET_RAW", "net: allow CAP_NET_RAW to
            // setsockopt SO_PRIORITY"); before, only CAP_NET_ADMIN.
            net_raw_sets_mark: host::kernel_release().is_some_and(|r| release_at_least(&r, 5, 17)),
            events: 0,
        }
    }

    /// Tell the decoder that tracees may run chrooted (attached processes with another root).
    pub fn assume_chroot_possible(&mut self) {
        self.chroot_possible = true;
    }

    fn record(&mut self, event: Event) {
        let is_file = matches!(event, Event::File { .. });
        let before = self.trace.distinct_observations();
        self.trace.record(event);
        if is_file {
            self.progress
                .files_distinct
                .store(self.trace.files.len() as u64, Ordering::Relaxed);
        }
        self.note_if_new(before);
    }

    /// Publishes the time of the last new observation when `before` (the count before a
    /// record) grew: for `--until-stable` and `meta.lifecycle`.
    fn note_if_new(&mut self, before: usize) {
        let after = self.trace.distinct_observations();
        if after > before {
            self.progress.observe_distinct(after as u64);
            self.trace.meta.lifecycle.last_new_behaviour = Some(crate::host::now_rfc3339());
        }
    }

    /// A signal is being delivered to a tracee.
    pub fn signal_delivered(&mut self, signal: i32) {
        if let Some(name) = sysprof_core::tables::signals::name(signal) {
            self.record(Event::Signal { name });
        }
    }

    /// A new process or thread is being followed.
    pub fn process_started(&mut self) {
        self.trace.record(Event::ProcessStarted);
        self.progress
            .processes
            .store(self.trace.meta.integrity.processes, Ordering::Relaxed);
    }

    /// A tracee is gone: drop what was cached about it.
    pub fn forget(&mut self, tid: i32) {
        self.cwds.remove(&tid);
        self.roots.remove(&tid);
        self.creds.remove(&tid);
        // Keyed by tgid: this drops a process's fds when its leader exits or after an exec
        // (which always leaves the leader's id), and is a no-op for other threads.
        self.fd_kinds.remove(&tid);
    }

    /// Publishes the event counter (batched: one relaxed store per call, not per stop).
    pub fn flush_progress(&self) {
        self.progress.events.store(self.events, Ordering::Relaxed);
    }

    fn creds_of(&mut self, tid: i32) -> Option<&Creds> {
        if let std::collections::hash_map::Entry::Vacant(slot) = self.creds.entry(tid) {
            slot.insert(procfs::creds(tid)?);
        }
        self.creds.get(&tid)
    }

    fn has_cap(&mut self, tid: i32, cap: Cap) -> bool {
        self.creds_of(tid).is_some_and(|c| c.has_cap(cap.0))
    }

    fn cwd(&mut self, tid: i32) -> Option<Vec<u8>> {
        if let Some((generation, cwd)) = self.cwds.get(&tid) {
            if *generation == self.cwd_generation {
                return Some(cwd.clone());
            }
        }
        let cwd = procfs::cwd(tid)?;
        self.cwds.insert(tid, (self.cwd_generation, cwd.clone()));
        Some(cwd)
    }

    fn root(&mut self, tid: i32) -> Option<Vec<u8>> {
        if !self.chroot_possible {
            return None;
        }
        if let Some((generation, root)) = self.roots.get(&tid) {
            if *generation == self.cwd_generation {
                return Some(root.clone()).filter(|r| r != b"/");
            }
        }
        let root = procfs::readlink(&format!("/proc/{tid}/root"))?;
        self.roots.insert(tid, (self.cwd_generation, root.clone()));
        Some(root).filter(|r| r != b"/")
    }

    fn tgid(&mut self, tid: i32) -> i32 {
        self.creds_of(tid).map_or(tid, |c| c.tgid)
    }

    /// The absolute path of `(dirfd, path at addr)` as the kernel would walk it.
    fn path_at(&mut self, tid: i32, dirfd: i32, addr: u64) -> Option<Vec<u8>> {
        let Some((raw, truncated)) = memory::read_cstring(tid, addr, PATH_MAX) else {
            self.trace.meta.integrity.paths_unresolved += 1;
            return None;
        };
        if truncated {
            self.trace.meta.integrity.paths_truncated += 1;
        }
        if raw.is_empty() {
            return None;
        }
        let absolute = if raw.starts_with(b"/") {
            match self.root(tid) {
                Some(root) => paths::absolute(&root, &raw[1..]),
                None => paths::absolute(b"/", &raw),
            }
        } else {
            let base = if dirfd == AT_FDCWD {
                self.cwd(tid)
            } else {
                procfs::fd_target(tid, dirfd).filter(|t| !paths::is_pseudo(t))
            };
            let Some(base) = base else {
                self.trace.meta.integrity.paths_unresolved += 1;
                return None;
            };
            paths::absolute(&base, &raw)
        };
        if absolute.starts_with(b"/proc/") {
            let tgid = self.tgid(tid);
            return Some(paths::resolve_proc_self(absolute, tgid, tid));
        }
        Some(absolute)
    }

    fn path(&mut self, tid: i32, addr: u64) -> Option<Vec<u8>> {
        self.path_at(tid, AT_FDCWD, addr)
    }

    /// The file behind an fd, if it is one.
    fn fd_path(&mut self, tid: i32, fd: i32) -> Option<Vec<u8>> {
        procfs::fd_target(tid, fd).filter(|t| !paths::is_pseudo(t))
    }

    fn text(&mut self, bytes: Vec<u8>) -> String {
        match String::from_utf8(bytes) {
            Ok(s) => s,
            Err(e) => {
                self.trace.meta.integrity.paths_lossy += 1;
                String::from_utf8_lossy(e.as_bytes()).into_owned()
            }
        }
    }

    /// An entry (or seccomp) stop. Returns what to finish at the exit stop, if anything.
    pub fn entry(&mut self, tid: i32, abi: Abi, nr: u64, args: &[u64; 6]) -> Option<Pending> {
        self.events += 1;
        let index = (nr & !u64::from(syscalls::X32_SYSCALL_BIT)) as usize;
        let table = &mut self.tables[abi_index(abi)].by_nr;
        let (op, name) = match table.get(index).copied().flatten() {
            Some(known) => known,
            None => {
                let known = u32::try_from(nr)
                    .ok()
                    .and_then(|nr| syscalls::name(abi, nr));
                let name = known.map_or_else(|| format!("syscall_{index}"), str::to_owned);
                let before = self.trace.distinct_observations();
                self.trace.record(Event::Syscall { abi, name });
                self.note_if_new(before);
                self.progress
                    .syscalls_distinct
                    .store(self.trace.syscalls.len() as u64, Ordering::Relaxed);
                // Numbers outside every table stay out of the cache (a tracee could otherwise
                // make it grow to any size); they are recorded once each by the set anyway.
                let name = known?;
                let entry = (classify(abi, name), name);
                if index < 4096 {
                    let table = &mut self.tables[abi_index(abi)].by_nr;
                    if table.len() <= index {
                        table.resize(index + 1, None);
                    }
                    table[index] = Some(entry);
                }
                entry
            }
        };
        if op == Op::Boring {
            return None;
        }
        let mut deferred = Vec::new();
        self.decode_entry(tid, abi, op, name, args, &mut deferred);
        if deferred.is_empty() {
            None
        } else {
            Some(Pending { name, deferred })
        }
    }

    fn file(&mut self, out: &mut Vec<Deferred>, path: Option<Vec<u8>>, access: Access) {
        if let Some(path) = path {
            out.push(Deferred::File { path, access });
        }
    }

    fn cap_if(&mut self, tid: i32, out: &mut Vec<Deferred>, cap: Cap, condition: bool) {
        if condition && self.has_cap(tid, cap) {
            out.push(Deferred::Cap(cap));
        }
    }

    #[allow(clippy::too_many_lines)]
    fn decode_entry(
        &mut self,
        tid: i32,
        abi: Abi,
        op: Op,
        name: &'static str,
        a: &[u64; 6],
        out: &mut Vec<Deferred>,
    ) {
        use Op::*;
        match op {
            Boring => {}
            Open => self.open(tid, AT_FDCWD, a[0], a[1], a[2], out),
            Creat => self.open(tid, AT_FDCWD, a[0], O_CREAT | O_TRUNC | 1, a[1], out),
            Openat => self.open(tid, arg_i32(a[0]), a[1], a[2], a[3], out),
            Openat2 => {
                let flags = memory::read_u64(tid, a[2]).unwrap_or(0);
                let mode = memory::read_u64(tid, a[2] + 8).unwrap_or(0);
                self.open(tid, arg_i32(a[0]), a[1], flags, mode, out);
            }
            OpenByHandle => self.cap_if(tid, out, caps::DAC_READ_SEARCH, true),
            StatPath => {
                let p = self.path(tid, a[0]);
                self.file(out, p, Access::Stat);
            }
            StatAt => {
                let p = self.path_at(tid, arg_i32(a[0]), a[1]);
                self.file(out, p, Access::Stat);
            }
            InotifyAddWatch => {
                let p = self.path(tid, a[1]);
                self.file(out, p, Access::Stat);
            }
            Execve => {
                if let Some(path) = self.path(tid, a[0]) {
                    out.push(Deferred::Exec { path });
                }
            }
            Execveat => {
                let path = if a[4] & AT_EMPTY_PATH != 0 {
                    memory::read_cstring(tid, a[1], 1)
                        .filter(|(s, _)| s.is_empty())
                        .and_then(|_| self.fd_path(tid, arg_i32(a[0])))
                        .or_else(|| self.path_at(tid, arg_i32(a[0]), a[1]))
                } else {
                    self.path_at(tid, arg_i32(a[0]), a[1])
                };
                if let Some(path) = path {
                    out.push(Deferred::Exec { path });
                }
            }
            Chdir | Chroot => {
                let p = self.path(tid, a[0]);
                self.file(out, p, Access::Search);
                out.push(Deferred::CwdChanged);
                if op == Chroot {
                    self.chroot_possible = true;
                    self.cap_if(tid, out, caps::SYS_CHROOT, true);
                }
            }
            Fchdir => {
                let p = self.fd_path(tid, arg_i32(a[0]));
                self.file(out, p, Access::Search);
                out.push(Deferred::CwdChanged);
            }
            Mkdir | Mkdirat => {
                let (p, mode) = if op == Mkdir {
                    (self.path(tid, a[0]), a[1])
                } else {
                    (self.path_at(tid, arg_i32(a[0]), a[1]), a[2])
                };
                if mode & SETID_BITS != 0 {
                    out.push(Deferred::SetId {
                        path: p.clone(),
                        mode: mode as u32,
                    });
                }
                self.file(out, p, Access::Create);
            }
            Mknod | Mknodat => {
                let (p, mode) = if op == Mknod {
                    (self.path(tid, a[0]), a[1])
                } else {
                    (self.path_at(tid, arg_i32(a[0]), a[1]), a[2])
                };
                let kind = match mode & S_IFMT {
                    S_IFCHR => Some(DeviceKind::Char),
                    S_IFBLK => Some(DeviceKind::Block),
                    _ => None,
                };
                if let (Some(kind), Some(path)) = (kind, &p) {
                    out.push(Deferred::Mknod {
                        path: path.clone(),
                        kind,
                    });
                    self.cap_if(tid, out, caps::MKNOD, true);
                }
                if mode & SETID_BITS != 0 {
                    out.push(Deferred::SetId {
                        path: p.clone(),
                        mode: (mode & 0o7777) as u32,
                    });
                }
                self.file(out, p, Access::Create);
            }
            Unlink => {
                let p = self.path(tid, a[0]);
                self.file(out, p, Access::Delete);
            }
            Unlinkat => {
                let p = self.path_at(tid, arg_i32(a[0]), a[1]);
                self.file(out, p, Access::Delete);
            }
            Rename | Renameat => {
                let (old, new) = if op == Rename {
                    (self.path(tid, a[0]), self.path(tid, a[1]))
                } else {
                    (
                        self.path_at(tid, arg_i32(a[0]), a[1]),
                        self.path_at(tid, arg_i32(a[2]), a[3]),
                    )
                };
                self.file(out, old, Access::Delete);
                self.file(out, new, Access::Rename);
            }
            Link | Linkat => {
                let (old, new) = if op == Link {
                    (self.path(tid, a[0]), self.path(tid, a[1]))
                } else {
                    (
                        self.path_at(tid, arg_i32(a[0]), a[1]),
                        self.path_at(tid, arg_i32(a[2]), a[3]),
                    )
                };
                self.file(out, old, Access::Stat);
                self.file(out, new, Access::Create);
                if op == Linkat && a[4] & AT_EMPTY_PATH != 0 {
                    self.cap_if(tid, out, caps::DAC_READ_SEARCH, true);
                }
            }
            Symlink => {
                let p = self.path(tid, a[1]);
                self.file(out, p, Access::Create);
            }
            Symlinkat => {
                let p = self.path_at(tid, arg_i32(a[1]), a[2]);
                self.file(out, p, Access::Create);
            }
            Chmod | Fchmod | Fchmodat => {
                let (p, mode, follow) = match op {
                    Chmod => (self.path(tid, a[0]), a[1], true),
                    Fchmod => (self.fd_path(tid, arg_i32(a[0])), a[1], true),
                    _ => (
                        self.path_at(tid, arg_i32(a[0]), a[1]),
                        a[2],
                        a[3] & AT_SYMLINK_NOFOLLOW == 0,
                    ),
                };
                if mode & SETID_BITS != 0 {
                    out.push(Deferred::SetId {
                        path: p.clone(),
                        mode: (mode & 0o7777) as u32,
                    });
                }
                if let Some(path) = &p {
                    if self.has_cap(tid, caps::FOWNER) {
                        let fsuid = self.creds_of(tid).map_or(0, |c| c.uids[3]);
                        if caps::stat(path, follow).is_some_and(|st| st.uid != fsuid) {
                            out.push(Deferred::Cap(caps::FOWNER));
                        }
                    }
                }
                self.file(out, p, Access::Chattr);
            }
            Chown | Lchown | Fchown | Fchownat => {
                let (p, uid, gid, follow) = match op {
                    Chown => (self.path(tid, a[0]), a[1], a[2], true),
                    Lchown => (self.path(tid, a[0]), a[1], a[2], false),
                    Fchown => (self.fd_path(tid, arg_i32(a[0])), a[1], a[2], true),
                    _ => (
                        self.path_at(tid, arg_i32(a[0]), a[1]),
                        a[2],
                        a[3],
                        a[4] & AT_SYMLINK_NOFOLLOW == 0,
                    ),
                };
                if let Some(path) = &p {
                    if self.has_cap(tid, caps::CHOWN) {
                        let needed = match (self.creds_of(tid), caps::stat(path, follow)) {
                            (Some(c), Some(st)) => {
                                caps::chown_needs_cap(c, &st, uid as u32, gid as u32)
                            }
                            _ => false,
                        };
                        if needed {
                            out.push(Deferred::Cap(caps::CHOWN));
                        }
                    }
                }
                self.file(out, p, Access::Chattr);
            }
            WritePath => {
                let p = self.path(tid, a[0]);
                self.file(out, p, Access::Write);
            }
            Futimesat => {
                let p = self.path_at(tid, arg_i32(a[0]), a[1]);
                self.file(out, p, Access::Write);
            }
            Utimensat => {
                let p = if a[1] == 0 {
                    self.fd_path(tid, arg_i32(a[0]))
                } else {
                    self.path_at(tid, arg_i32(a[0]), a[1])
                };
                self.file(out, p, Access::Write);
            }
            SetXattr | FsetXattr | SetXattrAt => {
                let (p, name_addr) = match op {
                    SetXattr => (self.path(tid, a[0]), a[1]),
                    FsetXattr => (self.fd_path(tid, arg_i32(a[0])), a[1]),
                    _ => (self.path_at(tid, arg_i32(a[0]), a[1]), a[3]),
                };
                if let Some((attr, _)) = memory::read_cstring(tid, name_addr, 256) {
                    if attr == b"security.capability" {
                        self.cap_if(tid, out, caps::SETFCAP, true);
                    } else if attr.starts_with(b"trusted.") || attr.starts_with(b"security.") {
                        self.cap_if(tid, out, caps::SYS_ADMIN, true);
                    }
                }
                self.file(out, p, Access::Write);
            }
            Acct => {
                let p = self.path(tid, a[0]);
                self.file(out, p, Access::Write);
                self.cap_if(tid, out, caps::SYS_PACCT, true);
            }
            Swap => self.cap_if(tid, out, caps::SYS_ADMIN, true),
            Mount | Umount | PivotRoot | MoveMount | MountAt | MountApi => {
                let target = match op {
                    Mount => self.path(tid, a[1]),
                    Umount | PivotRoot => self.path(tid, a[0]),
                    MoveMount => self.path_at(tid, arg_i32(a[2]), a[3]),
                    MountAt => self.path_at(tid, arg_i32(a[0]), a[1]),
                    _ => None,
                };
                if op == PivotRoot {
                    self.chroot_possible = true;
                    out.push(Deferred::CwdChanged);
                }
                out.push(Deferred::Mount { target });
                self.cap_if(tid, out, caps::SYS_ADMIN, true);
            }
            Mmap => self.mmap(tid, a[2], a[3], a[4], out),
            OldMmap => {
                if let Some(raw) = memory::read_bytes(tid, a[0], 24) {
                    let word = |i: usize| {
                        u64::from(u32::from_ne_bytes([
                            raw[i * 4],
                            raw[i * 4 + 1],
                            raw[i * 4 + 2],
                            raw[i * 4 + 3],
                        ]))
                    };
                    self.mmap(tid, word(2), word(3), u64::from(word(4) as u32), out);
                }
            }
            Mprotect => {
                if a[2] & PROT_EXEC != 0 {
                    let kind = if a[2] & PROT_WRITE != 0 {
                        MapKind::WriteExec
                    } else {
                        MapKind::ExecGain
                    };
                    out.push(Deferred::Memory { kind });
                    if let Some((_, perms, Some(path))) = procfs::mapping_at(tid, a[0]) {
                        if !perms.contains('x') {
                            out.push(Deferred::File {
                                path,
                                access: Access::MmapExec,
                            });
                        }
                    }
                }
            }
            Shmat => {
                if a[2] & SHM_EXEC != 0 {
                    out.push(Deferred::Memory {
                        kind: MapKind::ShmExec,
                    });
                }
            }
            Socket => self.socket(tid, a[0], a[1], a[2], out),
            Bind => self.address(tid, AddressOp::Bind, a[1], a[2], out),
            Connect => self.address(tid, AddressOp::Connect, a[1], a[2], out),
            Socketcall => self.socketcall(tid, a[0], a[1], out),
            Write => self.netlink_send(tid, arg_i32(a[0]), a[1], a[2], None, out),
            Sendto => {
                let to = (a[4] != 0).then_some((a[4], a[5]));
                self.netlink_send(tid, arg_i32(a[0]), a[1], a[2], to, out);
            }
            Sendmsg => self.netlink_sendmsg(tid, word_size(abi), arg_i32(a[0]), a[1], out),
            Setsockopt => self.setsockopt(tid, a[1], a[2], a[3], a[4], out),
            Ioctl => self.ioctl(tid, arg_i32(a[0]), a[1] as u32, a[2], out),
            // fd arguments are `unsigned int` to the kernel: the upper half is ignored.
            Close => self.fds_closed(tid, a[0] as u32, a[0] as u32),
            CloseRange => {
                if a[2] & CLOSE_RANGE_CLOEXEC == 0 {
                    self.fds_closed(tid, a[0] as u32, a[1] as u32);
                }
            }
            Dup2 => self.fds_closed(tid, a[1] as u32, a[1] as u32),
            Clone => self.namespaces(tid, a[0], out),
            Clone3 => {
                if let Some(flags) = memory::read_u64(tid, a[0]) {
                    self.namespaces(tid, flags, out);
                }
            }
            Unshare => {
                self.namespaces(tid, a[0], out);
                out.push(Deferred::CwdChanged);
            }
            Setns => self.setns(tid, arg_i32(a[0]), a[1], out),
            Personality => {
                let persona = a[0] & 0xffff_ffff;
                // 0xffffffff only queries the current persona.
                if persona != 0xffff_ffff {
                    self.record(Event::Personality { persona });
                }
            }
            SchedSetscheduler => {
                let priority = memory::read_u32(tid, a[2]).unwrap_or(0);
                self.realtime(tid, name, a[1], u64::from(priority), out);
            }
            SchedSetattr => {
                let policy = memory::read_u32(tid, a[1] + 4).unwrap_or(0);
                let priority = memory::read_u32(tid, a[1] + 20).unwrap_or(0);
                let nice = memory::read_u32(tid, a[1] + 16).unwrap_or(0) as i32;
                self.realtime(tid, name, u64::from(policy), u64::from(priority), out);
                let target = if arg_i32(a[0]) == 0 {
                    tid
                } else {
                    arg_i32(a[0])
                };
                self.lower_nice(tid, target, i64::from(nice), out);
            }
            Setpriority => {
                // PRIO_PROCESS only: groups and users would need every member's nice value.
                if a[0] == 0 {
                    let target = if arg_i32(a[1]) == 0 {
                        tid
                    } else {
                        arg_i32(a[1])
                    };
                    self.lower_nice(tid, target, i64::from(arg_i32(a[2])), out);
                }
            }
            Nice => {
                let inc = i64::from(arg_i32(a[0]));
                if let Some(current) = procfs::nice(tid) {
                    self.lower_nice(tid, tid, current + inc, out);
                }
            }
            SetId1 { gid } | SetId2 { gid } | SetId3 { gid } | SetFsId { gid } => {
                let count = match op {
                    SetId1 { .. } | SetFsId { .. } => 1,
                    SetId2 { .. } => 2,
                    _ => 3,
                };
                let cap = if gid { caps::SETGID } else { caps::SETUID };
                if self.has_cap(tid, cap) {
                    if let Some(c) = self.creds_of(tid) {
                        let held = if gid { c.gids } else { c.uids };
                        let allowed: &[u32] = if matches!(op, SetFsId { .. }) {
                            &held
                        } else {
                            &held[..3]
                        };
                        let changes = a[..count]
                            .iter()
                            .map(|v| *v as u32)
                            .any(|id| id != NO_ID && !allowed.contains(&id));
                        if changes {
                            out.push(Deferred::Cap(cap));
                        }
                    }
                }
                self.creds.remove(&tid);
            }
            Setgroups => {
                self.cap_if(tid, out, caps::SETGID, true);
                self.creds.remove(&tid);
            }
            Capset => {
                self.creds.remove(&tid);
            }
            Prctl => {
                const PR_CAPBSET_DROP: u64 = 24;
                const PR_SET_SECUREBITS: u64 = 28;
                const PR_SET_MM: u64 = 35;
                match a[0] {
                    PR_CAPBSET_DROP | PR_SET_SECUREBITS => {
                        self.cap_if(tid, out, caps::SETPCAP, true)
                    }
                    PR_SET_MM => self.cap_if(tid, out, caps::SYS_RESOURCE, true),
                    _ => {}
                }
                self.creds.remove(&tid);
            }
            Kill => self.kill(tid, arg_i32(a[0]), a[1], out),
            Tgkill => self.kill(tid, arg_i32(a[0]), a[2], out),
            PidfdSendSignal => {
                if let Some(pid) = procfs::pidfd_pid(tid, arg_i32(a[0])) {
                    self.kill(tid, pid, a[1], out);
                }
            }
            Ptrace => {
                const PTRACE_ATTACH: u64 = 16;
                const PTRACE_SEIZE: u64 = 0x4206;
                if matches!(a[0], PTRACE_ATTACH | PTRACE_SEIZE) {
                    self.peek_process(tid, arg_i32(a[1]), out);
                }
            }
            PeekProcess => self.peek_process(tid, arg_i32(a[0]), out),
            PidfdGetfd => {
                if let Some(pid) = procfs::pidfd_pid(tid, arg_i32(a[0])) {
                    self.peek_process(tid, pid, out);
                }
            }
            Setrlimit => {
                let word = if abi == Abi::I386 { 4 } else { 8 };
                self.rlimit(tid, tid, a[0], a[1], word, out);
            }
            Prlimit => {
                if a[2] != 0 {
                    let target = if arg_i32(a[0]) == 0 {
                        tid
                    } else {
                        arg_i32(a[0])
                    };
                    self.rlimit(tid, target, a[1], a[2], 8, out);
                }
            }
            Module => self.cap_if(tid, out, caps::SYS_MODULE, true),
            SetTime => self.cap_if(tid, out, caps::SYS_TIME, true),
            ClockSettime => self.cap_if(tid, out, caps::SYS_TIME, a[0] == 0),
            Adjtimex | ClockAdjtime => {
                let timex = if op == Adjtimex { a[0] } else { a[1] };
                let modes = memory::read_u32(tid, timex).unwrap_or(0);
                self.cap_if(tid, out, caps::SYS_TIME, modes != 0);
            }
            Boot => self.cap_if(tid, out, caps::SYS_BOOT, true),
            Admin => self.cap_if(tid, out, caps::SYS_ADMIN, true),
            Syslog => {
                let restricted =
                    procfs::sysctl_int("/proc/sys/kernel/dmesg_restrict").is_some_and(|v| v != 0);
                self.cap_if(
                    tid,
                    out,
                    caps::SYSLOG,
                    restricted || !matches!(a[0], 3 | 10),
                );
            }
            Vhangup => self.cap_if(tid, out, caps::SYS_TTY_CONFIG, true),
            Rawio => self.cap_if(tid, out, caps::SYS_RAWIO, true),
            Bpf => {
                let restricted = procfs::sysctl_int("/proc/sys/kernel/unprivileged_bpf_disabled")
                    .is_some_and(|v| v != 0);
                self.cap_if(tid, out, caps::BPF, restricted);
            }
            PerfEventOpen => {
                let paranoid =
                    procfs::sysctl_int("/proc/sys/kernel/perf_event_paranoid").unwrap_or(2);
                let system_wide = arg_i32(a[1]) == -1;
                self.cap_if(
                    tid,
                    out,
                    caps::PERFMON,
                    paranoid >= 3 || (system_wide && paranoid >= 1),
                );
            }
            TimerCreate => self.cap_if(tid, out, caps::WAKE_ALARM, matches!(a[0], 8 | 9)),
        }
    }

    fn open(
        &mut self,
        tid: i32,
        dirfd: i32,
        addr: u64,
        flags: u64,
        mode: u64,
        out: &mut Vec<Deferred>,
    ) {
        let Some(path) = self.path_at(tid, dirfd, addr) else {
            return;
        };
        let creating = flags & O_CREAT != 0 || flags & O_TMPFILE_DIR != 0;
        if creating && mode & SETID_BITS != 0 {
            out.push(Deferred::SetId {
                path: Some(path.clone()),
                mode: (mode & 0o7777) as u32,
            });
        }
        let existed = !creating || caps::stat(&path, false).is_some();
        out.push(Deferred::Open {
            path,
            flags,
            existed,
        });
    }

    fn mmap(&mut self, tid: i32, prot: u64, flags: u64, fd: u64, out: &mut Vec<Deferred>) {
        if prot & PROT_EXEC == 0 {
            return;
        }
        if prot & PROT_WRITE != 0 {
            out.push(Deferred::Memory {
                kind: MapKind::WriteExec,
            });
        }
        let fd = arg_i32(fd);
        if flags & MAP_ANONYMOUS == 0 && fd >= 0 {
            let p = self.fd_path(tid, fd);
            self.file(out, p, Access::MmapExec);
        }
    }

    fn socket(
        &mut self,
        tid: i32,
        family: u64,
        sock_type: u64,
        protocol: u64,
        out: &mut Vec<Deferred>,
    ) {
        let base_type = sock_type & 0xf;
        let raw = family == names::AF_PACKET
            || base_type == 10
            || (matches!(family, names::AF_INET | names::AF_INET6) && base_type == names::SOCK_RAW);
        self.cap_if(tid, out, caps::NET_RAW, raw);
        out.push(Deferred::Socket {
            family,
            sock_type,
            protocol,
        });
    }

    fn address(&mut self, tid: i32, op: AddressOp, addr: u64, len: u64, out: &mut Vec<Deferred>) {
        let len = usize::try_from(len).unwrap_or(0).min(128);
        let Some(bytes) = memory::read_bytes(tid, addr, len) else {
            return;
        };
        let Some(decoded) = names::sockaddr(&bytes) else {
            return;
        };
        match decoded {
            SockAddr::Inet { family, text, port } => {
                if op == AddressOp::Bind && port != 0 {
                    let start = procfs::sysctl_int("/proc/sys/net/ipv4/ip_unprivileged_port_start")
                        .unwrap_or(1024);
                    self.cap_if(tid, out, caps::NET_BIND_SERVICE, i64::from(port) < start);
                }
                out.push(Deferred::Address {
                    op,
                    family,
                    address: text,
                });
            }
            SockAddr::UnixPath(raw) => {
                let path = if raw.starts_with(b"/") {
                    paths::absolute(b"/", &raw)
                } else {
                    match self.cwd(tid) {
                        Some(cwd) => paths::absolute(&cwd, &raw),
                        None => raw,
                    }
                };
                let access = if op == AddressOp::Bind {
                    Access::Create
                } else {
                    Access::Connect
                };
                out.push(Deferred::File {
                    path: path.clone(),
                    access,
                });
                let address = self.text(path);
                out.push(Deferred::Address {
                    op,
                    family: names::AF_UNIX,
                    address,
                });
            }
            SockAddr::UnixAbstract(name) => out.push(Deferred::Address {
                op,
                family: names::AF_UNIX,
                address: name,
            }),
            SockAddr::UnixUnnamed => {}
            SockAddr::Other(family) => out.push(Deferred::Address {
                op,
                family,
                address: String::new(),
            }),
        }
    }

    /// i386 `socketcall(call, args)`: `args` points to the call's arguments as 32-bit words.
    fn socketcall(&mut self, tid: i32, call: u64, args: u64, out: &mut Vec<Deferred>) {
        const SOCKET: u64 = 1;
        const BIND: u64 = 2;
        const CONNECT: u64 = 3;
        const SEND: u64 = 9;
        const SENDTO: u64 = 11;
        const SETSOCKOPT: u64 = 14;
        const SENDMSG: u64 = 16;
        let count = match call {
            SOCKET | BIND | CONNECT | SENDMSG => 3,
            SEND => 4,
            SETSOCKOPT => 5,
            SENDTO => 6,
            _ => return,
        };
        let Some(raw) = memory::read_bytes(tid, args, count * 4) else {
            return;
        };
        let word = |i: usize| {
            u64::from(u32::from_ne_bytes([
                raw[i * 4],
                raw[i * 4 + 1],
                raw[i * 4 + 2],
                raw[i * 4 + 3],
            ]))
        };
        let fd = arg_i32(word(0));
        match call {
            SOCKET => self.socket(tid, word(0), word(1), word(2), out),
            BIND => self.address(tid, AddressOp::Bind, word(1), word(2), out),
            CONNECT => self.address(tid, AddressOp::Connect, word(1), word(2), out),
            SEND => self.netlink_send(tid, fd, word(1), word(2), None, out),
            SENDTO => {
                let to = (word(4) != 0).then_some((word(4), word(5)));
                self.netlink_send(tid, fd, word(1), word(2), to, out);
            }
            SETSOCKOPT => self.setsockopt(tid, word(1), word(2), word(3), word(4), out),
            SENDMSG => self.netlink_sendmsg(tid, 4, fd, word(1), out),
            _ => {}
        }
    }

    /// An fd range was closed (or an fd replaced): forget what those fds were.
    fn fds_closed(&mut self, tid: i32, first: u32, last: u32) {
        if self.fd_kinds.is_empty() {
            return;
        }
        let tgid = self.tgid(tid);
        if let Some(fds) = self.fd_kinds.get_mut(&tgid) {
            if first == last {
                if let Ok(fd) = i32::try_from(first) {
                    fds.remove(&fd);
                }
            } else {
                fds.retain(|fd, _| u32::try_from(*fd).map_or(true, |fd| fd < first || fd > last));
            }
            if fds.is_empty() {
                self.fd_kinds.remove(&tgid);
            }
        }
    }

    /// Whether fd `fd` of the calling process is a NETLINK_ROUTE socket (cached per process).
    fn is_netlink_route(&mut self, tid: i32, fd: i32) -> bool {
        if fd < 0 {
            return false;
        }
        let tgid = self.tgid(tid);
        if let Some(kind) = self.fd_kinds.get(&tgid).and_then(|fds| fds.get(&fd)) {
            return *kind == FdKind::NetlinkRoute;
        }
        // An fd that cannot be told now is asked about again next time.
        let Some(kind) = caps::fd_kind(tid, tgid, fd) else {
            return false;
        };
        self.fd_kinds.entry(tgid).or_default().insert(fd, kind);
        kind == FdKind::NetlinkRoute
    }

    /// A send (`write`, `send`, `sendto`) of `len` bytes at `buf` to `fd`, with the destination
    /// address `to` (pointer, length) if one was given: on a NETLINK_ROUTE socket, modifying
    /// requests need CAP_NET_ADMIN.
    ///
    /// The syscall's success only says the kernel took the messages: a request that then fails
    /// for another reason is reported in the ack, which is not read. The capability check ran
    /// before that, so the capability is counted for every accepted modifying request.
    /// Not decoded: `writev` and `sendmmsg` (rtnetlink users send one buffer at a time), and
    /// sockets `connect()`ed to another process's port (taken as talking to the kernel).
    fn netlink_send(
        &mut self,
        tid: i32,
        fd: i32,
        buf: u64,
        len: u64,
        to: Option<(u64, u64)>,
        out: &mut Vec<Deferred>,
    ) {
        // Cheap tests first: this runs for every write of every process.
        let total = usize::try_from(len).unwrap_or(usize::MAX);
        if total < names::NLMSG_HDRLEN
            || !self.has_cap(tid, caps::NET_ADMIN)
            || !self.is_netlink_route(tid, fd)
        {
            return;
        }
        if let Some((addr, addrlen)) = to {
            match self.netlink_destination(tid, addr, addrlen) {
                NetlinkDestination::Kernel => {}
                NetlinkDestination::Groups => {
                    // Sending to NETLINK_ROUTE multicast groups is itself privileged
                    // (`netlink_allowed()`), whatever the messages are.
                    self.cap_if(tid, out, caps::NET_ADMIN, true);
                    return;
                }
                NetlinkDestination::Process => return,
            }
        }
        let Some(bytes) = memory::read_bytes(tid, buf, total.min(NETLINK_READ_MAX)) else {
            return;
        };
        let needed = names::rtnetlink_needs_admin(&bytes, total);
        self.cap_if(tid, out, caps::NET_ADMIN, needed);
    }

    /// `sendmsg(fd, msg, …)` with `word`-sized pointers in `struct msghdr`.
    fn netlink_sendmsg(
        &mut self,
        tid: i32,
        word: usize,
        fd: i32,
        msghdr: u64,
        out: &mut Vec<Deferred>,
    ) {
        if !self.has_cap(tid, caps::NET_ADMIN) || !self.is_netlink_route(tid, fd) {
            return;
        }
        let name = memory::read_word(tid, msghdr, word).unwrap_or(0);
        if name != 0 {
            let namelen = memory::read_u32(tid, msghdr + word as u64).unwrap_or(0);
            match self.netlink_destination(tid, name, u64::from(namelen)) {
                NetlinkDestination::Kernel => {}
                NetlinkDestination::Groups => {
                    self.cap_if(tid, out, caps::NET_ADMIN, true);
                    return;
                }
                NetlinkDestination::Process => return,
            }
        }
        let Some((bytes, total)) = memory::read_msghdr_data(tid, msghdr, word, NETLINK_READ_MAX)
        else {
            return;
        };
        let needed = names::rtnetlink_needs_admin(&bytes, total);
        self.cap_if(tid, out, caps::NET_ADMIN, needed);
    }

    /// Where a `struct sockaddr_nl {u16 family, u16 pad, u32 pid, u32 groups}` sends to.
    fn netlink_destination(&mut self, tid: i32, addr: u64, len: u64) -> NetlinkDestination {
        // A short or unreadable address fails the call (EINVAL/EFAULT): nothing is sent.
        let Some(raw) = (len >= 12)
            .then(|| memory::read_bytes(tid, addr, 12))
            .flatten()
        else {
            return NetlinkDestination::Process;
        };
        let pid = u32::from_ne_bytes([raw[4], raw[5], raw[6], raw[7]]);
        let groups = u32::from_ne_bytes([raw[8], raw[9], raw[10], raw[11]]);
        if groups != 0 {
            NetlinkDestination::Groups
        } else if pid != 0 {
            NetlinkDestination::Process
        } else {
            NetlinkDestination::Kernel
        }
    }

    /// `setsockopt(fd, level, optname, optval, optlen)`: the socket options the kernel guards
    /// with a capability (`sk_setsockopt()`, `do_ip_setsockopt()`, `do_ipv6_setsockopt()`).
    fn setsockopt(
        &mut self,
        tid: i32,
        level: u64,
        optname: u64,
        optval: u64,
        optlen: u64,
        out: &mut Vec<Deferred>,
    ) {
        const SOL_IP: u64 = 0;
        const SOL_SOCKET: u64 = 1;
        const SOL_IPV6: u64 = 41;
        const SO_DEBUG: u64 = 1;
        const SO_PRIORITY: u64 = 12;
        const SO_SNDBUFFORCE: u64 = 32;
        const SO_RCVBUFFORCE: u64 = 33;
        const SO_MARK: u64 = 36;
        const IP_TRANSPARENT: u64 = 19;
        const IPV6_TRANSPARENT: u64 = 75;
        let guarded = matches!(
            (level, optname),
            (
                SOL_SOCKET,
                SO_DEBUG | SO_PRIORITY | SO_SNDBUFFORCE | SO_RCVBUFFORCE | SO_MARK
            ) | (SOL_IP, IP_TRANSPARENT)
                | (SOL_IPV6, IPV6_TRANSPARENT)
        );
        if !guarded || !(self.has_cap(tid, caps::NET_ADMIN) || self.has_cap(tid, caps::NET_RAW)) {
            return;
        }
        // The value as the kernel reads it: an int, or (IPv4 options only) a single byte.
        let value = match optlen {
            4.. => memory::read_u32(tid, optval).map(|v| v as i32),
            1..=3 if level == SOL_IP => memory::read_bytes(tid, optval, 1).map(|b| i32::from(b[0])),
            _ => Some(0),
        };
        let Some(value) = value else {
            return;
        };
        match (level, optname) {
            (SOL_SOCKET, SO_DEBUG) => self.cap_if(tid, out, caps::NET_ADMIN, value != 0),
            (SOL_SOCKET, SO_SNDBUFFORCE | SO_RCVBUFFORCE) => {
                self.cap_if(tid, out, caps::NET_ADMIN, true);
            }
            (SOL_SOCKET, SO_MARK) => self.mark_or_priority(tid, out),
            // Priorities 0 (TC_PRIO_BESTEFFORT) to 6 (TC_PRIO_INTERACTIVE) are free.
            (SOL_SOCKET, SO_PRIORITY) if !(0..=6).contains(&value) => {
                self.mark_or_priority(tid, out);
            }
            (SOL_IP, IP_TRANSPARENT) | (SOL_IPV6, IPV6_TRANSPARENT) if value != 0 => {
                // CAP_NET_RAW has been enough since Linux 3.2.
                self.net_raw_or_admin(tid, out);
            }
            _ => {}
        }
    }

    fn mark_or_priority(&mut self, tid: i32, out: &mut Vec<Deferred>) {
        if self.net_raw_sets_mark {
            self.net_raw_or_admin(tid, out);
        } else {
            self.cap_if(tid, out, caps::NET_ADMIN, true);
        }
    }

    /// An operation the kernel allows with CAP_NET_RAW or CAP_NET_ADMIN. The inference table's
    /// rule is to name the narrower capability, and CAP_NET_RAW is: it grants raw packet access
    /// on sockets, where CAP_NET_ADMIN reconfigures the whole network stack (interfaces,
    /// routes, firewall). CAP_NET_ADMIN is named only when the task does not hold CAP_NET_RAW,
    /// since the kernel then granted the call through it.
    fn net_raw_or_admin(&mut self, tid: i32, out: &mut Vec<Deferred>) {
        if self.has_cap(tid, caps::NET_RAW) {
            out.push(Deferred::Cap(caps::NET_RAW));
        } else {
            self.cap_if(tid, out, caps::NET_ADMIN, true);
        }
    }

    /// `ioctl(fd, request, arg)`: network configuration, tun/tap creation, inode flags.
    fn ioctl(&mut self, tid: i32, fd: i32, request: u32, arg: u64, out: &mut Vec<Deferred>) {
        if names::is_net_admin_ioctl(request) {
            self.cap_if(tid, out, caps::NET_ADMIN, true);
            return;
        }
        match request {
            TUNSETIFF => self.tun_set_iff(tid, arg, out),
            FS_IOC_SETFLAGS | FS_IOC32_SETFLAGS => self.set_inode_flags(tid, fd, arg, false, out),
            FS_IOC_FSSETXATTR => self.set_inode_flags(tid, fd, arg, true, out),
            _ => {}
        }
    }

    /// `TUNSETIFF`: creating a tun/tap device needs CAP_NET_ADMIN; attaching to an existing one
    /// needs it only if the device's owner or group exclude the caller (`tun_not_capable()`).
    /// The owner and group can be read for devices in our own network namespace only; a device
    /// elsewhere is taken to have none (the default for `ip tuntap add`).
    fn tun_set_iff(&mut self, tid: i32, ifreq: u64, out: &mut Vec<Deferred>) {
        if !self.has_cap(tid, caps::NET_ADMIN) {
            return;
        }
        let Some(raw) = memory::read_bytes(tid, ifreq, 16) else {
            return;
        };
        let name = &raw[..raw.iter().position(|b| *b == 0).unwrap_or(raw.len())];
        // An empty name or a `%d` template always makes a new device.
        let creates = name.is_empty() || name.contains(&b'%') || !caps::netdev_exists(tid, name);
        let needed = creates
            || match (caps::tun_owner_group(tid, name), self.creds_of(tid)) {
                (Some((owner, group)), Some(creds)) => {
                    caps::tun_attach_needs_cap(creds, owner, group)
                }
                _ => false,
            };
        self.cap_if(tid, out, caps::NET_ADMIN, needed);
    }

    /// `FS_IOC_SETFLAGS` (an int of `FS_*_FL`) or `FS_IOC_FSSETXATTR` (a `struct fsxattr`,
    /// `FS_XFLAG_*` first): the caller must own the file or have CAP_FOWNER, and flipping the
    /// append-only or immutable flag needs CAP_LINUX_IMMUTABLE.
    ///
    /// The new flags are compared with the current ones, read through a duplicate of the
    /// tracee's fd at the entry stop, because the kernel checks the change, not the value:
    /// keeping an already set append-only flag needs nothing, clearing it does. If the current
    /// flags cannot be read, setting a protected flag counts as a change.
    fn set_inode_flags(
        &mut self,
        tid: i32,
        fd: i32,
        arg: u64,
        xflags: bool,
        out: &mut Vec<Deferred>,
    ) {
        let fowner = self.has_cap(tid, caps::FOWNER);
        let immutable = self.has_cap(tid, caps::LINUX_IMMUTABLE);
        if !fowner && !immutable {
            return;
        }
        if fowner {
            let fsuid = self.creds_of(tid).map_or(0, |c| c.uids[3]);
            if caps::stat_fd(tid, i64::from(fd)).is_some_and(|st| st.uid != fsuid) {
                out.push(Deferred::Cap(caps::FOWNER));
            }
        }
        if immutable {
            let Some(new) = memory::read_u32(tid, arg) else {
                return;
            };
            let tgid = self.tgid(tid);
            let (old, protected) = if xflags {
                (caps::fs_xflags(tgid, fd), caps::FS_XFLAG_PROTECTED)
            } else {
                (caps::fs_flags(tgid, fd), caps::FS_PROTECTED_FLAGS)
            };
            if caps::flags_need_immutable(old, new, protected) {
                out.push(Deferred::Cap(caps::LINUX_IMMUTABLE));
            }
        }
    }

    fn namespaces(&mut self, tid: i32, flags: u64, out: &mut Vec<Deferred>) {
        let kinds = Namespace::from_clone_flags(flags);
        if kinds.is_empty() {
            return;
        }
        // Namespaces created together with a new user namespace belong to it: no host
        // capability is involved.
        let needs_admin = flags & CLONE_NEWUSER == 0;
        self.cap_if(tid, out, caps::SYS_ADMIN, needs_admin);
        out.push(Deferred::Namespace { kinds });
    }

    fn setns(&mut self, tid: i32, fd: i32, nstype: u64, out: &mut Vec<Deferred>) {
        let kinds = if nstype != 0 {
            Namespace::from_clone_flags(nstype)
        } else {
            // A namespace fd links to e.g. `net:[4026531840]`.
            procfs::fd_target(tid, fd)
                .and_then(|t| {
                    let text = String::from_utf8_lossy(&t).into_owned();
                    text.split_once(':')
                        .and_then(|(kind, _)| Namespace::parse(kind))
                })
                .into_iter()
                .collect()
        };
        if kinds.is_empty() {
            return;
        }
        if kinds.iter().any(|k| *k != Namespace::User) {
            self.cap_if(tid, out, caps::SYS_ADMIN, true);
        }
        if kinds.contains(&Namespace::Mnt) {
            self.chroot_possible = true;
            self.cap_if(tid, out, caps::SYS_CHROOT, true);
        }
        out.push(Deferred::Namespace { kinds });
        out.push(Deferred::CwdChanged);
    }

    fn realtime(
        &mut self,
        tid: i32,
        name: &'static str,
        policy: u64,
        priority: u64,
        out: &mut Vec<Deferred>,
    ) {
        let Some(policy_name) = names::realtime_policy(policy) else {
            return;
        };
        self.record(Event::Realtime {
            syscall: name.to_owned(),
            policy: policy_name.to_owned(),
        });
        let allowed = procfs::limit(tid, "Max realtime priority")
            .map_or(0, |(soft, _)| soft.unwrap_or(u64::MAX));
        self.cap_if(tid, out, caps::SYS_NICE, priority > allowed || allowed == 0);
    }

    fn lower_nice(&mut self, tid: i32, target: i32, wanted: i64, out: &mut Vec<Deferred>) {
        let Some(current) = procfs::nice(target) else {
            return;
        };
        if wanted >= current {
            return;
        }
        // RLIMIT_NICE is expressed as 20 - nice.
        let limit = procfs::limit(target, "Max nice priority")
            .map_or(0, |(soft, _)| soft.unwrap_or(u64::MAX));
        let needed = u64::try_from(20 - wanted.clamp(-20, 19)).unwrap_or(0);
        self.cap_if(tid, out, caps::SYS_NICE, needed > limit);
    }

    fn kill(&mut self, tid: i32, target: i32, signal: u64, out: &mut Vec<Deferred>) {
        // Signal 0 only probes for existence; negative targets name process groups.
        if signal == 0 || target <= 0 || !self.has_cap(tid, caps::KILL) {
            return;
        }
        let (Some(me), Some(them)) = (self.creds_of(tid).cloned(), procfs::creds(target)) else {
            return;
        };
        let mine = [me.uids[0], me.uids[1]];
        let theirs = [them.uids[0], them.uids[2]];
        if !mine.iter().any(|u| theirs.contains(u)) {
            out.push(Deferred::Cap(caps::KILL));
        }
    }

    fn peek_process(&mut self, tid: i32, target: i32, out: &mut Vec<Deferred>) {
        if target <= 0 || !self.has_cap(tid, caps::SYS_PTRACE) {
            return;
        }
        let (Some(me), Some(them)) = (self.creds_of(tid).cloned(), procfs::creds(target)) else {
            return;
        };
        let same_uid = them.uids[..3].iter().all(|u| *u == me.uids[3]);
        let same_gid = them.gids[..3].iter().all(|g| *g == me.gids[3]);
        if !(same_uid && same_gid) {
            out.push(Deferred::Cap(caps::SYS_PTRACE));
        }
    }

    fn rlimit(
        &mut self,
        tid: i32,
        target: i32,
        resource: u64,
        addr: u64,
        word: u64,
        out: &mut Vec<Deferred>,
    ) {
        const LIMIT_NAMES: [&str; 16] = [
            "Max cpu time",
            "Max file size",
            "Max data size",
            "Max stack size",
            "Max core file size",
            "Max resident set",
            "Max processes",
            "Max open files",
            "Max locked memory",
            "Max address space",
            "Max file locks",
            "Max pending signals",
            "Max msgqueue size",
            "Max nice priority",
            "Max realtime priority",
            "Max realtime timeout",
        ];
        let Some(name) = usize::try_from(resource)
            .ok()
            .and_then(|r| LIMIT_NAMES.get(r))
        else {
            return;
        };
        let new_hard = if word == 4 {
            memory::read_u32(tid, addr + 4).map(|v| {
                if v == u32::MAX {
                    u64::MAX
                } else {
                    u64::from(v)
                }
            })
        } else {
            memory::read_u64(tid, addr + 8)
        };
        let (Some(new_hard), Some((_, old_hard))) = (new_hard, procfs::limit(target, name)) else {
            return;
        };
        let old_hard = old_hard.unwrap_or(u64::MAX);
        self.cap_if(tid, out, caps::SYS_RESOURCE, new_hard > old_hard);
    }

    /// The exit stop of a pending call: `result` is the return value or the errno.
    pub fn exit(&mut self, tid: i32, pending: Pending, result: Result<i64, i64>) {
        if let Err(errno) = result {
            // The call will be entered again after the signal; that entry is what counts.
            if names::is_restart(errno) {
                return;
            }
        }
        let ok = result.is_ok();
        let syscall = pending.name;
        for deferred in pending.deferred {
            match deferred {
                Deferred::File { path, access } => {
                    let path = self.text(path);
                    self.record(Event::File {
                        path,
                        access,
                        outcome: outcome(result),
                    });
                }
                Deferred::Open {
                    path,
                    flags,
                    existed,
                } => self.finish_open(tid, path, flags, existed, result),
                Deferred::Exec { path } => {
                    if ok {
                        self.exec_succeeded(tid, path);
                    } else {
                        let path = self.text(path);
                        self.record(Event::File {
                            path,
                            access: Access::Exec,
                            outcome: outcome(result),
                        });
                    }
                }
                Deferred::Socket {
                    family,
                    sock_type,
                    protocol,
                } => self.record(Event::Socket {
                    family: names::family(family),
                    sock_type: names::sock_type(sock_type),
                    protocol: names::protocol(family, protocol),
                    outcome: outcome(result),
                }),
                Deferred::Address {
                    op,
                    family,
                    address,
                } => self.record(Event::Address {
                    op,
                    family: names::family(family),
                    address,
                    outcome: outcome(result),
                }),
                Deferred::Namespace { kinds } => self.record(Event::Namespace {
                    syscall: syscall.to_owned(),
                    kinds,
                    outcome: outcome(result),
                }),
                Deferred::Memory { kind } => self.record(Event::Memory {
                    kind,
                    syscall: syscall.to_owned(),
                    outcome: outcome(result),
                }),
                Deferred::SetId { path, mode } => {
                    let path = path.map(|p| self.text(p));
                    self.record(Event::SetIdMode {
                        syscall: syscall.to_owned(),
                        path,
                        mode,
                        outcome: outcome(result),
                    });
                }
                Deferred::Mknod { path, kind } => {
                    let path = self.text(path);
                    self.record(Event::Mknod {
                        path,
                        kind,
                        outcome: outcome(result),
                    });
                }
                Deferred::Mount { target } => {
                    let target = target.map(|t| self.text(t));
                    self.record(Event::Mount {
                        syscall: syscall.to_owned(),
                        target,
                        outcome: outcome(result),
                    });
                }
                Deferred::Cap(cap) => {
                    if ok {
                        self.capability(cap, syscall);
                    }
                }
                Deferred::CwdChanged => {
                    if ok {
                        self.cwd_generation += 1;
                    }
                }
            }
        }
    }

    fn capability(&mut self, cap: Cap, syscall: &str) {
        self.record(Event::Capability {
            cap: cap.0,
            origin: CapOrigin::Inferred,
            syscall: Some(syscall.to_owned()),
        });
    }

    fn finish_open(
        &mut self,
        tid: i32,
        path: Vec<u8>,
        flags: u64,
        existed: bool,
        result: Result<i64, i64>,
    ) {
        let writes = flags & O_ACCMODE != 0 || flags & O_TRUNC != 0;
        let created = result.is_ok() && !existed;
        let access = if created {
            Access::Create
        } else if writes {
            Access::Write
        } else if flags & (O_PATH | O_DIRECTORY) != 0 {
            Access::Search
        } else {
            Access::Read
        };
        if let Ok(fd) = result {
            // O_PATH opens check no permission on the file itself.
            if flags & O_PATH == 0 {
                self.check_dac_open(tid, &path, fd, writes, created);
            }
        }
        let path = self.text(path);
        self.record(Event::File {
            path,
            access,
            outcome: outcome(result),
        });
    }

    fn check_dac_open(&mut self, tid: i32, path: &[u8], fd: i64, writes: bool, created: bool) {
        let Some(creds) = self.creds_of(tid).cloned() else {
            return;
        };
        if !creds.has_cap(caps::DAC_OVERRIDE.0) && !creds.has_cap(caps::DAC_READ_SEARCH.0) {
            return;
        }
        if !self
            .dac_checked
            .insert((path.to_vec(), writes || created, creds.uids[3]))
        {
            return;
        }
        let syscall = "open";
        let needed = if created {
            // Creating needs write and search permission on the directory.
            let dir = paths::parent(path);
            caps::stat(dir, true)
                .filter(|st| !caps::dac_allows(&creds, st, || caps::acl_of_path(dir, true), 0o3))
                .map(|_| caps::DAC_OVERRIDE)
        } else {
            let Some(st) = caps::stat_fd(tid, fd) else {
                return;
            };
            let want = if writes { 0o2 } else { 0o4 };
            if caps::dac_allows(&creds, &st, || caps::acl_of_fd(tid, fd), want) {
                None
            } else if !writes && creds.has_cap(caps::DAC_READ_SEARCH.0) {
                Some(caps::DAC_READ_SEARCH)
            } else {
                Some(caps::DAC_OVERRIDE)
            }
        };
        if let Some(cap) = needed {
            if creds.has_cap(cap.0) {
                self.capability(cap, syscall);
            }
        }
    }

    fn interpreter(&mut self, path: &[u8]) -> Option<Vec<u8>> {
        if let Some(known) = self.interpreters.get(path) {
            return known.clone();
        }
        let found = binfmt::interpreter(path);
        self.interpreters.insert(path.to_vec(), found.clone());
        found
    }

    /// `PTRACE_EVENT_EXEC` (or a successful exec exit): records the program and its
    /// interpreters, and forgets the credentials the exec may have changed.
    pub fn exec_succeeded(&mut self, tid: i32, path: Vec<u8>) {
        if let Some(creds) = self.creds_of(tid).cloned() {
            if let Some(st) = caps::stat(&path, true) {
                let any_exec = st.mode & 0o111 != 0;
                if any_exec
                    && creds.has_cap(caps::DAC_OVERRIDE.0)
                    && !caps::dac_allows(&creds, &st, || caps::acl_of_path(&path, true), 0o1)
                {
                    self.capability(caps::DAC_OVERRIDE, "execve");
                }
            }
        }
        self.creds.remove(&tid);
        let first = self.interpreter(&path);
        // A script's interpreter has its own ELF interpreter; both are opened for execution.
        let second = first.clone().and_then(|f| self.interpreter(&f));
        for exec_path in [Some(path.clone()), first.clone(), second]
            .into_iter()
            .flatten()
        {
            let exec_path = self.text(exec_path);
            self.record(Event::File {
                path: exec_path,
                access: Access::Exec,
                outcome: Ok(()),
            });
        }
        let path = self.text(path);
        let interpreter = first.map(|i| self.text(i));
        self.record(Event::Exec { path, interpreter });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tells_abis_apart() {
        assert_eq!(abi_of(sys::AUDIT_ARCH_X86_64, 59), Some(Abi::X86_64));
        assert_eq!(
            abi_of(sys::AUDIT_ARCH_X86_64, 0x4000_0000 | 520),
            Some(Abi::X32)
        );
        assert_eq!(abi_of(sys::AUDIT_ARCH_I386, 11), Some(Abi::I386));
        assert_eq!(abi_of(sys::AUDIT_ARCH_AARCH64, 221), Some(Abi::Aarch64));
        assert_eq!(abi_of(0x1234, 0), None);
    }

    #[test]
    fn compares_kernel_releases() {
        assert!(release_at_least("6.18.44-fc-v669", 5, 17));
        assert!(release_at_least("5.17.0", 5, 17));
        assert!(!release_at_least("5.16.20-arch1", 5, 17));
        assert!(!release_at_least("4.19.0-27-amd64", 5, 17));
        assert!(!release_at_least("garbage", 5, 17));
    }

    #[test]
    fn names_outcomes() {
        assert_eq!(outcome(Ok(3)), Ok(()));
        assert_eq!(outcome(Err(13)), Err("EACCES".to_owned()));
    }
}
