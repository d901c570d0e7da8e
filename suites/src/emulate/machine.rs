//! The emulated s390x machine: which emulator, its configuration file, and running it to the
//! end of the guest's run while watching the console.
//!
//! The emulator runs in a process group of its own with a parent-death signal, so it never
//! outlives this command, however the command ends (SIGKILL included).

use super::console::{tail, ConsoleState};
use super::Error;
use std::io::{Read, Write};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// An emulator binary and what it says it is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Emulator {
    pub path: PathBuf,
    /// "Hercules 3.13" or "SDL Hyperion 4.9.0.11093-SDL-g2d2c4054" (from `--version`).
    pub version: String,
    /// Hercules 4.x / SDL Hyperion (message ids, console end marker differ from 3.x).
    pub hyperion: bool,
}

impl Emulator {
    /// Ask the binary what it is. `hercules --version` prints e.g. `Hercules Version 3.13`
    /// (Debian) or `Hercules version 4.9.0.11093-SDL-g2d2c4054 (4.9.0.11093)` (SDL Hyperion).
    pub fn probe(path: &Path) -> Result<Emulator, Error> {
        let out = Command::new(path)
            .arg("--version")
            .stdin(Stdio::null())
            .output()
            .map_err(|e| {
                Error::setup(format!(
                    "emulator {}: {e} (install Debian's hercules package, or set HERCULES=PATH; \
                     ./run.sh --emulate-s390 installs it)",
                    path.display()
                ))
            })?;
        let text = String::from_utf8_lossy(&out.stdout).into_owned()
            + &String::from_utf8_lossy(&out.stderr);
        parse_version(&text)
            .map(|(version, hyperion)| Emulator {
                path: path.to_path_buf(),
                version,
                hyperion,
            })
            .ok_or_else(|| {
                Error::setup(format!(
                    "{} does not look like Hercules: `--version` printed {:?}",
                    path.display(),
                    text.lines().next().unwrap_or("")
                ))
            })
    }
}

/// ("Hercules 3.13", false) or ("SDL Hyperion 4.9.0.11093-SDL-g2d2c4054", true).
pub fn parse_version(text: &str) -> Option<(String, bool)> {
    let line = text
        .lines()
        .find(|l| l.to_ascii_lowercase().contains("hercules version"))?;
    let i = line.to_ascii_lowercase().find("hercules version")? + "hercules version".len();
    let version = line[i..].split_whitespace().next()?.to_string();
    let major: u32 = version.split('.').next()?.parse().ok()?;
    if major >= 4 {
        Some((format!("SDL Hyperion {version}"), true))
    } else {
        Some((format!("Hercules {version}"), false))
    }
}

/// The machine's shape.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MachineConfig {
    pub cpus: u32,
    pub memory_mib: u64,
    /// The emulated CPU model (`CPUMODEL`); 2098 is a z10 BC, what Debian's kernels are built
    /// for.
    pub cpu_model: &'static str,
}

impl MachineConfig {
    /// "emulated: Hercules 3.13, CPU model 2098, 2 CPUs, 8192 MiB main storage"
    pub fn describe(&self, emulator: &Emulator) -> String {
        format!(
            "emulated: {}, CPU model {}, {} CPU{}, {} MiB main storage",
            emulator.version,
            self.cpu_model,
            self.cpus,
            if self.cpus == 1 { "" } else { "s" },
            self.memory_mib
        )
    }

    /// The emulator's configuration: the kernel, its command line and the initramfs IPL from an
    /// emulated 3505 card reader; the results disk is a raw FBA DASD at 0120.
    pub fn hercules_cnf(&self) -> String {
        format!(
            "# written by kvm-conformance --emulate-s390\n\
             ARCHMODE  z/Arch\n\
             CPUSERIAL 000611\n\
             CPUMODEL  {model}\n\
             MAINSIZE  {mem}\n\
             XPNDSIZE  0\n\
             NUMCPU    {cpus}\n\
             MAXCPU    {cpus}\n\
             OSTAILOR  LINUX\n\
             PANRATE   SLOW\n\
             LPARNAME  KVMCONF\n\
             000C      3505 kernel.img parmfile initrd.img autopad eof\n\
             0120      9336 results.fba\n",
            model = self.cpu_model,
            mem = self.memory_mib,
            cpus = self.cpus,
        )
    }
}

/// What the emulator runs on start: quiet about the program checks the kernel takes and
/// handles on purpose (operation, specification exceptions: about a dozen lines per VM), then
/// IPL from the card reader.
pub const HERCULES_RC: &str = "pgmtrace -1\npgmtrace -6\nipl 000c\n";

