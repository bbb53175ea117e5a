use std::collections::HashMap;
use std::time::Duration;

use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::error::{DisplayErrorContext, ProvideErrorMetadata, SdkError};
use aws_sdk_dynamodb::operation::put_item::PutItemError;
use aws_sdk_dynamodb::operation::update_item::UpdateItemError;
use aws_sdk_dynamodb::primitives::Blob;
use aws_sdk_dynamodb::types::{AttributeValue, ReturnValue, ReturnValuesOnConditionCheckFailure};

use super::{BrowserCheck, Claim, StateStore, StoreError};
use crate::login_state::{Consumed, LoginState, StateId};
use crate::oidc::grant::{Grant, GrantId, GrantStatus, Redeemed, Redemption};
use crate::return_url::ReturnUrl;
use crate::scope::{ResponseMode, Scope};

/// Attribute names of a login item. `state` is the partition key, `expires_at` the TTL
/// attribute (epoch seconds, type N). Public so that the template's drift test compares
/// template.yaml with these, not with copies.
pub mod attr {
    pub const STATE: &str = "state";
    pub const SCOPE: &str = "scope";
    /// The app's name; absent on logins stored before there were several apps, which
    /// were the default app's.
    pub const APP: &str = "app";
    pub const RETURN_URL: &str = "return_url";
    pub const RESPONSE_MODE: &str = "response_mode";
    pub const EXPIRES_AT: &str = "expires_at";
    pub const BROWSER_BINDING: &str = "browser_binding";
    /// Set once, when the callback consumes the login.
    pub const CONSUMED_AT: &str = "consumed_at";
    /// The sealed result, for a repeat of the same callback.
    pub const OUTCOME: &str = "outcome";
    /// The login's own expiry, kept when `expires_at` is cut to the replay window.
    pub const LOGIN_EXPIRES_AT: &str = "login_expires_at";
    pub const NONCE: &str = "nonce";
    /// An OpenID Connect request's client, redirect URI, state and PKCE challenge (JSON).
    pub const OIDC: &str = "oidc";

    /// A grant's item: its key is `grant:` + the hex SHA-256 of the code (never a valid
    /// state, which is alphanumeric), and `expires_at` is its TTL.
    pub const GRANT_KEY_PREFIX: &str = "grant:";
    /// The grant as JSON.
    pub const GRANT: &str = "grant";
    /// Copied out of the grant for the redemption's condition.
    pub const CLIENT_ID: &str = "client_id";
    pub const REDIRECT_URI: &str = "redirect_uri";
    pub const CODE_CHALLENGE: &str = "code_challenge";
    pub const CODE_EXPIRES_AT: &str = "code_expires_at";
    /// Set once, when the code is redeemed.
    pub const REDEEMED_AT: &str = "redeemed_at";
    /// Set when a redeemed code is presented again.
    pub const REVOKED: &str = "revoked";

    /// A random id of the last conditional write that created or claimed the item (new
    /// per call). The SDK sends a write again when its answer was lost (a dropped
    /// connection, an attempt that timed out after DynamoDB acted); the second attempt
    /// then fails its condition on the first one's work, and this id is how it tells its
    /// own write from someone else's.
    pub const WRITE_ID: &str = "write_id";
}

/// Logins in a DynamoDB table, shared by every Lambda execution environment.
#[derive(Clone, Debug)]
pub struct DynamoStateStore {
    client: Client,
    table: String,
}

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
    pub fn new(client: Client, table: impl Into<String>) -> Self {
        Self {
            client,
            table: table.into(),
        }
    }

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

    pub fn client(&self) -> &Client {
        &self.client
    }

    pub fn table(&self) -> &str {
        &self.table
    }
}

#[async_trait::async_trait]
impl StateStore for DynamoStateStore {
    /// `DescribeTable`: the table's metadata, no item read or written, no capacity used;
    /// the one call every function's role grants besides its own item calls.
    async fn warm_up(&self) -> Result<(), StoreError> {
        self.client
            .describe_table()
            .table_name(&self.table)
            .send()
            .await
            .map_err(store_error)?;
        Ok(())
    }

    async fn put_new(&self, login: &LoginState) -> Result<(), StoreError> {
        self.put_if_absent(to_item(login)).await
    }

