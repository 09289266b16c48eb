//! The lexer of Go's `text/template`: text, `{{`/`}}` with `-` trim markers, comments and
//! the tokens inside actions, with Go's error messages.

use std::cell::Cell;

/// What a token is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// Plain text outside actions.
    Text,
    /// `{{` (the trim marker is already applied to the text before it).
    LeftDelim,
    /// `}}`.
    RightDelim,
    /// `{{/* … */}}`.
    Comment,
    /// Run of spaces inside an action.
    Space,
    /// `|`.
    Pipe,
    /// `(`.
    LeftParen,
    /// `)`.
    RightParen,
    /// `:=`.
    Declare,
    /// `=`.
    Assign,
    /// Any other printable ASCII character, such as `,`.
    Char,
    /// `.name`.
    Field,
    /// `$` or `$name`.
    Variable,
    /// A function name.
    Identifier,
    /// `.` alone.
    Dot,
    /// A number.
    Number,
    /// `"…"`.
    String,
    /// `` `…` ``.
    RawString,
    /// `'x'`.
    CharConstant,
    /// `true`/`false`.
    Bool,
    /// `nil`.
    Nil,
    /// A complex number such as `1+2i`.
    Complex,
    /// Keywords.
    Block,
    /// `break`.
    Break,
    /// `continue`.
    Continue,
    /// `define`.
    Define,
    /// `else`.
    Else,
    /// `end`.
    End,
    /// `if`.
    If,
    /// `range`.
    Range,
    /// `template`.
    Template,
    /// `with`.
    With,
    /// End of input.
    Eof,
    /// A lexing error; the token's text is the message.
    Error,
}

/// One token: its kind, where it is in the template and its line. Sixteen bytes: a chart's
/// templates lex to tens of thousands of tokens, and every page of them is a page fault.
#[derive(Clone, Copy, Debug)]
pub struct Token {
    /// What it is.
    pub kind: Kind,
    start: u32,
    end: u32,
    line: u32,
}

impl Token {
    /// Byte offset in the template source.
    pub fn pos(&self) -> usize {
        self.start as usize
    }

    /// 1-based line where it starts.
    pub fn line(&self) -> usize {
        self.line as usize
    }

    /// Its text in `src`, the template it was lexed from (for `Error`, see [`Lexed::error`]).
    pub fn text<'s>(&self, src: &'s str) -> &'s str {
        &src[self.start as usize..self.end as usize]
    }

    /// How Go's parser names the token in "unexpected …" messages.
    pub fn describe(&self, src: &str, error: &str) -> String {
        let text = &src[self.start as usize..self.end as usize];
        match self.kind {
            Kind::Eof => "EOF".into(),
            Kind::Error => error.to_owned(),
            Kind::Text | Kind::Comment => format!("{text:?}"),
            k if is_keyword(k) => format!("<{text}>"),
            _ => {
                if text.chars().count() > 10 {
                    let short: String = text.chars().take(10).collect();
                    format!("{short:?}...")
                } else {
                    format!("{text:?}")
                }
            }
        }
    }
}

/// A template's tokens; the last is `Eof` or `Error`.
pub struct Lexed {
    /// The tokens.
    pub tokens: Vec<Token>,
    /// The message of the final `Error` token, if lexing failed.
    pub error: String,
}

fn is_keyword(k: Kind) -> bool {
    matches!(
        k,
        Kind::Block
            | Kind::Break
            | Kind::Continue
            | Kind::Define
            | Kind::Else
            | Kind::End
            | Kind::If
            | Kind::Range
            | Kind::Template
            | Kind::With
            | Kind::Nil
            | Kind::Dot
    )
}

const LEFT: &str = "{{";
const RIGHT: &str = "}}";

fn is_space(c: u8) -> bool {
    matches!(c, b' ' | b'\t' | b'\r' | b'\n')
}

fn is_alnum(c: char) -> bool {
    if c.is_ascii() {
        return c == '_' || c.is_ascii_alphanumeric();
    }
    c.is_alphabetic() || c.is_numeric()
}

/// How many `\n` bytes `b` holds (a plain loop the compiler vectorises).
fn newlines(b: &[u8]) -> usize {
    // Counting into a byte per chunk of at most 255 lets the compiler compare and add 16 or
    // 32 bytes at a time; counting into a usize widened every byte (a quarter of lexing
    // time on cert-manager's megabyte of CRD text).
    b.chunks(255)
        .map(|c| c.iter().fold(0u8, |n, &x| n + u8::from(x == b'\n')) as usize)
        .sum()
}

