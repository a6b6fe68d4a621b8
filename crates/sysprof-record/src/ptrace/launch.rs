//! Starting a command under the tracer: fork, seize, install the seccomp filter, exec.
//!
//! The order matters: a `SECCOMP_RET_TRACE` filter without a tracer that set
//! `PTRACE_O_TRACESECCOMP` fails every syscall with ENOSYS, so the child waits on a pipe until the
//! parent has seized it, and only then installs the filter and execs.

use super::PtraceError;
use nix::errno::Errno;
use nix::sys::ptrace::{self, Options};
use nix::unistd::{fork, ForkResult, Pid};
use std::ffi::{CString, OsStr, OsString};
use std::os::fd::{AsRawFd, OwnedFd};
use std::os::unix::ffi::{OsStrExt, OsStringExt};
use std::path::{Path, PathBuf};

/// Options for launched commands: everything strace -f follows, our seccomp stops, and
/// EXITKILL so the command dies with sysprof rather than run on with a filter nobody serves.
pub fn launch_options() -> Options {
    Options::PTRACE_O_TRACESYSGOOD
        | Options::PTRACE_O_TRACEFORK
        | Options::PTRACE_O_TRACEVFORK
        | Options::PTRACE_O_TRACECLONE
        | Options::PTRACE_O_TRACEEXEC
        | Options::PTRACE_O_TRACEEXIT
        | Options::PTRACE_O_TRACESECCOMP
        | Options::PTRACE_O_EXITKILL
}

/// A launched, seized child that has been told to exec.
pub struct Launched {
    pub pid: i32,
    /// Read end of the pipe the child reports a failed exec on (closed by a successful exec).
    exec_error: OwnedFd,
}

impl Launched {
    /// After the child exited: why its exec failed, if it did.
    pub fn exec_failure(&self, program: &Path) -> Option<PtraceError> {
        let mut report = [0u8; 5];
        let n = nix::unistd::read(&self.exec_error, &mut report).ok()?;
        if n != report.len() {
            return None;
        }
        let errno = Errno::from_raw(i32::from_ne_bytes([
            report[1], report[2], report[3], report[4],
        ]));
        let program = program.display().to_string();
        Some(match report[0] {
            STAGE_SECCOMP => PtraceError::Seccomp(errno),
            _ if errno == Errno::ENOENT => PtraceError::CommandNotFound(program),
            _ => PtraceError::Exec { program, errno },
        })
    }
}

const STAGE_SECCOMP: u8 = 1;
const STAGE_EXEC: u8 = 2;

/// Finds `program` like `execvp` does: as given if it contains a slash, else in `$PATH`.
pub fn resolve_program(program: &OsStr) -> Result<PathBuf, PtraceError> {
    let shown = || program.to_string_lossy().into_owned();
    if program.is_empty() {
        return Err(PtraceError::EmptyCommand);
    }
    let executable =
        |p: &Path| p.is_file() && nix::unistd::access(p, nix::unistd::AccessFlags::X_OK).is_ok();
    if program.as_bytes().contains(&b'/') {
        let path = PathBuf::from(program);
        if !path.exists() {
            return Err(PtraceError::CommandNotFound(shown()));
        }
        if !executable(&path) {
            return Err(PtraceError::Exec {
                program: shown(),
                errno: Errno::EACCES,
            });
        }
        return Ok(path);
    }
    let search =
        std::env::var_os("PATH").unwrap_or_else(|| OsString::from("/usr/local/bin:/usr/bin:/bin"));
    let mut found_unexecutable = None;
    for dir in std::env::split_paths(&search) {
        let candidate = if dir.as_os_str().is_empty() {
            PathBuf::from(".").join(program)
        } else {
            dir.join(program)
        };
        if executable(&candidate) {
            return Ok(candidate);
        }
        if candidate.is_file() && found_unexecutable.is_none() {
            found_unexecutable = Some(candidate);
        }
    }
    match found_unexecutable {
        Some(_) => Err(PtraceError::Exec {
            program: shown(),
            errno: Errno::EACCES,
        }),
        None => Err(PtraceError::CommandNotFound(shown())),
    }
}

fn cstring(s: &OsStr) -> Result<CString, PtraceError> {
    CString::new(s.as_bytes()).map_err(|_| PtraceError::NulInArgument)
}

