//! `Custom::LogzioRole`: create, update and delete of the archive role, reconciled against what IAM holds.
//!
//! Each operation parses the properties, reads what decides which role it is about ([`target`]), then applies
//! the pure plan through the IAM [`Session`], which records every call. It never modifies or deletes a role that
//! lacks our ownership tags; a Create or replacement that fails after making a role removes it again; and after
//! the deadline it undoes only a role IAM's facts show this invocation made. It knows the protocol only through
//! [`CustomResource`]: never the ResponseURL.

pub mod target;
#[cfg(test)]
mod tests;

use crate::cfn::{CustomResource, Failure, Request, RequestType, Success};
use crate::iam::{CallLog, IamError, IamErrorKind, IamPort, RoleRef, Session};
use crate::limits::{Limits, LimitsError};
use crate::logzio::{Api, LogzioError, LogzioErrorKind, LogzioPort, Session as LogzioSession};
use crate::plan::{ActualRole, DesiredRole, IamCall, Owner, boundary_differs, generated_role_name, plan};
use crate::policy::{INLINE_POLICY_LIMIT, permissions_policy, policy_size};
use crate::preflight;
use crate::properties::{
    AccountId, ArchiveRoleSpec, ExternalId, PropertyErrors, RoleName, Trust, TrustSource, policy_name_hint,
};
use std::collections::BTreeMap;
use target::{failed_create_role_name, made_by, update_target};

/// How many times a Delete sweeps a role whose DeleteRole keeps meeting new attachments.
pub const DELETE_ROUNDS: u32 = 3;

/// Why an operation on the archive role failed; the Display text is the Reason CloudFormation shows.
#[derive(Debug, thiserror::Error)]
pub enum ArchiveRoleError {
    #[error(transparent)]
    Properties(#[from] PropertyErrors),
    #[error(transparent)]
    Iam(#[from] IamError),
    #[error(transparent)]
    Refused(#[from] preflight::Refused),
    #[error(
        "RoleName: role {0} already exists and is not managed by this resource (it lacks the ownership tags \
         logzio-role:stack-id/logical-id of this stack and logical id); it was left untouched: choose another \
         RoleName or delete that role"
    )]
    ForeignRole(String),
    #[error(
        "Path: role {name} has path {actual} and the role's path cannot change in place; with RoleName set, a new \
         path needs a new RoleName too (or remove RoleName to get a generated one)"
    )]
    PathChangeNeedsNewName { name: String, actual: String },
    #[error(
        "role {name} has permissions boundary {actual}, not {wanted} that this deployment gives every role it \
         makes, and this function may not change a boundary; it was left untouched: give the resource a new \
         RoleName or Path so that a new role is made"
    )]
    BoundaryDiffers {
        name: String,
        actual: String,
        wanted: String,
    },
    #[error(
        "role {role} is in instance profile(s) {profiles}, which this function may not change (its execution role \
         has no iam:RemoveRoleFromInstanceProfile); remove the role from them, then retry the delete"
    )]
    InInstanceProfiles { role: String, profiles: String },
    #[error("KeyPrefix: the inline policy would be {0} characters, over IAM's limit of {INLINE_POLICY_LIMIT}")]
    PolicyTooLarge(usize),
    #[error("LogzioApiTokenSecretArn: the trust could not be read from Logz.io: {0}")]
    Logzio(LogzioError),
    #[error("LogzioApiTokenSecretArn: Logz.io answered {what} that is not valid: {rule}")]
    LogzioAnswer { what: &'static str, rule: String },
    /// `answered`: the trust Logz.io's answer gives, which a return to what IAM holds may still use.
    #[error("LogzioApiTokenSecretArn: Logz.io names AWS account {account} for this Logz.io account: {rule}")]
    UntrustedLogzioAccount {
        account: String,
        rule: String,
        answered: Box<Trust>,
    },
    #[error(
        "LogzioAccountId: {given} differs from the AWS account Logz.io names for this Logz.io account ({logzio}); remove LogzioAccountId or correct it"
    )]
    LogzioAccountDiffers { given: String, logzio: String },
}

