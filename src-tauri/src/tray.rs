//! The tray icon: your own presence as Teams shows it, and a menu with your
//! favorites, "Open Presently", "Set my status", pause, sign out and quit.

use presently_core::monitor::TeammateState;
use presently_core::presence::Presence;
use presently_core::status::{in_words, Kind};
use tauri::image::Image;
use tauri::menu::{Menu, MenuItem, PredefinedMenuItem, Submenu};
use tauri::tray::{MouseButton, MouseButtonState, TrayIconBuilder, TrayIconEvent};
use tauri::{AppHandle, Manager, Runtime};

use crate::state::{AppState, TrayModel};

pub const TRAY_ID: &str = "main";
const MENU_OPEN: &str = "open";
const MENU_PAUSE: &str = "pause";
const MENU_SIGN_OUT: &str = "sign_out";
const MENU_QUIT: &str = "quit";
const MENU_STATUS: &str = "status";
/// Items of "Set my status" are this and a word of
/// [`crate::events::status_choices`].
const STATUS_ITEM: &str = "status:";

/// Is there a tray to put an icon in? On Linux that is a StatusNotifier host
/// on the session bus; without one the icon would silently go nowhere.
pub fn available() -> bool {
    #[cfg(target_os = "linux")]
    {
        status_notifier_watcher_present()
    }
    #[cfg(not(target_os = "linux"))]
    {
        true
    }
}

#[cfg(target_os = "linux")]
fn status_notifier_watcher_present() -> bool {
    use std::time::Duration;
    let Ok(bus) = dbus::blocking::Connection::new_session() else {
        return false;
    };
    let proxy = bus.with_proxy(
        "org.freedesktop.DBus",
        "/org/freedesktop/DBus",
        Duration::from_secs(2),
    );
    let answer: Result<(bool,), _> = proxy.method_call(
        "org.freedesktop.DBus",
        "NameHasOwner",
        ("org.kde.StatusNotifierWatcher",),
    );
    matches!(answer, Ok((true,)))
}

/// The dot to draw for your own presence; none (not signed in, no answer
/// yet) is drawn as offline.
pub fn kind_of(p: Option<&Presence>) -> Kind {
    p.map_or(Kind::Offline, Kind::of)
}

/// Teams' colours.
pub fn colour(kind: Kind) -> [u8; 3] {
    match kind {
        Kind::Available => [0x6b, 0xb7, 0x00],
        Kind::Busy | Kind::DoNotDisturb => [0xc4, 0x31, 0x4b],
        Kind::Away => [0xff, 0xaa, 0x44],
        // Teams has no dot of its own for a value it does not know: offline's.
        Kind::Offline | Kind::Unknown => [0x8a, 0x88, 0x86],
        Kind::OutOfOffice => [0xb4, 0x00, 0x9e],
    }
}

/// A symbol for menus, where there are no pictures.
pub fn symbol(kind: Kind) -> &'static str {
    match kind {
        Kind::Available => "✔",
        Kind::Busy => "●",
        Kind::DoNotDisturb => "⛔",
        Kind::Away => "◷",
        Kind::Offline | Kind::Unknown => "○",
        Kind::OutOfOffice => "↩",
    }
}

