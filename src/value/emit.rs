//! YAML writing that reproduces, byte for byte, what Helm's `toYaml` prints, and that also
//! serves as pack's general Kubernetes-safe YAML writer.
//!
//! Helm's `toYaml` is `sigs.k8s.io/yaml.Marshal`: the value goes through `encoding/json`, is
//! read back by yaml.v2 (so whole numbers become integers again and every map is a Go map),
//! and is written by yaml.v2's emitter, a port of libyaml. This module follows that emitter's
//! rules (checked against helm v4.1.4; the golden cases are in `tests/data/yaml-emit`):
//!
//! * Block style throughout. Nested maps indent by 2; a list that is a map value is not
//!   indented (`key:\n- a`); a map or list inside a list item starts on the item's line
//!   (`- a: 1\n  b: 2`, `- - a`); empty collections are `{}` and `[]`.
//! * A string is double-quoted when yaml.v2 would read it back, unquoted, as something other
//!   than a string: the YAML 1.1 booleans and nulls in their listed spellings only (`yes`,
//!   `Yes`, `YES`, but not `yEs`), Go-syntax integers within 64 bits (`0x1F`, `0o17`, `017`,
//!   `1_000`, `+1`), YAML-style floats that do not overflow (`1.`, `.5`, `1e3`, but not
//!   `1e400`, `NaN` or `inf`), `.inf`/`.nan` spellings, dates and times Go's `time.Parse`
//!   accepts in yaml.v2's four layouts (`2001-12-14`, not `2001-02-30`), and base-60 numbers
//!   (`1:20`). Otherwise it is plain unless libyaml's scalar analysis forbids that (a leading
//!   indicator such as `-␠`, `?␠`, `:␠`, `#`, `'`, `&`, `` ` ``; `:␠` or `␠#` inside; `---`
//!   or `...` at the start; leading or trailing space), then single-quoted (`'` doubled).
//!   Double quotes carry what single quotes cannot: characters outside yaml.v2's printable
//!   set (tab, CR, C0/C1 controls, U+FEFF, everything beyond U+FFFF such as emoji, written as
//!   `\t`, `\r`, `\e`, `\x01`, `\uFEFF`, `\U0001F600`), and text starting with U+FEFF,
//!   where every character is escaped.
//! * A string holding `\n` is a literal block: `|` for one trailing line break, `|-` for
//!   none, `|+` for more, with an indentation indicator (`|2-`) when it starts with a space
//!   or line break. It falls back to double quotes when it holds a non-printable character
//!   or a space right before a line break, or ends with a space.
//! * Folding at the line width (Helm: 80): in a plain or quoted scalar, a space is written
//!   as a line break plus the scalar's indentation when the line already holds more than
//!   the width's characters and no space comes right before it. In plain and single-quoted
//!   scalars no space may come right after it either; in quoted ones it is not the first or
//!   last character. Characters count one each, whatever their width or byte length; an
//!   escape counts its written length. A continuation line is indented 2 past the owning
//!   key or `-` (2 for a top-level scalar); a double-quoted one starts with `\` when a space
//!   follows the break. Literal blocks and keys never fold; a long word never breaks.
//! * Keys are sorted by yaml.v2's order (runs of digits compare by value, letters after
//!   everything else). Keys longer than 128 bytes, or holding any line break character, are
//!   written as `? key` then `: value` (and such keys may fold or be literal blocks).
//! * Floats print as Go does after the JSON round trip: whole numbers as integers (`3`,
//!   `1000000`, `10000000000000000000`), everything else in Go's shortest `%g` form (`1.5`,
//!   `1.5e-07`, `1.23456789125e+08`, `1e+21`, ties to the even digit).
//!
//! [`EmitOptions::kubernetes`] keeps keys in insertion order, never folds, and also quotes
//! what yaml.v2 keeps a string but more lenient readers might not (see
//! [`EmitOptions::strict_quoting`]).

use super::Value;

/// How [`emit`] writes a document.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EmitOptions {
    /// Sort map keys the way yaml.v2 sorts Go map keys (numbers inside keys compare by value:
    /// `a2` before `a10`). Helm's `toYaml` does; pack's manifest writer keeps insertion order.
    pub sort_keys: bool,
    /// `Some(80)` folds long plain and quoted scalars as yaml.v2 does at its default width
    /// (Helm's behaviour); `None` never folds.
    pub line_width: Option<usize>,
    /// Print floats as `sigs.k8s.io/yaml` does after its JSON round trip: whole floats as
    /// integers, others in Go's shortest `%g` form. Without it floats print in Go's `%g` form
    /// as yaml.v2 prints a float64 it is handed directly (`3`, `1e+06`, `1.5`).
    pub go_floats: bool,
    /// Also quote what yaml.v2 keeps a string but other YAML readers (pack's own among them)
    /// may not: a `<<` map key (a merge key to YAML 1.1 readers, yaml.v2 included, so Helm
    /// cannot read its own output back), booleans and nulls in any letter case (`yEs`,
    /// `nULL`), number-like text (`1e400`, `NaN`, `inf`), and text holding U+2028 or U+2029
    /// (line breaks in YAML 1.1, ordinary characters in YAML 1.2). Off in the Helm preset,
    /// which must print what `toYaml` prints.
    pub strict_quoting: bool,
}

impl EmitOptions {
    /// Helm's `toYaml`: sorted keys, folding at 80 columns, Go float formatting.
    pub fn helm() -> Self {
        EmitOptions {
            sort_keys: true,
            line_width: Some(80),
            go_floats: true,
            strict_quoting: false,
        }
    }

    /// pack's manifest writer: keys in insertion order, no folding, Go float formatting,
    /// strict quoting.
    pub fn kubernetes() -> Self {
        EmitOptions {
            sort_keys: false,
            line_width: None,
            go_floats: true,
            strict_quoting: true,
        }
    }
}

impl Default for EmitOptions {
    fn default() -> Self {
        EmitOptions::kubernetes()
    }
}

/// Writes one YAML document, without a leading `---`. The text ends with a line break (a
/// trailing `|+` block keeps its extra ones, as yaml.v2 writes them).
pub fn emit(value: &Value, opts: &EmitOptions) -> String {
    let mut e = Emitter::new(opts);
    e.node(value, Context::Root);
    // Document end: finish the last line.
    e.write_indent();
    e.out
}

/// Exactly what Helm's `toYaml` returns for this value (the document with its final line
/// break trimmed).
///
/// Helm sees the value after a trip through JSON, and where that trip changes or rejects the
/// value, so does this function. Helm's `toYaml` returns the empty string when a float is
/// NaN or infinite (JSON cannot say them); when a string or key holds a character yaml.v2
/// refuses to read (U+007F–U+0084, U+0086–U+009F, U+FFFE, U+FFFF); when a key holds U+0085
/// (NEL) or its JSON form is longer than 1024 characters (yaml.v2's simple-key limit); and
/// when a NEL in a string is followed directly by `---␠` or `...␠`. Elsewhere a raw NEL is
/// folded by yaml.v2's reading of the JSON string: one NEL with the spaces around it becomes
/// a space, n > 1 of them become n-1 line breaks.
///
/// Integers print exactly. Helm itself holds every number from values as a float64, so an
/// integer beyond 2^53 prints as its nearest float64 there (`12345678901234567000`) but
/// exactly here; keep such numbers `Float` for Helm's digits.
pub fn to_yaml_helm(value: &Value) -> String {
    let Some(v) = through_json(value) else {
        return String::new();
    };
    let mut s = emit(&v, &EmitOptions::helm());
    if s.ends_with('\n') {
        s.pop();
    }
    s
}

