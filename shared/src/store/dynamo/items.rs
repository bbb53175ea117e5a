//! How a [`LoginState`] and a [`Grant`] become items of the table and back, and what a
//! login item says about its consumption. An item that does not read back is
//! [`StoreError::Corrupt`], never a panic.

use std::collections::HashMap;

use aws_sdk_dynamodb::types::AttributeValue;

use super::attr;
use crate::login_state::{Consumed, LoginState, StateId};
use crate::oidc::grant::{Grant, GrantId};
use crate::return_url::ReturnUrl;
use crate::scope::{ResponseMode, Scope};
use crate::store::StoreError;

pub(super) type Item = HashMap<String, AttributeValue>;

pub(super) fn to_item(login: &LoginState) -> Item {
    let mut item = HashMap::from([
        (attr::STATE.to_owned(), s(login.state.as_str())),
        (attr::SCOPE.to_owned(), s(login.scope.as_str())),
        (attr::APP.to_owned(), s(&login.app)),
        (attr::RETURN_URL.to_owned(), s(login.return_url.as_str())),
        (
            attr::RESPONSE_MODE.to_owned(),
            s(login.response_mode.as_str()),
        ),
        (attr::EXPIRES_AT.to_owned(), n(login.expires_at)),
    ]);
    if let Some(binding) = &login.browser_binding {
        item.insert(attr::BROWSER_BINDING.to_owned(), s(binding));
    }
    if let Some(nonce) = &login.nonce {
        item.insert(attr::NONCE.to_owned(), s(nonce));
    }
    if let Some(oidc) = &login.oidc {
        let json = serde_json::to_string(oidc).expect("the request serializes");
        item.insert(attr::OIDC.to_owned(), s(&json));
    }
    item
}

pub(super) fn from_item(item: &Item) -> Result<LoginState, StoreError> {
    let text = |name: &str| {
        item.get(name)
            .and_then(|v| v.as_s().ok())
            .ok_or_else(|| StoreError::Corrupt(format!("missing string attribute {name}")))
    };
    let corrupt = |what: &str| StoreError::Corrupt(what.to_owned());
    // After consumption `expires_at` is the replay window; the login's own expiry moved.
    let expires_at = match item.get(attr::LOGIN_EXPIRES_AT) {
        Some(v) => number(Some(v), attr::LOGIN_EXPIRES_AT)?,
        None => number(item.get(attr::EXPIRES_AT), attr::EXPIRES_AT)?,
    };
    Ok(LoginState {
        state: StateId::parse(text(attr::STATE)?).ok_or_else(|| corrupt("bad state"))?,
        app: match item.get(attr::APP) {
            None => crate::apps::DEFAULT_APP.to_owned(),
            Some(v) => v.as_s().map_err(|_| corrupt("bad app"))?.clone(),
        },
        scope: Scope::parse(text(attr::SCOPE)?).ok_or_else(|| corrupt("bad scope"))?,
        return_url: ReturnUrl::from_stored(text(attr::RETURN_URL)?)
            .map_err(|e| StoreError::Corrupt(format!("bad return_url: {e}")))?,
        response_mode: ResponseMode::parse(text(attr::RESPONSE_MODE)?)
            .ok_or_else(|| corrupt("bad response_mode"))?,
        expires_at,
        browser_binding: item
            .get(attr::BROWSER_BINDING)
            .map(|v| v.as_s().cloned())
            .transpose()
            .map_err(|_| corrupt("bad browser_binding"))?,
        nonce: item
            .get(attr::NONCE)
            .map(|v| v.as_s().cloned())
            .transpose()
            .map_err(|_| corrupt("bad nonce"))?,
        oidc: item
            .get(attr::OIDC)
            .map(|v| {
                v.as_s()
                    .ok()
                    .and_then(|json| serde_json::from_str(json).ok())
                    .ok_or_else(|| corrupt("bad oidc"))
            })
            .transpose()?,
    })
}

/// A login item as it is: `Fresh` while not consumed, `Used` after.
pub(super) fn read_item(item: &Item) -> Result<Consumed, StoreError> {
    let login = from_item(item)?;
    match item.get(attr::CONSUMED_AT) {
        None => Ok(Consumed::Fresh(login)),
        Some(consumed_at) => Ok(Consumed::Used {
            login,
            consumed_at: number(Some(consumed_at), attr::CONSUMED_AT)?,
            outcome: item
                .get(attr::OUTCOME)
                .and_then(|v| v.as_b().ok())
                .map(|b| b.as_ref().to_vec()),
        }),
    }
}

