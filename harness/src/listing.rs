//! `--list --locations`: the selected case ids, each with the place its case is defined
//! (`file:line`), so an id from a report or a dashboard leads to its row in one step.

use crate::case::Case;

/// The listing lines: the id, padded, then the location (`-` for a case that records none).
pub fn lines(cases: &[Case]) -> Vec<String> {
    let width = cases.iter().map(|c| c.id.len()).max().unwrap_or(0);
    cases
        .iter()
        .map(|c| {
            let at = c.location.as_deref().unwrap_or("-");
            format!("{:width$}  {at}", c.id)
        })
        .collect()
}

/// Print the listing on stdout (as `--list` does its own).
pub fn with_locations(cases: &[Case]) {
    let mut text = String::new();
    for line in lines(cases) {
        text.push_str(&line);
        text.push('\n');
    }
    crate::output::out(&text);
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::result::CaseReport;
    use std::sync::Arc;

    fn case(id: &str, location: Option<&str>) -> Case {
        Case {
            id: id.into(),
            suite: "t".into(),
            seed_section: "listing test".into(),
            ignored: false,
            location: location.map(str::to_string),
            precheck: None,
            cost: crate::case::Cost::Quick,
            body: Arc::new(|_| CaseReport::pass("fine")),
        }
    }

    #[test]
    fn ids_with_their_locations_aligned() {
        let cases = [
            case("t::len::rejects_3", Some("suites/src/t.rs:40")),
            case("t::len::pio_rejects_3", Some("suites/src/t.rs:12")),
            case("t::slow", None),
        ];
        assert_eq!(
            lines(&cases),
            [
                "t::len::rejects_3      suites/src/t.rs:40",
                "t::len::pio_rejects_3  suites/src/t.rs:12",
                "t::slow                -",
            ]
        );
    }
}
