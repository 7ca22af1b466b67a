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

#[tokio::test]
async fn a_fresh_create_makes_exactly_two_calls() {
    let w = World::new();
    let (result, log) = w.create(props(json!({}))).await;
    let name = result.expect("created").physical_resource_id;
    assert_eq!(log.actions(), ["CreateRole", "PutRolePolicy"]);
    let role = w.iam.role(&name).expect("role");
    assert!(role.role.inline_policies.contains_key("LogzioArchiveAccess"));
    assert_eq!(role.role.tags.get(STACK_TAG).map(String::as_str), Some(STACK));
}

#[tokio::test]
async fn a_redelivered_create_converges_on_its_own_role_without_writes() {
    let w = World::new();
    let first = w.created(props(json!({}))).await;
    let (result, log) = w.create(props(json!({}))).await;
    assert_eq!(result.expect("converged").physical_resource_id, first);
    assert_eq!(
        log.to_string(),
        "CreateRole:EntityAlreadyExists,GetRole,ListRolePolicies,GetRolePolicy"
    );
    assert!(log.writes().is_empty());
}

#[tokio::test]
async fn a_create_over_a_role_that_is_not_ours_fails_and_writes_nothing() {
    let w = World::new();
    let mut foreign = FakeRole::default();
    foreign.role.name = "ProdAdmin".into();
    foreign.role.path = "/logzio/".into();
    w.iam.insert(foreign, SystemTime::now() - HOUR);
    let before = w.iam.role("ProdAdmin").expect("there").role;
    let (result, log) = w.create(props(json!({"RoleName": "ProdAdmin"}))).await;
    assert!(
        reason(&result).starts_with("RoleName: role ProdAdmin already exists and is not managed"),
        "{result:?}"
    );
    assert!(log.writes().is_empty(), "{log}");
    assert_eq!(w.iam.role("ProdAdmin").expect("kept").role, before);
}

#[tokio::test]
async fn a_create_whose_policy_is_refused_removes_the_role_it_made_and_names_it() {
    let w = World::new();
    w.iam.refuse("PutRolePolicy", "AccessDenied");
    let (result, log) = w.create(props(json!({"RoleName": "Half"}))).await;
    let failure = result.expect_err("failed");
    assert!(
        failure
            .reason
            .contains("iam:PutRolePolicy on role Half failed: AccessDenied"),
        "{failure:?}"
    );
    assert_eq!(failure.physical_resource_id.as_deref(), Some("Half"));
    assert_eq!(log.to_string(), "CreateRole,PutRolePolicy:AccessDenied,DeleteRole");
    assert!(w.iam.role("Half").is_none());
}

#[tokio::test]
async fn a_failed_replacement_removes_the_new_role_and_keeps_the_old_one() {
    let w = World::new();
    let old = w.created(props(json!({"RoleName": "Old"}))).await;
    w.iam.refuse("PutRolePolicy", "AccessDenied");
    let (result, log) = w.update(&old, props(json!({"RoleName": "New"}))).await;
    assert!(
        reason(&result).contains("iam:PutRolePolicy on role New failed: AccessDenied"),
        "{result:?}"
    );
    assert_eq!(
        log.to_string(),
        "GetRole,CreateRole,PutRolePolicy:AccessDenied,DeleteRole"
    );
    assert_eq!(w.iam.role_names(), ["Old"]);
}

