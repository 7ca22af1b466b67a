//! The pre-flight both resources run before their first call, written once: the deployment's settings are valid,
//! and the event's stack is a CloudFormation stack (its partition and account known) in the function's own
//! account (a forged event may name another account's stack, and a role there). Pure.

use crate::cfn::Request;
use crate::cfn::event::OtherAccount;
use crate::limits::{Limits, LimitsError};

/// The stack an event is about: the partition and account every ARN the resources write uses.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Stack {
    pub partition: String,
    pub account: String,
}

/// Why an event was refused before any call; the Display text is the Reason.
#[derive(Debug, Clone, thiserror::Error)]
pub enum Refused {
    /// `refuses`: what the function therefore does not do ("makes no role").
    #[error("the function's deployment settings are invalid, so it {refuses}: {settings}")]
    Deployment {
        settings: LimitsError,
        refuses: &'static str,
    },
    #[error("StackId {0:?} is not a CloudFormation stack ARN, so the partition and account are unknown")]
    NoPartition(String),
    #[error(transparent)]
    OtherAccount(#[from] OtherAccount),
}

/// The deployment's limits, or the refusal of a function deployed with invalid settings.
pub fn limits<'a>(limits: &'a Result<Limits, LimitsError>, refuses: &'static str) -> Result<&'a Limits, Refused> {
    limits.as_ref().map_err(|e| Refused::Deployment {
        settings: e.clone(),
        refuses,
    })
}

/// The event's stack, if it is a CloudFormation stack of the function's own account.
pub fn stack(req: &Request) -> Result<Stack, Refused> {
    let no_arn = || Refused::NoPartition(req.stack_id.clone());
    let partition = req.partition().ok_or_else(no_arn)?.to_owned();
    let account = req.stack_account().ok_or_else(no_arn)?.to_owned();
    req.in_functions_account()?;
    Ok(Stack { partition, account })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cfn::Reading;
    use crate::cfn::read_event;
    use serde_json::json;

    fn request(stack_id: &str, function_arn: Option<&str>) -> Request {
        let event = json!({"RequestType": "Create", "ResponseURL": "http://127.0.0.1:1/r", "StackId": stack_id,
                           "RequestId": "r", "ResourceType": "Custom::LogzioRole", "LogicalResourceId": "L",
                           "ServiceToken": "t", "ResourceProperties": {}});
        let Reading::Request { mut request, .. } = read_event(&event) else {
            panic!("a request")
        };
        request.function_arn = function_arn.map(str::to_owned);
        request
    }

    #[test]
    fn a_stack_of_the_functions_account_gives_its_partition_and_account() {
        let r = request(
            "arn:aws-cn:cloudformation:cn-north-1:123456789012:stack/s/id",
            Some("arn:aws-cn:lambda:cn-north-1:123456789012:function:f"),
        );
        assert_eq!(
            stack(&r).expect("ok"),
            Stack {
                partition: "aws-cn".into(),
                account: "123456789012".into()
            }
        );
    }

    #[test]
    fn another_accounts_stack_or_no_stack_arn_is_refused_naming_it() {
        let r = request(
            "arn:aws:cloudformation:us-east-1:210987654321:stack/s/id",
            Some("arn:aws:lambda:us-east-1:123456789012:function:f"),
        );
        assert!(
            stack(&r)
                .expect_err("other")
                .to_string()
                .contains("account 210987654321")
        );
        let e = stack(&request("not-an-arn", None)).expect_err("no arn").to_string();
        assert_eq!(
            e,
            "StackId \"not-an-arn\" is not a CloudFormation stack ARN, so the partition and account are unknown"
        );
    }

    #[test]
    fn invalid_settings_are_refused_saying_what_is_not_done() {
        let bad = Limits::from_vars(|v| (v == crate::limits::PATH_PREFIX_VAR).then(|| "nope".into()));
        let e = limits(&bad, "makes no role").expect_err("invalid").to_string();
        assert!(
            e.starts_with("the function's deployment settings are invalid, so it makes no role: "),
            "{e}"
        );
    }
}
