//! The CloudFormation protocol on its own, with scripted resources: malformed events, panics, the deadline,
//! the ResponseURL's failures, and what the Lambda runtime is told. No IAM here: this is the layer that must
//! answer whatever the resource does, once.

use logzio_role::cfn::sender::ResponseSender;
use logzio_role::cfn::{CustomResource, Delivery, Failure, Handler, Invocation, NotDelivered, Request, Success};
use serde_json::{Value, json};
use std::sync::Mutex;
use std::sync::atomic::{AtomicU32, AtomicUsize, Ordering};
use std::time::{Duration, Instant};
use wiremock::matchers::method;
use wiremock::{Mock, MockServer, ResponseTemplate};

/// A resource that does what the test event's `ResourceProperties.Behave` says, and counts its runs.
#[derive(Default)]
struct Scripted {
    runs: AtomicUsize,
}

/// What the scripted work records.
#[derive(Default)]
struct Notes(Mutex<Vec<&'static str>>);

impl std::fmt::Display for Notes {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0.lock().expect("lock").join(","))
    }
}

impl Scripted {
    async fn act(&self, req: &Request, inv: &Invocation, notes: &Notes) -> Result<Success, Failure> {
        self.runs.fetch_add(1, Ordering::SeqCst);
        notes.0.lock().expect("lock").push("Started");
        match req.properties["Behave"].as_str().unwrap_or("ok") {
            "panic" => panic!("boom in the work"),
            "hang" => {
                tokio::time::sleep(Duration::from_secs(3600)).await;
                unreachable!()
            }
            "fail" => Err(Failure::new("it failed")),
            "long-reason" => Err(Failure::new("x".repeat(10_000))),
            // What the work was told beside the event.
            "tell" => Ok(Success {
                physical_resource_id: "told".into(),
                data: [
                    ("FunctionArn".to_owned(), inv.function_arn.clone().unwrap_or_default()),
                    (
                        "WorkLeftMs".to_owned(),
                        inv.work_deadline
                            .saturating_duration_since(Instant::now())
                            .as_millis()
                            .to_string(),
                    ),
                ]
                .into(),
            }),
            _ => Ok(Success {
                physical_resource_id: "made-id".into(),
                data: [("Arn".to_owned(), "arn:x".to_owned())].into(),
            }),
        }
    }
}

impl CustomResource for Scripted {
    type Record = Notes;
    async fn create(&self, req: &Request, inv: &Invocation, notes: &Notes) -> Result<Success, Failure> {
        self.act(req, inv, notes).await
    }
    async fn update(&self, req: &Request, inv: &Invocation, notes: &Notes) -> Result<Success, Failure> {
        self.act(req, inv, notes).await
    }
    async fn delete(&self, req: &Request, inv: &Invocation, notes: &Notes) -> Result<Success, Failure> {
        self.act(req, inv, notes).await
    }
    fn create_failure_id(&self, _req: &Request) -> Option<String> {
        Some("planned-id".into())
    }
}

/// What the runtime is told about `event`.
async fn run(h: &Handler<Scripted>, event: Value, deadline: Instant) -> Result<Value, NotDelivered> {
    h.handle_payload(event, deadline).await.to_runtime()
}

fn handler() -> Handler<Scripted> {
    Handler::new(Scripted::default(), ResponseSender::new().expect("client"))
        .with_answer_margin(Duration::from_millis(300))
}

/// Each event its own RequestId, as CloudFormation sends them.
static NEXT_ID: AtomicU32 = AtomicU32::new(1);

fn event(request_type: &str, behave: &str, url: &str) -> Value {
    let mut e = json!({
        "RequestType": request_type,
        "ServiceToken": "arn:aws:lambda:us-east-1:123456789012:function:f",
        "ResponseURL": format!("{url}/resp?X-Amz-Signature=secret"),
        "StackId": "arn:aws:cloudformation:us-east-1:123456789012:stack/s/id",
        "RequestId": format!("req-{}", NEXT_ID.fetch_add(1, Ordering::SeqCst)),
        "ResourceType": "Custom::LogzioRole",
        "LogicalResourceId": "Res",
        "ResourceProperties": {"Behave": behave}
    });
    if request_type != "Create" {
        e["PhysicalResourceId"] = json!("old-id");
    }
    if request_type == "Update" {
        e["OldResourceProperties"] = json!({});
    }
    e
}

