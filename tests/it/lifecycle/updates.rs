//! Update as IAM (moto) holds the role afterwards: in place, replacements and their rollbacks, drift, a foreign role.

use super::*;

#[tokio::test]
async fn update_in_place_rewrites_what_changed_and_keeps_the_role() {
    let w = World::new();
    let c = w.answer(create(json!({}))).await;
    let name = id(&c);
    let old = create(json!({}))["ResourceProperties"].clone();
    let a = w
        .answer(update(
            &name,
            &old,
            json!({"ExternalId": "logzio:aws:extid:rotated", "BucketName": "acme-other",
            "KeyPrefix": "p/", "MaxSessionDuration": "7200", "Description": "d",
            "Tags": [{"Key": "team", "Value": "obs"}]}),
        ))
        .await;
    assert_success(&a);
    assert_eq!(id(&a), name);
    assert_eq!(a["Data"]["RoleId"], c["Data"]["RoleId"], "same role, not a new one");
    assert_eq!(
        writes(&a),
        ["UpdateAssumeRolePolicy", "UpdateRole", "TagRole", "PutRolePolicy"]
    );
    let role = w.role(&name).await.expect("role");
    let trust = logzio_role::iam::decode_policy(role.assume_role_policy_document().expect("trust"));
    assert_eq!(
        trust["Statement"][0]["Condition"]["StringEquals"]["sts:ExternalId"],
        "logzio:aws:extid:rotated"
    );
    assert_eq!(role.max_session_duration(), Some(7200));
    assert_eq!(role.description(), Some("d"));
    assert!(tags(&role).contains(&("team".into(), "obs".into())));
    let policy = w.inline_policy(&name, "LogzioArchiveAccess").await.expect("policy");
    assert_eq!(policy["Statement"][0]["Resource"], "arn:aws:s3:::acme-other");
    assert_eq!(policy["Statement"][1]["Resource"], "arn:aws:s3:::acme-other/p/*");
}

#[tokio::test]
async fn renamed_policy_replaces_the_old_inline_policy_and_tags_are_removed() {
    let w = World::new();
    let name = id(&w.answer(create(json!({"Tags": [{"Key": "a", "Value": "1"}]}))).await);
    let old = json!({});
    let a = w.answer(update(&name, &old, json!({"PolicyName": "Renamed"}))).await;
    assert_success(&a);
    assert_eq!(w.inline_policy_names(&name).await, ["Renamed"]);
    let role = w.role(&name).await.expect("role");
    assert!(!tags(&role).iter().any(|(k, _)| k == "a"), "tag a removed");
}

#[tokio::test]
async fn new_path_without_role_name_replaces_the_role_with_a_new_generated_name() {
    let w = World::new();
    let first = id(&w.answer(create(json!({}))).await);
    let u = w
        .answer(update(&first, &json!({}), json!({"Path": "/logzio/new/"})))
        .await;
    assert_success(&u);
    let second = id(&u);
    assert_ne!(first, second);
    assert_eq!(w.role(&second).await.expect("new role").path(), "/logzio/new/");
    assert_eq!(
        w.role(&first)
            .await
            .expect("old role kept for CloudFormation's Delete")
            .path(),
        "/logzio/"
    );

    // Rollback to the old path lands on the old role again, not on a third one.
    let r = w
        .answer(update(&second, &json!({"Path": "/logzio/new/"}), json!({})))
        .await;
    assert_eq!(id(&r), first);
    assert!(writes(&r).is_empty());
}

#[tokio::test]
async fn removing_role_name_is_a_replacement_by_the_generated_role() {
    // Like AWS::IAM::Role: a RoleName change, its removal included, replaces the role (and so the rollback of an
    // Update that added RoleName lands on the generated role again).
    let w = World::new();
    let c = w.answer(create(json!({"RoleName": "Named"}))).await;
    let u = w
        .answer(update(
            "Named",
            &json!({"RoleName": "Named"}),
            json!({"KeyPrefix": "x/"}),
        ))
        .await;
    assert_success(&u);
    assert_ne!(id(&u), id(&c));
    assert!(id(&u).starts_with("logs-archive-ArchiveRole-"), "{}", id(&u));
    assert!(
        w.role("Named").await.is_some(),
        "CloudFormation's Delete removes the old one"
    );
}

