//! Reading the emulated machine's console log: the guest's `@@kc` marker lines (init.sh) and
//! the emulator's own messages. The SCLP console drops lines and even parts of lines, so every
//! marker is self-contained and a lost one only delays what the host shows; the results never
//! travel this way.

/// What the console has shown so far.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ConsoleState {
    /// The guest's kernel release, once /init has run.
    pub release: Option<String>,
    /// Seconds of guest uptime when /init started.
    pub boot_uptime: Option<f64>,
    /// `key=value` facts the guest printed before the suite (e.g. `mem_limit=0x0`).
    pub facts: Vec<(String, String)>,
    /// Cases the run will execute (from the guest's `--list`).
    pub total: Option<u64>,
    pub progress: Option<Progress>,
    /// The suite's exit status, once it ended.
    pub suite_rc: Option<i32>,
    /// /init finished (results written, powering off).
    pub done: bool,
    /// Errors /init reported (no /dev/kvm, a module that did not load, no results disk).
    pub errors: Vec<String>,
    /// The guest kernel crashed (panic, oops while not running a case).
    pub panic: Option<String>,
    /// The emulated CPU stopped (disabled wait, stopped state).
    pub cpu_stopped: bool,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Progress {
    pub done: u64,
    pub failed: u64,
    pub total: u64,
}

const MARKER: &str = "@@kc ";

/// Emulator messages that mean the emulated CPU no longer runs: Hercules 3.x `HHCCP011I ...
/// disabled wait state`, Hyperion `HHC00809I Processor ... disabled wait state`, and the
/// console interface going away when the guest powers off.
const CPU_STOPPED: &[&str] = &[
    "disabled wait",
    "Disabled wait",
    "HHCCP011I",
    "HHC00809I",
    "console interface inactive",
    "SYSCONS interface inactive",
];

const PANIC: &[&str] = &["Kernel panic", "kernel BUG at", "Oops:"];

impl ConsoleState {
    /// Take in one console line.
    pub fn line(&mut self, line: &str) {
        if let Some(i) = line.find(MARKER) {
            self.marker(&line[i + MARKER.len()..]);
            return;
        }
        if CPU_STOPPED.iter().any(|p| line.contains(p)) {
            self.cpu_stopped = true;
        }
        if self.panic.is_none() && PANIC.iter().any(|p| line.contains(p)) {
            self.panic = Some(line.trim().to_string());
        }
    }

    fn marker(&mut self, m: &str) {
        let mut words = m.split_whitespace();
        let Some(kind) = words.next() else { return };
        let rest: Vec<&str> = words.collect();
        let field = |k: &str| {
            rest.iter()
                .find_map(|w| w.strip_prefix(k).and_then(|v| v.strip_prefix('=')))
        };
        let num = |k: &str| field(k).and_then(|v| v.parse::<u64>().ok());
        match kind {
            "boot" => {
                self.release = field("release").map(str::to_string);
                self.boot_uptime = field("uptime").and_then(|v| v.parse().ok());
            }
            "facts" => {
                self.facts = rest
                    .iter()
                    .filter_map(|w| w.split_once('='))
                    .map(|(k, v)| (k.to_string(), v.to_string()))
                    .collect();
            }
            "suite" if rest.first() == Some(&"start") => self.total = num("total"),
            "suite" if rest.first() == Some(&"end") => {
                self.suite_rc = field("rc").and_then(|v| v.parse().ok())
            }
            "progress" => {
                // A line cut short by the console is ignored rather than misread.
                if let (Some(done), Some(failed), Some(total)) =
                    (num("done"), num("failed"), num("total"))
                {
                    let p = Progress {
                        done,
                        failed,
                        total,
                    };
                    // Never go backwards (a line from before a lost one can arrive late only
                    // in theory, but the display must not flicker).
                    if self.progress.is_none_or(|old| p.done >= old.done) {
                        self.progress = Some(p);
                    }
                }
            }
            "error" => self.errors.push(rest.join(" ")),
            "module" if rest.get(1) == Some(&"failed:") => self.errors.push(rest.join(" ")),
            "done" => self.done = true,
            _ => {}
        }
    }

