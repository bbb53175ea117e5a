//! template.yaml cannot drift from the code: its routes, functions, binaries, environment
//! variables, table, IAM and timeouts are read here (CloudFormation tags such as `!Ref`
//! parsed as tagged values) and checked against the crates, the configuration parser and
//! the routing functions themselves. The functions' environments are evaluated for real
//! parameter sets (Ref, If, Condition …) and fed to `Config::from_lookup`.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::{Path, PathBuf};

use serde_yaml::Value;
use wxauth_core::config::{
    CALLBACK_ONLY_SECRETS, REFERENCE_VARIABLES, Serves, Subject, TokenAlg, VARIABLES,
};
use wxauth_core::login::deadline::CALLBACK_BUDGET;
use wxauth_core::oidc::keys::Alg;
use wxauth_core::secret::Secret;
use wxauth_core::store::attr;
use wxauth_core::{Config, Route, Scope};
use wxauth_core::{ConfigError, apps};
use wxauth_lambda::secret_refs::{
    Reference, ResolvedSecrets, SecretRef, app_references, app_references_for, references_for,
};
use wxauth_tests::{api_gateway_event, serves_of_binary};

/// Variables a function may have besides the configuration's: the log filter.
const OTHER_VARIABLES: [&str; 1] = ["RUST_LOG"];
const STATE_TABLE_STORE_BOUND_MS: u64 = 3000;

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .unwrap()
        .to_owned()
}

/// The template with every `!Tag value` turned into `{"Fn::Tag": value}` (`!Ref` →
/// `{"Ref": …}`), the long form CloudFormation itself uses.
fn template() -> Value {
    let text = std::fs::read_to_string(root().join("template.yaml")).expect("template.yaml");
    let value: Value = serde_yaml::from_str(&text).expect("template.yaml is YAML");
    untag(value)
}

fn untag(value: Value) -> Value {
    match value {
        Value::Tagged(tagged) => {
            let tag = tagged.tag.to_string();
            let tag = tag.trim_start_matches('!');
            let key = match tag {
                "Ref" | "Condition" => tag.to_owned(),
                other => format!("Fn::{other}"),
            };
            let inner = untag(tagged.value);
            // `!GetAtt A.Arn` is the short form of `Fn::GetAtt: [A, Arn]`.
            let inner = match (&*key, inner) {
                ("Fn::GetAtt", Value::String(s)) => {
                    let (resource, attribute) = s.split_once('.').expect("!GetAtt Res.Attr");
                    Value::Sequence(vec![resource.into(), attribute.into()])
                }
                (_, inner) => inner,
            };
            let mut map = serde_yaml::Mapping::new();
            map.insert(key.into(), inner);
            Value::Mapping(map)
        }
        Value::Sequence(items) => Value::Sequence(items.into_iter().map(untag).collect()),
        Value::Mapping(map) => {
            Value::Mapping(map.into_iter().map(|(k, v)| (k, untag(v))).collect())
        }
        other => other,
    }
}

fn resources(t: &Value) -> BTreeMap<String, Value> {
    t["Resources"]
        .as_mapping()
        .expect("Resources")
        .iter()
        .map(|(k, v)| (k.as_str().unwrap().to_owned(), v.clone()))
        .collect()
}

fn of_type(t: &Value, ty: &str) -> BTreeMap<String, Value> {
    resources(t)
        .into_iter()
        .filter(|(_, r)| r["Type"] == ty)
        .collect()
}

fn ref_to(v: &Value) -> Option<&str> {
    v.get("Ref").and_then(Value::as_str)
}

fn get_att(v: &Value) -> Option<(&str, &str)> {
    let seq = v.get("Fn::GetAtt")?.as_sequence()?;
    Some((seq.first()?.as_str()?, seq.get(1)?.as_str()?))
}

/// Evaluates the intrinsic functions the template uses, for one set of parameters.
struct Evaluator<'a> {
    template: &'a Value,
    parameters: HashMap<String, String>,
}

const NO_VALUE: &str = "\u{0}AWS::NoValue";

impl<'a> Evaluator<'a> {
    fn new(template: &'a Value, given: &[(&str, &str)]) -> Self {
        let mut parameters = HashMap::new();
        for (name, p) in template["Parameters"].as_mapping().unwrap() {
            let name = name.as_str().unwrap();
            if let Some(default) = p.get("Default") {
                parameters.insert(name.to_owned(), scalar(default));
            }
        }
        for (k, v) in given {
            assert!(
                template["Parameters"].get(*k).is_some(),
                "the test sets {k}, which template.yaml does not declare"
            );
            parameters.insert((*k).to_owned(), (*v).to_owned());
        }
        for (name, p) in template["Parameters"].as_mapping().unwrap() {
            let name = name.as_str().unwrap();
            assert!(
                parameters.contains_key(name),
                "parameter {name} has no value"
            );
            let value = &parameters[name];
            if let Some(allowed) = p.get("AllowedValues").and_then(Value::as_sequence) {
                assert!(
                    allowed.iter().any(|a| scalar(a) == *value),
                    "{name}={value:?} is not one of its AllowedValues"
                );
            }
            if let Some(max) = p.get("MaxLength").and_then(Value::as_u64) {
                assert!(
                    value.chars().count() as u64 <= max,
                    "{name} is longer than its MaxLength {max}"
                );
            }
            if let Some(min) = p.get("MinLength").and_then(Value::as_u64) {
                assert!(
                    value.chars().count() as u64 >= min,
                    "{name} is shorter than its MinLength {min}"
                );
            }
            if let Some(pattern) = p.get("AllowedPattern").and_then(Value::as_str) {
                let re = regex_lite::Regex::new(pattern).expect("a valid AllowedPattern");
                assert!(
                    re.is_match(value),
                    "{name}={value:?} fails its AllowedPattern"
                );
            }
        }
        Self {
            template,
            parameters,
        }
    }

    fn condition(&self, name: &str) -> bool {
        let c = &self.template["Conditions"][name];
        assert!(!c.is_null(), "no condition {name}");
        self.truth(c)
    }

    fn truth(&self, v: &Value) -> bool {
        if let Some(name) = v.get("Condition").and_then(Value::as_str) {
            return self.condition(name);
        }
        if let Some(args) = v.get("Fn::Equals") {
            return self.eval(&args[0]) == self.eval(&args[1]);
        }
        if let Some(args) = v.get("Fn::Not") {
            return !self.truth(&args[0]);
        }
        if let Some(args) = v.get("Fn::Or") {
            return args.as_sequence().unwrap().iter().any(|a| self.truth(a));
        }
        if let Some(args) = v.get("Fn::And") {
            return args.as_sequence().unwrap().iter().all(|a| self.truth(a));
        }
        panic!("not a condition: {v:?}")
    }