#[tokio::test]
async fn path_change_with_a_fixed_role_name_fails_and_names_path() {
    let w = World::new();
    w.answer(create(json!({"RoleName": "Fixed"}))).await;
    let u = w
        .answer(update(
            "Fixed",
            &json!({"RoleName": "Fixed"}),
            json!({"RoleName": "Fixed", "Path": "/logzio/x/"}),
        ))
        .await;
    assert_failed(&u, "Path:");
    assert_eq!(id(&u), "Fixed");
    assert_eq!(w.role("Fixed").await.expect("role").path(), "/logzio/");
}

#[tokio::test]
async fn drift_is_repaired_by_an_update() {
    let w = World::new();
    let name = id(&w.answer(create(json!({}))).await);
    w.iam
        .update_assume_role_policy()
        .role_name(&name)
        .policy_document(r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::999999999999:root"},"Action":"sts:AssumeRole"}]}"#)
        .send()
        .await
        .expect("drift trust");
    w.iam
        .delete_role_policy()
        .role_name(&name)
        .policy_name("LogzioArchiveAccess")
        .send()
        .await
        .expect("drift policy");
    w.iam
        .put_role_policy()
        .role_name(&name)
        .policy_name("AddedByHand")
        .policy_document(r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:*","Resource":"*"}]}"#)
        .send()
        .await
        .expect("extra policy");
    let a = w.answer(update(&name, &json!({}), json!({}))).await;
    assert_success(&a);
    assert_eq!(
        writes(&a),
        ["UpdateAssumeRolePolicy", "PutRolePolicy", "DeleteRolePolicy"]
    );
    let role = w.role(&name).await.expect("role");
    let trust = logzio_role::iam::decode_policy(role.assume_role_policy_document().expect("trust"));
    assert_eq!(
        trust["Statement"][0]["Principal"]["AWS"],
        "arn:aws:iam::406095609952:root"
    );
    assert_eq!(w.inline_policy_names(&name).await, ["LogzioArchiveAccess"]);
}

#[tokio::test]
async fn update_of_a_foreign_role_fails_untouched() {
    let w = World::new();
    make_foreign_role(&w, "Someone").await;
    let before = w.role("Someone").await.expect("role");
    let u = w
        .answer(update("Someone", &json!({}), json!({"RoleName": "Someone"})))
        .await;
    assert_failed(&u, "not managed by this resource");
    assert!(writes(&u).is_empty());
    let u = w.answer(update("Someone", &json!({}), json!({}))).await;
    assert_failed(&u, "not managed by this resource");
    assert!(w.inline_policy_names("Someone").await.is_empty());
    assert_eq!(
        w.role("Someone").await.expect("role"),
        before,
        "the foreign role changed"
    );
}

#[tokio::test]
async fn changing_only_the_session_length_keeps_the_description() {
    let w = World::new();
    let name = id(&w.answer(create(json!({"Description": "kept"}))).await);
    let a = w
        .answer(update(
            &name,
            &json!({}),
            json!({"Description": "kept", "MaxSessionDuration": 7200}),
        ))
        .await;
    assert_eq!(writes(&a), ["UpdateRole"]);
    let role = w.role(&name).await.expect("role");
    assert_eq!(role.description(), Some("kept"));
    assert_eq!(role.max_session_duration(), Some(7200));
}

#[tokio::test]
async fn a_path_change_after_the_role_was_deleted_out_of_band_can_be_reverted() {
    let w = World::new();
    let first = id(&w.answer(create(json!({}))).await);
    w.delete_out_of_band(&first).await;
    let u = w
        .answer(update(&first, &json!({}), json!({"Path": "/logzio/new/"})))
        .await;
    assert_success(&u);
    let second = id(&u);
    assert_ne!(second, first, "a new path is a new role, even when the old one is gone");
    assert_eq!(w.role(&second).await.expect("role").path(), "/logzio/new/");
    // Revert (or roll back) to the old path: lands on the old name again, recreated.
    let r = w
        .answer(update(&second, &json!({"Path": "/logzio/new/"}), json!({})))
        .await;
    assert_success(&r);
    assert_eq!(id(&r), first);
    assert_eq!(w.role(&first).await.expect("role").path(), "/logzio/");
}
