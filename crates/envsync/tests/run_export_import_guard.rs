//! The commands around sync, through the real binary: run, export, import, the git guard,
//! completions and the man page, and a share bundle taking a teammate to a first pull.

mod support;

use std::process::Command;

use support::{Team, Teammate};

fn pushed_alice(team: &Team, text: &str) -> Teammate {
    let alice = team.member("alice");
    alice.write_env(".env", text);
    alice.run(&["push"]).ok();
    alice
}

#[test]
fn run_injects_variables_and_passes_exit_codes_through() {
    let team = Team::new();
    let alice = pushed_alice(
        &team,
        "API_KEY=sk-12345678\nHOST=db.internal\nURL=postgres://${HOST}:5432\nLIT='${HOST}'\n",
    );
    let printed = alice
        .run(&[
            "run",
            "--",
            "sh",
            "-c",
            "printf '%s|%s|%s' \"$API_KEY\" \"$URL\" \"$LIT\"",
        ])
        .ok();
    assert_eq!(
        printed.stdout,
        "sk-12345678|postgres://db.internal:5432|${HOST}"
    );
    let raw = alice
        .run(&["run", "--no-expand", "--", "sh", "-c", "printf %s \"$URL\""])
        .ok();
    assert_eq!(raw.stdout, "postgres://${HOST}:5432");
    alice.run(&["run", "--", "sh", "-c", "exit 7"]).code(7);
    alice
        .run(&["run", "--", "definitely-not-a-command-xyz"])
        .code(127);
}

#[test]
fn run_lets_the_calling_environment_win_unless_override() {
    let team = Team::new();
    let alice = pushed_alice(&team, "HOST=from-file\n");
    let output = alice
        .command(&["run", "--", "sh", "-c", "printf %s \"$HOST\""])
        .env("HOST", "from-shell")
        .output()
        .unwrap();
    assert_eq!(String::from_utf8_lossy(&output.stdout), "from-shell");
    let output = alice
        .command(&["run", "--override", "--", "sh", "-c", "printf %s \"$HOST\""])
        .env("HOST", "from-shell")
        .output()
        .unwrap();
    assert_eq!(String::from_utf8_lossy(&output.stdout), "from-file");
}

/// The command is looked up in the `PATH` it will get: the file's with `--override`, the
/// caller's otherwise; a script without `#!` still runs with `sh`, as a shell would run it.
#[cfg(unix)]
#[test]
fn run_finds_the_command_on_the_path_it_gets() {
    use std::os::unix::fs::PermissionsExt;
    let team = Team::new();
    let bin = team.root.path().join("file-bin");
    std::fs::create_dir_all(&bin).unwrap();
    let scripts = [
        ("hello", "#!/bin/sh\nprintf from-file-path\n", 0o755),
        ("plain", "printf sh-ran\n", 0o755),
        ("locked", "#!/bin/sh\nexit 0\n", 0o644),
    ];
    for (name, text, mode) in scripts {
        let path = bin.join(name);
        std::fs::write(&path, text).unwrap();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(mode)).unwrap();
    }
    let path = format!("{}:/usr/bin:/bin", bin.display());
    let alice = pushed_alice(&team, &format!("PATH={path}\n"));
    let hello = alice.run(&["run", "--override", "--", "hello"]).ok();
    assert_eq!(hello.stdout, "from-file-path");
    let plain = alice.run(&["run", "--override", "--", "plain"]).ok();
    assert_eq!(plain.stdout, "sh-ran");
    let locked = alice.run(&["run", "--override", "--", "locked"]).code(126);
    assert!(locked.stderr.contains("`locked`"), "{}", locked.stderr);
    // Without --override the caller's PATH wins, and it does not hold the file's folder.
    alice.run(&["run", "--", "hello"]).code(127);
    let seen = alice
        .run(&["run", "--override", "--", "sh", "-c", "printf %s \"$PATH\""])
        .ok();
    assert_eq!(seen.stdout, path);
}

/// A value no process can receive (a NUL byte) is refused before anything runs: exit 2,
/// naming the file and the key, not a truncated value.
#[cfg(unix)]
#[test]
fn run_refuses_a_value_with_a_nul_byte() {
    let team = Team::new();
    let alice = pushed_alice(&team, "A=1\n");
    alice.write_env(".env", "A=1\nBAD=x\0y\n");
    let marker = team.root.path().join("ran");
    let touch = format!("touch {}", marker.display());
    let refused = alice.run(&["run", "--", "sh", "-c", &touch]).code(2);
    assert!(refused.stderr.contains(".env: `BAD`"), "{}", refused.stderr);
    assert!(!marker.exists(), "the command ran");
}

