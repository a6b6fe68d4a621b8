#!/usr/bin/python3
"""Directive probes for `cargo xtask e2e`: one small action per sandboxing directive.

Usage: probe.py NAME SIDE, run as the unit probe-NAME-SIDE.service (SIDE is `needs` or `free`).
PROBE_MODE=violate in the environment makes a free probe do what its directive forbids.

The needs mode does what the directive forbids; the free mode does a harmless sibling of it with
the same interpreter, modules and kinds of syscalls, so that the sandbox suggested for the free
mode differs from the violation only in the directive under test. `probe.py listener` is the
helper service some probes talk to.

Exit status: 0 the action worked; 3 it ran but its effect was denied (privileges not gained, mode
bits masked); 64 + errno it failed with that errno; 2 the probe itself broke. A probe killed by
a signal (SIGSYS from a seccomp filter) is reported as such by systemd.
"""

import errno
import mmap
import os
import socket
import subprocess
import sys

DENIED = 3
BROKEN = 2
ERRNO_BASE = 64

# The helper's abstract socket and TCP port; TEST_NET is an address the e2e puts on lo.
LISTENER_ABSTRACT = "\0sysprof-probe-listener"
NOBODY_ABSTRACT = "\0sysprof-probe-nobody-listens"
LISTENER_PORT = 7777
TEST_NET = "192.0.2.1"

SYSCTL = "/proc/sys/net/ipv4/tcp_keepalive_time"
IRQ_AFFINITY = "/proc/irq/default_smp_affinity"
CLONE_NEWUSER = 0x10000000
ADDR_NO_RANDOMIZE = 0x0040000
SYSLOG_ACTION_SIZE_BUFFER = 10
# mov eax, 39 (getpid); syscall; ret  -- and --  mov eax, 20 (getpid); int 0x80; ret
X86_64_GETPID = bytes([0xB8, 39, 0, 0, 0, 0x0F, 0x05, 0xC3])
I386_GETPID = bytes([0xB8, 20, 0, 0, 0, 0xCD, 0x80, 0xC3])

NAME = "?"
MODE = "?"


class Broken(Exception):
    """The probe could not do its job (not a sandbox decision)."""


def say(text):
    print(f"probe {NAME} {MODE}: {text}", flush=True)


def act(what, action):
    """Runs the action under test: an OSError becomes exit status 64 + errno."""
    try:
        result = action()
    except OSError as e:
        # A socket timeout carries no errno.
        code = e.errno if e.errno is not None else errno.ETIMEDOUT
        say(f"{what}: {errno.errorcode.get(code, str(code))} ({os.strerror(code)})")
        sys.exit(ERRNO_BASE + code)
    say(f"{what}: ok")
    return result


def denied(what, why):
    say(f"{what}: denied: {why}")
    sys.exit(DENIED)


def read(path):
    with open(path, encoding="utf-8", errors="replace") as f:
        return f.read()


def write(path, text="sysprof probe\n", how="w"):
    with open(path, how, encoding="utf-8") as f:
        f.write(text)


def run(argv):
    return subprocess.run(
        argv, stdin=subprocess.DEVNULL, capture_output=True, text=True, check=False
    )


def libc():
    import ctypes

    return ctypes.CDLL(None, use_errno=True)


def checked(result):
    """Turns a libc -1 return into an OSError with the call's errno."""
    import ctypes

    if result == -1:
        code = ctypes.get_errno()
        raise OSError(code, os.strerror(code))
    return result


def syscall_filter(mode):
    fd = os.open(__file__, os.O_RDONLY)
    if mode == "free":
        act("fstat of the script", lambda: os.fstat(fd))
    else:
        act("fdatasync of the script (a syscall outside @default)", lambda: os.fdatasync(fd))


