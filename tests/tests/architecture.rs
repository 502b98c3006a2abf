//! The shape ARCHITECTURE.md promises, read from the code itself: no import circle between
//! modules, no function outside tests over 120 lines and at most three over 80.
//!
//! A circle is counted between siblings: modules of one folder (their own submodules
//! folded in) that reach each other through `use crate::…`, `super::…` or a path in the
//! code. A parent and its own children may use each other (a `mod.rs` holds what its
//! children share); siblings may not, or one room's job leaks into the next.
#![allow(clippy::unwrap_used, clippy::string_slice)]

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

type Module = Vec<String>;

/// The repository; `HAVEN_SOURCE_ROOT` points the checks at another checkout (to see
/// them fail on a tree that has the circles).
fn root() -> PathBuf {
    std::env::var_os("HAVEN_SOURCE_ROOT")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            Path::new(env!("CARGO_MANIFEST_DIR"))
                .parent()
                .unwrap()
                .to_path_buf()
        })
}

/// Every source file of a crate with its module path (`service/mod.rs` is `service`).
fn modules(src: &Path) -> BTreeMap<Module, String> {
    fn walk(dir: &Path, src: &Path, out: &mut BTreeMap<Module, String>) {
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                walk(&path, src, out);
                continue;
            }
            if path.extension().is_none_or(|e| e != "rs") {
                continue;
            }
            let rel = path.strip_prefix(src).unwrap().with_extension("");
            let mut module: Module = rel
                .components()
                .map(|c| c.as_os_str().to_string_lossy().into_owned())
                .collect();
            if matches!(
                module.last().map(String::as_str),
                Some("mod" | "lib" | "main")
            ) {
                module.pop();
            }
            // Code before the tests module (`#[cfg(test)]` then `mod`): tests may reach
            // anywhere. A test-only helper elsewhere in the file is read like the rest.
            let text = std::fs::read_to_string(&path).unwrap();
            let tests = text
                .match_indices("#[cfg(test)]")
                .find(|(i, m)| text[i + m.len()..].trim_start().starts_with("mod "));
            let code = match tests {
                Some((i, _)) => text[..i].to_string(),
                None => text,
            };
            out.insert(module, code);
        }
    }
    let mut out = BTreeMap::new();
    walk(src, src, &mut out);
    out
}

/// Identifier segments after a `crate::` or `super::` prefix, with `{a, b::c}` groups
/// spread out: each returned path is a candidate module path (the longest prefix that is
/// a module counts).
fn paths_after(text: &str) -> Vec<Vec<String>> {
    let mut out = Vec::new();
    let mut segments = Vec::new();
    let mut rest = text;
    loop {
        let ident: String = rest
            .chars()
            .take_while(|c| c.is_alphanumeric() || *c == '_')
            .collect();
        if ident.is_empty() {
            if let Some(group) = rest.strip_prefix('{') {
                let mut depth = 1;
                let end = group
                    .char_indices()
                    .find(|(_, c)| {
                        match c {
                            '{' => depth += 1,
                            '}' => depth -= 1,
                            _ => {}
                        }
                        depth == 0
                    })
                    .map_or(group.len(), |(i, _)| i);
                let mut depth = 0;
                let mut start = 0;
                let inner = &group[..end];
                for (i, c) in inner.char_indices().chain([(inner.len(), ',')]) {
                    match c {
                        '{' => depth += 1,
                        '}' => depth -= 1,
                        ',' if depth == 0 => {
                            for tail in paths_after(inner[start..i].trim()) {
                                let mut full = segments.clone();
                                full.extend(tail);
                                out.push(full);
                            }
                            start = i + 1;
                        }
                        _ => {}
                    }
                }
            }
            break;
        }
        rest = &rest[ident.len()..];
        segments.push(ident);
        match rest.strip_prefix("::") {
            Some(r) => rest = r,
            None => break,
        }
    }
    if !segments.is_empty() {
        out.push(segments);
    }
    out
}

/// The modules `code` (of module `from`) refers to, by `crate::` and `super::` paths.
fn references(from: &Module, code: &str, all: &BTreeMap<Module, String>) -> BTreeSet<Module> {
    let mut out = BTreeSet::new();
    // The code as one line, comments dropped, so a `use` group wrapped over lines reads
    // whole.
    let joined: String = code
        .lines()
        .map(str::trim_start)
        .filter(|l| !l.starts_with("//"))
        .map(|l| l.split(" //").next().unwrap_or(l))
        .collect::<Vec<_>>()
        .join(" ");
    {
        let line = joined.as_str();
        for (at, _) in line
            .match_indices("crate::")
            .chain(line.match_indices("super::"))
        {
            if line[..at].ends_with("super::")
                || line[..at].ends_with(|c: char| c.is_alphanumeric() || c == '_')
            {
                continue;
            }
            let mut base: Module;
            let mut rest = &line[at..];
            if let Some(r) = rest.strip_prefix("crate::") {
                base = Vec::new();
                rest = r;
            } else {
                base = from.clone();
                while let Some(r) = rest.strip_prefix("super::") {
                    base.pop();
                    rest = r;
                }
            }
            for tail in paths_after(rest) {
                let mut full = base.clone();
                full.extend(tail);
                while !full.is_empty() && !all.contains_key(&full) {
                    full.pop();
                }
                if &full != from {
                    out.insert(full);
                }
            }
        }
    }
    out
}

