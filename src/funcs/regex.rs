//! Sprig's regular-expression functions with Go's RE2 syntax and semantics: `regexMatch`,
//! `regexFind`, `regexFindAll`, `regexReplaceAll`, `regexReplaceAllLiteral`, `regexSplit`,
//! `regexQuoteMeta` and the `must…` variants.
//!
//! Patterns are Go's (`regexp/syntax` with Perl flags) and are translated for the `regex`
//! crate, which shares RE2's leftmost-first semantics: `\d`, `\w`, `\s` and `\b` are ASCII-only
//! as in Go (the crate's are Unicode), `\Q…\E` quotes, escaped punctuation is always literal
//! (the crate reads `\<` and `\>` as word boundaries), class items are escaped so the crate's
//! set operators (`&&`, `--`, `~~`) stay literal, octal escapes (`\101`) are kept, duplicate
//! group names are allowed, and a name may start with a digit. Go's syntax errors are
//! reported with Go's wording (`error parsing regexp: missing closing ): \`(a\``). The
//! iteration rules of Go's `FindAll`, `ReplaceAll` and `Split` (empty matches right after a
//! match are skipped) and its `$1`/`${1}`/`$name` expansion (where `$1x` names group `1x`)
//! are reproduced exactly.
//!
//! Not reproduced: Unicode property names only the crate knows (`\p{Alphabetic}`) are
//! accepted, and Go's limit of 1000 on nested repetition products is not enforced.

use super::args::{arity, expect_int_lenient as int, expect_str_literal as s, piped_last as last};
use super::{Func, FuncError, FuncResult};
use crate::value::Value;

/// The functions of this module.
///
/// `regexFindAll`, `regexReplaceAll`, `regexReplaceAllLiteral` and `regexSplit` take the
/// subject string in the middle (`REGEX STRING N|REPLACEMENT`); like Go pipelines, a filter
/// pipe fills their last argument.
pub const FUNCS: &[Func] = &[
    last("regexMatch", regex_match),
    last("mustRegexMatch", must_regex_match),
    last("regexFind", regex_find),
    last("mustRegexFind", must_regex_find),
    last("regexFindAll", regex_find_all),
    last("mustRegexFindAll", must_regex_find_all),
    last("regexReplaceAll", regex_replace_all),
    last("mustRegexReplaceAll", must_regex_replace_all),
    last("regexReplaceAllLiteral", regex_replace_all_literal),
    last("mustRegexReplaceAllLiteral", must_regex_replace_all_literal),
    last("regexSplit", regex_split),
    last("mustRegexSplit", must_regex_split),
    last("regexQuoteMeta", regex_quote_meta),
];

// ---------------------------------------------------------------------------------------------
// Go pattern → regex crate pattern.

/// A compiled Go regular expression.
pub(super) struct GoRegex {
    re: regex::Regex,
    /// Go's name of each capture group (index 0 is the whole match), "" when unnamed.
    names: Vec<String>,
}

const POSIX_CLASSES: &[(&str, &str)] = &[
    ("alnum", "0-9A-Za-z"),
    ("alpha", "A-Za-z"),
    ("ascii", "\\x00-\\x7F"),
    ("blank", "\\t "),
    ("cntrl", "\\x00-\\x1F\\x7F"),
    ("digit", "0-9"),
    ("graph", "!-~"),
    ("lower", "a-z"),
    ("print", " -~"),
    ("punct", "!-/:-@\\[-`\\{-~"),
    ("space", "\\t\\n\\x0B\\x0C\\r "),
    ("upper", "A-Z"),
    ("word", "0-9A-Za-z_"),
    ("xdigit", "0-9A-Fa-f"),
];

/// Go's Perl classes, ASCII only.
fn perl_class(c: char) -> Option<(&'static str, bool)> {
    match c {
        'd' => Some(("0-9", false)),
        'D' => Some(("0-9", true)),
        's' => Some(("\\t\\n\\x0C\\r ", false)),
        'S' => Some(("\\t\\n\\x0C\\r ", true)),
        'w' => Some(("0-9A-Za-z_", false)),
        'W' => Some(("0-9A-Za-z_", true)),
        _ => None,
    }
}

