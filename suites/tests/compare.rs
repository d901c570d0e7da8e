//! `kvm-conformance compare` end to end: two real runs of the binary (the simulated kernel with
//! and without a mutant stand in for a kernel before and after a patch), compared both ways.

use std::path::{Path, PathBuf};
use std::process::Command;

const BIN: &str = env!("CARGO_BIN_EXE_kvm-conformance");
const FILTER: &str = "ioeventfd::len::";

fn run_into(dir: &Path, extra: &[&str]) {
    let o = Command::new(BIN)
        .args([
            "-q",
            "--backend",
            "simulated",
            "--seed",
            "1",
            "--report-dir",
        ])
        .arg(dir)
        .args(extra)
        .arg(FILTER)
        .output()
        .expect("the binary runs");
    assert!(
        dir.join("latest/junit.xml").is_file(),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
}

fn compare(args: &[&Path], extra: &[&str]) -> (Option<i32>, String, String) {
    let o = Command::new(BIN)
        .arg("compare")
        .args(args)
        .args(extra)
        .output()
        .expect("the binary runs");
    (
        o.status.code(),
        String::from_utf8_lossy(&o.stdout).into_owned(),
        String::from_utf8_lossy(&o.stderr).into_owned(),
    )
}

#[test]
fn compare_names_what_newly_fails_and_what_was_fixed() {
    let root: PathBuf = std::env::temp_dir().join(format!("kc-compare-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&root);
    let (good, bad) = (root.join("good"), root.join("bad"));
    run_into(&good, &[]);
    run_into(&bad, &["--mutant", "ioeventfd-len3-accepted"]);
    // Every run also writes kcidb.json (CI validates it with kcidb-io): one test per case.
    let kcidb: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(bad.join("latest/kcidb.json")).unwrap())
            .unwrap();
    let failing: Vec<&str> = kcidb["tests"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|t| t["status"] == "FAIL")
        .map(|t| t["path"].as_str().unwrap())
        .collect();
    assert_eq!(
        failing,
        [
            "kvm_conformance.ioeventfd.len.pio_rejects_3",
            "kvm_conformance.ioeventfd.len.rejects_3"
        ]
    );

    let (code, out, err) = compare(&[&good, &bad], &[]);
    assert_eq!(code, Some(1), "{out}{err}");
    assert!(out.contains("newly failing (2):\n"), "{out}");
    assert!(
        out.contains("  ioeventfd::len::rejects_3: pass -> FAIL: KVM_IOEVENTFD on the VM fd: expected -1 EINVAL"),
        "{out}"
    );
    assert!(
        out.contains("  mutant: (absent) -> ioeventfd-len3-accepted\n"),
        "{out}"
    );
    assert!(out.ends_with("compare: 2 newly failing, 0 fixed, 0 still failing, 0 alternatives changed, 0 known bugs appeared, 0 gone, 0 added, 0 removed, 0 other changes\n"), "{out}");

    // The other way round: fixed, nothing newly failing, exit 0; a junit.xml path works too.
    let (code, out, _) = compare(&[&bad.join("latest/junit.xml"), &good], &[]);
    assert_eq!(code, Some(0), "{out}");
    assert!(out.contains("fixed (2):\n"), "{out}");

    let (code, out, _) = compare(&[&good, &bad], &["--format", "json"]);
    assert_eq!(code, Some(1));
    let v: serde_json::Value = serde_json::from_str(&out).expect("json");
    assert_eq!(v["newly_failing"].as_array().unwrap().len(), 2, "{out}");

    // The same run twice: nothing to say but the closing line.
    let (code, out, _) = compare(&[&good, &good], &[]);
    assert_eq!(code, Some(0));
    assert_eq!(out.lines().count(), 2, "{out}");

    let (code, out, err) = compare(&[&good, &root.join("missing")], &[]);
    assert_eq!(code, Some(2));
    assert!(out.is_empty());
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(
        err.contains("cannot read") && err.contains("missing"),
        "{err}"
    );
    let _ = std::fs::remove_dir_all(&root);
}
