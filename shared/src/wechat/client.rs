use std::time::Duration;

use tokio::time::Instant;
use url::Url;

use super::error::WeChatError;
use super::extra_roots::ExtraRoots;
use super::reply::{AccessTokenReply, UserProfile, parse_access_token_reply, parse_user_profile};
use crate::secret::Secret;
use crate::timing::{Wait, waiting_on};

/// Replies larger than this are not WeChat's: stop reading instead of buffering them.
pub const MAX_REPLY_BYTES: usize = 64 * 1024;

/// Talks to WeChat's API: the primary base, then the fallbacks WeChat publishes for
/// disaster recovery (api2.weixin.qq.com, regional domains). Holds one HTTP client so
/// connections (and TLS sessions) are reused across requests in a warm process.
#[derive(Clone, Debug)]
pub struct WeChatClient {
    http: reqwest::Client,
    /// The primary first.
    api_bases: Vec<Url>,
    app_id: String,
    app_secret: Secret,
}

/// When a failed attempt may be repeated against the next base.
#[derive(Clone, Copy)]
enum Failover {
    /// A code works once: only when the attempt provably never reached WeChat.
    OnlyIfNeverSent,
    /// Reading a profile is idempotent: also after timeouts, broken connections and 5xx.
    WheneverWeChatSeemsDown,
}

impl WeChatClient {
    pub fn new(
        http: reqwest::Client,
        api_base: Url,
        fallback_bases: Vec<Url>,
        app_id: String,
        app_secret: Secret,
    ) -> Self {
        let mut api_bases = vec![api_base];
        api_bases.extend(fallback_bases);
        Self {
            http,
            api_bases,
            app_id,
            app_secret,
        }
    }

    /// The process-wide HTTP client. Per-call deadlines come from the caller's budget; the
    /// connect timeout keeps a black-holed address from eating all of it.
    ///
    /// Trusts Mozilla's root certificates, compiled in (`webpki-root-certs`), rather than
    /// the system's: the platform verifier read and parsed the system bundle at every cold
    /// start (docs/performance.md, "Levers"), and the roots are now the same wherever the
    /// gateway runs. They are updated with the dependency.
    ///
    /// [`EXTRA_ROOTS_VARIABLE`] adds roots to them (never replaces them); see there.
    pub fn http_client() -> reqwest::Client {
        Self::http_client_with(None)
    }

    /// [`Self::http_client`], also trusting the configuration's extra roots.
    pub fn http_client_with(extra: Option<&ExtraRoots>) -> reqwest::Client {
        let roots = webpki_root_certs::TLS_SERVER_ROOT_CERTS
            .iter()
            .filter_map(|der| reqwest::Certificate::from_der(der).ok())
            .chain(
                extra
                    .into_iter()
                    .flat_map(|extra| extra.certs.iter().cloned()),
            );
        reqwest::Client::builder()
            .tls_certs_only(roots)
            .connect_timeout(Duration::from_secs(2))
            .pool_idle_timeout(Duration::from_secs(50))
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .expect("the HTTP client's TLS configuration is valid")
    }

    /// Opens a connection to the primary API base, TLS and all, for the first callback to
    /// reuse: `GET /`, which carries no AppSecret and no code and whose answer (any status)
    /// is read and dropped so the connection goes back to the pool.
    pub async fn warm_up(&self) -> Result<(), reqwest::Error> {
        let mut response = self.http.get(self.api_bases[0].clone()).send().await?;
        let mut read = 0;
        while let Some(chunk) = response.chunk().await? {
            read += chunk.len();
            if read > MAX_REPLY_BYTES {
                break;
            }
        }
        Ok(())
    }

    /// `/sns/oauth2/access_token`: trades a code (single use) for an access token and openid.
    pub async fn exchange_code(
        &self,
        code: &Secret,
        deadline: Instant,
    ) -> Result<AccessTokenReply, WeChatError> {
        let query = [
            ("appid", self.app_id.as_str()),
            ("secret", self.app_secret.expose()),
            ("code", code.expose()),
            ("grant_type", "authorization_code"),
        ];
        let body = self
            .get(
                "/sns/oauth2/access_token",
                &query,
                Failover::OnlyIfNeverSent,
                deadline,
            )
            .await?;
        parse_access_token_reply(&body)
    }

    /// `/sns/userinfo`: the profile, for a token obtained with `snsapi_userinfo`.
    pub async fn user_info(
        &self,
        access_token: &Secret,
        openid: &str,
        deadline: Instant,
    ) -> Result<UserProfile, WeChatError> {
        let query = [
            ("access_token", access_token.expose()),
            ("openid", openid),
            ("lang", "zh_CN"),
        ];
        let body = self
            .get(
                "/sns/userinfo",
                &query,
                Failover::WheneverWeChatSeemsDown,
                deadline,
            )
            .await?;
        let profile = parse_user_profile(&body)?;
        if profile.openid != openid {
            return Err(WeChatError::Malformed(
                "userinfo is for a different openid".into(),
            ));
        }
        Ok(profile)
    }

