//! The couple's own relay, as one line a person copies from the relay machine to each
//! laptop: `https://HOST:PORT/?cert=SHA256&token=SECRET`.
//!
//! It carries all a laptop needs to trust and join the relay, and nothing a laptop must
//! not see: where it is, the SHA-256 of its self-signed certificate (pinned, so a home
//! machine needs no public CA and nobody else can pose as it), and the couple's secret
//! token, which introduces a laptop's key to the relay (see `havend relay`). The token is
//! a secret: the laptops keep the line in their encrypted peer row, never in config.toml.

use std::fmt;

/// Bytes of the random token.
pub const TOKEN_BYTES: usize = 32;

#[derive(Clone, PartialEq, Eq)]
pub struct RelayUrl {
    /// `HOST:PORT`, as the relay's operator wrote it (a name or an address).
    pub authority: String,
    pub cert_sha256: [u8; 32],
    pub token: String,
}

/// Never print the token by accident: a log line shows where, not the secret.
impl fmt::Debug for RelayUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "RelayUrl(https://{})", self.authority)
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RelayUrlError {
    #[error("a relay URL starts with https:// (copy the whole `relay URL:` line `havend relay` printed)")]
    Scheme,
    #[error("the relay URL has no HOST:PORT")]
    Authority,
    #[error("the relay URL has no port")]
    Port,
    #[error("the relay URL lacks its certificate fingerprint (cert=…); copy the whole line")]
    Cert,
    #[error("the relay URL lacks its token (token=…); copy the whole line")]
    Token,
    #[error("the relay URL has something unexpected in it: {0}")]
    Unexpected(String),
}

impl RelayUrl {
    pub fn parse(text: &str) -> Result<RelayUrl, RelayUrlError> {
        let rest = text
            .trim()
            .strip_prefix("https://")
            .ok_or(RelayUrlError::Scheme)?;
        let (authority, query) = rest.split_once("/?").ok_or(RelayUrlError::Cert)?;
        if authority.is_empty()
            || !authority
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || "-.:[]".contains(c))
        {
            return Err(RelayUrlError::Authority);
        }
        let port = authority.rsplit_once(':').map(|(_, p)| p).unwrap_or("");
        if port.parse::<u16>().map_or(true, |p| p == 0) {
            return Err(RelayUrlError::Port);
        }
        let (mut cert, mut token) = (None, None);
        for pair in query.split('&') {
            match pair.split_once('=') {
                Some(("cert", v)) => {
                    let bytes = hex::decode(v).map_err(|_| RelayUrlError::Cert)?;
                    cert = Some(<[u8; 32]>::try_from(bytes).map_err(|_| RelayUrlError::Cert)?);
                }
                Some(("token", v))
                    if v.len() == 2 * TOKEN_BYTES && v.chars().all(|c| c.is_ascii_hexdigit()) =>
                {
                    token = Some(v.to_ascii_lowercase());
                }
                Some(("token", _)) => return Err(RelayUrlError::Token),
                _ => {
                    let shown: String = pair.chars().take(40).filter(|c| !c.is_control()).collect();
                    return Err(RelayUrlError::Unexpected(shown));
                }
            }
        }
        Ok(RelayUrl {
            authority: authority.to_string(),
            cert_sha256: cert.ok_or(RelayUrlError::Cert)?,
            token: token.ok_or(RelayUrlError::Token)?,
        })
    }

    /// The relay's address without the secret, as iroh dials it.
    pub fn endpoint(&self) -> String {
        format!("https://{}/", self.authority)
    }
}

/// The whole line, token included: only for `havend relay` to print and the peer row.
impl fmt::Display for RelayUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "https://{}/?cert={}&token={}",
            self.authority,
            hex::encode(self.cert_sha256),
            self.token
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> RelayUrl {
        RelayUrl {
            authority: "relay.example.org:7443".into(),
            cert_sha256: [7; 32],
            token: "ab".repeat(TOKEN_BYTES),
        }
    }

    #[test]
    fn a_printed_url_parses_back_and_hides_its_token_in_logs() {
        let url = sample();
        assert_eq!(RelayUrl::parse(&url.to_string()), Ok(url.clone()));
        assert_eq!(url.endpoint(), "https://relay.example.org:7443/");
        assert!(!format!("{url:?}").contains("abab"));
        let v6 = RelayUrl {
            authority: "[2001:db8::1]:7443".into(),
            ..sample()
        };
        assert_eq!(RelayUrl::parse(&v6.to_string()), Ok(v6));
    }

    #[test]
    fn a_damaged_url_says_what_is_missing() {
        let good = sample().to_string();
        let cases = [
            ("http://relay:1/?cert=00", RelayUrlError::Scheme),
            (&good.replace(":7443", ""), RelayUrlError::Port),
            (&good.replace(":7443", ":0"), RelayUrlError::Port),
            (&good.replace(":7443", ":99999"), RelayUrlError::Port),
            (
                good.split("&token").next().unwrap_or(""),
                RelayUrlError::Token,
            ),
            (&good.replace("cert=0707", "cert=07"), RelayUrlError::Cert),
            (
                &good.replace("token=abab", "token=zz"),
                RelayUrlError::Token,
            ),
            ("https://relay:1", RelayUrlError::Cert),
            ("https://rel ay:1/?cert=", RelayUrlError::Authority),
        ];
        for (text, want) in cases {
            assert_eq!(RelayUrl::parse(text), Err(want), "{text}");
        }
        assert!(matches!(
            RelayUrl::parse(&format!("{good}&x=\u{1b}[2J")),
            Err(RelayUrlError::Unexpected(s)) if !s.contains('\u{1b}')
        ));
    }
}
