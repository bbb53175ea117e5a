//! The integration tests, one module per topic, in one binary: the real handlers against
//! DynamoDB Local and the WeChat simulator over real sockets (see `support`, the crate's
//! library). One binary links once and runs every test in one process, in parallel.

mod api_gateway_event;
mod apps;
mod browser_binding;
mod client_kits;
mod code_login;
mod concurrency;
mod connection_reuse;
mod duplicate_callbacks;
mod failover;
mod flow;
mod form_post;
mod hostile_input;
mod house;
mod invalid_states;
mod lambda_runtime;
mod local_server;
mod logs;
mod lost_answers;
mod metrics;
mod oidc;
mod oidc_pkce;
mod oidc_requests;
mod pages;
mod response_modes;
mod return_paths;
mod store_contract;
mod store_faults;
mod template_drift;
mod warm_up;
mod wechat_failures;
