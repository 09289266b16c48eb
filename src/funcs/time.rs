//! Sprig's date and time functions: `now`, `date`, `dateInZone`, `htmlDate`,
//! `htmlDateInZone`, `toDate`, `mustToDate`, `unixEpoch`, `dateModify`, `mustDateModify`,
//! `duration`, `durationRound` and `ago`, with Go's reference-time layouts
//! (`"2006-01-02 15:04:05"`) and Go's duration syntax (`"1h30m"`).
//!
//! # Time values
//!
//! The value model has no time type, so a time is a **string in Go's `time.Time.String()`
//! form**: `2006-01-02 15:04:05.999999999 -0700 MST` (fraction trimmed, zone abbreviation
//! last). That is exactly what Helm prints for `{{ now }}` or `{{ toDate … }}` (less Go's
//! ` m=+0.0123` monotonic-clock suffix, which is accepted on input and never produced), so
//! printing a time matches Helm, and every function here that takes a `time.Time` in Sprig
//! accepts such a string (see `GoTime::from_value`). Other strings are not times, as in
//! Helm: `date "2006" "2020-01-01"` formats the current time. `toJson` and `toToml` write such
//! strings the way Go writes a `time.Time` (RFC 3339 with nanoseconds).
//!
//! "Local" is the system time zone (the `TZ` variable or `/etc/localtime`, as in Go).
//!
//! Integers: Go templates distinguish `int` (a literal) from `int64` (`--set`); Sprig's
//! `duration` and `durationRound` ignore plain `int`s (Helm prints `0s` for `duration 95`).
//! pack's single integer type is taken as `int64` there, so `duration 95` is `1m35s`.
//! Values-file numbers are floats in Helm and pack alike, and give `0s` / the current time.

use super::args::{
    arity, expect_str_literal as str_arg, go_literal_type_name as go_type, piped_first as first,
    piped_last as last,
};
use super::{Func, FuncError, FuncResult};
use crate::value::Value;
use jiff::Timestamp;
use jiff::tz::TimeZone;

/// The functions of this module.
///
/// `dateInZone FMT TIME ZONE` takes its subject (the time) in the middle; like Go pipelines, a
/// filter pipe fills its last argument.
pub const FUNCS: &[Func] = &[
    last("now", now),
    last("date", date),
    last("dateInZone", date_in_zone),
    last("date_in_zone", date_in_zone),
    last("htmlDate", html_date),
    first("htmlDateInZone", html_date_in_zone),
    last("toDate", to_date),
    last("mustToDate", must_to_date),
    last("unixEpoch", unix_epoch),
    last("dateModify", date_modify),
    last("date_modify", date_modify),
    last("mustDateModify", must_date_modify),
    last("must_date_modify", must_date_modify),
    last("duration", duration),
    last("durationRound", duration_round),
    last("ago", ago),
];

// ---------------------------------------------------------------------------------------------
// Argument helpers (private to this file).

fn time_arg(v: &Value) -> Result<GoTime, FuncError> {
    GoTime::from_value(v).ok_or_else(|| {
        FuncError::new(format!(
            "wrong type for value; expected time.Time; got {}",
            go_type(v)
        ))
    })
}

// ---------------------------------------------------------------------------------------------
// Time values.

/// Where a time's wall clock is read: Go's `*time.Location` as far as it survives the trip
/// through a string.
#[derive(Clone, Debug, PartialEq)]
pub(super) enum Loc {
    /// `time.UTC`.
    Utc,
    /// `time.Local`, the system zone.
    Local,
    /// A named IANA zone (`dateInZone`'s).
    Zone(TimeZone),
    /// A fixed offset (seconds east of UTC) under a name; an empty name prints as `+hhmm`.
    Fixed(String, i32),
}

/// A Go `time.Time`: an instant and the location its wall clock is read in.
#[derive(Clone, Debug, PartialEq)]
pub(super) struct GoTime {
    /// Seconds since the Unix epoch.
    pub(super) secs: i64,
    /// Nanoseconds within the second, `0..1e9`.
    pub(super) nanos: u32,
    /// The location.
    pub(super) loc: Loc,
}

/// The wall clock of a time in its location.
struct Civil {
    year: i64,
    month: u32,
    day: u32,
    yday: u32,
    /// 0 = Sunday.
    weekday: u32,
    hour: u32,
    min: u32,
    sec: u32,
    nanos: u32,
    /// Seconds east of UTC.
    offset: i32,
    /// Zone abbreviation ("" when unknown).
    name: String,
}

const SECS_PER_DAY: i64 = 86_400;

/// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's algorithm).
fn days_from_civil(y: i64, m: u32, d: u32) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let m = i64::from(m);
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + i64::from(d) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// The date of a day number (inverse of [`days_from_civil`]).
fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (if m <= 2 { y + 1 } else { y }, m, d)
}

fn is_leap(y: i64) -> bool {
    y % 4 == 0 && (y % 100 != 0 || y % 400 == 0)
}

