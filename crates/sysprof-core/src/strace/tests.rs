//! Tests of the strace importer: inline snippets for each format variant and recorded logs.

use super::*;
use crate::event::{Abi, Access};
use crate::trace::{FileRecord, Trace};

fn fixture(name: &str) -> Vec<u8> {
    let path = format!(
        "{}/../../tests/fixtures/strace/{name}",
        env!("CARGO_MANIFEST_DIR")
    );
    std::fs::read(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

fn import_with(arch: &str, log: &str, hint: Option<u32>) -> (Trace, ImportReport) {
    let mut importer = StraceImporter::new(arch);
    importer
        .feed("test.log", log.as_bytes(), hint)
        .expect("text input");
    importer.finish()
}

fn import(log: &str) -> (Trace, ImportReport) {
    import_with("x86_64", log, None)
}

fn import_fixture(name: &str) -> (Trace, ImportReport) {
    let mut importer = StraceImporter::new("x86_64");
    importer
        .feed(name, &fixture(name)[..], None)
        .expect("fixture is text");
    importer.finish()
}

fn access_name(access: Access) -> &'static str {
    access.as_str()
}

/// Every file record as `path access result`.
fn files(trace: &Trace) -> Vec<String> {
    trace
        .files
        .iter()
        .map(
            |FileRecord {
                 path,
                 access,
                 result,
             }| { format!("{path} {} {result}", access_name(*access)) },
        )
        .collect()
}

fn has_file(trace: &Trace, expected: &str) -> bool {
    files(trace).iter().any(|f| f == expected)
}

fn assert_files(trace: &Trace, expected: &[&str]) {
    for e in expected {
        assert!(has_file(trace, e), "missing {e:?} in {:#?}", files(trace));
    }
}

fn syscalls(trace: &Trace, abi: Abi) -> Vec<&str> {
    trace.syscall_names(abi).into_iter().collect()
}

fn caps(trace: &Trace) -> Vec<String> {
    trace
        .capabilities
        .iter()
        .map(|c| {
            format!(
                "{} {}",
                crate::tables::caps::name(c.cap.0),
                c.syscall.as_deref().unwrap_or("-")
            )
        })
        .collect()
}

// ------------------------------------------------------------------ line layouts

#[test]
fn every_prefix_layout_gives_the_same_evidence() {
    let call = r#"openat(AT_FDCWD, "/etc/passwd", O_RDONLY|O_CLOEXEC) = 3"#;
    let layouts = [
        call.to_string(),
        format!("1234  {call}"),
        format!("[pid  1234] {call}"),
        format!("08:43:27 {call}"),
        format!("08:43:27.355417 {call}"),
        format!("1795423471.159029 {call}"),
        format!("1234  1795423471.159029 {call} <0.000012>"),
        format!("     0.000410 [  12] [00007f047fdfec47] {call}"),
        format!("[pid  1234] 08:43:39.519427 {call} <0.000004>"),
    ];
    for line in &layouts {
        let (trace, report) = import(&format!("{line}\n"));
        assert_eq!(report.unparsed, 0, "{line}: {:?}", report.samples);
        assert_eq!(syscalls(&trace, Abi::X86_64), ["openat"], "{line}");
        assert_eq!(files(&trace), ["/etc/passwd read ok"], "{line}");
    }
    // `-ff` files: no pid, the hint names the process; a leading integer is a timestamp.
    let (trace, report) = import_with("x86_64", &format!("1795423558 {call}\n"), Some(42));
    assert_eq!(report.unparsed, 0);
    assert_eq!(files(&trace), ["/etc/passwd read ok"]);
}

#[test]
fn y_and_yy_decorations_resolve_dirfds_and_cwd() {
    let (trace, report) = import(concat!(
        "1 openat(AT_FDCWD</srv/app>, \"conf/a.toml\", O_RDONLY) = 3</srv/app/conf/a.toml>\n",
        "1 openat(AT_FDCWD</srv/app>, \"/etc/x\", O_RDONLY) = 4</etc/x>\n",
        "1 openat(5</var/lib/app>, \"db\", O_RDWR|O_CREAT, 0600) = 6</var/lib/app/db>\n",
        "1 unlink(\"tmp/old\") = 0\n",
        "1 mmap(NULL, 8192, PROT_READ|PROT_EXEC, MAP_PRIVATE, 7</usr/lib/libz.so.1>, 0) = 0x7f00\n",
        "1 fcntl(0</dev/null<char 1:3>>, F_GETFD) = 0\n",
        "1 connect(8<UNIX-STREAM:[10850]>, {sa_family=AF_UNIX, sun_path=\"/run/x.sock\"}, 15) = 0\n",
        "1 read(9<TCP:[127.0.0.1:1->127.0.0.1:2]>, \"\", 4) = 0\n",
        "1 openat(AT_FDCWD</srv/app>, \"lib\", O_RDONLY|O_DIRECTORY) = 10</usr/lib>\n",
    ));
    assert_eq!(report.unparsed, 0, "{:?}", report.samples);
    assert_files(
        &trace,
        &[
            "/srv/app/conf/a.toml read ok",
            "/etc/x read ok",
            "/var/lib/app/db create ok",
            "/var/lib/app/db write ok",
            // The cwd learnt from `AT_FDCWD</srv/app>` resolves the undecorated `unlink`.
            "/srv/app/tmp/old delete ok",
            "/usr/lib/libz.so.1 mmap-exec ok",
            "/run/x.sock connect ok",
            // The decorated result (kernel resolution, symlink followed) wins.
            "/usr/lib search ok",
        ],
    );
    assert_eq!(trace.meta.integrity.paths_unresolved, 0);
}

#[test]
fn fd_table_and_cwd_without_decorations() {
    let (trace, _) = import(concat!(
        "1 openat(AT_FDCWD, \"/usr/lib/x86_64-linux-gnu/libc.so.6\", O_RDONLY|O_CLOEXEC) = 3\n",
        "1 mmap(0x7f00, 1400832, PROT_READ|PROT_EXEC, MAP_PRIVATE|MAP_FIXED|MAP_DENYWRITE, 3, 0x26000) = 0x7f00\n",
        "1 close(3) = 0\n",
        "1 memfd_create(\"jit\", MFD_CLOEXEC) = 3\n",
        "1 mmap(NULL, 4096, PROT_READ|PROT_EXEC, MAP_SHARED, 3, 0) = 0x7f10\n",
        "1 openat(AT_FDCWD, \"/srv\", O_RDONLY|O_DIRECTORY) = 4\n",
        "1 openat(4, \"data/x\", O_WRONLY|O_TRUNC) = 5\n",
        "1 dup2(4, 9) = 9\n",
        "1 mkdirat(9, \"new\", 0755) = 0\n",
        "1 chdir(\"/var/tmp\") = 0\n",
        "1 creat(\"out\", 0644) = 6\n",
        "1 fchdir(4) = 0\n",
        "1 rmdir(\"gone/..//old/.\") = -1 ENOENT (No such file or directory)\n",
        "1 ftruncate(5, 0) = 0\n",
    ));
    assert_files(
        &trace,
        &[
            "/usr/lib/x86_64-linux-gnu/libc.so.6 mmap-exec ok",
            "/srv search ok",
            "/srv/data/x write ok",
            "/srv/new create ok",
            "/var/tmp/out create ok",
            "/var/tmp/out write ok",
            "/srv/old delete ENOENT",
        ],
    );
    // The memfd reused fd 3: its executable mapping has no path to report.
    assert_eq!(
        files(&trace)
            .iter()
            .filter(|f| f.contains("mmap-exec"))
            .count(),
        1
    );
}

#[test]
fn unresolved_relative_paths_are_labelled_and_counted() {
    let (trace, _) = import(concat!(
        "1 openat(AT_FDCWD, \"./conf/x\", O_RDONLY) = 3\n",
        "1 openat(AT_FDCWD, \"./conf/x\", O_RDONLY) = 3\n",
        "1 openat(7, \"y\", O_RDONLY) = -1 ENOENT (No such file or directory)\n",
        "1 execve(\"./run\", [\"./run\"], 0x7ffd /* 3 vars */) = 0\n",
    ));
    assert_files(
        &trace,
        &[
            "<unknown-cwd>/conf/x read ok",
            "<unknown-fd-7>/y read ENOENT",
            "<unknown-cwd>/run exec ok",
        ],
    );
    assert_eq!(trace.meta.integrity.paths_unresolved, 3);
    assert!(files(&trace).iter().all(|f| !f.starts_with('/')));
}

#[test]
fn truncated_strings_escapes_and_non_utf8_paths() {
    let (trace, report) = import(concat!(
        "1 openat(AT_FDCWD, \"/tmp/a\\nb\\\"c\\\\d\\x41\\101\", O_RDONLY) = 3\n",
        "1 openat(AT_FDCWD, \"/tmp/\\377\\376raw\", O_RDONLY) = 3\n",
        "1 openat(AT_FDCWD, \"/tmp/\\377\\376raw\", O_WRONLY) = 3\n",
        "1 openat(AT_FDCWD, \"/very/long/pa\"..., O_RDONLY) = 3\n",
        "1 write(1, \"abc\"..., 4096) = 4096\n",
    ));
    assert_eq!(report.unparsed, 0);
    assert_files(
        &trace,
        &[
            "/tmp/a\nb\"c\\dAA read ok",
            "/tmp/\u{fffd}\u{fffd}raw read ok",
        ],
    );
    assert_eq!(trace.meta.integrity.paths_lossy, 1);
    assert_eq!(trace.meta.integrity.paths_truncated, 1);
    assert!(!files(&trace).iter().any(|f| f.contains("/very")));
}

#[test]
fn x_raw_abbrev_and_verbose_agree() {
    let abbrev = concat!(
        "1 openat(AT_FDCWD, \"/d/f\", O_WRONLY|O_CREAT|O_TRUNC|O_CLOEXEC, 04755) = 4\n",
        "1 socket(AF_INET, SOCK_STREAM|SOCK_CLOEXEC, IPPROTO_IP) = 3\n",
        "1 bind(3, {sa_family=AF_INET, sin_port=htons(80), sin_addr=inet_addr(\"127.0.0.1\")}, 16) = 0\n",
        "1 mmap(NULL, 4096, PROT_READ|PROT_WRITE|PROT_EXEC, MAP_PRIVATE|MAP_ANONYMOUS, -1, 0) = 0x7f00\n",
        "1 clone(child_stack=NULL, flags=CLONE_NEWNET|SIGCHLD) = 2\n",
    );
    let raw = concat!(
        "1 openat(-100, \"/d/f\", 0x80241, 04755) = 4\n",
        "1 socket(0x2, 0x1|0x80000, 0) = 3\n",
        "1 bind(3, {sa_family=0x2, sin_port=\"\\x00\\x50\", sin_addr=\"\\x7f\\x00\\x00\\x01\"}, 16) = 0\n",
        "1 mmap(NULL, 4096, 0x7, 0x22, -1, 0) = 0x7f00\n",
        "1 clone(child_stack=NULL, flags=0x40000011) = 2\n",
    );
    let verbose = concat!(
        "1 openat(-100 /* AT_FDCWD */, \"/d/f\", 0x80241 /* O_WRONLY|O_CREAT|O_TRUNC|O_CLOEXEC */, 04755) = 4\n",
        "1 socket(0x2 /* AF_INET */, 0x1 /* SOCK_STREAM */|0x80000 /* SOCK_CLOEXEC */, 0 /* IPPROTO_IP */) = 3\n",
        "1 bind(3, {sa_family=0x2 /* AF_INET */, sin_port=\"\\x00\\x50\" /* htons(80) */, sin_addr=\"\\x7f\\x00\\x00\\x01\" /* inet_addr(\"127.0.0.1\") */}, 16) = 0\n",
        "1 mmap(NULL, 4096, 0x7 /* PROT_READ|PROT_WRITE|PROT_EXEC */, 0x22 /* MAP_PRIVATE|MAP_ANONYMOUS */, -1, 0) = 0x7f00\n",
        "1 clone(child_stack=NULL, flags=0x40000000 /* CLONE_NEWNET */|0x11 /* SIGCHLD */) = 2\n",
    );
    let (a, ra) = import(abbrev);
    let (b, rb) = import(raw);
    let (c, rc) = import(verbose);
    assert_eq!((ra.unparsed, rb.unparsed, rc.unparsed), (0, 0, 0));
    assert_eq!(a.to_json(), b.to_json());
    assert_eq!(a.to_json(), c.to_json());
    assert_files(&a, &["/d/f create ok", "/d/f write ok"]);
    assert_eq!(a.setid_modes.len(), 1);
    assert_eq!(a.memory.len(), 1);
    assert_eq!(a.namespaces.len(), 1);
    assert_eq!(
        caps(&a),
        ["CAP_NET_BIND_SERVICE bind", "CAP_SYS_ADMIN clone"]
    );
}

#[test]
fn unfinished_and_resumed_calls_join_per_pid() {
    let (trace, report) = import(concat!(
        "10 openat(AT_FDCWD, \"/etc/a\", O_RDONLY <unfinished ...>\n",
        "11 openat(AT_FDCWD, \"/etc/b\",  <unfinished ...>\n",
        "10 <... openat resumed>) = 3\n",
        "11 <... openat resumed>O_WRONLY) = -1 EACCES (Permission denied)\n",
        "12 <... read resumed>\"x\", 1) = 1\n",
        "13 exit_group(0 <unfinished ...>\n",
        "13 +++ exited with 0 +++\n",
        "14 futex(0x1, FUTEX_WAIT, 0, NULL <unfinished ...>\n",
        "14 <... futex resumed>) = ? <unavailable>\n",
        "15 openat(AT_FDCWD, \"/etc/c\", O_RDONLY <unfinished ...>\n",
    ));
    assert_files(&trace, &["/etc/a read ok", "/etc/b write EACCES"]);
    assert!(!has_file(&trace, "/etc/c read ok"));
    // The resumed line without a start cannot be trusted: counted, with its line number.
    assert_eq!(report.unparsed, 1);
    assert_eq!(report.samples[0].1, 5);
    assert_eq!(
        syscalls(&trace, Abi::X86_64),
        ["exit_group", "futex", "openat"]
    );
}

#[test]
fn signal_exit_and_notice_lines_are_understood() {
    let (trace, report) = import(concat!(
        "5 --- SIGCHLD {si_signo=SIGCHLD, si_code=CLD_EXITED, si_pid=6, si_uid=0, si_status=0} ---\n",
        "5 --- stopped by SIGSTOP ---\n",
        "6 +++ killed by SIGKILL +++\n",
        "7 +++ killed by SIGSEGV (core dumped) +++\n",
        "8 +++ superseded by execve in pid 5 +++\n",
        "5 +++ exited with 3 +++\n",
        "strace: Process 9 attached\n",
        "strace: Process 9 detached\n",
        "\n",
        " > /usr/lib/x86_64-linux-gnu/libc.so.6(__write+0x14) [0x10e2a4]\n",
        "9 restart_syscall(<... resuming interrupted read ...>) = 0\n",
    ));
    assert_eq!(report.unparsed, 0, "{:?}", report.samples);
    assert_eq!(report.lines, 11);
    assert_eq!(syscalls(&trace, Abi::X86_64), ["restart_syscall"]);
    // The delivered signal is kept; "stopped by SIGSTOP" is a notice, not a signal name.
    assert_eq!(
        trace.meta.lifecycle.signals.iter().collect::<Vec<_>>(),
        ["SIGCHLD"]
    );
}

#[test]
fn unknown_syscall_numbers_resolve_through_the_tables() {
    let (trace, report) = import(concat!(
        "1 syscall_0x1c8(0, 0, 0, 0xa62748, 0x21e3e010, 0x6) = -1 EINVAL (Invalid argument)\n",
        "1 syscall_462(0, 0) = -1 ENOSYS (Function not implemented)\n",
        "1 syscall_0x3e7(0x5c0a, 0, 0) = -1 ENOSYS (Function not implemented)\n",
        "1 no_such_call(1) = 0\n",
    ));
    assert_eq!(
        syscalls(&trace, Abi::X86_64),
        ["futex_requeue", "mseal", "syscall_999"]
    );
    assert_eq!(report.unparsed, 1);
    assert_eq!(report.samples[0].2, "1 no_such_call(1) = 0");
}

#[test]
fn personality_notes_switch_the_abi_per_pid() {
    let (trace, report) = import(concat!(
        "[pid  20] 08:43:39.519427 [ Process PID=20 runs in 32 bit mode. ]\n",
        "[pid  20] getpid() = 20\n",
        "[pid  20] open(\"/etc/hostname\", O_RDONLY) = 3\n",
        "[pid  21] getpid() = 21\n",
        "strace: [ Process PID=22 runs in x32 mode. ]\n",
        "[pid  22] read(0, \"\", 1) = 0\n",
        "[ Process PID=20 runs in 64 bit mode. ]\n",
        "[pid  20] close(3) = 0\n",
    ));
    assert_eq!(report.unparsed, 0, "{:?}", report.samples);
    assert_eq!(syscalls(&trace, Abi::I386), ["getpid", "open"]);
    assert_eq!(syscalls(&trace, Abi::X32), ["read"]);
    assert_eq!(syscalls(&trace, Abi::X86_64), ["close", "getpid"]);
    assert_files(&trace, &["/etc/hostname read ok"]);

    // aarch64 has no 32-bit ABI in the trace format: nothing is recorded, and a note says so.
    let (trace, report) = import_with(
        "aarch64",
        "[ Process PID=5 runs in 32 bit mode. ]\n5 getpid() = 5\n6 getpid() = 6\n",
        None,
    );
    assert_eq!(syscalls(&trace, Abi::Aarch64), ["getpid"]);
    assert_eq!(report.notes.len(), 1);
}

// ------------------------------------------------------------------ files

#[test]
fn open_flags_decide_the_access_kinds() {
    let cases: &[(&str, &[&str])] = &[
        ("O_RDONLY", &["read"]),
        ("O_RDONLY|O_CLOEXEC", &["read"]),
        ("O_WRONLY", &["write"]),
        ("O_RDWR", &["read", "write"]),
        ("O_WRONLY|O_APPEND", &["write"]),
        ("O_RDONLY|O_TRUNC", &["write"]),
        ("O_WRONLY|O_CREAT|O_EXCL", &["create", "write"]),
        ("O_RDONLY|O_CREAT", &["create", "write"]),
        ("O_PATH|O_CLOEXEC", &["search"]),
        ("O_RDONLY|O_DIRECTORY", &["search"]),
        ("O_RDWR|O_TMPFILE", &["create", "write"]),
        ("0x10000", &["search"]),
        ("0x241", &["create", "write"]),
    ];
    for (flags, expected) in cases {
        let (trace, _) = import(&format!("1 openat(AT_FDCWD, \"/p\", {flags}, 0600) = 3\n"));
        let mut got: Vec<&str> = trace.files.iter().map(|f| f.access.as_str()).collect();
        got.sort_unstable();
        assert_eq!(&got, expected, "{flags}");
    }
    let (trace, _) = import("1 openat2(AT_FDCWD, \"/q\", {flags=O_WRONLY|O_CREAT, mode=04755, resolve=RESOLVE_NO_SYMLINKS}, 24) = 3\n");
    assert_files(&trace, &["/q create ok", "/q write ok"]);
    assert_eq!(trace.setid_modes.len(), 1);
    let (trace, _) = import_with("aarch64", "1 openat(AT_FDCWD, \"/p\", 0x4000) = 3\n", None);
    assert_eq!(files(&trace), ["/p search ok"]);
}

#[test]
fn path_syscalls_map_to_access_kinds() {
    let cases: &[(&str, &[&str])] = &[
        ("stat(\"/a\", {st_mode=S_IFREG|0644, ...}) = 0", &["/a stat ok"]),
        ("newfstatat(AT_FDCWD, \"/a\", 0x7ffd, 0) = -1 ENOENT (No such file or directory)", &["/a stat ENOENT"]),
        ("statx(AT_FDCWD, \"/a\", AT_STATX_SYNC_AS_STAT, STATX_ALL, 0x7f) = 0", &["/a stat ok"]),
        ("access(\"/a\", R_OK) = 0", &["/a stat ok"]),
        ("faccessat2(AT_FDCWD, \"/a\", X_OK, AT_EACCESS) = 0", &["/a stat ok"]),
        ("readlink(\"/a\", \"b\", 4096) = 1", &["/a stat ok"]),
        ("readlinkat(AT_FDCWD, \"/a\", \"b\", 4096) = 1", &["/a stat ok"]),
        ("unlink(\"/a\") = 0", &["/a delete ok"]),
        ("unlinkat(AT_FDCWD, \"/a\", AT_REMOVEDIR) = 0", &["/a delete ok"]),
        ("rmdir(\"/a\") = 0", &["/a delete ok"]),
        ("rename(\"/a\", \"/b\") = 0", &["/a delete ok", "/b rename ok"]),
        ("renameat2(AT_FDCWD, \"/a\", AT_FDCWD, \"/b\", RENAME_NOREPLACE) = 0", &["/a delete ok", "/b rename ok"]),
        ("mkdir(\"/a\", 0755) = 0", &["/a create ok"]),
        ("symlink(\"target\", \"/a\") = 0", &["/a create ok"]),
        ("symlinkat(\"target\", AT_FDCWD, \"/a\") = 0", &["/a create ok"]),
        ("link(\"/a\", \"/b\") = 0", &["/a stat ok", "/b create ok"]),
        ("linkat(AT_FDCWD, \"/a\", AT_FDCWD, \"/b\", 0) = 0", &["/a stat ok", "/b create ok"]),
        ("mknod(\"/a\", S_IFIFO|0666) = 0", &["/a create ok"]),
        ("chmod(\"/a\", 0644) = 0", &["/a chattr ok"]),
        ("fchmodat(AT_FDCWD, \"/a\", 0644) = 0", &["/a chattr ok"]),
        ("chown(\"/a\", 1, 1) = 0", &["/a chattr ok"]),
        ("fchownat(AT_FDCWD, \"/a\", 1, 1, 0) = 0", &["/a chattr ok"]),
        ("utimensat(AT_FDCWD, \"/a\", NULL, 0) = 0", &["/a write ok"]),
        ("truncate(\"/a\", 0) = 0", &["/a write ok"]),
        ("setxattr(\"/a\", \"user.x\", \"1\", 1, 0) = 0", &["/a write ok"]),
        ("chdir(\"/a\") = 0", &["/a search ok"]),
        ("chroot(\"/a\") = -1 EPERM (Operation not permitted)", &["/a search EPERM"]),
        ("execve(\"/bin/x\", [\"x\"], 0x7ffd /* 1 var */) = -1 ENOENT (No such file or directory)", &["/bin/x exec ENOENT"]),
        ("execveat(AT_FDCWD, \"/bin/x\", [\"x\"], NULL, 0) = 0", &["/bin/x exec ok"]),
        ("mount(\"none\", \"/mnt\", \"tmpfs\", 0, NULL) = 0", &[]),
    ];
    for (call, expected) in cases {
        let (trace, report) = import(&format!("1 {call}\n"));
        assert_eq!(report.unparsed, 0, "{call}");
        let mut got = files(&trace);
        got.sort();
        assert_eq!(&got, expected, "{call}");
    }
    // `fstatat(fd, "", AT_EMPTY_PATH)` is an fstat: nothing new to report.
    let (trace, _) =
        import("1 newfstatat(3</etc/x>, \"\", {st_mode=S_IFREG|0644, ...}, AT_EMPTY_PATH) = 0\n");
    assert!(trace.files.is_empty());
}

#[test]
fn exec_records_the_program_and_forgets_effective_ids() {
    let (trace, _) = import(concat!(
        "1 geteuid() = 0\n",
        "1 execve(\"/usr/bin/sudo\", [\"sudo\"], 0x7ffd /* 3 vars */) = 0\n",
        "1 setuid(1000) = 0\n",
    ));
    assert_eq!(trace.execs.len(), 1);
    assert_eq!(
        trace.execs.iter().next().map(|e| e.path.as_str()),
        Some("/usr/bin/sudo")
    );
    assert!(trace.execs.iter().all(|e| e.interpreter.is_none()));
    // Only the effective uid was known, and exec may have changed it.
    assert!(caps(&trace).is_empty());
}

#[test]
fn memory_setid_devices_and_mounts() {
    let (trace, _) = import(concat!(
        "1 mmap(NULL, 4096, PROT_READ|PROT_WRITE|PROT_EXEC, MAP_PRIVATE|MAP_ANONYMOUS, -1, 0) = 0x7f00\n",
        "1 mprotect(0x7f00, 4096, PROT_READ|PROT_EXEC) = -1 EACCES (Permission denied)\n",
        "1 pkey_mprotect(0x7f00, 4096, PROT_READ, 1) = 0\n",
        "1 shmat(1, NULL, SHM_EXEC) = 0x7f10\n",
        "1 chmod(\"/usr/local/bin/x\", 04755) = 0\n",
        "1 fchmod(3</tmp/y>, 02755) = -1 EPERM (Operation not permitted)\n",
        "1 mkdir(\"/srv/shared\", 02775) = 0\n",
        "1 mknodat(AT_FDCWD, \"/dev/null2\", S_IFCHR|0666, makedev(0x1, 0x3)) = 0\n",
        "1 mknod(\"/dev/sdz\", S_IFBLK|0600, makedev(0x8, 0)) = -1 EPERM (Operation not permitted)\n",
        "1 mount(\"none\", \"/\", NULL, MS_REC|MS_PRIVATE, NULL) = 0\n",
        "1 umount2(\"/mnt\", MNT_DETACH) = -1 EPERM (Operation not permitted)\n",
        "1 fsconfig(3, FSCONFIG_CMD_CREATE, NULL, NULL, 0) = 0\n",
        "1 open_tree(AT_FDCWD, \"/srv\", OPEN_TREE_CLOEXEC) = 4\n",
        "1 move_mount(4, \"\", AT_FDCWD, \"/mnt/x\", MOVE_MOUNT_F_EMPTY_PATH) = 0\n",
    ));
    let memory: Vec<String> = trace
        .memory
        .iter()
        .map(|m| format!("{:?} {} {}", m.kind, m.syscall, m.result))
        .collect();
    assert_eq!(
        memory,
        [
            "WriteExec mmap ok",
            "ExecGain mprotect EACCES",
            "ShmExec shmat ok"
        ]
    );
    let setid: Vec<String> = trace
        .setid_modes
        .iter()
        .map(|s| {
            format!(
                "{} {} {} {}",
                s.syscall,
                s.path.as_deref().unwrap_or("-"),
                s.mode,
                s.result
            )
        })
        .collect();
    assert_eq!(
        setid,
        [
            "chmod /usr/local/bin/x 4755 ok",
            "fchmod /tmp/y 2755 EPERM",
            "mkdir /srv/shared 2775 ok"
        ]
    );
    let devices: Vec<String> = trace
        .devices
        .iter()
        .map(|d| format!("{} {:?} {}", d.path, d.kind, d.result))
        .collect();
    assert_eq!(devices, ["/dev/null2 Char ok", "/dev/sdz Block EPERM"]);
    let mounts: Vec<String> = trace
        .mounts
        .iter()
        .map(|m| {
            format!(
                "{} {} {}",
                m.syscall,
                m.target.as_deref().unwrap_or("-"),
                m.result
            )
        })
        .collect();
    assert_eq!(
        mounts,
        [
            "fsconfig - ok",
            "mount / ok",
            "move_mount /mnt/x ok",
            "open_tree /srv ok",
            "umount2 /mnt EPERM"
        ]
    );
    // mount and move_mount prove CAP_SYS_ADMIN; a non-cloning open_tree and fsconfig do not.
    assert_eq!(
        caps(&trace),
        [
            "CAP_SYS_ADMIN mount",
            "CAP_SYS_ADMIN move_mount",
            "CAP_MKNOD mknodat"
        ]
    );
}

// ------------------------------------------------------------------ sockets and addresses

#[test]
fn sockets_and_addresses_are_normalised() {
    let (trace, report) = import(concat!(
        "1 socket(AF_INET, SOCK_STREAM|SOCK_CLOEXEC|SOCK_NONBLOCK, IPPROTO_TCP) = 3\n",
        "1 socket(AF_UNIX, SOCK_DGRAM|SOCK_CLOEXEC, 0) = 4\n",
        "1 socket(AF_PACKET, SOCK_RAW|SOCK_CLOEXEC, htons(0 /* ETH_P_??? */)) = 5\n",
        "1 socket(AF_NETLINK, SOCK_RAW|SOCK_CLOEXEC, NETLINK_ROUTE) = 6\n",
        "1 socket(AF_INET6, SOCK_DGRAM, IPPROTO_IP) = -1 EAFNOSUPPORT (Address family not supported by protocol)\n",
        "1 socket(0x10, 0x3, 0) = 7\n",
        "1 bind(3, {sa_family=AF_INET, sin_port=htons(8080), sin_addr=inet_addr(\"127.0.0.1\")}, 16) = 0\n",
        "1 bind(3, {sa_family=AF_INET6, sin6_port=htons(80), sin6_flowinfo=htonl(0), inet_pton(AF_INET6, \"::1\", &sin6_addr), sin6_scope_id=0}, 28) = -1 EACCES (Permission denied)\n",
        "1 bind(4, {sa_family=AF_UNIX, sun_path=@\"abstract\"}, 11) = 0\n",
        "1 bind(4, {sa_family=AF_UNIX, sun_path=\"/run/app.sock\"}, 16) = 0\n",
        "1 connect(4, {sa_family=AF_UNIX, sun_path=\"/run/systemd/journal/socket\"}, 29) = 0\n",
        "1 connect(3, {sa_family=AF_INET6, sin6_port=\"\\x01\\xbb\", sin6_flowinfo=\"\\x00\\x00\\x00\\x00\", sin6_addr=\"\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x01\", sin6_scope_id=0}, 28) = -1 EINPROGRESS (Operation now in progress)\n",
    ));
    assert_eq!(report.unparsed, 0, "{:?}", report.samples);
    let sockets: Vec<String> = trace
        .sockets
        .iter()
        .map(|s| format!("{} {} {} {}", s.family, s.sock_type, s.protocol, s.result))
        .collect();
    assert_eq!(
        sockets,
        [
            "AF_INET SOCK_STREAM IPPROTO_TCP ok",
            "AF_INET6 SOCK_DGRAM IPPROTO_IP EAFNOSUPPORT",
            "AF_NETLINK SOCK_RAW NETLINK_ROUTE ok",
            "AF_PACKET SOCK_RAW htons(0) ok",
            "AF_UNIX SOCK_DGRAM 0 ok",
        ]
    );
    let addresses: Vec<String> = trace
        .addresses
        .iter()
        .map(|a| format!("{:?} {} {} {}", a.op, a.family, a.address, a.result))
        .collect();
    assert_eq!(
        addresses,
        [
            "Bind AF_INET 127.0.0.1:8080 ok",
            "Bind AF_INET6 [::1]:80 EACCES",
            "Bind AF_UNIX /run/app.sock ok",
            "Bind AF_UNIX @abstract ok",
            "Connect AF_INET6 [::1]:443 EINPROGRESS",
            "Connect AF_UNIX /run/systemd/journal/socket ok",
        ]
    );
    assert_files(
        &trace,
        &[
            "/run/app.sock create ok",
            "/run/systemd/journal/socket connect ok",
        ],
    );
    // AF_PACKET proves CAP_NET_RAW; no bind below 1024 succeeded.
    assert_eq!(caps(&trace), ["CAP_NET_RAW socket"]);
}

// ------------------------------------------------------------------ namespaces, personality, scheduling

#[test]
fn namespaces_personality_and_realtime() {
    let (trace, _) = import(concat!(
        "1 unshare(CLONE_NEWNS|CLONE_NEWNET) = 0\n",
        "1 clone3({flags=CLONE_NEWPID|CLONE_NEWUTS, exit_signal=SIGCHLD, stack=NULL, stack_size=0}, 88) = 2\n",
        "1 setns(3<net:[4026531840]>, 0) = 0\n",
        "1 setns(4</proc/1/ns/ipc>, CLONE_NEWIPC) = -1 EPERM (Operation not permitted)\n",
        "1 personality(PER_LINUX|ADDR_NO_RANDOMIZE) = 0 (PER_LINUX)\n",
        "1 personality(0xffffffff) = 0 (PER_LINUX)\n",
        "1 sched_setscheduler(0, SCHED_FIFO, [10]) = 0\n",
        "1 sched_setscheduler(0, SCHED_RR|SCHED_RESET_ON_FORK, [5]) = 0\n",
        "1 sched_setscheduler(0, SCHED_OTHER, [0]) = 0\n",
        "1 sched_setscheduler(0, SCHED_RR, [99]) = -1 EPERM (Operation not permitted)\n",
        "1 sched_setattr(0, {size=56, sched_policy=SCHED_DEADLINE, sched_flags=0}, 0) = 0\n",
    ));
    let namespaces: Vec<String> = trace
        .namespaces
        .iter()
        .map(|n| format!("{} {} {}", n.syscall, n.kind.as_str(), n.result))
        .collect();
    assert_eq!(
        namespaces,
        [
            "clone3 pid ok",
            "clone3 uts ok",
            "setns ipc EPERM",
            "setns net ok",
            "unshare net ok",
            "unshare mnt ok",
        ]
    );
    assert_eq!(
        trace.personalities.iter().cloned().collect::<Vec<_>>(),
        ["0x40000", "0xffffffff"]
    );
    let realtime: Vec<String> = trace
        .realtime
        .iter()
        .map(|r| format!("{} {}", r.syscall, r.policy))
        .collect();
    assert_eq!(
        realtime,
        [
            "sched_setattr SCHED_DEADLINE",
            "sched_setscheduler SCHED_FIFO",
            "sched_setscheduler SCHED_RR"
        ]
    );
    assert_eq!(
        caps(&trace),
        ["CAP_SYS_ADMIN clone3", "CAP_SYS_ADMIN unshare"]
    );
}

// ------------------------------------------------------------------ capabilities

#[test]
fn capability_inference_rules() {
    // (log, expected capabilities)
    let cases: &[(&str, &[&str])] = &[
        ("bind(3, {sa_family=AF_INET, sin_port=htons(443), sin_addr=inet_addr(\"0.0.0.0\")}, 16) = 0", &["CAP_NET_BIND_SERVICE bind"]),
        ("bind(3, {sa_family=AF_INET, sin_port=htons(1024), sin_addr=inet_addr(\"0.0.0.0\")}, 16) = 0", &[]),
        ("bind(3, {sa_family=AF_INET, sin_port=htons(0), sin_addr=inet_addr(\"0.0.0.0\")}, 16) = 0", &[]),
        ("bind(3, {sa_family=AF_INET, sin_port=htons(80), sin_addr=inet_addr(\"0.0.0.0\")}, 16) = -1 EACCES (Permission denied)", &[]),
        ("socket(AF_INET, SOCK_RAW, IPPROTO_ICMP) = 3", &["CAP_NET_RAW socket"]),
        ("socket(AF_INET, SOCK_DGRAM, IPPROTO_ICMP) = 3", &[]),
        ("socket(AF_PACKET, SOCK_DGRAM, 0) = -1 EPERM (Operation not permitted)", &[]),
        ("finit_module(3, \"\", 0) = 0", &["CAP_SYS_MODULE finit_module"]),
        ("delete_module(\"x\", O_NONBLOCK) = -1 EPERM (Operation not permitted)", &[]),
        ("chroot(\"/srv/jail\") = 0", &["CAP_SYS_CHROOT chroot"]),
        ("settimeofday({tv_sec=0, tv_usec=0}, NULL) = 0", &["CAP_SYS_TIME settimeofday"]),
        ("clock_settime(CLOCK_REALTIME, {tv_sec=0, tv_nsec=0}) = 0", &["CAP_SYS_TIME clock_settime"]),
        ("adjtimex({modes=0, offset=0}) = 0 (TIME_OK)", &[]),
        ("adjtimex({modes=ADJ_OFFSET_SS_READ, offset=0}) = 0 (TIME_OK)", &[]),
        ("adjtimex({modes=ADJ_OFFSET|ADJ_STATUS, offset=0}) = 0 (TIME_OK)", &["CAP_SYS_TIME adjtimex"]),
        ("clock_adjtime(CLOCK_REALTIME, {modes=ADJ_FREQUENCY, freq=0}) = 0 (TIME_OK)", &["CAP_SYS_TIME clock_adjtime"]),
        ("mknod(\"/dev/x\", S_IFCHR|0600, makedev(0x1, 0x3)) = 0", &["CAP_MKNOD mknod"]),
        ("mknod(\"/tmp/fifo\", S_IFIFO|0600) = 0", &[]),
        ("setgroups(0, []) = 0", &["CAP_SETGID setgroups"]),
        ("sethostname(\"x\", 1) = 0", &["CAP_SYS_ADMIN sethostname"]),
        ("reboot(LINUX_REBOOT_MAGIC1, LINUX_REBOOT_MAGIC2, LINUX_REBOOT_CMD_POWER_OFF, NULL) = 0", &["CAP_SYS_BOOT reboot"]),
        ("unshare(CLONE_NEWUSER|CLONE_NEWNS) = 0", &[]),
        ("open_tree(AT_FDCWD, \"/srv\", OPEN_TREE_CLONE|AT_RECURSIVE) = 3", &["CAP_SYS_ADMIN open_tree"]),
    ];
    for (call, expected) in cases {
        let (trace, report) = import(&format!("1 {call}\n"));
        assert_eq!(report.unparsed, 0, "{call}: {:?}", report.samples);
        assert_eq!(&caps(&trace), expected, "{call}");
    }
}

#[test]
fn set_id_inference_needs_known_ids() {
    let cases: &[(&str, &[&str])] = &[
        // Root (getuid returned 0) switching to another uid: needs CAP_SETUID.
        ("getuid() = 0\n1 setuid(65534) = 0", &["CAP_SETUID setuid"]),
        // Root staying root: nothing changes.
        ("geteuid() = 0\n1 setresuid(0, 0, 0) = 0", &[]),
        // Unknown ids: nothing can be proved.
        ("setuid(65534) = 0", &[]),
        // An unprivileged process picking its own real uid needs nothing.
        (
            "getresuid([1000], [2000], [2000]) = 0\n1 setuid(1000) = 0",
            &[],
        ),
        (
            "getresuid([1000], [2000], [2000]) = 0\n1 setreuid(-1, 3000) = 0",
            &["CAP_SETUID setreuid"],
        ),
        // Root's unobserved gids are taken to be 0.
        ("getuid() = 0\n1 setgid(65534) = 0", &["CAP_SETGID setgid"]),
        (
            "getresgid([5], [5], [5]) = 0\n1 setresgid(-1, 5, -1) = 0",
            &[],
        ),
        // After dropping to 65534 the process is no longer root: going back fails anyway.
        (
            "getuid() = 0\n1 setuid(65534) = 0\n1 setuid(0) = -1 EPERM (Operation not permitted)",
            &["CAP_SETUID setuid"],
        ),
        // In a user namespace of its own, capabilities are the namespace's.
        (
            "getuid() = 0\n1 unshare(CLONE_NEWUSER) = 0\n1 setuid(5) = 0\n1 setgroups(0, []) = 0",
            &[],
        ),
    ];
    for (log, expected) in cases {
        let (trace, report) = import(&format!("1 {log}\n"));
        assert_eq!(report.unparsed, 0, "{log}");
        assert_eq!(&caps(&trace), expected, "{log}");
    }
    // Children inherit the known ids.
    let (trace, _) =
        import("1 getuid() = 0\n1 clone(child_stack=NULL, flags=SIGCHLD) = 2\n2 setuid(33) = 0\n");
    assert_eq!(caps(&trace), ["CAP_SETUID setuid"]);
}

// ------------------------------------------------------------------ processes

#[test]
fn children_inherit_or_share_cwd_and_fds() {
    let (trace, _) = import(concat!(
        "1 chdir(\"/srv\") = 0\n",
        "1 openat(AT_FDCWD, \"/etc\", O_RDONLY|O_DIRECTORY) = 3\n",
        "1 clone(child_stack=NULL, flags=CLONE_CHILD_CLEARTID|SIGCHLD) = 2\n",
        "2 openat(AT_FDCWD, \"a\", O_RDONLY) = 4\n",
        "2 openat(3, \"passwd\", O_RDONLY) = 5\n",
        "2 chdir(\"/tmp\") = 0\n",
        "1 openat(AT_FDCWD, \"b\", O_RDONLY) = 4\n",
        // A thread shares the cwd: its chdir moves the parent too.
        "1 clone3({flags=CLONE_VM|CLONE_FS|CLONE_FILES|CLONE_THREAD, exit_signal=0}, 88) = 3\n",
        "3 chdir(\"/var\") = 0\n",
        "1 openat(AT_FDCWD, \"c\", O_RDONLY) = 6\n",
        // The child appears before the parent's clone returns; it inherits from the caller.
        "1 vfork( <unfinished ...>\n",
        "4 openat(AT_FDCWD, \"d\", O_RDONLY) = 7\n",
        "1 <... vfork resumed>) = 4\n",
    ));
    assert_files(
        &trace,
        &[
            "/srv/a read ok",
            "/etc/passwd read ok",
            "/srv/b read ok",
            "/var/c read ok",
            "/var/d read ok",
        ],
    );
    assert_eq!(trace.meta.integrity.processes, 4);
}

#[test]
fn ff_files_fed_in_pid_order_inherit_across_files() {
    let mut names: Vec<(u32, &str)> = ["ff/trace.12745", "ff/trace.12743", "ff/trace.12744"]
        .iter()
        .map(|n| (pid_from_ff_name(n).expect("pid"), *n))
        .collect();
    names.sort_unstable();
    let mut importer = StraceImporter::new("x86_64");
    for (pid, name) in &names {
        importer
            .feed(name, &fixture(name)[..], Some(*pid))
            .expect("text");
    }
    let (trace, report) = importer.finish();
    assert_eq!(report.unparsed, 0, "{:?}", report.samples);
    // `sh -c 'cd /etc && cat hostname'`: the cat child opened `hostname` relative to /etc.
    assert_files(
        &trace,
        &[
            "/etc search ok",
            "/etc/hostname read ok",
            "/usr/bin/cat exec ok",
        ],
    );
    assert!(has_file(&trace, "/nonexistent stat ENOENT"));
    // Only the shell's own `stat(".")`, before any `chdir`, has no known base.
    let unresolved: Vec<String> = files(&trace)
        .into_iter()
        .filter(|f| f.starts_with("<unknown-"))
        .collect();
    assert_eq!(unresolved, ["<unknown-cwd> stat ok"]);
    assert_eq!(trace.meta.integrity.paths_unresolved, 1);
    assert_eq!(trace.meta.integrity.processes, 3);
}

#[test]
fn stderr_logs_attribute_unprefixed_lines() {
    let (trace, report) = import_fixture("i386-stderr.log");
    assert_eq!(report.unparsed, 0, "{:?}", report.samples);
    assert_eq!(syscalls(&trace, Abi::I386), ["exit", "getpid", "open"]);
    assert!(syscalls(&trace, Abi::X86_64).contains(&"vfork"));
    assert!(!syscalls(&trace, Abi::X86_64).contains(&"open"));
    assert_files(&trace, &["/etc/hostname read ok"]);
    assert_eq!(trace.meta.integrity.processes, 2);
}

// ------------------------------------------------------------------ robustness

#[test]
fn unparsed_lines_are_counted_and_sampled() {
    let log = concat!(
        "1 openat(AT_FDCWD, \"/etc/a\", O_RDONLY) = 3\n",
        "this is not strace\n",
        "1 openat(AT_FDCWD, \"/etc/b\n",
        "1 read(3, \"abc\", 3\n",
        "% time     seconds  usecs/call     calls    errors syscall\n",
        "1 Read(3) = 0\n",
        "1 openat(AT_FDCWD, \"/etc/c\", O_RDONLY) = 3\n",
        "garbage 2\n",
        "garbage 3\n",
    );
    let (trace, report) = import(log);
    assert_eq!(report.lines, 9);
    assert_eq!(report.unparsed, 7);
    assert_eq!(trace.meta.integrity.lines_unparsed, 7);
    assert_eq!(report.samples.len(), MAX_SAMPLES);
    assert_eq!(
        report.samples[0],
        ("test.log".to_owned(), 2, "this is not strace".to_owned())
    );
    assert_eq!(report.samples[1].1, 3);
    assert_files(&trace, &["/etc/a read ok", "/etc/c read ok"]);
}

#[test]
fn binary_and_empty_inputs() {
    let mut importer = StraceImporter::new("x86_64");
    let err = importer
        .feed("core.gz", &b"\x1f\x8b\x08\x00\x00\x00\x00\x00"[..], None)
        .expect_err("binary");
    assert_eq!(
        err.to_string(),
        "core.gz does not look like an strace log (binary data in its first KiB)"
    );
    let mut importer = StraceImporter::new("x86_64");
    importer
        .feed("empty", &b""[..], None)
        .expect("empty is fine");
    let (trace, report) = importer.finish();
    assert_eq!(report.lines, 0);
    assert!(trace.syscalls.is_empty());

    struct Failing;
    impl std::io::Read for Failing {
        fn read(&mut self, _: &mut [u8]) -> std::io::Result<usize> {
            Err(std::io::Error::other("disk on fire"))
        }
    }
    let mut importer = StraceImporter::new("x86_64");
    let err = importer
        .feed("f", std::io::BufReader::new(Failing), None)
        .expect_err("io");
    assert_eq!(err.to_string(), "cannot read f: disk on fire");
}

#[test]
fn overlong_lines_are_skipped_without_buffering_them() {
    let mut log = b"1 openat(AT_FDCWD, \"/etc/a\", O_RDONLY) = 3\n1 write(1, \"".to_vec();
    log.resize(log.len() + 3 * MAX_LINE_BYTES, b'x');
    log.extend_from_slice(b"\", 5) = 5\n1 openat(AT_FDCWD, \"/etc/b\", O_RDONLY) = 3\n");
    // One huge final line without a newline, too.
    log.resize(log.len() + 2 * MAX_LINE_BYTES, b'y');
    let mut importer = StraceImporter::new("x86_64");
    // A small buffer makes the long lines arrive in many pieces.
    importer
        .feed(
            "big",
            std::io::BufReader::with_capacity(4096, &log[..]),
            None,
        )
        .expect("text");
    let (trace, report) = importer.finish();
    assert_eq!(report.lines, 4);
    assert_eq!(report.unparsed, 2);
    assert!(report.samples.iter().all(|s| s.2.chars().count() <= 201));
    assert_eq!(report.samples[0].1, 2);
    assert_eq!(report.samples[1].1, 4);
    assert_files(&trace, &["/etc/a read ok", "/etc/b read ok"]);
}

/// A small deterministic generator (xorshift) for the garbage tests.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
}

