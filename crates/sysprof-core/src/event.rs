//! The event vocabulary every backend (eBPF, ptrace, strace import) reports.
//!
//! Events are observations; [`crate::trace::Trace::record`] folds them into the
//! aggregated, deduplicated evidence that is written to disk.

use serde::{Deserialize, Serialize};
use std::fmt;

/// The system-call ABI a call was made through.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Abi {
    /// `x86_64` native 64-bit calls.
    #[serde(rename = "x86_64")]
    X86_64,
    /// 32-bit `int 0x80` / `sysenter` calls on x86 (`AUDIT_ARCH_I386`).
    I386,
    /// x32 calls (`__X32_SYSCALL_BIT` set in the number).
    X32,
    /// `aarch64` native calls.
    Aarch64,
}

impl Abi {
    /// Every ABI, in a stable order.
    pub const ALL: [Abi; 4] = [Abi::X86_64, Abi::I386, Abi::X32, Abi::Aarch64];

    /// The name used in the trace format and in messages.
    pub fn as_str(self) -> &'static str {
        match self {
            Abi::X86_64 => "x86_64",
            Abi::I386 => "i386",
            Abi::X32 => "x32",
            Abi::Aarch64 => "aarch64",
        }
    }

    /// Parses a name as written by [`Abi::as_str`] (`x86-64`, `x86` and `arm64` are accepted too).
    pub fn parse(name: &str) -> Option<Abi> {
        match name {
            "x86_64" | "x86-64" | "amd64" => Some(Abi::X86_64),
            "i386" | "x86" | "i686" => Some(Abi::I386),
            "x32" => Some(Abi::X32),
            "aarch64" | "arm64" => Some(Abi::Aarch64),
            _ => None,
        }
    }

    /// The native ABI of a machine whose `uname -m` is `arch`.
    pub fn native_for_arch(arch: &str) -> Option<Abi> {
        match arch {
            "x86_64" => Some(Abi::X86_64),
            "aarch64" => Some(Abi::Aarch64),
            "i386" | "i686" => Some(Abi::I386),
            _ => None,
        }
    }
}

impl fmt::Display for Abi {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// How a file was touched.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Access {
    /// Opened read-only, `readlink`, `getdents`, `access`/`stat` style probes that succeed.
    Read,
    /// Metadata only: `stat`, `access`, `statx`, `readlink`.
    Stat,
    /// Opened for writing, truncated, `utimensat`, `setxattr`, `truncate`.
    Write,
    /// Created (`O_CREAT` that created, `mkdir`, `mknod`, `symlink`, `link`, AF_UNIX `bind`).
    Create,
    /// Removed (`unlink`, `rmdir`) or renamed away.
    Delete,
    /// Renamed onto.
    Rename,
    /// Ownership or mode changed.
    Chattr,
    /// Executed with `execve`/`execveat`.
    Exec,
    /// Mapped with `PROT_EXEC`.
    MmapExec,
    /// Used as a directory to search (`chdir`, `O_PATH`/`O_DIRECTORY` opens).
    Search,
    /// Connected to (AF_UNIX socket file).
    Connect,
}

impl Access {
    /// True for every kind that needs the path to be writable.
    pub fn is_write(self) -> bool {
        matches!(
            self,
            Access::Write | Access::Create | Access::Delete | Access::Rename | Access::Chattr
        )
    }

    /// True for kinds that need the path to be executable (not on a `noexec` mount).
    pub fn is_exec(self) -> bool {
        matches!(self, Access::Exec | Access::MmapExec)
    }

    /// The name used in the trace format.
    pub fn as_str(self) -> &'static str {
        match self {
            Access::Read => "read",
            Access::Stat => "stat",
            Access::Write => "write",
            Access::Create => "create",
            Access::Delete => "delete",
            Access::Rename => "rename",
            Access::Chattr => "chattr",
            Access::Exec => "exec",
            Access::MmapExec => "mmap-exec",
            Access::Search => "search",
            Access::Connect => "connect",
        }
    }
}

impl fmt::Display for Access {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Whether a capability was seen in a real kernel check or inferred from a syscall.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum CapOrigin {
    /// Seen by the kernel's `cap_capable` hook and needed (audited, granted).
    Observed,
    /// Deduced from a syscall, its arguments and its result (ptrace, strace import).
    Inferred,
}

/// Kinds of namespaces, named as `RestrictNamespaces=` names them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Namespace {
    Cgroup,
    Ipc,
    Net,
    Mnt,
    Pid,
    User,
    Uts,
}

