//! The embedded API server over HTTP: durability across SIGKILL, optimistic concurrency,
//! watch semantics (resume, 410, WatchList bookmark, selector transitions), paging,
//! Status errors and content types.

mod common;

use common::server::TestServer;
use pack::apiserver::{self, Config};
use reqwest::blocking::Client;
use serde_json::{Value as Json, json};
use std::collections::HashMap;
use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::sync::{Arc, Barrier, Mutex};
use std::time::{Duration, Instant};

fn client() -> Client {
    Client::builder()
        .timeout(Duration::from_secs(30))
        .build()
        .expect("client")
}

fn cm(name: &str, data: &str) -> Json {
    json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": name}, "data": {"v": data}})
}

fn post(c: &Client, url: &str, body: &Json) -> reqwest::Result<(u16, Json)> {
    let r = c.post(url).json(body).send()?;
    let code = r.status().as_u16();
    Ok((code, r.json().unwrap_or(Json::Null)))
}

fn rv_of(obj: &Json) -> u64 {
    obj["metadata"]["resourceVersion"]
        .as_str()
        .and_then(|s| s.parse().ok())
        .expect("resourceVersion")
}

/// Starts `pack cluster serve` on a data directory; returns the child and its URL.
fn serve(dir: &std::path::Path) -> (std::process::Child, String) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_pack"))
        .args(["cluster", "serve", "--port", "0", "--data-dir"])
        .arg(dir)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("pack cluster serve");
    let mut line = String::new();
    let mut reader = BufReader::new(child.stdout.take().expect("stdout"));
    reader.read_line(&mut line).expect("first line");
    // Keep reading so the server never writes into a closed pipe.
    std::thread::spawn(move || std::io::copy(&mut reader, &mut std::io::sink()));
    let url = line
        .split_whitespace()
        .find(|w| w.starts_with("http://"))
        .unwrap_or_else(|| panic!("no URL in {line:?}"))
        .to_string();
    (child, url)
}

#[test]
fn acknowledged_writes_survive_sigkill() {
    let dir = tempfile::tempdir().expect("tempdir");
    let acked: Arc<Mutex<Vec<(String, u64)>>> = Arc::default();
    let mut highest_rv = 0u64;
    for round in 0..20 {
        let (mut child, url) = serve(dir.path());
        let c = client();
        // Everything acknowledged before earlier kills is still there.
        let list: Json = c
            .get(format!("{url}/api/v1/namespaces/default/configmaps"))
            .send()
            .and_then(|r| r.json())
            .expect("list");
        let present: HashMap<String, u64> = list["items"]
            .as_array()
            .expect("items")
            .iter()
            .map(|o| {
                (
                    o["metadata"]["name"]
                        .as_str()
                        .unwrap_or_default()
                        .to_string(),
                    rv_of(o),
                )
            })
            .collect();
        for (name, rv) in acked.lock().expect("lock").iter() {
            assert_eq!(
                present.get(name),
                Some(rv),
                "round {round}: {name} lost or changed"
            );
        }
        let list_rv = rv_of(&json!({"metadata": list["metadata"]}));
        assert!(list_rv >= highest_rv, "round {round}: revision went back");
        let collection = format!("{url}/api/v1/namespaces/default/configmaps");
        let threads: Vec<_> = (0..8)
            .map(|t| {
                let acked = acked.clone();
                let collection = collection.clone();
                std::thread::spawn(move || {
                    let c = client();
                    for i in 0.. {
                        let name = format!("r{round}-t{t}-{i}");
                        match post(&c, &collection, &cm(&name, "x")) {
                            Ok((201, obj)) => acked.lock().expect("lock").push((name, rv_of(&obj))),
                            Ok((code, body)) => panic!("unexpected {code}: {body}"),
                            Err(_) => return,
                        }
                    }
                })
            })
            .collect();
        // Kill while the writers are busy: once this round has some acknowledged writes,
        // after a delay that varies by round.
        let before = acked.lock().expect("lock").len();
        let deadline = Instant::now() + Duration::from_secs(20);
        while acked.lock().expect("lock").len() < before + 16 && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(2));
        }
        std::thread::sleep(Duration::from_millis(3 * round));
        child.kill().expect("SIGKILL");
        let _ = child.wait();
        for t in threads {
            t.join().expect("writer");
        }
        let acked = acked.lock().expect("lock");
        let max = acked.iter().map(|(_, rv)| *rv).max().unwrap_or(0);
        assert!(max > highest_rv, "round {round} acknowledged nothing");
        highest_rv = max;
    }
    // A last restart: new writes get higher revisions than any acknowledged one.
    let (mut child, url) = serve(dir.path());
    let (code, obj) = post(
        &client(),
        &format!("{url}/api/v1/namespaces/default/configmaps"),
        &cm("after", "y"),
    )
    .expect("post");
    assert_eq!(code, 201);
    assert!(rv_of(&obj) > highest_rv);
    let total = acked.lock().expect("lock").len();
    assert!(total > 100, "only {total} writes in 20 rounds");
    let _ = child.kill();
    let _ = child.wait();
}