fn days_in(month: u32, year: i64) -> u32 {
    match month {
        2 if is_leap(year) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// The system's zone, as Go's `time.Local`.
fn local_zone() -> TimeZone {
    TimeZone::try_system().unwrap_or(TimeZone::UTC)
}

/// Offset and abbreviation of a zone at an instant (clamped to jiff's range).
fn zone_info(tz: &TimeZone, secs: i64) -> (i32, String) {
    let ts =
        Timestamp::from_second(secs.clamp(Timestamp::MIN.as_second(), Timestamp::MAX.as_second()))
            .unwrap_or(Timestamp::UNIX_EPOCH);
    let info = tz.to_offset_info(ts);
    (info.offset().seconds(), info.abbreviation().to_owned())
}

impl GoTime {
    /// The current time in the local zone.
    pub(super) fn now() -> GoTime {
        let now = Timestamp::now();
        GoTime {
            secs: now.as_second(),
            nanos: now.subsec_nanosecond().unsigned_abs(),
            loc: Loc::Local,
        }
    }

    /// `time.Unix(secs, 0)`, in the local zone.
    fn unix(secs: i64) -> GoTime {
        GoTime {
            secs,
            nanos: 0,
            loc: Loc::Local,
        }
    }

    /// Go's zero `time.Time`: `0001-01-01 00:00:00 +0000 UTC`.
    fn zero() -> GoTime {
        GoTime {
            secs: days_from_civil(1, 1, 1) * SECS_PER_DAY,
            nanos: 0,
            loc: Loc::Utc,
        }
    }

    /// The same instant read in another location.
    fn in_loc(&self, loc: Loc) -> GoTime {
        GoTime {
            loc,
            ..self.clone()
        }
    }

    /// Offset and abbreviation in effect at this instant.
    fn zone(&self) -> (i32, String) {
        match &self.loc {
            Loc::Utc => (0, "UTC".to_owned()),
            Loc::Local => zone_info(&local_zone(), self.secs),
            Loc::Zone(tz) => zone_info(tz, self.secs),
            Loc::Fixed(name, off) => (*off, name.clone()),
        }
    }

    fn civil(&self) -> Civil {
        let (offset, name) = self.zone();
        let local = self.secs + i64::from(offset);
        let days = local.div_euclid(SECS_PER_DAY);
        let sod = local.rem_euclid(SECS_PER_DAY) as u32;
        let (year, month, day) = civil_from_days(days);
        let yday = (days - days_from_civil(year, 1, 1) + 1) as u32;
        Civil {
            year,
            month,
            day,
            yday,
            weekday: (days + 4).rem_euclid(7) as u32,
            hour: sod / 3600,
            min: sod / 60 % 60,
            sec: sod % 60,
            nanos: self.nanos,
            offset,
            name,
        }
    }

    /// Go's `Time.Format`.
    pub(super) fn format(&self, layout: &str) -> String {
        format_layout(&self.civil(), layout)
    }

    /// Go's `Time.String()`, without a monotonic clock reading.
    pub(super) fn go_string(&self) -> String {
        self.format("2006-01-02 15:04:05.999999999 -0700 MST")
    }

    /// Go's RFC 3339 with nanoseconds, as `encoding/json` and TOML write a time.
    pub(super) fn rfc3339_nano(&self) -> String {
        self.format("2006-01-02T15:04:05.999999999Z07:00")
    }

    /// The value a template sees: the [`GoTime::go_string`] form.
    pub(super) fn to_value(&self) -> Value {
        Value::String(self.go_string())
    }

    /// Reads a time value: a string in Go's `Time.String()` form
    /// (`2006-01-02 15:04:05.999999999 -0700 MST`, optionally followed by ` m=±s.ns`).
    pub(super) fn from_value(v: &Value) -> Option<GoTime> {
        match v {
            Value::String(s) => GoTime::parse_go_string(s),
            _ => None,
        }
    }

    fn parse_go_string(s: &str) -> Option<GoTime> {
        let s = match s.find(" m=") {
            Some(i) => &s[..i],
            None => s,
        };
        let b = s.as_bytes();
        // Year: optional '-', at least 4 digits.
        let mut i = usize::from(b.first() == Some(&b'-'));
        let ystart = i;
        while i < b.len() && b[i].is_ascii_digit() {
            i += 1;
        }
        if i - ystart < 4 {
            return None;
        }
        let year: i64 = s[..i].parse().ok()?;
        let rest = &s[i..];
        let rb = rest.as_bytes();
        // "-MM-DD HH:MM:SS"
        if rb.len() < 15
            || rb[0] != b'-'
            || rb[3] != b'-'
            || rb[6] != b' '
            || rb[9] != b':'
            || rb[12] != b':'
        {
            return None;
        }
        let num = |a: usize| -> Option<u32> {
            let t = rest.get(a..a + 2)?;
            if t.bytes().all(|c| c.is_ascii_digit()) {
                t.parse().ok()
            } else {
                None
            }
        };
        let (month, day, hour, min, sec) = (num(1)?, num(4)?, num(7)?, num(10)?, num(13)?);
        if !(1..=12).contains(&month)
            || day < 1
            || day > days_in(month, year)
            || hour > 23
            || min > 59
            || sec > 59
        {
            return None;
        }
        let mut rest = &rest[15..];
        let mut nanos = 0u32;
        if let Some(frac) = rest.strip_prefix('.') {
            let n = frac.bytes().take_while(u8::is_ascii_digit).count();
            if n == 0 || n > 9 {
                return None;
            }
            nanos = frac[..n].parse::<u32>().ok()? * 10u32.pow(9 - n as u32);
            rest = &frac[n..];
        }
        let rest = rest.strip_prefix(' ')?;
        let (off, name) = rest.split_once(' ')?;
        let ob = off.as_bytes();
        if ob.len() != 5 || !(ob[0] == b'+' || ob[0] == b'-') {
            return None;
        }
        if !ob[1..].iter().all(u8::is_ascii_digit) || name.is_empty() || name.contains(' ') {
            return None;
        }
        let oh: i32 = off[1..3].parse().ok()?;
        let om: i32 = off[3..5].parse().ok()?;
        let mut offset = oh * 3600 + om * 60;
        if ob[0] == b'-' {
            offset = -offset;
        }
        let secs = days_from_civil(year, month, day) * SECS_PER_DAY
            + i64::from(hour * 3600 + min * 60 + sec)
            - i64::from(offset);
        let loc = if name == "UTC" && offset == 0 {
            Loc::Utc
        } else if zone_info(&local_zone(), secs) == (offset, name.to_owned()) {
            Loc::Local
        } else if name == off {
            Loc::Fixed(String::new(), offset)
        } else {
            Loc::Fixed(name.to_owned(), offset)
        };
        Some(GoTime { secs, nanos, loc })
    }

    /// `t.Add(d)` for a duration in nanoseconds.
    fn add(&self, d: i64) -> GoTime {
        let total = i128::from(self.secs) * 1_000_000_000 + i128::from(self.nanos) + i128::from(d);
        GoTime {
            secs: total.div_euclid(1_000_000_000) as i64,
            nanos: total.rem_euclid(1_000_000_000) as u32,
            loc: self.loc.clone(),
        }
    }

    /// `time.Since(t)` in nanoseconds, saturating.
    fn since(&self) -> i64 {
        let now = GoTime::now();
        let d = (i128::from(now.secs) - i128::from(self.secs)) * 1_000_000_000
            + i128::from(now.nanos)
            - i128::from(self.nanos);
        d.clamp(i128::from(i64::MIN), i128::from(i64::MAX)) as i64
    }
}

/// Go's `time.LoadLocation`, falling back to UTC as Sprig does on failure.
fn load_location(zone: &str) -> Loc {
    match zone {
        "" | "UTC" => Loc::Utc,
        "Local" => Loc::Local,
        // Go's zone names are file names, so case matters (jiff's lookup ignores case).
        name => match jiff::tz::db().get(name) {
            Ok(tz) if tz.iana_name() == Some(name) => Loc::Zone(tz),
            _ => Loc::Utc,
        },
    }
}

// ---------------------------------------------------------------------------------------------
// Go layouts.

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Std {
    LongMonth,
    Month,
    NumMonth,
    ZeroMonth,
    LongWeekDay,
    WeekDay,
    Day,
    UnderDay,
    ZeroDay,
    UnderYearDay,
    ZeroYearDay,
    Hour,
    Hour12,
    ZeroHour12,
    Minute,
    ZeroMinute,
    Second,
    ZeroSecond,
    LongYear,
    Year,
    PM,
    Pm,
    TZ,
    Iso8601TZ,
    Iso8601SecondsTZ,
    Iso8601ShortTZ,
    Iso8601ColonTZ,
    Iso8601ColonSecondsTZ,
    NumTZ,
    NumSecondsTz,
    NumShortTZ,
    NumColonTZ,
    NumColonSecondsTZ,
    /// Fractional second with this many digits, trailing zeros kept, and the separator.
    Frac0(usize, u8),
    /// Fractional second with up to this many digits, trailing zeros dropped.
    Frac9(usize, u8),
}

fn starts_with_lower(s: &[u8]) -> bool {
    s.first().is_some_and(u8::is_ascii_lowercase)
}

/// Go's `nextStdChunk`: the text before the first layout element, the element, the rest.
fn next_std_chunk(layout: &str) -> (&str, Option<Std>, &str) {
    let l = layout.as_bytes();
    let has = |i: usize, s: &str| l.len() >= i + s.len() && &l[i..i + s.len()] == s.as_bytes();
    for i in 0..l.len() {
        let found = match l[i] {
            b'J' if has(i, "Jan") => {
                if has(i, "January") {
                    Some((Std::LongMonth, 7))
                } else if !starts_with_lower(&l[i + 3..]) {
                    Some((Std::Month, 3))
                } else {
                    None
                }
            }
            b'M' if has(i, "Mon") => {
                if has(i, "Monday") {
                    Some((Std::LongWeekDay, 6))
                } else if !starts_with_lower(&l[i + 3..]) {
                    Some((Std::WeekDay, 3))
                } else {
                    None
                }
            }
            b'M' if has(i, "MST") => Some((Std::TZ, 3)),
            b'0' if l.len() >= i + 2 && (b'1'..=b'6').contains(&l[i + 1]) => {
                let std = [
                    Std::ZeroMonth,
                    Std::ZeroDay,
                    Std::ZeroHour12,
                    Std::ZeroMinute,
                    Std::ZeroSecond,
                    Std::Year,
                ][usize::from(l[i + 1] - b'1')];
                Some((std, 2))
            }
            b'0' if has(i, "002") => Some((Std::ZeroYearDay, 3)),
            b'1' => {
                if has(i, "15") {
                    Some((Std::Hour, 2))
                } else {
                    Some((Std::NumMonth, 1))
                }
            }
            b'2' => {
                if has(i, "2006") {
                    Some((Std::LongYear, 4))
                } else {
                    Some((Std::Day, 1))
                }
            }
            b'_' if has(i, "_2") => {
                if has(i + 1, "2006") {
                    // `_2006` is a literal `_` and a long year.
                    return (&layout[..=i], Some(Std::LongYear), &layout[i + 5..]);
                }
                Some((Std::UnderDay, 2))
            }
            b'_' if has(i, "__2") => Some((Std::UnderYearDay, 3)),
            b'3' => Some((Std::Hour12, 1)),
            b'4' => Some((Std::Minute, 1)),
            b'5' => Some((Std::Second, 1)),
            b'P' if has(i, "PM") => Some((Std::PM, 2)),
            b'p' if has(i, "pm") => Some((Std::Pm, 2)),
            b'-' => {
                if has(i, "-070000") {
                    Some((Std::NumSecondsTz, 7))
                } else if has(i, "-07:00:00") {
                    Some((Std::NumColonSecondsTZ, 9))
                } else if has(i, "-0700") {
                    Some((Std::NumTZ, 5))
                } else if has(i, "-07:00") {
                    Some((Std::NumColonTZ, 6))
                } else if has(i, "-07") {
                    Some((Std::NumShortTZ, 3))
                } else {
                    None
                }
            }
            b'Z' => {
                if has(i, "Z070000") {
                    Some((Std::Iso8601SecondsTZ, 7))
                } else if has(i, "Z07:00:00") {
                    Some((Std::Iso8601ColonSecondsTZ, 9))
                } else if has(i, "Z0700") {
                    Some((Std::Iso8601TZ, 5))
                } else if has(i, "Z07:00") {
                    Some((Std::Iso8601ColonTZ, 6))
                } else if has(i, "Z07") {
                    Some((Std::Iso8601ShortTZ, 3))
                } else {
                    None
                }
            }
            c @ (b'.' | b',') if i + 1 < l.len() && (l[i + 1] == b'0' || l[i + 1] == b'9') => {
                let ch = l[i + 1];
                let mut j = i + 1;
                while j < l.len() && l[j] == ch {
                    j += 1;
                }
                if j < l.len() && l[j].is_ascii_digit() {
                    None
                } else {
                    let n = j - (i + 1);
                    let std = if ch == b'0' {
                        Std::Frac0(n, c)
                    } else {
                        Std::Frac9(n, c)
                    };
                    Some((std, j - i))
                }
            }
            _ => None,
        };
        if let Some((std, len)) = found {
            return (&layout[..i], Some(std), &layout[i + len..]);
        }
    }
    (layout, None, "")
}

const LONG_DAYS: [&str; 7] = [
    "Sunday",
    "Monday",
    "Tuesday",
    "Wednesday",
    "Thursday",
    "Friday",
    "Saturday",
];
const LONG_MONTHS: [&str; 12] = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
];

/// Go's `appendInt`: decimal, zero-padded to `width` digits (sign not counted).
fn pad(out: &mut String, x: i64, width: usize) {
    if x < 0 {
        out.push('-');
    }
    let digits = x.unsigned_abs().to_string();
    for _ in digits.len()..width {
        out.push('0');
    }
    out.push_str(&digits);
}

/// Go's `appendNano`.
fn push_nanos(out: &mut String, nanos: u32, n: usize, sep: u8, trim: bool) {
    if trim && (n == 0 || nanos == 0) {
        return;
    }
    let mut frac = format!("{nanos:09}");
    frac.truncate(n.min(9));
    let mut s = String::new();
    s.push(char::from(sep));
    s.push_str(&frac);
    if trim {
        while s.ends_with('0') {
            s.pop();
        }
        if s.len() == 1 {
            return;
        }
    }
    out.push_str(&s);
}

fn format_layout(c: &Civil, layout: &str) -> String {
    let mut out = String::new();
    let mut layout = layout;
    loop {
        let (prefix, std, suffix) = next_std_chunk(layout);
        out.push_str(prefix);
        let Some(std) = std else { break };
        layout = suffix;
        match std {
            Std::Year => pad(&mut out, c.year.abs() % 100, 2),
            Std::LongYear => pad(&mut out, c.year, 4),
            Std::Month => out.push_str(&LONG_MONTHS[c.month as usize - 1][..3]),
            Std::LongMonth => out.push_str(LONG_MONTHS[c.month as usize - 1]),
            Std::NumMonth => pad(&mut out, c.month.into(), 0),
            Std::ZeroMonth => pad(&mut out, c.month.into(), 2),
            Std::WeekDay => out.push_str(&LONG_DAYS[c.weekday as usize][..3]),
            Std::LongWeekDay => out.push_str(LONG_DAYS[c.weekday as usize]),
            Std::Day => pad(&mut out, c.day.into(), 0),
            Std::UnderDay => {
                if c.day < 10 {
                    out.push(' ');
                }
                pad(&mut out, c.day.into(), 0);
            }
            Std::ZeroDay => pad(&mut out, c.day.into(), 2),
            Std::UnderYearDay => {
                if c.yday < 100 {
                    out.push(' ');
                    if c.yday < 10 {
                        out.push(' ');
                    }
                }
                pad(&mut out, c.yday.into(), 0);
            }
            Std::ZeroYearDay => pad(&mut out, c.yday.into(), 3),
            Std::Hour => pad(&mut out, c.hour.into(), 2),
            Std::Hour12 | Std::ZeroHour12 => {
                let hr = match c.hour % 12 {
                    0 => 12,
                    h => h,
                };
                pad(&mut out, hr.into(), if std == Std::Hour12 { 0 } else { 2 });
            }
            Std::Minute => pad(&mut out, c.min.into(), 0),
            Std::ZeroMinute => pad(&mut out, c.min.into(), 2),
            Std::Second => pad(&mut out, c.sec.into(), 0),
            Std::ZeroSecond => pad(&mut out, c.sec.into(), 2),
            Std::PM => out.push_str(if c.hour >= 12 { "PM" } else { "AM" }),
            Std::Pm => out.push_str(if c.hour >= 12 { "pm" } else { "am" }),
            Std::TZ => {
                if c.name.is_empty() {
                    let zone = c.offset / 60;
                    out.push(if zone < 0 { '-' } else { '+' });
                    pad(&mut out, i64::from(zone.abs() / 60), 2);
                    pad(&mut out, i64::from(zone.abs() % 60), 2);
                } else {
                    out.push_str(&c.name);
                }
            }
            Std::Frac0(n, sep) => push_nanos(&mut out, c.nanos, n, sep, false),
            Std::Frac9(n, sep) => push_nanos(&mut out, c.nanos, n, sep, true),
            zone_std => {
                let iso = matches!(
                    zone_std,
                    Std::Iso8601TZ
                        | Std::Iso8601ColonTZ
                        | Std::Iso8601SecondsTZ
                        | Std::Iso8601ShortTZ
                        | Std::Iso8601ColonSecondsTZ
                );
                if iso && c.offset == 0 {
                    out.push('Z');
                    continue;
                }
                let abs = c.offset.abs();
                let zone = abs / 60;
                out.push(if c.offset < 0 { '-' } else { '+' });
                pad(&mut out, i64::from(zone / 60), 2);
                let colon = matches!(
                    zone_std,
                    Std::Iso8601ColonTZ
                        | Std::NumColonTZ
                        | Std::Iso8601ColonSecondsTZ
                        | Std::NumColonSecondsTZ
                );
                if colon {
                    out.push(':');
                }
                if !matches!(zone_std, Std::NumShortTZ | Std::Iso8601ShortTZ) {
                    pad(&mut out, i64::from(zone % 60), 2);
                }
                if matches!(
                    zone_std,
                    Std::Iso8601SecondsTZ
                        | Std::NumSecondsTz
                        | Std::NumColonSecondsTZ
                        | Std::Iso8601ColonSecondsTZ
                ) {
                    if matches!(
                        zone_std,
                        Std::NumColonSecondsTZ | Std::Iso8601ColonSecondsTZ
                    ) {
                        out.push(':');
                    }
                    pad(&mut out, i64::from(abs % 60), 2);
                }
            }
        }
    }
    out
}

/// Go's `strconv.Quote`-like quoting used in time error messages.
fn quote(s: &str) -> String {
    let mut out = String::from("\"");
    for c in s.chars() {
        if (c as u32) < 0x20 || (c as u32) >= 0x80 {
            let mut buf = [0u8; 4];
            for b in c.encode_utf8(&mut buf).bytes() {
                out.push_str(&format!("\\x{b:02x}"));
            }
        } else {
            if c == '"' || c == '\\' {
                out.push('\\');
            }
            out.push(c);
        }
    }
    out.push('"');
    out
}

fn getnum(s: &str, fixed: bool) -> Option<(i64, &str)> {
    let b = s.as_bytes();
    if !b.first().is_some_and(u8::is_ascii_digit) {
        return None;
    }
    if !b.get(1).is_some_and(u8::is_ascii_digit) {
        if fixed {
            return None;
        }
        return Some((i64::from(b[0] - b'0'), &s[1..]));
    }
    Some((
        i64::from(b[0] - b'0') * 10 + i64::from(b[1] - b'0'),
        &s[2..],
    ))
}

fn getnum3(s: &str, fixed: bool) -> Option<(i64, &str)> {
    let b = s.as_bytes();
    let mut n = 0;
    let mut i = 0;
    while i < 3 && b.get(i).is_some_and(u8::is_ascii_digit) {
        n = n * 10 + i64::from(b[i] - b'0');
        i += 1;
    }
    if i == 0 || (fixed && i != 3) {
        return None;
    }
    Some((n, &s[i..]))
}

/// Go's `skip`: removes `prefix` from `value`, runs of spaces matching runs of spaces.
fn skip<'a>(mut value: &'a str, mut prefix: &str) -> Result<&'a str, &'a str> {
    while !prefix.is_empty() {
        if prefix.starts_with(' ') {
            if !value.is_empty() && !value.starts_with(' ') {
                return Err(value);
            }
            prefix = prefix.trim_start_matches(' ');
            value = value.trim_start_matches(' ');
            continue;
        }
        if value.is_empty() || value.as_bytes()[0] != prefix.as_bytes()[0] {
            return Err(value);
        }
        // Both start with the same byte; advance by that character.
        let n = prefix.chars().next().map_or(1, char::len_utf8);
        if !value.is_char_boundary(n) || value[..n] != prefix[..n] {
            return Err(value);
        }
        prefix = &prefix[n..];
        value = &value[n..];
    }
    Ok(value)
}

