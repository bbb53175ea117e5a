//! The API's routes reach the functions whose code serves them: template.yaml's events and
//! explicit routes against each binary's own routing, the core's path routing and what
//! each function's configuration serves.

use std::collections::{BTreeMap, BTreeSet};

use wxauth_core::config::Serves;
use wxauth_core::{Config, Route, Scope};
use wxauth_tests::template::{
    self, Evaluator, Value, created, functions, get_att, of_type, ref_to, resources,
};
use wxauth_tests::{api_gateway_event, serves_of_binary};

use super::{OIDC_CLIENTS, oidc_parameters, plain_parameters};

/// The entry of `wxauth_lambda::functions` each Lambda binary runs.
fn route_fn(binary: &str) -> &'static wxauth_lambda::functions::Function {
    wxauth_lambda::functions::Function::named(binary).unwrap_or_else(|| {
        panic!("template.yaml builds {binary}, which is not one of the six functions")
    })
}

/// Every route of the API (`template::routes`), each checked on its way: an event of the
/// one HttpApi, or an explicit route whose integration and the permission that lets API
/// Gateway invoke its function exist under the route's own condition.
pub(super) fn api_routes(
    t: &Value,
    ev: &Evaluator<'_>,
) -> BTreeMap<String, (String, Option<String>)> {
    let apis = of_type(t, "AWS::Serverless::HttpApi");
    assert_eq!(apis.len(), 1, "one HttpApi");
    let api = apis.keys().next().unwrap().clone();
    for id in functions(t).keys() {
        let f = &resources(t)[id];
        for (_, event) in f["Properties"]["Events"].as_mapping().into_iter().flatten() {
            assert_eq!(event["Type"], "HttpApi", "{id}");
            assert_eq!(
                ref_to(&event["Properties"]["ApiId"]),
                Some(api.as_str()),
                "{id}"
            );
        }
    }
    for (id, route) in of_type(t, "AWS::ApiGatewayV2::Route") {
        assert_eq!(ref_to(&route["Properties"]["ApiId"]), Some(api.as_str()));
        let key = ev.eval(&route["Properties"]["RouteKey"]);
        let condition = route["Condition"].as_str().map(str::to_owned);
        // Route → integration → a function; the integration and the permission that lets
        // API Gateway invoke the function exist under the same condition, for this route.
        let integration = &resources(t)[&template::integration_of(&id, &route, ev)];
        assert_eq!(integration["Type"], "AWS::ApiGatewayV2::Integration");
        assert_eq!(
            integration["Condition"].as_str(),
            condition.as_deref(),
            "{id}"
        );
        assert_eq!(integration["Properties"]["IntegrationType"], "AWS_PROXY");
        assert_eq!(integration["Properties"]["PayloadFormatVersion"], "2.0");
        let (function, attr) = get_att(&integration["Properties"]["IntegrationUri"]).unwrap();
        assert_eq!(attr, "Arn");
        let (method, path) = key.split_once(' ').unwrap();
        let permissions: Vec<_> = of_type(t, "AWS::Lambda::Permission")
            .into_values()
            .filter(|p| {
                ev.eval(&p["Properties"]["SourceArn"])
                    .ends_with(&format!("/*/{method}{path}"))
            })
            .collect();
        assert_eq!(permissions.len(), 1, "{id}: one permission for {key}");
        let permission = &permissions[0];
        assert_eq!(
            permission["Condition"].as_str(),
            condition.as_deref(),
            "{id}"
        );
        assert_eq!(
            ref_to(&permission["Properties"]["FunctionName"]),
            Some(function)
        );
        assert_eq!(
            permission["Properties"]["Principal"],
            "apigateway.amazonaws.com"
        );
    }
    template::routes(t, ev)
}

