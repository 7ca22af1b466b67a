//! The one adapter to Logz.io's public API (reqwest, the process's shared HTTP client), with Secrets Manager for
//! the token ([`super::secrets`]) and Logz.io's JSON read and written by [`super::wire`]. One port call is one
//! logical request:
//! 429, 5xx, connection errors and timeouts are retried here with backoff (a few attempts; the Lambda deadline
//! bounds the whole work anyway). It decides nothing and records nothing.

pub use super::secrets::Secrets;
use super::wire::{archive_of, archives_of, body_of, error_of, path_shape, text, unexpected};
use super::{Api, ApiToken, Archive, ArchiveSettings, AssumeRoleDetails, LogzioError, LogzioErrorKind, LogzioPort};
use serde_json::Value;

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

const SETTINGS: &str = "/v2/archive/settings";

impl LogzioPort for HttpLogzio {
    async fn api_token(&self, secret_arn: &str) -> Result<ApiToken, LogzioError> {
        self.secrets.api_token(secret_arn).await
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
}
