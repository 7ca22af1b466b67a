//! `AccountId`: a 12-digit AWS account id (the account that assumes the role).

use std::str::FromStr;

/// A 12-digit AWS account id.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccountId(String);

text_newtype!(AccountId);

/// True for exactly 12 ASCII digits.
pub(crate) fn is_account_id(a: &str) -> bool {
    a.len() == 12 && a.chars().all(|c| c.is_ascii_digit())
}

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
        assert_eq!(
            accepts("LogzioAccountId", json!(123456789012u64))
                .logzio_account_id
                .as_str(),
            "123456789012"
        );
    }
}
