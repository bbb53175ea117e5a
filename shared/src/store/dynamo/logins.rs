//! A login's calls after `put_new`: the one conditional write that consumes it (the
//! route, expiry and browser part of its condition), the sealed outcome kept for a
//! repeated callback, and the consistent read of what is there.

use aws_sdk_dynamodb::error::SdkError;
use aws_sdk_dynamodb::operation::update_item::UpdateItemError;
use aws_sdk_dynamodb::primitives::Blob;
use aws_sdk_dynamodb::types::{AttributeValue, ReturnValue, ReturnValuesOnConditionCheckFailure};

use super::DynamoStateStore;
use super::attr;
use super::errors::{operation_error, store_error};
use super::items::{from_item, n, read_item, s};
use super::writes::WriteId;
use crate::login_state::{Consumed, StateId};
use crate::store::{BrowserCheck, Claim, StoreError};

pub(super) async fn consume(
    store: &DynamoStateStore,
    state: &StateId,
    claim: &Claim<'_>,
    keep_until: i64,
) -> Result<Consumed, StoreError> {
    let binding = match claim.browser {
        // Nothing can be consumed without the cookie: only say what is there.
        BrowserCheck::NoCookie => return Ok(not_consumed_by_us(find(store, state).await?)),
        BrowserCheck::Hash(hash) => Some(hash),
        BrowserCheck::Off => None,
    };
    // One conditional write decides who consumes the login: DynamoDB serialises writes
    // to an item, so exactly one caller passes the condition and gets the old image.
    // (A plain DeleteItem returning ALL_OLD was seen handing the same old image to
    // several concurrent callers in DynamoDB Local.) The route, the expiry and the
    // browser are part of the condition, so a claim that does not fit changes nothing.
    let mut condition = "attribute_exists(#state) AND attribute_not_exists(#consumed) \
                         AND #scope = :scope AND #expires > :now"
        .to_owned();
    let write_id = WriteId::new();
    let mut update = store
        .client
        .update_item()
        .table_name(&store.table)
        .key(attr::STATE, s(state.as_str()))
        .update_expression(
            "SET #consumed = :now, #expires = :keep, #login_expires = #expires, \
             #write_id = :write_id",
        )
        .expression_attribute_names("#state", attr::STATE)
        .expression_attribute_names("#write_id", attr::WRITE_ID)
        .expression_attribute_values(":write_id", s(write_id.as_str()))
        .expression_attribute_names("#consumed", attr::CONSUMED_AT)
        .expression_attribute_names("#expires", attr::EXPIRES_AT)
        .expression_attribute_names("#login_expires", attr::LOGIN_EXPIRES_AT)
        .expression_attribute_names("#scope", attr::SCOPE)
        .expression_attribute_values(":now", n(claim.now))
        .expression_attribute_values(":keep", n(keep_until))
        .expression_attribute_values(":scope", s(claim.scope.as_str()))
        .return_values(ReturnValue::AllOld)
        .return_values_on_condition_check_failure(ReturnValuesOnConditionCheckFailure::AllOld);
    if let Some(hash) = binding {
        condition.push_str(" AND #binding = :binding");
        update = update
            .expression_attribute_names("#binding", attr::BROWSER_BINDING)
            .expression_attribute_values(":binding", s(hash));
    }
    match update.condition_expression(condition).send().await {
        Ok(output) => match output.attributes {
            Some(item) => Ok(Consumed::Fresh(from_item(&item)?)),
            None => Err(StoreError::Corrupt(
                "the update returned no old image".into(),
            )),
        },
        Err(SdkError::ServiceError(e)) => match e.into_err() {
            // The failed condition comes with the item as it is (none: it is not there).
            UpdateItemError::ConditionalCheckFailedException(failed) => match failed.item {
                // Our own first attempt consumed it; the item's login fields are
                // as they were (its own expiry kept in login_expires_at).
                Some(item) if write_id.wrote(&item) => Ok(Consumed::Fresh(from_item(&item)?)),
                Some(item) => Ok(not_consumed_by_us(read_item(&item)?)),
                None => Ok(Consumed::Unknown),
            },
            other => Err(operation_error(other)),
        },
        Err(e) => Err(store_error(e)),
    }
}

pub(super) async fn record_outcome(
    store: &DynamoStateStore,
    state: &StateId,
    sealed: &[u8],
) -> Result<(), StoreError> {
    let result = store
        .client
        .update_item()
        .table_name(&store.table)
        .key(attr::STATE, s(state.as_str()))
        .update_expression("SET #outcome = :outcome")
        .condition_expression("attribute_exists(#consumed)")
        .expression_attribute_names("#outcome", attr::OUTCOME)
        .expression_attribute_names("#consumed", attr::CONSUMED_AT)
        .expression_attribute_values(":outcome", AttributeValue::B(Blob::new(sealed)))
        .send()
        .await;
    match result {
        Ok(_) => Ok(()),
        Err(SdkError::ServiceError(e)) if e.err().is_conditional_check_failed_exception() => {
            Err(StoreError::NotConsumed)
        }
        Err(e) => Err(store_error(e)),
    }
}

pub(super) async fn find(
    store: &DynamoStateStore,
    state: &StateId,
) -> Result<Consumed, StoreError> {
    let output = store
        .client
        .get_item()
        .table_name(&store.table)
        .key(attr::STATE, s(state.as_str()))
        .consistent_read(true)
        .send()
        .await
        .map_err(store_error)?;
    match output.item {
        None => Ok(Consumed::Unknown),
        Some(item) => read_item(&item),
    }
}

/// What a consume that changed nothing reports: an unconsumed login was kept, not taken.
fn not_consumed_by_us(found: Consumed) -> Consumed {
    match found {
        Consumed::Fresh(login) => Consumed::Kept(login),
        other => other,
    }
}
