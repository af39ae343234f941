//! Settings: where to sign in, which tenant and app, where to keep files.
//!
//! Each setting comes from, in order of precedence: a command-line flag, its
//! environment variable (both handled by the caller and passed in as
//! [`Overrides`]), the config file `config.toml` in the config dir, and the
//! default. The config file is plain TOML that people may edit; when the app
//! writes it back, only the keys it changed are rewritten: comments, the order
//! of keys and keys this version does not know are kept (`TomlText` and
//! `edit_in_place` do this for the roster too).

use std::fs;
use std::io::Write;
use std::net::IpAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use url::Url;

use crate::cloud::Cloud;
use crate::error::{Error, Result};

/// Microsoft Graph Command Line Tools: a Microsoft public client that allows
/// the device-code flow in most tenants.
pub const DEFAULT_CLIENT_ID: &str = "14d82eec-204b-4c2f-b7e8-296a70dab67e";
pub const DEFAULT_TENANT: &str = "organizations";
pub const CONFIG_FILE: &str = "config.toml";

/// Default and lowest poll interval.
pub const DEFAULT_INTERVAL: Duration = Duration::from_secs(15);
pub const MIN_INTERVAL: Duration = Duration::from_secs(5);
/// The longest poll interval a setting may ask for: a day.
pub const MAX_INTERVAL: Duration = Duration::from_secs(24 * 3600);

/// Delegated permissions asked for at sign-in, each for one feature:
/// `User.Read` to know who signed in, `Presence.Read.All` for teammates'
/// presence (and `/me/presence`), `User.ReadBasic.All` to find people and
/// their photos, `People.Read` for "people I work with", `offline_access` for
/// a refresh token so that sign-in lasts. None of them needs an admin.
pub const SCOPES: &[&str] = &[
    "User.Read",
    "Presence.Read.All",
    "User.ReadBasic.All",
    "People.Read",
    "offline_access",
];

/// Asked for only on request (`presently login --groups`): reading a team's
/// members needs it, and in most tenants only an administrator can consent.
pub const GROUP_SCOPE: &str = "GroupMember.Read.All";

/// Values given on the command line or in the environment. `None` means "not
/// given": the config file or the default decides.
#[derive(Debug, Clone, Default)]
pub struct Overrides {
    pub cloud: Option<String>,
    pub tenant: Option<String>,
    pub client_id: Option<String>,
    pub login_url: Option<String>,
    pub graph_url: Option<String>,
    pub config_dir: Option<PathBuf>,
    pub interval_secs: Option<u64>,
}

/// The resolved settings the engine runs with.
#[derive(Debug, Clone, PartialEq)]
pub struct Settings {
    pub cloud: Cloud,
    pub tenant: String,
    pub client_id: String,
    /// Base of the sign-in service, without `/{tenant}/oauth2/...`.
    pub login_url: Url,
    /// Base of Microsoft Graph, without `/v1.0`.
    pub graph_url: Url,
    pub config_dir: PathBuf,
    pub interval: Duration,
}

impl Settings {
    /// Resolves the settings from overrides, the config file and defaults.
    pub fn resolve(overrides: &Overrides) -> Result<Settings> {
        let config_dir = match &overrides.config_dir {
            Some(dir) => dir.clone(),
            None => default_config_dir()?,
        };
        let file = ConfigFile::load(&config_dir)?;
        let pick = |given: &Option<String>, key: &str| -> Result<Option<String>> {
            match given {
                Some(v) => Ok(Some(v.clone())),
                None => file.string(key),
            }
        };

        let cloud: Cloud = match pick(&overrides.cloud, "cloud")? {
            Some(c) => c.parse()?,
            None => Cloud::default(),
        };
        let tenant = pick(&overrides.tenant, "tenant")?.unwrap_or_else(|| DEFAULT_TENANT.into());
        validate_tenant(&tenant)?;
        let client_id =
            pick(&overrides.client_id, "client_id")?.unwrap_or_else(|| DEFAULT_CLIENT_ID.into());
        validate_client_id(&client_id)?;
        let login_url = parse_service_url(
            "login URL",
            &pick(&overrides.login_url, "login_url")?.unwrap_or_else(|| cloud.login_host().into()),
        )?;
        let graph_url = parse_service_url(
            "Graph URL",
            &pick(&overrides.graph_url, "graph_url")?.unwrap_or_else(|| cloud.graph_host().into()),
        )?;
        let interval_secs = match overrides.interval_secs {
            Some(s) => Some(s),
            None => file.integer("interval")?,
        };
        let interval = match interval_secs {
            Some(s) => interval_from_secs(s)?,
            None => DEFAULT_INTERVAL,
        };

        Ok(Settings {
            cloud,
            tenant,
            client_id,
            login_url,
            graph_url,
            config_dir,
            interval,
        })
    }