impl Namespace {
    /// All namespace kinds, in `RestrictNamespaces=` order.
    pub const ALL: [Namespace; 7] = [
        Namespace::Cgroup,
        Namespace::Ipc,
        Namespace::Net,
        Namespace::Mnt,
        Namespace::Pid,
        Namespace::User,
        Namespace::Uts,
    ];

    /// The `CLONE_NEW*` flag for this kind.
    pub fn clone_flag(self) -> u64 {
        match self {
            Namespace::Cgroup => 0x0200_0000,
            Namespace::Ipc => 0x0800_0000,
            Namespace::Net => 0x4000_0000,
            Namespace::Mnt => 0x0002_0000,
            Namespace::Pid => 0x2000_0000,
            Namespace::User => 0x1000_0000,
            Namespace::Uts => 0x0400_0000,
        }
    }

    /// The namespace kinds whose `CLONE_NEW*` flags are set in `flags`.
    pub fn from_clone_flags(flags: u64) -> Vec<Namespace> {
        Namespace::ALL
            .into_iter()
            .filter(|ns| flags & ns.clone_flag() != 0)
            .collect()
    }

    /// Parses a `CLONE_NEW*` flag name or a `RestrictNamespaces=` name.
    pub fn parse(name: &str) -> Option<Namespace> {
        let name = name.strip_prefix("CLONE_NEW").unwrap_or(name);
        match name.to_ascii_lowercase().as_str() {
            "cgroup" => Some(Namespace::Cgroup),
            "ipc" => Some(Namespace::Ipc),
            "net" => Some(Namespace::Net),
            "mnt" | "ns" => Some(Namespace::Mnt),
            "pid" => Some(Namespace::Pid),
            "user" => Some(Namespace::User),
            "uts" => Some(Namespace::Uts),
            _ => None,
        }
    }

    /// The `RestrictNamespaces=` name.
    pub fn as_str(self) -> &'static str {
        match self {
            Namespace::Cgroup => "cgroup",
            Namespace::Ipc => "ipc",
            Namespace::Net => "net",
            Namespace::Mnt => "mnt",
            Namespace::Pid => "pid",
            Namespace::User => "user",
            Namespace::Uts => "uts",
        }
    }
}

/// Outcome of an observed operation: success, or the errno name it failed with.
pub type Outcome = Result<(), String>;

/// Memory mappings that matter to `MemoryDenyWriteExecute=` and `NoExecPaths=`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum MapKind {
    /// A mapping created writable and executable at once.
    WriteExec,
    /// `mprotect`/`pkey_mprotect` adding `PROT_EXEC` to an existing mapping.
    ExecGain,
    /// `shmat` with `SHM_EXEC`.
    ShmExec,
}

/// Device kinds for `mknod`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum DeviceKind {
    Char,
    Block,
}

/// One observation made by a backend.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Event {
    /// A system call was made (successful or not).
    Syscall { abi: Abi, name: String },
    /// A capability was needed.
    Capability {
        cap: u8,
        origin: CapOrigin,
        /// The system call that needed it, where known.
        syscall: Option<String>,
    },
    /// A path was accessed.
    File {
        path: String,
        access: Access,
        outcome: Outcome,
    },
    /// A program was executed (successfully), with its script or ELF interpreter.
    Exec {
        path: String,
        interpreter: Option<String>,
    },
    /// A socket was created.
    Socket {
        family: String,
        sock_type: String,
        protocol: String,
        outcome: Outcome,
    },
    /// A socket was bound or connected to an address.
    Address {
        op: AddressOp,
        family: String,
        address: String,
        outcome: Outcome,
    },
    /// Namespaces were created (`clone`, `unshare`) or joined (`setns`).
    Namespace {
        syscall: String,
        kinds: Vec<Namespace>,
        outcome: Outcome,
    },
    /// `personality(persona)` was called.
    Personality { persona: u64 },
    /// A realtime scheduling policy was requested.
    Realtime { syscall: String, policy: String },
    /// A write+exec or exec-gaining mapping.
    Memory {
        kind: MapKind,
        syscall: String,
        outcome: Outcome,
    },
    /// A set-uid/set-gid mode bit was requested on a file.
    SetIdMode {
        syscall: String,
        path: Option<String>,
        mode: u32,
        outcome: Outcome,
    },
    /// A device node was created.
    Mknod {
        path: String,
        kind: DeviceKind,
        outcome: Outcome,
    },
    /// Mount-table activity.
    Mount {
        syscall: String,
        target: Option<String>,
        outcome: Outcome,
    },
    /// A process or thread was created (for the integrity counters).
    ProcessStarted,
    /// A target process was sent a signal (`SIGHUP`: reload; `SIGUSR1`: log rotation; …).
    Signal { name: String },
}

/// Socket address operations.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum AddressOp {
    Bind,
    Connect,
}
