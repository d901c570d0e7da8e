//! The suite against the simulated s390 kernel: every generation passes except where a
//! generation reproduces a known regression (then exactly those cases fail, with the hint) or a
//! known kernel bug (then exactly that case is a known kernel bug), and every named mutant is
//! caught (the mutation score is printed): it makes at least one case fail, or, for a mutant
//! that removes a generation's known kernel bug, the case that knows the bug reports it not seen.

use fixtures::sim::Mutant;
use quick_junit::{Report, TestCaseStatus};
use std::path::PathBuf;
use std::process::Command;

const BIN: &str = env!("CARGO_BIN_EXE_kvm-conformance");

struct Run {
    code: Option<i32>,
    failed: Vec<(String, String)>,
    /// (case id, one-line message) of the failures (errors not included).
    failure_messages: Vec<(String, String)>,
    /// (case id, skip message), known kernel bugs not included
    skipped: Vec<(String, String)>,
    /// Cases reported as known kernel bugs (JUnit: skipped, type xfail).
    known_bugs: Vec<String>,
    /// Passed cases whose known kernel bug was not seen.
    bugs_not_seen: Vec<String>,
    output: String,
}

/// The case that checks the classic gmap's key drop after a fault-in.
const DROP_ROW: &str = "s390_skeys::set::key_kept_after_fault_in";
/// The case that checks the classic gmap's unmapped slot at a guest address not 1 MiB aligned.
const UNALIGNED_GPA_ROW: &str = "set_user_memory_region::s390::slot_at_4k_gpa_is_mapped";

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
    let (mut failed, mut known_bugs, mut bugs_not_seen) = (Vec::new(), Vec::new(), Vec::new());
    let mut failure_messages = Vec::new();
    let mut skipped = Vec::new();
    for suite in &report.test_suites {
        for case in &suite.test_cases {
            match &case.status {
                TestCaseStatus::NonSuccess {
                    description,
                    message,
                    kind,
                    ..
                } => {
                    if *kind == quick_junit::NonSuccessKind::Failure {
                        let m = message.as_ref().map(|m| m.to_string()).unwrap_or_default();
                        failure_messages.push((case.name.to_string(), m));
                    }
                    let text = description
                        .as_ref()
                        .or(message.as_ref())
                        .map(|d| d.to_string())
                        .unwrap_or_default();
                    failed.push((case.name.to_string(), text));
                }
                TestCaseStatus::Skipped { ty: Some(ty), .. } if ty.as_str() == "xfail" => {
                    known_bugs.push(case.name.to_string())
                }
                TestCaseStatus::Skipped { message, .. } => {
                    let text = message.as_ref().map(|m| m.to_string()).unwrap_or_default();
                    skipped.push((case.name.to_string(), text));
                }
                TestCaseStatus::Success { .. }
                    if case
                        .system_out
                        .as_ref()
                        .is_some_and(|o| o.contains("note: known kernel bug not seen: ")) =>
                {
                    bugs_not_seen.push(case.name.to_string())
                }
                _ => {}
            }
        }
    }
    let _ = std::fs::remove_dir_all(&dir);
    Run {
        code: o.status.code(),
        failed,
        failure_messages,
        skipped,
        known_bugs,
        bugs_not_seen,
        output,
    }
}

/// The run of one generation without a mutant, made once and shared by the tests that need it.
fn clean(generation: &str) -> &'static Run {
    use std::collections::HashMap;
    use std::sync::{Mutex, OnceLock};
    static RUNS: OnceLock<Mutex<HashMap<String, &'static OnceLock<Run>>>> = OnceLock::new();
    let cell: &'static OnceLock<Run> = RUNS
        .get_or_init(Mutex::default)
        .lock()
        .unwrap()
        .entry(generation.to_string())
        .or_insert_with(|| Box::leak(Box::default()));
    cell.get_or_init(|| {
        simulated(
            &["--sim-kernel", generation],
            &format!("clean-{generation}"),
        )
    })
}

