//! A fast reader for the block YAML that values files and rendered manifests are made of.
//! It builds [`Value`]s straight from the bytes and gives up on anything outside its subset
//! (anchors, tags, multi-line plain or quoted scalars, multi-line flows, duplicate keys…),
//! so that the full parser reads those documents and reports their errors.
//!
//! Scalars resolve exactly as serde-saphyr resolves them with the options of each
//! [`Flavor`]; debug builds check every document read here against serde-saphyr.

use super::yaml::Flavor;
use super::{Map, Value};

/// The input uses YAML outside this reader's subset; the full parser must read it.
#[derive(Debug, PartialEq, Eq)]
pub(super) struct GiveUp;

type R<T> = Result<T, GiveUp>;

/// Deepest nesting read here; deeper documents go to the full parser and its limits.
const MAX_DEPTH: usize = 128;

/// Reads every document of a stream; an empty document is `Null`.
pub(super) fn read_documents(src: &str, flavor: Flavor) -> R<Vec<Value>> {
    check_characters(src.as_bytes())?;
    let mut p = Parser {
        s: src.as_bytes(),
        src,
        pos: 0,
        flavor,
        depth: 0,
    };
    let mut docs = Vec::new();
    let mut open = false;
    let mut root: Option<Value> = None;
    loop {
        match p.peek()? {
            Line::Eof => break,
            Line::DocStart => {
                if open {
                    docs.push(root.take().unwrap_or_default());
                }
                p.skip_marker_line()?;
                open = true;
            }
            Line::Content { indent, at } => {
                if root.is_some() {
                    return Err(GiveUp);
                }
                root = Some(p.node(at, indent, -1, false)?);
                open = true;
            }
        }
    }
    if open {
        docs.push(root.take().unwrap_or_default());
    }
    Ok(docs)
}

/// Gives up on bytes a YAML stream may not hold or that need the full parser: control
/// characters other than tab and line feed, carriage returns, DEL, C1 controls (NEL is a
/// line break in YAML 1.1), the Unicode line and paragraph separators, byte-order marks and
/// the non-characters U+FFFE and U+FFFF.
fn check_characters(s: &[u8]) -> R<()> {
    let mut i = 0;
    while i < s.len() {
        let b = s[i];
        if !(0x20..0x7F).contains(&b) {
            match b {
                b'\t' | b'\n' => {}
                0xC2 if s.get(i + 1).is_some_and(|&n| n < 0xA0) => return Err(GiveUp),
                0xE2 if s.get(i + 1) == Some(&0x80)
                    && matches!(s.get(i + 2), Some(0xA8 | 0xA9)) =>
                {
                    return Err(GiveUp);
                }
                0xEF if matches!(
                    (s.get(i + 1), s.get(i + 2)),
                    (Some(0xBB), Some(0xBF)) | (Some(0xBF), Some(0xBE | 0xBF))
                ) =>
                {
                    return Err(GiveUp);
                }
                0x80..=0xFF => {}
                _ => return Err(GiveUp),
            }
        }
        i += 1;
    }
    Ok(())
}

/// What the next line that is neither blank nor a comment holds.
enum Line {
    /// The end of the input.
    Eof,
    /// A `---` line.
    DocStart,
    /// Content at column `indent`, whose first byte is at `at`.
    Content { indent: usize, at: usize },
}

/// Where a plain scalar on one line stops.
enum Stop {
    /// At a `:` followed by a space or the line's end: the scalar is a mapping key.
    Colon(usize),
    /// At a comment or the line's end.
    End(usize),
}

/// Block scalar chomping (`|-`, `|`, `|+`).
#[derive(Clone, Copy, PartialEq)]
enum Chomp {
    Strip,
    Clip,
    Keep,
}

/// Where a flow collection goes after an entry.
enum FlowStep {
    /// On to the entry starting here.
    Next(usize),
    /// Closed; the collection ends before this position.
    Closed(usize),
}

/// One line of a block scalar: text (byte range) or empty.
enum BlockLine {
    Text(usize, usize),
    Empty,
}

/// The reader's state. Between lines `pos` is at the start of a line; while a line is being
/// read it stays at that line's start, so a column is a position minus `pos`.
struct Parser<'a> {
    s: &'a [u8],
    src: &'a str,
    pos: usize,
    flavor: Flavor,
    depth: usize,
}