/// The command starts with the signal state any command expects. The Rust runtime ignores
/// SIGPIPE for its own writes and `run` execs directly, so it must give the default back:
/// an ignored SIGPIPE is inherited by the command and all it starts, and `yes | head -1`
/// then printed "yes: standard output: Broken pipe".
#[cfg(target_os = "linux")]
#[test]
fn run_gives_the_command_the_default_sigpipe() {
    let team = Team::new();
    let alice = pushed_alice(&team, "A=1\n");
    let piped = alice.run(&["run", "--", "sh", "-c", "yes | head -1"]).ok();
    assert_eq!(piped.stdout, "y\n");
    assert_eq!(piped.stderr, "", "the writer saw EPIPE instead of stopping");
    let status = alice
        .run(&["run", "--", "sh", "-c", "grep SigIgn /proc/self/status"])
        .ok();
    let mask = status.stdout.trim().trim_start_matches("SigIgn:").trim();
    let ignored = u64::from_str_radix(mask, 16).unwrap();
    assert_eq!(ignored & (1 << (13 - 1)), 0, "SIGPIPE ignored: {mask}");
}

#[cfg(unix)]
#[test]
fn run_passes_signals_through() {
    use std::os::unix::process::ExitStatusExt;
    let team = Team::new();
    let alice = pushed_alice(&team, "A=1\n");
    let status = alice
        .command(&["run", "--", "sh", "-c", "kill -TERM $$"])
        .status()
        .unwrap();
    assert_eq!(status.signal(), Some(15), "{status:?}");
}

