//! Turns ring-buffer records ([`SpEvent`]) into the core's [`Event`] vocabulary.

use super::abi::*;
use super::kallsyms::Kallsyms;
use sysprof_core::event::{
    Abi, Access, AddressOp, CapOrigin, DeviceKind, Event, MapKind, Namespace, Outcome,
};
use sysprof_core::tables::syscalls;

/// Decoding state: the native ABI, the kernel symbols and the integrity counts it keeps.
#[derive(Debug)]
pub struct Decoder {
    native: Abi,
    kallsyms: Option<Kallsyms>,
    /// Paths cut by the kernel-side walk or the string copies.
    pub paths_truncated: u64,
    /// Paths that were not valid UTF-8.
    pub paths_lossy: u64,
    /// Cgroups the kernel added to the targets (a restarted unit, a new child cgroup).
    pub cgroups_followed: Vec<(u64, String)>,
    /// Relative paths whose base directory was not captured.
    pub paths_unresolved: u64,
    /// Capability checks dropped as no-audit probes.
    pub noaudit_probes: u64,
    /// No capability hook: infer capabilities from events, like the ptrace backend.
    pub infer_caps: bool,
}

impl Decoder {
    pub fn new(native: Abi, kallsyms: Option<Kallsyms>) -> Decoder {
        Decoder {
            native,
            kallsyms,
            paths_truncated: 0,
            paths_lossy: 0,
            cgroups_followed: Vec::new(),
            paths_unresolved: 0,
            noaudit_probes: 0,
            infer_caps: false,
        }
    }

    /// True when capability stacks can be symbolised.
    pub fn can_classify_caps(&self) -> bool {
        self.kallsyms.is_some()
    }

    fn syscall_name(&self, nr: u32) -> Option<String> {
        syscalls::name(self.native, nr).map(str::to_owned)
    }

    fn text(&mut self, bytes: &[u8]) -> String {
        let end = bytes.iter().position(|&b| b == 0).unwrap_or(bytes.len());
        match std::str::from_utf8(&bytes[..end]) {
            Ok(s) => s.to_owned(),
            Err(_) => {
                self.paths_lossy += 1;
                String::from_utf8_lossy(&bytes[..end]).into_owned()
            }
        }
    }

    /// The event's path: the walked path, or `name` (made absolute against the walked base
    /// directory when it is relative). A truncated path is counted and dropped: its tail would
    /// read as a different, wrong absolute path.
    fn event_path(&mut self, ev: &SpEvent) -> Option<String> {
        if ev.flags & (SP_F_PATH_TRUNCATED | SP_F_NAME_TRUNCATED) != 0 {
            self.paths_truncated += 1;
            return None;
        }
        let has_path = ev.flags & SP_F_HAS_PATH != 0;
        let has_name = ev.flags & SP_F_HAS_NAME != 0;
        if ev.flags & SP_F_PATH_IS_BASE != 0 && has_path && has_name {
            let base = self.text(&ev.path);
            let name = self.text(&ev.name);
            return Some(normalize(&format!("{base}/{name}")));
        }
        if has_path {
            return Some(self.text(&ev.path));
        }
        if has_name {
            let name = self.text(&ev.name);
            if name.starts_with('/') {
                return Some(normalize(&name));
            }
            self.paths_unresolved += 1;
        }
        None
    }

    /// The core events one record stands for (none for bookkeeping records), plus the
    /// capabilities they imply when no capability hook could be attached.
    pub fn decode(&mut self, ev: &SpEvent) -> Vec<Event> {
        let mut events = self.decode_observed(ev);
        if self.infer_caps {
            let inferred: Vec<Event> = events.iter().filter_map(infer_capability).collect();
            events.extend(inferred);
        }
        events
    }

