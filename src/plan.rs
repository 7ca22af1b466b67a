//! The reconcile plan: which IAM writes turn the role IAM holds into the role the properties describe.
//!
//! Pure functions of (desired, actual): [`plan`] returns the write calls in order, and nothing when the role is
//! already as desired, so a no-op Update makes no write. Also here: the ownership tags that mark a role as ours,
//! and the deterministic generated role name. Nothing here talks to IAM.

use crate::limits::Limits;
use crate::policy;
use crate::properties::{OWNERSHIP_TAG_PREFIX, RoleSpec, Tag, Trust};
use serde_json::Value;
use std::collections::BTreeMap;

/// Tag key recording the stack that owns a role.
pub const STACK_TAG: &str = "logzio-role:stack-id";
/// Tag key recording the logical id (within that stack) that owns a role.
pub const LOGICAL_ID_TAG: &str = "logzio-role:logical-id";

/// The stack resource a role belongs to, as recorded in its tags.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Owner {
    pub stack_id: String,
    pub logical_id: String,
}

impl Owner {
    pub fn tags(&self) -> [Tag; 2] {
        [
            Tag {
                key: STACK_TAG.into(),
                value: self.stack_id.clone(),
            },
            Tag {
                key: LOGICAL_ID_TAG.into(),
                value: self.logical_id.clone(),
            },
        ]
    }

    /// True when `tags` carry exactly this owner.
    pub fn owns(&self, tags: &BTreeMap<String, String>) -> bool {
        tags.get(STACK_TAG) == Some(&self.stack_id) && tags.get(LOGICAL_ID_TAG) == Some(&self.logical_id)
    }
}

/// The role as the properties describe it.
#[derive(Debug, Clone, PartialEq)]
pub struct DesiredRole {
    pub name: String,
    pub path: String,
    pub trust_policy: Value,
    pub description: String,
    pub max_session_duration: i32,
    pub permissions_boundary: Option<String>,
    /// User tags and the ownership tags, by key.
    pub tags: BTreeMap<String, String>,
    pub policy_name: String,
    pub policy: Value,
}

impl DesiredRole {
    /// The role `spec` describes, named `name`, in `partition`, for a bucket in `account` (the stack's), carrying
    /// the deployment's boundary.
    pub fn new(
        spec: &RoleSpec,
        name: String,
        partition: &str,
        account: &str,
        owner: &Owner,
        limits: &Limits,
        trust: &Trust,
    ) -> Self {
        let tags = spec
            .tags
            .iter()
            .chain(owner.tags().iter())
            .map(|t| (t.key.clone(), t.value.clone()))
            .collect();
        DesiredRole {
            name,
            path: spec.path.to_string(),
            trust_policy: policy::trust_policy(partition, &trust.account, &trust.external_id),
            description: spec.description_or_default(),
            max_session_duration: spec.max_session_duration.seconds(),
            permissions_boundary: limits.boundary_arn.as_ref().map(ToString::to_string),
            tags,
            policy_name: spec.policy_name.to_string(),
            policy: policy::permissions_policy(
                partition,
                account,
                &spec.bucket,
                &spec.key_prefix,
                spec.kms_key_arn.as_ref(),
            ),
        }
    }
}

/// The role as IAM holds it.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct ActualRole {
    pub name: String,
    pub path: String,
    pub arn: String,
    pub role_id: String,
    /// IAM's CreateDate: a role created before an invocation began was not made by it.
    pub created: Option<std::time::SystemTime>,
    pub trust_policy: Value,
    pub description: Option<String>,
    pub max_session_duration: Option<i32>,
    pub permissions_boundary: Option<String>,
    pub tags: BTreeMap<String, String>,
    /// Inline policy names on the role, with the document of the one we manage if it is there.
    pub inline_policies: BTreeMap<String, Option<Value>>,
}

/// One IAM write.
#[derive(Debug, Clone, PartialEq)]
pub enum IamCall {
    CreateRole(Box<DesiredRole>),
    UpdateAssumeRolePolicy {
        document: Value,
    },
    /// Sends both fields: moto clears a description that UpdateRole leaves out, so we never leave it out.
    UpdateRole {
        description: String,
        max_session_duration: i32,
    },
    TagRole {
        tags: BTreeMap<String, String>,
    },
    UntagRole {
        keys: Vec<String>,
    },
    PutRolePolicy {
        policy_name: String,
        document: Value,
    },
    DeleteRolePolicy {
        policy_name: String,
    },
    /// Only in the sweep of a role being deleted (someone attached a managed policy to it).
    DetachRolePolicy {
        policy_arn: String,
    },
    DeleteRole,
}

