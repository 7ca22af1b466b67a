//! `Custom::LogzioArchive`: the archive registration in Logz.io (its S3 archive settings), created, replaced and
//! deleted with the stack, so that no value is copied by hand.
//!
//! Logz.io allows one archive per account. A Create reads the account's archives first: another archive is left
//! untouched and the Create fails naming its bucket; one identical to what this Create asks for is its own (an
//! earlier delivery of the same Create) and is converged, not made twice. Logz.io checks access when an archive
//! is created or replaced, and a role made seconds before may not be assumable yet (IAM propagation): such a
//! refusal is retried with backoff until shortly before the work's deadline. The physical id is the archive's id;
//! a Delete removes only that id (404 is success), and a failed Create answers an id that is no archive's.

#[cfg(test)]
mod tests;

use crate::cfn::{CustomResource, Failure, Request, Success};
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
pub use crate::budget::archive::MAX_ASSUME_WAIT;
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
        "RoleArn: the external ID Logz.io presents for this archive is not the one role {role} trusts; the \
         archive was removed again: give the role Logz.io's external ID (or LogzioApiTokenSecretArn instead of \
         ExternalId)"
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
pub struct ArchiveRegistration<P, L> {
    iam: P,
    logzio: L,
    limits: Result<Limits, LimitsError>,
}

