//! `brainwire-probe`: checks and loads a live v2 brain over the wire.
//!
//! - `check --url URL --token T --hmac-secret S [--format json|table] [--deadline SECONDS]
//!   [--report FILE]` runs each check on a fresh connection and prints one JSON line per check
//!   (`{"check", "result", "expected", "observed", "detail", "rule"}`) and a summary line.
//!   Exits 0 only when no check failed (a skip is not a failure). The checks and the rules they enforce are listed
//!   in `docs/probe.md`. `--report` also writes them, with the transcript of frames of
//!   each, as one HTML page.
//! - `load --url URL --token-file F --hmac-secret S --agents N --events M
//!   [--ack-deadline SECONDS] [--time-limit SECONDS] [--format json|table]` runs N agents
//!   (the first N tokens of F, one per line), each sending M events, and prints events per
//!   second, batch-ack latency, reconnects and close codes. Exits 0 only when every event
//!   was acknowledged.

#![forbid(unsafe_code)]
#![deny(missing_docs)]

mod checks;
mod load;
mod report;
mod wire;

use std::process::ExitCode;

use std::collections::HashMap;
use std::time::Duration;

use brainwire_sign::{decode_agent_hmac_secret, Secret};
use indicatif::{ProgressBar, ProgressStyle};
use serde_json::json;

use checks::{Target, Verdict};
use wire::Transcript;

const USAGE: &str = "usage:
  brainwire-probe check --url URL --token TOKEN --hmac-secret SECRET [--format json|table] [--deadline SECONDS] [--report FILE]
  brainwire-probe load --url URL --token-file FILE --hmac-secret SECRET --agents N --events M
                       [--ack-deadline SECONDS] [--time-limit SECONDS] [--format json|table]";

#[tokio::main(flavor = "current_thread")]
async fn main() -> ExitCode {
    match run(std::env::args().skip(1).collect()).await {
        Ok(code) => code,
        Err(message) => {
            eprintln!("{message}\n{USAGE}");
            ExitCode::from(2)
        }
    }
}

async fn run(args: Vec<String>) -> Result<ExitCode, String> {
    let mut args = args.into_iter();
    match args.next().as_deref() {
        Some("check") => check(Flags::parse(args, CHECK_FLAGS)?).await,
        Some("load") => load(Flags::parse(args, LOAD_FLAGS)?).await,
        _ => Err("the mode is `check` or `load`".into()),
    }
}

const CHECK_FLAGS: &[&str] = &[
    "--url",
    "--token",
    "--hmac-secret",
    "--format",
    "--deadline",
    "--report",
];
const LOAD_FLAGS: &[&str] = &[
    "--url",
    "--token-file",
    "--hmac-secret",
    "--agents",
    "--events",
    "--ack-deadline",
    "--time-limit",
    "--format",
];

