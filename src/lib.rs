//! `logzio-role`: the Lambda behind the CloudFormation custom resources `Custom::LogzioRole`, which makes the IAM
//! role Logz.io assumes to archive logs into a customer's S3 bucket, and `Custom::LogzioArchive`, which registers
//! that archive with Logz.io.
//!
//! - [`cfn`]: the CloudFormation custom-resource protocol (event, deadline, answer); knows nothing of IAM.
//! - [`dispatch`]: one function, two resource types (by `ResourceType`).
//! - [`role`]: `Custom::LogzioRole`, the archive role: trust, converge (Create, Update), delete.
//! - [`archive`]: `Custom::LogzioArchive`, the archive registered with Logz.io: create, update, delete.
//! - [`preflight`]: the check of the deployment and the event's stack both resources run first.
//! - [`logzio`]: the Logz.io port, its adapter (HTTP, and Secrets Manager for the token), the call record.
//! - [`properties`], [`policy`], [`plan`]: pure parsing, policy documents and the reconcile plan.
//! - [`limits`] (part of [`properties`]): what the deployment allows (from the environment), which the
//!   properties are held to.
//! - [`iam`]: the IAM port, its one adapter to `aws-sdk-iam`, and the typed record of an invocation's calls.
//! - [`tls`]: one root-certificate store for both HTTP clients.
//! - [`arn`]: ARN syntax and the account-id rule, read in one place.

pub mod archive;
pub mod arn;
pub mod budget;
pub mod cfn;
pub mod dispatch;
pub mod iam;
pub mod logzio;
pub mod plan;
pub mod policy;
pub mod preflight;
pub mod properties;
/// The deployment's limits, a part of [`properties`] (see [`properties::limits`]).
pub use properties::limits;
pub mod role;
pub mod tls;

/// Sets up logging like `lambda_runtime::tracing::init_default_subscriber` (level from `AWS_LAMBDA_LOG_LEVEL` or
/// `RUST_LOG`, JSON when `AWS_LAMBDA_LOG_FORMAT=JSON`), except that only this crate logs below INFO: at DEBUG and
/// TRACE the runtime logs whole events and the SDK whole requests, which carry the ResponseURL's signature and
/// the ExternalId.
pub fn init_tracing() {
    use lambda_runtime::tracing::subscriber::{EnvFilter, filter::LevelFilter};
    let wanted = std::env::var("AWS_LAMBDA_LOG_LEVEL")
        .or_else(|_| std::env::var("RUST_LOG"))
        .ok()
        .and_then(|l| l.trim().parse::<LevelFilter>().ok())
        .unwrap_or(LevelFilter::INFO);
    let others = wanted.min(LevelFilter::INFO);
    let filter = EnvFilter::new(format!("{others},logzio_role={wanted}"));
    let fmt = lambda_runtime::tracing::subscriber::fmt()
        .with_target(false)
        .without_time()
        .with_env_filter(filter);
    let json = std::env::var("AWS_LAMBDA_LOG_FORMAT").is_ok_and(|f| f.eq_ignore_ascii_case("json"));
    if json { fmt.json().init() } else { fmt.init() }
}

/// IAM retries: the SDK's standard mode (exponential backoff with jitter on throttling, 5xx and connection
/// errors) with [`budget::iam::MAX_ATTEMPTS`] attempts; the Lambda deadline bounds the total.
pub fn iam_retry_config() -> aws_config::retry::RetryConfig {
    aws_config::retry::RetryConfig::standard().with_max_attempts(budget::iam::MAX_ATTEMPTS)
}

/// IAM timeouts: a hung connection or attempt is retried instead of eating the whole deadline.
pub fn iam_timeout_config() -> aws_config::timeout::TimeoutConfig {
    aws_config::timeout::TimeoutConfig::builder()
        .connect_timeout(budget::iam::CONNECT)
        .operation_attempt_timeout(budget::iam::ATTEMPT)
        .build()
}

/// Loads the AWS configuration from the standard chain (so `AWS_ENDPOINT_URL_IAM` / `AWS_ENDPOINT_URL` point it at
/// an emulator) with more IAM attempts than the SDK's default, and builds the handler. Called once per process.
/// The resources the shipped function serves, over the real clients.
pub type Resources = dispatch::LogzioResources<iam::sdk::SdkIam, logzio::http::HttpLogzio>;

