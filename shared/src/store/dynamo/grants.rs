//! A grant's calls after `put_grant`: the one conditional write that redeems its code
//! (client, redirect URI, PKCE challenge and expiry part of its condition), the
//! revocation a replayed code causes, and the consistent read userinfo asks for.

use aws_sdk_dynamodb::error::SdkError;
use aws_sdk_dynamodb::operation::update_item::UpdateItemError;
use aws_sdk_dynamodb::types::{AttributeValue, ReturnValue, ReturnValuesOnConditionCheckFailure};

use super::DynamoStateStore;
use super::attr;
use super::errors::{operation_error, store_error};
use super::items::{grant_from_item, grant_key, n, number, s};
use super::writes::WriteId;
use crate::oidc::grant::{GrantId, GrantStatus, Redeemed, Redemption};
use crate::store::StoreError;

pub(super) async fn redeem(
    store: &DynamoStateStore,
    id: &GrantId,
    redemption: &Redemption<'_>,
    keep_until: i64,
) -> Result<Redeemed, StoreError> {
    // As with logins, one conditional write decides: the client, the redirect URI, the
    // PKCE challenge and the code's expiry are part of the condition, so a request that
    // does not fit (a stolen code without its verifier) cannot spend the code.
    let mut condition = "attribute_exists(#state) AND attribute_not_exists(#redeemed) \
                         AND #client = :client AND #redirect = :redirect AND #code_expires > :now"
        .to_owned();
    let write_id = WriteId::new();
    let mut update = store
        .client
        .update_item()
        .table_name(&store.table)
        .key(attr::STATE, grant_key(id))
        .update_expression("SET #redeemed = :now, #expires = :keep, #write_id = :write_id")
        .expression_attribute_names("#state", attr::STATE)
        .expression_attribute_names("#write_id", attr::WRITE_ID)
        .expression_attribute_values(":write_id", s(write_id.as_str()))
        .expression_attribute_names("#redeemed", attr::REDEEMED_AT)
        .expression_attribute_names("#expires", attr::EXPIRES_AT)
        .expression_attribute_names("#client", attr::CLIENT_ID)
        .expression_attribute_names("#redirect", attr::REDIRECT_URI)
        .expression_attribute_names("#code_expires", attr::CODE_EXPIRES_AT)
        .expression_attribute_names("#challenge", attr::CODE_CHALLENGE)
        .expression_attribute_values(":now", n(redemption.now))
        .expression_attribute_values(":keep", n(keep_until))
        .expression_attribute_values(":client", s(redemption.client_id))
        .expression_attribute_values(":redirect", s(redemption.redirect_uri))
        .return_values(ReturnValue::AllOld)
        .return_values_on_condition_check_failure(ReturnValuesOnConditionCheckFailure::AllOld);
    match redemption.code_challenge {
        Some(challenge) => {
            condition.push_str(" AND #challenge = :challenge");
            update = update.expression_attribute_values(":challenge", s(challenge));
        }
        None => condition.push_str(" AND attribute_not_exists(#challenge)"),
    }
    match update.condition_expression(condition).send().await {
        Ok(output) => match output.attributes {
            Some(item) => Ok(Redeemed::Fresh(grant_from_item(&item)?)),
            None => Err(StoreError::Corrupt(
                "the update returned no old image".into(),
            )),
        },
        Err(SdkError::ServiceError(e)) => match e.into_err() {
            UpdateItemError::ConditionalCheckFailedException(failed) => match failed.item {
                None => Ok(Redeemed::Unknown),
                // Our own first attempt redeemed it: not a replay (unless someone
                // else presented the code in between and so revoked it).
                Some(item) if write_id.wrote(&item) && !item.contains_key(attr::REVOKED) => {
                    Ok(Redeemed::Fresh(grant_from_item(&item)?))
                }
                Some(item) if item.contains_key(attr::REDEEMED_AT) => {
                    revoke(store, id).await?;
                    Ok(Redeemed::Replayed)
                }
                Some(item) => Ok(Redeemed::Kept(grant_from_item(&item)?)),
            },
            other => Err(operation_error(other)),
        },
        Err(e) => Err(store_error(e)),
    }
}

pub(super) async fn find(
    store: &DynamoStateStore,
    id: &GrantId,
    now: i64,
) -> Result<Option<GrantStatus>, StoreError> {
    let output = store
        .client
        .get_item()
        .table_name(&store.table)
        .key(attr::STATE, grant_key(id))
        .consistent_read(true)
        .send()
        .await
        .map_err(store_error)?;
    let Some(item) = output.item else {
        return Ok(None);
    };
    if now >= number(item.get(attr::EXPIRES_AT), attr::EXPIRES_AT)? {
        return Ok(None);
    }
    Ok(Some(GrantStatus {
        grant: grant_from_item(&item)?,
        redeemed: item.contains_key(attr::REDEEMED_AT),
        revoked: item
            .get(attr::REVOKED)
            .is_some_and(|v| v.as_bool() == Ok(&true)),
    }))
}

/// Marks a redeemed grant revoked: its access tokens stop working at userinfo.
async fn revoke(store: &DynamoStateStore, id: &GrantId) -> Result<(), StoreError> {
    let result = store
        .client
        .update_item()
        .table_name(&store.table)
        .key(attr::STATE, grant_key(id))
        .update_expression("SET #revoked = :yes")
        .condition_expression("attribute_exists(#redeemed)")
        .expression_attribute_names("#revoked", attr::REVOKED)
        .expression_attribute_names("#redeemed", attr::REDEEMED_AT)
        .expression_attribute_values(":yes", AttributeValue::Bool(true))
        .send()
        .await;
    match result {
        // Gone in between (TTL): nothing is left to revoke.
        Ok(_) => Ok(()),
        Err(SdkError::ServiceError(e)) if e.err().is_conditional_check_failed_exception() => Ok(()),
        Err(e) => Err(store_error(e)),
    }
}
