//! Capability inference from ACLs, rtnetlink requests, ioctls and socket options (ptrace, root).

// Real workloads (python3) under the ptrace backend. Whatever changes network configuration runs
// in a fresh network namespace (`unshare -n`), so the host's network is never touched. Every
// positive case has a negative twin.

mod ptrace_support;

use ptrace_support::*;
use std::ffi::CString;
use std::os::unix::ffi::OsStrExt;
use std::path::Path;
use sysprof_core::trace::Trace;

fn py(script: &str) -> Trace {
    record_ok(&["python3", "-B", "-c", script])
}

/// `script` in a new, empty network namespace (only a down `lo`).
fn py_netns(script: &str) -> Trace {
    record_ok(&["unshare", "-n", "python3", "-B", "-c", script])
}

/// Whether `cap` was inferred for `syscall`.
fn cap_for(trace: &Trace, cap: &str, syscall: &str) -> bool {
    let number = sysprof_core::tables::caps::parse(cap).expect("capability name");
    trace
        .capabilities
        .iter()
        .any(|c| c.cap.0 == number && c.syscall.as_deref() == Some(syscall))
}

fn chown(path: &Path, uid: u32, gid: u32) {
    std::os::unix::fs::chown(path, Some(uid), Some(gid)).expect("chown");
}

fn chmod(path: &Path, mode: u32) {
    std::fs::set_permissions(path, std::os::unix::fs::PermissionsExt::from_mode(mode))
        .expect("chmod");
}

/// Sets the access ACL of `path` with `setxattr`, in the xattr format the kernel reads: version
/// 2, then `{u16 tag, u16 perm, u32 id}` little-endian entries. No `acl` package needed.
fn set_acl(path: &Path, entries: &[(u16, u16, u32)]) {
    let mut value = 2u32.to_le_bytes().to_vec();
    for (tag, perm, id) in entries {
        value.extend_from_slice(&tag.to_le_bytes());
        value.extend_from_slice(&perm.to_le_bytes());
        value.extend_from_slice(&id.to_le_bytes());
    }
    let path = CString::new(path.as_os_str().as_bytes()).expect("path");
    // SAFETY: both strings are NUL-terminated and `value` is readable for its length.
    let r = unsafe {
        libc::setxattr(
            path.as_ptr(),
            c"system.posix_acl_access".as_ptr(),
            value.as_ptr().cast(),
            value.len(),
            0,
        )
    };
    assert_eq!(r, 0, "setxattr: {}", std::io::Error::last_os_error());
}

const ACL_USER_OBJ: u16 = 0x01;
const ACL_USER: u16 = 0x02;
const ACL_GROUP_OBJ: u16 = 0x04;
const ACL_MASK: u16 = 0x10;
const ACL_OTHER: u16 = 0x20;
const NO_ID: u32 = u32::MAX;

