//! The stack's outputs and ARNs: the issuer outputs name what the userinfo function
//! serves, and everything is built with the partition, so the China regions work.

use wxauth_tests::template::{self, Evaluator, created, resources, root};

use super::routes::api_routes;
use super::{OIDC_CLIENTS, oidc_parameters, plain_parameters};

#[test]
fn the_issuer_outputs_name_the_discovery_document_the_userinfo_function_serves() {
    let t = template::load();
    for params in [
        oidc_parameters(&[], OIDC_CLIENTS),
        oidc_parameters(
            &[("PublicBaseUrl", "https://login.example.com")],
            OIDC_CLIENTS,
        ),
        plain_parameters(&[]),
    ] {
        let ev = Evaluator::new(&t, &params);
        let serving = created(&ev, &resources(&t)["OidcUserinfoFunction"]);
        for output in ["OidcIssuer", "OidcDiscoveryUrl"] {
            assert_eq!(created(&ev, &t["Outputs"][output]), serving, "{output}");
        }
        if !serving {
            continue;
        }
        // The issuer is the base URL the functions derive or are given, as ApiBaseUrl.
        let issuer = ev.eval(&t["Outputs"]["OidcIssuer"]["Value"]);
        assert_eq!(issuer, ev.eval(&t["Outputs"]["ApiBaseUrl"]["Value"]));
        assert_eq!(
            ev.eval(&t["Outputs"]["OidcDiscoveryUrl"]["Value"]),
            format!("{issuer}{}", wxauth_core::oidc::DISCOVERY_PATH)
        );
        let routes = api_routes(&t, &ev);
        assert_eq!(
            routes[&format!("GET {}", wxauth_core::oidc::DISCOVERY_PATH)].0,
            "oidc-userinfo"
        );
    }
}

#[test]
fn arns_are_built_with_the_partition_so_china_regions_work() {
    let text = std::fs::read_to_string(root().join("template.yaml")).unwrap();
    for (n, line) in text.lines().enumerate() {
        let line = line.split(" #").next().unwrap();
        // Patterns match any partition; service principals (apigateway.amazonaws.com,
        // lambda.amazonaws.com) carry the same names in the China regions.
        let trimmed = line.trim_start();
        if trimmed.starts_with("AllowedPattern:") || trimmed.starts_with("Principal") {
            continue;
        }
        assert!(
            !line.contains("arn:aws:"),
            "line {}: a literal aws partition: {line}",
            n + 1
        );
        assert!(
            !line.contains("amazonaws.com"),
            "line {}: use ${{AWS::URLSuffix}}: {line}",
            n + 1
        );
        // Every ARN this template builds starts `arn:${AWS::Partition}:`; `arn:${Rest}`
        // completes an ARN the operator gave, which has its own partition (and
        // `secretsmanager:arn:` is the reference prefix, not an ARN).
        for (i, _) in line.match_indices("arn:") {
            let after = &line[i..];
            let is_prefix = line[..i].ends_with(':');
            assert!(
                is_prefix
                    || after.starts_with("arn:${AWS::Partition}:")
                    || after.starts_with("arn:${Rest}\""),
                "line {}: an ARN without ${{AWS::Partition}}: {line}",
                n + 1
            );
        }
    }
    // The outputs, evaluated in a China region, name that partition's domain.
    let t = template::load();
    let ev = Evaluator::new(&t, &plain_parameters(&[]));
    let domain = ev.eval(&t["Outputs"]["OAuthCallbackDomain"]["Value"]);
    assert_eq!(
        domain,
        "HttpApi-physical-id.execute-api.cn-north-1.amazonaws.com.cn"
    );
    let custom = Evaluator::new(
        &t,
        &plain_parameters(&[("PublicBaseUrl", "https://login.example.com")]),
    );
    assert_eq!(
        custom.eval(&t["Outputs"]["OAuthCallbackDomain"]["Value"]),
        "login.example.com"
    );
    assert_eq!(
        custom.eval(&t["Outputs"]["AuthUrl"]["Value"]),
        "https://login.example.com/auth"
    );
    assert_eq!(
        ev.eval(&t["Outputs"]["AuthUrl"]["Value"]),
        "https://HttpApi-physical-id.execute-api.cn-north-1.amazonaws.com.cn/auth"
    );
}

#[test]
fn the_execute_api_endpoint_is_turned_off_only_when_asked() {
    let t = template::load();
    let setting = &resources(&t)["HttpApi"]["Properties"]["DisableExecuteApiEndpoint"];
    for (value, disabled) in [("true", true), ("false", false)] {
        let params = plain_parameters(&[
            ("PublicBaseUrl", "https://login.example.com"),
            ("DisableExecuteApiEndpoint", value),
        ]);
        assert_eq!(
            Evaluator::new(&t, &params).truth(setting),
            disabled,
            "{value}"
        );
    }
    // By default the execute-api URL keeps answering (a first test needs it).
    assert!(!Evaluator::new(&t, &plain_parameters(&[])).truth(setting));
}
