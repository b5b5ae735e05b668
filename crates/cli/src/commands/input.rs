//! Parsing a command's own values (dates on flags, JSON lines in files) into
//! one-line errors that name the flag or line, without a parser's internals.

/// A `YYYY-MM-DD` day given on `flag`.
pub fn day(flag: &str, raw: &str) -> anyhow::Result<jiff::civil::Date> {
    raw.parse().map_err(|_| anyhow::anyhow!("{flag} {raw:?} is not a date: use YYYY-MM-DD, like 2026-09-14"))
}

/// What is wrong with one line of an NDJSON file, at its column only: the
/// line number is the file's (serde_json counts from the line's own start).
pub fn json_line_error(error: &serde_json::Error) -> String {
    let text = error.to_string();
    let own = format!(" at line {} column {}", error.line(), error.column());
    let what = text.strip_suffix(&own).unwrap_or(&text);
    if error.column() == 0 { what.to_owned() } else { format!("column {}: {what}", error.column()) }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_bad_day_names_its_flag_and_the_format_only() {
        let error = day("--from", "2026-13-01").unwrap_err().to_string();
        assert_eq!(error, "--from \"2026-13-01\" is not a date: use YYYY-MM-DD, like 2026-09-14");
        assert_eq!(day("--to", "2026-02-28").unwrap().to_string(), "2026-02-28");
    }

    #[test]
    fn a_json_line_error_has_one_line_number_the_files() {
        let error = serde_json::from_str::<serde_json::Value>("{\"title\": }").unwrap_err();
        assert_eq!(json_line_error(&error), "column 11: expected value");
    }
}
