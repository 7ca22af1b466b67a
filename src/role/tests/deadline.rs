//! Work stopped at the deadline, and the undo: decided from IAM's facts, never from hopes.

use super::*;

#[tokio::test]
async fn a_replacement_stopped_after_its_create_role_succeeded_is_removed() {
    let w = World::new();
    let old = w.created(props(json!({"RoleName": "Old"}))).await;
    let old_role = w.iam.role(&old).expect("old").role;
    w.iam.hang("PutRolePolicy");
    let log = w.stopped_update(&old, props(json!({"RoleName": "New"}))).await;
    assert!(w.iam.role("New").is_none(), "{log}");
    assert_eq!(w.iam.role("Old").expect("old kept").role, old_role);
    assert!(
        log.to_string()
            .starts_with("GetRole,CreateRole,PutRolePolicy:in-flight,GetRole,DeleteRole"),
        "{log}"
    );
}

#[tokio::test]
async fn a_rollback_stopped_while_its_create_role_is_in_flight_keeps_the_role_it_returns_to() {
    // Rolling back New -> Old: IAM's read does not yet show Old (eventual consistency), so CreateRole(Old) is
    // sent, and the deadline stops it in flight. Old existed long before this invocation: it must survive with
    // its RoleId and policy.
    let w = World::new();
    let old = w.created(props(json!({"RoleName": "Old"}))).await;
    let new = w
        .update(&old, props(json!({"RoleName": "New"})))
        .await
        .0
        .expect("replaced")
        .physical_resource_id;
    w.iam.edit("Old", |r| r.role.created = Some(SystemTime::now() - HOUR));
    let before = w.iam.role("Old").expect("old").role;
    w.iam.stale_read();
    w.iam.hang("CreateRole");
    let log = w.stopped_update(&new, props(json!({"RoleName": "Old"}))).await;
    assert_eq!(log.calls()[1].state, CallState::InFlight, "{log}");
    let after = w.iam.role("Old").expect("Old survives").role;
    assert_eq!(
        (after.role_id, after.inline_policies),
        (before.role_id, before.inline_policies)
    );
    assert!(!log.actions().contains(&"DeleteRole"), "{log}");
}

#[tokio::test]
async fn a_lost_create_role_answer_that_took_effect_is_still_undone_when_new() {
    // CreateRole(New) reached IAM but its answer was lost; the SDK's retry meets EntityAlreadyExists. The role
    // carries our tags and was created after the invocation began: ours and new, so the undo removes it.
    let w = World::new();
    let old = w.created(props(json!({"RoleName": "Old"}))).await;
    w.iam.before("CreateRole", |roles| {
        roles.insert("New".into(), ours("New", SystemTime::now()));
    });
    w.iam.hang("PutRolePolicy");
    let log = w.stopped_update(&old, props(json!({"RoleName": "New"}))).await;
    assert!(log.to_string().contains("CreateRole:EntityAlreadyExists"), "{log}");
    assert!(w.iam.role("New").is_none(), "{log}");
    assert!(w.iam.role("Old").is_some());
}

#[tokio::test]
async fn the_undo_keeps_a_replacement_target_that_existed_before_the_invocation() {
    // New was made by an earlier invocation (an hour ago) and is ours; this Update's CreateRole(New) is refused
    // (EntityAlreadyExists) and the work stopped: New is not this invocation's to remove.
    let w = World::new();
    let old = w.created(props(json!({"RoleName": "Old"}))).await;
    w.ours_from_before("New", HOUR);
    w.iam.stale_read();
    w.iam.hang("PutRolePolicy");
    let log = w.stopped_update(&old, props(json!({"RoleName": "New"}))).await;
    assert!(log.to_string().contains("CreateRole:EntityAlreadyExists"), "{log}");
    assert!(w.iam.role("New").is_some(), "{log}");
    assert!(!log.actions().contains(&"DeleteRole"), "{log}");
}

#[tokio::test]
async fn a_rollback_stopped_at_the_deadline_keeps_the_role_it_returned_to_without_create_role() {
    // The rollback of a replacement: the physical id is the new role, the target the old one, and a write
    // (KeyPrefix) hangs. No CreateRole was sent, so the undo removes nothing: the old role is the stack's.
    let w = World::new();
    let old = w.created(props(json!({"RoleName": "Old"}))).await;
    let (replaced, _) = w.update(&old, props(json!({"RoleName": "New"}))).await;
    let new = replaced.expect("replaced").physical_resource_id;
    let before = w.iam.role("Old").expect("old").role;
    w.iam.hang("PutRolePolicy");
    let log = w
        .stopped_update(&new, props(json!({"RoleName": "Old", "KeyPrefix": "x/"})))
        .await;
    assert_eq!(
        log.to_string(),
        "GetRole,ListRolePolicies,GetRolePolicy,PutRolePolicy:in-flight"
    );
    assert_eq!(w.iam.role("Old").expect("kept").role, before);
    assert!(
        w.iam.role(&new).is_some(),
        "CloudFormation's cleanup Delete removes the new one"
    );
}

#[tokio::test]
async fn a_create_stopped_at_the_deadline_is_left_to_the_rollback_delete() {
    let w = World::new();
    w.iam.hang("PutRolePolicy");
    let req = request(RequestType::Create, props(json!({"RoleName": "Stopped"})), None);
    let log = CallLog::default();
    let stopped = tokio::time::timeout(Duration::from_millis(50), w.resource.create(&req, &inv(), &log)).await;
    assert!(stopped.is_err());
    w.resource.undo_after_deadline(&req, &inv(), &log).await;
    assert!(
        w.iam.role("Stopped").is_some(),
        "the FAILED answer names it; the rollback Delete removes it"
    );
    assert_eq!(log.to_string(), "CreateRole,PutRolePolicy:in-flight");
}