/// The archive-role resource: the IAM port, Logz.io (for the trust, when a token secret is given) and the
/// deployment's limits, lent to every event.
#[derive(Debug, Clone)]
pub struct ArchiveRole<P, L> {
    iam: P,
    logzio: L,
    /// Invalid settings are kept as the error, so that every Create and Update is answered FAILED saying so
    /// (a function that failed to start would answer nothing, and the stack would wait an hour).
    limits: Result<Limits, LimitsError>,
}

impl<P: IamPort, L: LogzioPort> ArchiveRole<P, L> {
    pub fn new(iam: P, logzio: L, limits: Result<Limits, LimitsError>) -> Self {
        ArchiveRole { iam, logzio, limits }
    }

    /// The account and external ID the role trusts: from the properties, or from Logz.io's API (the token from
    /// Secrets Manager), held to the deployment's trusted accounts either way.
    async fn trust(&self, parsed: &Parsed<'_>, log: &CallLog) -> Result<Trust, ArchiveRoleError> {
        let (api, given_account) = match &parsed.spec.trust {
            TrustSource::Given(t) => return Ok(t.clone()),
            TrustSource::FromLogzio { api, account } => (api, account),
        };
        let lz = LogzioSession::new(&self.logzio, log);
        let token = lz
            .api_token(api.token_secret.as_str())
            .await
            .map_err(ArchiveRoleError::Logzio)?;
        let details = lz
            .assume_role_details(&Api {
                region: api.region,
                token,
            })
            .await
            .map_err(ArchiveRoleError::Logzio)?;
        let account: AccountId = details
            .aws_account_id
            .parse()
            .map_err(|rule| ArchiveRoleError::LogzioAnswer {
                what: "an AWS account",
                rule,
            })?;
        if let Some(given) = given_account
            && given != &account
        {
            return Err(ArchiveRoleError::LogzioAccountDiffers {
                given: given.to_string(),
                logzio: account.to_string(),
            });
        }
        let external_id: ExternalId = details
            .external_id
            .parse()
            .map_err(|rule| ArchiveRoleError::LogzioAnswer {
                what: "an external ID",
                rule,
            })?;
        match parsed.limits.trusts(account.clone()) {
            Ok(account) => Ok(Trust { account, external_id }),
            Err(rule) => Err(ArchiveRoleError::UntrustedLogzioAccount {
                account: details.aws_account_id.clone(),
                rule,
                answered: Box::new(Trust { account, external_id }),
            }),
        }
    }

    /// The path a role gets when `Path` is not given (also when the settings are invalid: nothing is made then).
    fn default_path(&self) -> &str {
        self.limits
            .as_ref()
            .map_or(crate::limits::DEFAULT_PATH_PREFIX, |l| l.path_prefix.as_str())
    }
}

fn owner(req: &Request) -> Owner {
    Owner {
        stack_id: req.stack_id.clone(),
        logical_id: req.logical_resource_id.clone(),
    }
}

/// What a Create or Update knows before its first IAM call: the validated spec, the stack's partition and
/// account, and the deployment's limits. Every refusal that needs no IAM call happens here.
struct Parsed<'a> {
    spec: ArchiveRoleSpec,
    partition: String,
    account: String,
    limits: &'a Limits,
}

fn parse<'a>(req: &Request, limits: &'a Result<Limits, LimitsError>) -> Result<Parsed<'a>, ArchiveRoleError> {
    parse_as_held(req, preflight::limits(limits, "makes no role")?)
}

/// [`parse`] with these limits (an Update's second reading uses [`Limits::as_held`]).
fn parse_as_held<'a>(req: &Request, limits: &'a Limits) -> Result<Parsed<'a>, ArchiveRoleError> {
    let preflight::Stack { partition, account } = preflight::stack(req)?;
    let spec = ArchiveRoleSpec::parse(&req.properties, &partition, limits)?;
    // Cannot be exceeded with valid properties today (about 9,200 characters at most); kept as the guard for
    // the day the policy grows.
    let size = policy_size(&permissions_policy(
        &partition,
        &account,
        &spec.bucket,
        &spec.key_prefix,
        spec.kms_key_arn.as_ref(),
    ));
    if size > INLINE_POLICY_LIMIT {
        return Err(ArchiveRoleError::PolicyTooLarge(size));
    }
    Ok(Parsed {
        spec,
        partition,
        account,
        limits,
    })
}

