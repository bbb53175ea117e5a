//! One contract, two stores. `wxauth-local` keeps logins in memory, the functions in
//! DynamoDB; every case here runs against both (DynamoDB Local for the latter), so the
//! two cannot drift apart again: what `/auth` stores, the callback can read, and a claim
//! that does not fit changes nothing, in either. The OpenID Provider's grants (stored at
//! the callback, redeemed at the token endpoint, read at userinfo) keep the same contract.

use std::sync::Arc;

use wxauth_core::app_token::stored::{AppTokenRecord, LeaseRequest, NewAppToken, Replacing};
use wxauth_core::login::browser_binding;
use wxauth_core::login_state::{Consumed, LoginState, OidcRequest, StateId, now_epoch_seconds};
use wxauth_core::oidc::grant::{
    CODE_LIFETIME_SECONDS, Grant, GrantId, GrantStatus, Redeemed, Redemption,
};
use wxauth_core::return_url::MAX_RETURN_URL_LEN;
use wxauth_core::store::{
    BrowserCheck, Claim, DynamoStateStore, MemoryStateStore, StateStore, StoreError,
};
use wxauth_core::{AllowedOrigins, ResponseMode, ReturnUrl, Scope};
use wxauth_tests::{create_state_table, dynamo_client};

type Store = Arc<dyn StateStore>;

async fn memory() -> Store {
    Arc::new(MemoryStateStore::new())
}

async fn dynamodb() -> Store {
    let client = dynamo_client().await;
    let table = create_state_table(&client).await;
    Arc::new(DynamoStateStore::new(client, table))
}

/// Each case, once per store.
macro_rules! contract {
    ($($case:ident),* $(,)?) => {
        mod in_memory {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
                async fn $case() {
                    super::$case(super::memory().await).await;
                }
            )*
        }
        mod in_dynamodb {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
                async fn $case() {
                    super::$case(super::dynamodb().await).await;
                }
            )*
        }
    };
}

contract!(
    a_login_is_stored_once_and_read_back_as_stored,
    of_racing_consumers_exactly_one_wins,
    expiry_is_checked_on_consume_at_the_second,
    only_the_route_it_was_started_for_consumes_it,
    only_the_browser_that_started_it_consumes_it,
    without_binding_any_browser_consumes_it,
    a_consumed_login_keeps_its_expiry_and_its_sealed_outcome,
    outcomes_attach_only_to_consumed_logins,
    the_limits_round_trip_at_the_boundary,
    unknown_states_are_unknown_everywhere,
    an_oidc_login_round_trips_at_its_limits,
    a_grant_is_stored_once_and_redeemed_by_exactly_one_racer,
    a_grant_redeems_only_for_its_client_redirect_and_verifier,
    a_code_expires_at_the_second,
    a_replay_revokes_the_grant,
    a_redeemed_grant_is_kept_until_its_access_tokens_expire,
    of_racing_lease_takers_exactly_one_wins,
    a_lease_expires_exactly_at_its_end,
    a_token_is_stored_only_under_the_lease_that_is_still_held,
    a_lease_replaces_only_a_due_token_or_the_version_named,
);

const COOKIE: &str = "TheStartingBrowsersCookie0123456";

fn login_for(scope: Scope, url: &str, expires_at: i64) -> LoginState {
    let origins = AllowedOrigins::parse("https://app.example.com").unwrap();
    LoginState {
        state: StateId::generate(),
        app: "default".into(),
        scope,
        return_url: ReturnUrl::parse(url, &origins).unwrap(),
        response_mode: ResponseMode::Fragment,
        expires_at,
        browser_binding: Some(browser_binding::hash(COOKIE)),
        nonce: None,
        oidc: None,
    }
}

fn login(expires_at: i64) -> LoginState {
    login_for(Scope::Base, "https://app.example.com/cb?x=1#/y", expires_at)
}

fn claim<'a>(scope: Scope, now: i64, browser: BrowserCheck<'a>) -> Claim<'a> {
    Claim {
        scope,
        now,
        browser,
    }
}

