//! A run in stages, as nextest splits its runner: select the cases (`select`), decide what the
//! runner's own process can (prechecks) and order the rest (`schedule`), run each in a process
//! of its own on a pool of `--test-threads` workers (`launch`, `case_server`), then close the
//! run (`closing`): the reporters only ever see the collected `RunRecord`. A signal stops the
//! run early (`interrupt`), and the report files appear complete or not at all (`reports`).

use crate::case::{Case, CaseContext, RunPlan};
use crate::case_server::CaseServer;
use crate::cli::HarnessArgs;
use crate::console::Console;
use crate::launch::Launcher;
use crate::output::{err_line, fail_line, out, out_line};
use crate::reports::Staging;
use crate::result::{CaseReport, CaseResult, NotRun, RunRecord, Status};
use std::io::Read;
use std::process::ExitCode;
use std::sync::{Mutex, PoisonError};
use std::time::{Duration, Instant, SystemTime};

/// Why a case marked ignored did not run.
const NOT_RUN_IGNORED: &str =
    "not run by default (a slow case marked ignored); --include-ignored runs it";

/// Why a run could not be done: it exits 2 with this one line.
#[derive(Debug)]
pub enum RunError {
    /// Bad arguments or a selection that matches no case.
    Arguments(String),
    /// The report files or the log file cannot be written.
    Reports(String),
    /// The plan itself is wrong (duplicate ids).
    Plan(String),
    /// The run was done, but cannot count (no usable KVM): its reports are complete.
    Unusable(String),
    /// A case process started by hand, or a case server, could not do its part.
    CaseProcess(String),
}

impl std::fmt::Display for RunError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            RunError::Arguments(s)
            | RunError::Reports(s)
            | RunError::Plan(s)
            | RunError::Unusable(s)
            | RunError::CaseProcess(s) => f.write_str(s),
        }
    }
}

fn fail_run(e: RunError) -> ExitCode {
    fail_line(&e.to_string());
    ExitCode::from(2)
}

/// The threads without `--test-threads`: three times the CPUs, at most 16. The cases wait in
/// the kernel more than they compute (synchronize_srcu after every memslot and I/O bus change),
/// so more threads than cores shorten the run, until it waits for its longest cases (the fill
/// of every memslot, the two sequence properties, started first): measured by
/// `bench/runner.sh threads` (README, "Measured": on 2 cores, two runs of the bench, 4 threads
/// 1.54 and 1.48 s, 6 1.36 and 1.36 s, 8 1.33 and 1.58 s; the fill alone 1.16 s). The cap keeps
/// a large host from starting a case server and a VM per thread for nothing.
pub fn default_threads() -> usize {
    let cpus = std::thread::available_parallelism().map_or(1, |n| n.get());
    (3 * cpus).min(16)
}

/// The first worker's case server when `start_early` started it, with the seed it was given.
static EARLY_SERVER: Mutex<Option<(u64, CaseServer)>> = Mutex::new(None);

/// Start the first worker's case server now, while the program builds its plan: the server
/// builds the same plan, so the two take about as long, and the run's first case starts that
/// much sooner (5-7 ms on this project's machine). For a program whose plan has a `fork`: call
/// it right after parsing the command line. It does nothing for a run that starts no case
/// server (`--in-process`, `--child-runner`, `--list`, the case processes' own sides); a run
/// that then does not use it (no case to run) stops it.
pub fn start_early(args: &HarnessArgs) {
    let runs_cases = !(args.child_case.is_some()
        || args.case_server
        || args.libtest.list
        || args.libtest.test_threads == Some(0));
    if !(runs_cases && forks_from_servers(args)) {
        return;
    }
    let seed = args.seed.unwrap_or_else(random_seed);
    let ctx = case_context(args, seed);
    // A server that cannot start now is started (and its failure said) with the first case.
    if let Ok(server) = CaseServer::start(args, &ctx) {
        *EARLY_SERVER.lock().unwrap_or_else(PoisonError::into_inner) = Some((seed, server));
    }
}

