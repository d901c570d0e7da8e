//! kvm-conformance: checks the KVM ioctls documented in api.txt against this host's kernel (or
//! the simulated s390 kernel) and writes JUnit and KTAP reports.

#![forbid(unsafe_code)]

mod compare;
mod emulate;
mod ioeventfd;
mod report_reader;
mod rows;
mod s390_irq_state;
mod s390_mem_op;
mod s390_skeys;
mod selftest;
mod set_user_memory_region;
mod set_user_memory_region2;

use clap::{Parser, ValueEnum};
use fixtures::raw::uapi::*;
use fixtures::raw::{Backend, Kernel, LiveKernel};
use fixtures::sim::{Generation, Mutant, SimKernel};
use harness::output::{err_line, out_line};
use harness::{HarnessArgs, RerunSpec, RunPlan};
use std::process::ExitCode;

#[derive(Parser, Debug)]
#[command(
    name = "kvm-conformance",
    about = "Conformance cases for the KVM ioctls documented in api.txt, with JUnit and KTAP reports.",
    long_about = "Conformance cases for the KVM ioctls documented in api.txt, run against this host's kernel (or the simulated s390 kernel), with JUnit and KTAP reports.",
    args_override_self = true,
    help_template = "{about}\n\nUSAGE: kvm-conformance [OPTIONS] [FILTER]\n\n{all-args}\n\n{after-help}",
    after_help = "Also: --format ktap prints KTAP v1 on stdout (the report files are written as always).\n\
        Environment: PROPTEST_RNG_SEED, PROPTEST_CASES (as --seed, --proptest-cases);\n\
        KVM_CONFORMANCE_DEVICE (the KVM device node; unset or empty: /dev/kvm).\n\
        Exit status: 0 nothing failed; 1 a case failed; 2 the run could not be done (bad\n\
        arguments, a selection that matches no case, reports that cannot be written, no usable\n\
        KVM); 128+N the run was interrupted by signal N (130 SIGINT, 143 SIGTERM, 129 SIGHUP),\n\
        its reports complete. Console output that cannot be written is dropped."
)]
struct Cli {
    #[command(flatten)]
    harness: HarnessArgs,

    /// Which kernel answers: this host's (live) or the simulated s390 kernel.
    #[arg(long, value_enum, default_value_t = BackendArg::Live)]
    backend: BackendArg,

    /// Generation of the simulated s390 kernel (with --backend simulated): 6.1 (classic gmap,
    /// MEM_OP before the cmpxchg series), 6.12 (classic gmap), 7.0 (new gmap, before the
    /// -EFAULT fix), 7.2 (new gmap with fixes; the default).
    #[arg(long = "sim-kernel", value_name = "VERSION")]
    sim_kernel: Option<Generation>,

    /// The simulated s390 kernel built with CONFIG_KVM_S390_UCONTROL (with --backend
    /// simulated): KVM_CAP_S390_UCONTROL 1 and ucontrol VMs, so the `ucontrol::` rows run.
    /// Off by default, as in Debian's kernels.
    #[arg(long = "sim-ucontrol")]
    sim_ucontrol: bool,

    /// Make the simulated kernel deviate in this one named way (proves the cases notice).
    /// `--mutant list` prints the names.
    #[arg(long, value_name = "NAME")]
    mutant: Option<String>,

    /// Describe the machine in the reports (`--emulate-s390` sets it to the emulated one).
    #[arg(long, value_name = "TEXT")]
    machine: Option<String>,

    /// Run the suite inside an emulated s390x machine booted with KERNEL: 6.1, 6.12, 7.2 (the
    /// newest Debian s390x kernel of that series), all (every series), or a kernel image path
    /// (with --kvm-module PATH). Also: --emulator-cpus N, --emulator-memory MIB,
    /// --emulator-timeout SECS; HERCULES=PATH names the emulator.
    #[arg(long = "emulate-s390", value_name = "KERNEL")]
    emulate_s390: Option<String>,

