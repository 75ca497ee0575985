//! Durations on the command line: `90s`, `30m`, `12h`, `7d`, `2w`; a bare number is seconds.

/// Parses a duration into seconds, for clap's `value_parser`.
pub fn parse_seconds(text: &str) -> Result<u64, String> {
    let text = text.trim();
    let split = text
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(text.len());
    let (number, unit) = text.split_at(split);
    let invalid = || format!("`{text}` is not a duration: use e.g. 90s, 30m, 12h, 7d or 2w");
    let number: u64 = number.parse().map_err(|_| invalid())?;
    let unit_seconds = match unit {
        "" | "s" => 1,
        "m" => 60,
        "h" => 3600,
        "d" => 86_400,
        "w" => 7 * 86_400,
        _ => return Err(invalid()),
    };
    match number.checked_mul(unit_seconds) {
        Some(0) => Err(format!("`{text}`: a duration must be longer than zero")),
        Some(seconds) => Ok(seconds),
        None => Err(invalid()),
    }
}

#[cfg(test)]
mod tests {
    use super::parse_seconds;

    #[test]
    fn units() {
        assert_eq!(parse_seconds("90"), Ok(90));
        assert_eq!(parse_seconds("30m"), Ok(1800));
        assert_eq!(parse_seconds("12h"), Ok(43_200));
        assert_eq!(parse_seconds("7d"), Ok(604_800));
        assert_eq!(parse_seconds("2w"), Ok(1_209_600));
        for bad in ["", "d", "7x", "1.5h", "-1d", "0d", "99999999999999999999w"] {
            assert!(parse_seconds(bad).is_err(), "{bad}");
        }
    }
}