impl Parsed<'_> {
    fn desired(&self, name: String, owner: &Owner, trust: &Trust) -> DesiredRole {
        DesiredRole::new(
            &self.spec,
            name,
            &self.partition,
            &self.account,
            owner,
            self.limits,
            trust,
        )
    }
}

fn success(role: RoleRef) -> Success {
    let data = BTreeMap::from([
        ("Arn".to_owned(), role.arn),
        ("RoleName".to_owned(), role.name.clone()),
        ("RoleId".to_owned(), role.role_id),
    ]);
    Success {
        physical_resource_id: role.name,
        data,
    }
}

fn failure(e: &ArchiveRoleError, id: Option<String>) -> Failure {
    Failure {
        reason: e.to_string(),
        physical_resource_id: id,
    }
}

/// Makes the role `d` exist as desired; `existing` is the role as GetRole returned it (None: not there).
async fn ensure<P: IamPort>(
    iam: &Session<'_, P>,
    d: &DesiredRole,
    owner: &Owner,
    existing: Option<ActualRole>,
) -> Result<RoleRef, ArchiveRoleError> {
    match existing {
        Some(actual) => converge(iam, d, owner, actual).await,
        None => create_fresh(iam, d, owner).await,
    }
}

/// Brings an existing role to `d`, only if it is ours and only the writes that differ.
async fn converge<P: IamPort>(
    iam: &Session<'_, P>,
    d: &DesiredRole,
    owner: &Owner,
    mut actual: ActualRole,
) -> Result<RoleRef, ArchiveRoleError> {
    if !owner.owns(&actual.tags) {
        return Err(ArchiveRoleError::ForeignRole(d.name.clone()));
    }
    if actual.path != d.path {
        return Err(ArchiveRoleError::PathChangeNeedsNewName {
            name: d.name.clone(),
            actual: actual.path,
        });
    }
    if boundary_differs(d, &actual) {
        let none = || "(none)".to_owned();
        let refusal = ArchiveRoleError::BoundaryDiffers {
            name: d.name.clone(),
            actual: actual.permissions_boundary.clone().unwrap_or_else(none),
            wanted: d.permissions_boundary.clone().unwrap_or_else(none),
        };
        // The boundary guards writes: a role that needs none (a rollback to what IAM holds, a deployment whose
        // boundary changed since) is left as it is, and succeeds.
        return held_as_is(iam, d, owner, actual, refusal).await;
    }
    iam.load_inline_policies(&mut actual, &d.policy_name).await?;
    for call in plan(d, Some(&actual)) {
        iam.apply(&d.name, &call).await?;
    }
    Ok(RoleRef::from(&actual))
}

/// An Update that a refusal guarding writes stopped (see `update_role`): success, with no write, when IAM
/// holds the role exactly as `d` (ours, at its path, nothing to plan); the refusal otherwise.
async fn held_as_is<P: IamPort>(
    iam: &Session<'_, P>,
    d: &DesiredRole,
    owner: &Owner,
    mut actual: ActualRole,
    refusal: ArchiveRoleError,
) -> Result<RoleRef, ArchiveRoleError> {
    if !owner.owns(&actual.tags) || actual.path != d.path {
        return Err(refusal);
    }
    iam.load_inline_policies(&mut actual, &d.policy_name).await?;
    if !plan(d, Some(&actual)).is_empty() {
        return Err(refusal);
    }
    tracing::warn!(role = %d.name, refusal = %refusal, "IAM holds the role as asked: no write, so not refused");
    Ok(RoleRef::from(&actual))
}

/// The trust a role holds, when it is one this resource writes: one Logz.io account of the deployment's
/// trusted ones, with one external ID.
fn held_trust(role: &ActualRole, limits: &Limits) -> Option<Trust> {
    let mut found = limits.trusted_account_ids.iter().filter_map(|a| {
        match crate::policy::external_ids_trusted_for(&role.trust_policy, a.as_str())[..] {
            [ref id] => Some(Trust {
                account: a.clone(),
                external_id: id.parse().ok()?,
            }),
            _ => None,
        }
    });
    let one = found.next()?;
    found.next().is_none().then_some(one)
}

