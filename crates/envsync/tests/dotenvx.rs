//! dotenvx in and out, both ways through the real `dotenvx` CLI (npm `@dotenvx/dotenvx`,
//! which scripts/test.sh installs): files it encrypts are imported, files envsync exports
//! are decrypted and run by it, and its private key never lands beside the ciphertext.

mod support;

use support::{Team, Teammate};

/// Values that exercise quoting: spaces, `#`, `=`, quotes of both kinds, a dollar sign.
const VALUES: &[(&str, &str)] = &[
    ("DATABASE_URL", "postgres://app:p@ss=w0rd@db:5432/app"),
    ("GREETING", "hello world # not a comment"),
    ("QUOTES", "say \"hi\""),
    ("APOSTROPHE", "it's"),
    ("PRICE", "$5"),
];

fn dotenvx(mate: &Teammate, args: &[&str], env: &[(&str, &str)]) -> support::Run {
    let output = mate
        .program("dotenvx", args)
        .envs(env.iter().copied())
        .output()
        .expect("the dotenvx CLI runs (npm install -g @dotenvx/dotenvx; scripts/test.sh does)");
    support::Run::from(output)
}

/// The values as dotenv text both dotenv dialects read alike (neither unescapes `\"`, so a
/// value is single-quoted unless it holds a single quote).
fn plain_file() -> String {
    VALUES
        .iter()
        .map(|(key, value)| match value.contains('\'') {
            true => format!("{key}=\"{value}\"\n"),
            false => format!("{key}='{value}'\n"),
        })
        .collect()
}

#[test]
fn a_file_dotenvx_encrypted_is_imported_with_its_key_from_env_keys_or_the_environment() {
    let team = Team::new();
    let alice = team.member("alice");
    alice.write_env(".env", "KEEP=me\n");
    std::fs::create_dir(alice.workspace.join("legacy")).unwrap();
    alice.write_env("legacy/.env.production", &plain_file());
    dotenvx(&alice, &["encrypt", "-f", "legacy/.env.production"], &[]).ok();
    let sealed = alice.read_env("legacy/.env.production");
    assert!(
        sealed.contains("encrypted:") && !sealed.contains("p@ss"),
        "{sealed}"
    );

    alice
        .run(&["import", "--from", "dotenvx", "legacy/.env.production"])
        .ok();
    let linked = alice.read_env(".env");
    for (key, value) in VALUES {
        let read = alice
            .run(&[
                "run",
                "--no-expand",
                "--",
                "sh",
                "-c",
                &format!("printf %s \"${key}\""),
            ])
            .ok();
        assert_eq!(read.stdout, *value, "{key} in {linked}");
    }
    assert!(linked.starts_with("KEEP=me\n") && !linked.contains("DOTENV_PUBLIC_KEY"));

    // The key from the environment instead, as in CI; .env.keys moved away.
    // dotenvx writes .env.keys in the directory it runs in; envsync looks beside the file,
    // then there.
    let keys = alice.read_env(".env.keys");
    let private = keys
        .lines()
        .find_map(|line| line.strip_prefix("DOTENV_PRIVATE_KEY_PRODUCTION="))
        .unwrap()
        .trim_matches('"')
        .to_owned();
    std::fs::remove_file(alice.workspace.join(".env.keys")).unwrap();
    alice.write_env(".env", "");
    let args = ["import", "--from", "dotenvx", "legacy/.env.production"];
    let refused = alice.run(&args).code(2);
    assert!(
        refused.stderr.contains("DOTENV_PRIVATE_KEY_PRODUCTION"),
        "{}",
        refused.stderr
    );
    assert_eq!(alice.read_env(".env"), "");
    alice
        .run_with_env(&args, &[("DOTENV_PRIVATE_KEY_PRODUCTION", &private)])
        .ok();
    assert!(alice.read_env(".env").contains("PRICE="));
}