/// Case-insensitive lookup of a name prefix (Go's `lookup`).
fn lookup<'a>(tab: &[&str], val: &'a str, short: bool) -> Option<(usize, &'a str)> {
    for (i, v) in tab.iter().enumerate() {
        let v = if short { &v[..3] } else { v };
        if val.len() >= v.len()
            && val.is_char_boundary(v.len())
            && val[..v.len()].eq_ignore_ascii_case(v)
        {
            return Some((i, &val[v.len()..]));
        }
    }
    None
}

fn parse_nanos(value: &str, nbytes: usize) -> Result<(u32, &'static str), ()> {
    let b = value.as_bytes();
    if !(b[0] == b'.' || b[0] == b',') {
        return Err(());
    }
    let nbytes = nbytes.min(10);
    let digits = &value[1..nbytes];
    if !digits.bytes().all(|c| c.is_ascii_digit()) || digits.is_empty() {
        return Err(());
    }
    let mut ns: u32 = digits.parse().map_err(|_| ())?;
    for _ in 0..(10 - nbytes) {
        ns *= 10;
    }
    Ok((ns, ""))
}

/// Go's `parseTimeZone`: the length of a zone abbreviation at the start of `value`.
fn parse_time_zone(value: &str) -> Option<usize> {
    let b = value.as_bytes();
    if b.len() < 3 {
        return None;
    }
    if value.starts_with("ChST") || value.starts_with("MeST") {
        return Some(4);
    }
    if let Some(rest) = value.strip_prefix("GMT") {
        return Some(3 + parse_signed_offset(rest));
    }
    if b[0] == b'+' || b[0] == b'-' {
        let n = parse_signed_offset(value);
        return (n > 0).then_some(n);
    }
    let upper = b
        .iter()
        .take(6)
        .take_while(|c| c.is_ascii_uppercase())
        .count();
    match upper {
        5 if b[4] == b'T' => Some(5),
        4 if b[3] == b'T' || value.starts_with("WITA") => Some(4),
        3 => Some(3),
        _ => None,
    }
}

