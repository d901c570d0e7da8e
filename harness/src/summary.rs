//! What a person reads first: the banner line before the results, and at the end one table
//! per suite, the skips grouped by reason, and each failure with its rerun command.

use crate::result::{counts, RunRecord, Status};
use std::collections::BTreeMap;

/// `kvm-conformance: live backend, kernel 6.12.107, s390x, KVM API 12, machine: emulated ...;
/// 790 cases selected`: the program's name, what the suites say the run is against, and the
/// selection.
pub fn banner(name: &str, against: &str, selected: usize) -> String {
    let s = if selected == 1 { "" } else { "s" };
    format!("{name}: {against}; {selected} case{s} selected")
}

/// The per-suite table, the skip reasons by count, and each failure in one line with its
/// rerun command.
pub fn end_of_run(run: &RunRecord) -> Vec<String> {
    let mut lines = Vec::new();
    let width = run
        .suites
        .iter()
        .map(|s| s.len())
        .max()
        .unwrap_or(5)
        .max("suite".len());
    lines.push(format!(
        "{:<width$}  {:>6}  {:>6}  {:>10}  {:>7}",
        "suite", "passed", "failed", "known bugs", "skipped"
    ));
    for suite in &run.suites {
        let c = counts(run.results.iter().filter(|r| &r.suite == suite));
        if c == Default::default() {
            continue;
        }
        lines.push(format!(
            "{suite:<width$}  {:>6}  {:>6}  {:>10}  {:>7}",
            c.passed,
            c.failed + c.errors,
            c.known_bugs,
            c.skipped
        ));
    }
    let mut reasons: BTreeMap<&str, usize> = BTreeMap::new();
    for r in run
        .results
        .iter()
        .filter(|r| r.report.status == Status::Skip)
    {
        *reasons.entry(r.report.summary.as_str()).or_default() += 1;
    }
    if !reasons.is_empty() {
        let mut by_count: Vec<(&str, usize)> = reasons.into_iter().collect();
        by_count.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(b.0)));
        lines.push("skipped, by reason:".into());
        for (reason, n) in by_count {
            lines.push(format!("  {n:>4}  {reason}"));
        }
    }
    let failures: Vec<_> = run
        .results
        .iter()
        .filter(|r| matches!(r.report.status, Status::Fail | Status::Error))
        .collect();
    if !failures.is_empty() {
        lines.push("failed:".into());
        for r in failures {
            let first = r.report.summary.lines().next().unwrap_or_default();
            lines.push(format!("  {}: {first}", r.id));
            lines.push(format!("    rerun: {}", r.rerun));
        }
    }
    lines
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::result::tests::sample_run;

    #[test]
    fn the_banner_names_the_program_what_the_run_is_against_and_the_selection() {
        assert_eq!(
            banner("prog", "simulated backend, kernel 7.2.13", 790),
            "prog: simulated backend, kernel 7.2.13; 790 cases selected"
        );
        assert_eq!(banner("prog", "x", 1), "prog: x; 1 case selected");
    }

    #[test]
    fn one_row_per_suite_skips_by_reason_and_failures_with_their_rerun() {
        let text = end_of_run(&sample_run()).join("\n");
        let want = "\
suite  passed  failed  known bugs  skipped
alpha       2       1           0        0
beta        0       1           1        1
skipped, by reason:
     1  needs s390x; kernel is x86_64
failed:
  alpha::a::fail: KVM_IOEVENTFD: expected -1 EINVAL, got 0
    rerun: ./run.sh --exact 'alpha::a::fail'
  beta::b::error: timed out after 30 s and was killed
    rerun: ./run.sh --exact 'beta::b::error'";
        assert_eq!(text, want);
    }
}
