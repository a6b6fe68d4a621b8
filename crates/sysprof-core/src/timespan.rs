//! systemd time spans (`90s`, `10m`, `1h 30min`, `500ms`): the syntax of `--duration`.

use std::time::Duration;

/// Units systemd accepts in time spans, with their length in microseconds.
const UNITS: [(&str, u64); 26] = [
    ("usec", 1),
    ("us", 1),
    ("µs", 1),
    ("msec", 1_000),
    ("ms", 1_000),
    ("seconds", 1_000_000),
    ("second", 1_000_000),
    ("sec", 1_000_000),
    ("s", 1_000_000),
    ("minutes", 60_000_000),
    ("minute", 60_000_000),
    ("min", 60_000_000),
    ("m", 60_000_000),
    ("hours", 3_600_000_000),
    ("hour", 3_600_000_000),
    ("hr", 3_600_000_000),
    ("h", 3_600_000_000),
    ("days", 86_400_000_000),
    ("day", 86_400_000_000),
    ("d", 86_400_000_000),
    ("weeks", 604_800_000_000),
    ("week", 604_800_000_000),
    ("w", 604_800_000_000),
    ("months", 2_629_800_000_000),
    ("month", 2_629_800_000_000),
    ("M", 2_629_800_000_000),
];

/// Parses a systemd time span; a bare number means seconds, as in systemd.
pub fn parse(text: &str) -> Result<Duration, String> {
    let trimmed = text.trim();
    if trimmed.is_empty() {
        return Err("empty duration".to_owned());
    }
    let mut rest = trimmed;
    let mut total_us: u128 = 0;
    while !rest.is_empty() {
        rest = rest.trim_start();
        let digits_end = rest
            .find(|c: char| !(c.is_ascii_digit() || c == '.'))
            .unwrap_or(rest.len());
        if digits_end == 0 {
            return Err(format!("invalid duration {trimmed:?}: expected a number"));
        }
        let number: f64 = rest[..digits_end]
            .parse()
            .map_err(|_| format!("invalid duration {trimmed:?}: bad number"))?;
        rest = rest[digits_end..].trim_start();
        let unit_end = rest
            .find(|c: char| c.is_ascii_digit() || c.is_whitespace() || c == '.')
            .unwrap_or(rest.len());
        let unit = &rest[..unit_end];
        let scale = if unit.is_empty() {
            1_000_000
        } else {
            UNITS
                .iter()
                .find(|(name, _)| *name == unit)
                .map(|(_, us)| *us)
                .ok_or_else(|| format!("invalid duration {trimmed:?}: unknown unit {unit:?}"))?
        };
        // Saturating float-to-int conversion; spans beyond u64 microseconds are refused below.
        total_us += (number * scale as f64) as u128;
        rest = &rest[unit_end..];
    }
    let micros =
        u64::try_from(total_us).map_err(|_| format!("duration {trimmed:?} is too long"))?;
    if micros == 0 {
        return Err(format!("duration {trimmed:?} is zero"));
    }
    Ok(Duration::from_micros(micros))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_systemd_spans() {
        let cases = [
            ("90s", 90_000),
            ("10m", 600_000),
            ("1h 30min", 5_400_000),
            ("1h30min", 5_400_000),
            ("500ms", 500),
            ("2", 2_000),
            ("1.5s", 1_500),
            ("1 day", 86_400_000),
        ];
        for (text, ms) in cases {
            assert_eq!(parse(text), Ok(Duration::from_millis(ms)), "{text}");
        }
    }

    #[test]
    fn rejects_nonsense() {
        for bad in ["", "abc", "10 parsecs", "0s", "-5s", "s"] {
            assert!(parse(bad).is_err(), "{bad:?} accepted");
        }
    }
}
