//! `Custom::LogzioRole`: create, update and delete of the archive role, reconciled against what IAM holds.
//!
//! Each operation parses the properties, decides which role it is about (its name, and whether it is ours by
//! the ownership tags), then applies the pure plan through the IAM adapter. It never modifies or deletes a role
//! that lacks our ownership tags, and a Create or replacement that fails after making a role removes it again.
//! It knows the protocol only through [`CustomResource`]: never the ResponseURL.

use crate::cfn::{CustomResource, Failure, Request, RequestType, Success};
use crate::iam::{Iam, IamError, IamErrorKind, IamSession, RoleRef};
use crate::limits::{DEFAULT_PATH_PREFIX, Limits};
use crate::plan::{ActualRole, DesiredRole, Owner, generated_role_name, plan};
use crate::policy::{INLINE_POLICY_LIMIT, permissions_policy, policy_size, stack_account};
use crate::properties::{ArchiveRoleSpec, PropertyErrors, RoleName, role_name_hint};
use std::collections::BTreeMap;

/// Why an operation on the archive role failed; the Display text is the Reason CloudFormation shows.
#[derive(Debug, thiserror::Error)]
pub enum ArchiveRoleError {
    #[error(transparent)]
    Properties(#[from] PropertyErrors),
    #[error(transparent)]
    Iam(#[from] IamError),
    #[error("StackId {0:?} is not a CloudFormation stack ARN, so the partition for the role's ARNs is unknown")]
    NoPartition(String),
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
    #[error("KeyPrefix: the inline policy would be {0} characters, over IAM's limit of {INLINE_POLICY_LIMIT}")]
    PolicyTooLarge(usize),
}

/// The archive-role resource: the IAM client, lent to every event.
#[derive(Debug, Clone)]
pub struct ArchiveRole {
    iam: Iam,
}

impl ArchiveRole {
    pub fn new(iam: Iam) -> Self {
        ArchiveRole { iam }
    }
}

fn owner(req: &Request) -> Owner {
    Owner {
        stack_id: req.stack_id.clone(),
        logical_id: req.logical_resource_id.clone(),
    }
}

/// The validated spec, the stack's partition and account: every check that needs no IAM call.
fn parse(req: &Request) -> Result<(ArchiveRoleSpec, String, String), ArchiveRoleError> {
    let partition = req
        .partition()
        .ok_or_else(|| ArchiveRoleError::NoPartition(req.stack_id.clone()))?
        .to_owned();
    let account = stack_account(&req.stack_id)
        .ok_or_else(|| ArchiveRoleError::NoPartition(req.stack_id.clone()))?
        .to_owned();
    let spec = ArchiveRoleSpec::parse(&req.properties, &partition, &Limits::default())?;
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
    Ok((spec, partition, account))
}

/// The role name the properties ask for: `RoleName`, or the generated name for the `Path`.
fn wanted_name(req: &Request, spec: &ArchiveRoleSpec) -> String {
    match &spec.role_name {
        Some(n) => n.to_string(),
        None => generated_role_name(&req.stack_id, &req.logical_resource_id, spec.path.as_str()),
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

/// Makes the role `d` exist as desired; `existing` is the role as GetRole already returned it, if it was read.
/// A role this call creates is deleted again if a later write fails (no orphan).
///
/// Otherwise CreateRole goes first: a fresh Create (the common, cold case) then costs exactly
/// its two writes, and a role that already exists (a redelivery, a rollback, someone else's role) is refused
/// by IAM with EntityAlreadyExists, changing nothing, before we look at it and decide.
async fn ensure(
    iam: &mut IamSession<'_>,
    d: &DesiredRole,
    owner: &Owner,
    existing: Option<ActualRole>,
) -> Result<RoleRef, ArchiveRoleError> {
    match existing {
        Some(actual) => converge(iam, d, owner, actual).await,
        None => match create_fresh(iam, d).await {
            Err(ArchiveRoleError::Iam(e)) if e.is(IamErrorKind::EntityAlreadyExists) => {
                match iam.get_role(&d.name).await? {
                    Some(actual) => converge(iam, d, owner, actual).await,
                    None => Err(e.into()),
                }
            }
            other => other,
        },
    }
}

async fn converge(
    iam: &mut IamSession<'_>,
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
    iam.load_inline_policies(&mut actual, &d.policy_name).await?;
    for call in plan(d, Some(&actual)) {
        iam.apply(&d.name, &call).await?;
    }
    Ok(RoleRef::from(&actual))
}

async fn create_fresh(iam: &mut IamSession<'_>, d: &DesiredRole) -> Result<RoleRef, ArchiveRoleError> {
    let mut created: Option<RoleRef> = None;
    for call in plan(d, None) {
        match iam.apply(&d.name, &call).await {
            Ok(Some(r)) => created = Some(r),
            Ok(None) => {}
            Err(e) => {
                if created.is_some() {
                    // Best effort: the caller reports the original error either way, and on Create the failure's
                    // physical id is this role's name, so CloudFormation's rollback Delete retries the removal.
                    if let Err(cleanup) = iam.delete_role(&d.name).await {
                        tracing::warn!(role = %d.name, error = %cleanup, "could not remove the half-made role");
                    }
                }
                return Err(e.into());
            }
        }
    }
    created.ok_or_else(|| {
        ArchiveRoleError::Iam(IamError {
            action: "CreateRole",
            role: d.name.clone(),
            kind: IamErrorKind::Other,
            code: "EmptyResponse".into(),
            message: "IAM returned no role".into(),
            source: "IAM returned no role".into(),
        })
    })
}

impl ArchiveRole {
    async fn create_inner(
        &self,
        req: &Request,
        iam: &mut IamSession<'_>,
    ) -> Result<RoleRef, (ArchiveRoleError, Option<String>)> {
        let (spec, partition, account) = parse(req).map_err(|e| (e, self.create_failure_id(req)))?;
        let name = wanted_name(req, &spec);
        let d = DesiredRole::new(
            &spec,
            name.clone(),
            &partition,
            &account,
            &owner(req),
            &Limits::default(),
        );
        ensure(iam, &d, &owner(req), None).await.map_err(|e| (e, Some(name)))
    }

    async fn update_inner(&self, req: &Request, iam: &mut IamSession<'_>) -> Result<RoleRef, ArchiveRoleError> {
        let (spec, partition, account) = parse(req)?;
        let owner = owner(req);
        let current = req.physical_resource_id.clone().unwrap_or_default();
        let wanted = wanted_name(req, &spec);
        let (name, existing) = if spec.role_name.is_some() || RoleName::parse(&current).is_none() {
            (wanted, None)
        } else {
            // No RoleName: keep the current role unless its path changed. If it is gone, the name for the
            // wanted path (the same name when the path did not change).
            match iam.get_role(&current).await? {
                Some(a) if owner.owns(&a.tags) && a.path != spec.path.as_str() => (wanted, None),
                Some(a) => (current.clone(), Some(a)),
                None => (wanted, None),
            }
        };
        let d = DesiredRole::new(&spec, name, &partition, &account, &owner, &Limits::default());
        // A new name is a replacement, or a rollback to the previous role. A role made here whose later writes
        // fail is removed again (see create_fresh; at the deadline, see `abandoned`), and a failed Update keeps
        // the old id: no orphan either way.
        ensure(iam, &d, &owner, existing).await
    }

    async fn delete_inner(&self, req: &Request, iam: &mut IamSession<'_>) -> Result<(), ArchiveRoleError> {
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
            Some(_) => Ok(iam.delete_role(name.as_str()).await?),
        }
    }
}

impl CustomResource for ArchiveRole {
    async fn create(&self, req: &Request) -> Result<Success, Failure> {
        let mut iam = self.iam.session(&req.journal);
        match self.create_inner(req, &mut iam).await {
            Ok(role) => Ok(success(role)),
            Err((e, id)) => Err(failure(&e, id)),
        }
    }

    async fn update(&self, req: &Request) -> Result<Success, Failure> {
        let mut iam = self.iam.session(&req.journal);
        self.update_inner(req, &mut iam)
            .await
            .map(success)
            .map_err(|e| failure(&e, None))
    }

    async fn delete(&self, req: &Request) -> Result<Success, Failure> {
        let mut iam = self.iam.session(&req.journal);
        match self.delete_inner(req, &mut iam).await {
            Ok(()) => Ok(Success {
                physical_resource_id: req.physical_resource_id.clone().unwrap_or_default(),
                data: BTreeMap::new(),
            }),
            Err(e) => Err(failure(&e, None)),
        }
    }

    fn create_failure_id(&self, req: &Request) -> Option<String> {
        Some(failed_create_role_name(req))
    }

    /// An Update stopped at the deadline after CreateRole of a replacement: remove that new role (if it is ours),
    /// since the FAILED answer keeps the old id and nothing else would ever delete it. A Create needs nothing:
    /// its FAILED answer names the role, and CloudFormation's rollback Delete removes it.
    async fn abandoned(&self, req: &Request) {
        if req.request_type != RequestType::Update || !req.journal.entries().iter().any(|a| a == "CreateRole") {
            return;
        }
        let Ok((spec, _, _)) = parse(req) else { return };
        let name = wanted_name(req, &spec);
        if Some(&name) == req.physical_resource_id.as_ref() {
            return; // the current role, recreated after an out-of-band delete: keep it
        }
        let mut iam = self.iam.session(&req.journal);
        if let Ok(Some(role)) = iam.get_role(&name).await
            && owner(req).owns(&role.tags)
            && let Err(e) = iam.delete_role(&name).await
        {
            tracing::warn!(role = %name, error = %e, "could not remove the replacement role of a stopped update");
        }
    }
}

/// The role a failed Create may have made, read from the raw properties (they may be invalid): the RoleName if it
/// is a valid one, else the generated name. Pure; the answer to a failed Create names it for the rollback Delete.
pub fn failed_create_role_name(req: &Request) -> String {
    role_name_hint(&req.properties)
        .map(|n| n.to_string())
        .unwrap_or_else(|| {
            let path = req
                .properties
                .get("Path")
                .and_then(|p| p.as_str())
                .unwrap_or(DEFAULT_PATH_PREFIX);
            generated_role_name(&req.stack_id, &req.logical_resource_id, path)
        })
}
