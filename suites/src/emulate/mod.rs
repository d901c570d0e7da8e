//! `--emulate-s390 KERNEL`: the suite inside an emulated s390x machine (Hercules or SDL
//! Hyperion) booted with a real s390x kernel and its kvm.ko, so that the s390 cases meet real
//! kernel code on an x86_64 host. Results are live results from a real kernel on an emulated
//! machine, and every report says so.
//!
//! Stages: pick and fetch the kernel (`kernel`), build the initramfs with the suite's static
//! s390x binary and this run's arguments (`guest`), run the machine while showing the guest's
//! progress (`machine`, `console`), read the results back from the raw results disk and publish
//! them as a native run does (`results`); for `all`, a matrix of every kernel (`matrix`).

mod console;
mod guest;
mod kernel;
mod machine;
mod matrix;
mod results;

use kernel::{BootKernel, DebianS390x, KernelRequest};
use machine::{Emulator, Limits, MachineConfig, MachineEnd};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::{Duration, Instant, SystemTime};

/// Why an emulated run could not be done (exit 2, one line).
#[derive(Debug)]
pub struct Error(String);

impl Error {
    fn usage(s: String) -> Error {
        Error(s)
    }
    fn setup(s: String) -> Error {
        Error(s)
    }
    fn io(path: &Path, e: std::io::Error) -> Error {
        Error(format!("{}: {e}", path.display()))
    }
}

impl std::fmt::Display for Error {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// The command line asks for an emulated run.
pub fn requested(args: &[String]) -> bool {
    args.iter()
        .any(|a| a == "--emulate-s390" || a.starts_with("--emulate-s390="))
}

/// How the host console shows the run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Console {
    /// run.sh's default (-q): progress lines, then the closing summary.
    Quiet,
    /// libtest's pretty format: the guest's whole console output at the end.
    Pretty,
    /// KTAP on stdout (progress on stderr).
    Ktap,
}

/// The options of an emulated run; everything else goes to the suite in the guest.
#[derive(Debug, Clone, PartialEq)]
struct Options {
    kernel: String,
    kvm_module: Option<PathBuf>,
    cpus: u32,
    memory_mib: u64,
    timeout: Duration,
    report_dir: PathBuf,
    reports: bool,
    console: Console,
    list: bool,
    guest_args: Vec<String>,
    /// The exact host command that reran this (for the guest's rerun lines).
    launcher: String,
}

/// Main storage large enough for the storage-key cases over 4 GiB of guest memory (they need
/// about 7 GiB), within what this kind of host has (24 GiB).
const DEFAULT_MEMORY_MIB: u64 = 8192;