// ---------------------------------------------------------------------------------------
// Helm's JSON round trip
// ---------------------------------------------------------------------------------------

/// The value as yaml.v2 reads it back from `json.Marshal`'s text, or `None` where that fails.
fn through_json(v: &Value) -> Option<Value> {
    Some(match v {
        Value::Float(f) if !f.is_finite() => return None,
        Value::String(s) => Value::String(json_string_through_yaml(s)?),
        Value::List(l) => Value::List(l.iter().map(through_json).collect::<Option<_>>()?),
        Value::Map(m) => Value::Map(
            m.iter()
                .map(|(k, v)| Some((json_key_through_yaml(k)?, through_json(v)?)))
                .collect::<Option<_>>()?,
        ),
        other => other.clone(),
    })
}

/// A map key as yaml.v2 reads it from JSON. The JSON key is a simple key to yaml.v2's
/// scanner, which cannot span lines (a raw U+0085 is a line break) and must end within 1024
/// characters of its start.
fn json_key_through_yaml(k: &str) -> Option<String> {
    if k.contains('\u{85}') || json_quoted_len(k) > 1024 {
        return None;
    }
    json_string_through_yaml(k)
}

/// Characters in `encoding/json`'s quoted form of a string.
fn json_quoted_len(s: &str) -> usize {
    2 + s
        .chars()
        .map(|c| match c {
            '"' | '\\' | '\n' | '\r' | '\t' | '\u{8}' | '\u{c}' => 2,
            '\0'..='\u{1f}' | '<' | '>' | '&' | '\u{2028}' | '\u{2029}' => 6,
            _ => 1,
        })
        .sum::<usize>()
}

/// A string as yaml.v2 reads the double-quoted JSON string `json.Marshal` wrote for it.
/// JSON escapes control characters, `"`, `\`, U+2028 and U+2029; every other character
/// reaches yaml.v2 raw, where U+0085 is a line break inside a quoted scalar (and folded)
/// and some characters are refused outright.
fn json_string_through_yaml(s: &str) -> Option<String> {
    if s.chars()
        .any(|c| matches!(c as u32, 0x7F..=0x84 | 0x86..=0x9F | 0xFFFE | 0xFFFF))
    {
        return None;
    }
    if !s.contains('\u{85}') {
        return Some(s.to_owned());
    }
    let chars: Vec<char> = s.chars().collect();
    let mut out = String::with_capacity(s.len());
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        if c != ' ' && c != '\u{85}' {
            out.push(c);
            i += 1;
            continue;
        }
        // A run of raw spaces and NELs.
        let start = i;
        while i < chars.len() && (chars[i] == ' ' || chars[i] == '\u{85}') {
            i += 1;
        }
        let run = &chars[start..i];
        let breaks = run.iter().filter(|&&c| c == '\u{85}').count();
        match breaks {
            0 => out.extend(run),
            1 => out.push(' '),
            n => out.extend(std::iter::repeat_n('\n', n - 1)),
        }
        // Right after a line break the scanner is at column 0, where `---` or `...`
        // followed by a blank is a document marker and an error inside a quoted scalar.
        if breaks > 0 && run.last() == Some(&'\u{85}') {
            let rest = &chars[i..];
            if rest.len() >= 3
                && (rest[..3] == ['-', '-', '-'] || rest[..3] == ['.', '.', '.'])
                && rest.get(3).is_some_and(|&c| c == ' ' || c == '\u{85}')
            {
                return None;
            }
        }
    }
    Some(out)
}

// ---------------------------------------------------------------------------------------
// Numbers
// ---------------------------------------------------------------------------------------

/// Go's `strconv.FormatFloat(x, 'g', -1, 64)`: shortest digits, exponent form when the
/// decimal exponent is below -4 or at least 6 (`1e+06`, `1.5e-07`), at least two exponent
/// digits.
fn go_format_g(x: f64) -> String {
    if x.is_nan() {
        return "NaN".into();
    }
    if x.is_infinite() {
        return if x > 0.0 { "+Inf" } else { "-Inf" }.into();
    }
    let sign = if x.is_sign_negative() { "-" } else { "" };
    if x == 0.0 {
        return format!("{sign}0");
    }
    let (digits, exp) = shortest_digits(x.abs());
    if !(-4..6).contains(&exp) {
        let (first, rest) = digits.split_at(1);
        let frac = if rest.is_empty() {
            String::new()
        } else {
            format!(".{rest}")
        };
        let esign = if exp < 0 { '-' } else { '+' };
        return format!("{sign}{first}{frac}e{esign}{:02}", exp.abs());
    }
    let point = exp + 1; // digits before the decimal point
    let nd = digits.len() as i32;
    let body = if point <= 0 {
        format!("0.{}{digits}", "0".repeat((-point) as usize))
    } else if point >= nd {
        format!("{digits}{}", "0".repeat((point - nd) as usize))
    } else {
        let (int, frac) = digits.split_at(point as usize);
        format!("{int}.{frac}")
    };
    format!("{sign}{body}")
}

/// The shortest decimal digits that read back as `x` (positive, finite, non-zero) and the
/// decimal exponent of the first one. Where two candidates are equally close to `x`, Go
/// takes the one ending in an even digit; Rust's formatter may take the other.
fn shortest_digits(x: f64) -> (String, i32) {
    let split = |sci: &str| -> (String, i32) {
        let (mantissa, exp) = sci.split_once('e').unwrap_or((sci, "0"));
        let digits = mantissa.chars().filter(|c| *c != '.').collect();
        (digits, exp.parse().unwrap_or(0))
    };
    let (digits, exp) = split(&format!("{x:e}"));
    // A tie needs the digits to be about as fine as the float's spacing: 15+ digits.
    if digits.len() < 15 {
        return (digits, exp);
    }
    // The exact value, every digit (no double needs more than 767 significant ones).
    let (exact, exact_exp) = split(&format!("{x:.800e}"));
    let exact = exact.trim_end_matches('0');
    let n = digits.len();
    if exact_exp != exp || exact.len() != n + 1 || !exact.ends_with('5') {
        return (digits, exp);
    }
    // Exactly halfway between the n-digit candidates below and above: take the even one.
    let below = &exact[..n];
    if below.as_bytes()[n - 1] % 2 == 0 {
        return (below.trim_end_matches('0').to_owned(), exp);
    }
    // Round up in the last place; a carry out of the first digit adds one.
    let mut up: Vec<u8> = below.bytes().collect();
    let mut exp = exp;
    match up.iter().rposition(|&d| d != b'9') {
        Some(i) => {
            up[i] += 1;
            up.truncate(i + 1);
        }
        None => {
            up = vec![b'1'];
            exp += 1;
        }
    }
    (String::from_utf8(up).unwrap_or_default(), exp)
}

