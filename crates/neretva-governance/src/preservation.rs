//! Expedited preservation of stored computer data (Budapest Convention Art. 29), as the 24/7
//! point of contact (Art. 35) handles it.
//!
//! A [`PreservationRequest`] carries what Art. 29(2) says a request must specify (points a–f),
//! the dates of its life, and its status:
//!
//! ```text
//! received ─► preserved ─► extended (any number of times) ─► followed_up (MLA request arrived)
//!                 └───────────────┴──────────────────────────────┴─► released
//! preserved/extended past their expiry read as expired
//! ```
//!
//! Art. 29(7): the data is preserved for not less than 60 days ([`MIN_TERM_DAYS`]) from the day
//! of preservation, so that the mutual-legal-assistance (MLA) request can be submitted; an
//! extension, on request, moves the expiry later; once the MLA request arrives the data stays
//! preserved until a decision on it is taken, so a followed-up request no longer expires.

use neretva_model::{FieldError, Uuid, check_optional_text, check_text};
use serde::{Deserialize, Serialize};
use time::{Date, Duration};

use crate::strategy::iso_date;

/// The shortest term of preservation, in days (Art. 29(7)).
pub const MIN_TERM_DAYS: i64 = 60;
/// The longest free-text field, in characters, and the longest reference.
pub const MAX_TEXT_CHARS: usize = 8000;
pub const MAX_REFERENCE_CHARS: usize = 100;
/// The most extensions of one request.
pub const MAX_EXTENSIONS: usize = 50;
/// The default reminder leads, in days before expiry.
pub const DEFAULT_REMINDER_DAYS: [u32; 2] = [14, 3];

/// Whether the request was received by this 24/7 point or sent by it to another Party.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Direction {
    Received,
    Sent,
}

impl Direction {
    pub fn parse(text: &str) -> Option<Direction> {
        match text {
            "received" => Some(Direction::Received),
            "sent" => Some(Direction::Sent),
            _ => None,
        }
    }
}

/// Where a request stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    Received,
    Preserved,
    Extended,
    /// The MLA request arrived: preserved until a decision on it.
    FollowedUp,
    Released,
    /// Preserved or extended, and past its expiry without an MLA request (never stored: read
    /// through [`PreservationRequest::status_on`]).
    Expired,
}

impl Status {
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Received => "received",
            Status::Preserved => "preserved",
            Status::Extended => "extended",
            Status::FollowedUp => "followed_up",
            Status::Released => "released",
            Status::Expired => "expired",
        }
    }
}

/// An extension of the term, on the requesting Party's request.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Extension {
    #[serde(with = "iso_date")]
    pub requested_on: Date,
    /// The new expiry.
    #[serde(with = "iso_date")]
    pub until: Date,
    #[serde(default)]
    pub note: Option<String>,
}

/// A preservation request under Art. 29.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PreservationRequest {
    pub id: Uuid,
    /// The requesting Party's reference, unique: letters, digits and `-_./`.
    pub reference: String,
    pub direction: Direction,
    /// Art. 29(2)(a): the authority seeking the preservation.
    pub requesting_authority: String,
    /// The Party (State) the requesting authority belongs to.
    pub requesting_party: String,
    /// Art. 29(2)(b): the offence under investigation or proceedings.
    pub offence: String,
    /// Art. 29(2)(b): a brief summary of the related facts.
    pub facts: String,
    /// Art. 29(2)(c): the stored computer data to be preserved.
    pub data_sought: String,
    /// Art. 29(2)(c): its relationship to the offence.
    pub relation_to_offence: String,
    /// Art. 29(2)(d): what identifies the custodian of the data or the computer system's location.
    pub custodian: String,
    /// The custodian when it is an organisation of the registry (e.g. a constituent ISP).
    #[serde(default)]
    pub custodian_org: Option<Uuid>,
    /// Art. 29(2)(e): the necessity of the preservation.
    pub necessity: String,
    /// Art. 29(2)(f): the requesting Party intends to submit an MLA request for search, seizure
    /// or disclosure; a request without that intent is not an Art. 29 request.
    pub mla_intended: bool,
    #[serde(with = "iso_date")]
    pub received_on: Date,
    #[serde(default, with = "iso_date::option")]
    pub preserved_on: Option<Date>,
    /// The day preservation ends unless extended or followed up; set when preserved.
    #[serde(default, with = "iso_date::option")]
    pub expires_on: Option<Date>,
    #[serde(default)]
    pub extensions: Vec<Extension>,
    /// The follow-up (MLA) request's reference, and the day it arrived.
    #[serde(default)]
    pub mla_reference: Option<String>,
    #[serde(default, with = "iso_date::option")]
    pub mla_received_on: Option<Date>,
    #[serde(default, with = "iso_date::option")]
    pub released_on: Option<Date>,
    pub status: Status,
    #[serde(default)]
    pub notes: Option<String>,
}