/// CreateRole and PutRolePolicy. If IAM answers that the role exists (a redelivery, a lost answer, a race),
/// GetRole decides: ours is converged, anyone else's is refused untouched. A role this call made is deleted
/// again if its policy cannot be put (no orphan).
async fn create_fresh<P: IamPort>(
    iam: &Session<'_, P>,
    d: &DesiredRole,
    owner: &Owner,
) -> Result<RoleRef, ArchiveRoleError> {
    let calls = plan(d, None);
    let (create, rest) = calls
        .split_first()
        .expect("a plan without a role starts with CreateRole");
    let made = match iam.apply(&d.name, create).await {
        Ok(Some(made)) => made,
        Ok(None) => return Err(empty_create_role(&d.name).into()),
        Err(e) if e.is(IamErrorKind::EntityAlreadyExists) => {
            return match iam.get_role(&d.name).await? {
                Some(actual) => converge(iam, d, owner, actual).await,
                None => Err(e.into()),
            };
        }
        Err(e) => return Err(e.into()),
    };
    for call in rest {
        if let Err(e) = iam.apply(&d.name, call).await {
            // Best effort: the caller reports the original error either way, and on Create the failure's
            // physical id is this role's name, so CloudFormation's rollback Delete retries the removal.
            if let Err(cleanup) = remove_role(iam, &d.name, None).await {
                tracing::warn!(role = %d.name, error = %cleanup, "could not remove the half-made role");
            }
            return Err(e.into());
        }
    }
    Ok(made)
}

fn empty_create_role(name: &str) -> IamError {
    IamError {
        action: "CreateRole",
        role: name.to_owned(),
        kind: IamErrorKind::Other,
        code: "EmptyResponse".into(),
        message: "IAM returned no role".into(),
        source: "IAM returned no role".into(),
    }
}

/// Deletes a role known to be ours: its inline policy `known_policy` (if given) and DeleteRole, which is all it
/// takes in the common case. Only when IAM answers DeleteConflict (something else attached) is the role swept,
/// up to [`DELETE_ROUNDS`] times. A role or policy already gone is not an error.
async fn remove_role<P: IamPort>(
    iam: &Session<'_, P>,
    role: &str,
    known_policy: Option<&str>,
) -> Result<(), ArchiveRoleError> {
    let gone = |r: Result<Option<RoleRef>, IamError>| match r {
        Err(e) if !e.is(IamErrorKind::NoSuchEntity) => Err(e),
        _ => Ok(()),
    };
    if let Some(policy_name) = known_policy {
        let call = IamCall::DeleteRolePolicy {
            policy_name: policy_name.to_owned(),
        };
        gone(iam.apply(role, &call).await)?;
    }
    let mut round = 1;
    loop {
        match iam.apply(role, &IamCall::DeleteRole).await {
            Err(e) if e.is(IamErrorKind::DeleteConflict) && round < DELETE_ROUNDS => {
                round += 1;
                sweep(iam, role).await?;
            }
            other => return Ok(gone(other)?),
        }
    }
}

/// Removes what blocks a role's deletion: inline policies, managed policy attachments. Instance profiles are
/// named in the error instead: the function may not change them.
async fn sweep<P: IamPort>(iam: &Session<'_, P>, role: &str) -> Result<(), ArchiveRoleError> {
    let listed = |r: Result<Vec<String>, IamError>| match r {
        Err(e) if e.is(IamErrorKind::NoSuchEntity) => Ok(Vec::new()),
        other => other,
    };
    let not_gone = |r: Result<Option<RoleRef>, IamError>| match r {
        Err(e) if !e.is(IamErrorKind::NoSuchEntity) => Err(e),
        _ => Ok(()),
    };
    for policy_name in listed(iam.list_role_policies(role).await)? {
        not_gone(iam.apply(role, &IamCall::DeleteRolePolicy { policy_name }).await)?;
    }
    for policy_arn in listed(iam.list_attached_role_policies(role).await)? {
        not_gone(iam.apply(role, &IamCall::DetachRolePolicy { policy_arn }).await)?;
    }
    let profiles = listed(iam.list_instance_profiles_for_role(role).await)?;
    if !profiles.is_empty() {
        return Err(ArchiveRoleError::InInstanceProfiles {
            role: role.to_owned(),
            profiles: profiles.join(", "),
        });
    }
    Ok(())
}

