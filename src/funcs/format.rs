//! Go's `fmt` as Helm's templates see it: `printf`, `print`, `println`, and the `%v` form
//! every value prints as (`{{ .x }}`, `toString`, `join`, `cat`, …).
//!
//! Values are printed as the Go types Helm holds them in: `Int` as `int64`, `Float` as
//! `float64` (so a values-file `1000000` prints `1e+06`), lists as `[]interface {}` (`[a b]`),
//! maps as `map[string]interface {}` (`map[a:1 b:2]`, keys sorted), `Null` as `<nil>`.

use super::args::{self, piped_last};
use super::{Func, FuncResult};
use crate::value::Value;

/// The functions of this group.
pub const FUNCS: &[Func] = &[
    piped_last("printf", printf),
    piped_last("print", print),
    piped_last("println", println),
];

/// `printf FORMAT ARGS…`: Go's `fmt.Sprintf`.
pub fn printf(args: &[Value]) -> FuncResult {
    args::at_least("printf", args, 1)?;
    let format = args::expect_str(&args[0])?;
    Ok(Value::String(go_sprintf(format, &args[1..])))
}

/// `print ARGS…`: Go's `fmt.Sprint` (a space between operands when neither is a string).
pub fn print(args: &[Value]) -> FuncResult {
    Ok(Value::String(go_sprint(args)))
}

/// `println ARGS…`: Go's `fmt.Sprintln` (spaces between all operands, then a newline).
pub fn println(args: &[Value]) -> FuncResult {
    Ok(Value::String(go_sprintln(args)))
}

/// `%v` of one value, as Go prints it (`<nil>`, `true`, `42`, `1e+06`, `[a b]`, `map[a:1]`).
pub fn go_sprint_value(v: &Value) -> String {
    let mut p = Printer::default();
    p.print_arg(v, 'v');
    p.buf
}

/// Go's `fmt.Sprint`.
pub fn go_sprint(args: &[Value]) -> String {
    let mut p = Printer::default();
    let mut prev_string = false;
    for (i, a) in args.iter().enumerate() {
        let is_string = matches!(a, Value::String(_));
        if i > 0 && !is_string && !prev_string {
            p.buf.push(' ');
        }
        p.print_arg(a, 'v');
        prev_string = is_string;
    }
    p.buf
}

/// Go's `fmt.Sprintln`.
pub fn go_sprintln(args: &[Value]) -> String {
    let mut p = Printer::default();
    for (i, a) in args.iter().enumerate() {
        if i > 0 {
            p.buf.push(' ');
        }
        p.print_arg(a, 'v');
    }
    p.buf.push('\n');
    p.buf
}

/// Go's `fmt.Sprintf`, including its in-band error forms (`%!d(string=x)`, `%!s(MISSING)`,
/// `%!(EXTRA int64=1)`, `%!(NOVERB)`, `%!s(BADINDEX)`).
pub fn go_sprintf(format: &str, args: &[Value]) -> String {
    let mut p = Printer::default();
    p.do_printf(format, args);
    p.buf
}

/// `strconv.Quote`: a double-quoted Go string literal.
pub fn go_quote(s: &str) -> String {
    quote_with(s, '"', false)
}

#[derive(Default, Clone, Copy)]
struct Flags {
    plus: bool,
    minus: bool,
    sharp: bool,
    space: bool,
    zero: bool,
    plus_v: bool,
    sharp_v: bool,
    wid: usize,
    wid_present: bool,
    prec: usize,
    prec_present: bool,
}

#[derive(Default)]
struct Printer {
    buf: String,
    f: Flags,
    reordered: bool,
    good_arg_num: bool,
}

const TOO_LARGE: usize = 1_000_000;

/// Parses a decimal number at `s[i..end]` (Go's `parsenum`).
fn parse_num(s: &[u8], mut i: usize, end: usize) -> (usize, bool, usize) {
    let mut num = 0usize;
    let mut ok = false;
    while i < end && s[i].is_ascii_digit() {
        if num > TOO_LARGE {
            return (0, false, end);
        }
        num = num * 10 + usize::from(s[i] - b'0');
        ok = true;
        i += 1;
    }
    (num, ok, i)
}

impl Printer {
    fn clear_flags(&mut self) {
        self.f = Flags::default();
    }

