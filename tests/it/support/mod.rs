//! Test fixtures: moto's IAM server (one per test binary, one IAM account per test), an IAM client with fault
//! injection, a local ResponseURL (wiremock), and events built from `events/`.

use aws_sdk_iam::config::interceptors::BeforeTransmitInterceptorContextMut;
use aws_sdk_iam::config::{ConfigBag, Credentials, Intercept, Region, RuntimeComponents};
use aws_sdk_iam::error::BoxError;
use logzio_role::archive::LogzioArchive;
use logzio_role::cfn::sender::ResponseSender;
use logzio_role::cfn::{Delivery, Handler};
use logzio_role::dispatch::LogzioResources;
use logzio_role::iam::sdk::SdkIam;
use logzio_role::limits::Limits;
use logzio_role::logzio::http::{HttpLogzio, Secrets};
use logzio_role::role::LogzioRole;
use serde_json::Value;
use std::collections::HashSet;
use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};
use wiremock::matchers::method;
use wiremock::{Mock, MockServer, ResponseTemplate};

mod moto;

use moto::{TestInterceptor, moto};

/// One test's world: its own IAM account on moto, a handler pointed at it, and a client to look at IAM.
pub struct World {
    pub account: String,
    pub iam: aws_sdk_iam::Client,
    pub handler: Handler<LogzioResources<SdkIam, HttpLogzio>>,
    fail: Arc<Mutex<HashSet<String>>>,
    hang: Arc<Mutex<HashSet<String>>>,
}

fn next_account() -> String {
    static N: AtomicU64 = AtomicU64::new(0);
    let n = N.fetch_add(1, Ordering::SeqCst);
    format!("{:012}", 100_000_000_000 + u64::from(std::process::id()) * 1000 + n)
}

type Faults = Arc<Mutex<HashSet<String>>>;

/// A Secrets Manager client for moto, in `account` (moto's account header, added by an interceptor like IAM's).
pub fn secrets_client(account: &str) -> aws_sdk_secretsmanager::Client {
    let config = aws_sdk_secretsmanager::Config::builder()
        .behavior_version(aws_sdk_secretsmanager::config::BehaviorVersion::latest())
        .region(aws_sdk_secretsmanager::config::Region::new("us-east-1"))
        .endpoint_url(moto())
        .credentials_provider(aws_sdk_secretsmanager::config::Credentials::new(
            "testing", "testing", None, None, "t",
        ))
        .interceptor(TestInterceptor {
            account: account.to_owned(),
            fail: Arc::default(),
            hang: Arc::default(),
        })
        .build();
    aws_sdk_secretsmanager::Client::from_conf(config)
}

/// The Logz.io adapter the handler under test uses: Secrets Manager on moto, the API at `api_url` (none: the
/// region's real host, which these tests never reach).
pub fn logzio(account: &str, api_url: Option<String>) -> HttpLogzio {
    HttpLogzio::new(reqwest::Client::new(), Secrets::Ready(secrets_client(account)), api_url)
}

pub fn iam_client(endpoint: &str, account: &str, fail: Faults, hang: Faults) -> aws_sdk_iam::Client {
    let config = aws_sdk_iam::Config::builder()
        .behavior_version(aws_sdk_iam::config::BehaviorVersion::latest())
        .region(Region::new("us-east-1"))
        .endpoint_url(endpoint)
        .credentials_provider(Credentials::new("testing", "testing", None, None, "tests"))
        .retry_config(logzio_role::iam_retry_config())
        .timeout_config(logzio_role::iam_timeout_config())
        .interceptor(TestInterceptor {
            account: account.to_owned(),
            fail,
            hang,
        })
        .build();
    aws_sdk_iam::Client::from_conf(config)
}

impl World {
    pub fn new() -> World {
        Self::with_endpoint(moto())
    }

    /// A world whose handler runs under these deployment settings (the default: no boundary, `/logzio/`).
    pub fn with_limits(limits: Limits) -> World {
        Self::build(moto(), limits)
    }

    /// A world whose handler talks to `endpoint` instead of moto (the test client still sees moto).
    pub fn with_endpoint(endpoint: &str) -> World {
        Self::build(endpoint, Limits::default())
    }

    fn build(endpoint: &str, limits: Limits) -> World {
        let account = next_account();
        let fail: Faults = Arc::default();
        let hang: Faults = Arc::default();
        let handler_client = iam_client(endpoint, &account, fail.clone(), hang.clone());
        let iam = iam_client(moto(), &account, Arc::default(), Arc::default());
        let (sdk, lz) = (SdkIam::new(handler_client), logzio(&account, None));
        let resources = LogzioResources {
            role: LogzioRole::new(sdk.clone(), lz.clone(), Ok(limits.clone())),
            archive: LogzioArchive::new(sdk, lz, Ok(limits)),
        };
        let handler = Handler::new(resources, ResponseSender::new().expect("http client"))
            .with_answer_margin(Duration::from_millis(1000));
        World {
            account,
            iam,
            handler,
            fail,
            hang,
        }
    }

    /// Makes the handler's calls of `action` fail before they reach IAM.
    pub fn fail_action(&self, action: &str) {
        self.fail.lock().expect("lock").insert(action.to_owned());
    }

