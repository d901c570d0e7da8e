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
    /// The case met a documented kernel bug on a kernel where that bug is known
    /// (`CaseReport::known_bug` names it): reported, counted, not a failure unless `--strict`.
    KnownBug,
}

/// A documented kernel bug a case knows of on this kernel.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct KnownBug {
    /// The bug in one line, with the kernel code that has it.
    pub bug: String,
    /// Whether this run showed it. `false`: the kernel is one where the bug is known, but the
    /// case did not see it (the kernel may have the fix).
    pub seen: bool,
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
    /// The documented kernel bug this case knows of on this kernel, seen or not.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    /// Boxed: reports travel as the error of every check (`Step`), so they stay small.
    pub known_bug: Option<Box<KnownBug>>,
    /// What the kernel logged while the case ran (live only; boxed like the known bug).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kernel_log: Option<Box<KernelLog>>,
}

/// The kernel log lines of one case (/dev/kmsg, dmesg format, possibly capped) and the
/// sequence numbers of the first and last record it saw, so that the run can tell the lines
/// logged outside every case.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct KernelLog {
    pub lines: Vec<String>,
    pub first_seq: u64,
    pub last_seq: u64,
}

impl CaseReport {
    pub fn pass(summary: impl Into<String>) -> Self {
        Self {
            status: Status::Pass,
            summary: summary.into(),
            details: vec![],
            notes: vec![],
            known_bug: None,
            kernel_log: None,
        }
    }
    pub fn fail(summary: impl Into<String>) -> Self {
        Self {
            status: Status::Fail,
            summary: summary.into(),
            details: vec![],
            notes: vec![],
            known_bug: None,
            kernel_log: None,
        }
    }
    pub fn skip(reason: impl Into<String>) -> Self {
        Self {
            status: Status::Skip,
            summary: reason.into(),
            details: vec![],
            notes: vec![],
            known_bug: None,
            kernel_log: None,
        }
    }
    pub fn error(summary: impl Into<String>) -> Self {
        Self {
            status: Status::Error,
            summary: summary.into(),
            details: vec![],
            notes: vec![],
            known_bug: None,
            kernel_log: None,
        }
    }
    /// The case met the documented kernel bug `bug` where it is known; `summary` says what it
    /// saw.
    pub fn known_bug(bug: impl Into<String>, summary: impl Into<String>) -> Self {
        Self {
            status: Status::KnownBug,
            summary: summary.into(),
            details: vec![],
            notes: vec![],
            known_bug: Some(Box::new(KnownBug {
                bug: bug.into(),
                seen: true,
            })),
            kernel_log: None,
        }
    }
    /// The kernel is one where `bug` is known, but this case did not see it: the report keeps
    /// its status and says so in a note.
    pub fn with_bug_not_seen(mut self, bug: impl Into<String>) -> Self {
        let bug = bug.into();
        self.notes.push(format!(
            "known kernel bug not seen: {bug}; it may be fixed in this kernel"
        ));
        self.known_bug = Some(Box::new(KnownBug { bug, seen: false }));
        self
    }
    /// The bug text when this case saw a known kernel bug (also after `--strict` made it a
    /// failure).
    pub fn bug_seen(&self) -> Option<&str> {
        self.known_bug
            .as_ref()
            .filter(|b| b.seen)
            .map(|b| b.bug.as_str())
    }
    /// The bug text when a known kernel bug was expected here but not seen.
    pub fn bug_not_seen(&self) -> Option<&str> {
        self.known_bug
            .as_ref()
            .filter(|b| !b.seen)
            .map(|b| b.bug.as_str())
    }
    /// `--strict`: a known kernel bug becomes a failure (it stays listed as a known bug).
    pub fn strict(mut self) -> Self {
        if self.status == Status::KnownBug {
            self.status = Status::Fail;
            let bug = self.bug_seen().unwrap_or_default().to_string();
            self.summary = format!(
                "known kernel bug (failing with --strict): {bug}: {}",
                self.summary
            );
        }
        self
    }
    pub fn with_details(mut self, details: Vec<String>) -> Self {
        self.details.extend(details);
        self
    }
    pub fn with_note(mut self, note: impl Into<String>) -> Self {
        self.notes.push(note.into());
        self
    }
    pub fn with_kernel_log(mut self, log: KernelLog) -> Self {
        self.kernel_log = Some(Box::new(log));
        self
    }
    /// The kernel log lines of the case (none when nothing was logged or not watched).
    pub fn kernel_lines(&self) -> &[String] {
        self.kernel_log.as_ref().map_or(&[], |k| &k.lines)
    }
}

