//! Create: one POST when the account has none, never another's archive taken, Logz.io's access check waited out, the external ID checked.

use super::*;

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
