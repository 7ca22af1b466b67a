//! `RolePath`: an IAM path, where the role lives.

use std::str::FromStr;

/// An IAM path: `/` or `/…/`, at most 512 printable ASCII characters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RolePath(String);

text_newtype!(RolePath);

impl FromStr for RolePath {
    type Err = String;

    fn from_str(p: &str) -> Result<Self, String> {
        if p.len() > 512 {
            return Err(format!("must be at most 512 characters, got {}", p.len()));
        }
        if !p.starts_with('/') || !p.ends_with('/') {
            return Err(format!("{p:?} must be '/' or start and end with '/' (IAM path rules)"));
        }
        if p.contains("//") {
            return Err(format!("{p:?} must not contain an empty segment '//' (IAM path rules)"));
        }
        if !p.chars().all(|c| ('\u{21}'..='\u{7e}').contains(&c)) {
            return Err("may contain only printable ASCII characters without spaces (IAM path rules)".into());
        }
        Ok(RolePath(p.to_owned()))
    }
}

impl Default for RolePath {
    /// `/`, IAM's root path.
    fn default() -> Self {
        RolePath("/".into())
    }
}

#[cfg(test)]
mod tests {
    use crate::properties::test_support::*;
    use serde_json::json;

    #[test]
    fn path_is_slash_delimited_printable_ascii_up_to_512() {
        rejects("Path", json!("logzio"));
        rejects("Path", json!("/logzio"));
        rejects("Path", json!("//"));
        rejects("Path", json!("/log zio/"));
        rejects("Path", json!(format!("/{}/", "a".repeat(511))));
        assert_eq!(
            accepts("Path", json!("/logzio/archive/")).path.as_str(),
            "/logzio/archive/"
        );
    }
}
