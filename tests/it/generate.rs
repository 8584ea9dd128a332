//! Random JSON documents and v2 frames with the values that break naive ports: integers
//! beyond 64 bits, negative zero, floats of every magnitude in every spelling, strings with
//! every escape class, astral characters, U+2028, empty and deep containers, keys that
//! sort differently by bytes and by UTF-16. Generated as a tree so that a failing case can
//! be shrunk.

use rand::rngs::StdRng;
use rand::Rng;

/// A JSON document, each leaf kept as the exact text it is spelled with.
#[derive(Debug, Clone, PartialEq)]
pub enum Json {
    /// A literal written as is: `null`, `true`, a number in some spelling, a string with
    /// its quotes and escapes.
    Leaf(String),
    /// An array.
    Array(Vec<Json>),
    /// An object; key spellings include their quotes.
    Object(Vec<(String, Json)>),
}

impl Json {
    /// The document's text, with `ws` between tokens.
    pub fn text(&self, ws: &str) -> String {
        let mut out = String::new();
        self.write(&mut out, ws);
        out
    }

    fn write(&self, out: &mut String, ws: &str) {
        match self {
            Json::Leaf(text) => out.push_str(text),
            Json::Array(items) => {
                out.push('[');
                for (i, item) in items.iter().enumerate() {
                    if i > 0 {
                        out.push(',');
                    }
                    out.push_str(ws);
                    item.write(out, ws);
                }
                out.push(']');
            }
            Json::Object(members) => {
                out.push('{');
                for (i, (key, value)) in members.iter().enumerate() {
                    if i > 0 {
                        out.push(',');
                    }
                    out.push_str(ws);
                    out.push_str(key);
                    out.push_str(ws);
                    out.push(':');
                    value.write(out, ws);
                }
                out.push_str(ws);
                out.push('}');
            }
        }
    }

    /// Simpler documents: each one element or member removed, or one child simplified.
    pub fn shrinks(&self) -> Vec<Json> {
        match self {
            Json::Leaf(text) if text != "0" && text != "null" => {
                vec![Json::Leaf("0".into()), Json::Leaf("null".into())]
            }
            Json::Leaf(_) => Vec::new(),
            Json::Array(items) => {
                let mut out: Vec<Json> = (0..items.len())
                    .map(|i| Json::Array([&items[..i], &items[i + 1..]].concat()))
                    .collect();
                for (i, item) in items.iter().enumerate() {
                    out.extend(item.shrinks().into_iter().map(|s| {
                        let mut copy = items.clone();
                        copy[i] = s;
                        Json::Array(copy)
                    }));
                }
                out
            }
            Json::Object(members) => {
                let mut out: Vec<Json> = (0..members.len())
                    .map(|i| Json::Object([&members[..i], &members[i + 1..]].concat()))
                    .collect();
                for (i, (_, value)) in members.iter().enumerate() {
                    out.extend(value.shrinks().into_iter().map(|s| {
                        let mut copy = members.clone();
                        copy[i].1 = s;
                        Json::Object(copy)
                    }));
                }
                out
            }
        }
    }
}

/// Shrinks `case` while `fails` holds, greedily; returns the smallest failing case found.
pub fn shrink(mut case: Json, mut fails: impl FnMut(&Json) -> bool) -> Json {
    'outer: for _ in 0..200 {
        for candidate in case.shrinks() {
            if fails(&candidate) {
                case = candidate;
                continue 'outer;
            }
        }
        break;
    }
    case
}

/// Characters that stress string handling, each with the ways it may be spelled.
const SPECIAL: &[char] = &[
    '"',
    '\\',
    '/',
    '\u{8}',
    '\u{c}',
    '\n',
    '\r',
    '\t',
    '\u{0}',
    '\u{1f}',
    '\u{7f}',
    '\u{85}',
    '\u{2028}',
    '\u{2029}',
    '\u{feff}',
    '\u{fffe}',
    '\u{ffff}',
    '\u{e000}',
    'é',
    '\u{301}',
    '😀',
    '𝄞',
    '\u{10ffff}',
    'ÿ',
    'a',
    'Z',
    ' ',
];

/// Keys whose byte order and UTF-16 order differ, and near-duplicates.
const KEYS: &[&str] = &[
    "a", "A", "aa", "", " ", "é", "\u{ffff}", "😀", "\u{e000}", "z", "_", "a\u{0}",
];

/// A seeded generator.
pub struct Gen {
    pub rng: StdRng,
}

