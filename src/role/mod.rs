//! `Custom::LogzioRole`: create, update and delete of the archive role, reconciled against what IAM holds.
//!
//! Each operation parses the properties, reads what decides which role it is about ([`target`]), then applies
//! the pure plan through the IAM [`Session`], which records every call. It never modifies or deletes a role that
//! lacks our ownership tags; a Create or replacement that fails after making a role removes it again; and after
//! the deadline it undoes only a role IAM's facts show this invocation made. It knows the protocol only through
//! [`CustomResource`]: never the ResponseURL.
//!
//! By operation: `trust` (where the trust comes from), `converge` (Create and Update), `delete`, and [`target`]
//! (the pure decisions of which role an event is about); this file holds the errors, the parse and the
//! protocol's side ([`CustomResource`], the undo after the deadline).

mod converge;
mod delete;
pub mod target;
#[cfg(test)]
mod tests;
mod trust;

use crate::cfn::{CustomResource, Failed, Failure, Invocation, Request, RequestType, Success};
use crate::iam::{CallLog, IamError, IamErrorKind, IamPort, RoleRef, Session};
use crate::limits::{Limits, LimitsError};
use crate::logzio::{Api, LogzioError, LogzioErrorKind, LogzioPort, Session as LogzioSession};
use crate::plan::{ActualRole, DesiredRole, IamCall, Owner, boundary_differs, generated_role_name, plan};
use crate::policy::{INLINE_POLICY_LIMIT, permissions_policy, policy_size};
use crate::preflight;
use crate::properties::{
    AccountId, ExternalId, PropertyErrors, RoleName, RoleSpec, Trust, TrustSource, policy_name_hint,
};
use delete::remove_role;
use std::collections::BTreeMap;
use target::{failed_create_role_name, made_by, update_target};

/// How many times a Delete sweeps a role whose DeleteRole keeps meeting new attachments.
pub const DELETE_ROUNDS: u32 = 3;

/// Why an operation on the archive role failed; the Display text is the Reason CloudFormation shows.
#[derive(Debug, thiserror::Error)]
pub enum RoleError {
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
pub struct LogzioRole<P, L> {
    iam: P,
    logzio: L,
    /// Invalid settings are kept as the error, so that every Create and Update is answered FAILED saying so
    /// (a function that failed to start would answer nothing, and the stack would wait an hour).
    limits: Result<Limits, LimitsError>,
}

impl<P: IamPort, L: LogzioPort> LogzioRole<P, L> {
    pub fn new(iam: P, logzio: L, limits: Result<Limits, LimitsError>) -> Self {
        LogzioRole { iam, logzio, limits }
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
    spec: RoleSpec,
    partition: String,
    account: String,
    limits: &'a Limits,
}

fn parse<'a>(
    req: &Request,
    inv: &Invocation,
    limits: &'a Result<Limits, LimitsError>,
) -> Result<Parsed<'a>, RoleError> {
    parse_as_held(req, inv, preflight::limits(limits, "makes no role")?)
}

/// [`parse`] with these limits (an Update's second reading uses [`Limits::as_held`]).
fn parse_as_held<'a>(req: &Request, inv: &Invocation, limits: &'a Limits) -> Result<Parsed<'a>, RoleError> {
    let preflight::Stack { partition, account } = preflight::stack(req, inv)?;
    let spec = RoleSpec::parse(&req.properties, &partition, limits)?;
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
        return Err(RoleError::PolicyTooLarge(size));
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

impl<P: IamPort, L: LogzioPort> CustomResource for LogzioRole<P, L> {
    type Record = CallLog;

    async fn create(&self, req: &Request, inv: &Invocation, log: &CallLog) -> Result<Success, Failure> {
        match self.create_role(req, inv, log).await {
            Ok(role) => Ok(success(role)),
            Err(failed) => Err(redacted(req, failed.into())),
        }
    }

    async fn update(&self, req: &Request, inv: &Invocation, log: &CallLog) -> Result<Success, Failure> {
        self.update_role(req, inv, log)
            .await
            .map(success)
            .map_err(|e| redacted(req, Failure::new(e.to_string())))
    }

    async fn delete(&self, req: &Request, inv: &Invocation, log: &CallLog) -> Result<Success, Failure> {
        match self.delete_role(req, inv, log).await {
            Ok(()) => Ok(Success {
                physical_resource_id: req.physical_resource_id.clone().unwrap_or_default(),
                data: BTreeMap::new(),
            }),
            Err(e) => Err(redacted(req, Failure::new(e.to_string()))),
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
    async fn undo_after_deadline(&self, req: &Request, _: &Invocation, log: &CallLog) {
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
