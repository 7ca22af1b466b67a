//! Any bytes as a Lambda event: the reader never panics, and whenever the JSON carries a ResponseURL string an
//! answer is produced, at most 4096 bytes whenever the ids themselves fit.
#![no_main]

use libfuzzer_sys::fuzz_target;
use logzio_role::cfn::answer::{Answer, MAX_BODY, Status};
use logzio_role::cfn::{Failure, Reading, RequestType, Success, answer, read_raw_event};
use logzio_role::limits::{DEFAULT_PATH_PREFIX, Limits};
use logzio_role::plan::{DesiredRole, Owner, plan};
use logzio_role::properties::RoleSpec;
use logzio_role::role::target::failed_create_role_name;
use serde_json::Value;
use serde_json::value::RawValue;
use std::collections::BTreeMap;

/// The ResponseURL as another reading of the JSON sees it: serde_json's own value when it can build one, and
/// only past its recursion limit the top level alone.
fn response_url(raw: &str) -> Option<String> {
    match serde_json::from_str::<Value>(raw) {
        Ok(v) => v.get("ResponseURL")?.as_str().map(str::to_owned),
        Err(_) => {
            let top: BTreeMap<String, Box<RawValue>> = serde_json::from_str(raw).ok()?;
            serde_json::from_str::<String>(top.get("ResponseURL")?.get()).ok()
        }
    }
}

/// The body fits, unless the ids alone (which are never cut) do not.
fn check_body(a: &Answer) {
    let body = a.to_body();
    let parsed: Value = serde_json::from_slice(&body).expect("the answer is JSON");
    assert!(parsed["Status"] == "SUCCESS" || parsed["Status"] == "FAILED");
    if body.len() > MAX_BODY {
        let bare = Answer {
            reason: None,
            data: BTreeMap::new(),
            ..a.clone()
        };
        let smallest = bare.to_body().len();
        assert!(
            smallest > MAX_BODY,
            "a {} byte answer, when {smallest} bytes were possible",
            body.len()
        );
    }
}

fuzz_target!(|data: &[u8]| {
    // The runtime refuses bytes that are not UTF-8 before any handler runs.
    let Ok(raw) = std::str::from_utf8(data) else {
        return;
    };
    let expected_url = response_url(raw);
    match read_raw_event(raw) {
        Reading::Unanswerable => {
            assert!(expected_url.is_none(), "an event with a ResponseURL got no answer");
        }
        Reading::Malformed { url, ids, why } => {
            assert_eq!(Some(url), expected_url);
            assert!(!why.is_empty());
            let answer = logzio_role::cfn::answer::malformed(&ids, &why);
            assert_eq!(answer.status, Status::Failed);
            check_body(&answer);
        }
        Reading::Request { url, request } => {
            assert_eq!(Some(url), expected_url);
            // What the resource does before its first IAM call is pure: run it.
            let partition = request.partition().unwrap_or("aws");
            let name = failed_create_role_name(
                &request.properties,
                &request.stack_id,
                &request.logical_resource_id,
                DEFAULT_PATH_PREFIX,
            );
            assert!(!name.is_empty() && name.len() <= 64, "role name {name:?}");
            if request.request_type != RequestType::Delete {
                if let Ok(spec) = RoleSpec::parse(&request.properties, partition, &Limits::default())
                    && let Some(trust) = spec.given_trust()
                {
                    let owner = Owner {
                        stack_id: request.stack_id.clone(),
                        logical_id: request.logical_resource_id.clone(),
                    };
                    let desired = DesiredRole::new(
                        &spec,
                        name.clone(),
                        partition,
                        "123456789012",
                        &owner,
                        &Limits::default(),
                        trust,
                    );
                    assert_eq!(plan(&desired, None).len(), 2);
                }
            }
            // Whatever the work's outcome, the answer is built and fits.
            let success = Success {
                physical_resource_id: name.clone(),
                data: [(
                    "Arn".to_owned(),
                    format!("arn:{partition}:iam::123456789012:role/{name}"),
                )]
                .into(),
            };
            let failure = Failure::new(raw.chars().rev().collect::<String>());
            check_body(&answer(&request, Ok(success), None));
            check_body(&answer(&request, Err(failure), Some(name)));
        }
    }
});
