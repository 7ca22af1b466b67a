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

#[tokio::test]
async fn a_create_reads_the_accounts_archives_then_registers_one() {
    let w = World::new();
    let (result, log) = w.run(request(RequestType::Create, props(json!({})), None, None)).await;
    let done = result.expect("created");
    let held = w.logzio.archives("token-1");
    assert_eq!(held.len(), 1);
    assert_eq!(done.physical_resource_id, held[0].id.to_string());
    assert_eq!(done.data["ArchiveId"], held[0].id.to_string());
    let s = &held[0].settings;
    assert_eq!(
        (s.path.as_str(), s.role_arn.as_str(), s.enabled, s.compressed),
        ("acme-logs", ROLE, true, true)
    );
    assert_eq!(
        log.actions(),
        ["GetSecretValue", "ListArchives", "CreateArchive", "GetRole"]
    );
}

#[tokio::test]
async fn another_archive_of_the_account_is_left_untouched_and_named() {
    let w = World::new();
    let (first, _) = w
        .run(request(
            RequestType::Create,
            props(json!({"BucketName": "older-logs"})),
            None,
            None,
        ))
        .await;
    first.expect("someone's archive");
    let before = w.logzio.archives("token-1");
    let (result, log) = w.run(request(RequestType::Create, props(json!({})), None, None)).await;
    let failure = result.expect_err("one archive per account");
    assert!(failure.reason.contains("already has an archive"), "{failure:?}");
    assert!(
        failure.reason.contains("to older-logs"),
        "names its bucket: {failure:?}"
    );
    assert_eq!(
        failure.physical_resource_id, None,
        "the rollback Delete gets an id that is no archive's"
    );
    assert_eq!(w.logzio.archives("token-1"), before);
    assert_eq!(log.actions(), ["GetSecretValue", "ListArchives"]);
    // The rollback Delete of that failed Create, with the protocol's default id, touches nothing.
    w.rollback_delete_calls_nothing("Archive-req").await;
    assert_eq!(w.logzio.archives("token-1"), before);
}

#[tokio::test]
async fn a_renamed_resource_never_takes_the_live_archive_and_its_rollback_leaves_it() {
    // CloudFormation's rename: the new logical id is created before the old one is deleted. Its Create finds
    // the old resource's archive (same bucket and role) and must not answer that id, or the cleanup Delete of
    // the old logical id would remove the archive the stack still uses.
    let w = World::new();
    let id = w.created().await;
    let mut renamed = request(RequestType::Create, props(json!({})), None, None);
    renamed.logical_resource_id = "ArchiveRenamed".into();
    let (result, log) = w.run(renamed).await;
    let failure = result.expect_err("not adopted");
    assert_eq!(failure.physical_resource_id, None, "no archive id in the answer");
    assert!(
        failure
            .reason
            .contains(&format!("already has an archive (id {id}, to acme-logs)"))
            && failure
                .reason
                .contains("remove the archive resource in one stack update"),
        "{}",
        failure.reason
    );
    assert_eq!(log.actions(), ["GetSecretValue", "ListArchives"]);
    // The rollback: the failed Create's Delete (with the protocol's default id) touches nothing; the old
    // resource keeps its archive.
    w.rollback_delete_calls_nothing("ArchiveRenamed-req").await;
    assert_eq!(w.logzio.archives("token-1").len(), 1);
    assert_eq!(w.logzio.archives("token-1")[0].id.to_string(), id);
}

