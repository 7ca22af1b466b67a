//! The handler: one event in, at most one delivered answer out, and what to tell the Lambda runtime.
//!
//! It races the resource's work against the Lambda deadline (keeping a margin for the answer), catches panics,
//! PUTs the answer, and decides the runtime outcome. CloudFormation invokes the function asynchronously, and
//! Lambda delivers an event again when the function returns an error, so an error goes to the runtime only when
//! a redelivery can help: the answer could not be delivered for a transient reason. An answer delivered, an
//! answer refused for good, a malformed event and an event without ResponseURL all return success (and log an
//! error line where something went wrong), so that finished work is never replayed. A process remembers the
//! requests it finished, with their answer and the ResponseURLs that had it, so a redelivery to a warm process
//! runs no work twice: it is skipped where its URL had the answer, and any other URL (an undelivered answer, or
//! the same request with a new ResponseURL) gets the same body.

use super::answer::{Answer, Status, answer, malformed};
use super::event::{Reading, Request, RequestType, read_event, read_raw_event};
use super::metrics::{self, About, Outcome};
use super::resource::{CustomResource, Failure, Success};
use super::sender::{ResponseSender, SendError, redact};
use lambda_runtime::{Diagnostic, LambdaEvent};
use serde_json::{Value, json};
use std::collections::VecDeque;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

/// Time kept back before the Lambda deadline for the answer's PUT: [`crate::budget::ANSWER_MARGIN`].
pub const DEFAULT_ANSWER_MARGIN: Duration = crate::budget::ANSWER_MARGIN;
use crate::budget::NO_DEADLINE;
/// How many requests a process remembers (a redelivery comes within minutes; events are few per stack).
const REMEMBERED: usize = 128;
/// How many ResponseURLs with a final answer are remembered per request.
const ANSWERED_URLS: usize = 4;

/// The one outcome the runtime is told is an error: the answer could not be delivered, for a reason that a
/// redelivery of the event may not meet again.
#[derive(Debug, thiserror::Error)]
#[error("the answer did not reach CloudFormation: {0}")]
pub struct NotDelivered(pub SendError);

impl From<NotDelivered> for Diagnostic {
    fn from(e: NotDelivered) -> Diagnostic {
        Diagnostic {
            error_type: "ResponseNotDelivered".into(),
            error_message: e.to_string(),
        }
    }
}

/// What became of one event's answer.
#[derive(Debug)]
pub enum Delivery {
    /// The ResponseURL accepted it (2xx) after this many attempts.
    Delivered { attempts: u32 },
    /// Refused for good (a final HTTP status, an invalid URL): no redelivery can change that.
    Refused(SendError),
    /// Not delivered for a transient reason (connection, timeouts, 5xx/429 until the deadline).
    NotDelivered(SendError),
    /// No ResponseURL: nothing could be answered.
    NoResponseUrl,
    /// This process already finished this request: nothing was run or sent again.
    AlreadyAnswered,
}

impl Delivery {
    fn from_send(sent: Result<u32, SendError>) -> Delivery {
        match sent {
            Ok(attempts) => Delivery::Delivered { attempts },
            Err(e @ (SendError::Rejected { .. } | SendError::BadUrl)) => Delivery::Refused(e),
            Err(e @ SendError::GaveUp { .. }) => Delivery::NotDelivered(e),
        }
    }

    /// Final: a redelivery must not run the request again.
    fn is_final(&self) -> bool {
        !matches!(self, Delivery::NotDelivered(_))
    }
}

/// One event as the handler served it: the answer (if any was made), what became of it, and the resource's
/// record of its work.
#[derive(Debug)]
pub struct Served<T> {
    pub answer: Option<Answer>,
    pub delivery: Delivery,
    pub record: Arc<T>,
}

