//! What the tracer reads from `/proc` about a stopped tracee: cwd, fds, credentials, limits, maps.
//!
//! A tracee is stopped while these are read, so they show exactly the state the kernel uses for
//! the syscall being decoded.

use std::fs;
use std::os::unix::ffi::OsStringExt;

/// The target of a `/proc` symlink (`cwd`, `fd/N`, `exe`), as raw bytes.
pub fn readlink(path: &str) -> Option<Vec<u8>> {
    fs::read_link(path)
        .ok()
        .map(|p| p.into_os_string().into_vec())
}

/// The current working directory of thread `tid`.
pub fn cwd(tid: i32) -> Option<Vec<u8>> {
    readlink(&format!("/proc/{tid}/cwd"))
}

/// What fd `fd` of thread `tid` refers to: an absolute path for files and directories, or a
/// pseudo name like `socket:[123]`.
pub fn fd_target(tid: i32, fd: i32) -> Option<Vec<u8>> {
    let mut target = readlink(&format!("/proc/{tid}/fd/{fd}"))?;
    // An unlinked file keeps its last name with this marker; the name is what a policy sees.
    const DELETED: &[u8] = b" (deleted)";
    if target.ends_with(DELETED) {
        target.truncate(target.len() - DELETED.len());
    }
    Some(target)
}

/// Credentials of a thread, from `/proc/TID/status`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Creds {
    /// real, effective, saved, filesystem
    pub uids: [u32; 4],
    pub gids: [u32; 4],
    pub groups: Vec<u32>,
    pub cap_eff: u64,
    pub tgid: i32,
}

impl Creds {
    /// True if `cap` is in the effective set.
    pub fn has_cap(&self, cap: u8) -> bool {
        cap < 64 && self.cap_eff & (1u64 << cap) != 0
    }

    /// `in_group_p()`: the fs gid or a supplementary group.
    pub fn in_group(&self, gid: u32) -> bool {
        self.gids[3] == gid || self.groups.contains(&gid)
    }
}

fn id_list(value: &str) -> Vec<u32> {
    value
        .split_whitespace()
        .filter_map(|v| v.parse().ok())
        .collect()
}

/// Parses the fields of `/proc/TID/status` the capability rules need.
pub fn parse_status(text: &str) -> Creds {
    let mut creds = Creds::default();
    for line in text.lines() {
        let Some((key, value)) = line.split_once(':') else {
            continue;
        };
        let value = value.trim();
        match key {
            "Uid" | "Gid" => {
                let ids = id_list(value);
                let target = if key == "Uid" {
                    &mut creds.uids
                } else {
                    &mut creds.gids
                };
                for (slot, id) in target.iter_mut().zip(ids) {
                    *slot = id;
                }
            }
            "Groups" => creds.groups = id_list(value),
            "CapEff" => creds.cap_eff = u64::from_str_radix(value, 16).unwrap_or(0),
            "Tgid" => creds.tgid = value.parse().unwrap_or(0),
            _ => {}
        }
    }
    creds
}

/// Credentials of thread (or process) `tid`.
pub fn creds(tid: i32) -> Option<Creds> {
    fs::read_to_string(format!("/proc/{tid}/status"))
        .ok()
        .map(|t| parse_status(&t))
}

/// The soft and hard value of a limit in `/proc/PID/limits` (`None` inside means unlimited).
pub fn limit(pid: i32, name: &str) -> Option<(Option<u64>, Option<u64>)> {
    let text = fs::read_to_string(format!("/proc/{pid}/limits")).ok()?;
    let line = text.lines().find(|l| l.starts_with(name))?;
    let mut fields = line[name.len()..].split_whitespace();
    let parse = |v: Option<&str>| v.and_then(|v| v.parse::<u64>().ok());
    let soft = fields.next();
    let hard = fields.next();
    soft?;
    Some((parse(soft), parse(hard)))
}

/// The nice value of a thread (field 19 of `/proc/TID/stat`).
pub fn nice(tid: i32) -> Option<i64> {
    let text = fs::read_to_string(format!("/proc/{tid}/stat")).ok()?;
    // The command name may contain spaces and parentheses; fields restart after the last ')'.
    let rest = &text[text.rfind(')')? + 1..];
    rest.split_whitespace().nth(16)?.parse().ok()
}

/// One line of `/proc/PID/maps` covering `addr`: (start, perms, path).
pub fn mapping_at(pid: i32, addr: u64) -> Option<(u64, String, Option<Vec<u8>>)> {
    let text = fs::read(format!("/proc/{pid}/maps")).ok()?;
    for line in text.split(|b| *b == b'\n') {
        let mut parts = line.splitn(6, |b| *b == b' ');
        let range = std::str::from_utf8(parts.next()?).ok()?;
        let perms = String::from_utf8_lossy(parts.next()?).into_owned();
        let (start, end) = range.split_once('-')?;
        let start = u64::from_str_radix(start, 16).ok()?;
        let end = u64::from_str_radix(end, 16).ok()?;
        if addr < start || addr >= end {
            continue;
        }
        let path = parts
            .nth(3)
            .map(|p| p.trim_ascii_start())
            .filter(|p| p.starts_with(b"/"))
            .map(<[u8]>::to_vec);
        return Some((start, perms, path));
    }
    None
}

/// The pid whose process a pidfd refers to (`Pid:` in `/proc/TID/fdinfo/FD`).
pub fn pidfd_pid(tid: i32, fd: i32) -> Option<i32> {
    let text = fs::read_to_string(format!("/proc/{tid}/fdinfo/{fd}")).ok()?;
    text.lines()
        .find_map(|l| l.strip_prefix("Pid:"))
        .and_then(|v| v.trim().parse().ok())
}

/// The threads of process `pid`, from `/proc/PID/task`.
pub fn threads(pid: i32) -> std::io::Result<Vec<i32>> {
    let mut tids: Vec<i32> = fs::read_dir(format!("/proc/{pid}/task"))?
        .filter_map(|e| e.ok())
        .filter_map(|e| e.file_name().to_str().and_then(|n| n.parse().ok()))
        .collect();
    tids.sort_unstable();
    Ok(tids)
}

/// The process state letter of `/proc/PID/stat` (`R`, `S`, `t`, `T`, `Z`, …).
pub fn state(pid: i32) -> Option<char> {
    let text = fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    text[text.rfind(')')? + 1..].trim_start().chars().next()
}

/// A small integer sysctl (`/proc/sys/...`).
pub fn sysctl_int(path: &str) -> Option<i64> {
    fs::read_to_string(path).ok()?.trim().parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_status_fields() {
        let text = "Name:\tx\nTgid:\t42\nUid:\t0\t1\t2\t3\nGid:\t4\t5\t6\t7\nGroups:\t10 20 \nCapEff:\t000001ffffffffff\n";
        let c = parse_status(text);
        assert_eq!(c.uids, [0, 1, 2, 3]);
        assert_eq!(c.gids, [4, 5, 6, 7]);
        assert_eq!(c.groups, vec![10, 20]);
        assert_eq!(c.tgid, 42);
        assert!(c.has_cap(40) && !c.has_cap(41));
        assert!(c.in_group(7) && c.in_group(20) && !c.in_group(4));
    }

    #[test]
    fn reads_own_process() {
        let me = std::process::id() as i32;
        assert!(cwd(me).is_some());
        assert!(creds(me).is_some_and(|c| c.tgid == me));
        assert!(limit(me, "Max open files").is_some());
        assert!(nice(me).is_some());
        assert!(threads(me).is_ok_and(|t| t.contains(&me)));
        assert!(matches!(state(me), Some('R' | 'S')));
    }
}