impl Gen {
    /// A string of exactly `chars` characters, spelled with random escapes.
    pub fn string_of(&mut self, chars: usize) -> String {
        let mut out = String::from('"');
        for _ in 0..chars {
            let c = if self.rng.gen_bool(0.4) {
                SPECIAL[self.rng.gen_range(0..SPECIAL.len())]
            } else if self.rng.gen_bool(0.1) {
                char::from_u32(self.rng.gen_range(0x80..0xD800)).unwrap_or('x')
            } else {
                char::from(self.rng.gen_range(0x20u8..0x7f))
            };
            self.spell(c, &mut out);
        }
        out.push('"');
        out
    }

    /// Appends `c` as JSON string content, raw or escaped.
    fn spell(&mut self, c: char, out: &mut String) {
        let must_escape = c == '"' || c == '\\' || (c as u32) < 0x20;
        let escape = must_escape || self.rng.gen_bool(0.15);
        if !escape {
            out.push(c);
            return;
        }
        let short = match c {
            '"' => Some("\\\""),
            '\\' => Some("\\\\"),
            '/' => Some("\\/"),
            '\u{8}' => Some("\\b"),
            '\u{c}' => Some("\\f"),
            '\n' => Some("\\n"),
            '\r' => Some("\\r"),
            '\t' => Some("\\t"),
            _ => None,
        };
        if let (Some(short), true) = (short, self.rng.gen_bool(0.5)) {
            out.push_str(short);
            return;
        }
        let mut units = [0u16; 2];
        for unit in c.encode_utf16(&mut units) {
            if self.rng.gen_bool(0.5) {
                out.push_str(&format!("\\u{unit:04x}"));
            } else {
                out.push_str(&format!("\\u{unit:04X}"));
            }
        }
    }

    fn short_string(&mut self) -> String {
        let n = self.rng.gen_range(0..10);
        self.string_of(n)
    }

    fn key(&mut self) -> String {
        if self.rng.gen_bool(0.5) {
            let key = KEYS[self.rng.gen_range(0..KEYS.len())];
            let mut out = String::from('"');
            for c in key.chars() {
                self.spell(c, &mut out);
            }
            out.push('"');
            out
        } else {
            self.short_string()
        }
    }

    /// A number in a random spelling: exact integers of any size, negative zero, floats
    /// from random bits or random decimal text, in every exponent style.
    pub fn number(&mut self) -> String {
        match self.rng.gen_range(0..10) {
            0 => [
                "0", "-0", "1", "-1", "0.0", "-0.0", "1E2", "1e+2", "1e-07", "5e-324",
            ][self.rng.gen_range(0..10)]
            .into(),
            1 => self.rng.gen::<i64>().to_string(),
            2 => {
                let digits = self.rng.gen_range(19..60);
                let mut s: String = if self.rng.gen_bool(0.5) {
                    "-".into()
                } else {
                    String::new()
                };
                s.push(char::from(b'1' + self.rng.gen_range(0..9u8)));
                s.extend((1..digits).map(|_| char::from(b'0' + self.rng.gen_range(0..10u8))));
                s
            }
            3 | 4 => {
                let f = f64::from_bits(self.rng.gen());
                let f = if f.is_finite() { f } else { 0.5 };
                match self.rng.gen_range(0..3) {
                    0 => format!("{f:?}"),
                    1 => format!("{f:e}"),
                    _ => format!("{f:E}").replace("E", "E+").replace("E+-", "E-"),
                }
            }
            5 => {
                let magnitude = [1e-7, 1e-5, 0.1, 1.0, 1e5, 1e15, 1e16, 1e17, 1e21, 1e22]
                    [self.rng.gen_range(0..10)];
                format!("{:?}", magnitude * self.rng.gen_range(0.5..10.0))
            }
            _ => {
                // Random decimal text: long mantissas test correct rounding.
                let int: String = (0..self.rng.gen_range(1..4))
                    .map(|i| {
                        if i == 0 {
                            char::from(b'1' + self.rng.gen_range(0..9u8))
                        } else {
                            char::from(b'0' + self.rng.gen_range(0..10u8))
                        }
                    })
                    .collect();
                let frac: String = (0..self.rng.gen_range(1..25))
                    .map(|_| char::from(b'0' + self.rng.gen_range(0..10u8)))
                    .collect();
                let exp = self.rng.gen_range(-330..310);
                let sign = if self.rng.gen_bool(0.3) { "-" } else { "" };
                format!("{sign}{int}.{frac}e{exp}")
            }
        }
    }

