//! A callback's whole conversation with WeChat in one call: the code traded for the user's
//! openid, and for a scope with a profile the profile too, under one deadline so the
//! callback answers in time whatever WeChat does.

use tokio::time::Instant;

use crate::scope::Scope;
use crate::secret::Secret;

use super::client::WeChatClient;
use super::error::WeChatError;
use super::reply::{AccessTokenReply, UserProfile};

/// The longest code sent to WeChat: its codes are short ASCII tokens.
pub const MAX_CODE_LEN: usize = 512;

/// What WeChat said about a user who signed in.
#[derive(Debug)]
pub struct SignedIn {
    pub reply: AccessTokenReply,
    /// Read only for a scope with a profile.
    pub profile: Option<UserProfile>,
}

impl SignedIn {
    /// The unionid, from the code exchange or else from the profile.
    pub fn unionid(&self) -> Option<&str> {
        self.reply
            .unionid
            .as_deref()
            .or(self.profile.as_ref().and_then(|p| p.unionid.as_deref()))
    }
}

impl WeChatClient {
    pub async fn sign_in(
        &self,
        scope: Scope,
        code: &str,
        deadline: Instant,
    ) -> Result<SignedIn, WeChatError> {
        // Anything else cannot be one of WeChat's codes, and sending it would only spend
        // quota.
        if code.is_empty()
            || code.len() > MAX_CODE_LEN
            || !code.bytes().all(|b| b.is_ascii_graphic())
        {
            return Err(WeChatError::MalformedCode);
        }
        let code = Secret::new(code);
        let work = async {
            let reply = self.exchange_code(&code, deadline).await?;
            let profile = match scope.has_profile() {
                false => None,
                true => Some(
                    self.user_info(&reply.access_token, &reply.openid, deadline)
                        .await?,
                ),
            };
            Ok(SignedIn { reply, profile })
        };
        tokio::time::timeout_at(deadline, work)
            .await
            .unwrap_or(Err(WeChatError::Timeout))
    }
}
