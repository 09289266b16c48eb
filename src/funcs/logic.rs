//! Defaults, emptiness, type inspection, conversions, arithmetic, and Go's comparison and
//! boolean built-ins, with Sprig's and Go's rules.
//!
//! - Emptiness (`default`, `empty`, `coalesce`, `compact`, `and`/`or`/`not`, `if`): null,
//!   false, 0, 0.0, "" and empty lists and maps are empty.
//! - Conversions follow `spf13/cast` (`int "0x1F"` is 31, `int "4.7"` is 0, `int 4.7` is 4).
//! - Integer arithmetic (`add`, `mul`, `div`, …) converts every operand with `int64` first and
//!   wraps on overflow, as Go does; `addf`, `mulf`, … compute in decimal as Sprig does
//!   (`addf 0.1 0.2` is 0.3).
//! - `eq`/`lt`/… compare like Go's template built-ins: an integer never compares with a
//!   float (`incompatible types for comparison`), which is why a values-file number (a Go
//!   float64) fails against an integer literal in Helm.

use super::args::{
    ParseIntError, at_least, call_error, cast_to_float64, cast_to_int64, exactly, expect_bool,
    expect_float, expect_int, expect_str, go_deep_equal, go_kind_name, go_type_name, parse_go_int,
    parse_go_int_err, piped_first, piped_last,
};
use super::format::{go_sprint_value, go_sprintf};
use super::{Func, FuncError, FuncResult};
use crate::value::Value;

/// The functions of this group.
pub const FUNCS: &[Func] = &[
    piped_last("default", default),
    piped_last("empty", empty),
    piped_last("coalesce", coalesce),
    piped_last("ternary", ternary),
    piped_last("all", all),
    piped_last("any", any),
    piped_last("required", required),
    piped_last("fail", fail),
    piped_last("typeOf", type_of),
    piped_last("typeIs", type_is),
    piped_last("typeIsLike", type_is_like),
    piped_last("kindOf", kind_of),
    piped_last("kindIs", kind_is),
    piped_last("deepEqual", deep_equal),
    piped_last("int", int),
    piped_last("int64", int64),
    piped_last("float64", float64),
    piped_last("atoi", atoi),
    piped_last("toDecimal", to_decimal),
    piped_last("add", add),
    piped_last("add1", add1),
    piped_last("sub", sub),
    piped_last("mul", mul),
    piped_last("div", div),
    piped_last("mod", modulo),
    piped_last("max", max),
    piped_last("biggest", biggest),
    piped_last("min", min),
    piped_last("floor", floor),
    piped_last("ceil", ceil),
    piped_first("round", round),
    piped_last("addf", addf),
    piped_last("add1f", add1f),
    piped_last("subf", subf),
    piped_last("mulf", mulf),
    piped_last("divf", divf),
    piped_last("maxf", maxf),
    piped_last("minf", minf),
    piped_last("eq", eq),
    piped_last("ne", ne),
    piped_last("lt", lt),
    piped_last("le", le),
    piped_last("gt", gt),
    piped_last("ge", ge),
    piped_last("and", and),
    piped_last("or", or),
    piped_last("not", not),
];

// ---- defaults and emptiness ----

/// `default DEFAULT [VALUE]`: VALUE unless it is empty (or absent), else DEFAULT.
pub fn default(args: &[Value]) -> FuncResult {
    at_least("default", args, 1)?;
    match args.get(1) {
        Some(v) if !v.is_empty() => Ok(v.clone()),
        _ => Ok(args[0].clone()),
    }
}

/// `empty VALUE`: whether VALUE is empty (null, false, 0, "", empty list or map).
pub fn empty(args: &[Value]) -> FuncResult {
    exactly("empty", args, 1)?;
    Ok(Value::Bool(args[0].is_empty()))
}

/// `coalesce VALUES…`: the first non-empty value, or null.
pub fn coalesce(args: &[Value]) -> FuncResult {
    Ok(args
        .iter()
        .find(|v| !v.is_empty())
        .cloned()
        .unwrap_or(Value::Null))
}

