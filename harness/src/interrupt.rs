//! Interrupted runs and the case processes' lifetime.
//!
//! SIGINT, SIGTERM and SIGHUP are blocked in the thread that starts the run, before it starts
//! any other, so every thread of the runner inherits the block; one watcher thread takes them
//! with sigwait(2) (no signal handler, so nothing has to be async-signal-safe). The first
//! signal kills every running case's process group and makes the runner stop starting cases:
//! the run then reports what did not run and writes complete reports. A second one kills the
//! groups again and ends the process at once. (std's `Command` gives every child an empty
//! signal mask, so the case processes get the signals as usual.)
//!
//! Each case process runs in a process group of its own (its pid is the group id), so the
//! runner can kill a case together with anything it forked; and it asks for SIGKILL when its
//! parent dies: a case server and a case started with `--child-case` through `tie_to_runner`,
//! a case forked by a server in `case_server`; so no case outlives a runner killed with SIGKILL.
//! A case server is in a group of its own too, but is not listed: a signal kills the cases,
//! and the servers end when their workers close the socket.

use nix::errno::Errno;
use nix::sys::signal::{kill, killpg, SigSet, Signal};
use nix::unistd::Pid;
use std::path::PathBuf;
use std::process::{Child, Command};
use std::sync::atomic::{AtomicI32, Ordering};
use std::sync::{Mutex, MutexGuard, OnceLock, PoisonError};

/// The environment variable that tells a case process which runner started it.
pub(crate) const RUNNER_PID_ENV: &str = "HARNESS_RUNNER_PID";

const SIGNALS: [Signal; 3] = [Signal::SIGINT, Signal::SIGTERM, Signal::SIGHUP];

/// The first signal that came (0: none).
static SIGNAL: AtomicI32 = AtomicI32::new(0);
/// Process groups of the case processes running now.
static GROUPS: Mutex<Vec<i32>> = Mutex::new(Vec::new());
/// The report directory being written, removed by a second signal (it would stay incomplete).
static STAGING: Mutex<Option<PathBuf>> = Mutex::new(None);

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

fn signal_set() -> SigSet {
    let mut set = SigSet::empty();
    for s in SIGNALS {
        set.add(s);
    }
    set
}

/// Take the three signals for this run: block them in the calling thread (and so in every
/// thread it starts from now on) and start the watcher once per process. Without a watcher
/// (the thread could not start) nothing is blocked: the signals then end the process as usual.
pub(crate) fn watch() {
    static WATCHER: OnceLock<bool> = OnceLock::new();
    SIGNAL.store(0, Ordering::SeqCst);
    let set = signal_set();
    let _ = set.thread_block();
    // The watcher inherits the block: sigwait takes a signal only while it is blocked.
    let started = *WATCHER.get_or_init(|| {
        std::thread::Builder::new()
            .name("signals".into())
            .spawn(move || {
                while let Ok(sig) = set.wait() {
                    on_signal(sig);
                }
            })
            .is_ok()
    });
    if !started {
        let _ = set.thread_unblock();
    }
}

fn on_signal(sig: Signal) {
    let first = SIGNAL
        .compare_exchange(0, sig as i32, Ordering::SeqCst, Ordering::SeqCst)
        .is_ok();
    kill_all_groups();
    if first {
        crate::output::fail_line(&format!(
            "{sig}: stopping the cases and writing the reports \
             (another signal ends the run at once, without reports)"
        ));
    } else {
        if let Some(dir) = lock(&STAGING).take() {
            let _ = std::fs::remove_dir_all(dir);
        }
        crate::output::fail_line(&format!(
            "{sig} again: ending at once; no reports written, latest unchanged"
        ));
        std::process::exit(128 + sig as i32);
    }
}

/// The signal that interrupted this run, if one did.
pub fn interrupted() -> Option<Signal> {
    match SIGNAL.load(Ordering::SeqCst) {
        0 => None,
        n => Signal::try_from(n).ok(),
    }
}

/// The words a report uses for an interrupted run: "run interrupted by SIGTERM".
pub(crate) fn reason(sig: Signal) -> String {
    format!("run interrupted by {sig}")
}

/// Start a case process, unless the run was interrupted (then `Ok(None)`). The check and the
/// start happen under the lock the watcher kills under, so no process escapes a signal.
pub(crate) fn spawn(cmd: &mut Command) -> std::io::Result<Option<Child>> {
    let mut groups = lock(&GROUPS);
    if interrupted().is_some() {
        return Ok(None);
    }
    let child = cmd.spawn()?;
    groups.push(child.id() as i32);
    Ok(Some(child))
}

/// A case process started by a case server: list its group for the signal watcher, unless the
/// run was interrupted meanwhile (then false: the caller kills it).
pub(crate) fn track(pid: u32) -> bool {
    let mut groups = lock(&GROUPS);
    if interrupted().is_some() {
        return false;
    }
    groups.push(pid as i32);
    true
}

/// Kill a case's whole process group (the case and whatever it forked).
pub(crate) fn kill_group(pid: u32) {
    let _ = killpg(Pid::from_raw(pid as i32), Signal::SIGKILL);
}

/// The case process has ended (or been killed): take its group off the list. Call it before
/// reaping the process, so the group id cannot have been reused while it is listed.
pub(crate) fn forget(pid: u32) {
    lock(&GROUPS).retain(|&g| g != pid as i32);
}

fn kill_all_groups() {
    for &g in lock(&GROUPS).iter() {
        let _ = killpg(Pid::from_raw(g), Signal::SIGKILL);
    }
}

/// The incomplete report directory a second signal removes (None once it is published).
pub(crate) fn set_staging(dir: Option<PathBuf>) {
    *lock(&STAGING) = dir;
}

/// The case process's side: die with the runner. PR_SET_PDEATHSIG asks for SIGKILL when the
/// parent goes; the runner may already have gone before that call, which getppid() then shows
/// (the process was re-parented). Under a `--child-runner` that forks, the parent is that
/// runner command, which is fine while the runner itself is alive.
pub(crate) fn tie_to_runner() -> Result<(), String> {
    let Some(runner) = std::env::var(RUNNER_PID_ENV)
        .ok()
        .and_then(|p| p.parse::<i32>().ok())
    else {
        return Ok(()); // started by hand, not by a runner
    };
    nix::sys::prctl::set_pdeathsig(Signal::SIGKILL)
        .map_err(|e| format!("prctl(PR_SET_PDEATHSIG): {e}"))?;
    let runner = Pid::from_raw(runner);
    if nix::unistd::getppid() != runner && kill(runner, None) == Err(Errno::ESRCH) {
        return Err(format!("the runner (pid {runner}) is gone"));
    }
    Ok(())
}
