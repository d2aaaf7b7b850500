//! Every AWS failure a user can cause, as the user sees it: one line saying what happened
//! and what to do, from `zoomwatch tail --log-group` and the receiver's startup — never
//! the SDK's debug dump. No credentials and a missing profile (an empty environment), an
//! unreachable endpoint, a missing log group and the wrong region (moto), an access
//! denial, an expired session and throttling (the fault proxy in front of moto).

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::process::Command;

use zoomwatch_e2e::faults::{Fault, FaultProxy};
use zoomwatch_e2e::moto::Moto;
use zoomwatch_e2e::tools;

/// Runs `bin args` with only PATH, an empty HOME and `env` (stopped after 60 s, so a hang
/// is a failure naming the case, exit 124): (exit code, stderr).
fn run(bin: &str, args: &[&str], env: &[(&str, &str)]) -> (Option<i32>, String) {
    let home = tempfile::tempdir().unwrap();
    let mut cmd = Command::new("timeout");
    cmd.arg("60")
        .arg(tools::workspace_bin(bin))
        .args(args)
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("HOME", home.path());
    for (k, v) in env {
        cmd.env(k, v);
    }
    let out = cmd.output().unwrap();
    (out.status.code(), String::from_utf8_lossy(&out.stderr).into_owned())
}

/// The `error:` line of a failed `tail`, checked to be one short line with no dump.
fn error_line(code: Option<i32>, stderr: &str) -> String {
    assert_eq!(code, Some(2), "exit code (124: still running after 60 s): {stderr}");
    let errors: Vec<&str> = stderr.lines().filter(|l| l.starts_with("error:")).collect();
    assert_eq!(errors.len(), 1, "{stderr}");
    for bad in ["DispatchFailure", "ConnectorError", "ProviderError", "SdkBody", "{ "] {
        assert!(!stderr.contains(bad), "SDK internals in {stderr}");
    }
    assert!(errors[0].len() < 400, "{}", errors[0]);
    errors[0].to_owned()
}

const KEYS: [(&str, &str); 2] = [("AWS_ACCESS_KEY_ID", "test"), ("AWS_SECRET_ACCESS_KEY", "test")];

