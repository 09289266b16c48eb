//! Checks the core function groups against `tests/data/funcs/core.tsv`, Helm's own answers
//! (see `scripts/regen-funcs-core`).
//!
//! A tiny evaluator reads the table's Go-template expressions: function calls, string, raw
//! string, character, number, `true`/`false`/`nil` literals, parenthesised pipelines and
//! `a | b` pipelines (the left value becomes b's last argument). Results print the way
//! Helm prints `{{ … }}`: Go's `%v`, with a null result printing nothing.

use super::format::go_sprint_value;
use super::{FuncError, find};
use crate::value::Value;

/// Why some rows differ: see [`KNOWN_DIFFERENCES`].
const INT_LITERAL: &str =
    "Go template integer literals are Go `int`; pack has one integer type, named `int64`";
const TYPED_RESULT: &str =
    "Sprig returns a typed Go slice or map here; pack has one list and one map type";
const BROKEN_UTF8: &str =
    "Go cuts inside a UTF-8 sequence; pack strings stay valid UTF-8 (U+FFFD for the piece)";
const CONSTANT_ARG: &str = "Go rejects a constant argument while parsing (`expected string; found 5`); pack's function sees a value and words it as Go does for values";

/// Rows pack answers differently from Helm, each with the reason.
const KNOWN_DIFFERENCES: &[(&str, &str)] = &[
    ("typeOf 5", INT_LITERAL),
    ("typeOf (int 1)", INT_LITERAL),
    ("typeOf (len \"a\")", INT_LITERAL),
    ("typeIs \"int\" 1", INT_LITERAL),
    ("typeIsLike \"int64\" 5", INT_LITERAL),
    ("kindOf 1", INT_LITERAL),
    ("kindIs \"int\" 5", INT_LITERAL),
    (
        "trunc (int64 5) \"hello world\"",
        "Go refuses an int64 for an `int` parameter; pack cannot tell int from int64",
    ),
    (
        "uniq (list 1 (int64 1))",
        "Go's DeepEqual tells int from int64; pack cannot",
    ),
    (
        "has 1 (list (int64 1))",
        "Go's DeepEqual tells int from int64; pack cannot",
    ),
    ("upper 5", CONSTANT_ARG),
    ("trunc 5.5 \"hello world\"", CONSTANT_ARG),
    (
        "trunc 5.0 \"hello world\"",
        "Go converts a whole float constant to an `int` parameter; pack cannot tell the literal from a values-file float, which Helm refuses",
    ),
    ("trunc 2 \"héllo\"", BROKEN_UTF8),
    ("substr 0 2 \"héllo\"", BROKEN_UTF8),
    ("abbrev 5 \"héllo world\"", BROKEN_UTF8),
    ("typeOf (toStrings (list 1))", TYPED_RESULT),
    ("typeOf (splitList \",\" \"a\")", TYPED_RESULT),
    ("typeOf (split \",\" \"a\")", TYPED_RESULT),
    ("typeOf (until 3)", TYPED_RESULT),
];

struct Parser<'a> {
    src: &'a [u8],
    text: &'a str,
    pos: usize,
}

#[derive(Debug, Clone)]
enum Node {
    Lit(Value),
    Call(String, Vec<Node>),
    Pipe(Vec<Node>),
}

impl<'a> Parser<'a> {
    fn new(text: &'a str) -> Self {
        Parser {
            src: text.as_bytes(),
            text,
            pos: 0,
        }
    }

    fn skip_ws(&mut self) {
        while self.pos < self.src.len() && self.src[self.pos].is_ascii_whitespace() {
            self.pos += 1;
        }
    }

    fn peek(&self) -> Option<u8> {
        self.src.get(self.pos).copied()
    }

    fn err(&self, msg: &str) -> String {
        format!("{msg} at {} in {:?}", self.pos, self.text)
    }

    /// pipeline := command ('|' command)*
    fn pipeline(&mut self) -> Result<Node, String> {
        let mut cmds = vec![self.command()?];
        loop {
            self.skip_ws();
            if self.peek() == Some(b'|') {
                self.pos += 1;
                cmds.push(self.command()?);
            } else {
                break;
            }
        }
        Ok(if cmds.len() == 1 {
            cmds.remove(0)
        } else {
            Node::Pipe(cmds)
        })
    }

    /// command := identifier operand* | operand
    fn command(&mut self) -> Result<Node, String> {
        self.skip_ws();
        if let Some(name) = self.ident() {
            match name.as_str() {
                "true" => return Ok(Node::Lit(Value::Bool(true))),
                "false" => return Ok(Node::Lit(Value::Bool(false))),
                "nil" => return Ok(Node::Lit(Value::Null)),
                _ => {}
            }
            let mut args = Vec::new();
            loop {
                self.skip_ws();
                match self.peek() {
                    None | Some(b'|') | Some(b')') => break,
                    _ => args.push(self.operand()?),
                }
            }
            return Ok(Node::Call(name, args));
        }
        self.operand()
    }

