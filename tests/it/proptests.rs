//! Property-based tests (proptest) of the two promises that must hold for every input, not just the examples:
//! an accepted BucketName (and KeyPrefix) yields a policy that grants nothing outside that bucket (and prefix),
//! and every answer fits CloudFormation's 4096-byte limit with its ids intact.

use logzio_role::cfn::answer::{Answer, MAX_BODY, Status};
use logzio_role::limits::Limits;
use logzio_role::policy::permissions_policy;
use logzio_role::properties::RoleSpec;
use proptest::prelude::*;
use serde_json::{Value, json};
use std::collections::BTreeMap;

/// IAM's wildcard match of a Resource pattern: `*` any run of characters, `?` any one character.
fn iam_matches(pattern: &str, arn: &str) -> bool {
    logzio_role::limits::wildcard_match(pattern, arn)
}

#[test]
fn the_glob_matcher_is_iams() {
    assert!(iam_matches("arn:aws:s3:::b/p*", "arn:aws:s3:::b/p/x"));
    assert!(iam_matches("arn:aws:s3:::b?", "arn:aws:s3:::bc"));
    assert!(iam_matches("*", "anything"));
    assert!(!iam_matches("arn:aws:s3:::b", "arn:aws:s3:::bc"));
    assert!(!iam_matches("arn:aws:s3:::b/p*", "arn:aws:s3:::b/q"));
    assert!(iam_matches("arn:aws:s3:::*-logs", "arn:aws:s3:::other-logs"));
}

/// Bucket names: mostly plausible ones, and hostile ones (wildcards, slashes, upper case, anything at all).
fn bucket() -> impl Strategy<Value = String> {
    prop_oneof![
        "[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]",
        "[a-z0-9.*?/-]{1,66}",
        "[a-zA-Z0-9.*?/:$ {}-]{0,70}",
        any::<String>(),
    ]
}

fn key_prefix() -> impl Strategy<Value = Option<String>> {
    proptest::option::of(prop_oneof![
        "[a-zA-Z0-9/._-]{0,40}",
        "[a-z/*?${}]{0,12}",
        any::<String>()
    ])
}

fn statements(policy: &Value) -> Vec<(Vec<String>, String)> {
    policy["Statement"]
        .as_array()
        .expect("statements")
        .iter()
        .map(|st| {
            assert_eq!(st["Effect"], "Allow", "{st}");
            assert!(st.get("NotAction").is_none() && st.get("NotResource").is_none(), "{st}");
            let actions = match &st["Action"] {
                Value::String(a) => vec![a.clone()],
                Value::Array(a) => a.iter().map(|x| x.as_str().expect("action").to_owned()).collect(),
                other => panic!("action {other}"),
            };
            (actions, st["Resource"].as_str().expect("one resource").to_owned())
        })
        .collect()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    /// Whatever BucketName and KeyPrefix are accepted, no statement reaches another bucket, nor a key outside
    /// the prefix, and nothing is granted on `*`.
    #[test]
    fn an_accepted_bucket_name_grants_nothing_outside_that_bucket(
        bucket in bucket(),
        prefix in key_prefix(),
        other in "[a-z0-9][a-z0-9.-]{1,20}[a-z0-9]",
        key in "[a-zA-Z0-9/._-]{0,30}",
    ) {
        let mut props = json!({"BucketName": bucket, "ExternalId": "logzio:aws:extid:abc123"});
        if let Some(p) = &prefix {
            props["KeyPrefix"] = json!(p);
        }
        let Ok(spec) = RoleSpec::parse(&props, "aws", &Limits::default()) else {
            return Ok(()); // rejected: nothing is granted
        };
        prop_assert_eq!(spec.bucket.as_str(), bucket.as_str());
        let prefix = spec.key_prefix.as_str().to_owned();
        let policy = permissions_policy("aws", "123456789012", &spec.bucket, &spec.key_prefix, None);
        let bucket_arn = format!("arn:aws:s3:::{bucket}");
        for (actions, resource) in statements(&policy) {
            prop_assert_ne!(resource.as_str(), "*", "{:?} on *", actions);
            for a in &actions {
                prop_assert!(a.starts_with("s3:"), "{a}");
            }
            // Not another bucket, not another bucket's objects.
            if other != bucket {
                let other_arn = format!("arn:aws:s3:::{other}");
                prop_assert!(!iam_matches(&resource, &other_arn), "{resource} matches {other_arn}");
                prop_assert!(!iam_matches(&resource, &format!("{other_arn}/{key}")), "{resource} matches {other_arn}/{key}");
            }
            // Not a longer bucket name that starts with this one (`arn:aws:s3:::bucket*` would).
            prop_assert!(!iam_matches(&resource, &format!("{bucket_arn}x")), "{resource}");
            prop_assert!(!iam_matches(&resource, &format!("{bucket_arn}-other/{key}")), "{resource}");
            // Objects only under the prefix.
            if !key.starts_with(&prefix) {
                prop_assert!(!iam_matches(&resource, &format!("{bucket_arn}/{key}")), "{resource} matches key {key}");
            }
            // And it does grant what Logz.io needs: the bucket, and the prefix's objects.
            prop_assert!(
                resource == bucket_arn || resource == format!("{bucket_arn}/{prefix}*"),
                "unexpected resource {resource}"
            );
        }
    }

}

