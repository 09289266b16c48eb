//! Sprig's random functions: `randAlphaNum`, `randAlpha`, `randNumeric`, `randAscii`,
//! `randBytes`, `randInt`, `uuidv4` and `shuffle`, all drawing from the operating system's
//! CSPRNG (Sprig uses `math/rand` for `randInt` and `shuffle`; the distribution is the same).

use super::args::{go_literal_type_name as go_type, piped_last as last};
use super::{Func, FuncError, FuncResult};
use crate::value::Value;
use rand_core::{OsRng, RngCore};

/// The functions of this module.
pub const FUNCS: &[Func] = &[
    last("randAlphaNum", rand_alpha_num),
    last("randAlpha", rand_alpha),
    last("randNumeric", rand_numeric),
    last("randAscii", rand_ascii),
    last("randBytes", rand_bytes),
    last("randInt", rand_int),
    last("uuidv4", uuidv4),
    last("shuffle", shuffle),
];

/// A uniformly random integer in `0..n` (`n > 0`), by rejection sampling.
pub(super) fn below(n: u64) -> u64 {
    let zone = u64::MAX - u64::MAX % n;
    loop {
        let x = OsRng.next_u64();
        if x < zone {
            return x % n;
        }
    }
}

/// `n` random bytes.
pub(super) fn random_bytes(n: usize) -> Vec<u8> {
    let mut buf = vec![0u8; n];
    OsRng.fill_bytes(&mut buf);
    buf
}

fn int_args<const N: usize>(name: &str, args: &[Value]) -> Result<[i64; N], FuncError> {
    if args.len() != N {
        return Err(FuncError::new(format!(
            "wrong number of args for {name}: want {N} got {}",
            args.len()
        )));
    }
    let mut out = [0i64; N];
    for (slot, v) in out.iter_mut().zip(args) {
        *slot = v.as_i64().ok_or_else(|| {
            FuncError::new(format!(
                "wrong type for value; expected int; got {}",
                go_type(v)
            ))
        })?;
    }
    Ok(out)
}

/// `count` characters drawn from `alphabet`; "" for a negative count (Sprig swallows the error).
fn random_string(count: i64, alphabet: &[u8]) -> Value {
    let n = usize::try_from(count).unwrap_or(0);
    Value::String(
        (0..n)
            .map(|_| char::from(alphabet[below(alphabet.len() as u64) as usize]))
            .collect(),
    )
}

const DIGITS: &[u8] = b"0123456789";
const LETTERS: &[u8] = b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ";
const ALNUM: &[u8] = b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";

/// `randAlphaNum N`: N characters from `[0-9A-Za-z]`.
fn rand_alpha_num(args: &[Value]) -> FuncResult {
    let [n] = int_args("randAlphaNum", args)?;
    Ok(random_string(n, ALNUM))
}

/// `randAlpha N`: N characters from `[A-Za-z]`.
fn rand_alpha(args: &[Value]) -> FuncResult {
    let [n] = int_args("randAlpha", args)?;
    Ok(random_string(n, LETTERS))
}

/// `randNumeric N`: N digits.
fn rand_numeric(args: &[Value]) -> FuncResult {
    let [n] = int_args("randNumeric", args)?;
    Ok(random_string(n, DIGITS))
}

/// `randAscii N`: N printable ASCII characters (space to `~`).
fn rand_ascii(args: &[Value]) -> FuncResult {
    let [n] = int_args("randAscii", args)?;
    let printable: Vec<u8> = (b' '..=b'~').collect();
    Ok(random_string(n, &printable))
}

/// `randBytes N`: N random bytes, base64-encoded.
fn rand_bytes(args: &[Value]) -> FuncResult {
    let [n] = int_args("randBytes", args)?;
    let n = usize::try_from(n)
        .map_err(|_| FuncError::new("runtime error: makeslice: len out of range"))?;
    Ok(Value::String(super::encoding::base64_encode(
        &random_bytes(n),
    )))
}

/// `randInt MIN MAX`: an integer in `MIN..MAX`; an error unless MIN < MAX.
fn rand_int(args: &[Value]) -> FuncResult {
    let [min, max] = int_args("randInt", args)?;
    let span = max.wrapping_sub(min);
    if span <= 0 {
        return Err(FuncError::new("invalid argument to Intn"));
    }
    Ok(Value::Int(min + below(span as u64) as i64))
}

