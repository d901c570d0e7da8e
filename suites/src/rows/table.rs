//! One row shape for every suite. A `Row` names its case and records where it is defined, what
//! the case needs from the host, the state set up first (`given`), what it does (the call under
//! test, a capability read, or only its check), the exact expected outcome, an optional
//! documentation-deviation note and an optional check of what follows. A suite supplies its
//! `Fixture` (the world a row runs in: how to build it, set up a `given`, make the call); `run`
//! does the rest in the same order for every suite, and `cases` turns a table into harness cases.

use super::{Checker, Expect, Host, Need, Seed, Step};
use fixtures::host::open_kvm;
use fixtures::raw::Backend;
use harness::{CaseContext, CaseReport, Expected};
use std::panic::Location;
use std::sync::{Arc, OnceLock};

/// The world a suite's rows run in, and the calls only that suite knows.
pub trait Fixture: Sized + 'static {
    /// State a row sets up before its call (a registration, a slot, planted keys, ...).
    type Given: Clone + Send + Sync + 'static;
    /// The call under test, as a row describes it (resolved against the fixture when it runs).
    type Call: Clone + Send + Sync + 'static;
    /// How to build the fixture for a row, beyond `given` (most suites: `()`).
    type Setup: Clone + Default + Send + Sync + 'static;

    /// A fresh fixture for `row`, which expects `expected`; `Err` ends the case with that
    /// report (a skip naming what this host lacks, or a setup error).
    fn open(
        host: &Arc<Host>,
        ctx: &CaseContext,
        row: &Row<Self>,
        expected: &Expected,
    ) -> Step<Self>;

    /// Set up everything the row lists in `given` (each setup call must succeed).
    fn given(&mut self, given: &[Self::Given], c: &mut Checker) -> Step<()>;

    /// Make the call under test and judge it against `expected`.
    fn call(&mut self, call: &Self::Call, expected: Expected, c: &mut Checker) -> Step<()>;

    /// What this kernel must show of `expected` (e.g. without the alternatives a capability
    /// rules out); as the row says unless a suite narrows it.
    fn expected_here(_host: &Host, expected: Expected) -> Expected {
        expected
    }
}

/// What a row does before its check.
#[derive(Clone)]
pub enum Act<C> {
    /// The call under test, in a fresh fixture after `given`.
    Call(C),
    /// KVM_CHECK_EXTENSION(cap) on /dev/kvm: needs no fixture.
    Capability(u64),
    /// Nothing but the row's check, in a fresh fixture after `given`.
    CheckOnly,
}

/// A check after the call: what the guest saw, what reads back, what is still registered.
pub type Then<F> = Arc<dyn Fn(&F, &mut Checker) -> Step<()> + Send + Sync>;

/// One case of a table.
pub struct Row<F: Fixture> {
    /// `group::case`, unique in the suite and stable (CI dashboards key on it).
    pub id: String,
    /// The source line that made the row (a loop's rows share it, each with its own id).
    pub location: &'static Location<'static>,
    pub needs: Vec<Need>,
    pub setup: F::Setup,
    pub given: Vec<F::Given>,
    pub act: Act<F::Call>,
    pub expect: Expect,
    /// Where api.txt and the kernel disagree, reported as a documentation deviation.
    pub doc: Option<&'static str>,
    pub then: Option<Then<F>>,
    /// Many calls (a fill of every slot): started early by the scheduler.
    pub cost: harness::Cost,
}

impl<F: Fixture> Row<F> {
    /// The call `call` must give exactly `expect` (or one of its alternatives).
    #[track_caller]
    pub fn new(id: impl Into<String>, call: F::Call, expect: impl Into<Expected>) -> Self {
        Self::with_act(id.into(), Act::Call(call), Expect::Is(expect.into()))
    }

    /// A row whose whole body is its check, run in a fresh fixture.
    #[track_caller]
    pub fn check(
        id: impl Into<String>,
        check: impl Fn(&F, &mut Checker) -> Step<()> + Send + Sync + 'static,
    ) -> Self {
        Self::with_act(id.into(), Act::CheckOnly, Expect::Is(Expected::ok())).then(check)
    }

    /// KVM_CHECK_EXTENSION(cap) on /dev/kvm must give exactly `expect`.
    #[track_caller]
    pub fn capability(id: impl Into<String>, cap: u64, expect: impl Into<Expected>) -> Self {
        Self::with_act(id.into(), Act::Capability(cap), Expect::Is(expect.into()))
    }