/// A character as a literal in the crate's syntax (outside or inside a class): the crate's
/// meta characters escaped (`<` and `>` stay bare: escaped, the crate reads word boundaries).
fn lit(c: char) -> String {
    if "\\.+*?()|[]{}^$#&-~".contains(c) {
        format!("\\{c}")
    } else if c.is_control() {
        format!("\\x{{{:X}}}", c as u32)
    } else {
        c.to_string()
    }
}

struct Translator<'a> {
    src: &'a str,
    chars: Vec<(usize, char)>,
    pos: usize,
    out: String,
    names: Vec<String>,
    /// Output offsets where each open group started, and its source offset.
    groups: Vec<usize>,
    /// Whether the last item can take a repetition operator, and where the last
    /// repetition operator (if the last item is one) started in the source.
    can_repeat: bool,
    last_repeat: Option<usize>,
}

fn perr(code: &str, expr: &str) -> String {
    format!("error parsing regexp: {code}: `{expr}`")
}

impl Translator<'_> {
    fn peek(&self) -> Option<char> {
        self.chars.get(self.pos).map(|&(_, c)| c)
    }

    fn peek_at(&self, k: usize) -> Option<char> {
        self.chars.get(self.pos + k).map(|&(_, c)| c)
    }

    fn offset(&self) -> usize {
        self.chars.get(self.pos).map_or(self.src.len(), |&(o, _)| o)
    }

    fn rest(&self) -> &str {
        &self.src[self.offset()..]
    }

    fn atom(&mut self, text: &str) {
        self.out.push_str(text);
        self.can_repeat = true;
        self.last_repeat = None;
    }

    fn run(mut self) -> Result<(String, Vec<String>), String> {
        while let Some(c) = self.peek() {
            let start = self.offset();
            match c {
                '(' => self.open_group()?,
                ')' => {
                    if self.groups.pop().is_none() {
                        return Err(perr("unexpected )", self.src));
                    }
                    self.pos += 1;
                    self.atom(")");
                }
                '|' => {
                    self.pos += 1;
                    self.out.push('|');
                    self.can_repeat = false;
                    self.last_repeat = None;
                }
                '*' | '+' | '?' => {
                    self.pos += 1;
                    self.repeat(start, &c.to_string())?;
                }
                '{' => match self.counted_repeat() {
                    Some((text, min, max)) => {
                        if min > 1000 || max.is_some_and(|m| m > 1000 || m < min) {
                            return Err(perr("invalid repeat count", &text));
                        }
                        self.repeat(start, &text)?;
                    }
                    None => {
                        self.pos += 1;
                        self.atom("\\{");
                    }
                },
                '[' => self.class()?,
                '\\' => self.escape()?,
                '.' | '^' | '$' => {
                    self.pos += 1;
                    self.atom(&c.to_string());
                }
                c => {
                    self.pos += 1;
                    self.atom(&lit(c));
                }
            }
        }
        if !self.groups.is_empty() {
            return Err(perr("missing closing )", self.src));
        }
        Ok((self.out, self.names))
    }

    /// A repetition operator whose text (`*`, `{2,3}`) was consumed from `start`.
    fn repeat(&mut self, start: usize, text: &str) -> Result<(), String> {
        let mut op = text.to_owned();
        if self.peek() == Some('?') {
            self.pos += 1;
            op.push('?');
        }
        if let Some(prev) = self.last_repeat {
            let end = self.offset();
            return Err(perr(
                "invalid nested repetition operator",
                &self.src[prev..end],
            ));
        }
        if !self.can_repeat {
            return Err(perr("missing argument to repetition operator", &op));
        }
        self.out.push_str(&op);
        self.last_repeat = Some(start);
        Ok(())
    }

    /// `{n}`, `{n,}` or `{n,m}` at the current position: its text and bounds.
    fn counted_repeat(&mut self) -> Option<(String, u64, Option<u64>)> {
        let rest = self.rest();
        let close = rest.find('}')?;
        let body = &rest[1..close];
        let (min, max) = match body.split_once(',') {
            None => (body, Some(body)),
            Some((a, "")) => (a, None),
            Some((a, b)) => (a, Some(b)),
        };
        let num = |s: &str| -> Option<u64> {
            if s.is_empty() || !s.bytes().all(|c| c.is_ascii_digit()) {
                return None;
            }
            Some(s.parse::<u64>().unwrap_or(u64::MAX))
        };
        let min = num(min)?;
        let max = match max {
            Some(m) => Some(num(m)?),
            None => None,
        };
        let text = rest[..=close].to_owned();
        self.pos += text.chars().count();
        Some((text, min, max))
    }

    fn open_group(&mut self) -> Result<(), String> {
        let start = self.offset();
        self.pos += 1;
        if self.peek() != Some('?') {
            self.names.push(String::new());
            self.groups.push(start);
            self.out.push('(');
            self.can_repeat = false;
            self.last_repeat = None;
            return Ok(());
        }
        // Named capture: (?P<name> or (?<name>
        let named = if self.rest().starts_with("?P<") {
            Some(3)
        } else if self.rest().starts_with("?<") {
            Some(2)
        } else {
            None
        };
        if let Some(skip) = named {
            let rest = &self.src[self.offset() + skip..];
            let Some(end) = rest.find('>') else {
                return Err(perr("invalid named capture", &self.src[start..]));
            };
            let name = &rest[..end];
            let text_end = self.offset() + skip + end + 1;
            if name.is_empty() || !name.chars().all(|c| c == '_' || c.is_ascii_alphanumeric()) {
                return Err(perr("invalid named capture", &self.src[start..text_end]));
            }
            self.names.push(name.to_owned());
            while self.offset() < text_end {
                self.pos += 1;
            }
            self.groups.push(start);
            self.out.push('(');
            self.can_repeat = false;
            self.last_repeat = None;
            return Ok(());
        }
        // Flags: (?flags) or (?flags:
        self.pos += 1;
        let mut flags = String::new();
        let mut negated = false;
        let mut saw_flag = false;
        loop {
            let Some(c) = self.peek() else {
                return Err(perr(
                    "invalid or unsupported Perl syntax",
                    &self.src[start..],
                ));
            };
            self.pos += 1;
            match c {
                'i' | 'm' | 's' | 'U' => {
                    flags.push(c);
                    saw_flag = true;
                }
                '-' if !negated => {
                    negated = true;
                    saw_flag = false;
                    flags.push('-');
                }
                ':' | ')' if !negated || saw_flag => {
                    if c == ':' {
                        self.groups.push(start);
                        self.out.push_str(&format!("(?{flags}:"));
                        self.can_repeat = false;
                        self.last_repeat = None;
                    } else if !flags.is_empty() {
                        self.out.push_str(&format!("(?{flags})"));
                    }
                    // A flag group is not an operand for a repetition.
                    if c == ')' {
                        self.can_repeat = false;
                        self.last_repeat = None;
                    }
                    return Ok(());
                }
                _ => {
                    let end = self.offset();
                    return Err(perr(
                        "invalid or unsupported Perl syntax",
                        &self.src[start..end],
                    ));
                }
            }
        }
    }

    /// One escape outside a class.
    fn escape(&mut self) -> Result<(), String> {
        let start = self.offset();
        self.pos += 1;
        let Some(c) = self.peek() else {
            return Err(perr("trailing backslash at end of expression", ""));
        };
        self.pos += 1;
        match c {
            'Q' => {
                let rest = self.rest();
                let (quoted, consumed) = match rest.find("\\E") {
                    Some(i) => (&rest[..i], i + 2),
                    None => (rest, rest.len()),
                };
                let text: String = quoted.chars().map(lit).collect();
                let n = self.src[self.offset()..self.offset() + consumed]
                    .chars()
                    .count();
                self.pos += n;
                if !text.is_empty() {
                    // Only the last quoted character takes a following repetition, as in Go.
                    self.atom(&text);
                }
            }
            'A' => self.atom("\\A"),
            'z' => self.atom("\\z"),
            'b' => self.atom("(?-u:\\b)"),
            'B' => self.atom("(?-u:\\B)"),
            'p' | 'P' => {
                let class = self.unicode_class(start, c)?;
                self.atom(&class);
            }
            c if perl_class(c).is_some() => {
                let (set, neg) = perl_class(c).unwrap_or(("", false));
                self.atom(&format!("[{}{set}]", if neg { "^" } else { "" }));
            }
            _ => {
                self.pos -= 1;
                let ch = self.escaped_char(start)?;
                self.atom(&lit(ch));
            }
        }
        Ok(())
    }

    /// `\pL`, `\p{Greek}`, `\PL`, `\P{^Greek}`; the reader is just past `p`/`P`.
    fn unicode_class(&mut self, start: usize, c: char) -> Result<String, String> {
        let Some(first) = self.peek() else {
            return Err(perr("invalid character class range", &self.src[start..]));
        };
        let name = if first == '{' {
            let rest = self.rest();
            let Some(end) = rest.find('}') else {
                return Err(perr("invalid character class range", &self.src[start..]));
            };
            let name = rest[1..end].to_owned();
            self.pos += rest[..=end].chars().count();
            name
        } else {
            self.pos += 1;
            first.to_string()
        };
        let end = self.offset();
        let (neg, bare) = match name.strip_prefix('^') {
            Some(n) => (c == 'p', n),
            None => (c == 'P', name.as_str()),
        };
        let class = if bare == "Any" {
            format!("[{}\\x00-\\x{{10FFFF}}]", if neg { "^" } else { "" })
        } else {
            format!("\\{}{{{bare}}}", if neg { 'P' } else { 'p' })
        };
        // Let the crate judge the name, with Go's message when it does not know it.
        if bare.is_empty()
            || !bare.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
            || regex::Regex::new(&class).is_err()
        {
            return Err(perr("invalid character class range", &self.src[start..end]));
        }
        Ok(class)
    }

    /// A single-character escape (the reader is at the character after `\`).
    fn escaped_char(&mut self, start: usize) -> Result<char, String> {
        let c = self.peek().unwrap_or('\\');
        self.pos += 1;
        let invalid = |t: &Self| perr("invalid escape sequence", &t.src[start..t.offset()]);
        Ok(match c {
            '1'..='7' if !self.peek().is_some_and(|d| ('0'..='7').contains(&d)) => {
                return Err(invalid(self));
            }
            '0'..='7' => {
                let mut n = c.to_digit(8).unwrap_or(0);
                for _ in 0..2 {
                    match self.peek().and_then(|d| d.to_digit(8)) {
                        Some(d) => {
                            n = n * 8 + d;
                            self.pos += 1;
                        }
                        None => break,
                    }
                }
                char::from_u32(n).unwrap_or('\0')
            }
            'x' => {
                let rest = self.rest();
                let hex = if rest.starts_with('{') {
                    let Some(end) = rest.find('}') else {
                        self.pos += rest.chars().count();
                        return Err(invalid(self));
                    };
                    let h = rest[1..end].to_owned();
                    self.pos += rest[..=end].chars().count();
                    h
                } else {
                    let h: String = rest.chars().take(2).collect();
                    self.pos += h.chars().count();
                    if h.len() < 2 {
                        return Err(invalid(self));
                    }
                    h
                };
                match u32::from_str_radix(&hex, 16).ok().and_then(char::from_u32) {
                    Some(ch) if !hex.is_empty() && hex.bytes().all(|b| b.is_ascii_hexdigit()) => ch,
                    _ => return Err(invalid(self)),
                }
            }
            'a' => '\u{7}',
            'f' => '\u{c}',
            'n' => '\n',
            'r' => '\r',
            't' => '\t',
            'v' => '\u{b}',
            c if c.is_ascii() && !c.is_ascii_alphanumeric() => c,
            _ => return Err(invalid(self)),
        })
    }

    /// A bracketed class.
    fn class(&mut self) -> Result<(), String> {
        let start = self.offset();
        self.pos += 1;
        let mut out = String::from("[");
        if self.peek() == Some('^') {
            self.pos += 1;
            out.push('^');
        }
        let mut first = true;
        loop {
            let Some(c) = self.peek() else {
                return Err(perr("missing closing ]", &self.src[start..]));
            };
            if c == ']' && !first {
                self.pos += 1;
                break;
            }
            first = false;
            let item_start = self.offset();
            // POSIX class.
            if self.rest().starts_with("[:")
                && let Some(end) = self.rest()[2..].find(":]")
            {
                let name = &self.rest()[2..2 + end];
                let text_len = end + 4;
                let (neg, bare) = match name.strip_prefix('^') {
                    Some(n) => (true, n),
                    None => (false, name),
                };
                let Some((_, set)) = POSIX_CLASSES.iter().find(|(n, _)| *n == bare) else {
                    let text = &self.src[item_start..item_start + text_len];
                    return Err(perr("invalid character class range", text));
                };
                out.push_str(&if neg {
                    format!("[^{set}]")
                } else {
                    set.to_string()
                });
                self.pos += self.src[item_start..item_start + text_len].chars().count();
                continue;
            }
            if c == '\\' {
                match self.peek_at(1) {
                    Some(p) if perl_class(p).is_some() => {
                        let (set, neg) = perl_class(p).unwrap_or(("", false));
                        out.push_str(&if neg {
                            format!("[^{set}]")
                        } else {
                            set.to_string()
                        });
                        self.pos += 2;
                        continue;
                    }
                    Some(p @ ('p' | 'P')) => {
                        self.pos += 2;
                        let class = self.unicode_class(item_start, p)?;
                        out.push_str(&class);
                        continue;
                    }
                    None => {
                        return Err(perr("missing closing ]", &self.src[start..]));
                    }
                    _ => {}
                }
            }
            let lo = self.class_char(start)?;
            if self.peek() == Some('-') && self.peek_at(1).is_some_and(|n| n != ']') {
                self.pos += 1;
                let hi = self.class_char(start)?;
                if hi < lo {
                    let text = &self.src[item_start..self.offset()];
                    return Err(perr("invalid character class range", text));
                }
                out.push_str(&format!("{}-{}", lit(lo), lit(hi)));
            } else {
                out.push_str(&lit(lo));
            }
        }
        out.push(']');
        self.atom(&out);
        Ok(())
    }

    fn class_char(&mut self, class_start: usize) -> Result<char, String> {
        let Some(c) = self.peek() else {
            return Err(perr("missing closing ]", &self.src[class_start..]));
        };
        if c == '\\' {
            let start = self.offset();
            self.pos += 1;
            if self.peek().is_none() {
                return Err(perr("missing closing ]", &self.src[class_start..]));
            }
            return self.escaped_char(start);
        }
        self.pos += 1;
        Ok(c)
    }
}

