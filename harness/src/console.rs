//! The console while cases run, in libtest's `pretty`, `terse` (`-q`) and `json` formats.
//!
//! libtest-mimic's printer knows only ok / FAILED / ignored, and panics when stdout cannot be
//! written. A known kernel bug is none of those, so the harness prints the lines itself, in
//! libtest-mimic's layout, with two more marks (pytest's): `x` / `known kernel bug (...)` for a
//! known kernel bug, and `X` / `ok (known kernel bug not seen: ...)` for a case that passed where
//! a known bug was expected; `--format json` prints libtest's JSON events (a known kernel bug as
//! `ignored` with its message). Every write is allowed to fail: the run goes on without it.

use crate::result::{CaseReport, Status};
use libtest_mimic::{Arguments, ColorSetting, FormatSetting};
use std::io::{IsTerminal, Write};
use std::sync::Mutex;
use std::time::Duration;

/// What one finished case shows on the console.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Mark {
    Pass,
    Fail,
    Skip,
    KnownBug,
    BugNotSeen,
}

impl Mark {
    pub fn of(report: &CaseReport) -> Mark {
        match report.status {
            Status::Pass if report.bug_not_seen().is_some() => Mark::BugNotSeen,
            Status::Pass => Mark::Pass,
            Status::Fail | Status::Error => Mark::Fail,
            Status::Skip => Mark::Skip,
            Status::KnownBug => Mark::KnownBug,
        }
    }

    fn terse(self) -> char {
        match self {
            Mark::Pass => '.',
            Mark::Fail => 'F',
            Mark::Skip => 'i',
            Mark::KnownBug => 'x',
            Mark::BugNotSeen => 'X',
        }
    }

    /// libtest-mimic's colours; the two bug marks in magenta, apart from the yellow skips.
    fn color(self) -> &'static str {
        match self {
            Mark::Pass => "\x1b[32m",
            Mark::Fail => "\x1b[31m",
            Mark::Skip => "\x1b[33m",
            Mark::KnownBug | Mark::BugNotSeen => "\x1b[35m",
        }
    }
}

/// The words after `test NAME ... ` in pretty mode.
fn pretty(mark: Mark, report: &CaseReport) -> String {
    match mark {
        Mark::Pass => "ok".into(),
        Mark::Fail => "FAILED".into(),
        Mark::Skip => format!("ignored ({})", report.summary),
        Mark::KnownBug => format!(
            "known kernel bug ({})",
            report.bug_seen().unwrap_or(&report.summary)
        ),
        Mark::BugNotSeen => format!(
            "ok (known kernel bug not seen: {}; it may be fixed in this kernel)",
            report.bug_not_seen().unwrap_or_default()
        ),
    }
}

#[derive(Default)]
struct Tally {
    passed: usize,
    failed: usize,
    ignored: usize,
    known_bugs: usize,
    failures: Vec<(String, String)>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Style {
    Pretty,
    Terse,
    Json,
    /// `-q`: nothing per case; at the end only the failures (the closing line is the runner's).
    Quiet,
}

pub(crate) struct Console {
    out: Mutex<Box<dyn Write + Send>>,
    style: Style,
    color: bool,
    name_width: usize,
    tally: Mutex<Tally>,
    /// Some(total): show progress as one live line (a terminal) instead of a mark per case.
    live_total: Option<usize>,
}

impl Console {
    /// The console for these arguments. `names`: the cases that will be reported.
    pub fn new(args: &Arguments, names: &[&str]) -> std::io::Result<Console> {
        let style = match (args.quiet, args.format) {
            (true, _) => Style::Quiet,
            (false, Some(FormatSetting::Terse)) => Style::Terse,
            (false, None | Some(FormatSetting::Pretty)) => Style::Pretty,
            (false, Some(FormatSetting::Json)) => Style::Json,
        };
        let color_arg = args.color.unwrap_or(ColorSetting::Auto);
        let (out, color): (Box<dyn Write + Send>, bool) = match &args.logfile {
            Some(path) => (
                Box::new(std::fs::File::create(path)?),
                color_arg == ColorSetting::Always,
            ),
            None => {
                let color = match color_arg {
                    ColorSetting::Always => true,
                    ColorSetting::Never => false,
                    ColorSetting::Auto => {
                        std::io::stdout().is_terminal()
                            && std::env::var_os("NO_COLOR").is_none()
                            && std::env::var("TERM").as_deref() != Ok("dumb")
                    }
                };
                (Box::new(std::io::stdout()), color)
            }
        };
        // On a terminal the terse marks become one live line: cases done of the total.
        let live = style == Style::Terse
            && args.logfile.is_none()
            && std::io::stdout().is_terminal()
            && std::env::var("TERM").as_deref() != Ok("dumb");
        let mut con = Console::with_output(
            out,
            style,
            color && style != Style::Json,
            names.iter().map(|n| n.chars().count()).max().unwrap_or(0),
        );
        con.live_total = live.then_some(names.len());
        Ok(con)
    }

