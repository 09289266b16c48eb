//! Sprig's string functions (and `toString`), with Go's semantics: lengths and offsets in
//! `trunc`, `substr`, `abbrev` and `wrap` count bytes, case mapping is per character, and
//! functions taking Go `string`/`int` parameters refuse other types as Go's template engine
//! does.
//!
//! Where Go would cut a multi-byte character in half (`trunc 2 "héllo"`), pack cannot hold the
//! invalid UTF-8 Go produces and prints U+FFFD for the broken piece instead.

use super::args::{call_error, exactly, expect_int, expect_str, piped_last, strval};
use super::format::{go_quote, go_sprint_value};
use super::{Func, FuncError, FuncResult};
use crate::value::{Map, Value};

/// The functions of this group.
pub const FUNCS: &[Func] = &[
    piped_last("hello", hello),
    piped_last("quote", quote),
    piped_last("squote", squote),
    piped_last("upper", upper),
    piped_last("lower", lower),
    piped_last("title", title),
    piped_last("untitle", untitle),
    piped_last("trim", trim),
    piped_last("trimAll", trim_all),
    piped_last("trimall", trimall),
    piped_last("trimPrefix", trim_prefix),
    piped_last("trimSuffix", trim_suffix),
    piped_last("trunc", trunc),
    piped_last("abbrev", abbrev),
    piped_last("abbrevboth", abbrevboth),
    piped_last("indent", indent),
    piped_last("nindent", nindent),
    piped_last("replace", replace),
    piped_last("contains", contains),
    piped_last("hasPrefix", has_prefix),
    piped_last("hasSuffix", has_suffix),
    piped_last("repeat", repeat),
    piped_last("substr", substr),
    piped_last("nospace", nospace),
    piped_last("cat", cat),
    piped_last("split", split),
    piped_last("splitList", split_list),
    piped_last("splitn", splitn),
    piped_last("join", join),
    piped_last("toStrings", to_strings),
    piped_last("snakecase", snakecase),
    piped_last("camelcase", camelcase),
    piped_last("kebabcase", kebabcase),
    piped_last("swapcase", swapcase),
    piped_last("wrap", wrap),
    piped_last("wrapWith", wrap_with),
    piped_last("plural", plural),
    piped_last("initials", initials),
    piped_last("toString", to_string),
];

/// Most Go-side outputs are strings.
fn string(s: impl Into<String>) -> FuncResult {
    Ok(Value::String(s.into()))
}

/// Exactly `n` Go `string` parameters.
fn strs<'a>(name: &str, args: &'a [Value], n: usize) -> Result<Vec<&'a str>, FuncError> {
    exactly(name, args, n)?.iter().map(expect_str).collect()
}

