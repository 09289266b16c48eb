//! Argument checking and conversions shared by the library functions, with Go's and
//! Sprig's rules for turning values into strings, numbers and booleans.

use super::{Func, FuncError, FuncResult, Pipe};
use crate::value::{Map, Value};

/// Fails unless exactly `n` arguments were given.
pub fn exactly<'a>(name: &str, args: &'a [Value], n: usize) -> Result<&'a [Value], FuncError> {
    if args.len() == n {
        Ok(args)
    } else {
        Err(FuncError::new(format!(
            "wrong number of args for {name}: want {n} got {}",
            args.len()
        )))
    }
}

/// Fails unless at least `n` arguments were given.
pub fn at_least<'a>(name: &str, args: &'a [Value], n: usize) -> Result<&'a [Value], FuncError> {
    if args.len() >= n {
        Ok(args)
    } else {
        Err(FuncError::new(format!(
            "wrong number of args for {name}: want at least {n} got {}",
            args.len()
        )))
    }
}

/// `error calling NAME: MSG`: how Go's template engine reports a function's own failure
/// (a returned error or a panic). Argument-type errors are reported without the prefix.
pub fn call_error(name: &str, msg: impl std::fmt::Display) -> FuncError {
    FuncError::new(format!("error calling {name}: {msg}"))
}

/// The panic Go raises when a Sprig function reflects on a nil argument.
pub const NIL_DEREF: &str = "runtime error: invalid memory address or nil pointer dereference";

/// A Go type the value model does not tell apart: `int` (template constants, `len`) rather
/// than `int64`, or `[]uint8` (`.Files.GetBytes`) rather than `string`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum GoType {
    /// Go's `int`.
    Int,
    /// Go's `[]byte`.
    Bytes,
}

thread_local! {
    /// Values inside the current call's arguments (by address) whose Go type is not the
    /// default one of their kind, set by the Go-template engine around a library call.
    static GO_TYPES: std::cell::RefCell<Vec<(*const Value, GoType)>> = const { std::cell::RefCell::new(Vec::new()) };
}

/// Runs a library call with these values' Go types known (`typeOf`, `%T`, error messages).
pub fn with_go_types<R>(types: Vec<(*const Value, GoType)>, f: impl FnOnce() -> R) -> R {
    let saved = GO_TYPES.with(|g| std::mem::replace(&mut *g.borrow_mut(), types));
    let r = f();
    GO_TYPES.with(|g| *g.borrow_mut() = saved);
    r
}

fn go_type_of(v: &Value) -> Option<GoType> {
    GO_TYPES.with(|g| {
        g.borrow()
            .iter()
            .find(|(p, _)| std::ptr::eq(*p, v))
            .map(|(_, t)| *t)
    })
}

/// Go's name for the type a value has in Helm (`typeOf`, `%T`, error messages): numbers are
/// `int64`/`float64` (Helm's `--set` integers and values-file numbers), lists
/// `[]interface {}`, maps `map[string]interface {}`, null `<nil>`.
///
/// Go-template integer literals are Go `int`, which pack does not tell apart from `int64`.
pub fn go_type_name(v: &Value) -> &'static str {
    match v {
        Value::Null => "<nil>",
        Value::Bool(_) => "bool",
        Value::Int(_) if go_type_of(v) == Some(GoType::Int) => "int",
        Value::Int(_) => "int64",
        Value::Float(_) => "float64",
        Value::String(_) if go_type_of(v) == Some(GoType::Bytes) => "[]uint8",
        Value::String(_) => "string",
        Value::List(_) => "[]interface {}",
        Value::Map(_) => "map[string]interface {}",
    }
}

/// Go's `reflect.Kind` name for a value (`kindOf`): `slice`, `map`, `invalid` for null.
pub fn go_kind_name(v: &Value) -> &'static str {
    match v {
        Value::Null => "invalid",
        Value::Bool(_) => "bool",
        Value::Int(_) if go_type_of(v) == Some(GoType::Int) => "int",
        Value::Int(_) => "int64",
        Value::Float(_) => "float64",
        Value::String(_) if go_type_of(v) == Some(GoType::Bytes) => "slice",
        Value::String(_) => "string",
        Value::List(_) => "slice",
        Value::Map(_) => "map",
    }
}