#[tokio::test]
async fn bad_properties_or_an_id_that_is_no_role_make_no_call() {
    let w = World::new();
    // Every broken rule at once, the chosen ExternalId never quoted.
    let bad = props(
        json!({"BucketName": "logs-*", "Bucketname": "x", "MaxSessionDuration": "10",
                           "ExternalId": "has spaces secret"}),
    );
    let (result, log) = w.create(bad).await;
    let r = reason(&result);
    for p in [
        "BucketName:",
        "Bucketname: unknown property",
        "MaxSessionDuration:",
        "ExternalId:",
    ] {
        assert!(r.contains(p), "{p} missing in {r}");
    }
    assert!(!r.contains("secret"), "ExternalId leaked: {r}");
    assert!(log.calls().is_empty(), "{log}");
    // Its rollback Delete, with the id the answer named, is harmless.
    let named = result.expect_err("failed").physical_resource_id.expect("a name");
    let (deleted, _) = w.delete(&named, props(json!({}))).await;
    deleted.expect("nothing to delete");
    // An invalid Update keeps the role as it was.
    let name = w.created(props(json!({}))).await;
    let (result, log) = w.update(&name, props(json!({"KmsKeyArn": "arn:aws:s3:::nope"}))).await;
    assert!(reason(&result).contains("KmsKeyArn: "), "{result:?}");
    assert!(log.calls().is_empty(), "{log}");
    // A Delete of an id that is no role name (the protocol's default after a failed Create) calls nothing.
    let (deleted, log) = w.delete("ArchiveRole-0c1a53d2 not a role", props(json!({}))).await;
    assert_eq!(
        deleted.expect("success").physical_resource_id,
        "ArchiveRole-0c1a53d2 not a role"
    );
    assert!(log.calls().is_empty(), "{log}");
    assert_eq!(w.iam.role_names(), [name]);
}

#[tokio::test]
async fn a_no_op_update_reads_three_times_and_writes_nothing_with_or_without_role_name() {
    for extra in [json!({}), json!({"RoleName": "Named"})] {
        let w = World::new();
        let name = w.created(props(extra.clone())).await;
        let (result, log) = w.update(&name, props(extra.clone())).await;
        assert_eq!(result.expect("ok").physical_resource_id, name);
        assert_eq!(
            log.actions(),
            ["GetRole", "ListRolePolicies", "GetRolePolicy"],
            "{extra}"
        );
    }
}

#[tokio::test]
async fn an_update_in_place_writes_only_what_differs() {
    let w = World::new();
    let name = w.created(props(json!({}))).await;
    let (result, log) = w.update(&name, props(json!({"KeyPrefix": "logzio/"}))).await;
    assert_eq!(result.expect("ok").physical_resource_id, name);
    assert_eq!(log.writes(), ["PutRolePolicy"], "{log}");
}

#[tokio::test]
async fn a_new_role_name_is_a_replacement_read_then_made() {
    let w = World::new();
    let old = w.created(props(json!({"RoleName": "Old"}))).await;
    let (result, log) = w.update(&old, props(json!({"RoleName": "New"}))).await;
    assert_eq!(result.expect("replaced").physical_resource_id, "New");
    assert_eq!(log.actions(), ["GetRole", "CreateRole", "PutRolePolicy"]);
    assert!(
        w.iam.role("Old").is_some(),
        "CloudFormation's Delete removes the old one, not the Update"
    );
}

#[tokio::test]
async fn a_new_path_without_role_name_moves_to_the_generated_role_for_it() {
    let w = World::new();
    let old = w.created(props(json!({}))).await;
    let (result, log) = w.update(&old, props(json!({"Path": "/logzio/new/"}))).await;
    let new = result.expect("replaced").physical_resource_id;
    assert_ne!(new, old);
    assert_eq!(new, generated_role_name(STACK, "ArchiveRole", "/logzio/new/"));
    assert_eq!(log.actions(), ["GetRole", "GetRole", "CreateRole", "PutRolePolicy"]);
}

#[tokio::test]
async fn a_rollback_lands_on_the_old_role_without_creating_it() {
    let w = World::new();
    let old = w.created(props(json!({"RoleName": "Old"}))).await;
    let new = w
        .update(&old, props(json!({"RoleName": "New"})))
        .await
        .0
        .expect("replaced")
        .physical_resource_id;
    let (result, log) = w.update(&new, props(json!({"RoleName": "Old"}))).await;
    assert_eq!(result.expect("rolled back").physical_resource_id, "Old");
    assert!(log.writes().is_empty(), "{log}");
}

#[tokio::test]
async fn an_update_recreates_its_role_deleted_out_of_band() {
    let w = World::new();
    let name = w.created(props(json!({}))).await;
    let (result, _) = w.delete(&name, props(json!({}))).await;
    result.expect("deleted");
    let (result, log) = w.update(&name, props(json!({}))).await;
    assert_eq!(result.expect("recreated").physical_resource_id, name);
    assert_eq!(log.actions(), ["GetRole", "CreateRole", "PutRolePolicy"]);
}