fn parse_signed_offset(value: &str) -> usize {
    let b = value.as_bytes();
    if !matches!(b.first(), Some(b'+' | b'-')) {
        return 0;
    }
    let digits = b[1..].iter().take_while(|c| c.is_ascii_digit()).count();
    if digits == 0 {
        return 0;
    }
    match value[1..1 + digits].parse::<u64>() {
        Ok(x) if x <= 23 => 1 + digits,
        _ => 0,
    }
}

/// Go's `time.ParseInLocation(layout, value, time.Local)`, with Go's error messages.
pub(super) fn parse_in_local(layout_in: &str, value_in: &str) -> Result<GoTime, String> {
    let err_elem = |layout_elem: &str, value_elem: &str| {
        format!(
            "parsing time {} as {}: cannot parse {} as {}",
            quote(value_in),
            quote(layout_in),
            quote(value_elem),
            quote(layout_elem)
        )
    };
    let err_msg = |msg: &str| format!("parsing time {}{msg}", quote(value_in));

    let mut layout = layout_in;
    let mut value = value_in;
    let (mut am_set, mut pm_set) = (false, false);
    let mut year: i64 = 0;
    let (mut month, mut day, mut yday): (i64, i64, i64) = (-1, -1, -1);
    let (mut hour, mut min, mut sec, mut nsec): (i64, i64, i64, u32) = (0, 0, 0, 0);
    let mut utc = false;
    let mut zone_offset: Option<i32> = None;
    let mut zone_name = String::new();

    loop {
        let (prefix, std, suffix) = next_std_chunk(layout);
        let stdstr = &layout[prefix.len()..layout.len() - suffix.len()];
        value = skip(value, prefix).map_err(|v| err_elem(prefix, v))?;
        let Some(std) = std else {
            if !value.is_empty() {
                return Err(err_msg(&format!(": extra text: {}", quote(value))));
            }
            break;
        };
        layout = suffix;
        let hold = value;
        let mut range_err = "";
        let ok: Option<()> = (|| {
            match std {
                Std::Year => {
                    let p = value.get(..2)?;
                    if !p.bytes().all(|c| c.is_ascii_digit()) {
                        return None;
                    }
                    value = &value[2..];
                    year = p.parse().ok()?;
                    year += if year >= 69 { 1900 } else { 2000 };
                }
                Std::LongYear => {
                    let p = value.get(..4)?;
                    if !p.as_bytes()[0].is_ascii_digit() {
                        return None;
                    }
                    year = go_atoi(p)?;
                    value = &value[4..];
                }
                Std::Month | Std::LongMonth => {
                    let (m, rest) = lookup(&LONG_MONTHS, value, std == Std::Month)?;
                    month = m as i64 + 1;
                    value = rest;
                }
                Std::NumMonth | Std::ZeroMonth => {
                    let (m, rest) = getnum(value, std == Std::ZeroMonth)?;
                    month = m;
                    value = rest;
                    if !(1..=12).contains(&month) {
                        range_err = "month";
                    }
                }
                Std::WeekDay | Std::LongWeekDay => {
                    let (_, rest) = lookup(&LONG_DAYS, value, std == Std::WeekDay)?;
                    value = rest;
                }
                Std::Day | Std::UnderDay | Std::ZeroDay => {
                    if std == Std::UnderDay && value.starts_with(' ') {
                        value = &value[1..];
                    }
                    let (d, rest) = getnum(value, std == Std::ZeroDay)?;
                    day = d;
                    value = rest;
                }
                Std::UnderYearDay | Std::ZeroYearDay => {
                    for _ in 0..2 {
                        if std == Std::UnderYearDay && value.starts_with(' ') {
                            value = &value[1..];
                        }
                    }
                    let (d, rest) = getnum3(value, std == Std::ZeroYearDay)?;
                    yday = d;
                    value = rest;
                }
                Std::Hour => {
                    let (h, rest) = getnum(value, false)?;
                    hour = h;
                    value = rest;
                    if hour >= 24 {
                        range_err = "hour";
                    }
                }
                Std::Hour12 | Std::ZeroHour12 => {
                    let (h, rest) = getnum(value, std == Std::ZeroHour12)?;
                    hour = h;
                    value = rest;
                    if hour > 12 {
                        range_err = "hour";
                    }
                }
                Std::Minute | Std::ZeroMinute => {
                    let (m, rest) = getnum(value, std == Std::ZeroMinute)?;
                    min = m;
                    value = rest;
                    if min >= 60 {
                        range_err = "minute";
                    }
                }
                Std::Second | Std::ZeroSecond => {
                    let (s, rest) = getnum(value, std == Std::ZeroSecond)?;
                    sec = s;
                    value = rest;
                    if sec >= 60 {
                        range_err = "second";
                        return Some(());
                    }
                    let b = value.as_bytes();
                    if b.len() >= 2 && (b[0] == b'.' || b[0] == b',') && b[1].is_ascii_digit() {
                        let (_, next, _) = next_std_chunk(layout);
                        if matches!(next, Some(Std::Frac0(..) | Std::Frac9(..))) {
                            return Some(());
                        }
                        let mut n = 2;
                        while n < b.len() && b[n].is_ascii_digit() {
                            n += 1;
                        }
                        let (ns, _) = parse_nanos(value, n).ok()?;
                        nsec = ns;
                        value = &value[n..];
                    }
                }
                Std::PM | Std::Pm => {
                    let p = value.get(..2)?;
                    value = &value[2..];
                    let (pm, am) = if std == Std::PM {
                        ("PM", "AM")
                    } else {
                        ("pm", "am")
                    };
                    if p == pm {
                        pm_set = true;
                    } else if p == am {
                        am_set = true;
                    } else {
                        return None;
                    }
                }
                Std::TZ => {
                    if value.starts_with("UTC") {
                        utc = true;
                        value = &value[3..];
                        return Some(());
                    }
                    let n = parse_time_zone(value)?;
                    zone_name = value[..n].to_owned();
                    value = &value[n..];
                }
                Std::Frac0(n, _) => {
                    let ndigit = 1 + n;
                    if value.len() < ndigit {
                        return None;
                    }
                    let (ns, _) = parse_nanos(value, ndigit).ok()?;
                    nsec = ns;
                    value = &value[ndigit..];
                }
                Std::Frac9(..) => {
                    let b = value.as_bytes();
                    if b.len() < 2 || !(b[0] == b'.' || b[0] == b',') || !b[1].is_ascii_digit() {
                        return Some(());
                    }
                    let mut i = 0;
                    while i + 1 < b.len() && b[i + 1].is_ascii_digit() {
                        i += 1;
                    }
                    let (ns, _) = parse_nanos(value, 1 + i).ok()?;
                    nsec = ns;
                    value = &value[1 + i..];
                }
                zone_std => {
                    let iso = matches!(
                        zone_std,
                        Std::Iso8601TZ
                            | Std::Iso8601ShortTZ
                            | Std::Iso8601ColonTZ
                            | Std::Iso8601SecondsTZ
                            | Std::Iso8601ColonSecondsTZ
                    );
                    if iso && value.starts_with('Z') {
                        value = &value[1..];
                        utc = true;
                        return Some(());
                    }
                    let b = value.as_bytes();
                    let (sign, hh, mm, ss, rest);
                    match zone_std {
                        Std::Iso8601ColonTZ | Std::NumColonTZ => {
                            if b.len() < 6 || b[3] != b':' {
                                return None;
                            }
                            (sign, hh, mm, ss, rest) =
                                (b[0], &value[1..3], &value[4..6], "00", &value[6..]);
                        }
                        Std::NumShortTZ | Std::Iso8601ShortTZ => {
                            if b.len() < 3 {
                                return None;
                            }
                            (sign, hh, mm, ss, rest) =
                                (b[0], value.get(1..3)?, "00", "00", &value[3..]);
                        }
                        Std::Iso8601ColonSecondsTZ | Std::NumColonSecondsTZ => {
                            if b.len() < 9 || b[3] != b':' || b[6] != b':' {
                                return None;
                            }
                            (sign, hh, mm, ss, rest) =
                                (b[0], &value[1..3], &value[4..6], &value[7..9], &value[9..]);
                        }
                        Std::Iso8601SecondsTZ | Std::NumSecondsTz => {
                            if b.len() < 7 {
                                return None;
                            }
                            (sign, hh, mm, ss, rest) = (
                                b[0],
                                value.get(1..3)?,
                                value.get(3..5)?,
                                value.get(5..7)?,
                                &value[7..],
                            );
                        }
                        _ => {
                            if b.len() < 5 {
                                return None;
                            }
                            (sign, hh, mm, ss, rest) =
                                (b[0], value.get(1..3)?, value.get(3..5)?, "00", &value[5..]);
                        }
                    }
                    let (h, _) = getnum(hh, true)?;
                    let (m, _) = getnum(mm, true)?;
                    let (s, _) = getnum(ss, true)?;
                    if h > 24 {
                        range_err = "time zone offset hour";
                    }
                    if m > 60 {
                        range_err = "time zone offset minute";
                    }
                    if s > 60 {
                        range_err = "time zone offset second";
                    }
                    let off = ((h * 60 + m) * 60 + s) as i32;
                    value = rest;
                    zone_offset = Some(match sign {
                        b'+' => off,
                        b'-' => -off,
                        _ => return None,
                    });
                }
            }
            Some(())
        })();
        if !range_err.is_empty() {
            return Err(err_msg(&format!(": {range_err} out of range")));
        }
        if ok.is_none() {
            return Err(err_elem(stdstr, hold));
        }
    }
    if pm_set && hour < 12 {
        hour += 12;
    } else if am_set && hour == 12 {
        hour = 0;
    }
    if yday >= 0 {
        let (mut d, mut m) = (0i64, 0i64);
        if is_leap(year) {
            if yday == 31 + 29 {
                m = 2;
                d = 29;
            } else if yday > 31 + 29 {
                yday -= 1;
            }
        }
        if !(1..=365).contains(&yday) {
            return Err(err_msg(": day-of-year out of range"));
        }
        if m == 0 {
            let before =
                |m: i64| -> i64 { (1..m).map(|k| i64::from(days_in(k as u32, 2001))).sum() };
            m = (yday - 1) / 31 + 1;
            if before(m + 1) < yday {
                m += 1;
            }
            d = yday - before(m);
        }
        if month >= 0 && month != m {
            return Err(err_msg(": day-of-year does not match month"));
        }
        month = m;
        if day >= 0 && day != d {
            return Err(err_msg(": day-of-year does not match day"));
        }
        day = d;
    } else {
        if month < 0 {
            month = 1;
        }
        if day < 0 {
            day = 1;
        }
    }
    if day < 1 || day > i64::from(days_in(month as u32, year)) {
        return Err(err_msg(": day out of range"));
    }
    let wall = days_from_civil(year, month as u32, day as u32) * SECS_PER_DAY
        + hour * 3600
        + min * 60
        + sec;
    let local = local_zone();
    if utc {
        return Ok(GoTime {
            secs: wall,
            nanos: nsec,
            loc: Loc::Utc,
        });
    }
    if let Some(off) = zone_offset {
        let secs = wall - i64::from(off);
        let (loff, lname) = zone_info(&local, secs);
        let loc = if loff == off && (zone_name.is_empty() || lname == zone_name) {
            Loc::Local
        } else {
            Loc::Fixed(zone_name, off)
        };
        return Ok(GoTime {
            secs,
            nanos: nsec,
            loc,
        });
    }
    if !zone_name.is_empty() {
        // A zone abbreviation the local zone uses around that time gives its offset.
        for probe in [wall, wall - 183 * SECS_PER_DAY, wall + 183 * SECS_PER_DAY] {
            let (loff, lname) = zone_info(&local, probe);
            if lname == zone_name {
                return Ok(GoTime {
                    secs: wall - i64::from(loff),
                    nanos: nsec,
                    loc: Loc::Local,
                });
            }
        }
        let mut off = 0;
        if zone_name.len() > 3 && zone_name.starts_with("GMT") {
            off = zone_name[3..].parse::<i32>().unwrap_or(0) * 3600;
        }
        return Ok(GoTime {
            secs: wall - i64::from(off),
            nanos: nsec,
            loc: Loc::Fixed(zone_name, off),
        });
    }
    // No zone in the value: the wall clock is local time.
    let (off, _) = zone_info(&local, wall);
    let mut secs = wall - i64::from(off);
    let (off2, _) = zone_info(&local, secs);
    if off2 != off {
        secs = wall - i64::from(off2);
    }
    Ok(GoTime {
        secs,
        nanos: nsec,
        loc: Loc::Local,
    })
}

