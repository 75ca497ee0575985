//! Identities kept in cloud secret stores, through the real binary: AWS Secrets Manager and
//! SSM Parameter Store on moto's server (a real emulator of those APIs), and contract tests
//! of Google Cloud Secret Manager, Azure Key Vault and HashiCorp Vault KV v2 against a
//! server implementing their documented HTTP APIs (`support/cloud_apis.py`), since none of
//! them can run here. The identity is fetched into memory only: no file on the CI machine
//! ever holds it.

mod support;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;

use support::server::Server;
use support::stores::{
    AWS_ENV, AZURE_CLIENT, AZURE_SECRET, AZURE_TENANT, CloudApis, GCP_TOKEN, VAULT_TOKEN,
    aws_admin, ci_machine, files_containing,
};
use support::team_server::{ALICE_ENV, server_owner};
use support::{S3Server, Team, Teammate};

fn pushed_alice(team: &Team) -> Teammate {
    let alice = team.member("alice");
    alice.write_env(".env", "API_KEY=from-the-store\n");
    alice.run(&["push"]).ok();
    alice
}

fn identity_text(mate: &Teammate) -> String {
    std::fs::read_to_string(mate.identity_file()).unwrap()
}

/// `envsync run --remote` on `ci` with `ENVSYNC_IDENTITY=url` and `env`.
fn read_with(ci: &Teammate, url: &str, env: &[(&str, &str)]) -> support::Run {
    let mut all = env.to_vec();
    all.push(("ENVSYNC_IDENTITY", url));
    ci.run_with_env(
        &["run", "--remote", "--yes", "--", "printenv", "API_KEY"],
        &all,
    )
}

#[test]
fn an_identity_in_secrets_manager_or_ssm_is_used_in_memory_only() {
    let moto = S3Server::shared();
    let team = Team::new();
    let alice = pushed_alice(&team);
    let identity = identity_text(&alice);
    aws_admin(moto, "sm-put", "ci/alice", &identity);
    aws_admin(moto, "ssm-put", "/ci/alice", &identity);
    let ci = ci_machine(&team, &alice, "ci");
    let endpoint = format!("endpoint={}", moto.endpoint);
    for url in [
        format!("aws-sm://ci/alice?{endpoint}"),
        format!("aws-ssm:///ci/alice?{endpoint}&region=us-east-1"),
    ] {
        let read = read_with(&ci, &url, &AWS_ENV).ok();
        assert_eq!(read.stdout.trim(), "from-the-store");
    }
    // The standard endpoint variable works as well as the URL's option.
    let mut env = AWS_ENV.to_vec();
    env.push(("AWS_ENDPOINT_URL_SECRETS_MANAGER", &moto.endpoint));
    read_with(&ci, "aws-sm://ci/alice", &env).ok();
    let secret_line = identity
        .lines()
        .find(|line| line.starts_with("AGE-"))
        .unwrap();
    assert_eq!(
        files_containing(&ci.home, secret_line),
        Vec::<std::path::PathBuf>::new()
    );
    assert_eq!(
        files_containing(&ci.workspace, secret_line),
        Vec::<std::path::PathBuf>::new()
    );
}

/// The user's settings file may name the identity instead of `ENVSYNC_IDENTITY` (a store
/// URL or a file's path, relative to the settings' folder); the variable wins over it; a
/// key written into the settings, or a typo, is refused naming the file, and shows no key.
#[test]
fn the_identity_setting_names_a_store_or_a_file_and_the_variable_wins() {
    let moto = S3Server::shared();
    let team = Team::new();
    let alice = pushed_alice(&team);
    let identity = identity_text(&alice);
    aws_admin(moto, "sm-put", "ci/setting", &identity);
    let ci = ci_machine(&team, &alice, "ci");
    let settings = ci.home.join(".config/envsync/config.toml");
    std::fs::create_dir_all(settings.parent().unwrap()).unwrap();
    let printenv = ["run", "--remote", "--yes", "--", "printenv", "API_KEY"];
    let url = format!("aws-sm://ci/setting?endpoint={}", moto.endpoint);
    std::fs::write(&settings, format!("identity = \"{url}\"\n")).unwrap();
    let read = ci.run_with_env(&printenv, &AWS_ENV).ok();
    assert_eq!(read.stdout.trim(), "from-the-store");
    // The variable wins: here it names a secret that does not exist.
    let missing = format!("aws-sm://ci/nobody?endpoint={}", moto.endpoint);
    let refused = read_with(&ci, &missing, &AWS_ENV).code(2);
    assert!(refused.stderr.contains(&missing), "{}", refused.stderr);
    // A file beside the settings.
    std::fs::write(settings.with_file_name("ci-identity.txt"), &identity).unwrap();
    std::fs::write(&settings, "identity = \"ci-identity.txt\"\n").unwrap();
    assert_eq!(ci.run(&printenv).ok().stdout.trim(), "from-the-store");
    let secret_line = identity
        .lines()
        .find(|line| line.starts_with("AGE-"))
        .unwrap();
    for (text, needle) in [
        (
            format!("identity = \"{secret_line}\"\n"),
            "secret key itself",
        ),
        ("identiy = \"ci-identity.txt\"\n".to_owned(), "(line 1)"),
    ] {
        std::fs::write(&settings, text).unwrap();
        let refused = ci.run(&printenv).code(2);
        assert!(refused.stderr.contains("config.toml"), "{}", refused.stderr);
        assert!(refused.stderr.contains(needle), "{}", refused.stderr);
        assert!(
            !refused.stderr.contains(&secret_line[15..]),
            "{}",
            refused.stderr
        );
        assert!(!refused.stdout.contains("from-the-store"));
    }
}

