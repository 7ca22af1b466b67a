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

impl RolePath {
    /// The path if it is under the deployment's prefix (`LOGZIO_ROLE_PATH_PREFIX`): equal to it or below it.
    pub fn under(self, prefix: &RolePath) -> Result<Self, String> {
        // Both end with '/', so a prefix match is a match of whole segments.
        if self.0.starts_with(&prefix.0) {
            Ok(self)
        } else {
            Err(format!(
                "must be under {prefix} (the deployment's ManagedRolePathPrefix), got {:?}",
                self.0
            ))
        }
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
    use crate::limits::PATH_PREFIX_VAR;
    use crate::properties::test_support::*;
    use serde_json::json;

    #[test]
    fn path_must_be_under_the_deployments_prefix() {
        assert_eq!(
            rejects("Path", json!("/other/")),
            "invalid properties (1 error): Path: must be under /logzio/ (the deployment's ManagedRolePathPrefix), \
             got \"/other/\""
        );
        rejects("Path", json!("/"));
        rejects("Path", json!("/logzioarchive/"));
        assert_eq!(accepts("Path", json!("/logzio/")).path.as_str(), "/logzio/");
        let l = limits(&[(PATH_PREFIX_VAR, "/")]);
        let s = parse_with(&with("Path", json!("/other/")), &l).expect("under /");
        assert_eq!(s.path.as_str(), "/other/");
    }

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
