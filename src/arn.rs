//! ARN syntax, read in one place: `arn:<partition>:<service>:<region>:<account>:<resource>`, and the rule for an
//! account id. Pure and a leaf: the protocol reads the StackId and the function's ARN with it, the properties
//! their typed ARNs.

/// The six fields of an ARN (the resource keeps any further `:`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Parts<'a> {
    pub partition: &'a str,
    pub service: &'a str,
    pub region: &'a str,
    pub account: &'a str,
    pub resource: &'a str,
}

/// The fields of `arn`, when it has six and starts with `arn:` and a partition.
pub fn parts(arn: &str) -> Option<Parts<'_>> {
    match arn.splitn(6, ':').collect::<Vec<_>>()[..] {
        ["arn", partition, service, region, account, resource] if !partition.is_empty() => Some(Parts {
            partition,
            service,
            region,
            account,
            resource,
        }),
        _ => None,
    }
}

/// True for exactly 12 ASCII digits: an AWS account id.
pub fn is_account_id(a: &str) -> bool {
    a.len() == 12 && a.bytes().all(|b| b.is_ascii_digit())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_arn_has_six_fields_and_the_resource_keeps_its_colons() {
        let p = parts("arn:aws-cn:secretsmanager:cn-north-1:123456789012:secret:a:b").expect("an ARN");
        assert_eq!(
            (p.partition, p.service, p.region, p.account, p.resource),
            ("aws-cn", "secretsmanager", "cn-north-1", "123456789012", "secret:a:b")
        );
        assert_eq!(parts("arn:aws:iam::123456789012:role/r").expect("iam").region, "");
        for bad in [
            "not-an-arn",
            "arn::iam::1:role/r",
            "arn:aws:iam:1:role/r",
            "urn:aws:iam::1:role/r",
        ] {
            assert_eq!(parts(bad), None, "{bad}");
        }
    }

    #[test]
    fn an_account_id_is_exactly_twelve_digits() {
        assert!(is_account_id("123456789012"));
        for bad in ["12345678901", "1234567890123", "12345678901a", ""] {
            assert!(!is_account_id(bad), "{bad}");
        }
    }
}