#[test]
fn a_missing_secret_a_bad_url_and_a_mangled_key_are_refused_without_showing_values() {
    let moto = S3Server::shared();
    let team = Team::new();
    let alice = pushed_alice(&team);
    let ci = ci_machine(&team, &alice, "ci");
    let endpoint = format!("endpoint={}", moto.endpoint);

    let missing = format!("aws-sm://ci/nobody?{endpoint}");
    let refused = read_with(&ci, &missing, &AWS_ENV).code(2);
    assert!(
        refused.stderr.contains(&missing) && refused.stderr.contains("no such secret"),
        "{}",
        refused.stderr
    );
    let refused = read_with(&ci, "aws-sm://", &AWS_ENV).code(2);
    assert!(
        refused.stderr.contains("aws-sm://NAME"),
        "{}",
        refused.stderr
    );
    let refused = read_with(
        &ci,
        "aws-sm://x?endpoint=https://elsewhere.example",
        &AWS_ENV,
    );
    assert!(refused.code(2).stderr.contains("on this machine"));

    aws_admin(
        moto,
        "sm-put",
        "ci/mangled",
        "AGE-SECRET-KEY-1MANGLED-tail-of-a-secret",
    );
    let refused = read_with(&ci, &format!("aws-sm://ci/mangled?{endpoint}"), &AWS_ENV).code(5);
    assert!(
        refused.stderr.contains("aws-sm://ci/mangled"),
        "{}",
        refused.stderr
    );
    assert!(
        !refused.stderr.contains("tail-of-a-secret"),
        "{}",
        refused.stderr
    );
    assert!(!refused.stdout.contains("from-the-store"));

    // No credentials at all: moto is never asked, and the error says what is missing.
    let closed = "aws-sm://ci/alice?endpoint=http://127.0.0.1:9";
    let refused = read_with(&ci, closed, &AWS_ENV).code(1);
    assert!(refused.stderr.contains("unreachable"), "{}", refused.stderr);
}