fn parse(args: &[String]) -> Result<Options, Error> {
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get() as u32);
    let mut o = Options {
        kernel: String::new(),
        kvm_module: None,
        cpus: cores.clamp(1, 8),
        memory_mib: DEFAULT_MEMORY_MIB,
        timeout: Duration::from_secs(3600),
        report_dir: PathBuf::from("reports"),
        reports: true,
        console: Console::Pretty,
        list: false,
        guest_args: Vec::new(),
        launcher: String::new(),
    };
    let mut threads_given = false;
    let mut timeout_given = false;
    let mut it = args.iter().skip(1).peekable();
    while let Some(a) = it.next() {
        let (name, inline) = match a.split_once('=') {
            Some((n, v)) if n.starts_with("--") => (n, Some(v.to_string())),
            _ => (a.as_str(), None),
        };
        let mut value = |what: &str| -> Result<String, Error> {
            inline
                .clone()
                .or_else(|| it.next().cloned())
                .ok_or_else(|| Error::usage(format!("{what} needs a value")))
        };
        match name {
            "--emulate-s390" => o.kernel = value("--emulate-s390")?,
            "--kvm-module" => o.kvm_module = Some(PathBuf::from(value("--kvm-module")?)),
            "--emulator-cpus" => {
                o.cpus = number(&value("--emulator-cpus")?, "--emulator-cpus", 1..=64)? as u32
            }
            "--emulator-memory" => {
                o.memory_mib = number(
                    &value("--emulator-memory")?,
                    "--emulator-memory",
                    512..=65536,
                )?
            }
            "--emulator-timeout" => {
                o.timeout = Duration::from_secs(number(
                    &value("--emulator-timeout")?,
                    "--emulator-timeout",
                    60..=86_400,
                )?)
            }
            "--report-dir" => o.report_dir = PathBuf::from(value("--report-dir")?),
            "--no-reports" => o.reports = false,
            "-q" | "--quiet" => o.console = Console::Quiet,
            "--format" => match value("--format")?.as_str() {
                "ktap" => o.console = Console::Ktap,
                "pretty" => o.console = Console::Pretty,
                "terse" => o.console = Console::Quiet,
                f => {
                    return Err(Error::usage(format!(
                        "--format {f} is not available with --emulate-s390 (pretty, terse, ktap)"
                    )))
                }
            },
            "--color" => {
                value("--color")?;
            }
            "--list" => o.list = true,
            // The rerun lines the guest prints carry `--backend live`: accept that one.
            "--backend" if value("--backend")? == "live" => {}
            "--logfile" | "--backend" | "--sim-kernel" | "--mutant" | "--child-case" => {
                return Err(Error::usage(format!(
                    "{name} is not available with --emulate-s390"
                )))
            }
            _ => {
                if name == "--test-threads" {
                    threads_given = true;
                }
                if name == "--timeout" {
                    timeout_given = true;
                }
                o.guest_args.push(a.clone());
            }
        }
    }
    if o.kernel.is_empty() {
        return Err(Error::usage(
            "--emulate-s390 needs a kernel: 6.1, 6.12, 7.2, all or an image path".into(),
        ));
    }
    // One case per emulated CPU, and a per-case timeout for an emulated CPU that runs
    // maybe a hundred times slower than the host.
    if !threads_given {
        o.guest_args
            .extend(["--test-threads".into(), o.cpus.to_string()]);
    }
    if !timeout_given {
        o.guest_args.extend(["--timeout".into(), "300".into()]);
    }
    let mut launcher = vec![
        std::env::var("KVM_CONFORMANCE_LAUNCHER").unwrap_or_else(|_| "./run.sh".into()),
        format!("--emulate-s390 {}", o.kernel),
    ];
    if let Some(m) = &o.kvm_module {
        launcher.push(format!("--kvm-module {}", m.display()));
    }
    o.launcher = launcher.join(" ");
    Ok(o)
}

fn number(s: &str, what: &str, range: std::ops::RangeInclusive<u64>) -> Result<u64, Error> {
    s.parse::<u64>()
        .ok()
        .filter(|n| range.contains(n))
        .ok_or_else(|| {
            Error::usage(format!(
                "{what} {s}: expected a number from {} to {}",
                range.start(),
                range.end()
            ))
        })
}

/// Where fetched kernels, the busybox, runs and the static build live: `$KVM_CONFORMANCE_CACHE`
/// or `target/emulate` beside this binary's target directory.
fn cache_dir() -> PathBuf {
    if let Some(d) = std::env::var_os("KVM_CONFORMANCE_CACHE") {
        return PathBuf::from(d);
    }
    target_dir().join("emulate")
}

fn target_dir() -> PathBuf {
    let exe = std::env::current_exe().unwrap_or_default();
    // target/release/kvm-conformance → target
    exe.ancestors()
        .find(|p| p.file_name().is_some_and(|n| n == "target"))
        .map(Path::to_path_buf)
        .unwrap_or_else(|| PathBuf::from("target"))
}

/// The suite's static s390x build (run.sh builds it).
fn guest_binary() -> PathBuf {
    std::env::var_os("KVM_CONFORMANCE_S390X_BINARY")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            target_dir().join("s390x-static/s390x-unknown-linux-gnu/release/kvm-conformance")
        })
}

/// The emulator: `$HERCULES` or `hercules` on the PATH.
fn emulator() -> Result<Emulator, Error> {
    let path = std::env::var_os("HERCULES")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("hercules"));
    Emulator::probe(&path)
}