impl IamCall {
    /// The IAM action name, for logs.
    pub fn action(&self) -> &'static str {
        match self {
            IamCall::CreateRole(_) => "CreateRole",
            IamCall::UpdateAssumeRolePolicy { .. } => "UpdateAssumeRolePolicy",
            IamCall::UpdateRole { .. } => "UpdateRole",
            IamCall::TagRole { .. } => "TagRole",
            IamCall::UntagRole { .. } => "UntagRole",
            IamCall::PutRolePolicy { .. } => "PutRolePolicy",
            IamCall::DeleteRolePolicy { .. } => "DeleteRolePolicy",
            IamCall::DetachRolePolicy { .. } => "DetachRolePolicy",
            IamCall::DeleteRole => "DeleteRole",
        }
    }
}

/// The writes that take `actual` (None: no such role) to `desired`. The role's name, path and permissions
/// boundary are not compared: a different name or path is a different role, and a boundary is set only by
/// CreateRole and never changed (see [`boundary_differs`]); both are decided before planning.
pub fn plan(desired: &DesiredRole, actual: Option<&ActualRole>) -> Vec<IamCall> {
    let Some(actual) = actual else {
        return vec![
            IamCall::CreateRole(Box::new(desired.clone())),
            IamCall::PutRolePolicy {
                policy_name: desired.policy_name.clone(),
                document: desired.policy.clone(),
            },
        ];
    };
    let mut calls = Vec::new();
    if actual.trust_policy != desired.trust_policy {
        calls.push(IamCall::UpdateAssumeRolePolicy {
            document: desired.trust_policy.clone(),
        });
    }
    if actual.description.as_deref() != Some(&desired.description)
        || actual.max_session_duration != Some(desired.max_session_duration)
    {
        calls.push(IamCall::UpdateRole {
            description: desired.description.clone(),
            max_session_duration: desired.max_session_duration,
        });
    }
    let stale: Vec<String> = actual
        .tags
        .keys()
        .filter(|k| !desired.tags.contains_key(*k) && !k.starts_with(OWNERSHIP_TAG_PREFIX))
        .cloned()
        .collect();
    if !stale.is_empty() {
        calls.push(IamCall::UntagRole { keys: stale });
    }
    let changed: BTreeMap<String, String> = desired
        .tags
        .iter()
        .filter(|(k, v)| actual.tags.get(*k) != Some(*v))
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    if !changed.is_empty() {
        calls.push(IamCall::TagRole { tags: changed });
    }
    // Put the new policy before removing old ones, so the role never has no access mid-update.
    if actual.inline_policies.get(&desired.policy_name) != Some(&Some(desired.policy.clone())) {
        calls.push(IamCall::PutRolePolicy {
            policy_name: desired.policy_name.clone(),
            document: desired.policy.clone(),
        });
    }
    for name in actual.inline_policies.keys().filter(|n| **n != desired.policy_name) {
        calls.push(IamCall::DeleteRolePolicy {
            policy_name: name.clone(),
        });
    }
    calls
}

/// True when an existing role's permissions boundary is not the one the deployment gives every role it makes.
/// The function may not change a boundary (IAM denies it, template.yaml), so such a role is refused, not
/// planned for.
pub fn boundary_differs(desired: &DesiredRole, actual: &ActualRole) -> bool {
    desired.permissions_boundary != actual.permissions_boundary
}

/// The name of a role created without `RoleName`: stack name, logical id and a suffix derived from the StackId,
/// the logical id and the role's Path, at most 64 characters. A redelivered or retried Create gets the same name
/// (and finds its own role); a replacement (a new Path) gets another; a rollback to the old Path gets the old
/// role's name back, so the rollback converges to the role that still exists instead of making a third one.
pub fn generated_role_name(stack_id: &str, logical_id: &str, path: &str) -> String {
    let stack_name = stack_id.split('/').nth(1).unwrap_or("stack");
    let clean = |s: &str, max: usize| -> String {
        s.chars()
            .filter(|c| c.is_ascii_alphanumeric() || *c == '-')
            .take(max)
            .collect()
    };
    let suffix = suffix(&[stack_id, logical_id, path]);
    // 64 = stack (<= 24) + '-' + logical id + '-' + suffix (12)
    let stack = clean(stack_name, 24);
    let logical = clean(logical_id, 64 - 2 - suffix.len() - stack.len());
    format!("{stack}-{logical}-{suffix}")
}

