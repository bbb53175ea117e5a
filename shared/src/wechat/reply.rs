//! WeChat's JSON replies, read leniently where WeChat is inconsistent (numbers sent as
//! strings, empty strings for absent values, extra fields) and strictly where a wrong value
//! would end up in a redirect or a token (identifiers).

use serde_json::{Map, Value};

use super::error::WeChatError;
use crate::secret::Secret;

/// The result of exchanging a code (`/sns/oauth2/access_token`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccessTokenReply {
    pub access_token: Secret,
    pub openid: String,
    pub scope: Option<String>,
    pub unionid: Option<String>,
    /// WeChat's flag for a virtual visitor of a snapshot page.
    pub is_snapshot_user: bool,
}

/// A profile from `/sns/userinfo`. Empty strings from WeChat are `None`.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct UserProfile {
    pub openid: String,
    pub nickname: Option<String>,
    /// 0 unknown, 1 male, 2 female.
    pub sex: Option<u8>,
    pub province: Option<String>,
    pub city: Option<String>,
    pub country: Option<String>,
    pub headimgurl: Option<String>,
    pub unionid: Option<String>,
}

pub fn parse_access_token_reply(body: &[u8]) -> Result<AccessTokenReply, WeChatError> {
    let fields = parse_object(body)?;
    let access_token = text(&fields, "access_token")
        .filter(|t| t.len() <= 2048 && t.bytes().all(|b| b.is_ascii_graphic()))
        .ok_or_else(|| missing("access_token"))?;
    Ok(AccessTokenReply {
        access_token: Secret::new(access_token),
        openid: identifier(&fields, "openid")?.ok_or_else(|| missing("openid"))?,
        scope: text(&fields, "scope"),
        unionid: identifier(&fields, "unionid")?,
        is_snapshot_user: integer(&fields, "is_snapshotuser") == Some(1),
    })
}

pub fn parse_user_profile(body: &[u8]) -> Result<UserProfile, WeChatError> {
    let fields = parse_object(body)?;
    Ok(UserProfile {
        openid: identifier(&fields, "openid")?.ok_or_else(|| missing("openid"))?,
        nickname: text(&fields, "nickname"),
        sex: integer(&fields, "sex").and_then(|s| u8::try_from(s).ok()),
        province: text(&fields, "province"),
        city: text(&fields, "city"),
        country: text(&fields, "country"),
        headimgurl: text(&fields, "headimgurl"),
        unionid: identifier(&fields, "unionid")?,
    })
}

/// The reply as a JSON object, or WeChat's error if it carries a non-zero `errcode`.
pub(super) fn parse_object(body: &[u8]) -> Result<Map<String, Value>, WeChatError> {
    let value: Value = serde_json::from_slice(body)
        .map_err(|e| WeChatError::Malformed(format!("not JSON ({e})")))?;
    let Value::Object(fields) = value else {
        return Err(WeChatError::Malformed("not a JSON object".into()));
    };
    match fields.get("errcode") {
        None => {}
        Some(code) => match lenient_integer(code) {
            Some(0) => {}
            Some(errcode) => {
                let errmsg = text(&fields, "errmsg").unwrap_or_default();
                return Err(WeChatError::Api { errcode, errmsg });
            }
            None => return Err(WeChatError::Malformed("errcode is not a number".into())),
        },
    }
    Ok(fields)
}

pub(super) fn missing(name: &str) -> WeChatError {
    WeChatError::Malformed(format!("{name} is missing or invalid"))
}

/// A non-empty string field; numbers are accepted as their decimal text.
pub(super) fn text(fields: &Map<String, Value>, name: &str) -> Option<String> {
    match fields.get(name)? {
        Value::String(s) if !s.is_empty() => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

/// An id WeChat issues (openid, unionid): absent is fine, anything but `[A-Za-z0-9_-]{1,128}`
/// is not, because it goes into URLs and tokens.
pub(super) fn identifier(
    fields: &Map<String, Value>,
    name: &str,
) -> Result<Option<String>, WeChatError> {
    match fields.get(name) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) if s.is_empty() => Ok(None),
        Some(Value::String(s))
            if s.len() <= 128
                && s.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-') =>
        {
            Ok(Some(s.clone()))
        }
        Some(_) => Err(missing(name)),
    }
}

