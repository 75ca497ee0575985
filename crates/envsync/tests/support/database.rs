//! A test server's database, SQLite or PostgreSQL, with a way to change rows behind the
//! server's back: the suites that touch storage run each case on both.

use std::path::PathBuf;
use std::process::Command;

use super::Team;
use super::server::{PgDatabase, Server};

/// Where a test server keeps its data, with a way to change rows behind its back.
pub enum Database {
    Sqlite(PathBuf),
    Postgres(PgDatabase),
}

impl Database {
    pub fn sqlite(team: &Team) -> Self {
        Self::Sqlite(team.root.path().join("server"))
    }

    pub fn postgres() -> Self {
        Self::Postgres(PgDatabase::create())
    }

    pub fn start(&self) -> Server {
        match self {
            Self::Sqlite(data_dir) => Server::sqlite(data_dir),
            Self::Postgres(database) => Server::postgres(&database.url),
        }
    }

    /// Runs `statement` with the database's own client, as an intruder or a broken disk
    /// would change it.
    pub fn execute(&self, statement: &str) {
        let output = match self {
            Self::Sqlite(data_dir) => Command::new("sqlite3")
                .arg(data_dir.join("envsync.db"))
                .arg(statement)
                .output(),
            Self::Postgres(database) => Command::new("psql")
                .args([
                    &database.url,
                    "-v",
                    "ON_ERROR_STOP=1",
                    "-q",
                    "-c",
                    statement,
                ])
                .output(),
        }
        .expect("run the database's client");
        assert!(
            output.status.success(),
            "{statement}: {}",
            String::from_utf8_lossy(&output.stderr)
        );
    }

    /// A trigger that makes every insert into `table` fail: a write failing midway.
    pub fn break_inserts(&self, table: &str) {
        match self {
            Self::Sqlite(_) => self.execute(&format!(
                "CREATE TRIGGER broken BEFORE INSERT ON {table} \
                 BEGIN SELECT RAISE(ABORT, 'disk full'); END;"
            )),
            Self::Postgres(_) => {
                self.execute(
                    "CREATE FUNCTION broken() RETURNS trigger AS \
                     $$ BEGIN RAISE EXCEPTION 'disk full'; END; $$ LANGUAGE plpgsql",
                );
                self.execute(&format!(
                    "CREATE TRIGGER broken BEFORE INSERT ON {table} \
                     FOR EACH ROW EXECUTE FUNCTION broken()"
                ));
            }
        }
    }

    pub fn repair_inserts(&self, table: &str) {
        match self {
            Self::Sqlite(_) => self.execute("DROP TRIGGER broken"),
            Self::Postgres(_) => self.execute(&format!("DROP TRIGGER broken ON {table}")),
        }
    }
}
