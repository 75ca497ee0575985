//! `envsync publish` to a Kubernetes Secret through the real binary and the real `kubectl`:
//! a **contract test** against `support/k8s_api.py`, which implements the API server's
//! documented core/v1 Secret endpoints that `kubectl get|create|replace --raw` call, over
//! HTTPS, and checks every request (bearer token, paths against bodies, the Secret's shape,
//! resourceVersion). Every Secret it stored is also validated against the Secret schema
//! (`support/k8s_secret.schema.json`).

mod support;

use std::path::{Path, PathBuf};

use serde_json::Value;
use support::stores::CloudApis;
use support::{Team, Teammate};

const TOKEN: &str = "k8s-contract-token";

struct Cluster {
    /// Served while this lives.
    _api: CloudApis,
    /// A kubeconfig whose current context is the contract server, with `TOKEN`.
    kubeconfig: PathBuf,
    /// The same with a token the server refuses.
    bad_kubeconfig: PathBuf,
}

fn cluster(directory: &Path) -> Cluster {
    let api = CloudApis::kubernetes(directory);
    let write = |file: &str, token: &str| {
        let path = directory.join(file);
        let config = format!(
            "apiVersion: v1\nkind: Config\nclusters:\n- name: contract\n  cluster:\n    \
             server: {}\n    certificate-authority: {}\nusers:\n- name: ci\n  user:\n    \
             token: {token}\ncontexts:\n- name: contract\n  context: {{cluster: contract, \
             user: ci}}\ncurrent-context: contract\n",
            api.url,
            directory.join("ca.pem").display()
        );
        std::fs::write(&path, config).unwrap();
        path
    };
    Cluster {
        kubeconfig: write("kubeconfig", TOKEN),
        bad_kubeconfig: write("bad-kubeconfig", "wrong-token"),
        _api: api,
    }
}

impl Cluster {
    /// A contract call through kubectl itself (the server speaks only TLS).
    fn kubectl(&self, alice: &Teammate, args: &[&str]) -> Value {
        let mut command = alice.program("kubectl", args);
        command.env("KUBECONFIG", &self.kubeconfig);
        command.stdin(std::process::Stdio::null());
        let output = command.output().unwrap();
        assert!(output.status.success(), "{output:?}");
        serde_json::from_slice(&output.stdout).unwrap()
    }

    /// Every Secret stored, each checked against the Secret schema, with its data decoded.
    fn secrets(&self, alice: &Teammate) -> Value {
        let objects = self.kubectl(alice, &["get", "--raw", "/_contract/objects"]);
        let schema = support_schema();
        let mut decoded = serde_json::Map::new();
        for (key, secret) in objects.as_object().unwrap() {
            let errors: Vec<String> = schema.iter_errors(secret).map(|e| e.to_string()).collect();
            assert!(errors.is_empty(), "{key} is not a valid Secret: {errors:?}");
            decoded.insert(key.clone(), decode(secret));
        }
        Value::Object(decoded)
    }

    /// The API requests since `from`, after checking none had a problem.
    fn requests(&self, alice: &Teammate, from: usize) -> Vec<String> {
        let log = self.kubectl(alice, &["get", "--raw", "/_contract/log"]);
        let log = log.as_array().unwrap();
        for entry in log {
            assert!(entry.get("problem").is_none(), "a bad request: {entry}");
        }
        let line = |entry: &Value| format!("{} {}", entry["method"], entry["path"]);
        let api = log.iter().filter(|entry| entry["path"] != "/version");
        api.skip(from).map(line).collect()
    }
}

fn support_schema() -> jsonschema::Validator {
    let text = include_str!("support/k8s_secret.schema.json");
    jsonschema::validator_for(&serde_json::from_str(text).unwrap()).unwrap()
}

fn decode(secret: &Value) -> Value {
    use base64::Engine;
    let mut data = serde_json::Map::new();
    for (key, value) in secret["data"].as_object().into_iter().flatten() {
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(value.as_str().unwrap())
            .unwrap();
        data.insert(key.clone(), String::from_utf8(bytes).unwrap().into());
    }
    serde_json::json!({ "labels": secret["metadata"]["labels"], "data": data })
}

fn publish(alice: &Teammate, kubeconfig: &Path, args: &[&str]) -> support::Run {
    let mut all = vec!["publish", "--json"];
    all.extend_from_slice(args);
    alice.run_with_env(&all, &[("KUBECONFIG", kubeconfig.to_str().unwrap())])
}

fn add_target(alice: &Teammate, to: &str) {
    let path = alice.workspace.join("envsync.toml");
    let mut config = std::fs::read_to_string(&path).unwrap();
    config.push_str(&format!(
        "\n[[projects.app.publish]]\nenvironment = \"development\"\nto = \"{to}\"\n"
    ));
    std::fs::write(path, config).unwrap();
}

