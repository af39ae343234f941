//! Declares every app command, so that the capability in
//! capabilities/main.json must allow each one by name.

const COMMANDS: &[&str] = &[
    "get_state",
    "start_sign_in",
    "start_browser_sign_in",
    "cancel_sign_in",
    "open_verification_page",
    "sign_out",
    "get_settings",
    "save_settings",
    "search_people",
    "list_groups",
    "add_teammates",
    "import_teammates",
    "remove_teammate",
    "set_teammate_flags",
    "open_teams",
    "pause_notifications",
    "roster_painted",
    "open_config_file",
    "allow_calendar",
    "set_my_status",
    "set_my_message",
    "save_my_status",
];

fn main() {
    tauri_build::try_build(
        tauri_build::Attributes::new()
            .app_manifest(tauri_build::AppManifest::new().commands(COMMANDS)),
    )
    .expect("tauri-build failed");
}