async fn a_login_is_stored_once_and_read_back_as_stored(store: Store) {
    let l = login(now_epoch_seconds() + 600);
    store.put_new(&l).await.unwrap();
    assert_eq!(
        store.find(&l.state).await.unwrap(),
        Consumed::Fresh(l.clone())
    );
    // A second put never overwrites.
    let mut other = login(now_epoch_seconds() + 600);
    other.state = l.state.clone();
    assert!(matches!(
        store.put_new(&other).await,
        Err(StoreError::AlreadyExists)
    ));
    assert_eq!(store.find(&l.state).await.unwrap(), Consumed::Fresh(l));
}

async fn of_racing_consumers_exactly_one_wins(store: Store) {
    let now = now_epoch_seconds();
    let l = login(now + 600);
    store.put_new(&l).await.unwrap();
    let hash = browser_binding::hash(COOKIE);
    let racers = (0..16).map(|_| {
        let store = Arc::clone(&store);
        let state = l.state.clone();
        let hash = hash.clone();
        tokio::spawn(async move {
            let claim = claim(Scope::Base, now, BrowserCheck::Hash(&hash));
            store.consume(&state, &claim, now + 60).await.unwrap()
        })
    });
    let results = futures::future::join_all(racers).await;
    let fresh = results
        .iter()
        .filter(|r| matches!(r.as_ref().unwrap(), Consumed::Fresh(_)))
        .count();
    assert_eq!(fresh, 1, "{results:?}");
    for result in results {
        match result.unwrap() {
            Consumed::Fresh(found) => assert_eq!(found, l),
            Consumed::Used {
                login, consumed_at, ..
            } => {
                assert_eq!(login, l);
                assert_eq!(consumed_at, now);
            }
            other => panic!("a racer saw {other:?}"),
        }
    }
}

async fn expiry_is_checked_on_consume_at_the_second(store: Store) {
    // TTL deletion lags by hours: an expired login may still be in the table.
    let now = now_epoch_seconds();
    let hash = browser_binding::hash(COOKIE);
    let check = BrowserCheck::Hash(&hash);
    let expired = login(now);
    store.put_new(&expired).await.unwrap();
    let kept = store
        .consume(&expired.state, &claim(Scope::Base, now, check), now + 60)
        .await
        .unwrap();
    assert_eq!(kept, Consumed::Kept(expired.clone()));
    assert_eq!(
        store.find(&expired.state).await.unwrap(),
        Consumed::Fresh(expired),
        "left as it was"
    );
    // One second before its expiry it is still good.
    let last_second = login(now + 1);
    store.put_new(&last_second).await.unwrap();
    let consumed = store
        .consume(
            &last_second.state,
            &claim(Scope::Base, now, check),
            now + 60,
        )
        .await
        .unwrap();
    assert_eq!(consumed, Consumed::Fresh(last_second));
}

async fn only_the_route_it_was_started_for_consumes_it(store: Store) {
    let now = now_epoch_seconds();
    let hash = browser_binding::hash(COOKIE);
    let check = BrowserCheck::Hash(&hash);
    let l = login_for(Scope::UserInfo, "https://app.example.com/", now + 600);
    store.put_new(&l).await.unwrap();
    let wrong = store
        .consume(&l.state, &claim(Scope::Base, now, check), now + 60)
        .await
        .unwrap();
    assert_eq!(wrong, Consumed::Kept(l.clone()));
    let right = store
        .consume(&l.state, &claim(Scope::UserInfo, now, check), now + 60)
        .await
        .unwrap();
    assert_eq!(right, Consumed::Fresh(l));
}

