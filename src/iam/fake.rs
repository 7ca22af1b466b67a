//! An in-memory IAM for the unit tests of the resource's decisions: which calls it makes given what IAM holds.
//! It answers like IAM where our code depends on it (NoSuchEntity, EntityAlreadyExists, DeleteConflict) and has
//! hooks to refuse a call, hang it, or change IAM just before it. It is our idea of IAM: whether IAM really
//! behaves so is moto's question (tests/it), not this one's.

use super::{IamError, IamErrorKind, IamPort, RoleRef};
use crate::plan::{ActualRole, IamCall};
use serde_json::Value;
use std::collections::BTreeMap;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::SystemTime;

/// A role as the fake holds it.
#[derive(Debug, Clone, Default)]
pub struct FakeRole {
    /// Inline policies carry their documents here.
    pub role: ActualRole,
    pub attached: Vec<String>,
    pub instance_profiles: Vec<String>,
}

type Change = Box<dyn FnOnce(&mut BTreeMap<String, FakeRole>) + Send>;

enum Hook {
    /// Refuse the call with this code.
    Refuse(String),
    /// Never answer (the deadline or the test ends it).
    Hang,
    /// Change IAM just before the call (someone else's write, or our own earlier attempt that took effect).
    Before(Change),
    /// A GetRole that does not yet see the role (IAM is eventually consistent).
    Stale,
}

#[derive(Default)]
struct State {
    roles: BTreeMap<String, FakeRole>,
    hooks: Vec<(&'static str, Hook)>,
    next_id: u32,
}

/// The in-memory IAM; clones share their state.
#[derive(Clone, Default)]
pub struct FakeIam(Arc<Mutex<State>>);

impl std::fmt::Debug for FakeIam {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FakeIam")
            .field("roles", &self.lock().roles.keys())
            .finish()
    }
}

fn error(action: &'static str, role: &str, code: &str) -> IamError {
    IamError {
        action,
        role: role.to_owned(),
        kind: IamErrorKind::of(code),
        code: code.to_owned(),
        message: format!("{code} (fake IAM)"),
        source: code.to_owned().into(),
    }
}

impl FakeIam {
    fn lock(&self) -> MutexGuard<'_, State> {
        self.0.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// The role as IAM holds it now (inline policies with their documents).
    pub fn role(&self, name: &str) -> Option<FakeRole> {
        self.lock().roles.get(name).cloned()
    }

    /// The names of every role.
    pub fn role_names(&self) -> Vec<String> {
        self.lock().roles.keys().cloned().collect()
    }

    /// Puts a role into IAM as it is (someone else's, or one made earlier), created at `created`.
    pub fn insert(&self, mut role: FakeRole, created: SystemTime) {
        let mut s = self.lock();
        s.next_id += 1;
        if role.role.role_id.is_empty() {
            role.role.role_id = format!("AROAFAKE{}", s.next_id);
        }
        role.role.created = Some(created);
        role.role.arn = format!("arn:aws:iam::123456789012:role{}{}", role.role.path, role.role.name);
        s.roles.insert(role.role.name.clone(), role);
    }

    /// Changes a role in place.
    pub fn edit(&self, name: &str, f: impl FnOnce(&mut FakeRole)) {
        if let Some(r) = self.lock().roles.get_mut(name) {
            f(r)
        }
    }

    /// The next call of `action` is refused with `code`.
    pub fn refuse(&self, action: &'static str, code: &str) {
        self.lock().hooks.push((action, Hook::Refuse(code.to_owned())));
    }

    /// The next call of `action` never answers.
    pub fn hang(&self, action: &'static str) {
        self.lock().hooks.push((action, Hook::Hang));
    }

    /// Just before the next call of `action`, `change` is applied to IAM.
    pub fn before(&self, action: &'static str, change: impl FnOnce(&mut BTreeMap<String, FakeRole>) + Send + 'static) {
        self.lock().hooks.push((action, Hook::Before(Box::new(change))));
    }

    /// The next GetRole answers as if the role did not exist yet.
    pub fn stale_read(&self) {
        self.lock().hooks.push(("GetRole", Hook::Stale));
    }

    /// Runs the first hook for `action`, if any: Err(code) to refuse, Ok(true) to hang.
    fn hook(&self, action: &'static str) -> Result<bool, String> {
        let mut s = self.lock();
        let Some(i) = s.hooks.iter().position(|(a, _)| *a == action) else {
            return Ok(false);
        };
        match s.hooks.remove(i).1 {
            Hook::Refuse(code) => Err(code),
            Hook::Hang => Ok(true),
            Hook::Before(change) => {
                change(&mut s.roles);
                Ok(false)
            }
            Hook::Stale => Err(String::new()),
        }
    }

    async fn enter(&self, action: &'static str, role: &str) -> Result<(), IamError> {
        match self.hook(action) {
            Err(code) if code.is_empty() => Err(error(action, role, "NoSuchEntity")),
            Err(code) => Err(error(action, role, &code)),
            Ok(true) => std::future::pending().await,
            Ok(false) => Ok(()),
        }
    }

