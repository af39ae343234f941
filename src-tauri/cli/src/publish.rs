//! `presently publish`: `watch`, with every presence sent on to an MQTT
//! broker and/or a webhook (the work is in `presently_core::publish`).

use std::io::IsTerminal;
use std::sync::Arc;

use clap::{ArgGroup, Args};

use presently_core::args::{keyring, GlobalArgs};
use presently_core::auth::{self, Session};
use presently_core::config::Settings;
use presently_core::engine::EngineOptions;
use presently_core::graph::GraphClient;
use presently_core::publish::mqtt::{self, DEFAULT_TOPIC_PREFIX};
use presently_core::publish::{self as core_publish, MqttPublisher, MqttTarget, Targets};
use presently_core::publish::{WebhookPublisher, WebhookTarget};
use presently_core::roster::Roster;
use presently_core::token_store::TokenStore;
use presently_core::watch::Printer;
use presently_core::{Error, Secret};

use crate::exit::EXIT_OK;

#[derive(Args, Debug)]
#[command(group(ArgGroup::new("target").required(true).multiple(true).args(["mqtt", "webhook"])))]
pub struct PublishArgs {
    /// The MQTT broker: mqtt://HOST[:PORT] or mqtts://HOST[:PORT] (TLS).
    #[arg(long, value_name = "URL")]
    mqtt: Option<String>,
    /// The broker's user name; its password is read from the keyring, or
    /// asked for once here and kept there.
    #[arg(long, value_name = "NAME", requires = "mqtt")]
    username: Option<String>,
    /// Lets the password go to a broker on another machine over mqtt://,
    /// without TLS (only on a network you trust).
    #[arg(long, requires = "username")]
    allow_plaintext: bool,
    /// The first level of every topic: PREFIX/<tenant>/<user id>.
    #[arg(long, value_name = "PREFIX", default_value = DEFAULT_TOPIC_PREFIX, requires = "mqtt")]
    topic_prefix: String,
    /// POST each change as JSON to this URL (https://, or http:// to this machine).
    #[arg(long, value_name = "URL")]
    webhook: Option<String>,
    /// A header for the webhook, 'Name: value' (may be given more than once).
    #[arg(long = "header", value_name = "NAME: VALUE", requires = "webhook")]
    headers: Vec<String>,
    #[command(flatten)]
    poll: crate::poll::PollArgs,
}

/// Checks every flag before signing in, so that a wrong address fails at
/// once and sends nothing; then polls and publishes until Ctrl-C.
pub async fn run(global: &GlobalArgs, args: PublishArgs) -> presently_core::Result<u8> {
    let webhook = args
        .webhook
        .as_deref()
        .map(|url| WebhookTarget::parse(url, &args.headers))
        .transpose()?;
    let broker = args
        .mqtt
        .as_deref()
        .map(mqtt::parse_broker_url)
        .transpose()?;
    if let Some(url) = &broker {
        mqtt::check_plaintext(url, args.username.as_deref(), args.allow_plaintext)?;
    }
    mqtt::check_topic_prefix(&args.topic_prefix)?;
    let mut overrides = global.overrides();
    overrides.interval_secs = args.poll.interval;
    let settings = Settings::resolve(&overrides)?;
    let explicit_ids = args.poll.explicit_ids()?;
    let session = Session::resume(&settings, keyring()).await?;
    let (roster, problem) = Roster::read_in(&settings.config_dir)?;
    if let Some(problem) = problem {
        eprintln!("presently: {problem}");
    }
    let ids = match explicit_ids {
        Some(ids) => ids,
        None if roster.is_empty() => {
            return Err(Error::Config(
                "Your roster is empty: add teammates with `presently roster add`, or give --ids or --ids-file.".into(),
            ))
        }
        None => roster.ids(),
    };
    let account = session.account().clone();
    let mut targets = Targets::default();
    if let Some(url) = broker {
        let password = match &args.username {
            Some(user) => Some(mqtt_password(&mqtt::password_entry(&url, user), user).await?),
            None => None,
        };
        targets.mqtt = Some(MqttPublisher::start(MqttTarget {
            url,
            username: args.username.clone(),
            password,
            topic_prefix: args.topic_prefix.clone(),
            tenant: account.tenant_key().to_string(),
            me: Some((account.id.clone(), account.display_name.clone())),
        })?);
    }
    if let Some(target) = webhook {
        targets.webhook = Some(WebhookPublisher::start(target)?);
    }
    let calendar =
        crate::poll::calendar_for_watch(&session, args.poll.calendar, &ids, Some(&roster)).await;
    let graph = GraphClient::new(&settings, session)?;
    let options = EngineOptions {
        interval: settings.interval,
        own_id: Some(account.id.clone()),
        ..Default::default()
    };
    let printer = if args.poll.json {
        Printer::json()
    } else {
        Printer::human(
            roster
                .teammates()
                .iter()
                .map(|t| (t.id.clone(), t.name().to_string()))
                .collect(),
        )
    };
    let out = std::io::BufWriter::new(std::io::stdout().lock());
    let publish = core_publish::run_publish(
        graph,
        ids,
        options,
        calendar,
        account.tenant_key().to_string(),
        targets,
        printer,
        out,
    );
    tokio::select! {
        result = publish => result.map(|()| EXIT_OK),
        _ = tokio::signal::ctrl_c() => Ok(EXIT_OK),
    }
}

/// The broker password from the keyring; the first time, asked for on the
/// terminal (not shown as it is typed) and kept there for the next runs.
async fn mqtt_password(entry: &str, user: &str) -> presently_core::Result<Secret> {
    let store: Arc<dyn TokenStore> = keyring();
    let stored = {
        let (store, entry) = (store.clone(), entry.to_string());
        auth::blocking(move || store.load(&entry)).await?
    };
    if let Some(password) = stored {
        return Ok(password);
    }
    if !std::io::stdin().is_terminal() {
        return Err(Error::Config(format!(
            "No MQTT password for {user} is in the keyring yet: run `presently publish` once in a terminal to type it, and it is kept there."
        )));
    }
    let prompt = format!("MQTT password for {user} (kept in the keyring): ");
    let password = tokio::task::spawn_blocking(move || rpassword::prompt_password(prompt))
        .await
        .map_err(|e| Error::Config(format!("Could not read the password: {e}")))?
        .map_err(|e| Error::Config(format!("Could not read the password: {e}")))?;
    let password = Secret::new(password);
    {
        let (store, entry, password) = (store, entry.to_string(), password.clone());
        auth::blocking(move || store.save(&entry, &password)).await?;
    }
    Ok(password)
}
