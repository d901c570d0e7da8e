//! `--emulate-s390 all`: per case, the outcome on each kernel, read back from each kernel's
//! junit.xml; the rows whose outcome or observed alternative differs between kernels first.

use super::Error;
use crate::report_reader::{self, CaseResult, Status};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// One case's outcome on one kernel, as the matrix shows it.
type Cell = CaseResult;

/// `pass`, or the status with the alternatives this kernel showed.
fn cell_text(c: &Cell) -> String {
    if c.showed.is_empty() {
        c.status.label().to_string()
    } else {
        format!("{} [{}]", c.status.label(), c.showed.join("; "))
    }
}

fn unexpected(c: &Cell) -> bool {
    c.status.is_failure()
}

/// Every kernel's outcomes.
pub struct Matrix {
    /// Kernel names in run order, with their report directory (None: the run did not finish).
    kernels: Vec<(String, Option<PathBuf>)>,
    /// Case id → kernel name → outcome.
    cases: BTreeMap<String, BTreeMap<String, Cell>>,
    /// Kernels whose junit.xml could not be read, with the reason.
    unreadable: Vec<(String, String)>,
}

impl Matrix {
    pub fn from_runs(kernels: Vec<(String, Option<PathBuf>)>) -> Matrix {
        let mut cases: BTreeMap<String, BTreeMap<String, Cell>> = BTreeMap::new();
        let mut unreadable = Vec::new();
        for (name, dir) in &kernels {
            let Some(dir) = dir else {
                unreadable.push((name.clone(), "the run did not finish".into()));
                continue;
            };
            match report_reader::read(&dir.join("junit.xml")) {
                Ok(run) => {
                    for (id, cell) in run.cases {
                        cases.entry(id).or_default().insert(name.clone(), cell);
                    }
                }
                Err(e) => unreadable.push((name.clone(), e)),
            }
        }
        Matrix {
            kernels,
            cases,
            unreadable,
        }
    }

