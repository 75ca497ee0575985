//! Turns `object_store` errors into one-line messages a person can act on.
//!
//! The store's own errors are long (method, full URL, retry counts, an XML body), and their
//! shape differs between S3, GCS and Azure; what a user needs is which of a few things went
//! wrong. Only the S3-style `<Code>` and `<Message>` of a response body are ever quoted, so
//! nothing the body echoes back (an access key id, a string to sign) reaches the terminal.

use std::error::Error as StdError;

use object_store::client::{HttpError, HttpErrorKind};

use crate::error::ClientError;

/// What a request was doing, which decides what a bare 404 means.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Operation {
    Read,
    List,
    Write,
    Delete,
}

impl Operation {
    fn verb(self) -> &'static str {
        match self {
            Operation::Read => "reading",
            Operation::List => "listing",
            Operation::Write => "writing",
            Operation::Delete => "deleting",
        }
    }
}

/// The remote a failure is reported against: its URL and, when set, its endpoint.
pub(super) struct Where<'a> {
    pub display: &'a str,
    pub endpoint: Option<&'a str>,
    /// Where credentials were looked for, when none were found.
    pub missing_credentials: Option<&'a str>,
}

const NO_BUCKET_MARKERS: [&str; 3] = [
    "NoSuchBucket",
    "ContainerNotFound",
    "The specified bucket does not exist",
];
const DENIED_MARKERS: [&str; 6] = [
    "AccessDenied",
    "InvalidAccessKeyId",
    "SignatureDoesNotMatch",
    "AuthorizationFailure",
    "status code: 403",
    "status code: 401",
];

/// A one-line `ClientError::Remote` for a failed request on `key`.
pub(super) fn remote_error(
    place: &Where<'_>,
    operation: Operation,
    key: &str,
    error: &object_store::Error,
) -> ClientError {
    let text = chain_text(error);
    let at = match place.endpoint {
        Some(endpoint) => format!("bucket {} (endpoint {endpoint})", place.display),
        None => format!("bucket {}", place.display),
    };
    let not_found = matches!(error, object_store::Error::NotFound { .. });
    let message = if NO_BUCKET_MARKERS.iter().any(|marker| text.contains(marker))
        || (not_found && operation != Operation::Read)
    {
        format!(
            "{at}: the bucket does not exist; check its name in envsync.toml, and the endpoint and region (AWS_ENDPOINT_URL, AWS_REGION)"
        )
    } else if let Some(looked) = place.missing_credentials
        && (is_denied(error, &text) || text.contains("credential"))
    {
        format!(
            "{at}: no credentials found for {} {key}: envsync looked in {looked}; set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or name a profile with keys in AWS_PROFILE",
            operation.verb()
        )
    } else if is_denied(error, &text) {
        format!(
            "{at}: access denied {} {key}: check your credentials (AWS_ACCESS_KEY_ID / AWS_PROFILE) and that the bucket policy grants what docs/guide.md \"Using a bucket\" lists{}",
            operation.verb(),
            quoted_code(&text)
        )
    } else if let Some(kind) = http_kind(error) {
        let what = match kind {
            HttpErrorKind::Timeout => "the store did not answer in time",
            _ => "cannot connect to the store",
        };
        format!("{at}: {what}: {}", short_cause(error))
    } else {
        format!(
            "{at}: {} {key} failed: {}",
            operation.verb(),
            short_cause(error)
        )
    };
    ClientError::Remote(message)
}

fn is_denied(error: &object_store::Error, text: &str) -> bool {
    matches!(
        error,
        object_store::Error::PermissionDenied { .. } | object_store::Error::Unauthenticated { .. }
    ) || DENIED_MARKERS.iter().any(|marker| text.contains(marker))
}

/// Why conditional writes (create only if absent) are unavailable.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum NoConditionalWrites {
    /// The client was configured without them (`AWS_CONDITIONAL_PUT=disabled`).
    TurnedOff,
    /// The store accepted a second create of the same object.
    Ignored,
}

/// Without create-only writes, two pushes could both become version N, one silently
/// overwriting the other: refuse rather than risk it.
pub(super) fn no_conditional_writes(place: &Where<'_>, why: NoConditionalWrites) -> ClientError {
    let (what, fix) = match why {
        NoConditionalWrites::TurnedOff => (
            "conditional writes (create only if absent) are turned off for this store",
            "unset AWS_CONDITIONAL_PUT",
        ),
        NoConditionalWrites::Ignored => (
            "this store ignores conditional writes (create only if absent): it let the same object be created twice",
            "use a store that supports them (AWS S3, Google Cloud Storage, Azure Blob, MinIO, Cloudflare R2)",
        ),
    };
    ClientError::Remote(format!(
        "bucket {}: {what}, so two teammates pushing at once could overwrite each other's version; envsync refuses to write to it: {fix}",
        place.display
    ))
}

/// Whether this error is the store saying the object is not there (and not that the whole
/// bucket is missing).
pub(super) fn is_missing_object(error: &object_store::Error) -> bool {
    matches!(error, object_store::Error::NotFound { .. })
        && !NO_BUCKET_MARKERS
            .iter()
            .any(|marker| chain_text(error).contains(marker))
}

