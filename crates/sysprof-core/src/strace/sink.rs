//! Deduplicating event sink: checks a compact key before building the owned [`Event`], so the
//! millions of repeated observations in a long log cost one hash lookup each.

use super::state::{FxBuild, Interner, Sym};
use crate::event::{
    Abi, Access, AddressOp, CapOrigin, DeviceKind, Event, MapKind, Namespace, Outcome,
};
use crate::trace::Trace;
use std::collections::HashSet;

/// An observation, with every string interned.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) enum Key {
    File(Sym, Access, Option<Sym>),
    Exec(Sym),
    Socket(Sym, Sym, Sym, Option<Sym>),
    Address(AddressOp, Sym, Sym, Option<Sym>),
    Namespace(Sym, Namespace, Option<Sym>),
    Personality(u64),
    Realtime(Sym, Sym),
    Memory(MapKind, Sym, Option<Sym>),
    SetId(Sym, Option<Sym>, u32, Option<Sym>),
    Mknod(Sym, DeviceKind, Option<Sym>),
    Mount(Sym, Option<Sym>, Option<Sym>),
    Capability(u8, Sym),
}

/// Integrity counters the sink maintains.
#[derive(Debug, Default, Clone, Copy)]
pub(crate) struct PathCounters {
    pub lossy: u64,
    pub unresolved: u64,
}

/// The prefix of paths that could not be made absolute (see the module docs).
pub(crate) const UNRESOLVED_PREFIX: &[u8] = b"<unknown-";

pub(crate) struct Sink {
    pub trace: Trace,
    seen: HashSet<Key, FxBuild>,
    pub counters: PathCounters,
}

fn outcome(interner: &Interner, errno: Option<Sym>) -> Outcome {
    match errno {
        None => Ok(()),
        Some(sym) => Err(String::from_utf8_lossy(interner.get(sym)).into_owned()),
    }
}

impl Sink {
    pub(crate) fn new(arch: &str) -> Self {
        Sink {
            trace: Trace::new(arch),
            seen: HashSet::default(),
            counters: PathCounters::default(),
        }
    }

    pub(crate) fn syscall(&mut self, abi: Abi, name: &str) {
        self.trace.record(Event::Syscall {
            abi,
            name: name.to_owned(),
        });
    }

    pub(crate) fn process_started(&mut self) {
        self.trace.record(Event::ProcessStarted);
    }

    /// A path as a `String`, counting it once for the lossy/unresolved integrity counters.
    fn path(&mut self, interner: &mut Interner, sym: Sym) -> String {
        let first = interner.first_count(sym);
        let bytes = interner.get(sym);
        if first && bytes.starts_with(UNRESOLVED_PREFIX) {
            self.counters.unresolved += 1;
        }
        match String::from_utf8_lossy(bytes) {
            std::borrow::Cow::Borrowed(s) => s.to_owned(),
            std::borrow::Cow::Owned(s) => {
                if first {
                    self.counters.lossy += 1;
                }
                s
            }
        }
    }

    fn text(interner: &Interner, sym: Sym) -> String {
        String::from_utf8_lossy(interner.get(sym)).into_owned()
    }

    /// Records the event behind `key` unless an identical one was recorded before.
    pub(crate) fn emit(&mut self, interner: &mut Interner, key: Key) {
        if !self.seen.insert(key) {
            return;
        }
        let event = match key {
            Key::File(path, access, errno) => Event::File {
                path: self.path(interner, path),
                access,
                outcome: outcome(interner, errno),
            },
            Key::Exec(path) => Event::Exec {
                path: self.path(interner, path),
                interpreter: None,
            },
            Key::Socket(family, sock_type, protocol, errno) => Event::Socket {
                family: Self::text(interner, family),
                sock_type: Self::text(interner, sock_type),
                protocol: Self::text(interner, protocol),
                outcome: outcome(interner, errno),
            },
            Key::Address(op, family, address, errno) => Event::Address {
                op,
                family: Self::text(interner, family),
                address: self.path(interner, address),
                outcome: outcome(interner, errno),
            },
            Key::Namespace(syscall, kind, errno) => Event::Namespace {
                syscall: Self::text(interner, syscall),
                kinds: vec![kind],
                outcome: outcome(interner, errno),
            },
            Key::Personality(persona) => Event::Personality { persona },
            Key::Realtime(syscall, policy) => Event::Realtime {
                syscall: Self::text(interner, syscall),
                policy: Self::text(interner, policy),
            },
            Key::Memory(kind, syscall, errno) => Event::Memory {
                kind,
                syscall: Self::text(interner, syscall),
                outcome: outcome(interner, errno),
            },
            Key::SetId(syscall, path, mode, errno) => Event::SetIdMode {
                syscall: Self::text(interner, syscall),
                path: path.map(|p| self.path(interner, p)),
                mode,
                outcome: outcome(interner, errno),
            },
            Key::Mknod(path, kind, errno) => Event::Mknod {
                path: self.path(interner, path),
                kind,
                outcome: outcome(interner, errno),
            },
            Key::Mount(syscall, target, errno) => Event::Mount {
                syscall: Self::text(interner, syscall),
                target: target.map(|p| self.path(interner, p)),
                outcome: outcome(interner, errno),
            },
            Key::Capability(cap, syscall) => Event::Capability {
                cap,
                origin: CapOrigin::Inferred,
                syscall: Some(Self::text(interner, syscall)),
            },
        };
        self.trace.record(event);
    }
}