    /// A scalar's value (`NO_VALUE` for `AWS::NoValue`).
    fn eval(&self, v: &Value) -> String {
        match v {
            Value::String(_) | Value::Number(_) | Value::Bool(_) => scalar(v),
            _ => {
                if let Some(name) = ref_to(v) {
                    return match name {
                        "AWS::NoValue" => NO_VALUE.into(),
                        "AWS::Partition" => "aws-cn".into(),
                        "AWS::Region" => "cn-north-1".into(),
                        "AWS::AccountId" => "123456789012".into(),
                        "AWS::StackName" => "wxauth".into(),
                        "AWS::URLSuffix" => "amazonaws.com.cn".into(),
                        p if self.parameters.contains_key(p) => self.parameters[p].clone(),
                        resource => {
                            assert!(
                                self.template["Resources"].get(resource).is_some(),
                                "!Ref to unknown {resource}"
                            );
                            format!("{resource}-physical-id")
                        }
                    };
                }
                if let Some(args) = v.get("Fn::If") {
                    let args = args.as_sequence().unwrap();
                    let branch = if self.condition(args[0].as_str().unwrap()) {
                        &args[1]
                    } else {
                        &args[2]
                    };
                    return self.eval(branch);
                }
                if let Some(args) = v.get("Fn::Select") {
                    let index: usize = self.eval(&args[0]).parse().unwrap();
                    let list = self.list(&args[1]);
                    return list.get(index).cloned().expect("Fn::Select index in range");
                }
                if let Some(args) = v.get("Fn::Sub") {
                    let (text, vars) = match args {
                        Value::String(s) => (s.clone(), HashMap::new()),
                        Value::Sequence(seq) => {
                            let vars = seq[1]
                                .as_mapping()
                                .unwrap()
                                .iter()
                                .map(|(k, v)| (k.as_str().unwrap().to_owned(), self.eval(v)))
                                .collect();
                            (seq[0].as_str().unwrap().to_owned(), vars)
                        }
                        _ => panic!("Fn::Sub {args:?}"),
                    };
                    let mut out = String::new();
                    let mut rest = text.as_str();
                    while let Some(start) = rest.find("${") {
                        out.push_str(&rest[..start]);
                        let end = rest[start..].find('}').unwrap() + start;
                        let name = &rest[start + 2..end];
                        let value = match vars.get(name) {
                            Some(v) => v.clone(),
                            None => match name.split_once('.') {
                                Some((res, attr)) => format!("{res}-{attr}"),
                                None => self.eval(&Value::Mapping(
                                    [(Value::from("Ref"), Value::from(name))]
                                        .into_iter()
                                        .collect(),
                                )),
                            },
                        };
                        out.push_str(&value);
                        rest = &rest[end + 1..];
                    }
                    out.push_str(rest);
                    return out;
                }
                if let Some((resource, attribute)) = get_att(v) {
                    return format!("{resource}-{attribute}");
                }
                panic!("cannot evaluate {v:?}")
            }
        }
    }

    fn list(&self, v: &Value) -> Vec<String> {
        if let Some(args) = v.get("Fn::Split") {
            let sep = self.eval(&args[0]);
            return self
                .eval(&args[1])
                .split(sep.as_str())
                .map(str::to_owned)
                .collect();
        }
        v.as_sequence()
            .unwrap()
            .iter()
            .map(|i| self.eval(i))
            .collect()
    }

    /// A function's environment: Globals, then its own variables; `AWS::NoValue` removes.
    fn environment(&self, function: &Value) -> BTreeMap<String, String> {
        let mut env = BTreeMap::new();
        for source in [
            &self.template["Globals"]["Function"]["Environment"]["Variables"],
            &function["Properties"]["Environment"]["Variables"],
        ] {
            for (k, v) in source.as_mapping().into_iter().flatten() {
                let value = self.eval(v);
                if value != NO_VALUE {
                    env.insert(k.as_str().unwrap().to_owned(), value);
                }
            }
        }
        env
    }
}

fn scalar(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Number(n) => n.to_string(),
        Value::Bool(b) => b.to_string(),
        other => panic!("not a scalar: {other:?}"),
    }
}

/// A function property, falling back to Globals.
fn property<'a>(t: &'a Value, function: &'a Value, name: &str) -> &'a Value {
    let own = &function["Properties"][name];
    if own.is_null() {
        &t["Globals"]["Function"][name]
    } else {
        own
    }
}

/// The binaries of the workspace's packages, by name, from `cargo metadata`.
fn workspace_binaries() -> BTreeMap<String, PathBuf> {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let output = std::process::Command::new(cargo)
        .args([
            "metadata",
            "--no-deps",
            "--format-version",
            "1",
            "--offline",
        ])
        .current_dir(root())
        .output()
        .expect("cargo metadata");
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let metadata: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    let mut binaries = BTreeMap::new();
    for package in metadata["packages"].as_array().unwrap() {
        for target in package["targets"].as_array().unwrap() {
            if target["kind"]
                .as_array()
                .unwrap()
                .iter()
                .any(|k| k == "bin")
            {
                binaries.insert(
                    target["name"].as_str().unwrap().to_owned(),
                    PathBuf::from(package["manifest_path"].as_str().unwrap()),
                );
            }
        }
    }
    binaries
}

/// The entry of `wxauth_lambda::functions` each Lambda binary runs.
fn route_fn(binary: &str) -> &'static wxauth_lambda::functions::Function {
    wxauth_lambda::functions::Function::named(binary).unwrap_or_else(|| {
        panic!("template.yaml builds {binary}, which is not one of the five functions")
    })
}

/// `(logical id, binary)` of each function.
fn functions(t: &Value) -> BTreeMap<String, String> {
    of_type(t, "AWS::Serverless::Function")
        .into_iter()
        .map(|(id, f)| {
            let binary = f["Metadata"]["BuildProperties"]["Binary"]
                .as_str()
                .unwrap_or_else(|| panic!("{id}: Metadata.BuildProperties.Binary"))
                .to_owned();
            (id, binary)
        })
        .collect()
}

/// Whether CloudFormation creates `resource` for the evaluator's parameters.
fn created(ev: &Evaluator<'_>, resource: &Value) -> bool {
    resource["Condition"]
        .as_str()
        .is_none_or(|condition| ev.condition(condition))
}

/// The functions created for the evaluator's parameters, `(logical id, binary)`.
fn created_functions(t: &Value, ev: &Evaluator<'_>) -> BTreeMap<String, String> {
    functions(t)
        .into_iter()
        .filter(|(id, _)| created(ev, &resources(t)[id]))
        .collect()
}

#[test]
fn every_function_is_an_arm64_cargo_lambda_build_of_a_workspace_binary() {
    let t = template();
    let binaries = workspace_binaries();
    let functions = functions(&t);
    assert_eq!(
        functions.values().cloned().collect::<BTreeSet<_>>(),
        BTreeSet::from([
            "auth".into(),
            "base-callback".into(),
            "userinfo-callback".into(),
            "oidc-token".into(),
            "oidc-userinfo".into(),
        ]),
    );
    for (id, binary) in &functions {
        let f = &resources(&t)[id];
        assert_eq!(f["Metadata"]["BuildMethod"], "rust-cargolambda", "{id}");
        // SAM runs `cargo lambda build --bin <Binary>` in CodeUri and copies
        // CodeUri/target/lambda/<Binary>/bootstrap: CodeUri must be the workspace root.
        let code_uri = property(&t, f, "CodeUri").as_str().expect("CodeUri");
        let dir = root().join(code_uri);
        let manifest = std::fs::read_to_string(dir.join("Cargo.toml")).expect("CodeUri/Cargo.toml");
        assert!(
            manifest.contains("[workspace]"),
            "{id}: CodeUri is not the workspace root"
        );
        let crate_manifest = binaries
            .get(binary)
            .unwrap_or_else(|| panic!("{id}: no workspace binary named {binary}"));
        assert!(crate_manifest.starts_with(dir.canonicalize().unwrap()));
        assert_eq!(property(&t, f, "Runtime"), "provided.al2023", "{id}");
        assert_eq!(property(&t, f, "Handler"), "bootstrap", "{id}");
        assert_eq!(
            property(&t, f, "Architectures"),
            &Value::Sequence(vec!["arm64".into()]),
            "{id}"
        );
    }
    // scripts/lambda-build.sh builds (and size-checks) every one of them.
    let script = std::fs::read_to_string(root().join("scripts/lambda-build.sh")).unwrap();
    let line = script
        .lines()
        .find(|l| l.starts_with("FUNCTIONS=("))
        .expect("FUNCTIONS=( … ) in scripts/lambda-build.sh");
    let built: BTreeSet<String> = line
        .trim_start_matches("FUNCTIONS=(")
        .trim_end_matches(')')
        .split_whitespace()
        .map(str::to_owned)
        .collect();
    assert_eq!(
        built,
        functions.values().cloned().collect::<BTreeSet<_>>(),
        "scripts/lambda-build.sh"
    );
}

