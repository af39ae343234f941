//! The roster file: edits from the window under the roster's lock, and
//! edits made outside the app taken in as they happen.

use std::sync::Arc;
use std::time::Duration;

use crate::error::Result;
use crate::roster::Roster;

use super::calendars::calendar_people;

use super::{Monitor, State};

impl Monitor {
    /// Why the roster file could not be read, while that lasts.
    pub fn roster_recovery(&self) -> Option<String> {
        self.state.lock().unwrap().roster_problem.clone()
    }

    /// Changes the roster with `edit`, saves it when it changed, and tells
    /// the poller and the front ends. The edit starts from the file, not the
    /// copy in memory (`presently roster add` may have changed it while the
    /// app ran) and holds the roster's lock until the file is replaced. A
    /// file that does not parse (someone is editing it) is left as it is and
    /// the edit refused, naming the file and the line.
    pub fn edit_roster<T>(self: &Arc<Self>, edit: impl FnOnce(&mut Roster) -> T) -> Result<T> {
        let config_dir = self.state.lock().unwrap().settings.config_dir.clone();
        // Not under the state's lock: waiting for the roster's lock must not
        // stop the poller or the window from reading the state.
        let (out, roster) = Roster::edit_file(&config_dir, edit)?;
        {
            let mut state = self.state.lock().unwrap();
            state.roster_stamp = FileStamp::of(roster.path());
            install_roster(&mut state, roster);
        }
        self.emit_roster();
        self.load_photos_later();
        Ok(out)
    }

    /// Follows the roster file for edits made outside the app (`presently
    /// roster add`, an editor) until the monitor is dropped: every `every`
    /// it runs [`Monitor::reload_roster_if_changed`].
    pub async fn follow_roster_file(self: Arc<Self>, every: Duration) {
        let monitor = Arc::downgrade(&self);
        drop(self);
        loop {
            tokio::time::sleep(every).await;
            match monitor.upgrade() {
                Some(m) => {
                    m.reload_roster_if_changed();
                }
                None => return,
            }
        }
    }

    /// Takes in the roster file if it changed since the app last read or
    /// wrote it (modification time or size), as if the window had made the
    /// edit; true if the roster changed. A file that is not a valid roster is
    /// left alone, and the roster in memory kept, until it changes again.
    pub fn reload_roster_if_changed(self: &Arc<Self>) -> bool {
        let changed = {
            let mut state = self.state.lock().unwrap();
            let path = state.roster.path().to_path_buf();
            let stamp = FileStamp::of(&path);
            if stamp == state.roster_stamp {
                return false;
            }
            state.roster_stamp = stamp;
            match Roster::read(&path) {
                Ok(roster) if roster.teammates() == state.roster.teammates() => {
                    // Fixed, to what the app already had.
                    state.roster_problem.take().is_some()
                }
                Ok(roster) => {
                    install_roster(&mut state, roster);
                    true
                }
                Err(e) => {
                    tracing::warn!(error = %e, "the roster file changed but could not be read; keeping the roster");
                    false
                }
            }
        };
        if changed {
            self.emit_roster();
            self.load_photos_later();
        }
        changed
    }
}

/// Makes `roster` (read or written whole) the one shown and polled; the
/// broker forgets whoever left.
pub(super) fn install_roster(state: &mut State, roster: Roster) {
    state.roster_problem = None;
    if let Some(engine) = &state.engine {
        engine.set_ids(roster.ids());
    }
    if let Some(reader) = &state.calendar {
        reader.set_people(calendar_people(&roster));
        let ids: std::collections::HashSet<String> = roster.ids().into_iter().collect();
        state.outlooks.retain(|id, _| ids.contains(id));
    }
    state.roster = roster;
}

/// What says a file changed: its modification time and size.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct FileStamp {
    modified: Option<std::time::SystemTime>,
    len: u64,
}

impl FileStamp {
    /// `None` when there is no file.
    pub(super) fn of(path: &std::path::Path) -> Option<FileStamp> {
        let meta = std::fs::metadata(path).ok()?;
        Some(FileStamp {
            modified: meta.modified().ok(),
            len: meta.len(),
        })
    }
}
