//! OCI registries and provenance against the real thing: a CNCF distribution registry on
//! loopback, the real helm on the other side of every exchange, and GnuPG-made keys.

mod common;

use common::pack_in;
use common::registry::{Registry, gpg_key, gpg_key_with};
use predicates::prelude::*;
use std::path::{Path, PathBuf};

/// A small Helm chart `demo` at `version`, packaged by helm into `dir`; the archive's path.
fn helm_packaged(helm: &Path, hh: &Path, dir: &Path, version: &str) -> PathBuf {
    let src = dir.join(format!("src-{version}/demo"));
    std::fs::create_dir_all(src.join("templates")).expect("dir");
    std::fs::write(
        src.join("Chart.yaml"),
        format!("apiVersion: v2\nname: demo\nversion: {version}\nappVersion: \"1.0\"\ndescription: A demo & <test>\nmaintainers:\n  - name: Ann\n    email: ann@example.com\n"),
    )
    .expect("Chart.yaml");
    std::fs::write(src.join("values.yaml"), "greeting: hello\n").expect("values");
    std::fs::write(
        src.join("templates/cm.yaml"),
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {{ .Release.Name }}-demo\ndata:\n  greeting: {{ .Values.greeting | quote }}\n",
    )
    .expect("template");
    let out = dir.join("archives");
    common::run_ok(common::helm(helm, hh).args([
        "package",
        src.to_str().unwrap(),
        "-d",
        out.to_str().unwrap(),
    ]));
    out.join(format!("demo-{version}.tgz"))
}

/// The `Digest: sha256:…` a push or pull printed.
fn digest_in(text: &str) -> String {
    text.lines()
        .find_map(|l| l.strip_prefix("Digest: "))
        .unwrap_or_else(|| panic!("no digest in {text:?}"))
        .to_owned()
}

