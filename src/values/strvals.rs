//! Helm's `--set` family of flags (`--set`, `--set-string`, `--set-json`, `--set-literal`,
//! `--set-file`), reproducing Helm v4's `pkg/strvals` behaviour, quirks and messages included.
//!
//! # Grammar
//!
//! An argument is a list of `path=value` pairs separated by `,`. A path is names separated by
//! `.`, and a name may be followed by one or more `[index]`s (`a.b[0][1].c`). A backslash makes
//! the next character ordinary, in names, indexes and values alike (`k\.dot=1`, `s=a\,b`).
//!
//! - `--set` types each value: `true`/`false` (any case) are booleans, `null` (any case) is
//!   null, `0` and base-10 integers that fit 64 bits and do not start with `0` (`-5`, `+1`,
//!   `-01`) are integers ([`Value::Int`]), everything else is a string (`1.5`, `1e3`, `0x1F`,
//!   `007`, `9223372036854775808`, the empty string).
//! - `{a,b,c}` right after `=` is a list of values typed the same way; `{}` is `[""]`.
//! - `--set-string` reads the same grammar but every value is a string.
//! - `--set-file` reads the same grammar, but each value (and each list item) is a path whose
//!   content becomes a string; an empty value at the very end (`k=`) is `""` without a read.
//! - `--set-literal` reads one path (no backslash escapes, no `,`), and its value is
//!   everything after the first `=`, verbatim.
//! - `--set-json` takes either one JSON object (`{...}`, deep-merged into the values) or
//!   `path=<JSON>` pairs, where an empty value is null. Helm decodes JSON through Go's
//!   `encoding/json` into `interface{}`, so **every JSON number is a float64**: this module
//!   produces [`Value::Float`] for all of them (`a=1` is `Float(1.0)`, unlike `--set`).
//!
//! # Writes
//!
//! Later writes win; `a.b=1` merges into an existing map `a`; `a[i]=v` replaces element `i` of
//! an existing list and keeps the rest, growing the list with nulls when `i` is past its end
//! (at most index [`MAX_INDEX`]); a path has at most [`MAX_NESTED_NAME_LEVEL`] `.`s that follow
//! a name. Going through a value of the wrong kind is an error Helm words as a Go type
//! assertion failure (`a=1,a.b=2`), except that `a[0].b` quietly replaces a non-map `a[0]` by
//! a map and `a[0][1]` treats a null `a[0]` as an empty list. Writes to the empty name are
//! dropped (`=1`, `.a=1` do nothing).
//!
//! Running out of input ends an argument quietly wherever it happens, as in Helm: `a[0]`
//! leaves `a` an (empty) list, `a[1` and `a.` do nothing, `a.b=` sets `""`, and `a[0].b=`
//! leaves `a` empty when `a[0]` is new (the map is attached only when the pair completes).
//!
//! On error, `dest` may keep part of the argument's writes, as Helm's map does; Helm then
//! stops, so callers should drop it too.
//!
//! Go types in messages: [`Value::Int`] is named `int64` (what `--set` makes) and
//! [`Value::Float`] `float64`; a values file read by Helm has only float64 numbers, so a
//! conflict with an integer that came from YAML is worded `int64` here and `float64` by Helm.

use crate::value::{Map, Value, gojson};
use std::fmt;

/// The largest list index a path may use (Helm's `MaxIndex`).
pub const MAX_INDEX: i64 = 65536;

/// The most `.`-after-a-name levels a path may have (Helm's `MaxNestedNameLevel`).
pub const MAX_NESTED_NAME_LEVEL: usize = 30;

