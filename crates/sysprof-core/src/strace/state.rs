//! Per-process state the importer replays from the log: cwd, root, fd table, credentials, ABI.
//!
//! Working directories and fd tables live in arenas so that threads (`CLONE_FS`, `CLONE_FILES`)
//! share them by index, as they share them in the kernel; exited processes release their slots.

use crate::event::Abi;
use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};
use std::rc::Rc;

/// A small, fast, deterministic hasher for the importer's private maps (keys are short byte
/// strings and integers; no iteration order ever reaches the output).
#[derive(Default, Clone, Copy)]
pub(crate) struct FxHasher {
    hash: u64,
}

const FX_SEED: u64 = 0x51_7c_c1_b7_27_22_0a_95;

impl FxHasher {
    #[inline]
    fn add(&mut self, word: u64) {
        self.hash = (self.hash.rotate_left(5) ^ word).wrapping_mul(FX_SEED);
    }
}

impl Hasher for FxHasher {
    #[inline]
    fn write(&mut self, bytes: &[u8]) {
        let mut chunks = bytes.chunks_exact(8);
        for chunk in &mut chunks {
            let mut word = [0u8; 8];
            word.copy_from_slice(chunk);
            self.add(u64::from_le_bytes(word));
        }
        let rest = chunks.remainder();
        if !rest.is_empty() {
            let mut word = [0u8; 8];
            word[..rest.len()].copy_from_slice(rest);
            self.add(u64::from_le_bytes(word) ^ ((rest.len() as u64) << 56));
        }
    }

    #[inline]
    fn write_u8(&mut self, n: u8) {
        self.add(u64::from(n));
    }

    #[inline]
    fn write_u16(&mut self, n: u16) {
        self.add(u64::from(n));
    }

    #[inline]
    fn write_u32(&mut self, n: u32) {
        self.add(u64::from(n));
    }

    #[inline]
    fn write_u64(&mut self, n: u64) {
        self.add(n);
    }

    #[inline]
    fn write_usize(&mut self, n: usize) {
        self.add(n as u64);
    }

    #[inline]
    fn finish(&self) -> u64 {
        self.hash
    }
}

pub(crate) type FxBuild = BuildHasherDefault<FxHasher>;
pub(crate) type FxMap<K, V> = HashMap<K, V, FxBuild>;

/// An interned byte string (path, errno name, family name, …).
pub(crate) type Sym = u32;

/// Byte-string interner: each distinct string is stored once and named by a [`Sym`].
#[derive(Default)]
pub(crate) struct Interner {
    map: FxMap<Rc<[u8]>, Sym>,
    strings: Vec<Rc<[u8]>>,
    /// Per symbol: whether it has already been counted for the integrity counters.
    counted: Vec<bool>,
}

impl Interner {
    pub(crate) fn intern(&mut self, bytes: &[u8]) -> Sym {
        if let Some(&sym) = self.map.get(bytes) {
            return sym;
        }
        let sym = Sym::try_from(self.strings.len()).unwrap_or(Sym::MAX);
        let shared: Rc<[u8]> = Rc::from(bytes);
        self.strings.push(Rc::clone(&shared));
        self.counted.push(false);
        self.map.insert(shared, sym);
        sym
    }

    pub(crate) fn get(&self, sym: Sym) -> &[u8] {
        self.strings.get(sym as usize).map_or(&[], |s| s)
    }

    /// True the first time it is called for `sym`.
    pub(crate) fn first_count(&mut self, sym: Sym) -> bool {
        match self.counted.get_mut(sym as usize) {
            Some(flag) if !*flag => {
                *flag = true;
                true
            }
            _ => false,
        }
    }
}

/// What an fd refers to, as far as the log tells.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum FdTarget {
    /// A file or directory at this absolute path.
    Path(Sym),
    /// A socket, pipe, anonymous inode or memfd: no path to report.
    Anonymous,
}

/// A reference-counted arena slot, for state shared between threads.
struct Slot<T> {
    users: u32,
    value: T,
}

/// An arena of shareable values with slot reuse.
pub(crate) struct Arena<T> {
    slots: Vec<Slot<T>>,
    free: Vec<usize>,
}

