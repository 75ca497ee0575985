//! Errors, exit codes and the file commands, through the real binary.

mod support;

use support::remotes::alice_and_bob;
use support::{Run, Team};

#[test]
fn malformed_config_is_one_located_line_with_exit_2() {
    let team = Team::new();
    let alice = team.member("alice");
    alice.write_env("envsync.toml", "remote = \"x\"\n[projects.app\n");
    let run = alice.run(&["status"]).code(2);
    assert_eq!(run.stderr.lines().count(), 1, "{}", run.stderr);
    assert!(
        run.stderr.starts_with("error: ") && run.stderr.contains("envsync.toml:2:"),
        "{}",
        run.stderr
    );
    assert!(!run.stderr.contains("panicked"));
}

#[test]
fn outside_a_workspace_and_unknown_environments_are_input_errors() {
    let team = Team::new();
    let alice = team.member("alice");
    std::fs::remove_file(alice.workspace.join("envsync.toml")).unwrap();
    let run = alice.run(&["status"]).code(2);
    assert!(run.stderr.contains("no envsync.toml"), "{}", run.stderr);
    let bob = team.member("bob");
    let run = bob.run(&["pull", "--env", "prod"]).code(2);
    assert!(
        run.stderr.contains("no environment `prod`"),
        "{}",
        run.stderr
    );
}

#[test]
fn identities_missing_broken_or_inline() {
    let team = Team::new();
    let alice = team.member("alice");
    alice.write_env(".env", "A=1\n");
    let run = alice
        .command(&["push"])
        .env("ENVSYNC_IDENTITY", "/nonexistent/identity.txt")
        .output()
        .unwrap();
    assert_eq!(run.status.code(), Some(5));
    // Named, not shown: a value that is no file may be a mangled key (see boundaries.rs).
    let stderr = String::from_utf8_lossy(&run.stderr);
    assert!(stderr.contains("ENVSYNC_IDENTITY") && stderr.contains("No such file"));
    assert!(!stderr.contains("/nonexistent/identity.txt"), "{stderr}");

    let run = alice
        .command(&["whoami"])
        .env("ENVSYNC_IDENTITY", "AGE-SECRET-KEY-1GARBAGE")
        .output()
        .unwrap();
    assert_eq!(run.status.code(), Some(5));

    // CI: the key itself in the environment, no file on disk.
    let key = std::fs::read_to_string(alice.identity_file()).unwrap();
    let secret = key
        .lines()
        .find(|line| line.starts_with("AGE-SECRET-KEY-1"))
        .unwrap()
        .to_owned();
    std::fs::remove_file(alice.identity_file()).unwrap();
    let run = alice
        .command(&["whoami"])
        .env("ENVSYNC_IDENTITY", &secret)
        .output()
        .unwrap();
    assert_eq!(run.status.code(), Some(0));
    // A bare key names no one: it gets the default name, worked out when it is needed.
    let named = |variables: &[(&str, &str)]| {
        let mut command = alice.command(&["whoami", "--json"]);
        command
            .env("ENVSYNC_IDENTITY", &secret)
            .envs(variables.iter().copied());
        Run::from(command.output().unwrap()).ok().json()["name"].clone()
    };
    assert_eq!(named(&[("ENVSYNC_NAME", "ci-bot")]), "ci-bot");
    let host = std::fs::read_to_string("/etc/hostname").map_or("localhost".into(), |host| {
        Some(host.trim().to_owned())
            .filter(|host| !host.is_empty())
            .unwrap_or("localhost".into())
    });
    assert_eq!(
        named(&[("USER", "runner")]),
        format!("runner@{host}").as_str()
    );
    // Without ENVSYNC_IDENTITY and without a file, whoami creates one, as other commands do.
    let whoami = alice.command(&["whoami"]).output().unwrap();
    assert_eq!(whoami.status.code(), Some(0));
    assert!(String::from_utf8_lossy(&whoami.stderr).contains("created your identity"));
}