#[test]
fn garbage_and_truncated_lines_never_panic() {
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    // Random printable-ish bytes built from strace's own vocabulary.
    let pieces: &[&[u8]] = &[
        b"(",
        b")",
        b" = ",
        b"\"",
        b"\\",
        b"<",
        b">",
        b"[",
        b"]",
        b"{",
        b"}",
        b",",
        b"|",
        b"/*",
        b"*/",
        b"<... ",
        b" resumed>",
        b" <unfinished ...>",
        b"openat",
        b"clone",
        b"AT_FDCWD",
        b"3</x>",
        b"-1 ENOENT",
        b"?",
        b"0x",
        b"SOCK_RAW",
        b"flags=",
        b"1234 ",
        b"[pid 7] ",
        b"+++ ",
        b"--- ",
        b"\n",
        b"sa_family=AF_INET",
        b"htons(",
        b"\xff",
    ];
    for _ in 0..300 {
        let mut input = Vec::new();
        for _ in 0..(rng.next() % 200) {
            let piece = pieces[(rng.next() % pieces.len() as u64) as usize];
            input.extend_from_slice(piece);
        }
        let mut importer = StraceImporter::new("x86_64");
        let _ = importer.feed("garbage", &input[..], None);
        let _ = importer.finish();
    }
    // Every prefix of every line of a real log.
    let log = fixture("python-net.log");
    let mut importer = StraceImporter::new("x86_64");
    for line in log.split(|&c| c == b'\n').take(400) {
        for cut in 0..line.len() {
            let _ = importer.feed("cut", &line[..cut], None);
        }
    }
    let (_, report) = importer.finish();
    assert!(report.unparsed > 0);
    // Raw random bytes (mostly rejected as binary, never a panic).
    for _ in 0..200 {
        let bytes: Vec<u8> = (0..(rng.next() % 3000)).map(|_| rng.next() as u8).collect();
        let mut importer = StraceImporter::new("aarch64");
        let _ = importer.feed("random", &bytes[..], Some(3));
        let _ = importer.finish();
    }
}

