//! The end of a run: the closing lines (counts, known kernel bugs, kernel log lines outside
//! the cases, interruption), summary.txt, and the report files written through the staging
//! directory. Reporters only ever see the collected `RunRecord`.

use crate::cli::HarnessArgs;
use crate::reports::Staging;
use crate::result::{CaseResult, RunRecord, Status};
use nix::sys::signal::Signal;

/// The closing lines in the order they are printed; the last one (time, where the reports went)
/// is left out with -q.
pub(crate) struct Closing {
    pub lines: Vec<String>,
    /// The report files could not be written: the run then exits 2 with this reason.
    pub report_error: Option<String>,
}

/// The closing lines of `record`, and its report files published from `staging`.
pub(crate) fn close(
    args: &HarnessArgs,
    record: &RunRecord,
    ktap: String,
    kernel_log_outside: &[String],
    interrupted: Option<(Signal, usize)>,
    staging: Option<Staging>,
) -> Closing {
    let c = record.counts();
    let mut lines = vec![format!(
        "{}: {} passed, {} failed, {} skipped",
        record.name,
        c.passed,
        c.failed + c.errors,
        c.skipped
    )];
    lines.extend(known_bug_lines(record, args.strict));
    if !kernel_log_outside.is_empty() {
        lines.push(format!(
            "kernel log: {} lines outside any case (in summary.txt)",
            kernel_log_outside.len()
        ));
    }
    if let Some((sig, n)) = interrupted {
        let s = if n == 1 { "" } else { "s" };
        lines.push(format!(
            "{}: {n} case{s} not run (reported as skipped); exit status {}",
            crate::interrupt::reason(sig),
            128 + sig as i32
        ));
    }
    let mut detail = format!("{:.2} s", record.duration.as_secs_f64());
    if c.errors > 0 {
        detail.push_str(&format!(
            ", {} of the failures are errors (panic, crash or timeout)",
            c.errors
        ));
    }
    let mut report_error = None;
    if let Some(staging) = staging {
        match publish(args, record, ktap, &lines, kernel_log_outside, staging) {
            Ok(dir) => detail.push_str(&format!("; reports in {}", dir.display())),
            Err(e) => report_error = Some(e),
        }
    }
    lines.push(detail);
    Closing {
        lines,
        report_error,
    }
}

/// junit.xml, results.ktap, kcidb.json and summary.txt, all or none.
fn publish(
    args: &HarnessArgs,
    record: &RunRecord,
    ktap: String,
    lines: &[String],
    kernel_log_outside: &[String],
    staging: Staging,
) -> Result<std::path::PathBuf, String> {
    let xml = crate::junit::to_xml(record).map_err(|e| e.to_string())?;
    let run_id = staging
        .final_dir()
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let origin = args
        .kcidb_origin
        .clone()
        .unwrap_or_else(|| crate::kcidb::origin_of(&record.name));
    let kcidb = crate::kcidb::to_json(record, &origin, &run_id);
    let kcidb = serde_json::to_string_pretty(&kcidb).map_err(|e| e.to_string())? + "\n";
    staging.publish(&[
        ("junit.xml", xml.into_bytes()),
        ("results.ktap", ktap.into_bytes()),
        ("kcidb.json", kcidb.into_bytes()),
        (
            "summary.txt",
            summary_text(record, lines, kernel_log_outside).into_bytes(),
        ),
    ])
}

/// summary.txt: the closing lines, then every failure and known kernel bug in full.
fn summary_text(record: &RunRecord, summary: &[String], kernel_log_outside: &[String]) -> String {
    let mut text = summary.join("\n");
    text.push('\n');
    if !kernel_log_outside.is_empty() {
        text.push_str("\nKERNEL LOG OUTSIDE ANY CASE\n");
        for l in kernel_log_outside {
            text.push_str(l);
            text.push('\n');
        }
    }
    for r in record
        .results
        .iter()
        .filter(|r| matches!(r.report.status, Status::Fail | Status::Error))
    {
        text.push_str(&format!("\nFAILED {}\n{}", r.id, crate::junit::describe(r)));
    }
    for r in record
        .results
        .iter()
        .filter(|r| r.report.status == Status::KnownBug)
    {
        text.push_str(&format!(
            "\nKNOWN KERNEL BUG {}\n{}",
            r.id,
            crate::junit::describe(r)
        ));
    }
    text
}

/// The kernel log records of the whole run that no case saw, as dmesg lines.
pub(crate) fn lines_outside_cases(
    records: Vec<crate::kmsg::Record>,
    results: &[CaseResult],
) -> Vec<String> {
    records
        .into_iter()
        .filter(|line| {
            !results.iter().any(|r| {
                r.report
                    .kernel_log
                    .as_ref()
                    .is_some_and(|k| (k.first_seq..=k.last_seq).contains(&line.seq))
            })
        })
        .map(|line| line.line())
        .collect()
}

/// The closing summary's lines about known kernel bugs: the ones seen (`known kernel bugs: 1
/// (id: bug)`) and the ones expected here but not seen; nothing when there are none.
pub(crate) fn known_bug_lines(record: &RunRecord, strict: bool) -> Vec<String> {
    let mut lines = Vec::new();
    let seen: Vec<String> = record
        .results
        .iter()
        .filter_map(|r| r.report.bug_seen().map(|b| format!("{}: {b}", r.id)))
        .collect();
    if !seen.is_empty() {
        let strict = if strict {
            ", failing with --strict"
        } else {
            ""
        };
        lines.push(format!(
            "known kernel bugs: {}{strict} ({})",
            seen.len(),
            seen.join("; ")
        ));
    }
    let not_seen: Vec<String> = record
        .results
        .iter()
        .filter(|r| r.report.status == Status::Pass)
        .filter_map(|r| r.report.bug_not_seen().map(|b| format!("{}: {b}", r.id)))
        .collect();
    if !not_seen.is_empty() {
        lines.push(format!(
            "known kernel bugs not seen (they may be fixed in this kernel): {} ({})",
            not_seen.len(),
            not_seen.join("; ")
        ));
    }
    lines
}
