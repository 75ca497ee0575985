//! One environment of one project, named the way every message names it:
//! `project/environment`.

use std::fmt;

/// An environment of a project: what the remotes, the workspace state and the ledger are
/// keyed by. Messages print it with [`Display`](fmt::Display) as `project/environment`, so
/// the format lives here and nowhere else.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct EnvironmentRef {
    pub project: String,
    pub environment: String,
}

impl EnvironmentRef {
    pub fn new(project: impl Into<String>, environment: impl Into<String>) -> Self {
        Self {
            project: project.into(),
            environment: environment.into(),
        }
    }
}

impl fmt::Display for EnvironmentRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.project, self.environment)
    }
}

/// Where a signed version record says it belongs.
impl From<&crate::records::VersionBody> for EnvironmentRef {
    fn from(body: &crate::records::VersionBody) -> Self {
        Self::new(&body.project, &body.environment)
    }
}

impl From<&crate::records::PublicationBody> for EnvironmentRef {
    fn from(body: &crate::records::PublicationBody) -> Self {
        Self::new(&body.project, &body.environment)
    }
}

#[cfg(test)]
mod tests {
    use super::EnvironmentRef;

    #[test]
    fn displays_as_project_slash_environment() {
        let place = EnvironmentRef::new("web", "production");
        assert_eq!(place.to_string(), "web/production");
    }
}