/// A YAML indicator that cannot start a plain scalar here (or starts what this reader
/// leaves to the full parser: anchors, aliases, tags, directives, complex keys).
fn is_indicator(c: u8) -> bool {
    matches!(
        c,
        b'&' | b'*'
            | b'!'
            | b'%'
            | b'@'
            | b'`'
            | b'?'
            | b':'
            | b','
            | b'['
            | b']'
            | b'{'
            | b'}'
            | b'#'
            | b'|'
            | b'>'
    )
}

fn is_blank_or_end(b: Option<&u8>) -> bool {
    matches!(b, None | Some(b' ' | b'\n'))
}

impl<'a> Parser<'a> {
    fn at(&self, i: usize) -> Option<u8> {
        self.s.get(i).copied()
    }

    /// The end of the line holding `i` (the position of its `\n`, or the input's end).
    fn line_end(&self, i: usize) -> usize {
        crate::bytes::find(b'\n', &self.s[i..]).map_or(self.s.len(), |n| i + n)
    }

    /// Skips blank and comment lines; `pos` ends at the start of the line returned.
    fn peek(&mut self) -> R<Line> {
        loop {
            if self.pos >= self.s.len() {
                return Ok(Line::Eof);
            }
            let mut i = self.pos;
            while self.at(i) == Some(b' ') {
                i += 1;
            }
            match self.at(i) {
                None => {
                    self.pos = i;
                    return Ok(Line::Eof);
                }
                Some(b'\n') => self.pos = i + 1,
                Some(b'#') => self.pos = (self.line_end(i) + 1).min(self.s.len()),
                Some(b'\t') => return Err(GiveUp),
                Some(b'-') if i == self.pos && self.s[i..].starts_with(b"---") => {
                    return match self.at(i + 3) {
                        None | Some(b' ' | b'\n') => Ok(Line::DocStart),
                        Some(b'\t') => Err(GiveUp),
                        Some(_) => Ok(Line::Content { indent: 0, at: i }),
                    };
                }
                Some(b'%') if i == self.pos => return Err(GiveUp),
                Some(b'.') if i == self.pos && self.s[i..].starts_with(b"...") => {
                    return Err(GiveUp);
                }
                Some(_) => {
                    return Ok(Line::Content {
                        indent: i - self.pos,
                        at: i,
                    });
                }
            }
        }
    }

    /// Consumes a `---` line, which may carry a comment but no content.
    fn skip_marker_line(&mut self) -> R<()> {
        let i = self.pos + 3;
        self.end_line(i)
    }

    /// Checks that only spaces, tabs and a comment follow `i` on its line, and moves to the
    /// next line.
    fn end_line(&mut self, i: usize) -> R<()> {
        let mut j = i;
        while matches!(self.at(j), Some(b' ' | b'\t')) {
            j += 1;
        }
        match self.at(j) {
            None => self.pos = j,
            Some(b'\n') => self.pos = j + 1,
            Some(b'#') if j > i => self.pos = (self.line_end(j) + 1).min(self.s.len()),
            Some(_) => return Err(GiveUp),
        }
        Ok(())
    }

    fn skip_spaces(&self, mut i: usize) -> R<usize> {
        while self.at(i) == Some(b' ') {
            i += 1;
        }
        if self.at(i) == Some(b'\t') {
            return Err(GiveUp);
        }
        Ok(i)
    }

