//! The roster file: what people keep must survive every load and save, and a
//! file that cannot be read is kept aside and reported, never replaced.

use std::fs;
use std::path::Path;

use std::sync::{Arc, Barrier};
use std::time::{Duration, Instant};

use presently_core::roster::{Added, Roster, RosterLock, Teammate, LOCK_FILE, ROSTER_FILE};

fn guid(n: u32) -> String {
    format!("{n:08x}-0000-4000-8000-{:012x}", n as u64 * 7919)
}

fn read(dir: &Path) -> String {
    fs::read_to_string(dir.join(ROSTER_FILE)).unwrap()
}

/// Entries in the config dir other than the roster itself (backups, temporaries).
fn others(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n != ROSTER_FILE)
        .collect();
    names.sort();
    names
}

#[test]
fn a_missing_file_is_an_empty_roster_and_saving_creates_it() {
    let dir = tempfile::tempdir().unwrap();
    let mut r = Roster::load(dir.path()).unwrap();
    assert!(r.is_empty() && r.recovery().is_none());
    assert_eq!(
        r.add(Teammate {
            id: guid(1),
            display_name: "Megan Bowen".into(),
            notify: true,
            ..Default::default()
        }),
        Added::New
    );
    r.save().unwrap();
    let text = read(dir.path());
    assert!(text.contains("[[teammate]]"), "{text}");
    assert!(text.contains("display_name = \"Megan Bowen\""), "{text}");
    assert!(text.contains("notify = true"), "{text}");
    assert_eq!(
        others(dir.path()),
        Vec::<String>::new(),
        "no temporary file is left behind"
    );

    let again = Roster::load(dir.path()).unwrap();
    assert_eq!(again.teammates(), r.teammates());
}

#[test]
fn a_roster_of_5000_survives_load_and_save_byte_for_byte() {
    let dir = tempfile::tempdir().unwrap();
    let mut r = Roster::load(dir.path()).unwrap();
    for n in 0..5000u32 {
        let mut t = Teammate {
            id: guid(n),
            // Names that need escaping or are not ASCII must come back as they were.
            display_name: match n % 4 {
                0 => format!("Zoë O'Brien-Łukasiewicz {n}"),
                1 => format!("Dwayne \"The Rock\" {n}"),
                2 => format!("Back\\slash {n}"),
                _ => format!("李小龍 {n}"),
            },
            user_principal_name: format!("person{n}@contoso.com"),
            mail: if n % 3 == 0 {
                String::new()
            } else {
                format!("person{n}@contoso.com")
            },
            job_title: if n % 5 == 0 {
                String::new()
            } else {
                "Engineer".into()
            },
            notify: n % 2 == 0,
            favorite: n % 7 == 0,
            group: (n % 11 == 0).then(|| "Design".to_string()),
            ..Default::default()
        };
        if n % 13 == 0 {
            t.extra.insert("pronouns".into(), "they/them".into());
        }
        r.add(t);
    }
    r.save().unwrap();
    let first = fs::read(dir.path().join(ROSTER_FILE)).unwrap();

    let loaded = Roster::load(dir.path()).unwrap();
    assert_eq!(loaded.len(), 5000);
    assert_eq!(loaded.teammates(), r.teammates());
    assert_eq!(loaded.merged_on_load(), 0);
    loaded.save().unwrap();
    let second = fs::read(dir.path().join(ROSTER_FILE)).unwrap();
    assert!(first == second, "the file changed on a load and save");
    assert_eq!(loaded.teammates()[1].display_name, "Dwayne \"The Rock\" 1");
    assert_eq!(loaded.teammates()[3].display_name, "李小龍 3");
}

