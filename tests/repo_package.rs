//! `pack package` and `pack repo index`: reproducible archives laid out as Helm's, that the
//! real helm reads; an index with the same entries and digests as `helm repo index`.

mod common;

use common::{copy_dir, pack_in};

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

    // A provenance file beside the archive goes up with it (multipart) and is served.
    let prov = "-----BEGIN PGP SIGNED MESSAGE-----\nnot checked by the server\n";
    std::fs::write(built.join("demo-0.3.0.tgz.prov"), prov).expect("prov");
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
    let served = reqwest::blocking::get(format!("{url}/charts/demo-0.3.0.tgz.prov"))
        .expect("get")
        .text()
        .expect("text");
    assert_eq!(served, prov);
    std::fs::remove_file(built.join("demo-0.3.0.tgz.prov")).expect("rm");

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

/// A gzipped tar built entry by entry: `(path bytes, entry type, body)`. Paths are written
/// raw into the header, so they may be absolute or escape.
fn raw_archive(entries: &[(&[u8], tar::EntryType, Vec<u8>)], link: Option<&[u8]>) -> Vec<u8> {
    let mut tar = tar::Builder::new(Vec::new());
    for (name, kind, body) in entries {
        let mut h = tar::Header::new_gnu();
        h.set_entry_type(*kind);
        h.set_size(body.len() as u64);
        h.set_mode(0o644);
        h.as_gnu_mut().expect("gnu").name[..name.len()].copy_from_slice(name);
        if let (Some(target), tar::EntryType::Symlink | tar::EntryType::Link) = (link, kind) {
            h.as_gnu_mut().expect("gnu").linkname[..target.len()].copy_from_slice(target);
        }
        h.set_cksum();
        tar.append(&h, &body[..]).expect("append");
    }
    let raw = tar.into_inner().expect("tar");
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    std::io::Write::write_all(&mut gz, &raw).expect("gz");
    gz.finish().expect("gz")
}

/// Hostile archives of a chart `evil` at `version`, each with what the refusal names.
fn hostile_archives() -> Vec<(&'static str, &'static str, Vec<u8>)> {
    use tar::EntryType::{Char, Regular, Symlink};
    let meta = |v: &str| format!("apiVersion: v2\nname: evil\nversion: {v}\n").into_bytes();
    let mut bomb: Vec<(&[u8], tar::EntryType, Vec<u8>)> =
        vec![(b"evil/Chart.yaml", Regular, meta("1.0.6"))];
    // 24 files of 4.5 MiB of zeros: each under the per-file limit, 108 MiB in all, about
    // 100 KiB compressed.
    let names: Vec<Vec<u8>> = (0..24)
        .map(|i| format!("evil/files/zero-{i}").into_bytes())
        .collect();
    for n in &names {
        bomb.push((n, Regular, vec![0; 9 << 19]));
    }
    vec![
        ("1.0.1", "..", evil_archive_at("1.0.1")),
        (
            "1.0.2",
            "absolute",
            raw_archive(
                &[
                    (b"evil/Chart.yaml", Regular, meta("1.0.2")),
                    (b"/tmp/pack-absolute-entry", Regular, b"x".to_vec()),
                ],
                None,
            ),
        ),
        (
            "1.0.3",
            "link",
            raw_archive(
                &[
                    (b"evil/Chart.yaml", Regular, meta("1.0.3")),
                    (b"evil/templates/passwd.yaml", Symlink, Vec::new()),
                ],
                Some(b"/etc/passwd"),
            ),
        ),
        (
            "1.0.4",
            "device",
            raw_archive(
                &[
                    (b"evil/Chart.yaml", Regular, meta("1.0.4")),
                    (b"evil/templates/dev", Char, Vec::new()),
                ],
                None,
            ),
        ),
        (
            "1.0.5",
            "larger than",
            raw_archive(
                &[
                    (b"evil/Chart.yaml", Regular, meta("1.0.5")),
                    (b"evil/files/big", Regular, vec![b'a'; 6 << 20]),
                ],
                None,
            ),
        ),
        ("1.0.6", "expand", raw_archive(&bomb, None)),
        (
            "1.0.7",
            "chart name",
            raw_archive(
                &[(
                    b"evil/Chart.yaml",
                    Regular,
                    b"apiVersion: v2\nname: ../../evil\nversion: 1.0.7\n".to_vec(),
                )],
                None,
            ),
        ),
    ]
}

/// `evil_archive` for another version.
fn evil_archive_at(version: &str) -> Vec<u8> {
    let data = format!("apiVersion: v2\nname: evil\nversion: {version}\n").into_bytes();
    raw_archive(
        &[
            (b"evil/Chart.yaml", tar::EntryType::Regular, data.clone()),
            (b"evil/../../outside.yaml", tar::EntryType::Regular, data),
        ],
        None,
    )
}

