//! The one adapter to IAM: `aws-sdk-iam` calls in, [`ActualRole`]s and [`IamError`]s out.
//!
//! It executes [`IamCall`]s and reads roles, and records the name of every call it makes so the event's log line
//! can list them. Errors keep the SDK error as their source and carry IAM's error code and message, because
//! "not found" must stay distinguishable from "throttled" and a person must read why. It decides nothing.

use crate::cfn::Journal;
use crate::plan::{ActualRole, DesiredRole, IamCall};
use aws_sdk_iam::Client;
use aws_sdk_iam::config::http::HttpResponse;
use aws_sdk_iam::error::{DisplayErrorContext, ProvideErrorMetadata, SdkError};
use aws_sdk_iam::types::Tag;
use serde_json::Value;
use std::collections::BTreeMap;
use std::fmt;

/// IAM attempts per call (the SDK's default is 3): throttling during a stack rollout to many accounts is common,
/// and the Lambda deadline, not this number, bounds the total time.
pub const MAX_ATTEMPTS: u32 = 8;

/// What went wrong in one IAM call.
#[derive(Debug, thiserror::Error)]
pub struct IamError {
    pub action: &'static str,
    pub role: String,
    pub kind: IamErrorKind,
    /// IAM's error code, or the SDK's description of a failure that never got one (timeout, connection).
    pub code: String,
    pub message: String,
    #[source]
    pub source: Box<dyn std::error::Error + Send + Sync>,
}

/// The error codes the reconcile logic acts on; everything else is `Other`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IamErrorKind {
    NoSuchEntity,
    EntityAlreadyExists,
    DeleteConflict,
    Other,
}

impl fmt::Display for IamError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "iam:{} on role {} failed: {}", self.action, self.role, self.code)?;
        if !self.message.is_empty() {
            write!(f, ": {}", self.message)?;
        }
        Ok(())
    }
}

impl IamError {
    pub fn is(&self, kind: IamErrorKind) -> bool {
        self.kind == kind
    }
}

fn iam_error<E>(action: &'static str, role: &str, err: SdkError<E, HttpResponse>) -> IamError
where
    E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
{
    let (code, message) = match (err.code(), err.message()) {
        (Some(code), message) => (code.to_owned(), message.unwrap_or_default().to_owned()),
        (None, _) => ("RequestFailed".to_owned(), DisplayErrorContext(&err).to_string()),
    };
    let kind = match code.as_str() {
        "NoSuchEntity" => IamErrorKind::NoSuchEntity,
        "EntityAlreadyExists" => IamErrorKind::EntityAlreadyExists,
        "DeleteConflict" => IamErrorKind::DeleteConflict,
        _ => IamErrorKind::Other,
    };
    IamError {
        action,
        role: role.to_owned(),
        kind,
        code,
        message,
        source: Box::new(err),
    }
}

/// How many times [`IamSession::delete_role`] sweeps a role whose DeleteRole keeps meeting new attachments.
pub const DELETE_ROUNDS: u32 = 3;

/// A role's name, ARN and id: what Fn::GetAtt exposes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RoleRef {
    pub name: String,
    pub arn: String,
    pub role_id: String,
}

impl From<&ActualRole> for RoleRef {
    fn from(a: &ActualRole) -> Self {
        RoleRef {
            name: a.name.clone(),
            arn: a.arn.clone(),
            role_id: a.role_id.clone(),
        }
    }
}

/// Reads a policy document as IAM returns it (URL-encoded) or as sent (plain JSON).
pub fn decode_policy(doc: &str) -> Value {
    serde_json::from_str(doc)
        .or_else(|_| {
            let decoded = percent_encoding::percent_decode_str(doc).decode_utf8_lossy();
            serde_json::from_str(&decoded)
        })
        .unwrap_or(Value::Null)
}

/// The IAM client, built once per process.
#[derive(Debug, Clone)]
pub struct Iam {
    client: Client,
}

impl Iam {
    pub fn new(client: Client) -> Self {
        Iam { client }
    }

    /// A session for one event: it records each call's action name in `journal`.
    pub fn session(&self, journal: &Journal) -> IamSession<'_> {
        IamSession {
            client: &self.client,
            journal: journal.clone(),
        }
    }
}

/// IAM calls for one event, recorded in the event's journal.
#[derive(Debug)]
pub struct IamSession<'a> {
    client: &'a Client,
    journal: Journal,
}