/// Draws the status dot, `size` pixels square, RGBA, anti-aliased.
pub fn draw(kind: Kind, size: u32) -> Vec<u8> {
    let s = size as f32;
    let c = s / 2.0;
    let r = s / 2.0 - 1.0;
    let [red, green, blue] = colour(kind);
    let mut rgba = vec![0u8; (size * size * 4) as usize];
    // Shapes in a unit square scaled to the icon: (from, to) line segments.
    let u = |x: f32, y: f32| (x * s, y * s);
    let mark: Vec<((f32, f32), (f32, f32))> = match kind {
        Kind::Available => vec![
            (u(0.28, 0.52), u(0.44, 0.68)),
            (u(0.44, 0.68), u(0.72, 0.36)),
        ],
        Kind::DoNotDisturb => vec![(u(0.28, 0.5), u(0.72, 0.5))],
        Kind::Away => vec![(u(0.5, 0.5), u(0.5, 0.26)), (u(0.5, 0.5), u(0.68, 0.62))],
        Kind::OutOfOffice => vec![
            (u(0.28, 0.5), u(0.72, 0.5)),
            (u(0.28, 0.5), u(0.46, 0.32)),
            (u(0.28, 0.5), u(0.46, 0.68)),
        ],
        Kind::Busy | Kind::Offline | Kind::Unknown => vec![],
    };
    let stroke = (s * 0.11).max(1.5);
    for y in 0..size {
        for x in 0..size {
            let (px, py) = (x as f32 + 0.5, y as f32 + 0.5);
            let d = ((px - c).powi(2) + (py - c).powi(2)).sqrt();
            let (dot, white) = if matches!(kind, Kind::Offline | Kind::Unknown) {
                // A hollow ring.
                let ring = coverage((d - (r - stroke / 2.0)).abs() - stroke / 2.0);
                (ring, 0.0)
            } else {
                let inside = coverage(d - r);
                let glyph_cover = mark
                    .iter()
                    .map(|&(a, b)| coverage(segment_distance((px, py), a, b) - stroke / 2.0))
                    .fold(0.0f32, f32::max);
                (inside, glyph_cover * inside)
            };
            let i = ((y * size + x) * 4) as usize;
            let mix = |ch: u8| (ch as f32 * (1.0 - white) + 255.0 * white).round() as u8;
            rgba[i] = mix(red);
            rgba[i + 1] = mix(green);
            rgba[i + 2] = mix(blue);
            rgba[i + 3] = (dot * 255.0).round() as u8;
        }
    }
    rgba
}

/// How much of a pixel a shape covers, from its signed distance in pixels.
fn coverage(signed_distance: f32) -> f32 {
    (0.5 - signed_distance).clamp(0.0, 1.0)
}

fn segment_distance(p: (f32, f32), a: (f32, f32), b: (f32, f32)) -> f32 {
    let (abx, aby) = (b.0 - a.0, b.1 - a.1);
    let (apx, apy) = (p.0 - a.0, p.1 - a.1);
    let t = ((apx * abx + apy * aby) / (abx * abx + aby * aby)).clamp(0.0, 1.0);
    let (dx, dy) = (apx - t * abx, apy - t * aby);
    (dx * dx + dy * dy).sqrt()
}

pub fn icon(kind: Kind) -> Image<'static> {
    const SIZE: u32 = 32;
    Image::new_owned(draw(kind, SIZE), SIZE, SIZE)
}

/// Creates the tray icon. Clicking it shows the window.
pub fn create<R: Runtime>(app: &AppHandle<R>) -> tauri::Result<()> {
    let model = app.state::<AppState>().tray.lock().unwrap().clone();
    let menu = menu(app, &model)?;
    TrayIconBuilder::with_id(TRAY_ID)
        .icon(icon(Kind::Offline))
        .tooltip("Presently")
        .menu(&menu)
        .show_menu_on_left_click(false)
        .on_menu_event(|app, event| match event.id().as_ref() {
            MENU_OPEN => crate::window::show_main_window(app),
            MENU_PAUSE => {
                let state = app.state::<AppState>();
                let paused = state.tray.lock().unwrap().paused();
                let length = if paused { 0 } else { 3600 };
                state
                    .monitor
                    .pause_notifications_for(std::time::Duration::from_secs(length));
            }
            MENU_SIGN_OUT => {
                let monitor = app.state::<AppState>().monitor.clone();
                tauri::async_runtime::spawn(async move {
                    if let Err(e) = monitor.sign_out().await {
                        tracing::warn!("sign out from the tray failed: {e}");
                    }
                });
            }
            MENU_QUIT => app.exit(0),
            other => {
                if let Some(word) = other.strip_prefix(STATUS_ITEM) {
                    set_status_from_menu(app, word);
                }
            }
        })
        .on_tray_icon_event(|tray, event| {
            if let TrayIconEvent::Click {
                button: MouseButton::Left,
                button_state: MouseButtonState::Up,
                ..
            } = event
            {
                crate::window::show_main_window(tray.app_handle());
            }
        })
        .build(app)?;
    Ok(())
}

