//! Go's `encoding/json` decoding into `interface{}`, as Helm relies on it: every number a
//! float64, `invalid character …` messages worded as Go's, 10,000 levels of nesting, and a
//! number beyond float64 reported only once the text is otherwise valid. Shared by
//! `--set-json` (which reads one value off the front of its input) and `fromJson`.

use super::{Map, Value};

/// Go's `maxNestingDepth` for JSON.
const JSON_MAX_DEPTH: usize = 10_000;

/// The value at the start of `src` (after JSON white space) and the bytes it spans, as
/// `json.Decoder.Decode` reads it: a number or literal ends at the first byte that
/// cannot continue it, whatever that byte is.
pub fn decode_prefix(src: &str) -> Result<(Value, usize), String> {
    let mut scan = Scanner::new(src, "unexpected EOF");
    let value = scan.value()?;
    scan.no_range_error()?;
    Ok((value, scan.pos))
}

/// A whole JSON text, as `json.Unmarshal` reads it.
pub fn decode_whole(src: &str) -> Result<Value, String> {
    let mut scan = Scanner::new(src, "unexpected end of JSON input");
    let value = scan.value()?;
    scan.skip_ws();
    if let Some(b) = scan.peek() {
        return Err(syntax(b, "after top-level value"));
    }
    scan.no_range_error()?;
    Ok(value)
}

enum Frame {
    List(Vec<Value>),
    Map(Map, String),
}

struct Scanner<'a> {
    src: &'a str,
    pos: usize,
    eof_message: &'static str,
    /// A number too large for float64: Go reports it only when the text is otherwise
    /// valid JSON.
    range_error: Option<String>,
}

/// `invalid character 'x' <context>`, naming the byte as Go's `quoteChar` does.
fn syntax(b: u8, context: &str) -> String {
    format!("invalid character {} {context}", quote_char(b))
}

/// Go's `quoteChar`: how a byte is shown in a JSON syntax error.
fn quote_char(c: u8) -> String {
    match c {
        b'\'' => "'\\''".to_owned(),
        b'"' => "'\"'".to_owned(),
        b'\\' => "'\\\\'".to_owned(),
        0x07 => "'\\a'".to_owned(),
        0x08 => "'\\b'".to_owned(),
        0x0c => "'\\f'".to_owned(),
        b'\n' => "'\\n'".to_owned(),
        b'\r' => "'\\r'".to_owned(),
        b'\t' => "'\\t'".to_owned(),
        0x0b => "'\\v'".to_owned(),
        c if c < 0x20 || c == 0x7f => format!("'\\x{c:02x}'"),
        c if (0x80..0xa0).contains(&c) || c == 0xad => format!("'\\u{c:04x}'"),
        c => format!("'{}'", char::from(c)),
    }
}

impl<'a> Scanner<'a> {
    fn new(src: &'a str, eof_message: &'static str) -> Self {
        Scanner {
            src,
            pos: 0,
            eof_message,
            range_error: None,
        }
    }

    fn peek(&self) -> Option<u8> {
        self.src.as_bytes().get(self.pos).copied()
    }

    fn eof(&self) -> String {
        self.eof_message.to_owned()
    }

    fn skip_ws(&mut self) {
        while let Some(b' ' | b'\t' | b'\n' | b'\r') = self.peek() {
            self.pos += 1;
        }
    }

    /// The next byte after white space, consumed.
    fn next_token(&mut self) -> Result<u8, String> {
        self.skip_ws();
        let b = self.peek().ok_or_else(|| self.eof())?;
        self.pos += 1;
        Ok(b)
    }

    /// A key string and its `:`.
    fn object_key(&mut self) -> Result<String, String> {
        match self.next_token()? {
            b'"' => {}
            b => return Err(syntax(b, "looking for beginning of object key string")),
        }
        let key = self.string()?;
        match self.next_token()? {
            b':' => Ok(key),
            b => Err(syntax(b, "after object key")),
        }
    }

