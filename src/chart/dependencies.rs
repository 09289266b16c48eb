//! Dependency processing before rendering, as Helm does it: aliases clone subcharts,
//! tags and then conditions (which win) enable or drop them, and import-values copy child
//! tables up into the parent, where the parent's own values win.

use super::Chart;
use super::metadata::ImportValue;
use crate::value::{Map, Value};
use crate::values::coalesce::{CoalesceError, Warning, coalesce_chart, merge_chart, merge_tables};
use crate::values::{table_at, value_at};

/// Why dependencies could not be processed.
#[derive(Debug, thiserror::Error, Clone, PartialEq, Eq)]
pub enum DependencyError {
    /// Chart.yaml lists subcharts that `charts/` does not have.
    #[error(
        "chart {chart}: found in Chart.yaml, but missing in charts/ directory: {missing}; run `pack dependency build` (or `helm dependency build`) to fetch them"
    )]
    Missing {
        /// The chart whose `charts/` lacks them.
        chart: String,
        /// The missing names, comma-separated.
        missing: String,
    },
    /// Values for a subchart are not a table.
    #[error(transparent)]
    Coalesce(#[from] CoalesceError),
}

/// Checks that every dependency in Chart.yaml has a subchart in `charts/` (by name, any
/// version), as Helm does before rendering the root chart.
pub fn check_present(chart: &Chart) -> Result<(), DependencyError> {
    let missing: Vec<&str> = chart
        .metadata
        .dependencies
        .iter()
        .filter(|d| !chart.dependencies.iter().any(|c| c.name() == d.name))
        .map(|d| d.name.as_str())
        .collect();
    if missing.is_empty() {
        Ok(())
    } else {
        Err(DependencyError::Missing {
            chart: chart.name().to_owned(),
            missing: missing.join(", "),
        })
    }
}

/// Processes dependencies for rendering with the user-supplied `values`: resolves aliases,
/// drops disabled subcharts (recursively) and applies import-values (bottom-up).
pub fn process(
    chart: &mut Chart,
    values: &Map,
    warnings: &mut Vec<Warning>,
) -> Result<(), DependencyError> {
    enable(chart, values, "", warnings)?;
    import_all(chart, warnings)?;
    Ok(())
}

/// Does the subchart's version satisfy the dependency's constraint? An empty or invalid
/// constraint matches nothing, as in Helm.
fn compatible(constraint: &str, version: &str) -> bool {
    if constraint.trim().is_empty() {
        return false;
    }
    crate::versions::satisfies(constraint, version).unwrap_or(false)
}

fn enable(
    chart: &mut Chart,
    values: &Map,
    path: &str,
    warnings: &mut Vec<Warning>,
) -> Result<(), DependencyError> {
    if chart.metadata.dependencies.is_empty() {
        return Ok(());
    }
    let loaded = std::mem::take(&mut chart.dependencies);
    let listed = |c: &Chart| {
        chart
            .metadata
            .dependencies
            .iter()
            .any(|d| d.name == c.name() && compatible(&d.version, &c.metadata.version))
    };
    // Which loaded subchart each listed dependency takes, and how many take each: a subchart
    // taken once moves, one taken again under another alias is copied.
    let picks: Vec<Option<usize>> = chart
        .metadata
        .dependencies
        .iter()
        .map(|dep| {
            loaded
                .iter()
                .position(|c| c.name() == dep.name && compatible(&dep.version, &c.metadata.version))
        })
        .collect();
    let mut uses = vec![0usize; loaded.len()];
    for i in picks.iter().flatten() {
        uses[*i] += 1;
    }
    // Subcharts Chart.yaml does not list (by name and compatible version) stay as they are.
    let mut slots: Vec<Option<Chart>> = Vec::with_capacity(loaded.len());
    let mut kept: Vec<Chart> = Vec::new();
    for c in loaded {
        if listed(&c) {
            slots.push(Some(c));
        } else {
            kept.push(c);
            slots.push(None);
        }
    }
    // Each listed dependency takes its subchart, renamed to its alias.
    for (dep, pick) in chart.metadata.dependencies.iter().zip(&picks) {
        let Some(i) = *pick else { continue };
        uses[i] -= 1;
        let taken = if uses[i] == 0 {
            slots[i].take()
        } else {
            slots[i].clone()
        };
        if let Some(mut sub) = taken {
            if !dep.alias.is_empty() {
                sub.metadata.name = dep.alias.clone();
            }
            kept.push(sub);
        }
    }
    chart.dependencies = kept;

    let cvals = coalesce_chart(chart, values.clone(), warnings)?;
    let mut disabled: Vec<String> = Vec::new();
    for dep in &chart.metadata.dependencies {
        let mut enabled = true;
        if let Some(by_tags) = tags_decision(&dep.tags, &cvals, warnings) {
            enabled = by_tags;
        }
        if let Some(by_condition) = condition_decision(&dep.condition, &cvals, path, warnings) {
            enabled = by_condition;
        }
        if !enabled {
            disabled.push(dep.effective_name().to_owned());
        }
    }
    chart
        .dependencies
        .retain(|c| !disabled.iter().any(|d| d == c.name()));
    chart
        .metadata
        .dependencies
        .retain(|d| !disabled.iter().any(|n| n == d.effective_name()));
    for sub in &mut chart.dependencies {
        let sub_path = format!("{path}{}.", sub.name());
        enable(sub, &cvals, &sub_path, warnings)?;
    }
    Ok(())
}

