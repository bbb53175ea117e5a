//! The fields of a Mini Program's or a mobile app's `WECHAT_APPS` entry: whom its tokens
//! are for (`token_audience`) and, for a mobile app, the scope its OpenSDK `SendAuth` asks
//! for. These apps never send a browser back, so the browser kinds' fields
//! (`allowed_return_origins`, `response_modes`, `qr_app`) are refused on them, and theirs on
//! the browser kinds.

use serde_json::{Map, Value};

use super::AppKind;
use crate::scope::Scope;

/// The longest `token_audience`: a backend's URL or name, not a document.
pub const MAX_TOKEN_AUDIENCE_LEN: usize = 256;

/// The token's `scope` claim after a Mini Program's login: WeChat's `wx.login` has no scope,
/// and naming the exchange keeps the claim from passing for a web login's.
pub const MINI_PROGRAM_SCOPE: &str = "jscode2session";

/// What a code-login app's token says, besides the user.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CodeLogin {
    /// The token's `aud`: the backend that verifies it (default: the AppID).
    pub token_audience: String,
    /// A mobile app's `SendAuth` scope (`snsapi_userinfo` reads the profile); `None` for a
    /// Mini Program.
    pub scope: Option<Scope>,
}

impl CodeLogin {
    /// The token's `scope` claim.
    pub fn scope_claim(&self) -> &'static str {
        self.scope.map_or(MINI_PROGRAM_SCOPE, Scope::as_str)
    }

    /// Whether the login reads the profile (`/sns/userinfo`).
    pub fn reads_profile(&self) -> bool {
        self.scope.is_some_and(Scope::has_profile)
    }
}

/// The fields only the browser kinds have.
pub(super) const BROWSER_ONLY: [&str; 3] = ["allowed_return_origins", "response_modes", "qr_app"];
/// The fields only the code-login kinds have.
const CODE_ONLY: [&str; 2] = ["token_audience", "scope"];

/// A code-login app's own fields (`None` for a browser kind, whose entry must not have
/// them); every problem goes to `problem`.
pub(super) fn read(
    fields: &Map<String, Value>,
    kind: AppKind,
    app_id: Option<&str>,
    problem: &mut dyn FnMut(String),
) -> Option<CodeLogin> {
    if !kind.logs_in_with_code() {
        for field in CODE_ONLY.iter().filter(|f| fields.contains_key(**f)) {
            problem(format!(
                "{field} belongs on a miniprogram or mobile_app app (a {kind} app's logins go back through the browser)"
            ));
        }
        return None;
    }
    for field in BROWSER_ONLY.iter().filter(|f| fields.contains_key(**f)) {
        problem(format!(
            "{field} belongs on an official_account or website app (a {kind} app logs in with POST /login/code, never through a browser)"
        ));
    }
    let token_audience = match fields.get("token_audience") {
        None => app_id.map(str::to_owned),
        Some(Value::String(aud)) if valid_audience(aud) => Some(aud.clone()),
        Some(_) => {
            problem(format!(
                "token_audience must be 1-{MAX_TOKEN_AUDIENCE_LEN} printable ASCII characters without spaces (the backend that verifies the token)"
            ));
            None
        }
    };
    // `Err` for a refused scope: it was reported, and the entry is not read.
    let scope = match (kind, fields.get("scope")) {
        (AppKind::MiniProgram, None) => Ok(None),
        (AppKind::MiniProgram, Some(_)) => {
            problem(
                "scope belongs on a mobile_app app (a Mini Program's wx.login has none)".to_owned(),
            );
            Err(())
        }
        (_, None) => Ok(Some(Scope::UserInfo)),
        (_, Some(value)) => match value.as_str() {
            Some("snsapi_userinfo") => Ok(Some(Scope::UserInfo)),
            Some("snsapi_base") => Ok(Some(Scope::Base)),
            _ => {
                problem("scope must be snsapi_userinfo (what SendAuth asks for) or snsapi_base (the openid alone, no profile read)".to_owned());
                Err(())
            }
        },
    };
    Some(CodeLogin {
        token_audience: token_audience?,
        scope: scope.ok()?,
    })
}