#[test]
fn repeated_observations_are_recorded_once() {
    let line = "1 openat(AT_FDCWD, \"/etc/a\", O_RDONLY) = 3\n";
    let (trace, report) = import(&line.repeat(10_000));
    assert_eq!(report.lines, 10_000);
    assert_eq!(trace.files.len(), 1);
    assert_eq!(trace.syscalls.len(), 1);
}

#[test]
fn ff_file_names() {
    assert_eq!(pid_from_ff_name("log.1234"), Some(1234));
    assert_eq!(pid_from_ff_name("/tmp/x.y/trace.42"), Some(42));
    assert_eq!(pid_from_ff_name("trace"), None);
    assert_eq!(pid_from_ff_name("trace."), None);
    assert_eq!(pid_from_ff_name("trace.log"), None);
    assert_eq!(pid_from_ff_name("dir.5/trace"), None);
    assert_eq!(pid_from_ff_name("t.99999999999"), None);
}

#[test]
fn epoch_timestamps_date_the_trace() {
    let (trace, _) = import(concat!(
        "1 1795423471.159029 getpid() = 1\n",
        "1 1795423473.900000 getpid() = 1\n",
    ));
    assert_eq!(trace.meta.start.as_deref(), Some("2026-11-23T08:44:31Z"));
    assert_eq!(trace.meta.end.as_deref(), Some("2026-11-23T08:44:34Z"));
    assert_eq!(crate::trace::rfc3339(0), "1970-01-01T00:00:00Z");
    assert_eq!(crate::trace::rfc3339(951_782_400), "2000-02-29T00:00:00Z");
}

