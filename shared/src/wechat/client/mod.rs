//! The WeChat API client and its calls: `exchange_code` and `user_info`, a Mini Program's
//! `code_to_session` (`jscode2session.rs`), the app's own access token (`stable_token.rs`),
//! a Mini Program user's phone number (`phone_number.rs`), and the warm-up
//! connection. How a call reaches WeChat lives beside it: `http` (the HTTP client and its
//! trust roots), `failover` (which base, and when to move on), `attempt` (one request to
//! one base, its one retry, the bounded read of the reply).

mod attempt;
mod failover;
mod http;
mod jscode2session;
mod phone_number;
mod stable_token;

use tokio::time::Instant;
use url::Url;

use super::error::WeChatError;
use super::reply::{AccessTokenReply, UserProfile, parse_access_token_reply, parse_user_profile};
use crate::secret::Secret;
use failover::Failover;
pub use jscode2session::MiniProgramSession;
pub use stable_token::FetchedAppToken;

/// Replies larger than this are not WeChat's: stop reading instead of buffering them.
pub const MAX_REPLY_BYTES: usize = 64 * 1024;

/// Talks to WeChat's API: the primary base, then the fallbacks WeChat publishes for
/// disaster recovery (api2.weixin.qq.com, regional domains). Holds one HTTP client so
/// connections (and TLS sessions) are reused across requests in a warm process.
#[derive(Clone, Debug)]
pub struct WeChatClient {
    http: reqwest::Client,
    /// The primary first.
    api_bases: Vec<Url>,
    app_id: String,
    app_secret: Secret,
}

impl WeChatClient {
    pub fn new(
        http: reqwest::Client,
        api_base: Url,
        fallback_bases: Vec<Url>,
        app_id: String,
        app_secret: Secret,
    ) -> Self {
        let mut api_bases = vec![api_base];
        api_bases.extend(fallback_bases);
        Self {
            http,
            api_bases,
            app_id,
            app_secret,
        }
    }

    /// Opens a connection to the primary API base, TLS and all, for the first callback to
    /// reuse: `GET /`, which carries no AppSecret and no code and whose answer (any status)
    /// is read and dropped so the connection goes back to the pool.
    pub async fn warm_up(&self) -> Result<(), reqwest::Error> {
        let mut response = self.http.get(self.api_bases[0].clone()).send().await?;
        let mut read = 0;
        while let Some(chunk) = response.chunk().await? {
            read += chunk.len();
            if read > MAX_REPLY_BYTES {
                break;
            }
        }
        Ok(())
    }

    /// `/sns/oauth2/access_token`: trades a code (single use) for an access token and openid.
    pub async fn exchange_code(
        &self,
        code: &Secret,
        deadline: Instant,
    ) -> Result<AccessTokenReply, WeChatError> {
        let query = [
            ("appid", self.app_id.as_str()),
            ("secret", self.app_secret.expose()),
            ("code", code.expose()),
            ("grant_type", "authorization_code"),
        ];
        let body = self
            .get(
                "/sns/oauth2/access_token",
                &query,
                Failover::OnlyIfNeverSent,
                deadline,
            )
            .await?;
        parse_access_token_reply(&body)
    }

    /// `/sns/userinfo`: the profile, for a token obtained with `snsapi_userinfo`.
    pub async fn user_info(
        &self,
        access_token: &Secret,
        openid: &str,
        deadline: Instant,
    ) -> Result<UserProfile, WeChatError> {
        let query = [
            ("access_token", access_token.expose()),
            ("openid", openid),
            ("lang", "zh_CN"),
        ];
        let body = self
            .get(
                "/sns/userinfo",
                &query,
                Failover::WheneverWeChatSeemsDown,
                deadline,
            )
            .await?;
        let profile = parse_user_profile(&body)?;
        if profile.openid != openid {
            return Err(WeChatError::Malformed(
                "userinfo is for a different openid".into(),
            ));
        }
        Ok(profile)
    }
}
