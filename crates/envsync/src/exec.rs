//! The process `envsync run` turns into.
//!
//! `std::process::Command` gathers the environment into a sorted map and rebuilds it at
//! spawn; with 1,000 variables that was a tenth of `run`'s start-up (BENCHMARKS.md,
//! start-up). On Linux `run` builds the `envp` array once and calls `execvpe` itself;
//! elsewhere it goes through `Command` with the same environment.

use std::ffi::OsString;
use std::io;
use std::process::Command;

/// A command and the whole environment it gets, each name once.
pub struct Replacement {
    pub program: OsString,
    pub args: Vec<OsString>,
    pub env: Vec<(OsString, OsString)>,
}

impl Replacement {
    /// The same command through `std`, for the platforms that do not exec directly.
    #[cfg_attr(target_os = "linux", allow(dead_code))]
    fn command(&self) -> Command {
        let mut command = Command::new(&self.program);
        command.args(&self.args).env_clear();
        command.envs(self.env.iter().map(|(name, value)| (name, value)));
        command
    }

    /// Replaces this process with the command; returns only why it could not start.
    #[cfg(target_os = "linux")]
    pub fn exec(self) -> io::Error {
        match linux::exec(&self) {
            Err(error) => error,
            Ok(never) => match never {},
        }
    }

    /// Replaces this process with the command; returns only why it could not start.
    #[cfg(all(unix, not(target_os = "linux")))]
    pub fn exec(self) -> io::Error {
        use std::os::unix::process::CommandExt;
        self.command().exec()
    }

    /// Runs the command to its end (no `exec` off Unix).
    #[cfg(not(unix))]
    pub fn status(self) -> io::Result<std::process::ExitStatus> {
        self.command().status()
    }
}

#[cfg(target_os = "linux")]
mod linux {
    use std::convert::Infallible;
    use std::ffi::{CStr, CString, OsStr, OsString};
    use std::io;
    use std::os::unix::ffi::OsStrExt;
    use std::path::{Path, PathBuf};
    use std::sync::Arc;

    use nix::sys::signal::{SigSet, SigmaskHow, sigprocmask};
    use nix::unistd::{AccessFlags, access, execvpe};

    use super::Replacement;

    /// The search path the C library uses when `PATH` is not set (`confstr(_CS_PATH)`).
    const DEFAULT_PATH: &str = "/bin:/usr/bin";

    pub fn exec(replacement: &Replacement) -> io::Result<Infallible> {
        let child_path = replacement
            .env
            .iter()
            .find(|(name, _)| name == "PATH")
            .map(|(_, value)| value.as_os_str());
        let program = c_string(resolve(&replacement.program, child_path)?.as_os_str())?;
        let argv = std::iter::once(&replacement.program)
            .chain(&replacement.args)
            .map(|argument| c_string(argument))
            .collect::<io::Result<Vec<_>>>()?;
        let block = environment_block(&replacement.env);
        let envp = block
            .split_inclusive(|&byte| byte == 0)
            .map(CStr::from_bytes_with_nul)
            .collect::<Result<Vec<_>, _>>()
            .map_err(|_| nul_error())?;
        // A NUL inside a name or value would have split it in two.
        if envp.len() != replacement.env.len() {
            return Err(nul_error());
        }
        default_signals()?;
        Ok(execvpe(&program, &argv, &envp)?)
    }

    /// Every `NAME=value` of `env`, each ended by a NUL, in one buffer: one allocation for
    /// the whole environment instead of one per variable.
    fn environment_block(env: &[(OsString, OsString)]) -> Vec<u8> {
        let size = env.iter().map(|(name, value)| name.len() + value.len() + 2);
        let mut block = Vec::with_capacity(size.sum());
        for (name, value) in env {
            block.extend_from_slice(name.as_bytes());
            block.push(b'=');
            block.extend_from_slice(value.as_bytes());
            block.push(0);
        }
        block
    }

    /// The signal state a command expects, as `std::process::Command` gives its children.
    /// The Rust runtime ignores SIGPIPE for its own writes, and an ignored signal stays
    /// ignored across `execve` and in everything the command starts: `yes | head` under
    /// `envsync run` printed "Broken pipe", and scripts saw EPIPE instead of stopping.
    /// A *caught* signal is reset to its default by `execve` (POSIX), so SIGPIPE gets a
    /// handler (signal-hook's flag, so that this crate needs no `unsafe`): until the exec this
    /// process's writes still fail with EPIPE as before, and the command starts with the
    /// default. The signal mask is emptied too, as `Command` does.
    fn default_signals() -> io::Result<()> {
        signal_hook::flag::register(signal_hook::consts::SIGPIPE, Arc::default())?;
        sigprocmask(SigmaskHow::SIG_SETMASK, Some(&SigSet::empty()), None)?;
        Ok(())
    }

    /// The program to hand to `execvpe`. `execvpe` searches this process's `PATH`, so when
    /// the command's `PATH` differs (the file sets one) the search is made here against the
    /// command's, as `Command` does; `execvpe` still runs a script without `#!` with `sh`.
    fn resolve(program: &OsStr, child_path: Option<&OsStr>) -> io::Result<PathBuf> {
        let own_path = std::env::var_os("PATH");
        if program.as_bytes().contains(&b'/') || child_path == own_path.as_deref() {
            return Ok(PathBuf::from(program));
        }
        let search = child_path.unwrap_or(OsStr::new(DEFAULT_PATH));
        let mut denied = false;
        for directory in search.as_bytes().split(|&byte| byte == b':') {
            let directory = match directory {
                [] => Path::new("."),
                bytes => Path::new(OsStr::from_bytes(bytes)),
            };
            let candidate = directory.join(program);
            if candidate.is_file() {
                if access(&candidate, AccessFlags::X_OK).is_ok() {
                    return Ok(candidate);
                }
                denied = true;
            }
        }
        Err(io::Error::from(if denied {
            io::ErrorKind::PermissionDenied
        } else {
            io::ErrorKind::NotFound
        }))
    }

    fn c_string(text: &OsStr) -> io::Result<CString> {
        CString::new(text.as_bytes()).map_err(|_| nul_error())
    }

    fn nul_error() -> io::Error {
        io::Error::new(
            io::ErrorKind::InvalidInput,
            "a NUL byte in an argument or variable",
        )
    }
}

#[cfg(all(test, target_os = "linux"))]
mod tests {
    use std::ffi::OsString;
    use std::io;

    use super::Replacement;

    /// The environment goes to `execve` as one block split at its NULs, so a NUL inside a
    /// name or value must be refused, not passed on as two variables. (The program does not
    /// exist: were the check missing, the exec would fail with NotFound, not replace the
    /// test process.)
    #[test]
    fn a_nul_inside_a_variable_is_refused() {
        for (name, value) in [("A", "x\0B=y"), ("A\0B", "y")] {
            let replacement = Replacement {
                program: OsString::from("/nonexistent/envsync-test"),
                args: Vec::new(),
                env: vec![("PATH".into(), "/bin".into()), (name.into(), value.into())],
            };
            assert_eq!(replacement.exec().kind(), io::ErrorKind::InvalidInput);
        }
    }
}
