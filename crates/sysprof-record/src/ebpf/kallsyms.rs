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

/// Sorted text symbols of the running kernel.
#[derive(Debug, Default)]
pub struct Kallsyms {
    symbols: Vec<(u64, String)>,
}

impl Kallsyms {
    /// Reads `/proc/kallsyms`; `None` if it cannot be read or shows no addresses
    /// (`kptr_restrict` hides them from callers without CAP_SYSLOG).
    pub fn load() -> Option<Kallsyms> {
        let text = fs::read_to_string("/proc/kallsyms").ok()?;
        let table = Kallsyms::parse(&text);
        (!table.symbols.is_empty()).then_some(table)
    }

    /// Parses kallsyms text, keeping code symbols with a non-zero address.
    pub fn parse(text: &str) -> Kallsyms {
        let mut symbols: Vec<(u64, String)> = text
            .lines()
            .filter_map(|line| {
                let mut fields = line.split_whitespace();
                let addr = u64::from_str_radix(fields.next()?, 16).ok()?;
                let kind = fields.next()?;
                let name = fields.next()?;
                (addr != 0 && matches!(kind, "T" | "t" | "W" | "w"))
                    .then(|| (addr, name.to_owned()))
            })
            .collect();
        symbols.sort_unstable();
        Kallsyms { symbols }
    }

    /// The symbol containing `addr`.
    pub fn resolve(&self, addr: u64) -> Option<&str> {
        let idx = self.symbols.partition_point(|(a, _)| *a <= addr);
        idx.checked_sub(1)
            .and_then(|i| self.symbols.get(i))
            .map(|(_, name)| name.as_str())
    }

    /// True when the stack shows a no-audit caller (a probe, not a need).
    pub fn is_noaudit_probe(&self, stack: &[u64]) -> bool {
        stack
            .iter()
            .take_while(|&&addr| addr != 0)
            .filter_map(|&addr| self.resolve(addr))
            .any(is_noaudit_symbol)
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
             0000000000000000 T hidden\n",
        );
        assert_eq!(table.resolve(0xffffffff813681a5), Some("ns_capable"));
        assert_eq!(table.resolve(0xffffffff80000000), None);
        assert!(table.is_noaudit_probe(&[0xffffffff81a82c99, 0]));
        assert!(table.is_noaudit_probe(&[0xffffffff813680d5]));
        assert!(!table.is_noaudit_probe(&[0xffffffff813681a5, 0, 0xffffffff81a82c99]));
        assert!(is_noaudit_symbol("ns_capable_noaudit.isra.0"));
        assert!(!is_noaudit_symbol("capable"));
    }
}
