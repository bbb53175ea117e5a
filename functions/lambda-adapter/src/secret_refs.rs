//! Secret references: in production the app secret and the token signing key need not sit
//! in the functions' environment. `WECHAT_APP_SECRET_REF` / `TOKEN_SIGNING_KEY_REF` name
//! where to read them once, at cold start, before the configuration is parsed:
//!
//! | reference | read with |
//! | --- | --- |
//! | `ssm:/wxauth/app-secret` (a name or a parameter ARN) | SSM `GetParameter`, decrypted (SecureString) |
//! | `secretsmanager:<secret name or ARN>` | Secrets Manager `GetSecretValue`, the `SecretString` |
//! | `secretsmanager:<secret name or ARN>#<key>` | the same, field `<key>` of a JSON `SecretString` |
//!
//! `WECHAT_APPS_REF` reads the whole `WECHAT_APPS` list that way; an app in the list may
//! name its AppSecret with `app_secret_ref` (same forms), read after the list itself and
//! only by the functions that log in with that app: the callbacks for an Official Account
//! or a Website App, the code login for a Mini Program or a mobile app.
//!
//! A variable and its reference are exclusive. Without references nothing is called (and no
//! AWS client is built): plain variables stay the way to run locally. The AWS SDK's standard
//! environment applies (region, credentials, `AWS_ENDPOINT_URL_SSM`,
//! `AWS_ENDPOINT_URL_SECRETS_MANAGER`). Errors name the variable and the reference, never a
//! value.

use std::collections::HashMap;
use std::time::Duration;

use aws_config::SdkConfig;
use aws_sdk_ssm::error::{DisplayErrorContext, ProvideErrorMetadata, SdkError};
use wxauth_core::ConfigError;
use wxauth_core::apps::{self, AppKind};
use wxauth_core::config::{REFERENCE_VARIABLES, Serves};
use wxauth_core::secret::Secret;

/// Where a secret is kept.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SecretRef {
    /// An SSM parameter, by name or ARN, read with decryption.
    Ssm { name: String },
    /// A Secrets Manager secret, by name or ARN; with `json_key`, one field of its JSON.
    SecretsManager {
        secret_id: String,
        json_key: Option<String>,
    },
}

impl SecretRef {
    pub fn parse(text: &str) -> Result<Self, String> {
        let text = text.trim();
        if let Some(name) = text.strip_prefix("ssm:") {
            if name.is_empty() || name.chars().any(|c| c.is_whitespace() || c.is_control()) {
                return Err("ssm: must be followed by a parameter name or ARN".into());
            }
            return Ok(Self::Ssm { name: name.into() });
        }
        if let Some(rest) = text.strip_prefix("secretsmanager:") {
            let (secret_id, json_key) = match rest.split_once('#') {
                Some((id, key)) if !key.is_empty() => (id, Some(key.to_owned())),
                Some(_) => return Err("an empty #key after the secret".into()),
                None => (rest, None),
            };
            if secret_id.is_empty()
                || secret_id
                    .chars()
                    .any(|c| c.is_whitespace() || c.is_control())
            {
                return Err("secretsmanager: must be followed by a secret name or ARN".into());
            }
            return Ok(Self::SecretsManager {
                secret_id: secret_id.into(),
                json_key,
            });
        }
        Err("must start with ssm: or secretsmanager:".into())
    }
}

impl std::fmt::Display for SecretRef {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Ssm { name } => write!(f, "ssm:{name}"),
            Self::SecretsManager {
                secret_id,
                json_key: None,
            } => write!(f, "secretsmanager:{secret_id}"),
            Self::SecretsManager {
                secret_id,
                json_key: Some(key),
            } => write!(f, "secretsmanager:{secret_id}#{key}"),
        }
    }
}

/// One configured reference: the variable it fills and where from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Reference {
    /// The variable the secret stands for; for an app's `app_secret_ref`, the name
    /// `wxauth_core::apps::secret_variable` gives it.
    pub variable: String,
    /// Where the reference is configured (`WECHAT_APPS` for an app's).
    pub reference_variable: &'static str,
    /// The app whose `app_secret_ref` this is.
    pub app: Option<String>,
    pub secret: SecretRef,
}