    /// Makes the handler's calls of `action` hang (sent to an address that never answers).
    pub fn hang_action(&self, action: &str) {
        self.hang.lock().expect("lock").insert(action.to_owned());
    }

    pub fn heal(&self) {
        self.fail.lock().expect("lock").clear();
        self.hang.lock().expect("lock").clear();
    }

    /// Runs `event` with 30 s to the deadline and returns what CloudFormation would receive at its ResponseURL.
    pub async fn answer(&self, event: Value) -> Value {
        self.answer_within(event, Duration::from_secs(30)).await
    }

    /// Runs `event` with `time` to the Lambda deadline; returns the answer CloudFormation would receive.
    pub async fn answer_within(&self, mut event: Value, time: Duration) -> Value {
        let cfn = MockServer::start().await;
        Mock::given(method("PUT"))
            .respond_with(ResponseTemplate::new(200))
            .expect(1)
            .mount(&cfn)
            .await;
        event["ResponseURL"] = Value::String(format!("{}/response?X-Amz-Signature=secret", cfn.uri()));
        // Each event a request of its own, as CloudFormation sends them (the sample events share one id).
        event["RequestId"] = Value::String(format!("req-{}", next_account()));
        let served = self.handler.handle_payload(event, Instant::now() + time).await;
        let body = single_body(&cfn).await;
        assert!(
            matches!(served.delivery, Delivery::Delivered { .. }),
            "{:?}",
            served.delivery
        );
        let answer = served.answer.as_ref().expect("an answer");
        assert_eq!(
            answer.physical_resource_id, body["PhysicalResourceId"],
            "answer and PUT disagree"
        );
        let mut body = body;
        let calls = served.record.to_string();
        body["_Actions"] = calls.split(',').filter(|c| !c.is_empty()).collect();
        body["_Writes"] = served.record.writes().into_iter().collect();
        body
    }

    pub async fn role(&self, name: &str) -> Option<aws_sdk_iam::types::Role> {
        match self.iam.get_role().role_name(name).send().await {
            Ok(o) => o.role().cloned(),
            Err(e) if aws_sdk_iam::error::ProvideErrorMetadata::code(&e) == Some("NoSuchEntity") => None,
            Err(e) => panic!("GetRole {name}: {e:?}"),
        }
    }

    pub async fn inline_policy(&self, role: &str, name: &str) -> Option<Value> {
        match self
            .iam
            .get_role_policy()
            .role_name(role)
            .policy_name(name)
            .send()
            .await
        {
            Ok(o) => Some(logzio_role::iam::decode_policy(o.policy_document())),
            Err(_) => None,
        }
    }

    pub async fn inline_policy_names(&self, role: &str) -> Vec<String> {
        self.iam
            .list_role_policies()
            .role_name(role)
            .send()
            .await
            .expect("list")
            .policy_names
    }

    /// Creates a customer-managed policy (moto has no AWS-managed ones) and returns its ARN.
    pub async fn managed_policy(&self, name: &str) -> String {
        let out = self
            .iam
            .create_policy()
            .policy_name(name)
            .policy_document(
                r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:ListBucket","Resource":"*"}]}"#,
            )
            .send()
            .await
            .expect("CreatePolicy");
        out.policy().and_then(|p| p.arn()).expect("policy ARN").to_owned()
    }

    /// Deletes a role the handler made (its inline policy first), as someone might out of band.
    pub async fn delete_out_of_band(&self, role: &str) {
        self.iam
            .delete_role_policy()
            .role_name(role)
            .policy_name("LogzioArchiveAccess")
            .send()
            .await
            .expect("DeleteRolePolicy");
        self.iam.delete_role().role_name(role).send().await.expect("DeleteRole");
    }

    pub async fn role_names(&self) -> Vec<String> {
        let out = self.iam.list_roles().send().await.expect("list roles");
        out.roles().iter().map(|r| r.role_name().to_owned()).collect()
    }
}

/// The one body the mock ResponseURL received, as JSON.
pub async fn single_body(server: &MockServer) -> Value {
    let requests = server.received_requests().await.expect("recording on");
    assert_eq!(requests.len(), 1, "expected exactly one answer, got {}", requests.len());
    let r = &requests[0];
    assert!(
        r.headers.get("content-type").is_none_or(|v| v.is_empty()),
        "the answer must have no Content-Type"
    );
    assert!(r.body.len() <= 4096, "body is {} bytes", r.body.len());
    serde_json::from_slice(&r.body).expect("JSON answer")
}

/// A sample event from `events/`, with its ids made unique to the test.
pub fn event(file: &str) -> Value {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("events").join(file);
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_json::from_str(&text).expect("event JSON")
}

/// The role's tags as (key, value) pairs.
pub fn tags(role: &aws_sdk_iam::types::Role) -> Vec<(String, String)> {
    let mut t: Vec<(String, String)> = role
        .tags()
        .iter()
        .map(|t| (t.key().to_owned(), t.value().to_owned()))
        .collect();
    t.sort();
    t
}

/// An IAM error response as IAM's query protocol sends it.
pub fn iam_error_xml(code: &str, message: &str) -> String {
    format!(
        r#"<ErrorResponse xmlns="https://iam.amazonaws.com/doc/2010-05-08/"><Error><Type>Sender</Type><Code>{code}</Code><Message>{message}</Message></Error><RequestId>r1</RequestId></ErrorResponse>"#
    )
}
