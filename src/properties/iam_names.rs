//! `RoleName` and `PolicyName`: names IAM accepts, from its one character set for names.

use std::str::FromStr;

/// An IAM role name: 1–64 of `[A-Za-z0-9+=,.@_-]`.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct RoleName(String);

/// An inline policy name: 1–128 of `[A-Za-z0-9+=,.@_-]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PolicyName(String);

text_newtype!(RoleName, PolicyName);

/// The first character outside IAM's name set `[A-Za-z0-9+=,.@_-]`.
fn bad_name_char(s: &str) -> Option<char> {
    s.chars()
        .find(|c| !(c.is_ascii_alphanumeric() || "+=,.@_-".contains(*c)))
}

/// IAM's name rule: 1 to `max` characters of its name set; `what` names the kind in the message.
fn iam_name(s: &str, max: usize, what: &str) -> Result<String, String> {
    if s.is_empty() || s.len() > max {
        return Err(format!("must be 1 to {max} characters, got {}", s.chars().count()));
    }
    if let Some(c) = bad_name_char(s) {
        return Err(format!(
            "{c:?} is not allowed: only letters, digits and +=,.@_- (IAM {what} name rules)"
        ));
    }
    Ok(s.to_owned())
}

impl FromStr for RoleName {
    type Err = String;

    fn from_str(r: &str) -> Result<Self, String> {
        iam_name(r, 64, "role").map(RoleName)
    }
}

impl RoleName {
    /// Parses a role name (for ids that come back from CloudFormation).
    pub fn parse(s: &str) -> Option<RoleName> {
        s.parse().ok()
    }
}

impl FromStr for PolicyName {
    type Err = String;

    fn from_str(p: &str) -> Result<Self, String> {
        iam_name(p, 128, "policy").map(PolicyName)
    }
}

impl Default for PolicyName {
    /// [`DEFAULT_POLICY_NAME`](super::DEFAULT_POLICY_NAME).
    fn default() -> Self {
        PolicyName(super::DEFAULT_POLICY_NAME.to_owned())
    }
}

#[cfg(test)]
mod tests {
    use crate::properties::test_support::*;
    use serde_json::json;

    #[test]
    fn role_name_is_1_to_64_of_the_iam_charset() {
        rejects("RoleName", json!(""));
        rejects("RoleName", json!("r".repeat(65)));
        rejects("RoleName", json!("my role"));
        rejects("RoleName", json!("my/role"));
        accepts("RoleName", json!("Logzio+=,.@_-Role"));
        accepts("RoleName", json!("r".repeat(64)));
    }

    #[test]
    fn policy_name_is_1_to_128_of_the_iam_charset() {
        rejects("PolicyName", json!(""));
        rejects("PolicyName", json!("p".repeat(129)));
        rejects("PolicyName", json!("bad name"));
        accepts("PolicyName", json!("Archive"));
    }
}
