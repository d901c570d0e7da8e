//! Listing, running and reporting as separate stages. The parent turns cases into
//! libtest-mimic trials; each trial runs its case in a child process of this same binary
//! (`--child-case ID`) under a timeout, so a crash, hang or leaked kernel state stays with
//! one case. The reporters only ever see the collected `RunRecord`.

use crate::cli::HarnessArgs;
use crate::console::Console;
use crate::result::{CaseReport, CaseResult, RunRecord, Status};
use libtest_mimic::{Completion, Failed, Trial};
use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode, Stdio};
use std::sync::{mpsc, Arc, Mutex};
use std::time::{Duration, Instant, SystemTime};

/// What a case body gets from the runner.
#[derive(Debug, Clone, Copy)]
pub struct CaseContext {
    /// Seed for anything random (proptest), the same in parent and child.
    pub seed: u64,
    /// Generated inputs per property, when the user set it.
    pub proptest_cases: Option<u32>,
    /// Each case runs in a process of its own (false with --in-process): process-wide kernel
    /// state cannot leak from one case into the next.
    pub isolated: bool,
}

pub type CaseBody = Arc<dyn Fn(&CaseContext) -> CaseReport + Send + Sync>;

/// One conformance case, as the harness sees it.
#[derive(Clone)]
pub struct Case {
    /// Stable unique id, `suite::group::case`.
    pub id: String,
    /// The suite (one per documented ioctl) the case belongs to.
    pub suite: String,
    /// What the case checks: the seed section, e.g. "api.txt 4.34 (seeds/003)".
    pub seed_section: String,
    /// Not run unless `--ignored` / `--include-ignored` (slow or stressful cases).
    pub ignored: bool,
    /// Where the case is defined (`file:line`): shown by `--list --locations` and in every
    /// failure message and report.
    pub location: Option<String>,
    pub body: CaseBody,
}

/// Everything the runner needs from the suites.
pub struct RunPlan {
    pub name: String,
    /// Suite names in report order.
    pub suites: Vec<String>,
    pub cases: Vec<Case>,
    /// Run properties for the reports (kernel, arch, backend, capabilities, ...).
    pub properties: Vec<(String, String)>,
    /// Lines printed first, e.g. "no KVM: /dev/kvm: ENOENT" or the simulated-kernel marker.
    pub banner: Vec<String>,
    /// Options a rerun of one case needs (backend, generation, ...), after the program.
    pub rerun_args: Vec<String>,
    /// Why the run cannot really be done (e.g. no usable KVM): the cases still run (they skip
    /// with the reason) and the reports are complete, but the run then exits 2 with this line.
    pub unusable: Option<String>,
}

const RESULT_MARKER: &str = "@@kvm-conformance-result@@ ";

