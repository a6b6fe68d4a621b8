//! Word splitting and quoting of unit-file values, in the three dialects systemd's parsers use.
//!
//! systemd does not read every value the same way:
//!
//! * **C-escape words** (`ExecStart=` arguments, `Environment=`): quotes group, and a backslash
//!   starts a C escape (`\n`, `\t`, `\xNN`, `\uNNNN`, …). [`split_words`] / [`quote_word`].
//! * **Path words** (`ReadWritePaths=`, `ExecPaths=`, `SystemCallFilter=`, …; `extract_first_word`
//!   with `EXTRACT_UNQUOTE` only): quotes group, and a backslash makes the next character literal,
//!   so `\n` reads as `n`. There is no way to write a control character there other than raw, which
//!   a unit file cannot carry safely. [`split_path_words`] / [`quote_path`].
//! * **Directory names** (`StateDirectory=` …): quotes group but backslashes are kept, then the word
//!   is split at `:` and C-unescaped. [`quote_directory_name`].
//!
//! In every dialect `%%` stands for `%` and other `%X` are specifiers, expanded after splitting.

use super::UnitError;
use std::borrow::Cow;

/// The separators `extract_first_word()` uses by default (systemd's `WHITESPACE`).
fn is_separator(c: char) -> bool {
    matches!(c, ' ' | '\t' | '\n' | '\r')
}

/// How a backslash inside a value is read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Escapes {
    /// `EXTRACT_CUNESCAPE`: a C escape sequence.
    C,
    /// No unescape flag: the next character is taken literally.
    Literal,
    /// `EXTRACT_RETAIN_ESCAPE`: the backslash is an ordinary character.
    Retain,
}

/// Splits `value` into words the way `extract_first_word(…, EXTRACT_UNQUOTE | flags)` does, with
/// no specifier handling. The error is a message without location.
pub(crate) fn extract_words(value: &str, escapes: Escapes) -> Result<Vec<String>, String> {
    let chars: Vec<char> = value.chars().collect();
    let mut words = Vec::new();
    let mut i = 0;
    loop {
        while i < chars.len() && is_separator(chars[i]) {
            i += 1;
        }
        if i >= chars.len() {
            return Ok(words);
        }
        let mut word: Vec<u8> = Vec::new();
        let mut quote: Option<char> = None;
        loop {
            let Some(&c) = chars.get(i) else {
                if quote.is_some() {
                    return Err("unbalanced quoting".to_owned());
                }
                break;
            };
            if c == '\\' && escapes != Escapes::Retain {
                i += 1;
                i += read_escape(&chars[i..], escapes, &mut word)?;
                continue;
            }
            match quote {
                Some(q) if c == q => quote = None,
                Some(_) => push_char(&mut word, c),
                None if c == '"' || c == '\'' => quote = Some(c),
                None if is_separator(c) => break,
                None => push_char(&mut word, c),
            }
            i += 1;
        }
        let word = String::from_utf8(word)
            .map_err(|_| "escape sequences produce invalid UTF-8".to_owned())?;
        words.push(word);
    }
}

fn push_char(out: &mut Vec<u8>, c: char) {
    let mut buf = [0u8; 4];
    out.extend_from_slice(c.encode_utf8(&mut buf).as_bytes());
}

/// Reads the escape sequence after a backslash; returns how many characters it used.
fn read_escape(rest: &[char], escapes: Escapes, out: &mut Vec<u8>) -> Result<usize, String> {
    let Some(&first) = rest.first() else {
        return Err("trailing backslash".to_owned());
    };
    if escapes != Escapes::C {
        push_char(out, first);
        return Ok(1);
    }
    let used = cunescape_one(rest, out).ok_or_else(|| {
        format!(
            "invalid escape sequence \\{}",
            printable(&first.to_string())
        )
    })?;
    Ok(used)
}