#[test]
fn unknown_fields_survive_at_the_top_and_per_teammate() {
    let dir = tempfile::tempdir().unwrap();
    let a = guid(1);
    let b = guid(2);
    fs::write(
        dir.path().join(ROSTER_FILE),
        format!(
            r##"# written by a newer Presently
sort = "availability"
since = 1979-05-27T07:32:00Z

[[teammate]]
id = "{a}"
display_name = "Megan Bowen"
notify = true
colour = "#ff0000"
snooze = {{ until = 2030-01-01T00:00:00Z, reason = "holiday" }}
tags = ["design", "ux"]

[[teammate]]
id = "{b}"
favorite = true

[[teammate.devices]]
kind = "phone"

[layout]
columns = 3
"##
        ),
    )
    .unwrap();
    let mut r = Roster::load(dir.path()).unwrap();
    assert!(r.recovery().is_none());
    assert!(
        r.set_favorite(&a, true),
        "a change, so that the save is a real rewrite"
    );
    r.save().unwrap();

    let saved: toml::Table = read(dir.path()).parse().unwrap();
    assert_eq!(saved["sort"].as_str(), Some("availability"));
    assert_eq!(
        saved["since"].as_datetime().unwrap().to_string(),
        "1979-05-27T07:32:00Z"
    );
    assert_eq!(saved["layout"]["columns"].as_integer(), Some(3));
    let people = saved["teammate"].as_array().unwrap();
    assert_eq!(people.len(), 2);
    assert_eq!(people[0]["colour"].as_str(), Some("#ff0000"));
    assert_eq!(people[0]["favorite"].as_bool(), Some(true));
    assert_eq!(people[0]["notify"].as_bool(), Some(true));
    assert_eq!(
        people[0]["snooze"]["until"]
            .as_datetime()
            .unwrap()
            .to_string(),
        "2030-01-01T00:00:00Z"
    );
    assert_eq!(people[0]["snooze"]["reason"].as_str(), Some("holiday"));
    assert_eq!(people[0]["tags"].as_array().unwrap().len(), 2);
    assert_eq!(people[1]["devices"][0]["kind"].as_str(), Some("phone"));

    // And a second round changes nothing more.
    let before = read(dir.path());
    Roster::load(dir.path()).unwrap().save().unwrap();
    assert_eq!(read(dir.path()), before);
}

#[test]
fn duplicate_ids_in_the_file_merge_into_one_teammate() {
    let dir = tempfile::tempdir().unwrap();
    let a = guid(1);
    let b = guid(2);
    let upper = a.to_uppercase();
    fs::write(
        dir.path().join(ROSTER_FILE),
        format!(
            r#"[[teammate]]
id = "{a}"
display_name = "Megan"
job_title = "Manager"
notify = true
first = 1

[[teammate]]
id = "{b}"
display_name = "Alex"

[[teammate]]
id = "  {upper} "
display_name = "Megan Bowen"
favorite = true
group = "Design"
second = 2
"#
        ),
    )
    .unwrap();
    let r = Roster::load(dir.path()).unwrap();
    assert_eq!(r.len(), 2);
    assert_eq!(r.merged_on_load(), 1);
    assert_eq!(
        r.ids(),
        vec![a.clone(), b.clone()],
        "the first position is kept"
    );
    let megan = r.get(&a).unwrap();
    assert_eq!(
        megan.display_name, "Megan Bowen",
        "the later non-empty name wins"
    );
    assert_eq!(
        megan.job_title, "Manager",
        "an absent detail does not erase one"
    );
    assert!(megan.notify && megan.favorite, "flags are OR'ed");
    assert_eq!(megan.group.as_deref(), Some("Design"));
    assert_eq!(
        megan.extra.get("first").and_then(|v| v.as_integer()),
        Some(1)
    );
    assert_eq!(
        megan.extra.get("second").and_then(|v| v.as_integer()),
        Some(2)
    );

    r.save().unwrap();
    assert_eq!(
        read(dir.path())
            .lines()
            .filter(|l| *l == "[[teammate]]")
            .count(),
        2
    );
}

