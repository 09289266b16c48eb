//! `pack dependency update|build` and `Chart.lock`: charts fetched from HTTP repositories
//! (by URL and by `@name`) and `file://` directories into `charts/`, locks the real helm
//! accepts (and the other way round), outdated archives removed; `package
//! --dependency-update`; charts named by `--repo URL` and by chart URL.

mod common;

use common::static_http::StaticServer;
use common::{copy_dir, pack_in};
use predicates::prelude::*;
use std::path::{Path, PathBuf};

fn write(path: &Path, text: &str) {
    std::fs::create_dir_all(path.parent().expect("parent")).expect("dir");
    std::fs::write(path, text).expect("write");
}

/// A one-template chart `name` at `version` in `dir/name`.
fn small_chart(dir: &Path, name: &str, version: &str) -> PathBuf {
    let c = dir.join(name);
    write(
        &c.join("Chart.yaml"),
        &format!("apiVersion: v2\nname: {name}\nversion: {version}\n"),
    );
    write(
        &c.join("templates/cm.yaml"),
        &format!(
            "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {{{{ .Release.Name }}}}-{{{{ .Chart.Name }}}}\ndata:\n  version: \"{{{{ .Chart.Version }}}}\"\n  from: {name}\n"
        ),
    );
    c
}

/// A repository directory holding `lib` 1.0.0, 1.1.0 and 2.0.0 and `other` 0.1.0, indexed
/// for `url`.
fn repository(tmp: &Path, dir: &Path, url: &str, home: &Path) {
    let src = tmp.join("src");
    for (name, v) in [
        ("lib", "1.0.0"),
        ("lib", "1.1.0"),
        ("lib", "2.0.0"),
        ("other", "0.1.0"),
    ] {
        let c = small_chart(&src.join(v), name, v);
        pack_in(home)
            .args(["package", c.to_str().unwrap(), "-d", dir.to_str().unwrap()])
            .assert()
            .success();
    }
    pack_in(home)
        .args(["repo", "index", dir.to_str().unwrap(), "--url", url])
        .assert()
        .success();
}

/// The parent chart: `lib` by URL, `other` under an alias through `@r`, and a `file://`
/// chart.
fn parent(dir: &Path, url: &str) -> PathBuf {
    let c = dir.join("app");
    write(
        &c.join("Chart.yaml"),
        &format!(
            "apiVersion: v2\nname: app\nversion: 1.0.0\ndependencies:\n- name: lib\n  version: \">=1.0.0 <2.0.0\"\n  repository: {url}\n- name: other\n  alias: extra\n  version: 0.1.x\n  repository: \"@r\"\n- name: local\n  version: \">=0.1.0\"\n  repository: file://../local\n"
        ),
    );
    write(
        &c.join("templates/cm.yaml"),
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {{ .Release.Name }}\n",
    );
    small_chart(dir, "local", "0.2.0");
    c
}

fn lock_without_time(dir: &Path) -> String {
    std::fs::read_to_string(dir.join("Chart.lock"))
        .expect("Chart.lock")
        .lines()
        .filter(|l| !l.starts_with("generated:"))
        .collect::<Vec<_>>()
        .join("\n")
}

fn archives(dir: &Path) -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(dir.join("charts"))
        .expect("charts/")
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    v.sort();
    v
}

