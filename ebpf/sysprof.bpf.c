// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * sysprof's kernel side: records what a target (cgroup subtree or process tree)
 * does, with in-kernel dedup so each distinct observation reaches user space once.
 *
 * Only tracepoints and tp_btf are used, because trampoline programs (fentry,
 * fexit, LSM) are refused on the machines this runs on. Each program is loaded
 * separately by the loader, which falls back per hook:
 *   sys_enter_btf -> sys_enter_tp          (syscall bitmap + argument capture)
 *   cap_capable_btf -> cap_capable_tp      (capability checks with stack)
 *   cgroup_mkdir_btf -> cgroup_mkdir_tp    (follow new / re-created cgroups)
 *   cgroup_attach_btf -> cgroup_attach_tp  (processes moved in: ignored until exec)
 *   signal_generate_btf                    (signals sent to the target: reloads, rotation)
 *   sys_exit_detail                        (attached to many syscalls:sys_exit_*)
 *   process_exec_btf, process_fork_btf, process_exit_btf
 */
#include "vmlinux.h"
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

#define __SYSPROF_NO_LINUX_TYPES
#include "sysprof_abi.h"

char LICENSE[] SEC("license") = "Dual MIT/GPL";

/* vmlinux.h carries no #defines: the constants below are the kernel's ABI values. */
#define FMODE_READ 0x1
#define FMODE_WRITE 0x2
#define FMODE_EXEC 0x20
#define FMODE_PATH 0x4000
#define FMODE_CREATED 0x100000
#define S_IFMT 00170000
#define S_IFDIR 0040000
#define PROT_WRITE 0x2
#define PROT_EXEC 0x4
#define MAP_ANONYMOUS 0x20
#define VM_EXEC 0x4
#define AT_FDCWD -100
#define TS_COMPAT 0x0002
#define X32_SYSCALL_BIT 0x40000000
#define SCHED_RESET_ON_FORK 0x40000000
#define NS_FLAGS 0x7E020080ULL /* CLONE_NEW{NS,CGROUP,UTS,IPC,USER,PID,NET} | CLONE_NEWTIME */
#define SETID_BITS 06000
#define O_CREAT 0100
#define O_TMPFILE 020200000

/* Native syscall numbers that need their arguments (x86_64). */
#if defined(__TARGET_ARCH_x86)
#define NR_open 2
#define NR_mmap 9
#define NR_mprotect 10
#define NR_socket 41
#define NR_connect 42
#define NR_bind 49
#define NR_socketpair 53
#define NR_clone 56
#define NR_truncate 76
#define NR_rename 82
#define NR_mkdir 83
#define NR_rmdir 84
#define NR_creat 85
#define NR_link 86
#define NR_unlink 87
#define NR_symlink 88
#define NR_chmod 90
#define NR_fchmod 91
#define NR_chown 92
#define NR_fchown 93
#define NR_lchown 94
#define NR_mknod 133
#define NR_personality 135
#define NR_sched_setscheduler 144
#define NR_mount 165
#define NR_umount2 166
#define NR_openat 257
#define NR_mkdirat 258
#define NR_mknodat 259
#define NR_fchownat 260
#define NR_unlinkat 263
#define NR_renameat 264
#define NR_linkat 265
#define NR_symlinkat 266
#define NR_fchmodat 268
#define NR_unshare 272
#define NR_setns 308
#define NR_sched_setattr 314
#define NR_renameat2 316
#define NR_pkey_mprotect 329
#define NR_open_tree 428
#define NR_move_mount 429
#define NR_fsopen 430
#define NR_fsmount 432
#define NR_clone3 435
#define NR_openat2 437
#define NR_mount_setattr 442
#define NR_fchmodat2 452
#else
#error "sysprof.bpf.c: syscall numbers are defined for x86_64 only so far"
#endif

/* ---------------------------------------------------------------- config */

const volatile __u32 cfg_filter_mode = SP_FILTER_CGROUP;
const volatile __u32 cfg_gate_until_exec = 0;

/* ---------------------------------------------------------------- maps */

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 4096);
	__type(key, __u64);
	__type(value, __u8);
} target_cgroups SEC(".maps");

/* The fast filter in front of `target_cgroups`: slot (id % SP_CGROUP_SLOTS)
 * holds a target id or 0. Every target's slot is non-zero, so an empty slot
 * rejects with one inlined array load, and only slot collisions need the hash. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, SP_CGROUP_SLOTS);
	__type(key, __u32);
	__type(value, __u64);
} cgroup_slots SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 65536);
	__type(key, __u32);
	__type(value, __u8);
} target_tgids SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 64);
	__type(key, struct sp_cgroup_watch);
	__type(value, __u8);
} watch_cgroups SEC(".maps");

/* Processes moved into a target cgroup that have not exec'd since
 * (`cfg_gate_until_exec`), and how many there are: the count keeps the common
 * case (none) down to one array load per event. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 4096);
	__type(key, __u32);
	__type(value, __u8);
} setup_tgids SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __s64);
} setup_count SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, SP_ABI_COUNT);
	__type(key, __u32);
	__type(value, struct sp_syscall_bits);
} syscall_bits SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct sp_counters);
} counters SEC(".maps");

/* Arguments of an interesting syscall, kept from sys_enter to its sys_exit. */
struct pending_call {
	__u64 nr;
	__u64 args[6];
	__u64 extra0; /* mprotect: vm_flags before; clone3: flags */
	__u64 extra1; /* mprotect: the mapping's struct file * */
};

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 16384);
	__type(key, __u32);
	__type(value, struct pending_call);
} pending SEC(".maps");

/* Everything that makes two observations the same; value unused. */
struct dedup_key {
	__u32 kind;
	__u32 nr;
	__s32 err;
	__u32 flags;
	__u64 arg0;
	__u64 arg1;
	__u64 hash;
};

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 65536);
	__type(key, struct dedup_key);
	__type(value, __u8);
} seen SEC(".maps");

/* A file already reported for an access, recognised without walking its path:
 * the dentry and its parent, name hash, inode number and mount. A freed dentry
 * reused for another file differs in at least one of them, so a hit means the
 * same path (a miss only costs a walk). */
