//! The relay's certificate: self-signed on the relay machine, pinned by its SHA-256 on
//! the laptops. No public CA is involved, so a Raspberry Pi at home works, and nobody but
//! the machine holding the key can pose as the relay.

use std::path::Path;
use std::sync::Arc;

use anyhow::{Context, Result};
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::CryptoProvider;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer, ServerName, UnixTime};
use rustls::{DigitallySignedStruct, SignatureScheme};
use sha2::{Digest, Sha256};

use haven_shared::paths::write_private_file;

/// The relay's certificate and its key, as DER.
pub struct Identity {
    pub cert: CertificateDer<'static>,
    key: PrivatePkcs8KeyDer<'static>,
}

impl Identity {
    /// The certificate kept in `dir`, made on the first start for `host`.
    pub fn load_or_create(dir: &Path, host: &str) -> Result<Identity> {
        let (cert_file, key_file) = (dir.join("cert.der"), dir.join("key.der"));
        if cert_file.exists() && key_file.exists() {
            let cert = std::fs::read(&cert_file)
                .with_context(|| format!("cannot read {}", cert_file.display()))?;
            let key = std::fs::read(&key_file)
                .with_context(|| format!("cannot read {}", key_file.display()))?;
            return Ok(Identity {
                cert: CertificateDer::from(cert),
                key: PrivatePkcs8KeyDer::from(key),
            });
        }
        let made =
            rcgen::generate_simple_self_signed(vec!["haven-relay".to_string(), host.to_string()])
                .context("cannot make the relay's certificate")?;
        let cert = made.cert.der().to_vec();
        let key = made.signing_key.serialize_der();
        write_private_file(&key_file, &key)
            .with_context(|| format!("cannot write {}", key_file.display()))?;
        write_private_file(&cert_file, &cert)
            .with_context(|| format!("cannot write {}", cert_file.display()))?;
        Ok(Identity {
            cert: CertificateDer::from(cert),
            key: PrivatePkcs8KeyDer::from(key),
        })
    }

    pub fn fingerprint(&self) -> [u8; 32] {
        Sha256::digest(self.cert.as_ref()).into()
    }

    pub fn server_config(&self) -> Result<rustls::ServerConfig> {
        rustls::ServerConfig::builder_with_provider(provider())
            .with_safe_default_protocol_versions()
            .context("TLS versions")?
            .with_no_client_auth()
            .with_single_cert(
                vec![self.cert.clone()],
                PrivateKeyDer::from(self.key.clone_key()),
            )
            .context("the relay's certificate does not match its key")
    }
}

pub fn provider() -> Arc<CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

/// Trusts exactly one certificate, by its SHA-256, whatever name it carries.
#[derive(Debug)]
pub struct Pinned {
    sha256: [u8; 32],
    provider: Arc<CryptoProvider>,
}

impl Pinned {
    pub fn new(sha256: [u8; 32], provider: Arc<CryptoProvider>) -> Pinned {
        Pinned { sha256, provider }
    }
}

impl ServerCertVerifier for Pinned {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp_response: &[u8],
        _now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        let seen: [u8; 32] = Sha256::digest(end_entity.as_ref()).into();
        if seen == self.sha256 {
            Ok(ServerCertVerified::assertion())
        } else {
            Err(rustls::Error::InvalidCertificate(
                rustls::CertificateError::ApplicationVerificationFailure,
            ))
        }
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(
            message,
            cert,
            dss,
            &self.provider.signature_verification_algorithms,
        )
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(
            message,
            cert,
            dss,
            &self.provider.signature_verification_algorithms,
        )
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.provider
            .signature_verification_algorithms
            .supported_schemes()
    }
}

/// iroh's TLS settings for relays: only the pinned certificate.
pub fn pinned(sha256: [u8; 32]) -> iroh_relay::tls::CaTlsConfig {
    iroh_relay::tls::CaTlsConfig::custom_server_cert_verifier(Arc::new(move |provider| {
        Ok(Arc::new(Pinned::new(sha256, provider)) as Arc<dyn ServerCertVerifier>)
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_pinned_certificate_is_trusted() {
        let dir = tempfile::tempdir().expect("dir");
        let id = Identity::load_or_create(dir.path(), "relay.example").expect("identity");
        let again = Identity::load_or_create(dir.path(), "other").expect("identity");
        assert_eq!(
            id.fingerprint(),
            again.fingerprint(),
            "kept across restarts"
        );
        let name = ServerName::try_from("relay.example").expect("name");
        let pinned = Pinned::new(id.fingerprint(), provider());
        assert!(pinned
            .verify_server_cert(&id.cert, &[], &name, &[], UnixTime::now())
            .is_ok());
        let stranger = tempfile::tempdir().expect("dir");
        let other = Identity::load_or_create(stranger.path(), "relay.example").expect("identity");
        assert!(pinned
            .verify_server_cert(&other.cert, &[], &name, &[], UnixTime::now())
            .is_err());
        let mode = std::fs::metadata(dir.path().join("key.der"))
            .map(|m| std::os::unix::fs::PermissionsExt::mode(&m.permissions()) & 0o777)
            .expect("key");
        assert_eq!(mode, 0o600);
    }
}
