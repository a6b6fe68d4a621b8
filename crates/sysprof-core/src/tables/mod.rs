//! Lookup tables: syscall numbers and names per ABI, capabilities, systemd syscall groups,
//! address families, signals.

pub mod caps;
pub mod groups;
pub mod net;
pub mod signals;
pub mod syscalls;