/// 12 characters of a 64-bit FNV-1a hash in an uppercase alphabet without look-alikes: stable across builds.
fn suffix(parts: &[&str]) -> String {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for part in parts {
        for b in part.bytes().chain(std::iter::once(0)) {
            h ^= u64::from(b);
            h = h.wrapping_mul(0x0100_0000_01b3);
        }
    }
    const ALPHABET: &[u8; 32] = b"ABCDEFGHJKLMNPQRSTUVWXYZ23456789";
    (0..12)
        .map(|i| ALPHABET[((h >> (i * 5)) & 31) as usize] as char)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const STACK: &str =
        "arn:aws:cloudformation:us-east-1:123456789012:stack/archive/1f0c2c30-0000-11ef-9b4c-0a1b2c3d4e5f";

    fn owner() -> Owner {
        Owner {
            stack_id: STACK.into(),
            logical_id: "ArchiveRole".into(),
        }
    }

    fn desired(extra: Value) -> DesiredRole {
        desired_with(extra, &Limits::default())
    }

    fn desired_with(extra: Value, limits: &Limits) -> DesiredRole {
        let mut p = json!({"BucketName": "my-archive", "ExternalId": "logzio:aws:extid:abc123"});
        for (k, v) in extra.as_object().expect("object") {
            p[k] = v.clone();
        }
        let spec = RoleSpec::parse(&p, "aws", limits).expect("valid");
        let trust = spec.given_trust().expect("ExternalId given").clone();
        DesiredRole::new(&spec, "role".into(), "aws", "123456789012", &owner(), limits, &trust)
    }

    /// The limits of a deployment that attaches the boundary `arn:aws:iam::123456789012:policy/b`.
    fn bounded() -> Limits {
        Limits::from_vars(|v| (v == crate::limits::BOUNDARY_VAR).then(|| "arn:aws:iam::123456789012:policy/b".into()))
            .expect("valid")
    }

    /// What IAM holds after creating `d` and putting its policy.
    fn actual_of(d: &DesiredRole) -> ActualRole {
        ActualRole {
            name: d.name.clone(),
            path: d.path.clone(),
            arn: "arn:aws:iam::123456789012:role/role".into(),
            role_id: "AROAEXAMPLE".into(),
            created: None,
            trust_policy: d.trust_policy.clone(),
            description: Some(d.description.clone()),
            max_session_duration: Some(d.max_session_duration),
            permissions_boundary: d.permissions_boundary.clone(),
            tags: d.tags.clone(),
            inline_policies: [(d.policy_name.clone(), Some(d.policy.clone()))].into(),
        }
    }

    fn actions(calls: &[IamCall]) -> Vec<&'static str> {
        calls.iter().map(IamCall::action).collect()
    }

    #[test]
    fn no_role_means_create_then_put_policy() {
        let d = desired(json!({}));
        assert_eq!(actions(&plan(&d, None)), ["CreateRole", "PutRolePolicy"]);
    }

    #[test]
    fn role_as_desired_means_no_writes() {
        let d = desired_with(json!({"Tags": [{"Key": "team", "Value": "obs"}]}), &bounded());
        assert!(plan(&d, Some(&actual_of(&d))).is_empty());
    }

    #[test]
    fn changed_external_id_rewrites_only_the_trust_policy() {
        let a = actual_of(&desired(json!({})));
        let d = desired(json!({"ExternalId": "other-id"}));
        assert_eq!(
            plan(&d, Some(&a)),
            [IamCall::UpdateAssumeRolePolicy {
                document: d.trust_policy.clone()
            }]
        );
    }

    #[test]
    fn changed_bucket_rewrites_only_the_policy() {
        let a = actual_of(&desired(json!({})));
        let d = desired(json!({"BucketName": "other-bucket"}));
        // The default description names the bucket, so it changes too.
        assert_eq!(actions(&plan(&d, Some(&a))), ["UpdateRole", "PutRolePolicy"]);
    }

    #[test]
    fn description_and_session_length_share_one_update_role() {
        let a = actual_of(&desired(json!({})));
        let d = desired(json!({"Description": "x", "MaxSessionDuration": 7200}));
        assert_eq!(
            plan(&d, Some(&a)),
            [IamCall::UpdateRole {
                description: "x".into(),
                max_session_duration: 7200
            }]
        );
        let d = desired(json!({"MaxSessionDuration": 7200}));
        assert_eq!(
            plan(&d, Some(&a)),
            [IamCall::UpdateRole {
                description: d.description.clone(),
                max_session_duration: 7200
            }]
        );
    }

    #[test]
    fn a_boundary_is_never_planned_only_compared() {
        let plain = desired(json!({}));
        let bounded = desired_with(json!({}), &bounded());
        assert!(plan(&bounded, Some(&actual_of(&plain))).is_empty());
        assert!(boundary_differs(&bounded, &actual_of(&plain)));
        assert!(boundary_differs(&plain, &actual_of(&bounded)));
        assert!(!boundary_differs(&bounded, &actual_of(&bounded)));
    }

    #[test]
    fn tags_are_added_changed_and_removed_but_ownership_tags_are_kept() {
        let a = actual_of(&desired(
            json!({"Tags": [{"Key": "a", "Value": "1"}, {"Key": "b", "Value": "2"}]}),
        ));
        let d = desired(json!({"Tags": [{"Key": "a", "Value": "9"}, {"Key": "c", "Value": "3"}]}));
        assert_eq!(
            plan(&d, Some(&a)),
            [
                IamCall::UntagRole { keys: vec!["b".into()] },
                IamCall::TagRole {
                    tags: [("a".into(), "9".into()), ("c".into(), "3".into())].into()
                },
            ]
        );
    }

    #[test]
    fn renamed_policy_is_put_before_the_old_one_is_removed() {
        let a = actual_of(&desired(json!({})));
        let d = desired(json!({"PolicyName": "Renamed"}));
        assert_eq!(
            plan(&d, Some(&a)),
            [
                IamCall::PutRolePolicy {
                    policy_name: "Renamed".into(),
                    document: d.policy.clone()
                },
                IamCall::DeleteRolePolicy {
                    policy_name: "LogzioArchiveAccess".into()
                },
            ]
        );
    }

    #[test]
    fn deleted_or_drifted_policy_is_put_back() {
        let d = desired(json!({}));
        let mut a = actual_of(&d);
        a.inline_policies.clear();
        assert_eq!(actions(&plan(&d, Some(&a))), ["PutRolePolicy"]);
        a.inline_policies.insert(
            d.policy_name.clone(),
            Some(json!({"Version": "2012-10-17", "Statement": []})),
        );
        assert_eq!(actions(&plan(&d, Some(&a))), ["PutRolePolicy"]);
    }

    #[test]
    fn extra_inline_policies_are_removed() {
        let d = desired(json!({}));
        let mut a = actual_of(&d);
        a.inline_policies.insert("AddedByHand".into(), None);
        assert_eq!(
            plan(&d, Some(&a)),
            [IamCall::DeleteRolePolicy {
                policy_name: "AddedByHand".into()
            }]
        );
    }

    #[test]
    fn owner_owns_only_with_both_tags_matching() {
        let o = owner();
        let mut tags: BTreeMap<String, String> = o.tags().into_iter().map(|t| (t.key, t.value)).collect();
        assert!(o.owns(&tags));
        tags.insert(LOGICAL_ID_TAG.into(), "Other".into());
        assert!(!o.owns(&tags));
        assert!(!o.owns(&BTreeMap::new()));
    }

    #[test]
    fn generated_name_is_deterministic_bounded_and_valid() {
        let a = generated_role_name(STACK, "ArchiveRole", "/");
        assert_eq!(a, generated_role_name(STACK, "ArchiveRole", "/"));
        assert_ne!(a, generated_role_name(STACK, "ArchiveRole", "/logzio/"));
        assert_ne!(a, generated_role_name(STACK, "Other", "/"));
        assert_ne!(
            a,
            generated_role_name(&STACK.replace("1f0c", "2f0c"), "ArchiveRole", "/")
        );
        assert!(a.starts_with("archive-ArchiveRole-"), "{a}");
        let long_stack = format!(
            "arn:aws:cloudformation:us-east-1:123456789012:stack/{}/id",
            "s".repeat(128)
        );
        let long = generated_role_name(&long_stack, &"L".repeat(255), "/");
        assert_eq!(long.len(), 64);
        assert!(crate::properties::RoleName::parse(&long).is_some());
    }
}
