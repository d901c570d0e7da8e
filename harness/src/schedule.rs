//! The order the selected cases start in. The run's wall time is at least its longest case, and
//! a long case started last adds its whole time to the run's end; so the long ones start first.
//! How long a case takes is read from the previous run's JUnit report in the same report
//! directory when there is one, else from the suites' hint (`Cost`). The order changes nothing
//! else: the reports list the cases in declaration order.

use crate::case::{Case, Cost};
use std::collections::HashMap;
use std::path::Path;
use std::time::Duration;

/// What the previous run in `report_dir` measured per case id (empty without one).
pub(crate) fn previous_durations(report_dir: &Path) -> HashMap<String, Duration> {
    let Ok(xml) = std::fs::read_to_string(report_dir.join("latest/junit.xml")) else {
        return HashMap::new();
    };
    let Ok(report) = quick_junit::Report::deserialize_from_str(&xml) else {
        return HashMap::new();
    };
    report
        .test_suites
        .iter()
        .flat_map(|s| s.test_cases.iter())
        .filter_map(|c| Some((c.name.to_string(), c.time?)))
        .collect()
}

/// Longest first; equal ones (every quick case without a measurement) in declaration order.
pub(crate) fn longest_first(cases: &mut [Case], measured: &HashMap<String, Duration>) {
    // Without a measurement, a long case counts as a second: longer than any quick case.
    let expected = |c: &Case| {
        measured.get(&c.id).copied().unwrap_or(match c.cost {
            Cost::Long => Duration::from_secs(1),
            Cost::Quick => Duration::ZERO,
        })
    };
    cases.sort_by_key(|c| std::cmp::Reverse(expected(c)));
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;

    fn case(id: &str, cost: Cost) -> Case {
        Case {
            id: id.into(),
            suite: "t".into(),
            seed_section: "-".into(),
            ignored: false,
            location: None,
            precheck: None,
            cost,
            body: Arc::new(|_| crate::CaseReport::pass("")),
        }
    }

    fn ids(cases: &[Case]) -> Vec<&str> {
        cases.iter().map(|c| c.id.as_str()).collect()
    }

    #[test]
    fn long_cases_start_first_and_measurements_beat_hints() {
        let mut cases = vec![
            case("a", Cost::Quick),
            case("b", Cost::Long),
            case("c", Cost::Quick),
            case("d", Cost::Long),
        ];
        longest_first(&mut cases, &HashMap::new());
        assert_eq!(ids(&cases), ["b", "d", "a", "c"]);
        let measured = HashMap::from([
            ("c".to_string(), Duration::from_secs(9)),
            ("d".to_string(), Duration::from_millis(2)),
        ]);
        longest_first(&mut cases, &measured);
        assert_eq!(ids(&cases), ["c", "b", "d", "a"]);
    }

    #[test]
    fn no_previous_report_means_no_measurements() {
        let dir = std::env::temp_dir().join(format!("harness-schedule-{}", std::process::id()));
        assert!(previous_durations(&dir).is_empty());
        std::fs::create_dir_all(dir.join("latest")).unwrap();
        std::fs::write(dir.join("latest/junit.xml"), "not xml").unwrap();
        assert!(previous_durations(&dir).is_empty());
        let _ = std::fs::remove_dir_all(&dir);
    }
}
