//! Wall-clock timestamps as the wire carries them.

use std::fmt;

use time::{Date, Month, OffsetDateTime, PrimitiveDateTime, Time, UtcOffset};

/// A point in time with a UTC offset, as carried in `ts` fields.
///
/// Like Python's `datetime`, a timestamp holds whole microseconds: finer digits are
/// truncated, as the reference's `fromisoformat` does, so every timestamp prints exactly.
///
/// Parsing accepts RFC 3339 with `T`, `t` or a space between date and time and any number
/// of fraction digits, and refuses a time without an offset: the
/// reference refuses those for signed frames, since a naive time has no meaning across
/// machines. Python also accepts ISO 8601 basic forms (`20261123T101506Z`) and a missing
/// seconds field; brainwire does not.
///
/// Display writes what the reference's pydantic models write: microseconds when non-zero,
/// and `Z` for UTC (`2026-11-23T10:15:06.370359Z`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Timestamp(OffsetDateTime);

/// Why a timestamp text was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum TimestampError {
    /// Not an RFC 3339 date and time.
    #[error("timestamp is not RFC 3339")]
    Invalid,
    /// A date and time without a UTC offset.
    #[error("timestamp has no UTC offset")]
    Naive,
}

impl TimestampError {
    /// A stable snake_case name for tools and logs.
    pub const fn kind(&self) -> &'static str {
        match self {
            Self::Invalid => "invalid_timestamp",
            Self::Naive => "naive_timestamp",
        }
    }
}

impl Timestamp {
    /// The current time from the system clock, in UTC.
    pub fn now_utc() -> Self {
        Self::from_offset_date_time(OffsetDateTime::now_utc())
    }

    /// The timestamp for a `time` value, truncated to whole microseconds.
    pub fn from_offset_date_time(value: OffsetDateTime) -> Self {
        let micros_only = value.nanosecond() / 1000 * 1000;
        Self(
            value
                .replace_nanosecond(micros_only)
                .expect("a truncated nanosecond is valid"),
        )
    }

    /// The timestamp `micros` microseconds after the Unix epoch, in UTC.
    ///
    /// # Errors
    ///
    /// [`TimestampError::Invalid`] outside the years the `time` crate supports.
    pub fn from_unix_micros(micros: i64) -> Result<Self, TimestampError> {
        OffsetDateTime::from_unix_timestamp_nanos(i128::from(micros) * 1000)
            .map(Self)
            .map_err(|_| TimestampError::Invalid)
    }

    /// The underlying `time` value.
    pub const fn as_offset_date_time(&self) -> OffsetDateTime {
        self.0
    }

    /// Whole microseconds since the Unix epoch.
    pub fn unix_micros(&self) -> i128 {
        self.0.unix_timestamp_nanos() / 1000
    }

    /// `self - earlier`, as a signed duration.
    pub fn duration_since(&self, earlier: Timestamp) -> time::Duration {
        self.0 - earlier.0
    }

    /// This timestamp moved `delta` later, or `None` out of range.
    pub fn checked_add(&self, delta: std::time::Duration) -> Option<Timestamp> {
        let delta = time::Duration::try_from(delta).ok()?;
        self.0.checked_add(delta).map(Self::from_offset_date_time)
    }

    /// This timestamp moved `delta` earlier, or `None` out of range.
    pub fn checked_sub(&self, delta: std::time::Duration) -> Option<Timestamp> {
        let delta = time::Duration::try_from(delta).ok()?;
        self.0.checked_sub(delta).map(Self::from_offset_date_time)
    }

    /// Appends the text [`Display`](fmt::Display) writes, without the formatting
    /// machinery: a signer stamps every frame, and `write!` through an adapter was a
    /// twentieth of signing a heartbeat.
    pub fn write_text(&self, out: &mut Vec<u8>) {
        match self.text() {
            Some(text) => out.extend_from_slice(text.as_str().as_bytes()),
            None => {
                use std::io::Write as _;
                write!(out, "{self}").expect("writing to a Vec succeeds");
            }
        }
    }

    /// The text, digit by digit on the stack, for the years 0 to 9999 (all that parse
    /// from the wire); `None` for the others, which only `time` values can hold.
    fn text(&self) -> Option<Text> {
        let t = self.0;
        let year @ 0..=9999 = u32::try_from(t.year()).ok()? else {
            return None;
        };
        let mut text = Text::default();
        text.number(year, 4);
        text.byte(b'-');
        text.number(u32::from(u8::from(t.month())), 2);
        text.byte(b'-');
        text.number(u32::from(t.day()), 2);
        text.byte(b'T');
        text.number(u32::from(t.hour()), 2);
        text.byte(b':');
        text.number(u32::from(t.minute()), 2);
        text.byte(b':');
        text.number(u32::from(t.second()), 2);
        if t.microsecond() != 0 {
            text.byte(b'.');
            text.number(t.microsecond(), 6);
        }
        let offset = t.offset();
        if offset.is_utc() {
            text.byte(b'Z');
        } else {
            let (h, m, _) = offset.as_hms();
            text.byte(if offset.is_negative() { b'-' } else { b'+' });
            text.number(u32::from(h.unsigned_abs()), 2);
            text.byte(b':');
            text.number(u32::from(m.unsigned_abs()), 2);
        }
        Some(text)
    }

