//! The check behind each crate's `tests/layers.rs`: the crate's modules
//! form layers, as the map at the top of its root file draws them, and each
//! module names only modules of the layers below its own. So no two modules
//! need each other, and the map is the truth about the crate's shape.
//!
//! The map is the root file's list that follows a line containing "The
//! map, from the bottom up": one bullet (`//! - `) a layer, lowest first,
//! naming its modules as [`x`] or `x` before the bullet's first ": " (or in
//! the whole bullet, where it has none). A module is `src/x.rs` and
//! everything under `src/x/`; what it names is every `crate::x` and every
//! first segment in a `crate::{...}` group, outside `//` comments. Naming
//! an item of the root (`crate::Secret`) counts as naming the root, which
//! is above everything.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

/// The layers of the map in `root_file`, lowest first.
pub fn map_of(root_file: &str) -> Vec<Vec<String>> {
    let mut layers: Vec<Vec<String>> = Vec::new();
    let mut bullet: Option<String> = None;
    let mut in_map = false;
    let finish = |bullet: Option<String>, layers: &mut Vec<Vec<String>>| {
        if let Some(text) = bullet {
            let head = text
                .split_once(": ")
                .map_or(text.as_str(), |(head, _)| head);
            layers.push(module_names(head));
        }
    };
    for line in root_file.lines() {
        let Some(doc) = line.strip_prefix("//!") else {
            break;
        };
        let doc = doc.strip_prefix(' ').unwrap_or(doc);
        if doc.contains("The map, from the bottom up") {
            in_map = true;
            continue;
        }
        if !in_map {
            continue;
        }
        if let Some(start) = doc.strip_prefix("- ") {
            finish(bullet.take(), &mut layers);
            bullet = Some(start.to_string());
        } else if let (true, Some(text)) = (doc.starts_with("  "), bullet.as_mut()) {
            text.push_str(doc);
        } else {
            finish(bullet.take(), &mut layers);
            if !layers.is_empty() {
                in_map = false;
            }
        }
    }
    finish(bullet, &mut layers);
    layers
}

/// `x` from each [`x`] or `x` in `text`, in order.
fn module_names(text: &str) -> Vec<String> {
    text.split('`')
        .skip(1)
        .step_by(2)
        .filter(|name| {
            !name.is_empty() && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
        })
        .map(str::to_string)
        .collect()
}

/// Every name `source` reaches through `crate::`, outside `//` comments.
fn crate_names(source: &str) -> BTreeSet<String> {
    let code: String = source
        .lines()
        .map(|l| l.split("//").next().unwrap_or_default())
        .collect::<Vec<_>>()
        .join("\n");
    let word = |s: &str| -> String {
        s.trim_start()
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
            .collect()
    };
    let mut names = BTreeSet::new();
    for (at, _) in code.match_indices("crate::") {
        let rest = &code[at + "crate::".len()..];
        if let Some(group) = rest.strip_prefix('{') {
            // The first segment of each item at the group's own depth.
            let mut depth = 0;
            let mut item_start = true;
            for (i, c) in group.char_indices() {
                match c {
                    '{' => depth += 1,
                    '}' if depth == 0 => break,
                    '}' => depth -= 1,
                    ',' if depth == 0 => item_start = true,
                    c if item_start && !c.is_whitespace() => {
                        names.insert(word(&group[i..]));
                        item_start = false;
                    }
                    _ => {}
                }
            }
        } else {
            names.insert(word(rest));
        }
    }
    names.remove("");
    names
}

/// The source of module `name` under `src`: `name.rs` and all of `name/`.
fn module_source(src: &Path, name: &str) -> String {
    let mut files: Vec<PathBuf> = Vec::new();
    let file = src.join(format!("{name}.rs"));
    if file.exists() {
        files.push(file);
    }
    let mut dirs = vec![src.join(name)];
    while let Some(dir) = dirs.pop() {
        for entry in std::fs::read_dir(&dir).into_iter().flatten().flatten() {
            let path = entry.path();
            if path.is_dir() {
                dirs.push(path);
            } else if path.extension().is_some_and(|e| e == "rs") {
                files.push(path);
            }
        }
    }
    assert!(
        !files.is_empty(),
        "module {name} has no source under {}",
        src.display()
    );
    files
        .iter()
        .map(|f| std::fs::read_to_string(f).unwrap())
        .collect::<Vec<_>>()
        .join("\n")
}

/// Checks the crate at `manifest_dir` whose root file is `src/{root}`.
pub fn check(manifest_dir: &str, root: &str) {
    let src = Path::new(manifest_dir).join("src");
    let root_file = std::fs::read_to_string(src.join(root)).unwrap();
    let layers = map_of(&root_file);
    assert!(layers.len() > 1, "{root} draws no map from the bottom up");
    let layer_of = |name: &str| layers.iter().position(|l| l.iter().any(|m| m == name));

    // Every module has a place on the map, and the map names only modules.
    let declared: BTreeSet<String> = root_file
        .lines()
        .filter_map(|l| {
            let l = l.trim_start();
            let l = l.strip_prefix("pub ").unwrap_or(l);
            l.strip_prefix("mod ")?
                .strip_suffix(';')
                .map(str::to_string)
        })
        .collect();
    for name in &declared {
        assert!(
            layer_of(name).is_some(),
            "{name} has no layer in {root}'s map"
        );
    }
    for name in layers.iter().flatten() {
        assert!(
            declared.contains(name),
            "{root}'s map names {name}, which is no module"
        );
    }

    for (level, layer) in layers.iter().enumerate() {
        for module in layer {
            for used in crate_names(&module_source(&src, module)) {
                if &used == module {
                    continue;
                }
                let Some(at) = layer_of(&used) else {
                    panic!("{module} uses crate::{used}, an item of the crate's root: name it by its module");
                };
                assert!(
                    at < level,
                    "{module} uses {used}, which is not in a layer below it ({root}'s map)"
                );
            }
        }
    }
}

#[test]
fn the_map_and_the_names_are_read_as_written() {
    let root = "//! Intro.\n//!\n//! The map, from the bottom up (each uses only those above it):\n//! - [`error`], [`secret`]: the error; see [`other`].\n//! - [`auth`]: signs in,\n//!   with [`http`]: not a layer of its own.\n//! - `args` and [`demo`] for the front ends.\n//!\n//! After the map: [`monitor`].\n\nmod x;\n";
    assert_eq!(
        map_of(root),
        [vec!["error", "secret"], vec!["auth"], vec!["args", "demo"]]
    );
    let names = crate_names(
        "use crate::error::{Error, Result};\nuse crate::{auth, graph::{A, B},\n    presence};\n// crate::commented\nlet x = crate::Secret::new(); // crate::trailing\n",
    );
    assert_eq!(
        names.into_iter().collect::<Vec<_>>(),
        ["Secret", "auth", "error", "graph", "presence"]
    );
}