async fn only_the_browser_that_started_it_consumes_it(store: Store) {
    let now = now_epoch_seconds();
    let l = login(now + 600);
    store.put_new(&l).await.unwrap();
    let other = browser_binding::hash("AnotherBrowsersCookie0123456789a");
    for browser in [BrowserCheck::NoCookie, BrowserCheck::Hash(&other)] {
        let refused = store
            .consume(&l.state, &claim(Scope::Base, now, browser), now + 60)
            .await
            .unwrap();
        assert_eq!(refused, Consumed::Kept(l.clone()), "{browser:?}");
    }
    let hash = browser_binding::hash(COOKIE);
    let right = store
        .consume(
            &l.state,
            &claim(Scope::Base, now, BrowserCheck::Hash(&hash)),
            now + 60,
        )
        .await
        .unwrap();
    assert_eq!(right, Consumed::Fresh(l));

    // A login started while binding was off has no cookie to match once it is on.
    let mut unbound = login(now + 600);
    unbound.browser_binding = None;
    store.put_new(&unbound).await.unwrap();
    let refused = store
        .consume(
            &unbound.state,
            &claim(Scope::Base, now, BrowserCheck::Hash(&hash)),
            now + 60,
        )
        .await
        .unwrap();
    assert_eq!(refused, Consumed::Kept(unbound));
}

async fn without_binding_any_browser_consumes_it(store: Store) {
    let now = now_epoch_seconds();
    for binding in [Some(browser_binding::hash(COOKIE)), None] {
        let mut l = login(now + 600);
        l.browser_binding = binding;
        store.put_new(&l).await.unwrap();
        let consumed = store
            .consume(
                &l.state,
                &claim(Scope::Base, now, BrowserCheck::Off),
                now + 60,
            )
            .await
            .unwrap();
        assert_eq!(consumed, Consumed::Fresh(l));
    }
}

async fn a_consumed_login_keeps_its_expiry_and_its_sealed_outcome(store: Store) {
    let now = now_epoch_seconds();
    let l = login(now + 600);
    store.put_new(&l).await.unwrap();
    let off = claim(Scope::Base, now, BrowserCheck::Off);
    assert_eq!(
        store.consume(&l.state, &off, now + 60).await.unwrap(),
        Consumed::Fresh(l.clone())
    );
    // Seen again, the login is the one stored (its own expiry, not the replay window's).
    let used = |outcome: Option<Vec<u8>>| Consumed::Used {
        login: l.clone(),
        consumed_at: now,
        outcome,
    };
    let later = claim(Scope::Base, now + 5, BrowserCheck::Off);
    assert_eq!(
        store.consume(&l.state, &later, now + 65).await.unwrap(),
        used(None)
    );
    let sealed = vec![0u8, 1, 2, 255, 254];
    store.record_outcome(&l.state, &sealed).await.unwrap();
    assert_eq!(
        store.find(&l.state).await.unwrap(),
        used(Some(sealed.clone()))
    );
    assert_eq!(
        store.consume(&l.state, &later, now + 65).await.unwrap(),
        used(Some(sealed))
    );
    // An empty outcome (a refused login) is kept as empty, not as none.
    store.record_outcome(&l.state, &[]).await.unwrap();
    assert_eq!(store.find(&l.state).await.unwrap(), used(Some(Vec::new())));
}

async fn outcomes_attach_only_to_consumed_logins(store: Store) {
    let l = login(now_epoch_seconds() + 600);
    store.put_new(&l).await.unwrap();
    assert!(matches!(
        store.record_outcome(&l.state, b"sealed").await,
        Err(StoreError::NotConsumed)
    ));
    assert_eq!(store.find(&l.state).await.unwrap(), Consumed::Fresh(l));
    assert!(matches!(
        store.record_outcome(&StateId::generate(), b"sealed").await,
        Err(StoreError::NotConsumed)
    ));
}