/// Every route of the API: `"METHOD /path"` → (binary, the condition it exists under).
/// Routes come from the functions' HttpApi events (which SAM creates under the function's
/// condition) and from explicit `AWS::ApiGatewayV2::Route`s (evaluated with `ev`).
fn api_routes(t: &Value, ev: &Evaluator<'_>) -> BTreeMap<String, (String, Option<String>)> {
    let functions = functions(t);
    let apis = of_type(t, "AWS::Serverless::HttpApi");
    assert_eq!(apis.len(), 1, "one HttpApi");
    let api = apis.keys().next().unwrap().clone();
    let mut routes = BTreeMap::new();
    for (id, binary) in &functions {
        let f = &resources(t)[id];
        let condition = f["Condition"].as_str().map(str::to_owned);
        for (_, event) in f["Properties"]["Events"].as_mapping().into_iter().flatten() {
            assert_eq!(event["Type"], "HttpApi", "{id}");
            assert_eq!(
                ref_to(&event["Properties"]["ApiId"]),
                Some(api.as_str()),
                "{id}"
            );
            let key = format!(
                "{} {}",
                event["Properties"]["Method"].as_str().unwrap(),
                event["Properties"]["Path"].as_str().unwrap()
            );
            let previous = routes.insert(key.clone(), (binary.clone(), condition.clone()));
            assert!(previous.is_none(), "{key} twice");
        }
    }
    for (id, route) in of_type(t, "AWS::ApiGatewayV2::Route") {
        assert_eq!(ref_to(&route["Properties"]["ApiId"]), Some(api.as_str()));
        let key = ev.eval(&route["Properties"]["RouteKey"]);
        let condition = route["Condition"].as_str().map(str::to_owned);
        // Route → integration → a function; the integration and the permission that lets
        // API Gateway invoke the function exist under the same condition, for this route.
        let target = ev.eval(&route["Properties"]["Target"]);
        let integration_id = target
            .strip_prefix("integrations/")
            .unwrap_or_else(|| panic!("{id}: target {target}"))
            .trim_end_matches("-physical-id");
        let integration = &resources(t)[integration_id];
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
        let previous = routes.insert(key.clone(), (functions[function].clone(), condition));
        assert!(previous.is_none(), "{key} twice");
    }
    routes
}

#[test]
fn routes_reach_the_functions_whose_code_serves_them() {
    let t = template();
    let ev = Evaluator::new(
        &t,
        &oidc_parameters(&[("MpVerifyToken", "AbC123xyz")], OIDC_CLIENTS),
    );
    let routes = api_routes(&t, &ev);
    let expected: BTreeMap<&str, (&str, Option<&str>)> = BTreeMap::from([
        ("GET /auth", ("auth", None)),
        (
            "GET /MP_verify_AbC123xyz.txt",
            ("auth", Some("HasMpVerifyToken")),
        ),
        ("GET /oauth2/authorize", ("auth", Some("OidcEnabled"))),
        ("GET /getOpenId", ("base-callback", None)),
        ("GET /getWxUserInfo", ("userinfo-callback", None)),
        ("POST /oauth2/token", ("oidc-token", Some("OidcEnabled"))),
        ("OPTIONS /oauth2/token", ("oidc-token", Some("OidcEnabled"))),
        (
            "GET /oauth2/userinfo",
            ("oidc-userinfo", Some("OidcKeysGiven")),
        ),
        (
            "POST /oauth2/userinfo",
            ("oidc-userinfo", Some("OidcKeysGiven")),
        ),
        (
            "OPTIONS /oauth2/userinfo",
            ("oidc-userinfo", Some("OidcKeysGiven")),
        ),
        (
            "GET /.well-known/openid-configuration",
            ("oidc-userinfo", Some("OidcKeysGiven")),
        ),
        (
            "GET /.well-known/jwks.json",
            ("oidc-userinfo", Some("OidcKeysGiven")),
        ),
        ("GET /getUserInfo", ("userinfo-callback", None)),
        ("GET /getQrUserInfo", ("userinfo-callback", None)),
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
        for other in ["auth", "oidc-token", "oidc-userinfo"] {
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
    // The OpenID Provider's routes exist exactly when their function is configured to
    // answer them: the authorize route with the clients (which the auth function reads),
    // the others with their function.
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
    let t = template();
    let token = "AbC123xyz";
    let with = Evaluator::new(
        &t,
        &oidc_parameters(&[("MpVerifyToken", token)], OIDC_CLIENTS),
    );
    let without = Evaluator::new(&t, &plain_parameters(&[]));
    let routes = of_type(&t, "AWS::ApiGatewayV2::Route");
    assert_eq!(routes.len(), 2);
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

    // The authorize route exists exactly when the auth function holds clients to check.
    for (ev, oidc) in [(&with, true), (&without, false)] {
        let authorize = routes
            .values()
            .find(|r| r["Properties"]["RouteKey"] == "GET /oauth2/authorize")
            .expect("the authorize route");
        assert_eq!(created(ev, authorize), oidc);
        let env = ev.environment(auth_function);
        let config = Config::for_routes(Serves::StartOnly, |name| env.get(name).cloned()).unwrap();
        assert_eq!(config.oidc.clients.is_some(), oidc);
    }
}

fn plain_parameters<'a>(extra: &[(&'a str, &'a str)]) -> Vec<(&'a str, &'a str)> {
    let mut p = vec![
        ("WeChatAppId", "wx0123456789abcdef"),
        ("WeChatAppSecret", "app-secret-value"),
        ("TokenSigningKey", "0123456789abcdef0123456789abcdef"),
        (
            "AllowedReturnOrigins",
            "https://app.example.com,https://*.shop.example.com",
        ),
    ];
    p.extend_from_slice(extra);
    p
}

/// A confidential client (client_secret_post / _basic) and a public one (PKCE).
const OIDC_CLIENTS: &str = r#"[
  {"client_id": "shop-backend", "client_secret": "shop-backend-secret-0123456789abcdef",
   "redirect_uris": ["https://app.example.com/oidc/callback"], "name": "Shop"},
  {"client_id": "spa", "redirect_uris": ["https://app.example.com/spa/callback"]}
]"#;

/// RSA 2048 and EC P-256 private keys, PEM, made once for the whole test binary.
fn oidc_signing_keys() -> &'static str {
    static KEYS: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    KEYS.get_or_init(wxauth_core::oidc::keys::SigningKeys::generate_pem)
}

/// [`plain_parameters`] with the OpenID Provider on: `clients` and the keys, plain.
fn oidc_parameters<'a>(extra: &[(&'a str, &'a str)], clients: &'a str) -> Vec<(&'a str, &'a str)> {
    let mut p = plain_parameters(&[
        ("OidcClients", clients),
        ("OidcSigningKeys", oidc_signing_keys()),
    ]);
    p.extend_from_slice(extra);
    p
}

/// Two apps with their AppSecrets inline and their own return origins: an Official
/// Account and its Website App (QR login).
const APPS_INLINE: &str = r#"[
  {"name": "mp", "kind": "official_account", "app_id": "wx00000000000000aa",
   "app_secret": "mp-app-secret-value", "allowed_return_origins": "https://app.example.com",
   "qr_app": "web"},
  {"name": "web", "kind": "website", "app_id": "wx00000000000000bb",
   "app_secret": "web-app-secret-value", "allowed_return_origins": "https://www.example.com"}
]"#;

/// The same apps with their AppSecrets referenced under the default
/// `WeChatAppSecretsPrefix` (`/wxauth/apps`), one in each service; the first takes its
/// origins from AllowedReturnOrigins.
const APPS_BY_REF: &str = r#"[
  {"name": "mp", "kind": "official_account", "app_id": "wx00000000000000aa",
   "app_secret_ref": "ssm:/wxauth/apps/mp", "qr_app": "web"},
  {"name": "web", "kind": "website", "app_id": "wx00000000000000bb",
   "app_secret_ref": "secretsmanager:wxauth/apps/web#app_secret",
   "allowed_return_origins": "https://www.example.com"}
]"#;