impl GoRegex {
    /// Compiles a Go pattern; the error is Go's (`error parsing regexp: …`).
    pub(super) fn new(pattern: &str) -> Result<GoRegex, String> {
        let t = Translator {
            src: pattern,
            chars: pattern.char_indices().collect(),
            pos: 0,
            out: String::new(),
            names: vec![String::new()],
            groups: Vec::new(),
            can_repeat: false,
            last_repeat: None,
        };
        let (translated, names) = t.run()?;
        let re = regex::RegexBuilder::new(&translated)
            .octal(false)
            .build()
            .map_err(|e| match e {
                regex::Error::CompiledTooBig(_) => perr("expression too large", pattern),
                other => format!("error parsing regexp: {other}"),
            })?;
        Ok(GoRegex { re, names })
    }

    /// [`GoRegex::new`] through a per-thread cache: templates call the regex functions with
    /// the same few patterns over and over (in loops and helpers), and compiling is the
    /// costly part.
    pub(super) fn cached(pattern: &str) -> Result<std::rc::Rc<GoRegex>, String> {
        /// Patterns remembered per thread before the cache starts over.
        const LIMIT: usize = 512;
        type Compiled = Result<std::rc::Rc<GoRegex>, String>;
        thread_local! {
            static CACHE: std::cell::RefCell<std::collections::HashMap<String, Compiled, foldhash::fast::RandomState>> =
                std::cell::RefCell::default();
        }
        CACHE.with(|cache| {
            if let Some(hit) = cache.borrow().get(pattern) {
                return hit.clone();
            }
            let compiled = GoRegex::new(pattern).map(std::rc::Rc::new);
            let mut cache = cache.borrow_mut();
            if cache.len() >= LIMIT {
                cache.clear();
            }
            cache.insert(pattern.to_owned(), compiled.clone());
            compiled
        })
    }

