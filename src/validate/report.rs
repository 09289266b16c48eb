//! Validating many documents at once (manifest files, a rendered chart): CRDs among them
//! are learnt first, each problem is placed on a line of its file or template, duplicate
//! objects are found, and the findings print as text, JSON or JUnit XML.

use super::{Validator, Verdict};
use crate::value::Value;
use crate::value::yaml::{self, Flavor};
use std::borrow::Cow;
use std::collections::HashMap;

/// One document to check.
#[derive(Clone, Debug)]
pub struct Input<'a> {
    /// Its file, or for a rendered document its template (`chart/templates/x.yaml`).
    pub file: String,
    /// The 1-based line of the file where the document starts (0 for rendered documents).
    pub line: usize,
    /// The document's text, to find the line of a field.
    pub text: &'a str,
    /// The parsed document (borrowed from a rendered manifest), or why it does not parse.
    pub object: Result<Cow<'a, Value>, String>,
    /// For a rendered document, its template's source, to point at the template line.
    pub template_source: Option<&'a str>,
}

/// Whether an object passed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Status {
    /// It matches its schema.
    Valid,
    /// It has problems.
    Invalid,
    /// No schema: a custom resource whose CRD was not given.
    Skipped,
}

/// A problem placed on a line (0 when no line could be found).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Located {
    /// 1-based line in the file or template.
    pub line: usize,
    /// JSON path of the field.
    pub path: String,
    /// What is wrong.
    pub message: String,
}

/// What checking one document found.
#[derive(Clone, Debug)]
pub struct Finding {
    /// Its file or template.
    pub file: String,
    /// The line the document starts on (0 when unknown).
    pub line: usize,
    /// `apiVersion`.
    pub api_version: String,
    /// `kind`.
    pub kind: String,
    /// `metadata.name`.
    pub name: String,
    /// `metadata.namespace`.
    pub namespace: String,
    /// The verdict.
    pub status: Status,
    /// The problems (for a skipped object, one saying why).
    pub problems: Vec<Located>,
}

impl Finding {
    /// `Kind/name` for messages.
    pub fn id(&self) -> String {
        format!(
            "{}/{}",
            if self.kind.is_empty() {
                "?"
            } else {
                &self.kind
            },
            if self.name.is_empty() {
                "?"
            } else {
                &self.name
            }
        )
    }
}

/// How many objects make it worth validating (or parsing) on two threads.
const PARALLEL_OBJECTS: usize = 64;

/// The documents of a multi-document YAML (or JSON) file, with the lines they start on
/// (parsed on this thread).
pub fn documents<'a>(file: &str, text: &'a str) -> Vec<Input<'a>> {
    documents_with(&[(file.to_owned(), text)], false)
}

/// The documents of several files (name, text), parsed on two threads when there are many.
pub fn documents_of<'a>(files: &[(String, &'a str)]) -> Vec<Input<'a>> {
    documents_with(files, true)
}

fn documents_with<'a>(files: &[(String, &'a str)], parallel: bool) -> Vec<Input<'a>> {
    let mut raw: Vec<(&str, usize, &'a str)> = Vec::new();
    for (file, text) in files {
        let mut line = 1;
        let mut counted = 0;
        for (offset, doc) in crate::manifest::documents(text) {
            if doc.trim().is_empty() {
                continue;
            }
            let lead = doc.len() - doc.trim_start().len();
            line += text.as_bytes()[counted..offset + lead]
                .iter()
                .filter(|b| **b == b'\n')
                .count();
            counted = offset + lead;
            raw.push((file.as_str(), line, &doc[lead..]));
        }
    }
    let parse = |(_, _, doc): &(&str, usize, &'a str)| {
        yaml::from_str(doc, Flavor::Yaml11).map_err(|e| e.to_string())
    };
    let parsed: Vec<Result<Value, String>> = if parallel && raw.len() >= PARALLEL_OBJECTS {
        crate::manifest::map_on_two_cores(&raw, &parse)
    } else {
        raw.iter().map(parse).collect()
    };
    raw.into_iter()
        .zip(parsed)
        .filter(|(_, object)| !matches!(object, Ok(v) if v.is_null()))
        .map(|((file, line, text), object)| Input {
            file: file.to_owned(),
            line,
            text,
            object: object.map(Cow::Owned),
            template_source: None,
        })
        .collect()
}

