//! Logz.io, as the resources see it: a narrow port ([`LogzioPort`]) for the calls they make — the API token from
//! Secrets Manager, the account's external ID and AWS account, the archive settings — one adapter over HTTP and
//! the AWS SDK ([`http::HttpLogzio`]), and a [`Session`] that records every call in the invocation's
//! [`CallLog`]. The in-memory fake (`fake`, unit tests only) implements the same port; the faithful fake of
//! Logz.io's public API for the test tiers is `tests/logzio_fake.py`.
//!
//! The token and the external ID are secrets: neither reaches a log line, a Reason or Data (their `Debug` is
//! redacted, and errors carry Logz.io's status and message only).

#[cfg(test)]
pub mod fake;
pub mod http;
mod redact;
mod secrets;
mod wire;

use crate::iam::{CallLog, CallState};
use crate::properties::LogzioRegion;
use std::fmt;
use std::future::Future;

pub use redact::redact;

/// A Logz.io API token. Its `Debug` never shows it.
#[derive(Clone, PartialEq, Eq)]
pub struct ApiToken(String);

impl fmt::Debug for ApiToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("ApiToken(<redacted>)")
    }
}

impl ApiToken {
    pub fn new(token: impl Into<String>) -> Self {
        ApiToken(token.into())
    }

    /// The token itself, for the request header only.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

/// One Logz.io account's API: the region (the host) and the token.
#[derive(Debug, Clone)]
pub struct Api {
    pub region: LogzioRegion,
    pub token: ApiToken,
}

/// What `GET /v1/log-shipping/s3-buckets/aws-assume-role-details` answers: the AWS account to trust and the
/// external ID to require. Unvalidated: the caller holds them to the rules. `Debug` hides the external ID.
#[derive(Clone, PartialEq, Eq)]
pub struct AssumeRoleDetails {
    pub aws_account_id: String,
    pub external_id: String,
}

impl fmt::Debug for AssumeRoleDetails {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "AssumeRoleDetails {{ aws_account_id: {:?}, external_id: <redacted> }}",
            self.aws_account_id
        )
    }
}

/// The archive settings this project manages: S3 with an IAM role.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ArchiveSettings {
    pub enabled: bool,
    pub compressed: bool,
    /// `bucket` or `bucket/prefix`.
    pub path: String,
    pub role_arn: String,
}

/// An archive as Logz.io holds it, read tolerantly: an optional field its answer leaves out is not a difference,
/// and a path is compared as Logz.io may normalise it (see [`Archive::targets`]).
#[derive(Clone, PartialEq, Eq)]
pub struct Archive {
    pub id: u64,
    /// What the answer says, with `enabled`/`compressed` true and path/role empty where it says nothing.
    pub settings: ArchiveSettings,
    /// The external ID Logz.io presents when it assumes the role, when its answer says.
    pub external_id: Option<String>,
    /// `storageType` (`S3`, `BLOB` for Azure), when the answer says.
    pub storage_type: Option<String>,
    /// Which of `enabled` and `compressed` the answer carried.
    pub present: Present,
}

impl fmt::Debug for Archive {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Archive")
            .field("id", &self.id)
            .field("settings", &self.settings)
            .field("external_id", &self.external_id.as_ref().map(|_| "<redacted>"))
            .field("storage_type", &self.storage_type)
            .field("present", &self.present)
            .finish()
    }
}

/// Which optional fields an answer carried.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Present {
    pub enabled: bool,
    pub compressed: bool,
}

impl Present {
    /// Every field: an archive as it was sent.
    pub const ALL: Present = Present {
        enabled: true,
        compressed: true,
    };
}

/// A path as Logz.io may echo it: no `s3://`, no leading, trailing or doubled `/`, the bucket in lower case
/// (S3 bucket names are).
pub fn normalised_path(path: &str) -> String {
    let p = path.trim();
    let p = if p.len() >= 5 && p[..5].eq_ignore_ascii_case("s3://") {
        &p[5..]
    } else {
        p
    };
    let mut parts = p.split('/').filter(|s| !s.is_empty());
    let bucket = parts.next().unwrap_or_default().to_ascii_lowercase();
    std::iter::once(bucket)
        .chain(parts.map(str::to_owned))
        .collect::<Vec<_>>()
        .join("/")
}

