//! Sprig's list functions and Go's `len` and `index` built-ins.
//!
//! Lists are values: `append`, `prepend` and friends return a new list (as Sprig does too).
//! Sprig's plain and `must*` variants differ only in Go (a panic versus a returned error);
//! in Helm both end the render with the same message, and so do both here.
//!
//! Elements compare as Go's `reflect.DeepEqual` does (`has`, `uniq`, `without`): an integer
//! never equals a float. Go also tells its `int` (template literals) from `int64` (`--set`
//! values), which pack does not.

use super::args::{
    NIL_DEREF, at_least, call_error, cast_to_int64, exactly, expect_int, go_deep_equal,
    go_f64_to_i64, go_kind_name, go_type_name, piped_first, piped_last,
};
use super::strings::strslice;
use super::{Func, FuncError, FuncResult};
use crate::value::Value;

/// The functions of this group.
pub const FUNCS: &[Func] = &[
    piped_last("list", list),
    piped_last("tuple", tuple),
    piped_first("append", append),
    piped_first("push", push),
    piped_first("mustAppend", must_append),
    piped_first("mustPush", must_push),
    piped_first("prepend", prepend),
    piped_first("mustPrepend", must_prepend),
    piped_last("first", first),
    piped_last("mustFirst", must_first),
    piped_last("last", last),
    piped_last("mustLast", must_last),
    piped_last("rest", rest),
    piped_last("mustRest", must_rest),
    piped_last("initial", initial),
    piped_last("mustInitial", must_initial),
    piped_last("reverse", reverse),
    piped_last("mustReverse", must_reverse),
    piped_last("uniq", uniq),
    piped_last("mustUniq", must_uniq),
    piped_first("without", without),
    piped_first("mustWithout", must_without),
    piped_last("has", has),
    piped_last("mustHas", must_has),
    piped_last("compact", compact),
    piped_last("mustCompact", must_compact),
    piped_first("concat", concat),
    piped_first("slice", slice),
    piped_first("mustSlice", must_slice),
    piped_last("until", until),
    piped_last("untilStep", until_step),
    piped_last("seq", seq),
    piped_last("sortAlpha", sort_alpha),
    piped_last("chunk", chunk),
    piped_last("mustChunk", must_chunk),
    piped_last("len", len),
    piped_first("index", index),
];

/// Longest list `until`/`untilStep`/`seq` build (Go would try to allocate any size).
const MAX_RANGE: usize = 50_000_000;

/// The list argument of a Sprig list function: Go's nil panics on reflection, other kinds
/// fail with Sprig's message (`Cannot find first on type string`).
fn list_arg<'a>(name: &str, v: &'a Value, what: &str) -> Result<&'a [Value], FuncError> {
    match v {
        Value::List(l) => Ok(l),
        Value::Null => Err(call_error(name, NIL_DEREF)),
        other => Err(call_error(name, what.replace("{}", go_kind_name(other)))),
    }
}

/// `list ARGS…`: the arguments as a list.
pub fn list(args: &[Value]) -> FuncResult {
    Ok(Value::List(args.to_vec()))
}

/// `tuple ARGS…`: an old name for `list`.
pub fn tuple(args: &[Value]) -> FuncResult {
    list(args)
}

fn push_impl(name: &str, args: &[Value]) -> FuncResult {
    exactly(name, args, 2)?;
    let l = list_arg(name, &args[0], "Cannot push on type {}")?;
    let mut out = l.to_vec();
    out.push(args[1].clone());
    Ok(Value::List(out))
}

/// `append LIST VALUE`: a new list with VALUE at the end.
pub fn append(args: &[Value]) -> FuncResult {
    push_impl("append", args)
}

/// `push LIST VALUE`: `append`.
pub fn push(args: &[Value]) -> FuncResult {
    push_impl("push", args)
}

/// `mustAppend LIST VALUE`.
pub fn must_append(args: &[Value]) -> FuncResult {
    push_impl("mustAppend", args)
}