#[tokio::test]
async fn a_role_with_another_boundary_is_refused_untouched() {
    let w = World::new();
    let name = w.created(props(json!({}))).await;
    w.iam.edit(&name, |r| {
        r.role.permissions_boundary = Some("arn:aws:iam::123456789012:policy/Other".into())
    });
    let (result, log) = w.update(&name, props(json!({"KeyPrefix": "x/"}))).await;
    assert!(reason(&result).contains("permissions boundary arn:aws:iam::123456789012:policy/Other, not (none)"));
    assert!(log.writes().is_empty(), "{log}");
}

#[tokio::test]
async fn a_delete_takes_three_calls_in_the_common_case() {
    let w = World::new();
    let name = w.created(props(json!({}))).await;
    let (result, log) = w.delete(&name, props(json!({}))).await;
    result.expect("deleted");
    assert_eq!(log.actions(), ["GetRole", "DeleteRolePolicy", "DeleteRole"]);
    assert!(w.iam.role(&name).is_none());
}

#[tokio::test]
async fn a_delete_sweeps_only_when_iam_answers_delete_conflict() {
    let w = World::new();
    let name = w.created(props(json!({}))).await;
    w.iam.edit(&name, |r| {
        r.attached.push("arn:aws:iam::123456789012:policy/Extra".into());
        r.role.inline_policies.insert("Extra".into(), Some(json!({})));
    });
    let (result, log) = w.delete(&name, props(json!({}))).await;
    result.expect("deleted");
    assert_eq!(
        log.to_string(),
        "GetRole,DeleteRolePolicy,DeleteRole:DeleteConflict,ListRolePolicies,DeleteRolePolicy,\
         ListAttachedRolePolicies,DetachRolePolicy,ListInstanceProfilesForRole,DeleteRole"
    );
    assert!(w.iam.role(&name).is_none());
}

#[tokio::test]
async fn a_delete_blocked_by_an_instance_profile_fails_naming_it() {
    let w = World::new();
    let name = w.created(props(json!({}))).await;
    w.iam.edit(&name, |r| r.instance_profiles.push("web-servers".into()));
    let (result, log) = w.delete(&name, props(json!({}))).await;
    assert!(
        reason(&result).contains("instance profile(s) web-servers"),
        "{result:?}"
    );
    assert!(!log.actions().contains(&"RemoveRoleFromInstanceProfile"));
    assert!(w.iam.role(&name).is_some());
}

#[tokio::test]
async fn a_delete_leaves_a_role_that_is_not_ours_alone() {
    let w = World::new();
    let mut foreign = FakeRole::default();
    foreign.role.name = "ProdAdmin".into();
    w.iam.insert(foreign, SystemTime::now() - HOUR);
    let (result, log) = w.delete("ProdAdmin", props(json!({}))).await;
    result.expect("success");
    assert_eq!(log.actions(), ["GetRole"]);
    assert!(w.iam.role("ProdAdmin").is_some());
}

#[tokio::test]
async fn a_replacement_stopped_after_its_create_role_succeeded_is_removed() {
    let w = World::new();
    let old = w.created(props(json!({"RoleName": "Old"}))).await;
    let old_role = w.iam.role(&old).expect("old").role;
    w.iam.hang("PutRolePolicy");
    let log = w.stopped_update(&old, props(json!({"RoleName": "New"}))).await;
    assert!(w.iam.role("New").is_none(), "{log}");
    assert_eq!(w.iam.role("Old").expect("old kept").role, old_role);
    assert!(
        log.to_string()
            .starts_with("GetRole,CreateRole,PutRolePolicy:in-flight,GetRole,DeleteRole"),
        "{log}"
    );
}

