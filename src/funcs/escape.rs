//! Go's template escapers available to every template: `urlquery`, `html`, `js`. Each
//! prints its arguments like `fmt.Sprint` and escapes the result.

use super::format::go_sprint;
use super::{Func, FuncResult, Pipe};
use crate::value::Value;

/// `urlquery`: escaped for a URL query (`url.QueryEscape`: space → `+`).
pub fn urlquery(args: &[Value]) -> FuncResult {
    let text = go_sprint(args);
    let mut out = String::with_capacity(text.len());
    for b in text.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                out.push(b as char)
            }
            b' ' => out.push('+'),
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    Ok(Value::String(out))
}

/// `html`: escaped for HTML text (`&`, `<`, `>`, `"`, `'`, NUL).
pub fn html(args: &[Value]) -> FuncResult {
    let text = go_sprint(args);
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&#34;"),
            '\'' => out.push_str("&#39;"),
            '\0' => out.push('\u{FFFD}'),
            c => out.push(c),
        }
    }
    Ok(Value::String(out))
}

/// `js`: escaped for a JavaScript string (quotes, backslash, `<>&=`, controls).
pub fn js(args: &[Value]) -> FuncResult {
    let text = go_sprint(args);
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '\'' => out.push_str("\\'"),
            '"' => out.push_str("\\\""),
            '<' => out.push_str("\\u003C"),
            '>' => out.push_str("\\u003E"),
            '&' => out.push_str("\\u0026"),
            '=' => out.push_str("\\u003D"),
            c if (c as u32) < 0x20 => out.push_str(&format!("\\u{:04X}", c as u32)),
            // Go keeps printable non-ASCII runes and escapes the rest (U+2028…).
            c if !c.is_ascii() && !super::format::go_is_print(c) => {
                out.push_str(&format!("\\u{:04X}", c as u32));
            }
            c => out.push(c),
        }
    }
    Ok(Value::String(out))
}

/// Go's escaping functions.
pub const FUNCS: &[Func] = &[
    Func {
        name: "urlquery",
        call: urlquery,
        pipe: Pipe::Last,
    },
    Func {
        name: "html",
        call: html,
        pipe: Pipe::Last,
    },
    Func {
        name: "js",
        call: js,
        pipe: Pipe::Last,
    },
];

#[cfg(test)]
mod tests {
    use super::*;

    fn s(v: &str) -> Value {
        Value::from(v)
    }

    #[test]
    fn escapes_like_go() {
        assert_eq!(urlquery(&[s("a b&c/é")]).unwrap(), s("a+b%26c%2F%C3%A9"));
        assert_eq!(
            html(&[s("<a href=\"x\">'&'</a>")]).unwrap(),
            s("&lt;a href=&#34;x&#34;&gt;&#39;&amp;&#39;&lt;/a&gt;")
        );
        assert_eq!(
            js(&[s("it's \"x\" <b>=\n")]).unwrap(),
            s("it\\'s \\\"x\\\" \\u003Cb\\u003E\\u003D\\u000A")
        );
    }
}
