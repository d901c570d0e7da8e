//! Cases that cannot run on this host for a reason no row's arguments can avoid
//! (`fixtures::not_runnable`): reported as skips whose reason names the cause and the one row
//! that fails for it, instead of one setup failure per case.

use fixtures::not_runnable::{self, NotRunnable};
use harness::{CaseReport, Status};

/// A case body starts: forget what this thread saw before.
pub fn case_starts() {
    not_runnable::clear();
}

/// A case body ended. If it failed or errored after a memslot was refused for a host-wide
/// cause, the failure is that cause's consequence: report the case as not runnable, keeping
/// what stopped it as a detail.
pub fn case_ended(report: CaseReport) -> CaseReport {
    let seen = not_runnable::take();
    match (seen, report.status) {
        (Some(cause), Status::Fail | Status::Error) => {
            let mut skip = skip(cause);
            skip.details
                .push(format!("the case stopped at: {}", report.summary));
            skip
        }
        _ => report,
    }
}

/// The skip for a case that needs what `cause` makes impossible.
pub fn skip(cause: NotRunnable) -> CaseReport {
    CaseReport::skip(cause.to_string())
}