    /// A random JSON value at most `depth` levels deep.
    pub fn value(&mut self, depth: usize) -> Json {
        let container = depth > 0 && self.rng.gen_bool(0.35);
        if !container {
            return Json::Leaf(match self.rng.gen_range(0..8) {
                0 => "null".into(),
                1 => "true".into(),
                2 => "false".into(),
                3..=5 => self.number(),
                _ => self.short_string(),
            });
        }
        if self.rng.gen_bool(0.05) {
            // A narrow tower, to exercise nesting.
            let height = self.rng.gen_range(1..depth.min(40) + 1);
            let mut v = Json::Leaf(self.number());
            for _ in 0..height {
                v = Json::Array(vec![v]);
            }
            return v;
        }
        let n = self.rng.gen_range(0..5);
        if self.rng.gen_bool(0.5) {
            Json::Array((0..n).map(|_| self.value(depth - 1)).collect())
        } else {
            self.object(n, depth - 1)
        }
    }

    /// An object of `n` members with unique keys (duplicates are a documented
    /// difference, generated only where asked for).
    pub fn object(&mut self, n: usize, depth: usize) -> Json {
        let mut seen = std::collections::HashSet::new();
        let mut members = Vec::new();
        for _ in 0..n {
            let key = self.key();
            let decoded: String = serde_json::from_str(&key).expect("keys are JSON strings");
            if seen.insert(decoded) {
                let value = self.value(depth);
                members.push((key, value));
            }
        }
        Json::Object(members)
    }

    /// A value the reference cannot sign, or (a duplicate key) that brainwire refuses on
    /// purpose: both sides must refuse.
    pub fn poison(&mut self) -> Json {
        match self.rng.gen_range(0..7) {
            0 => Json::Leaf(["NaN", "Infinity", "-Infinity"][self.rng.gen_range(0..3)].into()),
            1 => Json::Leaf(format!(
                "{}e{}",
                self.rng.gen_range(1..10),
                self.rng.gen_range(309..400)
            )),
            2 => Json::Leaf(format!(
                "\"a\\u{:04x}b\"",
                self.rng.gen_range(0xD800..0xE000)
            )),
            3 => Json::Leaf(format!("\"\\u{:04x}\"", self.rng.gen_range(0xDC00..0xE000))),
            4 => Json::Leaf("1".repeat(4301)),
            _ => {
                let key = self.key();
                Json::Object(vec![(key.clone(), self.value(1)), (key, self.value(1))])
            }
        }
    }

