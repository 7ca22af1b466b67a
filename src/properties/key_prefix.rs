//! `KeyPrefix`: the part of the bucket the role may touch; it can never widen the grant.

use std::str::FromStr;

/// A key prefix inside the bucket; empty means the whole bucket.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct KeyPrefix(String);

text_newtype!(KeyPrefix);

impl FromStr for KeyPrefix {
    type Err = String;

    fn from_str(p: &str) -> Result<Self, String> {
        if p.len() > 1024 {
            return Err(format!("must be at most 1024 bytes, got {}", p.len()));
        }
        if p.contains(['*', '?']) {
            return Err(format!("{p:?} contains a wildcard, which would widen the grant"));
        }
        if p.starts_with('/') {
            return Err("must not start with '/' (S3 keys have no leading slash)".into());
        }
        if p.chars().any(|c| c.is_control()) {
            return Err("must not contain control characters".into());
        }
        if p.contains("${") {
            return Err("must not contain '${' (it would be read as an IAM policy variable)".into());
        }
        Ok(KeyPrefix(p.to_owned()))
    }
}

#[cfg(test)]
mod tests {
    use crate::properties::test_support::*;
    use serde_json::json;

    #[test]
    fn key_prefix_has_no_wildcards_no_leading_slash_and_fits_1024() {
        rejects("KeyPrefix", json!("logs/*"));
        rejects("KeyPrefix", json!("/logs/"));
        rejects("KeyPrefix", json!("a".repeat(1025)));
        rejects("KeyPrefix", json!("${aws:username}/"));
        assert_eq!(accepts("KeyPrefix", json!("logzio/")).key_prefix.as_str(), "logzio/");
    }
}
