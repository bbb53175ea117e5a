//! One attempt at one API base: the request (a GET, or a POST of a JSON body), sent once more when a pooled connection
//! closes before any answer, and its reply read up to [`MAX_REPLY_BYTES`]. Its errors
//! never carry the request's URL, which holds the AppSecret and the code.

use std::time::Duration;

use url::Url;

use super::{MAX_REPLY_BYTES, WeChatClient};
use crate::timing::{Wait, waiting_on};
use crate::wechat::error::WeChatError;

impl WeChatClient {
    pub(super) async fn attempt(
        &self,
        base: &Url,
        path: &str,
        query: &[(&str, &str)],
        json: Option<&str>,
        budget: Duration,
    ) -> Result<Vec<u8>, WeChatError> {
        let mut url = Url::parse(&format!("{}{path}", base.as_str().trim_end_matches('/')))
            .map_err(|e| WeChatError::Malformed(format!("bad API URL: {e}")))?;
        url.query_pairs_mut().extend_pairs(query);
        // A POST's body (stable_token's holds the AppSecret) goes as JSON, never in the URL.
        let request = |url: Url| match json {
            None => self.http.get(url),
            Some(body) => self
                .http
                .post(url)
                .header(reqwest::header::CONTENT_TYPE, "application/json")
                .body(body.to_owned()),
        };
        let read = async {
            let response = match request(url.clone()).send().await {
                // A pooled connection that WeChat closed while it sat idle, in the instant
                // our request went out on it: nothing came back, so once more, on a fresh
                // connection. For a code exchange the worst case (WeChat did read the
                // first one) is "code been used", the error the user would get anyway.
                Err(err) if closed_before_response(&err) => {
                    tracing::info!(error = %error_chain(&err.without_url()), "WeChat closed a pooled connection; retrying once on a new one");
                    request(url).send().await
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
    use tokio::time::Instant;

    use super::*;
    use crate::secret::Secret;

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
}
