//! Privileged: real capability checks from `cap_capable`, with no-audit probes dropped.

mod ebpf_common;

use ebpf_common::*;
use std::collections::BTreeSet;
use std::os::unix::fs::PermissionsExt;

/// The interpreter itself, not a version-manager shim (whose shell scripts add noise).
fn python() -> String {
    let out = std::process::Command::new("python3")
        .args(["-c", "import sys; print(sys.executable)"])
        .output()
        .expect("python3 runs");
    String::from_utf8_lossy(&out.stdout).trim().to_owned()
}

fn caps_of(argv: &[&str]) -> BTreeSet<String> {
    let _guard = serial();
    let rec = record_command(argv);
    let caps = capabilities(&rec);
    eprintln!("{argv:?}: {caps:?} {:?}", rec.trace.capabilities);
    caps
}

fn set(names: &[&str]) -> BTreeSet<String> {
    names.iter().map(|s| (*s).to_owned()).collect()
}

#[test]
fn bind_port_80_needs_net_bind_service() {
    if !privileged() {
        return;
    }
    let py = python();
    let caps = caps_of(&[
        &py,
        "-S",
        "-B",
        "-c",
        "import socket\ns = socket.socket()\ntry:\n    s.bind(('127.0.0.1', 80))\nexcept OSError:\n    pass\n",
    ]);
    assert_eq!(caps, set(&["CAP_NET_BIND_SERVICE"]));
}

#[test]
fn chown_to_another_user_needs_chown() {
    if !privileged() {
        return;
    }
    let dir = tempfile::tempdir().expect("tempdir");
    let file = dir.path().join("f");
    std::fs::write(&file, "x").expect("write");
    let caps = caps_of(&["chown", "65534", &file.to_string_lossy()]);
    assert_eq!(caps, set(&["CAP_CHOWN"]));
}

#[test]
fn raw_and_packet_sockets_need_net_raw() {
    if !privileged() {
        return;
    }
    let py = python();
    let caps = caps_of(&[
        &py,
        "-S",
        "-B",
        "-c",
        "import socket\n\
         socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_ICMP).close()\n\
         socket.socket(socket.AF_PACKET, socket.SOCK_RAW, 0).close()\n",
    ]);
    assert_eq!(caps, set(&["CAP_NET_RAW"]));
}

#[test]
fn reading_another_users_private_file_needs_dac_read_search() {
    if !privileged() {
        return;
    }
    let dir = tempfile::tempdir().expect("tempdir");
    let file = dir.path().join("secret");
    std::fs::write(&file, "secret").expect("write");
    std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o600)).expect("chmod");
    std::os::unix::fs::chown(&file, Some(65534), Some(65534)).expect("chown");
    let caps = caps_of(&["cat", &file.to_string_lossy()]);
    assert_eq!(caps, set(&["CAP_DAC_READ_SEARCH"]));
}

#[test]
fn true_needs_no_capability() {
    if !privileged() {
        return;
    }
    let caps = caps_of(&["/bin/true"]);
    assert!(caps.is_empty(), "/bin/true: {caps:?}");
}

/// Unmounts on drop, so a failed assertion leaves no mount behind.
struct Mounted(std::path::PathBuf);

impl Drop for Mounted {
    fn drop(&mut self) {
        let _ = std::process::Command::new("umount").arg(&self.0).status();
    }
}

#[test]
fn overlayfs_checks_with_the_mounters_credentials_are_not_the_callers() {
    if !privileged() {
        return;
    }
    // The caller (nobody) owns its 0600 file, so it needs nothing; overlayfs then checks the
    // lower file again with the credentials of whoever mounted it (root, not the owner), which
    // asks for CAP_DAC_READ_SEARCH — a check on root's behalf, not on nobody's.
    let dir = tempfile::tempdir().expect("tempdir");
    let [lower, upper, work, merged] = ["lower", "upper", "work", "merged"].map(|d| {
        let p = dir.path().join(d);
        std::fs::create_dir(&p).expect("mkdir");
        p
    });
    let file = lower.join("own");
    std::fs::write(&file, "mine").expect("write");
    std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o600)).expect("chmod");
    std::os::unix::fs::chown(&file, Some(65534), Some(65534)).expect("chown");
    let options = format!(
        "lowerdir={},upperdir={},workdir={}",
        lower.display(),
        upper.display(),
        work.display()
    );
    let status = std::process::Command::new("mount")
        .args(["-t", "overlay", "overlay", "-o", &options])
        .arg(&merged)
        .status()
        .expect("mount runs");
    assert!(status.success(), "mount -t overlay: {status}");
    let _mounted = Mounted(merged.clone());
    let target = merged.join("own");
    let caps = caps_of(&[
        "setpriv",
        "--reuid=65534",
        "--regid=65534",
        "--clear-groups",
        "/usr/bin/cat", // a PATH search would probe root's private directories
        &target.to_string_lossy(),
    ]);
    // setpriv itself changes ids and capability sets as root before it execs cat
    assert_eq!(caps, set(&["CAP_SETGID", "CAP_SETPCAP", "CAP_SETUID"]));
}
