//! `sysprof check`: replay traces against a policy; one line per behaviour it would break.

use crate::cli::{CheckArgs, Format};
use crate::output::{note, print};
use crate::EXIT_FINDINGS;
use anyhow::{Context, Result};
use sysprof_core::unit::{parse_unit_bytes, Policy};

/// Policy files larger than this are refused (a unit file is a few kilobytes).
const MAX_POLICY_BYTES: u64 = 16 << 20;

pub fn run(args: CheckArgs, quiet: bool) -> Result<u8> {
    let trace = super::load_merged(&args.traces)?;
    let facts = super::target_facts(&args.target, &trace, quiet)?;
    let mut units = Vec::new();
    for path in &args.policy {
        let name = path.display().to_string();
        let meta = std::fs::metadata(path).with_context(|| format!("cannot read {name}"))?;
        if meta.is_dir() {
            anyhow::bail!("{name} is a directory, not a unit file");
        }
        if meta.len() > MAX_POLICY_BYTES {
            anyhow::bail!("{name} is larger than {MAX_POLICY_BYTES} bytes; not a unit file");
        }
        let bytes = std::fs::read(path).with_context(|| format!("cannot read {name}"))?;
        units.push(parse_unit_bytes(&name, &bytes)?);
    }
    let policy = Policy::from_units(&units, &facts.groups);
    for w in &policy.warnings {
        note(quiet, &format!("warning: {w}"));
    }
    let violations = sysprof_core::check::check(&trace, &policy, &facts.groups);
    let text = match args.format {
        Format::Json => format!("{}\n", serde_json::to_string_pretty(&violations)?),
        Format::Text => violations.iter().map(|v| format!("{v}\n")).collect(),
    };
    print(&text)?;
    if !violations.is_empty() {
        note(
            quiet,
            &format!(
                "{} observed behaviours would break under this policy",
                violations.len()
            ),
        );
        return Ok(EXIT_FINDINGS);
    }
    Ok(0)
}
