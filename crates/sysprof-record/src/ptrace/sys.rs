//! Thin, checked wrappers over the raw kernel calls the tracer needs (wait, resume, memory, CPU).
//!
//! nix's `waitpid`/`cont` only know the classic signals and fail on real-time ones (glibc's
//! SIGCANCEL and SIGSETXID are 32 and 33), so waiting and resuming use raw numbers here.

use nix::errno::Errno;
use nix::sys::ptrace;
use nix::unistd::Pid;
use std::ffi::c_void;

/// `PTRACE_EVENT_*` numbers as they appear in `status >> 16`.
pub const EVENT_FORK: i32 = 1;
pub const EVENT_VFORK: i32 = 2;
pub const EVENT_CLONE: i32 = 3;
pub const EVENT_EXEC: i32 = 4;
pub const EVENT_SECCOMP: i32 = 7;
pub const EVENT_STOP: i32 = 128;

/// Audit architecture tokens reported by `PTRACE_GET_SYSCALL_INFO`.
pub const AUDIT_ARCH_X86_64: u32 = 0xC000_003E;
pub const AUDIT_ARCH_I386: u32 = 0x4000_0003;
pub const AUDIT_ARCH_AARCH64: u32 = 0xC000_00B7;

/// What `waitpid` reported, decoded without losing real-time signal numbers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Wait {
    Exited {
        pid: i32,
        code: i32,
    },
    Killed {
        pid: i32,
        signal: i32,
    },
    /// `SIGTRAP | 0x80`: a syscall-entry or syscall-exit stop (`PTRACE_O_TRACESYSGOOD`).
    SyscallStop {
        pid: i32,
    },
    /// A `PTRACE_EVENT_*` stop; `signal` matters for `EVENT_STOP` (group-stop vs. trap).
    Event {
        pid: i32,
        event: i32,
        signal: i32,
    },
    /// A signal-delivery-stop: the tracee is about to receive `signal`.
    Signal {
        pid: i32,
        signal: i32,
    },
    /// Something this tracer does not act on (`WIFCONTINUED`).
    Other,
}

/// Blocks until one of *this thread's* tracees or children changes state.
///
/// `__WNOTHREAD` keeps two recordings running on two threads of one process (tests, a library
/// user) from reaping each other's tracees.
pub fn wait_any() -> Result<Wait, Errno> {
    let mut status: libc::c_int = 0;
    // SAFETY: `status` is a valid, writable int; waitpid does not retain the pointer.
    let pid = unsafe { libc::waitpid(-1, &mut status, libc::__WALL | libc::__WNOTHREAD) };
    if pid < 0 {
        return Err(Errno::last());
    }
    Ok(decode_status(pid, status))
}

fn decode_status(pid: i32, status: i32) -> Wait {
    if libc::WIFEXITED(status) {
        Wait::Exited {
            pid,
            code: libc::WEXITSTATUS(status),
        }
    } else if libc::WIFSIGNALED(status) {
        Wait::Killed {
            pid,
            signal: libc::WTERMSIG(status),
        }
    } else if libc::WIFSTOPPED(status) {
        let signal = libc::WSTOPSIG(status);
        let event = (status >> 16) & 0xffff;
        if signal == (libc::SIGTRAP | 0x80) {
            Wait::SyscallStop { pid }
        } else if event != 0 {
            Wait::Event { pid, event, signal }
        } else {
            Wait::Signal { pid, signal }
        }
    } else {
        Wait::Other
    }
}

fn request(req: libc::c_uint, pid: i32, addr: usize, data: usize) -> Result<libc::c_long, Errno> {
    // SAFETY: every request issued through here (CONT, SYSCALL, DETACH, LISTEN, GETEVENTMSG with a
    // valid out-pointer) only reads plain integers or writes to memory the caller owns.
    let ret = unsafe { libc::ptrace(req, pid, addr as *mut c_void, data as *mut c_void) };
    Errno::result(ret)
}

/// Resumes a stopped tracee until its next stop, delivering `signal` (0 for none). With
/// `syscall_stops`, it also stops at the next syscall entry/exit (`PTRACE_SYSCALL`).
pub fn resume(pid: i32, signal: i32, syscall_stops: bool) -> Result<(), Errno> {
    let req = if syscall_stops {
        libc::PTRACE_SYSCALL
    } else {
        libc::PTRACE_CONT
    };
    request(req, pid, 0, signal as usize).map(drop)
}

/// Leaves a tracee in group-stop but lets us hear about `SIGCONT` (`PTRACE_LISTEN`).
pub fn listen(pid: i32) -> Result<(), Errno> {
    request(libc::PTRACE_LISTEN, pid, 0, 0).map(drop)
}

/// Detaches from a stopped tracee, delivering `signal` (0 for none) as it resumes.
pub fn detach(pid: i32, signal: i32) -> Result<(), Errno> {
    request(libc::PTRACE_DETACH, pid, 0, signal as usize).map(drop)
}

/// `PTRACE_INTERRUPT`: makes a seized tracee stop as soon as possible.
pub fn interrupt(pid: i32) -> Result<(), Errno> {
    ptrace::interrupt(Pid::from_raw(pid))
}