/// A float as yaml.v2 prints it: `.inf`/`-.inf`/`.nan` for the non-finite ones.
fn format_float(x: f64, go_floats: bool) -> String {
    if x.is_nan() {
        return ".nan".into();
    }
    if x.is_infinite() {
        return if x > 0.0 { ".inf" } else { "-.inf" }.into();
    }
    if go_floats && x.fract() == 0.0 && x.abs() < 1e21 {
        // encoding/json writes a whole float without a fraction (shortest digits padded
        // with zeros); yaml.v2 reads that back as an int64 or uint64 when it fits.
        if x == 0.0 {
            return "0".into();
        }
        let (digits, exp) = shortest_digits(x.abs());
        let zeros = usize::try_from(exp + 1)
            .unwrap_or(0)
            .saturating_sub(digits.len());
        let text = format!("{digits}{}", "0".repeat(zeros));
        if x < 0.0 {
            if let Ok(i) = format!("-{text}").parse::<i64>() {
                return i.to_string();
            }
        } else if text.parse::<u64>().is_ok() {
            return text;
        }
    }
    go_format_g(x)
}

// ---------------------------------------------------------------------------------------
// What a plain scalar means to yaml.v2 (its `resolve`)
// ---------------------------------------------------------------------------------------

/// True when yaml.v2 reads `s`, written plain, back as this string; false when it would be
/// a bool, null, number, timestamp or merge key, or is a YAML 1.1 base-60 number (quoted for
/// other readers).
fn plain_reads_as_string(s: &str) -> bool {
    resolves_to_string(s) && !is_base60_float(s)
}

fn resolves_to_string(s: &str) -> bool {
    let Some(&first) = s.as_bytes().first() else {
        return false; // null
    };
    match first {
        b'y' | b'Y' | b'n' | b'N' | b't' | b'T' | b'f' | b'F' | b'o' | b'O' | b'~' => {
            !is_resolve_word(s)
        }
        b'.' => !is_resolve_word(s) && go_parse_float(s).is_none(),
        b'+' | b'-' | b'0'..=b'9' => !is_resolve_word(s) && !number_or_timestamp(s),
        _ => true,
    }
}

/// Plain text yaml.v2 keeps a string but more lenient YAML 1.1 readers may not: its special
/// words in any letter case, and anything a float parser accepts (`1e400`, `NaN`, `inf`).
fn misread_by_lenient_readers(s: &str) -> bool {
    let lower = s.to_ascii_lowercase();
    is_resolve_word(&lower) || s.parse::<f64>().is_ok()
}

/// Text starting or ending with a space character other than ASCII space (U+00A0, U+3000,
/// ...): printable to yaml.v2, so plain, but some readers trim it.
fn edge_is_unicode_space(s: &str) -> bool {
    let odd_space = |c: char| !c.is_ascii() && c.is_whitespace();
    s.starts_with(odd_space) || s.ends_with(odd_space)
}

/// yaml.v2's table of special plain words (booleans, nulls, infinities, NaN).
fn is_resolve_word(s: &str) -> bool {
    matches!(
        s,
        "y" | "Y"
            | "yes"
            | "Yes"
            | "YES"
            | "true"
            | "True"
            | "TRUE"
            | "on"
            | "On"
            | "ON"
            | "n"
            | "N"
            | "no"
            | "No"
            | "NO"
            | "false"
            | "False"
            | "FALSE"
            | "off"
            | "Off"
            | "OFF"
            | "~"
            | "null"
            | "Null"
            | "NULL"
            | ".nan"
            | ".NaN"
            | ".NAN"
            | ".inf"
            | ".Inf"
            | ".INF"
            | "+.inf"
            | "+.Inf"
            | "+.INF"
            | "-.inf"
            | "-.Inf"
            | "-.INF"
    )
}

/// For a plain scalar starting with a sign or digit: a timestamp, an integer (Go syntax,
/// `_` ignored, within 64 bits), or a YAML-style float that does not overflow. (Helm's
/// yaml.v2 has no big integers: `0x1FFFFFFFFFFFFFFFFF` and `1e400` stay strings.)
fn number_or_timestamp(s: &str) -> bool {
    if is_timestamp(s) {
        return true;
    }
    let plain: String = s.chars().filter(|&c| c != '_').collect();
    if go_parse_int(&plain, 0).is_some() {
        return true;
    }
    if go_parse_uint(&plain, 0).is_some() {
        return true;
    }
    if is_yaml_style_float(&plain) && go_parse_float(&plain).is_some() {
        return true;
    }
    if let Some(bits) = plain.strip_prefix("0b") {
        if go_parse_int(bits, 2).is_some() || go_parse_uint(bits, 2).is_some() {
            return true;
        }
    } else if let Some(bits) = plain.strip_prefix("-0b")
        && go_parse_int(&format!("-{bits}"), 2).is_some()
    {
        return true;
    }
    false
}

/// Go's `strconv.ParseUint(s, base, 64)` for base 0 (prefixes `0x`, `0o`, `0b`, a leading
/// `0` for octal) or an explicit base; underscores are not expected here.
fn go_parse_uint(s: &str, base: u32) -> Option<u64> {
    if s.is_empty() {
        return None;
    }
    let (base, digits) = if base == 0 {
        split_base_prefix(s)
    } else {
        (base, s)
    };
    digits.chars().try_fold(0u64, |n, c| {
        let d = c.to_digit(base)?;
        n.checked_mul(u64::from(base))?.checked_add(u64::from(d))
    })
}

/// Base-0 prefix detection as Go does it: `0b`/`0o`/`0x` (either case) when at least one
/// character follows, else a leading `0` means octal.
fn split_base_prefix(s: &str) -> (u32, &str) {
    let b = s.as_bytes();
    if b.first() != Some(&b'0') {
        return (10, s);
    }
    if b.len() >= 3 {
        match b[1].to_ascii_lowercase() {
            b'b' => return (2, &s[2..]),
            b'o' => return (8, &s[2..]),
            b'x' => return (16, &s[2..]),
            _ => {}
        }
    }
    (8, &s[1..])
}

/// Go's `strconv.ParseInt(s, base, 64)`.
fn go_parse_int(s: &str, base: u32) -> Option<i64> {
    let (neg, rest) = match s.as_bytes().first() {
        Some(b'+') => (false, &s[1..]),
        Some(b'-') => (true, &s[1..]),
        _ => (false, s),
    };
    let u = go_parse_uint(rest, base)?;
    if neg {
        0i64.checked_sub_unsigned(u)
    } else {
        i64::try_from(u).ok()
    }
}

/// yaml.v2's float pattern `^[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?$`.
fn is_yaml_style_float(s: &str) -> bool {
    let b = s.as_bytes();
    let mut i = 0;
    if matches!(b.first(), Some(b'+' | b'-')) {
        i += 1;
    }
    let digits = |i: &mut usize| {
        let start = *i;
        while *i < b.len() && b[*i].is_ascii_digit() {
            *i += 1;
        }
        *i - start
    };
    if b.get(i) == Some(&b'.') {
        i += 1;
        if digits(&mut i) == 0 {
            return false;
        }
    } else {
        if digits(&mut i) == 0 {
            return false;
        }
        if b.get(i) == Some(&b'.') {
            i += 1;
            digits(&mut i);
        }
    }
    if matches!(b.get(i), Some(b'e' | b'E')) {
        i += 1;
        if matches!(b.get(i), Some(b'+' | b'-')) {
            i += 1;
        }
        if digits(&mut i) == 0 {
            return false;
        }
    }
    i == b.len()
}