    /// `[n]` argument index at `i`: (new argNum, new i, found).
    fn arg_number(
        &mut self,
        arg_num: usize,
        s: &[u8],
        i: usize,
        num_args: usize,
    ) -> (usize, usize, bool) {
        if s.len() <= i || s[i] != b'[' {
            return (arg_num, i, false);
        }
        self.reordered = true;
        let rest = &s[i..];
        let (index, wid, ok) = parse_arg_number(rest);
        if ok && index.is_some_and(|ix| ix < num_args) {
            return (index.unwrap_or(0), i + wid, true);
        }
        self.good_arg_num = false;
        (arg_num, i + wid, ok)
    }

    fn do_printf(&mut self, format: &str, a: &[Value]) {
        let s = format.as_bytes();
        let end = s.len();
        let mut arg_num = 0usize;
        let mut after_index;
        self.reordered = false;
        let mut i = 0usize;
        'format: while i < end {
            self.good_arg_num = true;
            let lasti = i;
            while i < end && s[i] != b'%' {
                i += 1;
            }
            if i > lasti {
                self.buf.push_str(&format[lasti..i]);
            }
            if i >= end {
                break;
            }
            i += 1; // skip %
            self.clear_flags();
            while i < end {
                match s[i] {
                    b'#' => self.f.sharp = true,
                    b'0' => self.f.zero = !self.f.minus,
                    b'+' => self.f.plus = true,
                    b'-' => {
                        self.f.minus = true;
                        self.f.zero = false;
                    }
                    b' ' => self.f.space = true,
                    c => {
                        if c.is_ascii_lowercase() && arg_num < a.len() {
                            if c == b'v' {
                                self.f.sharp_v = self.f.sharp;
                                self.f.sharp = false;
                                self.f.plus_v = self.f.plus;
                                self.f.plus = false;
                            }
                            self.print_arg(&a[arg_num], char::from(c));
                            arg_num += 1;
                            i += 1;
                            continue 'format;
                        }
                        break;
                    }
                }
                i += 1;
            }
            (arg_num, i, after_index) = self.arg_number(arg_num, s, i, a.len());
            if i < end && s[i] == b'*' {
                i += 1;
                let (w, ok, n) = int_from_arg(a, arg_num);
                arg_num = n;
                self.f.wid_present = ok;
                if !ok {
                    self.buf.push_str("%!(BADWIDTH)");
                }
                if w < 0 {
                    self.f.minus = true;
                    self.f.zero = false;
                }
                self.f.wid = w.unsigned_abs() as usize;
                after_index = false;
            } else {
                let (w, ok, n) = parse_num(s, i, end);
                self.f.wid = w;
                self.f.wid_present = ok;
                i = n;
                if after_index && ok {
                    self.good_arg_num = false;
                }
            }
            if i + 1 < end && s[i] == b'.' {
                i += 1;
                if after_index {
                    self.good_arg_num = false;
                }
                (arg_num, i, after_index) = self.arg_number(arg_num, s, i, a.len());
                if i < end && s[i] == b'*' {
                    i += 1;
                    let (p, ok, n) = int_from_arg(a, arg_num);
                    arg_num = n;
                    self.f.prec_present = ok && p >= 0;
                    self.f.prec = if p < 0 { 0 } else { p as usize };
                    if !self.f.prec_present {
                        self.buf.push_str("%!(BADPREC)");
                    }
                    after_index = false;
                } else {
                    let (p, ok, n) = parse_num(s, i, end);
                    i = n;
                    self.f.prec = if ok { p } else { 0 };
                    self.f.prec_present = true;
                }
            }
            if !after_index {
                (arg_num, i, _) = self.arg_number(arg_num, s, i, a.len());
            }
            if i >= end {
                self.buf.push_str("%!(NOVERB)");
                break;
            }
            let verb = format[i..].chars().next().unwrap_or('?');
            i += verb.len_utf8();
            if verb == '%' {
                self.buf.push('%');
            } else if !self.good_arg_num {
                self.buf.push_str("%!");
                self.buf.push(verb);
                self.buf.push_str("(BADINDEX)");
            } else if arg_num >= a.len() {
                self.buf.push_str("%!");
                self.buf.push(verb);
                self.buf.push_str("(MISSING)");
            } else {
                if verb == 'v' {
                    self.f.sharp_v = self.f.sharp;
                    self.f.sharp = false;
                    self.f.plus_v = self.f.plus;
                    self.f.plus = false;
                }
                self.print_arg(&a[arg_num], verb);
                arg_num += 1;
            }
        }
        if !self.reordered && arg_num < a.len() {
            self.clear_flags();
            self.buf.push_str("%!(EXTRA ");
            for (k, arg) in a[arg_num..].iter().enumerate() {
                if k > 0 {
                    self.buf.push_str(", ");
                }
                if arg.is_null() {
                    self.buf.push_str("<nil>");
                } else {
                    self.buf.push_str(args::go_type_name(arg));
                    self.buf.push('=');
                    self.print_arg(arg, 'v');
                }
            }
            self.buf.push(')');
        }
    }

    /// Prints one operand with a verb (Go's `printArg`, depth 0).
    fn print_arg(&mut self, arg: &Value, verb: char) {
        if arg.is_null() {
            match verb {
                'T' | 'v' => self.pad_str("<nil>"),
                _ => self.bad_verb(arg, verb),
            }
            return;
        }
        if verb == 'T' {
            self.fmt_s(args::go_type_name(arg));
            return;
        }
        self.print_value(arg, verb, 0);
    }

    fn print_value(&mut self, v: &Value, verb: char, depth: usize) {
        match v {
            Value::Null => {
                // A nil element of a list or map.
                if self.f.sharp_v {
                    self.buf.push_str("interface {}(nil)");
                } else if depth == 0 {
                    self.print_arg(v, verb);
                } else {
                    self.buf.push_str("<nil>");
                }
            }
            Value::Bool(b) => match verb {
                't' | 'v' => self.pad_str(if *b { "true" } else { "false" }),
                _ => self.bad_verb(v, verb),
            },
            Value::Int(i) => self.fmt_integer_verb(v, *i, verb),
            Value::Float(x) => self.fmt_float_verb(v, *x, verb),
            Value::String(s) => match verb {
                'v' if self.f.sharp_v => self.fmt_q(s),
                'v' | 's' => self.fmt_s(s),
                'x' => self.fmt_sx(s.as_bytes(), "0123456789abcdef", 'x'),
                'X' => self.fmt_sx(s.as_bytes(), "0123456789ABCDEF", 'X'),
                'q' => self.fmt_q(s),
                _ => self.bad_verb(v, verb),
            },
            Value::List(l) => {
                if self.f.sharp_v {
                    self.buf.push_str("[]interface {}{");
                    for (k, e) in l.iter().enumerate() {
                        if k > 0 {
                            self.buf.push_str(", ");
                        }
                        self.print_value(e, verb, depth + 1);
                    }
                    self.buf.push('}');
                } else {
                    self.buf.push('[');
                    for (k, e) in l.iter().enumerate() {
                        if k > 0 {
                            self.buf.push(' ');
                        }
                        self.print_value(e, verb, depth + 1);
                    }
                    self.buf.push(']');
                }
            }
            Value::Map(m) => {
                let mut keys: Vec<&String> = m.keys().collect();
                keys.sort();
                if self.f.sharp_v {
                    self.buf.push_str("map[string]interface {}{");
                } else {
                    self.buf.push_str("map[");
                }
                for (k, key) in keys.iter().enumerate() {
                    if k > 0 {
                        if self.f.sharp_v {
                            self.buf.push_str(", ");
                        } else {
                            self.buf.push(' ');
                        }
                    }
                    self.print_value(&Value::String((*key).clone()), verb, depth + 1);
                    self.buf.push(':');
                    self.print_value(&m[*key], verb, depth + 1);
                }
                self.buf.push(if self.f.sharp_v { '}' } else { ']' });
            }
        }
    }

    fn bad_verb(&mut self, arg: &Value, verb: char) {
        self.buf.push_str("%!");
        self.buf.push(verb);
        self.buf.push('(');
        if arg.is_null() {
            self.buf.push_str("<nil>");
        } else {
            self.buf.push_str(args::go_type_name(arg));
            self.buf.push('=');
            self.print_arg(arg, 'v');
        }
        self.buf.push(')');
    }

    // ---- padding ----

    fn write_padding(&mut self, n: usize) {
        let c = if self.f.zero { '0' } else { ' ' };
        self.buf.extend(std::iter::repeat_n(c, n));
    }

    /// Pads to the width with spaces or zeros (Go's `fmt.pad`; width counts runes).
    fn pad_str(&mut self, s: &str) {
        if !self.f.wid_present || self.f.wid == 0 {
            self.buf.push_str(s);
            return;
        }
        let n = s.chars().count();
        let width = self.f.wid.saturating_sub(n);
        if !self.f.minus {
            self.write_padding(width);
            self.buf.push_str(s);
        } else {
            self.buf.push_str(s);
            self.write_padding(width);
        }
    }

    fn truncate<'s>(&self, s: &'s str) -> &'s str {
        if self.f.prec_present
            && let Some((idx, _)) = s.char_indices().nth(self.f.prec)
        {
            return &s[..idx];
        }
        s
    }

    fn fmt_s(&mut self, s: &str) {
        let s = self.truncate(s);
        self.pad_str(s);
    }

    fn fmt_q(&mut self, s: &str) {
        let s = self.truncate(s);
        let q = if self.f.sharp && can_backquote(s) {
            format!("`{s}`")
        } else {
            quote_with(s, '"', self.f.plus)
        };
        self.pad_str(&q);
    }

    fn fmt_sx(&mut self, b: &[u8], digits: &str, x: char) {
        let digits = digits.as_bytes();
        let mut length = b.len();
        if self.f.prec_present && self.f.prec < length {
            length = self.f.prec;
        }
        let mut width = 2 * length;
        if width > 0 {
            if self.f.space {
                if self.f.sharp {
                    width *= 2;
                }
                width += length - 1;
            } else if self.f.sharp {
                width += 2;
            }
        } else {
            if self.f.wid_present {
                self.write_padding(self.f.wid);
            }
            return;
        }
        if self.f.wid_present && self.f.wid > width && !self.f.minus {
            self.write_padding(self.f.wid - width);
        }
        if self.f.sharp {
            self.buf.push('0');
            self.buf.push(x);
        }
        for (i, c) in b[..length].iter().enumerate() {
            if self.f.space && i > 0 {
                self.buf.push(' ');
                if self.f.sharp {
                    self.buf.push('0');
                    self.buf.push(x);
                }
            }
            self.buf.push(char::from(digits[usize::from(c >> 4)]));
            self.buf.push(char::from(digits[usize::from(c & 0xF)]));
        }
        if self.f.wid_present && self.f.wid > width && self.f.minus {
            self.write_padding(self.f.wid - width);
        }
    }

    // ---- integers ----

    fn fmt_integer_verb(&mut self, v: &Value, i: i64, verb: char) {
        match verb {
            'v' | 'd' => self.fmt_integer(i, 10, verb, false),
            'b' => self.fmt_integer(i, 2, verb, false),
            'o' | 'O' => self.fmt_integer(i, 8, verb, false),
            'x' => self.fmt_integer(i, 16, verb, false),
            'X' => self.fmt_integer(i, 16, verb, true),
            'c' => {
                let c = rune_of(i);
                self.pad_str(&c.to_string());
            }
            'q' => {
                let c = rune_of(i);
                let q = if self.f.sharp && c != '`' && !c.is_control() && go_is_print(c) {
                    format!("'{c}'")
                } else {
                    quote_rune(c, self.f.plus)
                };
                self.pad_str(&q);
            }
            'U' => self.fmt_unicode(i),
            _ => self.bad_verb(v, verb),
        }
    }

    fn fmt_unicode(&mut self, i: i64) {
        let u = i as u64;
        let mut prec = 4usize;
        if self.f.prec_present && self.f.prec > 4 {
            prec = self.f.prec;
        }
        let mut s = format!("U+{:0width$X}", u, width = prec);
        if self.f.sharp
            && let Some(c) = u32::try_from(u).ok().and_then(char::from_u32)
            && go_is_print(c)
        {
            s.push_str(&format!(" '{c}'"));
        }
        let old = self.f.zero;
        self.f.zero = false;
        self.pad_str(&s);
        self.f.zero = old;
    }

    fn fmt_integer(&mut self, i: i64, base: u64, verb: char, upper: bool) {
        let negative = i < 0;
        let mut u = i.unsigned_abs();
        let mut prec = 0usize;
        if self.f.prec_present {
            prec = self.f.prec;
            if prec == 0 && u == 0 {
                let old = self.f.zero;
                self.f.zero = false;
                let w = self.f.wid;
                self.write_padding(w);
                self.f.zero = old;
                return;
            }
        } else if self.f.zero && !self.f.minus && self.f.wid_present {
            prec = self.f.wid;
            if negative || self.f.plus || self.f.space {
                prec = prec.saturating_sub(1);
            }
        }
        let digits: &[u8] = if upper {
            b"0123456789ABCDEFX"
        } else {
            b"0123456789abcdefx"
        };
        let mut rev: Vec<u8> = Vec::new();
        loop {
            rev.push(digits[(u % base) as usize]);
            u /= base;
            if u == 0 {
                break;
            }
        }
        while rev.len() < prec {
            rev.push(b'0');
        }
        if self.f.sharp {
            match base {
                2 => rev.extend_from_slice(b"b0"),
                8 if rev.last() != Some(&b'0') => rev.push(b'0'),
                16 => {
                    rev.push(digits[16]);
                    rev.push(b'0');
                }
                _ => {}
            }
        }
        if verb == 'O' {
            rev.extend_from_slice(b"o0");
        }
        if negative {
            rev.push(b'-');
        } else if self.f.plus {
            rev.push(b'+');
        } else if self.f.space {
            rev.push(b' ');
        }
        rev.reverse();
        let s = String::from_utf8(rev).unwrap_or_default();
        let old = self.f.zero;
        self.f.zero = false;
        self.pad_str(&s);
        self.f.zero = old;
    }

    // ---- floats ----

    fn fmt_float_verb(&mut self, v: &Value, x: f64, verb: char) {
        match verb {
            'v' => self.fmt_float(x, 'g', None),
            'b' | 'g' | 'G' | 'x' | 'X' => self.fmt_float(x, verb, None),
            'f' | 'e' | 'E' => self.fmt_float(x, verb, Some(6)),
            'F' => self.fmt_float(x, 'f', Some(6)),
            _ => self.bad_verb(v, verb),
        }
    }

    fn fmt_float(&mut self, x: f64, verb: char, default_prec: Option<usize>) {
        let prec = if self.f.prec_present {
            Some(self.f.prec)
        } else {
            default_prec
        };
        let body = format_float(x, verb, prec);
        let mut num = if body.starts_with('-') || body.starts_with('+') {
            body
        } else {
            format!("+{body}")
        };
        if self.f.space && num.starts_with('+') && !self.f.plus {
            num.replace_range(0..1, " ");
        }
        let second = num.as_bytes().get(1).copied();
        if second == Some(b'I') || second == Some(b'N') {
            let old = self.f.zero;
            self.f.zero = false;
            if second == Some(b'N') && !self.f.space && !self.f.plus {
                num.remove(0);
            }
            self.pad_str(&num);
            self.f.zero = old;
            return;
        }
        if self.f.sharp && verb != 'b' {
            num = sharp_float(&num, verb, prec);
        }
        if self.f.plus || !num.starts_with('+') {
            if self.f.zero && !self.f.minus && self.f.wid_present && self.f.wid > num.len() {
                let sign = num.remove(0);
                self.buf.push(sign);
                let w = self.f.wid - num.len() - 1;
                self.write_padding(w);
                self.buf.push_str(&num);
                return;
            }
            self.pad_str(&num);
            return;
        }
        let rest = num[1..].to_owned();
        self.pad_str(&rest);
    }
}