#[test]
fn an_unreadable_file_is_kept_aside_reported_and_never_overwritten() {
    for (what, bytes) in [
        ("not TOML", b"[[teammate]\nid = ".to_vec()),
        (
            "wrong type",
            format!("[[teammate]]\nid = \"{}\"\nnotify = \"yes\"\n", guid(1)).into_bytes(),
        ),
        (
            "no id",
            b"[[teammate]]\ndisplay_name = \"Nobody\"\n".to_vec(),
        ),
        ("not UTF-8", vec![0xff, 0xfe, b'[', 0x00]),
    ] {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(ROSTER_FILE);
        fs::write(&path, &bytes).unwrap();

        let mut r = Roster::load(dir.path()).unwrap();
        assert!(r.is_empty(), "{what}");
        let recovery = r
            .recovery()
            .unwrap_or_else(|| panic!("{what}: not reported"))
            .clone();
        assert!(
            !path.exists(),
            "{what}: the unreadable file is moved, not left to be overwritten"
        );
        let name = recovery
            .backup
            .file_name()
            .unwrap()
            .to_string_lossy()
            .into_owned();
        assert!(name.starts_with("roster.toml.broken-"), "{what}: {name}");
        assert_eq!(
            fs::read(&recovery.backup).unwrap(),
            bytes,
            "{what}: the backup is the file as it was"
        );
        let message = recovery.message();
        assert!(
            message.contains(&name) && message.contains("could not be read"),
            "{what}: {message}"
        );
        if what == "no id" {
            assert!(recovery.reason.contains("no id"), "{}", recovery.reason);
        }

        // Saving the fresh roster leaves the backup alone.
        r.add(Teammate::new(guid(9)));
        r.save().unwrap();
        assert_eq!(fs::read(&recovery.backup).unwrap(), bytes);
        assert_eq!(others(dir.path()), vec![name.clone()]);

        // A second broken file in the same second gets its own backup.
        fs::write(&path, b"= broken").unwrap();
        let again = Roster::load(dir.path()).unwrap();
        let second = again.recovery().unwrap().backup.clone();
        assert_ne!(second, recovery.backup);
        assert_eq!(
            fs::read(&recovery.backup).unwrap(),
            bytes,
            "{what}: the first backup is untouched"
        );
        assert_eq!(others(dir.path()).len(), 2);
    }
}

#[test]
fn a_file_that_cannot_be_moved_aside_is_an_error_not_an_empty_roster() {
    // A name so long that no backup name fits beside it (file names end at
    // 255 bytes): the rename fails whoever runs the test, root included.
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join(format!("{}.toml", "r".repeat(245)));
    fs::write(&path, b"= broken").unwrap();
    let err = Roster::load_file(&path).unwrap_err();
    assert_eq!(err.code(), "storage");
    assert!(err.to_string().contains("could not be kept aside"), "{err}");
    assert_eq!(
        fs::read(&path).unwrap(),
        b"= broken",
        "the file is left as it was"
    );
}

#[test]
fn adding_merges_into_the_existing_teammate_and_never_clears_flags() {
    let dir = tempfile::tempdir().unwrap();
    let mut r = Roster::load(dir.path()).unwrap();
    let a = guid(1);
    r.add(Teammate {
        id: a.clone(),
        display_name: "Megan".into(),
        notify: true,
        ..Default::default()
    });
    let again = r.add(Teammate {
        id: a.to_uppercase(),
        display_name: "Megan Bowen".into(),
        mail: "megan@contoso.com".into(),
        ..Default::default()
    });
    assert_eq!(again, Added::Merged);
    assert_eq!(r.len(), 1);
    let t = r.get(&a).unwrap();
    assert!(t.notify);
    assert_eq!(t.display_name, "Megan Bowen");
    assert!(r.set_notify("MEGAN@contoso.com", false));
    assert!(!r.get(&a).unwrap().notify);
    assert!(r.set_group(&a, Some("Design".into())));
    assert_eq!(r.get(&a).unwrap().group.as_deref(), Some("Design"));
    assert!(r.set_group(&a, Some("  ".into())));
    assert_eq!(r.get(&a).unwrap().group, None);
    assert_eq!(r.remove("megan@contoso.com").unwrap().id, a);
    assert!(r.remove(&a).is_none());
}

#[test]
fn reading_leaves_a_broken_file_alone() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join(ROSTER_FILE);
    assert!(
        Roster::read(&path).unwrap().teammates().is_empty(),
        "missing"
    );

    let mut roster = Roster::empty(&path);
    roster.add(Teammate::new(guid(1)));
    roster.save().unwrap();
    assert_eq!(Roster::read(&path).unwrap().ids(), [guid(1)]);

    fs::write(&path, "[[teammate]]\nid = ").unwrap();
    let err = Roster::read(&path).unwrap_err().to_string();
    assert!(err.contains("could not be read"), "{err}");
    assert_eq!(read(dir.path()), "[[teammate]]\nid = ");
    assert!(others(dir.path()).is_empty(), "{:?}", others(dir.path()));
}

