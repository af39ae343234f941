//! Everyone's presence, and how it changes over a simulated working day.
//!
//! The board keeps a simulated clock in minutes of headquarters time; each
//! automatic tick moves it one minute on. People work their own hours in
//! their office's time zone: they come online in the morning, go to meetings
//! on the hour and half hour, take calls, step away for lunch, and go offline
//! in the evening. A few are out of office for the day, some set a status
//! message. Every change, automatic or set from outside, takes the next value
//! of one global counter as its `sequenceNumber`, so sequence numbers always
//! grow and compare correctly as strings.
//!
//! People also set their own status (`setUserPreferredPresence`,
//! `setStatusMessage`): a preferred presence shows instead of what they are
//! doing, and a message instead of the day's, until it expires on the
//! simulated clock or is cleared. The clock reads as wall time from the
//! moment the board was made ([`PresenceBoard::time_at`]), one minute a tick.
//!
//! Meetings come from people's calendars (`calendar`): each day is planned a
//! day ahead, and a person is in a meeting for as long as a busy item of
//! their calendar lasts, so that free/busy and presence agree. Calls,
//! breaks and the rest come at random as the day goes.

use chrono::{DateTime, NaiveDate, Timelike, Utc};
use rand::rngs::StdRng;
use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

use crate::calendar::{self, CalendarItem, DayPlan, FreeBusy, Workday, ALL_DAYS};
use crate::directory::{mix, Directory};
use crate::error::{Result, SimError};
use crate::names::{OOF_MESSAGES, STATUS_MESSAGES};

/// One person's presence as Graph would report it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SimPresence {
    pub availability: String,
    pub activity: String,
    pub status_message: Option<String>,
    /// The automatic reply while the person is out of office, `None` otherwise.
    pub out_of_office: Option<String>,
    pub sequence_number: String,
}

/// A presence to set from outside (tests, the control API, the demo).
///
/// Any availability and activity strings are taken as given, including ones
/// Graph does not document, so that clients can be tested on values they do
/// not know. JSON field names are Graph's (`statusMessage`, `outOfOffice`);
/// the snake_case spellings are accepted too.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct PresenceUpdate {
    pub availability: String,
    pub activity: String,
    #[serde(default, alias = "status_message")]
    pub status_message: Option<String>,
    /// Out-of-office reply; `Some` makes `outOfOfficeSettings.isOutOfOffice` true.
    #[serde(default, alias = "out_of_office")]
    pub out_of_office: Option<String>,
}

/// Minutes since midnight of day 0, headquarters time, when a simulator starts.
const START_MINUTE: u32 = 9 * 60 + 30;
/// A manual change holds off automatic changes to that person for this long.
const MANUAL_HOLD_MINUTES: u32 = 30;

#[derive(Debug, Clone)]
struct Entry {
    availability: String,
    activity: String,
    status_message: Option<String>,
    /// The message is served as `contentType: html`, as the Teams clients
    /// write it; otherwise as `text`.
    status_is_html: bool,
    out_of_office: Option<String>,
    work_location: &'static str,
    seq: u64,
    /// Simulated minute when the current meeting, call or break ends.
    busy_until: Option<u32>,
    /// Simulated minute until which automatic changes leave this person alone.
    held_until: u32,
    /// What the person chose to show (`setUserPreferredPresence`), if anything.
    preferred: Option<Preferred>,
    /// Set when the message is the person's own (`setStatusMessage`), not
    /// the day's: the day's plans then leave it alone.
    own_message: Option<OwnMessage>,
}

/// A preferred presence: one of [`PREFERRED_PAIRS`], until a simulated minute.
#[derive(Debug, Clone, Copy)]
struct Preferred {
    availability: &'static str,
    activity: &'static str,
    until: u32,
}

#[derive(Debug, Clone, Copy)]
struct OwnMessage {
    published: u32,
    expires: Option<u32>,
}

/// The availability and activity pairs `setUserPreferredPresence` takes.
pub(crate) const PREFERRED_PAIRS: &[(&str, &str)] = &[
    ("Available", "Available"),
    ("Busy", "Busy"),
    ("DoNotDisturb", "DoNotDisturb"),
    ("BeRightBack", "BeRightBack"),
    ("Away", "Away"),
    ("Offline", "OffWork"),
];

/// The pair as Graph spells it, for a pair given in any case; `None` for
/// one `setUserPreferredPresence` refuses.
pub(crate) fn preferred_pair(
    availability: &str,
    activity: &str,
) -> Option<(&'static str, &'static str)> {
    PREFERRED_PAIRS.iter().copied().find(|(a, b)| {
        a.eq_ignore_ascii_case(availability.trim()) && b.eq_ignore_ascii_case(activity.trim())
    })
}

