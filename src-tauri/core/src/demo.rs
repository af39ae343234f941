//! `--demo`: Presently against a simulated tenant started in this process, so
//! that anyone can see it work without a Microsoft account. Its tokens live in
//! memory and its files in a temporary directory: the demo never touches the
//! user's keyring or config.

use std::collections::HashMap;
use std::sync::Arc;

use crate::auth::{Session, SignInFlow, SignInMethod};
use crate::config::{Overrides, Settings};
use crate::error::{Error, Result};
use crate::roster::{Roster, Teammate};
use crate::token_store::{MemoryStore, TokenStore};
use presently_sim::{Sim, SimConfig};

/// How many teammates the window demo starts with.
const DEMO_ROSTER: usize = 10;

pub struct Demo {
    pub sim: Sim,
    pub settings: Settings,
    pub store: Arc<dyn TokenStore>,
    // Kept so that the directory lives as long as the demo.
    _config_dir: tempfile::TempDir,
}

impl Demo {
    /// Starts the simulated tenant. With `auto_approve`, sign-in codes are
    /// approved at once (for the terminal, where nobody opens a browser).
    pub async fn start(overrides: &Overrides, auto_approve: bool) -> Result<Demo> {
        let sim = Sim::start(SimConfig {
            auto_approve,
            ..Default::default()
        })
        .await
        .map_err(|e| Error::Config(format!("The demo tenant could not start: {e}")))?;
        let config_dir = tempfile::tempdir()
            .map_err(|e| Error::Storage(format!("The demo could not create its folder: {e}")))?;
        let settings = Settings::resolve(&Overrides {
            login_url: Some(sim.url()),
            graph_url: Some(sim.url()),
            config_dir: Some(config_dir.path().to_path_buf()),
            cloud: None,
            tenant: None,
            client_id: None,
            interval_secs: overrides.interval_secs,
            // The demo shows every feature: "when they will be free" too.
            calendar: Some(overrides.calendar.unwrap_or(true)),
        })?;
        Ok(Demo {
            sim,
            settings,
            store: Arc::new(MemoryStore::new()),
            _config_dir: config_dir,
        })
    }

    /// Signs in through the real device-code flow (approved by the simulator).
    pub async fn sign_in(&self) -> Result<Arc<Session>> {
        let mut flow = SignInFlow::new(&self.settings)?;
        if self.settings.calendar {
            flow = flow.with_calendar_access();
        }
        let started = flow.begin(SignInMethod::DeviceCode).await?;
        let stored = started.finish(self.store.clone()).await?;
        Session::from_stored(&self.settings, self.store.clone(), stored)
    }

    /// A starting roster for the window: the demo user's manager, peers and
    /// reports, with the bell on for a few and a couple of favorites, so that
    /// the first screen after sign-in shows the product at work.
    pub fn seed_roster(&self) -> Result<()> {
        let users = self.sim.users();
        let me = &users[0];
        let close: Vec<_> = users
            .iter()
            .skip(1)
            .filter(|u| {
                me.manager_id.as_deref() == Some(u.id.as_str())
                    || u.manager_id == me.manager_id
                    || u.manager_id.as_deref() == Some(me.id.as_str())
            })
            .chain(users.iter().skip(1))
            .take(DEMO_ROSTER)
            .collect();
        let mut roster = Roster::load(&self.settings.config_dir)?;
        for (i, u) in close.into_iter().enumerate() {
            roster.add(Teammate {
                id: u.id.clone(),
                display_name: u.display_name.clone(),
                user_principal_name: u.user_principal_name.clone(),
                mail: u.mail.clone(),
                job_title: u.job_title.clone(),
                notify: i % 3 == 0,
                favorite: i < 2,
                ..Default::default()
            });
        }
        roster.save()
    }

    /// Everyone in the demo directory but the signed-in user.
    pub fn roster_ids(&self) -> Vec<String> {
        self.sim.users().into_iter().skip(1).map(|u| u.id).collect()
    }

    pub fn names(&self) -> HashMap<String, String> {
        self.sim
            .users()
            .into_iter()
            .map(|u| (u.id, u.display_name))
            .collect()
    }

    pub fn banner(&self) -> String {
        let me = &self.sim.users()[0];
        format!(
            "Demo: a simulated tenant at {} with {} people; signed in as {}. Presence changes every few seconds.",
            self.sim.url(),
            self.sim.users().len(),
            me.display_name
        )
    }
}