    fn enter(&mut self) -> R<()> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return Err(GiveUp);
        }
        Ok(())
    }

    /// Reads the node that starts at `at` (column `col`) on the current line, inside a
    /// collection indented `parent` (-1 at the root). `inline` is set for a mapping value on
    /// its key's line, where a block collection may not start.
    fn node(&mut self, at: usize, col: usize, parent: isize, inline: bool) -> R<Value> {
        match self.s[at] {
            b'-' if self.at(at + 1) == Some(b'\t') => Err(GiveUp),
            b'-' if is_blank_or_end(self.s.get(at + 1)) => {
                if inline {
                    return Err(GiveUp);
                }
                self.block_seq(at, col, parent)
            }
            b'[' | b'{' => {
                let (v, end) = self.flow(at)?;
                self.end_line(end)?;
                Ok(v)
            }
            b'"' | b'\'' => {
                let (text, end) = self.quoted(at, (parent >= 0).then_some(parent))?;
                if !inline {
                    let j = self.skip_spaces(end)?;
                    if self.at(j) == Some(b':') && is_blank_or_end(self.s.get(j + 1)) {
                        if crate::bytes::find(b'\n', &self.s[at..end]).is_some() {
                            return Err(GiveUp);
                        }
                        return self.block_map(at, col, parent);
                    }
                }
                self.end_line(end)?;
                Ok(Value::String(text))
            }
            b'|' | b'>' => {
                if parent < 0 {
                    return Err(GiveUp);
                }
                self.block_scalar(at, parent)
            }
            c if is_indicator(c) => Err(GiveUp),
            _ => match self.plain(at) {
                Stop::Colon(_) if inline => Err(GiveUp),
                Stop::Colon(_) => self.block_map(at, col, parent),
                Stop::End(end) => {
                    let text = trim_end(&self.src[at..end]);
                    if parent >= 0
                        && self.at(end) == Some(b'\n')
                        && let Some(folded) = self.plain_continuation(text, end + 1, parent)?
                    {
                        return Ok(resolve(&folded, self.flavor));
                    }
                    let v = resolve(text, self.flavor);
                    self.end_line(at + text.len())?;
                    Ok(v)
                }
            },
        }
    }

    /// Scans a plain scalar in block context from `at` to a key colon, a comment or the
    /// line's end.
    fn plain(&self, at: usize) -> Stop {
        let mut i = at;
        loop {
            match crate::bytes::find3(b'\n', b':', b'#', &self.s[i..]) {
                None => return Stop::End(self.s.len()),
                Some(n) => {
                    let j = i + n;
                    match self.s[j] {
                        b'\n' => return Stop::End(j),
                        b':' if matches!(self.s.get(j + 1), None | Some(b' ' | b'\t' | b'\n')) => {
                            return Stop::Colon(j);
                        }
                        b'#' if j > at && matches!(self.s[j - 1], b' ' | b'\t') => {
                            return Stop::End(j);
                        }
                        _ => i = j + 1,
                    }
                }
            }
        }
    }

    /// Reads the lines that continue a plain scalar whose first line is `first`, from `p`:
    /// lines indented deeper than `parent`, folded (a line break is a space, each empty line
    /// in between a line feed). `None` when the next line does not continue it.
    fn plain_continuation(
        &mut self,
        first: &str,
        mut p: usize,
        parent: isize,
    ) -> R<Option<String>> {
        let mut out: Option<String> = None;
        let mut empties = 0;
        let mut consumed = p;
        while p < self.s.len() {
            let mut k = 0;
            while self.at(p + k) == Some(b' ') {
                k += 1;
            }
            match self.at(p + k) {
                None | Some(b'#') => break,
                Some(b'\n') => {
                    empties += 1;
                    p += k + 1;
                    continue;
                }
                Some(b'\t') => return Err(GiveUp),
                Some(_) => {}
            }
            if (k as isize) <= parent {
                break;
            }
            let at = p + k;
            let Stop::End(e) = self.plain(at) else {
                return Err(GiveUp);
            };
            let text = trim_end(&self.src[at..e]);
            let o = out.get_or_insert_with(|| first.to_owned());
            if empties == 0 {
                o.push(' ');
            }
            push_line_feeds(o, empties);
            o.push_str(text);
            empties = 0;
            consumed = (self.line_end(e) + 1).min(self.s.len());
            p = consumed;
            if self.at(e) == Some(b'#') {
                break;
            }
        }
        if out.is_some() {
            self.pos = consumed;
        }
        Ok(out)
    }

    /// Reads a block mapping whose first key starts at `at`, in column `indent`.
    fn block_map(&mut self, mut at: usize, indent: usize, parent: isize) -> R<Value> {
        self.enter()?;
        let mut map = Map::default();
        loop {
            let (key, after) = self.key(at)?;
            let j = self.skip_spaces(after)?;
            let value = match self.at(j) {
                None | Some(b'\n' | b'#') => {
                    self.end_line(j)?;
                    self.value_below(indent, true)?
                }
                Some(_) => self.node(j, j - self.pos, indent as isize, true)?,
            };
            if map.insert(key, value).is_some() {
                return Err(GiveUp);
            }
            match self.peek()? {
                Line::Content { indent: i, at: a } if i == indent => at = a,
                Line::Content { indent: i, .. } if (i as isize) <= parent => break,
                Line::Eof | Line::DocStart => break,
                Line::Content { .. } => return Err(GiveUp),
            }
        }
        self.depth -= 1;
        Ok(Value::Map(map))
    }

    /// Reads a mapping key at `at` and its `:`; returns the key and the position after `:`.
    fn key(&mut self, at: usize) -> R<(String, usize)> {
        match self.s[at] {
            b'"' | b'\'' => {
                let (text, end) = self.quoted(at, None)?;
                let j = self.skip_spaces(end)?;
                if self.at(j) == Some(b':') && is_blank_or_end(self.s.get(j + 1)) {
                    Ok((text, j + 1))
                } else {
                    Err(GiveUp)
                }
            }
            b'-' if is_blank_or_end(self.s.get(at + 1)) => Err(GiveUp),
            c if is_indicator(c) => Err(GiveUp),
            _ => match self.plain(at) {
                Stop::Colon(c) => {
                    let text = trim_end(&self.src[at..c]);
                    if text == "<<" || text.len() > 1024 {
                        return Err(GiveUp);
                    }
                    Ok((key_string(resolve(text, self.flavor)), c + 1))
                }
                Stop::End(_) => Err(GiveUp),
            },
        }
    }

    /// Reads the value of a mapping key (`in_map`) or sequence entry whose line ended after
    /// the indicator: a node on the following lines, or null.
    fn value_below(&mut self, indent: usize, in_map: bool) -> R<Value> {
        match self.peek()? {
            Line::Content { indent: i, at } if i > indent => {
                self.node(at, i, indent as isize, false)
            }
            Line::Content { indent: i, at }
                if in_map
                    && i == indent
                    && self.s[at] == b'-'
                    && is_blank_or_end(self.s.get(at + 1)) =>
            {
                self.block_seq(at, i, indent as isize)
            }
            _ => Ok(Value::Null),
        }
    }

    /// Reads a block sequence whose first `-` is at `at`, in column `indent`.
    fn block_seq(&mut self, mut at: usize, indent: usize, parent: isize) -> R<Value> {
        self.enter()?;
        let mut list = Vec::new();
        loop {
            let j = self.skip_spaces(at + 1)?;
            let item = match self.at(j) {
                None | Some(b'\n' | b'#') => {
                    self.end_line(j)?;
                    self.value_below(indent, false)?
                }
                Some(_) => self.node(j, j - self.pos, indent as isize, false)?,
            };
            list.push(item);
            match self.peek()? {
                Line::Content { indent: i, at: a }
                    if i == indent && self.s[a] == b'-' && is_blank_or_end(self.s.get(a + 1)) =>
                {
                    at = a
                }
                Line::Content { indent: i, .. } if (i as isize) <= parent => break,
                Line::Eof | Line::DocStart => break,
                Line::Content { .. } => return Err(GiveUp),
            }
        }
        self.depth -= 1;
        Ok(Value::List(list))
    }

    /// Reads a quoted scalar; returns its text and the position after the closing quote.
    /// With `fold` (the indentation of the enclosing collection) it may go on over lines
    /// indented deeper, which fold as YAML folds flow scalars.
    fn quoted(&self, at: usize, fold: Option<isize>) -> R<(String, usize)> {
        let double = self.s[at] == b'"';
        let mut out = String::new();
        let mut seg = at + 1;
        loop {
            let n = if double {
                crate::bytes::find3(b'"', b'\\', b'\n', &self.s[seg..])
            } else {
                crate::bytes::find2(b'\'', b'\n', &self.s[seg..])
            };
            let j = seg + n.ok_or(GiveUp)?;
            match self.s[j] {
                b'\n' => {
                    out.push_str(trim_end(&self.src[seg..j]));
                    let (empties, next) = self.fold_lines(j + 1, fold)?;
                    if empties == 0 {
                        out.push(' ');
                    }
                    push_line_feeds(&mut out, empties);
                    seg = next;
                }
                b'\'' => {
                    out.push_str(&self.src[seg..j]);
                    if self.at(j + 1) == Some(b'\'') {
                        out.push('\'');
                        seg = j + 2;
                    } else {
                        return Ok((out, j + 1));
                    }
                }
                b'"' => {
                    out.push_str(&self.src[seg..j]);
                    return Ok((out, j + 1));
                }
                _ => {
                    out.push_str(&self.src[seg..j]);
                    let e = self.at(j + 1).ok_or(GiveUp)?;
                    seg = j + 2;
                    let ch = match e {
                        b'\n' => {
                            // An escaped line break: no space, the next line's indentation dropped.
                            let (empties, next) = self.fold_lines(j + 2, fold)?;
                            push_line_feeds(&mut out, empties);
                            seg = next;
                            continue;
                        }
                        b'0' => '\0',
                        b'a' => '\x07',
                        b'b' => '\x08',
                        b't' | b'\t' => '\t',
                        b'n' => '\n',
                        b'v' => '\x0B',
                        b'f' => '\x0C',
                        b'r' => '\r',
                        b'e' => '\x1B',
                        b' ' => ' ',
                        b'"' => '"',
                        b'/' => '/',
                        b'\\' => '\\',
                        b'N' => '\u{85}',
                        b'_' => '\u{A0}',
                        b'L' => '\u{2028}',
                        b'P' => '\u{2029}',
                        b'x' | b'u' | b'U' => {
                            let len = match e {
                                b'x' => 2,
                                b'u' => 4,
                                _ => 8,
                            };
                            let hex = self.src.get(seg..seg + len).ok_or(GiveUp)?;
                            if !hex.bytes().all(|b| b.is_ascii_hexdigit()) {
                                return Err(GiveUp);
                            }
                            seg += len;
                            u32::from_str_radix(hex, 16)
                                .ok()
                                .and_then(char::from_u32)
                                .ok_or(GiveUp)?
                        }
                        _ => return Err(GiveUp),
                    };
                    out.push(ch);
                }
            }
        }
    }

    /// After a line break inside a quoted scalar: skips the empty lines that follow (their
    /// count) and the next line's indentation, which must be deeper than `fold`; returns
    /// where that line's text starts.
    fn fold_lines(&self, mut p: usize, fold: Option<isize>) -> R<(usize, usize)> {
        let parent = fold.ok_or(GiveUp)?;
        let mut empties = 0;
        loop {
            let mut k = 0;
            while self.at(p + k) == Some(b' ') {
                k += 1;
            }
            match self.at(p + k) {
                None | Some(b'\t') => return Err(GiveUp),
                Some(b'\n') => {
                    empties += 1;
                    p += k + 1;
                }
                Some(_) if (k as isize) <= parent => return Err(GiveUp),
                Some(_) => return Ok((empties, p + k)),
            }
        }
    }

    /// Reads a one-line flow collection or flow scalar at `at`; returns the value and the
    /// position after it.
    fn flow(&mut self, at: usize) -> R<(Value, usize)> {
        match self.s[at] {
            b'[' => {
                self.enter()?;
                let mut list = Vec::new();
                let mut i = self.skip_spaces(at + 1)?;
                if self.at(i) == Some(b']') {
                    self.depth -= 1;
                    return Ok((Value::List(list), i + 1));
                }
                loop {
                    let (v, end) = self.flow(i)?;
                    list.push(v);
                    match self.flow_step(end, b']')? {
                        FlowStep::Next(n) => i = n,
                        FlowStep::Closed(e) => {
                            self.depth -= 1;
                            return Ok((Value::List(list), e));
                        }
                    }
                }
            }
            b'{' => {
                self.enter()?;
                let mut map = Map::default();
                let mut i = self.skip_spaces(at + 1)?;
                if self.at(i) == Some(b'}') {
                    self.depth -= 1;
                    return Ok((Value::Map(map), i + 1));
                }
                loop {
                    let (key, after) = match self.at(i) {
                        Some(b'"' | b'\'') => {
                            let (k, end) = self.quoted(i, None)?;
                            let j = self.skip_spaces(end)?;
                            if self.at(j) != Some(b':') {
                                return Err(GiveUp);
                            }
                            (k, j + 1)
                        }
                        _ => {
                            let (text, end) = self.flow_plain(i)?;
                            if self.at(end) != Some(b':') {
                                return Err(GiveUp);
                            }
                            (key_string(resolve(text, self.flavor)), end + 1)
                        }
                    };
                    let j = self.skip_spaces(after)?;
                    if matches!(self.at(j), None | Some(b',' | b'}' | b'\n' | b'#')) {
                        return Err(GiveUp);
                    }
                    let (v, end) = self.flow(j)?;
                    if map.insert(key, v).is_some() {
                        return Err(GiveUp);
                    }
                    match self.flow_step(end, b'}')? {
                        FlowStep::Next(n) => i = n,
                        FlowStep::Closed(e) => {
                            self.depth -= 1;
                            return Ok((Value::Map(map), e));
                        }
                    }
                }
            }
            b'"' | b'\'' => {
                let (text, end) = self.quoted(at, None)?;
                Ok((Value::String(text), end))
            }
            _ => {
                let (text, end) = self.flow_plain(at)?;
                if self.at(end) == Some(b':') {
                    // A single-pair mapping inside a flow sequence.
                    return Err(GiveUp);
                }
                Ok((resolve(text, self.flavor), end))
            }
        }
    }

    /// After a flow entry ending at `end`, in a collection closed by `close`: the next
    /// entry after a comma (an empty one or a trailing comma is left to the full parser),
    /// or the position past the closing bracket.
    fn flow_step(&self, end: usize, close: u8) -> R<FlowStep> {
        let e = self.skip_spaces(end)?;
        match self.at(e) {
            Some(b',') => {
                let i = self.skip_spaces(e + 1)?;
                if self.at(i) == Some(close) || self.at(i) == Some(b',') {
                    return Err(GiveUp);
                }
                Ok(FlowStep::Next(i))
            }
            Some(c) if c == close => Ok(FlowStep::Closed(e + 1)),
            _ => Err(GiveUp),
        }
    }

    /// Scans a plain scalar inside a flow collection; returns its trimmed text and where it
    /// stopped (at `,`, `]`, `}` or a `:` that ends a key).
    fn flow_plain(&self, at: usize) -> R<(&'a str, usize)> {
        match self.at(at) {
            None | Some(b'\n') => return Err(GiveUp),
            Some(c) if is_indicator(c) => return Err(GiveUp),
            Some(b'-')
                if matches!(
                    self.at(at + 1),
                    None | Some(b' ' | b'\t' | b'\n' | b',' | b']' | b'}')
                ) =>
            {
                return Err(GiveUp);
            }
            _ => {}
        }
        let mut i = at;
        loop {
            match self.at(i) {
                None | Some(b'\n' | b'[' | b'{' | b'\t') => return Err(GiveUp),
                Some(b',' | b']' | b'}') => break,
                Some(b':')
                    if matches!(
                        self.at(i + 1),
                        None | Some(b' ' | b',' | b']' | b'}' | b'\n')
                    ) =>
                {
                    break;
                }
                Some(b'#') if self.s[i - 1] == b' ' => return Err(GiveUp),
                Some(_) => i += 1,
            }
        }
        let text = trim_end(&self.src[at..i]);
        if text.is_empty() {
            return Err(GiveUp);
        }
        Ok((text, i))
    }

    /// Reads a literal (`|`) or folded (`>`) block scalar whose header is at `at`, the value
    /// of a node in a collection indented `parent`.
    fn block_scalar(&mut self, at: usize, parent: isize) -> R<Value> {
        let literal = self.s[at] == b'|';
        let mut i = at + 1;
        let chomp = match self.at(i) {
            Some(b'-') => Chomp::Strip,
            Some(b'+') => Chomp::Keep,
            _ => Chomp::Clip,
        };
        if chomp != Chomp::Clip {
            i += 1;
        }
        if !matches!(self.at(i), None | Some(b' ' | b'\t' | b'\n')) {
            // An indentation indicator, or text glued to the header.
            return Err(GiveUp);
        }
        self.end_line(i)?;

        let mut lines: Vec<BlockLine> = Vec::new();
        let mut content_indent: Option<usize> = None;
        let mut leading_empty_max = 0;
        let mut pos = self.pos;
        while pos < self.s.len() {
            let end = self.line_end(pos);
            let mut k = 0;
            while pos + k < end && self.s[pos + k] == b' ' {
                k += 1;
            }
            let blank = pos + k == end;
            if blank && content_indent.is_none_or(|ci| k <= ci) {
                if end == self.s.len() && chomp == Chomp::Keep {
                    return Err(GiveUp);
                }
                if content_indent.is_none() {
                    leading_empty_max = leading_empty_max.max(k);
                }
                lines.push(BlockLine::Empty);
                pos = (end + 1).min(self.s.len());
                continue;
            }
            let ci = match content_indent {
                Some(ci) => ci,
                None => {
                    if (k as isize) <= parent {
                        break;
                    }
                    if leading_empty_max > k || self.s[pos + k] == b'\t' {
                        return Err(GiveUp);
                    }
                    content_indent = Some(k);
                    k
                }
            };
            if k < ci {
                break;
            }
            lines.push(BlockLine::Text(pos + ci, end));
            pos = (end + 1).min(self.s.len());
        }
        self.pos = pos;

        let Some(last) = lines.iter().rposition(|l| matches!(l, BlockLine::Text(..))) else {
            return match chomp {
                Chomp::Keep => Err(GiveUp),
                _ => Ok(Value::String(String::new())),
            };
        };
        let trailing = lines.len() - 1 - last;
        let mut out = String::new();
        if literal {
            for line in &lines[..=last] {
                if let BlockLine::Text(a, b) = *line {
                    out.push_str(&self.src[a..b]);
                }
                out.push('\n');
            }
            out.pop();
        } else {
            let mut empties = 0;
            let mut first = true;
            for line in &lines[..=last] {
                match *line {
                    BlockLine::Empty if first => return Err(GiveUp),
                    BlockLine::Empty => empties += 1,
                    BlockLine::Text(a, b) => {
                        if matches!(self.s[a], b' ' | b'\t') {
                            return Err(GiveUp);
                        }
                        if !first {
                            if empties == 0 {
                                out.push(' ');
                            }
                            push_line_feeds(&mut out, empties);
                        }
                        empties = 0;
                        first = false;
                        out.push_str(&self.src[a..b]);
                    }
                }
            }
        }
        // The last line's break (serde-saphyr counts one at the end of the input too).
        if chomp != Chomp::Strip {
            out.push('\n');
        }
        if chomp == Chomp::Keep {
            push_line_feeds(&mut out, trailing);
        }
        Ok(Value::String(out))
    }
}

