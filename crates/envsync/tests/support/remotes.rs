//! Every kind of remote behind one trait, so a scenario is written once and run against a
//! shared folder ([`Team`]), an S3 bucket ([`BucketTeam`]), a git repository over `file://`
//! or smart HTTP ([`GitTeam`]) and an `envsync server` ([`ServerTeam`]).

use super::bucket::BucketTeam;
use super::git::GitTeam;
use super::server::{Api, Server};
use super::team_server::{ALICE_ENV, code_in, server_owner};
use super::{Team, Teammate, ciphertext_sha256};

/// How a kind of remote brings teammates into a project; the scenarios use nothing else.
pub trait Remote {
    /// A teammate with a fresh identity whose clone names this remote.
    fn teammate(&self, name: &str) -> Teammate;

    /// The teammate who will create the project with a first push.
    fn founder(&self, name: &str) -> Teammate {
        self.teammate(name)
    }

    /// Whatever must happen before `mate` can ask `owner` for access (an invite on a server).
    fn introduce(&self, _owner: &Teammate, _mate: &Teammate) {}

    /// Every byte the remote keeps, by where it keeps it: files, objects, database files.
    fn stored_bytes(&self) -> Vec<(String, Vec<u8>)>;

    /// The ciphertext of version `number` of app/development, fetched as `reader` can.
    fn ciphertext(&self, reader: &Teammate, number: u64) -> Vec<u8>;

    /// A new writer: introduced, refused until accepted, then accepted by `owner`.
    fn admit(&self, owner: &Teammate, name: &str) -> Teammate {
        let mate = self.teammate(name);
        self.introduce(owner, &mate);
        // On a server the joiner is pending until accepted; elsewhere simply no member.
        let refused = mate.run(&["pull"]).code(5);
        assert!(
            refused.stderr.contains("not a member")
                || refused
                    .stderr
                    .contains("waiting for an owner to accept you"),
            "{}",
            refused.stderr
        );
        owner.run(&["members", "accept", &mate.fingerprint()]).ok();
        mate
    }
}

impl Remote for Team {
    fn teammate(&self, name: &str) -> Teammate {
        self.member(name)
    }

    fn stored_bytes(&self) -> Vec<(String, Vec<u8>)> {
        self.remote_files()
            .into_iter()
            .map(|(path, bytes)| (path.display().to_string(), bytes))
            .collect()
    }

    fn ciphertext(&self, _reader: &Teammate, number: u64) -> Vec<u8> {
        let read = |relative: &str| std::fs::read(self.remote_path(relative)).unwrap();
        let record = read(&format!("{VERSIONS}/{number:08}.json"));
        read(&format!("{OBJECTS}/{}.age", ciphertext_sha256(&record)))
    }
}

/// Where the folder layout keeps app/development's records and ciphertexts.
const VERSIONS: &str = "app/environments/development/versions";
const OBJECTS: &str = "app/environments/development/objects";

impl Remote for BucketTeam<'_> {
    fn teammate(&self, name: &str) -> Teammate {
        self.member(name)
    }

    fn stored_bytes(&self) -> Vec<(String, Vec<u8>)> {
        self.server.objects(&self.bucket)
    }

    fn ciphertext(&self, _reader: &Teammate, number: u64) -> Vec<u8> {
        self.object(&self.ciphertext_key(number))
    }
}

impl Remote for GitTeam {
    fn teammate(&self, name: &str) -> Teammate {
        self.member(name)
    }

    fn stored_bytes(&self) -> Vec<(String, Vec<u8>)> {
        self.objects()
    }

    fn ciphertext(&self, _reader: &Teammate, number: u64) -> Vec<u8> {
        GitTeam::ciphertext(self, number)
    }
}

/// A team on its own `envsync server` (SQLite).
pub struct ServerTeam {
    team: Team,
    server: Server,
    /// The server's data directory: its SQLite database and write-ahead log.
    data: std::path::PathBuf,
}

impl Remote for ServerTeam {
    fn teammate(&self, name: &str) -> Teammate {
        self.team.member_of(name, &self.server.url)
    }

    fn founder(&self, name: &str) -> Teammate {
        server_owner(&self.team, &self.server, name)
    }

    fn stored_bytes(&self) -> Vec<(String, Vec<u8>)> {
        std::fs::read_dir(&self.data)
            .unwrap()
            .map(|entry| {
                let path = entry.unwrap().path();
                (path.display().to_string(), std::fs::read(&path).unwrap())
            })
            .collect()
    }

    fn ciphertext(&self, reader: &Teammate, number: u64) -> Vec<u8> {
        let token = &reader.server_token();
        let api = Api::new(&self.server.url);
        let environment = "/api/v1/projects/app/environments/development";
        let record = api.get_bytes(&format!("{environment}/versions/{number}"), token);
        let sha = ciphertext_sha256(&record);
        api.get_bytes(&format!("{environment}/objects/{sha}"), token)
    }

    fn introduce(&self, owner: &Teammate, mate: &Teammate) {
        let invite = owner.run(&["invite", "--role", "writer"]).ok();
        mate.run(&["join", &self.server.url, &code_in(&invite)])
            .ok();
    }
}

impl ServerTeam {
    pub fn sqlite() -> Self {
        let team = Team::new();
        let data = team.root.path().join("server");
        let server = Server::sqlite(&data);
        Self { team, server, data }
    }
}

/// Alice founds the project with a first version; Bob is admitted and pulls it.
pub fn alice_and_bob(remote: &dyn Remote) -> (Teammate, Teammate) {
    let alice = remote.founder("alice");
    alice.write_env(".env", ALICE_ENV);
    alice.run(&["push", "-m", "first"]).ok();
    let bob = remote.admit(&alice, "bob");
    bob.run(&["pull"]).ok();
    assert_eq!(bob.read_env(".env"), ALICE_ENV);
    (alice, bob)
}
