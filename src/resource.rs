//! `Custom::LogzioRole`: create, update and delete of the archive role, reconciled against what IAM holds.
//!
//! Each operation parses the properties, decides which role it is about (its name, and whether it is ours by
//! the ownership tags), then applies the pure plan through the IAM adapter. It never modifies or deletes a role
//! that lacks our ownership tags, and a Create or replacement that fails after making a role removes it again.
//! It knows the protocol only through [`CustomResource`]: never the ResponseURL.

use crate::cfn::{CustomResource, Failure, Request, Success};
use crate::iam::{Iam, IamError, IamErrorKind, IamSession, RoleRef};
use crate::plan::{ActualRole, DesiredRole, Owner, generated_role_name, plan};
use crate::policy::{INLINE_POLICY_LIMIT, policy_size};
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

/// The validated spec and the stack's partition.
fn parse(req: &Request) -> Result<(ArchiveRoleSpec, String), ArchiveRoleError> {
    let partition = req
        .partition()
        .ok_or_else(|| ArchiveRoleError::NoPartition(req.stack_id.clone()))?
        .to_owned();
    let spec = ArchiveRoleSpec::parse(&req.properties, &partition)?;
    Ok((spec, partition))
}

fn desired(
    req: &Request,
    spec: &ArchiveRoleSpec,
    partition: &str,
    name: String,
) -> Result<DesiredRole, ArchiveRoleError> {
    let d = DesiredRole::new(spec, name, partition, &owner(req));
    let size = policy_size(&d.policy);
    if size > INLINE_POLICY_LIMIT {
        return Err(ArchiveRoleError::PolicyTooLarge(size));
    }
    Ok(d)
}

fn success(role: RoleRef, calls: Vec<String>) -> Success {
    let data = BTreeMap::from([
        ("Arn".to_owned(), role.arn),
        ("RoleName".to_owned(), role.name.clone()),
        ("RoleId".to_owned(), role.role_id),
    ]);
    Success {
        physical_resource_id: role.name,
        data,
        actions: calls,
    }
}

fn failure(e: &ArchiveRoleError, id: Option<String>, calls: Vec<String>) -> Failure {
    Failure {
        reason: e.to_string(),
        physical_resource_id: id,
        actions: calls,
    }
}

/// Makes the role `d` exist as desired; `known` is what GetRole already said of it, if it was asked.
/// A role this call creates is deleted again if a later write fails (no orphan).
async fn ensure(
    iam: &mut IamSession<'_>,
    d: &DesiredRole,
    owner: &Owner,
    known: Option<Option<ActualRole>>,
) -> Result<RoleRef, ArchiveRoleError> {
    let actual = match known {
        Some(k) => k,
        None => iam.get_role(&d.name).await?,
    };
    match actual {
        Some(actual) => converge(iam, d, owner, actual).await,
        None => match create_fresh(iam, d).await {
            // Someone created it between our GetRole and CreateRole (e.g. a concurrent redelivery): look again.
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
        let (spec, partition) = parse(req).map_err(|e| (e, self.create_failure_id(req)))?;
        let name = match &spec.role_name {
            Some(n) => n.to_string(),
            None => generated_role_name(&req.stack_id, &req.logical_resource_id, spec.path.as_str()),
        };
        let d = desired(req, &spec, &partition, name.clone()).map_err(|e| (e, Some(name.clone())))?;
        ensure(iam, &d, &owner(req), None).await.map_err(|e| (e, Some(name)))
    }

    async fn update_inner(&self, req: &Request, iam: &mut IamSession<'_>) -> Result<RoleRef, ArchiveRoleError> {
        let (spec, partition) = parse(req)?;
        let owner = owner(req);
        let current = req.physical_resource_id.clone().unwrap_or_default();
        let generated = || generated_role_name(&req.stack_id, &req.logical_resource_id, spec.path.as_str());
        let (name, known) = match &spec.role_name {
            Some(n) => (n.to_string(), None),
            None => match RoleName::parse(&current) {
                // Keep the current role unless the path changed (or the id was never a role name).
                Some(_) => match iam.get_role(&current).await? {
                    Some(a) if owner.owns(&a.tags) && a.path != spec.path.as_str() => (generated(), None),
                    actual => (current.clone(), Some(actual)),
                },
                None => (generated(), None),
            },
        };
        let d = desired(req, &spec, &partition, name.clone())?;
        // A new name is a replacement, or a rollback to the previous role. A role made here whose later writes
        // fail is removed again (see create_fresh), and a failed Update keeps the old id: no orphan either way.
        ensure(iam, &d, &owner, known).await
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
        let mut iam = self.iam.session();
        let result = self.create_inner(req, &mut iam).await;
        match result {
            Ok(role) => Ok(success(role, iam.calls)),
            Err((e, id)) => Err(failure(&e, id, iam.calls)),
        }
    }

    async fn update(&self, req: &Request) -> Result<Success, Failure> {
        let mut iam = self.iam.session();
        let result = self.update_inner(req, &mut iam).await;
        match result {
            Ok(role) => Ok(success(role, iam.calls)),
            Err(e) => Err(failure(&e, None, iam.calls)),
        }
    }

    async fn delete(&self, req: &Request) -> Result<Success, Failure> {
        let mut iam = self.iam.session();
        let result = self.delete_inner(req, &mut iam).await;
        match result {
            Ok(()) => Ok(Success {
                physical_resource_id: req.physical_resource_id.clone().unwrap_or_default(),
                data: BTreeMap::new(),
                actions: iam.calls,
            }),
            Err(e) => Err(failure(&e, None, iam.calls)),
        }
    }

    /// The role a failed Create may have made: the RoleName if it is a valid one, else the generated name.
    fn create_failure_id(&self, req: &Request) -> Option<String> {
        let name = role_name_hint(&req.properties)
            .map(|n| n.to_string())
            .unwrap_or_else(|| {
                let path = req.properties.get("Path").and_then(|p| p.as_str()).unwrap_or("/");
                generated_role_name(&req.stack_id, &req.logical_resource_id, path)
            });
        Some(name)
    }
}
