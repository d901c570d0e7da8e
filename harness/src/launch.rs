//! Running one case from the runner's side: in a fork of the worker's case server (the
//! default), in a new start of the program (`--child-runner`, or where no server can fork), or
//! in this process (`--in-process`). Whichever way, the case's output and result come back the
//! same, and a crash, a hang or a lost server costs only the case it hit.

use crate::case::{Case, CaseContext};
use crate::case_server::{CaseServer, Exit, Finished, ServerError};
use crate::cli::HarnessArgs;
use crate::result::{CaseReport, NotRun};
use std::io::Read;
use std::os::unix::process::CommandExt;
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

/// The program again for a case process (`role`: `--child-case ID` or `--case-server`): this
/// run's arguments, its seed and proptest case count, through `--child-runner` when there is
/// one, in a process group of its own, told which runner started it.
pub(crate) fn case_program(
    args: &HarnessArgs,
    ctx: &CaseContext,
    role: &[&str],
) -> std::io::Result<Command> {
    let exe = std::env::current_exe()?;
    let mut cmd = match &args.child_runner {
        Some(runner) => {
            let mut parts = runner.split_whitespace();
            let mut c = Command::new(parts.next().unwrap_or("env"));
            c.args(parts).arg(&exe);
            c
        }
        None => Command::new(&exe),
    };
    cmd.args(std::env::args_os().skip(1))
        .args(role)
        .arg("--seed")
        .arg(ctx.seed.to_string())
        .env(
            crate::interrupt::RUNNER_PID_ENV,
            std::process::id().to_string(),
        )
        .process_group(0);
    if let Some(n) = ctx.proptest_cases {
        cmd.arg("--proptest-cases").arg(n.to_string());
    }
    Ok(cmd)
}

enum Way {
    InProcess,
    /// A new start of the program per case.
    Exec,
    /// A fork of the case server per case (None until the first case, or after one was lost).
    Server(Option<CaseServer>),
}

/// One worker's way of running cases.
pub(crate) struct Launcher<'a> {
    args: &'a HarnessArgs,
    ctx: CaseContext,
    way: Way,
}

impl<'a> Launcher<'a> {
    /// `server`: one already started for this worker (`runner::start_early`).
    pub(crate) fn new(
        args: &'a HarnessArgs,
        ctx: CaseContext,
        can_fork: bool,
        server: Option<CaseServer>,
    ) -> Self {
        let way = if args.in_process {
            Way::InProcess
        } else if can_fork {
            Way::Server(server)
        } else {
            Way::Exec
        };
        Launcher { args, ctx, way }
    }

    /// Run the case: its result, what it printed, and whether a signal kept it from running to
    /// its end (its result is then a skip saying so).
    pub(crate) fn run(&mut self, case: &Case) -> (CaseReport, String, Option<NotRun>) {
        let timeout = Duration::from_secs(self.args.timeout);
        let finished = match &mut self.way {
            Way::InProcess => {
                return (crate::child::run_body(case, &self.ctx), String::new(), None)
            }
            Way::Exec => exec_case(self.args, case, &self.ctx, timeout),
            Way::Server(server) => {
                let started = match server.take() {
                    Some(s) => Ok(s),
                    None => CaseServer::start(self.args, &self.ctx),
                };
                match started.and_then(|mut s| s.run(case, timeout).map(|f| (s, f))) {
                    Ok((s, f)) => {
                        *server = Some(s);
                        Ok(f)
                    }
                    Err(ServerError::Lost(why)) => Err(Launch::Lost(why)),
                    Err(ServerError::Unavailable(why)) => {
                        // Said once per worker; the run goes on a start of the program per case.
                        crate::output::fail_line(&format!(
                            "case server: {why}; starting the program once per case instead"
                        ));
                        self.way = Way::Exec;
                        exec_case(self.args, case, &self.ctx, timeout)
                    }
                }
            }
        };
        judge(finished, self.args.timeout)
    }
}

/// Why a case process did not leave its result.
enum Launch {
    /// A signal stopped the run before the case started.
    Interrupted,
    /// The process could not start.
    Spawn(std::io::Error),
    /// The case server died while the case ran.
    Lost(String),
}