    #[track_caller]
    fn with_act(id: String, act: Act<F::Call>, expect: Expect) -> Self {
        Row {
            id,
            location: Location::caller(),
            needs: vec![],
            setup: F::Setup::default(),
            given: vec![],
            act,
            expect,
            doc: None,
            then: None,
            cost: harness::Cost::Quick,
        }
    }

    /// A row that makes many calls: the scheduler starts it among the first.
    pub fn long(mut self) -> Self {
        self.cost = harness::Cost::Long;
        self
    }

    /// Also needs these.
    pub fn needs(mut self, n: &[Need]) -> Self {
        self.needs.extend_from_slice(n);
        self
    }

    /// Needs exactly these (rows about an ioctl's absence drop the suite's usual needs).
    pub fn only(mut self, n: &[Need]) -> Self {
        self.needs = n.to_vec();
        self
    }

    /// Set this up first, after what is already listed.
    pub fn given(mut self, g: &[F::Given]) -> Self {
        self.given.extend_from_slice(g);
        self
    }

    /// Check this after the call (replaces an earlier check).
    pub fn then(
        mut self,
        t: impl Fn(&F, &mut Checker) -> Step<()> + Send + Sync + 'static,
    ) -> Self {
        self.then = Some(Arc::new(t));
        self
    }

    pub fn doc(mut self, d: &'static str) -> Self {
        self.doc = Some(d);
        self
    }

    /// The expected outcome follows from a host fact (a capability value, the architecture).
    pub fn expect_from_host(mut self, f: fn(&Host) -> Expected) -> Self {
        self.expect = Expect::Host(f);
        self
    }

    /// The one expected outcome follows from a host fact that may take a probe (the gmap code
    /// state); the report names the fact.
    pub fn expect_from_fact(mut self, f: super::HostFact) -> Self {
        self.expect = Expect::Fact(f);
        self
    }
}

/// Run one row: resolve the expectation on this host, build the fixture, set up `given`, act,
/// note the documentation deviation, check what follows.
pub fn run<F: Fixture>(host: &Arc<Host>, ctx: &CaseContext, row: &Row<F>) -> Step<CaseReport> {
    let (expected, fact) = row.expect.decide(host)?;
    let expected = F::expected_here(host, expected);
    let mut c = Checker::new();
    if let Some(fact) = fact {
        c.note(format!("expected outcome decided by a host fact: {fact}"));
    }
    let fixture = match &row.act {
        Act::Capability(cap) => {
            let r = fixtures::raw::ioctl::check_extension(host.k, host.sys.fd, *cap);
            c.call(
                &format!("KVM_CHECK_EXTENSION({cap}) on /dev/kvm"),
                cap,
                expected,
                r,
            )?;
            None
        }
        Act::Call(call) => {
            let mut f = F::open(host, ctx, row, &expected)?;
            f.given(&row.given, &mut c)?;
            f.call(call, expected, &mut c)?;
            Some(f)
        }
        Act::CheckOnly => {
            let mut f = F::open(host, ctx, row, &expected)?;
            f.given(&row.given, &mut c)?;
            Some(f)
        }
    };
    if let Some(doc) = row.doc {
        c.note(format!("documentation deviation: {doc}"));
    }
    if let (Some(then), Some(f)) = (&row.then, &fixture) {
        then(f, &mut c)?;
    }
    c.pass()
}

/// A suite's table as harness cases: every row checks `seed` and runs through `run`.
pub fn cases<F: Fixture>(suite: &str, seed: Seed, rows: Vec<Row<F>>) -> Vec<harness::Case> {
    rows.into_iter()
        .map(|row| {
            let row = Arc::new(row);
            let def = CaseDef {
                id: row.id.clone(),
                seed,
                needs: row.needs.clone(),
                ignored: false,
                cost: row.cost,
                location: row.location,
                body: Arc::new(move |host, ctx| run(host, ctx, &row)),
            };
            case(suite, def)
        })
        .collect()
}

pub type Body =
    Arc<dyn Fn(&Arc<Host>, &CaseContext) -> Result<CaseReport, CaseReport> + Send + Sync>;

/// A case that is no table row (a property, a stress case, a case with its own fixture).
pub struct CaseDef {
    pub id: String,
    pub seed: Seed,
    pub needs: Vec<Need>,
    pub ignored: bool,
    pub cost: harness::Cost,
    pub location: &'static Location<'static>,
    pub body: Body,
}

impl CaseDef {
    /// A case defined where this is called.
    #[track_caller]
    pub fn new(
        id: impl Into<String>,
        seed: Seed,
        needs: &[Need],
        body: impl Fn(&Arc<Host>, &CaseContext) -> Step<CaseReport> + Send + Sync + 'static,
    ) -> Self {
        CaseDef {
            id: id.into(),
            seed,
            needs: needs.to_vec(),
            ignored: false,
            cost: harness::Cost::Quick,
            location: Location::caller(),
            body: Arc::new(body),
        }
    }