    /// Go checks the syntax of the whole text before it converts numbers, so a number
    /// out of range is reported only once the text is known to be well formed.
    fn no_range_error(&mut self) -> Result<(), String> {
        self.range_error.take().map_or(Ok(()), Err)
    }

    /// One value, its containers built without recursion (Go allows 10,000 levels).
    fn value(&mut self) -> Result<Value, String> {
        let mut stack: Vec<Frame> = Vec::new();
        'value: loop {
            let start = self.next_token()?;
            let mut value = match start {
                b'{' | b'[' => {
                    if stack.len() >= JSON_MAX_DEPTH {
                        return Err(syntax(start, "exceeded max depth"));
                    }
                    self.skip_ws();
                    let close = if start == b'{' { b'}' } else { b']' };
                    if self.peek() == Some(close) {
                        self.pos += 1;
                        if start == b'{' {
                            Value::map()
                        } else {
                            Value::List(Vec::new())
                        }
                    } else if start == b'{' {
                        let key = self.object_key()?;
                        stack.push(Frame::Map(Map::default(), key));
                        continue 'value;
                    } else {
                        stack.push(Frame::List(Vec::new()));
                        continue 'value;
                    }
                }
                b'"' => Value::String(self.string()?),
                b'-' | b'0'..=b'9' => {
                    self.pos -= 1;
                    self.number()?
                }
                b't' => self.literal("true", Value::Bool(true))?,
                b'f' => self.literal("false", Value::Bool(false))?,
                b'n' => self.literal("null", Value::Null)?,
                b => return Err(syntax(b, "looking for beginning of value")),
            };
            // Hand the finished value to the containers it closes.
            loop {
                match stack.last_mut() {
                    None => return Ok(value),
                    Some(Frame::List(items)) => {
                        items.push(value);
                        match self.next_token()? {
                            b',' => continue 'value,
                            b']' => {}
                            b => return Err(syntax(b, "after array element")),
                        }
                    }
                    Some(Frame::Map(map, key)) => {
                        map.insert(std::mem::take(key), value);
                        match self.next_token()? {
                            b',' => {
                                *key = self.object_key()?;
                                continue 'value;
                            }
                            b'}' => {}
                            b => return Err(syntax(b, "after object key:value pair")),
                        }
                    }
                }
                value = match stack.pop() {
                    Some(Frame::List(items)) => Value::List(items),
                    Some(Frame::Map(map, _)) => Value::Map(map),
                    None => unreachable!("a frame was just seen"),
                };
            }
        }
    }

    /// The rest of a literal whose first letter was read.
    fn literal(&mut self, word: &str, value: Value) -> Result<Value, String> {
        for expected in word.bytes().skip(1) {
            let b = self.peek().ok_or_else(|| self.eof())?;
            if b != expected {
                return Err(syntax(
                    b,
                    &format!("in literal {word} (expecting '{}')", char::from(expected)),
                ));
            }
            self.pos += 1;
        }
        Ok(value)
    }

    fn digits(&mut self) {
        while let Some(b'0'..=b'9') = self.peek() {
            self.pos += 1;
        }
    }

    /// At least one digit, else the error for `context`.
    fn required_digit(&mut self, context: &str) -> Result<(), String> {
        match self.peek() {
            Some(b'0'..=b'9') => {
                self.pos += 1;
                Ok(())
            }
            Some(b) => Err(syntax(b, context)),
            None => Err(self.eof()),
        }
    }

    fn number(&mut self) -> Result<Value, String> {
        let start = self.pos;
        if self.peek() == Some(b'-') {
            self.pos += 1;
        }
        match self.peek() {
            Some(b'0') => self.pos += 1,
            Some(b'1'..=b'9') => self.digits(),
            Some(b) => return Err(syntax(b, "in numeric literal")),
            None => return Err(self.eof()),
        }
        if self.peek() == Some(b'.') {
            self.pos += 1;
            self.required_digit("after decimal point in numeric literal")?;
            self.digits();
        }
        if let Some(b'e' | b'E') = self.peek() {
            self.pos += 1;
            if let Some(b'+' | b'-') = self.peek() {
                self.pos += 1;
            }
            self.required_digit("in exponent of numeric literal")?;
            self.digits();
        }
        let text = &self.src[start..self.pos];
        let f: f64 = text.parse().unwrap_or(f64::INFINITY);
        if f.is_infinite() {
            self.range_error.get_or_insert_with(|| {
                format!("json: cannot unmarshal number {text} into Go value of type float64")
            });
            // Go leaves the value it could not decode as nil.
            return Ok(Value::Null);
        }
        Ok(Value::Float(f))
    }

    /// Four hex digits of a `\u` escape.
    fn hex4(&mut self) -> Result<u32, String> {
        let mut n = 0;
        for _ in 0..4 {
            let b = self.peek().ok_or_else(|| self.eof())?;
            let digit = char::from(b)
                .to_digit(16)
                .ok_or_else(|| syntax(b, "in \\u hexadecimal character escape"))?;
            n = n * 16 + digit;
            self.pos += 1;
        }
        Ok(n)
    }

    /// The rest of a string whose opening quote was read.
    fn string(&mut self) -> Result<String, String> {
        let mut out = String::new();
        loop {
            let rest = &self.src[self.pos..];
            let c = rest.chars().next().ok_or_else(|| self.eof())?;
            self.pos += c.len_utf8();
            match c {
                '"' => return Ok(out),
                '\\' => {
                    let b = self.peek().ok_or_else(|| self.eof())?;
                    self.pos += 1;
                    match b {
                        b'"' => out.push('"'),
                        b'\\' => out.push('\\'),
                        b'/' => out.push('/'),
                        b'b' => out.push('\u{8}'),
                        b'f' => out.push('\u{c}'),
                        b'n' => out.push('\n'),
                        b'r' => out.push('\r'),
                        b't' => out.push('\t'),
                        b'u' => {
                            let unit = self.hex4()?;
                            out.push(self.escaped_char(unit)?);
                        }
                        b => return Err(syntax(b, "in string escape code")),
                    }
                }
                c if c < ' ' => return Err(syntax(c as u8, "in string literal")),
                c => out.push(c),
            }
        }
    }

    /// The character of a `\uXXXX` escape: a high surrogate pairs with an immediately
    /// following `\u` low surrogate; any other surrogate is U+FFFD.
    fn escaped_char(&mut self, unit: u32) -> Result<char, String> {
        if !(0xD800..0xE000).contains(&unit) {
            return Ok(char::from_u32(unit).unwrap_or('\u{FFFD}'));
        }
        if unit < 0xDC00 && self.src[self.pos..].starts_with("\\u") {
            let save = self.pos;
            self.pos += 2;
            // A malformed second escape is an error either way; report it from here.
            let low = self.hex4()?;
            if (0xDC00..0xE000).contains(&low) {
                let c = 0x10000 + ((unit - 0xD800) << 10) + (low - 0xDC00);
                return Ok(char::from_u32(c).unwrap_or('\u{FFFD}'));
            }
            self.pos = save;
        }
        Ok('\u{FFFD}')
    }
}

/// A whole JSON text as `json.Unmarshal` reads it into an `interface{}`, keeping what it
/// decoded when a number is out of range: that number becomes null and its error is
/// returned beside the value (Helm's `fromJson` then shows both).
pub fn decode_document(src: &str) -> Result<(Value, Option<String>), String> {
    let mut scan = Scanner::new(src, "unexpected end of JSON input");
    let value = scan.value()?;
    scan.skip_ws();
    if let Some(b) = scan.peek() {
        return Err(syntax(b, "after top-level value"));
    }
    Ok((value, scan.range_error.take()))
}
