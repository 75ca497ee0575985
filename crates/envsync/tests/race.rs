//! Concurrent pushes on one base: exactly one wins each version number, none is lost.

mod support;

use std::process::Stdio;

use support::Team;

const PUSHERS: usize = 12;

#[test]
fn of_many_pushes_on_one_base_exactly_one_wins_and_the_rest_sync_without_loss() {
    let team = Team::new();
    let alice = team.member("alice");
    alice.write_env(".env", "SHARED=1\n");
    alice.run(&["push"]).ok();
    let mates: Vec<_> = (0..PUSHERS)
        .map(|index| team.member(&format!("mate{index}")))
        .collect();
    for mate in &mates {
        alice
            .run(&["members", "add", &mate.member_key(), "--name", &mate.name])
            .ok();
    }
    for mate in &mates {
        mate.run(&["pull", "--yes"]).ok();
        let current = mate.read_env(".env");
        mate.write_env(
            ".env",
            &format!(
                "{current}{}_KEY=value-{}\n",
                mate.name.to_uppercase(),
                mate.name
            ),
        );
    }
    let base = alice
        .run(&["log", "--json"])
        .ok()
        .json()
        .as_array()
        .unwrap()
        .len();

    let children: Vec<_> = mates
        .iter()
        .map(|mate| {
            mate.command(&["push", "--yes"])
                .stdout(Stdio::piped())
                .stderr(Stdio::piped())
                .spawn()
                .unwrap()
        })
        .collect();
    let codes: Vec<i32> = children
        .into_iter()
        .map(|child| child.wait_with_output().unwrap().status.code().unwrap())
        .collect();
    assert_eq!(
        codes.iter().filter(|&&code| code == 0).count(),
        1,
        "exit codes: {codes:?}"
    );
    assert!(
        codes.iter().all(|&code| code == 0 || code == 3),
        "losers are told to sync: {codes:?}"
    );

    // The losers sync concurrently until each has landed its key.
    std::thread::scope(|scope| {
        for (mate, code) in mates.iter().zip(&codes) {
            if *code == 0 {
                continue;
            }
            scope.spawn(move || {
                for _ in 0..60 {
                    if mate.run(&["sync", "--yes"]).code == 0 {
                        return;
                    }
                }
                panic!("{} never managed to sync", mate.name);
            });
        }
    });

    alice.run(&["pull", "--yes"]).ok();
    let final_vars = alice.run(&["export", "--file", ".env"]).ok().json();
    for mate in &mates {
        let key = format!("{}_KEY", mate.name.to_uppercase());
        assert_eq!(
            final_vars[&key],
            format!("value-{}", mate.name),
            "{key} was lost"
        );
    }
    let log = alice.run(&["log", "--json"]).ok().json();
    let numbers: Vec<u64> = log
        .as_array()
        .unwrap()
        .iter()
        .map(|entry| entry["version"].as_u64().unwrap())
        .collect();
    assert_eq!(
        numbers.len(),
        base + PUSHERS,
        "one version per pusher, none lost"
    );
    let expected: Vec<u64> = (1..=numbers.len() as u64).rev().collect();
    assert_eq!(numbers, expected, "versions are numbered without gaps");
}