/// `ternary IF_TRUE IF_FALSE CONDITION`: CONDITION must be a boolean.
pub fn ternary(args: &[Value]) -> FuncResult {
    exactly("ternary", args, 3)?;
    let cond = expect_bool(&args[2])?;
    Ok(if cond {
        args[0].clone()
    } else {
        args[1].clone()
    })
}

/// `all VALUES…`: whether no value is empty (true for none).
pub fn all(args: &[Value]) -> FuncResult {
    Ok(Value::Bool(args.iter().all(|v| !v.is_empty())))
}

/// `any VALUES…`: whether some value is non-empty.
pub fn any(args: &[Value]) -> FuncResult {
    Ok(Value::Bool(args.iter().any(|v| !v.is_empty())))
}

/// `required MESSAGE VALUE`: VALUE, or an error saying MESSAGE when VALUE is null or ""
/// (false and 0 pass, as in Helm).
pub fn required(args: &[Value]) -> FuncResult {
    exactly("required", args, 2)?;
    let msg = expect_str(&args[0])?;
    match &args[1] {
        Value::Null => Err(FuncError::new(msg)),
        Value::String(s) if s.is_empty() => Err(FuncError::new(msg)),
        v => Ok(v.clone()),
    }
}

/// `fail MESSAGE`: always an error saying MESSAGE.
pub fn fail(args: &[Value]) -> FuncResult {
    exactly("fail", args, 1)?;
    Err(FuncError::new(expect_str(&args[0])?))
}

// ---- types ----

/// `typeOf VALUE`: the Go type name (`string`, `int64`, `float64`, `bool`,
/// `[]interface {}`, `map[string]interface {}`, `<nil>`).
pub fn type_of(args: &[Value]) -> FuncResult {
    exactly("typeOf", args, 1)?;
    Ok(Value::String(go_type_name(&args[0]).to_owned()))
}

/// `typeIs TYPE VALUE`.
pub fn type_is(args: &[Value]) -> FuncResult {
    exactly("typeIs", args, 2)?;
    let target = expect_str(&args[0])?;
    Ok(Value::Bool(target == go_type_name(&args[1])))
}

/// `typeIsLike TYPE VALUE`: `typeIs`, also accepting a pointer to TYPE.
pub fn type_is_like(args: &[Value]) -> FuncResult {
    exactly("typeIsLike", args, 2)?;
    let target = expect_str(&args[0])?;
    let t = go_type_name(&args[1]);
    Ok(Value::Bool(
        target == t || t.strip_prefix('*') == Some(target),
    ))
}

/// `kindOf VALUE`: the Go kind (`string`, `int64`, `float64`, `bool`, `slice`, `map`,
/// `invalid` for null).
pub fn kind_of(args: &[Value]) -> FuncResult {
    exactly("kindOf", args, 1)?;
    Ok(Value::String(go_kind_name(&args[0]).to_owned()))
}

/// `kindIs KIND VALUE`.
pub fn kind_is(args: &[Value]) -> FuncResult {
    exactly("kindIs", args, 2)?;
    let target = expect_str(&args[0])?;
    Ok(Value::Bool(target == go_kind_name(&args[1])))
}

/// `deepEqual A B`: Go's `reflect.DeepEqual` (an integer never equals a float).
pub fn deep_equal(args: &[Value]) -> FuncResult {
    exactly("deepEqual", args, 2)?;
    Ok(Value::Bool(go_deep_equal(&args[0], &args[1])))
}

// ---- conversions ----

/// `int VALUE`: cast's integer conversion (see [`cast_to_int64`]).
pub fn int(args: &[Value]) -> FuncResult {
    exactly("int", args, 1)?;
    Ok(Value::Int(cast_to_int64(&args[0])))
}

/// `int64 VALUE`: as `int`.
pub fn int64(args: &[Value]) -> FuncResult {
    exactly("int64", args, 1)?;
    Ok(Value::Int(cast_to_int64(&args[0])))
}