impl Archive {
    /// An archive holding exactly `settings` (what a write sent, when the answer has no body).
    pub fn of(id: u64, settings: ArchiveSettings, external_id: Option<String>) -> Archive {
        Archive {
            id,
            settings,
            external_id,
            storage_type: Some("S3".into()),
            present: Present::ALL,
        }
    }

    /// S3 (or the answer does not say): not an Azure Blob archive.
    pub fn is_s3(&self) -> bool {
        self.storage_type
            .as_deref()
            .is_none_or(|t| t.eq_ignore_ascii_case("S3"))
    }

    /// The same target as `wanted`: an S3 archive to the same bucket path through the same role.
    pub fn targets(&self, wanted: &ArchiveSettings) -> bool {
        self.is_s3()
            && normalised_path(&self.settings.path) == normalised_path(&wanted.path)
            && self
                .settings
                .role_arn
                .trim()
                .eq_ignore_ascii_case(wanted.role_arn.trim())
    }

    /// Shows `wanted`: the same target, and every switch the answer carries as wanted.
    pub fn shows(&self, wanted: &ArchiveSettings) -> bool {
        self.targets(wanted)
            && (!self.present.enabled || self.settings.enabled == wanted.enabled)
            && (!self.present.compressed || self.settings.compressed == wanted.compressed)
    }

    /// Where it archives, for a Reason: the S3 path, or the storage type of any other.
    pub fn described(&self) -> String {
        match &self.storage_type {
            Some(t) if !self.is_s3() => format!("a {t} archive, not S3"),
            _ if self.settings.path.is_empty() => "an S3 path Logz.io did not say".into(),
            _ => self.settings.path.clone(),
        }
    }
}
/// What kind of failure: the resources decide on these.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogzioErrorKind {
    /// 401/403: the token is not accepted (or the secret could not be read).
    Unauthorized,
    /// 404.
    NotFound,
    /// Logz.io could not assume the role (yet): the role may be too new for IAM to have propagated it.
    AssumeRoleRefused,
    /// Logz.io assumed the role but could not write its test object to the path (yet): the role's policy may
    /// be too new for IAM to have propagated it.
    WriteRefused,
    /// 429, 5xx, connection errors and timeouts, after the adapter's retries.
    Transient,
    Other,
}

/// One failed call to Logz.io or to Secrets Manager, with its status and message (never the token).
#[derive(Debug, Clone, thiserror::Error)]
pub struct LogzioError {
    /// What was called: `logzio:POST /v2/archive/settings`, `secretsmanager:GetSecretValue`.
    pub call: String,
    pub kind: LogzioErrorKind,
    /// The HTTP status, when there was an answer.
    pub status: Option<u16>,
    /// Logz.io's `errorCode` or the AWS error code, when given.
    pub code: String,
    pub message: String,
}

impl fmt::Display for LogzioError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} failed", self.call)?;
        if let Some(status) = self.status {
            write!(f, ": HTTP {status}")?;
        }
        if !self.code.is_empty() {
            write!(f, ": {}", self.code)?;
        }
        if !self.message.is_empty() {
            write!(f, ": {}", self.message)?;
        }
        Ok(())
    }
}

impl LogzioError {
    pub fn is(&self, kind: LogzioErrorKind) -> bool {
        self.kind == kind
    }

    /// A refusal of Logz.io's access check (assume the role, then write to the path) that IAM's eventual
    /// consistency explains for a new role or policy: worth retrying within the deadline.
    pub fn is_access_check(&self) -> bool {
        matches!(
            self.kind,
            LogzioErrorKind::AssumeRoleRefused | LogzioErrorKind::WriteRefused
        )
    }
}

