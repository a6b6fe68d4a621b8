//! Rust mirror of `ebpf/sysprof_abi.h`, checked member by member against the object's BTF.
//!
//! The constants and structs below are written to match the header; [`LAYOUTS`] lists every
//! struct's members with their Rust offsets, and the test at the bottom compares them with the
//! BTF the compiler emitted into the committed object, so a one-sided change fails the build's
//! tests instead of corrupting events at run time.

pub const SP_PATH_MAX: usize = 1024;
pub const SP_NAME_MAX: usize = 256;
pub const SP_STACK_DEPTH: usize = 16;
pub const SP_SYSCALL_BITS: usize = 1024;
pub const SP_CGROUP_SLOTS: u32 = 1024;

pub const SP_ABI_NATIVE: u32 = 0;
pub const SP_ABI_COMPAT: u32 = 1;
pub const SP_ABI_X32: u32 = 2;
pub const SP_ABI_COUNT: u32 = 3;

pub const SP_FILTER_CGROUP: u32 = 0;
pub const SP_FILTER_TGID: u32 = 1;

pub const SP_EV_OPEN: u32 = 1;
pub const SP_EV_EXEC: u32 = 2;
pub const SP_EV_CAP: u32 = 3;
pub const SP_EV_MMAP: u32 = 4;
pub const SP_EV_MPROTECT: u32 = 5;
pub const SP_EV_SOCKET: u32 = 6;
pub const SP_EV_ADDRESS: u32 = 7;
pub const SP_EV_NAMESPACE: u32 = 8;
pub const SP_EV_PERSONALITY: u32 = 9;
pub const SP_EV_REALTIME: u32 = 10;
pub const SP_EV_PATHOP: u32 = 11;
pub const SP_EV_CGROUP: u32 = 12;
pub const SP_EV_SIGNAL: u32 = 13;

pub const SP_F_PATH_TRUNCATED: u32 = 1 << 0;
pub const SP_F_NAME_TRUNCATED: u32 = 1 << 1;
pub const SP_F_HAS_PATH: u32 = 1 << 2;
pub const SP_F_HAS_NAME: u32 = 1 << 3;
pub const SP_F_PATH_IS_BASE: u32 = 1 << 4;
pub const SP_F_SCRIPT: u32 = 1 << 5;
pub const SP_F_SECOND_PATH: u32 = 1 << 6;
pub const SP_F_FD_PATH: u32 = 1 << 7;
pub const SP_F_HAS_AUX: u32 = 1 << 8;

pub const SP_ACC_READ: u64 = 1 << 0;
pub const SP_ACC_WRITE: u64 = 1 << 1;
pub const SP_ACC_CREATED: u64 = 1 << 2;
pub const SP_ACC_EXEC: u64 = 1 << 3;
pub const SP_ACC_PATH: u64 = 1 << 4;
pub const SP_ACC_DIR: u64 = 1 << 5;

/// `struct sp_event`: one new observation from the ring buffer.
#[repr(C)]
#[derive(Clone, Copy)]
pub struct SpEvent {
    pub kind: u32,
    pub flags: u32,
    pub err: i32,
    pub nr: u32,
    pub pid: u32,
    pub tid: u32,
    pub arg0: u64,
    pub arg1: u64,
    pub arg2: u64,
    pub stack: [u64; SP_STACK_DEPTH],
    pub path: [u8; SP_PATH_MAX],
    pub name: [u8; SP_NAME_MAX],
    pub aux: [u8; SP_NAME_MAX],
}

/// `struct sp_counters`: per-CPU counters.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default)]
pub struct SpCounters {
    pub events_sent: u64,
    pub events_lost: u64,
    pub paths_truncated: u64,
    pub processes: u64,
    pub cgroups_followed: u64,
}

/// `struct sp_syscall_bits`: one ABI's bitmap.
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct SpSyscallBits {
    pub words: [u64; SP_SYSCALL_BITS / 64],
}

