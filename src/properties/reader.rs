//! The error-collecting reader over the raw `ResourceProperties` object, and the errors it collects.
//!
//! It owns how a property's raw JSON becomes text (CloudFormation sends every scalar as a string; a JSON number
//! or boolean is read as its text; a list or object where a scalar belongs is an error naming the property),
//! which properties are known, and the order of the report: every broken rule in reading order, unknown
//! properties last. It knows no property's rule: each newtype brings its own parse.

use serde_json::{Map, Value};
use std::fmt;
use std::str::FromStr;

/// One broken rule: the property and what is wrong with it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PropertyError {
    pub property: String,
    pub rule: String,
}

impl fmt::Display for PropertyError {
    /// `Name: rule`. A name that is not a plain identifier (an unknown key can be anything: empty, spaced, with
    /// control characters) is quoted and escaped, so the Reason still says which property it was.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let plain = !self.property.is_empty() && self.property.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
        if plain {
            write!(f, "{}: {}", self.property, self.rule)
        } else {
            write!(f, "{:?}: {}", self.property, self.rule)
        }
    }
}

/// Every broken rule of one set of properties, in a stable order.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub struct PropertyErrors(pub Vec<PropertyError>);

impl fmt::Display for PropertyErrors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let n = self.0.len();
        write!(f, "invalid properties ({n} error{}): ", if n == 1 { "" } else { "s" })?;
        for (i, e) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str("; ")?;
            }
            write!(f, "{e}")?;
        }
        Ok(())
    }
}

impl PropertyErrors {
    /// True when some error names `property` (used by tests and by callers that want one property's verdict).
    pub fn names(&self, property: &str) -> bool {
        self.0.iter().any(|e| e.property == property)
    }
}

/// The text of a scalar: a string as it is, a number or boolean as its JSON text; `None` for null, a list or an
/// object.
pub(crate) fn scalar_text(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

/// An optional property as read: absent (or null), valid, or broken (its error already recorded).
#[derive(Debug)]
pub enum Optional<T> {
    Absent,
    Valid(T),
    Broken,
}

impl<T> Optional<T> {
    /// The value, or `default` when absent; `None` when broken.
    pub fn or(self, default: T) -> Option<T> {
        match self {
            Optional::Absent => Some(default),
            Optional::Valid(v) => Some(v),
            Optional::Broken => None,
        }
    }

    /// The value, or `T::default()` when absent; `None` when broken.
    pub fn or_default(self) -> Option<T>
    where
        T: Default,
    {
        self.or(T::default())
    }

    /// `Some(None)` when absent, `Some(Some(v))` when valid; `None` when broken.
    pub fn or_none(self) -> Option<Option<T>> {
        match self {
            Optional::Absent => Some(None),
            Optional::Valid(v) => Some(Some(v)),
            Optional::Broken => None,
        }
    }
}

/// Reads properties one by one, recording every broken rule instead of stopping at the first. Each name asked
/// for becomes a known property; [`Reader::finish`] reports the keys nobody asked for.
#[derive(Debug)]
pub struct Reader<'a> {
    map: Option<&'a Map<String, Value>>,
    known: Vec<&'static str>,
    errors: Vec<PropertyError>,
}

impl<'a> Reader<'a> {
    /// A reader over `properties`: an object, or null (no properties at all).
    pub fn new(properties: &'a Value) -> Result<Self, PropertyErrors> {
        let map = match properties {
            Value::Object(m) => Some(m),
            Value::Null => None,
            _ => {
                return Err(PropertyErrors(vec![PropertyError {
                    property: "ResourceProperties".into(),
                    rule: "must be an object".into(),
                }]));
            }
        };
        Ok(Reader {
            map,
            known: Vec::new(),
            errors: Vec::new(),
        })
    }

    /// Records a broken rule of `property`.
    /// Records a broken rule that no single property's parse can see (e.g. two properties that exclude each
    /// other).
    pub fn error(&mut self, property: &str, rule: String) {
        self.errors.push(PropertyError {
            property: property.to_owned(),
            rule,
        });
    }

