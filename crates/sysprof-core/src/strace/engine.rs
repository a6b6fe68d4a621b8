//! The replay engine: turns one strace line at a time into events, keeping per-process state.

use super::consts::{self, cap, clone, mode, open};
use super::kinds::{kind_of, IdCall, IdQuery, Kind, MountCap};
use super::lex::{
    braces_body, field, parse_flags, parse_int, parse_prefix, parse_ret, parse_string,
    parse_unsigned, split_decoration, strip_comment, trim, Elements, Ret, StrArg,
};
use super::sink::{Key, Sink, UNRESOLVED_PREFIX};
use super::state::{Arena, Creds, FdTable, FdTarget, FsState, FxMap, Interner, Process, Sym};
use crate::event::{Abi, Access, AddressOp, DeviceKind, MapKind, Namespace};

/// Why a line was not understood (only used to decide what to count).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum LineError {
    Unparsed,
}

type LineResult = Result<(), LineError>;

/// The pid used for lines without a pid prefix before the real pid is known.
const SYNTHETIC_PID: u32 = 0;
/// At most this many distinct syscall names are interned (garbage input cannot grow it further).
const MAX_SYSCALL_NAMES: usize = 4096;
/// At most this many arguments are looked at.
const MAX_ARGS: usize = 8;

struct SyscallInfo {
    name: Box<str>,
    sym: Sym,
    kind: Kind,
    /// Whether `Event::Syscall` was already recorded, per ABI (index of `Abi::ALL`).
    recorded: [bool; 4],
}

/// Per-feed context that decides which pid unprefixed lines belong to.
#[derive(Debug, Clone, Copy)]
pub(crate) struct FeedContext {
    pub pid_hint: Option<u32>,
}

pub(crate) struct Engine {
    native: Option<Abi>,
    open_flags: consts::Table,
    pub interner: Interner,
    pub sink: Sink,
    syscalls: Vec<SyscallInfo>,
    syscall_ids: FxMap<Box<[u8]>, u16>,
    processes: FxMap<u32, Process>,
    /// Pids inside an unfinished clone-family call (a new pid is probably their child).
    cloning: FxMap<u32, ()>,
    /// The process the previous unprefixed line belonged to.
    unprefixed: Option<u32>,
    fs: Arena<FsState>,
    files: Arena<FdTable>,
    /// Scratch buffers reused for every line (taken with `mem::take`, then put back).
    raw: Vec<u8>,
    joined: Vec<u8>,
    decoration: Vec<u8>,
    /// Earliest and latest `-ttt` timestamps (seconds, microseconds).
    pub time_span: Option<((u64, u32), (u64, u32))>,
    pub notes: Vec<String>,
    arm32_noted: bool,
}

/// The syscall-name pieces of a `<... NAME resumed>` line.
fn resumed_name(rest: &[u8]) -> Option<(&[u8], &[u8])> {
    let body = rest.strip_prefix(b"<... ")?;
    let end = memchr::memmem::find(body, b" resumed>")?;
    Some((&body[..end], &body[end + b" resumed>".len()..]))
}

fn is_name_byte(c: u8) -> bool {
    c.is_ascii_lowercase() || c.is_ascii_digit() || c == b'_'
}

/// Lexical normalisation of an absolute path: drops `.`, empty components and trailing `/`,
/// applies `..` (without following symlinks, which the log cannot show).
fn normalize_into(path: &[u8], out: &mut Vec<u8>) {
    if is_normal(path) {
        out.extend_from_slice(path);
        return;
    }
    let base = out.len();
    for component in path.split(|&c| c == b'/') {
        match component {
            b"" | b"." => {}
            b".." => {
                let cut = out[base..]
                    .iter()
                    .rposition(|&c| c == b'/')
                    .map_or(base, |p| base + p);
                out.truncate(cut);
            }
            name => {
                out.push(b'/');
                out.extend_from_slice(name);
            }
        }
    }
    if out.len() == base {
        out.push(b'/');
    }
}

/// True for an absolute path with no empty, `.` or `..` component and no trailing `/`.
fn is_normal(path: &[u8]) -> bool {
    if path.first() != Some(&b'/') || (path.len() > 1 && path.last() == Some(&b'/')) {
        return false;
    }
    let mut start = 1;
    for slash in memchr::memchr_iter(b'/', &path[1..])
        .map(|p| p + 1)
        .chain([path.len()])
    {
        let component = &path[start..slash];
        if matches!(component, b"" | b"." | b"..") && path.len() > 1 {
            return false;
        }
        start = slash + 1;
    }
    true
}

/// Errno name of a failed call, `None` for success.
fn errno_of(interner: &mut Interner, ret: &Ret<'_>) -> Option<Option<Sym>> {
    match ret {
        Ret::Value(..) => Some(None),
        Ret::Error(name) => Some(Some(interner.intern(name))),
        Ret::Unknown => None,
    }
}

fn arg<'a>(args: &[&'a [u8]], index: u8) -> Option<&'a [u8]> {
    args.get(usize::from(index)).copied()
}

/// `-1` (or its unsigned spelling) means "leave unchanged" in `set*id` calls.
fn id_arg(text: &[u8]) -> Option<Option<u32>> {
    let value = parse_int(text)?;
    if value == -1 || value == i64::from(u32::MAX) {
        return Some(None);
    }
    u32::try_from(value).ok().map(Some)
}

impl Engine {
    pub(crate) fn new(arch: &str) -> Self {
        let mut interner = Interner::default();
        // Errno names and paths share one symbol space.
        interner.intern(b"");
        let native = Abi::native_for_arch(arch);
        let mut notes = Vec::new();
        if native.is_none() {
            notes.push(format!(
                "architecture {arch:?} has no syscall ABI in the trace format: syscall names were not recorded"
            ));
        }
        Engine {
            native,
            open_flags: if arch == "aarch64" {
                consts::OPEN_FLAGS_ARM64
            } else {
                consts::OPEN_FLAGS_X86
            },
            interner,
            sink: Sink::new(arch),
            syscalls: Vec::new(),
            syscall_ids: FxMap::default(),
            processes: FxMap::default(),
            cloning: FxMap::default(),
            unprefixed: None,
            fs: Arena::new(),
            files: Arena::new(),
            raw: Vec::new(),
            joined: Vec::new(),
            decoration: Vec::new(),
            time_span: None,
            notes,
            arm32_noted: false,
        }
    }

    // ---------------------------------------------------------------- processes

    fn new_process(&mut self, abi: Option<Abi>) -> Process {
        Process {
            abi,
            fs: self.fs.insert(FsState::default()),
            files: self.files.insert(FdTable::default()),
            creds: Creds::default(),
            pending: None,
            own_userns: false,
            inherited: false,
        }
    }

    fn child_of(&mut self, parent: &Process, flags: u64) -> Process {
        let fs = if flags & clone::FS != 0 {
            self.fs.share(parent.fs)
        } else {
            self.fs.copy(parent.fs)
        };
        let files = if flags & clone::FILES != 0 {
            self.files.share(parent.files)
        } else {
            self.files.copy(parent.files)
        };
        Process {
            abi: parent.abi,
            fs,
            files,
            creds: parent.creds,
            pending: None,
            own_userns: parent.own_userns || flags & clone::NEWUSER != 0,
            inherited: true,
        }
    }

    fn insert_process(&mut self, pid: u32, process: Process) {
        self.sink.process_started();
        if let Some(old) = self.processes.insert(pid, process) {
            self.fs.release(old.fs);
            self.files.release(old.files);
        }
    }

    /// Makes sure `pid` has state. A pid seen for the first time is, in order of preference:
    /// the synthetic process of unprefixed lines finally named, the child of a process that is
    /// inside a clone call right now, or a process whose start the log does not show.
    fn ensure_process(&mut self, pid: u32, resumed: Option<&[u8]>) {
        if self.processes.contains_key(&pid) {
            return;
        }
        if pid != SYNTHETIC_PID {
            if let Some(synthetic) = self.processes.get(&SYNTHETIC_PID) {
                let pending_name = synthetic.pending.as_deref().map(|p| {
                    let end = memchr::memchr(b'(', p).unwrap_or(p.len());
                    &p[..end]
                });
                let pending_clone = pending_name.is_some_and(|n| kind_of(n) == Kind::Clone);
                let same_call = matches!((resumed, pending_name), (Some(a), Some(b)) if a == b);
                if (same_call || !pending_clone) && self.rename_synthetic(pid) {
                    return;
                }
            }
        }
        let cloning: Vec<u32> = if self.cloning.len() == 1 {
            self.cloning.keys().copied().collect()
        } else {
            Vec::new()
        };
        let process = match cloning.as_slice() {
            [parent_pid] => {
                let parent = self.processes.get(parent_pid).cloned();
                match parent {
                    Some(parent) => {
                        let flags = parent.pending.as_deref().map_or(0, clone_flags_in);
                        self.child_of(&parent, flags)
                    }
                    None => self.new_process(self.native),
                }
            }
            _ => self.new_process(self.native),
        };
        self.insert_process(pid, process);
    }