    fn is_match(&self, s: &str) -> bool {
        self.re.is_match(s)
    }

    /// Go's `FindAllStringIndex` (capture positions of each match), at most `n` (all when
    /// negative).
    fn find_all(&self, s: &str, n: i64) -> Vec<Vec<Option<(usize, usize)>>> {
        let n = if n < 0 { s.len() as i64 + 1 } else { n };
        let mut out = Vec::new();
        let mut locs = self.re.capture_locations();
        let (mut pos, mut prev_end): (usize, Option<usize>) = (0, None);
        while (out.len() as i64) < n && pos <= s.len() {
            let Some(m) = self.re.captures_read_at(&mut locs, s, pos) else {
                break;
            };
            let mut accept = true;
            if m.end() == pos {
                if Some(m.start()) == prev_end {
                    accept = false;
                }
                pos += s[pos..].chars().next().map_or(1, char::len_utf8);
            } else {
                pos = m.end();
            }
            prev_end = Some(m.end());
            if accept {
                out.push((0..locs.len()).map(|i| locs.get(i)).collect());
            }
        }
        out
    }

    /// Go's `ReplaceAllString` (with `$` expansion) or `ReplaceAllLiteralString`.
    fn replace_all(&self, src: &str, repl: &str, literal: bool) -> String {
        let mut buf = String::new();
        let (mut last_end, mut search) = (0usize, 0usize);
        let mut locs = self.re.capture_locations();
        while search <= src.len() {
            let Some(m) = self.re.captures_read_at(&mut locs, src, search) else {
                break;
            };
            buf.push_str(&src[last_end..m.start()]);
            if m.end() > last_end || m.start() == 0 {
                if literal {
                    buf.push_str(repl);
                } else {
                    let groups: Vec<Option<(usize, usize)>> =
                        (0..locs.len()).map(|i| locs.get(i)).collect();
                    self.expand(&mut buf, repl, src, &groups);
                }
            }
            last_end = m.end();
            let width = src[search..].chars().next().map_or(0, char::len_utf8);
            if search + width > m.end() {
                search += width;
            } else if search + 1 > m.end() {
                search += 1;
            } else {
                search = m.end();
            }
        }
        buf.push_str(&src[last_end..]);
        buf
    }

