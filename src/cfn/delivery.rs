//! What became of one event's answer ([`Delivery`]), and what the Lambda runtime is told of it ([`Served`]'s
//! `to_runtime`): an error only when a redelivery can help.

use super::answer::{Answer, Status};
use super::sender::SendError;
use lambda_runtime::Diagnostic;
use serde_json::{Value, json};
use std::sync::Arc;

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
    pub(super) fn from_send(sent: Result<u32, SendError>) -> Delivery {
        match sent {
            Ok(attempts) => Delivery::Delivered { attempts },
            Err(e @ (SendError::Rejected { .. } | SendError::BadUrl)) => Delivery::Refused(e),
            Err(e @ SendError::GaveUp { .. }) => Delivery::NotDelivered(e),
        }
    }

    /// Final: a redelivery must not run the request again.
    pub(super) fn is_final(&self) -> bool {
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

pub(super) fn status_str(s: Status) -> &'static str {
    match s {
        Status::Success => "SUCCESS",
        Status::Failed => "FAILED",
    }
}