    /// `{login}/{tenant}/oauth2/v2.0/{endpoint}`.
    pub fn oauth_url(&self, endpoint: &str) -> Url {
        join(
            &self.login_url,
            &format!("{}/oauth2/v2.0/{endpoint}", self.tenant),
        )
    }

    /// `{graph}/v1.0/{path}`; `path` may carry a query string.
    pub fn graph_endpoint(&self, path: &str) -> Url {
        join(
            &self.graph_url,
            &format!("v1.0/{}", path.trim_start_matches('/')),
        )
    }

    /// The scopes to ask for, qualified with the cloud's Graph resource so that
    /// national clouds issue tokens for their own Graph.
    pub fn scopes(&self) -> String {
        self.scopes_with(&[])
    }

    /// [`Settings::scopes`] plus `extra` (for example [`GROUP_SCOPE`]).
    pub fn scopes_with(&self, extra: &[&str]) -> String {
        SCOPES
            .iter()
            .chain(extra)
            .map(|s| match *s {
                "offline_access" => s.to_string(),
                _ => format!("{}/{s}", self.cloud.graph_host()),
            })
            .collect::<Vec<_>>()
            .join(" ")
    }

    /// The name under which this sign-in's tokens live in the keyring: the
    /// sign-in host is part of it, so that a sign-in to another service (the
    /// simulator, a proxy) never replaces one to Microsoft.
    pub fn keyring_account(&self) -> String {
        let host = self.login_url.host_str().unwrap_or_default();
        let port = self
            .login_url
            .port()
            .map(|p| format!(":{p}"))
            .unwrap_or_default();
        format!(
            "{}/{}/{}@{host}{port}",
            self.cloud.id(),
            self.tenant,
            self.client_id
        )
    }
}

fn join(base: &Url, rest: &str) -> Url {
    let mut s = base.as_str().trim_end_matches('/').to_string();
    s.push('/');
    s.push_str(rest);
    Url::parse(&s).expect("a valid base URL joined with a path is a valid URL")
}

/// Creates `dir` (and its parents) if needed; the directory itself is made
/// readable by its owner only (Unix).
pub fn create_private_dir(dir: &Path) -> std::io::Result<()> {
    if dir.is_dir() {
        return Ok(());
    }
    fs::create_dir_all(dir)?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        fs::set_permissions(dir, fs::Permissions::from_mode(0o700))?;
    }
    Ok(())
}

/// The platform's config directory for Presently.
pub fn default_config_dir() -> Result<PathBuf> {
    dirs::config_dir().map(|d| d.join("presently")).ok_or_else(|| {
        Error::Config(
            "Could not find your home or config directory; set --config-dir or PRESENTLY_CONFIG_DIR."
                .into(),
        )
    })
}

pub fn interval_from_secs(secs: u64) -> Result<Duration> {
    let d = Duration::from_secs(secs);
    if d < MIN_INTERVAL {
        return Err(Error::Config(format!(
            "The poll interval must be at least {} seconds (got {secs}).",
            MIN_INTERVAL.as_secs()
        )));
    }
    if d > MAX_INTERVAL {
        return Err(Error::Config(format!(
            "The poll interval must be at most {} seconds, a day (got {secs}).",
            MAX_INTERVAL.as_secs()
        )));
    }
    Ok(d)
}