    /// Many calls or generated inputs: the scheduler starts it among the first.
    pub fn long(mut self) -> Self {
        self.cost = harness::Cost::Long;
        self
    }

    /// Not run unless `--ignored` / `--include-ignored` (slow or stressful).
    pub fn ignored(mut self) -> Self {
        self.ignored = true;
        self
    }
}

/// The reason a case with these needs skips on this host, architecture first: an s390 case on
/// x86 skips as "needs s390x", not as a missing s390 capability.
fn unmet(host: &Host, needs: &[Need]) -> Option<String> {
    let arch_first = needs
        .iter()
        .filter(|n| n.is_arch())
        .chain(needs.iter().filter(|n| !n.is_arch()));
    { arch_first }.find_map(|n| n.unmet(host))
}

/// The runner's own view of the host, opened once for every precheck of the run.
fn runner_host() -> &'static Result<Host, String> {
    static HOST: OnceLock<Result<Host, String>> = OnceLock::new();
    HOST.get_or_init(|| {
        let k = fixtures::kernel();
        open_kvm(k).map(|sys| Host { k, sys })
    })
}

/// Turn a case definition into a harness case: open KVM (skip with the reason when there is
/// none), check the needs (skip with what is missing), then run the body. The runner decides
/// the same skips before it starts the case (`precheck`), with the same words.
pub fn case(suite: &str, def: CaseDef) -> harness::Case {
    let CaseDef {
        id,
        seed,
        needs,
        ignored,
        cost,
        location,
        body,
    } = def;
    let needs = Arc::new(needs);
    let precheck_needs = Arc::clone(&needs);
    harness::Case {
        id: format!("{suite}::{id}"),
        suite: suite.to_string(),
        seed_section: seed.to_string(),
        ignored,
        location: Some(format!("{}:{}", location.file(), location.line())),
        cost,
        precheck: Some(Arc::new(move || match runner_host() {
            Ok(host) => unmet(host, &precheck_needs).map(CaseReport::skip),
            Err(reason) => Some(CaseReport::skip(reason.clone())),
        })),
        body: Arc::new(move |ctx: &CaseContext| {
            let k = fixtures::kernel();
            let sys = match open_kvm(k) {
                Ok(sys) => sys,
                Err(reason) => return CaseReport::skip(reason),
            };
            let host = Arc::new(Host { k, sys });
            if let Some(reason) = unmet(&host, &needs) {
                return CaseReport::skip(reason);
            }
            // A WARN or oops that leaves every errno right still fails the case (live only).
            let live = k.backend() == Backend::Live;
            let taint_before = if live {
                fixtures::host::kernel_taint()
            } else {
                None
            };
            let kernel_log = live
                .then(harness::kmsg::Cursor::at_end)
                .and_then(Result::ok);
            super::not_runnable::case_starts();
            let report = body(&host, ctx).unwrap_or_else(|r| r);
            let report = super::not_runnable::case_ended(report);
            let records = kernel_log.map(|mut cursor| cursor.read_new());
            let warnings = records
                .as_deref()
                .map_or(super::WarningsLogged::None, super::warnings_logged);
            let mut report = match &records {
                Some(records) => super::with_kernel_log(report, records),
                None => report,
            };
            let taint_after = taint_before.and(fixtures::host::kernel_taint());
            // A new W taint is this case's only if it logged a WARNING that is not a known one.
            const TAINT_WARN: u64 = 1 << 9;
            let taint_after = match (taint_before, taint_after) {
                (Some(b), Some(a))
                    if warnings != super::WarningsLogged::Unknown && (a & !b) & TAINT_WARN != 0 =>
                {
                    if warnings == super::WarningsLogged::None {
                        report = report.with_note(
                            "the kernel became tainted W during this case without a WARNING line in this case's kernel log: another process's warning (a case running at the same time)",
                        );
                    }
                    Some(a & !TAINT_WARN)
                }
                (_, a) => a,
            };
            match (taint_before, taint_after) {
                (Some(b), Some(a)) => match fixtures::host::new_problem_taints(b, a) {
                    Some(taints) => CaseReport::fail(format!(
                        "the kernel became tainted during this case: {taints}; see dmesg"
                    ))
                    .with_details(vec![
                        format!("case result before the taint check: {:?}: {}", report.status, report.summary),
                        "with --test-threads > 1 a case running at the same time may be the cause: \
                         rerun this case alone"
                            .into(),
                    ]),
                    None => report,
                },
                _ => report,
            }
        }),
    }
}