async fn cfn(status: u16) -> MockServer {
    let s = MockServer::start().await;
    Mock::given(method("PUT"))
        .respond_with(ResponseTemplate::new(status))
        .mount(&s)
        .await;
    s
}

async fn bodies(s: &MockServer) -> Vec<Value> {
    let reqs = s.received_requests().await.expect("recording");
    reqs.iter()
        .map(|r| {
            assert!(r.body.len() <= 4096);
            assert!(
                r.headers.get("content-type").is_none_or(|v| v.is_empty()),
                "Content-Type set"
            );
            serde_json::from_slice(&r.body).expect("json")
        })
        .collect()
}

fn soon(secs: u64) -> Instant {
    Instant::now() + Duration::from_secs(secs)
}

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
async fn response_url_5xx_and_429_are_retried_until_accepted() {
    let s = MockServer::start().await;
    Mock::given(method("PUT"))
        .respond_with(ResponseTemplate::new(503))
        .up_to_n_times(2)
        .with_priority(1)
        .mount(&s)
        .await;
    Mock::given(method("PUT"))
        .respond_with(ResponseTemplate::new(429))
        .up_to_n_times(1)
        .with_priority(2)
        .mount(&s)
        .await;
    Mock::given(method("PUT"))
        .respond_with(ResponseTemplate::new(200))
        .with_priority(3)
        .mount(&s)
        .await;
    run(&handler(), event("Create", "ok", &s.uri()), soon(20))
        .await
        .expect("delivered");
    let b = bodies(&s).await;
    assert_eq!(b.len(), 4);
    assert!(b.iter().all(|x| x == &b[0]), "every attempt sends the same answer");
}

#[tokio::test]
async fn response_url_403_is_final_not_retried_and_not_redelivered() {
    let s = cfn(403).await;
    let h = handler();
    let e = event("Create", "ok", &s.uri());
    let served = h.handle_payload(e.clone(), soon(20)).await;
    let Delivery::Refused(err) = &served.delivery else {
        panic!("{:?}", served.delivery)
    };
    assert!(!err.to_string().contains("secret"), "the URL's query leaked: {err}");
    assert!(
        served.to_runtime().is_ok(),
        "refused for good: a redelivery must not run the work again"
    );
    assert_eq!(bodies(&s).await.len(), 1);
    // Delivered again anyway (Lambda's queue is at-least-once): not run, not answered again.
    assert!(matches!(
        h.handle_payload(e, soon(20)).await.delivery,
        Delivery::AlreadyAnswered
    ));
    assert_eq!((h.resource_runs(), bodies(&s).await.len()), (1, 1));
}