/// What a new request says, before it has an id and a status.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewRequest {
    pub reference: String,
    #[serde(default = "received")]
    pub direction: Direction,
    pub requesting_authority: String,
    pub requesting_party: String,
    pub offence: String,
    pub facts: String,
    pub data_sought: String,
    pub relation_to_offence: String,
    pub custodian: String,
    #[serde(default)]
    pub custodian_org: Option<Uuid>,
    pub necessity: String,
    pub mla_intended: bool,
    #[serde(with = "iso_date")]
    pub received_on: Date,
    #[serde(default)]
    pub notes: Option<String>,
}

fn received() -> Direction {
    Direction::Received
}

impl PreservationRequest {
    /// A received request, not yet preserved; [`validate`] it before storing.
    pub fn new(id: Uuid, new: NewRequest) -> PreservationRequest {
        PreservationRequest {
            id,
            reference: new.reference,
            direction: new.direction,
            requesting_authority: new.requesting_authority,
            requesting_party: new.requesting_party,
            offence: new.offence,
            facts: new.facts,
            data_sought: new.data_sought,
            relation_to_offence: new.relation_to_offence,
            custodian: new.custodian,
            custodian_org: new.custodian_org,
            necessity: new.necessity,
            mla_intended: new.mla_intended,
            received_on: new.received_on,
            preserved_on: None,
            expires_on: None,
            extensions: Vec::new(),
            mla_reference: None,
            mla_received_on: None,
            released_on: None,
            status: Status::Received,
            notes: new.notes,
        }
    }

    /// The status on `today`: a preserved or extended request past its expiry is expired.
    pub fn status_on(&self, today: Date) -> Status {
        match (self.status, self.expires_on) {
            (Status::Preserved | Status::Extended, Some(expires)) if today > expires => Status::Expired,
            (status, _) => status,
        }
    }

    /// Days from `today` to the expiry (negative once past), while the data is held under a term.
    pub fn days_left(&self, today: Date) -> Option<i64> {
        match self.status {
            Status::Preserved | Status::Extended => {
                self.expires_on.map(|expires| (expires - today).whole_days())
            }
            _ => None,
        }
    }
}

fn not_in(status: Status, what: &str) -> FieldError {
    FieldError::new("status", format!("a {} request cannot be {what}", status.as_str()))
}

/// Records that the data was preserved on `on`, until `until` (at least [`MIN_TERM_DAYS`] days
/// later; that minimum when left out).
pub fn preserve(request: &mut PreservationRequest, on: Date, until: Option<Date>) -> Result<(), FieldError> {
    if request.status != Status::Received {
        return Err(not_in(request.status, "preserved again"));
    }
    if on < request.received_on {
        return Err(FieldError::new(
            "preserved_on",
            format!("{on} is before the request was received ({})", request.received_on),
        ));
    }
    let minimum = on + Duration::days(MIN_TERM_DAYS);
    let until = until.unwrap_or(minimum);
    if until < minimum {
        return Err(FieldError::new(
            "until",
            format!(
                "{until} is less than {MIN_TERM_DAYS} days after preservation (at least {minimum}; Art. 29(7))"
            ),
        ));
    }
    request.preserved_on = Some(on);
    request.expires_on = Some(until);
    request.status = Status::Preserved;
    Ok(())
}

/// Extends the term to `until`, on a request made on `requested_on`, before the current expiry.
pub fn extend(
    request: &mut PreservationRequest,
    requested_on: Date,
    until: Date,
    note: Option<String>,
) -> Result<(), FieldError> {
    let (Status::Preserved | Status::Extended, Some(expires)) = (request.status, request.expires_on) else {
        return Err(not_in(request.status, "extended"));
    };
    if request.extensions.len() >= MAX_EXTENSIONS {
        return Err(FieldError::new("extensions", format!("at most {MAX_EXTENSIONS} extensions")));
    }
    if requested_on > expires {
        return Err(FieldError::new(
            "requested_on",
            format!(
                "{requested_on} is after the expiry ({expires}); an expired preservation cannot be extended"
            ),
        ));
    }
    if request.preserved_on.is_some_and(|preserved| requested_on < preserved) {
        return Err(FieldError::new("requested_on", format!("{requested_on} is before the preservation")));
    }
    if until <= expires {
        return Err(FieldError::new("until", format!("{until} is not after the current expiry ({expires})")));
    }
    check_optional_text("note", note.as_deref().unwrap_or_default(), MAX_TEXT_CHARS)?;
    request.extensions.push(Extension { requested_on, until, note });
    request.expires_on = Some(until);
    request.status = Status::Extended;
    Ok(())
}