/// Decodes one C escape (the characters after the backslash) the way systemd's `cunescape_one()`
/// does without `UNESCAPE_ACCEPT_NUL`; `None` for an invalid sequence.
fn cunescape_one(rest: &[char], out: &mut Vec<u8>) -> Option<usize> {
    let simple = match rest.first()? {
        'a' => Some(0x07),
        'b' => Some(0x08),
        'f' => Some(0x0c),
        'n' => Some(b'\n'),
        'r' => Some(b'\r'),
        't' => Some(b'\t'),
        'v' => Some(0x0b),
        '\\' => Some(b'\\'),
        '"' => Some(b'"'),
        '\'' => Some(b'\''),
        's' => Some(b' '),
        _ => None,
    };
    if let Some(byte) = simple {
        out.push(byte);
        return Some(1);
    }
    let digits = |count: usize, radix: u32| -> Option<u32> {
        let text = rest.get(1..=count)?;
        text.iter()
            .try_fold(0u32, |acc, c| c.to_digit(radix).map(|d| acc * radix + d))
    };
    match rest.first()? {
        'x' => {
            let value = digits(2, 16)?;
            // A raw byte ("eight bit"), not a code point; NUL is refused.
            let byte = u8::try_from(value).ok().filter(|b| *b != 0)?;
            out.push(byte);
            Some(3)
        }
        'u' | 'U' => {
            let count = if rest.first() == Some(&'u') { 4 } else { 8 };
            let value = digits(count, 16)?;
            let c = char::from_u32(value).filter(|c| *c != '\0')?;
            push_char(out, c);
            Some(count + 1)
        }
        '0'..='7' => {
            let octal: Vec<char> = rest.get(..3)?.to_vec();
            let value = octal
                .iter()
                .try_fold(0u32, |acc, c| c.to_digit(8).map(|d| acc * 8 + d))?;
            let byte = u8::try_from(value).ok().filter(|b| *b != 0)?;
            out.push(byte);
            Some(3)
        }
        _ => None,
    }
}

/// A word after specifier handling: `%%` became `%`, other specifiers were kept verbatim.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Resolved {
    pub text: String,
    /// Specifiers (`%n`, `%i`, …) that were left unexpanded, in order of appearance.
    pub unexpanded: Vec<String>,
}

/// Applies unit-file specifier rules to one extracted word without a unit to expand them with:
/// `%%` → `%`; every other `%X` is kept and reported; a stray trailing `%` is kept (as systemd).
pub(crate) fn resolve_specifiers(word: &str) -> Resolved {
    let mut text = String::with_capacity(word.len());
    let mut unexpanded = Vec::new();
    let mut chars = word.chars();
    while let Some(c) = chars.next() {
        if c != '%' {
            text.push(c);
            continue;
        }
        match chars.next() {
            Some('%') => text.push('%'),
            Some(spec) => {
                text.push('%');
                text.push(spec);
                unexpanded.push(format!("%{spec}"));
            }
            None => text.push('%'),
        }
    }
    Resolved { text, unexpanded }
}

fn value_error(message: String) -> UnitError {
    UnitError {
        file: String::new(),
        line: 0,
        message,
    }
}

/// Splits a value into words as systemd reads C-escape values (`ExecStart=` arguments,
/// `Environment=`): whitespace separates, `"…"`/`'…'` group, backslash starts a C escape
/// (`\n \t \r \a \b \f \v \\ \" \' \s \xNN \NNN \uNNNN \UNNNNNNNN`), `%%` becomes `%` and other
/// `%X` specifiers are kept verbatim.
///
/// Errors (unbalanced quotes, a trailing backslash, an unknown escape, an escape producing NUL or
/// invalid UTF-8) carry no location; callers add it.
pub fn split_words(value: &str) -> Result<Vec<String>, UnitError> {
    let words = extract_words(value, Escapes::C).map_err(value_error)?;
    Ok(words
        .into_iter()
        .map(|w| resolve_specifiers(&w).text)
        .collect())
}

/// Splits a value into words as systemd reads path lists (`ReadWritePaths=`, `ExecPaths=`, …):
/// like [`split_words`], but a backslash makes the next character literal (`\n` reads as `n`).
pub fn split_path_words(value: &str) -> Result<Vec<String>, UnitError> {
    let words = extract_words(value, Escapes::Literal).map_err(value_error)?;
    Ok(words
        .into_iter()
        .map(|w| resolve_specifiers(&w).text)
        .collect())
}