fn str_at<'v>(v: &'v Value, path: &[&str]) -> &'v str {
    v.get_path(path.iter().copied())
        .and_then(Value::as_str)
        .unwrap_or_default()
}

/// The rendered objects of a chart as inputs, each pointing at its template; the chart's
/// `crds/` files are learnt by the validator first (rendered CRDs are learnt by [`check`]).
pub fn rendered<'a>(
    validator: &mut Validator,
    docs: impl IntoIterator<Item = &'a crate::manifest::Manifest>,
    crd_files: &[(String, String)],
    sources: &'a HashMap<String, std::sync::Arc<str>>,
) -> Vec<Input<'a>> {
    for (_, text) in crd_files {
        for doc in yaml::from_str_multi(text, Flavor::Yaml11).unwrap_or_default() {
            if is_crd(&doc) {
                // A broken CRD file is the API server's to refuse; its kinds stay unknown.
                let _ = validator.add_crd(&doc);
            }
        }
    }
    docs.into_iter()
        .filter(|d| !d.object.is_null())
        .map(|d| Input {
            file: d.source.clone(),
            line: 0,
            text: &d.content,
            object: Ok(Cow::Borrowed(&d.object)),
            template_source: sources.get(&d.source).map(|s| &**s),
        })
        .collect()
}

/// Whether a document is a CRD pack can learn a schema from.
pub fn is_crd(v: &Value) -> bool {
    str_at(v, &["kind"]) == "CustomResourceDefinition"
        && str_at(v, &["apiVersion"]).starts_with("apiextensions.k8s.io/")
}

