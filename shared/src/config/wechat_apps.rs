//! The apps of the configuration: the single-app variables (`WECHAT_APP_ID`,
//! `WECHAT_APP_SECRET`, `ALLOWED_RETURN_ORIGINS`) make the default app, `WECHAT_APPS` adds
//! the listed ones (read by [`crate::apps::parse_apps`]), and the whole list is checked
//! together once every variable read well.

use super::Serves;
use super::reader::Reader;
use crate::allowed_origins::AllowedOrigins;
use crate::apps::{
    AppKind, AppsInput, DEFAULT_APP, WeChatApp, WeChatApps, parse_apps, valid_app_id, valid_secret,
};
use crate::response_modes::ResponseModes;
use crate::secret::Secret;

/// The apps in order, the default app first: each one valid, not yet checked against the
/// others.
pub(super) fn read(reader: &mut Reader<'_>, serves: Serves) -> Vec<WeChatApp> {
    // The single-app variables configure the default app unless WECHAT_APPS alone
    // configures the apps.
    let single_app =
        reader.value("WECHAT_APP_ID").is_some() || reader.value("WECHAT_APPS").is_none();
    let app_id = reader.required_if(single_app, "WECHAT_APP_ID", |v| {
        valid_app_id(v).then(|| v.to_owned()).ok_or_else(|| {
            "must be the Official Account's AppID (letters and digits, as wx0123456789abcdef)"
                .to_owned()
        })
    });
    // The default app is an Official Account: its AppSecret only where its callbacks are.
    let keeps_secret = |kind| serves.keeps_app_secret(kind);
    let default_secret = single_app && keeps_secret(AppKind::OfficialAccount);
    let app_secret = reader.required_if(default_secret, "WECHAT_APP_SECRET", |v| {
        if valid_secret(v) {
            Ok(Secret::new(v))
        } else {
            Err("must be printable ASCII without spaces (the value is not shown)".into())
        }
    });
    if !single_app && reader.value("WECHAT_APP_SECRET").is_some() {
        reader.problem(
            "WECHAT_APP_SECRET",
            "is set but WECHAT_APP_ID is not (each app of WECHAT_APPS has its own app_secret)",
        );
    }
    let parse_origins = |v: &str| AllowedOrigins::parse(v).map_err(|e| e.to_string());
    let allowed_origins = if single_app {
        reader.required("ALLOWED_RETURN_ORIGINS", parse_origins)
    } else {
        reader.optional("ALLOWED_RETURN_ORIGINS", parse_origins)
    };
    // The response modes of every app that names none of its own.
    let response_modes = reader
        .optional("RESPONSE_MODES", ResponseModes::parse)
        .unwrap_or_default();
    let listed_apps = match reader.value("WECHAT_APPS") {
        None => Vec::new(),
        Some(json) => {
            let input = AppsInput {
                fallback_origins: allowed_origins.as_ref(),
                fallback_refused: reader.failed("ALLOWED_RETURN_ORIGINS"),
                fallback_response_modes: response_modes,
                keeps_secret: &keeps_secret,
                resolved: reader.lookup(),
            };
            parse_apps(json.trim(), &input).unwrap_or_else(|problems| {
                for problem in problems {
                    reader.problem("WECHAT_APPS", &problem);
                }
                Vec::new()
            })
        }
    };
    let mut apps = Vec::new();
    if let (Some(app_id), Some(allowed_origins)) = (app_id, allowed_origins) {
        apps.push(WeChatApp {
            name: DEFAULT_APP.to_owned(),
            kind: AppKind::OfficialAccount,
            app_id,
            secret: app_secret,
            allowed_origins,
            qr_app: None,
            response_modes,
            code_login: None,
        });
    }
    apps.extend(listed_apps);
    apps
}

/// The apps checked against each other (unique names and AppIDs, `qr_app`), only when no
/// other problem was found: `None` when there is any, this check's included.
pub(super) fn checked(reader: &mut Reader<'_>, apps: Vec<WeChatApp>) -> Option<WeChatApps> {
    if !reader.is_clean() {
        return None;
    }
    WeChatApps::new(apps)
        .map_err(|problems| {
            for problem in problems {
                reader.problem("WECHAT_APPS", &problem);
            }
        })
        .ok()
}

#[cfg(test)]
mod tests {
    use crate::apps::AppKind;
    use crate::config::tests::{MINIMAL, config};
    use crate::config::{Config, Serves};

