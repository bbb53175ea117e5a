//! The state table's rights split by key: a login is keyed by its state (alphanumeric), a
//! grant by `GRANT_KEY_PREFIX` and a hash, an app's shared access token by
//! `APP_TOKEN_KEY_PREFIX` and its AppID, and each role may touch only the items its
//! function does. So the auth function can never write or read a grant or an app token,
//! the token and userinfo functions never a login, and the code login only app tokens. Judged as IAM evaluates the roles' conditions on
//! `dynamodb:LeadingKeys`, for real keys and the ones beside them, and shown to catch
//! the ways a statement can be broken.

use wxauth_core::app_token::stored::APP_TOKEN_KEY_PREFIX;
use wxauth_core::login_state::StateId;
use wxauth_core::oidc::grant::GrantId;
use wxauth_core::store::attr::GRANT_KEY_PREFIX;
use wxauth_tests::table_rights::{DESCRIBE_TABLE, allowed, table_statements};
use wxauth_tests::template::{self, Value, functions, role_of};

/// The items an item call names.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Items {
    Logins,
    Grants,
    AppTokens,
}

fn items_of(key: &str) -> Items {
    if key.starts_with(GRANT_KEY_PREFIX) {
        Items::Grants
    } else if key.starts_with(APP_TOKEN_KEY_PREFIX) {
        Items::AppTokens
    } else {
        Items::Logins
    }
}

/// What each function's code does on which items (see shared/src/store/dynamo/): adding a
/// call means adding it here and to the statement of its items in template.yaml.
fn item_calls(binary: &str) -> &'static [(&'static str, Items)] {
    match binary {
        "auth" => &[("dynamodb:PutItem", Items::Logins)],
        "base-callback" | "userinfo-callback" => &[
            ("dynamodb:UpdateItem", Items::Logins),
            ("dynamodb:GetItem", Items::Logins),
            ("dynamodb:PutItem", Items::Grants),
        ],
        "oidc-token" => &[("dynamodb:UpdateItem", Items::Grants)],
        "oidc-userinfo" => &[("dynamodb:GetItem", Items::Grants)],
        // The code login shares the apps' access tokens (shared/src/app_token/).
        "login-code" => &[
            ("dynamodb:GetItem", Items::AppTokens),
            ("dynamodb:UpdateItem", Items::AppTokens),
        ],
        other => panic!("no expectation for {other}"),
    }
}

/// Every DynamoDB action that reads or writes items, whether a function makes it or not.
const ITEM_ACTIONS: [&str; 15] = [
    "dynamodb:GetItem",
    "dynamodb:PutItem",
    "dynamodb:UpdateItem",
    "dynamodb:DeleteItem",
    "dynamodb:ConditionCheckItem",
    "dynamodb:BatchGetItem",
    "dynamodb:BatchWriteItem",
    "dynamodb:TransactGetItems",
    "dynamodb:TransactWriteItems",
    "dynamodb:Query",
    "dynamodb:Scan",
    "dynamodb:PartiQLSelect",
    "dynamodb:PartiQLInsert",
    "dynamodb:PartiQLUpdate",
    "dynamodb:PartiQLDelete",
];

/// The partition keys a request may name: none (a Scan), a real login's and grant's, the
/// prefix alone and one character short of it (`grant`, a valid state), the prefix
/// anywhere but at the start, and batches mixing them.
fn probes() -> Vec<Vec<String>> {
    let state = StateId::generate().as_str().to_owned();
    let (_, grant_id) = GrantId::generate();
    let grant = format!("{GRANT_KEY_PREFIX}{}", grant_id.as_str());
    let short = GRANT_KEY_PREFIX[..GRANT_KEY_PREFIX.len() - 1].to_owned();
    assert!(StateId::parse(&short).is_some(), "{short} can be a state");
    let inside = format!("x{GRANT_KEY_PREFIX}{}", grant_id.as_str());
    let app_token = format!("{APP_TOKEN_KEY_PREFIX}wx00000000000000cc");
    let app_token_short = APP_TOKEN_KEY_PREFIX[..APP_TOKEN_KEY_PREFIX.len() - 1].to_owned();
    assert!(
        StateId::parse(&app_token_short).is_some(),
        "{app_token_short} can be a state"
    );
    vec![
        vec![app_token.clone()],
        vec![APP_TOKEN_KEY_PREFIX.to_owned()],
        vec![app_token_short],
        vec![format!("x{app_token}")],
        vec![app_token.clone(), grant.clone()],
        vec![],
        vec![state.clone()],
        vec![grant.clone()],
        vec![GRANT_KEY_PREFIX.to_owned()],
        vec![short],
        vec![inside],
        vec![state.clone(), StateId::generate().as_str().to_owned()],
        vec![state, grant],
    ]
}