#[test]
fn generations_6_1_6_12_and_7_2_pass() {
    for generation in ["6.1", "6.12", "7.2"] {
        let r = clean(generation);
        assert!(
            r.failed.is_empty(),
            "simulated {generation}: {:#?}",
            r.failed
        );
        assert_eq!(r.code, Some(0), "{}", r.output);
        assert!(r.output.contains("SIMULATED s390 kernel"), "{}", r.output);
        assert!(
            r.bugs_not_seen.is_empty(),
            "{generation}: {:?}",
            r.bugs_not_seen
        );
        if generation != "7.2" {
            // The classic gmap (6.1, 6.12) drops a key after a fault-in and leaves a slot at a
            // guest address not 1 MiB aligned unmapped: the one row for each says so.
            let mut bugs = r.known_bugs.clone();
            bugs.sort();
            assert_eq!(bugs, [DROP_ROW, UNALIGNED_GPA_ROW], "{}", r.output);
            assert!(
                r.output
                    .lines()
                    .any(|l| l.starts_with("known kernel bugs: 2 (")
                        && l.contains(&format!("{DROP_ROW}: classic gmap: "))),
                "{}",
                r.output
            );
        } else {
            assert!(r.known_bugs.is_empty(), "{generation}: {:?}", r.known_bugs);
            assert!(!r.output.contains("known kernel bug"), "{}", r.output);
        }
    }
}

/// The ucontrol rows (both memslot suites): on the default configuration (Debian's kernels:
/// KVM_CAP_S390_UCONTROL 0) they skip with the reason and the no-capability row runs; on the
/// ucontrol-capable one (`--sim-ucontrol`) they run, 6.12 and 7.2 pass (each with its own
/// answer for a slot at guest address 0, decided by the slot count) and on 6.1 the slot at
/// guest address 0 does not run (its hook lacks the ucontrol rejection: a crash on a real
/// kernel; v2 does not exist there).
#[test]
fn ucontrol_rows_skip_by_default_and_run_with_sim_ucontrol() {
    const FILTER: &str = "::ucontrol::";
    let off = simulated(&[FILTER], "ucontrol-off");
    assert_eq!(off.code, Some(0), "{}", off.output);
    assert!(off.failed.is_empty(), "{:#?}", off.failed);
    let reasons: Vec<&str> = off.skipped.iter().map(|(_, m)| m.as_str()).collect();
    assert!(!reasons.is_empty());
    assert!(
        reasons
            .iter()
            .all(|m| *m == "needs KVM_CAP_S390_UCONTROL; host reports 0"),
        "{reasons:?}"
    );
    assert_eq!(off.skipped.len(), 9, "{:?}", off.skipped);
    for generation in ["6.12", "7.2"] {
        let on = simulated(
            &["--sim-ucontrol", "--sim-kernel", generation, FILTER],
            &format!("ucontrol-{generation}"),
        );
        assert_eq!(on.code, Some(0), "{generation}: {}", on.output);
        // Only the no-capability row skips; 9 rows ran.
        let skipped: Vec<&str> = on.skipped.iter().map(|(id, _)| id.as_str()).collect();
        assert_eq!(
            skipped,
            ["set_user_memory_region::ucontrol::create_vm_without_capability"],
            "{generation}"
        );
    }
    let old = simulated(
        &["--sim-ucontrol", "--sim-kernel", "6.1", FILTER],
        "ucontrol-6.1",
    );
    // 6.1 has no ucontrol memslot check: the slot at gpa 0 would be mapped through the VM's
    // NULL gmap (a crash on a real kernel), so that row does not run there.
    assert_eq!(old.code, Some(0), "{}", old.output);
    assert!(old.failed.is_empty(), "{:#?}", old.failed);
    let gated: Vec<&str> = old
        .skipped
        .iter()
        .filter(|(_, why)| why.starts_with("needs kernel 6.12.107 or later"))
        .map(|(id, _)| id.as_str())
        .collect();
    assert_eq!(
        gated,
        ["set_user_memory_region::ucontrol::slot_at_gpa_0"],
        "{}",
        old.output
    );
}

