//! A case server: a copy of the program, started once per worker with `--case-server`, that has
//! already parsed the command line, opened KVM and built every case, and forks one process per
//! case. A case thus still runs in a process of its own, with its own VM, in its own process
//! group, under the runner's timeout, but costs a fork instead of a start of the program.
//!
//! The server is one thread (the fork refuses otherwise) and talks to its worker over a
//! SOCK_SEQPACKET socket on its stdin, one message per frame:
//!
//! ```text
//! runner -> server   R<case id>          run this case
//! server -> runner   P<pid>              the case process started (its pid = its group)
//!                    O<bytes>            what it wrote on stdout/stderr, in order
//!                    X<c code|s signal>  it ended (not yet reaped: the group id stays valid
//!                                        until the runner's next frame or the end)
//!                    E<reason>           it could not be started
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

/// `--case-server`: serve the worker on stdin until it closes the socket.
pub(crate) fn serve(plan: &RunPlan, ctx: &CaseContext) -> Result<(), String> {
    let fork = plan
        .fork
        .ok_or("--case-server: this program does not provide a fork")?;
    crate::interrupt::tie_to_runner()?;
    crate::child::capture_panics();
    let cases: HashMap<&str, &Case> = plan.cases.iter().map(|c| (c.id.as_str(), c)).collect();
    let socket = std::io::stdin();
    let mut frame = vec![0u8; FRAME_MAX];
    // The case process that ended last, reaped when the worker speaks again (it has forgotten
    // the group by then).
    let mut ended: Option<Pid> = None;
    // The next case's process, forked ahead while the current case runs (on another core), so
    // that a case starts without waiting for a fork; it waits for its case id.
    let mut standby = Standby::fork(fork, &cases, ctx).ok();
    // One buffer for every output frame, made before the first fork: the server then writes
    // only the pages a frame needs (each page it writes after a fork is a copy-on-write fault).
    let mut out = vec![0u8; FRAME_MAX];
    loop {
        let n = recv(socket.as_raw_fd(), &mut frame, MsgFlags::empty());
        if let Some(pid) = ended.take() {
            let _ = waitpid(pid, None);
        }
        let n = match n {
            Ok(0) => return Ok(()), // the worker is done (a standby dies with this process)
            Ok(n) => n,
            Err(nix::errno::Errno::EINTR) => continue,
            Err(e) => return Err(format!("case server: recv: {e}")),
        };
        let Some(Frame::Run(id)) = Frame::decode(&frame[..n]) else {
            return Err("case server: unreadable request".into());
        };
        if !cases.contains_key(id) {
            send_frame(&socket, &Frame::Refused(&format!("no case with id {id}")))
                .map_err(|e| e.to_string())?;
            continue;
        }
        // Without a standby (its fork failed) the fork is tried again here, and its error sent.
        let started = standby
            .take()
            .map_or_else(|| Standby::fork(fork, &cases, ctx), Ok)
            .and_then(|s| s.start(id));
        match started {
            Ok((pid, output)) => {
                ended = Some(pid);
                let next = || standby = Standby::fork(fork, &cases, ctx).ok();
                relay(&socket, pid, output, next, &mut out)
                    .map_err(|e| format!("case server: send: {e}"))?;
            }
            Err(why) => {
                send_frame(&socket, &Frame::Refused(&why)).map_err(|e| e.to_string())?;
            }
        }
    }
}

/// A forked case process that waits for the id of the case it is to run: its own process
/// group, dead with the server, stdout and stderr into the output pipe whose read end the
/// server keeps.
struct Standby {
    pid: Pid,
    output: OwnedFd,
    /// Where its case id goes, one line.
    order: std::fs::File,
}

impl Standby {
    fn fork(
        fork: ForkFn,
        cases: &HashMap<&str, &Case>,
        ctx: &CaseContext,
    ) -> Result<Standby, String> {
        let (read, write) =
            pipe2(nix::fcntl::OFlag::O_CLOEXEC).map_err(|e| format!("pipe for the output: {e}"))?;
        let (order_read, order_write) = pipe2(nix::fcntl::OFlag::O_CLOEXEC)
            .map_err(|e| format!("pipe for the case id: {e}"))?;
        let server = getpid();
        let mut case_process = || -> u8 {
            let _ = setpgid(Pid::from_raw(0), Pid::from_raw(0));
            if nix::sys::prctl::set_pdeathsig(Signal::SIGKILL).is_err() || getppid() != server {
                return 1; // the server is gone already
            }
            let null = std::fs::File::open("/dev/null");
            let wired = nix::unistd::dup2_stdout(&write)
                .and_then(|()| nix::unistd::dup2_stderr(&write))
                .map_err(std::io::Error::from)
                .and_then(|()| null.map(|n| nix::unistd::dup2_stdin(&n)))
                .is_ok();
            if !wired {
                return 2;
            }
            // One line; no EOF to wait for (this process holds a copy of the write end).
            let mut id = String::new();
            let Ok(order) = order_read.try_clone() else {
                return 3;
            };
            let mut order = std::io::BufReader::new(std::fs::File::from(order));
            if std::io::BufRead::read_line(&mut order, &mut id).is_err() {
                return 3;
            }
            match cases.get(id.trim_end()) {
                Some(case) => {
                    crate::child::run_and_report(case, ctx);
                    0
                }
                None => 4,
            }
        };
        let pid = Pid::from_raw(fork(&mut case_process)? as i32);
        // Also here: the runner may kill the group before the child has made it.
        let _ = setpgid(pid, pid);
        drop(write); // EOF must come when the case's processes are gone
        Ok(Standby {
            pid,
            output: read,
            order: std::fs::File::from(order_write),
        })
    }

    /// Hand it its case; its pid and the read end of its output.
    fn start(mut self, id: &str) -> Result<(Pid, OwnedFd), String> {
        use std::io::Write;
        match self.order.write_all(format!("{id}\n").as_bytes()) {
            Ok(()) => Ok((self.pid, self.output)),
            Err(e) => {
                let _ = nix::sys::signal::kill(self.pid, Signal::SIGKILL);
                let _ = waitpid(self.pid, None);
                Err(format!("the case process did not take its case: {e}"))
            }
        }
    }
}

/// Tell the worker the pid, fork the next standby (`next`) while the case runs, pass on the
/// output until EOF (each read lands in `frame` behind the output tag), then say how the process
/// ended.
fn relay(
    socket: &impl AsRawFd,
    pid: Pid,
    output: OwnedFd,
    next: impl FnOnce(),
    frame: &mut [u8],
) -> nix::Result<()> {
    send_frame(socket, &Frame::Started(pid.as_raw() as u32))?;
    next();
    let mut output = std::fs::File::from(output);
    frame[0] = b'O';
    loop {
        match output.read(&mut frame[1..]) {
            Ok(0) => break,
            Ok(n) => send(socket.as_raw_fd(), &frame[..=n], MsgFlags::MSG_NOSIGNAL).map(drop)?,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(_) => break,
        }
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