def arch(mode):
    import ctypes

    if os.uname().machine != "x86_64":
        raise Broken("the i386 ABI probe needs an x86_64 machine")
    page = mmap.mmap(-1, mmap.PAGESIZE, prot=mmap.PROT_READ | mmap.PROT_WRITE | mmap.PROT_EXEC)
    page.write(X86_64_GETPID if mode == "free" else I386_GETPID)
    call = ctypes.CFUNCTYPE(ctypes.c_long)(ctypes.addressof(ctypes.c_char.from_buffer(page)))
    abi = "the native ABI (syscall)" if mode == "free" else "the i386 ABI (int 0x80)"
    pid = act(f"getpid through {abi}", call)
    if pid != os.getpid():
        raise Broken(f"getpid gave {pid}, expected {os.getpid()}")


def caps(mode):
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    port = 7000 if mode == "free" else 700
    act(f"bind 127.0.0.1:{port}", lambda: sock.bind(("127.0.0.1", port)))


def nnp(mode):
    if mode == "free":
        out = act("run python3 -c pass", lambda: run([sys.executable, "-c", "pass"]))
        if out.returncode != 0:
            raise Broken(f"python3 -c pass: exit {out.returncode}")
        return
    out = act("run chage -l nobody (set-gid shadow)", lambda: run(["/usr/bin/chage", "-l", "nobody"]))
    if out.returncode != 0 or "Last password change" not in out.stdout:
        denied("chage -l nobody", f"exit {out.returncode}: {out.stderr.strip()}")
    if mode == "needs":
        out = act("run passwd -S (set-uid root)", lambda: run(["/usr/bin/passwd", "-S"]))
        # Without /etc/shadow passwd prints only "nobody P".
        if out.returncode != 0 or len(out.stdout.split()) < 3:
            denied("passwd -S", f"exit {out.returncode}: {out.stdout.strip()} {out.stderr.strip()}")


def fs(mode):
    if mode == "needs":
        act("create a file in /srv/probe-fs/needs/",
            lambda: write(f"/srv/probe-fs/needs/run-{os.getpid()}"))
        act("append to /srv/probe-fs/needs.log", lambda: write("/srv/probe-fs/needs.log", how="a"))
    elif mode == "free":
        act("read /srv/probe-fs/free.txt", lambda: read("/srv/probe-fs/free.txt"))
    else:
        act("append to /srv/probe-fs/free.txt", lambda: write("/srv/probe-fs/free.txt", how="a"))


def managed(mode):
    for base in ("/var/lib", "/var/cache", "/var/log", "/run"):
        directory = f"{base}/probe-managed"

        def create(directory=directory):
            os.makedirs(directory, exist_ok=True)
            write(f"{directory}/data")

        act(f"write {directory}/data", create)


def exec_paths(mode):
    argv = [sys.executable, "-c", "pass"] if mode == "free" else ["/usr/bin/true"]
    out = act(f"run {argv[0]}", lambda: run(argv))
    if out.returncode != 0:
        raise Broken(f"{argv[0]}: exit {out.returncode}")


# exec-writable: the places the free unit's policy lets it write to (its vendor unit adds
# ReadWritePaths=/srv/probe-exec/vendor-rw, which only the violation writes to, and a BindPaths=
# mount), and places that must be read-only or noexec whatever the policy says.
EXEC_WRITABLE = [
    "/srv/probe-exec/rw",
    "/srv/probe-exec/rw.bin",
    "/srv/probe-exec/bind",
    "/var/lib/probe-exec-writable-free",
    "/var/cache/probe-exec-writable-free",
    "/var/log/probe-exec-writable-free",
    "/run/probe-exec-writable-free",
    "/tmp",
    "/var/tmp",
    "/dev/shm",
]
EXEC_VIOLATION_ONLY = ["/srv/probe-exec/vendor-rw"]
EXEC_MAYBE_WRITABLE = ["/run", "/dev", "/var/lib", "/etc", "/srv/probe-exec", "/home", "/root"]
# Programs ExecPaths= must keep running: a binary, a #!/bin/sh script, and a binary that was
# in the free unit's StateDirectory= before it started.
EXEC_LISTED = [
    "/usr/bin/true",
    "/srv/probe-exec/ok.sh",
    "/var/lib/probe-exec-writable-free/bin/tool",
]
SCRIPT = "#!/bin/sh\nexit 0\n"