/// Run the plan as the command line says and return the process exit status:
/// 0 nothing failed, 1 a case failed, 2 the run itself could not be done. A known kernel bug
/// is not a failure unless `--strict`.
pub fn run(args: &HarnessArgs, plan: RunPlan) -> ExitCode {
    let seed = args.seed.unwrap_or_else(random_seed);
    let ctx = CaseContext {
        seed,
        proptest_cases: args.proptest_cases,
        isolated: !args.in_process,
    };

    if let Some(id) = &args.child_case {
        return run_child(&plan, id, &ctx);
    }
    if let Err(e) = check_unique_ids(&plan.cases) {
        return fail_run(&e);
    }

    let listing = args.libtest.list;
    let mut run_dir = None;
    if !listing && !args.no_reports {
        match create_run_dir(&args.report_dir, &plan) {
            Ok(d) => run_dir = Some(d),
            Err(e) => {
                return fail_run(&format!(
                    "cannot write reports to {}: {e}",
                    args.report_dir.display()
                ))
            }
        }
    }

    let say = |line: &str| {
        if args.ktap {
            eprintln!("{line}")
        } else {
            println!("{line}")
        }
    };
    if !listing {
        for b in &plan.banner {
            say(b);
        }
        say(&format!("seed: {seed} (rerun with --seed {seed})"));
    }

    let started = SystemTime::now();
    let clock = Instant::now();
    let results: Arc<Mutex<Vec<CaseResult>>> = Arc::default();
    let rerun_prefix = rerun_prefix(&plan.rerun_args, seed);
    let cases: Vec<Case> = plan
        .cases
        .iter()
        .filter(|c| args.shard.is_none_or(|s| s.contains(&c.id)))
        .cloned()
        .collect();
    if listing && args.locations {
        for line in crate::listing::with_locations(&args.libtest, &cases) {
            println!("{line}");
        }
        return ExitCode::SUCCESS;
    }
    let order: Vec<String> = cases.iter().map(|c| c.id.clone()).collect();
    let mut libtest = args.libtest.clone();
    // Pretty and terse go through our console (libtest-mimic's printer has no known-bug
    // outcome); KTAP owns stdout. libtest-mimic's own lines then go nowhere.
    let console = if args.ktap || listing {
        None
    } else {
        let probe: Vec<Trial> = cases
            .iter()
            .map(|c| Trial::test(c.id.clone(), || Ok(())).with_ignored_flag(c.ignored))
            .collect();
        let shown: Vec<&Trial> = probe
            .iter()
            .filter(|t| !libtest.is_filtered_out(t))
            .collect();
        let names: Vec<&str> = shown.iter().map(|t| t.name()).collect();
        match Console::new(&libtest, &names) {
            Ok(Some(con)) => {
                con.title(shown.len());
                for t in shown.iter().filter(|t| libtest.is_ignored(t)) {
                    con.not_run(t.name());
                }
                Some((con, probe.len() - shown.len()))
            }
            Ok(None) => None,
            Err(e) => return fail_run(&format!("cannot write the log file: {e}")),
        }
    };
    if args.ktap || console.is_some() {
        libtest.logfile = Some("/dev/null".into());
    }
    let console = console.map(|(con, filtered_out)| (Arc::new(con), filtered_out));
    let trials = cases
        .into_iter()
        .map(|case| {
            let results = Arc::clone(&results);
            let console = console.as_ref().map(|(con, _)| Arc::clone(con));
            let args = args.clone();
            let rerun = format!("{rerun_prefix} --exact '{}'", case.id);
            let ignored = case.ignored;
            Trial::ignorable_test(case.id.clone(), move || {
                let t = Instant::now();
                let (report, output) = if args.in_process {
                    (run_body(&case, &ctx), String::new())
                } else {
                    run_in_child(&args, &case, &ctx)
                };
                let report = if args.strict { report.strict() } else { report };
                let failure = failure_message(&report, &output, case.location.as_deref(), &rerun);
                if let Some(con) = &console {
                    con.finished(&case.id, &report, failure.clone());
                }
                let outcome = to_trial_outcome(&report, failure);
                results.lock().unwrap().push(CaseResult {
                    id: case.id.clone(),
                    suite: case.suite.clone(),
                    seed_section: case.seed_section.clone(),
                    location: case.location.clone(),
                    report,
                    duration: t.elapsed(),
                    output,
                    rerun,
                });
                outcome
            })
            .with_ignored_flag(ignored)
        })
        .collect();

    let conclusion = libtest_mimic::run(&libtest, trials);
    if listing {
        return ExitCode::SUCCESS;
    }
    if let Some((con, filtered_out)) = &console {
        con.finish(*filtered_out, clock.elapsed());
    }

    let mut collected = std::mem::take(&mut *results.lock().unwrap());
    collected.sort_by_key(|r| order.iter().position(|id| id == &r.id));
    let record = RunRecord {
        name: plan.name.clone(),
        properties: {
            let mut p = plan.properties.clone();
            p.push(("seed".into(), seed.to_string()));
            p
        },
        suites: plan.suites.clone(),
        results: collected,
        started,
        duration: clock.elapsed(),
        banner: plan.banner.clone(),
    };

    let ktap = crate::ktap::to_ktap(&record);
    if args.ktap {
        print!("{ktap}");
    }
    let c = record.counts();
    let mut summary = vec![format!(
        "{}: {} passed, {} failed, {} skipped",
        plan.name,
        c.passed,
        c.failed + c.errors,
        c.skipped
    )];
    summary.extend(known_bug_lines(&record, args.strict));
    let mut detail = format!("{:.2} s", record.duration.as_secs_f64());
    if c.errors > 0 {
        detail.push_str(&format!(
            ", {} of the failures are errors (panic, crash or timeout)",
            c.errors
        ));
    }
    if let Some(dir) = &run_dir {
        match write_reports(dir, &args.report_dir, &record, &ktap, &summary) {
            Ok(()) => detail.push_str(&format!("; reports in {}", dir.display())),
            Err(e) => {
                return fail_run(&format!("cannot write reports to {}: {e}", dir.display()));
            }
        }
    }
    summary.push(detail);
    for line in &summary {
        say(line);
    }
    if let Some(reason) = &plan.unusable {
        return fail_run(reason);
    }
    if conclusion.has_failed() || c.failed + c.errors > 0 {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    }
}

