//! Reading one event: raw JSON text in, a [`Reading`] out (a [`Request`], a malformed event still to be answered
//! FAILED, or nothing to answer). Pure: no I/O, no resource logic.

use aws_lambda_events::event::cloudformation::CloudFormationCustomResourceRequest;
use serde_json::Value;
use std::collections::BTreeMap;

/// Create, Update or Delete.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RequestType {
    Create,
    Update,
    Delete,
}

impl RequestType {
    pub fn as_str(self) -> &'static str {
        match self {
            RequestType::Create => "Create",
            RequestType::Update => "Update",
            RequestType::Delete => "Delete",
        }
    }
}

/// One well-formed CloudFormation request, without its ResponseURL.
#[derive(Debug, Clone)]
pub struct Request {
    pub request_type: RequestType,
    pub request_id: String,
    pub stack_id: String,
    pub logical_resource_id: String,
    pub resource_type: String,
    /// Absent on Create.
    pub physical_resource_id: Option<String>,
    pub properties: Value,
    /// Present on Update only.
    pub old_properties: Option<Value>,
}

impl Request {
    /// Reads a request from the event's JSON, with the AWS event types for the field names and shapes.
    pub fn parse(payload: &Value) -> Result<Request, String> {
        let typed: CloudFormationCustomResourceRequest =
            serde_json::from_value(payload.clone()).map_err(|e| e.to_string())?;
        use CloudFormationCustomResourceRequest as Typed;
        // The three variants share their fields but are three types: take what differs, then build one Request.
        let (request_type, ids, physical_resource_id, properties, old_properties) = match typed {
            Typed::Create(r) => (
                RequestType::Create,
                (r.request_id, r.stack_id, r.logical_resource_id, r.resource_type),
                None,
                r.resource_properties,
                None,
            ),
            Typed::Update(r) => (
                RequestType::Update,
                (r.request_id, r.stack_id, r.logical_resource_id, r.resource_type),
                Some(r.physical_resource_id),
                r.resource_properties,
                Some(r.old_resource_properties),
            ),
            Typed::Delete(r) => (
                RequestType::Delete,
                (r.request_id, r.stack_id, r.logical_resource_id, r.resource_type),
                Some(r.physical_resource_id),
                r.resource_properties,
                None,
            ),
            _ => return Err("unknown RequestType".into()),
        };
        let (request_id, stack_id, logical_resource_id, resource_type) = ids;
        Ok(Request {
            request_type,
            request_id,
            stack_id,
            logical_resource_id,
            resource_type,
            physical_resource_id,
            properties,
            old_properties,
        })
    }

    /// The partition from the StackId: [`stack_arn`].
    pub fn partition(&self) -> Option<&str> {
        Some(stack_arn(&self.stack_id)?.partition)
    }
}

/// A StackId read as a stack's ARN (`arn:<partition>:cloudformation:<region>:<account>:stack/…`): its partition,
/// the partition of every ARN the resources write, and its account, the account the role's bucket must belong to.
pub fn stack_arn(stack_id: &str) -> Option<crate::arn::Parts<'_>> {
    crate::arn::parts(stack_id).filter(|p| {
        p.service == "cloudformation"
            && !p.region.is_empty()
            && crate::arn::is_account_id(p.account)
            && p.resource.starts_with("stack/")
    })
}

/// What an event's bytes amount to, before any work: the pure first half of handling an event.
#[derive(Debug)]
pub enum Reading {
    /// No ResponseURL (or not even a JSON object): there is no one to answer.
    Unanswerable,
    /// A ResponseURL, but not a request this handler understands: to be answered FAILED, with whatever ids the
    /// event carries.
    Malformed { url: String, ids: EventIds, why: String },
    /// A well-formed request.
    Request { url: String, request: Request },
}

/// Reads one event as the Lambda runtime delivered it (the raw JSON text).
///
/// JSON that serde_json will not build into a [`Value`] (nested deeper than its recursion limit of 128) is still
/// read one level deep, so that an event with absurd properties gets a FAILED answer instead of none: without
/// it, CloudFormation would wait an hour for the stack, and again for its rollback.
pub fn read_raw_event(raw: &str) -> Reading {
    match serde_json::from_str::<Value>(raw) {
        Ok(payload) => read_event(&payload),
        Err(e) => {
            // Each top-level value is kept as raw text (serde_json skips over it without recursion), and only
            // the strings are taken.
            let Ok(fields) = serde_json::from_str::<BTreeMap<String, Box<serde_json::value::RawValue>>>(raw) else {
                return Reading::Unanswerable;
            };
            let shallow: serde_json::Map<String, Value> = fields
                .into_iter()
                .filter_map(|(k, v)| {
                    serde_json::from_str::<String>(v.get())
                        .ok()
                        .map(|s| (k, Value::String(s)))
                })
                .collect();
            let shallow = Value::Object(shallow);
            match read_event(&shallow) {
                Reading::Unanswerable => Reading::Unanswerable,
                Reading::Malformed { url, .. } | Reading::Request { url, .. } => {
                    let why = format!("the event is not JSON this handler can read: {e}");
                    Reading::Malformed {
                        ids: EventIds::of(&shallow),
                        url,
                        why,
                    }
                }
            }
        }
    }
}

/// Reads one event that is already JSON.
pub fn read_event(payload: &Value) -> Reading {
    let Some(url) = payload.get("ResponseURL").and_then(Value::as_str).map(str::to_owned) else {
        return Reading::Unanswerable;
    };
    match Request::parse(payload) {
        Ok(request) => Reading::Request { url, request },
        Err(why) => Reading::Malformed {
            ids: EventIds::of(payload),
            url,
            why,
        },
    }
}