/// Links the follow-up MLA request, received on `on`: the data stays preserved until a decision
/// on it (Art. 29(7)), so the request no longer expires.
pub fn follow_up(request: &mut PreservationRequest, reference: String, on: Date) -> Result<(), FieldError> {
    let (Status::Preserved | Status::Extended, Some(expires), Some(preserved)) =
        (request.status, request.expires_on, request.preserved_on)
    else {
        return Err(not_in(request.status, "followed up"));
    };
    check_reference("mla_reference", &reference)?;
    if on < preserved {
        return Err(FieldError::new(
            "mla_received_on",
            format!("{on} is before the preservation ({preserved})"),
        ));
    }
    if on > expires {
        return Err(FieldError::new(
            "mla_received_on",
            format!("{on} is after the preservation expired ({expires})"),
        ));
    }
    request.mla_reference = Some(reference);
    request.mla_received_on = Some(on);
    request.status = Status::FollowedUp;
    Ok(())
}

/// Records that the preserved data was released on `on` (or the request closed unpreserved).
pub fn release(request: &mut PreservationRequest, on: Date) -> Result<(), FieldError> {
    if request.status == Status::Released {
        return Err(not_in(request.status, "released again"));
    }
    let since = request.mla_received_on.or(request.preserved_on).unwrap_or(request.received_on);
    if on < since {
        return Err(FieldError::new(
            "released_on",
            format!("{on} is before {since}, the request's last step"),
        ));
    }
    request.released_on = Some(on);
    request.status = Status::Released;
    Ok(())
}

fn check_reference(field: &str, reference: &str) -> Result<(), FieldError> {
    check_text(field, reference, MAX_REFERENCE_CHARS)?;
    if reference.chars().all(|c| c.is_ascii_alphanumeric() || "-_./".contains(c)) {
        Ok(())
    } else {
        Err(FieldError::new(field, "only letters, digits and - _ . / are allowed"))
    }
}

/// Every problem of a request, by field.
pub fn validate(request: &PreservationRequest) -> Vec<FieldError> {
    let mut problems = Vec::new();
    let mut keep = |result: Result<(), FieldError>| {
        if let Err(error) = result {
            problems.push(error);
        }
    };
    keep(check_reference("reference", &request.reference));
    for (field, value) in [
        ("requesting_authority", &request.requesting_authority),
        ("requesting_party", &request.requesting_party),
        ("offence", &request.offence),
        ("facts", &request.facts),
        ("data_sought", &request.data_sought),
        ("relation_to_offence", &request.relation_to_offence),
        ("custodian", &request.custodian),
        ("necessity", &request.necessity),
    ] {
        keep(check_text(field, value, MAX_TEXT_CHARS));
    }
    keep(check_optional_text("notes", request.notes.as_deref().unwrap_or_default(), MAX_TEXT_CHARS));
    if !request.mla_intended {
        keep(Err(FieldError::new(
            "mla_intended",
            "an Art. 29 request states that a mutual-assistance request will follow (Art. 29(2)(f))",
        )));
    }
    if let Some(reference) = &request.mla_reference {
        keep(check_reference("mla_reference", reference));
    }
    let order = [
        ("received_on", Some(request.received_on)),
        ("preserved_on", request.preserved_on),
        ("mla_received_on", request.mla_received_on),
    ];
    let mut previous: Option<(&str, Date)> = None;
    for (field, day) in order {
        if let Some(day) = day {
            if let Some((before, earlier)) = previous
                && day < earlier
            {
                keep(Err(FieldError::new(field, format!("{day} is before {before} ({earlier})"))));
            }
            previous = Some((field, day));
        }
    }
    if let (Some(preserved), Some(expires)) = (request.preserved_on, request.expires_on)
        && expires < preserved + Duration::days(MIN_TERM_DAYS)
    {
        keep(Err(FieldError::new(
            "expires_on",
            format!(
                "{expires} is less than {MIN_TERM_DAYS} days after preservation ({preserved}; Art. 29(7))"
            ),
        )));
    }
    if let (Some(released), Some((_, last))) = (request.released_on, previous)
        && released < last
    {
        keep(Err(FieldError::new("released_on", format!("{released} is before {last}"))));
    }
    problems
}

/// A request due for a reminder.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Reminder {
    pub id: Uuid,
    pub reference: String,
    #[serde(with = "iso_date")]
    pub expires_on: Date,
    pub days_left: i64,
    /// The reminder lead reached: the smallest configured lead not below `days_left`.
    pub lead: u32,
}

/// The requests held under a term that expire within the largest of `leads` days of `today`
/// (expiring today included, expired excluded), soonest first.
pub fn due_reminders<'a>(
    requests: impl IntoIterator<Item = &'a PreservationRequest>,
    today: Date,
    leads: &[u32],
) -> Vec<Reminder> {
    let mut due: Vec<Reminder> = requests
        .into_iter()
        .filter_map(|request| {
            let days_left = request.days_left(today)?;
            let expires_on = request.expires_on?;
            let lead = leads.iter().copied().filter(|lead| i64::from(*lead) >= days_left).min()?;
            (days_left >= 0).then(|| Reminder {
                id: request.id,
                reference: request.reference.clone(),
                expires_on,
                days_left,
                lead,
            })
        })
        .collect();
    due.sort_by(|a, b| (a.days_left, &a.reference).cmp(&(b.days_left, &b.reference)));
    due
}