#[tokio::test]
async fn a_rollback_stopped_while_its_create_role_is_in_flight_keeps_the_role_it_returns_to() {
    // Rolling back New -> Old: IAM's read does not yet show Old (eventual consistency), so CreateRole(Old) is
    // sent, and the deadline stops it in flight. Old existed long before this invocation: it must survive with
    // its RoleId and policy.
    let w = World::new();
    let old = w.created(props(json!({"RoleName": "Old"}))).await;
    let new = w
        .update(&old, props(json!({"RoleName": "New"})))
        .await
        .0
        .expect("replaced")
        .physical_resource_id;
    w.iam.edit("Old", |r| r.role.created = Some(SystemTime::now() - HOUR));
    let before = w.iam.role("Old").expect("old").role;
    w.iam.stale_read();
    w.iam.hang("CreateRole");
    let log = w.stopped_update(&new, props(json!({"RoleName": "Old"}))).await;
    assert_eq!(log.calls()[1].state, CallState::InFlight, "{log}");
    let after = w.iam.role("Old").expect("Old survives").role;
    assert_eq!(
        (after.role_id, after.inline_policies),
        (before.role_id, before.inline_policies)
    );
    assert!(!log.actions().contains(&"DeleteRole"), "{log}");
}

#[tokio::test]
async fn a_lost_create_role_answer_that_took_effect_is_still_undone_when_new() {
    // CreateRole(New) reached IAM but its answer was lost; the SDK's retry meets EntityAlreadyExists. The role
    // carries our tags and was created after the invocation began: ours and new, so the undo removes it.
    let w = World::new();
    let old = w.created(props(json!({"RoleName": "Old"}))).await;
    w.iam.before("CreateRole", |roles| {
        roles.insert("New".into(), ours("New", SystemTime::now()));
    });
    w.iam.hang("PutRolePolicy");
    let log = w.stopped_update(&old, props(json!({"RoleName": "New"}))).await;
    assert!(log.to_string().contains("CreateRole:EntityAlreadyExists"), "{log}");
    assert!(w.iam.role("New").is_none(), "{log}");
    assert!(w.iam.role("Old").is_some());
}

#[tokio::test]
async fn the_undo_keeps_a_replacement_target_that_existed_before_the_invocation() {
    // New was made by an earlier invocation (an hour ago) and is ours; this Update's CreateRole(New) is refused
    // (EntityAlreadyExists) and the work stopped: New is not this invocation's to remove.
    let w = World::new();
    let old = w.created(props(json!({"RoleName": "Old"}))).await;
    w.ours_from_before("New", HOUR);
    w.iam.stale_read();
    w.iam.hang("PutRolePolicy");
    let log = w.stopped_update(&old, props(json!({"RoleName": "New"}))).await;
    assert!(log.to_string().contains("CreateRole:EntityAlreadyExists"), "{log}");
    assert!(w.iam.role("New").is_some(), "{log}");
    assert!(!log.actions().contains(&"DeleteRole"), "{log}");
}

#[tokio::test]
async fn the_undo_does_nothing_after_a_create_or_without_create_role() {
    let w = World::new();
    let name = w.created(props(json!({}))).await;
    w.iam.hang("PutRolePolicy");
    let log = w.stopped_update(&name, props(json!({"KeyPrefix": "x/"}))).await;
    assert_eq!(
        log.to_string(),
        "GetRole,ListRolePolicies,GetRolePolicy,PutRolePolicy:in-flight"
    );
    assert!(w.iam.role(&name).is_some());
}

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

#[tokio::test]
async fn a_logzio_account_the_deployment_does_not_trust_is_refused_before_any_iam_call() {
    let (result, log) = create_under(
        Ok(Limits::default()),
        "123456789012",
        props(json!({"LogzioAccountId": "111122223333"})),
    )
    .await;
    assert!(
        reason(&result).contains("LogzioAccountId: 111122223333 is not an account this deployment trusts"),
        "{result:?}"
    );
    assert!(log.calls().is_empty(), "{log}");
}

