//! The start-up floor for `envsync --version` and `envsync status`: a Rust program that
//! starts, prints one line and exits. Built by `scripts/bench-startup.sh`.

fn main() {
    println!("floor 0.1.0");
}
