//! `Custom::LogzioArchive`: the archive registration in Logz.io (its S3 archive settings), created, replaced and
//! deleted with the stack, so that no value is copied by hand.
//!
//! Logz.io allows one archive per account. A Create reads the account's archives first: another archive is left
//! untouched and the Create fails naming its bucket; one identical to what this Create asks for is its own (an
//! earlier delivery of the same Create) and is converged, not made twice. Logz.io checks access when an archive
//! is created or replaced, and a role made seconds before may not be assumable yet (IAM propagation): such a
//! refusal is retried with backoff until shortly before the work's deadline. The physical id is the archive's id;
//! a Delete removes only that id (404 is success), and a failed Create answers an id that is no archive's.
//!
//! By operation: `create` (registering), `update` (in place), `delete` (a Delete, and the undo after the
//! deadline); this file holds the errors, the parse, the physical id and the protocol's side.

#[cfg(test)]
mod tests;

mod create;
mod delete;
mod update;

use crate::cfn::{CustomResource, Failed, Failure, Invocation, Request, Success};
use crate::iam::{CallLog, IamError, IamPort, Session as IamSession};
use crate::limits::{Limits, LimitsError};
use crate::logzio::{Api, Archive, ArchiveSettings, LogzioError, LogzioErrorKind, LogzioPort, Session};
use crate::policy::external_ids_trusted_for;
use crate::preflight;
use crate::properties::{ArchiveSpec, LogzioRegion, PropertyError, PropertyErrors};
use serde_json::Value;
use std::collections::BTreeMap;
use std::time::{Duration, Instant};

// How long the archive waits for Logz.io, and its backoffs: crate::budget::archive.
use crate::budget::Retry;
use crate::budget::archive::MAX_ASSUME_WAIT;
use crate::budget::archive::{
    ACCESS_CHECK, DEADLINE_RESERVE, GONE_READ, GONE_READS, LOOK_FOR_OWN, SHOWN, UNDO, UNDO_LOOK,
};

/// Why an operation on the archive failed; the Display text is the Reason CloudFormation shows (never the token
/// or an external ID).
#[derive(Debug, thiserror::Error)]
pub enum ArchiveError {
    #[error(transparent)]
    Properties(#[from] PropertyErrors),
    #[error(
        "RoleArn: the role is in account {role}, but the stack is in {stack}; Logz.io archives into this \
         account's bucket through a role of this account"
    )]
    RoleInOtherAccount { role: String, stack: String },
    #[error(transparent)]
    Refused(#[from] preflight::Refused),
    #[error("BucketName: {0}")]
    BucketNotAllowed(String),
    #[error("LogzioApiTokenSecretArn: the Logz.io API token could not be read: {0}")]
    Token(LogzioError),
    #[error(
        "LogzioApiTokenSecretArn: Logz.io refused the API token (it must be an API token of the Logz.io account): {0}"
    )]
    Unauthorized(LogzioError),
    #[error(
        "LogzioApiTokenSecretArn: this Logz.io account already has an archive (id {id}, to {path}); Logz.io \
         allows one archive per account, and it was left untouched: {}",
        if *like_this_one {
            "it archives to this bucket through this role, but nothing says it is this resource's (a resource \
             renamed or added for the same archive, or one registered by hand): CloudFormation creates a renamed \
             resource before it deletes the old one, so remove the archive resource in one stack update and add \
             it under its new name in the next, or remove the archive in Logz.io"
        } else {
            "remove it in Logz.io or from the stack that made it, or use another Logz.io account"
        }
    )]
    AnotherArchive { id: u64, path: String, like_this_one: bool },
    #[error(
        "RoleArn: Logz.io's access check still failed after {waited} s: {error}; check that the role trusts \
         Logz.io's account with the external ID of this Logz.io account and that its policy lets it write to \
         the bucket path"
    )]
    AccessRefused { waited: u64, error: LogzioError },
    #[error(
        "RoleArn: the external ID Logz.io presents for this archive is not the one role {role} trusts; the new \
         archive is removed (now, or by the rollback's Delete when it could not be now): give the role Logz.io's \
         external ID (or LogzioApiTokenSecretArn instead of ExternalId)"
    )]
    ExternalIdMismatch { role: String },
    #[error("Logz.io did not show the new settings of archive {id} within {waited} s of the update")]
    NotShown { id: u64, waited: u64 },
    #[error(transparent)]
    Logzio(LogzioError),
    #[error(transparent)]
    Iam(#[from] IamError),
}

