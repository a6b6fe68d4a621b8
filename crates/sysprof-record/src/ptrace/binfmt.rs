//! The interpreter an executed file asks for: `#!` for scripts, `PT_INTERP` for ELF binaries.

use std::fs::File;
use std::io::Read;
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::FileExt;

const PT_INTERP: u32 = 3;

/// The script interpreter (first word after `#!`) or the ELF program interpreter of `path`.
/// Statically linked binaries and unreadable files have none.
pub fn interpreter(path: &[u8]) -> Option<Vec<u8>> {
    let path = std::path::Path::new(std::ffi::OsStr::from_bytes(path));
    let mut file = File::open(path).ok()?;
    let mut head = [0u8; 256];
    let n = file.read(&mut head).ok()?;
    let head = &head[..n];
    if let Some(rest) = head.strip_prefix(b"#!") {
        let line = rest.split(|b| *b == b'\n').next()?;
        let word = line
            .split(|b| *b == b' ' || *b == b'\t')
            .find(|w| !w.is_empty())?;
        return Some(word.to_vec());
    }
    elf_interpreter(&file, head)
}

fn elf_interpreter(file: &File, head: &[u8]) -> Option<Vec<u8>> {
    if head.len() < 64 || &head[..4] != b"\x7fELF" {
        return None;
    }
    let is64 = head[4] == 2;
    let little = head[5] == 1;
    let u16_at = |b: &[u8], o: usize| -> Option<u64> {
        let v = [*b.get(o)?, *b.get(o + 1)?];
        Some(u64::from(if little {
            u16::from_le_bytes(v)
        } else {
            u16::from_be_bytes(v)
        }))
    };
    let u32_at = |b: &[u8], o: usize| -> Option<u64> {
        let v: [u8; 4] = b.get(o..o + 4)?.try_into().ok()?;
        Some(u64::from(if little {
            u32::from_le_bytes(v)
        } else {
            u32::from_be_bytes(v)
        }))
    };
    let u64_at = |b: &[u8], o: usize| -> Option<u64> {
        let v: [u8; 8] = b.get(o..o + 8)?.try_into().ok()?;
        Some(if little {
            u64::from_le_bytes(v)
        } else {
            u64::from_be_bytes(v)
        })
    };
    let (phoff, phentsize, phnum) = if is64 {
        (u64_at(head, 32)?, u16_at(head, 54)?, u16_at(head, 56)?)
    } else {
        (u32_at(head, 28)?, u16_at(head, 42)?, u16_at(head, 44)?)
    };
    if phentsize == 0 || phnum > 1024 {
        return None;
    }
    let mut table = vec![0u8; usize::try_from(phentsize * phnum).ok()?];
    file.read_exact_at(&mut table, phoff).ok()?;
    for entry in table.chunks_exact(usize::try_from(phentsize).ok()?) {
        if u32_at(entry, 0)? != u64::from(PT_INTERP) {
            continue;
        }
        let (offset, size) = if is64 {
            (u64_at(entry, 8)?, u64_at(entry, 32)?)
        } else {
            (u32_at(entry, 4)?, u32_at(entry, 16)?)
        };
        if size == 0 || size > 4096 {
            return None;
        }
        let mut name = vec![0u8; usize::try_from(size).ok()?];
        file.read_exact_at(&mut name, offset).ok()?;
        let end = name.iter().position(|b| *b == 0).unwrap_or(name.len());
        name.truncate(end);
        return Some(name);
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_the_elf_interpreter_of_a_dynamic_binary() {
        let interp = interpreter(b"/bin/sh").expect("dynamic /bin/sh");
        assert!(
            interp.starts_with(b"/lib"),
            "{:?}",
            String::from_utf8_lossy(&interp)
        );
    }

    #[test]
    fn finds_the_script_interpreter() {
        let dir = std::env::temp_dir().join(format!("sysprof-binfmt-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("temp dir");
        let script = dir.join("s");
        std::fs::write(&script, "#!  /usr/bin/env python3\nprint()\n").expect("write script");
        assert_eq!(
            interpreter(script.as_os_str().as_bytes()).as_deref(),
            Some(&b"/usr/bin/env"[..])
        );
        let _ = std::fs::remove_dir_all(dir);
        assert_eq!(interpreter(b"/nonexistent"), None);
    }
}
