//! The AWS side of the log, built once per process: the SDK settings from the standard
//! chain plus a command's `--profile`/`--region`/`--endpoint-url`, the one CloudWatch
//! Logs client builder every reader and writer uses, and AWS errors as one readable line.

use std::path::PathBuf;
use std::time::Duration;

use aws_sdk_cloudwatchlogs::Client;
use aws_sdk_cloudwatchlogs::config::interceptors::BeforeTransmitInterceptorContextMut;
use aws_sdk_cloudwatchlogs::config::{ConfigBag, Intercept, RuntimeComponents};
use aws_sdk_cloudwatchlogs::error::ProvideErrorMetadata;

use crate::LogError;

/// The log group the templates create and every tool defaults to.
pub const DEFAULT_LOG_GROUP: &str = "/zoomwatch/events";

/// Where a command's AWS settings come from besides the standard chain.
#[derive(Debug, Clone, Default)]
pub struct AwsOptions {
    /// A named profile (else `AWS_PROFILE`, environment, SSO, instance role…).
    pub profile: Option<String>,
    /// A region (else `AWS_REGION` / the profile's).
    pub region: Option<String>,
    /// An endpoint (a VPC endpoint, a local emulator); also `AWS_ENDPOINT_URL`.
    pub endpoint_url: Option<String>,
}

/// Whether the shared AWS config or credentials file defines profile `name`
/// (`[profile name]` / `[name]`), where the SDK looks for them.
fn profile_defined(name: &str) -> bool {
    let home = std::env::var_os("HOME").map(PathBuf::from).unwrap_or_default();
    let config = std::env::var_os("AWS_CONFIG_FILE").map_or_else(|| home.join(".aws/config"), PathBuf::from);
    let creds = std::env::var_os("AWS_SHARED_CREDENTIALS_FILE").map_or_else(|| home.join(".aws/credentials"), PathBuf::from);
    [config, creds].iter().filter_map(|f| std::fs::read_to_string(f).ok()).any(|text| {
        text.lines().map(str::trim).any(|l| {
            let inner = l.strip_prefix('[').and_then(|l| l.strip_suffix(']')).map(str::trim);
            inner.is_some_and(|i| i == name || i.strip_prefix("profile").map(str::trim) == Some(name))
        })
    })
}

/// The SDK settings for an analyst's command: a named profile must exist and a region
/// must be known, or the error says how to fix it (the SDK would only fail later, with
/// a less helpful message, on the first call).
pub async fn load(opts: &AwsOptions) -> Result<aws_config::SdkConfig, LogError> {
    let named = opts.profile.clone().or_else(|| std::env::var("AWS_PROFILE").ok().filter(|p| !p.is_empty()));
    if let Some(p) = named.as_deref()
        && !profile_defined(p)
    {
        return Err(LogError::Config(format!(
            "AWS profile {p:?} is not defined in ~/.aws/config or ~/.aws/credentials (or AWS_CONFIG_FILE): check the name with `aws configure list-profiles`"
        )));
    }
    let mut loader = aws_config::defaults(aws_config::BehaviorVersion::latest());
    if let Some(p) = &opts.profile {
        loader = loader.profile_name(p);
    }
    if let Some(r) = &opts.region {
        loader = loader.region(aws_config::Region::new(r.clone()));
    }
    if let Some(u) = &opts.endpoint_url {
        loader = loader.endpoint_url(u);
    }
    let sdk = loader.load().await;
    if sdk.region().is_none() {
        return Err(LogError::Config("no AWS region: pass --region, or set AWS_REGION / a profile with a region".into()));
    }
    Ok(sdk)
}

/// The SDK settings of a service (the receiver, the scheduled functions): the standard
/// chain alone.
pub async fn load_from_env() -> aws_config::SdkConfig {
    aws_config::load_from_env().await
}

/// Removes the `streaming-` host prefix the SDK adds to `StartLiveTail` requests when a
/// custom endpoint (a local emulator, a VPC endpoint) is configured, where that host
/// does not exist.
#[derive(Debug)]
pub struct StripStreamPrefix;

impl Intercept for StripStreamPrefix {
    fn name(&self) -> &'static str {
        "StripStreamPrefix"
    }

    fn modify_before_transmit(
        &self,
        context: &mut BeforeTransmitInterceptorContextMut<'_>,
        _rc: &RuntimeComponents,
        _cfg: &mut ConfigBag,
    ) -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
        let req = context.request_mut();
        let uri = req.uri().to_owned();
        let Some((scheme, rest)) = uri.split_once("://") else { return Ok(()) };
        // SDK versions have used both `stream-` and `streaming-`.
        if let Some(host) = rest.strip_prefix("streaming-").or_else(|| rest.strip_prefix("stream-")) {
            req.set_uri(format!("{scheme}://{host}"))?;
        }
        Ok(())
    }
}

