//! Every template function real charts commonly use (named in the corpus's
//! `functions.tsv` by five or more charts) is available to native charts, and every name
//! Helm's Go templates know is available to Helm charts.

mod common;

use std::process::Command;

/// Go template syntax that functions.tsv counts but that is not a function.
const SYNTAX: &[&str] = &[
    "end", "if", "else", "with", "range", "define", "template", "block", "break", "continue",
    "true", "false", "nil",
];

/// Helm functions the engine provides itself rather than the library.
const ENGINE: &[&str] = &["include", "tpl", "lookup"];

#[test]
fn functions_used_by_five_or_more_charts_exist() {
    let Some(shared) = common::shared_dir() else {
        return;
    };
    let table = std::fs::read_to_string(shared.join("corpus/functions.tsv")).unwrap();
    let library: Vec<&str> = pack::funcs::all().iter().map(|f| f.name).collect();
    let mut wanted = Vec::new();
    let mut missing = Vec::new();
    for line in table.lines().skip(1) {
        let cols: Vec<&str> = line.split('\t').collect();
        let (name, charts) = (cols[0], cols[2].parse::<u32>().unwrap_or(0));
        if charts < 5 || SYNTAX.contains(&name) {
            continue;
        }
        wanted.push(name);
        if !library.contains(&name) && !ENGINE.contains(&name) {
            missing.push(name);
        }
    }
    assert!(wanted.len() >= 60, "only {} functions listed", wanted.len());
    assert!(
        missing.is_empty(),
        "functions charts use but pack lacks: {missing:?}"
    );
}

#[test]
fn functions_the_issue_names_exist() {
    let library: Vec<&str> = pack::funcs::all().iter().map(|f| f.name).collect();
    for name in [
        "required",
        "fail",
        "toYaml",
        "fromYaml",
        "fromYamlArray",
        "toJson",
        "fromJson",
        "toToml",
        "genCA",
        "genSignedCert",
        "genPrivateKey",
        "htpasswd",
        "uuidv4",
        "now",
        "date",
    ] {
        assert!(library.contains(&name), "{name} is missing");
    }
}

#[test]
fn engine_functions_work_in_a_native_chart() {
    let dir = tempfile::tempdir().unwrap();
    let chart = dir.path().join("c");
    std::fs::create_dir_all(chart.join("templates")).unwrap();
    std::fs::write(
        chart.join("Chart.yaml"),
        "apiVersion: pack/v1\nname: c\nversion: 0.1.0\n",
    )
    .unwrap();
    std::fs::write(
        chart.join("templates/t.yaml"),
        "{% define \"n\" %}{{ ctx }}{% enddefine %}kind: ConfigMap\ndata:\n  include: {{ include(\"n\", \"x\") }}\n  tpl: {{ tpl(\"{{ 1 + 1 }}\", ctx) }}\n  lookup: {{ lookup(\"v1\", \"Pod\", \"ns\", \"p\") | toJson }}\n  uuid-length: \"{{ uuidv4() | length }}\"\n  ca: \"{{ genCA('x', 1).Cert | hasPrefix('-----BEGIN CERTIFICATE-----') }}\"\n",
    )
    .unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_pack"))
        .args(["template", "r"])
        .arg(&chart)
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    for want in [
        "include: x",
        "tpl: 2",
        "lookup: {}",
        "uuid-length: \"36\"",
        "ca: \"true\"",
    ] {
        assert!(text.contains(want), "{want} missing in\n{text}");
    }
}

#[test]
fn required_and_fail_stop_the_render_with_their_message() {
    let dir = tempfile::tempdir().unwrap();
    let chart = dir.path().join("c");
    std::fs::create_dir_all(chart.join("templates")).unwrap();
    std::fs::write(
        chart.join("Chart.yaml"),
        "apiVersion: pack/v1\nname: c\nversion: 0.1.0\n",
    )
    .unwrap();
    std::fs::write(
        chart.join("templates/t.yaml"),
        "kind: ConfigMap\nmetadata:\n  name: {{ Values.name | required(\"name is required: set --set name=…\") }}\n",
    )
    .unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_pack"))
        .args(["template", "r"])
        .arg(&chart)
        .env("PACK_COLOR", "never")
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1));
    assert!(err.contains("name is required: set --set name=…"), "{err}");
    assert!(err.contains("c/templates/t.yaml:3"), "{err}");
    // The notes of a subchart are rendered too, so a `fail` there fails the render.
    std::fs::write(chart.join("templates/t.yaml"), "kind: ConfigMap\n").unwrap();
    std::fs::create_dir_all(chart.join("charts/sub/templates")).unwrap();
    std::fs::write(
        chart.join("charts/sub/Chart.yaml"),
        "apiVersion: pack/v1\nname: sub\nversion: 0.1.0\n",
    )
    .unwrap();
    std::fs::write(
        chart.join("charts/sub/templates/NOTES.txt"),
        "{{ fail(\"sub notes refuse\") }}",
    )
    .unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_pack"))
        .args(["template", "r"])
        .arg(&chart)
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("sub notes refuse"));
}

