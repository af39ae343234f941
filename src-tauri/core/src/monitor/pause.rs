//! Pausing notifications, and saying so again when the pause runs out.

use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};

use super::{Monitor, MonitorEvent};

impl Monitor {
    /// Pauses notifications for `length` (zero resumes); returns until when.
    /// The front ends hear of it, and again when the pause runs out.
    pub fn pause_notifications_for(self: &Arc<Self>, length: Duration) -> Option<DateTime<Utc>> {
        let until = (!length.is_zero()).then(|| {
            self.clock.now() + chrono::Duration::from_std(length).unwrap_or(chrono::Duration::MAX)
        });
        let ends = until.and_then(|_| {
            let runtime = tokio::runtime::Handle::try_current().ok()?;
            let me = self.clone();
            Some(runtime.spawn(async move {
                tokio::time::sleep(length).await;
                me.emit(MonitorEvent::Pause(None));
            }))
        });
        {
            let mut state = self.state.lock().unwrap();
            state.notifier.pause_until(until);
            if let Some(old) = std::mem::replace(&mut state.pause_task, ends) {
                old.abort();
            }
        }
        self.emit(MonitorEvent::Pause(until));
        until
    }

    pub fn notifications_paused_until(&self) -> Option<DateTime<Utc>> {
        self.state
            .lock()
            .unwrap()
            .notifier
            .paused_until(self.clock.now())
    }
}
