//! Helpers shared by the local server's tests: real sockets, no redirects followed.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::process::Stdio;

use reqwest::header::{HeaderMap, LOCATION};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::process::Command;
use url::Url;
use wxauth_local::{LocalServer, StartError, start};

/// An environment made of exactly these variables.
pub fn env(vars: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> + use<> {
    let map: HashMap<String, String> = vars
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect();
    move |name| map.get(name).cloned()
}

pub async fn start_with(vars: &[(&str, &str)]) -> Result<LocalServer, StartError> {
    let listener = TcpListener::bind(("127.0.0.1", 0)).await.unwrap();
    start(env(vars), listener).await
}

/// The `wxauth-local` program with exactly these environment variables (and a quiet log
/// unless they set RUST_LOG).
pub fn program(vars: &[(&str, &str)]) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_wxauth-local"));
    command
        .env_clear()
        .env("RUST_LOG", "warn")
        .envs(vars.iter().copied())
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true);
    command
}

/// Asks a running program to stop, as a service manager would.
#[cfg(unix)]
pub async fn sigterm(child: &tokio::process::Child) {
    let pid = child.id().expect("still running").to_string();
    let killed = Command::new("kill")
        .args(["-TERM", &pid])
        .status()
        .await
        .unwrap();
    assert!(killed.success());
}

pub fn port_of(server: &LocalServer) -> u16 {
    Url::parse(&server.base_url).unwrap().port().unwrap()
}

/// A client that follows no redirects and reaches `localhost` on 127.0.0.1 (where the
/// server listens), so pages can be opened under either name.
pub fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .resolve("localhost", SocketAddr::from(([127, 0, 0, 1], 0)))
        .build()
        .unwrap()
}

pub struct Page {
    pub status: u16,
    pub headers: HeaderMap,
    pub body: String,
}

impl Page {
    pub fn location(&self) -> String {
        self.headers
            .get(LOCATION)
            .unwrap_or_else(|| panic!("no Location on a {} answer: {}", self.status, self.body))
            .to_str()
            .unwrap()
            .to_owned()
    }

    pub fn header(&self, name: &str) -> &str {
        self.headers
            .get(name)
            .unwrap_or_else(|| panic!("no {name} header"))
            .to_str()
            .unwrap()
    }

    /// `name=value` of the browser-binding cookie `/auth` sets, to send back on the callback.
    pub fn binding_cookie(&self) -> String {
        self.headers
            .get_all("set-cookie")
            .iter()
            .filter_map(|v| v.to_str().ok())
            .find(|c| c.starts_with("wxauth_"))
            .and_then(|c| c.split(';').next())
            .unwrap_or_else(|| panic!("no binding cookie on a {} answer", self.status))
            .to_owned()
    }

    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.body).unwrap_or_else(|e| panic!("not JSON ({e}): {}", self.body))
    }
}

/// GET `url` with extra headers (the fragment is never sent, as in a browser).
pub async fn get(url: &str, headers: &[(&str, &str)]) -> Page {
    let mut request = client().get(url);
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    let response = request
        .send()
        .await
        .unwrap_or_else(|e| panic!("GET {url}: {e}"));
    Page {
        status: response.status().as_u16(),
        headers: response.headers().clone(),
        body: response.text().await.unwrap(),
    }
}

/// Resolves a Location against the URL it came from.
pub fn follow(from: &str, location: &str) -> String {
    Url::parse(from)
        .unwrap()
        .join(location)
        .unwrap()
        .to_string()
}

/// Every `href="..."` that starts with `prefix`, unescaped.
pub fn hrefs(body: &str, prefix: &str) -> Vec<String> {
    body.split("href=\"")
        .skip(1)
        .filter_map(|rest| rest.split_once('"').map(|(link, _)| unescape(link)))
        .filter(|link| link.starts_with(prefix))
        .collect()
}

/// The hidden form fields of a page, in order.
pub fn hidden_fields(body: &str) -> Vec<(String, String)> {
    body.split("<input type=\"hidden\" name=\"")
        .skip(1)
        .map(|rest| {
            let (name, rest) = rest.split_once('"').unwrap();
            let value = rest.split_once("value=\"").unwrap().1;
            let value = value.split_once('"').unwrap().0;
            (unescape(name), unescape(value))
        })
        .collect()
}

pub fn unescape(text: &str) -> String {
    text.replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&#x27;", "'")
        .replace("&#39;", "'")
        .replace("&amp;", "&")
}

/// The decoded query parameters of a URL.
pub fn query_params(url: &str) -> HashMap<String, String> {
    Url::parse(url)
        .unwrap()
        .query_pairs()
        .into_owned()
        .collect()
}

/// Sends `request` as raw bytes (for what a well-behaved client would never send) and
/// returns the status code and the body.
pub async fn raw(base_url: &str, request: &[u8]) -> (u16, String) {
    let addr = Url::parse(base_url).unwrap();
    let mut stream = TcpStream::connect((addr.host_str().unwrap(), addr.port().unwrap()))
        .await
        .unwrap();
    stream.write_all(request).await.unwrap();
    let mut answer = Vec::new();
    stream.read_to_end(&mut answer).await.unwrap();
    let answer = String::from_utf8_lossy(&answer).into_owned();
    let status = answer
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("not an HTTP answer: {answer:?}"));
    let body = answer
        .split_once("\r\n\r\n")
        .map(|(_, b)| b.to_owned())
        .unwrap_or_default();
    (status, body)
}
