//! Named templates in native charts: `{% define "name" %}…{% enddefine %}` blocks are lifted
//! out of template files before minijinja sees them (it has no such tag), so `include`
//! can render them by name from Helm's single namespace across a chart and its subcharts.

/// A named template lifted out of a file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Define {
    /// The name given to `define`.
    pub name: String,
    /// Its body, preceded by a comment holding as many line breaks as come before the body
    /// in the file, so errors inside it report the file's own line numbers.
    pub source: String,
}

/// A `define` block that is not closed, nested, or unnamed.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("line {line}: {message}")]
pub struct DefineError {
    /// 1-based line of the offending tag.
    pub line: usize,
    /// What is wrong.
    pub message: String,
}

/// Splits a template file into the text that remains (define blocks replaced by comments
/// spanning the same lines) and the defines it holds.
pub fn extract(src: &str) -> Result<(String, Vec<Define>), DefineError> {
    let mut host = String::with_capacity(src.len());
    let mut defines = Vec::new();
    let mut pos = 0;
    while let Some(tag) = next_tag(src, pos) {
        match tag.word {
            "define" => {
                let name = parse_name(tag.rest).ok_or_else(|| DefineError {
                    line: line_of(src, tag.start),
                    message: "define needs a quoted name: {% define \"app.name\" %}".into(),
                })?;
                let close = find_enddefine(src, tag.end).ok_or_else(|| DefineError {
                    line: line_of(src, tag.start),
                    message: format!("define {name:?} has no matching {{% enddefine %}}"),
                })?;
                let mut body = &src[tag.end..close.start];
                if tag.trim_after {
                    body = body.trim_start();
                }
                if close.trim_before {
                    body = body.trim_end();
                }
                let body_start = src.len() - src[tag.end..].trim_start().len();
                let pad_line = if tag.trim_after { body_start } else { tag.end };
                let newlines_before = src[..pad_line].matches('\n').count();
                let mut source = String::with_capacity(body.len() + newlines_before + 4);
                if newlines_before > 0 {
                    source.push_str("{#");
                    source.push_str(&"\n".repeat(newlines_before));
                    source.push_str("#}");
                }
                source.push_str(body);
                defines.push(Define { name, source });
                // Keep the host's line structure and whitespace control.
                host.push_str(&src[pos..tag.start]);
                let spanned = src[tag.start..close.end].matches('\n').count();
                host.push_str(if tag.trim_before { "{#-" } else { "{#" });
                host.push_str(&"\n".repeat(spanned));
                host.push_str(if close.trim_after { "-#}" } else { "#}" });
                pos = close.end;
            }
            "enddefine" => {
                return Err(DefineError {
                    line: line_of(src, tag.start),
                    message: "enddefine without a define".into(),
                });
            }
            _ => {
                host.push_str(&src[pos..tag.end]);
                pos = tag.end;
            }
        }
    }
    host.push_str(&src[pos..]);
    Ok((host, defines))
}

struct Tag<'a> {
    start: usize,
    end: usize,
    word: &'a str,
    rest: &'a str,
    trim_before: bool,
    trim_after: bool,
}

/// The next `{% … %}` tag at or after `from`, skipping comments and raw blocks.
fn next_tag(src: &str, from: usize) -> Option<Tag<'_>> {
    let mut i = from;
    let bytes = src.as_bytes();
    while let Some(off) = src[i..].find('{') {
        let start = i + off;
        match bytes.get(start + 1) {
            Some(b'#') => {
                i = src[start..].find("#}").map_or(src.len(), |e| start + e + 2);
            }
            Some(b'{') => {
                i = src[start..].find("}}").map_or(src.len(), |e| start + e + 2);
            }
            Some(b'%') => {
                let close = src[start..].find("%}")? + start;
                let end = close + 2;
                let mut inner = &src[start + 2..close];
                let trim_before = inner.starts_with('-');
                inner = inner.trim_start_matches(['-', '+']);
                let trim_after = inner.ends_with('-');
                inner = inner.trim_end_matches(['-', '+']).trim();
                let (word, rest) = inner.split_once(char::is_whitespace).unwrap_or((inner, ""));
                if word == "raw" {
                    // Everything up to endraw is literal text.
                    let endraw = find_word_tag(src, end, "endraw").map_or(src.len(), |t| t.end);
                    return Some(Tag {
                        start,
                        end: endraw,
                        word: "raw",
                        rest: "",
                        trim_before,
                        trim_after,
                    });
                }
                return Some(Tag {
                    start,
                    end,
                    word,
                    rest: rest.trim(),
                    trim_before,
                    trim_after,
                });
            }
            _ => i = start + 1,
        }
    }
    None
}

