//! The case process's side: run one case body, turn a panic into an error result with its
//! backtrace in the output, and hand the result to the runner as one marked JSON line after
//! whatever the case printed. The same for a process started with `--child-case ID` and for a
//! fork of a case server.

use crate::case::{Case, CaseContext};
use crate::output::{err_line, out};
use crate::result::CaseReport;

/// Starts the result line in a case process's output; what comes before it is the case's own.
pub(crate) const RESULT_MARKER: &str = "@@case-result@@ ";

/// Run a case body here, turning a panic into an error result.
pub(crate) fn run_body(case: &Case, ctx: &CaseContext) -> CaseReport {
    match std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| (case.body)(ctx))) {
        Ok(r) => r,
        Err(payload) => {
            let msg = payload
                .downcast_ref::<String>()
                .cloned()
                .or_else(|| payload.downcast_ref::<&str>().map(|s| s.to_string()))
                .unwrap_or_else(|| "non-string panic payload".into());
            CaseReport::error(format!("the case panicked: {msg}"))
        }
    }
}

/// A panic's backtrace goes into the case's output (JUnit system-out, KTAP diagnostics),
/// whether or not RUST_BACKTRACE is set.
pub(crate) fn capture_panics() {
    std::panic::set_hook(Box::new(|info| {
        let trace = std::backtrace::Backtrace::force_capture();
        err_line(&format!("{info}\nstack backtrace:\n{trace}"));
    }));
}

/// Run the case and print its result for the runner (this process's stdout is the runner's
/// pipe).
pub(crate) fn run_and_report(case: &Case, ctx: &CaseContext) {
    let report = run_body(case, ctx);
    let json = serde_json::to_string(&report).unwrap_or_else(|e| {
        format!(r#"{{"status":"Error","summary":"the result does not serialise: {e}","details":[],"notes":[]}}"#)
    });
    out(&format!("\n{RESULT_MARKER}{json}\n"));
}

/// Whether `bytes` (the end of a case process's output) end with its result line.
pub(crate) fn ends_with_result(bytes: &[u8]) -> bool {
    let last_line = bytes
        .strip_suffix(b"\n")
        .map(|b| b.rsplit(|&c| c == b'\n').next().unwrap_or(b));
    last_line.is_some_and(|l| l.starts_with(RESULT_MARKER.as_bytes()))
}

/// What the runner reads back from a case process's output: what the case printed, and its
/// result when the process got as far as reporting one.
pub(crate) fn split_output(bytes: &[u8]) -> (String, Option<Result<CaseReport, String>>) {
    let text = String::from_utf8_lossy(bytes);
    match text.rfind(RESULT_MARKER) {
        Some(at) => (
            text[..at].trim_end().to_string(),
            Some(
                serde_json::from_str::<CaseReport>(text[at + RESULT_MARKER.len()..].trim())
                    .map_err(|e| e.to_string()),
            ),
        ),
        None => (text.trim_end().to_string(), None),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::result::Status;

    #[test]
    fn the_result_line_is_split_from_what_the_case_printed() {
        let json = serde_json::to_string(&CaseReport::pass("fine")).unwrap();
        let (printed, result) =
            split_output(format!("hello\n\n{RESULT_MARKER}{json}\n").as_bytes());
        assert_eq!(printed, "hello");
        assert_eq!(result.unwrap().unwrap().status, Status::Pass);
        let (printed, result) = split_output(b"a panic\n");
        assert_eq!((printed.as_str(), result.is_none()), ("a panic", true));
        let (_, result) = split_output(format!("{RESULT_MARKER}{{").as_bytes());
        assert!(result.unwrap().is_err());
    }

    #[test]
    fn only_a_whole_last_line_is_a_result() {
        let json = serde_json::to_string(&CaseReport::pass("fine")).unwrap();
        let line = format!("{RESULT_MARKER}{json}\n");
        assert!(ends_with_result(line.as_bytes()));
        assert!(ends_with_result(format!("hello\n\n{line}").as_bytes()));
        assert!(
            !ends_with_result(line.trim_end().as_bytes()),
            "a line cut short"
        );
        assert!(!ends_with_result(format!("{line}more\n").as_bytes()));
        assert!(!ends_with_result(format!("x{line}").as_bytes()));
        assert!(!ends_with_result(b""));
    }
}