/// Graph's default `expirationDuration`: a day for Busy and DoNotDisturb,
/// seven days otherwise, in minutes.
pub(crate) fn default_expiry_minutes(availability: &str) -> u32 {
    match availability {
        "Busy" | "DoNotDisturb" => 24 * 60,
        _ => 7 * 24 * 60,
    }
}

/// An ISO 8601 duration (`PT1H`, `P1DT30M`, `PT90S`, `P1W`) in whole
/// simulated minutes, rounded up. `None` for anything else, for zero and
/// for more minutes than the clock can count.
pub(crate) fn iso_duration_minutes(text: &str) -> Option<u32> {
    let rest = text.trim().strip_prefix(['P', 'p'])?;
    let (date, time) = match rest.split_once(['T', 't']) {
        Some((d, t)) if !t.is_empty() => (d, Some(t)),
        Some(_) => return None,
        None => (rest, None),
    };
    let mut seconds: u64 = 0;
    let mut any = false;
    let mut add = |part: &str, units: &[(char, u64)]| -> Option<()> {
        let mut number = String::new();
        let mut last_unit = 0;
        for c in part.chars() {
            if c.is_ascii_digit() {
                number.push(c);
                continue;
            }
            let position = units.iter().position(|(u, _)| u.eq_ignore_ascii_case(&c))?;
            // Units come once each, largest first, each after a number.
            if number.is_empty() || position < last_unit {
                return None;
            }
            last_unit = position + 1;
            let n: u64 = number.parse().ok()?;
            seconds = seconds.checked_add(n.checked_mul(units[position].1)?)?;
            number.clear();
            any = true;
        }
        number.is_empty().then_some(())
    };
    add(
        date,
        &[
            ('Y', 365 * 86_400),
            ('M', 30 * 86_400),
            ('W', 7 * 86_400),
            ('D', 86_400),
        ],
    )?;
    if let Some(time) = time {
        add(time, &[('H', 3600), ('M', 60), ('S', 1)])?;
    }
    if !any || seconds == 0 {
        return None;
    }
    u32::try_from(seconds.div_ceil(60)).ok()
}

/// A person's habits: working hours in local minutes, and today's plans.
#[derive(Debug, Clone)]
struct Routine {
    offset: i32,
    start: u32,
    end: u32,
    /// The days of the week they work (bits of [`ALL_DAYS`]), local time.
    days: u8,
    remote_worker: bool,
    /// Local day number the plans below were made for.
    day: i64,
    oof: bool,
    remote_today: bool,
    /// Yesterday's, today's and tomorrow's calendars, oldest first.
    calendar: Vec<DayPlan>,
    /// Others may not read this person's free/busy (`getSchedule` answers
    /// an error for it).
    schedule_hidden: bool,
    /// Working hours given in a named time zone, served instead of the
    /// ones above; the day follows the ones above.
    named_hours: Option<NamedHours>,
}

/// Working hours a test gave in a named time zone (`Pacific Standard Time`).
#[derive(Debug, Clone)]
pub(crate) struct NamedHours {
    pub days: u8,
    pub start: u32,
    pub end: u32,
    pub time_zone: String,
}

/// The working hours `getSchedule` serves for someone.
#[derive(Debug, Clone)]
pub(crate) struct ServedHours {
    pub days: u8,
    pub start: u32,
    pub end: u32,
    /// The zone's name, or `None` for the person's own zone, served as a
    /// `customTimeZone` with this bias.
    pub time_zone: Option<String>,
    pub bias: i32,
}

/// About one in fifty people keep their free/busy to themselves.
const HIDDEN_SCHEDULES: u64 = 50;

#[derive(Debug)]
pub(crate) struct PresenceBoard {
    entries: Vec<Entry>,
    routines: Vec<Routine>,
    last_seq: u64,
    minute: u32,
    /// The wall time of [`START_MINUTE`]: what the clock reads as in Graph's answers.
    epoch: DateTime<Utc>,
    /// UTC = headquarters time + this many minutes (see `calendar`).
    headquarters_bias: i32,
    rng: StdRng,
}

/// What someone is doing: availability, activity and how long it lasts.
struct Doing {
    availability: &'static str,
    activity: &'static str,
    minutes: std::ops::RangeInclusive<u32>,
}

/// What a person in a meeting of their calendar shows, for as long as it lasts.
const IN_A_MEETING: (&str, &str) = ("Busy", "InAMeeting");
const CALL: Doing = Doing {
    availability: "Busy",
    activity: "InACall",
    minutes: 5..=25,
};
const CONFERENCE: Doing = Doing {
    availability: "Busy",
    activity: "InAConferenceCall",
    minutes: 15..=45,
};
const PRESENTING: Doing = Doing {
    availability: "DoNotDisturb",
    activity: "Presenting",
    minutes: 20..=45,
};
// Newer Graph pages show activities outside the documented list; "Focusing"
// is one, and clients must keep it rather than fail on it.
const FOCUSING: Doing = Doing {
    availability: "DoNotDisturb",
    activity: "Focusing",
    minutes: 45..=90,
};
const AWAY: Doing = Doing {
    availability: "Away",
    activity: "Away",
    minutes: 10..=40,
};
const BRB: Doing = Doing {
    availability: "BeRightBack",
    activity: "BeRightBack",
    minutes: 3..=10,
};
const IDLE: Doing = Doing {
    availability: "AvailableIdle",
    activity: "Inactive",
    minutes: 5..=20,
};
const BUSY: Doing = Doing {
    availability: "Busy",
    activity: "Busy",
    minutes: 10..=30,
};

