//! The result model every stage shares: a case body produces a `CaseReport`, the runner turns
//! it into a `CaseResult`, and the reporters read only `RunRecord`.

use serde::{Deserialize, Serialize};
use std::time::{Duration, SystemTime};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Status {
    Pass,
    Fail,
    /// Not applicable on this host (missing arch, capability, privilege).
    Skip,
    /// The case could not be judged: it panicked, crashed or timed out.
    Error,
}

/// What a case body reports about itself.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CaseReport {
    pub status: Status,
    /// One line: the reason for a skip or failure, or what passed.
    pub summary: String,
    /// Further lines: expected vs. actual, the argument struct field by field, seeds.
    pub details: Vec<String>,
    /// Observations worth reporting even on a pass: which accepted alternative this kernel
    /// showed, documentation deviations.
    pub notes: Vec<String>,
}

impl CaseReport {
    pub fn pass(summary: impl Into<String>) -> Self {
        Self {
            status: Status::Pass,
            summary: summary.into(),
            details: vec![],
            notes: vec![],
        }
    }
    pub fn fail(summary: impl Into<String>) -> Self {
        Self {
            status: Status::Fail,
            summary: summary.into(),
            details: vec![],
            notes: vec![],
        }
    }
    pub fn skip(reason: impl Into<String>) -> Self {
        Self {
            status: Status::Skip,
            summary: reason.into(),
            details: vec![],
            notes: vec![],
        }
    }
    pub fn error(summary: impl Into<String>) -> Self {
        Self {
            status: Status::Error,
            summary: summary.into(),
            details: vec![],
            notes: vec![],
        }
    }
    pub fn with_details(mut self, details: Vec<String>) -> Self {
        self.details.extend(details);
        self
    }
    pub fn with_note(mut self, note: impl Into<String>) -> Self {
        self.notes.push(note.into());
        self
    }
}

/// A finished case as the reporters see it.
#[derive(Debug, Clone)]
pub struct CaseResult {
    pub id: String,
    pub suite: String,
    pub seed_section: String,
    pub report: CaseReport,
    pub duration: Duration,
    /// What the case printed (child process stdout and stderr), if anything.
    pub output: String,
    /// The command that reruns only this case.
    pub rerun: String,
}

/// A whole run: its properties and its results in declaration order.
#[derive(Debug, Clone)]
pub struct RunRecord {
    pub name: String,
    pub properties: Vec<(String, String)>,
    /// Suite names in declaration order (a suite with no run case still gets reported).
    pub suites: Vec<String>,
    pub results: Vec<CaseResult>,
    pub started: SystemTime,
    pub duration: Duration,
    /// A one-line banner (e.g. "no KVM: ..." or "SIMULATED kernel") shown at the top.
    pub banner: Vec<String>,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Counts {
    pub passed: usize,
    pub failed: usize,
    pub skipped: usize,
    pub errors: usize,
}

impl RunRecord {
    pub fn counts(&self) -> Counts {
        counts(self.results.iter())
    }
}

pub fn counts<'a>(results: impl Iterator<Item = &'a CaseResult>) -> Counts {
    let mut c = Counts::default();
    for r in results {
        match r.report.status {
            Status::Pass => c.passed += 1,
            Status::Fail => c.failed += 1,
            Status::Skip => c.skipped += 1,
            Status::Error => c.errors += 1,
        }
    }
    c
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// A run with one result of every status, shared by the reporter tests.
    pub fn sample_run() -> RunRecord {
        let result = |id: &str, suite: &str, report: CaseReport| CaseResult {
            id: id.into(),
            suite: suite.into(),
            seed_section: "api.txt 4.56 KVM_IOEVENTFD (seeds/004)".into(),
            report,
            duration: Duration::from_millis(3),
            output: String::new(),
            rerun: format!("./run.sh --exact '{id}'"),
        };
        RunRecord {
            name: "kvm-conformance".into(),
            properties: vec![
                ("backend".into(), "live".into()),
                ("seed".into(), "7".into()),
            ],
            suites: vec!["alpha".into(), "beta".into(), "empty".into()],
            results: vec![
                result(
                    "alpha::a::pass",
                    "alpha",
                    CaseReport::pass("1 checks passed").with_note("this kernel showed 0: NEW"),
                ),
                result(
                    "alpha::a::fail",
                    "alpha",
                    CaseReport::fail("KVM_IOEVENTFD: expected -1 EINVAL, got 0")
                        .with_details(vec!["expected: -1 EINVAL".into(), "actual:   0".into()]),
                ),
                result(
                    "beta::b::skip",
                    "beta",
                    CaseReport::skip("needs s390x; kernel is x86_64"),
                ),
                result(
                    "beta::b::error",
                    "beta",
                    CaseReport::error("timed out after 30 s and was killed"),
                ),
            ],
            started: SystemTime::UNIX_EPOCH + Duration::from_secs(1_790_000_000),
            duration: Duration::from_millis(12),
            banner: vec!["SIMULATED s390 kernel".into()],
        }
    }

    #[test]
    fn counts_every_status() {
        assert_eq!(
            sample_run().counts(),
            Counts {
                passed: 1,
                failed: 1,
                skipped: 1,
                errors: 1
            }
        );
    }
}
