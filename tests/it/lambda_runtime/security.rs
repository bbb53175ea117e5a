//! The security review's defence-in-depth rules through the function binaries, with
//! template.yaml's variables: PKCE required of a confidential client by default (F10), a
//! snapshot visitor never given a code (F2), the browser's pending binding cookies capped
//! and `__Host-` over https (F4, F12), and HSTS on https answers (F9).

use wechat_simulator::SimUser;
use wxauth_tests::{encode, exclusive, result_params};

use super::{Browser, CLIENT_ID, PKCE_CHALLENGE, REDIRECT_URI, Stack, location};

fn authorize_url(stack: &Stack, pkce: bool) -> String {
    let mut query = vec![
        ("client_id", CLIENT_ID),
        ("redirect_uri", REDIRECT_URI),
        ("response_type", "code"),
        ("scope", "openid"),
        ("state", "rp-state"),
    ];
    if pkce {
        query.extend([
            ("code_challenge", PKCE_CHALLENGE),
            ("code_challenge_method", "S256"),
        ]);
    }
    format!(
        "{}/oauth2/authorize?{}",
        stack.api.base_url(),
        encode(&query)
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_review_s_defences_hold_through_the_binaries() {
    let _exclusive = exclusive().await;
    let stack = Stack::deploy("prod", |_| {}).await;

    // F10: the confidential client sends no PKCE challenge: an error redirect, nothing stored.
    let stored_before = stack.dynamodb["auth"].targets().len();
    let browser = Browser::new();
    let refused = browser.get(&authorize_url(&stack, false)).await;
    assert_eq!(refused.status(), 302);
    let to = location(&refused);
    assert!(to.starts_with(&format!("{REDIRECT_URI}?")), "{to}");
    let params = result_params(&to, false);
    assert_eq!(params["error"], "invalid_request");
    assert!(params["error_description"].contains("PKCE"), "{params:?}");
    assert_eq!(params["state"], "rp-state");
    assert_eq!(stack.dynamodb["auth"].targets().len(), stored_before);

    // F9: an https API answers with HSTS, the refusal too.
    assert_eq!(
        refused.headers()["strict-transport-security"],
        "max-age=31536000"
    );

    // F2: a snapshot visitor (朋友圈快照页) ends with access_denied at the relying party.
    stack.sim.put_user(SimUser {
        snapshot: true,
        ..SimUser::named("virtual")
    });
    let (landed, _) = stack
        .through_wechat(
            &browser,
            &authorize_url(&stack, true),
            "virtual",
            "/getOpenId",
        )
        .await;
    let params = result_params(&landed, false);
    assert_eq!(params["error"], "access_denied", "{landed}");
    assert!(
        params["error_description"].contains("snapshot"),
        "{params:?}"
    );
    assert!(!params.contains_key("code"), "{params:?}");

    // F4 and F12: one browser starting nine logins keeps at most eight binding cookies,
    // each `__Host-` at Path=/ (the jar of this browser keeps them as a browser would).
    let tabs = Browser::new();
    let mut names = Vec::new();
    for n in 0..9 {
        let start = format!(
            "{}/auth?{}",
            stack.api.base_url(),
            encode(&[
                ("url", &format!("https://app.example.com/tab{n}")),
                ("scope", "snsapi_base"),
            ])
        );
        let response = tabs.get(&start).await;
        assert_eq!(response.status(), 302);
        let set: Vec<String> = response
            .headers()
            .get_all("set-cookie")
            .iter()
            .map(|v| v.to_str().unwrap().to_owned())
            .collect();
        let new = set
            .iter()
            .find(|c| !c.contains("Max-Age=0"))
            .expect("the login's binding cookie");
        assert!(new.starts_with("__Host-wxauth_"), "{new}");
        assert!(
            new.contains("; Path=/;") && new.contains("; Secure"),
            "{new}"
        );
        assert!(!new.to_ascii_lowercase().contains("domain="), "{new}");
        names.push(new.split_once('=').unwrap().0.to_owned());
        let expired: Vec<&String> = set.iter().filter(|c| c.contains("Max-Age=0")).collect();
        if n < 8 {
            assert!(expired.is_empty(), "login {n}: {expired:?}");
        } else {
            // The ninth expires the oldest, and only it.
            assert_eq!(expired.len(), 1, "{expired:?}");
            assert!(
                expired[0].starts_with(&format!("{}=;", names[0])),
                "{expired:?}"
            );
        }
    }
}
