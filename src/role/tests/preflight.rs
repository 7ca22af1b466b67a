//! What the deployment allows and the event's stack, refused before any IAM call.

use super::*;

#[tokio::test]
async fn a_logzio_account_the_deployment_does_not_trust_is_refused_before_any_iam_call() {
    let (result, log) = create_under(
        Ok(Limits::default()),
        "123456789012",
        props(json!({"LogzioAccountId": "111122223333"})),
    )
    .await;
    assert!(
        reason(&result).contains("LogzioAccountId: 111122223333 is not an account this deployment trusts"),
        "{result:?}"
    );
    assert!(log.calls().is_empty(), "{log}");
}

#[tokio::test]
async fn a_bucket_the_deployment_does_not_allow_is_refused_before_any_iam_call() {
    let only_acme = limits(&[("LOGZIO_ALLOWED_BUCKETS", "acme-*")]);
    let (result, log) = create_under(
        Ok(only_acme.clone()),
        "123456789012",
        props(json!({"BucketName": "other-logs"})),
    )
    .await;
    assert!(
        reason(&result).contains(r#"BucketName: "other-logs" is not among the buckets this deployment allows"#),
        "{result:?}"
    );
    assert!(log.calls().is_empty(), "{log}");
    let (result, _) = create_under(Ok(only_acme), "123456789012", props(json!({}))).await;
    assert!(result.is_ok(), "acme-logs is allowed: {result:?}");
}

#[tokio::test]
async fn a_stack_of_another_account_is_refused_before_any_iam_call() {
    let (result, log) = create_under(Ok(Limits::default()), "999988887777", props(json!({}))).await;
    assert_eq!(
        reason(&result),
        "StackId: the stack is in account 123456789012, but this function serves only its own account \
         999988887777; deploy the handler in the stack's account"
    );
    assert!(log.calls().is_empty(), "{log}");
    // Its rollback Delete, even naming a role of ours, succeeds with no call and the role kept: no DELETE_FAILED.
    let w = World::new();
    let name = w.created(props(json!({}))).await;
    let req = request(RequestType::Delete, props(json!({})), Some(&name));
    let log = CallLog::default();
    assert!(
        w.resource
            .delete(&req, &received_by("999988887777"), &log)
            .await
            .is_ok()
    );
    assert!(log.calls().is_empty(), "{log}");
    assert!(w.iam.role(&name).is_some());
    // A StackId that is no stack ARN: nothing can have been made for it (Create refuses it), so its Delete too.
    let mut req = req;
    req.stack_id = "not-an-arn".into();
    let log = CallLog::default();
    assert!(w.resource.delete(&req, &inv(), &log).await.is_ok());
    assert!(log.calls().is_empty(), "{log}");
    assert!(w.iam.role(&name).is_some());
}

#[tokio::test]
async fn a_path_outside_the_deployments_prefix_is_refused_before_any_iam_call() {
    let (result, log) = create_under(Ok(Limits::default()), "123456789012", props(json!({"Path": "/admin/"}))).await;
    assert!(
        reason(&result).contains(r#"Path: must be under /logzio/"#),
        "{result:?}"
    );
    assert!(log.calls().is_empty(), "{log}");
}

#[tokio::test]
async fn invalid_deployment_settings_fail_every_create_saying_so_but_not_a_delete() {
    let bad = Limits::from_vars(|v| (v == "LOGZIO_TRUSTED_ACCOUNT_IDS").then(|| "1".to_owned()));
    let (result, log) = create_under(bad.clone(), "123456789012", props(json!({}))).await;
    assert!(
        reason(&result).starts_with("the function's deployment settings are invalid"),
        "{result:?}"
    );
    assert!(reason(&result).contains("LOGZIO_TRUSTED_ACCOUNT_IDS"), "{result:?}");
    assert!(log.calls().is_empty(), "{log}");
    let resource = LogzioRole::new(FakeIam::default(), FakeLogzio::default(), bad);
    let log = CallLog::default();
    let req = request(
        RequestType::Delete,
        props(json!({})),
        Some("logs-archive-ArchiveRole-X"),
    );
    assert!(resource.delete(&req, &inv(), &log).await.is_ok());
}

#[tokio::test]
async fn a_role_is_created_with_the_deployments_boundary() {
    let boundary = "arn:aws:iam::123456789012:policy/LogzioArchiveBoundary";
    let resource = LogzioRole::new(
        FakeIam::default(),
        FakeLogzio::default(),
        Ok(limits(&[("LOGZIO_ROLE_BOUNDARY_ARN", boundary)])),
    );
    let log = CallLog::default();
    let name = resource
        .create(&request(RequestType::Create, props(json!({})), None), &inv(), &log)
        .await
        .expect("created")
        .physical_resource_id;
    let role = resource.iam.role(&name).expect("role").role;
    assert_eq!(role.permissions_boundary.as_deref(), Some(boundary));
    assert_eq!(role.path, "/logzio/");
}