    /// The pid of an unprefixed line in a log that mixes prefixed and unprefixed lines (strace
    /// to stderr prints `[pid N]` only while more than one process is traced).
    ///
    /// Without `-f` only one process is traced, but its untraced children still get state from
    /// their `clone` results, so the previous unprefixed line's process is the best guess then.
    fn unprefixed_pid(&mut self, ctx: FeedContext) -> u32 {
        if let Some(pid) = ctx.pid_hint {
            return pid;
        }
        let pid = if self.processes.len() == 1 {
            self.processes
                .keys()
                .next()
                .copied()
                .unwrap_or(SYNTHETIC_PID)
        } else {
            self.unprefixed
                .filter(|p| self.processes.contains_key(p))
                .unwrap_or(SYNTHETIC_PID)
        };
        self.unprefixed = Some(pid);
        pid
    }

    /// The synthetic process of unprefixed lines turned out to be `pid`.
    fn rename_synthetic(&mut self, pid: u32) -> bool {
        let Some(process) = self.processes.remove(&SYNTHETIC_PID) else {
            return false;
        };
        if self.cloning.remove(&SYNTHETIC_PID).is_some() {
            self.cloning.insert(pid, ());
        }
        if self.unprefixed == Some(SYNTHETIC_PID) {
            self.unprefixed = Some(pid);
        }
        self.processes.insert(pid, process);
        true
    }

    fn exit_process(&mut self, pid: u32) {
        self.flush_pending(pid);
        if let Some(process) = self.processes.remove(&pid) {
            self.fs.release(process.fs);
            self.files.release(process.files);
        }
    }

    /// Completes an `<unfinished ...>` call whose result will never come.
    fn take_pending(&mut self, pid: u32) -> Option<Vec<u8>> {
        self.cloning.remove(&pid);
        self.processes.get_mut(&pid).and_then(|p| p.pending.take())
    }

    fn flush_pending(&mut self, pid: u32) {
        let pending = self.take_pending(pid);
        if let Some(mut text) = pending {
            text.extend_from_slice(b") = ?");
            // Its arguments may be cut anywhere; whatever does not parse is just dropped.
            let _ = self.complete_call(pid, &text);
        }
    }

    /// Flushes every pending call (end of a feed).
    pub(crate) fn flush_all(&mut self) {
        let mut pids: Vec<u32> = self
            .processes
            .iter()
            .filter(|(_, p)| p.pending.is_some())
            .map(|(&pid, _)| pid)
            .collect();
        pids.sort_unstable();
        for pid in pids {
            self.flush_pending(pid);
        }
    }

    /// Forgets every process (a new, unrelated `strace -f` log starts).
    pub(crate) fn reset_processes(&mut self) {
        self.flush_all();
        let pids: Vec<u32> = self.processes.keys().copied().collect();
        for pid in pids {
            self.exit_process(pid);
        }
        self.unprefixed = None;
    }

    // ---------------------------------------------------------------- lines

    /// Handles one line (without its newline).
    pub(crate) fn line(&mut self, line: &[u8], ctx: FeedContext) -> LineResult {
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        if line.iter().all(|&c| c == b' ' || c == b'\t') {
            return Ok(());
        }
        let prefix = parse_prefix(line, ctx.pid_hint.is_none());
        if let Some(ts) = prefix.timestamp {
            self.note_timestamp(ts);
        }
        let rest = &line[prefix.rest..];
        let pid = prefix.pid.unwrap_or_else(|| self.unprefixed_pid(ctx));
        match rest.first() {
            None => Err(LineError::Unparsed),
            Some(b'<') => {
                let (name, tail) = resumed_name(rest).ok_or(LineError::Unparsed)?;
                self.ensure_process(pid, Some(name));
                self.resumed(pid, name, tail)
            }
            Some(b'-') if rest.starts_with(b"--- ") && rest.ends_with(b" ---") => {
                self.ensure_process(pid, None);
                // `--- SIGHUP {si_signo=SIGHUP, …} ---`: a signal reached a traced process.
                let name = rest[4..]
                    .split(|&b| b == b' ')
                    .next()
                    .filter(|n| n.starts_with(b"SIG") && n.iter().all(u8::is_ascii_alphanumeric));
                if let Some(name) = name {
                    self.sink.trace.record(crate::event::Event::Signal {
                        name: String::from_utf8_lossy(name).into_owned(),
                    });
                }
                Ok(())
            }
            Some(b'+') if rest.starts_with(b"+++ ") && rest.ends_with(b" +++") => {
                self.ensure_process(pid, None);
                self.exit_process(pid);
                Ok(())
            }
            Some(b'[') if rest.starts_with(b"[ Process PID=") => self.personality_note(rest),
            Some(b's') if rest.starts_with(b"strace: ") => {
                let note = &rest[b"strace: ".len()..];
                if note.starts_with(b"[ Process PID=") {
                    return self.personality_note(note);
                }
                Ok(())
            }
            Some(b'>') | Some(b' ') if rest.starts_with(b"> ") => Ok(()), // `-k` stack frame
            Some(_) => {
                self.ensure_process(pid, None);
                if let Some(start) = rest.strip_suffix(b"<unfinished ...>") {
                    return self.unfinished(pid, start);
                }
                self.complete_call(pid, rest)
            }
        }
    }

    fn note_timestamp(&mut self, ts: &[u8]) {
        // Only `-ttt` (seconds since the epoch) dates the recording; `-t`/`-tt` carry no date
        // and `-r` is relative.
        if ts.contains(&b':') {
            return;
        }
        let (secs, frac) = match memchr::memchr(b'.', ts) {
            Some(dot) => (&ts[..dot], &ts[dot + 1..]),
            None => (ts, &b""[..]),
        };
        // Relative (`-r`) stamps are small; real epochs are past 2001.
        let Some(secs) = parse_unsigned(secs).filter(|&s| s > 1_000_000_000) else {
            return;
        };
        let mut micros = 0u32;
        for (i, &c) in frac.iter().take(6).enumerate() {
            if !c.is_ascii_digit() {
                return;
            }
            micros += u32::from(c - b'0') * 10u32.pow(5 - u32::try_from(i).unwrap_or(5));
        }
        let t = (secs, micros);
        self.time_span = Some(match self.time_span {
            None => (t, t),
            Some((a, b)) => (a.min(t), b.max(t)),
        });
    }

    fn personality_note(&mut self, text: &[u8]) -> LineResult {
        // `[ Process PID=123 runs in 32 bit mode. ]`
        let body = &text[b"[ Process PID=".len()..];
        let end = body.iter().position(|c| !c.is_ascii_digit()).unwrap_or(0);
        let pid = std::str::from_utf8(&body[..end])
            .ok()
            .and_then(|s| s.parse::<u32>().ok())
            .ok_or(LineError::Unparsed)?;
        let mode = &body[end..];
        let abi = if mode.starts_with(b" runs in 32 bit mode") {
            match self.native {
                Some(Abi::X86_64) | Some(Abi::I386) => Some(Abi::I386),
                _ => None,
            }
        } else if mode.starts_with(b" runs in x32 mode") {
            Some(Abi::X32)
        } else if mode.starts_with(b" runs in 64 bit mode") {
            self.native
        } else {
            return Err(LineError::Unparsed);
        };
        if abi.is_none() && !self.arm32_noted {
            self.arm32_noted = true;
            self.notes.push(
                "a process ran in 32-bit compat mode, which the trace format cannot name: its syscall names were not recorded"
                    .to_owned(),
            );
        }
        self.ensure_process(pid, None);
        if let Some(process) = self.processes.get_mut(&pid) {
            process.abi = abi;
        }
        Ok(())
    }

