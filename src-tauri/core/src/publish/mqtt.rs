//! Presence as retained MQTT messages, and Home Assistant's discovery of
//! your own presence as a sensor.
//!
//! Topics (the prefix is `presently` unless `--topic-prefix` says otherwise):
//! - `<prefix>/<tenant>/<user id>`: a teammate's presence, retained JSON;
//! - `<prefix>/<tenant>/me`: your own;
//! - `<prefix>/<tenant>/status`: `online` while publishing, `offline`
//!   (the broker's last will) once the connection is gone, retained;
//! - `homeassistant/sensor/presently_<your id>/config`: the discovery
//!   message, retained, per <https://www.home-assistant.io/integrations/mqtt/#mqtt-discovery>.
//!
//! Nothing here waits for the broker on the engine's behalf. Each topic's
//! latest payload is kept; a writer task sends what changed, and after every
//! (re)connection everything again, so the broker holds the current state
//! however long it was away. The connection is retried with backoff.

use std::collections::{BTreeSet, HashMap};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use rand::Rng;
use rumqttc::{
    AsyncClient, Event, EventLoop, LastWill, MqttOptions, Packet, QoS, TlsConfiguration, Transport,
};
use serde_json::{json, Value};
use tokio::sync::Notify;
use tokio::task::JoinHandle;
use url::Url;

use super::Whose;
use crate::error::{Error, Result};
use crate::secret::Secret;

/// Home Assistant's default discovery prefix.
pub const DISCOVERY_PREFIX: &str = "homeassistant";
/// The first wait after the broker is lost, doubled up to the longest.
const MIN_BACKOFF: Duration = Duration::from_millis(500);
const MAX_BACKOFF: Duration = Duration::from_secs(60);
/// Messages handed to the MQTT client but not yet on the wire. Small: while
/// the broker is away the latest state waits in our own map instead.
const CLIENT_QUEUE: usize = 16;

/// A broker and how to publish there.
#[derive(Debug, Clone)]
pub struct MqttTarget {
    /// `mqtt://host[:port]` or `mqtts://host[:port]`, from [`parse_broker_url`].
    pub url: Url,
    pub username: Option<String>,
    pub password: Option<Secret>,
    /// Replaces `presently` at the start of every topic but discovery's.
    pub topic_prefix: String,
    /// The tenant's segment of the topics.
    pub tenant: String,
    /// Your user ID and name: with them, Home Assistant discovers your
    /// presence as a sensor.
    pub me: Option<(String, String)>,
}

pub use crate::broker::{
    check_topic_prefix, host_and_port, parse_broker_url, password_entry, DEFAULT_TOPIC_PREFIX,
};

/// One level of a topic from a value we do not control (a tenant name):
/// the characters that would make it several levels or a wildcard go.
fn topic_level(raw: &str) -> String {
    raw.chars()
        .map(|c| {
            if matches!(c, '/' | '+' | '#' | '\0') {
                '_'
            } else {
                c
            }
        })
        .collect()
}

/// Topics for one target.
#[derive(Debug, Clone)]
struct Topics {
    base: String,
}

impl Topics {
    fn new(target: &MqttTarget) -> Topics {
        Topics {
            base: format!("{}/{}", target.topic_prefix, topic_level(&target.tenant)),
        }
    }

    fn person(&self, id: &str, whose: Whose) -> String {
        match whose {
            Whose::Mine => format!("{}/me", self.base),
            Whose::Teammate => format!("{}/{}", self.base, topic_level(id)),
        }
    }

    fn status(&self) -> String {
        format!("{}/status", self.base)
    }
}

/// Home Assistant's discovery message for your presence: a sensor whose
/// state is your availability and whose attributes are the rest of the JSON.
fn discovery(topics: &Topics, my_id: &str, my_name: &str) -> (String, Value) {
    let object_id = format!("presently_{}", topic_level(my_id).replace('-', "_"));
    let version = env!("CARGO_PKG_VERSION");
    let config = json!({
        "name": "Teams presence",
        "unique_id": object_id,
        "state_topic": topics.person(my_id, Whose::Mine),
        "value_template": "{{ value_json.availability }}",
        "json_attributes_topic": topics.person(my_id, Whose::Mine),
        "availability_topic": topics.status(),
        "payload_available": "online",
        "payload_not_available": "offline",
        "icon": "mdi:microsoft-teams",
        "device": {
            "identifiers": [object_id],
            "name": format!("Presently ({my_name})"),
            "manufacturer": "Presently",
            "model": "Microsoft Teams presence",
            "sw_version": version,
        },
        "origin": {"name": "Presently", "sw_version": version},
    });
    (
        format!("{DISCOVERY_PREFIX}/sensor/{object_id}/config"),
        config,
    )
}

/// What the broker should hold: each topic's latest payload, and the topics
/// not yet sent since they changed or since the last connection.
#[derive(Default)]
struct Retained {
    payloads: HashMap<String, Vec<u8>>,
    unsent: BTreeSet<String>,
}

struct Shared {
    retained: Mutex<Retained>,
    wake: Notify,
}

