//! The verified phone number, DynamoDB Local the table every gateway shares: the number in the
//! answer and in the token, every class of failure, a token WeChat retired early (one
//! forced refresh, one retry), a hundred concurrent lookups over four gateways that make
//! one `stable_token` call, and no access token, phone code or `session_key` in any
//! answer, header or log line at trace level.

use std::sync::Arc;

use wechat_simulator::{Endpoint, Fault};
use wxauth_tests::*;

use super::{Answer, MINI_AUDIENCE, MINI_ID, World, world};

impl World {
    /// A Mini Program login of `user` with a fresh phone code, on gateway `server`.
    async fn phone_login(&self, server: usize, user: &str) -> Answer {
        let code = self.sim.wx_login_code(MINI_ID, user);
        let phone_code = self.sim.phone_code(MINI_ID, user);
        self.form_to(
            server,
            &[
                ("code", &code),
                ("app", "mini"),
                ("phone_code", &phone_code),
            ],
        )
        .await
    }
}

#[tokio::test]
async fn a_phone_login_gives_the_verified_number_in_the_answer_and_in_the_token() {
    let (captured, _guard) = CapturedLogs::start("trace");
    let w = world(&["mini", "ios"], 1).await;
    let answer = w.phone_login(0, "mei").await;
    assert_eq!(answer.status, 200, "{}", answer.text);
    let body = answer.json();
    let number = w.sim.phone_number_for("mei");
    assert!(
        number.starts_with("+86138") && number.len() == 14,
        "{number}"
    );
    assert_eq!(body["phone_number"], number);
    assert_eq!(body["phone_number_verified"], true);
    assert_eq!(body["openid"], w.sim.openid_for_app(MINI_ID, "mei"));
    let claims = w.verify(body["token"].as_str().unwrap(), MINI_AUDIENCE);
    assert_eq!(claims["phone_number"], number);
    assert_eq!(claims["phone_number_verified"], true);
    assert_eq!(claims["sub"], body["openid"]);
    // Another user: the shared token again, no second fetch.
    let second = w.phone_login(0, "lin").await;
    assert_eq!(second.json()["phone_number"], w.sim.phone_number_for("lin"));
    assert_eq!(w.sim.stable_token_fetches(MINI_ID), 1);
    // Without a phone code nothing changes: no number, no claim, no lookup.
    let plain = w
        .form_to(
            0,
            &[
                ("code", &w.sim.wx_login_code(MINI_ID, "mei")),
                ("app", "mini"),
            ],
        )
        .await;
    assert_eq!(plain.status, 200, "{}", plain.text);
    assert!(plain.json().get("phone_number").is_none());
    let claims = w.verify(plain.json()["token"].as_str().unwrap(), MINI_AUDIENCE);
    assert!(!claims.contains_key("phone_number") && !claims.contains_key("phone_number_verified"));
    assert_eq!(w.sim.calls(Endpoint::PhoneNumber), 2);
    // A phone code works once.
    let code = w.sim.wx_login_code(MINI_ID, "mei");
    let phone_code = w.sim.phone_code(MINI_ID, "mei");
    let first = w
        .form_to(
            0,
            &[
                ("code", &code),
                ("app", "mini"),
                ("phone_code", &phone_code),
            ],
        )
        .await;
    assert_eq!(first.status, 200);
    let code = w.sim.wx_login_code(MINI_ID, "mei");
    let replay = w
        .form_to(
            0,
            &[
                ("code", &code),
                ("app", "mini"),
                ("phone_code", &phone_code),
            ],
        )
        .await;
    assert_eq!(replay.error(), (400, "invalid_grant".into(), None));
    assert!(
        replay.json()["error_description"]
            .as_str()
            .unwrap()
            .contains("phone_code")
    );
    // The table holds the app's token sealed: no access token in it.
    let table = w.table_text().await;
    assert!(table.contains(&format!("apptoken:{MINI_ID}")), "{table}");
    for answer in [&answer, &second, &plain, &first, &replay] {
        w.assert_nothing_secret_in(answer);
    }
    let logs = captured.text();
    assert!(logs.contains("fetched the app access token"), "{logs}");
    for secret in w.secrets() {
        assert!(!table.contains(&secret), "{secret} in the table");
        assert!(!logs.contains(&secret), "{secret} in the logs");
    }
    assert!(!logs.contains(&number[3..]), "the phone number in the logs");
}

/// The status, `error` and `Retry-After` a client is told.
type Told = (u16, &'static str, Option<&'static str>);

