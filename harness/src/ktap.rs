//! KTAP v1 (Documentation/dev-tools/ktap.rst): one subtest block per suite, `# SKIP reason`
//! directives, diagnostic lines directly before the result line they explain, so kselftest
//! tooling reads it as it reads the kernel's own tests.

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
    let suites: Vec<&String> =
        run.suites.iter().filter(|s| run.results.iter().any(|r| &r.suite == *s)).collect();
    let _ = writeln!(out, "1..{}", suites.len());
    for (i, suite) in suites.iter().enumerate() {
        let results: Vec<_> = run.results.iter().filter(|r| &r.suite == *suite).collect();
        let _ = writeln!(out, "    KTAP version 1");
        let _ = writeln!(out, "    # Subtest: {suite}");
        let _ = writeln!(out, "    1..{}", results.len());
        for (j, r) in results.iter().enumerate() {
            let n = j + 1;
            let name = one_line(&r.id);
            match r.report.status {
                Status::Pass => {
                    for note in &r.report.notes {
                        let _ = writeln!(out, "    # {}", one_line(note));
                    }
                    let _ = writeln!(out, "    ok {n} {name}");
                }
                Status::Skip => {
                    let _ = writeln!(out, "    ok {n} {name} # SKIP {}", one_line(&r.report.summary));
                }
                Status::Fail | Status::Error => {
                    let kind = if r.report.status == Status::Error { "error: " } else { "" };
                    let _ = writeln!(out, "    # {kind}{}", one_line(&r.report.summary));
                    for line in r.report.details.iter().chain(r.report.notes.iter()) {
                        for l in line.lines() {
                            let _ = writeln!(out, "    # {l}");
                        }
                    }
                    let _ = writeln!(out, "    # rerun: {}", r.rerun);
                    let _ = writeln!(out, "    not ok {n} {name}");
                }
            }
        }
        let c = crate::result::counts(results.iter().copied());
        let _ = writeln!(
            out,
            "    # {suite}: pass:{} fail:{} skip:{} error:{}",
            c.passed, c.failed, c.skipped, c.errors
        );
        let n = i + 1;
        if c.failed + c.errors > 0 {
            let _ = writeln!(out, "not ok {n} {suite}");
        } else if c.passed == 0 {
            let _ = writeln!(out, "ok {n} {suite} # SKIP all {} cases skipped", c.skipped);
        } else {
            let _ = writeln!(out, "ok {n} {suite}");
        }
    }
    let c = run.counts();
    let _ = writeln!(
        out,
        "# Totals: pass:{} fail:{} xfail:0 xpass:0 skip:{} error:{}",
        c.passed, c.failed, c.skipped, c.errors
    );
    out
}

/// KTAP lines cannot carry newlines, and a `#` in a test name would start a directive.
fn one_line(s: &str) -> String {
    s.replace('\n', " | ")
}
