//! The TLS provider of the cloud stores' HTTP client.
//!
//! `object_store` sends its requests with reqwest, linked here without a rustls provider of
//! its own, so that the binary carries one crypto library (ring) and not two: aws-lc, the
//! default's, also runs a constructor at every start of every command that asks the CPU for
//! its features, an exit to the hypervisor per question on a virtual machine. reqwest takes
//! the process's default provider when a store is built, and panics when there is none, so
//! every `object_store` builder runs after [`use_ring`].

/// Makes ring the process's rustls provider; nothing to do when one is installed already
/// (a second store, or the server's, which is ring too).
pub(crate) fn use_ring() {
    let _ = rustls::crypto::ring::default_provider().install_default();
}