/// Go's internal `atoi` for a fixed run of characters (sign allowed).
fn go_atoi(s: &str) -> Option<i64> {
    let (neg, digits) = match s.as_bytes().first() {
        Some(b'-') => (true, &s[1..]),
        Some(b'+') => (false, &s[1..]),
        _ => (false, s),
    };
    if digits.is_empty() || !digits.bytes().all(|c| c.is_ascii_digit()) {
        return None;
    }
    let x: i64 = digits.parse().ok()?;
    Some(if neg { -x } else { x })
}

// ---------------------------------------------------------------------------------------------
// Durations (nanoseconds, as Go's `time.Duration`).

/// Go's `time.ParseDuration`.
pub(super) fn parse_duration(orig: &str) -> Result<i64, String> {
    let invalid = || format!("time: invalid duration {}", quote(orig));
    let mut s = orig;
    let mut neg = false;
    if let Some(c) = s.chars().next()
        && (c == '-' || c == '+')
    {
        neg = c == '-';
        s = &s[1..];
    }
    if s == "0" {
        return Ok(0);
    }
    if s.is_empty() {
        return Err(invalid());
    }
    let mut d: u64 = 0;
    while !s.is_empty() {
        let b = s.as_bytes();
        if !(b[0] == b'.' || b[0].is_ascii_digit()) {
            return Err(invalid());
        }
        // Leading integer.
        let n = b.iter().take_while(|c| c.is_ascii_digit()).count();
        let mut v: u64 = 0;
        for &c in &b[..n] {
            if v > (1u64 << 63) / 10 {
                return Err(invalid());
            }
            v = v * 10 + u64::from(c - b'0');
            if v > 1u64 << 63 {
                return Err(invalid());
            }
        }
        let pre = n > 0;
        s = &s[n..];
        let (mut f, mut scale, mut post) = (0u64, 1f64, false);
        if s.starts_with('.') {
            s = &s[1..];
            let b = s.as_bytes();
            let n = b.iter().take_while(|c| c.is_ascii_digit()).count();
            let mut overflow = false;
            for &c in &b[..n] {
                if overflow {
                    continue;
                }
                if f > ((1u64 << 63) - 1) / 10 {
                    overflow = true;
                    continue;
                }
                let y = f * 10 + u64::from(c - b'0');
                if y > 1u64 << 63 {
                    overflow = true;
                    continue;
                }
                f = y;
                scale *= 10.0;
            }
            post = n > 0;
            s = &s[n..];
        }
        if !pre && !post {
            return Err(invalid());
        }
        let i = s
            .bytes()
            .take_while(|&c| !(c == b'.' || c.is_ascii_digit()))
            .count();
        if i == 0 {
            return Err(format!("time: missing unit in duration {}", quote(orig)));
        }
        let u = &s[..i];
        s = &s[i..];
        let unit: u64 = match u {
            "ns" => 1,
            "us" | "\u{b5}s" | "\u{3bc}s" => 1_000,
            "ms" => 1_000_000,
            "s" => 1_000_000_000,
            "m" => 60_000_000_000,
            "h" => 3_600_000_000_000,
            _ => {
                return Err(format!(
                    "time: unknown unit {} in duration {}",
                    quote(u),
                    quote(orig)
                ));
            }
        };
        if v > (1u64 << 63) / unit {
            return Err(invalid());
        }
        v *= unit;
        if f > 0 {
            v += (f as f64 * (unit as f64 / scale)) as u64;
            if v > 1u64 << 63 {
                return Err(invalid());
            }
        }
        d += v;
        if d > 1u64 << 63 {
            return Err(invalid());
        }
    }
    if neg {
        return Ok((d as i64).wrapping_neg());
    }
    if d > (1u64 << 63) - 1 {
        return Err(invalid());
    }
    Ok(d as i64)
}