    fn decode_observed(&mut self, ev: &SpEvent) -> Vec<Event> {
        let outcome = outcome_of(ev.err);
        let syscall = self
            .syscall_name(ev.nr)
            .unwrap_or_else(|| format!("syscall_{}", ev.nr));
        match ev.kind {
            SP_EV_OPEN => self.decode_open(ev, outcome, &syscall),
            SP_EV_EXEC => self.decode_exec(ev),
            SP_EV_CAP => self.decode_cap(ev),
            SP_EV_MMAP => {
                let mut out = Vec::new();
                if ev.arg0 & PROT_EXEC == 0 {
                    return out;
                }
                if let Some(path) = self.event_path(ev) {
                    out.push(Event::File {
                        path,
                        access: Access::MmapExec,
                        outcome: outcome.clone(),
                    });
                }
                if ev.arg0 & PROT_WRITE != 0 {
                    out.push(Event::Memory {
                        kind: MapKind::WriteExec,
                        syscall,
                        outcome,
                    });
                }
                out
            }
            SP_EV_MPROTECT => {
                let mut out = Vec::new();
                if let Some(path) = self.event_path(ev) {
                    out.push(Event::File {
                        path,
                        access: Access::MmapExec,
                        outcome: outcome.clone(),
                    });
                }
                if ev.arg0 & PROT_WRITE != 0 {
                    out.push(Event::Memory {
                        kind: MapKind::WriteExec,
                        syscall: syscall.clone(),
                        outcome: outcome.clone(),
                    });
                }
                if ev.arg1 & VM_EXEC == 0 {
                    out.push(Event::Memory {
                        kind: MapKind::ExecGain,
                        syscall,
                        outcome,
                    });
                }
                out
            }
            SP_EV_SOCKET => vec![Event::Socket {
                family: family_name(ev.arg0),
                sock_type: socket_type_name(ev.arg1),
                protocol: protocol_name(ev.arg0, ev.arg2),
                outcome,
            }],
            SP_EV_ADDRESS => {
                let len = usize::try_from(ev.arg0).unwrap_or(0).min(SP_NAME_MAX);
                let Some((family, address)) = decode_sockaddr(&ev.name[..len]) else {
                    return Vec::new();
                };
                let op = if syscall == "bind" {
                    AddressOp::Bind
                } else {
                    AddressOp::Connect
                };
                let mut out = Vec::new();
                if family == "AF_UNIX" && !address.starts_with('@') {
                    match unix_socket_file(op, &address, &outcome) {
                        Some(file) => out.push(file),
                        None => self.paths_unresolved += 1,
                    }
                }
                out.push(Event::Address {
                    op,
                    family,
                    address,
                    outcome,
                });
                out
            }
            SP_EV_NAMESPACE => {
                let kinds = Namespace::from_clone_flags(ev.arg0);
                if kinds.is_empty() {
                    return Vec::new();
                }
                vec![Event::Namespace {
                    syscall,
                    kinds,
                    outcome,
                }]
            }
            SP_EV_PERSONALITY => vec![Event::Personality { persona: ev.arg0 }],
            SP_EV_REALTIME => vec![Event::Realtime {
                syscall,
                policy: policy_name(ev.arg0),
            }],
            SP_EV_PATHOP => self.decode_pathop(ev, outcome, syscall),
            SP_EV_CGROUP => {
                let path = self.text(&ev.name);
                self.cgroups_followed.push((ev.arg0, path));
                Vec::new()
            }
            SP_EV_SIGNAL => i32::try_from(ev.arg0)
                .ok()
                .and_then(sysprof_core::tables::signals::name)
                .map(|name| vec![Event::Signal { name }])
                .unwrap_or_default(),
            _ => Vec::new(),
        }
    }

    fn decode_open(&mut self, ev: &SpEvent, outcome: Outcome, syscall: &str) -> Vec<Event> {
        let Some(path) = self.event_path(ev) else {
            return Vec::new();
        };
        let mut out = Vec::new();
        if outcome.is_err() {
            let access = if ev.arg0 & 3 != 0 {
                Access::Write
            } else {
                Access::Read
            };
            out.push(Event::File {
                path,
                access,
                outcome,
            });
            return out;
        }
        let acc = ev.arg1;
        let mut push = |access| {
            out.push(Event::File {
                path: path.clone(),
                access,
                outcome: Ok(()),
            })
        };
        if acc & (SP_ACC_PATH | SP_ACC_DIR) != 0 && acc & SP_ACC_WRITE == 0 {
            push(Access::Search);
        } else {
            if acc & SP_ACC_CREATED != 0 {
                push(Access::Create);
            }
            if acc & SP_ACC_WRITE != 0 {
                push(Access::Write);
            }
            if acc & SP_ACC_READ != 0 {
                push(Access::Read);
            }
        }
        if ev.arg0 & SETID_BITS != 0 {
            out.push(Event::SetIdMode {
                syscall: syscall.to_owned(),
                path: Some(path.clone()),
                mode: u32::try_from(ev.arg2 & 0o7777).unwrap_or(0),
                outcome: Ok(()),
            });
        }
        out
    }

