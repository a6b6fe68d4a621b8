//! strace log import: replays `strace -f` / `-ff -o PREFIX` logs into the event vocabulary.
//!
//! # Accepted input
//!
//! Lines as strace writes them with any mix of `-f`/`-ff`, `-t`/`-tt`/`-ttt`/`-r`, `-T`, `-i`,
//! `-n`, `-y`/`-yy`, `-s N` and `-X raw|abbrev|verbose`; `<unfinished ...>`/`<... resumed>`
//! pairs (joined per pid); signal (`--- SIG... ---`), exit (`+++ ... +++`) and personality
//! (`[ Process PID=N runs in 32 bit mode. ]`) lines; `syscall_0x1c8(...)` for numbers strace has
//! no name for (resolved through [`crate::tables::syscalls`], else recorded as `syscall_N`).
//! Lines that are none of these are counted in `integrity.lines_unparsed` and the first five are
//! kept as samples; lines longer than [`MAX_LINE_BYTES`] are skipped and counted the same way.
//!
//! # Paths
//!
//! Relative paths are made absolute through the per-process cwd and fd table replayed from the
//! log (`chdir`, `fchdir`, `open*` results, `dup*`, `-y` decorations such as `AT_FDCWD</srv>` or
//! `3</etc>`; children inherit or share them per `CLONE_FS`/`CLONE_FILES`). When a successful
//! open carries a `-y` decoration, the decorated path (the kernel's resolution, symlinks
//! followed) is reported instead of the lexical one. Otherwise `.` and `..` are applied
//! lexically. A relative path whose base is unknown is kept as written behind a label that can
//! never be mistaken for an absolute path — `<unknown-cwd>/etc/x` or `<unknown-fd-3>/x` — and
//! counted once per distinct path in `integrity.paths_unresolved`. Non-UTF-8 paths are stored
//! lossily and counted in `paths_lossy`; strings cut by `-s` (`"..."...`) are not reported and
//! are counted in `paths_truncated`. After a successful `chroot`, paths are reported as host
//! paths (prefixed with the new root).
//!
//! # Events
//!
//! Every call records its name for the pid's ABI, failed or not. File accesses carry `ok` or the
//! errno name; calls whose result strace never saw (`= ?`) record no file event.
//! `open*`/`creat`: `O_PATH` or read-only `O_DIRECTORY` → Search; `O_CREAT`/`O_TMPFILE` →
//! Create + Write; write access, `O_TRUNC` or `O_APPEND` → Write; `O_RDWR` → Read + Write;
//! otherwise Read. The stat family, `access*`, `readlink*`, `*getxattr`, `statfs` → Stat (an
//! `AT_EMPTY_PATH` stat of an fd records nothing: the open already did); `unlink*`, `rmdir` →
//! Delete; `rename*` → Delete (old) + Rename (new); `mkdir*`, `mknod*`, `symlink*`, `link*`, and
//! AF_UNIX `bind` → Create; `chmod`/`chown` family → Chattr; `truncate`, `utime*`, `*setxattr`
//! → Write; `chdir`/`fchdir`/`chroot` → Search; `execve*` → Exec (+ `Event::Exec` on success,
//! interpreter unknown); `mmap` with `PROT_EXEC` of an fd → MmapExec; AF_UNIX `connect` →
//! Connect. `personality` records every argument (queries included); realtime scheduling is
//! recorded only when the request succeeded (a refused one changed nothing). Namespaces come from
//! `clone`/`clone3`/`unshare` flags and from `setns` (its `nstype`, or the fd's `-y` name).
//!
//! # Capabilities (all `CapOrigin::Inferred`, only from successful calls)
//!
//! - `CAP_NET_BIND_SERVICE`: `bind` of AF_INET/AF_INET6 to port 1–1023 (the log cannot show a
//!   lowered `net.ipv4.ip_unprivileged_port_start`).
//! - `CAP_NET_RAW`: `socket(AF_PACKET, …)`, `socket(AF_INET/AF_INET6, SOCK_RAW, …)`.
//! - `CAP_SYS_MODULE`: `init_module`, `finit_module`, `delete_module`.
//! - `CAP_SYS_ADMIN`: `mount`, `umount*`, `pivot_root`, `move_mount`, `mount_setattr`, `fsopen`,
//!   `fsmount`, `fspick`, cloning `open_tree`; `swapon`/`swapoff`; `sethostname`/`setdomainname`;
//!   `clone`/`clone3`/`unshare` creating a namespace other than a user namespace without also
//!   creating a user namespace.
//! - `CAP_SYS_CHROOT`: `chroot`. `CAP_SYS_BOOT`: `reboot`, `kexec_*`. `CAP_SYS_PACCT`: `acct`.
//!   `CAP_SYS_RAWIO`: `iopl`, `ioperm`. `CAP_SYS_TTY_CONFIG`: `vhangup`.
//! - `CAP_SYS_TIME`: `settimeofday`, `stime`, `clock_settime`; `adjtimex`/`clock_adjtime` whose
//!   `modes` write (not 0, not `ADJ_OFFSET_SS_READ`).
//! - `CAP_MKNOD`: `mknod`/`mknodat` of `S_IFCHR`/`S_IFBLK`.
//! - `CAP_SETGID`: every `setgroups`.
//! - `CAP_SETUID`/`CAP_SETGID`: `set[re|res]uid`/`set[re|res]gid` when a requested id is outside
//!   what an unprivileged caller may pick (`setuid`: real or saved; `setreuid`: real ← real or
//!   effective, effective ← any of the three; `setresuid`: any of the three), judged against the
//!   ids the log showed (`getuid`, `geteuid`, `getresuid`, … results, replayed through earlier
//!   `set*id` calls). A process is root when one of those returned 0. Unobserved ids of a root
//!   process are taken to be 0; a saved id is taken to equal the effective id until a `set*id`
//!   call is seen; an `execve` forgets the effective and saved ids (a set-id binary may change
//!   them). When an id stays unknown, nothing is inferred.
//!
//! Not inferred: `setfsuid`/`setfsgid` (they report no failure), DAC overrides, `CAP_KILL`,
//! `CAP_CHOWN`/`CAP_FOWNER` (they need file ownership the log does not show), `setns`
//! (ownership of the target namespace is unknown), and anything a process did after creating
//! its own user namespace (its capabilities there are not the unit's).
//!
//! # ABIs
//!
//! Each pid starts with the native ABI of `arch`; strace's personality notes switch it (32-bit
//! → `i386` on x86_64, `x32`, `64 bit` → native). strace writes those notes to stderr, so logs
//! written with `-o` do not have them, and 32-bit calls in such logs are recorded as native.
//!
//! # Pids
//!
//! `-f -o` lines start with the pid and `-f` to stderr uses `[pid N]`, except while a single
//! process is traced; such unprefixed lines go to the only live process, else to the process of
//! the previous unprefixed line, else to a placeholder named as soon as the log shows its pid. A
//! pid first seen while exactly one process is inside an unfinished `clone`/`fork` is taken as
//! that call's child (strace often prints the child before the parent's result).
//!
//! # `-ff` logs
//!
//! Feed the files of one `-ff` run in ascending pid order (see [`pid_from_ff_name`]), so that a
//! parent's `clone` is replayed before its child's file and the child inherits the cwd and fds.
//! State carries over between `-ff` feeds; a log fed without a pid hint (`strace -f`) starts
//! from a clean process table.