/// A token audience: printable ASCII without spaces, at most [`MAX_TOKEN_AUDIENCE_LEN`].
pub fn valid_audience(aud: &str) -> bool {
    !aud.is_empty()
        && aud.len() <= MAX_TOKEN_AUDIENCE_LEN
        && aud.bytes().all(|b| b.is_ascii_graphic())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read_entry(kind: AppKind, json: &str) -> (Option<CodeLogin>, Vec<String>) {
        let fields: Map<String, Value> = serde_json::from_str(json).unwrap();
        let mut problems = Vec::new();
        let read = read(&fields, kind, Some("wx00000000000000cc"), &mut |p| {
            problems.push(p)
        });
        (read, problems)
    }

    #[test]
    fn the_audience_defaults_to_the_app_id_and_is_checked_at_its_limit() {
        let (read, problems) = read_entry(AppKind::MiniProgram, "{}");
        assert!(problems.is_empty(), "{problems:?}");
        let read = read.unwrap();
        assert_eq!(read.token_audience, "wx00000000000000cc");
        assert_eq!(read.scope_claim(), MINI_PROGRAM_SCOPE);
        assert!(!read.reads_profile());
        let longest = "a".repeat(MAX_TOKEN_AUDIENCE_LEN);
        let (read, problems) = read_entry(
            AppKind::MiniProgram,
            &format!(r#"{{"token_audience":"{longest}"}}"#),
        );
        assert!(problems.is_empty());
        assert_eq!(read.unwrap().token_audience, longest);
        for bad in [
            format!(r#"{{"token_audience":"{longest}a"}}"#),
            r#"{"token_audience":""}"#.to_owned(),
            r#"{"token_audience":"a b"}"#.to_owned(),
            r#"{"token_audience":"caf\u00e9"}"#.to_owned(),
            r#"{"token_audience":12}"#.to_owned(),
        ] {
            let (read, problems) = read_entry(AppKind::MobileApp, &bad);
            assert!(read.is_none(), "{bad}");
            assert_eq!(problems.len(), 1, "{bad}: {problems:?}");
            assert!(
                problems[0].starts_with("token_audience must be"),
                "{problems:?}"
            );
        }
    }

    #[test]
    fn a_mobile_app_reads_the_profile_unless_its_scope_is_base() {
        let (read, _) = read_entry(AppKind::MobileApp, "{}");
        let read = read.unwrap();
        assert_eq!(read.scope, Some(Scope::UserInfo));
        assert!(read.reads_profile());
        assert_eq!(read.scope_claim(), "snsapi_userinfo");
        let (read, _) = read_entry(AppKind::MobileApp, r#"{"scope":"snsapi_base"}"#);
        assert!(!read.unwrap().reads_profile());
        let (read, problems) = read_entry(AppKind::MobileApp, r#"{"scope":"snsapi_login"}"#);
        assert!(read.is_none());
        assert!(problems[0].starts_with("scope must be snsapi_userinfo"));
        let (_, problems) = read_entry(AppKind::MiniProgram, r#"{"scope":"snsapi_userinfo"}"#);
        assert!(problems[0].starts_with("scope belongs on a mobile_app"));
    }

    #[test]
    fn each_kind_refuses_the_others_fields() {
        let (_, problems) = read_entry(
            AppKind::MiniProgram,
            r#"{"allowed_return_origins":"https://a.example","response_modes":"query","qr_app":"web"}"#,
        );
        assert_eq!(problems.len(), 3, "{problems:?}");
        assert!(
            problems
                .iter()
                .all(|p| p.contains("belongs on an official_account or website app"))
        );
        let (read, problems) = read_entry(
            AppKind::OfficialAccount,
            r#"{"token_audience":"x","scope":"snsapi_base"}"#,
        );
        assert!(read.is_none());
        assert_eq!(problems.len(), 2, "{problems:?}");
        assert!(
            problems
                .iter()
                .all(|p| p.contains("belongs on a miniprogram or mobile_app app"))
        );
    }
}
