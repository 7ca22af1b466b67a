//! Test helpers shared by the newtypes' tests: each rule is checked through the whole parse, so a test also
//! shows that the broken rule is reported under its property's name.

use super::{PropertyErrors, RoleSpec};
use crate::limits::Limits;
use serde_json::{Value, json};

/// The smallest valid properties.
pub fn base() -> Value {
    json!({"ServiceToken": "arn:aws:lambda:us-east-1:123456789012:function:f",
           "BucketName": "my-archive", "ExternalId": "logzio:aws:extid:abc123"})
}

/// [`base`] with `key` set to `v`.
pub fn with(key: &str, v: Value) -> Value {
    let mut b = base();
    b[key] = v;
    b
}

/// Parses for a stack in `aws` with the default limits.
pub fn parse(p: &Value) -> Result<RoleSpec, PropertyErrors> {
    parse_with(p, &Limits::default())
}

/// Parses for a stack in `aws` held to `limits`.
pub fn parse_with(p: &Value, limits: &Limits) -> Result<RoleSpec, PropertyErrors> {
    RoleSpec::parse(p, "aws", limits)
}

/// The limits these variables set (the others unset).
pub fn limits(vars: &[(&str, &str)]) -> Limits {
    Limits::from_vars(|name| vars.iter().find(|(k, _)| *k == name).map(|(_, v)| (*v).to_owned()))
        .unwrap_or_else(|e| panic!("{e}"))
}

pub fn errors(p: Value) -> PropertyErrors {
    parse(&p).expect_err("should be rejected")
}

/// The Reason for [`base`] with `key` set to `v`, which must name `key`.
pub fn rejects(key: &str, v: Value) -> String {
    let e = errors(with(key, v));
    assert!(e.names(key), "{key} not named in: {e}");
    e.to_string()
}

pub fn accepts(key: &str, v: Value) -> RoleSpec {
    parse(&with(key, v)).unwrap_or_else(|e| panic!("rejected: {e}"))
}
