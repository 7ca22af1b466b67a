//! Create and Update: bring the role to what the properties ask, with only the writes that differ, on a role
//! that is ours (or a new one); a role this call made and could not finish is removed again.

use super::delete::remove_role;
use super::trust::held_trust;
use super::*;

/// Makes the role `d` exist as desired; `existing` is the role as GetRole returned it (None: not there).
pub(super) async fn ensure<P: IamPort>(
    iam: &Session<'_, P>,
    d: &DesiredRole,
    owner: &Owner,
    existing: Option<ActualRole>,
) -> Result<RoleRef, RoleError> {
    match existing {
        Some(actual) => converge(iam, d, owner, actual).await,
        None => create_fresh(iam, d, owner).await,
    }
}

/// Brings an existing role to `d`, only if it is ours and only the writes that differ.
pub(super) async fn converge<P: IamPort>(
    iam: &Session<'_, P>,
    d: &DesiredRole,
    owner: &Owner,
    mut actual: ActualRole,
) -> Result<RoleRef, RoleError> {
    if !owner.owns(&actual.tags) {
        return Err(RoleError::ForeignRole(d.name.clone()));
    }
    if actual.path != d.path {
        return Err(RoleError::PathChangeNeedsNewName {
            name: d.name.clone(),
            actual: actual.path,
        });
    }
    if boundary_differs(d, &actual) {
        let none = || "(none)".to_owned();
        let refusal = RoleError::BoundaryDiffers {
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
pub(super) async fn held_as_is<P: IamPort>(
    iam: &Session<'_, P>,
    d: &DesiredRole,
    owner: &Owner,
    mut actual: ActualRole,
    refusal: RoleError,
) -> Result<RoleRef, RoleError> {
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

/// CreateRole and PutRolePolicy. If IAM answers that the role exists (a redelivery, a lost answer, a race),
/// GetRole decides: ours is converged, anyone else's is refused untouched. A role this call made is deleted
/// again if its policy cannot be put (no orphan).
pub(super) async fn create_fresh<P: IamPort>(
    iam: &Session<'_, P>,
    d: &DesiredRole,
    owner: &Owner,
) -> Result<RoleRef, RoleError> {
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

pub(super) fn empty_create_role(name: &str) -> IamError {
    IamError {
        action: "CreateRole",
        role: name.to_owned(),
        kind: IamErrorKind::Other,
        code: "EmptyResponse".into(),
        message: "IAM returned no role".into(),
        source: "IAM returned no role".into(),
    }
}

impl<P: IamPort, L: LogzioPort> LogzioRole<P, L> {
    pub(super) async fn create_role(
        &self,
        req: &Request,
        inv: &Invocation,
        log: &CallLog,
    ) -> Result<RoleRef, Failed<RoleError, String>> {
        let iam = Session::new(&self.iam, log);
        // Before any write, the answer names the role the properties ask for: the rollback Delete then finds
        // nothing, or (a Create delivered again after its first attempt made the role) removes what was made.
        let before_any_write = |e| Failed::leaving(e, self.create_failure_id(req));
        let parsed = parse(req, inv, &self.limits).map_err(before_any_write)?;
        let (spec, owner) = (&parsed.spec, owner(req));
        let name = match &spec.role_name {
            Some(n) => n.to_string(),
            None => generated_role_name(&req.stack_id, &req.logical_resource_id, spec.path.as_str()),
        };
        let trust = self.trust(&parsed, log).await.map_err(before_any_write)?;
        let d = parsed.desired(name.clone(), &owner, &trust);
        // CreateRole first: a fresh Create (the common, cold case) costs exactly its two writes; a role that
        // already exists is refused by IAM, changing nothing, before we look at it.
        create_fresh(&iam, &d, &owner)
            .await
            .map_err(|e| Failed::leaving(e, Some(name)))
    }

    pub(super) async fn update_role(
        &self,
        req: &Request,
        inv: &Invocation,
        log: &CallLog,
    ) -> Result<RoleRef, RoleError> {
        let iam = Session::new(&self.iam, log);
        // A refusal that guards only writes (the deployment's allowances, narrowed since the role was made) does
        // not stop a return to a state IAM holds: the properties are read without them, and the refusal stands
        // unless the plan is empty. So CloudFormation's rollback to the old properties succeeds with no write.
        let held_limits = self.limits.as_ref().ok().map(Limits::as_held);
        let (parsed, mut refusal) = match (parse(req, inv, &self.limits), &held_limits) {
            (Ok(p), _) => (p, None),
            (Err(e), Some(held)) => match parse_as_held(req, inv, held) {
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
            Err(RoleError::UntrustedLogzioAccount {
                account,
                rule,
                answered,
            }) if existing.is_some() => {
                let t = (*answered).clone();
                refusal = refusal.or(Some(RoleError::UntrustedLogzioAccount {
                    account,
                    rule,
                    answered,
                }));
                t
            }
            Err(RoleError::Logzio(e)) if e.is(LogzioErrorKind::Transient) => {
                match existing.as_ref().and_then(|r| held_trust(r, parsed.limits)) {
                    Some(t) => {
                        refusal = refusal.or(Some(RoleError::Logzio(e)));
                        t
                    }
                    None => return Err(RoleError::Logzio(e)),
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
}