/// Characters written as `\uNNNN`: C1 controls, invisible format and bidi characters, and
/// non-ASCII spaces. They are legal but would make a unit file lie about what it says.
fn is_deceptive(c: char) -> bool {
    let n = u32::from(c);
    (c.is_whitespace() && !c.is_ascii())
        || c.is_control()
        || matches!(n,
            0x00ad | 0x061c | 0x180e | 0x200b..=0x200f | 0x2028..=0x202e | 0x2060..=0x2064
            | 0x2066..=0x206f | 0xfeff | 0xfff9..=0xfffb | 0xe0000..=0xe007f)
}

/// True for characters [`quote_word`] can only write as a C escape.
fn needs_c_escape(c: char) -> bool {
    c.is_ascii_control() || is_deceptive(c)
}

/// Writes `c` as the C escape `cunescape_one()` reads back as `c`.
fn push_c_escape(out: &mut String, c: char) {
    match c {
        '\n' => out.push_str("\\n"),
        '\t' => out.push_str("\\t"),
        '\r' => out.push_str("\\r"),
        c if c.is_ascii() => out.push_str(&format!("\\x{:02x}", u32::from(c))),
        c if u32::from(c) <= 0xffff => out.push_str(&format!("\\u{:04x}", u32::from(c))),
        c => out.push_str(&format!("\\U{:08x}", u32::from(c))),
    }
}

/// Escapes one value word so that systemd reads exactly `s` back as one word in C-escape values,
/// and so that no value can ever add a line, a directive or a second word in any dialect.
///
/// `%` → `%%`; `\`, `"` and `'` are backslash-escaped; newline, tab, CR, every other control
/// character and invisible or bidi characters become C escapes (`\n`, `\t`, `\xNN`, `\uNNNN`);
/// the word is wrapped in double quotes when it contains a space or is empty.
///
/// For every `s` without NUL, `split_words(&quote_word(s)) == [s]`. NUL cannot be represented
/// in any unit file; it is written as `\x00`, which systemd and [`split_words`] refuse.
///
/// Path lists (`ReadWritePaths=`, …) do not decode C escapes; use [`quote_path`] for them.
pub fn quote_word(s: &str) -> String {
    let mut body = String::with_capacity(s.len() + 2);
    let mut needs_quotes = s.is_empty();
    for c in s.chars() {
        match c {
            '%' => body.push_str("%%"),
            '\\' => body.push_str("\\\\"),
            '"' => body.push_str("\\\""),
            '\'' => body.push_str("\\'"),
            ' ' => {
                needs_quotes = true;
                body.push(' ');
            }
            c if needs_c_escape(c) => push_c_escape(&mut body, c),
            c => body.push(c),
        }
    }
    if needs_quotes {
        format!("\"{body}\"")
    } else {
        body
    }
}

/// Escapes one word for the path-list dialect (`ReadWritePaths=`, `ReadOnlyPaths=`,
/// `InaccessiblePaths=`, `ExecPaths=`, `NoExecPaths=`, `BindPaths=`, `SystemCallFilter=`, …),
/// where systemd reads `\X` as a literal `X` and has no escape for control characters.
///
/// Returns the same text as [`quote_word`] (which both dialects read identically for such
/// words) or an error if `s` holds a character that this dialect cannot carry (control,
/// invisible or bidi characters, NUL): emitting it would name a different path.
/// `split_path_words(&quote_path(s)?) == [s]`.
pub fn quote_path(s: &str) -> Result<String, UnitError> {
    if let Some(c) = s.chars().find(|c| needs_c_escape(*c)) {
        return Err(value_error(format!(
            "{} contains {}, which path settings cannot express",
            printable(s),
            printable(&c.to_string())
        )));
    }
    Ok(quote_word(s))
}