/// `mustPush LIST VALUE`.
pub fn must_push(args: &[Value]) -> FuncResult {
    push_impl("mustPush", args)
}

fn prepend_impl(name: &str, args: &[Value]) -> FuncResult {
    exactly(name, args, 2)?;
    let l = list_arg(name, &args[0], "Cannot prepend on type {}")?;
    let mut out = Vec::with_capacity(l.len() + 1);
    out.push(args[1].clone());
    out.extend_from_slice(l);
    Ok(Value::List(out))
}

/// `prepend LIST VALUE`: a new list with VALUE first.
pub fn prepend(args: &[Value]) -> FuncResult {
    prepend_impl("prepend", args)
}

/// `mustPrepend LIST VALUE`.
pub fn must_prepend(args: &[Value]) -> FuncResult {
    prepend_impl("mustPrepend", args)
}

fn first_impl(name: &str, args: &[Value]) -> FuncResult {
    exactly(name, args, 1)?;
    let l = list_arg(name, &args[0], "Cannot find first on type {}")?;
    Ok(l.first().cloned().unwrap_or(Value::Null))
}

/// `first LIST`: the first element, null for an empty list.
pub fn first(args: &[Value]) -> FuncResult {
    first_impl("first", args)
}

/// `mustFirst LIST`.
pub fn must_first(args: &[Value]) -> FuncResult {
    first_impl("mustFirst", args)
}

fn last_impl(name: &str, args: &[Value]) -> FuncResult {
    exactly(name, args, 1)?;
    let l = list_arg(name, &args[0], "Cannot find last on type {}")?;
    Ok(l.last().cloned().unwrap_or(Value::Null))
}

/// `last LIST`: the last element, null for an empty list.
pub fn last(args: &[Value]) -> FuncResult {
    last_impl("last", args)
}

/// `mustLast LIST`.
pub fn must_last(args: &[Value]) -> FuncResult {
    last_impl("mustLast", args)
}

fn rest_impl(name: &str, args: &[Value]) -> FuncResult {
    exactly(name, args, 1)?;
    let l = list_arg(name, &args[0], "Cannot find rest on type {}")?;
    Ok(Value::List(l.get(1..).unwrap_or_default().to_vec()))
}

/// `rest LIST`: all but the first element.
pub fn rest(args: &[Value]) -> FuncResult {
    rest_impl("rest", args)
}

/// `mustRest LIST`.
pub fn must_rest(args: &[Value]) -> FuncResult {
    rest_impl("mustRest", args)
}

fn initial_impl(name: &str, args: &[Value]) -> FuncResult {
    exactly(name, args, 1)?;
    let l = list_arg(name, &args[0], "Cannot find initial on type {}")?;
    Ok(Value::List(l[..l.len().saturating_sub(1)].to_vec()))
}

/// `initial LIST`: all but the last element.
pub fn initial(args: &[Value]) -> FuncResult {
    initial_impl("initial", args)
}

/// `mustInitial LIST`.
pub fn must_initial(args: &[Value]) -> FuncResult {
    initial_impl("mustInitial", args)
}

fn reverse_impl(name: &str, args: &[Value]) -> FuncResult {
    exactly(name, args, 1)?;
    let l = list_arg(name, &args[0], "Cannot find reverse on type {}")?;
    Ok(Value::List(l.iter().rev().cloned().collect()))
}

/// `reverse LIST`: a reversed copy.
pub fn reverse(args: &[Value]) -> FuncResult {
    reverse_impl("reverse", args)
}

/// `mustReverse LIST`.
pub fn must_reverse(args: &[Value]) -> FuncResult {
    reverse_impl("mustReverse", args)
}

fn in_list(haystack: &[Value], needle: &Value) -> bool {
    haystack.iter().any(|h| go_deep_equal(needle, h))
}

fn uniq_impl(name: &str, args: &[Value]) -> FuncResult {
    exactly(name, args, 1)?;
    let l = list_arg(name, &args[0], "Cannot find uniq on type {}")?;
    let mut out: Vec<Value> = Vec::new();
    for item in l {
        if !in_list(&out, item) {
            out.push(item.clone());
        }
    }
    Ok(Value::List(out))
}