/// The one CloudWatch Logs client builder. With a `budget`, every operation's retries
/// (standard mode: exponential backoff with jitter on throttling, 5xx and connection
/// errors) fit in it — what a writer answering Zoom within its deadline needs; without,
/// the SDK's defaults (a reader following the group). With a custom endpoint, live tail
/// requests keep its host ([`StripStreamPrefix`]).
pub fn logs_client(sdk: &aws_config::SdkConfig, budget: Option<Duration>) -> Client {
    let mut conf = aws_sdk_cloudwatchlogs::config::Builder::from(sdk);
    if let Some(budget) = budget {
        conf = conf
            .retry_config(
                aws_config::retry::RetryConfig::standard()
                    .with_max_attempts(4)
                    .with_initial_backoff(Duration::from_millis(50))
                    .with_max_backoff(Duration::from_millis(500)),
            )
            .timeout_config(
                aws_config::timeout::TimeoutConfig::builder()
                    .operation_timeout(budget)
                    .operation_attempt_timeout(budget / 2)
                    .connect_timeout(Duration::from_millis(500))
                    .build(),
            );
    }
    if sdk.endpoint_url().is_some() || std::env::var_os("AWS_ENDPOINT_URL").is_some() {
        conf = conf.interceptor(StripStreamPrefix);
    }
    Client::from_conf(conf.build())
}

/// An AWS SDK error as one line that says what to do: `Code: message` for AWS's own
/// refusals (an access denial names the missing action), and for failures before AWS
/// answered — no credentials, an expired SSO session, an unreachable endpoint — a
/// sentence instead of the SDK's nested debug dump.
pub fn describe<E: ProvideErrorMetadata + std::error::Error>(e: &E) -> String {
    describe_service(e, "CloudWatch Logs")
}

/// [`describe`] for a call to `service` (`DynamoDB`, `S3`…): the same sentences, naming
/// the service that could not be reached or is limiting requests.
pub fn describe_service<E: ProvideErrorMetadata + std::error::Error>(e: &E, service: &str) -> String {
    match (e.code(), e.message().map(|m| first_line(m, 300))) {
        (Some(c @ ("ExpiredTokenException" | "ExpiredToken" | "RequestExpired")), _) => {
            return format!(
                "the AWS session has expired ({c}): run `aws sso login` (with --profile if you use one) or refresh the credentials"
            );
        }
        (Some(c @ ("UnrecognizedClientException" | "InvalidSignatureException" | "InvalidClientTokenId")), m) => {
            return format!(
                "AWS does not accept these credentials ({c}: {}): check the access key, the profile and the region",
                m.unwrap_or_default()
            );
        }
        (Some(c @ "AccessDeniedException"), Some(m)) => {
            // AWS's message names the action ("… not authorized to perform: logs:FilterLogEvents on …").
            return format!(
                "{c}: {m} — grant that action to this identity (template.yaml's analyst and receiver policies list what each needs)"
            );
        }
        (Some(c @ "ThrottlingException"), m) => {
            let who = service.trim_end_matches(" Logs");
            return format!("{c}: {} — {who} is limiting this account's requests; retrying with back-off", m.unwrap_or_default());
        }
        (Some(c), Some(m)) => return format!("{c}: {m}"),
        (Some(c), None) => return c.to_owned(),
        _ => {}
    }
    // The innermost cause says most (e.g. "Connection refused (os error 111)").
    let (innermost, chain) = error_chain(e);
    let lower = chain.to_ascii_lowercase();
    if lower.contains("sso") && (lower.contains("expired") || lower.contains("token")) {
        return "the AWS SSO session has expired or was never started: run `aws sso login` (with --profile if you use one)".to_owned();
    }
    if lacks_credentials(&lower) {
        // What to do first: a narrow status line shows the start.
        return format!(
            "no usable AWS credentials: set AWS_PROFILE or pass --profile, run `aws sso login`, or export AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY ({})",
            first_line(&innermost, 200)
        );
    }
    if lower.contains("dispatch failure") || lower.contains("timeout") || lower.contains("connect") {
        return format!(
            "cannot reach {service}: check the region, the network or proxy, and the endpoint (--endpoint-url, AWS_ENDPOINT_URL) ({})",
            first_line(&innermost, 200)
        );
    }
    first_line(&chain, 200)
}

/// Whether a lower-cased error chain says no credentials were found at all (not an
/// expired SSO session, which `aws sso login` in another terminal fixes while zoomwatch
/// retries).
fn lacks_credentials(lower: &str) -> bool {
    let no_identity = lower.contains("identity resolver") || lower.contains("no credentials");
    !lower.contains("sso") && (no_identity || (lower.contains("credentials") && (lower.contains("load") || lower.contains("provider"))))
}

/// Whether `e` failed because this process has no AWS credentials at all: retrying cannot
/// help (the standard chain is read once), so readers stop and say what to do.
pub fn missing_credentials<E: ProvideErrorMetadata + std::error::Error>(e: &E) -> bool {
    if e.code().is_some() {
        return false;
    }
    lacks_credentials(&error_chain(e).1.to_ascii_lowercase())
}

/// An error's innermost cause, and the error with all its causes on one line
/// (`outer: cause: innermost`).
pub(crate) fn error_chain(e: &dyn std::error::Error) -> (String, String) {
    let mut innermost = e.to_string();
    let mut chain = innermost.clone();
    let mut src = e.source();
    while let Some(s) = src {
        innermost = s.to_string();
        chain.push_str(": ");
        chain.push_str(&innermost);
        src = s.source();
    }
    (innermost, chain)
}

/// The first line of `t`, at most `max` characters.
fn first_line(t: &str, max: usize) -> String {
    t.lines().next().unwrap_or("").chars().take(max).collect()
}
