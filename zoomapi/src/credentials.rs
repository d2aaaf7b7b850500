//! Server-to-Server OAuth credentials (account id, client id, client secret), from, in
//! order: a credentials file given explicitly (`--credentials` / `ZOOM_CREDENTIALS_FILE`),
//! an AWS Secrets Manager secret (`ZOOM_CREDENTIALS_SECRET`), the environment
//! (`ZOOM_ACCOUNT_ID`, `ZOOM_CLIENT_ID`, `ZOOM_CLIENT_SECRET`), or the default file
//! `$XDG_CONFIG_HOME/zoomwatch/zoom-credentials.toml`. A file readable by group or
//! others is refused. The secret never appears in `Debug`, errors or logs.

use std::fmt;
use std::path::{Path, PathBuf};

use serde::Deserialize;

/// Environment variable naming a credentials file.
pub const FILE_ENV: &str = "ZOOM_CREDENTIALS_FILE";
/// Environment variable naming a Secrets Manager secret (id or ARN).
pub const SECRET_ENV: &str = "ZOOM_CREDENTIALS_SECRET";
/// The three variables of the environment form.
pub const VARS: [&str; 3] = ["ZOOM_ACCOUNT_ID", "ZOOM_CLIENT_ID", "ZOOM_CLIENT_SECRET"];

/// The S2S app's credentials.
#[derive(Clone, Deserialize)]
pub struct Credentials {
    /// Zoom account id.
    pub account_id: String,
    /// The app's client id.
    pub client_id: String,
    client_secret: String,
}

impl fmt::Debug for Credentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Credentials").field("account_id", &self.account_id).field("client_id", &self.client_id).finish_non_exhaustive()
    }
}

impl Credentials {
    /// From the three parts.
    pub fn new(account_id: impl Into<String>, client_id: impl Into<String>, client_secret: impl Into<String>) -> Self {
        Self { account_id: account_id.into(), client_id: client_id.into(), client_secret: client_secret.into() }
    }

    pub(crate) fn secret(&self) -> &str {
        &self.client_secret
    }

    fn check(self, origin: &str) -> Result<Self, CredentialError> {
        for (name, v) in [("account_id", &self.account_id), ("client_id", &self.client_id), ("client_secret", &self.client_secret)] {
            if v.trim().is_empty() {
                return Err(CredentialError::Invalid { origin: origin.to_owned(), detail: format!("{name} is empty") });
            }
        }
        Ok(self)
    }
}

/// Why no credentials could be had.
#[derive(Debug, thiserror::Error)]
pub enum CredentialError {
    /// Nothing configured.
    #[error(
        "no Zoom API credentials: set ZOOM_ACCOUNT_ID, ZOOM_CLIENT_ID and ZOOM_CLIENT_SECRET, or give --credentials FILE (ZOOM_CREDENTIALS_FILE), or ZOOM_CREDENTIALS_SECRET=<Secrets Manager id>; see the README's \"Response actions\""
    )]
    Missing,
    /// Some of the three variables are set, not all.
    #[error("incomplete Zoom API credentials in the environment: {0} not set")]
    Partial(String),
    /// A file that others can read.
    #[error("refusing {path}: it is readable by group or others (mode {mode:o}); run chmod 600 {path}")]
    Exposed {
        /// The file.
        path: String,
        /// Its permission bits.
        mode: u32,
    },
    /// Unreadable or malformed.
    #[error("cannot use Zoom API credentials from {origin}: {detail}")]
    Invalid {
        /// Where from.
        origin: String,
        /// What was wrong (never the secret).
        detail: String,
    },
}