impl PresenceBoard {
    pub fn new(directory: &Directory, seed: u64) -> PresenceBoard {
        let mut rng = StdRng::seed_from_u64(seed ^ 0x5052_4553_454e_4345);
        let n = directory.users.len();
        let routines: Vec<Routine> = (0..n)
            .map(|i| Routine {
                offset: directory.offset_minutes[i],
                start: rng.gen_range(7 * 60 + 30..=10 * 60),
                end: rng.gen_range(16 * 60..=19 * 60),
                days: ALL_DAYS,
                remote_worker: directory.users[i].office_location == "Remote",
                day: i64::MIN,
                oof: false,
                remote_today: false,
                calendar: Vec::new(),
                // Everyone may read their own, so "me" is never among them.
                schedule_hidden: i > 0
                    && mix(seed ^ 0x4652_4545_4255_5359 ^ i as u64)
                        .is_multiple_of(HIDDEN_SCHEDULES),
                named_hours: None,
            })
            .collect();
        // Whole minutes, so that the day's meetings start on whole minutes
        // of wall time and of every zone's local time.
        let now = Utc::now();
        let epoch = now
            .with_second(0)
            .and_then(|t| t.with_nanosecond(0))
            .unwrap_or(now);
        let blank = Entry {
            availability: String::new(),
            activity: String::new(),
            status_message: None,
            status_is_html: false,
            out_of_office: None,
            work_location: "unspecified",
            seq: 0,
            busy_until: None,
            held_until: 0,
            preferred: None,
            own_message: None,
        };
        let mut board = PresenceBoard {
            entries: vec![blank; n],
            routines,
            last_seq: rng.gen_range(0x10_0000..0x100_0000),
            minute: START_MINUTE,
            epoch,
            headquarters_bias: calendar::headquarters_bias(epoch),
            rng,
        };
        // Start mid-morning in a realistic mix: the day is already under way.
        for i in 0..n {
            board.start_of_state(i);
        }
        board
    }

    fn next_seq(&mut self) -> u64 {
        self.last_seq += 1;
        self.last_seq
    }

    fn local_time(&self, i: usize) -> (i64, u32) {
        let local = i64::from(self.minute) + i64::from(self.routines[i].offset);
        (local.div_euclid(1440), local.rem_euclid(1440) as u32)
    }

    fn working(&self, i: usize) -> bool {
        let (day, t) = self.local_time(i);
        let r = &self.routines[i];
        (r.start..r.end).contains(&t) && self.works_on(i, day)
    }

    /// Whether local `day` is one of person `i`'s working days.
    fn works_on(&self, i: usize, day: i64) -> bool {
        let days = self.routines[i].days;
        days == ALL_DAYS || calendar::works_on(days, self.local_date(i, day))
    }

    /// The calendar date of person `i`'s local `day`, in the zone their
    /// working hours are served in.
    fn local_date(&self, i: usize, day: i64) -> NaiveDate {
        let offset = self.routines[i].offset;
        let noon = day * 1440 + 720 - i64::from(offset);
        let bias = calendar::zone_bias(self.headquarters_bias, offset);
        (self.wall_time(noon) - chrono::Duration::minutes(i64::from(bias))).date_naive()
    }

    /// Plans person `i`'s calendar for local `day`, unless it is planned.
    fn plan_calendar(&mut self, i: usize, day: i64) {
        let r = &self.routines[i];
        if r.calendar.iter().any(|p| p.day == day) {
            return;
        }
        let workday = Workday {
            day,
            offset: r.offset,
            start: r.start,
            end: r.end,
            works: self.works_on(i, day),
            remote_worker: r.remote_worker,
        };
        let plan = calendar::plan(&mut self.rng, workday);
        let r = &mut self.routines[i];
        r.calendar.retain(|p| p.day >= day - 2);
        r.calendar.push(plan);
        r.calendar.sort_by_key(|p| p.day);
    }

    /// Keeps today's and tomorrow's calendars planned for person `i`.
    fn plan_ahead(&mut self, i: usize) {
        let (day, _) = self.local_time(i);
        let r = &self.routines[i];
        if r.calendar.last().is_some_and(|p| p.day > day) {
            return;
        }
        self.plan_calendar(i, day);
        self.plan_calendar(i, day + 1);
    }