/// Tags: enabled when any listed tag is true; disabled when none is true and one is
/// false; no decision when no listed tag is set.
fn tags_decision(tags: &[String], cvals: &Map, warnings: &mut Vec<Warning>) -> Option<bool> {
    let table = table_at(cvals, "tags")?;
    let (mut any_true, mut any_false) = (false, false);
    for tag in tags {
        match table.get(tag) {
            Some(Value::Bool(true)) => any_true = true,
            Some(Value::Bool(false)) => any_false = true,
            Some(other) => warnings.push(Warning {
                path: format!("tags.{tag}"),
                message: format!(
                    "dependency enabled check failed: tag is not a bool ({})",
                    other.type_name()
                ),
            }),
            None => {}
        }
    }
    if any_true {
        Some(true)
    } else if any_false {
        Some(false)
    } else {
        None
    }
}

/// Conditions: the first comma-separated path that holds a boolean decides.
fn condition_decision(
    condition: &str,
    cvals: &Map,
    prefix: &str,
    warnings: &mut Vec<Warning>,
) -> Option<bool> {
    for part in condition.trim().split(',').filter(|p| !p.is_empty()) {
        let full = format!("{prefix}{part}");
        match value_at(cvals, &full) {
            Some(Value::Bool(b)) => return Some(*b),
            Some(Value::Map(_)) | None => {}
            Some(other) => warnings.push(Warning {
                path: full,
                message: format!(
                    "condition path returned a non-bool value ({}); ignoring it",
                    other.type_name()
                ),
            }),
        }
    }
    None
}

fn import_all(chart: &mut Chart, warnings: &mut Vec<Warning>) -> Result<(), DependencyError> {
    for sub in &mut chart.dependencies {
        import_all(sub, warnings)?;
    }
    import_values(chart, warnings)
}

/// Copies the tables named by import-values from each subchart into the chart's values.
/// Values the chart already has win over imported ones; nulls are kept (Helm's merge mode).
fn import_values(chart: &mut Chart, warnings: &mut Vec<Warning>) -> Result<(), DependencyError> {
    if chart.metadata.dependencies.is_empty() {
        return Ok(());
    }
    let cvals = merge_chart(chart, Map::default(), warnings)?;
    let mut imported = Map::default();
    for dep in &chart.metadata.dependencies {
        let name = dep.effective_name();
        for iv in &dep.import_values {
            let (child, parent) = match iv {
                ImportValue::Exports(e) => (format!("exports.{e}"), "."),
                ImportValue::Map { child, parent } => (child.clone(), parent.as_str()),
            };
            let Some(table) = table_at(&cvals, &format!("{name}.{child}")) else {
                warnings.push(Warning {
                    path: format!("{name}.{child}"),
                    message: format!(
                        "import-values: chart {name} has no table at {child}; nothing imported"
                    ),
                });
                continue;
            };
            let piece = path_to_map(parent, table.clone());
            merge_tables(&mut imported, &piece, warnings);
        }
    }
    let mut values = cvals;
    merge_tables(&mut values, &imported, warnings);
    chart.values = Value::Map(values);
    Ok(())
}

/// `a.b` and a table → `{a: {b: table}}`; `.` → the table itself.
fn path_to_map(path: &str, table: Map) -> Map {
    if path == "." {
        return table;
    }
    path.split('.')
        .filter(|p| !p.is_empty())
        .rev()
        .fold(table, |inner, key| {
            let mut m = Map::default();
            m.insert(key.to_owned(), Value::Map(inner));
            m
        })
}
