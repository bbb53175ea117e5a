//! `wxauth-local`'s integration tests, one binary (one link, tests run in parallel in one
//! process): real sockets, the library's `start` and the program itself.

mod binary;
mod configured;
mod demo;
mod demo_lang;
#[cfg(unix)]
mod logs;
mod oidc_demo;
mod startup;
mod support;
