//! The resource's properties: raw CloudFormation `ResourceProperties` in, validated types out.
//!
//! Parse, don't validate: [`ArchiveRoleSpec::parse`] turns the untyped JSON object CloudFormation sends into
//! newtypes that cannot hold an invalid value, and reports every broken rule at once, each naming the property
//! and the rule. This module is pure: it knows nothing of IAM calls, the protocol, or the network.

use serde_json::Value;
use std::fmt;

/// Logz.io's AWS account, the one that assumes the role (from Logz.io's guide).
pub const LOGZIO_ACCOUNT_ID: &str = "406095609952";
/// The inline policy's name when `PolicyName` is not given.
pub const DEFAULT_POLICY_NAME: &str = "LogzioArchiveAccess";
/// Prefix of the tag keys that record which stack resource owns a role; users may not set them.
pub const OWNERSHIP_TAG_PREFIX: &str = "logzio-role:";
/// IAM allows 50 tags on a role; two of them are our ownership tags.
pub const MAX_USER_TAGS: usize = 48;

const KNOWN: &[&str] = &[
    "ServiceToken",
    "ServiceTimeout",
    "BucketName",
    "ExternalId",
    "KeyPrefix",
    "KmsKeyArn",
    "LogzioAccountId",
    "RoleName",
    "Path",
    "Description",
    "MaxSessionDuration",
    "PermissionsBoundary",
    "PolicyName",
    "Tags",
];

/// One broken rule: the property and what is wrong with it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PropertyError {
    pub property: String,
    pub rule: String,
}

impl fmt::Display for PropertyError {
    /// `Name: rule`. A name that is not a plain identifier (an unknown key can be anything: empty, spaced, with
    /// control characters) is quoted and escaped, so the Reason still says which property it was.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let plain = !self.property.is_empty() && self.property.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
        if plain {
            write!(f, "{}: {}", self.property, self.rule)
        } else {
            write!(f, "{:?}: {}", self.property, self.rule)
        }
    }
}

/// Every broken rule of one set of properties, in a stable order.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub struct PropertyErrors(pub Vec<PropertyError>);

impl fmt::Display for PropertyErrors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let n = self.0.len();
        write!(f, "invalid properties ({n} error{}): ", if n == 1 { "" } else { "s" })?;
        for (i, e) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str("; ")?;
            }
            write!(f, "{e}")?;
        }
        Ok(())
    }
}

impl PropertyErrors {
    /// True when some error names `property` (used by tests and by callers that want one property's verdict).
    pub fn names(&self, property: &str) -> bool {
        self.0.iter().any(|e| e.property == property)
    }
}

/// An S3 bucket name that follows S3's naming rules, so it can never widen an ARN (`*`, `?`, `/`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BucketName(String);

/// The `sts:ExternalId` Logz.io presents. Its `Debug` never shows the value: it must not reach a log.
#[derive(Clone, PartialEq, Eq)]
pub struct ExternalId(String);

impl fmt::Debug for ExternalId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("ExternalId(<redacted>)")
    }
}

/// A key prefix inside the bucket; empty means the whole bucket.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct KeyPrefix(String);

/// A 12-digit AWS account id.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccountId(String);

/// An IAM role name: 1–64 of `[A-Za-z0-9+=,.@_-]`.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct RoleName(String);

/// An IAM path: `/` or `/…/`, at most 512 printable ASCII characters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RolePath(String);

/// An ARN of a given service in the stack's partition (KMS key, IAM policy).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Arn(String);

/// An inline policy name: 1–128 of `[A-Za-z0-9+=,.@_-]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PolicyName(String);

/// A tag the user asked for (never one of ours, never `aws:`).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Tag {
    pub key: String,
    pub value: String,
}

macro_rules! as_str_impl {
    ($($t:ty),*) => {$(
        impl $t {
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }
        impl fmt::Display for $t {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }
    )*};
}
as_str_impl!(BucketName, KeyPrefix, AccountId, RoleName, RolePath, Arn, PolicyName);

impl ExternalId {
    pub fn expose(&self) -> &str {
        &self.0
    }
}

/// The validated properties of one `Custom::LogzioRole`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ArchiveRoleSpec {
    pub bucket: BucketName,
    pub external_id: ExternalId,
    pub key_prefix: KeyPrefix,
    pub kms_key_arn: Option<Arn>,
    pub logzio_account_id: AccountId,
    pub role_name: Option<RoleName>,
    pub path: RolePath,
    pub description: Option<String>,
    pub max_session_duration: i32,
    pub permissions_boundary: Option<Arn>,
    pub policy_name: PolicyName,
    pub tags: Vec<Tag>,
}

