//! `GET /getOpenId` and `GET /getWxUserInfo`: consume the state, trade the code with WeChat,
//! and send the user back to the return URL with the result (or the reason it failed).

use tracing::warn;

use crate::base_url::BaseUrl;
use crate::error::{RequestError, StateProblem};
use crate::gateway::Gateway;
use crate::login_state::{LoginState, StateId, now_epoch_seconds};
use crate::query::parse_query;
use crate::result_url::result_url;
use crate::scope::Scope;
use crate::secret::Secret;
use crate::token::{ResultClaims, TOKEN_LIFETIME_SECONDS, sign};
use crate::wechat::{AccessTokenReply, UserProfile, WeChatError};

/// How a callback with a valid state ended; the user is redirected in every case.
#[derive(Debug)]
pub enum Outcome {
    SignedIn,
    Refused,
    Failed(WeChatError),
}

pub struct FinishedLogin {
    pub location: String,
    pub outcome: Outcome,
}

pub async fn finish_login(
    gateway: &Gateway,
    scope: Scope,
    raw_query: Option<&str>,
    base_url: &BaseUrl,
) -> Result<FinishedLogin, RequestError> {
    let params = parse_query(raw_query, &["code", "state"])?;
    let state = params.get("state").ok_or(RequestError::Missing("state"))?;
    let state = StateId::parse(state).ok_or(StateProblem::Malformed)?;
    let login = gateway
        .store()
        .take(&state)
        .await?
        .ok_or(StateProblem::UnknownOrUsed)?;
    let now = now_epoch_seconds();
    if login.is_expired(now) {
        return Err(StateProblem::Expired.into());
    }
    if login.scope != scope {
        return Err(StateProblem::WrongRoute.into());
    }

    let Some(code) = params.get("code") else {
        let location = redirect_with(
            &login,
            &[
                ("error", "access_denied"),
                ("error_description", "the user declined the authorization"),
            ],
        );
        return Ok(FinishedLogin {
            location,
            outcome: Outcome::Refused,
        });
    };

    match sign_in(gateway, scope, code).await {
        Ok((reply, profile)) => {
            let location = success_location(gateway, &login, base_url, now, &reply, profile);
            Ok(FinishedLogin {
                location,
                outcome: Outcome::SignedIn,
            })
        }
        Err(err) => {
            let class = err.class();
            let errcode = err.errcode().map(|c| c.to_string());
            let mut fields = vec![
                ("error", class.as_str()),
                ("error_description", class.description()),
            ];
            if let Some(errcode) = &errcode {
                fields.push(("wx_errcode", errcode));
            }
            warn!(error = %err, class = class.as_str(), "WeChat sign-in failed");
            Ok(FinishedLogin {
                location: redirect_with(&login, &fields),
                outcome: Outcome::Failed(err),
            })
        }
    }
}

/// The WeChat half of a callback, under one deadline so the callback answers in time
/// whatever WeChat does.
async fn sign_in(
    gateway: &Gateway,
    scope: Scope,
    code: &str,
) -> Result<(AccessTokenReply, Option<UserProfile>), WeChatError> {
    // WeChat's codes are short ASCII tokens; anything else cannot be one, and sending it
    // would only spend quota.
    if code.is_empty() || code.len() > 512 || !code.bytes().all(|b| b.is_ascii_graphic()) {
        return Err(WeChatError::MalformedCode);
    }
    let code = Secret::new(code);
    let wechat = gateway.wechat();
    let work = async {
        let reply = wechat.exchange_code(&code).await?;
        let profile = match scope {
            Scope::Base => None,
            Scope::UserInfo => Some(wechat.user_info(&reply.access_token, &reply.openid).await?),
        };
        Ok((reply, profile))
    };
    tokio::time::timeout(gateway.config().wechat_timeout, work)
        .await
        .unwrap_or(Err(WeChatError::Timeout))
}

fn success_location(
    gateway: &Gateway,
    login: &LoginState,
    base_url: &BaseUrl,
    now: i64,
    reply: &AccessTokenReply,
    profile: Option<UserProfile>,
) -> String {
    let profile = profile.unwrap_or_default();
    let unionid = reply.unionid.clone().or(profile.unionid);
    let claims = ResultClaims {
        iss: base_url.as_str().to_owned(),
        aud: login.return_url.origin(),
        sub: reply.openid.clone(),
        iat: now,
        exp: now + TOKEN_LIFETIME_SECONDS,
        scope: login.scope.as_str().to_owned(),
        unionid: unionid.clone(),
        nickname: profile.nickname.clone(),
        headimgurl: profile.headimgurl.clone(),
        is_snapshotuser: reply.is_snapshot_user.then_some(1),
    };
    let token = sign(&claims, &gateway.config().signing_key);
    let sex = profile.sex.map(|s| s.to_string());
    let optional = [
        ("unionid", unionid.as_deref()),
        ("is_snapshotuser", reply.is_snapshot_user.then_some("1")),
        ("nickname", profile.nickname.as_deref()),
        ("sex", sex.as_deref()),
        ("province", profile.province.as_deref()),
        ("city", profile.city.as_deref()),
        ("country", profile.country.as_deref()),
        ("headimgurl", profile.headimgurl.as_deref()),
    ];
    let mut fields = vec![("openid", reply.openid.as_str())];
    fields.extend(
        optional
            .iter()
            .filter_map(|(name, value)| value.map(|v| (*name, v))),
    );
    fields.push(("token", &token));
    redirect_with(login, &fields)
}

fn redirect_with(login: &LoginState, fields: &[(&str, &str)]) -> String {
    result_url(&login.return_url, login.response_mode, fields)
}