#[test]
fn ci_add_store_writes_the_identity_into_the_store_and_the_job_reads_through_it() {
    let moto = S3Server::shared();
    let team = Team::new();
    let server = Server::sqlite(&team.root.path().join("server"));
    let alice = server_owner(&team, &server, "alice");
    alice.write_env(".env", ALICE_ENV);
    alice.run(&["push"]).ok();
    alice.write_env(".env.staging", "API_KEY=staging-secret\n");
    alice.run(&["push", "--env", "staging"]).ok();

    let url = format!("aws-ssm:///ci/github?endpoint={}", moto.endpoint);
    let added = alice
        .run_with_env(
            &[
                "ci", "add", "github", "--env", "staging", "--store", &url, "--json",
            ],
            &AWS_ENV,
        )
        .ok();
    let document = added.document("CiAdded");
    assert_eq!(document["ENVSYNC_IDENTITY"], url.as_str());
    assert_eq!(document["identity_store"], true);
    assert!(!added.stdout.contains("AGE-SECRET-KEY") && !added.stderr.contains("AGE-SECRET-KEY"));
    let stored: serde_json::Value =
        serde_json::from_str(&aws_admin(moto, "ssm-get", "/ci/github", "")).unwrap();
    assert_eq!(stored["type"], "SecureString");
    assert!(
        stored["value"]
            .as_str()
            .unwrap()
            .contains("AGE-SECRET-KEY-1")
    );

    let ci = ci_machine(&team, &alice, "ci");
    let token = document["ENVSYNC_TOKEN"].as_str().unwrap();
    let mut env = AWS_ENV.to_vec();
    env.extend([
        ("ENVSYNC_TOKEN", token),
        ("ENVSYNC_SERVER", server.url.as_str()),
    ]);
    env.push(("ENVSYNC_IDENTITY", &url));
    let run = ci
        .run_with_env(
            &[
                "run", "--remote", "--env", "staging", "--yes", "--", "printenv", "API_KEY",
            ],
            &env,
        )
        .ok();
    assert_eq!(run.stdout.trim(), "staging-secret");

    // A store that cannot be written: nothing is created on the server.
    let before = alice.run(&["members", "list", "--json"]).ok().stdout;
    let closed = "aws-sm://ci/deploy?endpoint=http://127.0.0.1:9";
    let refused = alice
        .run_with_env(
            &["ci", "add", "deploy", "--env", "staging", "--store", closed],
            &AWS_ENV,
        )
        .code(1);
    assert!(
        refused.stderr.contains("aws-sm://ci/deploy"),
        "{}",
        refused.stderr
    );
    assert_eq!(
        alice.run(&["members", "list", "--json"]).ok().stdout,
        before
    );
    let refused = alice
        .run(&[
            "ci",
            "add",
            "deploy",
            "--env",
            "staging",
            "--store",
            "github:acme/app",
        ])
        .code(2);
    assert!(
        refused.stderr.contains("not one secret"),
        "{}",
        refused.stderr
    );
}

/// A store's name, URL and the credentials its platform hands out.
type Case<'a> = (&'a str, String, Vec<(&'a str, &'a str)>);

/// The contract tests: each store's documented API on `CloudApis`, with credentials as each
/// platform hands them out. `ci add --store` writes each identity (creating the secret where
/// the API needs that), and a CI machine reads through it.
#[test]
fn gcp_azure_and_vault_identities_follow_their_documented_apis() {
    let apis = CloudApis::start();
    let team = Team::new();
    let server = Server::sqlite(&team.root.path().join("server"));
    let alice = server_owner(&team, &server, "alice");
    alice.write_env(".env", ALICE_ENV);
    alice.run(&["push"]).ok();
    alice.write_env(".env.staging", "API_KEY=from-the-store\n");
    alice.run(&["push", "--env", "staging"]).ok();
    let ci = ci_machine(&team, &alice, "ci");
    let cases: Vec<Case> = vec![
        (
            "gcp",
            format!(
                "gcp-sm://projects/acme/secrets/ci-gcp?endpoint={}",
                apis.url
            ),
            vec![("GOOGLE_OAUTH_ACCESS_TOKEN", GCP_TOKEN)],
        ),
        (
            "azure",
            format!("azure-kv://acme-vault/ci-azure?endpoint={}", apis.url),
            vec![
                ("AZURE_TENANT_ID", AZURE_TENANT),
                ("AZURE_CLIENT_ID", AZURE_CLIENT),
                ("AZURE_CLIENT_SECRET", AZURE_SECRET),
                ("AZURE_AUTHORITY_HOST", apis.url.as_str()),
            ],
        ),
        (
            "vault",
            "vault://secret/ci/app#key".to_owned(),
            vec![
                ("VAULT_ADDR", apis.url.as_str()),
                ("VAULT_TOKEN", VAULT_TOKEN),
            ],
        ),
    ];
    for (name, url, env) in &cases {
        let args = [
            "ci", "add", name, "--env", "staging", "--store", url, "--json",
        ];
        let added = alice.run_with_env(&args, env).ok().document("CiAdded");
        let token = added["ENVSYNC_TOKEN"].as_str().unwrap();
        let mut job = env.clone();
        job.extend([
            ("ENVSYNC_TOKEN", token),
            ("ENVSYNC_SERVER", server.url.as_str()),
        ]);
        let job_args = [
            "run", "--remote", "-e", "staging", "--yes", "--", "printenv", "API_KEY",
        ];
        let mut with_identity = job.clone();
        with_identity.push(("ENVSYNC_IDENTITY", url));
        let read = ci.run_with_env(&job_args, &with_identity).ok();
        assert_eq!(read.stdout.trim(), "from-the-store", "{url}");
        // A secret that is not there: a clear refusal.
        let missing = url
            .replacen(&format!("ci-{name}"), "ci-missing", 1)
            .replacen("ci/app", "ci/missing", 1);
        let mut with_missing = job.clone();
        with_missing.push(("ENVSYNC_IDENTITY", &missing));
        let refused = ci.run_with_env(&job_args, &with_missing).code(2);
        assert!(
            refused.stderr.contains("no such secret"),
            "{missing}: {}",
            refused.stderr
        );
        // Wrong credentials are refused as access (exit 5), naming the store.
        let wrong: Vec<(&str, &str)> = with_identity
            .iter()
            .map(|(name, value)| match *name {
                "GOOGLE_OAUTH_ACCESS_TOKEN" | "AZURE_CLIENT_SECRET" | "VAULT_TOKEN" => {
                    (*name, "wrong")
                }
                _ => (*name, *value),
            })
            .collect();
        let refused = ci.run_with_env(&job_args, &wrong).code(5);
        let shown = url.split('?').next().unwrap();
        assert!(refused.stderr.contains(shown), "{}", refused.stderr);
    }
    // Every request envsync made was one the documented APIs accept, but for the refusals
    // this test provoked on purpose (missing secrets, wrong credentials).
    let unexpected: Vec<_> = apis
        .log()
        .into_iter()
        .filter(|entry| {
            entry
                .get("problem")
                .and_then(|problem| problem.as_str())
                .is_some_and(|problem| {
                    !["not found", "credentials", "token"]
                        .iter()
                        .any(|expected| problem.contains(expected))
                })
        })
        .collect();
    assert!(
        unexpected.is_empty(),
        "requests the APIs would refuse: {unexpected:?}"
    );
    publish_through_the_contract_apis(&alice, &apis, &cases);
    let state = apis.state();
    let vault_field = state["vault"]["secret/ci/app"][0]["key"].as_str().unwrap();
    assert!(vault_field.contains("AGE-SECRET-KEY-1"));
    assert_eq!(
        state["gcp"]["projects/acme/secrets/ci-gcp"]
            .as_array()
            .unwrap()
            .len(),
        1
    );
    assert!(
        state["azure"]["ci-azure"][0]
            .as_str()
            .unwrap()
            .contains("AGE-SECRET-KEY-1")
    );
}

