//! The `claims` request parameter (OpenID Connect Core §5.5): which of the claims this
//! provider can release a relying party asks for in the ID token and at userinfo.
//!
//! Only what changes an answer is kept (whether `name`, `picture` or `unionid` is asked
//! for, per target), so the login and grant items stay small whatever the request held:
//! the stored form is at most a few dozen bytes. `sub`, `openid` and the ID token's
//! protocol claims are always given; claims this provider does not know are ignored, as
//! §5.5 allows. `essential` and `value`/`values` are checked for their shape only: WeChat
//! decides a nickname, so a requested value cannot be honoured beyond asking for it.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

/// Longer `claims` parameters are refused before parsing: every claim this provider knows,
/// requested with `essential` in both members, fits in a fraction of it.
pub const MAX_CLAIMS_PARAMETER_BYTES: usize = 2048;

/// The releasable claims asked for in one member (`id_token` or `userinfo`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClaimSet {
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub name: bool,
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub picture: bool,
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub unionid: bool,
}

impl ClaimSet {
    pub fn is_empty(&self) -> bool {
        *self == Self::default()
    }

    fn insert(&mut self, claim: &str) {
        match claim {
            "name" => self.name = true,
            "picture" => self.picture = true,
            "unionid" => self.unionid = true,
            _ => {}
        }
    }
}

/// What a `claims` parameter asked for, as stored with the login and its grant.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RequestedClaims {
    #[serde(default, skip_serializing_if = "ClaimSet::is_empty")]
    pub id_token: ClaimSet,
    #[serde(default, skip_serializing_if = "ClaimSet::is_empty")]
    pub userinfo: ClaimSet,
}

impl RequestedClaims {
    pub fn is_empty(&self) -> bool {
        self.id_token.is_empty() && self.userinfo.is_empty()
    }

    /// Whether `name` is asked for anywhere: then WeChat must be asked for the profile.
    pub fn name(&self) -> bool {
        self.id_token.name || self.userinfo.name
    }

    pub fn picture(&self) -> bool {
        self.id_token.picture || self.userinfo.picture
    }

    pub fn unionid(&self) -> bool {
        self.id_token.unionid || self.userinfo.unionid
    }
}