impl ArchiveRoleSpec {
    /// Parses `ResourceProperties` for a stack in `partition` (`aws`, `aws-cn`, `aws-us-gov`, …).
    pub fn parse(properties: &Value, partition: &str) -> Result<Self, PropertyErrors> {
        let mut errors = Vec::new();
        let empty = serde_json::Map::new();
        let map = match properties {
            Value::Object(m) => m,
            Value::Null => &empty,
            _ => {
                return Err(PropertyErrors(vec![PropertyError {
                    property: "ResourceProperties".into(),
                    rule: "must be an object".into(),
                }]));
            }
        };
        let mut err = |property: &str, rule: String| {
            errors.push(PropertyError {
                property: property.to_owned(),
                rule,
            })
        };

        let mut scalar = |name: &str| -> Option<String> {
            match map.get(name) {
                None | Some(Value::Null) => None,
                Some(Value::String(s)) => Some(s.clone()),
                Some(Value::Number(n)) => Some(n.to_string()),
                Some(Value::Bool(b)) => Some(b.to_string()),
                Some(_) => {
                    err(name, "must be a string, not a list or object".into());
                    None
                }
            }
        };
        let bucket_raw = scalar("BucketName");
        let external_raw = scalar("ExternalId");
        let prefix_raw = scalar("KeyPrefix");
        let kms_raw = scalar("KmsKeyArn");
        let account_raw = scalar("LogzioAccountId");
        let role_raw = scalar("RoleName");
        let path_raw = scalar("Path");
        let description_raw = scalar("Description");
        let session_raw = scalar("MaxSessionDuration");
        let boundary_raw = scalar("PermissionsBoundary");
        let policy_raw = scalar("PolicyName");

        let bucket = match bucket_raw {
            None => {
                err("BucketName", "is required".into());
                None
            }
            Some(b) => check(&mut err, "BucketName", bucket_rule(&b)).map(|()| BucketName(b)),
        };
        let external_id = match external_raw {
            None => {
                err("ExternalId", "is required".into());
                None
            }
            Some(x) => check(&mut err, "ExternalId", external_id_rule(&x)).map(|()| ExternalId(x)),
        };
        let key_prefix = match prefix_raw {
            None => Some(KeyPrefix::default()),
            Some(p) => check(&mut err, "KeyPrefix", key_prefix_rule(&p)).map(|()| KeyPrefix(p)),
        };
        let kms_key_arn = opt(kms_raw, |a| {
            check(&mut err, "KmsKeyArn", arn_rule(a, partition, "kms", "key/")).map(|()| Arn(a.clone()))
        });
        let logzio_account_id = match account_raw {
            None => Some(AccountId(LOGZIO_ACCOUNT_ID.into())),
            Some(a) => check(&mut err, "LogzioAccountId", account_rule(&a)).map(|()| AccountId(a)),
        };
        let role_name = opt(role_raw, |r| {
            check(&mut err, "RoleName", role_name_rule(r)).map(|()| RoleName(r.clone()))
        });
        let path = match path_raw {
            None => Some(RolePath("/".into())),
            Some(p) => check(&mut err, "Path", path_rule(&p)).map(|()| RolePath(p)),
        };
        let description = opt(description_raw, |d| {
            check(&mut err, "Description", description_rule(d)).map(|()| d.clone())
        });
        let max_session_duration = match session_raw {
            None => Some(3600),
            Some(s) => match session_rule(&s) {
                Ok(n) => Some(n),
                Err(rule) => {
                    err("MaxSessionDuration", rule);
                    None
                }
            },
        };
        let permissions_boundary = opt(boundary_raw, |a| {
            check(
                &mut err,
                "PermissionsBoundary",
                arn_rule(a, partition, "iam", "policy/"),
            )
            .map(|()| Arn(a.clone()))
        });
        let policy_name = match policy_raw {
            None => Some(PolicyName(DEFAULT_POLICY_NAME.into())),
            Some(p) => check(&mut err, "PolicyName", policy_name_rule(&p)).map(|()| PolicyName(p)),
        };
        let tags = match parse_tags(map.get("Tags")) {
            Ok(t) => Some(t),
            Err(rules) => {
                for r in rules {
                    err("Tags", r);
                }
                None
            }
        };

        // Unknown keys last: with many of them the Reason is cut to fit 4096 bytes, and the rules broken by the
        // properties the user meant to set must survive the cut.
        for key in map.keys() {
            if !KNOWN.contains(&key.as_str()) {
                let hint = KNOWN
                    .iter()
                    .find(|k| k.eq_ignore_ascii_case(key))
                    .map(|k| format!(" (did you mean {k}?)"))
                    .unwrap_or_default();
                err(key, format!("unknown property{hint}"));
            }
        }

        match (
            bucket,
            external_id,
            key_prefix,
            logzio_account_id,
            path,
            max_session_duration,
            policy_name,
            tags,
        ) {
            (
                Some(bucket),
                Some(external_id),
                Some(key_prefix),
                Some(account),
                Some(path),
                Some(session),
                Some(policy_name),
                Some(tags),
            ) if errors.is_empty() => Ok(ArchiveRoleSpec {
                bucket,
                external_id,
                key_prefix,
                kms_key_arn: kms_key_arn.flatten(),
                logzio_account_id: account,
                role_name: role_name.flatten(),
                path,
                description: description.flatten(),
                max_session_duration: session,
                permissions_boundary: permissions_boundary.flatten(),
                policy_name,
                tags,
            }),
            _ => Err(PropertyErrors(errors)),
        }
    }