/// The offset of the next `{{` at or after `from`.
fn find_left_delim(b: &[u8], from: usize) -> Option<usize> {
    let mut at = from;
    while let Some(x) = crate::bytes::find(b'{', b.get(at..)?) {
        let i = at + x;
        if b.get(i + 1) == Some(&b'{') {
            return Some(i);
        }
        at = i + 1;
    }
    None
}

fn has_left_trim(s: &str) -> bool {
    let b = s.as_bytes();
    b.len() >= 2 && b[0] == b'-' && is_space(b[1])
}

fn has_right_trim(s: &str) -> bool {
    let b = s.as_bytes();
    b.len() >= 2 && is_space(b[0]) && b[1] == b'-'
}

struct Lexer<'a> {
    input: &'a str,
    start: usize,
    pos: usize,
    start_line: usize,
    paren_depth: i32,
    out: Vec<Token>,
    error: String,
}

thread_local! {
    /// The token buffer of this thread's last parse, reused by the next: a chart's files
    /// then touch the pages of their largest file's tokens instead of those of all.
    static SPARE: Cell<Vec<Token>> = const { Cell::new(Vec::new()) };
}

/// An empty token buffer for `len` bytes of template (the thread's spare, if it has one).
fn spare_tokens(len: usize) -> Vec<Token> {
    let mut out = SPARE.take();
    out.clear();
    // Charts average a token per five or six bytes: one allocation, no regrowth.
    out.reserve(len / 5 + 8);
    out
}

/// Gives a token buffer back for the thread's next [`lex`] (the larger one is kept).
pub fn recycle(tokens: Vec<Token>) {
    let spare = SPARE.take();
    SPARE.set(if tokens.capacity() >= spare.capacity() {
        tokens
    } else {
        spare
    });
}

/// Splits a template into tokens; the last token is `Eof` or `Error`. Templates of 4 GiB
/// or more are refused (their offsets would not fit the tokens).
pub fn lex(input: &str) -> Lexed {
    let mut l = Lexer {
        input,
        start: 0,
        pos: 0,
        start_line: 1,
        paren_depth: 0,
        out: spare_tokens(input.len()),
        error: String::new(),
    };
    if u32::try_from(input.len()).is_err() {
        l.error("template too large (4 GiB or more)".into());
    } else {
        l.run();
    }
    Lexed {
        tokens: l.out,
        error: l.error,
    }
}

enum State {
    Text,
    LeftDelim,
    InsideAction,
    Done,
}