    fn unfinished(&mut self, pid: u32, start: &[u8]) -> LineResult {
        let start = start.strip_suffix(b" ").unwrap_or(start);
        let open = memchr::memchr(b'(', start).ok_or(LineError::Unparsed)?;
        if open == 0 || !start[..open].iter().all(|&c| is_name_byte(c)) {
            return Err(LineError::Unparsed);
        }
        self.flush_pending(pid);
        if let Some(process) = self.processes.get_mut(&pid) {
            process.pending = Some(start.to_vec());
            if kind_of(&start[..open]) == Kind::Clone {
                self.cloning.insert(pid, ());
            }
        }
        Ok(())
    }

    fn resumed(&mut self, pid: u32, name: &[u8], tail: &[u8]) -> LineResult {
        let pending = self.take_pending(pid);
        let Some(mut text) = pending else {
            // The start was before the log began (or in another file): the call's name is all
            // that is known, and that is not enough to trust the rest.
            return Err(LineError::Unparsed);
        };
        let open = memchr::memchr(b'(', &text).unwrap_or(text.len());
        if &text[..open] != name {
            text.extend_from_slice(b") = ?");
            let _ = self.complete_call(pid, &text);
            return Err(LineError::Unparsed);
        }
        text.extend_from_slice(tail);
        self.complete_call(pid, &text)
    }

    // ---------------------------------------------------------------- calls

    fn syscall_id(&mut self, name: &[u8]) -> Option<u16> {
        if let Some(&id) = self.syscall_ids.get(name) {
            return Some(id);
        }
        if self.syscalls.len() >= MAX_SYSCALL_NAMES {
            return None;
        }
        let text = std::str::from_utf8(name).ok()?;
        let (canonical, kind) = match canonical_unknown_syscall(text, self.native) {
            Some(resolved) => (resolved, Kind::Plain),
            None => {
                let known = crate::tables::syscalls::is_known(text);
                (
                    text.to_owned(),
                    if known { kind_of(name) } else { Kind::Invalid },
                )
            }
        };
        let sym = self.interner.intern(canonical.as_bytes());
        let id = u16::try_from(self.syscalls.len()).ok()?;
        self.syscalls.push(SyscallInfo {
            name: canonical.into_boxed_str(),
            sym,
            kind,
            recorded: [false; 4],
        });
        self.syscall_ids.insert(name.into(), id);
        Some(id)
    }

    fn record_syscall(&mut self, id: u16, abi: Option<Abi>) {
        let Some(abi) = abi else { return };
        let Some(slot) = Abi::ALL.iter().position(|&a| a == abi) else {
            return;
        };
        let Some(info) = self.syscalls.get_mut(usize::from(id)) else {
            return;
        };
        if !info.recorded[slot] {
            info.recorded[slot] = true;
            let name = info.name.to_string();
            self.sink.syscall(abi, &name);
        }
    }

    /// Handles `name(args) = ret ...`.
    fn complete_call(&mut self, pid: u32, text: &[u8]) -> LineResult {
        let open = memchr::memchr(b'(', text).ok_or(LineError::Unparsed)?;
        let name = &text[..open];
        if name.is_empty() || !name.iter().all(|&c| is_name_byte(c)) {
            return Err(LineError::Unparsed);
        }
        let id = self.syscall_id(name).ok_or(LineError::Unparsed)?;
        let (kind, sym) = match self.syscalls.get(usize::from(id)) {
            Some(info) => (info.kind, info.sym),
            None => return Err(LineError::Unparsed),
        };
        if kind == Kind::Invalid {
            return Err(LineError::Unparsed);
        }
        let body = &text[open + 1..];
        if kind == Kind::Plain {
            // The hot path: check the shape cheaply (`...) = RET`) without walking arguments.
            if !has_return(body) {
                return Err(LineError::Unparsed);
            }
            let abi = self.processes.get(&pid).and_then(|p| p.abi);
            self.record_syscall(id, abi);
            return Ok(());
        }
        let mut elements = Elements::new(body, b')');
        let mut args: [&[u8]; MAX_ARGS] = [&[]; MAX_ARGS];
        let mut count = 0;
        for element in elements.by_ref() {
            if count < MAX_ARGS {
                args[count] = element;
            }
            count += 1;
        }
        let after = if elements.closed() {
            elements.after_close().ok_or(LineError::Unparsed)?
        } else {
            return Err(LineError::Unparsed);
        };
        let ret = parse_ret(after).ok_or(LineError::Unparsed)?;
        let abi = self.processes.get(&pid).and_then(|p| p.abi);
        self.record_syscall(id, abi);
        let call = Call {
            pid,
            syscall: sym,
            args: &args[..count.min(MAX_ARGS)],
            ret,
        };
        self.semantics(kind, &call);
        Ok(())
    }

