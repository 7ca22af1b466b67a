//! The one adapter to Logz.io's public API (reqwest, the process's shared HTTP client) and to Secrets Manager
//! (`aws-sdk-secretsmanager`, from the same AWS configuration as IAM). One port call is one logical request:
//! 429, 5xx, connection errors and timeouts are retried here with backoff (a few attempts; the Lambda deadline
//! bounds the whole work anyway). It decides nothing and records nothing.

use super::{
    Api, ApiToken, Archive, ArchiveSettings, AssumeRoleDetails, LogzioError, LogzioErrorKind, LogzioPort, Present,
};
use aws_sdk_secretsmanager::error::ProvideErrorMetadata;
use serde_json::{Value, json};

/// The environment variable that replaces the region's API host (tests, proxies).
pub const API_URL_VAR: &str = "LOGZIO_API_URL";
// Attempts, their timeout and the backoff: crate::budget::logzio.
use crate::budget::logzio::{ATTEMPT as ATTEMPT_TIMEOUT, ATTEMPTS, BACKOFF};
use crate::budget::{NO_DEADLINE, Retry};

/// Logz.io's API and Secrets Manager, built once per process.
#[derive(Debug, Clone)]
pub struct HttpLogzio {
    http: reqwest::Client,
    secrets: Secrets,
    /// `LOGZIO_API_URL`, checked at start; an invalid one fails every call with its reason.
    base_override: Result<Option<String>, String>,
}

/// The Secrets Manager client, built on first use: an event that needs no token (a role with `ExternalId`)
/// pays nothing for it, cold or warm.
#[derive(Debug, Clone)]
pub enum Secrets {
    /// Built from this configuration when first needed.
    Lazy(
        std::sync::Arc<(
            aws_config::SdkConfig,
            std::sync::OnceLock<aws_sdk_secretsmanager::Client>,
        )>,
    ),
    /// Built already (tests give one with its own endpoint and interceptors).
    Ready(aws_sdk_secretsmanager::Client),
}

impl Secrets {
    /// A client built from `config` on first use.
    pub fn lazy(config: aws_config::SdkConfig) -> Self {
        Secrets::Lazy(std::sync::Arc::new((config, std::sync::OnceLock::new())))
    }

    fn client(&self) -> &aws_sdk_secretsmanager::Client {
        match self {
            Secrets::Lazy(lazy) => lazy.1.get_or_init(|| aws_sdk_secretsmanager::Client::new(&lazy.0)),
            Secrets::Ready(c) => c,
        }
    }
}

/// Checks an API base URL override: https anywhere, plain http only for a loopback address.
pub fn check_api_url(url: &str) -> Result<String, String> {
    let parsed = reqwest::Url::parse(url).map_err(|e| format!("{API_URL_VAR}: {url:?} is not a URL: {e}"))?;
    let host = parsed
        .host_str()
        .unwrap_or_default()
        .trim_start_matches('[')
        .trim_end_matches(']');
    let loopback = match host.parse::<std::net::IpAddr>() {
        Ok(ip) => ip.is_loopback(),
        Err(_) => host.eq_ignore_ascii_case("localhost"),
    };
    match parsed.scheme() {
        "https" => {}
        "http" if loopback => {}
        "http" => {
            return Err(format!(
                "{API_URL_VAR}: plain http is allowed only for a loopback address, got {url:?}"
            ));
        }
        other => return Err(format!("{API_URL_VAR}: the scheme must be https, got {other:?}")),
    }
    Ok(url.trim_end_matches('/').to_owned())
}

impl HttpLogzio {
    /// `base_override`: the value of `LOGZIO_API_URL`, if set.
    pub fn new(http: reqwest::Client, secrets: Secrets, base_override: Option<String>) -> Self {
        let base_override = base_override
            .filter(|u| !u.is_empty())
            .map(|u| check_api_url(&u))
            .transpose();
        if let Err(e) = &base_override {
            tracing::error!(error = %e, "invalid Logz.io API URL override");
        }
        HttpLogzio {
            http,
            secrets,
            base_override,
        }
    }

    fn base(&self, api: &Api) -> Result<String, LogzioError> {
        match &self.base_override {
            Ok(Some(url)) => Ok(url.clone()),
            Ok(None) => Ok(api.region.api_url().to_owned()),
            Err(e) => Err(LogzioError {
                call: "logzio".into(),
                kind: LogzioErrorKind::Other,
                status: None,
                code: "InvalidConfiguration".into(),
                message: e.clone(),
            }),
        }
    }

