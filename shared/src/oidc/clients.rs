//! The relying parties allowed to use the OpenID Provider (`OIDC_CLIENTS`): who they are,
//! how they authenticate, and the exact redirect URIs they registered.

use std::fmt;

use aws_lc_rs::constant_time::verify_slices_are_equal;
use serde::Deserialize;
use sha2::{Digest, Sha256};
use url::{Host, Url};

use crate::allowed_origins::AllowedOrigins;
use crate::return_url::ReturnUrl;
use crate::secret::Secret;

/// A confidential client's secret must be at least this long: it is the only thing
/// standing between a stolen authorization code and an identity.
pub const MIN_CLIENT_SECRET_LEN: usize = 32;
pub const MAX_CLIENT_ID_LEN: usize = 128;
pub const MAX_REDIRECT_URIS: usize = 20;

#[derive(Clone, Debug)]
pub struct OidcClients {
    clients: Vec<OidcClient>,
}

#[derive(Clone)]
pub struct OidcClient {
    pub client_id: String,
    /// `None`: a public client (a single-page or native app), which must use PKCE. Kept as
    /// its SHA-256 either way: that is all a comparison needs.
    secret: Option<SecretDigest>,
    /// As registered (compared as strings, RFC 9700 §4.1.3), with the parsed form that the
    /// user is sent to.
    redirect_uris: Vec<(String, ReturnUrl)>,
    pub name: Option<String>,
    /// Whether an authorization request must bring a PKCE challenge: always for a public
    /// client; for a confidential one unless it was registered with `require_pkce: false`.
    require_pkce: bool,
}

impl fmt::Debug for OidcClient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OidcClient")
            .field("client_id", &self.client_id)
            .field("confidential", &self.secret.is_some())
            .field(
                "redirect_uris",
                &self
                    .redirect_uris
                    .iter()
                    .map(|(r, _)| r)
                    .collect::<Vec<_>>(),
            )
            .field("name", &self.name)
            .field("require_pkce", &self.require_pkce)
            .finish()
    }
}

/// SHA-256 of a client secret. `client_secret_sha256` lets OIDC_CLIENTS hold only this, so
/// no function (not even the one that checks secrets) holds a client's secret.
#[derive(Clone)]
struct SecretDigest([u8; 32]);

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ClientEntry {
    client_id: String,
    #[serde(default)]
    client_secret: Option<String>,
    /// Instead of `client_secret`: its SHA-256, 64 hex digits.
    #[serde(default)]
    client_secret_sha256: Option<String>,
    redirect_uris: Vec<String>,
    #[serde(default)]
    name: Option<String>,
    /// Absent: required. Only a confidential client may turn it off, for a relying party
    /// that cannot send PKCE; its secret then alone guards a stolen code.
    #[serde(default)]
    require_pkce: Option<bool>,
}

impl OidcClients {
    /// The JSON array of `OIDC_CLIENTS`. Every problem is listed, one per line; secrets are
    /// never quoted.
    pub fn parse(json: &str) -> Result<Self, String> {
        let entries: Vec<ClientEntry> = serde_json::from_str(json).map_err(|e| {
            // serde's message can quote a value; keep only where it went wrong.
            format!(
                "must be a JSON array of {{\"client_id\", \"client_secret\" or \"client_secret_sha256\" (optional), \"redirect_uris\": [...], \"name\" (optional), \"require_pkce\" (optional, true or false)}} (error at line {} column {})",
                e.line(),
                e.column()
            )
        })?;
        if entries.is_empty() {
            return Err("lists no client".into());
        }
        let mut problems = Vec::new();
        let mut clients = Vec::new();
        for (index, entry) in entries.into_iter().enumerate() {
            let at = format!("client {}", index + 1);
            let id_ok = !entry.client_id.is_empty()
                && entry.client_id.len() <= MAX_CLIENT_ID_LEN
                && entry
                    .client_id
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~'));
            if !id_ok {
                problems.push(format!(
                    "{at}: client_id must be 1-{MAX_CLIENT_ID_LEN} of A-Z a-z 0-9 - . _ ~"
                ));
                continue;
            }
            let at = format!("client {}", entry.client_id);
            if clients
                .iter()
                .any(|c: &OidcClient| c.client_id == entry.client_id)
            {
                problems.push(format!("{at}: listed twice"));
                continue;
            }
            let hashed = entry.client_secret_sha256.as_deref().map(hex_digest);
            if entry.client_secret.is_some() && hashed.is_some() {
                problems.push(format!(
                    "{at}: give client_secret or client_secret_sha256, not both"
                ));
            }
            if let Some(None) = hashed {
                problems.push(format!(
                    "{at}: client_secret_sha256 must be 64 hex digits (the SHA-256 of the secret, e.g. printf %s \"$SECRET\" | sha256sum)"
                ));
            }
            if let Some(secret) = &entry.client_secret
                && (secret.len() < MIN_CLIENT_SECRET_LEN
                    || !secret.bytes().all(|b| b.is_ascii_graphic()))
            {
                problems.push(format!(
                    "{at}: client_secret must be at least {MIN_CLIENT_SECRET_LEN} printable ASCII characters without spaces (the value is not shown)"
                ));
            }
            if entry.redirect_uris.is_empty() || entry.redirect_uris.len() > MAX_REDIRECT_URIS {
                problems.push(format!(
                    "{at}: redirect_uris must list 1 to {MAX_REDIRECT_URIS} URIs"
                ));
            }
            let mut redirect_uris = Vec::new();
            for uri in &entry.redirect_uris {
                match redirect_uri(uri) {
                    Ok(parsed) => redirect_uris.push((uri.clone(), parsed)),
                    Err(problem) => problems.push(format!("{at}: redirect URI `{uri}`: {problem}")),
                }
            }
            if entry
                .name
                .as_ref()
                .is_some_and(|n| n.chars().count() > 100 || n.chars().any(char::is_control))
            {
                problems.push(format!(
                    "{at}: name must be at most 100 characters, no control characters"
                ));
            }
            let public = entry.client_secret.is_none() && hashed.is_none();
            if public && entry.require_pkce == Some(false) {
                problems.push(format!(
                    "{at}: a public client (no client_secret) must use PKCE: require_pkce cannot be false"
                ));
            }
            clients.push(OidcClient {
                client_id: entry.client_id,
                secret: match (entry.client_secret, hashed) {
                    (Some(secret), _) => Some(SecretDigest(
                        Sha256::digest(Secret::new(secret).expose().as_bytes()).into(),
                    )),
                    (None, Some(Some(digest))) => Some(SecretDigest(digest)),
                    (None, _) => None,
                },
                redirect_uris,
                name: entry.name,
                require_pkce: entry.require_pkce.unwrap_or(true),
            });
        }
        if problems.is_empty() {
            Ok(Self { clients })
        } else {
            Err(problems.join("; "))
        }
    }

