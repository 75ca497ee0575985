//! A team whose remote is a branch of a git repository: a bare repository reached over
//! `file://`, or the same served by git's smart HTTP (`git http-backend` as a CGI program
//! of a real lighttpd on a loopback port) behind basic authentication, with each teammate's
//! password in git's own credential store, as a user's credential helper would hold it.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

use super::{Team, Teammate, ciphertext_sha256};

pub const HTTP_USER: &str = "team";
pub const HTTP_PASSWORD: &str = "loopback-secret-7";

pub struct GitTeam {
    pub team: Team,
    /// The bare repository on disk, whichever way teammates reach it.
    pub bare: PathBuf,
    /// `remote` in envsync.toml.
    pub url: String,
    http: Option<Lighttpd>,
}

impl GitTeam {
    /// A bare repository reached as `git+file://`.
    pub fn file() -> Self {
        let team = Team::new();
        let bare = team.root.path().join("remote.git");
        git(&["init", "--bare", "--quiet", bare.to_str().unwrap()]);
        let url = format!("git+file://{}", bare.display());
        Self {
            team,
            bare,
            url,
            http: None,
        }
    }

    /// A bare repository served over smart HTTP with basic authentication.
    pub fn http() -> Self {
        let team = Team::new();
        let served = team.root.path().join("served");
        let bare = served.join("remote.git");
        git(&["init", "--bare", "--quiet", bare.to_str().unwrap()]);
        let http = Lighttpd::start(team.root.path(), &served);
        let url = format!("git+http://127.0.0.1:{}/git/remote.git", http.port);
        Self {
            team,
            bare,
            url,
            http: Some(http),
        }
    }

    /// A teammate whose clone names the remote; over HTTP, git's credential store in
    /// their HOME holds the password.
    pub fn member(&self, name: &str) -> Teammate {
        let mate = self.team.member_of(name, &self.url);
        if let Some(http) = &self.http {
            http.give_credentials(&mate.home, HTTP_PASSWORD);
        }
        mate
    }

    /// A file of the `envsync` branch, as the repository holds it.
    pub fn show(&self, path: &str) -> Vec<u8> {
        git_in(
            &self.bare,
            &["cat-file", "blob", &format!("envsync:{path}")],
        )
    }

    /// Commits `contents` at `path` of the `envsync` branch (`None` deletes it), as anyone
    /// who can push to the repository can: through a clone of their own.
    pub fn commit_on_branch(&self, path: &str, contents: Option<&[u8]>) {
        self.edit_branch(|clone| {
            let file = clone.join(path);
            match contents {
                Some(bytes) => std::fs::write(&file, bytes).unwrap(),
                None => std::fs::remove_file(&file).unwrap(),
            }
        });
    }

    /// Commits whatever `edit` does to a checkout of the `envsync` branch, and pushes it.
    pub fn edit_branch(&self, edit: impl FnOnce(&Path)) {
        let clone = self.team.root.path().join("tamper");
        let _ = std::fs::remove_dir_all(&clone);
        let clone_path = clone.to_str().unwrap();
        git(&[
            "clone",
            "--quiet",
            "-b",
            "envsync",
            self.bare.to_str().unwrap(),
            clone_path,
        ]);
        edit(&clone);
        git_in_tree(clone_path, &["add", "--all"]);
        git_in_tree(
            clone_path,
            &["commit", "--quiet", "--allow-empty", "-m", "someone's edit"],
        );
        git_in_tree(clone_path, &["push", "--quiet", "origin", "envsync"]);
    }

    /// Every file of the `envsync` branch, by path.
    pub fn files(&self) -> Vec<String> {
        let tree = git_in(&self.bare, &["ls-tree", "-r", "--name-only", "envsync"]);
        String::from_utf8(tree)
            .unwrap()
            .lines()
            .map(str::to_owned)
            .collect()
    }

    /// Every object of the repository, uncompressed: what anyone who can read it can read.
    pub fn objects(&self) -> Vec<(String, Vec<u8>)> {
        let all = git_in(&self.bare, &["cat-file", "--batch-all-objects", "--batch"]);
        let mut objects = Vec::new();
        let mut rest = &all[..];
        while let Some(end) = rest.iter().position(|&byte| byte == b'\n') {
            let header = String::from_utf8_lossy(&rest[..end]).into_owned();
            let size: usize = header.split(' ').nth(2).unwrap().parse().unwrap();
            let body = &rest[end + 1..end + 1 + size];
            objects.push((header, body.to_vec()));
            rest = &rest[end + 2 + size..];
        }
        objects
    }

