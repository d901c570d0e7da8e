//! Console output that never panics. Rust ignores SIGPIPE, so `println!` on a closed pipe
//! (`kvm-conformance | head -1`) or a full device panics; a run must go on and still write its
//! reports, so every line the runner prints goes through these and a failed write is dropped.

use std::io::Write;

/// Write `text` to stdout; a write error (EPIPE, ENOSPC) loses the text, nothing else.
pub fn out(text: &str) {
    let mut o = std::io::stdout().lock();
    let _ = o.write_all(text.as_bytes()).and_then(|()| o.flush());
}

/// `out` with a newline.
pub fn out_line(line: &str) {
    out(&format!("{line}\n"));
}

/// Write one line to stderr, dropping it when stderr cannot be written.
pub fn err_line(line: &str) {
    let mut e = std::io::stderr().lock();
    let _ = writeln!(e, "{line}").and_then(|()| e.flush());
}

static PROGRAM: std::sync::OnceLock<String> = std::sync::OnceLock::new();

/// Name the program (the first run's plan does): the first word of its error lines.
pub(crate) fn set_program_name(name: &str) {
    let _ = PROGRAM.set(name.to_string());
}

/// The program's name, as its plan gave it (before any plan: the executable's file name).
pub fn program_name() -> String {
    PROGRAM.get().cloned().unwrap_or_else(|| {
        std::env::args()
            .next()
            .and_then(|a| {
                std::path::Path::new(&a)
                    .file_name()
                    .map(|n| n.to_string_lossy().into_owned())
            })
            .unwrap_or_else(|| "harness".into())
    })
}

/// `program: reason` on stderr.
pub fn fail_line(reason: &str) {
    err_line(&format!("{}: {reason}", program_name()));
}