/// Several apps and no default one: `apps` as WeChatApps, AllowedReturnOrigins as the
/// fallback, the signing key plain.
fn apps_parameters<'a>(apps: &'a str, extra: &[(&'a str, &'a str)]) -> Vec<(&'a str, &'a str)> {
    let mut p = vec![
        ("WeChatApps", apps),
        ("AllowedReturnOrigins", "https://app.example.com"),
        ("TokenSigningKey", "0123456789abcdef0123456789abcdef"),
    ];
    p.extend_from_slice(extra);
    p
}

/// How a function built for `serves` starts with `env`: the references it reads (the
/// variables' and then the apps' `app_secret_ref`s, as the Lambda adapter reads them),
/// each standing for a [`test_value`], and the configuration it parses with them.
fn start(
    serves: Serves,
    env: &BTreeMap<String, String>,
) -> (Vec<Reference>, Result<Config, ConfigError>) {
    let lookup = |name: &str| env.get(name).cloned();
    let values = |refs: &[Reference]| -> ResolvedSecrets {
        refs.iter()
            .map(|r| (r.variable.clone(), Secret::new(test_value(&r.variable))))
            .collect()
    };
    let mut read = match references_for(serves, lookup) {
        Ok(refs) => refs,
        Err(e) => return (Vec::new(), Err(e)),
    };
    match app_references_for(serves, lookup, &values(&read)) {
        Ok(app_refs) => read.extend(app_refs),
        Err(e) => return (read, Err(e)),
    }
    let resolved = values(&read);
    let config = Config::for_routes(serves, resolved.overlay(lookup));
    (read, config)
}

/// Names the configuration parser requires of a function, asked of the parser itself:
/// with `apps` as WECHAT_APPS, or with nothing at all.
fn required_variables(serves: Serves, apps: Option<&str>) -> BTreeSet<&'static str> {
    let Err(err) = Config::for_routes(serves, |name| {
        (name == "WECHAT_APPS")
            .then(|| apps.map(str::to_owned))
            .flatten()
    }) else {
        return BTreeSet::new();
    };
    err.problems
        .iter()
        .filter(|(_, p)| p.contains("required"))
        .map(|(n, _)| *n)
        .collect()
}

/// The AssertDescription of every rule assertion the parameters break.
fn broken_rules(t: &Value, ev: &Evaluator<'_>) -> Vec<String> {
    let mut broken = Vec::new();
    for (name, rule) in t["Rules"].as_mapping().unwrap() {
        assert!(rule.get("RuleCondition").is_none(), "{name:?}");
        for assertion in rule["Assertions"].as_sequence().unwrap() {
            if !ev.truth(&assertion["Assert"]) {
                broken.push(scalar(&assertion["AssertDescription"]));
            }
        }
    }
    broken
}

/// The reference a function's environment gives for the plain variable `plain`.
fn reference_of(env: &BTreeMap<String, String>, plain: &str) -> Option<String> {
    REFERENCE_VARIABLES
        .iter()
        .find(|(_, p)| *p == plain)
        .and_then(|(reference, _)| env.get(*reference).cloned())
}

#[test]
fn every_environment_variable_is_one_the_code_reads_and_the_configuration_parses() {
    let t = template();
    let known: BTreeSet<&str> = VARIABLES
        .iter()
        .copied()
        .chain(REFERENCE_VARIABLES.iter().map(|(r, _)| *r))
        .chain(OTHER_VARIABLES)
        .collect();
    assert!(required_variables(Serves::Callbacks, None).contains("WECHAT_APP_SECRET"));
    assert!(!required_variables(Serves::StartOnly, None).contains("WECHAT_APP_SECRET"));
    assert!(required_variables(Serves::OidcToken, None).contains("OIDC_SIGNING_KEYS"));
    // With a list of apps, the default app's variables are not needed.
    assert_eq!(
        required_variables(Serves::Callbacks, Some(APPS_INLINE)),
        BTreeSet::from(["TOKEN_SIGNING_KEY"])
    );
    assert!(required_variables(Serves::StartOnly, Some(APPS_INLINE)).is_empty());

    // The longest list WeChatApps takes (MaxLength), beside plain values for everything
    // else but the PEM keys: every function's environment must still fit in 4 KB.
    let max_apps: usize = t["Parameters"]["WeChatApps"]["MaxLength"]
        .as_u64()
        .expect("WeChatApps has a MaxLength") as usize;
    let longest_apps = {
        let closing = APPS_INLINE.rfind(']').unwrap();
        let padding = " ".repeat(max_apps - APPS_INLINE.chars().count());
        format!("{}{padding}]", &APPS_INLINE[..closing])
    };
    assert_eq!(longest_apps.chars().count(), max_apps);

    let cases: Vec<Vec<(&str, &str)>> = vec![
        plain_parameters(&[]),
        plain_parameters(&[
            ("PublicBaseUrl", "https://login.example.com"),
            ("MpVerifyToken", "AbC123"),
            ("StateTtlSeconds", "3600"),
        ]),
        // The OpenID Provider, with every OIDC parameter away from its default.
        oidc_parameters(
            &[("OidcSubject", "unionid"), ("TokenSigningAlg", "ES256")],
            OIDC_CLIENTS,
        ),
        // No clients, but result tokens signed with RS256: the JWKS is published.
        plain_parameters(&[
            ("OidcSigningKeys", oidc_signing_keys()),
            ("TokenSigningAlg", "RS256"),
        ]),
        // Several apps beside the default one.
        plain_parameters(&[("WeChatApps", APPS_INLINE)]),
        // Several apps alone, each with its own origins (no AllowedReturnOrigins).
        vec![
            ("WeChatApps", APPS_INLINE),
            ("TokenSigningKey", "0123456789abcdef0123456789abcdef"),
        ],
        // Their AppSecrets by reference, the list itself by reference.
        apps_parameters(APPS_BY_REF, &[("OidcClients", OIDC_CLIENTS)])
            .into_iter()
            .chain([("OidcSigningKeysRef", "ssm:/wxauth/oidc-signing-keys")])
            .collect(),
        vec![
            ("WeChatAppsRef", "ssm:/wxauth/apps-list"),
            ("AllowedReturnOrigins", "https://app.example.com"),
            ("TokenSigningKeyRef", "ssm:/wxauth/token-signing-key"),
        ],
        // The size limit.
        plain_parameters(&[
            ("WeChatApps", longest_apps.as_str()),
            ("PublicBaseUrl", "https://login.example.com"),
            ("MpVerifyToken", "AbC123"),
            ("OidcClients", OIDC_CLIENTS),
            ("OidcSigningKeysRef", "ssm:/wxauth/oidc-signing-keys"),
            ("TokenSigningAlg", "RS256"),
        ]),
    ];
    let mut seen = BTreeSet::new();
    for params in &cases {
        let ev = Evaluator::new(&t, params);
        assert_eq!(broken_rules(&t, &ev), Vec::<String>::new(), "{params:?}");
        let parameter = |name: &str| ev.parameters[name].clone();
        let given = |name: &str| !parameter(name).is_empty();
        let clients_given = given("OidcClients") || given("OidcClientsRef");
        let keys_given = given("OidcSigningKeys") || given("OidcSigningKeysRef");
        // The apps every function knows: the default one, then the list's.
        let list = match (given("WeChatApps"), given("WeChatAppsRef")) {
            (true, _) => Some(parameter("WeChatApps")),
            (_, true) => Some(test_value("WECHAT_APPS")),
            _ => None,
        };
        let mut app_names = Vec::new();
        if given("WeChatAppId") {
            app_names.push(apps::DEFAULT_APP.to_owned());
        }
        if let Some(list) = &list {
            let list: serde_json::Value = serde_json::from_str(list).unwrap();
            for app in list.as_array().unwrap() {
                app_names.push(app["name"].as_str().unwrap().to_owned());
            }
        }
        let functions = created_functions(&t, &ev);
        for (id, binary) in &functions {
            seen.insert(binary.clone());
            let serves = serves_of_binary(binary);
            let env = ev.environment(&resources(&t)[id]);
            for name in env.keys() {
                assert!(
                    known.contains(name.as_str()),
                    "{id} sets {name}, which the code never reads"
                );
                // Least privilege: a function is given only what it reads (the auth
                // function no secret of the callbacks, userinfo not the clients …).
                assert!(
                    serves.reads_in(name, |n| env.get(n).cloned()),
                    "{id} is given {name}, which it does not read"
                );
            }
            for name in &required_variables(serves, list.as_ref().map(|_| APPS_INLINE)) {
                assert!(
                    env.contains_key(*name) || reference_of(&env, name).is_some(),
                    "{id} lacks the required {name}"
                );
            }
            if serves == Serves::StartOnly {
                for secret in CALLBACK_ONLY_SECRETS {
                    assert!(!env.contains_key(secret), "{id} is given {secret}");
                }
            }
            // The Lambda functions keep logins in DynamoDB: STATE_TABLE is the table.
            assert_eq!(env["STATE_TABLE"], "StateTable-physical-id", "{id}");
            // Lambda refuses an environment over 4 KB (names and values together): plain
            // values, an RSA and an EC key included, must fit.
            let size: usize = env.iter().map(|(k, v)| k.len() + v.len()).sum();
            assert!(size <= 4096, "{id}: the environment takes {size} bytes");
            let config = start(serves, &env)
                .1
                .unwrap_or_else(|e| panic!("{id} ({binary}) would not start:\n{e}"));
            assert!(config.state_table.is_some());
            // Every function parses every app (its configuration needs them); only the
            // callbacks hold the AppSecrets.
            let names: Vec<&str> = config.apps.iter().map(|a| a.name.as_str()).collect();
            assert_eq!(names, app_names, "{id}");
            for app in config.apps.iter() {
                assert_eq!(
                    app.secret.is_some(),
                    serves == Serves::Callbacks,
                    "{id}: the AppSecret of app {}",
                    app.name
                );
            }
            assert_eq!(config.callback.is_some(), serves == Serves::Callbacks);
            // Each holds the OpenID Provider's clients and keys exactly where it uses them.
            assert_eq!(
                config.oidc.clients.is_some(),
                clients_given && serves.reads("OIDC_CLIENTS"),
                "{id}: the clients"
            );
            assert_eq!(
                config.oidc.keys.is_some(),
                keys_given && serves.reads_in("OIDC_SIGNING_KEYS", |n| env.get(n).cloned()),
                "{id}: the keys"
            );
            if serves == Serves::Callbacks {
                // The callbacks sign no ID token: they hold the provider's keys only to
                // sign result tokens with them.
                assert_eq!(
                    config.oidc.keys.is_some(),
                    keys_given && parameter("TokenSigningAlg") != "HS256",
                    "{id}: the keys"
                );
                // What only the callbacks use reaches them as configured.
                let subject = match parameter("OidcSubject").as_str() {
                    "openid" => Subject::OpenId,
                    "unionid" => Subject::UnionId,
                    other => panic!("OidcSubject {other}"),
                };
                assert_eq!(config.oidc.subject, subject, "{id}");
                let alg = match parameter("TokenSigningAlg").as_str() {
                    "HS256" => TokenAlg::Hs256,
                    other => TokenAlg::Jws(Alg::parse(other).unwrap()),
                };
                assert_eq!(config.token_alg, alg, "{id}");
            }
        }
        // The OpenID Provider's functions exist exactly when they have something to
        // serve: the token endpoint with clients, the documents and userinfo with keys.
        let has = |binary: &str| functions.values().any(|b| b == binary);
        assert_eq!(has("oidc-token"), clients_given, "{params:?}");
        assert_eq!(has("oidc-userinfo"), keys_given, "{params:?}");
        assert!(has("auth") && has("base-callback") && has("userinfo-callback"));
    }
    assert_eq!(seen.len(), 5, "some function was never checked: {seen:?}");
}

