//! Kernel stack symbolisation from `/proc/kallsyms`, to tell capability probes from needs.
//!
//! The `cap_capable` tracepoint has no `opts`, so a check made with `CAP_OPT_NOAUDIT` (a
//! probe whose failure changes nothing the service could notice, e.g. the VM accounting check
//! on every `mmap`) looks like a real one. Its callers differ, though, and they are named in
//! the kernel stack.

use std::fs;

/// Callers whose capability checks are probes, not needs. `*_noaudit` wrappers are matched by
/// suffix; the VM accounting path calls `cap_capable` directly with `CAP_OPT_NOAUDIT`.
const NOAUDIT_CALLERS: [&str; 3] = [
    "cap_vm_enough_memory",
    "security_vm_enough_memory_mm",
    "__vm_enough_memory",
];

/// The address ranges of the kernel's no-audit capability callers. Only these are kept (a few
/// dozen entries instead of the whole symbol table), so the recorder's memory stays small.
#[derive(Debug, Default)]
pub struct Kallsyms {
    /// (start, end, name), sorted by start; `end` is the next symbol's address.
    noaudit: Vec<(u64, u64, String)>,
}

impl Kallsyms {
    /// Reads `/proc/kallsyms`; `None` if it cannot be read or shows no addresses
    /// (`kptr_restrict` hides them from callers without CAP_SYSLOG).
    pub fn load() -> Option<Kallsyms> {
        let text = fs::read_to_string("/proc/kallsyms").ok()?;
        Kallsyms::parse(&text)
    }

    /// Parses kallsyms text; `None` when no code symbol has a non-zero address.
    pub fn parse(text: &str) -> Option<Kallsyms> {
        let mut symbols: Vec<(u64, &str)> = text
            .lines()
            .filter_map(|line| {
                let mut fields = line.split_whitespace();
                let addr = u64::from_str_radix(fields.next()?, 16).ok()?;
                let kind = fields.next()?;
                let name = fields.next()?;
                (addr != 0 && matches!(kind, "T" | "t" | "W" | "w")).then_some((addr, name))
            })
            .collect();
        if symbols.is_empty() {
            return None;
        }
        symbols.sort_unstable();
        let noaudit = symbols
            .iter()
            .enumerate()
            .filter(|(_, (_, name))| is_noaudit_symbol(name))
            .map(|(i, &(start, name))| {
                let end = symbols.get(i + 1).map_or(u64::MAX, |&(next, _)| next);
                (start, end, name.to_owned())
            })
            .collect();
        Some(Kallsyms { noaudit })
    }

    /// The no-audit caller containing `addr`, if any.
    pub fn noaudit_caller(&self, addr: u64) -> Option<&str> {
        let idx = self.noaudit.partition_point(|(start, _, _)| *start <= addr);
        idx.checked_sub(1)
            .and_then(|i| self.noaudit.get(i))
            .filter(|(_, end, _)| addr < *end)
            .map(|(_, _, name)| name.as_str())
    }

    /// True when the stack shows a no-audit caller (a probe, not a need).
    pub fn is_noaudit_probe(&self, stack: &[u64]) -> bool {
        stack
            .iter()
            .take_while(|&&addr| addr != 0)
            .any(|&addr| self.noaudit_caller(addr).is_some())
    }
}

/// True for the functions that check a capability without auditing.
pub fn is_noaudit_symbol(name: &str) -> bool {
    // Compiler clones carry suffixes such as `.isra.0` or `.cold`.
    let base = name.split('.').next().unwrap_or(name);
    base.ends_with("_noaudit") || NOAUDIT_CALLERS.contains(&base)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn resolves_and_classifies() {
        let table = Kallsyms::parse(
            "ffffffff81000000 T _stext\n\
             ffffffff813680d0 T has_capability_noaudit\n\
             ffffffff813681a0 T ns_capable\n\
             ffffffff81a82c90 T cap_vm_enough_memory\n\
             ffffffff81a87cb0 T security_vm_enough_memory_mm\n\
             ffffffff81a88000 d some_data\n\
             ffffffff81a89000 T after\n\
             0000000000000000 T hidden\n",
        )
        .expect("symbols");
        assert_eq!(
            table.noaudit_caller(0xffffffff813680d5),
            Some("has_capability_noaudit")
        );
        assert_eq!(table.noaudit_caller(0xffffffff813681a5), None);
        assert_eq!(table.noaudit_caller(0xffffffff80000000), None);
        assert!(table.is_noaudit_probe(&[0xffffffff81a82c99, 0]));
        assert!(table.is_noaudit_probe(&[0xffffffff813680d5]));
        assert!(!table.is_noaudit_probe(&[0xffffffff813681a5, 0, 0xffffffff81a82c99]));
        assert!(!table.is_noaudit_probe(&[0xffffffff81a89005]));
        assert!(is_noaudit_symbol("ns_capable_noaudit.isra.0"));
        assert!(!is_noaudit_symbol("capable"));
        assert!(Kallsyms::parse("0000000000000000 T hidden\n").is_none());
    }
}