/// `float64 VALUE`: cast's float conversion (unparseable strings give 0).
pub fn float64(args: &[Value]) -> FuncResult {
    exactly("float64", args, 1)?;
    Ok(Value::Float(cast_to_float64(&args[0])))
}

/// `atoi STRING`: a base-10 integer; 0 when it does not parse, the nearest int64 when it is
/// out of range (Go's `strconv.Atoi` answers so, and Sprig ignores the error).
pub fn atoi(args: &[Value]) -> FuncResult {
    exactly("atoi", args, 1)?;
    let s = expect_str(&args[0])?;
    Ok(Value::Int(match parse_go_int_err(s, 10) {
        Ok(i) => i,
        Err(ParseIntError::Range(i)) => i,
        Err(ParseIntError::Syntax) => 0,
    }))
}

/// `toDecimal VALUE`: VALUE's string form read as an octal number (`"0777"` is 511), 0 when
/// it is not one.
pub fn to_decimal(args: &[Value]) -> FuncResult {
    exactly("toDecimal", args, 1)?;
    let s = go_sprint_value(&args[0]);
    Ok(Value::Int(parse_go_int(&s, 8).unwrap_or(0)))
}

// ---- integer arithmetic ----

/// `add VALUES…`: the sum as int64.
pub fn add(args: &[Value]) -> FuncResult {
    Ok(Value::Int(
        args.iter()
            .fold(0i64, |a, v| a.wrapping_add(cast_to_int64(v))),
    ))
}

/// `add1 VALUE`.
pub fn add1(args: &[Value]) -> FuncResult {
    exactly("add1", args, 1)?;
    Ok(Value::Int(cast_to_int64(&args[0]).wrapping_add(1)))
}

/// `sub A B`.
pub fn sub(args: &[Value]) -> FuncResult {
    exactly("sub", args, 2)?;
    Ok(Value::Int(
        cast_to_int64(&args[0]).wrapping_sub(cast_to_int64(&args[1])),
    ))
}

/// `mul A VALUES…`.
pub fn mul(args: &[Value]) -> FuncResult {
    at_least("mul", args, 1)?;
    Ok(Value::Int(
        args[1..].iter().fold(cast_to_int64(&args[0]), |a, v| {
            a.wrapping_mul(cast_to_int64(v))
        }),
    ))
}

fn int_pair(name: &str, args: &[Value]) -> Result<(i64, i64), FuncError> {
    exactly(name, args, 2)?;
    let b = cast_to_int64(&args[1]);
    if b == 0 {
        return Err(call_error(name, "runtime error: integer divide by zero"));
    }
    Ok((cast_to_int64(&args[0]), b))
}

/// `div A B`: integer division truncating toward zero; B = 0 is an error.
pub fn div(args: &[Value]) -> FuncResult {
    let (a, b) = int_pair("div", args)?;
    Ok(Value::Int(a.wrapping_div(b)))
}

/// `mod A B`: the remainder, with A's sign; B = 0 is an error.
pub fn modulo(args: &[Value]) -> FuncResult {
    let (a, b) = int_pair("mod", args)?;
    Ok(Value::Int(a.wrapping_rem(b)))
}

fn fold_ints(name: &str, args: &[Value], pick: fn(i64, i64) -> i64) -> FuncResult {
    at_least(name, args, 1)?;
    Ok(Value::Int(
        args[1..]
            .iter()
            .fold(cast_to_int64(&args[0]), |a, v| pick(a, cast_to_int64(v))),
    ))
}

/// `max A VALUES…`: the largest, as int64.
pub fn max(args: &[Value]) -> FuncResult {
    fold_ints("max", args, i64::max)
}

/// `biggest A VALUES…`: `max`.
pub fn biggest(args: &[Value]) -> FuncResult {
    fold_ints("biggest", args, i64::max)
}