    fn semantics(&mut self, kind: Kind, call: &Call<'_>) {
        match kind {
            Kind::Plain | Kind::Invalid => {}
            Kind::Close => {
                if let (Some(fd), true) = (call.int(0), call.ret.is_ok()) {
                    self.fd_table(call.pid).map(|t| t.remove(&fd));
                }
            }
            Kind::Dup => self.dup(call, 0),
            Kind::Fcntl => {
                let is_dup = call.arg(1).is_some_and(|cmd| {
                    let cmd = strip_comment(cmd);
                    let value =
                        consts::value_of(consts::FCNTL_DUP, cmd).or_else(|| parse_unsigned(cmd));
                    matches!(value, Some(0) | Some(1030))
                });
                if is_dup {
                    self.dup(call, 0);
                }
            }
            Kind::FdNew => self.new_fd_from_result(call),
            Kind::FdPair { array } => {
                if call.ret.is_ok() {
                    if let Some(list) = call.arg(array).and_then(|a| a.strip_prefix(b"[")) {
                        let fds: Vec<(i64, Option<&[u8]>)> = Elements::new(list, b']')
                            .filter_map(|e| {
                                let (num, deco) = split_decoration(e);
                                parse_int(num).map(|n| (n, deco))
                            })
                            .collect();
                        for (fd, deco) in fds {
                            self.set_fd(call.pid, fd, deco);
                        }
                    }
                }
                if array == 3 {
                    self.socket(call);
                }
            }
            Kind::Open { dirfd, path } => {
                let flags = call.arg(path + 1).map_or(0, |f| self.open_flags(f));
                let mode = call.arg(path + 2).and_then(mode_value);
                self.open(call, dirfd, path, flags, mode);
            }
            Kind::OpenAt2 => {
                let how = call.arg(2).and_then(braces_body);
                let flags = how
                    .and_then(|b| field(b, b"flags"))
                    .map_or(0, |f| self.open_flags(f));
                let mode = how.and_then(|b| field(b, b"mode")).and_then(mode_value);
                self.open(call, Some(0), 1, flags, mode);
            }
            Kind::Creat => {
                let mode = call.arg(1).and_then(mode_value);
                self.open(
                    call,
                    None,
                    0,
                    open::CREAT | open::WRONLY | open::TRUNC,
                    mode,
                );
            }
            Kind::Path {
                dirfd,
                path,
                access,
                empty_path_is_fd,
            } => {
                self.path_access(call, dirfd, path, access, empty_path_is_fd);
            }
            Kind::OnFd { fd, access } => {
                self.fd_access(call, fd, access);
            }
            Kind::Utimensat => {
                if call.arg(1) == Some(b"NULL") {
                    self.fd_access(call, 0, Access::Write);
                } else {
                    self.path_access(call, Some(0), 1, Access::Write, true);
                }
            }
            Kind::Chmod { dirfd, path, mode } => {
                let target = self.path_access(call, dirfd, path, Access::Chattr, true);
                self.setid_mode(call, target, mode);
            }
            Kind::Fchmod => {
                let target = self.fd_access(call, 0, Access::Chattr);
                self.setid_mode(call, target, 1);
            }
            Kind::Mkdir { dirfd, path, mode } => {
                let target = self.path_access(call, dirfd, path, Access::Create, false);
                self.setid_mode(call, target, mode);
            }
            Kind::Mknod { dirfd, path, mode } => self.mknod(call, dirfd, path, mode),
            Kind::Rename {
                old_dirfd,
                old,
                new_dirfd,
                new,
            } => {
                self.path_access(call, old_dirfd, old, Access::Delete, false);
                self.path_access(call, new_dirfd, new, Access::Rename, false);
            }
            Kind::Link {
                old_dirfd,
                old,
                new_dirfd,
                new,
            } => {
                if let Some(old) = old {
                    self.path_access(call, old_dirfd, old, Access::Stat, true);
                }
                self.path_access(call, new_dirfd, new, Access::Create, false);
            }
            Kind::Chdir => {
                let target = self.path_access(call, None, 0, Access::Search, false);
                if let (Some(dir), true) = (target, call.ret.is_ok()) {
                    self.set_cwd(call.pid, dir);
                }
            }
            Kind::Fchdir => {
                let target = self.fd_access(call, 0, Access::Search);
                if let (Some(dir), true) = (target, call.ret.is_ok()) {
                    self.set_cwd(call.pid, dir);
                }
            }
            Kind::Chroot => {
                let target = self.path_access(call, None, 0, Access::Search, false);
                if call.ret.is_ok() {
                    if let Some(dir) = target.filter(|&d| !self.is_unresolved(d)) {
                        let root = (self.interner.get(dir) != b"/").then_some(dir);
                        if let Some(fs) = self.fs_state(call.pid) {
                            fs.root = root;
                        }
                    }
                    self.namespaced_cap(call, cap::SYS_CHROOT);
                }
            }
            Kind::Exec { dirfd, path, flags } => self.exec(call, dirfd, path, flags),
            Kind::Mmap => self.mmap(call),
            Kind::Mprotect => {
                let prot = call.arg(2).map_or(0, |p| {
                    parse_flags(p, |n| consts::value_of(consts::PROT, n)).0
                });
                if prot & consts::PROT_EXEC != 0 {
                    self.memory(call, MapKind::ExecGain);
                }
            }
            Kind::Shmat => {
                let flags = call.arg(2).map_or(0, |f| {
                    parse_flags(f, |n| consts::value_of(consts::SHM_FLAGS, n)).0
                });
                if flags & consts::SHM_EXEC != 0 {
                    self.memory(call, MapKind::ShmExec);
                }
            }
            Kind::Socket => {
                self.socket(call);
                self.new_fd_from_result(call);
            }
            Kind::Bind => self.address(call, AddressOp::Bind),
            Kind::Connect => self.address(call, AddressOp::Connect),
            Kind::Clone => self.clone_call(call),
            Kind::Unshare => {
                let flags = call.arg(0).map_or(0, clone_flags_value);
                self.namespaces(call, flags);
                if call.ret.is_ok() {
                    if flags & clone::NEWUSER != 0 {
                        if let Some(p) = self.processes.get_mut(&call.pid) {
                            p.own_userns = true;
                        }
                    }
                    self.unshare_tables(call.pid, flags);
                }
            }
            Kind::Setns => self.setns(call),
            Kind::Personality => {
                if let Some(persona) = call.arg(0).and_then(|p| {
                    let (value, unknown) =
                        parse_flags(p, |n| consts::value_of(consts::PERSONALITY, n));
                    (!unknown).then_some(value)
                }) {
                    self.sink
                        .emit(&mut self.interner, Key::Personality(persona));
                }
            }
            Kind::SchedSetScheduler => {
                if let Some(policy) = call.arg(1) {
                    self.realtime(call, policy);
                }
            }
            Kind::SchedSetAttr => {
                if let Some(policy) = call
                    .arg(1)
                    .and_then(braces_body)
                    .and_then(|b| field(b, b"sched_policy"))
                {
                    self.realtime(call, policy);
                }
            }
            Kind::Mount {
                dirfd,
                target,
                cap: mount_cap,
                returns_fd,
            } => self.mount(call, dirfd, target, mount_cap, returns_fd),
            Kind::CapOnSuccess(number) => {
                if call.ret.is_ok() {
                    self.capability(call, number);
                }
            }
            Kind::NamespacedCapOnSuccess(number) => {
                if call.ret.is_ok() {
                    self.namespaced_cap(call, number);
                }
            }
            Kind::AdjTime { arg } => {
                let modes = call
                    .arg(arg)
                    .and_then(braces_body)
                    .and_then(|b| field(b, b"modes"))
                    .map(|m| parse_flags(m, |n| consts::value_of(consts::ADJ_MODES, n)));
                if let (Some((modes, false)), true) = (modes, call.ret.is_ok()) {
                    let writes = if modes & consts::ADJ_ADJTIME != 0 {
                        modes & consts::ADJ_OFFSET_READONLY == 0
                    } else {
                        modes != 0
                    };
                    if writes {
                        self.capability(call, cap::SYS_TIME);
                    }
                }
            }
            Kind::SetId(which) => self.set_ids(call, which),
            Kind::SetGroups => {
                if call.ret.is_ok() {
                    self.namespaced_cap(call, cap::SETGID);
                }
            }
            Kind::GetId(query) => self.observe_ids(call, query),
            Kind::PidProbe => {
                // Names the process of unprefixed lines as soon as it asks for its own pid.
                let named = call.ret.value().and_then(|v| u32::try_from(v).ok());
                if let (SYNTHETIC_PID, Some(pid)) = (call.pid, named) {
                    if pid != SYNTHETIC_PID && !self.processes.contains_key(&pid) {
                        self.rename_synthetic(pid);
                    }
                }
            }
            Kind::Getcwd => {
                if call.ret.is_ok() {
                    let mut raw = std::mem::take(&mut self.raw);
                    if let Some(StrArg::Complete) = call.arg(0).map(|a| parse_string(a, &mut raw)) {
                        if raw.first() == Some(&b'/') {
                            let dir = self.intern_absolute(call.pid, &raw);
                            self.set_cwd(call.pid, dir);
                        }
                    }
                    self.raw = raw;
                }
            }
        }
    }

    // ---------------------------------------------------------------- descriptors and paths

    fn fd_table(&mut self, pid: u32) -> Option<&mut FdTable> {
        let index = self.processes.get(&pid)?.files;
        self.files.get_mut(index)
    }

    fn fs_state(&mut self, pid: u32) -> Option<&mut FsState> {
        let index = self.processes.get(&pid)?.fs;
        self.fs.get_mut(index)
    }

    fn root_of(&self, pid: u32) -> Option<Sym> {
        let index = self.processes.get(&pid)?.fs;
        self.fs.get(index)?.root
    }

    fn set_cwd(&mut self, pid: u32, dir: Sym) {
        if self.is_unresolved(dir) {
            return;
        }
        if let Some(fs) = self.fs_state(pid) {
            fs.cwd = Some(dir);
        }
    }

    fn is_unresolved(&self, sym: Sym) -> bool {
        self.interner.get(sym).starts_with(UNRESOLVED_PREFIX)
    }

    /// Interns an absolute, process-view path, prefixing the process root after a `chroot`.
    fn intern_absolute(&mut self, pid: u32, path: &[u8]) -> Sym {
        let mut joined = std::mem::take(&mut self.joined);
        joined.clear();
        if let Some(root) = self.root_of(pid) {
            joined.extend_from_slice(self.interner.get(root));
        }
        let start = joined.len();
        normalize_into(path, &mut joined);
        if start > 0 && &joined[start..] == b"/" {
            joined.truncate(start);
        }
        let sym = self.interner.intern(&joined);
        self.joined = joined;
        sym
    }

    /// What a `-y` decoration names: a path (interned) or something without one.
    fn decoration_target(&mut self, pid: u32, deco: &[u8]) -> FdTarget {
        if deco.first() != Some(&b'/') {
            return FdTarget::Anonymous;
        }
        // `/dev/null<char 1:3>`: the nested part (`-yy`) describes the device.
        let end = memchr::memchr(b'<', deco).unwrap_or(deco.len());
        let mut buffer = std::mem::take(&mut self.decoration);
        buffer.clear();
        super::lex::unescape(&deco[..end], &mut buffer);
        let path = buffer.strip_suffix(b" (deleted)").unwrap_or(&buffer);
        let target = if path.starts_with(b"/memfd:") {
            FdTarget::Anonymous
        } else {
            FdTarget::Path(self.intern_absolute(pid, path))
        };
        self.decoration = buffer;
        target
    }

    /// Records what `fd` refers to, from its decoration when the log has one.
    fn set_fd(&mut self, pid: u32, fd: i64, deco: Option<&[u8]>) {
        let target = match deco {
            Some(deco) => self.decoration_target(pid, deco),
            None => FdTarget::Anonymous,
        };
        if let Some(table) = self.fd_table(pid) {
            table.insert(fd, target);
        }
    }

    fn new_fd_from_result(&mut self, call: &Call<'_>) {
        if let Ret::Value(fd, deco) = call.ret {
            self.set_fd(call.pid, fd, deco);
        }
    }

    fn dup(&mut self, call: &Call<'_>, old_index: u8) {
        let Ret::Value(new_fd, deco) = call.ret else {
            return;
        };
        let Some(old) = call.arg(old_index) else {
            return;
        };
        let target = match deco {
            Some(deco) => Some(self.decoration_target(call.pid, deco)),
            None => self.fd_lookup(call.pid, old),
        };
        if let (Some(target), Some(table)) = (target, self.fd_table(call.pid)) {
            table.insert(new_fd, target);
        } else if let Some(table) = self.fd_table(call.pid) {
            table.remove(&new_fd);
        }
    }

