//! A `zoomwatch-ingest serve` (or any zoomwatch binary) run as its own process, as an
//! operator runs it: stderr to a file the test reads, killed when dropped.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::tools;

/// A running zoomwatch process.
pub struct Process {
    /// The child (for `kill`, SIGKILL included).
    pub child: Child,
    /// Its stderr.
    pub log: PathBuf,
}

impl Drop for Process {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Process {
    /// Starts workspace binary `bin` with `args` and `env`, stderr appended to
    /// `dir/NAME.log`.
    pub fn start(bin: &str, args: &[String], env: &[(String, String)], dir: &Path, name: &str) -> Self {
        let log = dir.join(format!("{name}.log"));
        let err = std::fs::OpenOptions::new().create(true).append(true).open(&log).expect("the process log");
        let child = Command::new(tools::workspace_bin(bin))
            .args(args)
            .envs(env.iter().map(|(k, v)| (k.as_str(), v.as_str())))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(err)
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {bin}: {e}"));
        Self { child, log }
    }

    /// What it said on stderr so far.
    pub fn said(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// Waits until its stderr holds `text` (panics with the log after 60 s).
    pub fn wait_for(&self, text: &str) {
        let deadline = Instant::now() + Duration::from_secs(60);
        while !self.said().contains(text) {
            assert!(Instant::now() < deadline, "{} never said {text:?}:\n{}", self.log.display(), self.said());
            std::thread::sleep(Duration::from_millis(100));
        }
    }
}

/// `zoomwatch-ingest serve` on a free loopback port writing to log group `group` with
/// the AWS settings in `env`, plus `extra` arguments: the process and its webhook URL.
pub fn receiver(group: &str, extra: &[&str], env: &[(String, String)], dir: &Path, name: &str) -> (Process, String) {
    let port = tools::free_port();
    let mut args: Vec<String> =
        ["serve", "--listen", &format!("127.0.0.1:{port}"), "--sink", &format!("log-group:{group}")].map(str::to_owned).to_vec();
    args.extend(extra.iter().map(|s| (*s).to_owned()));
    let mut env = env.to_vec();
    env.push(("ZOOM_WEBHOOK_SECRET_TOKEN".into(), crate::SECRET.into()));
    env.push(("HOME".into(), dir.display().to_string()));
    let p = Process::start("zoomwatch-ingest", &args, &env, dir, name);
    p.wait_for("listening on");
    (p, format!("http://127.0.0.1:{port}/zoom/webhook"))
}
