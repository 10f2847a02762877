//! Scoring the engine on a question set (`parley eval`).
//!
//! A question set is JSON Lines: `{"question", "expect_any", "abstain", "kind"}`. A reply
//! passes when its answer or one of its quotes contains any `expect_any` string
//! (case-insensitively), or, for `abstain: true`, when parley abstains. A *wrong answer*
//! is an answer that does not pass: the worst outcome, counted separately.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use serde::{Deserialize, Serialize};

use crate::engine::{Engine, Reply};

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct EvalQuestion {
    pub question: String,
    #[serde(default)]
    pub expect_any: Vec<String>,
    #[serde(default)]
    pub abstain: bool,
    #[serde(default = "default_kind")]
    pub kind: String,
}

fn default_kind() -> String {
    "unspecified".into()
}

#[derive(Debug, thiserror::Error)]
#[error("line {line}: {message}")]
pub struct ParseError {
    pub line: usize,
    pub message: String,
}

/// Parses a question set; blank lines are skipped.
pub fn parse(text: &str) -> Result<Vec<EvalQuestion>, ParseError> {
    let mut questions = Vec::new();
    for (i, line) in text.lines().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        let q: EvalQuestion = serde_json::from_str(line).map_err(|e| ParseError {
            line: i + 1,
            message: e.to_string(),
        })?;
        if !q.abstain && q.expect_any.is_empty() {
            return Err(ParseError {
                line: i + 1,
                message: "an answerable question needs at least one expect_any string".into(),
            });
        }
        questions.push(q);
    }
    Ok(questions)
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Verdict {
    /// Answered, and the answer has what was expected.
    Right,
    /// Abstained, as it should.
    Abstained,
    /// Abstained on a question the documents answer.
    Missed,
    /// Answered, but not with what was expected, or a question it should not answer.
    Wrong,
}

impl Verdict {
    pub fn passed(self) -> bool {
        matches!(self, Verdict::Right | Verdict::Abstained)
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct Outcome {
    pub question: String,
    pub kind: String,
    pub abstain: bool,
    pub verdict: Verdict,
    pub fact_id: Option<String>,
    pub confidence: f64,
}

/// Passed out of total.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Tally {
    pub passed: usize,
    pub total: usize,
}

impl Tally {
    fn add(&mut self, passed: bool) {
        self.total += 1;
        self.passed += usize::from(passed);
    }

