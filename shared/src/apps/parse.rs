//! Reading `WECHAT_APPS`: a JSON array of apps, each checked on its own (the checks
//! between apps are [`super::WeChatApps::new`]'s).
//!
//! It is validated from a `serde_json::Value` by hand rather than by a derived
//! deserializer: every problem of every entry is reported at once, and no message can
//! quote a value (serde's "invalid type: integer `…`" would print a numeric AppSecret).

use serde_json::{Map, Value};

use super::{
    AppKind, MAX_APP_NAME_LEN, MAX_APPS, WeChatApp, app_secret, code_rules, return_rules,
    valid_app_id, valid_name,
};
use crate::allowed_origins::AllowedOrigins;
use crate::response_modes::ResponseModes;

/// How `WECHAT_APPS` is read in one process.
pub struct AppsInput<'a> {
    /// ALLOWED_RETURN_ORIGINS: the origins of an app that names none of its own.
    pub fallback_origins: Option<&'a AllowedOrigins>,
    /// ALLOWED_RETURN_ORIGINS was set but refused (its problem is reported already, so an
    /// app relying on it is not reported again).
    pub fallback_refused: bool,
    /// Whether this process keeps the AppSecrets of apps of a kind (`config::Serves`): the
    /// callbacks those of the browser apps, the code login those of the others.
    pub keeps_secret: &'a dyn Fn(AppKind) -> bool,
    /// RESPONSE_MODES (or its default): the modes of an app that names none of its own.
    pub fallback_response_modes: ResponseModes,
    /// The value of a resolved `app_secret_ref`, by [`super::secret_variable`] name.
    pub resolved: &'a dyn Fn(&str) -> Option<String>,
}

const FIELDS: [&str; 10] = [
    "name",
    "kind",
    "app_id",
    "app_secret",
    "app_secret_ref",
    "allowed_return_origins",
    "response_modes",
    "qr_app",
    "token_audience",
    "scope",
];

/// The apps of a `WECHAT_APPS` value: a JSON array of objects. Cross-app rules are left to
/// [`WeChatApps::new`].
pub fn parse_apps(json: &str, input: &AppsInput<'_>) -> Result<Vec<WeChatApp>, Vec<String>> {
    let value: Value = serde_json::from_str(json).map_err(|e| {
        vec![format!(
            "is not valid JSON (line {}, column {})",
            e.line(),
            e.column()
        )]
    })?;
    let Value::Array(entries) = value else {
        return Err(vec![
            "must be a JSON array of apps, as [{\"name\":\"mp\",\"kind\":\"official_account\",\"app_id\":\"wx…\",\"app_secret_ref\":\"ssm:/wxauth/mp\"}]".to_owned(),
        ]);
    };
    if entries.is_empty() {
        return Err(vec!["must list at least one app".to_owned()]);
    }
    if entries.len() > MAX_APPS {
        return Err(vec![format!(
            "lists {} apps; at most {MAX_APPS}",
            entries.len()
        )]);
    }
    let mut apps = Vec::new();
    let mut problems = Vec::new();
    let mut failed = false;
    for (index, entry) in entries.iter().enumerate() {
        match parse_entry(index, entry, input) {
            Ok(app) => apps.push(app),
            Err(mut found) => {
                failed = true;
                problems.append(&mut found);
            }
        }
    }
    if !failed { Ok(apps) } else { Err(problems) }
}

