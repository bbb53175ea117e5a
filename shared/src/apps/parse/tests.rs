//! `WECHAT_APPS` read entry by entry: every kind, every problem at once, no value quoted.

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
            keeps_secret: &|_| with_secrets,
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
        "app #1: kind must be official_account, website, miniprogram or mobile_app",
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

mod properties {
    use proptest::prelude::*;

    use super::super::*;
    use crate::apps::secret_refs;

    fn parse(json: &str) -> Result<Vec<WeChatApp>, Vec<String>> {
        let fallback = AllowedOrigins::parse("https://app.example.com").unwrap();
        parse_apps(
            json,
            &AppsInput {
                fallback_origins: Some(&fallback),
                fallback_refused: false,
                fallback_response_modes: ResponseModes::default(),
                keeps_secret: &|_| true,
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
            let _ = secret_refs(&text, |_| true);
        }
    }
}

#[test]
fn mini_programs_and_mobile_apps_are_read_without_return_origins() {
    let json = r#"[
        {"name":"mini","kind":"miniprogram","app_id":"wx00000000000000cc","app_secret":"mini-s3cr3t"},
        {"name":"ios","kind":"mobile_app","app_id":"wx00000000000000dd","app_secret":"ios-s3cr3t",
         "token_audience":"https://api.example.com","scope":"snsapi_base"}
    ]"#;
    let apps = WeChatApps::new(parse(json, true).unwrap()).unwrap();
    let mini = apps.get("mini").unwrap();
    assert_eq!(mini.kind, AppKind::MiniProgram);
    let login = mini.code_login.as_ref().unwrap();
    assert_eq!(login.token_audience, "wx00000000000000cc");
    assert_eq!(login.scope, None);
    assert!(
        !mini
            .allowed_origins
            .allows(&url::Url::parse("https://app.example.com/").unwrap()),
        "ALLOWED_RETURN_ORIGINS is not a code-login app's"
    );
    let ios = apps.get("ios").unwrap();
    assert_eq!(ios.kind, AppKind::MobileApp);
    let login = ios.code_login.as_ref().unwrap();
    assert_eq!(login.token_audience, "https://api.example.com");
    assert_eq!(login.scope, Some(crate::scope::Scope::Base));
    assert!(!format!("{apps:?}").contains("s3cr3t"));
    assert_eq!(apps.default_app().name, "mini", "no browser app: the first");
}

#[test]
fn a_code_login_apps_problems_are_all_reported_without_its_secret() {
    let json = r#"[
        {"name":"mini","kind":"miniprogram","app_id":"wx00000000000000cc","app_secret":"mini-s3cr3t",
         "allowed_return_origins":"https://app.example.com","qr_app":"web","scope":"snsapi_base",
         "token_audience":"a b"},
        {"name":"ios","kind":"mobile_app","app_id":"wx00000000000000dd","scope":"snsapi_login"},
        {"name":"mp","kind":"official_account","app_id":"wx00000000000000aa","app_secret":"x","token_audience":"y"}
    ]"#;
    let problems = parse(json, true).unwrap_err();
    let text = problems.join("\n");
    for expected in [
        "app `mini`: allowed_return_origins belongs on an official_account or website app",
        "app `mini`: qr_app belongs on an official_account or website app",
        "app `mini`: scope belongs on a mobile_app app",
        "app `mini`: token_audience must be 1-256 printable ASCII",
        "app `ios`: needs app_secret or app_secret_ref",
        "app `ios`: scope must be snsapi_userinfo",
        "app `mp`: token_audience belongs on a miniprogram or mobile_app app",
    ] {
        assert!(text.contains(expected), "missing {expected:?} in\n{text}");
    }
    assert_eq!(problems.len(), 7, "{text}");
    assert!(!text.contains("s3cr3t"), "{text}");
}