// ------------------------------------------------------------------ recorded logs

#[test]
fn recorded_logs_parse_completely() {
    let logs = [
        "sh-ls-cat.log",
        "python-net.log",
        "kill.log",
        "unknown-syscalls.log",
        "personality-sched-ns.log",
        "t.log",
        "tar.log",
        "creds.log",
        "weird-names-yy.log",
        "x-raw.log",
        "x-verbose.log",
        "comm-Y.log",
    ];
    for name in logs {
        let (trace, report) = import_fixture(name);
        assert_eq!(report.unparsed, 0, "{name}: {:?}", report.samples);
        assert!(report.lines > 20, "{name}");
        assert!(syscalls(&trace, Abi::X86_64).contains(&"execve"), "{name}");
        assert!(trace
            .meta
            .backends
            .contains(&crate::trace::Backend::StraceImport));
    }
    // `-r -i -n`: the exit line carries `[????????????????]` for the instruction pointer.
    let (_, report) = import_fixture("r-i-n.log");
    assert_eq!(report.unparsed, 0, "{:?}", report.samples);
}

#[test]
fn recorded_sh_ls_cat() {
    let (trace, _) = import_fixture("sh-ls-cat.log");
    assert_files(
        &trace,
        &[
            "/etc/passwd read ok",
            "/etc/ld.so.preload stat ENOENT",
            "/usr/bin/ls exec ok",
            "/usr/bin/cat exec ok",
            // `-y` shows the kernel's path for the `/lib` symlink.
            "/usr/lib/x86_64-linux-gnu/libc.so.6 mmap-exec ok",
            "/usr/lib/x86_64-linux-gnu/libselinux.so.1 mmap-exec ok",
        ],
    );
    assert_eq!(trace.meta.integrity.processes, 3);
    assert_eq!(trace.execs.len(), 3);
    assert!(trace.capabilities.is_empty());
}