/// Go's `#` flag on floats: always a decimal point, and `%#g`/`%#v` keep trailing zeros up to
/// the precision (6 when none is given).
fn sharp_float(num: &str, verb: char, prec: Option<usize>) -> String {
    let mut digits: i64 = match verb {
        'v' | 'g' | 'G' | 'x' => prec.map_or(6, |p| p as i64),
        _ => 0,
    };
    let bytes = num.as_bytes();
    let mut body_end = bytes.len();
    let mut has_point = false;
    let mut saw_nonzero = false;
    for (i, &c) in bytes.iter().enumerate().skip(1) {
        match c {
            b'.' => has_point = true,
            b'p' | b'P' => {
                body_end = i;
                break;
            }
            b'e' | b'E' if verb != 'x' && verb != 'X' => {
                body_end = i;
                break;
            }
            _ => {
                if c != b'0' {
                    saw_nonzero = true;
                }
                if saw_nonzero {
                    digits -= 1;
                }
            }
        }
    }
    let mut out = num[..body_end].to_owned();
    let tail = &num[body_end..];
    if !has_point {
        if out.len() == 2 && out.ends_with('0') {
            digits -= 1;
        }
        out.push('.');
    }
    while digits > 0 {
        out.push('0');
        digits -= 1;
    }
    out.push_str(tail);
    out
}

