//! The command line's modules form layers, as its `main.rs` draws them:
//! each uses only the modules below it, so no two modules need each other.

#[path = "../../tests/support/layers.rs"]
mod layers;

#[test]
fn each_module_uses_only_the_ones_below_it() {
    layers::check(env!("CARGO_MANIFEST_DIR"), "main.rs");
}