/// Run the emulated suite; `validate` checks the guest's arguments on the host first (a typo
/// fails in a second, not after a boot). `list` lists the cases without booting.
pub fn main(
    args: Vec<String>,
    validate: impl Fn(&[String]) -> Result<(), String>,
    list: impl Fn(&[String]) -> ExitCode,
) -> ExitCode {
    let opts = match parse(&args) {
        Ok(o) => o,
        Err(e) => return fail(&e),
    };
    let mut check = vec![args[0].clone()];
    check.extend(opts.guest_args.iter().cloned());
    if let Err(e) = validate(&check) {
        return fail(&Error(e));
    }
    if opts.list {
        check.push("--list".into());
        return list(&check);
    }
    match run(&opts) {
        Ok(code) => code,
        Err(e) => fail(&e),
    }
}

fn fail(e: &Error) -> ExitCode {
    harness::output::err_line(&format!("kvm-conformance: {e}"));
    ExitCode::from(2)
}

fn run(opts: &Options) -> Result<ExitCode, Error> {
    let request = KernelRequest::parse(&opts.kernel, opts.kvm_module.clone())?;
    let cache = cache_dir();
    std::fs::create_dir_all(&cache).map_err(|e| Error::io(&cache, e))?;
    let suite = guest_binary();
    if !suite.is_file() {
        return Err(Error::setup(format!(
            "no static s390x build of the suite at {} (./run.sh --emulate-s390 builds it)",
            suite.display()
        )));
    }
    let emulator = emulator()?;
    if opts.reports {
        std::fs::create_dir_all(&opts.report_dir).map_err(|e| {
            Error::setup(format!(
                "cannot write reports to {}: {e}",
                opts.report_dir.display()
            ))
        })?;
    }
    // busybox comes from Debian in every case (a maintainer's kernel needs a userland too).
    let debian = DebianS390x::new(&cache)?;
    debian.update(false)?;
    let busybox = debian.busybox(&cache)?;
    type Get<'a> = Box<dyn Fn() -> Result<BootKernel, Error> + 'a>;
    let (debian, cache_ref, request_ref) = (&debian, &cache, &request);
    let kernels: Vec<Get> = match &request {
        KernelRequest::Image { .. } => vec![Box::new(move || own(request_ref))],
        KernelRequest::Series(s) => vec![Box::new(move || debian.kernel(s, cache_ref))],
        KernelRequest::All => kernel::series_of(&debian.image_packages()?)
            .into_iter()
            .map(|s| {
                Box::new(move || {
                    let k = debian.kernel(&s, cache_ref)?;
                    Ok(BootKernel {
                        series: Some(s.clone()),
                        ..k
                    })
                }) as Get
            })
            .collect(),
    };
    run_kernels(opts, &cache, &suite, &emulator, &busybox, kernels)
}

fn own(request: &KernelRequest) -> Result<BootKernel, Error> {
    match request {
        KernelRequest::Image { image, kvm_module } => {
            Ok(kernel::own_kernel(image, kvm_module.as_deref()))
        }
        _ => unreachable!("own kernel only"),
    }
}

/// One outcome per kernel, then (for more than one) the matrix.
fn run_kernels<'a>(
    opts: &Options,
    cache: &Path,
    suite: &Path,
    emulator: &Emulator,
    busybox: &Path,
    kernels: Vec<Box<dyn Fn() -> Result<BootKernel, Error> + 'a>>,
) -> Result<ExitCode, Error> {
    let many = kernels.len() > 1;
    let mut runs = Vec::new();
    let mut worst = 0u8;
    for get in kernels {
        let k = get()?;
        let outcome = run_one(opts, cache, suite, emulator, busybox, &k);
        let code = match &outcome {
            Ok(r) => r.exit,
            Err(e) => {
                harness::output::err_line(&format!("kvm-conformance: {}: {e}", k.name));
                2
            }
        };
        if outcome.as_ref().is_ok_and(|r| r.interrupted) {
            return Ok(ExitCode::from(code));
        }
        worst = worst.max(code);
        runs.push((k, outcome.ok()));
    }
    if many && opts.reports {
        let m = matrix::Matrix::from_runs(
            runs.iter()
                .map(|(k, r)| {
                    (
                        k.name.clone(),
                        r.as_ref().and_then(|r| r.report_dir.clone()),
                    )
                })
                .collect(),
        );
        let dir = m.publish(&opts.report_dir)?;
        if m.any_unexpected() {
            worst = worst.max(1);
        }
        say(
            opts,
            &format!("matrix: {}", dir.join("matrix.txt").display()),
        );
        harness::output::out(&m.render());
    }
    Ok(ExitCode::from(worst))
}