/// A finished case as the reporters see it.
#[derive(Debug, Clone)]
pub struct CaseResult {
    pub id: String,
    pub suite: String,
    pub seed_section: String,
    /// Where the case is defined (`file:line`).
    pub location: Option<String>,
    pub report: CaseReport,
    pub duration: Duration,
    /// What the case printed (child process stdout and stderr), if anything.
    pub output: String,
    /// The command that reruns only this case.
    pub rerun: String,
    /// Why the case did not run, when the runner decided it did not (its report is then a
    /// skip with the same words).
    pub not_run: Option<NotRun>,
}

/// Why the runner did not run a case.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NotRun {
    /// Marked ignored and not asked for (`--ignored`, `--include-ignored`).
    Ignored,
    /// `--bench`: these cases are tests.
    Bench,
    /// A signal stopped the run before or while it ran.
    Interrupted,
    /// The runner's process could tell it would skip (architecture, capability).
    Precheck,
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
    /// Known kernel bugs seen (status `KnownBug`; with `--strict` they count as failed instead).
    pub known_bugs: usize,
    /// Passed cases whose known kernel bug was not seen (also counted in `passed`).
    pub bugs_not_seen: usize,
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
            Status::KnownBug => c.known_bugs += 1,
        }
        if r.report.status == Status::Pass && r.report.bug_not_seen().is_some() {
            c.bugs_not_seen += 1;
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
            location: None,
            report,
            duration: Duration::from_millis(3),
            output: String::new(),
            rerun: format!("./run.sh --exact '{id}'"),
            not_run: None,
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
                CaseResult {
                    location: Some("suites/src/alpha.rs:7".into()),
                    ..result(
                        "alpha::a::fail",
                        "alpha",
                        CaseReport::fail("KVM_IOEVENTFD: expected -1 EINVAL, got 0")
                            .with_details(vec!["expected: -1 EINVAL".into(), "actual:   0".into()]),
                    )
                },
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
                result(
                    "alpha::a::bug_not_seen",
                    "alpha",
                    CaseReport::pass("2 checks passed").with_bug_not_seen("bug B drops a key"),
                ),
                result(
                    "beta::b::known_bug",
                    "beta",
                    CaseReport::known_bug("bug A drops a key", "key read back 0x00, expected 0x30")
                        .with_details(vec!["known here: classic gmap".into()]),
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
                passed: 2,
                failed: 1,
                skipped: 1,
                errors: 1,
                known_bugs: 1,
                bugs_not_seen: 1,
            }
        );
    }

    #[test]
    fn known_bug_survives_the_trip_between_processes() {
        for r in sample_run().results {
            let json = serde_json::to_string(&r.report).unwrap();
            let back: CaseReport = serde_json::from_str(&json).unwrap();
            assert_eq!(back, r.report, "{json}");
        }
        // A report without the field (an older child) still reads.
        let old = r#"{"status":"Pass","summary":"s","details":[],"notes":[]}"#;
        assert_eq!(
            serde_json::from_str::<CaseReport>(old).unwrap(),
            CaseReport::pass("s")
        );
    }

    #[test]
    fn strict_turns_a_known_bug_into_a_failure_that_stays_listed() {
        let r = CaseReport::known_bug("bug A", "key read back 0").strict();
        assert_eq!(r.status, Status::Fail);
        assert_eq!(
            r.summary,
            "known kernel bug (failing with --strict): bug A: key read back 0"
        );
        assert_eq!(r.bug_seen(), Some("bug A"));
        let not_seen = CaseReport::pass("ok").with_bug_not_seen("bug A").strict();
        assert_eq!(not_seen.status, Status::Pass);
        assert_eq!(not_seen.bug_not_seen(), Some("bug A"));
        assert_eq!(
            not_seen.notes,
            ["known kernel bug not seen: bug A; it may be fixed in this kernel"]
        );
    }
}