/// `min A VALUES…`: the smallest, as int64.
pub fn min(args: &[Value]) -> FuncResult {
    fold_ints("min", args, i64::min)
}

// ---- float arithmetic ----

/// `floor VALUE`: as float64.
pub fn floor(args: &[Value]) -> FuncResult {
    exactly("floor", args, 1)?;
    Ok(Value::Float(cast_to_float64(&args[0]).floor()))
}

/// `ceil VALUE`: as float64.
pub fn ceil(args: &[Value]) -> FuncResult {
    exactly("ceil", args, 1)?;
    Ok(Value::Float(cast_to_float64(&args[0]).ceil()))
}

/// Go's `math.Pow(10, n)` for an integer n: repeated squaring on the mantissa with the
/// binary exponent kept apart, so results match Go's bit for bit.
fn go_pow10(n: i64) -> f64 {
    if n == 0 {
        return 1.0;
    }
    let (mut x1, mut xe) = (0.625f64, 4i64); // frexp(10)
    let mut a1 = 1.0f64;
    let mut ae = 0i64;
    let mut i = n.unsigned_abs();
    while i != 0 {
        if !(-(1 << 12)..=(1 << 12)).contains(&xe) {
            ae += xe;
            break;
        }
        if i & 1 == 1 {
            a1 *= x1;
            ae += xe;
        }
        x1 *= x1;
        xe <<= 1;
        if x1 < 0.5 {
            x1 += x1;
            xe -= 1;
        }
        i >>= 1;
    }
    if n < 0 {
        a1 = 1.0 / a1;
        ae = -ae;
    }
    ldexp(a1, ae)
}

/// `frac × 2^exp`, correctly handling results that overflow or go subnormal.
fn ldexp(frac: f64, exp: i64) -> f64 {
    let exp = exp.clamp(-2200, 2200) as i32;
    // Split the scaling so intermediate powers of two stay representable.
    let mut x = frac;
    let mut e = exp;
    while e > 1000 {
        x *= 2f64.powi(1000);
        e -= 1000;
    }
    while e < -1000 {
        x *= 2f64.powi(-1000);
        e += 1000;
    }
    x * 2f64.powi(e)
}

/// `round VALUE PLACES [HALF]`: Sprig's rounding — VALUE × 10^PLACES rounds up when its
/// fractional part is at least HALF (0.5 by default), else down. The fractional part of a
/// negative number is negative, so negative values always round down (`round -2.4 0` is -3).
pub fn round(args: &[Value]) -> FuncResult {
    at_least("round", args, 2)?;
    let places = expect_int(&args[1])?;
    let round_on = match args.get(2) {
        Some(v) => expect_float(v)?,
        None => 0.5,
    };
    for extra in args.iter().skip(3) {
        expect_float(extra)?;
    }
    let val = cast_to_float64(&args[0]);
    let pow = go_pow10(places);
    let digit = pow * val;
    let frac = digit - digit.trunc();
    let rounded = if frac >= round_on {
        digit.ceil()
    } else {
        digit.floor()
    };
    Ok(Value::Float(rounded / pow))
}

/// A decimal number `m × 10^e`, the way Sprig's float functions compute (shopspring/decimal).
#[derive(Clone, Copy, Debug)]
struct Dec {
    m: i128,
    e: i32,
}

/// Digits kept after the point by decimal division.
const DIVISION_PRECISION: i32 = 16;

impl Dec {
    /// The shortest decimal that reads back as `f`.
    fn from_f64(name: &str, f: f64) -> Result<Dec, FuncError> {
        if !f.is_finite() {
            return Err(call_error(
                name,
                format!(
                    "Cannot create a Decimal from {}",
                    go_sprint_value(&Value::Float(f))
                ),
            ));
        }
        if f == 0.0 {
            return Ok(Dec { m: 0, e: 0 });
        }
        let s = format!("{f:e}");
        let (mant, exp) = s.split_once('e').unwrap_or((&s, "0"));
        let exp: i32 = exp.parse().unwrap_or(0);
        let neg = mant.starts_with('-');
        let digits: String = mant.chars().filter(char::is_ascii_digit).collect();
        let m: i128 = digits.parse().unwrap_or(0);
        let e = exp - (digits.len() as i32 - 1);
        Ok(Dec {
            m: if neg { -m } else { m },
            e,
        })
    }