    fn ident(&mut self) -> Option<String> {
        let start = self.pos;
        if !self
            .peek()
            .is_some_and(|c| c.is_ascii_alphabetic() || c == b'_')
        {
            return None;
        }
        while self
            .peek()
            .is_some_and(|c| c.is_ascii_alphanumeric() || c == b'_')
        {
            self.pos += 1;
        }
        Some(self.text[start..self.pos].to_owned())
    }

    fn operand(&mut self) -> Result<Node, String> {
        self.skip_ws();
        match self.peek() {
            Some(b'(') => {
                self.pos += 1;
                let p = self.pipeline()?;
                self.skip_ws();
                if self.peek() != Some(b')') {
                    return Err(self.err("expected )"));
                }
                self.pos += 1;
                Ok(p)
            }
            Some(b'"') => Ok(Node::Lit(Value::String(self.quoted()?))),
            Some(b'`') => {
                self.pos += 1;
                let start = self.pos;
                while self.peek().is_some_and(|c| c != b'`') {
                    self.pos += 1;
                }
                let s = self.text[start..self.pos].to_owned();
                self.pos += 1;
                Ok(Node::Lit(Value::String(s)))
            }
            Some(b'\'') => {
                self.pos += 1;
                let c = self.escaped_char(b'\'')?;
                if self.peek() != Some(b'\'') {
                    return Err(self.err("bad character constant"));
                }
                self.pos += 1;
                Ok(Node::Lit(Value::Int(i64::from(u32::from(c)))))
            }
            Some(c) if c.is_ascii_digit() || c == b'-' || c == b'+' || c == b'.' => self.number(),
            _ => match self.ident() {
                Some(name) => match name.as_str() {
                    "true" => Ok(Node::Lit(Value::Bool(true))),
                    "false" => Ok(Node::Lit(Value::Bool(false))),
                    "nil" => Ok(Node::Lit(Value::Null)),
                    _ => Ok(Node::Call(name, Vec::new())),
                },
                None => Err(self.err("unexpected character")),
            },
        }
    }

    fn escaped_char(&mut self, quote: u8) -> Result<char, String> {
        let rest = &self.text[self.pos..];
        let c = rest
            .chars()
            .next()
            .ok_or_else(|| self.err("unterminated"))?;
        if c as u32 == u32::from(quote) {
            return Err(self.err("empty"));
        }
        if c != '\\' {
            self.pos += c.len_utf8();
            return Ok(c);
        }
        self.pos += 1;
        let e = self.peek().ok_or_else(|| self.err("bad escape"))?;
        self.pos += 1;
        let hex = |p: &mut Self, n: usize| -> Result<char, String> {
            let h = &p.text[p.pos..p.pos + n];
            p.pos += n;
            u32::from_str_radix(h, 16)
                .ok()
                .and_then(char::from_u32)
                .ok_or_else(|| p.err("bad hex escape"))
        };
        Ok(match e {
            b'n' => '\n',
            b't' => '\t',
            b'r' => '\r',
            b'a' => '\x07',
            b'b' => '\x08',
            b'f' => '\x0C',
            b'v' => '\x0B',
            b'\\' => '\\',
            b'"' => '"',
            b'\'' => '\'',
            b'x' => hex(self, 2)?,
            b'u' => hex(self, 4)?,
            b'U' => hex(self, 8)?,
            b'0'..=b'7' => {
                let o = &self.text[self.pos - 1..self.pos + 2];
                self.pos += 2;
                char::from_u32(u32::from_str_radix(o, 8).map_err(|_| self.err("octal"))?)
                    .ok_or_else(|| self.err("octal"))?
            }
            _ => return Err(self.err("unknown escape")),
        })
    }

    fn quoted(&mut self) -> Result<String, String> {
        self.pos += 1;
        let mut out = String::new();
        while self.peek() != Some(b'"') {
            if self.peek().is_none() {
                return Err(self.err("unterminated string"));
            }
            out.push(self.escaped_char(b'"')?);
        }
        self.pos += 1;
        Ok(out)
    }

