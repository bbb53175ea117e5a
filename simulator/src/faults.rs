use std::collections::{HashMap, VecDeque};
use std::time::Duration;

use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};

use crate::{reply, severed};

/// The API endpoints (the ones a backend calls, as opposed to the browser pages).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Endpoint {
    /// `GET /sns/oauth2/access_token`
    AccessToken,
    /// `GET /sns/userinfo`
    UserInfo,
    /// `GET /sns/jscode2session` (Mini Programs)
    JsCode2Session,
    /// `POST /cgi-bin/stable_token` (an app's own access token)
    StableToken,
    /// `POST /wxa/business/getuserphonenumber` (Mini Programs)
    PhoneNumber,
}

/// A misbehaviour to inject in place of (or before) an endpoint's normal answer.
#[derive(Clone, Debug)]
pub enum Fault {
    /// HTTP 200 text/plain `{"errcode":n,"errmsg":msg}`; `msg` is sent verbatim (no rid appended).
    Errcode(i64, String),
    /// Wait, then answer normally.
    Delay(Duration),
    /// That HTTP status with that body as `text/html` (a gateway error page).
    /// A status outside 100..=999 is sent as 500.
    Status(u16, String),
    /// HTTP 200 text/plain with exactly this raw body.
    Body(String),
    /// Close the TCP connection without a complete HTTP response.
    DropConnection,
}

/// Pending faults per endpoint, consumed in injection order.
#[derive(Default)]
pub(crate) struct FaultBook {
    pending: HashMap<Endpoint, VecDeque<(Fault, usize)>>,
}

impl FaultBook {
    pub(crate) fn push(&mut self, endpoint: Endpoint, fault: Fault, times: usize) {
        if times > 0 {
            self.pending
                .entry(endpoint)
                .or_default()
                .push_back((fault, times));
        }
    }

    pub(crate) fn clear(&mut self) {
        self.pending.clear();
    }

    /// The fault the next request on `endpoint` suffers, if any.
    pub(crate) fn take(&mut self, endpoint: Endpoint) -> Option<Fault> {
        let queue = self.pending.get_mut(&endpoint)?;
        let (fault, remaining) = queue.front_mut()?;
        let fault = fault.clone();
        // usize::MAX means "until cleared", so it is never counted down.
        if *remaining != usize::MAX {
            *remaining -= 1;
            if *remaining == 0 {
                queue.pop_front();
            }
        }
        Some(fault)
    }
}

/// The response a fault stands for; `None` for `Delay`, which only postpones the real answer.
pub(crate) fn response_for(fault: Fault) -> Option<Response> {
    match fault {
        Fault::Errcode(code, msg) => Some(reply::errcode_verbatim(code, &msg)),
        Fault::Delay(_) => None,
        Fault::Status(status, body) => {
            let status = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
            Some(
                (
                    status,
                    [(header::CONTENT_TYPE, "text/html; charset=utf-8")],
                    body,
                )
                    .into_response(),
            )
        }
        Fault::Body(body) => Some(reply::text_plain(body)),
        Fault::DropConnection => Some(severed::response()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn faults_are_consumed_in_order_and_counted_down() {
        let mut book = FaultBook::default();
        book.push(Endpoint::AccessToken, Fault::Body("a".into()), 2);
        book.push(Endpoint::AccessToken, Fault::Body("b".into()), 1);
        book.push(Endpoint::AccessToken, Fault::Body("never".into()), 0);
        let mut seen = Vec::new();
        while let Some(Fault::Body(b)) = book.take(Endpoint::AccessToken) {
            seen.push(b);
        }
        assert_eq!(seen, ["a", "a", "b"]);
        assert!(book.take(Endpoint::UserInfo).is_none());
    }

    #[test]
    fn usize_max_lasts_until_cleared() {
        let mut book = FaultBook::default();
        book.push(Endpoint::UserInfo, Fault::DropConnection, usize::MAX);
        for _ in 0..1000 {
            assert!(book.take(Endpoint::UserInfo).is_some());
        }
        book.clear();
        assert!(book.take(Endpoint::UserInfo).is_none());
    }
}
