//! `pack package` and `pack repo index`: reproducible archives laid out as Helm's, that the
//! real helm reads; an index with the same entries and digests as `helm repo index`.

mod common;

use assert_cmd::Command;
use predicates::prelude::*;
use std::path::{Path, PathBuf};

fn pack() -> Command {
    Command::cargo_bin("pack").expect("pack binary")
}

/// A small Helm chart with a subchart archive, an ignored file and a schema.
fn chart(dir: &Path) -> PathBuf {
    let c = dir.join("demo");
    let files: &[(&str, &str)] = &[
        (
            "Chart.yaml",
            "# a comment Helm drops\napiVersion: v2\nname: demo\nversion: 0.3.0\nappVersion: \"1.0\"\ndescription: A demo\n",
        ),
        ("values.yaml", "# defaults\nreplicas: 2\n"),
        (
            "values.schema.json",
            "{\"type\": \"object\", \"properties\": {\"replicas\": {\"type\": \"integer\"}}}",
        ),
        (
            "templates/cm.yaml",
            "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {{ .Release.Name }}\ndata:\n  replicas: {{ .Values.replicas | quote }}\n  extra: {{ .Files.Get \"files/extra.txt\" | quote }}\n",
        ),
        ("files/extra.txt", "hello"),
        ("secret.txt", "do not ship"),
        (".helmignore", "secret.txt\n"),
        ("README.md", "# demo\n"),
        (
            "charts/sub/Chart.yaml",
            "apiVersion: v2\nname: sub\nversion: 1.0.0\n",
        ),
        (
            "charts/sub/templates/sa.yaml",
            "apiVersion: v1\nkind: ServiceAccount\nmetadata:\n  name: {{ .Release.Name }}-sub\n",
        ),
    ];
    for (name, content) in files {
        let p = c.join(name);
        std::fs::create_dir_all(p.parent().expect("parent")).expect("dir");
        std::fs::write(p, content).expect("write");
    }
    c
}

fn entries(tgz: &Path) -> Vec<(String, u32, u64, u64)> {
    let f = std::fs::File::open(tgz).expect("archive");
    let mut a = tar::Archive::new(flate2::read::GzDecoder::new(f));
    a.entries()
        .expect("entries")
        .map(|e| {
            let e = e.expect("entry");
            let h = e.header();
            (
                e.path().expect("path").display().to_string(),
                h.mode().expect("mode"),
                h.uid().expect("uid"),
                h.mtime().expect("mtime"),
            )
        })
        .collect()
}

#[test]
fn package_is_helms_layout_and_reproducible() {
    let tmp = tempfile::tempdir().expect("tmp");
    let src = chart(tmp.path());
    let out1 = tmp.path().join("out1");
    pack()
        .args([
            "package",
            src.to_str().unwrap(),
            "-d",
            out1.to_str().unwrap(),
        ])
        .env_remove("SOURCE_DATE_EPOCH")
        .assert()
        .success()
        .stdout(predicates::str::contains("demo-0.3.0.tgz"));
    let tgz1 = out1.join("demo-0.3.0.tgz");
    let names: Vec<String> = entries(&tgz1).into_iter().map(|e| e.0).collect();
    assert_eq!(
        names,
        [
            "demo/Chart.yaml",
            "demo/values.yaml",
            "demo/values.schema.json",
            "demo/templates/cm.yaml",
            "demo/.helmignore",
            "demo/README.md",
            "demo/files/extra.txt",
            "demo/charts/sub/Chart.yaml",
            "demo/charts/sub/templates/sa.yaml",
        ]
    );
    assert!(
        entries(&tgz1)
            .iter()
            .all(|(_, mode, uid, mtime)| *mode == 0o644 && *uid == 0 && *mtime == 0)
    );

    // Touch every file (new times, another mode): the bytes do not change.
    for e in walk(&src) {
        let f = std::fs::File::options()
            .append(true)
            .open(&e)
            .expect("open");
        f.set_modified(std::time::SystemTime::now() + std::time::Duration::from_secs(3600))
            .expect("mtime");
    }
    let out2 = tmp.path().join("out2");
    pack()
        .args([
            "package",
            src.to_str().unwrap(),
            "-d",
            out2.to_str().unwrap(),
        ])
        .env_remove("SOURCE_DATE_EPOCH")
        .assert()
        .success();
    let a = std::fs::read(&tgz1).expect("read");
    let b = std::fs::read(out2.join("demo-0.3.0.tgz")).expect("read");
    assert_eq!(
        a, b,
        "packaging the same tree twice must give the same bytes"
    );

    // SOURCE_DATE_EPOCH sets the entry times.
    let out3 = tmp.path().join("out3");
    pack()
        .args([
            "package",
            src.to_str().unwrap(),
            "-d",
            out3.to_str().unwrap(),
        ])
        .env("SOURCE_DATE_EPOCH", "1700000000")
        .assert()
        .success();
    assert!(
        entries(&out3.join("demo-0.3.0.tgz"))
            .iter()
            .all(|e| e.3 == 1_700_000_000)
    );

    // --version and --app-version land in the archive's Chart.yaml and name.
    pack()
        .args([
            "package",
            src.to_str().unwrap(),
            "-d",
            out3.to_str().unwrap(),
            "--version",
            "0.4.0-rc.1",
            "--app-version",
            "2.0",
        ])
        .assert()
        .success();
    pack()
        .args([
            "show",
            "chart",
            out3.join("demo-0.4.0-rc.1.tgz").to_str().unwrap(),
        ])
        .assert()
        .success()
        .stdout(predicates::str::contains("version: 0.4.0-rc.1"))
        .stdout(predicates::str::contains("appVersion: \"2.0\""));
}

