/* SPDX-License-Identifier: MIT OR Apache-2.0 */
/*
 * The kernel <-> user-space ABI of sysprof's eBPF recorder.
 *
 * Self-contained (fixed-width types only, no vmlinux.h) so that both the BPF
 * program and the Rust loader agree on one definition. The Rust mirror lives in
 * crates/sysprof-record/src/ebpf/abi.rs; a test there checks every struct's
 * size and member offsets against the BTF of the committed object, so a change
 * here that is not mirrored fails `cargo test`.
 */
#ifndef SYSPROF_ABI_H
#define SYSPROF_ABI_H

#ifndef __SYSPROF_NO_LINUX_TYPES
#include <linux/types.h>
#endif

/* Longest absolute path the kernel-side walk produces (bytes, NUL included). */
#define SP_PATH_MAX 1024
/* Longest user-supplied string (path as passed, socket address) copied. */
#define SP_NAME_MAX 256
/* Kernel stack frames kept for a capability check. */
#define SP_STACK_DEPTH 16
/* Syscall numbers below this are tracked in the bitmap (per ABI). */
#define SP_SYSCALL_BITS 1024

/* Slots of the `cgroup_slots` array (a power of two): the fast target filter. */
#define SP_CGROUP_SLOTS 1024

/* ABIs of the syscall bitmap (index into the `syscall_bits` array). */
#define SP_ABI_NATIVE 0
#define SP_ABI_COMPAT 1 /* i386 on x86_64 */
#define SP_ABI_X32 2
#define SP_ABI_COUNT 3

/* How the programs decide what belongs to the target (`cfg_filter_mode`). */
#define SP_FILTER_CGROUP 0 /* current task's cgroup v2 id is in `target_cgroups` */
#define SP_FILTER_TGID 1   /* current task's tgid is in `target_tgids` */

/* `cfg_gate_until_exec`: a process moved into a target cgroup from outside
 * (systemd's child setting up a service: mounts, chroot, capability drops) is
 * not the target's until its first execve. */

/* Event kinds (`sp_event.kind`). */
#define SP_EV_OPEN 1        /* open/openat/openat2/creat returned */
#define SP_EV_EXEC 2        /* sched_process_exec */
#define SP_EV_CAP 3         /* cap_capable */
#define SP_EV_MMAP 4        /* mmap with PROT_EXEC returned */
#define SP_EV_MPROTECT 5    /* mprotect/pkey_mprotect with PROT_EXEC returned */
#define SP_EV_SOCKET 6      /* socket/socketpair returned */
#define SP_EV_ADDRESS 7     /* bind/connect returned; name = sockaddr bytes */
#define SP_EV_NAMESPACE 8   /* clone/clone3/unshare/setns with namespace flags returned */
#define SP_EV_PERSONALITY 9 /* personality(arg0) called */
#define SP_EV_REALTIME 10   /* realtime policy arg0 requested */
#define SP_EV_PATHOP 11     /* a path-taking syscall returned (mkdir, unlink, chmod, mount, ...) */
#define SP_EV_CGROUP 12     /* a cgroup (arg0 = id) was added to the targets */
#define SP_EV_SIGNAL 13     /* a target process was sent signal arg0 */

/* Event flags (`sp_event.flags`). */
#define SP_F_PATH_TRUNCATED (1u << 0) /* `path` was cut at SP_PATH_MAX or the walk depth */
#define SP_F_NAME_TRUNCATED (1u << 1) /* `name` was cut at SP_NAME_MAX */
#define SP_F_HAS_PATH (1u << 2)       /* `path` holds a kernel-walked absolute path */
#define SP_F_HAS_NAME (1u << 3)       /* `name` holds a user/kernel string */
#define SP_F_PATH_IS_BASE (1u << 4)   /* `path` is the directory `name` is relative to */
#define SP_F_SCRIPT (1u << 5)         /* exec: `name` is the script, `aux` the interpreter */
#define SP_F_SECOND_PATH (1u << 6)    /* pathop: the syscall's second path argument */
#define SP_F_FD_PATH (1u << 7)        /* pathop: `path` is the file behind an fd argument */
#define SP_F_HAS_AUX (1u << 8)        /* `aux` holds a string */

/* File access bits for SP_EV_OPEN (`sp_event.arg1`), from the kernel's f_mode. */
#define SP_ACC_READ (1u << 0)
#define SP_ACC_WRITE (1u << 1)
#define SP_ACC_CREATED (1u << 2)
#define SP_ACC_EXEC (1u << 3)
#define SP_ACC_PATH (1u << 4)
#define SP_ACC_DIR (1u << 5)

/*
 * One new observation, sent once per distinct (kind, key) through the ring
 * buffer. Field meaning per kind:
 *   OPEN:      arg0 = open flags, arg1 = SP_ACC_* (success), arg2 = create mode
 *   EXEC:      path = executed file (or script base dir), name = filename, aux = interp
 *   CAP:       arg0 = capability, arg1 = target user-ns level, err = cap_capable result,
 *              stack = kernel stack
 *   MMAP:      arg0 = prot, arg1 = map flags, path = mapped file (if any)
 *   MPROTECT:  arg0 = prot, arg1 = vm_flags of the mapping before, path = its file
 *   SOCKET:    arg0 = family, arg1 = type, arg2 = protocol
 *   ADDRESS:   arg0 = address length, name = raw sockaddr
 *   NAMESPACE: arg0 = CLONE_NEW* flags
 *   PERSONALITY: arg0 = persona
 *   REALTIME:  arg0 = policy
 *   PATHOP:    arg0 = mode, arg1 = dev (mknod) or flags
 *   CGROUP:    arg0 = cgroup id, name = cgroup path (relative to the v2 root)
 * `nr` is the native syscall number (or the one running, for CAP/EXEC).
 * `err` is the syscall's negative errno, 0 on success.
 */
struct sp_event {
	__u32 kind;
	__u32 flags;
	__s32 err;
	__u32 nr;
	__u32 pid;
	__u32 tid;
	__u64 arg0;
	__u64 arg1;
	__u64 arg2;
	__u64 stack[SP_STACK_DEPTH];
	char path[SP_PATH_MAX];
	char name[SP_NAME_MAX];
	char aux[SP_NAME_MAX];
};

/* Per-CPU counters (array map `counters`, one entry); user space sums the CPUs. */
struct sp_counters {
	__u64 events_sent;
	__u64 events_lost;      /* ring buffer full: the observation is retried later */
	__u64 paths_truncated;
	__u64 processes;        /* forks inside the target */
	__u64 cgroups_followed; /* cgroups added from the kernel side */
};

/* One ABI's syscall bitmap (array map `syscall_bits`, SP_ABI_COUNT entries). */
struct sp_syscall_bits {
	__u64 words[SP_SYSCALL_BITS / 64];
};

/* Key of `watch_cgroups`, a cgroup to add to the targets when it is created
 * (a unit's cgroup, re-created on every restart). With `parent_id` set, `name`
 * is the leaf name under that parent: the same from every cgroup namespace.
 * With `parent_id` 0, `name` is the path relative to the v2 root, which is all
 * the classic `cgroup:cgroup_mkdir` record carries. Zero-padded. */
struct sp_cgroup_watch {
	__u64 parent_id;
	char name[248];
};

#endif /* SYSPROF_ABI_H */