fn fail_run(reason: &str) -> ExitCode {
    eprintln!("kvm-conformance: {reason}");
    ExitCode::from(2)
}

fn check_unique_ids(cases: &[Case]) -> Result<(), String> {
    let mut seen = std::collections::HashSet::new();
    for c in cases {
        if !seen.insert(c.id.as_str()) {
            return Err(format!("duplicate case id {}", c.id));
        }
    }
    Ok(())
}

/// The closing summary's lines about known kernel bugs: the ones seen (`known kernel bugs: 1
/// (id: bug)`) and the ones expected here but not seen; nothing when there are none.
pub(crate) fn known_bug_lines(record: &RunRecord, strict: bool) -> Vec<String> {
    let mut lines = Vec::new();
    let seen: Vec<String> = record
        .results
        .iter()
        .filter_map(|r| r.report.bug_seen().map(|b| format!("{}: {b}", r.id)))
        .collect();
    if !seen.is_empty() {
        let strict = if strict {
            ", failing with --strict"
        } else {
            ""
        };
        lines.push(format!(
            "known kernel bugs: {}{strict} ({})",
            seen.len(),
            seen.join("; ")
        ));
    }
    let not_seen: Vec<String> = record
        .results
        .iter()
        .filter(|r| r.report.status == Status::Pass)
        .filter_map(|r| r.report.bug_not_seen().map(|b| format!("{}: {b}", r.id)))
        .collect();
    if !not_seen.is_empty() {
        lines.push(format!(
            "known kernel bugs not seen (they may be fixed in this kernel): {} ({})",
            not_seen.len(),
            not_seen.join("; ")
        ));
    }
    lines
}

fn to_trial_outcome(report: &CaseReport, failure: Option<String>) -> Result<Completion, Failed> {
    match report.status {
        Status::Pass => Ok(Completion::Completed),
        Status::Skip => Ok(Completion::ignored_with(&report.summary)),
        Status::KnownBug => Ok(Completion::ignored_with(format!(
            "known kernel bug: {}",
            report.bug_seen().unwrap_or(&report.summary)
        ))),
        Status::Fail | Status::Error => Err(failure.unwrap_or_default().into()),
    }
}

/// The console text of a failed case: summary, details, notes, output, where the case is
/// defined, rerun command.
fn failure_message(
    report: &CaseReport,
    output: &str,
    location: Option<&str>,
    rerun: &str,
) -> Option<String> {
    match report.status {
        Status::Pass | Status::Skip | Status::KnownBug => None,
        Status::Fail | Status::Error => {
            let mut msg = report.summary.clone();
            for line in report.details.iter().chain(report.notes.iter()) {
                msg.push_str("\n  ");
                msg.push_str(&line.replace('\n', "\n  "));
            }
            if !output.trim().is_empty() {
                msg.push_str("\n  output:\n    ");
                msg.push_str(&output.trim_end().replace('\n', "\n    "));
            }
            if let Some(at) = location {
                msg.push_str(&format!("\n  defined at: {at}"));
            }
            msg.push_str(&format!("\n  rerun: {rerun}"));
            Some(msg)
        }
    }
}