    /// One request, retried on 429, 5xx and transport errors; the JSON body of a 2xx answer, or the error.
    async fn call(
        &self,
        api: &Api,
        method: reqwest::Method,
        path: &str,
        body: Option<&Value>,
    ) -> Result<Value, LogzioError> {
        let url = format!("{}{path}", self.base(api)?);
        let call = format!("logzio:{method} {}", path_shape(path));
        // Bounded by ATTEMPTS (each at most ATTEMPT_TIMEOUT); the work's deadline cuts it shorter.
        let mut retry = Retry::new(BACKOFF, std::time::Instant::now() + NO_DEADLINE);
        let mut last = None;
        for attempt in 1..=ATTEMPTS {
            let mut req = self
                .http
                .request(method.clone(), &url)
                .header("X-API-TOKEN", api.token.expose())
                .header("Accept", "application/json")
                .timeout(ATTEMPT_TIMEOUT);
            if let Some(b) = body {
                req = req.header("Content-Type", "application/json").body(b.to_string());
            }
            let error = match req.send().await {
                Ok(resp) => {
                    let status = resp.status().as_u16();
                    let text = resp.text().await.unwrap_or_default();
                    if (200..300).contains(&status) {
                        return Ok(serde_json::from_str(&text).unwrap_or(Value::Null));
                    }
                    let e = error_of(&call, status, &text);
                    if !e.is(LogzioErrorKind::Transient) {
                        return Err(e);
                    }
                    e
                }
                Err(e) => LogzioError {
                    call: call.clone(),
                    kind: LogzioErrorKind::Transient,
                    status: None,
                    code: if e.is_timeout() { "Timeout" } else { "ConnectionFailed" }.into(),
                    // Transport detail without the URL (it carries nothing secret, but stays short).
                    message: e.without_url().to_string(),
                },
            };
            tracing::warn!(call = %call, attempt, error = %error, "Logz.io call failed; retrying");
            last = Some(error);
            if attempt < ATTEMPTS {
                retry.pause().await;
            }
        }
        Err(last.expect("at least one attempt"))
    }
}

/// A SecretString that is a JSON object or array (the console's key/value form): never a Logz.io API token
/// (tokens are UUID-like), and sending it would only earn "Logz.io refused the API token".
fn token_is_json(token: &str) -> bool {
    (token.starts_with('{') || token.starts_with('['))
        && serde_json::from_str::<Value>(token).is_ok_and(|v| v.is_object() || v.is_array())
}

/// `/v2/archive/settings/123` → `/v2/archive/settings/{id}`: the call's name, the same for every id.
fn path_shape(path: &str) -> String {
    match path.rsplit_once('/') {
        Some((head, id)) if !id.is_empty() && id.bytes().all(|b| b.is_ascii_digit()) => format!("{head}/{{id}}"),
        _ => path.to_owned(),
    }
}

/// The error for a non-2xx answer: Logz.io's `errorCode` and `message` when the body has them.
fn error_of(call: &str, status: u16, body: &str) -> LogzioError {
    let v: Value = serde_json::from_str(body).unwrap_or(Value::Null);
    let code = v
        .get("errorCode")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_owned();
    let mut message = v
        .get("message")
        .and_then(Value::as_str)
        .map(str::to_owned)
        .unwrap_or_else(|| {
            // Not Logz.io's JSON shape: a short, printable excerpt.
            body.chars().filter(|c| !c.is_control()).take(300).collect()
        });
    if message.len() > 1000 {
        message = message.chars().take(1000).collect();
    }
    // The message goes into a Reason and a log line: an external ID quoted in it must not.
    let message = redact_external_ids(&message);
    let kind = match status {
        401 | 403 => LogzioErrorKind::Unauthorized,
        404 => LogzioErrorKind::NotFound,
        429 | 500..=599 => LogzioErrorKind::Transient,
        400..=499 => access_check_refusal(&code, &message).unwrap_or(LogzioErrorKind::Other),
        _ => LogzioErrorKind::Other,
    };
    LogzioError {
        call: call.to_owned(),
        kind,
        status: Some(status),
        code,
        message,
    }
}

