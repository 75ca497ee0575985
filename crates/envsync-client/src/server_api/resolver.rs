//! How the API client finds the server's addresses without a thread per request.
//!
//! ureq's own resolver looks the host up again for every request, and, because every
//! request has a time limit, does it in a new thread so that a stuck lookup can be
//! abandoned. That thread cost 65 to 110 µs, three times in each `status` against a server,
//! even for `127.0.0.1`, whose address needs no lookup at all. This resolver answers an IP
//! address at once, and remembers a name's addresses for [`REMEMBERED_FOR`], so a command
//! looks each name up once (in a thread, with the time limit, as before) while `watch`, which
//! runs for days, still follows a DNS change within a minute.
//!
//! ureq exposes resolvers in its `unversioned` module, outside its semver promise: the lock
//! file pins the version, and a change there breaks the build, not the behaviour.

use std::net::IpAddr;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use ureq::Error;
use ureq::config::Config;
use ureq::http::Uri;
use ureq::unversioned::resolver::{DefaultResolver, ResolvedSocketAddrs, Resolver};
use ureq::unversioned::transport::{DefaultConnector, NextTimeout};

/// An agent with ureq's own connector (TCP, TLS) and this resolver.
pub(super) fn agent(config: Config) -> ureq::Agent {
    let resolver: OnceResolver = OnceResolver::default();
    ureq::Agent::with_parts(config, DefaultConnector::default(), resolver)
}

/// How long a name's addresses are used before it is looked up again.
const REMEMBERED_FOR: Duration = Duration::from_secs(60);

/// A name's addresses, as last looked up.
#[derive(Debug)]
struct Remembered {
    /// The URI's scheme and authority: the port (or the scheme's default) is part of it.
    origin: String,
    at: Instant,
    addresses: ResolvedSocketAddrs,
}

/// ureq's [`DefaultResolver`] (or another, in tests), asked only when it has to be.
#[derive(Debug, Default)]
pub(super) struct OnceResolver<R = DefaultResolver> {
    inner: R,
    remembered: Mutex<Option<Remembered>>,
}

impl<R: Resolver> OnceResolver<R> {
    #[cfg(test)]
    fn new(inner: R) -> Self {
        Self {
            inner,
            remembered: Mutex::new(None),
        }
    }
}

impl<R: Resolver> Resolver for OnceResolver<R> {
    fn resolve(
        &self,
        uri: &Uri,
        config: &Config,
        timeout: NextTimeout,
    ) -> Result<ResolvedSocketAddrs, Error> {
        if is_ip_address(uri) {
            // No lookup to wait for: without a time limit ureq parses it in this thread.
            return self.inner.resolve(uri, config, NextTimeout::default());
        }
        let origin = format!(
            "{}://{}",
            uri.scheme_str().unwrap_or_default(),
            uri.authority()
                .map(|authority| authority.as_str())
                .unwrap_or_default()
        );
        let mut remembered = self
            .remembered
            .lock()
            .unwrap_or_else(|poison| poison.into_inner());
        if let Some(known) = remembered.as_ref()
            && known.origin == origin
            && known.at.elapsed() < REMEMBERED_FOR
        {
            return Ok(known.addresses.clone());
        }
        let addresses = self.inner.resolve(uri, config, timeout)?;
        *remembered = Some(Remembered {
            origin,
            at: Instant::now(),
            addresses: addresses.clone(),
        });
        Ok(addresses)
    }
}

/// Whether the URI's host is an IP address (`127.0.0.1`, `[::1]`), not a name.
fn is_ip_address(uri: &Uri) -> bool {
    uri.host().is_some_and(|host| {
        host.trim_start_matches('[')
            .trim_end_matches(']')
            .parse::<IpAddr>()
            .is_ok()
    })
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::time::Duration;

    use super::*;

    /// ureq's resolver, counting the lookups that reach it.
    #[derive(Debug, Default)]
    struct Counted {
        inner: DefaultResolver,
        asked: AtomicUsize,
    }

    impl Resolver for Counted {
        fn resolve(
            &self,
            uri: &Uri,
            config: &Config,
            timeout: NextTimeout,
        ) -> Result<ResolvedSocketAddrs, Error> {
            self.asked.fetch_add(1, Ordering::SeqCst);
            self.inner.resolve(uri, config, timeout)
        }
    }

    /// A request's time limit, as ureq gives its resolver one.
    fn with_limit() -> NextTimeout {
        NextTimeout {
            after: Duration::from_secs(5).into(),
            reason: ureq::Timeout::Global,
            per_read: None,
            per_write: None,
        }
    }

    fn resolve(resolver: &OnceResolver<Counted>, url: &str) -> Vec<std::net::SocketAddr> {
        let uri: Uri = url.parse().unwrap();
        let config = Config::default();
        resolver
            .resolve(&uri, &config, with_limit())
            .unwrap()
            .iter()
            .copied()
            .collect()
    }

    #[test]
    fn ip_addresses_and_their_ports_come_back_as_written() {
        let resolver = OnceResolver::new(Counted::default());
        let v4 = resolve(&resolver, "http://127.0.0.1:8080/api/v1/x");
        assert_eq!(v4, ["127.0.0.1:8080".parse().unwrap()]);
        let v6 = resolve(&resolver, "https://[::1]/api");
        assert_eq!(v6, ["[::1]:443".parse().unwrap()]);
    }

    #[test]
    fn a_name_is_looked_up_once_per_origin() {
        let resolver = OnceResolver::new(Counted::default());
        let first = resolve(&resolver, "http://localhost:8080/a");
        let second = resolve(&resolver, "http://localhost:8080/b");
        assert_eq!(first, second);
        assert!(first.iter().all(|address| address.port() == 8080));
        assert_eq!(resolver.inner.asked.load(Ordering::SeqCst), 1);
        // Another port is another origin: looked up, not answered with the first's port.
        let other = resolve(&resolver, "http://localhost:9090/a");
        assert!(other.iter().all(|address| address.port() == 9090));
        assert_eq!(resolver.inner.asked.load(Ordering::SeqCst), 2);
    }
}