#[tokio::test]
async fn every_class_of_phone_failure_has_its_status_and_none_is_a_500() {
    let w = world(&["mini", "ios"], 1).await;
    let cases: [(Endpoint, Fault, Told, &str); 7] = [
        (
            Endpoint::StableToken,
            Fault::Errcode(40164, "invalid ip 203.0.113.9, not in whitelist".into()),
            (502, "server_error", None),
            "IP allowlist",
        ),
        (
            Endpoint::StableToken,
            Fault::Errcode(-1, "system error".into()),
            (503, "temporarily_unavailable", Some("1")),
            "try again",
        ),
        (
            Endpoint::StableToken,
            Fault::Errcode(40125, "invalid appsecret".into()),
            (502, "server_error", None),
            "AppSecret",
        ),
        (
            Endpoint::PhoneNumber,
            Fault::Errcode(40029, "invalid code".into()),
            (400, "invalid_grant", None),
            "phone_code",
        ),
        (
            Endpoint::PhoneNumber,
            Fault::Errcode(-1, "system error".into()),
            (503, "temporarily_unavailable", Some("1")),
            "try again",
        ),
        (
            Endpoint::PhoneNumber,
            Fault::Status(502, "<html>502</html>".into()),
            (503, "temporarily_unavailable", Some("1")),
            "try again",
        ),
        (
            Endpoint::PhoneNumber,
            Fault::Errcode(40164, "invalid ip 203.0.113.9, not in whitelist".into()),
            (502, "server_error", None),
            "IP allowlist",
        ),
    ];
    for (endpoint, fault, expected, says) in cases {
        let shown = format!("{endpoint:?} {fault:?}");
        // The token is fetched once and then shared, so its faults come first, before any
        // token is stored; a failed fetch leaves its lease to expire (five seconds).
        w.sim.inject(endpoint, fault, 2);
        let answer = w.phone_login(0, "sam").await;
        w.sim.clear_faults();
        let (status, error, retry) = answer.error();
        assert_eq!(
            (status, error.as_str(), retry.as_deref()),
            expected,
            "{shown}: {}",
            answer.text
        );
        let description = answer.json()["error_description"]
            .as_str()
            .unwrap()
            .to_owned();
        assert!(description.contains(says), "{shown}: {description}");
        assert!(!answer.text.contains("203.0.113.9"), "{shown}");
        w.assert_nothing_secret_in(&answer);
    }
    // A timeout at the lookup: 503, within the route's deadline.
    w.sim
        .inject(Endpoint::PhoneNumber, Fault::DropConnection, 2);
    let dropped = w.phone_login(0, "sam").await;
    w.sim.clear_faults();
    assert_eq!(
        dropped.error(),
        (503, "temporarily_unavailable".into(), Some("1".into()))
    );
    // A mobile app has no phone button: refused before WeChat.
    let calls = w.sim.calls(Endpoint::PhoneNumber) + w.sim.calls(Endpoint::StableToken);
    let refused = w
        .form_to(0, &[("code", "abc"), ("app", "ios"), ("phone_code", "p")])
        .await;
    assert_eq!(refused.error(), (400, "invalid_request".into(), None));
    assert_eq!(
        w.sim.calls(Endpoint::PhoneNumber) + w.sim.calls(Endpoint::StableToken),
        calls
    );
    assert_eq!(w.sim.calls(Endpoint::AccessToken), 0);
}

#[tokio::test]
async fn a_token_wechat_retired_early_costs_one_forced_refresh_and_one_retry() {
    let w = world(&["mini", "ios"], 2).await;
    assert_eq!(w.phone_login(0, "mei").await.status, 200);
    w.sim.expire_app_token(MINI_ID);
    let lookups = w.sim.calls(Endpoint::PhoneNumber);
    let answer = w.phone_login(1, "lin").await;
    assert_eq!(answer.status, 200, "{}", answer.text);
    assert_eq!(answer.json()["phone_number"], w.sim.phone_number_for("lin"));
    assert_eq!(w.sim.calls(Endpoint::PhoneNumber), lookups + 2, "one retry");
    assert_eq!(w.sim.stable_token_fetches(MINI_ID), 2);
    assert_eq!(w.sim.forced_refreshes(MINI_ID), 1);
    // The other gateway reads the replaced token from the table.
    assert_eq!(w.phone_login(0, "sam").await.status, 200);
    assert_eq!(w.sim.stable_token_fetches(MINI_ID), 2);
    // Rejected again after the refresh: one retry only, then 503.
    w.sim.inject(
        Endpoint::PhoneNumber,
        Fault::Errcode(40001, "invalid credential".into()),
        2,
    );
    let refused = w.phone_login(1, "sam").await;
    assert_eq!(
        refused.error(),
        (503, "temporarily_unavailable".into(), Some("1".into()))
    );
    assert_eq!(w.sim.forced_refreshes(MINI_ID), 2);
}

const LOOKUPS: usize = 100;
const GATEWAYS: usize = 4;

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_hundred_concurrent_phone_lookups_over_four_gateways_make_one_stable_token_call() {
    let _exclusive = exclusive().await;
    let w = Arc::new(world(&["mini", "ios"], GATEWAYS).await);
    let mut tasks = Vec::new();
    for i in 0..LOOKUPS {
        let w = Arc::clone(&w);
        tasks.push(tokio::spawn(async move {
            let user = format!("caller{i}");
            (user.clone(), w.phone_login(i % GATEWAYS, &user).await)
        }));
    }
    for task in tasks {
        let (user, answer) = task.await.unwrap();
        assert_eq!(answer.status, 200, "{user}: {}", answer.text);
        assert_eq!(answer.json()["phone_number"], w.sim.phone_number_for(&user));
    }
    assert_eq!(w.sim.stable_token_fetches(MINI_ID), 1);
    assert_eq!(w.sim.calls(Endpoint::StableToken), 1);
    assert_eq!(w.sim.calls(Endpoint::PhoneNumber), LOOKUPS);
}