mod consts;
mod engine;
mod kinds;
mod lex;
mod sink;
mod state;
#[cfg(test)]
mod tests;

use crate::trace::{Backend, Target, Trace};
use engine::{Engine, FeedContext};
use std::io::BufRead;

/// Lines longer than this are not parsed (and not kept in memory); they count as unparsed.
pub const MAX_LINE_BYTES: usize = 1 << 20;
/// How many unparsed lines are kept as samples.
pub const MAX_SAMPLES: usize = 5;
/// How much of an unparsed line a sample keeps.
const SAMPLE_CHARS: usize = 200;
/// How much of the input is checked for binary data.
const SNIFF_BYTES: usize = 1024;

/// Errors that stop an import. Lines that do not parse are not errors: they are counted.
#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    #[error("cannot read {name}: {error}")]
    Io {
        name: String,
        #[source]
        error: std::io::Error,
    },
    #[error("{name} does not look like an strace log (binary data in its first KiB)")]
    NotText { name: String },
}

/// What the import saw, for the user.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ImportReport {
    /// Lines read, over all feeds.
    pub lines: u64,
    /// Lines that could not be parsed (also in `integrity.lines_unparsed`).
    pub unparsed: u64,
    /// The first few (at most [`MAX_SAMPLES`]) unparsed lines: (source, line number, text).
    pub samples: Vec<(String, u64, String)>,
    /// One-line remarks about evidence the trace could not hold.
    pub notes: Vec<String>,
}