#[test]
fn strict_fails_the_known_kernel_bug_of_6_12() {
    let r = simulated(
        &["--sim-kernel", "6.12", "--strict", "s390_skeys::"],
        "6.12-strict",
    );
    assert_eq!(r.code, Some(1), "{}", r.output);
    let ids: Vec<&str> = r.failed.iter().map(|(id, _)| id.as_str()).collect();
    assert_eq!(ids, [DROP_ROW], "{}", r.output);
    assert!(r.failed[0]
        .1
        .starts_with("known kernel bug (failing with --strict): classic gmap: "));
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

/// kernel-semantics.md §6.3: a VM memory limit of 0 (7.2 on a machine without a host address
/// limit) is one cause: one failing row names it, every case that needs a memslot is not
/// runnable with that reason (no setup failures), and the rest still runs.
#[test]
fn a_zero_memory_limit_is_one_failure_and_the_memslot_cases_are_not_runnable() {
    const REASON: &str = "not runnable: the VM memory limit is 0 (KVM_S390_VM_MEM_LIMIT_SIZE), \
        so every memslot is refused; see set_user_memory_region::s390::mem_limit_nonzero";
    let r = simulated(&["--mutant", "mem-limit-zero"], "mem-limit-zero-one-cause");
    assert_eq!(r.code, Some(1), "{}", r.output);
    let ids: Vec<&str> = r.failed.iter().map(|(id, _)| id.as_str()).collect();
    assert_eq!(
        ids,
        ["set_user_memory_region::s390::mem_limit_nonzero"],
        "{:#?}",
        r.failed
    );
    let text = &r.failed[0].1;
    assert!(
        text.contains("no host address limit") && text.contains("§6.3"),
        "{text}"
    );
    let not_runnable: Vec<&str> = r
        .skipped
        .iter()
        .filter(|(_, why)| why == REASON)
        .map(|(id, _)| id.as_str())
        .collect();
    for id in [
        "s390_mem_op::op::logical_read_on_vcpu",
        "s390_mem_op::vm::absolute_write",
        "s390_mem_op::property::vcpu_logical_random_data",
        "s390_skeys::enable::set_switches_keys_on",
        "s390_skeys::property::set_get_round_trip",
        "set_user_memory_region::create::slot_0",
        "set_user_memory_region::overlap::same_range",
        "set_user_memory_region::s390::size_4k",
        "set_user_memory_region::s390::slot_ending_at_mem_limit",
        "set_user_memory_region::s390::slot_crossing_mem_limit",
        "set_user_memory_region::fill::every_slot_then_one_more",
        "set_user_memory_region::property::create_modify_move_delete_model",
    ] {
        assert!(
            not_runnable.contains(&id),
            "{id} is not reported as not runnable: {:?}",
            r.skipped.iter().find(|(i, _)| i == id)
        );
    }
    // What does not need a memslot still runs and passes.
    for id in [
        "set_user_memory_region::align::gpa_one",
        "s390_skeys::none::get_without_memslots",
        "s390_irq_state::set_len::zero",
    ] {
        assert!(!r.skipped.iter().any(|(i, _)| i == id), "{id} was skipped");
    }
}

/// A kernel without KVM_CAP_IOEVENTFD (the mutant answers 0, the ioctl still works): the
/// capability row is the one failure, and every other ioeventfd case (rows, argument-pointer
/// cases, the property) skips naming the capability, or, for the x86_64 guest rows on this
/// s390x kernel, the architecture; none runs.
#[test]
fn without_kvm_cap_ioeventfd_every_ioeventfd_case_skips_with_the_reason() {
    const REASON: &str = "needs KVM_CAP_IOEVENTFD; host reports 0";
    let r = simulated(
        &[
            "--mutant",
            "ioeventfd-cap-absent",
            "--include-ignored",
            "ioeventfd::",
        ],
        "ioeventfd-cap-absent-skips",
    );
    assert_eq!(r.code, Some(1), "{}", r.output);
    let ids: Vec<&str> = r.failed.iter().map(|(id, _)| id.as_str()).collect();
    assert_eq!(ids, ["ioeventfd::cap::ioeventfd_is_1"], "{:#?}", r.failed);
    let by_cap = r.skipped.iter().filter(|(_, why)| why == REASON).count();
    let by_arch = r
        .skipped
        .iter()
        .filter(|(_, why)| why == "needs x86_64; kernel is s390x")
        .count();
    assert_eq!(
        by_cap + by_arch,
        r.skipped.len(),
        "a skip for another reason: {:#?}",
        r.skipped
            .iter()
            .filter(|(_, why)| why != REASON && !why.starts_with("needs x86_64"))
            .collect::<Vec<_>>()
    );
    assert!(by_cap > 140, "{by_cap} cases skipped for the capability");
    for id in [
        "ioeventfd::len::accepts_1",
        "ioeventfd::arg::null_pointer",
        "ioeventfd::property::assign_deassign_model",
        "ioeventfd::bus::more_than_nr_iobus_devs_on_one_bus",
    ] {
        assert!(
            r.skipped.iter().any(|(i, why)| i == id && why == REASON),
            "{id}: {:?}",
            r.skipped.iter().find(|(i, _)| i == id)
        );
    }
}

/// A failure's one line names the expectation and what the kernel did instead.
fn states_expected_and_actual(message: &str) -> bool {
    let m = message.to_lowercase();
    m.contains("expected")
        && [
            "got ",
            "actual",
            "returned",
            "answered",
            "gave",
            "read back",
            "listed",
            "holds",
            "wrote",
            " is ",
        ]
        .iter()
        .any(|w| m.contains(w))
}

/// Every failure message states expected and actual: property failures included.
#[test]
fn failure_messages_state_expected_and_actual() {
    // Property failures of every kind of property, and the 7.0 regression rows.
    for (args, tag, property) in [
        (
            &["--mutant", "set-skeys-accepts-bit0", "s390_skeys::"][..],
            "msg-skeys",
            "s390_skeys::property::set_get_round_trip",
        ),
        (
            &["--mutant", "skeys-unmapped-pgm", "s390_skeys::"],
            "msg-pgm",
            "s390_skeys::property::set_get_round_trip",
        ),
        (
            &["--mutant", "get-irq-state-truncates", "s390_irq_state::"],
            "msg-irq",
            "s390_irq_state::property::enobufs_exactly_when_too_small",
        ),
        (
            &[
                "--mutant",
                "memslot-overlap-allowed",
                "set_user_memory_region::property",
            ],
            "msg-memslot",
            "set_user_memory_region::property::create_modify_move_delete_model",
        ),
        (
            &[
                "--mutant",
                "ioeventfd-deassign-ignores-datamatch",
                "ioeventfd::property",
            ],
            "msg-ioeventfd",
            "ioeventfd::property::assign_deassign_model",
        ),
        (
            &["--sim-kernel", "7.0", "s390_skeys::"],
            "msg-7.0",
            "s390_skeys::property::set_get_round_trip",
        ),
    ] {
        let r = simulated(args, tag);
        assert!(
            r.failure_messages.iter().any(|(id, _)| id == property),
            "{args:?}: {property} did not fail: {:#?}",
            r.failure_messages
        );
        for (id, message) in &r.failure_messages {
            assert!(
                states_expected_and_actual(message),
                "{args:?}: {id}: {message}"
            );
        }
    }
}

/// Mutant runs at a time. Each run already starts `--test-threads` (one per CPU) case
/// processes; a second run beside it fills the gaps while one starts up or writes reports.
const MUTANT_WORKERS: usize = 2;

/// The suite whose cases a mutant deviates under, from its name: the mutant is first run
/// against that suite alone (a case process costs more than most cases), and against every
/// suite only when that does not catch it.
fn focus(mutant: &str) -> Option<&'static str> {
    const AREAS: &[(&[&str], &str)] = &[
        (&["memop", "cmpxchg"], "s390_mem_op::"),
        (&["skeys", "keyop", "key-after-fault-in"], "s390_skeys::"),
        (
            &["irq", "emergency", "mchk", "program-int"],
            "s390_irq_state::",
        ),
        (&["region2"], "set_user_memory_region2::"),
        (
            &["memslot", "gmap", "gpa", "mem-limit", "ucontrol"],
            "set_user_memory_region::",
        ),
        (&["ioeventfd"], "ioeventfd::"),
    ];
    AREAS
        .iter()
        .find(|(words, _)| words.iter().any(|w| mutant.contains(w)))
        .map(|(_, suite)| *suite)
}