fn walk(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).expect("dir").flatten() {
        let p = e.path();
        if p.is_dir() {
            out.extend(walk(&p));
        } else {
            out.push(p);
        }
    }
    out
}

#[test]
fn an_invalid_chart_is_refused() {
    let tmp = tempfile::tempdir().expect("tmp");
    let src = chart(tmp.path());
    pack()
        .args([
            "package",
            src.to_str().unwrap(),
            "-d",
            tmp.path().to_str().unwrap(),
            "--version",
            "one",
        ])
        .assert()
        .code(1)
        .stderr(predicates::str::contains("not a valid SemVer 2 version"));
    std::fs::write(src.join("values.schema.json"), "{not json").expect("write");
    pack()
        .args([
            "package",
            src.to_str().unwrap(),
            "-d",
            tmp.path().to_str().unwrap(),
        ])
        .assert()
        .code(1)
        .stderr(predicates::str::contains(
            "values.schema.json is not valid JSON",
        ));
    assert!(!tmp.path().join("demo-0.3.0.tgz").exists());
}

#[test]
fn helm_reads_packs_archive_and_indexes_agree() {
    let Some(helm_bin) = common::reference_tool("helm") else {
        return;
    };
    let tmp = tempfile::tempdir().expect("tmp");
    let home = tmp.path().join("helm-home");
    let src = chart(tmp.path());
    let repo = tmp.path().join("repo");
    pack()
        .args([
            "package",
            src.to_str().unwrap(),
            "-d",
            repo.to_str().unwrap(),
        ])
        .assert()
        .success();
    let tgz = repo.join("demo-0.3.0.tgz");

    // helm renders pack's archive exactly as it renders the directory.
    let from_dir = common::run_ok(common::helm(&helm_bin, &home).args([
        "template",
        "r",
        src.to_str().unwrap(),
    ]));
    let from_tgz = common::run_ok(common::helm(&helm_bin, &home).args([
        "template",
        "r",
        tgz.to_str().unwrap(),
    ]));
    assert_eq!(from_dir, from_tgz);
    assert!(from_tgz.contains("extra: \"hello\""), "{from_tgz}");

    // An archive helm made sits beside it, in a subdirectory.
    let other = tmp.path().join("other");
    std::fs::create_dir_all(other.join("templates")).expect("dir");
    std::fs::write(
        other.join("Chart.yaml"),
        "apiVersion: v2\nname: other\nversion: 1.2.3\nkeywords: [a, b]\n",
    )
    .expect("write");
    std::fs::create_dir_all(repo.join("sub")).expect("dir");
    common::run_ok(common::helm(&helm_bin, &home).args([
        "package",
        other.to_str().unwrap(),
        "-d",
        repo.join("sub").to_str().unwrap(),
    ]));

    let helm_repo = tmp.path().join("helm-repo");
    copy_dir(&repo, &helm_repo);
    let url = "https://charts.example.com/stable";
    pack()
        .args(["repo", "index", repo.to_str().unwrap(), "--url", url])
        .assert()
        .success();
    common::run_ok(common::helm(&helm_bin, &home).args([
        "repo",
        "index",
        helm_repo.to_str().unwrap(),
        "--url",
        url,
    ]));
    let ours = without_times(&std::fs::read_to_string(repo.join("index.yaml")).expect("index"));
    let theirs =
        without_times(&std::fs::read_to_string(helm_repo.join("index.yaml")).expect("index"));
    assert_eq!(ours, theirs);
}

