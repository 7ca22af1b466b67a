//! One function, two resource types: each event goes to the resource its `ResourceType` names. The protocol
//! layer stays resource-agnostic; this is the one place that knows both types.

use crate::archive::LogzioArchive;
use crate::cfn::{CustomResource, Failure, Invocation, Request, Success};
use crate::iam::{CallLog, IamPort};
use crate::logzio::LogzioPort;
use crate::role::LogzioRole;

/// The IAM role Logz.io assumes.
pub const ROLE_TYPE: &str = "Custom::LogzioRole";
/// The archive registered with Logz.io.
pub const ARCHIVE_TYPE: &str = "Custom::LogzioArchive";

/// Both resources, sharing the clients.
#[derive(Debug, Clone)]
pub struct LogzioResources<P, L> {
    pub role: LogzioRole<P, L>,
    pub archive: LogzioArchive<P, L>,
}

enum Kind {
    Role,
    Archive,
    Unknown,
}

fn kind(req: &Request) -> Kind {
    match req.resource_type.as_str() {
        ROLE_TYPE => Kind::Role,
        ARCHIVE_TYPE => Kind::Archive,
        _ => Kind::Unknown,
    }
}

fn unknown(req: &Request) -> Failure {
    Failure::new(format!(
        "ResourceType: {:?} is not served by this function: use {ROLE_TYPE} or {ARCHIVE_TYPE}",
        req.resource_type
    ))
}

impl<P: IamPort + Clone, L: LogzioPort + Clone> CustomResource for LogzioResources<P, L> {
    type Record = CallLog;

    async fn create(&self, req: &Request, inv: &Invocation, log: &CallLog) -> Result<Success, Failure> {
        match kind(req) {
            Kind::Role => self.role.create(req, inv, log).await,
            Kind::Archive => self.archive.create(req, inv, log).await,
            Kind::Unknown => Err(unknown(req)),
        }
    }

    async fn update(&self, req: &Request, inv: &Invocation, log: &CallLog) -> Result<Success, Failure> {
        match kind(req) {
            Kind::Role => self.role.update(req, inv, log).await,
            Kind::Archive => self.archive.update(req, inv, log).await,
            Kind::Unknown => Err(unknown(req)),
        }
    }

    async fn delete(&self, req: &Request, inv: &Invocation, log: &CallLog) -> Result<Success, Failure> {
        match kind(req) {
            Kind::Role => self.role.delete(req, inv, log).await,
            Kind::Archive => self.archive.delete(req, inv, log).await,
            // Nothing of an unknown type was ever made: its Delete (a rollback) must not fail.
            Kind::Unknown => Ok(Success {
                physical_resource_id: req.physical_resource_id.clone().unwrap_or_default(),
                ..Success::default()
            }),
        }
    }

    fn create_failure_id(&self, req: &Request) -> Option<String> {
        match kind(req) {
            Kind::Role => self.role.create_failure_id(req),
            Kind::Archive | Kind::Unknown => None,
        }
    }

    async fn undo_after_deadline(&self, req: &Request, inv: &Invocation, log: &CallLog) {
        match kind(req) {
            Kind::Role => self.role.undo_after_deadline(req, inv, log).await,
            Kind::Archive => self.archive.undo_after_deadline(req, inv, log).await,
            Kind::Unknown => {}
        }
    }
}
