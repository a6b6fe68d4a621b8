//! Unit-file syntax: sections, assignments, comments and continuation lines, as `config_parse()`.

use super::words::printable;
use std::fmt;

/// Longest logical line systemd accepts (`LONG_LINE_MAX`), continuation lines included.
const LONG_LINE_MAX: usize = 1024 * 1024;

/// A unit file that cannot be read; `file:line: message` on one line.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub struct UnitError {
    /// The file name given to the parser (empty for a bare value).
    pub file: String,
    /// 1-based line number; 0 when the error is not tied to a line.
    pub line: usize,
    /// What is wrong, without location.
    pub message: String,
}

impl fmt::Display for UnitError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let message = printable(&self.message);
        match (self.file.is_empty(), self.line) {
            (true, 0) => write!(f, "{message}"),
            (true, line) => write!(f, "line {line}: {message}"),
            (false, 0) => write!(f, "{}: {message}", printable(&self.file)),
            (false, line) => write!(f, "{}:{line}: {message}", printable(&self.file)),
        }
    }
}

/// One `Key=value` assignment, trimmed, with the line it starts on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    pub key: String,
    /// The raw value: not unquoted, not unescaped (settings do that their own way).
    pub value: String,
    /// 1-based line of the key (the first line of a continued assignment).
    pub line: usize,
}

/// One `[Name]` block and its assignments in file order. A name may occur in several blocks.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Section {
    pub name: String,
    pub line: usize,
    pub entries: Vec<Entry>,
}

/// A parsed unit file or drop-in: every section and assignment, unknown ones included.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnitFile {
    /// The name the file was parsed under; used in messages.
    pub name: String,
    pub sections: Vec<Section>,
}

impl UnitFile {
    /// Every assignment of every `[section]` block, in file order.
    pub fn entries<'a>(&'a self, section: &'a str) -> impl Iterator<Item = &'a Entry> + 'a {
        self.sections
            .iter()
            .filter(move |s| s.name == section)
            .flat_map(|s| s.entries.iter())
    }

    /// The values of every `key=` in `[section]`, in file order (empty assignments included).
    pub fn values<'a>(
        &'a self,
        section: &'a str,
        key: &'a str,
    ) -> impl Iterator<Item = &'a str> + 'a {
        self.entries(section)
            .filter(move |e| e.key == key)
            .map(|e| e.value.as_str())
    }
}

/// Parses a unit file held as text. See [`parse_unit_bytes`].
pub fn parse_unit(name: &str, text: &str) -> Result<UnitFile, UnitError> {
    parse_unit_bytes(name, text.as_bytes())
}

/// Parses a unit file or drop-in as systemd's `config_parse()` reads it.
///
/// Lines end at `\n`, `\r\n` or `\r`; a UTF-8 byte-order mark at the start is skipped; lines whose
/// first non-blank character is `#` or `;` are comments (also between continuation lines); a
/// trailing unescaped backslash joins the next line, replaced by a space; keys and values are
/// trimmed; repeated keys and sections are kept in order; `Key=` is kept as an empty value.
///
/// Errors, each naming the file and line: a NUL byte, invalid UTF-8, a `[` line without `]`, an
/// assignment before the first section, a line without `=` or with nothing before it, and a
/// logical line over 1 MiB. (systemd itself only warns about an assignment outside any section.)
pub fn parse_unit_bytes(name: &str, bytes: &[u8]) -> Result<UnitFile, UnitError> {
    let error = |line: usize, message: String| UnitError {
        file: name.to_owned(),
        line,
        message,
    };
    let mut unit = UnitFile {
        name: name.to_owned(),
        sections: Vec::new(),
    };
    let bytes = bytes.strip_prefix(b"\xef\xbb\xbf").unwrap_or(bytes);
    // A pending continued assignment: its text so far and its first line.
    let mut continuation: Option<(String, usize)> = None;
    for (index, raw) in physical_lines(bytes).enumerate() {
        let number = index + 1;
        if raw.contains(&0) {
            return Err(error(number, "line contains a NUL byte".to_owned()));
        }
        let text = std::str::from_utf8(raw)
            .map_err(|_| error(number, "line is not valid UTF-8".to_owned()))?;
        let first = text.trim_start_matches(is_blank);
        if first.starts_with(['#', ';']) {
            continue;
        }
        let (mut logical, start) = match continuation.take() {
            Some((mut pending, start)) => {
                pending.push_str(text);
                (pending, start)
            }
            None => (text.to_owned(), number),
        };
        if logical.len() > LONG_LINE_MAX {
            return Err(error(number, "line too long".to_owned()));
        }
        if ends_in_unescaped_backslash(&logical) {
            logical.pop();
            logical.push(' ');
            continuation = Some((logical, start));
            continue;
        }
        parse_line(&mut unit, &logical, start).map_err(|m| error(start, m))?;
    }
    // A continuation at end of file is still an assignment.
    if let Some((logical, start)) = continuation {
        parse_line(&mut unit, &logical, start).map_err(|m| error(start.max(1), m))?;
    }
    Ok(unit)
}

