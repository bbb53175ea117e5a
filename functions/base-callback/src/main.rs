#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    wxauth_lambda::run(base_callback::route).await
}
