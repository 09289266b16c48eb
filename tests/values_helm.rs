//! Differential test of values: for every row of `tests/data/values-cases.tsv`, the real
//! helm renders the umbrella fixture (each chart dumps the `.Values` it sees), and pack both
//! computes the same values and renders a native twin of the fixture that dumps them; every
//! chart's values and the set of enabled charts must agree.

mod common;

use common::{helm, reference_tool};
use pack::value::{Map, Value};
use pack::values::{self, ValueOptions};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

fn data_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data")
}

struct Case {
    name: String,
    args: Vec<String>,
}

fn cases() -> Vec<Case> {
    include_str!("data/values-cases.tsv")
        .lines()
        .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
        .map(|l| {
            let (name, args) = l.split_once('\t').unwrap_or((l, ""));
            Case {
                name: name.to_owned(),
                args: args.split_whitespace().map(str::to_owned).collect(),
            }
        })
        .collect()
}

/// The value flags of a row, as pack's library takes them.
fn options(args: &[String]) -> ValueOptions {
    let mut o = ValueOptions::default();
    let dir = data_dir();
    let mut it = args.iter();
    while let Some(flag) = it.next() {
        let arg = it.next().expect("flag without argument").clone();
        match flag.as_str() {
            "-f" | "--values" => o.values_files.push(dir.join(arg).display().to_string()),
            "--set" => o.set.push(arg),
            "--set-string" => o.set_string.push(arg),
            "--set-json" => o.set_json.push(arg),
            "--set-literal" => o.set_literal.push(arg),
            "--set-file" => {
                let (k, v) = arg.split_once('=').expect("key=path");
                o.set_file.push(format!("{k}={}", dir.join(v).display()));
            }
            other => panic!("unknown flag {other}"),
        }
    }
    o
}

/// Chart path (`""`, `first`, `sub-b/deep`) → the values it sees, from helm's output.
fn helm_values(
    helm_bin: &Path,
    home: &Path,
    args: &[String],
) -> Result<BTreeMap<String, Value>, String> {
    let out = helm(helm_bin, home)
        .current_dir(data_dir())
        .args(["template", "r", "charts/umbrella"])
        .args(args)
        .output()
        .expect("helm runs");
    if !out.status.success() {
        return Err(String::from_utf8_lossy(&out.stderr).into_owned());
    }
    Ok(dumps(&String::from_utf8(out.stdout).expect("UTF-8")))
}

/// The same, computed by pack.
fn pack_values(args: &[String]) -> Result<BTreeMap<String, Value>, String> {
    let mut chart =
        pack::chart::load(&data_dir().join("charts/umbrella")).map_err(|e| e.to_string())?;
    let user = options(args)
        .build(chart.engine(), &mut std::io::empty())
        .map_err(|e| e.to_string())?;
    let computed = values::compute(&mut chart, &user, false).map_err(|e| e.to_string())?;
    let mut result = BTreeMap::new();
    collect(&chart, &computed.values, String::new(), &mut result);
    Ok(result)
}

fn collect(
    chart: &pack::chart::Chart,
    values: &Map,
    path: String,
    out: &mut BTreeMap<String, Value>,
) {
    if !chart.metadata.is_library() {
        out.insert(path.clone(), Value::Map(values.clone()));
    }
    for sub in &chart.dependencies {
        let sub_values = values
            .get(sub.name())
            .and_then(Value::as_map)
            .cloned()
            .unwrap_or_default();
        let sub_path = if path.is_empty() {
            sub.name().to_owned()
        } else {
            format!("{path}/{}", sub.name())
        };
        collect(sub, &sub_values, sub_path, out);
    }
}

/// A native copy of the umbrella fixture: same files, `apiVersion: pack/v1`, and dump
/// templates in native syntax.
fn native_twin(dest: &Path) {
    fn copy(from: &Path, to: &Path) {
        std::fs::create_dir_all(to).unwrap();
        for entry in std::fs::read_dir(from).unwrap() {
            let entry = entry.unwrap();
            let target = to.join(entry.file_name());
            if entry.file_type().unwrap().is_dir() {
                copy(&entry.path(), &target);
                continue;
            }
            let name = entry.file_name().to_string_lossy().into_owned();
            let text = std::fs::read_to_string(entry.path()).unwrap();
            let text = match name.as_str() {
                "Chart.yaml" => text.replace("apiVersion: v2", "apiVersion: pack/v1"),
                "dump.yaml" => "# values of {{ Chart.Name }}\n{{ Values | toJson }}\n".to_owned(),
                _ => text,
            };
            std::fs::write(target, text).unwrap();
        }
    }
    copy(&data_dir().join("charts/umbrella"), dest);
}