/// What went wrong in one argument. `Display` is Helm's wording, without the
/// `failed parsing --set data: ` prefix that [`SetError::helm_message`] adds.
#[derive(Debug, Clone, thiserror::Error, PartialEq)]
pub enum SetError {
    /// A path that ends without `=` (`a`, `a.b`).
    #[error("key {} has no value", go_quote(.0))]
    NoValue(String),
    /// A path followed by `,` instead of `=` (`a,b=1`, or an empty pair `a=1,,b=2`).
    #[error("key {} has no value (cannot end with ,)", go_quote(.0))]
    NoValueBeforeComma(String),
    /// `a.=1`: the map under `a` ends up with nothing in it.
    #[error("key map {} has no value", go_quote(.0))]
    EmptyKeyMap(String),
    /// More than [`MAX_NESTED_NAME_LEVEL`] nested names.
    #[error(
        "value name nested level is greater than maximum supported nested level of {MAX_NESTED_NAME_LEVEL}"
    )]
    TooDeep,
    /// An index that is not a base-10 integer (`a[x]`, `a[]`) or that overflows 64 bits.
    #[error(
        "error parsing index: strconv.Atoi: parsing {}: {}",
        go_quote(.text),
        if *.out_of_range { "value out of range" } else { "invalid syntax" }
    )]
    BadIndex {
        /// The text between the brackets, escapes resolved.
        text: String,
        /// Whether it is an integer too large for 64 bits (else: not an integer at all).
        out_of_range: bool,
    },
    /// A negative index.
    #[error("negative {0} index not allowed")]
    NegativeIndex(i64),
    /// An index above [`MAX_INDEX`].
    #[error("index of {0} is greater than maximum supported index of {MAX_INDEX}")]
    IndexTooLarge(i64),
    /// Characters between `]` and the next `[`, `.` or `=` (`a[0]x=1`).
    #[error("unexpected data at end of array index: {}", go_quote_runes(.0))]
    DataAfterIndex(String),
    /// A `{` list value with no closing `}`.
    #[error("list must terminate with '}}'")]
    UnclosedList,
    /// A path goes through a value of another kind: `found` is that value's Go type (`nil`,
    /// `bool`, `int64`, `float64`, `string`, `[]interface {}`, `map[string]interface {}`),
    /// `expected` the one the path needs.
    #[error("unable to parse key: interface conversion: interface {{}} is {found}, not {expected}")]
    TypeConflict {
        /// The Go type of the value found.
        found: &'static str,
        /// The Go type the path needs there.
        expected: &'static str,
    },
    /// `--set-json`: a `path=<JSON>` value that is not JSON, in Go's `encoding/json` words.
    /// Helm does not show this text: its message is only the whole argument.
    #[error("{0}")]
    Json(String),
    /// `--set-json`: a `{...}` argument that is not one JSON object, in Go's words (Helm shows
    /// only the argument).
    #[error("{0}")]
    JsonObject(String),
    /// `--set-file`: the file could not be read (the reader's message, shown as is).
    #[error("{0}")]
    Read(String),
}

/// Which flag an argument came from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SetFlag {
    /// `--set`
    Set,
    /// `--set-string`
    SetString,
    /// `--set-json`
    SetJson,
    /// `--set-literal`
    SetLiteral,
    /// `--set-file`
    SetFile,
}

impl SetFlag {
    /// The flag's name without dashes (`set-string`).
    pub fn name(self) -> &'static str {
        match self {
            SetFlag::Set => "set",
            SetFlag::SetString => "set-string",
            SetFlag::SetJson => "set-json",
            SetFlag::SetLiteral => "set-literal",
            SetFlag::SetFile => "set-file",
        }
    }

    /// The flag for a name without dashes (`set-json`).
    pub fn from_name(name: &str) -> Option<SetFlag> {
        Some(match name {
            "set" => SetFlag::Set,
            "set-string" => SetFlag::SetString,
            "set-json" => SetFlag::SetJson,
            "set-literal" => SetFlag::SetLiteral,
            "set-file" => SetFlag::SetFile,
            _ => return None,
        })
    }
}

impl fmt::Display for SetFlag {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "--{}", self.name())
    }
}

impl SetError {
    /// The whole line Helm prints (after `Error: `) when `arg` of `flag` fails with this
    /// error: `failed parsing --set data: key "q" has no value`. For `--set-json` Helm names
    /// only the argument (`failed parsing --set-json data a=[1`, or
    /// `failed parsing --set-json data JSON: {bad` for the whole-object form).
    pub fn helm_message(&self, flag: SetFlag, arg: &str) -> String {
        match flag {
            SetFlag::SetJson if is_json_object_arg(arg) => {
                format!("failed parsing --set-json data JSON: {arg}")
            }
            SetFlag::SetJson => format!("failed parsing --set-json data {arg}"),
            _ => format!("failed parsing --{} data: {self}", flag.name()),
        }
    }
}

/// One `--set` argument, parsed and merged into `dest` (typed values).
pub fn parse_set(arg: &str, dest: &mut Map) -> Result<(), SetError> {
    Parser::new(arg, Mode::Typed).run(dest)
}

/// One `--set-string` argument: the `--set` grammar, every value a string.
pub fn parse_set_string(arg: &str, dest: &mut Map) -> Result<(), SetError> {
    Parser::new(arg, Mode::Strings).run(dest)
}

/// One `--set-json` argument: a whole JSON object (starting with `{` after blanks), deep-merged
/// into `dest` the way Helm merges values files, or `path=<JSON>` pairs. JSON numbers become
/// [`Value::Float`], as Go's `encoding/json` makes them float64.
pub fn parse_set_json(arg: &str, dest: &mut Map) -> Result<(), SetError> {
    if is_json_object_arg(arg) {
        match gojson::decode_whole(arg.trim()).map_err(SetError::JsonObject)? {
            Value::Map(object) => {
                merge_maps(dest, object);
                Ok(())
            }
            _ => unreachable!("a JSON text starting with '{{' is an object"),
        }
    } else {
        Parser::new(arg, Mode::Json).run(dest)
    }
}

/// One `--set-literal` argument: one path, its value everything after the first `=`.
pub fn parse_set_literal(arg: &str, dest: &mut Map) -> Result<(), SetError> {
    Parser::new(arg, Mode::Literal).run(dest)
}