    fn with_output(
        out: Box<dyn Write + Send>,
        style: Style,
        color: bool,
        name_width: usize,
    ) -> Self {
        Console {
            out: Mutex::new(out),
            style,
            color,
            name_width,
            tally: Mutex::default(),
            live_total: None,
        }
    }

    fn write(&self, text: &str) {
        let mut out = self
            .out
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let _ = out.write_all(text.as_bytes());
        let _ = out.flush();
    }

    /// The live progress line: `\r  123/790 cases done, 1 failed`.
    fn progress(&self) {
        let Some(total) = self.live_total else {
            return;
        };
        let (done, failed) = {
            let t = self.tally();
            (t.passed + t.failed + t.ignored + t.known_bugs, t.failed)
        };
        let failed = if failed > 0 {
            self.paint(Mark::Fail, &format!(", {failed} failed"))
        } else {
            String::new()
        };
        self.write(&format!("\r{done:>5}/{total} cases done{failed}"));
    }

    /// libtest's JSON events for one test: `started`, then its outcome.
    fn json_test(&self, name: &str, event: &str, extra: &str) {
        let name = json_string(name);
        self.write(&format!(
            "{{ \"type\": \"test\", \"event\": \"started\", \"name\": {name} }}\n\
             {{ \"type\": \"test\", \"name\": {name}, \"event\": \"{event}\"{extra} }}\n"
        ));
    }

    fn paint(&self, mark: Mark, text: &str) -> String {
        if self.color {
            format!("{}{text}\x1b[0m", mark.color())
        } else {
            text.to_string()
        }
    }

    /// `running N tests`.
    pub fn title(&self, n: usize) {
        if self.style == Style::Quiet {
            return;
        }
        if self.style == Style::Json {
            self.write(&format!(
                "{{ \"type\": \"suite\", \"event\": \"started\", \"test_count\": {n} }}\n"
            ));
            return;
        }
        let s = if n == 1 { "" } else { "s" };
        self.write(&format!("\nrunning {n} test{s}\n"));
    }

    fn tally(&self) -> std::sync::MutexGuard<'_, Tally> {
        self.tally
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// A trial with the ignored flag, not run (`--ignored` / `--include-ignored` run it).
    pub fn not_run(&self, name: &str) {
        self.tally().ignored += 1;
        let text = match self.style {
            Style::Quiet => return,
            Style::Terse if self.live_total.is_some() => return self.progress(),
            Style::Terse => self.paint(Mark::Skip, "i"),
            Style::Pretty => format!(
                "test {name:<w$} ... {}\n",
                self.paint(Mark::Skip, "ignored"),
                w = self.name_width
            ),
            Style::Json => return self.json_test(name, "ignored", ""),
        };
        self.write(&text);
    }

    /// Cases an interrupted run did not run: one line (JSON: an `ignored` event each).
    pub fn interrupted(&self, names: &[&str], reason: &str) {
        self.tally().ignored += names.len();
        match self.style {
            Style::Json => {
                let extra = format!(", \"message\": {}", json_string(reason));
                for name in names {
                    self.json_test(name, "ignored", &extra);
                }
            }
            Style::Quiet => {}
            Style::Pretty | Style::Terse if !names.is_empty() => {
                let s = if names.len() == 1 { "" } else { "s" };
                self.write(&format!(
                    "\n{}\n",
                    self.paint(
                        Mark::Skip,
                        &format!("{} case{s} not run: {reason}", names.len())
                    )
                ));
            }
            Style::Pretty | Style::Terse => {}
        }
    }

    /// One finished case; `failure` is the full message of a failed one.
    pub fn finished(&self, name: &str, report: &CaseReport, failure: Option<String>) {
        let mark = Mark::of(report);
        {
            let mut t = self.tally();
            match mark {
                Mark::Pass | Mark::BugNotSeen => t.passed += 1,
                Mark::Fail => t.failed += 1,
                Mark::Skip => t.ignored += 1,
                Mark::KnownBug => t.known_bugs += 1,
            }
            if let Some(msg) = &failure {
                t.failures.push((name.to_string(), msg.clone()));
            }
        }
        let text = match self.style {
            Style::Quiet => return,
            Style::Terse if self.live_total.is_some() => return self.progress(),
            Style::Terse => self.paint(mark, &mark.terse().to_string()),
            Style::Pretty => format!(
                "test {name:<w$} ... {}\n",
                self.paint(mark, &pretty(mark, report)),
                w = self.name_width
            ),
            Style::Json => {
                let (event, extra) = match mark {
                    Mark::Pass | Mark::BugNotSeen => ("ok", String::new()),
                    // As libtest-mimic wrote a failure's message.
                    Mark::Fail => (
                        "failed",
                        format!(
                            ", \"stdout\": {}",
                            json_string(&format!("Error: \"{}\"\n", failure.unwrap_or_default()))
                        ),
                    ),
                    Mark::Skip | Mark::KnownBug => (
                        "ignored",
                        format!(", \"message\": {}", json_string(&pretty(mark, report))),
                    ),
                };
                return self.json_test(name, event, &extra);
            }
        };
        self.write(&text);
    }

