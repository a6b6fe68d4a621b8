//! Symbolic names for syscall argument values, spelled as strace spells them.

use nix::errno::Errno;
use std::net::{Ipv4Addr, Ipv6Addr};

pub const AF_UNIX: u64 = 1;
pub const AF_INET: u64 = 2;
pub const AF_INET6: u64 = 10;
pub const AF_NETLINK: u64 = 16;
pub const AF_PACKET: u64 = 17;
pub const SOCK_RAW: u64 = 3;

const FAMILIES: [&str; 46] = [
    "AF_UNSPEC",
    "AF_UNIX",
    "AF_INET",
    "AF_AX25",
    "AF_IPX",
    "AF_APPLETALK",
    "AF_NETROM",
    "AF_BRIDGE",
    "AF_ATMPVC",
    "AF_X25",
    "AF_INET6",
    "AF_ROSE",
    "AF_DECnet",
    "AF_NETBEUI",
    "AF_SECURITY",
    "AF_KEY",
    "AF_NETLINK",
    "AF_PACKET",
    "AF_ASH",
    "AF_ECONET",
    "AF_ATMSVC",
    "AF_RDS",
    "AF_SNA",
    "AF_IRDA",
    "AF_PPPOX",
    "AF_WANPIPE",
    "AF_LLC",
    "AF_IB",
    "AF_MPLS",
    "AF_CAN",
    "AF_TIPC",
    "AF_BLUETOOTH",
    "AF_IUCV",
    "AF_RXRPC",
    "AF_ISDN",
    "AF_PHONET",
    "AF_IEEE802154",
    "AF_CAIF",
    "AF_ALG",
    "AF_NFC",
    "AF_VSOCK",
    "AF_KCM",
    "AF_QIPCRTR",
    "AF_SMC",
    "AF_XDP",
    "AF_MCTP",
];

/// `AF_INET`, …, or the number for families this table does not know.
pub fn family(value: u64) -> String {
    usize::try_from(value)
        .ok()
        .and_then(|v| FAMILIES.get(v))
        .map_or_else(|| value.to_string(), |n| (*n).to_owned())
}

/// `SOCK_STREAM`, … (the `SOCK_NONBLOCK`/`SOCK_CLOEXEC` flags are not part of the type).
pub fn sock_type(value: u64) -> String {
    let base = value & 0xf;
    match base {
        1 => "SOCK_STREAM".into(),
        2 => "SOCK_DGRAM".into(),
        3 => "SOCK_RAW".into(),
        4 => "SOCK_RDM".into(),
        5 => "SOCK_SEQPACKET".into(),
        6 => "SOCK_DCCP".into(),
        10 => "SOCK_PACKET".into(),
        other => other.to_string(),
    }
}

/// The protocol name for `family` (`IPPROTO_TCP`, `NETLINK_ROUTE`, …), or the number.
pub fn protocol(family: u64, value: u64) -> String {
    let name = match family {
        AF_INET | AF_INET6 => match value {
            0 => Some("IPPROTO_IP"),
            1 => Some("IPPROTO_ICMP"),
            2 => Some("IPPROTO_IGMP"),
            4 => Some("IPPROTO_IPIP"),
            6 => Some("IPPROTO_TCP"),
            8 => Some("IPPROTO_EGP"),
            12 => Some("IPPROTO_PUP"),
            17 => Some("IPPROTO_UDP"),
            22 => Some("IPPROTO_IDP"),
            29 => Some("IPPROTO_TP"),
            33 => Some("IPPROTO_DCCP"),
            41 => Some("IPPROTO_IPV6"),
            46 => Some("IPPROTO_RSVP"),
            47 => Some("IPPROTO_GRE"),
            50 => Some("IPPROTO_ESP"),
            51 => Some("IPPROTO_AH"),
            58 => Some("IPPROTO_ICMPV6"),
            92 => Some("IPPROTO_MTP"),
            94 => Some("IPPROTO_BEETPH"),
            98 => Some("IPPROTO_ENCAP"),
            103 => Some("IPPROTO_PIM"),
            108 => Some("IPPROTO_COMP"),
            115 => Some("IPPROTO_L2TP"),
            132 => Some("IPPROTO_SCTP"),
            136 => Some("IPPROTO_UDPLITE"),
            137 => Some("IPPROTO_MPLS"),
            143 => Some("IPPROTO_ETHERNET"),
            255 => Some("IPPROTO_RAW"),
            262 => Some("IPPROTO_MPTCP"),
            _ => None,
        },
        AF_NETLINK => match value {
            0 => Some("NETLINK_ROUTE"),
            1 => Some("NETLINK_UNUSED"),
            2 => Some("NETLINK_USERSOCK"),
            3 => Some("NETLINK_FIREWALL"),
            4 => Some("NETLINK_SOCK_DIAG"),
            5 => Some("NETLINK_NFLOG"),
            6 => Some("NETLINK_XFRM"),
            7 => Some("NETLINK_SELINUX"),
            8 => Some("NETLINK_ISCSI"),
            9 => Some("NETLINK_AUDIT"),
            10 => Some("NETLINK_FIB_LOOKUP"),
            11 => Some("NETLINK_CONNECTOR"),
            12 => Some("NETLINK_NETFILTER"),
            13 => Some("NETLINK_IP6_FW"),
            14 => Some("NETLINK_DNRTMSG"),
            15 => Some("NETLINK_KOBJECT_UEVENT"),
            16 => Some("NETLINK_GENERIC"),
            18 => Some("NETLINK_SCSITRANSPORT"),
            19 => Some("NETLINK_ECRYPTFS"),
            20 => Some("NETLINK_RDMA"),
            21 => Some("NETLINK_CRYPTO"),
            22 => Some("NETLINK_SMC"),
            _ => None,
        },
        _ => None,
    };
    name.map_or_else(|| value.to_string(), str::to_owned)
}

