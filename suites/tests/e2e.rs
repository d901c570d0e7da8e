//! End-to-end: the built binary against this host's live kernel (skipping with the reason
//! where there is no KVM), the reports it writes, its exit codes, and the harness behaviours
//! that need real child processes (panic, crash, timeout).

use quick_junit::{NonSuccessKind, Report, TestCaseStatus};
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

const BIN: &str = env!("CARGO_BIN_EXE_kvm-conformance");

fn tmpdir(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("kvm-conformance-e2e-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

/// The binary, through `$KVM_CONFORMANCE_TEST_RUNNER` when set (e.g. qemu-user for the s390x
/// build, where there is no binfmt_misc); then its child processes need the same runner.
fn command(args: &[&str]) -> Command {
    match std::env::var("KVM_CONFORMANCE_TEST_RUNNER") {
        Ok(runner) if !runner.trim().is_empty() => {
            let mut parts = runner.split_whitespace();
            let mut c = Command::new(parts.next().unwrap());
            c.args(parts).arg(BIN).args(args);
            if !args.contains(&"--list") && !args.contains(&"--mutant") {
                c.arg("--child-runner").arg(&runner);
            }
            c
        }
        _ => {
            let mut c = Command::new(BIN);
            c.args(args);
            c
        }
    }
}

fn run(args: &[&str], env: &[(&str, &str)]) -> Output {
    let mut c = command(args);
    c.env_remove("PROPTEST_RNG_SEED")
        .env_remove("PROPTEST_CASES");
    for (k, v) in env {
        c.env(k, v);
    }
    c.output().expect("the binary runs")
}

fn text(o: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

/// The exit status a run should have: `usual`, or 2 where the binary found no usable KVM
/// (e.g. under qemu-user, where every KVM ioctl gives ENOSYS).
fn exit_status(out: &str, usual: i32) -> Option<i32> {
    Some(if out.lines().any(|l| l.starts_with("no KVM: ")) {
        2
    } else {
        usual
    })
}

fn junit(dir: &Path) -> Report {
    let xml = std::fs::read_to_string(dir.join("latest/junit.xml")).expect("junit.xml written");
    Report::deserialize_from_str(&xml).expect("junit.xml reads back")
}

#[test]
fn live_memslot_suite_writes_reports() {
    let dir = tmpdir("live");
    let o = run(
        &[
            "-q",
            "--report-dir",
            dir.to_str().unwrap(),
            "set_user_memory_region::",
        ],
        &[],
    );
    let out = text(&o);
    let no_kvm = out.lines().find(|l| l.starts_with("no KVM: "));
    // Without usable KVM the cases skip, the reports are complete, and the run exits 2.
    assert_eq!(o.status.code(), exit_status(&out, 0), "{out}");
    let summary = out
        .lines()
        .find(|l| l.starts_with("kvm-conformance: "))
        .expect("summary line");
    assert!(summary.contains(" passed, 0 failed, "), "{summary}");

    let report = junit(&dir);
    assert_eq!(report.test_suites.len(), 1);
    let suite = &report.test_suites[0];
    assert_eq!(suite.name.as_str(), "set_user_memory_region");
    assert!(suite.tests > 50, "{} cases", suite.tests);
    let props: Vec<&str> = suite.properties.iter().map(|p| p.name.as_str()).collect();
    for p in ["backend", "kernel_release", "arch", "seed"] {
        assert!(props.contains(&p), "property {p} missing: {props:?}");
    }
    match no_kvm {
        None => {
            // Live KVM here: the generic cases ran, only arch-gated ones skipped.
            assert!(
                suite.tests - suite.skipped > 50,
                "{} skipped of {}",
                suite.skipped,
                suite.tests
            );
            for case in &suite.test_cases {
                if let TestCaseStatus::Skipped { message, .. } = &case.status {
                    let m = message.as_ref().map(|m| m.as_str()).unwrap_or("");
                    assert!(
                        m.starts_with("needs s390x") || m.contains("absent"),
                        "{}: {m}",
                        case.name.as_str()
                    );
                }
            }
        }
        Some(reason) => {
            eprintln!(
                "no KVM on this host ({reason}): checking that every case skipped with a reason"
            );
            assert_eq!(suite.skipped, suite.tests);
        }
    }

    let ktap = std::fs::read_to_string(dir.join("latest/results.ktap")).unwrap();
    let lines: Vec<&str> = ktap.lines().collect();
    assert_eq!(lines[0], "KTAP version 1");
    assert!(lines.contains(&"1..1"));
    assert!(lines.contains(&"    # Subtest: set_user_memory_region"));
    assert!(
        lines
            .iter()
            .any(|l| l.starts_with("ok 1 set_user_memory_region")),
        "{ktap}"
    );
    assert!(
        std::fs::read_link(dir.join("latest")).is_ok(),
        "latest is a symlink"
    );
}

#[test]
fn no_kvm_skips_everything_with_the_reason_and_still_reports() {
    let dir = tmpdir("nokvm");
    let o = run(
        &[
            "-q",
            "--report-dir",
            dir.to_str().unwrap(),
            "set_user_memory_region::create",
        ],
        &[("KVM_CONFORMANCE_DEVICE", "/nonexistent/kvm")],
    );
    let out = text(&o);
    // The cases skip and the reports are complete, but the run could not be done: exit 2.
    assert_eq!(o.status.code(), Some(2), "{out}");
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(
        err.trim_end().lines().last(),
        Some("kvm-conformance: no KVM: /nonexistent/kvm: ENOENT: no such device node (KVM module not loaded, or no virtualization support)"),
        "{err}"
    );
    assert!(
        out.lines()
            .next()
            .unwrap()
            .starts_with("no KVM: /nonexistent/kvm: ENOENT"),
        "{out}"
    );
    let suite = &junit(&dir).test_suites[0];
    assert!(suite.tests > 0);
    assert_eq!(suite.skipped, suite.tests);
    for case in &suite.test_cases {
        match &case.status {
            TestCaseStatus::Skipped { message, .. } => {
                assert!(message.as_ref().unwrap().as_str().starts_with("no KVM: "))
            }
            other => panic!("{other:?}"),
        }
    }
}

#[test]
fn harness_reports_wrong_expectations_panics_crashes_and_timeouts() {
    let dir = tmpdir("selftest");
    // Under an emulator (qemu-user) a panicking case symbolizes its backtrace slowly: give the
    // cases that end by themselves time enough, so only the hanging one times out.
    let timeout = if std::env::var_os("KVM_CONFORMANCE_TEST_RUNNER").is_some() {
        "30"
    } else {
        "2"
    };
    let o = run(
        &[
            "-q",
            "--report-dir",
            dir.to_str().unwrap(),
            "--timeout",
            timeout,
            "--skip",
            "selftest::known_bug",
            "selftest::",
        ],
        &[("KVM_CONFORMANCE_SELFTEST", "1")],
    );
    let out = text(&o);
    assert_eq!(
        o.status.code(),
        exit_status(&out, 1),
        "a failed case gives exit status 1: {out}"
    );
    let report = junit(&dir);
    let suite = &report.test_suites[0];
    let status = |id: &str| {
        let case = suite
            .test_cases
            .iter()
            .find(|c| c.name.as_str() == format!("selftest::{id}"))
            .unwrap();
        match &case.status {
            TestCaseStatus::Success { .. } => ("pass", String::new()),
            TestCaseStatus::Skipped { message, .. } => {
                ("skip", message.as_ref().unwrap().to_string())
            }
            TestCaseStatus::NonSuccess { kind, message, .. } => (
                if *kind == NonSuccessKind::Failure {
                    "fail"
                } else {
                    "error"
                },
                message.as_ref().unwrap().to_string(),
            ),
        }
    };
    assert_eq!(status("right_expectation").0, "pass");
    let (s, m) = status("wrong_expectation");
    assert_eq!(
        (s, m.as_str()),
        (
            "fail",
            "close(-1): expected 0, got -1 EBADF (Bad file number)"
        )
    );
    let (s, m) = status("panics");
    assert_eq!(s, "error");
    assert!(m.contains("panicked: deliberate panic"), "{m}");
    let (s, m) = status("crashes");
    assert_eq!(s, "error");
    assert!(m.contains("SIGABRT"), "{m}");
    let (s, m) = status("hangs");
    assert_eq!(
        (s, m.as_str()),
        (
            "error",
            format!("timed out after {timeout} s and was killed").as_str()
        )
    );
    assert_eq!(status("skips"), ("skip", "deliberate skip".to_string()));
    assert!(
        out.contains("kvm-conformance: 2 passed, 4 failed, 1 skipped")
            || out.contains("kvm-conformance: 1 passed, 4 failed, 1 skipped"),
        "{out}"
    );
}

/// A known kernel bug end to end: Checker -> CaseReport -> the child process -> every reporter,
/// not red by default, a failure with --strict; a bug expected but not seen is a pass with the
/// note. The two self-test cases pretend close(-1)'s EBADF is (and its success would be) a bug.
#[test]
fn known_kernel_bugs_are_reported_apart_and_strict_fails_them() {
    const SEEN: &str = "selftest::known_bug_seen";
    const NOT_SEEN: &str = "selftest::known_bug_not_seen";
    for strict in [false, true] {
        let dir = tmpdir(if strict { "bug-strict" } else { "bug" });
        let mut args = vec![
            "--format",
            "terse",
            "--report-dir",
            dir.to_str().unwrap(),
            "selftest::known_bug",
        ];
        if strict {
            args.push("--strict");
        }
        let o = run(&args, &[("KVM_CONFORMANCE_SELFTEST", "1")]);
        let out = text(&o);
        assert_eq!(
            o.status.code(),
            exit_status(&out, i32::from(strict)),
            "{out}"
        );
        // One character per case: x for the known bug (F with --strict), X for the one not seen.
        let marks = out
            .lines()
            .find(|l| !l.is_empty() && l.chars().all(|c| "xXF.".contains(c)))
            .unwrap_or_else(|| panic!("no terse line in {out}"));
        let mut sorted: Vec<char> = marks.chars().collect();
        sorted.sort();
        assert_eq!(
            sorted,
            if strict { ['F', 'X'] } else { ['X', 'x'] },
            "{out}"
        );
        let failed = if strict { 1 } else { 0 };
        let closing = format!("kvm-conformance: 1 passed, {failed} failed, 0 skipped");
        let strict_note = if strict {
            ", failing with --strict"
        } else {
            ""
        };
        let seen_line = format!(
            "known kernel bugs: 1{strict_note} ({SEEN}: selftest: close(-1) fails with EBADF (pretended to be a kernel bug))"
        );
        let not_seen_line = format!(
            "known kernel bugs not seen (they may be fixed in this kernel): 1 ({NOT_SEEN}: selftest: close(-1) succeeds (pretended to be a kernel bug))"
        );
        let summary = std::fs::read_to_string(dir.join("latest/summary.txt")).unwrap();
        for text in [&out, &summary] {
            let lines: Vec<&str> = text.lines().collect();
            let at = lines
                .iter()
                .position(|l| *l == closing)
                .unwrap_or_else(|| panic!("{closing:?} missing from {text}"));
            assert_eq!(lines[at + 1], seen_line, "{text}");
            assert_eq!(lines[at + 2], not_seen_line, "{text}");
        }

        let xml_path = dir.join("latest/junit.xml");
        let report = junit(&dir);
        let suite = &report.test_suites[0];
        let case = |id: &str| {
            suite
                .test_cases
                .iter()
                .find(|c| c.name.as_str() == id)
                .unwrap()
        };
        match (&case(SEEN).status, strict) {
            (
                TestCaseStatus::Skipped {
                    ty,
                    message,
                    description,
                },
                false,
            ) => {
                assert_eq!(ty.as_ref().map(|t| t.as_str()), Some("xfail"));
                assert_eq!(
                    message.as_ref().unwrap().as_str(),
                    "known kernel bug: selftest: close(-1) fails with EBADF (pretended to be a kernel bug)"
                );
                assert!(description.as_ref().unwrap().contains("actual:   -1 EBADF"));
            }
            (TestCaseStatus::NonSuccess { kind, message, .. }, true) => {
                assert_eq!(*kind, NonSuccessKind::Failure);
                assert!(message
                    .as_ref()
                    .unwrap()
                    .starts_with("known kernel bug (failing with --strict): "));
            }
            (other, _) => panic!("strict {strict}: {other:?}"),
        }
        assert!(matches!(
            case(NOT_SEEN).status,
            TestCaseStatus::Success { .. }
        ));
        let not_seen_out = case(NOT_SEEN).system_out.as_ref().unwrap().as_str();
        assert!(
            not_seen_out.contains("note: known kernel bug not seen: "),
            "{not_seen_out}"
        );
        // The schema CI validates with accepts the xfail (when xmllint is here; CI installs it).
        let schema =
            Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/schemas/junit-10.xsd");
        if let Ok(v) = Command::new("xmllint")
            .arg("--noout")
            .arg("--schema")
            .arg(&schema)
            .arg(&xml_path)
            .output()
        {
            assert!(v.status.success(), "{}", String::from_utf8_lossy(&v.stderr));
        }

        let ktap = std::fs::read_to_string(dir.join("latest/results.ktap")).unwrap();
        let xfail = format!(
            " {SEEN} # XFAIL selftest: close(-1) fails with EBADF (pretended to be a kernel bug)"
        );
        assert_eq!(
            ktap.lines()
                .any(|l| l.ends_with(&xfail) && l.trim_start().starts_with("ok ")),
            !strict,
            "{ktap}"
        );
        let totals = if strict {
            "# Totals: pass:0 fail:1 xfail:0 xpass:1 skip:0 error:0"
        } else {
            "# Totals: pass:0 fail:0 xfail:1 xpass:1 skip:0 error:0"
        };
        assert!(ktap.lines().any(|l| l == totals), "{ktap}");
    }
}

#[test]
fn bad_input_is_one_line_and_exit_2() {
    let cases: &[&[&str]] = &[
        &["--timeout", "0"],
        &["--shard", "3/2"],
        &["--no-such-option"],
        &["--backend", "elsewhere"],
        &["--mutant", "not-a-mutant", "--backend", "simulated"],
        &["--mutant", "not-a-mutant"],
        &["--sim-kernel", "6.1"],
        &["--sim-kernel", "6.1", "--backend", "live"],
        &["--report-dir", "/proc/self/no/such/dir"],
    ];
    for args in cases {
        let o = run(args, &[]);
        let err = String::from_utf8_lossy(&o.stderr);
        assert_eq!(o.status.code(), Some(2), "{args:?}: {err}");
        assert_eq!(err.lines().count(), 1, "{args:?}: one line: {err}");
        assert!(err.starts_with("kvm-conformance: "), "{args:?}: {err}");
    }
    let o = run(&["--report-dir", "/proc/self/no/such/dir"], &[]);
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(
        err.starts_with("kvm-conformance: cannot write reports to /proc/self/no/such/dir: "),
        "{err}"
    );
}

#[test]
fn list_names_every_case_once_and_writes_nothing() {
    let dir = tmpdir("list");
    let o = run(&["--list", "--report-dir", dir.to_str().unwrap()], &[]);
    assert_eq!(o.status.code(), Some(0));
    let stdout = String::from_utf8_lossy(&o.stdout);
    let ids: Vec<&str> = stdout
        .lines()
        .filter_map(|l| l.strip_suffix(": test"))
        .collect();
    assert!(ids.len() > 50);
    let unique: std::collections::HashSet<&&str> = ids.iter().collect();
    assert_eq!(unique.len(), ids.len(), "case ids are unique");
    for id in &ids {
        assert!(
            id.split("::").count() >= 3 && *id == id.to_lowercase(),
            "id {id} is suite::group::case, lowercase"
        );
    }
    assert_eq!(
        std::fs::read_dir(&dir).unwrap().count(),
        0,
        "--list writes no reports"
    );
}

#[test]
fn ktap_on_stdout() {
    let dir = tmpdir("ktap");
    let o = run(
        &[
            "--format",
            "ktap",
            "--report-dir",
            dir.to_str().unwrap(),
            "--exact",
            "set_user_memory_region::create::slot_0",
        ],
        &[],
    );
    assert_eq!(o.status.code(), exit_status(&text(&o), 0));
    let stdout = String::from_utf8_lossy(&o.stdout);
    assert!(stdout.starts_with("KTAP version 1\n"), "{stdout}");
    assert_eq!(
        stdout,
        std::fs::read_to_string(dir.join("latest/results.ktap")).unwrap()
    );
}