fn menu<R: Runtime>(app: &AppHandle<R>, model: &TrayModel) -> tauri::Result<Menu<R>> {
    let signed_in = model.signed_in;
    let menu = Menu::new(app)?;
    // Signed out, nobody is watched: a status listed would be a stale one.
    let favorites: &[TeammateState] = if signed_in { &model.favorites } else { &[] };
    for t in favorites {
        let kind = kind_of(t.presence.as_ref());
        let words = t
            .presence
            .as_ref()
            .map(in_words)
            .unwrap_or_else(|| "Unknown".into());
        let label = format!("{} {} — {}", symbol(kind), t.teammate.name(), words);
        menu.append(&MenuItem::with_id(
            app,
            format!("fav:{}", t.teammate.id),
            label,
            false,
            None::<&str>,
        )?)?;
    }
    if !favorites.is_empty() {
        menu.append(&PredefinedMenuItem::separator(app)?)?;
    }
    menu.append(&MenuItem::with_id(
        app,
        MENU_OPEN,
        "Open Presently",
        true,
        None::<&str>,
    )?)?;
    if signed_in && model.can_set_status {
        let status = Submenu::with_id(app, MENU_STATUS, "Set my status", true)?;
        for choice in crate::events::status_choices() {
            if choice.word == crate::events::RESET_STATUS {
                status.append(&PredefinedMenuItem::separator(app)?)?;
            }
            status.append(&MenuItem::with_id(
                app,
                format!("{STATUS_ITEM}{}", choice.word),
                choice.label,
                true,
                None::<&str>,
            )?)?;
        }
        menu.append(&status)?;
    }
    let pause_label = if model.paused {
        "Resume notifications"
    } else {
        "Pause notifications for 1 hour"
    };
    menu.append(&MenuItem::with_id(
        app,
        MENU_PAUSE,
        pause_label,
        true,
        None::<&str>,
    )?)?;
    menu.append(&MenuItem::with_id(
        app,
        MENU_SIGN_OUT,
        "Sign out",
        signed_in,
        None::<&str>,
    )?)?;
    menu.append(&PredefinedMenuItem::separator(app)?)?;
    menu.append(&MenuItem::with_id(
        app,
        MENU_QUIT,
        "Quit",
        true,
        None::<&str>,
    )?)?;
    Ok(menu)
}

/// "Set my status" from the menu, with Microsoft's default duration. The
/// first time the browser asks for the permission, then the change is made;
/// a failure is a notification, as there may be no window to say it in.
fn set_status_from_menu<R: Runtime>(app: &AppHandle<R>, word: &str) {
    use presently_core::auth::SignInMethod;
    use presently_core::monitor::{MyStatusChange, MyStatusOutcome, SignInState};
    let change = MyStatusChange::presence(word, None);
    let monitor = app.state::<AppState>().monitor.clone();
    let app = app.clone();
    tauri::async_runtime::spawn(async move {
        let result = match change {
            Ok(change) => {
                monitor
                    .change_my_status(change, SignInMethod::Browser)
                    .await
            }
            Err(e) => Err(e),
        };
        match &result {
            // The permission first: Microsoft's page, in the browser.
            Ok(MyStatusOutcome::Consent(SignInState::InBrowser { url })) => {
                if let Err(e) = presently_core::browser::open(url) {
                    tracing::warn!("could not open the browser to allow setting your status: {e}");
                }
            }
            Ok(_) => {}
            Err(e) => tracing::warn!("setting your status from the tray failed: {e}"),
        }
        if let Err(e) = result {
            crate::notifications::notify(
                &app,
                &presently_core::notify::Notification {
                    title: "Your status could not be set".into(),
                    body: e.to_string(),
                    ids: Vec::new(),
                },
            );
        }
    });
}