/// Whether the command line leaves the case processes to case servers (with a plan that has a
/// `fork`): not --in-process, not a start of the program through --child-runner.
fn forks_from_servers(args: &HarnessArgs) -> bool {
    !args.in_process && args.child_runner.is_none()
}

fn case_context(args: &HarnessArgs, seed: u64) -> CaseContext {
    CaseContext {
        seed,
        proptest_cases: args.proptest_cases,
        isolated: !args.in_process,
    }
}

/// Run the plan as the command line says and return the process exit status:
/// 0 nothing failed, 1 a case failed, 2 the run itself could not be done, 128+N the run was
/// interrupted by signal N (its reports are still complete). A known kernel bug is not a
/// failure unless `--strict`.
pub fn run(args: &HarnessArgs, plan: RunPlan) -> ExitCode {
    crate::output::set_program_name(&plan.name);
    let early = EARLY_SERVER
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .take();
    let seed = match &early {
        Some((seed, _)) => *seed,
        None => args.seed.unwrap_or_else(random_seed),
    };
    let ctx = case_context(args, seed);
    // Set in the case processes too: a property prints its rerun line itself.
    crate::rerun::set(
        crate::rerun::prefix(args, &plan.rerun, seed),
        plan.cases
            .iter()
            .filter(|c| c.ignored)
            .map(|c| c.id.clone()),
    );

    // The case processes' side.
    if let Some(id) = &args.child_case {
        return match run_child(&plan, id, &ctx) {
            Ok(()) => ExitCode::SUCCESS,
            Err(e) => fail_run(e),
        };
    }
    if args.case_server {
        return match crate::case_server::serve(&plan, &ctx) {
            Ok(()) => ExitCode::SUCCESS,
            Err(e) => fail_run(RunError::CaseProcess(e)),
        };
    }

    match run_cases(args, &plan, ctx, early.map(|(_, server)| server)) {
        Ok(code) => code,
        Err(e) => fail_run(e),
    }
}

/// The child side started by hand (`--child-case ID`): run one case and print its result.
fn run_child(plan: &RunPlan, id: &str, ctx: &CaseContext) -> Result<(), RunError> {
    crate::interrupt::tie_to_runner().map_err(RunError::CaseProcess)?;
    let case = plan
        .cases
        .iter()
        .find(|c| c.id == id)
        .ok_or_else(|| RunError::CaseProcess(format!("no case with id {id}")))?;
    crate::child::capture_panics();
    crate::child::run_and_report(case, ctx);
    Ok(())
}

