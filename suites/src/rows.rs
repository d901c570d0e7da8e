//! What every suite shares: the requirements a case checks against the host, the seed section it
//! checks, the call-and-judge `Checker`, expected outcomes with their alternatives, and (in
//! `table`) the one row shape and the function that runs a row. A suite file is its table plus
//! the fixture only that ioctl has.

use fixtures::host::{storage_key_scope, StorageKeyScope, SystemFd};
use fixtures::raw::uapi::KVM_CAP_S390_KEYOP;
use fixtures::raw::{Backend, Kernel, SysResult};
use harness::{judge, AltKind, CaseReport, Expected, Judgement, Outcome};
use std::fmt::Display;

pub mod not_runnable;
pub mod property;
pub mod table;

pub use property::Property;
pub use table::{case, cases, Act, CaseDef, Fixture, Row};

/// An api.txt section a case checks, with the seed file that holds it.
#[derive(Debug, Clone, Copy)]
pub struct Seed {
    pub section: &'static str,
    pub ioctl: &'static str,
    pub file: &'static str,
}

impl Display for Seed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "api.txt {} {} (seeds/{})",
            self.section, self.ioctl, self.file
        )
    }
}

/// What a case needs from the host before it can run.
#[derive(Debug, Clone)]
pub enum Need {
    /// The kernel implements this architecture ("x86_64", "s390x").
    Arch(&'static str),
    /// The kernel implements any architecture but this one.
    NotArch(&'static str),
    /// KVM_CHECK_EXTENSION(cap) >= min.
    Cap {
        cap: u64,
        name: &'static str,
        min: i64,
    },
    /// KVM_CHECK_EXTENSION(cap) has all these bits.
    CapBits {
        cap: u64,
        name: &'static str,
        bits: i64,
    },
    /// KVM_CHECK_EXTENSION(cap) == 0 (a case about the feature's absence).
    CapAbsent { cap: u64, name: &'static str },
    /// A real kernel: guest programs do not run on the simulated one.
    Live,
    /// The process has CAP_SYS_ADMIN (effective): the kernel's `capable(CAP_SYS_ADMIN)`, e.g.
    /// for a ucontrol VM (the simulated kernel asks the same of the process).
    SysAdmin,
    /// A kernel release at least (major, minor, sublevel), from uname: only where a row would
    /// crash an older kernel instead of getting an answer, and no other fact tells the two apart.
    KernelAtLeast {
        release: (u32, u32, u32),
        why: &'static str,
    },
}

pub const fn cap(cap: u64, name: &'static str) -> Need {
    Need::Cap { cap, name, min: 1 }
}

/// The host as a case sees it: the selected kernel and its open /dev/kvm.
pub struct Host {
    pub k: &'static dyn Kernel,
    pub sys: SystemFd,
}

impl Host {
    pub fn arch(&self) -> &'static str {
        self.k.arch()
    }
    pub fn cap(&self, cap: u64) -> i64 {
        self.sys.cap(cap)
    }
}

impl Need {
    fn is_arch(&self) -> bool {
        matches!(self, Need::Arch(_) | Need::NotArch(_))
    }

    /// None when satisfied, else the skip reason naming what is missing and what the host has.
    pub fn unmet(&self, host: &Host) -> Option<String> {
        // An s390 capability missing on another architecture: the architecture is the reason
        // (one reason for all s390 cases there, not one per capability).
        let s390_cap = |name: &str| name.starts_with("KVM_CAP_S390_") && host.arch() != "s390x";
        match *self {
            Need::Cap { name, .. } | Need::CapBits { name, .. }
                if s390_cap(name) && Need::Arch("s390x").unmet(host).is_some() =>
            {
                Need::Arch("s390x").unmet(host)
            }
            Need::Arch(a) if host.arch() != a => {
                Some(format!("needs {a}; kernel is {}", host.arch()))
            }
            Need::NotArch(a) if host.arch() == a => Some(format!("not applicable on {a}")),
            Need::Cap { cap, name, min } => {
                let v = host.cap(cap);
                (v < min).then(|| {
                    if min == 1 {
                        format!("needs {name}; host reports {v}")
                    } else {
                        format!("needs {name} >= {min}; host reports {v}")
                    }
                })
            }
            Need::CapBits { cap, name, bits } => {
                let v = host.cap(cap);
                (v & bits != bits).then(|| format!("needs {name} & {bits:#x}; host reports {v:#x}"))
            }
            Need::CapAbsent { cap, name } => {
                let v = host.cap(cap);
                (v != 0).then(|| format!("needs {name} absent; host reports {v}"))
            }
            Need::Live if host.k.backend() != Backend::Live => {
                Some("needs the live kernel (guest programs); this run is simulated".into())
            }
            Need::KernelAtLeast { release, why } => {
                let running = host.k.release();
                let (a, b, c) = release;
                (release_numbers(&running) < release)
                    .then(|| format!("needs kernel {a}.{b}.{c} or later ({why}); kernel is {running}"))
            }
            Need::SysAdmin if !fixtures::host::has_cap_sys_admin() => Some(
                "needs CAP_SYS_ADMIN (a ucontrol VM); this process does not have it (CapEff in /proc/self/status)".into(),
            ),
            _ => None,
        }
    }
}

/// The leading "major.minor.sublevel" of a kernel release (missing or unreadable parts: 0).
fn release_numbers(release: &str) -> (u32, u32, u32) {
    let mut n = release
        .split(|c: char| !c.is_ascii_digit())
        .map(|p| p.parse().unwrap_or(0));
    (
        n.next().unwrap_or(0),
        n.next().unwrap_or(0),
        n.next().unwrap_or(0),
    )
}

/// The most kernel log lines one case's report keeps (the first ones; the count of the rest
/// is said): a memslot property on a classic-gmap kernel logs thousands of the same line.
const KERNEL_LOG_MAX_LINES: usize = 200;

/// A documented kernel WARN the suite knows: its `WARNING:` line names `site`.
pub struct KnownWarning {
    pub site: &'static str,
    pub bug: &'static str,
    /// Whether this kernel has the code that warns, and the host fact that says so.
    pub here: fn() -> (bool, String),
}

/// Found by `set_user_memory_region::ucontrol::create_vm_without_capability` on Debian 6.12.107
/// and 7.2.13 (emulated machine; 6.1.176 logged no such WARN in two full runs): kvm_create_vm's
/// error path calls
/// kvm_arch_free_vm, which with CONFIG_VFIO_PCI_ZDEV_KVM checks that the VM's zPCI device list is
/// empty (kvm_s390_pci_clear_list, WARN_ON_ONCE); a KVM_CREATE_VM that kvm_arch_init_vm refuses
/// before kvm_s390_pci_init_list (an unknown type: EINVAL) leaves that list zeroed, never
/// initialised, so the check warns (once per boot) although nothing was added.
pub const KNOWN_KERNEL_WARNINGS: &[KnownWarning] = &[KnownWarning {
    site: " kvm_s390_pci_clear_list+",
    bug: "s390 with CONFIG_VFIO_PCI_ZDEV_KVM: a KVM_CREATE_VM that kvm_arch_init_vm refuses early (an unknown VM type: EINVAL) WARNs in kvm_s390_pci_clear_list (kvm_arch_free_vm checks the zPCI device list that kvm_s390_pci_init_list never initialised; WARN_ON_ONCE, taints W)",
    here: zpci_kvm_built,
}];

/// Whether the kernel has kvm_s390_pci_clear_list (built with CONFIG_VFIO_PCI_ZDEV_KVM), from
/// /proc/kallsyms.
fn zpci_kvm_built() -> (bool, String) {
    let found = std::fs::read_to_string("/proc/kallsyms").map(|k| {
        k.lines()
            .any(|l| l.split_whitespace().nth(2) == Some("kvm_s390_pci_clear_list"))
    });
    match found {
        Ok(true) => (
            true,
            "/proc/kallsyms lists kvm_s390_pci_clear_list (CONFIG_VFIO_PCI_ZDEV_KVM)".into(),
        ),
        Ok(false) => (
            false,
            "/proc/kallsyms does not list kvm_s390_pci_clear_list".into(),
        ),
        Err(e) => (false, format!("/proc/kallsyms unreadable: {e}")),
    }
}

/// The note of every known-kernel-bug check: which kind of kernel this is, by which fact.
fn known_bug_check_note(here: bool, fact: &str) -> String {
    let not = if here { "" } else { "not " };
    format!("known kernel bug check: this is {not}a kernel where it is known: {fact}")
}

/// The hint of a known kernel bug seen on a kernel where it is not known.
fn known_bug_elsewhere_hint(bug: &str) -> String {
    format!("hint: this is a documented kernel bug ({bug}), but this kernel is not one where it is known")
}

/// The known warning a kernel `WARNING:` line is, if any.
fn known_warning(text: &str) -> Option<&'static KnownWarning> {
    text.starts_with("WARNING: ")
        .then(|| KNOWN_KERNEL_WARNINGS.iter().find(|w| text.contains(w.site)))
        .flatten()
}

/// The kernel's `WARNING:` lines in a case's log window.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum WarningsLogged {
    None,
    /// Only known warnings' (each has its own outcome or note).
    OnlyKnown,
    /// At least one that is not a known warning.
    Unknown,
}