/// The command that reruns a case on this kernel: with `all`, the kernel's own series.
fn launcher_for(opts: &Options, k: &BootKernel) -> String {
    match &k.series {
        Some(series) => opts.launcher.replacen(
            &format!("--emulate-s390 {}", opts.kernel),
            &format!("--emulate-s390 {series}"),
            1,
        ),
        None => opts.launcher.clone(),
    }
}

/// What one kernel's run gave.
struct KernelRun {
    exit: u8,
    report_dir: Option<PathBuf>,
    /// A signal ended it: no further kernel runs.
    interrupted: bool,
}

/// Progress and banners: stdout, or stderr when stdout carries KTAP.
fn say(opts: &Options, line: &str) {
    if opts.console == Console::Ktap {
        harness::output::err_line(line);
    } else {
        harness::output::out_line(line);
    }
}

fn run_one(
    opts: &Options,
    cache: &Path,
    suite: &Path,
    emulator: &Emulator,
    busybox: &Path,
    k: &BootKernel,
) -> Result<KernelRun, Error> {
    let shape = MachineConfig {
        cpus: opts.cpus,
        memory_mib: opts.memory_mib,
        cpu_model: "2098",
    };
    let machine = shape.describe(emulator);
    let run_id = format!(
        "{}-emulated-s390x-{}-{}",
        utc_stamp(SystemTime::now()),
        k.name,
        std::process::id()
    );
    let dir = cache.join("runs").join(&run_id);
    std::fs::create_dir_all(&dir).map_err(|e| Error::io(&dir, e))?;
    let write = |name: &str, data: &[u8]| {
        let p = dir.join(name);
        std::fs::write(&p, data).map_err(|e| Error::io(&p, e))
    };
    std::fs::copy(&k.image, dir.join("kernel.img")).map_err(|e| Error::io(&k.image, e))?;
    write(
        "parmfile",
        format!("{}\n", machine::kernel_cmdline()).as_bytes(),
    )?;
    write("hercules.cnf", shape.hercules_cnf().as_bytes())?;
    write("hercules.rc", machine::HERCULES_RC.as_bytes())?;
    let disk = dir.join("results.fba");
    std::fs::File::create(&disk)
        .and_then(|f| f.set_len(machine::RESULTS_DISK_BYTES))
        .map_err(|e| Error::io(&disk, e))?;
    let mut guest_args = opts.guest_args.clone();
    guest_args.extend(["--machine".into(), machine.clone()]);
    let env = vec![
        (
            "KVM_CONFORMANCE_LAUNCHER".to_string(),
            launcher_for(opts, k),
        ),
        (
            "KVM_CONFORMANCE_KERNEL_PACKAGE".to_string(),
            k.label.clone(),
        ),
    ];
    guest::write_initramfs(
        &guest::Contents {
            busybox,
            suite,
            modules: &k.modules,
            args: &guest_args,
            env: &env,
        },
        &dir.join("initrd.img"),
    )?;

    say(
        opts,
        &format!(
            "EMULATED s390x machine ({machine}) booting {}: live results from a real kernel on an emulated machine, not s390 hardware",
            k.label
        ),
    );
    let limits = Limits {
        boot: Duration::from_secs(600),
        silence: Duration::from_secs(300),
        total: opts.timeout,
    };
    let mut shown = Shown::default();
    let (end, state) = machine::run(emulator, &dir, limits, Duration::from_secs(1), |s, t| {
        shown.update(opts, s, t)
    })?;
    let times = shown.times();
    // The console drops lines: a guest that stopped without its last markers may still have
    // written complete results (its exit status is on the disk), which decide.
    let disk_has_results = results::read_results_disk(&disk).is_ok_and(|r| r.rc().is_some());
    let end = match end {
        MachineEnd::Crashed(_) if disk_has_results => MachineEnd::Finished,
        e => e,
    };
    match end {
        MachineEnd::Finished => {}
        MachineEnd::Interrupted(sig) => {
            harness::output::err_line(&format!(
                "kvm-conformance: interrupted by signal {sig}: the emulator was stopped (console log: {})",
                dir.join("console.log").display()
            ));
            if opts.reports {
                let why = format!("interrupted by signal {sig}");
                publish_failure(opts, &run_id, &why, &machine::console_tail(&dir, 30), &dir)?;
            }
            // The shell's convention for a command ended by a signal.
            return Ok(KernelRun {
                exit: 128u8.saturating_add(sig as u8),
                report_dir: None,
                interrupted: true,
            });
        }
        MachineEnd::Crashed(why) | MachineEnd::Hung(why) | MachineEnd::EmulatorExited(why) => {
            let tail = machine::console_tail(&dir, 30);
            harness::output::err_line(&format!(
                "kvm-conformance: {}: {why}; the console's last lines:\n{tail}",
                k.name
            ));
            if opts.reports {
                publish_failure(opts, &run_id, &why, &tail, &dir)?;
            }
            return Ok(KernelRun {
                exit: 2,
                report_dir: None,
                interrupted: false,
            });
        }
    }
    for e in &state.errors {
        say(opts, &format!("guest: {e}"));
    }
    let results = results::read_results_disk(&disk).map_err(|e| {
        Error::setup(format!(
            "{e}; the console's last lines:\n{}",
            machine::console_tail(&dir, 30)
        ))
    })?;
    let rc = results.rc().unwrap_or(2);
    let console_log = std::fs::read(dir.join("console.log")).unwrap_or_default();
    let mut report_dir = None;
    if opts.reports {
        let mut timing = times.describe();
        timing.push('\n');
        let d = results::publish(
            &opts.report_dir,
            &run_id,
            &results,
            &[
                ("emulator-console.log", console_log),
                (
                    "emulated-machine.txt",
                    format!("{machine}\nkernel: {}\n{timing}", k.label).into_bytes(),
                ),
            ],
        )?;
        report_dir = Some(d);
    }
    match opts.console {
        Console::Ktap => {
            harness::output::out(&results.report_text("results.ktap").unwrap_or_default())
        }
        Console::Pretty => harness::output::out(&results.text("stdout.txt").unwrap_or_default()),
        Console::Quiet => {
            if let Some(s) = results.report_text("summary.txt") {
                harness::output::out(&s);
            }
        }
    }
    if let Some(stderr) = results.text("stderr.txt").filter(|s| !s.trim().is_empty()) {
        harness::output::err_line(stderr.trim_end());
    }
    say(
        opts,
        &format!("emulated s390x, {}: {}", k.name, times.describe()),
    );
    // Nothing else may delete what the user needs; the large files can go.
    for f in ["results.fba", "initrd.img", "kernel.img"] {
        let _ = std::fs::remove_file(dir.join(f));
    }
    Ok(KernelRun {
        exit: u8::try_from(rc).unwrap_or(2),
        report_dir,
        interrupted: false,
    })
}

