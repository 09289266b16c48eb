//! Every chart of the shared corpus (`../shared/corpus`) loads, and for every variant the
//! values compute (schemas pass, as they did for Helm) with the same subcharts enabled as
//! Helm rendered, per the `# Source:` paths of its expected output.

mod common;

use pack::chart::Chart;
use pack::values::{self, ValueOptions};
use std::collections::BTreeSet;
use std::path::Path;

struct Variant {
    name: String,
    chart: String,
    args: Vec<String>,
}

/// Variants of `index.tsv` (expected output in `expected/`) and of
/// `expected_extra/INDEX.tsv` (in `expected_extra/`), with the directory of their output.
fn variants(corpus: &Path) -> Vec<(Variant, &'static str)> {
    let parse = |file: &str, dir: &'static str, command_of: fn(&str) -> Option<&str>| {
        let index = std::fs::read_to_string(corpus.join(file)).expect(file);
        index
            .lines()
            .skip(1)
            .filter(|l| !l.trim().is_empty())
            .filter_map(|line| {
                let cols: Vec<&str> = line.split('\t').collect();
                let command = command_of(cols[cols.len() - 1])?;
                let words: Vec<String> = command.split_whitespace().map(str::to_owned).collect();
                // helm template rel charts/<name> --namespace ns1 --kube-version 1.31.0 [extra…]
                Some((
                    Variant {
                        name: cols[0].to_owned(),
                        chart: words[3].clone(),
                        args: words[4..].to_vec(),
                    },
                    dir,
                ))
            })
            .collect::<Vec<_>>()
    };
    fn whole(cell: &str) -> Option<&str> {
        Some(cell)
    }
    fn after_args(cell: &str) -> Option<&str> {
        cell.split_once("args=").map(|(_, c)| c)
    }
    let mut all = parse("index.tsv", "expected", whole);
    all.extend(parse(
        "expected_extra/INDEX.tsv",
        "expected_extra",
        after_args,
    ));
    all
}

fn value_options(args: &[String], corpus: &Path) -> ValueOptions {
    let mut o = ValueOptions::default();
    let mut it = args.iter();
    while let Some(flag) = it.next() {
        match flag.as_str() {
            "--namespace" | "--kube-version" | "-n" => {
                it.next();
            }
            "-f" | "--values" => o
                .values_files
                .push(corpus.join(it.next().unwrap()).display().to_string()),
            "--set" => o.set.push(it.next().unwrap().clone()),
            "--set-string" => o.set_string.push(it.next().unwrap().clone()),
            other => panic!("flag {other} not handled by this test"),
        }
    }
    o
}

/// `a/b` paths of the enabled, non-library subcharts.
fn enabled(chart: &Chart, prefix: &str, out: &mut BTreeSet<String>) {
    for sub in &chart.dependencies {
        let path = format!("{prefix}{}", sub.name());
        if !sub.metadata.is_library() {
            out.insert(path.clone());
        }
        enabled(sub, &format!("{path}/"), out);
    }
}

/// Subchart paths Helm rendered documents for (`# Source: <root>/charts/a/charts/b/…`).
fn rendered_subcharts(expected: &str) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    for line in expected.lines() {
        let Some(source) = line.strip_prefix("# Source: ") else {
            continue;
        };
        let parts: Vec<&str> = source.split('/').collect();
        let mut path = Vec::new();
        let mut i = 1;
        while i + 1 < parts.len() && parts[i] == "charts" {
            path.push(parts[i + 1]);
            i += 2;
        }
        if !path.is_empty() {
            out.insert(path.join("/"));
        }
    }
    out
}

#[test]
fn corpus_charts_load_and_enable_what_helm_rendered() {
    let Some(shared) = common::shared_dir() else {
        return;
    };
    let corpus = shared.join("corpus");
    let charts: Vec<_> = std::fs::read_dir(corpus.join("charts"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    assert!(charts.len() >= 20, "corpus has {} charts", charts.len());
    let mut failures = Vec::new();
    for dir in &charts {
        if let Err(e) = pack::chart::load(dir) {
            failures.push(format!("{}: {e}", dir.display()));
        }
    }
    let all = variants(&corpus);
    assert!(all.len() >= 29 + 88, "only {} variants", all.len());
    for (v, dir) in &all {
        let mut chart = match pack::chart::load(&corpus.join(&v.chart)) {
            Ok(c) => c,
            Err(e) => {
                failures.push(format!("{}: load: {e}", v.name));
                continue;
            }
        };
        let user =
            match value_options(&v.args, &corpus).build(chart.engine(), &mut std::io::empty()) {
                Ok(l) => l,
                Err(e) => {
                    failures.push(format!("{}: values: {e}", v.name));
                    continue;
                }
            };
        if let Err(e) = values::compute(&mut chart, &user, false) {
            failures.push(format!("{}: compute: {e}", v.name));
            continue;
        }
        let expected = std::fs::read_to_string(corpus.join(format!("{dir}/{}.yaml", v.name)))
            .expect("expected output");
        let helm = rendered_subcharts(&expected);
        let mut ours = BTreeSet::new();
        enabled(&chart, "", &mut ours);
        let missing: Vec<_> = helm.difference(&ours).collect();
        if !missing.is_empty() {
            failures.push(format!(
                "{}: Helm rendered subcharts pack did not enable: {missing:?} (pack: {ours:?})",
                v.name
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