    fn to_f64(self) -> f64 {
        format!("{}e{}", self.m, self.e).parse().unwrap_or(f64::NAN)
    }

    /// `self.m` scaled to exponent `e` (which must not exceed `self.e`).
    fn scaled(self, e: i32) -> Option<i128> {
        let k = u32::try_from(self.e - e).ok()?;
        self.m.checked_mul(10i128.checked_pow(k)?)
    }

    fn add(self, o: Dec) -> Option<Dec> {
        let e = self.e.min(o.e);
        Some(Dec {
            m: self.scaled(e)?.checked_add(o.scaled(e)?)?,
            e,
        })
    }

    fn sub(self, o: Dec) -> Option<Dec> {
        self.add(Dec {
            m: o.m.checked_neg()?,
            e: o.e,
        })
    }

    fn mul(self, o: Dec) -> Option<Dec> {
        Some(Dec {
            m: self.m.checked_mul(o.m)?,
            e: self.e.checked_add(o.e)?,
        })
    }

    /// Quotient rounded to 16 places, half away from zero.
    fn div(self, o: Dec) -> Option<Dec> {
        let k = self.e - o.e + DIVISION_PRECISION;
        let (num, den) = if k >= 0 {
            (self.m.checked_mul(10i128.checked_pow(k as u32)?)?, o.m)
        } else {
            (self.m, o.m.checked_mul(10i128.checked_pow((-k) as u32)?)?)
        };
        let q = num / den;
        let r = num % den;
        let q = if r != 0 && r.unsigned_abs().checked_mul(2)? >= den.unsigned_abs() {
            if (num < 0) != (den < 0) { q - 1 } else { q + 1 }
        } else {
            q
        };
        Some(Dec {
            m: q,
            e: -DIVISION_PRECISION,
        })
    }
}

#[derive(Clone, Copy)]
enum Op {
    Add,
    Sub,
    Mul,
    Div,
}

/// Sprig's `execDecimalOp`: each operand converted to float64 and then to decimal, folded
/// with `op`, the result read back as float64. Results beyond 128-bit decimals fall back to
/// plain float arithmetic.
fn decimal_fold(name: &str, first: &Value, rest: &[Value], op: Op) -> FuncResult {
    let mut acc = Dec::from_f64(name, cast_to_float64(first))?;
    let mut approx: Option<f64> = None;
    for v in rest {
        let x = cast_to_float64(v);
        let d = Dec::from_f64(name, x)?;
        if matches!(op, Op::Div) && d.m == 0 {
            return Err(call_error(name, "decimal division by 0"));
        }
        if let Some(a) = approx {
            approx = Some(apply_f64(op, a, x));
            continue;
        }
        let next = match op {
            Op::Add => acc.add(d),
            Op::Sub => acc.sub(d),
            Op::Mul => acc.mul(d),
            Op::Div => acc.div(d),
        };
        match next {
            Some(n) => acc = n,
            None => approx = Some(apply_f64(op, acc.to_f64(), x)),
        }
    }
    Ok(Value::Float(approx.unwrap_or_else(|| acc.to_f64())))
}

fn apply_f64(op: Op, a: f64, b: f64) -> f64 {
    match op {
        Op::Add => a + b,
        Op::Sub => a - b,
        Op::Mul => a * b,
        Op::Div => a / b,
    }
}

/// `addf VALUES…`: the decimal sum, as float64.
pub fn addf(args: &[Value]) -> FuncResult {
    decimal_fold("addf", &Value::Float(0.0), args, Op::Add)
}

