//! Reading `POST /login/code`: a form (`application/x-www-form-urlencoded`) or a JSON
//! object with `code` (required), `app`, `nonce` and `phone_code`, and the app it names (or
//! the only Mini Program or mobile app). Anything wrong is refused before WeChat is asked,
//! a phone code for a mobile app among it (only Mini Programs have the phone button).

use serde_json::Value;

use crate::apps::{AppKind, WeChatApp, WeChatApps};
use crate::login::begin::is_nonce;
use crate::query::{QueryError, is_form, parse_query};
use crate::secret::Secret;
use crate::wechat::MAX_CODE_LEN;

/// Larger bodies are refused unread: a code, an app name, a nonce and a phone code fit in
/// well under a kilobyte.
pub const MAX_BODY_BYTES: usize = 4096;

const FIELDS: [&str; 4] = ["code", "app", "nonce", "phone_code"];

/// A request that may go to WeChat.
#[derive(Debug)]
pub(super) struct CodeRequest<'a> {
    pub app: &'a WeChatApp,
    /// Never logged.
    pub code: Secret,
    pub nonce: Option<String>,
    /// A Mini Program's phone code (`getPhoneNumber`); never logged.
    pub phone_code: Option<Secret>,
}

/// Why a request is refused with `400 invalid_request`: the description the client gets.
pub(super) type Refusal = String;

/// The request's fields, checked, and its app.
pub(super) fn read<'a>(
    apps: &'a WeChatApps,
    content_type: Option<&str>,
    body: &[u8],
) -> Result<CodeRequest<'a>, Refusal> {
    if body.len() > MAX_BODY_BYTES {
        return Err(format!("the body is longer than {MAX_BODY_BYTES} bytes"));
    }
    let body = std::str::from_utf8(body).map_err(|_| "the body is not UTF-8".to_owned())?;
    let mut fields = if is_form(content_type) {
        parse_query(Some(body), &FIELDS).map_err(|err| match err {
            QueryError::TooLong => format!("the body is longer than {MAX_BODY_BYTES} bytes"),
            other => other.to_string(),
        })?
    } else if is_json(content_type) {
        json_fields(body)?
    } else {
        return Err(
            "the body must be application/x-www-form-urlencoded or application/json".into(),
        );
    };
    let code = fields
        .remove("code")
        .ok_or_else(|| "the `code` parameter is required".to_owned())?;
    if !is_code(&code) {
        return Err(format!(
            "code must be the client SDK's code: 1 to {MAX_CODE_LEN} printable ASCII characters"
        ));
    }
    let phone_code = fields.remove("phone_code");
    if phone_code.as_deref().is_some_and(|c| !is_code(c)) {
        return Err(format!(
            "phone_code must be getPhoneNumber's code: 1 to {MAX_CODE_LEN} printable ASCII characters"
        ));
    }
    let nonce = fields.remove("nonce");
    if nonce.as_deref().is_some_and(|n| !is_nonce(n)) {
        return Err("nonce must be 1 to 256 printable ASCII characters".into());
    }
    let app = match fields.get("app") {
        Some(name) => apps
            .get(name)
            .ok_or("app is not one of the WeChat apps this gateway is configured with")?,
        None => apps.only_code_app().ok_or(
            "app is required: this gateway has no single miniprogram or mobile_app app to default to",
        )?,
    };
    if !app.kind.logs_in_with_code() {
        return Err(format!(
            "app is a WeChat {} app, which logs in through /auth; /login/code takes a miniprogram or mobile_app app",
            app.kind
        ));
    }
    if phone_code.is_some() && app.kind != AppKind::MiniProgram {
        return Err(format!(
            "phone_code is for Mini Programs; app is a WeChat {} app",
            app.kind
        ));
    }
    Ok(CodeRequest {
        app,
        code: Secret::new(code),
        nonce,
        phone_code: phone_code.map(Secret::new),
    })
}