/// The references `lookup` configures. Every problem is reported at once, by name.
pub fn references(lookup: impl Fn(&str) -> Option<String>) -> Result<Vec<Reference>, ConfigError> {
    let set = |name: &str| lookup(name).filter(|v| !v.trim().is_empty());
    let mut found = Vec::new();
    let mut problems = Vec::new();
    for (reference_variable, variable) in REFERENCE_VARIABLES {
        let Some(text) = set(reference_variable) else {
            continue;
        };
        if set(variable).is_some() {
            problems.push((
                reference_variable,
                format!("set either {variable} or {reference_variable}, not both"),
            ));
            continue;
        }
        match SecretRef::parse(&text) {
            Ok(secret) => found.push(Reference {
                variable: variable.to_owned(),
                reference_variable,
                app: None,
                secret,
            }),
            Err(problem) => problems.push((reference_variable, problem)),
        }
    }
    if problems.is_empty() {
        Ok(found)
    } else {
        Err(ConfigError { problems })
    }
}

/// The `app_secret_ref`s of the apps in `wechat_apps` (the `WECHAT_APPS` text) whose kind
/// `keeps` says: [`Serves::keeps_app_secret`] for a process. Every malformed one is
/// reported at once, by app.
pub fn app_references(
    wechat_apps: &str,
    keeps: impl Fn(AppKind) -> bool,
) -> Result<Vec<Reference>, ConfigError> {
    let mut found = Vec::new();
    let mut problems = Vec::new();
    for (app, text) in apps::secret_refs(wechat_apps, keeps) {
        match SecretRef::parse(&text) {
            Ok(secret) => found.push(Reference {
                variable: apps::secret_variable(&app),
                reference_variable: "WECHAT_APPS",
                app: Some(app),
                secret,
            }),
            Err(problem) => problems.push((
                "WECHAT_APPS",
                format!("app `{app}`: app_secret_ref {problem}"),
            )),
        }
    }
    if problems.is_empty() {
        Ok(found)
    } else {
        Err(ConfigError { problems })
    }
}

/// The referenced secrets, by the variable each stands for.
#[derive(Debug, Default)]
pub struct ResolvedSecrets(HashMap<String, Secret>);

impl ResolvedSecrets {
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub fn len(&self) -> usize {
        self.0.len()
    }

    pub fn get(&self, variable: &str) -> Option<&Secret> {
        self.0.get(variable)
    }

    /// A lookup for `Config::from_lookup`: a resolved secret, else `fallback`.
    pub fn overlay<'a>(
        &'a self,
        fallback: impl Fn(&str) -> Option<String> + 'a,
    ) -> impl Fn(&str) -> Option<String> + 'a {
        move |name| {
            self.0
                .get(name)
                .map(|s| s.expose().to_owned())
                .or_else(|| fallback(name))
        }
    }
}

/// Values by variable, as [`resolve`] files them (tests stand values in for references).
impl FromIterator<(String, Secret)> for ResolvedSecrets {
    fn from_iter<I: IntoIterator<Item = (String, Secret)>>(iter: I) -> Self {
        Self(iter.into_iter().collect())
    }
}

/// The SDK's timeouts for reading secrets: a cold 128 MB function spends up to a second on
/// a TLS handshake; the whole resolution must stay well inside Lambda's 10 s init phase.
pub fn sdk_timeouts() -> aws_config::timeout::TimeoutConfig {
    aws_config::timeout::TimeoutConfig::builder()
        .connect_timeout(Duration::from_millis(1500))
        .operation_attempt_timeout(Duration::from_secs(2))
        .operation_timeout(Duration::from_secs(4))
        .build()
}

/// Reads every reference the process environment configures (nothing, and no AWS client,
/// when there are none).
pub async fn resolve_env(serves: Serves) -> Result<ResolvedSecrets, ConfigError> {
    resolve_from(serves, |name| std::env::var(name).ok(), load_sdk).await
}