/// `(index, width consumed, ok)` for a `[n]` at the start of `s`.
fn parse_arg_number(s: &[u8]) -> (Option<usize>, usize, bool) {
    if s.len() < 3 {
        return (None, 1, false);
    }
    for i in 1..s.len() {
        if s[i] == b']' {
            let (n, ok, newi) = parse_num(s, 1, i);
            if !ok || newi != i {
                return (None, i + 1, false);
            }
            return (n.checked_sub(1), i + 1, true);
        }
    }
    (None, 1, false)
}

/// A `*` width or precision: (value, ok, next argNum).
fn int_from_arg(a: &[Value], arg_num: usize) -> (i64, bool, usize) {
    if arg_num < a.len() {
        if let Value::Int(n) = a[arg_num] {
            if n.unsigned_abs() > TOO_LARGE as u64 {
                return (0, false, arg_num + 1);
            }
            return (n, true, arg_num + 1);
        }
        return (0, false, arg_num + 1);
    }
    (0, false, arg_num)
}

fn rune_of(i: i64) -> char {
    u32::try_from(i)
        .ok()
        .and_then(char::from_u32)
        .unwrap_or('\u{FFFD}')
}

// ---- float formatting (strconv.FormatFloat) ----

/// Decimal digits of |x| and the decimal point position: x = 0.d1d2… × 10^dp.
/// `sig = None` gives the shortest digits that read back as x; `Some(n)` rounds to n digits.
/// Trailing zeros are trimmed; zero has no digits.
fn decimal_digits(x: f64, sig: Option<usize>) -> (Vec<u8>, i32) {
    let x = x.abs();
    if x == 0.0 {
        return (Vec::new(), 0);
    }
    let s = match sig {
        None => format!("{x:e}"),
        Some(n) => format!("{:.*e}", n.saturating_sub(1), x),
    };
    let (mant, exp) = s.split_once('e').unwrap_or((&s, "0"));
    let exp: i32 = exp.parse().unwrap_or(0);
    let mut digits: Vec<u8> = mant.bytes().filter(u8::is_ascii_digit).collect();
    while digits.len() > 1 && digits.last() == Some(&b'0') {
        digits.pop();
    }
    if digits == [b'0'] {
        return (Vec::new(), 0);
    }
    (digits, exp + 1)
}

