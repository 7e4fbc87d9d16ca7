//! Dependencies point one way: no import cycle between the crate's top-level modules
//! (`cli` → `daemon`/`scan` → `notify`/`store`/`report` → `diff` → `sources` → `model`),
//! nor between sibling files of one folder. A child's use of what its own `mod.rs`
//! defines is the module's interface, not a cycle, and is not counted.
//!
//! Read from the source: every `use crate::…` / `use super::…` tree (braces
//! expanded) and every `crate::a::b` path written inline.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// A module path: `["diff", "rules"]`; the crate root is `[]`.
type Module = Vec<String>;

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

fn module_of(src: &Path, file: &Path) -> Module {
    let rel = file.strip_prefix(src).unwrap().with_extension("");
    let mut parts: Module = rel
        .iter()
        .map(|p| p.to_string_lossy().into_owned())
        .collect();
    if matches!(
        parts.last().map(String::as_str),
        Some("mod" | "lib" | "main")
    ) {
        parts.pop();
    }
    parts
}

/// The paths a `use` tree names: `a::{b, c::{d, e}}` → `a::b`, `a::c::d`, `a::c::e`.
fn expand(tree: &str) -> Vec<String> {
    let tree = tree.trim();
    let Some(open) = tree.find('{') else {
        let path = tree.split(" as ").next().unwrap().trim();
        return vec![path.trim_end_matches("::").to_string()];
    };
    let prefix = &tree[..open];
    let inner = &tree[open + 1..tree.rfind('}').unwrap()];
    let mut parts = Vec::new();
    let (mut depth, mut start) = (0, 0);
    for (i, c) in inner.char_indices() {
        match c {
            '{' => depth += 1,
            '}' => depth -= 1,
            ',' if depth == 0 => {
                parts.push(&inner[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    parts.push(&inner[start..]);
    parts
        .into_iter()
        .filter(|p| !p.trim().is_empty())
        .flat_map(expand)
        .map(|p| match p.as_str() {
            "self" => prefix.trim_end_matches("::").to_string(),
            _ => format!("{prefix}{p}"),
        })
        .collect()
}

/// The module paths `file` (module `me`) refers to, made absolute.
fn references(me: &Module, text: &str) -> Vec<Module> {
    // `super` is the parent module, for a `mod.rs` (whose module is its folder) as
    // for any other file. Test modules at a file's end are left out.
    let parent: Module = me[..me.len().saturating_sub(1)].to_vec();
    let text: String = text
        .lines()
        .take_while(|l| !l.starts_with("#[cfg(test)]"))
        .collect::<Vec<_>>()
        .join("\n");
    let mut found = Vec::new();
    // `use` items start a line (after any `pub`); they may span lines up to `;`.
    let mut rest = text.as_str();
    while let Some(at) = next_use(rest) {
        let after = &rest[at..];
        let end = after.find(';').unwrap_or(after.len());
        for path in expand(&after[..end]) {
            let segments: Vec<&str> = path.split("::").collect();
            match segments.first() {
                Some(&"crate") => found.push(segments[1..].iter().map(|s| s.to_string()).collect()),
                Some(&"super") => {
                    let mut m = parent.clone();
                    m.extend(segments[1..].iter().map(|s| s.to_string()));
                    found.push(m);
                }
                _ => {}
            }
        }
        rest = &after[end..];
    }
    for (at, _) in text.match_indices("crate::") {
        let path: String = text[at + 7..]
            .chars()
            .take_while(|c| c.is_alphanumeric() || *c == '_' || *c == ':')
            .collect();
        found.push(
            path.split("::")
                .filter(|s| !s.is_empty())
                .map(str::to_string)
                .collect(),
        );
    }
    found
}

/// Where the tree of the next `use` item in `text` starts.
fn next_use(text: &str) -> Option<usize> {
    let mut offset = 0;
    for line in text.split_inclusive('\n') {
        let trimmed = line.trim_start();
        let item = trimmed
            .strip_prefix("pub(crate) ")
            .or_else(|| trimmed.strip_prefix("pub "))
            .unwrap_or(trimmed);
        if let Some(tree) = item.strip_prefix("use ") {
            return Some(offset + line.len() - tree.len());
        }
        offset += line.len();
    }
    None
}

/// The module a path lands in: its longest prefix that is a file of the crate.
fn resolve(modules: &BTreeSet<Module>, path: &Module) -> Option<Module> {
    (1..=path.len())
        .rev()
        .map(|n| path[..n].to_vec())
        .find(|m| modules.contains(m))
}

/// Edges between units, where a unit is `unit_of(module)`; edges inside one unit
/// and from a child to its own parent module are left out.
fn graph(unit_of: impl Fn(&Module) -> Option<Module>) -> BTreeMap<Module, BTreeSet<Module>> {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    rust_files(&src, &mut files);
    let modules: BTreeSet<Module> = files.iter().map(|f| module_of(&src, f)).collect();
    let mut edges: BTreeMap<Module, BTreeSet<Module>> = BTreeMap::new();
    for file in &files {
        let me = module_of(&src, file);
        let text = std::fs::read_to_string(file).unwrap();
        for path in references(&me, &text) {
            let Some(target) = resolve(&modules, &path) else {
                continue;
            };
            if target.len() < me.len() && me.starts_with(&target) {
                continue; // a child using its own parent's interface
            }
            if let (Some(from), Some(to)) = (unit_of(&me), unit_of(&target))
                && from != to
            {
                edges.entry(from).or_default().insert(to);
            }
        }
    }
    edges
}

/// Every cycle's members (strongly connected components of more than one unit).
fn cycles(edges: &BTreeMap<Module, BTreeSet<Module>>) -> Vec<Vec<String>> {
    let nodes: BTreeSet<&Module> = edges.keys().chain(edges.values().flatten()).collect();
    let reaches = |from: &Module| {
        let mut seen = BTreeSet::new();
        let mut stack = vec![from.clone()];
        while let Some(m) = stack.pop() {
            for next in edges.get(&m).into_iter().flatten() {
                if seen.insert(next.clone()) {
                    stack.push(next.clone());
                }
            }
        }
        seen
    };
    let reach: BTreeMap<&Module, BTreeSet<Module>> =
        nodes.iter().map(|n| (*n, reaches(n))).collect();
    let mut found: BTreeSet<Vec<String>> = BTreeSet::new();
    for a in &nodes {
        let mut component: Vec<String> = nodes
            .iter()
            .filter(|b| reach[*a].contains(**b) && reach[**b].contains(*a))
            .map(|b| b.join("::"))
            .collect();
        if component.len() > 1 {
            component.sort();
            found.insert(component);
        }
    }
    found.into_iter().collect()
}

#[test]
fn top_level_modules_import_one_way() {
    let edges = graph(|m| m.first().map(|top| vec![top.clone()]));
    assert!(
        edges.contains_key(&vec!["cli".to_string()]),
        "the imports were read"
    );
    assert_eq!(cycles(&edges), Vec::<Vec<String>>::new(), "{edges:#?}");
}

#[test]
fn sibling_files_import_one_way() {
    // Each folder's files, compared among themselves (a unit per file or sub-folder);
    // the crate root's are the top-level modules, checked above.
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    rust_files(&src, &mut files);
    let folders: BTreeSet<Module> = files
        .iter()
        .map(|f| module_of(&src, f))
        .filter(|m| m.len() > 1)
        .map(|m| m[..m.len() - 1].to_vec())
        .collect();
    assert!(folders.contains(&vec!["diff".to_string()]), "{folders:?}");
    let mut all = Vec::new();
    for folder in folders {
        let edges = graph(|m| {
            (m.len() > folder.len() && m.starts_with(&folder)).then(|| m[..=folder.len()].to_vec())
        });
        all.extend(cycles(&edges));
    }
    assert_eq!(all, Vec::<Vec<String>>::new());
}

#[test]
fn use_trees_expand() {
    assert_eq!(
        expand("crate::model::{Finding, rule::{Rule, Peer as P}, self}"),
        [
            "crate::model::Finding",
            "crate::model::rule::Rule",
            "crate::model::rule::Peer",
            "crate::model"
        ]
    );
}
