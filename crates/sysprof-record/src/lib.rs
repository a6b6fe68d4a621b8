//! sysprof-record: the only crate that touches the kernel — recording backends, cgroups, units.