    pub fn share(&self) -> f64 {
        if self.total == 0 {
            1.0
        } else {
            self.passed as f64 / self.total as f64
        }
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct Report {
    pub by_kind: BTreeMap<String, Tally>,
    pub answerable: Tally,
    pub must_abstain: Tally,
    pub overall: Tally,
    pub wrong: usize,
    /// Answers by confidence band (lower bound, tenths): right out of answered.
    pub calibration: BTreeMap<u8, Tally>,
    pub outcomes: Vec<Outcome>,
}

impl Report {
    pub fn wrong_share(&self) -> f64 {
        if self.overall.total == 0 {
            0.0
        } else {
            self.wrong as f64 / self.overall.total as f64
        }
    }

    /// The report as a person reads it.
    pub fn render(&self, show_failures: bool) -> String {
        let mut out = String::new();
        let pct = |t: &Tally| format!("{:5.1}% ({}/{})", 100.0 * t.share(), t.passed, t.total);
        let _ = writeln!(out, "{:<16} passed", "kind");
        for (kind, tally) in &self.by_kind {
            let _ = writeln!(out, "{kind:<16} {}", pct(tally));
        }
        let _ = writeln!(out);
        let _ = writeln!(
            out,
            "answerable, answered right    {}",
            pct(&self.answerable)
        );
        let _ = writeln!(
            out,
            "out of scope, abstained       {}",
            pct(&self.must_abstain)
        );
        let _ = writeln!(out, "overall                       {}", pct(&self.overall));
        let _ = writeln!(
            out,
            "wrong answers                 {:5.1}% ({}/{})",
            100.0 * self.wrong_share(),
            self.wrong,
            self.overall.total
        );
        let _ = writeln!(out);
        let _ = writeln!(out, "calibration (answers by confidence: right/answered)");
        for (band, tally) in &self.calibration {
            let _ = writeln!(
                out,
                "  {:.1}-{:.1}  {}",
                f64::from(*band) / 10.0,
                f64::from(*band + 1) / 10.0,
                pct(tally)
            );
        }
        if show_failures {
            let failures: Vec<&Outcome> = self
                .outcomes
                .iter()
                .filter(|o| !o.verdict.passed())
                .collect();
            if !failures.is_empty() {
                let _ = writeln!(out);
                let _ = writeln!(out, "failures");
            }
            for o in failures {
                let _ = writeln!(
                    out,
                    "  {:<8} {:<14} {:.2} {:<34} {}",
                    format!("{:?}", o.verdict).to_lowercase(),
                    o.kind,
                    o.confidence,
                    o.fact_id.as_deref().unwrap_or("-"),
                    o.question
                );
            }
        }
        out
    }
}

/// Whether a reply passes the question's expectation.
pub fn judge(question: &EvalQuestion, reply: &Reply<'_>) -> Verdict {
    match (reply.fact(), question.abstain) {
        (None, true) => Verdict::Abstained,
        (None, false) => Verdict::Missed,
        (Some(_), true) => Verdict::Wrong,
        (Some(fact), false) => {
            let texts: Vec<String> = std::iter::once(&fact.answer)
                .chain(fact.citations.iter().map(|c| &c.quote))
                .map(|t| t.to_lowercase())
                .collect();
            let found = question.expect_any.iter().any(|e| {
                let e = e.to_lowercase();
                texts.iter().any(|t| t.contains(&e))
            });
            if found {
                Verdict::Right
            } else {
                Verdict::Wrong
            }
        }
    }
}

pub fn evaluate(engine: &Engine, questions: &[EvalQuestion]) -> Report {
    let mut report = Report {
        by_kind: BTreeMap::new(),
        answerable: Tally::default(),
        must_abstain: Tally::default(),
        overall: Tally::default(),
        wrong: 0,
        calibration: BTreeMap::new(),
        outcomes: Vec::with_capacity(questions.len()),
    };
    for q in questions {
        let reply = engine.ask(&q.question);
        let verdict = judge(q, &reply);
        let passed = verdict.passed();
        report
            .by_kind
            .entry(q.kind.clone())
            .or_default()
            .add(passed);
        if q.abstain {
            report.must_abstain.add(passed);
        } else {
            report.answerable.add(passed);
        }
        report.overall.add(passed);
        if verdict == Verdict::Wrong {
            report.wrong += 1;
        }
        if reply.fact().is_some() {
            let band = ((reply.confidence() * 10.0).floor() as u8).min(9);
            report
                .calibration
                .entry(band)
                .or_default()
                .add(verdict == Verdict::Right);
        }
        report.outcomes.push(Outcome {
            question: q.question.clone(),
            kind: q.kind.clone(),
            abstain: q.abstain,
            verdict,
            fact_id: reply.fact().map(|f| f.id.to_string()),
            confidence: reply.confidence(),
        });
    }
    report
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_lines_and_reports_the_bad_one() {
        let ok = r#"{"question": "q", "expect_any": ["x"], "abstain": false, "kind": "direct"}

{"question": "r", "expect_any": [], "abstain": true, "kind": "near-miss"}"#;
        assert_eq!(parse(ok).unwrap().len(), 2);
        let bad = "{\"question\": \"q\", \"expect_any\": [\"x\"]}\nnot json";
        assert_eq!(parse(bad).unwrap_err().line, 2);
        let empty = r#"{"question": "q", "expect_any": [], "abstain": false}"#;
        assert_eq!(parse(empty).unwrap_err().line, 1);
    }
}
