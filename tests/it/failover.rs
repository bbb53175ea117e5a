//! WeChat's fallback API domains: the profile call fails over whenever WeChat seems down;
//! the code exchange only when the first attempt provably never reached WeChat. (A
//! connection closed before any answer is retried once on the same domain, on a fresh
//! connection: see wechat_failures.)

use std::time::{Duration, Instant};

use wechat_simulator::{Endpoint, Fault};
use wxauth_core::Scope;
use wxauth_tests::*;

fn closed_port_url() -> String {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    drop(listener);
    url
}

#[tokio::test]
async fn the_exchange_fails_over_when_the_primary_cannot_be_reached() {
    let dead = closed_port_url();
    let env = TestEnv::start_with(|s| {
        s.vars.insert("WECHAT_API_BASE", dead);
    })
    .await;
    // The fallback is the simulator itself (same WeChat, another domain).
    let env = {
        let mut vars = env.vars().clone();
        vars.insert("WECHAT_API_FALLBACK_BASES", env.sim_server.base_url.clone());
        env.with_gateway_vars(vars).await
    };
    let landing = env
        .login("amy", "https://app.example.com/", Scope::Base, None)
        .await;
    assert_eq!(
        result_params(&landing, false)["openid"],
        env.sim.openid_for("amy")
    );
}

#[tokio::test]
async fn a_code_is_never_sent_twice_after_the_primary_answered_badly() {
    let env = TestEnv::start().await;
    // A second server for the same simulated WeChat: the fallback domain.
    let fallback = env.sim.serve_on_loopback().await.unwrap();
    let mut vars = env.vars().clone();
    vars.insert("WECHAT_API_FALLBACK_BASES", fallback.base_url.clone());
    let env = env.with_gateway_vars(vars).await;
    for (fault, times) in [
        (Fault::Status(502, "<html>Bad Gateway</html>".into()), 1),
        // Closed without an answer: retried once on the primary, then given up.
        (Fault::DropConnection, 2),
    ] {
        env.sim.inject(Endpoint::AccessToken, fault, times);
        let before = env.sim.calls(Endpoint::AccessToken);
        let authorize = env
            .start_login("https://app.example.com/", Scope::Base, None)
            .await;
        let callback = env.wechat_authorize(&authorize, "ben", true).await;
        let landing = location(&env.follow_callback(&callback).await).unwrap();
        assert_eq!(
            result_params(&landing, false)["error"],
            "temporarily_unavailable"
        );
        assert_eq!(
            env.sim.calls(Endpoint::AccessToken),
            before + times,
            "the code may have been used: never to another domain"
        );
        assert_eq!(fallback.connections_accepted(), 0, "the fallback was asked");
    }
}

#[tokio::test]
async fn the_profile_fails_over_on_5xx_resets_and_timeouts() {
    let env = TestEnv::start_with(|s| {
        s.vars.insert("WECHAT_TIMEOUT_MS", "3000".into());
    })
    .await;
    let fallback = env.sim.serve_on_loopback().await.unwrap();
    let mut vars = env.vars().clone();
    vars.insert("WECHAT_API_FALLBACK_BASES", fallback.base_url.clone());
    let env = env.with_gateway_vars(vars).await;
    for fault in [
        Fault::Status(503, "<html>Service Unavailable</html>".into()),
        Fault::DropConnection,
        Fault::Delay(Duration::from_secs(30)),
    ] {
        let label = format!("{fault:?}");
        env.sim.inject(Endpoint::UserInfo, fault, 1);
        let before = env.sim.calls(Endpoint::UserInfo);
        let started = Instant::now();
        let landing = env
            .login("cleo", "https://app.example.com/", Scope::UserInfo, None)
            .await;
        let params = result_params(&landing, false);
        assert_eq!(params["nickname"], "cleo", "{label}: {landing}");
        assert_eq!(env.sim.calls(Endpoint::UserInfo), before + 2, "{label}");
        assert!(
            started.elapsed() < Duration::from_secs(4),
            "{label}: {:?}",
            started.elapsed()
        );
    }
}

/// A WeChat API host that does not answer at all: a listener whose one-place backlog is
/// full and which never accepts, so the kernel drops every further SYN and a connect hangs
/// until the client's connect timeout (unlike a closed port, which refuses at once).
struct Unanswering {
    url: String,
    _listener: tokio::net::TcpListener,
    _queued: Vec<std::net::TcpStream>,
}

impl Unanswering {
    async fn start() -> Self {
        let socket = tokio::net::TcpSocket::new_v4().unwrap();
        socket.bind("127.0.0.1:0".parse().unwrap()).unwrap();
        let listener = socket.listen(1).unwrap();
        let addr = listener.local_addr().unwrap();
        // Fill the accept queue (it holds backlog + 1 on Linux); the rest time out.
        let queued: Vec<_> = (0..4)
            .filter_map(|_| {
                std::net::TcpStream::connect_timeout(&addr, Duration::from_millis(300)).ok()
            })
            .collect();
        assert!(!queued.is_empty(), "the backlog filled");
        let probe = std::net::TcpStream::connect_timeout(&addr, Duration::from_millis(300));
        assert!(probe.is_err(), "a further connect must hang, not succeed");
        Self {
            url: format!("http://{addr}"),
            _listener: listener,
            _queued: queued,
        }
    }
}

#[tokio::test]
async fn the_exchange_fails_over_when_the_primary_does_not_answer_at_all() {
    let dead = Unanswering::start().await;
    let env = TestEnv::start_with(|s| {
        s.vars.insert("WECHAT_API_BASE", dead.url.clone());
    })
    .await;
    let env = {
        let mut vars = env.vars().clone();
        vars.insert("WECHAT_API_FALLBACK_BASES", env.sim_server.base_url.clone());
        env.with_gateway_vars(vars).await
    };
    let started = Instant::now();
    let landing = env
        .login("dina", "https://app.example.com/", Scope::Base, None)
        .await;
    // The connect timed out (nothing was sent), so even the code exchange moved on.
    assert_eq!(
        result_params(&landing, false)["openid"],
        env.sim.openid_for("dina"),
        "{landing}"
    );
    assert_eq!(env.sim.calls(Endpoint::AccessToken), 1);
    let took = started.elapsed();
    assert!(
        took >= Duration::from_millis(1500) && took < Duration::from_secs(6),
        "waited {took:?} (the client's connect timeout is 2 s)"
    );
}
