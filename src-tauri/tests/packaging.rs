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

fn icons_dir() -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../icons")
}

fn icon_file(name: &str) -> Vec<u8> {
    std::fs::read(icons_dir().join(name)).unwrap_or_else(|e| {
        panic!("icons/{name} ({e}): run icons/make-icons.py in icons/ and commit what it writes")
    })
}

/// `(width, image bytes)` of each image in a Windows .ico.
fn ico_images(ico: &[u8]) -> Vec<(u32, &[u8])> {
    let u16_at = |at: usize| u16::from_le_bytes([ico[at], ico[at + 1]]);
    let u32_at = |at: usize| u32::from_le_bytes(ico[at..at + 4].try_into().unwrap());
    assert_eq!((u16_at(0), u16_at(2)), (0, 1), "an icon file");
    (0..usize::from(u16_at(4)))
        .map(|n| {
            let entry = 6 + 16 * n;
            let width = match ico[entry] {
                0 => 256,
                w => u32::from(w),
            };
            let (len, offset) = (u32_at(entry + 8) as usize, u32_at(entry + 12) as usize);
            (width, &ico[offset..offset + len])
        })
        .collect()
}

/// `(type, PNG)` of each entry of a macOS .icns.
fn icns_entries(icns: &[u8]) -> Vec<(String, &[u8])> {
    assert_eq!(&icns[..4], b"icns");
    let u32_at = |at: usize| u32::from_be_bytes(icns[at..at + 4].try_into().unwrap()) as usize;
    assert_eq!(u32_at(4), icns.len(), "the length in the header");
    let mut entries = Vec::new();
    let mut at = 8;
    while at < icns.len() {
        let len = u32_at(at + 4);
        let kind = String::from_utf8(icns[at..at + 4].to_vec()).unwrap();
        entries.push((kind, &icns[at + 8..at + len]));
        at += len;
    }
    entries
}

/// A Windows build needs `icons/icon.ico` (tauri-build embeds it in the
/// .exe, and stops without it) and the macOS bundle `icons/icon.icns`: both
/// are committed, listed in the config every build reads, and made of the
/// same pictures as the PNGs.
#[test]
fn windows_and_macos_icons_are_committed_and_match_the_pngs() {
    let config = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tauri.conf.json");
    let config: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(config).unwrap()).unwrap();
    let listed = config["bundle"]["icon"].as_array().unwrap();
    for name in [
        "../icons/icon.ico",
        "../icons/icon.icns",
        "../icons/icon.png",
    ] {
        assert!(listed.iter().any(|i| i == name), "{name} in {listed:?}");
    }

    let ico = icon_file("icon.ico");
    let images = ico_images(&ico);
    let widths: Vec<u32> = images.iter().map(|(w, _)| *w).collect();
    assert_eq!(widths, [16, 24, 32, 48, 64, 128, 256]);
    assert_eq!(images[6].1, icon_file("128x128@2x.png"), "the 256 px image");
    for (width, image) in &images[..6] {
        // BITMAPINFOHEADER: 32 bits a pixel, twice as high (colour and mask).
        let int = |at: usize| i32::from_le_bytes(image[at..at + 4].try_into().unwrap());
        assert_eq!(
            (int(0), int(4), int(8)),
            (40, *width as i32, 2 * *width as i32)
        );
    }

    let icns = icon_file("icon.icns");
    let entries = icns_entries(&icns);
    let png = |kind: &str| {
        entries
            .iter()
            .find(|(k, _)| k == kind)
            .unwrap_or_else(|| panic!("{kind} in icon.icns"))
            .1
    };
    assert_eq!(png("ic09"), icon_file("icon.png"), "512 px");
    assert_eq!(png("ic08"), icon_file("128x128@2x.png"), "256 px");
    assert_eq!(png("ic07"), icon_file("128x128.png"), "128 px");
    assert_eq!(png("icp5"), icon_file("32x32.png"), "32 px");
    assert!(png("ic10").starts_with(b"\x89PNG"), "1024 px");
}
