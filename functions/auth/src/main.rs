#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    wxauth_lambda::run(auth::route).await
}