struct file_key {
	__u64 dentry;
	__u64 parent;
	__u64 name_hash_len;
	__u64 ino;
	__u64 mnt;
	__u32 kind;
	__u32 detail; /* access bits (open) or prot (mmap) */
};

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 65536);
	__type(key, struct file_key);
	__type(value, __u8);
} seen_files SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 8 << 20);
} events SEC(".maps");

/* Per-CPU work area: the event under construction and the path walk buffer. */
struct scratch {
	struct sp_event ev;
	/* The walk writes right to left from SP_PATH_MAX - 1; the extra 256 bytes
	 * let the verifier see that a component (<= 255 bytes) never overruns. */
	char walk[SP_PATH_MAX + 256];
	struct sp_cgroup_watch cg;
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct scratch);
} scratch_area SEC(".maps");

/* ---------------------------------------------------------------- helpers */

static __always_inline struct sp_counters *counters_get(void)
{
	__u32 zero = 0;
	return bpf_map_lookup_elem(&counters, &zero);
}

static __always_inline struct scratch *scratch_get(void)
{
	__u32 zero = 0;
	return bpf_map_lookup_elem(&scratch_area, &zero);
}

static __always_inline bool is_target_cgroup(__u64 cgid)
{
	__u32 slot_index = cgid & (SP_CGROUP_SLOTS - 1);
	__u64 *slot = bpf_map_lookup_elem(&cgroup_slots, &slot_index);
	if (!slot || *slot == 0)
		return false; /* the common case for every other process */
	if (*slot == cgid)
		return true;
	return bpf_map_lookup_elem(&target_cgroups, &cgid) != NULL;
}

static __always_inline __s64 *setup_count_get(void)
{
	__u32 zero = 0;
	return bpf_map_lookup_elem(&setup_count, &zero);
}

/* Whether `tgid` was moved into the target and has not exec'd yet. */
static __always_inline bool in_setup(__u32 tgid)
{
	if (!cfg_gate_until_exec)
		return false;
	__s64 *count = setup_count_get();
	if (!count || *count <= 0)
		return false;
	return bpf_map_lookup_elem(&setup_tgids, &tgid) != NULL;
}

static __always_inline void setup_begin(__u32 tgid)
{
	__u8 one = 1;
	if (bpf_map_update_elem(&setup_tgids, &tgid, &one, BPF_NOEXIST))
		return; /* already there (or the map is full: then it is recorded) */
	__s64 *count = setup_count_get();
	if (count)
		__sync_fetch_and_add(count, 1);
}

/* Returns whether `tgid` was in its set-up phase. */
static __always_inline bool setup_end(__u32 tgid)
{
	if (!cfg_gate_until_exec)
		return false;
	__s64 *count = setup_count_get();
	if (!count || *count <= 0)
		return false;
	if (bpf_map_delete_elem(&setup_tgids, &tgid))
		return false;
	__sync_fetch_and_add(count, -1);
	return true;
}

static __always_inline bool is_target(void)
{
	if (cfg_filter_mode == SP_FILTER_TGID) {
		__u32 tgid = bpf_get_current_pid_tgid() >> 32;
		return bpf_map_lookup_elem(&target_tgids, &tgid) != NULL;
	}
	if (!is_target_cgroup(bpf_get_current_cgroup_id()))
		return false;
	return !in_setup(bpf_get_current_pid_tgid() >> 32);
}

static __always_inline __u64 mix(__u64 hash, __u64 value)
{
	return (hash ^ value) * 0x100000001b3ULL;
}

/* Sets bit `nr` of ABI `abi`; a read first keeps the common (already set) case
 * free of atomic writes to a shared cache line. */
static __always_inline void mark_syscall(__u32 abi, __u64 nr)
{
	if (nr >= SP_SYSCALL_BITS)
		return;
	struct sp_syscall_bits *bits = bpf_map_lookup_elem(&syscall_bits, &abi);
	if (!bits)
		return;
	__u32 word = (nr >> 6) & (SP_SYSCALL_BITS / 64 - 1);
	__u64 mask = 1ULL << (nr & 63);
	if (!(bits->words[word] & mask))
		__sync_fetch_and_or(&bits->words[word], mask);
}

static __always_inline void reset_event(struct sp_event *ev, __u32 kind, __u32 nr)
{
	__u64 pid_tgid = bpf_get_current_pid_tgid();
	ev->kind = kind;
	ev->flags = 0;
	ev->err = 0;
	ev->nr = nr;
	ev->pid = pid_tgid >> 32;
	ev->tid = (__u32)pid_tgid;
	ev->arg0 = 0;
	ev->arg1 = 0;
	ev->arg2 = 0;
	ev->path[0] = 0;
	ev->name[0] = 0;
	ev->aux[0] = 0;
}

/* Sends `ev` unless an equal key was sent before. On a full ring buffer the key
 * is forgotten again, so the observation is sent when it happens next time. */
/* Returns 0 when the observation is known to user space (sent now or before),
 * -1 when it was lost to a full ring buffer. */
static __always_inline int emit_unique(struct sp_event *ev, __u64 hash)
{
	struct dedup_key key = {
		.kind = ev->kind,
		.nr = ev->nr,
		.err = ev->err,
		.flags = ev->flags & (SP_F_SCRIPT | SP_F_SECOND_PATH),
		.arg0 = ev->arg0,
		.arg1 = ev->arg1,
		.hash = hash,
	};
	__u8 one = 1;
	if (bpf_map_lookup_elem(&seen, &key))
		return 0;
	if (bpf_map_update_elem(&seen, &key, &one, BPF_NOEXIST))
		return 0; /* another CPU is sending it */
	struct sp_counters *c = counters_get();
	if (bpf_ringbuf_output(&events, ev, sizeof(*ev), 0)) {
		bpf_map_delete_elem(&seen, &key);
		if (c)
			c->events_lost++;
		return -1;
	}
	if (c) {
		c->events_sent++;
		if (ev->flags & SP_F_PATH_TRUNCATED)
			c->paths_truncated++;
	}
	return 0;
}

/* Hash of a zero-padded string buffer of SP_NAME_MAX bytes. */
static __always_inline __u64 hash_name(const char *buf)
{
	__u64 hash = 0xcbf29ce484222325ULL;
	const __u64 *words = (const __u64 *)buf;
#pragma unroll
	for (int i = 0; i < SP_NAME_MAX / 8; i++)
		hash = mix(hash, words[i]);
	return hash;
}

