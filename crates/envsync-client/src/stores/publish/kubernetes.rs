//! Publishing to a Kubernetes Secret (`k8s://NAMESPACE/NAME`): one Secret whose data keys
//! are the environment's keys. Its values can be read back (base64 in `data`), so drift is
//! exact. One write when anything differs: `create` for a new Secret, else `replace` of the
//! object as read with the new data (its labels, annotations and type kept), which the API
//! server refuses if the Secret changed since it was read (`resourceVersion`).

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use indexmap::IndexMap;
use serde_json::{Map, Value, json};
use zeroize::Zeroizing;

use super::{Drift, Outcome};
use crate::error::{ClientError, Result};
use crate::stores::{StoreFailure, StoreUrl, kubernetes};

pub(super) fn publish(
    url: &StoreUrl,
    (namespace, name): (&str, &str),
    vars: &IndexMap<String, String>,
    write: bool,
    prune: bool,
) -> Result<Outcome> {
    let failed = |failure| ClientError::Store {
        url: url.to_string(),
        failure,
    };
    check_names(url, namespace, name, vars)?;
    let current = kubernetes::get(namespace, name).map_err(failed)?;
    let held = match &current {
        Some(object) => data_of(object).map_err(failed)?,
        None => IndexMap::new(),
    };
    let mut outcome = Outcome {
        drift: Drift::between(vars, &held),
        writes: 0,
    };
    if !write || outcome.drift.is_empty(prune) {
        return Ok(outcome);
    }
    let mut data = Map::new();
    if !prune {
        for (key, value) in held.iter().filter(|(key, _)| !vars.contains_key(*key)) {
            data.insert(
                key.clone(),
                Value::String(STANDARD.encode(value.as_bytes())),
            );
        }
    }
    for (key, value) in vars {
        data.insert(
            key.clone(),
            Value::String(STANDARD.encode(value.as_bytes())),
        );
    }
    let written = match current {
        Some(mut object) => {
            object["data"] = Value::Object(data);
            if let Some(fields) = object.as_object_mut() {
                fields.remove("stringData");
            }
            let text = Zeroizing::new(object.to_string());
            kubernetes::replace(namespace, name, &text)
        }
        None => {
            let text = Zeroizing::new(manifest(namespace, name, data).to_string());
            kubernetes::create(namespace, &text)
        }
    };
    written.map_err(failed)?;
    outcome.writes = 1;
    Ok(outcome)
}

/// A new Secret holding `data` (base64 values), labelled as envsync's.
fn manifest(namespace: &str, name: &str, data: Map<String, Value>) -> Value {
    json!({
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": {
            "name": name,
            "namespace": namespace,
            "labels": { "app.kubernetes.io/managed-by": "envsync" },
        },
        "type": "Opaque",
        "data": data,
    })
}

/// The Secret's values, decoded.
fn data_of(
    object: &Value,
) -> std::result::Result<IndexMap<String, Zeroizing<String>>, StoreFailure> {
    let Some(data) = object.get("data").and_then(Value::as_object) else {
        return Ok(IndexMap::new());
    };
    data.iter()
        .map(|(key, value)| {
            let bytes = value
                .as_str()
                .and_then(|text| STANDARD.decode(text).ok())
                .map(Zeroizing::new)
                .ok_or_else(|| StoreFailure::BadResponse(format!("data.{key} is not base64")))?;
            let text = Zeroizing::new(String::from_utf8_lossy(&bytes).into_owned());
            Ok((key.clone(), text))
        })
        .collect()
}

/// Names Kubernetes accepts: a namespace is a DNS label, a Secret's name a DNS subdomain, a
/// data key letters, digits, `-`, `_` and `.`. Refused before anything is read or written.
fn check_names(
    url: &StoreUrl,
    namespace: &str,
    name: &str,
    vars: &IndexMap<String, String>,
) -> Result<()> {
    let bad = |what: String| Err(ClientError::Input(format!("{url}: {what}")));
    if url.endpoint.is_some() {
        return bad("k8s:// takes no ?endpoint=: kubectl's current context says where".into());
    }
    let label = |text: &str| {
        let alphanumeric = |c: char| c.is_ascii_lowercase() || c.is_ascii_digit();
        text.chars().all(|c| alphanumeric(c) || c == '-')
            && text.starts_with(alphanumeric)
            && text.ends_with(alphanumeric)
    };
    if namespace.len() > 63 || !label(namespace) {
        return bad(format!(
            "namespace `{namespace}` is not a Kubernetes name (a-z, 0-9, -)"
        ));
    }
    if name.len() > 253 || !name.split('.').all(label) {
        return bad(format!(
            "`{name}` is not a Kubernetes Secret name (a-z, 0-9, - and .)"
        ));
    }
    let key_ok = |key: &str| {
        key.len() <= 253
            && key
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c))
    };
    match vars.keys().find(|key| !key_ok(key)) {
        Some(key) => bad(format!(
            "key `{key}` cannot be a Secret data key (letters, digits, -, _ and .); leave it \
             out with keys = [\"*\", \"!{key}\"]"
        )),
        None => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_kubernetes_refuses_are_refused_first() {
        let vars: IndexMap<String, String> = [("A.b-c_1".into(), "v".into())].into();
        let url = StoreUrl::parse("k8s://prod/app-env").unwrap();
        assert!(check_names(&url, "prod", "app-env", &vars).is_ok());
        assert!(check_names(&url, "prod", "app.env", &vars).is_ok());
        for (namespace, name) in [("Prod", "x"), ("-p", "x"), ("p", "App"), ("p", "a..b")] {
            assert!(check_names(&url, namespace, name, &vars).is_err());
        }
        let odd: IndexMap<String, String> = [("A+B".into(), "v".into())].into();
        let error = check_names(&url, "p", "x", &odd).unwrap_err().to_string();
        assert!(
            error.contains("`A+B`") && error.contains("k8s://prod/app-env"),
            "{error}"
        );
        let local = StoreUrl::parse("k8s://p/x?endpoint=http://127.0.0.1:1").unwrap();
        assert!(check_names(&local, "p", "x", &vars).is_err());
    }
}
