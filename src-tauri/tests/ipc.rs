//! The window's commands and events on Tauri's mock runtime, with the real
//! handlers, against the simulated tenant.

mod harness;

use std::time::Duration;

use harness::Harness;
use presently::events;
use presently_core::config::CONFIG_FILE;
use presently_sim::PresenceUpdate;
use serde_json::{json, Value};
use tauri::Manager;

// Multi-threaded: `get_ipc_response` blocks its thread while the simulator
// must keep answering.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_fresh_start_is_signed_out_with_default_settings() {
    let h = Harness::new().await;
    // `start` is what the app's setup does.
    let monitor = h.app.state::<presently::state::AppState>().monitor.clone();
    monitor.start().await;
    let state = h.invoke("get_state", json!({})).unwrap();
    assert_eq!(state["signIn"]["state"], "signed_out");
    assert_eq!(state["roster"], json!([]));
    assert_eq!(state["status"]["state"], "starting");
    assert_eq!(state["settings"]["cloud"], "global");
    assert_eq!(state["settings"]["tenant"], "organizations");
    assert_eq!(state["settings"]["intervalSecs"], 5);
    assert_eq!(state["trayAvailable"], false);
    assert_eq!(state["me"], Value::Null);
    assert_eq!(state["canSetStatus"], true);
    assert_eq!(state["cannotSetStatus"], Value::Null);
}

/// Where Graph cannot set a status, the window is told why in the
/// engine's words, the ones `set_my_status` refuses with.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn where_your_status_cannot_be_set_the_window_is_told_why() {
    let h = Harness::with_config(Some("cloud = \"china\"\n")).await;
    let state = h.invoke("get_state", json!({})).unwrap();
    assert_eq!(state["canSetStatus"], false);
    let why = state["cannotSetStatus"].as_str().unwrap();
    assert!(
        why.starts_with("Setting your own status is not available in the China (21Vianet) cloud"),
        "{why}"
    );
    let refused = h
        .invoke("set_my_status", json!({"choice": "busy"}))
        .unwrap_err();
    assert_eq!(refused["message"], why);
}

/// Save in "Set your status" sends the form as typed: the engine refuses a
/// message too long beside its field, makes only what changed, and the
/// first time leaves what comes after the status for the window to send
/// once the permission is given.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn set_your_status_goes_as_typed_and_the_engine_makes_what_changed() {
    browser_played_by_the_test();
    let h = Harness::new().await;
    h.sign_in().await;
    h.sim.set_auto_approve(true);
    let me = h.sim.users()[0].clone();
    // A status shows only while one has a Teams session: online.
    h.sim
        .set_presence(
            &me.id,
            PresenceUpdate {
                availability: "Available".into(),
                activity: "Available".into(),
                ..Default::default()
            },
        )
        .unwrap();
    let sent = |h: &Harness, action: &str| {
        h.sim
            .requests()
            .iter()
            .filter(|r| r.path.ends_with(&format!("/presence/{action}")))
            .count()
    };
    let save = |choice: &str, duration: &str, message: &str| {
        h.invoke(
            "save_my_status",
            json!({"form": {"choice": choice, "duration": duration, "message": message, "messageDuration": ""}}),
        )
    };

    let refused = save("busy", "1h", &"x".repeat(281)).unwrap_err();
    assert_eq!(
        refused,
        json!({
            "code": "invalid_input",
            "message": "A status message is at most 280 characters: this one has 281.",
            "key": "message"
        })
    );

    // The first time: the status waits for the permission, the message
    // after it.
    let answer = save("busy", "today", "In a workshop").unwrap();
    assert_eq!(answer["state"], "consent");
    assert_eq!(answer["opened"], true);
    assert_eq!(
        answer["rest"],
        json!([{"kind": "message", "text": "In a workshop", "duration": null}])
    );
    assert_eq!(sent(&h, "setUserPreferredPresence"), 0);
    let url = answer["url"].as_str().unwrap();
    assert!(url.contains("Presence.ReadWrite"), "{url}");
    let page = reqwest::get(url).await.unwrap().text().await.unwrap();
    assert!(page.contains("You are signed in"), "{page}");
    h.until("your status set once through", |h| {
        h.events_named(events::ME_CHANGED)
            .iter()
            .any(|me| me["availability"] == "Busy")
    })
    .await;
    assert_eq!(
        sent(&h, "setStatusMessage"),
        0,
        "the message is the window's to send"
    );
    let done = h
        .invoke(
            "set_my_message",
            json!({"text": "In a workshop", "duration": null}),
        )
        .unwrap();
    assert_eq!(done["state"], "done");
    h.until("your message shown", |h| {
        h.invoke("get_state", json!({})).unwrap()["me"]["statusMessage"] == "In a workshop"
    })
    .await;

    // From then on at once, and only what changed: the same message
    // (spaces aside) is not sent again.
    let answer = save("reset", "4h", " In a workshop ").unwrap();
    assert_eq!(
        answer,
        json!({"state": "done", "url": null, "opened": false, "rest": []})
    );
    assert_eq!(sent(&h, "clearUserPreferredPresence"), 1);
    assert_eq!(sent(&h, "setStatusMessage"), 1);
    // Nothing changed: nothing made.
    let answer = save("", "", "In a workshop").unwrap();
    assert_eq!(answer["state"], "done");
    assert_eq!(
        (
            sent(&h, "setUserPreferredPresence"),
            sent(&h, "clearUserPreferredPresence"),
            sent(&h, "setStatusMessage")
        ),
        (1, 1, 1)
    );
}

