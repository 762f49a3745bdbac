//! What a lookup answers with: the field a query matched, how, and the
//! status an organisation's decision gives.

use super::*;

/// Which field of a service a query matched.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Field {
    Name,
    Alias,
    Domain,
    Vendor,
}

impl Field {
    pub(super) fn code(self) -> u64 {
        self as u64
    }
    pub(super) fn from_code(code: u64) -> Field {
        match code {
            0 => Field::Name,
            1 => Field::Alias,
            2 => Field::Domain,
            _ => Field::Vendor,
        }
    }
}

/// How a query matched: exact, prefix (or a later word of the name), or within a few edits.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum MatchKind {
    Exact,
    Prefix,
    Fuzzy,
}

/// What the lookup answers, per organisation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    Allowed,
    AllowedWithConditions,
    NotAllowed,
    Expired,
    /// A newer submitted revision awaits this organisation's decision: its
    /// name, aliases and domains inherit nothing from an earlier decision.
    UnderReview,
    NotAssessed,
}

impl Status {
    /// Best first, for ranking.
    pub fn rank(self) -> u8 {
        match self {
            Status::Allowed => 0,
            Status::AllowedWithConditions => 1,
            Status::Expired => 2,
            Status::UnderReview => 3,
            Status::NotAssessed => 4,
            Status::NotAllowed => 5,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Status::Allowed => "allowed",
            Status::AllowedWithConditions => "allowed_with_conditions",
            Status::NotAllowed => "not_allowed",
            Status::Expired => "expired",
            Status::UnderReview => "under_review",
            Status::NotAssessed => "not_assessed",
        }
    }
}

/// An organisation's current decision on a service (unpacked from the
/// segment's compact form).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DecisionEntry {
    pub org: u16,
    pub kind: DecisionKind,
    pub revoked: bool,
    pub deciding_org: u16,
    pub via_delegation: bool,
    pub needs_re_review: bool,
    /// The decision is on an earlier revision than this entry's: the entry
    /// is under review in this organisation.
    pub superseded: bool,
    pub decided_on: NaiveDate,
    pub valid_until: Option<NaiveDate>,
    /// Index into the snapshot's interned condition lists.
    pub conditions: u32,
}

impl DecisionEntry {
    pub fn status(&self, today: NaiveDate) -> Status {
        if self.superseded { Status::UnderReview } else { self.decided_status(today) }
    }

    /// The status of the revision this organisation decided on.
    pub fn decided_status(&self, today: NaiveDate) -> Status {
        if self.revoked {
            return Status::NotAllowed;
        }
        match self.kind {
            DecisionKind::Rejected => Status::NotAllowed,
            _ if self.valid_until.is_some_and(|until| until < today) => Status::Expired,
            DecisionKind::Approved => Status::Allowed,
            DecisionKind::ApprovedWithConditions => Status::AllowedWithConditions,
        }
    }
}
