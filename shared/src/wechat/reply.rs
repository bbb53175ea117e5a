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
fn parse_object(body: &[u8]) -> Result<Map<String, Value>, WeChatError> {
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

fn missing(name: &str) -> WeChatError {
    WeChatError::Malformed(format!("{name} is missing or invalid"))
}

/// A non-empty string field; numbers are accepted as their decimal text.
fn text(fields: &Map<String, Value>, name: &str) -> Option<String> {
    match fields.get(name)? {
        Value::String(s) if !s.is_empty() => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

/// An id WeChat issues (openid, unionid): absent is fine, anything but `[A-Za-z0-9_-]{1,128}`
/// is not, because it goes into URLs and tokens.
fn identifier(fields: &Map<String, Value>, name: &str) -> Result<Option<String>, WeChatError> {
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

fn integer(fields: &Map<String, Value>, name: &str) -> Option<i64> {
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
}