    /// The ciphertext named by version `number` of app/development.
    pub fn ciphertext(&self, number: u64) -> Vec<u8> {
        let environment = "app/environments/development";
        let record = self.show(&version_path(environment, number));
        let sha = ciphertext_sha256(&record);
        self.show(&format!("{environment}/objects/{}/{sha}.age", &sha[..2]))
    }
}

/// Where the branch files version `number` of `environment` (`PROJECT/environments/ENV`):
/// by the thousand.
pub fn version_path(environment: &str, number: u64) -> String {
    format!(
        "{environment}/versions/{:05}/{number:08}.json",
        number / 1000
    )
}

/// Runs git, panicking with its message when it fails; its standard output.
pub fn git(args: &[&str]) -> Vec<u8> {
    let output = Command::new("git").args(args).output().unwrap();
    assert!(
        output.status.success(),
        "git {args:?}: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    output.stdout
}

/// Runs git in the work tree `tree` as a committer of its own, as someone's checkout would.
pub fn git_in_tree(tree: &str, args: &[&str]) -> Vec<u8> {
    let mut all = vec!["-C", tree, "-c", "user.name=t", "-c", "user.email=t@t"];
    all.extend_from_slice(args);
    git(&all)
}

pub fn git_in(repository: &Path, args: &[&str]) -> Vec<u8> {
    let mut all = vec!["--git-dir", repository.to_str().unwrap()];
    all.extend_from_slice(args);
    git(&all)
}

/// lighttpd serving `git http-backend` for the repositories under a directory at
/// `/git/`, for one user with a password; stopped on drop.
struct Lighttpd {
    child: Child,
    port: u16,
}

impl Lighttpd {
    fn start(root: &Path, served: &Path) -> Self {
        let port = free_port();
        let users = root.join("lighttpd-users");
        std::fs::write(&users, format!("{HTTP_USER}:{HTTP_PASSWORD}\n")).unwrap();
        let config = root.join("lighttpd.conf");
        std::fs::write(&config, lighttpd_config(root, served, &users, port)).unwrap();
        let child = Command::new(lighttpd_binary())
            .args(["-D", "-f", config.to_str().unwrap()])
            .stdout(Stdio::null())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("lighttpd runs (scripts/test.sh installs it)");
        wait_for_port(port);
        Self { child, port }
    }

    fn give_credentials(&self, home: &Path, password: &str) {
        let store = home.join("git-credentials");
        std::fs::write(
            &store,
            format!("http://{HTTP_USER}:{password}@127.0.0.1:{}\n", self.port),
        )
        .unwrap();
        std::fs::write(
            home.join(".gitconfig"),
            format!(
                "[credential]\n\thelper = store --file={}\n",
                store.display()
            ),
        )
        .unwrap();
    }
}

impl Drop for Lighttpd {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn lighttpd_config(root: &Path, served: &Path, users: &Path, port: u16) -> String {
    let backend = String::from_utf8(git(&["--exec-path"])).unwrap();
    let backend = format!("{}/git-http-backend", backend.trim());
    format!(
        r#"server.document-root = "{root}"
server.bind = "127.0.0.1"
server.port = {port}
server.errorlog = "{root}/lighttpd.log"
server.modules = ("mod_alias", "mod_setenv", "mod_auth", "mod_authn_file", "mod_cgi")
alias.url = ("/git" => "{backend}")
auth.backend = "plain"
auth.backend.plain.userfile = "{users}"
auth.require = ("/git" => ("method" => "basic", "realm" => "envsync", "require" => "valid-user"))
$HTTP["url"] =~ "^/git" {{
    cgi.assign = ("" => "")
    setenv.add-environment = ("GIT_PROJECT_ROOT" => "{served}", "GIT_HTTP_EXPORT_ALL" => "")
}}
"#,
        root = root.display(),
        users = users.display(),
        served = served.display(),
    )
}

fn lighttpd_binary() -> &'static str {
    if Path::new("/usr/sbin/lighttpd").exists() {
        "/usr/sbin/lighttpd"
    } else {
        "lighttpd"
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn wait_for_port(port: u16) {
    for _ in 0..200 {
        if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
            return;
        }
        std::thread::sleep(std::time::Duration::from_millis(25));
    }
    panic!("lighttpd did not listen on port {port}");
}
