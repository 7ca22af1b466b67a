//! The two policy documents of an archive role, as pure functions of validated properties.
//!
//! The trust policy lets Logz.io's account assume the role when it presents the external id; the permissions
//! policy grants exactly what Logz.io's archiver needs on one bucket (or one key prefix of it). ARNs use three
//! colons (`arn:aws:s3:::bucket`): the two-colon form in Logz.io's console guide matches nothing. No I/O here.

use crate::properties::{AccountId, Arn, BucketName, ExternalId, KeyPrefix};
use serde_json::{Value, json};

/// IAM's limit on the inline policies of one role, in characters without whitespace.
pub const INLINE_POLICY_LIMIT: usize = 10_240;

/// The trust policy: Logz.io's account may assume the role only with the external id.
pub fn trust_policy(partition: &str, logzio_account: &AccountId, external_id: &ExternalId) -> Value {
    json!({
        "Version": "2012-10-17",
        "Statement": [{
            "Effect": "Allow",
            "Principal": {"AWS": format!("arn:{partition}:iam::{logzio_account}:root")},
            "Action": "sts:AssumeRole",
            "Condition": {"StringEquals": {"sts:ExternalId": external_id.expose()}}
        }]
    })
}

/// The permissions policy: list the account's buckets, list and locate this bucket, read/write/delete objects
/// under the prefix, and with an SSE-KMS key, encrypt and decrypt with that key only.
pub fn permissions_policy(partition: &str, bucket: &BucketName, prefix: &KeyPrefix, kms_key: Option<&Arn>) -> Value {
    let mut statements = vec![
        json!({"Effect": "Allow", "Action": "s3:ListAllMyBuckets", "Resource": "*"}),
        json!({
            "Effect": "Allow",
            "Action": ["s3:ListBucket", "s3:GetBucketLocation"],
            "Resource": format!("arn:{partition}:s3:::{bucket}")
        }),
        json!({
            "Effect": "Allow",
            "Action": ["s3:GetObject", "s3:PutObject", "s3:DeleteObject"],
            "Resource": format!("arn:{partition}:s3:::{bucket}/{prefix}*")
        }),
    ];
    if let Some(key) = kms_key {
        statements.push(json!({
            "Effect": "Allow",
            "Action": ["kms:GenerateDataKey", "kms:Decrypt"],
            "Resource": key.as_str()
        }));
    }
    json!({"Version": "2012-10-17", "Statement": statements})
}

/// The size IAM counts against [`INLINE_POLICY_LIMIT`]: the document's characters, whitespace excluded.
pub fn policy_size(doc: &Value) -> usize {
    doc.to_string().chars().filter(|c| !c.is_whitespace()).count()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::limits::{Limits, TRUSTED_ACCOUNTS_VAR};
    use crate::properties::ArchiveRoleSpec;

    fn spec(extra: Value) -> ArchiveRoleSpec {
        let mut p = json!({"BucketName": "my-archive", "ExternalId": "logzio:aws:extid:abc123"});
        for (k, v) in extra.as_object().expect("object") {
            p[k] = v.clone();
        }
        let trusting = |v: &str| (v == TRUSTED_ACCOUNTS_VAR).then(|| "406095609952,123456789012".to_owned());
        ArchiveRoleSpec::parse(&p, "aws", &Limits::from_vars(trusting).expect("limits")).expect("valid")
    }

    #[test]
    fn trust_policy_golden() {
        let s = spec(json!({}));
        let doc = trust_policy("aws", &s.logzio_account_id, &s.external_id);
        let golden: Value = serde_json::from_str(
            r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow",
                "Principal":{"AWS":"arn:aws:iam::406095609952:root"},"Action":"sts:AssumeRole",
                "Condition":{"StringEquals":{"sts:ExternalId":"logzio:aws:extid:abc123"}}}]}"#,
        )
        .expect("golden json");
        assert_eq!(doc, golden);
    }

    #[test]
    fn trust_policy_uses_the_partition_and_account() {
        let s = spec(json!({"LogzioAccountId": "123456789012"}));
        let doc = trust_policy("aws-cn", &s.logzio_account_id, &s.external_id);
        assert_eq!(
            doc["Statement"][0]["Principal"]["AWS"],
            "arn:aws-cn:iam::123456789012:root"
        );
    }

    #[test]
    fn permissions_policy_golden_whole_bucket() {
        let s = spec(json!({}));
        let doc = permissions_policy("aws", &s.bucket, &s.key_prefix, None);
        let golden: Value = serde_json::from_str(
            r#"{"Version":"2012-10-17","Statement":[
                {"Effect":"Allow","Action":"s3:ListAllMyBuckets","Resource":"*"},
                {"Effect":"Allow","Action":["s3:ListBucket","s3:GetBucketLocation"],"Resource":"arn:aws:s3:::my-archive"},
                {"Effect":"Allow","Action":["s3:GetObject","s3:PutObject","s3:DeleteObject"],"Resource":"arn:aws:s3:::my-archive/*"}]}"#,
        )
        .expect("golden json");
        assert_eq!(doc, golden);
    }

    #[test]
    fn permissions_policy_golden_prefix_and_kms() {
        let key = "arn:aws:kms:eu-west-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab";
        let s = spec(json!({"KeyPrefix": "logzio/", "KmsKeyArn": key}));
        let doc = permissions_policy("aws", &s.bucket, &s.key_prefix, s.kms_key_arn.as_ref());
        assert_eq!(doc["Statement"][2]["Resource"], "arn:aws:s3:::my-archive/logzio/*");
        assert_eq!(
            doc["Statement"][3],
            json!({"Effect":"Allow","Action":["kms:GenerateDataKey","kms:Decrypt"],"Resource":key})
        );
        assert_eq!(doc["Statement"].as_array().map(Vec::len), Some(4));
    }

    #[test]
    fn s3_arns_have_three_colons_not_the_guides_two() {
        let s = spec(json!({}));
        let text = permissions_policy("aws", &s.bucket, &s.key_prefix, None).to_string();
        assert!(text.contains("arn:aws:s3:::my-archive"));
        assert!(!text.contains("arn:aws:s3::my-archive"));
    }

    #[test]
    fn policy_size_ignores_whitespace() {
        assert_eq!(policy_size(&json!({"a": "b c"})), r#"{"a":"bc"}"#.len());
    }
}
