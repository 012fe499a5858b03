//! No cycles between modules: the dependency graph is computed from the source (every
//! `crate::a` path, and `super::b`/`crate::a::b` between sibling submodules) and must be a DAG,
//! both between top-level modules and between the submodules of each directory module.
//! A cycle means two modules share a type that belongs to neither (or to one of them only):
//! move it instead of allowing the cycle.
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

type Graph = BTreeMap<String, BTreeSet<String>>;

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).expect("read src") {
        let path = entry.expect("entry").path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// The code of a file without its unit tests (tests may reach anywhere).
fn code_of(path: &Path) -> String {
    let text = std::fs::read_to_string(path).expect("read");
    if path.file_name().is_some_and(|n| n == "tests.rs") {
        return String::new();
    }
    match text.find("#[cfg(test)]\nmod tests") {
        Some(i) => text[..i].to_string(),
        None => text,
    }
}

/// Every first segment after `prefix` (`crate::`, `super::`, `crate::proxy::`), grouped
/// imports (`crate::{a, b::c}`) included.
fn targets(code: &str, prefix: &str) -> BTreeSet<String> {
    let single = regex::Regex::new(&format!(r"\b{}(\w+)", regex::escape(prefix))).expect("re");
    let group = regex::Regex::new(&format!(r"\b{}\{{([^}}]*)", regex::escape(prefix))).expect("re");
    let mut out: BTreeSet<String> = single
        .captures_iter(code)
        .map(|c| c[1].to_string())
        .collect();
    for c in group.captures_iter(code) {
        for part in c[1].split(',') {
            if let Some(first) = part.trim().split("::").next().filter(|s| !s.is_empty()) {
                out.insert(first.to_string());
            }
        }
    }
    out
}

/// A cycle in `graph`, as the list of its nodes, if there is one.
fn find_cycle(graph: &Graph) -> Option<Vec<String>> {
    fn visit(
        node: &str,
        graph: &Graph,
        state: &mut BTreeMap<String, u8>,
        path: &mut Vec<String>,
    ) -> Option<Vec<String>> {
        state.insert(node.to_string(), 1);
        path.push(node.to_string());
        for next in graph.get(node).into_iter().flatten() {
            match state.get(next.as_str()) {
                Some(1) => {
                    let start = path.iter().position(|n| n == next).expect("on path");
                    let mut cycle = path[start..].to_vec();
                    cycle.push(next.clone());
                    return Some(cycle);
                }
                Some(_) => {}
                None => {
                    if let Some(c) = visit(next, graph, state, path) {
                        return Some(c);
                    }
                }
            }
        }
        path.pop();
        state.insert(node.to_string(), 2);
        None
    }
    let mut state = BTreeMap::new();
    for node in graph.keys() {
        if !state.contains_key(node.as_str()) {
            let mut path = Vec::new();
            if let Some(c) = visit(node, graph, &mut state, &mut path) {
                return Some(c);
            }
        }
    }
    None
}

fn src() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("src")
}

/// Top-level module of a file under src/ (`github` for src/github/http.rs).
fn top_of(rel: &Path) -> String {
    let first = rel.components().next().expect("component");
    first
        .as_os_str()
        .to_string_lossy()
        .trim_end_matches(".rs")
        .to_string()
}

fn top_level_graph() -> Graph {
    let mut files = Vec::new();
    rust_files(&src(), &mut files);
    let tops: BTreeSet<String> = files
        .iter()
        .map(|f| top_of(f.strip_prefix(src()).expect("under src")))
        .filter(|t| t != "lib" && t != "main")
        .collect();
    let mut graph = Graph::new();
    for file in &files {
        let from = top_of(file.strip_prefix(src()).expect("under src"));
        if !tops.contains(&from) {
            continue;
        }
        for to in targets(&code_of(file), "crate::") {
            if to != from && tops.contains(&to) {
                graph.entry(from.clone()).or_default().insert(to);
            }
        }
    }
    graph
}

/// For each directory module, the graph between its direct submodules.
fn sibling_graphs() -> BTreeMap<String, Graph> {
    let mut files = Vec::new();
    rust_files(&src(), &mut files);
    let mut dirs: BTreeSet<PathBuf> = files
        .iter()
        .filter_map(|f| f.parent().map(Path::to_path_buf))
        .collect();
    dirs.remove(&src());
    let mut out = BTreeMap::new();
    for dir in dirs {
        let module = dir
            .strip_prefix(src())
            .expect("under src")
            .to_string_lossy()
            .replace('/', "::");
        let mut members: BTreeMap<String, Vec<PathBuf>> = BTreeMap::new();
        for file in &files {
            let Ok(rel) = file.strip_prefix(&dir) else {
                continue;
            };
            let name = top_of(rel);
            if name == "mod" || name == "tests" {
                continue;
            }
            members.entry(name).or_default().push(file.clone());
        }
        let mut graph = Graph::new();
        for (name, paths) in &members {
            for path in paths {
                let code = code_of(path);
                // `super::x` from a direct child, `crate::dir::x` from anywhere inside.
                let mut reached = targets(&code, &format!("crate::{module}::"));
                if path.parent() == Some(dir.as_path()) {
                    reached.extend(targets(&code, "super::"));
                }
                for to in reached {
                    if &to != name && members.contains_key(&to) {
                        graph.entry(name.clone()).or_default().insert(to);
                    }
                }
            }
        }
        out.insert(module, graph);
    }
    out
}

#[test]
fn top_level_modules_have_no_cycles() {
    let graph = top_level_graph();
    assert!(
        graph.contains_key("github") && graph.values().any(|to| to.contains("redact")),
        "the graph was not read: {graph:?}"
    );
    if let Some(cycle) = find_cycle(&graph) {
        panic!("module cycle: {}", cycle.join(" -> "));
    }
}

#[test]
fn submodules_have_no_cycles_among_siblings() {
    let graphs = sibling_graphs();
    assert!(
        graphs["workspace"]
            .get("push")
            .is_some_and(|to| to.contains("git")),
        "the graph was not read: {:?}",
        graphs["workspace"]
    );
    // The proxy's upstream and credential types sit below the three modules that share them.
    let proxy = &graphs["proxy"];
    for user in ["builtin", "config", "providers"] {
        assert!(
            proxy.get(user).is_some_and(|to| to.contains("upstream")),
            "{user} should read the upstream types from proxy::upstream: {proxy:?}"
        );
    }
    assert!(
        proxy.get("upstream").is_none_or(|to| {
            !to.iter()
                .any(|t| ["builtin", "config", "providers"].contains(&t.as_str()))
        }),
        "proxy::upstream must stay a leaf below builtin, config and providers: {proxy:?}"
    );
    for (module, graph) in graphs {
        if let Some(cycle) = find_cycle(&graph) {
            panic!("cycle in {module}: {}", cycle.join(" -> "));
        }
    }
}

#[test]
fn the_cycle_finder_finds_cycles() {
    let mut g = Graph::new();
    g.entry("a".into()).or_default().insert("b".into());
    g.entry("b".into()).or_default().insert("c".into());
    assert_eq!(find_cycle(&g), None);
    g.entry("c".into()).or_default().insert("a".into());
    assert_eq!(
        find_cycle(&g),
        Some(vec!["a".into(), "b".into(), "c".into(), "a".into()])
    );
    assert_eq!(
        targets(
            "use crate::{github::X, redact};\nlet _ = crate::net::client;",
            "crate::"
        ),
        ["github", "net", "redact"]
            .into_iter()
            .map(String::from)
            .collect()
    );
}
