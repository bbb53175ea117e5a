//! A local stand-in for the parts of AWS that run wxauth, so that the real function
//! binaries can be exercised as AWS runs them:
//!
//! - [`ExecutionEnvironment`]: one function process (a Lambda execution environment),
//!   spawned with only the environment you give it plus Lambda's own variables, talking to
//!   an emulated Lambda Runtime API (`/2018-06-01/runtime/invocation/next`,
//!   `…/{id}/response`, `…/{id}/error`, `…/init/error`) on a loopback port. It tells how
//!   long init took (spawn to the first `/next`), or how init failed; then it takes one
//!   invocation at a time.
//! - [`HttpApi`]: API Gateway HTTP API in front of such environments: routes
//!   `"GET /auth"` → environment, stages (a named stage prefixes the path), HTTP requests
//!   to payload format 2.0 events ([`payload_v2_event`]) and the functions' payload 2.0
//!   responses back to HTTP ([`payload_v2_response`]).
//! - [`aws_secrets::SecretsDouble`]: SSM `GetParameter` and Secrets Manager
//!   `GetSecretValue` over AWS's JSON protocol on loopback, for `AWS_ENDPOINT_URL_SSM` /
//!   `AWS_ENDPOINT_URL_SECRETS_MANAGER`.
//!
//! - [`aws_proxy::RecordingProxy`]: forwards AWS JSON-protocol calls (DynamoDB) and records
//!   which operations a function really makes, and on which partition keys.
//!
//! Only loopback addresses are used.

pub mod aws_proxy;
pub mod aws_secrets;
mod http_api;
mod runtime_api;

pub use http_api::{HttpApi, HttpApiConfig, payload_v2_event, payload_v2_response};
pub use runtime_api::{
    EmulatorError, ExecutionEnvironment, FunctionError, FunctionSpec, InitOutcome, Invocation,
    InvocationOutcome,
};
