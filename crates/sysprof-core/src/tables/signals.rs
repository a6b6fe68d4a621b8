//! Signal numbers to names (x86 and the generic numbering Linux uses on most architectures).

const NAMES: [&str; 32] = [
    "",
    "SIGHUP",
    "SIGINT",
    "SIGQUIT",
    "SIGILL",
    "SIGTRAP",
    "SIGABRT",
    "SIGBUS",
    "SIGFPE",
    "SIGKILL",
    "SIGUSR1",
    "SIGSEGV",
    "SIGUSR2",
    "SIGPIPE",
    "SIGALRM",
    "SIGTERM",
    "SIGSTKFLT",
    "SIGCHLD",
    "SIGCONT",
    "SIGSTOP",
    "SIGTSTP",
    "SIGTTIN",
    "SIGTTOU",
    "SIGURG",
    "SIGXCPU",
    "SIGXFSZ",
    "SIGVTALRM",
    "SIGPROF",
    "SIGWINCH",
    "SIGIO",
    "SIGPWR",
    "SIGSYS",
];

/// `SIGHUP` for 1, …; real-time signals as `SIGRTMIN+N` (as strace prints them); `None` for 0
/// and numbers beyond 64.
pub fn name(signal: i32) -> Option<String> {
    match usize::try_from(signal).ok()? {
        0 => None,
        n if n < NAMES.len() => Some(NAMES[n].to_owned()),
        // 32 and 33 are glibc's own (thread cancellation, setxid broadcast)
        n @ (32 | 33) => Some(format!("SIG{n}")),
        n if n <= 64 => Some(format!("SIGRTMIN+{}", n - 34)),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names() {
        assert_eq!(name(1).as_deref(), Some("SIGHUP"));
        assert_eq!(name(10).as_deref(), Some("SIGUSR1"));
        assert_eq!(name(31).as_deref(), Some("SIGSYS"));
        assert_eq!(name(32).as_deref(), Some("SIG32"));
        assert_eq!(name(34).as_deref(), Some("SIGRTMIN+0"));
        assert_eq!(name(64).as_deref(), Some("SIGRTMIN+30"));
        assert_eq!(name(0), None);
        assert_eq!(name(65), None);
        assert_eq!(name(-1), None);
    }
}
