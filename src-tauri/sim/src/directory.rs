//! The simulated organisation: people in a reporting tree, their groups and
//! teams. Built once from the seed and never changed, so it is shared without
//! a lock.
//!
//! The tree is grown top-down: the CEO, one vice president per department,
//! then managers splitting their share of the headcount among 4-8 direct
//! reports until a share is small enough to be one team of individual
//! contributors. "Me" (`users[0]`) is a team lead deep in the tree, so that it
//! has a manager, peers, direct reports and teams.

use std::collections::HashMap;

use rand::rngs::StdRng;
use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};
use serde::{Deserialize, Serialize};

use crate::names::{self, DEPARTMENTS, OFFICES};

/// A person in the simulated directory.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SimUser {
    /// Object id: a lower-case GUID.
    pub id: String,
    pub display_name: String,
    pub given_name: String,
    pub surname: String,
    /// `first.last@domain`, with a digit added when the name is taken.
    pub user_principal_name: String,
    pub mail: String,
    pub job_title: String,
    pub department: String,
    /// Object id of this person's manager; `None` only for the CEO.
    pub manager_id: Option<String>,
    /// Whether `GET /users/{id}/photo/$value` answers with a picture.
    pub has_photo: bool,
    pub office_location: String,
    pub business_phones: Vec<String>,
    pub mobile_phone: Option<String>,
    pub preferred_language: String,
}

/// A Microsoft 365 group, most of them backing a team.
#[derive(Debug, Clone)]
pub(crate) struct Group {
    pub id: String,
    pub display_name: String,
    pub description: String,
    pub mail_nickname: String,
    pub is_team: bool,
    /// Indexes into `Directory::users`, in the order Graph lists them.
    pub members: Vec<usize>,
}

#[derive(Debug)]
pub(crate) struct Directory {
    pub users: Vec<SimUser>,
    pub manager: Vec<Option<usize>>,
    pub reports: Vec<Vec<usize>>,
    /// Minutes between headquarters time and the person's local time.
    pub offset_minutes: Vec<i32>,
    pub groups: Vec<Group>,
    pub member_of: Vec<Vec<usize>>,
    by_id: HashMap<String, usize>,
    by_upn: HashMap<String, usize>,
    group_by_id: HashMap<String, usize>,
}

/// One position in the reporting tree while it is being grown.
struct Position {
    parent: Option<usize>,
    depth: u8,
    department: Option<usize>,
    reports: Vec<usize>,
}