    /// What an fd argument (`3`, `3</etc>`, `AT_FDCWD</tmp>`) refers to; `-y` decorations win
    /// over the table and refresh it.
    fn fd_lookup(&mut self, pid: u32, text: &[u8]) -> Option<FdTarget> {
        let (number, deco) = split_decoration(text);
        let fd = if number == b"AT_FDCWD" {
            consts::AT_FDCWD
        } else {
            let value = parse_int(number)?;
            // `-X raw` on 32-bit ABIs prints AT_FDCWD as an unsigned 32-bit number.
            if value == 0xffff_ff9c {
                consts::AT_FDCWD
            } else {
                value
            }
        };
        if fd == consts::AT_FDCWD {
            if let Some(deco) = deco {
                let target = self.decoration_target(pid, deco);
                if let FdTarget::Path(dir) = target {
                    self.set_cwd(pid, dir);
                }
                return Some(target);
            }
            let index = self.processes.get(&pid)?.fs;
            return self.fs.get(index)?.cwd.map(FdTarget::Path);
        }
        if let Some(deco) = deco {
            let target = self.decoration_target(pid, deco);
            if let Some(table) = self.fd_table(pid) {
                table.insert(fd, target);
            }
            return Some(target);
        }
        let index = self.processes.get(&pid)?.files;
        self.files.get(index)?.get(&fd).copied()
    }

    /// The label used when a dirfd's path is unknown.
    fn unresolved_base(text: Option<&[u8]>) -> Vec<u8> {
        let number = text.map(|t| split_decoration(t).0);
        match number {
            None | Some(b"AT_FDCWD") => b"<unknown-cwd>".to_vec(),
            Some(n) if parse_int(n) == Some(consts::AT_FDCWD) => b"<unknown-cwd>".to_vec(),
            Some(n) => {
                let mut label = b"<unknown-fd-".to_vec();
                label.extend_from_slice(&n[..n.len().min(24)]);
                label.push(b'>');
                label
            }
        }
    }

    /// Resolves the path argument `path_index` (relative to `dirfd_index`, or the cwd).
    /// `None` when the argument is not a usable string; truncated strings are counted.
    fn resolve_arg(
        &mut self,
        call: &Call<'_>,
        dirfd_index: Option<u8>,
        path_index: u8,
        empty_path_is_fd: bool,
    ) -> Option<Sym> {
        let text = call.arg(path_index)?;
        let mut raw = std::mem::take(&mut self.raw);
        let parsed = parse_string(text, &mut raw);
        let result = match parsed {
            StrArg::NotString => None,
            StrArg::Truncated => {
                self.sink.trace.meta.integrity.paths_truncated += 1;
                None
            }
            StrArg::Complete => self.resolve(
                call.pid,
                dirfd_index.and_then(|i| call.arg(i)),
                &raw,
                empty_path_is_fd,
            ),
        };
        self.raw = raw;
        result
    }

    fn resolve(
        &mut self,
        pid: u32,
        dirfd: Option<&[u8]>,
        raw: &[u8],
        empty_path_is_fd: bool,
    ) -> Option<Sym> {
        if raw.first() == Some(&b'/') {
            return Some(self.intern_absolute(pid, raw));
        }
        if raw.is_empty() && !empty_path_is_fd {
            return None;
        }
        let base = match dirfd {
            Some(text) => self.fd_lookup(pid, text),
            None => {
                let index = self.processes.get(&pid)?.fs;
                self.fs.get(index).and_then(|fs| fs.cwd).map(FdTarget::Path)
            }
        };
        let mut joined = std::mem::take(&mut self.joined);
        joined.clear();
        let sym = match base {
            Some(FdTarget::Path(dir)) => {
                if raw.is_empty() {
                    Some(dir)
                } else {
                    joined.extend_from_slice(self.interner.get(dir));
                    joined.push(b'/');
                    joined.extend_from_slice(raw);
                    let mut normalized = Vec::with_capacity(joined.len());
                    normalize_into(&joined, &mut normalized);
                    Some(self.interner.intern(&normalized))
                }
            }
            Some(FdTarget::Anonymous) => None,
            None if raw.is_empty() => None,
            None => {
                joined.extend_from_slice(&Self::unresolved_base(dirfd));
                // `.` and empty components carry no meaning; `..` has to stay (no base to apply
                // it to).
                for component in raw.split(|&c| c == b'/') {
                    if !component.is_empty() && component != b"." {
                        joined.push(b'/');
                        joined.extend_from_slice(component);
                    }
                }
                Some(self.interner.intern(&joined))
            }
        };
        self.joined = joined;
        sym
    }

    fn file(&mut self, path: Sym, access: Access, errno: Option<Sym>) {
        self.sink
            .emit(&mut self.interner, Key::File(path, access, errno));
    }

    /// A single-path access; returns the resolved path.
    fn path_access(
        &mut self,
        call: &Call<'_>,
        dirfd: Option<u8>,
        path: u8,
        access: Access,
        empty_path_is_fd: bool,
    ) -> Option<Sym> {
        let errno = errno_of(&mut self.interner, &call.ret);
        let raw_is_empty = call.arg(path) == Some(b"\"\"");
        let sym = self.resolve_arg(call, dirfd, path, empty_path_is_fd)?;
        // `fstatat(fd, "", AT_EMPTY_PATH)` is an `fstat`: the file was already reported when opened.
        if raw_is_empty && access == Access::Stat {
            return Some(sym);
        }
        if let Some(errno) = errno {
            self.file(sym, access, errno);
        }
        Some(sym)
    }

    /// An access through an open descriptor; returns its path when known.
    fn fd_access(&mut self, call: &Call<'_>, fd: u8, access: Access) -> Option<Sym> {
        let errno = errno_of(&mut self.interner, &call.ret);
        let text = call.arg(fd)?;
        let FdTarget::Path(sym) = self.fd_lookup(call.pid, text)? else {
            return None;
        };
        if let Some(errno) = errno {
            self.file(sym, access, errno);
        }
        Some(sym)
    }

    fn open_flags(&self, text: &[u8]) -> u64 {
        let table = self.open_flags;
        parse_flags(text, |n| consts::value_of(table, n)).0
    }

    fn open(
        &mut self,
        call: &Call<'_>,
        dirfd: Option<u8>,
        path: u8,
        flags: u64,
        mode: Option<u64>,
    ) {
        let Some(lexical) = self.resolve_arg(call, dirfd, path, false) else {
            self.new_fd_from_result(call);
            return;
        };
        // Success with a `-y` decoration: the kernel's own resolution of the path wins.
        let decorated = match call.ret {
            Ret::Value(_, Some(deco)) => match self.decoration_target(call.pid, deco) {
                FdTarget::Path(sym) => Some(sym),
                FdTarget::Anonymous => None,
            },
            _ => None,
        };
        let sym = decorated.unwrap_or(lexical);
        if let Ret::Value(fd, _) = call.ret {
            if let Some(table) = self.fd_table(call.pid) {
                table.insert(fd, FdTarget::Path(sym));
            }
        }
        let Some(errno) = errno_of(&mut self.interner, &call.ret) else {
            return;
        };
        let directory_bit = consts::value_of(self.open_flags, b"O_DIRECTORY").unwrap_or(0);
        let tmpfile = flags & open::TMPFILE_BIT != 0;
        let mut accesses: [Option<Access>; 3] = [None; 3];
        if flags & open::PATH != 0 {
            accesses[0] = Some(Access::Search);
        } else if tmpfile || flags & open::CREAT != 0 {
            accesses = [Some(Access::Create), Some(Access::Write), None];
        } else {
            let write = flags & open::ACCMODE == open::WRONLY
                || flags & open::ACCMODE == open::RDWR
                || flags & (open::TRUNC | open::APPEND) != 0;
            if write {
                accesses[0] = Some(Access::Write);
            }
            if flags & open::ACCMODE == open::RDWR {
                accesses[1] = Some(Access::Read);
            } else if !write {
                accesses[0] = Some(if flags & directory_bit != 0 && directory_bit != 0 {
                    Access::Search
                } else {
                    Access::Read
                });
            }
        }
        for access in accesses.into_iter().flatten() {
            self.file(sym, access, errno);
        }
        if tmpfile || flags & open::CREAT != 0 {
            if let Some(mode) = mode.filter(|m| m & mode::SETID != 0) {
                let key = Key::SetId(call.syscall, Some(sym), mode_bits(mode), errno);
                self.sink.emit(&mut self.interner, key);
            }
        }
    }