    /// Cases whose outcome or alternative differs between kernels, then the rest.
    pub fn render(&self) -> String {
        let names: Vec<&String> = self.kernels.iter().map(|(n, _)| n).collect();
        let row = |id: &str, cells: &BTreeMap<String, Cell>| {
            let cols: Vec<String> = names
                .iter()
                .map(|n| cells.get(*n).map_or("-".into(), cell_text))
                .collect();
            format!("{id}\n    {}\n", cols.join("\n    "))
        };
        let differs = |cells: &BTreeMap<String, Cell>| {
            let mut seen = names.iter().map(|n| cells.get(*n));
            let first = seen.next().flatten();
            seen.any(|c| c != first) || cells.len() != names.len()
        };
        let mut out = format!(
            "kvm-conformance kernel matrix (emulated s390x machine): {}\n",
            names
                .iter()
                .map(|n| n.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        );
        for (n, why) in &self.unreadable {
            out.push_str(&format!("{n}: no results ({why})\n"));
        }
        for (name, _) in &self.kernels {
            let unexpected = self
                .cases
                .values()
                .filter(|c| c.get(name).is_some_and(unexpected))
                .count();
            let xfail = self
                .cases
                .values()
                .filter(|c| c.get(name).is_some_and(|c| c.status == Status::Xfail))
                .count();
            out.push_str(&format!(
                "{name}: {unexpected} unexpected failures, {xfail} known kernel bugs\n"
            ));
        }
        let (diff, same): (Vec<_>, Vec<_>) = self.cases.iter().partition(|(_, c)| differs(c));
        out.push_str(&format!(
            "\n== {} cases whose outcome or alternative differs between kernels (order: {})\n",
            diff.len(),
            names
                .iter()
                .map(|n| n.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        ));
        for (id, cells) in &diff {
            out.push_str(&row(id, cells));
        }
        out.push_str(&format!(
            "\n== {} cases with the same outcome on every kernel\n",
            same.len()
        ));
        for (id, cells) in &same {
            let c = names
                .first()
                .and_then(|n| cells.get(*n))
                .map_or("-".into(), cell_text);
            out.push_str(&format!("{id}: {c}\n"));
        }
        out
    }

    /// `report_dir/<stamp>-matrix-<pid>/matrix.txt`, links to each kernel's run, `latest`.
    pub fn publish(&self, report_dir: &Path) -> Result<PathBuf, Error> {
        let id = format!(
            "{}-emulated-s390x-matrix-{}",
            super::utc_stamp(std::time::SystemTime::now()),
            std::process::id()
        );
        let dir = report_dir.join(&id);
        std::fs::create_dir_all(&dir).map_err(|e| Error::io(&dir, e))?;
        for (name, run) in &self.kernels {
            if let Some(run) = run.as_ref().and_then(|r| r.file_name()) {
                let _ = std::os::unix::fs::symlink(Path::new("..").join(run), dir.join(name));
            }
        }
        let p = dir.join("matrix.txt");
        std::fs::write(&p, self.render()).map_err(|e| Error::io(&p, e))?;
        Ok(dir)
    }

    /// Any kernel with an unexpected failure or no results.
    pub fn any_unexpected(&self) -> bool {
        !self.unreadable.is_empty() || self.cases.values().any(|c| c.values().any(unexpected))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const JUNIT_A: &str = r#"<?xml version="1.0" encoding="UTF-8"?>
<testsuites name="kvm-conformance" tests="4" failures="1" errors="0">
  <testsuite name="s390_mem_op" tests="4">
    <testcase name="s390_mem_op::ar::17" classname="s390_mem_op"><system-out>ok
note: KVM_S390_MEM_OP: this kernel showed -1 EINVAL: 6.1 order
</system-out></testcase>
    <testcase name="s390_mem_op::a" classname="s390_mem_op"/>
    <testcase name="s390_mem_op::b" classname="s390_mem_op"><failure message="x" type="deviation">x</failure></testcase>
    <testcase name="s390_skeys::drop" classname="s390_skeys"><skipped type="xfail" message="known kernel bug: drop"/></testcase>
  </testsuite>
</testsuites>"#;

    #[test]
    fn outcomes_from_junit() {
        let cells = report_reader::parse(JUNIT_A).unwrap().cases;
        assert_eq!(cells["s390_mem_op::a"].status, Status::Pass);
        assert_eq!(cells["s390_mem_op::b"].status, Status::Fail);
        assert_eq!(cells["s390_skeys::drop"].status, Status::Xfail);
        assert_eq!(
            cells["s390_mem_op::ar::17"].showed,
            ["-1 EINVAL: 6.1 order"]
        );
    }

    #[test]
    fn differing_rows_come_first() {
        let root = std::env::temp_dir().join(format!("kc-matrix-{}", std::process::id()));
        let (a, b) = (root.join("a"), root.join("b"));
        std::fs::create_dir_all(&a).unwrap();
        std::fs::create_dir_all(&b).unwrap();
        std::fs::write(a.join("junit.xml"), JUNIT_A).unwrap();
        std::fs::write(
            b.join("junit.xml"),
            JUNIT_A
                .replace("this kernel showed -1 EINVAL: 6.1 order", "")
                .replace(
                    r#"<skipped type="xfail" message="known kernel bug: drop"/>"#,
                    "",
                ),
        )
        .unwrap();
        let m = Matrix::from_runs(vec![("6.1".into(), Some(a)), ("7.2".into(), Some(b))]);
        let text = m.render();
        let diff_at = text.find("differs between kernels").unwrap();
        let same_at = text.find("same outcome on every kernel").unwrap();
        for id in ["s390_mem_op::ar::17\n", "s390_skeys::drop\n"] {
            let at = text.find(id).unwrap();
            assert!(
                diff_at < at && at < same_at,
                "{id} not among the differing rows:\n{text}"
            );
        }
        assert!(text.find("s390_mem_op::a: pass").unwrap() > same_at);
        assert!(text.contains("6.1: 1 unexpected failures, 1 known kernel bugs"));
        assert!(m.any_unexpected());
        std::fs::remove_dir_all(&root).unwrap();
    }
}