#[tokio::test]
async fn an_archive_registered_by_hand_with_other_switches_is_not_taken() {
    // Same bucket path and role, but disabled: taking it (converging it with a PUT) would answer its id, and the
    // rollback Delete would remove the user's archive.
    let w = World::new();
    let (by_hand, _) = w
        .run(request(
            RequestType::Create,
            props(json!({"Enabled": "false"})),
            None,
            None,
        ))
        .await;
    let by_hand = by_hand.expect("registered by hand").physical_resource_id;
    let before = w.logzio.archives("token-1");
    let (result, log) = w.run(request(RequestType::Create, props(json!({})), None, None)).await;
    let failure = result.expect_err("not taken");
    assert!(
        failure
            .reason
            .contains(&format!("already has an archive (id {by_hand}, to acme-logs)"))
            && failure.reason.contains("registered by hand"),
        "{}",
        failure.reason
    );
    assert_eq!(failure.physical_resource_id, None, "the answer does not carry its id");
    assert_eq!(log.actions(), ["GetSecretValue", "ListArchives"], "no write tried");
    w.rollback_delete_calls_nothing("Archive-req").await;
    assert_eq!(w.logzio.archives("token-1"), before, "still there, unchanged");
}

#[tokio::test]
async fn a_post_whose_answer_is_lost_is_found_as_the_one_this_request_made() {
    let w = World::new();
    w.logzio.fail_after("CreateArchive", LogzioErrorKind::Transient);
    let (result, log) = w.run(request(RequestType::Create, props(json!({})), None, None)).await;
    let held = w.logzio.archives("token-1");
    assert_eq!(held.len(), 1);
    assert_eq!(result.expect("found").physical_resource_id, held[0].id.to_string());
    assert!(log.to_string().contains("CreateArchive:503,ListArchives"), "{log}");
}

#[tokio::test]
async fn one_lagging_404_is_not_taken_for_an_archive_deleted_outside() {
    let w = World::new();
    let id = w.created().await;
    w.logzio.refuse("GetArchive", LogzioErrorKind::NotFound, 1);
    let (result, log) = w
        .run(request(
            RequestType::Update,
            props(json!({"Enabled": "false"})),
            Some(props(json!({}))),
            Some(&id),
        ))
        .await;
    assert_eq!(result.expect("updated in place").physical_resource_id, id);
    let held = w.logzio.archives("token-1");
    assert_eq!(held.len(), 1, "no second archive");
    assert!(!held[0].settings.enabled);
    assert!(!log.actions().contains(&"CreateArchive"), "{log}");
    // The 404 (the first GetArchive) is read again by id at once, before the list is consulted.
    assert_eq!(
        log.actions()[..4],
        ["GetSecretValue", "GetArchive", "GetArchive", "UpdateArchive"],
        "{log}"
    );
}

#[tokio::test]
async fn an_answer_without_the_switches_or_with_a_normalised_path_shows_the_settings() {
    let wanted = ArchiveSettings {
        enabled: true,
        compressed: false,
        path: "acme-logs/app".into(),
        role_arn: ROLE.into(),
    };
    let mut held = Archive::of(7, wanted.clone(), None);
    held.settings.path = "s3://acme-logs/app/".into();
    held.settings.compressed = true;
    held.present.compressed = false; // the answer left `compressed` out
    assert!(held.shows(&wanted));
    held.present.compressed = true; // it says compressed: a difference
    assert!(!held.shows(&wanted));
    let mut blob = Archive::of(8, wanted.clone(), None);
    blob.storage_type = Some("BLOB".into());
    assert!(!blob.targets(&wanted));
    assert_eq!(blob.described(), "a BLOB archive, not S3");
}

#[tokio::test]
async fn a_role_logzio_cannot_assume_yet_is_retried_until_it_can() {
    let w = World::new();
    w.logzio.refuse("CreateArchive", LogzioErrorKind::AssumeRoleRefused, 2);
    let (result, log) = w.run(request(RequestType::Create, props(json!({})), None, None)).await;
    result.expect("created on the third try");
    assert!(
        log.to_string()
            .contains("CreateArchive:400,CreateArchive:400,CreateArchive,"),
        "{log}"
    );
}

