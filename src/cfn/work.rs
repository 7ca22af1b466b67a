//! One event's work: the resource's create, update or delete on its own task, raced against the deadline (less
//! the margin kept for the answer), with its panics caught; at the deadline, the work is stopped and the
//! resource may undo what must not outlive a failed request.

use super::event::{Request, RequestType};
use super::invocation::Invocation;
use super::resource::{CustomResource, Failure, Success};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Runs `request` through `resource`, as the function `function_arn` received it, answering before `deadline`
/// with `answer_margin` kept for the answer's PUT.
pub(super) async fn run<R: CustomResource>(
    resource: &Arc<R>,
    request: &Request,
    function_arn: Option<String>,
    record: &Arc<R::Record>,
    deadline: Instant,
    answer_margin: Duration,
) -> Result<Success, Failure> {
    // The margin is kept for the answer, but never more than a third of the time left: a function whose Timeout
    // was left at Lambda's default of 3 s still gets to do its work.
    let left = deadline.saturating_duration_since(Instant::now());
    let margin = answer_margin.min(left / 3);
    let invocation = Arc::new(Invocation::new(
        function_arn,
        deadline.checked_sub(margin).unwrap_or(deadline),
    ));
    let work_deadline = invocation.work_deadline;
    let (res, req, inv, rec) = (
        Arc::clone(resource),
        request.clone(),
        Arc::clone(&invocation),
        Arc::clone(record),
    );
    let mut task = tokio::spawn(async move {
        match req.request_type {
            RequestType::Create => res.create(&req, &inv, &rec).await,
            RequestType::Update => res.update(&req, &inv, &rec).await,
            RequestType::Delete => res.delete(&req, &inv, &rec).await,
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
            let (res, req, rec) = (Arc::clone(resource), request.clone(), Arc::clone(record));
            let mut undo = tokio::spawn(async move { res.undo_after_deadline(&req, &invocation, &rec).await });
            if tokio::time::timeout(margin / 2, &mut undo).await.is_err() {
                // Not left running into the next event (or past the freeze of this sandbox).
                undo.abort();
            }
            Err(Failure::new(format!(
                "timed out: the {} did not finish {:.1} s before the Lambda deadline and was stopped; raise the \
                 function's Timeout or retry",
                request.request_type.as_str(),
                margin.as_secs_f64()
            )))
        }
    }
}
