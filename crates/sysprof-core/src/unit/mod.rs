//! systemd unit files: their syntax, value quoting, and the sandbox a `[Service]` ends up with.
//!
//! * [`parse_unit`] reads a unit file or drop-in exactly as systemd's `config_parse()` does;
//! * [`split_words`], [`split_path_words`] read values, [`quote_word`], [`quote_path`] and
//!   [`quote_directory_name`] write them (every value sysprof emits goes through these);
//! * [`Policy::from_units`] merges the sandboxing settings of a unit and its drop-ins with
//!   systemd's per-setting rules, and [`Policy::mount_table`] models the resulting mounts.

mod file;
mod mounts;
mod names;
mod policy;
mod words;

pub use file::{parse_unit, parse_unit_bytes, Entry, Section, UnitError, UnitFile};
pub use mounts::{path_is_under, MountTable, PathState};
pub use names::canonical_address_family;
pub use policy::{
    AddressFamilyRule, BindPath, CapabilitySet, ErrnoAction, ExecDirectory, FilterMode,
    NamespaceRule, PathSetting, Policy, ProcSubset, ProtectHome, ProtectProc, ProtectSystem,
    SyscallFilter, TemporaryFileSystem,
};
pub use words::{quote_directory_name, quote_path, quote_word, split_path_words, split_words};

pub(crate) use mounts::PROC_TUNABLES;
pub(crate) use names::personality_value;
pub(crate) use policy::simplify_path;
pub(crate) use words::printable;
