//! The answer to one event: which physical id it carries ([`answer`]), and the body CloudFormation reads from
//! the ResponseURL, kept within its 4096-byte limit.
//!
//! The ids are never cut; when the body is too large the Reason is shortened (on a character boundary, with a
//! marker), and if even that is not enough the Data is dropped and the answer becomes FAILED saying why.

use super::event::{EventIds, Request, RequestType};
use super::resource::{Failure, Success};
use aws_lambda_events::event::cloudformation::{
    CloudFormationCustomResourceResponse, CloudFormationCustomResourceResponseStatus,
};
use std::collections::BTreeMap;

/// CloudFormation's limit on the response body.
pub const MAX_BODY: usize = 4096;
const CUT_MARKER: &str = " [truncated]";

/// SUCCESS or FAILED.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    Success,
    Failed,
}

/// The answer to one event, before it is encoded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Answer {
    pub status: Status,
    pub reason: Option<String>,
    pub physical_resource_id: String,
    pub stack_id: String,
    pub request_id: String,
    pub logical_resource_id: String,
    pub data: BTreeMap<String, String>,
}

impl Answer {
    /// The JSON body to PUT, at most [`MAX_BODY`] bytes whenever the ids themselves fit.
    pub fn to_body(&self) -> Vec<u8> {
        let body = fit(self.clone());
        if body.len() <= MAX_BODY || self.data.is_empty() {
            return body;
        }
        // The data is what does not fit: drop it and say so (that reason is cut to fit too).
        let mut answer = self.clone();
        answer.data.clear();
        answer.status = Status::Failed;
        answer.reason = Some("response data exceeds CloudFormation's 4096-byte limit".into());
        fit(answer)
    }
}

/// The FAILED answer to an event that is not a request, with whatever ids it carries.
pub fn malformed(ids: &EventIds, why: &str) -> Answer {
    Answer {
        status: Status::Failed,
        reason: Some(format!("malformed event: {why}")),
        physical_resource_id: ids.physical_resource_id.clone(),
        stack_id: ids.stack_id.clone(),
        request_id: ids.request_id.clone(),
        logical_resource_id: ids.logical_resource_id.clone(),
        data: BTreeMap::new(),
    }
}

/// The answer to a request, choosing the physical id: Update and Delete always keep the request's id; a failed
/// Create answers the failure's id, else `create_failure_id`, else `<LogicalResourceId>-<RequestId>`.
pub fn answer(request: &Request, result: Result<Success, Failure>, create_failure_id: Option<String>) -> Answer {
    let (status, reason, physical, data) = match result {
        Ok(s) => (Status::Success, None, s.physical_resource_id, s.data),
        Err(f) => {
            let id = match request.request_type {
                RequestType::Create => f
                    .physical_resource_id
                    .or(create_failure_id)
                    .unwrap_or_else(|| format!("{}-{}", request.logical_resource_id, request.request_id)),
                _ => String::new(),
            };
            (Status::Failed, Some(f.reason), id, BTreeMap::new())
        }
    };
    let physical_resource_id = match (&request.physical_resource_id, request.request_type) {
        (Some(id), RequestType::Delete) => id.clone(),
        (Some(id), RequestType::Update) if status == Status::Failed => id.clone(),
        _ => physical,
    };
    Answer {
        status,
        reason,
        physical_resource_id,
        stack_id: request.stack_id.clone(),
        request_id: request.request_id.clone(),
        logical_resource_id: request.logical_resource_id.clone(),
        data,
    }
}

/// Encodes `answer`, cutting its Reason (on a character boundary, with a marker) to the longest prefix that fits.
fn fit(mut answer: Answer) -> Vec<u8> {
    let body = encode(&answer);
    if body.len() <= MAX_BODY {
        return body;
    }
    let Some(reason) = answer.reason.clone() else {
        return body;
    };
    // The longest prefix of the reason (in characters) whose body fits: binary search, ~12 encodes.
    let chars: Vec<char> = reason.chars().collect();
    let with_prefix = |n: usize| {
        let mut a = answer.clone();
        a.reason = Some(format!("{}{CUT_MARKER}", chars[..n].iter().collect::<String>()));
        encode(&a)
    };
    let (mut lo, mut hi) = (0, chars.len());
    while lo < hi {
        let mid = (lo + hi).div_ceil(2);
        if with_prefix(mid).len() <= MAX_BODY {
            lo = mid
        } else {
            hi = mid - 1
        }
    }
    if lo == 0 && with_prefix(0).len() > MAX_BODY {
        // Not even the marker fits beside the ids: no Reason at all is the smallest body.
        answer.reason = None;
    } else {
        answer.reason = Some(format!("{}{CUT_MARKER}", chars[..lo].iter().collect::<String>()));
    }
    encode(&answer)
}

