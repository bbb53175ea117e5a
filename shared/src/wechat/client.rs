use std::time::Duration;

use url::Url;

use super::error::WeChatError;
use super::reply::{AccessTokenReply, UserProfile, parse_access_token_reply, parse_user_profile};
use crate::secret::Secret;

/// Replies larger than this are not WeChat's: stop reading instead of buffering them.
pub const MAX_REPLY_BYTES: usize = 64 * 1024;

/// Talks to WeChat's API. Holds one HTTP client so connections (and TLS sessions) are
/// reused across requests in a warm process.
#[derive(Clone, Debug)]
pub struct WeChatClient {
    http: reqwest::Client,
    api_base: Url,
    app_id: String,
    app_secret: Secret,
}

impl WeChatClient {
    pub fn new(http: reqwest::Client, api_base: Url, app_id: String, app_secret: Secret) -> Self {
        Self {
            http,
            api_base,
            app_id,
            app_secret,
        }
    }

    /// The process-wide HTTP client. Per-call deadlines come from the caller's budget; the
    /// connect timeout keeps a black-holed address from eating all of it.
    pub fn http_client() -> reqwest::Client {
        reqwest::Client::builder()
            .connect_timeout(Duration::from_secs(2))
            .pool_idle_timeout(Duration::from_secs(50))
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .expect("the HTTP client's TLS configuration is valid")
    }

    /// `/sns/oauth2/access_token`: trades a code (single use) for an access token and openid.
    pub async fn exchange_code(&self, code: &Secret) -> Result<AccessTokenReply, WeChatError> {
        let body = self
            .get(
                "/sns/oauth2/access_token",
                &[
                    ("appid", &self.app_id),
                    ("secret", self.app_secret.expose()),
                    ("code", code.expose()),
                    ("grant_type", "authorization_code"),
                ],
            )
            .await?;
        parse_access_token_reply(&body)
    }

    /// `/sns/userinfo`: the profile, for a token obtained with `snsapi_userinfo`.
    pub async fn user_info(
        &self,
        access_token: &Secret,
        openid: &str,
    ) -> Result<UserProfile, WeChatError> {
        let body = self
            .get(
                "/sns/userinfo",
                &[
                    ("access_token", access_token.expose()),
                    ("openid", openid),
                    ("lang", "zh_CN"),
                ],
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

    async fn get(&self, path: &str, query: &[(&str, &str)]) -> Result<Vec<u8>, WeChatError> {
        let mut url = Url::parse(&format!(
            "{}{path}",
            self.api_base.as_str().trim_end_matches('/')
        ))
        .map_err(|e| WeChatError::Malformed(format!("bad API URL: {e}")))?;
        url.query_pairs_mut().extend_pairs(query);
        let mut response = self.http.get(url).send().await.map_err(transport_error)?;
        let status = response.status();
        if !status.is_success() {
            return Err(WeChatError::HttpStatus(status.as_u16()));
        }
        if response
            .content_length()
            .is_some_and(|len| len > MAX_REPLY_BYTES as u64)
        {
            return Err(WeChatError::TooLarge(MAX_REPLY_BYTES));
        }
        let mut body = Vec::new();
        while let Some(chunk) = response.chunk().await.map_err(transport_error)? {
            if body.len() + chunk.len() > MAX_REPLY_BYTES {
                return Err(WeChatError::TooLarge(MAX_REPLY_BYTES));
            }
            body.extend_from_slice(&chunk);
        }
        Ok(body)
    }
}

/// reqwest's errors carry the request URL, and ours holds the secret and the code: drop it
/// before the error can be displayed anywhere.
fn transport_error(err: reqwest::Error) -> WeChatError {
    let err = err.without_url();
    if err.is_timeout() {
        WeChatError::Timeout
    } else if err.is_connect() {
        WeChatError::Connect(error_chain(&err))
    } else {
        WeChatError::Transport(error_chain(&err))
    }
}

fn error_chain(err: &dyn std::error::Error) -> String {
    let mut text = err.to_string();
    let mut source = err.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}