/// One `--set-file` argument: the `--set` grammar where each value is a path that `read`
/// turns into the string stored (its error message becomes [`SetError::Read`]).
pub fn parse_set_file(
    arg: &str,
    dest: &mut Map,
    read: &mut dyn FnMut(&str) -> Result<String, String>,
) -> Result<(), SetError> {
    Parser::new(arg, Mode::File(read)).run(dest)
}

/// One argument of any flag; `read` serves `--set-file` and is not called for the others.
pub fn parse_flag(
    flag: SetFlag,
    arg: &str,
    dest: &mut Map,
    read: &mut dyn FnMut(&str) -> Result<String, String>,
) -> Result<(), SetError> {
    match flag {
        SetFlag::Set => parse_set(arg, dest),
        SetFlag::SetString => parse_set_string(arg, dest),
        SetFlag::SetJson => parse_set_json(arg, dest),
        SetFlag::SetLiteral => parse_set_literal(arg, dest),
        SetFlag::SetFile => parse_set_file(arg, dest, read),
    }
}

/// Helm takes a `--set-json` argument as a whole object when it starts with `{` once
/// surrounding white space is trimmed.
fn is_json_object_arg(arg: &str) -> bool {
    arg.trim().starts_with('{')
}

/// Deep merge as Helm merges values: maps merge key by key, anything else (lists, nulls
/// included) replaces.
fn merge_maps(dest: &mut Map, src: Map) {
    for (key, value) in src {
        match (dest.get_mut(&key), value) {
            (Some(Value::Map(old)), Value::Map(new)) => merge_maps(old, new),
            (_, value) => {
                dest.insert(key, value);
            }
        }
    }
}

/// How values are read.
enum Mode<'r> {
    /// `--set`: typed scalars.
    Typed,
    /// `--set-string`: strings.
    Strings,
    /// `--set-json`: JSON after `=`.
    Json,
    /// `--set-literal`: no escapes, value is the rest verbatim.
    Literal,
    /// `--set-file`: each value names a file.
    File(&'r mut dyn FnMut(&str) -> Result<String, String>),
}

/// Why a step stopped: the input ran out (which ends an argument quietly, wherever it
/// happens), or an error.
enum Halt {
    Eof,
    Fail(SetError),
}

impl From<SetError> for Halt {
    fn from(e: SetError) -> Self {
        Halt::Fail(e)
    }
}

type Step = Result<(), Halt>;

/// How a `{...}` list value ended when it was not read.
enum NoList {
    /// Nothing after `=`.
    Eof,
    /// The value does not start with `{`.
    NotList,
    Fail(SetError),
}

const GO_LIST: &str = "[]interface {}";
const GO_MAP: &str = "map[string]interface {}";

struct Parser<'s, 'r> {
    src: &'s str,
    pos: usize,
    mode: Mode<'r>,
}

impl<'s, 'r> Parser<'s, 'r> {
    fn new(src: &'s str, mode: Mode<'r>) -> Self {
        Parser { src, pos: 0, mode }
    }

    fn literal(&self) -> bool {
        matches!(self.mode, Mode::Literal)
    }

    fn run(mut self, dest: &mut Map) -> Result<(), SetError> {
        loop {
            match self.key(dest, 0) {
                Ok(()) => {}
                Err(Halt::Eof) => return Ok(()),
                Err(Halt::Fail(e)) => return Err(e),
            }
        }
    }

    fn read(&mut self) -> Option<char> {
        let c = self.src[self.pos..].chars().next()?;
        self.pos += c.len_utf8();
        Some(c)
    }

    fn unread(&mut self, c: char) {
        self.pos -= c.len_utf8();
    }

    /// Characters up to (and consuming) the first unescaped stop character, escapes resolved
    /// (none in literal mode); `None` when the input ends first (a lone trailing backslash is
    /// dropped).
    fn until(&mut self, stops: &[char]) -> (String, Option<char>) {
        let mut out = String::new();
        let literal = self.literal();
        while let Some(c) = self.read() {
            if stops.contains(&c) {
                return (out, Some(c));
            }
            if c == '\\' && !literal {
                match self.read() {
                    Some(next) => out.push(next),
                    None => return (out, None),
                }
            } else {
                out.push(c);
            }
        }
        (out, None)
    }

    /// Everything left, verbatim.
    fn rest(&mut self) -> String {
        let rest = self.src[self.pos..].to_owned();
        self.pos = self.src.len();
        rest
    }

    /// One `path=value` pair written into `data`.
    fn key(&mut self, data: &mut Map, level: usize) -> Step {
        let stops: &[char] = if self.literal() {
            &['=', '[', '.']
        } else {
            &['=', '[', ',', '.']
        };
        let (name, stop) = self.until(stops);
        match stop {
            None if name.is_empty() => Err(Halt::Eof),
            None => Err(SetError::NoValue(name).into()),
            Some('[') => self.key_list(data, name, level),
            Some('=') => self.key_value(data, name),
            Some(',') => {
                set(data, name.clone(), Value::String(String::new()));
                Err(SetError::NoValueBeforeComma(name).into())
            }
            Some(_) => self.key_map(data, name, level + 1),
        }
    }