fn encode(a: &Answer) -> Vec<u8> {
    let mut r = CloudFormationCustomResourceResponse::default();
    r.status = match a.status {
        Status::Success => CloudFormationCustomResourceResponseStatus::Success,
        Status::Failed => CloudFormationCustomResourceResponseStatus::Failed,
    };
    r.reason = a.reason.clone();
    r.physical_resource_id = a.physical_resource_id.clone();
    r.stack_id = a.stack_id.clone();
    r.request_id = a.request_id.clone();
    r.logical_resource_id = a.logical_resource_id.clone();
    r.no_echo = false;
    r.data = a.data.clone().into_iter().collect();
    serde_json::to_vec(&r)
        .unwrap_or_else(|e| format!(r#"{{"Status":"FAILED","Reason":"cannot encode response: {e}"}}"#).into_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::Value;

    fn answer(reason: &str) -> Answer {
        Answer {
            status: Status::Failed,
            reason: Some(reason.into()),
            physical_resource_id: "archive-ArchiveRole-ABCDEFGHJKLM".into(),
            stack_id: "arn:aws:cloudformation:us-east-1:123456789012:stack/archive/id".into(),
            request_id: "req-1".into(),
            logical_resource_id: "ArchiveRole".into(),
            data: BTreeMap::new(),
        }
    }

    fn parsed(body: &[u8]) -> Value {
        serde_json::from_slice(body).expect("json")
    }

    #[test]
    fn a_malformed_event_is_answered_failed_with_its_ids_within_the_limit() {
        let ids = EventIds {
            request_id: "req".into(),
            stack_id: "arn:aws:cloudformation:us-east-1:123456789012:stack/s/id".into(),
            logical_resource_id: "Role".into(),
            physical_resource_id: "phys".into(),
        };
        let a = malformed(&ids, &"why ".repeat(2000));
        let v = parsed(&a.to_body());
        assert_eq!(v["Status"], "FAILED");
        assert_eq!(
            (&v["RequestId"], &v["LogicalResourceId"], &v["PhysicalResourceId"]),
            (&"req".into(), &"Role".into(), &"phys".into())
        );
        assert!(
            v["Reason"]
                .as_str()
                .is_some_and(|r| r.starts_with("malformed event: why"))
        );
        assert!(a.to_body().len() <= MAX_BODY);
    }

    #[test]
    fn body_has_cloudformations_field_names() {
        let mut a = answer("x");
        a.status = Status::Success;
        a.data.insert("Arn".into(), "arn:aws:iam::123456789012:role/r".into());
        let v = parsed(&a.to_body());
        assert_eq!(v["Status"], "SUCCESS");
        assert_eq!(v["PhysicalResourceId"], "archive-ArchiveRole-ABCDEFGHJKLM");
        assert_eq!(
            v["StackId"],
            "arn:aws:cloudformation:us-east-1:123456789012:stack/archive/id"
        );
        assert_eq!(v["RequestId"], "req-1");
        assert_eq!(v["LogicalResourceId"], "ArchiveRole");
        assert_eq!(v["Data"]["Arn"], "arn:aws:iam::123456789012:role/r");
        assert_eq!(v["Reason"], "x");
    }

    #[test]
    fn a_short_body_is_unchanged() {
        let a = answer("short reason");
        assert_eq!(parsed(&a.to_body())["Reason"], "short reason");
    }

    #[test]
    fn long_reason_is_truncated_to_fit_4096_bytes_and_ids_are_kept() {
        let a = answer(&"é\"x".repeat(3000));
        let body = a.to_body();
        assert!(body.len() <= MAX_BODY, "{}", body.len());
        let v = parsed(&body);
        assert!(v["Reason"].as_str().expect("reason").ends_with(CUT_MARKER));
        assert!(
            v["Reason"].as_str().expect("reason").len() > 1000,
            "truncated more than needed"
        );
        assert_eq!(v["PhysicalResourceId"], "archive-ArchiveRole-ABCDEFGHJKLM");
        assert_eq!(v["RequestId"], "req-1");
    }

    #[test]
    fn body_exactly_at_the_limit_is_not_truncated() {
        let fixed = answer("").to_body().len();
        let a = answer(&"r".repeat(MAX_BODY - fixed));
        let body = a.to_body();
        assert_eq!(body.len(), MAX_BODY);
        assert!(!parsed(&body)["Reason"].as_str().expect("reason").ends_with(CUT_MARKER));
    }

    #[test]
    fn oversized_data_turns_into_failed() {
        let mut a = answer("ok");
        a.status = Status::Success;
        a.reason = None;
        a.data.insert("Big".into(), "d".repeat(5000));
        let body = a.to_body();
        assert!(body.len() <= MAX_BODY);
        assert_eq!(parsed(&body)["Status"], "FAILED");
    }

    #[test]
    fn when_the_data_is_dropped_the_reason_saying_so_is_cut_to_fit_too() {
        // Found by the event_reader fuzz target: ids that nearly fill the body left no room for the whole reason
        // that replaces dropped data, and the body came out at 4104 bytes.
        let mut a = answer("ok");
        a.status = Status::Success;
        a.reason = None;
        a.data.insert("Arn".into(), "x".repeat(100));
        let mut bare = a.clone();
        bare.data.clear();
        bare.reason = Some(CUT_MARKER.into());
        let room = MAX_BODY - encode(&bare).len();
        a.physical_resource_id.push_str(&"p".repeat(room - 10));
        let body = a.to_body();
        assert!(body.len() <= MAX_BODY, "{} bytes", body.len());
        let v = parsed(&body);
        assert_eq!(v["Status"], "FAILED");
        assert!(v["Reason"].as_str().expect("reason").ends_with(CUT_MARKER), "{v}");
        assert!(v["Reason"].as_str().expect("reason").starts_with("response d"), "{v}");
    }
}
