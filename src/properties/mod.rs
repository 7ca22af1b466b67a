//! The resource's properties: raw CloudFormation `ResourceProperties` in, validated types out.
//!
//! Parse, don't validate: [`RoleSpec::parse`] turns the untyped JSON object CloudFormation sends into
//! newtypes that cannot hold an invalid value, and reports every broken rule at once, each naming the property
//! and the rule. This module is pure: it knows nothing of IAM calls, the protocol, or the network.
//!
//! # Layout
//!
//! - this file: the constants, and [`RoleSpec`], whose parse is one line per property;
//! - `reader`: the error-collecting reader (scalar coercion, required / optional, unknown keys last) and
//!   [`PropertyErrors`];
//! - one file per newtype (or per family of them), each with its parse, its rule and a test per rule:
//!   `bucket` ([`BucketName`]), `external_id` ([`ExternalId`]), `key_prefix` ([`KeyPrefix`]), `account`
//!   ([`AccountId`]), `arn` ([`Arn`]), `iam_names` ([`RoleName`], [`PolicyName`]), `role_path` ([`RolePath`]),
//!   `role_settings` ([`Description`], [`MaxSessionDuration`]), `service_timeout` ([`ServiceTimeout`]), `tags`
//!   ([`Tag`]).
//!
//! Some rules depend on what the deployment allows ([`Limits`], in `limits`): the default and the allowed `Path`,
//! the trusted `LogzioAccountId`s, the allowed buckets. The allowances are the limits' own methods
//! ([`Limits::trusts`], [`Limits::allows`]), and the newtypes know nothing of the limits: newtypes ← limits ← this
//! file's parse, with no circle.

/// `as_str` and `Display` for a newtype over a `String`.
macro_rules! text_newtype {
    ($($t:ty),*) => {$(
        impl $t {
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }
        impl std::fmt::Display for $t {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(&self.0)
            }
        }
    )*};
}

mod account;
mod arn;
mod bucket;
mod external_id;
mod iam_names;
mod key_prefix;
pub mod limits;
mod logzio;
mod reader;
mod role_path;
mod role_settings;
mod service_timeout;
mod tags;
#[cfg(test)]
mod test_support;

pub use account::{AccountId, is_account_id};
pub use arn::Arn;
pub use bucket::BucketName;
pub use external_id::ExternalId;
pub use iam_names::{PolicyName, RoleName};
pub use key_prefix::KeyPrefix;
pub use logzio::{Flag, LogzioRegion};
pub use reader::{PropertyError, PropertyErrors};
pub use role_path::RolePath;
pub use role_settings::{Description, MaxSessionDuration};
pub use service_timeout::{MIN_SERVICE_TIMEOUT_SECS, ServiceTimeout};
pub use tags::Tag;

use limits::Limits;
use reader::{Reader, scalar_text};
use serde_json::Value;

/// Logz.io's AWS account, the one that assumes the role (from Logz.io's guide).
pub const LOGZIO_ACCOUNT_ID: &str = "406095609952";
/// The inline policy's name when `PolicyName` is not given.
pub const DEFAULT_POLICY_NAME: &str = "LogzioArchiveAccess";
/// Prefix of the tag keys that record which stack resource owns a role; users may not set them.
pub const OWNERSHIP_TAG_PREFIX: &str = "logzio-role:";
/// IAM allows 50 tags on a role; two of them are our ownership tags.
pub const MAX_USER_TAGS: usize = 48;
/// Why `PermissionsBoundary` is refused: the stack author must not choose the boundary that constrains them.
pub const PERMISSIONS_BOUNDARY_GONE: &str = "no longer a property: the deployment attaches its own permissions \
     boundary to every role (template parameter RequiredPermissionsBoundaryArn); remove it";

/// The account a role trusts and the external ID it requires.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Trust {
    pub account: AccountId,
    pub external_id: ExternalId,
}