    async fn get(
        &self,
        path: &str,
        query: &[(&str, &str)],
        failover: Failover,
        deadline: Instant,
    ) -> Result<Vec<u8>, WeChatError> {
        let mut last_error = WeChatError::Timeout;
        for (i, base) in self.api_bases.iter().enumerate() {
            let remaining = deadline.saturating_duration_since(Instant::now());
            if remaining.is_zero() {
                return Err(WeChatError::Timeout);
            }
            // Leave later bases a fair share of the budget when they may be tried.
            let attempt_budget = match failover {
                Failover::OnlyIfNeverSent => remaining,
                Failover::WheneverWeChatSeemsDown => remaining / (self.api_bases.len() - i) as u32,
            };
            match self.attempt(base, path, query, attempt_budget).await {
                Ok(body) => return Ok(body),
                Err(err) if may_fail_over(&err, failover) => {
                    tracing::warn!(base = %base, error = %err, "WeChat API attempt failed; trying the next base");
                    last_error = err;
                }
                Err(err) => return Err(err),
            }
        }
        Err(last_error)
    }

    async fn attempt(
        &self,
        base: &Url,
        path: &str,
        query: &[(&str, &str)],
        budget: Duration,
    ) -> Result<Vec<u8>, WeChatError> {
        let mut url = Url::parse(&format!("{}{path}", base.as_str().trim_end_matches('/')))
            .map_err(|e| WeChatError::Malformed(format!("bad API URL: {e}")))?;
        url.query_pairs_mut().extend_pairs(query);
        let read = async {
            let response = match self.http.get(url.clone()).send().await {
                // A pooled connection that WeChat closed while it sat idle, in the instant
                // our request went out on it: nothing came back, so once more, on a fresh
                // connection. For a code exchange the worst case (WeChat did read the
                // first one) is "code been used", the error the user would get anyway.
                Err(err) if closed_before_response(&err) => {
                    tracing::info!(error = %error_chain(&err.without_url()), "WeChat closed a pooled connection; retrying once on a new one");
                    self.http.get(url).send().await
                }
                other => other,
            };
            let mut response = response.map_err(transport_error)?;
            let status = response.status();
            if !status.is_success() {
                return Err(WeChatError::HttpStatus(status.as_u16()));
            }
            if response
                .content_length()
                .is_some_and(|len| len > MAX_REPLY_BYTES as u64)
            {
                return Err(WeChatError::TooLarge(MAX_REPLY_BYTES));
            }
            let mut body = Vec::new();
            while let Some(chunk) = response.chunk().await.map_err(transport_error)? {
                if body.len() + chunk.len() > MAX_REPLY_BYTES {
                    return Err(WeChatError::TooLarge(MAX_REPLY_BYTES));
                }
                body.extend_from_slice(&chunk);
            }
            Ok(body)
        };
        waiting_on(Wait::WeChat, tokio::time::timeout(budget, read))
            .await
            .unwrap_or(Err(WeChatError::Timeout))
    }
}

fn may_fail_over(err: &WeChatError, failover: Failover) -> bool {
    match failover {
        Failover::OnlyIfNeverSent => matches!(err, WeChatError::Connect(_)),
        Failover::WheneverWeChatSeemsDown => match err {
            WeChatError::Connect(_) | WeChatError::Timeout | WeChatError::Transport(_) => true,
            WeChatError::HttpStatus(status) => *status >= 500,
            _ => false,
        },
    }
}

/// reqwest's errors carry the request URL, and ours holds the secret and the code: drop it
/// before the error can be displayed anywhere.
///
/// A connection that never opened is a connect error even when it failed by timing out
/// (reqwest reports a connect timeout as both): nothing reached WeChat, so even a code
/// exchange may fail over. Asking `is_timeout` first lost exactly the case failover is
/// for, a host that does not answer at all.
fn transport_error(err: reqwest::Error) -> WeChatError {
    let err = err.without_url();
    if err.is_connect() {
        WeChatError::Connect(error_chain(&err))
    } else if err.is_timeout() {
        WeChatError::Timeout
    } else {
        WeChatError::Transport(error_chain(&err))
    }
}