/// `uniq LIST`: duplicates removed, first occurrences kept.
pub fn uniq(args: &[Value]) -> FuncResult {
    uniq_impl("uniq", args)
}

/// `mustUniq LIST`.
pub fn must_uniq(args: &[Value]) -> FuncResult {
    uniq_impl("mustUniq", args)
}

fn without_impl(name: &str, args: &[Value]) -> FuncResult {
    at_least(name, args, 1)?;
    let l = list_arg(name, &args[0], "Cannot find without on type {}")?;
    let omit = &args[1..];
    Ok(Value::List(
        l.iter().filter(|i| !in_list(omit, i)).cloned().collect(),
    ))
}

/// `without LIST VALUES…`: the list without any of VALUES.
pub fn without(args: &[Value]) -> FuncResult {
    without_impl("without", args)
}

/// `mustWithout LIST VALUES…`.
pub fn must_without(args: &[Value]) -> FuncResult {
    without_impl("mustWithout", args)
}

fn has_impl(name: &str, args: &[Value]) -> FuncResult {
    exactly(name, args, 2)?;
    if args[1].is_null() {
        return Ok(Value::Bool(false));
    }
    let l = list_arg(name, &args[1], "Cannot find has on type {}")?;
    Ok(Value::Bool(in_list(l, &args[0])))
}

/// `has NEEDLE LIST`: whether LIST holds NEEDLE (false for a null LIST).
pub fn has(args: &[Value]) -> FuncResult {
    has_impl("has", args)
}

/// `mustHas NEEDLE LIST`.
pub fn must_has(args: &[Value]) -> FuncResult {
    has_impl("mustHas", args)
}

fn compact_impl(name: &str, args: &[Value]) -> FuncResult {
    exactly(name, args, 1)?;
    let l = list_arg(name, &args[0], "Cannot compact on type {}")?;
    Ok(Value::List(
        l.iter().filter(|v| !v.is_empty()).cloned().collect(),
    ))
}

/// `compact LIST`: the list without empty elements (null, false, 0, "", empty list or map).
pub fn compact(args: &[Value]) -> FuncResult {
    compact_impl("compact", args)
}

/// `mustCompact LIST`.
pub fn must_compact(args: &[Value]) -> FuncResult {
    compact_impl("mustCompact", args)
}

/// `concat LISTS…`: the lists joined into one.
pub fn concat(args: &[Value]) -> FuncResult {
    let mut out = Vec::new();
    for a in args {
        out.extend_from_slice(list_arg("concat", a, "Cannot concat type {} as list")?);
    }
    Ok(Value::List(out))
}

fn slice_impl(name: &str, args: &[Value]) -> FuncResult {
    at_least(name, args, 1)?;
    let l = list_arg(
        name,
        &args[0],
        "list should be type of slice or array but {}",
    )?;
    if l.is_empty() {
        return Ok(Value::Null);
    }
    let start = args.get(1).map_or(0, cast_to_int64);
    let end = args.get(2).map_or(l.len() as i64, cast_to_int64);
    if start < 0 || end < start || end > l.len() as i64 {
        return Err(call_error(
            name,
            "reflect.Value.Slice: slice index out of bounds",
        ));
    }
    Ok(Value::List(l[start as usize..end as usize].to_vec()))
}

/// `slice LIST [START [END]]`: `LIST[START:END]` (indices converted like `int`); null for an
/// empty list.
pub fn slice(args: &[Value]) -> FuncResult {
    slice_impl("slice", args)
}

/// `mustSlice LIST [START [END]]`.
pub fn must_slice(args: &[Value]) -> FuncResult {
    slice_impl("mustSlice", args)
}

