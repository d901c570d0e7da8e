//! Listing, running and reporting as separate stages. The parent selects the cases, runs each
//! in a child process of this same binary (`--child-case ID`) under a timeout, on a pool of
//! `--test-threads` workers, so a crash, hang or leaked kernel state stays with one case. The
//! reporters only ever see the collected `RunRecord`. A signal stops the run early
//! (`interrupt`), and the report files appear complete or not at all (`reports`).

use crate::cli::HarnessArgs;
use crate::console::Console;
use crate::output::{err_line, out, out_line};
use crate::reports::Staging;
use crate::rerun::RerunSpec;
use crate::result::{CaseReport, CaseResult, RunRecord, Status};
use std::io::Read;
use std::os::unix::process::CommandExt;
use std::process::{Command, ExitCode, Stdio};
use std::sync::{mpsc, Arc, Mutex, PoisonError};
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
    /// What a rerun of one case needs from the suites (backend, generation, device, ...); the
    /// harness adds its own options and the seed.
    pub rerun: RerunSpec,
    /// Why the run cannot really be done (e.g. no usable KVM): the cases still run (they skip
    /// with the reason) and the reports are complete, but the run then exits 2 with this line.
    pub unusable: Option<String>,
    /// Watch the kernel log (/dev/kmsg) over the run: the lines logged outside every case go to
    /// the summary (live runs; each case attaches its own lines).
    pub kernel_log: bool,
}

/// Why a case marked ignored did not run.
const NOT_RUN_IGNORED: &str =
    "not run by default (a slow case marked ignored); --include-ignored runs it";

const RESULT_MARKER: &str = "@@kvm-conformance-result@@ ";

