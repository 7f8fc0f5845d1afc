//! When a schedule runs: a cron expression (seconds optional) read in an IANA time zone,
//! turned into instants. Pure: no clock, no store.
//!
//! Daylight-saving changes, as croner (OCPS) resolves them and this module pins in tests:
//! - A local time skipped in spring (02:30 on a night that jumps from 02:00 to 03:00): a
//!   schedule at a fixed time runs at the first instant after the gap (03:00) that day;
//!   an interval schedule (`*/15 * * * *`) skips the occurrences inside the gap.
//! - A local time that occurs twice in autumn: it runs once, at the first occurrence; an
//!   interval schedule does not run again during the repeated hour.

use std::str::FromStr;

use chrono::{DateTime, LocalResult, TimeZone, Utc};
use chrono_tz::Tz;
use croner::parser::{CronParser, Seconds};
use croner::Cron;
use openclaw_shared::EpochMillis;

/// Longest cron expression accepted, in bytes.
pub const MAX_CRON_BYTES: usize = 200;

/// A parsed cron expression and the time zone it is read in.
#[derive(Debug, Clone)]
pub struct Timetable {
    cron: Cron,
    tz: Tz,
}

/// Why an expression or a time zone was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TimetableError {
    /// The cron expression does not parse; the text says why.
    #[error("cron {0}")]
    Cron(String),
    /// The time zone is not an IANA name this build knows.
    #[error("tz {0}")]
    TimeZone(String),
}

impl TimetableError {
    /// The request field at fault: `cron` or `tz`.
    pub fn field(&self) -> &'static str {
        match self {
            TimetableError::Cron(_) => "cron",
            TimetableError::TimeZone(_) => "tz",
        }
    }

    /// What is wrong, worded to follow the field's name.
    pub fn problem(&self) -> &str {
        match self {
            TimetableError::Cron(problem) | TimetableError::TimeZone(problem) => problem,
        }
    }
}

impl Timetable {
    /// Parses `cron` (5 fields, or 6 with seconds first) in time zone `tz` (an IANA name).
    pub fn parse(cron: &str, tz: &str) -> Result<Timetable, TimetableError> {
        if cron.len() > MAX_CRON_BYTES {
            return Err(TimetableError::Cron(format!(
                "is longer than {MAX_CRON_BYTES} bytes"
            )));
        }
        let parsed = CronParser::builder()
            .seconds(Seconds::Optional)
            .build()
            .parse(cron)
            .map_err(|err| TimetableError::Cron(format!("does not parse: {err}")))?;
        let zone = Tz::from_str(tz.trim()).map_err(|_| {
            TimetableError::TimeZone(format!(
                "must be an IANA time zone name such as Europe/Berlin or UTC, got {tz:?}"
            ))
        })?;
        Ok(Timetable {
            cron: parsed,
            tz: zone,
        })
    }

