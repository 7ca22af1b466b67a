//! `Description` and `MaxSessionDuration`: the role's own settings, within IAM's limits.

use std::str::FromStr;

/// A role description: at most 1000 characters of printable ASCII and Latin-1 (IAM's pattern).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Description(String);

text_newtype!(Description);

impl FromStr for Description {
    type Err = String;

    fn from_str(d: &str) -> Result<Self, String> {
        let n = d.chars().count();
        if n > 1000 {
            return Err(format!("must be at most 1000 characters, got {n}"));
        }
        // IAM's pattern: tab, newline, carriage return, printable ASCII and Latin-1 from U+00A1 to U+00FF.
        if let Some(c) = d
            .chars()
            .find(|c| !matches!(c, '\t' | '\n' | '\r' | '\u{20}'..='\u{7e}' | '\u{a1}'..='\u{ff}'))
        {
            return Err(format!(
                "{c:?} is not allowed: only printable ASCII and Latin-1 characters (IAM description rules)"
            ));
        }
        Ok(Description(d.to_owned()))
    }
}

/// How long a session of the role may last, in seconds: 3600 to 43200, 3600 by default.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MaxSessionDuration(i32);

impl MaxSessionDuration {
    pub fn seconds(self) -> i32 {
        self.0
    }
}

impl Default for MaxSessionDuration {
    fn default() -> Self {
        MaxSessionDuration(3600)
    }
}

impl FromStr for MaxSessionDuration {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        match s.trim().parse::<i64>() {
            Ok(n) if (3600..=43200).contains(&n) => Ok(MaxSessionDuration(n as i32)),
            Ok(n) => Err(format!("must be between 3600 and 43200 seconds, got {n}")),
            Err(_) => Err(format!("{s:?} is not a whole number of seconds (3600 to 43200)")),
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::properties::test_support::*;
    use serde_json::json;

    #[test]
    fn description_is_printable_ascii_or_latin1() {
        rejects("Description", json!("logs \u{1F4E6}"));
        rejects("Description", json!("bell \u{7}"));
        accepts("Description", json!("Archivo de registros: año\tñ"));
    }

    #[test]
    fn description_is_at_most_1000_characters() {
        rejects("Description", json!("d".repeat(1001)));
        assert_eq!(
            accepts("Description", json!("d".repeat(1000)))
                .description_or_default()
                .len(),
            1000
        );
    }

    #[test]
    fn max_session_duration_is_an_integer_from_3600_to_43200() {
        rejects("MaxSessionDuration", json!("3599"));
        rejects("MaxSessionDuration", json!(43201));
        rejects("MaxSessionDuration", json!("1h"));
        rejects("MaxSessionDuration", json!(3600.5));
        assert_eq!(
            accepts("MaxSessionDuration", json!("7200"))
                .max_session_duration
                .seconds(),
            7200
        );
        assert_eq!(
            accepts("MaxSessionDuration", json!(43200))
                .max_session_duration
                .seconds(),
            43200
        );
    }
}