/// The calls the resources make, one request each (the adapter retries transient failures inside one call).
pub trait LogzioPort: Send + Sync + 'static {
    /// Secrets Manager GetSecretValue: the token is the secret's SecretString.
    fn api_token(&self, secret_arn: &str) -> impl Future<Output = Result<ApiToken, LogzioError>> + Send;
    /// `GET /v1/log-shipping/s3-buckets/aws-assume-role-details`.
    fn assume_role_details(&self, api: &Api) -> impl Future<Output = Result<AssumeRoleDetails, LogzioError>> + Send;
    /// `GET /v2/archive/settings`: the account's archives (none, or one).
    fn list_archives(&self, api: &Api) -> impl Future<Output = Result<Vec<Archive>, LogzioError>> + Send;
    /// `GET /v2/archive/settings/{id}`; None on 404.
    fn get_archive(&self, api: &Api, id: u64) -> impl Future<Output = Result<Option<Archive>, LogzioError>> + Send;
    /// `POST /v2/archive/settings`.
    fn create_archive(
        &self,
        api: &Api,
        s: &ArchiveSettings,
    ) -> impl Future<Output = Result<Archive, LogzioError>> + Send;
    /// `PUT /v2/archive/settings/{id}` (the full body).
    fn update_archive(
        &self,
        api: &Api,
        id: u64,
        s: &ArchiveSettings,
    ) -> impl Future<Output = Result<Archive, LogzioError>> + Send;
    /// `DELETE /v2/archive/settings/{id}`; false when it was already gone (404).
    fn delete_archive(&self, api: &Api, id: u64) -> impl Future<Output = Result<bool, LogzioError>> + Send;
}

/// The Logz.io calls of one invocation, recorded in its [`CallLog`] like the IAM calls.
#[derive(Debug)]
pub struct Session<'a, L> {
    port: &'a L,
    log: &'a CallLog,
}

impl<'a, L: LogzioPort> Session<'a, L> {
    pub fn new(port: &'a L, log: &'a CallLog) -> Self {
        Session { port, log }
    }

    async fn recorded<T>(
        &self,
        action: &'static str,
        target: &str,
        call: impl Future<Output = Result<T, LogzioError>>,
    ) -> Result<T, LogzioError> {
        let i = self.log.start(action, target);
        let result = call.await;
        let state = match &result {
            Ok(_) => CallState::Done,
            Err(e) => CallState::Refused(e.status.map_or_else(|| e.code.clone(), |s| s.to_string())),
        };
        self.log.finish(i, state, None);
        result
    }

    pub async fn api_token(&self, secret_arn: &str) -> Result<ApiToken, LogzioError> {
        self.recorded("GetSecretValue", secret_arn, self.port.api_token(secret_arn))
            .await
    }

    pub async fn assume_role_details(&self, api: &Api) -> Result<AssumeRoleDetails, LogzioError> {
        self.recorded("GetAssumeRoleDetails", "-", self.port.assume_role_details(api))
            .await
    }

    pub async fn list_archives(&self, api: &Api) -> Result<Vec<Archive>, LogzioError> {
        self.recorded("ListArchives", "-", self.port.list_archives(api)).await
    }

    pub async fn get_archive(&self, api: &Api, id: u64) -> Result<Option<Archive>, LogzioError> {
        self.recorded("GetArchive", &id.to_string(), self.port.get_archive(api, id))
            .await
    }

    pub async fn create_archive(&self, api: &Api, s: &ArchiveSettings) -> Result<Archive, LogzioError> {
        self.recorded("CreateArchive", "-", self.port.create_archive(api, s))
            .await
    }

    pub async fn update_archive(&self, api: &Api, id: u64, s: &ArchiveSettings) -> Result<Archive, LogzioError> {
        self.recorded("UpdateArchive", &id.to_string(), self.port.update_archive(api, id, s))
            .await
    }

    pub async fn delete_archive(&self, api: &Api, id: u64) -> Result<bool, LogzioError> {
        self.recorded("DeleteArchive", &id.to_string(), self.port.delete_archive(api, id))
            .await
    }
}
