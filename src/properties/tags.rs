//! `Tags`: the user's tags on the role, within IAM's tag rules and never one of our ownership tags.

use super::reader::scalar_text;
use super::{MAX_USER_TAGS, OWNERSHIP_TAG_PREFIX};
use serde_json::Value;

/// A tag the user asked for (never one of ours, never `aws:`).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Tag {
    pub key: String,
    pub value: String,
}

fn tag_chars_ok(s: &str) -> bool {
    s.chars()
        .all(|c| c.is_alphanumeric() || c.is_whitespace() && !c.is_control() || "_.:/=+-@".contains(c))
}

impl Tag {
    /// Parses the `Tags` property (absent: no tags): a list of `{Key, Value}` objects, every broken rule reported.
    pub fn parse_list(raw: Option<&Value>) -> Result<Vec<Tag>, Vec<String>> {
        let list = match raw {
            None | Some(Value::Null) => return Ok(Vec::new()),
            Some(Value::Array(l)) => l,
            Some(_) => return Err(vec!["must be a list of {Key, Value} objects".into()]),
        };
        let mut rules = Vec::new();
        let mut tags: Vec<Tag> = Vec::new();
        if list.len() > MAX_USER_TAGS {
            rules.push(format!(
                "at most {MAX_USER_TAGS} tags (IAM allows 50 per role and 2 record ownership), got {}",
                list.len()
            ));
        }
        for (i, item) in list.iter().enumerate() {
            let Some(obj) = item.as_object() else {
                rules.push(format!("item {i} must be an object with Key and Value"));
                continue;
            };
            if let Some(k) = obj.keys().find(|k| *k != "Key" && *k != "Value") {
                rules.push(format!("item {i} has unknown field {k:?} (only Key and Value)"));
            }
            let text = |f: &str| obj.get(f).and_then(scalar_text);
            let (Some(key), Some(value)) = (text("Key"), text("Value")) else {
                rules.push(format!("item {i} needs a string Key and a string Value"));
                continue;
            };
            let before = rules.len();
            if key.is_empty() || key.chars().count() > 128 {
                rules.push(format!("item {i}: Key must be 1 to 128 characters"));
            }
            if value.chars().count() > 256 {
                rules.push(format!("item {i}: Value of {key:?} must be at most 256 characters"));
            }
            if !tag_chars_ok(&key) || !tag_chars_ok(&value) {
                rules.push(format!(
                    "item {i}: Key and Value may contain only letters, digits, spaces and _.:/=+-@ (IAM tag rules)"
                ));
            }
            if key.to_ascii_lowercase().starts_with("aws:") {
                rules.push(format!("item {i}: Key {key:?} uses the reserved prefix \"aws:\""));
            }
            if key.to_ascii_lowercase().starts_with(OWNERSHIP_TAG_PREFIX) {
                rules.push(format!(
                    "item {i}: Key {key:?} uses the prefix {OWNERSHIP_TAG_PREFIX:?}, reserved for the ownership tags"
                ));
            }
            if tags.iter().any(|t| t.key.eq_ignore_ascii_case(&key)) {
                rules.push(format!("item {i}: Key {key:?} appears more than once"));
            }
            if rules.len() == before {
                tags.push(Tag { key, value });
            }
        }
        if rules.is_empty() { Ok(tags) } else { Err(rules) }
    }
}

#[cfg(test)]
mod tests {
    use super::Tag;
    use crate::properties::test_support::*;
    use serde_json::{Value, json};

    #[test]
    fn tags_must_be_a_list_of_key_value_objects() {
        rejects("Tags", json!({"team": "x"}));
        rejects("Tags", json!([{"Key": "team"}]));
        rejects("Tags", json!([{"Key": "team", "Value": "x", "Extra": 1}]));
        let s = accepts(
            "Tags",
            json!([{"Key": "team", "Value": "obs"}, {"Key": "cost", "Value": 42}]),
        );
        assert_eq!(
            s.tags[1],
            Tag {
                key: "cost".into(),
                value: "42".into()
            }
        );
    }

    #[test]
    fn tags_within_iam_limits() {
        rejects("Tags", json!([{"Key": "k".repeat(129), "Value": "x"}]));
        rejects("Tags", json!([{"Key": "k", "Value": "v".repeat(257)}]));
        rejects("Tags", json!([{"Key": "k!", "Value": "x"}]));
        let many: Vec<Value> = (0..49).map(|i| json!({"Key": format!("k{i}"), "Value": "v"})).collect();
        rejects("Tags", Value::Array(many));
        rejects(
            "Tags",
            json!([{"Key": "Team", "Value": "a"}, {"Key": "team", "Value": "b"}]),
        );
    }

    #[test]
    fn tags_may_not_use_reserved_prefixes() {
        rejects("Tags", json!([{"Key": "aws:cloudformation:stack-id", "Value": "x"}]));
        rejects("Tags", json!([{"Key": "logzio-role:stack-id", "Value": "x"}]));
    }
}