    /// The role description: the user's, or a sentence naming the bucket.
    pub fn description_or_default(&self) -> String {
        self.description.clone().unwrap_or_else(|| {
            format!(
                "Lets Logz.io archive logs to the S3 bucket {} (managed by Custom::LogzioRole)",
                self.bucket
            )
        })
    }
}

/// The `RoleName` property if it is present and a valid role name, without judging anything else.
/// Used to name the role a failed Create may have left, so the rollback Delete finds it.
pub fn role_name_hint(properties: &Value) -> Option<RoleName> {
    let s = match properties.get("RoleName")? {
        Value::String(s) => s.clone(),
        Value::Number(n) => n.to_string(),
        Value::Bool(b) => b.to_string(),
        _ => return None,
    };
    role_name_rule(&s).ok().map(|()| RoleName(s))
}

impl RoleName {
    /// Parses a role name (for ids that come back from CloudFormation).
    pub fn parse(s: &str) -> Option<RoleName> {
        role_name_rule(s).ok().map(|()| RoleName(s.to_owned()))
    }
}

fn opt<T>(raw: Option<String>, f: impl FnOnce(&String) -> Option<T>) -> Option<Option<T>> {
    match raw {
        None => Some(None),
        Some(r) => f(&r).map(Some),
    }
}

fn check(err: &mut impl FnMut(&str, String), property: &str, r: Result<(), String>) -> Option<()> {
    match r {
        Ok(()) => Some(()),
        Err(rule) => {
            err(property, rule);
            None
        }
    }
}

fn bucket_rule(b: &str) -> Result<(), String> {
    if b.contains(['*', '?', '/']) {
        return Err(format!(
            "{b:?} contains a wildcard or '/', which would widen the grant beyond one bucket"
        ));
    }
    if !(3..=63).contains(&b.len()) {
        return Err(format!(
            "must be 3 to 63 characters (S3 naming rules), got {}",
            b.chars().count()
        ));
    }
    if let Some(c) = b
        .chars()
        .find(|c| !(c.is_ascii_lowercase() || c.is_ascii_digit() || *c == '.' || *c == '-'))
    {
        return Err(format!(
            "{c:?} is not allowed: only lowercase letters, digits, dots and hyphens (S3 naming rules)"
        ));
    }
    let alnum = |c: Option<char>| c.is_some_and(|c| c.is_ascii_lowercase() || c.is_ascii_digit());
    if !alnum(b.chars().next()) || !alnum(b.chars().last()) {
        return Err("must start and end with a lowercase letter or digit (S3 naming rules)".into());
    }
    if b.contains("..") {
        return Err("must not contain two adjacent dots (S3 naming rules)".into());
    }
    if b.split('.').count() == 4
        && b.split('.')
            .all(|p| !p.is_empty() && p.chars().all(|c| c.is_ascii_digit()))
    {
        return Err("must not be formatted as an IP address (S3 naming rules)".into());
    }
    for p in ["xn--", "sthree-", "amzn-s3-demo-"] {
        if b.starts_with(p) {
            return Err(format!(
                "must not start with the reserved prefix {p:?} (S3 naming rules)"
            ));
        }
    }
    for s in ["-s3alias", "--ol-s3", ".mrap", "--x-s3", "--table-s3"] {
        if b.ends_with(s) {
            return Err(format!("must not end with the reserved suffix {s:?} (S3 naming rules)"));
        }
    }
    Ok(())
}