/// Go's `strconv.ParseFloat(s, 64)` for decimal text (Go-syntax underscores allowed between
/// digits), `None` on a syntax error or overflow to infinity. Only decimal forms matter:
/// callers pass text starting with `.` or matching [`is_yaml_style_float`].
fn go_parse_float(s: &str) -> Option<f64> {
    let b = s.as_bytes();
    let mut i = 0;
    if matches!(b.first(), Some(b'+' | b'-')) {
        i += 1;
    }
    let mut mantissa_digits = 0;
    let mut seen_point = false;
    while i < b.len() {
        match b[i] {
            b'0'..=b'9' => mantissa_digits += 1,
            b'_' => {}
            b'.' if !seen_point => seen_point = true,
            _ => break,
        }
        i += 1;
    }
    if mantissa_digits == 0 {
        return None;
    }
    if matches!(b.get(i), Some(b'e' | b'E')) {
        i += 1;
        if matches!(b.get(i), Some(b'+' | b'-')) {
            i += 1;
        }
        let start = i;
        while i < b.len() && (b[i].is_ascii_digit() || b[i] == b'_') {
            i += 1;
        }
        if !b[start..i].iter().any(u8::is_ascii_digit) {
            return None;
        }
    }
    if i != b.len() || (s.contains('_') && !go_underscore_ok(s)) {
        return None;
    }
    let clean: String = s.chars().filter(|&c| c != '_').collect();
    clean.parse::<f64>().ok().filter(|f| f.is_finite())
}

/// Go's rule for `_` in number literals: only between digits.
fn go_underscore_ok(s: &str) -> bool {
    let s = s.strip_prefix(['+', '-']).unwrap_or(s);
    let mut saw = '^';
    for c in s.chars() {
        if c.is_ascii_digit() {
            saw = '0';
        } else if c == '_' {
            if saw != '0' {
                return false;
            }
            saw = '_';
        } else {
            if saw == '_' {
                return false;
            }
            saw = '!';
        }
    }
    saw != '_'
}

/// yaml.v2's timestamp forms, parsed as Go's `time.Parse` does with the layouts
/// `2006-1-2T15:4:5.999999999Z07:00`, the same with `t`, `2006-1-2 15:4:5.999999999` and
/// `2006-1-2`.
fn is_timestamp(s: &str) -> bool {
    let b = s.as_bytes();
    let year_digits = b.iter().take_while(|c| c.is_ascii_digit()).count();
    if year_digits != 4 || b.get(4) != Some(&b'-') {
        return false;
    }
    let year: i64 = s[..4].parse().unwrap_or(0);
    let mut p = TimeParser { b, i: 5 };
    let Some(month) = p.num() else { return false };
    if !(1..=12).contains(&month) || !p.lit(b'-') {
        return false;
    }
    let Some(day) = p.num() else { return false };
    if day < 1 || day > days_in_month(month, year) {
        return false;
    }
    if p.i == b.len() {
        return true; // 2006-1-2
    }
    let with_zone = match b[p.i] {
        b'T' | b't' => {
            p.i += 1;
            true
        }
        b' ' => {
            while p.b.get(p.i) == Some(&b' ') {
                p.i += 1;
            }
            false
        }
        _ => return false,
    };
    let (Some(h), true, Some(m), true, Some(sec)) =
        (p.num(), p.lit(b':'), p.num(), p.lit(b':'), p.num())
    else {
        return false;
    };
    if h > 23 || m > 59 || sec > 59 {
        return false;
    }
    // Optional fraction: `.` or `,` and at least one digit.
    if matches!(b.get(p.i), Some(b'.' | b',')) && b.get(p.i + 1).is_some_and(u8::is_ascii_digit) {
        p.i += 1;
        while b.get(p.i).is_some_and(u8::is_ascii_digit) {
            p.i += 1;
        }
    }
    if with_zone {
        if b.get(p.i) == Some(&b'Z') {
            p.i += 1;
        } else {
            // ±hh:mm
            let z = &b[p.i..];
            if z.len() < 6
                || z[3] != b':'
                || !matches!(z[0], b'+' | b'-')
                || !z[1..3].iter().all(u8::is_ascii_digit)
                || !z[4..6].iter().all(u8::is_ascii_digit)
            {
                return false;
            }
            let zh = (z[1] - b'0') * 10 + (z[2] - b'0');
            let zm = (z[4] - b'0') * 10 + (z[5] - b'0');
            if zh > 24 || zm > 60 {
                return false;
            }
            p.i += 6;
        }
    }
    p.i == b.len()
}

struct TimeParser<'a> {
    b: &'a [u8],
    i: usize,
}

impl TimeParser<'_> {
    /// One or two digits (Go's non-fixed `getnum`).
    fn num(&mut self) -> Option<i64> {
        let d0 = *self.b.get(self.i).filter(|c| c.is_ascii_digit())?;
        self.i += 1;
        let mut n = i64::from(d0 - b'0');
        if let Some(&d1) = self.b.get(self.i).filter(|c| c.is_ascii_digit()) {
            self.i += 1;
            n = n * 10 + i64::from(d1 - b'0');
        }
        Some(n)
    }

    fn lit(&mut self, c: u8) -> bool {
        if self.b.get(self.i) == Some(&c) {
            self.i += 1;
            true
        } else {
            false
        }
    }
}