/// `struct sp_cgroup_watch`: key of `watch_cgroups`.
#[repr(C)]
#[derive(Clone, Copy)]
pub struct SpCgroupWatch {
    pub parent_id: u64,
    pub name: [u8; 248],
}

// SAFETY: plain `repr(C)` integers and byte arrays without padding holes that carry meaning;
// every bit pattern is a valid value, which is what aya's `Pod` requires.
unsafe impl aya::Pod for SpCounters {}
// SAFETY: as above — an array of u64.
unsafe impl aya::Pod for SpSyscallBits {}
// SAFETY: as above — a byte array.
unsafe impl aya::Pod for SpCgroupWatch {}

impl SpEvent {
    /// Decodes a ring-buffer record; `None` if it is shorter than the struct.
    pub fn from_bytes(bytes: &[u8]) -> Option<SpEvent> {
        if bytes.len() < std::mem::size_of::<SpEvent>() {
            return None;
        }
        // SAFETY: the length was checked above, `SpEvent` is `repr(C)` made of integers and
        // byte arrays (every bit pattern valid), and `read_unaligned` makes no alignment claim
        // about the ring buffer's memory.
        Some(unsafe { std::ptr::read_unaligned(bytes.as_ptr().cast::<SpEvent>()) })
    }
}

impl SpCgroupWatch {
    /// The zero-padded key for the cgroup `name` under the cgroup `parent_id`, or for the path
    /// `name` relative to the v2 root when `parent_id` is 0; `None` if it does not fit (with its
    /// NUL).
    pub fn new(parent_id: u64, name: &str) -> Option<SpCgroupWatch> {
        let bytes = name.as_bytes();
        let mut key = SpCgroupWatch {
            parent_id,
            name: [0; 248],
        };
        if bytes.len() >= key.name.len() {
            return None;
        }
        key.name[..bytes.len()].copy_from_slice(bytes);
        Some(key)
    }
}

/// One struct's layout as Rust sees it: (C name, size, [(member, offset, size)]).
pub type StructLayout = (&'static str, usize, Vec<(&'static str, usize, usize)>);

macro_rules! member {
    ($ty:ty, $field:ident) => {{
        fn size_of_field<T, F>(_: fn(&T) -> &F) -> usize {
            std::mem::size_of::<F>()
        }
        (
            stringify!($field),
            std::mem::offset_of!($ty, $field),
            size_of_field(|v: &$ty| &v.$field),
        )
    }};
}

/// The layouts the BTF check compares.
pub fn layouts() -> Vec<StructLayout> {
    vec![
        (
            "sp_event",
            std::mem::size_of::<SpEvent>(),
            vec![
                member!(SpEvent, kind),
                member!(SpEvent, flags),
                member!(SpEvent, err),
                member!(SpEvent, nr),
                member!(SpEvent, pid),
                member!(SpEvent, tid),
                member!(SpEvent, arg0),
                member!(SpEvent, arg1),
                member!(SpEvent, arg2),
                member!(SpEvent, stack),
                member!(SpEvent, path),
                member!(SpEvent, name),
                member!(SpEvent, aux),
            ],
        ),
        (
            "sp_counters",
            std::mem::size_of::<SpCounters>(),
            vec![
                member!(SpCounters, events_sent),
                member!(SpCounters, events_lost),
                member!(SpCounters, paths_truncated),
                member!(SpCounters, processes),
                member!(SpCounters, cgroups_followed),
            ],
        ),
        (
            "sp_syscall_bits",
            std::mem::size_of::<SpSyscallBits>(),
            vec![member!(SpSyscallBits, words)],
        ),
        (
            "sp_cgroup_watch",
            std::mem::size_of::<SpCgroupWatch>(),
            vec![
                member!(SpCgroupWatch, parent_id),
                member!(SpCgroupWatch, name),
            ],
        ),
    ]
}

/// Minimal reader of the `.BTF` section: struct sizes and member offsets by name.
pub mod btf {
    use std::collections::HashMap;

