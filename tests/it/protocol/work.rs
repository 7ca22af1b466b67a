//! The work and its answer: ids, panics, the deadline, the Reason's size, malformed events, what the work is told.

use super::*;

#[tokio::test]
async fn success_is_answered_once_with_the_resources_id_and_data() {
    let s = cfn(200).await;
    let h = handler();
    let e = event("Create", "ok", &s.uri());
    let out = run(&h, e.clone(), soon(10)).await.expect("ok");
    assert_eq!(out["Status"], "SUCCESS");
    let b = bodies(&s).await;
    assert_eq!(b.len(), 1);
    assert_eq!(b[0]["Status"], "SUCCESS");
    assert_eq!(b[0]["PhysicalResourceId"], "made-id");
    assert_eq!(b[0]["Data"]["Arn"], "arn:x");
    assert_eq!(b[0]["RequestId"], e["RequestId"]);
    assert_eq!(b[0]["LogicalResourceId"], "Res");
}

#[tokio::test]
async fn a_failed_create_answers_the_planned_id_and_a_failed_update_keeps_the_old_one() {
    let s = cfn(200).await;
    let h = handler();
    run(&h, event("Create", "fail", &s.uri()), soon(10)).await.expect("ok");
    run(&h, event("Update", "fail", &s.uri()), soon(10)).await.expect("ok");
    run(&h, event("Delete", "ok", &s.uri()), soon(10)).await.expect("ok");
    let b = bodies(&s).await;
    assert_eq!(
        (b[0]["Status"].as_str(), b[0]["PhysicalResourceId"].as_str()),
        (Some("FAILED"), Some("planned-id"))
    );
    assert_eq!(b[0]["Reason"], "it failed");
    assert_eq!(
        (b[1]["Status"].as_str(), b[1]["PhysicalResourceId"].as_str()),
        (Some("FAILED"), Some("old-id"))
    );
    // A Delete always answers the id it was asked to delete.
    assert_eq!(
        (b[2]["Status"].as_str(), b[2]["PhysicalResourceId"].as_str()),
        (Some("SUCCESS"), Some("old-id"))
    );
}

#[tokio::test]
async fn a_panic_in_the_work_is_answered_failed_and_the_handler_keeps_serving() {
    let s = cfn(200).await;
    let h = handler();
    let out = run(&h, event("Create", "panic", &s.uri()), soon(10))
        .await
        .expect("answered");
    assert_eq!(out["Status"], "FAILED");
    run(&h, event("Create", "ok", &s.uri()), soon(10))
        .await
        .expect("next event");
    let b = bodies(&s).await;
    assert_eq!(b[0]["Status"], "FAILED");
    assert!(
        b[0]["Reason"]
            .as_str()
            .expect("reason")
            .contains("panicked: boom in the work")
    );
    assert_eq!(b[1]["Status"], "SUCCESS");
}

#[tokio::test]
async fn work_past_the_deadline_is_stopped_and_answered_failed_once_before_the_deadline() {
    let s = cfn(200).await;
    let h = handler();
    let deadline = Instant::now() + Duration::from_millis(1500);
    run(&h, event("Update", "hang", &s.uri()), deadline)
        .await
        .expect("answered");
    assert!(Instant::now() < deadline, "answered after the deadline");
    let b = bodies(&s).await;
    assert_eq!(b.len(), 1);
    assert_eq!(b[0]["Status"], "FAILED");
    assert!(b[0]["Reason"].as_str().expect("reason").starts_with("timed out"));
    assert_eq!(b[0]["PhysicalResourceId"], "old-id");
}

#[tokio::test]
async fn a_long_reason_is_truncated_to_fit() {
    let s = cfn(200).await;
    run(&handler(), event("Create", "long-reason", &s.uri()), soon(10))
        .await
        .expect("ok");
    let b = bodies(&s).await;
    assert!(b[0]["Reason"].as_str().expect("reason").ends_with("[truncated]"));
}

#[tokio::test]
async fn an_event_without_response_url_is_logged_not_redelivered_and_nothing_is_sent() {
    let s = cfn(200).await;
    let mut e = event("Create", "ok", &s.uri());
    e.as_object_mut().expect("object").remove("ResponseURL");
    let h = handler();
    for e in [e, json!("not an object")] {
        let served = h.handle_payload(e, soon(5)).await;
        assert!(
            matches!(served.delivery, Delivery::NoResponseUrl),
            "{:?}",
            served.delivery
        );
        assert!(served.to_runtime().is_ok(), "a redelivery cannot make it answerable");
    }
    assert!(bodies(&s).await.is_empty());
    assert_eq!(h.resource_runs(), 0);
}

