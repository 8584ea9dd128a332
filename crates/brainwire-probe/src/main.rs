//! `brainwire-probe check --url URL --token T --hmac-secret S [--format json|table]
//! [--deadline SECONDS]`:
//! checks a live v2 brain over the wire, each check on a fresh connection, and prints
//! one JSON line per check (`{"check", "result", "expected", "observed", "detail",
//! "rule"}`) and a summary line. Exits 0 only when no check failed. The checks and the
//! rules they enforce are listed in `docs/probe.md`.

#![forbid(unsafe_code)]
#![deny(missing_docs)]

mod checks;
mod wire;

use std::process::ExitCode;

use brainwire_sign::decode_agent_hmac_secret;
use serde_json::json;

use checks::{Target, Verdict};

const USAGE: &str =
    "usage: brainwire-probe check --url URL --token TOKEN --hmac-secret SECRET [--format json|table] [--deadline SECONDS]";

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
    if args.next().as_deref() != Some("check") {
        return Err("the only mode is `check`".into());
    }
    let (mut url, mut token, mut secret, mut table) = (None, None, None, false);
    let mut deadline = std::time::Duration::from_secs(5);
    while let Some(arg) = args.next() {
        let mut value = || args.next().ok_or(format!("{arg} needs a value"));
        match arg.as_str() {
            "--url" => url = Some(value()?),
            "--token" => token = Some(value()?),
            "--hmac-secret" => secret = Some(value()?),
            "--deadline" => {
                let seconds: f64 = value()?
                    .parse()
                    .map_err(|_| "--deadline needs seconds".to_owned())?;
                deadline = std::time::Duration::try_from_secs_f64(seconds)
                    .map_err(|_| "--deadline needs positive seconds".to_owned())?;
            }
            "--format" => match value()?.as_str() {
                "json" => table = false,
                "table" => table = true,
                other => return Err(format!("unknown format {other:?}")),
            },
            other => return Err(format!("unknown argument {other:?}")),
        }
    }
    let secret = decode_agent_hmac_secret(&secret.ok_or("--hmac-secret is required")?)
        .map_err(|e| format!("--hmac-secret: {e}"))?;
    let target = Target {
        url: url.ok_or("--url is required")?,
        token: token.ok_or("--token is required")?,
        secret,
        deadline,
    };
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
                outcome.to_json()["result"].as_str().unwrap_or_default(),
                outcome.expected,
                outcome.observed
            );
        } else {
            println!("{}", outcome.to_json());
        }
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
    Ok(if fail == 0 && skip == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}