    /// Makes today's plans for someone whose working day is starting.
    fn plan_day(&mut self, i: usize) {
        let (day, _) = self.local_time(i);
        if self.routines[i].day == day {
            return;
        }
        self.plan_ahead(i);
        let today = self.routines[i].calendar.iter().find(|p| p.day == day);
        let (oof, remote_today) = today.map_or((false, false), |p| (p.oof, p.remote));
        let status = self.rng.gen_bool(0.12).then(|| {
            STATUS_MESSAGES
                .choose(&mut self.rng)
                .copied()
                .unwrap_or_default()
                .to_owned()
        });
        let oof_message = oof.then(|| {
            OOF_MESSAGES
                .choose(&mut self.rng)
                .copied()
                .unwrap_or_default()
                .to_owned()
        });
        let r = &mut self.routines[i];
        r.day = day;
        r.oof = oof;
        r.remote_today = remote_today;
        let e = &mut self.entries[i];
        if e.own_message.is_none() {
            e.status_message = status;
            e.status_is_html = false;
        }
        e.out_of_office = oof_message;
    }

    /// The initial state: whatever this person would plausibly be doing now.
    fn start_of_state(&mut self, i: usize) {
        self.plan_day(i);
        if !self.working(i) {
            self.go_offline(i);
            return;
        }
        if self.routines[i].oof {
            self.go_out_of_office(i);
            return;
        }
        if self.join_meeting(i) {
            return;
        }
        // Those in meetings are in their calendars' meetings, joined above.
        let roll = self.rng.gen_range(0..100);
        let doing = match roll {
            0..=64 => None,
            65..=71 => Some(&CALL),
            72..=75 => Some(&CONFERENCE),
            76..=78 => Some(&PRESENTING),
            79..=81 => Some(&FOCUSING),
            82..=88 => Some(&AWAY),
            89..=91 => Some(&BRB),
            92..=96 => Some(&IDLE),
            _ => Some(&BUSY),
        };
        match doing {
            Some(d) => {
                let total = self.rng.gen_range(d.minutes.clone());
                let left = self.rng.gen_range(1..=total);
                self.begin(i, d.availability, d.activity, Some(self.minute + left));
            }
            None => self.begin(i, "Available", "Available", None),
        }
    }