fn parse(req: &Request, limits: &Result<Limits, LimitsError>) -> Result<ArchiveSpec, ArchiveError> {
    let (spec, refusal) = parse_held(req, limits)?;
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
    limits: &Result<Limits, LimitsError>,
) -> Result<(ArchiveSpec, Option<ArchiveError>), ArchiveError> {
    let limits = preflight::limits(limits, "registers no archive")?;
    let preflight::Stack {
        partition,
        account: stack,
    } = preflight::stack(req)?;
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

fn failure(e: &ArchiveError, id: Option<u64>) -> Failure {
    Failure {
        reason: e.to_string(),
        physical_resource_id: id.map(|i| i.to_string()),
    }
}

/// When to stop waiting for Logz.io: shortly before the work's deadline, at most [`MAX_ASSUME_WAIT`] from now.
fn wait_until(req: &Request) -> Instant {
    let cap = Instant::now() + MAX_ASSUME_WAIT;
    match req.work_deadline {
        Some(d) => d.checked_sub(DEADLINE_RESERVE).unwrap_or(d).min(cap),
        None => cap,
    }
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

impl<P: IamPort, L: LogzioPort> ArchiveRegistration<P, L> {
    pub fn new(iam: P, logzio: L, limits: Result<Limits, LimitsError>) -> Self {
        ArchiveRegistration { iam, logzio, limits }
    }

    async fn api(&self, lz: &Session<'_, L>, secret: &str, region: LogzioRegion) -> Result<Api, ArchiveError> {
        let token = lz.api_token(secret).await.map_err(ArchiveError::Token)?;
        Ok(Api { region, token })
    }

    /// POST (or PUT when `id` is given), retrying while Logz.io's access check fails in a way IAM's propagation
    /// explains (it cannot assume the new role yet, or cannot write with its new policy yet).
    ///
    /// A PUT is cut off shortly before the deadline, so the reason is Logz.io's, not "timed out". A POST is not:
    /// once sent, its outcome is known only from its answer or from the archive appearing, so it runs until the
    /// work's deadline (where the protocol stops the work and [`Self::undo`] looks for what it made), and a POST
    /// whose answer is lost is looked for until then too. Only the POST this request sent, after reading that
    /// the account had no archive, is taken as its own.
    async fn write(
        &self,
        lz: &Session<'_, L>,
        api: &Api,
        id: Option<u64>,
        settings: &ArchiveSettings,
        req: &Request,
    ) -> Result<Archive, ArchiveError> {
        let (start, until) = (Instant::now(), wait_until(req));
        let mut retry = Retry::new(ACCESS_CHECK, until);
        loop {
            let result = match id {
                None => lz.create_archive(api, settings).await,
                Some(id) => {
                    let left = until.saturating_duration_since(Instant::now());
                    tokio::time::timeout(left, lz.update_archive(api, id, settings))
                        .await
                        .unwrap_or_else(|_| Err(cut_off(left)))
                }
            };
            match result {
                Err(e) if e.is_access_check() => {
                    if !retry.allows_another() {
                        let waited = start.elapsed().as_secs();
                        return Err(ArchiveError::AccessRefused { waited, error: e });
                    }
                    let delay_ms = retry.delay().as_millis() as u64;
                    tracing::info!(error = %e, delay_ms, "Logz.io's access check fails yet");
                    retry.pause().await;
                }
                Err(e) if id.is_none() && !e.is(LogzioErrorKind::Unauthorized) => {
                    return match self.look_for_own(lz, api, settings, &e, req).await? {
                        Some(made) => Ok(made),
                        None => Err(e.into()),
                    };
                }
                other => return Ok(other?),
            }
        }
    }

    /// After a POST of this request failed without saying it did nothing (its answer lost, a transient error, or
    /// a refusal that may be "it exists already" from an earlier attempt of the same call): the archive with
    /// exactly these settings, which only this POST can have made (the account had none when it was sent).
    /// A transient failure may still land: it is looked for until the work's deadline.
    async fn look_for_own(
        &self,
        lz: &Session<'_, L>,
        api: &Api,
        settings: &ArchiveSettings,
        e: &LogzioError,
        req: &Request,
    ) -> Result<Option<Archive>, ArchiveError> {
        let until = req.work_deadline.unwrap_or_else(|| Instant::now() + MAX_ASSUME_WAIT);
        let mut retry = Retry::new(LOOK_FOR_OWN, until);
        loop {
            let list = lz.list_archives(api).await?;
            if let Some(made) = list.into_iter().find(|a| a.targets(settings)) {
                return Ok(Some(made));
            }
            if !e.is(LogzioErrorKind::Transient) || !retry.pause().await {
                return Ok(None);
            }
        }
    }

    /// Creates the archive in the account `api` reaches (a Create, or an Update that moves to another account or
    /// finds its archive gone): the new archive's id, or the reason, with the id of an archive left behind.
    async fn register(
        &self,
        req: &Request,
        log: &CallLog,
        spec: &ArchiveSpec,
        api: Option<Api>,
        own: &[u64],
    ) -> Result<u64, (ArchiveError, Option<u64>)> {
        let lz = Session::new(&self.logzio, log);
        // The token, unless the caller read it already (one GetSecretValue per event).
        let api = match api {
            Some(api) => api,
            None => self
                .api(&lz, spec.api.token_secret.as_str(), spec.api.region)
                .await
                .map_err(|e| (e, None))?,
        };
        let settings = settings_of(spec);
        // Nothing in Logz.io says which stack or resource registered an archive, so one that exists is taken as
        // this resource's only when its physical id names it (`own`: a rollback to the archive an Update
        // replaced). However like this one, any other is left alone: a renamed resource, a second resource for
        // the same bucket and role, or an archive registered by hand would otherwise share its id, and the
        // Delete of either would remove the archive the other still uses. (An earlier delivery of this same
        // request to this process is answered from the handler's memory without running again.)
        let existing = lz.list_archives(&api).await.map_err(|e| (e.into(), None))?;
        if let Some(a) = existing.iter().find(|a| own.contains(&a.id)) {
            if !a.shows(&settings) {
                self.write(&lz, &api, Some(a.id), &settings, req)
                    .await
                    .map_err(|e| (e, None))?;
            }
            return Ok(a.id);
        }
        if let Some(a) = existing.into_iter().next() {
            return Err((
                ArchiveError::AnotherArchive {
                    id: a.id,
                    path: a.described(),
                    like_this_one: a.targets(&settings),
                },
                None,
            ));
        }
        let made = self
            .write(&lz, &api, None, &settings, req)
            .await
            .map_err(|e| (e, None))?;
        if let Err(e) = self.check_external_id(log, spec, &made).await {
            return match lz.delete_archive(&api, made.id).await {
                Ok(_) => Err((e, None)),
                // Still there: the answer names it, so CloudFormation's rollback Delete removes it.
                Err(_) => Err((e, Some(made.id))),
            };
        }
        Ok(made.id)
    }

    /// The external ID Logz.io reports for the archive must be one the role trusts, when both are known.
    async fn check_external_id(&self, log: &CallLog, spec: &ArchiveSpec, made: &Archive) -> Result<(), ArchiveError> {
        let Some(presented) = &made.external_id else {
            return Ok(());
        };
        let iam = IamSession::new(&self.iam, log);
        let role = spec.role_arn.resource_name();
        let trust = match iam.get_role(role).await {
            Ok(Some(r)) => r.trust_policy,
            Ok(None) => return Ok(()),
            Err(e) => {
                tracing::warn!(role, error = %e, "could not read the role's trust to compare the external ID");
                return Ok(());
            }
        };
        // Only what the role requires of Logz.io's accounts: an ID another principal must present is no match.
        let accounts = self
            .limits
            .as_ref()
            .map(|l| l.trusted_account_ids.clone())
            .unwrap_or_default();
        let trusted: Vec<String> = accounts
            .iter()
            .flat_map(|a| external_ids_trusted_for(&trust, a.as_str()))
            .collect();
        if trusted.is_empty() || trusted.contains(presented) {
            return Ok(());
        }
        Err(ArchiveError::ExternalIdMismatch { role: role.to_owned() })
    }

    /// The physical id after the Update: the request's own when the archive stays, `new-replacing-old` when it
    /// was registered anew (CloudFormation then deletes the old one), the replaced one's on a return to it.
    async fn update_archive(&self, req: &Request, log: &CallLog) -> Result<PhysicalId, (ArchiveError, Option<u64>)> {
        let (spec, refusal) = parse_held(req, &self.limits).map_err(|e| (e, None))?;
        let current = req.physical_resource_id.as_deref().and_then(PhysicalId::of);
        let own = current.map(|c| c.own()).unwrap_or_default();
        let old = req.old_properties.as_ref().and_then(api_of);
        let same_account = old
            .as_ref()
            .is_some_and(|(s, r)| s == spec.api.token_secret.as_str() && *r == spec.api.region);
        let anew = |made: u64| match current {
            Some(c) if c.archive == made => c,
            Some(c) if c.replaced == Some(made) => PhysicalId {
                archive: made,
                replaced: None,
            },
            c => PhysicalId {
                archive: made,
                replaced: c.map(|c| c.archive),
            },
        };
        let Some(id) = current.filter(|_| same_account) else {
            if let Some(e) = refusal {
                return Err((e, None));
            }
            // Another Logz.io account (or no archive yet): a new archive, and CloudFormation deletes the old one;
            // or, on the rollback of such an Update, the archive it replaced.
            return self.register(req, log, &spec, None, &own).await.map(anew);
        };
        let lz = Session::new(&self.logzio, log);
        let api = self
            .api(&lz, spec.api.token_secret.as_str(), spec.api.region)
            .await
            .map_err(|e| (e, None))?;
        let settings = settings_of(&spec);
        let held = self
            .read_by_id(&lz, &api, id.archive, req)
            .await
            .map_err(|e| (e, None))?;
        if let Some(e) = refusal {
            // Only a return to exactly what Logz.io holds needs no write.
            return match held {
                Some(a) if a.shows(&settings) => {
                    tracing::warn!(archive = id.archive, refusal = %e, "Logz.io holds the archive as asked: no write");
                    Ok(id)
                }
                _ => Err((e, None)),
            };
        }
        match held {
            None => {
                tracing::info!(
                    archive = id.archive,
                    "the archive was deleted outside the stack: registering it again"
                );
                self.register(req, log, &spec, Some(api), &own).await.map(anew)
            }
            Some(a) if a.shows(&settings) => Ok(id),
            Some(_) => {
                self.write(&lz, &api, Some(id.archive), &settings, req)
                    .await
                    .map_err(|e| (e, None))?;
                self.read_until_shown(&lz, &api, id.archive, &settings, req)
                    .await
                    .map_err(|e| (e, None))?;
                Ok(id)
            }
        }
    }

    /// The archive `id`, or None when it is gone: a 404 is read again (up to [`GONE_READS`] times, with backoff,
    /// until shortly before the deadline) and checked against the account's list before it counts, so that
    /// a lagging read is not taken for "deleted outside" (which would register a second archive).
    async fn read_by_id(
        &self,
        lz: &Session<'_, L>,
        api: &Api,
        id: u64,
        req: &Request,
    ) -> Result<Option<Archive>, ArchiveError> {
        let mut retry = Retry::new(GONE_READ, wait_until(req));
        for read in 0..=GONE_READS {
            if let Some(a) = lz.get_archive(api, id).await? {
                return Ok(Some(a));
            }
            if read == GONE_READS || !retry.pause().await {
                break;
            }
        }
        Ok(lz.list_archives(api).await?.into_iter().find(|a| a.id == id))
    }

    /// Logz.io's updates are eventually consistent: read until the new settings show, as its Terraform provider
    /// does, until shortly before the deadline.
    async fn read_until_shown(
        &self,
        lz: &Session<'_, L>,
        api: &Api,
        id: u64,
        settings: &ArchiveSettings,
        req: &Request,
    ) -> Result<(), ArchiveError> {
        let start = Instant::now();
        let mut retry = Retry::new(SHOWN, wait_until(req));
        loop {
            if lz.get_archive(api, id).await?.is_some_and(|a| a.shows(settings)) {
                return Ok(());
            }
            if !retry.pause().await {
                return Err(ArchiveError::NotShown {
                    id,
                    waited: start.elapsed().as_secs(),
                });
            }
        }
    }

    async fn delete_archive(&self, req: &Request, log: &CallLog) -> Result<(), ArchiveError> {
        // Only the archive the physical id is, never the one it replaced (CloudFormation deletes that one with
        // its own id, when the replacement succeeded).
        let Some(id) = req
            .physical_resource_id
            .as_deref()
            .and_then(PhysicalId::of)
            .map(|p| p.archive)
        else {
            tracing::info!("not an archive id (a Create that failed): nothing to delete");
            return Ok(());
        };
        let Some((secret, region)) = api_of(&req.properties) else {
            // Without the token no archive could have been made under these properties.
            tracing::warn!(archive = id, "no valid LogzioApiTokenSecretArn: nothing can be deleted");
            return Ok(());
        };
        let lz = Session::new(&self.logzio, log);
        let api = self.api(&lz, &secret, region).await?;
        if !lz.delete_archive(&api, id).await? {
            tracing::info!(archive = id, "already gone");
        }
        Ok(())
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

impl<P: IamPort, L: LogzioPort> ArchiveRegistration<P, L> {
    /// After the deadline stopped a Create (or an Update registering in another account) that had sent its
    /// POST: the FAILED answer carries no archive id, so nothing else would remove an archive that POST made.
    /// A POST is sent only when the account had no archive (or after re-reading found none like it), so an
    /// archive with exactly this bucket path and role is the one this invocation made.
    async fn undo(&self, req: &Request, log: &CallLog) {
        if !log.actions().contains(&"CreateArchive") {
            return;
        }
        let Ok(spec) = parse(req, &self.limits) else { return };
        let lz = Session::new(&self.logzio, log);
        let Ok(api) = self.api(&lz, spec.api.token_secret.as_str(), spec.api.region).await else {
            return;
        };
        let settings = settings_of(&spec);
        // The POST may still be landing: look until the protocol stops the undo (its half of the answer margin;
        // UNDO_LOOK bounds it where no protocol does).
        let mut retry = Retry::new(UNDO, Instant::now() + UNDO_LOOK);
        let made = loop {
            match lz.list_archives(&api).await {
                Ok(list) => {
                    if let Some(a) = list.into_iter().find(|a| a.targets(&settings)) {
                        break a;
                    }
                }
                Err(e) => tracing::warn!(error = %e, "could not read the archives after a stopped create"),
            }
            if !retry.pause().await {
                tracing::warn!("the archive a stopped create posted did not show: it may land later");
                return;
            }
        };
        if let Err(e) = lz.delete_archive(&api, made.id).await {
            tracing::warn!(archive = made.id, error = %e, "could not remove the archive a stopped create made");
        }
    }
}

impl<P: IamPort, L: LogzioPort> CustomResource for ArchiveRegistration<P, L> {
    type Record = CallLog;

    async fn undo_after_deadline(&self, req: &Request, log: &CallLog) {
        self.undo(req, log).await
    }

    async fn create(&self, req: &Request, log: &CallLog) -> Result<Success, Failure> {
        let spec = parse(req, &self.limits).map_err(|e| failure(&e, None))?;
        match self.register(req, log, &spec, None, &[]).await {
            Ok(id) => Ok(success(PhysicalId {
                archive: id,
                replaced: None,
            })),
            Err((e, id)) => Err(failure(&e, id)),
        }
    }

    async fn update(&self, req: &Request, log: &CallLog) -> Result<Success, Failure> {
        match self.update_archive(req, log).await {
            Ok(id) => Ok(success(id)),
            // A failed Update keeps the old id; an archive a replacement made and could not remove is named in
            // the log (CloudFormation keeps the old id whatever the answer says).
            Err((e, left)) => {
                if let Some(id) = left {
                    tracing::warn!(
                        archive = id,
                        "a new archive could not be removed after the update failed"
                    );
                }
                Err(failure(&e, None))
            }
        }
    }

    async fn delete(&self, req: &Request, log: &CallLog) -> Result<Success, Failure> {
        match self.delete_archive(req, log).await {
            Ok(()) => Ok(Success {
                physical_resource_id: req.physical_resource_id.clone().unwrap_or_default(),
                data: BTreeMap::new(),
            }),
            Err(e) => Err(failure(&e, None)),
        }
    }
}
