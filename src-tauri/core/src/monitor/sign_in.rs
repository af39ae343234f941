//! Sign-in: resuming the stored one, starting one by code or in the browser
//! (the second of two quick clicks replaces the first), cancelling, signing out.

use std::sync::Arc;

use crate::auth::{self, Prompt, Session, SignInFlow, SignInMethod};
use crate::error::Result;

use super::{CodeShown, Monitor, MonitorEvent, SignInState};

impl Monitor {
    pub(super) fn set_sign_in(&self, state: SignInState) {
        self.state.lock().unwrap().sign_in = state.clone();
        self.emit(MonitorEvent::SignIn(state));
    }

    pub fn sign_in_state(&self) -> SignInState {
        self.state.lock().unwrap().sign_in.clone()
    }

    /// Resumes a stored sign-in, if there is one, and starts polling.
    pub async fn start(self: &Arc<Self>) {
        let settings = self.settings();
        match Session::resume(&settings, self.store.clone()).await {
            Ok(session) => self.signed_in(session),
            Err(e) if e.needs_sign_in() => {
                self.set_sign_in(SignInState::SignedOut { reason: None })
            }
            Err(e) => self.set_sign_in(SignInState::failed(&e)),
        }
    }

    /// Starts the device-code flow and returns the code to show. The outcome
    /// arrives as a [`MonitorEvent::SignIn`].
    pub async fn begin_sign_in(self: &Arc<Self>) -> Result<CodeShown> {
        match self.begin(SignInMethod::DeviceCode).await? {
            SignInState::SigningIn { code } => Ok(code),
            other => unreachable!("a device code sign-in shows a code, not {other:?}"),
        }
    }

    /// Starts the sign-in in the browser and returns the address to open
    /// there. The outcome arrives as a [`MonitorEvent::SignIn`].
    pub async fn begin_browser_sign_in(self: &Arc<Self>) -> Result<String> {
        match self.begin(SignInMethod::Browser).await? {
            SignInState::InBrowser { url } => Ok(url),
            other => unreachable!("a browser sign-in shows a page, not {other:?}"),
        }
    }

    /// Starts a sign-in (replacing one under way), says what the person is
    /// to do, and waits for them in the background; then stores the sign-in
    /// and starts polling.
    async fn begin(self: &Arc<Self>, method: SignInMethod) -> Result<SignInState> {
        let mut flow = SignInFlow::new(&self.settings())?;
        if self.settings().calendar {
            flow = flow.with_calendar_access();
        }
        self.begin_with(flow, method).await
    }

    /// [`Monitor::begin`] with the flow given (one that asks for more).
    pub(super) async fn begin_with(
        self: &Arc<Self>,
        flow: SignInFlow,
        method: SignInMethod,
    ) -> Result<SignInState> {
        let _gate = self.sign_in_gate.lock().await;
        self.cancel_sign_in();
        let started = flow.begin(method).await?;
        let waiting = match started.prompt() {
            Prompt::Code(code) => SignInState::SigningIn {
                code: CodeShown::of(code),
            },
            Prompt::Browser { url } => SignInState::InBrowser {
                url: url.to_string(),
            },
        };
        self.set_sign_in(waiting.clone());
        let me = self.clone();
        let task = tokio::spawn(async move {
            let settings = me.settings();
            match started
                .finish(me.store.clone())
                .await
                .and_then(|stored| Session::from_stored(&settings, me.store.clone(), stored))
            {
                Ok(session) => me.signed_in(session),
                Err(e) => {
                    // A status change waiting for this sign-in is not made.
                    me.state.lock().unwrap().status_after_consent = None;
                    me.set_sign_in(SignInState::failed(&e))
                }
            }
        });
        self.state.lock().unwrap().sign_in_task = Some(task);
        Ok(waiting)
    }

    /// Whether a sign-in (by code or in the browser) is waiting to finish.
    pub fn sign_in_running(&self) -> bool {
        self.state
            .lock()
            .unwrap()
            .sign_in_task
            .as_ref()
            .is_some_and(|t| !t.is_finished())
    }

    pub fn cancel_sign_in(&self) {
        let task = {
            let mut state = self.state.lock().unwrap();
            state.status_after_consent = None;
            state.sign_in_task.take()
        };
        if let Some(task) = task {
            task.abort();
            if matches!(
                self.sign_in_state(),
                SignInState::SigningIn { .. } | SignInState::InBrowser { .. }
            ) {
                self.set_sign_in(SignInState::SignedOut { reason: None });
            }
        }
    }

    /// Stops polling and removes the stored sign-in. The roster stays.
    pub async fn sign_out(&self) -> Result<()> {
        self.end_session();
        let settings = self.settings();
        let store = self.store.clone();
        auth::blocking(move || auth::sign_out(&settings, store.as_ref()).map(|_| ())).await?;
        self.set_sign_in(SignInState::SignedOut { reason: None });
        Ok(())
    }
}