/// Forks `argv` (argv[0] already resolved to `program`), seizes it and lets it exec under the
/// seccomp filter. The child inherits the calling thread's CPU affinity.
pub fn launch(program: &Path, argv: &[OsString]) -> Result<Launched, PtraceError> {
    // Everything the child touches is prepared before fork: after fork in a possibly
    // multi-threaded process only async-signal-safe calls are allowed (no allocation).
    let c_program = cstring(program.as_os_str())?;
    let c_args: Vec<CString> = argv.iter().map(|a| cstring(a)).collect::<Result<_, _>>()?;
    let mut arg_ptrs: Vec<*const libc::c_char> = c_args.iter().map(|a| a.as_ptr()).collect();
    arg_ptrs.push(std::ptr::null());
    let filter = [libc::sock_filter {
        code: (libc::BPF_RET | libc::BPF_K) as u16,
        jt: 0,
        jf: 0,
        k: libc::SECCOMP_RET_TRACE,
    }];
    let program_filter = libc::sock_fprog {
        len: filter.len() as u16,
        filter: filter.as_ptr().cast_mut(),
    };

    let (go_read, go_write) = nix::unistd::pipe2(nix::fcntl::OFlag::O_CLOEXEC)
        .map_err(|e| PtraceError::sys("pipe", e))?;
    let (err_read, err_write) = nix::unistd::pipe2(nix::fcntl::OFlag::O_CLOEXEC)
        .map_err(|e| PtraceError::sys("pipe", e))?;

    // SAFETY: the child branch below only calls async-signal-safe functions (read, write, prctl,
    // signal, sigprocmask, execv, _exit) on data prepared before the fork.
    match unsafe { fork() }.map_err(|e| PtraceError::sys("fork", e))? {
        ForkResult::Child => {
            let go = go_read.as_raw_fd();
            let report = err_write.as_raw_fd();
            // SAFETY: every pointer passed is to memory prepared before the fork and still alive
            // (the child owns a copy of the parent's address space).
            unsafe { child_after_fork(go, report, &program_filter, &c_program, &arg_ptrs) }
        }
        ForkResult::Parent { child } => {
            drop(go_read);
            drop(err_write);
            if let Err(errno) = ptrace::seize(child, launch_options()) {
                kill_and_reap(child);
                return Err(PtraceError::sys(
                    "PTRACE_SEIZE of the launched command",
                    errno,
                ));
            }
            // Release the child: it installs the filter and execs.
            if let Err(errno) = nix::unistd::write(&go_write, b"g") {
                kill_and_reap(child);
                return Err(PtraceError::sys("starting the command", errno));
            }
            drop(go_write);
            Ok(Launched {
                pid: child.as_raw(),
                exec_error: err_read,
            })
        }
    }
}

fn kill_and_reap(child: Pid) {
    let _ = nix::sys::signal::kill(child, nix::sys::signal::Signal::SIGKILL);
    let _ = nix::sys::wait::waitpid(child, Some(nix::sys::wait::WaitPidFlag::__WALL));
}

/// The child between fork and exec. Never returns.
///
/// # Safety
/// Must only be called in a freshly forked child; `filter`, `program` and `argv` (NULL-terminated)
/// must be valid.
unsafe fn child_after_fork(
    go: i32,
    report: i32,
    filter: &libc::sock_fprog,
    program: &CString,
    argv: &[*const libc::c_char],
) -> ! {
    let fail = |stage: u8| -> ! {
        let errno = Errno::last_raw().to_ne_bytes();
        let msg = [stage, errno[0], errno[1], errno[2], errno[3]];
        // SAFETY: `msg` is a valid buffer; write and _exit are async-signal-safe.
        unsafe {
            libc::write(report, msg.as_ptr().cast(), msg.len());
            libc::_exit(127)
        }
    };
    // SAFETY (whole block): only async-signal-safe libc calls on valid pointers.
    unsafe {
        // Signals a Rust parent ignores (SIGPIPE) or blocks would otherwise be inherited
        // through exec and change how the command behaves.
        libc::signal(libc::SIGPIPE, libc::SIG_DFL);
        let mut empty: libc::sigset_t = std::mem::zeroed();
        libc::sigemptyset(&mut empty);
        libc::sigprocmask(libc::SIG_SETMASK, &empty, std::ptr::null_mut());

        // Wait until the parent has seized us with PTRACE_O_TRACESECCOMP.
        let mut byte = 0u8;
        loop {
            let n = libc::read(go, (&mut byte as *mut u8).cast(), 1);
            if n == 1 {
                break;
            }
            if n == 0 || Errno::last() != Errno::EINTR {
                libc::_exit(127);
            }
        }

        let install = |f: &libc::sock_fprog| {
            libc::prctl(
                libc::PR_SET_SECCOMP,
                libc::SECCOMP_MODE_FILTER as libc::c_ulong,
                f as *const libc::sock_fprog as libc::c_ulong,
                0 as libc::c_ulong,
                0 as libc::c_ulong,
            )
        };
        // Root may install a filter without no_new_privs, which keeps set-uid binaries and file
        // capabilities working inside the recording; everyone else needs it.
        if install(filter) != 0 {
            if Errno::last() != Errno::EACCES {
                fail(STAGE_SECCOMP);
            }
            if libc::prctl(
                libc::PR_SET_NO_NEW_PRIVS,
                1 as libc::c_ulong,
                0 as libc::c_ulong,
                0 as libc::c_ulong,
                0 as libc::c_ulong,
            ) != 0
                || install(filter) != 0
            {
                fail(STAGE_SECCOMP);
            }
        }
        libc::execv(program.as_ptr(), argv.as_ptr());
        fail(STAGE_EXEC)
    }
}

/// The command line as the trace records it.
pub fn display_argv(argv: &[OsString]) -> Vec<String> {
    argv.iter()
        .map(|a| String::from_utf8_lossy(&a.clone().into_vec()).into_owned())
        .collect()
}
