//! The Lambda entry point: tracing, the clients (built once, beside the first poll), and the runtime loop.
//! Nothing else lives here.
//!
//! One thread: Lambda hands a function one event at a time, and a single-threaded runtime spends no CPU on
//! waking and stealing between worker threads (see docs/benchmarks.md for the before and after).

use lambda_runtime::{Diagnostic, LambdaEvent, service_fn};
use serde_json::value::RawValue;

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), lambda_runtime::Error> {
    logzio_role::init_tracing();
    tracing::info!(version = env!("CARGO_PKG_VERSION"), "logzio-role starting");
    // Built beside the first poll of the Runtime API, not before it (see StartingHandler).
    let handler = logzio_role::StartingHandler::start();
    let handler = &handler;
    lambda_runtime::run(service_fn(move |event: LambdaEvent<Box<RawValue>>| async move {
        let ready = handler.get().await.map_err(|e| Diagnostic {
            error_type: "HandlerInitFailed".into(),
            error_message: e.to_string(),
        })?;
        ready.handle(event).await.map_err(Diagnostic::from)
    }))
    .await
}
