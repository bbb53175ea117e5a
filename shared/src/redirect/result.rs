//! The redirect mode's answer at the end of a login: the openid, the profile and a signed
//! result token for the return URL, or the OAuth error the front end is told instead.

use crate::base_url::BaseUrl;
use crate::config::Config;
use crate::login::outcome::{AtWeChat, Outcome, ResultFields, fields, logged_failure};
use crate::login_state::LoginState;
use crate::result_token::sign_result;
use crate::token::{ResultClaims, TOKEN_LIFETIME_SECONDS, new_token_id};
use crate::wechat::{SignedIn, WeChatError};

/// What a redirect-mode login sends back, whatever WeChat said.
pub(crate) struct RedirectAnswer<'a> {
    pub config: &'a Config,
    pub login: &'a LoginState,
    pub app_id: &'a str,
    pub issuer: &'a BaseUrl,
    pub now: i64,
}

impl RedirectAnswer<'_> {
    pub(crate) fn answer(&self, at_wechat: AtWeChat) -> (ResultFields, Outcome) {
        match at_wechat {
            AtWeChat::Declined => (
                fields(&[
                    ("error", "access_denied"),
                    ("error_description", "the user declined the authorization"),
                ]),
                Outcome::Refused,
            ),
            AtWeChat::SignedIn(signed_in) => {
                let openid = signed_in.reply.openid.clone();
                (self.success(signed_in), Outcome::SignedIn { openid })
            }
            AtWeChat::Failed(err) => (failure_fields(&err), Outcome::Failed(err)),
        }
    }

    fn success(&self, signed_in: SignedIn) -> ResultFields {
        let (login, now) = (self.login, self.now);
        let unionid = signed_in.unionid().map(str::to_owned);
        let SignedIn { reply, profile } = signed_in;
        let profile = profile.unwrap_or_default();
        let claims = ResultClaims {
            iss: self.issuer.as_str().to_owned(),
            aud: login.return_url.origin(),
            sub: reply.openid.clone(),
            iat: now,
            exp: now + TOKEN_LIFETIME_SECONDS,
            jti: new_token_id(),
            scope: login.scope.as_str().to_owned(),
            appid: self.app_id.to_owned(),
            unionid: unionid.clone(),
            nickname: profile.nickname.clone(),
            headimgurl: profile.headimgurl.clone(),
            is_snapshotuser: reply.is_snapshot_user.then_some(1),
            nonce: login.nonce.clone(),
            phone_number: None,
            phone_number_verified: None,
        };
        let token = sign_result(self.config, &claims);
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
        let mut out = fields(&[("openid", reply.openid.as_str())]);
        out.extend(
            optional
                .iter()
                .filter_map(|(name, value)| value.map(|v| (name.to_string(), v.to_owned()))),
        );
        out.push(("token".to_owned(), token));
        out
    }
}

/// The error a front end is told when WeChat would not sign the user in.
fn failure_fields(err: &WeChatError) -> ResultFields {
    let class = err.class();
    let mut out = fields(&[
        ("error", class.as_str()),
        ("error_description", class.description()),
    ]);
    out.extend(logged_failure(err));
    out
}