/// What a client SDK's code looks like, a login's or a phone number's.
fn is_code(code: &str) -> bool {
    !code.is_empty() && code.len() <= MAX_CODE_LEN && code.bytes().all(|b| b.is_ascii_graphic())
}

fn is_json(content_type: Option<&str>) -> bool {
    content_type
        .and_then(|t| t.split(';').next())
        .is_some_and(|t| t.trim().eq_ignore_ascii_case("application/json"))
}

/// The known fields of a JSON object, each a string; other fields are ignored, as in a form.
fn json_fields(body: &str) -> Result<std::collections::HashMap<&'static str, String>, Refusal> {
    let Ok(Value::Object(object)) = serde_json::from_str::<Value>(body) else {
        return Err("the body must be a JSON object".into());
    };
    let mut fields = std::collections::HashMap::new();
    for name in FIELDS {
        match object.get(name) {
            None => {}
            Some(Value::String(value)) => {
                fields.insert(name, value.clone());
            }
            Some(_) => return Err(format!("`{name}` must be a string")),
        }
    }
    Ok(fields)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::allowed_origins::AllowedOrigins;
    use crate::apps::{AppKind, CodeLogin};
    use crate::response_modes::ResponseModes;

    const FORM: Option<&str> = Some("application/x-www-form-urlencoded");
    const JSON: Option<&str> = Some("application/json; charset=utf-8");

    fn app(name: &str, kind: AppKind) -> WeChatApp {
        WeChatApp {
            name: name.into(),
            kind,
            app_id: format!("wx-{name}"),
            secret: None,
            allowed_origins: AllowedOrigins::none(),
            qr_app: None,
            response_modes: ResponseModes::default(),
            code_login: kind.logs_in_with_code().then(|| CodeLogin {
                token_audience: format!("wx-{name}"),
                scope: None,
            }),
        }
    }

    fn apps(kinds: &[(&str, AppKind)]) -> WeChatApps {
        WeChatApps::new(kinds.iter().map(|(n, k)| app(n, *k)).collect()).unwrap()
    }

    fn one_mini() -> WeChatApps {
        apps(&[
            ("mp", AppKind::OfficialAccount),
            ("mini", AppKind::MiniProgram),
        ])
    }

    fn refusal(apps: &WeChatApps, content_type: Option<&str>, body: &str) -> String {
        read(apps, content_type, body.as_bytes()).unwrap_err()
    }

    #[test]
    fn a_form_or_a_json_object_names_the_code_and_the_only_code_app_is_the_default() {
        let apps = one_mini();
        let read_form = read(&apps, FORM, b"code=0a1B&nonce=n%201").unwrap();
        assert_eq!(read_form.app.name, "mini");
        assert_eq!(read_form.code.expose(), "0a1B");
        assert_eq!(read_form.nonce.as_deref(), Some("n 1"));
        let read_json = read(&apps, JSON, br#"{"code":"0a1B","app":"mini","extra":1}"#).unwrap();
        assert_eq!(read_json.app.name, "mini");
        assert_eq!(read_json.nonce, None);
        assert!(
            !format!("{read_json:?}").contains("0a1B"),
            "the code is never shown"
        );
    }

    #[test]
    fn the_code_is_checked_at_its_limit() {
        let apps = one_mini();
        let longest = "c".repeat(MAX_CODE_LEN);
        assert_eq!(
            read(&apps, FORM, format!("code={longest}").as_bytes())
                .unwrap()
                .code
                .expose(),
            longest
        );
        for body in [
            format!("code={longest}c"),
            "code=".to_owned(),
            "code=a%20b".to_owned(),
            "code=%E4%BD%A0".to_owned(),
            "nonce=x".to_owned(),
        ] {
            let refused = refusal(&apps, FORM, &body);
            assert!(refused.contains("code"), "{body}: {refused}");
        }
    }

    #[test]
    fn the_body_is_checked_at_its_limit() {
        let apps = one_mini();
        let at_limit = format!("code=abc&pad={}", "x".repeat(MAX_BODY_BYTES - 13));
        assert_eq!(at_limit.len(), MAX_BODY_BYTES);
        assert!(read(&apps, FORM, at_limit.as_bytes()).is_ok());
        let over = format!("{at_limit}x");
        assert_eq!(
            refusal(&apps, FORM, &over),
            format!("the body is longer than {MAX_BODY_BYTES} bytes")
        );
    }

    #[test]
    fn every_other_mistake_is_refused_before_wechat() {
        let apps = one_mini();
        for (content_type, body, expected) in [
            (
                None,
                "code=a",
                "must be application/x-www-form-urlencoded or application/json",
            ),
            (
                Some("text/plain"),
                "code=a",
                "must be application/x-www-form-urlencoded",
            ),
            (JSON, "[\"code\"]", "must be a JSON object"),
            (JSON, "{\"code\":12}", "`code` must be a string"),
            (
                JSON,
                "{\"code\":\"a\",\"nonce\":null}",
                "`nonce` must be a string",
            ),
            (FORM, "code=a&code=b", "appears more than once"),
            (FORM, "code=%zz", "percent-encoding"),
            (FORM, "code=a&app=nope", "app is not one of the WeChat apps"),
            (
                FORM,
                "code=a&app=mp",
                "app is a WeChat official_account app",
            ),
            (
                FORM,
                "code=a&phone_code=p%20q",
                "phone_code must be getPhoneNumber's code",
            ),
            (FORM, "code=a&phone_code=", "phone_code must be"),
            (
                JSON,
                "{\"code\":\"a\",\"phone_code\":7}",
                "`phone_code` must be a string",
            ),
        ] {
            let refused = refusal(&apps, content_type, body);
            assert!(refused.contains(expected), "{body}: {refused}");
        }
        let longest_nonce = "n".repeat(256);
        assert!(
            read(
                &apps,
                FORM,
                format!("code=a&nonce={longest_nonce}").as_bytes()
            )
            .is_ok()
        );
        assert!(
            refusal(&apps, FORM, &format!("code=a&nonce={longest_nonce}n")).starts_with("nonce")
        );
        assert!(read(&apps, FORM, b"code=a\xff").is_err());
    }

    #[test]
    fn a_phone_code_is_checked_at_its_limit_and_only_for_mini_programs() {
        let apps = apps(&[("mini", AppKind::MiniProgram), ("ios", AppKind::MobileApp)]);
        let longest = "p".repeat(MAX_CODE_LEN);
        let read_one = read(
            &apps,
            FORM,
            format!("code=a&app=mini&phone_code={longest}").as_bytes(),
        )
        .unwrap();
        assert_eq!(
            read_one.phone_code.as_ref().map(Secret::expose),
            Some(&*longest)
        );
        assert!(!format!("{read_one:?}").contains(&longest));
        assert!(
            read(&apps, FORM, b"code=a&app=mini")
                .unwrap()
                .phone_code
                .is_none()
        );
        let over = refusal(
            &apps,
            FORM,
            &format!("code=a&app=mini&phone_code={longest}p"),
        );
        assert!(over.starts_with("phone_code must be"), "{over}");
        let mobile = refusal(&apps, FORM, "code=a&app=ios&phone_code=p");
        assert_eq!(
            mobile,
            "phone_code is for Mini Programs; app is a WeChat mobile_app app"
        );
    }

    #[test]
    fn with_several_code_apps_the_request_must_name_one() {
        let apps = apps(&[("mini", AppKind::MiniProgram), ("ios", AppKind::MobileApp)]);
        assert!(refusal(&apps, FORM, "code=a").starts_with("app is required"));
        assert_eq!(
            read(&apps, FORM, b"code=a&app=ios").unwrap().app.name,
            "ios"
        );
        let none = self::apps(&[("mp", AppKind::OfficialAccount)]);
        assert!(refusal(&none, FORM, "code=a").starts_with("app is required"));
    }
}
