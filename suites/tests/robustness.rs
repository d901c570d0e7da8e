//! End-to-end: a run that survives everything. The built binary under signals (the cases
//! stopped, the reports complete, `latest` switched, exit 128+N; a second signal ends it at
//! once), a runner killed with SIGKILL (its case process goes too), stdout that cannot be
//! written, a full report disk, bad selections and thread counts, and rerun lines that
//! reproduce a failure when copied. The self-test suite (`KVM_CONFORMANCE_SELFTEST=1`) gives a
//! case that hangs; the simulated kernel with a mutant gives failing rows and properties.

use quick_junit::{NonSuccessKind, Report, TestCaseStatus};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

const BIN: &str = env!("CARGO_BIN_EXE_kvm-conformance");

/// Under qemu-user (the s390x CI sets this) process-level behaviour is the emulator's; these
/// tests are about the host's processes, so they run natively only.
fn native() -> bool {
    let emulated = std::env::var("KVM_CONFORMANCE_TEST_RUNNER").is_ok_and(|r| !r.trim().is_empty());
    if emulated {
        eprintln!("under KVM_CONFORMANCE_TEST_RUNNER: not run");
    }
    !emulated
}

fn tmpdir(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("kvm-conformance-rob-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

/// The binary with a clean environment of its own variables, plus `env`.
fn command(args: &[&str], env: &[(&str, &str)]) -> Command {
    let mut c = Command::new(BIN);
    c.args(args);
    for v in [
        "PROPTEST_RNG_SEED",
        "PROPTEST_CASES",
        "KVM_CONFORMANCE_SELFTEST",
        "KVM_CONFORMANCE_DEVICE",
        "KVM_CONFORMANCE_LAUNCHER",
    ] {
        c.env_remove(v);
    }
    for (k, v) in env {
        c.env(k, v);
    }
    c
}

/// Run to the end, but never longer than `limit`: a hang is a failure, not a stuck test.
fn output_within(mut c: Command, limit: Duration) -> Output {
    let child = c
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the binary runs");
    let pid = child.id();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let _ = tx.send(child.wait_with_output());
    });
    match rx.recv_timeout(limit) {
        Ok(o) => o.unwrap(),
        Err(_) => {
            let _ = nix::sys::signal::kill(
                nix::unistd::Pid::from_raw(pid as i32),
                nix::sys::signal::Signal::SIGKILL,
            );
            panic!("{c:?} still running after {limit:?}");
        }
    }
}

fn text(o: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

fn no_kvm(out: &str) -> bool {
    out.lines().any(|l| l.starts_with("no KVM: "))
}

/// Whether this host has usable KVM (without it every run exits 2 after its reports).
fn kvm_usable() -> bool {
    let o = output_within(
        command(
            &["-q", "--no-reports", "--exact", "ioeventfd::len::accepts_1"],
            &[],
        ),
        Duration::from_secs(60),
    );
    !no_kvm(&text(&o))
}

fn junit(dir: &Path) -> Report {
    let xml = std::fs::read_to_string(dir.join("latest/junit.xml")).expect("junit.xml written");
    Report::deserialize_from_str(&xml).expect("junit.xml reads back")
}

/// (status, message) of every test case, by id.
fn statuses(report: &Report) -> Vec<(String, &'static str, String)> {
    let mut v = Vec::new();
    for s in &report.test_suites {
        for c in &s.test_cases {
            let (st, msg) = match &c.status {
                TestCaseStatus::Success { .. } => ("pass", None),
                TestCaseStatus::Skipped { message, .. } => ("skip", message.as_ref()),
                TestCaseStatus::NonSuccess { kind, message, .. } => (
                    if *kind == NonSuccessKind::Failure {
                        "fail"
                    } else {
                        "error"
                    },
                    message.as_ref(),
                ),
            };
            v.push((
                c.name.to_string(),
                st,
                msg.map(|m| m.to_string()).unwrap_or_default(),
            ));
        }
    }
    v
}

/// The names in a report directory, sorted.
fn entries(dir: &Path) -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    v.sort();
    v
}

/// Waits (30 s at most) until the run's staging directory shows the run is under way.
fn wait_for_staging(dir: &Path) {
    let start = Instant::now();
    while !entries(dir).iter().any(|e| e.starts_with(".incomplete-")) {
        assert!(
            start.elapsed() < Duration::from_secs(30),
            "{:?}",
            entries(dir)
        );
        std::thread::sleep(Duration::from_millis(10));
    }
}

