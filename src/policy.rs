//! The two policy documents of an archive role, as pure functions of validated properties.
//!
//! The trust policy lets Logz.io's account assume the role when it presents the external id; the permissions
//! policy grants exactly what Logz.io's archiver needs on one bucket (or one key prefix of it), in the stack's
//! own account, and the KMS key only through S3 for that bucket. ARNs use three colons (`arn:aws:s3:::bucket`):
//! the two-colon form in Logz.io's console guide matches nothing. No I/O here.

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

/// The permissions policy: exactly what Logz.io's current documentation asks for archive and restore
/// (docs/contract.md, "What the role grants"): list and locate this bucket (`s3:ListBucket`, restore;
/// `s3:GetBucketLocation`, both), write objects under the prefix (`s3:PutObject`, archive) and read them
/// (`s3:GetObject`, restore); with an SSE-KMS key, encrypt and decrypt with that key only. Nothing deletes an
/// object, and nothing lists the account's other buckets.
///
/// The bucket and object statements hold only for a bucket owned by `account_id` (the stack's account): S3
/// bucket names are global, so a bucket of that name in another account (deleted here and re-created there, or
/// never ours) is out of reach. The key may be used only by S3 (`kms:ViaService`) and only for this bucket and
/// prefix (the `aws:s3:arn` encryption context S3 sends: the object's ARN, or the bucket's with S3 Bucket Keys).
pub fn permissions_policy(
    partition: &str,
    account_id: &str,
    bucket: &BucketName,
    prefix: &KeyPrefix,
    kms_key: Option<&Arn>,
) -> Value {
    let bucket_arn = format!("arn:{partition}:s3:::{bucket}");
    let objects_arn = format!("{bucket_arn}/{prefix}*");
    let in_account = json!({"StringEquals": {"aws:ResourceAccount": account_id}});
    let mut statements = vec![
        json!({
            "Sid": "Bucket",
            "Effect": "Allow",
            "Action": ["s3:ListBucket", "s3:GetBucketLocation"],
            "Resource": bucket_arn,
            "Condition": in_account
        }),
        json!({
            "Sid": "Objects",
            "Effect": "Allow",
            "Action": ["s3:GetObject", "s3:PutObject"],
            "Resource": objects_arn,
            "Condition": in_account
        }),
    ];
    if let Some(key) = kms_key {
        statements.push(json!({
            "Sid": "Kms",
            "Effect": "Allow",
            "Action": ["kms:GenerateDataKey", "kms:Decrypt"],
            "Resource": key.as_str(),
            "Condition": {"StringLike": {
                "kms:ViaService": format!("s3.*.{}", dns_suffix(partition)),
                "kms:EncryptionContext:aws:s3:arn": [bucket_arn, objects_arn]
            }}
        }));
    }
    json!({"Version": "2012-10-17", "Statement": statements})
}

/// The DNS suffix of service endpoints in `partition`, as `kms:ViaService` names them (`s3.<region>.<suffix>`).
fn dns_suffix(partition: &str) -> &'static str {
    match partition {
        "aws-cn" => "amazonaws.com.cn",
        _ => "amazonaws.com",
    }
}

/// The external IDs a trust policy requires of `account` (a 12-digit AWS account): read only from the statements
/// that Allow `sts:AssumeRole` to that account (its `root` ARN in any partition, or the bare id), under
/// `StringEquals` `sts:ExternalId`. Statements for other principals, Denies and other actions are not read:
/// an ID that another principal must present says nothing about what Logz.io presents.
pub fn external_ids_trusted_for(trust: &Value, account: &str) -> Vec<String> {
    let listed = |v: &Value| -> Vec<String> {
        match v {
            Value::String(x) => vec![x.clone()],
            Value::Array(xs) => xs.iter().filter_map(Value::as_str).map(str::to_owned).collect(),
            _ => Vec::new(),
        }
    };
    let statements = match &trust["Statement"] {
        Value::Array(s) => s.iter().collect(),
        one @ Value::Object(_) => vec![one],
        _ => Vec::new(),
    };
    let names_account = |p: &str| {
        p == account || matches!(p.split(':').collect::<Vec<_>>()[..], ["arn", _, "iam", "", a, "root"] if a == account)
    };
    let mut ids = Vec::new();
    for st in statements {
        let allows = st["Effect"] == "Allow";
        let assumes = listed(&st["Action"])
            .iter()
            .any(|a| a.eq_ignore_ascii_case("sts:AssumeRole") || a == "sts:*" || a == "*");
        let for_account = listed(&st["Principal"]["AWS"]).iter().any(|p| names_account(p));
        if allows && assumes && for_account {
            ids.extend(listed(&st["Condition"]["StringEquals"]["sts:ExternalId"]));
        }
    }
    ids
}

