//! Delete: a role that is ours goes (its inline policy, then the role; swept only when IAM says something else
//! is attached); anyone else's stays.

use super::*;

/// Deletes a role known to be ours: its inline policy `known_policy` (if given) and DeleteRole, which is all it
/// takes in the common case. Only when IAM answers DeleteConflict (something else attached) is the role swept,
/// up to [`DELETE_ROUNDS`] times. A role or policy already gone is not an error.
pub(super) async fn remove_role<P: IamPort>(
    iam: &Session<'_, P>,
    role: &str,
    known_policy: Option<&str>,
) -> Result<(), RoleError> {
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
pub(super) async fn sweep<P: IamPort>(iam: &Session<'_, P>, role: &str) -> Result<(), RoleError> {
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
        return Err(RoleError::InInstanceProfiles {
            role: role.to_owned(),
            profiles: profiles.join(", "),
        });
    }
    Ok(())
}

impl<P: IamPort, L: LogzioPort> LogzioRole<P, L> {
    pub(super) async fn delete_role(&self, req: &Request, inv: &Invocation, log: &CallLog) -> Result<(), RoleError> {
        if !preflight::may_have_made(req, inv) {
            return Ok(());
        }
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