async fn the_limits_round_trip_at_the_boundary(store: Store) {
    let now = now_epoch_seconds();
    // The longest return URL, counted as stored: here without a path, so the `/` the
    // parser adds is part of the count.
    let origin = "https://app.example.com";
    let query = "q".repeat(MAX_RETURN_URL_LEN - origin.len() - 2);
    let url = format!("{origin}?{query}");
    let mut l = login_for(Scope::Base, &url, now + 600);
    assert_eq!(l.return_url.as_str().len(), MAX_RETURN_URL_LEN);
    // The longest state a callback may carry.
    l.state = StateId::parse(&"S".repeat(128)).unwrap();
    store.put_new(&l).await.unwrap();
    assert_eq!(
        store.find(&l.state).await.unwrap(),
        Consumed::Fresh(l.clone())
    );
    let off = claim(Scope::Base, now, BrowserCheck::Off);
    assert_eq!(
        store.consume(&l.state, &off, now + 60).await.unwrap(),
        Consumed::Fresh(l.clone())
    );
    // A sealed answer as large as a full profile's could be.
    let sealed = vec![7u8; 16 * 1024];
    store.record_outcome(&l.state, &sealed).await.unwrap();
    assert!(matches!(
        store.find(&l.state).await.unwrap(),
        Consumed::Used { outcome: Some(o), .. } if o == sealed
    ));
}

async fn unknown_states_are_unknown_everywhere(store: Store) {
    let now = now_epoch_seconds();
    let state = StateId::generate();
    assert_eq!(store.find(&state).await.unwrap(), Consumed::Unknown);
    let hash = browser_binding::hash(COOKIE);
    for browser in [
        BrowserCheck::Off,
        BrowserCheck::NoCookie,
        BrowserCheck::Hash(&hash),
    ] {
        let found = store
            .consume(&state, &claim(Scope::Base, now, browser), now + 60)
            .await
            .unwrap();
        assert_eq!(found, Consumed::Unknown, "{browser:?}");
    }
    // Looking did not create it.
    assert_eq!(store.find(&state).await.unwrap(), Consumed::Unknown);
}

const REDIRECT: &str = "https://rp.example.com/cb";
const CHALLENGE: &str = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";

fn grant(now: i64) -> Grant {
    Grant {
        client_id: "rp".into(),
        redirect_uri: REDIRECT.into(),
        code_challenge: Some(CHALLENGE.into()),
        nonce: Some("n".into()),
        scope: Scope::UserInfo,
        auth_time: now,
        sub: "oSUB".into(),
        openid: "oSUB".into(),
        unionid: Some("uUNION".into()),
        unionid_scope: true,
        name: Some("小明".into()),
        picture: None,
        claims: Default::default(),
        code_expires_at: now + CODE_LIFETIME_SECONDS,
    }
}

fn redemption(now: i64) -> Redemption<'static> {
    Redemption {
        client_id: "rp",
        redirect_uri: REDIRECT,
        code_challenge: Some(CHALLENGE),
        now,
    }
}

async fn an_oidc_login_round_trips_at_its_limits(store: Store) {
    let now = now_epoch_seconds();
    let mut l = login_for(Scope::UserInfo, "https://app.example.com/cb", now + 600);
    l.nonce = Some("n".repeat(wxauth_core::login_state::MAX_NONCE_LEN));
    l.oidc = Some(OidcRequest {
        client_id: "c".repeat(wxauth_core::oidc::clients::MAX_CLIENT_ID_LEN),
        redirect_uri: "https://app.example.com/cb".into(),
        state: Some("s".repeat(wxauth_core::oidc::MAX_CLIENT_STATE_LEN)),
        code_challenge: Some(CHALLENGE.into()),
        profile: true,
        unionid: true,
        // Every claim asked for in both places: the longest stored form.
        claims: {
            let all = wxauth_core::oidc::claims_request::ClaimSet {
                name: true,
                picture: true,
                unionid: true,
            };
            wxauth_core::oidc::claims_request::RequestedClaims {
                id_token: all,
                userinfo: all,
            }
        },
    });
    store.put_new(&l).await.unwrap();
    assert_eq!(
        store.find(&l.state).await.unwrap(),
        Consumed::Fresh(l.clone())
    );
    let off = claim(Scope::UserInfo, now, BrowserCheck::Off);
    assert_eq!(
        store.consume(&l.state, &off, now + 60).await.unwrap(),
        Consumed::Fresh(l)
    );
}