/// `uuidv4`: a random (version 4, RFC 4122 variant) UUID in lowercase hyphenated form.
fn uuidv4(args: &[Value]) -> FuncResult {
    int_args::<0>("uuidv4", args)?;
    let mut b = random_bytes(16);
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    let hex: String = b.iter().map(|x| format!("{x:02x}")).collect();
    Ok(Value::String(format!(
        "{}-{}-{}-{}-{}",
        &hex[0..8],
        &hex[8..12],
        &hex[12..16],
        &hex[16..20],
        &hex[20..32]
    )))
}

/// `shuffle STR`: the characters of STR in random order.
fn shuffle(args: &[Value]) -> FuncResult {
    let s = match args {
        [Value::String(s)] => s,
        [Value::Null] => return Err(FuncError::new("invalid value; expected string")),
        [other] => {
            return Err(FuncError::new(format!(
                "wrong type for value; expected string; got {}",
                go_type(other)
            )));
        }
        _ => {
            return Err(FuncError::new(format!(
                "wrong number of args for shuffle: want 1 got {}",
                args.len()
            )));
        }
    };
    let mut chars: Vec<char> = s.chars().collect();
    for i in (1..chars.len()).rev() {
        let j = below(i as u64 + 1) as usize;
        chars.swap(i, j);
    }
    Ok(Value::String(chars.into_iter().collect()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text(f: fn(&[Value]) -> FuncResult, args: &[Value]) -> String {
        f(args).unwrap().as_str().unwrap().to_owned()
    }

    #[test]
    fn lengths_and_alphabets() {
        for (f, ok) in [
            (rand_alpha_num as fn(&[Value]) -> FuncResult, ALNUM),
            (rand_alpha, LETTERS),
            (rand_numeric, DIGITS),
        ] {
            let s = text(f, &[Value::Int(200)]);
            assert_eq!(s.len(), 200);
            assert!(s.bytes().all(|b| ok.contains(&b)), "{s}");
            assert_eq!(text(f, &[Value::Int(0)]), "");
            assert_eq!(text(f, &[Value::Int(-3)]), "");
        }
        let s = text(rand_ascii, &[Value::Float(300.0)]);
        assert_eq!(s.len(), 300);
        assert!(s.bytes().all(|b| (b' '..=b'~').contains(&b)));
        // 200 alphanumerics are very unlikely to repeat.
        assert_ne!(
            text(rand_alpha_num, &[Value::Int(32)]),
            text(rand_alpha_num, &[Value::Int(32)])
        );
    }

    #[test]
    fn bytes_ints_uuids() {
        let b = text(rand_bytes, &[Value::Int(12)]);
        assert_eq!(
            super::super::encoding::base64_decode(b.as_bytes())
                .unwrap()
                .len(),
            12
        );
        assert!(rand_bytes(&[Value::Int(-1)]).is_err());
        for _ in 0..100 {
            let v = rand_int(&[Value::Int(-2), Value::Int(3)]).unwrap();
            assert!((-2..3).contains(&v.as_i64().unwrap()));
        }
        assert_eq!(
            rand_int(&[Value::Int(5), Value::Int(5)]).unwrap_err().0,
            "invalid argument to Intn"
        );
        let u = text(uuidv4, &[]);
        assert_eq!(u.len(), 36);
        let parts: Vec<&str> = u.split('-').collect();
        assert_eq!(
            parts.iter().map(|p| p.len()).collect::<Vec<_>>(),
            [8, 4, 4, 4, 12]
        );
        assert!(parts[2].starts_with('4'));
        assert!("89ab".contains(&parts[3][..1]));
        assert!(
            u.bytes()
                .all(|c| c == b'-' || c.is_ascii_hexdigit() && !c.is_ascii_uppercase())
        );
    }

    #[test]
    fn shuffle_permutes() {
        let s = "h\u{e9}llo, w\u{f6}rld";
        let out = text(shuffle, &[Value::from(s)]);
        let (mut a, mut b): (Vec<char>, Vec<char>) = (s.chars().collect(), out.chars().collect());
        a.sort();
        b.sort();
        assert_eq!(a, b);
        assert_eq!(text(shuffle, &[Value::from("")]), "");
        assert!(shuffle(&[Value::Int(1)]).is_err());
    }
}