/* Copies a user string into a zeroed `dst` (SP_NAME_MAX); returns its length or <0. */
static __always_inline long read_user_name(char *dst, const void *src, __u32 *flags)
{
	__builtin_memset(dst, 0, SP_NAME_MAX);
	long n = bpf_probe_read_user_str(dst, SP_NAME_MAX, src);
	if (n >= SP_NAME_MAX)
		*flags |= SP_F_NAME_TRUNCATED;
	if (n > 0)
		*flags |= SP_F_HAS_NAME;
	return n;
}

/* ---------------------------------------------------------------- path walk */

struct walk_state {
	struct dentry *dentry;
	struct vfsmount *vfsmnt;
	struct mount *mnt;
	struct dentry *root_dentry;
	struct vfsmount *root_mnt;
	__u64 hash;
	__u32 pos;
	__u32 done;
	__u32 truncated;
};

/* One step of d_path(): prepend the current component, or cross to the parent
 * mount at a mount root; stop at the task's root or the namespace's root. */
static long walk_step(__u64 index, void *ctx)
{
	struct walk_state *st = ctx;
	struct scratch *s = scratch_get();
	if (!s)
		return 1;
	/* Copy into locals first: CO-RE relocations on fields of a stack struct
	 * are rejected, on plain pointers they work. */
	struct dentry *d = st->dentry;
	struct vfsmount *vfsmnt = st->vfsmnt;
	struct mount *mnt = st->mnt;
	if (d == st->root_dentry && vfsmnt == st->root_mnt) {
		st->done = 1;
		return 1;
	}
	struct dentry *mnt_root = BPF_CORE_READ(vfsmnt, mnt_root);
	struct dentry *parent = BPF_CORE_READ(d, d_parent);
	if (d == mnt_root || d == parent) {
		struct mount *mnt_parent = BPF_CORE_READ(mnt, mnt_parent);
		if (d != mnt_root || mnt == mnt_parent) {
			st->done = 1;
			return 1;
		}
		st->dentry = BPF_CORE_READ(mnt, mnt_mountpoint);
		st->mnt = mnt_parent;
		st->vfsmnt = (void *)mnt_parent + bpf_core_field_offset(struct mount, mnt);
		return 0;
	}
	__u32 len = BPF_CORE_READ(d, d_name.len);
	const unsigned char *name = BPF_CORE_READ(d, d_name.name);
	__u32 pos = st->pos;
	if (len > 255 || len + 1 > pos) {
		st->truncated = 1;
		st->done = 1;
		return 1;
	}
	pos -= len;
	bpf_probe_read_kernel(&s->walk[pos & (SP_PATH_MAX - 1)], len & 255, name);
	pos -= 1;
	s->walk[pos & (SP_PATH_MAX - 1)] = '/';
	st->pos = pos;
	st->hash = mix(st->hash, BPF_CORE_READ(d, d_name.hash_len));
	st->dentry = parent;
	return 0;
}

/* Writes the absolute path of (dentry, vfsmount) into ev->path; returns its hash. */
static __always_inline __u64 walk_path(struct sp_event *ev, struct dentry *dentry,
				       struct vfsmount *vfsmnt)
{
	struct scratch *s = scratch_get();
	if (!s || !dentry || !vfsmnt)
		return 0;
	struct task_struct *task = (void *)bpf_get_current_task();
	struct walk_state st = {
		.dentry = dentry,
		.vfsmnt = vfsmnt,
		.mnt = (void *)vfsmnt - bpf_core_field_offset(struct mount, mnt),
		.root_dentry = BPF_CORE_READ(task, fs, root.dentry),
		.root_mnt = BPF_CORE_READ(task, fs, root.mnt),
		.hash = 0xcbf29ce484222325ULL ^ (__u64)(unsigned long)vfsmnt,
		.pos = SP_PATH_MAX - 1,
	};
	s->walk[SP_PATH_MAX - 1] = 0;
	bpf_loop(64, walk_step, &st, 0);
	if (!st.done || st.truncated)
		ev->flags |= SP_F_PATH_TRUNCATED;
	__u32 pos = st.pos;
	if (pos == SP_PATH_MAX - 1) {
		pos -= 1;
		s->walk[pos & (SP_PATH_MAX - 1)] = '/';
	}
	bpf_probe_read_kernel_str(ev->path, SP_PATH_MAX, &s->walk[pos & (SP_PATH_MAX - 1)]);
	ev->flags |= SP_F_HAS_PATH;
	return st.hash;
}

static __always_inline __u64 walk_file(struct sp_event *ev, struct file *file)
{
	if (!file)
		return 0;
	return walk_path(ev, BPF_CORE_READ(file, f_path.dentry), BPF_CORE_READ(file, f_path.mnt));
}

static __always_inline void file_key_of(struct file_key *k, struct file *file, __u32 kind,
					__u32 detail)
{
	struct path path = {};
	bpf_core_read(&path, sizeof(path), &file->f_path);
	struct dentry *dentry = path.dentry;
	k->dentry = (__u64)(unsigned long)dentry;
	k->parent = (__u64)(unsigned long)BPF_CORE_READ(dentry, d_parent);
	k->name_hash_len = BPF_CORE_READ(dentry, d_name.hash_len);
	k->ino = (__u64)(unsigned long)BPF_CORE_READ(file, f_inode);
	k->mnt = (__u64)(unsigned long)path.mnt;
	k->kind = kind;
	k->detail = detail;
}

static __always_inline struct file *fd_file(long fd)
{
	/* Loads through the task's BTF pointer are plain (fault-safe) loads, not
	 * helper calls; only the variable index into fd[] needs a probe read. */
	struct task_struct *task = bpf_get_current_task_btf();
	struct fdtable *fdt = task->files->fdt;
	if (fd < 0 || !fdt || fd >= fdt->max_fds)
		return NULL;
	struct file **fds = fdt->fd;
	struct file *file = NULL;
	bpf_probe_read_kernel(&file, sizeof(file), &fds[fd & 0xfffff]);
	return file;
}

/* The directory a (dirfd, user path) pair is relative to, walked into ev->path
 * when the user path is relative. Returns the combined hash of both parts. */
