//! CloudFormation's rollback Update (the old properties): a return to what IAM holds needs no write, and nothing that guards only writes blocks it.

use super::*;

#[tokio::test]
async fn a_rollback_lands_on_the_old_role_without_creating_it() {
    let w = World::new();
    let old = w.created(props(json!({"RoleName": "Old"}))).await;
    let new = w
        .update(&old, props(json!({"RoleName": "New"})))
        .await
        .0
        .expect("replaced")
        .physical_resource_id;
    let (result, log) = w.update(&new, props(json!({"RoleName": "Old"}))).await;
    assert_eq!(result.expect("rolled back").physical_resource_id, "Old");
    assert!(log.writes().is_empty(), "{log}");
}

#[tokio::test]
async fn an_update_that_adds_role_name_rolls_back_to_the_generated_role_without_creating_it() {
    let w = World::new();
    let generated = w.created(props(json!({}))).await;
    let named = w
        .update(&generated, props(json!({"RoleName": "Named"})))
        .await
        .0
        .expect("replaced")
        .physical_resource_id;
    assert_eq!(named, "Named");
    let (result, log) = w.update(&named, props(json!({}))).await;
    assert_eq!(
        result.expect("rolled back").physical_resource_id,
        generated,
        "back on the generated role"
    );
    assert!(log.writes().is_empty(), "{log}");
}

#[tokio::test]
async fn a_rollback_to_the_boundary_it_was_made_with_succeeds_with_no_write() {
    let w = World::new();
    let name = w.created(props(json!({}))).await;
    w.iam.edit(&name, |r| {
        r.role.permissions_boundary = Some("arn:aws:iam::123456789012:policy/Other".into())
    });
    let (result, log) = w.update(&name, props(json!({}))).await;
    assert_eq!(result.expect("nothing to write").physical_resource_id, name);
    assert!(log.writes().is_empty(), "{log}");
}

#[tokio::test]
async fn limits_narrowed_since_do_not_block_a_return_to_what_iam_holds_but_refuse_any_write() {
    let iam = FakeIam::default();
    let made = LogzioRole::new(iam.clone(), FakeLogzio::default(), Ok(Limits::default()));
    let name = created_by(&made, props(json!({}))).await;
    // The deployment now allows other buckets only.
    let narrowed = LogzioRole::new(
        iam,
        FakeLogzio::default(),
        Ok(limits(&[("LOGZIO_ALLOWED_BUCKETS", "other-*")])),
    );
    let reason =
        returns_but_refuses_a_write(&narrowed, &name, props(json!({})), props(json!({"KeyPrefix": "x/"}))).await;
    assert!(
        reason.contains("BucketName: \"acme-logs\" is not among the buckets this deployment allows"),
        "{reason}"
    );
}

#[tokio::test]
async fn logzio_unreachable_does_not_block_a_return_to_the_trust_iam_holds() {
    let (resource, iam, logzio) = with_logzio("406095609952", "logzio:aws:extid:first");
    let name = created_by(&resource, token_props(json!({}))).await;
    logzio.refuse("GetAssumeRoleDetails", LogzioErrorKind::Transient, u32::MAX);
    let reason = returns_but_refuses_a_write(
        &resource,
        &name,
        token_props(json!({})),
        token_props(json!({"KeyPrefix": "x/"})),
    )
    .await;
    assert!(
        reason.starts_with("LogzioApiTokenSecretArn: the trust could not be read from Logz.io"),
        "{reason}"
    );
    assert_eq!(trusted_external_id(&iam, &name), "logzio:aws:extid:first");
}

#[tokio::test]
async fn a_logzio_account_no_longer_trusted_does_not_block_a_return_to_what_iam_holds() {
    let (resource, iam, logzio) = with_logzio("406095609952", "logzio:aws:extid:first");
    let name = created_by(&resource, token_props(json!({}))).await;
    // The deployment now trusts another Logz.io account only.
    let narrowed = LogzioRole::new(
        iam,
        logzio,
        Ok(limits(&[("LOGZIO_TRUSTED_ACCOUNT_IDS", "111122223333")])),
    );
    let reason = returns_but_refuses_a_write(
        &narrowed,
        &name,
        token_props(json!({})),
        token_props(json!({"KeyPrefix": "x/"})),
    )
    .await;
    assert!(reason.contains("Logz.io names AWS account 406095609952"), "{reason}");
}

#[tokio::test]
async fn a_service_timeout_from_before_the_longer_minimum_blocks_a_write_not_a_return() {
    // A stack made when 300 s was enough: its Update (or rollback) that writes nothing still succeeds.
    let w = World::new();
    let name = w.created(props(json!({}))).await;
    let (result, log) = w.update(&name, props(json!({"ServiceTimeout": "300"}))).await;
    assert_eq!(result.expect("nothing to write").physical_resource_id, name);
    assert!(log.writes().is_empty(), "{log}");
    let (result, log) = w
        .update(&name, props(json!({"ServiceTimeout": "300", "KeyPrefix": "x/"})))
        .await;
    assert!(
        reason(&result).contains("ServiceTimeout: must be at least 1020 seconds"),
        "{result:?}"
    );
    assert!(log.writes().is_empty(), "{log}");
    let (result, _) = w.create(props(json!({"ServiceTimeout": "300"}))).await;
    assert!(reason(&result).contains("ServiceTimeout: must be at least 1020 seconds"));
}

#[tokio::test]
async fn what_is_never_safe_to_pass_blocks_a_rollback_too_with_no_write() {
    // The token Logz.io refuses: no stand-in (the trust IAM holds stands in only while Logz.io is unreachable).
    let (resource, iam, logzio) = with_logzio("406095609952", "logzio:aws:extid:first");
    let name = created_by(&resource, token_props(json!({}))).await;
    logzio.refuse("GetAssumeRoleDetails", LogzioErrorKind::Unauthorized, u32::MAX);
    let log = CallLog::default();
    let back = request(RequestType::Update, token_props(json!({})), Some(&name));
    let refused = resource.update(&back, &inv(), &log).await;
    assert!(
        reason(&refused).starts_with("LogzioApiTokenSecretArn: the trust could not be read from Logz.io"),
        "{refused:?}"
    );
    assert!(log.writes().is_empty(), "{log}");
    // Invalid deployment settings, and an event of another account's stack: refused before any call.
    let invalid = Limits::from_vars(|v| (v == "LOGZIO_TRUSTED_ACCOUNT_IDS").then(|| "1".to_owned()));
    let broken = LogzioRole::new(iam.clone(), logzio.clone(), invalid);
    let back = request(RequestType::Update, props(json!({})), Some(&name));
    let log = CallLog::default();
    let refused = broken.update(&back, &inv(), &log).await;
    assert!(
        reason(&refused).starts_with("the function's deployment settings are invalid"),
        "{refused:?}"
    );
    assert!(log.calls().is_empty(), "{log}");
    let log = CallLog::default();
    let refused = resource.update(&back, &received_by("999988887777"), &log).await;
    assert!(
        reason(&refused).starts_with("StackId: the stack is in account 123456789012"),
        "{refused:?}"
    );
    assert!(log.calls().is_empty(), "{log}");
    assert_eq!(
        trusted_external_id(&iam, &name),
        "logzio:aws:extid:first",
        "the role as it was"
    );
}
