//! OData query options on directory lists: `$select`, `$filter`, `$search`,
//! `$top`, `$skiptoken`, `$count`, `$orderby`, with Graph's rules and limits.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use percent_encoding::{utf8_percent_encode, AsciiSet, NON_ALPHANUMERIC};

use crate::directory::SimUser;

/// A query string split into decoded `(name, value)` pairs.
#[derive(Debug, Clone, Default)]
pub(crate) struct Params(Vec<(String, String)>);

impl Params {
    pub fn parse(query: Option<&str>) -> Params {
        Params(
            url::form_urlencoded::parse(query.unwrap_or_default().as_bytes())
                .map(|(k, v)| (k.into_owned(), v.into_owned()))
                .collect(),
        )
    }

    /// A query option by name; `$top` and `$TOP` are the same option.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// The same query with `name` set to `value`, encoded for a `@odata.nextLink`.
    pub fn with(&self, name: &str, value: &str) -> String {
        // Keep OData's punctuation readable in links, as Graph's own links do.
        const KEEP: &AsciiSet = &NON_ALPHANUMERIC
            .remove(b'$')
            .remove(b'-')
            .remove(b'_')
            .remove(b'.')
            .remove(b'~')
            .remove(b'(')
            .remove(b')')
            .remove(b',')
            .remove(b'\'')
            .remove(b':');
        self.0
            .iter()
            .filter(|(k, _)| !k.eq_ignore_ascii_case(name))
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .chain(std::iter::once((name, value)))
            .map(|(k, v)| {
                format!(
                    "{}={}",
                    utf8_percent_encode(k, KEEP),
                    utf8_percent_encode(v, KEEP)
                )
            })
            .collect::<Vec<_>>()
            .join("&")
    }
}

/// A Graph error found while reading query options: status, code, message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct QueryError {
    pub status: u16,
    pub code: &'static str,
    pub message: String,
}

fn bad(message: impl Into<String>) -> QueryError {
    QueryError {
        status: 400,
        code: "Request_BadRequest",
        message: message.into(),
    }
}

fn unsupported(message: impl Into<String>) -> QueryError {
    QueryError {
        status: 400,
        code: "Request_UnsupportedQuery",
        message: message.into(),
    }
}

/// Properties of `microsoft.graph.user` the simulator can return.
pub(crate) const USER_PROPERTIES: &[&str] = &[
    "id",
    "displayName",
    "givenName",
    "surname",
    "userPrincipalName",
    "mail",
    "jobTitle",
    "officeLocation",
    "businessPhones",
    "mobilePhone",
    "preferredLanguage",
    "department",
    "companyName",
    "city",
    "accountEnabled",
    "userType",
    "mailNickname",
];

/// What Graph returns for users when `$select` is not given: `department`
/// and the rest need `$select`.
pub(crate) const DEFAULT_USER_PROPERTIES: &[&str] = USER_PROPERTIES.split_at(11).0;

/// `$select` for users: canonical property names in the order asked.
pub(crate) fn user_selection(params: &Params) -> Result<Vec<&'static str>, QueryError> {
    let Some(select) = params.get("$select") else {
        return Ok(DEFAULT_USER_PROPERTIES.to_vec());
    };
    let mut out = Vec::new();
    for name in select.split(',').map(str::trim).filter(|s| !s.is_empty()) {
        let Some(p) = USER_PROPERTIES
            .iter()
            .find(|p| p.eq_ignore_ascii_case(name))
        else {
            return Err(bad(format!(
                "Parsing OData Select and Expand failed: Could not find a property named '{name}' on type 'microsoft.graph.user'."
            )));
        };
        if !out.contains(p) {
            out.push(*p);
        }
    }
    // Graph always sends the id along with a selection.
    if !out.contains(&"id") {
        out.insert(0, "id");
    }
    Ok(out)
}

/// `$top`: page size between 1 and `max`, `default` when absent.
pub(crate) fn top(params: &Params, default: usize, max: usize) -> Result<usize, QueryError> {
    match params.get("$top") {
        None => Ok(default),
        Some(t) => match t.trim().parse::<usize>() {
            Ok(n) if (1..=max).contains(&n) => Ok(n),
            _ => Err(bad(format!(
                "Invalid page size specified: '{t}'. Must be between 1 and {max} inclusive."
            ))),
        },
    }
}

