#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), lambda_runtime::Error> {
    wxauth_lambda::run(oidc_token::route, wxauth_core::config::Serves::OidcToken).await
}
