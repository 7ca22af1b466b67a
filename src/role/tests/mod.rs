//! The resource's decisions against the in-memory IAM: which calls each operation makes given what IAM holds,
//! what it refuses, and what the undo after the deadline removes. moto (tests/it) checks the same flows against
//! IAM's wire protocol; these check the branches.

use super::*;
use crate::iam::fake::{FakeIam, FakeRole};
use crate::iam::{CallLog, CallState};
use crate::limits::{Limits, LimitsError};
use crate::logzio::LogzioErrorKind;
use crate::logzio::fake::FakeLogzio;
use crate::plan::{LOGICAL_ID_TAG, STACK_TAG};
use serde_json::{Value, json};
use std::time::{Duration, SystemTime};

mod converge;
mod deadline;
mod delete;
mod preflight;
mod rollback;
mod trust;

const STACK: &str = "arn:aws:cloudformation:us-east-1:123456789012:stack/logs-archive/1";

fn props(extra: Value) -> Value {
    let mut p = json!({"BucketName": "acme-logs", "ExternalId": "logzio:aws:extid:example1234"});
    for (k, v) in extra.as_object().expect("object") {
        p[k] = v.clone();
    }
    p
}

fn request(request_type: RequestType, properties: Value, physical: Option<&str>) -> Request {
    let event = json!({
        "RequestType": request_type.as_str(),
        "ResponseURL": "http://127.0.0.1:1/r",
        "StackId": STACK,
        "RequestId": "req",
        "ResourceType": "Custom::LogzioRole",
        "LogicalResourceId": "ArchiveRole",
        "PhysicalResourceId": physical.unwrap_or(""),
        "ResourceProperties": properties,
        "OldResourceProperties": {},
    });
    let mut req = Request::parse(&event).expect("request");
    if physical.is_none() {
        req.physical_resource_id = None;
    }
    req
}

/// The invocation the protocol makes: received by no known function, 30 s of work left.
fn inv() -> Invocation {
    Invocation::new(None, std::time::Instant::now() + Duration::from_secs(30))
}

struct World {
    iam: FakeIam,
    resource: LogzioRole<FakeIam, FakeLogzio>,
}

impl World {
    fn new() -> World {
        let iam = FakeIam::default();
        World {
            resource: LogzioRole::new(iam.clone(), FakeLogzio::default(), Ok(Limits::default())),
            iam,
        }
    }

    async fn create(&self, properties: Value) -> (Result<Success, Failure>, CallLog) {
        let log = CallLog::default();
        let result = self
            .resource
            .create(&request(RequestType::Create, properties, None), &inv(), &log)
            .await;
        (result, log)
    }

    async fn update(&self, physical: &str, properties: Value) -> (Result<Success, Failure>, CallLog) {
        let log = CallLog::default();
        let req = request(RequestType::Update, properties, Some(physical));
        (self.resource.update(&req, &inv(), &log).await, log)
    }

    async fn delete(&self, physical: &str, properties: Value) -> (Result<Success, Failure>, CallLog) {
        let log = CallLog::default();
        let req = request(RequestType::Delete, properties, Some(physical));
        (self.resource.delete(&req, &inv(), &log).await, log)
    }

    /// An Update that the deadline stops after `after`, then the undo, as the protocol runs them.
    async fn stopped_update(&self, physical: &str, properties: Value) -> CallLog {
        let log = CallLog::default();
        let req = request(RequestType::Update, properties, Some(physical));
        let stopped = tokio::time::timeout(Duration::from_millis(50), self.resource.update(&req, &inv(), &log)).await;
        assert!(stopped.is_err(), "the update was meant to hang: {stopped:?}");
        self.resource.undo_after_deadline(&req, &inv(), &log).await;
        log
    }

    async fn created(&self, properties: Value) -> String {
        let (result, _) = self.create(properties).await;
        result.expect("created").physical_resource_id
    }

    /// A role of ours made `age` before now, as an earlier invocation would have left it.
    fn ours_from_before(&self, name: &str, age: Duration) {
        self.iam
            .insert(ours(name, SystemTime::now() - age), SystemTime::now() - age);
    }
}