impl<P: IamPort, L: LogzioPort> ArchiveRole<P, L> {
    async fn create_role(&self, req: &Request, log: &CallLog) -> Result<RoleRef, (ArchiveRoleError, Option<String>)> {
        let iam = Session::new(&self.iam, log);
        let parsed = parse(req, &self.limits).map_err(|e| (e, self.create_failure_id(req)))?;
        let (spec, owner) = (&parsed.spec, owner(req));
        let name = match &spec.role_name {
            Some(n) => n.to_string(),
            None => generated_role_name(&req.stack_id, &req.logical_resource_id, spec.path.as_str()),
        };
        let trust = self
            .trust(&parsed, log)
            .await
            .map_err(|e| (e, self.create_failure_id(req)))?;
        let d = parsed.desired(name.clone(), &owner, &trust);
        // CreateRole first: a fresh Create (the common, cold case) costs exactly its two writes; a role that
        // already exists is refused by IAM, changing nothing, before we look at it.
        create_fresh(&iam, &d, &owner).await.map_err(|e| (e, Some(name)))
    }

    async fn update_role(&self, req: &Request, log: &CallLog) -> Result<RoleRef, ArchiveRoleError> {
        let iam = Session::new(&self.iam, log);
        // A refusal that guards only writes (the deployment's allowances, narrowed since the role was made) does
        // not stop a return to a state IAM holds: the properties are read without them, and the refusal stands
        // unless the plan is empty. So CloudFormation's rollback to the old properties succeeds with no write.
        let held_limits = self.limits.as_ref().ok().map(Limits::as_held);
        let (parsed, mut refusal) = match (parse(req, &self.limits), &held_limits) {
            (Ok(p), _) => (p, None),
            (Err(e), Some(held)) => match parse_as_held(req, held) {
                Ok(p) => (p, Some(e)),
                Err(_) => return Err(e),
            },
            (Err(e), None) => return Err(e),
        };
        let (spec, owner) = (&parsed.spec, owner(req));
        let current = req.physical_resource_id.as_deref().unwrap_or_default();
        // Read first: a no-op Update makes no write, whether RoleName is set or generated.
        let (name, existing) = match &spec.role_name {
            Some(n) => (n.to_string(), iam.get_role(n.as_str()).await?),
            None => {
                let current_role = match RoleName::parse(current) {
                    Some(_) => iam.get_role(current).await?,
                    None => None,
                };
                let generated = generated_role_name(&req.stack_id, &req.logical_resource_id, spec.path.as_str());
                let name = update_target(current, &generated, current_role.as_ref(), &owner);
                let existing = if name == current {
                    current_role
                } else {
                    iam.get_role(&name).await?
                };
                (name, existing)
            }
        };
        // A rotated external ID (with the token secret) is applied by any stack update. When Logz.io cannot be
        // reached, the trust IAM holds for a trusted account stands in, so that a return to what IAM holds needs
        // no Logz.io; anything else to write is refused with Logz.io's reason.
        let trust = match self.trust(&parsed, log).await {
            Ok(t) => t,
            // Logz.io names an account the deployment no longer trusts: like any narrowed allowance, that
            // blocks a write, not a return to what IAM holds.
            Err(ArchiveRoleError::UntrustedLogzioAccount {
                account,
                rule,
                answered,
            }) if existing.is_some() => {
                let t = (*answered).clone();
                refusal = refusal.or(Some(ArchiveRoleError::UntrustedLogzioAccount {
                    account,
                    rule,
                    answered,
                }));
                t
            }
            Err(ArchiveRoleError::Logzio(e)) if e.is(LogzioErrorKind::Transient) => {
                match existing.as_ref().and_then(|r| held_trust(r, parsed.limits)) {
                    Some(t) => {
                        refusal = refusal.or(Some(ArchiveRoleError::Logzio(e)));
                        t
                    }
                    None => return Err(ArchiveRoleError::Logzio(e)),
                }
            }
            Err(e) => return Err(e),
        };
        let d = parsed.desired(name, &owner, &trust);
        // A new name is a replacement, or a rollback to the previous role. A role made here whose later writes
        // fail is removed again (create_fresh; at the deadline, undo_after_deadline), and a failed Update keeps
        // the old id: no orphan either way.
        match (existing, refusal) {
            (existing, None) => ensure(&iam, &d, &owner, existing).await,
            (Some(actual), Some(refusal)) => held_as_is(&iam, &d, &owner, actual, refusal).await,
            (None, Some(refusal)) => Err(refusal),
        }
    }