/// Every function name Helm's Go templates know (Sprig v3.3's but `env`/`expandenv`, Go's
/// built-ins and Helm's own), each checked against helm v4.1.4 when this list was made.
const HELM_FUNCTIONS: &[&str] = &[
    "hello",
    "ago",
    "date",
    "date_in_zone",
    "date_modify",
    "dateInZone",
    "dateModify",
    "duration",
    "durationRound",
    "htmlDate",
    "htmlDateInZone",
    "must_date_modify",
    "mustDateModify",
    "mustToDate",
    "now",
    "toDate",
    "unixEpoch",
    "abbrev",
    "abbrevboth",
    "trunc",
    "trim",
    "upper",
    "lower",
    "title",
    "untitle",
    "substr",
    "repeat",
    "trimall",
    "trimAll",
    "trimSuffix",
    "trimPrefix",
    "nospace",
    "initials",
    "randAlphaNum",
    "randAlpha",
    "randAscii",
    "randNumeric",
    "swapcase",
    "shuffle",
    "snakecase",
    "camelcase",
    "kebabcase",
    "wrap",
    "wrapWith",
    "contains",
    "hasPrefix",
    "hasSuffix",
    "quote",
    "squote",
    "cat",
    "indent",
    "nindent",
    "replace",
    "plural",
    "sha1sum",
    "sha256sum",
    "sha512sum",
    "adler32sum",
    "toString",
    "atoi",
    "int64",
    "int",
    "float64",
    "seq",
    "toDecimal",
    "split",
    "splitList",
    "splitn",
    "toStrings",
    "until",
    "untilStep",
    "add1f",
    "add1",
    "addf",
    "add",
    "sub",
    "subf",
    "div",
    "divf",
    "mod",
    "mul",
    "mulf",
    "randInt",
    "max",
    "maxf",
    "min",
    "minf",
    "ceil",
    "floor",
    "round",
    "join",
    "sortAlpha",
    "default",
    "empty",
    "coalesce",
    "all",
    "any",
    "compact",
    "mustCompact",
    "fromJson",
    "toJson",
    "toPrettyJson",
    "toRawJson",
    "mustFromJson",
    "mustToJson",
    "mustToPrettyJson",
    "mustToRawJson",
    "ternary",
    "deepCopy",
    "mustDeepCopy",
    "typeOf",
    "typeIs",
    "typeIsLike",
    "kindOf",
    "kindIs",
    "deepEqual",
    "getHostByName",
    "base",
    "b64enc",
    "b64dec",
    "b32enc",
    "b32dec",
    "ext",
    "dir",
    "clean",
    "isAbs",
    "osBase",
    "osClean",
    "osDir",
    "osExt",
    "osIsAbs",
    "tuple",
    "list",
    "dict",
    "get",
    "set",
    "unset",
    "hasKey",
    "pluck",
    "keys",
    "pick",
    "omit",
    "merge",
    "mergeOverwrite",
    "mustMerge",
    "mustMergeOverwrite",
    "values",
    "append",
    "push",
    "mustAppend",
    "mustPush",
    "prepend",
    "mustPrepend",
    "first",
    "mustFirst",
    "rest",
    "mustRest",
    "last",
    "mustLast",
    "initial",
    "mustInitial",
    "reverse",
    "mustReverse",
    "uniq",
    "mustUniq",
    "without",
    "mustWithout",
    "has",
    "mustHas",
    "slice",
    "mustSlice",
    "concat",
    "dig",
    "chunk",
    "mustChunk",
    "bcrypt",
    "htpasswd",
    "genPrivateKey",
    "derivePassword",
    "buildCustomCert",
    "genCA",
    "genCAWithKey",
    "genSelfSignedCert",
    "genSelfSignedCertWithKey",
    "genSignedCert",
    "genSignedCertWithKey",
    "encryptAES",
    "decryptAES",
    "randBytes",
    "uuidv4",
    "semver",
    "semverCompare",
    "fail",
    "regexMatch",
    "mustRegexMatch",
    "regexFindAll",
    "mustRegexFindAll",
    "regexFind",
    "mustRegexFind",
    "regexReplaceAll",
    "mustRegexReplaceAll",
    "regexReplaceAllLiteral",
    "mustRegexReplaceAllLiteral",
    "regexSplit",
    "mustRegexSplit",
    "regexQuoteMeta",
    "urlParse",
    "urlJoin",
    "toYaml",
    "mustToYaml",
    "toYamlPretty",
    "fromYaml",
    "fromYamlArray",
    "fromJsonArray",
    "toToml",
    "fromToml",
    "include",
    "tpl",
    "required",
    "lookup",
    "and",
    "or",
    "not",
    "len",
    "index",
    "print",
    "printf",
    "println",
    "html",
    "js",
    "urlquery",
    "eq",
    "ne",
    "lt",
    "le",
    "gt",
    "ge",
    "call",
];

#[test]
fn every_helm_function_exists_for_helm_charts() {
    let missing: Vec<&str> = HELM_FUNCTIONS
        .iter()
        .copied()
        .filter(|n| !pack::render::gotmpl::exec::has_function(n))
        .collect();
    assert!(missing.is_empty(), "missing: {missing:?}");
    // Helm removes these two from Sprig's set.
    assert!(!pack::render::gotmpl::exec::has_function("env"));
    assert!(!pack::render::gotmpl::exec::has_function("expandenv"));
}