fn wrong_type(expected: &str, v: &Value) -> FuncError {
    if v.is_null() {
        FuncError::new(format!("invalid value; expected {expected}"))
    } else {
        FuncError::new(format!(
            "wrong type for value; expected {expected}; got {}",
            go_type_name(v)
        ))
    }
}

/// A Go `string` parameter: only strings are accepted, as Go's template engine checks.
pub fn expect_str(v: &Value) -> Result<&str, FuncError> {
    match v {
        Value::String(s) => Ok(s),
        _ => Err(wrong_type("string", v)),
    }
}

/// A Go `int` parameter: integers only. Floats (every values-file number) are refused
/// as Helm refuses them (`expected int; got float64`); a whole-number float *literal* in a
/// template, which Go would accept, is indistinguishable here.
pub fn expect_int(v: &Value) -> Result<i64, FuncError> {
    match v {
        Value::Int(i) => Ok(*i),
        _ => Err(wrong_type("int", v)),
    }
}

/// A Go `bool` parameter.
pub fn expect_bool(v: &Value) -> Result<bool, FuncError> {
    match v {
        Value::Bool(b) => Ok(*b),
        _ => Err(wrong_type("bool", v)),
    }
}

/// A Go `float64` parameter (integer literals convert, as Go's constants do).
pub fn expect_float(v: &Value) -> Result<f64, FuncError> {
    match v {
        Value::Float(f) => Ok(*f),
        Value::Int(i) => Ok(*i as f64),
        _ => Err(wrong_type("float64", v)),
    }
}

/// A Go `map[string]interface{}` parameter; null is Go's nil map (`None`), which reads as
/// empty.
pub fn expect_map(v: &Value) -> Result<Option<&Map>, FuncError> {
    match v {
        Value::Map(m) => Ok(Some(m)),
        Value::Null => Ok(None),
        _ => Err(wrong_type("map[string]interface {}", v)),
    }
}

/// Sprig's `strval`: strings as they are, anything else through Go's `%v`.
pub fn strval(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        other => super::format::go_sprint_value(other),
    }
}

/// Go's float-to-int64 conversion on amd64: truncation toward zero, and the "integer
/// indefinite" value `i64::MIN` for NaN and out-of-range values.
pub fn go_f64_to_i64(f: f64) -> i64 {
    if f.is_nan() || !(-9_223_372_036_854_775_808.0..9_223_372_036_854_775_808.0).contains(&f) {
        i64::MIN
    } else {
        f as i64
    }
}

/// `spf13/cast.ToInt64` (Sprig's `int`, `int64`, `add`, `max`…): floats truncate, booleans are
/// 0/1, strings parse as Go integer literals (`0x1F`, `010` octal, `0b101`, `1_000`, and
/// `4.0`/`4.00` with the zero decimals dropped), anything unparseable or unsupported is 0.
pub fn cast_to_int64(v: &Value) -> i64 {
    match v {
        Value::Int(i) => *i,
        Value::Float(f) => go_f64_to_i64(*f),
        Value::Bool(b) => i64::from(*b),
        Value::String(s) => parse_go_int(trim_zero_decimal(s), 0).unwrap_or(0),
        _ => 0,
    }
}

/// `spf13/cast.ToFloat64`: numbers as they are, booleans 0/1, strings through Go's
/// `strconv.ParseFloat`, anything else 0.
pub fn cast_to_float64(v: &Value) -> f64 {
    match v {
        Value::Int(i) => *i as f64,
        Value::Float(f) => *f,
        Value::Bool(b) => f64::from(u8::from(*b)),
        Value::String(s) => parse_go_float(s).unwrap_or(0.0),
        _ => 0.0,
    }
}

/// cast's `trimZeroDecimal`: `"4.00"` → `"4"`; other strings unchanged.
fn trim_zero_decimal(s: &str) -> &str {
    let b = s.as_bytes();
    let mut found_zero = false;
    for i in (0..b.len()).rev() {
        match b[i] {
            b'.' if found_zero => return &s[..i],
            b'.' => {}
            b'0' => found_zero = true,
            _ => return s,
        }
    }
    s
}