    async fn delete_role(&self, req: &Request, log: &CallLog) -> Result<(), ArchiveRoleError> {
        let iam = Session::new(&self.iam, log);
        let id = req.physical_resource_id.clone().unwrap_or_default();
        let Some(name) = RoleName::parse(&id) else {
            tracing::info!(physical_id = %id, "not a role name: nothing to delete");
            return Ok(());
        };
        match iam.get_role(name.as_str()).await? {
            None => Ok(()),
            Some(a) if !owner(req).owns(&a.tags) => {
                tracing::info!(role = %name, "role lacks this resource's ownership tags: left untouched");
                Ok(())
            }
            Some(_) => remove_role(&iam, name.as_str(), Some(policy_name_hint(&req.properties).as_str())).await,
        }
    }
}

/// A Reason quotes no external ID: neither an issued one nor the one the properties chose (old or new), in any
/// case (IAM's and Logz.io's messages may quote what they were sent).
fn redacted(req: &Request, mut f: Failure) -> Failure {
    let chosen: Vec<&str> = [Some(&req.properties), req.old_properties.as_ref()]
        .into_iter()
        .flatten()
        .filter_map(|p| p.get("ExternalId").and_then(serde_json::Value::as_str))
        .collect();
    f.reason = crate::logzio::redact(&f.reason, &chosen);
    f
}

impl<P: IamPort, L: LogzioPort> CustomResource for ArchiveRole<P, L> {
    type Record = CallLog;

    async fn create(&self, req: &Request, log: &CallLog) -> Result<Success, Failure> {
        match self.create_role(req, log).await {
            Ok(role) => Ok(success(role)),
            Err((e, id)) => Err(redacted(req, failure(&e, id))),
        }
    }

    async fn update(&self, req: &Request, log: &CallLog) -> Result<Success, Failure> {
        self.update_role(req, log)
            .await
            .map(success)
            .map_err(|e| redacted(req, failure(&e, None)))
    }

    async fn delete(&self, req: &Request, log: &CallLog) -> Result<Success, Failure> {
        match self.delete_role(req, log).await {
            Ok(()) => Ok(Success {
                physical_resource_id: req.physical_resource_id.clone().unwrap_or_default(),
                data: BTreeMap::new(),
            }),
            Err(e) => Err(redacted(req, failure(&e, None))),
        }
    }

    fn create_failure_id(&self, req: &Request) -> Option<String> {
        Some(failed_create_role_name(
            &req.properties,
            &req.stack_id,
            &req.logical_resource_id,
            self.default_path(),
        ))
    }

    /// An Update stopped at the deadline: remove a role it sent CreateRole for (a replacement) when IAM's facts
    /// show this invocation made it — the FAILED answer keeps the old id, so nothing else would ever delete it.
    /// A role that existed before (a rollback's target, even one our CreateRole was refused for or is still in
    /// flight for) is kept, as is the current role. A Create needs nothing: its FAILED answer names the role, and
    /// CloudFormation's rollback Delete removes it.
    async fn undo_after_deadline(&self, req: &Request, log: &CallLog) {
        if req.request_type != RequestType::Update {
            return;
        }
        let iam = Session::new(&self.iam, log);
        for name in log.create_role_targets() {
            if Some(&name) == req.physical_resource_id.as_ref() {
                continue; // the current role, recreated after an out-of-band delete: the stack still uses it
            }
            let role = match iam.get_role(&name).await {
                Ok(Some(role)) if owner(req).owns(&role.tags) && made_by(log, &role) => role,
                Ok(_) => continue,
                Err(e) => {
                    tracing::warn!(role = %name, error = %e, "could not read the role a stopped update made");
                    continue;
                }
            };
            if let Err(e) = remove_role(&iam, &role.name, None).await {
                tracing::warn!(role = %name, error = %e, "could not remove the role a stopped update made");
            }
        }
    }
}