proptest! {
    // Each case encodes up to ~13 bodies (the Reason's binary search): fewer cases, same reach.
    #![proptest_config(ProptestConfig::with_cases(400))]

    /// Whatever the reason, ids and data, the body is at most 4096 bytes of JSON whenever the ids alone fit, with
    /// the ids unchanged; a cut Reason is a prefix of the original; Data is either intact or dropped with the
    /// answer turned FAILED.
    #[test]
    fn every_answer_fits_in_4096_bytes_with_its_ids_intact(
        success in any::<bool>(),
        reason in proptest::option::of(proptest::collection::vec(any::<char>(), 0..6000).prop_map(String::from_iter)),
        physical in prop_oneof!["[ -~]{1,1024}", "[ -~]{3700,4000}"],
        stack in "arn:aws:cloudformation:[a-z0-9-]{1,20}:[0-9]{12}:stack/[A-Za-z0-9-]{1,128}/[a-f0-9-]{36}",
        request in "[a-f0-9-]{36}",
        logical in "[A-Za-z0-9]{1,255}",
        data in proptest::collection::btree_map("[A-Za-z]{1,20}", any::<String>(), 0..8),
    ) {
        let answer = Answer {
            status: if success { Status::Success } else { Status::Failed },
            reason: reason.clone(),
            physical_resource_id: physical.clone(),
            stack_id: stack.clone(),
            request_id: request.clone(),
            logical_resource_id: logical.clone(),
            data: data.clone(),
        };
        let bare = Answer { reason: None, data: BTreeMap::new(), ..answer.clone() }.to_body().len();
        let body = answer.to_body();
        prop_assert!(body.len() <= MAX_BODY || bare > MAX_BODY, "{} bytes, {bare} possible", body.len());
        let v: Value = serde_json::from_slice(&body).expect("the body is JSON");
        prop_assert_eq!(&v["PhysicalResourceId"], &json!(physical));
        prop_assert_eq!(&v["StackId"], &json!(stack));
        prop_assert_eq!(&v["RequestId"], &json!(request));
        prop_assert_eq!(&v["LogicalResourceId"], &json!(logical));
        let sent_data: BTreeMap<String, String> = serde_json::from_value(v["Data"].clone()).unwrap_or_default();
        let kept = |sent: &str| sent.strip_suffix(" [truncated]").unwrap_or(sent).to_owned();
        if v["Status"] == "SUCCESS" {
            prop_assert!(success);
            prop_assert_eq!(&sent_data, &data);
        } else if success {
            // Turned FAILED only because the data could not fit; the reason says so (as far as it fits).
            prop_assert!(sent_data.is_empty());
            if let Some(sent) = v["Reason"].as_str() {
                prop_assert!("response data exceeds CloudFormation's 4096-byte limit".starts_with(&kept(sent)), "{sent}");
            }
        } else if let (Some(sent), Some(original)) = (v["Reason"].as_str(), &reason) {
            prop_assert!(original.starts_with(&kept(sent)), "the cut reason is not a prefix of the original");
        }
    }
}
