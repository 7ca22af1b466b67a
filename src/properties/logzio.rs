//! The properties that concern Logz.io itself: `LogzioRegion` (which API host) and the `Enabled` / `Compressed`
//! switches of an archive.

use std::fmt;
use std::str::FromStr;

/// The region of the Logz.io account, which decides the API host.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum LogzioRegion {
    #[default]
    Us,
    Eu,
    Uk,
    Ca,
    Au,
}

impl LogzioRegion {
    /// The public API's base URL for this region (Logz.io's API documentation).
    pub fn api_url(self) -> &'static str {
        match self {
            LogzioRegion::Us => "https://api.logz.io",
            LogzioRegion::Eu => "https://api-eu.logz.io",
            LogzioRegion::Uk => "https://api-uk.logz.io",
            LogzioRegion::Ca => "https://api-ca.logz.io",
            LogzioRegion::Au => "https://api-au.logz.io",
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            LogzioRegion::Us => "us",
            LogzioRegion::Eu => "eu",
            LogzioRegion::Uk => "uk",
            LogzioRegion::Ca => "ca",
            LogzioRegion::Au => "au",
        }
    }
}

impl fmt::Display for LogzioRegion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for LogzioRegion {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        match s.to_ascii_lowercase().as_str() {
            "us" => Ok(LogzioRegion::Us),
            "eu" => Ok(LogzioRegion::Eu),
            "uk" => Ok(LogzioRegion::Uk),
            "ca" => Ok(LogzioRegion::Ca),
            "au" => Ok(LogzioRegion::Au),
            _ => Err(format!("{s:?} is not a Logz.io region: one of us, eu, uk, ca, au")),
        }
    }
}

/// A boolean property: `true` or `false` (CloudFormation sends them as strings; any case).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Flag(pub bool);

impl FromStr for Flag {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        match s.to_ascii_lowercase().as_str() {
            "true" => Ok(Flag(true)),
            "false" => Ok(Flag(false)),
            _ => Err(format!("must be true or false, got {s:?}")),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_region_is_one_of_logzios_and_decides_the_api_host() {
        assert_eq!(
            "EU".parse::<LogzioRegion>().map(LogzioRegion::api_url),
            Ok("https://api-eu.logz.io")
        );
        assert_eq!(LogzioRegion::default().api_url(), "https://api.logz.io");
        let msg = "nl".parse::<LogzioRegion>().expect_err("dropped in 2023");
        assert_eq!(msg, r#""nl" is not a Logz.io region: one of us, eu, uk, ca, au"#);
    }

    #[test]
    fn a_flag_is_true_or_false() {
        assert_eq!("True".parse::<Flag>(), Ok(Flag(true)));
        assert_eq!("false".parse::<Flag>(), Ok(Flag(false)));
        assert_eq!("yes".parse::<Flag>(), Err(r#"must be true or false, got "yes""#.into()));
    }
}