fn push_line_feeds(out: &mut String, n: usize) {
    for _ in 0..n {
        out.push('\n');
    }
}

fn trim_end(s: &str) -> &str {
    s.trim_end_matches([' ', '\t'])
}

fn key_string(key: Value) -> String {
    super::convert::key_string(key)
}

/// What a plain scalar means, as serde-saphyr decides with each flavour's options: null,
/// then booleans, then (YAML 1.2 only) leading-zero and underscored numbers kept as strings,
/// then integers, then floats, else the string itself.
pub(super) fn resolve(text: &str, flavor: Flavor) -> Value {
    let Some(&first) = text.as_bytes().first() else {
        return Value::Null;
    };
    if let "~" | "null" | "Null" | "NULL" = text {
        return Value::Null;
    }
    if let Some(b) = boolean(text, flavor) {
        return Value::Bool(b);
    }
    // Neither an integer nor a float can start with anything else.
    if !(first.is_ascii_digit() || matches!(first, b'+' | b'-' | b'.')) {
        return Value::String(text.to_owned());
    }
    let legacy = flavor == Flavor::Yaml11;
    if !legacy && (leading_zero_decimal(text) || text.contains('_')) {
        return Value::String(text.to_owned());
    }
    if let Some(v) = integer(text, legacy) {
        return v;
    }
    match float(text) {
        Some(f) => Value::Float(f),
        None => Value::String(text.to_owned()),
    }
}

