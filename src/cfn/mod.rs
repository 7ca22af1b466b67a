//! The CloudFormation custom-resource protocol, apart from any resource logic.
//!
//! This module owns the lifecycle of one event: reading it as untyped JSON (so a malformed event is still
//! answered), racing the work against the Lambda deadline, catching panics, choosing the physical id of a
//! failure, encoding the answer within 4096 bytes and PUTting it exactly once to the ResponseURL. A resource
//! implements [`CustomResource`] (create / update / delete returning a physical id and data, or a reason) and
//! never sees the ResponseURL, so it cannot forget to answer. Nothing here knows about IAM.

pub mod response;
pub mod sender;

use aws_lambda_events::event::cloudformation::CloudFormationCustomResourceRequest;
use lambda_runtime::{Diagnostic, LambdaEvent};
use response::{Answer, Status};
use sender::{ResponseSender, SendError, redact};
use serde_json::{Value, json};
use std::collections::BTreeMap;
use std::future::Future;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

/// Create, Update or Delete.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RequestType {
    Create,
    Update,
    Delete,
}

impl RequestType {
    pub fn as_str(self) -> &'static str {
        match self {
            RequestType::Create => "Create",
            RequestType::Update => "Update",
            RequestType::Delete => "Delete",
        }
    }
}

/// What the resource did for one event (e.g. the API calls it made), recorded as it happens so the event's log
/// line lists them even when the work was stopped at the deadline or panicked.
#[derive(Debug, Clone, Default)]
pub struct Journal(Arc<Mutex<Vec<String>>>);

impl Journal {
    /// Adds an entry; returns its position, for [`Journal::amend`].
    pub fn record(&self, entry: impl Into<String>) -> usize {
        let mut entries = self.lock();
        entries.push(entry.into());
        entries.len() - 1
    }

    /// Replaces the entry at `index` (e.g. to say that the call it names was refused).
    pub fn amend(&self, index: usize, entry: impl Into<String>) {
        if let Some(e) = self.lock().get_mut(index) {
            *e = entry.into();
        }
    }

