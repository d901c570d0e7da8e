//! A case server: a copy of the program, started once per worker with `--case-server`, that has
//! already parsed the command line, opened KVM and built every case, and forks one process per
//! case. A case thus still runs in a process of its own, with its own VM, in its own process
//! group, under the runner's timeout, but costs a fork instead of a start of the program.
//!
//! The server is one thread (the fork refuses otherwise) and talks to its worker over a
//! SOCK_SEQPACKET socket on its stdin, one message per frame:
//!
//! ```text
//! runner -> server   R<case id>          run this case (taken by the waiting case process)
//! server -> runner   P<pid>              the case process started (its pid = its group; sent
//!                                        by that process)
//!                    O<bytes>            what it wrote on stdout/stderr, in order
//!                    X<c code|s signal>  it ended (not yet reaped: the group id stays valid
//!                                        until the runner's next frame or the end)
//!                    E<reason>           it could not be started (from the server, or the
//!                                        waiting case process for an unknown id)
//! ```
//!
//! A dead server costs only the case it was running; the worker starts a new one.

use crate::case::{Case, CaseContext, ForkFn, RunPlan};
use crate::cli::HarnessArgs;
use nix::sys::signal::Signal;
use nix::sys::socket::{recv, send, socketpair, AddressFamily, MsgFlags, SockFlag, SockType};
use nix::sys::wait::{waitid, waitpid, Id, WaitPidFlag, WaitStatus};
use nix::unistd::{getpid, getppid, pipe2, setpgid, Pid};
use std::collections::HashMap;
use std::io::Read;
use std::os::fd::{AsFd, AsRawFd, OwnedFd};
use std::process::{Child, Stdio};
use std::time::{Duration, Instant};

/// The largest frame: an output chunk plus its tag.
const FRAME_MAX: usize = 64 * 1024;

/// How a case process ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Exit {
    Code(i32),
    Signal(i32),
}

#[derive(Debug, PartialEq, Eq)]
enum Frame<'a> {
    Run(&'a str),
    Started(u32),
    Output(&'a [u8]),
    Ended(Exit),
    Refused(&'a str),
}

impl Frame<'_> {
    fn encode(&self) -> Vec<u8> {
        let (tag, body): (u8, Vec<u8>) = match self {
            Frame::Run(id) => (b'R', id.as_bytes().to_vec()),
            Frame::Started(pid) => (b'P', pid.to_string().into_bytes()),
            Frame::Output(b) => (b'O', b.to_vec()),
            Frame::Ended(Exit::Code(c)) => (b'X', format!("c{c}").into_bytes()),
            Frame::Ended(Exit::Signal(s)) => (b'X', format!("s{s}").into_bytes()),
            Frame::Refused(why) => (b'E', why.as_bytes().to_vec()),
        };
        let mut f = Vec::with_capacity(body.len() + 1);
        f.push(tag);
        f.extend(body);
        f
    }

    fn decode(f: &[u8]) -> Option<Frame<'_>> {
        let (&tag, body) = f.split_first()?;
        let text = || std::str::from_utf8(body).ok();
        let number = |s: &str| s.parse::<i32>().ok();
        Some(match tag {
            b'R' => Frame::Run(text()?),
            b'P' => Frame::Started(text()?.parse().ok()?),
            b'O' => Frame::Output(body),
            b'X' => match text()?.split_at_checked(1)? {
                ("c", n) => Frame::Ended(Exit::Code(number(n)?)),
                ("s", n) => Frame::Ended(Exit::Signal(number(n)?)),
                _ => return None,
            },
            b'E' => Frame::Refused(text()?),
            _ => return None,
        })
    }
}

fn send_frame(fd: &impl AsRawFd, frame: &Frame) -> nix::Result<()> {
    send(fd.as_raw_fd(), &frame.encode(), MsgFlags::MSG_NOSIGNAL).map(|_| ())
}

// ---- the server ----

/// How a standby that ended without a case ended (its exit code).
const STANDBY_SERVER_GONE: u8 = 1;
const STANDBY_NOT_WIRED: u8 = 2;
const STANDBY_WORKER_DONE: u8 = 10;
const STANDBY_REFUSED: u8 = 11;
const STANDBY_UNREADABLE: u8 = 12;