async fn a_grant_is_stored_once_and_redeemed_by_exactly_one_racer(store: Store) {
    let now = now_epoch_seconds();
    let (_, id) = GrantId::generate();
    let g = grant(now);
    store.put_grant(&id, &g).await.unwrap();
    assert!(matches!(
        store.put_grant(&id, &grant(now + 1)).await,
        Err(StoreError::AlreadyExists)
    ));
    assert_eq!(
        store.find_grant(&id, now).await.unwrap(),
        Some(GrantStatus {
            grant: g.clone(),
            redeemed: false,
            revoked: false
        })
    );
    let racers = (0..16).map(|_| {
        let store = Arc::clone(&store);
        let id = id.clone();
        tokio::spawn(async move {
            store
                .redeem_grant(&id, &redemption(now), now + 600)
                .await
                .unwrap()
        })
    });
    let results: Vec<Redeemed> = futures::future::join_all(racers)
        .await
        .into_iter()
        .map(Result::unwrap)
        .collect();
    let fresh: Vec<&Redeemed> = results
        .iter()
        .filter(|r| matches!(r, Redeemed::Fresh(_)))
        .collect();
    assert_eq!(fresh, [&Redeemed::Fresh(g.clone())], "{results:?}");
    assert_eq!(
        results.iter().filter(|r| **r == Redeemed::Replayed).count(),
        15,
        "{results:?}"
    );
    // The losers' replays revoked it.
    assert!(store.find_grant(&id, now).await.unwrap().unwrap().revoked);
}

async fn a_grant_redeems_only_for_its_client_redirect_and_verifier(store: Store) {
    let now = now_epoch_seconds();
    let (_, id) = GrantId::generate();
    let g = grant(now);
    store.put_grant(&id, &g).await.unwrap();
    let other_challenge = "A".repeat(43);
    for wrong in [
        Redemption {
            client_id: "other",
            ..redemption(now)
        },
        Redemption {
            redirect_uri: "https://rp.example.com/cb/",
            ..redemption(now)
        },
        Redemption {
            code_challenge: None,
            ..redemption(now)
        },
        Redemption {
            code_challenge: Some(&other_challenge),
            ..redemption(now)
        },
    ] {
        assert_eq!(
            store.redeem_grant(&id, &wrong, now + 600).await.unwrap(),
            Redeemed::Kept(g.clone()),
            "{wrong:?}"
        );
    }
    // Nothing was spent.
    assert!(!store.find_grant(&id, now).await.unwrap().unwrap().redeemed);
    assert_eq!(
        store
            .redeem_grant(&id, &redemption(now), now + 600)
            .await
            .unwrap(),
        Redeemed::Fresh(g)
    );
    // A grant without a challenge needs a request without a verifier.
    let (_, plain_id) = GrantId::generate();
    let plain = Grant {
        code_challenge: None,
        ..grant(now)
    };
    store.put_grant(&plain_id, &plain).await.unwrap();
    assert_eq!(
        store
            .redeem_grant(&plain_id, &redemption(now), now + 600)
            .await
            .unwrap(),
        Redeemed::Kept(plain.clone())
    );
    let without = Redemption {
        code_challenge: None,
        ..redemption(now)
    };
    assert_eq!(
        store
            .redeem_grant(&plain_id, &without, now + 600)
            .await
            .unwrap(),
        Redeemed::Fresh(plain)
    );
}

async fn a_code_expires_at_the_second(store: Store) {
    let now = now_epoch_seconds();
    let g = grant(now);
    let (_, last_second) = GrantId::generate();
    store.put_grant(&last_second, &g).await.unwrap();
    let at = |t| Redemption {
        now: t,
        ..redemption(now)
    };
    assert_eq!(
        store
            .redeem_grant(&last_second, &at(g.code_expires_at - 1), now + 600)
            .await
            .unwrap(),
        Redeemed::Fresh(g.clone())
    );
    let (_, too_late) = GrantId::generate();
    store.put_grant(&too_late, &g).await.unwrap();
    assert_eq!(
        store
            .redeem_grant(&too_late, &at(g.code_expires_at), now + 600)
            .await
            .unwrap(),
        Redeemed::Kept(g)
    );
    let (_, unknown) = GrantId::generate();
    assert_eq!(
        store
            .redeem_grant(&unknown, &redemption(now), now + 600)
            .await
            .unwrap(),
        Redeemed::Unknown
    );
    assert_eq!(store.find_grant(&unknown, now).await.unwrap(), None);
}