fn days_in_month(month: i64, year: i64) -> i64 {
    match month {
        2 if year % 4 == 0 && (year % 100 != 0 || year % 400 == 0) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// YAML 1.1 base-60 numbers (`1:20`, `-1:30:00.5`), which yaml.v2 quotes on output:
/// `^[-+]?[0-9][0-9_]*(?::[0-5]?[0-9])+(?:\.[0-9_]*)?$`.
fn is_base60_float(s: &str) -> bool {
    let b = s.as_bytes();
    let mut i = 0;
    if matches!(b.first(), Some(b'+' | b'-')) {
        i += 1;
    }
    if !b.get(i).is_some_and(u8::is_ascii_digit) {
        return false;
    }
    while b.get(i).is_some_and(|c| c.is_ascii_digit() || *c == b'_') {
        i += 1;
    }
    let mut groups = 0;
    while b.get(i) == Some(&b':') {
        i += 1;
        match (b.get(i), b.get(i + 1)) {
            (Some(b'0'..=b'5'), Some(b'0'..=b'9')) => i += 2,
            (Some(b'0'..=b'9'), _) => i += 1,
            _ => return false,
        }
        groups += 1;
    }
    if groups == 0 {
        return false;
    }
    if b.get(i) == Some(&b'.') {
        i += 1;
        while b.get(i).is_some_and(|c| c.is_ascii_digit() || *c == b'_') {
            i += 1;
        }
    }
    i == b.len()
}

// ---------------------------------------------------------------------------------------
// Key order
// ---------------------------------------------------------------------------------------

/// yaml.v2's order for string map keys: letters after everything else and compared by code
/// point, runs of digits compared by numeric value, shorter keys first on a common prefix.
fn go_key_less(a: &str, b: &str) -> bool {
    let ar: Vec<char> = a.chars().collect();
    let br: Vec<char> = b.chars().collect();
    for i in 0..ar.len().min(br.len()) {
        if ar[i] == br[i] {
            continue;
        }
        let al = is_go_letter(ar[i]);
        let bl = is_go_letter(br[i]);
        if al && bl {
            return ar[i] < br[i];
        }
        if al || bl {
            return bl;
        }
        let mut an: i64 = 0;
        let mut bn: i64 = 0;
        if ar[i] == '0' || br[i] == '0' {
            // A zero continuing a number with a non-zero digit before it counts as part of
            // that number, not as a leading zero.
            let mut j = i;
            while j > 0 && is_go_digit(ar[j - 1]) {
                j -= 1;
                if ar[j] != '0' {
                    an = 1;
                    bn = 1;
                    break;
                }
            }
        }
        let mut ai = i;
        while ai < ar.len() && is_go_digit(ar[ai]) {
            an = an.wrapping_mul(10).wrapping_add(ar[ai] as i64 - '0' as i64);
            ai += 1;
        }
        let mut bi = i;
        while bi < br.len() && is_go_digit(br[bi]) {
            bn = bn.wrapping_mul(10).wrapping_add(br[bi] as i64 - '0' as i64);
            bi += 1;
        }
        if an != bn {
            return an < bn;
        }
        if ai != bi {
            return ai < bi;
        }
        return ar[i] < br[i];
    }
    ar.len() < br.len()
}

/// Go's `unicode.IsLetter` (exact for ASCII; Unicode's alphabetic property elsewhere).
fn is_go_letter(c: char) -> bool {
    if c.is_ascii() {
        c.is_ascii_alphabetic()
    } else {
        c.is_alphabetic()
    }
}

/// Go's `unicode.IsDigit` (exact for ASCII; Unicode's numeric property elsewhere).
fn is_go_digit(c: char) -> bool {
    if c.is_ascii() {
        c.is_ascii_digit()
    } else {
        c.is_numeric()
    }
}

/// Sorts keys with [`go_key_less`], deterministically. Go sorts the keys in the random order
/// it iterates a map, and yaml.v2's order is not transitive for some digit-bearing keys
/// (`1a` < `01` < `10` < `1a`), so for those Helm's own output varies from run to run; for
/// all others this is Helm's order. Insertion sort for small maps, merge sort for large
/// ones, neither of which panics on an inconsistent order.
fn sort_go_keys(keys: &mut [&String]) {
    if keys.len() <= 12 {
        for i in 1..keys.len() {
            let mut j = i;
            while j > 0 && go_key_less(keys[j], keys[j - 1]) {
                keys.swap(j, j - 1);
                j -= 1;
            }
        }
        return;
    }
    let mid = keys.len() / 2;
    sort_go_keys(&mut keys[..mid]);
    sort_go_keys(&mut keys[mid..]);
    let mut merged = Vec::with_capacity(keys.len());
    let (mut i, mut j) = (0, mid);
    while i < mid && j < keys.len() {
        if go_key_less(keys[j], keys[i]) {
            merged.push(keys[j]);
            j += 1;
        } else {
            merged.push(keys[i]);
            i += 1;
        }
    }
    merged.extend_from_slice(&keys[i..mid]);
    merged.extend_from_slice(&keys[j..]);
    keys.copy_from_slice(&merged);
}

// ---------------------------------------------------------------------------------------
// Scalar analysis
// ---------------------------------------------------------------------------------------

/// yaml.v2's printable set: LF, printable ASCII, U+00A0–U+D7FF, U+E000–U+FFFD except the
/// BOM. Everything else (tabs, CR, DEL, C1 controls, characters beyond U+FFFF) must be
/// escaped, so only double quotes can carry it.
fn is_printable(c: char) -> bool {
    matches!(c as u32, 0x0A | 0x20..=0x7E | 0xA0..=0xD7FF | 0xE000..=0xFFFD) && c != '\u{FEFF}'
}

fn is_break(c: char) -> bool {
    matches!(c, '\r' | '\n' | '\u{85}' | '\u{2028}' | '\u{2029}')
}

fn is_blankz(c: char) -> bool {
    c == ' ' || c == '\t' || c == '\0' || is_break(c)
}

/// Which block-context styles can carry a scalar.
#[derive(Debug)]
struct Analysis {
    multiline: bool,
    plain_allowed: bool,
    single_quoted_allowed: bool,
    block_allowed: bool,
}

fn analyze(chars: &[char]) -> Analysis {
    if chars.is_empty() {
        return Analysis {
            multiline: false,
            plain_allowed: true,
            single_quoted_allowed: true,
            block_allowed: false,
        };
    }
    let mut indicators = chars.starts_with(&['-', '-', '-']) || chars.starts_with(&['.', '.', '.']);
    let mut line_breaks = false;
    let mut special = false;
    let (mut leading_space, mut leading_break) = (false, false);
    let (mut trailing_space, mut trailing_break) = (false, false);
    let (mut break_space, mut space_break) = (false, false);
    let (mut previous_space, mut previous_break) = (false, false);
    let mut preceded_by_whitespace = true;
    let n = chars.len();
    for (i, &c) in chars.iter().enumerate() {
        let followed_by_whitespace = i + 1 >= n || chars[i + 1] == ' ' || chars[i + 1] == '\t';
        if i == 0 {
            match c {
                '#' | ',' | '[' | ']' | '{' | '}' | '&' | '*' | '!' | '|' | '>' | '\'' | '"'
                | '%' | '@' | '`' => indicators = true,
                '?' | ':' | '-' if followed_by_whitespace => indicators = true,
                _ => {}
            }
        } else {
            match c {
                ':' if followed_by_whitespace => indicators = true,
                '#' if preceded_by_whitespace => indicators = true,
                _ => {}
            }
        }
        if !is_printable(c) {
            special = true;
        }
        if c == ' ' {
            leading_space |= i == 0;
            trailing_space |= i + 1 == n;
            break_space |= previous_break;
            previous_space = true;
            previous_break = false;
        } else if is_break(c) {
            line_breaks = true;
            leading_break |= i == 0;
            trailing_break |= i + 1 == n;
            space_break |= previous_space;
            previous_space = false;
            previous_break = true;
        } else {
            previous_space = false;
            previous_break = false;
        }
        preceded_by_whitespace = is_blankz(c);
    }
    let mut a = Analysis {
        multiline: line_breaks,
        plain_allowed: true,
        single_quoted_allowed: true,
        block_allowed: true,
    };
    if leading_space || leading_break || trailing_space || trailing_break {
        a.plain_allowed = false;
    }
    if trailing_space {
        a.block_allowed = false;
    }
    if break_space {
        a.plain_allowed = false;
        a.single_quoted_allowed = false;
    }
    if space_break || special {
        a.plain_allowed = false;
        a.single_quoted_allowed = false;
        a.block_allowed = false;
    }
    if line_breaks || indicators {
        a.plain_allowed = false;
    }
    a
}

// ---------------------------------------------------------------------------------------
// The emitter
// ---------------------------------------------------------------------------------------

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Style {
    Plain,
    Single,
    Double,
    Literal,
}

/// Where a node sits, which decides its indentation and what styles it may take.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Context {
    Root,
    SequenceItem,
    MappingValue,
    SimpleKey,
    ComplexKey,
}

const BEST_INDENT: i64 = 2;
const MAX_SIMPLE_KEY_BYTES: usize = 128;

struct Emitter<'o> {
    opts: &'o EmitOptions,
    best_width: usize,
    out: String,
    /// Characters written on the current line.
    column: usize,
    indent: i64,
    indents: Vec<i64>,
    /// The last character written was whitespace (or nothing yet on the line).
    whitespace: bool,
    /// Only indentation (and indicators like `- `) written on the current line so far.
    indention: bool,
}

