//! An app's AppSecret in `WECHAT_APPS`: given inline (`app_secret`) or named by a
//! reference (`app_secret_ref`) that the Lambda adapter resolves before the configuration
//! is parsed and hands over under [`secret_variable`]'s name. Kept only by a process that
//! finishes logins; never quoted in a problem.

use serde_json::{Map, Value};

use super::AppsInput;
use super::valid_name;
use crate::secret::Secret;

/// The variable name a resolved `app_secret_ref` of app `name` is looked up by: not an
/// environment variable, the key the Lambda adapter files the secret under.
pub fn secret_variable(name: &str) -> String {
    format!("WECHAT_APPS[{name}].app_secret")
}

/// The `app_secret_ref`s of a `WECHAT_APPS` value, as `(app name, reference)`, for the
/// process that resolves them before the configuration is parsed. Nothing when the text is
/// not valid (parsing reports that).
pub fn secret_refs(json: &str) -> Vec<(String, String)> {
    let Ok(Value::Array(entries)) = serde_json::from_str::<Value>(json) else {
        return Vec::new();
    };
    entries
        .iter()
        .filter_map(|entry| {
            let name = entry.get("name")?.as_str()?;
            let reference = entry.get("app_secret_ref")?.as_str()?;
            valid_name(name).then(|| (name.to_owned(), reference.to_owned()))
        })
        .collect()
}

/// An AppSecret: printable ASCII without spaces.
pub fn valid_secret(secret: &str) -> bool {
    !secret.is_empty() && secret.bytes().all(|b| b.is_ascii_graphic())
}

/// The AppSecret of the entry `fields` of app `name` (`None` when it has no valid name)
/// where this process keeps it; every problem goes to `problem`.
pub(super) fn read(
    fields: &Map<String, Value>,
    name: Option<&str>,
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
            Some(v) if valid_secret(v) => input.with_secrets.then(|| Secret::new(v)),
            _ => {
                problem(
                    "app_secret must be printable ASCII without spaces (the value is not shown)"
                        .to_owned(),
                );
                None
            }
        },
        (None, Some(Some(_))) if !input.with_secrets => None,
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
        assert_eq!(
            secret_refs(TWO),
            [("web".to_owned(), "ssm:/wxauth/web".to_owned())]
        );
        assert!(secret_refs("not json").is_empty());
        assert!(secret_refs(r#"[{"name":"bad name","app_secret_ref":"ssm:/x"}]"#).is_empty());
    }
}