/// Imports strace logs into a [`Trace`].
pub struct StraceImporter {
    engine: Engine,
    report: ImportReport,
    sources: Vec<String>,
    /// Whether the previous feed was part of a `-ff` set (it had a pid hint).
    previous_had_hint: bool,
    /// A line that strace interrupted with its own `strace: Process N attached` message.
    interrupted: Option<Vec<u8>>,
}

/// Counts and samples unparsed lines.
struct Unparsed<'a> {
    report: &'a mut ImportReport,
    source: &'a str,
}

impl Unparsed<'_> {
    fn add(&mut self, line_number: u64, text: &[u8]) {
        self.report.unparsed += 1;
        if self.report.samples.len() < MAX_SAMPLES {
            let text = String::from_utf8_lossy(text);
            let mut sample: String = text.chars().take(SAMPLE_CHARS).collect();
            if sample.len() < text.len() {
                sample.push('…');
            }
            self.report
                .samples
                .push((self.source.to_owned(), line_number, sample));
        }
    }
}

fn looks_binary(head: &[u8]) -> bool {
    let head = &head[..head.len().min(SNIFF_BYTES)];
    if head.contains(&0) {
        return true;
    }
    let control = head
        .iter()
        .filter(|&&c| (c < 0x20 && c != b'\n' && c != b'\t' && c != b'\r') || c == 0x7f)
        .count();
    control * 8 > head.len()
}

impl StraceImporter {
    /// `arch` is `uname -m` of the host that produced the log (decides the native ABI).
    pub fn new(arch: &str) -> Self {
        StraceImporter {
            engine: Engine::new(arch),
            report: ImportReport::default(),
            sources: Vec::new(),
            previous_had_hint: false,
            interrupted: None,
        }
    }

    /// Feeds one log. `pid_hint` is the pid from a `-ff -o PREFIX` file name (PREFIX.1234),
    /// whose lines carry no pid.
    pub fn feed(
        &mut self,
        source: &str,
        mut input: impl BufRead,
        pid_hint: Option<u32>,
    ) -> Result<(), ImportError> {
        if pid_hint.is_none() || !self.previous_had_hint {
            self.engine.reset_processes();
        }
        self.previous_had_hint = pid_hint.is_some();
        self.interrupted = None;
        self.sources.push(source.to_owned());
        let ctx = FeedContext { pid_hint };
        let io_error = |error| ImportError::Io {
            name: source.to_owned(),
            error,
        };
        let mut carry: Vec<u8> = Vec::new();
        let mut overlong = false;
        let mut line_number = 0u64;
        let mut sniffed = false;
        loop {
            let buffer = match input.fill_buf() {
                Ok(buffer) => buffer,
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(io_error(e)),
            };
            if buffer.is_empty() {
                break;
            }
            if !sniffed {
                sniffed = true;
                if looks_binary(buffer) {
                    return Err(ImportError::NotText {
                        name: source.to_owned(),
                    });
                }
            }
            let length = buffer.len();
            let mut start = 0;
            while let Some(offset) = memchr::memchr(b'\n', &buffer[start..]) {
                let end = start + offset;
                line_number += 1;
                if overlong {
                    overlong = false;
                } else if carry.is_empty() {
                    self.handle(source, line_number, &buffer[start..end], ctx);
                } else if carry.len() + (end - start) > MAX_LINE_BYTES {
                    self.overlong(source, line_number, &carry);
                    carry.clear();
                } else {
                    carry.extend_from_slice(&buffer[start..end]);
                    self.handle(source, line_number, &carry, ctx);
                    carry.clear();
                }
                start = end + 1;
            }
            if !overlong && start < length {
                if carry.len() + (length - start) > MAX_LINE_BYTES {
                    carry.extend_from_slice(&buffer[start..length.min(start + SAMPLE_CHARS * 4)]);
                    self.overlong(source, line_number + 1, &carry);
                    carry.clear();
                    overlong = true;
                } else {
                    carry.extend_from_slice(&buffer[start..]);
                }
            }
            input.consume(length);
        }
        if overlong {
            line_number += 1;
        } else if !carry.is_empty() {
            line_number += 1;
            self.handle(source, line_number, &carry, ctx);
        }
        if let Some(head) = self.interrupted.take() {
            Unparsed {
                report: &mut self.report,
                source,
            }
            .add(line_number, &head);
        }
        self.report.lines += line_number;
        self.engine.flush_all();
        Ok(())
    }

