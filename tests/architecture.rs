//! The shape of the code, checked: data flows one way between the top-level modules of
//! `src/` (no module reaches another that reaches back to it), and files stay small. A change
//! that breaks either fails here with the files involved.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// The longest a file under `src/` may be, in lines.
const MAX_LINES: usize = 600;

fn sources(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).expect("src/ is readable") {
        let path = entry.expect("src/ is readable").path();
        if path.is_dir() {
            sources(&path, out);
        } else if path.extension().is_some_and(|x| x == "rs") {
            out.push(path);
        }
    }
}

fn src() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("src")
}

/// Whether a file is test code only (its imports do not make the architecture).
fn is_test_file(rel: &Path) -> bool {
    rel.components().any(|c| c.as_os_str() == "tests")
        || rel
            .file_name()
            .is_some_and(|n| n == "tests.rs" || n == "test_support.rs")
}

/// The top-level modules `text` (of top-level module `own`) names as `crate::NAME`, code
/// only: comments and the trailing `#[cfg(test)] mod tests { ... }` are skipped.
fn imports(own: &str, text: &str) -> BTreeSet<String> {
    let code = match text.find("#[cfg(test)]\nmod tests {") {
        Some(at) => &text[..at],
        None => text,
    };
    let mut found = BTreeSet::new();
    for line in code.lines().filter(|l| !l.trim_start().starts_with("//")) {
        let mut rest = line;
        while let Some(at) = rest.find("crate::") {
            rest = &rest[at + "crate::".len()..];
            let name: String = rest
                .chars()
                .take_while(|c| c.is_ascii_lowercase() || *c == '_')
                .collect();
            if !name.is_empty() && name != own {
                found.insert(name);
            }
        }
    }
    found
}

/// Module -> the modules it imports, with a file that does each.
fn graph() -> BTreeMap<String, BTreeMap<String, PathBuf>> {
    let root = src();
    let mut files = Vec::new();
    sources(&root, &mut files);
    let mut graph: BTreeMap<String, BTreeMap<String, PathBuf>> = BTreeMap::new();
    for file in files {
        let rel = file.strip_prefix(&root).expect("under src/").to_path_buf();
        if is_test_file(&rel) || rel == Path::new("lib.rs") || rel == Path::new("main.rs") {
            continue;
        }
        let first = rel.components().next().expect("a path").as_os_str();
        let own = first.to_string_lossy().trim_end_matches(".rs").to_string();
        let text = std::fs::read_to_string(&file).expect("a readable source file");
        let edges = graph.entry(own.clone()).or_default();
        for to in imports(&own, &text) {
            edges.entry(to).or_insert_with(|| rel.clone());
        }
    }
    graph
}

/// A cycle through `start`, if any: the modules in order.
fn cycle_from(
    graph: &BTreeMap<String, BTreeMap<String, PathBuf>>,
    start: &str,
) -> Option<Vec<String>> {
    fn walk(
        graph: &BTreeMap<String, BTreeMap<String, PathBuf>>,
        start: &str,
        at: &str,
        path: &mut Vec<String>,
        seen: &mut BTreeSet<String>,
    ) -> bool {
        for next in graph.get(at).into_iter().flat_map(|e| e.keys()) {
            if next == start {
                return true;
            }
            if seen.insert(next.clone()) {
                path.push(next.clone());
                if walk(graph, start, next, path, seen) {
                    return true;
                }
                path.pop();
            }
        }
        false
    }
    let mut path = vec![start.to_string()];
    let mut seen = BTreeSet::new();
    walk(graph, start, start, &mut path, &mut seen).then_some(path)
}

#[test]
fn no_import_cycle_between_top_level_modules() {
    let graph = graph();
    assert!(graph.contains_key("plugin") && graph.contains_key("server"));
    let mut cycles = Vec::new();
    for module in graph.keys() {
        if let Some(cycle) = cycle_from(&graph, module) {
            let mut hops = Vec::new();
            for pair in cycle.windows(2).chain(std::iter::once(
                &[cycle[cycle.len() - 1].clone(), cycle[0].clone()][..],
            )) {
                let file = &graph[&pair[0]][&pair[1]];
                hops.push(format!("{} -> {} ({})", pair[0], pair[1], file.display()));
            }
            cycles.push(hops.join(", "));
        }
    }
    assert!(cycles.is_empty(), "import cycles:\n{}", cycles.join("\n"));
}

#[test]
fn the_cycle_finder_finds_a_cycle() {
    let mut graph: BTreeMap<String, BTreeMap<String, PathBuf>> = BTreeMap::new();
    let edge = |g: &mut BTreeMap<String, BTreeMap<String, PathBuf>>, a: &str, b: &str| {
        g.entry(a.into())
            .or_default()
            .insert(b.into(), PathBuf::from("x.rs"));
    };
    edge(&mut graph, "a", "b");
    edge(&mut graph, "b", "c");
    assert_eq!(cycle_from(&graph, "a"), None);
    edge(&mut graph, "c", "a");
    assert_eq!(
        cycle_from(&graph, "a"),
        Some(vec!["a".into(), "b".into(), "c".into()])
    );
    let text = "use crate::server::x;\n// crate::run in a comment\nfn f() { crate::dns::y(); }\n#[cfg(test)]\nmod tests {\n use crate::run;\n}\n";
    assert_eq!(
        imports("plugin", text),
        BTreeSet::from(["dns".to_string(), "server".to_string()])
    );
}

#[test]
fn no_source_file_is_longer_than_the_limit() {
    let root = src();
    let mut files = Vec::new();
    sources(&root, &mut files);
    let mut long: Vec<String> = files
        .iter()
        .filter_map(|f| {
            let lines = std::fs::read_to_string(f).ok()?.lines().count();
            (lines > MAX_LINES).then(|| {
                format!(
                    "{} ({lines} lines)",
                    f.strip_prefix(&root).unwrap_or(f).display()
                )
            })
        })
        .collect();
    long.sort();
    assert!(
        long.is_empty(),
        "files over {MAX_LINES} lines (split them by concern):\n{}",
        long.join("\n")
    );
}
