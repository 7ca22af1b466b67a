//! `Arn`: an ARN of one kind of resource (a KMS key, an IAM managed policy), whole and without wildcards.

use super::account::is_account_id;

/// An ARN of one kind of resource: a KMS key (`KmsKeyArn`) or an IAM managed policy (the deployment's boundary).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Arn(String);

text_newtype!(Arn);

impl Arn {
    /// A KMS key ARN (`arn:<partition>:kms:<region>:<account>:key/<key-id>`) in `partition`.
    pub fn kms_key(a: &str, partition: &str) -> Result<Arn, String> {
        parse(a, Some(partition), "kms", "key/")
    }

    /// An IAM managed policy ARN (`arn:<partition>:iam::<account>:policy/<name>`) in any partition.
    pub fn iam_policy(a: &str) -> Result<Arn, String> {
        parse(a, None, "iam", "policy/")
    }

    /// An IAM role ARN (`arn:<partition>:iam::<account>:role/<path/><name>`) in `partition`.
    pub fn iam_role(a: &str, partition: &str) -> Result<Arn, String> {
        parse(a, Some(partition), "iam", "role/")
    }

    /// A Secrets Manager secret ARN (`arn:<partition>:secretsmanager:<region>:<account>:secret:<name>`) in
    /// `partition`.
    pub fn secret(a: &str, partition: &str) -> Result<Arn, String> {
        parse(a, Some(partition), "secretsmanager", "secret:")
    }

    /// The account field (12 digits, checked by the parse).
    pub fn account(&self) -> &str {
        self.0.split(':').nth(4).unwrap_or_default()
    }

    /// The last segment of the resource: a role's name.
    pub fn resource_name(&self) -> &str {
        self.0.rsplit(['/', ':']).next().unwrap_or_default()
    }
}

/// Parses an ARN of `service` whose resource starts with `resource_prefix`, in `partition` if given (else in any
/// partition that looks like one).
fn parse(a: &str, partition: Option<&str>, service: &str, resource_prefix: &str) -> Result<Arn, String> {
    let shown = partition.unwrap_or("<partition>");
    let example = match (service, resource_prefix) {
        ("kms", _) => format!("arn:{shown}:kms:<region>:<account>:key/<key-id>"),
        ("secretsmanager", _) => format!("arn:{shown}:secretsmanager:<region>:<account>:secret:<name>"),
        (_, "role/") => format!("arn:{shown}:iam::<account>:role/<name>"),
        _ => format!("arn:{shown}:iam::<account>:policy/<name>"),
    };
    let article = if service.starts_with(['a', 'e', 'i', 'o', 'u']) {
        "an"
    } else {
        "a"
    };
    // A secret's ARN is never echoed: a token pasted in its place would land in the Reason and the log line.
    let shown_value = if service == "secretsmanager" {
        "the value".to_owned()
    } else {
        format!("{a:?}")
    };
    let bad = || {
        Err(format!(
            "{shown_value} is not {article} {service} ARN of the form {example}"
        ))
    };
    let Some(parts) = crate::arn::parts(a).filter(|p| p.service == service) else {
        return bad();
    };
    let name_like = |x: &str| {
        x.chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
    };
    match partition {
        Some(p) if parts.partition != p => {
            return Err(format!(
                "{shown_value} is in partition {:?}, but the stack is in {p:?}",
                parts.partition
            ));
        }
        None if !name_like(parts.partition) => return bad(),
        _ => {}
    }
    // A region name (`us-east-1`), not any text: control characters there would be escaped six-fold in the
    // policy document and push it past IAM's size limit under the wrong property's name.
    let region_ok = if service != "iam" {
        !parts.region.is_empty() && name_like(parts.region)
    } else {
        parts.region.is_empty()
    };
    if !region_ok || !is_account_id(parts.account) || !parts.resource.starts_with(resource_prefix) {
        return bad();
    }
    let rest = &parts.resource[resource_prefix.len()..];
    if rest.is_empty() || rest.contains(['*', '?']) || rest.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return bad();
    }
    if a.len() > 2048 {
        return Err("must be at most 2048 characters".into());
    }
    Ok(Arn(a.to_owned()))
}

#[cfg(test)]
mod tests {
    use super::Arn;
    use crate::properties::test_support::*;
    use serde_json::json;

    #[test]
    fn kms_key_arn_region_is_a_region_name() {
        rejects("KmsKeyArn", json!("arn:aws:kms:us east 1:123456789012:key/k"));
        rejects("KmsKeyArn", json!("arn:aws:kms:\u{1}\u{1}:123456789012:key/k"));
        rejects("KmsKeyArn", json!("arn:aws:kms:US-EAST-1:123456789012:key/k"));
        accepts("KmsKeyArn", json!("arn:aws:kms:us-gov-west-1:123456789012:key/k"));
    }

    #[test]
    fn an_iam_policy_arn_in_any_partition_needs_a_partition_that_looks_like_one() {
        for a in [
            "arn:aws:iam::123456789012:policy/b",
            "arn:aws-us-gov:iam::123456789012:policy/path/b",
        ] {
            assert_eq!(Arn::iam_policy(a).map(|p| p.to_string()), Ok(a.to_owned()));
        }
        for a in ["arn::iam::123456789012:policy/b", "arn:AWS:iam::123456789012:policy/b"] {
            assert!(Arn::iam_policy(a).is_err(), "{a}");
        }
    }

    #[test]
    fn role_and_secret_arns_name_their_parts() {
        let role = Arn::iam_role("arn:aws:iam::123456789012:role/logzio/archive-role", "aws").expect("role");
        assert_eq!((role.account(), role.resource_name()), ("123456789012", "archive-role"));
        assert!(Arn::iam_role("arn:aws:iam::123456789012:policy/p", "aws").is_err());
        assert!(Arn::iam_role("arn:aws:iam::123456789012:role/*", "aws").is_err());
        let secret = "arn:aws:secretsmanager:us-east-1:123456789012:secret:logzio/api-token-AbCdEf";
        assert_eq!(
            Arn::secret(secret, "aws").map(|s| s.account().to_owned()),
            Ok("123456789012".into())
        );
        let msg = Arn::secret("arn:aws:secretsmanager::123456789012:secret:x", "aws").expect_err("no region");
        assert!(
            msg.contains("arn:aws:secretsmanager:<region>:<account>:secret:<name>"),
            "{msg}"
        );
        assert!(
            Arn::secret(secret, "aws-cn")
                .expect_err("partition")
                .contains("partition")
        );
    }

    #[test]
    fn kms_key_arn_must_be_a_kms_key_in_the_stack_partition() {
        rejects("KmsKeyArn", json!("arn:aws:s3:::bucket"));
        rejects("KmsKeyArn", json!("arn:aws:kms:us-east-1:123456789012:alias/x"));
        rejects("KmsKeyArn", json!("arn:aws:kms:us-east-1:123456789012:key/*"));
        let msg = rejects("KmsKeyArn", json!("arn:aws-cn:kms:cn-north-1:123456789012:key/abc"));
        assert!(msg.contains("partition"), "{msg}");
        accepts(
            "KmsKeyArn",
            json!("arn:aws:kms:eu-west-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab"),
        );
    }
}