/// Accepts `https://` anywhere, and `http://` only for loopback addresses
/// (the simulator), so that tokens never travel in clear text.
pub fn parse_service_url(what: &str, raw: &str) -> Result<Url> {
    let url = Url::parse(raw.trim())
        .map_err(|e| Error::Config(format!("The {what} \"{raw}\" is not a valid URL ({e}).")))?;
    match url.scheme() {
        "https" => {}
        "http" if is_loopback(&url) => {}
        "http" => {
            return Err(Error::Config(format!(
                "The {what} \"{raw}\" uses plain http://, which is only allowed for loopback addresses (127.0.0.1, ::1, localhost). Use https://."
            )))
        }
        other => {
            return Err(Error::Config(format!(
                "The {what} \"{raw}\" must start with https:// (not {other}://)."
            )))
        }
    }
    if url.host_str().is_none_or(str::is_empty) {
        return Err(Error::Config(format!("The {what} \"{raw}\" has no host.")));
    }
    if url.query().is_some() || url.fragment().is_some() {
        return Err(Error::Config(format!(
            "The {what} \"{raw}\" must not carry a query or fragment."
        )));
    }
    Ok(url)
}

fn is_loopback(url: &Url) -> bool {
    match url.host() {
        Some(url::Host::Domain(d)) => d.eq_ignore_ascii_case("localhost"),
        Some(url::Host::Ipv4(ip)) => IpAddr::V4(ip).is_loopback(),
        Some(url::Host::Ipv6(ip)) => IpAddr::V6(ip).is_loopback(),
        None => false,
    }
}

pub fn validate_tenant(tenant: &str) -> Result<()> {
    let ok = !tenant.is_empty()
        && tenant.len() <= 256
        && tenant
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '.');
    if !ok {
        return Err(Error::Config(format!(
            "The tenant \"{tenant}\" is not valid: use organizations, common, a tenant ID (GUID) or a domain such as contoso.onmicrosoft.com."
        )));
    }
    if tenant.eq_ignore_ascii_case("consumers") {
        return Err(Error::Config(
            "Personal Microsoft accounts cannot read presence; use a work or school tenant (organizations, a tenant ID or a domain)."
                .into(),
        ));
    }
    Ok(())
}

pub fn validate_client_id(id: &str) -> Result<()> {
    if uuid::Uuid::try_parse(id).is_err() {
        return Err(Error::Config(format!(
            "The client ID \"{id}\" is not valid: it is the Application (client) ID of an app registration, a GUID like {DEFAULT_CLIENT_ID}."
        )));
    }
    Ok(())
}

/// The config file as people wrote it, with every key kept.
#[derive(Debug, Clone, Default)]
pub struct ConfigFile {
    path: PathBuf,
    /// The settings, with what [`ConfigFile::set`] changed.
    table: toml::Table,
    /// The settings as the file holds them, and the file itself: a save
    /// rewrites only the keys that changed since.
    read: toml::Table,
    text: TomlText,
}

impl ConfigFile {
    /// Reads `config.toml` from `dir`; a missing file is an empty config.
    pub fn load(dir: &Path) -> Result<ConfigFile> {
        let path = dir.join(CONFIG_FILE);
        let unreadable = |message: &str| {
            Error::Config(format!(
                "The config file {} could not be read: {message}",
                path.display()
            ))
        };
        let (table, text) = match fs::read_to_string(&path) {
            Ok(text) => (
                text.parse::<toml::Table>()
                    .map_err(|e| unreadable(e.message()))?,
                TomlText::parse(&text).map_err(|e| unreadable(e.message()))?,
            ),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                (toml::Table::new(), TomlText::default())
            }
            Err(e) => {
                return Err(Error::Config(format!(
                    "The config file {} could not be opened: {e}",
                    path.display()
                )))
            }
        };
        Ok(ConfigFile {
            path,
            read: table.clone(),
            table,
            text,
        })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    pub fn table(&self) -> &toml::Table {
        &self.table
    }

    pub fn string(&self, key: &str) -> Result<Option<String>> {
        match self.table.get(key) {
            None => Ok(None),
            Some(toml::Value::String(s)) => Ok(Some(s.clone())),
            Some(other) => Err(self.wrong_type(key, "a string", other)),
        }
    }

    pub fn integer(&self, key: &str) -> Result<Option<u64>> {
        match self.table.get(key) {
            None => Ok(None),
            Some(toml::Value::Integer(i)) if *i >= 0 => Ok(Some(*i as u64)),
            Some(other) => Err(self.wrong_type(key, "a positive whole number", other)),
        }
    }

