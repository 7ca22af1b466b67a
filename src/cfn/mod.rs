//! The CloudFormation custom-resource protocol, apart from any resource logic. Nothing here knows about IAM.
//!
//! # Layout
//! - [`event`]: the event's bytes in, a [`Request`] (or a malformed event still to answer) out; pure.
//! - [`answer`]: the physical id an answer carries, and its body within 4096 bytes; pure.
//! - [`resource`]: the [`CustomResource`] trait a resource implements; it never sees the ResponseURL.
//! - [`handler`]: one event through the work (deadline, panics), the answer's PUT, and what the Lambda runtime
//!   is told (an error only when a redelivery can help).
//! - [`metrics`]: the EMF record of each answer (FAILED, undelivered, refused), which the alarm watches; pure.
//! - [`sender`]: the PUT to the pre-signed ResponseURL, retried until the deadline, never logged in full.

pub mod answer;
pub mod event;
pub mod handler;
pub mod metrics;
pub mod resource;
pub mod sender;

pub use answer::{Answer, Status, answer};
pub use event::{Reading, Request, RequestType, read_event, read_raw_event};
pub use handler::{DEFAULT_ANSWER_MARGIN, Delivery, Handler, NotDelivered, Served, deadline_instant};
pub use resource::{CustomResource, Failure, Success};