async fn a_replay_revokes_the_grant(store: Store) {
    let now = now_epoch_seconds();
    let (_, id) = GrantId::generate();
    store.put_grant(&id, &grant(now)).await.unwrap();
    assert!(matches!(
        store
            .redeem_grant(&id, &redemption(now), now + 600)
            .await
            .unwrap(),
        Redeemed::Fresh(_)
    ));
    let status = store.find_grant(&id, now).await.unwrap().unwrap();
    assert!(status.redeemed && !status.revoked);
    // Even a request that would not fit is a replay of a redeemed code.
    let wrong = Redemption {
        client_id: "other",
        ..redemption(now)
    };
    assert_eq!(
        store.redeem_grant(&id, &wrong, now + 600).await.unwrap(),
        Redeemed::Replayed
    );
    let status = store.find_grant(&id, now).await.unwrap().unwrap();
    assert!(status.redeemed && status.revoked);
}

async fn a_redeemed_grant_is_kept_until_its_access_tokens_expire(store: Store) {
    let now = now_epoch_seconds();
    let (_, id) = GrantId::generate();
    let g = grant(now);
    store.put_grant(&id, &g).await.unwrap();
    // Before redemption the code's own expiry bounds it.
    assert!(
        store
            .find_grant(&id, g.code_expires_at - 1)
            .await
            .unwrap()
            .is_some()
    );
    assert_eq!(
        store.find_grant(&id, g.code_expires_at).await.unwrap(),
        None
    );
    let keep_until = now + 600;
    store
        .redeem_grant(&id, &redemption(now), keep_until)
        .await
        .unwrap();
    assert!(
        store
            .find_grant(&id, keep_until - 1)
            .await
            .unwrap()
            .is_some()
    );
    assert_eq!(store.find_grant(&id, keep_until).await.unwrap(), None);
}

const APP: &str = "wx00000000000000cc";

fn lease_at(now: i64, replacing: Replacing<'_>) -> LeaseRequest<'_> {
    LeaseRequest {
        now,
        until: now + 5,
        replacing,
    }
}

fn new_token(sealed: &[u8], refresh_at: i64) -> NewAppToken<'_> {
    NewAppToken {
        sealed,
        refresh_at,
        expires_at: refresh_at + 300,
    }
}

async fn of_racing_lease_takers_exactly_one_wins(store: Store) {
    assert_eq!(
        store.find_app_token(APP).await.unwrap(),
        AppTokenRecord::default()
    );
    let now = now_epoch_seconds();
    let mut racers = Vec::new();
    for _ in 0..16 {
        let store = Arc::clone(&store);
        racers.push(tokio::spawn(async move {
            store
                .take_app_token_lease(APP, &lease_at(now, Replacing::DueBy(now)))
                .await
                .unwrap()
        }));
    }
    let mut won = 0;
    for racer in racers {
        won += usize::from(racer.await.unwrap().is_some());
    }
    assert_eq!(won, 1);
    let record = store.find_app_token(APP).await.unwrap();
    assert_eq!((record.token, record.lease_until), (None, Some(now + 5)));
    // Another app's item is its own.
    assert!(
        store
            .take_app_token_lease("wx-other", &lease_at(now, Replacing::DueBy(now)))
            .await
            .unwrap()
            .is_some()
    );
}

