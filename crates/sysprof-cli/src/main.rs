//! The `sysprof` binary: argument parsing, dispatch, error rendering and exit codes.

mod cli;
mod commands;
mod output;
mod state;

use clap::Parser;
use std::process::ExitCode;

/// Exit status for findings (`check` violations, `diff` additions).
pub const EXIT_FINDINGS: u8 = 1;
/// Exit status for usage errors, bad input and sysprof's own failures.
pub const EXIT_ERROR: u8 = 2;

fn main() -> ExitCode {
    // A bug must still end with the documented error status, never Rust's 101.
    std::panic::set_hook(Box::new(|info| {
        eprintln!("error: internal error in sysprof: {info}");
        std::process::exit(i32::from(EXIT_ERROR));
    }));
    let cli = match cli::Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            let code = if e.use_stderr() { EXIT_ERROR } else { 0 };
            let _ = e.print();
            return ExitCode::from(code);
        }
    };
    match commands::run(cli) {
        Ok(code) => ExitCode::from(code),
        Err(e) => {
            // One line: the error and its causes, joined.
            eprintln!("error: {e:#}");
            ExitCode::from(EXIT_ERROR)
        }
    }
}