/// `--case-server`: serve the worker on stdin until it closes the socket.
pub(crate) fn serve(plan: &RunPlan, ctx: &CaseContext) -> Result<(), String> {
    let fork = plan
        .fork
        .ok_or("--case-server: this program does not provide a fork")?;
    crate::interrupt::tie_to_runner()?;
    crate::child::capture_panics();
    let cases: HashMap<&str, &Case> = plan.cases.iter().map(|c| (c.id.as_str(), c)).collect();
    let socket = std::io::stdin();
    // The case process that ended last, reaped once the worker has sent its next request (it
    // has killed and forgotten the group by then) or closed the socket.
    let mut ended: Option<Pid> = None;
    let reap = |ended: &mut Option<Pid>| {
        if let Some(pid) = ended.take() {
            let _ = waitpid(pid, None);
        }
    };
    // One buffer for every output frame, made before the first fork: the server then writes
    // only the pages a frame needs (each page it writes after a fork is a copy-on-write fault).
    let mut out = vec![0u8; FRAME_MAX];
    // The next case's process, forked before its request comes: it takes the request from the
    // socket itself (the case starts one wake-up sooner than if this server took it) and says
    // so; the server then forks the one after while the case runs (on another core).
    let mut standby = Standby::fork(fork, &cases, ctx);
    loop {
        let s = match standby {
            Ok(s) => s,
            Err(why) => {
                // No process for the next request: answer it with the reason, then try again.
                let n = recv(socket.as_raw_fd(), &mut out, MsgFlags::empty());
                reap(&mut ended);
                match n {
                    Ok(0) => return Ok(()),
                    Ok(_) => send_frame(&socket, &Frame::Refused(&why))
                        .map_err(|e| format!("case server: send: {e}"))?,
                    Err(nix::errno::Errno::EINTR) => {}
                    Err(e) => return Err(format!("case server: recv: {e}")),
                }
                standby = Standby::fork(fork, &cases, ctx);
                continue;
            }
        };
        let pid = s.pid;
        match s.taken() {
            Some(output) => {
                reap(&mut ended);
                standby = Standby::fork(fork, &cases, ctx);
                relay(&socket, pid, output, &mut out)
                    .map_err(|e| format!("case server: send: {e}"))?;
                ended = Some(pid);
            }
            None => {
                // It ended without a case: the worker's request said why.
                let status = waitpid(pid, None);
                reap(&mut ended);
                match status {
                    Ok(WaitStatus::Exited(_, c)) if c == i32::from(STANDBY_WORKER_DONE) => {
                        return Ok(())
                    }
                    Ok(WaitStatus::Exited(_, c)) if c == i32::from(STANDBY_REFUSED) => {}
                    Ok(WaitStatus::Exited(_, c)) if c == i32::from(STANDBY_UNREADABLE) => {
                        return Err("case server: unreadable request".into())
                    }
                    other => {
                        return Err(format!(
                            "case server: a case process ended before it took a case: {other:?}"
                        ))
                    }
                }
                standby = Standby::fork(fork, &cases, ctx);
            }
        }
    }
}

/// A forked case process that takes the worker's next request from the socket, says which
/// process runs it (its pid, also its process group) and runs it: its own process group, dead
/// with the server, stdout and stderr into the output pipe whose read end the server keeps.
struct Standby {
    pid: Pid,
    output: OwnedFd,
    /// One byte when it has taken a case; EOF when it ended without one.
    taken: std::fs::File,
}