#[test]
fn the_rules_refuse_what_the_functions_would_refuse() {
    let t = template();
    let keys_ref = "ssm:/wxauth/oidc-signing-keys";
    let clients_ref = "ssm:/wxauth/oidc-clients";
    let cases: Vec<(Vec<(&str, &str)>, &str)> = vec![
        (
            plain_parameters(&[("OidcClients", OIDC_CLIENTS)]),
            "OidcClients (or OidcClientsRef) needs OidcSigningKeys or OidcSigningKeysRef.",
        ),
        (
            plain_parameters(&[("OidcClientsRef", clients_ref)]),
            "OidcClients (or OidcClientsRef) needs OidcSigningKeys or OidcSigningKeysRef.",
        ),
        (
            plain_parameters(&[("TokenSigningAlg", "ES256")]),
            "TokenSigningAlg RS256 or ES256 needs OidcSigningKeys or OidcSigningKeysRef.",
        ),
        (
            oidc_parameters(&[("OidcClientsRef", clients_ref)], OIDC_CLIENTS),
            "Set only one of OidcClients and OidcClientsRef.",
        ),
        (
            oidc_parameters(&[("OidcSigningKeysRef", keys_ref)], OIDC_CLIENTS),
            "Set only one of OidcSigningKeys and OidcSigningKeysRef.",
        ),
        // The apps and the default app's secrets.
        (
            vec![
                ("AllowedReturnOrigins", "https://app.example.com"),
                ("TokenSigningKey", "0123456789abcdef0123456789abcdef"),
            ],
            "Set WeChatAppId (one Official Account), or WeChatApps or WeChatAppsRef (several apps), or both.",
        ),
        (
            apps_parameters(APPS_INLINE, &[("WeChatAppsRef", "ssm:/wxauth/apps-list")]),
            "Set only one of WeChatApps and WeChatAppsRef.",
        ),
        (
            apps_parameters(APPS_INLINE, &[("WeChatAppSecret", "app-secret-value")]),
            "WeChatAppSecret and WeChatAppSecretRef belong to WeChatAppId (each app of WeChatApps has its own app_secret or app_secret_ref).",
        ),
        (
            apps_parameters(
                APPS_INLINE,
                &[("WeChatAppSecretRef", "ssm:/wxauth/app-secret")],
            ),
            "WeChatAppSecret and WeChatAppSecretRef belong to WeChatAppId (each app of WeChatApps has its own app_secret or app_secret_ref).",
        ),
        (
            without(plain_parameters(&[]), "AllowedReturnOrigins"),
            "WeChatAppId needs AllowedReturnOrigins.",
        ),
        // Even when every app of the list has its own.
        (
            without(
                plain_parameters(&[("WeChatApps", APPS_INLINE)]),
                "AllowedReturnOrigins",
            ),
            "WeChatAppId needs AllowedReturnOrigins.",
        ),
        (
            without(
                plain_parameters(&[("WeChatApps", APPS_INLINE)]),
                "WeChatAppSecret",
            ),
            "Set WeChatAppSecret or WeChatAppSecretRef (WeChatAppId needs one).",
        ),
        (
            plain_parameters(&[("WeChatAppSecretRef", "ssm:/wxauth/app-secret")]),
            "Set only one of WeChatAppSecret and WeChatAppSecretRef.",
        ),
        (
            without(plain_parameters(&[]), "TokenSigningKey"),
            "Set TokenSigningKey or TokenSigningKeyRef.",
        ),
        (
            plain_parameters(&[("TokenSigningKeyRef", "ssm:/wxauth/token-signing-key")]),
            "Set only one of TokenSigningKey and TokenSigningKeyRef.",
        ),
    ];
    // Every assertion of the Rules is shown to stop something here.
    let all_rules: BTreeSet<String> = t["Rules"]
        .as_mapping()
        .unwrap()
        .values()
        .flat_map(|rule| rule["Assertions"].as_sequence().unwrap().clone())
        .map(|assertion| scalar(&assertion["AssertDescription"]))
        .collect();
    let tested: BTreeSet<String> = cases.iter().map(|(_, r)| (*r).to_owned()).collect();
    assert_eq!(
        tested, all_rules,
        "rules without a case here, or cases of no rule"
    );
    for (params, rule) in &cases {
        let ev = Evaluator::new(&t, params);
        assert_eq!(broken_rules(&t, &ev), [rule.to_owned()], "{params:?}");
        // What the rule stops would not have worked: some function created with these
        // parameters refuses its configuration or its references.
        // (A reference stands for a value: `start` gives it one to see the parse.)
        let refused = created_functions(&t, &ev).into_iter().any(|(id, binary)| {
            let env = ev.environment(&resources(&t)[&id]);
            start(serves_of_binary(&binary), &env).1.is_err()
        });
        assert!(
            refused,
            "the rule `{rule}` stops a deployment that would work"
        );
    }
}