/// Which Logz.io account, through its API: the Secrets Manager secret holding the API token, and the region.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogzioApiRef {
    pub token_secret: Arn,
    pub region: LogzioRegion,
}

/// Where a role's trust comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TrustSource {
    /// `ExternalId`, and `LogzioAccountId` (or the deployment's first trusted account).
    Given(Trust),
    /// `LogzioApiTokenSecretArn` and `LogzioRegion`: Logz.io's API says which account and external ID, at each
    /// Create and Update (so a rotated external ID is applied by a stack update). `account` is `LogzioAccountId`
    /// if set: Logz.io's answer must then equal it.
    FromLogzio {
        api: LogzioApiRef,
        account: Option<AccountId>,
    },
}

/// The validated properties of one `Custom::LogzioRole`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RoleSpec {
    pub bucket: BucketName,
    pub trust: TrustSource,
    pub key_prefix: KeyPrefix,
    pub kms_key_arn: Option<Arn>,
    pub role_name: Option<RoleName>,
    pub path: RolePath,
    pub description: Option<Description>,
    pub max_session_duration: MaxSessionDuration,
    pub policy_name: PolicyName,
    pub tags: Vec<Tag>,
    /// Checked (it must outlast Lambda's redelivery), not used.
    pub service_timeout: Option<ServiceTimeout>,
}

impl RoleSpec {
    /// Parses `ResourceProperties` for a stack in `partition` (`aws`, `aws-cn`, `aws-us-gov`, …), held to what
    /// the deployment allows.
    pub fn parse(properties: &Value, partition: &str, limits: &Limits) -> Result<Self, PropertyErrors> {
        let mut r = Reader::new(properties)?;
        r.ignore("ServiceToken");
        let bucket = r.required_with("BucketName", |b| limits.allows(b.parse::<BucketName>()?));
        let external_id = r.optional::<ExternalId>("ExternalId").or_none();
        let api = logzio_api(&mut r, partition);
        let key_prefix = r.optional::<KeyPrefix>("KeyPrefix").or_default();
        let kms_key_arn = r.optional_with("KmsKeyArn", |a| Arn::kms_key(a, partition)).or_none();
        let logzio_account_id = r
            .optional_with("LogzioAccountId", |a| limits.trusts(a.parse::<AccountId>()?))
            .or_none();
        let role_name = r.optional::<RoleName>("RoleName").or_none();
        let path = r
            .optional_with("Path", |p| {
                let path = p.parse::<RolePath>()?;
                if limits.enforced {
                    path.under(&limits.path_prefix)
                } else {
                    Ok(path)
                }
            })
            .or(limits.path_prefix.clone());
        let description = r.optional::<Description>("Description").or_none();
        let max_session_duration = r.optional::<MaxSessionDuration>("MaxSessionDuration").or_default();
        r.refuse("PermissionsBoundary", PERMISSIONS_BOUNDARY_GONE);
        let policy_name = r.optional::<PolicyName>("PolicyName").or_default();
        let tags = r.structured("Tags", Tag::parse_list);
        let service_timeout = r
            .optional_with("ServiceTimeout", |t| {
                let t = t.parse::<ServiceTimeout>()?;
                if limits.enforced {
                    t.outlasts_redelivery()
                } else {
                    Ok(t)
                }
            })
            .or_none();
        match (&external_id, &api) {
            (Some(None), Some(None)) => r.error(
                "ExternalId",
                "is required (or LogzioApiTokenSecretArn, to have it from Logz.io's API)".into(),
            ),
            (Some(Some(_)), Some(Some(_))) => r.error(
                "ExternalId",
                "set ExternalId or LogzioApiTokenSecretArn, not both (with the token, Logz.io's API says the \
                 external ID)"
                    .into(),
            ),
            _ => {}
        }
        r.finish(|| {
            let trust = match (external_id?, api?) {
                (Some(external_id), None) => TrustSource::Given(Trust {
                    // Absent: the first trusted account (a Limits that trusts none is a bug, reported as such).
                    account: logzio_account_id
                        .clone()?
                        .or_else(|| limits.trusted_account_ids.first().cloned())?,
                    external_id,
                }),
                (None, Some(api)) => TrustSource::FromLogzio {
                    api,
                    account: logzio_account_id.clone()?,
                },
                _ => return None,
            };
            Some(RoleSpec {
                bucket: bucket?,
                trust,
                key_prefix: key_prefix?,
                kms_key_arn: kms_key_arn?,
                role_name: role_name?,
                path: path?,
                description: description?,
                max_session_duration: max_session_duration?,
                policy_name: policy_name?,
                tags: tags?,
                service_timeout: service_timeout?,
            })
        })
    }