/// Escapes one name for `StateDirectory=`, `CacheDirectory=`, `LogsDirectory=`,
/// `RuntimeDirectory=` and `ConfigurationDirectory=`, which systemd unquotes without treating
/// backslashes, then splits at `:` and C-unescapes.
///
/// The result has no quotes and no raw whitespace: space, quotes, `:` and control characters
/// are escapes that only the second pass decodes. Refuses NUL.
pub fn quote_directory_name(s: &str) -> Result<String, UnitError> {
    if s.contains('\0') {
        return Err(value_error(format!(
            "{} contains NUL, which no unit file can express",
            printable(s)
        )));
    }
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '%' => out.push_str("%%"),
            '\\' => out.push_str("\\\\"),
            ':' => out.push_str("\\:"),
            ' ' => out.push_str("\\s"),
            '"' => out.push_str("\\x22"),
            '\'' => out.push_str("\\x27"),
            c if needs_c_escape(c) => push_c_escape(&mut out, c),
            c => out.push(c),
        }
    }
    Ok(out)
}

/// One `*Directory=` item: the directory name and the optional `:symlink` destination.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct DirectoryItem {
    pub name: String,
    pub symlink: Option<String>,
}

/// Splits a `*Directory=` value the way `config_parse_exec_directories()` does: unquote keeping
/// backslashes, then each word split at an unescaped `:` and C-unescaped (`\:` is a colon).
/// Specifiers are not resolved here.
pub(crate) fn extract_directory_items(value: &str) -> Result<Vec<DirectoryItem>, String> {
    let mut items = Vec::new();
    for tuple in extract_words(value, Escapes::Retain)? {
        let chars: Vec<char> = tuple.chars().collect();
        let mut parts: Vec<Vec<u8>> = vec![Vec::new()];
        let mut i = 0;
        while let Some(&c) = chars.get(i) {
            i += 1;
            let current = parts.len() - 1;
            if c == ':' {
                parts.push(Vec::new());
            } else if c == '\\' {
                let rest = &chars[i..];
                match rest.first() {
                    Some(':') => {
                        parts[current].push(b':');
                        i += 1;
                    }
                    Some(_) => {
                        i += cunescape_one(rest, &mut parts[current]).ok_or_else(|| {
                            format!("invalid escape sequence in {}", printable(&tuple))
                        })?
                    }
                    None => return Err("trailing backslash".to_owned()),
                }
            } else {
                push_char(&mut parts[current], c);
            }
        }
        let mut strings = parts.into_iter().map(|p| {
            String::from_utf8(p).map_err(|_| "escape sequences produce invalid UTF-8".to_owned())
        });
        let name = strings.next().transpose()?.unwrap_or_default();
        let symlink = strings.next().transpose()?.filter(|s| !s.is_empty());
        if strings.next().is_some() {
            return Err(format!("too many ':' in {}", printable(&tuple)));
        }
        items.push(DirectoryItem { name, symlink });
    }
    Ok(items)
}

