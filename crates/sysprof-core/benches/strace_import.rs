//! Throughput of the strace importer, in MB/s of log text.
//!
//! `SYSPROF_STRACE_BENCH_LOG=/path/to/strace.log cargo bench -p sysprof-core --bench strace_import`
//! imports that file (streamed, as the CLI does). Without the variable, the committed fixtures
//! are concatenated in memory to about 64 MiB. Run by `cargo test --all-targets`, it does one
//! quick pass over the fixtures only, as a smoke test.

use std::io::BufReader;
use std::time::Instant;

const FIXTURES: &[&str] = &[
    "sh-ls-cat.log",
    "python-net.log",
    "tar.log",
    "creds.log",
    "weird-names-yy.log",
    "personality-sched-ns.log",
];

fn fixture_corpus(target_bytes: usize) -> Vec<u8> {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/../../tests/fixtures/strace");
    let mut unit = Vec::new();
    for name in FIXTURES {
        match std::fs::read(format!("{dir}/{name}")) {
            Ok(bytes) => unit.extend_from_slice(&bytes),
            Err(e) => eprintln!("skipping {name}: {e}"),
        }
    }
    let mut corpus = Vec::with_capacity(target_bytes + unit.len());
    while !unit.is_empty() && corpus.len() < target_bytes {
        corpus.extend_from_slice(&unit);
    }
    corpus
}

fn report(label: &str, bytes: u64, seconds: f64, lines: u64, unparsed: u64) {
    let mb_per_s = bytes as f64 / seconds / 1e6;
    println!(
        "strace import {label}: {bytes} bytes, {lines} lines ({unparsed} unparsed) in {seconds:.3} s = {mb_per_s:.1} MB/s"
    );
}

fn main() {
    let benchmarking = std::env::args().any(|a| a == "--bench");
    if let (true, Ok(path)) = (benchmarking, std::env::var("SYSPROF_STRACE_BENCH_LOG")) {
        let file = match std::fs::File::open(&path) {
            Ok(file) => file,
            Err(e) => {
                eprintln!("cannot open {path}: {e}");
                std::process::exit(1);
            }
        };
        let bytes = file.metadata().map(|m| m.len()).unwrap_or(0);
        let start = Instant::now();
        let mut importer = sysprof_core::strace::StraceImporter::new("x86_64");
        if let Err(e) = importer.feed(&path, BufReader::with_capacity(1 << 20, file), None) {
            eprintln!("{e}");
            std::process::exit(1);
        }
        let (_, import_report) = importer.finish();
        report(
            &path,
            bytes,
            start.elapsed().as_secs_f64(),
            import_report.lines,
            import_report.unparsed,
        );
        return;
    }
    let corpus = fixture_corpus(if benchmarking { 64 << 20 } else { 0 });
    let rounds = if benchmarking { 5 } else { 1 };
    for _ in 0..rounds {
        let start = Instant::now();
        let (_, import_report) =
            sysprof_core::strace::bench_support::import_bytes(&corpus, "x86_64");
        report(
            "fixtures",
            corpus.len() as u64,
            start.elapsed().as_secs_f64(),
            import_report.lines,
            import_report.unparsed,
        );
    }
}
