//! The case ids are stable names: CI dashboards and JUnit history key on them. This test holds
//! the binary's `--list` to the committed snapshot `case_ids.txt`, so that adding, removing or
//! renaming a case is a change someone meant; `case_id_renames.txt` records each rename as
//! `old -> new`.

use std::collections::BTreeSet;
use std::path::PathBuf;
use std::process::Command;

const BIN: &str = env!("CARGO_BIN_EXE_kvm-conformance");
const UPDATE: &str = "UPDATE_CASE_IDS";

fn here(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests")
        .join(name)
}

/// The ids `--list` prints, in its order.
fn listed() -> Vec<String> {
    let o = Command::new(BIN)
        .arg("--list")
        .env_remove("KVM_CONFORMANCE_SELFTEST")
        .output()
        .expect("the binary runs");
    assert!(o.status.success(), "{o:?}");
    String::from_utf8(o.stdout)
        .unwrap()
        .lines()
        .map(|l| l.strip_suffix(": test").unwrap_or(l).to_string())
        .collect()
}

/// A file's lines without comments (`#`) and blank lines.
fn entries(name: &str) -> Vec<String> {
    std::fs::read_to_string(here(name))
        .unwrap_or_else(|e| panic!("{name}: {e}"))
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .map(str::to_string)
        .collect()
}

const HEADER: &str = "\
# Every case id, as `kvm-conformance --list` prints them (checked by tests/case_ids.rs).
# An id is a stable name: CI dashboards key on it. After adding or removing a case, or a rename
# you mean (record it in case_id_renames.txt), update with:
#   UPDATE_CASE_IDS=1 cargo test -p suites --test case_ids
";

#[test]
fn case_ids_match_the_snapshot() {
    let now = listed();
    if std::env::var_os(UPDATE).is_some() {
        let mut text = HEADER.to_string();
        for id in &now {
            text.push_str(id);
            text.push('\n');
        }
        std::fs::write(here("case_ids.txt"), text).unwrap();
        return;
    }
    let snapshot = entries("case_ids.txt");
    if now == snapshot {
        return;
    }
    let (a, b): (BTreeSet<&String>, BTreeSet<&String>) =
        (now.iter().collect(), snapshot.iter().collect());
    let added: Vec<&&String> = a.difference(&b).collect();
    let gone: Vec<&&String> = b.difference(&a).collect();
    panic!(
        "the case ids differ from suites/tests/case_ids.txt\n\
         new ids: {added:#?}\n\
         ids gone: {gone:#?}\n\
         {}\n\
         Case ids are stable names (CI dashboards key on them). If the change is meant, update \
         the snapshot with `{UPDATE}=1 cargo test -p suites --test case_ids`, and record a \
         rename as `old -> new` in suites/tests/case_id_renames.txt.",
        if added.is_empty() && gone.is_empty() {
            "(the same ids in another order)"
        } else {
            ""
        }
    );
}

#[test]
fn every_recorded_rename_happened() {
    let ids: BTreeSet<String> = listed().into_iter().collect();
    for line in entries("case_id_renames.txt") {
        let (old, new) = line
            .split_once(" -> ")
            .unwrap_or_else(|| panic!("case_id_renames.txt: {line:?} is not `old -> new`"));
        assert!(
            !ids.contains(old),
            "{old} was renamed to {new} but is still an id"
        );
        assert!(
            ids.contains(new),
            "{old} was renamed to {new}, which is no id"
        );
    }
}

/// `--list --locations` leads to the row: the named line exists, and a case whose id is given
/// as a literal to a row constructor (`row("group::case", ...`) is defined on exactly that line
/// (tables keep one row per line). Rows built in a loop share their loop's line.
#[test]
fn locations_point_at_the_rows() {
    let o = Command::new(BIN)
        .args(["--list", "--locations"])
        .env_remove("KVM_CONFORMANCE_SELFTEST")
        .output()
        .expect("the binary runs");
    assert!(o.status.success(), "{o:?}");
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..");
    let mut sources = std::collections::HashMap::new();
    let (mut checked, mut listed) = (0, 0);
    for line in String::from_utf8(o.stdout).unwrap().lines() {
        let mut parts = line.split_whitespace();
        let (Some(id), Some(at), None) = (parts.next(), parts.next(), parts.next()) else {
            panic!("not `id file:line`: {line:?}");
        };
        listed += 1;
        let (file, number) = at
            .rsplit_once(':')
            .unwrap_or_else(|| panic!("{id}: location {at:?} is not file:line"));
        let number: usize = number.parse().unwrap();
        let text = sources.entry(file.to_string()).or_insert_with(|| {
            std::fs::read_to_string(root.join(file)).unwrap_or_else(|e| panic!("{file}: {e}"))
        });
        let source_line = text
            .lines()
            .nth(number - 1)
            .unwrap_or_else(|| panic!("{id}: {file} has no line {number}"));
        let (_, row_id) = id.split_once("::").unwrap();
        let literal = format!("\"{row_id}\"");
        let constructors = ["row(", "custom(", "capability(", "check(", "CaseDef::new("];
        let defined_by_literal = text
            .lines()
            .any(|l| l.contains(&literal) && constructors.iter().any(|c| l.contains(c)));
        if defined_by_literal {
            assert!(
                source_line.contains(&literal),
                "{id} is defined at {at}, but that line does not name it: {source_line:?}"
            );
            checked += 1;
        }
    }
    assert_eq!(listed, listed_ids_count());
    assert!(
        checked > listed / 2,
        "only {checked} of {listed} ids checked"
    );
}

fn listed_ids_count() -> usize {
    listed().len()
}
