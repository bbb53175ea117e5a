//! `GET /auth` (and WeChat's `MP_verify_….txt` domain check): starts a login.

use lambda_http::Request;
use wxauth_core::Route;

pub fn route(event: &Request) -> Route {
    Route::mp_verify(wxauth_lambda::raw_path(event)).unwrap_or(Route::Auth)
}
