//! `kvm-conformance compare BASE NEW`: what changed between two runs (a kernel before and after
//! a patch, two kernels, a simulated and a live run), read from their junit.xml. Exit 1 if a
//! case newly fails, 0 otherwise, 2 if a report cannot be read.

use crate::report_reader::{self, CaseResult, RunResults, Status};
use clap::{Parser, ValueEnum};
use std::collections::BTreeSet;
use std::fmt::Write as _;
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Parser, Debug)]
#[command(
    name = "kvm-conformance compare",
    about = "Compare two runs: newly failing, fixed and still failing cases, changed alternatives, known kernel bugs, added and removed cases, run properties.",
    after_help = "BASE and NEW: a run directory (reports/<run-id>), a report directory (its latest run), or a junit.xml.\nExit status: 0 nothing newly fails; 1 a case newly fails; 2 a report cannot be read."
)]
struct CompareCli {
    /// The run before (e.g. the unpatched kernel).
    base: PathBuf,
    /// The run after.
    new: PathBuf,
    /// text (for people) or json (for tools).
    #[arg(long, value_enum, default_value_t = Format::Text)]
    format: Format,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum Format {
    Text,
    Json,
}

/// One case whose outcome differs.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Change {
    pub id: String,
    /// None: the case is not in that run.
    pub base: Option<CaseResult>,
    pub new: Option<CaseResult>,
}

/// A run property whose value differs (None: absent in that run).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct PropertyChange {
    pub name: String,
    pub base: Option<String>,
    pub new: Option<String>,
}

/// Everything `compare` reports, in the order it prints it.
#[derive(Debug, Default, serde::Serialize)]
pub struct Comparison {
    pub base: PathBuf,
    pub new: PathBuf,
    pub properties: Vec<PropertyChange>,
    /// Failing (or erroring) in NEW, not in BASE (including cases new in NEW).
    pub newly_failing: Vec<Change>,
    /// Failing in BASE, passing (or a known kernel bug) in NEW.
    pub fixed: Vec<Change>,
    pub still_failing: Vec<Change>,
    /// The same status, another accepted alternative shown.
    pub alternative_changed: Vec<Change>,
    pub known_bug_appeared: Vec<Change>,
    pub known_bug_gone: Vec<Change>,
    /// In NEW only (and not failing there).
    pub added: Vec<Change>,
    pub removed: Vec<Change>,
    /// Any other change of status (pass -> skip, FAIL -> skip, ...).
    pub other: Vec<Change>,
}

/// The properties that describe the kernel and the run, compared first; the rest follow in
/// name order.
const KEY_PROPERTIES: &[&str] = &[
    "backend",
    "kernel_release",
    "arch",
    "machine",
    "api_version",
];

impl Comparison {
    pub fn of(base: &RunResults, new: &RunResults) -> Comparison {
        let mut c = Comparison {
            base: base.path.clone(),
            new: new.path.clone(),
            ..Comparison::default()
        };
        let names: BTreeSet<&String> = base
            .properties
            .keys()
            .chain(new.properties.keys())
            .collect();
        let mut names: Vec<&String> = names.into_iter().collect();
        names.sort_by_key(|n| {
            (
                KEY_PROPERTIES
                    .iter()
                    .position(|k| k == n)
                    .unwrap_or(usize::MAX),
                n.to_string(),
            )
        });
        for name in names {
            let (b, n) = (base.properties.get(name), new.properties.get(name));
            if b != n {
                c.properties.push(PropertyChange {
                    name: name.clone(),
                    base: b.cloned(),
                    new: n.cloned(),
                });
            }
        }
        let ids: BTreeSet<&String> = base.cases.keys().chain(new.cases.keys()).collect();
        for id in ids {
            let (b, n) = (base.cases.get(id), new.cases.get(id));
            let change = Change {
                id: id.clone(),
                base: b.cloned(),
                new: n.cloned(),
            };
            let failing = |r: Option<&CaseResult>| r.is_some_and(|r| r.status.is_failure());
            let status = |r: Option<&CaseResult>| r.map(|r| r.status);
            let bucket = match (b, n) {
                (_, Some(_)) if failing(n) && !failing(b) => &mut c.newly_failing,
                (Some(_), Some(_)) if failing(b) && failing(n) => &mut c.still_failing,
                (Some(_), Some(nr))
                    if failing(b) && matches!(nr.status, Status::Pass | Status::Xfail) =>
                {
                    &mut c.fixed
                }
                (None, Some(_)) => &mut c.added,
                (Some(_), None) => &mut c.removed,
                (Some(br), Some(nr)) if br.status == nr.status => {
                    if br.showed == nr.showed {
                        continue;
                    }
                    &mut c.alternative_changed
                }
                _ if status(n) == Some(Status::Xfail) => &mut c.known_bug_appeared,
                _ if status(b) == Some(Status::Xfail) => &mut c.known_bug_gone,
                _ => &mut c.other,
            };
            bucket.push(change);
        }
        c
    }

    /// Something newly fails: the exit status 1.
    pub fn regressed(&self) -> bool {
        !self.newly_failing.is_empty()
    }

