//! Sprig's dictionary functions.
//!
//! Values are immutable here: where Sprig changes its map argument in place (`set`, `unset`,
//! `merge`, `mergeOverwrite`), these functions return the changed copy, and the Go-template
//! engine writes it back where the template relies on the mutation.
//!
//! Go maps have no order; Sprig's `keys` and `values` come out in random order in Helm. Here
//! they follow the keys' sorted order (per map), which is one of Helm's possible answers and
//! stays stable between renders.

use super::args::{
    at_least, call_error, exactly, expect_map, expect_str, go_type_name, piped_first, piped_last,
    strval,
};
use super::{Func, FuncError, FuncResult};
use crate::value::{Map, Value};

/// The functions of this group.
pub const FUNCS: &[Func] = &[
    piped_last("dict", dict),
    piped_first("get", get),
    piped_first("set", set),
    piped_first("unset", unset),
    piped_first("hasKey", has_key),
    piped_last("pluck", pluck),
    piped_last("dig", dig),
    piped_first("keys", keys),
    piped_first("values", values),
    piped_first("pick", pick),
    piped_first("omit", omit),
    piped_first("merge", merge),
    piped_first("mustMerge", must_merge),
    piped_first("mergeOverwrite", merge_overwrite),
    piped_first("mustMergeOverwrite", must_merge_overwrite),
    piped_first("deepCopy", deep_copy),
    piped_first("mustDeepCopy", must_deep_copy),
];

fn map_or_empty(m: Option<&Map>) -> Map {
    m.cloned().unwrap_or_default()
}

/// `dict KEY VALUE …`: a map; keys in their string form, a key without a value gets "".
pub fn dict(args: &[Value]) -> FuncResult {
    let mut m = Map::default();
    for pair in args.chunks(2) {
        let key = strval(&pair[0]);
        let value = pair
            .get(1)
            .cloned()
            .unwrap_or_else(|| Value::String(String::new()));
        m.insert(key, value);
    }
    Ok(Value::Map(m))
}

/// `get MAP KEY`: the value, or "" when the key is missing.
pub fn get(args: &[Value]) -> FuncResult {
    exactly("get", args, 2)?;
    let m = expect_map(&args[0])?;
    let key = expect_str(&args[1])?;
    Ok(m.and_then(|m| m.get(key))
        .cloned()
        .unwrap_or_else(|| Value::String(String::new())))
}

/// `set MAP KEY VALUE`: the map with KEY set (Sprig changes MAP itself; see the module
/// notes). A null MAP is an error, as assigning into Go's nil map is.
pub fn set(args: &[Value]) -> FuncResult {
    exactly("set", args, 3)?;
    let m = expect_map(&args[0])?;
    let key = expect_str(&args[1])?;
    let Some(m) = m else {
        return Err(call_error("set", "assignment to entry in nil map"));
    };
    let mut m = m.clone();
    m.insert(key.to_owned(), args[2].clone());
    Ok(Value::Map(m))
}

/// `unset MAP KEY`: the map without KEY (Sprig changes MAP itself; see the module notes).
pub fn unset(args: &[Value]) -> FuncResult {
    exactly("unset", args, 2)?;
    let mut m = map_or_empty(expect_map(&args[0])?);
    let key = expect_str(&args[1])?;
    m.shift_remove(key);
    Ok(Value::Map(m))
}

/// `hasKey MAP KEY`: whether KEY is present (even with a null value).
pub fn has_key(args: &[Value]) -> FuncResult {
    exactly("hasKey", args, 2)?;
    let m = expect_map(&args[0])?;
    let key = expect_str(&args[1])?;
    Ok(Value::Bool(m.is_some_and(|m| m.contains_key(key))))
}

/// `pluck KEY MAPS…`: KEY's value from each map that has it.
pub fn pluck(args: &[Value]) -> FuncResult {
    at_least("pluck", args, 1)?;
    let key = expect_str(&args[0])?;
    let mut out = Vec::new();
    for a in &args[1..] {
        if let Some(v) = expect_map(a)?.and_then(|m| m.get(key)) {
            out.push(v.clone());
        }
    }
    Ok(Value::List(out))
}

fn interface_conversion(v: &Value, want: &str) -> FuncError {
    let got = if v.is_null() { "nil" } else { go_type_name(v) };
    call_error(
        "dig",
        format!("interface conversion: interface {{}} is {got}, not {want}"),
    )
}

/// `dig KEYS… DEFAULT MAP`: the value at the path of KEYS through nested maps, DEFAULT when a
/// key is missing; a non-map on the way is an error, as in Sprig.
pub fn dig(args: &[Value]) -> FuncResult {
    if args.len() < 3 {
        return Err(call_error("dig", "dig needs at least three arguments"));
    }
    let Value::Map(root) = &args[args.len() - 1] else {
        return Err(interface_conversion(
            &args[args.len() - 1],
            "map[string]interface {}",
        ));
    };
    let mut cur = root;
    let default = &args[args.len() - 2];
    let keys: Vec<&str> = args[..args.len() - 2]
        .iter()
        .map(|k| match k {
            Value::String(s) => Ok(s.as_str()),
            other => Err(interface_conversion(other, "string")),
        })
        .collect::<Result<_, _>>()?;
    for (i, key) in keys.iter().enumerate() {
        let Some(step) = cur.get(*key) else {
            return Ok(default.clone());
        };
        if i + 1 == keys.len() {
            return Ok(step.clone());
        }
        match step {
            Value::Map(m) => cur = m,
            other => return Err(interface_conversion(other, "map[string]interface {}")),
        }
    }
    Ok(default.clone())
}