fn external_id_rule(x: &str) -> Result<(), String> {
    let n = x.chars().count();
    if !(2..=1224).contains(&n) {
        return Err(format!("must be 2 to 1224 characters, got {n}"));
    }
    // The value is a secret: name the rule, never the value or the offending character's position in it.
    if !x.chars().all(|c| c.is_ascii_alphanumeric() || "+=,.@:/_-".contains(c)) {
        return Err("may contain only letters, digits and +=,.@:/_- (sts:ExternalId rules)".into());
    }
    Ok(())
}

fn key_prefix_rule(p: &str) -> Result<(), String> {
    if p.len() > 1024 {
        return Err(format!("must be at most 1024 bytes, got {}", p.len()));
    }
    if p.contains(['*', '?']) {
        return Err(format!("{p:?} contains a wildcard, which would widen the grant"));
    }
    if p.starts_with('/') {
        return Err("must not start with '/' (S3 keys have no leading slash)".into());
    }
    if p.chars().any(|c| c.is_control()) {
        return Err("must not contain control characters".into());
    }
    if p.contains("${") {
        return Err("must not contain '${' (it would be read as an IAM policy variable)".into());
    }
    Ok(())
}

fn account_rule(a: &str) -> Result<(), String> {
    if a.len() == 12 && a.chars().all(|c| c.is_ascii_digit()) {
        Ok(())
    } else {
        Err(format!("{a:?} is not an AWS account id: must be exactly 12 digits"))
    }
}

fn name_chars(s: &str) -> Option<char> {
    s.chars()
        .find(|c| !(c.is_ascii_alphanumeric() || "+=,.@_-".contains(*c)))
}

fn role_name_rule(r: &str) -> Result<(), String> {
    if r.is_empty() || r.len() > 64 {
        return Err(format!("must be 1 to 64 characters, got {}", r.chars().count()));
    }
    if let Some(c) = name_chars(r) {
        return Err(format!(
            "{c:?} is not allowed: only letters, digits and +=,.@_- (IAM role name rules)"
        ));
    }
    Ok(())
}

fn policy_name_rule(p: &str) -> Result<(), String> {
    if p.is_empty() || p.len() > 128 {
        return Err(format!("must be 1 to 128 characters, got {}", p.chars().count()));
    }
    if let Some(c) = name_chars(p) {
        return Err(format!(
            "{c:?} is not allowed: only letters, digits and +=,.@_- (IAM policy name rules)"
        ));
    }
    Ok(())
}

fn path_rule(p: &str) -> Result<(), String> {
    if p.len() > 512 {
        return Err(format!("must be at most 512 characters, got {}", p.len()));
    }
    if !p.starts_with('/') || !p.ends_with('/') {
        return Err(format!("{p:?} must be '/' or start and end with '/' (IAM path rules)"));
    }
    if p.contains("//") {
        return Err(format!("{p:?} must not contain an empty segment '//' (IAM path rules)"));
    }
    if !p.chars().all(|c| ('\u{21}'..='\u{7e}').contains(&c)) {
        return Err("may contain only printable ASCII characters without spaces (IAM path rules)".into());
    }
    Ok(())
}

fn description_rule(d: &str) -> Result<(), String> {
    let n = d.chars().count();
    if n > 1000 {
        return Err(format!("must be at most 1000 characters, got {n}"));
    }
    // IAM's pattern: tab, newline, carriage return, printable ASCII and Latin-1 from U+00A1 to U+00FF.
    if let Some(c) = d
        .chars()
        .find(|c| !matches!(c, '\t' | '\n' | '\r' | '\u{20}'..='\u{7e}' | '\u{a1}'..='\u{ff}'))
    {
        return Err(format!(
            "{c:?} is not allowed: only printable ASCII and Latin-1 characters (IAM description rules)"
        ));
    }
    Ok(())
}

