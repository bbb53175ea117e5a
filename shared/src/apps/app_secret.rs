//! An app's AppSecret in `WECHAT_APPS`: given inline (`app_secret`) or named by a
//! reference (`app_secret_ref`) that the Lambda adapter resolves before the configuration
//! is parsed and hands over under [`secret_variable`]'s name. Kept only by a process that
//! finishes logins; never quoted in a problem.

use serde_json::{Map, Value};

use super::valid_name;
use super::{AppKind, AppsInput};
use crate::secret::Secret;

/// The variable name a resolved `app_secret_ref` of app `name` is looked up by: not an
/// environment variable, the key the Lambda adapter files the secret under.
pub fn secret_variable(name: &str) -> String {
    format!("WECHAT_APPS[{name}].app_secret")
}

/// The `app_secret_ref`s of a `WECHAT_APPS` value, as `(app name, reference)`, of the apps
/// whose kind `keeps` says the process keeps the secret of, for the process that resolves
/// them before the configuration is parsed. Nothing when the text is not valid, and nothing
/// of an app without a valid kind (parsing reports both).
pub fn secret_refs(json: &str, keeps: impl Fn(AppKind) -> bool) -> Vec<(String, String)> {
    let Ok(Value::Array(entries)) = serde_json::from_str::<Value>(json) else {
        return Vec::new();
    };
    entries
        .iter()
        .filter_map(|entry| {
            let name = entry.get("name")?.as_str()?;
            let kind = AppKind::parse(entry.get("kind")?.as_str()?)?;
            let reference = entry.get("app_secret_ref")?.as_str()?;
            (valid_name(name) && keeps(kind)).then(|| (name.to_owned(), reference.to_owned()))
        })
        .collect()
}

/// An AppSecret: printable ASCII without spaces.
pub fn valid_secret(secret: &str) -> bool {
    !secret.is_empty() && secret.bytes().all(|b| b.is_ascii_graphic())
}

/// The AppSecret of the entry `fields` of app `name` (`None` when it has no valid name)
/// where this process keeps it (`keep`: it keeps the secrets of this app's kind); every
/// problem goes to `problem`.
pub(super) fn read(
    fields: &Map<String, Value>,
    name: Option<&str>,
    keep: bool,
    input: &AppsInput<'_>,
    problem: &mut dyn FnMut(String),
) -> Option<Secret> {
    match (
        fields.get("app_secret"),
        fields.get("app_secret_ref").map(Value::as_str),
    ) {
        (Some(_), Some(_)) => {
            problem("give app_secret or app_secret_ref, not both".to_owned());
            None
        }
        (None, None) => {
            problem("needs app_secret or app_secret_ref".to_owned());
            None
        }
        (None, Some(None)) => {
            problem("app_secret_ref must be a string (ssm:… or secretsmanager:…)".to_owned());
            None
        }
        (Some(value), None) => match value.as_str() {
            Some(v) if valid_secret(v) => keep.then(|| Secret::new(v)),
            _ => {
                problem(
                    "app_secret must be printable ASCII without spaces (the value is not shown)"
                        .to_owned(),
                );
                None
            }
        },
        (None, Some(Some(_))) if !keep => None,
        (None, Some(Some(_))) => {
            let resolved = name.and_then(|n| (input.resolved)(&secret_variable(n)));
            match resolved {
                Some(v) if valid_secret(v.trim()) => Some(Secret::new(v.trim())),
                Some(_) => {
                    problem("the secret app_secret_ref names must be printable ASCII without spaces (the value is not shown)".to_owned());
                    None
                }
                None => {
                    problem("app_secret_ref was not resolved: references are read by the Lambda functions at cold start; elsewhere give app_secret".to_owned());
                    None
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::apps::parse::tests::TWO;

    #[test]
    fn references_are_listed_for_the_resolver() {
        let all = |_| true;
        assert_eq!(
            secret_refs(TWO, all),
            [("web".to_owned(), "ssm:/wxauth/web".to_owned())]
        );
        assert!(secret_refs("not json", all).is_empty());
        assert!(secret_refs(r#"[{"name":"bad name","app_secret_ref":"ssm:/x"}]"#, all).is_empty());
        // Without a kind the process could keep, nothing to read.
        assert!(
            secret_refs(
                r#"[{"name":"x","kind":"nope","app_secret_ref":"ssm:/x"}]"#,
                all
            )
            .is_empty()
        );
        assert!(secret_refs(r#"[{"name":"x","app_secret_ref":"ssm:/x"}]"#, all).is_empty());
    }

    #[test]
    fn each_process_lists_only_the_references_of_the_kinds_it_keeps() {
        let apps = r#"[
            {"name":"mp","kind":"official_account","app_secret_ref":"ssm:/a/mp"},
            {"name":"web","kind":"website","app_secret_ref":"ssm:/a/web"},
            {"name":"mini","kind":"miniprogram","app_secret_ref":"ssm:/a/mini"},
            {"name":"ios","kind":"mobile_app","app_secret_ref":"ssm:/a/ios"}
        ]"#;
        let names = |keeps: fn(AppKind) -> bool| -> Vec<String> {
            secret_refs(apps, keeps)
                .into_iter()
                .map(|(n, _)| n)
                .collect()
        };
        assert_eq!(names(|k| !k.logs_in_with_code()), ["mp", "web"]);
        assert_eq!(names(AppKind::logs_in_with_code), ["mini", "ios"]);
        assert!(names(|_| false).is_empty());
    }
}