/// The opaque `$skiptoken` of a `@odata.nextLink`: where the next page starts.
pub(crate) fn skiptoken(offset: usize) -> String {
    format!(
        "RFNwdAIA{}",
        URL_SAFE_NO_PAD.encode(format!("sim:{offset}").as_bytes())
    )
}

/// The offset a `$skiptoken` stands for (0 without one).
pub(crate) fn skip_offset(params: &Params) -> Result<usize, QueryError> {
    let Some(token) = params.get("$skiptoken") else {
        return Ok(0);
    };
    token
        .strip_prefix("RFNwdAIA")
        .and_then(|t| URL_SAFE_NO_PAD.decode(t).ok())
        .and_then(|b| String::from_utf8(b).ok())
        .and_then(|s| s.strip_prefix("sim:").and_then(|n| n.parse().ok()))
        .ok_or_else(|| bad("Invalid paging token."))
}

/// A string property of a user that `$filter` and `$search` may look at.
fn text_property(u: &SimUser, name: &str) -> Option<String> {
    Some(match name {
        "id" => u.id.clone(),
        "displayName" => u.display_name.clone(),
        "givenName" => u.given_name.clone(),
        "surname" => u.surname.clone(),
        "userPrincipalName" => u.user_principal_name.clone(),
        "mail" => u.mail.clone(),
        "jobTitle" => u.job_title.clone(),
        "department" => u.department.clone(),
        "officeLocation" => u.office_location.clone(),
        _ => return None,
    })
}

