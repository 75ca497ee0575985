//! A second floor for `envsync run -- PROGRAM…` with a linked file: the least a Rust program
//! can do to read a dotenv file's `NAME=value` lines (no quoting, no expansion) and exec
//! `PROGRAM` with them in its environment, as `run` does. The kernel copying 1,000 variables
//! into the new process is then in the floor too. Built by `scripts/bench-startup.sh`.

use std::os::unix::process::CommandExt;

fn main() {
    let mut args = std::env::args_os().skip(1);
    let (Some(file), Some(program)) = (args.next(), args.next()) else {
        eprintln!("usage: floor-exec-env FILE PROGRAM [ARGUMENT…]");
        std::process::exit(2);
    };
    let text = std::fs::read_to_string(file).unwrap_or_default();
    let pairs = text.lines().filter_map(|line| line.split_once('='));
    let error = std::process::Command::new(program).args(args).envs(pairs).exec();
    eprintln!("error: {error}");
    std::process::exit(127);
}