    /// Go's `Regexp.expand`.
    fn expand(
        &self,
        dst: &mut String,
        mut template: &str,
        src: &str,
        m: &[Option<(usize, usize)>],
    ) {
        while let Some(i) = template.find('$') {
            dst.push_str(&template[..i]);
            template = &template[i + 1..];
            if let Some(rest) = template.strip_prefix('$') {
                dst.push('$');
                template = rest;
                continue;
            }
            let Some((name, num, rest)) = extract(template) else {
                dst.push('$');
                continue;
            };
            template = rest;
            if let Some(num) = num {
                if let Some(Some((a, b))) = m.get(num) {
                    dst.push_str(&src[*a..*b]);
                }
            } else {
                for (i, n) in self.names.iter().enumerate() {
                    if !n.is_empty()
                        && n == name
                        && let Some(Some((a, b))) = m.get(i)
                    {
                        dst.push_str(&src[*a..*b]);
                        break;
                    }
                }
            }
        }
        dst.push_str(template);
    }
}

/// Go's `extract`: a `$` reference's name, its number when it is one, and the rest.
fn extract(s: &str) -> Option<(&str, Option<usize>, &str)> {
    let (brace, body) = match s.strip_prefix('{') {
        Some(b) => (true, b),
        None => (false, s),
    };
    let len: usize = body
        .chars()
        .take_while(|c| c.is_alphanumeric() || *c == '_')
        .map(char::len_utf8)
        .sum();
    if len == 0 {
        return None;
    }
    let name = &body[..len];
    let mut rest = &body[len..];
    if brace {
        rest = rest.strip_prefix('}')?;
    }
    let mut num: Option<usize> = Some(0);
    for b in name.bytes() {
        match num {
            Some(n) if b.is_ascii_digit() && n < 100_000_000 => {
                num = Some(n * 10 + usize::from(b - b'0'));
            }
            _ => {
                num = None;
                break;
            }
        }
    }
    if name.len() > 1 && name.starts_with('0') {
        num = None;
    }
    Some((name, num, rest))
}