    /// `name[i]...`: the list under `name`, created when missing.
    fn key_list(&mut self, data: &mut Map, name: String, level: usize) -> Step {
        let index = self.index()?;
        match data.get_mut(&name) {
            Some(Value::List(list)) if name.is_empty() => {
                // Helm never stores under the empty name: changes to existing elements
                // stick, growth is lost.
                let len = list.len();
                let mut copy = list.clone();
                let step = self.list_item(&mut copy, index, level);
                copy.truncate(len);
                *list = copy;
                step
            }
            Some(Value::List(list)) => self.list_item(list, index, level),
            Some(other) => Err(type_conflict(other, GO_LIST)),
            None => {
                let mut list = Vec::new();
                let step = self.list_item(&mut list, index, level);
                set(data, name, Value::List(list));
                step
            }
        }
    }

    /// `name.rest`: the map under `name`, created when missing.
    fn key_map(&mut self, data: &mut Map, name: String, level: usize) -> Step {
        if level > MAX_NESTED_NAME_LEVEL {
            return Err(SetError::TooDeep.into());
        }
        match data.get_mut(&name) {
            Some(Value::Map(inner)) => {
                let step = self.key(inner, level);
                if step.is_ok() && inner.is_empty() {
                    return Err(SetError::EmptyKeyMap(name).into());
                }
                step
            }
            Some(other) => Err(type_conflict(other, GO_MAP)),
            None => {
                let mut inner = Map::default();
                let step = self.key(&mut inner, level);
                if inner.is_empty() {
                    step?;
                    return Err(SetError::EmptyKeyMap(name).into());
                }
                set(data, name, Value::Map(inner));
                step
            }
        }
    }

    /// `name=value`.
    fn key_value(&mut self, data: &mut Map, name: String) -> Step {
        match self.mode {
            Mode::Json => {
                if self.empty_val() {
                    set(data, name, Value::Null);
                    return Ok(());
                }
                let value = self.json_value()?;
                set(data, name, value);
                self.empty_val();
                Ok(())
            }
            Mode::Literal => {
                let value = self.rest();
                set(data, name, Value::String(value));
                Ok(())
            }
            _ => match self.val_list() {
                Ok(list) => {
                    set(data, name, Value::List(list));
                    Ok(())
                }
                Err(NoList::Eof) => {
                    set(data, name, Value::String(String::new()));
                    Err(Halt::Eof)
                }
                Err(NoList::NotList) => {
                    let raw = self.val();
                    let value = self.convert(&raw)?;
                    set(data, name, value);
                    Ok(())
                }
                Err(NoList::Fail(e)) => Err(e.into()),
            },
        }
    }

    /// What follows `[i]` of a list: `=value`, another `[j]`, or `.name...`.
    fn list_item(&mut self, list: &mut Vec<Value>, i: i64, level: usize) -> Step {
        if i < 0 {
            return Err(SetError::NegativeIndex(i).into());
        }
        let (junk, stop) = self.until(&['[', '.', '=']);
        if !junk.is_empty() {
            return Err(SetError::DataAfterIndex(junk).into());
        }
        let existing = usize::try_from(i).ok().filter(|&u| u < list.len());
        match stop {
            None => Err(Halt::Eof),
            Some('=') => match self.mode {
                Mode::Json => {
                    if self.empty_val() {
                        return Ok(set_index(list, i, Value::Null)?);
                    }
                    let value = self.json_value()?;
                    set_index(list, i, value)?;
                    self.empty_val();
                    Ok(())
                }
                Mode::Literal => {
                    let value = self.rest();
                    Ok(set_index(list, i, Value::String(value))?)
                }
                _ => match self.val_list() {
                    Ok(items) => Ok(set_index(list, i, Value::List(items))?),
                    Err(NoList::Eof) => Ok(set_index(list, i, Value::String(String::new()))?),
                    Err(NoList::NotList) => {
                        let raw = self.val();
                        let value = self.convert(&raw)?;
                        Ok(set_index(list, i, value)?)
                    }
                    Err(NoList::Fail(e)) => Err(e.into()),
                },
            },
            Some('[') => {
                let next = self.index()?;
                if let Some(u) = existing {
                    match &mut list[u] {
                        Value::List(inner) => return self.list_item(inner, next, level),
                        Value::Null => {}
                        other => return Err(type_conflict(other, GO_LIST)),
                    }
                }
                let mut inner = Vec::new();
                self.list_item(&mut inner, next, level)?;
                Ok(set_index(list, i, Value::List(inner))?)
            }
            Some(_) => {
                if let Some(u) = existing {
                    // Helm replaces a non-map element by an empty map before going on.
                    if !matches!(list[u], Value::Map(_)) {
                        list[u] = Value::map();
                    }
                    let Value::Map(inner) = &mut list[u] else {
                        unreachable!("just made a map")
                    };
                    return self.key(inner, level);
                }
                let mut inner = Map::default();
                self.key(&mut inner, level)?;
                Ok(set_index(list, i, Value::Map(inner))?)
            }
        }
    }

