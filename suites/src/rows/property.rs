//! Every property case the same way: one id group (`<suite>::property::<name>`, so the filter
//! `::property::` runs them all), the seed and the number of inputs from the run,
//! `fixtures::models::check` as the runner, and one report shape: what agreed, or the shortest
//! failing input step by step with what the model expected and what the kernel answered.

use super::{case, fixture_error, CaseDef, Host, Need, Seed, Step};
use fixtures::models::{Failure, PropertyConfig, Stats};
use harness::{CaseContext, CaseReport};
use std::sync::Arc;

/// The id group of every property case.
pub const GROUP: &str = "property";

/// One property case of a suite.
#[derive(Debug, Clone, Copy)]
pub struct Property {
    pub suite: &'static str,
    /// The case id is `property::{name}`.
    pub name: &'static str,
    /// The name its inputs are drawn under (kept when an id is renamed, so that a seed still
    /// draws the same inputs).
    pub stream: &'static str,
    /// Inputs per run unless `--proptest-cases` / PROPTEST_CASES says otherwise.
    pub default_cases: u32,
    /// Keep the system and the model from one input to the next (see `PropertyConfig`).
    pub reuse: bool,
}

impl Property {
    /// A property of `suite` whose inputs run on fresh fixtures.
    pub const fn new(
        suite: &'static str,
        name: &'static str,
        stream: &'static str,
        default_cases: u32,
    ) -> Property {
        Property {
            suite,
            name,
            stream,
            default_cases,
            reuse: false,
        }
    }

    /// Inputs share one fixture while they agree.
    pub const fn reusing(mut self) -> Property {
        self.reuse = true;
        self
    }

    pub fn id(&self) -> String {
        format!("{GROUP}::{}", self.name)
    }

    /// How this run runs it.
    pub fn config(&self, ctx: &CaseContext) -> PropertyConfig {
        PropertyConfig {
            cases: ctx.proptest_cases.unwrap_or(self.default_cases),
            seed: ctx.seed,
            stream: self.stream,
            reuse: self.reuse,
        }
    }

    /// The case, defined where this is called: `body` runs the property on the selected kernel.
    #[track_caller]
    pub fn case(
        self,
        seed: Seed,
        needs: &[Need],
        body: impl Fn(&Arc<Host>, &CaseContext, &Property) -> Step<CaseReport> + Send + Sync + 'static,
    ) -> harness::Case {
        let def = CaseDef::new(self.id(), seed, needs, move |host, ctx| {
            body(host, ctx, &self)
        })
        .long();
        case(self.suite, def)
    }

    /// The case's report. `facts`: what the model was told about the host.
    pub fn report(
        &self,
        ctx: &CaseContext,
        facts: Vec<String>,
        result: Result<Stats, Failure>,
    ) -> Step<CaseReport> {
        let replay = format!(
            "seed {}: `{}` runs the same inputs",
            ctx.seed,
            harness::rerun::command(&format!("{}::{}", self.suite, self.id()))
        );
        match result {
            Ok(stats) => {
                let mut report = CaseReport::pass(format!(
                    "{} generated inputs agreed with the model: {} calls ({:.0} calls/s, {} fresh fixtures)",
                    stats.sequences,
                    stats.calls,
                    stats.calls_per_second(),
                    stats.systems
                ));
                report.notes.extend(facts);
                report.notes.push(replay);
                Ok(report)
            }
            Err(Failure::Setup(e)) => {
                let e = e.strip_prefix("fixture: ").unwrap_or(&e);
                Err(fixture_error(e).with_details(vec![replay]))
            }
            Err(Failure::Aborted(why)) => {
                Err(CaseReport::error(format!("proptest gave up: {why}"))
                    .with_details(vec![replay]))
            }
            Err(Failure::Disagree(cx)) => {
                let summary = match cx.disagreement() {
                    Some(l) => format!(
                        "{} {} of the shortest failing input ({} operation(s)): {}: expected {}, got {}{}",
                        if l.closing { "final check" } else { "step" },
                        l.index,
                        cx.ops.len(),
                        l.op,
                        l.judged.expected,
                        l.answer,
                        l.judged.note.as_ref().map(|n| format!(" ({n})")).unwrap_or_default()
                    ),
                    None => format!(
                        "proptest found a failing input that agreed with the model when run again: {}",
                        cx.reason
                    ),
                };
                let mut details = vec![replay];
                details.extend(facts);
                details.push(format!(
                    "shortest failing input: {} operation(s) on a fresh fixture, then the model's final checks (the first failing input had {})",
                    cx.ops.len(),
                    cx.shrunk_from
                ));
                for line in &cx.trace {
                    details.extend(line.to_string().lines().map(|l| format!("  {l}")));
                }
                if !cx.reproduced {
                    details.push(
                        "run again on a fresh fixture the input agreed with the model: the failure depends on more than the input"
                            .into(),
                    );
                }
                details.push(format!(
                    "proptest: {} ({} inputs run)",
                    cx.reason, cx.stats.sequences
                ));
                Err(CaseReport::fail(summary).with_details(details))
            }
        }
    }
}