// ---------------------------------------------------------------------------------------------
// The functions.

/// Compiles for a `must…` function (Go's compile error) or a plain one (the panic message of
/// `regexp.MustCompile`, which Helm reports).
fn compile(pattern: &str, must: bool) -> Result<std::rc::Rc<GoRegex>, FuncError> {
    GoRegex::cached(pattern).map_err(|e| {
        if must {
            FuncError::new(e)
        } else {
            FuncError::new(format!("regexp: Compile(`{pattern}`): {e}"))
        }
    })
}

fn strings(v: Vec<&str>) -> Value {
    Value::List(v.into_iter().map(Value::from).collect())
}

/// `regexMatch REGEX STRING`: false for an invalid pattern.
fn regex_match(args: &[Value]) -> FuncResult {
    arity("regexMatch", args, 2)?;
    let (re, subject) = (s(&args[0])?, s(&args[1])?);
    Ok(Value::Bool(
        GoRegex::cached(re).is_ok_and(|r| r.is_match(subject)),
    ))
}

/// `mustRegexMatch REGEX STRING`.
fn must_regex_match(args: &[Value]) -> FuncResult {
    arity("mustRegexMatch", args, 2)?;
    let (re, subject) = (s(&args[0])?, s(&args[1])?);
    Ok(Value::Bool(compile(re, true)?.is_match(subject)))
}