    /// Go's number constants: integers (decimal, 0x, 0o, 0b, leading-0 octal, `_`) are
    /// `int`; anything with a point or exponent is `float64`.
    fn number(&mut self) -> Result<Node, String> {
        let start = self.pos;
        while self
            .peek()
            .is_some_and(|c| c.is_ascii_alphanumeric() || matches!(c, b'.' | b'_' | b'+' | b'-'))
        {
            // A sign is part of the number only at the start or after an exponent.
            let c = self.src[self.pos];
            if (c == b'+' || c == b'-') && self.pos != start {
                let prev = self.src[self.pos - 1].to_ascii_lowercase();
                let hex = self.text[start..self.pos]
                    .to_ascii_lowercase()
                    .contains("0x");
                if !(prev == b'e' && !hex || prev == b'p') {
                    break;
                }
            }
            self.pos += 1;
        }
        let lit = &self.text[start..self.pos];
        let lower = lit.to_ascii_lowercase();
        let is_hex = lower.trim_start_matches(['+', '-']).starts_with("0x");
        let is_float = if is_hex {
            lower.contains('p')
        } else {
            lower.contains(['.', 'e'])
        };
        if !is_float && let Some(i) = super::args::parse_go_int(lit, 0) {
            return Ok(Node::Lit(Value::Int(i)));
        }
        super::args::parse_go_float(lit)
            .map(|f| Node::Lit(Value::Float(f)))
            .ok_or_else(|| self.err("bad number"))
    }
}

fn eval(node: &Node, piped: Option<Value>) -> Result<Value, FuncError> {
    match node {
        Node::Lit(v) => Ok(v.clone()),
        Node::Pipe(cmds) => {
            let mut val = None;
            for c in cmds {
                val = Some(eval(c, val)?);
            }
            Ok(val.unwrap_or(Value::Null))
        }
        Node::Call(name, args) => {
            let f = find(name)
                .ok_or_else(|| FuncError::new(format!("function \"{name}\" not defined")))?;
            let mut vals = args
                .iter()
                .map(|a| eval(a, None))
                .collect::<Result<Vec<_>, _>>()?;
            vals.extend(piped);
            (f.call)(&vals)
        }
    }
}

/// What Helm prints for `{{ expr }}`.
fn render(expr: &str) -> Result<String, String> {
    let mut p = Parser::new(expr);
    let node = p.pipeline().map_err(|e| format!("PARSE: {e}"))?;
    p.skip_ws();
    if p.pos != expr.len() {
        return Err(format!("PARSE: trailing input in {expr:?}"));
    }
    match eval(&node, None) {
        Ok(Value::Null) => Ok(String::new()),
        Ok(v) => Ok(go_sprint_value(&v).replace("<no value>", "")),
        Err(e) => Err(e.0),
    }
}

fn unescape(s: &str) -> String {
    let mut out = String::new();
    let mut it = s.chars();
    while let Some(c) = it.next() {
        if c == '\\' {
            match it.next() {
                Some('n') => out.push('\n'),
                Some('t') => out.push('\t'),
                Some('r') => out.push('\r'),
                Some('\\') => out.push('\\'),
                Some(o) => {
                    out.push('\\');
                    out.push(o);
                }
                None => out.push('\\'),
            }
        } else {
            out.push(c);
        }
    }
    out
}

#[test]
fn core_table_matches_helm() {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data/funcs/core.tsv");
    let table = std::fs::read_to_string(path).expect("core.tsv");
    let mut rows = 0;
    let mut failures = Vec::new();
    let mut known = 0;
    for line in table.lines() {
        if line.is_empty() || line.starts_with('#') || line.starts_with("expression\t") {
            continue;
        }
        let (expr, expected) = line.split_once('\t').expect("two columns");
        rows += 1;
        let expected = unescape(expected);
        let got = render(expr);
        let ok = match (&got, expected.strip_prefix("ERROR: ")) {
            (Err(msg), Some(want)) => msg.contains(want),
            (Ok(out), None) => *out == expected,
            _ => false,
        };
        if KNOWN_DIFFERENCES.iter().any(|(e, _)| *e == expr) {
            known += 1;
            assert!(
                !ok,
                "{expr}: listed as a known difference but now matches Helm"
            );
            continue;
        }
        if !ok {
            failures.push(format!("{expr}\n    helm: {expected:?}\n    pack: {got:?}"));
        }
    }
    assert!(rows >= 250, "only {rows} rows");
    assert!(
        failures.is_empty(),
        "{} of {rows} rows differ from Helm ({known} known):\n  {}",
        failures.len(),
        failures.join("\n  ")
    );
}

#[test]
fn every_function_is_registered_once() {
    let all = super::all();
    let mut names: Vec<&str> = all.iter().map(|f| f.name).collect();
    names.sort_unstable();
    let before = names.len();
    names.dedup();
    assert_eq!(before, names.len(), "duplicate names");
}