/// Reads a credentials file: TOML (or JSON) with `account_id`, `client_id`,
/// `client_secret`. Refused when group or others may read it.
pub fn from_file(path: &Path) -> Result<Credentials, CredentialError> {
    let shown = path.display().to_string();
    let invalid = |detail: String| CredentialError::Invalid { origin: shown.clone(), detail };
    let meta = std::fs::metadata(path).map_err(|e| invalid(e.to_string()))?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = meta.permissions().mode() & 0o777;
        if mode & 0o077 != 0 {
            return Err(CredentialError::Exposed { path: shown, mode });
        }
    }
    #[cfg(not(unix))]
    let _ = meta;
    let text = std::fs::read_to_string(path).map_err(|e| invalid(e.to_string()))?;
    parse(&text).map_err(invalid)?.check(&shown)
}

/// Parses the TOML or JSON form. Errors never quote the text.
pub fn parse(text: &str) -> Result<Credentials, String> {
    if text.trim_start().starts_with('{') {
        return serde_json::from_str(text)
            .map_err(|e| format!("not valid JSON with account_id, client_id, client_secret (line {})", e.line()));
    }
    toml::from_str(text).map_err(|e| {
        // toml quotes a mistyped value between backticks ("invalid type: integer `…`"):
        // a numeric secret would be printed. Only the key and the kind of error remain.
        let first = e.message().lines().next().unwrap_or("").to_owned();
        let mut detail = String::new();
        for (i, part) in first.split('`').enumerate() {
            detail.push_str(if i % 2 == 1 { "(value hidden)" } else { part });
        }
        let key = e.span().map(|s| text[..s.start.min(text.len())].lines().count().max(1));
        let at = key.map(|l| format!(" (line {l})")).unwrap_or_default();
        format!("not valid TOML with account_id, client_id, client_secret{at}: {detail}")
    })
}

/// From the environment through `get`: `Ok(None)` when none of the three is set.
pub fn from_env(get: impl Fn(&str) -> Option<String>) -> Result<Option<Credentials>, CredentialError> {
    let vals: Vec<Option<String>> = VARS.iter().map(|v| get(v).filter(|s| !s.trim().is_empty())).collect();
    if vals.iter().all(Option::is_none) {
        return Ok(None);
    }
    let missing: Vec<&str> = VARS.iter().zip(&vals).filter(|(_, v)| v.is_none()).map(|(n, _)| *n).collect();
    if !missing.is_empty() {
        return Err(CredentialError::Partial(missing.join(", ")));
    }
    let mut it = vals.into_iter().flatten();
    let (a, c, s) = (it.next().unwrap_or_default(), it.next().unwrap_or_default(), it.next().unwrap_or_default());
    Ok(Some(Credentials::new(a.trim(), c.trim(), s.trim())))
}

/// The default credentials file.
pub fn default_file() -> Option<PathBuf> {
    let base = match (std::env::var_os("XDG_CONFIG_HOME").filter(|s| !s.is_empty()), std::env::var_os("HOME")) {
        (Some(x), _) => PathBuf::from(x),
        (None, Some(h)) => Path::new(&h).join(".config"),
        (None, None) => return None,
    };
    Some(base.join("zoomwatch").join("zoom-credentials.toml"))
}

/// The string value of secret `id` in AWS Secrets Manager (standard AWS chain). The
/// error names the secret and what went wrong, never the value.
#[cfg(feature = "secrets-manager")]
pub async fn secret_string(id: &str) -> Result<String, String> {
    let sdk = aws_config::defaults(aws_config::BehaviorVersion::latest()).load().await;
    let out = aws_sdk_secretsmanager::Client::new(&sdk).get_secret_value().secret_id(id).send().await.map_err(|e| {
        use aws_sdk_secretsmanager::error::ProvideErrorMetadata;
        match (e.code(), e.message()) {
            (Some(c), Some(m)) => format!("{c}: {m}"),
            (Some(c), None) => c.to_owned(),
            _ => "the request failed (credentials, region or network); secretsmanager:GetSecretValue is needed".to_owned(),
        }
    })?;
    out.secret_string().map(str::to_owned).ok_or_else(|| "the secret has no string value".to_owned())
}