#[tokio::test]
async fn unknown_request_type_or_missing_fields_are_answered_failed_once_and_not_redelivered() {
    let s = cfn(200).await;
    let h = handler();
    let e = event("Replace", "ok", &s.uri());
    let request_id = e["RequestId"].clone();
    let out = run(&h, e, soon(5))
        .await
        .expect("answered: success to the runtime, so no redelivery");
    assert_eq!(out["Status"], "FAILED");
    let mut e = event("Create", "ok", &s.uri());
    e.as_object_mut().expect("object").remove("StackId");
    run(&h, e, soon(5)).await.expect("answered");
    let b = bodies(&s).await;
    assert_eq!(b.len(), 2);
    assert!(b.iter().all(|x| x["Status"] == "FAILED"));
    assert!(b[0]["Reason"].as_str().expect("reason").starts_with("malformed event"));
    assert_eq!(b[0]["RequestId"], request_id);
    assert_eq!(h.resource_runs(), 0);
    // The same malformed event delivered again (Lambda's queue is at-least-once): not answered a second time.
    let mut again = event("Replace", "ok", &s.uri());
    again["RequestId"] = request_id;
    assert!(matches!(
        h.handle_payload(again, soon(5)).await.delivery,
        Delivery::AlreadyAnswered
    ));
    assert_eq!(bodies(&s).await.len(), 2);
    assert!(b[1]["Reason"].as_str().expect("reason").contains("StackId"));
}

#[test]
fn the_release_profile_unwinds_so_panics_are_answered() {
    // With panic = "abort" (cargo-lambda's default when the profile does not say), a panic kills the process
    // before any answer: the catch above only works in a profile that unwinds.
    let manifest = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/Cargo.toml")).expect("Cargo.toml");
    let release = manifest
        .split("[profile.release]")
        .nth(1)
        .expect("a [profile.release] section");
    let release = release.split("\n[").next().unwrap_or_default();
    assert!(
        release.lines().any(|l| l.trim().replace(' ', "") == "panic=\"unwind\""),
        "{release}"
    );
}

#[tokio::test]
async fn a_short_lambda_timeout_still_leaves_time_for_the_work() {
    // 3 s margin, 2 s to the deadline (Lambda's default Timeout is 3 s): the work still runs.
    let s = cfn(200).await;
    let h = Handler::new(Scripted::default(), ResponseSender::new().expect("client"))
        .with_answer_margin(Duration::from_secs(3));
    let out = run(&h, event("Create", "ok", &s.uri()), soon(2))
        .await
        .expect("answered");
    assert_eq!(out["Status"], "SUCCESS", "{out}");
}

#[tokio::test]
async fn the_work_is_told_the_function_that_received_the_event_and_when_to_stop() {
    let s = cfn(200).await;
    let h = handler(); // 300 ms kept for the answer
    let arn = "arn:aws:lambda:us-east-1:123456789012:function:f";
    let served = h
        .handle_payload_as(event("Create", "tell", &s.uri()), soon(10), arn)
        .await;
    let data = &served.answer.expect("answered").data;
    assert_eq!(data["FunctionArn"], arn);
    let left: u64 = data["WorkLeftMs"].parse().expect("ms");
    assert!(
        (9_000..=9_700).contains(&left),
        "the deadline less the answer's margin: {left} ms"
    );
    // No function ARN from the runtime (local tests): none is made up.
    let served = h.handle_payload(event("Update", "tell", &s.uri()), soon(10)).await;
    assert_eq!(served.answer.expect("answered").data["FunctionArn"], "");
}

#[test]
fn the_template_and_its_repository_entry_carry_the_crates_version() {
    // The version a deployer sees (the Serverless Application Repository's SemanticVersion, the packaged
    // template of `make release`) is the one the binary logs at start: the crate's.
    let template = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/template.yaml")).expect("template");
    let line = format!("    SemanticVersion: {}", env!("CARGO_PKG_VERSION"));
    assert!(template.lines().any(|l| l == line), "template.yaml lacks {line:?}");
}
