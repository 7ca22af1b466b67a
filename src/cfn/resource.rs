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

/// A resource's error with what the failed work learned: the id of something it made and could not remove
/// (`left_behind`), for a Create's answer to name, so that CloudFormation's rollback Delete removes it. Any
/// error converts into one that left nothing behind, so `?` works on the resource's own errors.
#[derive(Debug)]
pub struct Failed<E, Id> {
    pub error: E,
    pub left_behind: Option<Id>,
}

impl<E, Id> Failed<E, Id> {
    /// `error`, after making `id`, which is still there.
    pub fn leaving(error: E, id: Option<Id>) -> Self {
        Failed { error, left_behind: id }
    }
}

impl<E, Id> From<E> for Failed<E, Id> {
    fn from(error: E) -> Self {
        Failed {
            error,
            left_behind: None,
        }
    }
}

impl<E: fmt::Display, Id: fmt::Display> From<Failed<E, Id>> for Failure {
    /// The Reason is the error's text; the physical id, what was left behind.
    fn from(f: Failed<E, Id>) -> Failure {
        Failure {
            reason: f.error.to_string(),
            physical_resource_id: f.left_behind.map(|id| id.to_string()),
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_failure_names_what_it_left_behind_and_an_error_alone_left_nothing() {
        let left: Failure = Failed::leaving("the policy was refused", Some(42)).into();
        assert_eq!(
            (left.reason.as_str(), left.physical_resource_id.as_deref()),
            ("the policy was refused", Some("42"))
        );
        let nothing: Failure = Failed::<_, u64>::from("no such bucket").into();
        assert_eq!(nothing.physical_resource_id, None);
    }
}