    pub fn boolean(&self, key: &str) -> Result<Option<bool>> {
        match self.table.get(key) {
            None => Ok(None),
            Some(toml::Value::Boolean(b)) => Ok(Some(*b)),
            Some(other) => Err(self.wrong_type(key, "true or false", other)),
        }
    }

    fn wrong_type(&self, key: &str, wanted: &str, got: &toml::Value) -> Error {
        Error::Config(format!(
            "In {}, \"{key}\" should be {wanted}, not {got}.",
            self.path.display()
        ))
    }

    /// Sets one key, keeping every other (including unknown ones).
    pub fn set(&mut self, key: &str, value: impl Into<toml::Value>) {
        self.table.insert(key.to_string(), value.into());
    }

    pub fn remove(&mut self, key: &str) {
        self.table.remove(key);
    }

    /// Writes the file atomically: a temporary file beside it, fsync, rename.
    /// Only the keys that changed are rewritten: comments, the order of keys
    /// and the way other values are written stay as people left them.
    pub fn save(&self) -> Result<()> {
        let text = self
            .text
            .write(|doc| edit_in_place(doc, &self.read, &self.table))
            .map_err(|e| Error::Config(format!("Could not write the settings: {e}")))?;
        write_atomically(&self.path, text.as_bytes())
    }
}

/// A TOML file as people wrote it, to be written back with their comments,
/// their order of keys and their way of writing each value.
#[derive(Debug, Clone, Default)]
pub(crate) struct TomlText {
    /// The comments at the top of the file, up to their last blank line: they
    /// are about the file, and stay when its first entry goes. Comments right
    /// above an entry belong to that entry.
    header: String,
    document: toml_edit::DocumentMut,
}

impl TomlText {
    pub(crate) fn parse(text: &str) -> std::result::Result<TomlText, toml_edit::TomlError> {
        let mut header_len = 0;
        let mut seen = 0;
        for line in text.split_inclusive('\n') {
            let trimmed = line.trim();
            if !trimmed.is_empty() && !trimmed.starts_with('#') {
                break;
            }
            seen += line.len();
            if trimmed.is_empty() {
                header_len = seen;
            }
        }
        if seen == text.len() {
            // Nothing but comments: all of them are the header.
            header_len = seen;
        }
        let (header, body) = text.split_at(header_len);
        Ok(TomlText {
            header: header.to_string(),
            document: body.parse()?,
        })
    }

    /// A new file that starts with `header`.
    pub(crate) fn with_header(header: &str) -> TomlText {
        TomlText {
            header: header.to_string(),
            document: toml_edit::DocumentMut::new(),
        }
    }

    pub(crate) fn header(&self) -> &str {
        &self.header
    }

    pub(crate) fn set_header(&mut self, header: &str) {
        self.header = header.to_string();
    }

    /// The text of the file after `edit` changed a copy of its top-level table.
    pub(crate) fn write(
        &self,
        edit: impl FnOnce(&mut toml_edit::Table) -> std::result::Result<(), String>,
    ) -> std::result::Result<String, String> {
        let mut document = self.document.clone();
        edit(document.as_table_mut())?;
        let body = document.to_string();
        // The first entry may be gone, and the blank line above the next one
        // would follow the header's own.
        let mut body = body.as_str();
        while let Some((line, rest)) = body.split_once('\n') {
            if !line.trim().is_empty() {
                break;
            }
            body = rest;
        }
        let mut text = self.header.clone();
        if !text.is_empty() && !text.ends_with('\n') && !body.is_empty() {
            text.push('\n');
        }
        text.push_str(body);
        Ok(text)
    }
}