    pub fn render_text(&self) -> String {
        let mut out = String::new();
        let _ = writeln!(
            out,
            "compare: BASE {} -> NEW {}",
            self.base.display(),
            self.new.display()
        );
        if !self.properties.is_empty() {
            let _ = writeln!(out, "run properties that differ:");
            for p in &self.properties {
                let _ = writeln!(
                    out,
                    "  {}: {} -> {}",
                    p.name,
                    p.base.as_deref().unwrap_or("(absent)"),
                    p.new.as_deref().unwrap_or("(absent)")
                );
            }
        }
        let sections: [(&str, &Vec<Change>); 9] = [
            ("newly failing", &self.newly_failing),
            ("fixed", &self.fixed),
            ("still failing", &self.still_failing),
            ("accepted alternative changed", &self.alternative_changed),
            ("known kernel bug appeared", &self.known_bug_appeared),
            ("known kernel bug gone", &self.known_bug_gone),
            ("added", &self.added),
            ("removed", &self.removed),
            ("other outcome changes", &self.other),
        ];
        for (title, changes) in sections {
            if changes.is_empty() {
                continue;
            }
            let _ = writeln!(out, "{title} ({}):", changes.len());
            for ch in changes {
                let _ = writeln!(out, "  {}", describe(ch));
            }
        }
        let _ = writeln!(
            out,
            "compare: {} newly failing, {} fixed, {} still failing, {} alternatives changed, {} known bugs appeared, {} gone, {} added, {} removed, {} other changes",
            self.newly_failing.len(),
            self.fixed.len(),
            self.still_failing.len(),
            self.alternative_changed.len(),
            self.known_bug_appeared.len(),
            self.known_bug_gone.len(),
            self.added.len(),
            self.removed.len(),
            self.other.len()
        );
        out
    }
}

/// `id: BASE -> NEW`, each side with its alternative or message where that says more.
fn describe(ch: &Change) -> String {
    let side = |r: &Option<CaseResult>| match r {
        None => "(absent)".to_string(),
        Some(r) => {
            let mut s = r.status.label().to_string();
            if !r.showed.is_empty() {
                let _ = write!(s, " [{}]", r.showed.join("; "));
            } else if let Some(m) = r.message.as_ref().filter(|_| r.status != Status::Skip) {
                let first = m.lines().next().unwrap_or_default();
                let _ = write!(s, ": {first}");
            }
            s
        }
    };
    format!("{}: {} -> {}", ch.id, side(&ch.base), side(&ch.new))
}

/// The recorded case-id renames (`old -> new`, the file tests/case_ids.rs checks).
const RENAMES: &str = include_str!("../tests/case_id_renames.txt");

/// A report of an older version keys some cases by their old ids: use the current ones.
fn follow_renames(mut run: RunResults) -> RunResults {
    for line in RENAMES.lines().filter(|l| !l.starts_with('#')) {
        if let Some((old, new)) = line.split_once(" -> ") {
            if let Some(r) = run.cases.remove(old.trim()) {
                run.cases.entry(new.trim().to_string()).or_insert(r);
            }
        }
    }
    run
}