impl<'o> Emitter<'o> {
    fn new(opts: &'o EmitOptions) -> Self {
        Emitter {
            opts,
            best_width: opts.line_width.unwrap_or(usize::MAX),
            out: String::new(),
            column: 0,
            indent: -1,
            indents: Vec::new(),
            whitespace: true,
            indention: true,
        }
    }

    fn node(&mut self, v: &Value, ctx: Context) {
        match v {
            Value::Null => self.scalar("null", Style::Plain, ctx),
            Value::Bool(b) => self.scalar(if *b { "true" } else { "false" }, Style::Plain, ctx),
            Value::Int(i) => self.scalar(&i.to_string(), Style::Plain, ctx),
            Value::Float(f) => {
                self.scalar(&format_float(*f, self.opts.go_floats), Style::Plain, ctx)
            }
            Value::String(s) => self.string(s, ctx),
            Value::List(items) if items.is_empty() => self.empty_flow("[]"),
            Value::Map(m) if m.is_empty() => self.empty_flow("{}"),
            Value::List(items) => self.sequence(items, ctx),
            Value::Map(m) => self.mapping(m),
        }
    }

    fn string(&mut self, s: &str, ctx: Context) {
        let is_key = matches!(ctx, Context::SimpleKey | Context::ComplexKey);
        let strict = self.opts.strict_quoting;
        let style = if strict && s.contains(['\u{2028}', '\u{2029}']) {
            Style::Double
        } else if s.contains('\n') {
            Style::Literal
        } else if strict && (is_key && s == "<<" || misread_by_lenient_readers(s)) {
            Style::Double
        } else if strict && edge_is_unicode_space(s) {
            Style::Single
        } else if plain_reads_as_string(s) {
            Style::Plain
        } else {
            Style::Double
        };
        self.scalar(s, style, ctx);
    }

    // -- output primitives -------------------------------------------------------------

    fn put(&mut self, c: char) {
        self.out.push(c);
        self.column += 1;
    }

    fn put_break(&mut self) {
        self.out.push('\n');
        self.column = 0;
    }

    /// Writes a line break from the text: `\n` as the output line break, others as they are.
    fn write_break(&mut self, c: char) {
        if c == '\n' {
            self.put_break();
        } else {
            self.out.push(c);
            self.column = 0;
        }
    }

    /// Starts a new line at the current indentation unless already there.
    fn write_indent(&mut self) {
        let indent = self.indent.max(0) as usize;
        if !self.indention || self.column > indent || (self.column == indent && !self.whitespace) {
            self.put_break();
        }
        while self.column < indent {
            self.put(' ');
        }
        self.whitespace = true;
        self.indention = true;
    }

    fn write_indicator(
        &mut self,
        text: &str,
        need_whitespace: bool,
        is_whitespace: bool,
        is_indention: bool,
    ) {
        if need_whitespace && !self.whitespace {
            self.put(' ');
        }
        for c in text.chars() {
            self.put(c);
        }
        self.whitespace = is_whitespace;
        self.indention = self.indention && is_indention;
    }

    fn increase_indent(&mut self, flow: bool, indentless: bool) {
        self.indents.push(self.indent);
        if self.indent < 0 {
            self.indent = if flow { BEST_INDENT } else { 0 };
        } else if !indentless {
            self.indent += BEST_INDENT;
        }
    }

    fn pop_indent(&mut self) {
        self.indent = self.indents.pop().unwrap_or(-1);
    }

    // -- collections ---------------------------------------------------------------------

    fn empty_flow(&mut self, brackets: &str) {
        let (open, close) = brackets.split_at(1);
        self.write_indicator(open, true, true, false);
        self.write_indicator(close, false, false, false);
    }

    fn sequence(&mut self, items: &[Value], ctx: Context) {
        let indentless = ctx == Context::MappingValue && !self.indention;
        self.increase_indent(false, indentless);
        for item in items {
            self.write_indent();
            self.write_indicator("-", true, false, true);
            self.node(item, Context::SequenceItem);
        }
        self.pop_indent();
    }

    fn mapping(&mut self, m: &super::Map) {
        self.increase_indent(false, false);
        let mut keys: Vec<&String> = m.keys().collect();
        if self.opts.sort_keys {
            sort_go_keys(&mut keys);
        }
        for key in keys {
            self.write_indent();
            let chars: Vec<char> = key.chars().collect();
            let simple = !analyze(&chars).multiline && key.len() <= MAX_SIMPLE_KEY_BYTES;
            if simple {
                self.string(key, Context::SimpleKey);
                self.write_indicator(":", false, false, false);
            } else {
                self.write_indicator("?", true, false, true);
                self.string(key, Context::ComplexKey);
                self.write_indent();
                self.write_indicator(":", true, false, true);
            }
            self.node(&m[key], Context::MappingValue);
        }
        self.pop_indent();
    }

    // -- scalars -------------------------------------------------------------------------

    fn scalar(&mut self, text: &str, requested: Style, ctx: Context) {
        let chars: Vec<char> = text.chars().collect();
        let a = analyze(&chars);
        let simple_key = ctx == Context::SimpleKey;
        let mut style = requested;
        if simple_key && a.multiline {
            style = Style::Double;
        }
        if style == Style::Plain && (!a.plain_allowed || (chars.is_empty() && simple_key)) {
            style = Style::Single;
        }
        if style == Style::Single && !a.single_quoted_allowed {
            style = Style::Double;
        }
        if style == Style::Literal && (!a.block_allowed || simple_key) {
            style = Style::Double;
        }
        self.increase_indent(true, false);
        let allow_breaks = !simple_key;
        match style {
            Style::Plain => self.write_plain(&chars, allow_breaks),
            Style::Single => self.write_single_quoted(&chars, allow_breaks),
            Style::Double => self.write_double_quoted(&chars, allow_breaks),
            Style::Literal => self.write_literal(&chars),
        }
        self.pop_indent();
    }

    /// Whether a space at this point becomes a line break.
    fn past_width(&self) -> bool {
        self.column > self.best_width
    }

