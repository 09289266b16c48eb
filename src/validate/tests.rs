use super::*;
use crate::value::yaml::{self, Flavor};

fn check(doc: &str) -> Verdict {
    let v = Validator::new(&KubeVersion::default(), true).unwrap();
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
        p.iter().any(
            |x| x.path == "spec.template.spec.containers[0]" && x.message == "name is required"
        ),
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
    assert_eq!(p[0].path, "spec.replica");
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
    let lax = Validator::new(&KubeVersion::default(), false).unwrap();
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
    let old = Validator::new(&KubeVersion::parse("1.31").unwrap(), true).unwrap();
    assert!(matches!(old.validate(&doc), Verdict::Invalid(_)));
    let new = Validator::new(&KubeVersion::parse("1.35").unwrap(), true).unwrap();
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

#[test]
fn server_side_rules_beyond_the_schemas() {
    // Enumerations, quantities and int32 ranges, each with what was expected.
    let p = problems(&DEPLOYMENT.replace("image: nginx", "image: nginx\n          imagePullPolicy: Sometimes\n          resources: {limits: {cpu: 1x, memory: 1Gi}}"));
    assert!(
        p.iter().any(
            |x| x.path == "spec.template.spec.containers[0].imagePullPolicy"
                && x.message
                    .contains("expected one of Always, Never, IfNotPresent")
        ),
        "{p:?}"
    );
    assert!(
        p.iter().any(
            |x| x.path == "spec.template.spec.containers[0].resources.limits.cpu"
                && x.message.starts_with("expected a quantity")
        ),
        "{p:?}"
    );
    assert_eq!(p.len(), 2, "{p:?}");
    let p = problems(&DEPLOYMENT.replace("replicas: 2", "replicas: 3000000000"));
    assert!(p[0].message.contains("at most 2147483647"), "{p:?}");
    // Names per kind.
    let p = problems(&DEPLOYMENT.replace("name: web\nspec", "name: Web_1\nspec"));
    assert!(
        p.iter()
            .any(|x| x.path == "metadata.name" && x.message.contains("RFC 1123 subdomain")),
        "{p:?}"
    );
    let svc =
        "apiVersion: v1\nkind: Service\nmetadata:\n  name: 1svc\nspec:\n  ports:\n    - port: 80\n";
    assert!(problems(svc)[0].message.contains("DNS-1035"));
    let role = "apiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRole\nmetadata:\n  name: system:pack\n";
    assert_eq!(check(role), Verdict::Valid);
    // Secret data must be base64.
    let secret = "apiVersion: v1\nkind: Secret\nmetadata:\n  name: s\ndata:\n  ok: aGVsbG8=\n  bad: hello!\n";
    let p = problems(secret);
    assert_eq!(p.len(), 1, "{p:?}");
    assert_eq!(p[0].path, "data.bad");
    assert!(p[0].message.contains("base64"), "{p:?}");
}

#[test]
fn custom_resources_are_checked_against_their_crds() {
    let crd = "apiVersion: apiextensions.k8s.io/v1\nkind: CustomResourceDefinition\nmetadata:\n  name: widgets.example.com\nspec:\n  group: example.com\n  scope: Namespaced\n  names: {kind: Widget, plural: widgets}\n  versions:\n  - name: v1\n    served: true\n    storage: true\n    schema:\n      openAPIV3Schema:\n        type: object\n        properties:\n          spec:\n            type: object\n            required: [size]\n            properties:\n              size: {type: integer, maximum: 10}\n              extra: {type: object, x-kubernetes-preserve-unknown-fields: true}\n";
    let mut v = Validator::new(&KubeVersion::default(), true).expect("validator");
    let crd = crate::value::yaml::from_str(crd, Flavor::Yaml11).expect("crd");
    assert_eq!(v.add_crd(&crd), Ok(1));
    let obj = |text: &str| crate::value::yaml::from_str(text, Flavor::Yaml11).expect("yaml");
    let ok = obj(
        "apiVersion: example.com/v1\nkind: Widget\nmetadata: {name: w}\nspec:\n  size: 3\n  extra: {anything: [1]}\n",
    );
    assert_eq!(v.validate(&ok), Verdict::Valid);
    let Verdict::Invalid(p) = v.validate(&obj(
        "apiVersion: example.com/v1\nkind: Widget\nmetadata: {name: w}\nspec:\n  size: 30\n  colour: red\n",
    )) else {
        panic!("expected problems");
    };
    assert!(
        p.iter()
            .any(|x| x.path == "spec.size" && x.message.contains("at most 10")),
        "{p:?}"
    );
    assert!(
        p.iter()
            .any(|x| x.path == "spec.colour" && x.message.contains("unknown field")),
        "{p:?}"
    );
    // Other versions of the group are still unknown.
    assert!(matches!(
        v.validate(&obj(
            "apiVersion: example.com/v2\nkind: Widget\nmetadata: {name: w}\n"
        )),
        Verdict::Skipped(_)
    ));
}
