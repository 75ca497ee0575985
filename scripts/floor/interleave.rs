//! Wall-clock times of several commands measured round by round: each round runs every
//! command once, starting from a different one each time, so whatever drifts on a shared
//! machine during the run (another tenant, the page cache, CPU frequency) falls on every row
//! alike. hyperfine runs all of one command's runs before the next command's; two such runs
//! of the same binaries in swapped order disagreed by up to 0.5 ms (BENCHMARKS.md, fourth
//! pass). Commands are started as hyperfine's `-N` starts them (std::process::Command, no
//! shell), with standard output and error discarded. Built by `scripts/bench-startup.sh`.
//!
//! Usage: interleave RUNS < ROWS, where each row is `NAME<TAB>PROGRAM ARG…` (split at spaces).
//! Prints a Markdown table: median, mean ± standard deviation, and the median against the
//! first row's.

use std::io::BufRead;
use std::process::{Command, Stdio};
use std::time::Instant;

struct Row {
    name: String,
    argv: Vec<String>,
    millis: Vec<f64>,
}

fn main() {
    let runs: usize = std::env::args()
        .nth(1)
        .and_then(|text| text.parse().ok())
        .unwrap_or(60);
    let mut rows: Vec<Row> = std::io::stdin()
        .lock()
        .lines()
        .map_while(Result::ok)
        .filter_map(|line| {
            let (name, command) = line.split_once('\t')?;
            let argv: Vec<String> = command.split_whitespace().map(str::to_owned).collect();
            (!argv.is_empty()).then(|| Row {
                name: name.to_owned(),
                argv,
                millis: Vec::new(),
            })
        })
        .collect();
    let warmup = 5;
    for round in 0..warmup + runs {
        for offset in 0..rows.len() {
            let index = (round + offset) % rows.len();
            let elapsed = time(&rows[index].argv);
            if round >= warmup {
                rows[index].millis.push(elapsed);
            }
        }
    }
    print_table(&mut rows);
}

/// Milliseconds from spawning `argv` to its exit.
fn time(argv: &[String]) -> f64 {
    let start = Instant::now();
    let status = Command::new(&argv[0])
        .args(&argv[1..])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status();
    let elapsed = start.elapsed().as_secs_f64() * 1000.0;
    match status {
        Ok(status) if status.success() => elapsed,
        Ok(status) => panic!("{argv:?} failed: {status}"),
        Err(error) => panic!("{argv:?} did not start: {error}"),
    }
}

fn print_table(rows: &mut [Row]) {
    let mut first_median = None;
    println!("| command | median ms | mean ± sd ms | × first row |");
    println!("|---|---|---|---|");
    for row in rows.iter_mut() {
        row.millis.sort_by(f64::total_cmp);
        let count = row.millis.len() as f64;
        let median = row.millis[row.millis.len() / 2];
        let mean = row.millis.iter().sum::<f64>() / count;
        let variance = row.millis.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / count;
        let first = *first_median.get_or_insert(median);
        println!(
            "| {} | {median:.2} | {mean:.2} ± {:.2} | {:.2}× |",
            row.name,
            variance.sqrt(),
            median / first
        );
    }
}