    /// The index after `[`, up to `]`.
    fn index(&mut self) -> Result<i64, Halt> {
        let (text, stop) = self.until(&[']']);
        if stop.is_none() {
            return Err(Halt::Eof);
        }
        go_parse_int(&text).map_err(|out_of_range| SetError::BadIndex { text, out_of_range }.into())
    }

    /// A plain value: up to the next unescaped `,`.
    fn val(&mut self) -> String {
        self.until(&[',']).0
    }

    /// A `{a,b}` list value, when the value starts with `{`.
    fn val_list(&mut self) -> Result<Vec<Value>, NoList> {
        match self.read() {
            None => return Err(NoList::Eof),
            Some('{') => {}
            Some(c) => {
                self.unread(c);
                return Err(NoList::NotList);
            }
        }
        let mut list = Vec::new();
        loop {
            let (raw, stop) = self.until(&[',', '}']);
            match stop {
                None => return Err(NoList::Fail(SetError::UnclosedList)),
                Some('}') => {
                    // A `,` right after the list ends the pair.
                    if let Some(c) = self.read()
                        && c != ','
                    {
                        self.unread(c);
                    }
                    list.push(self.convert(&raw).map_err(NoList::Fail)?);
                    return Ok(list);
                }
                Some(_) => list.push(self.convert(&raw).map_err(NoList::Fail)?),
            }
        }
    }

    /// A raw value as the mode reads it.
    fn convert(&mut self, raw: &str) -> Result<Value, SetError> {
        match &mut self.mode {
            Mode::Typed => Ok(typed_value(raw)),
            Mode::File(read) => read(raw).map(Value::String).map_err(SetError::Read),
            _ => Ok(Value::String(raw.to_owned())),
        }
    }

    /// `--set-json`: skips white space; true (and consumes it) at a `,` or the end, false
    /// before anything else (left unread).
    fn empty_val(&mut self) -> bool {
        while let Some(c) = self.read() {
            if c == ',' {
                return true;
            }
            if !c.is_whitespace() {
                self.unread(c);
                return false;
            }
        }
        true
    }

    /// `--set-json`: one JSON value, and no more of the input than it spans.
    fn json_value(&mut self) -> Result<Value, SetError> {
        let (value, used) = gojson::decode_prefix(&self.src[self.pos..]).map_err(SetError::Json)?;
        self.pos += used;
        Ok(value)
    }
}

/// Stores `value` under `key`, unless the key is empty (Helm drops those writes).
fn set(data: &mut Map, key: String, value: Value) {
    if !key.is_empty() {
        data.insert(key, value);
    }
}

/// Stores `value` at `index`, growing the list with nulls.
fn set_index(list: &mut Vec<Value>, index: i64, value: Value) -> Result<(), SetError> {
    if index < 0 {
        return Err(SetError::NegativeIndex(index));
    }
    if index > MAX_INDEX {
        return Err(SetError::IndexTooLarge(index));
    }
    let index = index as usize;
    if list.len() <= index {
        list.resize(index + 1, Value::Null);
    }
    list[index] = value;
    Ok(())
}

fn type_conflict(found: &Value, expected: &'static str) -> Halt {
    SetError::TypeConflict {
        found: go_type_name(found),
        expected,
    }
    .into()
}

/// The Go type Helm would hold for a value (see the module docs on numbers).
fn go_type_name(value: &Value) -> &'static str {
    match value {
        Value::Null => "nil",
        Value::Bool(_) => "bool",
        Value::Int(_) => "int64",
        Value::Float(_) => "float64",
        Value::String(_) => "string",
        Value::List(_) => GO_LIST,
        Value::Map(_) => GO_MAP,
    }
}

/// `--set`'s typing of a scalar.
fn typed_value(raw: &str) -> Value {
    if go_equal_fold(raw, "true") {
        return Value::Bool(true);
    }
    if go_equal_fold(raw, "false") {
        return Value::Bool(false);
    }
    if go_equal_fold(raw, "null") {
        return Value::Null;
    }
    if raw == "0" {
        return Value::Int(0);
    }
    if !raw.is_empty()
        && !raw.starts_with('0')
        && let Ok(i) = go_parse_int(raw)
    {
        return Value::Int(i);
    }
    Value::String(raw.to_owned())
}

/// Go's `strings.EqualFold` against a lowercase ASCII word: simple Unicode case folding,
/// where `ſ` (U+017F) matches `s` and the Kelvin sign matches `k`.
fn go_equal_fold(s: &str, word: &str) -> bool {
    let mut chars = s.chars();
    for w in word.chars() {
        let Some(c) = chars.next() else {
            return false;
        };
        let same = c.to_ascii_lowercase() == w
            || (c == '\u{17F}' && w == 's')
            || (c == '\u{212A}' && w == 'k');
        if !same {
            return false;
        }
    }
    chars.next().is_none()
}