    pub fn get(&self, client_id: &str) -> Option<&OidcClient> {
        self.clients.iter().find(|c| c.client_id == client_id)
    }

    pub fn iter(&self) -> impl Iterator<Item = &OidcClient> {
        self.clients.iter()
    }
}

impl OidcClient {
    pub fn is_public(&self) -> bool {
        self.secret.is_none()
    }

    /// Whether this client's authorization requests must bring a PKCE challenge, and so its
    /// token requests the verifier.
    pub fn requires_pkce(&self) -> bool {
        self.require_pkce
    }

    /// The registered redirect URI that is exactly `uri`, parsed.
    pub fn redirect_uri(&self, uri: &str) -> Option<&ReturnUrl> {
        self.redirect_uris
            .iter()
            .find(|(registered, _)| registered == uri)
            .map(|(_, parsed)| parsed)
    }

    /// Whether `presented` is this client's secret, in constant time (both sides hashed
    /// first, so neither the content nor the length leaks through timing).
    pub fn secret_matches(&self, presented: &str) -> bool {
        let Some(SecretDigest(expected)) = &self.secret else {
            return false;
        };
        let presented = Sha256::digest(presented.as_bytes());
        verify_slices_are_equal(expected, &presented).is_ok()
    }
}

/// 64 hex digits (either case) as 32 bytes.
fn hex_digest(text: &str) -> Option<[u8; 32]> {
    let text = text.trim();
    if text.len() != 64 || !text.bytes().all(|b| b.is_ascii_hexdigit()) {
        return None;
    }
    let mut out = [0u8; 32];
    for (i, byte) in out.iter_mut().enumerate() {
        *byte = u8::from_str_radix(&text[2 * i..2 * i + 2], 16).ok()?;
    }
    Some(out)
}

/// A redirect URI: the return-URL rules (canonical, DNS host names), no fragment (RFC 6749
/// §3.1.2), and https except on loopback.
fn redirect_uri(uri: &str) -> Result<ReturnUrl, String> {
    let url = Url::parse(uri).map_err(|e| e.to_string())?;
    if url.fragment().is_some() {
        return Err("must not have a fragment".into());
    }
    let loopback = match url.host() {
        Some(Host::Ipv4(ip)) => ip.is_loopback(),
        Some(Host::Ipv6(ip)) => ip.is_loopback(),
        Some(Host::Domain(name)) => name == "localhost",
        None => false,
    };
    if url.scheme() != "https" && !(url.scheme() == "http" && loopback) {
        return Err("must use https (http only on 127.0.0.1, [::1] or localhost)".into());
    }
    let origin =
        AllowedOrigins::parse(&url.origin().ascii_serialization()).map_err(|e| e.to_string())?;
    ReturnUrl::parse(uri, &origin).map_err(|e| e.to_string())
}

#[cfg(test)]
mod tests;

#[cfg(test)]
mod properties {
    use proptest::prelude::*;

    use super::*;

    proptest! {
        /// Whatever OIDC_CLIENTS holds, it is read or refused with a message that never
        /// quotes a secret.
        #[test]
        fn any_clients_value_is_read_or_refused_without_echoing_secrets(
            id in "\\PC{0,20}", secret in "[!-~]{0,40}", uri in "\\PC{0,40}"
        ) {
            let json = serde_json::json!([{"client_id": id, "client_secret": secret, "redirect_uris": [uri]}]).to_string();
            if let Err(problem) = OidcClients::parse(&json)
                && secret.len() >= 8
            {
                prop_assert!(!problem.contains(&secret), "{problem}");
            }
        }

        #[test]
        fn arbitrary_text_never_panics(text in "\\PC{0,200}") {
            let _ = OidcClients::parse(&text);
            let _ = crate::oidc::keys::SigningKeys::from_pem(&text);
        }
    }
}