    fn setid_mode(&mut self, call: &Call<'_>, target: Option<Sym>, mode_index: u8) {
        let Some(mode) = call.arg(mode_index).and_then(mode_value) else {
            return;
        };
        if mode & mode::SETID == 0 {
            return;
        }
        let Some(errno) = errno_of(&mut self.interner, &call.ret) else {
            return;
        };
        let key = Key::SetId(call.syscall, target, mode_bits(mode), errno);
        self.sink.emit(&mut self.interner, key);
    }

    fn mknod(&mut self, call: &Call<'_>, dirfd: Option<u8>, path: u8, mode_index: u8) {
        let target = self.path_access(call, dirfd, path, Access::Create, false);
        self.setid_mode(call, target, mode_index);
        let Some(mode) = call.arg(mode_index).and_then(mode_value) else {
            return;
        };
        let kind = match mode & mode::IFMT {
            mode::IFCHR => DeviceKind::Char,
            mode::IFBLK => DeviceKind::Block,
            _ => return,
        };
        let (Some(target), Some(errno)) = (target, errno_of(&mut self.interner, &call.ret)) else {
            return;
        };
        self.sink
            .emit(&mut self.interner, Key::Mknod(target, kind, errno));
        if errno.is_none() {
            self.namespaced_cap(call, cap::MKNOD);
        }
    }

    fn exec(&mut self, call: &Call<'_>, dirfd: Option<u8>, path: u8, _flags: Option<u8>) {
        let Some(sym) = self.resolve_arg(call, dirfd, path, true) else {
            return;
        };
        let Some(errno) = errno_of(&mut self.interner, &call.ret) else {
            return;
        };
        self.file(sym, Access::Exec, errno);
        if errno.is_none() {
            self.sink.emit(&mut self.interner, Key::Exec(sym));
            if let Some(process) = self.processes.get_mut(&call.pid) {
                // A set-id binary may have changed the effective and saved ids; the real ids
                // stay. Exec also gives the process its own descriptor table.
                process.creds.uid.effective = None;
                process.creds.uid.saved = None;
                process.creds.uid.changed = false;
                process.creds.gid.effective = None;
                process.creds.gid.saved = None;
                process.creds.gid.changed = false;
            }
            self.unshare_tables(call.pid, clone::FILES);
        }
    }

    fn mmap(&mut self, call: &Call<'_>) {
        let Some(prot_text) = call.arg(2) else { return };
        let prot = parse_flags(prot_text, |n| consts::value_of(consts::PROT, n)).0;
        if prot & consts::PROT_EXEC == 0 {
            return;
        }
        if prot & consts::PROT_WRITE != 0 {
            self.memory(call, MapKind::WriteExec);
        }
        let Some(fd_text) = call.arg(4) else { return };
        if parse_int(split_decoration(fd_text).0).is_none_or(|fd| fd < 0) {
            return;
        }
        self.fd_access(call, 4, Access::MmapExec);
    }

    fn memory(&mut self, call: &Call<'_>, kind: MapKind) {
        if let Some(errno) = errno_of(&mut self.interner, &call.ret) {
            self.sink
                .emit(&mut self.interner, Key::Memory(kind, call.syscall, errno));
        }
    }

    // ---------------------------------------------------------------- sockets

    fn socket(&mut self, call: &Call<'_>) {
        let (Some(family_text), Some(type_text)) = (call.arg(0), call.arg(1)) else {
            return;
        };
        let Some(errno) = errno_of(&mut self.interner, &call.ret) else {
            return;
        };
        let family = parse_flags(family_text, |n| {
            consts::value_of(consts::ADDRESS_FAMILIES, n)
        });
        let sock_type = parse_flags(type_text, |n| {
            consts::value_of(consts::SOCKET_TYPES, n)
                .or_else(|| consts::value_of(consts::SOCKET_TYPE_FLAGS, n))
        });
        let family_name = named(family, consts::ADDRESS_FAMILIES, family_text);
        let type_name = named(
            (sock_type.0 & consts::SOCKET_TYPE_MASK, sock_type.1),
            consts::SOCKET_TYPES,
            type_text,
        );
        let protocol_text = call.arg(2).unwrap_or(b"0");
        let protocol_name = protocol_name(family.0, protocol_text);
        let family_sym = self.interner.intern(family_name.as_bytes());
        let type_sym = self.interner.intern(type_name.as_bytes());
        let protocol_sym = self.interner.intern(protocol_name.as_bytes());
        self.sink.emit(
            &mut self.interner,
            Key::Socket(family_sym, type_sym, protocol_sym, errno),
        );
        if errno.is_none() && !family.1 {
            let raw_inet = (family.0 == consts::AF_INET || family.0 == consts::AF_INET6)
                && sock_type.0 & consts::SOCKET_TYPE_MASK == consts::SOCK_RAW;
            if family.0 == consts::AF_PACKET || raw_inet {
                self.namespaced_cap(call, cap::NET_RAW);
            }
        }
    }

    fn address(&mut self, call: &Call<'_>, op: AddressOp) {
        let Some(body) = call.arg(1).and_then(braces_body) else {
            return;
        };
        let Some(errno) = errno_of(&mut self.interner, &call.ret) else {
            return;
        };
        let Some(family_text) = field(body, b"sa_family") else {
            return;
        };
        let family = parse_flags(family_text, |n| {
            consts::value_of(consts::ADDRESS_FAMILIES, n)
        });
        if family.1 {
            return;
        }
        let family_name = named(family, consts::ADDRESS_FAMILIES, family_text);
        let address: Option<(Vec<u8>, Option<u16>)> = match family.0 {
            consts::AF_INET => inet_address(body)
                .map(|(ip, port)| (format!("{ip}:{port}").into_bytes(), Some(port))),
            consts::AF_INET6 => inet6_address(body)
                .map(|(ip, port)| (format!("[{ip}]:{port}").into_bytes(), Some(port))),
            consts::AF_UNIX => {
                let Some(path_text) = field(body, b"sun_path") else {
                    return;
                };
                if let Some(abstract_name) = path_text.strip_prefix(b"@") {
                    let mut raw = Vec::new();
                    if parse_string(abstract_name, &mut raw) == StrArg::NotString {
                        return;
                    }
                    let mut label = b"@".to_vec();
                    label.extend_from_slice(&raw);
                    Some((label, None))
                } else {
                    let mut raw = Vec::new();
                    match parse_string(path_text, &mut raw) {
                        StrArg::Complete => {}
                        StrArg::Truncated => {
                            self.sink.trace.meta.integrity.paths_truncated += 1;
                            return;
                        }
                        StrArg::NotString => return,
                    }
                    let Some(sym) = self.resolve(call.pid, None, &raw, false) else {
                        return;
                    };
                    let access = match op {
                        AddressOp::Bind => Access::Create,
                        AddressOp::Connect => Access::Connect,
                    };
                    self.file(sym, access, errno);
                    Some((self.interner.get(sym).to_vec(), None))
                }
            }
            consts::AF_NETLINK => None,
            _ => None,
        };
        let Some((address, port)) = address else {
            return;
        };
        let family_sym = self.interner.intern(family_name.as_bytes());
        let address_sym = self.interner.intern(&address);
        self.sink.emit(
            &mut self.interner,
            Key::Address(op, family_sym, address_sym, errno),
        );
        if op == AddressOp::Bind && errno.is_none() && port.is_some_and(|p| (1..1024).contains(&p))
        {
            self.namespaced_cap(call, cap::NET_BIND_SERVICE);
        }
    }

    // ---------------------------------------------------------------- processes and namespaces

