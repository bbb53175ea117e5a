//! `GET /getOpenId`: WeChat sends the user back here after a silent `snsapi_base` login.

use lambda_http::Request;
use wxauth_core::{Route, Scope};

pub fn route(_event: &Request) -> Route {
    Route::Callback(Scope::Base)
}
