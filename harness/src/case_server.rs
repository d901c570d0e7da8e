//! A case server: a copy of the program, started once per worker with `--case-server`, that has
//! already parsed the command line, opened KVM and built every case, and forks one process per
//! case. A case thus still runs in a process of its own, with its own VM, in its own process
//! group, under the runner's timeout, but costs a fork instead of a start of the program.
//!
//! The server is one thread (the fork refuses otherwise) and talks to its worker over a
//! SOCK_SEQPACKET socket on its stdin, one message per frame:
//!
//! ```text
//! runner -> server   R<case id>   run this case (taken by the waiting case process)
//! server -> runner   S<pid>       the process that takes the next request is waiting (its pid
//!                                 is its group)
//!                    N<reason>    there is none: the server could not fork it
//!                    O<bytes>     what the case process wrote on stdout/stderr, in order
//!                    X<c code|s signal|r>\n<S pid|N reason>\n<bytes>
//!                                 it ended (not yet reaped: the group id stays valid until the
//!                                 runner's next request or the end; r: its output ended with
//!                                 its result line, its status was not waited for), the process
//!                                 for the next request, the rest of its output
//!                    E<reason>    the waiting case process refused the request (unknown id)
//! ```
//!
//! A case's frames are `O* X`: its end, the next process and the last of its output come in
//! one frame (the worker wakes once a case), and nothing wakes the worker while a case runs
//! (the next process is announced with the end of the one before, and once at the start). A
//! dead server costs only the case it was running; the worker starts a new one.

use crate::case::{Case, CaseContext, ForkFn, RunPlan};
use crate::cli::HarnessArgs;
use nix::sys::signal::Signal;
use nix::sys::socket::{recv, send, socketpair, AddressFamily, MsgFlags, SockFlag, SockType};
use nix::sys::wait::{waitid, waitpid, Id, WaitPidFlag, WaitStatus};
use nix::unistd::{getpid, getppid, pipe2, setpgid, Pid};
use std::collections::HashMap;
use std::io::{Read, Write};
use std::os::fd::{AsFd, AsRawFd, OwnedFd};
use std::process::{Child, Stdio};
use std::time::{Duration, Instant};

/// The largest frame: an output chunk and the end frame's header (exit and next process).
const FRAME_MAX: usize = 64 * 1024;
/// The most output one frame carries.
const OUTPUT_CHUNK: usize = FRAME_MAX - 1024;
/// The most of a reason a `Next::Missing` carries (it shares the end frame with the output).
const REASON_MAX: usize = 512;

/// How a case process ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Exit {
    Code(i32),
    Signal(i32),
    /// Its output ended with its result line: the result is what counts, and its exit status
    /// was not waited for.
    Reported,
}

/// Which process takes the worker's next request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Next<'a> {
    /// This one, waiting (its pid is its process group).
    Ready(u32),
    /// None: the server could not fork it, for this reason.
    Missing(&'a str),
}

impl Next<'_> {
    fn encode_into(&self, f: &mut Vec<u8>) {
        match self {
            Next::Ready(pid) => {
                let _ = write!(f, "S{pid}");
            }
            // One line: the end frame puts the output after it.
            Next::Missing(why) => {
                f.push(b'N');
                // Cut at a character's start: a cut inside one would leave no readable frame.
                let cut = (0..=why.len().min(REASON_MAX))
                    .rev()
                    .find(|&i| why.is_char_boundary(i))
                    .unwrap_or(0);
                let why = why[..cut].bytes();
                f.extend(why.map(|b| if b == b'\n' { b' ' } else { b }));
            }
        }
    }

    fn decode(f: &[u8]) -> Option<Next<'_>> {
        let (&tag, body) = f.split_first()?;
        let text = std::str::from_utf8(body).ok()?;
        match tag {
            b'S' => Some(Next::Ready(text.parse().ok()?)),
            b'N' => Some(Next::Missing(text)),
            _ => None,
        }
    }

    fn owned(&self) -> Result<u32, String> {
        match *self {
            Next::Ready(pid) => Ok(pid),
            Next::Missing(why) => Err(why.to_string()),
        }
    }
}