/// Run a case body here, turning a panic into an error result.
fn run_body(case: &Case, ctx: &CaseContext) -> CaseReport {
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

/// The child side: run one case and print its result for the parent.
fn run_child(plan: &RunPlan, id: &str, ctx: &CaseContext) -> ExitCode {
    let Some(case) = plan.cases.iter().find(|c| c.id == id) else {
        return fail_run(&format!("no case with id {id}"));
    };
    let report = run_body(case, ctx);
    let json = serde_json::to_string(&report).expect("a CaseReport always serialises");
    println!("\n{RESULT_MARKER}{json}");
    ExitCode::SUCCESS
}

/// The parent side: start the child, collect its merged stdout/stderr, enforce the timeout.
fn run_in_child(args: &HarnessArgs, case: &Case, ctx: &CaseContext) -> (CaseReport, String) {
    let spawned = (|| -> std::io::Result<(std::process::Child, mpsc::Receiver<Vec<u8>>)> {
        let (rd, wr) = nix::unistd::pipe2(nix::fcntl::OFlag::O_CLOEXEC)?;
        let exe = std::env::current_exe()?;
        let mut cmd = match &args.child_runner {
            Some(runner) => {
                let mut parts = runner.split_whitespace();
                let mut c = Command::new(parts.next().unwrap_or("env"));
                c.args(parts).arg(&exe);
                c
            }
            None => Command::new(&exe),
        };
        cmd.args(std::env::args_os().skip(1))
            .arg("--child-case")
            .arg(&case.id)
            .arg("--seed")
            .arg(ctx.seed.to_string())
            .stdin(Stdio::null())
            .stdout(Stdio::from(wr.try_clone()?))
            .stderr(Stdio::from(wr));
        if let Some(n) = ctx.proptest_cases {
            cmd.arg("--proptest-cases").arg(n.to_string());
        }
        let child = cmd.spawn()?;
        drop(cmd); // our copies of the pipe's write end: EOF must come when the child exits
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            let mut buf = Vec::new();
            let _ = std::fs::File::from(rd).read_to_end(&mut buf);
            let _ = tx.send(buf);
        });
        Ok((child, rx))
    })();
    let (mut child, rx) = match spawned {
        Ok(x) => x,
        Err(e) => {
            let hint = if e.raw_os_error() == Some(nix::libc::ENOEXEC) {
                " (running under an emulator without binfmt_misc? use --in-process or --child-runner)"
            } else {
                ""
            };
            return (
                CaseReport::error(format!("cannot start the case's child process: {e}{hint}")),
                String::new(),
            );
        }
    };

    let timeout = Duration::from_secs(args.timeout);
    let (output, timed_out) = match rx.recv_timeout(timeout) {
        Ok(out) => (out, false),
        Err(_) => {
            let _ = child.kill();
            (
                rx.recv_timeout(Duration::from_secs(5)).unwrap_or_default(),
                true,
            )
        }
    };
    let status = child.wait();
    let text = String::from_utf8_lossy(&output).into_owned();
    let (printed, result_json) = match text.rfind(RESULT_MARKER) {
        Some(at) => (
            text[..at].trim_end().to_string(),
            Some(text[at + RESULT_MARKER.len()..].trim()),
        ),
        None => (text.trim_end().to_string(), None),
    };
    if timed_out {
        return (
            CaseReport::error(format!("timed out after {} s and was killed", args.timeout)),
            printed,
        );
    }
    let report = match result_json.map(serde_json::from_str::<CaseReport>) {
        Some(Ok(r)) => r,
        Some(Err(e)) => CaseReport::error(format!("unreadable result from the child process: {e}")),
        None => CaseReport::error(match status {
            Ok(s) => describe_exit(s),
            Err(e) => format!("lost the child process: {e}"),
        }),
    };
    (report, printed)
}

fn describe_exit(status: std::process::ExitStatus) -> String {
    use std::os::unix::process::ExitStatusExt;
    match (status.code(), status.signal()) {
        (_, Some(sig)) => {
            let name = nix::sys::signal::Signal::try_from(sig)
                .map(|s| s.as_str())
                .unwrap_or("?");
            format!("crashed: killed by signal {sig} ({name}) before reporting a result")
        }
        (Some(code), _) => format!("exited with status {code} before reporting a result"),
        _ => "ended without a result".into(),
    }
}