/// `%e` body from digits: d.ddd e±XX with `prec` digits after the point.
fn fmt_e(neg: bool, digits: &[u8], dp: i32, prec: usize, e: char) -> String {
    let mut out = String::new();
    if neg {
        out.push('-');
    }
    out.push(char::from(*digits.first().unwrap_or(&b'0')));
    if prec > 0 {
        out.push('.');
        for k in 1..=prec {
            out.push(char::from(*digits.get(k).unwrap_or(&b'0')));
        }
    }
    out.push(e);
    let exp = if digits.is_empty() { 0 } else { dp - 1 };
    out.push(if exp < 0 { '-' } else { '+' });
    let a = exp.unsigned_abs();
    if a < 10 {
        out.push('0');
    }
    out.push_str(&a.to_string());
    out
}

/// `%f` body from digits with `prec` digits after the point.
fn fmt_f(neg: bool, digits: &[u8], dp: i32, prec: usize) -> String {
    let mut out = String::new();
    if neg {
        out.push('-');
    }
    if dp > 0 {
        let dp = dp as usize;
        for k in 0..dp {
            out.push(char::from(*digits.get(k).unwrap_or(&b'0')));
        }
    } else {
        out.push('0');
    }
    if prec > 0 {
        out.push('.');
        for k in 1..=prec as i64 {
            let j = i64::from(dp) + k - 1;
            let c = if j >= 0 {
                digits.get(j as usize).copied().unwrap_or(b'0')
            } else {
                b'0'
            };
            out.push(char::from(c));
        }
    }
    out
}

