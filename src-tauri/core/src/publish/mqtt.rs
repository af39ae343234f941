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
//! however long it was away. The connection is retried with backoff, which
//! starts again from the shortest wait only once a connection stayed up for
//! [`STABLE`]: a broker that accepts and then drops every connection is not
//! reconnected to in a storm.

use std::collections::{BTreeSet, HashMap, HashSet};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::time::Instant;

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
/// How long a connection must have stayed up for the next loss to start
/// again from [`MIN_BACKOFF`].
const STABLE: Duration = Duration::from_secs(30);
/// Messages handed to the MQTT client but not yet on the wire. Small: while
/// the broker is away the latest state waits in our own map instead.
const CLIENT_QUEUE: usize = 16;
/// The largest MQTT packet sent or taken, in bytes. The client's default
/// (10 KiB) is less than one presence with a long note; a presence is at
/// most a few tens of KiB (notes are cut at 4,000 characters), and brokers
/// take far more (Mosquitto: 256 MiB).
pub const MAX_PACKET_BYTES: usize = 256 * 1024;

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
    check_plaintext, check_topic_prefix, host_and_port, parse_broker_url, password_entry,
    DEFAULT_TOPIC_PREFIX,
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

    /// An empty retained message for `topic`, sent once: the broker then
    /// holds nothing there, and nothing is sent there again (after a
    /// reconnection either) until [`Shared::set`] says otherwise.
    fn clear(&self, topic: String) {
        {
            let mut r = self.retained.lock().unwrap_or_else(|e| e.into_inner());
            if r.payloads.get(&topic).is_some_and(Vec::is_empty) {
                return;
            }
            r.unsent.insert(topic.clone());
            r.payloads.insert(topic, Vec::new());
        }
        self.wake.notify_one();
    }

    fn next_unsent(&self) -> Option<(String, Vec<u8>)> {
        let mut r = self.retained.lock().unwrap_or_else(|e| e.into_inner());
        let topic = r.unsent.pop_first()?;
        let payload = r.payloads.get(&topic)?.clone();
        if payload.is_empty() {
            // A clearing goes once; what the broker should hold afterwards
            // is nothing, which needs no resending.
            r.payloads.remove(&topic);
        }
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
        options.set_max_packet_size(MAX_PACKET_BYTES, MAX_PACKET_BYTES);
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

    /// A teammate taken off the roster: their retained presence is cleared
    /// at the broker (an empty retained message), and not sent again.
    pub fn forget(&self, id: &str) {
        self.shared.clear(self.topics.person(id, Whose::Teammate));
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

/// The wait before the next connection try.
#[derive(Debug)]
struct Backoff {
    next: Duration,
    /// When the current connection was made, while it is up.
    up_since: Option<Instant>,
}

impl Backoff {
    fn new() -> Backoff {
        Backoff {
            next: MIN_BACKOFF,
            up_since: None,
        }
    }

    fn connected(&mut self, now: Instant) {
        self.up_since = Some(now);
    }

    /// The connection is lost (or was refused): how long to wait, before
    /// jitter. Doubles each time, up to [`MAX_BACKOFF`], unless the
    /// connection that was lost had stayed up for [`STABLE`].
    fn lost(&mut self, now: Instant) -> Duration {
        if self
            .up_since
            .take()
            .is_some_and(|since| now.duration_since(since) >= STABLE)
        {
            self.next = MIN_BACKOFF;
        }
        let wait = self.next;
        self.next = (self.next * 2).min(MAX_BACKOFF);
        wait
    }
}

/// Runs the connection: every successful connection re-sends the whole
/// state; a lost or refused one is tried again after a growing, jittered
/// wait (many clients of one broker must not come back in step).
async fn drive(mut eventloop: EventLoop, shared: Arc<Shared>, broker: String) {
    let mut backoff = Backoff::new();
    let mut down = false;
    loop {
        match eventloop.poll().await {
            Ok(Event::Incoming(Packet::ConnAck(_))) => {
                if down {
                    tracing::warn!("Connected to the MQTT broker {broker} again.");
                }
                tracing::info!("Publishing to the MQTT broker {broker}.");
                down = false;
                backoff.connected(Instant::now());
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
                tokio::time::sleep(backoff.lost(Instant::now()).mul_f64(jitter)).await;
            }
        }
    }
}

/// Whether a retained PUBLISH of `payload` to `topic` fits in
/// [`MAX_PACKET_BYTES`]: its fixed header (at most 5 bytes), the topic's
/// length and text, the packet ID and the payload.
fn fits(topic: &str, payload: &[u8]) -> bool {
    5 + 2 + topic.len() + 2 + payload.len() <= MAX_PACKET_BYTES
}

/// Sends unsent topics, each with its payload as it is when sent: a topic
/// that changed twice while waiting is sent once, with the newer payload.
/// One that cannot be sent at all is said once and left out; the others go
/// on (handed to the client, it would end the connection, and every
/// reconnection would end the same way).
async fn write(client: AsyncClient, shared: Arc<Shared>) {
    let mut too_large = HashSet::new();
    loop {
        while let Some((topic, payload)) = shared.next_unsent() {
            if !fits(&topic, &payload) {
                if too_large.insert(topic.clone()) {
                    tracing::warn!(
                        "The MQTT message for {topic} is {} KiB, more than the {} KiB one message may hold; it is not sent (the others are).",
                        payload.len().div_ceil(1024),
                        MAX_PACKET_BYTES / 1024
                    );
                }
                continue;
            }
            too_large.remove(&topic);
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
        assert!(check_topic_prefix("home/teams-$1").is_ok());
        assert!(check_topic_prefix(&"p".repeat(256)).is_ok());
        let long = "p".repeat(257);
        for (bad, why) in [
            ("", "empty"),
            ("a/#", "wildcards"),
            ("a/+/b", "wildcards"),
            ("a/", "ends in /"),
            ("a\0", "control character"),
            ("a\u{1b}[2Jb", "control character"),
            ("$SYS/presently", "broker's own topics"),
            (long.as_str(), "longer than 256 bytes"),
        ] {
            let e = check_topic_prefix(bad).unwrap_err().to_string();
            assert!(e.contains(why), "{bad:?}: {e}");
            assert!(!e.contains(['\0', '\u{1b}']), "{bad:?}: {e}");
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
    fn backoff_starts_again_only_after_a_connection_that_lasted() {
        let start = Instant::now();
        let mut b = Backoff::new();
        // A broker that takes each connection and drops it at once: the
        // waits grow as if it were away.
        let mut waits = Vec::new();
        for i in 0..9 {
            let at = start + Duration::from_secs(i * 100);
            b.connected(at);
            waits.push(b.lost(at + Duration::from_secs(1)).as_millis());
        }
        assert_eq!(
            waits,
            [500, 1_000, 2_000, 4_000, 8_000, 16_000, 32_000, 60_000, 60_000]
        );
        // Refused without connecting: still growing.
        assert_eq!(b.lost(start), MAX_BACKOFF);
        // A connection that stayed up 30 s: the next loss starts over.
        b.connected(start);
        assert_eq!(b.lost(start + STABLE), MIN_BACKOFF);
        assert_eq!(b.lost(start + STABLE), MIN_BACKOFF * 2);
    }

    #[test]
    fn a_presence_with_a_long_note_fits_one_message_and_a_larger_one_is_known() {
        let mut p = crate::presence::Presence::unknown("a");
        // Both texts at their longest, in characters JSON escapes as \uXXXX.
        let longest = "\u{1}".repeat(crate::presence::MAX_NOTE_CHARS);
        p.status_message = Some(longest.clone());
        p.out_of_office = Some(crate::presence::OutOfOffice {
            is_out_of_office: true,
            message: Some(longest),
        });
        let at = chrono::Utc::now();
        let body = super::super::person_json(&p, Whose::Teammate, "contoso", &at, None);
        let payload = body.to_string().into_bytes();
        assert!(payload.len() > 40_000, "{}", payload.len());
        assert!(fits("presently/contoso/a", &payload));
        assert!(!fits("t", &vec![b'x'; MAX_PACKET_BYTES]));
    }

    #[test]
    fn a_forgotten_topic_is_cleared_once_and_never_resent() {
        let s = Shared {
            retained: Mutex::new(Retained::default()),
            wake: Notify::new(),
        };
        s.set("a".into(), b"1".to_vec());
        s.set("b".into(), b"2".to_vec());
        while s.next_unsent().is_some() {}
        s.clear("a".into());
        s.clear("a".into());
        assert_eq!(s.next_unsent(), Some(("a".into(), Vec::new())));
        assert_eq!(s.next_unsent(), None, "cleared once");
        // After a reconnection only what the broker should hold goes again.
        s.resend_all();
        assert_eq!(s.next_unsent(), Some(("b".into(), b"2".to_vec())));
        assert_eq!(s.next_unsent(), None);
        // Back on the roster, back at the broker.
        s.set("a".into(), b"3".to_vec());
        assert_eq!(s.next_unsent(), Some(("a".into(), b"3".to_vec())));
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