    pub fn entries(&self) -> Vec<String> {
        self.lock().clone()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Vec<String>> {
        // A panic while holding the lock leaves a list that is still valid to read.
        self.0.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

/// One well-formed CloudFormation request, without its ResponseURL.
#[derive(Debug, Clone)]
pub struct Request {
    pub request_type: RequestType,
    pub request_id: String,
    pub stack_id: String,
    pub logical_resource_id: String,
    pub resource_type: String,
    /// Absent on Create.
    pub physical_resource_id: Option<String>,
    pub properties: Value,
    /// Present on Update only.
    pub old_properties: Option<Value>,
    /// Where the resource records what it does.
    pub journal: Journal,
}

impl Request {
    /// Reads a request from the event's JSON, with the AWS event types for the field names and shapes.
    pub fn parse(payload: &Value) -> Result<Request, String> {
        let typed: CloudFormationCustomResourceRequest =
            serde_json::from_value(payload.clone()).map_err(|e| e.to_string())?;
        Ok(match typed {
            CloudFormationCustomResourceRequest::Create(r) => Request {
                request_type: RequestType::Create,
                request_id: r.request_id,
                stack_id: r.stack_id,
                logical_resource_id: r.logical_resource_id,
                resource_type: r.resource_type,
                physical_resource_id: None,
                properties: r.resource_properties,
                old_properties: None,
                journal: Journal::default(),
            },
            CloudFormationCustomResourceRequest::Update(r) => Request {
                request_type: RequestType::Update,
                request_id: r.request_id,
                stack_id: r.stack_id,
                logical_resource_id: r.logical_resource_id,
                resource_type: r.resource_type,
                physical_resource_id: Some(r.physical_resource_id),
                properties: r.resource_properties,
                old_properties: Some(r.old_resource_properties),
                journal: Journal::default(),
            },
            CloudFormationCustomResourceRequest::Delete(r) => Request {
                request_type: RequestType::Delete,
                request_id: r.request_id,
                stack_id: r.stack_id,
                logical_resource_id: r.logical_resource_id,
                resource_type: r.resource_type,
                physical_resource_id: Some(r.physical_resource_id),
                properties: r.resource_properties,
                old_properties: None,
                journal: Journal::default(),
            },
            _ => return Err("unknown RequestType".into()),
        })
    }

    /// The partition from the StackId (`arn:<partition>:cloudformation:…`).
    pub fn partition(&self) -> Option<&str> {
        let mut parts = self.stack_id.split(':');
        match (parts.next(), parts.next(), parts.next()) {
            (Some("arn"), Some(p), Some("cloudformation")) if !p.is_empty() => Some(p),
            _ => None,
        }
    }
}

/// What an event's bytes amount to, before any work: the pure first half of handling an event.
#[derive(Debug)]
pub enum Reading {
    /// No ResponseURL (or not even a JSON object): there is no one to answer.
    Unanswerable,
    /// A ResponseURL, but not a request this handler understands: to be answered FAILED with `answer`.
    Malformed { url: String, answer: Answer, why: String },
    /// A well-formed request.
    Request { url: String, request: Request },
}

/// Reads one event as the Lambda runtime delivered it (the raw JSON text).
///
/// JSON that serde_json will not build into a [`Value`] (nested deeper than its recursion limit of 128) is still
/// read one level deep, so that an event with absurd properties gets a FAILED answer instead of none: without
/// it, CloudFormation would wait an hour for the stack, and again for its rollback.
pub fn read_raw_event(raw: &str) -> Reading {
    match serde_json::from_str::<Value>(raw) {
        Ok(payload) => read_event(&payload),
        Err(e) => {
            // Each top-level value is kept as raw text (serde_json skips over it without recursion), and only
            // the strings are taken.
            let Ok(fields) = serde_json::from_str::<BTreeMap<String, Box<serde_json::value::RawValue>>>(raw) else {
                return Reading::Unanswerable;
            };
            let shallow: serde_json::Map<String, Value> = fields
                .into_iter()
                .filter_map(|(k, v)| {
                    serde_json::from_str::<String>(v.get())
                        .ok()
                        .map(|s| (k, Value::String(s)))
                })
                .collect();
            let shallow = Value::Object(shallow);
            match read_event(&shallow) {
                Reading::Unanswerable => Reading::Unanswerable,
                Reading::Malformed { url, .. } | Reading::Request { url, .. } => {
                    let why = format!("the event is not JSON this handler can read: {e}");
                    Reading::Malformed {
                        answer: malformed_answer(&shallow, &why),
                        url,
                        why,
                    }
                }
            }
        }
    }
}

/// Reads one event that is already JSON.
pub fn read_event(payload: &Value) -> Reading {
    let Some(url) = payload.get("ResponseURL").and_then(Value::as_str).map(str::to_owned) else {
        return Reading::Unanswerable;
    };
    match Request::parse(payload) {
        Ok(request) => Reading::Request { url, request },
        Err(why) => Reading::Malformed {
            answer: malformed_answer(payload, &why),
            url,
            why,
        },
    }
}

/// The FAILED answer to an event that is not a request, with whatever ids it carries.
fn malformed_answer(payload: &Value, why: &str) -> Answer {
    let field = |name: &str| payload.get(name).and_then(Value::as_str).unwrap_or_default().to_owned();
    let physical = Some(field("PhysicalResourceId"))
        .filter(|p| !p.is_empty())
        .unwrap_or_else(|| format!("{}-{}", field("LogicalResourceId"), field("RequestId")));
    Answer {
        status: Status::Failed,
        reason: Some(format!("malformed event: {why}")),
        physical_resource_id: physical,
        stack_id: field("StackId"),
        request_id: field("RequestId"),
        logical_resource_id: field("LogicalResourceId"),
        data: BTreeMap::new(),
    }
}

/// The answer to a request, choosing the physical id: Update and Delete always keep the request's id; a failed
/// Create answers the failure's id, else `create_failure_id`, else `<LogicalResourceId>-<RequestId>`.
pub fn answer(request: &Request, result: Result<Success, Failure>, create_failure_id: Option<String>) -> Answer {
    let (status, reason, physical, data) = match result {
        Ok(s) => (Status::Success, None, s.physical_resource_id, s.data),
        Err(f) => {
            let id = match request.request_type {
                RequestType::Create => f
                    .physical_resource_id
                    .or(create_failure_id)
                    .unwrap_or_else(|| format!("{}-{}", request.logical_resource_id, request.request_id)),
                _ => String::new(),
            };
            (Status::Failed, Some(f.reason), id, BTreeMap::new())
        }
    };
    let physical_resource_id = match (&request.physical_resource_id, request.request_type) {
        (Some(id), RequestType::Delete) => id.clone(),
        (Some(id), RequestType::Update) if status == Status::Failed => id.clone(),
        _ => physical,
    };
    Answer {
        status,
        reason,
        physical_resource_id,
        stack_id: request.stack_id.clone(),
        request_id: request.request_id.clone(),
        logical_resource_id: request.logical_resource_id.clone(),
        data,
    }
}

/// What a resource reports when it succeeded.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Success {
    pub physical_resource_id: String,
    /// The attributes for Fn::GetAtt.
    pub data: BTreeMap<String, String>,
}

/// What a resource reports when it failed: the Reason a person reads in the console.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Failure {
    pub reason: String,
    /// On Create: the id of what may have been left behind, so the rollback Delete can remove it.
    /// Ignored on Update and Delete, whose answer always keeps the request's id.
    pub physical_resource_id: Option<String>,
}

impl Failure {
    pub fn new(reason: impl Into<String>) -> Self {
        Failure {
            reason: reason.into(),
            ..Failure::default()
        }
    }
}

/// Create, update and delete of one kind of resource. The futures must be `Send`: they run on their own task
/// so that a panic or the deadline can be caught around them.
pub trait CustomResource: Send + Sync + 'static {
    fn create(&self, request: &Request) -> impl Future<Output = Result<Success, Failure>> + Send;
    fn update(&self, request: &Request) -> impl Future<Output = Result<Success, Failure>> + Send;
    fn delete(&self, request: &Request) -> impl Future<Output = Result<Success, Failure>> + Send;
    /// The physical id to answer if a Create fails or times out without saying otherwise.
    fn create_failure_id(&self, request: &Request) -> Option<String> {
        let _ = request;
        None
    }
    /// Called when the work was stopped at the deadline, with part of the answer margin to undo what must not
    /// outlive a failed request (what `request.journal` says was done). Best effort; by default nothing.
    fn abandoned(&self, request: &Request) -> impl Future<Output = ()> + Send {
        let _ = request;
        async {}
    }
}

