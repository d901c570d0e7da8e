//! JUnit XML, through quick-junit: one `<testsuite>` per suite (ioctl), one `<testcase>` per
//! case, run properties on every suite. Valid against the Jenkins junit-10 schema. A known kernel
//! bug is written as pytest writes an xfail: `<skipped type="xfail" message="known kernel bug:
//! ...">` with the full text in the body.

use crate::result::{RunRecord, Status};
use quick_junit::{NonSuccessKind, Report, TestCase, TestCaseStatus, TestSuite};

pub fn to_junit(run: &RunRecord) -> Report {
    // No timestamp on <testsuites>: junit-10.xsd allows it on <testsuite> only.
    let mut report = Report::new(run.name.as_str());
    report.set_time(run.duration);
    for suite_name in &run.suites {
        let results: Vec<_> = run
            .results
            .iter()
            .filter(|r| &r.suite == suite_name)
            .collect();
        if results.is_empty() {
            continue;
        }
        let mut suite = TestSuite::new(suite_name.as_str());
        suite.set_timestamp(chrono::DateTime::<chrono::Utc>::from(run.started));
        suite.set_time(results.iter().map(|r| r.duration).sum());
        suite.add_properties(
            run.properties
                .iter()
                .map(|(k, v)| quick_junit::Property::new(k.as_str(), v.as_str())),
        );
        // junit-10.xsd's own attribute for where the suite ran.
        if let Some((_, host)) = run.properties.iter().find(|(k, _)| k == "hostname") {
            suite.extra.insert("hostname".into(), host.as_str().into());
        }
        for r in results {
            let body = describe(r);
            let status = match r.report.status {
                Status::Pass => TestCaseStatus::success(),
                Status::Skip => {
                    let mut s = TestCaseStatus::skipped();
                    s.set_message(r.report.summary.as_str());
                    s
                }
                // As pytest writes an xfail: a skip of type "xfail", the reason in the message.
                Status::KnownBug => {
                    let mut s = TestCaseStatus::skipped();
                    s.set_type("xfail");
                    s.set_message(format!(
                        "known kernel bug: {}",
                        r.report.bug_seen().unwrap_or(&r.report.summary)
                    ));
                    s.set_description(body.as_str());
                    s
                }
                Status::Fail | Status::Error => {
                    let kind = if r.report.status == Status::Fail {
                        NonSuccessKind::Failure
                    } else {
                        NonSuccessKind::Error
                    };
                    let mut s = TestCaseStatus::non_success(kind);
                    s.set_message(r.report.summary.as_str());
                    s.set_type(if kind == NonSuccessKind::Failure {
                        "deviation"
                    } else {
                        "error"
                    });
                    // GitLab ignores the message attribute: the body repeats everything.
                    s.set_description(body.as_str());
                    s
                }
            };
            let mut case = TestCase::new(r.id.as_str(), status);
            case.set_classname(r.suite.as_str());
            case.set_time(r.duration);
            let mut out = String::new();
            if r.report.status == Status::Pass && !r.report.notes.is_empty() {
                out.push_str(&body);
            }
            if !r.output.is_empty() {
                out.push_str(&r.output);
            }
            if !out.is_empty() {
                case.set_system_out(out);
            }
            if !r.report.kernel_lines().is_empty() {
                case.set_system_err(kernel_log_text(r.report.kernel_lines()));
            }
            suite.add_test_case(case);
        }
        report.add_test_suite(suite);
    }
    report
}

/// The kernel log lines of a case, for `<system-err>`.
fn kernel_log_text(lines: &[String]) -> String {
    let mut s = String::from(
        "kernel log while this case ran (/dev/kmsg; with --test-threads > 1 also the lines of the cases running beside it):\n",
    );
    for l in lines {
        s.push_str(l);
        s.push('\n');
    }
    s
}