/// Run the plan as the command line says and return the process exit status:
/// 0 nothing failed, 1 a case failed, 2 the run itself could not be done, 128+N the run was
/// interrupted by signal N (its reports are still complete). A known kernel bug is not a
/// failure unless `--strict`.
pub fn run(args: &HarnessArgs, plan: RunPlan) -> ExitCode {
    let seed = args.seed.unwrap_or_else(random_seed);
    let ctx = CaseContext {
        seed,
        proptest_cases: args.proptest_cases,
        isolated: !args.in_process,
    };
    // Set in the child processes too: a property prints its rerun line itself.
    crate::rerun::set(
        crate::rerun::prefix(args, &plan.rerun, seed),
        plan.cases
            .iter()
            .filter(|c| c.ignored)
            .map(|c| c.id.clone()),
    );

    if let Some(id) = &args.child_case {
        return run_child(&plan, id, &ctx);
    }
    if let Err(e) = check_unique_ids(&plan.cases) {
        return fail_run(&e);
    }
    let mut libtest = args.libtest.clone();
    crate::select::unquote(&mut libtest);
    if let Err(e) = crate::select::check_threads(&libtest) {
        return fail_run(&e);
    }
    let selected = match crate::select::select(&libtest, &plan.cases) {
        Ok(s) => s,
        Err(e) => return fail_run(&e),
    };
    let cases: Vec<Case> = selected
        .into_iter()
        .filter(|c| args.shard.is_none_or(|s| s.contains(&c.id)))
        .cloned()
        .collect();
    let filtered_out = plan.cases.len() - cases.len();
    if libtest.list {
        if args.locations {
            crate::listing::with_locations(&cases);
        } else {
            let names: Vec<&str> = cases.iter().map(|c| c.id.as_str()).collect();
            crate::console::list(&names);
        }
        return ExitCode::SUCCESS;
    }

    crate::interrupt::watch();
    let mut staging = None;
    if !args.no_reports {
        match Staging::create(&args.report_dir, &run_id(&plan)) {
            Ok(s) => staging = Some(s),
            Err(e) => {
                return fail_run(&format!(
                    "cannot write reports to {}: {e}",
                    args.report_dir.display()
                ))
            }
        }
    }

    // KTAP and JSON own stdout; the other lines go to stderr then.
    let json = libtest.format == Some(libtest_mimic::FormatSetting::Json) && !libtest.quiet;
    let say = |line: &str| {
        if args.ktap || json {
            err_line(line)
        } else {
            out_line(line)
        }
    };
    // -q: nothing but the closing line when all is well (and the banner lines that say what
    // the results are not: simulated, emulated, no KVM).
    let quiet = libtest.quiet;
    for b in &plan.banner {
        say(b);
    }
    let mut kernel_log = None;
    if plan.kernel_log {
        match crate::kmsg::Cursor::at_end() {
            Ok(c) => kernel_log = Some(c),
            Err(e) => say(&format!(
                "kernel log: {e}: the cases run without their kernel log"
            )),
        }
    }
    if !quiet {
        say(&crate::summary::banner(
            &plan.name,
            &plan.properties,
            cases.len(),
        ));
        say(&format!("seed: {seed} (rerun with --seed {seed})"));
    }
    if let Some(s) = args.shard {
        if cases.is_empty() {
            say(&format!(
                "shard {}/{}: none of the selected cases falls in this shard",
                s.index, s.count
            ));
        }
    }

    let started = SystemTime::now();
    let clock = Instant::now();
    let console = if args.ktap {
        None
    } else {
        let names: Vec<&str> = cases.iter().map(|c| c.id.as_str()).collect();
        match Console::new(&libtest, &names) {
            Ok(con) => Some(con),
            Err(e) => return fail_run(&format!("cannot write the log file: {e}")),
        }
    };
    if let Some(con) = &console {
        con.title(cases.len());
    }
    let results: Mutex<Vec<CaseResult>> = Mutex::default();
    let record_result = |r: CaseResult| {
        results
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push(r)
    };
    let (to_run, not_run): (Vec<Case>, Vec<Case>) = cases
        .iter()
        .cloned()
        .partition(|c| !libtest.is_ignored(&crate::select::trial(c)));
    for case in &not_run {
        if let Some(con) = &console {
            con.not_run(&case.id);
        }
        let why = if libtest.bench {
            "not run with --bench (these cases are tests, not benchmarks)"
        } else {
            NOT_RUN_IGNORED
        };
        record_result(unrun(case, why));
    }

    let execute = |case: &Case| {
        let t = Instant::now();
        let (report, output) = if args.in_process {
            (run_body(case, &ctx), String::new())
        } else {
            run_in_child(args, case, &ctx)
        };
        let report = if args.strict { report.strict() } else { report };
        let rerun = crate::rerun::command(&case.id);
        let failure = failure_message(&report, &output, case.location.as_deref(), &rerun);
        if let Some(con) = &console {
            con.finished(&case.id, &report, failure);
        }
        record_result(CaseResult {
            id: case.id.clone(),
            suite: case.suite.clone(),
            seed_section: case.seed_section.clone(),
            location: case.location.clone(),
            report,
            duration: t.elapsed(),
            output,
            rerun,
        });
    };
    let threads = libtest
        .test_threads
        .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()));
    let left = run_pool(threads, to_run, &execute);
    let interrupted = crate::interrupt::interrupted();
    if let Some(sig) = interrupted {
        let reason = crate::interrupt::reason(sig);
        if let Some(con) = &console {
            let names: Vec<&str> = left.iter().map(|c| c.id.as_str()).collect();
            con.interrupted(&names, &reason);
        }
        for case in &left {
            record_result(unrun(case, &reason));
        }
    }
    if let Some(con) = &console {
        con.finish(filtered_out, clock.elapsed());
    }

    let order: Vec<&str> = cases.iter().map(|c| c.id.as_str()).collect();
    let mut collected = results.into_inner().unwrap_or_else(PoisonError::into_inner);
    collected.sort_by_key(|r| order.iter().position(|id| *id == r.id));
    let mut properties = plan.properties.clone();
    if let Ok(u) = nix::sys::utsname::uname() {
        properties.push((
            "hostname".into(),
            u.nodename().to_string_lossy().into_owned(),
        ));
    }
    properties.push(("seed".into(), seed.to_string()));
    let record = RunRecord {
        name: plan.name.clone(),
        properties,
        suites: plan.suites.clone(),
        results: collected,
        started,
        duration: clock.elapsed(),
        banner: plan.banner.clone(),
    };

    // The kernel log lines no case saw (between cases, before the first, after the last).
    let outside = lines_outside_cases(
        kernel_log
            .as_mut()
            .map(|c| c.read_new())
            .unwrap_or_default(),
        &record.results,
    );
    let ktap = crate::ktap::to_ktap(&record);
    if args.ktap {
        out(&ktap);
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
    if !outside.is_empty() {
        summary.push(format!(
            "kernel log: {} lines outside any case (in summary.txt)",
            outside.len()
        ));
    }
    if let Some(sig) = interrupted {
        let n = left.len();
        let s = if n == 1 { "" } else { "s" };
        summary.push(format!(
            "{}: {n} case{s} not run (reported as skipped); exit status {}",
            crate::interrupt::reason(sig),
            128 + sig as i32
        ));
    }
    let mut detail = format!("{:.2} s", record.duration.as_secs_f64());
    if c.errors > 0 {
        detail.push_str(&format!(
            ", {} of the failures are errors (panic, crash or timeout)",
            c.errors
        ));
    }
    let mut report_error = None;
    if let Some(staging) = staging {
        let xml = crate::junit::to_xml(&record).map_err(|e| e.to_string());
        match xml.and_then(|xml| {
            let run_id = staging
                .final_dir()
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default();
            let kcidb = crate::kcidb::to_json(&record, &args.kcidb_origin, &run_id);
            let kcidb = serde_json::to_string_pretty(&kcidb).map_err(|e| e.to_string())? + "\n";
            staging.publish(&[
                ("junit.xml", xml.into_bytes()),
                ("results.ktap", ktap.into_bytes()),
                ("kcidb.json", kcidb.into_bytes()),
                (
                    "summary.txt",
                    summary_text(&record, &summary, &outside).into_bytes(),
                ),
            ])
        }) {
            Ok(dir) => detail.push_str(&format!("; reports in {}", dir.display())),
            Err(e) => report_error = Some(e),
        }
    }
    summary.push(detail);
    if !quiet && !args.ktap && !json {
        for line in crate::summary::end_of_run(&record) {
            say(&line);
        }
    }
    for (i, line) in summary.iter().enumerate() {
        // -q: the detail line (time, report directory) is the last one.
        if !(quiet && i + 1 == summary.len()) {
            say(line);
        }
    }
    if let Some(sig) = interrupted {
        if let Some(e) = &report_error {
            err_line(&format!("kvm-conformance: {e}"));
        }
        return ExitCode::from(128u8.saturating_add(sig as u8));
    }
    if let Some(e) = &report_error {
        return fail_run(e);
    }
    if let Some(reason) = &plan.unusable {
        return fail_run(reason);
    }
    if c.failed + c.errors > 0 {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    }
}

