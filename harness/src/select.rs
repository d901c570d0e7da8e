//! Which cases a run takes: libtest's filter, `--exact`, `--skip` and `--ignored`, plus what
//! libtest does not do: a selection that matches nothing is an error naming the closest ids
//! (a typo must not pass as a green run), and quotes pasted with an id are dropped.

use crate::case::Case;
use libtest_mimic::{Arguments, Trial};

/// Drop quotes around the filter and the `--skip` patterns: a rerun line quotes its id
/// (`--exact 'a::b'`), and pasted with the quotes into a place that keeps them, the id could
/// never match (no id contains a quote). Whatever is left must still match, or it is an error.
pub(crate) fn unquote(args: &mut Arguments) {
    // Nothing but quotes and blanks stays as it is (and matches nothing): an empty filter would
    // select every case.
    let strip = |s: &str| {
        let inner = s
            .trim()
            .trim_matches(|c| matches!(c, '\'' | '"' | '`'))
            .trim();
        if inner.is_empty() { s } else { inner }.to_string()
    };
    if let Some(f) = &args.filter {
        args.filter = Some(strip(f));
    }
    for s in &mut args.skip {
        *s = strip(s);
    }
}

/// `--test-threads 0` would wait forever for a worker.
pub(crate) fn check_threads(args: &Arguments) -> Result<(), String> {
    match args.test_threads {
        Some(0) => Err("--test-threads 0: at least one thread is needed".into()),
        _ => Ok(()),
    }
}

pub(crate) fn trial(c: &Case) -> Trial {
    Trial::test(c.id.clone(), || Ok(())).with_ignored_flag(c.ignored)
}

/// The cases the arguments select, in declaration order, or the one-line reason why there are
/// none.
pub(crate) fn select<'a>(args: &Arguments, cases: &'a [Case]) -> Result<Vec<&'a Case>, String> {
    let selected: Vec<&Case> = cases
        .iter()
        .filter(|c| !args.is_filtered_out(&trial(c)))
        .collect();
    if !selected.is_empty() {
        return Ok(selected);
    }
    let only_filter = Arguments {
        filter: args.filter.clone(),
        exact: args.exact,
        ..Arguments::default()
    };
    let matching: Vec<&Case> = cases
        .iter()
        .filter(|c| !only_filter.is_filtered_out(&trial(c)))
        .collect();
    let ids: Vec<&str> = cases.iter().map(|c| c.id.as_str()).collect();
    let f = args.filter.as_deref().unwrap_or_default();
    if matching.is_empty() {
        let mut reason = if args.exact {
            format!("no case id is exactly {f:?}")
        } else {
            format!("no case id contains {f:?}")
        };
        let near = closest(f, &ids, args.exact);
        let substring = ids.iter().filter(|id| id.contains(f)).count();
        if !near.is_empty() {
            reason.push_str(&format!("; closest: {}", near.join(", ")));
        } else if !(args.exact && substring > 0) {
            reason.push_str("; no id is close (--list shows them all)");
        }
        if args.exact && substring > 0 {
            reason.push_str(&format!(" (without --exact it matches {substring} cases)"));
        }
        return Err(reason);
    }
    let with_skip = Arguments {
        skip: args.skip.clone(),
        ..only_filter.clone()
    };
    let left = matching
        .iter()
        .filter(|c| !with_skip.is_filtered_out(&trial(c)))
        .count();
    let skips = args.skip.join(" --skip ");
    let n = matching.len();
    Err(match (&args.filter, left) {
        (Some(_), 0) => format!("the filter {f:?} matches {n} cases and --skip {skips} removes them all"),
        (None, 0) => format!("--skip {skips} removes every case"),
        (Some(_), _) => format!(
            "--ignored runs only the slow cases marked ignored; the filter {f:?} leaves {left} cases, none of them marked ignored"
        ),
        (None, _) => format!(
            "--ignored runs only the slow cases marked ignored; none of the {left} cases left is marked ignored"
        ),
    })
}

