//! End-to-end tests over real loopback sockets with a redirect-less reqwest client.

mod accounting;
mod browser;
mod code_login;
mod concurrency;
mod exchange;
mod faults;
mod qr_login;
mod support;
mod userinfo;