/// The ids an event that is not a request still carries (empty where it has none), to answer it with.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct EventIds {
    pub request_id: String,
    pub stack_id: String,
    pub logical_resource_id: String,
    /// The event's PhysicalResourceId, else `<LogicalResourceId>-<RequestId>`.
    pub physical_resource_id: String,
}

impl EventIds {
    fn of(payload: &Value) -> EventIds {
        let field = |name: &str| payload.get(name).and_then(Value::as_str).unwrap_or_default().to_owned();
        let physical_resource_id = Some(field("PhysicalResourceId"))
            .filter(|p| !p.is_empty())
            .unwrap_or_else(|| format!("{}-{}", field("LogicalResourceId"), field("RequestId")));
        EventIds {
            request_id: field("RequestId"),
            stack_id: field("StackId"),
            logical_resource_id: field("LogicalResourceId"),
            physical_resource_id,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn event(request_type: &str) -> Value {
        json!({
            "RequestType": request_type,
            "ServiceToken": "arn:aws:lambda:us-east-1:123456789012:function:f",
            "ResponseURL": "http://127.0.0.1:1/r?sig=secret",
            "StackId": "arn:aws-cn:cloudformation:cn-north-1:123456789012:stack/s/id",
            "RequestId": "req",
            "ResourceType": "Custom::LogzioRole",
            "LogicalResourceId": "Role",
            "PhysicalResourceId": "phys",
            "ResourceProperties": {"BucketName": "b"},
            "OldResourceProperties": {"BucketName": "a"}
        })
    }

    fn nested(depth: usize) -> String {
        format!("{}1{}", "[".repeat(depth), "]".repeat(depth))
    }

    #[test]
    fn an_event_nested_too_deep_for_serde_json_is_still_answered_failed_with_its_ids() {
        let mut e = event("Create");
        e["ResourceProperties"] = json!({"BucketName": "placeholder"});
        let raw = e.to_string().replace("\"placeholder\"", &nested(10_000));
        assert!(
            serde_json::from_str::<Value>(&raw).is_err(),
            "serde_json's limit is what this test is about"
        );
        match read_raw_event(&raw) {
            Reading::Malformed { url, ids, why } => {
                assert_eq!(url, "http://127.0.0.1:1/r?sig=secret");
                assert!(why.contains("recursion limit"), "{why}");
                assert_eq!(
                    (ids.request_id.as_str(), ids.logical_resource_id.as_str()),
                    ("req", "Role")
                );
                assert_eq!(ids.physical_resource_id, "phys");
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn an_event_without_a_response_url_or_not_an_object_is_unanswerable() {
        assert!(matches!(read_raw_event(&nested(10_000)), Reading::Unanswerable));
        assert!(matches!(read_raw_event("not json"), Reading::Unanswerable));
        let mut e = event("Create");
        e.as_object_mut().expect("object").remove("ResponseURL");
        assert!(matches!(read_raw_event(&e.to_string()), Reading::Unanswerable));
        e["ResponseURL"] = json!(7);
        assert!(matches!(read_raw_event(&e.to_string()), Reading::Unanswerable));
    }

    #[test]
    fn a_well_formed_raw_event_reads_as_its_request() {
        match read_raw_event(&event("Update").to_string()) {
            Reading::Request { request, .. } => assert_eq!(request.request_type, RequestType::Update),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn parses_the_three_request_types() {
        let c = Request::parse(&event("Create")).expect("create");
        assert_eq!((c.request_type, c.physical_resource_id), (RequestType::Create, None));
        let u = Request::parse(&event("Update")).expect("update");
        assert_eq!(u.request_type, RequestType::Update);
        assert_eq!(u.old_properties, Some(json!({"BucketName": "a"})));
        assert_eq!(u.physical_resource_id.as_deref(), Some("phys"));
        let d = Request::parse(&event("Delete")).expect("delete");
        assert_eq!(d.request_type, RequestType::Delete);
    }

    #[test]
    fn unknown_request_type_and_missing_fields_are_errors() {
        assert!(Request::parse(&event("Replace")).is_err());
        let mut e = event("Create");
        e.as_object_mut().expect("object").remove("StackId");
        assert!(Request::parse(&e).expect_err("missing").contains("StackId"));
    }

    #[test]
    fn partition_comes_from_the_stack_id() {
        assert_eq!(
            Request::parse(&event("Create")).expect("ok").partition(),
            Some("aws-cn")
        );
        let mut e = event("Create");
        e["StackId"] = json!("not-an-arn");
        assert_eq!(Request::parse(&e).expect("ok").partition(), None);
    }

    #[test]
    fn stack_account_comes_from_the_stack_id() {
        let stack_account = |id| stack_arn(id).map(|p| p.account);
        let id = "arn:aws:cloudformation:us-east-1:123456789012:stack/archive/1f0c2c30-0000-11ef-9b4c-0a1b2c3d4e5f";
        assert_eq!(stack_account(id), Some("123456789012"));
        assert_eq!(
            stack_account("arn:aws-cn:cloudformation:cn-north-1:210987654321:stack/s/id"),
            Some("210987654321")
        );
        for bad in [
            "not-an-arn",
            "arn:aws:cloudformation:us-east-1:12345678901:stack/s/id",
            "arn:aws:cloudformation:us-east-1::stack/s/id",
            "arn:aws:iam::123456789012:stack/s/id",
            "arn:aws:cloudformation:us-east-1:123456789012:changeSet/c/id",
        ] {
            assert_eq!(stack_account(bad), None, "{bad}");
        }
    }
}