fn random_seed() -> u64 {
    let mut b = [0u8; 8];
    if std::fs::File::open("/dev/urandom")
        .and_then(|mut f| f.read_exact(&mut b))
        .is_ok()
    {
        u64::from_ne_bytes(b)
    } else {
        let t = SystemTime::now()
            .duration_since(SystemTime::UNIX_EPOCH)
            .unwrap_or_default();
        t.as_nanos() as u64 ^ u64::from(std::process::id())
    }
}

/// The program a user would type to rerun a case: `$KVM_CONFORMANCE_LAUNCHER` (run.sh sets
/// it) or this binary's path, then the run's sticky options and its seed.
fn rerun_prefix(rerun_args: &[String], seed: u64) -> String {
    let program = std::env::var("KVM_CONFORMANCE_LAUNCHER")
        .ok()
        .unwrap_or_else(|| {
            let exe = std::env::current_exe().unwrap_or_else(|_| PathBuf::from("kvm-conformance"));
            let cwd = std::env::current_dir().unwrap_or_default();
            exe.strip_prefix(&cwd)
                .map(|p| p.display().to_string())
                .unwrap_or_else(|_| exe.display().to_string())
        });
    let mut parts = vec![program];
    parts.extend(rerun_args.iter().cloned());
    parts.push(format!("--seed {seed}"));
    parts.join(" ")
}

fn create_run_dir(report_dir: &Path, plan: &RunPlan) -> std::io::Result<PathBuf> {
    std::fs::create_dir_all(report_dir)?;
    let backend = plan
        .properties
        .iter()
        .find(|(k, _)| k == "backend")
        .map(|(_, v)| v.as_str())
        .unwrap_or("run");
    let id = format!(
        "{}-{}-{}",
        utc_stamp(SystemTime::now()),
        backend,
        std::process::id()
    );
    let dir = report_dir.join(id);
    std::fs::create_dir(&dir)?;
    // Fail now, not after the run, if the directory is not writable.
    std::fs::write(dir.join("summary.txt"), "run in progress\n")?;
    Ok(dir)
}

fn write_reports(
    dir: &Path,
    report_dir: &Path,
    record: &RunRecord,
    ktap: &str,
    summary: &[String],
) -> std::io::Result<()> {
    let xml = crate::junit::to_xml(record).map_err(std::io::Error::other)?;
    std::fs::write(dir.join("junit.xml"), xml)?;
    std::fs::write(dir.join("results.ktap"), ktap)?;
    let mut text = summary.join("\n");
    text.push('\n');
    for r in record
        .results
        .iter()
        .filter(|r| matches!(r.report.status, Status::Fail | Status::Error))
    {
        text.push_str(&format!("\nFAILED {}\n{}", r.id, crate::junit::describe(r)));
    }
    for r in record
        .results
        .iter()
        .filter(|r| r.report.status == Status::KnownBug)
    {
        text.push_str(&format!(
            "\nKNOWN KERNEL BUG {}\n{}",
            r.id,
            crate::junit::describe(r)
        ));
    }
    std::fs::write(dir.join("summary.txt"), text)?;
    // Point `latest` at this run, replacing the old link atomically.
    let name = dir.file_name().expect("run dir has a name");
    let tmp = report_dir.join(format!(".latest-{}", std::process::id()));
    let _ = std::fs::remove_file(&tmp);
    std::os::unix::fs::symlink(name, &tmp)?;
    std::fs::rename(&tmp, report_dir.join("latest"))
}