fn copy_dir(from: &Path, to: &Path) {
    for f in walk(from) {
        let rel = f.strip_prefix(from).expect("under");
        let dest = to.join(rel);
        std::fs::create_dir_all(dest.parent().expect("parent")).expect("dir");
        std::fs::copy(&f, dest).expect("copy");
    }
}

/// The index with its timestamps (`created`, `generated`) removed.
fn without_times(text: &str) -> String {
    text.lines()
        .filter(|l| {
            let t = l.trim_start();
            !t.starts_with("created:") && !t.starts_with("generated:")
        })
        .collect::<Vec<_>>()
        .join("\n")
}

fn pack_in(home: &Path) -> Command {
    let mut c = pack();
    c.env("PACK_CONFIG_HOME", home.join("config"))
        .env("PACK_CACHE_HOME", home.join("cache"))
        .env("PACK_DATA_HOME", home.join("data"));
    c
}

#[test]
fn repositories_add_search_pull_and_install_from_them() {
    let tmp = tempfile::tempdir().expect("tmp");
    let repo = tmp.path().join("repo");
    let src = chart(tmp.path());
    pack()
        .args([
            "package",
            src.to_str().unwrap(),
            "-d",
            repo.to_str().unwrap(),
        ])
        .assert()
        .success();
    pack()
        .args([
            "package",
            src.to_str().unwrap(),
            "-d",
            repo.to_str().unwrap(),
            "--version",
            "0.4.0-beta.1",
        ])
        .assert()
        .success();
    let server = common::static_http::StaticServer::start(repo.clone(), None);
    pack()
        .args([
            "repo",
            "index",
            repo.to_str().unwrap(),
            "--url",
            &server.url,
        ])
        .assert()
        .success();
    let home = tmp.path().join("home");
    pack_in(&home)
        .args(["repo", "add", "r", &server.url])
        .assert()
        .success()
        .stdout(predicates::str::contains("\"r\" has been added"));
    pack_in(&home)
        .args(["repo", "list"])
        .assert()
        .success()
        .stdout(predicates::str::contains(server.url.as_str()));
    // The newest stable version unless asked otherwise.
    pack_in(&home)
        .args(["search", "repo", "demo"])
        .assert()
        .success()
        .stdout(predicates::str::contains("r/demo").and(predicates::str::contains("0.3.0")));
    pack_in(&home)
        .args([
            "search",
            "repo",
            "demo",
            "--versions",
            "--version",
            ">=0.4.0-0",
        ])
        .assert()
        .success()
        .stdout(predicates::str::contains("0.4.0-beta.1"));
    let out = tmp.path().join("pulled");
    pack_in(&home)
        .args(["pull", "r/demo", "--untar", "-d", out.to_str().unwrap()])
        .assert()
        .success();
    assert!(out.join("demo/templates/cm.yaml").is_file());
    pack_in(&home)
        .args([
            "pull",
            "r/demo",
            "--version",
            "0.4.0-beta.1",
            "-d",
            out.to_str().unwrap(),
        ])
        .assert()
        .success();
    assert!(out.join("demo-0.4.0-beta.1.tgz").is_file());
    // A chart reference renders straight from the repository.
    pack_in(&home)
        .args(["template", "x", "r/demo"])
        .assert()
        .success()
        .stdout(predicates::str::contains("extra: \"hello\""));
    pack_in(&home)
        .args(["pull", "r/nope"])
        .assert()
        .code(1)
        .stderr(predicates::str::contains(
            "chart \"nope\" not found in repository r",
        ));
    pack_in(&home)
        .args(["repo", "remove", "r"])
        .assert()
        .success();
    pack_in(&home)
        .args(["repo", "list"])
        .assert()
        .code(1)
        .stderr(predicates::str::contains("no repositories"));

    // helm reads the repository pack indexed, and pulls pack's archives.
    if let Some(helm_bin) = common::reference_tool("helm") {
        let hh = tmp.path().join("helm-home");
        common::run_ok(common::helm(&helm_bin, &hh).args(["repo", "add", "r", &server.url]));
        let found = common::run_ok(common::helm(&helm_bin, &hh).args(["search", "repo", "demo"]));
        assert!(
            found.contains("r/demo") && found.contains("0.3.0"),
            "{found}"
        );
        let dest = tmp.path().join("helm-pulled");
        std::fs::create_dir_all(&dest).expect("dir");
        common::run_ok(common::helm(&helm_bin, &hh).args([
            "pull",
            "r/demo",
            "-d",
            dest.to_str().unwrap(),
        ]));
        assert!(dest.join("demo-0.3.0.tgz").is_file());
    }
}

