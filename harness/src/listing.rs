//! `--list --locations`: the case ids as `--list` selects them, each with the place its case is
//! defined (`file:line`), so an id from a report or a dashboard leads to its row in one step.

use crate::runner::Case;
use libtest_mimic::{Arguments, Trial};

/// The listing lines: the id, padded, then the location (`-` for a case that records none).
/// The filter, `--exact`, `--skip` and `--ignored` select as they do for `--list`.
pub fn with_locations(args: &Arguments, cases: &[Case]) -> Vec<String> {
    let listed: Vec<&Case> = cases
        .iter()
        .filter(|c| {
            let trial = Trial::test(c.id.clone(), || Ok(())).with_ignored_flag(c.ignored);
            !args.is_filtered_out(&trial) && (!args.ignored || c.ignored)
        })
        .collect();
    let width = listed.iter().map(|c| c.id.len()).max().unwrap_or(0);
    listed
        .iter()
        .map(|c| {
            let at = c.location.as_deref().unwrap_or("-");
            format!("{:width$}  {at}", c.id)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::result::CaseReport;
    use clap::Parser;
    use std::sync::Arc;

    fn case(id: &str, location: Option<&str>, ignored: bool) -> Case {
        Case {
            id: id.into(),
            suite: "t".into(),
            seed_section: "listing test".into(),
            ignored,
            location: location.map(str::to_string),
            body: Arc::new(|_| CaseReport::pass("fine")),
        }
    }

    fn list(argv: &[&str]) -> Vec<String> {
        let mut all = vec!["kvm-conformance", "--list"];
        all.extend_from_slice(argv);
        let args = Arguments::parse_from(all);
        let cases = [
            case("t::len::rejects_3", Some("suites/src/t.rs:40"), false),
            case("t::len::pio_rejects_3", Some("suites/src/t.rs:12"), false),
            case("t::slow", None, true),
        ];
        with_locations(&args, &cases)
    }

    #[test]
    fn ids_with_locations_selected_as_list_does() {
        assert_eq!(
            list(&[]),
            [
                "t::len::rejects_3      suites/src/t.rs:40",
                "t::len::pio_rejects_3  suites/src/t.rs:12",
                "t::slow                -",
            ]
        );
        assert_eq!(
            list(&["--exact", "t::len::rejects_3"]),
            ["t::len::rejects_3  suites/src/t.rs:40"]
        );
        assert_eq!(list(&["--skip", "pio", "rejects"]).len(), 1);
        assert_eq!(list(&["--ignored"]), ["t::slow  -"]);
    }
}