impl<'a> Lexer<'a> {
    fn rest(&self) -> &'a str {
        &self.input[self.pos..]
    }

    fn peek(&self) -> Option<char> {
        // Templates are mostly ASCII: a byte below 0x80 is its own character.
        match self.input.as_bytes().get(self.pos) {
            Some(&b) if b < 0x80 => Some(char::from(b)),
            Some(_) => self.rest().chars().next(),
            None => None,
        }
    }

    fn next(&mut self) -> Option<char> {
        let c = self.peek()?;
        self.pos += c.len_utf8();
        Some(c)
    }

    /// Skips the characters `keep` accepts.
    fn skip_while(&mut self, keep: impl Fn(char) -> bool) {
        while let Some(c) = self.peek() {
            if !keep(c) {
                break;
            }
            self.pos += c.len_utf8();
        }
    }

    fn backup(&mut self, c: Option<char>) {
        if let Some(c) = c {
            self.pos -= c.len_utf8();
        }
    }

    fn token(&self, kind: Kind, start: usize, end: usize) -> Token {
        // `lex` refuses inputs whose offsets would not fit in 32 bits.
        Token {
            kind,
            start: start as u32,
            end: end as u32,
            line: self.start_line as u32,
        }
    }

    fn emit(&mut self, kind: Kind) {
        let t = self.token(kind, self.start, self.pos);
        self.out.push(t);
        self.ignore();
    }

    fn ignore(&mut self) {
        self.start_line += newlines(&self.input.as_bytes()[self.start..self.pos]);
        self.start = self.pos;
    }

    fn error(&mut self, msg: String) -> State {
        let t = self.token(Kind::Error, self.start, self.start);
        self.out.push(t);
        self.error = msg;
        State::Done
    }

    fn run(&mut self) {
        let mut state = State::Text;
        loop {
            state = match state {
                State::Text => self.lex_text(),
                State::LeftDelim => self.lex_left_delim(),
                State::InsideAction => self.lex_inside_action(),
                State::Done => return,
            };
        }
    }

    fn lex_text(&mut self) -> State {
        if let Some(delim_at) = find_left_delim(self.input.as_bytes(), self.pos) {
            let mut text_end = delim_at;
            if has_left_trim(&self.input[delim_at + LEFT.len()..]) {
                let text = &self.input[self.start..delim_at];
                text_end = self.start + text.trim_end_matches([' ', '\t', '\r', '\n']).len();
            }
            if text_end > self.start {
                self.pos = text_end;
                self.emit(Kind::Text);
            }
            self.pos = delim_at;
            self.ignore();
            return State::LeftDelim;
        }
        self.pos = self.input.len();
        if self.pos > self.start {
            self.emit(Kind::Text);
        }
        let t = self.token(Kind::Eof, self.pos, self.pos);
        self.out.push(t);
        State::Done
    }

    fn at_right_delim(&self) -> (bool, bool) {
        let r = self.rest();
        if has_right_trim(r) && r[2..].starts_with(RIGHT) {
            return (true, true);
        }
        (r.starts_with(RIGHT), false)
    }

    fn lex_left_delim(&mut self) -> State {
        self.pos += LEFT.len();
        let trim = has_left_trim(self.rest());
        let after = if trim { 2 } else { 0 };
        if self.rest()[after..].starts_with("/*") {
            self.pos += after;
            self.ignore();
            return self.lex_comment();
        }
        self.emit(Kind::LeftDelim);
        self.pos += after;
        self.ignore();
        self.paren_depth = 0;
        State::InsideAction
    }

    fn lex_comment(&mut self) -> State {
        self.pos += 2;
        let Some(x) = self.rest().find("*/") else {
            return self.error("unclosed comment".into());
        };
        self.pos += x + 2;
        let (delim, trim) = self.at_right_delim();
        if !delim {
            return self.error("comment ends before closing delimiter".into());
        }
        self.emit(Kind::Comment);
        if trim {
            self.pos += 2;
        }
        self.pos += RIGHT.len();
        if trim {
            self.pos += self.rest().len()
                - self
                    .rest()
                    .trim_start_matches([' ', '\t', '\r', '\n'])
                    .len();
        }
        self.ignore();
        State::Text
    }

    fn lex_right_delim(&mut self) -> State {
        let (_, trim) = self.at_right_delim();
        if trim {
            self.pos += 2;
            self.ignore();
        }
        self.pos += RIGHT.len();
        self.emit(Kind::RightDelim);
        if trim {
            self.pos += self.rest().len()
                - self
                    .rest()
                    .trim_start_matches([' ', '\t', '\r', '\n'])
                    .len();
            self.ignore();
        }
        State::Text
    }

    fn lex_inside_action(&mut self) -> State {
        let (delim, _) = self.at_right_delim();
        if delim {
            if self.paren_depth == 0 {
                return self.lex_right_delim();
            }
            return self.error("unclosed left paren".into());
        }
        let Some(r) = self.next() else {
            return self.error("unclosed action".into());
        };
        match r {
            ' ' | '\t' | '\r' | '\n' => {
                self.backup(Some(r));
                return self.lex_space();
            }
            '=' => self.emit(Kind::Assign),
            ':' => {
                if self.next() != Some('=') {
                    return self.error("expected :=".into());
                }
                self.emit(Kind::Declare);
            }
            '|' => self.emit(Kind::Pipe),
            '"' => return self.lex_quote(),
            '`' => return self.lex_raw_quote(),
            '$' => return self.lex_variable(),
            '\'' => return self.lex_char(),
            '.' => {
                if let Some(c) = self.peek()
                    && !c.is_ascii_digit()
                {
                    return self.lex_field_or_variable(Kind::Field);
                }
                self.backup(Some(r));
                return self.lex_number();
            }
            '+' | '-' | '0'..='9' => {
                self.backup(Some(r));
                return self.lex_number();
            }
            c if is_alnum(c) => {
                self.backup(Some(r));
                return self.lex_identifier();
            }
            '(' => {
                self.emit(Kind::LeftParen);
                self.paren_depth += 1;
            }
            ')' => {
                self.paren_depth -= 1;
                if self.paren_depth < 0 {
                    return self.error("unexpected right paren".into());
                }
                self.emit(Kind::RightParen);
            }
            c if c.is_ascii() && !c.is_ascii_control() => self.emit(Kind::Char),
            c => {
                return self.error(format!(
                    "unrecognized character in action: {}",
                    go_unicode(c)
                ));
            }
        }
        State::InsideAction
    }

    fn lex_space(&mut self) -> State {
        let from = self.pos;
        self.skip_while(|c| c.is_ascii() && is_space(c as u8));
        let n = self.pos - from;
        let before = &self.input[self.pos - 1..];
        if has_right_trim(before) && before[2..].starts_with(RIGHT) {
            let c = self.input[..self.pos].chars().next_back();
            self.backup(c);
            if n == 1 {
                return State::InsideAction;
            }
        }
        self.emit(Kind::Space);
        State::InsideAction
    }

    fn at_terminator(&self) -> bool {
        match self.peek() {
            None => true,
            Some(c) if c.is_ascii() && is_space(c as u8) => true,
            Some('.' | ',' | '|' | ':' | ')' | '(') => true,
            _ => self.rest().starts_with(RIGHT),
        }
    }

    fn lex_identifier(&mut self) -> State {
        self.skip_while(is_alnum);
        let last = self.peek();
        if !self.at_terminator() {
            let bad = last.map_or_else(String::new, go_unicode);
            return self.error(format!("bad character {bad}"));
        }
        let word = &self.input[self.start..self.pos];
        let kind = match word {
            "block" => Kind::Block,
            "break" => Kind::Break,
            "continue" => Kind::Continue,
            "define" => Kind::Define,
            "else" => Kind::Else,
            "end" => Kind::End,
            "if" => Kind::If,
            "range" => Kind::Range,
            "nil" => Kind::Nil,
            "template" => Kind::Template,
            "with" => Kind::With,
            "true" | "false" => Kind::Bool,
            _ => Kind::Identifier,
        };
        self.emit(kind);
        State::InsideAction
    }

    fn lex_variable(&mut self) -> State {
        if self.at_terminator() {
            self.emit(Kind::Variable);
            return State::InsideAction;
        }
        self.lex_field_or_variable(Kind::Variable)
    }

    fn lex_field_or_variable(&mut self, kind: Kind) -> State {
        if self.at_terminator() {
            self.emit(if kind == Kind::Variable {
                Kind::Variable
            } else {
                Kind::Dot
            });
            return State::InsideAction;
        }
        self.skip_while(is_alnum);
        let last = self.peek();
        if !self.at_terminator() {
            let bad = last.map_or_else(String::new, go_unicode);
            return self.error(format!("bad character {bad}"));
        }
        self.emit(kind);
        State::InsideAction
    }

    fn lex_char(&mut self) -> State {
        self.lex_escaped('\'', Kind::CharConstant, "unterminated character constant")
    }

    fn lex_quote(&mut self) -> State {
        self.lex_escaped('"', Kind::String, "unterminated quoted string")
    }

    /// A literal closed by `close`, with backslash escapes, on one line.
    fn lex_escaped(&mut self, close: char, kind: Kind, unterminated: &str) -> State {
        loop {
            match self.next() {
                Some('\\') => {
                    let c = self.next();
                    if c.is_some() && c != Some('\n') {
                        continue;
                    }
                    return self.error(unterminated.into());
                }
                None | Some('\n') => return self.error(unterminated.into()),
                Some(c) if c == close => break,
                _ => {}
            }
        }
        self.emit(kind);
        State::InsideAction
    }

    fn lex_raw_quote(&mut self) -> State {
        loop {
            match self.next() {
                None => return self.error("unterminated raw quoted string".into()),
                Some('`') => break,
                _ => {}
            }
        }
        self.emit(Kind::RawString);
        State::InsideAction
    }

    fn accept(&mut self, valid: &str) -> bool {
        if let Some(c) = self.peek()
            && valid.contains(c)
        {
            self.next();
            return true;
        }
        false
    }

    fn accept_run(&mut self, valid: &str) {
        while self.accept(valid) {}
    }

    fn scan_number(&mut self) -> bool {
        self.accept("+-");
        let mut digits = "0123456789_";
        if self.accept("0") {
            if self.accept("xX") {
                digits = "0123456789abcdefABCDEF_";
            } else if self.accept("oO") {
                digits = "01234567_";
            } else if self.accept("bB") {
                digits = "01_";
            }
        }
        self.accept_run(digits);
        if self.accept(".") {
            self.accept_run(digits);
        }
        if digits.len() == 11 && self.accept("eE") {
            self.accept("+-");
            self.accept_run("0123456789_");
        }
        if digits.len() == 23 && self.accept("pP") {
            self.accept("+-");
            self.accept_run("0123456789_");
        }
        self.accept("i");
        if let Some(c) = self.peek()
            && is_alnum(c)
        {
            self.next();
            return false;
        }
        true
    }

    fn lex_number(&mut self) -> State {
        if !self.scan_number() {
            let text = self.input[self.start..self.pos].to_owned();
            return self.error(format!("bad number syntax: {text:?}"));
        }
        if matches!(self.peek(), Some('+' | '-')) {
            if !self.scan_number() || !self.input[..self.pos].ends_with('i') {
                let text = self.input[self.start..self.pos].to_owned();
                return self.error(format!("bad number syntax: {text:?}"));
            }
            self.emit(Kind::Complex);
        } else {
            self.emit(Kind::Number);
        }
        State::InsideAction
    }
}