/// Which of Logz.io's two access checks a 4xx refused, when IAM's propagation explains it (docs/contract.md,
/// "Logz.io's access check"). Logz.io first assumes the role (STS), then writes its `logzio-verified` object to
/// the path (S3). Its API documents no wording for either refusal, so both are recognised by AWS's own text,
/// which such answers carry, and by the words Logz.io's messages use:
/// - the write: Logz.io could not write (S3 words, `logzio-verified`, `s3:PutObject`); retried only when S3 said
///   "not authorized" / AccessDenied (a policy not propagated yet). A missing bucket or disabled ACLs is not
///   propagation: it is not retried. This is read first, as a write refusal names the `assumed-role` session.
/// - the assumption: `could not assume`, `sts:AssumeRole`, STS, or an `ASSUME` error code.
fn access_check_refusal(code: &str, message: &str) -> Option<LogzioErrorKind> {
    let text = format!("{code} {message}").to_ascii_lowercase();
    let has = |words: &[&str]| words.iter().any(|w| text.contains(w));
    let denied = has(&["not authorized", "accessdenied", "access denied"]);
    if has(&[
        "could not write",
        "logzio-verified",
        "service: amazon s3",
        "s3:putobject",
        "write_failed",
        "s3_",
    ]) {
        return (denied && !has(&["explicit deny"])).then_some(LogzioErrorKind::WriteRefused);
    }
    if has(&[
        "could not assume",
        "cannot assume",
        "sts:assumerole",
        "awssecuritytokenservice",
        "assume_role",
    ]) || (text.contains("assume") && !text.contains("assumed-role"))
    {
        return Some(LogzioErrorKind::AssumeRoleRefused);
    }
    None
}

/// `logzio:aws:extid:<anything>` → `<external ID>`, in any case: Logz.io's issued external IDs, wherever a
/// message quotes one. (IDs chosen by hand are redacted by [`super::redact`], which is given them.)
pub fn redact_external_ids(message: &str) -> String {
    super::redact(message, &[])
}