    /// A struct as BTF describes it: size and (member name, bit offset, type id).
    #[derive(Debug, Clone)]
    pub struct BtfStruct {
        pub size: u32,
        pub members: Vec<(String, u32, u32)>,
    }

    /// Parsed BTF: structs by name, and every type's byte size where it has one.
    #[derive(Debug, Default)]
    pub struct BtfInfo {
        pub structs: HashMap<String, BtfStruct>,
        types: Vec<(u32, u32, u32)>, // (kind, size_or_type, array_len_or_elem)
    }

    const KIND_INT: u32 = 1;
    const KIND_PTR: u32 = 2;
    const KIND_ARRAY: u32 = 3;
    const KIND_STRUCT: u32 = 4;
    const KIND_UNION: u32 = 5;
    const KIND_ENUM: u32 = 6;
    const KIND_TYPEDEF: u32 = 8;
    const KIND_VOLATILE: u32 = 9;
    const KIND_CONST: u32 = 10;
    const KIND_RESTRICT: u32 = 11;
    const KIND_FUNC_PROTO: u32 = 13;
    const KIND_VAR: u32 = 14;
    const KIND_DATASEC: u32 = 15;
    const KIND_DECL_TAG: u32 = 17;
    const KIND_ENUM64: u32 = 19;

    fn u32_at(data: &[u8], off: usize) -> Option<u32> {
        data.get(off..off + 4)
            .map(|b| u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
    }

    fn str_at(strings: &[u8], off: u32) -> String {
        let start = off as usize;
        let rest = strings.get(start..).unwrap_or_default();
        let end = rest.iter().position(|&b| b == 0).unwrap_or(rest.len());
        String::from_utf8_lossy(&rest[..end]).into_owned()
    }

    impl BtfInfo {
        /// Parses a raw `.BTF` section (little endian).
        pub fn parse(data: &[u8]) -> Option<BtfInfo> {
            if data.get(0..2)? != [0x9f, 0xeb] {
                return None;
            }
            let hdr_len = u32_at(data, 4)? as usize;
            let type_off = u32_at(data, 8)? as usize;
            let type_len = u32_at(data, 12)? as usize;
            let str_off = u32_at(data, 16)? as usize;
            let str_len = u32_at(data, 20)? as usize;
            let types = data.get(hdr_len + type_off..hdr_len + type_off + type_len)?;
            let strings = data.get(hdr_len + str_off..hdr_len + str_off + str_len)?;
            let mut info = BtfInfo {
                types: vec![(0, 0, 0)], // type id 0 is void
                ..BtfInfo::default()
            };
            let mut off = 0;
            while off + 12 <= types.len() {
                let name_off = u32_at(types, off)?;
                let type_info = u32_at(types, off + 4)?;
                let size_or_type = u32_at(types, off + 8)?;
                let kind = (type_info >> 24) & 0x1f;
                let vlen = (type_info & 0xffff) as usize;
                let kind_flag = type_info >> 31 == 1;
                off += 12;
                let mut entry = (kind, size_or_type, 0);
                match kind {
                    KIND_INT | KIND_VAR | KIND_DECL_TAG => off += 4,
                    KIND_ARRAY => {
                        let elem = u32_at(types, off)?;
                        let nelems = u32_at(types, off + 8)?;
                        entry = (kind, elem, nelems);
                        off += 12;
                    }
                    KIND_STRUCT | KIND_UNION => {
                        let mut members = Vec::with_capacity(vlen);
                        for i in 0..vlen {
                            let m = off + i * 12;
                            let name = str_at(strings, u32_at(types, m)?);
                            let ty = u32_at(types, m + 4)?;
                            let raw = u32_at(types, m + 8)?;
                            let bit_off = if kind_flag { raw & 0x00ff_ffff } else { raw };
                            members.push((name, bit_off, ty));
                        }
                        off += vlen * 12;
                        if kind == KIND_STRUCT {
                            info.structs.insert(
                                str_at(strings, name_off),
                                BtfStruct {
                                    size: size_or_type,
                                    members,
                                },
                            );
                        }
                    }
                    KIND_ENUM => off += vlen * 8,
                    KIND_FUNC_PROTO => off += vlen * 8,
                    KIND_DATASEC | KIND_ENUM64 => off += vlen * 12,
                    _ => {}
                }
                info.types.push(entry);
            }
            Some(info)
        }

        /// Byte size of type `id`, following typedefs and qualifiers.
        pub fn type_size(&self, mut id: u32) -> Option<u32> {
            for _ in 0..32 {
                let &(kind, size_or_type, extra) = self.types.get(id as usize)?;
                match kind {
                    KIND_INT | KIND_STRUCT | KIND_UNION | KIND_ENUM | KIND_ENUM64 => {
                        return Some(size_or_type)
                    }
                    KIND_PTR => return Some(8),
                    KIND_ARRAY => return Some(self.type_size(size_or_type)? * extra),
                    KIND_TYPEDEF | KIND_VOLATILE | KIND_CONST | KIND_RESTRICT => id = size_or_type,
                    _ => return None,
                }
            }
            None
        }
    }
}

#[cfg(test)]
mod tests {
    use super::btf::BtfInfo;
    use super::*;

