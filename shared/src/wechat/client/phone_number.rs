//! A Mini Program user's verified phone number (`POST /wxa/business/getuserphonenumber`):
//! the phone code from `<button open-type="getPhoneNumber">` (single use, five minutes),
//! traded with the app's access token. The number is read as E.164 out of its parts, and
//! the reply's watermark must name this app.

use serde_json::Value;
use tokio::time::Instant;

use super::WeChatClient;
use super::failover::Failover;
use crate::secret::Secret;
use crate::wechat::error::WeChatError;
use crate::wechat::reply::{missing, parse_object};

/// E.164 allows at most 15 digits, country code included.
const MAX_E164_DIGITS: usize = 15;

impl WeChatClient {
    /// The phone number for `phone_code`, in E.164 (`+8613800138000`). A phone code works
    /// once, so the call fails over only when it never left.
    pub async fn phone_number(
        &self,
        access_token: &Secret,
        phone_code: &Secret,
        deadline: Instant,
    ) -> Result<String, WeChatError> {
        let body = serde_json::json!({ "code": phone_code.expose() }).to_string();
        let query = [("access_token", access_token.expose())];
        let work = self.post_json(
            "/wxa/business/getuserphonenumber",
            &query,
            &body,
            Failover::OnlyIfNeverSent,
            deadline,
        );
        let reply = tokio::time::timeout_at(deadline, work)
            .await
            .unwrap_or(Err(WeChatError::Timeout))?;
        parse_phone_reply(&reply, &self.app_id)
    }
}

fn parse_phone_reply(body: &[u8], app_id: &str) -> Result<String, WeChatError> {
    let fields = parse_object(body)?;
    let info = fields
        .get("phone_info")
        .and_then(Value::as_object)
        .ok_or_else(|| missing("phone_info"))?;
    let watermark_app = info
        .get("watermark")
        .and_then(|w| w.get("appid"))
        .and_then(Value::as_str);
    if watermark_app != Some(app_id) {
        return Err(WeChatError::Malformed(
            "the phone number's watermark is not this app's".into(),
        ));
    }
    let digits = |name: &str| {
        info.get(name)
            .and_then(Value::as_str)
            .filter(|d| !d.is_empty() && d.bytes().all(|b| b.is_ascii_digit()))
            .ok_or_else(|| missing(name))
    };
    let country = digits("countryCode")?;
    let national = digits("purePhoneNumber")?;
    if country.len() > 3 || country.starts_with('0') {
        return Err(missing("countryCode"));
    }
    if country.len() + national.len() > MAX_E164_DIGITS {
        return Err(WeChatError::Malformed(format!(
            "the phone number has more than {MAX_E164_DIGITS} digits"
        )));
    }
    Ok(format!("+{country}{national}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    const APP: &str = "wx00000000000000cc";

    fn reply(country: &str, pure: &str, appid: &str) -> String {
        serde_json::json!({"errcode": 0, "errmsg": "ok", "phone_info": {
            "phoneNumber": pure, "purePhoneNumber": pure, "countryCode": country,
            "watermark": {"timestamp": 1_700_000_000, "appid": appid}}})
        .to_string()
    }

    #[test]
    fn the_number_is_e164_from_its_parts() {
        let body = reply("86", "13800138000", APP);
        assert_eq!(
            parse_phone_reply(body.as_bytes(), APP).unwrap(),
            "+8613800138000"
        );
        // 15 digits in all is E.164's limit; 16 is one past it.
        let longest = reply("852", &"9".repeat(12), APP);
        assert_eq!(
            parse_phone_reply(longest.as_bytes(), APP).unwrap(),
            format!("+852{}", "9".repeat(12))
        );
        let over = reply("852", &"9".repeat(13), APP);
        assert!(matches!(
            parse_phone_reply(over.as_bytes(), APP),
            Err(WeChatError::Malformed(_))
        ));
    }

    #[test]
    fn a_number_that_is_not_digits_or_not_this_apps_is_refused() {
        for body in [
            reply("86", "1380013800a", APP),
            reply("+86", "13800138000", APP),
            reply("086", "13800138000", APP),
            reply("8612", "13800138000", APP),
            reply("86", "", APP),
            reply("", "13800138000", APP),
            reply("86", "138 0013 8000", APP),
            reply("86", "13800138000", "wx_another_app"),
            r#"{"errcode":0,"phone_info":{"purePhoneNumber":"1","countryCode":"86"}}"#.into(),
            r#"{"errcode":0}"#.into(),
        ] {
            assert!(
                matches!(
                    parse_phone_reply(body.as_bytes(), APP),
                    Err(WeChatError::Malformed(_))
                ),
                "{body}"
            );
        }
        assert_eq!(
            parse_phone_reply(br#"{"errcode":40029,"errmsg":"invalid code"}"#, APP)
                .unwrap_err()
                .errcode(),
            Some(40029)
        );
    }
}
