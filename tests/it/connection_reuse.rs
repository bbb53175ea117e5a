//! One warm execution environment keeps its connection to WeChat's API: a hundred logins
//! in a row open one TCP connection, not a hundred (no handshake per login).

use wxauth_core::Scope;
use wxauth_tests::*;

#[tokio::test]
async fn a_hundred_sequential_logins_reuse_one_connection_to_wechat() {
    let env = TestEnv::start().await;
    // WeChat's API on a server of its own, so the browser's visits are not counted.
    let api = env.sim.serve_on_loopback().await.unwrap();
    let mut vars = env.vars().clone();
    vars.insert("WECHAT_API_BASE", api.base_url.clone());
    let env = env.with_gateway_vars(vars).await;
    for i in 0..100 {
        let scope = if i % 2 == 0 {
            Scope::Base
        } else {
            Scope::UserInfo
        };
        env.login(&format!("u{i}"), "https://app.example.com/", scope, None)
            .await;
    }
    assert_eq!(api.connections_accepted(), 1);
}