impl Directory {
    pub fn generate(users: usize, seed: u64, domain: &str) -> Directory {
        assert!(users >= 1, "a directory has at least one person");
        let mut rng = StdRng::seed_from_u64(seed);
        let positions = grow_tree(users, &mut rng);
        let me = pick_me(&positions);

        // "Me" first, everyone else breadth-first as the tree was grown.
        let order: Vec<usize> = std::iter::once(me)
            .chain((0..positions.len()).filter(|&p| p != me))
            .collect();
        let mut index_of = vec![0; positions.len()];
        for (index, &pos) in order.iter().enumerate() {
            index_of[pos] = index;
        }

        let manager: Vec<Option<usize>> = order
            .iter()
            .map(|&p| positions[p].parent.map(|q| index_of[q]))
            .collect();
        let reports: Vec<Vec<usize>> = order
            .iter()
            .map(|&p| positions[p].reports.iter().map(|&r| index_of[r]).collect())
            .collect();
        let depth: Vec<u8> = order.iter().map(|&p| positions[p].depth).collect();
        let department: Vec<Option<usize>> =
            order.iter().map(|&p| positions[p].department).collect();

        let ids: Vec<String> = (0..users).map(|_| random_guid(&mut rng)).collect();

        // Offices are assigned top-down so that teams mostly sit together.
        let mut office = vec![0usize; users];
        let total_weight: u32 = OFFICES.iter().map(|o| o.weight).sum();
        for &pos in &bfs(&positions) {
            let i = index_of[pos];
            office[i] = match manager[i] {
                Some(m) if rng.gen_bool(0.7) => office[m],
                _ => {
                    let mut pick = rng.gen_range(0..total_weight);
                    OFFICES
                        .iter()
                        .position(|o| {
                            if pick < o.weight {
                                true
                            } else {
                                pick -= o.weight;
                                false
                            }
                        })
                        .unwrap_or(0)
                }
            };
        }

        let mut taken: HashMap<String, u32> = HashMap::new();
        let mut list = Vec::with_capacity(users);
        for i in 0..users {
            let given = *names::FIRST_NAMES.choose(&mut rng).expect("names");
            let surname = *names::LAST_NAMES.choose(&mut rng).expect("names");
            let base = format!("{}.{}", names::mail_part(given), names::mail_part(surname));
            let count = taken.entry(base.clone()).or_insert(0);
            *count += 1;
            let local = if *count == 1 {
                base
            } else {
                format!("{base}{count}")
            };
            let upn = format!("{local}@{domain}");
            let dept = department[i];
            let job_title = match (depth[i], dept) {
                (0, _) | (_, None) => "Chief Executive Officer".to_owned(),
                (1, Some(d)) => format!("Vice President, {}", DEPARTMENTS[d].name),
                (2, Some(d)) if !reports[i].is_empty() => {
                    format!("Director, {}", DEPARTMENTS[d].name)
                }
                (_, Some(d)) if !reports[i].is_empty() => DEPARTMENTS[d].manager_title.to_owned(),
                (_, Some(d)) => DEPARTMENTS[d]
                    .titles
                    .choose(&mut rng)
                    .expect("titles")
                    .to_string(),
            };
            let o = &OFFICES[office[i]];
            let business_phones =
                vec![format!("{}{:03}", o.phone_prefix, rng.gen_range(100..1000))];
            let mobile_phone = rng
                .gen_bool(0.6)
                .then(|| format!("{}{:03}", o.phone_prefix, rng.gen_range(100..1000)));
            let has_photo = i == 0 || rng.gen_bool(1.0 / 3.0);
            list.push(SimUser {
                id: ids[i].clone(),
                display_name: format!("{given} {surname}"),
                given_name: given.to_owned(),
                surname: surname.to_owned(),
                user_principal_name: upn.clone(),
                mail: upn,
                job_title,
                department: dept.map_or("Executive", |d| DEPARTMENTS[d].name).to_owned(),
                manager_id: manager[i].map(|m| ids[m].clone()),
                has_photo,
                office_location: o.name.to_owned(),
                business_phones,
                mobile_phone,
                preferred_language: if o.name == "Dublin" || o.name == "London" {
                    "en-GB".to_owned()
                } else {
                    "en-US".to_owned()
                },
            });
        }

        let groups = make_groups(&list, &manager, &reports, &department, &depth, &mut rng);
        let mut member_of = vec![Vec::new(); users];
        for (g, group) in groups.iter().enumerate() {
            for &m in &group.members {
                member_of[m].push(g);
            }
        }

        let by_id = list
            .iter()
            .enumerate()
            .map(|(i, u)| (u.id.clone(), i))
            .collect();
        let by_upn = list
            .iter()
            .enumerate()
            .map(|(i, u)| (u.user_principal_name.to_lowercase(), i))
            .collect();
        let group_by_id = groups
            .iter()
            .enumerate()
            .map(|(i, g)| (g.id.clone(), i))
            .collect();
        Directory {
            users: list,
            manager,
            reports,
            offset_minutes: office.iter().map(|&o| OFFICES[o].offset_minutes).collect(),
            groups,
            member_of,
            by_id,
            by_upn,
            group_by_id,
        }
    }

    /// A user by object id (any case) or user principal name (any case).
    pub fn find(&self, id_or_upn: &str) -> Option<usize> {
        let key = id_or_upn.to_lowercase();
        self.by_id
            .get(&key)
            .or_else(|| self.by_upn.get(&key))
            .copied()
    }

    /// A user by e-mail address (any case), as `getSchedule` looks mailboxes
    /// up: everyone's mail is their user principal name.
    pub fn find_mail(&self, address: &str) -> Option<usize> {
        self.by_upn.get(&address.trim().to_lowercase()).copied()
    }

    /// A user by object id only, as `getPresencesByUserId` looks them up.
    pub fn find_id(&self, id: &str) -> Option<usize> {
        self.by_id.get(&id.to_lowercase()).copied()
    }

    pub fn find_group(&self, id: &str) -> Option<usize> {
        self.group_by_id.get(&id.to_lowercase()).copied()
    }

    /// People relevant to `me`, most relevant first: manager, direct reports,
    /// peers, then the rest of the department by distance in the tree.
    pub fn people_for(&self, me: usize) -> Vec<usize> {
        let mut seen = vec![false; self.users.len()];
        seen[me] = true;
        let mut close = Vec::new();
        close.extend(self.manager[me]);
        close.extend(self.reports[me].iter().copied());
        if let Some(m) = self.manager[me] {
            close.extend(self.reports[m].iter().copied());
        }
        let mut ranked = Vec::new();
        for i in close {
            if !std::mem::replace(&mut seen[i], true) {
                ranked.push(i);
            }
        }
        let dept = &self.users[me].department;
        let mut colleagues: Vec<(usize, u64, usize)> = (0..self.users.len())
            .filter(|&i| !seen[i] && &self.users[i].department == dept)
            .map(|i| {
                (
                    self.tree_distance(me, i),
                    mix(i as u64 ^ ((me as u64) << 32)),
                    i,
                )
            })
            .collect();
        colleagues.sort_unstable();
        ranked.extend(colleagues.into_iter().map(|(_, _, i)| i));
        ranked
    }