/// The full text of one result: summary, details, notes, seed section, where the case is
/// defined and the rerun command.
pub fn describe(r: &crate::result::CaseResult) -> String {
    let mut s = format!("{}\n", r.report.summary);
    for d in &r.report.details {
        s.push_str(d);
        s.push('\n');
    }
    for n in &r.report.notes {
        s.push_str("note: ");
        s.push_str(n);
        s.push('\n');
    }
    s.push_str(&format!("checks: {}\n", r.seed_section));
    if let Some(at) = &r.location {
        s.push_str(&format!("defined at: {at}\n"));
    }
    s.push_str(&format!("rerun: {}\n", r.rerun));
    s
}

/// Serialise to the XML text the schema accepts.
pub fn to_xml(run: &RunRecord) -> Result<String, quick_junit::SerializeError> {
    let xml = to_junit(run).to_string()?;
    Ok(strip_testsuites_skipped(&xml))
}

/// quick-junit puts a `skipped` count on `<testsuites>`; the junit-10 schema (the one Jenkins'
/// xunit plugin validates with) allows it on `<testsuite>` only. Drop that one attribute.
fn strip_testsuites_skipped(xml: &str) -> String {
    let Some(start) = xml.find("<testsuites") else {
        return xml.to_string();
    };
    let end = start + xml[start..].find('>').unwrap_or(0);
    let tag = &xml[start..end];
    let Some(attr) = tag.find(" skipped=\"") else {
        return xml.to_string();
    };
    let attr_start = start + attr;
    let value_end = attr_start
        + " skipped=\"".len()
        + xml[attr_start + " skipped=\"".len()..].find('"').unwrap()
        + 1;
    format!("{}{}", &xml[..attr_start], &xml[value_end..])
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::result::tests::sample_run;
    use quick_junit::Report;

    fn read_back() -> (String, Report) {
        let xml = to_xml(&sample_run()).unwrap();
        let report =
            Report::deserialize_from_str(&xml).expect("our XML reads back with quick-junit");
        (xml, report)
    }

    #[test]
    fn one_suite_per_ioctl_and_counts() {
        let (_, r) = read_back();
        let names: Vec<&str> = r.test_suites.iter().map(|s| s.name.as_str()).collect();
        assert_eq!(
            names,
            ["alpha", "beta"],
            "suites with no results are left out"
        );
        assert_eq!((r.tests, r.failures, r.errors), (6, 1, 1));
        let beta = &r.test_suites[1];
        assert_eq!(
            (beta.tests, beta.skipped, beta.errors, beta.failures),
            (3, 2, 1, 0),
            "a known kernel bug counts as skipped, as pytest counts an xfail"
        );
    }

    #[test]
    fn statuses_messages_and_bodies() {
        let (_, r) = read_back();
        let alpha = &r.test_suites[0];
        let fail = &alpha.test_cases[1];
        assert_eq!(fail.name.as_str(), "alpha::a::fail");
        assert_eq!(fail.classname.as_ref().map(|c| c.as_str()), Some("alpha"));
        match &fail.status {
            TestCaseStatus::NonSuccess {
                kind,
                message,
                description,
                ..
            } => {
                assert_eq!(*kind, NonSuccessKind::Failure);
                assert_eq!(
                    message.as_ref().unwrap().as_str(),
                    "KVM_IOEVENTFD: expected -1 EINVAL, got 0"
                );
                let body = description.as_ref().unwrap().as_str();
                for want in [
                    "expected: -1 EINVAL",
                    "actual:   0",
                    "rerun: ./run.sh --exact 'alpha::a::fail'",
                    "checks: api.txt 4.56",
                    "defined at: suites/src/alpha.rs:7",
                ] {
                    assert!(body.contains(want), "{want:?} missing from {body}");
                }
            }
            other => panic!("expected a failure, got {other:?}"),
        }
        let beta = &r.test_suites[1];
        match &beta.test_cases[0].status {
            TestCaseStatus::Skipped { message, .. } => {
                assert_eq!(
                    message.as_ref().unwrap().as_str(),
                    "needs s390x; kernel is x86_64"
                )
            }
            other => panic!("expected a skip, got {other:?}"),
        }
        assert!(matches!(
            beta.test_cases[1].status,
            TestCaseStatus::NonSuccess {
                kind: NonSuccessKind::Error,
                ..
            }
        ));
        // A pass with notes keeps them in system-out.
        let pass_out = alpha.test_cases[0].system_out.as_ref().unwrap().as_str();
        assert!(
            pass_out.contains("note: this kernel showed 0: NEW"),
            "{pass_out}"
        );
    }

    #[test]
    fn known_bug_is_an_xfail_skip_and_a_bug_not_seen_a_pass_with_the_note() {
        let (xml, r) = read_back();
        match &r.test_suites[1].test_cases[2].status {
            TestCaseStatus::Skipped {
                message,
                ty,
                description,
            } => {
                assert_eq!(ty.as_ref().unwrap().as_str(), "xfail");
                assert_eq!(
                    message.as_ref().unwrap().as_str(),
                    "known kernel bug: bug A drops a key"
                );
                let body = description.as_ref().unwrap().as_str();
                for want in [
                    "key read back 0x00, expected 0x30",
                    "known here: classic gmap",
                    "rerun: ./run.sh --exact 'beta::b::known_bug'",
                ] {
                    assert!(body.contains(want), "{want:?} missing from {body}");
                }
            }
            other => panic!("expected an xfail skip, got {other:?}"),
        }
        assert!(
            xml.contains(r#"<skipped type="xfail" message="known kernel bug: bug A drops a key">"#)
                || xml.contains(
                    r#"<skipped message="known kernel bug: bug A drops a key" type="xfail">"#
                ),
            "{xml}"
        );
        let not_seen = &r.test_suites[0].test_cases[2];
        assert!(matches!(not_seen.status, TestCaseStatus::Success { .. }));
        let out = not_seen.system_out.as_ref().unwrap().as_str();
        assert!(
            out.contains("note: known kernel bug not seen: bug B drops a key; it may be fixed in this kernel"),
            "{out}"
        );
    }

    /// The junit-10 schema accepts what we write, known kernel bugs included (when xmllint is
    /// installed; CI installs it).
    #[test]
    fn validates_against_the_junit_10_schema() {
        let schema = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../../shared/schemas/junit-10.xsd");
        // Under qemu-user a missing program can "start" and exit 127 instead of failing to
        // start: either way it is missing.
        let xmllint = std::process::Command::new("xmllint")
            .arg("--version")
            .output()
            .is_ok_and(|o| o.status.success());
        if !schema.exists() || !xmllint {
            eprintln!("xmllint or {} missing: not validated", schema.display());
            return;
        }
        let (xml, _) = read_back();
        let file = std::env::temp_dir().join(format!("harness-junit-{}.xml", std::process::id()));
        std::fs::write(&file, xml).unwrap();
        let out = std::process::Command::new("xmllint")
            .arg("--noout")
            .arg("--schema")
            .arg(&schema)
            .arg(&file)
            .output()
            .unwrap();
        let _ = std::fs::remove_file(&file);
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }

    #[test]
    fn run_properties_on_every_suite() {
        let (_, r) = read_back();
        for s in &r.test_suites {
            let props: Vec<(&str, &str)> = s
                .properties
                .iter()
                .map(|p| (p.name.as_str(), p.value.as_str()))
                .collect();
            assert_eq!(
                props,
                [("backend", "live"), ("seed", "7")],
                "suite {}",
                s.name.as_str()
            );
        }
    }

    #[test]
    fn testsuites_tag_has_only_schema_attributes() {
        // junit-10.xsd allows `skipped` and `timestamp` on <testsuite> only.
        let (xml, _) = read_back();
        let root = &xml[xml.find("<testsuites").unwrap()..];
        let root_tag = &root[..root.find('>').unwrap()];
        assert!(
            !root_tag.contains("skipped=") && !root_tag.contains("timestamp="),
            "{root_tag}"
        );
        assert!(xml.contains("<testsuite name=\"beta\"") && xml.contains("skipped=\"2\""));
    }
}
