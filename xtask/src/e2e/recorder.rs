//! One `sysprof record --backend ebpf --unit` run in the guest: start, attach, end, BPF objects held.

use super::cmd;
use super::container::Container;
use super::leaks::{self, BpfIds};
use anyhow::{bail, Context, Result};
use std::fs;
use std::path::Path;
use std::process::{Child, ExitStatus, Stdio};
use std::time::{Duration, Instant};

/// A recorder started in the guest. Dropping it stops the recorder (SIGTERM, then SIGKILL of
/// its `nsenter`), so that a failing step never leaves one behind.
pub struct Recording {
    /// `nsenter`, whose first child is the recorder (nsenter forks to enter the PID namespace).
    nsenter: Option<Child>,
    /// The recorder's host PID, once it attached.
    recorder: Option<u32>,
    held: BpfIds,
    started: Instant,
    attached_after: Option<Duration>,
}

/// A recorder that exited.
pub struct Finished {
    pub status: ExitStatus,
    /// From the start of the recorder to its exit.
    pub elapsed: Duration,
    /// Every BPF object the recorder held while it ran.
    pub held: BpfIds,
}

impl Recording {
    /// Starts `SYSPROF record --backend ebpf --unit UNIT --duration DURATION [-o TRACE]
    /// EXTRA…` in the guest (paths as the guest sees them; without a trace path the recording
    /// goes to the unit's recordings in the guest's state directory), its output going to `log`
    /// on the host.
    pub fn spawn(
        guest: &Container,
        sysprof: &str,
        unit: &str,
        duration: Duration,
        trace: Option<&str>,
        extra: &[&str],
        log: &Path,
    ) -> Result<Recording> {
        let log_file =
            fs::File::create(log).with_context(|| format!("cannot create {}", log.display()))?;
        let secs = format!("{}s", duration.as_secs());
        let mut argv = vec![
            sysprof,
            "record",
            "--backend",
            "ebpf",
            "--unit",
            unit,
            "--duration",
            &secs,
        ];
        if let Some(trace) = trace {
            argv.extend(["-o", trace]);
        }
        argv.extend_from_slice(extra);
        let mut command = guest.command(&argv);
        command
            .stdin(Stdio::null())
            .stdout(log_file.try_clone().context("cannot duplicate the log")?)
            .stderr(log_file);
        let started = Instant::now();
        let child = command
            .spawn()
            .with_context(|| format!("cannot start {}", argv.join(" ")))?;
        Ok(Recording {
            nsenter: Some(child),
            recorder: None,
            held: BpfIds::default(),
            started,
            attached_after: None,
        })
    }

    /// Waits until the recorder holds BPF links and their number has settled (every hook
    /// attached).
    pub fn wait_attached(&mut self) -> Result<()> {
        let deadline = Instant::now() + Duration::from_secs(60);
        let mut last = 0;
        let mut stable = 0;
        let child = self.nsenter.as_mut().context("recorder already reaped")?;
        loop {
            cmd::check_interrupt()?;
            if let Some(status) = child.try_wait().context("cannot wait for the recorder")? {
                bail!("the recorder exited before attaching ({status})");
            }
            if let Some(pid) = first_child(child.id()) {
                let held = leaks::held_by(pid);
                let links = held.links.len();
                if links > 0 && links == last {
                    stable += 1;
                    if stable >= 3 {
                        self.recorder = Some(pid);
                        self.held.extend(&held);
                        self.attached_after = Some(self.started.elapsed());
                        return Ok(());
                    }
                } else {
                    stable = 0;
                }
                last = links;
            }
            if Instant::now() >= deadline {
                bail!("the recorder did not attach its BPF programs within 60s");
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// The recorder's host PID (once attached).
    pub fn pid(&self) -> Option<u32> {
        self.recorder
    }

    /// The BPF objects the recorder holds (as of the last look).
    pub fn held(&self) -> &BpfIds {
        &self.held
    }

    /// How long the recorder took to attach.
    pub fn attached_after(&self) -> Option<Duration> {
        self.attached_after
    }

    /// Waits for the recorder to end (its `--duration`, or [`Recording::request_stop`]), for
    /// at most `timeout`.
    pub fn wait(mut self, timeout: Duration) -> Result<Finished> {
        self.finish(timeout)
    }

    /// Asks the recorder to end now without waiting for it (SIGTERM: it writes what it has
    /// and detaches); [`Recording::wait`] collects it. Several recorders end faster this way
    /// than one after another.
    pub fn request_stop(&self) {
        self.signal_recorder();
    }

    fn signal_recorder(&self) {
        let Some(nsenter) = self.nsenter.as_ref() else {
            return;
        };
        // Before the attach the recorder's PID is not known yet: it is nsenter's child.
        let recorder = self.recorder.or_else(|| first_child(nsenter.id()));
        if let Some(pid) = recorder.and_then(|p| libc::pid_t::try_from(p).ok()) {
            // SAFETY: plain kill(2) of the recorder we started; its parent (nsenter) is not
            // reaped yet, so the PID cannot have been reused by another process.
            unsafe { libc::kill(pid, libc::SIGTERM) };
        }
    }

    fn finish(&mut self, timeout: Duration) -> Result<Finished> {
        // Objects created after the attach (maps of late hooks) count as the recorder's too.
        if let Some(pid) = self.recorder {
            self.held.extend(&leaks::held_by(pid));
        }
        let child = self.nsenter.as_mut().context("recorder already reaped")?;
        let status = cmd::wait_child(child, timeout, "sysprof record")?;
        self.nsenter = None;
        // A Ctrl-C reaches the recorder too: report the interruption, not its exit status.
        cmd::check_interrupt()?;
        Ok(Finished {
            status,
            elapsed: self.started.elapsed(),
            held: self.held.clone(),
        })
    }
}

impl Drop for Recording {
    fn drop(&mut self) {
        self.signal_recorder();
        if let Some(child) = self.nsenter.as_mut() {
            let deadline = Instant::now() + Duration::from_secs(10);
            while matches!(child.try_wait(), Ok(None)) && Instant::now() < deadline {
                std::thread::sleep(Duration::from_millis(50));
            }
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

/// The first child of `pid`.
fn first_child(pid: u32) -> Option<u32> {
    fs::read_to_string(format!("/proc/{pid}/task/{pid}/children"))
        .ok()?
        .split_whitespace()
        .next()?
        .parse()
        .ok()
}
