//! Reading `WECHAT_APPS`: a JSON array of apps, each checked on its own (the checks
//! between apps are [`super::WeChatApps::new`]'s).
//!
//! It is validated from a `serde_json::Value` by hand rather than by a derived
//! deserializer: every problem of every entry is reported at once, and no message can
//! quote a value (serde's "invalid type: integer `…`" would print a numeric AppSecret).

use serde_json::{Map, Value};

use super::{
    AppKind, MAX_APP_NAME_LEN, MAX_APPS, WeChatApp, app_secret, return_rules, valid_app_id,
    valid_name,
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
    /// Whether this process keeps AppSecrets (it serves the callbacks).
    pub with_secrets: bool,
    /// RESPONSE_MODES (or its default): the modes of an app that names none of its own.
    pub fallback_response_modes: ResponseModes,
    /// The value of a resolved `app_secret_ref`, by [`super::secret_variable`] name.
    pub resolved: &'a dyn Fn(&str) -> Option<String>,
}

const FIELDS: [&str; 8] = [
    "name",
    "kind",
    "app_id",
    "app_secret",
    "app_secret_ref",
    "allowed_return_origins",
    "response_modes",
    "qr_app",
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
    let secret = app_secret::read(fields, name.as_deref(), input, &mut problem);
    let fallback = return_rules::Fallback {
        origins: input.fallback_origins,
        origins_refused: input.fallback_refused,
        response_modes: input.fallback_response_modes,
    };
    let allowed_origins = return_rules::read_origins(fields, fallback, &mut problem);
    let qr_app = read_qr_app(fields, kind, &mut problem);
    let response_modes = return_rules::read_response_modes(fields, fallback, &mut problem);
    let needs_secret = input.with_secrets;
    match (name, kind, app_id, allowed_origins) {
        (Some(name), Some(kind), Some(app_id), Some(allowed_origins))
            if problems.is_empty() && (secret.is_some() || !needs_secret) =>
        {
            Ok(WeChatApp {
                name,
                kind,
                app_id,
                secret,
                allowed_origins,
                qr_app,
                response_modes,
            })
        }
        _ => Err(problems),
    }
}