/// Go's `fmtFrac`: appends `.ddd` of `v % 10^prec` (trailing zeros dropped), returns `v / 10^prec`.
fn fmt_frac(buf: &mut Vec<u8>, mut v: u64, prec: u32) -> u64 {
    let mut print = false;
    let mut digits = Vec::new();
    for _ in 0..prec {
        let digit = v % 10;
        print = print || digit != 0;
        if print {
            digits.push(b'0' + digit as u8);
        }
        v /= 10;
    }
    if print {
        digits.push(b'.');
    }
    buf.extend(digits);
    v
}

fn fmt_int(buf: &mut Vec<u8>, mut v: u64) {
    if v == 0 {
        buf.push(b'0');
        return;
    }
    while v > 0 {
        buf.push(b'0' + (v % 10) as u8);
        v /= 10;
    }
}

/// Go's `Duration.String()`: `1h2m3.5s`, `1.5ms`, `0s`.
pub(super) fn format_duration(d: i64) -> String {
    // Built back to front, as Go does.
    let mut buf: Vec<u8> = Vec::new();
    let neg = d < 0;
    let mut u = d.unsigned_abs();
    if u < 1_000_000_000 {
        buf.push(b's');
        let prec;
        if u == 0 {
            return "0s".to_owned();
        } else if u < 1_000 {
            prec = 0;
            buf.push(b'n');
        } else if u < 1_000_000 {
            prec = 3;
            buf.extend("\u{b5}".as_bytes().iter().rev());
        } else {
            prec = 6;
            buf.push(b'm');
        }
        u = fmt_frac(&mut buf, u, prec);
        fmt_int(&mut buf, u);
    } else {
        buf.push(b's');
        u = fmt_frac(&mut buf, u, 9);
        fmt_int(&mut buf, u % 60);
        u /= 60;
        if u > 0 {
            buf.push(b'm');
            fmt_int(&mut buf, u % 60);
            u /= 60;
            if u > 0 {
                buf.push(b'h');
                fmt_int(&mut buf, u);
            }
        }
    }
    if neg {
        buf.push(b'-');
    }
    buf.reverse();
    String::from_utf8(buf).unwrap_or_default()
}

