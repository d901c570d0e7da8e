//! KTAP v1 (Documentation/dev-tools/ktap.rst): one subtest block per suite, `# SKIP reason`
//! directives, diagnostic lines directly before the result line they explain, so kselftest
//! tooling reads it as it reads the kernel's own tests. A known kernel bug is
//! `ok N name # XFAIL <bug>` (kselftest's `ksft_test_result_xfail`), with what the case saw in
//! the diagnostic lines before it; a bug expected but not seen counts as `xpass` in the totals.

use crate::result::{RunRecord, Status};
use std::fmt::Write;

pub fn to_ktap(run: &RunRecord) -> String {
    let mut out = String::from("KTAP version 1\n");
    for (k, v) in &run.properties {
        let _ = writeln!(out, "# {k}: {}", one_line(v));
    }
    for b in &run.banner {
        let _ = writeln!(out, "# {}", one_line(b));
    }
    let suites: Vec<&String> = run
        .suites
        .iter()
        .filter(|s| run.results.iter().any(|r| &r.suite == *s))
        .collect();
    let _ = writeln!(out, "1..{}", suites.len());
    for (i, suite) in suites.iter().enumerate() {
        let results: Vec<_> = run.results.iter().filter(|r| &r.suite == *suite).collect();
        let _ = writeln!(out, "    KTAP version 1");
        let _ = writeln!(out, "    # Subtest: {suite}");
        let _ = writeln!(out, "    1..{}", results.len());
        for (j, r) in results.iter().enumerate() {
            let n = j + 1;
            let name = one_line(&r.id);
            for l in r.report.kernel_lines() {
                let _ = writeln!(out, "    # kernel: {}", one_line(l));
            }
            match r.report.status {
                Status::Pass => {
                    for note in &r.report.notes {
                        let _ = writeln!(out, "    # {}", one_line(note));
                    }
                    let _ = writeln!(out, "    ok {n} {name}");
                }
                Status::KnownBug => {
                    let _ = writeln!(out, "    # {}", one_line(&r.report.summary));
                    for line in r.report.details.iter().chain(r.report.notes.iter()) {
                        for l in line.lines() {
                            let _ = writeln!(out, "    # {l}");
                        }
                    }
                    if let Some(at) = &r.location {
                        let _ = writeln!(out, "    # defined at: {}", one_line(at));
                    }
                    let _ = writeln!(out, "    # rerun: {}", r.rerun);
                    let bug = r.report.bug_seen().unwrap_or("known kernel bug");
                    let _ = writeln!(out, "    ok {n} {name} # XFAIL {}", one_line(bug));
                }
                Status::Skip => {
                    let _ = writeln!(
                        out,
                        "    ok {n} {name} # SKIP {}",
                        one_line(&r.report.summary)
                    );
                }
                Status::Fail | Status::Error => {
                    let kind = if r.report.status == Status::Error {
                        "error: "
                    } else {
                        ""
                    };
                    let _ = writeln!(out, "    # {kind}{}", one_line(&r.report.summary));
                    for line in r.report.details.iter().chain(r.report.notes.iter()) {
                        for l in line.lines() {
                            let _ = writeln!(out, "    # {l}");
                        }
                    }
                    // What the case printed (a panic's message and backtrace), as JUnit keeps
                    // it in system-out.
                    if !r.output.trim().is_empty() {
                        let _ = writeln!(out, "    # output:");
                        for l in r.output.trim_end().lines() {
                            let _ = writeln!(out, "    #   {l}");
                        }
                    }
                    if let Some(at) = &r.location {
                        let _ = writeln!(out, "    # defined at: {}", one_line(at));
                    }
                    let _ = writeln!(out, "    # rerun: {}", r.rerun);
                    let _ = writeln!(out, "    not ok {n} {name}");
                }
            }
        }
        let c = crate::result::counts(results.iter().copied());
        let _ = writeln!(
            out,
            "    # {suite}: pass:{} fail:{} xfail:{} skip:{} error:{}",
            c.passed, c.failed, c.known_bugs, c.skipped, c.errors
        );
        let n = i + 1;
        if c.failed + c.errors > 0 {
            let _ = writeln!(out, "not ok {n} {suite}");
        } else if c.passed + c.known_bugs == 0 {
            let _ = writeln!(out, "ok {n} {suite} # SKIP all {} cases skipped", c.skipped);
        } else {
            let _ = writeln!(out, "ok {n} {suite}");
        }
    }
    let c = run.counts();
    // kselftest counts an expected failure that passed as xpass, apart from pass.
    let _ = writeln!(
        out,
        "# Totals: pass:{} fail:{} xfail:{} xpass:{} skip:{} error:{}",
        c.passed - c.bugs_not_seen,
        c.failed,
        c.known_bugs,
        c.bugs_not_seen,
        c.skipped,
        c.errors
    );
    out
}