    /// The trust when the properties give it (`ExternalId`); None when it comes from Logz.io's API.
    pub fn given_trust(&self) -> Option<&Trust> {
        match &self.trust {
            TrustSource::Given(t) => Some(t),
            TrustSource::FromLogzio { .. } => None,
        }
    }

    /// The role description: the user's, or a sentence naming the bucket.
    pub fn description_or_default(&self) -> String {
        match &self.description {
            Some(d) => d.to_string(),
            None => format!(
                "Lets Logz.io archive logs to the S3 bucket {} (managed by Custom::LogzioRole)",
                self.bucket
            ),
        }
    }
}

/// `LogzioApiTokenSecretArn` and `LogzioRegion`: `Some(None)` when the token is not set, `None` when broken.
fn logzio_api(r: &mut Reader<'_>, partition: &str) -> Option<Option<LogzioApiRef>> {
    let token_secret = r
        .optional_with("LogzioApiTokenSecretArn", |a| Arn::secret(a, partition))
        .or_none();
    let region = r.optional::<LogzioRegion>("LogzioRegion").or_default();
    match (token_secret?, region?) {
        (Some(token_secret), region) => Some(Some(LogzioApiRef { token_secret, region })),
        (None, _) => Some(None),
    }
}

/// The properties of one `Custom::LogzioArchive`: the archive registered with Logz.io.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ArchiveSpec {
    pub api: LogzioApiRef,
    pub bucket: BucketName,
    /// Archive under this prefix of the bucket (Logz.io's `path` is `bucket/prefix`); Logz.io restores only from
    /// the bucket root.
    pub key_prefix: KeyPrefix,
    pub role_arn: Arn,
    pub enabled: bool,
    pub compressed: bool,
    pub service_timeout: Option<ServiceTimeout>,
}

impl ArchiveSpec {
    /// Parses a `Custom::LogzioArchive`'s `ResourceProperties` for a stack in `partition`. `ServiceTimeout` is
    /// read for its shape only: whether it outlasts Lambda's redelivery is the caller's check (a refusal that
    /// guards writes).
    pub fn parse(properties: &Value, partition: &str) -> Result<Self, PropertyErrors> {
        let mut r = Reader::new(properties)?;
        r.ignore("ServiceToken");
        let token_secret = r.required_with("LogzioApiTokenSecretArn", |a| Arn::secret(a, partition));
        let region = r.optional::<LogzioRegion>("LogzioRegion").or_default();
        let bucket = r.required::<BucketName>("BucketName");
        let key_prefix = r.optional::<KeyPrefix>("KeyPrefix").or_default();
        let role_arn = r.required_with("RoleArn", |a| Arn::iam_role(a, partition));
        let enabled = r.optional::<Flag>("Enabled").or(Flag(true));
        let compressed = r.optional::<Flag>("Compressed").or(Flag(true));
        let service_timeout = r.optional::<ServiceTimeout>("ServiceTimeout").or_none();
        r.finish(|| {
            Some(ArchiveSpec {
                api: LogzioApiRef {
                    token_secret: token_secret?,
                    region: region?,
                },
                bucket: bucket?,
                key_prefix: key_prefix?,
                role_arn: role_arn?,
                enabled: enabled?.0,
                compressed: compressed?.0,
                service_timeout: service_timeout?,
            })
        })
    }

