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

mod delivery;
mod work;

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

trait Runs {
    fn resource_runs(&self) -> usize;
}

impl Runs for Handler<Scripted> {
    fn resource_runs(&self) -> usize {
        self.resource().runs.load(Ordering::SeqCst)
    }
}