    fn work_location(&self, i: usize) -> &'static str {
        let r = &self.routines[i];
        if r.oof {
            "timeOff"
        } else if r.remote_today {
            "remote"
        } else {
            "office"
        }
    }

    fn begin(&mut self, i: usize, availability: &str, activity: &str, until: Option<u32>) {
        let seq = self.next_seq();
        let location = self.work_location(i);
        let e = &mut self.entries[i];
        e.availability = availability.to_owned();
        e.activity = activity.to_owned();
        e.busy_until = until;
        e.work_location = location;
        e.seq = seq;
    }

    fn go_offline(&mut self, i: usize) {
        let activity = if self.routines[i].oof {
            "OutOfOffice"
        } else {
            "OffWork"
        };
        self.begin(i, "Offline", activity, None);
        self.entries[i].work_location = "unspecified";
    }

    fn go_out_of_office(&mut self, i: usize) {
        self.begin(i, "Away", "OutOfOffice", None);
    }

    /// One simulated minute passes; returns how many people changed.
    pub fn tick(&mut self) -> usize {
        self.minute = self.minute.wrapping_add(1);
        let mut changed = 0;
        for i in 0..self.entries.len() {
            self.plan_ahead(i);
            if self.expire_own(i) {
                changed += 1;
            }
            if self.entries[i].held_until > self.minute {
                continue;
            }
            let before = self.entries[i].seq;
            self.step(i);
            if self.entries[i].seq != before {
                changed += 1;
            }
        }
        changed
    }

    fn step(&mut self, i: usize) {
        let offline = self.entries[i].availability == "Offline";
        if !self.working(i) {
            if !offline {
                self.go_offline(i);
            }
            return;
        }
        if offline {
            self.plan_day(i);
            if self.routines[i].oof {
                self.go_out_of_office(i);
            } else if !self.join_meeting(i) {
                self.begin(i, "Available", "Available", None);
            }
            return;
        }
        if self.routines[i].oof || self.join_meeting(i) {
            return;
        }
        match self.entries[i].busy_until {
            Some(until) if until <= self.minute => {
                if self.rng.gen_bool(0.1) {
                    let d = &IDLE;
                    let until = self.minute + self.rng.gen_range(d.minutes.clone());
                    self.begin(i, d.availability, d.activity, Some(until));
                } else {
                    self.begin(i, "Available", "Available", None);
                }
            }
            Some(_) => {}
            None => {
                let (_, t) = self.local_time(i);
                let lunch = (11 * 60 + 30..13 * 60 + 30).contains(&t);
                let p_away = if lunch { 0.03 } else { 0.006 };
                let roll: f64 = self.rng.gen();
                let mut edge = 0.0;
                let choices: [(f64, &Doing); 7] = [
                    (0.012, &CALL),
                    (0.004, &CONFERENCE),
                    (0.0015, &PRESENTING),
                    (0.002, &FOCUSING),
                    (p_away, &AWAY),
                    (0.006, &BRB),
                    (0.004, &IDLE),
                ];
                for (p, d) in choices {
                    edge += p;
                    if roll < edge {
                        let minutes = self.rng.gen_range(d.minutes.clone());
                        let until = self.minute + minutes;
                        self.begin(i, d.availability, d.activity, Some(until));
                        return;
                    }
                }
            }
        }
    }

    /// Puts person `i` in the meeting of their calendar that is on now, if
    /// a busy one is; true if there is one. Back to back, the next meeting
    /// carries on without a change.
    fn join_meeting(&mut self, i: usize) -> bool {
        let now = i64::from(self.minute);
        let Some(end) = self.routines[i]
            .calendar
            .iter()
            .flat_map(|p| &p.items)
            .filter(|item| item.status == FreeBusy::Busy && (item.start..item.end).contains(&now))
            .map(|item| item.end)
            .max()
        else {
            return false;
        };
        let until = u32::try_from(end).ok();
        let e = &mut self.entries[i];
        if (e.availability.as_str(), e.activity.as_str()) == IN_A_MEETING {
            e.busy_until = until;
        } else {
            self.begin(i, IN_A_MEETING.0, IN_A_MEETING.1, until);
        }
        true
    }

    /// Sets someone's presence from outside; automatic changes leave it alone
    /// for a while so that a demo audience can see it.
    pub fn set(&mut self, i: usize, update: &PresenceUpdate) -> Result<()> {
        self.set_typed(i, update, false)
    }

    /// [`PresenceBoard::set`], with the status message served as `contentType`
    /// `html` when `html` is true (the update's message is then HTML).
    pub fn set_typed(&mut self, i: usize, update: &PresenceUpdate, html: bool) -> Result<()> {
        if update.availability.trim().is_empty() || update.activity.trim().is_empty() {
            return Err(SimError::InvalidPresence(
                "availability and activity must not be empty".to_owned(),
            ));
        }
        let seq = self.next_seq();
        let location = if update.out_of_office.is_some() {
            "timeOff"
        } else {
            self.work_location(i)
        };
        let e = &mut self.entries[i];
        e.availability.clone_from(&update.availability);
        e.activity.clone_from(&update.activity);
        e.status_message.clone_from(&update.status_message);
        e.status_is_html = html;
        e.out_of_office.clone_from(&update.out_of_office);
        e.own_message = None;
        e.work_location = location;
        e.busy_until = None;
        e.held_until = self.minute + MANUAL_HOLD_MINUTES;
        e.seq = seq;
        Ok(())
    }

    /// Drops person `i`'s preferred presence or own message once expired;
    /// true if anything was dropped.
    fn expire_own(&mut self, i: usize) -> bool {
        let now = self.minute;
        let e = &mut self.entries[i];
        let presence_over = e.preferred.is_some_and(|p| p.until <= now);
        let message_over = e
            .own_message
            .is_some_and(|m| m.expires.is_some_and(|t| t <= now));
        if presence_over {
            e.preferred = None;
        }
        if message_over {
            e.own_message = None;
            e.status_message = None;
        }
        if presence_over || message_over {
            self.entries[i].seq = self.next_seq();
        }
        presence_over || message_over
    }

    /// The simulated minute now.
    pub fn minute(&self) -> u32 {
        self.minute
    }

    /// What the simulated clock reads at `minute`, as wall time.
    pub fn time_at(&self, minute: u32) -> DateTime<Utc> {
        self.wall_time(i64::from(minute))
    }

    /// [`PresenceBoard::time_at`] for any minute, before the start too.
    pub fn wall_time(&self, minute: i64) -> DateTime<Utc> {
        self.epoch + chrono::Duration::minutes(minute - i64::from(START_MINUTE))
    }

    /// Person `i`'s calendar: yesterday's, today's and tomorrow's items.
    pub fn calendar_items(&self, i: usize) -> impl Iterator<Item = &CalendarItem> {
        self.routines[i].calendar.iter().flat_map(|p| &p.items)
    }

    /// Whether others may read person `i`'s free/busy.
    pub fn schedule_hidden(&self, i: usize) -> bool {
        self.routines[i].schedule_hidden
    }

    pub fn set_schedule_hidden(&mut self, i: usize, hidden: bool) {
        self.routines[i].schedule_hidden = hidden;
    }

    /// The working hours `getSchedule` serves for person `i`.
    pub fn working_hours(&self, i: usize) -> ServedHours {
        let r = &self.routines[i];
        let bias = calendar::zone_bias(self.headquarters_bias, r.offset);
        match &r.named_hours {
            Some(h) => ServedHours {
                days: h.days,
                start: h.start,
                end: h.end,
                time_zone: Some(h.time_zone.clone()),
                bias,
            },
            None => ServedHours {
                days: r.days,
                start: r.start,
                end: r.end,
                time_zone: None,
                bias,
            },
        }
    }

    /// Gives person `i` new working hours (local minutes, `start` before
    /// `end`). In their own zone (`time_zone` `None`) their day follows the
    /// new hours and days, and the meetings planned outside them are
    /// dropped; in a named zone the hours are only served, as given.
    pub fn set_working_hours(
        &mut self,
        i: usize,
        days: u8,
        start: u32,
        end: u32,
        time_zone: Option<String>,
    ) {
        if let Some(time_zone) = time_zone {
            self.routines[i].named_hours = Some(NamedHours {
                days,
                start,
                end,
                time_zone,
            });
            return;
        }
        let offset = {
            let r = &mut self.routines[i];
            r.named_hours = None;
            r.start = start;
            r.end = end;
            r.days = days;
            r.offset
        };
        let workdays: Vec<(i64, bool)> = self.routines[i]
            .calendar
            .iter()
            .map(|p| (p.day, self.works_on(i, p.day)))
            .collect();
        for (plan, (_, works)) in self.routines[i].calendar.iter_mut().zip(workdays) {
            let day_start = plan.day * 1440 - i64::from(offset);
            plan.items.retain(|item| {
                item.status == FreeBusy::Oof
                    || works
                        && item.start >= day_start + i64::from(start)
                        && item.end <= day_start + i64::from(end)
            });
        }
    }

    /// The simulated minute of a wall time, if it is on the clock at all.
    pub fn minute_at(&self, time: DateTime<Utc>) -> Option<u32> {
        let seconds = (time - self.epoch).num_seconds();
        let minutes = seconds.div_euclid(60) + i64::from(seconds.rem_euclid(60) > 0);
        u32::try_from(i64::from(START_MINUTE).checked_add(minutes)?).ok()
    }

    /// `setUserPreferredPresence` for person `i`, for `minutes` simulated minutes.
    pub fn set_preferred(&mut self, i: usize, pair: (&'static str, &'static str), minutes: u32) {
        let until = self.minute.saturating_add(minutes);
        self.entries[i].preferred = Some(Preferred {
            availability: pair.0,
            activity: pair.1,
            until,
        });
        self.entries[i].seq = self.next_seq();
    }

    /// `clearUserPreferredPresence`: what the person is doing shows again.
    pub fn clear_preferred(&mut self, i: usize) {
        self.entries[i].preferred = None;
        self.entries[i].seq = self.next_seq();
    }

    /// `setStatusMessage`: an empty message clears it.
    pub fn set_own_message(&mut self, i: usize, message: &str, html: bool, expires: Option<u32>) {
        let published = self.minute;
        let e = &mut self.entries[i];
        if message.is_empty() {
            e.status_message = None;
            e.own_message = None;
        } else {
            e.status_message = Some(message.to_owned());
            e.status_is_html = html;
            e.own_message = Some(OwnMessage { published, expires });
        }
        self.entries[i].seq = self.next_seq();
    }

    /// The availability and activity person `i` shows: the preferred ones
    /// while set, except that without a Teams session (Offline) there is
    /// nothing for them to show on, as Graph documents.
    fn shown(&self, i: usize) -> (&str, &str) {
        let e = &self.entries[i];
        match e.preferred {
            Some(p) if e.availability != "Offline" => (p.availability, p.activity),
            _ => (&e.availability, &e.activity),
        }
    }

    pub fn snapshot(&self, i: usize) -> SimPresence {
        let e = &self.entries[i];
        let (availability, activity) = self.shown(i);
        SimPresence {
            availability: availability.to_owned(),
            activity: activity.to_owned(),
            status_message: e.status_message.clone(),
            out_of_office: e.out_of_office.clone(),
            sequence_number: sequence_string(e.seq),
        }
    }

    /// The Graph `presence` resource for person `i`; `own` when they read
    /// it themselves, who alone see when their message was published and
    /// when it expires.
    pub fn graph_json_for(&self, i: usize, id: &str, own: bool) -> Value {
        let e = &self.entries[i];
        let utc = |minute: u32| {
            json!({
                "dateTime": self.time_at(minute).format("%Y-%m-%dT%H:%M:%S.0000000").to_string(),
                "timeZone": "UTC",
            })
        };
        let own_message = e.own_message.filter(|_| own);
        let status = e.status_message.as_ref().map(|m| {
            json!({
                "message": {
                    "content": m,
                    "contentType": if e.status_is_html { "html" } else { "text" },
                },
                "expiryDateTime": own_message.and_then(|m| m.expires).map(utc),
                "publishedDateTime": own_message.map(|m| utc(m.published)),
            })
        });
        let (availability, activity) = self.shown(i);
        json!({
            "@odata.type": "#microsoft.graph.presence",
            "id": id,
            "availability": availability,
            "activity": activity,
            "statusMessage": status,
            "outOfOfficeSettings": {
                "message": e.out_of_office,
                "isOutOfOffice": e.out_of_office.is_some(),
            },
            "sequenceNumber": sequence_string(e.seq),
            "workLocation": {
                "workLocationType": e.work_location,
                "source": "scheduled",
                "placeId": null,
            },
        })
    }
}

