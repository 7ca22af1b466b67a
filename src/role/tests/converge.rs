//! Create and Update: the calls each makes, on a role that is ours or a new one.

use super::*;

#[tokio::test]
async fn a_fresh_create_makes_exactly_two_calls() {
    let w = World::new();
    let (result, log) = w.create(props(json!({}))).await;
    let name = result.expect("created").physical_resource_id;
    assert_eq!(log.actions(), ["CreateRole", "PutRolePolicy"]);
    let role = w.iam.role(&name).expect("role");
    assert!(role.role.inline_policies.contains_key("LogzioArchiveAccess"));
    assert_eq!(role.role.tags.get(STACK_TAG).map(String::as_str), Some(STACK));
}

#[tokio::test]
async fn a_redelivered_create_converges_on_its_own_role_without_writes() {
    let w = World::new();
    let first = w.created(props(json!({}))).await;
    let (result, log) = w.create(props(json!({}))).await;
    assert_eq!(result.expect("converged").physical_resource_id, first);
    assert_eq!(
        log.to_string(),
        "CreateRole:EntityAlreadyExists,GetRole,ListRolePolicies,GetRolePolicy"
    );
    assert!(log.writes().is_empty());
}

#[tokio::test]
async fn a_create_over_a_role_that_is_not_ours_fails_and_writes_nothing() {
    let w = World::new();
    let mut foreign = FakeRole::default();
    foreign.role.name = "ProdAdmin".into();
    foreign.role.path = "/logzio/".into();
    w.iam.insert(foreign, SystemTime::now() - HOUR);
    let before = w.iam.role("ProdAdmin").expect("there").role;
    let (result, log) = w.create(props(json!({"RoleName": "ProdAdmin"}))).await;
    assert!(
        reason(&result).starts_with("RoleName: role ProdAdmin already exists and is not managed"),
        "{result:?}"
    );
    assert!(log.writes().is_empty(), "{log}");
    assert_eq!(w.iam.role("ProdAdmin").expect("kept").role, before);
}

#[tokio::test]
async fn a_create_whose_policy_is_refused_removes_the_role_it_made_and_names_it() {
    let w = World::new();
    w.iam.refuse("PutRolePolicy", "AccessDenied");
    let (result, log) = w.create(props(json!({"RoleName": "Half"}))).await;
    let failure = result.expect_err("failed");
    assert!(
        failure
            .reason
            .contains("iam:PutRolePolicy on role Half failed: AccessDenied"),
        "{failure:?}"
    );
    assert_eq!(failure.physical_resource_id.as_deref(), Some("Half"));
    assert_eq!(log.to_string(), "CreateRole,PutRolePolicy:AccessDenied,DeleteRole");
    assert!(w.iam.role("Half").is_none());
}

#[tokio::test]
async fn a_failed_replacement_removes_the_new_role_and_keeps_the_old_one() {
    let w = World::new();
    let old = w.created(props(json!({"RoleName": "Old"}))).await;
    w.iam.refuse("PutRolePolicy", "AccessDenied");
    let (result, log) = w.update(&old, props(json!({"RoleName": "New"}))).await;
    assert!(
        reason(&result).contains("iam:PutRolePolicy on role New failed: AccessDenied"),
        "{result:?}"
    );
    assert_eq!(
        log.to_string(),
        "GetRole,CreateRole,PutRolePolicy:AccessDenied,DeleteRole"
    );
    assert_eq!(w.iam.role_names(), ["Old"]);
}

