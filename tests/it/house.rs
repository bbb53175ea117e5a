//! The code's own structure, held to what docs/architecture.md promises: in `shared/src`
//! and `local/src` no file imports, through any chain of `use` lines and `crate::` /
//! `super::` paths, a file that imports it back (a request's path runs one way), and no
//! file of the core is over 400 lines.
//!
//! A path is read as the file it names: `crate::a::b::C` is `a/b.rs` or `a/b/mod.rs` if
//! that exists, else `a.rs` or `a/mod.rs`. A `mod` line is not an import: a folder's
//! `mod.rs` declaring its files is how Rust lays them out.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

const MAX_CORE_FILE_LINES: usize = 400;

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .unwrap()
        .to_owned()
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// The module path of a file under `src` (`lib.rs` and `main.rs` are the crate root).
fn module_of(src: &Path, file: &Path) -> Vec<String> {
    let relative = file.strip_prefix(src).unwrap().with_extension("");
    let mut parts: Vec<String> = relative
        .components()
        .map(|c| c.as_os_str().to_str().unwrap().to_owned())
        .collect();
    if matches!(
        parts.last().map(String::as_str),
        Some("mod" | "lib" | "main")
    ) {
        parts.pop();
    }
    parts
}

/// The file a module path names: the longest prefix of it that is a file.
fn file_of(src: &Path, path: &[String]) -> Option<PathBuf> {
    (1..=path.len()).rev().find_map(|n| {
        let dir = path[..n].iter().fold(src.to_owned(), |d, p| d.join(p));
        [dir.with_extension("rs"), dir.join("mod.rs")]
            .into_iter()
            .find(|f| f.is_file())
    })
}

/// Every path a `use` line or an inline `crate::`/`super::` path names, from `crate`.
fn named_paths(text: &str, module: &[String]) -> Vec<Vec<String>> {
    let mut found = Vec::new();
    let code: String = text
        .lines()
        .map(|l| l.split("//").next().unwrap())
        .collect::<Vec<_>>()
        .join("\n");
    for (start, _) in code
        .match_indices("crate::")
        .chain(code.match_indices("super::"))
    {
        if code[..start]
            .chars()
            .last()
            .is_some_and(|c| c.is_alphanumeric() || c == '_' || c == ':')
        {
            continue;
        }
        let rest = &code[start..];
        let (base, rest) = if let Some(r) = rest.strip_prefix("crate::") {
            (Vec::new(), r)
        } else {
            // Each `super` is one module up (a `mod.rs` is its folder's module).
            let mut base = module.to_vec();
            let mut r = rest;
            while let Some(after) = r.strip_prefix("super::") {
                base.pop();
                r = after;
            }
            (base, r)
        };
        expand(&base, rest, &mut found);
    }
    found
}

/// `a::b::{c, d::e}` under `base`: every path it names.
fn expand(base: &[String], text: &str, out: &mut Vec<Vec<String>>) {
    let mut path = base.to_vec();
    let mut rest = text;
    loop {
        let name: String = rest
            .chars()
            .take_while(|c| c.is_alphanumeric() || *c == '_')
            .collect();
        if name.is_empty() {
            if let Some(group) = rest.strip_prefix('{') {
                for part in top_level_parts(group) {
                    expand(&path, part.trim(), out);
                }
                return;
            }
            break;
        }
        rest = &rest[name.len()..];
        if name != "self" {
            path.push(name);
        }
        match rest.strip_prefix("::") {
            Some(r) => rest = r,
            None => break,
        }
    }
    if !path.is_empty() {
        out.push(path);
    }
}