fn files_under(dir: &Path) -> Vec<PathBuf> {
    if dir.exists() { walk(dir) } else { Vec::new() }
}

#[test]
fn hostile_archives_are_refused_on_upload_pull_and_dependency_update() {
    let tmp = tempfile::tempdir().expect("tmp");
    let cases = hostile_archives();

    // Upload: 400 naming the problem, nothing stored.
    let storage = tmp.path().join("storage");
    let server = RepoServer::start(&storage, &["--auth", "ci:pw"]);
    let client = reqwest::blocking::Client::new();
    for (version, why, bytes) in &cases {
        let resp = client
            .post(format!("{}/api/charts", server.url))
            .basic_auth("ci", Some("pw"))
            .body(bytes.clone())
            .send()
            .expect("post");
        let status = resp.status().as_u16();
        let body = resp.text().expect("body");
        assert_eq!(status, 400, "{version}: {body}");
        assert!(
            body.contains(why),
            "{version}: {body:?} should mention {why:?}"
        );
    }
    // A version that tries to climb out of the storage directory is refused.
    let tricky = raw_archive(
        &[(
            b"evil/Chart.yaml",
            tar::EntryType::Regular,
            b"apiVersion: v2\nname: evil\nversion: 1.0.0/../../../x\n".to_vec(),
        )],
        None,
    );
    let resp = client
        .post(format!("{}/api/charts", server.url))
        .basic_auth("ci", Some("pw"))
        .body(tricky)
        .send()
        .expect("post");
    assert_eq!(resp.status().as_u16(), 400);
    // Path tricks in the delete URL are refused too.
    for path in ["..%2F..%2Fetc/1.0.0", "evil/..%2F..%2Fx"] {
        let resp = client
            .delete(format!("{}/api/charts/{path}", server.url))
            .basic_auth("ci", Some("pw"))
            .send()
            .expect("delete");
        assert!(resp.status().is_client_error(), "{path}");
    }
    drop(server);
    assert!(
        files_under(&storage).is_empty(),
        "{:?}",
        files_under(&storage)
    );
    assert!(!Path::new("/tmp/pack-absolute-entry").exists());

    // Pull (with and without --untar) and dependency update from a static repository whose
    // index vouches for the archives' digests: refused, nothing written.
    let repo = tmp.path().join("repo");
    std::fs::create_dir_all(&repo).expect("dir");
    let mut index = String::from("apiVersion: v1\nentries:\n  evil:\n");
    for (version, _, bytes) in &cases {
        let file = format!("evil-{version}.tgz");
        std::fs::write(repo.join(&file), bytes).expect("write");
        let digest = pack::repo::package::sha256_hex(bytes);
        index.push_str(&format!(
            "  - apiVersion: v2\n    name: evil\n    version: {version}\n    digest: {digest}\n    urls: [{file}]\n"
        ));
    }
    index.push_str("generated: \"2026-01-01T00:00:00Z\"\n");
    std::fs::write(repo.join("index.yaml"), index).expect("index");
    let static_server = common::static_http::StaticServer::start(repo.clone(), None);
    let home = tmp.path().join("home");
    pack_in(&home)
        .args(["repo", "add", "r", &static_server.url])
        .assert()
        .success();
    let dest = tmp.path().join("dest");
    std::fs::create_dir_all(&dest).expect("dir");
    for (version, why, _) in &cases {
        for untar in [false, true] {
            let mut cmd = pack_in(&home);
            cmd.args([
                "pull",
                "r/evil",
                "--version",
                version,
                "-d",
                dest.to_str().unwrap(),
            ]);
            if untar {
                cmd.arg("--untar");
            }
            cmd.assert()
                .code(1)
                .stderr(predicates::str::contains("refusing").and(predicates::str::contains(*why)));
        }
        let parent = tmp.path().join(format!("parent-{version}"));
        std::fs::create_dir_all(&parent).expect("dir");
        std::fs::write(
            parent.join("Chart.yaml"),
            format!(
                "apiVersion: v2\nname: parent\nversion: 1.0.0\ndependencies:\n- name: evil\n  version: {version}\n  repository: \"@r\"\n"
            ),
        )
        .expect("Chart.yaml");
        pack_in(&home)
            .args(["dependency", "update", parent.to_str().unwrap()])
            .assert()
            .code(1)
            .stderr(predicates::str::contains(*why));
        assert!(!parent.join("charts").exists() || files_under(&parent.join("charts")).is_empty());
        assert!(!parent.join("Chart.lock").exists());
    }
    assert!(files_under(&dest).is_empty(), "{:?}", files_under(&dest));
    assert!(!tmp.path().join("outside.yaml").exists());
}