#[test]
fn dependency_update_and_build_agree_with_helm() {
    let tmp = tempfile::tempdir().expect("tmp");
    let home = tmp.path().join("home");
    let repo_dir = tmp.path().join("repo");
    std::fs::create_dir_all(&repo_dir).expect("dir");
    let server = StaticServer::start(repo_dir.clone(), None);
    repository(tmp.path(), &repo_dir, &server.url, &home);
    let work = tmp.path().join("work");
    let app = parent(&work, &server.url);

    // `@r` needs the repository to be added.
    pack_in(&home)
        .args(["dependency", "update", app.to_str().unwrap()])
        .assert()
        .code(1)
        .stderr(predicates::str::contains("no repository definition for @r"));
    pack_in(&home)
        .args(["repo", "add", "r", &server.url])
        .assert()
        .success();
    pack_in(&home)
        .args(["dependency", "update", app.to_str().unwrap()])
        .assert()
        .success()
        .stdout(
            predicates::str::contains("Saving 3 charts")
                .and(predicates::str::contains("Downloading lib from repo"))
                .and(predicates::str::contains("Wrote")),
        );
    // The highest version within each constraint; the local chart packaged.
    assert_eq!(
        archives(&app),
        ["lib-1.1.0.tgz", "local-0.2.0.tgz", "other-0.1.0.tgz"]
    );
    let lock = lock_without_time(&app);
    assert!(
        lock.contains("- name: lib\n  repository: ") && lock.contains("version: 1.1.0"),
        "{lock}"
    );
    // `@r` is recorded as the repository's URL, as Helm records it.
    assert!(!lock.contains("@r"), "{lock}");
    assert!(
        lock.contains("repository: file://../local\n  version: 0.2.0"),
        "{lock}"
    );
    pack_in(&home)
        .args(["dependency", "list", app.to_str().unwrap()])
        .assert()
        .success()
        .stdout(predicates::str::contains("ok").and(predicates::str::contains("missing").not()));
    let rendered = pack_in(&home)
        .args(["template", "x", app.to_str().unwrap()])
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    let rendered = String::from_utf8(rendered).expect("utf8");
    assert!(rendered.contains("version: \"1.1.0\""), "{rendered}");
    assert!(rendered.contains("name: x-extra"), "{rendered}");
    assert!(rendered.contains("from: local"), "{rendered}");

    // Nothing changed: the lock is not rewritten.
    let before = std::fs::read_to_string(app.join("Chart.lock")).expect("lock");
    pack_in(&home)
        .args([
            "dependency",
            "update",
            app.to_str().unwrap(),
            "--skip-refresh",
        ])
        .assert()
        .success();
    assert_eq!(
        std::fs::read_to_string(app.join("Chart.lock")).expect("lock"),
        before
    );

    // build fetches exactly the locked versions into an emptied charts/.
    for a in ["lib-1.1.0.tgz", "local-0.2.0.tgz", "other-0.1.0.tgz"] {
        std::fs::remove_file(app.join("charts").join(a)).expect("rm");
    }
    pack_in(&home)
        .args(["dependency", "build", app.to_str().unwrap()])
        .assert()
        .success();
    assert_eq!(
        archives(&app),
        ["lib-1.1.0.tgz", "local-0.2.0.tgz", "other-0.1.0.tgz"]
    );

    // The real helm computes the same lock (digest included) and accepts pack's.
    if let Some(helm_bin) = common::reference_tool("helm") {
        let hh = tmp.path().join("helm-home");
        common::run_ok(common::helm(&helm_bin, &hh).args(["repo", "add", "r", &server.url]));
        let helm_work = tmp.path().join("helm-work");
        std::fs::create_dir_all(helm_work.join("app")).expect("dir");
        std::fs::create_dir_all(helm_work.join("local")).expect("dir");
        copy_dir(&work.join("local"), &helm_work.join("local"));
        write(
            &helm_work.join("app/Chart.yaml"),
            &std::fs::read_to_string(app.join("Chart.yaml")).expect("Chart.yaml"),
        );
        write(
            &helm_work.join("app/templates/cm.yaml"),
            &std::fs::read_to_string(app.join("templates/cm.yaml")).expect("cm"),
        );
        common::run_ok(common::helm(&helm_bin, &hh).args([
            "dependency",
            "update",
            helm_work.join("app").to_str().unwrap(),
        ]));
        assert_eq!(lock_without_time(&helm_work.join("app")), lock);
        // helm builds from pack's lock; pack builds from helm's.
        common::run_ok(common::helm(&helm_bin, &hh).args([
            "dependency",
            "build",
            app.to_str().unwrap(),
        ]));
        pack_in(&home)
            .args([
                "dependency",
                "build",
                helm_work.join("app").to_str().unwrap(),
            ])
            .assert()
            .success();
    }

    // A Chart.yaml edited after the lock: build refuses, update moves on and deletes the
    // archives no longer wanted (other files in charts/ stay; pack loads charts with them,
    // helm does not).
    write(&app.join("charts/README.txt"), "not a chart: kept\n");
    let chart_yaml = std::fs::read_to_string(app.join("Chart.yaml")).expect("Chart.yaml");
    std::fs::write(
        app.join("Chart.yaml"),
        chart_yaml.replace("\">=1.0.0 <2.0.0\"", "2.0.0"),
    )
    .expect("write");
    pack_in(&home)
        .args(["dependency", "build", app.to_str().unwrap()])
        .assert()
        .code(1)
        .stderr(predicates::str::contains("out of sync"));
    pack_in(&home)
        .args(["dependency", "update", app.to_str().unwrap()])
        .assert()
        .success()
        .stdout(predicates::str::contains("Deleting outdated charts"));
    assert_eq!(
        archives(&app),
        [
            "README.txt",
            "lib-2.0.0.tgz",
            "local-0.2.0.tgz",
            "other-0.1.0.tgz"
        ]
    );

    // No version satisfies: the error names the dependency; charts/ is untouched.
    std::fs::write(
        app.join("Chart.yaml"),
        chart_yaml.replace("\">=1.0.0 <2.0.0\"", "^3.0.0"),
    )
    .expect("write");
    pack_in(&home)
        .args(["dependency", "update", app.to_str().unwrap()])
        .assert()
        .code(1)
        .stderr(predicates::str::contains(
            "can't get a valid version for 1 subchart(s): \"lib\"",
        ));
    assert_eq!(
        archives(&app),
        [
            "README.txt",
            "lib-2.0.0.tgz",
            "local-0.2.0.tgz",
            "other-0.1.0.tgz"
        ]
    );
}

