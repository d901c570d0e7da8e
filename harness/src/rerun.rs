//! The command that reruns one case and reproduces its outcome: the environment variables and
//! options that change what a case does (the suites name theirs: backend, simulated kernel,
//! mutant, machine, device node, self-test switch; the harness adds the seed, the proptest case
//! count and the other PROPTEST_* variables, the timeout, `--strict`, `--in-process`,
//! `--child-runner`, and `--include-ignored` for a case marked ignored), then `--exact 'ID'`.

use crate::cli::{HarnessArgs, DEFAULT_TIMEOUT};
use std::collections::HashSet;
use std::path::PathBuf;
use std::sync::{PoisonError, RwLock};

/// What the suites add to every rerun line.
#[derive(Debug, Clone, Default)]
pub struct RerunSpec {
    /// Environment variables, set before the program (`NAME=value program ...`).
    pub env: Vec<(String, String)>,
    /// Options after the program, one word each (quoted as needed when printed).
    pub args: Vec<String>,
    /// The command that starts the program for a user (run.sh names itself), instead of the
    /// binary's path.
    pub launcher: Option<String>,
}

struct Current {
    prefix: String,
    ignored: HashSet<String>,
}

static CURRENT: RwLock<Option<Current>> = RwLock::new(None);

/// The command that reruns only case `id` in this run (set by the runner before any case runs,
/// in the runner's process and in each case process alike). Property cases print it with their
/// seed, so the line a user copies carries everything.
pub fn command(id: &str) -> String {
    let current = CURRENT.read().unwrap_or_else(PoisonError::into_inner);
    match &*current {
        Some(c) => render(&c.prefix, c.ignored.contains(id), id),
        None => render(&crate::output::program_name(), false, id),
    }
}

/// A case marked ignored runs only with `--include-ignored`.
fn render(prefix: &str, ignored: bool, id: &str) -> String {
    let include = if ignored { " --include-ignored" } else { "" };
    format!("{prefix}{include} --exact {}", quote(id))
}

pub(crate) fn set(prefix: String, ignored: impl IntoIterator<Item = String>) {
    *CURRENT.write().unwrap_or_else(PoisonError::into_inner) = Some(Current {
        prefix,
        ignored: ignored.into_iter().collect(),
    });
}

/// Everything before `--exact`: `[NAME=value ...] program [suite options] [harness options]
/// --seed N`.
pub(crate) fn prefix(args: &HarnessArgs, spec: &RerunSpec, seed: u64) -> String {
    let mut env: Vec<(String, String)> = spec.env.clone();
    // proptest reads its other limits (shrink iterations, rejects) from the environment.
    let mut proptest: Vec<(String, String)> = std::env::vars()
        .filter(|(k, _)| {
            k.starts_with("PROPTEST_") && k != "PROPTEST_RNG_SEED" && k != "PROPTEST_CASES"
        })
        .collect();
    proptest.sort();
    env.extend(proptest);
    let mut words: Vec<String> = env
        .iter()
        .map(|(k, v)| format!("{k}={}", quote(v)))
        .collect();
    words.push(program(spec));
    words.extend(spec.args.iter().map(|a| quote(a)));
    if let Some(n) = args.proptest_cases {
        words.push(format!("--proptest-cases {n}"));
    }
    if args.timeout != DEFAULT_TIMEOUT {
        words.push(format!("--timeout {}", args.timeout));
    }
    if args.strict {
        words.push("--strict".into());
    }
    if args.in_process {
        words.push("--in-process".into());
    }
    if let Some(r) = &args.child_runner {
        words.push(format!("--child-runner {}", quote(r)));
    }
    words.push(format!("--seed {seed}"));
    words.join(" ")
}

/// The suites' launcher (e.g. `./run.sh`; taken as it is, it may carry options) or this
/// binary's path, relative to the working directory when it is below it.
fn program(spec: &RerunSpec) -> String {
    if let Some(l) = spec.launcher.as_deref().filter(|l| !l.trim().is_empty()) {
        return l.to_string();
    }
    let exe =
        std::env::current_exe().unwrap_or_else(|_| PathBuf::from(crate::output::program_name()));
    let cwd = std::env::current_dir().unwrap_or_default();
    let shown = exe
        .strip_prefix(&cwd)
        .map(|p| p.display().to_string())
        .unwrap_or_else(|_| exe.display().to_string());
    quote(&shown)
}