/// Which `WARNING:` lines the kernel logged in the window. A W taint that appears during a
/// case is the case's only with `Unknown`: a known warning has its own outcome, and a WARN of
/// a case running at the same time can set W inside this window although its WARNING line
/// came before it (the taint is set at the end of the report).
pub(crate) fn warnings_logged(records: &[harness::kmsg::Record]) -> WarningsLogged {
    let mut lines = records
        .iter()
        .filter(|r| r.from_kernel() && r.text.starts_with("WARNING: "))
        .peekable();
    if lines.peek().is_none() {
        WarningsLogged::None
    } else if lines.all(|r| known_warning(&r.text).is_some()) {
        WarningsLogged::OnlyKnown
    } else {
        WarningsLogged::Unknown
    }
}

/// The known warnings among the case's problem lines: for each `WARNING:` line of a known site
/// (with the `cut here` line before it), the warning and whether this process hit it (the pid
/// the line names). None if any problem line is not part of a known warning.
fn known_warnings(
    records: &[harness::kmsg::Record],
) -> Option<Vec<(&'static KnownWarning, bool, String)>> {
    let kernel: Vec<&harness::kmsg::Record> = records.iter().filter(|r| r.from_kernel()).collect();
    // The WARNING line names the process: "WARNING: CPU: 1 PID: 862 at ..." (6.12) or
    // "WARNING: ... at site, CPU#1: comm/862" (7.2).
    let pid = std::process::id();
    let (old_form, new_form) = (format!(" PID: {pid} "), format!("/{pid}"));
    let own = |text: &str| text.contains(&old_form) || text.trim_end().ends_with(&new_form);
    let mut seen = Vec::new();
    for (i, r) in kernel.iter().enumerate() {
        if harness::kmsg::problem(&r.text).is_none() {
            continue;
        }
        if let Some(w) = known_warning(&r.text) {
            seen.push((w, own(&r.text), r.line()));
        } else if !(r.text.starts_with("------------[ cut here ]")
            && kernel
                .get(i + 1)
                .is_some_and(|n| known_warning(&n.text).is_some()))
        {
            return None;
        }
    }
    Some(seen)
}