    /// kvm.ko for a kernel image given to --emulate-s390.
    #[arg(long = "kvm-module", value_name = "PATH")]
    kvm_module: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum BackendArg {
    Live,
    Simulated,
}

/// The suites in report order, each one documented ioctl (family).
fn suites() -> Vec<(&'static str, Vec<harness::Case>)> {
    let mut suites = vec![
        (s390_mem_op::SUITE, s390_mem_op::cases()),
        (s390_skeys::SUITE, s390_skeys::cases()),
        (s390_irq_state::SUITE, s390_irq_state::cases()),
        (
            set_user_memory_region::SUITE,
            set_user_memory_region::cases(),
        ),
        (ioeventfd::SUITE, ioeventfd::cases()),
        (
            set_user_memory_region2::SUITE,
            set_user_memory_region2::cases(),
        ),
    ];
    if selftest::enabled() {
        suites.push((selftest::SUITE, selftest::cases()));
        suites.push((selftest::KERNEL_LOG_SUITE, vec![selftest::kernel_line()]));
        suites.push((selftest::ISOLATION_SUITE, selftest::isolation_cases()));
    }
    suites
}

/// Capabilities recorded in every report, so a result can be read against the host.
const REPORTED_CAPS: &[(u64, &str)] = &[
    (KVM_CAP_USER_MEMORY, "KVM_CAP_USER_MEMORY"),
    (KVM_CAP_USER_MEMORY2, "KVM_CAP_USER_MEMORY2"),
    (KVM_CAP_NR_MEMSLOTS, "KVM_CAP_NR_MEMSLOTS"),
    (KVM_CAP_SYNC_MMU, "KVM_CAP_SYNC_MMU"),
    (KVM_CAP_READONLY_MEM, "KVM_CAP_READONLY_MEM"),
    (KVM_CAP_MULTI_ADDRESS_SPACE, "KVM_CAP_MULTI_ADDRESS_SPACE"),
    (KVM_CAP_IOEVENTFD, "KVM_CAP_IOEVENTFD"),
    (KVM_CAP_IOEVENTFD_NO_LENGTH, "KVM_CAP_IOEVENTFD_NO_LENGTH"),
    (KVM_CAP_IOEVENTFD_ANY_LENGTH, "KVM_CAP_IOEVENTFD_ANY_LENGTH"),
    (KVM_CAP_S390_MEM_OP, "KVM_CAP_S390_MEM_OP"),
    (
        KVM_CAP_S390_MEM_OP_EXTENSION,
        "KVM_CAP_S390_MEM_OP_EXTENSION",
    ),
    (KVM_CAP_S390_SKEYS, "KVM_CAP_S390_SKEYS"),
    (KVM_CAP_S390_INJECT_IRQ, "KVM_CAP_S390_INJECT_IRQ"),
    (KVM_CAP_S390_IRQ_STATE, "KVM_CAP_S390_IRQ_STATE"),
    (KVM_CAP_S390_PROTECTED, "KVM_CAP_S390_PROTECTED"),
    (KVM_CAP_S390_UCONTROL, "KVM_CAP_S390_UCONTROL"),
];

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().collect();
    if args.get(1).map(String::as_str) == Some("compare") {
        return compare::main(args[2..].to_vec());
    }
    if args.get(1).map(String::as_str) == Some("--emulated-facts") {
        return emulated_facts();
    }
    if emulate::requested(&args) && !args.iter().any(|a| a == "-h" || a == "--help") {
        return emulate::main(
            args,
            |a| parse_cli(a.to_vec()).map(|_| ()),
            |a| run_cli(a.to_vec()),
        );
    }
    run_cli(args)
}

/// The command line, or the one-line reason it is wrong. `--help` prints and exits here.
fn parse_cli(args: Vec<String>) -> Result<Cli, String> {
    let (argv, ktap) = harness::cli::take_ktap_format(args);
    match Cli::try_parse_from(argv) {
        Ok(mut cli) => {
            cli.harness.ktap = ktap;
            Ok(cli)
        }
        Err(e) if !e.use_stderr() => e.exit(), // --help
        Err(e) => {
            // One line: clap's reason without its usage hint.
            let text = e.to_string();
            let reason = text.lines().next().unwrap_or("bad arguments");
            Err(reason.trim_start_matches("error: ").to_string())
        }
    }
}

/// What the emulated machine's /init prints before the suite: the facts the host console
/// explains at once (a VM memory limit of 0 refuses every memslot).
fn emulated_facts() -> ExitCode {
    fixtures::select(Box::new(LiveKernel));
    let k = fixtures::kernel();
    match fixtures::vm::Vm::new() {
        Ok(vm) => match fixtures::raw::ioctl::s390_mem_limit(k, vm.fd) {
            Ok(limit) => out_line(&format!("mem_limit={limit:#x}")),
            Err(e) => out_line(&format!("mem_limit=error:{e:?}")),
        },
        Err(e) => out_line(&format!("vm=error:{}", e.replace(' ', "_"))),
    }
    if let Ok(sys) = fixtures::host::open_kvm(k) {
        out_line(&format!("nr_memslots={}", sys.cap(KVM_CAP_NR_MEMSLOTS)));
        out_line(&format!(
            "mem_op_extension={}",
            sys.cap(KVM_CAP_S390_MEM_OP_EXTENSION)
        ));
    }
    ExitCode::SUCCESS
}