impl Shared {
    fn set(&self, topic: String, payload: Vec<u8>) {
        {
            // A std Mutex: it is held for a map insert, never across an await.
            let mut r = self.retained.lock().unwrap_or_else(|e| e.into_inner());
            if r.payloads.get(&topic) == Some(&payload) {
                return;
            }
            r.unsent.insert(topic.clone());
            r.payloads.insert(topic, payload);
        }
        self.wake.notify_one();
    }

    fn resend_all(&self) {
        {
            let mut r = self.retained.lock().unwrap_or_else(|e| e.into_inner());
            let all: Vec<String> = r.payloads.keys().cloned().collect();
            r.unsent.extend(all);
        }
        self.wake.notify_one();
    }

    fn next_unsent(&self) -> Option<(String, Vec<u8>)> {
        let mut r = self.retained.lock().unwrap_or_else(|e| e.into_inner());
        let topic = r.unsent.pop_first()?;
        let payload = r.payloads.get(&topic)?.clone();
        Some((topic, payload))
    }
}

/// Publishes to one broker until dropped.
pub struct MqttPublisher {
    shared: Arc<Shared>,
    topics: Topics,
    tasks: Vec<JoinHandle<()>>,
}

impl std::fmt::Debug for MqttPublisher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MqttPublisher")
            .field("topics", &self.topics.base)
            .finish_non_exhaustive()
    }
}

impl Drop for MqttPublisher {
    fn drop(&mut self) {
        for task in &self.tasks {
            task.abort();
        }
    }
}

impl MqttPublisher {
    /// Starts connecting (in the background: a broker that is away now is
    /// tried again with backoff) and publishes the discovery message and
    /// `online` once connected. Needs a tokio runtime.
    pub fn start(target: MqttTarget) -> Result<MqttPublisher> {
        check_topic_prefix(&target.topic_prefix)?;
        let topics = Topics::new(&target);
        let (host, port) = host_and_port(&target.url);
        // A client ID of its own per run: two runs against one broker must
        // not disconnect each other.
        let client_id = format!("presently-{}", uuid::Uuid::new_v4().simple());
        let mut options = MqttOptions::new(client_id, host.clone(), port);
        options.set_keep_alive(Duration::from_secs(30));
        options.set_clean_session(true);
        options.set_last_will(LastWill::new(
            topics.status(),
            "offline",
            QoS::AtLeastOnce,
            true,
        ));
        if let Some(user) = &target.username {
            let password = target.password.as_ref().map(Secret::expose).unwrap_or("");
            options.set_credentials(user.clone(), password);
        }
        if target.url.scheme() == "mqtts" {
            options.set_transport(Transport::tls_with_config(TlsConfiguration::Rustls(
                Arc::new(tls_config()?),
            )));
        }
        let (client, eventloop) = AsyncClient::new(options, CLIENT_QUEUE);
        let shared = Arc::new(Shared {
            retained: Mutex::new(Retained::default()),
            wake: Notify::new(),
        });
        shared.set(topics.status(), b"online".to_vec());
        if let Some((id, name)) = &target.me {
            let (topic, config) = discovery(&topics, id, name);
            shared.set(topic, config.to_string().into_bytes());
        }
        let broker = format!("{}://{host}:{port}", target.url.scheme());
        let tasks = vec![
            tokio::spawn(drive(eventloop, shared.clone(), broker)),
            tokio::spawn(write(client, shared.clone())),
        ];
        Ok(MqttPublisher {
            shared,
            topics,
            tasks,
        })
    }

    /// Sets one person's retained presence.
    pub fn presence(&self, id: &str, whose: Whose, body: &Value) {
        self.shared
            .set(self.topics.person(id, whose), body.to_string().into_bytes());
    }
}

/// TLS as the rest of Presently does it: ring, and both Mozilla's roots and
/// the OS store (where companies that inspect TLS put their own).
fn tls_config() -> Result<rustls::ClientConfig> {
    let mut roots = rustls::RootCertStore::empty();
    roots.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned());
    for cert in rustls_native_certs::load_native_certs().certs {
        // One unreadable certificate in the OS store must not stop the rest.
        let _ = roots.add(cert);
    }
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    Ok(rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| Error::Config(format!("Could not set up TLS for MQTT: {e}")))?
        .with_root_certificates(roots)
        .with_no_client_auth())
}

/// Runs the connection: every successful connection re-sends the whole
/// state; a lost or refused one is tried again after a growing, jittered
/// wait (many clients of one broker must not come back in step).
async fn drive(mut eventloop: EventLoop, shared: Arc<Shared>, broker: String) {
    let mut backoff = MIN_BACKOFF;
    let mut down = false;
    loop {
        match eventloop.poll().await {
            Ok(Event::Incoming(Packet::ConnAck(_))) => {
                if down {
                    tracing::warn!("Connected to the MQTT broker {broker} again.");
                }
                tracing::info!("Publishing to the MQTT broker {broker}.");
                down = false;
                backoff = MIN_BACKOFF;
                shared.resend_all();
            }
            Ok(_) => {}
            Err(e) => {
                // Once per outage on the terminal; every try in the debug log.
                if !down {
                    tracing::warn!(
                        "The MQTT broker {broker} cannot be reached ({e}); trying again, polling goes on."
                    );
                } else {
                    tracing::debug!("MQTT broker {broker}: {e}");
                }
                down = true;
                let jitter = rand::thread_rng().gen_range(0.8..1.2);
                tokio::time::sleep(backoff.mul_f64(jitter)).await;
                backoff = (backoff * 2).min(MAX_BACKOFF);
            }
        }
    }
}

