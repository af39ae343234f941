//! The config file, `config.toml`, as people wrote it: read with every key
//! kept, its problems named with the key and the line, and written back with
//! only the keys that changed rewritten.

use std::fs;
use std::path::{Path, PathBuf};

use crate::error::{ConfigProblem, Error, Result};
use crate::toml_file::{edit_in_place, line_at, toml_reason, write_atomically, TomlText};

pub const CONFIG_FILE: &str = "config.toml";

/// The config file as people wrote it, with every key kept.
#[derive(Debug, Clone, Default)]
pub struct ConfigFile {
    path: PathBuf,
    /// The text as read, to tell on which line a key is.
    source: String,
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
        let unreadable = |reason: String, line: Option<usize>| {
            Error::ConfigFile(ConfigProblem {
                file: path.clone(),
                key: None,
                line,
                reason,
            })
        };
        let source = match fs::read(&path) {
            Ok(bytes) => String::from_utf8(bytes)
                .map_err(|e| unreadable(format!("it is not UTF-8 text ({e})"), None))?,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => String::new(),
            Err(e) => {
                return Err(Error::Config(format!(
                    "The config file {} could not be opened: {e}",
                    path.display()
                )))
            }
        };
        let table = toml::from_str::<toml::Table>(&source).map_err(|e| {
            let (reason, line) = toml_reason(&source, &e);
            unreadable(reason, line)
        })?;
        let text = TomlText::parse(&source).map_err(|e| {
            let reason = e.message().trim().trim_end_matches('.').to_string();
            unreadable(reason, e.span().map(|s| line_at(&source, s.start)))
        })?;
        Ok(ConfigFile {
            path,
            source,
            read: table.clone(),
            table,
            text,
        })
    }

    /// No settings, to be saved at `dir`'s config file.
    pub fn empty(dir: &Path) -> ConfigFile {
        ConfigFile {
            path: dir.join(CONFIG_FILE),
            ..Default::default()
        }
    }

    /// The 1-based line where `key` (a path of keys into tables) is written.
    pub fn line_of(&self, key: &[&str]) -> Option<usize> {
        let doc = toml_edit::Document::parse(self.source.as_str()).ok()?;
        let (last, tables) = key.split_last()?;
        let mut table: &dyn toml_edit::TableLike = doc.as_table();
        for name in tables {
            table = table.get(name)?.as_table_like()?;
        }
        let (found, _) = table.get_key_value(last)?;
        Some(line_at(&self.source, found.span()?.start))
    }

    /// The problem with `key`'s value, in `reason`'s words.
    pub fn problem(&self, key: &[&str], reason: impl Into<String>) -> Error {
        Error::ConfigFile(ConfigProblem {
            file: self.path.clone(),
            key: Some(key.join(".")),
            line: self.line_of(key),
            reason: reason.into(),
        })
    }

    /// `e`, about the value of `key` in this file, as a problem with the file.
    pub(crate) fn explain(&self, key: &[&str], e: Error) -> Error {
        match e {
            Error::Config(reason) => self.problem(key, reason),
            other => other,
        }
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
        self.problem(&[key], format!("\"{key}\" should be {wanted}, not {got}."))
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

#[cfg(test)]
mod tests {
    use super::*;

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