    fn decode_exec(&mut self, ev: &SpEvent) -> Vec<Event> {
        let script = ev.flags & SP_F_SCRIPT != 0;
        let path = if script {
            self.event_path(ev)
        } else if ev.flags & SP_F_PATH_TRUNCATED != 0 {
            self.paths_truncated += 1;
            None
        } else {
            (ev.flags & SP_F_HAS_PATH != 0).then(|| self.text(&ev.path))
        };
        let Some(path) = path else {
            return Vec::new();
        };
        let interpreter = if script {
            Some(self.text(&ev.aux)).filter(|s| !s.is_empty())
        } else {
            elf_interpreter(&path)
        };
        vec![
            Event::File {
                path: path.clone(),
                access: Access::Exec,
                outcome: Ok(()),
            },
            Event::Exec { path, interpreter },
        ]
    }

    fn decode_cap(&mut self, ev: &SpEvent) -> Vec<Event> {
        if ev.err != 0 {
            return Vec::new(); // denied: the process ran without it
        }
        if let Some(table) = &self.kallsyms {
            if table.is_noaudit_probe(&ev.stack) {
                self.noaudit_probes += 1;
                return Vec::new();
            }
        }
        let Ok(cap) = u8::try_from(ev.arg0) else {
            return Vec::new();
        };
        vec![Event::Capability {
            cap,
            origin: CapOrigin::Observed,
            syscall: self.syscall_name(ev.nr),
        }]
    }

    fn decode_pathop(&mut self, ev: &SpEvent, outcome: Outcome, syscall: String) -> Vec<Event> {
        let path = self.event_path(ev);
        let second = ev.flags & SP_F_SECOND_PATH != 0;
        let mode = u32::try_from(ev.arg0 & 0o177_777).unwrap_or(0);
        let file = |access, path: &Option<String>, outcome: &Outcome| {
            path.clone().map(|path| Event::File {
                path,
                access,
                outcome: outcome.clone(),
            })
        };
        let setid = |path: &Option<String>, outcome: &Outcome| {
            (mode & SETID_BITS as u32 != 0).then(|| Event::SetIdMode {
                syscall: syscall.clone(),
                path: path.clone(),
                mode: mode & 0o7777,
                outcome: outcome.clone(),
            })
        };
        let mut out: Vec<Option<Event>> = Vec::new();
        match syscall.as_str() {
            "truncate" => out.push(file(Access::Write, &path, &outcome)),
            "rename" | "renameat" | "renameat2" => {
                let access = if second {
                    Access::Rename
                } else {
                    Access::Delete
                };
                out.push(file(access, &path, &outcome));
            }
            "mkdir" | "mkdirat" => {
                out.push(file(Access::Create, &path, &outcome));
                out.push(setid(&path, &outcome));
            }
            "rmdir" | "unlink" | "unlinkat" => out.push(file(Access::Delete, &path, &outcome)),
            "link" | "linkat" | "symlink" | "symlinkat" if second => {
                out.push(file(Access::Create, &path, &outcome));
            }
            "chmod" | "fchmod" | "fchmodat" | "fchmodat2" => {
                out.push(file(Access::Chattr, &path, &outcome));
                out.push(setid(&path, &outcome));
            }
            "chown" | "fchown" | "lchown" | "fchownat" => {
                out.push(file(Access::Chattr, &path, &outcome));
            }
            "mknod" | "mknodat" => {
                out.push(file(Access::Create, &path, &outcome));
                let kind = match mode & S_IFMT {
                    S_IFCHR => Some(DeviceKind::Char),
                    S_IFBLK => Some(DeviceKind::Block),
                    _ => None,
                };
                if let (Some(kind), Some(p)) = (kind, &path) {
                    out.push(Some(Event::Mknod {
                        path: p.clone(),
                        kind,
                        outcome: outcome.clone(),
                    }));
                }
                out.push(setid(&path, &outcome));
            }
            "mount" | "umount2" | "open_tree" | "move_mount" | "mount_setattr" | "fsopen"
            | "fsmount" => out.push(Some(Event::Mount {
                syscall: syscall.clone(),
                target: path.clone(),
                outcome: outcome.clone(),
            })),
            _ => {}
        }
        out.into_iter().flatten().collect()
    }
}

/// The file an AF_UNIX socket path stands for, as the ptrace backend and the strace import
/// record it: `bind` creates it (so its directory must be writable), `connect` opens it.
/// `None` for a relative path: the address event carries no base directory.
fn unix_socket_file(op: AddressOp, address: &str, outcome: &Outcome) -> Option<Event> {
    if !address.starts_with('/') {
        return None;
    }
    let access = match op {
        AddressOp::Bind => Access::Create,
        AddressOp::Connect => Access::Connect,
    };
    Some(Event::File {
        path: normalize(address),
        access,
        outcome: outcome.clone(),
    })
}