static __always_inline __u64 resolve_user_path(struct sp_event *ev, long dirfd, const void *upath)
{
	__u64 hash = 0;
	long n = read_user_name(ev->name, upath, &ev->flags);
	if (n > 0)
		hash = hash_name(ev->name);
	if (n > 0 && ev->name[0] == '/')
		return hash;
	struct task_struct *task = (void *)bpf_get_current_task();
	if (dirfd == AT_FDCWD || (int)dirfd == AT_FDCWD)
		hash ^= walk_path(ev, BPF_CORE_READ(task, fs, pwd.dentry), BPF_CORE_READ(task, fs, pwd.mnt));
	else
		hash ^= walk_file(ev, fd_file(dirfd));
	ev->flags |= SP_F_PATH_IS_BASE;
	return hash;
}

/* ---------------------------------------------------------------- sys_enter */

/* Calls decided at sys_enter: immediate events, or state that the call itself
 * changes (mprotect: whether the mapping was executable before). Every other
 * call with interesting arguments is handled at its sys_exit, which reads the
 * arguments back from the saved user registers. */
static __always_inline bool wants_args(long nr)
{
	switch (nr) {
	case NR_mprotect: case NR_pkey_mprotect:
	case NR_personality: case NR_sched_setscheduler: case NR_sched_setattr:
		return true;
	default:
		return false;
	}
}

struct vma_probe {
	__u64 vm_flags;
	__u64 file;
};

static long vma_found(struct task_struct *task, struct vm_area_struct *vma, void *ctx)
{
	struct vma_probe *p = ctx;
	p->vm_flags = BPF_CORE_READ(vma, vm_flags);
	p->file = (__u64)(unsigned long)BPF_CORE_READ(vma, vm_file);
	return 0;
}

/* Events that need no result are sent here; the rest is parked until sys_exit. */
static __always_inline void on_enter(long nr, const __u64 *args)
{
	struct pending_call call = { .nr = nr };
#pragma unroll
	for (int i = 0; i < 6; i++)
		call.args[i] = args[i];

	switch (nr) {
	case NR_personality: {
		if ((__u32)args[0] == 0xffffffff)
			return; /* a query, not a change */
		struct scratch *s = scratch_get();
		if (!s)
			return;
		reset_event(&s->ev, SP_EV_PERSONALITY, nr);
		s->ev.arg0 = (__u32)args[0];
		emit_unique(&s->ev, 0);
		return;
	}
	case NR_sched_setscheduler:
	case NR_sched_setattr: {
		__u32 policy = (__u32)args[1];
		if (nr == NR_sched_setattr) {
			policy = 0;
			/* struct sched_attr { u32 size; u32 sched_policy; ... } */
			bpf_probe_read_user(&policy, sizeof(policy), (void *)(args[1] + 4));
		}
		policy &= ~SCHED_RESET_ON_FORK;
		if (policy != 1 && policy != 2 && policy != 6)
			return; /* FIFO, RR, DEADLINE are what RestrictRealtime= blocks */
		struct scratch *s = scratch_get();
		if (!s)
			return;
		reset_event(&s->ev, SP_EV_REALTIME, nr);
		s->ev.arg0 = policy;
		emit_unique(&s->ev, 0);
		return;
	}
	case NR_mprotect:
	case NR_pkey_mprotect: {
		if (!(args[2] & PROT_EXEC))
			return;
		struct vma_probe probe = {};
		struct task_struct *task = bpf_get_current_task_btf();
		bpf_find_vma(task, args[0], vma_found, &probe, 0);
		call.extra0 = probe.vm_flags;
		call.extra1 = probe.file;
		break;
	}
	default:
		return;
	}
	__u32 tid = (__u32)bpf_get_current_pid_tgid();
	bpf_map_update_elem(&pending, &tid, &call, BPF_ANY);
}

static __always_inline __u32 current_abi(long nr)
{
	if (nr & X32_SYSCALL_BIT)
		return SP_ABI_X32;
	struct task_struct *task = (void *)bpf_get_current_task();
	if (bpf_core_field_exists(task->thread_info.status) &&
	    (BPF_CORE_READ(task, thread_info.status) & TS_COMPAT))
		return SP_ABI_COMPAT;
	return SP_ABI_NATIVE;
}

static __always_inline void handle_enter(long nr, const __u64 *args)
{
	if (nr < 0)
		return;
	__u32 abi = current_abi(nr);
	if (abi == SP_ABI_X32)
		mark_syscall(abi, nr & ~X32_SYSCALL_BIT);
	else
		mark_syscall(abi, nr);
	/* Argument decoding uses native numbers; compat calls only count. */
	if (abi == SP_ABI_NATIVE && wants_args(nr))
		on_enter(nr, args);
}

SEC("tp_btf/sys_enter")
int BPF_PROG(sys_enter_btf, struct pt_regs *regs, long id)
{
	if (!is_target())
		return 0;
	if (id < 0 || !wants_args(id)) {
		/* The hot path: one bit, no argument reads, and the compat flag read
		 * directly through the trusted task pointer (no helper call). */
		if (id >= 0) {
			struct task_struct *task = bpf_get_current_task_btf();
			__u32 abi = SP_ABI_NATIVE;
			if (id & X32_SYSCALL_BIT)
				abi = SP_ABI_X32;
			else if (task->thread_info.status & TS_COMPAT)
				abi = SP_ABI_COMPAT;
			mark_syscall(abi, id & ~X32_SYSCALL_BIT);
		}
		return 0;
	}
	__u64 args[6] = {
		BPF_CORE_READ(regs, di), BPF_CORE_READ(regs, si), BPF_CORE_READ(regs, dx),
		BPF_CORE_READ(regs, r10), BPF_CORE_READ(regs, r8), BPF_CORE_READ(regs, r9),
	};
	handle_enter(id, args);
	return 0;
}

/* Plain record layouts for classic tracepoints: vmlinux.h's trace_event_raw_*
 * types carry preserve_access_index, which the verifier rejects on ctx. */
struct raw_sys_enter_record {
	__u64 common;
	long id;
	unsigned long args[6];
};

SEC("tracepoint/raw_syscalls/sys_enter")
int sys_enter_tp(struct raw_sys_enter_record *ctx)
{
	if (!is_target())
		return 0;
	__u64 args[6];
#pragma unroll
	for (int i = 0; i < 6; i++)
		args[i] = ctx->args[i];
	handle_enter(ctx->id, args);
	return 0;
}

/* ---------------------------------------------------------------- sys_exit */

struct sys_exit_record {
	__u64 common;
	int nr;
	long ret;
};

