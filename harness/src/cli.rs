//! The command line: libtest's options (through libtest-mimic) plus the harness's own.

use clap::Args;
use std::path::PathBuf;
use std::str::FromStr;

/// The per-case timeout without `--timeout`, in seconds.
pub const DEFAULT_TIMEOUT: u64 = 30;

#[derive(Args, Debug, Clone)]
pub struct HarnessArgs {
    #[command(flatten)]
    pub libtest: libtest_mimic::Arguments,

    /// Where runs write their reports: DIR/<run-id>/{junit.xml,results.ktap,summary.txt}, and
    /// DIR/latest points at the newest.
    #[arg(long, value_name = "DIR", default_value = "reports")]
    pub report_dir: PathBuf,

    /// Write no report files (console output only).
    #[arg(long)]
    pub no_reports: bool,

    /// The KCIDB origin (the CI system's name) in kcidb.json: lower-case letters, digits, '_'
    /// (default: the program's name, '-' as '_').
    #[arg(long, value_name = "NAME", value_parser = parse_kcidb_origin)]
    pub kcidb_origin: Option<String>,

    /// Per-case timeout in seconds; a case still running then is killed and reported as an error.
    #[arg(long, value_name = "SECS", default_value_t = DEFAULT_TIMEOUT, value_parser = clap::value_parser!(u64).range(1..))]
    pub timeout: u64,

    /// Run every case inside this process instead of a child process per case (for debugging,
    /// and for emulators without binfmt_misc). No isolation and no timeout.
    #[arg(long)]
    pub in_process: bool,

    /// Start each case's child process through this command, e.g.
    /// "qemu-s390x-static -L /usr/s390x-linux-gnu" (split on whitespace).
    #[arg(long, value_name = "CMD")]
    pub child_runner: Option<String>,

    /// Seed of the property-based cases (default: random, always printed).
    #[arg(long, env = "PROPTEST_RNG_SEED", value_name = "N")]
    pub seed: Option<u64>,

    /// Generated inputs per property-based case.
    #[arg(long = "proptest-cases", env = "PROPTEST_CASES", value_name = "N", value_parser = clap::value_parser!(u32).range(1..))]
    pub proptest_cases: Option<u32>,

    /// Known kernel bugs (documented kernel bugs seen on the kernels where they are known) fail
    /// the run (exit status 1) instead of being reported apart as known kernel bugs.
    #[arg(long)]
    pub strict: bool,

    /// Run only shard M of N (1-based), split by a stable hash of the case id.
    #[arg(long, value_name = "M/N")]
    pub shard: Option<Shard>,

    /// With --list: each id followed by where its case is defined (file:line).
    #[arg(long)]
    pub locations: bool,

    /// Internal: run exactly this case and print its result (the parent's child process).
    #[arg(long, hide = true, value_name = "ID")]
    pub child_case: Option<String>,

    /// Internal: serve a worker of the runner on stdin, forking one process per case.
    #[arg(long, hide = true)]
    pub case_server: bool,

    /// `--format ktap` (taken out of the arguments before libtest-mimic sees them).
    #[arg(skip)]
    pub ktap: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Shard {
    pub index: u32,
    pub count: u32,
}

impl FromStr for Shard {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let (m, n) = s
            .split_once('/')
            .ok_or_else(|| format!("expected M/N, got {s:?}"))?;
        let index: u32 = m
            .trim()
            .parse()
            .map_err(|_| format!("bad shard index {m:?}"))?;
        let count: u32 = n
            .trim()
            .parse()
            .map_err(|_| format!("bad shard count {n:?}"))?;
        if count == 0 || index == 0 || index > count {
            return Err(format!("shard {index}/{count}: need 1 <= M <= N"));
        }
        Ok(Shard { index, count })
    }
}

impl Shard {
    /// Stable across runs and machines: FNV-1a of the case id.
    pub fn contains(&self, id: &str) -> bool {
        let mut h: u64 = 0xcbf2_9ce4_8422_2325;
        for b in id.bytes() {
            h ^= u64::from(b);
            h = h.wrapping_mul(0x0100_0000_01b3);
        }
        (h % u64::from(self.count)) as u32 == self.index - 1
    }
}

/// Take `--format ktap` / `--format=ktap` out of the arguments (libtest-mimic knows only
/// pretty, terse and json) and say whether it was there.
pub fn take_ktap_format(args: Vec<String>) -> (Vec<String>, bool) {
    let mut out = Vec::with_capacity(args.len());
    let mut ktap = false;
    let mut it = args.into_iter().peekable();
    while let Some(a) = it.next() {
        if a == "--format=ktap" {
            ktap = true;
        } else if a == "--format" && it.peek().map(String::as_str) == Some("ktap") {
            it.next();
            ktap = true;
        } else {
            out.push(a);
        }
    }
    (out, ktap)
}

fn parse_kcidb_origin(s: &str) -> Result<String, String> {
    crate::kcidb::check_origin(s).map(|()| s.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use rstest::rstest;

    #[rstest]
    #[case("1/1", Some((1, 1)))]
    #[case("2/3", Some((2, 3)))]
    #[case("0/3", None)]
    #[case("4/3", None)]
    #[case("1/0", None)]
    #[case("1-3", None)]
    #[case("a/3", None)]
    fn shard_parsing(#[case] text: &str, #[case] want: Option<(u32, u32)>) {
        assert_eq!(text.parse::<Shard>().ok().map(|s| (s.index, s.count)), want);
    }

    #[test]
    fn shards_partition_the_cases() {
        let ids: Vec<String> = (0..500)
            .map(|i| format!("suite::group::case_{i}"))
            .collect();
        for n in 1..5 {
            let shards: Vec<Shard> = (1..=n).map(|m| Shard { index: m, count: n }).collect();
            for id in &ids {
                let owners = shards.iter().filter(|s| s.contains(id)).count();
                assert_eq!(owners, 1, "{id} is in {owners} of {n} shards");
            }
        }
    }

    #[rstest]
    #[case(&["--format", "ktap", "-q"], &["-q"], true)]
    #[case(&["--format=ktap"], &[], true)]
    #[case(&["--format", "json"], &["--format", "json"], false)]
    #[case(&["filter", "--exact"], &["filter", "--exact"], false)]
    fn ktap_format_is_taken_out(#[case] args: &[&str], #[case] rest: &[&str], #[case] ktap: bool) {
        let (out, k) = take_ktap_format(args.iter().map(|s| s.to_string()).collect());
        assert_eq!(out, rest);
        assert_eq!(k, ktap);
    }
}
