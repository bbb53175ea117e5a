//! The state table as the store needs it, and the functions' timeouts, log groups, memory
//! and the API's throttling as the code needs them.

use wxauth_core::config::Serves;
use wxauth_core::login::deadline::CALLBACK_BUDGET;
use wxauth_core::store::attr;
use wxauth_tests::serves_of_binary;
use wxauth_tests::template::{self, Evaluator, functions, of_type, property, ref_to, resources};

use super::plain_parameters;

const STATE_TABLE_STORE_BOUND_MS: u64 = 3000;

/// How many store calls (each bounded by the store's timeout) one request of a function
/// makes one after the other, at most.
fn store_calls_in_a_row(serves: Serves) -> u64 {
    match serves {
        Serves::StartOnly | Serves::OidcUserInfo => 1,
        // The redemption, then the revocation when the code was replayed.
        Serves::OidcToken => 2,
        // The callbacks run under their own deadline instead.
        Serves::Callbacks | Serves::CodeLogin | Serves::Everything => 0,
    }
}

#[test]
fn the_table_timeouts_logs_and_throttling_are_as_the_code_needs() {
    let t = template::load();
    let (_, table) = of_type(&t, "AWS::DynamoDB::Table")
        .into_iter()
        .next()
        .unwrap();
    let p = &table["Properties"];
    assert_eq!(p["BillingMode"], "PAY_PER_REQUEST");
    assert_eq!(p["KeySchema"][0]["AttributeName"], attr::STATE);
    assert_eq!(p["KeySchema"][0]["KeyType"], "HASH");
    assert_eq!(p["AttributeDefinitions"][0]["AttributeName"], attr::STATE);
    assert_eq!(p["AttributeDefinitions"][0]["AttributeType"], "S");
    assert_eq!(p["AttributeDefinitions"].as_sequence().unwrap().len(), 1);
    assert_eq!(
        p["TimeToLiveSpecification"]["AttributeName"],
        attr::EXPIRES_AT
    );
    assert_eq!(p["TimeToLiveSpecification"]["Enabled"], true);
    assert_eq!(p["SSESpecification"]["SSEEnabled"], true);

    for (id, binary) in functions(&t) {
        let f = &resources(&t)[&id];
        let timeout = property(&t, f, "Timeout").as_u64().expect("a Timeout") * 1000;
        let needed = match serves_of_binary(&binary) {
            // The code login is held to the callbacks' deadline at WeChat.
            Serves::Callbacks | Serves::CodeLogin | Serves::Everything => {
                CALLBACK_BUDGET.as_millis() as u64
            }
            other => store_calls_in_a_row(other) * STATE_TABLE_STORE_BOUND_MS,
        };
        assert!(
            timeout > needed,
            "{id}: {timeout} ms does not cover {needed} ms"
        );
        let log_group = ref_to(&f["Properties"]["LoggingConfig"]["LogGroup"]).expect("a log group");
        let lg = &resources(&t)[log_group];
        assert_eq!(lg["Type"], "AWS::Logs::LogGroup");
        assert!(
            !lg["Properties"]["RetentionInDays"].is_null(),
            "{log_group}"
        );
        let name =
            Evaluator::new(&t, &plain_parameters(&[])).eval(&lg["Properties"]["LogGroupName"]);
        assert_eq!(name, format!("/aws/lambda/wxauth/{binary}"), "{log_group}");
        assert_eq!(
            Evaluator::new(&t, &plain_parameters(&[])).eval(property(&t, f, "MemorySize")),
            "128"
        );
    }

    let (_, api) = of_type(&t, "AWS::Serverless::HttpApi")
        .into_iter()
        .next()
        .unwrap();
    let throttling = &api["Properties"]["DefaultRouteSettings"];
    for name in ["ThrottlingBurstLimit", "ThrottlingRateLimit"] {
        let parameter =
            ref_to(&throttling[name]).unwrap_or_else(|| panic!("{name} from a parameter"));
        assert!(t["Parameters"][parameter]["Default"].as_u64().unwrap() > 0);
    }
}