/// The runner's side: every stage from selection to the closing lines.
fn run_cases(
    args: &HarnessArgs,
    plan: &RunPlan,
    ctx: CaseContext,
    early_server: Option<CaseServer>,
) -> Result<ExitCode, RunError> {
    check_unique_ids(&plan.cases).map_err(RunError::Plan)?;
    let mut libtest = args.libtest.clone();
    crate::select::unquote(&mut libtest);
    crate::select::check_threads(&libtest).map_err(RunError::Arguments)?;
    let cases: Vec<Case> = crate::select::select(&libtest, &plan.cases)
        .map_err(RunError::Arguments)?
        .into_iter()
        .filter(|c| args.shard.is_none_or(|s| s.contains(&c.id)))
        .cloned()
        .collect();
    if libtest.list {
        if args.locations {
            crate::listing::with_locations(&cases);
        } else {
            let names: Vec<&str> = cases.iter().map(|c| c.id.as_str()).collect();
            crate::console::list(&names);
        }
        return Ok(ExitCode::SUCCESS);
    }

    crate::interrupt::watch();
    let staging = if args.no_reports {
        None
    } else {
        let staging = Staging::create(&args.report_dir, &run_id(plan)).map_err(|e| {
            let dir = args.report_dir.display();
            RunError::Reports(format!("cannot write reports to {dir}: {e}"))
        })?;
        Some(staging)
    };
    let lines = Lines {
        // KTAP and JSON own stdout; the other lines go to stderr then.
        to_stderr: args.ktap
            || (libtest.format == Some(libtest_mimic::FormatSetting::Json) && !libtest.quiet),
        // -q: nothing but the closing line when all is well (and the banner lines that say
        // what the results are not: simulated, emulated, no KVM).
        quiet: libtest.quiet,
    };
    let mut kernel_log = announce(args, plan, &lines, cases.len(), ctx.seed);

    let started = SystemTime::now();
    let clock = Instant::now();
    let console = if args.ktap {
        None
    } else {
        let names: Vec<&str> = cases.iter().map(|c| c.id.as_str()).collect();
        let con = Console::new(&libtest, &names)
            .map_err(|e| RunError::Reports(format!("cannot write the log file: {e}")))?;
        con.title(cases.len());
        Some(con)
    };
    let collector = Collector {
        strict: args.strict,
        console: console.as_ref(),
        results: Mutex::default(),
    };
    let mut to_run = decide_in_runner(&libtest, &cases, &collector);
    let measured = crate::schedule::previous_durations(&args.report_dir);
    crate::schedule::longest_first(&mut to_run, &measured);

    // In one process the cases share its file descriptors (a case's closed fd is another's
    // new one): --in-process runs one at a time unless told otherwise.
    let threads = match (libtest.test_threads, args.in_process) {
        (Some(n), _) => n,
        (None, true) => 1,
        (None, false) => default_threads(),
    };
    let can_fork = plan.fork.is_some() && forks_from_servers(args);
    // The server started early goes to the first worker (none when this plan cannot fork).
    let early_server = Mutex::new(early_server.filter(|_| can_fork));
    let new_launcher = || {
        let early = early_server
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .take();
        Launcher::new(args, ctx, can_fork, early)
    };
    let left = run_pool(threads, to_run, &new_launcher, &|case, launcher| {
        let t = Instant::now();
        let (report, output, not_run) = launcher.run(case);
        collector.finish(case, report, t.elapsed(), output, not_run);
    });
    let interrupted = crate::interrupt::interrupted();
    if let Some(sig) = interrupted {
        let reason = crate::interrupt::reason(sig);
        if let Some(con) = &console {
            let names: Vec<&str> = left.iter().map(|c| c.id.as_str()).collect();
            con.interrupted(&names, &reason);
        }
        for case in &left {
            let report = CaseReport::skip(&reason);
            let not_run = Some(NotRun::Interrupted);
            collector.finish(case, report, Duration::ZERO, String::new(), not_run);
        }
    }
    if let Some(con) = &console {
        con.finish(plan.cases.len() - cases.len(), clock.elapsed());
    }

    let results = collector.into_results(&cases);
    let record = run_record(plan, ctx.seed, results, started, clock.elapsed());
    // The kernel log lines no case saw (between cases, before the first, after the last).
    let outside = crate::closing::lines_outside_cases(
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
    let interrupted_at = interrupted.map(|sig| (sig, left.len()));
    let closing = crate::closing::close(args, &record, ktap, &outside, interrupted_at, staging);
    if !lines.quiet && !lines.to_stderr {
        for line in crate::summary::end_of_run(&record) {
            lines.say(&line);
        }
    }
    for (i, line) in closing.lines.iter().enumerate() {
        // -q: the detail line (time, report directory) is the last one.
        if !(lines.quiet && i + 1 == closing.lines.len()) {
            lines.say(line);
        }
    }
    if let Some(sig) = interrupted {
        if let Some(e) = &closing.report_error {
            fail_line(e);
        }
        return Ok(ExitCode::from(128u8.saturating_add(sig as u8)));
    }
    if let Some(e) = closing.report_error {
        return Err(RunError::Reports(e));
    }
    if let Some(reason) = &plan.unusable {
        return Err(RunError::Unusable(reason.clone()));
    }
    let c = record.counts();
    Ok(if c.failed + c.errors > 0 {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}

/// Where the runner's own lines go.
struct Lines {
    to_stderr: bool,
    quiet: bool,
}

impl Lines {
    fn say(&self, line: &str) {
        if self.to_stderr {
            err_line(line)
        } else {
            out_line(line)
        }
    }
}

/// The lines before the first case: the plan's banner, the run's banner line and seed; and the
/// kernel log cursor the run's closing reads from.
fn announce(
    args: &HarnessArgs,
    plan: &RunPlan,
    lines: &Lines,
    selected: usize,
    seed: u64,
) -> Option<crate::kmsg::Cursor> {
    for b in &plan.banner {
        lines.say(b);
    }
    let mut kernel_log = None;
    if plan.kernel_log {
        match crate::kmsg::Cursor::at_end() {
            Ok(c) => kernel_log = Some(c),
            Err(e) => lines.say(&format!(
                "kernel log: {e}: the cases run without their kernel log"
            )),
        }
    }
    if !lines.quiet {
        lines.say(&crate::summary::banner(&plan.name, &plan.against, selected));
        lines.say(&format!("seed: {seed} (rerun with --seed {seed})"));
    }
    if let Some(s) = args.shard {
        if selected == 0 {
            lines.say(&format!(
                "shard {}/{}: none of the selected cases falls in this shard",
                s.index, s.count
            ));
        }
    }
    kernel_log
}

/// Collects the results from every worker and shows each on the console as it comes.
struct Collector<'a> {
    strict: bool,
    console: Option<&'a Console>,
    results: Mutex<Vec<CaseResult>>,
}

impl Collector<'_> {
    fn finish(
        &self,
        case: &Case,
        report: CaseReport,
        duration: Duration,
        output: String,
        not_run: Option<NotRun>,
    ) {
        let report = if self.strict { report.strict() } else { report };
        let rerun = crate::rerun::command(&case.id);
        if let Some(con) = self.console {
            match not_run {
                Some(NotRun::Ignored | NotRun::Bench) => con.not_run(&case.id),
                _ => {
                    let at = case.location.as_deref();
                    con.finished(
                        &case.id,
                        &report,
                        failure_message(&report, &output, at, &rerun),
                    );
                }
            }
        }
        let result = CaseResult {
            id: case.id.clone(),
            suite: case.suite.clone(),
            seed_section: case.seed_section.clone(),
            location: case.location.clone(),
            report,
            duration,
            output,
            rerun,
            not_run,
        };
        self.results
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push(result);
    }

    /// The results in the order of `cases` (declaration order).
    fn into_results(self, cases: &[Case]) -> Vec<CaseResult> {
        let order: std::collections::HashMap<&str, usize> = cases
            .iter()
            .enumerate()
            .map(|(i, c)| (c.id.as_str(), i))
            .collect();
        let mut results = self
            .results
            .into_inner()
            .unwrap_or_else(PoisonError::into_inner);
        results.sort_by_key(|r| order.get(r.id.as_str()).copied());
        results
    }
}

/// What the runner decides itself, without starting a case: the cases not asked for, and the
/// skips it can tell. The rest comes back, to be run.
fn decide_in_runner(
    libtest: &libtest_mimic::Arguments,
    cases: &[Case],
    collector: &Collector,
) -> Vec<Case> {
    let mut to_run = Vec::new();
    for case in cases {
        let decided = if libtest.is_ignored(&crate::select::trial(case)) {
            Some(if libtest.bench {
                let why = "not run with --bench (these cases are tests, not benchmarks)";
                (CaseReport::skip(why), NotRun::Bench)
            } else {
                (CaseReport::skip(NOT_RUN_IGNORED), NotRun::Ignored)
            })
        } else {
            let skip = case.precheck.as_ref().and_then(|p| p());
            skip.map(|report| (report, NotRun::Precheck))
        };
        match decided {
            Some((report, why)) => {
                collector.finish(case, report, Duration::ZERO, String::new(), Some(why))
            }
            None => to_run.push(case.clone()),
        }
    }
    to_run
}

/// The run as the reporters see it.
fn run_record(
    plan: &RunPlan,
    seed: u64,
    results: Vec<CaseResult>,
    started: SystemTime,
    duration: Duration,
) -> RunRecord {
    let mut properties = plan.properties.clone();
    if let Ok(u) = nix::sys::utsname::uname() {
        let host = u.nodename().to_string_lossy().into_owned();
        properties.push(("hostname".into(), host));
    }
    properties.push(("seed".into(), seed.to_string()));
    RunRecord {
        name: plan.name.clone(),
        properties,
        suites: plan.suites.clone(),
        results,
        started,
        duration,
        banner: plan.banner.clone(),
    }
}

/// Run `cases` on `threads` workers, each with its own launcher, until they are done or the run
/// is interrupted; the cases no worker started (after a signal) come back. Each worker waits for
/// the case it started before it takes the next one: the parent-death signal of what a worker
/// starts (a case process, a case server) follows the thread that started it.
fn run_pool<'a>(
    threads: usize,
    cases: Vec<Case>,
    launcher: &(dyn Fn() -> Launcher<'a> + Sync),
    execute: &(dyn Fn(&Case, &mut Launcher<'a>) + Sync),
) -> Vec<Case> {
    let workers = threads.clamp(1, cases.len().max(1));
    let queue = Mutex::new(cases.into_iter());
    std::thread::scope(|s| {
        for _ in 0..workers {
            s.spawn(|| {
                let mut launcher = launcher();
                loop {
                    if crate::interrupt::interrupted().is_some() {
                        return;
                    }
                    let next = queue.lock().unwrap_or_else(PoisonError::into_inner).next();
                    match next {
                        Some(case) => execute(&case, &mut launcher),
                        None => return,
                    }
                }
            });
        }
    });
    queue
        .into_inner()
        .unwrap_or_else(PoisonError::into_inner)
        .collect()
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

fn check_unique_ids(cases: &[Case]) -> Result<(), String> {
    let mut seen = std::collections::HashSet::new();
    for c in cases {
        if !seen.insert(c.id.as_str()) {
            return Err(format!("duplicate case id {}", c.id));
        }
    }
    Ok(())
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
    use crate::rerun::RerunSpec;
    use crate::result::tests::sample_run;
    use clap::Parser;
    use rstest::rstest;
    use std::sync::Arc;

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
            precheck: None,
            cost: crate::case::Cost::Quick,
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
        let outside = crate::closing::lines_outside_cases((1..=6).map(rec).collect(), &run.results);
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
            against: "the runner's own test".into(),
            banner: vec![],
            rerun: RerunSpec::default(),
            unusable: None,
            kernel_log: false,
            fork: None,
        }
    }

    #[test]
    fn summary_lines_list_known_bugs_seen_and_not_seen() {
        let run = sample_run();
        assert_eq!(
            crate::closing::known_bug_lines(&run, false),
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
            crate::closing::known_bug_lines(&strict, true)[0],
            "known kernel bugs: 1, failing with --strict (beta::b::known_bug: bug A drops a key)"
        );
        let mut none = sample_run();
        none.results.retain(|r| r.report.known_bug.is_none());
        assert!(crate::closing::known_bug_lines(&none, false).is_empty());
    }

    /// A skip the runner can tell is reported with the case's own words, without running the
    /// case (its body would fail here), and counts as skipped.
    #[test]
    fn a_precheck_skip_never_starts_the_case() {
        let dir = std::env::temp_dir().join(format!("harness-precheck-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let mut plan = plan();
        plan.cases = vec![
            Case {
                precheck: Some(Arc::new(|| {
                    Some(CaseReport::skip("needs s390x; kernel is x86_64"))
                })),
                ..case("t::a::decided", || CaseReport::fail("the body ran"))
            },
            Case {
                precheck: Some(Arc::new(|| None)),
                ..case("t::a::runs", || CaseReport::pass("fine"))
            },
        ];
        let code = run(&args(&["--report-dir", dir.to_str().unwrap()]), plan);
        assert_eq!(format!("{code:?}"), "ExitCode(unix_exit_status(0))");
        let summary = std::fs::read_to_string(dir.join("latest/summary.txt")).unwrap();
        assert!(
            summary.starts_with("kvm-conformance: 1 passed, 0 failed, 1 skipped\n"),
            "{summary}"
        );
        let ktap = std::fs::read_to_string(dir.join("latest/results.ktap")).unwrap();
        assert!(
            ktap.contains("t::a::decided # SKIP needs s390x; kernel is x86_64\n"),
            "{ktap}"
        );
        let _ = std::fs::remove_dir_all(&dir);
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
