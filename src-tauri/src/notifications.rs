//! Desktop notifications: a [`Notification`] the monitor decided on, shown
//! by the OS's notification service.

use presently_core::notify::Notification;
use tauri::{AppHandle, Runtime};
use tauri_plugin_notification::NotificationExt;

/// Shows `n`; a service that is missing or refuses is logged, never fatal.
pub fn notify<R: Runtime>(app: &AppHandle<R>, n: &Notification) {
    // Freedesktop notification servers read the body as markup: names and
    // status notes must not become tags there. Elsewhere it is plain text.
    let body = if cfg!(target_os = "linux") {
        markup_escaped(&n.body)
    } else {
        n.body.clone()
    };
    if let Err(e) = app
        .notification()
        .builder()
        .title(&n.title)
        .body(&body)
        .show()
    {
        tracing::warn!("could not show a notification: {e}");
    }
}

/// `text` for a freedesktop notification body, whose markup knows `&`, `<`
/// and `>` (and only tags built from them).
pub fn markup_escaped(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            c => out.push(c),
        }
    }
    out
}
