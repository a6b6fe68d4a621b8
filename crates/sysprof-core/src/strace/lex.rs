//! Byte-level lexing of strace output: line prefixes, argument lists, strings, numbers, flags.
//!
//! Everything here works on borrowed byte slices and never allocates, except the string unescaper,
//! which writes into a caller-owned scratch buffer.

/// What precedes the syscall text on a line: the pid (if printed) and the timestamp (if any).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Prefix<'a> {
    /// `1234  ` (`-f -o`) or `[pid  1234] ` (`-f` to stderr).
    pub pid: Option<u32>,
    /// The first timestamp token (`-t`, `-tt`, `-ttt`, `-r`), without the trailing space.
    pub timestamp: Option<&'a [u8]>,
    /// Offset of the first byte after the prefix.
    pub rest: usize,
}

fn skip_spaces(s: &[u8], mut i: usize) -> usize {
    while i < s.len() && (s[i] == b' ' || s[i] == b'\t') {
        i += 1;
    }
    i
}

/// Parses `digits` at `i`; returns the value and the end offset. Values that overflow `u32` fail.
fn parse_u32_at(s: &[u8], i: usize) -> Option<(u32, usize)> {
    let mut j = i;
    let mut value: u32 = 0;
    while j < s.len() && s[j].is_ascii_digit() {
        value = value.checked_mul(10)?.checked_add(u32::from(s[j] - b'0'))?;
        j += 1;
    }
    (j > i).then_some((value, j))
}

/// Skips the `<comm>` that `-Y` prints after a pid.
fn skip_comm(line: &[u8], k: usize) -> usize {
    if line.get(k) == Some(&b'<') {
        if let Some(end) = skip_decoration(line, k) {
            return end;
        }
    }
    k
}

/// Splits the line prefix off. `bare_pid_allowed` is false for `-ff` files, whose lines carry no
/// pid, so that a leading integer there is read as a (`--timestamps=unix`) timestamp.
pub(crate) fn parse_prefix(line: &[u8], bare_pid_allowed: bool) -> Prefix<'_> {
    let mut i = skip_spaces(line, 0);
    let mut pid = None;
    if line[i..].starts_with(b"[pid") {
        let j = skip_spaces(line, i + 4);
        if let Some((n, k)) = parse_u32_at(line, j) {
            let k = skip_comm(line, k);
            if line.get(k) == Some(&b']') {
                pid = Some(n);
                i = k + 1;
            }
        }
    } else if bare_pid_allowed {
        if let Some((n, k)) = parse_u32_at(line, i) {
            // `1234 ` is a pid; `1234.5 ` and `12:34:56 ` are timestamps.
            let k = skip_comm(line, k);
            if line.get(k) == Some(&b' ') {
                pid = Some(n);
                i = k;
            }
        }
    }
    let mut timestamp = None;
    loop {
        i = skip_spaces(line, i);
        let Some(&c) = line.get(i) else { break };
        if c.is_ascii_digit() {
            let mut j = i;
            while j < line.len() && (line[j].is_ascii_digit() || line[j] == b':' || line[j] == b'.')
            {
                j += 1;
            }
            if line.get(j) == Some(&b' ') {
                timestamp.get_or_insert(&line[i..j]);
                i = j;
                continue;
            }
            break;
        }
        // `-i` (`[00007f8f5828aad7]`) and `-n` (`[  59]`) blocks.
        if c == b'[' {
            let mut j = i + 1;
            let mut digits = 0;
            // `-i` prints `[????????????????]` where it has no instruction pointer.
            while j < line.len()
                && (line[j].is_ascii_hexdigit() || line[j] == b' ' || line[j] == b'?')
            {
                digits += usize::from(line[j] != b' ');
                j += 1;
            }
            if digits > 0 && line.get(j) == Some(&b']') {
                i = j + 1;
                continue;
            }
        }
        break;
    }
    Prefix {
        pid,
        timestamp,
        rest: i,
    }
}

/// Returns the offset just past the closing quote of the string starting at `s[i] == b'"'`,
/// or `s.len()` when the string is not terminated.
pub(crate) fn skip_string(s: &[u8], i: usize) -> usize {
    let mut j = i + 1;
    while let Some(off) = memchr::memchr2(b'"', b'\\', &s[j.min(s.len())..]) {
        let k = j + off;
        if s[k] == b'\\' {
            j = k + 2;
            if j >= s.len() {
                return s.len();
            }
        } else {
            return k + 1;
        }
    }
    s.len()
}

