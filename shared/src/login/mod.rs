//! A WeChat login, whichever way it was asked for: the redirect mode's `/auth` and the
//! OpenID Provider's `/oauth2/authorize` both start one here ([`begin`]), with the app
//! and scope [`app_choice`] picks, bound to the browser that started it
//! ([`browser_binding`]); WeChat's callback (`crate::callback`) ends it with an
//! [`outcome`].

pub mod app_choice;
pub mod begin;
pub mod browser_binding;
pub mod deadline;
pub mod outcome;