/// Go's `strconv.ParseInt(s, base, 64)`. Base 0 reads the prefix (`0x`, `0o`, `0b`, a
/// leading `0` for octal) and allows `_` between digits.
pub fn parse_go_int(s: &str, base: u32) -> Option<i64> {
    parse_go_int_err(s, base).ok()
}

/// Why [`parse_go_int_err`] failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ParseIntError {
    /// Not a number.
    Syntax,
    /// Out of range; Go still returns the nearest 64-bit value (`strconv.Atoi` users see it).
    Range(i64),
}

/// `strconv.ParseInt(s, base, 64)` with Go's two kinds of failure.
pub fn parse_go_int_err(s: &str, base: u32) -> Result<i64, ParseIntError> {
    use ParseIntError::{Range, Syntax};
    let (neg, body) = match s.as_bytes().first() {
        Some(b'-') => (true, &s[1..]),
        Some(b'+') => (false, &s[1..]),
        _ => (false, s),
    };
    if body.is_empty() {
        return Err(Syntax);
    }
    let base0 = base == 0;
    let (base, digits) = if base0 {
        let b = body.as_bytes();
        if b[0] != b'0' {
            (10, body)
        } else if b.len() >= 3 && matches!(b[1].to_ascii_lowercase(), b'b' | b'o' | b'x') {
            let base = match b[1].to_ascii_lowercase() {
                b'b' => 2,
                b'o' => 8,
                _ => 16,
            };
            (base, &body[2..])
        } else {
            (8, &body[1..])
        }
    } else {
        (base, body)
    };
    let clamped = if neg { i64::MIN } else { i64::MAX };
    let mut value: u64 = 0;
    let mut underscores = false;
    for c in digits.chars() {
        if c == '_' && base0 {
            underscores = true;
            continue;
        }
        let d = c.to_digit(base).ok_or(Syntax)?;
        value = value
            .checked_mul(u64::from(base))
            .and_then(|v| v.checked_add(u64::from(d)))
            .ok_or(Range(clamped))?;
    }
    if underscores && !go_underscores_ok(body) {
        return Err(Syntax);
    }
    if neg {
        if value > 1u64 << 63 {
            Err(Range(clamped))
        } else {
            Ok((value as i64).wrapping_neg())
        }
    } else {
        i64::try_from(value).map_err(|_| Range(clamped))
    }
}

/// Go's rule for `_` in number literals: only between digits, or right after a base prefix.
fn go_underscores_ok(body: &str) -> bool {
    let b = body.as_bytes();
    let mut i = 0;
    let mut saw = b'^';
    let mut hex = false;
    if b.len() >= 2 && b[0] == b'0' && matches!(b[1].to_ascii_lowercase(), b'b' | b'o' | b'x') {
        i = 2;
        saw = b'0';
        hex = b[1].eq_ignore_ascii_case(&b'x');
    }
    while i < b.len() {
        let c = b[i];
        if c.is_ascii_digit() || (hex && c.is_ascii_hexdigit()) {
            saw = b'0';
        } else if c == b'_' {
            if saw != b'0' {
                return false;
            }
            saw = b'_';
        } else {
            if saw == b'_' {
                return false;
            }
            saw = b'!';
        }
        i += 1;
    }
    saw != b'_'
}

/// Go's `strconv.ParseFloat(s, 64)`: decimal and exponent forms, `inf`/`infinity`/`nan` in
/// any case, `_` between digits; out-of-range values are an error (`None`), as cast then
/// yields 0.
pub fn parse_go_float(s: &str) -> Option<f64> {
    let body = s.strip_prefix(['+', '-']).unwrap_or(s);
    let lower = body.to_ascii_lowercase();
    if lower == "inf" || lower == "infinity" || lower == "nan" {
        return s.to_ascii_lowercase().parse::<f64>().ok();
    }
    if lower.starts_with("0x") {
        return parse_hex_float(s);
    }
    if body.is_empty()
        || !body
            .bytes()
            .all(|c| c.is_ascii_digit() || matches!(c, b'.' | b'e' | b'E' | b'+' | b'-' | b'_'))
    {
        return None;
    }
    let cleaned = if body.contains('_') {
        if !go_underscores_ok(body) {
            return None;
        }
        s.replace('_', "")
    } else {
        s.to_owned()
    };
    let f: f64 = cleaned.parse().ok()?;
    if f.is_infinite() { None } else { Some(f) }
}