    /// Parses an RFC 3339 timestamp (see the type docs for what is accepted).
    ///
    /// # Errors
    ///
    /// [`TimestampError::Naive`] without an offset, [`TimestampError::Invalid`] otherwise.
    pub fn parse(text: &str) -> Result<Self, TimestampError> {
        let b = text.as_bytes();
        let invalid = TimestampError::Invalid;
        if b.len() < 19 || b[4] != b'-' || b[7] != b'-' || b[13] != b':' || b[16] != b':' {
            return Err(invalid);
        }
        if !matches!(b[10], b'T' | b't' | b' ') {
            return Err(invalid);
        }
        let year = digits(&b[0..4])? as i32;
        let month = Month::try_from(digits(&b[5..7])? as u8).map_err(|_| invalid)?;
        let day = digits(&b[8..10])? as u8;
        let hour = digits(&b[11..13])? as u8;
        let minute = digits(&b[14..16])? as u8;
        let second = digits(&b[17..19])? as u8;
        let mut rest = &b[19..];
        let mut nanos = 0u32;
        if let Some((b'.', fraction)) = rest.split_first() {
            let n = fraction.iter().take_while(|d| d.is_ascii_digit()).count();
            if n == 0 {
                return Err(invalid);
            }
            // Whole microseconds, finer digits truncated (as Python's fromisoformat).
            for (i, d) in fraction[..n].iter().enumerate().take(6) {
                nanos += u32::from(d - b'0') * 10u32.pow(8 - i as u32);
            }
            rest = &fraction[n..];
        }
        let offset = match rest {
            [] => return Err(TimestampError::Naive),
            [b'Z'] => UtcOffset::UTC,
            [sign @ (b'+' | b'-'), h1, h2, b':', m1, m2] => {
                let hours = digits(&[*h1, *h2])? as i8;
                let minutes = digits(&[*m1, *m2])? as i8;
                let (hours, minutes) = if *sign == b'-' {
                    (-hours, -minutes)
                } else {
                    (hours, minutes)
                };
                UtcOffset::from_hms(hours, minutes, 0).map_err(|_| invalid)?
            }
            _ => return Err(invalid),
        };
        let date = Date::from_calendar_date(year, month, day).map_err(|_| invalid)?;
        let time = Time::from_hms_nano(hour, minute, second, nanos).map_err(|_| invalid)?;
        Ok(Self(
            PrimitiveDateTime::new(date, time).assume_offset(offset),
        ))
    }
}

fn digits(bytes: &[u8]) -> Result<u32, TimestampError> {
    bytes.iter().try_fold(0u32, |acc, &d| {
        if d.is_ascii_digit() {
            Ok(acc * 10 + u32::from(d - b'0'))
        } else {
            Err(TimestampError::Invalid)
        }
    })
}

impl fmt::Display for Timestamp {
    /// Written digit by digit into a stack buffer rather than through `write!`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.text() {
            Some(text) => f.write_str(text.as_str()),
            // A year outside 0..=9999 (never parsed from the wire, only built): as
            // `{:04}` does.
            None => write!(f, "{:05}", self.0.year()).and_then(|()| {
                let rest = Self(self.0.replace_year(2000).expect("2000 is valid")).to_string();
                f.write_str(&rest[4..])
            }),
        }
    }
}

/// A timestamp's text on the stack: `YYYY-MM-DDTHH:MM:SS.ffffff+HH:MM` is 32 bytes.
#[derive(Default)]
struct Text {
    bytes: [u8; 32],
    len: usize,
}

impl Text {
    /// `value` in exactly `digits` digits (zero-padded).
    fn number(&mut self, mut value: u32, digits: usize) {
        for slot in self.bytes[self.len..self.len + digits].iter_mut().rev() {
            *slot = b'0' + (value % 10) as u8;
            value /= 10;
        }
        self.len += digits;
    }

    fn byte(&mut self, byte: u8) {
        self.bytes[self.len] = byte;
        self.len += 1;
    }

    fn as_str(&self) -> &str {
        std::str::from_utf8(&self.bytes[..self.len]).expect("ASCII digits and separators")
    }
}

impl std::str::FromStr for Timestamp {
    type Err = TimestampError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}

impl serde::Serialize for Timestamp {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self.text() {
            Some(text) => serializer.serialize_str(text.as_str()),
            None => serializer.collect_str(self),
        }
    }
}