fn find(args: &[Value], name: &str, must: bool) -> FuncResult {
    arity(name, args, 2)?;
    let (re, subject) = (s(&args[0])?, s(&args[1])?);
    let re = compile(re, must)?;
    Ok(Value::from(re.re.find(subject).map_or("", |m| m.as_str())))
}

/// `regexFind REGEX STRING`: the first match, or "".
fn regex_find(args: &[Value]) -> FuncResult {
    find(args, "regexFind", false)
}

/// `mustRegexFind REGEX STRING`.
fn must_regex_find(args: &[Value]) -> FuncResult {
    find(args, "mustRegexFind", true)
}

fn find_all(args: &[Value], name: &str, must: bool) -> FuncResult {
    arity(name, args, 3)?;
    let (re, subject, n) = (s(&args[0])?, s(&args[1])?, int(&args[2])?);
    let re = compile(re, must)?;
    let matches = re.find_all(subject, n);
    Ok(strings(
        matches
            .iter()
            .filter_map(|m| m[0].map(|(a, b)| &subject[a..b]))
            .collect(),
    ))
}

/// `regexFindAll REGEX STRING N`: up to N matches (all when N < 0).
fn regex_find_all(args: &[Value]) -> FuncResult {
    find_all(args, "regexFindAll", false)
}

/// `mustRegexFindAll REGEX STRING N`.
fn must_regex_find_all(args: &[Value]) -> FuncResult {
    find_all(args, "mustRegexFindAll", true)
}

fn replace(args: &[Value], name: &str, must: bool, literal: bool) -> FuncResult {
    arity(name, args, 3)?;
    let (re, subject, repl) = (s(&args[0])?, s(&args[1])?, s(&args[2])?);
    let re = compile(re, must)?;
    Ok(Value::String(re.replace_all(subject, repl, literal)))
}

/// `regexReplaceAll REGEX STRING REPLACEMENT`: `$1`, `${1}`, `$name` expand.
fn regex_replace_all(args: &[Value]) -> FuncResult {
    replace(args, "regexReplaceAll", false, false)
}

/// `mustRegexReplaceAll REGEX STRING REPLACEMENT`.
fn must_regex_replace_all(args: &[Value]) -> FuncResult {
    replace(args, "mustRegexReplaceAll", true, false)
}

/// `regexReplaceAllLiteral REGEX STRING REPLACEMENT`: no expansion.
fn regex_replace_all_literal(args: &[Value]) -> FuncResult {
    replace(args, "regexReplaceAllLiteral", false, true)
}

/// `mustRegexReplaceAllLiteral REGEX STRING REPLACEMENT`.
fn must_regex_replace_all_literal(args: &[Value]) -> FuncResult {
    replace(args, "mustRegexReplaceAllLiteral", true, true)
}

