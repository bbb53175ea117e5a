//! Secrets given in a variable that functions which never use them also receive. Every
//! function reads `WECHAT_APPS` (to know the apps) and three read `OIDC_CLIENTS` (to know
//! the clients and their redirect URIs), so an `app_secret` written inline in the first,
//! or a `client_secret` in plain in the second, sits in the environment of functions that
//! have no use for it, where anyone allowed to read the function's configuration reads it.
//! It works, and is fine for tests and local runs; a deployment is told once per cold
//! start, with what to give instead. Names only, never values.

/// One warning per variable whose plain value (not one read through its `_REF`) holds such
/// secrets, naming the apps or clients. A value that does not parse gives none: the
/// configuration reports it.
pub fn warnings(lookup: impl Fn(&str) -> Option<String>) -> Vec<String> {
    let mut warnings = Vec::new();
    let inline_apps = entries_with(lookup("WECHAT_APPS"), "name", "app_secret");
    if !inline_apps.is_empty() {
        warnings.push(format!(
            "WECHAT_APPS gives app_secret inline (apps: {}): every function's environment holds \
             it, the auth and OpenID Provider functions included; give app_secret_ref instead \
             (docs/apps.md)",
            inline_apps.join(", ")
        ));
    }
    let plain_clients = entries_with(lookup("OIDC_CLIENTS"), "client_id", "client_secret");
    if !plain_clients.is_empty() {
        warnings.push(format!(
            "OIDC_CLIENTS gives client_secret in plain (clients: {}): the auth and callback \
             functions hold it too; give client_secret_sha256 instead (docs/oidc.md)",
            plain_clients.join(", ")
        ));
    }
    warnings
}

/// The `id_field` of each entry of the JSON array `json` whose `secret_field` is a
/// non-empty string.
fn entries_with(json: Option<String>, id_field: &str, secret_field: &str) -> Vec<String> {
    let Some(serde_json::Value::Array(entries)) = json.and_then(|j| serde_json::from_str(&j).ok())
    else {
        return Vec::new();
    };
    entries
        .iter()
        .filter(|e| {
            e.get(secret_field)
                .and_then(|s| s.as_str())
                .is_some_and(|s| !s.is_empty())
        })
        .map(|e| {
            e.get(id_field)
                .and_then(|n| n.as_str())
                .unwrap_or("?")
                .to_owned()
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn warnings_for(vars: &[(&str, &str)]) -> Vec<String> {
        warnings(|name| {
            vars.iter()
                .find(|(n, _)| *n == name)
                .map(|(_, v)| v.to_string())
        })
    }

    #[test]
    fn inline_app_secrets_and_plain_client_secrets_are_named_never_shown() {
        let apps = r#"[{"name":"mp","app_secret":"mp-s3cr3t"},{"name":"web","app_secret_ref":"ssm:/w"},{"name":"h5","app_secret":"h5-s3cr3t"}]"#;
        let clients = r#"[{"client_id":"shop","client_secret":"shop-s3cr3t-0123456789abcdef0123"},{"client_id":"spa","redirect_uris":[]},{"client_id":"crm","client_secret_sha256":"ab"}]"#;
        let found = warnings_for(&[("WECHAT_APPS", apps), ("OIDC_CLIENTS", clients)]);
        assert_eq!(found.len(), 2, "{found:?}");
        assert!(found[0].starts_with("WECHAT_APPS gives app_secret inline (apps: mp, h5)"));
        assert!(found[1].starts_with("OIDC_CLIENTS gives client_secret in plain (clients: shop)"));
        for text in &found {
            assert!(!text.contains("s3cr3t"), "{text}");
        }
    }

    #[test]
    fn references_digests_and_unparsable_values_give_no_warning() {
        for vars in [
            vec![],
            vec![(
                "WECHAT_APPS",
                r#"[{"name":"mp","app_secret_ref":"ssm:/mp"}]"#,
            )],
            vec![("WECHAT_APPS", r#"[{"name":"mp","app_secret":""}]"#)],
            vec![(
                "OIDC_CLIENTS",
                r#"[{"client_id":"c","client_secret_sha256":"00"}]"#,
            )],
            vec![("WECHAT_APPS", "not json"), ("OIDC_CLIENTS", "{}")],
        ] {
            assert_eq!(warnings_for(&vars), Vec::<String>::new(), "{vars:?}");
        }
    }
}
