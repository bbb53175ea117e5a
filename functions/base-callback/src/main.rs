#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), lambda_runtime::Error> {
    wxauth_lambda::run(base_callback::route, wxauth_core::config::Serves::Callbacks).await
}