#[tokio::test]
async fn a_refusal_that_never_clears_fails_before_the_deadline_with_logzios_reason() {
    let w = World::new();
    w.logzio
        .refuse("CreateArchive", LogzioErrorKind::AssumeRoleRefused, u32::MAX);
    let req = request(RequestType::Create, props(json!({})), None, None);
    let deadline = Instant::now() + Duration::from_millis(3500);
    let (result, _) = w.run_as(req, &Invocation::new(None, deadline)).await;
    assert!(Instant::now() < deadline, "gave up before the work's deadline");
    let r = reason(&result);
    assert!(
        r.starts_with("RoleArn: Logz.io's access check still failed after "),
        "{r}"
    );
    assert!(r.contains("HTTP 400"), "{r}");
    assert!(w.logzio.archives("token-1").is_empty());
}

#[tokio::test]
async fn an_external_id_the_role_does_not_trust_removes_the_new_archive() {
    let w = World::new();
    w.iam.edit("archive-role", |r| {
        r.role.trust_policy = trust(&[("406095609952", "hand-typed")])
    });
    let (result, log) = w.run(request(RequestType::Create, props(json!({})), None, None)).await;
    let r = reason(&result);
    assert!(
        r.starts_with(
            "RoleArn: the external ID Logz.io presents for this archive is not the one role archive-role trusts"
        ),
        "{r}"
    );
    assert!(
        !r.contains(EXTERNAL_ID) && !r.contains("hand-typed"),
        "no external ID in a Reason: {r}"
    );
    assert!(w.logzio.archives("token-1").is_empty());
    assert!(log.actions().ends_with(&["GetRole", "DeleteArchive"]), "{log}");
}

#[tokio::test]
async fn an_external_id_another_principal_must_present_is_no_match() {
    // The role trusts Logz.io with one ID and another account with the ID Logz.io presents: only the statement
    // for Logz.io's account says what Logz.io must present, so this is a mismatch.
    let w = World::new();
    w.iam.edit("archive-role", |r| {
        r.role.trust_policy = trust(&[("406095609952", "hand-typed"), ("111111111111", EXTERNAL_ID)])
    });
    let (result, _) = w.run(request(RequestType::Create, props(json!({})), None, None)).await;
    assert!(
        reason(&result).contains("is not the one role archive-role trusts"),
        "{}",
        reason(&result)
    );
    assert!(w.logzio.archives("token-1").is_empty());
}

#[tokio::test]
async fn an_update_in_the_same_account_replaces_the_settings_in_place() {
    let w = World::new();
    let id = w.created().await;
    let (result, log) = w
        .run(request(
            RequestType::Update,
            props(json!({"Enabled": "false"})),
            Some(props(json!({}))),
            Some(&id),
        ))
        .await;
    assert_eq!(result.expect("updated").physical_resource_id, id);
    assert!(!w.logzio.archives("token-1")[0].settings.enabled);
    assert_eq!(
        log.actions(),
        ["GetSecretValue", "GetArchive", "UpdateArchive", "GetArchive"]
    );
    let (result, log) = w
        .run(request(
            RequestType::Update,
            props(json!({"Enabled": "false"})),
            Some(props(json!({}))),
            Some(&id),
        ))
        .await;
    result.expect("no-op");
    assert_eq!(
        log.actions(),
        ["GetSecretValue", "GetArchive"],
        "no write when nothing changed"
    );
}

#[tokio::test]
async fn an_update_to_another_logzio_account_registers_a_new_archive() {
    let w = World::new();
    let id = w.created().await;
    // The role (updated first: the archive's RoleArn depends on it) now trusts the other account's external ID.
    w.iam.edit("archive-role", |r| {
        r.role.trust_policy =
            json!({"Statement": [{"Condition": {"StringEquals": {"sts:ExternalId": "logzio:aws:extid:other-account"}}}]})
    });
    let new = props(json!({"LogzioApiTokenSecretArn": OTHER_SECRET}));
    let (result, _) = w
        .run(request(
            RequestType::Update,
            new.clone(),
            Some(props(json!({}))),
            Some(&id),
        ))
        .await;
    let done = result.expect("replaced");
    let made = w.logzio.archives("token-2")[0].id.to_string();
    assert_eq!(done.physical_resource_id, format!("{made}-replacing-{id}"));
    assert_eq!(done.data["ArchiveId"], made);
    assert_eq!(
        w.logzio.archives("token-1").len(),
        1,
        "the old one is CloudFormation's Delete's to remove"
    );
    // That Delete carries the old properties: it removes the old archive from the old account.
    let (deleted, _) = w
        .run(request(RequestType::Delete, props(json!({})), None, Some(&id)))
        .await;
    deleted.expect("deleted");
    assert!(w.logzio.archives("token-1").is_empty());
    assert_eq!(w.logzio.archives("token-2").len(), 1);
}

