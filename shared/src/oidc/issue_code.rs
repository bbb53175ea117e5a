//! The OpenID Connect half of WeChat's callback: a login that `/oauth2/authorize` started
//! ends with a grant stored under a fresh code, and the code goes to the relying party
//! (or the error it is told instead, with its `state` and `iss`).

use tracing::warn;

use crate::base_url::BaseUrl;
use crate::config::Subject;
use crate::gateway::Gateway;
use crate::login::deadline::CallbackDeadline;
use crate::login::outcome::{AtWeChat, Outcome, ResultFields, fields, logged_failure};
use crate::login_state::{LoginState, OidcRequest};
use crate::scope::Scope;
use crate::wechat::{ErrorClass, SignedIn};

use super::error_redirect::error_fields;
use super::grant::{CODE_LIFETIME_SECONDS, Grant, GrantId};

/// What an OpenID Connect login sends back to its relying party, whatever WeChat said.
pub(crate) struct ProviderAnswer<'a> {
    pub gateway: &'a Gateway,
    pub deadline: &'a CallbackDeadline,
    pub login: &'a LoginState,
    pub oidc: &'a OidcRequest,
    pub issuer: &'a BaseUrl,
    pub now: i64,
}

impl ProviderAnswer<'_> {
    pub(crate) async fn answer(&self, at_wechat: AtWeChat) -> (ResultFields, Outcome) {
        match at_wechat {
            AtWeChat::Declined => (
                self.error("access_denied", "the user declined the authorization"),
                Outcome::Refused,
            ),
            AtWeChat::SignedIn(signed_in) => self.issue_code(signed_in).await,
            AtWeChat::Failed(err) => {
                let error = match err.class() {
                    ErrorClass::TemporarilyUnavailable => "temporarily_unavailable",
                    ErrorClass::InvalidGrant | ErrorClass::ServerError => "server_error",
                };
                let mut out = self.error(error, err.class().description());
                out.extend(logged_failure(&err));
                (out, Outcome::Failed(err))
            }
        }
    }

    fn error(&self, error: &str, description: &str) -> ResultFields {
        error_fields(error, description, self.oidc.state.as_deref(), self.issuer)
    }

    fn not_issued(
        &self,
        error: &str,
        description: &str,
        why: &'static str,
    ) -> (ResultFields, Outcome) {
        (self.error(error, description), Outcome::NotIssued(why))
    }

    /// A grant under a fresh code, and the code for the relying party (or why there is
    /// none).
    async fn issue_code(&self, signed_in: SignedIn) -> (ResultFields, Outcome) {
        let (login, oidc, now) = (self.login, self.oidc, self.now);
        // A snapshot page's visitor is virtual: its openid and profile are no person's,
        // and a relying party would make an account for nobody.
        if signed_in.reply.is_snapshot_user {
            return self.not_issued(
                "access_denied",
                "WeChat signed in a virtual visitor of a snapshot page (is_snapshotuser=1), not a real user; open the page in full and log in again",
                "snapshot_user",
            );
        }
        let unionid = signed_in.unionid().map(str::to_owned);
        let SignedIn { reply, profile } = signed_in;
        let profile = profile.unwrap_or_default();
        let sub = match (self.gateway.config().oidc.subject, &unionid) {
            (Subject::OpenId, _) => reply.openid.clone(),
            (Subject::UnionId, Some(unionid)) => unionid.clone(),
            (Subject::UnionId, None) => {
                return self.not_issued(
                    "access_denied",
                    "this provider identifies users by unionid, and WeChat gave none for this user (the app is not bound to an Open Platform account, or the user has not authorized one of its apps)",
                    "no_unionid",
                );
            }
        };
        // A QR login, or one that asked for the unionid, read the profile whatever the
        // relying party asked for: grant each part only when asked, by `profile` or by the
        // `claims` parameter (the grant's scope is what the scopes were granted).
        let claims = oidc.claims;
        let scope = match oidc.profile {
            true => login.scope,
            false => Scope::Base,
        };
        let name = profile.nickname.filter(|_| oidc.profile || claims.name());
        let picture = profile
            .headimgurl
            .filter(|_| oidc.profile || claims.picture());
        // The unionid ties the person across every app of the Open Platform account: the
        // relying party gets it only when it asked (`profile`, `unionid`, `claims`) or it
        // is `sub`.
        let subject_is_unionid = self.gateway.config().oidc.subject == Subject::UnionId;
        let unionid = unionid.filter(|_| {
            scope.has_profile() || oidc.unionid || claims.unionid() || subject_is_unionid
        });
        let grant = Grant {
            client_id: oidc.client_id.clone(),
            redirect_uri: oidc.redirect_uri.clone(),
            code_challenge: oidc.code_challenge.clone(),
            nonce: login.nonce.clone(),
            scope,
            auth_time: now,
            sub,
            openid: reply.openid.clone(),
            unionid,
            unionid_scope: oidc.unionid,
            name,
            picture,
            claims,
            code_expires_at: now + CODE_LIFETIME_SECONDS,
        };
        let (code, id) = GrantId::generate();
        let stored = self
            .deadline
            .store(self.gateway.store().put_grant(&id, &grant))
            .await;
        match stored {
            Ok(()) => {
                let mut out = fields(&[("code", code.as_str())]);
                if let Some(state) = &oidc.state {
                    out.push(("state".to_owned(), state.clone()));
                }
                out.push(("iss".to_owned(), self.issuer.as_str().to_owned()));
                let openid = reply.openid;
                (out, Outcome::SignedIn { openid })
            }
            Err(err) => {
                warn!(error = %err, "could not store an authorization code");
                let why = if err.is_transient() {
                    "unavailable"
                } else {
                    "server_error"
                };
                self.not_issued(err.oauth_error(), err.description(), why)
            }
        }
    }
}