impl<T: std::fmt::Display> Served<T> {
    /// What the Lambda runtime is told: an error only when the answer was not delivered for a transient reason.
    pub fn to_runtime(self) -> Result<Value, NotDelivered> {
        let delivery = match &self.delivery {
            Delivery::Delivered { .. } => "delivered",
            Delivery::Refused(_) => "refused",
            Delivery::NoResponseUrl => "no ResponseURL",
            Delivery::AlreadyAnswered => "already answered",
            Delivery::NotDelivered(_) => "not delivered",
        };
        let summary = json!({
            "Status": self.answer.as_ref().map(|a| status_str(a.status)),
            "PhysicalResourceId": self.answer.as_ref().map(|a| a.physical_resource_id.clone()),
            "Reason": self.answer.as_ref().and_then(|a| a.reason.clone()),
            "Calls": self.record.to_string(),
            "Delivery": delivery,
        });
        match self.delivery {
            Delivery::NotDelivered(e) => Err(NotDelivered(e)),
            _ => Ok(summary),
        }
    }
}

fn status_str(s: Status) -> &'static str {
    match s {
        Status::Success => "SUCCESS",
        Status::Failed => "FAILED",
    }
}

/// What a process remembers of a request it served: the answer's body, and the ResponseURLs that had their
/// answer for good. The work is never run twice: a delivery of the request to one of those URLs is skipped, and
/// one to any other URL (an undelivered answer, or the same request sent again with a new pre-signed URL) gets
/// this body.
#[derive(Debug)]
struct Remembered {
    body: Vec<u8>,
    answered: Vec<String>,
}

/// The Lambda handler: one event in, one answer out.
#[derive(Debug)]
pub struct Handler<R> {
    resource: Arc<R>,
    sender: ResponseSender,
    answer_margin: Duration,
    served: Mutex<VecDeque<(String, Remembered)>>,
}

/// Prints the event's EMF record (see [`metrics`]): `failed` when its answer was FAILED, and what became of the
/// delivery.
fn emit_metrics(about: About<'_>, delivery: &Delivery, failed: bool) {
    if !metrics::enabled() {
        return;
    }
    let outcome = Outcome {
        failed,
        undelivered: matches!(delivery, Delivery::NotDelivered(_)),
        refused: matches!(delivery, Delivery::Refused(_) | Delivery::NoResponseUrl),
    };
    let function = std::env::var("AWS_LAMBDA_FUNCTION_NAME").unwrap_or_default();
    let now_ms = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX));
    metrics::emit(&metrics::record(&function, about, outcome, now_ms));
}

/// The key of a request across deliveries: CloudFormation's RequestId is unique per request.
fn request_key(request_id: &str, logical_id: &str) -> Option<String> {
    (!request_id.is_empty()).then(|| format!("{request_id}/{logical_id}"))
}

impl<R: CustomResource> Handler<R> {
    pub fn new(resource: R, sender: ResponseSender) -> Self {
        Handler {
            resource: Arc::new(resource),
            sender,
            answer_margin: DEFAULT_ANSWER_MARGIN,
            served: Mutex::new(VecDeque::new()),
        }
    }

    /// The resource this handler serves.
    pub fn resource(&self) -> &R {
        &self.resource
    }

    /// Keeps `margin` before the deadline for the answer: the work is stopped and answered FAILED then.
    pub fn with_answer_margin(mut self, margin: Duration) -> Self {
        self.answer_margin = margin;
        self
    }

    /// Handles one invocation from the Lambda runtime, which hands over the event's JSON text unparsed (see
    /// [`read_raw_event`]).
    pub async fn handle(&self, event: LambdaEvent<Box<serde_json::value::RawValue>>) -> Result<Value, NotDelivered> {
        let deadline = deadline_instant(event.context.deadline);
        tracing::debug!(
            deadline_ms = event.context.deadline,
            time_left_ms = deadline.saturating_duration_since(Instant::now()).as_millis() as u64,
            "event received"
        );
        let reading = read_raw_event(event.payload.get());
        let function_arn = Some(event.context.invoked_function_arn).filter(|a| !a.is_empty());
        self.serve(reading, deadline, function_arn).await.to_runtime()
    }

    /// Handles one event, already JSON, that must be answered before `deadline`.
    pub async fn handle_payload(&self, payload: Value, deadline: Instant) -> Served<R::Record> {
        self.serve(read_event(&payload), deadline, None).await
    }

    /// Like [`Handler::handle_payload`], as the function `function_arn` received it.
    pub async fn handle_payload_as(&self, payload: Value, deadline: Instant, function_arn: &str) -> Served<R::Record> {
        self.serve(read_event(&payload), deadline, Some(function_arn.to_owned()))
            .await
    }