/// Returns the offset just past the `>` that closes the `-y` decoration starting at
/// `s[i] == b'<'`, or `None` if it is not closed. Paths inside have `<`/`>` escaped; socket
/// decorations contain `->` inside square brackets; device decorations nest (`</dev/null<char 1:3>>`).
pub(crate) fn skip_decoration(s: &[u8], i: usize) -> Option<usize> {
    // Fast path: in a path decoration `<` and `>` are escaped, so only `-yy` device suffixes
    // (`</dev/null<char 1:3>>`) nest; quotes and brackets mean nothing there.
    if s.get(i + 1) == Some(&b'/') {
        let mut depth = 1u32;
        let mut j = i + 1;
        while let Some(off) = memchr::memchr2(b'<', b'>', &s[j..]) {
            let k = j + off;
            if s[k] == b'<' {
                depth += 1;
            } else {
                depth -= 1;
                if depth == 0 {
                    return Some(k + 1);
                }
            }
            j = k + 1;
        }
        return None;
    }
    let mut angle = 1u32;
    let mut square = 0u32;
    let mut j = i + 1;
    while j < s.len() {
        match s[j] {
            b'"' => {
                j = skip_string(s, j);
                continue;
            }
            b'\\' => j += 1,
            b'[' => square += 1,
            b']' => square = square.saturating_sub(1),
            b'<' if square == 0 => angle += 1,
            b'>' if square == 0 => {
                angle -= 1;
                if angle == 0 {
                    return Some(j + 1);
                }
            }
            _ => {}
        }
        j += 1;
    }
    None
}

/// Bytes that can change the structure of an argument list.
static SPECIAL: [bool; 256] = {
    let mut table = [false; 256];
    let specials = b"\"()[]{},</";
    let mut k = 0;
    while k < specials.len() {
        table[specials[k] as usize] = true;
        k += 1;
    }
    table
};

/// How a scanned element ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum End {
    Comma,
    Close,
    Eof,
}

/// Iterates the top-level, comma-separated elements of an argument list or a `{...}`/`[...]`
/// body, respecting nesting, quoted strings, `-y` decorations and `/* */` comments.
pub(crate) struct Elements<'a> {
    s: &'a [u8],
    pos: usize,
    close: u8,
    done: bool,
    closed: bool,
    /// Once a `<` failed to close, later ones are plain characters (keeps garbage linear).
    decorations_broken: bool,
}

impl<'a> Elements<'a> {
    /// `s` starts right after the opening bracket; `close` is the matching closer.
    pub(crate) fn new(s: &'a [u8], close: u8) -> Self {
        Elements {
            s,
            pos: 0,
            close,
            done: false,
            closed: false,
            decorations_broken: false,
        }
    }

    fn scan(&mut self) -> (usize, End) {
        let s = self.s;
        let mut depth = 0u32;
        let mut i = self.pos;
        while i < s.len() {
            // Most bytes are plain text: skip them without entering the match.
            if !SPECIAL[usize::from(s[i])] {
                i += 1;
                continue;
            }
            match s[i] {
                b'"' => {
                    i = skip_string(s, i);
                    continue;
                }
                b'(' | b'[' | b'{' => depth += 1,
                b')' | b']' | b'}' => {
                    if depth == 0 {
                        if s[i] == self.close {
                            return (i, End::Close);
                        }
                        // An unbalanced closer of another kind: malformed.
                        return (i, End::Eof);
                    }
                    depth -= 1;
                }
                b',' if depth == 0 => return (i, End::Comma),
                b'<' if !self.decorations_broken => {
                    if let Some(end) = skip_decoration(s, i) {
                        i = end;
                        continue;
                    }
                    self.decorations_broken = true;
                }
                b'/' if s.get(i + 1) == Some(&b'*') => {
                    match memchr::memmem::find(&s[i + 2..], b"*/") {
                        Some(off) => i += off + 4,
                        None => i = s.len(),
                    }
                    continue;
                }
                _ => {}
            }
            i += 1;
        }
        (s.len(), End::Eof)
    }

    /// True when the list ended at its closing bracket (not at the end of the input).
    pub(crate) fn closed(&self) -> bool {
        self.closed
    }

    /// The bytes after the closing bracket, once every element has been consumed.
    pub(crate) fn after_close(&mut self) -> Option<&'a [u8]> {
        while self.next().is_some() {}
        self.closed.then(|| &self.s[self.pos..])
    }
}