fn canonical(name: &str, allowed: &[&'static str]) -> Option<&'static str> {
    allowed
        .iter()
        .find(|p| p.eq_ignore_ascii_case(name))
        .copied()
}

// ---------------------------------------------------------------- $search

/// `$search="displayName:ali" OR "mail:ali"`: clauses joined by AND and OR
/// (AND binds tighter), each matched as Graph does: case-insensitive prefix
/// match of every word of the value against the words of the property.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Search {
    /// OR of ANDs of `(property, words)`.
    any_of: Vec<Vec<(&'static str, Vec<String>)>>,
}

const SEARCHABLE: &[&str] = &[
    "displayName",
    "givenName",
    "surname",
    "mail",
    "userPrincipalName",
    "jobTitle",
    "department",
];

impl Search {
    pub fn parse(text: &str) -> Result<Search, QueryError> {
        let mut any_of = vec![Vec::new()];
        let mut expect_clause = true;
        let mut rest = text.trim();
        while !rest.is_empty() {
            if expect_clause {
                let Some(body) = rest.strip_prefix('"') else {
                    return Err(bad(format!(
                        "Syntax error: the $search clause must be in double quotes, like \"displayName:{}\".",
                        rest.split_whitespace().next().unwrap_or_default().trim_matches('"')
                    )));
                };
                let end = body
                    .find('"')
                    .ok_or_else(|| bad("Syntax error: unterminated string in $search."))?;
                let clause = &body[..end];
                let (prop, value) = clause.split_once(':').ok_or_else(|| {
                    unsupported(format!(
                        "Invalid $search clause '{clause}': use \"property:value\", e.g. \"displayName:{clause}\"."
                    ))
                })?;
                let prop = canonical(prop.trim(), SEARCHABLE).ok_or_else(|| {
                    unsupported(format!(
                        "Property '{}' is not supported for $search on users.",
                        prop.trim()
                    ))
                })?;
                let words = words(value);
                if words.is_empty() {
                    return Err(bad("Syntax error: empty $search value."));
                }
                any_of
                    .last_mut()
                    .expect("at least one group")
                    .push((prop, words));
                rest = body[end + 1..].trim_start();
                expect_clause = false;
            } else {
                let (op, after) = rest.split_once(char::is_whitespace).unwrap_or((rest, ""));
                match op {
                    "AND" => {}
                    "OR" => any_of.push(Vec::new()),
                    _ => {
                        return Err(bad(format!(
                            "Syntax error: expected AND or OR in $search, found '{op}'."
                        )))
                    }
                }
                rest = after.trim_start();
                expect_clause = true;
            }
        }
        if expect_clause {
            return Err(bad(
                "Syntax error: $search ends where a clause was expected.",
            ));
        }
        Ok(Search { any_of })
    }

    pub fn matches(&self, u: &SimUser) -> bool {
        self.any_of.iter().any(|all| {
            all.iter().all(|(prop, wanted)| {
                let value = text_property(u, prop).unwrap_or_default();
                let have = words(&value);
                wanted
                    .iter()
                    .all(|w| have.iter().any(|h| h.starts_with(w.as_str())))
            })
        })
    }
}

/// Lower-case words: split on spaces and the punctuation inside addresses,
/// so `ali.smi` finds `alice.smith@contoso.com`; apostrophes vanish, so
/// `obr` and `o'br` both find O'Brien.
fn words(text: &str) -> Vec<String> {
    text.split(|c: char| c.is_whitespace() || ".-_@(),".contains(c))
        .map(|w| w.replace(['\'', '’'], "").to_lowercase())
        .filter(|w| !w.is_empty())
        .collect()
}

// ---------------------------------------------------------------- $filter

/// The `$filter` expressions Graph supports on users without advanced
/// queries: `startswith(prop,'x')`, `prop eq 'x'`, `id in ('a','b')`,
/// joined by `and` / `or`, with parentheses.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Filter {
    StartsWith(&'static str, String),
    Eq(&'static str, String),
    In(&'static str, Vec<String>),
    And(Box<Filter>, Box<Filter>),
    Or(Box<Filter>, Box<Filter>),
}

const FILTERABLE: &[&str] = &[
    "id",
    "displayName",
    "givenName",
    "surname",
    "mail",
    "userPrincipalName",
    "jobTitle",
    "department",
    "officeLocation",
];
/// Graph refuses more than 15 values in one `in (...)`.
const MAX_IN_VALUES: usize = 15;

#[derive(Debug, Clone, PartialEq)]
enum Token {
    Word(String),
    Text(String),
    Open,
    Close,
    Comma,
}

fn tokenize(text: &str) -> Result<Vec<Token>, QueryError> {
    let mut tokens = Vec::new();
    let mut chars = text.chars().peekable();
    while let Some(&c) = chars.peek() {
        match c {
            c if c.is_whitespace() => {
                chars.next();
            }
            '(' | ')' | ',' => {
                chars.next();
                tokens.push(match c {
                    '(' => Token::Open,
                    ')' => Token::Close,
                    _ => Token::Comma,
                });
            }
            '\'' => {
                chars.next();
                let mut s = String::new();
                loop {
                    match chars.next() {
                        Some('\'') if chars.peek() == Some(&'\'') => {
                            chars.next();
                            s.push('\'');
                        }
                        Some('\'') => break,
                        Some(c) => s.push(c),
                        None => {
                            return Err(bad("Invalid filter clause: unterminated string literal."))
                        }
                    }
                }
                tokens.push(Token::Text(s));
            }
            _ => {
                let mut w = String::new();
                while let Some(&c) = chars.peek() {
                    if c.is_whitespace() || "(),'".contains(c) {
                        break;
                    }
                    w.push(c);
                    chars.next();
                }
                tokens.push(Token::Word(w));
            }
        }
    }
    Ok(tokens)
}

struct FilterParser {
    tokens: Vec<Token>,
    at: usize,
}

impl FilterParser {
    fn peek(&self) -> Option<&Token> {
        self.tokens.get(self.at)
    }

    fn next(&mut self) -> Option<Token> {
        let t = self.tokens.get(self.at).cloned();
        self.at += 1;
        t
    }

    fn expect(&mut self, want: &Token) -> Result<(), QueryError> {
        match self.next() {
            Some(t) if &t == want => Ok(()),
            other => Err(bad(format!(
                "Invalid filter clause: expected {want:?}, found {other:?}."
            ))),
        }
    }

    fn keyword(&self, word: &str) -> bool {
        matches!(self.peek(), Some(Token::Word(w)) if w.eq_ignore_ascii_case(word))
    }

    fn or(&mut self) -> Result<Filter, QueryError> {
        let mut left = self.and()?;
        while self.keyword("or") {
            self.at += 1;
            left = Filter::Or(Box::new(left), Box::new(self.and()?));
        }
        Ok(left)
    }

    fn and(&mut self) -> Result<Filter, QueryError> {
        let mut left = self.primary()?;
        while self.keyword("and") {
            self.at += 1;
            left = Filter::And(Box::new(left), Box::new(self.primary()?));
        }
        Ok(left)
    }

    fn text(&mut self) -> Result<String, QueryError> {
        match self.next() {
            Some(Token::Text(s)) => Ok(s),
            other => Err(bad(format!(
                "Invalid filter clause: expected a quoted string, found {other:?}."
            ))),
        }
    }

    fn property(&mut self) -> Result<&'static str, QueryError> {
        match self.next() {
            Some(Token::Word(w)) => canonical(&w, FILTERABLE).ok_or_else(|| {
                unsupported(format!("Unsupported or invalid query filter clause specified for property '{w}' of resource 'User'."))
            }),
            other => Err(bad(format!("Invalid filter clause: expected a property, found {other:?}."))),
        }
    }

    fn primary(&mut self) -> Result<Filter, QueryError> {
        if self.peek() == Some(&Token::Open) {
            self.at += 1;
            let inner = self.or()?;
            self.expect(&Token::Close)?;
            return Ok(inner);
        }
        if self.keyword("startswith") {
            self.at += 1;
            self.expect(&Token::Open)?;
            let prop = self.property()?;
            if prop == "id" {
                return Err(unsupported(
                    "Unsupported query: startswith is not supported on 'id'.",
                ));
            }
            self.expect(&Token::Comma)?;
            let value = self.text()?;
            self.expect(&Token::Close)?;
            return Ok(Filter::StartsWith(prop, value));
        }
        let prop = self.property()?;
        match self.next() {
            Some(Token::Word(op)) if op.eq_ignore_ascii_case("eq") => {
                Ok(Filter::Eq(prop, self.text()?))
            }
            Some(Token::Word(op)) if op.eq_ignore_ascii_case("in") => {
                self.expect(&Token::Open)?;
                let mut values = vec![self.text()?];
                while self.peek() == Some(&Token::Comma) {
                    self.at += 1;
                    values.push(self.text()?);
                }
                self.expect(&Token::Close)?;
                if values.len() > MAX_IN_VALUES {
                    return Err(bad(format!(
                        "Too many child clauses specified in search filter expression containing 'OR' operators: {}. Max allowed: {MAX_IN_VALUES}.",
                        values.len()
                    )));
                }
                Ok(Filter::In(prop, values))
            }
            Some(Token::Word(op)) => {
                Err(unsupported(format!("Unsupported query operator '{op}'.")))
            }
            other => Err(bad(format!(
                "Invalid filter clause: expected an operator, found {other:?}."
            ))),
        }
    }
}

impl Filter {
    pub fn parse(text: &str) -> Result<Filter, QueryError> {
        let mut p = FilterParser {
            tokens: tokenize(text)?,
            at: 0,
        };
        let f = p.or()?;
        if p.at < p.tokens.len() {
            return Err(bad(format!(
                "Invalid filter clause: unexpected {:?}.",
                p.tokens[p.at]
            )));
        }
        Ok(f)
    }

    pub fn matches(&self, u: &SimUser) -> bool {
        let value = |p: &str| text_property(u, p).unwrap_or_default().to_lowercase();
        match self {
            Filter::StartsWith(p, s) => value(p).starts_with(&s.to_lowercase()),
            Filter::Eq(p, s) => value(p) == s.to_lowercase(),
            Filter::In(p, list) => {
                let v = value(p);
                list.iter().any(|s| s.to_lowercase() == v)
            }
            Filter::And(a, b) => a.matches(u) && b.matches(u),
            Filter::Or(a, b) => a.matches(u) || b.matches(u),
        }
    }
}

/// `$orderby` on users: `displayName` or `userPrincipalName`, `asc` or `desc`.
pub(crate) fn order_by(params: &Params) -> Result<Option<(&'static str, bool)>, QueryError> {
    let Some(text) = params.get("$orderby") else {
        return Ok(None);
    };
    let mut parts = text.split_whitespace();
    let prop = parts.next().unwrap_or_default();
    let prop = canonical(prop, &["displayName", "userPrincipalName"])
        .ok_or_else(|| unsupported(format!("Sorting by '{prop}' is not supported.")))?;
    let descending = match parts.next() {
        None => false,
        Some(d) if d.eq_ignore_ascii_case("asc") => false,
        Some(d) if d.eq_ignore_ascii_case("desc") => true,
        Some(d) => return Err(bad(format!("Invalid $orderby direction '{d}'."))),
    };
    Ok(Some((prop, descending)))
}

pub(crate) fn sort_key(u: &SimUser, prop: &str) -> String {
    text_property(u, prop).unwrap_or_default().to_lowercase()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn user(display: &str, mail: &str) -> SimUser {
        let (given, surname) = display.split_once(' ').unwrap();
        SimUser {
            id: "6f1c9e4e-2b7a-4c1e-9d3a-1b2c3d4e5f60".into(),
            display_name: display.into(),
            given_name: given.into(),
            surname: surname.into(),
            user_principal_name: mail.into(),
            mail: mail.into(),
            job_title: "Software Engineer".into(),
            department: "Engineering".into(),
            manager_id: None,
            has_photo: false,
            office_location: "Seattle".into(),
            business_phones: vec![],
            mobile_phone: None,
            preferred_language: "en-US".into(),
        }
    }

    #[test]
    fn search_is_a_prefix_match_per_word() {
        let alice = user("Alice O'Brien", "alice.obrien@contoso.com");
        let ok = |q: &str| Search::parse(q).unwrap().matches(&alice);
        assert!(ok("\"displayName:ali\""));
        assert!(ok("\"displayName:obr\""));
        assert!(ok("\"displayName:o'bri\""));
        assert!(ok("\"displayName:ALICE o\""));
        assert!(
            !ok("\"displayName:lice\""),
            "prefix of a word, not a substring"
        );
        assert!(ok("\"mail:alice.obr\""));
        assert!(ok("\"displayName:bob\" OR \"mail:alice\""));
        assert!(!ok("\"displayName:bob\" AND \"mail:alice\""));
        assert!(
            Search::parse("displayName:ali").is_err(),
            "quotes are required"
        );
        assert!(Search::parse("\"ali\"").is_err(), "a property is required");
        assert!(Search::parse("\"displayName:ali\" \"mail:x\"").is_err());
    }

    #[test]
    fn filters_cover_what_clients_send() {
        let alice = user("Alice O'Brien", "alice.obrien@contoso.com");
        let ok = |q: &str| Filter::parse(q).unwrap().matches(&alice);
        assert!(ok("startswith(displayName,'ali')"));
        assert!(ok("startswith(surname,'O''Br')"));
        assert!(ok(
            "startswith(mail,'x') or startswith(userPrincipalName,'ALICE')"
        ));
        assert!(!ok(
            "startswith(mail,'x') or (startswith(givenName,'a') and department eq 'Sales')"
        ));
        assert!(ok(
            "id in ('00000000-0000-0000-0000-000000000000','6f1c9e4e-2b7a-4c1e-9d3a-1b2c3d4e5f60')"
        ));
        assert!(Filter::parse("startswith(displayName,'ali'").is_err());
        assert!(Filter::parse("contains(displayName,'ali')").is_err());
        let many = (0..16)
            .map(|i| format!("'{i}'"))
            .collect::<Vec<_>>()
            .join(",");
        assert!(Filter::parse(&format!("id in ({many})")).is_err());
    }

    #[test]
    fn next_links_carry_the_query_and_a_skiptoken() {
        let p = Params::parse(Some(
            "$top=5&$filter=startswith(displayName,%27al%27)&$skiptoken=old",
        ));
        let q = p.with("$skiptoken", &skiptoken(10));
        assert!(
            q.starts_with("$top=5&$filter=startswith(displayName,'al')&$skiptoken=RFNwdAIA"),
            "{q}"
        );
        let again = Params::parse(Some(&q));
        assert_eq!(skip_offset(&again).unwrap(), 10);
        assert!(skip_offset(&Params::parse(Some("$skiptoken=garbage"))).is_err());
    }

    #[test]
    fn select_and_top_are_checked() {
        let p = Params::parse(Some("$select=displayName,JOBTITLE"));
        assert_eq!(
            user_selection(&p).unwrap(),
            vec!["id", "displayName", "jobTitle"]
        );
        assert!(user_selection(&Params::parse(Some("$select=shoeSize"))).is_err());
        assert_eq!(
            top(&Params::parse(Some("$top=999")), 100, 999).unwrap(),
            999
        );
        assert!(top(&Params::parse(Some("$top=1000")), 100, 999).is_err());
        assert!(top(&Params::parse(Some("$top=0")), 100, 999).is_err());
    }
}