/// [`resolve_env`] with the environment read through `lookup`, and the SDK's
/// configuration made by `load` when the first reference is read (never without
/// references): the references of [`references_for`], then those of
/// [`app_references_for`].
pub async fn resolve_from<F, Fut>(
    serves: Serves,
    lookup: impl Fn(&str) -> Option<String>,
    load: F,
) -> Result<ResolvedSecrets, ConfigError>
where
    F: FnOnce() -> Fut,
    Fut: std::future::Future<Output = SdkConfig>,
{
    let mut load = Some(load);
    let mut sdk = None;
    let mut resolved = ResolvedSecrets::default();
    let refs = references_for(serves, &lookup)?;
    if !refs.is_empty() {
        if let Some(load) = load.take() {
            sdk = Some(load().await);
        }
        let sdk = sdk.as_ref().expect("loaded above");
        resolved = resolve(&refs, sdk).await?;
    }
    // The apps' own references, once the list is known (it may itself be a reference).
    let app_refs = app_references_for(serves, &lookup, &resolved)?;
    if !app_refs.is_empty() {
        if let Some(load) = load.take() {
            sdk = Some(load().await);
        }
        let sdk = sdk.as_ref().expect("loaded above");
        resolved.0.extend(resolve(&app_refs, sdk).await?.0);
    }
    Ok(resolved)
}

/// The references a process serving `serves` reads, of the variables `lookup` gives:
/// a function that does not use a secret does not read its reference either (its role
/// has no permission to, and it should never hold the value).
pub fn references_for(
    serves: Serves,
    lookup: impl Fn(&str) -> Option<String>,
) -> Result<Vec<Reference>, ConfigError> {
    references(|name| {
        serves
            .reads_in(name, &lookup)
            .then(|| lookup(name))
            .flatten()
    })
}

/// The apps' `app_secret_ref`s a process serving `serves` reads once `resolved` holds
/// what [`references_for`] named: those of the `WECHAT_APPS` list (resolved from
/// `WECHAT_APPS_REF`, else from `lookup`) whose AppSecrets it uses
/// ([`Serves::keeps_app_secret`]): the callbacks those of the Official Accounts and
/// Website Apps, the code login those of the Mini Programs and mobile apps; none
/// elsewhere.
pub fn app_references_for(
    serves: Serves,
    lookup: impl Fn(&str) -> Option<String>,
    resolved: &ResolvedSecrets,
) -> Result<Vec<Reference>, ConfigError> {
    let wechat_apps = resolved
        .get("WECHAT_APPS")
        .map(|s| s.expose().to_owned())
        .or_else(|| {
            serves
                .reads("WECHAT_APPS")
                .then(|| lookup("WECHAT_APPS"))
                .flatten()
        });
    match wechat_apps {
        Some(wechat_apps) => app_references(&wechat_apps, |kind| serves.keeps_app_secret(kind)),
        None => Ok(Vec::new()),
    }
}

async fn load_sdk() -> SdkConfig {
    aws_config::defaults(aws_config::BehaviorVersion::latest())
        .timeout_config(sdk_timeouts())
        .load()
        .await
}

/// Reads `refs` with clients built from `sdk`, one after the other (a second read from the
/// same service reuses the first one's connection). Every failure is reported.
pub async fn resolve(refs: &[Reference], sdk: &SdkConfig) -> Result<ResolvedSecrets, ConfigError> {
    let mut ssm: Option<aws_sdk_ssm::Client> = None;
    let mut secrets_manager: Option<aws_sdk_secretsmanager::Client> = None;
    let mut resolved = HashMap::new();
    let mut problems = Vec::new();
    for reference in refs {
        let value = match &reference.secret {
            SecretRef::Ssm { name } => {
                let client = ssm.get_or_insert_with(|| aws_sdk_ssm::Client::new(sdk));
                read_ssm(client, name).await
            }
            SecretRef::SecretsManager {
                secret_id,
                json_key,
            } => {
                let client =
                    secrets_manager.get_or_insert_with(|| aws_sdk_secretsmanager::Client::new(sdk));
                read_secrets_manager(client, secret_id, json_key.as_deref()).await
            }
        };
        match value {
            Ok(value) => {
                resolved.insert(reference.variable.clone(), value);
            }
            Err(problem) => {
                let app = match &reference.app {
                    Some(app) => format!("app `{app}`: "),
                    None => String::new(),
                };
                problems.push((
                    reference.reference_variable,
                    format!("{app}could not read {}: {problem}", reference.secret),
                ));
            }
        }
    }
    if problems.is_empty() {
        Ok(ResolvedSecrets(resolved))
    } else {
        Err(ConfigError { problems })
    }
}

async fn read_ssm(client: &aws_sdk_ssm::Client, name: &str) -> Result<Secret, String> {
    let output = client
        .get_parameter()
        .name(name)
        .with_decryption(true)
        .send()
        .await
        .map_err(describe)?;
    output
        .parameter
        .and_then(|p| p.value)
        .filter(|v| !v.is_empty())
        .map(Secret::new)
        .ok_or_else(|| "the parameter has no value".to_owned())
}