/// Circles among siblings: for each folder, the graph of its children (subtrees folded).
fn sibling_circles(all: &BTreeMap<Module, String>) -> Vec<String> {
    let mut graphs: BTreeMap<Module, BTreeMap<String, BTreeSet<String>>> = BTreeMap::new();
    let mut why: BTreeMap<(Module, String, String), String> = BTreeMap::new();
    for (from, code) in all {
        for to in references(from, code, all) {
            let common = from.iter().zip(&to).take_while(|(a, b)| a == b).count();
            if common == from.len() || common == to.len() {
                continue; // a parent and its own descendant
            }
            let parent: Module = from[..common].to_vec();
            let (a, b) = (from[common].clone(), to[common].clone());
            why.entry((parent.clone(), a.clone(), b.clone()))
                .or_insert_with(|| format!("{} uses {}", from.join("/"), to.join("/")));
            graphs
                .entry(parent)
                .or_default()
                .entry(a)
                .or_default()
                .insert(b);
        }
    }
    let mut circles = Vec::new();
    for (parent, graph) in &graphs {
        for (a, targets) in graph {
            for b in targets {
                // b reaches back to a?
                let mut seen = BTreeSet::new();
                let mut stack = vec![b.clone()];
                let mut path_back = None;
                while let Some(n) = stack.pop() {
                    if n == *a {
                        path_back = Some(());
                        break;
                    }
                    if seen.insert(n.clone()) {
                        stack.extend(graph.get(&n).into_iter().flatten().cloned());
                    }
                }
                if path_back.is_some() && a < b {
                    circles.push(format!(
                        "in {}/: {a} and {b} reach each other ({}; {})",
                        parent.join("/"),
                        why[&(parent.clone(), a.clone(), b.clone())],
                        why.get(&(parent.clone(), b.clone(), a.clone()))
                            .cloned()
                            .unwrap_or_else(|| format!("{b} reaches {a} through others")),
                    ));
                }
            }
        }
    }
    circles
}

#[test]
fn no_module_imports_a_sibling_that_imports_it_back() {
    let mut found = Vec::new();
    for krate in ["shared/src", "daemon/src", "cli/src"] {
        let all = modules(&root().join(krate));
        assert!(all.len() > 10, "{krate}: too few modules read");
        found.extend(
            sibling_circles(&all)
                .into_iter()
                .map(|c| format!("{krate}: {c}")),
        );
    }
    assert!(found.is_empty(), "import circles:\n{}", found.join("\n"));
}

/// The checker itself finds a circle where there is one, and none where there is none.
#[test]
fn the_circle_check_sees_a_circle() {
    let mut all = BTreeMap::new();
    all.insert(vec![], "mod a; mod b; mod c;".to_string());
    all.insert(vec!["a".into()], "use crate::b::thing;".to_string());
    all.insert(vec!["b".into()], "use super::{c, other};".to_string());
    all.insert(vec!["c".into()], "fn f() { crate::a::g() }".to_string());
    let circles = sibling_circles(&all);
    assert!(
        circles
            .iter()
            .any(|c| c.contains("a and b reach each other")),
        "{circles:?}"
    );
    all.insert(vec!["c".into()], "fn f() {}".to_string());
    assert!(sibling_circles(&all).is_empty());
    // A group that rustfmt wrapped over lines.
    all.insert(
        vec!["c".into()],
        "use crate::{\n    other,\n    a::{\n        g,\n    },\n};".to_string(),
    );
    assert!(!sibling_circles(&all).is_empty());
}

/// Lines of each function outside tests, counted from its `fn` line to its closing brace.
fn long_functions(code: &str) -> Vec<(String, usize)> {
    let lines: Vec<&str> = code.lines().collect();
    let mut out = Vec::new();
    let mut i = 0;
    while i < lines.len() {
        let t = lines[i].trim_start();
        let t = t
            .trim_start_matches("pub(crate) ")
            .trim_start_matches("pub(super) ")
            .trim_start_matches("pub ")
            .trim_start_matches("async ")
            .trim_start_matches("const ")
            .trim_start_matches("unsafe ");
        if let Some(rest) = t.strip_prefix("fn ") {
            let name: String = rest
                .chars()
                .take_while(|c| c.is_alphanumeric() || *c == '_')
                .collect();
            let (mut depth, mut started, mut j) = (0i32, false, i);
            while j < lines.len() {
                for c in lines[j].chars() {
                    match c {
                        '{' => {
                            depth += 1;
                            started = true
                        }
                        '}' => depth -= 1,
                        _ => {}
                    }
                }
                if (started && depth == 0) || (!started && lines[j].trim_end().ends_with(';')) {
                    break;
                }
                j += 1;
            }
            out.push((name, j - i + 1));
            i = j;
        }
        i += 1;
    }
    out
}

/// Every function outside tests over `limit` lines, named by crate and module.
fn functions_over(limit: usize) -> Vec<String> {
    let mut long = Vec::new();
    for krate in ["shared/src", "daemon/src", "cli/src"] {
        for (module, code) in modules(&root().join(krate)) {
            for (name, lines) in long_functions(&code) {
                if lines > limit {
                    long.push(format!(
                        "{krate}/{}: {name} ({lines} lines)",
                        module.join("/")
                    ));
                }
            }
        }
    }
    long
}

/// A function a reader can hold in mind: none over 120 lines, and at most a handful
/// (three) over 80 — today the mDNS loop and the two export renderers, which read
/// top to bottom as the page they draw.
#[test]
fn no_function_outside_tests_runs_over_120_lines() {
    let long = functions_over(120);
    assert!(
        long.is_empty(),
        "functions over 120 lines:\n{}",
        long.join("\n")
    );
    let over_80 = functions_over(80);
    assert!(
        over_80.len() <= 3,
        "more than three functions over 80 lines:\n{}",
        over_80.join("\n")
    );
    assert_eq!(
        long_functions("fn a() {\n    x;\n}\nfn b() { }\n"),
        vec![("a".to_string(), 3), ("b".to_string(), 1)]
    );
}