static __always_inline void exit_open(struct scratch *s, struct pending_call *call, long ret)
{
	struct sp_event *ev = &s->ev;
	long nr = call->nr;
	long dirfd = AT_FDCWD;
	const void *upath = (void *)call->args[0];
	__u64 flags = call->args[1];
	__u64 mode = call->args[2];
	if (nr == NR_openat || nr == NR_openat2) {
		dirfd = (long)call->args[0];
		upath = (void *)call->args[1];
		flags = call->args[2];
		mode = call->args[3];
		if (nr == NR_openat2) {
			/* struct open_how { u64 flags; u64 mode; u64 resolve; } */
			flags = 0;
			mode = 0;
			bpf_probe_read_user(&flags, sizeof(flags), (void *)call->args[2]);
			bpf_probe_read_user(&mode, sizeof(mode), (void *)(call->args[2] + 8));
		}
	} else if (nr == NR_creat) {
		flags = 01 | O_CREAT | 01000; /* O_WRONLY | O_CREAT | O_TRUNC */
		mode = call->args[1];
	}
	reset_event(ev, SP_EV_OPEN, nr);
	ev->arg0 = flags;
	ev->arg2 = (flags & (O_CREAT | O_TMPFILE)) ? (mode & 07777) : 0;
	__u64 hash;
	if (ret >= 0) {
		struct file *file = fd_file(ret);
		if (!file)
			return;
		__u32 fmode = BPF_CORE_READ(file, f_mode);
		__u64 acc = 0;
		if (fmode & FMODE_READ)
			acc |= SP_ACC_READ;
		if (fmode & FMODE_WRITE)
			acc |= SP_ACC_WRITE;
		if (fmode & FMODE_CREATED)
			acc |= SP_ACC_CREATED;
		if (fmode & FMODE_EXEC)
			acc |= SP_ACC_EXEC;
		if (fmode & FMODE_PATH)
			acc |= SP_ACC_PATH;
		/* the set-id bits matter only when they were asked for */
		ev->arg0 = (acc & SP_ACC_CREATED) ? (ev->arg2 & SETID_BITS) : 0;
		struct file_key fk = {};
		file_key_of(&fk, file, SP_EV_OPEN, acc | (ev->arg0 << 8));
		if (bpf_map_lookup_elem(&seen_files, &fk))
			return; /* the common case for a busy server: same file again */
		__u32 imode = BPF_CORE_READ(file, f_inode, i_mode);
		if ((imode & S_IFMT) == S_IFDIR)
			acc |= SP_ACC_DIR;
		ev->arg1 = acc;
		hash = walk_file(ev, file);
		if (emit_unique(ev, hash) == 0) {
			__u8 one = 1;
			bpf_map_update_elem(&seen_files, &fk, &one, BPF_ANY);
		}
		return;
	} else {
		ev->err = ret;
		hash = resolve_user_path(ev, dirfd, upath);
		ev->arg0 = flags & 03; /* O_ACCMODE: the intent is all that matters */
	}
	emit_unique(ev, hash);
}

/* Which (dirfd, path) argument pairs a path-taking syscall has: idx -1 = none. */
struct path_args {
	int dirfd0, path0, dirfd1, path1, fd, mode, dev;
};

static __always_inline bool pathop_args(long nr, struct path_args *p)
{
	*p = (struct path_args){ -1, -1, -1, -1, -1, -1, -1 };
	switch (nr) {
	case NR_truncate: case NR_rmdir: case NR_unlink: case NR_chown: case NR_lchown:
	case NR_umount2:
		p->path0 = 0;
		return true;
	case NR_mkdir: case NR_chmod:
		p->path0 = 0; p->mode = 1;
		return true;
	case NR_mknod:
		p->path0 = 0; p->mode = 1; p->dev = 2;
		return true;
	case NR_mkdirat: case NR_fchmodat: case NR_fchmodat2:
		p->dirfd0 = 0; p->path0 = 1; p->mode = 2;
		return true;
	case NR_mknodat:
		p->dirfd0 = 0; p->path0 = 1; p->mode = 2; p->dev = 3;
		return true;
	case NR_unlinkat: case NR_fchownat: case NR_open_tree:
		p->dirfd0 = 0; p->path0 = 1;
		return true;
	case NR_rename: case NR_link:
		p->path0 = 0; p->path1 = 1;
		return true;
	case NR_symlink:
		p->path1 = 1;
		return true;
	case NR_symlinkat:
		p->dirfd1 = 1; p->path1 = 2;
		return true;
	case NR_renameat: case NR_renameat2: case NR_linkat:
		p->dirfd0 = 0; p->path0 = 1; p->dirfd1 = 2; p->path1 = 3;
		return true;
	case NR_mount:
		p->path1 = 1; /* the target; the source may not be a path */
		return true;
	case NR_move_mount:
		p->dirfd1 = 2; p->path1 = 3;
		return true;
	case NR_mount_setattr:
		p->dirfd0 = 0; p->path0 = 1;
		return true;
	case NR_fchmod:
		p->fd = 0; p->mode = 1;
		return true;
	case NR_fchown:
		p->fd = 0;
		return true;
	case NR_fsopen: case NR_fsmount:
		return true;
	default:
		return false;
	}
}

static __always_inline __u64 arg_at(struct pending_call *call, int idx)
{
	return idx >= 0 && idx < 6 ? call->args[idx & 7] : 0;
}

static __always_inline void emit_pathop(struct scratch *s, struct pending_call *call, long ret,
					int dirfd_idx, int path_idx, __u32 extra_flags, __u64 mode,
					__u64 dev)
{
	struct sp_event *ev = &s->ev;
	reset_event(ev, SP_EV_PATHOP, call->nr);
	ev->err = ret < 0 ? ret : 0;
	ev->flags |= extra_flags;
	ev->arg0 = mode;
	ev->arg1 = dev;
	long dirfd = dirfd_idx >= 0 ? (long)arg_at(call, dirfd_idx) : AT_FDCWD;
	__u64 hash = resolve_user_path(ev, dirfd, (void *)arg_at(call, path_idx));
	emit_unique(ev, hash);
}