async fn a_lease_expires_exactly_at_its_end(store: Store) {
    let t = now_epoch_seconds();
    let first = store
        .take_app_token_lease(APP, &lease_at(t, Replacing::DueBy(t)))
        .await
        .unwrap()
        .expect("a free lease");
    // Held one second before its end, expired at it.
    assert!(
        store
            .take_app_token_lease(APP, &lease_at(t + 4, Replacing::DueBy(t + 4)))
            .await
            .unwrap()
            .is_none()
    );
    let second = store
        .take_app_token_lease(APP, &lease_at(t + 5, Replacing::DueBy(t + 5)))
        .await
        .unwrap()
        .expect("expired at its end");
    assert_ne!(first, second);
    // And one second past the new one's end.
    assert!(
        store
            .take_app_token_lease(APP, &lease_at(t + 11, Replacing::DueBy(t + 11)))
            .await
            .unwrap()
            .is_some()
    );
}

async fn a_token_is_stored_only_under_the_lease_that_is_still_held(store: Store) {
    let t = now_epoch_seconds();
    let lost = store
        .take_app_token_lease(APP, &lease_at(t, Replacing::DueBy(t)))
        .await
        .unwrap()
        .unwrap();
    let held = store
        .take_app_token_lease(APP, &lease_at(t + 5, Replacing::DueBy(t + 5)))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        store
            .put_app_token(APP, &lost, &new_token(b"late", t + 100))
            .await
            .unwrap(),
        None,
        "a lease that expired and was taken stores nothing"
    );
    let version = store
        .put_app_token(APP, &held, &new_token(b"sealed\x00\xff", t + 100))
        .await
        .unwrap()
        .expect("the held lease stores");
    let record = store.find_app_token(APP).await.unwrap();
    assert_eq!(record.lease_until, None, "storing releases the lease");
    let token = record.token.unwrap();
    assert_eq!(token.sealed, b"sealed\x00\xff");
    assert_eq!((token.refresh_at, token.expires_at), (t + 100, t + 400));
    assert_eq!(token.version, version);
    // A released lease stores nothing a second time.
    assert_eq!(
        store
            .put_app_token(APP, &held, &new_token(b"again", t + 200))
            .await
            .unwrap(),
        None
    );
    assert_eq!(
        store
            .find_app_token(APP)
            .await
            .unwrap()
            .token
            .unwrap()
            .sealed,
        b"sealed\x00\xff"
    );
}

async fn a_lease_replaces_only_a_due_token_or_the_version_named(store: Store) {
    let t = now_epoch_seconds();
    let lease = store
        .take_app_token_lease(APP, &lease_at(t, Replacing::DueBy(t)))
        .await
        .unwrap()
        .unwrap();
    let version = store
        .put_app_token(APP, &lease, &new_token(b"v1", t + 100))
        .await
        .unwrap()
        .unwrap();
    // Not due one second before refresh_at, due at it.
    assert!(
        store
            .take_app_token_lease(APP, &lease_at(t + 99, Replacing::DueBy(t + 99)))
            .await
            .unwrap()
            .is_none()
    );
    assert!(
        store
            .take_app_token_lease(APP, &lease_at(t, Replacing::Version("not-the-stored-one")))
            .await
            .unwrap()
            .is_none()
    );
    let by_version = store
        .take_app_token_lease(APP, &lease_at(t, Replacing::Version(&version)))
        .await
        .unwrap()
        .expect("the version named is the stored one");
    // Held now, so not even a due token's lease is taken; the old token stays readable.
    assert!(
        store
            .take_app_token_lease(APP, &lease_at(t + 4, Replacing::DueBy(t + 100)))
            .await
            .unwrap()
            .is_none()
    );
    let record = store.find_app_token(APP).await.unwrap();
    assert_eq!(record.token.unwrap().version, version);
    assert_eq!(record.lease_until, Some(t + 5));
    let next = store
        .put_app_token(APP, &by_version, &new_token(b"v2", t + 200))
        .await
        .unwrap()
        .unwrap();
    assert_ne!(next, version);
    assert!(
        store
            .take_app_token_lease(APP, &lease_at(t + 200, Replacing::DueBy(t + 200)))
            .await
            .unwrap()
            .is_some()
    );
}
