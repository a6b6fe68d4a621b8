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

/// `NLMSG_HDRLEN`: `{u32 len, u16 type, u16 flags, u32 seq, u32 pid}`.
pub const NLMSG_HDRLEN: usize = 16;
const NLM_F_REQUEST: u16 = 0x1;
const RTM_BASE: u16 = 16;
/// `RTM_MAX` as of Linux 6.18 (`RTM_GETTUNNEL` rounded up to its family of four): the kernel
/// rejects larger types before any capability check.
const RTM_MAX: u16 = 123;

/// True if a buffer sent to a NETLINK_ROUTE socket holds a request the kernel runs only with
/// CAP_NET_ADMIN (`rtnetlink_rcv_msg()`): an `RTM_NEW*`/`RTM_DEL*`/`RTM_SET*` message (every
/// type whose `(type - RTM_BASE) % 4` is not 2; 2 is `RTM_GET*`), flagged `NLM_F_REQUEST` (the
/// kernel acks others unread) and with a payload (an empty one is skipped).
///
/// `bytes` is what could be read of the buffer, `total` its real length: messages are walked
/// like `netlink_rcv_skb()` does, and the walk stops where the captured bytes end.
pub fn rtnetlink_needs_admin(bytes: &[u8], total: usize) -> bool {
    let mut offset = 0usize;
    while offset + NLMSG_HDRLEN <= bytes.len() {
        let header = &bytes[offset..offset + NLMSG_HDRLEN];
        let len = u32::from_ne_bytes([header[0], header[1], header[2], header[3]]) as usize;
        let kind = u16::from_ne_bytes([header[4], header[5]]);
        let flags = u16::from_ne_bytes([header[6], header[7]]);
        // A length the buffer cannot hold ends processing, as in the kernel.
        if len < NLMSG_HDRLEN || len > total.saturating_sub(offset) {
            return false;
        }
        let modifies = (RTM_BASE..=RTM_MAX).contains(&kind) && (kind - RTM_BASE) % 4 != 2;
        if modifies && flags & NLM_F_REQUEST != 0 && len > NLMSG_HDRLEN {
            return true;
        }
        // NLMSG_ALIGN
        offset += (len + 3) & !3;
    }
    false
}

