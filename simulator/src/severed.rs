//! `Fault::DropConnection`: a response whose body fails before its first byte.
//!
//! hyper's HTTP/1 server only buffers the status line and headers when the
//! handler returns; it polls the body in the same pass, before flushing. A body
//! that errors on its very first poll therefore aborts the connection while the
//! head is still in hyper's write buffer: the socket is closed and the client
//! has received zero bytes, so it sees a transport error ("connection closed
//! before message completed"), never a status code. The promised
//! Content-Length guarantees hyper could not treat an early end as a complete
//! message even if the head did get out.

use std::pin::Pin;
use std::task::{Context, Poll};

use axum::body::{Body, Bytes, HttpBody};
use axum::http::header;
use axum::response::Response;
use http_body::{Frame, SizeHint};

const PROMISED_LEN: u64 = 1024;

struct SeveredBody;

impl HttpBody for SeveredBody {
    type Data = Bytes;
    type Error = std::io::Error;

    fn poll_frame(
        self: Pin<&mut Self>,
        _cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Self::Data>, Self::Error>>> {
        Poll::Ready(Some(Err(std::io::Error::new(
            std::io::ErrorKind::ConnectionAborted,
            "wechat-simulator: injected DropConnection fault",
        ))))
    }

    fn is_end_stream(&self) -> bool {
        false
    }

    fn size_hint(&self) -> SizeHint {
        SizeHint::with_exact(PROMISED_LEN)
    }
}

pub(crate) fn response() -> Response {
    let mut response = Response::new(Body::new(SeveredBody));
    response
        .headers_mut()
        .insert(header::CONTENT_TYPE, "text/plain".parse().expect("static"));
    response
}