fn schema_valid(xml: &Path) {
    let schema = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/schemas/junit-10.xsd");
    if !schema.exists() {
        return;
    }
    if let Ok(v) = Command::new("xmllint")
        .arg("--noout")
        .arg("--schema")
        .arg(&schema)
        .arg(xml)
        .output()
    {
        assert!(v.status.success(), "{}", String::from_utf8_lossy(&v.stderr));
    }
}

// ---- processes ----

/// The state letter of a process (`/proc/PID/stat`), None when it is gone.
fn state(pid: u32) -> Option<char> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    stat.rsplit_once(") ")?.1.chars().next()
}

fn alive(pid: u32) -> bool {
    state(pid).is_some_and(|s| s != 'Z' && s != 'X')
}

fn ppid(pid: u32) -> Option<u32> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    status
        .lines()
        .find_map(|l| l.strip_prefix("PPid:"))
        .and_then(|v| v.trim().parse().ok())
}

/// Where `selftest::hangs` leaves its pid (`KVM_CONFORMANCE_SELFTEST_PIDFILE`).
fn pidfile(dir: &Path) -> PathBuf {
    dir.with_extension("pid")
}

/// The process of `selftest::hangs`, once it runs: a descendant of the runner (its child, or
/// the child of the runner's case server).
fn wait_for_hanging_case(runner: u32, dir: &Path, limit: Duration) -> u32 {
    let start = Instant::now();
    while start.elapsed() < limit {
        if let Some(pid) = std::fs::read_to_string(pidfile(dir))
            .ok()
            .and_then(|p| p.trim().parse::<u32>().ok())
        {
            let parent = ppid(pid);
            let grandparent = parent.and_then(ppid);
            assert!(
                parent == Some(runner) || grandparent == Some(runner),
                "the hanging case {pid} is no descendant of the runner {runner}"
            );
            return pid;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    panic!("no case process for selftest::hangs under runner {runner} after {limit:?}");
}

fn gone_within(pid: u32, limit: Duration) -> bool {
    let start = Instant::now();
    while start.elapsed() < limit {
        if !alive(pid) {
            return true;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    false
}

fn signal(pid: u32, sig: nix::sys::signal::Signal) {
    nix::sys::signal::kill(nix::unistd::Pid::from_raw(pid as i32), sig).unwrap();
}

fn wait_within(child: &mut Child, limit: Duration) -> std::process::ExitStatus {
    let start = Instant::now();
    loop {
        if let Some(s) = child.try_wait().unwrap() {
            return s;
        }
        if start.elapsed() > limit {
            let _ = child.kill();
            panic!("the runner did not end within {limit:?}");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// A finished run in `dir` to be the previous one.
fn previous_run(dir: &Path) -> String {
    let o = output_within(
        command(
            &[
                "-q",
                "--report-dir",
                dir.to_str().unwrap(),
                "--exact",
                // Declared before selftest::hangs: the next run, which starts the cases the
                // previous one measured first, still meets hangs before the cases after it.
                "selftest::right_expectation",
            ],
            &[("KVM_CONFORMANCE_SELFTEST", "1")],
        ),
        Duration::from_secs(60),
    );
    assert!(matches!(o.status.code(), Some(0 | 2)), "{}", text(&o));
    std::fs::read_link(dir.join("latest"))
        .unwrap()
        .to_string_lossy()
        .into_owned()
}

// ---- signals and a dead runner ----

/// SIGINT, SIGTERM and SIGHUP while a case hangs: the case process is killed, the hanging case
/// and the three after it are reported as not run with the signal's name, the reports are
/// complete and valid, latest points at them, and the exit status is 128+N.
#[test]
fn interrupted_runs_stop_the_cases_and_write_complete_reports() {
    use nix::sys::signal::Signal;
    if !native() {
        return;
    }
    for sig in [Signal::SIGINT, Signal::SIGTERM, Signal::SIGHUP] {
        let dir = tmpdir(&format!("signal-{sig}"));
        let before = previous_run(&dir);
        let mut runner = command(
            &[
                "-q",
                "--test-threads",
                "1",
                "--timeout",
                "120",
                "--report-dir",
                dir.to_str().unwrap(),
                "selftest::",
            ],
            &[
                ("KVM_CONFORMANCE_SELFTEST", "1"),
                (
                    "KVM_CONFORMANCE_SELFTEST_PIDFILE",
                    pidfile(&dir).to_str().unwrap(),
                ),
            ],
        )
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
        let case = wait_for_hanging_case(runner.id(), &dir, Duration::from_secs(60));
        // Its own process group, so the runner can kill it with whatever it started.
        assert_eq!(
            nix::unistd::getpgid(Some(nix::unistd::Pid::from_raw(case as i32)))
                .unwrap()
                .as_raw(),
            case as i32
        );
        let t = Instant::now();
        signal(runner.id(), sig);
        let status = wait_within(&mut runner, Duration::from_secs(30));
        let out = runner.wait_with_output().unwrap();
        let out = text(&out);
        use std::os::unix::process::ExitStatusExt;
        assert_eq!(
            status.code(),
            Some(128 + sig as i32),
            "{sig}: {status:?} {out}"
        );
        assert!(
            t.elapsed() < Duration::from_secs(10),
            "{sig}: took {:?}",
            t.elapsed()
        );
        assert_eq!(status.signal(), None);
        assert!(
            gone_within(case, Duration::from_secs(5)),
            "{sig}: the hanging case process {case} lives on"
        );

        let latest = std::fs::read_link(dir.join("latest")).unwrap();
        assert_ne!(
            latest.to_string_lossy(),
            before,
            "{sig}: latest was not switched"
        );
        assert_eq!(entries(&dir).len(), 3, "{sig}: {:?}", entries(&dir));
        let reason = format!("run interrupted by {sig}");
        let report = junit(&dir);
        let st = statuses(&report);
        let of = |id: &str| {
            st.iter()
                .find(|(n, _, _)| n == id)
                .unwrap_or_else(|| panic!("{id} missing from the report: {st:?}"))
        };
        assert_eq!(of("selftest::right_expectation").1, "pass", "{sig}");
        assert_eq!(of("selftest::wrong_expectation").1, "fail", "{sig}");
        let hangs = of("selftest::hangs");
        assert_eq!(
            (hangs.1, hangs.2.as_str()),
            ("skip", format!("{reason} (stopped while it ran)").as_str()),
            "{sig}"
        );
        for id in ["skips", "known_bug_seen", "known_bug_not_seen"] {
            let r = of(&format!("selftest::{id}"));
            assert_eq!(
                (r.1, r.2.as_str()),
                ("skip", reason.as_str()),
                "{sig}: {id}"
            );
        }
        schema_valid(&dir.join("latest/junit.xml"));
        let ktap = std::fs::read_to_string(dir.join("latest/results.ktap")).unwrap();
        assert!(
            ktap.contains(&format!("selftest::known_bug_not_seen # SKIP {reason}\n")),
            "{ktap}"
        );
        assert!(ktap.lines().any(|l| l.starts_with("# Totals: ")), "{ktap}");
        let summary = std::fs::read_to_string(dir.join("latest/summary.txt")).unwrap();
        assert!(
            summary.contains(&format!(
                "{reason}: 3 cases not run (reported as skipped); exit status {}",
                128 + sig as i32
            )),
            "{summary}"
        );
        let _ = std::fs::remove_dir_all(&dir);
    }
}

/// The first signal cannot stop a case running in the runner's own process (--in-process); the
/// second ends the run at once, without reports, leaving latest and the previous run.
#[test]
fn a_second_signal_ends_at_once() {
    if !native() {
        return;
    }
    let dir = tmpdir("second-signal");
    let before = previous_run(&dir);
    let mut runner = command(
        &[
            "-q",
            "--in-process",
            "--report-dir",
            dir.to_str().unwrap(),
            "--exact",
            "selftest::hangs",
        ],
        &[
            ("KVM_CONFORMANCE_SELFTEST", "1"),
            (
                "KVM_CONFORMANCE_SELFTEST_PIDFILE",
                pidfile(&dir).to_str().unwrap(),
            ),
        ],
    )
    .stdout(Stdio::null())
    .stderr(Stdio::piped())
    .spawn()
    .unwrap();
    wait_for_staging(&dir);
    std::thread::sleep(Duration::from_millis(200));
    signal(runner.id(), nix::sys::signal::Signal::SIGINT);
    std::thread::sleep(Duration::from_millis(500));
    assert!(
        runner.try_wait().unwrap().is_none(),
        "one SIGINT does not end an in-process case"
    );
    let t = Instant::now();
    signal(runner.id(), nix::sys::signal::Signal::SIGINT);
    let status = wait_within(&mut runner, Duration::from_secs(10));
    assert!(
        t.elapsed() < Duration::from_secs(3),
        "took {:?}",
        t.elapsed()
    );
    assert_eq!(status.code(), Some(130));
    let mut err = String::new();
    std::io::Read::read_to_string(&mut runner.stderr.take().unwrap(), &mut err).unwrap();
    assert!(err.contains("SIGINT again: ending at once"), "{err}");
    assert_eq!(
        entries(&dir),
        [before.as_str(), "latest"],
        "nothing of the interrupted run stays"
    );
    assert_eq!(
        std::fs::read_link(dir.join("latest"))
            .unwrap()
            .to_string_lossy(),
        before
    );
    let _ = std::fs::remove_dir_all(&dir);
}

/// SIGKILL leaves the runner no say: the case process dies with it (parent-death signal).
#[test]
fn a_case_process_never_outlives_its_runner() {
    if !native() {
        return;
    }
    let dir = tmpdir("sigkill");
    let mut runner = command(
        &[
            "-q",
            "--report-dir",
            dir.to_str().unwrap(),
            "--exact",
            "selftest::hangs",
        ],
        &[
            ("KVM_CONFORMANCE_SELFTEST", "1"),
            (
                "KVM_CONFORMANCE_SELFTEST_PIDFILE",
                pidfile(&dir).to_str().unwrap(),
            ),
        ],
    )
    .stdout(Stdio::null())
    .stderr(Stdio::null())
    .spawn()
    .unwrap();
    let case = wait_for_hanging_case(runner.id(), &dir, Duration::from_secs(60));
    runner.kill().unwrap();
    runner.wait().unwrap();
    assert!(
        gone_within(case, Duration::from_secs(5)),
        "case process {case} outlived its runner (state {:?})",
        state(case)
    );
    assert!(!dir.join("latest").exists(), "no reports from a killed run");
    let _ = std::fs::remove_dir_all(&dir);
}

/// A case that kills its case server costs only itself: it is an error naming the lost server,
/// the case after it runs (in a new server) and passes, and no process is left over.
#[test]
fn a_lost_case_server_costs_only_its_case() {
    if !native() {
        return;
    }
    let dir = tmpdir("lost-server");
    let o = output_within(
        command(
            &[
                "-q",
                "--test-threads",
                "1",
                "--report-dir",
                dir.to_str().unwrap(),
                "selftest_isolation::",
            ],
            &[("KVM_CONFORMANCE_SELFTEST", "1")],
        ),
        Duration::from_secs(60),
    );
    let out = text(&o);
    assert_eq!(o.status.code(), Some(1), "{out}");
    let st = statuses(&junit(&dir));
    let of = |id: &str| {
        st.iter()
            .find(|(n, _, _)| n == id)
            .unwrap_or_else(|| panic!("{id} missing: {st:?}"))
    };
    let lost = of("selftest_isolation::kills_its_case_server");
    assert_eq!(
        (lost.1, lost.2.as_str()),
        (
            "error",
            "the case's process was lost: the case server ended"
        ),
        "{out}"
    );
    assert_eq!(of("selftest_isolation::runs_after_a_lost_server").1, "pass");
    let _ = std::fs::remove_dir_all(&dir);
}

// ---- bad selections and counts ----

#[test]
fn zero_test_threads_is_refused_at_once() {
    let o = output_within(
        command(&["--test-threads", "0", "ioeventfd::len::accepts_1"], &[]),
        Duration::from_secs(30),
    );
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(2), "{err}");
    assert_eq!(
        err,
        "kvm-conformance: --test-threads 0: at least one thread is needed\n"
    );
}

/// A typo, a pasted quoted id with a typo, a --skip or --ignored that leaves nothing: exit 2,
/// one line naming the closest ids, no reports; never a green run of nothing.
#[test]
fn a_selection_that_matches_nothing_exits_2_naming_the_closest_ids() {
    let dir = tmpdir("select");
    let d = dir.to_str().unwrap();
    let cases: &[(&[&str], &str)] = &[
        (
            &["--exact", "ioeventfd::len::acepts_1"],
            "no case id is exactly \"ioeventfd::len::acepts_1\"; closest: ioeventfd::len::accepts_1",
        ),
        (
            &["--exact", "'ioeventfd::len::acepts_1'"],
            "no case id is exactly \"ioeventfd::len::acepts_1\"; closest: ioeventfd::len::accepts_1",
        ),
        (
            &["ioevntfd::len::"],
            "no case id contains \"ioevntfd::len::\"; closest: \"ioeventfd::len::\"",
        ),
        (
            &["--skip", "ioeventfd::", "ioeventfd::len"],
            "the filter \"ioeventfd::len\" matches ",
        ),
        (
            &["--ignored", "set_user_memory_region::"],
            "--ignored runs only the slow cases marked ignored; ",
        ),
        (&["--list", "no_such_case"], "no case id contains \"no_such_case\""),
    ];
    for (args, want) in cases {
        let mut a = vec!["--report-dir", d];
        a.extend_from_slice(args);
        let o = output_within(command(&a, &[]), Duration::from_secs(30));
        let err = String::from_utf8_lossy(&o.stderr);
        assert_eq!(o.status.code(), Some(2), "{args:?}: {}", text(&o));
        assert_eq!(err.lines().count(), 1, "{args:?}: {err}");
        assert!(
            err.starts_with(&format!("kvm-conformance: {want}")),
            "{args:?}: {err}"
        );
        assert!(o.stdout.is_empty(), "{args:?}: {}", text(&o));
    }
    assert!(entries(&dir).is_empty(), "{:?}", entries(&dir));
    // The quotes of a pasted rerun id are dropped when what is left is an id.
    let o = output_within(
        command(
            &[
                "-q",
                "--report-dir",
                d,
                "--exact",
                "'ioeventfd::len::accepts_1'",
            ],
            &[],
        ),
        Duration::from_secs(60),
    );
    let out = text(&o);
    assert_eq!(
        o.status.code(),
        Some(if no_kvm(&out) { 2 } else { 0 }),
        "{out}"
    );
    let st = statuses(&junit(&dir));
    assert_eq!(st.len(), 1, "{st:?}");
    assert_eq!(st[0].0, "ioeventfd::len::accepts_1");
    let _ = std::fs::remove_dir_all(&dir);
}

// ---- output that cannot be written ----

/// stdout on a full device, or a pipe whose reader is gone (`| head -1`), in every console
/// format: no panic, the usual exit status, and the reports are written all the same.
#[test]
fn output_that_cannot_be_written_never_panics() {
    let dir = tmpdir("stdout");
    // wrong_expectation fails: exit 1, as with a console (2 without KVM).
    let usual = if kvm_usable() { 1 } else { 2 };
    let formats: &[&[&str]] = &[&[], &["-q"], &["--format", "json"], &["--format", "ktap"]];
    for format in formats {
        for closed_pipe in [false, true] {
            let _ = std::fs::remove_dir_all(&dir);
            let mut args = vec!["--report-dir", dir.to_str().unwrap(), "selftest::"];
            args.extend_from_slice(format);
            let mut c = command(&args, &[("KVM_CONFORMANCE_SELFTEST", "1")]);
            c.arg("--skip").arg("hangs").arg("--skip").arg("crashes");
            let status;
            let stderr;
            if closed_pipe {
                let mut child = c
                    .stdout(Stdio::piped())
                    .stderr(Stdio::piped())
                    .spawn()
                    .unwrap();
                drop(child.stdout.take()); // the reader is gone before the first line
                let o = child.wait_with_output().unwrap();
                status = o.status;
                stderr = String::from_utf8_lossy(&o.stderr).into_owned();
            } else {
                let full = std::fs::OpenOptions::new()
                    .write(true)
                    .open("/dev/full")
                    .unwrap();
                let o = c.stdout(full).stderr(Stdio::piped()).output().unwrap();
                status = o.status;
                stderr = String::from_utf8_lossy(&o.stderr).into_owned();
            }
            let what = format!("{format:?}, closed pipe {closed_pipe}");
            assert!(!stderr.contains("panicked"), "{what}: {stderr}");
            assert_eq!(status.code(), Some(usual), "{what}: {stderr}");
            let st = statuses(&junit(&dir));
            assert_eq!(st.len(), 6, "{what}: {st:?}");
        }
    }
    // --list and --mutant list too.
    for args in [&["--list"][..], &["--mutant", "list"]] {
        let mut child = command(args, &[])
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        drop(child.stdout.take());
        let o = child.wait_with_output().unwrap();
        assert_eq!(o.status.code(), Some(0), "{args:?}: {}", text(&o));
        assert!(o.stderr.is_empty(), "{args:?}: {}", text(&o));
    }
    let _ = std::fs::remove_dir_all(&dir);
}

// ---- a full disk ----

/// A small tmpfs, filled while the run is under way: the run cannot write its reports, exits 2
/// saying why, and leaves the previous run and latest as they were. (Needs mount(2): root.)
#[test]
fn a_full_disk_leaves_the_previous_run_and_latest() {
    if !native() {
        return;
    }
    let dir = tmpdir("full-disk");
    let mounted = Command::new("mount")
        .args(["-t", "tmpfs", "-o", "size=512k", "kvm-conformance-test"])
        .arg(&dir)
        .output();
    if !mounted.as_ref().is_ok_and(|o| o.status.success()) {
        eprintln!("cannot mount a tmpfs here ({mounted:?}): the injected-failure unit test in harness/src/reports.rs covers this");
        return;
    }
    struct Unmount(PathBuf);
    impl Drop for Unmount {
        fn drop(&mut self) {
            let _ = Command::new("umount").arg("-l").arg(&self.0).status();
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }
    let _guard = Unmount(dir.clone());
    let before = previous_run(&dir);
    let junit_before = std::fs::read(dir.join("latest/junit.xml")).unwrap();

    // The whole selftest suite, its hanging case ended by a 2 s timeout: time to fill the disk.
    let mut runner = command(
        &[
            "-q",
            "--timeout",
            "2",
            "--report-dir",
            dir.to_str().unwrap(),
            "selftest::",
        ],
        &[("KVM_CONFORMANCE_SELFTEST", "1")],
    )
    .stdout(Stdio::null())
    .stderr(Stdio::piped())
    .spawn()
    .unwrap();
    wait_for_staging(&dir);
    let mut filler = std::fs::File::create(dir.join("filler")).unwrap();
    while filler.write_all(&[0u8; 4096]).is_ok() {}
    let _ = filler.sync_all();
    let status = wait_within(&mut runner, Duration::from_secs(60));
    let mut err = String::new();
    std::io::Read::read_to_string(&mut runner.stderr.take().unwrap(), &mut err).unwrap();
    assert_eq!(status.code(), Some(2), "{err}");
    let last = err.lines().last().unwrap_or_default();
    assert!(
        last.starts_with(&format!(
            "kvm-conformance: cannot write reports to {}: ",
            dir.display()
        )) && last.contains("No space left on device")
            && last.ends_with("; the previous reports and latest are unchanged"),
        "{err}"
    );
    assert_eq!(entries(&dir), [before.as_str(), "filler", "latest"]);
    assert_eq!(
        std::fs::read_link(dir.join("latest"))
            .unwrap()
            .to_string_lossy(),
        before
    );
    assert_eq!(
        std::fs::read(dir.join("latest/junit.xml")).unwrap(),
        junit_before
    );

    // Full from the start: refused before any case runs.
    let o = output_within(
        command(
            &[
                "-q",
                "--report-dir",
                dir.to_str().unwrap(),
                "--exact",
                "selftest::skips",
            ],
            &[("KVM_CONFORMANCE_SELFTEST", "1")],
        ),
        Duration::from_secs(30),
    );
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(2), "{err}");
    assert!(err.contains("No space left on device"), "{err}");
    assert_eq!(entries(&dir), [before.as_str(), "filler", "latest"]);
}

// ---- rerun lines ----

/// The `rerun:` lines of a failure block in the console output, in order.
fn rerun_lines(out: &str, id: &str) -> Vec<String> {
    let head = format!("---- {id} ----");
    let block: Vec<&str> = out
        .lines()
        .skip_while(|l| *l != head)
        .skip(1)
        .take_while(|l| !l.starts_with("---- ") && !l.starts_with("failures:"))
        .collect();
    block
        .iter()
        .filter_map(|l| l.trim_start().strip_prefix("rerun: "))
        .map(str::to_string)
        .collect()
}

/// Run a printed command as a user pasting it would: through the shell, in a clean environment
/// (none of the original run's variables), from the same directory.
fn paste(cmd: &str, report_dir: &Path) -> Output {
    let mut c = Command::new("sh");
    c.arg("-c")
        .arg(format!("{cmd} -q --report-dir {}", report_dir.display()))
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default());
    output_within(c, Duration::from_secs(120))
}

/// Host addresses (user buffers) differ from process to process: `0x` and ten or more hex
/// digits become `0x…`.
fn without_host_addresses(text: &str) -> String {
    let mut out = String::new();
    let mut rest = text;
    while let Some(at) = rest.find("0x") {
        out.push_str(&rest[..at]);
        let digits = rest[at + 2..]
            .chars()
            .take_while(char::is_ascii_hexdigit)
            .count();
        if digits >= 10 {
            out.push_str("0x…");
        } else {
            out.push_str(&rest[at..at + 2 + digits]);
        }
        rest = &rest[at + 2 + digits..];
    }
    out.push_str(rest);
    out
}

/// The failure message and body of one case in a report.
fn failure_of(dir: &Path, id: &str) -> (String, String) {
    for s in &junit(dir).test_suites {
        for c in &s.test_cases {
            if c.name.as_str() == id {
                if let TestCaseStatus::NonSuccess {
                    message,
                    description,
                    ..
                } = &c.status
                {
                    return (
                        without_host_addresses(message.as_ref().unwrap()),
                        without_host_addresses(description.as_ref().unwrap()),
                    );
                }
                panic!("{id} did not fail: {:?}", c.status);
            }
        }
    }
    panic!("{id} not in the report");
}

/// A failing table row and a failing property on the simulated kernel with a mutant, run with
/// a non-default proptest case count, timeout and machine and the self-test switch on: each
/// printed rerun command (every rerun line of the failure says the same) carries all of it, and
/// pasted into a clean shell it fails the same way. A self-test row needs the switch, so its
/// rerun line proves the environment is carried too.
#[test]
fn printed_rerun_commands_reproduce_the_failure() {
    let dir = tmpdir("rerun");
    let first = dir.join("first");
    let o = output_within(
        command(
            &[
                "--backend",
                "simulated",
                "--mutant",
                "set-skeys-accepts-bit0",
                "--timeout",
                "17",
                "--machine",
                "lab box 7",
                "--seed",
                "11",
                "--report-dir",
                first.to_str().unwrap(),
                "s390_skeys::",
            ],
            &[("PROPTEST_CASES", "9"), ("KVM_CONFORMANCE_SELFTEST", "1")],
        ),
        Duration::from_secs(300),
    );
    let out = text(&o);
    assert_eq!(o.status.code(), Some(1), "{out}");
    for id in [
        "s390_skeys::key::rejects_reserved_bit_alone",
        "s390_skeys::property::set_get_round_trip",
    ] {
        let lines = rerun_lines(&out, id);
        assert!(!lines.is_empty(), "{id}: no rerun line in {out}");
        let cmd = &lines[0];
        assert!(
            lines.iter().all(|l| l == cmd),
            "{id}: rerun lines differ: {lines:#?}"
        );
        for part in [
            "KVM_CONFORMANCE_SELFTEST=1 ",
            " --backend simulated --sim-kernel 7.2 --mutant set-skeys-accepts-bit0 ",
            " --machine 'lab box 7' ",
            " --proptest-cases 9 ",
            " --timeout 17 ",
            " --seed 11 ",
        ] {
            assert!(cmd.contains(part), "{id}: {part:?} missing from {cmd}");
        }
        assert!(cmd.ends_with(&format!(" --exact '{id}'")), "{cmd}");
        let again = dir.join(id.replace("::", "-"));
        let r = paste(cmd, &again);
        assert_eq!(r.status.code(), Some(1), "{cmd}: {}", text(&r));
        let st = statuses(&junit(&again));
        assert_eq!(st.len(), 1, "{st:?}");
        assert_eq!(failure_of(&again, id), failure_of(&first, id), "{cmd}");
        let props = |d: &Path| -> Vec<(String, String)> {
            junit(d).test_suites[0]
                .properties
                .iter()
                .filter(|p| p.name.as_str() != "hostname")
                .map(|p| (p.name.to_string(), p.value.to_string()))
                .collect()
        };
        assert_eq!(props(&again), props(&first), "{cmd}");
    }

    let first = dir.join("selftest");
    let o = output_within(
        command(
            &[
                "--report-dir",
                first.to_str().unwrap(),
                "selftest::wrong_expectation",
            ],
            &[("KVM_CONFORMANCE_SELFTEST", "1")],
        ),
        Duration::from_secs(60),
    );
    let out = text(&o);
    assert_eq!(
        o.status.code(),
        Some(if no_kvm(&out) { 2 } else { 1 }),
        "{out}"
    );
    let cmd = rerun_lines(&out, "selftest::wrong_expectation")
        .into_iter()
        .next()
        .unwrap_or_else(|| panic!("{out}"));
    let again = dir.join("selftest-again");
    let r = paste(&cmd, &again);
    assert_eq!(r.status.code(), o.status.code(), "{cmd}: {}", text(&r));
    assert_eq!(
        failure_of(&again, "selftest::wrong_expectation"),
        failure_of(&first, "selftest::wrong_expectation")
    );
    let _ = std::fs::remove_dir_all(&dir);
}

// ---- what the reports carry ----

/// The slow case marked ignored is in both reports, skipped with the reason; JUnit names the
/// host; KTAP keeps a panicking case's backtrace as JUnit's system-out does.
#[test]
fn reports_carry_ignored_cases_the_hostname_and_backtraces() {
    let dir = tmpdir("carry");
    let o = output_within(
        command(
            &[
                "-q",
                "--report-dir",
                dir.to_str().unwrap(),
                "--skip",
                "hangs",
                "selftest::",
            ],
            &[("KVM_CONFORMANCE_SELFTEST", "1")],
        ),
        Duration::from_secs(60),
    );
    assert!(matches!(o.status.code(), Some(1 | 2)), "{}", text(&o));
    let xml = std::fs::read_to_string(dir.join("latest/junit.xml")).unwrap();
    let host = std::fs::read_to_string("/proc/sys/kernel/hostname").unwrap();
    assert!(
        xml.contains(&format!("hostname=\"{}\"", host.trim())),
        "{}",
        &xml[..xml.len().min(600)]
    );
    schema_valid(&dir.join("latest/junit.xml"));
    let ktap = std::fs::read_to_string(dir.join("latest/results.ktap")).unwrap();
    let report = junit(&dir);
    let panics = report.test_suites[0]
        .test_cases
        .iter()
        .find(|c| c.name.as_str() == "selftest::panics")
        .unwrap();
    let system_out = panics.system_out.as_ref().unwrap().to_string();
    for want in ["deliberate panic", "stack backtrace:"] {
        assert!(
            system_out.contains(want),
            "JUnit: {want:?} missing: {system_out}"
        );
    }
    let block: Vec<&str> = ktap
        .lines()
        .skip_while(|l| !l.contains("# error: the case panicked: deliberate panic"))
        .take_while(|l| !l.contains("selftest::panics"))
        .collect();
    let block = block.join("\n");
    assert!(block.contains("    # output:"), "{ktap}");
    for line in system_out.lines().filter(|l| !l.trim().is_empty()).take(8) {
        assert!(
            block.contains(&format!("    #   {line}")),
            "KTAP lacks {line:?}:\n{block}"
        );
    }

    let dir = tmpdir("ignored");
    let o = output_within(
        command(
            &[
                "-q",
                "--report-dir",
                dir.to_str().unwrap(),
                "ioeventfd::stress::",
            ],
            &[],
        ),
        Duration::from_secs(60),
    );
    let out = text(&o);
    assert_eq!(
        o.status.code(),
        Some(if no_kvm(&out) { 2 } else { 0 }),
        "{out}"
    );
    const WHY: &str = "not run by default (a slow case marked ignored); --include-ignored runs it";
    let st = statuses(&junit(&dir));
    assert_eq!(
        st,
        [(
            "ioeventfd::stress::toggle_while_guest_writes_and_memslots_reload".to_string(),
            "skip",
            WHY.to_string()
        )]
    );
    let ktap = std::fs::read_to_string(dir.join("latest/results.ktap")).unwrap();
    assert!(
        ktap.contains(&format!(
            "ok 1 ioeventfd::stress::toggle_while_guest_writes_and_memslots_reload # SKIP {WHY}\n"
        )),
        "{ktap}"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

/// KVM_CONFORMANCE_DEVICE set but empty is the default device; a device node that is not KVM
/// gives a "no KVM" line that names it.
#[test]
fn an_empty_device_variable_is_the_default_and_no_kvm_names_the_device() {
    let run = |env: &[(&str, &str)]| {
        let o = output_within(
            command(
                &["-q", "--no-reports", "--exact", "ioeventfd::len::accepts_1"],
                env,
            ),
            Duration::from_secs(60),
        );
        let out = text(&o);
        (
            o.status.code(),
            out.lines()
                .find(|l| l.starts_with("no KVM: "))
                .map(str::to_string),
        )
    };
    assert_eq!(run(&[("KVM_CONFORMANCE_DEVICE", "")]), run(&[]));
    let (code, line) = run(&[("KVM_CONFORMANCE_DEVICE", "/dev/null")]);
    assert_eq!(code, Some(2));
    let line = line.unwrap();
    assert!(
        line.starts_with("no KVM: /dev/null: KVM_GET_API_VERSION: "),
        "{line}"
    );
}
