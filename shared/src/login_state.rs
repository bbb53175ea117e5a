//! A started login: what the callback needs to finish it, keyed by the OAuth `state`.

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::oidc::claims_request::RequestedClaims;
use crate::return_url::ReturnUrl;
use crate::scope::{ResponseMode, Scope};

/// The `state` parameter: 32 characters from `[A-Za-z0-9]` (about 190 random bits), the
/// alphabet and length WeChat documents (at most 128 bytes).
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct StateId(String);

const STATE_LEN: usize = 32;
const ALPHABET: &[u8; 62] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";

impl StateId {
    /// A fresh state from the operating system's CSPRNG.
    pub fn generate() -> Self {
        let mut out = String::with_capacity(STATE_LEN);
        let mut buf = [0u8; 64];
        while out.len() < STATE_LEN {
            getrandom::fill(&mut buf).expect("the operating system's random source failed");
            // 248 = 4 × 62: dropping bytes above it keeps every character equally likely.
            for &b in buf.iter().filter(|&&b| b < 248) {
                if out.len() == STATE_LEN {
                    break;
                }
                out.push(ALPHABET[usize::from(b % 62)] as char);
            }
        }
        Self(out)
    }

    /// A state as it comes back on a callback: WeChat's alphabet, 1 to 128 bytes.
    pub fn parse(value: &str) -> Option<Self> {
        let ok = !value.is_empty()
            && value.len() <= 128
            && value.bytes().all(|b| b.is_ascii_alphanumeric());
        ok.then(|| Self(value.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

// A state is a bearer value until it is used: keep it out of logs in full.
impl fmt::Debug for StateId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "StateId({}…)", &self.0[..self.0.len().min(4)])
    }
}

/// What `/auth` stores and the callback consumes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LoginState {
    pub state: StateId,
    /// The name of the WeChat app the login is with (see `apps`): its callback exchanges
    /// the code with that app's AppSecret.
    pub app: String,
    pub scope: Scope,
    pub return_url: ReturnUrl,
    pub response_mode: ResponseMode,
    /// Epoch seconds; also the DynamoDB TTL attribute.
    pub expires_at: i64,
    /// SHA-256 (hex) of the browser-binding cookie set by `/auth`, when binding is on.
    pub browser_binding: Option<String>,
    /// The front end's or relying party's `nonce`, returned in the token it gets.
    pub nonce: Option<String>,
    /// Set when an OpenID Connect authorization request started the login: the callback
    /// then hands the relying party an authorization code instead of the result.
    pub oidc: Option<OidcRequest>,
}

impl LoginState {
    pub fn is_expired(&self, now: i64) -> bool {
        now >= self.expires_at
    }
}

/// The longest `nonce` accepted (by `/auth` and `/oauth2/authorize`): ample for any random
/// value, small enough to keep items and tokens small.
pub const MAX_NONCE_LEN: usize = 256;

/// What an OpenID Connect authorization request asked for, kept with its login.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct OidcRequest {
    pub client_id: String,
    /// Exactly as the request sent it (one of the client's registered URIs).
    pub redirect_uri: String,
    /// The relying party's `state`, echoed back.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub state: Option<String>,
    /// The S256 PKCE challenge.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub code_challenge: Option<String>,
    /// Whether the relying party asked for `profile`. A QR login (`snsapi_login`) always
    /// reads the profile from WeChat, so the scope alone no longer tells.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub profile: bool,
    /// Whether the relying party asked for the `unionid` scope: without it (or `profile`,
    /// or the unionid as `sub`) the unionid, which ties the person across a company's
    /// apps, stays with the provider.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub unionid: bool,
    /// What the `claims` parameter asked for (OpenID Connect Core §5.5): a few dozen bytes
    /// at most, whatever the parameter held.
    #[serde(default, skip_serializing_if = "RequestedClaims::is_empty")]
    pub claims: RequestedClaims,
}

/// What consuming (or reading) a state found.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Consumed {
    /// From `consume`: this call consumed the login, as `/auth` stored it. From `find`:
    /// the login is not consumed yet.
    Fresh(LoginState),
    /// Not consumed, and left untouched: the claim did not fit (expired, other route,
    /// other browser). The caller tells which from the login.
    Kept(LoginState),
    /// Used before, at `consumed_at`; `outcome` is the sealed result once recorded.
    Used {
        login: LoginState,
        consumed_at: i64,
        outcome: Option<Vec<u8>>,
    },
    /// Never issued, or gone.
    Unknown,
}

/// Seconds since the Unix epoch.
pub fn now_epoch_seconds() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use std::collections::HashSet;

    use super::*;

    #[test]
    fn generated_states_fit_wechat_and_do_not_repeat() {
        let states: HashSet<String> = (0..2000)
            .map(|_| StateId::generate().as_str().to_owned())
            .collect();
        assert_eq!(states.len(), 2000);
        for s in &states {
            assert_eq!(s.len(), STATE_LEN);
            assert!(s.bytes().all(|b| b.is_ascii_alphanumeric()));
            assert!(StateId::parse(s).is_some());
        }
    }

    #[test]
    fn generated_states_use_the_whole_alphabet_evenly() {
        let mut counts = [0usize; 128];
        for _ in 0..2000 {
            for b in StateId::generate().as_str().bytes() {
                counts[usize::from(b)] += 1;
            }
        }
        // 64,000 draws over 62 symbols: about 1,032 each; a biased mapping would skew this.
        for &c in ALPHABET {
            let n = counts[usize::from(c)];
            assert!((800..1300).contains(&n), "{} drawn {n} times", c as char);
        }
    }

    #[test]
    fn callback_states_are_checked() {
        assert!(StateId::parse("").is_none());
        assert!(StateId::parse("abc-def").is_none());
        assert!(StateId::parse("abc def").is_none());
        assert!(StateId::parse("ÄÖÜ").is_none());
        assert!(StateId::parse(&"a".repeat(129)).is_none());
        assert!(StateId::parse(&"a".repeat(128)).is_some());
    }

    #[test]
    fn debug_shows_only_a_prefix() {
        let s = StateId::parse("abcdefghijkl").unwrap();
        assert_eq!(format!("{s:?}"), "StateId(abcd…)");
    }
}