/// Up to three suggestions for a filter that matched nothing, best first: for `--exact`, the
/// ids nearest by edit distance; for a substring filter, the nearest substrings of the ids
/// (each shown as the id, or as the substring with how many ids contain it).
pub(crate) fn closest(filter: &str, ids: &[&str], exact: bool) -> Vec<String> {
    let f: Vec<char> = filter.chars().collect();
    if f.is_empty() {
        return Vec::new();
    }
    let limit = (f.len() / 3).max(1);
    let mut found: Vec<(usize, String)> = Vec::new();
    for id in ids {
        let (d, window) = if exact {
            (levenshtein(&f, id), id.to_string())
        } else {
            nearest_substring(&f, id)
        };
        if d <= limit && !found.iter().any(|(_, w)| *w == window) {
            found.push((d, window));
        }
    }
    // Stable: equally near suggestions keep the ids' declaration order. Only those about as
    // near as the nearest: a far one next to a one-letter typo is noise.
    found.sort_by_key(|(d, _)| *d);
    let best = found.first().map_or(0, |(d, _)| *d);
    found
        .into_iter()
        .take_while(|(d, _)| *d <= best + 1)
        .take(3)
        .map(|(_, w)| {
            if ids.contains(&w.as_str()) {
                w
            } else {
                let n = ids.iter().filter(|id| id.contains(w.as_str())).count();
                let s = if n == 1 { "" } else { "s" };
                format!("{w:?} ({n} case{s})")
            }
        })
        .collect()
}

fn levenshtein(a: &[char], b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.iter().enumerate() {
        let mut cur = vec![i + 1; b.len() + 1];
        for (j, cb) in b.iter().enumerate() {
            cur[j + 1] = (prev[j] + usize::from(ca != cb))
                .min(prev[j + 1] + 1)
                .min(cur[j] + 1);
        }
        prev = cur;
    }
    prev[b.len()]
}

/// The substring of `id` nearest to `f` by edit distance (approximate substring matching: an
/// alignment may start and end anywhere in `id`), with its distance.
fn nearest_substring(f: &[char], id: &str) -> (usize, String) {
    let b: Vec<char> = id.chars().collect();
    // Cost and start of the best alignment of f[..i] ending just before b[j].
    let mut prev: Vec<(usize, usize)> = (0..=b.len()).map(|j| (0, j)).collect();
    for i in 1..=f.len() {
        let mut cur = vec![(i, 0); b.len() + 1];
        for j in 1..=b.len() {
            let sub = (
                prev[j - 1].0 + usize::from(f[i - 1] != b[j - 1]),
                prev[j - 1].1,
            );
            let del = (prev[j].0 + 1, prev[j].1);
            let ins = (cur[j - 1].0 + 1, cur[j - 1].1);
            // Equally near: the earlier start, so the window shows more of the id.
            cur[j] = [sub, del, ins].into_iter().min().unwrap_or(sub);
        }
        prev = cur;
    }
    let (end, (d, start)) = prev
        .iter()
        .copied()
        .enumerate()
        .min_by_key(|(_, (c, _))| *c)
        .unwrap_or((0, (f.len(), 0)));
    (d, b[start..end].iter().collect())
}

#[cfg(test)]
mod tests {
    use super::*;
    use rstest::rstest;
    use std::sync::Arc;

    const IDS: &[&str] = &[
        "ioeventfd::len::accepts_1",
        "ioeventfd::len::accepts_2",
        "ioeventfd::len::rejects_3",
        "ioeventfd::stress::slow",
        "set_user_memory_region::create::slot_0",
    ];

    fn cases() -> Vec<Case> {
        IDS.iter()
            .map(|id| Case {
                id: id.to_string(),
                suite: "t".into(),
                seed_section: String::new(),
                location: None,
                ignored: id.contains("stress"),
                precheck: None,
                cost: crate::case::Cost::Quick,
                body: Arc::new(|_| crate::CaseReport::pass("p")),
            })
            .collect()
    }

    fn args(filter: Option<&str>, exact: bool, skip: &[&str], ignored: bool) -> Arguments {
        let mut a = Arguments {
            filter: filter.map(str::to_string),
            exact,
            skip: skip.iter().map(|s| s.to_string()).collect(),
            ignored,
            ..Arguments::default()
        };
        unquote(&mut a);
        a
    }

