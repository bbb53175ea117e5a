//! template.yaml cannot drift from the code: its routes, functions, binaries, environment
//! variables, table, IAM and timeouts are read here (CloudFormation tags such as `!Ref`
//! parsed as tagged values) and checked against the crates, the configuration parser and
//! the routing functions themselves. The functions' environments are evaluated for real
//! parameter sets (Ref, If, Condition …) and fed to `Config::from_lookup`.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::{Path, PathBuf};

use serde_yaml::Value;
use wxauth_core::config::{CALLBACK_ONLY_SECRETS, Serves, Subject, TokenAlg, VARIABLES};
use wxauth_core::deadline::CALLBACK_BUDGET;
use wxauth_core::oidc::keys::Alg;
use wxauth_core::oidc::routes::serves_route;
use wxauth_core::store::attr;
use wxauth_core::{Config, Route, Scope};
use wxauth_lambda::secret_refs::{REFERENCE_VARIABLES, SecretRef};
use wxauth_tests::api_gateway_event;

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

/// The routing function each Lambda binary passes to `wxauth_lambda::run`.
fn route_fn(binary: &str) -> wxauth_lambda::RouteFor {
    match binary {
        "auth" => auth::route,
        "base-callback" => base_callback::route,
        "userinfo-callback" => userinfo_callback::route,
        "oidc-token" => oidc_token::route,
        "oidc-userinfo" => oidc_userinfo::route,
        other => panic!("template.yaml builds {other}, which is not one of the five functions"),
    }
}