/// `strconv.FormatFloat(x, verb, prec, 64)`; `prec = None` is Go's -1 (shortest).
pub fn format_float(x: f64, verb: char, prec: Option<usize>) -> String {
    if x.is_nan() {
        return "NaN".into();
    }
    if x.is_infinite() {
        return if x > 0.0 {
            "+Inf".into()
        } else {
            "-Inf".into()
        };
    }
    let neg = x.is_sign_negative();
    match verb {
        'e' | 'E' => {
            let (digits, dp) = decimal_digits(x, prec.map(|p| p + 1));
            let p = prec.unwrap_or(digits.len().saturating_sub(1));
            fmt_e(neg, &digits, dp, p, verb)
        }
        'f' | 'F' => match prec {
            Some(p) => {
                let s = format!("{:.*}", p, x.abs());
                if neg { format!("-{s}") } else { s }
            }
            None => {
                let (digits, dp) = decimal_digits(x, None);
                let p = (digits.len() as i32 - dp).max(0) as usize;
                fmt_f(neg, &digits, dp, p)
            }
        },
        'g' | 'G' => {
            let e = if verb == 'g' { 'e' } else { 'E' };
            let shortest = prec.is_none();
            let sig = prec.map(|p| p.max(1));
            let (digits, dp) = decimal_digits(x, sig);
            let nd = digits.len() as i32;
            let mut p = match sig {
                Some(p) => p as i32,
                None => nd,
            };
            let mut eprec = p;
            if eprec > nd && nd >= dp {
                eprec = nd;
            }
            if shortest {
                eprec = 6;
            }
            let exp = dp - 1;
            if !digits.is_empty() && (exp < -4 || exp >= eprec) {
                if p > nd {
                    p = nd;
                }
                return fmt_e(neg, &digits, dp, (p - 1).max(0) as usize, e);
            }
            if p > dp {
                p = nd;
            }
            fmt_f(neg, &digits, dp, (p - dp).max(0) as usize)
        }
        'x' | 'X' => format_hex_float(x, prec, verb == 'X'),
        'b' => {
            let bits = x.to_bits();
            let exp = ((bits >> 52) & 0x7FF) as i64;
            let mut mant = bits & ((1u64 << 52) - 1);
            let e = if exp == 0 {
                -1074
            } else {
                mant |= 1u64 << 52;
                exp - 1075
            };
            format!(
                "{}{}p{}{}",
                if neg { "-" } else { "" },
                mant,
                if e >= 0 { "+" } else { "" },
                e
            )
        }
        _ => format!("%{verb}"),
    }
}