    fn tree_distance(&self, a: usize, b: usize) -> usize {
        let ancestors = |mut x: usize| {
            let mut chain = vec![x];
            while let Some(m) = self.manager[x] {
                chain.push(m);
                x = m;
            }
            chain
        };
        let (ca, cb) = (ancestors(a), ancestors(b));
        for (da, x) in ca.iter().enumerate() {
            if let Some(db) = cb.iter().position(|y| y == x) {
                return da + db;
            }
        }
        ca.len() + cb.len()
    }
}

fn grow_tree(users: usize, rng: &mut StdRng) -> Vec<Position> {
    let mut positions = vec![Position {
        parent: None,
        depth: 0,
        department: None,
        reports: Vec::new(),
    }];
    // (position, headcount below it) still to be split.
    let mut pending = std::collections::VecDeque::from([(0usize, users - 1)]);
    while let Some((pos, below)) = pending.pop_front() {
        if below == 0 {
            continue;
        }
        let depth = positions[pos].depth;
        let shares: Vec<usize> = if depth == 0 {
            // One vice president per department, as many as the headcount allows.
            let vps = (below / 5).clamp(1, DEPARTMENTS.len()).min(below);
            split(below, vps, rng)
        } else if below <= 9 {
            vec![1; below]
        } else {
            let k = rng.gen_range(4..=8usize).min(below);
            split(below, k, rng)
        };
        for (n, share) in shares.into_iter().enumerate() {
            let child = positions.len();
            let department = positions[pos].department.or(Some(n % DEPARTMENTS.len()));
            positions.push(Position {
                parent: Some(pos),
                depth: depth + 1,
                department,
                reports: Vec::new(),
            });
            positions[pos].reports.push(child);
            pending.push_back((child, share - 1));
        }
    }
    positions
}

/// Splits `total` into `parts` shares of at least one, unevenly like real org charts.
fn split(total: usize, parts: usize, rng: &mut StdRng) -> Vec<usize> {
    let weights: Vec<f64> = (0..parts).map(|_| rng.gen_range(0.6..1.4)).collect();
    let sum: f64 = weights.iter().sum();
    let spare = total - parts;
    let mut shares: Vec<usize> = weights
        .iter()
        .map(|w| 1 + (spare as f64 * w / sum) as usize)
        .collect();
    let mut given: usize = shares.iter().sum();
    let mut i = 0;
    while given < total {
        shares[i % parts] += 1;
        given += 1;
        i += 1;
    }
    shares
}

/// The signed-in user of the demo: the deepest team lead who has a manager,
/// at least two peers' worth of siblings and three direct reports.
fn pick_me(positions: &[Position]) -> usize {
    let qualifies = |p: &Position, min_reports: usize| {
        p.reports.len() >= min_reports && p.parent.is_some_and(|m| positions[m].reports.len() >= 2)
    };
    for min_reports in [3, 1] {
        let best = positions
            .iter()
            .enumerate()
            .filter(|(_, p)| p.depth > 0 && qualifies(p, min_reports))
            .max_by_key(|(i, p)| (p.depth, std::cmp::Reverse(*i)));
        if let Some((i, _)) = best {
            return i;
        }
    }
    // Too small an organisation for a team lead: anyone with a manager.
    usize::from(positions.len() > 1)
}

fn bfs(positions: &[Position]) -> Vec<usize> {
    let mut order = vec![0];
    let mut i = 0;
    while i < order.len() {
        order.extend(positions[order[i]].reports.iter().copied());
        i += 1;
    }
    order
}