    fn overlong(&mut self, source: &str, line_number: u64, head: &[u8]) {
        Unparsed {
            report: &mut self.report,
            source,
        }
        .add(line_number, head);
    }

    fn handle(&mut self, source: &str, line_number: u64, line: &[u8], ctx: FeedContext) {
        if let Some(mut head) = self.interrupted.take() {
            head.extend_from_slice(line);
            return self.handle_whole(source, line_number, &head, ctx);
        }
        self.handle_whole(source, line_number, line, ctx);
    }

    fn handle_whole(&mut self, source: &str, line_number: u64, line: &[u8], ctx: FeedContext) {
        if self.engine.line(line, ctx).is_ok() {
            return;
        }
        // strace to stderr can cut a call in two with its own notice:
        // `vfork(strace: Process 5394 attached` + ` <unfinished ...>` on the next line.
        if let Some(at) = memchr::memmem::find(line, b"strace: Process ") {
            if at > 0 && (line.ends_with(b" attached") || line.ends_with(b" detached")) {
                self.interrupted = Some(line[..at].to_vec());
                return;
            }
        }
        Unparsed {
            report: &mut self.report,
            source,
        }
        .add(line_number, line);
    }

    /// Finishes: the aggregated Trace (meta.backends = {StraceImport}, integrity counters
    /// filled) and a report.
    pub fn finish(mut self) -> (Trace, ImportReport) {
        self.engine.flush_all();
        let counters = self.engine.sink.counters;
        let span = self.engine.time_span;
        let mut report = self.report;
        report.notes.extend(std::mem::take(&mut self.engine.notes));
        let mut trace = self.engine.sink.trace;
        let meta = &mut trace.meta;
        meta.backends.insert(Backend::StraceImport);
        if !self.sources.is_empty() {
            meta.targets.insert(Target::StraceLog(self.sources));
        }
        meta.integrity.lines_unparsed += report.unparsed;
        meta.integrity.paths_lossy += counters.lossy;
        meta.integrity.paths_unresolved += counters.unresolved;
        if let Some((start, end)) = span {
            meta.start = Some(crate::trace::rfc3339(start.0));
            meta.end = Some(crate::trace::rfc3339(end.0 + u64::from(end.1 > 0)));
        }
        (trace, report)
    }
}

/// `log.1234` → `Some(1234)`: the pid strace appends to `-ff -o PREFIX` file names.
pub fn pid_from_ff_name(path: &str) -> Option<u32> {
    let file_name = path.rsplit('/').next().unwrap_or(path);
    let (_, suffix) = file_name.rsplit_once('.')?;
    if suffix.is_empty() || !suffix.bytes().all(|c| c.is_ascii_digit()) {
        return None;
    }
    suffix.parse().ok()
}

/// Helpers for measuring import throughput (used by the benchmark; no I/O, no clock).
pub mod bench_support {
    use super::{ImportReport, StraceImporter};
    use crate::trace::Trace;

    /// Imports one in-memory `strace -f` log.
    pub fn import_bytes(log: &[u8], arch: &str) -> (Trace, ImportReport) {
        let mut importer = StraceImporter::new(arch);
        // Reading from a slice cannot fail, and the benchmark logs are text.
        let _ = importer.feed("bench", log, None);
        importer.finish()
    }
}
