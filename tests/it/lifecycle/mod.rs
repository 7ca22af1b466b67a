//! The whole handler against moto's IAM server and a local ResponseURL: what CloudFormation receives, and what
//! IAM holds afterwards.

use crate::support::{World, event, tags};
use logzio_role::limits::Limits;
use serde_json::{Value, json};

mod creation;
mod faults;
mod updates;

const STACK: &str =
    "arn:aws:cloudformation:us-east-1:123456789012:stack/logs-archive/5b6a4d10-8c3e-11ef-a6b1-0a8d2c1e4f3b";

fn actions(answer: &Value) -> Vec<String> {
    answer["_Actions"]
        .as_array()
        .expect("actions")
        .iter()
        .map(|a| a.as_str().expect("str").to_owned())
        .collect()
}

/// The write calls IAM did not refuse (the typed record's verdict, src/iam/calls.rs).
fn writes(answer: &Value) -> Vec<String> {
    answer["_Writes"]
        .as_array()
        .expect("writes")
        .iter()
        .map(|a| a.as_str().expect("str").to_owned())
        .collect()
}

fn create(props: Value) -> Value {
    let mut e = event("create.json");
    merge(&mut e["ResourceProperties"], props);
    e
}

fn merge(target: &mut Value, props: Value) {
    for (k, v) in props.as_object().expect("object") {
        if v.is_null() {
            target.as_object_mut().expect("object").remove(k);
        } else {
            target[k] = v.clone();
        }
    }
}

/// An Update of `physical_id` from `old` properties to `new`.
fn update(physical_id: &str, old: &Value, new: Value) -> Value {
    let mut e = event("update.json");
    e["PhysicalResourceId"] = json!(physical_id);
    e["OldResourceProperties"] = old.clone();
    let mut props = event("create.json")["ResourceProperties"].clone();
    merge(&mut props, new);
    e["ResourceProperties"] = props;
    e
}

fn delete(physical_id: &str) -> Value {
    let mut e = event("delete.json");
    e["PhysicalResourceId"] = json!(physical_id);
    e
}

fn id(answer: &Value) -> String {
    answer["PhysicalResourceId"].as_str().expect("id").to_owned()
}

fn assert_success(answer: &Value) {
    assert_eq!(answer["Status"], "SUCCESS", "answer: {answer}");
}

fn assert_failed(answer: &Value, reason_has: &str) {
    assert_eq!(answer["Status"], "FAILED", "answer: {answer}");
    let reason = answer["Reason"].as_str().expect("reason");
    assert!(reason.contains(reason_has), "reason {reason:?} lacks {reason_has:?}");
}

async fn make_foreign_role(w: &World, name: &str) {
    w.iam
        .create_role()
        .role_name(name)
        .assume_role_policy_document(r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"ec2.amazonaws.com"},"Action":"sts:AssumeRole"}]}"#)
        .send()
        .await
        .expect("foreign role");
}