def write_executable(path, data):
    """Writes data to path, created with mode 0755 (no chmod: a chmod below a directory would
    keep sysprof from making it a StateDirectory= etc., which systemd chowns at every start)."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o755)
    with os.fdopen(fd, "wb") as f:
        f.write(data)


def place_copies(where, tag):
    """A copy of /usr/bin/true and a #!/bin/sh script at `where` (a directory, or an executable
    file that is overwritten in place); returns their paths."""
    with open("/usr/bin/true", "rb") as f:
        binary = f.read()
    if os.path.isdir(where):
        copies = [f"{where}/{tag}-true", f"{where}/{tag}-script.sh"]
        write_executable(copies[0], binary)
        write_executable(copies[1], SCRIPT.encode())
        return copies
    # No O_CREAT, so that the trace shows a write to the file, not a creation in its directory.
    with open(where, "r+b") as f:
        f.write(binary)
        f.truncate()
    return [where]


def try_exec(path):
    """execve of path: 'ok' if it ran (exit 0), else the errno name."""
    try:
        code = subprocess.run([path], stdin=subprocess.DEVNULL, check=False).returncode
    except OSError as e:
        return errno.errorcode.get(e.errno, str(e.errno))
    return "ok" if code == 0 else f"exit {code}"


def try_map_exec(path):
    """mmap(PROT_READ | PROT_EXEC, MAP_PRIVATE) of path: 'ok' or the errno name."""
    fd = os.open(path, os.O_RDONLY)
    try:
        mmap.mmap(fd, mmap.PAGESIZE, flags=mmap.MAP_PRIVATE,
                  prot=mmap.PROT_READ | mmap.PROT_EXEC).close()
    except OSError as e:
        return errno.errorcode.get(e.errno, str(e.errno))
    finally:
        os.close(fd)
    return "ok"


def exec_writable(mode):
    if mode == "needs":
        # Runs what it writes itself: a helper script in its state directory and a copy of
        # /usr/bin/true in /tmp. The mounts holding them must stay executable.
        helper = "/var/lib/probe-exec-writable-needs/helper.sh"
        os.makedirs(os.path.dirname(helper), exist_ok=True)
        act(f"write {helper}", lambda: write_executable(helper, SCRIPT.encode()))
        copy = act("copy /usr/bin/true to /tmp", lambda: place_copies("/tmp", "needs")[0])
        for path in (helper, copy):
            result = try_exec(path)
            say(f"run {path}: {result}")
            if result != "ok":
                code = getattr(errno, result, None)
                sys.exit(ERRNO_BASE + code if isinstance(code, int) else BROKEN)
        return
    for path in EXEC_LISTED:
        result = try_exec(path)
        say(f"run {path} (listed in ExecPaths=): {result}")
        if result != "ok":
            raise Broken(f"{path} did not run: {result}")
    if mode == "free":
        # The same writes as the violation, without running anything written.
        for where in EXEC_WRITABLE:
            act(f"copy a binary and a script to {where}", lambda w=where: place_copies(w, "free"))
        return
    ran = []
    blocked = []
    places = [(w, True) for w in EXEC_WRITABLE + EXEC_VIOLATION_ONLY]
    places += [(w, False) for w in EXEC_MAYBE_WRITABLE]
    for where, granted in places:
        try:
            copies = place_copies(where, "violate")
        except OSError as e:
            name = errno.errorcode.get(e.errno, str(e.errno))
            if granted:
                raise Broken(f"cannot write to {where}, which the policy grants: {name}")
            say(f"attempt {where} write: {name}")
            continue
        for path in copies:
            kind = "script" if path.endswith(".sh") else "exec"
            results = [(kind, try_exec(path))]
            if kind == "exec":
                results.append(("mmap", try_map_exec(path)))
            for what, result in results:
                say(f"attempt {where} {what}: {result}")
                if result == "ok":
                    ran.append(f"{where} {what}")
                elif result in ("EACCES", "EPERM"):
                    blocked.append(f"{where} {what}")
                else:
                    raise Broken(f"{what} of {path}: {result}")
    if ran:
        say(f"ran from writable places: {', '.join(ran)}")
        return
    say(f"all {len(blocked)} attempts denied")
    sys.exit(ERRNO_BASE + errno.EACCES)


def tmp(mode):
    if mode == "free":
        path = f"/tmp/probe-own-{os.getpid()}"
        act(f"create and read back {path}", lambda: (write(path), read(path)))
    else:
        act("read /tmp/probe-shared.txt (made by someone else)",
            lambda: read("/tmp/probe-shared.txt"))


def home(mode):
    path = "/etc/hostname" if mode == "free" else "/home/probe/data.txt"
    act(f"read {path}", lambda: read(path))


def devices(mode):
    path = "/dev/null" if mode == "free" else "/dev/net/tun"
    act(f"open {path} read-write", lambda: os.close(os.open(path, os.O_RDWR)))


def sysctl(mode):
    value = act(f"read {SYSCTL}", lambda: read(SYSCTL))
    if mode != "free":
        act(f"write {SYSCTL} (its own value)", lambda: write(SYSCTL, value, how="r+"))
    if mode == "needs":
        # Also covered by ProtectKernelTunables=: /proc/irq and friends. Opened for writing
        # only, nothing is written (the setting is the host's).
        act(f"open {IRQ_AFFINITY} for writing",
            lambda: os.close(os.open(IRQ_AFFINITY, os.O_WRONLY)))


def modules(mode):
    path = "/etc/hostname" if mode == "free" else "/lib/modules/probe/modules.dep"
    act(f"read {path}", lambda: read(path))


def kernel_logs(mode):
    c = libc()
    if mode == "free":
        act("getpid through libc", lambda: checked(c.getpid()))
    else:
        act("syslog(SYSLOG_ACTION_SIZE_BUFFER)",
            lambda: checked(c.klogctl(SYSLOG_ACTION_SIZE_BUFFER, None, 0)))


def cgroups(mode):
    # The cgroup v2 line; hybrid hosts list v1 hierarchies too.
    lines = [l for l in read("/proc/self/cgroup").splitlines() if l.startswith("0::")]
    if not lines:
        raise Broken("no cgroup v2 line in /proc/self/cgroup")
    procs = f"/sys/fs/cgroup{lines[0][3:]}/cgroup.procs"
    act(f"read {procs}", lambda: read(procs))
    if mode != "free":
        act(f"write own pid to {procs}", lambda: write(procs, str(os.getpid()), how="r+"))


def clock(mode):
    import ctypes
    import time

    c = libc()
    if mode == "free":
        act("clock_gettime(CLOCK_REALTIME)", lambda: time.clock_gettime(time.CLOCK_REALTIME))
    else:
        timex = ctypes.create_string_buffer(512)  # struct timex with modes = 0: a pure query
        act("adjtimex(modes=0), a read-only query", lambda: checked(c.adjtimex(timex)))


def hostname(mode):
    name = act("gethostname", socket.gethostname)
    if mode != "free":
        act(f"sethostname({name!r}), its current name", lambda: socket.sethostname(name))


def protect_proc(mode):
    # The free side reads no /proc file: an eBPF trace shows /proc/self as /proc/<pid>.
    path = "/etc/hostname" if mode == "free" else "/proc/1/status"
    act(f"read {path}", lambda: read(path))


def proc_subset(mode):
    path = "/proc/self/status" if mode == "free" else "/proc/meminfo"
    act(f"read {path}", lambda: read(path))


def address_families(mode):
    if mode == "free":
        act("socket(AF_UNIX, SOCK_DGRAM)",
            lambda: socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM).close())
    else:
        act("socket(AF_NETLINK, SOCK_RAW, NETLINK_ROUTE)",
            lambda: socket.socket(socket.AF_NETLINK, socket.SOCK_RAW, 0).close())


def private_network(mode):
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    if mode == "free":
        try:
            sock.connect(NOBODY_ABSTRACT)
        except ConnectionRefusedError:
            say("connect to @sysprof-probe-nobody-listens: ECONNREFUSED, as it should")
            return
        raise Broken("something listens on @sysprof-probe-nobody-listens")
    act("connect to @sysprof-probe-listener (bound outside the unit)",
        lambda: sock.connect(LISTENER_ABSTRACT))


def ip_address(mode):
    host = "127.0.0.1" if mode == "free" else TEST_NET
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.settimeout(2)
    act(f"connect to {host}:{LISTENER_PORT}", lambda: sock.connect((host, LISTENER_PORT)))


def namespaces(mode):
    c = libc()
    if mode == "free":
        act("unshare(0)", lambda: checked(c.unshare(0)))
    else:
        act("unshare(CLONE_NEWUSER)", lambda: checked(c.unshare(CLONE_NEWUSER)))


def realtime(mode):
    if mode == "free":
        act("sched_setscheduler(SCHED_OTHER)",
            lambda: os.sched_setscheduler(0, os.SCHED_OTHER, os.sched_param(0)))
    else:
        act("sched_setscheduler(SCHED_FIFO, 1)",
            lambda: os.sched_setscheduler(0, os.SCHED_FIFO, os.sched_param(1)))
        os.sched_setscheduler(0, os.SCHED_OTHER, os.sched_param(0))


def suid(mode):
    path = f"/tmp/probe-suid-{os.getpid()}"
    write(path)
    bits = 0o755 if mode == "free" else 0o4755
    act(f"chmod {bits:o} {path}", lambda: os.chmod(path, bits))


def personality(mode):
    c = libc()
    if mode == "free":
        act("personality(PER_LINUX)", lambda: checked(c.personality(0)))
    else:
        act("personality(PER_LINUX | ADDR_NO_RANDOMIZE)",
            lambda: checked(c.personality(ADDR_NO_RANDOMIZE)))
        checked(c.personality(0))


def mdwe(mode):
    prot = mmap.PROT_READ | mmap.PROT_WRITE
    what = "read+write"
    if mode != "free":
        prot |= mmap.PROT_EXEC
        what = "write+execute"
    act(f"mmap of an anonymous {what} page", lambda: mmap.mmap(-1, mmap.PAGESIZE, prot=prot).close())


def mounts(mode):
    c = libc()
    target = f"/mnt/probe-mounts-{'needs' if mode == 'needs' else 'free'}"
    if mode == "free":
        act(f"stat {target}", lambda: os.stat(target))
        return
    act(f"mount a tmpfs on {target}",
        lambda: checked(c.mount(b"probe", target.encode(), b"tmpfs", 0, b"size=64k")))
    if mode == "needs":
        # The service uses the mount itself, then takes it down.
        if not os.path.ismount(target):
            raise Broken(f"{target} is not a mount point after mount")
        act(f"umount {target}", lambda: checked(c.umount2(target.encode(), 0)))
    # In violate mode the mount stays: the e2e looks for it from outside the unit.


def private_users(mode):
    path = "/srv/probe-pu/own" if mode == "free" else "/srv/probe-pu/other"
    act(f"read {path}", lambda: read(path))


def umask(mode):
    if mode == "needs":
        # A socket other users connect to; the unit sets UMask=0000 for it.
        directory = "/run/probe-umask-needs"
        os.makedirs(directory, exist_ok=True)
        path = f"{directory}/s.sock"
        server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        act(f"bind {path}", lambda: server.bind(path))
        try:
            connect_as_nobody(server, path)
        finally:
            # Every run starts without the socket, the recorded one included.
            os.unlink(path)
        return
    path = f"/tmp/probe-umask-{os.getpid()}"
    fd = act(f"create {path} with mode 0666",
             lambda: os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666))
    os.close(fd)
    if mode == "violate":
        bits = os.stat(path).st_mode & 0o777
        if bits & 0o044 == 0:
            denied(f"{path} readable by others", f"created with mode {bits:04o}")
        say(f"{path} has mode {bits:04o}: readable by others")


def connect_as_nobody(server, path):
    """A child that drops to nobody connects to the listening socket at path."""
    server.listen(1)
    pid = os.fork()
    if pid == 0:
        try:
            os.setgroups([])
            os.setgid(65534)
            os.setuid(65534)
            socket.socket(socket.AF_UNIX, socket.SOCK_STREAM).connect(path)
            os._exit(0)
        except OSError as e:
            say(f"connect as nobody: {errno.errorcode.get(e.errno, e.errno)}")
            os._exit(ERRNO_BASE + e.errno)
        finally:
            # Never return into the parent's code from the child.
            os._exit(BROKEN)
    status = os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1])
    if status != 0:
        sys.exit(status)
    say(f"nobody connected to {path}: ok")


def listener(_mode):
    """The helper service: an abstract socket and a TCP port that accept and hang up."""
    import selectors

    sel = selectors.DefaultSelector()
    unix = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    unix.bind(LISTENER_ABSTRACT)
    tcp = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    tcp.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    tcp.bind(("0.0.0.0", LISTENER_PORT))
    for sock in (unix, tcp):
        sock.listen(64)
        sel.register(sock, selectors.EVENT_READ)
    notify = os.environ.get("NOTIFY_SOCKET")
    if notify:
        ready = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        ready.sendto(b"READY=1", "\0" + notify[1:] if notify.startswith("@") else notify)
    say("listening")
    while True:
        for key, _ in sel.select():
            conn, _ = key.fileobj.accept()
            conn.close()


PROBES = {
    "syscall-filter": syscall_filter,
    "arch": arch,
    "caps": caps,
    "nnp": nnp,
    "fs": fs,
    "managed": managed,
    "exec": exec_paths,
    "exec-writable": exec_writable,
    "tmp": tmp,
    "home": home,
    "devices": devices,
    "sysctl": sysctl,
    "modules": modules,
    "kernel-logs": kernel_logs,
    "cgroups": cgroups,
    "clock": clock,
    "hostname": hostname,
    "proc": protect_proc,
    "proc-subset": proc_subset,
    "address-families": address_families,
    "private-network": private_network,
    "ip-address": ip_address,
    "namespaces": namespaces,
    "realtime": realtime,
    "suid": suid,
    "personality": personality,
    "mdwe": mdwe,
    "mounts": mounts,
    "private-users": private_users,
    "umask": umask,
    "listener": listener,
}


def main():
    global NAME, MODE
    if len(sys.argv) != 3 or sys.argv[1] not in PROBES:
        print(f"usage: probe.py {{{'|'.join(PROBES)}}} needs|free", file=sys.stderr)
        return BROKEN
    NAME = sys.argv[1]
    MODE = os.environ.get("PROBE_MODE") or sys.argv[2]
    if MODE not in ("needs", "free", "violate"):
        print(f"probe.py: unknown mode {MODE!r}", file=sys.stderr)
        return BROKEN
    try:
        PROBES[NAME](MODE)
    except Broken as e:
        say(f"broken: {e}")
        return BROKEN
    return 0


if __name__ == "__main__":
    sys.exit(main())