/// Sends unsent topics, each with its payload as it is when sent: a topic
/// that changed twice while waiting is sent once, with the newer payload.
async fn write(client: AsyncClient, shared: Arc<Shared>) {
    loop {
        while let Some((topic, payload)) = shared.next_unsent() {
            // Waits while the client's queue is full (the broker is away):
            // only this task waits, and meanwhile newer payloads replace
            // older ones in the map.
            if client
                .publish(topic, QoS::AtLeastOnce, true, payload)
                .await
                .is_err()
            {
                return;
            }
        }
        shared.wake.notified().await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn broker_addresses() {
        let url = parse_broker_url("mqtt://127.0.0.1:1884").unwrap();
        assert_eq!(host_and_port(&url), ("127.0.0.1".into(), 1884));
        let url = parse_broker_url("mqtts://broker.example").unwrap();
        assert_eq!(host_and_port(&url), ("broker.example".into(), 8883));
        let url = parse_broker_url("mqtt://[::1]").unwrap();
        assert_eq!(host_and_port(&url), ("::1".into(), 1883));
        assert_eq!(
            password_entry(&url, "ha"),
            "mqtt:ha@::1:1883",
            "one keyring entry per user and broker"
        );
        for bad in [
            "http://127.0.0.1:1883",
            "127.0.0.1:1883",
            "mqtt://",
            "mqtt://127.0.0.1/topic",
            "mqtt://127.0.0.1?x=1",
        ] {
            let e = parse_broker_url(bad).unwrap_err();
            assert!(matches!(e, Error::Config(_)), "{bad}: {e:?}");
        }
    }

    #[test]
    fn a_password_in_the_address_is_refused_and_not_repeated() {
        let e = parse_broker_url("mqtt://ha:hunter2@127.0.0.1").unwrap_err();
        assert!(matches!(e, Error::Config(_)));
        assert!(!e.to_string().contains("hunter2"), "{e}");
    }

    #[test]
    fn topics_and_prefixes() {
        let target = MqttTarget {
            url: parse_broker_url("mqtt://127.0.0.1").unwrap(),
            username: None,
            password: None,
            topic_prefix: "home/teams".into(),
            tenant: "contoso/+#".into(),
            me: None,
        };
        let t = Topics::new(&target);
        assert_eq!(
            t.person("abc", Whose::Teammate),
            "home/teams/contoso___/abc"
        );
        assert_eq!(t.person("abc", Whose::Mine), "home/teams/contoso___/me");
        assert_eq!(t.status(), "home/teams/contoso___/status");
        assert!(check_topic_prefix("presently").is_ok());
        for bad in ["", "a/#", "a/+/b", "a/", "a\0"] {
            assert!(check_topic_prefix(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn home_assistant_discovers_a_sensor_of_your_availability() {
        let t = Topics {
            base: "presently/contoso".into(),
        };
        let (topic, c) = discovery(&t, "fa8bf3dc-eca7-46b7-bad1-db199b62afc3", "Megan");
        assert_eq!(
            topic,
            "homeassistant/sensor/presently_fa8bf3dc_eca7_46b7_bad1_db199b62afc3/config"
        );
        assert_eq!(c["state_topic"], "presently/contoso/me");
        assert_eq!(c["json_attributes_topic"], "presently/contoso/me");
        assert_eq!(c["availability_topic"], "presently/contoso/status");
        assert_eq!(c["value_template"], "{{ value_json.availability }}");
        assert_eq!(c["unique_id"], c["device"]["identifiers"][0]);
    }

    #[test]
    fn a_topic_is_resent_once_with_its_newest_payload() {
        let s = Shared {
            retained: Mutex::new(Retained::default()),
            wake: Notify::new(),
        };
        s.set("a".into(), b"1".to_vec());
        s.set("a".into(), b"2".to_vec());
        s.set("b".into(), b"x".to_vec());
        assert_eq!(s.next_unsent(), Some(("a".into(), b"2".to_vec())));
        assert_eq!(s.next_unsent(), Some(("b".into(), b"x".to_vec())));
        assert_eq!(s.next_unsent(), None);
        s.set("b".into(), b"x".to_vec());
        assert_eq!(
            s.next_unsent(),
            None,
            "an unchanged payload is not sent again"
        );
        s.resend_all();
        assert_eq!(s.next_unsent().map(|(t, _)| t), Some("a".into()));
        assert_eq!(s.next_unsent().map(|(t, _)| t), Some("b".into()));
    }
}
