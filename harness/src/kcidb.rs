//! The run in KernelCI's KCIDB I/O schema (v5.3, the version kcidb-io validates as LATEST):
//! one checkout and one build for the kernel under test, one test per case.
//!
//! Mapping: a case is a test with the path `kvm_conformance.<suite>.<group>.<case>`; PASS, FAIL,
//! ERROR (panic, crash, timeout) and SKIP map one to one, a case the run never reached
//! (interrupted) is MISS. A known kernel bug is what KCIDB's triage objects are for: the test is
//! FAIL (the kernel misbehaved), an `issue` names the bug (culprit: the code) and an `incident`
//! links the test to it, so dashboards show it as a known issue; a kernel where the bug is known
//! but did not show gets an incident with `present: false`. The run's properties (kernel
//! release, arch, machine, backend, capabilities, seed) go on the build; each test's
//! environment names the kernel release, arch, machine and backend.

use crate::result::{CaseResult, NotRun, RunRecord, Status};
use serde_json::{json, Map, Value};

/// The origin without `--kcidb-origin`: the program's name in KCIDB's alphabet
/// (`kvm-conformance` -> `kvm_conformance`).
pub fn origin_of(program: &str) -> String {
    program
        .chars()
        .map(|c| match c {
            'a'..='z' | '0'..='9' | '_' => c,
            'A'..='Z' => c.to_ascii_lowercase(),
            _ => '_',
        })
        .collect()
}

/// KCIDB log excerpts are limited to this many bytes.
const LOG_EXCERPT_MAX: usize = 16384;

/// Whether `origin` is a valid KCIDB origin (`^[a-z0-9_]+$`); the error says why not.
pub fn check_origin(origin: &str) -> Result<(), String> {
    if !origin.is_empty()
        && origin
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
    {
        Ok(())
    } else {
        Err(format!(
            "invalid --kcidb-origin '{origin}': KCIDB origins are lower-case letters, digits and '_'"
        ))
    }
}

/// The KCIDB document for `run`, whose report directory is named `run_id`.
pub fn to_json(run: &RunRecord, origin: &str, run_id: &str) -> Value {
    let prop = |name: &str| {
        run.properties
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    };
    let id = |suffix: &str| format!("{origin}:{run_id}{suffix}");
    let started = rfc3339(run.started);
    let kernel = prop("kernel_release").unwrap_or("unknown");
    let arch = prop("arch").unwrap_or("");
    let misc: Map<String, Value> = run
        .properties
        .iter()
        .map(|(k, v)| (k.clone(), Value::String(v.clone())))
        .collect();
    // The environment in short on every test; the whole property set is on the build.
    let env_misc: Map<String, Value> = ["backend", "machine", "kernel_release", "arch"]
        .iter()
        .filter_map(|k| prop(k).map(|v| (k.to_string(), json!(v))))
        .collect();
    let environment = json!({
        "comment": format!(
            "kernel {kernel} on {}, backend {}",
            prop("machine").unwrap_or("this host"),
            prop("backend").unwrap_or("live"),
        ),
        "misc": env_misc,
    });
    let checkout_id = id("");
    let build_id = id(":build");
    let mut checkout = json!({
        "id": checkout_id,
        "origin": origin,
        "comment": format!("the kernel under test: {kernel}"),
        "start_time": started,
        "misc": {"kernel_release": kernel},
    });
    if let Some(package) = prop("kernel_package") {
        checkout["misc"]["kernel_package"] = json!(package);
    }
    let mut build = json!({
        "id": build_id,
        "checkout_id": checkout_id,
        "origin": origin,
        "comment": format!("kernel {kernel} as the suite found it running (not built by the suite)"),
        "start_time": started,
        "misc": misc,
    });
    if arch_is_valid(arch) {
        build["architecture"] = json!(arch);
    }
    let mut tests = Vec::new();
    let mut issues: Vec<Value> = Vec::new();
    let mut incidents = Vec::new();
    for r in &run.results {
        let test_id = id(&format!(":{}", r.id));
        let mut test = json!({
            "id": test_id,
            "build_id": build_id,
            "origin": origin,
            "path": path(&origin_of(&run.name), &r.id),
            "status": status(r),
            "duration": r.duration.as_secs_f64(),
            "comment": first_line(&r.report.summary),
            "log_excerpt": excerpt(r),
            "environment": environment,
            "misc": {"case_id": r.id, "checks": r.seed_section, "rerun": r.rerun},
        });
        if let Some(at) = &r.location {
            test["misc"]["defined_at"] = json!(at);
        }
        if let Some(bug) = &r.report.known_bug {
            let issue_id = format!("{origin}:known-kernel-bug-{:016x}", fnv1a(&bug.bug));
            if !issues.iter().any(|i| i["id"] == issue_id) {
                issues.push(json!({
                    "id": issue_id,
                    "version": 1,
                    "origin": origin,
                    "report_subject": first_line(&bug.bug),
                    "comment": bug.bug,
                    "culprit": {"code": true, "tool": false, "harness": false},
                    "categories": ["kernel.kvm"],
                }));
            }
            incidents.push(json!({
                "id": format!("{test_id}:incident"),
                "origin": origin,
                "issue_id": issue_id,
                "issue_version": 1,
                "test_id": test_id,
                "build_id": build_id,
                "present": bug.seen,
                "comment": if bug.seen { "known kernel bug seen" } else { "known kernel bug not seen on a kernel where it is known (it may be fixed)" },
            }));
            test["misc"]["known_kernel_bug"] = json!(bug.bug);
        }
        tests.push(test);
    }
    json!({
        "version": {"major": 5, "minor": 3},
        "checkouts": [checkout],
        "builds": [build],
        "tests": tests,
        "issues": issues,
        "incidents": incidents,
    })
}