fn text(v: Option<&Value>) -> Option<String> {
    match v? {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

/// An archive from Logz.io's JSON: `{"id": …, "settings": {…}}` (the id as a number or a string of digits).
fn archive_of(v: &Value) -> Option<Archive> {
    let id = text(v.get("id"))?.parse().ok()?;
    let s = v.get("settings")?;
    let s3 = s.get("amazonS3StorageSettings");
    let creds = s3.and_then(|x| x.get("s3IamCredentials"));
    let enabled = s.get("enabled").and_then(Value::as_bool);
    let compressed = s.get("compressed").and_then(Value::as_bool);
    Some(Archive {
        id,
        settings: ArchiveSettings {
            enabled: enabled.unwrap_or(true),
            compressed: compressed.unwrap_or(true),
            path: text(s3.and_then(|x| x.get("path"))).unwrap_or_default(),
            role_arn: text(creds.and_then(|c| c.get("arn"))).unwrap_or_default(),
        },
        external_id: text(creds.and_then(|c| c.get("externalId"))),
        storage_type: text(s.get("storageType")),
        present: Present {
            enabled: enabled.is_some(),
            compressed: compressed.is_some(),
        },
    })
}

/// The account's archives from `GET /v2/archive/settings`: the published spec says one object, Logz.io's own
/// Terraform client reads an array; both are accepted (and `{}` or `null` as none).
pub fn archives_of(v: &Value) -> Vec<Archive> {
    match v {
        Value::Array(items) => items.iter().filter_map(archive_of).collect(),
        Value::Object(_) => archive_of(v).into_iter().collect(),
        _ => Vec::new(),
    }
}

fn body_of(s: &ArchiveSettings) -> Value {
    json!({
        "storageType": "S3",
        "enabled": s.enabled,
        "compressed": s.compressed,
        "amazonS3StorageSettings": {
            "credentialsType": "IAM",
            "path": s.path,
            "s3IamCredentials": {"arn": s.role_arn}
        }
    })
}

fn unexpected(call: &str, what: &str) -> LogzioError {
    LogzioError {
        call: call.to_owned(),
        kind: LogzioErrorKind::Other,
        status: None,
        code: "UnexpectedAnswer".into(),
        message: format!("the answer has no {what}"),
    }
}

const SETTINGS: &str = "/v2/archive/settings";

impl LogzioPort for HttpLogzio {
    async fn api_token(&self, secret_arn: &str) -> Result<ApiToken, LogzioError> {
        let call = "secretsmanager:GetSecretValue".to_owned();
        match self
            .secrets
            .client()
            .get_secret_value()
            .secret_id(secret_arn)
            .send()
            .await
        {
            Ok(out) => match out.secret_string().map(str::trim).filter(|s| !s.is_empty()) {
                Some(token) if token_is_json(token) => Err(LogzioError {
                    call,
                    kind: LogzioErrorKind::Other,
                    status: None,
                    code: "KeyValueSecret".into(),
                    message: format!(
                        "{secret_arn} holds JSON (Secrets Manager's key/value form), not a token: store the \
                         Logz.io API token alone as the secret's plain text (aws secretsmanager put-secret-value \
                         --secret-id <arn> --secret-string <token>)"
                    ),
                }),
                Some(token) => Ok(ApiToken::new(token)),
                None => Err(LogzioError {
                    call,
                    kind: LogzioErrorKind::Other,
                    status: None,
                    code: "NoSecretString".into(),
                    message: format!("{secret_arn} has no SecretString: store the Logz.io API token as its text"),
                }),
            },
            Err(e) => {
                let code = e.code().unwrap_or("RequestFailed").to_owned();
                let message = e
                    .message()
                    .map(str::to_owned)
                    .unwrap_or_else(|| aws_sdk_secretsmanager::error::DisplayErrorContext(&e).to_string());
                let kind = match code.as_str() {
                    "AccessDeniedException" => LogzioErrorKind::Unauthorized,
                    "ResourceNotFoundException" => LogzioErrorKind::NotFound,
                    _ => LogzioErrorKind::Other,
                };
                Err(LogzioError {
                    call,
                    kind,
                    status: None,
                    code,
                    message: format!("{secret_arn}: {message}"),
                })
            }
        }
    }

    async fn assume_role_details(&self, api: &Api) -> Result<AssumeRoleDetails, LogzioError> {
        let path = "/v1/log-shipping/s3-buckets/aws-assume-role-details";
        let v = self.call(api, reqwest::Method::GET, path, None).await?;
        let call = format!("logzio:GET {path}");
        Ok(AssumeRoleDetails {
            aws_account_id: text(v.get("logzioAWSAccountId")).ok_or_else(|| unexpected(&call, "logzioAWSAccountId"))?,
            external_id: text(v.get("assignedExternalId")).ok_or_else(|| unexpected(&call, "assignedExternalId"))?,
        })
    }

    async fn list_archives(&self, api: &Api) -> Result<Vec<Archive>, LogzioError> {
        match self.call(api, reqwest::Method::GET, SETTINGS, None).await {
            Ok(v) => Ok(archives_of(&v)),
            Err(e) if e.is(LogzioErrorKind::NotFound) => Ok(Vec::new()),
            Err(e) => Err(e),
        }
    }

    async fn get_archive(&self, api: &Api, id: u64) -> Result<Option<Archive>, LogzioError> {
        match self
            .call(api, reqwest::Method::GET, &format!("{SETTINGS}/{id}"), None)
            .await
        {
            Ok(v) => Ok(archive_of(&v)),
            Err(e) if e.is(LogzioErrorKind::NotFound) => Ok(None),
            Err(e) => Err(e),
        }
    }

    async fn create_archive(&self, api: &Api, s: &ArchiveSettings) -> Result<Archive, LogzioError> {
        let v = self
            .call(api, reqwest::Method::POST, SETTINGS, Some(&body_of(s)))
            .await?;
        archive_of(&v).ok_or_else(|| unexpected(&format!("logzio:POST {SETTINGS}"), "archive id and settings"))
    }

    async fn update_archive(&self, api: &Api, id: u64, s: &ArchiveSettings) -> Result<Archive, LogzioError> {
        let path = format!("{SETTINGS}/{id}");
        let v = self.call(api, reqwest::Method::PUT, &path, Some(&body_of(s))).await?;
        // Some answers to a PUT may carry no body: the settings sent are what Logz.io now holds.
        Ok(archive_of(&v).unwrap_or_else(|| Archive::of(id, s.clone(), None)))
    }

    async fn delete_archive(&self, api: &Api, id: u64) -> Result<bool, LogzioError> {
        match self
            .call(api, reqwest::Method::DELETE, &format!("{SETTINGS}/{id}"), None)
            .await
        {
            Ok(_) => Ok(true),
            Err(e) if e.is(LogzioErrorKind::NotFound) => Ok(false),
            Err(e) => Err(e),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_key_value_secret_is_told_apart_from_a_token() {
        assert!(token_is_json(r#"{"token": "abc"}"#));
        assert!(token_is_json(r#"[ "abc" ]"#));
        assert!(!token_is_json("0a1b2c3d-0000-4000-8000-000000000001"));
        assert!(!token_is_json("{not json"));
    }

    #[test]
    fn the_api_url_override_is_https_or_loopback_http() {
        assert_eq!(
            check_api_url("https://proxy.example/"),
            Ok("https://proxy.example".into())
        );
        assert!(check_api_url("http://127.0.0.1:8080").is_ok());
        assert!(check_api_url("http://[::1]:8080").is_ok());
        assert!(check_api_url("http://localhost:1").is_ok());
        let e = check_api_url("http://api.logz.io").expect_err("plain http to a real host");
        assert!(e.contains("only for a loopback address"), "{e}");
        assert!(check_api_url("ftp://127.0.0.1").is_err());
    }

    #[test]
    fn the_archive_list_is_read_as_an_array_or_one_object() {
        let one = json!({"id": 7, "settings": {"enabled": false, "compressed": true, "amazonS3StorageSettings":
            {"path": "b/p", "s3IamCredentials": {"arn": "arn:aws:iam::1:role/r", "externalId": "x"}}}});
        let read = archives_of(&one);
        assert_eq!(read.len(), 1);
        assert_eq!(
            (read[0].id, read[0].settings.enabled, read[0].settings.path.as_str()),
            (7, false, "b/p")
        );
        assert_eq!(read[0].external_id.as_deref(), Some("x"));
        assert_eq!(archives_of(&json!([one.clone(), one])).len(), 2);
        assert!(archives_of(&json!({})).is_empty() && archives_of(&Value::Null).is_empty());
        assert_eq!(archives_of(&json!([{"id": "12", "settings": {}}]))[0].id, 12);
    }

    #[test]
    fn refusals_are_classified_by_status_and_by_what_logzio_says() {
        let assume = error_of(
            "c",
            400,
            r#"{"errorCode":"archive/ASSUME_ROLE_FAILED","message":"could not assume"}"#,
        );
        assert_eq!(assume.kind, LogzioErrorKind::AssumeRoleRefused);
        // The wording tests/logzio_fake.py gives each check (Logz.io documents none; AWS's text inside is real).
        let sts = error_of(
            "c",
            400,
            r#"{"errorCode":"archive/ASSUME_ROLE_FAILED","message":"Logz.io could not assume role arn:aws:iam::1:role/r: User: arn:aws:iam::2:user/x is not authorized to perform: sts:AssumeRole on resource: arn:aws:iam::1:role/r (Service: AWSSecurityTokenService; Status Code: 403; Error Code: AccessDenied)"}"#,
        );
        assert_eq!(sts.kind, LogzioErrorKind::AssumeRoleRefused);
        let write = |clause: &str| {
            error_of(
                "c",
                400,
                &json!({"errorCode": "archive/S3_WRITE_FAILED", "message": format!(
                    "Logz.io could not write the test object s3://b/logzio-verified with role arn:aws:iam::1:role/r: \
                     User: arn:aws:sts::1:assumed-role/r/logzio-archive is not authorized to perform: s3:PutObject \
                     on resource: \"arn:aws:s3:::b/logzio-verified\" {clause} (Service: Amazon S3; Status Code: 403; \
                     Error Code: AccessDenied)")})
                .to_string(),
            )
            .kind
        };
        // A policy not propagated yet reads as "no identity-based policy allows": retried.
        assert_eq!(
            write("because no identity-based policy allows the s3:PutObject action"),
            LogzioErrorKind::WriteRefused
        );
        // An explicit deny is no propagation delay: not retried.
        assert_eq!(
            write("with an explicit deny in an identity-based policy"),
            LogzioErrorKind::Other
        );
        let acl = error_of(
            "c",
            400,
            r#"{"errorCode":"archive/S3_WRITE_FAILED","message":"Logz.io could not write the test object s3://b/logzio-verified with role r: The bucket does not allow ACLs (Service: Amazon S3; Status Code: 400; Error Code: AccessControlListNotSupported)"}"#,
        );
        assert_eq!(acl.kind, LogzioErrorKind::Other, "disabled ACLs are not propagation");
        assert_eq!(error_of("c", 401, "").kind, LogzioErrorKind::Unauthorized);
        assert_eq!(error_of("c", 404, "").kind, LogzioErrorKind::NotFound);
        assert_eq!(error_of("c", 429, "").kind, LogzioErrorKind::Transient);
        assert_eq!(error_of("c", 503, "").kind, LogzioErrorKind::Transient);
        let other = error_of(
            "logzio:POST /v2/archive/settings",
            409,
            r#"{"errorCode":"X","message":"exists"}"#,
        );
        assert_eq!(other.kind, LogzioErrorKind::Other);
        assert_eq!(
            other.to_string(),
            "logzio:POST /v2/archive/settings failed: HTTP 409: X: exists"
        );
        assert_eq!(path_shape("/v2/archive/settings/42"), "/v2/archive/settings/{id}");
        let quoting = error_of(
            "c",
            400,
            r#"{"message":"external ID logzio:aws:extid:s3cr3t does not match"}"#,
        );
        assert_eq!(quoting.message, "external ID <external ID> does not match");
    }
}
