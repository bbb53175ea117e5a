//! How IAM decides a function's call on the state table: its role's statements on the
//! table, and their conditions on `dynamodb:LeadingKeys` (the partition keys a request
//! names) that split the rights between logins and grants. Only the condition operators
//! template.yaml uses are modelled, as IAM documents them; anything else makes the model
//! panic rather than guess an answer.

use std::collections::BTreeSet;

use crate::template::{Value, get_att, resources, scalar};

/// The condition key of the partition keys a DynamoDB request names: the key of the item
/// read or written, none for a request on the table itself (DescribeTable) or a Scan.
pub const LEADING_KEYS: &str = "dynamodb:LeadingKeys";

/// The one call every role makes on the table rather than on its items.
pub const DESCRIBE_TABLE: &str = "dynamodb:DescribeTable";

/// One `Allow` statement of a role on the state table.
#[derive(Clone, Debug)]
pub struct TableStatement {
    pub actions: BTreeSet<String>,
    /// `(operator, values)`, each on [`LEADING_KEYS`]; all must hold.
    pub conditions: Vec<(String, Vec<String>)>,
}

impl TableStatement {
    /// Whether this statement allows `action` on a request naming `leading_keys`.
    pub fn allows(&self, action: &str, leading_keys: &[&str]) -> bool {
        self.actions.contains(action)
            && self
                .conditions
                .iter()
                .all(|(operator, values)| holds(operator, values, leading_keys))
    }

    /// Whether it restricts the keys at all.
    pub fn is_conditioned(&self) -> bool {
        !self.conditions.is_empty()
    }
}

/// The statements of `role` (a logical id) on the template's one DynamoDB table, from
/// its inline policies: those naming a `dynamodb:` action, each of which must be an
/// `Allow` on the table's ARN.
pub fn table_statements(t: &Value, role: &str) -> Vec<TableStatement> {
    let all = resources(t);
    let tables: Vec<&String> = all
        .iter()
        .filter(|(_, r)| r["Type"] == "AWS::DynamoDB::Table")
        .map(|(id, _)| id)
        .collect();
    let [table] = tables[..] else {
        panic!("one table, not {tables:?}")
    };
    let mut statements = Vec::new();
    for policy in all[role]["Properties"]["Policies"]
        .as_sequence()
        .unwrap_or_else(|| panic!("{role}: inline policies"))
    {
        for s in policy["PolicyDocument"]["Statement"].as_sequence().unwrap() {
            let actions: BTreeSet<String> = match &s["Action"] {
                Value::Sequence(a) => a.iter().map(scalar).collect(),
                a => BTreeSet::from([scalar(a)]),
            };
            if !actions.iter().any(|a| a.starts_with("dynamodb:")) {
                continue;
            }
            assert_eq!(s["Effect"], "Allow", "{role}: only Allow statements");
            for unmodelled in ["NotAction", "NotResource", "Principal"] {
                assert!(s.get(unmodelled).is_none(), "{role}: {unmodelled}");
            }
            assert_eq!(
                get_att(&s["Resource"]),
                Some((table.as_str(), "Arn")),
                "{role}: a statement on the table"
            );
            statements.push(TableStatement {
                actions,
                conditions: conditions(role, &s["Condition"]),
            });
        }
    }
    statements
}

/// Whether any of `statements` allows `action` on a request naming `leading_keys` (there
/// are no Deny statements: [`table_statements`] refuses them).
pub fn allowed(statements: &[TableStatement], action: &str, leading_keys: &[&str]) -> bool {
    statements.iter().any(|s| s.allows(action, leading_keys))
}

fn conditions(role: &str, condition: &Value) -> Vec<(String, Vec<String>)> {
    let Some(operators) = condition.as_mapping() else {
        assert!(condition.is_null(), "{role}: Condition {condition:?}");
        return Vec::new();
    };
    let mut out = Vec::new();
    for (operator, keys) in operators {
        let operator = scalar(operator);
        for (key, values) in keys
            .as_mapping()
            .unwrap_or_else(|| panic!("{role}: {keys:?}"))
        {
            // Condition keys are case-insensitive in IAM; the template spells them as
            // documented.
            assert_eq!(
                scalar(key),
                LEADING_KEYS,
                "{role}: the model knows no other key"
            );
            let values = match values {
                Value::Sequence(v) => v.iter().map(scalar).collect(),
                v => vec![scalar(v)],
            };
            out.push((operator.clone(), values));
        }
    }
    out
}

/// IAM's evaluation of one condition operator on the multivalued key's request values.
/// `ForAllValues:` holds when every request value matches, and so also when the request
/// names none; `Null` `false` holds when the key is present.
fn holds(operator: &str, values: &[String], leading_keys: &[&str]) -> bool {
    match operator {
        "ForAllValues:StringLike" => leading_keys
            .iter()
            .all(|k| values.iter().any(|p| string_like(p, k))),
        "ForAllValues:StringNotLike" => leading_keys
            .iter()
            .all(|k| !values.iter().any(|p| string_like(p, k))),
        "Null" => match values {
            [v] if v == "false" => !leading_keys.is_empty(),
            [v] if v == "true" => leading_keys.is_empty(),
            other => panic!("Null takes true or false, not {other:?}"),
        },
        // A single-valued operator on a multivalued key, ForAnyValue, equality …: not
        // what the template should use, and not modelled.
        other => panic!("the model of IAM does not know the condition operator {other}"),
    }
}

/// IAM's `StringLike`: case-sensitive, `*` any run of characters, `?` any one.
fn string_like(pattern: &str, text: &str) -> bool {
    assert!(
        !pattern.contains("${"),
        "policy variables are not modelled: {pattern}"
    );
    fn matches(pattern: &[char], text: &[char]) -> bool {
        match pattern.split_first() {
            None => text.is_empty(),
            Some(('*', rest)) => (0..=text.len()).any(|i| matches(rest, &text[i..])),
            Some(('?', rest)) => !text.is_empty() && matches(rest, &text[1..]),
            Some((c, rest)) => text.first() == Some(c) && matches(rest, &text[1..]),
        }
    }
    let pattern: Vec<char> = pattern.chars().collect();
    let text: Vec<char> = text.chars().collect();
    matches(&pattern, &text)
}