#[test]
fn one_writer_wins_per_resource_version() {
    let s = TestServer::start(None);
    let url = format!("{}/api/v1/namespaces/default/configmaps", s.url());
    let c = client();
    assert_eq!(post(&c, &url, &cm("contended", "0")).expect("post").0, 201);
    let item = format!("{url}/contended");
    for round in 0..10 {
        let current: Json = c.get(&item).send().and_then(|r| r.json()).expect("get");
        let barrier = Arc::new(Barrier::new(16));
        let threads: Vec<_> = (0..16)
            .map(|t| {
                let mut body = current.clone();
                body["data"]["v"] = json!(format!("{round}-{t}"));
                let barrier = barrier.clone();
                let item = item.clone();
                std::thread::spawn(move || {
                    let c = client();
                    barrier.wait();
                    c.put(&item)
                        .json(&body)
                        .send()
                        .expect("put")
                        .status()
                        .as_u16()
                })
            })
            .collect();
        let codes: Vec<u16> = threads
            .into_iter()
            .map(|t| t.join().expect("thread"))
            .collect();
        assert_eq!(codes.iter().filter(|&&c| c == 200).count(), 1, "{codes:?}");
        assert_eq!(codes.iter().filter(|&&c| c == 409).count(), 15, "{codes:?}");
    }
    // A PUT without a resourceVersion is an unconditional update (helm's release storage).
    let mut body = cm("contended", "forced");
    body["metadata"]["namespace"] = json!("default");
    let r = c.put(&item).json(&body).send().expect("put");
    assert_eq!(r.status().as_u16(), 200);
}

fn watch_lines(c: &Client, url: &str) -> std::sync::mpsc::Receiver<Json> {
    let resp = c.get(url).send().expect("watch");
    assert_eq!(resp.status().as_u16(), 200);
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(resp).lines().map_while(Result::ok) {
            if let Ok(v) = serde_json::from_str::<Json>(&line)
                && tx.send(v).is_err()
            {
                return;
            }
        }
    });
    rx
}

fn next(rx: &std::sync::mpsc::Receiver<Json>) -> Json {
    rx.recv_timeout(Duration::from_secs(10)).expect("an event")
}

