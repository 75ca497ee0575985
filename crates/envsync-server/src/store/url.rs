//! Database URLs: which database a `--database-url` names, and how to print it without its
//! password.

/// The two databases the server can store in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// Splits a `--database-url` into its backend and the URL sqlx connects with. A plain path
/// means SQLite, so the zero-configuration default is just a file name. SQLite files are
/// created when missing (`mode=rwc`).
pub fn resolve(url: &str) -> Option<(Backend, String)> {
    if url.starts_with("postgres://") || url.starts_with("postgresql://") {
        return Some((Backend::Postgres, url.to_owned()));
    }
    let path = match url.split_once("://") {
        Some(("sqlite", rest)) => rest,
        Some(_) => return None,
        None => url.strip_prefix("sqlite:").unwrap_or(url),
    };
    let (path, query) = path.split_once('?').unwrap_or((path, ""));
    let query = if query.split('&').any(|pair| pair.starts_with("mode=")) {
        query.to_owned()
    } else if query.is_empty() {
        "mode=rwc".to_owned()
    } else {
        format!("{query}&mode=rwc")
    };
    Some((Backend::Sqlite, format!("sqlite://{path}?{query}")))
}

/// The URL with any password replaced by `***`: the one in the authority
/// (`postgres://user:secret@host`) and any `password=` / `sslpassword=` query parameter.
pub fn redact(url: &str) -> String {
    let (before_query, query) = match url.split_once('?') {
        Some((before, query)) => (before, Some(query)),
        None => (url, None),
    };
    let mut redacted = redact_authority(before_query);
    if let Some(query) = query {
        let pairs: Vec<String> = query
            .split('&')
            .map(|pair| match pair.split_once('=') {
                Some((key, _)) if key.to_ascii_lowercase().ends_with("password") => {
                    format!("{key}=***")
                }
                _ => pair.to_owned(),
            })
            .collect();
        redacted.push('?');
        redacted.push_str(&pairs.join("&"));
    }
    redacted
}

fn redact_authority(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_owned();
    };
    let authority_end = rest.find('/').unwrap_or(rest.len());
    let (authority, path) = rest.split_at(authority_end);
    let Some((user_info, host)) = authority.rsplit_once('@') else {
        return url.to_owned();
    };
    match user_info.split_once(':') {
        Some((user, _password)) => format!("{scheme}://{user}:***@{host}{path}"),
        None => url.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_are_redacted() {
        assert_eq!(
            redact("postgres://app:s3cr%40t@db.internal:5432/envsync"),
            "postgres://app:***@db.internal:5432/envsync"
        );
        assert_eq!(
            redact("postgres://app@db/envsync?sslmode=require&password=hunter2"),
            "postgres://app@db/envsync?sslmode=require&password=***"
        );
        assert_eq!(
            redact("postgres://p:a@ss@host/db"),
            "postgres://p:***@host/db"
        );
        assert_eq!(redact("/var/lib/envsync.db"), "/var/lib/envsync.db");
    }

    #[test]
    fn schemes_choose_the_backend() {
        assert_eq!(
            resolve("envsync.db"),
            Some((Backend::Sqlite, "sqlite://envsync.db?mode=rwc".into()))
        );
        assert_eq!(
            resolve("sqlite:///tmp/a.db?mode=ro"),
            Some((Backend::Sqlite, "sqlite:///tmp/a.db?mode=ro".into()))
        );
        assert_eq!(
            resolve("postgresql://u@h/d").map(|(backend, _)| backend),
            Some(Backend::Postgres)
        );
        assert_eq!(resolve("mysql://u@h/d"), None);
    }
}