    /// Serves one read event.
    pub async fn serve(&self, reading: Reading, deadline: Instant, function_arn: Option<String>) -> Served<R::Record> {
        let record = Arc::new(R::Record::default());
        let (url, request) = match reading {
            Reading::Unanswerable => {
                tracing::error!(
                    problem = "malformed event: no ResponseURL, so nothing can be answered",
                    "event not answered"
                );
                emit_metrics(About::default(), &Delivery::NoResponseUrl, false);
                return Served {
                    answer: None,
                    delivery: Delivery::NoResponseUrl,
                    record,
                };
            }
            Reading::Malformed { url, ids, why } => {
                let answer = malformed(&ids, &why);
                let key = request_key(&answer.request_id, &answer.logical_resource_id);
                if let Some(served) = self.again(key.as_deref(), &url, deadline, &record).await {
                    return served;
                }
                let delivery = self.deliver(key, &url, answer.to_body(), deadline).await;
                tracing::error!(
                    logical_id = %answer.logical_resource_id,
                    url = %redact(&url),
                    outcome = "FAILED",
                    reason = answer.reason.as_deref().unwrap_or_default(),
                    problem = %why,
                    delivery = ?delivery,
                    "malformed event answered"
                );
                let about = About {
                    stack_id: &answer.stack_id,
                    logical_id: &answer.logical_resource_id,
                    request_id: &answer.request_id,
                    status: "FAILED",
                    ..About::default()
                };
                emit_metrics(about, &delivery, true);
                return Served {
                    answer: Some(answer),
                    delivery,
                    record,
                };
            }
            Reading::Request { url, mut request } => {
                request.function_arn = function_arn;
                (url, request)
            }
        };
        let key = request_key(&request.request_id, &request.logical_resource_id);
        if let Some(served) = self.again(key.as_deref(), &url, deadline, &record).await {
            return served;
        }

        let result = self.run_work(&request, &record, deadline).await;
        let fallback_id = match (&result, request.request_type) {
            (Err(_), RequestType::Create) => self.resource.create_failure_id(&request),
            _ => None,
        };
        let answer = answer(&request, result, fallback_id);
        let delivery = self.deliver(key, &url, answer.to_body(), deadline).await;
        let outcome = status_str(answer.status);
        let reason = answer.reason.as_deref().unwrap_or_default();
        let request_type = request.request_type.as_str();
        let (logical_id, physical_id) = (&request.logical_resource_id, &answer.physical_resource_id);
        let (stack_id, resource_type) = (&request.stack_id, &request.resource_type);
        let failed = answer.status == Status::Failed;
        match &delivery {
            // A FAILED answer is a warning: something for a person to read, though it was delivered.
            Delivery::Delivered { attempts } if failed => tracing::warn!(
                request_type, resource_type = %resource_type, stack_id = %stack_id, logical_id = %logical_id,
                physical_id = %physical_id, outcome, reason, calls = %record, put_attempts = attempts, "answered"
            ),
            Delivery::Delivered { attempts } => tracing::info!(
                request_type, resource_type = %resource_type, stack_id = %stack_id, logical_id = %logical_id,
                physical_id = %physical_id, outcome, reason, calls = %record, put_attempts = attempts, "answered"
            ),
            Delivery::Refused(e) => tracing::error!(
                request_type, resource_type = %resource_type, stack_id = %stack_id, logical_id = %logical_id,
                physical_id = %physical_id, outcome, reason, calls = %record, error = %e,
                "answer refused for good; the event is not run again"
            ),
            Delivery::NotDelivered(e) => tracing::error!(
                request_type, resource_type = %resource_type, stack_id = %stack_id, logical_id = %logical_id,
                physical_id = %physical_id, outcome, reason, calls = %record, error = %e,
                "answer not delivered; Lambda may deliver the event again"
            ),
            Delivery::NoResponseUrl | Delivery::AlreadyAnswered => {}
        }
        let about = About {
            stack_id,
            resource_type,
            logical_id,
            request_type,
            request_id: &request.request_id,
            status: outcome,
        };
        emit_metrics(about, &delivery, failed);
        Served {
            answer: Some(answer),
            delivery,
            record,
        }
    }

