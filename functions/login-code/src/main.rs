#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), lambda_runtime::Error> {
    wxauth_lambda::run(&wxauth_lambda::functions::LOGIN_CODE).await
}