/// The capability a successful event needs (the subset of the ptrace backend's inference that
/// these events carry enough detail for), marked as inferred.
fn infer_capability(event: &Event) -> Option<Event> {
    let (cap, syscall) = match event {
        Event::Address {
            op: AddressOp::Bind,
            family,
            address,
            outcome: Ok(()),
        } if family == "AF_INET" || family == "AF_INET6" => {
            let port: u32 = address.rsplit_once(':')?.1.parse().ok()?;
            ((1..1024).contains(&port).then_some(10)?, "bind")
        }
        Event::Socket {
            family,
            sock_type,
            outcome: Ok(()),
            ..
        } if family == "AF_PACKET" || sock_type == "SOCK_RAW" => (13, "socket"),
        Event::Mount {
            syscall,
            outcome: Ok(()),
            ..
        } => (21, syscall.as_str()),
        Event::Mknod {
            outcome: Ok(()), ..
        } => (27, "mknod"),
        Event::Namespace {
            syscall,
            kinds,
            outcome: Ok(()),
        } if !kinds.contains(&Namespace::User) => (21, syscall.as_str()),
        _ => return None,
    };
    Some(Event::Capability {
        cap,
        origin: CapOrigin::Inferred,
        syscall: Some(syscall.to_owned()),
    })
}

/// Capabilities implied by the mere use of a syscall (its result is not in the bitmap).
pub fn capability_of_syscall(name: &str) -> Option<u8> {
    Some(match name {
        "init_module" | "finit_module" | "delete_module" => 16,
        "chroot" => 18,
        "reboot" | "kexec_load" | "kexec_file_load" => 22,
        "acct" => 20,
        "iopl" | "ioperm" => 17,
        "vhangup" => 26,
        "settimeofday" | "stime" | "clock_settime" => 25,
        "sethostname" | "setdomainname" | "swapon" | "swapoff" | "pivot_root" => 21,
        _ => return None,
    })
}

const PROT_WRITE: u64 = 0x2;
const PROT_EXEC: u64 = 0x4;
const VM_EXEC: u64 = 0x4;
const SETID_BITS: u64 = 0o6000;
const S_IFMT: u32 = 0o170_000;
const S_IFCHR: u32 = 0o020_000;
const S_IFBLK: u32 = 0o060_000;

fn outcome_of(err: i32) -> Outcome {
    if err >= 0 {
        Ok(())
    } else {
        Err(errno_name(-err))
    }
}

/// `ENOENT` for 2, `E<n>` for numbers the table does not know.
pub fn errno_name(errno: i32) -> String {
    let e = nix::errno::Errno::from_raw(errno);
    if e == nix::errno::Errno::UnknownErrno {
        format!("E{errno}")
    } else {
        format!("{e:?}")
    }
}

/// Lexically removes `.`, `..` and doubled slashes from an absolute path.
pub fn normalize(path: &str) -> String {
    let mut parts: Vec<&str> = Vec::new();
    for part in path.split('/') {
        match part {
            "" | "." => {}
            ".." => {
                parts.pop();
            }
            p => parts.push(p),
        }
    }
    format!("/{}", parts.join("/"))
}

pub fn family_name(family: u64) -> String {
    let name = match family {
        0 => "AF_UNSPEC",
        1 => "AF_UNIX",
        2 => "AF_INET",
        3 => "AF_AX25",
        4 => "AF_IPX",
        5 => "AF_APPLETALK",
        9 => "AF_X25",
        10 => "AF_INET6",
        15 => "AF_KEY",
        16 => "AF_NETLINK",
        17 => "AF_PACKET",
        29 => "AF_CAN",
        31 => "AF_BLUETOOTH",
        38 => "AF_ALG",
        40 => "AF_VSOCK",
        44 => "AF_XDP",
        45 => "AF_MCTP",
        _ => return format!("AF_{family}"),
    };
    name.to_owned()
}

fn socket_type_name(ty: u64) -> String {
    let name = match ty {
        1 => "SOCK_STREAM",
        2 => "SOCK_DGRAM",
        3 => "SOCK_RAW",
        4 => "SOCK_RDM",
        5 => "SOCK_SEQPACKET",
        6 => "SOCK_DCCP",
        10 => "SOCK_PACKET",
        _ => return format!("SOCK_{ty}"),
    };
    name.to_owned()
}