/// Run `cases` on `threads` workers until they are done or the run is interrupted; the cases
/// no worker started (after a signal) come back. Each worker waits for the case process it
/// started before it takes the next one: the process's parent-death signal follows the thread
/// that started it.
fn run_pool(threads: usize, cases: Vec<Case>, execute: &(dyn Fn(&Case) + Sync)) -> Vec<Case> {
    let workers = threads.clamp(1, cases.len().max(1));
    let queue = Mutex::new(cases.into_iter());
    std::thread::scope(|s| {
        for _ in 0..workers {
            s.spawn(|| loop {
                if crate::interrupt::interrupted().is_some() {
                    return;
                }
                let next = queue.lock().unwrap_or_else(PoisonError::into_inner).next();
                match next {
                    Some(case) => execute(&case),
                    None => return,
                }
            });
        }
    });
    queue
        .into_inner()
        .unwrap_or_else(PoisonError::into_inner)
        .collect()
}

/// The result of a case that did not run.
fn unrun(case: &Case, why: &str) -> CaseResult {
    CaseResult {
        id: case.id.clone(),
        suite: case.suite.clone(),
        seed_section: case.seed_section.clone(),
        location: case.location.clone(),
        report: CaseReport::skip(why),
        duration: Duration::ZERO,
        output: String::new(),
        rerun: crate::rerun::command(&case.id),
    }
}

/// `20261122T030512Z-live-4242`: sortable, and unique per process.
fn run_id(plan: &RunPlan) -> String {
    let backend = plan
        .properties
        .iter()
        .find(|(k, _)| k == "backend")
        .map(|(_, v)| v.as_str())
        .unwrap_or("run");
    format!(
        "{}-{}-{}",
        utc_stamp(SystemTime::now()),
        backend,
        std::process::id()
    )
}

/// summary.txt: the closing lines, then every failure and known kernel bug in full.
fn summary_text(record: &RunRecord, summary: &[String], kernel_log_outside: &[String]) -> String {
    let mut text = summary.join("\n");
    text.push('\n');
    if !kernel_log_outside.is_empty() {
        text.push_str("\nKERNEL LOG OUTSIDE ANY CASE\n");
        for l in kernel_log_outside {
            text.push_str(l);
            text.push('\n');
        }
    }
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
    text
}

/// The kernel log records of the whole run that no case saw, as dmesg lines.
fn lines_outside_cases(records: Vec<crate::kmsg::Record>, results: &[CaseResult]) -> Vec<String> {
    records
        .into_iter()
        .filter(|line| {
            !results.iter().any(|r| {
                r.report
                    .kernel_log
                    .as_ref()
                    .is_some_and(|k| (k.first_seq..=k.last_seq).contains(&line.seq))
            })
        })
        .map(|line| line.line())
        .collect()
}