#[test]
fn repository_credentials_are_required_and_used() {
    let tmp = tempfile::tempdir().expect("tmp");
    let repo = tmp.path().join("repo");
    let src = chart(tmp.path());
    pack()
        .args([
            "package",
            src.to_str().unwrap(),
            "-d",
            repo.to_str().unwrap(),
        ])
        .assert()
        .success();
    // "user:secret" in base64.
    let server = common::static_http::StaticServer::start(repo.clone(), Some("dXNlcjpzZWNyZXQ="));
    pack()
        .args([
            "repo",
            "index",
            repo.to_str().unwrap(),
            "--url",
            &server.url,
        ])
        .assert()
        .success();
    let home = tmp.path().join("home");
    pack_in(&home)
        .args(["repo", "add", "private", &server.url])
        .assert()
        .code(1)
        .stderr(predicates::str::contains("401"));
    pack_in(&home)
        .args([
            "repo",
            "add",
            "private",
            &server.url,
            "--username",
            "user",
            "--password",
            "secret",
        ])
        .assert()
        .success();
    pack_in(&home)
        .args([
            "pull",
            "private/demo",
            "-d",
            tmp.path().join("out").to_str().unwrap(),
        ])
        .assert()
        .success();
}

/// `pack repo serve` as a child process, stopped when dropped.
struct RepoServer {
    child: std::process::Child,
    url: String,
    /// Kept open for the server's lifetime.
    _stdout: std::io::BufReader<std::process::ChildStdout>,
}

impl RepoServer {
    fn start(storage: &Path, extra: &[&str]) -> RepoServer {
        use std::io::BufRead;
        let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_pack"))
            .args([
                "repo",
                "serve",
                "--port",
                "0",
                "--storage",
                storage.to_str().unwrap(),
            ])
            .args(extra)
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::null())
            .spawn()
            .expect("pack repo serve");
        let mut line = String::new();
        let mut stdout = std::io::BufReader::new(child.stdout.take().expect("stdout"));
        stdout.read_line(&mut line).expect("first line");
        let url = line.split_whitespace().last().expect("address").to_owned();
        RepoServer {
            child,
            url,
            _stdout: stdout,
        }
    }
}

impl Drop for RepoServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A gzipped tar whose one entry escapes the chart directory.
fn evil_archive() -> Vec<u8> {
    let mut tar = tar::Builder::new(Vec::new());
    let data = b"apiVersion: v2\nname: evil\nversion: 1.0.0\n";
    let mut ok = tar::Header::new_gnu();
    ok.set_size(data.len() as u64);
    ok.set_mode(0o644);
    tar.append_data(&mut ok, "evil/Chart.yaml", &data[..])
        .expect("append");
    let mut h = tar::Header::new_gnu();
    h.set_size(data.len() as u64);
    h.set_mode(0o644);
    let name = b"evil/../../outside.yaml";
    h.as_gnu_mut().expect("gnu").name[..name.len()].copy_from_slice(name);
    h.set_cksum();
    tar.append(&h, &data[..]).expect("append");
    let raw = tar.into_inner().expect("tar");
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    std::io::Write::write_all(&mut gz, &raw).expect("gz");
    gz.finish().expect("gz")
}