#[test]
fn watches_resume_expire_and_bookmark() {
    let runtime = tokio::runtime::Runtime::new().expect("runtime");
    let running = runtime
        .block_on(apiserver::start(Config {
            history: 20,
            ..Config::default()
        }))
        .expect("start");
    let base = running.url();
    let url = format!("{base}/api/v1/namespaces/default/configmaps");
    let c = client();
    let (_, first) = post(&c, &url, &cm("a", "1")).expect("post");
    let rv1 = rv_of(&first);
    post(&c, &url, &cm("b", "1")).expect("post");
    // Resume from rv1: only what came after.
    let rx = watch_lines(&c, &format!("{url}?watch=true&resourceVersion={rv1}"));
    let e = next(&rx);
    assert_eq!(
        (e["type"].as_str(), e["object"]["metadata"]["name"].as_str()),
        (Some("ADDED"), Some("b"))
    );
    c.delete(format!("{url}/a")).send().expect("delete");
    let e = next(&rx);
    assert_eq!(
        (e["type"].as_str(), e["object"]["metadata"]["name"].as_str()),
        (Some("DELETED"), Some("a"))
    );
    // WatchList: current objects, then the bookmark that ends the initial events.
    let rx = watch_lines(
        &c,
        &format!(
            "{url}?watch=true&sendInitialEvents=true&allowWatchBookmarks=true&resourceVersionMatch=NotOlderThan"
        ),
    );
    assert_eq!(next(&rx)["object"]["metadata"]["name"], "b");
    let bm = next(&rx);
    assert_eq!(bm["type"], "BOOKMARK");
    assert_eq!(bm["object"]["kind"], "ConfigMap");
    assert_eq!(
        bm["object"]["metadata"]["annotations"]["k8s.io/initial-events-end"],
        "true"
    );
    // Selector transitions: an object that starts matching is ADDED, stops matching DELETED.
    let rx = watch_lines(
        &c,
        &format!("{url}?watch=true&resourceVersion=0&labelSelector=tier%3Dweb"),
    );
    let patch = |labels: Json| {
        c.patch(format!("{url}/b"))
            .header("Content-Type", "application/merge-patch+json")
            .body(json!({"metadata": {"labels": labels}}).to_string())
            .send()
            .expect("patch")
    };
    patch(json!({"tier": "web"}));
    assert_eq!(next(&rx)["type"], "ADDED");
    patch(json!({"tier": "db"}));
    assert_eq!(next(&rx)["type"], "DELETED");
    // Past the history window: 410 Expired as an ERROR event.
    for i in 0..30 {
        post(&c, &url, &cm(&format!("n{i}"), "x")).expect("post");
    }
    let rx = watch_lines(&c, &format!("{url}?watch=true&resourceVersion={rv1}"));
    let e = next(&rx);
    assert_eq!(e["type"], "ERROR");
    assert_eq!(e["object"]["code"], 410);
    assert_eq!(e["object"]["reason"], "Expired");
    // timeoutSeconds ends the stream.
    let started = Instant::now();
    let resp = c
        .get(format!(
            "{url}?watch=true&resourceVersion={}&timeoutSeconds=1",
            rv_of(&first) + 100
        ))
        .send()
        .expect("watch");
    let _ = resp.text();
    assert!(started.elapsed() < Duration::from_secs(5));
    runtime.block_on(running.stop());
}

#[test]
fn lists_page_and_errors_are_statuses() {
    let s = TestServer::start(None);
    let url = format!("{}/api/v1/namespaces/default/configmaps", s.url());
    let c = client();
    for i in 0..7 {
        post(&c, &url, &cm(&format!("p{i}"), "x")).expect("post");
    }
    let mut names = Vec::new();
    let mut token = String::new();
    loop {
        let page: Json = c
            .get(format!("{url}?limit=3&continue={token}"))
            .send()
            .and_then(|r| r.json())
            .expect("page");
        let items = page["items"].as_array().expect("items");
        assert!(items.len() <= 3);
        names.extend(items.iter().map(|o| {
            o["metadata"]["name"]
                .as_str()
                .unwrap_or_default()
                .to_string()
        }));
        match page["metadata"]["continue"].as_str() {
            Some(t) => token = t.to_string(),
            None => break,
        }
    }
    assert_eq!(names, (0..7).map(|i| format!("p{i}")).collect::<Vec<_>>());
    // Field selector on metadata.name.
    let one: Json = c
        .get(format!("{url}?fieldSelector=metadata.name%3Dp3"))
        .send()
        .and_then(|r| r.json())
        .expect("list");
    assert_eq!(one["items"].as_array().map(Vec::len), Some(1));
    // Errors: 404, 409 AlreadyExists, 400 bad selector, 415, 422.
    let r = c.get(format!("{url}/missing")).send().expect("get");
    assert_eq!(r.status().as_u16(), 404);
    let status: Json = r.json().expect("status");
    assert_eq!(status["kind"], "Status");
    assert_eq!(status["message"], "configmaps \"missing\" not found");
    assert_eq!(status["details"]["kind"], "configmaps");
    let (code, status) = post(&c, &url, &cm("p0", "x")).expect("post");
    assert_eq!(
        (code, status["reason"].as_str()),
        (409, Some("AlreadyExists"))
    );
    let r = c
        .get(format!("{url}?labelSelector=a%20in%20b"))
        .send()
        .expect("get");
    assert_eq!(r.status().as_u16(), 400);
    let r = c
        .post(&url)
        .header("Content-Type", "application/cbor")
        .body(vec![0xa0])
        .send()
        .expect("post");
    assert_eq!(r.status().as_u16(), 415);
    let (code, status) = post(&c, &url, &cm("Bad_Name", "x")).expect("post");
    assert_eq!((code, status["reason"].as_str()), (422, Some("Invalid")));
    assert_eq!(status["details"]["causes"][0]["field"], "metadata.name");
    // dryRun changes nothing.
    let (code, _) = post(&c, &format!("{url}?dryRun=All"), &cm("dry", "x")).expect("post");
    assert_eq!(code, 201);
    assert_eq!(
        c.get(format!("{url}/dry"))
            .send()
            .expect("get")
            .status()
            .as_u16(),
        404
    );
    // generateName.
    let (code, obj) = post(
        &c,
        &url,
        &json!({"metadata": {"generateName": "gen-"}, "data": {}}),
    )
    .expect("post");
    assert_eq!(code, 201);
    assert!(
        obj["metadata"]["name"]
            .as_str()
            .is_some_and(|n| n.starts_with("gen-") && n.len() == 9)
    );
}

