//! Kubernetes Secrets through `kubectl` and its current context (kubeconfig, `KUBECONFIG`):
//! whatever the cluster's login is (a token, a client certificate, an exec plugin such as
//! `gke-gcloud-auth-plugin` or `aws eks get-token`), kubectl already speaks it.
//!
//! Only raw requests to the documented core/v1 endpoints (`kubectl get --raw`, `create
//! --raw`, `replace --raw`): no discovery, no client-side apply annotation (which would copy
//! every value into `kubectl.kubernetes.io/last-applied-configuration`). Values travel on
//! kubectl's stdin and stdout, never on its command line.

use std::io::Write;
use std::process::{Command, Stdio};

use serde_json::Value;
use zeroize::Zeroizing;

use super::StoreFailure;

/// A Secret's documented path.
fn path(namespace: &str, name: Option<&str>) -> String {
    match name {
        Some(name) => format!("/api/v1/namespaces/{namespace}/secrets/{name}"),
        None => format!("/api/v1/namespaces/{namespace}/secrets"),
    }
}

/// The Secret `namespace/name` as the API server returns it; `None` when there is none.
/// (The JSON holds the values, base64: callers take them out and drop it.)
pub fn get(namespace: &str, name: &str) -> Result<Option<Value>, StoreFailure> {
    match kubectl(&["get", "--raw", &path(namespace, Some(name))], None) {
        Ok(text) => serde_json::from_str(&text)
            .map(Some)
            .map_err(|_| StoreFailure::BadResponse("kubectl get --raw: not JSON".into())),
        Err(StoreFailure::NotFound) => Ok(None),
        Err(failure) => Err(failure),
    }
}

/// Creates the Secret `manifest` describes.
pub fn create(namespace: &str, manifest: &str) -> Result<(), StoreFailure> {
    let uri = path(namespace, None);
    kubectl(&["create", "--raw", &uri, "-f", "-"], Some(manifest)).map(drop)
}

/// Replaces the Secret; the manifest's `resourceVersion` makes it fail if it changed since.
pub fn replace(namespace: &str, name: &str, manifest: &str) -> Result<(), StoreFailure> {
    let uri = path(namespace, Some(name));
    kubectl(&["replace", "--raw", &uri, "-f", "-"], Some(manifest)).map(drop)
}

/// Runs kubectl; its stdout (which may hold values) is returned zeroizing.
fn kubectl(args: &[&str], input: Option<&str>) -> Result<Zeroizing<String>, StoreFailure> {
    let mut child = Command::new("kubectl")
        .args(args)
        .stdin(if input.is_some() {
            Stdio::piped()
        } else {
            Stdio::null()
        })
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|_| StoreFailure::Unreachable("`kubectl` is not installed".into()))?;
    if let (Some(input), Some(mut stdin)) = (input, child.stdin.take()) {
        stdin
            .write_all(input.as_bytes())
            .map_err(|error| StoreFailure::Unreachable(format!("kubectl's stdin: {error}")))?;
    }
    let output = child
        .wait_with_output()
        .map_err(|error| StoreFailure::Unreachable(format!("kubectl: {error}")))?;
    let stdout = Zeroizing::new(String::from_utf8_lossy(&output.stdout).into_owned());
    drop(Zeroizing::new(output.stdout));
    if output.status.success() {
        return Ok(stdout);
    }
    Err(failure(&String::from_utf8_lossy(&output.stderr)))
}

/// kubectl's `Error from server (Reason): message` as a failure; its messages name objects
/// and users, never data.
fn failure(stderr: &str) -> StoreFailure {
    let message = super::short(stderr.trim());
    let reason = match message.strip_prefix("Error from server (") {
        Some(rest) => rest.split(')').next().unwrap_or_default(),
        None if message.contains("(Unauthorized)") => "Unauthorized",
        None => "",
    };
    let status = match reason {
        "NotFound" => return StoreFailure::NotFound,
        "" => return StoreFailure::Unreachable(message),
        "Unauthorized" => 401,
        "Forbidden" => 403,
        "Conflict" | "AlreadyExists" => 409,
        "Invalid" => 422,
        "BadRequest" => 400,
        _ => 500,
    };
    let message = match status {
        401 => format!("{message} (kubectl's current context has no valid login)"),
        409 => format!("{message} (it changed while publishing: run publish again)"),
        _ => message,
    };
    match status {
        401 | 403 => StoreFailure::Denied { status, message },
        _ => StoreFailure::Refused { status, message },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kubectl_errors_become_failures() {
        assert_eq!(
            failure("Error from server (NotFound): secrets \"x\" not found\n"),
            StoreFailure::NotFound
        );
        assert!(matches!(
            failure("Error from server (Forbidden): secrets \"x\" is forbidden: …"),
            StoreFailure::Denied { status: 403, .. }
        ));
        assert!(matches!(
            failure("Error from server (Conflict): Operation cannot be fulfilled"),
            StoreFailure::Refused { status: 409, .. }
        ));
        assert!(matches!(
            failure("error: You must be logged in to the server (Unauthorized)"),
            StoreFailure::Denied { status: 401, .. }
        ));
        assert!(matches!(
            failure("Unable to connect to the server: dial tcp 127.0.0.1:1: refused"),
            StoreFailure::Unreachable(_)
        ));
    }
}