/// Makes `table`, part of a TOML document that holds `was`, hold `now`:
/// only the keys whose values differ are touched, so comments, the order of
/// keys and the way each unchanged value is written survive. A changed value
/// keeps the comment beside it; a table is edited key by key.
pub(crate) fn edit_in_place(
    table: &mut dyn toml_edit::TableLike,
    was: &toml::Table,
    now: &toml::Table,
) -> std::result::Result<(), String> {
    for gone in was.keys().filter(|k| !now.contains_key(*k)) {
        table.remove(gone);
    }
    for (key, value) in now {
        let before = was.get(key);
        if before == Some(value) {
            continue;
        }
        match (table.get_mut(key), before, value) {
            (Some(slot), Some(toml::Value::Table(before)), toml::Value::Table(value))
                if slot.is_table_like() =>
            {
                let inner = slot.as_table_like_mut().expect("checked above");
                edit_in_place(inner, before, value)?;
                // `a.b = 1` or `[a.b]` alone made `a`; emptied, it would vanish.
                if let Some(table) = slot.as_table_mut().filter(|t| t.is_empty()) {
                    table.set_implicit(false);
                    table.set_dotted(false);
                }
            }
            (Some(slot), _, _) => {
                let mut item = toml_item(key, value)?;
                if let toml_edit::Item::Value(old) = slot {
                    // Written as people wrote it: inline stays inline.
                    item.make_value();
                    if let toml_edit::Item::Value(new) = &mut item {
                        *new.decor_mut() = old.decor().clone();
                    }
                }
                *slot = item;
            }
            (None, _, _) => {
                table.insert(key, toml_item(key, value)?);
            }
        }
    }
    Ok(())
}

/// `value` as the `toml` crate writes it under `key`, ready to be placed in a
/// document: the format of new entries is the one files have always had.
pub(crate) fn toml_item(
    key: &str,
    value: &impl serde::Serialize,
) -> std::result::Result<toml_edit::Item, String> {
    let text = toml::to_string(&std::collections::BTreeMap::from([(key, value)]))
        .map_err(|e| e.to_string())?;
    let mut document: toml_edit::DocumentMut = text.parse().map_err(|e| format!("{e}"))?;
    let mut item = document.remove(key).unwrap_or_default();
    unplace(&mut item);
    Ok(item)
}

/// Forgets where the tables in `item` stood in the document they came from,
/// so that they are written where they are put, with the usual blank line.
fn unplace(item: &mut toml_edit::Item) {
    let tables: Vec<&mut toml_edit::Table> = match item {
        toml_edit::Item::Table(t) => vec![t],
        toml_edit::Item::ArrayOfTables(a) => a.iter_mut().collect(),
        _ => return,
    };
    for table in tables {
        table.set_position(None);
        table.decor_mut().clear();
        for (_, inner) in table.iter_mut() {
            unplace(inner);
        }
    }
}

/// Replaces `path` with `bytes` so that a crash leaves either the old or the
/// new file, never half of one.
pub fn write_atomically(path: &Path, bytes: &[u8]) -> Result<()> {
    let fail =
        |e: std::io::Error| Error::Storage(format!("Could not save {}: {e}", path.display()));
    let dir = path.parent().unwrap_or(Path::new("."));
    create_private_dir(dir).map_err(fail)?;
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    // Unique per write, not only per process: the app writes from several
    // threads, and two writes must never share a temporary file.
    static WRITES: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    let n = WRITES.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let tmp = dir.join(format!(
        ".{name}.{}.{n}.{:08x}.tmp",
        std::process::id(),
        rand::random::<u32>()
    ));
    let result = (|| {
        let mut f = private_file(&tmp)?;
        f.write_all(bytes)?;
        f.sync_all()?;
        fs::rename(&tmp, path)?;
        // The rename itself is durable only once the directory is synced.
        if let Ok(d) = fs::File::open(dir) {
            let _ = d.sync_all();
        }
        Ok(())
    })();
    if result.is_err() {
        let _ = fs::remove_file(&tmp);
    }
    result.map_err(fail)
}