    #[rstest]
    #[case::typo_in_an_id("ioeventfd::len::acepts_1", true, "no case id is exactly \"ioeventfd::len::acepts_1\"; closest: ioeventfd::len::accepts_1, ioeventfd::len::accepts_2")]
    #[case::pasted_quotes_do_not_hide_a_typo("'ioeventfd::len::acepts_1'", true, "no case id is exactly \"ioeventfd::len::acepts_1\"; closest: ioeventfd::len::accepts_1, ioeventfd::len::accepts_2")]
    #[case::typo_in_a_group(
        "ioevntfd::len",
        false,
        "no case id contains \"ioevntfd::len\"; closest: \"ioeventfd::len\" (3 cases)"
    )]
    #[case::exact_on_a_prefix(
        "ioeventfd::len",
        true,
        "no case id is exactly \"ioeventfd::len\" (without --exact it matches 3 cases)"
    )]
    #[case::nothing_near(
        "zzzzzzzz",
        false,
        "no case id contains \"zzzzzzzz\"; no id is close (--list shows them all)"
    )]
    fn a_filter_that_matches_nothing_names_the_closest_ids(
        #[case] filter: &str,
        #[case] exact: bool,
        #[case] want: &str,
    ) {
        let c = cases();
        assert_eq!(
            select(&args(Some(filter), exact, &[], false), &c)
                .err()
                .as_deref(),
            Some(want)
        );
    }

    #[test]
    fn quotes_pasted_from_a_rerun_line_are_dropped() {
        let c = cases();
        let got = select(
            &args(Some("'ioeventfd::len::accepts_1'"), true, &[], false),
            &c,
        )
        .unwrap();
        assert_eq!(got.len(), 1);
        assert_eq!(got[0].id, "ioeventfd::len::accepts_1");
        let got = select(
            &args(Some("\"ioeventfd::len\""), false, &["'accepts'"], false),
            &c,
        )
        .unwrap();
        assert_eq!(got.len(), 1, "--skip patterns lose their quotes too");
    }

    #[test]
    fn a_filter_of_quotes_alone_is_not_an_empty_filter() {
        let c = cases();
        assert!(select(&args(Some("''"), false, &[], false), &c).is_err());
        assert_eq!(
            select(&args(Some(""), false, &[], false), &c)
                .unwrap()
                .len(),
            5
        );
    }

    #[test]
    fn skip_and_ignored_that_leave_nothing_say_so() {
        let c = cases();
        assert_eq!(
            select(
                &args(Some("ioeventfd::len"), false, &["::len::"], false),
                &c
            )
            .err()
            .as_deref(),
            Some(
                "the filter \"ioeventfd::len\" matches 3 cases and --skip ::len:: removes them all"
            )
        );
        assert_eq!(
            select(&args(Some("set_user"), false, &[], true), &c).err().as_deref(),
            Some("--ignored runs only the slow cases marked ignored; the filter \"set_user\" leaves 1 cases, none of them marked ignored")
        );
        assert_eq!(select(&args(None, false, &[], true), &c).unwrap().len(), 1);
        assert_eq!(select(&args(None, false, &[], false), &c).unwrap().len(), 5);
    }

    #[test]
    fn zero_threads_is_refused() {
        let a = Arguments {
            test_threads: Some(0),
            ..Arguments::default()
        };
        assert!(check_threads(&a).is_err());
        assert!(check_threads(&Arguments::default()).is_ok());
    }

    #[rstest]
    #[case("kitten", "sitting", 3)]
    #[case("", "abc", 3)]
    #[case("abc", "abc", 0)]
    fn edit_distance(#[case] a: &str, #[case] b: &str, #[case] d: usize) {
        assert_eq!(levenshtein(&a.chars().collect::<Vec<_>>(), b), d);
    }

    #[test]
    fn nearest_substring_finds_the_window() {
        let f: Vec<char> = "evnt".chars().collect();
        assert_eq!(
            nearest_substring(&f, "ioeventfd::len"),
            (1, "event".to_string())
        );
    }
}
