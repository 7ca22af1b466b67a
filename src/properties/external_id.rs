//! `ExternalId`: the secret Logz.io presents when it assumes the role; it never reaches a log or a Reason.

use std::fmt;
use std::str::FromStr;

/// The `sts:ExternalId` Logz.io presents. Its `Debug` never shows the value: it must not reach a log.
#[derive(Clone, PartialEq, Eq)]
pub struct ExternalId(String);

impl fmt::Debug for ExternalId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("ExternalId(<redacted>)")
    }
}

impl ExternalId {
    /// The secret itself, for the trust policy only.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl FromStr for ExternalId {
    type Err = String;

    fn from_str(x: &str) -> Result<Self, String> {
        let n = x.chars().count();
        if !(2..=1224).contains(&n) {
            return Err(format!("must be 2 to 1224 characters, got {n}"));
        }
        // The value is a secret: name the rule, never the value or the offending character's position in it.
        if !x.chars().all(|c| c.is_ascii_alphanumeric() || "+=,.@:/_-".contains(c)) {
            return Err("may contain only letters, digits and +=,.@:/_- (sts:ExternalId rules)".into());
        }
        Ok(ExternalId(x.to_owned()))
    }
}

#[cfg(test)]
mod tests {
    use crate::properties::test_support::*;
    use serde_json::json;

    #[test]
    fn external_id_is_required() {
        let mut p = base();
        p.as_object_mut().expect("object").remove("ExternalId");
        assert!(errors(p).names("ExternalId"));
    }

    #[test]
    fn external_id_length_is_2_to_1224() {
        rejects("ExternalId", json!("a"));
        rejects("ExternalId", json!("a".repeat(1225)));
        accepts("ExternalId", json!("a".repeat(1224)));
    }

    #[test]
    fn external_id_charset_and_the_value_never_appears_in_the_reason() {
        let msg = rejects("ExternalId", json!("secret value!"));
        assert!(!msg.contains("secret"), "{msg}");
        accepts("ExternalId", json!("A+b=c,d.e@f:g/h_i-j"));
    }

    #[test]
    fn external_id_debug_is_redacted() {
        let s = parse(&base()).expect("valid");
        assert!(!format!("{s:?}").contains("abc123"));
    }
}