/// Bytes as Go would hold them in a string; broken UTF-8 becomes U+FFFD.
fn from_bytes(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

// ---- case mapping (Go's simple, one-character mappings) ----

/// `unicode.ToUpper`: one character to one character (`ß` stays `ß`).
pub fn go_to_upper(c: char) -> char {
    if c.is_ascii() {
        return c.to_ascii_uppercase();
    }
    let mut it = c.to_uppercase();
    match (it.next(), it.next()) {
        (Some(u), None) => u,
        _ => c,
    }
}

/// `unicode.ToLower` (`İ` becomes `i`).
pub fn go_to_lower(c: char) -> char {
    if c.is_ascii() {
        return c.to_ascii_lowercase();
    }
    c.to_lowercase().next().unwrap_or(c)
}

/// `unicode.ToTitle`: the upper case, except for the Latin digraphs that have a title form.
pub fn go_to_title(c: char) -> char {
    match c {
        'Ǆ' | 'ǅ' | 'ǆ' => 'ǅ',
        'Ǉ' | 'ǈ' | 'ǉ' => 'ǈ',
        'Ǌ' | 'ǋ' | 'ǌ' => 'ǋ',
        'Ǳ' | 'ǲ' | 'ǳ' => 'ǲ',
        _ => go_to_upper(c),
    }
}

/// `unicode.IsUpper` (category Lu: not the title-case letters, nor the circled and Roman
/// numeral letters Rust also calls upper case).
fn is_upper(c: char) -> bool {
    c.is_uppercase()
        && !is_title(c)
        && !matches!(c as u32, 0x2160..=0x216F | 0x24B6..=0x24CF | 0x1F130..=0x1F189)
}

/// `unicode.IsTitle` (category Lt).
fn is_title(c: char) -> bool {
    matches!(c as u32,
        0x01C5 | 0x01C8 | 0x01CB | 0x01F2
        | 0x1F88..=0x1F8F | 0x1F98..=0x1F9F | 0x1FA8..=0x1FAF | 0x1FBC | 0x1FCC | 0x1FFC)
}

/// `unicode.IsSpace`.
fn is_space(c: char) -> bool {
    c.is_whitespace()
}

/// `unicode.IsSpace` of a byte taken as a Latin-1 character (what goutils does by reading
/// strings byte by byte).
fn is_space_byte(b: u8) -> bool {
    matches!(b, b'\t'..=b'\r' | b' ' | 0x85 | 0xA0)
}

// ---- functions ----

/// `hello`: Sprig's greeting, "Hello!".
pub fn hello(args: &[Value]) -> FuncResult {
    exactly("hello", args, 0)?;
    string("Hello!")
}

/// `quote ARGS…`: each non-null argument as a Go double-quoted string (`%q` of its `%v`
/// form), space-separated.
pub fn quote(args: &[Value]) -> FuncResult {
    let out: Vec<String> = args
        .iter()
        .filter(|a| !a.is_null())
        .map(|a| go_quote(&strval(a)))
        .collect();
    string(out.join(" "))
}

/// `squote ARGS…`: each non-null argument in single quotes, unescaped.
pub fn squote(args: &[Value]) -> FuncResult {
    let out: Vec<String> = args
        .iter()
        .filter(|a| !a.is_null())
        .map(|a| format!("'{}'", go_sprint_value(a)))
        .collect();
    string(out.join(" "))
}

/// `upper STR`.
pub fn upper(args: &[Value]) -> FuncResult {
    let s = strs("upper", args, 1)?;
    string(s[0].chars().map(go_to_upper).collect::<String>())
}

/// `lower STR`.
pub fn lower(args: &[Value]) -> FuncResult {
    let s = strs("lower", args, 1)?;
    string(s[0].chars().map(go_to_lower).collect::<String>())
}

/// Go's `strings.Title` word boundary rule.
fn is_separator(c: char) -> bool {
    if c.is_ascii() {
        return !(c.is_ascii_alphanumeric() || c == '_');
    }
    if is_letter(c) || c.is_numeric() {
        return false;
    }
    is_space(c)
}

/// `title STR`: Go's `strings.Title` — the first letter of every word to title case; a word
/// starts after anything but a letter, digit or `_`.
pub fn title(args: &[Value]) -> FuncResult {
    let s = strs("title", args, 1)?;
    let mut prev = ' ';
    let out: String = s[0]
        .chars()
        .map(|c| {
            let r = if is_separator(prev) {
                go_to_title(c)
            } else {
                c
            };
            prev = c;
            r
        })
        .collect();
    string(out)
}

/// `untitle STR`: lower-cases the first character of every whitespace-separated word.
pub fn untitle(args: &[Value]) -> FuncResult {
    let s = strs("untitle", args, 1)?;
    let mut next = true;
    let out: String = s[0]
        .chars()
        .map(|c| {
            if is_space(c) {
                next = true;
                c
            } else if next {
                next = false;
                go_to_lower(c)
            } else {
                c
            }
        })
        .collect();
    string(out)
}

/// `trim STR`: surrounding Unicode whitespace removed.
pub fn trim(args: &[Value]) -> FuncResult {
    let s = strs("trim", args, 1)?;
    string(s[0].trim_matches(is_space))
}

fn trim_all_impl(name: &str, args: &[Value]) -> FuncResult {
    let s = strs(name, args, 2)?;
    let cutset: Vec<char> = s[0].chars().collect();
    string(s[1].trim_matches(|c| cutset.contains(&c)))
}

/// `trimAll CUTSET STR`: every character of CUTSET removed from both ends.
pub fn trim_all(args: &[Value]) -> FuncResult {
    trim_all_impl("trimAll", args)
}

/// `trimall CUTSET STR`: the deprecated spelling of `trimAll`.
pub fn trimall(args: &[Value]) -> FuncResult {
    trim_all_impl("trimall", args)
}

/// `trimPrefix PREFIX STR`.
pub fn trim_prefix(args: &[Value]) -> FuncResult {
    let s = strs("trimPrefix", args, 2)?;
    string(s[1].strip_prefix(s[0]).unwrap_or(s[1]))
}

/// `trimSuffix SUFFIX STR`.
pub fn trim_suffix(args: &[Value]) -> FuncResult {
    let s = strs("trimSuffix", args, 2)?;
    string(s[1].strip_suffix(s[0]).unwrap_or(s[1]))
}

/// `trunc N STR`: the first N bytes; a negative N keeps the last |N| bytes.
pub fn trunc(args: &[Value]) -> FuncResult {
    exactly("trunc", args, 2)?;
    let c = expect_int(&args[0])?;
    let s = expect_str(&args[1])?;
    let b = s.as_bytes();
    let len = b.len() as i64;
    if c < 0 && len + c > 0 {
        return string(from_bytes(&b[(len + c) as usize..]));
    }
    if c >= 0 && len > c {
        return string(from_bytes(&b[..c as usize]));
    }
    string(s)
}

/// goutils' `AbbreviateFull`, byte-based; `None` where it returns an error.
fn abbreviate_full(s: &str, offset: i64, max_width: i64) -> Option<String> {
    let b = s.as_bytes();
    let len = b.len() as i64;
    if s.is_empty() {
        return Some(String::new());
    }
    if max_width < 4 {
        return None;
    }
    if len <= max_width {
        return Some(s.to_owned());
    }
    let mut offset = offset.min(len);
    if len - offset < max_width - 3 {
        offset = len - (max_width - 3);
    }
    if offset <= 4 {
        return Some(format!("{}...", from_bytes(&b[..(max_width - 3) as usize])));
    }
    if max_width < 7 {
        return None;
    }
    if offset + max_width - 3 < len {
        let rest = from_bytes(&b[offset as usize..]);
        let inner = abbreviate_full(&rest, 0, max_width - 3).unwrap_or_default();
        return Some(format!("...{inner}"));
    }
    Some(format!(
        "...{}",
        from_bytes(&b[(len - (max_width - 3)) as usize..])
    ))
}

/// `abbrev WIDTH STR`: at most WIDTH bytes, ending in `...` when cut (WIDTH < 4: unchanged).
pub fn abbrev(args: &[Value]) -> FuncResult {
    exactly("abbrev", args, 2)?;
    let width = expect_int(&args[0])?;
    let s = expect_str(&args[1])?;
    if width < 4 {
        return string(s);
    }
    string(abbreviate_full(s, 0, width).unwrap_or_default())
}

/// `abbrevboth LEFT WIDTH STR`: abbreviated on both sides around offset LEFT.
pub fn abbrevboth(args: &[Value]) -> FuncResult {
    exactly("abbrevboth", args, 3)?;
    let left = expect_int(&args[0])?;
    let right = expect_int(&args[1])?;
    let s = expect_str(&args[2])?;
    if right < 4 || left > 0 && right < 7 {
        return string(s);
    }
    string(abbreviate_full(s, left, right).unwrap_or_default())
}

fn spaces(name: &str, n: i64) -> Result<String, FuncError> {
    if n < 0 {
        return Err(call_error(name, "strings: negative Repeat count"));
    }
    if n as u64 > MAX_REPEAT_BYTES {
        return Err(call_error(name, "strings: Repeat output length overflow"));
    }
    Ok(" ".repeat(n as usize))
}

fn indent_impl(name: &str, args: &[Value]) -> Result<String, FuncError> {
    exactly(name, args, 2)?;
    let n = expect_int(&args[0])?;
    let s = expect_str(&args[1])?;
    let pad = spaces(name, n)?;
    Ok(format!("{pad}{}", s.replace('\n', &format!("\n{pad}"))))
}

/// `indent N STR`: every line (including an empty last one) prefixed with N spaces.
pub fn indent(args: &[Value]) -> FuncResult {
    string(indent_impl("indent", args)?)
}

/// `nindent N STR`: a newline, then `indent N STR`.
pub fn nindent(args: &[Value]) -> FuncResult {
    string(format!("\n{}", indent_impl("nindent", args)?))
}

/// `replace OLD NEW STR`: every occurrence (an empty OLD matches between characters).
pub fn replace(args: &[Value]) -> FuncResult {
    let s = strs("replace", args, 3)?;
    string(s[2].replace(s[0], s[1]))
}

/// `contains SUBSTR STR`.
pub fn contains(args: &[Value]) -> FuncResult {
    let s = strs("contains", args, 2)?;
    Ok(Value::Bool(s[1].contains(s[0])))
}

/// `hasPrefix PREFIX STR`.
pub fn has_prefix(args: &[Value]) -> FuncResult {
    let s = strs("hasPrefix", args, 2)?;
    Ok(Value::Bool(s[1].starts_with(s[0])))
}

/// `hasSuffix SUFFIX STR`.
pub fn has_suffix(args: &[Value]) -> FuncResult {
    let s = strs("hasSuffix", args, 2)?;
    Ok(Value::Bool(s[1].ends_with(s[0])))
}

/// Largest string `repeat` builds; Go would try to allocate anything that fits in memory.
const MAX_REPEAT_BYTES: u64 = 1 << 30;

/// `repeat N STR`.
pub fn repeat(args: &[Value]) -> FuncResult {
    exactly("repeat", args, 2)?;
    let n = expect_int(&args[0])?;
    let s = expect_str(&args[1])?;
    if n < 0 {
        return Err(call_error("repeat", "strings: negative Repeat count"));
    }
    if (s.len() as u64).saturating_mul(n as u64) > MAX_REPEAT_BYTES {
        return Err(call_error(
            "repeat",
            "strings: Repeat output length overflow",
        ));
    }
    string(s.repeat(n as usize))
}

/// `substr START END STR`: bytes START..END; a negative START means 0..END, and a negative
/// or too-large END means START..the end. Go's slice-bounds panics become errors.
pub fn substr(args: &[Value]) -> FuncResult {
    exactly("substr", args, 3)?;
    let start = expect_int(&args[0])?;
    let end = expect_int(&args[1])?;
    let s = expect_str(&args[2])?;
    let b = s.as_bytes();
    let len = b.len() as i64;
    let oob = |m: String| {
        Err(call_error(
            "substr",
            format!("runtime error: slice bounds out of range {m}"),
        ))
    };
    if start < 0 {
        if end < 0 {
            return oob(format!("[:{end}]"));
        }
        if end > len {
            return oob(format!("[:{end}] with length {len}"));
        }
        return string(from_bytes(&b[..end as usize]));
    }
    if end < 0 || end > len {
        if start > len {
            return oob(format!("[{start}:{len}]"));
        }
        return string(from_bytes(&b[start as usize..]));
    }
    if start > end {
        return oob(format!("[{start}:{end}]"));
    }
    string(from_bytes(&b[start as usize..end as usize]))
}

/// `nospace STR`: whitespace removed. goutils reads the string byte by byte, so a non-ASCII
/// string that contains whitespace comes out with each byte as a Latin-1 character (as in
/// Helm); without whitespace it is returned unchanged.
pub fn nospace(args: &[Value]) -> FuncResult {
    let s = strs("nospace", args, 1)?;
    let b = s[0].as_bytes();
    if !b.iter().any(|&c| is_space_byte(c)) {
        return string(s[0]);
    }
    string(
        b.iter()
            .filter(|&&c| !is_space_byte(c))
            .map(|&c| char::from(c))
            .collect::<String>(),
    )
}

/// `cat ARGS…`: the non-null arguments in their `%v` form, space-separated.
pub fn cat(args: &[Value]) -> FuncResult {
    let out: Vec<String> = args
        .iter()
        .filter(|a| !a.is_null())
        .map(go_sprint_value)
        .collect();
    string(out.join(" "))
}

/// Go's `strings.SplitN` (`n < 0`: all pieces; an empty separator splits into characters).
fn go_split(s: &str, sep: &str, n: i64) -> Vec<String> {
    if n == 0 {
        return Vec::new();
    }
    if sep.is_empty() {
        let chars: Vec<char> = s.chars().collect();
        let count = if n < 0 || n as usize > chars.len() {
            chars.len()
        } else {
            n as usize
        };
        let mut out: Vec<String> = chars[..count].iter().map(char::to_string).collect();
        if count > 0 && count < chars.len() {
            let rest: String = chars[count - 1..].iter().collect();
            out[count - 1] = rest;
        }
        return out;
    }
    if n < 0 {
        s.split(sep).map(str::to_owned).collect()
    } else {
        s.splitn(n as usize, sep).map(str::to_owned).collect()
    }
}

fn indexed_map(parts: Vec<String>) -> Value {
    let mut m = Map::default();
    for (i, p) in parts.into_iter().enumerate() {
        m.insert(format!("_{i}"), Value::String(p));
    }
    Value::Map(m)
}

/// `split SEP STR`: a map `{_0: …, _1: …}` of the pieces.
pub fn split(args: &[Value]) -> FuncResult {
    let s = strs("split", args, 2)?;
    Ok(indexed_map(go_split(s[1], s[0], -1)))
}

/// `splitList SEP STR`: the list of pieces (a Go `[]string`).
pub fn split_list(args: &[Value]) -> FuncResult {
    let s = strs("splitList", args, 2)?;
    Ok(Value::List(
        go_split(s[1], s[0], -1)
            .into_iter()
            .map(Value::String)
            .collect(),
    ))
}

/// `splitn SEP N STR`: at most N pieces as a map `{_0: …}` (N = 0: empty; N < 0: all).
pub fn splitn(args: &[Value]) -> FuncResult {
    exactly("splitn", args, 3)?;
    let sep = expect_str(&args[0])?;
    let n = expect_int(&args[1])?;
    let s = expect_str(&args[2])?;
    Ok(indexed_map(go_split(s, sep, n)))
}

/// Sprig's `strslice`: a list's non-null elements as strings; null is an empty list; any
/// other value is a one-element list of its `%v` form.
pub fn strslice(v: &Value) -> Vec<String> {
    match v {
        Value::List(l) => l.iter().filter(|e| !e.is_null()).map(strval).collect(),
        Value::Null => Vec::new(),
        other => vec![strval(other)],
    }
}

/// `join SEP LIST`: the non-null elements' string forms joined (a non-list joins as its
/// own string form).
pub fn join(args: &[Value]) -> FuncResult {
    exactly("join", args, 2)?;
    let sep = expect_str(&args[0])?;
    string(strslice(&args[1]).join(sep))
}

/// `toStrings LIST`: the non-null elements as strings.
pub fn to_strings(args: &[Value]) -> FuncResult {
    exactly("toStrings", args, 1)?;
    Ok(Value::List(
        strslice(&args[0]).into_iter().map(Value::String).collect(),
    ))
}

// ---- snake/kebab/camel case (huandu/xstrings rules) ----

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum WordType {
    Invalid,
    Number,
    UpperCase,
    Alphabet,
    Connector,
    Punct,
    Other,
}

fn is_connector(c: char) -> bool {
    c == '-' || c == '_' || is_space(c)
}

/// Go's `unicode.IsLetter` (category L), approximated: Rust's alphabetic characters less
/// letter-like numbers and the circled letters.
fn is_letter(c: char) -> bool {
    c.is_alphabetic() && !c.is_numeric() && !matches!(c as u32, 0x24B6..=0x24E9 | 0x1F130..=0x1F189)
}

/// A letter that is not a CJK ideograph.
fn is_alphabet(c: char) -> bool {
    if !is_letter(c) {
        return false;
    }
    let u = c as u32;
    !(u >= 0x3400
        && ((0x4E00..=0x9FCC).contains(&u)
            || (0x3400..=0x4D85).contains(&u)
            || (0x20000..=0x2B81D).contains(&u)))
}

/// Go's `unicode.IsPunct` (Unicode category P). ASCII exactly; elsewhere the common blocks.
fn is_punct(c: char) -> bool {
    if c.is_ascii() {
        return matches!(
            c,
            '!' | '"'
                | '#'
                | '%'
                | '&'
                | '\''
                | '('
                | ')'
                | '*'
                | ','
                | '-'
                | '.'
                | '/'
                | ':'
                | ';'
                | '?'
                | '@'
                | '['
                | '\\'
                | ']'
                | '_'
                | '{'
                | '}'
        );
    }
    matches!(c as u32,
        0xA1 | 0xA7 | 0xAB | 0xB6 | 0xB7 | 0xBB | 0xBF
        | 0x2010..=0x2027 | 0x2030..=0x2043 | 0x2045..=0x2051 | 0x2053..=0x205E
        | 0x3001..=0x3003 | 0x3008..=0x3011 | 0x3014..=0x301F
        | 0xFF01..=0xFF03 | 0xFF05..=0xFF0A | 0xFF0C..=0xFF0F | 0xFF1A | 0xFF1B
        | 0xFF1F | 0xFF20 | 0xFF3B..=0xFF3D | 0xFF3F | 0xFF5B | 0xFF5D)
}

/// The next word of `s`: its type, the word, and the rest.
fn next_word(s: &str) -> (WordType, &str, &str) {
    let Some(first) = s.chars().next() else {
        return (WordType::Invalid, "", "");
    };
    let take_while = |pred: &dyn Fn(char) -> bool| -> usize {
        s.char_indices()
            .skip(1)
            .find(|&(_, c)| !pred(c))
            .map_or(s.len(), |(i, _)| i)
    };
    let (wt, end) = if is_connector(first) {
        (WordType::Connector, take_while(&is_connector))
    } else if is_punct(first) {
        (WordType::Punct, take_while(&is_punct))
    } else if is_upper(first) {
        match s.char_indices().nth(1) {
            None => (WordType::UpperCase, s.len()),
            Some((_, c)) if is_upper(c) => {
                // A run of capitals; "HTTPServer" splits as "HTTP" + "Server".
                let mut prev_start = 0;
                let mut end = s.len();
                let mut next_after_run = None;
                for (i, c) in s.char_indices().skip(1) {
                    if !is_upper(c) {
                        end = i;
                        next_after_run = Some(c);
                        break;
                    }
                    prev_start = i;
                }
                if next_after_run.is_some_and(is_alphabet) {
                    end = prev_start;
                }
                (WordType::UpperCase, end)
            }
            Some((_, c)) if is_alphabet(c) => (
                WordType::UpperCase,
                take_while(&|c: char| is_alphabet(c) && !is_upper(c)),
            ),
            Some((i, _)) => (WordType::UpperCase, i),
        }
    } else if is_alphabet(first) {
        (
            WordType::Alphabet,
            take_while(&|c: char| is_alphabet(c) && !is_upper(c)),
        )
    } else if first.is_numeric() {
        (WordType::Number, take_while(&|c: char| c.is_numeric()))
    } else {
        (
            WordType::Other,
            take_while(&|c: char| {
                !(is_connector(c) || is_alphabet(c) || c.is_numeric() || is_punct(c))
            }),
        )
    };
    let (word, rest) = s.split_at(end);
    (wt, word, rest)
}

/// Writes a word lower-cased (upper-case and connector words only), connectors replaced.
fn push_lower(out: &mut String, wt: WordType, word: &str, connector: char) {
    if wt != WordType::UpperCase && wt != WordType::Connector {
        out.push_str(word);
        return;
    }
    for c in word.chars() {
        if is_connector(c) {
            out.push(connector);
        } else if is_upper(c) {
            out.push(go_to_lower(c));
        } else {
            out.push(c);
        }
    }
}

/// xstrings' snake/kebab case: words split at case changes, digits and connectors, joined
/// by `connector`, lower-cased.
fn camel_to_lower(s: &str, connector: char) -> String {
    use WordType::*;
    let mut out = String::new();
    if s.is_empty() {
        return out;
    }
    let (mut wt, mut word, mut rest) = next_word(s);
    while !rest.is_empty() {
        if wt != Connector {
            push_lower(&mut out, wt, word, connector);
        }
        let prev = wt;
        let last = word;
        (wt, word, rest) = next_word(rest);
        match prev {
            Number => {
                while wt == Alphabet || wt == Number {
                    push_lower(&mut out, wt, word, connector);
                    (wt, word, rest) = next_word(rest);
                }
                if wt != Invalid && wt != Punct && wt != Connector {
                    out.push(connector);
                }
            }
            Connector => push_lower(&mut out, prev, last, connector),
            Punct => {}
            _ => {
                if wt != Number {
                    if wt != Connector && wt != Punct {
                        out.push(connector);
                    }
                    continue;
                }
                if rest.is_empty() {
                    continue;
                }
                let last = word;
                (wt, word, rest) = next_word(rest);
                // A number followed by non-letters belongs to the previous word ("Bld4Floor").
                if wt != Alphabet {
                    push_lower(&mut out, Number, last, connector);
                    if wt != Connector && wt != Punct {
                        out.push(connector);
                    }
                    continue;
                }
                // Lower-case letters after a number start a new word ("HTTP2xx" → http_2xx).
                out.push(connector);
                push_lower(&mut out, Number, last, connector);
                while wt == Alphabet || wt == Number {
                    push_lower(&mut out, wt, word, connector);
                    (wt, word, rest) = next_word(rest);
                }
                if wt != Invalid && wt != Connector && wt != Punct {
                    out.push(connector);
                }
            }
        }
    }
    push_lower(&mut out, wt, word, connector);
    out
}

/// `snakecase STR`: `HTTPServer` → `http_server`.
pub fn snakecase(args: &[Value]) -> FuncResult {
    let s = strs("snakecase", args, 1)?;
    string(camel_to_lower(s[0], '_'))
}

/// `kebabcase STR`: `HTTPServer` → `http-server`.
pub fn kebabcase(args: &[Value]) -> FuncResult {
    let s = strs("kebabcase", args, 1)?;
    string(camel_to_lower(s[0], '-'))
}

/// `camelcase STR`: words separated by `_`, `-` or spaces joined with capitals
/// (`http_server` → `HttpServer`, `GOLANG_IS_GREAT` → `GolangIsGreat`). Leading connectors
/// stay; a run of connectors keeps all but its last one; and, as in Helm, a string made only
/// of connectors gets its last one doubled.
pub fn camelcase(args: &[Value]) -> FuncResult {
    let s = strs("camelcase", args, 1)?;
    let mut out = String::new();
    let mut chars = s[0].chars();
    let mut r0 = '\0';
    let mut first_upper = false;
    for c in chars.by_ref() {
        r0 = c;
        if !is_connector(c) {
            first_upper = is_upper(c);
            r0 = go_to_upper(c);
            break;
        }
        out.push(c);
    }
    let rest: Vec<char> = chars.collect();
    if rest.is_empty() {
        if !s[0].is_empty() {
            out.push(r0);
        }
        return string(out);
    }
    for c in rest {
        let r1 = r0;
        r0 = c;
        if is_connector(r0) && is_connector(r1) {
            out.push(r1);
            continue;
        }
        if is_connector(r1) {
            first_upper = is_upper(r0);
            r0 = go_to_upper(r0);
        } else {
            if first_upper {
                if is_upper(r0) {
                    r0 = go_to_lower(r0);
                } else {
                    first_upper = false;
                }
            }
            out.push(r1);
        }
    }
    out.push(r0);
    string(out)
}

/// `swapcase STR`: upper and title case to lower; lower case to title case at the start of a
/// word, else to upper case.
pub fn swapcase(args: &[Value]) -> FuncResult {
    let s = strs("swapcase", args, 1)?;
    let mut whitespace = true;
    let out: String = s[0]
        .chars()
        .map(|c| {
            if is_upper(c) || is_title(c) {
                whitespace = false;
                go_to_lower(c)
            } else if c.is_lowercase() {
                if whitespace {
                    whitespace = false;
                    go_to_title(c)
                } else {
                    go_to_upper(c)
                }
            } else {
                whitespace = is_space(c);
                c
            }
        })
        .collect();
    string(out)
}

/// goutils' `WrapCustom`, byte-based: breaks at the last space before the limit; long words
/// are split when `wrap_long` and left whole otherwise.
fn wrap_custom(s: &str, limit: i64, newline: &str, wrap_long: bool) -> String {
    if s.is_empty() {
        return String::new();
    }
    let newline = if newline.is_empty() { "\n" } else { newline };
    let limit = limit.max(1) as usize;
    let b = s.as_bytes();
    let len = b.len();
    let mut offset = 0usize;
    let mut out: Vec<u8> = Vec::with_capacity(len + 8);
    while len - offset > limit {
        if b[offset] == b' ' {
            offset += 1;
            continue;
        }
        let end = limit + offset + 1;
        let window = &b[offset..end.min(len)];
        if let Some(pos) = window.iter().rposition(|&c| c == b' ') {
            out.extend_from_slice(&b[offset..offset + pos]);
            out.extend_from_slice(newline.as_bytes());
            offset += pos + 1;
        } else if wrap_long {
            out.extend_from_slice(&b[offset..offset + limit]);
            out.extend_from_slice(newline.as_bytes());
            offset += limit;
        } else {
            let end = limit + offset;
            match b[end..].iter().position(|&c| c == b' ') {
                Some(i) => {
                    out.extend_from_slice(&b[offset..end + i]);
                    out.extend_from_slice(newline.as_bytes());
                    offset = end + i + 1;
                }
                None => {
                    out.extend_from_slice(&b[offset..]);
                    offset = len;
                }
            }
        }
    }
    out.extend_from_slice(&b[offset..]);
    from_bytes(&out)
}

/// `wrap WIDTH STR`: word-wrapped at WIDTH bytes with newlines; long words stay whole.
pub fn wrap(args: &[Value]) -> FuncResult {
    exactly("wrap", args, 2)?;
    let n = expect_int(&args[0])?;
    let s = expect_str(&args[1])?;
    string(wrap_custom(s, n, "", false))
}

/// `wrapWith WIDTH SEP STR`: wrapped with SEP as the line break; long words are split.
pub fn wrap_with(args: &[Value]) -> FuncResult {
    exactly("wrapWith", args, 3)?;
    let n = expect_int(&args[0])?;
    let sep = expect_str(&args[1])?;
    let s = expect_str(&args[2])?;
    string(wrap_custom(s, n, sep, true))
}

/// `plural ONE MANY COUNT`: ONE when COUNT is 1.
pub fn plural(args: &[Value]) -> FuncResult {
    exactly("plural", args, 3)?;
    let one = expect_str(&args[0])?;
    let many = expect_str(&args[1])?;
    let count = expect_int(&args[2])?;
    string(if count == 1 { one } else { many })
}

/// `initials STR`: the first byte of every whitespace-separated word. goutils works on
/// bytes, so a non-ASCII initial comes out as its first byte read as Latin-1 (as in Helm).
pub fn initials(args: &[Value]) -> FuncResult {
    let s = strs("initials", args, 1)?;
    let mut out = String::new();
    let mut gap = true;
    for &b in s[0].as_bytes() {
        if is_space_byte(b) {
            gap = true;
        } else if gap {
            out.push(char::from(b));
            gap = false;
        }
    }
    string(out)
}

/// `toString VALUE`: strings unchanged, anything else in Go's `%v` form (`1e+06` for a
/// values-file 1000000, `<nil>` for null, `[a b]`, `map[k:v]`).
pub fn to_string(args: &[Value]) -> FuncResult {
    exactly("toString", args, 1)?;
    string(strval(&args[0]))
}