    /// Logz.io's `path`: the bucket, or `bucket/prefix` without the prefix's trailing `/`.
    pub fn path(&self) -> String {
        let prefix = self.key_prefix.as_str().trim_end_matches('/');
        if prefix.is_empty() {
            self.bucket.to_string()
        } else {
            format!("{}/{prefix}", self.bucket)
        }
    }
}

/// The `RoleName` property if it is present and a valid role name, without judging anything else.
/// Used to name the role a failed Create may have left, so the rollback Delete finds it.
pub fn role_name_hint(properties: &Value) -> Option<RoleName> {
    RoleName::parse(&scalar_text(properties.get("RoleName")?)?)
}

/// The inline policy a role being deleted most likely holds: `PolicyName` if it is a valid one (its own rule),
/// else the default. A wrong guess costs only the sweep that DeleteConflict triggers.
pub fn policy_name_hint(properties: &Value) -> PolicyName {
    properties
        .get("PolicyName")
        .and_then(scalar_text)
        .and_then(|p| p.parse().ok())
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::test_support::*;
    use super::*;
    use crate::limits::{PATH_PREFIX_VAR, TRUSTED_ACCOUNTS_VAR};
    use serde_json::json;

    #[test]
    fn the_policy_to_delete_is_the_named_one_if_valid() {
        assert_eq!(policy_name_hint(&json!({"PolicyName": "Custom"})).as_str(), "Custom");
        assert_eq!(
            policy_name_hint(&json!({"PolicyName": "no spaces"})).as_str(),
            DEFAULT_POLICY_NAME
        );
        assert_eq!(
            policy_name_hint(&json!({"PolicyName": "p".repeat(129)})).as_str(),
            DEFAULT_POLICY_NAME
        );
        assert_eq!(policy_name_hint(&json!({})).as_str(), DEFAULT_POLICY_NAME);
    }

    #[test]
    fn minimal_properties_get_the_documented_defaults() {
        let s = parse(&base()).expect("valid");
        assert_eq!(s.bucket.as_str(), "my-archive");
        let trust = s.given_trust().expect("given");
        assert_eq!(trust.external_id.expose(), "logzio:aws:extid:abc123");
        assert_eq!(s.key_prefix.as_str(), "");
        assert_eq!(trust.account.as_str(), "406095609952");
        assert_eq!(s.path.as_str(), "/logzio/");
        assert_eq!(s.max_session_duration.seconds(), 3600);
        assert_eq!(s.policy_name.as_str(), "LogzioArchiveAccess");
        assert_eq!(s.role_name, None);
        assert!(s.tags.is_empty());
        assert!(s.description_or_default().contains("my-archive"));
    }

    #[test]
    fn unknown_property_is_named_with_a_hint() {
        let mut p = base();
        let b = p
            .as_object_mut()
            .expect("object")
            .remove("BucketName")
            .expect("present");
        p["Bucketname"] = b;
        let msg = errors(p).to_string();
        assert!(
            msg.contains("Bucketname: unknown property (did you mean BucketName?)"),
            "{msg}"
        );
        assert!(msg.contains("BucketName: is required"), "{msg}");
    }

    #[test]
    fn service_token_is_accepted_and_ignored() {
        for token in [
            json!("arn:aws:lambda:us-east-1:123456789012:function:f"),
            json!(["any"]),
        ] {
            accepts("ServiceToken", token);
        }
    }

    #[test]
    fn permissions_boundary_is_no_longer_a_property() {
        assert_eq!(
            rejects("PermissionsBoundary", json!("arn:aws:iam::123456789012:policy/b")),
            "invalid properties (1 error): PermissionsBoundary: no longer a property: the deployment attaches its \
             own permissions boundary to every role (template parameter RequiredPermissionsBoundaryArn); remove it"
        );
    }

    #[test]
    fn the_deployments_limits_shape_the_defaults() {
        let l = limits(&[
            (TRUSTED_ACCOUNTS_VAR, "111122223333,406095609952"),
            (PATH_PREFIX_VAR, "/acme/"),
        ]);
        let s = parse_with(&base(), &l).expect("valid");
        assert_eq!(s.given_trust().expect("given").account.as_str(), "111122223333");
        assert_eq!(s.path.as_str(), "/acme/");
    }

    const SECRET: &str = "arn:aws:secretsmanager:us-east-1:123456789012:secret:logzio-token-AbCdEf";

    #[test]
    fn the_trust_comes_from_logzios_api_with_the_token_secret() {
        let mut p = base();
        p.as_object_mut().expect("object").remove("ExternalId");
        p["LogzioApiTokenSecretArn"] = json!(SECRET);
        p["LogzioRegion"] = json!("eu");
        let s = parse(&p).expect("valid");
        let TrustSource::FromLogzio { api, account } = &s.trust else {
            panic!("{:?}", s.trust)
        };
        assert_eq!((api.token_secret.as_str(), api.region), (SECRET, LogzioRegion::Eu));
        assert_eq!(account, &None);
    }

    #[test]
    fn exactly_one_of_external_id_and_the_token_secret_is_required() {
        let mut none = base();
        none.as_object_mut().expect("object").remove("ExternalId");
        assert_eq!(
            errors(none).to_string(),
            "invalid properties (1 error): ExternalId: is required (or LogzioApiTokenSecretArn, to have it from \
             Logz.io's API)"
        );
        let mut both = base();
        both["LogzioApiTokenSecretArn"] = json!(SECRET);
        assert!(
            errors(both)
                .to_string()
                .contains("ExternalId: set ExternalId or LogzioApiTokenSecretArn, not both")
        );
    }

    #[test]
    fn an_archive_needs_the_token_secret_the_bucket_and_the_role() {
        let e = ArchiveSpec::parse(&json!({"Enabled": "maybe"}), "aws").expect_err("invalid");
        for p in ["LogzioApiTokenSecretArn", "BucketName", "RoleArn", "Enabled"] {
            assert!(e.names(p), "{p} missing from {e}");
        }
        let s = ArchiveSpec::parse(
            &json!({"LogzioApiTokenSecretArn": SECRET, "BucketName": "acme-logs", "KeyPrefix": "logzio/",
                    "RoleArn": "arn:aws:iam::123456789012:role/logzio/archive", "Compressed": "false"}),
            "aws",
        )
        .expect("valid");
        assert_eq!((s.enabled, s.compressed, s.api.region), (true, false, LogzioRegion::Us));
        assert_eq!(s.path(), "acme-logs/logzio");
        assert!(
            ArchiveSpec::parse(
                &json!({"LogzioApiTokenSecretArn": SECRET, "BucketName": "acme-logs",
            "RoleArn": "arn:aws:iam::123456789012:role/r", "Extra": 1}),
                "aws"
            )
            .expect_err("unknown")
            .names("Extra")
        );
    }

    #[test]
    fn every_broken_rule_is_reported_at_once() {
        let e = errors(
            json!({"BucketName": "Bad_Bucket", "ExternalId": "x", "MaxSessionDuration": "1",
                              "Path": "nope", "RoleName": "a b"}),
        );
        for p in ["BucketName", "ExternalId", "MaxSessionDuration", "Path", "RoleName"] {
            assert!(e.names(p), "{p} missing from {e}");
        }
        assert_eq!(e.0.len(), 5);
    }

    #[test]
    fn role_name_hint_only_for_valid_names() {
        assert_eq!(
            role_name_hint(&json!({"RoleName": "Good"})).map(|r| r.to_string()),
            Some("Good".into())
        );
        assert_eq!(role_name_hint(&json!({"RoleName": "b a d"})), None);
        assert_eq!(
            role_name_hint(&json!({"RoleName": 12345})).map(|r| r.to_string()),
            Some("12345".into())
        );
        assert_eq!(role_name_hint(&json!({})), None);
    }
}