    fn write_plain(&mut self, chars: &[char], allow_breaks: bool) {
        if !self.whitespace {
            self.put(' ');
        }
        let mut spaces = false;
        let mut breaks = false;
        for (i, &c) in chars.iter().enumerate() {
            if c == ' ' {
                let next_is_space = chars.get(i + 1) == Some(&' ');
                if allow_breaks && !spaces && self.past_width() && !next_is_space {
                    self.write_indent();
                } else {
                    self.put(c);
                }
                spaces = true;
            } else if is_break(c) {
                if !breaks && c == '\n' {
                    self.put_break();
                }
                self.write_break(c);
                self.indention = true;
                breaks = true;
            } else {
                if breaks {
                    self.write_indent();
                }
                self.put(c);
                self.indention = false;
                spaces = false;
                breaks = false;
            }
        }
        self.whitespace = false;
        self.indention = false;
    }

    fn write_single_quoted(&mut self, chars: &[char], allow_breaks: bool) {
        self.write_indicator("'", true, false, false);
        let mut spaces = false;
        let mut breaks = false;
        let n = chars.len();
        for (i, &c) in chars.iter().enumerate() {
            if c == ' ' {
                let next_is_space = chars.get(i + 1) == Some(&' ');
                if allow_breaks
                    && !spaces
                    && self.past_width()
                    && i > 0
                    && i + 1 < n
                    && !next_is_space
                {
                    self.write_indent();
                } else {
                    self.put(c);
                }
                spaces = true;
            } else if is_break(c) {
                if !breaks && c == '\n' {
                    self.put_break();
                }
                self.write_break(c);
                self.indention = true;
                breaks = true;
            } else {
                if breaks {
                    self.write_indent();
                }
                if c == '\'' {
                    self.put('\'');
                }
                self.put(c);
                self.indention = false;
                spaces = false;
                breaks = false;
            }
        }
        self.write_indicator("'", false, false, false);
        self.whitespace = false;
        self.indention = false;
    }

    fn write_double_quoted(&mut self, chars: &[char], allow_breaks: bool) {
        self.write_indicator("\"", true, false, false);
        // yaml.v2 checks for a byte-order mark at the start of the text, not at the
        // character: text starting with one has every character escaped.
        let starts_with_bom = chars.first() == Some(&'\u{FEFF}');
        let mut spaces = false;
        let n = chars.len();
        for (i, &c) in chars.iter().enumerate() {
            if !is_printable(c) || starts_with_bom || is_break(c) || c == '"' || c == '\\' {
                self.put('\\');
                match c {
                    '\0' => self.put('0'),
                    '\u{7}' => self.put('a'),
                    '\u{8}' => self.put('b'),
                    '\t' => self.put('t'),
                    '\n' => self.put('n'),
                    '\u{b}' => self.put('v'),
                    '\u{c}' => self.put('f'),
                    '\r' => self.put('r'),
                    '\u{1b}' => self.put('e'),
                    '"' => self.put('"'),
                    '\\' => self.put('\\'),
                    '\u{85}' => self.put('N'),
                    '\u{a0}' => self.put('_'),
                    '\u{2028}' => self.put('L'),
                    '\u{2029}' => self.put('P'),
                    _ => {
                        let v = c as u32;
                        let (letter, width) = match v {
                            0..=0xFF => ('x', 2),
                            0x100..=0xFFFF => ('u', 4),
                            _ => ('U', 8),
                        };
                        self.put(letter);
                        for ch in format!("{v:0width$X}").chars() {
                            self.put(ch);
                        }
                    }
                }
                spaces = false;
            } else if c == ' ' {
                if allow_breaks && !spaces && self.past_width() && i > 0 && i + 1 < n {
                    self.write_indent();
                    if chars.get(i + 1) == Some(&' ') {
                        self.put('\\');
                    }
                } else {
                    self.put(c);
                }
                spaces = true;
            } else {
                self.put(c);
                spaces = false;
            }
        }
        self.write_indicator("\"", false, false, false);
        self.whitespace = false;
        self.indention = false;
    }