/// A report directory for a run that did not finish: the reason and the console, and
/// `latest` pointing at it so that nobody publishes an older run as this one.
fn publish_failure(
    opts: &Options,
    run_id: &str,
    why: &str,
    tail: &str,
    dir: &Path,
) -> Result<(), Error> {
    let r = results::GuestResults::default();
    results::publish(
        &opts.report_dir,
        run_id,
        &r,
        &[
            (
                "summary.txt",
                format!("kvm-conformance: the emulated run did not finish: {why}\n\n{tail}\n")
                    .into_bytes(),
            ),
            (
                "emulator-console.log",
                std::fs::read(dir.join("console.log")).unwrap_or_default(),
            ),
        ],
    )
    .map(|_| ())
}

/// What the host console has shown, so progress is printed when it changes and at least every
/// 30 s, and the phases are timed on the host clock.
#[derive(Default)]
struct Shown {
    last_print: Option<Duration>,
    last_line: String,
    booted_at: Option<Duration>,
    suite_started: Option<Duration>,
    suite_ended: Option<Duration>,
    total: Option<u64>,
    warned_mem_limit: bool,
    started: Option<Instant>,
}

#[derive(Debug, Clone, Copy, Default)]
struct Times {
    boot: Option<Duration>,
    suite: Option<Duration>,
    cases: Option<u64>,
}

