//! Where the scheduled functions keep their state between invocations: one S3 bucket,
//! one object each — the watch function's checkpoint and the report poller's cursor.
//! Reads tell a missing object (a first run) from a failure; writes replace the object
//! whole.

/// An S3 client for `sdk`; a custom endpoint (an emulator, a VPC endpoint) gets
/// path-style addressing.
pub fn s3_client(sdk: &aws_config::SdkConfig) -> aws_sdk_s3::Client {
    let custom =
        sdk.endpoint_url().is_some() || std::env::var_os("AWS_ENDPOINT_URL").is_some() || std::env::var_os("AWS_ENDPOINT_URL_S3").is_some();
    aws_sdk_s3::Client::from_conf(aws_sdk_s3::config::Builder::from(sdk).force_path_style(custom).build())
}

/// One object in the state bucket.
#[derive(Debug, Clone)]
pub struct StateObject {
    /// The client.
    pub client: aws_sdk_s3::Client,
    /// Bucket.
    pub bucket: String,
    /// Key.
    pub key: String,
}

impl StateObject {
    /// `s3://BUCKET/KEY`, for messages.
    pub fn describe(&self) -> String {
        format!("s3://{}/{}", self.bucket, self.key)
    }

    /// The object's bytes, or `None` when it does not exist yet. The error names the
    /// object and the permission a refusal points to.
    pub async fn load(&self) -> Result<Option<Vec<u8>>, String> {
        match self.client.get_object().bucket(&self.bucket).key(&self.key).send().await {
            Ok(out) => {
                let bytes = out.body.collect().await.map_err(|e| format!("reading {}: {e}", self.describe()))?.into_bytes();
                Ok(Some(bytes.to_vec()))
            }
            Err(e) if e.as_service_error().is_some_and(|s| s.is_no_such_key()) => Ok(None),
            Err(e) => {
                Err(format!("cannot read {}: {} (the role needs s3:GetObject on it)", self.describe(), zoomwatch_log::aws::describe(&e)))
            }
        }
    }

    /// Replaces the object with `bytes`.
    pub async fn save(&self, bytes: Vec<u8>) -> Result<(), String> {
        self.client
            .put_object()
            .bucket(&self.bucket)
            .key(&self.key)
            .content_type("application/json")
            .body(bytes.into())
            .send()
            .await
            .map(|_| ())
            .map_err(|e| format!("cannot save {}: {}", self.describe(), zoomwatch_log::aws::describe(&e)))
    }
}