    async fn consume(
        &self,
        state: &StateId,
        claim: &Claim<'_>,
        keep_until: i64,
    ) -> Result<Consumed, StoreError> {
        let binding = match claim.browser {
            // Nothing can be consumed without the cookie: only say what is there.
            BrowserCheck::NoCookie => return Ok(not_consumed_by_us(self.find(state).await?)),
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
        let mut update = self
            .client
            .update_item()
            .table_name(&self.table)
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
                other => Err(classify(other.code(), other.message(), || {
                    other.to_string()
                })),
            },
            Err(e) => Err(store_error(e)),
        }
    }

    async fn record_outcome(&self, state: &StateId, sealed: &[u8]) -> Result<(), StoreError> {
        let result = self
            .client
            .update_item()
            .table_name(&self.table)
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

    async fn find(&self, state: &StateId) -> Result<Consumed, StoreError> {
        let output = self
            .client
            .get_item()
            .table_name(&self.table)
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
    async fn put_grant(&self, id: &GrantId, grant: &Grant) -> Result<(), StoreError> {
        let json = serde_json::to_string(grant).expect("a grant serializes");
        let mut item = HashMap::from([
            (attr::STATE.to_owned(), grant_key(id)),
            (attr::GRANT.to_owned(), s(&json)),
            (attr::CLIENT_ID.to_owned(), s(&grant.client_id)),
            (attr::REDIRECT_URI.to_owned(), s(&grant.redirect_uri)),
            (attr::CODE_EXPIRES_AT.to_owned(), n(grant.code_expires_at)),
            (attr::EXPIRES_AT.to_owned(), n(grant.code_expires_at)),
        ]);
        if let Some(challenge) = &grant.code_challenge {
            item.insert(attr::CODE_CHALLENGE.to_owned(), s(challenge));
        }
        self.put_if_absent(item).await
    }

    async fn redeem_grant(
        &self,
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
        let mut update = self
            .client
            .update_item()
            .table_name(&self.table)
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
                        self.revoke_grant(id).await?;
                        Ok(Redeemed::Replayed)
                    }
                    Some(item) => Ok(Redeemed::Kept(grant_from_item(&item)?)),
                },
                other => Err(classify(other.code(), other.message(), || {
                    other.to_string()
                })),
            },
            Err(e) => Err(store_error(e)),
        }
    }

    async fn find_grant(&self, id: &GrantId, now: i64) -> Result<Option<GrantStatus>, StoreError> {
        let output = self
            .client
            .get_item()
            .table_name(&self.table)
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
}

impl DynamoStateStore {
    /// Writes a new item (a login or a grant); [`StoreError::AlreadyExists`] instead of
    /// overwriting one under the same key.
    async fn put_if_absent(
        &self,
        mut item: HashMap<String, AttributeValue>,
    ) -> Result<(), StoreError> {
        let write_id = WriteId::new();
        item.insert(attr::WRITE_ID.to_owned(), s(write_id.as_str()));
        let result = self
            .client
            .put_item()
            .table_name(&self.table)
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
                other => Err(classify(other.code(), other.message(), || {
                    other.to_string()
                })),
            },
            Err(e) => Err(store_error(e)),
        }
    }

    /// Marks a redeemed grant revoked: its access tokens stop working at userinfo.
    async fn revoke_grant(&self, id: &GrantId) -> Result<(), StoreError> {
        let result = self
            .client
            .update_item()
            .table_name(&self.table)
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
            Err(SdkError::ServiceError(e)) if e.err().is_conditional_check_failed_exception() => {
                Ok(())
            }
            Err(e) => Err(store_error(e)),
        }
    }
}

/// See [`attr::WRITE_ID`].
struct WriteId(String);

impl WriteId {
    fn new() -> Self {
        let mut bytes = [0u8; 16];
        getrandom::fill(&mut bytes).expect("the operating system's random source failed");
        Self(bytes.iter().map(|b| format!("{b:02x}")).collect())
    }

    fn as_str(&self) -> &str {
        &self.0
    }

    /// Whether `item` as it is now was last written by this write.
    fn wrote(&self, item: &HashMap<String, AttributeValue>) -> bool {
        item.get(attr::WRITE_ID)
            .and_then(|v| v.as_s().ok())
            .is_some_and(|id| *id == self.0)
    }
}

fn grant_key(id: &GrantId) -> AttributeValue {
    s(&format!("{}{}", attr::GRANT_KEY_PREFIX, id.as_str()))
}

fn grant_from_item(item: &HashMap<String, AttributeValue>) -> Result<Grant, StoreError> {
    item.get(attr::GRANT)
        .and_then(|v| v.as_s().ok())
        .and_then(|json| serde_json::from_str(json).ok())
        .ok_or_else(|| StoreError::Corrupt("missing or unreadable grant".into()))
}