fn boolean(t: &str, flavor: Flavor) -> Option<bool> {
    if t.len() > 5 {
        return None;
    }
    match flavor {
        Flavor::Core12 => match t {
            "true" | "True" | "TRUE" => Some(true),
            "false" | "False" | "FALSE" => Some(false),
            _ => None,
        },
        Flavor::Yaml11 => {
            let is = |w: &str| t.eq_ignore_ascii_case(w);
            if is("true") || is("yes") || is("y") || is("on") {
                Some(true)
            } else if is("false") || is("no") || is("n") || is("off") {
                Some(false)
            } else {
                None
            }
        }
    }
}

/// `0127`, `+0127`, `-0127`: a decimal integer with a redundant leading zero.
fn leading_zero_decimal(t: &str) -> bool {
    let d = t.strip_prefix(['+', '-']).unwrap_or(t);
    d.len() > 1 && d.starts_with('0') && d.bytes().all(|b| b.is_ascii_digit())
}

/// An integer in decimal, `0x`, `0o`, `0b` (and, with `legacy`, `0`-prefixed octal), with
/// single underscores between digits. Values above `i64::MAX` become floats.
fn integer(t: &str, legacy: bool) -> Option<Value> {
    let (negative, rest) = match t.strip_prefix('-') {
        Some(r) => (true, r),
        None => (false, t.strip_prefix('+').unwrap_or(t)),
    };
    if negative && !legacy && leading_zero_decimal(t) {
        return None;
    }
    let (radix, digits) = if let Some(r) = rest.strip_prefix("0x").or(rest.strip_prefix("0X")) {
        (16, prefixed(r, legacy))
    } else if let Some(r) = rest.strip_prefix("0o").or(rest.strip_prefix("0O")) {
        (8, prefixed(r, legacy))
    } else if let Some(r) = rest.strip_prefix("0b").or(rest.strip_prefix("0B")) {
        (2, prefixed(r, legacy))
    } else if legacy && rest.starts_with('0') {
        if rest == "0" {
            (8, "0")
        } else {
            (8, prefixed(&rest[1..], legacy))
        }
    } else {
        if rest.starts_with('0') && rest != "0" {
            return None;
        }
        (10, rest)
    };
    let magnitude = digits_value(digits, radix)?;
    if negative {
        let m = i128::try_from(magnitude).ok()?;
        i64::try_from(-m).ok().map(Value::Int)
    } else {
        let u = u64::try_from(magnitude).ok()?;
        Some(i64::try_from(u).map_or(Value::Float(u as f64), Value::Int))
    }
}