/// A role carrying this resource's ownership tags, created at `created`.
fn ours(name: &str, created: SystemTime) -> FakeRole {
    let mut role = FakeRole::default();
    role.role.name = name.into();
    role.role.path = crate::limits::DEFAULT_PATH_PREFIX.into();
    role.role.role_id = format!("AROA{name}");
    role.role.created = Some(created);
    role.role.tags.insert(STACK_TAG.into(), STACK.into());
    role.role.tags.insert(LOGICAL_ID_TAG.into(), "ArchiveRole".into());
    role
}

fn reason(result: &Result<Success, Failure>) -> String {
    result
        .as_ref()
        .map(|s| format!("succeeded: {s:?}"))
        .unwrap_or_else(|f| f.reason.clone())
}

const HOUR: Duration = Duration::from_secs(3600);

/// A Create under `limits`, as the function in `function_account` received it: (result, calls).
async fn create_under(
    limits: Result<Limits, LimitsError>,
    function_account: &str,
    properties: Value,
) -> (Result<Success, Failure>, CallLog) {
    let resource = LogzioRole::new(FakeIam::default(), FakeLogzio::default(), limits);
    let req = request(RequestType::Create, properties, None);
    let log = CallLog::default();
    (resource.create(&req, &received_by(function_account), &log).await, log)
}

/// The invocation of the function in `account`.
fn received_by(account: &str) -> Invocation {
    let arn = format!("arn:aws:lambda:us-east-1:{account}:function:logzio-role");
    Invocation::new(Some(arn), inv().work_deadline)
}

fn limits(vars: &[(&str, &str)]) -> Limits {
    Limits::from_vars(|v| vars.iter().find(|(k, _)| *k == v).map(|(_, x)| (*x).to_owned())).expect("valid")
}

const TOKEN_SECRET: &str = "arn:aws:secretsmanager:us-east-1:123456789012:secret:logzio-token-AbCdEf";

/// A role resource whose trust comes from a fake Logz.io account naming `aws_account` and `external_id`.
fn with_logzio(aws_account: &str, external_id: &str) -> (LogzioRole<FakeIam, FakeLogzio>, FakeIam, FakeLogzio) {
    let (iam, logzio) = (FakeIam::default(), FakeLogzio::default());
    logzio.account(TOKEN_SECRET, "token-1", aws_account, external_id);
    (
        LogzioRole::new(iam.clone(), logzio.clone(), Ok(Limits::default())),
        iam,
        logzio,
    )
}

fn token_props(extra: Value) -> Value {
    let mut p = props(extra);
    p.as_object_mut().expect("object").remove("ExternalId");
    p["LogzioApiTokenSecretArn"] = json!(TOKEN_SECRET);
    p
}

fn trusted_external_id(iam: &FakeIam, name: &str) -> Value {
    iam.role(name).expect("role").role.trust_policy["Statement"][0]["Condition"]["StringEquals"]["sts:ExternalId"]
        .clone()
}

// CloudFormation's rollback Update sends the old properties: a return to what IAM holds must succeed with no
// write, whatever refusal guards writes (docs/failure-modes.md, "Rollbacks").

/// The rollback pattern, against `resource`: an Update of role `name` with `held` (what IAM holds) succeeds with
/// no write, and one with `change` is refused with no write; the refusal's Reason.
async fn returns_but_refuses_a_write(
    resource: &LogzioRole<FakeIam, FakeLogzio>,
    name: &str,
    held: Value,
    change: Value,
) -> String {
    let log = CallLog::default();
    let back = resource
        .update(&request(RequestType::Update, held, Some(name)), &inv(), &log)
        .await;
    assert_eq!(back.expect("held as is").physical_resource_id, name);
    assert!(log.writes().is_empty(), "{log}");
    let log = CallLog::default();
    let refused = resource
        .update(&request(RequestType::Update, change, Some(name)), &inv(), &log)
        .await;
    assert!(log.writes().is_empty(), "{log}");
    refused.expect_err("a write is refused").reason
}

/// A role created by `resource` with `properties`: its name.
async fn created_by(resource: &LogzioRole<FakeIam, FakeLogzio>, properties: Value) -> String {
    let log = CallLog::default();
    let req = request(RequestType::Create, properties, None);
    resource
        .create(&req, &inv(), &log)
        .await
        .expect("created")
        .physical_resource_id
}
