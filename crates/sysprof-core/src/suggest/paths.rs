//! Path helpers for the directive rules: component-wise containment and systemd's managed directories.

/// True if `path` is `dir` or lies below it, comparing whole components (`/etc` does not contain `/etcfoo`).
pub fn is_under(path: &str, dir: &str) -> bool {
    if dir == "/" {
        return path.starts_with('/');
    }
    let dir = dir.trim_end_matches('/');
    match path.strip_prefix(dir) {
        Some("") => true,
        Some(rest) => rest.starts_with('/'),
        None => false,
    }
}

/// True if `path` lies strictly below `dir`.
pub fn is_strictly_under(path: &str, dir: &str) -> bool {
    is_under(path, dir) && path.trim_end_matches('/') != dir.trim_end_matches('/')
}

/// The parent directory of an absolute path (`/` for top-level entries).
pub fn parent(path: &str) -> &str {
    match path.trim_end_matches('/').rfind('/') {
        Some(0) | None => "/",
        Some(i) => &path[..i],
    }
}

/// The first path component below `dir`, if `path` is strictly below it (`/var/lib/foo/x` → `foo`).
pub fn first_component_below<'a>(path: &'a str, dir: &str) -> Option<&'a str> {
    if !is_strictly_under(path, dir) {
        return None;
    }
    let rest = path[dir.trim_end_matches('/').len()..].trim_start_matches('/');
    let first = rest.split('/').next()?;
    (!first.is_empty() && first != "." && first != "..").then_some(first)
}

/// The `*Directory=` settings and the base each one is relative to (system units).
pub const MANAGED_DIRECTORIES: [(&str, &str); 4] = [
    ("StateDirectory", "/var/lib"),
    ("CacheDirectory", "/var/cache"),
    ("LogsDirectory", "/var/log"),
    ("RuntimeDirectory", "/run"),
];

/// Directories under `/run` that belong to the system, never to one service.
pub const SHARED_RUN_DIRS: [&str; 5] = ["user", "systemd", "lock", "shm", "credentials"];

/// Keeps only the paths not covered by another path in the set (the set is sorted, so parents come first).
pub fn minimal_cover(paths: impl IntoIterator<Item = String>) -> Vec<String> {
    let mut sorted: Vec<String> = paths.into_iter().collect();
    sorted.sort();
    sorted.dedup();
    let mut out: Vec<String> = Vec::new();
    for p in sorted {
        if !out.iter().any(|kept| is_under(&p, kept)) {
            out.push(p);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn containment_is_component_wise() {
        let cases = [
            ("/etc/passwd", "/etc", true),
            ("/etc", "/etc", true),
            ("/etcfoo", "/etc", false),
            ("/etc/", "/etc", true),
            ("/anything", "/", true),
            ("/var/lib/x", "/var/lib/", true),
        ];
        for (path, dir, expected) in cases {
            assert_eq!(is_under(path, dir), expected, "{path} under {dir}");
        }
        assert!(!is_strictly_under("/etc", "/etc"));
    }

    #[test]
    fn parents_and_components() {
        assert_eq!(parent("/var/lib/x/y"), "/var/lib/x");
        assert_eq!(parent("/x"), "/");
        assert_eq!(
            first_component_below("/var/lib/redis/dump.rdb", "/var/lib"),
            Some("redis")
        );
        assert_eq!(first_component_below("/var/lib", "/var/lib"), None);
        assert_eq!(first_component_below("/var/library", "/var/lib"), None);
    }

    #[test]
    fn cover_drops_children() {
        let got = minimal_cover(["/srv/a/b".into(), "/srv/a".into(), "/srv/ab".into()]);
        assert_eq!(got, ["/srv/a", "/srv/ab"]);
    }
}