impl From<LogzioError> for ArchiveError {
    fn from(e: LogzioError) -> Self {
        if e.is(LogzioErrorKind::Unauthorized) {
            ArchiveError::Unauthorized(e)
        } else {
            ArchiveError::Logzio(e)
        }
    }
}

/// The archive-registration resource: Logz.io (with Secrets Manager for the token) and IAM (to read the role's
/// trust), lent to every event.
#[derive(Debug, Clone)]
pub struct LogzioArchive<P, L> {
    iam: P,
    logzio: L,
    limits: Result<Limits, LimitsError>,
}

fn parse(req: &Request, inv: &Invocation, limits: &Result<Limits, LimitsError>) -> Result<ArchiveSpec, ArchiveError> {
    let (spec, refusal) = parse_held(req, inv, limits)?;
    match refusal {
        Some(e) => Err(e),
        None => Ok(spec),
    }
}

/// [`parse`], with the refusal that guards only writes (a bucket outside the deployment's allowed buckets,
/// narrowed since the archive was made) returned beside the spec: an Update that finds Logz.io holding exactly
/// this archive needs no write, so a rollback to it is not blocked.
fn parse_held(
    req: &Request,
    inv: &Invocation,
    limits: &Result<Limits, LimitsError>,
) -> Result<(ArchiveSpec, Option<ArchiveError>), ArchiveError> {
    let limits = preflight::limits(limits, "registers no archive")?;
    let preflight::Stack {
        partition,
        account: stack,
    } = preflight::stack(req, inv)?;
    let spec = ArchiveSpec::parse(&req.properties, &partition)?;
    // The bucket is held to the deployment's allowed buckets, as a role's is: the archive's role need not be one
    // this function made (nor carry its boundary).
    let refusal = limits
        .allows(spec.bucket.clone())
        .err()
        .map(ArchiveError::BucketNotAllowed)
        .or_else(|| {
            let rule = spec.service_timeout?.outlasts_redelivery().err()?;
            Some(ArchiveError::Properties(PropertyErrors(vec![PropertyError {
                property: "ServiceTimeout".into(),
                rule,
            }])))
        });
    if spec.role_arn.account() != stack {
        return Err(ArchiveError::RoleInOtherAccount {
            role: spec.role_arn.account().to_owned(),
            stack: stack.to_owned(),
        });
    }
    Ok((spec, refusal))
}

fn settings_of(spec: &ArchiveSpec) -> ArchiveSettings {
    ArchiveSettings {
        enabled: spec.enabled,
        compressed: spec.compressed,
        path: spec.path(),
        role_arn: spec.role_arn.to_string(),
    }
}

/// What a physical id says: the archive this resource is, and the one it replaced when an Update registered it
/// anew (another Logz.io account): `1002`, or `1002-replacing-1001`. CloudFormation keeps the physical id and
/// sends it back with every later event, so it is the record of which archives are this resource's own: the
/// rollback of that Update (the old properties, this id) returns to 1001, and nothing else is ever adopted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PhysicalId {
    pub archive: u64,
    pub replaced: Option<u64>,
}

const REPLACING: &str = "-replacing-";

impl PhysicalId {
    /// The physical id of a request; None for one that names no archive (a Create that failed).
    pub fn of(id: &str) -> Option<PhysicalId> {
        match id.split_once(REPLACING) {
            Some((a, r)) => Some(PhysicalId {
                archive: a.parse().ok()?,
                replaced: Some(r.parse().ok()?),
            }),
            None => Some(PhysicalId {
                archive: id.parse().ok()?,
                replaced: None,
            }),
        }
    }

