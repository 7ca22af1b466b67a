//! Any JSON as ResourceProperties: the parser never panics; what it accepts yields policies scoped to the
//! bucket and a two-call plan; what it rejects is named property by property.
#![no_main]

use libfuzzer_sys::fuzz_target;
use logzio_role::limits::Limits;
use logzio_role::plan::{DesiredRole, Owner, plan};
use logzio_role::policy::{permissions_policy, policy_size};
use logzio_role::properties::{AccountId, RoleSpec, Trust, role_name_hint};
use serde_json::Value;

fuzz_target!(|data: &[u8]| {
    let Ok(props) = serde_json::from_slice::<Value>(data) else {
        return;
    };
    let _ = role_name_hint(&props);
    for partition in ["aws", "aws-cn"] {
        match RoleSpec::parse(&props, partition, &Limits::default()) {
            Ok(spec) => {
                let policy = permissions_policy(
                    partition,
                    "123456789012",
                    &spec.bucket,
                    &spec.key_prefix,
                    spec.kms_key_arn.as_ref(),
                );
                let bucket_arn = format!("arn:{partition}:s3:::{}", spec.bucket);
                for st in policy["Statement"].as_array().expect("statements") {
                    let resource = st["Resource"].as_str().expect("one resource");
                    assert!(
                        resource == bucket_arn
                            || resource == format!("{bucket_arn}/{}*", spec.key_prefix)
                            || Some(resource) == spec.kms_key_arn.as_ref().map(|k| k.as_str()),
                        "{resource}"
                    );
                    assert!(!spec.bucket.as_str().contains(['*', '?', '/']));
                    assert!(!spec.key_prefix.as_str().contains(['*', '?']));
                }
                assert!(policy_size(&policy) > 0);
                let owner = Owner {
                    stack_id: "arn:aws:cloudformation:us-east-1:123456789012:stack/s/id".into(),
                    logical_id: "Role".into(),
                };
                // With LogzioApiTokenSecretArn the trust comes from Logz.io at run time: a sample stands in.
                let trust = spec.given_trust().cloned().unwrap_or_else(|| Trust {
                    account: AccountId::logzio(),
                    external_id: "logzio:aws:extid:sample".parse().expect("valid"),
                });
                let desired =
                    DesiredRole::new(&spec, "r".into(), partition, "123456789012", &owner, &Limits::default(), &trust);
                assert_eq!(plan(&desired, None).len(), 2);
            }
            Err(errors) => {
                assert!(!errors.0.is_empty());
                for e in &errors.0 {
                    // Each error is about a key of the input, a required property that is missing, or the
                    // properties as a whole, and its text names it before the rule.
                    assert!(
                        props.get(&e.property).is_some()
                            || ["BucketName", "ExternalId", "ResourceProperties"].contains(&e.property.as_str()),
                        "{e}"
                    );
                    assert!(!e.rule.is_empty() && !e.to_string().starts_with(':'), "{e}");
                }
                assert!(errors.to_string().starts_with("invalid properties"), "{errors}");
            }
        }
    }
});
