//! What std's start-up did for every command, done here instead, minus what costs most.
//!
//! Before `fn main`, std asks glibc for the main thread's stack bounds, which reads and
//! parses `/proc/self/maps`, and installs a stack-overflow handler on an alternate signal
//! stack: about twenty system calls and a tenth of a millisecond on every run of every
//! command (BENCHMARKS.md, fifteenth pass), for a nicer message on a stack overflow, which
//! still ends the process without it. `main.rs` is therefore `#![no_main]`, and its C
//! `main` calls [`prepare`] to keep the two start-up duties that matter.

use std::fs::OpenOptions;
use std::io;
use std::os::fd::IntoRawFd;
use std::process::ExitCode;

use nix::fcntl::{FcntlArg, FdFlag, fcntl};

/// Keeps std's two start-up duties that matter:
/// - Standard input, output and error are open: one that was closed gets `/dev/null`, so
///   that no file envsync opens later (a secret's temporary file) takes its number and
///   receives what is printed.
/// - SIGPIPE does not kill the process: a write to a closed pipe fails with EPIPE, which
///   the printer handles. std ignores the signal; here it is caught (signal-hook's flag),
///   which `execve` resets to the default for a command `envsync run` starts, as std's
///   `Command` does for a child.
pub fn prepare() -> io::Result<()> {
    for fd in 0..=2 {
        if fcntl(fd, FcntlArg::F_GETFD).is_err() {
            // The lowest free number is this one: the lower ones are open by now. Readable
            // and writable, and kept open across `exec`, as std's is.
            let null = OpenOptions::new()
                .read(true)
                .write(true)
                .open("/dev/null")?;
            fcntl(null.into_raw_fd(), FcntlArg::F_SETFD(FdFlag::empty()))?;
        }
    }
    signal_hook::flag::register(signal_hook::consts::SIGPIPE, Default::default())?;
    Ok(())
}

/// The number a process exits with for `code`. std has no stable way to read it back
/// (`ExitCode::exit_process` is unstable), but codes compare equal exactly when they are.
pub fn number(code: ExitCode) -> i32 {
    (0..=u8::MAX)
        .find(|number| ExitCode::from(*number) == code)
        .map_or(1, i32::from)
}