fn stderr(out: &std::process::Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

#[test]
fn helm_and_pack_push_and_pull_through_one_registry() {
    let Some(helm) = common::reference_tool("helm") else {
        return;
    };
    let tmp = tempfile::tempdir().expect("tmp");
    let Some(reg) = Registry::start(&tmp.path().join("registry"), None) else {
        return;
    };
    let hh = tmp.path().join("helm-home");
    let home = tmp.path().join("home");
    let archive = helm_packaged(&helm, &hh, tmp.path(), "0.1.0");

    // `pack|helm ARGS --plain-http`, which must succeed: its output.
    let pack_ok = |args: &[&str]| {
        let out = pack_in(&home)
            .args(args)
            .arg("--plain-http")
            .output()
            .expect("pack runs");
        assert!(out.status.success(), "pack {args:?}: {}", stderr(&out));
        out
    };
    let helm_ok = |args: &[&str]| {
        let out = common::helm(&helm, &hh)
            .args(args)
            .arg("--plain-http")
            .output()
            .expect("helm runs");
        assert!(out.status.success(), "helm {args:?}: {}", stderr(&out));
        out
    };
    let tgz = archive.to_str().unwrap();
    let same_bytes = |pulled: &Path| {
        assert_eq!(
            std::fs::read(pulled).expect("pulled"),
            std::fs::read(&archive).expect("archive")
        )
    };

    // pack pushes, helm pushes the same file elsewhere: the same manifest, so one digest.
    let pushed = pack_ok(&["push", tgz, &reg.url("pack")]);
    assert!(
        pushed.stdout.is_empty(),
        "push writes to stderr, as helm does"
    );
    let pack_digest = digest_in(&stderr(&pushed));
    assert!(
        stderr(&pushed).contains(&format!("Pushed: {}/pack/demo:0.1.0", reg.host)),
        "{}",
        stderr(&pushed)
    );
    let out = helm_ok(&["push", tgz, &reg.url("helm")]);
    assert_eq!(
        digest_in(&stderr(&out)),
        pack_digest,
        "helm's manifest of the same archive"
    );

    // helm pulls what pack pushed: the same bytes, the same digest.
    let hdest = tmp.path().join("helm-pulled");
    std::fs::create_dir_all(&hdest).expect("dir");
    let hd = hdest.to_str().unwrap();
    let out = helm_ok(&[
        "pull",
        &reg.url("pack/demo"),
        "--version",
        "0.1.0",
        "-d",
        hd,
    ]);
    assert_eq!(digest_in(&stderr(&out)), pack_digest);
    same_bytes(&hdest.join("demo-0.1.0.tgz"));

    // pack pulls what helm pushed, by a range (tags listed), and installs it.
    let pdest = tmp.path().join("pack-pulled");
    let pd = pdest.to_str().unwrap();
    let out = pack_ok(&["pull", &reg.url("helm/demo"), "--version", "^0.1", "-d", pd]);
    assert!(stderr(&out).contains(&format!("Pulled: {}/helm/demo:0.1.0", reg.host)));
    assert_eq!(digest_in(&stderr(&out)), pack_digest);
    same_bytes(&pdest.join("demo-0.1.0.tgz"));
    let out = pack_ok(&["template", "r", &reg.url("helm/demo")]);
    assert!(String::from_utf8_lossy(&out.stdout).contains("name: r-demo"));
    let out = pack_ok(&["show", "chart", &reg.url("helm/demo:0.1.0")]);
    assert!(String::from_utf8_lossy(&out.stdout).contains("name: demo"));
    let cluster = common::server::TestServer::start(None);
    let kc = cluster.kubeconfig.to_str().unwrap();
    let out = pack_ok(&["install", "web", &reg.url("helm/demo"), "--kubeconfig", kc]);
    assert!(String::from_utf8_lossy(&out.stdout).contains("STATUS: deployed"));

    // A `+` version is stored under a `_` tag, and found again as `+` by both tools.
    let plus = helm_packaged(&helm, &hh, tmp.path(), "0.2.0+build.1");
    let out = pack_ok(&["push", plus.to_str().unwrap(), &reg.url("pack")]);
    assert!(
        stderr(&out).contains("pack/demo:0.2.0_build.1 contains an underscore"),
        "{}",
        stderr(&out)
    );
    helm_ok(&[
        "pull",
        &reg.url("pack/demo"),
        "--version",
        "0.2.0+build.1",
        "-d",
        hd,
    ]);
    assert!(hdest.join("demo-0.2.0+build.1.tgz").is_file());
    pack_ok(&["pull", &reg.url("pack/demo"), "-d", pd]);
    assert!(
        pdest.join("demo-0.2.0+build.1.tgz").is_file(),
        "the latest version, read back as +"
    );
    // The release installed from the registry upgrades to that version from it.
    pack_ok(&["upgrade", "web", &reg.url("pack/demo"), "--kubeconfig", kc]);
    pack_in(&home)
        .args(["history", "web", "--kubeconfig", kc])
        .assert()
        .success()
        .stdout(predicates::str::contains("demo-0.2.0+build.1"));

    // Clear refusals.
    pack_in(&home)
        .args([
            "pull",
            &reg.url("pack/demo"),
            "--version",
            "^9",
            "--plain-http",
        ])
        .assert()
        .failure()
        .stderr(
            predicates::str::contains("no tag matches \"^9\"")
                .and(predicates::str::contains("0.1.0")),
        );
    pack_in(&home)
        .args([
            "push",
            archive.parent().unwrap().to_str().unwrap(),
            &reg.url("pack"),
            "--plain-http",
        ])
        .assert()
        .failure();
    pack_in(&home)
        .args(["pull", "oci://Bad/Path", "--plain-http"])
        .assert()
        .failure()
        .stderr(predicates::str::contains("not a valid OCI reference"));

    // An oci:// dependency: pack resolves it from the tags and locks it; helm builds from
    // pack's lock.
    let parent = tmp.path().join("parent");
    std::fs::create_dir_all(parent.join("templates")).expect("dir");
    std::fs::write(
        parent.join("Chart.yaml"),
        format!(
            "apiVersion: v2\nname: parent\nversion: 1.0.0\ndependencies:\n  - name: demo\n    version: \"~0.1\"\n    repository: {}\n",
            reg.url("helm")
        ),
    )
    .expect("parent");
    pack_in(&home)
        .args(["dependency", "update", "--plain-http"])
        .arg(&parent)
        .assert()
        .success()
        .stdout(predicates::str::contains("Downloading demo from repo"));
    assert_eq!(
        std::fs::read(parent.join("charts/demo-0.1.0.tgz")).expect("dependency"),
        std::fs::read(&archive).expect("archive")
    );
    let lock = std::fs::read_to_string(parent.join("Chart.lock")).expect("lock");
    assert!(lock.contains("version: 0.1.0"), "{lock}");
    std::fs::remove_dir_all(parent.join("charts")).expect("rm charts");
    common::run_ok(
        common::helm(&helm, &hh)
            .args(["dependency", "build", "--plain-http"])
            .arg(&parent),
    );
    assert!(
        parent.join("charts/demo-0.1.0.tgz").is_file(),
        "helm built from pack's lock"
    );
}

#[test]
fn registry_login_stores_credentials_helm_can_use() {
    let Some(helm) = common::reference_tool("helm") else {
        return;
    };
    let tmp = tempfile::tempdir().expect("tmp");
    let htpasswd = tmp.path().join("htpasswd");
    let hash = bcrypt::hash("s3cret", 5).expect("bcrypt");
    std::fs::write(&htpasswd, format!("ann:{hash}\n")).expect("htpasswd");
    let Some(reg) = Registry::start(&tmp.path().join("registry"), Some(&htpasswd)) else {
        return;
    };
    let hh = tmp.path().join("helm-home");
    let home = tmp.path().join("home");
    let archive = helm_packaged(&helm, &hh, tmp.path(), "0.1.0");
    let config = home.join("config/registry/config.json");

    pack_in(&home)
        .args([
            "push",
            archive.to_str().unwrap(),
            &reg.url("charts"),
            "--plain-http",
        ])
        .assert()
        .failure()
        .stderr(
            predicates::str::contains("401 Unauthorized").and(predicates::str::contains(format!(
                "pack registry login {}",
                reg.host
            ))),
        );
    let login = |password: &str| {
        pack_in(&home)
            .args(["registry", "login", &reg.host, "-u", "ann"])
            .args(["--password-stdin", "--plain-http"])
            .write_stdin(format!("{password}\n"))
            .assert()
    };
    login("wrong")
        .failure()
        .stderr(predicates::str::contains("refused the credentials"));
    assert!(
        !config.exists(),
        "nothing is stored for refused credentials"
    );
    login("s3cret")
        .success()
        .stderr(predicates::str::contains("Login Succeeded"));
    let stored: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&config).expect("config.json"))
            .expect("JSON");
    assert_eq!(stored["auths"][&reg.host]["auth"], "YW5uOnMzY3JldA==");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&config)
            .expect("meta")
            .permissions()
            .mode();
        assert_eq!(
            mode & 0o077,
            0,
            "credentials are readable by their owner only"
        );
    }
    pack_in(&home)
        .args([
            "push",
            archive.to_str().unwrap(),
            &reg.url("charts"),
            "--plain-http",
        ])
        .assert()
        .success();
    // helm reads the credentials file pack wrote.
    std::fs::create_dir_all(tmp.path().join("h")).expect("dir");
    let out = common::helm(&helm, &hh)
        .env("HELM_REGISTRY_CONFIG", &config)
        .args([
            "pull",
            &reg.url("charts/demo"),
            "--version",
            "0.1.0",
            "--plain-http",
            "-d",
        ])
        .arg(tmp.path().join("h"))
        .output()
        .expect("helm pull");
    assert!(out.status.success(), "{}", stderr(&out));
    pack_in(&home)
        .args(["registry", "logout", &reg.host])
        .assert()
        .success()
        .stderr(predicates::str::contains(format!(
            "Removing login credentials for {}",
            reg.host
        )));
    pack_in(&home)
        .args(["pull", &reg.url("charts/demo"), "--plain-http", "-d"])
        .arg(tmp.path().join("p"))
        .assert()
        .failure()
        .stderr(predicates::str::contains("needs credentials"));
    // Flags work without a login.
    pack_in(&home)
        .args([
            "pull",
            &reg.url("charts/demo"),
            "--plain-http",
            "--username",
            "ann",
            "--password",
            "s3cret",
            "-d",
        ])
        .arg(tmp.path().join("p"))
        .assert()
        .success();
    assert!(tmp.path().join("p/demo-0.1.0.tgz").is_file());
    // Credentials from `docker login` (Docker's config.json) are used too, as helm uses them.
    std::fs::create_dir_all(home.join("docker")).expect("dir");
    std::fs::write(
        home.join("docker/config.json"),
        format!(
            r#"{{"auths":{{"{}":{{"auth":"YW5uOnMzY3JldA=="}}}}}}"#,
            reg.host
        ),
    )
    .expect("docker config");
    pack_in(&home)
        .args(["pull", &reg.url("charts/demo"), "--plain-http", "-d"])
        .arg(tmp.path().join("d"))
        .assert()
        .success();
}