/// `compare` as a subcommand: `args` are the words after `compare`.
pub fn main(args: Vec<String>) -> ExitCode {
    let cli = match CompareCli::try_parse_from(
        std::iter::once("kvm-conformance compare".to_string()).chain(args),
    ) {
        Ok(c) => c,
        Err(e) if e.kind() == clap::error::ErrorKind::MissingRequiredArgument => {
            eprintln!("kvm-conformance compare: needs BASE and NEW (run directories, report directories or junit.xml files)");
            return ExitCode::from(2);
        }
        Err(e) if e.use_stderr() => {
            let first = e.to_string();
            let first = first.lines().next().unwrap_or_default().to_string();
            eprintln!(
                "kvm-conformance compare: {}",
                first.trim_start_matches("error: ")
            );
            return ExitCode::from(2);
        }
        Err(e) => {
            let _ = e.print();
            return ExitCode::SUCCESS;
        }
    };
    let read = |p: &PathBuf| {
        report_reader::read(p).map_err(|e| eprintln!("kvm-conformance compare: cannot read {e}"))
    };
    let (Ok(base), Ok(new)) = (read(&cli.base), read(&cli.new)) else {
        return ExitCode::from(2);
    };
    let (base, new) = (follow_renames(base), follow_renames(new));
    let c = Comparison::of(&base, &new);
    let text = match cli.format {
        Format::Text => c.render_text(),
        Format::Json => match serde_json::to_string_pretty(&c) {
            Ok(j) => j + "\n",
            Err(e) => {
                eprintln!("kvm-conformance compare: {e}");
                return ExitCode::from(2);
            }
        },
    };
    use std::io::Write;
    // A closed pipe (`| head`) is not an error of the comparison.
    let _ = std::io::stdout().write_all(text.as_bytes());
    ExitCode::from(u8::from(c.regressed()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use rstest::rstest;
    use std::collections::BTreeMap;

    fn run(props: &[(&str, &str)], cases: &[(&str, Status, &[&str])]) -> RunResults {
        RunResults {
            path: PathBuf::from("x"),
            properties: props
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
            cases: cases
                .iter()
                .map(|(id, status, showed)| {
                    (
                        id.to_string(),
                        CaseResult {
                            status: *status,
                            showed: showed.iter().map(|s| s.to_string()).collect(),
                            message: None,
                        },
                    )
                })
                .collect::<BTreeMap<_, _>>(),
        }
    }

    fn ids(v: &[Change]) -> Vec<&str> {
        v.iter().map(|c| c.id.as_str()).collect()
    }

    #[rstest]
    #[case::pass_to_fail(Some(Status::Pass), Some(Status::Fail), "newly failing")]
    #[case::skip_to_error(Some(Status::Skip), Some(Status::Error), "newly failing")]
    #[case::added_failing(None, Some(Status::Fail), "newly failing")]
    #[case::xfail_to_fail(Some(Status::Xfail), Some(Status::Fail), "newly failing")]
    #[case::fail_to_pass(Some(Status::Fail), Some(Status::Pass), "fixed")]
    #[case::fail_to_xfail(Some(Status::Fail), Some(Status::Xfail), "fixed")]
    #[case::fail_to_error(Some(Status::Fail), Some(Status::Error), "still failing")]
    #[case::pass_to_xfail(Some(Status::Pass), Some(Status::Xfail), "known kernel bug appeared")]
    #[case::xfail_to_pass(Some(Status::Xfail), Some(Status::Pass), "known kernel bug gone")]
    #[case::added(None, Some(Status::Pass), "added")]
    #[case::removed(Some(Status::Fail), None, "removed")]
    #[case::pass_to_skip(Some(Status::Pass), Some(Status::Skip), "other outcome changes")]
    #[case::fail_to_skip(Some(Status::Fail), Some(Status::Skip), "other outcome changes")]
    fn each_change_lands_in_its_section(
        #[case] before: Option<Status>,
        #[case] after: Option<Status>,
        #[case] section: &str,
    ) {
        let side = |s: Option<Status>| match s {
            Some(s) => run(&[], &[("a::b::c", s, &[])]),
            None => run(&[], &[]),
        };
        let c = Comparison::of(&side(before), &side(after));
        let text = c.render_text();
        assert!(
            text.contains(&format!("{section} (1):\n  a::b::c: ")),
            "{text}"
        );
        assert_eq!(c.regressed(), section == "newly failing", "{text}");
    }

    #[test]
    fn unchanged_cases_are_not_listed_and_alternatives_are() {
        let base = run(
            &[("kernel_release", "6.12"), ("seed", "1")],
            &[
                ("s::g::same", Status::Pass, &["EINVAL: 1 MiB"]),
                ("s::g::alt", Status::Pass, &["EINVAL: 1 MiB"]),
            ],
        );
        let new = run(
            &[("kernel_release", "7.2"), ("seed", "1")],
            &[
                ("s::g::same", Status::Pass, &["EINVAL: 1 MiB"]),
                ("s::g::alt", Status::Pass, &["0: 4 KiB"]),
            ],
        );
        let (base, new) = (follow_renames(base), follow_renames(new));
        let c = Comparison::of(&base, &new);
        assert_eq!(ids(&c.alternative_changed), ["s::g::alt"]);
        assert_eq!(c.properties.len(), 1);
        assert_eq!(c.properties[0].name, "kernel_release");
        let text = c.render_text();
        assert!(text.contains("  kernel_release: 6.12 -> 7.2\n"), "{text}");
        assert!(
            text.contains("s::g::alt: pass [EINVAL: 1 MiB] -> pass [0: 4 KiB]"),
            "{text}"
        );
        assert!(!text.contains("s::g::same"), "{text}");
        assert!(!c.regressed());
    }

    #[test]
    fn an_old_report_is_read_with_the_current_ids() {
        let old = run(
            &[],
            &[(
                "ioeventfd::sequences::assign_deassign_model",
                Status::Pass,
                &[],
            )],
        );
        let new = run(
            &[],
            &[(
                "ioeventfd::property::assign_deassign_model",
                Status::Pass,
                &[],
            )],
        );
        let c = Comparison::of(&follow_renames(old), &follow_renames(new));
        assert!(
            c.added.is_empty() && c.removed.is_empty(),
            "{}",
            c.render_text()
        );
    }

    #[test]
    fn json_names_every_section() {
        let c = Comparison::of(&run(&[], &[]), &run(&[], &[("a::b::c", Status::Fail, &[])]));
        let v: serde_json::Value = serde_json::to_value(&c).unwrap();
        assert_eq!(v["newly_failing"][0]["id"], "a::b::c");
        assert_eq!(v["newly_failing"][0]["new"]["status"], "fail");
        assert!(v["newly_failing"][0]["base"].is_null());
        for k in [
            "fixed",
            "still_failing",
            "alternative_changed",
            "known_bug_appeared",
            "known_bug_gone",
            "added",
            "removed",
            "other",
            "properties",
        ] {
            assert!(v[k].is_array(), "{k}");
        }
    }
}