    /// The failures in full, then libtest's `test result:` line (with the known kernel bugs
    /// between the ignored and the measured count when there are any).
    pub fn finish(&self, filtered_out: usize, elapsed: Duration) {
        let t = self.tally();
        if self.style == Style::Json {
            let event = if t.failed > 0 { "failed" } else { "ok" };
            self.write(&format!(
                "{{ \"type\": \"suite\", \"event\": \"{event}\", \"passed\": {}, \"failed\": {}, \
                 \"ignored\": {}, \"measured\": 0, \"filtered_out\": {filtered_out}, \"exec_time\": {} }}\n",
                t.passed,
                t.failed,
                t.ignored + t.known_bugs,
                elapsed.as_secs_f64()
            ));
            return;
        }
        let mut text = String::new();
        if self.live_total.is_some() {
            text.push('\n');
        }
        if self.style == Style::Quiet && t.failures.is_empty() {
            return;
        }
        if !t.failures.is_empty() {
            text.push_str("\nfailures:\n\n");
            for (name, msg) in &t.failures {
                text.push_str(&format!("---- {name} ----\n{msg}\n\n"));
            }
            text.push_str("\nfailures:\n");
            for (name, _) in &t.failures {
                text.push_str(&format!("    {name}\n"));
            }
        }
        if self.style == Style::Quiet {
            text.push('\n');
            self.write(&text);
            return;
        }
        let verdict = if t.failed > 0 {
            self.paint(Mark::Fail, "FAILED")
        } else {
            self.paint(Mark::Pass, "ok")
        };
        let bugs = match t.known_bugs {
            0 => String::new(),
            1 => "1 known kernel bug; ".into(),
            n => format!("{n} known kernel bugs; "),
        };
        text.push_str(&format!(
            "\ntest result: {verdict}. {} passed; {} failed; {} ignored; {bugs}0 measured; {filtered_out} filtered out; finished in {:.2}s\n\n",
            t.passed,
            t.failed,
            t.ignored,
            elapsed.as_secs_f64()
        ));
        self.write(&text);
    }
}

/// A JSON string literal.
fn json_string(s: &str) -> String {
    serde_json::to_string(s).unwrap_or_else(|_| "\"\"".into())
}

/// `--list`: libtest's lines, `ID: test`.
pub(crate) fn list(names: &[&str]) {
    let mut text = String::new();
    for n in names {
        text.push_str(n);
        text.push_str(": test\n");
    }
    crate::output::out(&text);
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::result::tests::sample_run;
    use rstest::rstest;
    use std::sync::Arc;

    /// A Write that keeps what was written.
    #[derive(Clone, Default)]
    struct Captured(Arc<Mutex<Vec<u8>>>);

    impl Write for Captured {
        fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(b);
            Ok(b.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    /// The sample run as the console prints it.
    fn console_text(terse: bool, color: bool) -> String {
        let cap = Captured::default();
        let run = sample_run();
        let width = run.results.iter().map(|r| r.id.len()).max().unwrap();
        let style = if terse { Style::Terse } else { Style::Pretty };
        let con = Console::with_output(Box::new(cap.clone()), style, color, width);
        con.title(run.results.len() + 1);
        con.not_run("alpha::slow");
        for r in &run.results {
            let failure = matches!(r.report.status, Status::Fail | Status::Error)
                .then(|| format!("{}\n  rerun: {}", r.report.summary, r.rerun));
            con.finished(&r.id, &r.report, failure);
        }
        con.finish(3, Duration::from_millis(1250));
        let bytes = cap.0.lock().unwrap().clone();
        String::from_utf8(bytes).unwrap()
    }

    #[rstest]
    #[case::pass(CaseReport::pass("p"), Mark::Pass)]
    #[case::fail(CaseReport::fail("f"), Mark::Fail)]
    #[case::error(CaseReport::error("e"), Mark::Fail)]
    #[case::skip(CaseReport::skip("s"), Mark::Skip)]
    #[case::known_bug(CaseReport::known_bug("b", "s"), Mark::KnownBug)]
    #[case::bug_not_seen(CaseReport::pass("p").with_bug_not_seen("b"), Mark::BugNotSeen)]
    #[case::strict_known_bug(CaseReport::known_bug("b", "s").strict(), Mark::Fail)]
    fn marks(#[case] report: CaseReport, #[case] mark: Mark) {
        assert_eq!(Mark::of(&report), mark);
    }

    #[test]
    fn terse_has_one_distinct_character_per_case() {
        let text = console_text(true, false);
        // not run, then: pass, fail, skip, error, bug not seen, known bug
        assert!(text.starts_with("\nrunning 7 tests\ni.FiFXx\n"), "{text:?}");
        assert!(text.ends_with(
            "\ntest result: FAILED. 2 passed; 2 failed; 2 ignored; 1 known kernel bug; 0 measured; 3 filtered out; finished in 1.25s\n\n"
        ), "{text}");
    }

    #[test]
    fn pretty_names_the_bug_and_lists_failures_as_libtest_does() {
        let text = console_text(false, false);
        let w = "alpha::a::bug_not_seen".len();
        for want in [
            format!("test {:<w$} ... ignored\n", "alpha::slow"),
            format!("test {:<w$} ... ok\n", "alpha::a::pass"),
            format!("test {:<w$} ... FAILED\n", "alpha::a::fail"),
            format!("test {:<w$} ... ignored (needs s390x; kernel is x86_64)\n", "beta::b::skip"),
            format!("test {:<w$} ... known kernel bug (bug A drops a key)\n", "beta::b::known_bug"),
            format!(
                "test {:<w$} ... ok (known kernel bug not seen: bug B drops a key; it may be fixed in this kernel)\n",
                "alpha::a::bug_not_seen"
            ),
            "\nfailures:\n\n---- alpha::a::fail ----\nKVM_IOEVENTFD: expected -1 EINVAL, got 0\n  rerun: ./run.sh --exact 'alpha::a::fail'\n\n".into(),
            "\nfailures:\n    alpha::a::fail\n    beta::b::error\n".into(),
        ] {
            assert!(text.contains(&want), "{want:?} missing from\n{text}");
        }
    }

    #[test]
    fn colour_only_when_asked_and_known_bugs_apart_from_skips() {
        assert!(!console_text(true, false).contains('\x1b'));
        let text = console_text(true, true);
        assert!(text.contains("\x1b[35mx\x1b[0m"), "{text:?}");
        assert!(text.contains("\x1b[33mi\x1b[0m"), "{text:?}");
    }

    /// libtest's JSON events, one object a line, every one valid JSON.
    #[test]
    fn json_events_as_libtest_writes_them() {
        let cap = Captured::default();
        let con = Console::with_output(Box::new(cap.clone()), Style::Json, false, 4);
        con.title(4);
        con.not_run("a::slow");
        con.finished("a::ok", &CaseReport::pass("p"), None);
        con.finished(
            "a::bad",
            &CaseReport::fail("f"),
            Some("expected 0, got \"1\"".into()),
        );
        con.interrupted(&["a::left"], "run interrupted by SIGINT");
        con.finish(2, Duration::from_millis(500));
        let text = String::from_utf8(cap.0.lock().unwrap().clone()).unwrap();
        let events: Vec<serde_json::Value> = text
            .lines()
            .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}")))
            .collect();
        assert_eq!(events.len(), 1 + 2 * 4 + 1, "{text}");
        assert_eq!(events[0]["test_count"], 4);
        assert_eq!(events[6]["event"], "failed");
        assert_eq!(events[6]["stdout"], "Error: \"expected 0, got \"1\"\"\n");
        assert_eq!(events[8]["message"], "run interrupted by SIGINT");
        let end = &events[9];
        assert_eq!(
            (
                &end["event"],
                &end["passed"],
                &end["failed"],
                &end["ignored"],
                &end["filtered_out"]
            ),
            (&"failed".into(), &1.into(), &1.into(), &2.into(), &2.into())
        );
    }

    #[test]
    fn no_known_bugs_keeps_libtests_result_line() {
        let cap = Captured::default();
        let con = Console::with_output(Box::new(cap.clone()), Style::Terse, false, 4);
        con.finished("a::b", &CaseReport::pass("p"), None);
        con.finish(0, Duration::from_millis(10));
        let text = String::from_utf8(cap.0.lock().unwrap().clone()).unwrap();
        assert!(text.ends_with("\ntest result: ok. 1 passed; 0 failed; 0 ignored; 0 measured; 0 filtered out; finished in 0.01s\n\n"), "{text}");
    }
}
