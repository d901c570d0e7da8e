//! Reads back a junit.xml the suite wrote (by quick-junit's own reader): per case its outcome,
//! the accepted alternative the kernel showed and a known kernel bug; the run's properties.
//! Used by `compare` and by the matrix of `--emulate-s390 all`. Older reports carry less (no
//! xfail type, no notes): what is missing reads as absent, never as an error.

use quick_junit::{NonSuccessKind, Report, TestCaseStatus};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// A case's outcome as a report records it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    Pass,
    Fail,
    Error,
    Skip,
    /// A known kernel bug (JUnit `skipped type="xfail"`).
    Xfail,
}

impl Status {
    /// Failed or errored: what makes a run red.
    pub fn is_failure(self) -> bool {
        matches!(self, Status::Fail | Status::Error)
    }

    pub fn label(self) -> &'static str {
        match self {
            Status::Pass => "pass",
            Status::Fail => "FAIL",
            Status::Error => "ERROR",
            Status::Skip => "skip",
            Status::Xfail => "XFAIL",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct CaseResult {
    pub status: Status,
    /// The accepted alternatives this kernel showed (the "this kernel showed ..." notes).
    pub showed: Vec<String>,
    /// The failure, skip or known-bug message.
    pub message: Option<String>,
}

/// One run's report.
#[derive(Debug, Clone, Default)]
pub struct RunResults {
    /// The file read.
    pub path: PathBuf,
    /// The run properties (backend, kernel_release, arch, machine, capabilities, seed, ...),
    /// as the first suite that carries each one records it.
    pub properties: BTreeMap<String, String>,
    pub cases: BTreeMap<String, CaseResult>,
}

/// The junit.xml a path names: the file itself, a run directory holding it, or a report
/// directory whose `latest` holds it.
pub fn junit_path(p: &Path) -> PathBuf {
    if p.is_dir() {
        let direct = p.join("junit.xml");
        if direct.is_file() {
            return direct;
        }
        let latest = p.join("latest").join("junit.xml");
        if latest.is_file() {
            return latest;
        }
        return direct;
    }
    p.to_path_buf()
}

/// Reads a report (see `junit_path`); the error is one line naming the file.
pub fn read(p: &Path) -> Result<RunResults, String> {
    let path = junit_path(p);
    let xml = std::fs::read_to_string(&path).map_err(|e| format!("{}: {e}", path.display()))?;
    let mut r = parse(&xml).map_err(|e| format!("{}: {e}", path.display()))?;
    r.path = path;
    Ok(r)
}

/// Parses junit.xml text.
pub fn parse(xml: &str) -> Result<RunResults, String> {
    let report = Report::deserialize_from_str(xml).map_err(|e| format!("not JUnit XML: {e}"))?;
    let mut out = RunResults::default();
    for suite in &report.test_suites {
        for p in &suite.properties {
            out.properties
                .entry(p.name.to_string())
                .or_insert_with(|| p.value.to_string());
        }
        for case in &suite.test_cases {
            let (status, message) = match &case.status {
                TestCaseStatus::Success { .. } => (Status::Pass, None),
                TestCaseStatus::NonSuccess { kind, message, .. } => (
                    match kind {
                        NonSuccessKind::Failure => Status::Fail,
                        NonSuccessKind::Error => Status::Error,
                    },
                    message.as_ref().map(|m| m.to_string()),
                ),
                TestCaseStatus::Skipped { ty, message, .. } => (
                    if ty.as_ref().is_some_and(|t| t.as_str() == "xfail") {
                        Status::Xfail
                    } else {
                        Status::Skip
                    },
                    message.as_ref().map(|m| m.to_string()),
                ),
            };
            let showed = case
                .system_out
                .as_ref()
                .map(|o| {
                    o.lines()
                        .filter_map(|l| l.split_once("this kernel showed ").map(|(_, s)| s))
                        .map(str::to_string)
                        .collect()
                })
                .unwrap_or_default();
            out.cases.insert(
                case.name.to_string(),
                CaseResult {
                    status,
                    showed,
                    message,
                },
            );
        }
    }
    if report.test_suites.is_empty() {
        return Err("no <testsuite> in the report".into());
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    const XML: &str = r#"<?xml version="1.0" encoding="UTF-8"?>
<testsuites name="kvm-conformance" tests="4" failures="1" errors="0">
  <testsuite name="ioeventfd" tests="4" failures="1" errors="0" skipped="2">
    <properties>
      <property name="backend" value="live"/>
      <property name="kernel_release" value="6.12.107"/>
    </properties>
    <testcase name="ioeventfd::len::accepts_1"/>
    <testcase name="ioeventfd::len::rejects_3"><failure message="expected EINVAL, got 0">long text</failure></testcase>
    <testcase name="ioeventfd::x::alt"><system-out>note: this kernel showed EINVAL (1 MiB granularity)
</system-out></testcase>
    <testcase name="ioeventfd::x::bug"><skipped type="xfail" message="known kernel bug: drops keys"/></testcase>
    <testcase name="ioeventfd::x::skip"><skipped message="needs s390x"/></testcase>
  </testsuite>
</testsuites>"#;

    #[test]
    fn reads_outcomes_alternatives_bugs_and_properties() {
        let r = parse(XML).unwrap();
        assert_eq!(r.properties["backend"], "live");
        assert_eq!(r.properties["kernel_release"], "6.12.107");
        let st = |id: &str| r.cases[id].status;
        assert_eq!(st("ioeventfd::len::accepts_1"), Status::Pass);
        assert_eq!(st("ioeventfd::len::rejects_3"), Status::Fail);
        assert_eq!(
            r.cases["ioeventfd::len::rejects_3"].message.as_deref(),
            Some("expected EINVAL, got 0")
        );
        assert_eq!(
            r.cases["ioeventfd::x::alt"].showed,
            ["EINVAL (1 MiB granularity)"]
        );
        assert_eq!(st("ioeventfd::x::bug"), Status::Xfail);
        assert_eq!(st("ioeventfd::x::skip"), Status::Skip);
    }

    #[test]
    fn refuses_what_is_not_a_report() {
        assert!(parse("<html/>").is_err());
        assert!(parse("not xml <<").is_err());
    }
}