#[tokio::test]
async fn the_rollback_of_a_move_to_another_account_returns_to_the_archive_it_replaced() {
    // CloudFormation's sequence: the Update moves the archive (a new physical id), a later resource fails, the
    // rollback Update sends the old properties with the new id; the old archive still exists (the cleanup
    // Delete of a replacement runs only on success). Its physical id records it as this resource's: taken
    // back, no POST; then the rollback's cleanup Delete removes the new one, in the new account only.
    let w = World::new();
    let id = w.created().await;
    w.iam.edit("archive-role", |r| {
        r.role.trust_policy = trust(&[
            ("406095609952", EXTERNAL_ID),
            ("406095609952", "logzio:aws:extid:other-account"),
        ])
    });
    let moved = props(json!({"LogzioApiTokenSecretArn": OTHER_SECRET}));
    let (result, _) = w
        .run(request(
            RequestType::Update,
            moved.clone(),
            Some(props(json!({}))),
            Some(&id),
        ))
        .await;
    let replacing = result.expect("moved").physical_resource_id;
    let (result, log) = w
        .run(request(
            RequestType::Update,
            props(json!({})),
            Some(moved.clone()),
            Some(&replacing),
        ))
        .await;
    let back = result.expect("returned");
    assert_eq!(
        (back.physical_resource_id.as_str(), back.data["ArchiveId"].as_str()),
        (id.as_str(), id.as_str())
    );
    assert!(!log.actions().contains(&"CreateArchive"), "{log}");
    let (deleted, log) = w.run(request(RequestType::Delete, moved, None, Some(&replacing))).await;
    deleted.expect("cleanup");
    assert_eq!(log.actions(), ["GetSecretValue", "DeleteArchive"]);
    assert!(w.logzio.archives("token-2").is_empty());
    assert_eq!(w.logzio.archives("token-1")[0].id.to_string(), id);
}

#[tokio::test]
async fn the_rollback_of_a_failed_move_keeps_its_archive() {
    // The Update to the other account failed (its archive stayed), so the rollback Update (old properties,
    // the same id) finds its own archive by that id: no POST, the same id.
    let w = World::new();
    let id = w.created().await;
    let moved = props(json!({"LogzioApiTokenSecretArn": OTHER_SECRET}));
    let (result, log) = w
        .run(request(RequestType::Update, props(json!({})), Some(moved), Some(&id)))
        .await;
    assert_eq!(result.expect("kept").physical_resource_id, id);
    assert!(!log.actions().contains(&"CreateArchive"), "{log}");
}

#[tokio::test]
async fn an_update_of_an_archive_deleted_outside_registers_it_again() {
    let w = World::new();
    let id = w.created().await;
    w.logzio.delete_outside("token-1", id.parse().expect("numeric"));
    let (result, _) = w
        .run(request(
            RequestType::Update,
            props(json!({"Compressed": "false"})),
            Some(props(json!({}))),
            Some(&id),
        ))
        .await;
    let done = result.expect("registered again");
    let new = &done.data["ArchiveId"];
    assert_ne!(new, &id);
    // The physical id records the archive it replaced; Data.ArchiveId is the bare id.
    assert_eq!(done.physical_resource_id, format!("{new}-replacing-{id}"));
    assert!(!w.logzio.archives("token-1")[0].settings.compressed);
    // The id changed, so CloudFormation deletes the old one: already gone, a success that leaves the new one.
    let (deleted, log) = w
        .run(request(RequestType::Delete, props(json!({})), None, Some(&id)))
        .await;
    deleted.expect("gone is deleted");
    assert_eq!(
        log.actions(),
        ["GetSecretValue", "DeleteArchive"],
        "the archive is gone: {log}"
    );
    let held = w.logzio.archives("token-1");
    assert_eq!((held.len(), held[0].id.to_string()), (1, new.clone()));
}