#[test]
fn identity_file_is_private_and_keygen_refuses_to_overwrite() {
    let team = Team::new();
    let alice = team.member("alice");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(alice.identity_file())
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600);
    }
    let before = alice.member_key();
    alice.run(&["keygen"]).code(2);
    assert_eq!(alice.member_key(), before);
}

#[test]
fn non_utf8_env_file_is_refused_and_nothing_is_pushed() {
    let team = Team::new();
    let alice = team.member("alice");
    std::fs::write(alice.workspace.join(".env"), b"A=\xff\xfe\n").unwrap();
    let run = alice.run(&["push"]).code(2);
    assert!(
        run.stderr.contains(".env: not valid UTF-8"),
        "{}",
        run.stderr
    );
    assert!(!team.remote_path("app/environments").exists());
}

#[test]
fn a_missing_remote_folder_is_a_clear_error() {
    let team = Team::new();
    let alice = team.member("alice");
    std::fs::remove_dir_all(&team.remote).unwrap();
    alice.write_env(".env", "A=1\n");
    let run = alice.run(&["push"]).code(1);
    assert!(run.stderr.contains("does not exist"), "{}", run.stderr);
}

#[test]
fn init_writes_config_and_gitignore() {
    let team = Team::new();
    let alice = team.member("alice");
    std::fs::remove_file(alice.workspace.join("envsync.toml")).unwrap();
    alice.write_env(".gitignore", "target\n");
    alice
        .run(&[
            "init",
            "--remote",
            team.remote.to_str().unwrap(),
            "--project",
            "web",
        ])
        .ok();
    let config = alice.read_env("envsync.toml");
    assert!(
        config.contains("[projects.web.environments]") && config.contains("development = \".env\""),
        "{config}"
    );
    assert_eq!(alice.read_env(".gitignore"), "target\n/.env\n/.envsync/\n");
    alice
        .run(&[
            "init",
            "--env",
            "production",
            "--file",
            ".env.production",
            "--project",
            "web",
        ])
        .ok();
    assert!(
        alice
            .read_env("envsync.toml")
            .contains("production = \".env.production\"")
    );
    alice
        .run(&["init", "--env", "production", "--project", "web"])
        .code(2);
    alice.write_env(".env", "A=1\n");
    alice.run(&["push"]).ok();
    assert_eq!(alice.badge("development"), "synced");
}

#[test]
fn export_formats() {
    let team = Team::new();
    let alice = team.member("alice");
    alice.write_env("x.env", "B=2\nA='it''s'\nC=\"first\\nsecond\"\n");
    let json = alice.run(&["export", "--file", "x.env"]).ok().stdout;
    assert!(
        json.find("\"B\"").unwrap() < json.find("\"A\"").unwrap(),
        "file order: {json}"
    );
    let shell = alice
        .run(&["export", "--file", "x.env", "--format", "shell"])
        .ok()
        .stdout;
    assert!(shell.starts_with("export B='2'\n"), "{shell}");
    let yaml = alice
        .run(&["export", "--file", "x.env", "--format", "yaml"])
        .ok()
        .stdout;
    assert!(yaml.contains("\"C\": \"first\\nsecond\""), "{yaml}");
    let docker = alice
        .run(&["export", "--file", "x.env", "--format", "docker"])
        .code(2);
    assert!(
        docker.stderr.contains("`C`") && !docker.stderr.contains("second"),
        "{}",
        docker.stderr
    );
    alice.run(&["export", "--file", "missing.env"]).code(1);
}

#[test]
fn lint_reports_ignored_lines_with_positions() {
    let team = Team::new();
    let alice = team.member("alice");
    alice.write_env(
        "x.env",
        "GOOD=1\nthis line is junk\nBAD KEY=zebra\nGOOD=quokka\n",
    );
    let run = alice.run(&["lint", "x.env"]).code(1);
    assert!(run.stdout.contains("x.env:2:1:"), "{}", run.stdout);
    assert!(run.stdout.contains("x.env:3:"), "{}", run.stdout);
    assert!(run.stdout.contains("x.env:4:"), "{}", run.stdout);
    assert!(
        !run.stdout.contains("zebra") && !run.stdout.contains("quokka"),
        "never print values: {}",
        run.stdout
    );
    alice.write_env("clean.env", "A=1\n# note\n\nB='two'\n");
    alice.run(&["lint", "clean.env"]).ok();
}

