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

use super::answer::{Status, answer, malformed};
use super::delivery::{Delivery, NotDelivered, Served, status_str};
use super::event::{Reading, RequestType, read_event, read_raw_event};
use super::memory::{Memory, Seen, request_key};
use super::metrics::{self, About, Outcome};
use super::resource::CustomResource;
use super::sender::{ResponseSender, redact};
use super::work;
use crate::budget::{ANSWER_MARGIN, NO_DEADLINE};
use lambda_runtime::LambdaEvent;
use serde_json::Value;
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

/// The Lambda handler: one event in, one answer out.
#[derive(Debug)]
pub struct Handler<R> {
    resource: Arc<R>,
    sender: ResponseSender,
    answer_margin: Duration,
    memory: Memory,
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

impl<R: CustomResource> Handler<R> {
    pub fn new(resource: R, sender: ResponseSender) -> Self {
        Handler {
            resource: Arc::new(resource),
            sender,
            answer_margin: ANSWER_MARGIN,
            memory: Memory::default(),
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
        self.serve(reading, deadline, Some(event.context.invoked_function_arn))
            .await
            .to_runtime()
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
            Reading::Request { url, request } => (url, request),
        };
        let key = request_key(&request.request_id, &request.logical_resource_id);
        if let Some(served) = self.again(key.as_deref(), &url, deadline, &record).await {
            return served;
        }

        let result = work::run(
            &self.resource,
            &request,
            function_arn,
            &record,
            deadline,
            self.answer_margin,
        )
        .await;
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
        let Seen::Resend(body) = self.memory.seen(key, url)? else {
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
        if let Some(key) = key {
            self.memory.remember(key, url, body, delivery.is_final());
        }
        delivery
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
