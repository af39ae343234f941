//! The app crate's modules form layers, as its `lib.rs` draws them: each
//! uses only the modules below it, so no two modules need each other.

use std::collections::BTreeSet;

/// Bottom to top.
const LAYERS: &[&str] = &[
    "error",
    "events",
    "state",
    "notifications",
    "window",
    "tray",
    "autostart",
    "logging",
    "commands",
    "app",
];

/// The crate modules `source` names (`crate::x`).
fn uses(source: &str) -> BTreeSet<String> {
    source
        .match_indices("crate::")
        .map(|(at, _)| {
            source[at + "crate::".len()..]
                .chars()
                .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                .collect()
        })
        .collect()
}

#[test]
fn each_module_uses_only_the_ones_below_it() {
    let src = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    for (level, module) in LAYERS.iter().enumerate() {
        let source = std::fs::read_to_string(src.join(format!("{module}.rs"))).unwrap();
        for used in uses(&source) {
            let at = LAYERS
                .iter()
                .position(|m| *m == used)
                .unwrap_or_else(|| panic!("{module} uses crate::{used}, which has no layer"));
            assert!(at < level, "{module} uses {used}, which is not below it");
        }
    }
    // Every module has a place.
    let lib = std::fs::read_to_string(src.join("lib.rs")).unwrap();
    for line in lib.lines().filter_map(|l| l.strip_prefix("pub mod ")) {
        let name = line.trim_end_matches(';');
        assert!(LAYERS.contains(&name), "{name} has no layer");
    }
}
