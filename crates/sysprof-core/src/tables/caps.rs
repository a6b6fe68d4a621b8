//! Capability numbers ↔ names (0–40, `CAP_CHOWN` … `CAP_CHECKPOINT_RESTORE`), from the `caps` crate.

use std::str::FromStr;

/// The highest capability number this build knows (`CAP_CHECKPOINT_RESTORE`, Linux 5.9).
pub const LAST_CAP: u8 = 40;

/// The canonical name of capability `number` (`CAP_41` for numbers past [`LAST_CAP`]).
pub fn name(number: u8) -> String {
    caps::all()
        .into_iter()
        .find(|c| c.index() == number)
        .map_or_else(|| format!("CAP_{number}"), |c| c.to_string())
}

/// Parses `CAP_NET_RAW`, `cap_net_raw`, `net_raw` or a number `0`…`62` (as systemd accepts).
pub fn parse(text: &str) -> Option<u8> {
    let text = text.trim();
    if let Ok(n) = text.parse::<u8>() {
        return (n <= 62).then_some(n);
    }
    if let Some(n) = text.strip_prefix("CAP_").and_then(|n| n.parse::<u8>().ok()) {
        return (n <= 62).then_some(n);
    }
    let upper = text.to_ascii_uppercase();
    let canonical = if upper.starts_with("CAP_") {
        upper
    } else {
        format!("CAP_{upper}")
    };
    caps::Capability::from_str(&canonical)
        .ok()
        .map(|c| c.index())
}

/// All known capabilities in numeric order.
pub fn all() -> impl Iterator<Item = u8> {
    0..=LAST_CAP
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_numbers_agree_for_every_capability() {
        for n in all() {
            let name = name(n);
            assert!(name.starts_with("CAP_"), "{n} -> {name}");
            assert_eq!(parse(&name), Some(n), "{name}");
        }
        assert_eq!(name(10), "CAP_NET_BIND_SERVICE");
        assert_eq!(name(40), "CAP_CHECKPOINT_RESTORE");
        assert_eq!(parse("cap_sys_admin"), Some(21));
        assert_eq!(parse("net_raw"), Some(13));
        assert_eq!(parse("CAP_BOGUS"), None);
        assert_eq!(parse("63"), None);
    }
}
