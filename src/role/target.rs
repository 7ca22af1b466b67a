//! The resource's pure decisions: which role an event is about, and whether a role is one this invocation made.
//! No I/O: each takes what IAM was read to hold.

use crate::iam::CallLog;
use crate::plan::{ActualRole, Owner, generated_role_name};
use crate::properties::role_name_hint;
use serde_json::Value;

/// The role an Update without `RoleName` is about, given the current role (the physical id) as IAM holds it:
/// the generated name for the `Path` — the current role itself when that is its name, else a replacement (a new
/// `Path`, or `RoleName` removed; and the rollback of an Update that added `RoleName` lands on the generated role
/// again). A current role that is not ours stays the answer, so that the Update fails naming it instead of
/// quietly making another role. With `RoleName` set, the Update is about that name and nothing needs to be read
/// first.
pub fn update_target(current_id: &str, generated: &str, current: Option<&ActualRole>, owner: &Owner) -> String {
    match current {
        Some(a) if !owner.owns(&a.tags) => current_id.to_owned(),
        _ => generated.to_owned(),
    }
}

/// True only when IAM's own facts show that this invocation made `role`: a CreateRole of this invocation
/// returned its RoleId, or IAM created it after the invocation began (a CreateRole whose answer was lost but
/// which took effect). A role that existed before the invocation is never "made" by it. IAM's CreateDate has
/// at most second precision and may be behind: both make a new role look older, so an error here keeps a role
/// (an orphan at worst), never deletes one that existed before.
pub fn made_by(log: &CallLog, role: &ActualRole) -> bool {
    log.created(&role.role_id) || role.created.is_some_and(|c| c >= log.began())
}

/// The role a failed Create may have made, read from the raw properties (they may be invalid): the RoleName if it
/// is a valid one, else the generated name. The answer to a failed Create names it for the rollback Delete.
pub fn failed_create_role_name(properties: &Value, stack_id: &str, logical_id: &str, default_path: &str) -> String {
    role_name_hint(properties).map(|n| n.to_string()).unwrap_or_else(|| {
        let path = properties.get("Path").and_then(Value::as_str).unwrap_or(default_path);
        generated_role_name(stack_id, logical_id, path)
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plan::{LOGICAL_ID_TAG, STACK_TAG};
    use serde_json::json;
    use std::time::{Duration, SystemTime};

    fn owner() -> Owner {
        Owner {
            stack_id: "arn:aws:cloudformation:us-east-1:123456789012:stack/s/1".into(),
            logical_id: "Role".into(),
        }
    }

    fn role(path: &str, ours: bool) -> ActualRole {
        let mut r = ActualRole {
            name: "current".into(),
            path: path.into(),
            role_id: "AROAOLD".into(),
            ..ActualRole::default()
        };
        if ours {
            r.tags.insert(STACK_TAG.into(), owner().stack_id);
            r.tags.insert(LOGICAL_ID_TAG.into(), owner().logical_id);
        }
        r
    }

    #[test]
    fn an_update_without_role_name_is_about_the_generated_role_for_its_path() {
        let current = role("/logzio/", true);
        assert_eq!(
            update_target("gen", "gen", Some(&current), &owner()),
            "gen",
            "the current role itself"
        );
        assert_eq!(
            update_target("named", "gen", Some(&current), &owner()),
            "gen",
            "RoleName removed (or an Update that added it rolled back): a replacement"
        );
    }

    #[test]
    fn an_update_whose_role_is_gone_is_about_the_generated_role() {
        assert_eq!(update_target("current", "gen", None, &owner()), "gen");
    }

    #[test]
    fn an_update_of_a_role_that_is_not_ours_stays_on_it_so_that_it_fails_naming_it() {
        let foreign = role("/other/", false);
        assert_eq!(update_target("current", "gen", Some(&foreign), &owner()), "current");
    }

    #[test]
    fn a_role_is_made_by_this_invocation_only_on_iams_facts() {
        let began = SystemTime::now();
        let log = CallLog::began_at(began);
        let mut old = role("/logzio/", true);
        old.created = Some(began - Duration::from_secs(3600));
        assert!(!made_by(&log, &old), "created before the invocation");
        let mut unknown = old.clone();
        unknown.created = None;
        assert!(
            !made_by(&log, &unknown),
            "no CreateDate, no RoleId from us: not ours to undo"
        );
        let mut new = old.clone();
        new.created = Some(began + Duration::from_millis(10));
        assert!(
            made_by(&log, &new),
            "created after the invocation began (a lost CreateRole answer)"
        );
        let i = log.start("CreateRole", "current");
        log.finish(i, crate::iam::CallState::Done, Some("AROAOLD".into()));
        assert!(made_by(&log, &old), "its RoleId came back from our CreateRole");
    }

    #[test]
    fn a_failed_create_names_the_role_it_may_have_made() {
        let named = failed_create_role_name(&json!({"RoleName": "Mine"}), "arn:s", "L", "/logzio/");
        assert_eq!(named, "Mine");
        let bad = failed_create_role_name(&json!({"RoleName": "bad name!"}), "arn:s", "L", "/logzio/");
        assert_eq!(bad, generated_role_name("arn:s", "L", "/logzio/"));
        let pathed = failed_create_role_name(&json!({"Path": "/logzio/x/"}), "arn:s", "L", "/logzio/");
        assert_eq!(pathed, generated_role_name("arn:s", "L", "/logzio/x/"));
    }
}