fn split(args: &[Value], name: &str, must: bool) -> FuncResult {
    arity(name, args, 3)?;
    let (re, subject, n) = (s(&args[0])?, s(&args[1])?, int(&args[2])?);
    let re = compile(re, must)?;
    if n == 0 {
        return Ok(Value::List(Vec::new()));
    }
    if !args[0].as_str().unwrap_or("").is_empty() && subject.is_empty() {
        return Ok(strings(vec![""]));
    }
    let matches = re.find_all(subject, n);
    let mut out = Vec::new();
    let (mut beg, mut end) = (0, 0);
    for m in &matches {
        if n > 0 && out.len() as i64 == n - 1 {
            break;
        }
        let (a, b) = m[0].unwrap_or((0, 0));
        end = a;
        if b != 0 {
            out.push(&subject[beg..end]);
        }
        beg = b;
    }
    if end != subject.len() {
        out.push(&subject[beg..]);
    }
    Ok(strings(out))
}

/// `regexSplit REGEX STRING N`: at most N pieces (all when N < 0).
fn regex_split(args: &[Value]) -> FuncResult {
    split(args, "regexSplit", false)
}

/// `mustRegexSplit REGEX STRING N`.
fn must_regex_split(args: &[Value]) -> FuncResult {
    split(args, "mustRegexSplit", true)
}

/// `regexQuoteMeta STRING`: Go's `regexp.QuoteMeta`.
fn regex_quote_meta(args: &[Value]) -> FuncResult {
    arity("regexQuoteMeta", args, 1)?;
    let subject = s(&args[0])?;
    let mut out = String::with_capacity(subject.len());
    for c in subject.chars() {
        if "\\.+*?()|[]{}^$".contains(c) {
            out.push('\\');
        }
        out.push(c);
    }
    Ok(Value::String(out))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tr(p: &str) -> Result<String, String> {
        GoRegex::new(p).map(|r| r.re.as_str().to_owned())
    }

    #[test]
    fn ascii_perl_classes() {
        let re = GoRegex::new(r"\d+").unwrap();
        assert!(
            !re.is_match("\u{663}"),
            "Arabic-Indic digit is not \\d in Go"
        );
        assert!(GoRegex::new(r"\w").unwrap().is_match("a"));
        assert!(!GoRegex::new(r"^\w$").unwrap().is_match("\u{e9}"));
        assert!(!GoRegex::new(r"^\s$").unwrap().is_match("\u{b}"));
        assert!(GoRegex::new(r"[^\d]").unwrap().is_match("\u{663}"));
    }

    #[test]
    fn literal_operators_in_classes() {
        let re = GoRegex::new("^[a&&b]+$").unwrap();
        // The cache hands back the same compiled pattern, and remembers failures too.
        let (a, b) = (GoRegex::cached(r"x\d+"), GoRegex::cached(r"x\d+"));
        assert!(std::rc::Rc::ptr_eq(&a.unwrap(), &b.unwrap()));
        assert_eq!(GoRegex::cached("(").err(), GoRegex::new("(").err());
        assert!(re.is_match("a&b"));
        let re = GoRegex::new("^[a-c-e]+$").unwrap();
        assert!(re.is_match("a-e"));
        assert!(tr("[]a]").is_ok());
    }

    #[test]
    fn go_errors() {
        assert_eq!(
            tr("(a").unwrap_err(),
            "error parsing regexp: missing closing ): `(a`"
        );
        assert_eq!(
            tr("a**").unwrap_err(),
            "error parsing regexp: invalid nested repetition operator: `**`"
        );
        assert_eq!(
            tr("x{1,2}{3}").unwrap_err(),
            "error parsing regexp: invalid nested repetition operator: `{1,2}{3}`"
        );
        assert!(tr("a{,2}").is_ok(), "a literal brace");
        assert!(tr("(?i)a").is_ok());
        assert!(tr("(?)a").is_ok());
    }

    #[test]
    fn dollar_names() {
        assert_eq!(extract("1x"), Some(("1x", None, "")));
        assert_eq!(extract("{1}x"), Some(("1", Some(1), "x")));
        assert_eq!(extract("01"), Some(("01", None, "")));
        assert_eq!(extract("{x"), None);
        assert_eq!(extract(" "), None);
    }
}