/// Go's `%#U` of a character: `U+0023 '#'`.
pub fn go_unicode(c: char) -> String {
    if crate::funcs::format::go_is_print(c) {
        format!("U+{:04X} '{c}'", c as u32)
    } else {
        format!("U+{:04X}", c as u32)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kinds(s: &str) -> Vec<(Kind, String)> {
        let lexed = lex(s);
        lexed
            .tokens
            .iter()
            .map(|t| match t.kind {
                Kind::Error => (t.kind, lexed.error.clone()),
                _ => (t.kind, t.text(s).to_owned()),
            })
            .collect()
    }

    #[test]
    fn trims_both_sides() {
        let t = kinds("a  {{- .x -}}  b");
        assert_eq!(t[0], (Kind::Text, "a".into()));
        assert_eq!(t[1].0, Kind::LeftDelim);
        assert_eq!(t[2], (Kind::Field, ".x".into()));
        assert_eq!(t[3].0, Kind::RightDelim);
        assert_eq!(t[4], (Kind::Text, "b".into()));
    }

    #[test]
    fn negative_number_is_not_a_trim_marker() {
        let t = kinds("{{-3}}");
        assert_eq!(t[1], (Kind::Number, "-3".into()));
    }

    #[test]
    fn comment_with_trim() {
        let t = kinds("a \n{{- /* c */ -}}\n b");
        assert_eq!(t[0], (Kind::Text, "a".into()));
        assert_eq!(t[1].0, Kind::Comment);
        assert_eq!(t[2], (Kind::Text, "b".into()));
    }

    #[test]
    fn lines_are_counted() {
        let src = "a\nb\n{{ .x\n }}\n{{ y }}";
        let t = lex(src).tokens;
        let y = t.iter().find(|t| t.text(src) == "y").map(|t| t.line());
        assert_eq!(y, Some(5));
    }

    #[test]
    fn errors() {
        assert_eq!(
            kinds("{{ \"abc }}").last().map(|t| t.1.clone()),
            Some("unterminated quoted string".into())
        );
        assert_eq!(
            kinds("{{ .x ").last().map(|t| t.1.clone()),
            Some("unclosed action".into())
        );
        assert_eq!(
            kinds("{{/* x").last().map(|t| t.1.clone()),
            Some("unclosed comment".into())
        );
    }

    #[test]
    fn newline_count_across_chunks() {
        for len in [0usize, 1, 254, 255, 256, 511, 1000, 70_000] {
            let text: Vec<u8> = (0..len)
                .map(|i| if i % 3 == 0 { b'\n' } else { b'x' })
                .collect();
            assert_eq!(newlines(&text), len.div_ceil(3), "{len}");
        }
        assert_eq!(newlines(&[b'\n'; 600]), 600);
    }
}