#[test]
fn acl_entries_decide_the_dac_inference() {
    if !privileged() {
        return;
    }
    let dir = scratch("acl");
    // SAFETY: geteuid has no preconditions.
    let me = unsafe { libc::geteuid() };

    // Someone else's 0600 file that the ACL lets us read (`setfacl -m u:<me>:r`): DAC grants
    // the read, so no capability was needed.
    let granted = dir.join("granted");
    std::fs::write(&granted, "x").expect("write");
    chown(&granted, 65534, 65534);
    chmod(&granted, 0o600);
    set_acl(
        &granted,
        &[
            (ACL_USER_OBJ, 6, NO_ID),
            (ACL_USER, 4, me),
            (ACL_GROUP_OBJ, 0, NO_ID),
            (ACL_MASK, 4, NO_ID),
            (ACL_OTHER, 0, NO_ID),
        ],
    );
    let path = granted.display().to_string();
    let trace = py(&format!("open({path:?}).read()"));
    assert!(
        !has_cap(&trace, "CAP_DAC_READ_SEARCH") && !has_cap(&trace, "CAP_DAC_OVERRIDE"),
        "{:?}",
        trace.capabilities
    );
    // Writing is not in the ACL entry: that still needed the override.
    let trace = py(&format!("open({path:?}, 'a').write('y')"));
    assert!(cap_for(&trace, "CAP_DAC_OVERRIDE", "open"));

    // The same file without the ACL entry: the read needed CAP_DAC_READ_SEARCH.
    let plain = dir.join("plain");
    std::fs::write(&plain, "x").expect("write");
    chown(&plain, 65534, 65534);
    chmod(&plain, 0o600);
    let path = plain.display().to_string();
    let trace = py(&format!("open({path:?}).read()"));
    assert!(
        cap_for(&trace, "CAP_DAC_READ_SEARCH", "open"),
        "{:?}",
        trace.capabilities
    );

    // An ACL can also deny what the mode bits allow: a named entry with no permissions for us
    // on a world-readable file. Mode bits alone would say no capability was needed.
    let denied = dir.join("denied");
    std::fs::write(&denied, "x").expect("write");
    chown(&denied, 65534, 65534);
    set_acl(
        &denied,
        &[
            (ACL_USER_OBJ, 6, NO_ID),
            (ACL_USER, 0, me),
            (ACL_GROUP_OBJ, 4, NO_ID),
            (ACL_MASK, 4, NO_ID),
            (ACL_OTHER, 4, NO_ID),
        ],
    );
    let path = denied.display().to_string();
    let trace = py(&format!("open({path:?}).read()"));
    assert!(
        cap_for(&trace, "CAP_DAC_READ_SEARCH", "open"),
        "{:?}",
        trace.capabilities
    );
    let _ = std::fs::remove_dir_all(&dir);
}

/// Python that talks rtnetlink and checks the kernel's answers, so a test cannot pass on a
/// request the kernel did not carry out.
const NETLINK_PRELUDE: &str = r#"
import os, socket, struct
NLMSG_ERROR, NLMSG_DONE, RTM_NEWLINK, RTM_GETLINK, RTM_NEWADDR = 2, 3, 16, 18, 20
REQUEST, ACK, DUMP, EXCL, CREATE = 0x1, 0x4, 0x300, 0x200, 0x400

def nlmsg(kind, flags, seq, body):
    return struct.pack("IHHII", 16 + len(body), kind, flags, seq, 0) + body

def new_addr(seq, last_octet):
    ip = bytes([127, 0, 0, last_octet])
    # ifaddrmsg {family, prefixlen, flags, scope (host), index (lo)}, IFA_LOCAL, IFA_ADDRESS
    body = struct.pack("BBBBI", socket.AF_INET, 8, 0, 254, 1)
    body += struct.pack("HH4s", 8, 2, ip) + struct.pack("HH4s", 8, 1, ip)
    return nlmsg(RTM_NEWADDR, REQUEST | ACK | CREATE | EXCL, seq, body)

def get_links(seq):
    return nlmsg(RTM_GETLINK, REQUEST | DUMP, seq, struct.pack("BxHiII", 0, 0, 0, 0, 0))

def expect_ack(s):
    data = s.recv(65536)
    kind = struct.unpack_from("IH", data)[1]
    error = struct.unpack_from("i", data, 16)[0]
    assert kind == NLMSG_ERROR and error == 0, (kind, error)

def expect_links(s):
    links = 0
    while True:
        data = s.recv(65536)
        offset = 0
        while offset < len(data):
            length, kind = struct.unpack_from("IH", data, offset)
            if kind == NLMSG_DONE:
                assert links > 0
                return
            assert kind == RTM_NEWLINK, kind
            links += 1
            offset += (length + 3) & ~3

def route_socket(bound):
    s = socket.socket(socket.AF_NETLINK, socket.SOCK_RAW, socket.NETLINK_ROUTE)
    if bound:
        s.bind((0, 0))
    return s
"#;

