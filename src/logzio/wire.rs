//! Logz.io's JSON, both ways: an archive and the account's archives read from an answer, an archive's settings
//! written as a request body, and a non-2xx answer classified into a [`LogzioError`] (which refusal, by its
//! status and by the words Logz.io and AWS use). Pure.

use super::{Archive, ArchiveSettings, LogzioError, LogzioErrorKind, Present};
use serde_json::{Value, json};

/// `/v2/archive/settings/123` → `/v2/archive/settings/{id}`: the call's name, the same for every id.
pub(super) fn path_shape(path: &str) -> String {
    match path.rsplit_once('/') {
        Some((head, id)) if !id.is_empty() && id.bytes().all(|b| b.is_ascii_digit()) => format!("{head}/{{id}}"),
        _ => path.to_owned(),
    }
}

/// The error for a non-2xx answer: Logz.io's `errorCode` and `message` when the body has them.
pub(super) fn error_of(call: &str, status: u16, body: &str) -> LogzioError {
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

pub(super) fn text(v: Option<&Value>) -> Option<String> {
    match v? {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

/// An archive from Logz.io's JSON: `{"id": …, "settings": {…}}` (the id as a number or a string of digits).
pub(super) fn archive_of(v: &Value) -> Option<Archive> {
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

pub(super) fn body_of(s: &ArchiveSettings) -> Value {
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

pub(super) fn unexpected(call: &str, what: &str) -> LogzioError {
    LogzioError {
        call: call.to_owned(),
        kind: LogzioErrorKind::Other,
        status: None,
        code: "UnexpectedAnswer".into(),
        message: format!("the answer has no {what}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

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