/// How one mutant run ended.
enum Verdict {
    Killed {
        by: usize,
        first: String,
    },
    /// It removes a known kernel bug: the case that knows the bug reports it not seen.
    BugNotSeen(String),
    Survived,
}

fn judge_mutant(name: &str) -> Verdict {
    let focused = focus(name).map(|suite| judge_mutant_on(name, Some(suite)));
    match focused {
        Some(v @ (Verdict::Killed { .. } | Verdict::BugNotSeen(_))) => v,
        _ => judge_mutant_on(name, None),
    }
}

/// One run with the mutant, of `filter`'s cases or of all.
fn judge_mutant_on(name: &str, filter: Option<&str>) -> Verdict {
    // A mutant of one generation runs there, the others on the default generation.
    let generation = name
        .parse::<Mutant>()
        .ok()
        .and_then(|m| m.generation())
        .map(|g| g.version());
    let mut args = vec!["--mutant", name];
    if let Some(g) = generation {
        args.extend(["--sim-kernel", g]);
    }
    // A mutant of a ucontrol VM runs where ucontrol VMs exist.
    if name.parse::<Mutant>().is_ok_and(|m| m.needs_sim_ucontrol()) {
        args.push("--sim-ucontrol");
    }
    args.extend(filter);
    let r = simulated(&args, name);
    for (id, message) in &r.failure_messages {
        assert!(
            states_expected_and_actual(message),
            "mutant {name}: the failure of {id} does not say what was expected and what came: {message}"
        );
    }
    if !r.failed.is_empty() && r.code == Some(1) {
        return Verdict::Killed {
            by: r.failed.len(),
            first: r.failed[0].0.clone(),
        };
    }
    // A mutant that removes a known kernel bug cannot make a case fail (a kernel with the
    // fix must pass): the case that knows the bug reports it not seen.
    let bugs = &clean(generation.unwrap_or("7.2")).known_bugs;
    match r.bugs_not_seen.iter().find(|id| bugs.contains(id)) {
        Some(id) if r.code == Some(0) => Verdict::BugNotSeen(id.clone()),
        _ => Verdict::Survived,
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
    let next = std::sync::atomic::AtomicUsize::new(0);
    let verdicts = std::sync::Mutex::new(Vec::new());
    std::thread::scope(|s| {
        for _ in 0..MUTANT_WORKERS {
            s.spawn(|| loop {
                let i = next.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                let Some(name) = names.get(i) else { break };
                let verdict = judge_mutant(name);
                verdicts.lock().unwrap().push((i, verdict));
            });
        }
    });
    let mut verdicts = verdicts.into_inner().unwrap();
    verdicts.sort_by_key(|(i, _)| *i);
    let mut survivors = Vec::new();
    for (i, verdict) in verdicts {
        let name = &names[i];
        match verdict {
            Verdict::Killed { by, first } => {
                eprintln!("mutant {name:<40} killed by {by} cases, e.g. {first}")
            }
            Verdict::BugNotSeen(id) => {
                eprintln!("mutant {name:<40} caught: {id} reports its known kernel bug not seen")
            }
            Verdict::Survived => survivors.push(name.clone()),
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
