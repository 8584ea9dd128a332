//! `--report FILE`: the check results as one self-contained HTML page (no scripts, no
//! external styles), each check with its rule, what it expected, what the brain did, and
//! the transcript of frames.

use std::fmt::Write;

use crate::checks::{Outcome, Verdict};

/// The page for `outcomes` of a run against `url`.
pub fn html(url: &str, outcomes: &[Outcome]) -> String {
    let count = |verdict| outcomes.iter().filter(|o| o.verdict == verdict).count();
    let mut page = String::new();
    let _ = write!(
        page,
        "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
         <title>brainwire-probe: {url}</title><style>{STYLE}</style></head><body>\n\
         <h1>brainwire-probe check</h1>\n<p>{url}: {} passed, {} failed, {} skipped</p>\n",
        count(Verdict::Pass),
        count(Verdict::Fail),
        count(Verdict::Skip),
        url = escape(url),
    );
    page.push_str(
        "<table><tr><th>check</th><th>result</th><th>expected</th><th>observed</th></tr>\n",
    );
    for outcome in outcomes {
        let _ = writeln!(
            page,
            "<tr class=\"{result}\"><td><a href=\"#{check}\">{check}</a></td><td>{result}</td>\
             <td>{}</td><td>{}</td></tr>",
            escape(&outcome.expected),
            escape(&outcome.observed),
            check = escape(outcome.check),
            result = outcome.verdict.as_str(),
        );
    }
    page.push_str("</table>\n");
    for outcome in outcomes {
        let _ = write!(
            page,
            "<section id=\"{check}\" class=\"{result}\"><h2>{check}: {result}</h2>\n\
             <p>{}</p>\n<dl><dt>expected</dt><dd>{}</dd><dt>observed</dt><dd>{}</dd>",
            escape(outcome.rule),
            escape(&outcome.expected),
            escape(&outcome.observed),
            check = escape(outcome.check),
            result = outcome.verdict.as_str(),
        );
        if !outcome.detail.is_empty() {
            let _ = write!(page, "<dt>detail</dt><dd>{}</dd>", escape(&outcome.detail));
        }
        page.push_str("</dl>\n<pre>");
        for line in &outcome.transcript {
            let _ = writeln!(page, "{}", escape(line));
        }
        page.push_str("</pre></section>\n");
    }
    page.push_str("</body></html>\n");
    page
}

const STYLE: &str = "body{font-family:sans-serif;margin:2em}table{border-collapse:collapse}\
td,th{border:1px solid #ccc;padding:.2em .5em;text-align:left}\
.pass td:nth-child(2),section.pass h2{color:#1a7f37}.fail td:nth-child(2),section.fail h2{color:#cf222e}\
.skip td:nth-child(2),section.skip h2{color:#9a6700}pre{background:#f6f8fa;padding:.5em;white-space:pre-wrap;word-break:break-all}";

/// `text` safe inside HTML text and attribute values.
fn escape(text: &str) -> String {
    let mut escaped = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => escaped.push_str("&amp;"),
            '<' => escaped.push_str("&lt;"),
            '>' => escaped.push_str("&gt;"),
            '"' => escaped.push_str("&quot;"),
            '\'' => escaped.push_str("&#39;"),
            c => escaped.push(c),
        }
    }
    escaped
}

#[cfg(test)]
mod tests {
    use super::*;

    fn outcome(detail: &str, transcript: &str) -> Outcome {
        Outcome {
            check: "bad_mac",
            rule: "001 §signing",
            verdict: Verdict::Fail,
            expected: "close 4403".into(),
            observed: "nothing".into(),
            detail: detail.into(),
            transcript: vec![transcript.into()],
        }
    }

    #[test]
    fn what_the_brain_sent_cannot_become_markup() {
        let page = html(
            "ws://127.0.0.1/ws?a=1&b=2",
            &[outcome(
                "<script>alert(1)</script>",
                r#"< {"x":"</pre><img src=x onerror='y'>"}"#,
            )],
        );
        assert!(!page.contains("<script>"), "{page}");
        assert!(!page.contains("<img"), "{page}");
        assert!(page.contains("&lt;script&gt;alert(1)&lt;/script&gt;"));
        assert!(page.contains("&lt;/pre&gt;&lt;img src=x onerror=&#39;y&#39;&gt;"));
        assert!(page.contains("ws://127.0.0.1/ws?a=1&amp;b=2: 0 passed, 1 failed, 0 skipped"));
        assert_eq!(page.matches("<pre>").count(), 1);
    }
}