#[tokio::test]
async fn a_delete_removes_its_archive_and_a_missing_one_is_success() {
    let w = World::new();
    let id = w.created().await;
    let (result, log) = w
        .run(request(RequestType::Delete, props(json!({})), None, Some(&id)))
        .await;
    result.expect("deleted");
    assert_eq!(log.actions(), ["GetSecretValue", "DeleteArchive"]);
    assert!(w.logzio.archives("token-1").is_empty());
    let (again, _) = w
        .run(request(RequestType::Delete, props(json!({})), None, Some(&id)))
        .await;
    again.expect("404 is success");
}

#[tokio::test]
async fn a_role_of_another_account_is_refused_before_any_call() {
    let w = World::new();
    let (result, log) = w
        .run(request(
            RequestType::Create,
            props(json!({"RoleArn": "arn:aws:iam::999988887777:role/r"})),
            None,
            None,
        ))
        .await;
    assert!(
        reason(&result).starts_with("RoleArn: the role is in account 999988887777, but the stack is in 123456789012")
    );
    assert!(log.calls().is_empty());
}

#[tokio::test]
async fn a_token_logzio_refuses_names_the_property() {
    let w = World::new();
    w.logzio.refuse("ListArchives", LogzioErrorKind::Unauthorized, 1);
    let (result, _) = w.run(request(RequestType::Create, props(json!({})), None, None)).await;
    let r = reason(&result);
    assert!(
        r.starts_with("LogzioApiTokenSecretArn: Logz.io refused the API token"),
        "{r}"
    );
    assert!(!r.contains("token-1"));
}

#[tokio::test]
async fn a_create_stopped_after_its_post_took_effect_removes_that_archive() {
    let w = World::new();
    w.logzio.hang_after("CreateArchive");
    let req = request(RequestType::Create, props(json!({})), None, None);
    let log = CallLog::default();
    let stopped = tokio::time::timeout(Duration::from_millis(100), w.archive.create(&req, &inv(), &log)).await;
    assert!(stopped.is_err(), "the POST hangs after taking effect");
    assert_eq!(w.logzio.archives("token-1").len(), 1, "Logz.io holds it");
    w.archive.undo_after_deadline(&req, &inv(), &log).await;
    assert!(w.logzio.archives("token-1").is_empty(), "{log}");
    assert!(
        log.to_string()
            .ends_with("CreateArchive:in-flight,GetSecretValue,ListArchives,DeleteArchive"),
        "{log}"
    );
}

#[tokio::test]
async fn the_undo_leaves_an_archive_it_did_not_post_alone() {
    let w = World::new();
    let (first, _) = w
        .run(request(
            RequestType::Create,
            props(json!({"BucketName": "older-logs"})),
            None,
            None,
        ))
        .await;
    first.expect("someone's archive");
    let req = request(
        RequestType::Create,
        props(json!({"BucketName": "older-logs"})),
        None,
        None,
    );
    let log = CallLog::default();
    // A Create that found an identical archive (no POST) and was stopped: nothing to undo.
    w.archive.create(&req, &inv(), &log).await.expect_err("not adopted");
    w.archive.undo_after_deadline(&req, &inv(), &log).await;
    assert_eq!(w.logzio.archives("token-1").len(), 1);
}

