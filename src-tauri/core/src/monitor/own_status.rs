//! Your own status: set through Graph, asking for the permission the first
//! time, and made once the sign-in that allows it is through.

use std::sync::Arc;

use crate::auth::{self, Session, SignInFlow, SignInMethod};
use crate::error::{Error, Result};
use crate::my_status::MyStatusChange;
use crate::my_status::{self, OwnStatus};
use crate::notify::Notification;
use crate::presence::Presence;

use super::{Monitor, MonitorEvent, MyStatusOutcome};

impl Monitor {
    pub fn me(&self) -> Option<Presence> {
        self.state.lock().unwrap().me.clone()
    }

    /// Changes your own status. The first time, when the sign-in may not
    /// (incremental consent), it signs in again with `method` asking for
    /// that too, keeping every permission given before, and makes the
    /// change once through. Refused at once in the China cloud.
    pub async fn change_my_status(
        self: &Arc<Self>,
        change: MyStatusChange,
        method: SignInMethod,
    ) -> Result<MyStatusOutcome> {
        let settings = self.settings();
        my_status::check_cloud(&settings)?;
        let session = self.state.lock().unwrap().session.clone();
        let Some(session) = session else {
            return Err(Error::SignInNeeded("Sign in first.".into()));
        };
        let granted = session.granted().await;
        if !auth::grants(&granted, auth::PRESENCE_WRITE_SCOPE) {
            let flow = SignInFlow::new(&settings)?
                .keeping(&granted)
                .as_account(session.account())
                .with_status_access();
            let waiting = self.begin_with(flow, method).await?;
            self.state.lock().unwrap().status_after_consent = Some(change);
            return Ok(MyStatusOutcome::Consent(waiting));
        }
        self.make_status_change(&session, change).await?;
        Ok(MyStatusOutcome::Done)
    }

    async fn make_status_change(
        &self,
        session: &Arc<Session>,
        change: MyStatusChange,
    ) -> Result<()> {
        let graph = self.graph()?;
        let account = session.account().clone();
        let own = OwnStatus::new(graph, &account);
        own.apply(&change).await?;
        // Shown at once rather than at the next poll; the poll confirms it.
        match own.read().await {
            Ok(now) => self.emit(MonitorEvent::Me {
                account: Box::new(account),
                presence: Box::new(now.presence),
            }),
            Err(e) => tracing::warn!("your new status could not be read back: {e}"),
        }
        Ok(())
    }

    /// After a sign-in: the status change that waited for it, if any.
    pub(super) fn resume_status_change(self: &Arc<Self>, session: &Arc<Session>) {
        let Some(change) = self.state.lock().unwrap().status_after_consent.take() else {
            return;
        };
        let me = self.clone();
        let session = session.clone();
        tokio::spawn(async move {
            let allowed = auth::grants(&session.granted().await, auth::PRESENCE_WRITE_SCOPE);
            let result = if allowed {
                me.make_status_change(&session, change).await
            } else {
                Err(Error::PermissionNeeded {
                    permission: auth::PRESENCE_WRITE_SCOPE,
                    how: "the sign-in did not grant it; your organisation may not allow it.".into(),
                })
            };
            if let Err(e) = result {
                tracing::warn!("your status could not be set: {e}");
                me.emit(MonitorEvent::Notify(Notification {
                    title: "Your status could not be set".into(),
                    body: e.to_string(),
                    ids: Vec::new(),
                }));
            }
        });
    }
}