#[test]
fn aggregated_discovery_and_openapi() {
    let s = TestServer::start(None);
    let c = client();
    let r = c
        .get(format!("{}/apis", s.url()))
        .header(
            "Accept",
            "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList,application/json",
        )
        .send()
        .expect("apis");
    assert_eq!(
        r.headers()["content-type"],
        "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList"
    );
    let doc: Json = r.json().expect("json");
    let apps = doc["items"]
        .as_array()
        .and_then(|i| i.iter().find(|g| g["metadata"]["name"] == "apps"))
        .expect("apps group");
    let deploy = apps["versions"][0]["resources"]
        .as_array()
        .and_then(|r| r.iter().find(|r| r["resource"] == "deployments"))
        .expect("deployments");
    assert_eq!(deploy["scope"], "Namespaced");
    assert!(deploy["subresources"].as_array().is_some_and(|s| {
        s.iter()
            .any(|s| s["subresource"] == "scale" && s["responseKind"]["kind"] == "Scale")
    }));
    let index: Json = c
        .get(format!("{}/openapi/v3", s.url()))
        .send()
        .and_then(|r| r.json())
        .expect("index");
    let apps_url = index["paths"]["apis/apps/v1"]["serverRelativeURL"]
        .as_str()
        .expect("apps/v1 in the index");
    assert!(apps_url.contains("?hash="));
    let doc: Json = c
        .get(format!("{}{apps_url}", s.url()))
        .send()
        .and_then(|r| r.json())
        .expect("doc");
    assert!(doc["paths"]["/apis/apps/v1/namespaces/{namespace}/deployments/{name}"]["patch"]
        ["x-kubernetes-group-version-kind"]
        .is_object());
    let v: Json = c
        .get(format!("{}/version", s.url()))
        .send()
        .and_then(|r| r.json())
        .expect("version");
    assert_eq!(v["gitVersion"], "v1.35.0");
}