// Multi-threaded: `get_ipc_response` blocks its thread while the simulator
// must keep answering.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sign_in_through_commands_reports_each_step_as_an_event() {
    let h = Harness::new().await;
    let code = h.invoke("start_sign_in", json!({})).unwrap();
    assert!(code["verificationUri"]
        .as_str()
        .unwrap()
        .starts_with(&h.sim.url()));
    assert_eq!(
        code["userCode"].as_str().unwrap().len(),
        h.sim.pending_codes()[0].len()
    );
    h.sim
        .approve(code["userCode"].as_str().unwrap(), None)
        .unwrap();
    h.until("the signed_in event", |h| {
        h.events_named(events::SIGN_IN_CHANGED)
            .iter()
            .any(|e| e["state"] == "signed_in")
    })
    .await;
    let states: Vec<_> = h
        .events_named(events::SIGN_IN_CHANGED)
        .iter()
        .map(|e| e["state"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(states, ["signing_in", "signed_in"]);
    let account = &h.events_named(events::SIGN_IN_CHANGED)[1]["account"];
    assert_eq!(
        account["displayName"],
        h.sim.users()[0].display_name.as_str()
    );
    assert_eq!(account["cloudName"], "Global");
    // Own presence follows.
    h.until("me-changed", |h| {
        !h.events_named(events::ME_CHANGED).is_empty()
    })
    .await;
}

// Multi-threaded: `get_ipc_response` blocks its thread while the simulator
// must keep answering.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_declined_sign_in_is_explained() {
    let h = Harness::new().await;
    let code = h.invoke("start_sign_in", json!({})).unwrap();
    h.sim.decline(code["userCode"].as_str().unwrap()).unwrap();
    h.until("declined", |h| {
        h.invoke("get_state", json!({})).unwrap()["signIn"]["state"] == "declined"
    })
    .await;
    let state = h.invoke("get_state", json!({})).unwrap();
    assert!(state["signIn"]["message"]
        .as_str()
        .unwrap()
        .contains("declined"));
}