    /// The time zone's IANA name.
    pub fn tz_name(&self) -> &'static str {
        self.tz.name()
    }

    /// The first run strictly after `after`; `None` if the expression never matches again.
    pub fn next_after(&self, after: EpochMillis) -> Option<EpochMillis> {
        // Cron works in whole seconds: search from the second `after` falls in (croner keeps
        // a fraction it is given, and runs would land at .430 s).
        let mut from = self.local(after - after % 1000)?;
        // A few tries: in a repeated autumn hour the search may answer the first
        // occurrence of a local time we are already past; search again from its second.
        for _ in 0..4 {
            let found = self.cron.find_next_occurrence(&from, false).ok()?;
            let at = u64::try_from(found.timestamp_millis()).ok()?;
            if at > after {
                return Some(at);
            }
            from = match self.tz.from_local_datetime(&found.naive_local()) {
                LocalResult::Ambiguous(_, later) => later,
                _ => self.local(after.saturating_add(1000))?,
            };
        }
        None
    }

    /// Up to `count` runs after `after`, in order.
    pub fn next_runs(&self, after: EpochMillis, count: usize) -> Vec<EpochMillis> {
        let mut runs = Vec::with_capacity(count);
        let mut last = after;
        while runs.len() < count {
            let Some(next) = self.next_after(last) else {
                break;
            };
            runs.push(next);
            last = next;
        }
        runs
    }

    /// `at` in this time zone, RFC 3339 with its offset.
    pub fn local_time(&self, at: EpochMillis) -> String {
        self.local(at)
            .map(|local| local.to_rfc3339_opts(chrono::SecondsFormat::Secs, true))
            .unwrap_or_default()
    }

    fn local(&self, at: EpochMillis) -> Option<DateTime<Tz>> {
        let utc = DateTime::<Utc>::from_timestamp_millis(i64::try_from(at).ok()?)?;
        Some(utc.with_timezone(&self.tz))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Epoch ms of a UTC wall-clock time.
    fn utc(y: i32, mo: u32, d: u32, h: u32, mi: u32, s: u32) -> EpochMillis {
        let at = Utc.with_ymd_and_hms(y, mo, d, h, mi, s).unwrap();
        u64::try_from(at.timestamp_millis()).unwrap()
    }

    fn local_runs(table: &Timetable, after: EpochMillis, count: usize) -> Vec<String> {
        table
            .next_runs(after, count)
            .into_iter()
            .map(|at| table.local_time(at))
            .collect()
    }

    #[test]
    fn five_fields_run_on_the_minute_and_six_take_seconds_first() {
        let minutely = Timetable::parse("*/15 * * * *", "UTC").unwrap();
        let secondly = Timetable::parse("*/20 * * * * *", "UTC").unwrap();
        let start = utc(2026, 1, 5, 10, 7, 3);

        assert_eq!(
            local_runs(&minutely, start, 2),
            ["2026-01-05T10:15:00Z", "2026-01-05T10:30:00Z"]
        );
        assert_eq!(
            local_runs(&secondly, start, 3),
            [
                "2026-01-05T10:07:20Z",
                "2026-01-05T10:07:40Z",
                "2026-01-05T10:08:00Z"
            ]
        );
    }

    #[test]
    fn runs_fall_on_whole_seconds_whatever_the_fraction_of_the_start() {
        let secondly = Timetable::parse("* * * * * *", "UTC").unwrap();

        let runs = secondly.next_runs(1_000_430, 2);

        assert_eq!(runs, [1_001_000, 1_002_000]);
    }

    #[test]
    fn times_are_read_in_the_schedules_time_zone() {
        let table = Timetable::parse("0 9 * * MON-FRI", "America/New_York").unwrap();

        // Friday 2026-01-09 15:00 UTC is 10:00 in New York: next is Monday 09:00.
        let runs = local_runs(&table, utc(2026, 1, 9, 15, 0, 0), 2);

        assert_eq!(
            runs,
            ["2026-01-12T09:00:00-05:00", "2026-01-13T09:00:00-05:00"]
        );
        assert_eq!(table.tz_name(), "America/New_York");
    }

    #[test]
    fn a_time_skipped_in_spring_runs_right_after_the_gap_once() {
        // Europe/Berlin jumps from 02:00 to 03:00 on 2026-03-29.
        let daily = Timetable::parse("30 2 * * *", "Europe/Berlin").unwrap();

        let runs = local_runs(&daily, utc(2026, 3, 27, 12, 0, 0), 3);

        assert_eq!(
            runs,
            [
                "2026-03-28T02:30:00+01:00",
                "2026-03-29T03:00:00+02:00",
                "2026-03-30T02:30:00+02:00"
            ]
        );
    }

    #[test]
    fn a_time_repeated_in_autumn_runs_once() {
        // Europe/Berlin goes back from 03:00 to 02:00 on 2026-10-25: 02:30 happens twice.
        let daily = Timetable::parse("30 2 * * *", "Europe/Berlin").unwrap();
        let hourly = Timetable::parse("0 * * * *", "Europe/Berlin").unwrap();
        let before = utc(2026, 10, 24, 12, 0, 0);

        let runs = local_runs(&daily, before, 3);
        // From inside the repeated hour (02:10 CET, the second 02:10): 02:30 CEST has passed.
        let inside_second_pass = utc(2026, 10, 25, 1, 10, 0);
        // 01:30 CEST: the hourly schedule runs at 02:00 CEST, not again at 02:00 CET.
        let hours = local_runs(&hourly, utc(2026, 10, 24, 23, 30, 0), 3);

        assert_eq!(
            runs,
            [
                "2026-10-25T02:30:00+02:00",
                "2026-10-26T02:30:00+01:00",
                "2026-10-27T02:30:00+01:00"
            ]
        );
        assert_eq!(
            local_runs(&daily, inside_second_pass, 1),
            ["2026-10-26T02:30:00+01:00"]
        );
        assert_eq!(
            hours,
            [
                "2026-10-25T02:00:00+02:00",
                "2026-10-25T03:00:00+01:00",
                "2026-10-25T04:00:00+01:00"
            ]
        );
    }

    #[test]
    fn bad_expressions_and_zones_are_refused_by_field() {
        let bad_cron = Timetable::parse("every day", "UTC").unwrap_err();
        let bad_tz = Timetable::parse("* * * * *", "Mars/Olympus").unwrap_err();
        let long = Timetable::parse(&"1,".repeat(200), "UTC").unwrap_err();

        assert_eq!(bad_cron.field(), "cron");
        assert_eq!(bad_tz.field(), "tz");
        assert!(long.problem().contains("longer than"), "{long}");
    }

    #[test]
    fn an_expression_that_never_matches_has_no_next_run() {
        let never = Timetable::parse("0 0 30 2 *", "UTC").unwrap();

        assert_eq!(never.next_after(utc(2026, 1, 1, 0, 0, 0)), None);
    }
}