/// systemd's `WHITESPACE` set, used for trimming lines, keys and values.
fn is_blank(c: char) -> bool {
    matches!(c, ' ' | '\t' | '\n' | '\r')
}

/// Splits at `\n`, `\r\n` and lone `\r`, like `read_line()`. A final terminator adds no line.
fn physical_lines(bytes: &[u8]) -> impl Iterator<Item = &[u8]> {
    let mut rest = bytes;
    std::iter::from_fn(move || {
        if rest.is_empty() {
            return None;
        }
        let end = rest
            .iter()
            .position(|b| *b == b'\n' || *b == b'\r')
            .unwrap_or(rest.len());
        let line = &rest[..end];
        let mut next = end;
        if rest.get(next) == Some(&b'\r') {
            next += 1;
            if rest.get(next) == Some(&b'\n') {
                next += 1;
            }
        } else if next < rest.len() {
            next += 1;
        }
        rest = &rest[next..];
        Some(line)
    })
}

/// True when the line ends in a backslash that is not itself escaped (`\\` does not continue).
fn ends_in_unescaped_backslash(line: &str) -> bool {
    let mut escaped = false;
    for c in line.chars() {
        escaped = !escaped && c == '\\';
    }
    escaped
}

fn parse_line(unit: &mut UnitFile, logical: &str, line: usize) -> Result<(), String> {
    let text = logical.trim_matches(is_blank);
    if text.is_empty() {
        return Ok(());
    }
    if let Some(header) = text.strip_prefix('[') {
        let Some(name) = header.strip_suffix(']') else {
            return Err(format!("invalid section header '{text}'"));
        };
        unit.sections.push(Section {
            name: name.to_owned(),
            line,
            entries: Vec::new(),
        });
        return Ok(());
    }
    let Some(section) = unit.sections.last_mut() else {
        return Err("assignment outside of any section".to_owned());
    };
    let Some((key, value)) = text.split_once('=') else {
        return Err(format!("missing '=' in '{text}'"));
    };
    let key = key.trim_matches(is_blank);
    if key.is_empty() {
        return Err("missing key name before '='".to_owned());
    }
    section.entries.push(Entry {
        key: key.to_owned(),
        value: value.trim_matches(is_blank).to_owned(),
        line,
    });
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entries(unit: &UnitFile, section: &str) -> Vec<(String, String, usize)> {
        unit.entries(section)
            .map(|e| (e.key.clone(), e.value.clone(), e.line))
            .collect()
    }

    #[test]
    fn reads_sections_comments_continuations_and_repeats() {
        let text = "\u{feff}# leading comment\n\
                    [Unit]\n\
                    Description = A \"quoted\" thing  \n\
                    \n\
                    [Service]\r\n\
                    ; another comment\n\
                    ExecStart=/bin/foo \\\n\
                    \x20   --bar \\\n\
                    # a comment inside a continuation is skipped\n\
                    \x20   --baz\n\
                    SystemCallFilter=@system-service\n\
                    SystemCallFilter=\n\
                    SystemCallFilter=~@mount\n\
                    Literal=ends\\\\\n\
                    Next=1\r\
                    [Service]\n\
                    Again=yes\n";
        let unit = parse_unit("x.service", text).expect("valid");
        assert_eq!(
            entries(&unit, "Unit"),
            vec![("Description".into(), "A \"quoted\" thing".into(), 3)]
        );
        let service = entries(&unit, "Service");
        assert_eq!(
            service[0],
            (
                "ExecStart".into(),
                "/bin/foo      --bar      --baz".into(),
                7
            )
        );
        let filters: Vec<&str> = unit.values("Service", "SystemCallFilter").collect();
        assert_eq!(filters, vec!["@system-service", "", "~@mount"]);
        assert_eq!(service[4], ("Literal".into(), "ends\\\\".into(), 14));
        assert_eq!(service[5], ("Next".into(), "1".into(), 15));
        assert_eq!(service[6], ("Again".into(), "yes".into(), 17));
        assert_eq!(unit.sections.len(), 3);
    }

    #[test]
    fn continuation_at_end_of_file_is_kept() {
        let unit = parse_unit("x", "[Service]\nExecStart=/bin/a \\").expect("valid");
        let values: Vec<&str> = unit.values("Service", "ExecStart").collect();
        assert_eq!(values, vec!["/bin/a"]);
    }

    #[test]
    fn reports_errors_with_file_and_line() {
        let cases: &[(&[u8], &str)] = &[
            (b"Key=1\n", "a.service:1: assignment outside of any section"),
            (
                b"# c\n\n[Service]\nNoEquals\n",
                "a.service:4: missing '=' in 'NoEquals'",
            ),
            (
                b"[Service]\n=value\n",
                "a.service:2: missing key name before '='",
            ),
            (
                b"[Service\n",
                "a.service:1: invalid section header '[Service'",
            ),
            (
                b"[Service]\nA=\xff\xfe\n",
                "a.service:2: line is not valid UTF-8",
            ),
            (
                b"[Service]\nA=1\nB=a\0b\n",
                "a.service:3: line contains a NUL byte",
            ),
            (b"[Service]\r\rBad\r", "a.service:3: missing '=' in 'Bad'"),
        ];
        for (input, expected) in cases {
            let err = parse_unit_bytes("a.service", input).expect_err(expected);
            assert_eq!(err.to_string(), *expected);
            assert!(!err.to_string().contains('\n'));
        }
        let long = format!("[Service]\nA={}\n", "x".repeat(LONG_LINE_MAX + 1));
        assert!(parse_unit("a", &long).is_err());
    }

    #[test]
    fn error_display_escapes_names_and_handles_missing_location() {
        let e = UnitError {
            file: "evil\nname".into(),
            line: 2,
            message: "bad".into(),
        };
        assert_eq!(e.to_string(), "evil\\nname:2: bad");
        let e = UnitError {
            file: String::new(),
            line: 0,
            message: "bad".into(),
        };
        assert_eq!(e.to_string(), "bad");
    }

    #[test]
    fn never_panics_on_arbitrary_bytes() {
        let mut state: u64 = 0x2545_f491_4f6c_dd1d;
        for _ in 0..3000 {
            let mut bytes = Vec::new();
            for _ in 0..(state % 40) {
                state ^= state << 13;
                state ^= state >> 7;
                state ^= state << 17;
                let pick = b"[]=\\\n\r #;ab\"'\xc3\xa9\xff\x00S";
                bytes.push(pick[(state % pick.len() as u64) as usize]);
            }
            let _ = parse_unit_bytes("fuzz", &bytes);
        }
    }
}
