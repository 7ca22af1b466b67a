//! The Logz.io API token, read from Secrets Manager (`aws-sdk-secretsmanager`, from the same AWS configuration as
//! IAM): the client built on first use, the secret's text checked to be a token, and the SDK's errors mapped
//! into [`LogzioError`] here, so that nothing past the adapter sees an SDK type.

use super::{ApiToken, LogzioError, LogzioErrorKind};
use aws_sdk_secretsmanager::error::ProvideErrorMetadata;
use serde_json::Value;

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

    pub(super) async fn api_token(&self, secret_arn: &str) -> Result<ApiToken, LogzioError> {
        let call = "secretsmanager:GetSecretValue".to_owned();
        match self.client().get_secret_value().secret_id(secret_arn).send().await {
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
}

/// A SecretString that is a JSON object or array (the console's key/value form): never a Logz.io API token
/// (tokens are UUID-like), and sending it would only earn "Logz.io refused the API token".
fn token_is_json(token: &str) -> bool {
    (token.starts_with('{') || token.starts_with('['))
        && serde_json::from_str::<Value>(token).is_ok_and(|v| v.is_object() || v.is_array())
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
}