/// Checks every document: CRDs among them are learnt first (so their custom resources are
/// checked wherever they appear), then each object is validated and a second object in
/// the same file (or rendered chart) with the same group, kind, namespace and name is
/// reported as a duplicate.
pub fn check(validator: &mut Validator, inputs: &[Input<'_>]) -> Vec<Finding> {
    learn_crds(validator, inputs);
    check_learned(validator, inputs, true)
}

/// Learns the CRDs among the inputs (broken ones are reported by [`check_learned`]).
pub fn learn_crds(validator: &mut Validator, inputs: &[Input<'_>]) {
    for input in inputs {
        if let Ok(v) = &input.object
            && is_crd(v)
        {
            let _ = validator.add_crd(v);
        }
    }
}

/// [`check`] with the CRDs already learnt, so one validator can serve several threads;
/// `parallel` checks the inputs on two threads when there are many.
pub fn check_learned(validator: &Validator, inputs: &[Input<'_>], parallel: bool) -> Vec<Finding> {
    let mut crd_errors: HashMap<usize, String> = HashMap::new();
    for (i, input) in inputs.iter().enumerate() {
        if let Ok(v) = &input.object
            && is_crd(v)
            && let Err(e) = super::crds::check(v)
        {
            crd_errors.insert(i, e);
        }
    }
    type Key = (String, String, String, String);
    let mut seen: HashMap<Key, (String, usize), foldhash::fast::RandomState> = HashMap::default();
    let rendered = inputs.iter().any(|i| i.template_source.is_some());
    let verdicts: Vec<Option<Verdict>> = {
        let one = |input: &Input<'_>| input.object.as_ref().ok().map(|o| validator.validate(o));
        if parallel && inputs.len() >= PARALLEL_OBJECTS {
            crate::manifest::map_on_two_cores(inputs, &one)
        } else {
            inputs.iter().map(one).collect()
        }
    };
    let mut out = Vec::with_capacity(inputs.len());
    for ((i, input), verdict) in inputs.iter().enumerate().zip(verdicts) {
        let obj = match &input.object {
            Ok(v) => v,
            Err(e) => {
                out.push(Finding {
                    file: input.file.clone(),
                    line: input.line,
                    api_version: String::new(),
                    kind: String::new(),
                    name: String::new(),
                    namespace: String::new(),
                    status: Status::Invalid,
                    problems: vec![Located {
                        line: input.line,
                        path: String::new(),
                        message: format!("not valid YAML: {e}"),
                    }],
                });
                continue;
            }
        };
        let api_version = str_at(obj, &["apiVersion"]).to_owned();
        let kind = str_at(obj, &["kind"]).to_owned();
        let name = str_at(obj, &["metadata", "name"]).to_owned();
        let namespace = str_at(obj, &["metadata", "namespace"]).to_owned();
        let (mut status, mut problems) = match verdict.unwrap_or(Verdict::Valid) {
            Verdict::Valid => (Status::Valid, Vec::new()),
            Verdict::Skipped(why) => (
                Status::Skipped,
                vec![Located {
                    line: input.line,
                    path: String::new(),
                    message: why,
                }],
            ),
            Verdict::Invalid(found) => (
                Status::Invalid,
                found
                    .into_iter()
                    .map(|p| Located {
                        line: place(input, &p.path),
                        path: p.path,
                        message: p.message,
                    })
                    .collect(),
            ),
        };
        problems.sort_by_key(|p| p.line);
        if let Some(e) = crd_errors.get(&i) {
            status = Status::Invalid;
            problems.push(Located {
                line: input.line,
                path: "spec".into(),
                message: e.clone(),
            });
        }
        if !name.is_empty() && !kind.is_empty() {
            let group = api_version
                .rsplit_once('/')
                .map_or("", |(g, _)| g)
                .to_owned();
            // Manifest files are units of their own; a rendered chart is one unit.
            let unit = if rendered {
                group
            } else {
                format!("{}\0{group}", input.file)
            };
            let key = (unit, kind.clone(), namespace.clone(), name.clone());
            match seen.get(&key) {
                Some((file, line)) => {
                    status = Status::Invalid;
                    problems.push(Located {
                        line: input.line,
                        path: String::new(),
                        message: format!(
                            "duplicate object: {}/{name} is already defined at {file}:{line}",
                            kind
                        ),
                    });
                }
                None => {
                    seen.insert(key, (input.file.clone(), input.line));
                }
            }
        }
        out.push(Finding {
            file: input.file.clone(),
            line: input.line,
            api_version,
            kind,
            name,
            namespace,
            status,
            problems,
        });
    }
    out
}

/// The line of a field: in the file (document start + offset), or for a rendered document
/// the template line that produced the field's rendered line — or, when that line came
/// from values (`toYaml`), the nearest ancestor's.
fn place(input: &Input<'_>, path: &str) -> usize {
    let Some(src) = input.template_source else {
        return locate(input.text, path).map_or(input.line, |o| input.line + o);
    };
    let mut path = path;
    loop {
        if let Some(offset) = locate(input.text, path) {
            let rendered = input.text.lines().nth(offset).unwrap_or_default();
            let line = crate::manifest::template_line_for(src, rendered);
            if line > 0 {
                return line;
            }
        }
        match path.rfind(['.', '[']) {
            Some(cut) => path = &path[..cut],
            None => return 0,
        }
    }
}

/// The 0-based line of a block-style YAML document where the field at `path`
/// (`spec.containers[0].image`) is written; the deepest ancestor found when the field
/// itself is not written (a missing required field), `None` for flow-style text.
pub fn locate(text: &str, path: &str) -> Option<usize> {
    let lines: Vec<&str> = text.lines().collect();
    let mut at = 0usize;
    let mut found = None;
    // The column keys of the current mapping start at (after `- ` for a list item).
    let mut parent_col: Option<usize> = None;
    // The column of the dash of the list item we are in, if any.
    let mut item_dash: Option<usize> = None;
    for token in path_tokens(path) {
        match token {
            Token::Key(key) => {
                let mut hit = None;
                for (i, line) in lines.iter().enumerate().skip(at) {
                    let (col, rest) = key_column(line);
                    if rest.is_empty() || rest.starts_with('#') {
                        continue;
                    }
                    let indent = line.len() - line.trim_start().len();
                    let next_item = item_dash
                        .is_some_and(|d| indent == d && line.trim_start().starts_with('-'));
                    if i > at && (parent_col.is_some_and(|p| col < p) || next_item) {
                        break;
                    }
                    if parent_col.is_none_or(|p| col >= p) && key_matches(rest, key) {
                        hit = Some((i, col));
                        break;
                    }
                }
                let Some((i, col)) = hit else {
                    return found;
                };
                found = Some(i);
                at = i + 1;
                parent_col = Some(col + 1);
                item_dash = None;
            }
            Token::Index(n) => {
                let mut seen = 0;
                let mut item_col = None;
                let mut hit = None;
                for (i, line) in lines.iter().enumerate().skip(at) {
                    let indent = line.len() - line.trim_start().len();
                    let rest = line.trim_start();
                    if rest.is_empty() || rest.starts_with('#') {
                        continue;
                    }
                    if rest.starts_with("- ") || rest == "-" {
                        let col = *item_col.get_or_insert(indent);
                        if indent == col {
                            if seen == n {
                                hit = Some((i, indent + 2));
                                break;
                            }
                            seen += 1;
                        }
                    } else if item_col.is_some_and(|c| indent <= c)
                        && parent_col.is_none_or(|p| indent < p)
                    {
                        break;
                    }
                }
                let Some((i, col)) = hit else {
                    return found;
                };
                found = Some(i);
                // The item's first key sits on the dash line; later keys on their own.
                at = i;
                parent_col = Some(col);
                item_dash = Some(col - 2);
            }
        }
    }
    found
}

enum Token<'p> {
    Key(&'p str),
    Index(usize),
}

fn path_tokens(path: &str) -> Vec<Token<'_>> {
    let mut out = Vec::new();
    for part in path.split('.').filter(|p| !p.is_empty()) {
        let (key, indexes) = part.split_once('[').map_or((part, ""), |(k, r)| (k, r));
        if !key.is_empty() {
            out.push(Token::Key(key));
        }
        for idx in indexes.split('[') {
            if let Ok(n) = idx.trim_end_matches(']').parse() {
                out.push(Token::Index(n));
            }
        }
    }
    out
}

/// The column where a line's key starts (after any `- ` item markers) and the rest.
fn key_column(line: &str) -> (usize, &str) {
    let mut col = line.len() - line.trim_start().len();
    let mut rest = line.trim_start();
    while let Some(r) = rest.strip_prefix("- ") {
        let trimmed = r.trim_start();
        col += rest.len() - trimmed.len();
        rest = trimmed;
    }
    (col, rest)
}

fn key_matches(rest: &str, key: &str) -> bool {
    let unquoted = rest
        .strip_prefix('"')
        .and_then(|r| r.strip_prefix(key))
        .and_then(|r| r.strip_prefix('"'))
        .or_else(|| {
            rest.strip_prefix('\'')
                .and_then(|r| r.strip_prefix(key))
                .and_then(|r| r.strip_prefix('\''))
        })
        .or_else(|| rest.strip_prefix(key));
    unquoted.is_some_and(|r| r.starts_with(':'))
}

/// Counts of valid, invalid and skipped objects.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Summary {
    /// Objects that passed.
    pub valid: usize,
    /// Objects with problems.
    pub invalid: usize,
    /// Custom resources without a schema.
    pub skipped: usize,
}

/// The counts of a set of findings.
pub fn summary(findings: &[Finding]) -> Summary {
    let mut s = Summary::default();
    for f in findings {
        match f.status {
            Status::Valid => s.valid += 1,
            Status::Invalid => s.invalid += 1,
            Status::Skipped => s.skipped += 1,
        }
    }
    s
}

/// One line per problem: `file:line Kind/name: path: message`.
pub fn problem_lines(f: &Finding) -> Vec<String> {
    f.problems
        .iter()
        .map(|p| {
            let at = if p.line > 0 {
                format!("{}:{}", f.file, p.line)
            } else {
                f.file.clone()
            };
            let path = if p.path.is_empty() {
                String::new()
            } else {
                format!("{}: ", p.path)
            };
            format!("{at} {}: {path}{}", f.id(), p.message)
        })
        .collect()
}

/// Every problem of the invalid findings, one line each (`file:line Kind/name: path: message`).
pub fn invalid_lines(findings: &[Finding]) -> Vec<String> {
    findings
        .iter()
        .filter(|f| f.status == Status::Invalid)
        .flat_map(problem_lines)
        .collect()
}

/// The findings as text: every problem, and with `verbose` a line per valid or skipped
/// object too.
pub fn text(findings: &[Finding], verbose: bool) -> String {
    let mut out = String::new();
    for f in findings {
        match f.status {
            Status::Invalid => {
                for l in problem_lines(f) {
                    out.push_str(&format!("INVALID {l}\n"));
                }
            }
            Status::Skipped if verbose => {
                for l in problem_lines(f) {
                    out.push_str(&format!("skipped {l}\n"));
                }
            }
            Status::Valid if verbose => {
                out.push_str(&format!("ok      {}:{} {}\n", f.file, f.line, f.id()));
            }
            _ => {}
        }
    }
    out
}

/// The findings as JSON: a summary and every object with its problems.
pub fn json(findings: &[Finding], release: &str) -> String {
    let s = summary(findings);
    let resources: Vec<serde_json::Value> = findings
        .iter()
        .map(|f| {
            serde_json::json!({
                "file": f.file,
                "line": f.line,
                "apiVersion": f.api_version,
                "kind": f.kind,
                "name": f.name,
                "namespace": f.namespace,
                "status": match f.status {
                    Status::Valid => "valid",
                    Status::Invalid => "invalid",
                    Status::Skipped => "skipped",
                },
                "problems": f.problems.iter().map(|p| serde_json::json!({
                    "line": p.line, "path": p.path, "message": p.message,
                })).collect::<Vec<_>>(),
            })
        })
        .collect();
    let doc = serde_json::json!({
        "kubernetesVersion": release,
        "summary": {"valid": s.valid, "invalid": s.invalid, "skipped": s.skipped},
        "resources": resources,
    });
    serde_json::to_string_pretty(&doc).unwrap_or_default() + "\n"
}

fn xml_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            c if (c as u32) < 0x20 && c != '\n' && c != '\t' => {}
            c => out.push(c),
        }
    }
    out
}