#[test]
fn a_wrong_key_or_a_tampered_value_is_refused_and_changes_nothing() {
    let team = Team::new();
    let alice = team.member("alice");
    alice.write_env(".env", "KEEP=me\n");
    alice.write_env(".env.ci", "TOKEN=secret-value\n");
    dotenvx(&alice, &["encrypt", "-f", ".env.ci"], &[]).ok();
    let other = "1".repeat(64);
    let args = ["import", "--from", "dotenvx", ".env.ci"];
    let refused = alice
        .run_with_env(&args, &[("DOTENV_PRIVATE_KEY_CI", &other)])
        .code(2);
    assert!(
        refused.stderr.contains("is not the private key of"),
        "{}",
        refused.stderr
    );
    assert!(!refused.stderr.contains("secret-value") && !refused.stderr.contains(&other));

    let sealed = alice.read_env(".env.ci");
    let tampered = sealed.replacen("encrypted:B", "encrypted:C", 1);
    assert_ne!(tampered, sealed);
    alice.write_env(".env.ci", &tampered);
    let refused = alice.run(&args).code(2);
    assert!(refused.stderr.contains("`TOKEN`"), "{}", refused.stderr);
    assert_eq!(alice.read_env(".env"), "KEEP=me\n");
}

#[test]
fn an_export_is_read_by_dotenvx_and_its_key_is_printed_not_written() {
    let team = Team::new();
    let alice = team.member("alice");
    alice.write_env(".env", &plain_file());
    alice.run(&["push"]).ok();
    std::fs::create_dir(alice.workspace.join("deploy")).unwrap();
    let out = "deploy/.env.production";
    let exported = alice
        .run(&["export", "--remote", "--format", "dotenvx", "--out", out])
        .ok();
    let line = exported.stdout.trim();
    let private = line
        .strip_prefix("DOTENV_PRIVATE_KEY_PRODUCTION=")
        .expect(line);
    assert_eq!(private.len(), 64);
    let written = alice.read_env(out);
    assert!(
        !written.contains(private) && !written.contains("p@ss"),
        "{written}"
    );
    assert!(!alice.workspace.join("deploy/.env.keys").exists());
    assert!(!alice.workspace.join(".env.keys").exists());

    let env = [("DOTENV_PRIVATE_KEY_PRODUCTION", private)];
    let decrypted = dotenvx(&alice, &["decrypt", "-f", out, "--stdout"], &env).ok();
    for (key, value) in VALUES {
        let shown = dotenvx(&alice, &["get", key, "-f", out], &env).ok();
        assert_eq!(
            shown.stdout.trim_end_matches('\n'),
            *value,
            "{}",
            decrypted.stdout
        );
    }
    let ran = dotenvx(
        &alice,
        &["run", "-f", out, "--", "sh", "-c", "printf %s \"$QUOTES\""],
        &env,
    )
    .ok();
    assert!(ran.stdout.ends_with("say \"hi\""), "{}", ran.stdout);

    // Exporting again with the key in the environment keeps it, so the service's key stays.
    let again = alice.run_with_env(
        &["export", "--format", "dotenvx", "--out", out],
        &[("DOTENV_PRIVATE_KEY_PRODUCTION", private)],
    );
    assert_eq!(again.ok().stdout.trim(), line);
    // And a file dotenvx then edits comes back in.
    dotenvx(&alice, &["set", "ADDED", "by dotenvx", "-f", out], &env).ok();
    alice
        .run_with_env(&["import", "--from", "dotenvx", out], &env)
        .ok();
    assert!(alice.read_env(".env").contains("ADDED="));
}

#[test]
fn dotenvx_export_needs_an_out_file_and_out_needs_dotenvx() {
    let team = Team::new();
    let alice = team.member("alice");
    alice.write_env(".env", "A=1\n");
    let refused = alice.run(&["export", "--format", "dotenvx"]).code(2);
    assert!(refused.stderr.contains("--out"), "{}", refused.stderr);
    assert!(refused.stdout.is_empty());
    let refused = alice
        .run(&["export", "--format", "json", "--out", "x.json"])
        .code(2);
    assert!(refused.stderr.contains("--out"), "{}", refused.stderr);
    assert!(!alice.workspace.join("x.json").exists());
}