static __always_inline void exit_pathop(struct scratch *s, struct pending_call *call, long ret)
{
	struct path_args p;
	if (!pathop_args(call->nr, &p))
		return;
	__u64 mode = p.mode >= 0 ? arg_at(call, p.mode) : 0;
	__u64 dev = p.dev >= 0 ? arg_at(call, p.dev) : 0;
	if (p.fd >= 0) {
		struct sp_event *ev = &s->ev;
		reset_event(ev, SP_EV_PATHOP, call->nr);
		ev->err = ret < 0 ? ret : 0;
		ev->flags |= SP_F_FD_PATH;
		ev->arg0 = mode;
		__u64 hash = walk_file(ev, fd_file((long)arg_at(call, p.fd)));
		emit_unique(ev, hash);
		return;
	}
	if (p.path0 < 0 && p.path1 < 0) {
		/* fsopen/fsmount: no path, the syscall is the observation */
		struct sp_event *ev = &s->ev;
		reset_event(ev, SP_EV_PATHOP, call->nr);
		ev->err = ret < 0 ? ret : 0;
		emit_unique(ev, 0);
		return;
	}
	if (p.path0 >= 0)
		emit_pathop(s, call, ret, p.dirfd0, p.path0, 0, mode, dev);
	if (p.path1 >= 0)
		emit_pathop(s, call, ret, p.dirfd1, p.path1, SP_F_SECOND_PATH, mode, dev);
}

SEC("tracepoint/syscalls/sys_exit_detail")
int sys_exit_detail(struct sys_exit_record *ctx)
{
	if (!is_target())
		return 0;
	struct pending_call call = { .nr = ctx->nr };
	if (ctx->nr == NR_mprotect || ctx->nr == NR_pkey_mprotect) {
		__u32 tid = (__u32)bpf_get_current_pid_tgid();
		struct pending_call *found = bpf_map_lookup_elem(&pending, &tid);
		if (!found)
			return 0; /* no PROT_EXEC, or the entry was not seen */
		call = *found;
		bpf_map_delete_elem(&pending, &tid);
		if ((long)call.nr != ctx->nr)
			return 0;
	} else {
		/* The user registers saved at entry still hold the arguments: r10 up
		 * to di are adjacent in pt_regs, so one read fetches all six. */
		struct pt_regs *regs = (struct pt_regs *)bpf_task_pt_regs(bpf_get_current_task_btf());
		__u64 block[8] = {};
		__u32 base = bpf_core_field_offset(struct pt_regs, r10);
		bpf_probe_read_kernel(block, sizeof(block), (void *)regs + base);
		call.args[0] = block[((bpf_core_field_offset(struct pt_regs, di) - base) / 8) & 7];
		call.args[1] = block[((bpf_core_field_offset(struct pt_regs, si) - base) / 8) & 7];
		call.args[2] = block[((bpf_core_field_offset(struct pt_regs, dx) - base) / 8) & 7];
		call.args[3] = block[0];
		call.args[4] = block[((bpf_core_field_offset(struct pt_regs, r8) - base) / 8) & 7];
		call.args[5] = block[((bpf_core_field_offset(struct pt_regs, r9) - base) / 8) & 7];
	}
	struct scratch *s = scratch_get();
	if (!s)
		return 0;
	long ret = ctx->ret;
	struct sp_event *ev = &s->ev;
	switch (call.nr) {
	case NR_open: case NR_openat: case NR_openat2: case NR_creat:
		exit_open(s, &call, ret);
		return 0;
	case NR_mmap: {
		if (!(call.args[2] & PROT_EXEC))
			return 0;
		reset_event(ev, SP_EV_MMAP, call.nr);
		ev->err = ret < 0 && ret > -4096 ? ret : 0;
		ev->arg0 = call.args[2] & 0x7;
		ev->arg1 = call.args[3] & MAP_ANONYMOUS;
		if (call.args[3] & MAP_ANONYMOUS) {
			emit_unique(ev, 0);
			return 0;
		}
		struct file *file = fd_file((long)call.args[4]);
		if (!file)
			return 0;
		struct file_key fk = {};
		file_key_of(&fk, file, SP_EV_MMAP, (__u32)ev->arg0 | ((ev->err != 0) << 8));
		if (bpf_map_lookup_elem(&seen_files, &fk))
			return 0; /* every process maps the same libraries */
		if (emit_unique(ev, walk_file(ev, file)) == 0) {
			__u8 one = 1;
			bpf_map_update_elem(&seen_files, &fk, &one, BPF_ANY);
		}
		return 0;
	}
	case NR_mprotect:
	case NR_pkey_mprotect: {
		reset_event(ev, SP_EV_MPROTECT, call.nr);
		ev->err = ret < 0 ? ret : 0;
		ev->arg0 = call.args[2];
		ev->arg1 = call.extra0 & VM_EXEC;
		__u64 hash = walk_file(ev, (struct file *)(unsigned long)call.extra1);
		emit_unique(ev, hash);
		return 0;
	}
	case NR_socket:
	case NR_socketpair:
		reset_event(ev, SP_EV_SOCKET, call.nr);
		ev->err = ret < 0 ? ret : 0;
		ev->arg0 = call.args[0];
		ev->arg1 = call.args[1] & 0xf; /* SOCK_NONBLOCK/CLOEXEC are not the type */
		ev->arg2 = call.args[2];
		emit_unique(ev, 0);
		return 0;
	case NR_bind:
	case NR_connect: {
		reset_event(ev, SP_EV_ADDRESS, call.nr);
		ev->err = ret < 0 ? ret : 0;
		__u32 len = call.args[2];
		if (len > SP_NAME_MAX - 1)
			len = SP_NAME_MAX - 1;
		ev->arg0 = len;
		__builtin_memset(ev->name, 0, SP_NAME_MAX);
		bpf_probe_read_user(ev->name, len & (SP_NAME_MAX - 1), (void *)call.args[1]);
		ev->flags |= SP_F_HAS_NAME;
		emit_unique(ev, hash_name(ev->name));
		return 0;
	}
	case NR_clone: case NR_clone3: case NR_unshare: case NR_setns: {
		__u64 flags = call.args[0]; /* clone (x86_64 order), unshare */
		if (call.nr == NR_setns)
			flags = call.args[1];
		else if (call.nr == NR_clone3)
			bpf_probe_read_user(&flags, sizeof(flags), (void *)call.args[0]);
		if (!(flags & NS_FLAGS) && call.nr != NR_setns)
			return 0; /* a plain fork or thread */
		reset_event(ev, SP_EV_NAMESPACE, call.nr);
		ev->err = ret < 0 ? ret : 0;
		ev->arg0 = flags & NS_FLAGS;
		emit_unique(ev, 0);
		return 0;
	}
	default:
		exit_pathop(s, &call, ret);
		return 0;
	}
}

