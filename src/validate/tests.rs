use super::*;
use crate::value::yaml::{self, Flavor};

fn check(doc: &str) -> Verdict {
    let mut v = Validator::new(&KubeVersion::default(), true).unwrap();
    v.validate(&yaml::from_str(doc, Flavor::Yaml11).unwrap())
}

fn problems(doc: &str) -> Vec<Problem> {
    match check(doc) {
        Verdict::Invalid(p) => p,
        other => panic!("expected problems, got {other:?}"),
    }
}

const DEPLOYMENT: &str = "apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
spec:
  replicas: 2
  selector:
    matchLabels: {app: web}
  template:
    metadata:
      labels: {app: web}
    spec:
      containers:
        - name: web
          image: nginx
          ports:
            - containerPort: 80
              name: http
          livenessProbe:
            httpGet: {path: /, port: http}
";

#[test]
fn a_correct_deployment_is_valid() {
    assert_eq!(check(DEPLOYMENT), Verdict::Valid);
}

#[test]
fn wrong_types_missing_fields_and_enums() {
    let p = problems(&DEPLOYMENT.replace("replicas: 2", "replicas: two"));
    assert_eq!(p[0].path, "spec.replicas");
    assert!(p[0].message.contains("integer"), "{p:?}");

    let p = problems(&DEPLOYMENT.replace("        - name: web\n", "        - \n"));
    assert!(
        p.iter()
            .any(|x| x.path == "spec.template.spec.containers[0]"
                && x.message.contains("\"name\" is a required property")),
        "{p:?}"
    );

    // YAML 1.1 reads `on` as a boolean, where Kubernetes wants a string label value.
    let svc = "apiVersion: v1\nkind: Service\nmetadata:\n  name: s\n  labels: {enabled: on}\nspec:\n  ports:\n    - port: '80'\n";
    let p = problems(svc);
    assert!(
        p.iter().any(|x| x.path == "metadata.labels.enabled"),
        "{p:?}"
    );
    assert!(p.iter().any(|x| x.path == "spec.ports[0].port"), "{p:?}");
}

#[test]
fn unknown_fields_are_refused_with_a_suggestion() {
    let p = problems(&DEPLOYMENT.replace("replicas: 2", "replica: 2"));
    assert_eq!(p.len(), 1, "{p:?}");
    assert_eq!(p[0].path, "spec");
    assert_eq!(
        p[0].message,
        "unknown field \"replica\": did you mean \"replicas\"?"
    );
    let p = problems(&DEPLOYMENT.replace("          image: nginx", "          imagee: nginx"));
    assert!(
        p.iter()
            .any(|x| x.message.contains("did you mean \"image\"")),
        "{p:?}"
    );
    // Without strictness, unknown fields pass.
    let mut lax = Validator::new(&KubeVersion::default(), false).unwrap();
    let doc = yaml::from_str(
        &DEPLOYMENT.replace("replicas: 2", "replica: 2"),
        Flavor::Yaml11,
    )
    .unwrap();
    assert_eq!(lax.validate(&doc), Verdict::Valid);
}

#[test]
fn int_or_string_quantities_and_free_maps() {
    let doc = "apiVersion: v1\nkind: Pod\nmetadata:\n  name: p\n  labels: {a: b}\n  annotations: {x: z}\nspec:\n  containers:\n    - name: c\n      image: i\n      resources:\n        limits: {cpu: 500m, memory: 1Gi}\n        requests: {cpu: 1}\n      readinessProbe:\n        tcpSocket: {port: 8080}\n";
    assert_eq!(check(doc), Verdict::Valid);
}

#[test]
fn removed_and_unknown_kinds() {
    let p = problems("apiVersion: extensions/v1beta1\nkind: Deployment\nmetadata: {name: x}\n");
    assert!(
        p[0].message.contains("use apps/v1") && p[0].message.contains("1.16"),
        "{p:?}"
    );
    let p = problems("apiVersion: apps/v1\nkind: Deploymnet\nmetadata: {name: x}\n");
    assert!(p[0].message.contains("did you mean Deployment?"), "{p:?}");
    let p = problems("apiVersion: apps/v2\nkind: Deployment\nmetadata: {name: x}\n");
    assert!(
        p[0].message
            .contains("apps/v2 is not served by Kubernetes 1.35"),
        "{p:?}"
    );
    // Gateway API is a set of CRDs, not part of Kubernetes: skipped, not refused.
    assert!(matches!(
        check("apiVersion: gateway.networking.k8s.io/v1\nkind: HTTPRoute\nmetadata: {name: x}\n"),
        Verdict::Skipped(_)
    ));
    assert!(matches!(
        check("apiVersion: cert-manager.io/v1\nkind: Certificate\nmetadata: {name: x}\n"),
        Verdict::Skipped(_)
    ));
    let p = problems("metadata: {name: x}\n");
    assert_eq!(p.len(), 2);
}

#[test]
fn versions_differ() {
    // resource.k8s.io/v1 exists from 1.34 on.
    let doc = yaml::from_str(
        "apiVersion: resource.k8s.io/v1\nkind: DeviceClass\nmetadata: {name: gpu}\nspec: {}\n",
        Flavor::Yaml11,
    )
    .unwrap();
    let mut old = Validator::new(&KubeVersion::parse("1.31").unwrap(), true).unwrap();
    assert!(matches!(old.validate(&doc), Verdict::Invalid(_)));
    let mut new = Validator::new(&KubeVersion::parse("1.35").unwrap(), true).unwrap();
    assert_eq!(new.validate(&doc), Verdict::Valid);
}

#[test]
fn paths_and_distances() {
    assert_eq!(
        json_path("/spec/containers/0/image"),
        "spec.containers[0].image"
    );
    assert_eq!(json_path(""), "");
    assert_eq!(edit_distance("replica", "replicas"), 1);
    assert_eq!(
        closest("imagee", &["image", "imagePullPolicy"]),
        Some("image")
    );
    assert_eq!(closest("zzz", &["image"]), None);
}
