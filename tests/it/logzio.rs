//! The Logz.io adapter's contract: the requests it sends to Logz.io's public API (paths, the token header, the
//! archive body) against a local server, and the token read from Secrets Manager on moto. The resources'
//! decisions are unit-tested against the in-memory Logz.io; the shipped binary meets the faithful fake of the
//! API (tests/logzio_fake.py) in the fault tier.

use crate::support::{logzio, secrets_client};
use logzio_role::logzio::{Api, ApiToken, ArchiveSettings, LogzioErrorKind, LogzioPort};
use logzio_role::properties::LogzioRegion;
use serde_json::{Value, json};
use wiremock::matchers::{body_json, header, method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

fn api() -> Api {
    Api {
        region: LogzioRegion::Eu,
        token: ApiToken::new("secret-token"),
    }
}

fn settings() -> ArchiveSettings {
    ArchiveSettings {
        enabled: true,
        compressed: false,
        path: "acme-logs/logzio".into(),
        role_arn: "arn:aws:iam::123456789012:role/logzio/archive".into(),
    }
}

fn archive_json(id: u64) -> Value {
    json!({"id": id, "settings": {"storageType": "S3", "enabled": true, "compressed": false,
        "amazonS3StorageSettings": {"credentialsType": "IAM", "path": "acme-logs/logzio",
            "s3IamCredentials": {"arn": "arn:aws:iam::123456789012:role/logzio/archive", "externalId": "x"}}}})
}

#[tokio::test]
async fn the_archive_is_posted_with_the_token_header_and_logzios_body_shape() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/v2/archive/settings"))
        .and(header("X-API-TOKEN", "secret-token"))
        .and(body_json(
            json!({"storageType": "S3", "enabled": true, "compressed": false,
            "amazonS3StorageSettings": {"credentialsType": "IAM", "path": "acme-logs/logzio",
                "s3IamCredentials": {"arn": "arn:aws:iam::123456789012:role/logzio/archive"}}}),
        ))
        .respond_with(ResponseTemplate::new(201).set_body_json(archive_json(77)))
        .expect(1)
        .mount(&server)
        .await;
    let made = logzio("123456789012", Some(server.uri()))
        .create_archive(&api(), &settings())
        .await
        .expect("made");
    assert_eq!((made.id, made.settings), (77, settings()));
    assert_eq!(made.external_id.as_deref(), Some("x"));
}

#[tokio::test]
async fn throttling_and_server_errors_are_retried_and_a_404_is_none() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/v2/archive/settings/5"))
        .respond_with(ResponseTemplate::new(429))
        .up_to_n_times(1)
        .with_priority(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/v2/archive/settings/5"))
        .respond_with(ResponseTemplate::new(503))
        .up_to_n_times(1)
        .with_priority(2)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/v2/archive/settings/5"))
        .respond_with(ResponseTemplate::new(200).set_body_json(archive_json(5)))
        .with_priority(3)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/v2/archive/settings/6"))
        .respond_with(
            ResponseTemplate::new(404).set_body_json(json!({"errorCode": "archive/NOT_FOUND", "message": "no"})),
        )
        .mount(&server)
        .await;
    let lz = logzio("123456789012", Some(server.uri()));
    assert_eq!(
        lz.get_archive(&api(), 5).await.expect("third try").map(|a| a.id),
        Some(5)
    );
    assert_eq!(lz.get_archive(&api(), 6).await.expect("404"), None);
    Mock::given(method("DELETE"))
        .and(path("/v2/archive/settings/6"))
        .respond_with(ResponseTemplate::new(404))
        .mount(&server)
        .await;
    assert!(!lz.delete_archive(&api(), 6).await.expect("404 is gone"));
}

#[tokio::test]
async fn refusals_carry_logzios_status_and_message_and_never_the_token() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(400).set_body_json(
            json!({"errorCode": "archive/ASSUME_ROLE_FAILED", "message": "Logz.io could not assume role r"}),
        ))
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .respond_with(
            ResponseTemplate::new(401).set_body_json(json!({"errorCode": "auth/UNAUTHORIZED", "message": "bad token"})),
        )
        .mount(&server)
        .await;
    let lz = logzio("123456789012", Some(server.uri()));
    let e = lz.create_archive(&api(), &settings()).await.expect_err("refused");
    assert_eq!(e.kind, LogzioErrorKind::AssumeRoleRefused);
    assert_eq!(
        e.to_string(),
        "logzio:POST /v2/archive/settings failed: HTTP 400: archive/ASSUME_ROLE_FAILED: Logz.io could not assume role r"
    );
    let e = lz.list_archives(&api()).await.expect_err("401");
    assert_eq!(e.kind, LogzioErrorKind::Unauthorized);
    assert!(!format!("{e} {e:?} {:?}", api()).contains("secret-token"));
    // Neither refusal is retried: one POST, one GET.
    let sent: Vec<String> = server
        .received_requests()
        .await
        .expect("recorded")
        .iter()
        .map(|r| r.method.to_string())
        .collect();
    assert_eq!(sent, ["POST", "GET"]);
}

#[tokio::test]
async fn the_assume_role_details_and_a_list_in_either_shape_are_read() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/v1/log-shipping/s3-buckets/aws-assume-role-details"))
        .respond_with(
            ResponseTemplate::new(200).set_body_json(
                json!({"logzioAWSAccountId": "406095609952", "assignedExternalId": "logzio:aws:extid:abc"}),
            ),
        )
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/v2/archive/settings"))
        .respond_with(ResponseTemplate::new(200).set_body_json(archive_json(9)))
        .mount(&server)
        .await;
    let lz = logzio("123456789012", Some(server.uri()));
    let d = lz.assume_role_details(&api()).await.expect("details");
    assert_eq!(
        (d.aws_account_id.as_str(), d.external_id.as_str()),
        ("406095609952", "logzio:aws:extid:abc")
    );
    assert_eq!(lz.list_archives(&api()).await.expect("one object").len(), 1);
}

#[tokio::test]
async fn the_token_is_the_secrets_string_in_secrets_manager() {
    let account = "100000000777";
    let arn = secrets_client(account)
        .create_secret()
        .name("logzio/api-token")
        .secret_string("  the-token\n")
        .send()
        .await
        .expect("CreateSecret")
        .arn
        .expect("arn");
    let lz = logzio(account, None);
    assert_eq!(lz.api_token(&arn).await.expect("read").expose(), "the-token");
    let missing = arn.replace("api-token", "missing");
    let e = lz.api_token(&missing).await.expect_err("no such secret");
    assert_eq!(e.code, "ResourceNotFoundException", "{e}");
}

#[tokio::test]
async fn a_key_value_secret_is_refused_saying_how_to_store_the_token() {
    let account = "100000000778";
    let arn = secrets_client(account)
        .create_secret()
        .name("logzio/api-token-kv")
        .secret_string(r#"{"token": "the-token"}"#)
        .send()
        .await
        .expect("CreateSecret")
        .arn
        .expect("arn");
    let e = logzio(account, None)
        .api_token(&arn)
        .await
        .expect_err("a JSON secret is not a token");
    assert_eq!(e.code, "KeyValueSecret", "{e}");
    assert!(e.message.contains("plain text"), "{e}");
    assert!(
        !e.to_string().contains("the-token"),
        "the secret's content is not quoted: {e}"
    );
}