/// Hexadecimal floating-point literals (`0x1.8p1`); the `p` exponent is required.
fn parse_hex_float(s: &str) -> Option<f64> {
    let (neg, body) = match s.as_bytes().first() {
        Some(b'-') => (true, &s[1..]),
        Some(b'+') => (false, &s[1..]),
        _ => (false, s),
    };
    let body = body.get(2..)?.replace('_', "");
    let (mant, exp) = body.split_once(['p', 'P'])?;
    let exp: i32 = exp.parse().ok()?;
    let (int_part, frac_part) = mant.split_once('.').unwrap_or((mant, ""));
    if int_part.is_empty() && frac_part.is_empty() {
        return None;
    }
    let mut value = 0f64;
    for c in int_part.chars() {
        value = value * 16.0 + f64::from(c.to_digit(16)?);
    }
    let mut scale = 1.0 / 16.0;
    for c in frac_part.chars() {
        value += f64::from(c.to_digit(16)?) * scale;
        scale /= 16.0;
    }
    let v = value * 2f64.powi(exp);
    if v.is_infinite() {
        return None;
    }
    Some(if neg { -v } else { v })
}

/// Go's `reflect.DeepEqual` over Helm's values: like `==` but an `int64` never equals a
/// `float64` (Sprig's `has`, `uniq`, `without` compare this way).
pub fn go_deep_equal(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Null, Value::Null) => true,
        (Value::Bool(x), Value::Bool(y)) => x == y,
        (Value::Int(x), Value::Int(y)) => x == y,
        (Value::Float(x), Value::Float(y)) => x == y,
        (Value::String(x), Value::String(y)) => x == y,
        (Value::List(x), Value::List(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(p, q)| go_deep_equal(p, q))
        }
        (Value::Map(x), Value::Map(y)) => {
            x.len() == y.len()
                && x.iter()
                    .all(|(k, v)| y.get(k).is_some_and(|w| go_deep_equal(v, w)))
        }
        _ => false,
    }
}

/// A library entry whose piped value goes last (`X | trimSuffix("-")`).
pub const fn piped_last(name: &'static str, call: fn(&[Value]) -> FuncResult) -> Func {
    Func {
        name,
        call,
        pipe: Pipe::Last,
    }
}

/// A library entry whose piped value goes first (`Values | hasKey("k")`).
pub const fn piped_first(name: &'static str, call: fn(&[Value]) -> FuncResult) -> Func {
    Func {
        name,
        call,
        pipe: Pipe::First,
    }
}

/// Fails unless exactly `n` arguments were given (for functions that index `args`).
pub fn arity(name: &str, args: &[Value], n: usize) -> Result<(), FuncError> {
    exactly(name, args, n).map(|_| ())
}

/// Go's type name of a value written as a template literal: integers are Go `int` there,
/// which is what Helm names when such a literal is passed where a string is expected.
pub fn go_literal_type_name(v: &Value) -> &'static str {
    match v {
        Value::Int(_) => "int",
        other => go_type_name(other),
    }
}

fn wrong_literal_type(expected: &str, v: &Value) -> FuncError {
    if v.is_null() {
        FuncError::new(format!("invalid value; expected {expected}"))
    } else {
        FuncError::new(format!(
            "wrong type for value; expected {expected}; got {}",
            go_literal_type_name(v)
        ))
    }
}

/// A Go `string` parameter, naming a wrong literal's type as Go does (`got int`).
pub fn expect_str_literal(v: &Value) -> Result<&str, FuncError> {
    match v {
        Value::String(s) => Ok(s),
        _ => Err(wrong_literal_type("string", v)),
    }
}

/// A Go `int` parameter that also takes whole floats (values-file numbers).
pub fn expect_int_lenient(v: &Value) -> Result<i64, FuncError> {
    v.as_i64().ok_or_else(|| wrong_literal_type("int", v))
}