/// `%x` of a float: `-0x1.8p+00`.
fn format_hex_float(x: f64, prec: Option<usize>, upper: bool) -> String {
    let neg = x.is_sign_negative();
    let bits = x.to_bits();
    let exp_bits = ((bits >> 52) & 0x7FF) as i64;
    let mut mant = bits & ((1u64 << 52) - 1);
    let mut exp;
    if x == 0.0 {
        exp = 0;
        mant = 0;
    } else if exp_bits == 0 {
        // Subnormal: normalise so the leading 1 sits at bit 52.
        exp = -1022;
        while mant & (1u64 << 52) == 0 {
            mant <<= 1;
            exp -= 1;
        }
        mant &= (1u64 << 52) - 1;
    } else {
        exp = exp_bits - 1023;
    }
    let mut lead = if x == 0.0 { 0u64 } else { 1u64 };
    // mant holds 52 fraction bits = 13 hex digits.
    let mut frac_digits = 13usize;
    if let Some(p) = prec {
        if p < 13 {
            let shift = (13 - p) * 4;
            let full = (lead << 52) | mant;
            let half = 1u64 << (shift - 1);
            let rem = full & ((1u64 << shift) - 1);
            let mut q = full >> shift;
            if rem > half || (rem == half && q & 1 == 1) {
                q += 1;
            }
            let q_bits = 52 - shift;
            if q >> q_bits >= 2 {
                q >>= 1;
                exp += 1;
            }
            lead = q >> q_bits;
            mant = (q & ((1u64 << q_bits) - 1)) << shift;
        }
        frac_digits = p;
    }
    let mut hex = format!("{mant:013x}");
    match prec {
        None => {
            while hex.ends_with('0') {
                hex.pop();
            }
        }
        Some(p) => {
            if p < 13 {
                hex.truncate(p);
            } else {
                hex.extend(std::iter::repeat_n('0', p - 13));
            }
        }
    }
    let _ = frac_digits;
    let mut out = String::new();
    if neg {
        out.push('-');
    }
    out.push_str("0x");
    out.push_str(&lead.to_string());
    if !hex.is_empty() {
        out.push('.');
        out.push_str(&hex);
    }
    out.push('p');
    out.push(if exp < 0 { '-' } else { '+' });
    let a = exp.unsigned_abs();
    if a < 10 {
        out.push('0');
    }
    out.push_str(&a.to_string());
    if upper { out.to_uppercase() } else { out }
}

// ---- quoting ----

/// Go's `unicode.IsPrint`, approximated without Unicode tables: letters, marks, numbers,
/// punctuation, symbols and the ASCII space are printable; controls, other spaces, format
/// characters, private-use and non-characters are not.
pub fn go_is_print(c: char) -> bool {
    let u = c as u32;
    if u < 0x80 {
        return (0x20..0x7F).contains(&u);
    }
    if c.is_control() || c.is_whitespace() {
        return false;
    }
    !matches!(u,
        0x00AD
        | 0x0600..=0x0605
        | 0x061C
        | 0x06DD
        | 0x070F
        | 0x0890..=0x0891
        | 0x08E2
        | 0x180E
        | 0x200B..=0x200F
        | 0x202A..=0x202E
        | 0x2060..=0x206F
        | 0xD800..=0xF8FF
        | 0xFDD0..=0xFDEF
        | 0xFEFF
        | 0xFFF0..=0xFFFB
        | 0xFFFE..=0xFFFF
        | 0x110BD
        | 0x110CD
        | 0x13430..=0x1343F
        | 0x1BCA0..=0x1BCA3
        | 0x1D173..=0x1D17A
        | 0xE0000..=0xE0FFF
        | 0xF0000..=0x10FFFF)
        && (u & 0xFFFE) != 0xFFFE
}