    fn clone_call(&mut self, call: &Call<'_>) {
        let flags = clone_flags_of_args(call.args);
        self.namespaces(call, flags);
        let Ret::Value(child, _) = call.ret else {
            return;
        };
        let Ok(child) = u32::try_from(child) else {
            return;
        };
        if child == 0 {
            return;
        }
        let Some(parent) = self.processes.get(&call.pid).cloned() else {
            return;
        };
        match self.processes.get(&child).cloned() {
            Some(existing) if !existing.inherited => {
                // The child's first lines came before this result: fill in what it inherited.
                let parent_fs = self.fs.get(parent.fs).cloned().unwrap_or_default();
                let parent_files = self.files.get(parent.files).cloned().unwrap_or_default();
                if let Some(fs) = self.fs.get_mut(existing.fs) {
                    if fs.cwd.is_none() {
                        fs.cwd = parent_fs.cwd;
                    }
                    if fs.root.is_none() {
                        fs.root = parent_fs.root;
                    }
                }
                if let Some(table) = self.files.get_mut(existing.files) {
                    for (fd, target) in parent_files {
                        table.entry(fd).or_insert(target);
                    }
                }
                if let Some(p) = self.processes.get_mut(&child) {
                    p.inherited = true;
                    if p.creds == Creds::default() {
                        p.creds = parent.creds;
                    }
                    p.own_userns |= parent.own_userns || flags & clone::NEWUSER != 0;
                }
            }
            Some(_) => {}
            None => {
                let process = self.child_of(&parent, flags);
                self.insert_process(child, process);
            }
        }
    }

    fn namespaces(&mut self, call: &Call<'_>, flags: u64) {
        if flags & clone::NEW_ANY == 0 {
            return;
        }
        let Some(errno) = errno_of(&mut self.interner, &call.ret) else {
            return;
        };
        for kind in Namespace::from_clone_flags(flags) {
            self.sink.emit(
                &mut self.interner,
                Key::Namespace(call.syscall, kind, errno),
            );
        }
        let creates_non_user = flags & clone::NEW_ANY & !clone::NEWUSER != 0;
        if errno.is_none() && creates_non_user && flags & clone::NEWUSER == 0 {
            self.namespaced_cap(call, cap::SYS_ADMIN);
        }
    }

    fn unshare_tables(&mut self, pid: u32, flags: u64) {
        let Some(process) = self.processes.get(&pid).cloned() else {
            return;
        };
        let mut updated = process;
        if flags & clone::FS != 0 {
            let copy = self.fs.copy(updated.fs);
            self.fs.release(updated.fs);
            updated.fs = copy;
        }
        if flags & clone::FILES != 0 {
            let copy = self.files.copy(updated.files);
            self.files.release(updated.files);
            updated.files = copy;
        }
        self.processes.insert(pid, updated);
    }

    fn setns(&mut self, call: &Call<'_>) {
        let nstype = call.arg(1).map_or(0, clone_flags_value);
        let flags = if nstype != 0 {
            nstype
        } else {
            // `setns(fd, 0)`: the kind comes from what the fd is (`net:[4026531840]` or
            // `/proc/1/ns/net`).
            let deco = call.arg(0).and_then(|a| split_decoration(a).1);
            deco.and_then(ns_kind_of_decoration).unwrap_or(0)
        };
        if flags == 0 {
            return;
        }
        let Some(errno) = errno_of(&mut self.interner, &call.ret) else {
            return;
        };
        for kind in Namespace::from_clone_flags(flags) {
            self.sink.emit(
                &mut self.interner,
                Key::Namespace(call.syscall, kind, errno),
            );
        }
        if errno.is_none() && flags & clone::NEWUSER != 0 {
            if let Some(p) = self.processes.get_mut(&call.pid) {
                p.own_userns = true;
            }
        }
    }

    fn realtime(&mut self, call: &Call<'_>, policy_text: &[u8]) {
        // A request that failed changed nothing: `RestrictRealtime=` would not break it.
        if !call.ret.is_ok() {
            return;
        }
        let (value, unknown) =
            parse_flags(policy_text, |n| consts::value_of(consts::SCHED_POLICIES, n));
        let policy = value & !consts::SCHED_RESET_ON_FORK;
        if unknown || !consts::is_realtime_policy(policy) {
            return;
        }
        let Some(name) = consts::name_of(consts::SCHED_POLICIES, policy) else {
            return;
        };
        let policy_sym = self.interner.intern(name.as_bytes());
        self.sink
            .emit(&mut self.interner, Key::Realtime(call.syscall, policy_sym));
    }

    fn mount(
        &mut self,
        call: &Call<'_>,
        dirfd: Option<u8>,
        target: Option<u8>,
        mount_cap: MountCap,
        returns_fd: bool,
    ) {
        let target_sym = target.and_then(|t| self.resolve_arg(call, dirfd, t, true));
        if returns_fd {
            self.new_fd_from_result(call);
        }
        let Some(errno) = errno_of(&mut self.interner, &call.ret) else {
            return;
        };
        self.sink.emit(
            &mut self.interner,
            Key::Mount(call.syscall, target_sym, errno),
        );
        if errno.is_some() {
            return;
        }
        let needs_cap = match mount_cap {
            MountCap::Always => true,
            MountCap::Never => false,
            MountCap::WhenCloneFlag { flags } => call.arg(flags).is_some_and(|f| {
                parse_flags(f, |n| consts::value_of(consts::OPEN_TREE_FLAGS, n)).0
                    & consts::OPEN_TREE_CLONE
                    != 0
            }),
        };
        if needs_cap {
            self.namespaced_cap(call, cap::SYS_ADMIN);
        }
    }

    // ---------------------------------------------------------------- capabilities and ids

    fn capability(&mut self, call: &Call<'_>, number: u8) {
        self.sink
            .emit(&mut self.interner, Key::Capability(number, call.syscall));
    }

    /// Capabilities that a process in a user namespace of its own holds there, not on the host.
    fn namespaced_cap(&mut self, call: &Call<'_>, number: u8) {
        if self.processes.get(&call.pid).is_some_and(|p| p.own_userns) {
            return;
        }
        self.capability(call, number);
    }

    fn observe_ids(&mut self, call: &Call<'_>, query: IdQuery) {
        let Some(process) = self.processes.get_mut(&call.pid) else {
            return;
        };
        match query {
            IdQuery::Real { gid } | IdQuery::Effective { gid } => {
                let Some(value) = call.ret.value().and_then(|v| u32::try_from(v).ok()) else {
                    return;
                };
                let ids = if gid {
                    &mut process.creds.gid
                } else {
                    &mut process.creds.uid
                };
                if matches!(query, IdQuery::Real { .. }) {
                    ids.real = Some(value);
                } else {
                    ids.effective = Some(value);
                }
            }
            IdQuery::All { gid } => {
                if !call.ret.is_ok() {
                    return;
                }
                let value = |i: u8| {
                    call.arg(i)
                        .and_then(|a| a.strip_prefix(b"[")?.strip_suffix(b"]"))
                        .and_then(parse_int)
                        .and_then(|v| u32::try_from(v).ok())
                };
                let ids = if gid {
                    &mut process.creds.gid
                } else {
                    &mut process.creds.uid
                };
                ids.real = value(0).or(ids.real);
                ids.effective = value(1).or(ids.effective);
                ids.saved = value(2).or(ids.saved);
            }
        }
    }

    fn set_ids(&mut self, call: &Call<'_>, which: IdCall) {
        if !call.ret.is_ok() {
            return;
        }
        let Some(process) = self.processes.get(&call.pid).cloned() else {
            return;
        };
        let gid = match which {
            IdCall::Set { gid } | IdCall::SetRe { gid } | IdCall::SetRes { gid } => gid,
        };
        let requested: Vec<Option<u32>> = (0..3u8)
            .map_while(|i| call.arg(i).map(id_arg))
            .map(|v| v.unwrap_or(None))
            .collect();
        let current = process.creds.resolved(gid);
        let root = process.creds.is_root();
        let needed = current.map(|[real, effective, saved]| {
            let allowed_any =
                |v: &Option<u32>, allowed: &[u32]| v.is_none_or(|v| allowed.contains(&v));
            match which {
                IdCall::Set { .. } => {
                    !allowed_any(requested.first().unwrap_or(&None), &[real, saved])
                }
                IdCall::SetRe { .. } => {
                    !allowed_any(requested.first().unwrap_or(&None), &[real, effective])
                        || !allowed_any(
                            requested.get(1).unwrap_or(&None),
                            &[real, effective, saved],
                        )
                }
                IdCall::SetRes { .. } => !requested
                    .iter()
                    .all(|v| allowed_any(v, &[real, effective, saved])),
            }
        });
        if needed == Some(true) {
            self.namespaced_cap(call, if gid { cap::SETGID } else { cap::SETUID });
        }
        // Replay the change so later calls are judged against the new ids.
        let Some(process) = self.processes.get_mut(&call.pid) else {
            return;
        };
        let ids = if gid {
            &mut process.creds.gid
        } else {
            &mut process.creds.uid
        };
        let old_real = ids.real;
        match which {
            IdCall::Set { .. } => {
                if let Some(Some(v)) = requested.first() {
                    if root || needed == Some(true) {
                        ids.real = Some(*v);
                        ids.saved = Some(*v);
                    }
                    ids.effective = Some(*v);
                }
            }
            IdCall::SetRe { .. } => {
                let r = requested.first().copied().flatten();
                let e = requested.get(1).copied().flatten();
                if let Some(r) = r {
                    ids.real = Some(r);
                }
                if let Some(e) = e {
                    ids.effective = Some(e);
                }
                if r.is_some() || e.is_some_and(|e| Some(e) != old_real) {
                    ids.saved = ids.effective;
                }
            }
            IdCall::SetRes { .. } => {
                if let Some(Some(v)) = requested.first() {
                    ids.real = Some(*v);
                }
                if let Some(Some(v)) = requested.get(1) {
                    ids.effective = Some(*v);
                }
                if let Some(Some(v)) = requested.get(2) {
                    ids.saved = Some(*v);
                }
            }
        }
        ids.changed = true;
    }
}