/// The case's report from what its process left.
fn judge(finished: Result<Finished, Launch>, timeout: u64) -> (CaseReport, String, Option<NotRun>) {
    let f = match finished {
        Ok(f) => f,
        Err(Launch::Interrupted) => return interrupted_before_start(),
        Err(Launch::Lost(_)) if crate::interrupt::interrupted().is_some() => {
            // The runner killed its process on the signal (or its server on the way out).
            return interrupted_before_start();
        }
        Err(Launch::Spawn(e)) => {
            let hint = if e.raw_os_error() == Some(nix::libc::ENOEXEC) {
                " (running under an emulator without binfmt_misc? use --in-process or --child-runner)"
            } else {
                ""
            };
            let why = format!("cannot start the case's child process: {e}{hint}");
            return (CaseReport::error(why), String::new(), None);
        }
        Err(Launch::Lost(why)) => {
            let why = format!("the case's process was lost: {why}");
            return (CaseReport::error(why), String::new(), None);
        }
    };
    let (printed, result) = crate::child::split_output(&f.output);
    if let (None, Some(sig)) = (&result, crate::interrupt::interrupted()) {
        // Killed by the runner on the signal: not judged, like the cases not started.
        let why = format!("{} (stopped while it ran)", crate::interrupt::reason(sig));
        return (CaseReport::skip(why), printed, Some(NotRun::Interrupted));
    }
    if f.timed_out {
        let why = format!("timed out after {timeout} s and was killed");
        return (CaseReport::error(why), printed, None);
    }
    let report = match result {
        Some(Ok(r)) => r,
        Some(Err(e)) => CaseReport::error(format!("unreadable result from the child process: {e}")),
        None => CaseReport::error(describe_exit(f.exit)),
    };
    (report, printed, None)
}

/// The result of a case that a signal kept from running: a skip saying so.
fn interrupted_before_start() -> (CaseReport, String, Option<NotRun>) {
    let why = crate::interrupt::interrupted()
        .map(crate::interrupt::reason)
        .unwrap_or_else(|| "run interrupted".into());
    (
        CaseReport::skip(why),
        String::new(),
        Some(NotRun::Interrupted),
    )
}

fn describe_exit(exit: Exit) -> String {
    match exit {
        Exit::Signal(sig) => {
            let name = nix::sys::signal::Signal::try_from(sig)
                .map(|s| s.as_str())
                .unwrap_or("?");
            format!("crashed: killed by signal {sig} ({name}) before reporting a result")
        }
        Exit::Code(code) => format!("exited with status {code} before reporting a result"),
        // (The server says Reported only with a result line there.)
        Exit::Reported => "ended without a readable result".into(),
    }
}

/// A new start of the program for the case (`--child-case ID`), in a process group of its own;
/// its merged stdout/stderr is collected under the timeout, and its whole group is killed when
/// it ends.
fn exec_case(
    args: &HarnessArgs,
    case: &Case,
    ctx: &CaseContext,
    timeout: Duration,
) -> Result<Finished, Launch> {
    let spawned = (|| -> std::io::Result<_> {
        let (rd, wr) = nix::unistd::pipe2(nix::fcntl::OFlag::O_CLOEXEC)?;
        let mut cmd = case_program(args, ctx, &["--child-case", &case.id])?;
        cmd.stdin(Stdio::null())
            .stdout(Stdio::from(wr.try_clone()?))
            .stderr(Stdio::from(wr));
        let child = crate::interrupt::spawn(&mut cmd)?;
        drop(cmd); // our copies of the pipe's write end: EOF must come when the child exits
        Ok(child.map(|c| (c, rd)))
    })();
    let (mut child, rd) = match spawned {
        Ok(Some(x)) => x,
        Ok(None) => return Err(Launch::Interrupted), // only a signal keeps a case from starting
        Err(e) => return Err(Launch::Spawn(e)),
    };
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let mut buf = Vec::new();
        let _ = std::fs::File::from(rd).read_to_end(&mut buf);
        let _ = tx.send(buf);
    });
    let (output, timed_out) = match rx.recv_timeout(timeout) {
        Ok(out) => (out, false),
        Err(_) => {
            crate::interrupt::kill_group(child.id());
            let rest = rx.recv_timeout(Duration::from_secs(5)).unwrap_or_default();
            (rest, true)
        }
    };
    // Whatever the case left running in its group goes with it.
    crate::interrupt::kill_group(child.id());
    crate::interrupt::forget(child.id());
    let exit = match child.wait() {
        Ok(status) => {
            use std::os::unix::process::ExitStatusExt;
            match (status.code(), status.signal()) {
                (_, Some(sig)) => Exit::Signal(sig),
                (Some(code), _) => Exit::Code(code),
                _ => Exit::Code(-1),
            }
        }
        Err(e) => return Err(Launch::Lost(format!("wait: {e}"))),
    };
    Ok(Finished {
        output,
        exit,
        timed_out,
    })
}