#[tokio::test]
async fn a_stack_of_another_account_than_the_functions_is_refused_before_any_call() {
    let w = World::new();
    let req = request(RequestType::Create, props(json!({})), None, None);
    let function = Some("arn:aws:lambda:us-east-1:999988887777:function:logzio-role".to_owned());
    let as_other = Invocation::new(function, inv().work_deadline);
    let (result, log) = w.run_as(req, &as_other).await;
    assert!(reason(&result).starts_with(
        "StackId: the stack is in account 123456789012, but this function serves only its own account 999988887777"
    ));
    assert!(log.calls().is_empty());
    // Its Delete (even one naming an archive that exists here) touches nothing and succeeds: no DELETE_FAILED.
    let mine = w.created().await;
    let delete = request(RequestType::Delete, props(json!({})), None, Some(&mine));
    let (result, log) = w.run_as(delete, &as_other).await;
    assert_eq!(result.expect("deleted").physical_resource_id, mine);
    assert!(log.calls().is_empty(), "{log}");
    assert_eq!(w.logzio.archives("token-1").len(), 1);
}

#[tokio::test]
async fn a_bucket_the_deployment_does_not_allow_is_refused_before_any_call() {
    let w = World::new();
    let only_acme = Limits::from_vars(|v| (v == "LOGZIO_ALLOWED_BUCKETS").then(|| "acme-*".to_owned()));
    let archive = LogzioArchive::new(w.iam.clone(), w.logzio.clone(), only_acme);
    let log = CallLog::default();
    let req = request(
        RequestType::Create,
        props(json!({"BucketName": "other-logs"})),
        None,
        None,
    );
    let result = archive.create(&req, &inv(), &log).await;
    assert!(
        reason(&result).starts_with(r#"BucketName: "other-logs" is not among the buckets this deployment allows"#),
        "{result:?}"
    );
    assert!(log.calls().is_empty());
}

#[tokio::test]
async fn a_bucket_the_deployment_no_longer_allows_does_not_block_a_return_to_what_logzio_holds() {
    let w = World::new();
    let id = w.created().await;
    let narrowed = LogzioArchive::new(
        w.iam.clone(),
        w.logzio.clone(),
        Limits::from_vars(|v| (v == crate::limits::ALLOWED_BUCKETS_VAR).then(|| "other-*".to_owned())),
    );
    let log = CallLog::default();
    let rollback = request(RequestType::Update, props(json!({})), Some(props(json!({}))), Some(&id));
    let done = narrowed.update(&rollback, &inv(), &log).await.expect("held as is");
    assert_eq!(done.physical_resource_id, id);
    assert_eq!(log.actions(), ["GetSecretValue", "GetArchive"]);
    let log = CallLog::default();
    let change = request(
        RequestType::Update,
        props(json!({"Enabled": "false"})),
        Some(props(json!({}))),
        Some(&id),
    );
    let refused = narrowed
        .update(&change, &inv(), &log)
        .await
        .expect_err("a write is refused");
    assert!(refused.reason.starts_with("BucketName: "), "{}", refused.reason);
    assert!(!log.actions().contains(&"UpdateArchive"), "{log}");
    assert!(w.logzio.archives("token-1")[0].settings.enabled);
}

#[tokio::test]
async fn a_service_timeout_from_before_the_longer_minimum_blocks_a_write_not_a_return() {
    let w = World::new();
    let id = w.created().await;
    let short = props(json!({"ServiceTimeout": "300"}));
    let (result, log) = w
        .run(request(
            RequestType::Update,
            short.clone(),
            Some(props(json!({}))),
            Some(&id),
        ))
        .await;
    assert_eq!(result.expect("held as is").physical_resource_id, id);
    assert_eq!(log.actions(), ["GetSecretValue", "GetArchive"]);
    let (result, _) = w.run(request(RequestType::Create, short, None, None)).await;
    assert!(
        reason(&result).contains("ServiceTimeout: must be at least 1020 seconds"),
        "{}",
        reason(&result)
    );
}