fn parse_entry(
    index: usize,
    entry: &Value,
    input: &AppsInput<'_>,
) -> Result<WeChatApp, Vec<String>> {
    let Value::Object(fields) = entry else {
        return Err(vec![format!("app #{}: must be a JSON object", index + 1)]);
    };
    let mut problems = Vec::new();
    let name = match fields.get("name").and_then(Value::as_str) {
        Some(name) if valid_name(name) => Some(name.to_owned()),
        _ => {
            problems.push(format!(
                "app #{}: name must be 1-{MAX_APP_NAME_LEN} of A-Z a-z 0-9 _ -",
                index + 1
            ));
            None
        }
    };
    let label = match &name {
        Some(name) => format!("app `{name}`"),
        None => format!("app #{}", index + 1),
    };
    let mut problem = |text: String| problems.push(format!("{label}: {text}"));
    for key in fields.keys().filter(|k| !FIELDS.contains(&k.as_str())) {
        problem(format!(
            "unknown field `{}` (known: {})",
            printable(key),
            FIELDS.join(", ")
        ));
    }
    let kind = read_kind(fields, &mut problem);
    let app_id = read_app_id(fields, &mut problem);
    let keeps_secret = kind.is_some_and(input.keeps_secret);
    let secret = app_secret::read(fields, name.as_deref(), keeps_secret, input, &mut problem);
    let fallback = return_rules::Fallback {
        origins: input.fallback_origins,
        origins_refused: input.fallback_refused,
        response_modes: input.fallback_response_modes,
    };
    let code_kind = kind.is_some_and(AppKind::logs_in_with_code);
    let code_login =
        kind.and_then(|kind| code_rules::read(fields, kind, app_id.as_deref(), &mut problem));
    // A code-login app never sends a browser back: it has no return URL to allow, and its
    // browser-only fields were refused above.
    let (allowed_origins, qr_app, response_modes) = if code_kind {
        (Some(AllowedOrigins::none()), None, fallback.response_modes)
    } else {
        (
            return_rules::read_origins(fields, fallback, &mut problem),
            read_qr_app(fields, kind, &mut problem),
            return_rules::read_response_modes(fields, fallback, &mut problem),
        )
    };
    match (name, kind, app_id, allowed_origins) {
        (Some(name), Some(kind), Some(app_id), Some(allowed_origins))
            if problems.is_empty()
                && (secret.is_some() || !keeps_secret)
                && (code_login.is_some() || !code_kind) =>
        {
            Ok(WeChatApp {
                name,
                kind,
                app_id,
                secret,
                allowed_origins,
                qr_app,
                response_modes,
                code_login,
            })
        }
        _ => Err(problems),
    }
}

fn read_kind(fields: &Map<String, Value>, problem: &mut dyn FnMut(String)) -> Option<AppKind> {
    match text(fields, "kind").and_then(AppKind::parse) {
        Some(kind) => Some(kind),
        None => {
            problem("kind must be official_account, website, miniprogram or mobile_app".to_owned());
            None
        }
    }
}

fn read_app_id(fields: &Map<String, Value>, problem: &mut dyn FnMut(String)) -> Option<String> {
    match text(fields, "app_id") {
        Some(id) if valid_app_id(id) => Some(id.to_owned()),
        _ => {
            problem(
                "app_id must be the app's AppID (letters and digits, as wx0123456789abcdef)"
                    .to_owned(),
            );
            None
        }
    }
}

fn read_qr_app(
    fields: &Map<String, Value>,
    kind: Option<AppKind>,
    problem: &mut dyn FnMut(String),
) -> Option<String> {
    match (fields.get("qr_app"), kind) {
        (None, _) => None,
        (Some(_), Some(AppKind::Website)) => {
            problem("qr_app belongs on an official_account app (the app visitors outside WeChat use instead)".to_owned());
            None
        }
        (Some(Value::String(qr)), _) if valid_name(qr) => Some(qr.clone()),
        (Some(_), _) => {
            problem("qr_app must name a website app of WECHAT_APPS".to_owned());
            None
        }
    }
}

fn text<'a>(fields: &'a Map<String, Value>, key: &str) -> Option<&'a str> {
    fields.get(key).and_then(Value::as_str)
}

/// A key from the configuration, cut and made printable for an error message.
fn printable(key: &str) -> String {
    key.chars()
        .take(40)
        .map(|c| if c.is_control() { '?' } else { c })
        .collect()
}

#[cfg(test)]
pub(super) mod tests;
