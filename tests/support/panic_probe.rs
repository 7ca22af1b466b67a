//! Not shipped. The handler exactly as `src/main.rs` runs it (same runtime loop, same protocol, same archive
//! role), with one wrapper around the resource: it panics inside the work when the properties carry
//! `"PanicProbe": "<message>"`. The shipped binary has no input that panics (the fuzzers look for one), so the
//! fault tier (tests/faults.py) runs this to show, through the real Lambda Runtime API loop, that a panic in the
//! work is answered FAILED and the process goes on serving.

use logzio_role::cfn::{CustomResource, Failure, Handler, Invocation, Request, Success};
use serde_json::value::RawValue;

#[derive(Debug)]
struct PanicProbe<R>(R);

impl<R> PanicProbe<R> {
    fn probe(request: &Request) {
        if let Some(message) = request.properties.get("PanicProbe").and_then(|m| m.as_str()) {
            panic!("{message}");
        }
    }
}

impl<R: CustomResource> CustomResource for PanicProbe<R> {
    type Record = R::Record;
    async fn create(&self, request: &Request, invocation: &Invocation, record: &R::Record) -> Result<Success, Failure> {
        Self::probe(request);
        self.0.create(request, invocation, record).await
    }
    async fn update(&self, request: &Request, invocation: &Invocation, record: &R::Record) -> Result<Success, Failure> {
        Self::probe(request);
        self.0.update(request, invocation, record).await
    }
    async fn delete(&self, request: &Request, invocation: &Invocation, record: &R::Record) -> Result<Success, Failure> {
        Self::probe(request);
        self.0.delete(request, invocation, record).await
    }
    fn create_failure_id(&self, request: &Request) -> Option<String> {
        self.0.create_failure_id(request)
    }
    async fn undo_after_deadline(&self, request: &Request, invocation: &Invocation, record: &R::Record) {
        self.0.undo_after_deadline(request, invocation, record).await
    }
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), lambda_runtime::Error> {
    logzio_role::init_tracing();
    let (resource, sender) = logzio_role::parts().await?;
    let handler = Handler::new(PanicProbe(resource), sender);
    let handler = &handler;
    lambda_runtime::run(lambda_runtime::service_fn(
        move |event: lambda_runtime::LambdaEvent<Box<RawValue>>| handler.handle(event),
    ))
    .await
}
