//! What `make package` needs of this crate, checked without building the
//! packages (a release build is too long for `make test`).

/// The Linux packages install the command line beside the app as Tauri's
/// "external binary" (sidecar), and Tauri refuses a sidecar named like the
/// Cargo package: `make package` failed that way while this package was
/// called `presently`.
#[test]
fn no_sidecar_is_named_like_the_package() {
    let manifest = env!("CARGO_MANIFEST_DIR");
    let config = std::path::Path::new(manifest).join("../packaging/tauri.linux.conf.json");
    let text = std::fs::read_to_string(&config).unwrap();
    let config: serde_json::Value = serde_json::from_str(&text).unwrap();
    let sidecars = config["bundle"]["externalBin"].as_array().unwrap();
    assert!(
        !sidecars.is_empty(),
        "the command line goes in as a sidecar"
    );
    for sidecar in sidecars {
        let name = sidecar.as_str().unwrap().rsplit('/').next().unwrap();
        assert_ne!(name, env!("CARGO_PKG_NAME"), "{sidecar}");
    }
    assert!(
        sidecars
            .iter()
            .any(|s| s.as_str() == Some("binaries/presently")),
        "the command line is installed as `presently`: {sidecars:?}"
    );
}
