//! Authorization codes and the grant each one stands for.
//!
//! The callback turns a finished WeChat login of an OIDC request into a grant (who signed
//! in, for which client, redirect URI, PKCE challenge and nonce) stored under the SHA-256
//! of a fresh code, so a leaked table holds no usable code. The token endpoint redeems it
//! once, atomically, and only if the client, the redirect URI and the PKCE verifier fit;
//! a second redemption revokes the grant, and with it the access tokens issued from it
//! (RFC 6749 §4.1.2). The grant lives on until those access tokens expire, because
//! userinfo checks it.

use std::fmt;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::scope::Scope;

use super::claims_request::RequestedClaims;

/// How long a code may wait for its redemption.
pub const CODE_LIFETIME_SECONDS: i64 = 60;
/// 32 random bytes, base64url without padding: 256 bits.
const CODE_LEN: usize = 43;

/// The stored key of a grant: hex SHA-256 of its code. Also the access tokens' `jti`.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct GrantId(String);

impl GrantId {
    /// A fresh code and the id it is stored under.
    pub fn generate() -> (String, Self) {
        let mut bytes = [0u8; 32];
        getrandom::fill(&mut bytes).expect("the operating system's random source failed");
        let code = URL_SAFE_NO_PAD.encode(bytes);
        let id = Self::of(&code);
        (code, id)
    }

    /// The id of a code presented at the token endpoint, if it can be one of ours.
    pub fn of_code(code: &str) -> Option<Self> {
        let ok = code.len() == CODE_LEN
            && code
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
        ok.then(|| Self::of(code))
    }

    /// An id as it appears in an access token's `jti`.
    pub fn parse(hex: &str) -> Option<Self> {
        let ok = hex.len() == 64 && hex.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'));
        ok.then(|| Self(hex.to_owned()))
    }

    fn of(code: &str) -> Self {
        Self(
            Sha256::digest(code.as_bytes())
                .iter()
                .map(|b| format!("{b:02x}"))
                .collect(),
        )
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for GrantId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "GrantId({}…)", &self.0[..8])
    }
}

/// What a redeemed code yields.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Grant {
    pub client_id: String,
    /// As the authorization request sent it (the token request must repeat it exactly).
    pub redirect_uri: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub code_challenge: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub nonce: Option<String>,
    /// `snsapi_userinfo` for `openid profile`.
    #[serde(with = "scope_text")]
    pub scope: Scope,
    pub auth_time: i64,
    /// The `sub` claim: the openid, or the unionid under OIDC_SUBJECT=unionid.
    pub sub: String,
    pub openid: String,
    /// Only where the relying party may see it: with `profile` or `unionid`, or as `sub`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub unionid: Option<String>,
    /// Whether the relying party asked for, and was granted, the `unionid` scope.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub unionid_scope: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub picture: Option<String>,
    /// What the authorization request's `claims` parameter asked for, and where.
    #[serde(default, skip_serializing_if = "RequestedClaims::is_empty")]
    pub claims: RequestedClaims,
    pub code_expires_at: i64,
}

impl Grant {
    /// The OIDC scope string granted.
    pub fn scope_text(&self) -> &'static str {
        match (self.scope.has_profile(), self.unionid_scope) {
            (false, false) => "openid",
            (true, false) => "openid profile",
            (false, true) => "openid unionid",
            (true, true) => "openid profile unionid",
        }
    }
}

mod scope_text {
    use serde::{Deserialize, Deserializer, Serializer};

    use crate::scope::Scope;

    pub fn serialize<S: Serializer>(scope: &Scope, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(scope.as_str())
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Scope, D::Error> {
        let text = String::deserialize(d)?;
        Scope::parse(&text).ok_or_else(|| serde::de::Error::custom("unknown scope"))
    }
}

/// What a token request must show to redeem a code: the one definition the in-memory
/// store applies and the DynamoDB condition expresses.
#[derive(Clone, Copy, Debug)]
pub struct Redemption<'a> {
    pub client_id: &'a str,
    pub redirect_uri: &'a str,
    /// S256 of the presented `code_verifier`, if one came.
    pub code_challenge: Option<&'a str>,
    pub now: i64,
}

impl Redemption<'_> {
    pub fn fits(&self, grant: &Grant) -> bool {
        grant.client_id == self.client_id
            && grant.redirect_uri == self.redirect_uri
            && grant.code_challenge.as_deref() == self.code_challenge
            && self.now < grant.code_expires_at
    }
}

/// What redeeming a code found.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Redeemed {
    /// This call redeemed it.
    Fresh(Grant),
    /// Not redeemed and left untouched: the request did not fit (other client, other
    /// redirect URI, wrong verifier, expired).
    Kept(Grant),
    /// Redeemed before: the grant is now revoked.
    Replayed,
    /// Never issued, or gone.
    Unknown,
}

/// A grant as userinfo finds it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct GrantStatus {
    pub grant: Grant,
    pub redeemed: bool,
    pub revoked: bool,
}

#[cfg(test)]
mod tests {
    use std::collections::HashSet;

    use super::*;

    #[test]
    fn codes_are_256_bit_and_only_their_hash_is_kept() {
        let mut seen = HashSet::new();
        for _ in 0..1000 {
            let (code, id) = GrantId::generate();
            assert_eq!(code.len(), CODE_LEN);
            assert_eq!(GrantId::of_code(&code), Some(id.clone()));
            assert!(!id.as_str().contains(&code));
            assert_eq!(GrantId::parse(id.as_str()), Some(id.clone()));
            assert!(seen.insert(code));
        }
        assert_eq!(GrantId::of_code(&"a".repeat(42)), None);
        assert_eq!(GrantId::of_code(&"a".repeat(44)), None);
        assert_eq!(GrantId::of_code(&format!("{}=", "a".repeat(42))), None);
        assert_eq!(GrantId::parse(&"A".repeat(64)), None);
    }

    #[test]
    fn a_redemption_fits_only_its_own_grant() {
        let grant = Grant {
            client_id: "rp".into(),
            redirect_uri: "https://rp.example.com/cb".into(),
            code_challenge: Some("c".repeat(43)),
            nonce: None,
            scope: Scope::Base,
            auth_time: 100,
            sub: "o".into(),
            openid: "o".into(),
            unionid: None,
            unionid_scope: false,
            name: None,
            picture: None,
            claims: RequestedClaims::default(),
            code_expires_at: 160,
        };
        let challenge = "c".repeat(43);
        let ok = Redemption {
            client_id: "rp",
            redirect_uri: "https://rp.example.com/cb",
            code_challenge: Some(&challenge),
            now: 159,
        };
        assert!(ok.fits(&grant));
        assert!(!Redemption { now: 160, ..ok }.fits(&grant));
        assert!(
            !Redemption {
                client_id: "other",
                ..ok
            }
            .fits(&grant)
        );
        assert!(
            !Redemption {
                redirect_uri: "https://rp.example.com/cb/",
                ..ok
            }
            .fits(&grant)
        );
        assert!(
            !Redemption {
                code_challenge: None,
                ..ok
            }
            .fits(&grant)
        );
        let json = serde_json::to_string(&grant).unwrap();
        assert_eq!(serde_json::from_str::<Grant>(&json).unwrap(), grant);
    }
}