fn read_kind(fields: &Map<String, Value>, problem: &mut dyn FnMut(String)) -> Option<AppKind> {
    match text(fields, "kind") {
        Some("official_account") => Some(AppKind::OfficialAccount),
        Some("website") => Some(AppKind::Website),
        _ => {
            problem("kind must be official_account or website".to_owned());
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
pub(super) mod tests {
    use super::*;
    use crate::apps::WeChatApps;

    fn origins() -> AllowedOrigins {
        AllowedOrigins::parse("https://app.example.com").unwrap()
    }

    fn parse(json: &str, with_secrets: bool) -> Result<Vec<WeChatApp>, Vec<String>> {
        let fallback = origins();
        let resolved = |name: &str| {
            (name == "WECHAT_APPS[web].app_secret").then(|| "resolved-web-secret".to_owned())
        };
        parse_apps(
            json,
            &AppsInput {
                fallback_origins: Some(&fallback),
                fallback_refused: false,
                fallback_response_modes: ResponseModes::default(),
                with_secrets,
                resolved: &resolved,
            },
        )
    }

    pub(in crate::apps) const TWO: &str = r#"[
        {"name":"mp","kind":"official_account","app_id":"wx00000000000000aa",
         "app_secret":"mp-s3cr3t","qr_app":"web"},
        {"name":"web","kind":"website","app_id":"wx00000000000000bb",
         "app_secret_ref":"ssm:/wxauth/web","allowed_return_origins":"https://www.example.com"}
    ]"#;

    #[test]
    fn apps_are_read_with_their_secrets_origins_and_pairing() {
        let apps = WeChatApps::new(parse(TWO, true).unwrap()).unwrap();
        assert_eq!(apps.len(), 2);
        let mp = apps.default_app();
        assert_eq!(mp.name, "mp");
        assert_eq!(mp.kind, AppKind::OfficialAccount);
        assert_eq!(mp.qr_app.as_deref(), Some("web"));
        assert_eq!(mp.secret.as_ref().unwrap().expose(), "mp-s3cr3t");
        assert!(
            mp.allowed_origins
                .allows(&url::Url::parse("https://app.example.com/x").unwrap())
        );
        let web = apps.get("web").unwrap();
        assert_eq!(web.kind, AppKind::Website);
        assert_eq!(web.secret.as_ref().unwrap().expose(), "resolved-web-secret");
        assert!(
            web.allowed_origins
                .allows(&url::Url::parse("https://www.example.com/").unwrap())
        );
        assert!(
            !web.allowed_origins
                .allows(&url::Url::parse("https://app.example.com/").unwrap())
        );
        assert!(!format!("{apps:?}").contains("s3cr3t"));
    }

    #[test]
    fn a_process_without_callbacks_keeps_no_secret_and_resolves_no_reference() {
        let apps = parse(TWO, false).unwrap();
        assert!(apps.iter().all(|a| a.secret.is_none()));
    }

    #[test]
    fn every_problem_of_every_entry_is_reported_without_values() {
        let json = r#"[
            {"name":"bad name","kind":"mp","app_id":"wx 1","app_secret":987654321},
            {"name":"web","kind":"website","app_id":"wx2","app_secret":"x","app_secret_ref":"ssm:/a","qr_app":"mp"},
            {"name":"ok","kind":"official_account","app_id":"wx3","app_secret_ref":"ssm:/ok","colour":"red","allowed_return_origins":"ftp://x"},
            "not an object"
        ]"#;
        let problems = parse(json, true).unwrap_err();
        let text = problems.join("\n");
        for expected in [
            "app #1: name must be",
            "app #1: kind must be official_account or website",
            "app #1: app_id must be",
            "app #1: app_secret must be printable ASCII",
            "app `web`: give app_secret or app_secret_ref, not both",
            "app `web`: qr_app belongs on an official_account app",
            "app `ok`: unknown field `colour`",
            "app `ok`: allowed_return_origins:",
            "app `ok`: app_secret_ref was not resolved",
            "app #4: must be a JSON object",
        ] {
            assert!(text.contains(expected), "missing {expected:?} in\n{text}");
        }
        assert!(!text.contains("987654321"), "{text}");
    }

    #[test]
    fn an_apps_wildcard_over_a_public_suffix_is_refused() {
        let app = |origins: &str| {
            format!(
                r#"[{{"name":"web","kind":"website","app_id":"wx00000000000000bb","app_secret":"x","allowed_return_origins":"{origins}"}}]"#
            )
        };
        let problems = parse(&app("https://*.github.io"), true).unwrap_err();
        assert_eq!(problems.len(), 1, "{problems:?}");
        assert!(
            problems[0].starts_with(
                "app `web`: allowed_return_origins: `https://*.github.io`: a wildcard over a public suffix"
            ),
            "{problems:?}"
        );
        assert!(parse(&app("https://*.me.github.io"), true).is_ok());
    }

    #[test]
    fn the_shape_and_size_are_checked() {
        assert!(parse("{", true).unwrap_err()[0].starts_with("is not valid JSON (line 1"));
        assert!(parse("{}", true).unwrap_err()[0].starts_with("must be a JSON array"));
        assert_eq!(
            parse("[]", true).unwrap_err(),
            ["must list at least one app"]
        );
        let entry = |i: usize| {
            format!(r#"{{"name":"a{i}","kind":"website","app_id":"wx{i}","app_secret":"s{i}"}}"#)
        };
        let list = |n: usize| format!("[{}]", (0..n).map(entry).collect::<Vec<_>>().join(","));
        assert_eq!(parse(&list(MAX_APPS), true).unwrap().len(), MAX_APPS);
        assert_eq!(
            parse(&list(MAX_APPS + 1), true).unwrap_err(),
            [format!("lists {} apps; at most {MAX_APPS}", MAX_APPS + 1)]
        );
    }
}

#[cfg(test)]
mod properties {
    use proptest::prelude::*;

    use super::*;
    use crate::apps::secret_refs;

    fn parse(json: &str) -> Result<Vec<WeChatApp>, Vec<String>> {
        let fallback = AllowedOrigins::parse("https://app.example.com").unwrap();
        parse_apps(
            json,
            &AppsInput {
                fallback_origins: Some(&fallback),
                fallback_refused: false,
                fallback_response_modes: ResponseModes::default(),
                with_secrets: true,
                resolved: &|_| None,
            },
        )
    }

    proptest! {
        /// Whatever an app's fields hold, the list is read or refused with messages that
        /// never quote the secret, wherever it was put.
        #[test]
        fn any_app_is_read_or_refused_without_echoing_its_secret(
            name in "\\PC{0,40}", kind in "\\PC{0,20}", app_id in "\\PC{0,70}",
            secret in "[!-~]{12,40}", qr in proptest::option::of("\\PC{0,40}"),
            secret_as_number in any::<bool>(),
        ) {
            let secret_value = if secret_as_number {
                serde_json::json!(secret.bytes().fold(0u64, |n, b| n.wrapping_mul(31).wrapping_add(u64::from(b))))
            } else {
                serde_json::json!(secret)
            };
            let mut entry = serde_json::json!({"name": name, "kind": kind, "app_id": app_id, "app_secret": secret_value});
            if let Some(qr) = qr {
                entry["qr_app"] = qr.into();
            }
            let json = serde_json::json!([entry]).to_string();
            match parse(&json) {
                Ok(apps) => {
                    prop_assert_eq!(apps.len(), 1);
                    prop_assert!(valid_name(&apps[0].name) && valid_app_id(&apps[0].app_id));
                    let shown = format!("{apps:?}");
                    prop_assert!(!shown.contains(&secret));
                }
                Err(problems) => {
                    let text = problems.join("\n");
                    prop_assert!(!text.contains(&secret), "{}", text);
                    if let serde_json::Value::Number(n) = &secret_value {
                        prop_assert!(!text.contains(&n.to_string()) || n.to_string().len() < 4, "{}", text);
                    }
                }
            }
        }

        #[test]
        fn arbitrary_text_never_panics(text in "\\PC{0,300}") {
            let _ = parse(&text);
            let _ = secret_refs(&text);
        }
    }
}