/// The comma-separated parts of a `{…}` group, up to its closing brace.
fn top_level_parts(group: &str) -> Vec<&str> {
    let mut parts = Vec::new();
    let (mut depth, mut start) = (0usize, 0usize);
    for (i, c) in group.char_indices() {
        match c {
            '{' => depth += 1,
            '}' if depth == 0 => {
                parts.push(&group[start..i]);
                return parts;
            }
            '}' => depth -= 1,
            ',' if depth == 0 => {
                parts.push(&group[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    parts
}

/// File -> the files it imports, within one crate's `src`.
fn imports(src: &Path) -> BTreeMap<PathBuf, BTreeSet<PathBuf>> {
    let mut files = Vec::new();
    rust_files(src, &mut files);
    let mut graph = BTreeMap::new();
    for file in &files {
        let text = std::fs::read_to_string(file).unwrap();
        // Tests inside a file import their own file's items; they are not the house.
        let text = text.split("#[cfg(test)]").next().unwrap();
        let module = module_of(src, file);
        let targets: BTreeSet<PathBuf> = named_paths(text, &module)
            .iter()
            .filter_map(|path| file_of(src, path))
            .filter(|target| target != file)
            .collect();
        graph.insert(file.clone(), targets);
    }
    graph
}

/// A loop of imports, if there is one.
fn a_loop(graph: &BTreeMap<PathBuf, BTreeSet<PathBuf>>) -> Option<Vec<PathBuf>> {
    fn visit(
        node: &PathBuf,
        graph: &BTreeMap<PathBuf, BTreeSet<PathBuf>>,
        done: &mut BTreeSet<PathBuf>,
        stack: &mut Vec<PathBuf>,
    ) -> Option<Vec<PathBuf>> {
        if let Some(at) = stack.iter().position(|n| n == node) {
            let mut cycle = stack[at..].to_vec();
            cycle.push(node.clone());
            return Some(cycle);
        }
        if !done.insert(node.clone()) {
            return None;
        }
        stack.push(node.clone());
        for next in graph.get(node).into_iter().flatten() {
            if let Some(cycle) = visit(next, graph, done, stack) {
                return Some(cycle);
            }
        }
        stack.pop();
        None
    }
    let mut done = BTreeSet::new();
    graph
        .keys()
        .find_map(|node| visit(node, graph, &mut done, &mut Vec::new()))
}

#[test]
fn no_file_of_the_core_or_the_local_server_imports_one_that_imports_it_back() {
    for krate in ["shared", "local"] {
        let src = root().join(krate).join("src");
        let graph = imports(&src);
        assert!(graph.len() > 10, "{krate}: only {} files read", graph.len());
        if let Some(cycle) = a_loop(&graph) {
            let names: Vec<String> = cycle
                .iter()
                .map(|f| f.strip_prefix(root()).unwrap().display().to_string())
                .collect();
            panic!("{krate} has an import loop: {}", names.join(" -> "));
        }
    }
}

#[test]
fn the_reader_finds_the_imports_a_loop_is_made_of() {
    // The reader itself, on known text: if it missed paths, the test above could not fail.
    let module = vec!["callback".to_owned(), "repeat".to_owned()];
    let text = "use crate::login::{deadline::CallbackDeadline, outcome::{Outcome, ResultFields}};\n\
                use super::recheck::restartable;\n\
                fn f() { crate::store::StoreError::x(); } // crate::not::this\n";
    let paths: BTreeSet<String> = named_paths(text, &module)
        .into_iter()
        .map(|p| p.join("::"))
        .collect();
    assert_eq!(
        paths,
        BTreeSet::from([
            "login::deadline::CallbackDeadline".to_owned(),
            "login::outcome::Outcome".to_owned(),
            "login::outcome::ResultFields".to_owned(),
            "callback::recheck::restartable".to_owned(),
            "store::StoreError::x".to_owned(),
        ])
    );
    let graph = BTreeMap::from([
        (PathBuf::from("a"), BTreeSet::from([PathBuf::from("b")])),
        (PathBuf::from("b"), BTreeSet::from([PathBuf::from("c")])),
        (PathBuf::from("c"), BTreeSet::from([PathBuf::from("a")])),
    ]);
    assert_eq!(a_loop(&graph).map(|c| c.len()), Some(4));
    let graph = BTreeMap::from([
        (PathBuf::from("a"), BTreeSet::from([PathBuf::from("b")])),
        (PathBuf::from("b"), BTreeSet::new()),
    ]);
    assert_eq!(a_loop(&graph), None);
}

#[test]
fn no_file_of_the_core_is_over_400_lines() {
    let mut files = Vec::new();
    rust_files(&root().join("shared/src"), &mut files);
    let long: Vec<String> = files
        .iter()
        .filter_map(|f| {
            let lines = std::fs::read_to_string(f).unwrap().lines().count();
            (lines > MAX_CORE_FILE_LINES).then(|| format!("{} ({lines})", f.display()))
        })
        .collect();
    assert!(
        long.is_empty(),
        "over {MAX_CORE_FILE_LINES} lines: {long:?}"
    );
}
