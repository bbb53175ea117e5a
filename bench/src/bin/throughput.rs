//! Full logins per second through `wxauth-local` (demo mode: in-memory store, simulated
//! WeChat in the same server), driven by concurrent "browsers" from this process.
//!
//!   scripts/bench                      # builds and runs everything
//!   throughput --server=PATH/wxauth-local [--concurrency=64] [--seconds=10]
//!
//! Each login is three requests to the server: `/auth`, WeChat's authorize page
//! (silent snsapi_base: an immediate redirect) and the callback, with its cookie.

use std::process::Stdio;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use wxauth_bench::{Summary, arg, binding_cookie, browser, location};

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let server: String = arg("server", String::from("target/release/wxauth-local"));
    let concurrency: usize = arg("concurrency", 64);
    let seconds: u64 = arg("seconds", 10);
    let port = {
        let probe = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        probe.local_addr().unwrap().port()
    };
    let mut child = tokio::process::Command::new(&server)
        .env_clear()
        .env("PORT", port.to_string())
        .env("RUST_LOG", "warn")
        .stdout(Stdio::null())
        .stderr(Stdio::inherit())
        .kill_on_drop(true)
        .spawn()
        .unwrap_or_else(|e| panic!("cannot start {server}: {e}"));
    let base = format!("http://127.0.0.1:{port}");
    wait_until_up(&base).await;
    println!(
        "throughput: {concurrency} concurrent browsers for {seconds} s against {server} (demo mode), 2-core machine shared with this load generator"
    );

    // Warm up, then measure.
    run(&base, concurrency, Duration::from_secs(2)).await;
    let started = Instant::now();
    let samples = run(&base, concurrency, Duration::from_secs(seconds)).await;
    let elapsed = started.elapsed();
    println!(
        "full logins: {} in {:.2} s = {:.0} logins/s ({:.0} requests/s)",
        samples.len(),
        elapsed.as_secs_f64(),
        samples.len() as f64 / elapsed.as_secs_f64(),
        3.0 * samples.len() as f64 / elapsed.as_secs_f64()
    );
    println!(
        "{}",
        Summary::of(&samples).line("login latency (3 requests)")
    );
    child.kill().await.ok();
}

async fn wait_until_up(base: &str) {
    let client = browser();
    for _ in 0..200 {
        if client.get(format!("{base}/")).send().await.is_ok() {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("wxauth-local did not start at {base}");
}

/// Logins by `concurrency` tasks until `duration` has passed; the latency of each.
async fn run(base: &str, concurrency: usize, duration: Duration) -> Vec<Duration> {
    let stop = Arc::new(AtomicBool::new(false));
    let client = browser();
    let auth = format!(
        "{base}/auth?{}",
        form_urlencoded::Serializer::new(String::new())
            .append_pair("url", &format!("{base}/demo/result"))
            .append_pair("scope", "snsapi_base")
            .finish()
    );
    let mut tasks = Vec::new();
    for worker in 0..concurrency {
        let (stop, client, auth) = (Arc::clone(&stop), client.clone(), auth.clone());
        tasks.push(tokio::spawn(async move {
            let mut samples = Vec::new();
            let user = format!("browser{worker}");
            while !stop.load(Ordering::Relaxed) {
                let t0 = Instant::now();
                let started = client.get(&auth).send().await.expect("/auth");
                let cookie = binding_cookie(&started).expect("binding cookie");
                let at_wechat = client
                    .get(location(&started).split('#').next().unwrap())
                    .header("x-wechat-sim-user", &user)
                    .send()
                    .await
                    .expect("authorize");
                let finished = client
                    .get(location(&at_wechat))
                    .header("cookie", cookie)
                    .send()
                    .await
                    .expect("callback");
                assert!(location(&finished).contains("openid="), "a failed login");
                samples.push(t0.elapsed());
            }
            samples
        }));
    }
    tokio::time::sleep(duration).await;
    stop.store(true, Ordering::Relaxed);
    let mut all = Vec::new();
    for task in tasks {
        all.extend(task.await.unwrap());
    }
    all
}