    /// A request this process served before: skipped when its answer was final, or its undelivered answer sent
    /// again (no work is run twice). None when the request is new here.
    async fn again(
        &self,
        key: Option<&str>,
        url: &str,
        deadline: Instant,
        record: &Arc<R::Record>,
    ) -> Option<Served<R::Record>> {
        let key = key?;
        let body = {
            let served = self.served.lock().unwrap_or_else(PoisonError::into_inner);
            let remembered = served.iter().find(|(k, _)| k == key).map(|(_, r)| r)?;
            (!remembered.answered.iter().any(|u| u == url)).then(|| remembered.body.clone())
        };
        let Some(body) = body else {
            tracing::warn!(request = key, "this request was already answered: not run again");
            return Some(Served {
                answer: None,
                delivery: Delivery::AlreadyAnswered,
                record: Arc::clone(record),
            });
        };
        let sent: Value = serde_json::from_slice(&body).unwrap_or_default();
        let delivery = self.deliver(Some(key.to_owned()), url, body, deadline).await;
        match &delivery {
            Delivery::Delivered { attempts } => tracing::info!(
                request = key,
                put_attempts = attempts,
                "the answer of a request served before was delivered to this ResponseURL"
            ),
            other => tracing::error!(request = key, delivery = ?other, "the answer is still not delivered"),
        }
        // The answer's status was counted when it was made; only what became of this delivery counts here. The
        // record names the event from the answer's body (ids and status; the body has no resource type).
        let field = |k: &str| sent.get(k).and_then(Value::as_str).unwrap_or_default();
        let about = About {
            stack_id: field("StackId"),
            logical_id: field("LogicalResourceId"),
            request_id: field("RequestId"),
            status: field("Status"),
            ..About::default()
        };
        emit_metrics(about, &delivery, false);
        Some(Served {
            answer: None,
            delivery,
            record: Arc::clone(record),
        })
    }

    /// PUTs the answer and remembers what became of it.
    async fn deliver(&self, key: Option<String>, url: &str, body: Vec<u8>, deadline: Instant) -> Delivery {
        let delivery = Delivery::from_send(self.sender.send(url, body.clone(), deadline).await);
        // The body of the first answer is kept (a request is answered with one body, whatever URL asks).
        if let Some(key) = key {
            let mut served = self.served.lock().unwrap_or_else(PoisonError::into_inner);
            let mut remembered = match served.iter().position(|(k, _)| *k == key) {
                Some(i) => served.remove(i).map(|(_, r)| r),
                None => None,
            }
            .unwrap_or(Remembered {
                body,
                answered: Vec::new(),
            });
            if delivery.is_final() && !remembered.answered.iter().any(|u| u == url) {
                if remembered.answered.len() == ANSWERED_URLS {
                    remembered.answered.remove(0);
                }
                remembered.answered.push(url.to_owned());
            }
            if served.len() == REMEMBERED {
                served.pop_front();
            }
            served.push_back((key, remembered));
        }
        delivery
    }

    /// Runs the resource's work on its own task, stopping it at the deadline and catching its panics.
    async fn run_work(
        &self,
        request: &Request,
        record: &Arc<R::Record>,
        deadline: Instant,
    ) -> Result<Success, Failure> {
        // The margin is kept for the answer, but never more than a third of the time left: a function whose
        // Timeout was left at Lambda's default of 3 s still gets to do its work.
        let left = deadline.saturating_duration_since(Instant::now());
        let margin = self.answer_margin.min(left / 3);
        let work_deadline = deadline.checked_sub(margin).unwrap_or(deadline);
        let (resource, mut req, rec) = (Arc::clone(&self.resource), request.clone(), Arc::clone(record));
        req.work_deadline = Some(work_deadline);
        let mut task = tokio::spawn(async move {
            match req.request_type {
                RequestType::Create => resource.create(&req, &rec).await,
                RequestType::Update => resource.update(&req, &rec).await,
                RequestType::Delete => resource.delete(&req, &rec).await,
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
                let (resource, req, rec) = (Arc::clone(&self.resource), request.clone(), Arc::clone(record));
                let mut undo = tokio::spawn(async move { resource.undo_after_deadline(&req, &rec).await });
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