/// `ENOENT`, … for a positive errno value.
pub fn errno(value: i64) -> String {
    let code = i32::try_from(value).unwrap_or(0);
    let e = Errno::from_raw(code);
    if e == Errno::UnknownErrno {
        format!("E{code}")
    } else {
        format!("{e:?}")
    }
}

/// The kernel's internal "restart me" codes: the call will be entered again, so its outcome here
/// is not the one the program sees.
pub fn is_restart(errno: i64) -> bool {
    matches!(errno, 512..=516)
}

/// `SCHED_FIFO`, `SCHED_RR`, `SCHED_DEADLINE` for the realtime policies, else `None`.
pub fn realtime_policy(policy: u64) -> Option<&'static str> {
    // SCHED_RESET_ON_FORK may be or-ed in.
    match policy & !0x4000_0000 {
        1 => Some("SCHED_FIFO"),
        2 => Some("SCHED_RR"),
        6 => Some("SCHED_DEADLINE"),
        _ => None,
    }
}

/// A decoded `struct sockaddr`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SockAddr {
    /// `a.b.c.d:port` or `[v6]:port`.
    Inet {
        family: u64,
        text: String,
        port: u16,
    },
    /// A filesystem AF_UNIX address (possibly relative).
    UnixPath(Vec<u8>),
    /// An abstract AF_UNIX name, written `@name`.
    UnixAbstract(String),
    /// An unnamed AF_UNIX address (autobind).
    UnixUnnamed,
    /// Any other family, by number.
    Other(u64),
}

/// Decodes the bytes of a `struct sockaddr`.
pub fn sockaddr(bytes: &[u8]) -> Option<SockAddr> {
    let family = u64::from(u16::from_ne_bytes([*bytes.first()?, *bytes.get(1)?]));
    let port = |b: &[u8]| u16::from_be_bytes([b[2], b[3]]);
    match family {
        AF_INET if bytes.len() >= 8 => {
            let ip = Ipv4Addr::new(bytes[4], bytes[5], bytes[6], bytes[7]);
            Some(SockAddr::Inet {
                family,
                text: format!("{ip}:{}", port(bytes)),
                port: port(bytes),
            })
        }
        AF_INET6 if bytes.len() >= 24 => {
            let mut octets = [0u8; 16];
            octets.copy_from_slice(&bytes[8..24]);
            let ip = Ipv6Addr::from(octets);
            Some(SockAddr::Inet {
                family,
                text: format!("[{ip}]:{}", port(bytes)),
                port: port(bytes),
            })
        }
        AF_UNIX => {
            let path = &bytes[2..];
            match path.first() {
                None => Some(SockAddr::UnixUnnamed),
                Some(0) => {
                    let name = &path[1..];
                    Some(SockAddr::UnixAbstract(format!(
                        "@{}",
                        String::from_utf8_lossy(name).replace('\0', "@")
                    )))
                }
                Some(_) => {
                    let end = path.iter().position(|b| *b == 0).unwrap_or(path.len());
                    Some(SockAddr::UnixPath(path[..end].to_vec()))
                }
            }
        }
        other => Some(SockAddr::Other(other)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_socket_arguments_like_strace() {
        assert_eq!(family(1), "AF_UNIX");
        assert_eq!(family(10), "AF_INET6");
        assert_eq!(family(99), "99");
        assert_eq!(sock_type(1 | 0x80000 | 0x800), "SOCK_STREAM");
        assert_eq!(protocol(AF_INET, 6), "IPPROTO_TCP");
        assert_eq!(protocol(AF_INET6, 0), "IPPROTO_IP");
        assert_eq!(protocol(AF_NETLINK, 0), "NETLINK_ROUTE");
        assert_eq!(protocol(AF_UNIX, 0), "0");
        assert_eq!(errno(2), "ENOENT");
        assert_eq!(errno(4000), "E4000");
        assert_eq!(realtime_policy(0x4000_0001), Some("SCHED_FIFO"));
        assert_eq!(realtime_policy(0), None);
    }

    #[test]
    fn decodes_socket_addresses() {
        let v4 = [2, 0, 0x1f, 0x90, 127, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0];
        assert_eq!(
            sockaddr(&v4),
            Some(SockAddr::Inet {
                family: AF_INET,
                text: "127.0.0.1:8080".into(),
                port: 8080
            })
        );
        let mut v6 = vec![10, 0, 0, 80, 0, 0, 0, 0];
        v6.extend_from_slice(&[0; 15]);
        v6.push(1);
        v6.extend_from_slice(&[0; 4]);
        assert!(matches!(sockaddr(&v6), Some(SockAddr::Inet { text, .. }) if text == "[::1]:80"));
        let mut unix = vec![1, 0];
        unix.extend_from_slice(b"/run/x.sock\0junk");
        assert_eq!(
            sockaddr(&unix),
            Some(SockAddr::UnixPath(b"/run/x.sock".to_vec()))
        );
        let abs = [1, 0, 0, b'a', b'b'];
        assert_eq!(sockaddr(&abs), Some(SockAddr::UnixAbstract("@ab".into())));
        assert_eq!(sockaddr(&[1, 0]), Some(SockAddr::UnixUnnamed));
    }
}
