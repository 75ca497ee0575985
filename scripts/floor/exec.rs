//! The start-up floor for `envsync run -- PROGRAM…`: the least a Rust program can do to
//! start and then exec `PROGRAM` (std, `CommandExt::exec`, nothing else). Built by
//! `scripts/bench-startup.sh` with the release profile's settings.

use std::os::unix::process::CommandExt;

fn main() {
    let mut args = std::env::args_os().skip(1);
    let Some(program) = args.next() else {
        eprintln!("usage: floor-exec PROGRAM [ARGUMENT…]");
        std::process::exit(2);
    };
    let error = std::process::Command::new(program).args(args).exec();
    eprintln!("error: {error}");
    std::process::exit(127);
}