/// Every way the roles' rights on the table differ from [`item_calls`]: an item action
/// allowed without a key condition, or a probe's answer not the expected one.
fn problems(t: &Value) -> Vec<String> {
    let probes = probes();
    let mut problems = Vec::new();
    for (_, binary) in functions(t) {
        let role = role_of(template::function_building(t, &binary));
        let statements = table_statements(t, role);
        for s in statements.iter().filter(|s| !s.is_conditioned()) {
            for action in s.actions.iter().filter(|a| *a != DESCRIBE_TABLE) {
                problems.push(format!("{role}: {action} on any key"));
            }
        }
        if !allowed(&statements, DESCRIBE_TABLE, &[]) {
            problems.push(format!("{role}: no {DESCRIBE_TABLE}"));
        }
        let calls = item_calls(&binary);
        for action in ITEM_ACTIONS {
            for keys in &probes {
                let keys: Vec<&str> = keys.iter().map(String::as_str).collect();
                let expected =
                    !keys.is_empty() && keys.iter().all(|k| calls.contains(&(action, items_of(k))));
                if allowed(&statements, action, &keys) != expected {
                    problems.push(format!("{role}: {action} on {keys:?}: expected {expected}"));
                }
            }
        }
    }
    problems
}

#[test]
fn each_role_may_touch_only_its_functions_items() {
    assert_eq!(problems(&template::load()), Vec::<String>::new());
}

/// The statement of `role`'s state-table policy that allows `action`.
fn statement_of<'t>(t: &'t mut Value, role: &str, action: &str) -> &'t mut Value {
    let policies = t["Resources"][role]["Properties"]["Policies"]
        .as_sequence_mut()
        .unwrap();
    let policy = policies
        .iter_mut()
        .find(|p| p["PolicyName"] == "state-table")
        .unwrap();
    policy["PolicyDocument"]["Statement"]
        .as_sequence_mut()
        .unwrap()
        .iter_mut()
        .find(|s| {
            s["Action"]
                .as_sequence()
                .unwrap()
                .iter()
                .any(|a| a == action)
        })
        .unwrap_or_else(|| panic!("{role}: no statement allows {action}"))
}

fn condition_values<'t>(statement: &'t mut Value, operator: &str) -> &'t mut Value {
    &mut statement["Condition"][operator]["dynamodb:LeadingKeys"]
}

#[test]
fn a_broken_split_is_caught() {
    type Breakage = fn(&mut Value);
    let breakages: [(&str, Breakage); 7] = [
        (
            "the auth role's PutItem on any key, as before the split",
            |t| {
                statement_of(t, "AuthRole", "dynamodb:PutItem")
                    .as_mapping_mut()
                    .unwrap()
                    .remove("Condition");
            },
        ),
        ("no Null condition: a request naming no key passes", |t| {
            statement_of(t, "AuthRole", "dynamodb:PutItem")["Condition"]
                .as_mapping_mut()
                .unwrap()
                .remove("Null");
        }),
        ("the token role's pattern widened to every key", |t| {
            let s = statement_of(t, "OidcTokenRole", "dynamodb:UpdateItem");
            *condition_values(s, "ForAllValues:StringLike") = vec![Value::from("*")].into();
        }),
        ("the prefix without its colon", |t| {
            let s = statement_of(t, "OidcUserinfoRole", "dynamodb:GetItem");
            *condition_values(s, "ForAllValues:StringLike") = vec![Value::from("grant*")].into();
        }),
        ("a callback's PutItem with its logins' calls", |t| {
            statement_of(t, "BaseCallbackRole", "dynamodb:GetItem")["Action"]
                .as_sequence_mut()
                .unwrap()
                .push("dynamodb:PutItem".into());
        }),
        ("an item action beside DescribeTable", |t| {
            statement_of(t, "UserinfoCallbackRole", "dynamodb:DescribeTable")["Action"]
                .as_sequence_mut()
                .unwrap()
                .push("dynamodb:GetItem".into());
        }),
        ("DescribeTable under the key conditions", |t| {
            let s = statement_of(t, "OidcUserinfoRole", "dynamodb:DescribeTable").clone();
            let conditioned = statement_of(t, "OidcUserinfoRole", "dynamodb:GetItem");
            conditioned["Action"]
                .as_sequence_mut()
                .unwrap()
                .push("dynamodb:DescribeTable".into());
            let policies = t["Resources"]["OidcUserinfoRole"]["Properties"]["Policies"]
                .as_sequence_mut()
                .unwrap();
            for p in policies.iter_mut() {
                if let Some(all) = p["PolicyDocument"]["Statement"].as_sequence_mut() {
                    all.retain(|other| *other != s);
                }
            }
        }),
    ];
    for (what, break_it) in breakages {
        let mut t = template::load();
        break_it(&mut t);
        assert_ne!(problems(&t), Vec::<String>::new(), "not caught: {what}");
    }
}
