//! Facts about the recording host: architecture, kernel release, wall-clock time.

use std::time::{SystemTime, UNIX_EPOCH};

fn uname_field(pick: impl Fn(&libc::utsname) -> &[libc::c_char]) -> Option<String> {
    // SAFETY: utsname is plain old data; zeroed is a valid value and uname() fills it.
    let mut buf: libc::utsname = unsafe { std::mem::zeroed() };
    // SAFETY: buf is a valid, writable utsname.
    if unsafe { libc::uname(&mut buf) } != 0 {
        return None;
    }
    let field = pick(&buf);
    let bytes: Vec<u8> = field
        .iter()
        .take_while(|c| **c != 0)
        .map(|c| c.to_ne_bytes()[0])
        .collect();
    String::from_utf8(bytes).ok()
}

/// `uname -m` (e.g. `x86_64`).
pub fn arch() -> String {
    uname_field(|u| &u.machine).unwrap_or_else(|| std::env::consts::ARCH.to_owned())
}

/// `uname -r` (e.g. `6.18.44`).
pub fn kernel_release() -> Option<String> {
    uname_field(|u| &u.release)
}

/// The current time as an RFC 3339 UTC timestamp with second precision.
pub fn now_rfc3339() -> String {
    let secs = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    sysprof_core::trace::rfc3339(secs)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_running_kernel() {
        assert!(!arch().is_empty());
        assert!(
            kernel_release().is_some_and(|r| r.chars().next().is_some_and(|c| c.is_ascii_digit()))
        );
    }
}