fn push_escaped(out: &mut String, c: char, quote: char, ascii_only: bool) {
    if c == quote || c == '\\' {
        out.push('\\');
        out.push(c);
        return;
    }
    if ascii_only {
        if (c as u32) < 0x80 && go_is_print(c) {
            out.push(c);
            return;
        }
    } else if go_is_print(c) {
        out.push(c);
        return;
    }
    match c {
        '\x07' => out.push_str("\\a"),
        '\x08' => out.push_str("\\b"),
        '\x0C' => out.push_str("\\f"),
        '\n' => out.push_str("\\n"),
        '\r' => out.push_str("\\r"),
        '\t' => out.push_str("\\t"),
        '\x0B' => out.push_str("\\v"),
        _ => {
            let u = c as u32;
            if u < 0x20 || u == 0x7F {
                out.push_str(&format!("\\x{u:02x}"));
            } else if u < 0x10000 {
                out.push_str(&format!("\\u{u:04x}"));
            } else {
                out.push_str(&format!("\\U{u:08x}"));
            }
        }
    }
}

fn quote_with(s: &str, quote: char, ascii_only: bool) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push(quote);
    for c in s.chars() {
        push_escaped(&mut out, c, quote, ascii_only);
    }
    out.push(quote);
    out
}

fn quote_rune(c: char, ascii_only: bool) -> String {
    let mut out = String::from("'");
    push_escaped(&mut out, c, '\'', ascii_only);
    out.push('\'');
    out
}

/// `strconv.CanBackquote`.
fn can_backquote(s: &str) -> bool {
    s.chars()
        .all(|c| c != '`' && c != '\u{FEFF}' && (c == '\t' || !(c < ' ' || c == '\x7F')))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(x: &str) -> Value {
        Value::String(x.into())
    }

    #[test]
    fn floats_print_like_go() {
        let cases = [
            (1_000_000.0, "1e+06"),
            (100_000.0, "100000"),
            (123_456_789.0, "1.23456789e+08"),
            (0.0001, "0.0001"),
            (0.00001, "1e-05"),
            (1.5, "1.5"),
            (-0.0, "-0"),
            (1e21, "1e+21"),
            (f64::INFINITY, "+Inf"),
            (f64::NAN, "NaN"),
        ];
        for (x, want) in cases {
            assert_eq!(go_sprint_value(&Value::Float(x)), want, "{x}");
        }
    }

    #[test]
    fn printf_verbs() {
        let f = |fmt: &str, a: &[Value]| go_sprintf(fmt, a);
        assert_eq!(
            f(
                "%05d|%+d|%x",
                &[Value::Int(42), Value::Int(5), Value::Int(-255)]
            ),
            "00042|+5|-ff"
        );
        assert_eq!(f("%d", &[s("abc")]), "%!d(string=abc)");
        assert_eq!(f("%s", &[]), "%!s(MISSING)");
        assert_eq!(f("%s", &[s("a"), s("b")]), "a%!(EXTRA string=b)");
        assert_eq!(
            f(
                "%.2f|%e|%g",
                &[
                    Value::Float(3.25159),
                    Value::Float(3.25159),
                    Value::Float(1e-7)
                ]
            ),
            "3.25|3.251590e+00|1e-07"
        );
        assert_eq!(f("%x", &[Value::Float(1.5)]), "0x1.8p+00");
        assert_eq!(f("%q", &[s("a\"b\n\u{1}")]), "\"a\\\"b\\n\\x01\"");
        assert_eq!(
            f("%10v|", &[Value::List(vec![Value::Int(1)])]),
            "[         1]|"
        );
        assert_eq!(f("%.3g", &[Value::Float(1234.5678)]), "1.23e+03");
        assert_eq!(
            f(
                "%#v",
                &[Value::List(vec![Value::Int(1), s("a"), Value::Null])]
            ),
            "[]interface {}{1, \"a\", interface {}(nil)}"
        );
    }

    #[test]
    fn sprint_spacing() {
        let args = [
            s("a"),
            s("b"),
            Value::Int(1),
            Value::Int(2),
            s("c"),
            Value::Float(3.5),
            Value::Null,
            Value::Bool(true),
        ];
        assert_eq!(go_sprint(&args), "ab1 2c3.5 <nil> true");
        assert_eq!(go_sprintln(&[s("a"), Value::Int(1)]), "a 1\n");
    }
}