#[test]
fn package_updates_dependencies_on_request_and_refuses_missing_ones() {
    let tmp = tempfile::tempdir().expect("tmp");
    let home = tmp.path().join("home");
    let work = tmp.path().join("work");
    small_chart(&work, "local", "0.2.0");
    let app = work.join("app");
    write(
        &app.join("Chart.yaml"),
        "apiVersion: v2\nname: app\nversion: 1.0.0\ndependencies:\n- name: local\n  version: 0.2.x\n  repository: file://../local\n",
    );
    let out = tmp.path().join("out");
    pack_in(&home)
        .args([
            "package",
            app.to_str().unwrap(),
            "-d",
            out.to_str().unwrap(),
        ])
        .assert()
        .code(1)
        .stderr(predicates::str::contains(
            "missing in charts/ directory: local",
        ));
    pack_in(&home)
        .args([
            "package",
            app.to_str().unwrap(),
            "-d",
            out.to_str().unwrap(),
            "--dependency-update",
        ])
        .assert()
        .success();
    let tgz = out.join("app-1.0.0.tgz");
    let rendered = pack_in(&home)
        .args(["template", "x", tgz.to_str().unwrap()])
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    assert!(String::from_utf8_lossy(&rendered).contains("from: local"));
    // The lock travels in the archive.
    let listing = pack_in(&home)
        .args(["show", "chart", tgz.to_str().unwrap()])
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    assert!(String::from_utf8_lossy(&listing).contains("name: app"));
    let bytes = std::fs::read(&tgz).expect("tgz");
    let mut names = Vec::new();
    let mut ar = tar::Archive::new(flate2::read::GzDecoder::new(&bytes[..]));
    for e in ar.entries().expect("entries") {
        names.push(
            e.expect("entry")
                .path()
                .expect("path")
                .display()
                .to_string(),
        );
    }
    assert!(names.contains(&"app/Chart.lock".to_owned()), "{names:?}");
    assert!(
        names.iter().any(|n| n.starts_with("app/charts/local/")),
        "{names:?}"
    );
}

#[test]
fn charts_come_from_a_repository_url_or_a_chart_url() {
    let tmp = tempfile::tempdir().expect("tmp");
    let home = tmp.path().join("home");
    let repo_dir = tmp.path().join("repo");
    std::fs::create_dir_all(&repo_dir).expect("dir");
    let server = StaticServer::start(repo_dir.clone(), None);
    repository(tmp.path(), &repo_dir, &server.url, &home);

    // --repo URL: no `repo add` needed; --version picks within the constraint.
    pack_in(&home)
        .args([
            "template",
            "x",
            "lib",
            "--repo",
            &server.url,
            "--version",
            "~1.0",
        ])
        .assert()
        .success()
        .stdout(predicates::str::contains("version: \"1.0.0\""));
    pack_in(&home)
        .args(["show", "chart", "lib", "--repo", &server.url])
        .assert()
        .success()
        .stdout(predicates::str::contains("version: 2.0.0"));
    let dest = tmp.path().join("pulled");
    pack_in(&home)
        .args([
            "pull",
            "other",
            "--repo",
            &server.url,
            "-d",
            dest.to_str().unwrap(),
        ])
        .assert()
        .success();
    assert!(dest.join("other-0.1.0.tgz").is_file());
    // A chart URL.
    pack_in(&home)
        .args(["template", "x", &format!("{}/lib-1.1.0.tgz", server.url)])
        .assert()
        .success()
        .stdout(predicates::str::contains("version: \"1.1.0\""));
    pack_in(&home)
        .args(["lint", &format!("{}/lib-1.1.0.tgz", server.url)])
        .assert()
        .success();
    // Not there: said plainly.
    pack_in(&home)
        .args(["template", "x", "nope", "--repo", &server.url])
        .assert()
        .code(1)
        .stderr(predicates::str::contains("chart \"nope\" not found"));
}

#[test]
fn repo_url_charts_take_credentials() {
    let tmp = tempfile::tempdir().expect("tmp");
    let home = tmp.path().join("home");
    let repo_dir = tmp.path().join("repo");
    std::fs::create_dir_all(&repo_dir).expect("dir");
    // "user:secret" in base64.
    let server = StaticServer::start(repo_dir.clone(), Some("dXNlcjpzZWNyZXQ="));
    repository(tmp.path(), &repo_dir, &server.url, &home);
    pack_in(&home)
        .args(["template", "x", "other", "--repo", &server.url])
        .assert()
        .code(1)
        .stderr(predicates::str::contains("401"));
    pack_in(&home)
        .args([
            "template",
            "x",
            "other",
            "--repo",
            &server.url,
            "--username",
            "user",
            "--password",
            "secret",
        ])
        .assert()
        .success()
        .stdout(predicates::str::contains("from: other"));
    // Credentials only make sense with --repo (or an oci:// chart).
    pack_in(&home)
        .args(["template", "x", "other", "--username", "user"])
        .assert()
        .code(2);
}
