//! The CloudFormation custom-resource protocol, apart from any resource logic. Nothing here knows about IAM.
//!
//! # Layout
//! - [`event`]: the event's bytes in, a [`Request`] (or a malformed event still to answer) out; pure.
//! - [`answer`]: the physical id an answer carries, and its body within 4096 bytes; pure.
//! - [`resource`]: the [`CustomResource`] trait a resource implements; it never sees the ResponseURL.
//! - [`invocation`]: what the work is told beside the event (the function that received it, the work's deadline).
//! - [`handler`]: one event through the work, the answer's PUT, and its log line and record; with [`work`] (the
//!   work on its own task, raced against the deadline, panics caught), `memory` (the requests a process
//!   served, so that none is run twice) and [`delivery`] (what became of the answer, and what the Lambda
//!   runtime is told: an error only when a redelivery can help).
//! - [`metrics`]: the EMF record of each answer (FAILED, undelivered, refused), which the alarm watches; pure.
//! - [`sender`]: the PUT to the pre-signed ResponseURL, retried until the deadline, never logged in full.

pub mod answer;
pub mod delivery;
pub mod event;
pub mod handler;
pub mod invocation;
mod memory;
pub mod metrics;
pub mod resource;
pub mod sender;
pub mod work;

pub use answer::{Answer, Status, answer};
pub use delivery::{Delivery, NotDelivered, Served};
pub use event::{Reading, Request, RequestType, read_event, read_raw_event};
pub use handler::{Handler, deadline_instant};
pub use invocation::Invocation;
pub use resource::{CustomResource, Failed, Failure, Success};