/// Why an event was not (fully) handled; returned to the Lambda runtime, which logs it.
#[derive(Debug, thiserror::Error)]
pub enum EventError {
    #[error("malformed event: no ResponseURL, so nothing can be answered")]
    NoResponseUrl,
    #[error("malformed event: {0} (answered FAILED)")]
    Malformed(String),
    #[error("the answer did not reach CloudFormation: {0}")]
    Send(#[from] SendError),
}

impl From<EventError> for Diagnostic {
    fn from(e: EventError) -> Diagnostic {
        let error_type = match e {
            EventError::NoResponseUrl | EventError::Malformed(_) => "MalformedEvent",
            EventError::Send(_) => "ResponseNotDelivered",
        };
        Diagnostic {
            error_type: error_type.into(),
            error_message: e.to_string(),
        }
    }
}

/// The Lambda handler: one event in, one answer out.
#[derive(Debug)]
pub struct Handler<R> {
    resource: Arc<R>,
    sender: ResponseSender,
    answer_margin: Duration,
}

/// Time kept back before the Lambda deadline for the answer's PUT (at most a third of the time left).
pub const DEFAULT_ANSWER_MARGIN: Duration = Duration::from_secs(3);
/// Assumed time left when the runtime gives no deadline (Lambda's own maximum).
const NO_DEADLINE: Duration = Duration::from_secs(900);

impl<R: CustomResource> Handler<R> {
    pub fn new(resource: R, sender: ResponseSender) -> Self {
        Handler {
            resource: Arc::new(resource),
            sender,
            answer_margin: DEFAULT_ANSWER_MARGIN,
        }
    }

