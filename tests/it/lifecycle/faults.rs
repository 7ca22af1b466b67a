//! IAM failing: its errors in the Reason, throttling, no answer, and work stopped at the deadline with nothing left behind.

use super::*;

#[tokio::test]
async fn create_failing_after_the_role_exists_leaves_no_orphan() {
    let w = World::new();
    w.fail_action("PutRolePolicy");
    let c = w.answer(create(json!({}))).await;
    assert_failed(&c, "iam:PutRolePolicy on role logs-archive-ArchiveRole-");
    assert!(actions(&c).iter().any(|a| a == "DeleteRole"), "{:?}", actions(&c));
    assert!(
        w.role_names().await.is_empty(),
        "orphan left: {:?}",
        w.role_names().await
    );
    // And the rollback Delete of the answered id succeeds.
    w.heal();
    assert_success(&w.answer(delete(&id(&c))).await);
}

#[tokio::test]
async fn iam_errors_carry_their_code_and_message_into_the_reason() {
    // An IAM that denies everything, speaking IAM's wire protocol.
    let iam = wiremock::MockServer::start().await;
    wiremock::Mock::given(wiremock::matchers::method("POST"))
        .respond_with(
            wiremock::ResponseTemplate::new(403).set_body_string(crate::support::iam_error_xml(
                "AccessDenied",
                "User: arn:aws:sts::123456789012:assumed-role/deployer is not authorized to perform: iam:CreateRole",
            )),
        )
        .mount(&iam)
        .await;
    let w = World::with_endpoint(&iam.uri());
    let c = w.answer(create(json!({}))).await;
    assert_failed(&c, "iam:CreateRole on role logs-archive-ArchiveRole-");
    assert_failed(
        &c,
        "AccessDenied: User: arn:aws:sts::123456789012:assumed-role/deployer is not authorized",
    );
    let d = w.answer(delete("SomeRole")).await;
    assert_failed(&d, "AccessDenied");
    // The shipped retry configuration does not retry AccessDenied: one call per event, each refused.
    let sent = iam.received_requests().await.expect("recorded");
    let actions: Vec<String> = sent
        .iter()
        .map(|r| {
            let body = String::from_utf8_lossy(&r.body).into_owned();
            body.split('&')
                .find_map(|kv| kv.strip_prefix("Action="))
                .unwrap_or_default()
                .to_owned()
        })
        .collect();
    assert_eq!(actions, ["CreateRole", "GetRole"], "not retried");
}

#[tokio::test]
async fn iam_that_never_answers_gets_a_timed_out_failure_before_the_deadline() {
    // Accepts connections and never answers: every IAM call hangs.
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let endpoint = format!("http://{}", listener.local_addr().expect("addr"));
    let w = World::with_endpoint(&endpoint);
    let started = std::time::Instant::now();
    let c = w
        .answer_within(create(json!({})), std::time::Duration::from_secs(2))
        .await;
    assert_failed(&c, "timed out");
    assert!(
        started.elapsed() < std::time::Duration::from_secs(2),
        "answered after the deadline"
    );
    // The failure names the role a Create may have made, for the rollback Delete.
    assert!(id(&c).starts_with("logs-archive-ArchiveRole-"));
    drop(listener);
}

#[tokio::test]
async fn iam_throttling_is_retried_by_the_sdk() {
    // GetRole is throttled four times (more than the SDK's default of 3 attempts allows), then answers that the role does not exist: the Delete must succeed.
    let iam = wiremock::MockServer::start().await;
    wiremock::Mock::given(wiremock::matchers::method("POST"))
        .respond_with(
            wiremock::ResponseTemplate::new(400)
                .set_body_string(crate::support::iam_error_xml("Throttling", "Rate exceeded")),
        )
        .up_to_n_times(4)
        .with_priority(1)
        .expect(4)
        .mount(&iam)
        .await;
    wiremock::Mock::given(wiremock::matchers::method("POST"))
        .respond_with(
            wiremock::ResponseTemplate::new(404)
                .set_body_string(crate::support::iam_error_xml("NoSuchEntity", "Role not found")),
        )
        .with_priority(2)
        .expect(1)
        .mount(&iam)
        .await;
    let w = World::with_endpoint(&iam.uri());
    let d = w.answer(delete("Gone")).await;
    assert_success(&d);
    assert_eq!(actions(&d), ["GetRole"], "one logical call, retried inside the SDK");
}

#[tokio::test]
async fn a_replacement_stopped_at_the_deadline_leaves_no_orphan() {
    let w = World::new();
    assert_success(&w.answer(create(json!({"RoleName": "Current"}))).await);
    w.hang_action("PutRolePolicy");
    let u = w
        .answer_within(
            update(
                "Current",
                &json!({"RoleName": "Current"}),
                json!({"RoleName": "Replacement"}),
            ),
            std::time::Duration::from_secs(3),
        )
        .await;
    assert_failed(&u, "timed out");
    assert_eq!(id(&u), "Current");
    assert!(actions(&u).iter().any(|a| a == "CreateRole"), "{:?}", actions(&u));
    assert!(
        w.role("Replacement").await.is_none(),
        "the stopped replacement was left behind"
    );
    assert!(w.role("Current").await.is_some());
}

#[tokio::test]
async fn a_create_stopped_at_the_deadline_names_the_role_for_the_rollback_delete() {
    let w = World::new();
    w.hang_action("PutRolePolicy");
    let c = w
        .answer_within(create(json!({})), std::time::Duration::from_secs(3))
        .await;
    assert_failed(&c, "timed out");
    let name = id(&c);
    assert!(w.role(&name).await.is_some(), "CreateRole went through before the hang");
    w.heal();
    assert_success(&w.answer(delete(&name)).await);
    assert!(
        w.role_names().await.is_empty(),
        "the rollback Delete left {:?}",
        w.role_names().await
    );
}
