//! The PUT of the answer to the pre-signed ResponseURL.
//!
//! No Content-Type (the URL is signed without one), retries with backoff on connection errors, timeouts, 5xx and
//! 429 until the deadline; any other status is final, and only a 2xx is success. The URL's query string is a
//! credential: only [`redact`]ed forms of it are ever logged or returned in errors.

use std::time::Instant;

/// Why an answer did not reach CloudFormation.
#[derive(Debug, thiserror::Error)]
pub enum SendError {
    #[error("the ResponseURL {url} answered HTTP {status}, which is final")]
    Rejected { url: String, status: u16 },
    #[error("the ResponseURL {url} could not be reached before the deadline after {attempts} attempts: {last}")]
    GaveUp { url: String, attempts: u32, last: String },
    #[error("the ResponseURL is not a valid URL")]
    BadUrl,
}

/// The URL without its query string and fragment: scheme, host and path only.
pub fn redact(url: &str) -> String {
    let cut = url.find(['?', '#']).unwrap_or(url.len());
    let mut shown = url[..cut].to_owned();
    if let Some(at) = shown.find("://").map(|i| i + 3)
        && let Some(userinfo_end) = shown[at..].find('@').filter(|e| !shown[at..at + e].contains('/'))
    {
        shown.replace_range(at..at + userinfo_end + 1, "");
    }
    if cut < url.len() {
        shown.push_str("?<redacted>");
    }
    shown
}

// The PUT's timeouts and backoff: crate::budget::put.
use crate::budget::Retry;
use crate::budget::put::{BACKOFF, CONNECT, FIRST_ATTEMPT_FLOOR, MAX_ATTEMPT, MIN_ATTEMPT, TAIL};

/// Sends answers; one shared HTTP client (connection pool, TLS config) per process.
#[derive(Debug, Clone)]
pub struct ResponseSender {
    http: reqwest::Client,
}

impl ResponseSender {
    /// With the platform's verifier (reqwest reads the system's roots itself).
    pub fn new() -> Result<Self, reqwest::Error> {
        Self::from_builder(reqwest::Client::builder())
    }

    /// With a prepared rustls configuration (roots already loaded, shared with the other client).
    pub fn with_tls(tls: rustls::ClientConfig) -> Result<Self, reqwest::Error> {
        Self::from_builder(reqwest::Client::builder().tls_backend_preconfigured(tls))
    }

    fn from_builder(builder: reqwest::ClientBuilder) -> Result<Self, reqwest::Error> {
        let http = builder
            .connect_timeout(CONNECT)
            .redirect(reqwest::redirect::Policy::none())
            .build()?;
        Ok(ResponseSender { http })
    }

    /// The HTTP client (its connection pool and TLS configuration), for other HTTPS calls of the process.
    pub fn http_client(&self) -> reqwest::Client {
        self.http.clone()
    }

    /// PUTs `body` to `url`, retrying transient failures until `deadline`. Returns the number of attempts.
    pub async fn send(&self, url: &str, body: Vec<u8>, deadline: Instant) -> Result<u32, SendError> {
        let shown = redact(url);
        let parsed = reqwest::Url::parse(url).map_err(|_| SendError::BadUrl)?;
        // Every attempt ends a little before the deadline, so that the runtime can still report the outcome.
        let end = deadline.checked_sub(TAIL).unwrap_or(deadline);
        // No retry starts with less than MIN_ATTEMPT left for it.
        let mut retry = Retry::new(BACKOFF, end.checked_sub(MIN_ATTEMPT).unwrap_or(end));
        let mut attempts = 0;
        loop {
            attempts += 1;
            let left = end.saturating_duration_since(Instant::now());
            let attempt_timeout = if attempts == 1 {
                // At least one real try even when the deadline is (nearly) gone: Lambda, not we, ends the process.
                left.clamp(FIRST_ATTEMPT_FLOOR, MAX_ATTEMPT)
            } else {
                left.min(MAX_ATTEMPT)
            };
            let result = self
                .http
                .put(parsed.clone())
                .body(body.clone())
                .timeout(attempt_timeout)
                .send()
                .await;
            let last = match result {
                Ok(resp) if resp.status().is_success() => return Ok(attempts),
                Ok(resp) if resp.status().is_server_error() || resp.status().as_u16() == 429 => {
                    format!("HTTP {}", resp.status().as_u16())
                }
                Ok(resp) => {
                    return Err(SendError::Rejected {
                        url: shown,
                        status: resp.status().as_u16(),
                    });
                }
                // reqwest's error Display includes the URL, query and all: describe it without.
                Err(e) if e.is_timeout() => "timed out".to_owned(),
                Err(e) if e.is_connect() => "connection failed".to_owned(),
                Err(_) => "request failed".to_owned(),
            };
            tracing::warn!(url = %shown, attempt = attempts, error = %last, "response PUT failed; retrying");
            if !retry.pause().await {
                return Err(SendError::GaveUp {
                    url: shown,
                    attempts,
                    last,
                });
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redact_drops_the_query_string() {
        assert_eq!(
            redact(
                "https://cloudformation-custom-resource-response-useast1.s3.amazonaws.com/arn%3Aaws/req?X-Amz-Signature=abc&X-Amz-Credential=k"
            ),
            "https://cloudformation-custom-resource-response-useast1.s3.amazonaws.com/arn%3Aaws/req?<redacted>"
        );
        assert_eq!(redact("http://127.0.0.1:9/x"), "http://127.0.0.1:9/x");
        assert_eq!(redact("http://user:pw@host/p#frag"), "http://host/p?<redacted>");
    }
}