/// `add1f VALUE`.
pub fn add1f(args: &[Value]) -> FuncResult {
    exactly("add1f", args, 1)?;
    decimal_fold("add1f", &args[0], &[Value::Int(1)], Op::Add)
}

/// `subf A VALUES…`.
pub fn subf(args: &[Value]) -> FuncResult {
    at_least("subf", args, 1)?;
    decimal_fold("subf", &args[0], &args[1..], Op::Sub)
}

/// `mulf A VALUES…`.
pub fn mulf(args: &[Value]) -> FuncResult {
    at_least("mulf", args, 1)?;
    decimal_fold("mulf", &args[0], &args[1..], Op::Mul)
}

/// `divf A VALUES…`: decimal division to 16 places; dividing by 0 is an error.
pub fn divf(args: &[Value]) -> FuncResult {
    at_least("divf", args, 1)?;
    decimal_fold("divf", &args[0], &args[1..], Op::Div)
}

/// Go's `math.Max`.
fn go_max(x: f64, y: f64) -> f64 {
    if x.is_infinite() && x > 0.0 || y.is_infinite() && y > 0.0 {
        return f64::INFINITY;
    }
    if x.is_nan() || y.is_nan() {
        return f64::NAN;
    }
    if x == 0.0 && y == 0.0 {
        return if x.is_sign_negative() { y } else { x };
    }
    if x > y { x } else { y }
}

/// Go's `math.Min`.
fn go_min(x: f64, y: f64) -> f64 {
    if x.is_infinite() && x < 0.0 || y.is_infinite() && y < 0.0 {
        return f64::NEG_INFINITY;
    }
    if x.is_nan() || y.is_nan() {
        return f64::NAN;
    }
    if x == 0.0 && y == 0.0 {
        return if x.is_sign_negative() { x } else { y };
    }
    if x < y { x } else { y }
}

fn fold_floats(name: &str, args: &[Value], pick: fn(f64, f64) -> f64) -> FuncResult {
    at_least(name, args, 1)?;
    Ok(Value::Float(
        args[1..].iter().fold(cast_to_float64(&args[0]), |a, v| {
            pick(a, cast_to_float64(v))
        }),
    ))
}

/// `maxf A VALUES…`: the largest, as float64.
pub fn maxf(args: &[Value]) -> FuncResult {
    fold_floats("maxf", args, go_max)
}

/// `minf A VALUES…`: the smallest, as float64.
pub fn minf(args: &[Value]) -> FuncResult {
    fold_floats("minf", args, go_min)
}

// ---- comparison (Go's template built-ins) ----

#[derive(Clone, Copy, PartialEq, Eq)]
enum Basic {
    Bool,
    Int,
    Float,
    String,
    Invalid,
}

fn basic(v: &Value) -> Basic {
    match v {
        Value::Bool(_) => Basic::Bool,
        Value::Int(_) => Basic::Int,
        Value::Float(_) => Basic::Float,
        Value::String(_) => Basic::String,
        _ => Basic::Invalid,
    }
}

fn incompatible(name: &str, a: &Value, b: &Value) -> FuncError {
    call_error(
        name,
        format!(
            "incompatible types for comparison: {} and {}",
            go_type_name(a),
            go_type_name(b)
        ),
    )
}