/// Why a `claims` parameter is refused (`invalid_request`).
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum ClaimsError {
    #[error("the claims parameter is longer than {MAX_CLAIMS_PARAMETER_BYTES} bytes")]
    TooLong,
    #[error("the claims parameter is not valid JSON")]
    NotJson,
    #[error("{0}")]
    Shape(&'static str),
}

/// Reads a `claims` parameter's JSON (OpenID Connect Core §5.5).
pub fn parse(text: &str) -> Result<RequestedClaims, ClaimsError> {
    if text.len() > MAX_CLAIMS_PARAMETER_BYTES {
        return Err(ClaimsError::TooLong);
    }
    // serde_json stops at 128 levels of nesting, so no input can exhaust the stack.
    let value: Value = serde_json::from_str(text).map_err(|_| ClaimsError::NotJson)?;
    let Value::Object(top) = value else {
        return Err(ClaimsError::Shape(
            "the claims parameter must be a JSON object",
        ));
    };
    Ok(RequestedClaims {
        id_token: member(&top, "id_token")?,
        userinfo: member(&top, "userinfo")?,
    })
}

fn member(top: &Map<String, Value>, name: &str) -> Result<ClaimSet, ClaimsError> {
    let mut set = ClaimSet::default();
    match top.get(name) {
        None | Some(Value::Null) => {}
        Some(Value::Object(claims)) => {
            for (claim, request) in claims {
                check_request(request)?;
                set.insert(claim);
            }
        }
        Some(_) => {
            return Err(ClaimsError::Shape(
                "the claims parameter's id_token and userinfo must be JSON objects",
            ));
        }
    }
    Ok(set)
}

/// One claim's request: `null` (asked for, voluntary) or an object whose `essential` is a
/// boolean and whose `values` is an array (§5.5.1).
fn check_request(request: &Value) -> Result<(), ClaimsError> {
    match request {
        Value::Null => Ok(()),
        Value::Object(fields) => {
            if fields.get("essential").is_some_and(|e| !e.is_boolean()) {
                return Err(ClaimsError::Shape(
                    "the claims parameter's essential must be true or false",
                ));
            }
            if fields.get("values").is_some_and(|v| !v.is_array()) {
                return Err(ClaimsError::Shape(
                    "the claims parameter's values must be arrays",
                ));
            }
            Ok(())
        }
        _ => Err(ClaimsError::Shape(
            "the claims parameter must ask for each claim with null or a JSON object",
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_what_each_member_asks_for() {
        let claims = parse(
            r#"{"id_token":{"name":{"essential":true},"auth_time":{"essential":true},"acr":{"values":["x"]}},
                "userinfo":{"picture":null,"unionid":{"essential":false},"email":null},
                "other":[1,2]}"#,
        )
        .unwrap();
        assert_eq!(
            claims.id_token,
            ClaimSet {
                name: true,
                ..ClaimSet::default()
            }
        );
        assert_eq!(
            claims.userinfo,
            ClaimSet {
                picture: true,
                unionid: true,
                ..ClaimSet::default()
            }
        );
        assert!(claims.name() && claims.picture() && claims.unionid());
        assert!(parse("{}").unwrap().is_empty());
        assert!(
            parse(r#"{"id_token":null,"userinfo":{}}"#)
                .unwrap()
                .is_empty()
        );
        let value = parse(r#"{"userinfo":{"name":{"value":"小明"}}}"#).unwrap();
        assert!(value.userinfo.name && !value.id_token.name);
    }

    #[test]
    fn refuses_malformed_requests() {
        for (text, error) in [
            ("", ClaimsError::NotJson),
            ("{", ClaimsError::NotJson),
            (r#"{"id_token":{"name":null}"#, ClaimsError::NotJson),
            ("{'id_token':{}}", ClaimsError::NotJson),
        ] {
            assert_eq!(parse(text), Err(error), "{text}");
        }
        for text in [
            "[]",
            "null",
            r#""id_token""#,
            r#"{"id_token":[]}"#,
            r#"{"userinfo":"name"}"#,
            r#"{"id_token":{"name":true}}"#,
            r#"{"id_token":{"name":{"essential":"true"}}}"#,
            r#"{"userinfo":{"name":{"values":"a"}}}"#,
        ] {
            assert!(
                matches!(parse(text), Err(ClaimsError::Shape(_))),
                "{text}: {:?}",
                parse(text)
            );
        }
    }

    #[test]
    fn the_length_is_capped_exactly() {
        let padded = |len: usize| {
            let head = r#"{"id_token":{"name":null},"x":""#;
            let tail = r#""}"#;
            format!("{head}{}{tail}", "a".repeat(len - head.len() - tail.len()))
        };
        let at_limit = padded(MAX_CLAIMS_PARAMETER_BYTES);
        assert_eq!(at_limit.len(), MAX_CLAIMS_PARAMETER_BYTES);
        assert!(parse(&at_limit).unwrap().id_token.name);
        assert_eq!(
            parse(&padded(MAX_CLAIMS_PARAMETER_BYTES + 1)),
            Err(ClaimsError::TooLong)
        );
        // Nesting deeper than serde_json's limit is refused, not a stack overflow.
        let deep = format!("{}{}", "[".repeat(1000), "]".repeat(1000));
        assert_eq!(parse(&deep), Err(ClaimsError::NotJson));
    }

    #[test]
    fn the_stored_form_is_small_and_round_trips() {
        let all = ClaimSet {
            name: true,
            picture: true,
            unionid: true,
        };
        let claims = RequestedClaims {
            id_token: all,
            userinfo: all,
        };
        let json = serde_json::to_string(&claims).unwrap();
        assert!(json.len() < 128, "{json}");
        assert_eq!(
            serde_json::from_str::<RequestedClaims>(&json).unwrap(),
            claims
        );
        assert_eq!(
            serde_json::to_string(&RequestedClaims::default()).unwrap(),
            "{}"
        );
    }

    mod properties {
        use proptest::prelude::*;
        use serde_json::Value;

        use super::super::*;

        fn json() -> impl Strategy<Value = Value> {
            let leaf = prop_oneof![
                Just(Value::Null),
                any::<bool>().prop_map(Value::Bool),
                any::<i64>().prop_map(Value::from),
                prop_oneof![
                    Just("name".to_owned()),
                    Just("essential".to_owned()),
                    Just("values".to_owned()),
                    Just("id_token".to_owned()),
                    Just("userinfo".to_owned()),
                    any::<String>(),
                ]
                .prop_map(Value::String),
            ];
            leaf.prop_recursive(6, 64, 6, |inner| {
                let key = prop_oneof![
                    Just("id_token".to_owned()),
                    Just("userinfo".to_owned()),
                    Just("name".to_owned()),
                    Just("picture".to_owned()),
                    Just("unionid".to_owned()),
                    Just("essential".to_owned()),
                    Just("values".to_owned()),
                    Just("value".to_owned()),
                    "\\PC{0,8}",
                ];
                prop_oneof![
                    prop::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
                    prop::collection::btree_map(key, inner, 0..6)
                        .prop_map(|m| Value::Object(m.into_iter().collect())),
                ]
            })
        }

        proptest! {
            #![proptest_config(ProptestConfig::with_cases(2_000))]

            /// Any JSON is read or refused, never a panic; what is read asks only for
            /// claims the JSON named in that member.
            #[test]
            fn any_json_is_read_or_refused(value in json()) {
                let text = value.to_string();
                if let Ok(claims) = parse(&text) {
                    prop_assert!(text.len() <= MAX_CLAIMS_PARAMETER_BYTES);
                    for (member, set) in [("id_token", claims.id_token), ("userinfo", claims.userinfo)] {
                        let named = |claim: &str| value[member].get(claim).is_some();
                        prop_assert_eq!(set.name, named("name"));
                        prop_assert_eq!(set.picture, named("picture"));
                        prop_assert_eq!(set.unionid, named("unionid"));
                    }
                }
            }

            /// Any text at all is read or refused, never a panic.
            #[test]
            fn any_text_is_read_or_refused(text in "\\PC{0,300}") {
                let _ = parse(&text);
            }
        }
    }
}