fn field(run: &Value, name: &str) -> Value {
    run["targets"][0][name].clone()
}

#[test]
fn contract_publish_to_a_kubernetes_secret_through_kubectl() {
    let team = Team::new();
    let cluster = cluster(team.root.path());
    let alice = team.member("alice");
    let config = &cluster.kubeconfig;
    add_target(&alice, "k8s://prod/app-env");
    alice.write_env(".env", "A=1\nDB_URL=postgres://secret@db\n");
    alice.run(&["push"]).ok();

    let dry = publish(&alice, config, &["--dry-run"]).ok().json();
    assert_eq!(field(&dry, "missing"), serde_json::json!(["A", "DB_URL"]));
    publish(&alice, config, &["--check"]).code(7);
    assert_eq!(cluster.secrets(&alice), serde_json::json!({}));

    let first = publish(&alice, config, &[]).ok();
    assert!(!first.stdout.contains("postgres://"));
    assert_eq!(field(&first.json(), "writes"), 1);
    let stored = &cluster.secrets(&alice)["prod/app-env"];
    assert_eq!(stored["labels"]["app.kubernetes.io/managed-by"], "envsync");
    assert_eq!(
        stored["data"],
        serde_json::json!({"A": "1", "DB_URL": "postgres://secret@db"})
    );

    // Idempotent: one read, no write.
    let before = cluster.requests(&alice, 0).len();
    assert_eq!(
        field(&publish(&alice, config, &[]).ok().json(), "writes"),
        0
    );
    assert_eq!(
        cluster.requests(&alice, before),
        ["\"GET\" \"/api/v1/namespaces/prod/secrets/app-env\""]
    );
    publish(&alice, config, &["--check"]).ok();

    // A key added by someone else is extra: kept unless --prune.
    let edit = "/_contract/edit?namespace=prod&name=app-env";
    cluster.kubectl(&alice, &["get", "--raw", edit]);
    publish(&alice, config, &["--check"]).ok();
    publish(&alice, config, &["--check", "--prune"]).code(7);
    alice.write_env(".env", "A=2\nDB_URL=postgres://secret@db\nC=new\n");
    alice.run(&["push"]).ok();
    let drift = publish(&alice, config, &["--check"]).code(7);
    assert!(!drift.stdout.contains("\"new\"") && !drift.stdout.contains("postgres"));
    let drift = drift.json();
    assert_eq!(
        (field(&drift, "changed"), field(&drift, "missing")),
        (serde_json::json!(["A"]), serde_json::json!(["C"]))
    );
    assert_eq!(
        field(&publish(&alice, config, &[]).ok().json(), "writes"),
        1
    );
    let data = &cluster.secrets(&alice)["prod/app-env"]["data"];
    assert_eq!((&data["A"], &data["C"]), (&"2".into(), &"new".into()));
    assert_eq!(data["EDITED"], "by someone else");
    assert_eq!(
        field(&publish(&alice, config, &["--prune"]).ok().json(), "writes"),
        1
    );
    let data = &cluster.secrets(&alice)["prod/app-env"]["data"];
    assert_eq!(data.as_object().unwrap().len(), 3);
    publish(&alice, config, &["--check", "--prune"]).ok();
}

#[test]
fn contract_kubernetes_refusals_name_the_target() {
    let team = Team::new();
    let cluster = cluster(team.root.path());
    let alice = team.member("alice");
    add_target(&alice, "k8s://prod/app-env");
    add_target(&alice, "k8s://locked/app-env");
    add_target(&alice, "k8s://Prod/app-env");
    alice.write_env(".env", "A=value-1\n");
    alice.run(&["push"]).ok();

    let run = publish(&alice, &cluster.kubeconfig, &[]).code(1);
    assert!(!run.stdout.contains("value-1") && !run.stderr.contains("value-1"));
    let run = run.json();
    assert_eq!(run["targets"][0]["writes"], 1, "the others still publish");
    let error = |index: usize| run["targets"][index]["error"].as_str().unwrap().to_owned();
    assert!(error(1).contains("k8s://locked/app-env") && error(1).contains("forbidden"));
    assert!(error(2).contains("namespace `Prod`"), "{}", error(2));

    let bad = publish(
        &alice,
        &cluster.bad_kubeconfig,
        &["--to", "k8s://prod/app-env"],
    );
    let message = bad.code(1).json()["targets"][0]["error"].clone();
    let message = message.as_str().unwrap();
    assert!(message.contains("Unauthorized") && message.contains("k8s://prod/app-env"));
    assert!(message.contains("no valid login"), "{message}");
}
