//! Facts about the local systemd: its version and its syscall groups, from its own tools.

use std::process::Command;

/// The major version of the local systemd (`systemctl --version`), if systemctl runs.
pub fn local_version() -> Option<u32> {
    let out = Command::new("systemctl")
        .arg("--version")
        .env("SYSTEMD_COLORS", "0")
        .output()
        .ok()?;
    if !out.status.success() {
        return None;
    }
    parse_version(&String::from_utf8_lossy(&out.stdout))
}

/// Parses the first line of `systemctl --version` (`systemd 252 (252.38-1~deb12u1)`).
pub fn parse_version(text: &str) -> Option<u32> {
    let first = text.lines().next()?;
    let mut words = first.split_whitespace();
    if words.next()? != "systemd" {
        return None;
    }
    words.next()?.parse().ok()
}

/// The output of the local `systemd-analyze syscall-filter`, colours off.
pub fn local_syscall_filter() -> Option<String> {
    let out = Command::new("systemd-analyze")
        .args(["syscall-filter", "--no-pager"])
        .env("SYSTEMD_COLORS", "0")
        .output()
        .ok()?;
    out.status
        .success()
        .then(|| String::from_utf8_lossy(&out.stdout).into_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_version_lines() {
        assert_eq!(
            parse_version("systemd 252 (252.38-1~deb12u1)\n+PAM"),
            Some(252)
        );
        assert_eq!(parse_version("systemd 256.5\n"), None);
        assert_eq!(parse_version("something else"), None);
        assert_eq!(parse_version(""), None);
    }
}