/// `params` without `name`.
fn without<'a>(params: Vec<(&'a str, &'a str)>, name: &str) -> Vec<(&'a str, &'a str)> {
    params.into_iter().filter(|(n, _)| *n != name).collect()
}

/// A valid value for a secret variable, standing for what a reference reads.
fn test_value(variable: &str) -> String {
    match variable {
        "WECHAT_APP_SECRET" => "app-secret-value".into(),
        "TOKEN_SIGNING_KEY" => "0123456789abcdef0123456789abcdef".into(),
        "OIDC_CLIENTS" => OIDC_CLIENTS.into(),
        "OIDC_SIGNING_KEYS" => oidc_signing_keys().into(),
        "WECHAT_APPS" => APPS_BY_REF.into(),
        app if app.starts_with("WECHAT_APPS[") => format!(
            "secret-of-{}",
            app.trim_start_matches("WECHAT_APPS[")
                .trim_end_matches("].app_secret")
        ),
        other => panic!("no test value for {other}"),
    }
}

#[test]
fn parameter_bounds_are_the_configuration_parsers_bounds() {
    let t = template();
    let p = &t["Parameters"]["StateTtlSeconds"];
    let (min, max) = (scalar(&p["MinValue"]), scalar(&p["MaxValue"]));
    let parses = |ttl: &str| {
        let mut params = plain_parameters(&[]);
        params.push(("StateTtlSeconds", ttl));
        let ev = Evaluator::new(&t, &params);
        let env = ev.environment(&resources(&t)["AuthFunction"]);
        Config::for_routes(Serves::StartOnly, |name| env.get(name).cloned()).is_ok()
    };
    assert!(
        parses(&min) && parses(&max),
        "the template allows what the code refuses"
    );
    let below = (min.parse::<u64>().unwrap() - 1).to_string();
    let above = (max.parse::<u64>().unwrap() + 1).to_string();
    assert!(
        !parses(&below) && !parses(&above),
        "the code allows more than the template"
    );
    assert_eq!(
        scalar(&p["Default"]),
        wxauth_core::config::DEFAULT_STATE_TTL_SECONDS.to_string()
    );
    // The OpenID Provider's choices are exactly the values the parser takes.
    for (parameter, variable, default) in [
        ("OidcSubject", "OIDC_SUBJECT", "openid"),
        ("TokenSigningAlg", "TOKEN_SIGNING_ALG", "HS256"),
    ] {
        let p = &t["Parameters"][parameter];
        assert_eq!(scalar(&p["Default"]), default, "{parameter}");
        for value in p["AllowedValues"].as_sequence().expect("AllowedValues") {
            let value = scalar(value);
            let keys = oidc_signing_keys();
            let vars = [
                ("WECHAT_APP_ID", "wx0123456789abcdef"),
                ("WECHAT_APP_SECRET", "app-secret-value"),
                ("TOKEN_SIGNING_KEY", "0123456789abcdef0123456789abcdef"),
                ("ALLOWED_RETURN_ORIGINS", "https://app.example.com"),
                ("OIDC_SIGNING_KEYS", keys),
                (variable, value.as_str()),
            ];
            let lookup = |name: &str| {
                vars.iter()
                    .find(|(n, _)| *n == name)
                    .map(|(_, v)| v.to_string())
            };
            assert!(
                Config::for_routes(Serves::Everything, lookup).is_ok(),
                "{parameter}={value} is refused by the code"
            );
        }
    }
}

/// The `(action, resource)` a reference needs, evaluated as in [`Evaluator::eval`]'s
/// region and account.
fn grant_for(reference: &str) -> (String, String) {
    match SecretRef::parse(reference).expect("a reference the functions understand") {
        SecretRef::Ssm { name } => (
            "ssm:GetParameter".into(),
            format!("arn:aws-cn:ssm:cn-north-1:123456789012:parameter{name}"),
        ),
        SecretRef::SecretsManager { secret_id, .. } => {
            ("secretsmanager:GetSecretValue".into(), secret_id)
        }
    }
}

/// The ARN IAM checks when a function reads `secret` (a Secrets Manager secret named
/// without its ARN gets the 6-character suffix AWS gives it), with the action.
fn read_of(secret: &SecretRef) -> (String, String) {
    match secret {
        SecretRef::Ssm { name } if name.starts_with("arn:") => {
            ("ssm:GetParameter".into(), name.clone())
        }
        SecretRef::SecretsManager { secret_id, .. } if secret_id.starts_with("arn:") => {
            ("secretsmanager:GetSecretValue".into(), secret_id.clone())
        }
        SecretRef::Ssm { .. } => grant_for(&secret.to_string()),
        SecretRef::SecretsManager { secret_id, .. } => (
            "secretsmanager:GetSecretValue".into(),
            format!("arn:aws-cn:secretsmanager:cn-north-1:123456789012:secret:{secret_id}-AbCdEf"),
        ),
    }
}

/// Whether the grant `(action, resource pattern)` allows reading `secret`, as IAM matches
/// a resource (`*` any run of characters, `/` included).
fn allows(grant: &(String, String), secret: &SecretRef) -> bool {
    fn matches(pattern: &[u8], text: &[u8]) -> bool {
        match pattern.split_first() {
            None => text.is_empty(),
            Some((b'*', rest)) => (0..=text.len()).any(|i| matches(rest, &text[i..])),
            Some((c, rest)) => text.first() == Some(c) && matches(rest, &text[1..]),
        }
    }
    let (action, arn) = read_of(secret);
    grant.0 == action && matches(grant.1.as_bytes(), arn.as_bytes())
}

/// The grants of the apps' secrets under `prefix` (`WeChatAppSecretsPrefix`), as the
/// evaluator's region and account make them.
fn prefix_grants(prefix: &str) -> BTreeSet<(String, String)> {
    let name = prefix.strip_prefix('/').expect("a prefix starting with /");
    BTreeSet::from([
        (
            "ssm:GetParameter".to_owned(),
            format!("arn:aws-cn:ssm:cn-north-1:123456789012:parameter{prefix}/*"),
        ),
        (
            "secretsmanager:GetSecretValue".to_owned(),
            format!("arn:aws-cn:secretsmanager:cn-north-1:123456789012:secret:{name}/*"),
        ),
    ])
}