fn status(r: &CaseResult) -> &'static str {
    match r.report.status {
        Status::Pass => "PASS",
        Status::Fail | Status::KnownBug => "FAIL",
        Status::Error => "ERROR",
        Status::Skip if r.not_run == Some(NotRun::Interrupted) => "MISS",
        Status::Skip => "SKIP",
    }
}

/// `ioeventfd::len::rejects_3` -> `kvm_conformance.ioeventfd.len.rejects_3`; characters a KCIDB
/// path cannot hold become `_`.
fn path(origin_prefix: &str, id: &str) -> String {
    let mut p = String::from(origin_prefix);
    for part in id.split("::") {
        p.push('.');
        p.extend(part.chars().map(|c| {
            if c.is_ascii_alphanumeric() || c == '_' || c == '-' {
                c
            } else {
                '_'
            }
        }));
    }
    p
}

fn arch_is_valid(arch: &str) -> bool {
    !arch.is_empty()
        && arch
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
}

fn first_line(s: &str) -> String {
    s.lines().next().unwrap_or_default().to_string()
}

/// The case's report text and its output, cut to the schema's limit on a character boundary;
/// NUL (which the schema forbids) becomes U+FFFD.
fn excerpt(r: &CaseResult) -> String {
    let mut s = crate::junit::describe(r);
    if !r.output.is_empty() {
        s.push_str("output:\n");
        s.push_str(&r.output);
    }
    let mut s = s.replace('\0', "\u{fffd}");
    if s.len() > LOG_EXCERPT_MAX {
        let mut cut = LOG_EXCERPT_MAX;
        while !s.is_char_boundary(cut) {
            cut -= 1;
        }
        s.truncate(cut);
    }
    s
}

fn rfc3339(t: std::time::SystemTime) -> String {
    chrono::DateTime::<chrono::Utc>::from(t).to_rfc3339_opts(chrono::SecondsFormat::Millis, false)
}

/// FNV-1a: a stable id for a bug text across runs and Rust versions.
fn fnv1a(s: &str) -> u64 {
    s.bytes().fold(0xcbf2_9ce4_8422_2325, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::result::tests::sample_run;

    #[test]
    fn one_test_per_case_with_path_status_and_environment() {
        let run = sample_run();
        let v = to_json(&run, "my_ci", "20261202T000000Z-1");
        assert_eq!(v["version"]["major"], 5);
        let tests = v["tests"].as_array().unwrap();
        assert_eq!(tests.len(), run.results.len());
        let by_case = |id: &str| {
            tests
                .iter()
                .find(|t| t["misc"]["case_id"] == id)
                .unwrap_or_else(|| panic!("{id}"))
        };
        let pass = by_case("alpha::a::pass");
        assert_eq!(pass["path"], "kvm_conformance.alpha.a.pass");
        assert_eq!(pass["status"], "PASS");
        assert_eq!(pass["id"], "my_ci:20261202T000000Z-1:alpha::a::pass");
        assert_eq!(pass["build_id"], "my_ci:20261202T000000Z-1:build");
        assert_eq!(pass["environment"]["misc"]["backend"], "live");
        assert_eq!(by_case("alpha::a::fail")["status"], "FAIL");
        assert!(by_case("alpha::a::fail")["log_excerpt"]
            .as_str()
            .unwrap()
            .contains("expected: -1 EINVAL"));
        assert_eq!(v["builds"][0]["checkout_id"], v["checkouts"][0]["id"]);
    }

    #[test]
    fn a_known_bug_is_a_failing_test_with_an_incident_of_one_issue() {
        let run = sample_run();
        let v = to_json(&run, "kvm_conformance", "r");
        let bug_tests: Vec<&Value> = v["tests"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|t| t["misc"].get("known_kernel_bug").is_some())
            .collect();
        assert!(!bug_tests.is_empty(), "the sample run has a known bug");
        let incidents = v["incidents"].as_array().unwrap();
        assert_eq!(incidents.len(), bug_tests.len());
        for t in &bug_tests {
            let inc = incidents.iter().find(|i| i["test_id"] == t["id"]).unwrap();
            let issue = v["issues"]
                .as_array()
                .unwrap()
                .iter()
                .find(|i| i["id"] == inc["issue_id"])
                .unwrap();
            assert_eq!(issue["culprit"]["code"], true);
            if inc["present"] == true {
                assert_eq!(t["status"], "FAIL");
            }
        }
    }

    #[test]
    fn the_default_origin_is_the_program_name() {
        assert_eq!(origin_of("kvm-conformance"), "kvm_conformance");
        assert!(check_origin(&origin_of("My Suite.2")).is_ok());
    }

    #[test]
    fn paths_and_excerpts_fit_the_schema() {
        assert_eq!(
            path("kvm_conformance", "s390_mem_op::ar::17"),
            "kvm_conformance.s390_mem_op.ar.17"
        );
        assert_eq!(
            path("kvm_conformance", "a::b c::d"),
            "kvm_conformance.a.b_c.d"
        );
        let mut run = sample_run();
        run.results[0].output = "é".repeat(LOG_EXCERPT_MAX) + "\0";
        let e = excerpt(&run.results[0]);
        assert!(e.len() <= LOG_EXCERPT_MAX && !e.contains('\0'));
        assert!(check_origin("kvm_conformance").is_ok());
        assert!(check_origin("Bad-Origin").is_err());
        assert!(check_origin("").is_err());
        assert_ne!(fnv1a("a"), fnv1a("b"));
    }
}
