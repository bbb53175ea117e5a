//! The code's exchange with WeChat, by the kind of app: a Mini Program's at
//! `/sns/jscode2session`, a mobile app's at `/sns/oauth2/access_token` (and `/sns/userinfo`
//! when its scope reads the profile), with the app's own AppID and AppSecret, under one
//! deadline.

use tokio::time::Instant;

use crate::apps::{AppKind, WeChatApp};
use crate::scope::Scope;
use crate::secret::Secret;
use crate::wechat::{UserProfile, WeChatClient, WeChatError};

/// Who WeChat says logged in.
#[derive(Debug)]
pub(super) struct CodeSignedIn {
    pub openid: String,
    pub unionid: Option<String>,
    /// A mobile app with `snsapi_userinfo` only.
    pub profile: Option<UserProfile>,
}

pub(super) async fn exchange(
    client: &WeChatClient,
    app: &WeChatApp,
    code: &Secret,
    deadline: Instant,
) -> Result<CodeSignedIn, WeChatError> {
    match app.kind {
        AppKind::MiniProgram => {
            let session = client.code_to_session(code, deadline).await?;
            Ok(CodeSignedIn {
                openid: session.openid,
                unionid: session.unionid,
                profile: None,
            })
        }
        _ => {
            let reads_profile = app.code_login.as_ref().is_some_and(|c| c.reads_profile());
            let scope = if reads_profile {
                Scope::UserInfo
            } else {
                Scope::Base
            };
            let signed_in = client.sign_in(scope, code.expose(), deadline).await?;
            Ok(CodeSignedIn {
                unionid: signed_in.unionid().map(str::to_owned),
                openid: signed_in.reply.openid,
                profile: signed_in.profile,
            })
        }
    }
}
