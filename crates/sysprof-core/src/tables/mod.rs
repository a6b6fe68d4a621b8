//! Lookup tables: syscall numbers and names per ABI, capabilities, systemd syscall groups.

pub mod caps;
pub mod groups;
pub mod net;
pub mod syscalls;
