//! The typed record of one invocation's IAM calls: which call, on which role, and how it ended (in flight,
//! done, refused with IAM's code), plus the RoleId of every role a CreateRole of this invocation returned.
//!
//! The record is kept beside the request (the protocol layer makes one per event and keeps it when the work is
//! stopped at the deadline), rendered into the event's log line, and read by the undo after the deadline. It is
//! only a record: it decides nothing.

use std::fmt;
use std::sync::{Mutex, MutexGuard, PoisonError};
use std::time::SystemTime;

/// How one call ended, as far as this invocation knows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CallState {
    /// Sent, no answer yet: it may still take effect (the deadline stopped the work, or it hangs).
    InFlight,
    /// IAM answered success.
    Done,
    /// IAM (or the transport) answered this error code.
    Refused(String),
}

/// One IAM call of this invocation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Call {
    /// The IAM action, e.g. `CreateRole`.
    pub action: &'static str,
    /// The role it is about.
    pub role: String,
    pub state: CallState,
    /// The RoleId IAM returned for a successful CreateRole.
    pub created_role_id: Option<String>,
}

/// The calls of one invocation, in the order they were made, and when the invocation began.
#[derive(Debug)]
pub struct CallLog {
    began: SystemTime,
    calls: Mutex<Vec<Call>>,
}

impl Default for CallLog {
    fn default() -> Self {
        CallLog::began_at(SystemTime::now())
    }
}

/// The IAM actions that change something: what "no write" means, for the code and every test tier
/// (tests/iam_write_actions.txt holds the same list for the Python tests; a unit test keeps them equal).
pub const WRITE_ACTIONS: &[&str] = &[
    "CreateRole",
    "DeleteRole",
    "DeleteRolePermissionsBoundary",
    "DeleteRolePolicy",
    "DetachRolePolicy",
    "PutRolePermissionsBoundary",
    "PutRolePolicy",
    "RemoveRoleFromInstanceProfile",
    "TagRole",
    "UntagRole",
    "UpdateAssumeRolePolicy",
    "UpdateRole",
];

impl CallLog {
    /// A record for an invocation that began at `began` (tests set the clock; [`Default`] uses now).
    pub fn began_at(began: SystemTime) -> Self {
        CallLog {
            began,
            calls: Mutex::new(Vec::new()),
        }
    }

    /// When the invocation began: a role IAM says was created before this was not made by it.
    pub fn began(&self) -> SystemTime {
        self.began
    }

    /// Records a call as in flight; returns its position for [`CallLog::finish`].
    pub fn start(&self, action: &'static str, role: &str) -> usize {
        let mut calls = self.lock();
        calls.push(Call {
            action,
            role: role.to_owned(),
            state: CallState::InFlight,
            created_role_id: None,
        });
        calls.len() - 1
    }

    /// Records how the call at `index` ended; `created_role_id` is the RoleId a CreateRole returned.
    pub fn finish(&self, index: usize, state: CallState, created_role_id: Option<String>) {
        if let Some(call) = self.lock().get_mut(index) {
            call.state = state;
            call.created_role_id = created_role_id;
        }
    }

    /// Every call so far.
    pub fn calls(&self) -> Vec<Call> {
        self.lock().clone()
    }

    /// The actions, in order (for tests and counts).
    pub fn actions(&self) -> Vec<&'static str> {
        self.lock().iter().map(|c| c.action).collect()
    }

    /// The write calls that IAM did not refuse (done or still in flight).
    pub fn writes(&self) -> Vec<&'static str> {
        self.lock()
            .iter()
            .filter(|c| WRITE_ACTIONS.contains(&c.action) && !matches!(c.state, CallState::Refused(_)))
            .map(|c| c.action)
            .collect()
    }

    /// True when a CreateRole of this invocation returned this RoleId.
    pub fn created(&self, role_id: &str) -> bool {
        self.lock()
            .iter()
            .any(|c| c.created_role_id.as_deref() == Some(role_id))
    }

    /// The roles this invocation sent a CreateRole for, whatever became of the call, in order, once each.
    pub fn create_role_targets(&self) -> Vec<String> {
        let mut names: Vec<String> = Vec::new();
        for c in self.lock().iter().filter(|c| c.action == "CreateRole") {
            if !names.contains(&c.role) {
                names.push(c.role.clone());
            }
        }
        names
    }

    fn lock(&self) -> MutexGuard<'_, Vec<Call>> {
        // A panic while holding the lock leaves a list that is still valid to read.
        self.calls.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// `GetRole,CreateRole,PutRolePolicy:AccessDenied,DeleteRole:in-flight`: the log line's `calls` field.
impl fmt::Display for CallLog {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, c) in self.lock().iter().enumerate() {
            if i > 0 {
                f.write_str(",")?;
            }
            f.write_str(c.action)?;
            match &c.state {
                CallState::Done => {}
                CallState::InFlight => f.write_str(":in-flight")?,
                CallState::Refused(code) => write!(f, ":{code}")?,
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_each_call_with_how_it_ended() {
        let log = CallLog::default();
        let a = log.start("GetRole", "r");
        log.finish(a, CallState::Done, None);
        let b = log.start("CreateRole", "r");
        log.finish(b, CallState::Refused("EntityAlreadyExists".into()), None);
        log.start("PutRolePolicy", "r");
        assert_eq!(
            log.to_string(),
            "GetRole,CreateRole:EntityAlreadyExists,PutRolePolicy:in-flight"
        );
        assert_eq!(
            log.writes(),
            ["PutRolePolicy"],
            "a refused write is no write; one in flight may be"
        );
    }

    #[test]
    fn remembers_the_role_ids_its_create_role_calls_returned() {
        let log = CallLog::default();
        let i = log.start("CreateRole", "new");
        assert!(!log.created("AROA1"));
        log.finish(i, CallState::Done, Some("AROA1".into()));
        assert!(log.created("AROA1") && !log.created("AROA2"));
        log.start("CreateRole", "new");
        log.start("CreateRole", "other");
        assert_eq!(log.create_role_targets(), ["new", "other"]);
    }

    #[test]
    fn the_python_tier_uses_the_same_write_actions() {
        let listed: Vec<&str> = include_str!("../../tests/iam_write_actions.txt")
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty() && !l.starts_with('#'))
            .collect();
        assert_eq!(listed, WRITE_ACTIONS);
    }
}