#[test]
fn recorded_python_net() {
    let (trace, _) = import_fixture("python-net.log");
    let addresses: Vec<String> = trace
        .addresses
        .iter()
        .filter(|a| a.family != "AF_INET" || !a.address.ends_with(":0"))
        .map(|a| format!("{:?} {}", a.op, a.address))
        .collect();
    assert!(
        addresses.contains(&"Bind 127.0.0.1:80".to_owned()),
        "{addresses:?}"
    );
    assert!(addresses.contains(&"Bind [::1]:80".to_owned()));
    assert!(addresses.contains(&"Bind @abstract-name".to_owned()));
    assert!(addresses.contains(&"Bind /tmp/sysprof-stracefx-q9/work/sock".to_owned()));
    assert!(addresses.contains(&"Connect /tmp/sysprof-stracefx-q9/work/sock".to_owned()));
    assert_eq!(
        caps(&trace),
        ["CAP_NET_BIND_SERVICE bind", "CAP_NET_RAW socket"]
    );
    assert!(syscalls(&trace, Abi::X86_64).contains(&"clone3"));
    assert!(trace.meta.start.is_some());
}

#[test]
fn recorded_creds_weird_names_and_namespaces() {
    let (trace, _) = import_fixture("creds.log");
    assert_eq!(
        caps(&trace),
        [
            "CAP_SETGID setgid",
            "CAP_SETGID setgroups",
            "CAP_SETUID setuid",
            "CAP_SYS_CHROOT chroot"
        ]
    );
    let (trace, _) = import_fixture("weird-names-yy.log");
    let dir = "/tmp/sysprof-stracefx-q9/work/weird";
    for name in [
        "a b",
        "x>y",
        "nl\nx",
        "q\"uote",
        "back\\slash",
        "ünï",
        "lt<x",
        "sub/rel",
    ] {
        assert!(
            has_file(&trace, &format!("{dir}/{name} create ok")),
            "{name}"
        );
    }
    assert_eq!(trace.meta.integrity.paths_lossy, 1);
    assert_eq!(trace.devices.len(), 1);
    assert_eq!(caps(&trace), ["CAP_MKNOD mknodat"]);
    let (trace, _) = import_fixture("personality-sched-ns.log");
    assert_eq!(
        trace.personalities.iter().cloned().collect::<Vec<_>>(),
        ["0x40000", "0x8"]
    );
    assert_eq!(trace.realtime.len(), 2);
    assert_eq!(trace.namespaces.len(), 3);
    assert_eq!(trace.mounts.len(), 1);
    let (trace, _) = import_fixture("unknown-syscalls.log");
    assert!(syscalls(&trace, Abi::X86_64).contains(&"futex_requeue"));
    assert!(syscalls(&trace, Abi::X86_64).contains(&"syscall_999"));
}