#[test]
fn concurrent_uploads_all_land_in_the_index() {
    let tmp = tempfile::tempdir().expect("tmp");
    let src = chart(tmp.path());
    let built = tmp.path().join("built");
    let versions: Vec<String> = (0..12).map(|i| format!("1.0.{i}")).collect();
    for v in &versions {
        pack()
            .args([
                "package",
                src.to_str().unwrap(),
                "-d",
                built.to_str().unwrap(),
                "--version",
                v,
            ])
            .assert()
            .success();
    }
    let storage = tmp.path().join("storage");
    let server = RepoServer::start(&storage, &[]);
    let url = server.url.clone();
    let threads: Vec<_> = versions
        .iter()
        .map(|v| {
            let bytes = std::fs::read(built.join(format!("demo-{v}.tgz"))).expect("tgz");
            let url = url.clone();
            std::thread::spawn(move || {
                reqwest::blocking::Client::new()
                    .post(format!("{url}/api/charts"))
                    .body(bytes)
                    .send()
                    .expect("post")
                    .status()
                    .as_u16()
            })
        })
        .collect();
    for t in threads {
        assert_eq!(t.join().expect("thread"), 201);
    }
    let index = reqwest::blocking::get(format!("{url}/index.yaml"))
        .expect("get")
        .text()
        .expect("text");
    for v in &versions {
        assert!(
            index.contains(&format!("charts/demo-{v}.tgz")),
            "{v}: {index}"
        );
    }
    // A restarted server reads the same entries back from storage.
    drop(server);
    let server = RepoServer::start(&storage, &[]);
    let again = reqwest::blocking::get(format!("{}/index.yaml", server.url))
        .expect("get")
        .text()
        .expect("text");
    assert_eq!(without_times(&again), without_times(&index));
}

#[test]
fn helm_made_repository_to_pack_install_and_pack_served_repository_to_helm_install() {
    let Some(helm_bin) = common::reference_tool("helm") else {
        return;
    };
    let tmp = tempfile::tempdir().expect("tmp");
    let hh = tmp.path().join("helm-home");
    let src = chart(tmp.path());
    // A repository helm made (archive and index), served statically.
    let repo = tmp.path().join("helm-repo");
    std::fs::create_dir_all(&repo).expect("dir");
    common::run_ok(common::helm(&helm_bin, &hh).args([
        "package",
        src.to_str().unwrap(),
        "-d",
        repo.to_str().unwrap(),
    ]));
    let server = common::static_http::StaticServer::start(repo.clone(), None);
    common::run_ok(common::helm(&helm_bin, &hh).args([
        "repo",
        "index",
        repo.to_str().unwrap(),
        "--url",
        &server.url,
    ]));
    let home = tmp.path().join("home");
    pack_in(&home)
        .args(["repo", "add", "h", &server.url])
        .assert()
        .success();
    let dest = tmp.path().join("pulled");
    pack_in(&home)
        .args(["pull", "h/demo", "-d", dest.to_str().unwrap()])
        .assert()
        .success();
    assert_eq!(
        std::fs::read(dest.join("demo-0.3.0.tgz")).expect("pulled"),
        std::fs::read(repo.join("demo-0.3.0.tgz")).expect("helm's")
    );
    let cluster = common::server::TestServer::start(None);
    pack_in(&home)
        .args([
            "install",
            "web",
            "h/demo",
            "--kubeconfig",
            cluster.kubeconfig.to_str().unwrap(),
        ])
        .assert()
        .success()
        .stdout(predicates::str::contains("STATUS: deployed"));
    pack_in(&home)
        .args(["list", "--kubeconfig", cluster.kubeconfig.to_str().unwrap()])
        .assert()
        .success()
        .stdout(predicates::str::contains("demo-0.3.0"));

    // The other way: helm installs (dry run) from `pack repo serve`.
    let storage = tmp.path().join("storage");
    let served = RepoServer::start(&storage, &[]);
    pack()
        .args([
            "push",
            repo.join("demo-0.3.0.tgz").to_str().unwrap(),
            &served.url,
        ])
        .assert()
        .success();
    common::run_ok(common::helm(&helm_bin, &hh).args(["repo", "add", "p", &served.url]));
    let out = common::run_ok(common::helm(&helm_bin, &hh).args([
        "install",
        "web",
        "p/demo",
        "--dry-run=client",
    ]));
    assert!(
        out.contains("kind: ConfigMap") && out.contains("name: web"),
        "{out}"
    );
}