/// `20261122T030512Z`, without a date crate.
fn utc_stamp(t: SystemTime) -> String {
    let secs = t
        .duration_since(SystemTime::UNIX_EPOCH)
        .unwrap_or_default()
        .as_secs() as i64;
    let (days, rem) = (secs.div_euclid(86_400), secs.rem_euclid(86_400));
    // Civil-from-days (Howard Hinnant's algorithm).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!(
        "{y:04}{m:02}{d:02}T{:02}{:02}{:02}Z",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::result::tests::sample_run;
    use clap::Parser;
    use rstest::rstest;

    #[derive(Parser)]
    struct Cli {
        #[command(flatten)]
        harness: HarnessArgs,
    }

    fn args(extra: &[&str]) -> HarnessArgs {
        let mut argv = vec![
            "kvm-conformance",
            "-q",
            "--in-process",
            "--test-threads",
            "1",
            "--logfile",
            "/dev/null",
        ];
        argv.extend_from_slice(extra);
        Cli::try_parse_from(argv).unwrap().harness
    }

    fn case(id: &str, report: fn() -> CaseReport) -> Case {
        Case {
            id: id.into(),
            suite: "t".into(),
            seed_section: "the runner's own test".into(),
            ignored: false,
            location: Some("harness/src/runner.rs:1".into()),
            body: Arc::new(move |_| report()),
        }
    }

    fn plan() -> RunPlan {
        RunPlan {
            name: "kvm-conformance".into(),
            suites: vec!["t".into()],
            cases: vec![
                case("t::a::pass", || CaseReport::pass("fine")),
                case("t::a::known_bug", || {
                    CaseReport::known_bug("bug A drops a key", "key read back 0x00")
                }),
                case("t::a::not_seen", || {
                    CaseReport::pass("fine").with_bug_not_seen("bug B")
                }),
            ],
            properties: vec![("backend".into(), "simulated".into())],
            banner: vec![],
            rerun_args: vec![],
            unusable: None,
        }
    }

    #[test]
    fn summary_lines_list_known_bugs_seen_and_not_seen() {
        let run = sample_run();
        assert_eq!(
            known_bug_lines(&run, false),
            [
                "known kernel bugs: 1 (beta::b::known_bug: bug A drops a key)",
                "known kernel bugs not seen (they may be fixed in this kernel): 1 (alpha::a::bug_not_seen: bug B drops a key)",
            ]
        );
        let mut strict = sample_run();
        for r in &mut strict.results {
            r.report = r.report.clone().strict();
        }
        assert_eq!(
            known_bug_lines(&strict, true)[0],
            "known kernel bugs: 1, failing with --strict (beta::b::known_bug: bug A drops a key)"
        );
        let mut none = sample_run();
        none.results.retain(|r| r.report.known_bug.is_none());
        assert!(known_bug_lines(&none, false).is_empty());
    }

    /// A known kernel bug is not red by default; `--strict` makes it a failure (exit 1). The
    /// summary file lists it either way.
    #[rstest]
    #[case::default(&[], "ExitCode(unix_exit_status(0))", "known kernel bugs: 1 (t::a::known_bug: bug A drops a key)")]
    #[case::strict(&["--strict"], "ExitCode(unix_exit_status(1))", "known kernel bugs: 1, failing with --strict (t::a::known_bug: bug A drops a key)")]
    fn exit_status_and_summary(#[case] extra: &[&str], #[case] exit: &str, #[case] bug_line: &str) {
        let dir = std::env::temp_dir().join(format!(
            "harness-runner-{}-{}",
            std::process::id(),
            extra.len()
        ));
        let _ = std::fs::remove_dir_all(&dir);
        let mut a = vec!["--report-dir", dir.to_str().unwrap()];
        a.extend_from_slice(extra);
        let code = run(&args(&a), plan());
        assert_eq!(format!("{code:?}"), exit);
        let summary = std::fs::read_to_string(dir.join("latest/summary.txt")).unwrap();
        let lines: Vec<&str> = summary.lines().collect();
        let failed = if extra.is_empty() { 0 } else { 1 };
        assert_eq!(
            lines[0],
            format!("kvm-conformance: {} passed, {failed} failed, 0 skipped", 2)
        );
        assert_eq!(lines[1], bug_line);
        assert_eq!(
            lines[2],
            "known kernel bugs not seen (they may be fixed in this kernel): 1 (t::a::not_seen: bug B)"
        );
        let block = if extra.is_empty() {
            "\nKNOWN KERNEL BUG t::a::known_bug\nkey read back 0x00\n"
        } else {
            "\nFAILED t::a::known_bug\nknown kernel bug (failing with --strict): bug A drops a key: key read back 0x00\n"
        };
        assert!(summary.contains(block), "{summary}");
        let ktap = std::fs::read_to_string(dir.join("latest/results.ktap")).unwrap();
        let xfail = ktap.contains("    ok 2 t::a::known_bug # XFAIL bug A drops a key\n");
        assert_eq!(xfail, extra.is_empty(), "{ktap}");
        let _ = std::fs::remove_dir_all(&dir);
    }
}
