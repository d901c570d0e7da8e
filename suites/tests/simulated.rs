//! The suite against the simulated s390 kernel: every generation passes except where a
//! generation reproduces a known regression (then exactly those cases fail, with the hint),
//! and every named mutant makes at least one case fail (the mutation score is printed).

use quick_junit::{Report, TestCaseStatus};
use std::path::PathBuf;
use std::process::Command;

const BIN: &str = env!("CARGO_BIN_EXE_kvm-conformance");

struct Run {
    code: Option<i32>,
    failed: Vec<(String, String)>,
    output: String,
}

fn simulated(extra: &[&str], tag: &str) -> Run {
    let dir: PathBuf =
        std::env::temp_dir().join(format!("kvm-conformance-sim-{tag}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let o = Command::new(BIN)
        .args([
            "-q",
            "--backend",
            "simulated",
            "--seed",
            "1",
            "--report-dir",
            dir.to_str().unwrap(),
        ])
        .args(extra)
        .env_remove("PROPTEST_CASES")
        .output()
        .expect("the binary runs");
    let output = format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    );
    let xml = std::fs::read_to_string(dir.join("latest/junit.xml"))
        .unwrap_or_else(|e| panic!("{e}: {output}"));
    let report = Report::deserialize_from_str(&xml).unwrap();
    let mut failed = Vec::new();
    for suite in &report.test_suites {
        for case in &suite.test_cases {
            if let TestCaseStatus::NonSuccess {
                description,
                message,
                ..
            } = &case.status
            {
                let text = description
                    .as_ref()
                    .or(message.as_ref())
                    .map(|d| d.to_string())
                    .unwrap_or_default();
                failed.push((case.name.to_string(), text));
            }
        }
    }
    let _ = std::fs::remove_dir_all(&dir);
    Run {
        code: o.status.code(),
        failed,
        output,
    }
}

#[test]
fn generations_6_12_and_7_2_pass() {
    for generation in ["6.12", "7.2"] {
        let r = simulated(&["--sim-kernel", generation], generation);
        assert!(
            r.failed.is_empty(),
            "simulated {generation}: {:#?}",
            r.failed
        );
        assert_eq!(r.code, Some(0), "{}", r.output);
        assert!(r.output.contains("SIMULATED s390 kernel"), "{}", r.output);
    }
}

#[test]
fn generation_7_0_fails_only_the_storage_key_regression_cases_with_the_hint() {
    let r = simulated(&["--sim-kernel", "7.0"], "7.0");
    assert_eq!(r.code, Some(1), "{}", r.output);
    assert!(!r.failed.is_empty());
    for (id, text) in &r.failed {
        assert!(id.starts_with("s390_skeys::"), "{id} failed on 7.0: {text}");
        assert!(text.contains("known regression"), "{id}: {text}");
    }
}

#[test]
fn every_mutant_is_killed() {
    let list = Command::new(BIN)
        .args(["--mutant", "list"])
        .output()
        .unwrap();
    assert!(list.status.success());
    let names: Vec<String> = String::from_utf8_lossy(&list.stdout)
        .lines()
        .filter_map(|l| l.split_whitespace().next().map(str::to_string))
        .collect();
    assert!(
        names.len() >= 15,
        "at least 15 mutants, got {}",
        names.len()
    );
    let mut survivors = Vec::new();
    for name in &names {
        let r = simulated(&["--mutant", name], name);
        if r.failed.is_empty() || r.code != Some(1) {
            survivors.push(name.clone());
        } else {
            eprintln!(
                "mutant {name:<40} killed by {} cases, e.g. {}",
                r.failed.len(),
                r.failed[0].0
            );
        }
    }
    let killed = names.len() - survivors.len();
    // Written to the stderr handle directly: libtest captures println!/eprintln!, and the score
    // belongs in every test log.
    use std::io::Write;
    let _ = writeln!(
        std::io::stderr(),
        "mutation score: {killed}/{} mutants killed",
        names.len()
    );
    assert!(survivors.is_empty(), "surviving mutants: {survivors:?}");
}
