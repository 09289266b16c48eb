//! Argument checking and conversions shared by the library functions, with Go's and
//! Sprig's rules for turning values into strings, numbers and booleans.

use super::FuncError;
use crate::value::Value;

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
