//! The trust from Logz.io's API (the token): the account and external ID it names, and what a Reason never quotes.

use super::*;

#[tokio::test]
async fn with_the_token_the_trust_comes_from_logzio_and_an_update_applies_a_rotated_external_id() {
    let (resource, iam, logzio) = with_logzio("406095609952", "logzio:aws:extid:first");
    let log = CallLog::default();
    let name = resource
        .create(
            &request(RequestType::Create, token_props(json!({})), None),
            &inv(),
            &log,
        )
        .await
        .expect("created")
        .physical_resource_id;
    assert_eq!(
        log.actions(),
        ["GetSecretValue", "GetAssumeRoleDetails", "CreateRole", "PutRolePolicy"]
    );
    assert_eq!(trusted_external_id(&iam, &name), "logzio:aws:extid:first");
    logzio.account(TOKEN_SECRET, "token-1", "406095609952", "logzio:aws:extid:rotated");
    let log = CallLog::default();
    let req = request(RequestType::Update, token_props(json!({})), Some(&name));
    resource.update(&req, &inv(), &log).await.expect("updated");
    assert_eq!(log.writes(), ["UpdateAssumeRolePolicy"], "{log}");
    assert_eq!(trusted_external_id(&iam, &name), "logzio:aws:extid:rotated");
}

#[tokio::test]
async fn an_account_logzio_names_that_the_deployment_does_not_trust_is_refused_before_any_iam_call() {
    let (resource, _, _) = with_logzio("111122223333", "logzio:aws:extid:x");
    let log = CallLog::default();
    let result = resource
        .create(
            &request(RequestType::Create, token_props(json!({})), None),
            &inv(),
            &log,
        )
        .await;
    assert!(
        reason(&result).starts_with("LogzioApiTokenSecretArn: Logz.io names AWS account 111122223333"),
        "{result:?}"
    );
    assert_eq!(log.actions(), ["GetSecretValue", "GetAssumeRoleDetails"]);
}

#[tokio::test]
async fn a_token_logzio_refuses_fails_naming_the_property_and_logzios_answer() {
    let (resource, _, logzio) = with_logzio("406095609952", "logzio:aws:extid:x");
    logzio.refuse("GetAssumeRoleDetails", crate::logzio::LogzioErrorKind::Unauthorized, 1);
    let log = CallLog::default();
    let result = resource
        .create(
            &request(RequestType::Create, token_props(json!({})), None),
            &inv(),
            &log,
        )
        .await;
    let r = reason(&result);
    assert!(
        r.starts_with("LogzioApiTokenSecretArn: the trust could not be read from Logz.io: "),
        "{r}"
    );
    assert!(r.contains("HTTP 401"), "{r}");
    assert!(!r.contains("token-1"), "the token never reaches a Reason");
    assert!(log.writes().is_empty());
}

#[tokio::test]
async fn a_reason_never_quotes_the_chosen_external_id_in_any_case() {
    // IAM's message quotes the ID it was sent, in another case: the Reason shows neither form.
    let w = World::new();
    w.iam.refuse(
        "CreateRole",
        "MalformedPolicyDocument: condition value acme-chosen-id-42 is invalid",
    );
    let (result, _) = w.create(props(json!({"ExternalId": "Acme-Chosen-Id-42"}))).await;
    let reason = result.expect_err("refused").reason;
    assert!(reason.contains("condition value <external ID> is invalid"), "{reason}");
    assert!(!reason.to_ascii_lowercase().contains("acme-chosen-id-42"), "{reason}");
}