fn session_rule(s: &str) -> Result<i32, String> {
    match s.trim().parse::<i64>() {
        Ok(n) if (3600..=43200).contains(&n) => Ok(n as i32),
        Ok(n) => Err(format!("must be between 3600 and 43200 seconds, got {n}")),
        Err(_) => Err(format!("{s:?} is not a whole number of seconds (3600 to 43200)")),
    }
}

fn arn_rule(a: &str, partition: &str, service: &str, resource_prefix: &str) -> Result<(), String> {
    let parts: Vec<&str> = a.splitn(6, ':').collect();
    let example = if service == "kms" {
        format!("arn:{partition}:kms:<region>:<account>:key/<key-id>")
    } else {
        format!("arn:{partition}:iam::<account>:policy/<name>")
    };
    let bad = || Err(format!("{a:?} is not a {service} ARN of the form {example}"));
    if parts.len() != 6 || parts[0] != "arn" || parts[2] != service {
        return bad();
    }
    if parts[1] != partition {
        return Err(format!(
            "{a:?} is in partition {:?}, but the stack is in {partition:?}",
            parts[1]
        ));
    }
    let region_ok = if service == "kms" {
        !parts[3].is_empty()
    } else {
        parts[3].is_empty()
    };
    if !region_ok || account_rule(parts[4]).is_err() || !parts[5].starts_with(resource_prefix) {
        return bad();
    }
    let rest = &parts[5][resource_prefix.len()..];
    if rest.is_empty() || rest.contains(['*', '?']) || rest.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return bad();
    }
    if a.len() > 2048 {
        return Err("must be at most 2048 characters".into());
    }
    Ok(())
}

fn tag_chars_ok(s: &str) -> bool {
    s.chars()
        .all(|c| c.is_alphanumeric() || c.is_whitespace() && !c.is_control() || "_.:/=+-@".contains(c))
}

