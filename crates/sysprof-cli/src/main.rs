//! The `sysprof` binary.
fn main() {}