/// Go's `Duration.Round(m)`.
fn round_duration(d: i64, m: i64) -> i64 {
    if m <= 0 {
        return d;
    }
    let mut r = d % m;
    let less_than_half = |x: i64, y: i64| (x as u64).wrapping_add(x as u64) < y as u64;
    if d < 0 {
        r = -r;
        if less_than_half(r, m) {
            return d + r;
        }
        return d.checked_sub(m - r).unwrap_or(i64::MIN);
    }
    if less_than_half(r, m) {
        return d - r;
    }
    d.checked_add(m - r).unwrap_or(i64::MAX)
}

// ---------------------------------------------------------------------------------------------
// The functions.

/// `now`: the current local time.
fn now(args: &[Value]) -> FuncResult {
    arity("now", args, 0)?;
    Ok(GoTime::now().to_value())
}

/// The time Sprig's `dateInZone` formats: a time, or an integer as Unix seconds, or else now.
fn date_subject(v: &Value) -> GoTime {
    match v {
        Value::Int(i) => GoTime::unix(*i),
        other => GoTime::from_value(other).unwrap_or_else(GoTime::now),
    }
}

fn format_in_zone(fmt: &str, date: &Value, zone: &str) -> Value {
    let t = date_subject(date).in_loc(load_location(zone));
    Value::String(t.format(fmt))
}

/// `date FMT TIME`: formats in the local zone.
fn date(args: &[Value]) -> FuncResult {
    arity("date", args, 2)?;
    Ok(format_in_zone(str_arg(&args[0])?, &args[1], "Local"))
}

/// `dateInZone FMT TIME ZONE`.
fn date_in_zone(args: &[Value]) -> FuncResult {
    arity("dateInZone", args, 3)?;
    let fmt = str_arg(&args[0])?;
    let zone = str_arg(&args[2])?;
    Ok(format_in_zone(fmt, &args[1], zone))
}

/// `htmlDate TIME`: `2006-01-02` in the local zone.
fn html_date(args: &[Value]) -> FuncResult {
    arity("htmlDate", args, 1)?;
    Ok(format_in_zone("2006-01-02", &args[0], "Local"))
}

/// `htmlDateInZone TIME ZONE`.
fn html_date_in_zone(args: &[Value]) -> FuncResult {
    arity("htmlDateInZone", args, 2)?;
    let zone = str_arg(&args[1])?;
    Ok(format_in_zone("2006-01-02", &args[0], zone))
}

/// `toDate FMT STR`: parses in the local zone; Go's zero time when it does not parse.
fn to_date(args: &[Value]) -> FuncResult {
    arity("toDate", args, 2)?;
    let t =
        parse_in_local(str_arg(&args[0])?, str_arg(&args[1])?).unwrap_or_else(|_| GoTime::zero());
    Ok(t.to_value())
}

/// `mustToDate FMT STR`.
fn must_to_date(args: &[Value]) -> FuncResult {
    arity("mustToDate", args, 2)?;
    parse_in_local(str_arg(&args[0])?, str_arg(&args[1])?)
        .map(|t| t.to_value())
        .map_err(FuncError::new)
}

/// `unixEpoch TIME`: seconds since the epoch, as a string.
fn unix_epoch(args: &[Value]) -> FuncResult {
    arity("unixEpoch", args, 1)?;
    Ok(Value::String(time_arg(&args[0])?.secs.to_string()))
}

/// `dateModify DURATION TIME`: the time moved by a Go duration; unchanged when it does not parse.
fn date_modify(args: &[Value]) -> FuncResult {
    arity("dateModify", args, 2)?;
    let d = str_arg(&args[0])?;
    let t = time_arg(&args[1])?;
    Ok(match parse_duration(d) {
        Ok(d) => t.add(d).to_value(),
        Err(_) => t.to_value(),
    })
}

/// `mustDateModify DURATION TIME`.
fn must_date_modify(args: &[Value]) -> FuncResult {
    arity("mustDateModify", args, 2)?;
    let d = str_arg(&args[0])?;
    let t = time_arg(&args[1])?;
    let d = parse_duration(d).map_err(FuncError::new)?;
    Ok(t.add(d).to_value())
}

