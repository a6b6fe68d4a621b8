//! `sysprof diff`: what one trace shows that another does not, one stable line per observation.

use crate::trace::Trace;
use crate::unit::quote_word;
use serde::Serialize;
use std::collections::BTreeSet;

/// The observations of a trace as comparable one-line descriptions (paths escaped).
pub fn observations(trace: &Trace) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    for s in &trace.syscalls {
        out.insert(format!("syscall {} {}", s.abi, s.name));
    }
    for c in &trace.capabilities {
        out.insert(format!("capability {}", crate::tables::caps::name(c.cap.0)));
    }
    for f in &trace.files {
        out.insert(format!(
            "file {} {} {}",
            f.access,
            f.result,
            quote_word(&f.path)
        ));
    }
    for e in &trace.execs {
        out.insert(format!("exec {}", quote_word(&e.path)));
    }
    for s in &trace.sockets {
        out.insert(format!(
            "socket {} {} {} {}",
            s.family, s.sock_type, s.protocol, s.result
        ));
    }
    for a in &trace.addresses {
        out.insert(format!(
            "address {:?} {} {} {}",
            a.op,
            a.family,
            quote_word(&a.address),
            a.result
        ));
    }
    for n in &trace.namespaces {
        out.insert(format!(
            "namespace {} {} {}",
            n.syscall,
            n.kind.as_str(),
            n.result
        ));
    }
    for p in &trace.personalities {
        out.insert(format!("personality {p}"));
    }
    for signal in &trace.meta.lifecycle.signals {
        out.insert(format!("signal {signal}"));
    }
    for r in &trace.realtime {
        out.insert(format!("realtime {} {}", r.syscall, r.policy));
    }
    for m in &trace.memory {
        out.insert(format!("memory {:?} {} {}", m.kind, m.syscall, m.result));
    }
    for s in &trace.setid_modes {
        let path = s.path.as_deref().map(quote_word).unwrap_or_default();
        out.insert(format!(
            "setid {} {} {} {}",
            s.syscall, s.mode, path, s.result
        ));
    }
    for d in &trace.devices {
        out.insert(format!(
            "mknod {:?} {} {}",
            d.kind,
            quote_word(&d.path),
            d.result
        ));
    }
    for m in &trace.mounts {
        let target = m.target.as_deref().map(quote_word).unwrap_or_default();
        out.insert(format!("mount {} {} {}", m.syscall, target, m.result));
    }
    out
}

/// Observations only in the new trace (`added`) and only in the old one (`removed`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TraceDiff {
    pub added: Vec<String>,
    pub removed: Vec<String>,
}

/// Compares two traces.
pub fn diff(old: &Trace, new: &Trace) -> TraceDiff {
    let a = observations(old);
    let b = observations(new);
    TraceDiff {
        added: b.difference(&a).cloned().collect(),
        removed: a.difference(&b).cloned().collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::event::{Abi, Access, Event};

    #[test]
    fn reports_both_directions() {
        let mut old = Trace::new("x86_64");
        old.record(Event::Syscall {
            abi: Abi::X86_64,
            name: "read".into(),
        });
        old.record(Event::Syscall {
            abi: Abi::X86_64,
            name: "write".into(),
        });
        let mut new = old.clone();
        new.syscalls.retain(|s| s.name != "write");
        new.record(Event::Syscall {
            abi: Abi::X86_64,
            name: "openat2".into(),
        });
        new.record(Event::File {
            path: "/tmp/a\nb".into(),
            access: Access::Write,
            outcome: Ok(()),
        });
        let d = diff(&old, &new);
        assert_eq!(d.removed, ["syscall x86_64 write"]);
        assert_eq!(d.added.len(), 2);
        assert!(d.added.iter().all(|l| !l.contains('\n')), "{:?}", d.added);
        assert!(diff(&new, &new).added.is_empty());
    }
}
