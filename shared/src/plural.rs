//! "1 entry", "2 entries": counts in words people read, never "1 entries".

/// `n` with the word that fits it.
pub fn count(n: u64, one: &str, many: &str) -> String {
    if n == 1 {
        format!("1 {one}")
    } else {
        format!("{n} {many}")
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn one_is_singular_and_every_other_count_plural() {
        assert_eq!(super::count(1, "minute", "minutes"), "1 minute");
        assert_eq!(super::count(0, "entry", "entries"), "0 entries");
        assert_eq!(super::count(20, "minute", "minutes"), "20 minutes");
    }
}
