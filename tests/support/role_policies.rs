//! Not shipped: prints the policies the function generates for a few sample roles, as a JSON array of
//! `{"name", "account", "bucket", "prefix", "kms_key", "trust", "permissions"}`, for the IAM policy simulator
//! that `make policies` runs. Each sample goes through the same path as an event: properties parsed under the
//! default limits, the account read from the StackId, the desired role built by `DesiredRole::new`.

use logzio_role::cfn::event::stack_arn;
use logzio_role::limits::Limits;
use logzio_role::plan::{DesiredRole, Owner};
use logzio_role::properties::RoleSpec;
use serde_json::{Value, json};

const PARTITION: &str = "aws";
const STACK_ID: &str =
    "arn:aws:cloudformation:us-east-1:123456789012:stack/logzio-archive/1f0c2c30-0000-11ef-9b4c-0a1b2c3d4e5f";
const EXTERNAL_ID: &str = "logzio:aws:extid:example1234";
const LOGZIO_ACCOUNT: &str = "406095609952";
const KMS_KEY: &str = "arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab";

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let samples = [
        ("prefix-and-kms", "acme-logs", Some("logzio/"), Some(KMS_KEY)),
        ("whole-bucket", "acme-logs", None, None),
    ];
    let limits = Limits::default();
    let account = stack_arn(STACK_ID)
        .ok_or("the sample StackId names no account")?
        .account;
    let owner = Owner {
        stack_id: STACK_ID.into(),
        logical_id: "ArchiveRole".into(),
    };
    let mut out = Vec::new();
    for (name, bucket, prefix, kms_key) in samples {
        let mut properties =
            json!({"BucketName": bucket, "ExternalId": EXTERNAL_ID, "LogzioAccountId": LOGZIO_ACCOUNT});
        if let Some(p) = prefix {
            properties["KeyPrefix"] = json!(p);
        }
        if let Some(k) = kms_key {
            properties["KmsKeyArn"] = json!(k);
        }
        let spec = RoleSpec::parse(&properties, PARTITION, &limits)?;
        let trust = spec.given_trust().expect("ExternalId given");
        let role = DesiredRole::new(
            &spec,
            format!("sample-{name}"),
            PARTITION,
            account,
            &owner,
            &limits,
            trust,
        );
        out.push(json!({
            "name": name,
            "account": account,
            "bucket": bucket,
            "prefix": spec.key_prefix.as_str(),
            "kms_key": kms_key,
            "trust": role.trust_policy,
            "permissions": role.policy,
        }));
    }
    println!("{}", serde_json::to_string_pretty(&Value::Array(out))?);
    Ok(())
}
