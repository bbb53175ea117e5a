mod access_token;
mod authorize;
mod jscode2session;
mod login_request;
mod phone_number;
mod qrconnect;
mod stable_token;
mod userinfo;

use std::time::Instant;

use axum::Router;
use axum::extract::{Request, State};
use axum::middleware::{self, Next};
use axum::response::Response;
use axum::routing::{get, post};

use crate::WeChatSimulator;

pub(crate) fn router(sim: WeChatSimulator) -> Router {
    let api = Router::new()
        .route("/sns/oauth2/access_token", get(access_token::access_token))
        .route("/sns/userinfo", get(userinfo::userinfo))
        .route("/sns/jscode2session", get(jscode2session::jscode2session))
        .route("/cgi-bin/stable_token", post(stable_token::stable_token))
        .route(
            "/wxa/business/getuserphonenumber",
            post(phone_number::phone_number),
        )
        .route_layer(middleware::from_fn_with_state(sim.clone(), timed));
    Router::new()
        .route("/connect/oauth2/authorize", get(authorize::authorize))
        .route("/connect/oauth2/authorize/confirm", get(authorize::confirm))
        .route("/connect/qrconnect", get(qrconnect::qrconnect))
        .route("/connect/qrconnect/confirm", get(qrconnect::confirm))
        .merge(api)
        .with_state(sim)
}

/// Accounts the time spent answering an API call (see `WeChatSimulator::api_time`).
async fn timed(State(sim): State<WeChatSimulator>, request: Request, next: Next) -> Response {
    let started = Instant::now();
    let response = next.run(request).await;
    sim.add_api_time(started.elapsed());
    response
}
