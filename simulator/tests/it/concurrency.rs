use std::collections::HashSet;

use wechat_simulator::Endpoint;

use crate::support::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_hundred_concurrent_logins_each_get_their_own_identity() {
    let (sim, running) = start(config()).await;
    let client = client();
    let logins = (0..100).map(|i| {
        let client = client.clone();
        let sim = sim.clone();
        let base = running.base_url.clone();
        tokio::spawn(async move {
            let user = format!("user-{i}");
            let code = base_login(&client, &base, &user).await;
            let json = exchange(&client, &base, &code).await;
            assert_eq!(json["openid"], sim.openid_for(&user));
            (code, json["access_token"].as_str().unwrap().to_owned())
        })
    });
    let mut codes = HashSet::new();
    let mut tokens = HashSet::new();
    for login in logins.collect::<Vec<_>>() {
        let (code, token) = login.await.unwrap();
        codes.insert(code);
        tokens.insert(token);
    }
    assert_eq!(codes.len(), 100);
    assert_eq!(tokens.len(), 100);
    assert_eq!(sim.calls(Endpoint::AccessToken), 100);
}