    fn write_literal(&mut self, chars: &[char]) {
        self.write_indicator("|", true, false, false);
        if chars.first().is_some_and(|&c| c == ' ' || is_break(c)) {
            self.write_indicator(&BEST_INDENT.to_string(), false, false, false);
        }
        let chomp = match chars {
            [] => Some("-"),
            [.., last] if !is_break(*last) => Some("-"),
            [_] => Some("+"),
            [.., before, _] if is_break(*before) => Some("+"),
            _ => None,
        };
        if let Some(chomp) = chomp {
            self.write_indicator(chomp, false, false, false);
        }
        self.put_break();
        self.indention = true;
        self.whitespace = true;
        let mut breaks = true;
        for &c in chars {
            if is_break(c) {
                self.write_break(c);
                self.indention = true;
                breaks = true;
            } else {
                if breaks {
                    self.write_indent();
                }
                self.put(c);
                self.indention = false;
                breaks = false;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::value::Map;
    use crate::value::yaml::{Flavor, from_str};
    use std::path::PathBuf;

    /// The golden cases: (name, input, what Helm's toYaml printed).
    fn cases() -> Vec<(String, Value, String)> {
        let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/data/yaml-emit");
        let mut out = Vec::new();
        for entry in std::fs::read_dir(&dir).expect("tests/data/yaml-emit") {
            let path = entry.expect("directory entry").path();
            if path.extension().is_none_or(|e| e != "json") {
                continue;
            }
            let name = path.file_stem().unwrap().to_string_lossy().into_owned();
            let input = std::fs::read_to_string(&path).unwrap();
            let value = Value::from_json(&input).unwrap_or_else(|e| panic!("{name}: {e}"));
            let expected = std::fs::read_to_string(dir.join(format!("{name}.helm.yaml")))
                .unwrap_or_else(|e| panic!("{name}.helm.yaml: {e}"));
            out.push((name, value, expected));
        }
        out.sort_by(|a, b| a.0.cmp(&b.0));
        out
    }

    fn map(entries: &[(&str, Value)]) -> Value {
        Value::Map(
            entries
                .iter()
                .map(|(k, v)| (k.to_string(), v.clone()))
                .collect::<Map>(),
        )
    }

    #[test]
    fn matches_helm_to_yaml_byte_for_byte() {
        let cases = cases();
        assert!(cases.len() >= 60, "only {} cases", cases.len());
        let failures: Vec<String> = cases
            .iter()
            .filter_map(|(name, value, expected)| {
                let got = to_yaml_helm(value);
                (got != *expected)
                    .then(|| format!("{name}:\n--- helm\n{expected}\n--- pack\n{got}"))
            })
            .collect();
        assert!(failures.is_empty(), "{}", failures.join("\n\n"));
    }

    #[test]
    fn output_reads_back_as_the_input_with_yaml11() {
        for (name, value, _) in cases() {
            // What Helm's YAML reader sees of the value (nothing when Helm fails), written as
            // Helm does but with strict quoting: pack's reader is more lenient than yaml.v2
            // about `yEs`, `1e400` and U+2028, and nobody reads a plain `<<` key back.
            if let Some(seen) = through_json(&value) {
                let opts = EmitOptions {
                    strict_quoting: true,
                    ..EmitOptions::helm()
                };
                let text = emit(&seen, &opts);
                let back = from_str(&text, Flavor::Yaml11)
                    .unwrap_or_else(|e| panic!("{name}: {e}\n{text}"));
                assert_eq!(back, seen, "{name} (helm options):\n{text}");
            }
            let text = emit(&value, &EmitOptions::kubernetes());
            let back =
                from_str(&text, Flavor::Yaml11).unwrap_or_else(|e| panic!("{name}: {e}\n{text}"));
            assert_eq!(back, value, "{name} (kubernetes options):\n{text}");
        }
    }

    #[test]
    fn kubernetes_options_keep_insertion_order_and_never_fold() {
        let long = "word ".repeat(40).trim_end().to_owned();
        let v = map(&[
            ("zeta", Value::Int(1)),
            (
                "alpha",
                map(&[("b", Value::from(long.as_str())), ("a", Value::Float(3.0))]),
            ),
            (
                "list",
                Value::List(vec![
                    Value::from("on"),
                    Value::Float(1e6),
                    Value::Float(0.5),
                ]),
            ),
        ]);
        let expected =
            format!("zeta: 1\nalpha:\n  b: {long}\n  a: 3\nlist:\n- \"on\"\n- 1000000\n- 0.5\n");
        assert_eq!(emit(&v, &EmitOptions::kubernetes()), expected);
        assert_eq!(EmitOptions::default(), EmitOptions::kubernetes());
        // The same value as Helm prints it: keys sorted, the long line folded.
        let helm = emit(&v, &EmitOptions::helm());
        assert!(helm.starts_with("alpha:\n  a: 3\n  b: word word"), "{helm}");
        assert!(helm.contains("\n    word"), "{helm}");
    }

    #[test]
    fn strict_quoting_covers_what_lenient_readers_misread() {
        let v = Value::List(vec![
            Value::from("yEs"),
            Value::from("1e400"),
            Value::from("NaN"),
            Value::from("\u{a0}x"),
            Value::from("a\u{2028}b"),
            map(&[("<<", Value::Int(1))]),
        ]);
        assert_eq!(
            emit(&v, &EmitOptions::kubernetes()),
            "- \"yEs\"\n- \"1e400\"\n- \"NaN\"\n- '\u{a0}x'\n- \"a\\Lb\"\n- \"<<\": 1\n"
        );
        assert_eq!(
            emit(&v, &EmitOptions::helm()),
            "- yEs\n- 1e400\n- NaN\n- \u{a0}x\n- 'a\u{2028}  b'\n- <<: 1\n"
        );
    }

    #[test]
    fn emit_ends_with_one_line_break_and_helm_trims_it() {
        for (v, text) in [
            (Value::from("abc"), "abc\n"),
            (Value::Null, "null\n"),
            (Value::map(), "{}\n"),
            (Value::List(vec![]), "[]\n"),
            (Value::from("a\nb"), "|-\n  a\n  b\n"),
            (Value::from("a\n"), "|\n  a\n"),
        ] {
            assert_eq!(emit(&v, &EmitOptions::helm()), text);
            assert_eq!(to_yaml_helm(&v), text.strip_suffix('\n').unwrap());
        }
        // `|+` keeps its trailing line breaks; only the last one is the document's.
        assert_eq!(
            emit(&Value::from("a\n\n"), &EmitOptions::helm()),
            "|+\n  a\n\n"
        );
        assert_eq!(to_yaml_helm(&Value::from("a\n\n")), "|+\n  a\n");
    }

    #[test]
    fn integers_print_exactly_floats_the_go_way() {
        // pack's native integers are exact; Helm would hold 2^63-1 as a float64.
        assert_eq!(to_yaml_helm(&Value::Int(i64::MAX)), "9223372036854775807");
        assert_eq!(to_yaml_helm(&Value::Int(i64::MIN)), "-9223372036854775808");
        let go = EmitOptions::kubernetes();
        let native = EmitOptions {
            go_floats: false,
            ..EmitOptions::kubernetes()
        };
        for (x, json_round_trip, direct) in [
            (3.0, "3", "3"),
            (1e6, "1000000", "1e+06"),
            (-0.0, "0", "-0"),
            (1e20, "1e+20", "1e+20"),
            (1e19, "10000000000000000000", "1e+19"),
            (1.5e-7, "1.5e-07", "1.5e-07"),
            (123456.5, "123456.5", "123456.5"),
            (1234567.5, "1.2345675e+06", "1.2345675e+06"),
            (f64::INFINITY, ".inf", ".inf"),
            (f64::NEG_INFINITY, "-.inf", "-.inf"),
            (f64::NAN, ".nan", ".nan"),
        ] {
            assert_eq!(
                emit(&Value::Float(x), &go),
                format!("{json_round_trip}\n"),
                "{x}"
            );
            assert_eq!(
                emit(&Value::Float(x), &native),
                format!("{direct}\n"),
                "{x}"
            );
        }
        // JSON cannot carry NaN or infinities, so Helm's toYaml prints nothing for them.
        assert_eq!(to_yaml_helm(&map(&[("a", Value::Float(f64::NAN))])), "");
    }

    #[test]
    fn no_line_width_never_folds() {
        let long = "x ".repeat(200);
        let v = map(&[("a", Value::from(long.trim_end()))]);
        let opts = EmitOptions {
            line_width: None,
            ..EmitOptions::helm()
        };
        assert_eq!(emit(&v, &opts).lines().count(), 1);
        let narrow = EmitOptions {
            line_width: Some(20),
            ..EmitOptions::helm()
        };
        assert!(emit(&v, &narrow).lines().all(|l| l.len() <= 23));
    }

    #[test]
    fn plain_scalars_that_would_change_meaning_are_quoted() {
        for s in [
            "yes",
            "Off",
            "~",
            "",
            "0x1F",
            "1_000",
            "1e3",
            ".5",
            "2001-12-14",
            "1:20",
            "-.inf",
        ] {
            assert!(!plain_reads_as_string(s), "{s}");
        }
        for s in [
            "yEs",
            "1e400",
            "0x",
            "2001-02-30",
            "1:60",
            "NaN",
            "<<",
            "-",
            "abc",
        ] {
            assert!(plain_reads_as_string(s), "{s}");
        }
    }

    #[test]
    fn key_order_compares_digit_runs_by_value() {
        let mut keys: Vec<String> = ["a10", "a2", "a1", "b", "B", "_x", "10", "9"]
            .map(String::from)
            .to_vec();
        let mut refs: Vec<&String> = keys.iter().collect();
        sort_go_keys(&mut refs);
        let sorted: Vec<&str> = refs.iter().map(|s| s.as_str()).collect();
        assert_eq!(sorted, ["_x", "9", "10", "B", "a1", "a2", "a10", "b"]);
        // Larger maps take the merge sort; it agrees.
        keys.extend((0..30).map(|i| format!("k{i}")));
        let mut refs: Vec<&String> = keys.iter().collect();
        sort_go_keys(&mut refs);
        assert!(refs.windows(2).all(|w| !go_key_less(w[1], w[0])));
        assert_eq!(refs.last().unwrap().as_str(), "k29");
    }
}
