//! The generic conformance machinery of kvm-conformance: cases as rows, exact outcome
//! judgement, per-case child processes with timeouts, and JUnit / KTAP reports. It knows
//! nothing about KVM: the suites hand it cases, properties and a banner.

#![forbid(unsafe_code)]

mod case;
mod case_server;
mod child;
pub mod cli;
mod closing;
mod console;
pub mod interrupt;
pub mod junit;
pub mod kcidb;
pub mod kmsg;
pub mod ktap;
mod launch;
mod listing;
pub mod outcome;
pub mod output;
mod reports;
pub mod rerun;
pub mod result;
pub mod runner;
mod schedule;
mod select;
mod summary;

pub use case::{Case, CaseBody, CaseContext, Cost, ForkFn, Precheck, RunPlan};
pub use cli::HarnessArgs;
pub use outcome::{judge, AltKind, Alternative, Expected, Judgement, Outcome};
pub use rerun::RerunSpec;
pub use result::NotRun;
pub use result::{CaseReport, CaseResult, KernelLog, KnownBug, RunRecord, Status};
pub use runner::RunError;
