//! What a resource implements: create / update / delete returning a physical id and data, or a reason. A
//! resource never sees the ResponseURL, so it cannot forget to answer or answer twice.

use super::event::Request;
use super::invocation::Invocation;
use std::collections::BTreeMap;
use std::fmt;
use std::future::Future;

/// What a resource reports when it succeeded.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Success {
    pub physical_resource_id: String,
    /// The attributes for Fn::GetAtt.
    pub data: BTreeMap<String, String>,
}

/// What a resource reports when it failed: the Reason a person reads in the console.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Failure {
    pub reason: String,
    /// On Create: the id of what may have been left behind, so the rollback Delete can remove it.
    /// Ignored on Update and Delete, whose answer always keeps the request's id.
    pub physical_resource_id: Option<String>,
}

impl Failure {
    pub fn new(reason: impl Into<String>) -> Self {
        Failure {
            reason: reason.into(),
            ..Failure::default()
        }
    }
}

/// Create, update and delete of one kind of resource. The futures must be `Send`: they run on their own task
/// so that a panic or the deadline can be caught around them.
pub trait CustomResource: Send + Sync + 'static {
    /// What the resource records while it works (e.g. its API calls and how each ended). The protocol makes a
    /// fresh one for each event and keeps it beside the request, so that it survives the work being stopped at
    /// the deadline or panicking: it renders it into the event's log line and hands it to
    /// [`CustomResource::undo_after_deadline`].
    type Record: Default + fmt::Display + Send + Sync + 'static;

    fn create(
        &self,
        request: &Request,
        invocation: &Invocation,
        record: &Self::Record,
    ) -> impl Future<Output = Result<Success, Failure>> + Send;
    fn update(
        &self,
        request: &Request,
        invocation: &Invocation,
        record: &Self::Record,
    ) -> impl Future<Output = Result<Success, Failure>> + Send;
    fn delete(
        &self,
        request: &Request,
        invocation: &Invocation,
        record: &Self::Record,
    ) -> impl Future<Output = Result<Success, Failure>> + Send;

    /// The physical id to answer if a Create fails or times out without saying otherwise.
    fn create_failure_id(&self, request: &Request) -> Option<String> {
        let _ = request;
        None
    }

    /// Called when the work was stopped at the deadline, with part of the answer margin, to undo what must not
    /// outlive a failed request. `record` is what the stopped work recorded; decide from facts, not hopes: a
    /// call in flight may or may not have taken effect. Best effort; by default nothing.
    fn undo_after_deadline(
        &self,
        request: &Request,
        invocation: &Invocation,
        record: &Self::Record,
    ) -> impl Future<Output = ()> + Send {
        let _ = (request, invocation, record);
        async {}
    }
}