    /// A fact the guest printed.
    pub fn fact(&self, key: &str) -> Option<&str> {
        self.facts
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }
}

/// The last `n` lines of a console log, for a report about a guest that hung or crashed.
pub fn tail(log: &str, n: usize) -> String {
    let lines: Vec<&str> = log.lines().collect();
    lines[lines.len().saturating_sub(n)..].join("\n")
}

#[cfg(test)]
mod tests {
    use super::*;
    use rstest::rstest;

    fn feed(lines: &[&str]) -> ConsoleState {
        let mut s = ConsoleState::default();
        for l in lines {
            s.line(l);
        }
        s
    }

    #[test]
    fn a_whole_run() {
        let s = feed(&[
            "HHCCP042I CPU0000: Store status completed",
            "@@kc boot uptime=12.34 release=6.12.107+deb13-s390x cpus=2",
            "@@kc module kvm.ko loaded",
            "@@kc facts mem_limit=0x20000000000000 nr_memslots=32767",
            "@@kc suite start uptime=14.0 total=786",
            "@@kc progress done=10 failed=0 total=786 uptime=24.0",
            "@@kc progress done=400 failed=2 total=786 uptime=94.0",
            "@@kc suite end rc=1 uptime=190.5",
            "@@kc results written bytes=40960",
            "@@kc done rc=1",
            "HHCCP011I CPU0000: Disabled wait state",
        ]);
        assert_eq!(s.release.as_deref(), Some("6.12.107+deb13-s390x"));
        assert_eq!(s.boot_uptime, Some(12.34));
        assert_eq!(s.fact("mem_limit"), Some("0x20000000000000"));
        assert_eq!(s.total, Some(786));
        assert_eq!(
            s.progress,
            Some(Progress {
                done: 400,
                failed: 2,
                total: 786
            })
        );
        assert_eq!(s.suite_rc, Some(1));
        assert!(s.done && s.cpu_stopped);
        assert!(s.errors.is_empty() && s.panic.is_none());
    }

    #[rstest]
    // The SCLP console loses the end of a line: the value is never guessed.
    #[case::cut_short("@@kc progress done=12 fai")]
    #[case::cut_mid_number("@@kc progress done=1")]
    #[case::garbled("@@kc progress done=x failed=0 total=3")]
    fn partial_progress_lines_are_ignored(#[case] line: &str) {
        let s = feed(&["@@kc progress done=5 failed=0 total=9", line]);
        assert_eq!(s.progress.map(|p| p.done), Some(5));
    }

    #[test]
    fn marker_after_console_prefix() {
        // Hyperion prefixes guest console lines with a timestamp or message id.
        let s = feed(&["HHC00001I 07:12:01 @@kc progress done=3 failed=1 total=9"]);
        assert_eq!(s.progress.map(|p| (p.done, p.failed)), Some((3, 1)));
    }

    #[rstest]
    #[case("HHCCP011I CPU0000: Disabled wait state")]
    #[case("HHC00809I Processor CP00: disabled wait state 0002000180000000 0000000000000000")]
    #[case("HHC00007I SCLP console interface inactive")]
    fn cpu_stop_is_seen(#[case] line: &str) {
        assert!(feed(&[line]).cpu_stopped);
    }

    #[test]
    fn panic_and_errors_are_kept() {
        let s = feed(&[
            "@@kc module kvm.ko failed: insmod: can't insert '/kc/kvm.ko': unknown symbol",
            "@@kc error no /dev/kvm after loading the modules",
            "Kernel panic - not syncing: Fatal exception",
        ]);
        assert_eq!(s.errors.len(), 2);
        assert!(s.panic.as_deref().unwrap().starts_with("Kernel panic"));
    }

    #[test]
    fn tail_keeps_the_last_lines() {
        assert_eq!(tail("a\nb\nc\nd", 2), "c\nd");
        assert_eq!(tail("a", 5), "a");
    }
}
