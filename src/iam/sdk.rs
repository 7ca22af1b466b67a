//! The one adapter to `aws-sdk-iam`: [`IamPort`] over the SDK client. One SDK call per port call, errors mapped
//! with IAM's code and message and the SDK error kept as the source. It decides nothing and records nothing
//! (the [`Session`](super::Session) does).

use super::{IamError, IamErrorKind, IamPort, RoleRef, decode_policy};
use crate::plan::{ActualRole, DesiredRole, IamCall};
use aws_sdk_iam::Client;
use aws_sdk_iam::config::http::HttpResponse;
use aws_sdk_iam::error::{DisplayErrorContext, ProvideErrorMetadata, SdkError};
use aws_sdk_iam::types::Tag;
use serde_json::Value;
use std::collections::BTreeMap;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

fn iam_error<E>(action: &'static str, role: &str, err: SdkError<E, HttpResponse>) -> IamError
where
    E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
{
    let (code, message) = match (err.code(), err.message()) {
        (Some(code), message) => (code.to_owned(), message.unwrap_or_default().to_owned()),
        (None, _) => ("RequestFailed".to_owned(), DisplayErrorContext(&err).to_string()),
    };
    IamError {
        action,
        role: role.to_owned(),
        kind: IamErrorKind::of(&code),
        code,
        message,
        source: Box::new(err),
    }
}

fn system_time(t: &aws_smithy_types::DateTime) -> Option<SystemTime> {
    let secs = u64::try_from(t.secs()).ok()?;
    Some(UNIX_EPOCH + Duration::new(secs, t.subsec_nanos()))
}

/// The IAM client, built once per process.
#[derive(Debug, Clone)]
pub struct SdkIam {
    client: Client,
}

impl SdkIam {
    pub fn new(client: Client) -> Self {
        SdkIam { client }
    }
}

impl IamPort for SdkIam {
    async fn get_role(&self, name: &str) -> Result<Option<ActualRole>, IamError> {
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
            created: system_time(role.create_date()),
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

    async fn list_role_policies(&self, role: &str) -> Result<Vec<String>, IamError> {
        let out = self
            .client
            .list_role_policies()
            .role_name(role)
            .max_items(1000)
            .send()
            .await;
        Ok(out.map_err(|e| iam_error("ListRolePolicies", role, e))?.policy_names)
    }

    async fn get_role_policy(&self, role: &str, policy: &str) -> Result<Value, IamError> {
        let out = self
            .client
            .get_role_policy()
            .role_name(role)
            .policy_name(policy)
            .send()
            .await;
        let out = out.map_err(|e| iam_error("GetRolePolicy", role, e))?;
        Ok(decode_policy(out.policy_document()))
    }

    async fn list_attached_role_policies(&self, role: &str) -> Result<Vec<String>, IamError> {
        let out = self
            .client
            .list_attached_role_policies()
            .role_name(role)
            .max_items(1000)
            .send()
            .await;
        let out = out.map_err(|e| iam_error("ListAttachedRolePolicies", role, e))?;
        Ok(out
            .attached_policies()
            .iter()
            .filter_map(|p| p.policy_arn().map(str::to_owned))
            .collect())
    }

    async fn list_instance_profiles_for_role(&self, role: &str) -> Result<Vec<String>, IamError> {
        let out = self
            .client
            .list_instance_profiles_for_role()
            .role_name(role)
            .max_items(1000)
            .send()
            .await;
        let out = out.map_err(|e| iam_error("ListInstanceProfilesForRole", role, e))?;
        Ok(out
            .instance_profiles()
            .iter()
            .map(|p| p.instance_profile_name().to_owned())
            .collect())
    }

    async fn write(&self, role: &str, call: &IamCall) -> Result<Option<RoleRef>, IamError> {
        let action = call.action();
        let c = &self.client;
        let err = |e| iam_error(action, role, e);
        match call {
            IamCall::CreateRole(d) => {
                let out = create_role(c, d).await.map_err(err)?;
                return Ok(out.role().map(|r| RoleRef {
                    name: r.role_name().to_owned(),
                    arn: r.arn().to_owned(),
                    role_id: r.role_id().to_owned(),
                }));
            }
            IamCall::UpdateAssumeRolePolicy { document } => {
                let req = c
                    .update_assume_role_policy()
                    .role_name(role)
                    .policy_document(document.to_string());
                req.send().await.map_err(|e| iam_error(action, role, e))?;
            }
            IamCall::UpdateRole {
                description,
                max_session_duration,
            } => {
                let req = c.update_role().role_name(role).description(description);
                let req = req.max_session_duration(*max_session_duration);
                req.send().await.map_err(|e| iam_error(action, role, e))?;
            }
            IamCall::TagRole { tags } => {
                let req = c.tag_role().role_name(role).set_tags(Some(sdk_tags(tags)));
                req.send().await.map_err(|e| iam_error(action, role, e))?;
            }
            IamCall::UntagRole { keys } => {
                let req = c.untag_role().role_name(role).set_tag_keys(Some(keys.clone()));
                req.send().await.map_err(|e| iam_error(action, role, e))?;
            }
            IamCall::PutRolePolicy { policy_name, document } => {
                let req = c.put_role_policy().role_name(role).policy_name(policy_name);
                let req = req.policy_document(document.to_string());
                req.send().await.map_err(|e| iam_error(action, role, e))?;
            }
            IamCall::DeleteRolePolicy { policy_name } => {
                let req = c.delete_role_policy().role_name(role).policy_name(policy_name);
                req.send().await.map_err(|e| iam_error(action, role, e))?;
            }
            IamCall::DetachRolePolicy { policy_arn } => {
                let req = c.detach_role_policy().role_name(role).policy_arn(policy_arn);
                req.send().await.map_err(|e| iam_error(action, role, e))?;
            }
            IamCall::DeleteRole => {
                c.delete_role()
                    .role_name(role)
                    .send()
                    .await
                    .map_err(|e| iam_error(action, role, e))?;
            }
        }
        Ok(None)
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
