//! A team sharing an S3 bucket on the local S3 server (see [`S3Server`]).

use super::{S3Server, Team, Teammate, ciphertext_sha256};

/// A team whose envsync.toml names `s3://BUCKET/team?endpoint=…`, each member with an AWS
/// profile of their own.
pub struct BucketTeam<'a> {
    pub team: Team,
    pub server: &'a S3Server,
    pub bucket: String,
    pub url: String,
}

impl<'a> BucketTeam<'a> {
    pub fn new() -> Self {
        Self::on(S3Server::shared())
    }

    pub fn on(server: &'a S3Server) -> Self {
        let bucket = server.bucket("envsync");
        let url = format!("s3://{bucket}/team?endpoint={}", server.endpoint);
        Self {
            team: Team::new(),
            server,
            bucket,
            url,
        }
    }

    pub fn member(&self, name: &str) -> Teammate {
        let mate = self.team.member_of(name, &self.url);
        mate.use_aws_profile();
        mate
    }

    pub fn key(&self, relative: &str) -> String {
        format!("team/app/{relative}")
    }

    pub fn version_key(&self, number: u64) -> String {
        self.key(&format!(
            "environments/development/versions/{number:08}.json"
        ))
    }

    pub fn object(&self, relative: &str) -> Vec<u8> {
        self.server
            .object(&self.bucket, &self.key(relative))
            .unwrap_or_else(|| panic!("{relative} is in the bucket"))
    }

    pub fn put(&self, relative: &str, bytes: &[u8]) {
        self.server
            .put_object(&self.bucket, &self.key(relative), bytes);
    }

    /// The ciphertext key named by version `number`.
    pub fn ciphertext_key(&self, number: u64) -> String {
        let sha = ciphertext_sha256(&self.object(&format!(
            "environments/development/versions/{number:08}.json"
        )));
        format!("environments/development/objects/{sha}.age")
    }
}