impl<'a> Iterator for Elements<'a> {
    type Item = &'a [u8];

    fn next(&mut self) -> Option<&'a [u8]> {
        if self.done {
            return None;
        }
        let start = self.pos;
        let (end, how) = self.scan();
        let element = trim(&self.s[start..end]);
        match how {
            End::Comma => self.pos = end + 1,
            End::Close => {
                self.pos = end + 1;
                self.done = true;
                self.closed = true;
                // `f()` has no elements: do not report one empty element.
                if element.is_empty() && start == end && !self.s[..start].ends_with(b",") {
                    return None;
                }
            }
            End::Eof => {
                self.pos = end;
                self.done = true;
                if element.is_empty() {
                    return None;
                }
            }
        }
        Some(element)
    }
}

/// Trims ASCII spaces on both sides.
pub(crate) fn trim(s: &[u8]) -> &[u8] {
    let start = s.iter().position(|&c| c != b' ').unwrap_or(s.len());
    let end = s.iter().rposition(|&c| c != b' ').map_or(start, |p| p + 1);
    &s[start..end]
}

/// Removes a trailing `/* ... */` comment (`-X verbose`) and surrounding spaces.
pub(crate) fn strip_comment(s: &[u8]) -> &[u8] {
    match memchr::memmem::find(s, b"/*") {
        Some(p) => trim(&s[..p]),
        None => trim(s),
    }
}

/// Splits `3</etc/passwd>` into `3` and the decoration body `/etc/passwd`.
pub(crate) fn split_decoration(s: &[u8]) -> (&[u8], Option<&[u8]>) {
    // The number (or `AT_FDCWD`) ends at `<` (decoration) or at a space (`-X verbose` comment).
    match memchr::memchr2(b'<', b' ', s) {
        None => return (s, None),
        Some(p) if s[p] == b' ' => return (&s[..p], None),
        Some(_) => {}
    }
    if let Some(open) = memchr::memchr(b'<', s) {
        if let Some(end) = skip_decoration(s, open) {
            return (&s[..open], Some(&s[open + 1..end - 1]));
        }
    }
    (s, None)
}

/// Parses an integer as strace prints it: decimal, `-decimal`, `0x` hex or `0`-prefixed octal.
/// Hex values above `i64::MAX` wrap (they are 64-bit register values).
pub(crate) fn parse_int(s: &[u8]) -> Option<i64> {
    let (s, _) = split_decoration(s);
    let (negative, digits) = match s.first() {
        Some(b'-') => (true, &s[1..]),
        _ => (false, s),
    };
    let magnitude = parse_unsigned(digits)?;
    if negative {
        i64::try_from(magnitude).ok().map(|v| -v)
    } else {
        #[allow(clippy::cast_possible_wrap)]
        Some(magnitude as i64)
    }
}

/// Parses a non-negative integer (decimal, `0x` hex, `0`-prefixed octal).
pub(crate) fn parse_unsigned(s: &[u8]) -> Option<u64> {
    if s.is_empty() {
        return None;
    }
    let (radix, digits) = if let Some(hex) = s.strip_prefix(b"0x").or(s.strip_prefix(b"0X")) {
        (16, hex)
    } else if s.len() > 1 && s[0] == b'0' {
        (8, &s[1..])
    } else {
        (10, s)
    };
    if digits.is_empty() {
        return None;
    }
    let mut value: u64 = 0;
    for &c in digits {
        let d = match c {
            b'0'..=b'9' => u64::from(c - b'0'),
            b'a'..=b'f' => u64::from(c - b'a' + 10),
            b'A'..=b'F' => u64::from(c - b'A' + 10),
            _ => return None,
        };
        if d >= radix {
            return None;
        }
        value = value.checked_mul(radix)?.checked_add(d)?;
    }
    Some(value)
}

/// Parses `NAME|NAME|0x10|0644` (optionally with `-X verbose` comments) into a bit set.
/// Unknown names contribute nothing; the second value says whether any token was unknown.
pub(crate) fn parse_flags(s: &[u8], lookup: impl Fn(&[u8]) -> Option<u64>) -> (u64, bool) {
    let mut value = 0u64;
    let mut unknown = false;
    let mut add = |token: &[u8]| {
        let token = trim(token);
        if token.is_empty() {
            return;
        }
        match parse_unsigned(token).or_else(|| lookup(token)) {
            Some(v) => value |= v,
            None => unknown = true,
        }
    };
    let mut token_start = 0;
    // Where the current token's text stops because a `/* ... */` comment began.
    let mut token_end = None;
    let mut i = 0;
    while i < s.len() {
        if s[i..].starts_with(b"/*") {
            token_end.get_or_insert(i);
            i = match memchr::memmem::find(&s[i + 2..], b"*/") {
                Some(off) => i + off + 4,
                None => s.len(),
            };
            continue;
        }
        if s[i] == b'|' {
            add(&s[token_start..token_end.take().unwrap_or(i)]);
            token_start = i + 1;
        }
        i += 1;
    }
    add(&s[token_start.min(s.len())..token_end.unwrap_or(s.len()).max(token_start.min(s.len()))]);
    (value, unknown)
}