impl Standby {
    fn fork(
        fork: ForkFn,
        cases: &HashMap<&str, &Case>,
        ctx: &CaseContext,
    ) -> Result<Standby, String> {
        let (read, write) =
            pipe2(nix::fcntl::OFlag::O_CLOEXEC).map_err(|e| format!("pipe for the output: {e}"))?;
        let (taken_read, taken_write) = pipe2(nix::fcntl::OFlag::O_CLOEXEC)
            .map_err(|e| format!("pipe for the hand-over: {e}"))?;
        let server = getpid();
        let mut case_process = || -> u8 {
            let _ = setpgid(Pid::from_raw(0), Pid::from_raw(0));
            if nix::sys::prctl::set_pdeathsig(Signal::SIGKILL).is_err() || getppid() != server {
                return STANDBY_SERVER_GONE;
            }
            // The worker's socket, kept apart from stdin: the request comes from it.
            let Ok(socket) = std::io::stdin().as_fd().try_clone_to_owned() else {
                return STANDBY_NOT_WIRED;
            };
            let null = std::fs::File::open("/dev/null");
            let wired = nix::unistd::dup2_stdout(&write)
                .and_then(|()| nix::unistd::dup2_stderr(&write))
                .map_err(std::io::Error::from)
                .and_then(|()| null.map(|n| nix::unistd::dup2_stdin(&n)))
                .is_ok();
            if !wired {
                return STANDBY_NOT_WIRED;
            }
            // A request is a case id: far below a page (a longer one would be cut short, and
            // then name no case).
            let mut request = [0u8; 4096];
            let n = loop {
                match recv(socket.as_raw_fd(), &mut request, MsgFlags::empty()) {
                    Err(nix::errno::Errno::EINTR) => {}
                    Ok(0) | Err(_) => return STANDBY_WORKER_DONE,
                    Ok(n) => break n,
                }
            };
            let Some(Frame::Run(id)) = Frame::decode(&request[..n]) else {
                return STANDBY_UNREADABLE;
            };
            let Some(case) = cases.get(id) else {
                let _ = send_frame(&socket, &Frame::Refused(&format!("no case with id {id}")));
                return STANDBY_REFUSED;
            };
            if send_frame(&socket, &Frame::Started(getpid().as_raw() as u32)).is_err() {
                return STANDBY_WORKER_DONE;
            }
            // Only the server talks to the worker from here on; the case cannot touch it.
            drop(socket);
            if nix::unistd::write(&taken_write, b"T").is_err() {
                return STANDBY_SERVER_GONE;
            }
            crate::child::run_and_report(case, ctx);
            0
        };
        let pid = Pid::from_raw(fork(&mut case_process)? as i32);
        // Also here: the runner may kill the group before the child has made it.
        let _ = setpgid(pid, pid);
        drop(write); // EOF must come when the case's processes are gone
        drop(taken_write); // EOF when the standby ends without a case
        Ok(Standby {
            pid,
            output: read,
            taken: std::fs::File::from(taken_read),
        })
    }

    /// Wait until it has taken a case (the read end of its output) or ended without one.
    fn taken(mut self) -> Option<OwnedFd> {
        let mut byte = [0u8; 1];
        loop {
            match self.taken.read(&mut byte) {
                Ok(1) => return Some(self.output),
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                _ => return None,
            }
        }
    }
}

/// Pass on the case's output (gathered in `frame` behind the output tag, a frame sent when
/// full and the rest at EOF, so the worker wakes once for a case's few lines, not per write),
/// then say how the process ended.
fn relay(socket: &impl AsRawFd, pid: Pid, output: OwnedFd, frame: &mut [u8]) -> nix::Result<()> {
    let mut output = std::fs::File::from(output);
    let send_output = |frame: &[u8]| send(socket.as_raw_fd(), frame, MsgFlags::MSG_NOSIGNAL);
    frame[0] = b'O';
    let mut len = 1;
    loop {
        if len == frame.len() {
            send_output(frame)?;
            len = 1;
        }
        match output.read(&mut frame[len..]) {
            Ok(0) => break,
            Ok(n) => len += n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(_) => break,
        }
    }
    if len > 1 {
        send_output(&frame[..len])?;
    }
    // Not reaped yet (WNOWAIT): the runner still kills the group by this id.
    let exit = loop {
        match waitid(Id::Pid(pid), WaitPidFlag::WEXITED | WaitPidFlag::WNOWAIT) {
            Ok(WaitStatus::Exited(_, c)) => break Exit::Code(c),
            Ok(WaitStatus::Signaled(_, s, _)) => break Exit::Signal(s as i32),
            Err(nix::errno::Errno::EINTR) | Ok(_) => {}
            Err(_) => break Exit::Code(-1),
        }
    };
    send_frame(socket, &Frame::Ended(exit))
}

// ---- the runner's side ----

/// What a case process left: its output and how it ended.
pub(crate) struct Finished {
    pub output: Vec<u8>,
    pub exit: Exit,
    pub timed_out: bool,
}

/// Why a server could not run a case.
#[derive(Debug)]
pub(crate) enum ServerError {
    /// The server cannot start cases at all (it could not start, or refuses to fork): start
    /// each case as a program of its own instead.
    Unavailable(String),
    /// The server died while the case ran: the case's result is lost, the next case gets a
    /// new server.
    Lost(String),
}

/// One worker's case server.
pub(crate) struct CaseServer {
    socket: OwnedFd,
    process: Child,
}