/// Socket ioctls that change network configuration: the kernel asks for CAP_NET_ADMIN (in the
/// socket's network namespace) before acting on any of them (`dev_ioctl()`, `devinet_ioctl()`,
/// `addrconf_*_ifaddr()`, `ip_rt_ioctl()`, `arp_ioctl()`, `br_ioctl_stub()`). The MII reads are
/// here because the kernel checks them like writes. Left out: requests whose need depends on a
/// sub-command (`SIOCETHTOOL`, `SIOCSIFVLAN`, `SIOCWANDEV`) and driver-private ranges.
pub fn is_net_admin_ioctl(request: u32) -> bool {
    matches!(
        request,
        0x890B // SIOCADDRT
            | 0x890C // SIOCDELRT
            | 0x8914 // SIOCSIFFLAGS
            | 0x8916 // SIOCSIFADDR
            | 0x8918 // SIOCSIFDSTADDR
            | 0x891A // SIOCSIFBRDADDR
            | 0x891C // SIOCSIFNETMASK
            | 0x891E // SIOCSIFMETRIC
            | 0x8922 // SIOCSIFMTU
            | 0x8923 // SIOCSIFNAME
            | 0x8924 // SIOCSIFHWADDR
            | 0x8930 // SIOCSIFSLAVE
            | 0x8931 // SIOCADDMULTI
            | 0x8932 // SIOCDELMULTI
            | 0x8936 // SIOCDIFADDR
            | 0x8937 // SIOCSIFHWBROADCAST
            | 0x8943 // SIOCSIFTXQLEN
            | 0x8947 // SIOCGMIIPHY
            | 0x8948 // SIOCGMIIREG
            | 0x8949 // SIOCSMIIREG
            | 0x8953 // SIOCDARP
            | 0x8955 // SIOCSARP
            | 0x8971 // SIOCSIFMAP
            | 0x8990 // SIOCBONDENSLAVE
            | 0x8991 // SIOCBONDRELEASE
            | 0x8992 // SIOCBONDSETHWADDR
            | 0x8995 // SIOCBONDCHANGEACTIVE
            | 0x89A0 // SIOCBRADDBR
            | 0x89A1 // SIOCBRDELBR
            | 0x89A2 // SIOCBRADDIF
            | 0x89A3 // SIOCBRDELIF
            | 0x89B0 // SIOCSHWTSTAMP
    )
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

    /// One netlink message: header plus `payload` bytes of payload.
    fn nlmsg(kind: u16, flags: u16, payload: usize) -> Vec<u8> {
        let len = (NLMSG_HDRLEN + payload) as u32;
        let mut m = len.to_ne_bytes().to_vec();
        m.extend_from_slice(&kind.to_ne_bytes());
        m.extend_from_slice(&flags.to_ne_bytes());
        m.extend_from_slice(&[0; 8]);
        m.resize(NLMSG_HDRLEN + payload, 0);
        m
    }

    #[test]
    fn tells_modifying_rtnetlink_requests_from_dumps() {
        const RTM_NEWLINK: u16 = 16;
        const RTM_DELLINK: u16 = 17;
        const RTM_GETLINK: u16 = 18;
        const RTM_SETLINK: u16 = 19;
        const RTM_NEWADDR: u16 = 20;
        const RTM_GETROUTE: u16 = 26;
        const REQUEST_ACK: u16 = 0x1 | 0x4;
        const DUMP: u16 = 0x1 | 0x300;
        let check = |m: &[u8]| rtnetlink_needs_admin(m, m.len());
        for kind in [RTM_NEWLINK, RTM_DELLINK, RTM_SETLINK, RTM_NEWADDR] {
            assert!(check(&nlmsg(kind, REQUEST_ACK, 16)), "type {kind}");
        }
        for kind in [RTM_GETLINK, RTM_GETROUTE] {
            assert!(!check(&nlmsg(kind, DUMP, 16)), "type {kind}");
        }
        assert!(!check(&nlmsg(RTM_NEWADDR, 0, 16)), "not a request");
        assert!(!check(&nlmsg(RTM_NEWADDR, REQUEST_ACK, 0)), "no payload");
        assert!(!check(&nlmsg(3, REQUEST_ACK, 16)), "NLMSG_DONE");
        assert!(!check(&nlmsg(200, REQUEST_ACK, 16)), "beyond RTM_MAX");
        assert!(!check(&nlmsg(RTM_NEWADDR, REQUEST_ACK, 16)[..20]), "cut");
        // A batch: a dump, then (after alignment padding) a modification.
        let mut batch = nlmsg(RTM_GETLINK, DUMP, 17);
        batch.resize(36, 0);
        batch.extend(nlmsg(RTM_DELLINK, REQUEST_ACK, 16));
        assert!(check(&batch));
        // Only the first 36 bytes could be read, but the message is whole in the real buffer.
        let whole = nlmsg(RTM_NEWADDR, REQUEST_ACK, 100);
        assert!(rtnetlink_needs_admin(&whole[..36], whole.len()));
        assert!(!rtnetlink_needs_admin(&[], 0));
    }

    #[test]
    fn knows_the_net_admin_socket_ioctls() {
        assert!(is_net_admin_ioctl(0x8914), "SIOCSIFFLAGS");
        assert!(is_net_admin_ioctl(0x890B), "SIOCADDRT");
        assert!(!is_net_admin_ioctl(0x8913), "SIOCGIFFLAGS");
        assert!(!is_net_admin_ioctl(0x8933), "SIOCGIFINDEX");
        assert!(!is_net_admin_ioctl(0x5401), "TCGETS");
    }
}