/* ---------------------------------------------------------------- capabilities */

static __always_inline void on_cap(void *ctx, struct user_namespace *target_ns, int cap, int ret,
				   __u32 nr)
{
	struct scratch *s = scratch_get();
	if (!s)
		return;
	struct sp_event *ev = &s->ev;
	reset_event(ev, SP_EV_CAP, nr);
	ev->err = ret;
	ev->arg0 = cap;
	ev->arg1 = BPF_CORE_READ(target_ns, level);
	__builtin_memset(ev->stack, 0, sizeof(ev->stack));
	bpf_get_stack(ctx, ev->stack, sizeof(ev->stack), 0);
	/* The caller, not the exact stack, decides audit vs. probe; but the stack
	 * is what the kernel gives, so it is the key (a few variants per cap). */
	__u64 hash = 0xcbf29ce484222325ULL;
#pragma unroll
	for (int i = 0; i < SP_STACK_DEPTH; i++)
		hash = mix(hash, ev->stack[i]);
	emit_unique(ev, hash);
}

static __always_inline __u32 current_syscall_nr(void)
{
	struct task_struct *task = bpf_get_current_task_btf();
	struct pt_regs *regs = (struct pt_regs *)bpf_task_pt_regs(task);
	return (__u32)BPF_CORE_READ(regs, orig_ax);
}

SEC("tp_btf/cap_capable")
int BPF_PROG(cap_capable_btf, const struct cred *cred, struct user_namespace *target_ns,
	     const struct user_namespace *capable_ns, int cap, int ret)
{
	if (!is_target())
		return 0;
	/* A check on credentials other than the task's own objective ones
	 * (overlayfs checking its lower layers under override_creds() with the
	 * mounter's, a file's opener's) is not a need of this task: its own check,
	 * if any, comes with its own credentials. */
	struct task_struct *task = bpf_get_current_task_btf();
	if ((const struct cred *)BPF_CORE_READ(task, real_cred) != cred)
		return 0;
	on_cap(ctx, target_ns, cap, ret, current_syscall_nr());
	return 0;
}

struct cap_capable_record {
	__u64 common;
	void *cred;
	struct user_namespace *target_ns;
	void *capable_ns;
	int cap;
	int ret;
};

SEC("tracepoint/capability/cap_capable")
int cap_capable_tp(struct cap_capable_record *ctx)
{
	if (!is_target())
		return 0;
	struct task_struct *task = (struct task_struct *)bpf_get_current_task();
	if ((void *)BPF_CORE_READ(task, real_cred) != ctx->cred)
		return 0; /* see cap_capable_btf */
	on_cap(ctx, ctx->target_ns, ctx->cap, ctx->ret, 0xffffffff);
	return 0;
}

/* ---------------------------------------------------------------- processes */

SEC("tp_btf/sched_process_exec")
int BPF_PROG(process_exec_btf, struct task_struct *task, pid_t old_pid, struct linux_binprm *bprm)
{
	/* from here on it is the target's own, and so is the execve that got here
	 * (made by the mover's code: a native call) */
	bool was_setup = setup_end(BPF_CORE_READ(task, tgid));
	if (!is_target())
		return 0;
	if (was_setup) {
		__u32 nr = current_syscall_nr();
		mark_syscall(nr & X32_SYSCALL_BIT ? SP_ABI_X32 : SP_ABI_NATIVE, nr & ~X32_SYSCALL_BIT);
	}
	struct scratch *s = scratch_get();
	if (!s)
		return 0;
	struct sp_event *ev = &s->ev;
	reset_event(ev, SP_EV_EXEC, current_syscall_nr());
	const char *filename = BPF_CORE_READ(bprm, filename);
	const char *interp = BPF_CORE_READ(bprm, interp);
	__builtin_memset(ev->name, 0, SP_NAME_MAX);
	long n = bpf_probe_read_kernel_str(ev->name, SP_NAME_MAX, filename);
	if (n >= SP_NAME_MAX)
		ev->flags |= SP_F_NAME_TRUNCATED;
	ev->flags |= SP_F_HAS_NAME;
	__u64 hash = hash_name(ev->name);
	if (filename != interp) {
		/* binfmt_script replaced the file with the interpreter: keep the
		 * script as passed (plus the cwd if relative) and the #! line. */
		ev->flags |= SP_F_SCRIPT | SP_F_HAS_AUX;
		bpf_probe_read_kernel_str(ev->aux, SP_NAME_MAX, interp);
		if (ev->name[0] != '/') {
			hash ^= walk_path(ev, BPF_CORE_READ(task, fs, pwd.dentry),
					  BPF_CORE_READ(task, fs, pwd.mnt));
			ev->flags |= SP_F_PATH_IS_BASE;
		}
	} else {
		hash = walk_file(ev, BPF_CORE_READ(bprm, file));
	}
	emit_unique(ev, hash);
	return 0;
}

SEC("tp_btf/sched_process_fork")
int BPF_PROG(process_fork_btf, struct task_struct *parent, struct task_struct *child)
{
	__u32 parent_tgid = BPF_CORE_READ(parent, tgid);
	__u32 child_tgid = BPF_CORE_READ(child, tgid);
	if (cfg_filter_mode == SP_FILTER_TGID) {
		if (!bpf_map_lookup_elem(&target_tgids, &parent_tgid))
			return 0;
		if (child_tgid != parent_tgid) {
			__u8 one = 1;
			bpf_map_update_elem(&target_tgids, &child_tgid, &one, BPF_ANY);
		}
	} else {
		if (in_setup(parent_tgid)) {
			setup_begin(child_tgid);
			return 0;
		}
		if (!is_target())
			return 0;
	}
	struct sp_counters *c = counters_get();
	if (c)
		c->processes++;
	return 0;
}

SEC("tp_btf/sched_process_exit")
int BPF_PROG(process_exit_btf, struct task_struct *task, bool group_dead)
{
	if (!group_dead)
		return 0;
	/* the pid may be reused by an unrelated process: forget it */
	__u32 tgid = BPF_CORE_READ(task, tgid);
	setup_end(tgid);
	if (cfg_filter_mode == SP_FILTER_TGID)
		bpf_map_delete_elem(&target_tgids, &tgid);
	return 0;
}

