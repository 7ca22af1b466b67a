//! Refused before any call: another account's role or stack, a bucket the deployment does not allow, a token Logz.io refuses.

use super::*;

#[tokio::test]
async fn a_role_of_another_account_is_refused_before_any_call() {
    let w = World::new();
    let (result, log) = w
        .run(request(
            RequestType::Create,
            props(json!({"RoleArn": "arn:aws:iam::999988887777:role/r"})),
            None,
            None,
        ))
        .await;
    assert!(
        reason(&result).starts_with("RoleArn: the role is in account 999988887777, but the stack is in 123456789012")
    );
    assert!(log.calls().is_empty());
}

#[tokio::test]
async fn a_token_logzio_refuses_names_the_property() {
    let w = World::new();
    w.logzio.refuse("ListArchives", LogzioErrorKind::Unauthorized, 1);
    let (result, _) = w.run(request(RequestType::Create, props(json!({})), None, None)).await;
    let r = reason(&result);
    assert!(
        r.starts_with("LogzioApiTokenSecretArn: Logz.io refused the API token"),
        "{r}"
    );
    assert!(!r.contains("token-1"));
}

#[tokio::test]
async fn a_stack_of_another_account_than_the_functions_is_refused_before_any_call() {
    let w = World::new();
    let req = request(RequestType::Create, props(json!({})), None, None);
    let function = Some("arn:aws:lambda:us-east-1:999988887777:function:logzio-role".to_owned());
    let as_other = Invocation::new(function, inv().work_deadline);
    let (result, log) = w.run_as(req, &as_other).await;
    assert!(reason(&result).starts_with(
        "StackId: the stack is in account 123456789012, but this function serves only its own account 999988887777"
    ));
    assert!(log.calls().is_empty());
    // Its Delete (even one naming an archive that exists here) touches nothing and succeeds: no DELETE_FAILED.
    let mine = w.created().await;
    let delete = request(RequestType::Delete, props(json!({})), None, Some(&mine));
    let (result, log) = w.run_as(delete, &as_other).await;
    assert_eq!(result.expect("deleted").physical_resource_id, mine);
    assert!(log.calls().is_empty(), "{log}");
    assert_eq!(w.logzio.archives("token-1").len(), 1);
    // A StackId that is no stack ARN: nothing can have been made for it (Create refuses it), so its Delete too.
    let mut delete = request(RequestType::Delete, props(json!({})), None, Some(&mine));
    delete.stack_id = "not-an-arn".into();
    let (result, log) = w.run(delete).await;
    assert_eq!(result.expect("deleted").physical_resource_id, mine);
    assert!(log.calls().is_empty(), "{log}");
    assert_eq!(w.logzio.archives("token-1").len(), 1);
}

#[tokio::test]
async fn a_bucket_the_deployment_does_not_allow_is_refused_before_any_call() {
    let w = World::new();
    let only_acme = Limits::from_vars(|v| (v == "LOGZIO_ALLOWED_BUCKETS").then(|| "acme-*".to_owned()));
    let archive = LogzioArchive::new(w.iam.clone(), w.logzio.clone(), only_acme);
    let log = CallLog::default();
    let req = request(
        RequestType::Create,
        props(json!({"BucketName": "other-logs"})),
        None,
        None,
    );
    let result = archive.create(&req, &inv(), &log).await;
    assert!(
        reason(&result).starts_with(r#"BucketName: "other-logs" is not among the buckets this deployment allows"#),
        "{result:?}"
    );
    assert!(log.calls().is_empty());
}
