//! The redirect mode, wxauth's first purpose: a front end sends the visitor to
//! `/auth?url=…&scope=…` ([`start`]); after WeChat's callback (`crate::callback`) the
//! visitor goes back to `url` with the openid, the profile and a signed token
//! ([`result`]), in the query, the fragment or a self-submitting form ([`result_url`],
//! [`form_post`]).

pub mod form_post;
pub mod result;
pub mod result_url;
pub mod start;
