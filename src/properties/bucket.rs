//! `BucketName`: an S3 bucket name that follows S3's naming rules, so it can never widen an ARN.

use std::str::FromStr;

/// An S3 bucket name that follows S3's naming rules, so it can never widen an ARN (`*`, `?`, `/`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BucketName(String);

text_newtype!(BucketName);

impl FromStr for BucketName {
    type Err = String;

    fn from_str(b: &str) -> Result<Self, String> {
        if b.contains(['*', '?', '/']) {
            return Err(format!(
                "{b:?} contains a wildcard or '/', which would widen the grant beyond one bucket"
            ));
        }
        if !(3..=63).contains(&b.len()) {
            return Err(format!(
                "must be 3 to 63 characters (S3 naming rules), got {}",
                b.chars().count()
            ));
        }
        if let Some(c) = b
            .chars()
            .find(|c| !(c.is_ascii_lowercase() || c.is_ascii_digit() || *c == '.' || *c == '-'))
        {
            return Err(format!(
                "{c:?} is not allowed: only lowercase letters, digits, dots and hyphens (S3 naming rules)"
            ));
        }
        let alnum = |c: Option<char>| c.is_some_and(|c| c.is_ascii_lowercase() || c.is_ascii_digit());
        if !alnum(b.chars().next()) || !alnum(b.chars().last()) {
            return Err("must start and end with a lowercase letter or digit (S3 naming rules)".into());
        }
        if b.contains("..") {
            return Err("must not contain two adjacent dots (S3 naming rules)".into());
        }
        if b.split('.').count() == 4
            && b.split('.')
                .all(|p| !p.is_empty() && p.chars().all(|c| c.is_ascii_digit()))
        {
            return Err("must not be formatted as an IP address (S3 naming rules)".into());
        }
        for p in ["xn--", "sthree-", "amzn-s3-demo-"] {
            if b.starts_with(p) {
                return Err(format!(
                    "must not start with the reserved prefix {p:?} (S3 naming rules)"
                ));
            }
        }
        for s in ["-s3alias", "--ol-s3", ".mrap", "--x-s3", "--table-s3"] {
            if b.ends_with(s) {
                return Err(format!("must not end with the reserved suffix {s:?} (S3 naming rules)"));
            }
        }
        Ok(BucketName(b.to_owned()))
    }
}

#[cfg(test)]
mod tests {
    use crate::limits::ALLOWED_BUCKETS_VAR;
    use crate::properties::test_support::*;
    use serde_json::json;

    #[test]
    fn bucket_name_must_be_one_the_deployment_allows() {
        let l = limits(&[(ALLOWED_BUCKETS_VAR, "acme-*")]);
        let e = parse_with(&with("BucketName", json!("other-logs")), &l).expect_err("not allowed");
        assert_eq!(
            e.to_string(),
            "invalid properties (1 error): BucketName: \"other-logs\" is not among the buckets this deployment \
             allows (acme-*; template parameter AllowedBucketNames)"
        );
        // The S3 naming rules come first: a name they refuse is not compared with the patterns.
        let e = parse_with(&with("BucketName", json!("acme-*")), &l).expect_err("wildcard");
        assert!(e.to_string().contains("widen"), "{e}");
        let s = parse_with(&with("BucketName", json!("acme-logs")), &l).expect("allowed");
        assert_eq!(s.bucket.as_str(), "acme-logs");
    }

    #[test]
    fn bucket_name_is_required() {
        let mut p = base();
        p.as_object_mut().expect("object").remove("BucketName");
        assert_eq!(
            errors(p).to_string(),
            "invalid properties (1 error): BucketName: is required"
        );
    }

    #[test]
    fn bucket_name_rejects_wildcards_and_slashes() {
        for b in ["my-*", "my-?bucket", "my-bucket/logs", "*"] {
            assert!(rejects("BucketName", json!(b)).contains("widen"), "{b}");
        }
    }

    #[test]
    fn bucket_name_length_is_3_to_63() {
        rejects("BucketName", json!("ab"));
        rejects("BucketName", json!("a".repeat(64)));
        accepts("BucketName", json!("abc"));
        accepts("BucketName", json!("a".repeat(63)));
    }

    #[test]
    fn bucket_name_allows_only_lowercase_digits_dots_hyphens() {
        rejects("BucketName", json!("My-Bucket"));
        rejects("BucketName", json!("my_bucket"));
        rejects("BucketName", json!("my bucket"));
        accepts("BucketName", json!("logs.2024-archive"));
    }

    #[test]
    fn bucket_name_starts_and_ends_alphanumeric() {
        rejects("BucketName", json!("-bucket"));
        rejects("BucketName", json!("bucket."));
    }

    #[test]
    fn bucket_name_has_no_adjacent_dots() {
        rejects("BucketName", json!("my..bucket"));
    }

    #[test]
    fn bucket_name_is_not_an_ip_address() {
        rejects("BucketName", json!("192.168.5.4"));
        accepts("BucketName", json!("192.168.5.4a"));
    }

    #[test]
    fn bucket_name_has_no_reserved_prefix_or_suffix() {
        rejects("BucketName", json!("xn--bucket"));
        rejects("BucketName", json!("sthree-bucket"));
        rejects("BucketName", json!("bucket-s3alias"));
        rejects("BucketName", json!("bucket--ol-s3"));
    }
}
