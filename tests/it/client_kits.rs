//! The client kits (`clients/verify/`, docs/clients.md): each language's verifier, run as
//! a user runs it, against tokens from real logins through the gateway and WeChat
//! simulator. The real tokens and a token signed here must verify and print exactly the
//! token's claims; a tampered signature or payload, a wrong audience or issuer, an expired
//! token, `alg: none`, HS512, and a correctly signed JWT whose header's `typ` is `JWT` or
//! missing (an ID token's, or another JWT of the same key) must be refused, each for its
//! own reason.
//!
//! The toolchains and libraries come from `scripts/clients.sh` (which `scripts/test` runs
//! first). When one is missing, its test fails under CI (`CI` set) and otherwise says
//! "skipped: …" on stderr and passes.

use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use wechat_simulator::SimUser;
use wxauth_core::Scope;
use wxauth_core::token::{ResultClaims, SigningKey, TOKEN_LIFETIME_SECONDS, sign};
use wxauth_tests::*;

const AUDIENCE: &str = "https://app.example.com";

fn repo() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap()
}

/// Where builds of the kits go (Go binary, Java classes): cargo's scratch folder.
fn scratch(kit: &str) -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR"))
        .join("client-kits")
        .join(kit);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// A kit's toolchain or library is missing: a failure under CI, else a visible skip.
fn missing(kit: &str, what: &str) -> Option<Command> {
    let reason = format!("the {kit} client kit needs {what}; scripts/clients.sh installs it");
    assert!(std::env::var_os("CI").is_none(), "{reason}");
    // Straight to stderr: libtest captures eprintln! of passing tests.
    let _ = writeln!(std::io::stderr(), "skipped: {reason}");
    None
}

fn runs(program: &str, arg: &str) -> bool {
    Command::new(program)
        .arg(arg)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

/// Runs a build step; a kit that does not build is a failure, never a skip.
fn build(step: &str, command: &mut Command) {
    let output = command.output().unwrap_or_else(|e| panic!("{step}: {e}"));
    assert!(
        output.status.success(),
        "{step} failed:\n{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
}

fn node() -> Option<Command> {
    let dir = repo().join("clients/verify/node");
    if !runs("node", "--version") {
        return missing("Node.js", "node");
    }
    if !dir.join("node_modules/jose/package.json").is_file() {
        return missing("Node.js", "jose in clients/verify/node/node_modules");
    }
    let mut command = Command::new("node");
    command.arg(dir.join("verify.mjs"));
    Some(command)
}

fn python() -> Option<Command> {
    let python = repo().join(".cache/clients/venv/bin/python");
    if !python.is_file() || !runs(python.to_str().unwrap(), "-cimport jwt") {
        return missing("Python", "PyJWT in .cache/clients/venv");
    }
    let mut command = Command::new(python);
    command.arg(repo().join("clients/verify/python/verify.py"));
    Some(command)
}

/// Debian's golang-github-golang-jwt-jwt-dev: the module github.com/golang-jwt/jwt/v4.
const GO_JWT: &str = "/usr/share/gocode/src/github.com/golang-jwt/jwt";

fn go() -> Option<Command> {
    if !runs("go", "version") {
        return missing("Go", "go (Debian: golang-go)");
    }
    if !Path::new(GO_JWT).join("go.mod").is_file() {
        return missing(
            "Go",
            "golang-jwt v4 (Debian: golang-github-golang-jwt-jwt-dev)",
        );
    }
    // verify.go as a user builds it, with the module taken from Debian's copy instead of
    // the module proxy (which these machines cannot reach).
    let dir = scratch("go");
    std::fs::copy(
        repo().join("clients/verify/go/verify.go"),
        dir.join("verify.go"),
    )
    .unwrap();
    std::fs::write(
        dir.join("go.mod"),
        format!(
            "module wxauth-verify\n\ngo 1.19\n\nrequire github.com/golang-jwt/jwt/v4 v4.4.3\n\n\
             replace github.com/golang-jwt/jwt/v4 => {GO_JWT}\n"
        ),
    )
    .unwrap();
    let cache = repo().join(".cache/clients");
    build(
        "go build (clients/verify/go)",
        Command::new("go")
            .args(["build", "-o", "verify", "."])
            .current_dir(&dir)
            .env("GO111MODULE", "on")
            .env("GOFLAGS", "-mod=mod -buildvcs=false")
            .env("GOPROXY", "off")
            .env("GOTOOLCHAIN", "local")
            .env("GOCACHE", cache.join("go-build"))
            .env("GOPATH", cache.join("gopath")),
    );
    Some(Command::new(dir.join("verify")))
}

/// Debian's libjackson2-databind-java (and what it depends on).
const JACKSON: [&str; 3] = [
    "/usr/share/java/jackson-databind.jar",
    "/usr/share/java/jackson-core.jar",
    "/usr/share/java/jackson-annotations.jar",
];

fn java() -> Option<Command> {
    if !runs("javac", "-version") || !runs("java", "-version") {
        return missing("Java", "a JDK (Debian: openjdk-17-jdk-headless)");
    }
    if !JACKSON.iter().all(|jar| Path::new(jar).is_file()) {
        return missing("Java", "Jackson (Debian: libjackson2-databind-java)");
    }
    let classes = scratch("java");
    let jars = JACKSON.join(":");
    let source = repo().join("clients/verify/java/Verify.java");
    let modified = |path: &Path| std::fs::metadata(path).and_then(|m| m.modified()).ok();
    // javac takes seconds: only when the source is newer than its class.
    if modified(&classes.join("Verify.class")) <= modified(&source) {
        build(
            "javac (clients/verify/java)",
            Command::new("javac")
                .args(["-Xlint:all", "-Werror", "-cp", &jars, "-d"])
                .arg(&classes)
                .arg(&source),
        );
    }
    let mut command = Command::new("java");
    command
        .arg("-cp")
        .arg(format!("{}:{jars}", classes.display()))
        .arg("Verify");
    Some(command)
}

/// One run of a verifier.
struct Case {
    name: &'static str,
    token: String,
    issuer: String,
    audience: String,
    /// `None`: must verify. `Some(words)`: must be refused with a reason naming one of them.
    refused_for: Option<&'static [&'static str]>,
}

fn payload_of(token: &str) -> serde_json::Value {
    let payload = token.split('.').nth(1).unwrap();
    serde_json::from_slice(&URL_SAFE_NO_PAD.decode(payload).unwrap()).unwrap()
}

fn b64(json: &str) -> String {
    URL_SAFE_NO_PAD.encode(json)
}

fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs()
        .try_into()
        .unwrap()
}