impl<'de> serde::Deserialize<'de> for Timestamp {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Visitor;
        impl serde::de::Visitor<'_> for Visitor {
            type Value = Timestamp;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("an RFC 3339 timestamp with a UTC offset")
            }
            fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<Timestamp, E> {
                Timestamp::parse(v).map_err(E::custom)
            }
        }
        deserializer.deserialize_str(Visitor)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn moves_by_std_durations_both_ways() {
        let at = Timestamp::parse("2026-11-23T10:15:06Z").unwrap();
        let later = at
            .checked_add(std::time::Duration::from_millis(1500))
            .unwrap();
        assert_eq!(later.to_string(), "2026-11-23T10:15:07.500000Z");
        assert_eq!(
            later.checked_sub(std::time::Duration::from_millis(1500)),
            Some(at)
        );
        assert_eq!(at.checked_add(std::time::Duration::MAX), None);
    }

    #[test]
    fn accepts_what_the_reference_accepts() {
        let cases = [
            ("2026-11-23T10:15:06.370359Z", "2026-11-23T10:15:06.370359Z"),
            ("2026-11-23 10:15:06Z", "2026-11-23T10:15:06Z"),
            ("2026-11-23t10:15:06+00:00", "2026-11-23T10:15:06Z"),
            (
                "2026-11-23T10:15:06.1+02:00",
                "2026-11-23T10:15:06.100000+02:00",
            ),
            (
                "2026-11-23T10:15:06.123456789012-05:30",
                "2026-11-23T10:15:06.123456-05:30",
            ),
        ];
        for (input, shown) in cases {
            assert_eq!(
                Timestamp::parse(input).unwrap().to_string(),
                shown,
                "{input}"
            );
        }
    }

    #[test]
    fn refuses_naive_and_malformed() {
        assert_eq!(
            Timestamp::parse("2026-11-23T10:15:06"),
            Err(TimestampError::Naive)
        );
        assert_eq!(
            Timestamp::parse("2026-11-23T10:15:06.5"),
            Err(TimestampError::Naive)
        );
        for bad in [
            "2026-11-23T10:15:06z",
            "2026-11-23T24:00:00Z",
            "2026-11-23T10:15:60Z",
            "2026-02-30T10:15:06Z",
            "2026-11-23T10:15:06.Z",
            "2026-11-23X10:15:06Z",
            "20261123T101506Z",
            "",
        ] {
            assert_eq!(Timestamp::parse(bad), Err(TimestampError::Invalid), "{bad}");
        }
    }

    #[test]
    fn precision_is_whole_microseconds_and_prints_exactly() {
        let t = Timestamp::parse("2026-11-23T10:31:25.478658652Z").unwrap();
        assert_eq!(t.as_offset_date_time().nanosecond(), 478_658_000);
        assert_eq!(Timestamp::parse(&t.to_string()), Ok(t));
        let now = Timestamp::now_utc();
        assert_eq!(Timestamp::parse(&now.to_string()), Ok(now));
    }

    /// `write_text` and serde write what `Display` writes, the years only `time` values
    /// hold (outside 0..=9999) included: pydantic's spelling in its years, a signed
    /// four-digit year beyond them.
    #[test]
    fn text_serde_and_display_agree() {
        let cases = [
            ("2026-11-23T10:15:06.370359Z", "2026-11-23T10:15:06.370359Z"),
            ("2026-11-23T10:15:06.000000+00:00", "2026-11-23T10:15:06Z"),
            ("0001-01-01T00:00:00-05:30", "0001-01-01T00:00:00-05:30"),
            (
                "9999-12-31T23:59:59.000001+14:00",
                "9999-12-31T23:59:59.000001+14:00",
            ),
        ];
        let built = |year| {
            let t = Timestamp::parse("2026-01-02T03:04:05.000006Z").unwrap();
            Timestamp(t.0.replace_year(year).unwrap())
        };
        let mut all: Vec<(Timestamp, String)> = cases
            .iter()
            .map(|(wire, text)| (Timestamp::parse(wire).unwrap(), (*text).to_owned()))
            .collect();
        all.push((built(-1), "-0001-01-02T03:04:05.000006Z".to_owned()));
        all.push((built(-44), "-0044-01-02T03:04:05.000006Z".to_owned()));
        for (t, text) in all {
            assert_eq!(t.to_string(), text);
            let mut written = b"prefix:".to_vec();
            t.write_text(&mut written);
            assert_eq!(written, format!("prefix:{text}").into_bytes());
            assert_eq!(serde_json::to_string(&t).unwrap(), format!("\"{text}\""));
        }
    }

    #[test]
    fn offsets_compare_as_instants() {
        let a = Timestamp::parse("2026-11-23T12:00:00+02:00").unwrap();
        let b = Timestamp::parse("2026-11-23T10:00:30Z").unwrap();
        assert_eq!(b.duration_since(a), time::Duration::seconds(30));
    }
}
