//! The result model every stage shares: a case body produces a `CaseReport`, the runner turns
//! it into a `CaseResult`, and the reporters read only `RunRecord`.

use serde::{Deserialize, Serialize};
use std::time::Duration;

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
        Self { status: Status::Pass, summary: summary.into(), details: vec![], notes: vec![] }
    }
    pub fn fail(summary: impl Into<String>) -> Self {
        Self { status: Status::Fail, summary: summary.into(), details: vec![], notes: vec![] }
    }
    pub fn skip(reason: impl Into<String>) -> Self {
        Self { status: Status::Skip, summary: reason.into(), details: vec![], notes: vec![] }
    }
    pub fn error(summary: impl Into<String>) -> Self {
        Self { status: Status::Error, summary: summary.into(), details: vec![], notes: vec![] }
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
    pub started: std::time::SystemTime,
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