fn find_word_tag<'a>(src: &'a str, from: usize, word: &str) -> Option<Tag<'a>> {
    let mut pos = from;
    while let Some(tag) = next_tag(src, pos) {
        if tag.word == word {
            return Some(tag);
        }
        pos = tag.end;
    }
    None
}

fn find_enddefine(src: &str, from: usize) -> Option<Tag<'_>> {
    let mut pos = from;
    while let Some(tag) = next_tag(src, pos) {
        match tag.word {
            "enddefine" => return Some(tag),
            "define" => return None,
            _ => pos = tag.end,
        }
    }
    None
}

fn parse_name(rest: &str) -> Option<String> {
    let quote = rest.chars().next().filter(|c| *c == '"' || *c == '\'')?;
    let inner = &rest[1..];
    let end = inner.find(quote)?;
    let name = &inner[..end];
    (!name.is_empty() && inner[end + 1..].trim().is_empty()).then(|| name.to_owned())
}

fn line_of(src: &str, pos: usize) -> usize {
    src[..pos].matches('\n').count() + 1
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lifts_defines_and_keeps_lines() {
        let src = "a\n{{- define \"x\" }}\n{% define \"app.name\" -%}\n  {{ Chart.Name }}\n{%- enddefine %}\nb {{ 1 }}\n";
        let (host, defs) = extract(src).unwrap();
        assert_eq!(defs.len(), 1);
        assert_eq!(defs[0].name, "app.name");
        // The body begins on line 4 of the file; three line breaks precede it.
        assert_eq!(defs[0].source, "{#\n\n\n#}{{ Chart.Name }}");
        assert_eq!(host.lines().count(), src.lines().count());
        assert!(host.ends_with("#}\nb {{ 1 }}\n"), "{host:?}");
        assert!(!host.contains("define \"app.name\""));
    }

    #[test]
    fn whitespace_control_and_several_defines() {
        let src =
            "{{/* c */}}\n{%- define 'a' %}A{% enddefine -%}\n{% define \"b\" %}B\n{% enddefine %}";
        let (host, defs) = extract(src).unwrap();
        let names: Vec<_> = defs.iter().map(|d| d.name.as_str()).collect();
        assert_eq!(names, ["a", "b"]);
        assert_eq!(defs[1].source, "{#\n\n#}B\n");
        assert!(host.contains("{#-") && host.contains("-#}"), "{host:?}");
    }

    #[test]
    fn comments_raw_and_expressions_are_not_scanned() {
        let src =
            "{# {% define \"no\" %} #}{% raw %}{% define \"no2\" %}{% endraw %}{{ '{% define' }}";
        let (host, defs) = extract(src).unwrap();
        assert!(defs.is_empty());
        assert_eq!(host, src);
    }

    #[test]
    fn errors_name_the_line() {
        let e = extract("x\n{% define \"a\" %}never closed").unwrap_err();
        assert_eq!(e.line, 2);
        assert!(e.message.contains("enddefine"));
        let e = extract("{% define %}{% enddefine %}").unwrap_err();
        assert!(e.message.contains("quoted name"));
        let e = extract("{% enddefine %}").unwrap_err();
        assert!(e.message.contains("without a define"));
        let e = extract("{% define \"a\" %}{% define \"b\" %}{% enddefine %}").unwrap_err();
        assert!(e.message.contains("no matching"));
    }
}
