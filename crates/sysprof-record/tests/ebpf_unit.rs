//! Privileged: `--unit` resolves the unit's cgroup through `systemctl show` and catches the
//! cgroup being created and re-created (a start and a restart) from the kernel side, leaving
//! out what a process moved into it does before its first exec (systemd's set-up).
//!
//! The host has no systemd as PID 1, so a stand-in `systemctl` on `PATH` answers the
//! `ControlGroup` query; everything after that (cgroup_mkdir in the kernel, the recording) is
//! real.

mod ebpf_common;

use ebpf_common::*;
use std::os::unix::fs::PermissionsExt;
use sysprof_core::event::Access;
use sysprof_record::Target;

#[test]
fn unit_cgroup_is_caught_on_start_and_restart() {
    if !privileged() {
        return;
    }
    let _guard = serial();
    let before = bpf_objects();
    let slice = TestCgroup::new("units");
    let control_group = format!(
        "/{}/fake.service",
        slice.0.file_name().expect("name").to_string_lossy()
    );
    let bin = tempfile::tempdir().expect("tempdir");
    let systemctl = bin.path().join("systemctl");
    std::fs::write(
        &systemctl,
        format!("#!/bin/sh\n[ \"$1 $2 $3\" = \"show -P ControlGroup\" ] || exit 1\necho {control_group}\n"),
    )
    .expect("fake systemctl");
    std::fs::set_permissions(&systemctl, std::fs::Permissions::from_mode(0o755)).expect("chmod");
    let path = std::env::var("PATH").unwrap_or_default();
    // Only this test runs in this binary, so changing the environment races with nothing.
    std::env::set_var("PATH", format!("{}:{path}", bin.path().display()));

    let markers = tempfile::tempdir().expect("tempdir");
    let first = markers.path().join("first-start");
    let second = markers.path().join("after-restart");
    let set_up = markers.path().join("set-up-before-exec");
    let service = markers.path().join("service-after-exec");
    let recorder = record_in_background(Target::Unit("fake".into()));
    recorder.wait_until_recording();

    let unit_dir = slice.0.join("fake.service");
    std::fs::create_dir(&unit_dir).expect("start: create the unit cgroup");
    TestCgroup::run_in(&unit_dir, &format!("touch {}", first.display()));
    std::fs::remove_dir(&unit_dir).expect("stop: remove the unit cgroup");
    std::fs::create_dir(&unit_dir).expect("restart: re-create the unit cgroup");
    TestCgroup::run_in(
        &unit_dir,
        &format!("touch {}; /usr/bin/nproc >/dev/null", second.display()),
    );
    // Like systemd's child: moves itself in, prepares (here: creates a file), then execs.
    let status = std::process::Command::new("python3")
        .args([
            "-c",
            "import os, sys\n\
             open(sys.argv[1], 'w').write(str(os.getpid()))\n\
             os.mkdir(sys.argv[2])\n\
             os.execv('/bin/mkdir', ['mkdir', sys.argv[3]])",
        ])
        .arg(unit_dir.join("cgroup.procs"))
        .arg(&set_up)
        .arg(&service)
        .status()
        .expect("python3 runs");
    assert!(status.success());
    std::fs::remove_dir(&unit_dir).expect("remove the unit cgroup");

    let rec = recorder.finish();
    let created = files(&rec, &[Access::Create]);
    assert!(
        created.contains(&canonical(&first.to_string_lossy())),
        "{created:?}"
    );
    assert!(
        created.contains(&canonical(&second.to_string_lossy())),
        "{created:?}"
    );
    assert!(files(&rec, &[Access::Exec]).contains("/usr/bin/nproc"));
    assert!(
        created.contains(&canonical(&service.to_string_lossy())),
        "{created:?}"
    );
    assert!(set_up.is_dir() && service.is_dir());
    assert!(
        !created.contains(&canonical(&set_up.to_string_lossy())),
        "set-up before exec recorded: {created:?}"
    );
    let notes = rec.warnings.join("\n");
    assert!(notes.contains("is not running"), "{notes}");
    assert_eq!(notes.matches("followed cgroup").count(), 2, "{notes}");
    drop(slice);
    assert_nothing_left(&before);
}