fn prefixed(digits: &str, legacy: bool) -> &str {
    if legacy {
        digits.strip_prefix('_').unwrap_or(digits)
    } else {
        digits
    }
}

/// Digits in `radix` with single underscores between them; `None` when there are none.
fn digits_value(digits: &str, radix: u32) -> Option<u128> {
    let b = digits.as_bytes();
    let mut value: u128 = 0;
    let mut seen = false;
    for (i, &c) in b.iter().enumerate() {
        if c == b'_' {
            if i == 0 || b[i - 1] == b'_' || i + 1 == b.len() || b[i + 1] == b'_' {
                return None;
            }
            continue;
        }
        let d = (c as char).to_digit(16).filter(|&d| d < radix)?;
        value = value
            .checked_mul(u128::from(radix))?
            .checked_add(u128::from(d))?;
        seen = true;
    }
    seen.then_some(value)
}

/// YAML 1.2 floats: `.inf`/`.nan` spellings with a sign, then anything Rust reads as a
/// finite float, then a numeral that overflows to infinity.
fn float(t: &str) -> Option<f64> {
    let (negative, unsigned) = match t.strip_prefix('-') {
        Some(r) => (true, r),
        None => (false, t.strip_prefix('+').unwrap_or(t)),
    };
    match unsigned {
        ".nan" | ".NaN" | ".NAN" => return Some(f64::NAN),
        ".inf" | ".Inf" | ".INF" => {
            return Some(if negative {
                f64::NEG_INFINITY
            } else {
                f64::INFINITY
            });
        }
        _ => {}
    }
    let parsed = t.parse::<f64>().ok()?;
    if parsed.is_finite() || unsigned.as_bytes().first().is_some_and(u8::is_ascii_digit) {
        Some(parsed)
    } else {
        None
    }
}

#[cfg(test)]
mod tests;
