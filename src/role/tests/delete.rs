//! Delete: a role that is ours goes, with the fewest calls; anyone else's stays.

use super::*;

#[tokio::test]
async fn a_delete_takes_three_calls_in_the_common_case() {
    let w = World::new();
    let name = w.created(props(json!({}))).await;
    let (result, log) = w.delete(&name, props(json!({}))).await;
    result.expect("deleted");
    assert_eq!(log.actions(), ["GetRole", "DeleteRolePolicy", "DeleteRole"]);
    assert!(w.iam.role(&name).is_none());
}

#[tokio::test]
async fn a_delete_sweeps_only_when_iam_answers_delete_conflict() {
    let w = World::new();
    let name = w.created(props(json!({}))).await;
    w.iam.edit(&name, |r| {
        r.attached.push("arn:aws:iam::123456789012:policy/Extra".into());
        r.role.inline_policies.insert("Extra".into(), Some(json!({})));
    });
    let (result, log) = w.delete(&name, props(json!({}))).await;
    result.expect("deleted");
    assert_eq!(
        log.to_string(),
        "GetRole,DeleteRolePolicy,DeleteRole:DeleteConflict,ListRolePolicies,DeleteRolePolicy,\
         ListAttachedRolePolicies,DetachRolePolicy,ListInstanceProfilesForRole,DeleteRole"
    );
    assert!(w.iam.role(&name).is_none());
}

#[tokio::test]
async fn a_delete_blocked_by_an_instance_profile_fails_naming_it() {
    let w = World::new();
    let name = w.created(props(json!({}))).await;
    w.iam.edit(&name, |r| r.instance_profiles.push("web-servers".into()));
    let (result, log) = w.delete(&name, props(json!({}))).await;
    assert!(
        reason(&result).contains("instance profile(s) web-servers"),
        "{result:?}"
    );
    assert!(!log.actions().contains(&"RemoveRoleFromInstanceProfile"));
    assert!(w.iam.role(&name).is_some());
}

#[tokio::test]
async fn a_delete_leaves_a_role_that_is_not_ours_alone() {
    let w = World::new();
    let mut foreign = FakeRole::default();
    foreign.role.name = "ProdAdmin".into();
    w.iam.insert(foreign, SystemTime::now() - HOUR);
    let (result, log) = w.delete("ProdAdmin", props(json!({}))).await;
    result.expect("success");
    assert_eq!(log.actions(), ["GetRole"]);
    assert!(w.iam.role("ProdAdmin").is_some());
}
