//! Attribute names of a login item. `state` is the partition key, `expires_at` the TTL
//! attribute (epoch seconds, type N). Public so that the template's drift test compares
//! template.yaml with these, not with copies.

pub const STATE: &str = "state";
pub const SCOPE: &str = "scope";
/// The app's name; absent on logins stored before there were several apps, which
/// were the default app's.
pub const APP: &str = "app";
pub const RETURN_URL: &str = "return_url";
pub const RESPONSE_MODE: &str = "response_mode";
pub const EXPIRES_AT: &str = "expires_at";
pub const BROWSER_BINDING: &str = "browser_binding";
/// Set once, when the callback consumes the login.
pub const CONSUMED_AT: &str = "consumed_at";
/// The sealed result, for a repeat of the same callback.
pub const OUTCOME: &str = "outcome";
/// The login's own expiry, kept when `expires_at` is cut to the replay window.
pub const LOGIN_EXPIRES_AT: &str = "login_expires_at";
pub const NONCE: &str = "nonce";
/// An OpenID Connect request's client, redirect URI, state and PKCE challenge (JSON).
pub const OIDC: &str = "oidc";

/// A grant's item: its key is `grant:` + the hex SHA-256 of the code (never a valid
/// state, which is alphanumeric), and `expires_at` is its TTL.
pub const GRANT_KEY_PREFIX: &str = "grant:";
/// The grant as JSON.
pub const GRANT: &str = "grant";
/// Copied out of the grant for the redemption's condition.
pub const CLIENT_ID: &str = "client_id";
pub const REDIRECT_URI: &str = "redirect_uri";
pub const CODE_CHALLENGE: &str = "code_challenge";
pub const CODE_EXPIRES_AT: &str = "code_expires_at";
/// Set once, when the code is redeemed.
pub const REDEEMED_AT: &str = "redeemed_at";
/// Set when a redeemed code is presented again.
pub const REVOKED: &str = "revoked";

/// An app's shared access token: its key is `apptoken:` + the AppID
/// (`crate::app_token::stored::APP_TOKEN_KEY_PREFIX`), and `expires_at`, its TTL, is the
/// token's own expiry (or the lease's, before there is a token).
pub const APP_TOKEN: &str = "app_token";
/// Epoch seconds when a process should fetch the next token.
pub const TOKEN_REFRESH_AT: &str = "token_refresh_at";
/// Epoch seconds when WeChat's token dies.
pub const TOKEN_EXPIRES_AT: &str = "token_expires_at";
/// A random id, new with each stored token.
pub const TOKEN_VERSION: &str = "token_version";
/// Epoch seconds until which the lease is held; the lease's id is the `write_id` of the
/// write that took it.
pub const LEASE_UNTIL: &str = "lease_until";
pub const LEASE_ID: &str = "lease_id";

/// A random id of the last conditional write that created or claimed the item (new
/// per call). The SDK sends a write again when its answer was lost (a dropped
/// connection, an attempt that timed out after DynamoDB acted); the second attempt
/// then fails its condition on the first one's work, and this id is how it tells its
/// own write from someone else's.
pub const WRITE_ID: &str = "write_id";
