//! Turning a syscall's (dirfd, path) into the absolute path the kernel walks.
//!
//! The walk is lexical (`.` and `..` folded, repeated slashes dropped) on top of the tracee's own
//! cwd or dirfd as `/proc` shows them at the stop; `/proc/self` and `/proc/thread-self` are
//! replaced by the tracee's pid, as the kernel's magic links do.

/// `AT_FDCWD` as it arrives in a syscall argument register.
pub const AT_FDCWD: i32 = -100;

/// Joins `path` onto `base` (used when `path` is relative) and normalises the result.
pub fn absolute(base: &[u8], path: &[u8]) -> Vec<u8> {
    let mut parts: Vec<&[u8]> = Vec::new();
    let joined = if path.starts_with(b"/") {
        [path].to_vec()
    } else {
        vec![base, path]
    };
    for piece in joined {
        for comp in piece.split(|b| *b == b'/') {
            match comp {
                b"" | b"." => {}
                b".." => {
                    parts.pop();
                }
                c => parts.push(c),
            }
        }
    }
    let mut out = Vec::with_capacity(path.len() + base.len() + 1);
    for comp in &parts {
        out.push(b'/');
        out.extend_from_slice(comp);
    }
    if out.is_empty() {
        out.push(b'/');
    }
    out
}

/// Replaces a leading `/proc/self` or `/proc/thread-self` by the process it names.
pub fn resolve_proc_self(path: Vec<u8>, tgid: i32, tid: i32) -> Vec<u8> {
    let replace = |prefix: &[u8], with: String| -> Option<Vec<u8>> {
        let rest = path.strip_prefix(prefix)?;
        if !(rest.is_empty() || rest.starts_with(b"/")) {
            return None;
        }
        let mut out = with.into_bytes();
        out.extend_from_slice(rest);
        Some(out)
    };
    if !path.starts_with(b"/proc/") {
        return path;
    }
    replace(b"/proc/self", format!("/proc/{tgid}"))
        .or_else(|| replace(b"/proc/thread-self", format!("/proc/{tgid}/task/{tid}")))
        .unwrap_or(path)
}

/// The directory part of an absolute, normalised path (`/` for top-level entries).
pub fn parent(path: &[u8]) -> &[u8] {
    match path.iter().rposition(|b| *b == b'/') {
        Some(0) | None => b"/",
        Some(i) => &path[..i],
    }
}

/// True for `/proc/PID/fd` targets that are not files (`socket:[1]`, `pipe:[2]`,
/// `anon_inode:[eventfd]`, `/memfd:x`).
pub fn is_pseudo(target: &[u8]) -> bool {
    !target.starts_with(b"/") || target.starts_with(b"/memfd:")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn abs(base: &str, path: &str) -> String {
        String::from_utf8(absolute(base.as_bytes(), path.as_bytes())).unwrap_or_default()
    }

    #[test]
    fn resolves_like_a_lexical_walk() {
        let cases = [
            ("/home/u", "a.txt", "/home/u/a.txt"),
            ("/home/u", "/etc//passwd", "/etc/passwd"),
            ("/home/u", "../v/./x", "/home/v/x"),
            ("/", "..", "/"),
            ("/a/b", "", "/a/b"),
            ("/a/b", "c/", "/a/b/c"),
            ("/", "/../../etc", "/etc"),
        ];
        for (base, path, want) in cases {
            assert_eq!(abs(base, path), want, "{base} + {path}");
        }
    }

    #[test]
    fn replaces_proc_self() {
        let r = |p: &str| String::from_utf8(resolve_proc_self(p.into(), 7, 9)).unwrap_or_default();
        assert_eq!(r("/proc/self/status"), "/proc/7/status");
        assert_eq!(r("/proc/self"), "/proc/7");
        assert_eq!(r("/proc/thread-self/comm"), "/proc/7/task/9/comm");
        assert_eq!(r("/proc/selfish"), "/proc/selfish");
        assert_eq!(r("/etc/self"), "/etc/self");
    }

    #[test]
    fn finds_parents_and_pseudo_files() {
        assert_eq!(parent(b"/a/b"), b"/a");
        assert_eq!(parent(b"/a"), b"/");
        assert!(is_pseudo(b"socket:[12]"));
        assert!(is_pseudo(b"/memfd:jit (deleted)"));
        assert!(!is_pseudo(b"/etc/passwd"));
    }
}