#[derive(Debug, PartialEq, Eq)]
enum Frame<'a> {
    Run(&'a str),
    /// The first announcement, and the one after a refused request.
    Next(Next<'a>),
    Output(&'a [u8]),
    /// A case's end in one frame (one wake-up of the worker): how its process ended, the
    /// process for the next request, and the rest of its output.
    Ended {
        exit: Exit,
        next: Next<'a>,
        output: &'a [u8],
    },
    Refused(&'a str),
}

impl Frame<'_> {
    /// The frame in `f` (cleared first; a buffer made once is used again without allocating).
    fn encode_into(&self, f: &mut Vec<u8>) {
        f.clear();
        match self {
            Frame::Run(id) => {
                f.push(b'R');
                f.extend_from_slice(id.as_bytes());
            }
            Frame::Next(next) => next.encode_into(f),
            Frame::Output(b) => {
                f.push(b'O');
                f.extend_from_slice(b);
            }
            Frame::Ended { exit, next, output } => {
                let _ = match exit {
                    Exit::Code(c) => writeln!(f, "Xc{c}"),
                    Exit::Signal(s) => writeln!(f, "Xs{s}"),
                    Exit::Reported => writeln!(f, "Xr"),
                };
                next.encode_into(f);
                f.push(b'\n');
                f.extend_from_slice(output);
            }
            Frame::Refused(why) => {
                f.push(b'E');
                f.extend_from_slice(why.as_bytes());
            }
        }
    }

    fn decode(f: &[u8]) -> Option<Frame<'_>> {
        let (&tag, body) = f.split_first()?;
        let text = || std::str::from_utf8(body).ok();
        Some(match tag {
            b'R' => Frame::Run(text()?),
            b'S' | b'N' => Frame::Next(Next::decode(f)?),
            b'O' => Frame::Output(body),
            b'X' => {
                let mut parts = body.splitn(3, |&b| b == b'\n');
                let exit = std::str::from_utf8(parts.next()?).ok()?;
                let number = |s: &str| s.parse::<i32>().ok();
                let exit = match exit.split_at_checked(1)? {
                    ("c", n) => Exit::Code(number(n)?),
                    ("s", n) => Exit::Signal(number(n)?),
                    ("r", "") => Exit::Reported,
                    _ => return None,
                };
                let next = Next::decode(parts.next()?)?;
                let output = parts.next()?;
                Frame::Ended { exit, next, output }
            }
            b'E' => Frame::Refused(text()?),
            _ => return None,
        })
    }
}

fn send_frame(fd: &impl AsRawFd, frame: &Frame) -> nix::Result<()> {
    let mut f = Vec::new();
    frame.encode_into(&mut f);
    send(fd.as_raw_fd(), &f, MsgFlags::MSG_NOSIGNAL).map(|_| ())
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
    let send_failed = |e: nix::errno::Errno| format!("case server: send: {e}");
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
    let mut out = vec![0u8; OUTPUT_CHUNK + 1];
    let mut end = vec![0u8; FRAME_MAX];
    // The next case's process, forked before its request comes: it takes the request from the
    // socket itself (the case starts one wake-up sooner than if this server took it); the
    // server then forks the one after while the case runs (on another core).
    let mut standby = Standby::fork(fork, &cases, ctx);
    send_frame(&socket, &Frame::Next(next_of(&standby))).map_err(send_failed)?;
    loop {
        let s = match standby {
            Ok(s) => s,
            Err(why) => {
                // The worker was told (N) and starts its cases another way; answer anything
                // it still asks with the reason until it closes the socket.
                reap(&mut ended);
                loop {
                    match recv(socket.as_raw_fd(), &mut out, MsgFlags::empty()) {
                        Ok(0) => return Ok(()),
                        Ok(_) => send_frame(&socket, &Frame::Refused(&why)).map_err(send_failed)?,
                        Err(nix::errno::Errno::EINTR) => {}
                        Err(e) => return Err(format!("case server: recv: {e}")),
                    }
                }
            }
        };
        let pid = s.pid;
        match s.taken() {
            Some(output) => {
                reap(&mut ended);
                standby = Standby::fork(fork, &cases, ctx);
                let (exit, rest) = relay(&socket, pid, output, &mut out).map_err(send_failed)?;
                // The next process is announced with this case's end, not when forked: a
                // frame while a case runs would wake the worker then.
                let next = next_of(&standby);
                Frame::Ended {
                    exit,
                    next,
                    output: &out[1..rest],
                }
                .encode_into(&mut end);
                send(socket.as_raw_fd(), &end, MsgFlags::MSG_NOSIGNAL).map_err(send_failed)?;
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
                send_frame(&socket, &Frame::Next(next_of(&standby))).map_err(send_failed)?;
            }
        }
    }
}

/// What tells the worker which process takes its next request.
fn next_of(standby: &Result<Standby, String>) -> Next<'_> {
    match standby {
        Ok(s) => Next::Ready(s.pid.as_raw() as u32),
        Err(why) => Next::Missing(why),
    }
}