pub(super) fn integer(fields: &Map<String, Value>, name: &str) -> Option<i64> {
    fields.get(name).and_then(lenient_integer)
}

fn lenient_integer(value: &Value) -> Option<i64> {
    match value {
        Value::Number(n) => n.as_i64(),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_a_full_exchange_reply() {
        let body = br#"{"access_token":"ACCESS","expires_in":7200,"refresh_token":"R","openid":"oABC_def-123","scope":"snsapi_userinfo","is_snapshotuser":1,"unionid":"uXYZ","something_new":{"a":1}}"#;
        let reply = parse_access_token_reply(body).unwrap();
        assert_eq!(reply.access_token.expose(), "ACCESS");
        assert_eq!(reply.openid, "oABC_def-123");
        assert_eq!(reply.scope.as_deref(), Some("snsapi_userinfo"));
        assert_eq!(reply.unionid.as_deref(), Some("uXYZ"));
        assert!(reply.is_snapshot_user);
    }

    #[test]
    fn absent_optional_fields_stay_absent() {
        let reply = parse_access_token_reply(br#"{"access_token":"A","openid":"o1","unionid":""}"#)
            .unwrap();
        assert_eq!(reply.unionid, None);
        assert!(!reply.is_snapshot_user);
        let reply = parse_access_token_reply(
            br#"{"access_token":"A","openid":"o1","is_snapshotuser":"1"}"#,
        )
        .unwrap();
        assert!(reply.is_snapshot_user);
    }

    #[test]
    fn errcode_replies_become_api_errors() {
        assert_eq!(
            parse_access_token_reply(br#"{"errcode":40163,"errmsg":"code been used, rid: 1"}"#),
            Err(WeChatError::Api {
                errcode: 40163,
                errmsg: "code been used, rid: 1".into()
            })
        );
        assert_eq!(
            parse_user_profile(br#"{"errcode":"-1","errmsg":"system error"}"#)
                .unwrap_err()
                .errcode(),
            Some(-1)
        );
        // errcode 0 is WeChat's "ok".
        assert!(
            parse_access_token_reply(br#"{"errcode":0,"access_token":"A","openid":"o"}"#).is_ok()
        );
    }

    #[test]
    fn malformed_replies_are_errors_not_panics() {
        for body in [
            &b""[..],
            b"<html>502 Bad Gateway</html>",
            b"{\"access_token\":\"A\",\"openid\":",
            b"[]",
            b"null",
            b"{\"access_token\":\"A\"}",
            b"{\"openid\":\"o1\"}",
            b"{\"access_token\":\"A\",\"openid\":\"o1&openid=victim\"}",
            b"{\"access_token\":\"A\",\"openid\":12}",
            b"{\"access_token\":\"A B\",\"openid\":\"o1\"}",
            b"{\"errcode\":\"busy\"}",
            b"\xff\xfe",
        ] {
            assert!(
                matches!(
                    parse_access_token_reply(body),
                    Err(WeChatError::Malformed(_))
                ),
                "{}",
                String::from_utf8_lossy(body)
            );
        }
    }

    #[test]
    fn profile_numbers_may_come_as_strings() {
        let p = parse_user_profile(
            r#"{"openid":"o1","nickname":"小明 & co","sex":"1","province":"广东","city":"","country":"中国","headimgurl":"","privilege":["x"]}"#
                .as_bytes(),
        )
        .unwrap();
        assert_eq!(p.sex, Some(1));
        assert_eq!(p.nickname.as_deref(), Some("小明 & co"));
        assert_eq!(p.city, None);
        assert_eq!(p.headimgurl, None);
        assert_eq!(p.country.as_deref(), Some("中国"));
        let p = parse_user_profile(br#"{"openid":"o1","sex":2}"#).unwrap();
        assert_eq!(p.sex, Some(2));
        let p = parse_user_profile(br#"{"openid":"o1","sex":"x"}"#).unwrap();
        assert_eq!(p.sex, None);
    }

    mod properties {
        use proptest::prelude::*;
        use serde_json::json;

        use super::*;

        fn wechat_id() -> impl Strategy<Value = String> {
            "[A-Za-z0-9_-]{1,128}"
        }

        proptest! {
            #![proptest_config(ProptestConfig::with_cases(2_000))]

            #[test]
            fn any_bytes_are_a_reply_or_an_error_never_a_panic(body in prop::collection::vec(any::<u8>(), 0..512)) {
                let _ = parse_access_token_reply(&body);
                let _ = parse_user_profile(&body);
            }

            #[test]
            fn any_json_value_is_a_reply_or_an_error_never_a_panic(value in arbitrary_json()) {
                let body = value.to_string();
                let _ = parse_access_token_reply(body.as_bytes());
                let _ = parse_user_profile(body.as_bytes());
            }

            /// Whatever else the reply holds, a non-zero errcode (a number or its text) is
            /// WeChat's error, with its errmsg.
            #[test]
            fn a_nonzero_errcode_is_always_the_error(
                errcode in any::<i64>().prop_filter("non-zero", |c| *c != 0),
                as_text in any::<bool>(),
                errmsg in ".{0,40}",
                openid in wechat_id(),
            ) {
                let code = if as_text { json!(errcode.to_string()) } else { json!(errcode) };
                let body = json!({"errcode": code, "errmsg": errmsg, "access_token": "A", "openid": openid}).to_string();
                let expected = || WeChatError::Api { errcode, errmsg: errmsg.clone() };
                prop_assert_eq!(parse_access_token_reply(body.as_bytes()), Err(expected()));
                prop_assert_eq!(parse_user_profile(body.as_bytes()), Err(expected()));
            }

            /// Identifiers are taken exactly when they are WeChat's alphabet and length, and
            /// anything else is refused rather than passed on into a URL or a token.
            #[test]
            fn identifiers_round_trip_or_are_refused(openid in ".{0,140}", unionid in wechat_id()) {
                let body = json!({"access_token": "ACCESS", "openid": openid, "unionid": unionid}).to_string();
                let valid = !openid.is_empty()
                    && openid.len() <= 128
                    && openid.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-');
                match parse_access_token_reply(body.as_bytes()) {
                    Ok(reply) => {
                        prop_assert!(valid, "{openid:?} was taken");
                        prop_assert_eq!(reply.openid, openid);
                        prop_assert_eq!(reply.unionid, Some(unionid));
                    }
                    Err(e) => {
                        prop_assert!(!valid, "{openid:?} was refused: {e}");
                        prop_assert!(matches!(e, WeChatError::Malformed(_)));
                    }
                }
            }
        }

        fn arbitrary_json() -> impl Strategy<Value = serde_json::Value> {
            let leaf = prop_oneof![
                Just(serde_json::Value::Null),
                any::<bool>().prop_map(serde_json::Value::from),
                any::<i64>().prop_map(serde_json::Value::from),
                any::<f64>().prop_map(serde_json::Value::from),
                ".{0,20}".prop_map(serde_json::Value::from),
            ];
            let keys = prop_oneof![
                Just("errcode".to_owned()),
                Just("errmsg".to_owned()),
                Just("access_token".to_owned()),
                Just("openid".to_owned()),
                Just("unionid".to_owned()),
                Just("sex".to_owned()),
                Just("is_snapshotuser".to_owned()),
                Just("nickname".to_owned()),
                ".{0,8}",
            ];
            leaf.prop_recursive(3, 32, 6, move |inner| {
                prop_oneof![
                    prop::collection::vec(inner.clone(), 0..6).prop_map(serde_json::Value::from),
                    prop::collection::btree_map(keys.clone(), inner, 0..8)
                        .prop_map(|m| serde_json::Value::Object(m.into_iter().collect())),
                ]
            })
        }
    }
}
