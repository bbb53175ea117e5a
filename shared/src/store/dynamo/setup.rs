//! The DynamoDB client and table the store runs on: the SDK's timeouts, a client from
//! the process's environment, and the table as template.yaml declares it.

use std::time::Duration;

use aws_sdk_dynamodb::Client;

use super::DynamoStateStore;
use super::attr;
use super::errors::store_error;
use crate::store::StoreError;

/// The SDK's timeouts, chosen so that the store's share of a callback's 10 s stays small:
/// a first call from a cold 128 MB function can spend most of a second on TLS.
pub fn dynamo_timeouts() -> aws_config::timeout::TimeoutConfig {
    aws_config::timeout::TimeoutConfig::builder()
        .connect_timeout(Duration::from_millis(1500))
        .operation_attempt_timeout(Duration::from_secs(2))
        .operation_timeout(Duration::from_secs(3))
        .build()
}

impl DynamoStateStore {
    /// A client from the SDK's standard environment (region, credentials,
    /// AWS_ENDPOINT_URL_DYNAMODB), built once per process.
    pub async fn from_env(table: impl Into<String>) -> Self {
        let sdk = aws_config::defaults(aws_config::BehaviorVersion::latest())
            .timeout_config(dynamo_timeouts())
            .load()
            .await;
        Self::new(Client::new(&sdk), table)
    }

    /// Creates the table as template.yaml declares it (key `state`, on-demand, TTL on
    /// `expires_at`): for DynamoDB Local in tests, benchmarks and local runs.
    pub async fn create_table(client: &Client, table: &str) -> Result<(), StoreError> {
        use aws_sdk_dynamodb::types::{
            AttributeDefinition, BillingMode, KeySchemaElement, KeyType, ScalarAttributeType,
            TimeToLiveSpecification,
        };
        let built = |e: aws_sdk_dynamodb::error::BuildError| StoreError::Corrupt(e.to_string());
        client
            .create_table()
            .table_name(table)
            .billing_mode(BillingMode::PayPerRequest)
            .attribute_definitions(
                AttributeDefinition::builder()
                    .attribute_name(attr::STATE)
                    .attribute_type(ScalarAttributeType::S)
                    .build()
                    .map_err(built)?,
            )
            .key_schema(
                KeySchemaElement::builder()
                    .attribute_name(attr::STATE)
                    .key_type(KeyType::Hash)
                    .build()
                    .map_err(built)?,
            )
            .send()
            .await
            .map_err(store_error)?;
        client
            .update_time_to_live()
            .table_name(table)
            .time_to_live_specification(
                TimeToLiveSpecification::builder()
                    .attribute_name(attr::EXPIRES_AT)
                    .enabled(true)
                    .build()
                    .map_err(built)?,
            )
            .send()
            .await
            .map_err(store_error)?;
        Ok(())
    }
}
