//! How a conditional write recognises its own work when the SDK sends it again: each
//! carries a new [`WriteId`] ([`attr::WRITE_ID`]), and a retry whose condition failed on an
//! item bearing that id is the first attempt's landed write, not someone else's. Also
//! the create-only put that logins and grants share.

use aws_sdk_dynamodb::error::SdkError;
use aws_sdk_dynamodb::operation::put_item::PutItemError;
use aws_sdk_dynamodb::types::ReturnValuesOnConditionCheckFailure;

use super::DynamoStateStore;
use super::attr;
use super::errors::{operation_error, store_error};
use super::items::{Item, s};
use crate::store::StoreError;

/// See [`attr::WRITE_ID`].
pub(super) struct WriteId(String);

impl WriteId {
    pub(super) fn new() -> Self {
        let mut bytes = [0u8; 16];
        getrandom::fill(&mut bytes).expect("the operating system's random source failed");
        Self(bytes.iter().map(|b| format!("{b:02x}")).collect())
    }

    pub(super) fn as_str(&self) -> &str {
        &self.0
    }

    /// Whether `item` as it is now was last written by this write.
    pub(super) fn wrote(&self, item: &Item) -> bool {
        item.get(attr::WRITE_ID)
            .and_then(|v| v.as_s().ok())
            .is_some_and(|id| *id == self.0)
    }
}

/// Writes a new item (a login or a grant); [`StoreError::AlreadyExists`] instead of
/// overwriting one under the same key.
pub(super) async fn put_if_absent(
    store: &DynamoStateStore,
    mut item: Item,
) -> Result<(), StoreError> {
    let write_id = WriteId::new();
    item.insert(attr::WRITE_ID.to_owned(), s(write_id.as_str()));
    let result = store
        .client
        .put_item()
        .table_name(&store.table)
        .set_item(Some(item))
        .condition_expression("attribute_not_exists(#state)")
        .expression_attribute_names("#state", attr::STATE)
        .return_values_on_condition_check_failure(ReturnValuesOnConditionCheckFailure::AllOld)
        .send()
        .await;
    match result {
        Ok(_) => Ok(()),
        Err(SdkError::ServiceError(e)) => match e.into_err() {
            PutItemError::ConditionalCheckFailedException(failed) => match failed.item {
                // Our own first attempt wrote it.
                Some(item) if write_id.wrote(&item) => Ok(()),
                _ => Err(StoreError::AlreadyExists),
            },
            other => Err(operation_error(other)),
        },
        Err(e) => Err(store_error(e)),
    }
}