/// Go's `strconv.ParseInt(s, 10, 64)` (and `Atoi`): optional sign, ASCII digits, no
/// underscores. The error is `true` for "value out of range", `false` for "invalid syntax";
/// like Go, the first problem met from the left decides.
fn go_parse_int(s: &str) -> Result<i64, bool> {
    let (negative, digits) = match s.as_bytes().first() {
        Some(b'+') => (false, &s[1..]),
        Some(b'-') => (true, &s[1..]),
        _ => (false, s),
    };
    if digits.is_empty() {
        return Err(false);
    }
    let mut n: u64 = 0;
    for b in digits.bytes() {
        if !b.is_ascii_digit() {
            return Err(false);
        }
        n = n
            .checked_mul(10)
            .and_then(|n| n.checked_add(u64::from(b - b'0')))
            .ok_or(true)?;
    }
    const LIMIT: u64 = 1 << 63;
    match (negative, n) {
        (false, n) if n < LIMIT => Ok(n as i64),
        (true, n) if n < LIMIT => Ok(-(n as i64)),
        (true, LIMIT) => Ok(i64::MIN),
        _ => Err(true),
    }
}

/// Go's `strconv.Quote`.
fn go_quote(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        push_escaped(&mut out, c, '"');
    }
    out.push('"');
    out
}

/// Go's `%q` of a `[]rune`: each rune single-quoted, space separated, in brackets.
fn go_quote_runes(s: &str) -> String {
    let quoted: Vec<String> = s.chars().map(go_quote_rune).collect();
    format!("[{}]", quoted.join(" "))
}

/// Go's `strconv.QuoteRune`.
fn go_quote_rune(c: char) -> String {
    let mut out = String::from("'");
    push_escaped(&mut out, c, '\'');
    out.push('\'');
    out
}

/// One character as Go's quoting writes it inside `quote` marks.
fn push_escaped(out: &mut String, c: char, quote: char) {
    use std::fmt::Write;
    if c == quote || c == '\\' {
        out.push('\\');
        out.push(c);
        return;
    }
    if is_go_print(c) {
        out.push(c);
        return;
    }
    match c {
        '\u{7}' => out.push_str("\\a"),
        '\u{8}' => out.push_str("\\b"),
        '\u{c}' => out.push_str("\\f"),
        '\n' => out.push_str("\\n"),
        '\r' => out.push_str("\\r"),
        '\t' => out.push_str("\\t"),
        '\u{b}' => out.push_str("\\v"),
        c if c < ' ' || c == '\u{7f}' => {
            let _ = write!(out, "\\x{:02x}", c as u32);
        }
        c if (c as u32) < 0x10000 => {
            let _ = write!(out, "\\u{:04x}", c as u32);
        }
        c => {
            let _ = write!(out, "\\U{:08x}", c as u32);
        }
    }
}

