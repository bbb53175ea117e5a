#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), lambda_runtime::Error> {
    wxauth_lambda::run(
        userinfo_callback::route,
        wxauth_core::config::Serves::Callbacks,
    )
    .await
}