fn run_cli(args: Vec<String>) -> ExitCode {
    let cli = match parse_cli(args) {
        Ok(cli) => cli,
        Err(reason) => return refuse(&reason),
    };

    if cli.mutant.as_deref() == Some("list") {
        for m in Mutant::ALL {
            out_line(&format!("{:<40} {}", m.name(), m.description()));
        }
        return ExitCode::SUCCESS;
    }
    let mutant = match cli.mutant.as_deref().map(str::parse::<Mutant>).transpose() {
        Ok(m) => m,
        Err(e) => return refuse(&format!("--mutant: {e} (see --mutant list)")),
    };
    let simulated = cli.backend == BackendArg::Simulated;
    if mutant.is_some() && !simulated {
        return refuse("--mutant needs --backend simulated");
    }
    if cli.sim_kernel.is_some() && !simulated {
        return refuse("--sim-kernel needs --backend simulated");
    }
    if cli.sim_ucontrol && !simulated {
        return refuse("--sim-ucontrol needs --backend simulated");
    }
    // The first case server builds its plan while this process builds its own.
    harness::runner::start_early(&cli.harness);
    let generation = cli.sim_kernel.unwrap_or(Generation::NewFix);

    let kernel: Box<dyn Kernel> = match cli.backend {
        BackendArg::Live => Box::new(LiveKernel),
        BackendArg::Simulated => {
            Box::new(SimKernel::new(generation, mutant).with_ucontrol(cli.sim_ucontrol))
        }
    };
    fixtures::select(kernel);
    let k = fixtures::kernel();

    let mut properties = vec![
        ("backend".to_string(), k.backend().as_str().to_string()),
        ("kernel_release".into(), k.release()),
        ("arch".into(), k.arch().to_string()),
        ("host_arch".into(), std::env::consts::ARCH.to_string()),
    ];
    let machine = cli.machine.clone().unwrap_or_else(|| match k.backend() {
        Backend::Live => format!("native {}", std::env::consts::ARCH),
        _ => "simulated (no kernel)".into(),
    });
    properties.push(("machine".into(), machine.clone()));
    if let Ok(package) = std::env::var("KVM_CONFORMANCE_KERNEL_PACKAGE") {
        properties.push(("kernel_package".into(), package));
    }
    if let (Backend::Live, Some(t)) = (k.backend(), fixtures::host::kernel_taint()) {
        properties.push(("kernel_tainted_at_start".into(), t.to_string()));
    }
    let mut banner = Vec::new();
    if machine.starts_with("emulated") {
        banner.push(format!(
            "EMULATED {} machine ({machine}): live results from the real kernel {} on an emulated machine, not from hardware",
            k.arch(),
            k.release()
        ));
    }
    // Everything of this command line and environment that changes what a case does, for
    // the rerun lines (the harness adds its own options and the seed).
    let mut rerun = RerunSpec {
        // run.sh names itself: a rerun line then starts with ./run.sh, not the binary's path.
        launcher: std::env::var("KVM_CONFORMANCE_LAUNCHER").ok(),
        ..RerunSpec::default()
    };
    rerun
        .args
        .extend(["--backend".into(), k.backend().as_str().to_string()]);
    if simulated {
        banner.push(format!(
            "SIMULATED s390 kernel ({}): results do not come from a live kernel",
            k.release()
        ));
        properties.push(("simulated_generation".into(), generation.to_string()));
        rerun
            .args
            .extend(["--sim-kernel".into(), generation.to_string()]);
        if cli.sim_ucontrol {
            properties.push(("simulated_ucontrol".into(), "1".into()));
            rerun.args.push("--sim-ucontrol".into());
        }
        if let Some(m) = mutant {
            banner.push(format!("mutant: {} ({})", m.name(), m.description()));
            properties.push(("mutant".into(), m.name().to_string()));
            rerun.args.extend(["--mutant".into(), m.name().to_string()]);
        }
    } else if std::env::var("KVM_CONFORMANCE_DEVICE").is_ok_and(|d| !d.is_empty()) {
        rerun.env.push((
            "KVM_CONFORMANCE_DEVICE".into(),
            fixtures::raw::kernel::kvm_device(),
        ));
    }
    if let Some(m) = &cli.machine {
        rerun.args.extend(["--machine".into(), m.clone()]);
    }
    if selftest::enabled() {
        rerun
            .env
            .push(("KVM_CONFORMANCE_SELFTEST".into(), "1".into()));
    }
    let mut unusable = None;
    match fixtures::host::open_kvm(k) {
        Ok(sys) => {
            properties.push(("kvm_api_version".into(), KVM_API_VERSION.to_string()));
            for &(cap, name) in REPORTED_CAPS {
                properties.push((name.to_string(), sys.cap(cap).to_string()));
            }
        }
        Err(reason) => {
            properties.push(("kvm".into(), reason.clone()));
            banner.insert(0, format!("{reason}: every case is skipped"));
            unusable = Some(reason);
        }
    }

    let prop = |k: &str| {
        properties
            .iter()
            .find(|(n, _)| n == k)
            .map_or("unknown", |(_, v)| v.as_str())
    };
    let against = format!(
        "{} backend, kernel {}, {}, KVM API {}, machine: {machine}",
        prop("backend"),
        prop("kernel_release"),
        prop("arch"),
        prop("kvm_api_version"),
    );
    let mut names = Vec::new();
    let mut cases = Vec::new();
    for (name, c) in suites() {
        names.push(name.to_string());
        cases.extend(c);
    }
    let plan = RunPlan {
        name: "kvm-conformance".into(),
        suites: names,
        cases,
        properties,
        against,
        banner,
        rerun,
        // The child processes of a live run each read their own lines; the parent the rest.
        kernel_log: k.backend() == Backend::Live && unusable.is_none(),
        unusable,
        fork: Some(fixtures::raw::process::fork_single_threaded),
    };
    harness::runner::run(&cli.harness, plan)
}

fn refuse(reason: &str) -> ExitCode {
    err_line(&format!("kvm-conformance: {reason}"));
    ExitCode::from(2)
}