/// A string argument.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum StrArg {
    /// A complete string, unescaped into the scratch buffer.
    Complete,
    /// A string cut by `-s N` (`"abc"...`), unescaped as far as it goes.
    Truncated,
    /// `NULL`, an address, or anything else that is not a quoted string.
    NotString,
}

/// Unescapes the quoted string `s` (which must start with `"`) into `out`.
pub(crate) fn parse_string(s: &[u8], out: &mut Vec<u8>) -> StrArg {
    out.clear();
    if s.first() != Some(&b'"') {
        return StrArg::NotString;
    }
    let end = skip_string(s, 0);
    if end < 2 || s[end - 1] != b'"' {
        return StrArg::NotString;
    }
    unescape(&s[1..end - 1], out);
    if s[end..].starts_with(b"...") {
        StrArg::Truncated
    } else {
        StrArg::Complete
    }
}

/// Decodes strace's C-style escapes (`\n`, `\"`, `\\`, `\xHH`, octal `\NNN`) into raw bytes.
pub(crate) fn unescape(s: &[u8], out: &mut Vec<u8>) {
    let mut i = 0;
    while i < s.len() {
        let Some(off) = memchr::memchr(b'\\', &s[i..]) else {
            out.extend_from_slice(&s[i..]);
            return;
        };
        out.extend_from_slice(&s[i..i + off]);
        i += off + 1;
        let Some(&c) = s.get(i) else {
            out.push(b'\\');
            return;
        };
        i += 1;
        match c {
            b'n' => out.push(b'\n'),
            b't' => out.push(b'\t'),
            b'r' => out.push(b'\r'),
            b'v' => out.push(0x0b),
            b'f' => out.push(0x0c),
            b'a' => out.push(0x07),
            b'b' => out.push(0x08),
            b'x' => {
                let mut value = 0u8;
                let mut n = 0;
                while n < 2 && i < s.len() && s[i].is_ascii_hexdigit() {
                    value = value * 16 + hex_value(s[i]);
                    i += 1;
                    n += 1;
                }
                if n == 0 {
                    out.extend_from_slice(b"\\x");
                } else {
                    out.push(value);
                }
            }
            b'0'..=b'7' => {
                let mut value = u32::from(c - b'0');
                let mut n = 1;
                while n < 3 && i < s.len() && (b'0'..=b'7').contains(&s[i]) {
                    value = value * 8 + u32::from(s[i] - b'0');
                    i += 1;
                    n += 1;
                }
                out.push(u8::try_from(value & 0xff).unwrap_or(0));
            }
            other => out.push(other),
        }
    }
}

fn hex_value(c: u8) -> u8 {
    match c {
        b'0'..=b'9' => c - b'0',
        b'a'..=b'f' => c - b'a' + 10,
        b'A'..=b'F' => c - b'A' + 10,
        _ => 0,
    }
}

/// The value after ` = `.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Ret<'a> {
    /// A value, with its `-y` decoration if any (`3</etc/passwd>`).
    Value(i64, Option<&'a [u8]>),
    /// `-1 ENOENT (...)`: the errno name.
    Error(&'a [u8]),
    /// `?` (process gone, or the call will be restarted).
    Unknown,
}

impl Ret<'_> {
    pub(crate) fn is_ok(&self) -> bool {
        matches!(self, Ret::Value(..))
    }

    pub(crate) fn value(&self) -> Option<i64> {
        match self {
            Ret::Value(v, _) => Some(*v),
            _ => None,
        }
    }
}