/// The kernel command line (the card reader's parmfile). `panic=0`: a panicking guest stops
/// in a disabled wait that the console shows, instead of re-IPLing.
pub fn kernel_cmdline() -> &'static str {
    "root=/dev/ram0 rdinit=/init panic=0 loglevel=4 dasd=0.0.0120"
}

/// Size of the raw FBA results disk: 400000 blocks of 512 bytes (a 9336's capacity is larger;
/// Hercules takes the size from the file).
pub const RESULTS_DISK_BYTES: u64 = 400_000 * 512;

/// How a run of the machine ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MachineEnd {
    /// /init said it was done (or the CPU stopped after the suite ended).
    Finished,
    /// The guest stopped before it was done (panic, init died).
    Crashed(String),
    /// No console progress for too long, or the whole run took too long.
    Hung(String),
    /// The emulator process exited by itself.
    EmulatorExited(String),
    /// This command was interrupted (SIGINT, SIGTERM, SIGHUP).
    Interrupted(i32),
}

/// Time limits for one run of the machine.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// From the emulator's start until /init's first line.
    pub boot: Duration,
    /// Longest time without a new console line once /init runs (it ticks every 10 s).
    pub silence: Duration,
    /// The whole run.
    pub total: Duration,
}

/// The running emulator; dropping it kills the whole process group.
struct Running {
    child: Child,
    stdin: Option<std::process::ChildStdin>,
}