/* ---------------------------------------------------------------- cgroups */

static __always_inline void add_cgroup(__u64 id, const char *path_src, bool kernel_str)
{
	__u8 one = 1;
	bpf_map_update_elem(&target_cgroups, &id, &one, BPF_ANY);
	__u32 slot_index = id & (SP_CGROUP_SLOTS - 1);
	__u64 *slot = bpf_map_lookup_elem(&cgroup_slots, &slot_index);
	if (slot && *slot == 0)
		*slot = id; /* a racing writer leaves another target there: still non-zero */
	struct sp_counters *c = counters_get();
	if (c)
		c->cgroups_followed++;
	struct scratch *s = scratch_get();
	if (!s)
		return;
	reset_event(&s->ev, SP_EV_CGROUP, 0);
	s->ev.arg0 = id;
	bpf_probe_read_kernel_str(s->ev.name, SP_NAME_MAX, path_src);
	s->ev.flags |= SP_F_HAS_NAME;
	emit_unique(&s->ev, id);
}

/* A child of a target, or a watched cgroup (a unit's, re-created on restart). */
SEC("tp_btf/cgroup_mkdir")
int BPF_PROG(cgroup_mkdir_btf, struct cgroup *cgrp, const char *path)
{
	if (BPF_CORE_READ(cgrp, root, hierarchy_id) != 0)
		return 0; /* a v1 hierarchy: its ids are not v2 ids */
	__u64 id = BPF_CORE_READ(cgrp, kn, id);
	int level = BPF_CORE_READ(cgrp, level);
	struct scratch *s = scratch_get();
	if (!s)
		return 0;
	if (level > 0) {
		struct cgroup *parent = NULL;
		/* a variable index into ancestors[] is rejected on a BTF pointer */
		bpf_core_read(&parent, sizeof(parent), &cgrp->ancestors[(level - 1) & 0xff]);
		__u64 parent_id = BPF_CORE_READ(parent, kn, id);
		if (parent && bpf_map_lookup_elem(&target_cgroups, &parent_id)) {
			add_cgroup(id, path, true);
			return 0;
		}
		/* by parent and leaf name: `path` is relative to the host's root,
		 * a watch made inside a cgroup namespace (a container) is not */
		__builtin_memset(&s->cg, 0, sizeof(s->cg));
		s->cg.parent_id = parent_id;
		bpf_probe_read_kernel_str(s->cg.name, sizeof(s->cg.name), BPF_CORE_READ(cgrp, kn, name));
		if (parent && bpf_map_lookup_elem(&watch_cgroups, &s->cg)) {
			add_cgroup(id, path, true);
			return 0;
		}
	}
	__builtin_memset(&s->cg, 0, sizeof(s->cg));
	bpf_probe_read_kernel_str(s->cg.name, sizeof(s->cg.name), path);
	if (bpf_map_lookup_elem(&watch_cgroups, &s->cg))
		add_cgroup(id, path, true);
	return 0;
}

struct cgroup_mkdir_record {
	__u64 common;
	int root;
	int level;
	__u64 id;
	__u32 data_loc_path;
};

/* Fallback: by path only (the classic record has no parent id). */
SEC("tracepoint/cgroup/cgroup_mkdir")
int cgroup_mkdir_tp(struct cgroup_mkdir_record *ctx)
{
	if (ctx->root != 0)
		return 0;
	struct scratch *s = scratch_get();
	if (!s)
		return 0;
	__builtin_memset(&s->cg, 0, sizeof(s->cg));
	const char *path = (const char *)ctx + (ctx->data_loc_path & 0xffff);
	bpf_probe_read_kernel_str(s->cg.name, sizeof(s->cg.name), path);
	if (bpf_map_lookup_elem(&watch_cgroups, &s->cg))
		add_cgroup(ctx->id, path, true);
	return 0;
}

/* A signal sent to a target process (SIGHUP for a reload, SIGUSR1 for log
 * rotation, ...): part of the lifecycle the recording saw. */
SEC("tp_btf/signal_generate")
int BPF_PROG(signal_generate_btf, int sig, struct kernel_siginfo *info, struct task_struct *task,
	     int group, int result)
{
	if (result != 0 && result != 2)
		return 0; /* only delivered (0) or already pending (2), not ignored or lost */
	__u32 tgid = BPF_CORE_READ(task, tgid);
	if (cfg_filter_mode == SP_FILTER_TGID) {
		if (!bpf_map_lookup_elem(&target_tgids, &tgid))
			return 0;
	} else {
		if (!is_target_cgroup(BPF_CORE_READ(task, cgroups, dfl_cgrp, kn, id)) || in_setup(tgid))
			return 0;
	}
	struct scratch *s = scratch_get();
	if (!s)
		return 0;
	reset_event(&s->ev, SP_EV_SIGNAL, 0);
	s->ev.arg0 = sig;
	emit_unique(&s->ev, sig);
	return 0;
}

/* A process moved into a target cgroup (not born there): with
 * `cfg_gate_until_exec`, what it does before its next execve is the mover's
 * set-up (systemd's: namespaces, mounts, credentials), not the target's. */
SEC("tp_btf/cgroup_attach_task")
int BPF_PROG(cgroup_attach_btf, struct cgroup *dst_cgrp, const char *path,
	     struct task_struct *task, bool threadgroup)
{
	if (!cfg_gate_until_exec || BPF_CORE_READ(dst_cgrp, root, hierarchy_id) != 0)
		return 0;
	if (is_target_cgroup(BPF_CORE_READ(dst_cgrp, kn, id)))
		setup_begin(BPF_CORE_READ(task, tgid));
	return 0;
}

struct cgroup_attach_record {
	__u64 common;
	int dst_root;
	int dst_level;
	__u64 dst_id;
	int pid;
};

SEC("tracepoint/cgroup/cgroup_attach_task")
int cgroup_attach_tp(struct cgroup_attach_record *ctx)
{
	if (!cfg_gate_until_exec || ctx->dst_root != 0)
		return 0;
	/* the record has the moved thread's pid; systemd moves single-threaded
	 * children, whose pid is their tgid */
	if (is_target_cgroup(ctx->dst_id))
		setup_begin(ctx->pid);
	return 0;
}