#[test]
fn comments_stay_with_the_teammates_that_remain() {
    let dir = tempfile::tempdir().unwrap();
    let (a, b, c, d) = (guid(1), guid(2), guid(3), guid(4));
    fs::write(
        dir.path().join(ROSTER_FILE),
        format!(
            r#"# My roster, kept by hand.

# Megan: my manager. She leaves next month.
[[teammate]]
id = "{a}"
display_name = "Megan Bowen"

# Alex sits next to me.
[[teammate]]
notify = true # when he is back from lunch
display_name = "Alex Wilber"
id = "{b}"

[[teammate]]
id = "{c}"
# Always on a call.
display_name = "Lee Gu"
favorite = false
group = 'Design'
"#
        ),
    )
    .unwrap();
    let mut r = Roster::load(dir.path()).unwrap();
    assert_eq!(r.remove(&a).unwrap().display_name, "Megan Bowen");
    assert!(r.set_notify(&b, false));
    assert!(r.set_favorite(&c, true));
    r.add(Teammate {
        id: d.clone(),
        display_name: "Nestor Wilke".into(),
        ..Default::default()
    });
    r.save().unwrap();
    assert_eq!(
        read(dir.path()),
        format!(
            r#"# My roster, kept by hand.

# Alex sits next to me.
[[teammate]]
notify = false # when he is back from lunch
display_name = "Alex Wilber"
id = "{b}"

[[teammate]]
id = "{c}"
# Always on a call.
display_name = "Lee Gu"
favorite = true
group = 'Design'

[[teammate]]
id = "{d}"
display_name = "Nestor Wilke"
notify = false
favorite = false
"#
        )
    );
    let again = Roster::load(dir.path()).unwrap();
    assert_eq!(again.teammates(), r.teammates());
}

#[test]
fn a_new_roster_says_that_comments_are_kept() {
    let dir = tempfile::tempdir().unwrap();
    let mut r = Roster::load(dir.path()).unwrap();
    r.add(Teammate::new(guid(1)));
    r.save().unwrap();
    assert!(
        read(dir.path()).starts_with("# Presently's roster"),
        "{}",
        read(dir.path())
    );
    assert!(read(dir.path()).contains("your comments are kept"));

    // Rosters written before say otherwise, and are corrected.
    let old = read(dir.path()).replace(
        "your comments are kept when Presently saves.",
        "comments other than this one are not kept when Presently saves.",
    );
    fs::write(dir.path().join(ROSTER_FILE), &old).unwrap();
    Roster::load(dir.path()).unwrap().save().unwrap();
    assert!(read(dir.path()).contains("your comments are kept"));
}

#[test]
fn an_edit_refuses_a_broken_file_naming_it_and_the_line_and_leaves_it_alone() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join(ROSTER_FILE);
    let half_edited = format!("[[teammate]]\nid = \"{}\"\n\n[[teammate]]\nid = ", guid(1));
    fs::write(&path, &half_edited).unwrap();
    let mut called = false;
    let err = Roster::edit_file(dir.path(), |r| {
        called = true;
        r.add(Teammate::new(guid(2)))
    })
    .unwrap_err();
    let message = err.to_string();
    assert!(!called, "the edit ran on a roster that was not read");
    assert!(message.contains(&path.display().to_string()), "{message}");
    assert!(message.contains("line 5"), "{message}");
    assert_eq!(err.code(), "storage");
    assert_eq!(read(dir.path()), half_edited, "the file was touched");
    assert_eq!(others(dir.path()), [LOCK_FILE], "nothing was kept aside");

    // Fixed, the same edit goes through.
    fs::write(&path, format!("[[teammate]]\nid = \"{}\"\n", guid(1))).unwrap();
    let (added, roster) = Roster::edit_file(dir.path(), |r| r.add(Teammate::new(guid(2)))).unwrap();
    assert_eq!(added, Added::New);
    assert_eq!(roster.ids(), [guid(1), guid(2)]);
    assert_eq!(Roster::load(dir.path()).unwrap().ids(), [guid(1), guid(2)]);
}