impl IamSession<'_> {
    fn record(&mut self, action: &str) {
        self.journal.record(action);
    }

    /// Executes one planned write on role `role`, recorded in the journal as its action name while it runs and
    /// after it succeeded, or as `Action:ErrorCode` when IAM refused it (so a refused CreateRole is never taken
    /// for a role this event made). CreateRole returns the new role's reference.
    pub async fn apply(&mut self, role: &str, call: &IamCall) -> Result<Option<RoleRef>, IamError> {
        let entry = self.journal.record(call.action());
        let result = self.write(role, call).await;
        if let Err(e) = &result {
            self.journal.amend(entry, format!("{}:{}", call.action(), e.code));
        }
        result
    }

    /// GetRole: the role with its tags, or None if there is no such role. Inline policies are not read here.
    pub async fn get_role(&mut self, name: &str) -> Result<Option<ActualRole>, IamError> {
        self.record("GetRole");
        let out = match self.client.get_role().role_name(name).send().await {
            Ok(out) => out,
            Err(e) => {
                let e = iam_error("GetRole", name, e);
                return if e.is(IamErrorKind::NoSuchEntity) {
                    Ok(None)
                } else {
                    Err(e)
                };
            }
        };
        let Some(role) = out.role() else {
            return Ok(None);
        };
        Ok(Some(ActualRole {
            name: role.role_name().to_owned(),
            path: role.path().to_owned(),
            arn: role.arn().to_owned(),
            role_id: role.role_id().to_owned(),
            trust_policy: role
                .assume_role_policy_document()
                .map(decode_policy)
                .unwrap_or(Value::Null),
            description: role.description().map(str::to_owned),
            max_session_duration: role.max_session_duration(),
            permissions_boundary: role
                .permissions_boundary()
                .and_then(|b| b.permissions_boundary_arn())
                .map(str::to_owned),
            tags: role
                .tags()
                .iter()
                .map(|t| (t.key().to_owned(), t.value().to_owned()))
                .collect(),
            inline_policies: BTreeMap::new(),
        }))
    }

    /// ListRolePolicies, and GetRolePolicy for `wanted` if it is among them.
    pub async fn load_inline_policies(&mut self, role: &mut ActualRole, wanted: &str) -> Result<(), IamError> {
        self.record("ListRolePolicies");
        let names = self
            .client
            .list_role_policies()
            .role_name(&role.name)
            .max_items(1000)
            .send()
            .await
            .map_err(|e| iam_error("ListRolePolicies", &role.name, e))?
            .policy_names
            .clone();
        role.inline_policies = names.into_iter().map(|n| (n, None)).collect();
        if role.inline_policies.contains_key(wanted) {
            self.record("GetRolePolicy");
            let doc = self
                .client
                .get_role_policy()
                .role_name(&role.name)
                .policy_name(wanted)
                .send()
                .await
                .map_err(|e| iam_error("GetRolePolicy", &role.name, e))?;
            role.inline_policies
                .insert(wanted.to_owned(), Some(decode_policy(doc.policy_document())));
        }
        Ok(())
    }

    async fn write(&mut self, role: &str, call: &IamCall) -> Result<Option<RoleRef>, IamError> {
        let action = call.action();
        let c = self.client;
        match call {
            IamCall::CreateRole(d) => {
                let out = create_role(c, d).await.map_err(|e| iam_error(action, role, e))?;
                return Ok(out.role().map(|r| RoleRef {
                    name: r.role_name().to_owned(),
                    arn: r.arn().to_owned(),
                    role_id: r.role_id().to_owned(),
                }));
            }
            IamCall::UpdateAssumeRolePolicy { document } => {
                c.update_assume_role_policy()
                    .role_name(role)
                    .policy_document(document.to_string())
                    .send()
                    .await
                    .map_err(|e| iam_error(action, role, e))?;
            }
            IamCall::UpdateRole {
                description,
                max_session_duration,
            } => {
                c.update_role()
                    .role_name(role)
                    .description(description)
                    .max_session_duration(*max_session_duration)
                    .send()
                    .await
                    .map_err(|e| iam_error(action, role, e))?;
            }
            IamCall::PutRolePermissionsBoundary { arn } => {
                c.put_role_permissions_boundary()
                    .role_name(role)
                    .permissions_boundary(arn)
                    .send()
                    .await
                    .map_err(|e| iam_error(action, role, e))?;
            }
            IamCall::DeleteRolePermissionsBoundary => {
                c.delete_role_permissions_boundary()
                    .role_name(role)
                    .send()
                    .await
                    .map_err(|e| iam_error(action, role, e))?;
            }
            IamCall::TagRole { tags } => {
                c.tag_role()
                    .role_name(role)
                    .set_tags(Some(sdk_tags(tags)))
                    .send()
                    .await
                    .map_err(|e| iam_error(action, role, e))?;
            }
            IamCall::UntagRole { keys } => {
                c.untag_role()
                    .role_name(role)
                    .set_tag_keys(Some(keys.clone()))
                    .send()
                    .await
                    .map_err(|e| iam_error(action, role, e))?;
            }
            IamCall::PutRolePolicy { policy_name, document } => {
                c.put_role_policy()
                    .role_name(role)
                    .policy_name(policy_name)
                    .policy_document(document.to_string())
                    .send()
                    .await
                    .map_err(|e| iam_error(action, role, e))?;
            }
            IamCall::DeleteRolePolicy { policy_name } => match c
                .delete_role_policy()
                .role_name(role)
                .policy_name(policy_name)
                .send()
                .await
            {
                Ok(_) => {}
                Err(e) => {
                    let e = iam_error(action, role, e);
                    if !e.is(IamErrorKind::NoSuchEntity) {
                        return Err(e);
                    }
                }
            },
        }
        Ok(None)
    }

    /// Removes a role and everything that blocks its deletion: inline policies, managed policy attachments,
    /// instance profile memberships. A role (or policy) that is already gone is not an error. If something is
    /// attached between the sweep and DeleteRole (DeleteConflict), the sweep is repeated, up to
    /// [`DELETE_ROUNDS`] times: a Delete that fails leaves the stack in DELETE_FAILED.
    pub async fn delete_role(&mut self, role: &str) -> Result<(), IamError> {
        let mut round = 1;
        loop {
            match self.sweep_and_delete(role).await {
                Err(e) if e.is(IamErrorKind::DeleteConflict) && round < DELETE_ROUNDS => round += 1,
                done => return done,
            }
        }
    }

    async fn sweep_and_delete(&mut self, role: &str) -> Result<(), IamError> {
        let gone = |e: IamError| {
            if e.is(IamErrorKind::NoSuchEntity) {
                Ok(())
            } else {
                Err(e)
            }
        };
        let c = self.client;

        self.record("ListRolePolicies");
        let inline = match c.list_role_policies().role_name(role).max_items(1000).send().await {
            Ok(o) => o.policy_names,
            Err(e) => return gone(iam_error("ListRolePolicies", role, e)),
        };
        for name in inline {
            self.apply(role, &IamCall::DeleteRolePolicy { policy_name: name })
                .await?;
        }

        self.record("ListAttachedRolePolicies");
        let attached = match c
            .list_attached_role_policies()
            .role_name(role)
            .max_items(1000)
            .send()
            .await
        {
            Ok(o) => o.attached_policies.unwrap_or_default(),
            Err(e) => return gone(iam_error("ListAttachedRolePolicies", role, e)),
        };
        for p in attached {
            let Some(arn) = p.policy_arn() else { continue };
            self.record("DetachRolePolicy");
            if let Err(e) = c.detach_role_policy().role_name(role).policy_arn(arn).send().await {
                gone(iam_error("DetachRolePolicy", role, e))?;
            }
        }

        self.record("ListInstanceProfilesForRole");
        let profiles = match c
            .list_instance_profiles_for_role()
            .role_name(role)
            .max_items(1000)
            .send()
            .await
        {
            Ok(o) => o.instance_profiles,
            Err(e) => return gone(iam_error("ListInstanceProfilesForRole", role, e)),
        };
        for p in profiles {
            self.record("RemoveRoleFromInstanceProfile");
            if let Err(e) = c
                .remove_role_from_instance_profile()
                .role_name(role)
                .instance_profile_name(p.instance_profile_name())
                .send()
                .await
            {
                gone(iam_error("RemoveRoleFromInstanceProfile", role, e))?;
            }
        }

        self.record("DeleteRole");
        match c.delete_role().role_name(role).send().await {
            Ok(_) => Ok(()),
            Err(e) => gone(iam_error("DeleteRole", role, e)),
        }
    }
}

