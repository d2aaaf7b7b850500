//! Exactly-once delivery into the log across receiver instances. Before writing a record,
//! a receiver claims its id in a shared DynamoDB table (a conditional `PutItem`, the
//! pattern of Lambda Powertools' idempotency); Zoom's retry of the same event — which
//! usually reaches another instance — finds the claim:
//!
//! | the claim is | the retry |
//! |---|---|
//! | `stored` | is answered `duplicate`, nothing written |
//! | `writing` (another instance is writing it now) | is answered 503: Zoom retries later |
//! | released (the write was refused: nothing stored) | takes the claim and writes |
//! | `unknown` (the write timed out or met a server error: it may land late) | waits out the lease, then takes the claim and first looks for the id in the log ([`zoomwatch_log::Sink::holds`]): found, it is `duplicate`; not found, it writes |
//!
//! A lease (default 30 s) bounds how long a claim holds others off: a receiver that dies
//! mid-write leaves a claim the next delivery takes over (as `unknown`). Items expire
//! (DynamoDB TTL on `expires_at`) after the retry horizon, six hours by default.
//!
//! When the table cannot be reached, the receiver writes anyway — at least once — says
//! so in its log, and marks the record (`request.claim: "unavailable"`) so the console's
//! health line shows it: the store's outage never loses an event.

use std::collections::HashMap;
use std::time::Duration;

use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::types::{
    AttributeDefinition, AttributeValue, BillingMode, KeySchemaElement, KeyType, ReturnValue, ReturnValuesOnConditionCheckFailure,
    ScalarAttributeType, TimeToLiveSpecification,
};

/// Environment variable of the Lambda's claim store (`dynamodb:TABLE`).
pub const CLAIMS_ENV: &str = "ZOOMWATCH_CLAIMS";
/// How long a claim holds other writers off.
pub const DEFAULT_LEASE: Duration = Duration::from_secs(30);
/// How long a claim is kept: past Zoom's last retry (about 90 minutes) and the replay
/// window (95 minutes).
pub const DEFAULT_TTL: Duration = Duration::from_secs(6 * 3600);
/// Time allowed for one call to the table, retries included.
const CALL_BUDGET: Duration = Duration::from_millis(800);

/// Where claims are kept, as given to `--claims` / `ZOOMWATCH_CLAIMS`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ClaimsSpec {
    /// A DynamoDB table (partition key `id`, a string).
    DynamoDb(String),
}

impl ClaimsSpec {
    /// Parses `dynamodb:TABLE`.
    pub fn parse(s: &str) -> Result<Self, String> {
        match s.trim().split_once(':') {
            Some(("dynamodb", table))
                if (3..=255).contains(&table.len()) && table.bytes().all(|b| b.is_ascii_alphanumeric() || b"_-.".contains(&b)) =>
            {
                Ok(Self::DynamoDb(table.to_owned()))
            }
            Some(("dynamodb", _)) => Err(format!("claims {s:?}: a DynamoDB table name is 3-255 letters, digits, _ - or .")),
            _ => Err(format!("claims {s:?}: expected dynamodb:TABLE")),
        }
    }
}

/// What a claim attempt found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Claimed {
    /// This receiver may write. `settle`: an earlier write of the same id, at about that
    /// time (Unix ms), has an unknown outcome — look for it in the log first.
    Write {
        /// When the earlier, unsettled write was tried.
        settle: Option<i64>,
    },
    /// Stored already, by this or another receiver.
    Stored,
    /// Another receiver holds the claim (writing now, or its outcome unknown and its lease
    /// not yet over): answer 503, Zoom retries.
    Busy,
    /// The table could not be asked: write anyway (at least once). Why, for the log.
    Unavailable(String),
}

/// Claims in a DynamoDB table.
pub struct Claims {
    client: Client,
    table: String,
    owner: String,
    lease: Duration,
    ttl: Duration,
}

const WRITING: &str = "writing";
const STORED: &str = "stored";
const UNKNOWN: &str = "unknown";

fn n(v: i64) -> AttributeValue {
    AttributeValue::N(v.to_string())
}

fn s(v: &str) -> AttributeValue {
    AttributeValue::S(v.to_owned())
}

fn num(item: &HashMap<String, AttributeValue>, key: &str) -> Option<i64> {
    item.get(key).and_then(|v| v.as_n().ok()).and_then(|v| v.parse().ok())
}

fn text<'a>(item: &'a HashMap<String, AttributeValue>, key: &str) -> Option<&'a str> {
    item.get(key).and_then(|v| v.as_s().ok()).map(String::as_str)
}

