//! A stand-in for a Lambda function URL with `AuthType: AWS_IAM`, in front of the Lambda
//! Runtime API emulator: it does what AWS does before the function runs — checks the
//! request's SigV4 signature (service `lambda`, the region, the time within 5 minutes)
//! against the identities it knows, refuses anything else with 403 as AWS does — then
//! builds the function URL event with the caller's identity in
//! `requestContext.authorizer.iam` and invokes the function through the emulator.
//! Strict: a wrong service, region, key, body or header in the signature fails.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

use axum::body::Bytes;
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

/// The account the stand-in's identities belong to.
pub const ACCOUNT: &str = "123456789012";

/// An identity AWS would authenticate.
#[derive(Debug, Clone)]
pub struct Identity {
    /// Access key id.
    pub access_key: String,
    /// Secret access key.
    pub secret: String,
    /// The identity's ARN.
    pub arn: String,
}

impl Identity {
    /// An IAM user of [`ACCOUNT`].
    pub fn user(name: &str) -> Self {
        Self {
            access_key: format!("AKIA{}", name.to_uppercase()),
            secret: format!("{name}-secret-key-0123456789"),
            arn: format!("arn:aws:iam::{ACCOUNT}:user/{name}"),
        }
    }
}

/// The running front.
pub struct FunctionUrl {
    /// `http://127.0.0.1:PORT/`.
    pub url: String,
    refused: Arc<Mutex<Vec<String>>>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for FunctionUrl {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl FunctionUrl {
    /// Starts on a free loopback port, invoking `function` on the emulator at
    /// `emulator_port`, for the `region` and `identities` given.
    pub async fn start(emulator_port: u16, function: &str, region: &str, identities: Vec<Identity>) -> Self {
        let refused = Arc::new(Mutex::new(Vec::new()));
        let keys: Arc<HashMap<String, Identity>> = Arc::new(identities.into_iter().map(|i| (i.access_key.clone(), i)).collect());
        let invoke = format!("http://127.0.0.1:{emulator_port}/2015-03-31/functions/{function}/invocations");
        let region = region.to_owned();
        let app = axum::Router::new().fallback({
            let refused = refused.clone();
            move |method: Method, uri: Uri, headers: HeaderMap, body: Bytes| {
                let (keys, refused, invoke, region) = (keys.clone(), refused.clone(), invoke.clone(), region.clone());
                async move {
                    match verify(&keys, &region, &method, &uri, &headers, &body) {
                        Ok(who) => forward(&invoke, who, &method, &uri, &headers, &body).await,
                        Err(why) => {
                            refused.lock().unwrap_or_else(|e| e.into_inner()).push(why.clone());
                            (StatusCode::FORBIDDEN, [("content-type", "application/json")], json!({ "Message": why }).to_string())
                                .into_response()
                        }
                    }
                }
            }
        });
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind 127.0.0.1");
        let url = format!("http://{}/", listener.local_addr().expect("local addr"));
        let task = tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        Self { url, refused, task }
    }

    /// Why each refused request was refused.
    pub fn refused(&self) -> Vec<String> {
        self.refused.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }
}

fn header<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers.get(name).and_then(|v| v.to_str().ok())
}

/// Checks the request's SigV4 signature as AWS would; returns the identity.
fn verify(
    keys: &HashMap<String, Identity>,
    region: &str,
    method: &Method,
    uri: &Uri,
    headers: &HeaderMap,
    body: &[u8],
) -> Result<Identity, String> {
    use aws_sigv4::http_request::{SignableBody, SignableRequest, SigningSettings};
    let auth = header(headers, "authorization").ok_or("Missing Authentication Token")?;
    let rest = auth.strip_prefix("AWS4-HMAC-SHA256 ").ok_or("not a SigV4 (AWS4-HMAC-SHA256) authorization")?;
    let field = |name: &str| rest.split(", ").find_map(|p| p.strip_prefix(name)).map(str::to_owned);
    let credential = field("Credential=").ok_or("no Credential")?;
    let signed = field("SignedHeaders=").ok_or("no SignedHeaders")?;
    let signature = field("Signature=").ok_or("no Signature")?;
    let scope: Vec<&str> = credential.split('/').collect();
    let [key, _day, scope_region, service, "aws4_request"] = scope.as_slice() else {
        return Err(format!("bad credential scope {credential}"));
    };
    if *service != "lambda" {
        return Err(format!("credential scope names service {service:?}, not lambda"));
    }
    if *scope_region != region {
        return Err(format!("credential scope names region {scope_region}, the function is in {region}"));
    }
    let id = keys.get(*key).ok_or_else(|| format!("The security token included in the request is invalid ({key})"))?;
    let date = header(headers, "x-amz-date").ok_or("no x-amz-date")?;
    let fmt = time::macros::format_description!("[year][month][day]T[hour][minute][second]Z");
    let at = time::PrimitiveDateTime::parse(date, &fmt).map_err(|e| format!("x-amz-date {date:?}: {e}"))?.assume_utc();
    let at = SystemTime::UNIX_EPOCH + Duration::from_secs(u64::try_from(at.unix_timestamp()).unwrap_or(0));
    let skew = SystemTime::now().duration_since(at).unwrap_or_else(|e| e.duration());
    if skew > Duration::from_secs(300) {
        return Err("Signature expired".into());
    }
    let names: Vec<&str> = signed.split(';').collect();
    if !names.contains(&"host") || !names.contains(&"x-amz-date") {
        return Err(format!("SignedHeaders {signed} must cover host and x-amz-date"));
    }
    let mut pairs = Vec::new();
    for n in &names {
        pairs.push((*n, header(headers, n).ok_or_else(|| format!("signed header {n} is missing"))?));
    }
    let host = header(headers, "host").ok_or("no host")?;
    let full = format!("http://{host}{}", uri.path_and_query().map_or("/", |p| p.as_str()));
    let creds = aws_credential_types::Credentials::new(&id.access_key, &id.secret, None, None, "function-url-stand-in");
    let identity = creds.into();
    let params = aws_sigv4::sign::v4::SigningParams::builder()
        .identity(&identity)
        .region(region)
        .name("lambda")
        .time(at)
        .settings(SigningSettings::default())
        .build()
        .map_err(|e| e.to_string())?
        .into();
    let signable = SignableRequest::new(method.as_str(), full, pairs.into_iter(), SignableBody::Bytes(body)).map_err(|e| e.to_string())?;
    let (_, expected) = aws_sigv4::http_request::sign(signable, &params).map_err(|e| e.to_string())?.into_parts();
    if expected == signature {
        Ok(id.clone())
    } else {
        Err("The request signature we calculated does not match the signature you provided".into())
    }
}

/// The function URL event (payload 2.0) for the request, with the caller's identity, sent
/// to the emulator; its answer (`statusCode`, `headers`, `body`) as the HTTP response.
async fn forward(invoke: &str, who: Identity, method: &Method, uri: &Uri, headers: &HeaderMap, body: &[u8]) -> Response {
    let hdrs: serde_json::Map<String, Value> =
        headers.iter().filter_map(|(k, v)| v.to_str().ok().map(|v| (k.as_str().to_owned(), Value::String(v.to_owned())))).collect();
    let now = SystemTime::now().duration_since(SystemTime::UNIX_EPOCH).unwrap_or_default().as_millis();
    let event = json!({
        "version": "2.0",
        "routeKey": "$default",
        "rawPath": uri.path(),
        "rawQueryString": uri.query().unwrap_or(""),
        "headers": hdrs,
        "requestContext": {
            "accountId": ACCOUNT,
            "apiId": "brokerurlid",
            "authorizer": {"iam": {
                "accessKey": who.access_key,
                "accountId": ACCOUNT,
                "callerId": "AIDAEXAMPLECALLER",
                "userArn": who.arn,
                "userId": "AIDAEXAMPLECALLER",
            }},
            "domainName": "brokerurlid.lambda-url.us-east-1.on.aws",
            "domainPrefix": "brokerurlid",
            "http": {"method": method.as_str(), "path": uri.path(), "protocol": "HTTP/1.1", "sourceIp": "127.0.0.1", "userAgent": "zoomwatch"},
            "requestId": format!("req-{now}"),
            "routeKey": "$default",
            "stage": "$default",
            "time": "07/Dec/2026:05:00:00 +0000",
            "timeEpoch": now,
        },
        "body": String::from_utf8_lossy(body),
        "isBase64Encoded": false,
    });
    let http = reqwest::Client::builder().timeout(Duration::from_secs(600)).build().expect("http client");
    let answer = match http.post(invoke).body(event.to_string()).send().await {
        Ok(r) => serde_json::from_str::<Value>(&r.text().await.unwrap_or_default()).unwrap_or(Value::Null),
        Err(e) => return (StatusCode::BAD_GATEWAY, e.to_string()).into_response(),
    };
    let status = answer["statusCode"].as_u64().and_then(|s| u16::try_from(s).ok()).unwrap_or(502);
    let body = answer["body"].as_str().unwrap_or("").to_owned();
    (StatusCode::from_u16(status).unwrap_or(StatusCode::BAD_GATEWAY), [("content-type", "application/json")], body).into_response()
}
