//! The browser's side over real HTTP: a client that follows no redirect, form encoding,
//! cookies as a browser reads them, and HTTP/1.1 messages read whole off a socket (for
//! the test servers that stand in for or sit in front of DynamoDB).

pub fn browser() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
}

pub fn encode(pairs: &[(&str, &str)]) -> String {
    form_urlencoded::Serializer::new(String::new())
        .extend_pairs(pairs)
        .finish()
}

/// The query string of a URL (a callback WeChat redirected to).
pub fn query_of(url: &str) -> String {
    url::Url::parse(url)
        .unwrap()
        .query()
        .unwrap_or_default()
        .to_owned()
}

/// A `Set-Cookie` header as a browser reads it (the `cookie` crate's parser).
pub fn parse_set_cookie(header: &str) -> cookie::Cookie<'static> {
    cookie::Cookie::parse(header.to_owned())
        .unwrap_or_else(|e| panic!("a malformed Set-Cookie {header:?}: {e}"))
}

/// `name=value` of a `Set-Cookie` header, as a browser sends it back.
pub fn cookie_pair(set_cookie: &str) -> String {
    parse_set_cookie(set_cookie).stripped().to_string()
}

/// One HTTP/1.1 message (a request or an answer) read whole from `stream`: the head and
/// the body its Content-Length declares. `None` when the peer closes first. For the test
/// servers that stand in for or sit in front of DynamoDB (which sends Content-Length).
pub async fn read_http_message(
    stream: &mut (impl tokio::io::AsyncRead + Unpin),
) -> Option<Vec<u8>> {
    use tokio::io::AsyncReadExt;
    let mut message = Vec::new();
    let mut buf = [0u8; 8192];
    loop {
        let n = stream.read(&mut buf).await.ok()?;
        if n == 0 {
            return None;
        }
        message.extend_from_slice(&buf[..n]);
        if let Some(head_end) = message.windows(4).position(|w| w == b"\r\n\r\n") {
            let head = String::from_utf8_lossy(&message[..head_end]);
            let length = http_header(&head, "content-length")
                .and_then(|v| v.parse::<usize>().ok())
                .unwrap_or(0);
            if message.len() >= head_end + 4 + length {
                return Some(message);
            }
        }
    }
}

/// A header's value in an HTTP message's head (names compared case-insensitively).
pub fn http_header<'h>(head: &'h str, name: &str) -> Option<&'h str> {
    head.lines().find_map(|line| {
        let (n, v) = line.split_once(':')?;
        n.trim().eq_ignore_ascii_case(name).then(|| v.trim())
    })
}