#[test]
fn custom_resources_are_validated_and_pruned_by_their_crd_schema() {
    let s = TestServer::start(None);
    let c = client();
    let crd = json!({
        "apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition",
        "metadata": {"name": "gizmos.example.com"},
        "spec": {"group": "example.com", "scope": "Namespaced",
            "names": {"plural": "gizmos", "singular": "gizmo", "kind": "Gizmo"},
            "versions": [{"name": "v1", "served": true, "storage": true,
                "schema": {"openAPIV3Schema": {"type": "object", "required": ["spec"], "properties": {
                    "spec": {"type": "object", "required": ["size"], "properties": {
                        "size": {"type": "integer", "minimum": 1},
                        "mode": {"type": "string", "enum": ["fast", "slow"]},
                        "free": {"type": "object", "x-kubernetes-preserve-unknown-fields": true}
                    }}
                }}}}]}
    });
    let (code, _) = post(
        &c,
        &format!(
            "{}/apis/apiextensions.k8s.io/v1/customresourcedefinitions",
            s.url()
        ),
        &crd,
    )
    .expect("crd");
    assert_eq!(code, 201);
    let url = format!("{}/apis/example.com/v1/namespaces/default/gizmos", s.url());
    let gizmo = |name: &str, spec: Json| json!({"apiVersion": "example.com/v1", "kind": "Gizmo", "metadata": {"name": name}, "spec": spec});
    let r = c
        .post(&url)
        .json(&gizmo(
            "ok",
            json!({"size": 2, "mode": "fast", "extra": 1, "free": {"any": {"thing": true}}}),
        ))
        .send()
        .expect("post");
    assert_eq!(r.status().as_u16(), 201);
    let warning = r
        .headers()
        .get("warning")
        .and_then(|w| w.to_str().ok())
        .unwrap_or_default()
        .to_string();
    assert!(
        warning.contains("unknown field \\\"spec.extra\\\""),
        "{warning}"
    );
    let obj: Json = r.json().expect("json");
    assert!(
        obj["spec"].get("extra").is_none(),
        "unknown fields are pruned"
    );
    assert_eq!(
        obj["spec"]["free"]["any"]["thing"], true,
        "preserved where the schema says so"
    );
    for (spec, field) in [
        (json!({"size": "big"}), "spec.size"),
        (json!({"size": 0}), "spec.size"),
        (json!({"size": 1, "mode": "medium"}), "spec.mode"),
        (json!({}), "spec"),
    ] {
        let (code, status) = post(&c, &url, &gizmo("bad", spec.clone())).expect("post");
        assert_eq!(code, 422, "{spec}: {status}");
        assert_eq!(status["reason"], "Invalid");
        assert_eq!(status["details"]["causes"][0]["field"], field, "{status}");
        assert!(
            status["message"]
                .as_str()
                .is_some_and(|m| m.starts_with("Gizmo.example.com \"bad\" is invalid")),
            "{status}"
        );
    }
    // Updates are checked too.
    let r = c
        .patch(format!("{url}/ok"))
        .header("Content-Type", "application/merge-patch+json")
        .body(r#"{"spec":{"size":-1}}"#)
        .send()
        .expect("patch");
    assert_eq!(r.status().as_u16(), 422);
}

#[test]
fn field_validation_on_replace_and_duplicate_fields() {
    let s = TestServer::start(None);
    let url = format!("{}/api/v1/namespaces/default/configmaps", s.url());
    let c = client();
    let dup = r#"{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"d","name":"d"},"data":{"a":"1"}}"#;
    let r = c
        .post(format!("{url}?fieldValidation=Strict"))
        .header("Content-Type", "application/json")
        .body(dup)
        .send()
        .expect("post");
    assert_eq!(r.status().as_u16(), 400);
    let status: Json = r.json().expect("status");
    assert!(
        status["message"]
            .as_str()
            .is_some_and(|m| m.contains("duplicate field \"metadata.name\"")),
        "{status}"
    );
    let r = c
        .post(&url)
        .header("Content-Type", "application/json")
        .body(dup)
        .send()
        .expect("post");
    assert_eq!(r.status().as_u16(), 201);
    assert!(r.headers().get("warning").is_some());
    // PUT with an unknown field: Strict refuses, the default drops it with a warning.
    let body = json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "d"}, "data": {"a": "2"}, "dta": {}});
    let r = c
        .put(format!("{url}/d?fieldValidation=Strict"))
        .json(&body)
        .send()
        .expect("put");
    assert_eq!(r.status().as_u16(), 400);
    let r = c.put(format!("{url}/d")).json(&body).send().expect("put");
    assert_eq!(r.status().as_u16(), 200);
    let obj: Json = r.json().expect("json");
    assert!(obj.get("dta").is_none());
    assert_eq!(obj["data"]["a"], "2");
}
