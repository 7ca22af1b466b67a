//! Redaction of external IDs: every one a message quotes, whatever its case, issued by Logz.io or chosen, before
//! the message reaches a Reason or a log line.

/// The characters of an `sts:ExternalId`.
fn external_id_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || "+=,.@:/_-".contains(c)
}

/// `message` with every external ID it quotes replaced by `<external ID>`, compared without regard to case:
/// Logz.io's issued IDs (`logzio:aws:extid:…`) and each of `known` (an ID chosen by hand, or the one Logz.io
/// answered). A known value of under 6 characters is replaced only where it stands alone (not inside a longer
/// word), so that a short ID does not eat the text around it.
pub fn redact(message: &str, known: &[&str]) -> String {
    const MARK: &str = "logzio:aws:extid:";
    const MASK: &str = "<external ID>";
    let lower = message.to_ascii_lowercase();
    // Byte ranges to mask; to_ascii_lowercase keeps every byte offset.
    let mut spans: Vec<(usize, usize)> = Vec::new();
    let mut from = 0;
    while let Some(at) = lower[from..].find(MARK).map(|i| i + from) {
        let tail = &message[at + MARK.len()..];
        let len = tail.find(|c: char| !external_id_char(c)).unwrap_or(tail.len());
        spans.push((at, at + MARK.len() + len));
        from = at + MARK.len() + len;
    }
    for k in known.iter().map(|k| k.trim()).filter(|k| !k.is_empty()) {
        let needle = k.to_ascii_lowercase();
        let alone = needle.len() < 6;
        let mut from = 0;
        while let Some(at) = lower[from..].find(&needle).map(|i| i + from) {
            let end = at + needle.len();
            let before = message[..at].chars().next_back().is_some_and(external_id_char);
            let after = message[end..].chars().next().is_some_and(external_id_char);
            if !alone || !(before || after) {
                spans.push((at, end));
            }
            from = end;
        }
    }
    spans.sort_unstable();
    let mut out = String::with_capacity(message.len());
    let mut done = 0;
    for (start, end) in spans {
        if end <= done {
            continue;
        }
        let start = start.max(done);
        out.push_str(&message[done..start]);
        if !out.ends_with(MASK) {
            out.push_str(MASK);
        }
        done = end;
    }
    out.push_str(&message[done..]);
    out
}

#[cfg(test)]
mod tests {
    use super::redact;

    #[test]
    fn an_issued_id_is_redacted_in_any_case() {
        assert_eq!(
            redact("external ID logzio:aws:extid:s3cr3t does not match", &[]),
            "external ID <external ID> does not match"
        );
        assert_eq!(
            redact("ID LOGZIO:AWS:EXTID:S3CR3T and (Logzio:Aws:ExtId:abc)", &[]),
            "ID <external ID> and (<external ID>)"
        );
    }

    #[test]
    fn a_chosen_id_is_redacted_in_any_case_wherever_it_is_quoted() {
        let known = ["Acme-Archive-2024"];
        assert_eq!(
            redact("role trusts acme-archive-2024, not ACME-ARCHIVE-2024x", &known),
            "role trusts <external ID>, not <external ID>x"
        );
        // Nothing to redact: the text is unchanged.
        assert_eq!(redact("no secret here", &known), "no secret here");
    }

    #[test]
    fn a_short_chosen_id_is_redacted_only_where_it_stands_alone() {
        assert_eq!(
            redact("id io refused by Logz.io", &["io"]),
            "id <external ID> refused by Logz.io"
        );
    }

    #[test]
    fn overlapping_ids_leave_no_part_of_either() {
        let out = redact("x logzio:aws:extid:abcdef y", &["extid:abcdef", "abc"]);
        assert_eq!(out, "x <external ID> y");
    }
}
