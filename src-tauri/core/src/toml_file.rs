//! TOML files as people wrote them, and private files written whole.
//!
//! The settings and the roster are TOML files that people may edit: when the
//! app writes one back, `TomlText` and `edit_in_place` rewrite only the
//! keys that changed, keeping comments, the order of keys and keys this
//! version does not know. Every file the app keeps (settings, roster,
//! photos) is written with [`write_atomically`], readable by its owner only.

use std::fs;
use std::io::Write;
use std::path::Path;

use crate::error::{Error, Result};

/// Creates `dir` (and its parents) if needed; the directory itself is made
/// readable by its owner only (Unix).
pub fn create_private_dir(dir: &Path) -> std::io::Result<()> {
    if dir.is_dir() {
        return Ok(());
    }
    // Every directory made on the way is private too: the photo cache's
    // `presently/photos` may be the first to make `presently`.
    #[cfg(unix)]
    {
        use std::os::unix::fs::{DirBuilderExt, PermissionsExt};
        fs::DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(dir)?;
        fs::set_permissions(dir, fs::Permissions::from_mode(0o700))?;
    }
    #[cfg(not(unix))]
    fs::create_dir_all(dir)?;
    Ok(())
}

/// Why TOML text could not be read, in words, and on which line. The
/// parser's own message is used when it has one (without the quoted file,
/// which can be long); a bare one still says what kind of mistake it is.
pub(crate) fn toml_reason(text: &str, e: &toml::de::Error) -> (String, Option<usize>) {
    let mut reason = e.message().trim().trim_end_matches('.').to_string();
    if reason.is_empty() {
        reason = "it is not valid TOML".to_string();
    }
    // Counted in bytes: the span may start inside a character.
    let line = e.span().map(|span| line_at(text, span.start));
    (reason, line)
}

/// The 1-based line of byte `at` in `text`.
pub(crate) fn line_at(text: &str, at: usize) -> usize {
    let before = &text.as_bytes()[..at.min(text.len())];
    before.iter().filter(|&&b| b == b'\n').count() + 1
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
        edit: impl FnOnce(&mut toml_edit::Table) -> std::result::Result<(), Unwritable>,
    ) -> std::result::Result<String, Unwritable> {
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

/// Why the new text of a TOML file could not be made. The values come from
/// Presently's own types, so this is a bug, said in the `toml` crates'
/// words.
#[derive(Debug, thiserror::Error)]
pub(crate) enum Unwritable {
    /// A value has no TOML form.
    #[error("{0}")]
    Value(#[from] toml::ser::Error),
    /// What the `toml` crate wrote could not be read back.
    #[error("{0}")]
    Reread(#[from] toml_edit::TomlError),
    /// A value is not of the shape its place in the file needs.
    #[error("{0}")]
    Shape(String),
}

/// Makes `table`, part of a TOML document that holds `was`, hold `now`:
/// only the keys whose values differ are touched, so comments, the order of
/// keys and the way each unchanged value is written survive. A changed value
/// keeps the comment beside it; a table is edited key by key.
pub(crate) fn edit_in_place(
    table: &mut dyn toml_edit::TableLike,
    was: &toml::Table,
    now: &toml::Table,
) -> std::result::Result<(), Unwritable> {
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
) -> std::result::Result<toml_edit::Item, Unwritable> {
    let text = toml::to_string(&std::collections::BTreeMap::from([(key, value)]))?;
    let mut document: toml_edit::DocumentMut = text.parse()?;
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
        drop(f);
        replace(&tmp, path)?;
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

/// Renames `from` over `to`. On Windows, while someone holds `to` open (the
/// app following the roster file, `presently` reading it, a backup tool or
/// a virus scanner), the rename is refused for that moment: it is tried
/// again for up to two seconds.
fn replace(from: &Path, to: &Path) -> std::io::Result<()> {
    let mut tries = 0;
    loop {
        match fs::rename(from, to) {
            Err(e)
                if cfg!(windows)
                    && e.kind() == std::io::ErrorKind::PermissionDenied
                    && tries < 100 =>
            {
                tries += 1;
                std::thread::sleep(std::time::Duration::from_millis(20));
            }
            done => return done,
        }
    }
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

// Private modes are a Unix notion: on Windows the profile's folders are
// the user's alone already.
#[cfg(all(test, unix))]
mod tests {
    use super::*;

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

        // A cache made inside a directory that is not there yet: both private.
        let photos = root.path().join("cache").join("presently").join("photos");
        write_atomically(&photos.join("a.png"), b"png").unwrap();
        for dir in [
            &photos,
            photos.parent().unwrap(),
            &root.path().join("cache"),
        ] {
            assert_eq!(mode(dir), 0o700, "{}", dir.display());
        }
    }
}
