//! `[[schedule]] cron`, read as crontab(5) reads it: five fields, or six with seconds
//! first; day of week 0 or 7 = Sunday, 1 = Monday; names (`MON-FRI`, `JAN`) and the
//! `@hourly`, `@daily`, `@weekly`, `@monthly`, `@yearly` nicknames. `croner` has
//! these semantics; its parser is only told to refuse a seventh (year) field, which
//! crontab does not have.

use std::fmt;

use chrono::{DateTime, Utc};
use croner::parser::{CronParser, Seconds, Year};

/// A parsed schedule and the text it was written as.
#[derive(Debug, Clone)]
pub struct CronSchedule {
    text: String,
    parsed: croner::Cron,
}

const EXPECTED: &str = "expected crontab(5): min hour day-of-month month day-of-week, \
                        optionally with seconds first, or @hourly/@daily/@weekly/@monthly \
                        (e.g. \"*/10 * * * *\")";

impl CronSchedule {
    pub fn parse(raw: &str) -> Result<Self, String> {
        let text = raw.split_whitespace().collect::<Vec<_>>().join(" ");
        let fields = text.split(' ').count();
        if !text.starts_with('@') && !(5..=6).contains(&fields) {
            return Err(format!("{text:?} has {fields} field(s); {EXPECTED}"));
        }
        let parser = CronParser::builder()
            .seconds(Seconds::Optional)
            .year(Year::Disallowed)
            .build();
        let parsed = parser
            .parse(&text)
            .map_err(|e| format!("{text:?} is not a valid cron expression ({e}); {EXPECTED}"))?;
        let schedule = CronSchedule { text, parsed };
        if schedule.next_after(&Utc::now()).is_none() {
            return Err(format!("{:?} has no future run", schedule.text));
        }
        Ok(schedule)
    }

    /// The first run strictly after `time`.
    pub fn next_after(&self, time: &DateTime<Utc>) -> Option<DateTime<Utc>> {
        self.parsed.find_next_occurrence(time, false).ok()
    }

    /// The next `count` runs after `time`.
    pub fn runs_after(&self, time: DateTime<Utc>, count: usize) -> Vec<DateTime<Utc>> {
        self.parsed.iter_after(time).take(count).collect()
    }

    /// The times this schedule runs, as a set: equal for `0 */10 * * * *` and `*/10 * * * *`.
    pub(super) fn same_times(&self, other: &CronSchedule) -> bool {
        self.parsed.pattern == other.parsed.pattern
    }
}

impl PartialEq for CronSchedule {
    fn eq(&self, other: &Self) -> bool {
        self.text == other.text
    }
}

impl fmt::Display for CronSchedule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    /// Friday 2026-12-04 12:00:00 UTC.
    fn friday_noon() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 12, 4, 12, 0, 0).unwrap()
    }

    fn next_runs(expression: &str, count: usize) -> Vec<String> {
        CronSchedule::parse(expression)
            .unwrap_or_else(|e| panic!("{expression}: {e}"))
            .runs_after(friday_noon(), count)
            .iter()
            .map(|t| t.format("%a %Y-%m-%d %H:%M:%S").to_string())
            .collect()
    }

    #[test]
    fn five_fields_are_minutes_first() {
        assert_eq!(
            next_runs("*/10 * * * *", 3),
            [
                "Fri 2026-12-04 12:10:00",
                "Fri 2026-12-04 12:20:00",
                "Fri 2026-12-04 12:30:00"
            ]
        );
    }

    #[test]
    fn six_fields_are_seconds_first() {
        assert_eq!(
            next_runs("30 0 9 * * *", 2),
            ["Sat 2026-12-05 09:00:30", "Sun 2026-12-06 09:00:30"]
        );
    }

    #[test]
    fn weekdays_one_to_five_are_monday_to_friday() {
        // The `cron` crate numbered Sunday 1, so this ran Sunday to Thursday.
        assert_eq!(
            next_runs("0 0 9 * * 1-5", 5),
            [
                "Mon 2026-12-07 09:00:00",
                "Tue 2026-12-08 09:00:00",
                "Wed 2026-12-09 09:00:00",
                "Thu 2026-12-10 09:00:00",
                "Fri 2026-12-11 09:00:00"
            ]
        );
        assert_eq!(next_runs("0 9 * * MON-FRI", 5), next_runs("0 9 * * 1-5", 5));
    }

    #[test]
    fn sunday_is_zero_or_seven() {
        let sunday = ["Sun 2026-12-06 09:00:00", "Sun 2026-12-13 09:00:00"];
        assert_eq!(next_runs("0 9 * * 0", 2), sunday);
        assert_eq!(next_runs("0 9 * * 7", 2), sunday);
        assert_eq!(next_runs("0 9 * * SUN", 2), sunday);
    }

    #[test]
    fn nicknames() {
        assert_eq!(
            next_runs("@hourly", 2),
            ["Fri 2026-12-04 13:00:00", "Fri 2026-12-04 14:00:00"]
        );
        assert_eq!(
            next_runs("@daily", 2),
            ["Sat 2026-12-05 00:00:00", "Sun 2026-12-06 00:00:00"]
        );
        assert_eq!(next_runs("@weekly", 1), ["Sun 2026-12-06 00:00:00"]);
        assert_eq!(next_runs("@monthly", 1), ["Fri 2027-01-01 00:00:00"]);
    }

    #[test]
    fn either_day_field_matches_when_both_are_given() {
        // crontab(5): "0 9 1 * MON" runs on the 1st and on every Monday.
        assert_eq!(
            next_runs("0 9 1 * MON", 3),
            [
                "Mon 2026-12-07 09:00:00",
                "Mon 2026-12-14 09:00:00",
                "Mon 2026-12-21 09:00:00"
            ]
        );
    }

    #[test]
    fn refused_with_the_grammar_named() {
        for bad in [
            "* * * *",
            "0 0 0 * * * 2030",
            "61 * * * *",
            "* * * * 8",
            "@fortnightly",
            "",
        ] {
            let error = CronSchedule::parse(bad).unwrap_err();
            assert!(error.contains("crontab(5)"), "{bad:?}: {error}");
        }
        assert_eq!(
            CronSchedule::parse("0 0 30 2 *").unwrap_err(),
            "\"0 0 30 2 *\" has no future run"
        );
    }

    #[test]
    fn the_same_times_however_written() {
        let a = CronSchedule::parse("0 */10 * * * *").unwrap();
        let b = CronSchedule::parse("*/10  * * * *").unwrap();
        assert!(a.same_times(&b));
        assert_eq!(b.to_string(), "*/10 * * * *");
    }
}