#[test]
fn run_from_the_remote_head_needs_no_file_on_disk() {
    let team = Team::new();
    let alice = pushed_alice(&team, "TOKEN=remote-value-123\n");
    let ci = team.member("ci");
    alice
        .run(&[
            "members",
            "add",
            &ci.member_key(),
            "--name",
            "ci",
            "--role",
            "reader",
        ])
        .ok();
    let key = std::fs::read_to_string(ci.identity_file()).unwrap();
    let secret = key
        .lines()
        .find(|line| line.starts_with("AGE-SECRET-KEY-1"))
        .unwrap()
        .to_owned();
    std::fs::remove_file(ci.identity_file()).unwrap();
    let output = ci
        .command(&["run", "--remote", "--", "sh", "-c", "printf %s \"$TOKEN\""])
        .env("ENVSYNC_IDENTITY", &secret)
        .output()
        .unwrap();
    assert_eq!(
        String::from_utf8_lossy(&output.stdout),
        "remote-value-123",
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(
        !ci.workspace.join(".env").exists(),
        "nothing written to disk"
    );
    let missing = ci.run(&["run", "--", "true"]).code(2);
    assert!(missing.stderr.contains("--remote"), "{}", missing.stderr);
}

#[test]
fn export_an_environment_in_every_format() {
    let team = Team::new();
    let alice = pushed_alice(&team, "B=2\nMULTI=\"one\\ntwo\"\n");
    let json = alice.run(&["export", "--env", "development"]).ok().json();
    assert_eq!(json["MULTI"], "one\ntwo");
    let remote = alice
        .run(&["export", "--remote", "--format", "shell"])
        .ok()
        .stdout;
    assert_eq!(remote, "export B='2'\nexport MULTI='one\ntwo'\n");
    let k8s = alice.run(&["export", "--format", "k8s-secret"]).ok().stdout;
    assert!(
        k8s.contains("kind: Secret")
            && k8s.contains("name: \"app-development\"")
            && k8s.contains("\"B\": Mg=="),
        "{k8s}"
    );
    let github = alice.run(&["export", "--format", "github-env"]).ok().stdout;
    assert!(github.starts_with("B=2\nMULTI<<ENVSYNC_EOF_"), "{github}");
    assert!(github.contains("\none\ntwo\nENVSYNC_EOF_"), "{github}");
}

#[test]
fn import_keeps_the_layout_of_existing_keys() {
    let team = Team::new();
    let alice = team.member("alice");
    alice.write_env(".env", "# db\nDB='old'  # keep me\nA=1\n");
    alice.write_env("in.json", r#"{"DB": "new", "PORT": 5432, "DEBUG": true}"#);
    alice.run(&["import", "in.json"]).ok();
    assert_eq!(
        alice.read_env(".env"),
        "# db\nDB='new'  # keep me\nA=1\nPORT=5432\nDEBUG=true\n"
    );
    alice.write_env("in.yaml", "A: 2\nNAME: \"x y\"\n");
    alice.run(&["import", "in.yaml"]).ok();
    let vars = alice.run(&["export"]).ok().json();
    assert_eq!(vars["A"], "2");
    assert_eq!(vars["NAME"], "x y");
    alice.write_env("bad.json", "[1,2]");
    alice.run(&["import", "bad.json"]).code(2);
    alice.write_env("in.env", "Z=last\n");
    alice.run(&["import", "in.env"]).ok();
    assert!(alice.read_env(".env").ends_with("Z=last\n"));
}

fn git(mate: &Teammate, args: &[&str]) -> std::process::Output {
    let mut command = Command::new("git");
    command
        .args([
            "-c",
            "user.name=t",
            "-c",
            "user.email=t@example.com",
            "-c",
            "init.defaultBranch=main",
        ])
        .args(args)
        .current_dir(&mate.workspace)
        .env("HOME", &mate.home)
        .env("XDG_CONFIG_HOME", mate.home.join(".config"));
    command.output().unwrap()
}

#[test]
fn the_guard_refuses_real_commits_of_secrets_and_passes_clean_ones() {
    let team = Team::new();
    let alice = pushed_alice(&team, "STRIPE_KEY=sk_live_abcdef123456\nPORT=3000\n");
    assert!(git(&alice, &["init", "-q"]).status.success());
    // An existing hook is chained, not overwritten.
    let hooks = alice.workspace.join(".git/hooks");
    std::fs::create_dir_all(&hooks).unwrap();
    std::fs::write(
        hooks.join("pre-commit"),
        "#!/bin/sh\necho chained-hook-ran >&2\n",
    )
    .unwrap();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(
            hooks.join("pre-commit"),
            std::fs::Permissions::from_mode(0o755),
        )
        .unwrap();
    }
    alice.run(&["guard", "install"]).ok();

    alice.write_env("README.md", "hello\n");
    git(&alice, &["add", "README.md", "envsync.toml"]);
    let clean = git(&alice, &["commit", "-qm", "clean"]);
    assert!(
        clean.status.success(),
        "{}",
        String::from_utf8_lossy(&clean.stderr)
    );
    assert!(String::from_utf8_lossy(&clean.stderr).contains("chained-hook-ran"));

    alice.write_env("config.yml", "stripe: sk_live_abcdef123456\nport: 3000\n");
    git(&alice, &["add", "config.yml"]);
    let refused = git(&alice, &["commit", "-qm", "leak"]);
    assert!(!refused.status.success());
    let said = format!(
        "{}{}",
        String::from_utf8_lossy(&refused.stdout),
        String::from_utf8_lossy(&refused.stderr)
    );
    assert!(
        said.contains("config.yml:1: contains the value of app/development `STRIPE_KEY`"),
        "{said}"
    );
    assert!(
        !said.contains("sk_live_abcdef123456"),
        "never prints the value: {said}"
    );
    git(&alice, &["restore", "--staged", "config.yml"]);

    // Several staged files at once, one renamed: each finding names its own file.
    git(&alice, &["mv", "README.md", "GUIDE.md"]);
    alice.write_env("a.txt", "nothing here\n");
    alice.write_env("b.txt", "line one\nkey: sk_live_abcdef123456\n");
    alice.write_env("c.txt", "nothing here either\n");
    alice.write_env("GUIDE.md", "hello\nsk_live_abcdef123456\n");
    git(&alice, &["add", "a.txt", "b.txt", "c.txt", "GUIDE.md"]);
    let several = alice.run(&["guard", "--staged"]).code(1);
    let findings: Vec<&str> = several.stdout.lines().collect();
    assert_eq!(
        findings,
        [
            "GUIDE.md:2: contains the value of app/development `STRIPE_KEY`",
            "b.txt:2: contains the value of app/development `STRIPE_KEY`",
        ],
        "{}",
        several.stdout
    );
    git(&alice, &["reset", "-q", "--hard"]);

    git(&alice, &["add", "-f", ".env"]);
    let linked = alice.run(&["guard", "--staged"]).code(1);
    assert!(
        linked
            .stdout
            .contains(".env: is the linked env file of app/development"),
        "{}",
        linked.stdout
    );
    git(&alice, &["restore", "--staged", ".env"]);

    alice.write_env("deploy.env", "OTHER_SECRET=zzz\n");
    alice.write_env(".env.example", "STRIPE_KEY=\nPORT=3000\n");
    let paths = alice.run(&["guard", "deploy.env", ".env.example"]).code(1);
    assert!(
        paths
            .stdout
            .contains("deploy.env:1: plaintext .env file with values (`OTHER_SECRET`)"),
        "{}",
        paths.stdout
    );
    assert!(!paths.stdout.contains(".env.example"), "{}", paths.stdout);
    alice.run(&["guard", ".env.example", "README.md"]).ok();
}

#[test]
fn completions_and_man_page() {
    let team = Team::new();
    let alice = team.member("alice");
    let bash = alice.run(&["completions", "bash"]).ok().stdout;
    assert!(
        bash.contains("envsync") && bash.contains("rollback"),
        "bash completions"
    );
    // Nested subcommands complete under `help` too, though clap builds them lazily.
    for nested in [
        "invite__subcmd__list",
        "server__subcmd__backup",
        "guard__subcmd__install",
    ] {
        let under_help = format!("envsync__subcmd__help__subcmd__{nested}");
        assert!(bash.contains(&under_help), "no {under_help}");
        assert!(
            bash.contains(&format!("envsync__subcmd__{nested}")),
            "no {nested}"
        );
    }
    let man = alice.run(&["man"]).ok().stdout;
    assert!(
        man.contains(".TH envsync") && man.contains("rollback"),
        "{}",
        &man[..200.min(man.len())]
    );
}

#[test]
fn a_share_bundle_takes_a_new_teammate_to_their_first_pull() {
    let team = Team::new();
    let alice = pushed_alice(&team, "API_KEY=shared-secret-1\n");
    let shared = alice
        .run(&["share", "--output", "app.share", "--json"])
        .ok()
        .document("Shared");
    let passphrase = shared["passphrase"].as_str().unwrap().to_owned();
    assert!(
        passphrase.split('-').count() >= 5,
        "diceware words: {passphrase}"
    );
    let bundle = alice.workspace.join("app.share");
    let sealed = std::fs::read(&bundle).unwrap();
    assert!(
        !String::from_utf8_lossy(&sealed).contains(team.remote.to_str().unwrap()),
        "the bundle is encrypted"
    );

    let bob = team.member("bob");
    std::fs::remove_file(bob.workspace.join("envsync.toml")).unwrap();
    let wrong = bob
        .command(&["join", bundle.to_str().unwrap()])
        .env("ENVSYNC_PASSPHRASE", "wrong-words-here-at-all")
        .output()
        .unwrap();
    assert_eq!(wrong.status.code(), Some(5));
    assert!(
        !bob.workspace.join("envsync.toml").exists(),
        "a failed join writes nothing"
    );

    let mut child = bob
        .command(&["join", bundle.to_str().unwrap()])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    use std::io::Write;
    child
        .stdin
        .take()
        .unwrap()
        .write_all(format!("{passphrase}\n").as_bytes())
        .unwrap();
    let joined = child.wait_with_output().unwrap();
    let said = String::from_utf8_lossy(&joined.stderr);
    assert_eq!(joined.status.code(), Some(0), "{said}");
    assert!(
        said.contains("Ask alice to run `envsync members accept"),
        "{said}"
    );
    assert!(bob.workspace.join("envsync.toml").exists());

    let status = alice.run(&["status"]).ok().stdout;
    assert!(
        status.contains("1 member waiting for access: bob"),
        "{status}"
    );
    alice.run(&["members", "accept", "bob"]).ok();
    bob.run(&["pull"]).ok();
    assert_eq!(bob.read_env(".env"), "API_KEY=shared-secret-1\n");
}

/// In a monorepo (two projects in one envsync.toml), a bundle carries only the project it
/// shares: the joiner neither learns of the other nor has to name a project to pull.
#[test]
fn a_share_bundle_carries_only_its_own_project() {
    let team = Team::new();
    let alice = team.member("alice");
    let config = std::fs::read_to_string(alice.workspace.join("envsync.toml")).unwrap();
    let monorepo =
        format!("{config}\n[projects.payroll.environments]\ndevelopment = \".env.pay\"\n");
    std::fs::write(alice.workspace.join("envsync.toml"), monorepo).unwrap();
    alice.write_env(".env", "API_KEY=app-value-1\n");
    alice.write_env(".env.pay", "PAY_KEY=payroll-value-1\n");
    alice.run(&["push", "-p", "app"]).ok();
    alice.run(&["push", "-p", "payroll"]).ok();
    let shared = alice
        .run(&["share", "-p", "app", "--output", "app.share", "--json"])
        .ok()
        .document("Shared");
    let passphrase = shared["passphrase"].as_str().unwrap().to_owned();

    let bob = team.member("bob");
    std::fs::remove_file(bob.workspace.join("envsync.toml")).unwrap();
    let bundle = alice.workspace.join("app.share");
    bob.run_with_env(
        &["join", bundle.to_str().unwrap()],
        &[("ENVSYNC_PASSPHRASE", passphrase.as_str())],
    )
    .ok();
    let joined = std::fs::read_to_string(bob.workspace.join("envsync.toml")).unwrap();
    assert!(!joined.contains("payroll"), "{joined}");
    alice.run(&["members", "accept", "bob", "-p", "app"]).ok();
    bob.run(&["pull"]).ok();
    assert_eq!(bob.read_env(".env"), "API_KEY=app-value-1\n");
}