/// Go's `unicode.IsPrint`: letters, marks, numbers, punctuation, symbols and the ASCII space.
/// Rust's debug escaping leaves exactly those categories alone (after a base character, so
/// that combining marks count as printable).
fn is_go_print(c: char) -> bool {
    if c.is_ascii() {
        return (' '..='~').contains(&c);
    }
    let mut probe = String::from("a");
    probe.push(c);
    probe.escape_debug().to_string() == probe
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    /// See the header of the file for its format.
    const CASES: &str = include_str!("../../tests/data/set-cases.tsv");
    const ARG_SEP: &str = " \u{241E} ";

    struct Case<'a> {
        line: usize,
        flag: SetFlag,
        args: Vec<&'a str>,
        expected: &'a str,
        kinds: Vec<(&'a str, &'a str)>,
    }

    /// The fixture files and the cases of the table.
    fn table() -> (HashMap<String, String>, Vec<Case<'static>>) {
        let mut files = HashMap::new();
        let mut cases = Vec::new();
        for (n, line) in CASES.lines().enumerate() {
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let cols: Vec<&str> = line.split('\t').collect();
            if cols[0] == "file" {
                let content: String = serde_json::from_str(cols[2]).expect("file content");
                files.insert(cols[1].to_owned(), content);
                continue;
            }
            assert!(matches!(cols.len(), 3 | 4), "line {}: {line:?}", n + 1);
            let kinds = cols.get(3).copied().unwrap_or("");
            cases.push(Case {
                line: n + 1,
                flag: SetFlag::from_name(cols[0]).expect("flag"),
                args: cols[1].split(ARG_SEP).collect(),
                expected: cols[2],
                kinds: kinds
                    .split(';')
                    .filter(|k| !k.is_empty())
                    .map(|k| k.split_once('=').expect("path=kind"))
                    .collect(),
            });
        }
        (files, cases)
    }

    /// Follows `a.b[2]` in a value.
    fn at<'v>(value: &'v Value, path: &str) -> Option<&'v Value> {
        let mut cur = value;
        for segment in path.split('.') {
            let (name, indexes) = segment.split_once('[').unwrap_or((segment, ""));
            if !name.is_empty() {
                cur = cur.get(name)?;
            }
            for index in indexes.split('[').filter(|i| !i.is_empty()) {
                let i: usize = index.trim_end_matches(']').parse().ok()?;
                cur = cur.as_list()?.get(i)?;
            }
        }
        Some(cur)
    }

    /// Go's `kindOf` name for a value's variant.
    fn kind(value: &Value) -> &'static str {
        match value {
            Value::Null => "invalid",
            Value::Bool(_) => "bool",
            Value::Int(_) => "int64",
            Value::Float(_) => "float64",
            Value::String(_) => "string",
            Value::List(_) => "slice",
            Value::Map(_) => "map",
        }
    }

    /// What pack says for one case, in the table's words; `Err` for a kinds mismatch.
    fn run(case: &Case, files: &HashMap<String, String>) -> Result<String, String> {
        let mut read = |path: &str| {
            files
                .get(path)
                .cloned()
                .ok_or_else(|| format!("open {path}: no such file or directory"))
        };
        let mut dest = Map::default();
        for arg in &case.args {
            if let Err(e) = parse_flag(case.flag, arg, &mut dest, &mut read) {
                let line = e.helm_message(case.flag, arg);
                let prefix = format!("failed parsing --{} data: ", case.flag.name());
                if case.flag != SetFlag::SetJson {
                    assert_eq!(line.strip_prefix(&prefix), Some(e.to_string().as_str()));
                }
                let message = line.strip_prefix(&prefix).unwrap_or(&line);
                return Ok(format!("ERROR: {message}"));
            }
        }
        let got = Value::Map(dest);
        for (path, want) in &case.kinds {
            let found = at(&got, path).map_or("missing", kind);
            if found != *want {
                return Err(format!("kind of {path}: {found}, helm: {want}"));
            }
        }
        Ok(got.to_json())
    }

    #[test]
    fn helm_table() {
        let (files, cases) = table();
        assert!(cases.len() >= 60, "only {} cases", cases.len());
        let mut failures = Vec::new();
        for case in &cases {
            let outcome = run(case, &files);
            let agrees = match (&outcome, case.expected.strip_prefix("ERROR: ")) {
                (Ok(got), Some(_)) => got == case.expected,
                (Ok(got), None) => {
                    let helm = serde_json::from_str::<serde_json::Value>(case.expected)
                        .map(Value::from)
                        .expect("helm's JSON");
                    !got.starts_with("ERROR: ")
                        && Value::from_json(got).expect("pack's JSON") == helm
                }
                (Err(_), _) => false,
            };
            if !agrees {
                failures.push(format!(
                    "line {}: --{} {:?}\n  helm: {}\n  pack: {}",
                    case.line,
                    case.flag.name(),
                    case.args,
                    case.expected,
                    outcome.unwrap_or_else(|e| e)
                ));
            }
        }
        assert!(failures.is_empty(), "{}", failures.join("\n"));
    }

    fn set(arg: &str) -> Result<Value, SetError> {
        let mut dest = Map::default();
        parse_set(arg, &mut dest).map(|()| Value::Map(dest))
    }

    fn json(text: &str) -> Value {
        Value::from_json(text).expect("test JSON")
    }

    #[test]
    fn escapes() {
        assert_eq!(set(r"k\.dot=1").unwrap(), json(r#"{"k.dot":1}"#));
        assert_eq!(
            set(r"s=hello\,world,t=a\=b").unwrap(),
            json(r#"{"s":"hello,world","t":"a=b"}"#)
        );
        assert_eq!(set(r"l={a\,b,c\}}").unwrap(), json(r#"{"l":["a,b","c}"]}"#));
        assert_eq!(set(r"x=end\").unwrap(), json(r#"{"x":"end"}"#));
        let mut dest = Map::default();
        parse_set_literal(r"x=a\,b,c", &mut dest).unwrap();
        assert_eq!(dest["x"], Value::from(r"a\,b,c"));
    }

    #[test]
    fn types() {
        let v = set("a=1,b=-5,c=+1,d=0,e=007,f=1.5,g=TRUE,h=Null,i=").unwrap();
        assert!(matches!(v.get("a"), Some(Value::Int(1))));
        assert!(matches!(v.get("b"), Some(Value::Int(-5))));
        assert!(matches!(v.get("c"), Some(Value::Int(1))));
        assert!(matches!(v.get("d"), Some(Value::Int(0))));
        assert_eq!(v.get("e"), Some(&Value::from("007")));
        assert_eq!(v.get("f"), Some(&Value::from("1.5")));
        assert_eq!(v.get("g"), Some(&Value::Bool(true)));
        assert_eq!(v.get("h"), Some(&Value::Null));
        assert_eq!(v.get("i"), Some(&Value::from("")));
        let mut dest = Map::default();
        parse_set_json("a=1,b=[2]", &mut dest).unwrap();
        assert!(matches!(dest["a"], Value::Float(f) if f == 1.0));
        assert!(matches!(dest["b"].as_list(), Some([Value::Float(_)])));
    }

    #[test]
    fn growth_with_nulls_keeps_other_elements() {
        let mut dest = Map::default();
        parse_set("l[3]=z", &mut dest).unwrap();
        assert_eq!(
            Value::Map(dest.clone()),
            json(r#"{"l":[null,null,null,"z"]}"#)
        );
        parse_set("l[1]=y,l[5]=w", &mut dest).unwrap();
        assert_eq!(
            Value::Map(dest),
            json(r#"{"l":[null,"y",null,"z",null,"w"]}"#)
        );
    }

    #[test]
    fn index_limit() {
        let v = set(&format!("l[{MAX_INDEX}]=x")).unwrap();
        let list = v.get("l").and_then(Value::as_list).unwrap();
        assert_eq!(list.len(), 65537);
        assert!(list[..65536].iter().all(Value::is_null));
        assert_eq!(list[65536], Value::from("x"));
        assert_eq!(set("l[65537]=x"), Err(SetError::IndexTooLarge(65537)));
        assert_eq!(set("l[-2]=x"), Err(SetError::NegativeIndex(-2)));
    }

    #[test]
    fn nesting_limit() {
        let names = |n: usize| {
            (0..n)
                .map(|i| format!("k{i}"))
                .collect::<Vec<_>>()
                .join(".")
        };
        assert!(set(&format!("{}=x", names(MAX_NESTED_NAME_LEVEL + 1))).is_ok());
        assert_eq!(
            set(&format!("{}=x", names(MAX_NESTED_NAME_LEVEL + 2))),
            Err(SetError::TooDeep)
        );
    }

    #[test]
    fn helm_lines() {
        let e = set("q").unwrap_err();
        assert_eq!(
            e.helm_message(SetFlag::Set, "q"),
            r#"failed parsing --set data: key "q" has no value"#
        );
        let mut dest = Map::default();
        let e = parse_set_json("a=[1", &mut dest).unwrap_err();
        assert_eq!(e, SetError::Json("unexpected EOF".into()));
        assert_eq!(
            e.helm_message(SetFlag::SetJson, "a=[1"),
            "failed parsing --set-json data a=[1"
        );
        let e = parse_set_json(" {bad", &mut dest).unwrap_err();
        assert_eq!(
            e.to_string(),
            "invalid character 'b' looking for beginning of object key string"
        );
        assert_eq!(
            e.helm_message(SetFlag::SetJson, " {bad"),
            "failed parsing --set-json data JSON:  {bad"
        );
    }

    #[test]
    fn go_quoting() {
        assert_eq!(
            go_quote("a\"b\\c\td\u{1}\u{7f}\u{a0}é\u{301}"),
            r#""a\"b\\c\td\x01\x7f\u00a0é́""#
        );
        assert_eq!(go_quote("\u{E000}\u{10FFFD}"), r#""\ue000\U0010fffd""#);
        assert_eq!(go_quote_runes("'x\""), r#"['\'' 'x' '"']"#);
    }

    #[test]
    fn go_integers() {
        assert_eq!(go_parse_int("-9223372036854775808"), Ok(i64::MIN));
        assert_eq!(go_parse_int("9223372036854775808"), Err(true));
        assert_eq!(go_parse_int("99999999999999999999x"), Err(true));
        assert_eq!(go_parse_int("9223372036854775808x"), Err(false));
        assert_eq!(go_parse_int("+"), Err(false));
        assert_eq!(go_parse_int("1_0"), Err(false));
    }

    #[test]
    fn json_value_extent() {
        let prefix = |s: &str| gojson::decode_prefix(s).map(|(v, n)| (v.to_json(), n));
        assert_eq!(prefix("1x=2"), Ok(("1.0".into(), 1)));
        assert_eq!(prefix("truex"), Ok(("true".into(), 4)));
        assert_eq!(
            prefix(r#"{"a":[1,{}]},b"#),
            Ok((r#"{"a":[1.0,{}]}"#.into(), 12))
        );
        assert_eq!(prefix("01"), Ok(("0.0".into(), 1)));
        assert_eq!(prefix("1."), Err("unexpected EOF".into()));
        assert_eq!(
            prefix("[1e400,x]"),
            Err("invalid character 'x' looking for beginning of value".into())
        );
        assert_eq!(
            prefix("1e400"),
            Err("json: cannot unmarshal number 1e400 into Go value of type float64".into())
        );
        let deep = "[".repeat(10_001);
        assert_eq!(
            prefix(&deep),
            Err("invalid character '[' exceeded max depth".into())
        );
    }

    #[test]
    fn set_file_reads_each_value() {
        let mut seen = Vec::new();
        let mut read = |p: &str| {
            seen.push(p.to_owned());
            Ok(format!("<{p}>"))
        };
        let mut dest = Map::default();
        parse_set_file(r"a=x\,y,b={p,q},c=", &mut dest, &mut read).unwrap();
        assert_eq!(seen, ["x,y", "p", "q"]);
        assert_eq!(
            Value::Map(dest),
            json(r#"{"a":"<x,y>","b":["<p>","<q>"],"c":""}"#)
        );
    }
}