/// A login item as it is: `Fresh` while not consumed, `Used` after.
fn read_item(item: &HashMap<String, AttributeValue>) -> Result<Consumed, StoreError> {
    let login = from_item(item)?;
    match item.get(attr::CONSUMED_AT) {
        None => Ok(Consumed::Fresh(login)),
        Some(consumed_at) => Ok(Consumed::Used {
            login,
            consumed_at: number(Some(consumed_at), attr::CONSUMED_AT)?,
            outcome: item
                .get(attr::OUTCOME)
                .and_then(|v| v.as_b().ok())
                .map(|b| b.as_ref().to_vec()),
        }),
    }
}

/// What a consume that changed nothing reports: an unconsumed login was kept, not taken.
fn not_consumed_by_us(found: Consumed) -> Consumed {
    match found {
        Consumed::Fresh(login) => Consumed::Kept(login),
        other => other,
    }
}

fn s(value: &str) -> AttributeValue {
    AttributeValue::S(value.to_owned())
}

fn n(value: i64) -> AttributeValue {
    AttributeValue::N(value.to_string())
}

fn number(value: Option<&AttributeValue>, name: &str) -> Result<i64, StoreError> {
    value
        .and_then(|v| v.as_n().ok())
        .and_then(|n| n.parse::<i64>().ok())
        .ok_or_else(|| StoreError::Corrupt(format!("missing or non-integer {name}")))
}

/// DynamoDB's error codes that mean our deployment is wrong rather than DynamoDB busy or
/// unreachable: a missing grant, a wrong table name, a request the table's shape refuses,
/// credentials it does not know. Retrying cannot fix them, so they must not look
/// temporary: the client would retry forever and no alarm would fire.
const PERMANENT_ERRORS: [&str; 4] = [
    "AccessDeniedException",
    "ResourceNotFoundException",
    "ValidationException",
    "UnrecognizedClientException",
];

fn store_error<E, R>(err: SdkError<E, R>) -> StoreError
where
    E: std::error::Error + ProvideErrorMetadata + Send + Sync + 'static,
    R: std::fmt::Debug,
{
    classify(err.code(), err.message(), || {
        DisplayErrorContext(&err).to_string()
    })
}

/// Sorts a DynamoDB error by its code. The detail (code and message, which names the
/// table or the missing permission) is for the operator's log line; requests never carry
/// secrets to DynamoDB, so neither can its messages.
fn classify(
    code: Option<&str>,
    message: Option<&str>,
    context: impl FnOnce() -> String,
) -> StoreError {
    match code {
        Some(code) => {
            let detail = format!("{code}: {}", message.unwrap_or("no message"));
            if PERMANENT_ERRORS.contains(&code) {
                StoreError::Misconfigured(detail)
            } else {
                StoreError::Unavailable(detail)
            }
        }
        None => StoreError::Unavailable(context()),
    }
}

fn to_item(login: &LoginState) -> HashMap<String, AttributeValue> {
    let mut item = HashMap::from([
        (attr::STATE.to_owned(), s(login.state.as_str())),
        (attr::SCOPE.to_owned(), s(login.scope.as_str())),
        (attr::APP.to_owned(), s(&login.app)),
        (attr::RETURN_URL.to_owned(), s(login.return_url.as_str())),
        (
            attr::RESPONSE_MODE.to_owned(),
            s(login.response_mode.as_str()),
        ),
        (attr::EXPIRES_AT.to_owned(), n(login.expires_at)),
    ]);
    if let Some(binding) = &login.browser_binding {
        item.insert(attr::BROWSER_BINDING.to_owned(), s(binding));
    }
    if let Some(nonce) = &login.nonce {
        item.insert(attr::NONCE.to_owned(), s(nonce));
    }
    if let Some(oidc) = &login.oidc {
        let json = serde_json::to_string(oidc).expect("the request serializes");
        item.insert(attr::OIDC.to_owned(), s(&json));
    }
    item
}

