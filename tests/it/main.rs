//! The integration tests, one binary (the AWS SDK is linked once):
//! - [`lifecycle`]: the whole handler against moto's IAM server and a local ResponseURL — the contract suite of
//!   the SDK adapter: what CloudFormation receives and what IAM holds afterwards.
//! - [`protocol`]: the CloudFormation protocol with scripted resources: malformed events, panics, the deadline,
//!   the ResponseURL's failures, and what the Lambda runtime is told (redelivery).
//! - [`logzio`]: the Logz.io adapter's requests against a local server, and the token from Secrets Manager on moto.
//! - [`proptests`]: the promises that must hold for every input (policy scoping, the 4096-byte answer).
//! - [`support`]: moto, the handler under test, the ResponseURL, events.

mod lifecycle;
mod logzio;
mod proptests;
mod protocol;
mod support;