/// A mode's flags, each with its value.
struct Flags(HashMap<&'static str, String>);

impl Flags {
    fn parse(
        mut args: impl Iterator<Item = String>,
        known: &[&'static str],
    ) -> Result<Self, String> {
        let mut flags = HashMap::new();
        while let Some(arg) = args.next() {
            let flag = known
                .iter()
                .find(|known| **known == arg)
                .ok_or(format!("unknown argument {arg:?}"))?;
            let value = args.next().ok_or(format!("{arg} needs a value"))?;
            flags.insert(*flag, value);
        }
        Ok(Self(flags))
    }

    fn required(&self, flag: &str) -> Result<String, String> {
        self.0
            .get(flag)
            .cloned()
            .ok_or(format!("{flag} is required"))
    }

    fn secret(&self) -> Result<Secret, String> {
        decode_agent_hmac_secret(&self.required("--hmac-secret")?)
            .map_err(|e| format!("--hmac-secret: {e}"))
    }

    fn seconds(&self, flag: &str, default: Duration) -> Result<Duration, String> {
        self.0.get(flag).map_or(Ok(default), |value| {
            value
                .parse::<f64>()
                .ok()
                .and_then(|seconds| Duration::try_from_secs_f64(seconds).ok())
                .filter(|duration| !duration.is_zero())
                .ok_or(format!("{flag} needs positive seconds"))
        })
    }

    fn count(&self, flag: &str) -> Result<usize, String> {
        self.required(flag)?
            .parse()
            .ok()
            .filter(|&n| n >= 1)
            .ok_or(format!("{flag} needs a count of at least 1"))
    }

    /// `--format`: whether the output is the human table.
    fn table(&self) -> Result<bool, String> {
        match self.0.get("--format").map(String::as_str) {
            None | Some("json") => Ok(false),
            Some("table") => Ok(true),
            Some(other) => Err(format!("unknown format {other:?}")),
        }
    }
}

async fn check(flags: Flags) -> Result<ExitCode, String> {
    let table = flags.table()?;
    let target = Target {
        url: flags.required("--url")?,
        token: flags.required("--token")?,
        secret: flags.secret()?,
        deadline: flags.seconds("--deadline", Duration::from_secs(5))?,
        transcript: Transcript::default(),
    };
    let mut outcomes = Vec::new();
    let mut counts = [0usize; 3];
    if table {
        println!(
            "{:<26} {:<6} {:<48} observed",
            "check", "result", "expected"
        );
    }
    for check in checks::all() {
        let outcome = check.run(&target).await;
        counts[match outcome.verdict {
            Verdict::Pass => 0,
            Verdict::Fail => 1,
            Verdict::Skip => 2,
        }] += 1;
        if table {
            println!(
                "{:<26} {:<6} {:<48} {}",
                outcome.check,
                outcome.verdict.as_str(),
                outcome.expected,
                outcome.observed
            );
        } else {
            println!("{}", outcome.to_json());
        }
        outcomes.push(outcome);
    }
    if let Some(file) = flags.0.get("--report") {
        std::fs::write(file, report::html(&target.url, &outcomes))
            .map_err(|e| format!("--report {file}: {e}"))?;
    }
    let [pass, fail, skip] = counts;
    if table {
        println!("{pass} passed, {fail} failed, {skip} skipped");
    } else {
        println!(
            "{}",
            json!({"summary": {"pass": pass, "fail": fail, "skip": skip}})
        );
    }
    // A skip is a check the brain gave no occasion for (no command sent), not a failure.
    Ok(if fail == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}

/// Most bytes of a token file (a token per line; a few thousand agents fit).
const MAX_TOKEN_FILE_BYTES: u64 = 1 << 20;

async fn load(flags: Flags) -> Result<ExitCode, String> {
    let table = flags.table()?;
    let agents = flags.count("--agents")?;
    let file = flags.required("--token-file")?;
    let text = read_capped(&file, MAX_TOKEN_FILE_BYTES).map_err(|e| format!("{file}: {e}"))?;
    let tokens: Vec<String> = text
        .lines()
        .map(str::trim)
        .filter(|line| !line.is_empty())
        .take(agents)
        .map(str::to_owned)
        .collect();
    if tokens.len() < agents {
        return Err(format!(
            "{file} holds {} token(s); --agents {agents} needs one per agent",
            tokens.len()
        ));
    }
    let plan = load::Plan {
        url: flags.required("--url")?,
        tokens,
        secret: flags.secret()?,
        events_per_agent: flags.count("--events")?,
        ack_deadline: flags.seconds("--ack-deadline", Duration::from_secs(90))?,
        time_limit: flags.seconds("--time-limit", Duration::from_secs(600))?,
    };
    // Drawn only when stderr is a terminal.
    let bar = ProgressBar::new((agents * plan.events_per_agent) as u64);
    bar.set_style(
        ProgressStyle::with_template("{bar:40} {pos}/{len} events acked, {per_sec}, {elapsed}")
            .unwrap_or_else(|_| ProgressStyle::default_bar()),
    );
    let progress = bar.clone();
    let report = load::run(&plan, move |events| progress.inc(events)).await;
    bar.finish_and_clear();
    if table {
        print!("{}", report.to_table());
    } else {
        println!("{}", report.to_json());
    }
    Ok(if report.passed() {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}

/// The text of `path`, refused past `cap` bytes.
fn read_capped(path: &str, cap: u64) -> std::io::Result<String> {
    use std::io::Read;
    let mut text = String::new();
    std::fs::File::open(path)?
        .take(cap + 1)
        .read_to_string(&mut text)?;
    if text.len() as u64 > cap {
        return Err(std::io::Error::other(format!("larger than {cap} bytes")));
    }
    Ok(text)
}
