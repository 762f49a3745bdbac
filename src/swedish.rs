//! Swedish conventions for what people read: alphabetical order (Å, Ä and
//! Ö after Z; case and accents second, with ICU's Swedish collation), and
//! dates and times in Swedish local time (Europe/Stockholm), whatever zone
//! the server runs in. Timestamps are stored in UTC.

use std::cmp::Ordering;

use chrono::{LocalResult, NaiveDate, NaiveDateTime, TimeZone};

use icu_collator::options::CollatorOptions;
use icu_collator::{Collator, CollatorBorrowed};
use icu_locale_core::locale;

/// Compares texts in Swedish order.
pub struct SwedishOrder {
    collator: Option<CollatorBorrowed<'static>>,
}

impl SwedishOrder {
    pub fn new() -> SwedishOrder {
        let collator = Collator::try_new(locale!("sv").into(), CollatorOptions::default())
            .map_err(|e| log::error!("Swedish collation unavailable ({e}); lists fall back to code-point order"))
            .ok();
        SwedishOrder { collator }
    }

    pub fn compare(&self, a: &str, b: &str) -> Ordering {
        match &self.collator {
            Some(collator) => collator.compare(a, b),
            None => a.cmp(b),
        }
    }

    /// Sorts items by a text of theirs.
    pub fn sort_by_key<T>(&self, items: &mut [T], key: impl Fn(&T) -> &str) {
        items.sort_by(|a, b| self.compare(key(a), key(b)));
    }
}

impl Default for SwedishOrder {
    fn default() -> Self {
        SwedishOrder::new()
    }
}

#[cfg(test)]
mod tests {
    use super::SwedishOrder;

    #[test]
    fn a_a_o_come_last_and_case_does_not_split_the_list() {
        let order = SwedishOrder::new();
        let mut names = vec!["Ödeshög", "ydre", "Åtvidaberg", "Boxholm", "Ärla", "kinda", "Vimmerby", "Zeta", "éclair"];
        order.sort_by_key(&mut names, |n| n);
        assert_eq!(names, ["Boxholm", "éclair", "kinda", "Vimmerby", "ydre", "Zeta", "Åtvidaberg", "Ärla", "Ödeshög"]);
    }
}

/// The time zone every date and time shown to a person is in.
pub const ZONE: chrono_tz::Tz = chrono_tz::Europe::Stockholm;

/// A stored UTC timestamp as Swedish local time.
pub fn local(t: &NaiveDateTime) -> NaiveDateTime {
    ZONE.from_utc_datetime(t).naive_local()
}

/// The Swedish calendar day a stored UTC timestamp falls on.
pub fn local_date(t: &NaiveDateTime) -> NaiveDate {
    local(t).date()
}

/// Today in Sweden: the day validity dates and "today" in reports are read against.
pub fn today() -> NaiveDate {
    local_date(&chrono::Utc::now().naive_utc())
}

/// `2026-12-07 14:05`: a stored UTC timestamp as a person in Sweden reads it
/// (the Swedish standard's date order, 24-hour clock).
pub fn local_minute(t: &NaiveDateTime) -> String {
    local(t).format("%Y-%m-%d %H:%M").to_string()
}

/// `local_minute` of RFC 3339 UTC text as the store returns it; text that is
/// not a timestamp is shown as it is.
pub fn local_minute_text(rfc3339: &str) -> String {
    parse_utc(rfc3339).map(|t| local_minute(&t)).unwrap_or_else(|| rfc3339.to_string())
}

/// The local calendar day of RFC 3339 UTC text (`YYYY-MM-DD`); text that is
/// not a timestamp gives its first ten characters.
pub fn local_date_text(rfc3339: &str) -> String {
    parse_utc(rfc3339)
        .map(|t| crate::db::date_text(&local_date(&t)))
        .unwrap_or_else(|| rfc3339.get(..10).unwrap_or(rfc3339).to_string())
}

/// The UTC instant a Swedish local calendar day starts at (for filters
/// written as local days). On a day when clocks go forward at midnight (not
/// the case in Sweden) the first valid local time is taken.
pub fn day_start_utc(day: NaiveDate) -> NaiveDateTime {
    let midnight = day.and_time(chrono::NaiveTime::MIN);
    match ZONE.from_local_datetime(&midnight) {
        LocalResult::Single(t) | LocalResult::Ambiguous(t, _) => t.naive_utc(),
        LocalResult::None => midnight - chrono::Duration::hours(1),
    }
}

fn parse_utc(text: &str) -> Option<NaiveDateTime> {
    chrono::DateTime::parse_from_rfc3339(text).ok().map(|t| t.naive_utc())
}

#[cfg(test)]
mod local_time_tests {
    use super::*;

    fn at(text: &str) -> NaiveDateTime {
        parse_utc(text).unwrap()
    }

    #[test]
    fn winter_and_summer_time() {
        assert_eq!(local_minute(&at("2026-12-07T10:05:00Z")), "2026-12-07 11:05");
        assert_eq!(local_minute(&at("2026-07-01T10:05:00Z")), "2026-07-01 12:05");
        // Late evening UTC is already the next day in Sweden.
        assert_eq!(local_date_text("2026-12-31T23:30:00.000000Z"), "2027-01-01");
        assert_eq!(local_minute_text("not a time"), "not a time");
    }

    #[test]
    fn a_local_day_starts_before_midnight_utc() {
        let day = NaiveDate::from_ymd_opt(2026, 12, 7).unwrap();
        assert_eq!(crate::db::rfc3339(&day_start_utc(day)), "2026-12-06T23:00:00.000000Z");
        let summer = NaiveDate::from_ymd_opt(2026, 7, 1).unwrap();
        assert_eq!(crate::db::rfc3339(&day_start_utc(summer)), "2026-06-30T22:00:00.000000Z");
    }
}
