//! `AccountId`: a 12-digit AWS account id (the account that assumes the role).

use std::str::FromStr;

/// A 12-digit AWS account id.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccountId(String);

text_newtype!(AccountId);

pub use crate::arn::is_account_id;

impl FromStr for AccountId {
    type Err = String;

    fn from_str(a: &str) -> Result<Self, String> {
        if is_account_id(a) {
            Ok(AccountId(a.to_owned()))
        } else {
            Err(format!("{a:?} is not an AWS account id: must be exactly 12 digits"))
        }
    }
}

impl AccountId {
    /// [`LOGZIO_ACCOUNT_ID`](super::LOGZIO_ACCOUNT_ID), Logz.io's account.
    pub fn logzio() -> AccountId {
        AccountId(super::LOGZIO_ACCOUNT_ID.to_owned())
    }
}

#[cfg(test)]
mod tests {
    use crate::limits::TRUSTED_ACCOUNTS_VAR;
    use crate::properties::test_support::*;
    use serde_json::json;

    #[test]
    fn logzios_account_is_a_valid_account_id() {
        assert_eq!(
            crate::properties::LOGZIO_ACCOUNT_ID.parse::<super::AccountId>(),
            Ok(super::AccountId::logzio())
        );
    }

    #[test]
    fn logzio_account_id_is_12_digits() {
        rejects("LogzioAccountId", json!("40609560995"));
        rejects("LogzioAccountId", json!("40609560995x"));
        let l = limits(&[(TRUSTED_ACCOUNTS_VAR, "123456789012")]);
        let s = parse_with(&with("LogzioAccountId", json!(123456789012u64)), &l).expect("valid");
        assert_eq!(s.given_trust().expect("given").account.as_str(), "123456789012");
    }

    #[test]
    fn logzio_account_id_must_be_one_the_deployment_trusts() {
        assert_eq!(
            rejects("LogzioAccountId", json!("111122223333")),
            "invalid properties (1 error): LogzioAccountId: 111122223333 is not an account this deployment trusts \
             (406095609952; template parameter TrustedLogzioAccountIds)"
        );
        assert_eq!(
            accepts("LogzioAccountId", json!("406095609952"))
                .given_trust()
                .expect("given")
                .account
                .as_str(),
            "406095609952"
        );
        let l = limits(&[(TRUSTED_ACCOUNTS_VAR, "111122223333,444455556666")]);
        let e = parse_with(&with("LogzioAccountId", json!("406095609952")), &l).expect_err("untrusted");
        assert!(e.to_string().contains("(111122223333, 444455556666; "), "{e}");
    }
}