fn protocol_name(family: u64, protocol: u64) -> String {
    match (family, protocol) {
        (_, 0) => "0".to_owned(),
        (2 | 10, 1) => "IPPROTO_ICMP".to_owned(),
        (2 | 10, 6) => "IPPROTO_TCP".to_owned(),
        (2 | 10, 17) => "IPPROTO_UDP".to_owned(),
        (2 | 10, 58) => "IPPROTO_ICMPV6".to_owned(),
        (2 | 10, 255) => "IPPROTO_RAW".to_owned(),
        (2 | 10, 132) => "IPPROTO_SCTP".to_owned(),
        (17, p) => format!("{:#06x}", u16::try_from(p).map(u16::from_be).unwrap_or(0)),
        (_, p) => p.to_string(),
    }
}

fn policy_name(policy: u64) -> String {
    match policy {
        1 => "SCHED_FIFO".to_owned(),
        2 => "SCHED_RR".to_owned(),
        6 => "SCHED_DEADLINE".to_owned(),
        p => p.to_string(),
    }
}

/// (family, address) of a raw `struct sockaddr`: `127.0.0.1:80`, `[::1]:80`, `/run/x.sock`,
/// `@abstract`.
pub fn decode_sockaddr(bytes: &[u8]) -> Option<(String, String)> {
    let family = u16::from_ne_bytes([*bytes.first()?, *bytes.get(1)?]);
    let port = || bytes.get(2..4).map(|p| u16::from_be_bytes([p[0], p[1]]));
    let address = match family {
        1 => {
            let rest = bytes.get(2..).unwrap_or_default();
            match rest.first() {
                None => "@".to_owned(), // unnamed (autobind)
                Some(0) => {
                    let name = &rest[1..];
                    let end = name.iter().rposition(|&b| b != 0).map_or(0, |i| i + 1);
                    format!("@{}", String::from_utf8_lossy(&name[..end]))
                }
                Some(_) => {
                    let end = rest.iter().position(|&b| b == 0).unwrap_or(rest.len());
                    String::from_utf8_lossy(&rest[..end]).into_owned()
                }
            }
        }
        2 => {
            let ip = bytes.get(4..8)?;
            format!("{}.{}.{}.{}:{}", ip[0], ip[1], ip[2], ip[3], port()?)
        }
        10 => {
            let raw: [u8; 16] = bytes.get(8..24)?.try_into().ok()?;
            format!("[{}]:{}", std::net::Ipv6Addr::from(raw), port()?)
        }
        17 => {
            // sockaddr_ll: protocol (be16), ifindex (i32)
            let ifindex = bytes
                .get(4..8)
                .map(|b| i32::from_ne_bytes([b[0], b[1], b[2], b[3]]));
            format!("ifindex={}", ifindex.unwrap_or(0))
        }
        16 => {
            let pid = bytes
                .get(4..8)
                .map(|b| u32::from_ne_bytes([b[0], b[1], b[2], b[3]]));
            format!("pid={}", pid.unwrap_or(0))
        }
        _ => String::new(),
    };
    Some((family_name(family.into()), address))
}