#[test]
fn json_errors_carry_the_exit_code() {
    let team = Team::new();
    let (_alice, bob) = alice_and_bob(&team);
    bob.write_env(".env", "X=1\n");
    let run = bob.run(&["pull", "--json"]).code(4);
    assert_eq!(run.document("Failure")["exit_code"], 4);
    // One line, so a failure that ends a stream (`watch --json`) reads like its events.
    assert_eq!(run.stdout.trim_end().lines().count(), 1, "{}", run.stdout);
}

/// The committed schema is the contract tools (the VS Code extension) code against: it must
/// be exactly what the output structs generate.
#[test]
fn the_committed_schema_is_what_the_binary_generates() {
    let team = Team::new();
    let alice = team.member("alice");
    let generated = alice.run(&["schema"]).ok().stdout;
    let committed = std::fs::read_to_string(support::schema::path()).unwrap_or_default();
    assert!(
        generated == committed,
        "schema/envsync-cli.schema.json is not what the output structs generate; \
         regenerate it with `cargo run -q -p envsync -- schema > schema/envsync-cli.schema.json` \
         and review the change (a breaking one bumps SCHEMA_VERSION)"
    );
    let schema: serde_json::Value = serde_json::from_str(&generated).unwrap();
    jsonschema::validator_for(&schema).expect("the schema is a valid JSON Schema");
    for name in schema["x-documents"].as_object().unwrap().values() {
        let name = name.as_str().unwrap();
        assert!(schema["$defs"].get(name).is_some(), "{name} is not defined");
    }
}

/// Settings are resolved only for the commands that use them: `man` reads no identity and
/// never asks git for a new identity's name (`GIT_TRACE` records every git the binary runs,
/// with the real git); nor does `status`, which reads an identity but never creates one;
/// `whoami` with no identity yet creates one and asks git to name it.
#[test]
fn commands_without_settings_run_no_git() {
    let team = Team::new();
    let alice = team.member("alice");
    let fresh = alice.home.join("fresh");
    std::fs::create_dir_all(&fresh).unwrap();
    let trace = alice.home.join("git-trace.log");
    let run = |args: &[&str]| {
        let mut command = alice.command(args);
        command
            .env("HOME", &fresh)
            .env("XDG_CONFIG_HOME", fresh.join(".config"))
            .env("GIT_TRACE", &trace)
            .env("ENVSYNC_KEYCHAIN", "off");
        command.output().unwrap()
    };
    let man = run(&["man"]);
    assert!(man.status.success(), "{man:?}");
    assert!(!trace.exists(), "`envsync man` ran git");
    run(&["status"]);
    assert!(!trace.exists(), "`envsync status` ran git");
    let whoami = run(&["whoami"]);
    assert!(whoami.status.success(), "{whoami:?}");
    assert!(
        trace.exists(),
        "`whoami` creating an identity did not ask git for a name"
    );
}

/// Issue 19: the binary stays position-independent (ASLR) but packs its relative
/// relocations (DT_RELR, `crates/envsync/build.rs`): 1.1 MB of fix-up entries read at every
/// start became 18 KB, a tenth of `status`'s time (BENCHMARKS.md).
#[test]
#[cfg(all(target_os = "linux", target_env = "gnu"))]
fn the_binary_is_position_independent_with_packed_relocations() {
    let binary = env!("CARGO_BIN_EXE_envsync");
    let readelf = |flag: &str| {
        let output = std::process::Command::new("readelf")
            .args([flag, binary])
            .output()
            .expect("readelf (binutils) runs");
        assert!(output.status.success(), "{output:?}");
        String::from_utf8(output.stdout).unwrap()
    };
    assert!(
        readelf("-h").contains("DYN"),
        "a position-independent executable"
    );
    let dynamic = readelf("-d");
    assert!(
        dynamic.contains("(RELR)"),
        "packed relative relocations: {dynamic}"
    );
}
