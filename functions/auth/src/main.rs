#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), lambda_runtime::Error> {
    wxauth_lambda::run(auth::route, wxauth_core::config::Serves::StartOnly).await
}
