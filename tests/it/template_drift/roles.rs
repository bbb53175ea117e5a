//! Least privilege in IAM: each role may read exactly the secrets its function reads (by
//! reference, or under the apps' prefix for the callbacks and the code login alone) and
//! make exactly its function's calls on the one table.

use std::collections::{BTreeMap, BTreeSet};

use wxauth_core::config::REFERENCE_VARIABLES;
use wxauth_core::config::Serves;
use wxauth_lambda::secret_refs::{SecretRef, app_references};

/// Whether the function serving `serves` logs in with some app, and so may read the apps'
/// AppSecrets under the prefix.
fn reads_apps_secrets(serves: Serves) -> bool {
    matches!(serves, Serves::Callbacks | Serves::CodeLogin)
}
use wxauth_tests::serves_of_binary;
use wxauth_tests::template::{
    self, Evaluator, NO_VALUE, Value, created, created_functions, functions, get_att, of_type,
    ref_to, resources, scalar,
};

use super::{
    APPS_BY_REF, APPS_INLINE, OIDC_CLIENTS, apps_parameters, broken_rules, oidc_jwks,
    oidc_parameters, plain_parameters, result_jwks, start, test_value,
};

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
    let t = template::load();
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
        ("CodeLogin", "true"),
    ]);
    every_reference.push(("TokenSigningKeyRef", key_ref.as_str()));
    every_reference.push(("OidcSigningKeysRef", oidc_keys_ref.as_str()));
    every_reference.push(("OidcJwksRef", "ssm:/wxauth/oidc-jwks"));
    // Result tokens signed with keys of their own, by reference too.
    let mut asymmetric_by_reference = every_reference.clone();
    asymmetric_by_reference.push(("TokenSigningAlg", "ES256"));
    asymmetric_by_reference.push(("ResultSigningKeysRef", "ssm:/wxauth/result-signing-keys"));
    asymmetric_by_reference.push((
        "ResultJwksRef",
        "secretsmanager:arn:aws-cn:secretsmanager:cn-north-1:123456789012:secret:wxauth-result-jwks-Q1w2E3",
    ));
    // The keys by reference, everything else plain (the keys are too long for a
    // comfortable parameter value).
    let mut keys_by_reference = base(&[
        ("WeChatAppSecret", "app-secret-value"),
        ("TokenSigningKey", "0123456789abcdef0123456789abcdef"),
        ("OidcClients", OIDC_CLIENTS),
        ("OidcJwks", oidc_jwks()),
        ("TokenSigningAlg", "RS256"),
        ("ResultJwks", result_jwks()),
    ]);
    keys_by_reference.push(("OidcSigningKeysRef", oidc_keys_ref.as_str()));
    keys_by_reference.push(("ResultSigningKeysRef", "ssm:/wxauth/result-signing-keys"));
    // Every reference, the list of apps too (beside the default app).
    every_reference.push(("WeChatAppsRef", "ssm:/wxauth/apps-list"));
    let apps_elsewhere = APPS_BY_REF.replace("wxauth/apps/", "prod/wxauth/");
    let cases = [
        every_reference,
        asymmetric_by_reference,
        keys_by_reference,
        plain_parameters(&[]),
        oidc_parameters(&[], OIDC_CLIENTS),
        // Apps alone, their AppSecrets by reference, the list inline, the code login on.
        apps_parameters(APPS_BY_REF, &[("CodeLogin", "true")]),
        // The same with every AppSecret inline and no prefix: no permission for them.
        apps_parameters(APPS_INLINE, &[("WeChatAppSecretsPrefix", "")]),
        // The apps' secrets under another prefix.
        apps_parameters(
            &apps_elsewhere,
            &[
                ("WeChatAppSecretsPrefix", "/prod/wxauth"),
                ("CodeLogin", "true"),
            ],
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
            // … and, for the callbacks and the code login alone, whatever lies under the
            // apps' prefix when there is a list of apps.
            let lists_apps = env.contains_key("WECHAT_APPS") || env.contains_key("WECHAT_APPS_REF");
            let expected = if reads_apps_secrets(serves) && lists_apps && !prefix.is_empty() {
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
            // It reads exactly the references of the apps whose AppSecrets it keeps: a
            // callback never a Mini Program's or a mobile app's, the code login never an
            // Official Account's or a Website App's.
            let list = env.get("WECHAT_APPS").cloned().or_else(|| {
                env.get("WECHAT_APPS_REF")
                    .map(|_| test_value("WECHAT_APPS"))
            });
            let own: Vec<_> = list
                .as_deref()
                .map(|l| app_references(l, |kind| serves.keeps_app_secret(kind)).unwrap())
                .unwrap_or_default();
            let apps_read: Vec<_> = read.iter().filter(|r| r.app.is_some()).cloned().collect();
            assert_eq!(apps_read, own, "{id}: the apps' references it reads");
            // A function that keeps no AppSecret reads none of the apps' references, and
            // its role may read none.
            if !reads_apps_secrets(serves) {
                assert!(read.iter().all(|r| r.app.is_none()), "{id}");
                for reference in list
                    .map(|l| app_references(&l, |_| true).unwrap())
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
    assert_eq!(created_functions(&t, &ev).len(), 6);
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
fn only_the_callbacks_and_the_code_login_may_read_the_apps_secrets_and_only_under_the_prefix() {
    let t = template::load();
    let ev = Evaluator::new(&t, &apps_parameters(APPS_BY_REF, &[("CodeLogin", "true")]));
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
        let callback = reads_apps_secrets(serves_of_binary(&binary));
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
    // Whatever the parameters, only the callbacks' and the code login's roles attach it.
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
            reads_apps_secrets(serves_of_binary(&binary)),
            "{role_id} and AppSecretsReadPolicy"
        );
    }
}

#[test]
fn each_role_may_make_only_its_functions_calls_on_the_one_table() {
    let t = template::load();
    // What each function's code calls on the state table: DescribeTable once at init
    // (wxauth_core::warm_up), then its own item calls. Adding a call means adding it here,
    // in table_keys.rs with the items it names, and to the statement of those items'
    // keys in template.yaml.
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
        // It stores nothing: the table only at init (the warm-up).
        (
            "login-code",
            vec![
                "dynamodb:DescribeTable",
                "dynamodb:GetItem",
                "dynamodb:UpdateItem",
            ],
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