#[test]
fn rtnetlink_changes_need_net_admin_and_dumps_do_not() {
    if !privileged() {
        return;
    }
    // One request per send path; the first socket is not bound before its first send (the
    // kernel binds it then), the way many programs use rtnetlink.
    let trace = py_netns(&format!(
        "{NETLINK_PRELUDE}
s = route_socket(bound=False)
s.send(new_addr(1, 2))
expect_ack(s)
t = route_socket(bound=True)
t.sendmsg([new_addr(2, 3)])
expect_ack(t)
os.write(t.fileno(), new_addr(3, 4))
expect_ack(t)
"
    ));
    for syscall in ["sendto", "sendmsg", "write"] {
        assert!(
            cap_for(&trace, "CAP_NET_ADMIN", syscall),
            "{syscall}: {:?}",
            trace.capabilities
        );
    }

    let trace = py_netns(&format!(
        "{NETLINK_PRELUDE}
s = route_socket(bound=False)
s.send(get_links(1))
expect_links(s)
s.sendmsg([get_links(2)])
expect_links(s)
os.write(s.fileno(), get_links(3))
expect_links(s)
"
    ));
    assert!(
        !has_cap(&trace, "CAP_NET_ADMIN"),
        "dumps need nothing: {:?}",
        trace.capabilities
    );
}