/// A new file readable and writable by its owner only (Unix): roster,
/// settings and photos are nobody else's business.
fn private_file(path: &Path) -> std::io::Result<fs::File> {
    let mut options = fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    options.open(path)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn in_dir(dir: &Path, o: Overrides) -> Result<Settings> {
        Settings::resolve(&Overrides {
            config_dir: Some(dir.to_path_buf()),
            ..o
        })
    }

    #[test]
    fn defaults_are_global_organizations_and_graph_cli_tools() {
        let dir = tempfile::tempdir().unwrap();
        let s = in_dir(dir.path(), Overrides::default()).unwrap();
        assert_eq!(s.cloud, Cloud::Global);
        assert_eq!(s.tenant, "organizations");
        assert_eq!(s.client_id, DEFAULT_CLIENT_ID);
        assert_eq!(
            s.oauth_url("devicecode").as_str(),
            "https://login.microsoftonline.com/organizations/oauth2/v2.0/devicecode"
        );
        assert_eq!(
            s.graph_endpoint("/communications/getPresencesByUserId")
                .as_str(),
            "https://graph.microsoft.com/v1.0/communications/getPresencesByUserId"
        );
        assert_eq!(s.interval, DEFAULT_INTERVAL);
    }

    #[test]
    fn each_cloud_brings_its_own_hosts() {
        let dir = tempfile::tempdir().unwrap();
        let s = in_dir(
            dir.path(),
            Overrides {
                cloud: Some("dod".into()),
                ..Default::default()
            },
        )
        .unwrap();
        assert_eq!(s.login_url.as_str(), "https://login.microsoftonline.us/");
        assert_eq!(s.graph_url.as_str(), "https://dod-graph.microsoft.us/");
        assert!(s
            .scopes()
            .contains("https://dod-graph.microsoft.us/Presence.Read.All"));
        assert!(s.scopes().split(' ').any(|x| x == "offline_access"));
    }

    #[test]
    fn flags_beat_the_file_and_the_file_beats_defaults() {
        let dir = tempfile::tempdir().unwrap();
        fs::write(
            dir.path().join(CONFIG_FILE),
            "cloud = \"china\"\ntenant = \"contoso.onmicrosoft.com\"\ninterval = 30\nfuture_key = 1\n",
        )
        .unwrap();
        let s = in_dir(dir.path(), Overrides::default()).unwrap();
        assert_eq!(s.cloud, Cloud::China);
        assert_eq!(s.tenant, "contoso.onmicrosoft.com");
        assert_eq!(s.interval, Duration::from_secs(30));
        let s = in_dir(
            dir.path(),
            Overrides {
                tenant: Some("common".into()),
                ..Default::default()
            },
        )
        .unwrap();
        assert_eq!(s.tenant, "common");
        assert_eq!(s.cloud, Cloud::China);
    }

    #[test]
    fn plain_http_only_on_loopback() {
        assert!(parse_service_url("login URL", "http://127.0.0.1:8080").is_ok());
        assert!(parse_service_url("login URL", "http://[::1]:8080/").is_ok());
        assert!(parse_service_url("login URL", "http://localhost:1").is_ok());
        let err = parse_service_url("login URL", "http://login.example.com").unwrap_err();
        assert!(
            err.to_string().contains("only allowed for loopback"),
            "{err}"
        );
        assert!(parse_service_url("login URL", "ftp://127.0.0.1").is_err());
        assert!(parse_service_url("login URL", "not a url").is_err());
    }

    #[test]
    fn bad_values_are_explained() {
        let dir = tempfile::tempdir().unwrap();
        let bad = |o: Overrides| in_dir(dir.path(), o).unwrap_err().to_string();
        assert!(bad(Overrides {
            client_id: Some("abc".into()),
            ..Default::default()
        })
        .contains("client ID"));
        assert!(bad(Overrides {
            tenant: Some("a/b".into()),
            ..Default::default()
        })
        .contains("tenant"));
        assert!(bad(Overrides {
            interval_secs: Some(2),
            ..Default::default()
        })
        .contains("at least 5"));
        fs::write(dir.path().join(CONFIG_FILE), "cloud = [").unwrap();
        assert!(bad(Overrides::default()).contains("config file"));
        fs::write(dir.path().join(CONFIG_FILE), "interval = \"fast\"").unwrap();
        assert!(bad(Overrides::default()).contains("\"interval\" should be"));
    }

    #[test]
    fn intervals_out_of_bounds_are_refused_not_a_panic() {
        for secs in [0, 4, 86_401, u64::MAX / 2, u64::MAX] {
            let e = interval_from_secs(secs).unwrap_err();
            assert_eq!(e.code(), "config", "{secs}");
        }
        assert_eq!(interval_from_secs(5).unwrap(), Duration::from_secs(5));
        assert_eq!(interval_from_secs(86_400).unwrap(), MAX_INTERVAL);
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(
            dir.path().join(CONFIG_FILE),
            "interval = 18446744073709551615\n",
        )
        .unwrap();
        assert!(in_dir(dir.path(), Overrides::default()).is_err());
        std::fs::write(dir.path().join(CONFIG_FILE), "interval = -5\n").unwrap();
        assert!(in_dir(dir.path(), Overrides::default()).is_err());
        std::fs::write(dir.path().join(CONFIG_FILE), "interval = \"soon\"\n").unwrap();
        assert!(in_dir(dir.path(), Overrides::default()).is_err());
    }

    #[cfg(unix)]
    #[test]
    fn files_are_private_and_writes_never_share_a_temporary_file() {
        use std::os::unix::fs::PermissionsExt;
        let root = tempfile::tempdir().unwrap();
        let dir = root.path().join("presently");
        let path = dir.join("roster.toml");
        // Many writes at once from one process, to one file.
        std::thread::scope(|scope| {
            for i in 0..16 {
                let path = &path;
                scope.spawn(move || {
                    write_atomically(path, format!("n = {i}\n").as_bytes()).unwrap()
                });
            }
        });
        let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode(&dir), 0o700);
        assert_eq!(mode(&path), 0o600);
        assert!(std::fs::read_to_string(&path).unwrap().starts_with("n = "));
        let left: Vec<_> = std::fs::read_dir(&dir).unwrap().flatten().collect();
        assert_eq!(left.len(), 1, "no temporary file is left behind");
    }

    #[test]
    fn unknown_keys_survive_a_save() {
        let dir = tempfile::tempdir().unwrap();
        fs::write(dir.path().join(CONFIG_FILE), "mystery = { a = 1 }\n").unwrap();
        let mut f = ConfigFile::load(dir.path()).unwrap();
        f.set("tenant", "common");
        f.save().unwrap();
        let again = ConfigFile::load(dir.path()).unwrap();
        assert_eq!(again.string("tenant").unwrap().as_deref(), Some("common"));
        assert!(again.table().contains_key("mystery"));
    }

    #[test]
    fn a_save_keeps_comments_order_and_how_values_are_written() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(CONFIG_FILE);
        fs::write(
            &path,
            r#"# My Presently settings.

# Ours, not common.
tenant = "contoso.onmicrosoft.com" # since 2024
interval = 30
mystery = 'kept as written'

[quiet_hours]
# Evenings only.
enabled = false
start = "18:00"
end = "08:00"
"#,
        )
        .unwrap();
        let mut f = ConfigFile::load(dir.path()).unwrap();
        f.set("tenant", "fabrikam.onmicrosoft.com");
        f.set("mystery", "kept as written");
        f.set("cloud", "global");
        f.remove("interval");
        let mut quiet = f.table()["quiet_hours"].as_table().unwrap().clone();
        quiet.insert("enabled".into(), true.into());
        f.set("quiet_hours", quiet);
        f.save().unwrap();
        assert_eq!(
            fs::read_to_string(&path).unwrap(),
            r#"# My Presently settings.

# Ours, not common.
tenant = "fabrikam.onmicrosoft.com" # since 2024
mystery = 'kept as written'
cloud = "global"

[quiet_hours]
# Evenings only.
enabled = true
start = "18:00"
end = "08:00"
"#
        );
        let again = ConfigFile::load(dir.path()).unwrap();
        assert_eq!(again.table(), f.table());
    }

    #[test]
    fn a_new_file_is_written_as_before() {
        let dir = tempfile::tempdir().unwrap();
        let mut f = ConfigFile::load(dir.path()).unwrap();
        f.set("tenant", "common");
        f.set("interval", 30);
        let mut quiet = toml::Table::new();
        quiet.insert("enabled".into(), true.into());
        quiet.insert("start".into(), "18:00".into());
        f.set("quiet_hours", quiet);
        f.set("cloud", "usgov");
        f.save().unwrap();
        assert_eq!(
            fs::read_to_string(dir.path().join(CONFIG_FILE)).unwrap(),
            toml::to_string_pretty(f.table()).unwrap()
        );
    }
}