/// Attaches what the kernel logged during the case; a WARN, BUG or oops line fails the case
/// (every errno may still have been right), naming the line. A known kernel warning
/// (`KNOWN_KERNEL_WARNINGS`) is not a failure: hit by this process where the host fact says the
/// kernel has that code, the case is a known kernel bug; hit by another process (a case running
/// at the same time), a note.
fn with_kernel_log(report: CaseReport, records: &[harness::kmsg::Record]) -> CaseReport {
    if records.is_empty() {
        return report;
    }
    let known = known_warnings(records).filter(|k| !k.is_empty());
    with_kernel_log_lines(report, records, known)
}

fn with_kernel_log_lines(
    report: CaseReport,
    records: &[harness::kmsg::Record],
    known: Option<Vec<(&'static KnownWarning, bool, String)>>,
) -> CaseReport {
    let first_seq = records.iter().map(|r| r.seq).min().unwrap_or(0);
    let last_seq = records.iter().map(|r| r.seq).max().unwrap_or(0);
    // Only the kernel's own lines: a process may write anything to /dev/kmsg.
    let problem = match &known {
        Some(_) => None,
        None => records
            .iter()
            .filter(|r| r.from_kernel())
            .find_map(|r| harness::kmsg::problem(&r.text).map(|what| (what, r.line()))),
    };
    let mut report = report;
    for (w, own, line) in known.into_iter().flatten() {
        let (here, fact) = (w.here)();
        report = match (own, here) {
            (false, _) => report.with_notes(vec![format!(
                "the kernel logged a known kernel bug's WARN of another process during this case (not this case's): {line}"
            )]),
            (true, true) if report.status == harness::Status::Pass => {
                CaseReport::known_bug(w.bug, format!("the kernel logged: {line}"))
                    .with_details(report.details.clone())
                    .with_notes(report.notes.clone())
                    .with_notes(vec![known_bug_check_note(true, &fact)])
            }
            (true, true) => report.with_notes(vec![format!("also the known kernel bug: {line}")]),
            (true, false) => CaseReport::fail(format!(
                "the kernel logged a WARN during this case: {line}"
            ))
            .with_details(vec![
                format!("case result before the kernel log check: {:?}: {}", report.status, report.summary),
                format!("{}: {fact}", known_bug_elsewhere_hint(w.bug)),
            ]),
        };
    }
    let mut lines: Vec<String> = records
        .iter()
        .take(KERNEL_LOG_MAX_LINES)
        .map(|r| r.line())
        .collect();
    if records.len() > KERNEL_LOG_MAX_LINES {
        lines.push(format!(
            "... and {} more lines",
            records.len() - KERNEL_LOG_MAX_LINES
        ));
    }
    let report = match problem {
        Some((what, line)) => CaseReport::fail(format!(
            "the kernel logged a {what} during this case: {line}"
        ))
        .with_details(vec![
            format!(
                "case result before the kernel log check: {:?}: {}",
                report.status, report.summary
            ),
            "with --test-threads > 1 the lines include those of the cases running at the same \
             time, which may be the cause: rerun this case alone"
                .into(),
        ]),
        None => report,
    };
    report.with_kernel_log(harness::KernelLog {
        lines,
        first_seq,
        last_seq,
    })
}

/// A row's expected outcome: fixed, or computed from a host fact (a capability value, the
/// architecture) when the case runs.
pub enum Expect {
    Is(Expected),
    Host(fn(&Host) -> Expected),
    /// Decided by a host fact that may take a probe (e.g. `classic_gmap`): the one outcome this
    /// kernel must show and the fact that decided it, for the report. `Err` ends the case (the
    /// probe failed: a setup error naming it).
    Fact(HostFact),
}

/// A row's expectation decided by a host fact: the outcome and the fact, in words.
pub type HostFact = fn(&Host) -> Step<(Expected, String)>;

impl Expect {
    /// The expected outcome on this host, and the fact that decided it where a probe did.
    pub fn decide(&self, host: &Host) -> Step<(Expected, Option<String>)> {
        match self {
            Expect::Is(e) => Ok((e.clone(), None)),
            Expect::Host(f) => Ok((f(host), None)),
            Expect::Fact(f) => f(host).map(|(e, fact)| (e, Some(fact))),
        }
    }
}

/// A user pointer a call passes (a key or entry buffer, a MEM_OP `buf` or `old_addr`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ptr {
    /// A buffer of the fixture's, mapped and filled as the suite says.
    Mapped,
    /// A PROT_NONE page: the kernel's copy faults (EFAULT).
    Inaccessible,
    Null,
}

/// Which half of a GET/SET ioctl pair a call is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GetOrSet {
    Get,
    Set,
}