/// `duration SECONDS`: a number of seconds (string or integer) as a Go duration.
fn duration(args: &[Value]) -> FuncResult {
    arity("duration", args, 1)?;
    let n: i64 = match &args[0] {
        Value::String(s) => go_parse_int(s).unwrap_or(0),
        Value::Int(i) => *i,
        _ => 0,
    };
    Ok(Value::String(format_duration(
        n.wrapping_mul(1_000_000_000),
    )))
}

/// `strconv.ParseInt(s, 10, 64)`.
fn go_parse_int(s: &str) -> Option<i64> {
    let digits = s.strip_prefix(['+', '-']).unwrap_or(s);
    if digits.is_empty() || !digits.bytes().all(|c| c.is_ascii_digit()) {
        return None;
    }
    s.parse().ok()
}

/// `durationRound D`: a duration (Go syntax string, integer nanoseconds, or a time's age)
/// rounded down to its largest unit: `2h`, `3d`, `1mo`, `1y`.
fn duration_round(args: &[Value]) -> FuncResult {
    arity("durationRound", args, 1)?;
    let d: i64 = match &args[0] {
        Value::Int(i) => *i,
        v @ Value::String(s) => match GoTime::from_value(v) {
            Some(t) => t.since(),
            None => parse_duration(s).unwrap_or(0),
        },
        _ => 0,
    };
    let u = d.unsigned_abs();
    const SECOND: u64 = 1_000_000_000;
    const MINUTE: u64 = 60 * SECOND;
    const HOUR: u64 = 60 * MINUTE;
    const DAY: u64 = 24 * HOUR;
    const MONTH: u64 = 30 * DAY;
    const YEAR: u64 = 365 * DAY;
    let out = if u > YEAR {
        format!("{}y", u / YEAR)
    } else if u > MONTH {
        format!("{}mo", u / MONTH)
    } else if u > DAY {
        format!("{}d", u / DAY)
    } else if u > HOUR {
        format!("{}h", u / HOUR)
    } else if u > MINUTE {
        format!("{}m", u / MINUTE)
    } else if u > SECOND {
        format!("{}s", u / SECOND)
    } else {
        "0s".to_owned()
    };
    Ok(Value::String(out))
}

/// `ago TIME`: time since then, rounded to the second (`2h3m4s`).
fn ago(args: &[Value]) -> FuncResult {
    arity("ago", args, 1)?;
    let t = match &args[0] {
        Value::Int(i) => GoTime::unix(*i),
        other => GoTime::from_value(other).unwrap_or_else(GoTime::now),
    };
    let d = round_duration(t.since(), 1_000_000_000);
    Ok(Value::String(format_duration(d)))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn call(f: fn(&[Value]) -> FuncResult, args: &[Value]) -> Value {
        f(args).unwrap()
    }

    #[test]
    fn now_is_a_time_value_in_go_string_form() {
        let v = call(now, &[]);
        let t = GoTime::from_value(&v).expect("now parses back");
        let s = v.as_str().unwrap();
        assert!(s.len() >= "2006-01-02 15:04:05 +0000 UTC".len(), "{s}");
        assert_eq!(t.go_string(), s);
        let again = GoTime::now();
        assert!((again.secs - t.secs).abs() < 5);
    }

    #[test]
    fn go_string_round_trips_with_fractions_and_zones() {
        for s in [
            "2020-01-02 03:04:05 +0000 UTC",
            "2020-01-02 03:04:05.5 +0530 +0530",
            "2020-01-02 03:04:05.123456789 -0800 PST",
            "0001-01-01 00:00:00 +0000 UTC",
            "2020-03-04 05:06:07 +0000 datetime-local",
        ] {
            let t = GoTime::from_value(&Value::from(s)).expect(s);
            assert_eq!(t.go_string(), s);
        }
        assert!(GoTime::from_value(&Value::from("2020-01-02")).is_none());
        assert!(GoTime::from_value(&Value::from("2020-02-30 00:00:00 +0000 UTC")).is_none());
        let mono = "2026-11-22 02:54:13.640603633 +0000 UTC m=+0.035772238";
        let t = GoTime::from_value(&Value::from(mono)).unwrap();
        assert_eq!(t.go_string(), "2026-11-22 02:54:13.640603633 +0000 UTC");
    }

    #[test]
    fn durations_format_like_go() {
        let cases: &[(i64, &str)] = &[
            (0, "0s"),
            (1, "1ns"),
            (1_100, "1.1\u{b5}s"),
            (2_200_000, "2.2ms"),
            (3_300_000_000, "3.3s"),
            (-(4 * 60 + 5) * 1_000_000_000, "-4m5s"),
            (
                (5 * 3600 + 6 * 60 + 7) * 1_000_000_000 + 1,
                "5h6m7.000000001s",
            ),
            (i64::MIN, "-2562047h47m16.854775808s"),
        ];
        for (d, s) in cases {
            assert_eq!(format_duration(*d), *s);
        }
    }

    #[test]
    fn durations_parse_like_go() {
        assert_eq!(parse_duration("1h30m"), Ok(5_400_000_000_000));
        assert_eq!(parse_duration("-1.5s"), Ok(-1_500_000_000));
        assert_eq!(parse_duration(".5ms"), Ok(500_000));
        assert_eq!(parse_duration("1\u{b5}s"), Ok(1_000));
        assert_eq!(parse_duration("0"), Ok(0));
        assert_eq!(parse_duration("-0"), Ok(0));
        assert!(parse_duration("1").unwrap_err().contains("missing unit"));
        assert!(
            parse_duration("1d")
                .unwrap_err()
                .contains("unknown unit \"d\"")
        );
        assert!(parse_duration("9999999999h").is_err());
    }

    #[test]
    fn ago_and_duration_round_of_times() {
        let past = GoTime::now()
            .add(-3_600_000_000_000 - 2_000_000_000)
            .to_value();
        assert_eq!(
            call(ago, std::slice::from_ref(&past)).as_str(),
            Some("1h0m2s")
        );
        assert_eq!(call(duration_round, &[past]).as_str(), Some("1h"));
        assert_eq!(call(ago, &[Value::from(1.5)]).as_str(), Some("0s"));
    }

    #[test]
    fn zones_and_layouts() {
        let t = GoTime::unix(1_700_000_000).in_loc(load_location("Asia/Kolkata"));
        assert_eq!(
            t.format("2006-01-02 15:04:05 MST -07:00"),
            "2023-11-15 03:43:20 IST +05:30"
        );
        let t = t.in_loc(load_location("No/Such_Zone"));
        assert_eq!(t.format(time_layout_kitchen()), "10:13PM");
    }

    fn time_layout_kitchen() -> &'static str {
        "3:04PM"
    }

    #[test]
    fn integers_are_int64_for_durations() {
        assert_eq!(call(duration, &[Value::Int(95)]).as_str(), Some("1m35s"));
        assert_eq!(call(duration, &[Value::Float(95.0)]).as_str(), Some("0s"));
    }

    #[test]
    fn wrong_types_are_errors() {
        assert!(
            unix_epoch(&[Value::Int(5)])
                .unwrap_err()
                .0
                .contains("time.Time")
        );
        assert!(date(&[Value::Int(5), Value::Int(0)]).is_err());
        assert!(now(&[Value::Null]).is_err());
    }
}
