//! What `envsync watch` opens the server's event WebSocket with. It lives here, beside the
//! client's token and TLS settings, so that the token needs no public accessor and `wss://`
//! trusts exactly the authorities `https://` does.

use rustls::RootCertStore;
use rustls::pki_types::CertificateDer;

use super::{ApiClient, tls_config};
use crate::error::Result;
use crate::remote::EventSource;

impl ApiClient {
    /// The server's live events, authenticated with this client's token.
    pub(crate) fn event_source(&self) -> EventSource {
        EventSource::new(self.server.clone(), self.token.clone())
    }
}

/// The authorities HTTPS requests trust: those of `ENVSYNC_CA_CERT` when it is set, else
/// the web's (Mozilla's list, as ureq uses).
pub(crate) fn trusted_roots() -> Result<RootCertStore> {
    match tls_config()?.root_certs() {
        ureq::tls::RootCerts::Specific(certificates) => {
            let mut roots = RootCertStore::empty();
            roots.add_parsable_certificates(
                certificates
                    .iter()
                    .map(|certificate| CertificateDer::from(certificate.der().to_vec())),
            );
            Ok(roots)
        }
        _ => Ok(RootCertStore {
            roots: webpki_roots::TLS_SERVER_ROOTS.to_vec(),
        }),
    }
}
