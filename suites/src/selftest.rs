//! Cases that check the harness itself, not KVM: a deliberately wrong expectation, a panic, a
//! crash and a hang must each be reported as such (a harness that always passes is caught), and
//! a known kernel bug must come out as one (and `--strict` must fail it).
//! Only present when `KVM_CONFORMANCE_SELFTEST=1`; the end-to-end tests use them.

use crate::rows::{alt, known_bug, Checker, KnownBug};
use harness::{judge, CaseReport, Expected, Judgement, Outcome};
use nix::errno::Errno;
use std::sync::Arc;

pub const SUITE: &str = "selftest";
/// Apart from `selftest::`, whose cases the robustness tests count: it writes to the kernel log.
pub const KERNEL_LOG_SUITE: &str = "selftest_kernel_log";
/// The self-test cases about isolation itself (not under `selftest::`: a lost case server is
/// not one of the harness's ordinary outcomes).
pub const ISOLATION_SUITE: &str = "selftest_isolation";

pub fn enabled() -> bool {
    std::env::var("KVM_CONFORMANCE_SELFTEST").as_deref() == Ok("1")
}

#[track_caller]
fn selftest(id: &str, body: fn() -> CaseReport) -> harness::Case {
    in_suite(SUITE, id, body)
}

#[track_caller]
fn in_suite(suite: &str, id: &str, body: fn() -> CaseReport) -> harness::Case {
    let at = std::panic::Location::caller();
    harness::Case {
        id: format!("{suite}::{id}"),
        suite: suite.into(),
        seed_section: "the harness itself".into(),
        ignored: false,
        location: Some(format!("{}:{}", at.file(), at.line())),
        precheck: None,
        cost: harness::Cost::Quick,
        body: Arc::new(move |_| body()),
    }
}

/// close(-1) fails with EBADF on every kernel: a call whose outcome is known.
fn close_minus_one(expected: Expected) -> CaseReport {
    let actual = Outcome::from(nix::unistd::close(-1).map(|()| 0));
    match judge(&expected, actual) {
        Judgement::Pass { .. } | Judgement::KnownBug { .. } => {
            CaseReport::pass("close(-1) as expected")
        }
        Judgement::Fail { .. } => {
            CaseReport::fail(format!("close(-1): expected {expected}, got {actual}"))
        }
    }
}

/// The pretended bug of the two known-bug self-tests.
pub const SELFTEST_BUG: &str =
    "selftest: close(-1) fails with EBADF (pretended to be a kernel bug)";

/// close(-1) through the row machinery, with EBADF playing a documented kernel bug known on this
/// kernel: the call path (an outcome alternative of kind known bug) sees it.
fn known_bug_seen() -> CaseReport {
    let mut c = Checker::new();
    let expected = Expected::OneOf(vec![
        alt(Outcome::OK, "the pretended right answer"),
        known_bug(Errno::EBADF, SELFTEST_BUG, true),
    ]);
    let r = nix::unistd::close(-1).map(|()| 0);
    if let Err(report) = c.call("close(-1)", &"fd -1", expected, r) {
        return report;
    }
    c.pass().unwrap_or_else(|r| r)
}

/// The semantic path: the bug is "close(-1) succeeds", which it does not, so the bug is not
/// seen on a kernel where it is known.
fn known_bug_not_seen() -> CaseReport {
    let mut c = Checker::new();
    let succeeded = nix::unistd::close(-1).is_ok();
    let bug = KnownBug {
        bug: "selftest: close(-1) succeeds (pretended to be a kernel bug)",
        here: true,
        fact: "selftest: every kernel pretends to be one where it is known".into(),
    };
    match c.known_bug(&bug, succeeded, || "close(-1) succeeded".into()) {
        Ok(()) => c.pass().unwrap_or_else(|r| r),
        Err(report) => report,
    }
}

/// Whether this process's parent is a case server (it was forked by one).
fn forked_by_a_case_server() -> bool {
    let parent = nix::unistd::getppid();
    std::fs::read(format!("/proc/{parent}/cmdline"))
        .is_ok_and(|c| c.split(|&b| b == 0).any(|a| a == b"--case-server"))
}

/// A case that kills the case server that forked it: it must cost this case only (an error
/// naming the lost server), and the next case must run in a new server.
pub fn isolation_cases() -> Vec<harness::Case> {
    vec![
        in_suite(ISOLATION_SUITE, "kills_its_case_server", || {
            if !forked_by_a_case_server() {
                return CaseReport::skip(
                    "needs a case server (this process was not forked by one)",
                );
            }
            let _ =
                nix::sys::signal::kill(nix::unistd::getppid(), nix::sys::signal::Signal::SIGKILL);
            // Dies with the server (its parent-death signal).
            std::thread::sleep(std::time::Duration::from_secs(30));
            CaseReport::fail("outlived the case server it killed")
        }),
        in_suite(ISOLATION_SUITE, "runs_after_a_lost_server", || {
            CaseReport::pass("ran after the lost server")
        }),
    ]
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
            // The robustness tests find this case's process by the pid it leaves here.
            if let Ok(path) = std::env::var("KVM_CONFORMANCE_SELFTEST_PIDFILE") {
                let _ = std::fs::write(path, std::process::id().to_string());
            }
            std::thread::sleep(std::time::Duration::from_secs(3600));
            CaseReport::pass("woke up")
        }),
        selftest("skips", || CaseReport::skip("deliberate skip")),
        selftest("known_bug_seen", known_bug_seen),
        selftest("known_bug_not_seen", known_bug_not_seen),
    ]
}

/// What the self-test writes into the kernel log: WARN-shaped, but from a process.
pub const USER_WARN: &str =
    "WARNING: kvm-conformance selftest: a line a process wrote, not a kernel problem";

/// A case that writes a WARN-shaped line into the kernel log (root, through /dev/kmsg): the line
/// must be attached to this case's reports, and the case must still pass, because no process
/// can write a line of the kernel's own (the kernel makes it facility user). Live only.
pub fn kernel_line() -> harness::Case {
    let seed = crate::rows::Seed {
        section: "-",
        ioctl: "the harness itself",
        file: "-",
    };
    let body = |_: &Arc<crate::rows::Host>, _: &harness::CaseContext| {
        if std::fs::write("/dev/kmsg", format!("{USER_WARN}\n")).is_err() {
            return Ok(CaseReport::skip("cannot write /dev/kmsg (needs root)"));
        }
        Ok(close_minus_one(Expected::errno(Errno::EBADF)))
    };
    crate::rows::case(
        KERNEL_LOG_SUITE,
        crate::rows::CaseDef::new("kernel_line", seed, &[], body),
    )
}
