//! "Open config file" in the window hands `config.toml` to the desktop's
//! opener (`xdg-open` on Linux), here a stand-in that writes down what it
//! was asked to open, and with what environment. A test binary of its own:
//! it changes PATH.

#![cfg(target_os = "linux")]

mod harness;

use std::os::unix::fs::PermissionsExt;
use std::time::Duration;

use harness::Harness;
use presently_core::config::CONFIG_FILE;
use serde_json::json;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn open_config_file_opens_the_file_creating_it_if_missing() {
    let bin = tempfile::tempdir().unwrap();
    let asked = bin.path().join("asked");
    let environment = bin.path().join("environment");
    let opener = bin.path().join("xdg-open");
    std::fs::write(
        &opener,
        format!(
            "#!/bin/sh\nenv > '{}'\nprintf '%s\\n' \"$1\" >> '{}'\n",
            environment.display(),
            asked.display()
        ),
    )
    .unwrap();
    std::fs::set_permissions(&opener, std::fs::Permissions::from_mode(0o755)).unwrap();
    let path = std::env::var("PATH").unwrap_or_default();
    std::env::set_var("PATH", format!("{}:{path}", bin.path().display()));
    // What the app sets for its own window (window::prepare_environment)
    // is not the editor's.
    presently_core::browser::set_for_this_process_only("JSC_useJIT", "0");

    let h = Harness::new().await;
    let file = h.config_dir.join(CONFIG_FILE);
    assert!(!file.exists());
    h.invoke("open_config_file", json!({})).unwrap();
    for _ in 0..200 {
        if asked.exists() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(
        std::fs::read_to_string(&asked).unwrap(),
        format!("{}\n", file.display())
    );
    let environment = std::fs::read_to_string(&environment).unwrap();
    assert!(environment.contains("PATH="), "{environment}");
    assert!(!environment.contains("JSC_useJIT"), "{environment}");
    // An empty file to write in, private like the rest.
    assert_eq!(std::fs::read_to_string(&file).unwrap(), "");
    let mode = std::fs::metadata(&file).unwrap().permissions().mode();
    assert_eq!(mode & 0o777, 0o600);
}
