//! Delete, and the undo after the deadline: only the archive this resource (or this invocation's POST) made.

use super::*;

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
