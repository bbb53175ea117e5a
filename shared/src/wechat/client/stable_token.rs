//! The app's own access token (`POST /cgi-bin/stable_token`): the credential of
//! WeChat's server APIs such as the phone number's. Unlike `GET /cgi-bin/token`, a fetch
//! does not invalidate the token other processes hold; `force_refresh` does, and WeChat
//! allows it about 20 times a day, 30 s apart. The AppSecret goes in the POST body, never
//! in a URL, and the token is a [`Secret`].

use tokio::time::Instant;

use super::WeChatClient;
use super::failover::Failover;
use crate::secret::Secret;
use crate::wechat::error::WeChatError;
use crate::wechat::reply::{integer, missing, parse_object, text};

/// WeChat's tokens are up to 512 characters today and may grow; anything beyond this is
/// not a token.
const MAX_APP_TOKEN_LEN: usize = 2048;

/// The longest lifetime believed (WeChat gives 7200 s).
const MAX_EXPIRES_IN: i64 = 86_400;

/// A token as WeChat handed it out.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FetchedAppToken {
    pub token: Secret,
    /// Seconds from now.
    pub expires_in: i64,
}

impl WeChatClient {
    pub fn app_id(&self) -> &str {
        &self.app_id
    }

    /// `/cgi-bin/stable_token`: the current token, or with `force_refresh` a new one. It
    /// changes nothing without `force_refresh`, so it may fail over like a profile read.
    pub async fn stable_token(
        &self,
        force_refresh: bool,
        deadline: Instant,
    ) -> Result<FetchedAppToken, WeChatError> {
        let body = serde_json::json!({
            "grant_type": "client_credential",
            "appid": self.app_id,
            "secret": self.app_secret.expose(),
            "force_refresh": force_refresh,
        })
        .to_string();
        let failover = if force_refresh {
            Failover::OnlyIfNeverSent
        } else {
            Failover::WheneverWeChatSeemsDown
        };
        let work = self.post_json("/cgi-bin/stable_token", &[], &body, failover, deadline);
        let reply = tokio::time::timeout_at(deadline, work)
            .await
            .unwrap_or(Err(WeChatError::Timeout))?;
        parse_stable_token_reply(&reply)
    }
}

fn parse_stable_token_reply(body: &[u8]) -> Result<FetchedAppToken, WeChatError> {
    let fields = parse_object(body)?;
    let token = text(&fields, "access_token")
        .filter(|t| t.len() <= MAX_APP_TOKEN_LEN && t.bytes().all(|b| b.is_ascii_graphic()))
        .ok_or_else(|| missing("access_token"))?;
    let expires_in = integer(&fields, "expires_in")
        .filter(|s| (1..=MAX_EXPIRES_IN).contains(s))
        .ok_or_else(|| missing("expires_in"))?;
    Ok(FetchedAppToken {
        token: Secret::new(token),
        expires_in,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_reply_gives_the_token_and_its_lifetime_within_bounds() {
        let fetched =
            parse_stable_token_reply(br#"{"access_token":"ACCESS_TOKEN","expires_in":7200}"#)
                .unwrap();
        assert_eq!(fetched.token.expose(), "ACCESS_TOKEN");
        assert_eq!(fetched.expires_in, 7200);
        assert!(!format!("{fetched:?}").contains("ACCESS_TOKEN"));
        let longest = "t".repeat(MAX_APP_TOKEN_LEN);
        let at_limit = format!(r#"{{"access_token":"{longest}","expires_in":{MAX_EXPIRES_IN}}}"#);
        assert!(parse_stable_token_reply(at_limit.as_bytes()).is_ok());
        for body in [
            format!(r#"{{"access_token":"{longest}t","expires_in":7200}}"#),
            format!(
                r#"{{"access_token":"t","expires_in":{}}}"#,
                MAX_EXPIRES_IN + 1
            ),
            r#"{"access_token":"t","expires_in":0}"#.to_owned(),
            r#"{"access_token":"a b","expires_in":7200}"#.to_owned(),
            r#"{"expires_in":7200}"#.to_owned(),
            r#"{"access_token":"t"}"#.to_owned(),
        ] {
            assert!(
                matches!(
                    parse_stable_token_reply(body.as_bytes()),
                    Err(WeChatError::Malformed(_))
                ),
                "{body:.60}"
            );
        }
        assert_eq!(
            parse_stable_token_reply(br#"{"errcode":40164,"errmsg":"invalid ip"}"#)
                .unwrap_err()
                .errcode(),
            Some(40164)
        );
    }
}