fn make_groups(
    users: &[SimUser],
    manager: &[Option<usize>],
    reports: &[Vec<usize>],
    department: &[Option<usize>],
    depth: &[u8],
    rng: &mut StdRng,
) -> Vec<Group> {
    let mut groups = vec![Group {
        id: random_guid(rng),
        display_name: "All Company".to_owned(),
        description: "Everyone in the organisation.".to_owned(),
        mail_nickname: "allcompany".to_owned(),
        is_team: false,
        members: (0..users.len()).collect(),
    }];
    let leaders: Vec<usize> = (0..users.len()).filter(|&i| depth[i] <= 1).collect();
    if leaders.len() > 1 {
        let mut members = leaders;
        members.sort_by_key(|&i| depth[i]);
        groups.push(Group {
            id: random_guid(rng),
            display_name: "Leadership Team".to_owned(),
            description: "The CEO and the vice presidents.".to_owned(),
            mail_nickname: "leadership".to_owned(),
            is_team: true,
            members,
        });
    }
    for (d, dept) in DEPARTMENTS.iter().enumerate() {
        let members: Vec<usize> = (0..users.len())
            .filter(|&i| department[i] == Some(d))
            .collect();
        if !members.is_empty() {
            groups.push(Group {
                id: random_guid(rng),
                display_name: dept.name.to_owned(),
                description: format!("Everyone in {}.", dept.name),
                mail_nickname: dept.nickname.to_owned(),
                is_team: true,
                members,
            });
        }
    }
    let mut used: HashMap<String, u32> = HashMap::new();
    for lead in 0..users.len() {
        if depth[lead] < 1 || reports[lead].len() < 2 {
            continue;
        }
        let code = names::TEAM_NAMES[mix(lead as u64) as usize % names::TEAM_NAMES.len()];
        let base = format!("{} · {}", users[lead].department, code);
        let n = used.entry(base.clone()).or_insert(0);
        *n += 1;
        let display_name = if *n == 1 { base } else { format!("{base} {n}") };
        let mut members = vec![lead];
        members.extend(reports[lead].iter().copied());
        debug_assert!(members.iter().skip(1).all(|&r| manager[r] == Some(lead)));
        groups.push(Group {
            id: random_guid(rng),
            mail_nickname: names::mail_part(&display_name),
            description: format!("{}'s team.", users[lead].display_name),
            display_name,
            is_team: true,
            members,
        });
    }
    groups
}

pub(crate) fn random_guid(rng: &mut StdRng) -> String {
    uuid::Builder::from_random_bytes(rng.gen())
        .into_uuid()
        .to_string()
}

/// A cheap, stable integer hash (splitmix64) for deterministic tie-breaks.
pub(crate) fn mix(mut x: u64) -> u64 {
    x = x.wrapping_add(0x9e37_79b9_7f4a_7c15);
    x = (x ^ (x >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    x = (x ^ (x >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    x ^ (x >> 31)
}

/// Whether `s` is a GUID in the hyphenated 8-4-4-4-12 form Graph uses for ids.
pub(crate) fn is_guid(s: &str) -> bool {
    s.len() == 36 && uuid::Uuid::try_parse(s).is_ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_seed_same_organisation() {
        let a = Directory::generate(300, 7, "contoso.onmicrosoft.com");
        let b = Directory::generate(300, 7, "contoso.onmicrosoft.com");
        let c = Directory::generate(300, 8, "contoso.onmicrosoft.com");
        assert_eq!(a.users, b.users);
        assert_ne!(a.users, c.users);
    }

    #[test]
    fn me_has_a_manager_peers_reports_and_teams() {
        for n in [12, 40, 1200] {
            let d = Directory::generate(n, 42, "contoso.onmicrosoft.com");
            let m = d.manager[0].expect("me has a manager");
            assert!(d.reports[0].len() >= 3, "{n}: reports");
            assert!(d.reports[m].len() >= 2, "{n}: peers");
            assert!(
                d.member_of[0]
                    .iter()
                    .filter(|&&g| d.groups[g].is_team)
                    .count()
                    >= 2,
                "{n}: teams"
            );
        }
    }

    #[test]
    fn tree_is_one_organisation_with_unique_upns() {
        let d = Directory::generate(5000, 1, "fabrikam.com");
        let roots = d.manager.iter().filter(|m| m.is_none()).count();
        assert_eq!(roots, 1);
        let mut upns: Vec<_> = d
            .users
            .iter()
            .map(|u| u.user_principal_name.clone())
            .collect();
        upns.sort();
        upns.dedup();
        assert_eq!(upns.len(), 5000);
        assert!(d
            .users
            .iter()
            .all(|u| is_guid(&u.id) && u.id == u.id.to_lowercase()));
        let photos = d.users.iter().filter(|u| u.has_photo).count();
        assert!(
            (1400..1900).contains(&photos),
            "about a third have photos: {photos}"
        );
        // Every manager id points at someone who lists them as a report.
        for (i, m) in d.manager.iter().enumerate() {
            if let Some(m) = m {
                assert!(d.reports[*m].contains(&i));
                assert_eq!(
                    d.users[i].manager_id.as_deref(),
                    Some(d.users[*m].id.as_str())
                );
            }
        }
    }

    #[test]
    fn tiny_directories_work() {
        let one = Directory::generate(1, 1, "x.com");
        assert!(one.manager[0].is_none());
        let two = Directory::generate(2, 1, "x.com");
        assert!(two.manager[0].is_some());
    }

    #[test]
    fn people_rank_manager_first() {
        let d = Directory::generate(200, 3, "x.com");
        let people = d.people_for(0);
        assert_eq!(people[0], d.manager[0].unwrap());
        assert!(!people.contains(&0));
        assert_eq!(
            people[1..=d.reports[0].len()],
            d.reports[0][..],
            "then my reports"
        );
        let mut unique = people.clone();
        unique.sort_unstable();
        unique.dedup();
        assert_eq!(unique.len(), people.len());
    }
}
