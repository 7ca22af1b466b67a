//! IAM, as the resource sees it: a narrow port ([`IamPort`]), one adapter to `aws-sdk-iam` ([`sdk::SdkIam`]),
//! and a [`Session`] that records every call of an invocation in its typed [`CallLog`].
//!
//! The port reads roles and executes planned [`IamCall`]s; it decides nothing. Its errors keep IAM's code and
//! message, because "not found" must stay distinguishable from "throttled" and a person must read why. The
//! in-memory fake (`fake`, unit tests only) implements the same port, so that the resource's decisions are
//! tested like the plan is; moto stays the contract suite for the SDK adapter.

pub mod calls;
#[cfg(test)]
pub mod fake;
pub mod sdk;

use crate::plan::{ActualRole, IamCall};
pub use calls::{Call, CallLog, CallState};
use serde_json::Value;
use std::fmt;
use std::future::Future;

/// IAM attempts per call: [`crate::budget::iam::MAX_ATTEMPTS`].
pub use crate::budget::iam::MAX_ATTEMPTS;

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

impl IamErrorKind {
    /// The kind of an IAM error code.
    pub fn of(code: &str) -> IamErrorKind {
        match code {
            "NoSuchEntity" => IamErrorKind::NoSuchEntity,
            "EntityAlreadyExists" => IamErrorKind::EntityAlreadyExists,
            "DeleteConflict" => IamErrorKind::DeleteConflict,
            _ => IamErrorKind::Other,
        }
    }
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

/// The IAM operations the resource needs, one IAM call each. Implemented by the SDK adapter and by the
/// in-memory fake of the unit tests.
pub trait IamPort: Send + Sync + 'static {
    /// GetRole: the role with its tags and creation time, or None if there is no such role.
    fn get_role(&self, name: &str) -> impl Future<Output = Result<Option<ActualRole>, IamError>> + Send;
    /// ListRolePolicies: the names of the role's inline policies.
    fn list_role_policies(&self, role: &str) -> impl Future<Output = Result<Vec<String>, IamError>> + Send;
    /// GetRolePolicy: one inline policy's document, decoded.
    fn get_role_policy(&self, role: &str, policy: &str) -> impl Future<Output = Result<Value, IamError>> + Send;
    /// ListAttachedRolePolicies: the ARNs of the managed policies attached to the role.
    fn list_attached_role_policies(&self, role: &str) -> impl Future<Output = Result<Vec<String>, IamError>> + Send;
    /// ListInstanceProfilesForRole: the names of the instance profiles that hold the role.
    fn list_instance_profiles_for_role(&self, role: &str)
    -> impl Future<Output = Result<Vec<String>, IamError>> + Send;
    /// Executes one write on role `role`. CreateRole returns the new role's reference.
    fn write(&self, role: &str, call: &IamCall) -> impl Future<Output = Result<Option<RoleRef>, IamError>> + Send;
}

/// The IAM calls of one invocation: each goes through the port and into the invocation's [`CallLog`], as in
/// flight before it is sent and as done or refused when it returns.
#[derive(Debug)]
pub struct Session<'a, P> {
    port: &'a P,
    log: &'a CallLog,
}

fn state<T>(result: &Result<T, IamError>) -> CallState {
    match result {
        Ok(_) => CallState::Done,
        Err(e) => CallState::Refused(e.code.clone()),
    }
}

impl<'a, P: IamPort> Session<'a, P> {
    pub fn new(port: &'a P, log: &'a CallLog) -> Self {
        Session { port, log }
    }

    /// The invocation's record.
    pub fn log(&self) -> &CallLog {
        self.log
    }

    async fn recorded<T>(
        &self,
        action: &'static str,
        role: &str,
        call: impl Future<Output = Result<T, IamError>>,
    ) -> Result<T, IamError> {
        let i = self.log.start(action, role);
        let result = call.await;
        self.log.finish(i, state(&result), None);
        result
    }

    /// GetRole; None when there is no such role.
    pub async fn get_role(&self, name: &str) -> Result<Option<ActualRole>, IamError> {
        self.recorded("GetRole", name, self.port.get_role(name)).await
    }

    /// ListRolePolicies, and GetRolePolicy for `wanted` if it is among them: fills `role.inline_policies`.
    pub async fn load_inline_policies(&self, role: &mut ActualRole, wanted: &str) -> Result<(), IamError> {
        let names = self.list_role_policies(&role.name).await?;
        role.inline_policies = names.into_iter().map(|n| (n, None)).collect();
        if role.inline_policies.contains_key(wanted) {
            let doc = self
                .recorded(
                    "GetRolePolicy",
                    &role.name,
                    self.port.get_role_policy(&role.name, wanted),
                )
                .await?;
            role.inline_policies.insert(wanted.to_owned(), Some(doc));
        }
        Ok(())
    }

    /// ListRolePolicies.
    pub async fn list_role_policies(&self, role: &str) -> Result<Vec<String>, IamError> {
        self.recorded("ListRolePolicies", role, self.port.list_role_policies(role))
            .await
    }

    /// ListAttachedRolePolicies.
    pub async fn list_attached_role_policies(&self, role: &str) -> Result<Vec<String>, IamError> {
        self.recorded(
            "ListAttachedRolePolicies",
            role,
            self.port.list_attached_role_policies(role),
        )
        .await
    }

    /// ListInstanceProfilesForRole.
    pub async fn list_instance_profiles_for_role(&self, role: &str) -> Result<Vec<String>, IamError> {
        self.recorded(
            "ListInstanceProfilesForRole",
            role,
            self.port.list_instance_profiles_for_role(role),
        )
        .await
    }

    /// Executes one write; a CreateRole's RoleId goes into the record, the fact the undo trusts.
    pub async fn apply(&self, role: &str, call: &IamCall) -> Result<Option<RoleRef>, IamError> {
        let i = self.log.start(call.action(), role);
        let result = self.port.write(role, call).await;
        let created = match &result {
            Ok(Some(r)) => Some(r.role_id.clone()),
            _ => None,
        };
        self.log.finish(i, state(&result), created);
        result
    }
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
