//! The fast YAML reader on real files: every values file, Chart.yaml and rendered document
//! of the shared corpus reads the same through it as through serde-saphyr alone, and the
//! fast reader reads nearly all of it itself.

mod common;

use pack::value::yaml::{self, Flavor};
use std::path::{Path, PathBuf};

fn yaml_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for e in entries.flatten() {
        let p = e.path();
        if p.is_dir() {
            yaml_files(&p, out);
        } else if matches!(p.extension().and_then(|x| x.to_str()), Some("yaml" | "yml")) {
            out.push(p);
        }
    }
}

#[test]
fn corpus_files_read_the_same_and_mostly_fast() {
    let Some(shared) = common::shared_dir() else {
        return;
    };
    let mut files = Vec::new();
    yaml_files(&shared.join("corpus"), &mut files);
    let (mut total, mut fast) = (0usize, 0usize);
    let mut left: Vec<String> = Vec::new();
    for f in &files {
        // Templates are not YAML until rendered; their rendered form is in expected/.
        if f.components().any(|c| c.as_os_str() == "templates") {
            continue;
        }
        let Ok(text) = std::fs::read_to_string(f) else {
            continue;
        };
        // Rendered outputs hold many documents; read each on its own, as pack does.
        for piece in text.split("\n---\n") {
            for flavor in [Flavor::Yaml11, Flavor::Core12] {
                // Debug output tells integers from floats and keeps key order.
                let both = format!("{:?}", yaml::from_str(piece, flavor));
                let full = format!("{:?}", yaml::from_str_full(piece, flavor));
                assert_eq!(both, full, "{} ({flavor:?}) reads differently", f.display());
            }
            total += piece.len();
            if yaml::fast_reader_accepts(piece, Flavor::Yaml11) {
                fast += piece.len();
            } else {
                left.push(format!("{} ({} bytes)", f.display(), piece.len()));
            }
        }
    }
    let share = fast as f64 / total as f64;
    eprintln!(
        "fast YAML reader: {fast} of {total} bytes ({:.1}%); left to serde-saphyr:\n  {}",
        share * 100.0,
        left.join("\n  ")
    );
    // What is left uses anchors and aliases (alertmanager's values, jenkins' unit tests).
    assert!(
        share > 0.95,
        "the fast reader read only {:.1}%",
        share * 100.0
    );
}
