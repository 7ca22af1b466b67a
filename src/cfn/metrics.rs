//! One CloudWatch embedded-metric-format (EMF) record per answered event: the metrics an operator is alerted on.
//!
//! Lambda writes the function's standard output to its log group, and CloudWatch Logs turns every line that is
//! an EMF record (a JSON object with an `_aws.CloudWatchMetrics` directive) into metric values: no API call, no
//! permission beyond the log stream's. The record is also a plain log line: its other fields (StackId, the
//! resource type, the logical id, the request type, the answer's status) are what a Logs Insights query
//! filters on. template.yaml's alarm watches [`ATTENTION`] in [`NAMESPACE`], per function; docs/operations.md
//! lists the fields and two queries. Pure: the caller prints the line.
//!
//! The record carries a `level`, as the handler's JSON log lines do: with the function's JSON log format, Lambda
//! drops lines below its ApplicationLogLevel, so a record that needs attention is ERROR (kept at any level an
//! operator can choose) and one that does not is INFO.

use serde_json::{Value, json};

/// The metrics' namespace.
pub const NAMESPACE: &str = "LogzioRole";
/// 1 when the event needs a person: the answer was FAILED, or was not delivered, or was refused. The alarm's.
pub const ATTENTION: &str = "Attention";
/// 1 when the answer was FAILED (whether or not it was delivered).
pub const FAILED: &str = "FailedAnswers";
/// 1 when the answer could not be delivered for a transient reason (Lambda may deliver the event again).
pub const UNDELIVERED: &str = "UndeliveredAnswers";
/// 1 when the ResponseURL refused the answer for good, or the event had none: CloudFormation hears nothing and
/// waits until its ServiceTimeout.
pub const REFUSED: &str = "RefusedAnswers";

/// What became of one event's answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Outcome {
    pub failed: bool,
    pub undelivered: bool,
    pub refused: bool,
}

impl Outcome {
    /// Whether the alarm counts it.
    pub fn needs_attention(&self) -> bool {
        self.failed || self.undelivered || self.refused
    }
}

/// The identity of the event the record is about (empty strings where the event did not say).
#[derive(Debug, Clone, Copy, Default)]
pub struct About<'a> {
    pub stack_id: &'a str,
    pub resource_type: &'a str,
    pub logical_id: &'a str,
    pub request_type: &'a str,
    pub request_id: &'a str,
    /// SUCCESS or FAILED; empty when no answer was made.
    pub status: &'a str,
}

/// The EMF record, one line of JSON: the four metrics (0 or 1) with the dimension `FunctionName`, and the
/// event's identity as properties. `timestamp_ms`: milliseconds since the epoch.
pub fn record(function_name: &str, about: About<'_>, outcome: Outcome, timestamp_ms: u64) -> String {
    let count = |b: bool| u8::from(b);
    let metrics: Vec<Value> = [ATTENTION, FAILED, UNDELIVERED, REFUSED]
        .iter()
        .map(|name| json!({"Name": name, "Unit": "Count"}))
        .collect();
    json!({
        "_aws": {
            "Timestamp": timestamp_ms,
            "CloudWatchMetrics": [{
                "Namespace": NAMESPACE,
                "Dimensions": [["FunctionName"]],
                "Metrics": metrics
            }]
        },
        "level": if outcome.needs_attention() { "ERROR" } else { "INFO" },
        "FunctionName": function_name,
        ATTENTION: count(outcome.needs_attention()),
        FAILED: count(outcome.failed),
        UNDELIVERED: count(outcome.undelivered),
        REFUSED: count(outcome.refused),
        "message": "answer metrics",
        "StackId": about.stack_id,
        "ResourceType": about.resource_type,
        "LogicalResourceId": about.logical_id,
        "RequestType": about.request_type,
        "RequestId": about.request_id,
        "Status": about.status
    })
    .to_string()
}

/// Whether records are printed: only under a Lambda Runtime API (`AWS_LAMBDA_RUNTIME_API` set, as Lambda and the
/// local tiers set it), so that a test driving the handler in its own process prints nothing.
pub fn enabled() -> bool {
    std::env::var_os("AWS_LAMBDA_RUNTIME_API").is_some()
}

/// Prints `line` to standard output, where Lambda collects it for CloudWatch Logs.
pub fn emit(line: &str) {
    use std::io::Write;
    let mut out = std::io::stdout().lock();
    // A log line that cannot be written is not worth failing an event for.
    let _ = writeln!(out, "{line}");
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parsed(outcome: Outcome) -> Value {
        let about = About {
            stack_id: "arn:aws:cloudformation:us-east-1:123456789012:stack/s/1",
            resource_type: "Custom::LogzioRole",
            logical_id: "ArchiveRole",
            request_type: "Create",
            request_id: "r-1",
            status: if outcome.failed { "FAILED" } else { "SUCCESS" },
        };
        serde_json::from_str(&record("fn", about, outcome, 1_700_000_000_000)).expect("json")
    }

    #[test]
    fn a_record_declares_every_metric_it_carries_under_one_namespace_and_dimension() {
        let r = parsed(Outcome::default());
        let directive = &r["_aws"]["CloudWatchMetrics"][0];
        assert_eq!(directive["Namespace"], NAMESPACE);
        assert_eq!(directive["Dimensions"], json!([["FunctionName"]]));
        assert_eq!(r["_aws"]["Timestamp"], 1_700_000_000_000u64);
        for m in directive["Metrics"].as_array().expect("metrics") {
            let name = m["Name"].as_str().expect("name");
            assert!(r[name].is_u64(), "{name} is declared but not a number in the record");
        }
        assert_eq!(r["FunctionName"], "fn");
        assert_eq!(r["StackId"], "arn:aws:cloudformation:us-east-1:123456789012:stack/s/1");
        assert_eq!(r["ResourceType"], "Custom::LogzioRole");
    }

    #[test]
    fn only_a_delivered_success_leaves_attention_at_zero() {
        assert_eq!(parsed(Outcome::default())[ATTENTION], 0);
        assert_eq!(parsed(Outcome::default())["level"], "INFO");
        for (o, metric) in [
            (
                Outcome {
                    failed: true,
                    ..Outcome::default()
                },
                FAILED,
            ),
            (
                Outcome {
                    undelivered: true,
                    ..Outcome::default()
                },
                UNDELIVERED,
            ),
            (
                Outcome {
                    refused: true,
                    ..Outcome::default()
                },
                REFUSED,
            ),
        ] {
            let r = parsed(o);
            assert_eq!(r[ATTENTION], 1, "{o:?}");
            assert_eq!(r["level"], "ERROR", "{o:?}: kept whatever ApplicationLogLevel is set");
            assert_eq!(r[metric], 1, "{o:?}");
        }
    }
}