/// Which fd an ioctl goes to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Target {
    Vm,
    Vcpu,
}

/// kernel-semantics.md §1.2: every handler under test first copies its fixed-size argument,
/// so a NULL or unreadable argument pointer gives EFAULT. Two cases per ioctl:
/// `arg::{label}null_pointer` and `arg::{label}inaccessible_pointer`, defined where this is
/// called.
#[track_caller]
pub fn bad_argument_cases(
    suite: &str,
    seed: Seed,
    needs: &[Need],
    ioctls: &[(&'static str, u64, Target)],
) -> Vec<harness::Case> {
    let location = std::panic::Location::caller();
    let mut cases = Vec::new();
    for &(label, request, target) in ioctls {
        let name = fixtures::raw::ioctl::request_name(request);
        for inaccessible in [false, true] {
            let kind = if inaccessible {
                "inaccessible_pointer"
            } else {
                "null_pointer"
            };
            let def = CaseDef {
                location,
                ..CaseDef::new(
                    format!("arg::{label}{kind}"),
                    seed,
                    needs,
                    move |host, _ctx| {
                        let vm = fixtures::vm::Vm::new().map_err(fixture_error)?;
                        let vcpu = match target {
                            Target::Vcpu => Some(vm.vcpu(0).map_err(fixture_error)?),
                            Target::Vm => None,
                        };
                        let fd = vcpu.as_ref().map_or(vm.fd, |v| v.fd);
                        let bad = fixtures::memory::Inaccessible::new().map_err(fixture_error)?;
                        let arg = if inaccessible { bad.addr() } else { 0 };
                        let fd_name = if target == Target::Vm { "VM" } else { "vcpu" };
                        let mut c = Checker::new();
                        c.call(
                            &format!("{name} on the {fd_name} fd"),
                            &format!("argument pointer {arg:#x} ({kind})"),
                            nix::errno::Errno::EFAULT,
                            host.k.ioctl(fd, request, arg),
                        )?;
                        c.pass()
                    },
                )
            };
            cases.push(case(suite, def));
        }
    }
    cases
}

/// Where an ioctl does not exist: KVM_CHECK_EXTENSION(`cap`) reads 0 on /dev/kvm and on the VM
/// fd `vm`.
pub fn capability_absent(
    c: &mut Checker,
    host: &Host,
    vm: std::os::fd::RawFd,
    cap: u64,
    name: &str,
) -> Step<()> {
    for (fd, on) in [(host.sys.fd, "/dev/kvm"), (vm, "the VM fd")] {
        c.call(
            &format!("KVM_CHECK_EXTENSION({name}) on {on}"),
            &format!("cap {cap}"),
            Outcome::Value(0),
            fixtures::raw::ioctl::check_extension(host.k, fd, cap),
        )?;
    }
    Ok(())
}

/// KVM_CHECK_EXTENSION(`cap`) reads exactly `value` on /dev/kvm and, where the kernel answers
/// on a VM fd (KVM_CAP_CHECK_EXTENSION_VM), on the VM fd `vm`: one row for both, so a kernel
/// without the capability fails that one row.
pub fn capability_is(
    c: &mut Checker,
    vm: &fixtures::vm::Vm,
    cap: u64,
    name: &str,
    value: i64,
) -> Step<()> {
    let sys = fixtures::host::open_kvm(vm.k).map_err(fixture_error)?;
    let mut fds = vec![("/dev/kvm", sys.fd)];
    if sys.cap(fixtures::raw::uapi::KVM_CAP_CHECK_EXTENSION_VM) > 0 {
        fds.push(("the VM fd", vm.fd));
    } else {
        c.note("KVM_CAP_CHECK_EXTENSION_VM is 0: the VM fd does not answer KVM_CHECK_EXTENSION");
    }
    for (on, fd) in fds {
        c.call(
            &format!("KVM_CHECK_EXTENSION({name}) on {on}"),
            &format!("cap {cap}"),
            Outcome::Value(value),
            fixtures::raw::ioctl::check_extension(vm.k, fd, cap),
        )?;
    }
    Ok(())
}

/// A documented kernel bug, and whether this kernel is one where it is known. Where it is known,
/// meeting it is a known kernel bug (reported and counted, a failure only with `--strict`);
/// anywhere else meeting it is a failure. `here` comes from a host fact, never a version number.
#[derive(Debug, Clone)]
pub struct KnownBug {
    /// The bug in one line: what the kernel does wrong and the kernel code that does it.
    pub bug: &'static str,
    /// This kernel is one where the bug is known.
    pub here: bool,
    /// The host fact that decided `here`, for the report.
    pub fact: String,
}

/// A known kernel bug one check met.
struct BugSeen {
    bug: String,
    summary: String,
    details: Vec<String>,
}

/// Collects the checks of one case; each failing check ends the case with a report.
#[derive(Default)]
pub struct Checker {
    notes: Vec<String>,
    checks: usize,
    /// A known kernel bug met where it is known: the case ends as a known kernel bug unless a
    /// later check fails.
    bug_seen: Option<BugSeen>,
    /// A known kernel bug expected here but not seen.
    bug_not_seen: Option<String>,
}

pub type Step<T> = Result<T, CaseReport>;

impl Checker {
    pub fn new() -> Self {
        Self::default()
    }

    /// A failing check's report, with the notes so far (and the known bug met before it).
    fn failure(&mut self, report: CaseReport) -> CaseReport {
        let mut report = report.with_notes(std::mem::take(&mut self.notes));
        if let Some(b) = &self.bug_seen {
            report = report.with_note(format!(
                "before this failure the case met a known kernel bug: {} ({})",
                b.bug, b.summary
            ));
        }
        report
    }

    /// Judge one ioctl call. `what` names the call ("KVM_SET_USER_MEMORY_REGION on the VM fd"),
    /// `arg` is its argument struct, printed field by field on failure.
    pub fn call(
        &mut self,
        what: &str,
        arg: &dyn Display,
        expected: impl Into<Expected>,
        actual: SysResult,
    ) -> Step<Outcome> {
        let expected = expected.into();
        let actual = Outcome::from(actual);
        self.checks += 1;
        let details = |expected: &Expected| {
            vec![
                format!("expected: {expected}"),
                format!("actual:   {actual}{}", positive_hint(actual)),
                format!("call:     {what}"),
                format!("argument: {arg}"),
            ]
        };
        match judge(&expected, actual) {
            Judgement::Pass {
                alternative,
                bug_not_seen,
            } => {
                if let Some(why) = alternative {
                    self.notes
                        .push(format!("{what}: this kernel showed {actual}: {why}"));
                }
                if let Some(bug) = bug_not_seen {
                    self.bug_not_seen.get_or_insert_with(|| bug.to_string());
                }
                Ok(actual)
            }
            Judgement::KnownBug { bug } => {
                self.bug_seen.get_or_insert_with(|| BugSeen {
                    bug: bug.to_string(),
                    summary: format!("{what}: got {actual}, the known kernel bug"),
                    details: details(&expected),
                });
                Ok(actual)
            }
            Judgement::Fail { hint } => {
                let mut details = details(&expected);
                if let Some(h) = hint {
                    details.push(format!("hint:     {h}"));
                }
                Err(self.failure(
                    CaseReport::fail(format!("{what}: expected {expected}, got {actual}"))
                        .with_details(details),
                ))
            }
        }
    }

    /// A call that sets the stage and must succeed (or give exactly `expected`).
    pub fn setup(&mut self, what: &str, arg: &dyn Display, actual: SysResult) -> Step<i64> {
        match self.call(&format!("setup: {what}"), arg, Outcome::OK, actual)? {
            Outcome::Value(v) => Ok(v),
            Outcome::Errno(_) => unreachable!("judged against a value"),
        }
    }

    /// A semantic check after the call (what the guest saw, what read back).
    pub fn ensure(&mut self, ok: bool, what: impl FnOnce() -> String) -> Step<()> {
        self.checks += 1;
        if ok {
            Ok(())
        } else {
            Err(self.failure(CaseReport::fail(what())))
        }
    }

    /// A semantic check that can meet a documented kernel bug: `seen` says the bug showed,
    /// `what` describes what was seen. Where the bug is known (`bug.here`), seeing it makes the
    /// case a known kernel bug (the checks go on; a later failing check still fails the case)
    /// and not seeing it passes with a note that the kernel may have the fix; anywhere else
    /// seeing it is a failure. The note names the host fact that decided.
    pub fn known_bug(
        &mut self,
        bug: &KnownBug,
        seen: bool,
        what: impl FnOnce() -> String,
    ) -> Step<()> {
        self.checks += 1;
        self.notes.push(known_bug_check_note(bug.here, &bug.fact));
        match (seen, bug.here) {
            (true, true) => {
                self.bug_seen.get_or_insert_with(|| BugSeen {
                    bug: bug.bug.to_string(),
                    summary: what(),
                    details: vec![],
                });
                Ok(())
            }
            (true, false) => Err(self.failure(
                CaseReport::fail(what()).with_details(vec![known_bug_elsewhere_hint(bug.bug)]),
            )),
            (false, true) => {
                self.bug_not_seen.get_or_insert_with(|| bug.bug.to_string());
                Ok(())
            }
            (false, false) => Ok(()),
        }
    }

    /// The fixture's own setup did not hold: the case ends before the rule under test, with a
    /// report that says so (`setup failed: ...`) and names the cause in `details`.
    pub fn setup_failed(&mut self, what: impl Display, details: Vec<String>) -> CaseReport {
        self.failure(CaseReport::fail(format!("setup failed: {what}")).with_details(details))
    }

    /// Record an observation that goes into the report even on a pass.
    pub fn note(&mut self, n: impl Into<String>) {
        self.notes.push(n.into());
    }

    /// The case passed all its checks (or met a known kernel bug where it is known).
    pub fn pass(self) -> Step<CaseReport> {
        assert!(self.checks > 0, "a case must check something");
        let report = match self.bug_seen {
            Some(b) => CaseReport::known_bug(b.bug, b.summary).with_details(b.details),
            None => CaseReport::pass(format!("{} checks passed", self.checks)),
        }
        .with_notes(self.notes);
        Ok(match self.bug_not_seen {
            Some(bug) if report.status == harness::Status::Pass => report.with_bug_not_seen(bug),
            _ => report,
        })
    }
}

/// An error in the fixture (mmap failed, VM not created): the case cannot be judged.
/// Whether `e` lets the call succeed (0 is the outcome or one of the accepted ones).
pub fn accepts_ok(e: &Expected) -> bool {
    match e {
        Expected::Is(o) => *o == harness::Outcome::OK,
        Expected::OneOf(alts) => alts.iter().any(|a| a.outcome == harness::Outcome::OK),
    }
}

pub fn fixture_error(e: impl Display) -> CaseReport {
    CaseReport::error(format!("fixture: {e}"))
}

/// Name a positive return that looks like an s390 program-interruption code.
fn positive_hint(o: Outcome) -> &'static str {
    match o {
        Outcome::Value(4) => " (PGM_PROTECTION?)",
        Outcome::Value(5) => " (PGM_ADDRESSING?)",
        _ => "",
    }
}

trait WithNotes {
    fn with_notes(self, notes: Vec<String>) -> Self;
}

impl WithNotes for CaseReport {
    fn with_notes(mut self, notes: Vec<String>) -> Self {
        self.notes.extend(notes);
        self
    }
}

/// An alternative accepted outcome with the reason.
pub fn alt(outcome: impl Into<Outcome>, because: &'static str) -> harness::Alternative {
    harness::Alternative {
        outcome: outcome.into(),
        because,
        kind: AltKind::Accepted,
    }
}

/// A known regression: seeing it fails the case with this hint.
pub fn regression(outcome: impl Into<Outcome>, hint: &'static str) -> harness::Alternative {
    harness::Alternative {
        outcome: outcome.into(),
        because: hint,
        kind: AltKind::Regression,
    }
}

/// A documented kernel bug's outcome: a known kernel bug where `known_here` (decided from a
/// host fact, e.g. in an `Expect::Host` row), a failure anywhere else.
pub fn known_bug(
    outcome: impl Into<Outcome>,
    bug: &'static str,
    known_here: bool,
) -> harness::Alternative {
    harness::Alternative {
        outcome: outcome.into(),
        because: bug,
        kind: AltKind::KnownBug { known_here },
    }
}

// ---- host facts more than one suite decides by ----

/// Where the classic gmap (<= 6.12) and the gmap rewrite (e38c884df921, ~7.0) give different
/// answers without a capability of their own: the one this kernel must show, decided by
/// `classic_gmap` (KVM_CAP_S390_KEYOP where the kernel has it, else the storage-key scope
/// probed in a forked process, a different rule of the same rewrite). The other answer fails;
/// the report names the fact and why the chosen answer is right here.
pub fn by_gmap(
    host: &Host,
    old: impl Into<Outcome>,
    old_why: &'static str,
    new: impl Into<Outcome>,
    new_why: &'static str,
) -> Step<(Expected, String)> {
    let (classic, fact) = classic_gmap(host)?;
    let (outcome, why) = if classic {
        (old.into(), old_why)
    } else {
        (new.into(), new_why)
    };
    Ok((
        Expected::Is(outcome),
        format!("{fact}; so {outcome}: {why}"),
    ))
}

/// Whether this kernel has the classic gmap, from a host fact (never a version number), and the
/// fact: KVM_CAP_S390_KEYOP came with the new gmap; without it, the storage-key scope probed in
/// a forked process (per process: classic, `mm_uses_skeys`; per VM: new).
pub fn classic_gmap(host: &Host) -> Step<(bool, String)> {
    let keyop = host.cap(KVM_CAP_S390_KEYOP);
    if keyop > 0 {
        return Ok((
            false,
            format!("KVM_CAP_S390_KEYOP = {keyop}: the new gmap (the capability came with it)"),
        ));
    }
    let probe = "probed in a forked process: VM A's SET_SKEYS switched keys on, then a new VM B's GET_SKEYS returned";
    match storage_key_scope() {
        Ok(StorageKeyScope::Process) => Ok((
            true,
            format!("storage-key state is per process ({probe} 0, not KVM_S390_GET_SKEYS_NONE): the classic gmap (mm_uses_skeys)"),
        )),
        Ok(StorageKeyScope::Vm) => Ok((
            false,
            format!("storage-key state is per VM ({probe} KVM_S390_GET_SKEYS_NONE): the new gmap"),
        )),
        Err(e) => Err(CaseReport::error(format!(
            "setup failed: cannot tell the classic from the new gmap: {e}"
        ))),
    }
}

/// Whether this kernel has the classic gmap, from a fact *other than* the storage-key scope (for
/// the row that checks the scope itself): KVM_CAP_S390_KEYOP where present; without it, a
/// VM-fd MEM_OP probe of a different rule of the same rewrite: ABSOLUTE_READ with CHECK_ONLY
/// and key 0 of [1 MiB - 4 KiB, 1 MiB + 4 KiB) on a VM whose only memslot is [0, 1 MiB). The
/// classic gmap tests only the first byte against the memslots and returns 0 at once for key
/// 0; the new gmap walks every page and returns 5 (kernel-semantics.md §3.5-6). Needs the VM
/// fd MEM_OP (KVM_CAP_S390_MEM_OP_EXTENSION bit 0); `Ok(None)` where it is absent.
pub fn classic_gmap_by_vm_memop(host: &Host) -> Step<Option<(bool, String)>> {
    use fixtures::raw::uapi::{
        KvmS390MemOp, KvmUserspaceMemoryRegion, KVM_CAP_S390_MEM_OP_EXTENSION,
        KVM_S390_MEMOP_ABSOLUTE_READ, KVM_S390_MEMOP_EXTENSION_CAP_BASE,
        KVM_S390_MEMOP_F_CHECK_ONLY,
    };
    let keyop = host.cap(KVM_CAP_S390_KEYOP);
    if keyop > 0 {
        return Ok(Some((
            false,
            format!("KVM_CAP_S390_KEYOP = {keyop}: the new gmap (the capability came with it)"),
        )));
    }
    if host.cap(KVM_CAP_S390_MEM_OP_EXTENSION) & KVM_S390_MEMOP_EXTENSION_CAP_BASE as i64 == 0 {
        return Ok(None);
    }
    const MIB: u64 = 1 << 20;
    let setup = |e: String| {
        CaseReport::error(format!(
            "setup failed: gmap probe (VM MEM_OP CHECK_ONLY past the slot end): {e}"
        ))
    };
    let vm = fixtures::vm::Vm::new().map_err(|e| setup(e.to_string()))?;
    let mem = fixtures::memory::GuestMemory::aligned(MIB as usize, MIB as usize)
        .map_err(|e| setup(e.to_string()))?;
    let slot = KvmUserspaceMemoryRegion {
        memory_size: MIB,
        userspace_addr: mem.addr(),
        ..Default::default()
    };
    fixtures::raw::ioctl::set_user_memory_region(vm.k, vm.fd, &slot)
        .map_err(|e| setup(format!("a 1 MiB memslot at 0: {e:?}")))?;
    let mop = KvmS390MemOp {
        gaddr: MIB - 4096,
        flags: KVM_S390_MEMOP_F_CHECK_ONLY,
        size: 8192,
        op: KVM_S390_MEMOP_ABSOLUTE_READ,
        buf: 0,
        reserved: [0; 32],
    };
    let probe = "probed: VM-fd ABSOLUTE_READ with CHECK_ONLY and key 0 of 8 KiB from 4 KiB below the end of the only memslot returned";
    match fixtures::raw::ioctl::s390_mem_op(vm.k, vm.fd, &mop) {
        Ok(0) => Ok(Some((
            true,
            format!("{probe} 0 (only the first byte is tested): the classic gmap"),
        ))),
        Ok(5) => Ok(Some((
            false,
            format!("{probe} 5 (every page is walked): the new gmap"),
        ))),
        other => Err(setup(format!("it returned {other:?}, neither 0 nor 5"))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(seq: u64, text: &str) -> harness::kmsg::Record {
        harness::kmsg::Record {
            seq,
            usec: 1_000_000 + seq,
            level: 4,
            facility: 0,
            text: text.into(),
        }
    }

    /// The known zPCI-list WARN: this process's is the case's known kernel bug where the fact
    /// holds (a failure where it does not), another process's only a note; with any other
    /// problem line beside it the case fails as before.
    #[test]
    fn a_known_kernel_warning_is_a_known_bug_for_its_own_process_only() {
        let warn = |pid: u32| {
            vec![
                record(1, "------------[ cut here ]------------"),
                record(2, &format!("WARNING: CPU: 1 PID: {pid} at arch/s390/kvm/pci.c:654 kvm_s390_pci_clear_list+0x84/0x90 [kvm]")),
                record(3, "Modules linked in: kvm"),
            ]
        };
        let own = std::process::id();
        // 7.2's form names the process at the end of the line.
        let warn_7_2 = |pid: u32| {
            vec![
                record(1, "------------[ cut here ]------------"),
                record(2, &format!("WARNING: arch/s390/kvm/pci.c:640 at kvm_s390_pci_clear_list+0x98/0xa0 [kvm], CPU#1: kvm-conformance/{pid}")),
            ]
        };
        assert!(known_warnings(&warn_7_2(own)).unwrap()[0].1);
        assert!(!known_warnings(&warn_7_2(own + 1)).unwrap()[0].1);
        let k = known_warnings(&warn(own)).unwrap();
        assert_eq!(k.len(), 1);
        assert!(
            k[0].1,
            "{k:?}",
            k = k.iter().map(|x| &x.2).collect::<Vec<_>>()
        );
        assert_eq!(warnings_logged(&warn(own)), WarningsLogged::OnlyKnown);
        let r = with_kernel_log(CaseReport::pass("ok"), &warn(own));
        let (here, _) = zpci_kvm_built();
        let want = if here {
            harness::Status::KnownBug
        } else {
            harness::Status::Fail
        };
        assert_eq!(r.status, want, "{r:?}");
        let r = with_kernel_log(CaseReport::pass("ok"), &warn(own + 1));
        assert_eq!(r.status, harness::Status::Pass, "{r:?}");
        assert!(
            r.notes.iter().any(|n| n.contains("of another process")),
            "{r:?}"
        );
        let mut mixed = warn(own + 1);
        mixed.push(record(4, "BUG: unable to handle page fault"));
        assert_eq!(warnings_logged(&mixed), WarningsLogged::OnlyKnown);
        let r = with_kernel_log(CaseReport::pass("ok"), &mixed);
        assert_eq!(r.status, harness::Status::Fail, "{r:?}");
    }

    #[test]
    fn a_warn_in_the_kernel_log_fails_a_passing_case_and_names_the_line() {
        let window = vec![
            record(1, "kvm-s390: failed to commit memory region"),
            record(
                2,
                "WARNING: CPU: 0 PID: 7 at arch/s390/kvm/kvm-s390.c:1 x+0x0/0x0",
            ),
        ];
        assert_eq!(warnings_logged(&window), WarningsLogged::Unknown);
        assert_eq!(warnings_logged(&window[..1]), WarningsLogged::None);
        let r = with_kernel_log(CaseReport::pass("3 checks passed"), &window);
        assert_eq!(r.status, harness::Status::Fail);
        assert_eq!(
            r.summary,
            "the kernel logged a WARN during this case: [    1.000002] WARNING: CPU: 0 PID: 7 at arch/s390/kvm/kvm-s390.c:1 x+0x0/0x0"
        );
        assert!(r.details[0].contains("Pass: 3 checks passed"), "{r:?}");
        assert_eq!(r.kernel_lines().len(), 2);
        // The same text written by a process (facility user) is attached, not a kernel WARN.
        let mut user = record(
            3,
            "WARNING: CPU: 0 PID: 7 at arch/s390/kvm/kvm-s390.c:1 x+0x0/0x0",
        );
        user.facility = 1;
        assert_eq!(
            warnings_logged(std::slice::from_ref(&user)),
            WarningsLogged::None
        );
        let r = with_kernel_log(CaseReport::pass("ok"), &[user]);
        assert_eq!(
            (r.status, r.kernel_lines().len()),
            (harness::Status::Pass, 1)
        );
    }

    #[test]
    fn ordinary_kernel_lines_are_attached_and_capped() {
        let records: Vec<_> = (0..KERNEL_LOG_MAX_LINES as u64 + 5)
            .map(|i| record(i, "kvm-s390: failed to commit memory region"))
            .collect();
        let r = with_kernel_log(CaseReport::pass("ok"), &records);
        assert_eq!(r.status, harness::Status::Pass);
        assert_eq!(r.kernel_lines().len(), KERNEL_LOG_MAX_LINES + 1);
        assert_eq!(r.kernel_lines().last().unwrap(), "... and 5 more lines");
        assert_eq!(
            with_kernel_log(CaseReport::pass("ok"), &[]),
            CaseReport::pass("ok")
        );
    }

    use harness::Status;
    use nix::errno::Errno::{EBADF, EINVAL};
    use rstest::rstest;

    const BUG: &str = "bug A drops a key";

    fn bug(here: bool) -> KnownBug {
        KnownBug {
            bug: BUG,
            here,
            fact: "fact F".into(),
        }
    }

    /// One semantic check through `Checker::known_bug`, then the case's report.
    fn semantic(here: bool, seen: bool) -> CaseReport {
        let mut c = Checker::new();
        match c.known_bug(&bug(here), seen, || "key read back 0x00".into()) {
            Ok(()) => c.pass().unwrap_or_else(|r| r),
            Err(r) => r,
        }
    }

    #[rstest]
    #[case::seen_where_known(true, true, Status::KnownBug, Some(true))]
    #[case::not_seen_where_known(true, false, Status::Pass, Some(false))]
    #[case::seen_elsewhere(false, true, Status::Fail, None)]
    #[case::not_seen_elsewhere(false, false, Status::Pass, None)]
    fn semantic_known_bug(
        #[case] here: bool,
        #[case] seen: bool,
        #[case] status: Status,
        #[case] bug_seen: Option<bool>,
    ) {
        let r = semantic(here, seen);
        assert_eq!(r.status, status, "{r:?}");
        assert_eq!(r.known_bug.as_ref().map(|b| b.seen), bug_seen, "{r:?}");
        assert!(
            r.notes
                .iter()
                .any(|n| n.starts_with("known kernel bug check: ") && n.ends_with("fact F")),
            "the deciding fact is in the notes: {r:?}"
        );
        if status == Status::Fail {
            assert_eq!(r.summary, "key read back 0x00");
            assert!(
                r.details[0].contains("documented kernel bug (bug A drops a key)"),
                "{r:?}"
            );
        }
        if status == Status::KnownBug {
            assert_eq!(r.summary, "key read back 0x00");
            assert_eq!(r.bug_seen(), Some(BUG));
        }
    }

    #[test]
    fn a_later_failure_beats_a_known_bug_and_names_it() {
        let mut c = Checker::new();
        c.known_bug(&bug(true), true, || "key read back 0x00".into())
            .unwrap();
        let r = c
            .ensure(false, || "second SET did not read back".into())
            .unwrap_err();
        assert_eq!(r.status, Status::Fail);
        assert!(
            r.notes
                .iter()
                .any(|n| n.contains("met a known kernel bug: bug A")),
            "{r:?}"
        );
    }

    #[rstest]
    #[case::seen(true, EBADF, Status::KnownBug)]
    #[case::elsewhere(false, EBADF, Status::Fail)]
    #[case::not_seen(true, EINVAL, Status::Pass)]
    fn call_with_a_known_bug_alternative(
        #[case] known_here: bool,
        #[case] actual: nix::errno::Errno,
        #[case] status: Status,
    ) {
        let mut c = Checker::new();
        let expected = Expected::OneOf(vec![
            alt(EINVAL, "the answer"),
            known_bug(EBADF, BUG, known_here),
        ]);
        let r = match c.call("close", &"fd -1", expected, Err(actual)) {
            Ok(_) => c.pass().unwrap_or_else(|r| r),
            Err(r) => r,
        };
        assert_eq!(r.status, status, "{r:?}");
        match status {
            Status::KnownBug => assert_eq!(r.bug_seen(), Some(BUG)),
            Status::Pass => assert_eq!(r.bug_not_seen(), Some(BUG)),
            _ => assert!(
                r.details
                    .iter()
                    .any(|d| d.starts_with("hint:     this is a documented kernel bug")),
                "{r:?}"
            ),
        }
    }
}