#[tokio::test]
async fn unreachable_response_url_gives_up_at_the_deadline() {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .expect("bind")
        .local_addr()
        .expect("addr")
        .port();
    let deadline = Instant::now() + Duration::from_millis(1500);
    let err = run(
        &handler(),
        event("Delete", "ok", &format!("http://127.0.0.1:{port}")),
        deadline,
    )
    .await
    .expect_err("cannot deliver");
    assert!(
        Instant::now() <= deadline + Duration::from_millis(200),
        "kept trying past the deadline"
    );
    let msg = err.to_string();
    assert!(msg.contains("could not be reached"), "{msg}");
    let diagnostic = lambda_runtime::Diagnostic::from(err);
    assert_eq!(
        diagnostic.error_type, "ResponseNotDelivered",
        "the one error Lambda redelivers for"
    );
    assert!(!msg.contains("secret"), "{msg}");
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

trait Runs {
    fn resource_runs(&self) -> usize;
}

impl Runs for Handler<Scripted> {
    fn resource_runs(&self) -> usize {
        self.resource().runs.load(Ordering::SeqCst)
    }
}

#[tokio::test]
async fn a_delivered_request_delivered_again_runs_no_work_and_sends_no_second_answer() {
    let s = cfn(200).await;
    let h = handler();
    let e = event("Create", "ok", &s.uri());
    run(&h, e.clone(), soon(10)).await.expect("delivered");
    let again = h.handle_payload(e, soon(10)).await;
    assert!(
        matches!(again.delivery, Delivery::AlreadyAnswered),
        "{:?}",
        again.delivery
    );
    assert!(again.to_runtime().is_ok());
    assert_eq!((h.resource_runs(), bodies(&s).await.len()), (1, 1));
}

#[tokio::test]
async fn a_request_served_before_and_delivered_with_another_response_url_gets_the_same_answer_there() {
    // The same request (RequestId and logical id) arrives again with a new pre-signed ResponseURL: that URL
    // has had no answer, so it gets the remembered body; the work does not run again, and the first URL gets
    // nothing more.
    let (first_url, second_url) = (cfn(200).await, cfn(200).await);
    let h = handler();
    let e = event("Create", "ok", &first_url.uri());
    run(&h, e.clone(), soon(10)).await.expect("delivered");
    let mut moved = e.clone();
    moved["ResponseURL"] = json!(format!("{}/cfn/other?X-Amz-Signature=s", second_url.uri()));
    let again = h.handle_payload(moved.clone(), soon(10)).await;
    assert!(
        matches!(again.delivery, Delivery::Delivered { .. }),
        "{:?}",
        again.delivery
    );
    assert_eq!(bodies(&second_url).await, bodies(&first_url).await, "the same answer");
    assert_eq!(h.resource_runs(), 1, "the work ran once");
    // Each URL has had its answer now: neither gets a second one.
    for e in [e, moved] {
        assert!(matches!(
            h.handle_payload(e, soon(10)).await.delivery,
            Delivery::AlreadyAnswered
        ));
    }
    assert_eq!(
        (bodies(&first_url).await.len(), bodies(&second_url).await.len()),
        (1, 1)
    );
}

#[tokio::test]
async fn an_answer_not_delivered_is_redelivered_by_lambda_and_sent_again_without_running_the_work_again() {
    // The ResponseURL fails (503) until the deadline: the runtime gets the error, so Lambda delivers the event
    // again; by then the URL works. The warm process sends the same answer, and the work does not run twice.
    let s = MockServer::start().await;
    Mock::given(method("PUT"))
        .respond_with(ResponseTemplate::new(503))
        .up_to_n_times(3)
        .with_priority(1)
        .mount(&s)
        .await;
    Mock::given(method("PUT"))
        .respond_with(ResponseTemplate::new(200))
        .with_priority(2)
        .mount(&s)
        .await;
    let h = handler();
    let e = event("Create", "ok", &s.uri());
    let first = h
        .handle_payload(e.clone(), Instant::now() + Duration::from_millis(900))
        .await;
    let tries = bodies(&s).await.len();
    assert!(
        matches!(first.delivery, Delivery::NotDelivered(_)),
        "{:?}",
        first.delivery
    );
    assert!(
        first.to_runtime().is_err(),
        "only a transient failure is an error to the runtime"
    );
    let second = h.handle_payload(e.clone(), soon(10)).await;
    assert!(
        matches!(second.delivery, Delivery::Delivered { .. }),
        "{:?}",
        second.delivery
    );
    let b = bodies(&s).await;
    assert!(b[tries..].iter().all(|x| x == &b[0]), "the same answer");
    assert_eq!(h.resource_runs(), 1, "the work ran once");
    let third = h.handle_payload(e, soon(10)).await;
    assert!(matches!(third.delivery, Delivery::AlreadyAnswered));
    assert_eq!(bodies(&s).await.len(), b.len(), "no answer after the delivered one");
}

#[test]
fn the_template_and_its_repository_entry_carry_the_crates_version() {
    // The version a deployer sees (the Serverless Application Repository's SemanticVersion, the packaged
    // template of `make release`) is the one the binary logs at start: the crate's.
    let template = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/template.yaml")).expect("template");
    let line = format!("    SemanticVersion: {}", env!("CARGO_PKG_VERSION"));
    assert!(template.lines().any(|l| l == line), "template.yaml lacks {line:?}");
}