/// `envsync publish` to the same three APIs: one JSON secret (GCP, Azure), one field per key
/// (Vault); the second run writes nothing.
fn publish_through_the_contract_apis(alice: &Teammate, apis: &CloudApis, cases: &[Case]) {
    let path = alice.workspace.join("envsync.toml");
    let mut config = std::fs::read_to_string(&path).unwrap();
    for to in [
        format!(
            "gcp-sm://projects/acme/secrets/app-staging?endpoint={}",
            apis.url
        ),
        format!("azure-kv://acme-vault/app-staging?endpoint={}", apis.url),
        "vault://secret/app/staging".to_owned(),
    ] {
        config.push_str(&format!(
            "\n[[projects.app.publish]]\nenvironment = \"staging\"\nto = \"{to}\"\n"
        ));
    }
    std::fs::write(&path, config).unwrap();
    let env: Vec<(&str, &str)> = cases.iter().flat_map(|(_, _, env)| env.clone()).collect();
    let first = alice.run_with_env(&["publish", "--json"], &env).ok().json();
    let writes: Vec<_> = (0..3)
        .map(|index| first["targets"][index]["writes"].clone())
        .collect();
    assert_eq!(writes, vec![1, 1, 1], "{first}");
    let again = alice.run_with_env(&["publish", "--json"], &env).ok().json();
    let writes: Vec<_> = (0..3)
        .map(|index| again["targets"][index]["writes"].clone())
        .collect();
    assert_eq!(writes, vec![0, 0, 0], "{again}");
    alice.run_with_env(&["publish", "--check"], &env).ok();
    let state = apis.state();
    assert_eq!(
        state["vault"]["secret/app/staging"][0]["API_KEY"],
        "from-the-store"
    );
    let gcp = &state["gcp"]["projects/acme/secrets/app-staging"][0];
    let payload = String::from_utf8(STANDARD.decode(gcp.as_str().unwrap()).unwrap()).unwrap();
    assert_eq!(payload, r#"{"API_KEY":"from-the-store"}"#);
    assert_eq!(
        state["azure"]["app-staging"][0],
        r#"{"API_KEY":"from-the-store"}"#
    );
}