/// A grant's item: the grant as JSON, and copies of what the redemption's condition
/// compares.
pub(super) fn grant_to_item(id: &GrantId, grant: &Grant) -> Item {
    let json = serde_json::to_string(grant).expect("a grant serializes");
    let mut item = HashMap::from([
        (attr::STATE.to_owned(), grant_key(id)),
        (attr::GRANT.to_owned(), s(&json)),
        (attr::CLIENT_ID.to_owned(), s(&grant.client_id)),
        (attr::REDIRECT_URI.to_owned(), s(&grant.redirect_uri)),
        (attr::CODE_EXPIRES_AT.to_owned(), n(grant.code_expires_at)),
        (attr::EXPIRES_AT.to_owned(), n(grant.code_expires_at)),
    ]);
    if let Some(challenge) = &grant.code_challenge {
        item.insert(attr::CODE_CHALLENGE.to_owned(), s(challenge));
    }
    item
}

pub(super) fn grant_key(id: &GrantId) -> AttributeValue {
    s(&format!("{}{}", attr::GRANT_KEY_PREFIX, id.as_str()))
}

pub(super) fn grant_from_item(item: &Item) -> Result<Grant, StoreError> {
    item.get(attr::GRANT)
        .and_then(|v| v.as_s().ok())
        .and_then(|json| serde_json::from_str(json).ok())
        .ok_or_else(|| StoreError::Corrupt("missing or unreadable grant".into()))
}

pub(super) fn s(value: &str) -> AttributeValue {
    AttributeValue::S(value.to_owned())
}

pub(super) fn n(value: i64) -> AttributeValue {
    AttributeValue::N(value.to_string())
}

pub(super) fn number(value: Option<&AttributeValue>, name: &str) -> Result<i64, StoreError> {
    value
        .and_then(|v| v.as_n().ok())
        .and_then(|n| n.parse::<i64>().ok())
        .ok_or_else(|| StoreError::Corrupt(format!("missing or non-integer {name}")))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::allowed_origins::AllowedOrigins;

    #[test]
    fn items_round_trip() {
        let origins = AllowedOrigins::parse("https://a.example.com").unwrap();
        let login = LoginState {
            state: StateId::generate(),
            app: "web-2".into(),
            scope: Scope::Login,
            return_url: ReturnUrl::parse("https://a.example.com/x?y=1#/z", &origins).unwrap(),
            response_mode: ResponseMode::Fragment,
            expires_at: 1_900_000_000,
            browser_binding: Some("ab".repeat(32)),
            nonce: Some("n-0S6_WzA2Mj".into()),
            oidc: Some(crate::login_state::OidcRequest {
                client_id: "rp".into(),
                redirect_uri: "https://a.example.com/x?y=1".into(),
                state: Some("af0ifjsldkj".into()),
                code_challenge: Some("E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM".into()),
                profile: true,
                unionid: true,
                claims: Default::default(),
            }),
        };
        assert_eq!(from_item(&to_item(&login)).unwrap(), login);
        let plain = LoginState {
            nonce: None,
            oidc: None,
            ..login
        };
        assert_eq!(from_item(&to_item(&plain)).unwrap(), plain);
        // Stored before there were several apps: the default app's.
        let mut old = to_item(&plain);
        old.remove(attr::APP);
        assert_eq!(from_item(&old).unwrap().app, crate::apps::DEFAULT_APP);
        old.insert(attr::APP.to_owned(), n(1));
        assert!(matches!(from_item(&old), Err(StoreError::Corrupt(_))));
    }

    #[test]
    fn foreign_items_are_corrupt_not_panics() {
        let mut item = to_item(&LoginState {
            state: StateId::generate(),
            app: "default".into(),
            scope: Scope::Base,
            return_url: ReturnUrl::from_stored("https://a.example.com/").unwrap(),
            response_mode: ResponseMode::Query,
            expires_at: 1,
            browser_binding: None,
            nonce: None,
            oidc: None,
        });
        item.insert(attr::EXPIRES_AT.into(), AttributeValue::S("soon".into()));
        assert!(matches!(from_item(&item), Err(StoreError::Corrupt(_))));
        item.remove(attr::EXPIRES_AT);
        assert!(matches!(from_item(&item), Err(StoreError::Corrupt(_))));
    }
}
