//! Every function is a cargo-lambda build of one of the workspace's six binaries, for
//! arm64 on provided.al2023, and scripts/lambda-build.sh builds each of them.

use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;

use wxauth_tests::template::{self, Value, functions, property, resources, root};

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

#[test]
fn every_function_is_an_arm64_cargo_lambda_build_of_a_workspace_binary() {
    let t = template::load();
    let binaries = workspace_binaries();
    let functions = functions(&t);
    assert_eq!(
        functions.values().cloned().collect::<BTreeSet<_>>(),
        wxauth_lambda::functions::FUNCTIONS
            .iter()
            .map(|f| f.name.to_owned())
            .collect::<BTreeSet<_>>(),
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
    // scripts/lambda-build.sh builds (and size-checks) every function crate
    // (functions/<name>/src/main.rs): those are exactly the template's binaries.
    let script = std::fs::read_to_string(root().join("scripts/lambda-build.sh")).unwrap();
    assert!(
        script
            .lines()
            .any(|l| l.starts_with("mapfile -t FUNCTIONS < <(for main in functions/*/src/main.rs;")),
        "scripts/lambda-build.sh builds the crates under functions/"
    );
    let crates: BTreeSet<String> = std::fs::read_dir(root().join("functions"))
        .unwrap()
        .map(|entry| entry.unwrap().path())
        .filter(|dir| dir.join("src/main.rs").is_file())
        .map(|dir| dir.file_name().unwrap().to_str().unwrap().to_owned())
        .collect();
    assert_eq!(
        crates,
        functions.values().cloned().collect::<BTreeSet<_>>(),
        "scripts/lambda-build.sh"
    );
}
