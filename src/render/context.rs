//! The objects every template sees, built from a chart, its values, the release and the
//! target cluster's capabilities, with Helm's names (`Values`, `Release`, `Chart`…).

use crate::chart::{Chart, Metadata};
use crate::k8s::Capabilities;
use crate::k8s::capabilities::{HELM_GIT_COMMIT, HELM_GO_VERSION, HELM_VERSION};
use crate::value::{Map, Value};

/// What templates know about the release being rendered.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ReleaseInfo {
    /// `Release.Name`.
    pub name: String,
    /// `Release.Namespace`.
    pub namespace: String,
    /// `Release.Revision`: 1 on install, previous + 1 on upgrade.
    pub revision: i64,
    /// `Release.IsUpgrade` (and `IsInstall` is its opposite).
    pub is_upgrade: bool,
}

impl Default for ReleaseInfo {
    fn default() -> Self {
        ReleaseInfo {
            name: "release-name".into(),
            namespace: "default".into(),
            revision: 1,
            is_upgrade: false,
        }
    }
}

/// `.Release`.
pub fn release(r: &ReleaseInfo) -> Value {
    let mut m = Map::default();
    m.insert("Name".into(), r.name.as_str().into());
    m.insert("Namespace".into(), r.namespace.as_str().into());
    m.insert("IsUpgrade".into(), r.is_upgrade.into());
    m.insert("IsInstall".into(), (!r.is_upgrade).into());
    m.insert("Revision".into(), r.revision.into());
    // Helm's value: objects labelled with it can be adopted by either tool.
    m.insert("Service".into(), "Helm".into());
    Value::Map(m)
}

fn strings(items: &[String]) -> Value {
    Value::List(items.iter().map(|s| Value::from(s.as_str())).collect())
}

/// `.Chart`: Chart.yaml with Go's field names, plus `IsRoot`.
pub fn chart(md: &Metadata, is_root: bool) -> Value {
    let mut m = Map::default();
    m.insert("Name".into(), md.name.as_str().into());
    m.insert("Home".into(), md.home.as_str().into());
    m.insert("Sources".into(), strings(&md.sources));
    m.insert("Version".into(), md.version.as_str().into());
    m.insert("Description".into(), md.description.as_str().into());
    m.insert("Keywords".into(), strings(&md.keywords));
    let maintainers = md
        .maintainers
        .iter()
        .map(|mt| {
            let mut e = Map::default();
            e.insert("Name".into(), mt.name.as_str().into());
            e.insert("Email".into(), mt.email.as_str().into());
            e.insert("URL".into(), mt.url.as_str().into());
            Value::Map(e)
        })
        .collect();
    m.insert("Maintainers".into(), Value::List(maintainers));
    m.insert("Icon".into(), md.icon.as_str().into());
    m.insert("APIVersion".into(), md.api_version.as_str().into());
    m.insert("AppVersion".into(), md.app_version.as_str().into());
    m.insert("Deprecated".into(), md.deprecated.into());
    m.insert("Annotations".into(), Value::Map(md.annotations.clone()));
    m.insert("KubeVersion".into(), md.kube_version.as_str().into());
    let deps = md
        .dependencies
        .iter()
        .map(|d| {
            let mut e = Map::default();
            e.insert("Name".into(), d.name.as_str().into());
            e.insert("Version".into(), d.version.as_str().into());
            e.insert("Repository".into(), d.repository.as_str().into());
            e.insert("Condition".into(), d.condition.as_str().into());
            e.insert("Tags".into(), strings(&d.tags));
            e.insert("Enabled".into(), true.into());
            e.insert("Alias".into(), d.alias.as_str().into());
            Value::Map(e)
        })
        .collect();
    m.insert("Dependencies".into(), Value::List(deps));
    m.insert("Type".into(), md.chart_type.as_str().into());
    m.insert("IsRoot".into(), is_root.into());
    Value::Map(m)
}

/// `.Capabilities` as plain data (the engine adds `APIVersions.Has`).
pub fn capabilities(caps: &Capabilities) -> Value {
    let kv = &caps.kube_version;
    let mut kube = Map::default();
    kube.insert("Version".into(), kv.to_string().into());
    kube.insert("Major".into(), kv.major.to_string().into());
    kube.insert("Minor".into(), kv.minor.to_string().into());
    kube.insert("GitVersion".into(), kv.git_version().into());
    let mut helm = Map::default();
    helm.insert("Version".into(), HELM_VERSION.into());
    helm.insert("GitCommit".into(), HELM_GIT_COMMIT.into());
    helm.insert("GitTreeState".into(), "clean".into());
    helm.insert("GoVersion".into(), HELM_GO_VERSION.into());
    helm.insert("KubeClientVersion".into(), "v1.35".into());
    let mut m = Map::default();
    m.insert("KubeVersion".into(), Value::Map(kube));
    m.insert("APIVersions".into(), strings(&caps.api_versions));
    m.insert("HelmVersion".into(), Value::Map(helm));
    Value::Map(m)
}

/// The `.Values` of a subchart: its table in the parent's values (empty when absent).
pub fn sub_values<'a>(parent: &'a Map, sub: &Chart) -> std::borrow::Cow<'a, Map> {
    match parent.get(sub.name()) {
        Some(Value::Map(m)) => std::borrow::Cow::Borrowed(m),
        _ => std::borrow::Cow::Owned(Map::default()),
    }
}
