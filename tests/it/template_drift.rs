//! template.yaml cannot drift from the code: its routes, functions, binaries, environment
//! variables, table, IAM and timeouts are read here (CloudFormation tags such as `!Ref`
//! parsed as tagged values) and checked against the crates, the configuration parser and
//! the routing functions themselves. The functions' environments are evaluated for real
//! parameter sets (Ref, If, Condition …) and fed to `Config::from_lookup`.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::{Path, PathBuf};

use serde_yaml::Value;
use wxauth_core::config::{CALLBACK_ONLY_SECRETS, Serves, VARIABLES};
use wxauth_core::deadline::CALLBACK_BUDGET;
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
        other => panic!("template.yaml builds {other}, which is not one of the three functions"),
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
            "userinfo-callback".into()
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
}

#[test]
fn routes_reach_the_functions_whose_code_serves_them() {
    let t = template();
    let functions = functions(&t);
    let apis = of_type(&t, "AWS::Serverless::HttpApi");
    assert_eq!(apis.len(), 1, "one HttpApi");
    let api = apis.keys().next().unwrap().clone();

    let mut routes = BTreeMap::new();
    for (id, binary) in &functions {
        let f = &resources(&t)[id];
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
            assert!(
                routes.insert(key.clone(), binary.clone()).is_none(),
                "{key} twice"
            );
        }
    }
    let expected = BTreeMap::from([
        ("GET /auth".to_owned(), "auth".to_owned()),
        ("GET /getOpenId".to_owned(), "base-callback".to_owned()),
        (
            "GET /getWxUserInfo".to_owned(),
            "userinfo-callback".to_owned(),
        ),
        (
            "GET /getUserInfo".to_owned(),
            "userinfo-callback".to_owned(),
        ),
    ]);
    assert_eq!(routes, expected);

    // Each function's own routing agrees, on the $default stage and on a named one, and so
    // does the core's path routing (wxauth-local).
    for (key, binary) in &routes {
        let path = key.strip_prefix("GET ").unwrap();
        let expected = match binary.as_str() {
            "auth" => Route::Auth,
            "base-callback" => Route::Callback(Scope::Base),
            _ => Route::Callback(Scope::UserInfo),
        };
        for stage in ["$default", "prod"] {
            let event = api_gateway_event(stage, path, "", None);
            assert_eq!(route_fn(binary)(&event), expected, "{key} on stage {stage}");
        }
        assert_eq!(Route::from_path(path), expected, "{key}");
    }
    for scope in [Scope::Base, Scope::UserInfo] {
        let key = format!("GET {}", scope.callback_path());
        assert!(
            routes.contains_key(&key),
            "WeChat returns to {key}, which has no route"
        );
    }
}

