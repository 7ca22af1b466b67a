//! Update: in place in the same Logz.io account (a lagging read is not a deletion), anew in another, and the rollbacks of both.

use super::*;

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

#[tokio::test]
async fn a_rollback_is_blocked_with_no_write_when_nothing_can_be_verified_or_the_role_is_another_accounts() {
    let w = World::new();
    let id = w.created().await;
    let before = w.logzio.archives("token-1");
    // Logz.io unreachable: the archive cannot be read, so nothing stands in; FAILED, nothing written.
    w.logzio.refuse("GetArchive", LogzioErrorKind::Transient, u32::MAX);
    let back = request(RequestType::Update, props(json!({})), Some(props(json!({}))), Some(&id));
    let (result, log) = w.run(back).await;
    assert!(
        reason(&result).contains("GetArchive"),
        "names the call that failed: {result:?}"
    );
    let writes = ["CreateArchive", "UpdateArchive", "DeleteArchive"];
    assert!(!log.actions().iter().any(|a| writes.contains(a)), "{log}");
    // A RoleArn of another account: refused before any call, in an Update as in a Create.
    let other = props(json!({"RoleArn": "arn:aws:iam::999988887777:role/r"}));
    let (result, log) = w
        .run(request(RequestType::Update, other, Some(props(json!({}))), Some(&id)))
        .await;
    assert!(
        reason(&result).starts_with("RoleArn: the role is in account 999988887777"),
        "{result:?}"
    );
    assert!(log.calls().is_empty(), "{log}");
    assert_eq!(w.logzio.archives("token-1"), before);
}
