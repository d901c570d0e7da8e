//! Cases that check the harness itself, not KVM: a deliberately wrong expectation, a panic, a
//! crash and a hang must each be reported as such (a harness that always passes is caught).
//! Only present when `KVM_CONFORMANCE_SELFTEST=1`; the end-to-end tests use them.

use harness::{judge, CaseReport, Expected, Judgement, Outcome};
use nix::errno::Errno;
use std::sync::Arc;

pub const SUITE: &str = "selftest";

pub fn enabled() -> bool {
    std::env::var("KVM_CONFORMANCE_SELFTEST").as_deref() == Ok("1")
}

fn selftest(id: &str, body: fn() -> CaseReport) -> harness::Case {
    harness::Case {
        id: format!("{SUITE}::{id}"),
        suite: SUITE.into(),
        seed_section: "the harness itself".into(),
        ignored: false,
        body: Arc::new(move |_| body()),
    }
}

/// close(-1) fails with EBADF on every kernel: a call whose outcome is known.
fn close_minus_one(expected: Expected) -> CaseReport {
    let actual = Outcome::from(nix::unistd::close(-1).map(|()| 0));
    match judge(&expected, actual) {
        Judgement::Pass { .. } => CaseReport::pass("close(-1) as expected"),
        Judgement::Fail { .. } => {
            CaseReport::fail(format!("close(-1): expected {expected}, got {actual}"))
        }
    }
}

pub fn cases() -> Vec<harness::Case> {
    vec![
        selftest("right_expectation", || {
            close_minus_one(Expected::errno(Errno::EBADF))
        }),
        selftest("wrong_expectation", || close_minus_one(Expected::ok())),
        selftest("panics", || panic!("deliberate panic")),
        selftest("crashes", || std::process::abort()),
        selftest("hangs", || {
            std::thread::sleep(std::time::Duration::from_secs(3600));
            CaseReport::pass("woke up")
        }),
        selftest("skips", || CaseReport::skip("deliberate skip")),
    ]
}
