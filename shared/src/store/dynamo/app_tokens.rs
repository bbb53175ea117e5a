//! An app's shared access token item: the consistent read, the conditional write that
//! takes the lease (free or expired, and the stored token due or the one named), and the
//! conditional write that stores the next token only while the lease is still ours. Both
//! writes carry a [`WriteId`], so a retried write whose first attempt landed knows it.

use aws_sdk_dynamodb::error::SdkError;
use aws_sdk_dynamodb::operation::update_item::UpdateItemError;
use aws_sdk_dynamodb::primitives::Blob;
use aws_sdk_dynamodb::types::{AttributeValue, ReturnValuesOnConditionCheckFailure};

use super::DynamoStateStore;
use super::attr;
use super::errors::{operation_error, store_error};
use super::items::{Item, n, number, s};
use super::writes::WriteId;
use crate::app_token::stored::{
    AppTokenRecord, Lease, LeaseRequest, NewAppToken, Replacing, StoredAppToken, app_token_key,
};
use crate::store::StoreError;

pub(super) async fn find(
    store: &DynamoStateStore,
    app_id: &str,
) -> Result<AppTokenRecord, StoreError> {
    let output = store
        .client
        .get_item()
        .table_name(&store.table)
        .key(attr::STATE, s(&app_token_key(app_id)))
        .consistent_read(true)
        .send()
        .await
        .map_err(store_error)?;
    output
        .item
        .map_or(Ok(AppTokenRecord::default()), |item| record(&item))
}

pub(super) async fn take_lease(
    store: &DynamoStateStore,
    app_id: &str,
    request: &LeaseRequest<'_>,
) -> Result<Option<Lease>, StoreError> {
    // The same condition as `LeaseRequest::fits`: the lease free or expired, and the
    // stored token (if any) the one this lease is meant to replace.
    let mut condition = "(attribute_not_exists(#lease_until) OR #lease_until <= :now) AND \
                         (attribute_not_exists(#version) OR "
        .to_owned();
    let write_id = WriteId::new();
    let mut update = store
        .client
        .update_item()
        .table_name(&store.table)
        .key(attr::STATE, s(&app_token_key(app_id)))
        // Before a first token the lease's end is the item's TTL; after, the token's
        // expiry stays it (a new token sets its own).
        .update_expression(
            "SET #lease_until = :until, #lease_id = :write_id, #write_id = :write_id, \
             #expires = if_not_exists(#expires, :until)",
        )
        .expression_attribute_names("#lease_until", attr::LEASE_UNTIL)
        .expression_attribute_names("#lease_id", attr::LEASE_ID)
        .expression_attribute_names("#write_id", attr::WRITE_ID)
        .expression_attribute_names("#expires", attr::EXPIRES_AT)
        .expression_attribute_names("#version", attr::TOKEN_VERSION)
        .expression_attribute_values(":now", n(request.now))
        .expression_attribute_values(":until", n(request.until))
        .expression_attribute_values(":write_id", s(write_id.as_str()))
        .return_values_on_condition_check_failure(ReturnValuesOnConditionCheckFailure::AllOld);
    match request.replacing {
        Replacing::DueBy(at) => {
            condition.push_str("#refresh_at <= :due)");
            update = update
                .expression_attribute_names("#refresh_at", attr::TOKEN_REFRESH_AT)
                .expression_attribute_values(":due", n(at));
        }
        Replacing::Version(version) => {
            condition.push_str("#version = :replaced)");
            update = update.expression_attribute_values(":replaced", s(version));
        }
    }
    match update.condition_expression(condition).send().await {
        Ok(_) => Ok(Some(Lease(write_id.as_str().to_owned()))),
        Err(SdkError::ServiceError(e)) => match e.into_err() {
            UpdateItemError::ConditionalCheckFailedException(failed) => match failed.item {
                // Our own first attempt took it; its answer was lost.
                Some(item) if write_id.wrote(&item) => {
                    Ok(Some(Lease(write_id.as_str().to_owned())))
                }
                _ => Ok(None),
            },
            other => Err(operation_error(other)),
        },
        Err(e) => Err(store_error(e)),
    }
}

pub(super) async fn put(
    store: &DynamoStateStore,
    app_id: &str,
    lease: &Lease,
    token: &NewAppToken<'_>,
) -> Result<Option<String>, StoreError> {
    let write_id = WriteId::new();
    let result = store
        .client
        .update_item()
        .table_name(&store.table)
        .key(attr::STATE, s(&app_token_key(app_id)))
        .update_expression(
            "SET #token = :token, #refresh_at = :refresh_at, #token_expires = :expires, \
             #expires = :expires, #version = :write_id, #write_id = :write_id \
             REMOVE #lease_until, #lease_id",
        )
        .condition_expression("#lease_id = :lease")
        .expression_attribute_names("#token", attr::APP_TOKEN)
        .expression_attribute_names("#refresh_at", attr::TOKEN_REFRESH_AT)
        .expression_attribute_names("#token_expires", attr::TOKEN_EXPIRES_AT)
        .expression_attribute_names("#expires", attr::EXPIRES_AT)
        .expression_attribute_names("#version", attr::TOKEN_VERSION)
        .expression_attribute_names("#write_id", attr::WRITE_ID)
        .expression_attribute_names("#lease_until", attr::LEASE_UNTIL)
        .expression_attribute_names("#lease_id", attr::LEASE_ID)
        .expression_attribute_values(":token", AttributeValue::B(Blob::new(token.sealed)))
        .expression_attribute_values(":refresh_at", n(token.refresh_at))
        .expression_attribute_values(":expires", n(token.expires_at))
        .expression_attribute_values(":write_id", s(write_id.as_str()))
        .expression_attribute_values(":lease", s(&lease.0))
        .return_values_on_condition_check_failure(ReturnValuesOnConditionCheckFailure::AllOld)
        .send()
        .await;
    match result {
        Ok(_) => Ok(Some(write_id.as_str().to_owned())),
        Err(SdkError::ServiceError(e)) => match e.into_err() {
            UpdateItemError::ConditionalCheckFailedException(failed) => match failed.item {
                Some(item) if write_id.wrote(&item) => Ok(Some(write_id.as_str().to_owned())),
                // The lease expired and another took it (or stored its token already).
                _ => Ok(None),
            },
            other => Err(operation_error(other)),
        },
        Err(e) => Err(store_error(e)),
    }
}

fn record(item: &Item) -> Result<AppTokenRecord, StoreError> {
    let lease_until = item
        .get(attr::LEASE_UNTIL)
        .map(|v| number(Some(v), attr::LEASE_UNTIL))
        .transpose()?;
    let token = match item.get(attr::APP_TOKEN) {
        None => None,
        Some(sealed) => Some(StoredAppToken {
            sealed: sealed
                .as_b()
                .map_err(|_| StoreError::Corrupt("app_token is not binary".into()))?
                .as_ref()
                .to_vec(),
            refresh_at: number(item.get(attr::TOKEN_REFRESH_AT), attr::TOKEN_REFRESH_AT)?,
            expires_at: number(item.get(attr::TOKEN_EXPIRES_AT), attr::TOKEN_EXPIRES_AT)?,
            version: item
                .get(attr::TOKEN_VERSION)
                .and_then(|v| v.as_s().ok())
                .cloned()
                .ok_or_else(|| StoreError::Corrupt("missing token_version".into()))?,
        }),
    };
    Ok(AppTokenRecord { token, lease_until })
}