/// The size IAM counts against [`INLINE_POLICY_LIMIT`]: the document's characters, whitespace excluded.
pub fn policy_size(doc: &Value) -> usize {
    doc.to_string().chars().filter(|c| !c.is_whitespace()).count()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::limits::{Limits, TRUSTED_ACCOUNTS_VAR};
    use crate::properties::RoleSpec;

    fn spec(extra: Value) -> RoleSpec {
        let mut p = json!({"BucketName": "my-archive", "ExternalId": "logzio:aws:extid:abc123"});
        for (k, v) in extra.as_object().expect("object") {
            p[k] = v.clone();
        }
        let trusting = |v: &str| (v == TRUSTED_ACCOUNTS_VAR).then(|| "406095609952,123456789012".to_owned());
        RoleSpec::parse(&p, "aws", &Limits::from_vars(trusting).expect("limits")).expect("valid")
    }

    #[test]
    fn the_external_ids_of_a_trust_are_those_required_of_the_named_account_only() {
        let trust = json!({"Statement": [
            {"Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::406095609952:root"}, "Action": "sts:AssumeRole",
             "Condition": {"StringEquals": {"sts:ExternalId": "logzio-id"}}},
            {"Effect": "Allow", "Principal": {"AWS": ["111111111111"]}, "Action": ["sts:AssumeRole"],
             "Condition": {"StringEquals": {"sts:ExternalId": ["someone-elses"]}}},
            {"Effect": "Deny", "Principal": {"AWS": "406095609952"}, "Action": "sts:AssumeRole",
             "Condition": {"StringEquals": {"sts:ExternalId": "denied"}}},
            {"Effect": "Allow", "Principal": {"AWS": "406095609952"}, "Action": "sts:TagSession",
             "Condition": {"StringEquals": {"sts:ExternalId": "not-for-assume"}}}
        ]});
        assert_eq!(
            external_ids_trusted_for(&trust, "406095609952"),
            vec!["logzio-id".to_owned()]
        );
        assert_eq!(
            external_ids_trusted_for(&trust, "111111111111"),
            vec!["someone-elses".to_owned()]
        );
        assert!(external_ids_trusted_for(&trust, "222222222222").is_empty());
        // One statement (not a list), in another partition.
        let one = json!({"Statement": {"Effect": "Allow", "Principal": {"AWS": "arn:aws-cn:iam::406095609952:root"},
            "Action": "sts:AssumeRole", "Condition": {"StringEquals": {"sts:ExternalId": "cn"}}}});
        assert_eq!(external_ids_trusted_for(&one, "406095609952"), vec!["cn".to_owned()]);
        // What trust_policy writes is read back.
        let s = spec(json!({}));
        let t = s.given_trust().expect("given");
        let written = trust_policy("aws", &t.account, &t.external_id);
        assert_eq!(
            external_ids_trusted_for(&written, t.account.as_str()),
            vec![t.external_id.expose().to_owned()]
        );
    }

    #[test]
    fn trust_policy_golden() {
        let s = spec(json!({}));
        let t = s.given_trust().expect("given");
        let doc = trust_policy("aws", &t.account, &t.external_id);
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
        let t = s.given_trust().expect("given");
        let doc = trust_policy("aws-cn", &t.account, &t.external_id);
        assert_eq!(
            doc["Statement"][0]["Principal"]["AWS"],
            "arn:aws-cn:iam::123456789012:root"
        );
    }

    #[test]
    fn permissions_policy_golden_whole_bucket() {
        let s = spec(json!({}));
        let doc = permissions_policy("aws", "123456789012", &s.bucket, &s.key_prefix, None);
        let golden: Value = serde_json::from_str(
            r#"{"Version":"2012-10-17","Statement":[
                {"Sid":"Bucket","Effect":"Allow","Action":["s3:ListBucket","s3:GetBucketLocation"],
                 "Resource":"arn:aws:s3:::my-archive",
                 "Condition":{"StringEquals":{"aws:ResourceAccount":"123456789012"}}},
                {"Sid":"Objects","Effect":"Allow","Action":["s3:GetObject","s3:PutObject"],
                 "Resource":"arn:aws:s3:::my-archive/*",
                 "Condition":{"StringEquals":{"aws:ResourceAccount":"123456789012"}}}]}"#,
        )
        .expect("golden json");
        assert_eq!(doc, golden);
    }

    #[test]
    fn permissions_policy_golden_prefix_and_kms() {
        let key = "arn:aws:kms:eu-west-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab";
        let s = spec(json!({"KeyPrefix": "logzio/", "KmsKeyArn": key}));
        let doc = permissions_policy("aws", "123456789012", &s.bucket, &s.key_prefix, s.kms_key_arn.as_ref());
        assert_eq!(doc["Statement"][1]["Resource"], "arn:aws:s3:::my-archive/logzio/*");
        assert_eq!(
            doc["Statement"][2],
            json!({"Sid":"Kms","Effect":"Allow","Action":["kms:GenerateDataKey","kms:Decrypt"],"Resource":key,
                   "Condition":{"StringLike":{
                       "kms:ViaService":"s3.*.amazonaws.com",
                       "kms:EncryptionContext:aws:s3:arn":["arn:aws:s3:::my-archive","arn:aws:s3:::my-archive/logzio/*"]}}})
        );
        assert_eq!(doc["Statement"].as_array().map(Vec::len), Some(3));
    }

    #[test]
    fn s3_statements_hold_only_for_a_bucket_in_the_given_account() {
        let s = spec(json!({"KmsKeyArn": "arn:aws:kms:eu-west-1:123456789012:key/k"}));
        let doc = permissions_policy("aws", "210987654321", &s.bucket, &s.key_prefix, s.kms_key_arn.as_ref());
        for i in [0, 1] {
            assert_eq!(
                doc["Statement"][i]["Condition"],
                json!({"StringEquals": {"aws:ResourceAccount": "210987654321"}})
            );
        }
        // The key (bound to S3 and this bucket instead) carries no account condition.
        assert!(doc["Statement"][2]["Condition"].get("StringEquals").is_none());
    }

    #[test]
    fn kms_is_through_s3_of_the_stacks_partition() {
        let s = spec(json!({}));
        let key = Arn::kms_key("arn:aws-cn:kms:cn-north-1:123456789012:key/k", "aws-cn").expect("key");
        let doc = permissions_policy("aws-cn", "123456789012", &s.bucket, &s.key_prefix, Some(&key));
        let condition = &doc["Statement"][2]["Condition"]["StringLike"];
        assert_eq!(condition["kms:ViaService"], "s3.*.amazonaws.com.cn");
        assert_eq!(
            condition["kms:EncryptionContext:aws:s3:arn"],
            json!(["arn:aws-cn:s3:::my-archive", "arn:aws-cn:s3:::my-archive/*"])
        );
    }

    #[test]
    fn the_largest_valid_policy_fits_iams_limit() {
        // Every field at its longest, in characters JSON escapes to two (the size IAM counts is the escaped text).
        let key = "arn:aws-us-gov:kms:us-gov-west-1:123456789012:key/".to_owned();
        let key = format!("{key}{}", "\"".repeat(2048 - key.len()));
        let p = json!({"BucketName": "b".repeat(63), "ExternalId": "logzio:aws:extid:abc123",
                       "KeyPrefix": "\"".repeat(1024), "KmsKeyArn": key});
        let s = RoleSpec::parse(&p, "aws-us-gov", &Limits::default()).expect("valid");
        let size = policy_size(&permissions_policy(
            "aws-us-gov",
            "123456789012",
            &s.bucket,
            &s.key_prefix,
            s.kms_key_arn.as_ref(),
        ));
        assert!(size <= INLINE_POLICY_LIMIT, "{size}");
        assert!(size > 9_000, "{size}: not the worst case any more?");
    }

    #[test]
    fn s3_arns_have_three_colons_not_the_guides_two() {
        let s = spec(json!({}));
        let text = permissions_policy("aws", "123456789012", &s.bucket, &s.key_prefix, None).to_string();
        assert!(text.contains("arn:aws:s3:::my-archive"));
        assert!(!text.contains("arn:aws:s3::my-archive"));
    }

    #[test]
    fn policy_size_ignores_whitespace() {
        assert_eq!(policy_size(&json!({"a": "b c"})), r#"{"a":"bc"}"#.len());
    }
}
