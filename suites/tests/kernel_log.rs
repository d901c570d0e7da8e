//! The kernel log per case, end to end: a self-test case writes a WARN-shaped line into
//! /dev/kmsg (root); the line must be in both reports of that case, and the case must pass,
//! because a line a process wrote is never a kernel WARN (that a kernel WARN fails a case is
//! checked in suites/src/rows.rs with records of facility kern, which no process can write).

use std::process::Command;

const BIN: &str = env!("CARGO_BIN_EXE_kvm-conformance");
const CASE: &str = "selftest_kernel_log::kernel_line";

#[test]
fn a_line_logged_during_a_case_lands_in_both_reports() {
    if std::fs::OpenOptions::new()
        .write(true)
        .open("/dev/kmsg")
        .is_err()
    {
        eprintln!("SKIPPED: /dev/kmsg is not writable here (needs root)");
        return;
    }
    let dir = std::env::temp_dir().join(format!("kc-kmsg-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let o = Command::new(BIN)
        .args(["-q", "--exact", CASE, "--report-dir"])
        .arg(&dir)
        .env("KVM_CONFORMANCE_SELFTEST", "1")
        .output()
        .expect("the binary runs");
    let out = String::from_utf8_lossy(&o.stdout);
    let xml = std::fs::read_to_string(dir.join("latest/junit.xml")).expect("junit.xml");
    let ktap = std::fs::read_to_string(dir.join("latest/results.ktap")).expect("results.ktap");
    if xml.contains("cannot write /dev/kmsg") || xml.contains("no KVM: ") {
        eprintln!("SKIPPED: the case could not run here: {xml}");
        return;
    }
    assert_eq!(o.status.code(), Some(0), "{out}{xml}");
    assert!(
        xml.contains("<system-err>kernel log while this case ran (/dev/kmsg"),
        "{xml}"
    );
    assert!(
        xml.contains("WARNING: kvm-conformance selftest: a line a process wrote"),
        "{xml}"
    );
    assert!(
        ktap.lines()
            .any(|l| l.starts_with("    # kernel: [") && l.contains("a line a process wrote")),
        "{ktap}"
    );
    assert!(
        ktap.contains("    ok 1 selftest_kernel_log::kernel_line\n"),
        "{ktap}"
    );
    let _ = std::fs::remove_dir_all(&dir);
}