    /// Whitespace to put between tokens.
    pub fn whitespace(&mut self) -> &'static str {
        [" ", "", "\n", "\t", " \r\n ", ""][self.rng.gen_range(0..6)]
    }

    fn bounded(&mut self, max_chars: usize) -> Json {
        let n = self.rng.gen_range(0..=max_chars.min(24));
        Json::Leaf(self.string_of(n))
    }

    fn opt(&mut self, leaf: Json) -> Json {
        if self.rng.gen_bool(0.3) {
            Json::Leaf("null".into())
        } else {
            leaf
        }
    }

    fn int(&mut self, max: u64) -> Json {
        Json::Leaf(self.rng.gen_range(0..=max).to_string())
    }

    fn timestamp(&mut self) -> Json {
        let fraction = match self.rng.gen_range(0..3) {
            0 => String::new(),
            1 => format!(".{:06}", self.rng.gen_range(0..1_000_000)),
            _ => format!(".{}", self.rng.gen_range(1..999)),
        };
        let zone = ["Z", "+00:00", "+02:00", "-05:30"][self.rng.gen_range(0..4)];
        Json::Leaf(format!(
            "\"2026-{:02}-{:02}T{:02}:{:02}:{:02}{fraction}{zone}\"",
            self.rng.gen_range(1..13),
            self.rng.gen_range(1..29),
            self.rng.gen_range(0..24),
            self.rng.gen_range(0..60),
            self.rng.gen_range(0..60)
        ))
    }

    fn objects(&mut self, max: usize) -> Json {
        let n = self.rng.gen_range(0..=max);
        Json::Array(
            (0..n)
                .map(|_| {
                    let members = self.rng.gen_range(0..6);
                    self.object(members, 5)
                })
                .collect(),
        )
    }

    fn obj(&mut self) -> Json {
        let members = self.rng.gen_range(0..6);
        self.object(members, 5)
    }

    fn loss(&mut self) -> Json {
        let (buffer, runtime) = (self.rng.gen_range(1..20), self.rng.gen_range(1..20));
        let mut members = vec![
            ("\"buffer_id\"".into(), Json::Leaf(self.string_of(buffer))),
            ("\"runtime_id\"".into(), Json::Leaf(self.string_of(runtime))),
        ];
        for field in ["capacity_evicted_frames", "event_records", "other_frames"] {
            if self.rng.gen_bool(0.5) {
                members.push((format!("\"{field}\""), self.int((1 << 53) - 1)));
            }
        }
        members.push((
            "\"adapter_events\"".into(),
            Json::Object(vec![("\"celery\"".into(), self.int(1000))]),
        ));
        Json::Object(members)
    }

    /// An unsigned v2 frame of a random signed type, within the reference's caps.
    pub fn frame(&mut self, id: &str) -> Json {
        let (frame_type, payload): (&str, Vec<(&str, Json)>) = match self.rng.gen_range(0..9) {
            0 => ("event_batch", vec![("events", self.objects(6))]),
            1 => (
                "event_batch_ack",
                vec![
                    ("acked_id", self.bounded(64)),
                    ("received", self.int(1 << 40)),
                    ("accepted", self.int(1 << 40)),
                    ("rejected", self.int(1 << 40)),
                ],
            ),
            2 => ("heartbeat", {
                let mut p = vec![
                    ("buffer_size", self.int(10_000_000)),
                    ("dropped_events", self.int(10_000_000)),
                ];
                let flush = self.timestamp();
                p.push(("last_flush_at", self.opt(flush)));
                if self.rng.gen_bool(0.5) {
                    p.push(("telemetry_loss", self.loss()));
                }
                p.push((
                    "adapter_health",
                    Json::Object(vec![("\"celery\"".into(), self.bounded(10))]),
                ));
                p
            }),
            3 => ("command", {
                let issued = self.bounded(64);
                let token = self.bounded(64);
                vec![
                    ("action", self.bounded(80)),
                    ("target", self.obj()),
                    ("parameters", self.obj()),
                    (
                        "timeout_seconds",
                        Json::Leaf(self.rng.gen_range(1..=3600).to_string()),
                    ),
                    ("issued_by", self.opt(issued)),
                    ("delivery_claim_token", self.opt(token)),
                ]
            }),
            4 => ("command_ack", {
                let token = self.bounded(64);
                vec![("delivery_claim_token", self.opt(token))]
            }),
            5 => ("command_result", {
                let result = self.obj();
                let error = self.bounded(8192);
                vec![
                    (
                        "status",
                        Json::Leaf(["\"success\"", "\"failed\""][self.rng.gen_range(0..2)].into()),
                    ),
                    ("result", self.opt(result)),
                    ("error", self.opt(error)),
                ]
            }),
            6 => ("registry_delta", {
                let removed = (0..self.rng.gen_range(0..4))
                    .map(|_| self.bounded(20))
                    .collect();
                vec![
                    ("engine", self.bounded(40)),
                    ("added", self.objects(3)),
                    ("removed", Json::Array(removed)),
                    ("updated", self.objects(3)),
                ]
            }),
            7 => (
                "error",
                vec![
                    ("code", self.bounded(80)),
                    ("message", self.bounded(8192)),
                    (
                        "fatal",
                        Json::Leaf(["true", "false"][self.rng.gen_range(0..2)].into()),
                    ),
                ],
            ),
            _ => ("agent_status", {
                let age = Json::Leaf(format!("{:?}", self.rng.gen_range(0.0..315_360_000.0f64)));
                let oldest = Json::Leaf(self.rng.gen_range(0..1000).to_string());
                let connect = self.timestamp();
                vec![
                    ("auth_failure_streak", self.int(1_000_000)),
                    ("buffer_depth", self.int(10_000_000)),
                    ("current_session_age_seconds", self.opt(age)),
                    ("buffer_oldest_age_seconds", self.opt(oldest)),
                    ("last_successful_connect_at", self.opt(connect)),
                    ("agent_version", self.bounded(40)),
                    ("protocol_version", self.bounded(10)),
                    (
                        "engines",
                        Json::Array(
                            (0..self.rng.gen_range(0..4))
                                .map(|_| self.bounded(10))
                                .collect(),
                        ),
                    ),
                ]
            }),
        };
        Json::Object(vec![
            ("\"v\"".into(), Json::Leaf("2".into())),
            ("\"id\"".into(), Json::Leaf(format!("\"{id}\""))),
            ("\"type\"".into(), Json::Leaf(format!("\"{frame_type}\""))),
            (
                "\"payload\"".into(),
                Json::Object(
                    payload
                        .into_iter()
                        .map(|(k, v)| (format!("\"{k}\""), v))
                        .collect(),
                ),
            ),
        ])
    }
}