    const APPS: &str = r#"[
        {"name":"mp","kind":"official_account","app_id":"wx00000000000000aa","app_secret":"mp-s3cr3t-value","qr_app":"web"},
        {"name":"web","kind":"website","app_id":"wx00000000000000bb","app_secret":"web-s3cr3t-value","allowed_return_origins":"https://www.example.com"}
    ]"#;

    #[test]
    fn wechat_apps_alone_configure_the_apps_and_the_first_is_the_default() {
        let c = config(&[
            ("WECHAT_APPS", APPS),
            ("ALLOWED_RETURN_ORIGINS", "https://app.example.com"),
            ("TOKEN_SIGNING_KEY", "0123456789abcdef0123456789abcdef"),
        ])
        .unwrap();
        assert_eq!(c.apps.len(), 2);
        assert_eq!(c.apps.default_app().name, "mp");
        assert_eq!(c.apps.get("web").unwrap().kind, AppKind::Website);
        assert!(c.apps.iter().all(|a| a.secret.is_some()));
        assert!(!format!("{c:?}").contains("s3cr3t"));
        // Without ALLOWED_RETURN_ORIGINS each app needs its own.
        let err = config(&[
            ("WECHAT_APPS", APPS),
            ("TOKEN_SIGNING_KEY", "0123456789abcdef0123456789abcdef"),
        ])
        .unwrap_err();
        assert_eq!(err.problems.len(), 1, "{err}");
        assert!(
            err.problems[0]
                .1
                .starts_with("app `mp`: needs allowed_return_origins")
        );
    }

    #[test]
    fn the_single_app_variables_stay_the_default_app_beside_wechat_apps() {
        let mut vars = MINIMAL.to_vec();
        vars.push(("WECHAT_APPS", APPS));
        let c = config(&vars).unwrap();
        let names: Vec<&str> = c.apps.iter().map(|a| a.name.as_str()).collect();
        assert_eq!(names, ["default", "mp", "web"]);
        assert_eq!(c.apps.default_app().app_id, "wx0123456789abcdef");
        // A name or AppID used twice is refused.
        let mut clash = MINIMAL.to_vec();
        clash.push((
            "WECHAT_APPS",
            r#"[{"name":"default","kind":"website","app_id":"wx0123456789abcdef","app_secret":"x"}]"#,
        ));
        let err = config(&clash).unwrap_err();
        let text = err.to_string();
        assert!(
            text.contains("WECHAT_APPS: app `default`: the name is used twice"),
            "{text}"
        );
        assert!(text.contains("belongs to another app already"), "{text}");
    }

    #[test]
    fn an_app_secret_without_its_app_id_is_refused() {
        let err = config(&[
            ("WECHAT_APPS", APPS),
            ("WECHAT_APP_SECRET", "left-over-s3cr3t"),
            ("ALLOWED_RETURN_ORIGINS", "https://app.example.com"),
            ("TOKEN_SIGNING_KEY", "0123456789abcdef0123456789abcdef"),
        ])
        .unwrap_err();
        let names: Vec<&str> = err.problems.iter().map(|(n, _)| *n).collect();
        assert_eq!(names, ["WECHAT_APP_SECRET"]);
        assert!(!err.to_string().contains("s3cr3t"));
    }

    #[test]
    fn the_start_function_keeps_no_app_secret_of_wechat_apps() {
        let vars = [
            ("WECHAT_APPS", APPS),
            ("ALLOWED_RETURN_ORIGINS", "https://app.example.com"),
        ];
        let c = Config::for_routes(Serves::StartOnly, |name| {
            vars.iter()
                .find(|(n, _)| *n == name)
                .map(|(_, v)| v.to_string())
        })
        .unwrap();
        assert!(c.apps.iter().all(|a| a.secret.is_none()));
        assert!(c.sealing_key.is_none());
    }

    #[test]
    fn wechat_apps_problems_come_one_per_line_with_the_others() {
        let err = config(&[
            ("WECHAT_APPS", r#"[{"name":"a","kind":"x"},{"name":"b"}]"#),
            ("STATE_TTL_SECONDS", "ten"),
        ])
        .unwrap_err();
        let names: Vec<&str> = err.problems.iter().map(|(n, _)| *n).collect();
        assert!(
            names.iter().filter(|n| **n == "WECHAT_APPS").count() >= 4,
            "{err}"
        );
        assert!(names.contains(&"TOKEN_SIGNING_KEY"), "{err}");
        assert!(names.contains(&"STATE_TTL_SECONDS"), "{err}");
        assert!(!names.contains(&"WECHAT_APP_ID"), "{err}");
    }
}