impl Times {
    fn describe(&self) -> String {
        let secs =
            |d: Option<Duration>| d.map_or("?".into(), |d| format!("{:.0} s", d.as_secs_f64()));
        let rate = match (self.suite, self.cases) {
            (Some(s), Some(n)) if s.as_secs_f64() > 0.0 => {
                format!(", {:.1} cases/s", n as f64 / s.as_secs_f64())
            }
            _ => String::new(),
        };
        format!(
            "boot {}, suite {}{}",
            secs(self.boot),
            secs(self.suite),
            rate
        )
    }
}

impl Shown {
    fn update(&mut self, opts: &Options, s: &console::ConsoleState, t: Duration) {
        self.started.get_or_insert_with(Instant::now);
        if s.release.is_some() && self.booted_at.is_none() {
            self.booted_at = Some(t);
        }
        if s.total.is_some() && self.suite_started.is_none() {
            self.suite_started = Some(t);
            self.total = s.total;
        }
        if s.suite_rc.is_some() && self.suite_ended.is_none() {
            self.suite_ended = Some(t);
        }
        if !self.warned_mem_limit && s.fact("mem_limit").is_some_and(|v| v == "0" || v == "0x0") {
            self.warned_mem_limit = true;
            say(
                opts,
                &mem_limit_hint(s.release.as_deref().unwrap_or("this kernel")),
            );
        }
        let line = match (&s.progress, s.release.is_some(), s.total) {
            (Some(p), _, _) => format!("{}/{} cases done, {} failed", p.done, p.total, p.failed),
            (None, _, Some(total)) => format!("0/{total} cases done"),
            (None, true, None) => "kernel up, loading kvm".to_string(),
            (None, false, None) => "booting".to_string(),
        };
        let due = self
            .last_print
            .is_none_or(|p| t.saturating_sub(p) >= Duration::from_secs(30));
        let changed = line != self.last_line
            && self
                .last_print
                .is_none_or(|p| t.saturating_sub(p) >= Duration::from_secs(10));
        if due || changed {
            say(
                opts,
                &format!("  [{:>2}:{:02}] {line}", t.as_secs() / 60, t.as_secs() % 60),
            );
            self.last_print = Some(t);
            self.last_line = line;
        }
    }

    fn times(&self) -> Times {
        Times {
            boot: self.suite_started,
            suite: match (self.suite_started, self.suite_ended) {
                (Some(a), Some(b)) => Some(b.saturating_sub(a)),
                _ => None,
            },
            cases: self.total,
        }
    }
}

/// The one line for a machine whose kernel computed a VM memory limit of 0.
fn mem_limit_hint(release: &str) -> String {
    format!(
        "kvm-conformance: {release} reports a VM memory limit of 0, so it refuses every memslot: \
         this emulator reports no host address limit (SCLP hamaxpow 0) and the kernel wraps \
         sclp.hamax + 1 to 0 (kernel-semantics.md §6.3); use HERCULES=hyperion (SDL Hyperion with \
         ../shared/emulators/hamaxpow.patch, which reports 2^53 as real machines report a limit)"
    )
}

