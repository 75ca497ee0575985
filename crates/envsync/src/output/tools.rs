//! The documents of the workspace tools (`init`, `lint`, `guard`) and of any failure.

use envsync_client::EnvironmentRef;
use schemars::JsonSchema;
use serde::Serialize;

use super::Document;
use crate::printer::Printer;

/// `envsync init --json`.
#[derive(Serialize, JsonSchema)]
pub struct Initialised {
    /// The envsync.toml written.
    pub config: String,
    pub project: String,
    pub environment: String,
    pub file: String,
    /// The lines added to .gitignore.
    pub gitignore_added: Vec<String>,
    /// Who besides the team can read the names the remote keeps (member and key names,
    /// history; never values): with a git remote, everyone who can read its repository.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub readable_by: Option<String>,
    /// What to run next, for the text.
    #[serde(skip)]
    pub next_step: String,
}

impl Document for Initialised {
    fn text(&self, printer: &Printer) {
        printer.message(format!(
            "wrote {} linking {} to {}",
            envsync_core::config::FILE_NAME,
            EnvironmentRef::new(&self.project, &self.environment),
            self.file
        ));
        if !self.gitignore_added.is_empty() {
            printer.message(format!(
                "added {} to .gitignore",
                self.gitignore_added.join(" and ")
            ));
        }
        if let Some(readers) = &self.readable_by {
            printer.message(format!(
                "note: {readers}: member names, key names and history (never values); \
                 use a private repository, or a separate one when the code is public"
            ));
        }
        printer.message(&self.next_step);
    }
}

/// `envsync lint --json`.
#[derive(Serialize, JsonSchema)]
pub struct Lint {
    pub file: String,
    pub warnings: Vec<LintWarning>,
}

#[derive(Serialize, JsonSchema)]
pub struct LintWarning {
    /// 1-based.
    pub line: usize,
    /// 1-based, in characters.
    pub column: usize,
    pub message: String,
}

impl Document for Lint {
    fn text(&self, printer: &Printer) {
        for warning in &self.warnings {
            printer.data(format!(
                "{}:{}:{}: {}",
                self.file, warning.line, warning.column, warning.message
            ));
        }
        if self.warnings.is_empty() {
            printer.message(format!("{}: no problems found", self.file));
        }
    }
}

/// `envsync guard --json`.
#[derive(Serialize, JsonSchema)]
pub struct Guard {
    /// How many files were checked.
    pub checked: usize,
    pub problems: Vec<GuardProblem>,
}

#[derive(Serialize, JsonSchema)]
pub struct GuardProblem {
    pub file: String,
    pub line: Option<usize>,
    pub problem: String,
}

impl Document for Guard {
    fn text(&self, printer: &Printer) {
        for problem in &self.problems {
            match problem.line {
                Some(line) => printer.data(format!("{}:{line}: {}", problem.file, problem.problem)),
                None => printer.data(format!("{}: {}", problem.file, problem.problem)),
            }
        }
        if self.problems.is_empty() {
            printer.message(format!(
                "envsync guard: {} file(s) checked, no plaintext secrets",
                self.checked
            ));
        }
    }
}

/// What any command prints on stdout with `--json` when it fails (the message is on
/// stderr too).
#[derive(Serialize, JsonSchema)]
pub struct Failure {
    pub error: String,
    /// The process's exit code (see the guide's table).
    pub exit_code: u8,
}

/// `envsync publish --json`: per target, what differed and what was written. Key names
/// only, never values.
#[derive(Serialize, JsonSchema)]
pub struct Published {
    /// `--check`: nothing was written; drift exits 7.
    pub check: bool,
    /// `--dry-run`: nothing was written.
    pub dry_run: bool,
    pub targets: Vec<PublishedTarget>,
}

/// One target of `envsync publish`.
#[derive(Serialize, JsonSchema, Default)]
pub struct PublishedTarget {
    /// The store URL, as in envsync.toml.
    pub to: String,
    pub environment: String,
    /// The remote head that was published (or compared).
    pub version: u64,
    /// How many keys the target's filter publishes.
    pub keys: usize,
    /// Keys the target lacks.
    pub missing: Vec<String>,
    /// Keys whose value differs there.
    pub changed: Vec<String>,
    /// Keys the target has and the environment does not (removed with --prune).
    pub extra: Vec<String>,
    /// Keys a target that cannot return values (GitHub) holds and this machine has no
    /// record of publishing: they may differ. A publish rewrites them; they are not drift.
    pub unverified: Vec<String>,
    /// Whether the target returns values, so that changed ones are seen; GitHub's changes
    /// are seen only against this machine's record of what it published there.
    pub values_readable: bool,
    /// Whether the target differed (extra keys count only with --prune).
    pub drifted: bool,
    /// Requests that wrote or deleted something.
    pub writes: usize,
    /// Whether a signed publication record was added to the remote (not when the newest
    /// one for this target already said the same, nor for `--check` or `--dry-run`).
    pub recorded: bool,
    /// Why this target failed; the others went on.
    pub error: Option<String>,
}

impl Document for Published {
    fn text(&self, printer: &Printer) {
        for target in &self.targets {
            let head = format!(
                "{} version {} -> {}",
                target.environment, target.version, target.to
            );
            match &target.error {
                Some(error) => printer.message(format!("{head}: failed: {error}")),
                None => printer.data(format!("{head}: {}", self.state_of(target))),
            }
        }
    }
}

impl Published {
    /// `published (N write(s)): +A ~B -C`, `differs: …` or `in step`, with what was kept.
    fn state_of(&self, target: &PublishedTarget) -> String {
        let list = |sign: &str, keys: &[String]| {
            keys.iter()
                .map(|key| format!("{sign}{key}"))
                .collect::<Vec<_>>()
        };
        let mut keys = list("+", &target.missing);
        keys.extend(list("~", &target.changed));
        let extra = list("-", &target.extra);
        let unverified = list("?", &target.unverified);
        let wrote = !(self.check || self.dry_run) && target.writes > 0;
        if target.drifted || wrote {
            keys.extend(extra);
            if wrote {
                keys.extend(unverified);
                return format!("published ({} write(s)): {}", target.writes, keys.join(" "));
            }
            let mut text = format!("differs: {}", keys.join(" "));
            if !unverified.is_empty() {
                text.push_str(&format!(" (not compared: {})", unverified.join(" ")));
            }
            return text;
        }
        let mut text = "in step".to_owned();
        if !extra.is_empty() {
            text.push_str(&format!(
                " (extra, kept without --prune: {})",
                extra.join(" ")
            ));
        }
        if !unverified.is_empty() {
            text.push_str(&format!(
                " (not compared: {}; the store cannot return values and this machine has no \
                 record of publishing them)",
                unverified.join(" ")
            ));
        }
        text
    }
}