impl CaseServer {
    /// Start the program again as a case server, with this run's arguments and seed.
    pub(crate) fn start(args: &HarnessArgs, ctx: &CaseContext) -> Result<Self, ServerError> {
        let unavailable = |e: &dyn std::fmt::Display| ServerError::Unavailable(e.to_string());
        let (ours, theirs) = socketpair(
            AddressFamily::Unix,
            SockType::SeqPacket,
            None,
            SockFlag::SOCK_CLOEXEC,
        )
        .map_err(|e| unavailable(&e))?;
        // Its own process group: a Ctrl-C on the terminal is the runner's to handle.
        let mut cmd = crate::launch::case_program(args, ctx, &["--case-server"])
            .map_err(|e| unavailable(&e))?;
        cmd.stdin(Stdio::from(theirs))
            .stdout(Stdio::null())
            .stderr(Stdio::inherit());
        let process = cmd.spawn().map_err(|e| unavailable(&e))?;
        drop(cmd);
        Ok(CaseServer {
            socket: ours,
            process,
        })
    }

    /// Run one case under `timeout`: a case still running then is killed with its group, and
    /// what it wrote until then comes back.
    pub(crate) fn run(&mut self, case: &Case, timeout: Duration) -> Result<Finished, ServerError> {
        let lost = |what: String| ServerError::Lost(what);
        send_frame(&self.socket, &Frame::Run(&case.id))
            .map_err(|e| ServerError::Unavailable(format!("the case server is gone ({e})")))?;
        let mut pid = None;
        let mut output = Vec::new();
        let mut timed_out = false;
        let mut deadline = Instant::now() + timeout;
        let mut frame = vec![0u8; FRAME_MAX];
        let result = loop {
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                match (pid, timed_out) {
                    (Some(p), false) => {
                        // The group goes; the server then reports the end.
                        timed_out = true;
                        crate::interrupt::kill_group(p);
                        deadline = Instant::now() + Duration::from_secs(5);
                        continue;
                    }
                    _ => break Err(lost("the case server stopped answering".into())),
                }
            }
            let wait =
                nix::poll::PollTimeout::try_from(left).unwrap_or(nix::poll::PollTimeout::MAX);
            let mut fds = [nix::poll::PollFd::new(
                self.socket.as_fd(),
                nix::poll::PollFlags::POLLIN,
            )];
            match nix::poll::poll(&mut fds, wait) {
                Ok(0) | Err(nix::errno::Errno::EINTR) => continue,
                Ok(_) => {}
                Err(e) => break Err(lost(format!("poll: {e}"))),
            }
            let n = match recv(self.socket.as_raw_fd(), &mut frame, MsgFlags::empty()) {
                Ok(0) => break Err(lost("the case server ended".into())),
                Ok(n) => n,
                Err(nix::errno::Errno::EINTR) => continue,
                Err(e) => break Err(lost(format!("recv: {e}"))),
            };
            match Frame::decode(&frame[..n]) {
                Some(Frame::Started(p)) => {
                    pid = Some(p);
                    if !crate::interrupt::track(p) {
                        crate::interrupt::kill_group(p); // a signal came meanwhile
                    }
                }
                Some(Frame::Output(b)) => output.extend_from_slice(b),
                Some(Frame::Ended(exit)) => {
                    break Ok(Finished {
                        output,
                        exit,
                        timed_out,
                    })
                }
                Some(Frame::Refused(why)) if pid.is_none() => {
                    break Err(ServerError::Unavailable(why.to_string()))
                }
                _ => break Err(lost("the case server sent an unreadable frame".into())),
            }
        };
        if let Some(p) = pid {
            // Whatever the case left running in its group goes with it; the server reaps the
            // process only after this (on the next frame), so the group id is still the case's.
            crate::interrupt::kill_group(p);
            crate::interrupt::forget(p);
        }
        if result.is_err() {
            let _ = self.process.kill();
        }
        result
    }
}

impl Drop for CaseServer {
    fn drop(&mut self) {
        // Closing the socket ends the server; it has nothing left worth waiting for.
        let _ = self.process.kill();
        let _ = self.process.wait();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frames_round_trip() {
        for f in [
            Frame::Run("a::b::c"),
            Frame::Started(4242),
            Frame::Output(b"some\0bytes"),
            Frame::Ended(Exit::Code(0)),
            Frame::Ended(Exit::Code(-1)),
            Frame::Ended(Exit::Signal(9)),
            Frame::Refused("fork refused"),
        ] {
            assert_eq!(Frame::decode(&f.encode()), Some(f));
        }
        assert_eq!(Frame::decode(b""), None);
        assert_eq!(Frame::decode(b"Pnot a pid"), None);
        assert_eq!(Frame::decode(b"Xq1"), None);
    }
}