/// The secret reads a role is allowed: the statements of the managed policies it
/// attaches (each a conditional statement per service for one reference, or
/// unconditional statements granting a prefix, `…/*`).
fn secret_grants(t: &Value, ev: &Evaluator<'_>, role: &Value) -> BTreeSet<(String, String)> {
    let mut grants = BTreeSet::new();
    let arns = &role["Properties"]["ManagedPolicyArns"];
    for arn in arns.as_sequence().into_iter().flatten() {
        let policy_ref = ev.eval(arn);
        if policy_ref == NO_VALUE {
            continue;
        }
        let id = policy_ref
            .strip_suffix("-physical-id")
            .expect("a policy of this stack");
        let policy = &resources(t)[id];
        assert_eq!(policy["Type"], "AWS::IAM::ManagedPolicy");
        assert!(created(ev, policy), "{id} is attached but not created");
        let all = policy["Properties"]["PolicyDocument"]["Statement"]
            .as_sequence()
            .unwrap();
        let conditional = all.iter().all(|s| s.get("Fn::If").is_some());
        let mut statements = 0;
        for statement in all {
            let s = match statement["Fn::If"].as_sequence() {
                Some(args) if ev.condition(args[0].as_str().unwrap()) => &args[1],
                Some(_) => continue,
                None => statement,
            };
            assert_eq!(s["Effect"], "Allow");
            let (action, resource) = (ev.eval(&s["Action"]), ev.eval(&s["Resource"]));
            // A wildcard only at the end of a prefix's grant.
            let wildcards = resource.matches('*').count();
            assert!(
                wildcards == 0 || (!conditional && wildcards == 1 && resource.ends_with("/*")),
                "{id}: {resource}"
            );
            grants.insert((action, resource));
            statements += 1;
        }
        if conditional {
            assert_eq!(statements, 1, "{id}: one statement for its one reference");
        }
    }
    grants
}

#[test]
fn secrets_come_from_plain_parameters_or_from_references_never_both() {
    let t = template();
    let arn = "arn:aws-cn:secretsmanager:cn-north-1:123456789012:secret:wxauth-AbCdEf";
    let key_ref = format!("secretsmanager:{arn}#signing_key");
    let oidc_arn = "arn:aws-cn:secretsmanager:cn-north-1:123456789012:secret:wxauth-oidc-XyZ123";
    let oidc_keys_ref = format!("secretsmanager:{oidc_arn}#signing_keys");
    let base = |extra: &[(&'static str, &'static str)]| {
        let mut p = vec![
            ("WeChatAppId", "wx0123456789abcdef"),
            ("AllowedReturnOrigins", "https://app.example.com"),
        ];
        p.extend_from_slice(extra);
        p
    };
    let mut every_reference = base(&[
        ("WeChatAppSecretRef", "ssm:/wxauth/app-secret"),
        ("OidcClientsRef", "ssm:/wxauth/oidc-clients"),
    ]);
    every_reference.push(("TokenSigningKeyRef", key_ref.as_str()));
    every_reference.push(("OidcSigningKeysRef", oidc_keys_ref.as_str()));
    // The keys by reference, everything else plain (the keys are too long for a
    // comfortable parameter value).
    let mut keys_by_reference = base(&[
        ("WeChatAppSecret", "app-secret-value"),
        ("TokenSigningKey", "0123456789abcdef0123456789abcdef"),
        ("OidcClients", OIDC_CLIENTS),
        ("TokenSigningAlg", "RS256"),
    ]);
    keys_by_reference.push(("OidcSigningKeysRef", oidc_keys_ref.as_str()));
    // Every reference, the list of apps too (beside the default app).
    every_reference.push(("WeChatAppsRef", "ssm:/wxauth/apps-list"));
    let apps_elsewhere = APPS_BY_REF.replace("wxauth/apps/", "prod/wxauth/");
    let cases = [
        every_reference,
        keys_by_reference,
        plain_parameters(&[]),
        oidc_parameters(&[], OIDC_CLIENTS),
        // Apps alone, their AppSecrets by reference, the list inline.
        apps_parameters(APPS_BY_REF, &[]),
        // The same with every AppSecret inline and no prefix: no permission for them.
        apps_parameters(APPS_INLINE, &[("WeChatAppSecretsPrefix", "")]),
        // The apps' secrets under another prefix.
        apps_parameters(
            &apps_elsewhere,
            &[("WeChatAppSecretsPrefix", "/prod/wxauth")],
        ),
        // The list by reference (a Secrets Manager ARN).
        vec![
            (
                "WeChatAppsRef",
                "secretsmanager:arn:aws-cn:secretsmanager:cn-north-1:123456789012:secret:wxauth-apps-QwErTy#apps",
            ),
            ("AllowedReturnOrigins", "https://app.example.com"),
            ("TokenSigningKey", "0123456789abcdef0123456789abcdef"),
        ],
    ];

    for params in &cases {
        let ev = Evaluator::new(&t, params);
        assert_eq!(broken_rules(&t, &ev), Vec::<String>::new(), "{params:?}");
        let prefix = ev.parameters["WeChatAppSecretsPrefix"].clone();
        for (id, binary) in created_functions(&t, &ev) {
            let serves = serves_of_binary(&binary);
            let f = &resources(&t)[&id];
            let env = ev.environment(f);
            for (reference, plain) in REFERENCE_VARIABLES {
                assert!(
                    !(env.contains_key(plain) && env.contains_key(reference)),
                    "{id} has both {plain} and {reference}"
                );
                if env.contains_key(reference) {
                    assert!(
                        serves.reads_in(reference, |n| env.get(n).cloned()),
                        "{id} is given {reference}"
                    );
                }
            }
            // With the references read (here: replaced by values), the function starts.
            let (read, config) = start(serves, &env);
            if let Err(e) = config {
                panic!("{id} would not start:\n{e}");
            }
            let (role_id, _) = get_att(&f["Properties"]["Role"]).unwrap();
            let role = &resources(&t)[role_id];
            assert!(created(&ev, role), "{role_id}");
            let grants = secret_grants(&t, &ev, role);
            let (by_prefix, exact): (BTreeSet<_>, BTreeSet<_>) =
                grants.iter().cloned().partition(|(_, r)| r.ends_with("/*"));
            // Read access to exactly the references of its variables it reads …
            let expected: BTreeSet<_> = read
                .iter()
                .filter(|r| r.app.is_none())
                .map(|r| grant_for(&r.secret.to_string()))
                .collect();
            assert_eq!(
                exact, expected,
                "{role_id} may read other secrets than {id} reads"
            );
            // … and, for the callbacks alone, whatever lies under the apps' prefix
            // when there is a list of apps.
            let lists_apps = env.contains_key("WECHAT_APPS") || env.contains_key("WECHAT_APPS_REF");
            let expected = if serves == Serves::Callbacks && lists_apps && !prefix.is_empty() {
                prefix_grants(&prefix)
            } else {
                BTreeSet::new()
            };
            assert_eq!(by_prefix, expected, "{role_id}: the apps' AppSecrets");
            // Every app's reference the function reads, its role may read.
            for reference in read.iter().filter(|r| r.app.is_some()) {
                assert!(
                    grants.iter().any(|g| allows(g, &reference.secret)),
                    "{role_id} may not read {} ({id} does)",
                    reference.secret
                );
            }
            // A function that keeps no AppSecret reads none of the apps' references, and
            // its role may read none.
            if serves != Serves::Callbacks {
                assert!(read.iter().all(|r| r.app.is_none()), "{id}");
                let list = env.get("WECHAT_APPS").cloned().or_else(|| {
                    env.get("WECHAT_APPS_REF")
                        .map(|_| test_value("WECHAT_APPS"))
                });
                for reference in list
                    .map(|l| app_references(&l).unwrap())
                    .unwrap_or_default()
                {
                    assert!(
                        !grants.iter().any(|g| allows(g, &reference.secret)),
                        "{role_id} may read {}, which {id} never uses",
                        reference.secret
                    );
                }
            }
        }
        // A read policy exists only when a created role attaches it.
        let attached: BTreeSet<String> = created_functions(&t, &ev)
            .keys()
            .flat_map(|f| {
                let all = resources(&t);
                let (role, _) = get_att(&all[f]["Properties"]["Role"]).unwrap();
                all[role]["Properties"]["ManagedPolicyArns"]
                    .as_sequence()
                    .into_iter()
                    .flatten()
                    .map(|a| ev.eval(a))
                    .collect::<Vec<_>>()
            })
            .collect();
        for (id, policy) in of_type(&t, "AWS::IAM::ManagedPolicy") {
            assert_eq!(
                created(&ev, &policy),
                attached.contains(&format!("{id}-physical-id")),
                "{id}"
            );
        }
    }
    // The every-reference case reaches every reference of every function.
    let ev = Evaluator::new(&t, &cases[0]);
    assert_eq!(created_functions(&t, &ev).len(), 5);
    let auth = ev.environment(&resources(&t)["AuthFunction"]);
    assert_eq!(
        auth.keys()
            .filter(|k| k.ends_with("_REF"))
            .map(String::as_str)
            .collect::<Vec<_>>(),
        ["OIDC_CLIENTS_REF", "WECHAT_APPS_REF"]
    );
}