    /// The raw value of `name` (null counts as absent), marking the name as known.
    fn raw(&mut self, name: &'static str) -> Option<&'a Value> {
        self.known.push(name);
        self.map.and_then(|m| m.get(name)).filter(|v| !v.is_null())
    }

    /// The text of the scalar `name`: `Ok(None)` when absent, `Err(())` (recorded) when a list or object.
    fn text(&mut self, name: &'static str) -> Result<Option<String>, ()> {
        match self.raw(name) {
            None => Ok(None),
            Some(v) => match scalar_text(v) {
                Some(s) => Ok(Some(s)),
                None => {
                    self.error(name, "must be a string, not a list or object".into());
                    Err(())
                }
            },
        }
    }

    /// A property that must be present, parsed by `T`'s own rules; `None` (recorded) when absent or broken.
    pub fn required<T: FromStr<Err = String>>(&mut self, name: &'static str) -> Option<T> {
        self.required_with(name, T::from_str)
    }

    /// A property that must be present, parsed by `parse`; `None` (recorded) when absent or broken.
    pub fn required_with<T>(&mut self, name: &'static str, parse: impl FnOnce(&str) -> Result<T, String>) -> Option<T> {
        match self.optional_with(name, parse) {
            Optional::Valid(v) => Some(v),
            Optional::Broken => None,
            Optional::Absent => {
                self.error(name, "is required".into());
                None
            }
        }
    }

    /// A property that may be absent, parsed by `T`'s own rules.
    pub fn optional<T: FromStr<Err = String>>(&mut self, name: &'static str) -> Optional<T> {
        self.optional_with(name, T::from_str)
    }

    /// A property that may be absent, parsed by `parse`.
    pub fn optional_with<T>(
        &mut self,
        name: &'static str,
        parse: impl FnOnce(&str) -> Result<T, String>,
    ) -> Optional<T> {
        match self.text(name) {
            Err(()) => Optional::Broken,
            Ok(None) => Optional::Absent,
            Ok(Some(s)) => match parse(&s) {
                Ok(v) => Optional::Valid(v),
                Err(rule) => {
                    self.error(name, rule);
                    Optional::Broken
                }
            },
        }
    }

    /// A property that is not a scalar (a list of tags), parsed by `parse` from its raw JSON (`None` when
    /// absent), which may report several broken rules.
    pub fn structured<T>(
        &mut self,
        name: &'static str,
        parse: impl FnOnce(Option<&Value>) -> Result<T, Vec<String>>,
    ) -> Option<T> {
        match parse(self.raw(name)) {
            Ok(v) => Some(v),
            Err(rules) => {
                for rule in rules {
                    self.error(name, rule);
                }
                None
            }
        }
    }

    /// A property that is known but may not be set: its presence is the error `rule`.
    pub fn refuse(&mut self, name: &'static str, rule: &str) {
        if self.raw(name).is_some() {
            self.error(name, rule.to_owned());
        }
    }

    /// A property that is known and not ours to read (CloudFormation's `ServiceToken`).
    pub fn ignore(&mut self, name: &'static str) {
        self.known.push(name);
    }

    /// Reports the unknown keys, then builds the value with `build` when no rule was broken. `build` sees every
    /// read value present exactly when nothing was recorded, so it returns `Some` then.
    pub fn finish<T>(mut self, build: impl FnOnce() -> Option<T>) -> Result<T, PropertyErrors> {
        // Unknown keys last: with many of them the Reason is cut to fit 4096 bytes, and the rules broken by the
        // properties the user meant to set must survive the cut.
        for key in self.map.map(Map::keys).into_iter().flatten() {
            if !self.known.contains(&key.as_str()) {
                let hint = self
                    .known
                    .iter()
                    .find(|k| k.eq_ignore_ascii_case(key))
                    .map(|k| format!(" (did you mean {k}?)"))
                    .unwrap_or_default();
                self.error(key, format!("unknown property{hint}"));
            }
        }
        if !self.errors.is_empty() {
            return Err(PropertyErrors(self.errors));
        }
        build().ok_or_else(|| {
            // Unreachable when every read above fed `build`; an answer rather than a panic if one did not.
            PropertyErrors(vec![PropertyError {
                property: "ResourceProperties".into(),
                rule: "could not be read (a property was lost without an error: a bug)".into(),
            }])
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[derive(Debug, Default, PartialEq)]
    struct Size(u32);

    impl FromStr for Size {
        type Err = String;
        fn from_str(s: &str) -> Result<Self, String> {
            s.parse().map(Size).map_err(|_| format!("{s:?} is not a size"))
        }
    }

    /// Reads `Name` (required) and `Size` (optional, default 0) the way `RoleSpec::parse` reads its
    /// properties, with `ServiceToken` ignored and `Old` refused.
    fn read(p: Value) -> Result<(String, u32), PropertyErrors> {
        let mut r = Reader::new(&p)?;
        r.ignore("ServiceToken");
        let name = r.required_with("Name", |s| Ok(s.to_owned()));
        let size = r.optional::<Size>("Size").or_default();
        r.refuse("Old", "no longer a property");
        r.finish(|| Some((name?, size?.0)))
    }

    fn errors(p: Value) -> PropertyErrors {
        read(p).expect_err("should be rejected")
    }

    #[test]
    fn properties_must_be_an_object() {
        assert!(errors(json!("Name")).names("ResourceProperties"));
        assert!(errors(json!(null)).names("Name"));
    }

    #[test]
    fn scalars_may_be_numbers_or_booleans_but_not_lists() {
        assert_eq!(read(json!({"Name": true, "Size": 7})), Ok(("true".into(), 7)));
        assert_eq!(read(json!({"Name": 12, "Size": "7"})), Ok(("12".into(), 7)));
        assert_eq!(
            errors(json!({"Name": ["a"]})).to_string(),
            "invalid properties (1 error): Name: must be a string, not a list or object"
        );
        assert!(errors(json!({"Name": "a", "Size": {"n": 1}})).names("Size"));
    }

    #[test]
    fn null_counts_as_absent() {
        assert_eq!(
            read(json!({"Name": "a", "Size": null, "Old": null})),
            Ok(("a".into(), 0))
        );
        assert_eq!(
            errors(json!({"Name": null})).to_string(),
            "invalid properties (1 error): Name: is required"
        );
    }

    #[test]
    fn a_refused_property_is_named_when_present() {
        assert_eq!(
            errors(json!({"Name": "a", "Old": "x"})).to_string(),
            "invalid properties (1 error): Old: no longer a property"
        );
    }

    #[test]
    fn unknown_properties_come_last_with_a_hint() {
        let e = errors(json!({"name": "a", "Size": "x", "ServiceToken": "arn"}));
        assert_eq!(
            e.to_string(),
            "invalid properties (3 errors): Name: is required; Size: \"x\" is not a size; \
             name: unknown property (did you mean Name?)"
        );
    }

    #[test]
    fn an_unknown_property_that_is_not_a_plain_name_is_quoted() {
        // Found by the `properties` fuzz target: an empty key read as ": unknown property".
        for (key, shown) in [
            ("", r#""": unknown property"#),
            ("Bucket Name", r#""Bucket Name": unknown property"#),
            ("a\nb", r#""a\nb": unknown property"#),
        ] {
            let mut p = json!({"Name": "a"});
            p[key] = json!("x");
            let reason = errors(p).to_string();
            assert!(reason.ends_with(shown), "{reason}");
        }
    }
}