#[test]
fn the_mp_verify_route_exists_only_with_a_token_and_reaches_auth() {
    let t = template();
    let functions = functions(&t);
    let routes = of_type(&t, "AWS::ApiGatewayV2::Route");
    assert_eq!(routes.len(), 1);
    let (id, route) = routes.into_iter().next().unwrap();
    let condition = route["Condition"]
        .as_str()
        .expect("the route is conditional");

    let token = "AbC123xyz";
    let with = Evaluator::new(&t, &plain_parameters(&[("MpVerifyToken", token)]));
    let without = Evaluator::new(&t, &plain_parameters(&[]));
    assert!(with.condition(condition));
    assert!(!without.condition(condition));

    let key = with.eval(&route["Properties"]["RouteKey"]);
    let path = key.strip_prefix("GET ").expect("a GET route");
    assert_eq!(path, format!("/MP_verify_{token}.txt"));

    // Route → integration → the function built from `auth`, whose code serves the file.
    let target = with.eval(&route["Properties"]["Target"]);
    let integration_id = target
        .strip_prefix("integrations/")
        .unwrap()
        .trim_end_matches("-physical-id");
    let integration = &resources(&t)[integration_id];
    assert_eq!(integration["Condition"].as_str(), Some(condition));
    assert_eq!(integration["Properties"]["PayloadFormatVersion"], "2.0");
    let (function, attr) = get_att(&integration["Properties"]["IntegrationUri"]).unwrap();
    assert_eq!(attr, "Arn");
    assert_eq!(functions[function], "auth", "{id} reaches {function}");
    for stage in ["$default", "prod"] {
        let event = api_gateway_event(stage, path, "", None);
        assert_eq!(auth::route(&event), Route::MpVerify(token.into()));
    }
    // API Gateway may invoke it, for exactly that route.
    let permission = of_type(&t, "AWS::Lambda::Permission");
    let (_, permission) = permission.iter().next().expect("a Lambda permission");
    assert_eq!(permission["Condition"].as_str(), Some(condition));
    assert_eq!(
        ref_to(&permission["Properties"]["FunctionName"]),
        Some(function)
    );
    assert!(
        with.eval(&permission["Properties"]["SourceArn"])
            .ends_with(&format!("/*/GET{path}"))
    );

    // And the auth function gets the token it must answer with; no function without it.
    let auth_function = &resources(&t)[function];
    assert_eq!(with.environment(auth_function)["MP_VERIFY_TOKEN"], token);
    assert!(
        !without
            .environment(auth_function)
            .contains_key("MP_VERIFY_TOKEN")
    );
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

/// What a function binary serves, as its `main` tells `wxauth_lambda::run`.
fn serves(binary: &str) -> Serves {
    match binary {
        "auth" => Serves::StartOnly,
        _ => Serves::Everything,
    }
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

    let cases: Vec<Vec<(&str, &str)>> = vec![
        plain_parameters(&[]),
        plain_parameters(&[
            ("PublicBaseUrl", "https://login.example.com"),
            ("MpVerifyToken", "AbC123"),
            ("StateTtlSeconds", "3600"),
        ]),
    ];
    for params in &cases {
        let ev = Evaluator::new(&t, params);
        for (id, binary) in functions(&t) {
            let env = ev.environment(&resources(&t)[&id]);
            for name in env.keys() {
                assert!(
                    known.contains(name.as_str()),
                    "{id} sets {name}, which the code never reads"
                );
            }
            for name in &required_variables(serves(&binary)) {
                assert!(env.contains_key(*name), "{id} lacks the required {name}");
            }
            // Least privilege: the auth function is not even given the secrets.
            if serves(&binary) == Serves::StartOnly {
                for secret in CALLBACK_ONLY_SECRETS {
                    assert!(!env.contains_key(secret), "{id} is given {secret}");
                }
            }
            // The Lambda functions keep logins in DynamoDB: STATE_TABLE is the table.
            assert_eq!(env["STATE_TABLE"], "StateTable-physical-id", "{id}");
            let config = Config::for_routes(serves(&binary), |name| env.get(name).cloned())
                .unwrap_or_else(|e| panic!("{id} ({binary}) would not start:\n{e}"));
            assert!(config.state_table.is_some());
            assert_eq!(
                config.callback.is_some(),
                serves(&binary) == Serves::Everything
            );
        }
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
}

#[test]
fn secrets_come_from_plain_parameters_or_from_references_never_both() {
    let t = template();
    let arn = "arn:aws-cn:secretsmanager:cn-north-1:123456789012:secret:wxauth-AbCdEf";
    let key_ref = format!("secretsmanager:{arn}#signing_key");
    let params = vec![
        ("WeChatAppId", "wx0123456789abcdef"),
        ("WeChatAppSecretRef", "ssm:/wxauth/app-secret"),
        ("TokenSigningKeyRef", key_ref.as_str()),
        ("AllowedReturnOrigins", "https://app.example.com"),
    ];
    let ev = Evaluator::new(&t, &params);
    for (id, binary) in functions(&t) {
        let env = ev.environment(&resources(&t)[&id]);
        for (reference, plain) in REFERENCE_VARIABLES {
            assert!(
                !env.contains_key(plain),
                "{id} has both {plain} and {reference}"
            );
            match serves(&binary) {
                Serves::Everything => {
                    SecretRef::parse(&env[reference])
                        .expect("a reference the functions understand");
                }
                Serves::StartOnly => assert!(!env.contains_key(reference), "{id}"),
                Serves::OidcToken | Serves::OidcUserInfo => {
                    todo!("OIDC functions in template.yaml (in progress)")
                }
            }
        }
    }
    // Exactly the referenced parameter and secret may be read, by the callbacks' roles.
    let policy = &resources(&t)["SecretReadPolicy"];
    assert!(ev.condition(policy["Condition"].as_str().unwrap()));
    let mut grants = Vec::new();
    for statement in policy["Properties"]["PolicyDocument"]["Statement"]
        .as_sequence()
        .unwrap()
    {
        let args = statement["Fn::If"]
            .as_sequence()
            .expect("conditional statements");
        if ev.condition(args[0].as_str().unwrap()) {
            let s = &args[1];
            grants.push((ev.eval(&s["Action"]), ev.eval(&s["Resource"])));
        }
    }
    assert_eq!(
        grants,
        [
            (
                "ssm:GetParameter".to_owned(),
                "arn:aws-cn:ssm:cn-north-1:123456789012:parameter/wxauth/app-secret".to_owned()
            ),
            ("secretsmanager:GetSecretValue".to_owned(), arn.to_owned()),
        ]
    );
    for (id, binary) in functions(&t) {
        let f = &resources(&t)[&id];
        let (role, _) = get_att(&f["Properties"]["Role"]).unwrap();
        let arns = resources(&t)[role]["Properties"]["ManagedPolicyArns"].clone();
        let attached: Vec<String> = arns
            .as_sequence()
            .map(|arns| arns.iter().map(|a| ev.eval(a)).collect())
            .unwrap_or_default();
        match serves(&binary) {
            Serves::Everything => assert_eq!(attached, ["SecretReadPolicy-physical-id"], "{id}"),
            Serves::StartOnly => {
                assert!(attached.is_empty(), "{id} may read secrets: {attached:?}")
            }
            Serves::OidcToken | Serves::OidcUserInfo => {
                todo!("OIDC functions in template.yaml (in progress)")
            }
        }
    }
    // Without references, no policy and no reference variables.
    let plain = Evaluator::new(&t, &plain_parameters(&[]));
    assert!(!plain.condition(policy["Condition"].as_str().unwrap()));
    for (id, _) in functions(&t) {
        let env = plain.environment(&resources(&t)[&id]);
        for (reference, _) in REFERENCE_VARIABLES {
            assert!(!env.contains_key(reference), "{id}");
        }
    }
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
            vec!["dynamodb:UpdateItem", "dynamodb:GetItem"],
        ),
        (
            "userinfo-callback",
            vec!["dynamodb:UpdateItem", "dynamodb:GetItem"],
        ),
    ]);
    let tables = of_type(&t, "AWS::DynamoDB::Table");
    assert_eq!(tables.len(), 1);
    let table = tables.keys().next().unwrap().as_str();
    for (id, binary) in functions(&t) {
        let f = &resources(&t)[&id];
        let (role_id, _) = get_att(&f["Properties"]["Role"]).expect("an explicit role");
        let role = &resources(&t)[role_id];
        assert_eq!(role["Type"], "AWS::IAM::Role");
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
                }
            }
        }
        assert_eq!(dynamo_actions, expected[binary.as_str()], "{role_id}");
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
            Serves::StartOnly | Serves::OidcToken | Serves::OidcUserInfo => {
                STATE_TABLE_STORE_BOUND_MS
            }
            Serves::Everything => CALLBACK_BUDGET.as_millis() as u64,
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
