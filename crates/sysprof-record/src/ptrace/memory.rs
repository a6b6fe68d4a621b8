//! Reading syscall arguments out of tracee memory: strings, structs, socket addresses.

use super::sys;
use std::fs::File;
use std::os::unix::fs::FileExt;

/// Longest path the kernel accepts (`PATH_MAX`, including the NUL).
pub const PATH_MAX: usize = 4096;
const PAGE: u64 = 4096;

/// Reads `len` bytes at `addr`, via `process_vm_readv`, falling back to `/proc/TID/mem` (which
/// works where the former is refused, e.g. on some hardened kernels). `None` if unreadable.
pub fn read_bytes(tid: i32, addr: u64, len: usize) -> Option<Vec<u8>> {
    if addr == 0 {
        return None;
    }
    let mut buf = vec![0u8; len];
    if let Ok(n) = sys::read_memory(tid, addr, &mut buf) {
        if n == len {
            return Some(buf);
        }
    }
    let file = File::open(format!("/proc/{tid}/mem")).ok()?;
    file.read_exact_at(&mut buf, addr).ok()?;
    Some(buf)
}

/// A NUL-terminated string at `addr`, at most `max` bytes. The flag is true if it was cut.
pub fn read_cstring(tid: i32, addr: u64, max: usize) -> Option<(Vec<u8>, bool)> {
    if addr == 0 {
        return None;
    }
    let mut out = Vec::new();
    let mut at = addr;
    while out.len() < max {
        // Never read across a page boundary in one go: the next page may be unmapped even
        // though the string ends before it.
        let to_page_end = (PAGE - at % PAGE) as usize;
        let want = to_page_end.min(max - out.len());
        let mut chunk = vec![0u8; want];
        let got = match sys::read_memory(tid, at, &mut chunk) {
            Ok(n) if n > 0 => n,
            _ => {
                let file = File::open(format!("/proc/{tid}/mem")).ok()?;
                file.read_at(&mut chunk, at).ok().filter(|n| *n > 0)?
            }
        };
        if let Some(nul) = chunk[..got].iter().position(|b| *b == 0) {
            out.extend_from_slice(&chunk[..nul]);
            return Some((out, false));
        }
        out.extend_from_slice(&chunk[..got]);
        at += got as u64;
    }
    Some((out, true))
}

/// A native-endian `u64` at `addr`.
pub fn read_u64(tid: i32, addr: u64) -> Option<u64> {
    let bytes = read_bytes(tid, addr, 8)?;
    Some(u64::from_ne_bytes(bytes.try_into().ok()?))
}

/// A native-endian `u32` at `addr`.
pub fn read_u32(tid: i32, addr: u64) -> Option<u32> {
    let bytes = read_bytes(tid, addr, 4)?;
    Some(u32::from_ne_bytes(bytes.try_into().ok()?))
}

/// A pointer-sized value (`word` is 4 for 32-bit ABIs, else 8) at `addr`.
pub fn read_word(tid: i32, addr: u64, word: usize) -> Option<u64> {
    if word == 4 {
        read_u32(tid, addr).map(u64::from)
    } else {
        read_u64(tid, addr)
    }
}

/// Most iovecs of one `sendmsg` that are gathered: a request split over more is rare.
const MAX_IOVECS: u64 = 8;

/// The bytes a `sendmsg` sends, gathered from its iovecs up to `max` bytes, and the total
/// length of the message (which may exceed what was gathered). `msghdr` is the tracee's
/// `struct msghdr` (`msg_iov` and `msg_iovlen` are its third and fourth words).
pub fn read_msghdr_data(
    tid: i32,
    msghdr: u64,
    word: usize,
    max: usize,
) -> Option<(Vec<u8>, usize)> {
    let w = word as u64;
    let iov = read_word(tid, msghdr + 2 * w, word)?;
    let count = read_word(tid, msghdr + 3 * w, word)?;
    let mut data = Vec::new();
    // Past the iovecs that are read the length is unknown: count it as unbounded, so that a
    // message that goes on there is taken as whole.
    let mut total = if count > MAX_IOVECS { usize::MAX } else { 0 };
    for i in 0..count.min(MAX_IOVECS) {
        let base = read_word(tid, iov + i * 2 * w, word)?;
        let len = usize::try_from(read_word(tid, iov + i * 2 * w + w, word)?).ok()?;
        total = total.saturating_add(len);
        let want = len.min(max.saturating_sub(data.len()));
        if want > 0 {
            data.extend(read_bytes(tid, base, want)?);
        }
    }
    Some((data, total))
}