fn from_item(item: &HashMap<String, AttributeValue>) -> Result<LoginState, StoreError> {
    let text = |name: &str| {
        item.get(name)
            .and_then(|v| v.as_s().ok())
            .ok_or_else(|| StoreError::Corrupt(format!("missing string attribute {name}")))
    };
    let corrupt = |what: &str| StoreError::Corrupt(what.to_owned());
    // After consumption `expires_at` is the replay window; the login's own expiry moved.
    let expires_at = match item.get(attr::LOGIN_EXPIRES_AT) {
        Some(v) => number(Some(v), attr::LOGIN_EXPIRES_AT)?,
        None => number(item.get(attr::EXPIRES_AT), attr::EXPIRES_AT)?,
    };
    Ok(LoginState {
        state: StateId::parse(text(attr::STATE)?).ok_or_else(|| corrupt("bad state"))?,
        app: match item.get(attr::APP) {
            None => crate::apps::DEFAULT_APP.to_owned(),
            Some(v) => v.as_s().map_err(|_| corrupt("bad app"))?.clone(),
        },
        scope: Scope::parse(text(attr::SCOPE)?).ok_or_else(|| corrupt("bad scope"))?,
        return_url: ReturnUrl::from_stored(text(attr::RETURN_URL)?)
            .map_err(|e| StoreError::Corrupt(format!("bad return_url: {e}")))?,
        response_mode: ResponseMode::parse(text(attr::RESPONSE_MODE)?)
            .ok_or_else(|| corrupt("bad response_mode"))?,
        expires_at,
        browser_binding: item
            .get(attr::BROWSER_BINDING)
            .map(|v| v.as_s().cloned())
            .transpose()
            .map_err(|_| corrupt("bad browser_binding"))?,
        nonce: item
            .get(attr::NONCE)
            .map(|v| v.as_s().cloned())
            .transpose()
            .map_err(|_| corrupt("bad nonce"))?,
        oidc: item
            .get(attr::OIDC)
            .map(|v| {
                v.as_s()
                    .ok()
                    .and_then(|json| serde_json::from_str(json).ok())
                    .ok_or_else(|| corrupt("bad oidc"))
            })
            .transpose()?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::allowed_origins::AllowedOrigins;

    #[test]
    fn items_round_trip() {
        let origins = AllowedOrigins::parse("https://a.example.com").unwrap();
        let login = LoginState {
            state: StateId::generate(),
            app: "web-2".into(),
            scope: Scope::Login,
            return_url: ReturnUrl::parse("https://a.example.com/x?y=1#/z", &origins).unwrap(),
            response_mode: ResponseMode::Fragment,
            expires_at: 1_900_000_000,
            browser_binding: Some("ab".repeat(32)),
            nonce: Some("n-0S6_WzA2Mj".into()),
            oidc: Some(crate::login_state::OidcRequest {
                client_id: "rp".into(),
                redirect_uri: "https://a.example.com/x?y=1".into(),
                state: Some("af0ifjsldkj".into()),
                code_challenge: Some("E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM".into()),
                profile: true,
            }),
        };
        assert_eq!(from_item(&to_item(&login)).unwrap(), login);
        let plain = LoginState {
            nonce: None,
            oidc: None,
            ..login
        };
        assert_eq!(from_item(&to_item(&plain)).unwrap(), plain);
        // Stored before there were several apps: the default app's.
        let mut old = to_item(&plain);
        old.remove(attr::APP);
        assert_eq!(from_item(&old).unwrap().app, crate::apps::DEFAULT_APP);
        old.insert(attr::APP.to_owned(), n(1));
        assert!(matches!(from_item(&old), Err(StoreError::Corrupt(_))));
    }

    #[test]
    fn permanent_errors_are_told_from_temporary_ones() {
        let no_context = || "no code".to_owned();
        for code in PERMANENT_ERRORS {
            assert!(matches!(
                classify(Some(code), Some("m"), no_context),
                StoreError::Misconfigured(d) if d == format!("{code}: m")
            ));
        }
        for code in [
            "ProvisionedThroughputExceededException",
            "ThrottlingException",
            "RequestLimitExceeded",
            "InternalServerError",
            "ServiceUnavailable",
        ] {
            assert!(matches!(
                classify(Some(code), None, no_context),
                StoreError::Unavailable(_)
            ));
        }
        assert!(matches!(
            classify(None, None, no_context),
            StoreError::Unavailable(d) if d == "no code"
        ));
    }

    #[test]
    fn foreign_items_are_corrupt_not_panics() {
        let mut item = to_item(&LoginState {
            state: StateId::generate(),
            app: "default".into(),
            scope: Scope::Base,
            return_url: ReturnUrl::from_stored("https://a.example.com/").unwrap(),
            response_mode: ResponseMode::Query,
            expires_at: 1,
            browser_binding: None,
            nonce: None,
            oidc: None,
        });
        item.insert(attr::EXPIRES_AT.into(), AttributeValue::S("soon".into()));
        assert!(matches!(from_item(&item), Err(StoreError::Corrupt(_))));
        item.remove(attr::EXPIRES_AT);
        assert!(matches!(from_item(&item), Err(StoreError::Corrupt(_))));
    }
}