/// Parses `template` output of the dump charts: chart path → the values it printed.
fn dumps(text: &str) -> BTreeMap<String, Value> {
    let mut result = BTreeMap::new();
    let mut lines = text.lines();
    while let Some(line) = lines.next() {
        let Some(source) = line.strip_prefix("# Source: umbrella/") else {
            continue;
        };
        let path = source
            .trim_end_matches("templates/dump.yaml")
            .trim_end_matches('/')
            .split('/')
            .filter(|p| *p != "charts" && !p.is_empty())
            .collect::<Vec<_>>()
            .join("/");
        let _marker = lines.next();
        let json = lines.next().expect("values line");
        result.insert(path, Value::from_json(json).expect("printed JSON"));
    }
    result
}

/// The values the native twin's templates see, rendered by the pack binary.
fn pack_rendered(twin: &Path, args: &[String]) -> Result<BTreeMap<String, Value>, String> {
    let dir = data_dir();
    let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_pack"));
    cmd.args(["template", "r"]).arg(twin).current_dir(&dir);
    cmd.args(args);
    let out = cmd.output().map_err(|e| e.to_string())?;
    if !out.status.success() {
        return Err(String::from_utf8_lossy(&out.stderr).into_owned());
    }
    Ok(dumps(&String::from_utf8_lossy(&out.stdout)))
}

/// Rows whose values files hold YAML 1.1 spellings (`yes`, `on`, `0755`): a native chart
/// reads them as YAML 1.2 by design, so only the Helm-chart comparison covers them.
const YAML11_ONLY: &[&str] = &["yaml11-file"];

#[test]
fn values_agree_with_helm_for_every_case() {
    let all = cases();
    assert!(all.len() >= 40, "only {} cases", all.len());
    let Some(helm_bin) = reference_tool("helm") else {
        return;
    };
    let home = tempfile::tempdir().unwrap();
    let twin_dir = tempfile::tempdir().unwrap();
    let twin = twin_dir.path().join("umbrella");
    native_twin(&twin);
    let mut failures = Vec::new();
    for case in &all {
        let theirs = helm_values(&helm_bin, home.path(), &case.args);
        // The native twin, rendered: the same values, seen from templates.
        if !YAML11_ONLY.contains(&case.name.as_str()) {
            let rendered = pack_rendered(&twin, &case.args);
            match (&theirs, &rendered) {
                (Ok(t), Ok(r)) if t != r => failures.push(format!(
                    "{}: native twin renders different values:\n  helm: {}\n  pack: {}",
                    case.name,
                    t.values()
                        .map(Value::to_json)
                        .collect::<Vec<_>>()
                        .join(" | "),
                    r.values()
                        .map(Value::to_json)
                        .collect::<Vec<_>>()
                        .join(" | ")
                )),
                (Ok(_), Err(e)) => failures.push(format!("{}: native twin failed: {e}", case.name)),
                (Err(_), Ok(_)) => {
                    failures.push(format!("{}: helm failed, native twin did not", case.name))
                }
                _ => {}
            }
        }
        let ours = pack_values(&case.args);
        if case.name.starts_with("error-") {
            match (&theirs, &ours) {
                (Err(_), Err(_)) => {}
                _ => failures.push(format!(
                    "{}: must fail in both; helm ok: {}, pack ok: {}",
                    case.name,
                    theirs.is_ok(),
                    ours.is_ok()
                )),
            }
            continue;
        }
        match (theirs, ours) {
            (Ok(t), Ok(o)) => {
                let t_keys: Vec<_> = t.keys().collect();
                let o_keys: Vec<_> = o.keys().collect();
                if t_keys != o_keys {
                    failures.push(format!(
                        "{}: rendered charts differ: helm {t_keys:?}, pack {o_keys:?}",
                        case.name
                    ));
                    continue;
                }
                for (path, tv) in &t {
                    if o.get(path) != Some(tv) {
                        failures.push(format!(
                            "{}: values of chart {path:?} differ\n  helm: {}\n  pack: {}",
                            case.name,
                            tv.to_json(),
                            o.get(path).map(Value::to_json).unwrap_or_default()
                        ));
                    }
                }
            }
            (Err(e), Ok(_)) => {
                failures.push(format!("{}: helm failed but pack did not: {e}", case.name))
            }
            (Ok(_), Err(e)) => {
                failures.push(format!("{}: pack failed but helm did not: {e}", case.name))
            }
            (Err(t), Err(o)) => failures.push(format!(
                "{}: both failed in a case expected to work\n  helm: {t}\n  pack: {o}",
                case.name
            )),
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} cases differ from helm:\n{}",
        failures.len(),
        all.len(),
        failures.join("\n")
    );
}