impl<T: Default + Clone> Arena<T> {
    pub(crate) fn new() -> Self {
        Arena {
            slots: Vec::new(),
            free: Vec::new(),
        }
    }

    pub(crate) fn insert(&mut self, value: T) -> usize {
        if let Some(index) = self.free.pop() {
            self.slots[index] = Slot { users: 1, value };
            index
        } else {
            self.slots.push(Slot { users: 1, value });
            self.slots.len() - 1
        }
    }

    /// Adds a user to `index` (a thread sharing it).
    pub(crate) fn share(&mut self, index: usize) -> usize {
        if let Some(slot) = self.slots.get_mut(index) {
            slot.users += 1;
        }
        index
    }

    /// A new slot holding a copy of `index` (a forked child).
    pub(crate) fn copy(&mut self, index: usize) -> usize {
        let value = self
            .slots
            .get(index)
            .map(|s| s.value.clone())
            .unwrap_or_default();
        self.insert(value)
    }

    pub(crate) fn release(&mut self, index: usize) {
        if let Some(slot) = self.slots.get_mut(index) {
            slot.users = slot.users.saturating_sub(1);
            if slot.users == 0 {
                slot.value = T::default();
                self.free.push(index);
            }
        }
    }

    pub(crate) fn get(&self, index: usize) -> Option<&T> {
        self.slots.get(index).map(|s| &s.value)
    }

    pub(crate) fn get_mut(&mut self, index: usize) -> Option<&mut T> {
        self.slots.get_mut(index).map(|s| &mut s.value)
    }
}

/// What `CLONE_FS` shares: the working directory and the root.
#[derive(Debug, Clone, Default)]
pub(crate) struct FsState {
    pub cwd: Option<Sym>,
    /// The `chroot` directory as a host path; `None` is the host's `/` (or unknown before any
    /// `chroot` was seen, which is the same assumption strace's own `-y` paths make).
    pub root: Option<Sym>,
}

/// What `CLONE_FILES` shares: the descriptor table.
pub(crate) type FdTable = FxMap<i64, FdTarget>;

/// Real, effective and saved ids of one kind (uid or gid), as far as the log showed them.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct Ids {
    pub real: Option<u32>,
    pub effective: Option<u32>,
    pub saved: Option<u32>,
    /// A `set*id` call was seen since the last exec (so the saved id may differ from effective).
    pub changed: bool,
}

/// User and group ids.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct Creds {
    pub uid: Ids,
    pub gid: Ids,
}

impl Creds {
    /// Root by the brief's definition: `getuid()` or `geteuid()` (or `getresuid`) returned 0.
    pub(crate) fn is_root(&self) -> bool {
        self.uid.real == Some(0) || self.uid.effective == Some(0)
    }

    /// The ids used to judge a `set*id` call, with unknowns filled where the log allows:
    /// a saved id equals the effective id when no `set*id` call was seen (exec sets it so), and a
    /// root process's unobserved ids are taken to be 0. `None` when something stays unknown.
    pub(crate) fn resolved(&self, gid: bool) -> Option<[u32; 3]> {
        let ids = if gid { self.gid } else { self.uid };
        let fill = if self.is_root() { Some(0) } else { None };
        let real = ids.real.or(fill)?;
        let effective = ids.effective.or(fill)?;
        let saved = ids
            .saved
            .or(if ids.changed { None } else { Some(effective) })
            .or(fill)?;
        Some([real, effective, saved])
    }
}

/// One traced process or thread.
#[derive(Debug, Clone)]
pub(crate) struct Process {
    /// `None` when the ABI cannot be represented in the trace (32-bit ARM on aarch64).
    pub abi: Option<Abi>,
    pub fs: usize,
    pub files: usize,
    pub creds: Creds,
    /// The text of an `<unfinished ...>` call, waiting for its `<... resumed>` half.
    pub pending: Option<Vec<u8>>,
    /// Whether the process runs in a user namespace it created (its capabilities there are not
    /// capabilities the unit needs).
    pub own_userns: bool,
    /// Whether its state came from a parent (via a clone seen in the log).
    pub inherited: bool,
}
