//! The archive's decisions against the in-memory Logz.io and IAM: which calls each operation makes given what
//! Logz.io holds, what it refuses, and what it leaves behind. `tests/faults.py` runs the shipped binary against
//! the faithful fake of Logz.io's API (`tests/logzio_fake.py`), which checks the role in the IAM emulator.

use super::*;
use crate::cfn::RequestType;
use crate::iam::fake::{FakeIam, FakeRole};
use crate::limits::Limits;
use crate::logzio::ArchiveSettings;
use crate::logzio::fake::FakeLogzio;
use serde_json::json;
use std::time::SystemTime;

mod create;
mod delete;
mod preflight;
mod update;

const STACK: &str = "arn:aws:cloudformation:us-east-1:123456789012:stack/logs-archive/1";
const SECRET: &str = "arn:aws:secretsmanager:us-east-1:123456789012:secret:logzio-token-AbCdEf";
const OTHER_SECRET: &str = "arn:aws:secretsmanager:us-east-1:123456789012:secret:other-token-AbCdEf";
const ROLE: &str = "arn:aws:iam::123456789012:role/logzio/archive-role";
const EXTERNAL_ID: &str = "logzio:aws:extid:issued";

fn props(extra: Value) -> Value {
    let mut p = json!({"LogzioApiTokenSecretArn": SECRET, "BucketName": "acme-logs", "RoleArn": ROLE});
    for (k, v) in extra.as_object().expect("object") {
        p[k] = v.clone();
    }
    p
}

fn request(request_type: RequestType, properties: Value, old: Option<Value>, physical: Option<&str>) -> Request {
    let event = json!({
        "RequestType": request_type.as_str(), "ResponseURL": "http://127.0.0.1:1/r", "StackId": STACK,
        "RequestId": "req", "ResourceType": "Custom::LogzioArchive", "LogicalResourceId": "Archive",
        "PhysicalResourceId": physical.unwrap_or(""), "ResourceProperties": properties,
        "OldResourceProperties": old.unwrap_or(json!({})),
    });
    let mut req = Request::parse(&event).expect("request");
    if physical.is_none() {
        req.physical_resource_id = None;
    }
    req
}

/// The invocation the protocol makes: received by no known function, 30 s of work left.
fn inv() -> Invocation {
    Invocation::new(None, Instant::now() + Duration::from_secs(30))
}

/// A trust policy as IAM holds it: each (account, external ID) an Allow of sts:AssumeRole to the account's root.
fn trust(grants: &[(&str, &str)]) -> Value {
    let statements: Vec<Value> = grants
        .iter()
        .map(|(account, id)| {
            json!({"Effect": "Allow", "Principal": {"AWS": format!("arn:aws:iam::{account}:root")},
                   "Action": "sts:AssumeRole", "Condition": {"StringEquals": {"sts:ExternalId": id}}})
        })
        .collect();
    json!({"Version": "2012-10-17", "Statement": statements})
}

struct World {
    logzio: FakeLogzio,
    iam: FakeIam,
    archive: LogzioArchive<FakeIam, FakeLogzio>,
}

impl World {
    fn new() -> World {
        let (iam, logzio) = (FakeIam::default(), FakeLogzio::default());
        logzio.account(SECRET, "token-1", "406095609952", EXTERNAL_ID);
        logzio.account(
            OTHER_SECRET,
            "token-2",
            "406095609952",
            "logzio:aws:extid:other-account",
        );
        let mut role = FakeRole::default();
        role.role.name = "archive-role".into();
        role.role.path = "/logzio/".into();
        role.role.trust_policy = trust(&[("406095609952", EXTERNAL_ID)]);
        iam.insert(role, SystemTime::now());
        World {
            archive: LogzioArchive::new(iam.clone(), logzio.clone(), Ok(Limits::default())),
            logzio,
            iam,
        }
    }

    async fn run(&self, req: Request) -> (Result<Success, Failure>, CallLog) {
        self.run_as(req, &inv()).await
    }

    async fn run_as(&self, req: Request, inv: &Invocation) -> (Result<Success, Failure>, CallLog) {
        let log = CallLog::default();
        let result = match req.request_type {
            RequestType::Create => self.archive.create(&req, inv, &log).await,
            RequestType::Update => self.archive.update(&req, inv, &log).await,
            RequestType::Delete => self.archive.delete(&req, inv, &log).await,
        };
        (result, log)
    }

    /// CloudFormation's rollback Delete of a Create that failed with `physical` (the protocol's default id,
    /// no archive's): it succeeds and calls nothing.
    async fn rollback_delete_calls_nothing(&self, physical: &str) {
        let (deleted, log) = self
            .run(request(RequestType::Delete, props(json!({})), None, Some(physical)))
            .await;
        deleted.expect("success");
        assert!(log.calls().is_empty(), "{log}");
    }

    async fn created(&self) -> String {
        let (result, _) = self
            .run(request(RequestType::Create, props(json!({})), None, None))
            .await;
        result.expect("created").physical_resource_id
    }
}

fn reason(result: &Result<Success, Failure>) -> String {
    result
        .as_ref()
        .map(|s| format!("succeeded: {s:?}"))
        .unwrap_or_else(|f| f.reason.clone())
}
