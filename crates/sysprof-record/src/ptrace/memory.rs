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