#[test]
fn edits_at_the_same_time_each_keep_their_change() {
    // Without the lock, two edits both read the file before either writes
    // it, and the second write loses the first one's teammate.
    let dir = tempfile::tempdir().unwrap();
    const EDITORS: u32 = 8;
    const EACH: u32 = 5;
    let start = Arc::new(Barrier::new(EDITORS as usize));
    let editors: Vec<_> = (0..EDITORS)
        .map(|e| {
            let dir = dir.path().to_path_buf();
            let start = start.clone();
            std::thread::spawn(move || {
                start.wait();
                for n in 0..EACH {
                    Roster::edit_file(&dir, |r| {
                        // Slow enough that edits without the lock overlap.
                        std::thread::sleep(Duration::from_millis(2));
                        r.add(Teammate::new(guid(e * 100 + n)))
                    })
                    .unwrap();
                }
            })
        })
        .collect();
    for editor in editors {
        editor.join().unwrap();
    }
    let roster = Roster::load(dir.path()).unwrap();
    assert_eq!(
        roster.len(),
        (EDITORS * EACH) as usize,
        "{:?}",
        roster.ids()
    );
}

#[test]
fn an_edit_waits_for_the_lock_and_gives_up_with_a_reason() {
    let dir = tempfile::tempdir().unwrap();
    let held = RosterLock::acquire(dir.path()).unwrap();
    let started = Instant::now();
    let err = RosterLock::acquire_within(dir.path(), Duration::from_millis(200)).unwrap_err();
    assert!(started.elapsed() >= Duration::from_millis(200));
    assert!(err.to_string().contains("another Presently"), "{err}");

    // Let go while someone waits: they get it.
    let waiting = {
        let dir = dir.path().to_path_buf();
        std::thread::spawn(move || {
            Roster::edit_file(&dir, |r| r.add(Teammate::new(guid(1)))).map(|(added, _)| added)
        })
    };
    std::thread::sleep(Duration::from_millis(100));
    assert!(
        !dir.path().join(ROSTER_FILE).exists(),
        "edited under the lock"
    );
    drop(held);
    assert_eq!(waiting.join().unwrap().unwrap(), Added::New);
    assert_eq!(Roster::load(dir.path()).unwrap().ids(), [guid(1)]);
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = fs::metadata(dir.path().join(LOCK_FILE))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600);
    }
}

#[test]
fn a_teammate_without_an_id_is_not_added() {
    let dir = tempfile::tempdir().unwrap();
    let mut roster = Roster::load(dir.path()).unwrap();
    assert_eq!(roster.add(Teammate::new(guid(1))), Added::New);
    assert_eq!(roster.add(Teammate::new(" \t")), Added::NoId);
    assert_eq!(roster.len(), 1);
    roster.save().unwrap();
    let back = Roster::load(dir.path()).unwrap();
    assert!(back.recovery().is_none(), "{:?}", back.recovery());
    assert_eq!(back.ids(), [guid(1)]);
}

#[test]
fn what_a_broken_roster_says_quotes_no_value_of_it() {
    let dir = tempfile::tempdir().unwrap();
    let path = Roster::path_in(dir.path());
    // A name where a yes or no belongs, and a name cut short by a quote.
    for (text, line) in [
        (
            "[[teammate]]\nid = \"a\"\nnotify = \"Megan Bowen, megan@contoso.com\"\n",
            "line 3",
        ),
        (
            "[[teammate]]\nid = \"a\"\nname = \"Megan \"Bowen\"\n",
            "line 3",
        ),
    ] {
        fs::write(&path, text).unwrap();
        let err = Roster::read(&path).unwrap_err().to_string();
        assert!(err.contains(line), "{err}");
        for private in ["Megan", "megan@contoso.com", "Bowen"] {
            assert!(!err.contains(private), "{err}");
        }
    }
}
