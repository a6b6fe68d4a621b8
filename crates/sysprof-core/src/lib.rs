//! sysprof-core: the pure half of sysprof — evidence in, systemd directives and verdicts out.
//!
//! Nothing in this crate touches the kernel, the clock or the file system: every entry point takes
//! `Read`/`Write` or in-memory values, and the same input always gives the same output.

pub mod check;
pub mod diff;
pub mod event;
pub mod strace;
pub mod suggest;
pub mod tables;
pub mod timespan;
pub mod trace;
pub mod unit;