/// The findings as JUnit XML: one test case per object, grouped by file.
pub fn junit(findings: &[Finding]) -> String {
    let s = summary(findings);
    let mut out = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    out.push_str(&format!(
        "<testsuites name=\"pack validate\" tests=\"{}\" failures=\"{}\" skipped=\"{}\">\n",
        findings.len(),
        s.invalid,
        s.skipped
    ));
    let mut files: Vec<&str> = Vec::new();
    for f in findings {
        if !files.contains(&f.file.as_str()) {
            files.push(&f.file);
        }
    }
    for file in files {
        let cases: Vec<&Finding> = findings.iter().filter(|f| f.file == file).collect();
        let sub = summary(&cases.iter().map(|f| (*f).clone()).collect::<Vec<_>>());
        out.push_str(&format!(
            "  <testsuite name=\"{}\" tests=\"{}\" failures=\"{}\" skipped=\"{}\">\n",
            xml_escape(file),
            cases.len(),
            sub.invalid,
            sub.skipped
        ));
        for f in cases {
            out.push_str(&format!(
                "    <testcase classname=\"{}\" name=\"{}\"",
                xml_escape(file),
                xml_escape(&f.id())
            ));
            match f.status {
                Status::Valid => out.push_str("/>\n"),
                Status::Skipped => out.push_str(&format!(
                    "><skipped message=\"{}\"/></testcase>\n",
                    xml_escape(f.problems.first().map_or("", |p| p.message.as_str()))
                )),
                Status::Invalid => {
                    let lines = problem_lines(f).join("\n");
                    out.push_str(&format!(
                        "><failure message=\"{} problem(s)\">{}</failure></testcase>\n",
                        f.problems.len(),
                        xml_escape(&lines)
                    ));
                }
            }
        }
        out.push_str("  </testsuite>\n");
    }
    out.push_str("</testsuites>\n");
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const DOC: &str = "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\nspec:\n  replicas: 3\n  template:\n    spec:\n      containers:\n      - name: a\n        image: x\n      - name: b\n        image: y\n        ports:\n        - containerPort: 80\n";

    #[test]
    fn fields_are_found_on_their_lines() {
        assert_eq!(locate(DOC, "spec.replicas"), Some(5));
        assert_eq!(
            locate(DOC, "spec.template.spec.containers[0].name"),
            Some(9)
        );
        assert_eq!(
            locate(DOC, "spec.template.spec.containers[1].image"),
            Some(12)
        );
        assert_eq!(
            locate(
                DOC,
                "spec.template.spec.containers[1].ports[0].containerPort"
            ),
            Some(14)
        );
        // A missing field: its deepest written ancestor.
        assert_eq!(locate(DOC, "spec.selector"), Some(4));
        assert_eq!(locate(DOC, "metadata.name"), Some(3));
    }
}