async fn create_role(
    c: &Client,
    d: &DesiredRole,
) -> Result<
    aws_sdk_iam::operation::create_role::CreateRoleOutput,
    SdkError<aws_sdk_iam::operation::create_role::CreateRoleError, HttpResponse>,
> {
    c.create_role()
        .role_name(&d.name)
        .path(&d.path)
        .assume_role_policy_document(d.trust_policy.to_string())
        .description(&d.description)
        .max_session_duration(d.max_session_duration)
        .set_permissions_boundary(d.permissions_boundary.clone())
        .set_tags(Some(sdk_tags(&d.tags)))
        .send()
        .await
}

fn sdk_tags(tags: &BTreeMap<String, String>) -> Vec<Tag> {
    tags.iter()
        .filter_map(|(k, v)| Tag::builder().key(k).value(v).build().ok())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decodes_url_encoded_and_plain_policy_documents() {
        let plain = r#"{"Version":"2012-10-17","Statement":[{"Resource":"arn:aws:s3:::b/p 1*"}]}"#;
        let encoded = "%7B%22Version%22%3A%222012-10-17%22%2C%22Statement%22%3A%5B%7B%22Resource%22%3A%22arn%3Aaws%3As3%3A%3A%3Ab%2Fp%201%2A%22%7D%5D%7D";
        assert_eq!(decode_policy(plain), decode_policy(encoded));
        assert_eq!(
            decode_policy(encoded)["Statement"][0]["Resource"],
            "arn:aws:s3:::b/p 1*"
        );
        // '+' is a literal plus, not a space: percent-decoding, not form-decoding.
        assert_eq!(decode_policy("%7B%22a%22%3A%22x+y%22%7D")["a"], "x+y");
    }
}