#[test]
fn routes_reach_the_functions_whose_code_serves_them() {
    let t = template::load();
    let ev = Evaluator::new(
        &t,
        &oidc_parameters(
            &[("MpVerifyToken", "AbC123xyz"), ("CodeLogin", "true")],
            OIDC_CLIENTS,
        ),
    );
    let routes = api_routes(&t, &ev);
    let expected: BTreeMap<&str, (&str, Option<&str>)> = BTreeMap::from([
        ("GET /auth", ("auth", None)),
        (
            "GET /MP_verify_AbC123xyz.txt",
            ("auth", Some("HasMpVerifyToken")),
        ),
        ("GET /oauth2/authorize", ("auth", Some("OidcEnabled"))),
        ("POST /oauth2/authorize", ("auth", Some("OidcEnabled"))),
        ("GET /getOpenId", ("base-callback", None)),
        ("GET /getWxUserInfo", ("userinfo-callback", None)),
        ("POST /oauth2/token", ("oidc-token", Some("OidcEnabled"))),
        ("OPTIONS /oauth2/token", ("oidc-token", Some("OidcEnabled"))),
        (
            "GET /oauth2/userinfo",
            ("oidc-userinfo", Some("PublicKeysPublished")),
        ),
        (
            "POST /oauth2/userinfo",
            ("oidc-userinfo", Some("PublicKeysPublished")),
        ),
        (
            "OPTIONS /oauth2/userinfo",
            ("oidc-userinfo", Some("PublicKeysPublished")),
        ),
        (
            "GET /.well-known/openid-configuration",
            ("oidc-userinfo", Some("PublicKeysPublished")),
        ),
        (
            "GET /.well-known/jwks.json",
            ("oidc-userinfo", Some("PublicKeysPublished")),
        ),
        (
            "GET /.well-known/result-jwks.json",
            ("oidc-userinfo", Some("PublicKeysPublished")),
        ),
        ("GET /getUserInfo", ("userinfo-callback", None)),
        ("GET /getQrUserInfo", ("userinfo-callback", None)),
        ("POST /login/code", ("login-code", Some("CodeLoginEnabled"))),
    ]);
    let found: BTreeMap<&str, (&str, Option<&str>)> = routes
        .iter()
        .map(|(k, (b, c))| (k.as_str(), (b.as_str(), c.as_deref())))
        .collect();
    assert_eq!(found, expected);

    // Each function's own routing agrees, on the $default stage and on a named one, and so
    // does the core's path routing (wxauth-local); the function's configuration serves
    // the route (`Serves::serves`), and no other single-purpose function does.
    let mut reached = BTreeSet::new();
    for (key, (binary, _)) in &routes {
        let path = key.split_once(' ').unwrap().1;
        let route = Route::from_path(path);
        assert_ne!(route, Route::NotFound, "{key}");
        for stage in ["$default", "prod"] {
            let event = api_gateway_event(stage, path, "", None);
            assert_eq!(
                route_fn(binary).route(&event),
                route,
                "{key} on stage {stage}"
            );
        }
        assert!(
            serves_of_binary(binary).serves(&route),
            "{key} reaches {binary}, whose configuration does not serve {route:?}"
        );
        for other in ["auth", "oidc-token", "oidc-userinfo", "login-code"] {
            if other != binary {
                assert!(
                    !serves_of_binary(other).serves(&route),
                    "{other} also serves {key}"
                );
            }
        }
        reached.insert(route.name());
    }
    // Every route the core answers has a way in.
    for route in [
        Route::Auth,
        Route::Callback(Scope::Base),
        Route::Callback(Scope::UserInfo),
        Route::Callback(Scope::Login),
        Route::MpVerify("AbC123xyz".into()),
        Route::OidcDiscovery,
        Route::OidcJwks,
        Route::OidcAuthorize,
        Route::OidcToken,
        Route::OidcUserInfo,
        Route::CodeLogin,
    ] {
        assert!(reached.contains(route.name()), "{route:?} has no route");
    }
    for scope in [Scope::Base, Scope::UserInfo, Scope::Login] {
        let key = format!("GET {}", scope.callback_path());
        assert!(
            routes.contains_key(&key),
            "WeChat returns to {key}, which has no route"
        );
    }
    // The OpenID Provider's and the code login's routes exist exactly when their function
    // is configured to answer them: the authorize route with the clients (which the auth
    // function reads), the others with their function.
    for (key, (binary, condition)) in &routes {
        if let Some(condition) = condition
            && binary != "auth"
        {
            let (id, _) = functions(&t)
                .into_iter()
                .find(|(_, b)| b == binary)
                .unwrap();
            assert_eq!(
                resources(&t)[&id]["Condition"].as_str(),
                Some(condition.as_str()),
                "{key}"
            );
        }
    }
}

#[test]
fn the_explicit_routes_exist_only_when_configured() {
    let t = template::load();
    let token = "AbC123xyz";
    let with = Evaluator::new(
        &t,
        &oidc_parameters(&[("MpVerifyToken", token)], OIDC_CLIENTS),
    );
    let without = Evaluator::new(&t, &plain_parameters(&[]));
    let routes = of_type(&t, "AWS::ApiGatewayV2::Route");
    assert_eq!(routes.len(), 3);
    for (id, route) in &routes {
        let condition = route["Condition"].as_str().expect("conditional");
        assert!(with.condition(condition), "{id}");
        assert!(!without.condition(condition), "{id}");
    }

    // The auth function gets the token it must answer with; no function without it.
    let auth_function = &resources(&t)["AuthFunction"];
    assert_eq!(with.environment(auth_function)["MP_VERIFY_TOKEN"], token);
    assert!(
        !without
            .environment(auth_function)
            .contains_key("MP_VERIFY_TOKEN")
    );
    for stage in ["$default", "prod"] {
        let event = api_gateway_event(stage, &format!("/MP_verify_{token}.txt"), "", None);
        assert_eq!(
            wxauth_lambda::functions::AUTH.route(&event),
            Route::MpVerify(token.into())
        );
    }

    // The authorize routes (GET and POST) exist exactly when the auth function holds
    // clients to check.
    for (ev, oidc) in [(&with, true), (&without, false)] {
        for key in ["GET /oauth2/authorize", "POST /oauth2/authorize"] {
            let authorize = routes
                .values()
                .find(|r| r["Properties"]["RouteKey"] == key)
                .expect("the authorize route");
            assert_eq!(created(ev, authorize), oidc, "{key}");
        }
        let env = ev.environment(auth_function);
        let config = Config::for_routes(Serves::StartOnly, |name| env.get(name).cloned()).unwrap();
        assert_eq!(config.oidc.clients.is_some(), oidc);
    }
}