/// The most specific part of an error, on one line: the S3 error code and message when the
/// store sent one, else the innermost cause (e.g. `Connection refused (os error 111)`).
pub(crate) fn short_cause(error: &object_store::Error) -> String {
    let text = chain_text(error);
    if let Some(code) = between(&text, "<Code>", "</Code>") {
        let message = between(&text, "<Message>", "</Message>").unwrap_or_default();
        return one_line(&format!("{code}: {message}"));
    }
    let mut innermost: &dyn StdError = error;
    while let Some(source) = innermost.source() {
        innermost = source;
    }
    one_line(&innermost.to_string())
}

fn quoted_code(text: &str) -> String {
    between(text, "<Code>", "</Code>")
        .map(|code| format!(" ({code})"))
        .unwrap_or_default()
}

fn http_kind(error: &object_store::Error) -> Option<HttpErrorKind> {
    let mut current: Option<&dyn StdError> = Some(error);
    while let Some(error) = current {
        if let Some(http) = error.downcast_ref::<HttpError>() {
            return match http.kind() {
                kind @ (HttpErrorKind::Connect | HttpErrorKind::Timeout) => Some(kind),
                _ => None,
            };
        }
        current = error.source();
    }
    None
}

fn chain_text(error: &object_store::Error) -> String {
    let mut text = error.to_string();
    let mut current = error.source();
    while let Some(source) = current {
        text.push('\n');
        text.push_str(&source.to_string());
        current = source.source();
    }
    text
}

fn between<'a>(text: &'a str, open: &str, close: &str) -> Option<&'a str> {
    let start = text.find(open)? + open.len();
    let length = text[start..].find(close)?;
    Some(&text[start..start + length])
}

fn one_line(text: &str) -> String {
    let flat: String = text.split_whitespace().collect::<Vec<_>>().join(" ");
    match flat.char_indices().nth(300) {
        Some((cut, _)) => format!("{}…", &flat[..cut]),
        None => flat,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn generic(text: &str) -> object_store::Error {
        object_store::Error::Generic {
            store: "S3",
            source: text.to_owned().into(),
        }
    }

    fn message(operation: Operation, error: &object_store::Error) -> String {
        let place = Where {
            display: "s3://bucket/team",
            endpoint: Some("http://127.0.0.1:9000"),
            missing_credentials: None,
        };
        remote_error(&place, operation, "team/app/members", error).to_string()
    }

    #[test]
    fn a_missing_bucket_is_named_whatever_the_operation() {
        let body = "Server returned non-2xx status code: 404 Not Found: <?xml version=\"1.0\"?>\n<Error><Code>NoSuchBucket</Code><Message>The specified bucket does not exist</Message></Error>";
        for operation in [Operation::Read, Operation::List, Operation::Write] {
            let text = message(operation, &generic(body));
            assert!(text.contains("the bucket does not exist"), "{text}");
            assert!(
                text.starts_with("bucket s3://bucket/team (endpoint http://127.0.0.1:9000)"),
                "{text}"
            );
        }
        let missing_key = object_store::Error::NotFound {
            path: "k".into(),
            source: "<Code>NoSuchKey</Code>".into(),
        };
        assert!(is_missing_object(&missing_key));
        let missing_bucket = object_store::Error::NotFound {
            path: "k".into(),
            source: body.into(),
        };
        assert!(!is_missing_object(&missing_bucket));
    }

    #[test]
    fn access_denied_quotes_only_the_error_code() {
        let body = "status code: 403 Forbidden: <Error><Code>SignatureDoesNotMatch</Code><AWSAccessKeyId>AKIASECRETISH</AWSAccessKeyId><StringToSign>AWS4-HMAC-SHA256</StringToSign></Error>";
        let text = message(Operation::List, &generic(body));
        assert!(
            text.contains("access denied listing team/app/members"),
            "{text}"
        );
        assert!(text.contains("(SignatureDoesNotMatch)"), "{text}");
        assert!(
            !text.contains("AKIA") && !text.contains("StringToSign"),
            "{text}"
        );
    }

    #[test]
    fn no_credentials_anywhere_is_not_called_access_denied() {
        let place = Where {
            display: "s3://bucket/team",
            endpoint: None,
            missing_credentials: Some("the variables AWS_ACCESS_KEY_ID and …"),
        };
        let error = generic("Server returned non-2xx status code: 403 Forbidden");
        let text = remote_error(&place, Operation::List, "team/app/members", &error).to_string();
        assert!(text.contains("no credentials found for listing"), "{text}");
        assert!(
            text.contains("looked in the variables AWS_ACCESS_KEY_ID"),
            "{text}"
        );
        assert!(!text.contains("access denied"), "{text}");
    }

    #[test]
    fn other_failures_are_one_short_line() {
        let text = message(
            Operation::Write,
            &generic(
                "Server returned non-2xx status code: 500:\n<Error><Code>InternalError</Code><Message>We encountered\nan internal error</Message></Error>",
            ),
        );
        assert!(!text.contains('\n'), "{text}");
        assert!(
            text.ends_with(
                "writing team/app/members failed: InternalError: We encountered an internal error"
            ),
            "{text}"
        );
    }
}
