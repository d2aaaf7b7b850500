//! The receiver crate's one error type: what stops the receiver, the poller or the
//! watch function from starting or finishing a run. Each message says what to do; none
//! holds a secret.

use zoomwatch_log::notify::NotifyError;
use zoomwatch_log::{LogError, SinkError};
use zoomwatch_zoomapi::{ApiError, CredentialError};

use crate::config::SecretSourceError;

/// Why the receiver, the poller or the watch function could not start or run.
#[derive(Debug, thiserror::Error)]
pub enum IngestError {
    /// A setting (an environment variable, a file, a flag) is missing or wrong; the
    /// message names it and what it should be.
    #[error("{0}")]
    Setting(String),
    /// The webhook secret could not be read.
    #[error(transparent)]
    Secret(#[from] SecretSourceError),
    /// The Zoom API app's credentials could not be read.
    #[error(transparent)]
    Credentials(#[from] CredentialError),
    /// The Zoom API client could not start.
    #[error(transparent)]
    Api(#[from] ApiError),
    /// A notification target could not be set up.
    #[error(transparent)]
    Notify(#[from] NotifyError),
    /// The log could not be opened.
    #[error(transparent)]
    Log(#[from] LogError),
    /// The log took no write (alert records not written).
    #[error("alert records not written: {0}")]
    Write(#[from] SinkError),
    /// The log or the state bucket could not be read or written.
    #[error("{0}")]
    Aws(String),
    /// The Lambda runtime stopped.
    #[error("lambda runtime: {0}")]
    Runtime(String),
}

/// The receiver crate's results.
pub type Result<T, E = IngestError> = std::result::Result<T, E>;
