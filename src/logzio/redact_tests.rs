//! [`super::redact`]: every external ID a message quotes, whatever its case, issued or chosen.

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