/// `s` with control, invisible and bidi characters and backslashes escaped, for one-line
/// messages. Not a unit-file encoding.
pub(crate) fn printable(s: &str) -> Cow<'_, str> {
    if !s.chars().any(|c| c == '\\' || needs_c_escape(c)) {
        return Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len() + 8);
    for c in s.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            c if needs_c_escape(c) => push_c_escape(&mut out, c),
            c => out.push(c),
        }
    }
    Cow::Owned(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Strings chosen to break quoting: separators, quotes, escapes, specifiers, comment and
    /// line characters, unicode, invisible characters and every ASCII control character.
    fn nasty_strings() -> Vec<String> {
        let mut all: Vec<String> = [
            "",
            " ",
            "  ",
            "/plain/path",
            "/with space/and  two",
            " leading",
            "trailing ",
            "/a\nb",
            "/a\nProtectSystem=no",
            "\n[Service]\nExecStart=/bin/sh",
            "line\r\nbreak",
            "tab\there",
            "quote\"inside",
            "\"",
            "'",
            "''",
            "\"\"",
            "it's",
            "mixed'\"quotes\"'",
            "\\",
            "\\\\",
            "back\\slash",
            "trailing\\",
            "\\n",
            "\\x41",
            "%",
            "%%",
            "%n",
            "%%n",
            "100%",
            "a%b%c",
            ";comment",
            "#comment",
            "a;b#c",
            "=",
            "Key=Value",
            "~@mount",
            "-/ignore",
            "+/prefixed",
            ":colon:",
            "ünïcødé/路径/пути",
            "emoji 🦀 crab",
            "\u{7f}del",
            "\u{85}nel",
            "\u{a0}nbsp",
            "\u{2028}ls",
            "\u{202e}rlo",
            "\u{feff}bom",
            "\u{e0041}tag",
            "\u{1b}[31mred",
        ]
        .iter()
        .map(|s| (*s).to_owned())
        .collect();
        for byte in 1u8..0x20 {
            all.push(format!("/ctl{}x", char::from(byte)));
        }
        // A deterministic pseudo-random mix of the nastiest pieces.
        let alphabet: Vec<char> = " \t\n\r\"'\\%;#=:~-+/aZ0é路🦀\u{1}\u{7f}\u{85}\u{2028}"
            .chars()
            .collect();
        let mut state: u64 = 0x9e37_79b9_7f4a_7c15;
        for _ in 0..2000 {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            let len = (state % 12) as usize;
            let mut s = String::new();
            let mut x = state;
            for _ in 0..len {
                x = x.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1);
                s.push(alphabet[(x >> 33) as usize % alphabet.len()]);
            }
            all.push(s);
        }
        all
    }

    #[test]
    fn quote_word_round_trips_through_split_words() {
        for s in nasty_strings() {
            let quoted = quote_word(&s);
            let back = split_words(&quoted).unwrap_or_else(|e| panic!("{s:?} → {quoted:?}: {e}"));
            assert_eq!(back, vec![s.clone()], "{s:?} → {quoted:?}");
        }
    }

    #[test]
    fn quoted_words_never_break_the_line_or_the_directive() {
        for s in nasty_strings() {
            let quoted = quote_word(&s);
            assert!(
                !quoted.contains(['\n', '\r', '\0']),
                "{s:?} → {quoted:?} has a line break"
            );
            assert!(
                !quoted.chars().any(|c| c.is_control()),
                "{s:?} → {quoted:?} has a raw control character"
            );
            // An odd run of trailing backslashes would continue the line.
            let trailing = quoted.chars().rev().take_while(|c| *c == '\\').count();
            assert_eq!(trailing % 2, 0, "{s:?} → {quoted:?} ends in a continuation");
            // Embedded as a whole assignment, the file still has one entry with one word.
            let text = format!("[Service]\nReadWritePaths={quoted}\n");
            let unit = super::super::parse_unit("t.service", &text)
                .unwrap_or_else(|e| panic!("{s:?}: {e}"));
            let values: Vec<&str> = unit.values("Service", "ReadWritePaths").collect();
            assert_eq!(values, vec![quoted.as_str()], "{s:?}");
        }
    }

    #[test]
    fn quote_path_round_trips_or_refuses() {
        let mut refused = 0;
        for s in nasty_strings() {
            match quote_path(&s) {
                Ok(quoted) => {
                    assert_eq!(quoted, quote_word(&s));
                    let back = split_path_words(&quoted)
                        .unwrap_or_else(|e| panic!("{s:?} → {quoted:?}: {e}"));
                    assert_eq!(back, vec![s.clone()], "{s:?} → {quoted:?}");
                }
                Err(e) => {
                    refused += 1;
                    assert!(s.chars().any(needs_c_escape), "{s:?} refused: {e}");
                    assert!(!e.to_string().contains('\n'), "{e}");
                }
            }
        }
        assert!(refused > 10);
    }

    #[test]
    fn quote_directory_name_round_trips() {
        for s in nasty_strings().into_iter().filter(|s| !s.contains('\0')) {
            let quoted = quote_directory_name(&s).unwrap_or_else(|e| panic!("{s:?}: {e}"));
            assert!(
                !quoted.contains([' ', '\t', '\n', '\r', '"', '\'']),
                "{quoted:?}"
            );
            let items = extract_directory_items(&quoted)
                .unwrap_or_else(|e| panic!("{s:?} → {quoted:?}: {e}"));
            let expected = if s.is_empty() {
                vec![]
            } else {
                vec![s.clone()]
            };
            let names: Vec<String> = items
                .iter()
                .map(|i| resolve_specifiers(&i.name).text)
                .collect();
            assert_eq!(names, expected, "{s:?} → {quoted:?}");
            assert!(items.iter().all(|i| i.symlink.is_none()));
        }
        assert!(quote_directory_name("a\0b").is_err());
    }

    #[test]
    fn nul_is_never_read_back() {
        let quoted = quote_word("a\0b");
        assert_eq!(quoted, "a\\x00b");
        assert!(split_words(&quoted).is_err());
        assert!(quote_path("a\0b").is_err());
    }

    #[test]
    fn splits_like_systemd() {
        let cases: &[(&str, &[&str])] = &[
            ("", &[]),
            ("   ", &[]),
            ("a b\tc", &["a", "b", "c"]),
            ("  a   b  ", &["a", "b"]),
            ("\"a b\" 'c d'", &["a b", "c d"]),
            ("a\"b c\"d", &["ab cd"]),
            ("\"\"", &[""]),
            ("'\\''", &["'"]),
            ("\\x41\\u00e9\\U0001f980", &["Aé🦀"]),
            ("\\101\\s\\t", &["A \t"]),
            ("%%n %n 100%", &["%n", "%n", "100%"]),
        ];
        for (input, expected) in cases {
            let got = split_words(input).unwrap_or_else(|e| panic!("{input:?}: {e}"));
            assert_eq!(got, *expected, "{input:?}");
        }
    }

    #[test]
    fn path_words_read_backslash_literally() {
        let cases: &[(&str, &[&str])] = &[
            ("/a\\nb", &["/anb"]),
            ("\"/a b\" -/c", &["/a b", "-/c"]),
            ("/a\\ b", &["/a b"]),
            ("'/x\\y'", &["/xy"]),
            ("%%", &["%"]),
        ];
        for (input, expected) in cases {
            let got = split_path_words(input).unwrap_or_else(|e| panic!("{input:?}: {e}"));
            assert_eq!(got, *expected, "{input:?}");
        }
    }

    #[test]
    fn rejects_malformed_values() {
        for bad in [
            "\"open",
            "'open",
            "trailing\\",
            "\\q",
            "\\x0",
            "\\x00",
            "\\000",
            "\\777",
            "\\u0000",
            "\\ud800",
            "\\xff",
            // C-escape values have no escape for a space; systemd only warns and keeps "\ ".
            "a\\ b",
        ] {
            let err = split_words(bad).expect_err(bad);
            assert!(!err.to_string().contains('\n'), "{err}");
        }
        assert!(split_path_words("\"open").is_err());
        // Setting prefixes stay outside the quoted word and survive unquoting.
        let prefixed = format!("-{}", quote_path("/a b").expect("quotable"));
        assert_eq!(split_path_words(&prefixed).expect("valid"), vec!["-/a b"]);
        assert!(split_path_words("a\\").is_err());
    }

    #[test]
    fn specifiers_are_reported_not_expanded() {
        let r = resolve_specifiers("/var/lib/%n/%%/%i%");
        assert_eq!(r.text, "/var/lib/%n/%/%i%");
        assert_eq!(r.unexpanded, vec!["%n", "%i"]);
    }

    #[test]
    fn directory_items_split_at_unescaped_colons() {
        let items = extract_directory_items("foo:bar a\\:b \"c d\"").expect("valid");
        assert_eq!(
            items,
            vec![
                DirectoryItem {
                    name: "foo".into(),
                    symlink: Some("bar".into())
                },
                DirectoryItem {
                    name: "a:b".into(),
                    symlink: None
                },
                DirectoryItem {
                    name: "c d".into(),
                    symlink: None
                },
            ]
        );
        assert!(extract_directory_items("a:b:c").is_err());
    }

    #[test]
    fn printable_keeps_messages_on_one_line() {
        assert_eq!(printable("/plain"), "/plain");
        assert_eq!(printable("a\nb\\c\u{202e}"), "a\\nb\\\\c\\u202e");
    }
}