/// Redraws the icon (own presence) and the menu (favorites, pause).
pub fn refresh<R: Runtime>(app: &AppHandle<R>) {
    let Some(tray) = app.tray_by_id(TRAY_ID) else {
        return;
    };
    let model = app.state::<AppState>().tray.lock().unwrap().clone();
    let (me, signed_in) = (&model.me, model.signed_in);
    let kind = if signed_in {
        kind_of(me.as_ref())
    } else {
        Kind::Offline
    };
    let tooltip = match (me, signed_in) {
        (Some(p), true) => format!("Presently — you are {}", in_words(p)),
        _ => "Presently — not signed in".to_string(),
    };
    if let Err(e) = tray
        .set_icon(Some(icon(kind)))
        .and_then(|()| tray.set_tooltip(Some(tooltip)))
        .and_then(|()| menu(app, &model).and_then(|m| tray.set_menu(Some(m))))
    {
        tracing::warn!("could not update the tray: {e}");
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use presently_core::presence::{Activity, Availability};

    fn pixel(rgba: &[u8], size: u32, x: u32, y: u32) -> [u8; 4] {
        let i = ((y * size + x) * 4) as usize;
        [rgba[i], rgba[i + 1], rgba[i + 2], rgba[i + 3]]
    }

    #[test]
    fn busy_is_a_filled_red_dot_with_transparent_corners() {
        let img = draw(Kind::Busy, 32);
        assert_eq!(pixel(&img, 32, 16, 16), [0xc4, 0x31, 0x4b, 255]);
        assert_eq!(pixel(&img, 32, 0, 0)[3], 0);
    }

    #[test]
    fn offline_is_a_hollow_ring() {
        let img = draw(Kind::Offline, 32);
        assert_eq!(pixel(&img, 32, 16, 16)[3], 0, "hollow centre");
        assert!(pixel(&img, 32, 16, 1)[3] > 200, "the ring itself");
    }

    #[test]
    fn do_not_disturb_has_a_white_bar_and_available_a_check() {
        let dnd = draw(Kind::DoNotDisturb, 32);
        assert_eq!(pixel(&dnd, 32, 16, 16), [255, 255, 255, 255]);
        assert_eq!(&pixel(&dnd, 32, 16, 6)[..3], &[0xc4, 0x31, 0x4b]);
        let ok = draw(Kind::Available, 32);
        assert_eq!(
            &pixel(&ok, 32, 14, 21)[..3],
            &[255, 255, 255],
            "the check's bottom"
        );
        assert_eq!(&pixel(&ok, 32, 16, 6)[..3], &[0x6b, 0xb7, 0x00]);
    }

    #[test]
    fn glyphs_follow_teams() {
        let p = |a: &str, act: &str| Presence {
            availability: Availability::parse(a),
            activity: Activity::parse(act),
            ..Presence::unknown("x")
        };
        assert_eq!(
            kind_of(Some(&p("AvailableIdle", "Inactive"))),
            Kind::Available
        );
        assert_eq!(kind_of(Some(&p("BusyIdle", "Busy"))), Kind::Busy);
        assert_eq!(kind_of(Some(&p("BeRightBack", "BeRightBack"))), Kind::Away);
        assert_eq!(
            kind_of(Some(&p("Offline", "OutOfOffice"))),
            Kind::OutOfOffice
        );
        assert_eq!(kind_of(None), Kind::Offline);
        // A value Teams added later is drawn as offline is, in the same grey.
        let unknown = kind_of(Some(&p("Focusing", "Focusing")));
        assert_eq!(draw(unknown, 32), draw(Kind::Offline, 32));
        assert_eq!(symbol(unknown), symbol(Kind::Offline));
    }
}