#[test]
fn bench_support_imports_in_memory() {
    let (trace, report) = bench_support::import_bytes(&fixture("tar.log"), "x86_64");
    assert_eq!(report.unparsed, 0);
    assert!(!trace.files.is_empty());
}

#[test]
fn plain_logs_keep_their_process_across_untraced_children() {
    // `strace -o` without `-f`: children get state from `clone` results but print nothing.
    let (trace, report) = import(concat!(
        "chdir(\"/srv\") = 0\n",
        "clone(child_stack=NULL, flags=CLONE_CHILD_CLEARTID|SIGCHLD, child_tidptr=0x7f) = 4242\n",
        "openat(AT_FDCWD, \"data\", O_RDONLY) = 3\n",
        "getpid() = 4100\n",
        "clone(child_stack=NULL, flags=SIGCHLD) = 4243\n",
        "openat(AT_FDCWD, \"more\", O_RDONLY) = 4\n",
        "inotify_add_watch(5, \"/etc/app\", IN_MODIFY) = 1\n",
    ));
    assert_eq!(report.unparsed, 0);
    assert_files(
        &trace,
        &["/srv/data read ok", "/srv/more read ok", "/etc/app stat ok"],
    );
    assert_eq!(trace.meta.integrity.paths_unresolved, 0);
}

#[test]
fn comm_names_after_pids() {
    let (trace, report) = import_fixture("comm-Y.log");
    assert_eq!(report.unparsed, 0, "{:?}", report.samples);
    assert_files(&trace, &["/etc/hostname read ok", "/usr/bin/cat exec ok"]);
    assert_eq!(trace.meta.integrity.processes, 2);
}