/// This build was made without AWS Secrets Manager support (feature `secrets-manager`).
#[cfg(not(feature = "secrets-manager"))]
pub async fn secret_string(id: &str) -> Result<String, String> {
    Err(format!("cannot read secret {id}: this build of zoomwatch has no AWS Secrets Manager support (feature secrets-manager)"))
}

/// Reads the secret `id` from AWS Secrets Manager (the JSON form).
pub async fn from_secrets_manager(id: &str) -> Result<Credentials, CredentialError> {
    let origin = format!("Secrets Manager secret {id}");
    let text = secret_string(id).await.map_err(|detail| CredentialError::Invalid { origin: origin.clone(), detail })?;
    parse(&text).map_err(|detail| CredentialError::Invalid { origin: origin.clone(), detail })?.check(&origin)
}

/// Finds credentials in the order the module documents. Returns them and where they
/// came from (for messages; never the secret).
pub async fn load(explicit: Option<&Path>) -> Result<(Credentials, String), CredentialError> {
    let env_file = std::env::var_os(FILE_ENV).filter(|s| !s.is_empty()).map(PathBuf::from);
    if let Some(path) = explicit.map(Path::to_path_buf).or(env_file) {
        return from_file(&path).map(|c| (c, path.display().to_string()));
    }
    if let Some(id) = std::env::var(SECRET_ENV).ok().filter(|s| !s.trim().is_empty()) {
        return from_secrets_manager(id.trim()).await.map(|c| (c, format!("Secrets Manager secret {id}")));
    }
    if let Some(c) = from_env(|k| std::env::var(k).ok())? {
        return Ok((c, "the environment".into()));
    }
    match default_file() {
        Some(path) if path.exists() => from_file(&path).map(|c| (c, path.display().to_string())),
        _ => Err(CredentialError::Missing),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn environment_form() {
        let none = from_env(|_| None).unwrap();
        assert!(none.is_none());
        let all = |k: &str| Some(format!("{k}-value"));
        let c = from_env(all).unwrap().unwrap();
        assert_eq!(c.account_id, "ZOOM_ACCOUNT_ID-value");
        let partial = from_env(|k| (k == "ZOOM_CLIENT_ID").then(|| "x".to_owned())).unwrap_err();
        assert_eq!(partial.to_string(), "incomplete Zoom API credentials in the environment: ZOOM_ACCOUNT_ID, ZOOM_CLIENT_SECRET not set");
    }

    #[test]
    fn debug_never_shows_the_secret() {
        let c = Credentials::new("acct", "cid", "very-secret-value");
        assert!(!format!("{c:?}").contains("very-secret-value"));
    }

    #[cfg(unix)]
    #[test]
    fn files_readable_by_others_are_refused() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("c.toml");
        std::fs::write(&path, "account_id = \"a\"\nclient_id = \"b\"\nclient_secret = \"s3cr3t-xyz\"\n").unwrap();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();
        let e = from_file(&path).unwrap_err();
        assert!(e.to_string().contains("chmod 600"), "{e}");
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600)).unwrap();
        assert_eq!(from_file(&path).unwrap().client_id, "b");
        // A malformed file: the error never quotes the secret.
        std::fs::write(&path, "account_id = \"a\"\nclient_secret = \"s3cr3t-xyz\"\n").unwrap();
        let e = from_file(&path).unwrap_err().to_string();
        assert!(!e.contains("s3cr3t"), "{e}");
        // JSON (the Secrets Manager form) too.
        assert_eq!(parse(r#"{"account_id":"a","client_id":"b","client_secret":"c"}"#).unwrap().account_id, "a");
    }

    #[test]
    fn a_mistyped_secret_is_not_quoted_in_the_error() {
        let e = parse("account_id = \"a\"\nclient_id = \"b\"\nclient_secret = 98765432109876\n").unwrap_err();
        assert!(!e.contains("98765432109876"), "{e}");
        assert!(e.contains("line 3") || e.contains("value hidden"), "{e}");
    }
}