// Multi-threaded: the proxy answers on the runtime while a test thread waits for the binary.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn aws_failures_are_one_line_saying_what_to_do() {
    // No credentials anywhere.
    let (code, err) = run("zoomwatch", &["tail", "--log-group", "/x", "--region", "eu-west-1"], &[]);
    let line = error_line(code, &err);
    assert!(line.contains("no usable AWS credentials") && line.contains("aws sso login"), "{line}");
    // Following, or watching as a service, does not retry that forever: retrying cannot
    // help, so it stops the same way.
    let (code, err) = run("zoomwatch", &["tail", "--follow", "--log-group", "/x", "--region", "eu-west-1"], &[]);
    assert!(error_line(code, &err).contains("no usable AWS credentials"), "{err}");
    let state = tempfile::tempdir().unwrap();
    let checkpoint = state.path().join("w.json");
    let (code, err) = run(
        "zoomwatch",
        &["watch", "--log-group", "/x", "--region", "eu-west-1", "--checkpoint", checkpoint.to_str().unwrap(), "--alerts-to", "stdout"],
        &[],
    );
    assert!(code != Some(0) && code != Some(124) && err.contains("no usable AWS credentials"), "{code:?} {err}");
    // No region.
    let (code, err) = run("zoomwatch", &["tail", "--log-group", "/x"], &KEYS);
    assert!(error_line(code, &err).contains("no AWS region: pass --region"), "{err}");
    // A profile that does not exist.
    let (code, err) = run("zoomwatch", &["tail", "--log-group", "/x", "--region", "eu-west-1"], &[("AWS_PROFILE", "incident-typo")]);
    assert!(error_line(code, &err).contains("AWS profile \"incident-typo\" is not defined"), "{err}");
    // Nothing listening at the endpoint.
    let env = [KEYS[0], KEYS[1], ("AWS_REGION", "us-east-1")];
    let (code, err) = run("zoomwatch", &["tail", "--log-group", "/x", "--endpoint-url", "http://127.0.0.1:9"], &env);
    assert!(error_line(code, &err).contains("cannot reach CloudWatch Logs"), "{err}");

    let moto = Moto::start();
    let direct = aws_sdk_cloudwatchlogs::Client::new(&moto.sdk_config().await);
    direct.create_log_group().log_group_name("/zoomwatch/events").send().await.unwrap();
    // A log group that does not exist, and one that exists in another region.
    let (code, err) = run("zoomwatch", &["tail", "--log-group", "/zoomwatch/evnets", "--endpoint-url", &moto.url], &env);
    assert!(error_line(code, &err).contains("log group /zoomwatch/evnets does not exist in us-east-1"), "{err}");
    let (code, err) =
        run("zoomwatch", &["tail", "--log-group", "/zoomwatch/events", "--endpoint-url", &moto.url, "--region", "eu-west-1"], &env);
    assert!(error_line(code, &err).contains("does not exist in eu-west-1 (another --region or account?"), "{err}");
    // Reachable and present: no error at all.
    let (code, err) = run("zoomwatch", &["tail", "--log-group", "/zoomwatch/events", "--endpoint-url", &moto.url], &env);
    assert_eq!(code, Some(0), "{err}");

    // What AWS itself refuses, through the proxy.
    let proxy = FaultProxy::start(&moto.url).await;
    let cases = [
        (
            Fault::Answer(
                400,
                "AccessDeniedException",
                "User: arn:aws:iam::123456789012:user/analyst is not authorized to perform: logs:FilterLogEvents on resource: arn:aws:logs:us-east-1:123456789012:log-group:/zoomwatch/events:*",
            ),
            "logs:FilterLogEvents",
            "grant that action",
        ),
        (
            Fault::Answer(400, "ExpiredTokenException", "The security token included in the request is expired"),
            "the AWS session has expired",
            "aws sso login",
        ),
        (
            Fault::Answer(400, "UnrecognizedClientException", "The security token included in the request is invalid."),
            "AWS does not accept these credentials",
            "check the access key",
        ),
        (Fault::Throttle, "ThrottlingException", "limiting this account's requests"),
    ];
    for (fault, a, b) in cases {
        proxy.set("FilterLogEvents", fault);
        let (code, err) = run("zoomwatch", &["tail", "--log-group", "/zoomwatch/events", "--endpoint-url", &proxy.url], &env);
        let line = error_line(code, &err);
        assert!(line.contains(a) && line.contains(b), "{line}");
    }

    // The receiver says at startup what is wrong, in one line, and starts anyway.
    let mut child = Command::new(tools::workspace_bin("zoomwatch-ingest"))
        .args(["serve", "--listen", "127.0.0.1:0", "--sink", "cloudwatch:/zoomwatch/events"])
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("HOME", "/nonexistent")
        .env("AWS_REGION", "eu-west-1")
        .env("ZOOM_WEBHOOK_SECRET_TOKEN", "startup-check-secret")
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let stderr = child.stderr.take().unwrap();
    let mut lines = std::io::BufRead::lines(std::io::BufReader::new(stderr));
    let mut seen = Vec::new();
    let warning = loop {
        let line = lines.next().expect("the receiver kept running").unwrap();
        seen.push(line.clone());
        if line.starts_with("zoomwatch-ingest: warning:") {
            break line;
        }
        assert!(seen.len() < 20, "{seen:#?}");
    };
    assert!(warning.contains("no usable AWS credentials") && !warning.contains("ProviderError"), "{warning}");
    let listening = lines.next().unwrap().unwrap();
    let _ = child.kill();
    let _ = child.wait();
    assert!(seen.iter().chain([&listening]).all(|l| !l.contains("ProviderError") && !l.contains("SdkBody")), "{seen:#?}");
}
