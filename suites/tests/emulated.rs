//! End-to-end on the emulated s390x machine: boot a Debian s390x kernel under the emulator and
//! run a small filter, when an emulator, the static s390x build and a cached kernel are there
//! (`./run.sh --emulate-s390 6.12` provides all three); otherwise the test says what is missing
//! and passes without running (a unit test cannot install packages or fetch kernels).

use std::path::{Path, PathBuf};
use std::process::Command;

const BIN: &str = env!("CARGO_BIN_EXE_kvm-conformance");

fn target_dir() -> PathBuf {
    Path::new(BIN)
        .ancestors()
        .find(|p| p.file_name().is_some_and(|n| n == "target"))
        .expect("the test binary lives under target/")
        .to_path_buf()
}

/// Why the emulated run cannot be tried here, if it cannot.
fn missing() -> Option<String> {
    let hercules = std::env::var("HERCULES").unwrap_or_else(|_| "hercules".into());
    if Command::new(&hercules).arg("--version").output().is_err() {
        return Some(format!("no emulator ({hercules} not found)"));
    }
    let static_build =
        target_dir().join("s390x-static/s390x-unknown-linux-gnu/release/kvm-conformance");
    if !static_build.is_file() {
        return Some(format!(
            "no static s390x build at {}",
            static_build.display()
        ));
    }
    let kernels = target_dir().join("emulate/kernels");
    let has_612 = std::fs::read_dir(&kernels)
        .map(|d| {
            d.flatten()
                .any(|e| e.file_name().to_string_lossy().starts_with("6.12."))
        })
        .unwrap_or(false);
    if !has_612 {
        return Some(format!("no cached 6.12 kernel under {}", kernels.display()));
    }
    None
}

#[test]
fn boots_a_real_s390x_kernel_and_runs_a_filter() {
    if let Some(why) = missing() {
        eprintln!("SKIPPED: {why}; run ./run.sh --emulate-s390 6.12 once to provide it");
        return;
    }
    let reports = std::env::temp_dir().join(format!("kc-emulated-e2e-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&reports);
    let out = Command::new(BIN)
        .args(["--emulate-s390", "6.12", "-q", "--report-dir"])
        .arg(&reports)
        .args(["--seed", "7", "s390_irq_state::get::"])
        .output()
        .expect("the binary runs");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(out.status.code(), Some(0), "{text}");
    assert!(text.contains("EMULATED s390x machine"), "{text}");
    let junit = std::fs::read_to_string(reports.join("latest/junit.xml")).expect("junit.xml");
    let ktap = std::fs::read_to_string(reports.join("latest/results.ktap")).expect("results.ktap");
    // The reports say what ran: a live s390x kernel on an emulated machine.
    for want in [
        r#"name="backend" value="live""#,
        r#"name="arch" value="s390x""#,
        r#"name="machine" value="emulated: "#,
        r#"name="kernel_package" value="linux-image-6.12."#,
    ] {
        assert!(junit.contains(want), "junit.xml lacks {want}");
    }
    assert!(ktap.contains("# machine: emulated: "), "{ktap}");
    let passed = ktap
        .lines()
        .filter(|l| l.trim_start().starts_with("ok "))
        .count();
    assert!(
        passed >= 10,
        "expected the get:: cases to run and pass:\n{ktap}"
    );
    assert!(!ktap.contains("not ok"), "{ktap}");
    std::fs::remove_dir_all(&reports).unwrap();
}