    /// Keeps `margin` before the deadline for the answer: the work is stopped and answered FAILED then.
    pub fn with_answer_margin(mut self, margin: Duration) -> Self {
        self.answer_margin = margin;
        self
    }

    /// Handles one invocation from the Lambda runtime, which hands over the event's JSON text unparsed (see
    /// [`read_raw_event`]).
    pub async fn handle(&self, event: LambdaEvent<Box<serde_json::value::RawValue>>) -> Result<Value, EventError> {
        let deadline = deadline_instant(event.context.deadline);
        tracing::debug!(
            deadline_ms = event.context.deadline,
            time_left_ms = deadline.saturating_duration_since(Instant::now()).as_millis() as u64,
            "event received"
        );
        self.serve(read_raw_event(event.payload.get()), deadline).await
    }

    /// Handles one event, already JSON, that must be answered before `deadline`.
    pub async fn handle_payload(&self, payload: Value, deadline: Instant) -> Result<Value, EventError> {
        self.serve(read_event(&payload), deadline).await
    }

    async fn serve(&self, reading: Reading, deadline: Instant) -> Result<Value, EventError> {
        let (url, request) = match reading {
            Reading::Unanswerable => {
                let e = EventError::NoResponseUrl;
                tracing::error!(error = %e, "event not handled");
                return Err(e);
            }
            Reading::Malformed { url, answer, why } => {
                let sent = self.sender.send(&url, answer.to_body(), deadline).await;
                tracing::error!(
                    logical_id = %answer.logical_resource_id,
                    url = %redact(&url),
                    outcome = "FAILED",
                    reason = answer.reason.as_deref().unwrap_or_default(),
                    delivered = sent.is_ok(),
                    "malformed event answered"
                );
                sent?;
                return Err(EventError::Malformed(why));
            }
            Reading::Request { url, request } => (url, request),
        };

        let result = self.run_work(&request, deadline).await;
        let fallback_id = match (&result, request.request_type) {
            (Err(_), RequestType::Create) => self.resource.create_failure_id(&request),
            _ => None,
        };
        let answer = answer(&request, result, fallback_id);
        let sent = self.sender.send(&url, answer.to_body(), deadline).await;
        let actions = request.journal.entries();
        let outcome = match answer.status {
            Status::Success => "SUCCESS",
            Status::Failed => "FAILED",
        };
        match &sent {
            Ok(attempts) => tracing::info!(
                request_type = request.request_type.as_str(),
                logical_id = %request.logical_resource_id,
                physical_id = %answer.physical_resource_id,
                outcome,
                reason = answer.reason.as_deref().unwrap_or_default(),
                actions = %actions.join(","),
                put_attempts = attempts,
                "answered"
            ),
            Err(e) => tracing::error!(
                request_type = request.request_type.as_str(),
                logical_id = %request.logical_resource_id,
                physical_id = %answer.physical_resource_id,
                outcome,
                reason = answer.reason.as_deref().unwrap_or_default(),
                actions = %actions.join(","),
                error = %e,
                "answer not delivered"
            ),
        }
        sent?;
        Ok(json!({
            "Status": outcome,
            "PhysicalResourceId": answer.physical_resource_id,
            "Reason": answer.reason,
            "Actions": actions,
        }))
    }