impl Drop for Running {
    fn drop(&mut self) {
        if let Some(mut s) = self.stdin.take() {
            let _ = s.write_all(b"quit\n");
        }
        // Give it a moment to quit cleanly, then take the group down.
        for _ in 0..20 {
            if let Ok(Some(_)) = self.child.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        let pgid = nix::unistd::Pid::from_raw(-(self.child.id() as i32));
        let _ = nix::sys::signal::kill(pgid, nix::sys::signal::Signal::SIGKILL);
        let _ = self.child.wait();
    }
}

/// Run the machine in `dir` (which holds the configuration, kernel, parmfile, initramfs and
/// results disk) until the guest is done, calling `tick` with the console state at least
/// every `tick_every`. The console log is `dir/console.log`.
pub fn run(
    emulator: &Emulator,
    dir: &Path,
    limits: Limits,
    tick_every: Duration,
    mut tick: impl FnMut(&ConsoleState, Duration),
) -> Result<(MachineEnd, ConsoleState), Error> {
    fixtures::raw::process::catch_termination_signals();
    let log_path = dir.join("console.log");
    let log = std::fs::File::create(&log_path).map_err(|e| Error::io(&log_path, e))?;
    let log_err = log.try_clone().map_err(|e| Error::io(&log_path, e))?;
    let mut cmd = Command::new(&emulator.path);
    cmd.arg("-f")
        .arg("hercules.cnf")
        .current_dir(dir)
        .env("HERCULES_RC", "hercules.rc")
        .stdin(Stdio::piped())
        .stdout(log)
        .stderr(log_err)
        .process_group(0);
    fixtures::raw::process::dies_with_parent(&mut cmd);
    let mut child = cmd.spawn().map_err(|e| {
        Error::setup(format!(
            "cannot start the emulator {}: {e}",
            emulator.path.display()
        ))
    })?;
    let stdin = child.stdin.take();
    let mut running = Running { child, stdin };

    let mut state = ConsoleState::default();
    let mut reader = std::fs::File::open(&log_path).map_err(|e| Error::io(&log_path, e))?;
    let mut pending = String::new();
    let mut text = String::new();
    let start = Instant::now();
    let mut last_output = Instant::now();
    let mut last_tick = Instant::now();
    let mut stopped_at: Option<Instant> = None;
    let end = loop {
        std::thread::sleep(Duration::from_millis(250));
        if let Some(sig) = fixtures::raw::process::termination_signal() {
            break MachineEnd::Interrupted(sig);
        }
        // New console output, line by line.
        let mut buf = Vec::new();
        let _ = reader.read_to_end(&mut buf);
        if !buf.is_empty() {
            last_output = Instant::now();
            pending.push_str(&String::from_utf8_lossy(&buf));
            while let Some(i) = pending.find('\n') {
                let line: String = pending.drain(..=i).collect();
                let line = line.trim_end_matches(['\n', '\r']);
                state.line(line);
                text.push_str(line);
                text.push('\n');
            }
        }
        if last_tick.elapsed() >= tick_every {
            tick(&state, start.elapsed());
            last_tick = Instant::now();
        }
        if state.done {
            // Let the emulator see the power-off, then stop it.
            std::thread::sleep(Duration::from_secs(1));
            break MachineEnd::Finished;
        }
        if state.cpu_stopped {
            // The CPU stopped: after the suite ended that is the power-off (its "done" line
            // may have been lost); before, the guest died. Allow the console a moment.
            let at = *stopped_at.get_or_insert_with(Instant::now);
            if at.elapsed() >= Duration::from_secs(3) {
                break if state.suite_rc.is_some() {
                    MachineEnd::Finished
                } else {
                    MachineEnd::Crashed(crash_reason(&state))
                };
            }
        }
        if let Ok(Some(status)) = running.child.try_wait() {
            break MachineEnd::EmulatorExited(format!("the emulator exited ({status})"));
        }
        let silent = last_output.elapsed();
        if state.release.is_none() && start.elapsed() > limits.boot {
            break MachineEnd::Hung(format!(
                "the guest did not start /init within {} s",
                limits.boot.as_secs()
            ));
        }
        if state.release.is_some() && silent > limits.silence {
            break MachineEnd::Hung(format!(
                "the guest printed nothing for {} s",
                silent.as_secs()
            ));
        }
        if start.elapsed() > limits.total {
            break MachineEnd::Hung(format!(
                "the run did not finish within {} s (--emulator-timeout)",
                limits.total.as_secs()
            ));
        }
    };
    drop(running);
    // Whatever the emulator printed while quitting.
    let mut rest = String::new();
    let _ = reader.read_to_string(&mut rest);
    for line in pending.lines().chain(rest.lines()) {
        state.line(line);
    }
    if let Some(p) = &state.panic {
        if end == MachineEnd::Finished {
            // A panic after the suite ended is still worth a line, but the results are in.
            state.errors.push(format!("guest kernel: {p}"));
        }
    }
    Ok((end, state))
}

fn crash_reason(state: &ConsoleState) -> String {
    match (&state.panic, state.release.is_some()) {
        (Some(p), _) => format!("the guest kernel crashed: {p}"),
        (None, false) => "the guest stopped before /init ran (kernel did not boot)".into(),
        (None, true) => "the guest stopped before the suite ended (/init died?)".into(),
    }
}

/// The end of the console log for a report: the last `n` lines.
pub fn console_tail(dir: &Path, n: usize) -> String {
    std::fs::read_to_string(dir.join("console.log"))
        .map(|t| tail(&t, n))
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;
    use rstest::rstest;

    #[rstest]
    #[case::debian(
        "Hercules Version 3.13\n(c)Copyright 1999-2015 by Roger Bowler\n",
        "Hercules 3.13",
        false
    )]
    #[case::hyperion(
        "HHC02001I Hercules version 4.9.0.11093-SDL-g2d2c4054 (4.9.0.11093)\n",
        "SDL Hyperion 4.9.0.11093-SDL-g2d2c4054",
        true
    )]
    fn emulator_versions(#[case] text: &str, #[case] version: &str, #[case] hyperion: bool) {
        assert_eq!(parse_version(text), Some((version.to_string(), hyperion)));
    }

    #[test]
    fn not_an_emulator() {
        assert_eq!(parse_version("bash, version 5.2"), None);
    }

    #[test]
    fn configuration_has_the_machine_and_its_devices() {
        let m = MachineConfig {
            cpus: 2,
            memory_mib: 8192,
            cpu_model: "2098",
        };
        let cnf = m.hercules_cnf();
        for line in [
            "ARCHMODE  z/Arch",
            "MAINSIZE  8192",
            "NUMCPU    2",
            "MAXCPU    2",
            "CPUMODEL  2098",
            "000C      3505 kernel.img parmfile initrd.img autopad eof",
            "0120      9336 results.fba",
        ] {
            assert!(cnf.lines().any(|l| l == line), "missing {line:?} in\n{cnf}");
        }
        let e = Emulator {
            path: "hercules".into(),
            version: "Hercules 3.13".into(),
            hyperion: false,
        };
        assert_eq!(
            m.describe(&e),
            "emulated: Hercules 3.13, CPU model 2098, 2 CPUs, 8192 MiB main storage"
        );
    }

    #[test]
    fn the_kernel_finds_the_results_disk_and_stops_on_panic() {
        let c = kernel_cmdline();
        assert!(c.contains("rdinit=/init") && c.contains("dasd=0.0.0120") && c.contains("panic=0"));
        // The card reader's parmfile is one line of at most 896 bytes.
        assert!(c.len() < 896);
    }
}