#[tokio::test]
async fn bad_properties_or_an_id_that_is_no_role_make_no_call() {
    let w = World::new();
    // Every broken rule at once, the chosen ExternalId never quoted.
    let bad = props(
        json!({"BucketName": "logs-*", "Bucketname": "x", "MaxSessionDuration": "10",
                           "ExternalId": "has spaces secret"}),
    );
    let (result, log) = w.create(bad).await;
    let r = reason(&result);
    for p in [
        "BucketName:",
        "Bucketname: unknown property",
        "MaxSessionDuration:",
        "ExternalId:",
    ] {
        assert!(r.contains(p), "{p} missing in {r}");
    }
    assert!(!r.contains("secret"), "ExternalId leaked: {r}");
    assert!(log.calls().is_empty(), "{log}");
    // Its rollback Delete, with the id the answer named, is harmless.
    let named = result.expect_err("failed").physical_resource_id.expect("a name");
    let (deleted, _) = w.delete(&named, props(json!({}))).await;
    deleted.expect("nothing to delete");
    // An invalid Update keeps the role as it was.
    let name = w.created(props(json!({}))).await;
    let (result, log) = w.update(&name, props(json!({"KmsKeyArn": "arn:aws:s3:::nope"}))).await;
    assert!(reason(&result).contains("KmsKeyArn: "), "{result:?}");
    assert!(log.calls().is_empty(), "{log}");
    // A Delete of an id that is no role name (the protocol's default after a failed Create) calls nothing.
    let (deleted, log) = w.delete("ArchiveRole-0c1a53d2 not a role", props(json!({}))).await;
    assert_eq!(
        deleted.expect("success").physical_resource_id,
        "ArchiveRole-0c1a53d2 not a role"
    );
    assert!(log.calls().is_empty(), "{log}");
    assert_eq!(w.iam.role_names(), [name]);
}

#[tokio::test]
async fn a_no_op_update_reads_three_times_and_writes_nothing_with_or_without_role_name() {
    for extra in [json!({}), json!({"RoleName": "Named"})] {
        let w = World::new();
        let name = w.created(props(extra.clone())).await;
        let (result, log) = w.update(&name, props(extra.clone())).await;
        assert_eq!(result.expect("ok").physical_resource_id, name);
        assert_eq!(
            log.actions(),
            ["GetRole", "ListRolePolicies", "GetRolePolicy"],
            "{extra}"
        );
    }
}

#[tokio::test]
async fn an_update_in_place_writes_only_what_differs() {
    let w = World::new();
    let name = w.created(props(json!({}))).await;
    let (result, log) = w.update(&name, props(json!({"KeyPrefix": "logzio/"}))).await;
    assert_eq!(result.expect("ok").physical_resource_id, name);
    assert_eq!(log.writes(), ["PutRolePolicy"], "{log}");
}

#[tokio::test]
async fn a_new_role_name_is_a_replacement_read_then_made() {
    let w = World::new();
    let old = w.created(props(json!({"RoleName": "Old"}))).await;
    let (result, log) = w.update(&old, props(json!({"RoleName": "New"}))).await;
    assert_eq!(result.expect("replaced").physical_resource_id, "New");
    assert_eq!(log.actions(), ["GetRole", "CreateRole", "PutRolePolicy"]);
    assert!(
        w.iam.role("Old").is_some(),
        "CloudFormation's Delete removes the old one, not the Update"
    );
}

#[tokio::test]
async fn a_new_path_without_role_name_moves_to_the_generated_role_for_it() {
    let w = World::new();
    let old = w.created(props(json!({}))).await;
    let (result, log) = w.update(&old, props(json!({"Path": "/logzio/new/"}))).await;
    let new = result.expect("replaced").physical_resource_id;
    assert_ne!(new, old);
    assert_eq!(new, generated_role_name(STACK, "ArchiveRole", "/logzio/new/"));
    assert_eq!(log.actions(), ["GetRole", "GetRole", "CreateRole", "PutRolePolicy"]);
}

#[tokio::test]
async fn an_update_recreates_its_role_deleted_out_of_band() {
    let w = World::new();
    let name = w.created(props(json!({}))).await;
    let (result, _) = w.delete(&name, props(json!({}))).await;
    result.expect("deleted");
    let (result, log) = w.update(&name, props(json!({}))).await;
    assert_eq!(result.expect("recreated").physical_resource_id, name);
    assert_eq!(log.actions(), ["GetRole", "CreateRole", "PutRolePolicy"]);
}

#[tokio::test]
async fn a_role_with_another_boundary_is_refused_untouched() {
    let w = World::new();
    let name = w.created(props(json!({}))).await;
    w.iam.edit(&name, |r| {
        r.role.permissions_boundary = Some("arn:aws:iam::123456789012:policy/Other".into())
    });
    let (result, log) = w.update(&name, props(json!({"KeyPrefix": "x/"}))).await;
    assert!(reason(&result).contains("permissions boundary arn:aws:iam::123456789012:policy/Other, not (none)"));
    assert!(log.writes().is_empty(), "{log}");
}