/// `PTRACE_GETEVENTMSG`: the new pid of a fork/clone event, the former tid of an exec event.
pub fn event_message(pid: i32) -> Result<u64, Errno> {
    let mut msg: libc::c_ulong = 0;
    request(
        libc::PTRACE_GETEVENTMSG,
        pid,
        0,
        &mut msg as *mut libc::c_ulong as usize,
    )?;
    // c_ulong is u32 on 32-bit targets.
    #[allow(clippy::useless_conversion)]
    Ok(u64::from(msg))
}

/// What `PTRACE_GET_SYSCALL_INFO` said at a stop.
#[derive(Debug, Clone, Copy)]
pub enum SyscallInfo {
    /// A seccomp stop or syscall-entry stop: the call about to run.
    Entry { arch: u32, nr: u64, args: [u64; 6] },
    /// A syscall-exit stop.
    Exit { value: i64, is_error: bool },
    /// Not at a syscall stop (should not happen where we ask).
    None,
}

/// Reads the syscall a stopped tracee is in.
pub fn syscall_info(pid: i32) -> Result<SyscallInfo, Errno> {
    let info = ptrace::syscall_info(Pid::from_raw(pid))?;
    // SAFETY: `op` says which union member the kernel filled; only that member is read.
    let decoded = unsafe {
        match info.op {
            libc::PTRACE_SYSCALL_INFO_SECCOMP => SyscallInfo::Entry {
                arch: info.arch,
                nr: info.u.seccomp.nr,
                args: info.u.seccomp.args,
            },
            libc::PTRACE_SYSCALL_INFO_ENTRY => SyscallInfo::Entry {
                arch: info.arch,
                nr: info.u.entry.nr,
                args: info.u.entry.args,
            },
            libc::PTRACE_SYSCALL_INFO_EXIT => SyscallInfo::Exit {
                value: info.u.exit.sval,
                is_error: info.u.exit.is_error != 0,
            },
            _ => SyscallInfo::None,
        }
    };
    Ok(decoded)
}

/// Copies `buf.len()` bytes of tracee memory at `addr`; returns how many were readable.
pub fn read_memory(pid: i32, addr: u64, buf: &mut [u8]) -> Result<usize, Errno> {
    if buf.is_empty() {
        return Ok(0);
    }
    let local = libc::iovec {
        iov_base: buf.as_mut_ptr().cast(),
        iov_len: buf.len(),
    };
    let remote = libc::iovec {
        iov_base: addr as usize as *mut c_void,
        iov_len: buf.len(),
    };
    // SAFETY: `local` describes `buf`, which is valid and writable for its length; the remote
    // iovec is only interpreted by the kernel in the tracee's address space.
    let n = unsafe { libc::process_vm_readv(pid, &local, 1, &remote, 1, 0) };
    if n < 0 {
        return Err(Errno::last());
    }
    Ok(n as usize)
}

/// The CPUs thread `tid` (0: the calling thread) may run on.
pub fn affinity_of(tid: i32) -> Result<libc::cpu_set_t, Errno> {
    // SAFETY: cpu_set_t is a plain bit array; all-zero is a valid value.
    let mut set: libc::cpu_set_t = unsafe { std::mem::zeroed() };
    // SAFETY: `set` is valid and writable for `size_of::<cpu_set_t>()` bytes.
    let ret =
        unsafe { libc::sched_getaffinity(tid, std::mem::size_of::<libc::cpu_set_t>(), &mut set) };
    Errno::result(ret)?;
    Ok(set)
}

/// The CPUs the calling thread may run on.
pub fn current_affinity() -> Result<libc::cpu_set_t, Errno> {
    affinity_of(0)
}

/// Restricts thread `tid` (0: the calling thread) to the CPUs in `set`.
pub fn set_affinity(tid: i32, set: &libc::cpu_set_t) -> Result<(), Errno> {
    // SAFETY: `set` points to a valid cpu_set_t of the size passed.
    let ret = unsafe { libc::sched_setaffinity(tid, std::mem::size_of::<libc::cpu_set_t>(), set) };
    Errno::result(ret).map(drop)
}

const CPUS: usize = libc::CPU_SETSIZE as usize;

/// True if `cpu` is in `set`.
pub fn has_cpu(set: &libc::cpu_set_t, cpu: usize) -> bool {
    // SAFETY: CPU_ISSET only reads the bit array; out-of-range numbers are rejected first.
    cpu < CPUS && unsafe { libc::CPU_ISSET(cpu, set) }
}

/// A set holding only `cpu`.
pub fn single_cpu(cpu: usize) -> libc::cpu_set_t {
    // SAFETY: all-zero is a valid (empty) cpu_set_t.
    let mut set: libc::cpu_set_t = unsafe { std::mem::zeroed() };
    if cpu < CPUS {
        // SAFETY: `cpu` is in range, so the bit lies inside `set`.
        unsafe { libc::CPU_SET(cpu, &mut set) };
    }
    set
}

/// The lowest CPU in `set`, if any.
pub fn first_cpu(set: &libc::cpu_set_t) -> Option<usize> {
    (0..CPUS).find(|&cpu| has_cpu(set, cpu))
}

/// True if both sets hold the same CPUs.
pub fn same_cpus(a: &libc::cpu_set_t, b: &libc::cpu_set_t) -> bool {
    (0..CPUS).all(|cpu| has_cpu(a, cpu) == has_cpu(b, cpu))
}