/// A forked case process that takes the worker's next request from the socket and runs it: its
/// own process group (its pid, announced to the worker before the request), dead with the
/// server, stdout and stderr into the output pipe whose read end the server keeps.
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
/// full), and tell how the process ended and where the rest of its output ends in `frame`
/// (`frame[1..end]`: it goes with the end frame, so the worker wakes once for a case's few
/// lines).
fn relay(
    socket: &impl AsRawFd,
    pid: Pid,
    output: OwnedFd,
    frame: &mut [u8],
) -> nix::Result<(Exit, usize)> {
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
    // Its output ends when its files close, late in its exit: with the result in it, the
    // status that comes after it (one more wake-up of this server) changes nothing.
    if crate::child::ends_with_result(&frame[1..len]) {
        return Ok((Exit::Reported, len));
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
    Ok((exit, len))
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
    /// The process that takes the next request, as last announced (None before the first
    /// announcement is read), or why there is none.
    next: Option<Result<u32, String>>,
    /// Every frame is read into this one buffer, made once (a new one per case would be a new
    /// allocation, and new pages, on the way from one case to the next).
    frame: Vec<u8>,
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
            next: None,
            frame: vec![0u8; FRAME_MAX],
        })
    }

    /// Run one case under `timeout`: a case still running then is killed with its group, and
    /// what it wrote until then comes back.
    pub(crate) fn run(&mut self, case: &Case, timeout: Duration) -> Result<Finished, ServerError> {
        let mut frame = std::mem::take(&mut self.frame);
        let result = self.run_with(case, timeout, &mut frame);
        self.frame = frame;
        result
    }

    fn run_with(
        &mut self,
        case: &Case,
        timeout: Duration,
        frame: &mut [u8],
    ) -> Result<Finished, ServerError> {
        let pid = self.next_process(frame, Instant::now() + timeout)?;
        let lost = |what: &str| ServerError::Lost(what.to_string());
        if !crate::interrupt::track(pid) {
            // A signal came before the case: its process goes with this server.
            return Err(lost("the run was interrupted"));
        }
        let result = self.run_tracked(case, pid, timeout, frame);
        // Whatever the case left running in its group goes with it; the server reaps the
        // process only after the next request, so the group id is still the case's.
        crate::interrupt::kill_group(pid);
        crate::interrupt::forget(pid);
        if result.is_err() {
            let _ = self.process.kill();
        }
        result
    }

    /// The process that takes the next request: the last one announced, or the server's first
    /// announcement.
    fn next_process(&mut self, frame: &mut [u8], deadline: Instant) -> Result<u32, ServerError> {
        let unavailable = |what: &str| ServerError::Unavailable(what.to_string());
        let next = match self.next.take() {
            Some(next) => next,
            None => match self.recv_until(frame, deadline) {
                Ok(Some(n)) => match Frame::decode(&frame[..n]) {
                    Some(Frame::Next(next)) => next.owned(),
                    _ => return Err(unavailable("the case server sent an unreadable frame")),
                },
                Ok(None) => return Err(unavailable("the case server did not get ready in time")),
                Err(_) => return Err(unavailable("the case server ended before it was ready")),
            },
        };
        next.map_err(ServerError::Unavailable)
    }

    fn run_tracked(
        &mut self,
        case: &Case,
        pid: u32,
        timeout: Duration,
        frame: &mut [u8],
    ) -> Result<Finished, ServerError> {
        let lost = |what: &str| ServerError::Lost(what.to_string());
        send_frame(&self.socket, &Frame::Run(&case.id))
            .map_err(|e| ServerError::Unavailable(format!("the case server is gone ({e})")))?;
        let mut output = Vec::new();
        let mut timed_out = false;
        let mut deadline = Instant::now() + timeout;
        loop {
            let n = match self.recv_until(frame, deadline)? {
                Some(n) => n,
                None if !timed_out => {
                    // The group goes; the server then reports the end.
                    timed_out = true;
                    crate::interrupt::kill_group(pid);
                    deadline = Instant::now() + Duration::from_secs(5);
                    continue;
                }
                None => return Err(lost("the case server stopped answering")),
            };
            match Frame::decode(&frame[..n]) {
                Some(Frame::Output(b)) => output.extend_from_slice(b),
                Some(Frame::Ended {
                    exit,
                    next,
                    output: rest,
                }) => {
                    output.extend_from_slice(rest);
                    self.next = Some(next.owned());
                    return Ok(Finished {
                        output,
                        exit,
                        timed_out,
                    });
                }
                Some(Frame::Refused(why)) => return Err(ServerError::Unavailable(why.to_string())),
                _ => return Err(lost("the case server sent an unreadable frame")),
            }
        }
    }

    /// The next frame's length in `frame`, or None when `deadline` passed first.
    fn recv_until(
        &self,
        frame: &mut [u8],
        deadline: Instant,
    ) -> Result<Option<usize>, ServerError> {
        let lost = |what: String| ServerError::Lost(what);
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return Ok(None);
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
                Err(e) => return Err(lost(format!("poll: {e}"))),
            }
            match recv(self.socket.as_raw_fd(), frame, MsgFlags::empty()) {
                Ok(0) => return Err(lost("the case server ended".into())),
                Ok(n) => return Ok(Some(n)),
                Err(nix::errno::Errno::EINTR) => {}
                Err(e) => return Err(lost(format!("recv: {e}"))),
            }
        }
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
        let ended = |exit, next, output| Frame::Ended { exit, next, output };
        let mut f = Vec::new();
        for frame in [
            Frame::Run("a::b::c"),
            Frame::Next(Next::Ready(4242)),
            Frame::Next(Next::Missing("fork: EAGAIN")),
            Frame::Output(b"some\0bytes"),
            ended(Exit::Code(0), Next::Ready(7), b"lines\nand \0 more\n"),
            ended(Exit::Code(-1), Next::Missing("fork: ENOMEM"), b""),
            ended(Exit::Signal(9), Next::Ready(1), b"\n"),
            ended(Exit::Reported, Next::Ready(2), b"x"),
            Frame::Refused("fork refused"),
        ] {
            frame.encode_into(&mut f);
            assert_eq!(Frame::decode(&f), Some(frame));
        }
        // A reason is one line, cut to its bound, whatever the fork said.
        let long = format!("a\nb{}", "c".repeat(2 * REASON_MAX));
        ended(Exit::Code(1), Next::Missing(&long), b"out").encode_into(&mut f);
        let Some(Frame::Ended {
            next: Next::Missing(why),
            output,
            ..
        }) = Frame::decode(&f)
        else {
            panic!("expected an end frame, got {:?}", Frame::decode(&f));
        };
        assert_eq!(
            (why.len(), why.contains('\n'), output),
            (REASON_MAX, false, &b"out"[..])
        );
        // A cut that would fall inside a character falls before it: the frame stays readable.
        let wide = format!("{}é", "a".repeat(REASON_MAX - 1));
        ended(Exit::Code(1), Next::Missing(&wide), b"out").encode_into(&mut f);
        assert_eq!(
            Frame::decode(&f),
            Some(ended(
                Exit::Code(1),
                Next::Missing(&wide[..REASON_MAX - 1]),
                b"out"
            ))
        );
        assert_eq!(Frame::decode(b""), None);
        assert_eq!(Frame::decode(b"Snot a pid"), None);
        assert_eq!(Frame::decode(b"Xq1\nS1\n"), None);
        assert_eq!(Frame::decode(b"Xc0\nS1"), None, "no output part");
    }
}