/// Logs in for real twice (a profile login with unionid, a silent one by a snapshot
/// visitor), then checks every case with `verifier`.
async fn check_kit(kit: &str, verifier: Option<Command>) {
    let Some(verifier) = verifier else { return };
    let started = std::time::Instant::now();
    let env = TestEnv::start_with(|s| s.simulator.bound_to_open_platform = true).await;
    env.sim.put_user(SimUser {
        nickname: "小明 & <b>Co</b> \"#1\"".into(),
        headimgurl: "https://thirdwx.qlogo.cn/mmopen/abc/132".into(),
        ..SimUser::named("bob")
    });
    env.sim.put_user(SimUser {
        snapshot: true,
        ..SimUser::named("snap")
    });
    let profile = result_params(
        &env.login("bob", "https://app.example.com/me", Scope::UserInfo, None)
            .await,
        false,
    );
    let snapshot = result_params(
        &env.login("snap", "https://app.example.com/", Scope::Base, None)
            .await,
        false,
    );
    let token = profile["token"].clone();
    let issuer = env.base_url();

    // What the gateway signed, read without any JWT library, and checked for what matters.
    let claims = payload_of(&token);
    assert_eq!(claims["sub"], env.sim.openid_for("bob"));
    assert_eq!(claims["unionid"], env.sim.unionid_for("bob"));
    assert_eq!(claims["nickname"], "小明 & <b>Co</b> \"#1\"");
    assert_eq!(claims["iss"], issuer.as_str());
    assert_eq!(claims["aud"], AUDIENCE);
    assert_eq!(payload_of(&snapshot["token"])["is_snapshotuser"], 1);
    let header: serde_json::Value = serde_json::from_slice(
        &URL_SAFE_NO_PAD
            .decode(token.split('.').next().unwrap())
            .unwrap(),
    )
    .unwrap();
    assert_eq!(header["typ"], wxauth_core::token::RESULT_TOKEN_TYPE);

    let key = SigningKey::new(SIGNING_KEY).unwrap();
    let as_claims: ResultClaims = serde_json::from_value(claims.clone()).unwrap();
    let signed_here = |exp: i64| {
        sign(
            &ResultClaims {
                iat: exp - TOKEN_LIFETIME_SECONDS,
                exp,
                ..as_claims.clone()
            },
            &key,
        )
    };
    let [header, payload, signature]: [&str; 3] =
        token.split('.').collect::<Vec<_>>().try_into().unwrap();
    // Another byte at the signature's start (the last character holds padding bits).
    let flipped = if signature.starts_with('A') { "B" } else { "A" };
    let other_sub = payload_of(&token)
        .as_object()
        .cloned()
        .map(|mut c| {
            c.insert("sub".into(), "oSOMEONE-ELSE".into());
            serde_json::Value::Object(c).to_string()
        })
        .unwrap();
    let none_header = b64(r#"{"alg":"none","typ":"JWT"}"#);
    let hs512 = jsonwebtoken::encode(
        &jsonwebtoken::Header::new(jsonwebtoken::Algorithm::HS512),
        &claims,
        &jsonwebtoken::EncodingKey::from_secret(SIGNING_KEY.as_bytes()),
    )
    .unwrap();
    // The token's own claims, correctly signed, under another header: all that differs
    // from a result token is its `typ`.
    let with_typ = |typ: Option<&str>| {
        jsonwebtoken::encode(
            &jsonwebtoken::Header {
                typ: typ.map(str::to_owned),
                ..jsonwebtoken::Header::new(jsonwebtoken::Algorithm::HS256)
            },
            &claims,
            &jsonwebtoken::EncodingKey::from_secret(SIGNING_KEY.as_bytes()),
        )
        .unwrap()
    };

    let case = |name, token: String, refused_for| Case {
        name,
        token,
        issuer: issuer.clone(),
        audience: AUDIENCE.to_owned(),
        refused_for,
    };
    const SIGNATURE: &[&str] = &["signature"];
    const ALGORITHM: &[&str] = &["alg", "signing method"];
    let cases = vec![
        case("the profile login's token", token.clone(), None),
        case(
            "the snapshot login's token",
            snapshot["token"].clone(),
            None,
        ),
        case(
            "a token signed here, unexpired",
            signed_here(now() + 60),
            None,
        ),
        // The gateway's clock 20 s ahead of the verifier's: iat is in the future.
        case(
            "a token issued 20 s ahead of this clock",
            signed_here(now() + 20 + TOKEN_LIFETIME_SECONDS),
            None,
        ),
        case(
            "a tampered signature",
            format!("{header}.{payload}.{flipped}{}", &signature[1..]),
            Some(SIGNATURE),
        ),
        case(
            "a tampered payload (another sub)",
            format!("{header}.{}.{signature}", b64(&other_sub)),
            Some(SIGNATURE),
        ),
        Case {
            audience: "https://evil.example.com".into(),
            ..case("a wrong audience", token.clone(), Some(&["aud"]))
        },
        Case {
            issuer: "https://evil.example.com".into(),
            ..case("a wrong issuer", token.clone(), Some(&["iss"]))
        },
        // Past the kits' 30 s of clock leeway.
        case(
            "an expired token",
            signed_here(now() - 60),
            Some(&["expired"]),
        ),
        case(
            "alg none without a signature",
            format!("{none_header}.{payload}."),
            Some(ALGORITHM),
        ),
        case(
            "alg none with the real signature",
            format!("{none_header}.{payload}.{signature}"),
            Some(ALGORITHM),
        ),
        case("HS512 with the right key", hs512, Some(ALGORITHM)),
        case(
            "typ JWT, signed with the right key",
            with_typ(Some("JWT")),
            Some(&["typ"]),
        ),
        case(
            "no typ, signed with the right key",
            with_typ(None),
            Some(&["typ"]),
        ),
    ];

    // All cases at once: each is its own process (a JVM takes half a second to start).
    let running: Vec<_> = cases
        .iter()
        .map(|case| {
            let mut command = Command::new(verifier.get_program());
            command
                .args(verifier.get_args())
                .args([&case.token, &case.issuer, &case.audience])
                .env("TOKEN_SIGNING_KEY", SIGNING_KEY)
                .stdin(Stdio::null())
                .stdout(Stdio::piped())
                .stderr(Stdio::piped());
            command
                .spawn()
                .unwrap_or_else(|e| panic!("{kit}: {}: {e}", case.name))
        })
        .collect();
    for (case, child) in cases.iter().zip(running) {
        let output = child.wait_with_output().unwrap();
        let stdout = String::from_utf8(output.stdout).unwrap();
        let stderr = String::from_utf8_lossy(&output.stderr);
        let what = format!(
            "{kit}, {}: exit {:?}\nstdout: {stdout}\nstderr: {stderr}",
            case.name,
            output.status.code()
        );
        match case.refused_for {
            None => {
                assert_eq!(output.status.code(), Some(0), "{what}");
                let printed: serde_json::Value = serde_json::from_str(stdout.trim())
                    .unwrap_or_else(|e| panic!("{what}\nnot JSON: {e}"));
                assert_eq!(printed, payload_of(&case.token), "{what}");
            }
            Some(reasons) => {
                assert_eq!(output.status.code(), Some(1), "{what}");
                assert!(stdout.is_empty(), "{what}");
                let stderr = stderr.to_lowercase();
                assert!(stderr.starts_with("token refused: "), "{what}");
                assert!(
                    reasons.iter().any(|r| stderr.contains(r)),
                    "{what}\nthe reason names none of {reasons:?}"
                );
            }
        }
    }
    let _ = writeln!(
        std::io::stderr(),
        "{kit} client kit: {} cases in {:.1?} (two logins included)",
        cases.len(),
        started.elapsed()
    );
}

#[tokio::test]
async fn node_jose_kit_verifies_real_tokens_and_refuses_bad_ones() {
    check_kit("Node.js (jose)", node()).await;
}

#[tokio::test]
async fn python_pyjwt_kit_verifies_real_tokens_and_refuses_bad_ones() {
    check_kit("Python (PyJWT)", python()).await;
}

#[tokio::test]
async fn go_golang_jwt_kit_verifies_real_tokens_and_refuses_bad_ones() {
    check_kit("Go (golang-jwt)", go()).await;
}

#[tokio::test]
async fn java_jdk_hmac_kit_verifies_real_tokens_and_refuses_bad_ones() {
    check_kit("Java (JDK HMAC + Jackson)", java()).await;
}