impl Claims {
    /// Claims in `table` through `client`.
    pub fn new(client: Client, table: impl Into<String>) -> Self {
        Self { client, table: table.into(), owner: format!("{:016x}", rand::random::<u64>()), lease: DEFAULT_LEASE, ttl: DEFAULT_TTL }
    }

    /// Opens `spec` with the standard AWS settings (`AWS_ENDPOINT_URL` and the rest).
    pub async fn open(spec: &ClaimsSpec) -> Self {
        let ClaimsSpec::DynamoDb(table) = spec;
        let sdk = zoomwatch_log::aws::load_from_env().await;
        Self::new(Client::new(&sdk), table.clone())
    }

    /// With this lease instead of [`DEFAULT_LEASE`].
    pub fn with_lease(mut self, lease: Duration) -> Self {
        self.lease = lease;
        self
    }

    /// The table's name.
    pub fn table(&self) -> &str {
        &self.table
    }

    /// Creates the table if it does not exist (the local server's convenience; the SAM
    /// template creates the Lambda's), and turns on expiry of `expires_at`.
    pub async fn create_if_missing(&self) -> Result<(), String> {
        match self.client.describe_table().table_name(&self.table).send().await {
            Ok(_) => return Ok(()),
            Err(e) if e.as_service_error().is_some_and(|s| s.is_resource_not_found_exception()) => {}
            Err(e) => return Err(format!("DescribeTable {}: {}", self.table, zoomwatch_log::aws::describe_service(&e, "DynamoDB"))),
        }
        let key = |name: &str| -> Result<_, String> {
            Ok((
                KeySchemaElement::builder().attribute_name(name).key_type(KeyType::Hash).build().map_err(|e| e.to_string())?,
                AttributeDefinition::builder()
                    .attribute_name(name)
                    .attribute_type(ScalarAttributeType::S)
                    .build()
                    .map_err(|e| e.to_string())?,
            ))
        };
        let (schema, def) = key("id")?;
        match self
            .client
            .create_table()
            .table_name(&self.table)
            .key_schema(schema)
            .attribute_definitions(def)
            .billing_mode(BillingMode::PayPerRequest)
            .send()
            .await
        {
            Ok(_) => {}
            Err(e) if e.as_service_error().is_some_and(|s| s.is_resource_in_use_exception()) => return Ok(()),
            Err(e) => return Err(format!("CreateTable {}: {}", self.table, zoomwatch_log::aws::describe_service(&e, "DynamoDB"))),
        }
        // A new table is CREATING for a moment (on AWS); TTL can be set once it is ACTIVE.
        for _ in 0..60 {
            let active = self
                .client
                .describe_table()
                .table_name(&self.table)
                .send()
                .await
                .ok()
                .and_then(|d| d.table().and_then(|t| t.table_status().cloned()))
                .is_some_and(|s| s == aws_sdk_dynamodb::types::TableStatus::Active);
            if active {
                break;
            }
            tokio::time::sleep(Duration::from_secs(1)).await;
        }
        let ttl = TimeToLiveSpecification::builder().enabled(true).attribute_name("expires_at").build().map_err(|e| e.to_string())?;
        self.client
            .update_time_to_live()
            .table_name(&self.table)
            .time_to_live_specification(ttl)
            .send()
            .await
            .map_err(|e| format!("UpdateTimeToLive {}: {}", self.table, zoomwatch_log::aws::describe_service(&e, "DynamoDB")))?;
        Ok(())
    }

    /// Tries to claim `id` for writing now.
    pub async fn claim(&self, id: &str, now_ms: i64) -> Claimed {
        let lease_until = now_ms + i64::try_from(self.lease.as_millis()).unwrap_or(i64::MAX / 4);
        let expires_at = now_ms / 1000 + i64::try_from(self.ttl.as_secs()).unwrap_or(i64::MAX / 4);
        let call = self
            .client
            .put_item()
            .table_name(&self.table)
            .item("id", s(id))
            .item("state", s(WRITING))
            .item("owner", s(&self.owner))
            .item("at_ms", n(now_ms))
            .item("lease_until", n(lease_until))
            .item("expires_at", n(expires_at))
            // Free, gone, expired, or held by a writer whose lease is over.
            .condition_expression("attribute_not_exists(id) OR expires_at < :now_s OR (#st <> :stored AND lease_until < :now_ms)")
            .expression_attribute_names("#st", "state")
            .expression_attribute_values(":now_s", n(now_ms / 1000))
            .expression_attribute_values(":now_ms", n(now_ms))
            .expression_attribute_values(":stored", s(STORED))
            .return_values(ReturnValue::AllOld)
            .return_values_on_condition_check_failure(ReturnValuesOnConditionCheckFailure::AllOld)
            .send();
        match tokio::time::timeout(CALL_BUDGET, call).await {
            Err(_) => Claimed::Unavailable(format!("no answer from DynamoDB table {} within {} ms", self.table, CALL_BUDGET.as_millis())),
            Ok(Ok(out)) => {
                // Taken over from a writer whose outcome is unknown (or who died mid-write):
                // its record may be in the log.
                let old = out.attributes().filter(|o| num(o, "expires_at").is_none_or(|e| e >= now_ms / 1000));
                let settle = old.filter(|o| text(o, "state") != Some(STORED)).map(|o| num(o, "at_ms").unwrap_or(now_ms));
                Claimed::Write { settle }
            }
            Ok(Err(e)) => match e.as_service_error() {
                Some(aws_sdk_dynamodb::operation::put_item::PutItemError::ConditionalCheckFailedException(c)) => {
                    match c.item().and_then(|i| text(i, "state")) {
                        Some(STORED) => Claimed::Stored,
                        _ => Claimed::Busy,
                    }
                }
                _ => {
                    Claimed::Unavailable(format!("DynamoDB table {}: {}", self.table, zoomwatch_log::aws::describe_service(&e, "DynamoDB")))
                }
            },
        }
    }