    /// The `.BTF` section of the embedded object, found by walking the ELF section headers.
    fn btf_section(elf: &[u8]) -> Option<&[u8]> {
        let u16_at = |o: usize| elf.get(o..o + 2).map(|b| u16::from_le_bytes([b[0], b[1]]));
        let u32_at = |o: usize| {
            elf.get(o..o + 4)
                .map(|b| u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
        };
        let u64_at = |o: usize| {
            elf.get(o..o + 8)
                .and_then(|b| <[u8; 8]>::try_from(b).ok())
                .map(u64::from_le_bytes)
        };
        let shoff = u64_at(0x28)? as usize;
        let shentsize = u16_at(0x3a)? as usize;
        let shnum = u16_at(0x3c)? as usize;
        let shstrndx = u16_at(0x3e)? as usize;
        let section = |i: usize| {
            let h = shoff + i * shentsize;
            Some((
                u32_at(h)?,
                u64_at(h + 0x18)? as usize,
                u64_at(h + 0x20)? as usize,
            ))
        };
        let (_, names_off, _) = section(shstrndx)?;
        for i in 0..shnum {
            let (name, off, size) = section(i)?;
            let name_start = names_off + name as usize;
            if elf.get(name_start..name_start + 5)? == b".BTF\0" {
                return elf.get(off..off + size);
            }
        }
        None
    }

    #[test]
    fn rust_structs_match_the_objects_btf() {
        let btf = btf_section(crate::ebpf::loader::OBJECT).expect("object has a .BTF section");
        let info = BtfInfo::parse(btf).expect("parsable BTF");
        for (name, size, members) in layouts() {
            let c = info
                .structs
                .get(name)
                .unwrap_or_else(|| panic!("struct {name} missing from BTF"));
            assert_eq!(c.size as usize, size, "size of struct {name}");
            assert_eq!(
                c.members.len(),
                members.len(),
                "member count of struct {name}"
            );
            for ((cname, bit_off, ty), (rname, off, msize)) in c.members.iter().zip(&members) {
                assert_eq!(cname, rname, "member order of struct {name}");
                assert_eq!(*bit_off as usize, off * 8, "offset of {name}.{cname}");
                assert_eq!(
                    info.type_size(*ty).map(|s| s as usize),
                    Some(*msize),
                    "size of {name}.{cname}"
                );
            }
        }
    }

    #[test]
    fn header_constants_match() {
        let header = include_str!("../../../../ebpf/sysprof_abi.h");
        let defines: std::collections::HashMap<&str, &str> = header
            .lines()
            .filter_map(|l| l.strip_prefix("#define "))
            .filter_map(|l| {
                let (name, rest) = l.split_once(char::is_whitespace)?;
                let value = rest.split("/*").next()?.trim();
                Some((name, value))
            })
            .collect();
        let parse = |v: &str| -> u64 {
            if let Some(shift) = v.strip_prefix("(1u << ").and_then(|s| s.strip_suffix(')')) {
                1 << shift.parse::<u64>().expect("shift")
            } else {
                v.parse().expect("number")
            }
        };
        let expect: &[(&str, u64)] = &[
            ("SP_PATH_MAX", SP_PATH_MAX as u64),
            ("SP_NAME_MAX", SP_NAME_MAX as u64),
            ("SP_STACK_DEPTH", SP_STACK_DEPTH as u64),
            ("SP_SYSCALL_BITS", SP_SYSCALL_BITS as u64),
            ("SP_CGROUP_SLOTS", SP_CGROUP_SLOTS.into()),
            ("SP_ABI_NATIVE", SP_ABI_NATIVE.into()),
            ("SP_ABI_COMPAT", SP_ABI_COMPAT.into()),
            ("SP_ABI_X32", SP_ABI_X32.into()),
            ("SP_ABI_COUNT", SP_ABI_COUNT.into()),
            ("SP_FILTER_CGROUP", SP_FILTER_CGROUP.into()),
            ("SP_FILTER_TGID", SP_FILTER_TGID.into()),
            ("SP_EV_OPEN", SP_EV_OPEN.into()),
            ("SP_EV_EXEC", SP_EV_EXEC.into()),
            ("SP_EV_CAP", SP_EV_CAP.into()),
            ("SP_EV_MMAP", SP_EV_MMAP.into()),
            ("SP_EV_MPROTECT", SP_EV_MPROTECT.into()),
            ("SP_EV_SOCKET", SP_EV_SOCKET.into()),
            ("SP_EV_ADDRESS", SP_EV_ADDRESS.into()),
            ("SP_EV_NAMESPACE", SP_EV_NAMESPACE.into()),
            ("SP_EV_PERSONALITY", SP_EV_PERSONALITY.into()),
            ("SP_EV_REALTIME", SP_EV_REALTIME.into()),
            ("SP_EV_PATHOP", SP_EV_PATHOP.into()),
            ("SP_EV_CGROUP", SP_EV_CGROUP.into()),
            ("SP_EV_SIGNAL", SP_EV_SIGNAL.into()),
            ("SP_F_PATH_TRUNCATED", SP_F_PATH_TRUNCATED.into()),
            ("SP_F_NAME_TRUNCATED", SP_F_NAME_TRUNCATED.into()),
            ("SP_F_HAS_PATH", SP_F_HAS_PATH.into()),
            ("SP_F_HAS_NAME", SP_F_HAS_NAME.into()),
            ("SP_F_PATH_IS_BASE", SP_F_PATH_IS_BASE.into()),
            ("SP_F_SCRIPT", SP_F_SCRIPT.into()),
            ("SP_F_SECOND_PATH", SP_F_SECOND_PATH.into()),
            ("SP_F_FD_PATH", SP_F_FD_PATH.into()),
            ("SP_F_HAS_AUX", SP_F_HAS_AUX.into()),
            ("SP_ACC_READ", SP_ACC_READ),
            ("SP_ACC_WRITE", SP_ACC_WRITE),
            ("SP_ACC_CREATED", SP_ACC_CREATED),
            ("SP_ACC_EXEC", SP_ACC_EXEC),
            ("SP_ACC_PATH", SP_ACC_PATH),
            ("SP_ACC_DIR", SP_ACC_DIR),
        ];
        for (name, value) in expect {
            let text = defines
                .get(name)
                .unwrap_or_else(|| panic!("{name} not in header"));
            assert_eq!(parse(text), *value, "{name}");
        }
        let sp_defines = defines.keys().filter(|k| k.starts_with("SP_")).count();
        assert_eq!(sp_defines, expect.len(), "every SP_ define is mirrored");
    }
}
