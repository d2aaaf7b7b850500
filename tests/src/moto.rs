//! A CloudWatch Logs-compatible server (moto) on a loopback port, one per test, stopped
//! when dropped. Clients reach it through `AWS_ENDPOINT_URL` and dummy credentials.

use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::tools;

/// A running moto server.
pub struct Moto {
    child: Child,
    /// `http://127.0.0.1:PORT`
    pub url: String,
}

impl Moto {
    /// Starts moto and waits until it answers (panics with the reason otherwise).
    pub fn start() -> Self {
        let bin = tools::find("moto_server");
        let port = tools::free_port();
        let child = Command::new(&bin)
            .args(["-H", "127.0.0.1", "-p", &port.to_string()])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {}: {e}", bin.display()));
        let moto = Self { child, url: format!("http://127.0.0.1:{port}") };
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
                return moto;
            }
            assert!(Instant::now() < deadline, "moto_server did not start on port {port}");
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// An SDK configuration pointing at this server (region us-east-1, dummy keys).
    pub async fn sdk_config(&self) -> aws_config::SdkConfig {
        let creds = aws_sdk_cloudwatchlogs::config::Credentials::new("test", "test", None, None, "zoomwatch-tests");
        aws_config::defaults(aws_config::BehaviorVersion::latest())
            .region(aws_config::Region::new("us-east-1"))
            .endpoint_url(&self.url)
            .credentials_provider(creds)
            .load()
            .await
    }

    /// Environment for child processes (the Lambda emulator) to reach this server.
    pub fn env(&self) -> Vec<(&'static str, String)> {
        vec![
            ("AWS_ENDPOINT_URL", self.url.clone()),
            ("AWS_ACCESS_KEY_ID", "test".into()),
            ("AWS_SECRET_ACCESS_KEY", "test".into()),
            ("AWS_REGION", "us-east-1".into()),
            ("AWS_DEFAULT_REGION", "us-east-1".into()),
        ]
    }
}

/// Every record in log group `group`, all pages of `FilterLogEvents`.
pub async fn read_all(client: &aws_sdk_cloudwatchlogs::Client, group: &str) -> Vec<zoomwatch_shared::RecordV1> {
    let mut out = Vec::new();
    let mut token = None;
    loop {
        let page = client.filter_log_events().log_group_name(group).set_next_token(token).send().await.expect("FilterLogEvents");
        for e in page.events() {
            out.push(serde_json::from_str(e.message().unwrap_or_default()).expect("a stored record"));
        }
        token = page.next_token().map(str::to_owned);
        if token.is_none() {
            return out;
        }
    }
}

impl Drop for Moto {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