    /// The write of `id` is stored: later deliveries are duplicates.
    pub async fn stored(&self, id: &str) {
        self.finish(id, Some(STORED)).await;
    }

    /// The write of `id` may have landed late: the next claimant settles it.
    pub async fn unknown(&self, id: &str) {
        self.finish(id, Some(UNKNOWN)).await;
    }

    /// The write of `id` was refused (nothing stored): the next delivery writes it.
    pub async fn release(&self, id: &str) {
        self.finish(id, None).await;
    }

    /// Sets the state of our own claim (or deletes it). A failure is logged: the claim
    /// then ends with its lease, and the next claimant settles it by looking in the log.
    async fn finish(&self, id: &str, state: Option<&str>) {
        let result = match state {
            Some(state) => self
                .client
                .update_item()
                .table_name(&self.table)
                .key("id", s(id))
                .update_expression("SET #st = :state")
                .condition_expression("#owner = :me")
                .expression_attribute_names("#st", "state")
                .expression_attribute_names("#owner", "owner")
                .expression_attribute_values(":state", s(state))
                .expression_attribute_values(":me", s(&self.owner))
                .send()
                .await
                .map(|_| ())
                .map_err(|e| zoomwatch_log::aws::describe_service(&e, "DynamoDB")),
            None => self
                .client
                .delete_item()
                .table_name(&self.table)
                .key("id", s(id))
                .condition_expression("#owner = :me")
                .expression_attribute_names("#owner", "owner")
                .expression_attribute_values(":me", s(&self.owner))
                .send()
                .await
                .map(|_| ())
                .map_err(|e| zoomwatch_log::aws::describe_service(&e, "DynamoDB")),
        };
        if let Err(e) = result {
            tracing::warn!(record_id = id, table = %self.table, state = state.unwrap_or("released"), error = %e, "could not update the claim; it ends with its lease");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn specs() {
        assert_eq!(ClaimsSpec::parse("dynamodb:zoomwatch-claims"), Ok(ClaimsSpec::DynamoDb("zoomwatch-claims".into())));
        assert!(ClaimsSpec::parse("dynamodb:a b").unwrap_err().contains("table name"));
        assert!(ClaimsSpec::parse("s3://bucket/prefix").unwrap_err().contains("expected dynamodb:TABLE"));
        assert!(ClaimsSpec::parse("dynamodb:").is_err());
    }

    #[test]
    fn the_template_grants_the_function_exactly_the_calls_it_makes() {
        // The Lambda claims, finishes and releases (PutItem, UpdateItem, DeleteItem); the
        // table is the template's, so it never describes or creates one.
        let template = include_str!("../../template.yaml");
        assert!(template.contains("Action: [dynamodb:PutItem, dynamodb:UpdateItem, dynamodb:DeleteItem]"));
        assert!(template.contains(&format!("{CLAIMS_ENV}: !If [MakeClaims, !Sub \"dynamodb:${{ClaimsTable}}\"")));
        assert!(template.contains("TimeToLiveSpecification: { AttributeName: expires_at, Enabled: true }"));
        let code = include_str!("claims.rs");
        let claim_path = &code[code.find("pub async fn claim(").unwrap()..code.find("#[cfg(test)]").unwrap()];
        for call in [".put_item()", ".update_item()", ".delete_item()"] {
            assert!(claim_path.contains(call), "{call}");
        }
        for call in [".create_table()", ".describe_table()", ".get_item()", ".query()"] {
            assert!(!claim_path.contains(call), "the function would need {call}");
        }
    }
}