#[tokio::test]
async fn a_bucket_the_deployment_does_not_allow_is_refused_before_any_iam_call() {
    let only_acme = limits(&[("LOGZIO_ALLOWED_BUCKETS", "acme-*")]);
    let (result, log) = create_under(
        Ok(only_acme.clone()),
        "123456789012",
        props(json!({"BucketName": "other-logs"})),
    )
    .await;
    assert!(
        reason(&result).contains(r#"BucketName: "other-logs" is not among the buckets this deployment allows"#),
        "{result:?}"
    );
    assert!(log.calls().is_empty(), "{log}");
    let (result, _) = create_under(Ok(only_acme), "123456789012", props(json!({}))).await;
    assert!(result.is_ok(), "acme-logs is allowed: {result:?}");
}

#[tokio::test]
async fn a_stack_of_another_account_is_refused_before_any_iam_call() {
    let (result, log) = create_under(Ok(Limits::default()), "999988887777", props(json!({}))).await;
    assert_eq!(
        reason(&result),
        "StackId: the stack is in account 123456789012, but this function serves only its own account \
         999988887777; deploy the handler in the stack's account"
    );
    assert!(log.calls().is_empty(), "{log}");
    // Its rollback Delete, even naming a role of ours, succeeds with no call and the role kept: no DELETE_FAILED.
    let w = World::new();
    let name = w.created(props(json!({}))).await;
    let req = request(RequestType::Delete, props(json!({})), Some(&name));
    let log = CallLog::default();
    assert!(
        w.resource
            .delete(&req, &received_by("999988887777"), &log)
            .await
            .is_ok()
    );
    assert!(log.calls().is_empty(), "{log}");
    assert!(w.iam.role(&name).is_some());
}

#[tokio::test]
async fn a_path_outside_the_deployments_prefix_is_refused_before_any_iam_call() {
    let (result, log) = create_under(Ok(Limits::default()), "123456789012", props(json!({"Path": "/admin/"}))).await;
    assert!(
        reason(&result).contains(r#"Path: must be under /logzio/"#),
        "{result:?}"
    );
    assert!(log.calls().is_empty(), "{log}");
}

#[tokio::test]
async fn invalid_deployment_settings_fail_every_create_saying_so_but_not_a_delete() {
    let bad = Limits::from_vars(|v| (v == "LOGZIO_TRUSTED_ACCOUNT_IDS").then(|| "1".to_owned()));
    let (result, log) = create_under(bad.clone(), "123456789012", props(json!({}))).await;
    assert!(
        reason(&result).starts_with("the function's deployment settings are invalid"),
        "{result:?}"
    );
    assert!(reason(&result).contains("LOGZIO_TRUSTED_ACCOUNT_IDS"), "{result:?}");
    assert!(log.calls().is_empty(), "{log}");
    let resource = LogzioRole::new(FakeIam::default(), FakeLogzio::default(), bad);
    let log = CallLog::default();
    let req = request(
        RequestType::Delete,
        props(json!({})),
        Some("logs-archive-ArchiveRole-X"),
    );
    assert!(resource.delete(&req, &inv(), &log).await.is_ok());
}

#[tokio::test]
async fn a_role_is_created_with_the_deployments_boundary() {
    let boundary = "arn:aws:iam::123456789012:policy/LogzioArchiveBoundary";
    let resource = LogzioRole::new(
        FakeIam::default(),
        FakeLogzio::default(),
        Ok(limits(&[("LOGZIO_ROLE_BOUNDARY_ARN", boundary)])),
    );
    let log = CallLog::default();
    let name = resource
        .create(&request(RequestType::Create, props(json!({})), None), &inv(), &log)
        .await
        .expect("created")
        .physical_resource_id;
    let role = resource.iam.role(&name).expect("role").role;
    assert_eq!(role.permissions_boundary.as_deref(), Some(boundary));
    assert_eq!(role.path, "/logzio/");
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

#[tokio::test]
async fn with_the_token_the_trust_comes_from_logzio_and_an_update_applies_a_rotated_external_id() {
    let (resource, iam, logzio) = with_logzio("406095609952", "logzio:aws:extid:first");
    let log = CallLog::default();
    let name = resource
        .create(
            &request(RequestType::Create, token_props(json!({})), None),
            &inv(),
            &log,
        )
        .await
        .expect("created")
        .physical_resource_id;
    assert_eq!(
        log.actions(),
        ["GetSecretValue", "GetAssumeRoleDetails", "CreateRole", "PutRolePolicy"]
    );
    assert_eq!(trusted_external_id(&iam, &name), "logzio:aws:extid:first");
    logzio.account(TOKEN_SECRET, "token-1", "406095609952", "logzio:aws:extid:rotated");
    let log = CallLog::default();
    let req = request(RequestType::Update, token_props(json!({})), Some(&name));
    resource.update(&req, &inv(), &log).await.expect("updated");
    assert_eq!(log.writes(), ["UpdateAssumeRolePolicy"], "{log}");
    assert_eq!(trusted_external_id(&iam, &name), "logzio:aws:extid:rotated");
}

#[tokio::test]
async fn an_account_logzio_names_that_the_deployment_does_not_trust_is_refused_before_any_iam_call() {
    let (resource, _, _) = with_logzio("111122223333", "logzio:aws:extid:x");
    let log = CallLog::default();
    let result = resource
        .create(
            &request(RequestType::Create, token_props(json!({})), None),
            &inv(),
            &log,
        )
        .await;
    assert!(
        reason(&result).starts_with("LogzioApiTokenSecretArn: Logz.io names AWS account 111122223333"),
        "{result:?}"
    );
    assert_eq!(log.actions(), ["GetSecretValue", "GetAssumeRoleDetails"]);
}

#[tokio::test]
async fn a_token_logzio_refuses_fails_naming_the_property_and_logzios_answer() {
    let (resource, _, logzio) = with_logzio("406095609952", "logzio:aws:extid:x");
    logzio.refuse("GetAssumeRoleDetails", crate::logzio::LogzioErrorKind::Unauthorized, 1);
    let log = CallLog::default();
    let result = resource
        .create(
            &request(RequestType::Create, token_props(json!({})), None),
            &inv(),
            &log,
        )
        .await;
    let r = reason(&result);
    assert!(
        r.starts_with("LogzioApiTokenSecretArn: the trust could not be read from Logz.io: "),
        "{r}"
    );
    assert!(r.contains("HTTP 401"), "{r}");
    assert!(!r.contains("token-1"), "the token never reaches a Reason");
    assert!(log.writes().is_empty());
}

#[tokio::test]
async fn an_update_that_adds_role_name_rolls_back_to_the_generated_role_without_creating_it() {
    let w = World::new();
    let generated = w.created(props(json!({}))).await;
    let named = w
        .update(&generated, props(json!({"RoleName": "Named"})))
        .await
        .0
        .expect("replaced")
        .physical_resource_id;
    assert_eq!(named, "Named");
    let (result, log) = w.update(&named, props(json!({}))).await;
    assert_eq!(
        result.expect("rolled back").physical_resource_id,
        generated,
        "back on the generated role"
    );
    assert!(log.writes().is_empty(), "{log}");
}

#[tokio::test]
async fn a_create_stopped_at_the_deadline_is_left_to_the_rollback_delete() {
    let w = World::new();
    w.iam.hang("PutRolePolicy");
    let req = request(RequestType::Create, props(json!({"RoleName": "Stopped"})), None);
    let log = CallLog::default();
    let stopped = tokio::time::timeout(Duration::from_millis(50), w.resource.create(&req, &inv(), &log)).await;
    assert!(stopped.is_err());
    w.resource.undo_after_deadline(&req, &inv(), &log).await;
    assert!(
        w.iam.role("Stopped").is_some(),
        "the FAILED answer names it; the rollback Delete removes it"
    );
    assert_eq!(log.to_string(), "CreateRole,PutRolePolicy:in-flight");
}

#[tokio::test]
async fn a_reason_never_quotes_the_chosen_external_id_in_any_case() {
    // IAM's message quotes the ID it was sent, in another case: the Reason shows neither form.
    let w = World::new();
    w.iam.refuse(
        "CreateRole",
        "MalformedPolicyDocument: condition value acme-chosen-id-42 is invalid",
    );
    let (result, _) = w.create(props(json!({"ExternalId": "Acme-Chosen-Id-42"}))).await;
    let reason = result.expect_err("refused").reason;
    assert!(reason.contains("condition value <external ID> is invalid"), "{reason}");
    assert!(!reason.to_ascii_lowercase().contains("acme-chosen-id-42"), "{reason}");
}

// CloudFormation's rollback Update sends the old properties: a return to what IAM holds must succeed with no
// write, whatever refusal guards writes (docs/failure-modes.md, "Rollbacks").

#[tokio::test]
async fn a_rollback_to_the_boundary_it_was_made_with_succeeds_with_no_write() {
    let w = World::new();
    let name = w.created(props(json!({}))).await;
    w.iam.edit(&name, |r| {
        r.role.permissions_boundary = Some("arn:aws:iam::123456789012:policy/Other".into())
    });
    let (result, log) = w.update(&name, props(json!({}))).await;
    assert_eq!(result.expect("nothing to write").physical_resource_id, name);
    assert!(log.writes().is_empty(), "{log}");
}

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

#[tokio::test]
async fn limits_narrowed_since_do_not_block_a_return_to_what_iam_holds_but_refuse_any_write() {
    let iam = FakeIam::default();
    let made = LogzioRole::new(iam.clone(), FakeLogzio::default(), Ok(Limits::default()));
    let name = created_by(&made, props(json!({}))).await;
    // The deployment now allows other buckets only.
    let narrowed = LogzioRole::new(
        iam,
        FakeLogzio::default(),
        Ok(limits(&[("LOGZIO_ALLOWED_BUCKETS", "other-*")])),
    );
    let reason =
        returns_but_refuses_a_write(&narrowed, &name, props(json!({})), props(json!({"KeyPrefix": "x/"}))).await;
    assert!(
        reason.contains("BucketName: \"acme-logs\" is not among the buckets this deployment allows"),
        "{reason}"
    );
}

#[tokio::test]
async fn logzio_unreachable_does_not_block_a_return_to_the_trust_iam_holds() {
    let (resource, iam, logzio) = with_logzio("406095609952", "logzio:aws:extid:first");
    let name = created_by(&resource, token_props(json!({}))).await;
    logzio.refuse("GetAssumeRoleDetails", LogzioErrorKind::Transient, u32::MAX);
    let reason = returns_but_refuses_a_write(
        &resource,
        &name,
        token_props(json!({})),
        token_props(json!({"KeyPrefix": "x/"})),
    )
    .await;
    assert!(
        reason.starts_with("LogzioApiTokenSecretArn: the trust could not be read from Logz.io"),
        "{reason}"
    );
    assert_eq!(trusted_external_id(&iam, &name), "logzio:aws:extid:first");
}

#[tokio::test]
async fn a_logzio_account_no_longer_trusted_does_not_block_a_return_to_what_iam_holds() {
    let (resource, iam, logzio) = with_logzio("406095609952", "logzio:aws:extid:first");
    let name = created_by(&resource, token_props(json!({}))).await;
    // The deployment now trusts another Logz.io account only.
    let narrowed = LogzioRole::new(
        iam,
        logzio,
        Ok(limits(&[("LOGZIO_TRUSTED_ACCOUNT_IDS", "111122223333")])),
    );
    let reason = returns_but_refuses_a_write(
        &narrowed,
        &name,
        token_props(json!({})),
        token_props(json!({"KeyPrefix": "x/"})),
    )
    .await;
    assert!(reason.contains("Logz.io names AWS account 406095609952"), "{reason}");
}

#[tokio::test]
async fn a_service_timeout_from_before_the_longer_minimum_blocks_a_write_not_a_return() {
    // A stack made when 300 s was enough: its Update (or rollback) that writes nothing still succeeds.
    let w = World::new();
    let name = w.created(props(json!({}))).await;
    let (result, log) = w.update(&name, props(json!({"ServiceTimeout": "300"}))).await;
    assert_eq!(result.expect("nothing to write").physical_resource_id, name);
    assert!(log.writes().is_empty(), "{log}");
    let (result, log) = w
        .update(&name, props(json!({"ServiceTimeout": "300", "KeyPrefix": "x/"})))
        .await;
    assert!(
        reason(&result).contains("ServiceTimeout: must be at least 1020 seconds"),
        "{result:?}"
    );
    assert!(log.writes().is_empty(), "{log}");
    let (result, _) = w.create(props(json!({"ServiceTimeout": "300"}))).await;
    assert!(reason(&result).contains("ServiceTimeout: must be at least 1020 seconds"));
}