/// A parsed call.
struct Call<'a> {
    pid: u32,
    syscall: Sym,
    args: &'a [&'a [u8]],
    ret: Ret<'a>,
}

impl<'a> Call<'a> {
    fn arg(&self, index: u8) -> Option<&'a [u8]> {
        arg(self.args, index)
    }

    fn int(&self, index: u8) -> Option<i64> {
        parse_int(self.arg(index)?)
    }
}

/// True when `body` (after the opening parenthesis) ends in `) = ...` at some ` = `.
fn has_return(body: &[u8]) -> bool {
    let finder = memchr::memmem::find_iter(body, b"= ");
    for at in finder {
        let before = trim(&body[..at]);
        if before.last() == Some(&b')') {
            return true;
        }
    }
    // `exit_group(0) = ?` has `= ?`, which the search above finds; a bare `=` at the end is
    // how strace leaves a call whose result it never saw.
    false
}

/// Resolves `syscall_0x1c8` / `syscall_456` through the native table; `None` if not that form.
fn canonical_unknown_syscall(name: &str, native: Option<Abi>) -> Option<String> {
    let number = name.strip_prefix("syscall_")?;
    let value = parse_unsigned(number.as_bytes())
        .or_else(|| number.parse::<u64>().ok())
        .and_then(|v| u32::try_from(v).ok())?;
    let resolved = native.and_then(|abi| crate::tables::syscalls::name(abi, value));
    Some(match resolved {
        Some(real) => real.to_owned(),
        None => format!("syscall_{value}"),
    })
}

fn mode_value(text: &[u8]) -> Option<u64> {
    let (value, unknown) = parse_flags(text, |n| consts::value_of(consts::MODE, n));
    (!unknown).then_some(value)
}

fn mode_bits(mode: u64) -> u32 {
    u32::try_from(mode & 0o7777).unwrap_or(0)
}

fn clone_flags_value(text: &[u8]) -> u64 {
    parse_flags(text, |n| consts::value_of(consts::CLONE_FLAGS, n)).0
}

/// `flags=` of `clone(...)` or `clone3({flags=...}, size)`; 0 for `fork`/`vfork`.
fn clone_flags_of_args(args: &[&[u8]]) -> u64 {
    for a in args {
        if let Some(v) = a.strip_prefix(b"flags=") {
            return clone_flags_value(v);
        }
        if let Some(body) = braces_body(a) {
            if let Some(v) = field(body, b"flags") {
                return clone_flags_value(v);
            }
        }
    }
    0
}

/// `flags=` inside the text of an unfinished clone call.
fn clone_flags_in(text: &[u8]) -> u64 {
    let Some(at) = memchr::memmem::find(text, b"flags=") else {
        return 0;
    };
    let value = &text[at + b"flags=".len()..];
    let end = value
        .iter()
        .position(|&c| c == b',' || c == b'}' || c == b')')
        .unwrap_or(value.len());
    clone_flags_value(&value[..end])
}

fn ns_kind_of_decoration(deco: &[u8]) -> Option<u64> {
    let name = if let Some(bracket) = memchr::memmem::find(deco, b":[") {
        &deco[..bracket]
    } else {
        let slash = memchr::memrchr(b'/', deco)?;
        &deco[slash + 1..]
    };
    consts::NS_FILE_NAMES
        .iter()
        .find(|(n, _)| n.as_bytes() == name)
        .map(|&(_, v)| v)
}

/// The name strace uses for a parsed value, or the text as written when the value is unnamed.
fn named(parsed: (u64, bool), table: consts::Table, text: &[u8]) -> String {
    if !parsed.1 {
        if let Some(name) = consts::name_of(table, parsed.0) {
            return name.to_owned();
        }
    }
    let text = strip_comment(text);
    // `SOCK_STREAM|SOCK_CLOEXEC` with an unknown part: keep the first token only.
    let first = text.split(|&c| c == b'|').next().unwrap_or(text);
    String::from_utf8_lossy(first).into_owned()
}

fn protocol_name(family: u64, text: &[u8]) -> String {
    let table = match family {
        consts::AF_INET | consts::AF_INET6 => Some(consts::IP_PROTOCOLS),
        consts::AF_NETLINK => Some(consts::NETLINK_PROTOCOLS),
        _ => None,
    };
    if let Some(table) = table {
        let (value, unknown) = parse_flags(strip_comment(text), |n| consts::value_of(table, n));
        if !unknown {
            if let Some(name) = consts::name_of(table, value) {
                return name.to_owned();
            }
        }
    }
    // `htons(0 /* ETH_P_??? */)` and plain numbers: drop comments, keep the rest.
    let mut cleaned = Vec::with_capacity(text.len());
    let mut i = 0;
    while i < text.len() {
        if text[i..].starts_with(b"/*") {
            match memchr::memmem::find(&text[i..], b"*/") {
                Some(off) => i += off + 2,
                None => break,
            }
            while cleaned.last() == Some(&b' ') {
                cleaned.pop();
            }
            continue;
        }
        cleaned.push(text[i]);
        i += 1;
    }
    String::from_utf8_lossy(trim(&cleaned)).into_owned()
}

/// `htons(80)`, `"\x00\x50"` (raw) → port.
fn port_of(text: &[u8]) -> Option<u16> {
    let text = strip_comment(text);
    if let Some(inner) = text
        .strip_prefix(b"htons(")
        .and_then(|t| t.strip_suffix(b")"))
    {
        return parse_int(inner).and_then(|v| u16::try_from(v).ok());
    }
    let mut raw = Vec::new();
    if parse_string(text, &mut raw) == StrArg::Complete && raw.len() == 2 {
        return Some(u16::from_be_bytes([raw[0], raw[1]]));
    }
    parse_int(text).and_then(|v| u16::try_from(v).ok())
}

fn inet_address(body: &[u8]) -> Option<(std::net::Ipv4Addr, u16)> {
    let port = port_of(field(body, b"sin_port")?)?;
    let addr_text = strip_comment(field(body, b"sin_addr")?);
    let mut raw = Vec::new();
    let ip = if let Some(inner) = addr_text
        .strip_prefix(b"inet_addr(")
        .and_then(|t| t.strip_suffix(b")"))
    {
        parse_string(inner, &mut raw);
        std::str::from_utf8(&raw).ok()?.parse().ok()?
    } else if parse_string(addr_text, &mut raw) == StrArg::Complete && raw.len() == 4 {
        std::net::Ipv4Addr::new(raw[0], raw[1], raw[2], raw[3])
    } else {
        return None;
    };
    Some((ip, port))
}

fn inet6_address(body: &[u8]) -> Option<(std::net::Ipv6Addr, u16)> {
    let port = port_of(field(body, b"sin6_port")?)?;
    let mut raw = Vec::new();
    // `inet_pton(AF_INET6, "::1", &sin6_addr)` is a positional element, not `key=value`.
    let pton = Elements::new(body, b'}').find(|e| e.starts_with(b"inet_pton("));
    let ip = if let Some(pton) = pton {
        let inner = pton.strip_prefix(b"inet_pton(")?;
        let text = Elements::new(inner, b')').nth(1)?;
        parse_string(text, &mut raw);
        std::str::from_utf8(&raw).ok()?.parse().ok()?
    } else {
        let text = strip_comment(field(body, b"sin6_addr")?);
        if parse_string(text, &mut raw) != StrArg::Complete || raw.len() != 16 {
            return None;
        }
        let mut octets = [0u8; 16];
        octets.copy_from_slice(&raw);
        std::net::Ipv6Addr::from(octets)
    };
    Some((ip, port))
}