/// Sprig's `untilStep` on plain integers.
fn step_range(name: &str, start: i64, stop: i64, step: i64) -> Result<Vec<i64>, FuncError> {
    let mut out = Vec::new();
    let mut i = start;
    let too_long = || call_error(name, "runtime error: makeslice: len out of range");
    if stop < start {
        if step >= 0 {
            return Ok(out);
        }
        while i > stop {
            if out.len() >= MAX_RANGE {
                return Err(too_long());
            }
            out.push(i);
            i = match i.checked_add(step) {
                Some(n) => n,
                None => break,
            };
        }
        return Ok(out);
    }
    if step <= 0 {
        return Ok(out);
    }
    while i < stop {
        if out.len() >= MAX_RANGE {
            return Err(too_long());
        }
        out.push(i);
        i = match i.checked_add(step) {
            Some(n) => n,
            None => break,
        };
    }
    Ok(out)
}

fn ints(v: Vec<i64>) -> Value {
    Value::List(v.into_iter().map(Value::Int).collect())
}

/// `until N`: 0, 1, … N-1 (counting down for a negative N).
pub fn until(args: &[Value]) -> FuncResult {
    exactly("until", args, 1)?;
    let n = expect_int(&args[0])?;
    let step = if n < 0 { -1 } else { 1 };
    Ok(ints(step_range("until", 0, n, step)?))
}

/// `untilStep START STOP STEP`: START, START+STEP, … up to (not including) STOP.
pub fn until_step(args: &[Value]) -> FuncResult {
    exactly("untilStep", args, 3)?;
    let start = expect_int(&args[0])?;
    let stop = expect_int(&args[1])?;
    let step = expect_int(&args[2])?;
    Ok(ints(step_range("untilStep", start, stop, step)?))
}

/// `seq [START [STEP]] END`: like GNU seq, a space-separated string of integers
/// (`seq 3` is "1 2 3", `seq 5 2` counts down, a step against the direction is empty).
pub fn seq(args: &[Value]) -> FuncResult {
    let p: Vec<i64> = args.iter().map(expect_int).collect::<Result<_, _>>()?;
    let nums = match p.as_slice() {
        [end] => {
            let inc = if *end < 1 { -1 } else { 1 };
            step_range("seq", 1, end.wrapping_add(inc), inc)?
        }
        [start, end] => {
            let step = if end < start { -1 } else { 1 };
            step_range("seq", *start, end.wrapping_add(step), step)?
        }
        [start, step, end] => {
            let mut inc = 1;
            if end < start {
                inc = -1;
                if *step > 0 {
                    return Ok(Value::String(String::new()));
                }
            }
            step_range("seq", *start, end.wrapping_add(inc), *step)?
        }
        _ => Vec::new(),
    };
    let words: Vec<String> = nums.iter().map(i64::to_string).collect();
    Ok(Value::String(words.join(" ")))
}

/// `sortAlpha LIST`: the elements' string forms, sorted bytewise; a non-list becomes a
/// one-element list of its string form.
pub fn sort_alpha(args: &[Value]) -> FuncResult {
    exactly("sortAlpha", args, 1)?;
    let mut words = match &args[0] {
        Value::List(_) => strslice(&args[0]),
        Value::Null => vec!["<nil>".to_owned()],
        other => strslice(other),
    };
    words.sort();
    Ok(Value::List(words.into_iter().map(Value::String).collect()))
}

fn chunk_impl(name: &str, args: &[Value]) -> FuncResult {
    exactly(name, args, 2)?;
    let size = expect_int(&args[0])?;
    let l = list_arg(name, &args[1], "Cannot chunk type {}")?;
    let len = l.len() as i64;
    let bad = || call_error(name, "runtime error: makeslice: len out of range");
    // Sprig's float arithmetic, kept for its behaviour on zero and negative sizes.
    let count = go_f64_to_i64(((len - 1) as f64 / size as f64).floor() + 1.0);
    if count < 0 || count as usize > MAX_RANGE {
        return Err(bad());
    }
    let mut out = Vec::with_capacity(count as usize);
    for i in 0..count {
        let mut clen = size;
        if i == count - 1 {
            clen = go_f64_to_i64((len as f64 % size as f64).floor());
            if clen == 0 {
                clen = size;
            }
        }
        if clen < 0 {
            return Err(bad());
        }
        let mut part = Vec::with_capacity(clen as usize);
        for j in 0..clen {
            let ix = i * size + j;
            match usize::try_from(ix).ok().and_then(|ix| l.get(ix)) {
                Some(v) => part.push(v.clone()),
                None => {
                    return Err(call_error(name, "reflect: slice index out of range"));
                }
            }
        }
        out.push(Value::List(part));
    }
    Ok(Value::List(out))
}