#[test]
fn repo_serve_takes_pushes_and_serves_helm() {
    let tmp = tempfile::tempdir().expect("tmp");
    let src = chart(tmp.path());
    let built = tmp.path().join("built");
    pack()
        .args([
            "package",
            src.to_str().unwrap(),
            "-d",
            built.to_str().unwrap(),
        ])
        .assert()
        .success();
    let tgz = built.join("demo-0.3.0.tgz");
    let storage = tmp.path().join("storage");
    let server = RepoServer::start(&storage, &["--auth", "ci:s3cret"]);
    let url = server.url.clone();

    // Writes need the credentials.
    pack()
        .args(["push", tgz.to_str().unwrap(), &url])
        .assert()
        .code(1)
        .stderr(predicates::str::contains("needs credentials"));
    pack()
        .args([
            "push",
            tgz.to_str().unwrap(),
            &url,
            "--username",
            "ci",
            "--password",
            "s3cret",
        ])
        .assert()
        .success()
        .stdout(predicates::str::contains("Digest: sha256:"));
    pack()
        .args([
            "push",
            tgz.to_str().unwrap(),
            &url,
            "--username",
            "ci",
            "--password",
            "s3cret",
        ])
        .assert()
        .code(1)
        .stderr(predicates::str::contains("already in the repository"));
    pack()
        .args([
            "push",
            tgz.to_str().unwrap(),
            &url,
            "--username",
            "ci",
            "--password",
            "s3cret",
            "--force",
        ])
        .assert()
        .success();

    // An archive that escapes its directory is refused; nothing is written.
    let client = reqwest::blocking::Client::new();
    let resp = client
        .post(format!("{url}/api/charts"))
        .basic_auth("ci", Some("s3cret"))
        .body(evil_archive())
        .send()
        .expect("post");
    assert_eq!(resp.status().as_u16(), 400);
    let why = resp.text().expect("body");
    assert!(why.contains(".."), "{why}");
    assert!(!tmp.path().join("outside.yaml").exists());
    let resp = client
        .post(format!("{url}/api/charts"))
        .basic_auth("ci", Some("s3cret"))
        .body("not a chart")
        .send()
        .expect("post");
    assert_eq!(resp.status().as_u16(), 400);

    // The API lists what is stored; reads need no credentials.
    let listed: serde_json::Value = client
        .get(format!("{url}/api/charts/demo"))
        .send()
        .expect("get")
        .json()
        .expect("json");
    assert_eq!(listed[0]["version"], "0.3.0");

    // helm adds, searches and pulls from it.
    if let Some(helm_bin) = common::reference_tool("helm") {
        let hh = tmp.path().join("helm-home");
        common::run_ok(common::helm(&helm_bin, &hh).args(["repo", "add", "p", &url]));
        let found = common::run_ok(common::helm(&helm_bin, &hh).args(["search", "repo", "demo"]));
        assert!(found.contains("p/demo"), "{found}");
        let dest = tmp.path().join("helm-pulled");
        std::fs::create_dir_all(&dest).expect("dir");
        common::run_ok(common::helm(&helm_bin, &hh).args([
            "pull",
            "p/demo",
            "-d",
            dest.to_str().unwrap(),
        ]));
        assert_eq!(
            std::fs::read(dest.join("demo-0.3.0.tgz")).expect("pulled"),
            std::fs::read(&tgz).expect("built")
        );
    }

    // Deleting needs the credentials too, then the index forgets the version.
    drop(server);
    let htpasswd = tmp.path().join("htpasswd");
    let hash = bcrypt::hash("from-file", 4).expect("bcrypt");
    std::fs::write(&htpasswd, format!("# users\nops:{hash}\n")).expect("htpasswd");
    let server = RepoServer::start(&storage, &["--htpasswd", htpasswd.to_str().unwrap()]);
    let url = server.url.clone();
    pack()
        .args([
            "push",
            tgz.to_str().unwrap(),
            &url,
            "--username",
            "ops",
            "--password",
            "wrong",
            "--force",
        ])
        .assert()
        .code(1)
        .stderr(predicates::str::contains("needs credentials"));
    pack()
        .args([
            "push",
            tgz.to_str().unwrap(),
            &url,
            "--username",
            "ops",
            "--password",
            "from-file",
            "--force",
        ])
        .assert()
        .success();
    let resp = client
        .delete(format!("{url}/api/charts/demo/0.3.0"))
        .send()
        .expect("delete");
    assert_eq!(resp.status().as_u16(), 401);
    let resp = client
        .delete(format!("{url}/api/charts/demo/0.3.0"))
        .basic_auth("ops", Some("from-file"))
        .send()
        .expect("delete");
    assert_eq!(resp.status().as_u16(), 200);
    let index = client
        .get(format!("{url}/index.yaml"))
        .send()
        .expect("get")
        .text()
        .expect("text");
    assert!(!index.contains("demo-0.3.0.tgz"), "{index}");
}
