//! Table-driven checks of the constraint language against Masterminds/semver
//! v3 behaviour (many rows are ported from its own test vectors).

use super::*;

/// `(constraint, version, expected)` rows of `tests/data/constraints.tsv`, shared with the
/// differential test that asks the real helm the same questions.
/// `\t` and `\n` in a cell stand for a tab and a newline.
fn matches() -> Vec<(String, String, bool)> {
    let unescape = |s: &str| s.replace("\\t", "\t").replace("\\n", "\n");
    include_str!("../../tests/data/constraints.tsv")
        .lines()
        .filter(|l| !l.starts_with('#') && !l.is_empty())
        .map(|l| {
            let mut cols = l.split('\t');
            let (Some(c), Some(v), Some(e)) = (cols.next(), cols.next(), cols.next()) else {
                panic!("malformed row {l:?}");
            };
            (unescape(c), unescape(v), e == "true")
        })
        .collect()
}

#[test]
fn constraint_table() {
    let rows = matches();
    assert!(rows.len() >= 120, "table has {} rows", rows.len());
    let mut failures = Vec::new();
    for (constraint, version, expected) in rows {
        let (constraint, version) = (constraint.as_str(), version.as_str());
        let parsed = Constraints::parse(constraint);
        let parsed = parsed.unwrap_or_else(|e| panic!("{constraint:?} should parse: {e}"));
        let v = parse_version(version).unwrap_or_else(|e| panic!("bad test version: {e}"));
        if parsed.matches(&v) != expected {
            failures.push(format!(
                "{constraint:?} vs {version:?}: expected {expected}"
            ));
        }
    }
    assert!(failures.is_empty(), "mismatches:\n{}", failures.join("\n"));
}

#[test]
fn satisfies_agrees_with_the_table() {
    for (constraint, version, expected) in matches() {
        assert_eq!(
            satisfies(&constraint, &version),
            Ok(expected),
            "{constraint:?} vs {version:?}"
        );
    }
}

/// `(constraint, the part the error must name)` rows of `tests/data/constraints-invalid.tsv`.
fn invalid() -> Vec<(&'static str, &'static str)> {
    include_str!("../../tests/data/constraints-invalid.tsv")
        .lines()
        .filter(|l| !l.starts_with('#') && !l.is_empty())
        .map(|l| {
            l.split_once('\t')
                .unwrap_or_else(|| panic!("malformed row {l:?}"))
        })
        .collect()
}

#[test]
fn invalid_constraints_are_rejected() {
    for (constraint, part) in invalid() {
        match Constraints::parse(constraint) {
            Ok(parsed) => panic!("{constraint:?} should not parse, got {parsed:?}"),
            Err(err) => assert_eq!(
                err.to_string(),
                format!("improper constraint: {part}"),
                "error for {constraint:?}"
            ),
        }
    }
}

#[test]
fn display_gives_back_the_source() {
    for source in [
        "  >= 1.2, <2 || 3.x ",
        ">=1.21.0-0",
        "",
        "1.2 - 1.4",
        "~> 1.2",
    ] {
        let parsed = Constraints::parse(source).expect("valid constraint");
        assert_eq!(parsed.to_string(), source);
        assert_eq!(parsed.as_str(), source);
        let reparsed: Constraints = source.parse().expect("FromStr agrees with parse");
        assert_eq!(reparsed, parsed);
    }
}

#[test]
fn matches_str_parses_leniently() {
    let kube = Constraints::parse(">=1.21.0-0").expect("valid constraint");
    assert_eq!(kube.matches_str("v1.27.3-gke.100"), Ok(true));
    assert_eq!(kube.matches_str("v1.20"), Ok(false));
    assert!(kube.matches_str("not-a-version").is_err());
}

#[test]
fn satisfies_reports_which_side_is_bad() {
    assert!(matches!(
        satisfies(">=foo", "1.2.3"),
        Err(Error::Constraint(_))
    ));
    assert!(matches!(
        satisfies(">=1.2", "1.2.x"),
        Err(Error::Version(_))
    ));
    let message = satisfies(">=1.2", "banana")
        .expect_err("bad version")
        .to_string();
    assert!(message.starts_with("invalid semantic version"), "{message}");
    let message = satisfies(">=foo", "1.2.3")
        .expect_err("bad constraint")
        .to_string();
    assert_eq!(message, "improper constraint: >=foo");
}

/// Deliberate deviations from Masterminds, where it rejects input that has
/// an obvious meaning.
#[test]
fn hyphen_range_after_another_comparator_is_accepted() {
    // Masterminds' range rewrite swallows the space before the range and
    // then rejects `>1.0>= 1.2, <= 1.4`; we read it as intended.
    assert_eq!(satisfies(">1.0 1.2 - 1.4", "1.3.0"), Ok(true));
    assert_eq!(satisfies(">1.0 1.2 - 1.4", "1.5.0"), Ok(false));
}

fn versions(texts: &[&str]) -> Vec<Version> {
    texts
        .iter()
        .map(|text| parse_version(text).expect("valid test version"))
        .collect()
}

#[test]
fn highest_match_picks_the_highest_matching_version() {
    let available = versions(&[
        "1.2.3",
        "1.4.0",
        "2.0.0",
        "1.5.0-beta.1",
        "1.4.9+build",
        "0.9.0",
    ]);
    let cases = [
        ("^1.2", Some("1.4.9+build")),
        ("~1.4.0", Some("1.4.9+build")),
        ("1.2.3", Some("1.2.3")),
        (">=1.5.0-0 <2", Some("1.5.0-beta.1")),
        ("*", Some("2.0.0")),
        ("<1", Some("0.9.0")),
        (">2", None),
        ("^3", None),
    ];
    for (constraint, expected) in cases {
        let parsed = Constraints::parse(constraint).expect("valid constraint");
        let best = highest_match(&parsed, &available).map(ToString::to_string);
        assert_eq!(best.as_deref(), expected, "constraint {constraint:?}");
    }
}

#[test]
fn highest_match_handles_empty_input_and_ties() {
    let any = Constraints::parse("*").expect("valid constraint");
    assert_eq!(highest_match(&any, &[]), None);

    let tied = versions(&["1.0.0+first", "1.0.0+second", "0.1.0"]);
    let best = highest_match(&any, tied.iter()).map(ToString::to_string);
    assert_eq!(best.as_deref(), Some("1.0.0+first"));
}