/// `chunk SIZE LIST`: LIST cut into lists of SIZE elements (the last may be shorter).
pub fn chunk(args: &[Value]) -> FuncResult {
    chunk_impl("chunk", args)
}

/// `mustChunk SIZE LIST`.
pub fn must_chunk(args: &[Value]) -> FuncResult {
    chunk_impl("mustChunk", args)
}

/// `len X`: Go's built-in — bytes of a string, elements of a list or map.
pub fn len(args: &[Value]) -> FuncResult {
    exactly("len", args, 1)?;
    let n = match &args[0] {
        Value::String(s) => s.len(),
        Value::List(l) => l.len(),
        Value::Map(m) => m.len(),
        Value::Null => {
            return Err(call_error(
                "len",
                "reflect: call of reflect.Value.Type on zero Value",
            ));
        }
        other => {
            return Err(call_error(
                "len",
                format!("len of type {}", go_type_name(other)),
            ));
        }
    };
    Ok(Value::Int(n as i64))
}

/// An integer index into a list or string of `len` elements (Go's `indexArg`).
fn index_arg(ix: &Value, len: usize, what: &str) -> Result<usize, FuncError> {
    let x = match ix {
        Value::Int(i) => *i,
        Value::Null => {
            return Err(call_error("index", "cannot index slice/array with nil"));
        }
        other => {
            return Err(call_error(
                "index",
                format!("cannot index slice/array with type {}", go_type_name(other)),
            ));
        }
    };
    if x < 0 || x as u64 > len as u64 {
        return Err(call_error("index", format!("index out of range: {x}")));
    }
    if x as usize == len {
        return Err(call_error(
            "index",
            format!("reflect: {what} index out of range"),
        ));
    }
    Ok(x as usize)
}

/// `index COLLECTION KEYS…`: Go's built-in. Map keys must be strings (a missing key gives
/// null); list and string indices must be integers in range (a string gives the byte).
pub fn index(args: &[Value]) -> FuncResult {
    at_least("index", args, 1)?;
    let mut item = &args[0];
    if item.is_null() {
        return Err(call_error("index", "index of untyped nil"));
    }
    let mut byte_result: Option<u8> = None;
    for ix in &args[1..] {
        if byte_result.is_some() {
            return Err(call_error("index", "can't index item of type uint8"));
        }
        match item {
            Value::Null => return Err(call_error("index", "index of nil pointer")),
            Value::List(l) => {
                let i = index_arg(ix, l.len(), "slice")?;
                item = &l[i];
            }
            Value::String(s) => {
                let i = index_arg(ix, s.len(), "string")?;
                byte_result = Some(s.as_bytes()[i]);
            }
            Value::Map(m) => match ix {
                Value::String(k) => {
                    item = m.get(k).unwrap_or(&Value::Null);
                }
                Value::Null => {
                    return Err(call_error(
                        "index",
                        "value is nil; should be of type string",
                    ));
                }
                other => {
                    return Err(call_error(
                        "index",
                        format!("value has type {}; should be string", go_type_name(other)),
                    ));
                }
            },
            other => {
                return Err(call_error(
                    "index",
                    format!("can't index item of type {}", go_type_name(other)),
                ));
            }
        }
    }
    if let Some(b) = byte_result {
        return Ok(Value::Int(i64::from(b)));
    }
    Ok(item.clone())
}