async fn read_secrets_manager(
    client: &aws_sdk_secretsmanager::Client,
    secret_id: &str,
    json_key: Option<&str>,
) -> Result<Secret, String> {
    let output = client
        .get_secret_value()
        .secret_id(secret_id)
        .send()
        .await
        .map_err(describe)?;
    let text = output
        .secret_string
        .filter(|v| !v.is_empty())
        .ok_or_else(|| {
            "the secret has no SecretString (binary secrets are not supported)".to_owned()
        })?;
    let Some(key) = json_key else {
        return Ok(Secret::new(text));
    };
    // Never echo the secret's text in an error, even when it is not valid JSON.
    let json: serde_json::Value = serde_json::from_str(&text)
        .map_err(|_| format!("#{key} was asked for but the SecretString is not a JSON object"))?;
    match json.get(key) {
        Some(serde_json::Value::String(v)) if !v.is_empty() => Ok(Secret::new(v.clone())),
        Some(_) => Err(format!(
            "field {key} of the secret is not a non-empty string"
        )),
        None => Err(format!("the secret has no field {key}")),
    }
}

/// A service's refusal by its code (`ParameterNotFound`, `AccessDeniedException` …), else
/// the whole error chain (timeouts, connection errors). Neither carries a secret value.
fn describe<E, R>(err: SdkError<E, R>) -> String
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
    R: std::fmt::Debug,
{
    match &err {
        SdkError::ServiceError(service) => {
            let meta = service.err().meta();
            match (meta.code(), meta.message()) {
                (Some(code), Some(message)) => format!("{code}: {message}"),
                (Some(code), None) => code.to_owned(),
                _ => DisplayErrorContext(&err).to_string(),
            }
        }
        _ => DisplayErrorContext(&err).to_string(),
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use lambda_runtime_emulator::aws_secrets::SecretsDouble;
    use wxauth_core::Config;

    use super::*;

    const APP_SECRET: &str = "APPSECRET-from-ssm-7c1f";
    const SIGNING_KEY: &str = "SIGNINGKEY-from-secrets-manager-0123456789";
    const SECRET_ARN: &str = "arn:aws:secretsmanager:us-east-1:123456789012:secret:wxauth-AbCdEf";

    fn lookup(vars: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> + use<> {
        let map: HashMap<String, String> = vars
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        move |name| map.get(name).cloned()
    }

    async fn sdk_for(endpoint: &str) -> SdkConfig {
        aws_config::defaults(aws_config::BehaviorVersion::latest())
            .region(aws_config::Region::new("us-east-1"))
            .credentials_provider(aws_sdk_ssm::config::Credentials::new(
                "AKIDLOCAL",
                "local-secret-key",
                None,
                None,
                "test",
            ))
            .endpoint_url(endpoint)
            .timeout_config(sdk_timeouts())
            .load()
            .await
    }

    #[test]
    fn references_parse() {
        assert_eq!(
            SecretRef::parse("ssm:/wxauth/app-secret"),
            Ok(SecretRef::Ssm {
                name: "/wxauth/app-secret".into()
            })
        );
        assert_eq!(
            SecretRef::parse(&format!("secretsmanager:{SECRET_ARN}#signing_key")),
            Ok(SecretRef::SecretsManager {
                secret_id: SECRET_ARN.into(),
                json_key: Some("signing_key".into())
            })
        );
        assert_eq!(
            SecretRef::parse("secretsmanager:wxauth/prod"),
            Ok(SecretRef::SecretsManager {
                secret_id: "wxauth/prod".into(),
                json_key: None
            })
        );
        for bad in [
            "",
            "ssm:",
            "/wxauth/x",
            "vault:x",
            "secretsmanager:#k",
            "secretsmanager:x#",
            "ssm:/a b",
        ] {
            assert!(SecretRef::parse(bad).is_err(), "{bad:?} was accepted");
        }
        let text = format!("secretsmanager:{SECRET_ARN}#k");
        assert_eq!(SecretRef::parse(&text).unwrap().to_string(), text);
    }

    #[test]
    fn a_value_and_its_reference_are_exclusive_and_problems_come_together() {
        let err = references(lookup(&[
            ("WECHAT_APP_SECRET", "plain-secret-value"),
            ("WECHAT_APP_SECRET_REF", "ssm:/wxauth/app-secret"),
            ("TOKEN_SIGNING_KEY_REF", "vault:/x"),
        ]))
        .unwrap_err();
        let names: Vec<_> = err.problems.iter().map(|(n, _)| *n).collect();
        assert_eq!(names, ["WECHAT_APP_SECRET_REF", "TOKEN_SIGNING_KEY_REF"]);
        assert!(!err.to_string().contains("plain-secret-value"), "{err}");

        assert_eq!(
            references(lookup(&[("WECHAT_APP_SECRET", "x")])),
            Ok(vec![])
        );
        // Empty counts as unset, as for every other variable.
        assert_eq!(
            references(lookup(&[
                ("WECHAT_APP_SECRET", "x"),
                ("WECHAT_APP_SECRET_REF", " ")
            ])),
            Ok(vec![])
        );
    }

    #[tokio::test]
    async fn secrets_are_read_from_ssm_and_secrets_manager_over_the_aws_protocol() {
        let double = SecretsDouble::new();
        double.put_parameter("/wxauth/app-secret", APP_SECRET);
        double.put_secret(
            SECRET_ARN,
            &serde_json::json!({ "signing_key": SIGNING_KEY, "other": "x" }).to_string(),
        );
        let server = double.serve_on_loopback().await.unwrap();
        let env = lookup(&[
            ("WECHAT_APP_ID", "wx0123456789abcdef"),
            ("ALLOWED_RETURN_ORIGINS", "https://app.example.com"),
            ("WECHAT_APP_SECRET_REF", "ssm:/wxauth/app-secret"),
            (
                "TOKEN_SIGNING_KEY_REF",
                &format!("secretsmanager:{SECRET_ARN}#signing_key"),
            ),
        ]);
        let refs = references(&env).unwrap();
        let resolved = resolve(&refs, &sdk_for(&server.endpoint_url()).await)
            .await
            .unwrap();
        assert_eq!(resolved.len(), 2);
        assert_eq!(
            double.calls(),
            [
                "AmazonSSM.GetParameter /wxauth/app-secret".to_owned(),
                format!("secretsmanager.GetSecretValue {SECRET_ARN}"),
            ]
        );
        assert!(!format!("{resolved:?}").contains(APP_SECRET));

        // The configuration sees the resolved values where the plain variables would be.
        let config = Config::from_lookup(resolved.overlay(&env)).unwrap();
        let app = config.apps.default_app();
        assert_eq!(app.secret.as_ref().unwrap().expose(), APP_SECRET);
        assert_eq!(app.app_id, "wx0123456789abcdef");
    }

    #[tokio::test]
    async fn failures_name_the_variable_and_the_reference_never_a_value() {
        let double = SecretsDouble::new();
        double.put_secret("wxauth/not-json", "SIGNINGKEY-not-json-0123456789abcdef");
        let server = double.serve_on_loopback().await.unwrap();
        let refs = references(lookup(&[
            ("WECHAT_APP_SECRET_REF", "ssm:/wxauth/missing"),
            (
                "TOKEN_SIGNING_KEY_REF",
                "secretsmanager:wxauth/not-json#key",
            ),
        ]))
        .unwrap();
        let err = resolve(&refs, &sdk_for(&server.endpoint_url()).await)
            .await
            .unwrap_err();
        assert_eq!(err.problems.len(), 2, "{err}");
        let (name, problem) = &err.problems[0];
        assert_eq!(*name, "WECHAT_APP_SECRET_REF");
        assert!(problem.contains("ssm:/wxauth/missing"), "{problem}");
        assert!(problem.contains("ParameterNotFound"), "{problem}");
        let (name, problem) = &err.problems[1];
        assert_eq!(*name, "TOKEN_SIGNING_KEY_REF");
        assert!(problem.contains("not a JSON object"), "{problem}");
        assert!(!err.to_string().contains("SIGNINGKEY-not-json"), "{err}");
    }

    const MP_SECRET: &str = "MPSECRET-from-ssm-3b9d";
    const WEB_SECRET: &str = "WEBSECRET-from-secrets-manager-5e2a";
    /// An Official Account with its AppSecret in SSM and its Website App (QR login) with
    /// its AppSecret in Secrets Manager, as the list `WECHAT_APPS_REF` names.
    const APPS: &str = r#"[
        {"name":"mp","kind":"official_account","app_id":"wx00000000000000aa",
         "app_secret_ref":"ssm:/wxauth/apps/mp","qr_app":"web"},
        {"name":"web","kind":"website","app_id":"wx00000000000000bb",
         "app_secret_ref":"secretsmanager:wxauth/apps/web#app_secret",
         "allowed_return_origins":"https://www.example.com"}
    ]"#;

    /// A double holding the list and both apps' secrets.
    fn apps_double() -> SecretsDouble {
        let double = SecretsDouble::new();
        double.put_parameter("/wxauth/apps", APPS);
        double.put_parameter("/wxauth/apps/mp", MP_SECRET);
        double.put_secret(
            "wxauth/apps/web",
            &serde_json::json!({ "app_secret": WEB_SECRET }).to_string(),
        );
        double
    }

    /// A function's environment with the apps listed by `WECHAT_APPS_REF`.
    fn apps_env() -> impl Fn(&str) -> Option<String> + use<> {
        lookup(&[
            ("WECHAT_APPS_REF", "ssm:/wxauth/apps"),
            ("ALLOWED_RETURN_ORIGINS", "https://app.example.com"),
            ("TOKEN_SIGNING_KEY", "0123456789abcdef0123456789abcdef"),
        ])
    }

    /// A loader for a process that must read nothing: building the SDK fails the test.
    async fn no_sdk() -> SdkConfig {
        panic!("no reference to read, yet the SDK was loaded")
    }

    #[tokio::test]
    async fn the_callbacks_read_the_apps_list_then_each_apps_secret() {
        let double = apps_double();
        let server = double.serve_on_loopback().await.unwrap();
        let env = apps_env();
        let endpoint = server.endpoint_url();
        let resolved = resolve_from(Serves::Everything, &env, || sdk_for(&endpoint))
            .await
            .unwrap();
        // The list first (the apps' references are in it), then each app's, in order.
        assert_eq!(
            double.calls(),
            [
                "AmazonSSM.GetParameter /wxauth/apps",
                "AmazonSSM.GetParameter /wxauth/apps/mp",
                "secretsmanager.GetSecretValue wxauth/apps/web",
            ]
        );
        assert_eq!(resolved.len(), 3);
        let debug = format!("{resolved:?}");
        assert!(
            !debug.contains(MP_SECRET) && !debug.contains(WEB_SECRET),
            "{debug}"
        );

        // The callbacks' configuration: every app with the AppSecret its reference names.
        let config = Config::for_routes(Serves::Everything, resolved.overlay(&env)).unwrap();
        let secret = |app: &str| {
            config
                .apps
                .get(app)
                .unwrap()
                .secret
                .as_ref()
                .map(|s| s.expose().to_owned())
        };
        assert_eq!(config.apps.default_app().name, "mp");
        assert_eq!(secret("mp").as_deref(), Some(MP_SECRET));
        assert_eq!(secret("web").as_deref(), Some(WEB_SECRET));
        assert!(!format!("{config:?}").contains(MP_SECRET));
    }

    #[tokio::test]
    async fn the_functions_that_start_logins_read_the_list_but_no_apps_secret() {
        for serves in [Serves::StartOnly, Serves::OidcToken, Serves::OidcUserInfo] {
            let double = apps_double();
            let server = double.serve_on_loopback().await.unwrap();
            let env = apps_env();
            let endpoint = server.endpoint_url();
            let resolved = resolve_from(serves, &env, || sdk_for(&endpoint))
                .await
                .unwrap();
            assert_eq!(
                double.calls(),
                ["AmazonSSM.GetParameter /wxauth/apps"],
                "{serves:?}"
            );
            assert!(
                app_references_for(serves, &env, &resolved)
                    .unwrap()
                    .is_empty(),
                "{serves:?}"
            );
            if serves != Serves::StartOnly {
                // Their configurations need keys besides: the token function the
                // provider's, the userinfo function a public set to publish.
                continue;
            }
            let config = Config::for_routes(serves, resolved.overlay(&env)).unwrap();
            assert_eq!(config.apps.len(), 2, "{serves:?}");
            assert!(
                config.apps.iter().all(|app| app.secret.is_none()),
                "{serves:?}"
            );
        }
        // With the list inline, the auth function has nothing to read: no SDK at all.
        let env = lookup(&[
            ("WECHAT_APPS", APPS),
            ("ALLOWED_RETURN_ORIGINS", "https://app.example.com"),
        ]);
        let resolved = resolve_from(Serves::StartOnly, &env, no_sdk).await.unwrap();
        assert!(resolved.is_empty());
        // While the callbacks resolve both apps' references from the same list.
        let refs = app_references_for(Serves::Everything, &env, &resolved).unwrap();
        let names: Vec<_> = refs.iter().map(|r| r.app.as_deref().unwrap()).collect();
        assert_eq!(names, ["mp", "web"]);
        assert_eq!(refs[0].variable, "WECHAT_APPS[mp].app_secret");
        assert_eq!(refs[0].secret.to_string(), "ssm:/wxauth/apps/mp");
    }

    const MINI_SECRET: &str = "MINISECRET-from-ssm-81c4";
    const IOS_SECRET: &str = "IOSSECRET-from-secrets-manager-2f7d";

    /// [`APPS`] and a Mini Program and a mobile app, every AppSecret by reference.
    fn four_kinds() -> String {
        let mut apps: Vec<serde_json::Value> = serde_json::from_str(APPS).unwrap();
        apps.push(serde_json::json!({"name": "mini", "kind": "miniprogram",
            "app_id": "wx00000000000000cc", "app_secret_ref": "ssm:/wxauth/apps/mini"}));
        apps.push(serde_json::json!({"name": "ios", "kind": "mobile_app",
            "app_id": "wx00000000000000dd",
            "app_secret_ref": "secretsmanager:wxauth/apps/ios#app_secret"}));
        serde_json::Value::from(apps).to_string()
    }

    #[tokio::test]
    async fn the_callbacks_and_the_code_login_each_read_only_their_own_apps_secrets() {
        let apps = four_kinds();
        for (serves, calls, kept) in [
            (
                Serves::Callbacks,
                [
                    "AmazonSSM.GetParameter /wxauth/apps/mp",
                    "secretsmanager.GetSecretValue wxauth/apps/web",
                ],
                [("mp", MP_SECRET), ("web", WEB_SECRET)],
            ),
            (
                Serves::CodeLogin,
                [
                    "AmazonSSM.GetParameter /wxauth/apps/mini",
                    "secretsmanager.GetSecretValue wxauth/apps/ios",
                ],
                [("mini", MINI_SECRET), ("ios", IOS_SECRET)],
            ),
        ] {
            let double = apps_double();
            double.put_parameter("/wxauth/apps/mini", MINI_SECRET);
            double.put_secret(
                "wxauth/apps/ios",
                &serde_json::json!({ "app_secret": IOS_SECRET }).to_string(),
            );
            let server = double.serve_on_loopback().await.unwrap();
            let env = lookup(&[
                ("WECHAT_APPS", apps.as_str()),
                ("ALLOWED_RETURN_ORIGINS", "https://app.example.com"),
                ("TOKEN_SIGNING_KEY", "0123456789abcdef0123456789abcdef"),
                ("SEALING_KEY", "a-sealing-key-of-its-own-0123456789"),
            ]);
            let endpoint = server.endpoint_url();
            let resolved = resolve_from(serves, &env, || sdk_for(&endpoint))
                .await
                .unwrap();
            // Not one read of the other kinds' references: the role could not allow it.
            assert_eq!(double.calls(), calls, "{serves:?}");
            assert_eq!(resolved.len(), 2, "{serves:?}");
            // Every app is known, but only its own kinds hold their AppSecrets.
            let config = Config::for_routes(serves, resolved.overlay(&env)).unwrap();
            assert_eq!(config.apps.len(), 4, "{serves:?}");
            for app in config.apps.iter() {
                let expected = kept.iter().find(|(name, _)| *name == app.name);
                assert_eq!(
                    app.secret.as_ref().map(|s| s.expose().to_owned()),
                    expected.map(|(_, secret)| (*secret).to_owned()),
                    "{serves:?}: app {}",
                    app.name
                );
            }
        }
    }

    #[tokio::test]
    async fn a_failing_app_reference_names_the_app_and_the_reference_never_a_value() {
        let double = SecretsDouble::new();
        // A SecretString that is not JSON, asked for a #key: its text must not leak.
        double.put_secret("wxauth/apps/web", "WEBSECRET-not-json-0123456789");
        let server = double.serve_on_loopback().await.unwrap();
        let apps = APPS.replace("ssm:/wxauth/apps/mp", "ssm:/wxauth/apps/missing");
        let env = lookup(&[
            ("WECHAT_APPS", apps.as_str()),
            ("ALLOWED_RETURN_ORIGINS", "https://app.example.com"),
        ]);
        let endpoint = server.endpoint_url();
        let err = resolve_from(Serves::Everything, &env, || sdk_for(&endpoint))
            .await
            .unwrap_err();
        assert_eq!(err.problems.len(), 2, "{err}");
        let (name, problem) = &err.problems[0];
        assert_eq!(*name, "WECHAT_APPS");
        assert!(
            problem.starts_with("app `mp`: could not read ssm:/wxauth/apps/missing"),
            "{problem}"
        );
        assert!(problem.contains("ParameterNotFound"), "{problem}");
        let (name, problem) = &err.problems[1];
        assert_eq!(*name, "WECHAT_APPS");
        assert!(
            problem
                .starts_with("app `web`: could not read secretsmanager:wxauth/apps/web#app_secret"),
            "{problem}"
        );
        assert!(problem.contains("not a JSON object"), "{problem}");
        assert!(!err.to_string().contains("WEBSECRET"), "{err}");
    }

    #[tokio::test]
    async fn malformed_app_secret_refs_are_reported_by_app_before_anything_is_read() {
        let apps = r#"[
            {"name":"mp","kind":"official_account","app_id":"wx1","app_secret_ref":"S3CR3T-pasted-by-mistake"},
            {"name":"web","kind":"website","app_id":"wx2","app_secret_ref":"ssm:"},
            {"name":"ok","kind":"website","app_id":"wx3","app_secret":"inline-S3CR3T"},
            {"name":"fine","kind":"website","app_id":"wx4","app_secret_ref":"ssm:/wxauth/apps/fine"}
        ]"#;
        let expected = [
            (
                "WECHAT_APPS",
                "app `mp`: app_secret_ref must start with ssm: or secretsmanager:".to_owned(),
            ),
            (
                "WECHAT_APPS",
                "app `web`: app_secret_ref ssm: must be followed by a parameter name or ARN"
                    .to_owned(),
            ),
        ];
        let err = app_references(apps, |_| true).unwrap_err();
        assert_eq!(err.problems, expected);
        assert!(!err.to_string().contains("S3CR3T"), "{err}");
        // The callbacks stop there, before building a client; the auth function does not
        // look at the apps' references at all.
        let env = lookup(&[("WECHAT_APPS", apps)]);
        let err = resolve_from(Serves::Everything, &env, no_sdk)
            .await
            .unwrap_err();
        assert_eq!(err.problems, expected);
        assert!(
            resolve_from(Serves::StartOnly, &env, no_sdk)
                .await
                .unwrap()
                .is_empty()
        );
    }

    #[test]
    fn the_apps_list_and_its_reference_are_exclusive() {
        let err = references(lookup(&[
            ("WECHAT_APPS", APPS),
            ("WECHAT_APPS_REF", "ssm:/wxauth/apps"),
        ]))
        .unwrap_err();
        assert_eq!(
            err.problems,
            [(
                "WECHAT_APPS_REF",
                "set either WECHAT_APPS or WECHAT_APPS_REF, not both".to_owned()
            )]
        );
        // Every function reads the list's reference.
        for serves in [
            Serves::StartOnly,
            Serves::CodeLogin,
            Serves::OidcToken,
            Serves::OidcUserInfo,
            Serves::Everything,
        ] {
            let refs =
                references_for(serves, lookup(&[("WECHAT_APPS_REF", "ssm:/wxauth/apps")])).unwrap();
            assert_eq!(refs.len(), 1, "{serves:?}");
            assert_eq!(refs[0].variable, "WECHAT_APPS");
        }
    }

    #[tokio::test]
    async fn an_unreachable_endpoint_fails_within_the_timeouts() {
        // A port nobody listens on: connection refused, retried, then reported.
        let port = {
            let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
            l.local_addr().unwrap().port()
        };
        let refs = references(lookup(&[("WECHAT_APP_SECRET_REF", "ssm:/wxauth/x")])).unwrap();
        let started = std::time::Instant::now();
        let err = resolve(&refs, &sdk_for(&format!("http://127.0.0.1:{port}")).await)
            .await
            .unwrap_err();
        assert!(started.elapsed() < Duration::from_secs(5));
        assert_eq!(err.problems[0].0, "WECHAT_APP_SECRET_REF");
    }
}