/// Whether a request failed because its connection closed before any response came: an
/// idle connection closed by the server (or reset) just as it was reused. Not a connect
/// error (those fail over) nor a timeout.
fn closed_before_response(err: &reqwest::Error) -> bool {
    if err.is_connect() || err.is_timeout() {
        return false;
    }
    let mut source: Option<&(dyn std::error::Error + 'static)> = std::error::Error::source(err);
    while let Some(cause) = source {
        if let Some(hyper) = cause.downcast_ref::<hyper::Error>()
            && hyper.is_incomplete_message()
        {
            return true;
        }
        if let Some(io) = cause.downcast_ref::<std::io::Error>()
            && matches!(
                io.kind(),
                std::io::ErrorKind::ConnectionReset
                    | std::io::ErrorKind::ConnectionAborted
                    | std::io::ErrorKind::BrokenPipe
                    | std::io::ErrorKind::UnexpectedEof
            )
        {
            return true;
        }
        source = cause.source();
    }
    false
}

fn error_chain(err: &dyn std::error::Error) -> String {
    let mut text = err.to_string();
    let mut source = err.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_compiled_in_root_is_trusted() {
        let roots = webpki_root_certs::TLS_SERVER_ROOT_CERTS;
        assert!(roots.len() > 100, "Mozilla's set, not a pinned few");
        let usable = roots
            .iter()
            .filter(|der| reqwest::Certificate::from_der(der).is_ok())
            .count();
        assert_eq!(usable, roots.len());
    }

    /// A WeChat stand-in on loopback over raw TCP: answers each request with a token
    /// reply, except that on the first connection it answers its second request by closing
    /// the connection (an idle close crossing the reused connection's request), and with
    /// `close_all` it closes on every request. Counts connections and requests.
    async fn closing_server(
        close_all: bool,
    ) -> (
        Url,
        std::sync::Arc<std::sync::atomic::AtomicUsize>,
        std::sync::Arc<std::sync::atomic::AtomicUsize>,
    ) {
        use std::sync::Arc;
        use std::sync::atomic::{AtomicUsize, Ordering};
        use tokio::io::{AsyncReadExt, AsyncWriteExt};

        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = Url::parse(&format!("http://{}", listener.local_addr().unwrap())).unwrap();
        let connections = Arc::new(AtomicUsize::new(0));
        let requests = Arc::new(AtomicUsize::new(0));
        let (c, r) = (Arc::clone(&connections), Arc::clone(&requests));
        tokio::spawn(async move {
            loop {
                let (mut socket, _) = listener.accept().await.unwrap();
                let connection = c.fetch_add(1, Ordering::SeqCst) + 1;
                let requests = Arc::clone(&r);
                tokio::spawn(async move {
                    let body = r#"{"access_token":"AT","expires_in":7200,"openid":"oOPENID","scope":"snsapi_base"}"#;
                    let mut on_this_connection = 0;
                    let mut buf = Vec::new();
                    loop {
                        let mut chunk = [0u8; 4096];
                        let n = socket.read(&mut chunk).await.unwrap_or(0);
                        if n == 0 {
                            return;
                        }
                        buf.extend_from_slice(&chunk[..n]);
                        while let Some(end) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
                            buf.drain(..end + 4);
                            requests.fetch_add(1, Ordering::SeqCst);
                            on_this_connection += 1;
                            if close_all || (connection == 1 && on_this_connection == 2) {
                                return; // closed, nothing answered
                            }
                            let reply = format!(
                                "HTTP/1.1 200 OK\r\ncontent-type: text/plain\r\ncontent-length: {}\r\n\r\n{body}",
                                body.len()
                            );
                            socket.write_all(reply.as_bytes()).await.unwrap();
                        }
                    }
                });
            }
        });
        (url, connections, requests)
    }

    fn client_for(base: Url) -> WeChatClient {
        WeChatClient::new(
            WeChatClient::http_client(),
            base,
            Vec::new(),
            "wx0123456789abcdef".into(),
            Secret::new("s3cr3t"),
        )
    }

    fn soon() -> Instant {
        Instant::now() + Duration::from_secs(5)
    }

    #[tokio::test]
    async fn a_pooled_connection_closed_under_a_request_costs_one_retry_not_the_login() {
        use std::sync::atomic::Ordering;
        let (base, connections, requests) = closing_server(false).await;
        let client = client_for(base);
        let first = client.exchange_code(&Secret::new("c1"), soon()).await;
        assert_eq!(first.unwrap().openid, "oOPENID");
        // The second exchange goes out on the pooled connection, which the server closes.
        let second = client.exchange_code(&Secret::new("c2"), soon()).await;
        assert_eq!(second.unwrap().openid, "oOPENID");
        assert_eq!(connections.load(Ordering::SeqCst), 2);
        assert_eq!(requests.load(Ordering::SeqCst), 3);
    }

    #[tokio::test]
    async fn a_connection_that_keeps_closing_is_retried_once_only() {
        use std::sync::atomic::Ordering;
        let (base, _, requests) = closing_server(true).await;
        let client = client_for(base);
        let err = client
            .exchange_code(&Secret::new("c1"), soon())
            .await
            .unwrap_err();
        assert!(matches!(err, WeChatError::Transport(_)), "{err:?}");
        assert!(!err.to_string().contains("s3cr3t"), "{err}");
        assert_eq!(requests.load(Ordering::SeqCst), 2);
    }

    #[test]
    fn failing_over_a_code_exchange_only_when_it_never_left() {
        let connect = WeChatError::Connect("refused".into());
        assert!(may_fail_over(&connect, Failover::OnlyIfNeverSent));
        assert!(!may_fail_over(
            &WeChatError::Timeout,
            Failover::OnlyIfNeverSent
        ));
        assert!(may_fail_over(
            &WeChatError::Timeout,
            Failover::WheneverWeChatSeemsDown
        ));
        assert!(may_fail_over(
            &WeChatError::HttpStatus(502),
            Failover::WheneverWeChatSeemsDown
        ));
        assert!(!may_fail_over(
            &WeChatError::HttpStatus(404),
            Failover::WheneverWeChatSeemsDown
        ));
    }
}
