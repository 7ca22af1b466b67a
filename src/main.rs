//! The Lambda entry point: tracing, the clients (built once), and the runtime loop. Nothing else lives here.
//!
//! One thread: Lambda hands a function one event at a time, and a single-threaded runtime spends no CPU on
//! waking and stealing between worker threads (see docs/benchmarks.md for the before and after).

use lambda_runtime::{LambdaEvent, service_fn};
use serde_json::value::RawValue;

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), lambda_runtime::Error> {
    logzio_role::init_tracing();
    tracing::info!(version = env!("CARGO_PKG_VERSION"), "logzio-role starting");
    let handler = logzio_role::handler().await?;
    let handler = &handler;
    lambda_runtime::run(service_fn(move |event: LambdaEvent<Box<RawValue>>| {
        handler.handle(event)
    }))
    .await
}