    /// Runs the resource's work on its own task, stopping it at the deadline and catching its panics.
    async fn run_work(&self, request: &Request, deadline: Instant) -> Result<Success, Failure> {
        // The margin is kept for the answer, but never more than a third of the time left: a function whose
        // Timeout was left at Lambda's default of 3 s still gets to do its work.
        let left = deadline.saturating_duration_since(Instant::now());
        let margin = self.answer_margin.min(left / 3);
        let work_deadline = deadline.checked_sub(margin).unwrap_or(deadline);
        let resource = Arc::clone(&self.resource);
        let req = request.clone();
        let mut task = tokio::spawn(async move {
            match req.request_type {
                RequestType::Create => resource.create(&req).await,
                RequestType::Update => resource.update(&req).await,
                RequestType::Delete => resource.delete(&req).await,
            }
        });
        tokio::select! {
            joined = &mut task => match joined {
                Ok(result) => result,
                Err(e) if e.is_panic() => {
                    let payload = e.into_panic();
                    let msg = payload
                        .downcast_ref::<&str>()
                        .map(|s| (*s).to_owned())
                        .or_else(|| payload.downcast_ref::<String>().cloned())
                        .unwrap_or_else(|| "no message".into());
                    Err(Failure::new(format!("internal error: the handler panicked: {msg}")))
                }
                Err(_) => Err(Failure::new("internal error: the handler task was cancelled")),
            },
            () = tokio::time::sleep_until(work_deadline.into()) => {
                task.abort();
                // Undo on its own task too (a panic there must not escape), within half the margin.
                let resource = Arc::clone(&self.resource);
                let req = request.clone();
                let mut undo = tokio::spawn(async move { resource.abandoned(&req).await });
                if tokio::time::timeout(margin / 2, &mut undo).await.is_err() {
                    // Not left running into the next event (or past the freeze of this sandbox).
                    undo.abort();
                }
                Err(Failure::new(format!(
                    "timed out: the {} did not finish {:.1} s before the Lambda deadline and was stopped; \
                     raise the function's Timeout or retry",
                    request.request_type.as_str(),
                    margin.as_secs_f64()
                )))
            }
        }
    }
}

/// Converts the runtime's deadline (milliseconds since the epoch) into an [`Instant`]. 0 means none was given.
/// A value before 2001 cannot be a real deadline: `cargo lambda watch` sends the function timeout there
/// (e.g. 600000), so such a value is read as milliseconds from now, capped at Lambda's 15 minutes.
pub fn deadline_instant(deadline_ms: u64) -> Instant {
    const EPOCH_2001_MS: u64 = 1_000_000_000_000;
    let now = Instant::now();
    if deadline_ms == 0 {
        return now + NO_DEADLINE;
    }
    if deadline_ms < EPOCH_2001_MS {
        return now + Duration::from_millis(deadline_ms).min(NO_DEADLINE);
    }
    let deadline = UNIX_EPOCH + Duration::from_millis(deadline_ms);
    match deadline.duration_since(SystemTime::now()) {
        Ok(left) => now + left,
        Err(_) => now,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn event(request_type: &str) -> Value {
        json!({
            "RequestType": request_type,
            "ServiceToken": "arn:aws:lambda:us-east-1:123456789012:function:f",
            "ResponseURL": "http://127.0.0.1:1/r?sig=secret",
            "StackId": "arn:aws-cn:cloudformation:cn-north-1:123456789012:stack/s/id",
            "RequestId": "req",
            "ResourceType": "Custom::LogzioRole",
            "LogicalResourceId": "Role",
            "PhysicalResourceId": "phys",
            "ResourceProperties": {"BucketName": "b"},
            "OldResourceProperties": {"BucketName": "a"}
        })
    }

    fn nested(depth: usize) -> String {
        format!("{}1{}", "[".repeat(depth), "]".repeat(depth))
    }

    #[test]
    fn an_event_nested_too_deep_for_serde_json_is_still_answered_failed_with_its_ids() {
        let mut e = event("Create");
        e["ResourceProperties"] = json!({"BucketName": "placeholder"});
        let raw = e.to_string().replace("\"placeholder\"", &nested(10_000));
        assert!(
            serde_json::from_str::<Value>(&raw).is_err(),
            "serde_json's limit is what this test is about"
        );
        match read_raw_event(&raw) {
            Reading::Malformed { url, answer, why } => {
                assert_eq!(url, "http://127.0.0.1:1/r?sig=secret");
                assert!(why.contains("recursion limit"), "{why}");
                assert_eq!(answer.status, Status::Failed);
                assert_eq!(
                    (answer.request_id.as_str(), answer.logical_resource_id.as_str()),
                    ("req", "Role")
                );
                assert_eq!(answer.physical_resource_id, "phys");
                assert!(answer.to_body().len() <= response::MAX_BODY);
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn an_event_without_a_response_url_or_not_an_object_is_unanswerable() {
        assert!(matches!(read_raw_event(&nested(10_000)), Reading::Unanswerable));
        assert!(matches!(read_raw_event("not json"), Reading::Unanswerable));
        let mut e = event("Create");
        e.as_object_mut().expect("object").remove("ResponseURL");
        assert!(matches!(read_raw_event(&e.to_string()), Reading::Unanswerable));
        e["ResponseURL"] = json!(7);
        assert!(matches!(read_raw_event(&e.to_string()), Reading::Unanswerable));
    }

    #[test]
    fn a_well_formed_raw_event_reads_as_its_request() {
        match read_raw_event(&event("Update").to_string()) {
            Reading::Request { request, .. } => assert_eq!(request.request_type, RequestType::Update),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn parses_the_three_request_types() {
        let c = Request::parse(&event("Create")).expect("create");
        assert_eq!((c.request_type, c.physical_resource_id), (RequestType::Create, None));
        let u = Request::parse(&event("Update")).expect("update");
        assert_eq!(u.request_type, RequestType::Update);
        assert_eq!(u.old_properties, Some(json!({"BucketName": "a"})));
        assert_eq!(u.physical_resource_id.as_deref(), Some("phys"));
        let d = Request::parse(&event("Delete")).expect("delete");
        assert_eq!(d.request_type, RequestType::Delete);
    }

    #[test]
    fn unknown_request_type_and_missing_fields_are_errors() {
        assert!(Request::parse(&event("Replace")).is_err());
        let mut e = event("Create");
        e.as_object_mut().expect("object").remove("StackId");
        assert!(Request::parse(&e).expect_err("missing").contains("StackId"));
    }

    #[test]
    fn partition_comes_from_the_stack_id() {
        assert_eq!(
            Request::parse(&event("Create")).expect("ok").partition(),
            Some("aws-cn")
        );
        let mut e = event("Create");
        e["StackId"] = json!("not-an-arn");
        assert_eq!(Request::parse(&e).expect("ok").partition(), None);
    }

    #[test]
    fn deadline_zero_means_no_deadline_and_past_means_now() {
        let d = deadline_instant(0);
        assert!(d > Instant::now() + Duration::from_secs(800));
        let now_ms = SystemTime::now().duration_since(UNIX_EPOCH).expect("clock").as_millis() as u64;
        assert!(deadline_instant(now_ms - 5_000) <= Instant::now());
        let left = deadline_instant(now_ms + 60_000).saturating_duration_since(Instant::now());
        assert!(
            left > Duration::from_secs(58) && left <= Duration::from_secs(60),
            "{left:?}"
        );
    }

    #[test]
    fn a_deadline_that_is_a_duration_is_read_as_time_from_now() {
        let left = deadline_instant(600_000).saturating_duration_since(Instant::now());
        assert!(
            left > Duration::from_secs(598) && left <= Duration::from_secs(600),
            "{left:?}"
        );
    }
}