/// A word as a POSIX shell reads it back: bare when it is plain, else in single quotes. Case ids
/// are always quoted, as rerun lines always showed them.
pub fn quote(word: &str) -> String {
    let plain = !word.is_empty()
        && !word.contains("::")
        && word
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_./=@%+,:".contains(c));
    if plain {
        word.to_string()
    } else {
        format!("'{}'", word.replace('\'', r"'\''"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rstest::rstest;

    #[rstest]
    #[case("7.2", "7.2")]
    #[case("--backend", "--backend")]
    #[case("a::b::c", "'a::b::c'")]
    #[case("emulated: Hercules 3.13, 2 CPUs", "'emulated: Hercules 3.13, 2 CPUs'")]
    #[case("it's", r"'it'\''s'")]
    #[case("", "''")]
    #[case("/dev/kvm", "/dev/kvm")]
    fn quoting(#[case] word: &str, #[case] want: &str) {
        assert_eq!(quote(word), want);
    }

    #[derive(clap::Parser)]
    struct Cli {
        #[command(flatten)]
        harness: HarnessArgs,
    }

    fn parsed(argv: &[&str]) -> HarnessArgs {
        use clap::Parser;
        let mut v = vec!["kvm-conformance"];
        v.extend_from_slice(argv);
        Cli::try_parse_from(v).unwrap().harness
    }

    /// The harness's options that change an outcome are carried, the others are not; the
    /// suites' environment comes first and their options right after the program.
    #[test]
    fn the_prefix_carries_what_changes_the_outcome() {
        let spec = RerunSpec {
            env: vec![("KVM_CONFORMANCE_DEVICE".into(), "/dev/my kvm".into())],
            args: vec![
                "--backend".into(),
                "simulated".into(),
                "--machine".into(),
                "lab box".into(),
            ],
            launcher: None,
        };
        let args = parsed(&[
            "--proptest-cases",
            "9",
            "--timeout",
            "17",
            "--strict",
            "--in-process",
            "--child-runner",
            "qemu-s390x -L /x",
            "--test-threads",
            "3",
            "-q",
            "--report-dir",
            "r",
        ]);
        let p = prefix(&args, &spec, 42);
        let program = program(&spec);
        assert!(
            p.starts_with("KVM_CONFORMANCE_DEVICE='/dev/my kvm' ")
                && p.ends_with(&format!(
                    "{program} --backend simulated --machine 'lab box' --proptest-cases 9 --timeout 17 \
                     --strict --in-process --child-runner 'qemu-s390x -L /x' --seed 42"
                )),
            "{p}"
        );
        // The defaults add nothing.
        let plain = prefix(&parsed(&[]), &RerunSpec::default(), 7);
        assert!(plain.ends_with(&format!("{program} --seed 7")), "{plain}");
        let launched = RerunSpec {
            launcher: Some("./run.sh".into()),
            ..RerunSpec::default()
        };
        assert_eq!(prefix(&parsed(&[]), &launched, 7), "./run.sh --seed 7");
    }

    #[test]
    fn an_ignored_case_is_rerun_with_include_ignored() {
        assert_eq!(
            render("prog --seed 1", false, "a::b::c"),
            "prog --seed 1 --exact 'a::b::c'"
        );
        assert_eq!(
            render("prog --seed 1", true, "a::slow::one"),
            "prog --seed 1 --include-ignored --exact 'a::slow::one'"
        );
    }

    /// What the shell makes of a quoted word is the word.
    #[test]
    fn quoted_words_read_back() {
        for w in ["a b", "it's", "x;y", "$HOME", "a::b", "", "q'\"'"] {
            let out = std::process::Command::new("sh")
                .arg("-c")
                .arg(format!("printf %s {}", quote(w)))
                .output()
                .unwrap();
            assert_eq!(String::from_utf8_lossy(&out.stdout), w);
        }
    }
}