fn sorted_keys(m: &Map) -> Vec<&String> {
    let mut k: Vec<&String> = m.keys().collect();
    k.sort();
    k
}

/// `keys MAPS…`: the keys of each map (sorted within each map; Helm's order is random).
pub fn keys(args: &[Value]) -> FuncResult {
    let mut out = Vec::new();
    for a in args {
        if let Some(m) = expect_map(a)? {
            out.extend(sorted_keys(m).into_iter().map(|k| Value::String(k.clone())));
        }
    }
    Ok(Value::List(out))
}

/// `values MAP`: the values, in the keys' sorted order (Helm's order is random).
pub fn values(args: &[Value]) -> FuncResult {
    exactly("values", args, 1)?;
    let out = match expect_map(&args[0])? {
        Some(m) => sorted_keys(m).into_iter().map(|k| m[k].clone()).collect(),
        None => Vec::new(),
    };
    Ok(Value::List(out))
}

fn key_args(args: &[Value]) -> Result<Vec<&str>, FuncError> {
    args.iter().map(expect_str).collect()
}

/// `pick MAP KEYS…`: a map of just those keys that MAP has.
pub fn pick(args: &[Value]) -> FuncResult {
    at_least("pick", args, 1)?;
    let m = expect_map(&args[0])?;
    let wanted = key_args(&args[1..])?;
    let mut out = Map::default();
    if let Some(m) = m {
        for k in wanted {
            if let Some(v) = m.get(k) {
                out.insert(k.to_owned(), v.clone());
            }
        }
    }
    Ok(Value::Map(out))
}

/// `omit MAP KEYS…`: MAP without those keys.
pub fn omit(args: &[Value]) -> FuncResult {
    at_least("omit", args, 1)?;
    let m = expect_map(&args[0])?;
    let dropped = key_args(&args[1..])?;
    let out: Map = m
        .map(|m| {
            m.iter()
                .filter(|(k, _)| !dropped.contains(&k.as_str()))
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect()
        })
        .unwrap_or_default();
    Ok(Value::Map(out))
}

/// mergo's map merge. Without `overwrite` (Sprig's `merge`) a source value fills a key that
/// is missing or holds an empty value (null, false, 0, "", empty list or map) — a null
/// source value never does; with `overwrite` (`mergeOverwrite`) every source value wins,
/// nulls and empty values included. Maps on both sides merge recursively; lists are replaced,
/// never appended.
pub fn merge_maps(dst: &mut Map, src: &Map, overwrite: bool) {
    for (k, sv) in src {
        if sv.is_null() {
            if overwrite {
                dst.insert(k.clone(), Value::Null);
            }
            continue;
        }
        match dst.get_mut(k) {
            None => {
                dst.insert(k.clone(), sv.clone());
            }
            Some(dv) => {
                if let (Value::Map(dm), Value::Map(sm)) = (&mut *dv, sv) {
                    merge_maps(dm, sm, overwrite);
                } else if overwrite || dv.is_empty() {
                    *dv = sv.clone();
                }
            }
        }
    }
}

fn merge_impl(name: &str, args: &[Value], overwrite: bool) -> FuncResult {
    at_least(name, args, 1)?;
    let mut dst = map_or_empty(expect_map(&args[0])?);
    for a in &args[1..] {
        if let Some(src) = expect_map(a)? {
            merge_maps(&mut dst, src, overwrite);
        }
    }
    Ok(Value::Map(dst))
}

/// `merge DST SRCS…`: DST deep-merged with each SRC, DST's non-empty values winning (see
/// [`merge_maps`]). Sprig changes DST itself; this returns the merged copy.
pub fn merge(args: &[Value]) -> FuncResult {
    merge_impl("merge", args, false)
}

/// `mustMerge DST SRCS…`.
pub fn must_merge(args: &[Value]) -> FuncResult {
    merge_impl("mustMerge", args, false)
}

/// `mergeOverwrite DST SRCS…`: DST deep-merged with each SRC, SRC winning — even with null or
/// empty values (see [`merge_maps`]). Sprig changes DST itself; this returns the copy.
pub fn merge_overwrite(args: &[Value]) -> FuncResult {
    merge_impl("mergeOverwrite", args, true)
}

/// `mustMergeOverwrite DST SRCS…`.
pub fn must_merge_overwrite(args: &[Value]) -> FuncResult {
    merge_impl("mustMergeOverwrite", args, true)
}

fn deep_copy_impl(name: &str, args: &[Value]) -> FuncResult {
    exactly(name, args, 1)?;
    if args[0].is_null() {
        return Err(call_error(
            name,
            "reflect: call of reflect.Value.Type on zero Value",
        ));
    }
    Ok(args[0].clone())
}

/// `deepCopy VALUE`: an independent copy (null is an error, as in Sprig).
pub fn deep_copy(args: &[Value]) -> FuncResult {
    deep_copy_impl("deepCopy", args)
}

/// `mustDeepCopy VALUE`.
pub fn must_deep_copy(args: &[Value]) -> FuncResult {
    deep_copy_impl("mustDeepCopy", args)
}
