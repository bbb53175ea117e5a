//! Shared set-up for the integration tests: a fresh DynamoDB Local table, a WeChat
//! simulator on its own loopback port, and the real Lambda handlers driven with API Gateway
//! HTTP API (payload 2.0) events. The browser's part (following WeChat's redirects) is
//! played over real HTTP against the simulator. One file per purpose; the tests use the
//! names re-exported here, and `template` (the one reading of template.yaml) and
//! `table_rights` (how IAM judges a call on the state table) by their paths.

mod events;
mod functions;
mod http;
mod jar;
mod logs;
mod stack;
pub mod table_rights;
pub mod template;

pub use self::events::*;
pub use self::functions::*;
pub use self::http::*;
pub use self::logs::*;
pub use self::stack::*;

pub const APP_ID: &str = "wx0123456789abcdef";
/// Distinctive so that a leak anywhere is easy to find.
pub const APP_SECRET: &str = "APPSECRET-must-never-leak-7c1f";
pub const SIGNING_KEY: &str = "SIGNINGKEY-must-never-leak-0123456789abcdef";
pub const SEALING_KEY: &str = "SEALINGKEY-must-never-leak-0123456789abcdef";
pub const DOMAIN: &str = "abc123.execute-api.us-east-1.amazonaws.com";
pub const ALLOWED_ORIGINS: &str =
    "https://app.example.com,https://*.shop.example.com,http://127.0.0.1:8080";

/// A Website App (QR login) beside the Official Account, for the tests of several apps.
pub const WEB_APP_ID: &str = "wx00000000000000bb";
pub const WEB_SECRET: &str = "WEBSECRET-must-never-leak-91ab";

/// Taken by the tests that load the machine (a hundred logins at once, starting DynamoDB
/// Local or function processes) or hold the gateway to a time limit, so that no two of
/// them overlap in the one test process: on two cores one starves the other into the
/// SDK's timeouts. Lighter tests still run beside them.
pub async fn exclusive() -> tokio::sync::MutexGuard<'static, ()> {
    static LOCK: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());
    LOCK.lock().await
}