fn fail_run(reason: &str) -> ExitCode {
    err_line(&format!("kvm-conformance: {reason}"));
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
    if let Err(e) = crate::interrupt::tie_to_runner() {
        return fail_run(&e);
    }
    let Some(case) = plan.cases.iter().find(|c| c.id == id) else {
        return fail_run(&format!("no case with id {id}"));
    };
    // A panic's backtrace goes into the case's output (JUnit system-out, KTAP diagnostics),
    // whether or not RUST_BACKTRACE is set.
    std::panic::set_hook(Box::new(|info| {
        let trace = std::backtrace::Backtrace::force_capture();
        err_line(&format!("{info}\nstack backtrace:\n{trace}"));
    }));
    let report = run_body(case, ctx);
    let json = serde_json::to_string(&report).unwrap_or_else(|e| {
        format!(r#"{{"status":"Error","summary":"the result does not serialise: {e}","details":[],"notes":[]}}"#)
    });
    out(&format!("\n{RESULT_MARKER}{json}\n"));
    ExitCode::SUCCESS
}

/// The parent side: start the child in a process group of its own, collect its merged
/// stdout/stderr, enforce the timeout, and kill its whole group when it ends.
fn run_in_child(args: &HarnessArgs, case: &Case, ctx: &CaseContext) -> (CaseReport, String) {
    type Started = Option<(std::process::Child, mpsc::Receiver<Vec<u8>>)>;
    let spawned = (|| -> std::io::Result<Started> {
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
            .env(
                crate::interrupt::RUNNER_PID_ENV,
                std::process::id().to_string(),
            )
            .process_group(0)
            .stdin(Stdio::null())
            .stdout(Stdio::from(wr.try_clone()?))
            .stderr(Stdio::from(wr));
        if let Some(n) = ctx.proptest_cases {
            cmd.arg("--proptest-cases").arg(n.to_string());
        }
        let child = crate::interrupt::spawn(&mut cmd)?;
        drop(cmd); // our copies of the pipe's write end: EOF must come when the child exits
        let Some(child) = child else {
            return Ok(None);
        };
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            let mut buf = Vec::new();
            let _ = std::fs::File::from(rd).read_to_end(&mut buf);
            let _ = tx.send(buf);
        });
        Ok(Some((child, rx)))
    })();
    let (mut child, rx) = match spawned {
        Ok(Some(x)) => x,
        Ok(None) => {
            // Only a signal keeps a case from starting.
            let why = crate::interrupt::interrupted()
                .map(crate::interrupt::reason)
                .unwrap_or_else(|| "run interrupted".into());
            return (CaseReport::skip(why), String::new());
        }
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
            crate::interrupt::kill_group(child.id());
            (
                rx.recv_timeout(Duration::from_secs(5)).unwrap_or_default(),
                true,
            )
        }
    };
    // Whatever the case left running in its group goes with it.
    crate::interrupt::kill_group(child.id());
    crate::interrupt::forget(child.id());
    let status = child.wait();
    let text = String::from_utf8_lossy(&output).into_owned();
    let (printed, result_json) = match text.rfind(RESULT_MARKER) {
        Some(at) => (
            text[..at].trim_end().to_string(),
            Some(text[at + RESULT_MARKER.len()..].trim()),
        ),
        None => (text.trim_end().to_string(), None),
    };
    if let (None, Some(sig)) = (result_json, crate::interrupt::interrupted()) {
        // Killed by the runner on the signal: not judged, like the cases not started.
        return (
            CaseReport::skip(format!(
                "{} (stopped while it ran)",
                crate::interrupt::reason(sig)
            )),
            printed,
        );
    }
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

    #[test]
    fn kernel_lines_no_case_saw_go_to_the_summary() {
        let rec = |seq: u64| crate::kmsg::Record {
            seq,
            usec: seq,
            level: 4,
            facility: 0,
            text: format!("line {seq}"),
        };
        let mut run = crate::result::tests::sample_run();
        run.results[0].report =
            run.results[0]
                .report
                .clone()
                .with_kernel_log(crate::result::KernelLog {
                    lines: vec!["line 3".into(), "line 4".into()],
                    first_seq: 3,
                    last_seq: 4,
                });
        let outside = lines_outside_cases((1..=6).map(rec).collect(), &run.results);
        let texts: Vec<&str> = outside
            .iter()
            .map(|l| l.split("] ").nth(1).unwrap())
            .collect();
        assert_eq!(texts, ["line 1", "line 2", "line 5", "line 6"]);
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
            rerun: RerunSpec::default(),
            unusable: None,
            kernel_log: false,
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
