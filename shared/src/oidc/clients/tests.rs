//! The OIDC_CLIENTS parser's unit tests: every field, default and refusal.

use super::*;

const SECRET: &str = "0123456789abcdef0123456789abcdef";

fn clients(json: &str) -> Result<OidcClients, String> {
    OidcClients::parse(json)
}

#[test]
fn clients_are_read_with_their_redirect_uris() {
    let c = clients(&format!(
        r#"[{{"client_id":"rp","client_secret":"{SECRET}","redirect_uris":["https://rp.example.com/cb?x=1"],"name":"RP"}},
           {{"client_id":"spa","redirect_uris":["http://127.0.0.1:8080/cb","https://spa.example.com/"]}}]"#
    ))
    .unwrap();
    let rp = c.get("rp").unwrap();
    assert!(!rp.is_public());
    assert!(rp.secret_matches(SECRET));
    assert!(!rp.secret_matches(&SECRET[1..]));
    assert!(!rp.secret_matches(""));
    assert!(rp.redirect_uri("https://rp.example.com/cb?x=1").is_some());
    // Exact matching: no prefix, no other query, no case folding.
    for other in [
        "https://rp.example.com/cb",
        "https://rp.example.com/cb?x=1&y=2",
        "https://RP.example.com/cb?x=1",
        "https://rp.example.com/cb?x=1#",
    ] {
        assert!(rp.redirect_uri(other).is_none(), "{other}");
    }
    let spa = c.get("spa").unwrap();
    assert!(spa.is_public());
    assert!(!spa.secret_matches(""));
    assert!(c.get("other").is_none());
    assert!(!format!("{c:?}").contains(SECRET));
}

#[test]
fn every_problem_is_reported_without_the_secret() {
    let err = clients(
        r#"[{"client_id":"a b","redirect_uris":["https://x.example.com/"]},
            {"client_id":"short","client_secret":"tiny-secret-value","redirect_uris":["http://rp.example.com/cb","https://rp.example.com/cb#f","https://rp.example.com./cb"]},
            {"client_id":"none","redirect_uris":[]},
            {"client_id":"none","redirect_uris":["https://x.example.com/"]}]"#,
    )
    .unwrap_err();
    assert!(err.contains("client 1: client_id"), "{err}");
    assert!(
        err.contains("client short: client_secret must be at least 32"),
        "{err}"
    );
    assert!(
        err.contains("`http://rp.example.com/cb`: must use https"),
        "{err}"
    );
    assert!(err.contains("must not have a fragment"), "{err}");
    assert!(err.contains("`https://rp.example.com./cb`"), "{err}");
    assert!(
        err.contains("client none: redirect_uris must list"),
        "{err}"
    );
    assert!(err.contains("client none: listed twice"), "{err}");
    assert!(!err.contains("tiny-secret-value"), "{err}");
    let unknown_field = clients(
        r#"[{"client_id":"a","redirect_uris":["https://a.example.com/"],"client_secrett":"x"}]"#,
    )
    .unwrap_err();
    assert!(unknown_field.contains("JSON array"), "{unknown_field}");
    assert!(clients("[]").unwrap_err().contains("no client"));
    assert!(
        !clients(r#"[{"client_id":"a","client_secret":"SECRET-VALUE-X""#)
            .unwrap_err()
            .contains("SECRET-VALUE-X")
    );
}

#[test]
fn a_secret_may_be_given_as_its_sha256_only() {
    let digest: String = Sha256::digest(SECRET.as_bytes())
        .iter()
        .map(|b| format!("{b:02X}"))
        .collect();
    let c = clients(&format!(
        r#"[{{"client_id":"rp","client_secret_sha256":"{digest}","redirect_uris":["https://rp.example.com/cb"]}}]"#
    ))
    .unwrap();
    let rp = c.get("rp").unwrap();
    assert!(!rp.is_public());
    assert!(rp.secret_matches(SECRET));
    assert!(
        !rp.secret_matches(&digest),
        "the digest itself is no secret"
    );
    let both = clients(&format!(
        r#"[{{"client_id":"rp","client_secret":"{SECRET}","client_secret_sha256":"{digest}","redirect_uris":["https://rp.example.com/cb"]}}]"#
    ))
    .unwrap_err();
    assert!(both.contains("not both"), "{both}");
    for bad in [&digest[1..], &format!("{}g", &digest[1..]), ""] {
        let err = clients(&format!(
            r#"[{{"client_id":"rp","client_secret_sha256":"{bad}","redirect_uris":["https://rp.example.com/cb"]}}]"#
        ))
        .unwrap_err();
        assert!(err.contains("64 hex digits"), "{err}");
    }
}

#[test]
fn pkce_is_required_unless_a_confidential_client_turns_it_off() {
    let json = |secret: Option<&str>, require: Option<serde_json::Value>| {
        let mut client =
            serde_json::json!({"client_id": "rp", "redirect_uris": ["https://rp.example.com/cb"]});
        if let Some(secret) = secret {
            client["client_secret"] = secret.into();
        }
        if let Some(require) = require {
            client["require_pkce"] = require;
        }
        serde_json::json!([client]).to_string()
    };
    let requires = |secret, require| {
        clients(&json(secret, require)).map(|c| c.get("rp").unwrap().requires_pkce())
    };
    // By default, for either kind of client.
    assert_eq!(requires(None, None), Ok(true));
    assert_eq!(requires(Some(SECRET), None), Ok(true));
    assert_eq!(requires(None, Some(serde_json::Value::Null)), Ok(true));
    assert_eq!(requires(Some(SECRET), Some(true.into())), Ok(true));
    assert_eq!(requires(None, Some(true.into())), Ok(true));
    assert_eq!(requires(Some(SECRET), Some(false.into())), Ok(false));
    // A public client has nothing else to protect its codes: refused, by name, among
    // the other problems.
    let err = clients(
        r#"[{"client_id":"spa","redirect_uris":["https://spa.example.com/"],"require_pkce":false},
           {"client_id":"rp","client_secret":"tiny-secret-value","redirect_uris":["https://rp.example.com/"],"require_pkce":false}]"#,
    )
    .unwrap_err();
    assert!(
        err.contains("client spa: a public client (no client_secret) must use PKCE"),
        "{err}"
    );
    assert!(err.contains("client rp: client_secret must be"), "{err}");
    assert!(!err.contains("client rp: a public client"), "{err}");
    assert!(!err.contains("tiny-secret-value"), "{err}");
    // Only a boolean: "false" or 0 must not be read as either.
    for wrong in [
        serde_json::json!("false"),
        serde_json::json!(0),
        serde_json::json!([]),
    ] {
        let err = clients(&json(Some(SECRET), Some(wrong.clone()))).unwrap_err();
        assert!(err.contains("require_pkce"), "{wrong}: {err}");
        assert!(!err.contains(SECRET), "{err}");
    }
}

#[test]
fn client_id_and_secret_limits_hold_at_the_boundary() {
    let id = "a".repeat(MAX_CLIENT_ID_LEN);
    let json = |id: &str, secret: &str| {
        format!(
            r#"[{{"client_id":"{id}","client_secret":"{secret}","redirect_uris":["https://a.example.com/"]}}]"#
        )
    };
    assert!(clients(&json(&id, &"s".repeat(MIN_CLIENT_SECRET_LEN))).is_ok());
    assert!(clients(&json(&format!("{id}a"), &"s".repeat(MIN_CLIENT_SECRET_LEN))).is_err());
    assert!(clients(&json(&id, &"s".repeat(MIN_CLIENT_SECRET_LEN - 1))).is_err());
}