fn parse_tags(raw: Option<&Value>) -> Result<Vec<Tag>, Vec<String>> {
    let list = match raw {
        None | Some(Value::Null) => return Ok(Vec::new()),
        Some(Value::Array(l)) => l,
        Some(_) => return Err(vec!["must be a list of {Key, Value} objects".into()]),
    };
    let mut rules = Vec::new();
    let mut tags: Vec<Tag> = Vec::new();
    if list.len() > MAX_USER_TAGS {
        rules.push(format!(
            "at most {MAX_USER_TAGS} tags (IAM allows 50 per role and 2 record ownership), got {}",
            list.len()
        ));
    }
    for (i, item) in list.iter().enumerate() {
        let Some(obj) = item.as_object() else {
            rules.push(format!("item {i} must be an object with Key and Value"));
            continue;
        };
        if let Some(k) = obj.keys().find(|k| *k != "Key" && *k != "Value") {
            rules.push(format!("item {i} has unknown field {k:?} (only Key and Value)"));
        }
        let text = |f: &str| match obj.get(f) {
            Some(Value::String(s)) => Some(s.clone()),
            Some(Value::Number(n)) => Some(n.to_string()),
            Some(Value::Bool(b)) => Some(b.to_string()),
            _ => None,
        };
        let (Some(key), Some(value)) = (text("Key"), text("Value")) else {
            rules.push(format!("item {i} needs a string Key and a string Value"));
            continue;
        };
        let before = rules.len();
        if key.is_empty() || key.chars().count() > 128 {
            rules.push(format!("item {i}: Key must be 1 to 128 characters"));
        }
        if value.chars().count() > 256 {
            rules.push(format!("item {i}: Value of {key:?} must be at most 256 characters"));
        }
        if !tag_chars_ok(&key) || !tag_chars_ok(&value) {
            rules.push(format!(
                "item {i}: Key and Value may contain only letters, digits, spaces and _.:/=+-@ (IAM tag rules)"
            ));
        }
        if key.to_ascii_lowercase().starts_with("aws:") {
            rules.push(format!("item {i}: Key {key:?} uses the reserved prefix \"aws:\""));
        }
        if key.to_ascii_lowercase().starts_with(OWNERSHIP_TAG_PREFIX) {
            rules.push(format!(
                "item {i}: Key {key:?} uses the prefix {OWNERSHIP_TAG_PREFIX:?}, reserved for the ownership tags"
            ));
        }
        if tags.iter().any(|t| t.key.eq_ignore_ascii_case(&key)) {
            rules.push(format!("item {i}: Key {key:?} appears more than once"));
        }
        if rules.len() == before {
            tags.push(Tag { key, value });
        }
    }
    if rules.is_empty() { Ok(tags) } else { Err(rules) }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn base() -> Value {
        json!({"ServiceToken": "arn:aws:lambda:us-east-1:123456789012:function:f",
               "BucketName": "my-archive", "ExternalId": "logzio:aws:extid:abc123"})
    }

    fn with(key: &str, v: Value) -> Value {
        let mut b = base();
        b[key] = v;
        b
    }

    fn errors(p: Value) -> PropertyErrors {
        ArchiveRoleSpec::parse(&p, "aws").expect_err("should be rejected")
    }

    fn rejects(key: &str, v: Value) -> String {
        let e = errors(with(key, v));
        assert!(e.names(key), "{key} not named in: {e}");
        e.to_string()
    }

    fn accepts(key: &str, v: Value) -> ArchiveRoleSpec {
        ArchiveRoleSpec::parse(&with(key, v), "aws").unwrap_or_else(|e| panic!("rejected: {e}"))
    }

    #[test]
    fn minimal_properties_get_the_documented_defaults() {
        let s = ArchiveRoleSpec::parse(&base(), "aws").expect("valid");
        assert_eq!(s.bucket.as_str(), "my-archive");
        assert_eq!(s.external_id.expose(), "logzio:aws:extid:abc123");
        assert_eq!(s.key_prefix.as_str(), "");
        assert_eq!(s.logzio_account_id.as_str(), "406095609952");
        assert_eq!(s.path.as_str(), "/");
        assert_eq!(s.max_session_duration, 3600);
        assert_eq!(s.policy_name.as_str(), "LogzioArchiveAccess");
        assert_eq!(s.role_name, None);
        assert!(s.tags.is_empty());
        assert!(s.description_or_default().contains("my-archive"));
    }

    #[test]
    fn an_unknown_property_that_is_not_a_plain_name_is_quoted() {
        // Found by the `properties` fuzz target: an empty key read as ": unknown property".
        for (key, shown) in [
            ("", r#""": unknown property"#),
            ("Bucket Name", r#""Bucket Name": unknown property"#),
            ("a\nb", r#""a\nb": unknown property"#),
        ] {
            let reason = errors(with(key, json!("x"))).to_string();
            assert!(reason.ends_with(shown), "{reason}");
        }
        let plain = errors(with("Bucketname", json!("x"))).to_string();
        assert!(
            plain.ends_with(": Bucketname: unknown property (did you mean BucketName?)"),
            "{plain}"
        );
    }

    #[test]
    fn bucket_name_is_required() {
        let mut p = base();
        p.as_object_mut().expect("object").remove("BucketName");
        assert_eq!(
            errors(p).to_string(),
            "invalid properties (1 error): BucketName: is required"
        );
    }

    #[test]
    fn external_id_is_required() {
        let mut p = base();
        p.as_object_mut().expect("object").remove("ExternalId");
        assert!(errors(p).names("ExternalId"));
    }

    #[test]
    fn bucket_name_rejects_wildcards_and_slashes() {
        for b in ["my-*", "my-?bucket", "my-bucket/logs", "*"] {
            assert!(rejects("BucketName", json!(b)).contains("widen"), "{b}");
        }
    }

    #[test]
    fn bucket_name_length_is_3_to_63() {
        rejects("BucketName", json!("ab"));
        rejects("BucketName", json!("a".repeat(64)));
        accepts("BucketName", json!("abc"));
        accepts("BucketName", json!("a".repeat(63)));
    }

    #[test]
    fn bucket_name_allows_only_lowercase_digits_dots_hyphens() {
        rejects("BucketName", json!("My-Bucket"));
        rejects("BucketName", json!("my_bucket"));
        rejects("BucketName", json!("my bucket"));
        accepts("BucketName", json!("logs.2024-archive"));
    }

    #[test]
    fn bucket_name_starts_and_ends_alphanumeric() {
        rejects("BucketName", json!("-bucket"));
        rejects("BucketName", json!("bucket."));
    }

    #[test]
    fn bucket_name_has_no_adjacent_dots() {
        rejects("BucketName", json!("my..bucket"));
    }

    #[test]
    fn bucket_name_is_not_an_ip_address() {
        rejects("BucketName", json!("192.168.5.4"));
        accepts("BucketName", json!("192.168.5.4a"));
    }

    #[test]
    fn bucket_name_has_no_reserved_prefix_or_suffix() {
        rejects("BucketName", json!("xn--bucket"));
        rejects("BucketName", json!("sthree-bucket"));
        rejects("BucketName", json!("bucket-s3alias"));
        rejects("BucketName", json!("bucket--ol-s3"));
    }

    #[test]
    fn external_id_length_is_2_to_1224() {
        rejects("ExternalId", json!("a"));
        rejects("ExternalId", json!("a".repeat(1225)));
        accepts("ExternalId", json!("a".repeat(1224)));
    }

    #[test]
    fn external_id_charset_and_the_value_never_appears_in_the_reason() {
        let msg = rejects("ExternalId", json!("secret value!"));
        assert!(!msg.contains("secret"), "{msg}");
        accepts("ExternalId", json!("A+b=c,d.e@f:g/h_i-j"));
    }

    #[test]
    fn external_id_debug_is_redacted() {
        let s = ArchiveRoleSpec::parse(&base(), "aws").expect("valid");
        assert!(!format!("{s:?}").contains("abc123"));
    }

    #[test]
    fn logzio_account_id_is_12_digits() {
        rejects("LogzioAccountId", json!("40609560995"));
        rejects("LogzioAccountId", json!("40609560995x"));
        assert_eq!(
            accepts("LogzioAccountId", json!(123456789012u64))
                .logzio_account_id
                .as_str(),
            "123456789012"
        );
    }

    #[test]
    fn role_name_is_1_to_64_of_the_iam_charset() {
        rejects("RoleName", json!(""));
        rejects("RoleName", json!("r".repeat(65)));
        rejects("RoleName", json!("my role"));
        rejects("RoleName", json!("my/role"));
        accepts("RoleName", json!("Logzio+=,.@_-Role"));
        accepts("RoleName", json!("r".repeat(64)));
    }

    #[test]
    fn path_is_slash_delimited_printable_ascii_up_to_512() {
        rejects("Path", json!("logzio"));
        rejects("Path", json!("/logzio"));
        rejects("Path", json!("//"));
        rejects("Path", json!("/log zio/"));
        rejects("Path", json!(format!("/{}/", "a".repeat(511))));
        assert_eq!(
            accepts("Path", json!("/logzio/archive/")).path.as_str(),
            "/logzio/archive/"
        );
    }

    #[test]
    fn max_session_duration_is_an_integer_from_3600_to_43200() {
        rejects("MaxSessionDuration", json!("3599"));
        rejects("MaxSessionDuration", json!(43201));
        rejects("MaxSessionDuration", json!("1h"));
        rejects("MaxSessionDuration", json!(3600.5));
        assert_eq!(accepts("MaxSessionDuration", json!("7200")).max_session_duration, 7200);
        assert_eq!(accepts("MaxSessionDuration", json!(43200)).max_session_duration, 43200);
    }

    #[test]
    fn key_prefix_has_no_wildcards_no_leading_slash_and_fits_1024() {
        rejects("KeyPrefix", json!("logs/*"));
        rejects("KeyPrefix", json!("/logs/"));
        rejects("KeyPrefix", json!("a".repeat(1025)));
        rejects("KeyPrefix", json!("${aws:username}/"));
        assert_eq!(accepts("KeyPrefix", json!("logzio/")).key_prefix.as_str(), "logzio/");
    }

    #[test]
    fn kms_key_arn_must_be_a_kms_key_in_the_stack_partition() {
        rejects("KmsKeyArn", json!("arn:aws:s3:::bucket"));
        rejects("KmsKeyArn", json!("arn:aws:kms:us-east-1:123456789012:alias/x"));
        rejects("KmsKeyArn", json!("arn:aws:kms:us-east-1:123456789012:key/*"));
        let msg = rejects("KmsKeyArn", json!("arn:aws-cn:kms:cn-north-1:123456789012:key/abc"));
        assert!(msg.contains("partition"), "{msg}");
        accepts(
            "KmsKeyArn",
            json!("arn:aws:kms:eu-west-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab"),
        );
    }

    #[test]
    fn permissions_boundary_must_be_an_iam_policy_arn_in_the_stack_partition() {
        rejects("PermissionsBoundary", json!("arn:aws:iam::123456789012:role/x"));
        rejects(
            "PermissionsBoundary",
            json!("arn:aws:iam:us-east-1:123456789012:policy/x"),
        );
        rejects("PermissionsBoundary", json!("policy/x"));
        accepts(
            "PermissionsBoundary",
            json!("arn:aws:iam::123456789012:policy/boundaries/Logzio"),
        );
    }

    #[test]
    fn description_is_printable_ascii_or_latin1() {
        rejects("Description", json!("logs \u{1F4E6}"));
        rejects("Description", json!("bell \u{7}"));
        accepts("Description", json!("Archivo de registros: año\tñ"));
    }

    #[test]
    fn description_is_at_most_1000_characters() {
        rejects("Description", json!("d".repeat(1001)));
        assert_eq!(
            accepts("Description", json!("d".repeat(1000)))
                .description_or_default()
                .len(),
            1000
        );
    }

    #[test]
    fn policy_name_is_1_to_128_of_the_iam_charset() {
        rejects("PolicyName", json!(""));
        rejects("PolicyName", json!("p".repeat(129)));
        rejects("PolicyName", json!("bad name"));
        accepts("PolicyName", json!("Archive"));
    }

    #[test]
    fn tags_must_be_a_list_of_key_value_objects() {
        rejects("Tags", json!({"team": "x"}));
        rejects("Tags", json!([{"Key": "team"}]));
        rejects("Tags", json!([{"Key": "team", "Value": "x", "Extra": 1}]));
        let s = accepts(
            "Tags",
            json!([{"Key": "team", "Value": "obs"}, {"Key": "cost", "Value": 42}]),
        );
        assert_eq!(
            s.tags[1],
            Tag {
                key: "cost".into(),
                value: "42".into()
            }
        );
    }

    #[test]
    fn tags_within_iam_limits() {
        rejects("Tags", json!([{"Key": "k".repeat(129), "Value": "x"}]));
        rejects("Tags", json!([{"Key": "k", "Value": "v".repeat(257)}]));
        rejects("Tags", json!([{"Key": "k!", "Value": "x"}]));
        let many: Vec<Value> = (0..49).map(|i| json!({"Key": format!("k{i}"), "Value": "v"})).collect();
        rejects("Tags", Value::Array(many));
        rejects(
            "Tags",
            json!([{"Key": "Team", "Value": "a"}, {"Key": "team", "Value": "b"}]),
        );
    }

    #[test]
    fn tags_may_not_use_reserved_prefixes() {
        rejects("Tags", json!([{"Key": "aws:cloudformation:stack-id", "Value": "x"}]));
        rejects("Tags", json!([{"Key": "logzio-role:stack-id", "Value": "x"}]));
    }

    #[test]
    fn unknown_property_is_named_with_a_hint() {
        let mut p = base();
        let b = p
            .as_object_mut()
            .expect("object")
            .remove("BucketName")
            .expect("present");
        p["Bucketname"] = b;
        let msg = errors(p).to_string();
        assert!(
            msg.contains("Bucketname: unknown property (did you mean BucketName?)"),
            "{msg}"
        );
        assert!(msg.contains("BucketName: is required"), "{msg}");
    }

    #[test]
    fn scalars_may_be_numbers_or_booleans_but_not_lists() {
        rejects("Description", json!(["a"]));
        assert_eq!(accepts("Description", json!(true)).description.as_deref(), Some("true"));
    }

    #[test]
    fn service_token_and_service_timeout_are_accepted_and_ignored() {
        accepts("ServiceTimeout", json!("300"));
    }

    #[test]
    fn every_broken_rule_is_reported_at_once() {
        let e = errors(
            json!({"BucketName": "Bad_Bucket", "ExternalId": "x", "MaxSessionDuration": "1",
                              "Path": "nope", "RoleName": "a b"}),
        );
        for p in ["BucketName", "ExternalId", "MaxSessionDuration", "Path", "RoleName"] {
            assert!(e.names(p), "{p} missing from {e}");
        }
        assert_eq!(e.0.len(), 5);
    }

    #[test]
    fn properties_must_be_an_object() {
        assert!(errors(json!("BucketName")).names("ResourceProperties"));
    }

    #[test]
    fn role_name_hint_only_for_valid_names() {
        assert_eq!(
            role_name_hint(&json!({"RoleName": "Good"})).map(|r| r.to_string()),
            Some("Good".into())
        );
        assert_eq!(role_name_hint(&json!({"RoleName": "b a d"})), None);
        assert_eq!(
            role_name_hint(&json!({"RoleName": 12345})).map(|r| r.to_string()),
            Some("12345".into())
        );
        assert_eq!(role_name_hint(&json!({})), None);
    }
}