/// Parses the text after the closing parenthesis: ` = VALUE ...`. `None` if there is no `=`.
pub(crate) fn parse_ret(s: &[u8]) -> Option<Ret<'_>> {
    let i = skip_spaces(s, 0);
    if s.get(i) != Some(&b'=') {
        return None;
    }
    let i = skip_spaces(s, i + 1);
    let rest = &s[i..];
    if rest.first() == Some(&b'?') {
        return Some(Ret::Unknown);
    }
    let token_end = rest
        .iter()
        .position(|&c| c == b' ' || c == b'<')
        .unwrap_or(rest.len());
    let token = &rest[..token_end];
    let value = parse_int(token)?;
    let after = &rest[token_end..];
    if value < 0 {
        let after = trim_start(after);
        if after.first().is_some_and(|c| c.is_ascii_uppercase()) {
            let end = after
                .iter()
                .position(|&c| c == b' ' || c == b'<')
                .unwrap_or(after.len());
            return Some(Ret::Error(&after[..end]));
        }
    }
    let decoration = if after.first() == Some(&b'<') {
        skip_decoration(after, 0).map(|end| &after[1..end - 1])
    } else {
        None
    };
    Some(Ret::Value(value, decoration))
}

fn trim_start(s: &[u8]) -> &[u8] {
    &s[skip_spaces(s, 0)..]
}

/// Finds the value of `key=` among the top-level fields of a `{...}` body.
pub(crate) fn field<'a>(body: &'a [u8], key: &[u8]) -> Option<&'a [u8]> {
    Elements::new(body, b'}').find_map(|element| {
        let rest = element.strip_prefix(key)?;
        rest.strip_prefix(b"=")
    })
}