    /// The archives this physical id shows to be this resource's.
    fn own(&self) -> Vec<u64> {
        std::iter::once(self.archive).chain(self.replaced).collect()
    }
}

impl std::fmt::Display for PhysicalId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.replaced {
            Some(r) => write!(f, "{}{REPLACING}{r}", self.archive),
            None => write!(f, "{}", self.archive),
        }
    }
}

fn success(id: PhysicalId) -> Success {
    let archive = id.archive;
    Success {
        physical_resource_id: id.to_string(),
        data: BTreeMap::from([("ArchiveId".to_owned(), archive.to_string())]),
    }
}

/// When to stop waiting for Logz.io: shortly before the work's deadline, at most [`MAX_ASSUME_WAIT`] from now.
fn wait_until(inv: &Invocation) -> Instant {
    let d = inv.work_deadline;
    d.checked_sub(DEADLINE_RESERVE)
        .unwrap_or(d)
        .min(Instant::now() + MAX_ASSUME_WAIT)
}

/// The error of a call this resource stopped waiting for at `left`.
fn cut_off(left: Duration) -> LogzioError {
    LogzioError {
        call: "logzio".into(),
        kind: LogzioErrorKind::Transient,
        status: None,
        code: "Timeout".into(),
        message: format!("no answer within {} s, before the function's deadline", left.as_secs()),
    }
}

impl<P: IamPort, L: LogzioPort> LogzioArchive<P, L> {
    pub fn new(iam: P, logzio: L, limits: Result<Limits, LimitsError>) -> Self {
        LogzioArchive { iam, logzio, limits }
    }

    async fn api(&self, lz: &Session<'_, L>, secret: &str, region: LogzioRegion) -> Result<Api, ArchiveError> {
        let token = lz.api_token(secret).await.map_err(ArchiveError::Token)?;
        Ok(Api { region, token })
    }
}

/// The token secret and region from raw properties (an old or a Delete event's), read without judging the rest.
fn api_of(properties: &Value) -> Option<(String, LogzioRegion)> {
    let secret = properties.get("LogzioApiTokenSecretArn")?.as_str()?.to_owned();
    let region = match properties.get("LogzioRegion").and_then(Value::as_str) {
        Some(r) => r.parse().ok()?,
        None => LogzioRegion::default(),
    };
    Some((secret, region))
}

impl<P: IamPort, L: LogzioPort> CustomResource for LogzioArchive<P, L> {
    type Record = CallLog;

    async fn undo_after_deadline(&self, req: &Request, inv: &Invocation, log: &CallLog) {
        self.undo(req, inv, log).await
    }

    async fn create(&self, req: &Request, inv: &Invocation, log: &CallLog) -> Result<Success, Failure> {
        let spec = parse(req, inv, &self.limits).map_err(|e| Failure::new(e.to_string()))?;
        match self.register(inv, log, &spec, None, &[]).await {
            Ok(id) => Ok(success(PhysicalId {
                archive: id,
                replaced: None,
            })),
            Err(failed) => Err(failed.into()),
        }
    }

    async fn update(&self, req: &Request, inv: &Invocation, log: &CallLog) -> Result<Success, Failure> {
        match self.update_archive(req, inv, log).await {
            Ok(id) => Ok(success(id)),
            // A failed Update keeps the old id; an archive a replacement made and could not remove is named in
            // the log (CloudFormation keeps the old id whatever the answer says).
            Err(Failed { error, left_behind }) => {
                if let Some(id) = left_behind {
                    tracing::warn!(
                        archive = id,
                        "a new archive could not be removed after the update failed"
                    );
                }
                Err(Failure::new(error.to_string()))
            }
        }
    }

    async fn delete(&self, req: &Request, inv: &Invocation, log: &CallLog) -> Result<Success, Failure> {
        match self.delete_archive(req, inv, log).await {
            Ok(()) => Ok(Success {
                physical_resource_id: req.physical_resource_id.clone().unwrap_or_default(),
                data: BTreeMap::new(),
            }),
            Err(e) => Err(Failure::new(e.to_string())),
        }
    }
}
