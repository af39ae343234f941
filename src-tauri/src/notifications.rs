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

/// Shows a notification without the app (which could not start), straight
/// to the freedesktop notification service on the session bus; whether one
/// took it. Waits at most 2 s for an answer.
#[cfg(target_os = "linux")]
pub fn notify_without_app(title: &str, body: &str) -> bool {
    use std::time::Duration;
    let Ok(bus) = dbus::blocking::Connection::new_session() else {
        tracing::warn!("could not show a notification: no session bus");
        return false;
    };
    let service = bus.with_proxy(
        "org.freedesktop.Notifications",
        "/org/freedesktop/Notifications",
        Duration::from_secs(2),
    );
    let answer: Result<(u32,), dbus::Error> = service.method_call(
        "org.freedesktop.Notifications",
        "Notify",
        (
            "Presently",
            0u32,
            "",
            title,
            markup_escaped(body),
            Vec::<String>::new(),
            dbus::arg::PropMap::new(),
            -1i32,
        ),
    );
    match answer {
        Ok(_) => true,
        Err(e) => {
            tracing::warn!(
                "could not show a notification: {}",
                e.message().unwrap_or("no notification service")
            );
            false
        }
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
