#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), lambda_runtime::Error> {
    wxauth_lambda::run(
        oidc_userinfo::route,
        wxauth_core::config::Serves::OidcUserInfo,
    )
    .await
}