    fn with_role<T>(
        &self,
        action: &'static str,
        name: &str,
        f: impl FnOnce(&mut FakeRole) -> Result<T, IamError>,
    ) -> Result<T, IamError> {
        match self.lock().roles.get_mut(name) {
            Some(r) => f(r),
            None => Err(error(action, name, "NoSuchEntity")),
        }
    }
}

impl IamPort for FakeIam {
    async fn get_role(&self, name: &str) -> Result<Option<ActualRole>, IamError> {
        match self.enter("GetRole", name).await {
            Err(e) if e.is(IamErrorKind::NoSuchEntity) => return Ok(None),
            other => other?,
        }
        Ok(self.lock().roles.get(name).map(|r| ActualRole {
            inline_policies: BTreeMap::new(),
            ..r.role.clone()
        }))
    }

    async fn list_role_policies(&self, role: &str) -> Result<Vec<String>, IamError> {
        self.enter("ListRolePolicies", role).await?;
        self.with_role("ListRolePolicies", role, |r| {
            Ok(r.role.inline_policies.keys().cloned().collect())
        })
    }

    async fn get_role_policy(&self, role: &str, policy: &str) -> Result<Value, IamError> {
        self.enter("GetRolePolicy", role).await?;
        self.with_role("GetRolePolicy", role, |r| match r.role.inline_policies.get(policy) {
            Some(Some(doc)) => Ok(doc.clone()),
            _ => Err(error("GetRolePolicy", role, "NoSuchEntity")),
        })
    }

    async fn list_attached_role_policies(&self, role: &str) -> Result<Vec<String>, IamError> {
        self.enter("ListAttachedRolePolicies", role).await?;
        self.with_role("ListAttachedRolePolicies", role, |r| Ok(r.attached.clone()))
    }

    async fn list_instance_profiles_for_role(&self, role: &str) -> Result<Vec<String>, IamError> {
        self.enter("ListInstanceProfilesForRole", role).await?;
        self.with_role("ListInstanceProfilesForRole", role, |r| Ok(r.instance_profiles.clone()))
    }

    async fn write(&self, role: &str, call: &IamCall) -> Result<Option<RoleRef>, IamError> {
        let action = call.action();
        self.enter(action, role).await?;
        if let IamCall::CreateRole(d) = call {
            if self.lock().roles.contains_key(&d.name) {
                return Err(error(action, role, "EntityAlreadyExists"));
            }
            let made = ActualRole {
                name: d.name.clone(),
                path: d.path.clone(),
                trust_policy: d.trust_policy.clone(),
                description: Some(d.description.clone()),
                max_session_duration: Some(d.max_session_duration),
                permissions_boundary: d.permissions_boundary.clone(),
                tags: d.tags.clone(),
                ..ActualRole::default()
            };
            let made = FakeRole {
                role: made,
                ..FakeRole::default()
            };
            self.insert(made, SystemTime::now());
            return Ok(self.role(&d.name).map(|r| RoleRef::from(&r.role)));
        }
        if let IamCall::DeleteRole = call {
            let mut s = self.lock();
            let Some(r) = s.roles.get(role) else {
                return Err(error(action, role, "NoSuchEntity"));
            };
            if !r.role.inline_policies.is_empty() || !r.attached.is_empty() || !r.instance_profiles.is_empty() {
                return Err(error(action, role, "DeleteConflict"));
            }
            s.roles.remove(role);
            return Ok(None);
        }
        self.with_role(action, role, |r| {
            let a = &mut r.role;
            match call {
                IamCall::UpdateAssumeRolePolicy { document } => a.trust_policy = document.clone(),
                IamCall::UpdateRole {
                    description,
                    max_session_duration,
                } => {
                    a.description = Some(description.clone());
                    a.max_session_duration = Some(*max_session_duration);
                }
                IamCall::TagRole { tags } => a.tags.extend(tags.clone()),
                IamCall::UntagRole { keys } => a.tags.retain(|k, _| !keys.contains(k)),
                IamCall::PutRolePolicy { policy_name, document } => {
                    a.inline_policies.insert(policy_name.clone(), Some(document.clone()));
                }
                IamCall::DeleteRolePolicy { policy_name } => {
                    if a.inline_policies.remove(policy_name).is_none() {
                        return Err(error(action, role, "NoSuchEntity"));
                    }
                }
                IamCall::DetachRolePolicy { policy_arn } => {
                    let before = r.attached.len();
                    r.attached.retain(|p| p != policy_arn);
                    if r.attached.len() == before {
                        return Err(error(action, role, "NoSuchEntity"));
                    }
                }
                IamCall::CreateRole(_) | IamCall::DeleteRole => unreachable!("handled above"),
            }
            Ok(None)
        })
    }
}