/// Fixed width and upper-case hex after a letter, so that string order is
/// numeric order, as Graph promises for `sequenceNumber`.
fn sequence_string(seq: u64) -> String {
    format!("C{seq:015X}")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn board(n: usize, seed: u64) -> (Directory, PresenceBoard) {
        let d = Directory::generate(n, seed, "contoso.onmicrosoft.com");
        let b = PresenceBoard::new(&d, seed);
        (d, b)
    }

    #[test]
    fn starts_in_a_realistic_mix() {
        let (_, b) = board(400, 42);
        let count = |a: &str| {
            (0..400)
                .filter(|&i| b.snapshot(i).availability == a)
                .count()
        };
        assert!(count("Available") > 60, "available: {}", count("Available"));
        assert!(count("Busy") > 30);
        assert!(count("Offline") > 20, "other time zones are off work");
        assert!((0..400).any(|i| b.snapshot(i).status_message.is_some()));
    }

    #[test]
    fn ticks_change_a_few_people_and_sequence_numbers_grow() {
        let (_, mut b) = board(40, 42);
        let before: Vec<_> = (0..40).map(|i| b.snapshot(i)).collect();
        let changed: usize = (0..60).map(|_| b.tick()).sum();
        assert!(
            (20..400).contains(&changed),
            "changes in an hour: {changed}"
        );
        for (i, old) in before.iter().enumerate() {
            let new = b.snapshot(i);
            assert!(new.sequence_number >= old.sequence_number);
            assert_eq!(new.sequence_number.len(), old.sequence_number.len());
        }
    }

    #[test]
    fn same_seed_same_day() {
        let (_, mut a) = board(100, 9);
        let (_, mut b) = board(100, 9);
        for _ in 0..30 {
            a.tick();
            b.tick();
        }
        assert!((0..100).all(|i| a.snapshot(i) == b.snapshot(i)));
    }

    #[test]
    fn everyone_goes_home_at_night() {
        let (_, mut b) = board(60, 5);
        for _ in 0..(14 * 60) {
            b.tick();
        }
        // 23:30 at headquarters; only the Bangalore office could be at work.
        let online = (0..60)
            .filter(|&i| b.snapshot(i).availability != "Offline")
            .count();
        assert!(online < 15, "online at night: {online}");
    }

    #[test]
    fn manual_changes_bump_the_sequence_and_hold() {
        let (_, mut b) = board(10, 1);
        let old = b.snapshot(3).sequence_number;
        let update = PresenceUpdate {
            availability: "DoNotDisturb".into(),
            activity: "Presenting".into(),
            status_message: Some("<b>demo</b>".into()),
            out_of_office: None,
        };
        b.set(3, &update).unwrap();
        let new = b.snapshot(3);
        assert!(new.sequence_number > old);
        assert_eq!(new.activity, "Presenting");
        for _ in 0..10 {
            b.tick();
        }
        assert_eq!(b.snapshot(3).sequence_number, new.sequence_number, "held");
        assert!(b.set(3, &PresenceUpdate::default()).is_err());
    }

    #[test]
    fn a_message_set_as_html_is_served_typed_html_until_replaced() {
        let (_, mut b) = board(10, 1);
        let update = PresenceUpdate {
            availability: "Busy".into(),
            activity: "Busy".into(),
            status_message: Some("<p>R&amp;D</p>".into()),
            out_of_office: None,
        };
        let body =
            |b: &PresenceBoard| b.graph_json_for(3, "x", false)["statusMessage"]["message"].clone();
        b.set_typed(3, &update, true).unwrap();
        assert_eq!(
            body(&b),
            json!({"content": "<p>R&amp;D</p>", "contentType": "html"})
        );
        b.set(3, &update).unwrap();
        assert_eq!(body(&b)["contentType"], "text");
    }

    #[test]
    fn iso_durations_in_minutes_and_junk_refused() {
        assert_eq!(iso_duration_minutes("PT1H"), Some(60));
        assert_eq!(iso_duration_minutes("PT30M"), Some(30));
        assert_eq!(iso_duration_minutes("P1DT30M"), Some(24 * 60 + 30));
        assert_eq!(iso_duration_minutes("PT90S"), Some(2), "rounded up");
        assert_eq!(iso_duration_minutes("P1W"), Some(7 * 24 * 60));
        for junk in [
            "",
            "P",
            "PT",
            "1H",
            "PT0S",
            "P0D",
            "PTH",
            "PT1H30",
            "PT1M1H",
            "P1H",
            "PT-1H",
            "P99999999999999999999D",
        ] {
            assert_eq!(iso_duration_minutes(junk), None, "{junk:?}");
        }
        assert_eq!(
            preferred_pair("offline", "offwork"),
            Some(("Offline", "OffWork"))
        );
        assert_eq!(preferred_pair("Busy", "InACall"), None);
    }

    #[test]
    fn a_preferred_presence_shows_until_it_expires_then_the_day_shows_again() {
        let (_, mut b) = board(10, 1);
        let working = PresenceUpdate {
            availability: "Available".into(),
            activity: "Available".into(),
            ..Default::default()
        };
        b.set(0, &working).unwrap();
        let before = b.snapshot(0).sequence_number;
        b.set_preferred(0, ("DoNotDisturb", "DoNotDisturb"), 20);
        let set = b.snapshot(0);
        assert_eq!(
            (set.availability.as_str(), set.activity.as_str()),
            ("DoNotDisturb", "DoNotDisturb")
        );
        assert!(set.sequence_number > before);
        for _ in 0..19 {
            b.tick();
        }
        assert_eq!(b.snapshot(0).availability, "DoNotDisturb", "still set");
        b.tick();
        assert_eq!(
            b.snapshot(0).availability,
            "Available",
            "expired after 20 minutes"
        );

        b.set_preferred(0, ("Away", "Away"), 60);
        b.clear_preferred(0);
        assert_eq!(b.snapshot(0).availability, "Available", "cleared");
    }

    #[test]
    fn without_a_session_a_preferred_presence_does_not_show() {
        let (_, mut b) = board(10, 1);
        let off = PresenceUpdate {
            availability: "Offline".into(),
            activity: "OffWork".into(),
            ..Default::default()
        };
        b.set(0, &off).unwrap();
        b.set_preferred(0, ("Busy", "Busy"), 60);
        assert_eq!(b.snapshot(0).availability, "Offline");
    }

    #[test]
    fn an_own_message_outlives_the_days_plans_and_expires_on_the_clock() {
        let (_, mut b) = board(10, 1);
        let expires = b.minute() + 90;
        b.set_own_message(0, "Back at 3", false, Some(expires));
        let own = b.graph_json_for(0, "me", true);
        assert_eq!(own["statusMessage"]["message"]["content"], "Back at 3");
        let at = b
            .time_at(expires)
            .format("%Y-%m-%dT%H:%M:%S.0000000")
            .to_string();
        assert_eq!(
            own["statusMessage"]["expiryDateTime"],
            json!({"dateTime": at, "timeZone": "UTC"})
        );
        assert_eq!(b.minute_at(b.time_at(expires)), Some(expires));
        let seen_by_others = b.graph_json_for(0, "me", false);
        assert_eq!(
            seen_by_others["statusMessage"]["expiryDateTime"],
            Value::Null
        );
        assert_eq!(
            seen_by_others["statusMessage"]["message"]["content"],
            "Back at 3"
        );
        for _ in 0..89 {
            b.tick();
        }
        assert_eq!(b.snapshot(0).status_message.as_deref(), Some("Back at 3"));
        b.tick();
        assert_eq!(b.snapshot(0).status_message, None, "expired");

        b.set_own_message(0, "No end", false, None);
        for _ in 0..(3 * 1440) {
            b.tick();
        }
        assert_eq!(
            b.snapshot(0).status_message.as_deref(),
            Some("No end"),
            "kept across days"
        );
        b.set_own_message(0, "", false, None);
        assert_eq!(
            b.snapshot(0).status_message,
            None,
            "an empty message clears it"
        );
    }

    #[test]
    fn people_are_in_a_meeting_exactly_while_their_calendar_says_busy() {
        let (_, mut b) = board(200, 11);
        let mut checked = 0;
        for _ in 0..(24 * 60) {
            b.tick();
            let now = i64::from(b.minute());
            for i in 0..200 {
                let booked = b
                    .calendar_items(i)
                    .any(|m| m.status == FreeBusy::Busy && (m.start..m.end).contains(&now));
                let p = b.snapshot(i);
                let in_meeting = p.activity == "InAMeeting";
                if b.working(i) && !b.routines[i].oof {
                    assert_eq!(in_meeting, booked, "person {i} at minute {now}");
                    checked += usize::from(booked);
                } else {
                    assert!(!in_meeting, "person {i} at minute {now}: {p:?}");
                }
            }
        }
        assert!(checked > 1000, "minutes in meetings: {checked}");
    }

    #[test]
    fn sequence_strings_sort_like_numbers() {
        assert!(sequence_string(9) < sequence_string(10));
        assert!(sequence_string(0xff) < sequence_string(0x100));
    }
}
