//! Sprig's path functions with Go's `path` semantics (`base`, `dir`, `ext`, `clean`,
//! `isAbs`) and their `filepath` twins (`osBase`…, the same on a Unix host), plus Helm's
//! `getHostByName`, which answers "" unless DNS lookups are enabled (pack never enables them).

use super::args::{exactly, expect_str, piped_last};
use super::{Func, FuncResult};
use crate::value::Value;

/// Go's `path.Clean`: the shortest equivalent path by lexical processing.
pub fn clean(p: &str) -> String {
    if p.is_empty() {
        return ".".into();
    }
    let rooted = p.starts_with('/');
    let mut parts: Vec<&str> = Vec::new();
    for seg in p.split('/') {
        match seg {
            "" | "." => {}
            ".." => {
                if parts.last().is_some_and(|l| *l != "..") {
                    parts.pop();
                } else if !rooted {
                    parts.push("..");
                }
            }
            s => parts.push(s),
        }
    }
    let joined = parts.join("/");
    match (rooted, joined.is_empty()) {
        (true, _) => format!("/{joined}"),
        (false, true) => ".".into(),
        (false, false) => joined,
    }
}

/// Go's `path.Base`: the last element, trailing slashes removed.
pub fn base(p: &str) -> String {
    if p.is_empty() {
        return ".".into();
    }
    let trimmed = p.trim_end_matches('/');
    if trimmed.is_empty() {
        return "/".into();
    }
    trimmed.rsplit('/').next().unwrap_or(trimmed).to_owned()
}

/// Go's `path.Ext`: the suffix from the last dot of the last element.
pub fn ext(p: &str) -> String {
    let last = p.rsplit('/').next().unwrap_or(p);
    last.rfind('.')
        .map_or_else(String::new, |i| last[i..].to_owned())
}

/// Go's `path.Dir`: everything but the last element, cleaned.
pub fn dir(p: &str) -> String {
    let cut = p.rfind('/').map_or(0, |i| i + 1);
    clean(&p[..cut])
}

fn one(name: &str, args: &[Value], f: fn(&str) -> String) -> FuncResult {
    let a = exactly(name, args, 1)?;
    Ok(Value::String(f(expect_str(&a[0])?)))
}

macro_rules! path_fn {
    ($fname:ident, $name:literal, $f:expr) => {
        fn $fname(args: &[Value]) -> FuncResult {
            one($name, args, $f)
        }
    };
}

path_fn!(base_fn, "base", base);
path_fn!(dir_fn, "dir", dir);
path_fn!(ext_fn, "ext", ext);
path_fn!(clean_fn, "clean", clean);
path_fn!(os_base_fn, "osBase", base);
path_fn!(os_dir_fn, "osDir", dir);
path_fn!(os_ext_fn, "osExt", ext);
path_fn!(os_clean_fn, "osClean", clean);

fn is_abs(args: &[Value]) -> FuncResult {
    let a = exactly("isAbs", args, 1)?;
    Ok(Value::Bool(expect_str(&a[0])?.starts_with('/')))
}

fn os_is_abs(args: &[Value]) -> FuncResult {
    let a = exactly("osIsAbs", args, 1)?;
    Ok(Value::Bool(expect_str(&a[0])?.starts_with('/')))
}

fn get_host_by_name(args: &[Value]) -> FuncResult {
    let a = exactly("getHostByName", args, 1)?;
    expect_str(&a[0])?;
    Ok(Value::String(String::new()))
}

/// The path functions.
pub const FUNCS: &[Func] = &[
    piped_last("base", base_fn),
    piped_last("dir", dir_fn),
    piped_last("ext", ext_fn),
    piped_last("clean", clean_fn),
    piped_last("isAbs", is_abs),
    piped_last("osBase", os_base_fn),
    piped_last("osDir", os_dir_fn),
    piped_last("osExt", os_ext_fn),
    piped_last("osClean", os_clean_fn),
    piped_last("osIsAbs", os_is_abs),
    piped_last("getHostByName", get_host_by_name),
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn go_path_semantics() {
        for (p, want) in [
            ("", "."),
            ("a/../..", ".."),
            ("/../a", "/a"),
            ("a//b/./c/", "a/b/c"),
            ("/", "/"),
        ] {
            assert_eq!(clean(p), want, "clean({p:?})");
        }
        assert_eq!(base("a/b/"), "b");
        assert_eq!(base("///"), "/");
        assert_eq!(base(""), ".");
        assert_eq!(dir("a/b/c"), "a/b");
        assert_eq!(dir("c"), ".");
        assert_eq!(dir("/c"), "/");
        assert_eq!(ext("a/b.tar.gz"), ".gz");
        assert_eq!(ext("a.b/c"), "");
    }
}
