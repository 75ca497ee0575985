//! Cloud secret stores for the tests: AWS Secrets Manager and SSM on moto's server (the
//! same process the S3 tests start: moto serves every service on one port), administered
//! through boto3; the contract server of `cloud_apis.py` for Google Cloud Secret
//! Manager, Azure Key Vault and HashiCorp Vault; and that of `github_api.py` for GitHub
//! Actions secrets.

use std::io::BufRead;
use std::process::{Child, Command, Stdio};

use super::S3Server;

/// The keys moto takes (it accepts any) and the region every test uses.
pub const AWS_ENV: [(&str, &str); 3] = [
    ("AWS_ACCESS_KEY_ID", "AKIATESTSTORES"),
    ("AWS_SECRET_ACCESS_KEY", "secret-of-stores"),
    ("AWS_REGION", "us-east-1"),
];

const AWS_ADMIN: &str = r#"
import json, sys, boto3
endpoint, command, name = sys.argv[1:4]
session = dict(endpoint_url=endpoint, region_name="us-east-1",
               aws_access_key_id="test", aws_secret_access_key="test")
sm, ssm = boto3.client("secretsmanager", **session), boto3.client("ssm", **session)
value = sys.stdin.read()
if command == "sm-put":
    sm.create_secret(Name=name, SecretString=value)
elif command == "sm-get":
    print(sm.get_secret_value(SecretId=name)["SecretString"], end="")
elif command == "ssm-put":
    ssm.put_parameter(Name=name, Value=value, Type="SecureString", Overwrite=True)
elif command == "ssm-list":
    out = {}
    for page in ssm.get_paginator("get_parameters_by_path").paginate(Path=name, WithDecryption=True):
        for p in page["Parameters"]:
            out[p["Name"]] = p["Value"]
    print(json.dumps(out, sort_keys=True), end="")
elif command == "sm-list":
    out = {}
    for page in sm.get_paginator("list_secrets").paginate(
            Filters=[{"Key": "name", "Values": [name]}]):
        for s in page["SecretList"]:
            out[s["Name"]] = sm.get_secret_value(SecretId=s["Name"])["SecretString"]
    print(json.dumps(out, sort_keys=True), end="")
elif command == "ssm-get":
    p = ssm.get_parameter(Name=name, WithDecryption=True)["Parameter"]
    print(json.dumps({"type": p["Type"], "value": p["Value"]}), end="")
"#;

/// Runs one boto3 command against moto; `value` goes on stdin.
pub fn aws_admin(server: &S3Server, command: &str, name: &str, value: &str) -> String {
    let what = format!("AWS admin {command} {name}");
    super::python(AWS_ADMIN, &[&server.endpoint, command, name], value, &what)
}

/// A contract server: of Google Cloud, Azure and Vault APIs, or of GitHub's.
pub struct CloudApis {
    pub url: String,
    child: Child,
}

/// The credentials `cloud_apis.py` accepts.
pub const GCP_TOKEN: &str = "gcp-test-token";
pub const AZURE_TENANT: &str = "tenant-1";
pub const AZURE_CLIENT: &str = "client-1";
pub const AZURE_SECRET: &str = "azure-client-secret";
pub const VAULT_TOKEN: &str = "vault-test-token";

/// The tokens `github_api.py` accepts: one that manages secrets, one that may only read.
pub const GITHUB_TOKEN: &str = "ghp_contract_token";
pub const GITHUB_READ_ONLY_TOKEN: &str = "ghp_read_only_token";

impl CloudApis {
    pub fn start() -> Self {
        Self::serve(include_str!("cloud_apis.py"), "http", &[])
    }

    /// GitHub's Actions secrets API (`github_api.py`; needs PyNaCl).
    pub fn github() -> Self {
        Self::serve(include_str!("github_api.py"), "http", &[])
    }

    /// The Kubernetes API server's Secret endpoints (`k8s_api.py`), over HTTPS with a
    /// certificate it writes to `directory/ca.pem`.
    pub fn kubernetes(directory: &std::path::Path) -> Self {
        let directory = directory.to_str().unwrap();
        Self::serve(include_str!("k8s_api.py"), "https", &[directory])
    }

    /// Runs `script` after what every contract server shares (`contract_http.py`).
    fn serve(script: &str, scheme: &str, args: &[&str]) -> Self {
        let program = format!("{}\n{script}", include_str!("contract_http.py"));
        let mut child = Command::new("python3")
            .args(["-c", &program])
            .args(args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("python3 runs");
        let mut line = String::new();
        std::io::BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut line)
            .unwrap();
        let port: u16 = line
            .trim()
            .parse()
            .expect("the contract server prints its port");
        CloudApis {
            url: format!("{scheme}://127.0.0.1:{port}"),
            child,
        }
    }

    pub fn get(&self, path: &str) -> serde_json::Value {
        let body = ureq::get(format!("{}{path}", self.url))
            .call()
            .unwrap()
            .into_body()
            .read_to_string()
            .unwrap();
        serde_json::from_str(&body).unwrap()
    }

    /// Every request served, with the problems the server found in any.
    pub fn log(&self) -> Vec<serde_json::Value> {
        self.get("/_contract/log").as_array().unwrap().clone()
    }

    /// POSTs to a contract call (`/_contract/touch?…`).
    pub fn post(&self, path: &str) {
        ureq::post(format!("{}{path}", self.url))
            .send_empty()
            .unwrap();
    }

    /// What each store holds now.
    pub fn state(&self) -> serde_json::Value {
        self.get("/_contract/state")
    }
}

impl Drop for CloudApis {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A CI machine: a checkout of `from`'s workspace (its envsync.toml only), an empty home.
pub fn ci_machine(team: &super::Team, from: &super::Teammate, name: &str) -> super::Teammate {
    let mate = super::Teammate {
        name: name.into(),
        home: team.root.path().join(format!("homes/{name}")),
        workspace: team.root.path().join(format!("clone-{name}")),
    };
    std::fs::create_dir_all(&mate.home).unwrap();
    std::fs::create_dir_all(&mate.workspace).unwrap();
    std::fs::copy(
        from.workspace.join("envsync.toml"),
        mate.workspace.join("envsync.toml"),
    )
    .unwrap();
    mate
}

/// Every file under `dir` whose bytes contain `needle` (to show a secret was not written).
pub fn files_containing(dir: &std::path::Path, needle: &str) -> Vec<std::path::PathBuf> {
    let mut found = Vec::new();
    let Ok(entries) = std::fs::read_dir(dir) else {
        return found;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            found.extend(files_containing(&path, needle));
        } else if std::fs::read(&path)
            .is_ok_and(|bytes| String::from_utf8_lossy(&bytes).contains(needle))
        {
            found.push(path);
        }
    }
    found
}