#[test]
fn only_the_callbacks_may_read_the_apps_secrets_and_only_under_the_prefix() {
    let t = template();
    let ev = Evaluator::new(&t, &apps_parameters(APPS_BY_REF, &[]));
    assert_eq!(ev.parameters["WeChatAppSecretsPrefix"], "/wxauth/apps");
    let account = "arn:aws-cn:secretsmanager:cn-north-1:123456789012";
    let under = [
        "ssm:/wxauth/apps/mp".to_owned(),
        "ssm:/wxauth/apps/team/mp".to_owned(),
        "secretsmanager:wxauth/apps/web#app_secret".to_owned(),
        format!("secretsmanager:{account}:secret:wxauth/apps/web-AbCdEf"),
    ];
    let beside = [
        "ssm:/wxauth/app-secret".to_owned(),
        "ssm:/wxauth/apps".to_owned(),
        "ssm:/wxauth/apps-other/mp".to_owned(),
        "ssm:/other/wxauth/apps/mp".to_owned(),
        // A secret's name has no leading slash: this one is not under the prefix.
        "secretsmanager:/wxauth/apps/web".to_owned(),
        "secretsmanager:wxauth/apps-other/web".to_owned(),
        "secretsmanager:arn:aws-cn:secretsmanager:cn-north-1:999999999999:secret:wxauth/apps/web-AbCdEf"
            .to_owned(),
    ];
    for (id, binary) in created_functions(&t, &ev) {
        let f = &resources(&t)[&id];
        let (role_id, _) = get_att(&f["Properties"]["Role"]).unwrap();
        let grants = secret_grants(&t, &ev, &resources(&t)[role_id]);
        let callback = serves_of_binary(&binary) == Serves::Callbacks;
        for reference in &under {
            let secret = SecretRef::parse(reference).unwrap();
            assert_eq!(
                grants.iter().any(|g| allows(g, &secret)),
                callback,
                "{role_id} and {reference}"
            );
        }
        for reference in &beside {
            let secret = SecretRef::parse(reference).unwrap();
            assert!(
                !grants.iter().any(|g| allows(g, &secret)),
                "{role_id} may read {reference}"
            );
        }
    }
    // No list of apps, or no prefix: no such permission at all.
    for params in [
        plain_parameters(&[]),
        apps_parameters(APPS_INLINE, &[("WeChatAppSecretsPrefix", "")]),
    ] {
        let ev = Evaluator::new(&t, &params);
        assert!(
            !created(&ev, &resources(&t)["AppSecretsReadPolicy"]),
            "{params:?}"
        );
    }
    // Whatever the parameters, only the callbacks' roles attach it.
    for (id, binary) in functions(&t) {
        let f = &resources(&t)[&id];
        let (role_id, _) = get_att(&f["Properties"]["Role"]).unwrap();
        let attaches = resources(&t)[role_id]["Properties"]["ManagedPolicyArns"]
            .as_sequence()
            .into_iter()
            .flatten()
            .any(|arn| {
                arn["Fn::If"]
                    .as_sequence()
                    .is_some_and(|args| ref_to(&args[1]) == Some("AppSecretsReadPolicy"))
            });
        assert_eq!(
            attaches,
            serves_of_binary(&binary) == Serves::Callbacks,
            "{role_id} and AppSecretsReadPolicy"
        );
    }
}

#[test]
fn each_role_may_make_only_its_functions_calls_on_the_one_table() {
    let t = template();
    // What each function's code calls on the state table: DescribeTable once at init
    // (wxauth_core::warm_up), then its own item calls. Adding a call means adding it here
    // and to that role's Action list in template.yaml.
    let expected: BTreeMap<&str, Vec<&str>> = BTreeMap::from([
        ("auth", vec!["dynamodb:DescribeTable", "dynamodb:PutItem"]),
        (
            "base-callback",
            vec![
                "dynamodb:DescribeTable",
                "dynamodb:UpdateItem",
                "dynamodb:GetItem",
                "dynamodb:PutItem",
            ],
        ),
        (
            "userinfo-callback",
            vec![
                "dynamodb:DescribeTable",
                "dynamodb:UpdateItem",
                "dynamodb:GetItem",
                "dynamodb:PutItem",
            ],
        ),
        (
            "oidc-token",
            vec!["dynamodb:DescribeTable", "dynamodb:UpdateItem"],
        ),
        (
            "oidc-userinfo",
            vec!["dynamodb:DescribeTable", "dynamodb:GetItem"],
        ),
    ]);
    let tables = of_type(&t, "AWS::DynamoDB::Table");
    assert_eq!(tables.len(), 1);
    let table = tables.keys().next().unwrap().as_str();
    let mut roles = BTreeSet::new();
    for (id, binary) in functions(&t) {
        let f = &resources(&t)[&id];
        let (role_id, _) = get_att(&f["Properties"]["Role"]).expect("an explicit role");
        assert!(roles.insert(role_id.to_owned()), "{role_id} is shared");
        let role = &resources(&t)[role_id];
        assert_eq!(role["Type"], "AWS::IAM::Role");
        // A conditional function's role, and its log group, exist under its condition.
        assert_eq!(role["Condition"], f["Condition"], "{role_id}");
        let mut dynamo_actions = Vec::new();
        for policy in role["Properties"]["Policies"].as_sequence().unwrap() {
            for s in policy["PolicyDocument"]["Statement"].as_sequence().unwrap() {
                assert_eq!(s["Effect"], "Allow");
                let actions: Vec<String> = match &s["Action"] {
                    Value::Sequence(a) => a.iter().map(scalar).collect(),
                    a => vec![scalar(a)],
                };
                for action in &actions {
                    assert!(!action.contains('*'), "{role_id}: wildcard action {action}");
                }
                let (resource, attr) = get_att(&s["Resource"]).expect("a resource of this stack");
                if actions.iter().any(|a| a.starts_with("dynamodb:")) {
                    assert_eq!((resource, attr), (table, "Arn"), "{role_id}");
                    dynamo_actions.extend(actions);
                } else {
                    assert_eq!(actions, ["logs:CreateLogStream", "logs:PutLogEvents"]);
                    let logging = ref_to(&f["Properties"]["LoggingConfig"]["LogGroup"]).unwrap();
                    assert_eq!(
                        resource, logging,
                        "{role_id} may write only its own log group"
                    );
                    assert_eq!(resources(&t)[logging]["Condition"], f["Condition"]);
                }
            }
        }
        assert_eq!(dynamo_actions, expected[binary.as_str()], "{role_id}");
    }
}

/// How many store calls (each bounded by the store's timeout) one request of a function
/// makes one after the other, at most.
fn store_calls_in_a_row(serves: Serves) -> u64 {
    match serves {
        Serves::StartOnly | Serves::OidcUserInfo => 1,
        // The redemption, then the revocation when the code was replayed.
        Serves::OidcToken => 2,
        // The callbacks run under their own deadline instead.
        Serves::Callbacks | Serves::Everything => 0,
    }
}

#[test]
fn the_table_timeouts_logs_and_throttling_are_as_the_code_needs() {
    let t = template();
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
            Serves::Callbacks | Serves::Everything => CALLBACK_BUDGET.as_millis() as u64,
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

#[test]
fn the_issuer_outputs_name_the_discovery_document_the_userinfo_function_serves() {
    let t = template();
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
    let t = template();
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