/// What a function binary serves, as its `main` tells `wxauth_lambda::run`.
fn serves(binary: &str) -> Serves {
    match binary {
        "auth" => Serves::StartOnly,
        "oidc-token" => Serves::OidcToken,
        "oidc-userinfo" => Serves::OidcUserInfo,
        "base-callback" | "userinfo-callback" => Serves::Everything,
        other => panic!("no function binary {other}"),
    }
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
    ]);
    let found: BTreeMap<&str, (&str, Option<&str>)> = routes
        .iter()
        .map(|(k, (b, c))| (k.as_str(), (b.as_str(), c.as_deref())))
        .collect();
    assert_eq!(found, expected);

    // Each function's own routing agrees, on the $default stage and on a named one, and so
    // does the core's path routing (wxauth-local); the function's configuration serves
    // the route (`serves_route`), and no other single-purpose function does.
    let mut reached = BTreeSet::new();
    for (key, (binary, _)) in &routes {
        let path = key.split_once(' ').unwrap().1;
        let route = Route::from_path(path);
        assert_ne!(route, Route::NotFound, "{key}");
        for stage in ["$default", "prod"] {
            let event = api_gateway_event(stage, path, "", None);
            assert_eq!(route_fn(binary)(&event), route, "{key} on stage {stage}");
        }
        assert!(
            serves_route(serves(binary), &route),
            "{key} reaches {binary}, whose configuration does not serve {route:?}"
        );
        for other in ["auth", "oidc-token", "oidc-userinfo"] {
            if other != binary {
                assert!(
                    !serves_route(serves(other), &route),
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
        Route::MpVerify("AbC123xyz".into()),
        Route::OidcDiscovery,
        Route::OidcJwks,
        Route::OidcAuthorize,
        Route::OidcToken,
        Route::OidcUserInfo,
    ] {
        assert!(reached.contains(route.name()), "{route:?} has no route");
    }
    for scope in [Scope::Base, Scope::UserInfo] {
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
        assert_eq!(auth::route(&event), Route::MpVerify(token.into()));
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

/// Names the configuration parser requires of a function, asked of the parser itself.
fn required_variables(serves: Serves) -> BTreeSet<&'static str> {
    let err = Config::for_routes(serves, |_| None).expect_err("an empty environment is refused");
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
    assert!(required_variables(Serves::Everything).contains("WECHAT_APP_SECRET"));
    assert!(!required_variables(Serves::StartOnly).contains("WECHAT_APP_SECRET"));
    assert!(required_variables(Serves::OidcToken).contains("OIDC_SIGNING_KEYS"));

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
    ];
    let mut seen = BTreeSet::new();
    for params in &cases {
        let ev = Evaluator::new(&t, params);
        assert_eq!(broken_rules(&t, &ev), Vec::<String>::new(), "{params:?}");
        let parameter = |name: &str| ev.parameters[name].clone();
        let clients_given = !parameter("OidcClients").is_empty();
        let keys_given = !parameter("OidcSigningKeys").is_empty();
        let functions = created_functions(&t, &ev);
        for (id, binary) in &functions {
            seen.insert(binary.clone());
            let serves = serves(binary);
            let env = ev.environment(&resources(&t)[id]);
            for name in env.keys() {
                assert!(
                    known.contains(name.as_str()),
                    "{id} sets {name}, which the code never reads"
                );
                // Least privilege: a function is given only what it reads (the auth
                // function no secret of the callbacks, userinfo not the clients …).
                assert!(
                    serves.reads(name),
                    "{id} is given {name}, which it does not read"
                );
            }
            for name in &required_variables(serves) {
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
            let config = Config::for_routes(serves, |name| env.get(name).cloned())
                .unwrap_or_else(|e| panic!("{id} ({binary}) would not start:\n{e}"));
            assert!(config.state_table.is_some());
            assert_eq!(config.callback.is_some(), serves == Serves::Everything);
            // Each holds the OpenID Provider's clients and keys exactly where it uses them.
            assert_eq!(
                config.oidc.clients.is_some(),
                clients_given && serves.reads("OIDC_CLIENTS"),
                "{id}: the clients"
            );
            assert_eq!(
                config.oidc.keys.is_some(),
                keys_given && serves.reads("OIDC_SIGNING_KEYS"),
                "{id}: the keys"
            );
            if serves == Serves::Everything {
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
    ];
    for (params, rule) in &cases {
        let ev = Evaluator::new(&t, params);
        assert_eq!(broken_rules(&t, &ev), [rule.to_owned()], "{params:?}");
        // What the rule stops would not have worked: some function created with these
        // parameters refuses its configuration or its references.
        let refused = created_functions(&t, &ev).into_iter().any(|(id, binary)| {
            let env = ev.environment(&resources(&t)[&id]);
            let lookup = |name: &str| env.get(name).cloned();
            let references = wxauth_lambda::secret_refs::references(|name| {
                serves(&binary).reads(name).then(|| lookup(name)).flatten()
            });
            // A reference stands for its value: give it one to see the parse.
            let resolved = |name: &str| {
                lookup(name).or_else(|| reference_of(&env, name).map(|_| test_value(name)))
            };
            references.is_err() || Config::for_routes(serves(&binary), resolved).is_err()
        });
        assert!(
            refused,
            "the rule `{rule}` stops a deployment that would work"
        );
    }
}

/// A valid value for a secret variable, standing for what a reference reads.
fn test_value(variable: &str) -> String {
    match variable {
        "WECHAT_APP_SECRET" => "app-secret-value".into(),
        "TOKEN_SIGNING_KEY" => "0123456789abcdef0123456789abcdef".into(),
        "OIDC_CLIENTS" => OIDC_CLIENTS.into(),
        "OIDC_SIGNING_KEYS" => oidc_signing_keys().into(),
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

/// The secret reads a role is allowed: the statements of the managed policies it
/// attaches (each a conditional statement per service).
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
        let mut statements = 0;
        for statement in policy["Properties"]["PolicyDocument"]["Statement"]
            .as_sequence()
            .unwrap()
        {
            let args = statement["Fn::If"]
                .as_sequence()
                .expect("conditional statements");
            if ev.condition(args[0].as_str().unwrap()) {
                let s = &args[1];
                assert_eq!(s["Effect"], "Allow");
                grants.insert((ev.eval(&s["Action"]), ev.eval(&s["Resource"])));
                statements += 1;
            }
        }
        assert_eq!(statements, 1, "{id}: one statement for its one reference");
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
    let cases = [
        every_reference,
        keys_by_reference,
        plain_parameters(&[]),
        oidc_parameters(&[], OIDC_CLIENTS),
    ];

    for params in &cases {
        let ev = Evaluator::new(&t, params);
        assert_eq!(broken_rules(&t, &ev), Vec::<String>::new(), "{params:?}");
        for (id, binary) in created_functions(&t, &ev) {
            let serves = serves(&binary);
            let f = &resources(&t)[&id];
            let env = ev.environment(f);
            let mut expected_grants = BTreeSet::new();
            for (reference, plain) in REFERENCE_VARIABLES {
                assert!(
                    !(env.contains_key(plain) && env.contains_key(reference)),
                    "{id} has both {plain} and {reference}"
                );
                if let Some(value) = env.get(reference) {
                    // Exactly the references it reads, and read access to exactly those.
                    assert!(serves.reads(reference), "{id} is given {reference}");
                    expected_grants.insert(grant_for(value));
                }
            }
            let (role_id, _) = get_att(&f["Properties"]["Role"]).unwrap();
            let role = &resources(&t)[role_id];
            assert!(created(&ev, role), "{role_id}");
            assert_eq!(
                secret_grants(&t, &ev, role),
                expected_grants,
                "{role_id} may read other secrets than {id} reads"
            );
            // With the references read (here: replaced by values), the function starts.
            let resolved = |name: &str| {
                env.get(name)
                    .cloned()
                    .or_else(|| reference_of(&env, name).map(|_| test_value(name)))
            };
            if let Err(e) = Config::for_routes(serves, resolved) {
                panic!("{id} would not start:\n{e}");
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
        ["OIDC_CLIENTS_REF"]
    );
}

#[test]
fn each_role_may_make_only_its_functions_calls_on_the_one_table() {
    let t = template();
    // What each function's code calls on the state table. Adding a call means adding it
    // here and to that role's Action list in template.yaml.
    let expected: BTreeMap<&str, Vec<&str>> = BTreeMap::from([
        ("auth", vec!["dynamodb:PutItem"]),
        (
            "base-callback",
            vec![
                "dynamodb:UpdateItem",
                "dynamodb:GetItem",
                "dynamodb:PutItem",
            ],
        ),
        (
            "userinfo-callback",
            vec![
                "dynamodb:UpdateItem",
                "dynamodb:GetItem",
                "dynamodb:PutItem",
            ],
        ),
        ("oidc-token", vec!["dynamodb:UpdateItem"]),
        ("oidc-userinfo", vec!["dynamodb:GetItem"]),
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
        Serves::Everything => 0,
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
        let needed = match serves(&binary) {
            Serves::Everything => CALLBACK_BUDGET.as_millis() as u64,
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