/// Go's `eq ARG1 ARGS…`: true when ARG1 equals any of ARGS.
fn eq_impl(name: &str, a: &Value, rest: &[Value]) -> Result<bool, FuncError> {
    if rest.is_empty() {
        return Err(call_error(name, "missing argument for comparison"));
    }
    for b in rest {
        let (ka, kb) = (basic(a), basic(b));
        let truth = if ka != kb {
            if !a.is_null() && !b.is_null() {
                return Err(incompatible(name, a, b));
            }
            false
        } else {
            match (a, b) {
                (Value::Bool(x), Value::Bool(y)) => x == y,
                (Value::Int(x), Value::Int(y)) => x == y,
                (Value::Float(x), Value::Float(y)) => x == y,
                (Value::String(x), Value::String(y)) => x == y,
                _ if a.is_null() || b.is_null() => a.is_null() == b.is_null(),
                (Value::List(_), Value::List(_)) | (Value::Map(_), Value::Map(_)) => {
                    return Err(call_error(
                        name,
                        format!(
                            "non-comparable type {}: {}",
                            go_sprintf("%s", std::slice::from_ref(b)),
                            go_type_name(b)
                        ),
                    ));
                }
                _ => {
                    return Err(call_error(
                        name,
                        format!(
                            "non-comparable types {}: {}, {}: {}",
                            go_sprintf("%s", std::slice::from_ref(a)),
                            go_type_name(a),
                            go_type_name(b),
                            go_sprint_value(b)
                        ),
                    ));
                }
            }
        };
        if truth {
            return Ok(true);
        }
    }
    Ok(false)
}

/// Go's `lt A B`: numbers of one kind or strings (bytewise).
fn lt_impl(name: &str, a: &Value, b: &Value) -> Result<bool, FuncError> {
    let bad_type = || call_error(name, "invalid type for comparison");
    let (ka, kb) = (basic(a), basic(b));
    if ka == Basic::Invalid || kb == Basic::Invalid {
        return Err(bad_type());
    }
    if ka != kb {
        return Err(incompatible(name, a, b));
    }
    match (a, b) {
        (Value::Int(x), Value::Int(y)) => Ok(x < y),
        (Value::Float(x), Value::Float(y)) => Ok(x < y),
        (Value::String(x), Value::String(y)) => Ok(x < y),
        _ => Err(bad_type()),
    }
}

fn le_impl(name: &str, a: &Value, b: &Value) -> Result<bool, FuncError> {
    if lt_impl(name, a, b)? {
        return Ok(true);
    }
    eq_impl(name, a, std::slice::from_ref(b))
}

/// `eq A B…`: whether A equals any of B…; integers and floats do not compare.
pub fn eq(args: &[Value]) -> FuncResult {
    at_least("eq", args, 1)?;
    Ok(Value::Bool(eq_impl("eq", &args[0], &args[1..])?))
}

/// `ne A B`.
pub fn ne(args: &[Value]) -> FuncResult {
    exactly("ne", args, 2)?;
    Ok(Value::Bool(!eq_impl("ne", &args[0], &args[1..])?))
}

/// `lt A B`.
pub fn lt(args: &[Value]) -> FuncResult {
    exactly("lt", args, 2)?;
    Ok(Value::Bool(lt_impl("lt", &args[0], &args[1])?))
}

/// `le A B`.
pub fn le(args: &[Value]) -> FuncResult {
    exactly("le", args, 2)?;
    Ok(Value::Bool(le_impl("le", &args[0], &args[1])?))
}

/// `gt A B`.
pub fn gt(args: &[Value]) -> FuncResult {
    exactly("gt", args, 2)?;
    Ok(Value::Bool(!le_impl("gt", &args[0], &args[1])?))
}

/// `ge A B`.
pub fn ge(args: &[Value]) -> FuncResult {
    exactly("ge", args, 2)?;
    Ok(Value::Bool(!lt_impl("ge", &args[0], &args[1])?))
}

/// `and A B…`: the first empty argument, else the last.
pub fn and(args: &[Value]) -> FuncResult {
    at_least("and", args, 1)?;
    Ok(args
        .iter()
        .find(|v| v.is_empty())
        .unwrap_or(&args[args.len() - 1])
        .clone())
}

/// `or A B…`: the first non-empty argument, else the last.
pub fn or(args: &[Value]) -> FuncResult {
    at_least("or", args, 1)?;
    Ok(args
        .iter()
        .find(|v| !v.is_empty())
        .unwrap_or(&args[args.len() - 1])
        .clone())
}

/// `not A`: whether A is empty.
pub fn not(args: &[Value]) -> FuncResult {
    exactly("not", args, 1)?;
    Ok(Value::Bool(args[0].is_empty()))
}