/// KTAP lines cannot carry newlines, and a `#` in a test name would start a directive.
fn one_line(s: &str) -> String {
    s.replace('\n', " | ")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::result::tests::sample_run;

    #[test]
    fn matches_the_ktap_v1_layout_line_by_line() {
        let text = to_ktap(&sample_run());
        let want = "\
KTAP version 1
# backend: live
# seed: 7
# SIMULATED s390 kernel
1..2
    KTAP version 1
    # Subtest: alpha
    1..3
    # this kernel showed 0: NEW
    ok 1 alpha::a::pass
    # KVM_IOEVENTFD: expected -1 EINVAL, got 0
    # expected: -1 EINVAL
    # actual:   0
    # defined at: suites/src/alpha.rs:7
    # rerun: ./run.sh --exact 'alpha::a::fail'
    not ok 2 alpha::a::fail
    # known kernel bug not seen: bug B drops a key; it may be fixed in this kernel
    ok 3 alpha::a::bug_not_seen
    # alpha: pass:2 fail:1 xfail:0 skip:0 error:0
not ok 1 alpha
    KTAP version 1
    # Subtest: beta
    1..3
    ok 1 beta::b::skip # SKIP needs s390x; kernel is x86_64
    # error: timed out after 30 s and was killed
    # rerun: ./run.sh --exact 'beta::b::error'
    not ok 2 beta::b::error
    # key read back 0x00, expected 0x30
    # known here: classic gmap
    # rerun: ./run.sh --exact 'beta::b::known_bug'
    ok 3 beta::b::known_bug # XFAIL bug A drops a key
    # beta: pass:0 fail:0 xfail:1 skip:1 error:1
not ok 2 beta
# Totals: pass:1 fail:1 xfail:1 xpass:1 skip:1 error:1
";
        for (i, (got, want)) in text.lines().zip(want.lines()).enumerate() {
            assert_eq!(got, want, "line {}", i + 1);
        }
        assert_eq!(text.lines().count(), want.lines().count());
    }

    #[test]
    fn all_skipped_suite_is_a_skip_and_plans_match() {
        let mut run = sample_run();
        run.results
            .retain(|r| r.suite == "beta" && r.report.status == Status::Skip);
        let text = to_ktap(&run);
        assert!(
            text.contains("\nok 1 beta # SKIP all 1 cases skipped\n"),
            "{text}"
        );
        assert!(text.contains("\n1..1\n"), "{text}");
    }

    #[test]
    fn a_suite_of_passes_and_known_bugs_is_ok() {
        let mut run = sample_run();
        run.results
            .retain(|r| r.id.ends_with("::pass") || r.id.ends_with("::known_bug"));
        let text = to_ktap(&run);
        assert!(text.contains("\nok 1 alpha\n"), "{text}");
        assert!(
            text.contains("\nok 2 beta\n"),
            "only a known bug: not a skip: {text}"
        );
        assert!(
            text.contains("# Totals: pass:1 fail:0 xfail:1 xpass:0 skip:0 error:0\n"),
            "{text}"
        );
    }

    #[test]
    fn a_failed_case_keeps_its_output_as_junit_does() {
        let mut run = sample_run();
        run.results[3].output =
            "thread 'main' panicked at x.rs:1:1:\nboom\nstack backtrace:\n   0: f\n".into();
        let text = to_ktap(&run);
        assert!(
            text.contains(
                "    # error: timed out after 30 s and was killed\n    # output:\n    #   thread 'main' panicked at x.rs:1:1:\n    #   boom\n    #   stack backtrace:\n    #      0: f\n    # rerun: "
            ),
            "{text}"
        );
    }

    #[test]
    fn multi_line_text_stays_on_one_line() {
        let mut run = sample_run();
        run.results[2].report.summary = "first\nsecond".into();
        assert!(to_ktap(&run).contains("# SKIP first | second\n"));
    }
}
