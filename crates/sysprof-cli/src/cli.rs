//! The command-line interface definition (clap derive); also feeds completions and the man page.

use clap::{Args, Parser, Subcommand, ValueEnum};
use std::path::PathBuf;

const EXIT_CODES: &str = "\
Exit status:
  0  success (for `record -- CMD`: the command's own exit status, 128+N if killed by signal N)
  1  findings: `check` found violations, `diff` found new behaviour, `apply` rolled back a
     drop-in that failed its health check
  2  usage error, bad input, or a failure of sysprof itself";

/// Watch what a service really does and turn it into the tightest systemd sandbox that still works.
#[derive(Debug, Parser)]
#[command(name = "sysprof", version, after_help = EXIT_CODES, propagate_version = true)]
pub struct Cli {
    /// Print nothing but results and errors.
    #[arg(short, long, global = true)]
    pub quiet: bool,
    /// Where per-unit recordings and applied drop-ins are kept (default: $SYSPROF_STATE_DIR,
    /// else /var/lib/sysprof).
    #[arg(long, global = true, value_name = "DIR")]
    pub state_dir: Option<PathBuf>,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Record what a unit, cgroup, process tree or command does into a trace.
    Record(RecordArgs),
    /// Convert other tools' logs into a trace.
    #[command(subcommand)]
    Import(ImportCommand),
    /// Suggest a `[Service]` drop-in from one or more traces.
    Suggest(SuggestArgs),
    /// Replay traces against a policy (unit file or drop-ins); exit 1 if anything would break.
    Check(CheckArgs),
    /// Install a unit's suggested drop-in, restart it, check its health, roll back on failure.
    Apply(ApplyArgs),
    /// Put back the drop-in a unit had before the last `sysprof apply`.
    Revert(RevertArgs),
    /// Show what a new trace does that an old one did not, and the reverse; exit 1 on additions.
    Diff(DiffArgs),
    /// Union several traces into one.
    Merge(MergeArgs),
    /// Summarise a trace.
    Show(ShowArgs),
    /// Record a built-in example workload and print the drop-in suggested for it.
    Demo(DemoArgs),
    /// Print shell completions.
    Completions {
        #[arg(value_enum)]
        shell: clap_complete::Shell,
    },
    /// Write the man pages (sysprof.1 and one per subcommand) into a directory.
    Man {
        /// Output directory.
        #[arg(short, long, default_value = ".")]
        output: PathBuf,
    },
}

/// Output format for commands that print data.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum, Default)]
pub enum Format {
    #[default]
    Text,
    Json,
}

/// Which recorder to use.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum, Default)]
pub enum BackendChoice {
    /// eBPF when the kernel and privileges allow it, ptrace otherwise.
    #[default]
    Auto,
    Ebpf,
    Ptrace,
}

#[derive(Debug, Args)]
pub struct RecordArgs {
    /// A systemd unit to record (its cgroup).
    #[arg(long, conflicts_with_all = ["cgroup", "pid"])]
    pub unit: Option<String>,
    /// A cgroup v2 directory to record, with every descendant cgroup.
    #[arg(long, conflicts_with = "pid")]
    pub cgroup: Option<PathBuf>,
    /// Processes to attach to (every thread), with their future descendants.
    #[arg(long, num_args = 1.., value_delimiter = ',')]
    pub pid: Vec<u32>,
    /// Recorder backend.
    #[arg(long, value_enum, default_value_t)]
    pub backend: BackendChoice,
    /// Stop after this long (systemd syntax: `90s`, `10m`, `1h 30min`).
    #[arg(long, value_parser = parse_duration)]
    pub duration: Option<std::time::Duration>,
    /// Where to write the trace (default: for --unit, the unit's recordings in the state
    /// directory; otherwise ./sysprof-<target>-<time>.json).
    #[arg(short, long)]
    pub output: Option<PathBuf>,
    /// With --unit: restart the unit once recording has started, so its start-up is seen from
    /// the first exec.
    #[arg(long, requires = "unit", conflicts_with = "exercise")]
    pub restart: bool,
    /// With --unit: drive the unit through stop, cold start (its runtime state under /run
    /// removed, as after a reboot), reload, restart, stop and start while recording; the
    /// recording ends when the exercise does. The steps are printed first.
    #[arg(long, requires = "unit")]
    pub exercise: bool,
    /// Let --exercise restart units that could cut this machine off (sshd, dbus, networking, …).
    #[arg(long, requires = "exercise")]
    pub yes: bool,
    /// End the recording once nothing new has been observed for this long (systemd syntax).
    #[arg(long, value_parser = parse_duration, value_name = "D")]
    pub until_stable: Option<std::time::Duration>,
    /// ptrace backend: do not pin tracer and tracee to one CPU.
    #[arg(long)]
    pub no_pin: bool,
    /// Command to launch and record (after `--`).
    #[arg(last = true)]
    pub command: Vec<std::ffi::OsString>,
}

fn parse_duration(text: &str) -> Result<std::time::Duration, String> {
    sysprof_core::timespan::parse(text)
}

#[derive(Debug, Subcommand)]
pub enum ImportCommand {
    /// Import `strace -f` or `strace -ff -o PREFIX` logs.
    Strace(ImportStraceArgs),
}

#[derive(Debug, Args)]
pub struct ImportStraceArgs {
    /// Log files (for `-ff`, every PREFIX.PID file).
    #[arg(required = true)]
    pub files: Vec<PathBuf>,
    /// Where to write the trace.
    #[arg(short, long)]
    pub output: PathBuf,
    /// `uname -m` of the machine that produced the logs (default: this machine's).
    #[arg(long)]
    pub arch: Option<String>,
}

/// Facts about the systemd the output is for.
#[derive(Debug, Args)]
pub struct TargetArgs {
    /// Major version of the target's systemd (default: the trace's, else the local one).
    #[arg(long)]
    pub systemd_version: Option<u32>,
    /// Saved output of the target's `systemd-analyze syscall-filter` (default: run it locally
    /// when the local systemd is the target version, else the embedded table).
    #[arg(long)]
    pub syscall_groups: Option<PathBuf>,
}

/// How `SystemCallFilter=` is written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum, Default)]
pub enum LevelChoice {
    /// Explicit syscall names (tightest).
    #[default]
    Strict,
    /// `@system-service` with `~@group` removals (easier to read and maintain).
    Groups,
}

/// Which evidence and which current settings a suggestion is made from.
#[derive(Debug, Args)]
pub struct SuggestSource {
    /// A unit: its recordings in the state directory (merged with any TRACES given), and its
    /// current unit file and drop-ins, which the suggestion never loosens.
    #[arg(long)]
    pub unit: Option<String>,
    /// The current unit file and drop-ins (in order) the suggestion must not loosen, instead of
    /// asking systemd for the unit's.
    #[arg(short, long = "policy", value_name = "FILE")]
    pub policies: Vec<PathBuf>,
    #[arg(long, value_enum, default_value_t)]
    pub level: LevelChoice,
    #[command(flatten)]
    pub target: TargetArgs,
}

#[derive(Debug, Args)]
pub struct SuggestArgs {
    /// Traces to combine (with --unit: in addition to the unit's recordings).
    #[arg(required_unless_present = "unit")]
    pub traces: Vec<PathBuf>,
    #[command(flatten)]
    pub source: SuggestSource,
    /// Precede every directive with the evidence behind it.
    #[arg(long)]
    pub explain: bool,
    #[arg(long, value_enum, default_value_t)]
    pub format: Format,
    /// Write the drop-in to this file (atomically) instead of stdout.
    #[arg(short, long)]
    pub output: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct ApplyArgs {
    /// The unit to harden.
    #[arg(long)]
    pub unit: String,
    /// Install this drop-in instead of suggesting one from the unit's recordings.
    #[arg(long, value_name = "FILE")]
    pub dropin: Option<PathBuf>,
    /// Traces to suggest from, in addition to the unit's recordings.
    pub traces: Vec<PathBuf>,
    /// Write under /run/systemd/system (gone at reboot) instead of /etc/systemd/system.
    #[arg(long)]
    pub runtime: bool,
    /// How long the unit must stay active, without restarting, to count as healthy.
    #[arg(long, value_parser = parse_duration, default_value = "10s")]
    pub settle: std::time::Duration,
    /// A command (run with `sh -c`) that must succeed after the settle time, e.g. a health probe.
    #[arg(long, value_name = "CMD")]
    pub check_cmd: Option<String>,
    #[arg(long, value_enum, default_value_t)]
    pub level: LevelChoice,
    #[command(flatten)]
    pub target: TargetArgs,
}

#[derive(Debug, Args)]
pub struct RevertArgs {
    /// The unit whose last `sysprof apply` is undone.
    #[arg(long)]
    pub unit: String,
    /// Do not restart the unit afterwards (the previous drop-in applies at its next start).
    #[arg(long)]
    pub no_restart: bool,
}

#[derive(Debug, Args)]
pub struct CheckArgs {
    /// Traces to replay.
    #[arg(required = true)]
    pub traces: Vec<PathBuf>,
    /// Unit file or drop-in; repeat to apply several in order, as systemd does.
    #[arg(short, long, required = true)]
    pub policy: Vec<PathBuf>,
    #[arg(long, value_enum, default_value_t)]
    pub format: Format,
    #[command(flatten)]
    pub target: TargetArgs,
}

#[derive(Debug, Args)]
pub struct DiffArgs {
    pub old: PathBuf,
    pub new: PathBuf,
    #[arg(long, value_enum, default_value_t)]
    pub format: Format,
}

#[derive(Debug, Args)]
pub struct MergeArgs {
    #[arg(required = true, num_args = 2..)]
    pub traces: Vec<PathBuf>,
    #[arg(short, long)]
    pub output: PathBuf,
}

#[derive(Debug, Args)]
pub struct ShowArgs {
    pub trace: PathBuf,
    #[arg(long, value_enum, default_value_t)]
    pub format: Format,
}

#[derive(Debug, Args)]
pub struct DemoArgs {
    /// Recorder backend.
    #[arg(long, value_enum, default_value_t)]
    pub backend: BackendChoice,
    /// Also keep the recorded trace here.
    #[arg(short, long)]
    pub output: Option<PathBuf>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn cli_definition_is_consistent() {
        Cli::command().debug_assert();
    }
}