// Multi-threaded: `get_ipc_response` blocks its thread while the simulator
// must keep answering.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn roster_commands_add_report_unknown_people_and_flag() {
    let h = Harness::new().await;
    assert_eq!(
        h.invoke("add_teammates", json!({"ids": ["x"]}))
            .unwrap_err()["code"],
        "signed_out",
        "the directory needs a sign-in"
    );
    h.sign_in().await;
    let users = h.sim.users();
    let report = h
        .invoke(
            "add_teammates",
            json!({"ids": [users[3].user_principal_name, "nobody@contoso.onmicrosoft.com"]}),
        )
        .unwrap();
    assert_eq!(report["added"], json!([users[3].display_name]));
    assert_eq!(report["unknown"], json!(["nobody@contoso.onmicrosoft.com"]));
    assert_eq!(report["roster"][0]["id"], users[3].id.as_str());
    // The window shows the engine's one line as given.
    assert_eq!(
        report["summary"],
        format!(
            "Added {}. Not found: nobody@contoso.onmicrosoft.com.",
            users[3].display_name
        )
    );
    assert!(h.config_dir.join("roster.toml").exists(), "saved at once");
    let again = h
        .invoke("add_teammates", json!({"ids": [users[3].id]}))
        .unwrap();
    assert_eq!(again["added"], json!([]));
    assert_eq!(
        again["summary"],
        "No one new to add: they are all in your list already."
    );

    let t = h
        .invoke(
            "set_teammate_flags",
            json!({"id": users[3].id, "notify": true, "favorite": true, "notifyEveryChange": null}),
        )
        .unwrap();
    assert_eq!(
        (t["notify"].clone(), t["favorite"].clone()),
        (json!(true), json!(true))
    );
    let err = h
        .invoke(
            "set_teammate_flags",
            json!({"id": users[5].id, "notify": true, "favorite": null, "notifyEveryChange": null}),
        )
        .unwrap_err();
    assert_eq!(err["code"], "not_found");
    assert!(err["message"]
        .as_str()
        .unwrap()
        .contains("not on your roster"));
    assert!(!h.events_named(events::ROSTER_CHANGED).is_empty());

    let found = h
        .invoke("search_people", json!({"text": users[7].display_name}))
        .unwrap();
    assert!(found
        .as_array()
        .unwrap()
        .iter()
        .any(|p| p["id"] == users[7].id.as_str()));

    let roster = h
        .invoke("remove_teammate", json!({"id": users[3].id}))
        .unwrap();
    assert_eq!(roster, json!([]));
}

// Multi-threaded: `get_ipc_response` blocks its thread while the simulator
// must keep answering.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn presence_changes_arrive_as_events_with_untrusted_text_untouched() {
    let h = Harness::new().await;
    h.sign_in().await;
    let who = h.sim.users()[4].clone();
    h.invoke("add_teammates", json!({"ids": [who.id]})).unwrap();
    h.until("the first presence", |h| {
        h.events_named(events::PRESENCE_CHANGED)
            .iter()
            .any(|e| e[0]["id"] == who.id.as_str())
    })
    .await;
    let evil = "<img src=x onerror=alert(1)>";
    h.sim
        .set_presence(
            &who.id,
            PresenceUpdate {
                availability: "Busy".into(),
                activity: "InAMeeting".into(),
                status_message: Some(evil.into()),
                out_of_office: None,
            },
        )
        .unwrap();
    h.until("the change", |h| {
        h.events_named(events::PRESENCE_CHANGED)
            .iter()
            .any(|e| e[0]["statusMessage"] == evil)
    })
    .await;
    let change = h
        .events_named(events::PRESENCE_CHANGED)
        .into_iter()
        .find(|e| e[0]["statusMessage"] == evil)
        .unwrap();
    assert_eq!(change[0]["availability"], "Busy");
    assert_eq!(change[0]["activity"], "InAMeeting");
    assert!(change[0]["since"].is_string());
}

