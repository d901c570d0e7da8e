//! What the suites hand the harness: the cases, and the plan of a run.

use crate::rerun::RerunSpec;
use crate::result::CaseReport;
use std::sync::Arc;

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

/// What the runner's own process can tell before a case starts: `Some(report)` (a skip, with
/// the reason the case itself would give) means the case is not started at all.
pub type Precheck = Arc<dyn Fn() -> Option<CaseReport> + Send + Sync>;

/// How long a case takes, as far as its suite knows before any run: the scheduler starts the
/// long ones first, so that the run does not end waiting on one of them.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord)]
pub enum Cost {
    /// A few ioctls.
    #[default]
    Quick,
    /// Many ioctls or generated inputs (properties, fills of every slot).
    Long,
}

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
    /// A skip the runner can decide without starting the case (architecture, capabilities).
    pub precheck: Option<Precheck>,
    pub cost: Cost,
    pub body: CaseBody,
}

/// Starts a case process without re-executing the program: runs the closure in a forked copy
/// of the calling process, which must have one thread (the implementation checks and refuses
/// otherwise), and returns the new process's pid. The harness forbids `unsafe`, so the program
/// provides this from wherever its `unsafe` lives.
pub type ForkFn = fn(&mut dyn FnMut() -> u8) -> Result<u32, String>;

/// Everything the runner needs from the suites.
pub struct RunPlan {
    /// The program's name: the first word of its error lines, of the closing line and of the
    /// rerun commands when the program path is unknown.
    pub name: String,
    /// Suite names in report order.
    pub suites: Vec<String>,
    pub cases: Vec<Case>,
    /// Run properties for the reports (kernel, arch, backend, capabilities, ...).
    pub properties: Vec<(String, String)>,
    /// What the run is against, for the banner line: `live backend, kernel 6.18.44, x86_64,
    /// KVM API 12, machine: native x86_64`.
    pub against: String,
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
    /// With it, each case process is a fork of a case server (one per worker, started once)
    /// instead of a new start of the program: the same isolation for a fraction of the cost.
    /// None: every case starts the program anew.
    pub fork: Option<ForkFn>,
}