#[test]
fn what_an_fd_is_is_learnt_again_after_close_and_dup2() {
    if !privileged() {
        return;
    }
    let dir = scratch("fdreuse");
    let junk = dir.join("junk").display().to_string();
    // The fd number is first a file (written to, so remembered as "not netlink"), then closed
    // and reused by a netlink socket.
    let trace = py_netns(&format!(
        "{NETLINK_PRELUDE}
f = open({junk:?}, 'wb', buffering=0)
n = f.fileno()
os.write(n, new_addr(1, 9))
f.close()
s = route_socket(bound=True)
assert s.fileno() == n
os.write(n, new_addr(2, 2))
expect_ack(s)
"
    ));
    assert!(
        cap_for(&trace, "CAP_NET_ADMIN", "write"),
        "{:?}",
        trace.capabilities
    );

    // The same through dup2 over the file's fd.
    let trace = py_netns(&format!(
        "{NETLINK_PRELUDE}
f = open({junk:?}, 'wb', buffering=0)
os.write(f.fileno(), new_addr(1, 9))
s = route_socket(bound=True)
os.dup2(s.fileno(), f.fileno())
os.write(f.fileno(), new_addr(2, 2))
expect_ack(s)
"
    ));
    assert!(
        cap_for(&trace, "CAP_NET_ADMIN", "write"),
        "{:?}",
        trace.capabilities
    );

    // And the other way round: a netlink socket's fd number reused by a file. Bytes that look
    // like an rtnetlink request, written to the file, are just bytes.
    let trace = py_netns(&format!(
        "{NETLINK_PRELUDE}
s = route_socket(bound=True)
n = s.fileno()
os.write(n, get_links(1))
expect_links(s)
s.close()
f = open({junk:?}, 'wb', buffering=0)
assert f.fileno() == n
os.write(n, new_addr(2, 2))
"
    ));
    assert!(
        !has_cap(&trace, "CAP_NET_ADMIN"),
        "{:?}",
        trace.capabilities
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn interface_ioctls_need_net_admin_and_queries_do_not() {
    if !privileged() {
        return;
    }
    let prelude = r#"
import fcntl, socket, struct
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
def flags():
    return struct.unpack("16sH22x", fcntl.ioctl(s, 0x8913, struct.pack("16sH22x", b"lo", 0)))[1]
def mtu():
    return struct.unpack("16si20x", fcntl.ioctl(s, 0x8921, struct.pack("16si20x", b"lo", 0)))[1]
"#;
    let trace = py_netns(&format!(
        "{prelude}
fcntl.ioctl(s, 0x8914, struct.pack('16sH22x', b'lo', flags() | 1))  # SIOCSIFFLAGS: up
assert flags() & 1
fcntl.ioctl(s, 0x8922, struct.pack('16si20x', b'lo', 1500))  # SIOCSIFMTU
assert mtu() == 1500
"
    ));
    assert!(
        cap_for(&trace, "CAP_NET_ADMIN", "ioctl"),
        "{:?}",
        trace.capabilities
    );

    let trace = py_netns(&format!("{prelude}\nflags()\nmtu()\n"));
    assert!(
        !has_cap(&trace, "CAP_NET_ADMIN"),
        "{:?}",
        trace.capabilities
    );
}

/// Creates (or attaches to) tun device `name` with `TUNSETIFF`; `persist` keeps it after exit.
fn tun_script(name: &str, persist: bool) -> String {
    format!(
        r#"
import fcntl, os, struct
fd = os.open("/dev/net/tun", os.O_RDWR)
fcntl.ioctl(fd, 0x400454ca, struct.pack("16sH22x", b"{name}", 0x0001 | 0x1000))
if {persist}:
    fcntl.ioctl(fd, 0x400454cb, 1)
assert "{name}:" in open("/proc/self/net/dev").read()
"#,
        persist = if persist { "True" } else { "False" }
    )
}

/// A network namespace kept alive by an idle process, for setting up state outside a
/// recording; killed (and with it the namespace and its devices) on drop.
struct NetnsHolder(std::process::Child);

impl NetnsHolder {
    fn start() -> NetnsHolder {
        let child = std::process::Command::new("unshare")
            .args(["-n", "sleep", "600"])
            .spawn()
            .expect("unshare -n sleep");
        let holder = NetnsHolder(child);
        let ours = std::fs::read_link("/proc/self/ns/net").expect("our netns");
        let theirs = format!("/proc/{}/ns/net", holder.0.id());
        for _ in 0..200 {
            if std::fs::read_link(&theirs).is_ok_and(|ns| ns != ours) {
                return holder;
            }
            std::thread::sleep(std::time::Duration::from_millis(10));
        }
        panic!("unshare -n did not enter a new network namespace");
    }

    fn pid(&self) -> String {
        self.0.id().to_string()
    }
}

impl Drop for NetnsHolder {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[test]
fn creating_a_tun_device_needs_net_admin_attaching_to_an_open_one_does_not() {
    if !privileged() {
        return;
    }
    if !Path::new("/dev/net/tun").exists() {
        eprintln!("skipped: no /dev/net/tun");
        return;
    }
    let trace = py_netns(&tun_script("sptun0", false));
    assert!(
        cap_for(&trace, "CAP_NET_ADMIN", "ioctl"),
        "{:?}",
        trace.capabilities
    );

    // A persistent device with no owner or group, made outside the recording: the recorded
    // program only attaches to it.
    let holder = NetnsHolder::start();
    let pid = holder.pid();
    let setup = std::process::Command::new("nsenter")
        .args(["-t", &pid, "-n", "python3", "-B", "-c"])
        .arg(tun_script("sptun1", true))
        .status()
        .expect("nsenter");
    assert!(setup.success(), "setting up the persistent tun device");
    let trace = record_ok(&[
        "nsenter",
        "-t",
        &pid,
        "-n",
        "python3",
        "-B",
        "-c",
        &tun_script("sptun1", false),
    ]);
    assert!(
        !has_cap(&trace, "CAP_NET_ADMIN"),
        "{:?}",
        trace.capabilities
    );
}

/// `setsockopt(level, option, value)` on a fresh socket of `family`; it must succeed.
fn setsockopt_script(family: &str, level: u32, option: u32, value: i32) -> String {
    format!(
        "import socket; s = socket.socket(socket.{family}, socket.SOCK_DGRAM); \
         s.setsockopt({level}, {option}, {value})"
    )
}

/// Whether the running kernel accepts CAP_NET_RAW for SO_MARK/SO_PRIORITY (Linux 5.17).
fn net_raw_sets_mark() -> bool {
    let release = std::fs::read_to_string("/proc/sys/kernel/osrelease").expect("osrelease");
    let mut parts = release
        .trim()
        .split(['.', '-'])
        .map(|p| p.parse::<u32>().unwrap_or(0));
    (parts.next().unwrap_or(0), parts.next().unwrap_or(0)) >= (5, 17)
}

#[test]
fn guarded_socket_options_name_the_narrowest_capability() {
    if !privileged() {
        return;
    }
    const SOL_IP: u32 = 0;
    const SOL_SOCKET: u32 = 1;
    const SOL_IPV6: u32 = 41;
    const SO_DEBUG: u32 = 1;
    const SO_RCVBUF: u32 = 8;
    const SO_PRIORITY: u32 = 12;
    const SO_RCVBUFFORCE: u32 = 33;
    const SO_MARK: u32 = 36;
    const IP_TRANSPARENT: u32 = 19;
    const IPV6_TRANSPARENT: u32 = 75;
    let mark_cap = if net_raw_sets_mark() {
        Some("CAP_NET_RAW")
    } else {
        Some("CAP_NET_ADMIN")
    };
    let cases: [(&str, u32, u32, i32, Option<&str>); 11] = [
        ("AF_INET", SOL_SOCKET, SO_MARK, 5, mark_cap),
        ("AF_INET", SOL_SOCKET, SO_PRIORITY, 7, mark_cap),
        ("AF_INET", SOL_SOCKET, SO_PRIORITY, 3, None),
        (
            "AF_INET",
            SOL_SOCKET,
            SO_RCVBUFFORCE,
            1 << 20,
            Some("CAP_NET_ADMIN"),
        ),
        ("AF_INET", SOL_SOCKET, SO_RCVBUF, 1 << 16, None),
        ("AF_INET", SOL_SOCKET, SO_DEBUG, 1, Some("CAP_NET_ADMIN")),
        ("AF_INET", SOL_SOCKET, SO_DEBUG, 0, None),
        ("AF_INET", SOL_IP, IP_TRANSPARENT, 1, Some("CAP_NET_RAW")),
        ("AF_INET", SOL_IP, IP_TRANSPARENT, 0, None),
        (
            "AF_INET6",
            SOL_IPV6,
            IPV6_TRANSPARENT,
            1,
            Some("CAP_NET_RAW"),
        ),
        ("AF_INET6", SOL_IPV6, IPV6_TRANSPARENT, 0, None),
    ];
    for (family, level, option, value, expected) in cases {
        let trace = py(&setsockopt_script(family, level, option, value));
        let found: Vec<&str> = ["CAP_NET_RAW", "CAP_NET_ADMIN"]
            .into_iter()
            .filter(|cap| cap_for(&trace, cap, "setsockopt"))
            .collect();
        assert_eq!(
            found,
            expected.into_iter().collect::<Vec<_>>(),
            "setsockopt({level}, {option}, {value}) on {family}: {:?}",
            trace.capabilities
        );
    }

    // Without CAP_NET_RAW the kernel grants SO_MARK through CAP_NET_ADMIN: that is the one
    // the task used, so that is the one named.
    let trace = record_ok(&[
        "setpriv",
        "--bounding-set=-net_raw",
        "python3",
        "-B",
        "-c",
        &setsockopt_script("AF_INET", SOL_SOCKET, SO_MARK, 5),
    ]);
    assert!(cap_for(&trace, "CAP_NET_ADMIN", "setsockopt"));
    assert!(!has_cap(&trace, "CAP_NET_RAW"), "{:?}", trace.capabilities);
}

const FS_APPEND_FL: i32 = 0x20;
const FS_NODUMP_FL: i32 = 0x40;
const FS_IOC_GETFLAGS: libc::c_ulong = 0x8008_6601;
const FS_IOC_SETFLAGS: libc::c_ulong = 0x4008_6602;

/// The inode flags of `path`, or `None` if its filesystem has none.
fn get_flags(path: &Path) -> Option<i32> {
    let file = std::fs::File::open(path).expect("open");
    let mut flags: libc::c_int = 0;
    // SAFETY: FS_IOC_GETFLAGS writes one int into `flags`.
    let r = unsafe {
        libc::ioctl(
            std::os::fd::AsRawFd::as_raw_fd(&file),
            FS_IOC_GETFLAGS,
            &mut flags,
        )
    };
    (r == 0).then_some(flags)
}

fn set_flags(path: &Path, flags: i32) {
    let file = std::fs::File::open(path).expect("open");
    // SAFETY: FS_IOC_SETFLAGS reads one int from `flags`.
    let r = unsafe {
        libc::ioctl(
            std::os::fd::AsRawFd::as_raw_fd(&file),
            FS_IOC_SETFLAGS,
            &flags,
        )
    };
    assert_eq!(r, 0, "FS_IOC_SETFLAGS: {}", std::io::Error::last_os_error());
}

/// Python that ORs `add` into (and clears `remove` from) the flags of `path`, and checks.
fn setflags_script(path: &str, add: i32, remove: i32) -> String {
    format!(
        r#"
import fcntl, os, struct
fd = os.open({path:?}, os.O_RDONLY)
get = lambda: struct.unpack("i", fcntl.ioctl(fd, 0x80086601, b"\0" * 4))[0]
new = (get() | {add}) & ~{remove}
fcntl.ioctl(fd, 0x40086602, struct.pack("i", new))
assert get() == new
"#
    )
}

#[test]
fn flipping_append_only_needs_linux_immutable_other_flags_do_not() {
    if !privileged() {
        return;
    }
    let dir = scratch("flags");
    let file = dir.join("f");
    std::fs::write(&file, "x").expect("write");
    let Some(original) = get_flags(&file) else {
        eprintln!(
            "skipped: {} has no inode flags (FS_IOC_GETFLAGS)",
            dir.display()
        );
        return;
    };
    let path = file.display().to_string();

    // Set append-only, then clear it again: both flips need the capability.
    let trace = py(&format!(
        "{}{}",
        setflags_script(&path, FS_APPEND_FL, 0),
        setflags_script(&path, 0, FS_APPEND_FL)
    ));
    assert!(
        cap_for(&trace, "CAP_LINUX_IMMUTABLE", "ioctl"),
        "{:?}",
        trace.capabilities
    );
    assert!(!has_cap(&trace, "CAP_FOWNER"), "our own file");

    // Another flag alone needs nothing.
    let trace = py(&setflags_script(&path, FS_NODUMP_FL, 0));
    assert!(
        !has_cap(&trace, "CAP_LINUX_IMMUTABLE"),
        "{:?}",
        trace.capabilities
    );

    // Append-only already set (outside the recording) and kept: the kernel checks the change,
    // so adding another flag next to it needs nothing.
    // (Other flags the filesystem keeps, like ext4's extents flag, are left as they are.)
    set_flags(&file, original | FS_APPEND_FL);
    let trace = py(&setflags_script(&path, FS_NODUMP_FL, 0));
    set_flags(&file, original);
    assert!(
        !has_cap(&trace, "CAP_LINUX_IMMUTABLE"),
        "{:?}",
        trace.capabilities
    );

    // Someone else's file: changing its flags needs CAP_FOWNER.
    chown(&file, 65534, 65534);
    let trace = py(&setflags_script(&path, FS_NODUMP_FL, 0));
    assert!(
        cap_for(&trace, "CAP_FOWNER", "ioctl"),
        "{:?}",
        trace.capabilities
    );
    assert!(!has_cap(&trace, "CAP_LINUX_IMMUTABLE"));
    let _ = std::fs::remove_dir_all(&dir);
}