// Multi-threaded: `get_ipc_response` blocks its thread while the simulator
// must keep answering.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_settings_are_refused_and_nothing_is_lost() {
    let h = Harness::new().await;
    let mut settings = h.invoke("get_settings", json!({})).unwrap();
    settings["tenant"] = json!(" contoso.onmicrosoft.com ");
    settings["intervalSecs"] = json!(" 60 ");
    settings["quietHours"] = json!({"enabled": true, "start": "18:00", "end": "08:00:00"});
    let saved = h
        .invoke("save_settings", json!({"settings": settings}))
        .unwrap();
    assert_eq!(saved["tenant"], "contoso.onmicrosoft.com");
    assert_eq!(saved["quietHours"]["enabled"], true);
    assert_eq!(saved["quietHours"]["end"], "08:00");
    let file = std::fs::read_to_string(h.config_dir.join("config.toml")).unwrap();
    // The harness's flag decides the interval in force; the file has the one typed.
    assert!(file.contains("interval = 60\n"), "{file}");

    // The window sends its fields as typed; the field the form refuses
    // itself is named, for the window to point at.
    for (key, bad, words, field) in [
        ("clientId", json!("not-a-guid"), "client ID", None),
        ("cloud", json!("mars"), "Unknown cloud", None),
        (
            "intervalSecs",
            json!(1),
            "5 seconds or more",
            Some("interval"),
        ),
        (
            "intervalSecs",
            json!("thirty"),
            "5 seconds or more",
            Some("interval"),
        ),
        ("intervalSecs", json!("86401"), "at most 86400", None),
        (
            "quietHours",
            json!({"enabled": true, "start": "25:99", "end": "08:00"}),
            "quiet hours",
            Some("quiet_hours.start"),
        ),
        (
            "mqtt",
            json!({"broker": "broker.lan:1883", "username": "", "password": "", "topicPrefix": ""}),
            "mqtt://",
            Some("mqtt.broker"),
        ),
    ] {
        let mut s = saved.clone();
        s[key] = bad;
        let err = h
            .invoke("save_settings", json!({"settings": s}))
            .unwrap_err();
        assert_eq!(err["code"], "config", "{key}");
        assert!(err["message"].as_str().unwrap().contains(words), "{err}");
        assert_eq!(err["key"].as_str(), field, "{err}");
        assert_eq!(
            std::fs::read_to_string(h.config_dir.join("config.toml")).unwrap(),
            file
        );
    }
}

// Multi-threaded: `get_ipc_response` blocks its thread while the simulator
// must keep answering.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn notifications_pause_and_resume() {
    let h = Harness::new().await;
    let paused = h
        .invoke("pause_notifications", json!({"minutes": 60}))
        .unwrap();
    let until: chrono::DateTime<chrono::Utc> =
        paused["pausedUntil"].as_str().unwrap().parse().unwrap();
    assert!(until > chrono::Utc::now() + chrono::Duration::minutes(59));
    assert_eq!(
        h.invoke("get_state", json!({})).unwrap()["notificationsPausedUntil"],
        paused["pausedUntil"]
    );
    let resumed = h
        .invoke("pause_notifications", json!({"minutes": 0}))
        .unwrap();
    assert_eq!(resumed["pausedUntil"], Value::Null);
    // The window and the tray hear of both from the monitor.
    h.until("the pause and the resume announced", |h| {
        let seen = h.events_named(events::PAUSE_CHANGED);
        seen.len() == 2
            && seen[0]["pausedUntil"] == paused["pausedUntil"]
            && seen[1]["pausedUntil"].is_null()
    })
    .await;

    // A pause that runs out by itself is announced too.
    let monitor = h.app.state::<presently::state::AppState>().monitor.clone();
    let before = h.events_named(events::PAUSE_CHANGED).len();
    assert!(monitor
        .pause_notifications_for(Duration::from_millis(300))
        .is_some());
    h.until("the end of the pause announced", |h| {
        let seen = h.events_named(events::PAUSE_CHANGED);
        seen.len() == before + 2 && seen[before + 1]["pausedUntil"].is_null()
    })
    .await;
    assert_eq!(
        h.invoke("get_state", json!({})).unwrap()["notificationsPausedUntil"],
        Value::Null
    );
}

// Multi-threaded: `get_ipc_response` blocks its thread while the simulator
// must keep answering.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn open_teams_and_verification_page_refuse_what_they_cannot_do() {
    let h = Harness::new().await;
    let err = h.invoke("open_verification_page", json!({})).unwrap_err();
    assert_eq!(err["code"], "invalid_input");
    let err = h
        .invoke("open_teams", json!({"id": "nobody", "action": "chat"}))
        .unwrap_err();
    assert_eq!(err["code"], "not_found");
}

// Multi-threaded: `get_ipc_response` blocks its thread while the simulator
// must keep answering.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_import_from_no_known_source_is_refused_in_words() {
    let h = Harness::new().await;
    for (args, said) in [
        (json!({"source": "group"}), "Choose a team to import."),
        (
            json!({"source": "everyone", "groupId": "Design"}),
            "\"everyone\" is not something to import from.",
        ),
    ] {
        let err = h.invoke("import_teammates", args).unwrap_err();
        assert_eq!(err["code"], "invalid_input", "{err}");
        assert_eq!(err["message"], said);
    }
}

