//! Settings: changed from the window, or a broken config file waited for
//! until it is fixed.

use std::sync::Arc;
use std::time::Duration;

use crate::config::{Overrides, Settings};
use crate::error::{ConfigProblem, Error};

use super::{Monitor, MonitorEvent};

impl Monitor {
    pub fn settings(&self) -> Settings {
        self.state.lock().unwrap().settings.clone()
    }

    /// For an app that began on the defaults because the config file could
    /// not be used (`known` says why): reads the file again every `every`
    /// until it can be used, telling each new problem once, then says it is
    /// fixed and starts on it.
    pub async fn start_when_config_is_fixed(
        self: Arc<Self>,
        overrides: Overrides,
        mut known: Option<ConfigProblem>,
        every: Duration,
    ) {
        loop {
            tokio::time::sleep(every).await;
            match Settings::resolve(&overrides) {
                Ok(settings) => {
                    tracing::info!("the config file can be used again");
                    self.emit(MonitorEvent::ConfigProblem(None));
                    self.start_with(settings).await;
                    return;
                }
                Err(Error::ConfigFile(problem)) => {
                    if known.as_ref() != Some(&problem) {
                        tracing::error!("{problem}");
                        self.emit(MonitorEvent::ConfigProblem(Some(problem.clone())));
                        known = Some(problem);
                    }
                }
                Err(e) => tracing::error!("the settings could not be read: {e}"),
            }
        }
    }

    /// Takes `settings` and starts, for an app that began without usable
    /// settings (a config file it could not read, now fixed).
    pub async fn start_with(self: &Arc<Self>, settings: Settings) {
        {
            let mut state = self.state.lock().unwrap();
            state.notifier.set_quiet_hours(settings.quiet_hours.hours());
            state.settings = settings;
        }
        self.start().await;
    }

    /// Replaces the settings (cloud, tenant, client, interval, quiet hours):
    /// a different cloud, tenant or client means a different sign-in.
    pub async fn apply_settings(self: &Arc<Self>, settings: Settings) {
        let same_account = {
            let mut state = self.state.lock().unwrap();
            let same = state.settings.keyring_account() == settings.keyring_account()
                && state.settings.login_url == settings.login_url
                && state.settings.graph_url == settings.graph_url;
            // The same sign-in keeps its engine: its pace and the Graph
            // client's Retry-After gate stay; only the interval asked for moves.
            if same && state.settings.interval != settings.interval {
                if let Some(engine) = &state.engine {
                    engine.set_interval(settings.interval);
                }
            }
            state.notifier.set_quiet_hours(settings.quiet_hours.hours());
            let calendar_turned = state.settings.calendar != settings.calendar;
            let mqtt_changed = state.settings.mqtt != settings.mqtt;
            state.settings = settings;
            (same, calendar_turned, mqtt_changed)
        };
        let (same_account, calendar_turned, mqtt_changed) = same_account;
        if !same_account {
            self.end_session();
            self.start().await;
            return;
        }
        if calendar_turned {
            self.start_calendar();
        }
        if mqtt_changed {
            self.start_mqtt();
        }
    }
}
