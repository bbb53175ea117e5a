//! A Mini Program's login: `/sns/jscode2session` trades a `wx.login()` code for the user's
//! openid (and unionid when the Mini Program is bound to an Open Platform account). WeChat
//! also sends the `session_key`, which is never read out of the reply: it would decrypt the
//! user's `encryptedData`, and nothing here needs it, so it cannot reach a response, a log
//! line or a token.

use tokio::time::Instant;

use super::WeChatClient;
use super::failover::Failover;
use crate::secret::Secret;
use crate::wechat::error::WeChatError;
use crate::wechat::reply::{identifier, missing, parse_object};

/// What WeChat said about a Mini Program's user, `session_key` left out.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MiniProgramSession {
    pub openid: String,
    pub unionid: Option<String>,
}

impl WeChatClient {
    /// `/sns/jscode2session`: a `wx.login()` code (single use) for the user's openid. Like
    /// a web code it works once, so the call fails over only when it never left.
    pub async fn code_to_session(
        &self,
        code: &Secret,
        deadline: Instant,
    ) -> Result<MiniProgramSession, WeChatError> {
        let query = [
            ("appid", self.app_id.as_str()),
            ("secret", self.app_secret.expose()),
            ("js_code", code.expose()),
            ("grant_type", "authorization_code"),
        ];
        let work = self.get(
            "/sns/jscode2session",
            &query,
            Failover::OnlyIfNeverSent,
            deadline,
        );
        let body = tokio::time::timeout_at(deadline, work)
            .await
            .unwrap_or(Err(WeChatError::Timeout))?;
        parse_session_reply(&body)
    }
}

fn parse_session_reply(body: &[u8]) -> Result<MiniProgramSession, WeChatError> {
    let fields = parse_object(body)?;
    Ok(MiniProgramSession {
        openid: identifier(&fields, "openid")?.ok_or_else(|| missing("openid"))?,
        unionid: identifier(&fields, "unionid")?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_reply_gives_openid_and_unionid_and_keeps_no_session_key() {
        let body =
            br#"{"openid":"oMINI_1","session_key":"tiihtNczf5v6AKRyjwEUhQ==","unionid":"uXYZ"}"#;
        let session = parse_session_reply(body).unwrap();
        assert_eq!(session.openid, "oMINI_1");
        assert_eq!(session.unionid.as_deref(), Some("uXYZ"));
        assert!(!format!("{session:?}").contains("tiihtNczf5v6AKRyjwEUhQ"));
        let session = parse_session_reply(br#"{"openid":"o2","session_key":"k"}"#).unwrap();
        assert_eq!(session.unionid, None);
    }

    #[test]
    fn errcodes_and_bad_replies_are_errors() {
        assert_eq!(
            parse_session_reply(br#"{"errcode":40226,"errmsg":"high risk user"}"#)
                .unwrap_err()
                .errcode(),
            Some(40226)
        );
        for body in [
            &b""[..],
            b"{}",
            b"{\"session_key\":\"k\"}",
            b"{\"openid\":\"o&x\"}",
            b"[]",
        ] {
            assert!(
                matches!(parse_session_reply(body), Err(WeChatError::Malformed(_))),
                "{}",
                String::from_utf8_lossy(body)
            );
        }
    }
}