#[test]
fn provenance_made_by_either_tool_verifies_with_both() {
    let Some(helm) = common::reference_tool("helm") else {
        return;
    };
    let tmp = tempfile::tempdir().expect("tmp");
    let Some(keys) = gpg_key(
        &tmp.path().join("k1"),
        "Pack Test <pack@example.com>",
        "rsa2048",
    ) else {
        return;
    };
    let Some(other) = gpg_key(
        &tmp.path().join("k2"),
        "Someone Else <else@example.com>",
        "ed25519",
    ) else {
        return;
    };
    let hh = tmp.path().join("helm-home");
    let home = tmp.path().join("home");
    let archive = helm_packaged(&helm, &hh, tmp.path(), "0.1.0");
    let src = archive
        .parent()
        .unwrap()
        .parent()
        .unwrap()
        .join("src-0.1.0/demo");

    // `package --sign` by pack into `dest`, `verify` by either tool.
    let sign = |dest: &str, key: &str, keyring: &Path| {
        let mut c = pack_in(&home);
        c.args(["package", src.to_str().unwrap(), "-d"])
            .arg(tmp.path().join(dest))
            .args(["--sign", "--key", key, "--keyring"])
            .arg(keyring);
        c
    };
    let verify = |tgz: &Path, keyring: &Path| {
        let mut c = pack_in(&home);
        c.arg("verify").arg(tgz).arg("--keyring").arg(keyring);
        c
    };
    let helm_verify = |tgz: &Path, keyring: &Path| {
        common::run_ok(
            common::helm(&helm, &hh)
                .arg("verify")
                .arg(tgz)
                .arg("--keyring")
                .arg(keyring),
        )
    };

    // pack signs; helm and pack verify, with the same report.
    sign("pack-signed", "pack@example.com", &keys.secring)
        .assert()
        .success();
    let signed = tmp.path().join("pack-signed");
    let tgz = signed.join("demo-0.1.0.tgz");
    let prov = std::fs::read_to_string(signed.join("demo-0.1.0.tgz.prov")).expect("prov");
    assert!(
        prov.starts_with("-----BEGIN PGP SIGNED MESSAGE-----\nHash: SHA512\n\n"),
        "{prov}"
    );
    assert!(
        prov.contains("\n...\nfiles:\n  demo-0.1.0.tgz: sha256:"),
        "{prov}"
    );
    let helm_says = helm_verify(&tgz, &keys.pubring);
    let pack_says = verify(&tgz, &keys.pubring).output().expect("pack verify");
    assert!(pack_says.status.success(), "{}", stderr(&pack_says));
    assert_eq!(String::from_utf8_lossy(&pack_says.stdout), helm_says);
    assert!(
        helm_says.contains("Signed by: Pack Test <pack@example.com>"),
        "{helm_says}"
    );
    // An armored keyring works as well (helm's does not read one).
    verify(&tgz, &keys.pubring_asc).assert().success();

    // helm signs; pack verifies.
    let hsigned = tmp.path().join("helm-signed");
    common::run_ok(
        common::helm(&helm, &hh)
            .args(["package", src.to_str().unwrap(), "-d"])
            .arg(&hsigned)
            .args(["--sign", "--key", "Pack Test", "--keyring"])
            .arg(&keys.secring),
    );
    verify(&hsigned.join("demo-0.1.0.tgz"), &keys.pubring)
        .assert()
        .success()
        .stdout(predicates::str::contains("Chart Hash Verified: sha256:"));

    // An Ed25519 key signs too.
    sign("ed-signed", "Someone", &other.secring)
        .assert()
        .success();
    helm_verify(&tmp.path().join("ed-signed/demo-0.1.0.tgz"), &other.pubring);

    // A passphrase-protected key needs its passphrase, from a file or stdin.
    let Some(locked) = gpg_key_with(
        &tmp.path().join("k3"),
        "Locked <locked@example.com>",
        "rsa2048",
        "hunter2",
    ) else {
        return;
    };
    sign("l1", "Locked", &locked.secring)
        .assert()
        .failure()
        .stderr(predicates::str::contains("protected by a passphrase"));
    sign("l2", "Locked", &locked.secring)
        .args(["--passphrase-file", "-"])
        .write_stdin("wrong\n")
        .assert()
        .failure()
        .stderr(predicates::str::contains("is the passphrase right?"));
    sign("l3", "Locked", &locked.secring)
        .args(["--passphrase-file", "-"])
        .write_stdin("hunter2\n")
        .assert()
        .success();
    helm_verify(&tmp.path().join("l3/demo-0.1.0.tgz"), &locked.pubring);

    // Refusals: another keyring, a changed archive, a missing .prov, a missing key.
    verify(&tgz, &other.pubring)
        .assert()
        .failure()
        .stderr(predicates::str::contains("not made by any key in"));
    let tampered = tmp.path().join("tampered");
    std::fs::create_dir_all(&tampered).expect("dir");
    let mut bytes = std::fs::read(&tgz).expect("tgz");
    bytes.push(0);
    std::fs::write(tampered.join("demo-0.1.0.tgz"), &bytes).expect("write");
    std::fs::copy(
        signed.join("demo-0.1.0.tgz.prov"),
        tampered.join("demo-0.1.0.tgz.prov"),
    )
    .expect("copy");
    verify(&tampered.join("demo-0.1.0.tgz"), &keys.pubring)
        .assert()
        .failure()
        .stderr(predicates::str::contains("changed after signing"));
    verify(&archive, &keys.pubring)
        .assert()
        .failure()
        .stderr(predicates::str::contains("no provenance file"));
    sign("x", "Nobody", &keys.secring)
        .assert()
        .failure()
        .stderr(
            predicates::str::contains("no secret key in")
                .and(predicates::str::contains("Pack Test <pack@example.com>")),
        );
    assert!(
        !tmp.path().join("x/demo-0.1.0.tgz").exists(),
        "a failed --sign leaves no unsigned archive"
    );

    // Through a registry: the .prov travels as a layer; pull and install --verify check it.
    let Some(reg) = Registry::start(&tmp.path().join("registry"), None) else {
        return;
    };
    pack_in(&home)
        .args([
            "push",
            tgz.to_str().unwrap(),
            &reg.url("signed"),
            "--plain-http",
        ])
        .assert()
        .success();
    pack_in(&home)
        .args([
            "push",
            archive.to_str().unwrap(),
            &reg.url("unsigned"),
            "--plain-http",
        ])
        .assert()
        .success();
    let dest = tmp.path().join("verified");
    pack_in(&home)
        .args([
            "pull",
            &reg.url("signed/demo"),
            "--version",
            "0.1.0",
            "--plain-http",
            "--verify",
            "-d",
            dest.to_str().unwrap(),
            "--keyring",
        ])
        .arg(&keys.pubring)
        .assert()
        .success()
        .stdout(predicates::str::contains(
            "Signed by: Pack Test <pack@example.com>",
        ));
    assert!(
        dest.join("demo-0.1.0.tgz.prov").is_file(),
        "the verified .prov is kept beside it"
    );
    std::fs::create_dir_all(tmp.path().join("helm-verified")).expect("dir");
    let out = common::helm(&helm, &hh)
        .args([
            "pull",
            &reg.url("signed/demo"),
            "--version",
            "0.1.0",
            "--plain-http",
            "--verify",
            "-d",
        ])
        .arg(tmp.path().join("helm-verified"))
        .arg("--keyring")
        .arg(&keys.pubring)
        .output()
        .expect("helm pull --verify");
    assert!(
        out.status.success(),
        "helm verifies pack's provenance layer: {}",
        stderr(&out)
    );
    pack_in(&home)
        .args([
            "pull",
            &reg.url("unsigned/demo"),
            "--plain-http",
            "--verify",
            "--keyring",
        ])
        .arg(&keys.pubring)
        .assert()
        .failure()
        .stderr(predicates::str::contains("no provenance file"));
    // dependency update --verify: a signed dependency passes; with the wrong keyring, or
    // unsigned, it is refused and charts/ is left alone.
    let parent = tmp.path().join("parent");
    std::fs::create_dir_all(parent.join("templates")).expect("dir");
    let deps = |path: &str| {
        std::fs::write(
            parent.join("Chart.yaml"),
            format!(
                "apiVersion: v2\nname: parent\nversion: 1.0.0\ndependencies:\n  - name: demo\n    version: 0.1.0\n    repository: {}\n",
                reg.url(path)
            ),
        )
        .expect("Chart.yaml")
    };
    let update = |keyring: &Path| {
        let mut c = pack_in(&home);
        c.args([
            "dependency",
            "update",
            "--plain-http",
            "--verify",
            "--keyring",
        ])
        .arg(keyring)
        .arg(&parent);
        c
    };
    deps("signed");
    update(&other.pubring)
        .assert()
        .failure()
        .stderr(predicates::str::contains("dependency demo-0.1.0.tgz"));
    assert!(
        !parent.join("charts").exists(),
        "nothing fetched into charts/"
    );
    update(&keys.pubring).assert().success();
    assert!(parent.join("charts/demo-0.1.0.tgz").is_file());
    deps("unsigned");
    update(&keys.pubring)
        .assert()
        .failure()
        .stderr(predicates::str::contains("no provenance file"));

    let cluster = common::server::TestServer::start(None);
    // `install NAME` from the signed chart with --verify against `keyring`.
    let install_verified = |name: &str, keyring: &Path| {
        pack_in(&home)
            .args(["install", name, &reg.url("signed/demo"), "--plain-http"])
            .arg("--verify")
            .arg("--keyring")
            .arg(keyring)
            .arg("--kubeconfig")
            .arg(&cluster.kubeconfig)
            .assert()
    };
    install_verified("bad", &other.pubring).failure();
    install_verified("good", &keys.pubring).success();
    let listed = pack_in(&home)
        .args(["list", "-q", "--kubeconfig"])
        .arg(&cluster.kubeconfig)
        .output()
        .expect("list");
    assert_eq!(
        String::from_utf8_lossy(&listed.stdout).trim(),
        "good",
        "nothing installed unverified"
    );

    // From an HTTP repository: the .prov beside the archive.
    let repo = tmp.path().join("http-repo");
    std::fs::create_dir_all(&repo).expect("dir");
    std::fs::copy(&tgz, repo.join("demo-0.1.0.tgz")).expect("copy");
    std::fs::copy(
        signed.join("demo-0.1.0.tgz.prov"),
        repo.join("demo-0.1.0.tgz.prov"),
    )
    .expect("copy");
    let server = common::static_http::StaticServer::start(repo.clone(), None);
    pack_in(&home)
        .args([
            "repo",
            "index",
            repo.to_str().unwrap(),
            "--url",
            &server.url,
        ])
        .assert()
        .success();
    pack_in(&home)
        .args([
            "pull",
            "demo",
            "--repo",
            &server.url,
            "--verify",
            "-d",
            tmp.path().join("from-http").to_str().unwrap(),
            "--keyring",
        ])
        .arg(&keys.pubring)
        .assert()
        .success()
        .stdout(predicates::str::contains("Chart Hash Verified"));
}
