//! Golden render tests: every folder of `templates-tests/` is a chart, the arguments of
//! `pack template`, and the exact output (or error) expected. See templates-tests/README.md.

use std::path::{Path, PathBuf};
use std::process::Command;

fn cases() -> Vec<PathBuf> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("templates-tests");
    let mut dirs: Vec<PathBuf> = std::fs::read_dir(&root)
        .expect("templates-tests/")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.join("chart").is_dir())
        .collect();
    dirs.sort();
    dirs
}

fn run_case(dir: &Path) -> Result<(), String> {
    let args: Vec<String> = match std::fs::read_to_string(dir.join("args")) {
        Ok(text) => text
            .lines()
            .filter(|l| !l.is_empty())
            .map(str::to_owned)
            .collect(),
        Err(_) => vec!["release".into(), "chart".into()],
    };
    let out = Command::new(env!("CARGO_BIN_EXE_pack"))
        .arg("template")
        .args(&args)
        .current_dir(dir)
        .env("PACK_COLOR", "never")
        .env_remove("PACK_NAMESPACE")
        .output()
        .map_err(|e| e.to_string())?;
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    let bless = std::env::var_os("PACK_BLESS").is_some();
    let expected_out = dir.join("expected.out");
    let expected_err = dir.join("expected.err");
    if expected_err.exists() {
        if out.status.success() {
            return Err(format!("expected a failure, got success:\n{stdout}"));
        }
        let want = std::fs::read_to_string(&expected_err).map_err(|e| e.to_string())?;
        let missing: Vec<&str> = want
            .lines()
            .filter(|l| !l.is_empty() && !stderr.contains(l))
            .collect();
        if !missing.is_empty() {
            return Err(format!("stderr lacks {missing:?}; stderr was:\n{stderr}"));
        }
        return Ok(());
    }
    if !out.status.success() {
        return Err(format!("pack template failed:\n{stderr}"));
    }
    if bless {
        std::fs::write(&expected_out, &stdout).map_err(|e| e.to_string())?;
        return Ok(());
    }
    let want = std::fs::read_to_string(&expected_out)
        .map_err(|e| format!("{}: {e}", expected_out.display()))?;
    if want != stdout {
        let first = want
            .lines()
            .zip(stdout.lines())
            .position(|(a, b)| a != b)
            .unwrap_or_else(|| want.lines().count().min(stdout.lines().count()));
        return Err(format!(
            "output differs from expected.out at line {}:\n  expected: {:?}\n  actual:   {:?}\n--- actual output ---\n{stdout}",
            first + 1,
            want.lines().nth(first),
            stdout.lines().nth(first)
        ));
    }
    Ok(())
}

#[test]
fn golden_render_cases() {
    let all = cases();
    assert!(!all.is_empty(), "no cases in templates-tests/");
    let failures: Vec<String> = all
        .iter()
        .filter_map(|dir| {
            run_case(dir).err().map(|e| {
                format!(
                    "{}: {e}",
                    dir.file_name().unwrap_or_default().to_string_lossy()
                )
            })
        })
        .collect();
    assert!(
        failures.is_empty(),
        "{} of {} cases failed:\n\n{}",
        failures.len(),
        all.len(),
        failures.join("\n\n")
    );
}