/// `20261122T030512Z`.
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
    use rstest::rstest;

    fn args(a: &[&str]) -> Vec<String> {
        std::iter::once("kvm-conformance")
            .chain(a.iter().copied())
            .map(String::from)
            .collect()
    }

    #[test]
    fn host_options_are_taken_the_rest_goes_to_the_guest() {
        let o = parse(&args(&[
            "-q",
            "--emulate-s390",
            "6.12",
            "--report-dir",
            "/tmp/r",
            "--seed",
            "42",
            "s390_skeys::",
            "--emulator-cpus=2",
        ]))
        .unwrap();
        assert_eq!(o.kernel, "6.12");
        assert_eq!(o.report_dir, PathBuf::from("/tmp/r"));
        assert_eq!(o.console, Console::Quiet);
        assert_eq!(o.cpus, 2);
        assert_eq!(
            o.guest_args,
            args(&[
                "--seed",
                "42",
                "s390_skeys::",
                "--test-threads",
                "2",
                "--timeout",
                "300"
            ])[1..]
        );
        assert!(
            o.launcher.ends_with("--emulate-s390 6.12"),
            "{}",
            o.launcher
        );
    }

    #[test]
    fn a_rerun_from_an_all_run_names_the_kernels_own_series() {
        let o = parse(&args(&["--emulate-s390", "all", "s390_skeys::"])).unwrap();
        let mut k = kernel::own_kernel(Path::new("/k/image"), None);
        assert_eq!(launcher_for(&o, &k), o.launcher);
        k.series = Some("6.1".into());
        let l = launcher_for(&o, &k);
        assert!(l.ends_with(" --emulate-s390 6.1"), "{l}");
        assert!(!l.contains("all"), "{l}");
    }

    #[test]
    fn a_printed_rerun_line_parses() {
        let o = parse(&args(&[
            "--emulate-s390",
            "7.2",
            "--backend",
            "live",
            "--seed",
            "5",
            "--exact",
            "a::b",
        ]))
        .unwrap();
        assert_eq!(
            o.guest_args[..4],
            args(&["--seed", "5", "--exact", "a::b"])[1..]
        );
    }

    #[test]
    fn the_users_threads_and_timeout_win() {
        let o = parse(&args(&[
            "--emulate-s390=7.2",
            "--test-threads",
            "1",
            "--timeout=60",
        ]))
        .unwrap();
        assert_eq!(
            o.guest_args,
            args(&["--test-threads", "1", "--timeout=60"])[1..]
        );
    }

    #[rstest]
    #[case::no_kernel(&["--emulate-s390"])]
    #[case::json(&["--emulate-s390", "6.12", "--format", "json"])]
    #[case::simulated(&["--emulate-s390", "6.12", "--backend", "simulated"])]
    #[case::cpus_zero(&["--emulate-s390", "6.12", "--emulator-cpus", "0"])]
    #[case::memory_text(&["--emulate-s390", "6.12", "--emulator-memory", "lots"])]
    fn bad_options(#[case] a: &[&str]) {
        assert!(parse(&args(a)).is_err());
    }

    #[test]
    fn requested_only_with_the_option() {
        assert!(requested(&args(&["--emulate-s390", "6.12"])));
        assert!(requested(&args(&["--emulate-s390=all"])));
        assert!(!requested(&args(&["--emulate", "6.12"])));
    }

    #[test]
    fn times_read_as_a_measurement() {
        let t = Times {
            boot: Some(Duration::from_secs(48)),
            suite: Some(Duration::from_secs(200)),
            cases: Some(786),
        };
        assert_eq!(t.describe(), "boot 48 s, suite 200 s, 3.9 cases/s");
        assert_eq!(Times::default().describe(), "boot ?, suite ?");
    }

    #[test]
    fn the_mem_limit_hint_names_cause_and_remedy() {
        let h = mem_limit_hint("7.2.13+deb14-s390x");
        assert!(
            h.contains("memory limit of 0")
                && h.contains("hamaxpow")
                && h.contains("HERCULES=hyperion")
        );
        assert_eq!(h.lines().count(), 1);
    }
}