/// The `PT_INTERP` of an ELF file (the dynamic loader), read from disk.
pub fn elf_interpreter(path: &str) -> Option<String> {
    use std::io::{Read, Seek, SeekFrom};
    let mut file = std::fs::File::open(path).ok()?;
    let mut header = [0u8; 64];
    file.read_exact(&mut header).ok()?;
    if &header[..4] != b"\x7fELF" || header[4] != 2 || header[5] != 1 {
        return None; // only 64-bit little endian, like the hosts this runs on
    }
    let u16_at = |b: &[u8], o: usize| u16::from_le_bytes([b[o], b[o + 1]]);
    let u64_at = |b: &[u8], o: usize| {
        let mut w = [0u8; 8];
        w.copy_from_slice(&b[o..o + 8]);
        u64::from_le_bytes(w)
    };
    let phoff = u64_at(&header, 0x20);
    let phentsize = usize::from(u16_at(&header, 0x36));
    let phnum = usize::from(u16_at(&header, 0x38));
    if phentsize < 56 || phnum > 256 {
        return None;
    }
    let mut table = vec![0u8; phentsize * phnum];
    file.seek(SeekFrom::Start(phoff)).ok()?;
    file.read_exact(&mut table).ok()?;
    for entry in table.chunks_exact(phentsize) {
        if u32::from_le_bytes([entry[0], entry[1], entry[2], entry[3]]) == 3 {
            let offset = u64_at(entry, 8);
            let size = usize::try_from(u64_at(entry, 32)).ok()?.min(4096);
            let mut name = vec![0u8; size];
            file.seek(SeekFrom::Start(offset)).ok()?;
            file.read_exact(&mut name).ok()?;
            let end = name.iter().position(|&b| b == 0).unwrap_or(name.len());
            return Some(String::from_utf8_lossy(&name[..end]).into_owned());
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses() {
        let mut v4 = vec![2, 0, 0, 80, 127, 0, 0, 1];
        v4.extend([0; 8]);
        assert_eq!(
            decode_sockaddr(&v4),
            Some(("AF_INET".into(), "127.0.0.1:80".into()))
        );
        let mut v6 = vec![10, 0, 0x1f, 0x90, 0, 0, 0, 0];
        v6.extend([0; 15]);
        v6.push(1);
        assert_eq!(
            decode_sockaddr(&v6),
            Some(("AF_INET6".into(), "[::1]:8080".into()))
        );
        let mut un = vec![1, 0];
        un.extend(b"/run/x.sock\0\0");
        assert_eq!(
            decode_sockaddr(&un),
            Some(("AF_UNIX".into(), "/run/x.sock".into()))
        );
        let mut abs = vec![1, 0, 0];
        abs.extend(b"name");
        assert_eq!(
            decode_sockaddr(&abs),
            Some(("AF_UNIX".into(), "@name".into()))
        );
    }

    /// Found by the e2e probe `umask`: a socket bound in /run/X was not a write to /run/X, so
    /// the suggestion left the directory read-only and the bind failed with EROFS.
    #[test]
    fn unix_socket_paths_are_files() {
        assert_eq!(
            unix_socket_file(AddressOp::Bind, "/run/x/s.sock", &Ok(())),
            Some(Event::File {
                path: "/run/x/s.sock".into(),
                access: Access::Create,
                outcome: Ok(()),
            })
        );
        assert_eq!(
            unix_socket_file(
                AddressOp::Connect,
                "/run/./x//s.sock",
                &Err("ENOENT".into())
            ),
            Some(Event::File {
                path: "/run/x/s.sock".into(),
                access: Access::Connect,
                outcome: Err("ENOENT".into()),
            })
        );
        assert_eq!(unix_socket_file(AddressOp::Bind, "s.sock", &Ok(())), None);
    }

    #[test]
    fn paths_and_errnos() {
        assert_eq!(normalize("/a/./b/../c//d"), "/a/c/d");
        assert_eq!(normalize("/.."), "/");
        assert_eq!(errno_name(2), "ENOENT");
        assert_eq!(errno_name(13), "EACCES");
    }

    #[test]
    fn infers_capabilities_when_no_hook_is_attached() {
        let bind = Event::Address {
            op: AddressOp::Bind,
            family: "AF_INET".into(),
            address: "127.0.0.1:80".into(),
            outcome: Ok(()),
        };
        assert_eq!(
            infer_capability(&bind),
            Some(Event::Capability {
                cap: 10,
                origin: CapOrigin::Inferred,
                syscall: Some("bind".into())
            })
        );
        let high = Event::Address {
            op: AddressOp::Bind,
            family: "AF_INET6".into(),
            address: "[::1]:8080".into(),
            outcome: Ok(()),
        };
        assert_eq!(infer_capability(&high), None);
        let raw = Event::Socket {
            family: "AF_INET".into(),
            sock_type: "SOCK_RAW".into(),
            protocol: "IPPROTO_ICMP".into(),
            outcome: Ok(()),
        };
        assert!(matches!(
            infer_capability(&raw),
            Some(Event::Capability { cap: 13, .. })
        ));
        let userns = Event::Namespace {
            syscall: "unshare".into(),
            kinds: vec![Namespace::User, Namespace::Mnt],
            outcome: Ok(()),
        };
        assert_eq!(infer_capability(&userns), None);
        assert_eq!(capability_of_syscall("chroot"), Some(18));
        assert_eq!(capability_of_syscall("read"), None);
    }

    #[test]
    fn finds_the_elf_interpreter_of_a_dynamic_binary() {
        let interp = elf_interpreter("/bin/ls");
        assert!(interp.is_some_and(|i| i.contains("ld-linux")));
    }
}