// Multi-threaded: `get_ipc_response` blocks its thread while the simulator
// must keep answering.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_revoked_sign_in_signs_out_with_the_reason_and_keeps_the_roster() {
    let h = Harness::new().await;
    h.sign_in().await;
    let who = h.sim.users()[6].clone();
    h.invoke("add_teammates", json!({"ids": [who.id]})).unwrap();
    h.sim.revoke_all();
    h.until("signed out", |h| {
        h.invoke("get_state", json!({})).unwrap()["signIn"]["state"] == "signed_out"
    })
    .await;
    let state = h.invoke("get_state", json!({})).unwrap();
    let why = state["signIn"]["message"].as_str().unwrap();
    assert!(why.contains("signed out because"), "{why}");
    assert_eq!(
        state["roster"][0]["id"],
        who.id.as_str(),
        "the roster stays"
    );
    assert!(h
        .events_named(events::SIGN_IN_CHANGED)
        .iter()
        .any(|e| e["state"] == "signed_out" && e["message"].is_string()));
}

// Multi-threaded: `get_ipc_response` blocks its thread while the simulator
// must keep answering.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn roster_changes_made_outside_the_app_are_not_overwritten() {
    let h = Harness::new().await;
    h.sign_in().await;
    let users = h.sim.users();
    h.invoke("add_teammates", json!({"ids": [users[3].id]}))
        .unwrap();
    // `presently roster add` while the app runs.
    let mut roster = presently_core::roster::Roster::load(&h.config_dir).unwrap();
    roster.add(presently_core::roster::Teammate::new(users[4].id.clone()));
    roster.save().unwrap();
    let report = h
        .invoke("add_teammates", json!({"ids": [users[5].id]}))
        .unwrap();
    let ids: Vec<_> = report["roster"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["id"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(
        ids,
        [
            users[3].id.clone(),
            users[4].id.clone(),
            users[5].id.clone()
        ]
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_window_follows_roster_edits_made_outside_the_app_and_survives_a_broken_file() {
    use presently::state::AppState;
    use presently_core::roster::{Roster, Teammate};

    let h = Harness::new().await;
    h.sign_in().await;
    let users = h.sim.users();
    h.invoke("add_teammates", json!({"ids": [users[3].id]}))
        .unwrap();
    let monitor = h.app.state::<AppState>().monitor.clone();
    tokio::spawn(monitor.follow_roster_file(Duration::from_millis(100)));
    let roster_ids = |h: &Harness| -> Vec<String> {
        h.invoke("get_state", json!({})).unwrap()["roster"]
            .as_array()
            .unwrap()
            .iter()
            .map(|t| t["id"].as_str().unwrap().to_string())
            .collect()
    };

    // `presently roster add` while the app runs: the window hears of it.
    let events_before = h.events_named(events::ROSTER_CHANGED).len();
    let mut roster = Roster::load(&h.config_dir).unwrap();
    roster.add(Teammate::new(users[4].id.clone()));
    roster.save().unwrap();
    h.until("the added teammate in the window", |h| {
        roster_ids(h) == [users[3].id.clone(), users[4].id.clone()]
    })
    .await;
    assert!(h.events_named(events::ROSTER_CHANGED).len() > events_before);
    // And the poller asks for them: their presence arrives.
    h.until("the added teammate's presence", |h| {
        h.invoke("get_state", json!({})).unwrap()["roster"][1]["since"].is_string()
    })
    .await;

    // An editor leaves the file broken: the window keeps its roster and the
    // file is left alone (someone may be halfway through editing it).
    let path = Roster::path_in(&h.config_dir);
    std::fs::write(&path, "[[teammate]]\nid = ").unwrap();
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(roster_ids(&h), [users[3].id.clone(), users[4].id.clone()]);
    assert_eq!(
        std::fs::read_to_string(&path).unwrap(),
        "[[teammate]]\nid = "
    );

    // An edit in the window is refused, naming the file and the line, and
    // the file stays as it is: no backup, no rewrite.
    for (cmd, args) in [
        ("add_teammates", json!({"ids": [users[5].id]})),
        (
            "set_teammate_flags",
            json!({"id": users[3].id, "notify": true}),
        ),
        ("remove_teammate", json!({"id": users[3].id})),
    ] {
        let err = h.invoke(cmd, args).unwrap_err();
        let message = err["message"].as_str().unwrap();
        assert_eq!(err["code"], "storage", "{cmd}: {err}");
        assert!(
            message.contains(&path.display().to_string()),
            "{cmd}: {message}"
        );
        assert!(message.contains("line 2"), "{cmd}: {message}");
        assert_eq!(
            std::fs::read_to_string(&path).unwrap(),
            "[[teammate]]\nid = "
        );
    }
    assert_eq!(roster_ids(&h), [users[3].id.clone(), users[4].id.clone()]);
    let kept_aside = std::fs::read_dir(&h.config_dir)
        .unwrap()
        .filter_map(|e| e.ok())
        .filter(|e| e.file_name().to_string_lossy().contains("broken"))
        .count();
    assert_eq!(kept_aside, 0);

    // Repaired, the same edit goes through.
    std::fs::write(&path, format!("[[teammate]]\nid = \"{}\"\n", users[3].id)).unwrap();
    h.invoke("add_teammates", json!({"ids": [users[5].id]}))
        .unwrap();
    assert_eq!(roster_ids(&h), [users[3].id.clone(), users[5].id.clone()]);
    assert_eq!(Roster::load(&h.config_dir).unwrap().ids().len(), 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_bad_config_file_is_shown_and_taken_in_once_fixed() {
    let h = Harness::with_config(Some(
        "# mine\ntenant = \"contoso.com\"\n\n[quiet_hours]\nenabled = true\nstart = \"6pm\"\n",
    ))
    .await;
    let path = h.config_dir.join(CONFIG_FILE);
    let state = h.invoke("get_state", json!({})).unwrap();
    let problem = &state["configProblem"];
    assert_eq!(problem["file"], path.display().to_string());
    assert_eq!(problem["key"], "quiet_hours.start");
    assert_eq!(problem["line"], 6);
    let message = problem["message"].as_str().unwrap();
    assert!(
        message.contains("\"6pm\" is not a time like 18:00"),
        "{message}"
    );
    // It runs on the defaults meanwhile, and signs in nowhere: the file
    // says where to sign in.
    assert_eq!(state["settings"]["tenant"], "organizations");
    for cmd in ["start_sign_in", "start_browser_sign_in"] {
        let err = h.invoke(cmd, json!({})).unwrap_err();
        assert_eq!(err["code"], "config", "{cmd}: {err}");
    }
    // Saving settings over it is refused, and the file left as it is.
    let before = std::fs::read_to_string(&path).unwrap();
    let err = h
        .invoke("save_settings", json!({"settings": state["settings"]}))
        .unwrap_err();
    assert_eq!(err["code"], "config", "{err}");
    assert_eq!(std::fs::read_to_string(&path).unwrap(), before);

    // Broken another way: told once, as the window's problem.
    std::fs::write(&path, before.replace("6pm", "25:00")).unwrap();
    h.until("the new problem", |h| {
        !h.events_named(events::CONFIG_PROBLEM).is_empty()
    })
    .await;
    let told = h.events_named(events::CONFIG_PROBLEM);
    assert!(
        told[0]["message"].as_str().unwrap().contains("25:00"),
        "{told:?}"
    );
    assert_eq!(
        h.invoke("get_state", json!({})).unwrap()["configProblem"]["message"],
        told[0]["message"]
    );

    // Fixed in an editor: the problem clears, and the file's settings hold.
    std::fs::write(&path, before.replace("6pm", "18:30")).unwrap();
    h.until("the problem cleared", |h| {
        h.invoke("get_state", json!({})).unwrap()["configProblem"].is_null()
    })
    .await;
    let told = h.events_named(events::CONFIG_PROBLEM);
    assert_eq!(told.len(), 2, "each problem once, then its end: {told:?}");
    assert_eq!(told[1], Value::Null);
    let settings = h.invoke("get_settings", json!({})).unwrap();
    assert_eq!(settings["tenant"], "contoso.com");
    assert_eq!(
        settings["quietHours"],
        json!({"enabled": true, "start": "18:30", "end": "08:00"})
    );
    // And signing in goes to the tenant the file names (which the
    // simulated cloud does not have).
    let err = h.invoke("start_sign_in", json!({})).unwrap_err();
    let message = err["message"].as_str().unwrap();
    assert!(
        message.contains("Tenant 'contoso.com' not found"),
        "{message}"
    );
}

/// The "browser" does nothing: the test plays it. Windows has no `true`:
/// this test program, given the address as the name of a test to run, runs
/// none.
fn browser_played_by_the_test() {
    let browser = if cfg!(windows) {
        format!("\"{}\" --exact", std::env::current_exe().unwrap().display())
    } else {
        "true".to_string()
    };
    std::env::set_var("BROWSER", browser);
}

/// The loopback port a browser sign-in's page sends the browser back to.
fn redirect_port(sign_in_url: &str) -> u16 {
    let url = url::Url::parse(sign_in_url).unwrap();
    let redirect = url
        .query_pairs()
        .find(|(k, _)| k == "redirect_uri")
        .unwrap()
        .1
        .into_owned();
    url::Url::parse(&redirect).unwrap().port().unwrap()
}

// Multi-threaded: `get_ipc_response` blocks its thread while the simulator
// must keep answering.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_second_sign_in_click_replaces_the_first() {
    browser_played_by_the_test();
    let h = Harness::new().await;
    h.sim.set_auto_approve(true);
    let mut urls = Vec::new();
    for _ in 0..2 {
        let answer = h.invoke("start_browser_sign_in", json!({})).unwrap();
        assert_eq!(answer["opened"], true);
        urls.push(answer["url"].as_str().unwrap().to_string());
    }
    let state = h.invoke("get_state", json!({})).unwrap();
    assert_eq!(state["signIn"]["state"], "in_browser");
    let running = state["signIn"]["browserUrl"].as_str().unwrap().to_string();
    let replaced = urls.iter().find(|u| **u != running).unwrap();
    // The replaced sign-in no longer listens; the running one completes.
    // (Its listener closes when the runtime drops the cancelled task: soon.)
    let port = redirect_port(replaced);
    h.until("the first sign-in to stop listening", |_| {
        std::net::TcpStream::connect(("127.0.0.1", port)).is_err()
    })
    .await;
    let page = reqwest::get(&running).await.unwrap().text().await.unwrap();
    assert!(page.contains("You are signed in"), "{page}");
    // The event, not only the state: the window hears of it a moment later.
    h.until("told signed in", |h| {
        h.events_named(events::SIGN_IN_CHANGED)
            .last()
            .is_some_and(|e| e["state"] == "signed_in")
    })
    .await;
    let states: Vec<_> = h
        .events_named(events::SIGN_IN_CHANGED)
        .iter()
        .map(|e| e["state"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(states.last().map(String::as_str), Some("signed_in"));
    assert!(states.iter().all(|s| s != "error"), "{states:?}");
}

// Multi-threaded: `get_ipc_response` blocks its thread while the simulator
// must keep answering.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn photos_are_served_by_the_app_not_resent_in_every_event() {
    use presently::commands::serve_photo;
    use presently::state::AppState;

    let h = Harness::new().await;
    h.sign_in().await;
    let users = h.sim.users();
    let ids: Vec<&str> = users[1..8].iter().map(|u| u.id.as_str()).collect();
    h.invoke("add_teammates", json!({ "ids": ids })).unwrap();
    let state = h.app.state::<AppState>();
    // The monitor fetches the newcomers' photos by itself, then says so.
    h.until("the photos in a roster event", |h| {
        h.events_named(events::ROSTER_CHANGED)
            .last()
            .is_some_and(|r| r.as_array().unwrap().iter().any(|t| t["photo"].is_string()))
    })
    .await;
    let with_photo: Vec<String> = ids
        .iter()
        .filter(|id| state.monitor.photo(id).is_some())
        .map(|id| id.to_string())
        .collect();
    assert!(
        !with_photo.is_empty(),
        "some of the simulated people have photos"
    );

    // The window gets an address on the app's own scheme, not the picture.
    let roster = h.invoke("get_state", json!({})).unwrap()["roster"].clone();
    for t in roster.as_array().unwrap() {
        let id = t["id"].as_str().unwrap();
        if with_photo.iter().any(|p| p == id) {
            // As Tauri serves a scheme of the app's: over plain HTTP on
            // Windows (WebView2 takes no custom scheme).
            let served = if cfg!(windows) {
                format!("http://photo.localhost/{id}")
            } else {
                format!("photo://localhost/{id}")
            };
            assert_eq!(t["photo"], served);
        } else {
            assert_eq!(t["photo"], Value::Null);
        }
    }
    let last = h.events_named(events::ROSTER_CHANGED).pop().unwrap();
    assert!(
        !last.to_string().contains("base64"),
        "a photo went out in an event"
    );

    // The scheme serves a cached photo by ID, and nothing else.
    let answer = serve_photo(&state, &format!("/{}", with_photo[0]));
    assert_eq!(answer.status(), 200);
    assert!(answer.headers()["content-type"]
        .to_str()
        .unwrap()
        .starts_with("image/"));
    assert!(!answer.body().is_empty());
    for other in [
        "/",
        "/nobody",
        "/../../etc/passwd",
        &format!("/{}", users[30].id),
    ] {
        assert_eq!(serve_photo(&state, other).status(), 404, "{other}");
    }
}

// Multi-threaded: `get_ipc_response` blocks its thread while the simulator
// must keep answering.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn offline_the_window_learns_since_when_what_it_shows_is_old() {
    let h = Harness::new().await;
    h.sign_in().await;
    let users = h.sim.users();
    h.invoke("add_teammates", json!({"ids": [users[3].id]}))
        .unwrap();
    h.until("presence", |h| {
        h.invoke("get_state", json!({})).unwrap()["roster"][0]["since"].is_string()
    })
    .await;
    // The network goes: every presence request is dropped unanswered.
    h.sim.inject(
        presently_sim::Fault::new(presently_sim::FaultKind::Drop)
            .on("/v1.0/communications/getPresencesByUserId")
            .times(1_000),
    );
    h.until("offline", |h| {
        h.events_named(events::STATUS_CHANGED)
            .iter()
            .any(|s| s["state"] == "offline")
    })
    .await;
    let offline = h
        .events_named(events::STATUS_CHANGED)
        .into_iter()
        .find(|s| s["state"] == "offline")
        .unwrap();
    let last = offline["lastAnswerAt"]
        .as_str()
        .expect("the last answer's time");
    let last = chrono::DateTime::parse_from_rfc3339(last).unwrap();
    let age = chrono::Utc::now().signed_duration_since(last);
    assert!(
        age >= chrono::Duration::zero() && age < chrono::Duration::seconds(60),
        "{age:?}"
    );
}

/// The settings' MQTT, against a real broker: a teammate taken off the
/// roster is cleared there (and not published again after a reconnection),
/// and a new password alone reconnects with it.
#[cfg(target_os = "linux")]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mqtt_forgets_who_left_the_roster_and_takes_a_new_password() {
    use presently_e2e::Broker;
    let h = Harness::new().await;
    h.sign_in().await;
    let users = h.sim.users();
    let (stays, leaves) = (users[1].id.clone(), users[2].id.clone());
    h.invoke("add_teammates", json!({"ids": [stays, leaves]}))
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let port = presently_e2e::free_port();
    let broker = Broker::start_with(dir.path(), port, Some(("ha", "first"))).await;
    let mut settings = h.invoke("get_settings", json!({})).unwrap();
    settings["mqtt"] = json!({
        "broker": format!("mqtt://127.0.0.1:{port}"),
        "username": "ha",
        "password": "first",
    });
    h.invoke("save_settings", json!({"settings": settings}))
        .unwrap();
    let topic = |id: &str| format!("presently/+/{id}");
    broker.retained_json(&topic(&stays), |_| true).await;
    broker.retained_json(&topic(&leaves), |_| true).await;

    h.invoke("remove_teammate", json!({"id": leaves})).unwrap();
    let started = std::time::Instant::now();
    while broker.retained(&topic(&leaves)).await.is_some() {
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "the broker still holds the presence of someone who left"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }

    // The broker now wants another password, and only that changes.
    broker.stop().await;
    let broker = Broker::start_with(dir.path(), port, Some(("ha", "second"))).await;
    settings["mqtt"]["password"] = json!("second");
    h.invoke("save_settings", json!({"settings": settings}))
        .unwrap();
    broker.retained_json(&topic(&stays), |_| true).await;
    assert_eq!(broker.retained(&topic(&leaves)).await, None);
    broker.stop().await;
}
