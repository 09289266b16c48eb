//! Real Helm charts render byte-identical to `helm template`: every variant of the shared
//! corpus (`../shared/corpus`: `index.tsv` and `expected_extra/INDEX.tsv`) is rendered by the
//! pack binary with the variant's exact arguments and compared with Helm's output, lines
//! Helm itself varies between runs (`.volatile`) masked; warnings on stderr must be Helm's
//! (`.stderr.txt`), or none.
//!
//! Its own test runner (`harness = false`): one result line per variant, a failing variant
//! shows its first difference; `cargo test --test corpus_render -- NAME` runs matching
//! variants only.

use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};

struct Variant {
    name: String,
    dir: &'static str,
    args: Vec<String>,
}

fn variants(corpus: &Path) -> Vec<Variant> {
    let mut out = Vec::new();
    let read = |file: &str| std::fs::read_to_string(corpus.join(file)).unwrap_or_default();
    for line in read("index.tsv").lines().skip(1) {
        let cols: Vec<&str> = line.split('\t').collect();
        if let (Some(name), Some(cmd)) = (cols.first(), cols.last()) {
            out.push(variant(name, "expected", cmd));
        }
    }
    for line in read("expected_extra/INDEX.tsv").lines().skip(1) {
        let cols: Vec<&str> = line.split('\t').collect();
        if cols.len() >= 3
            && cols[1] == "OK"
            && let Some((_, cmd)) = cols[2].split_once("args=")
        {
            out.push(variant(cols[0], "expected_extra", cmd));
        }
    }
    out
}

fn variant(name: &str, dir: &'static str, command: &str) -> Variant {
    // "helm template rel charts/x --namespace ns1 …": everything after `helm template`.
    let args = command
        .split_whitespace()
        .skip(2)
        .map(str::to_owned)
        .collect();
    Variant {
        name: name.to_owned(),
        dir,
        args,
    }
}

/// The first difference after masking volatile lines, or `None` when equal.
fn compare(expected: &str, actual: &str, volatile: &[usize]) -> Option<String> {
    let e: Vec<&str> = expected.split('\n').collect();
    let a: Vec<&str> = actual.split('\n').collect();
    for i in 0..e.len().max(a.len()) {
        if volatile.contains(&(i + 1)) {
            continue;
        }
        let (x, y) = (e.get(i), a.get(i));
        if x != y {
            return Some(format!(
                "line {}:\n    helm: {}\n    pack: {}",
                i + 1,
                x.map_or("<end>".to_owned(), |s| format!("{s:?}")),
                y.map_or("<end>".to_owned(), |s| format!("{s:?}"))
            ));
        }
    }
    None
}

fn run(corpus: &Path, pack: &Path, v: &Variant) -> Result<(), String> {
    let expected = std::fs::read_to_string(corpus.join(v.dir).join(format!("{}.yaml", v.name)))
        .map_err(|e| format!("expected output: {e}"))?;
    let volatile: Vec<usize> =
        std::fs::read_to_string(corpus.join(v.dir).join(format!("{}.volatile", v.name)))
            .unwrap_or_default()
            .split_whitespace()
            .filter_map(|n| n.parse().ok())
            .collect();
    let out = Command::new(pack)
        .arg("template")
        .args(&v.args)
        .current_dir(corpus)
        .env_remove("PACK_NAMESPACE")
        .output()
        .map_err(|e| format!("running pack: {e}"))?;
    if !out.status.success() {
        return Err(format!(
            "pack failed: {}",
            String::from_utf8_lossy(&out.stderr).trim()
        ));
    }
    let actual = String::from_utf8_lossy(&out.stdout);
    if let Some(d) = compare(&expected, &actual, &volatile) {
        return Err(d);
    }
    // Helm's warnings (stderr) where it printed any, else none.
    let want_err =
        std::fs::read_to_string(corpus.join(v.dir).join(format!("{}.stderr.txt", v.name)))
            .unwrap_or_default();
    let got_err = String::from_utf8_lossy(&out.stderr);
    if got_err.trim() != want_err.trim() {
        return Err(format!(
            "stderr differs:\n    helm: {:?}\n    pack: {:?}",
            want_err.trim(),
            got_err.trim()
        ));
    }
    Ok(())
}

fn main() -> ExitCode {
    let shared = Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared");
    if !shared.is_dir() {
        if std::env::var("CI").is_ok_and(|v| v == "true") {
            eprintln!("../shared is missing beside the project root");
            return ExitCode::FAILURE;
        }
        eprintln!("SKIPPED: ../shared is not beside the project root");
        return ExitCode::SUCCESS;
    }
    let corpus = shared.join("corpus");
    let pack = PathBuf::from(env!("CARGO_BIN_EXE_pack"));
    let filters: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| !a.starts_with('-'))
        .collect();
    let all = variants(&corpus);
    if all.len() < 29 + 88 {
        eprintln!("only {} corpus variants found", all.len());
        return ExitCode::FAILURE;
    }
    let selected: Vec<&Variant> = all
        .iter()
        .filter(|v| filters.is_empty() || filters.iter().any(|f| v.name.contains(f.as_str())))
        .collect();
    println!("\nrunning {} corpus variants", selected.len());
    let mut failed = Vec::new();
    for v in &selected {
        match run(&corpus, &pack, v) {
            Ok(()) => println!("test {} ... ok", v.name),
            Err(e) => {
                println!("test {} ... FAILED", v.name);
                failed.push((v.name.clone(), e));
            }
        }
    }
    for (name, e) in &failed {
        println!("\n---- {name} ----\n{e}");
    }
    println!(
        "\ncorpus: {} of {} variants byte-identical to helm",
        selected.len() - failed.len(),
        selected.len()
    );
    if failed.is_empty() {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}