pub async fn handler() -> Result<cfn::Handler<Resources>, lambda_runtime::Error> {
    let (resource, sender) = parts().await?;
    Ok(cfn::Handler::new(resource, sender))
}

/// The resource and the answer's sender that [`handler`] puts together.
/// What building the handler gives.
type Built = Result<cfn::Handler<Resources>, lambda_runtime::Error>;

/// The handler, built on a thread of its own from the process's start, so that the first poll of the Runtime
/// API does not wait for it: reading the root certificates (a bundle, and every file of `SSL_CERT_DIR` where
/// that is set) and the SDK's configuration chain run beside the poll, not on the runtime's one thread. The
/// first event waits for what is not finished yet, so the cost moves into the wait for the event instead of
/// before it; nothing is skipped. The clients are runtime-agnostic until they send (their connections are
/// spawned on the runtime that sends). A build that failed is tried again by the next event.
#[derive(Debug)]
pub struct StartingHandler {
    task: std::sync::Mutex<Option<tokio::sync::oneshot::Receiver<Built>>>,
    ready: tokio::sync::OnceCell<cfn::Handler<Resources>>,
}

impl StartingHandler {
    /// Starts building the handler.
    pub fn start() -> Self {
        let (tx, rx) = tokio::sync::oneshot::channel();
        let spawned = std::thread::Builder::new().name("handler-init".into()).spawn(move || {
            let built = match tokio::runtime::Builder::new_current_thread().enable_all().build() {
                Ok(rt) => rt.block_on(handler()),
                Err(e) => Err(e.into()),
            };
            let _ = tx.send(built);
        });
        StartingHandler {
            // No thread (the process is out of them): the first event builds the handler itself.
            task: std::sync::Mutex::new(spawned.ok().map(|_| rx)),
            ready: tokio::sync::OnceCell::new(),
        }
    }

    /// The handler, once built.
    pub async fn get(&self) -> Result<&cfn::Handler<Resources>, lambda_runtime::Error> {
        self.ready
            .get_or_try_init(|| async {
                let started = self
                    .task
                    .lock()
                    .unwrap_or_else(std::sync::PoisonError::into_inner)
                    .take();
                match started {
                    Some(built) => built.await?,
                    None => handler().await,
                }
            })
            .await
    }
}

pub async fn parts() -> Result<(Resources, cfn::sender::ResponseSender), lambda_runtime::Error> {
    let roots = tls::Roots::load();
    let http = aws_smithy_http_client::Builder::new()
        .tls_provider(aws_smithy_http_client::tls::Provider::Rustls(
            aws_smithy_http_client::tls::rustls_provider::CryptoMode::AwsLc,
        ))
        .tls_context(roots.sdk_tls_context())
        .build_https();
    let config = aws_config::defaults(aws_config::BehaviorVersion::latest())
        .http_client(http)
        .retry_config(iam_retry_config())
        .timeout_config(iam_timeout_config())
        .load()
        .await;
    let iam = iam::sdk::SdkIam::new(aws_sdk_iam::Client::new(&config));
    let sender = cfn::sender::ResponseSender::with_tls(roots.rustls_config()?)?;
    let limits = limits::Limits::from_env();
    if let Err(e) = &limits {
        // Every Create and Update is answered FAILED with this; the function still starts and answers.
        tracing::error!(error = %e, "invalid deployment settings");
    }
    // Secrets Manager (the Logz.io token) from the same configuration, its client built on first use: a
    // role-only event pays nothing for it.
    let logzio = logzio::http::HttpLogzio::new(
        sender.http_client(),
        logzio::http::Secrets::lazy(config.clone()),
        std::env::var(logzio::http::API_URL_VAR).ok(),
    );
    let resources = dispatch::LogzioResources {
        role: role::LogzioRole::new(iam.clone(), logzio.clone(), limits.clone()),
        archive: archive::LogzioArchive::new(iam, logzio, limits),
    };
    Ok((resources, sender))
}