/// The inside of `{...}` (the element must start with `{`).
pub(crate) fn braces_body(s: &[u8]) -> Option<&[u8]> {
    s.strip_prefix(b"{")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn elements(s: &str) -> Vec<String> {
        Elements::new(s.as_bytes(), b')')
            .map(|e| String::from_utf8_lossy(e).into_owned())
            .collect()
    }

    #[test]
    fn prefixes_in_every_layout() {
        type Case<'a> = (&'a str, bool, Option<u32>, Option<&'a str>, &'a str);
        let cases: &[Case] = &[
            (
                "4976  08:43:27.355417 execve(",
                true,
                Some(4976),
                Some("08:43:27.355417"),
                "execve(",
            ),
            (
                "[pid  5394] 08:43:39.519427 getpid()",
                true,
                Some(5394),
                Some("08:43:39.519427"),
                "getpid()",
            ),
            (
                "08:45:58 brk(NULL)",
                true,
                None,
                Some("08:45:58"),
                "brk(NULL)",
            ),
            (
                "1795423558.460422 exit(0)",
                true,
                None,
                Some("1795423558.460422"),
                "exit(0)",
            ),
            (
                "     0.000410 [  12] [00007f047fdfec47] brk(NULL)",
                true,
                None,
                Some("0.000410"),
                "brk(NULL)",
            ),
            (
                "1795423558 brk(NULL)",
                false,
                None,
                Some("1795423558"),
                "brk(NULL)",
            ),
            (
                "7303  1795423558.460422 +++ killed by SIGKILL +++",
                true,
                Some(7303),
                Some("1795423558.460422"),
                "+++ killed by SIGKILL +++",
            ),
            (
                "[pid  5394] 08:43:39.5 [ Process PID=5394 runs in 32 bit mode. ]",
                true,
                Some(5394),
                Some("08:43:39.5"),
                "[ Process PID=5394 runs in 32 bit mode. ]",
            ),
            (
                "read(3, \"\", 1) = 0",
                true,
                None,
                None,
                "read(3, \"\", 1) = 0",
            ),
            ("3531<sh> brk(NULL)", true, Some(3531), None, "brk(NULL)"),
            (
                "[pid  3542<sh>] 08:43:39.5 brk(NULL)",
                true,
                Some(3542),
                Some("08:43:39.5"),
                "brk(NULL)",
            ),
        ];
        for (line, bare, pid, ts, rest) in cases {
            let p = parse_prefix(line.as_bytes(), *bare);
            assert_eq!(p.pid, *pid, "{line}");
            assert_eq!(p.timestamp, ts.map(str::as_bytes), "{line}");
            assert_eq!(&line[p.rest..], *rest, "{line}");
        }
    }

    #[test]
    fn elements_respect_nesting_strings_decorations_and_comments() {
        assert_eq!(
            elements(r#"AT_FDCWD</tmp/a, b>, "x,\"y)", O_RDONLY) = 3"#),
            ["AT_FDCWD</tmp/a, b>", r#""x,\"y)""#, "O_RDONLY"]
        );
        assert_eq!(
            elements("5<TCP:[127.0.0.1:1->127.0.0.1:2]>, {sa_family=AF_INET, sin_port=htons(80)}, 16) = 0"),
            ["5<TCP:[127.0.0.1:1->127.0.0.1:2]>", "{sa_family=AF_INET, sin_port=htons(80)}", "16"]
        );
        assert_eq!(
            elements("0</dev/null<char 1:3>>, F_GETFD) = 0"),
            ["0</dev/null<char 1:3>>", "F_GETFD"]
        );
        assert_eq!(
            elements("-100 /* AT_FDCWD */, \"/x\", 0x80000 /* O_RDONLY|O_CLOEXEC */) = 3"),
            [
                "-100 /* AT_FDCWD */",
                "\"/x\"",
                "0x80000 /* O_RDONLY|O_CLOEXEC */"
            ]
        );
        assert!(elements(") = 0").is_empty());
        let mut e = Elements::new(b"1, 2) = 5 <0.1>", b')');
        assert_eq!(e.after_close(), Some(&b" = 5 <0.1>"[..]));
        let mut e = Elements::new(b"1, \"unterminated", b')');
        assert_eq!(e.after_close(), None);
        assert!(!e.closed());
    }

    #[test]
    fn numbers_flags_and_strings() {
        assert_eq!(parse_int(b"0644"), Some(0o644));
        assert_eq!(parse_int(b"0x80000"), Some(0x80000));
        assert_eq!(parse_int(b"-100 /* AT_FDCWD */"), Some(-100));
        assert_eq!(parse_int(b"3</etc/passwd>"), Some(3));
        assert_eq!(parse_int(b"0"), Some(0));
        assert_eq!(parse_int(b"0xffffffffffffff9c"), Some(-100));
        assert_eq!(parse_int(b"AT_FDCWD"), None);
        let names = |n: &[u8]| match n {
            b"A" => Some(1),
            b"B" => Some(4),
            _ => None,
        };
        assert_eq!(parse_flags(b"A|B|0x10", names), (0x15, false));
        assert_eq!(parse_flags(b"0x5 /* A|B */", names), (5, false));
        assert_eq!(parse_flags(b"0x1 /* A */|0x4 /* B */", names), (5, false));
        assert_eq!(parse_flags(b"A|ZZZ", names), (1, true));
        let mut out = Vec::new();
        assert_eq!(
            parse_string(br#""a\nb\"c\\d\x41\101\0""#, &mut out),
            StrArg::Complete
        );
        assert_eq!(out, b"a\nb\"c\\dAA\0");
        assert_eq!(
            parse_string(br#""\377\376raw""#, &mut out),
            StrArg::Complete
        );
        assert_eq!(out, b"\xff\xferaw");
        assert_eq!(parse_string(br#""abc"..."#, &mut out), StrArg::Truncated);
        assert_eq!(parse_string(b"NULL", &mut out), StrArg::NotString);
        assert_eq!(parse_string(b"\"open", &mut out), StrArg::NotString);
    }

    #[test]
    fn return_values() {
        assert_eq!(
            parse_ret(b"   = 3</etc/passwd> <0.000004>"),
            Some(Ret::Value(3, Some(&b"/etc/passwd"[..])))
        );
        assert_eq!(
            parse_ret(b" = -1 ENOENT (No such file or directory)"),
            Some(Ret::Error(b"ENOENT"))
        );
        assert_eq!(parse_ret(b" = ?"), Some(Ret::Unknown));
        assert_eq!(parse_ret(b" = ? <unavailable>"), Some(Ret::Unknown));
        assert_eq!(
            parse_ret(b" = 0x7f1258250000"),
            Some(Ret::Value(0x7f12_5825_0000, None))
        );
        assert_eq!(parse_ret(b" = 0 (PER_LINUX)"), Some(Ret::Value(0, None)));
        assert_eq!(
            parse_ret(b" = 1<pipe:[10099]> <0.000020>"),
            Some(Ret::Value(1, Some(&b"pipe:[10099]"[..])))
        );
        assert_eq!(parse_ret(b"garbage"), None);
    }

    #[test]
    fn struct_fields() {
        let body = braces_body(b"{sa_family=AF_UNIX, sun_path=@\"abs\"}").expect("braces");
        assert_eq!(field(body, b"sa_family"), Some(&b"AF_UNIX"[..]));
        assert_eq!(field(body, b"sun_path"), Some(&b"@\"abs\""[..]));
        assert_eq!(field(body, b"nope"), None);
    }
}
