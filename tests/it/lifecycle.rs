//! The whole handler against moto's IAM server and a local ResponseURL: what CloudFormation receives, and what
//! IAM holds afterwards.

use crate::support::{World, event, tags};
use logzio_role::limits::Limits;
use serde_json::{Value, json};

const STACK: &str =
    "arn:aws:cloudformation:us-east-1:123456789012:stack/logs-archive/5b6a4d10-8c3e-11ef-a6b1-0a8d2c1e4f3b";

fn actions(answer: &Value) -> Vec<String> {
    answer["_Actions"]
        .as_array()
        .expect("actions")
        .iter()
        .map(|a| a.as_str().expect("str").to_owned())
        .collect()
}

/// The write calls IAM did not refuse (the typed record's verdict, src/iam/calls.rs).
fn writes(answer: &Value) -> Vec<String> {
    answer["_Writes"]
        .as_array()
        .expect("writes")
        .iter()
        .map(|a| a.as_str().expect("str").to_owned())
        .collect()
}

fn create(props: Value) -> Value {
    let mut e = event("create.json");
    merge(&mut e["ResourceProperties"], props);
    e
}

fn merge(target: &mut Value, props: Value) {
    for (k, v) in props.as_object().expect("object") {
        if v.is_null() {
            target.as_object_mut().expect("object").remove(k);
        } else {
            target[k] = v.clone();
        }
    }
}

/// An Update of `physical_id` from `old` properties to `new`.
fn update(physical_id: &str, old: &Value, new: Value) -> Value {
    let mut e = event("update.json");
    e["PhysicalResourceId"] = json!(physical_id);
    e["OldResourceProperties"] = old.clone();
    let mut props = event("create.json")["ResourceProperties"].clone();
    merge(&mut props, new);
    e["ResourceProperties"] = props;
    e
}

fn delete(physical_id: &str) -> Value {
    let mut e = event("delete.json");
    e["PhysicalResourceId"] = json!(physical_id);
    e
}

fn id(answer: &Value) -> String {
    answer["PhysicalResourceId"].as_str().expect("id").to_owned()
}

fn assert_success(answer: &Value) {
    assert_eq!(answer["Status"], "SUCCESS", "answer: {answer}");
}

fn assert_failed(answer: &Value, reason_has: &str) {
    assert_eq!(answer["Status"], "FAILED", "answer: {answer}");
    let reason = answer["Reason"].as_str().expect("reason");
    assert!(reason.contains(reason_has), "reason {reason:?} lacks {reason_has:?}");
}

#[tokio::test]
async fn create_makes_the_role_logzio_needs_and_answers_its_attributes() {
    let w = World::new();
    let a = w.answer(create(json!({}))).await;
    assert_success(&a);
    let name = id(&a);
    assert!(name.starts_with("logs-archive-ArchiveRole-"), "{name}");
    assert_eq!(a["Data"]["RoleName"], json!(name));
    assert_eq!(
        a["Data"]["Arn"],
        json!(format!("arn:aws:iam::{}:role/logzio/{name}", w.account))
    );
    assert!(a["Data"]["RoleId"].as_str().is_some_and(|s| !s.is_empty()));
    assert!(
        !a.to_string().contains("example1234"),
        "the ExternalId must not be in the answer"
    );
    assert_eq!(writes(&a), ["CreateRole", "PutRolePolicy"]);

    let role = w.role(&name).await.expect("role exists");
    let trust = logzio_role::iam::decode_policy(role.assume_role_policy_document().expect("trust"));
    assert_eq!(
        trust,
        json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow",
            "Principal": {"AWS": "arn:aws:iam::406095609952:root"}, "Action": "sts:AssumeRole",
            "Condition": {"StringEquals": {"sts:ExternalId": "logzio:aws:extid:example1234"}}}]})
    );
    assert_eq!(role.path(), "/logzio/", "the deployment's path prefix");
    assert_eq!(role.max_session_duration(), Some(3600));
    assert!(role.description().expect("description").contains("acme-logzio-archive"));
    assert_eq!(
        tags(&role),
        [
            ("logzio-role:logical-id".to_owned(), "ArchiveRole".to_owned()),
            ("logzio-role:stack-id".to_owned(), STACK.to_owned())
        ]
    );
    assert_eq!(w.inline_policy_names(&name).await, ["LogzioArchiveAccess"]);
    let policy = w.inline_policy(&name, "LogzioArchiveAccess").await.expect("policy");
    assert_eq!(
        policy,
        json!({"Version": "2012-10-17", "Statement": [
            {"Sid": "Bucket", "Effect": "Allow", "Action": ["s3:ListBucket", "s3:GetBucketLocation"],
             "Resource": "arn:aws:s3:::acme-logzio-archive",
             "Condition": {"StringEquals": {"aws:ResourceAccount": "123456789012"}}},
            {"Sid": "Objects", "Effect": "Allow", "Action": ["s3:GetObject", "s3:PutObject"],
             "Resource": "arn:aws:s3:::acme-logzio-archive/*",
             "Condition": {"StringEquals": {"aws:ResourceAccount": "123456789012"}}}]}),
        "the bucket bound to the stack's account (moto accepts the document IAM would)"
    );
}

#[tokio::test]
async fn create_with_every_property_set_under_a_deployment_with_a_boundary() {
    let boundary_arn = "arn:aws:iam::123456789012:policy/LogzioArchiveBoundary";
    let limits = Limits::from_vars(|v| match v {
        "LOGZIO_ROLE_BOUNDARY_ARN" => Some(boundary_arn.into()),
        "LOGZIO_TRUSTED_ACCOUNT_IDS" => Some("406095609952,111122223333".into()),
        "LOGZIO_ALLOWED_BUCKETS" => Some("acme-*".into()),
        _ => None,
    })
    .expect("valid settings");
    let w = World::with_limits(limits);
    let kms = "arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab";
    let a = w
        .answer(create(
            json!({"RoleName": "LogzioArchive", "Path": "/logzio/archive/", "KeyPrefix": "logs/",
            "KmsKeyArn": kms, "LogzioAccountId": 111122223333u64, "Description": "Logz.io archive",
            "MaxSessionDuration": 7200, "PolicyName": "Archive",
            "Tags": [{"Key": "team", "Value": "obs"}], "ServiceTimeout": "1020"}),
        ))
        .await;
    assert_success(&a);
    assert_eq!(id(&a), "LogzioArchive");
    let role = w.role("LogzioArchive").await.expect("role");
    assert_eq!(role.path(), "/logzio/archive/");
    assert_eq!(role.description(), Some("Logz.io archive"));
    assert_eq!(role.max_session_duration(), Some(7200));
    assert_eq!(
        role.permissions_boundary().and_then(|b| b.permissions_boundary_arn()),
        Some(boundary_arn),
        "CreateRole sends the deployment's boundary"
    );
    assert!(tags(&role).contains(&("team".into(), "obs".into())));
    let trust = logzio_role::iam::decode_policy(role.assume_role_policy_document().expect("trust"));
    assert_eq!(
        trust["Statement"][0]["Principal"]["AWS"],
        "arn:aws:iam::111122223333:root"
    );
    let policy = w.inline_policy("LogzioArchive", "Archive").await.expect("policy");
    assert_eq!(
        policy["Statement"][1]["Resource"],
        "arn:aws:s3:::acme-logzio-archive/logs/*"
    );
    assert_eq!(policy["Statement"][2]["Resource"], kms);
}

#[tokio::test]
async fn redelivered_create_converges_on_its_own_role_without_writes() {
    let w = World::new();
    let first = w.answer(create(json!({}))).await;
    let again = w.answer(create(json!({}))).await;
    assert_success(&again);
    assert_eq!(id(&first), id(&again));
    assert_eq!(again["Data"], first["Data"]);
    assert!(writes(&again).is_empty(), "{:?}", actions(&again));
    assert_eq!(
        actions(&again)[0],
        "CreateRole:EntityAlreadyExists",
        "CreateRole goes first and is refused"
    );
    assert_eq!(w.role_names().await, [id(&first)]);
}

#[tokio::test]
async fn update_in_place_rewrites_what_changed_and_keeps_the_role() {
    let w = World::new();
    let c = w.answer(create(json!({}))).await;
    let name = id(&c);
    let old = create(json!({}))["ResourceProperties"].clone();
    let a = w
        .answer(update(
            &name,
            &old,
            json!({"ExternalId": "logzio:aws:extid:rotated", "BucketName": "acme-other",
            "KeyPrefix": "p/", "MaxSessionDuration": "7200", "Description": "d",
            "Tags": [{"Key": "team", "Value": "obs"}]}),
        ))
        .await;
    assert_success(&a);
    assert_eq!(id(&a), name);
    assert_eq!(a["Data"]["RoleId"], c["Data"]["RoleId"], "same role, not a new one");
    assert_eq!(
        writes(&a),
        ["UpdateAssumeRolePolicy", "UpdateRole", "TagRole", "PutRolePolicy"]
    );
    let role = w.role(&name).await.expect("role");
    let trust = logzio_role::iam::decode_policy(role.assume_role_policy_document().expect("trust"));
    assert_eq!(
        trust["Statement"][0]["Condition"]["StringEquals"]["sts:ExternalId"],
        "logzio:aws:extid:rotated"
    );
    assert_eq!(role.max_session_duration(), Some(7200));
    assert_eq!(role.description(), Some("d"));
    assert!(tags(&role).contains(&("team".into(), "obs".into())));
    let policy = w.inline_policy(&name, "LogzioArchiveAccess").await.expect("policy");
    assert_eq!(policy["Statement"][0]["Resource"], "arn:aws:s3:::acme-other");
    assert_eq!(policy["Statement"][1]["Resource"], "arn:aws:s3:::acme-other/p/*");
}

#[tokio::test]
async fn renamed_policy_replaces_the_old_inline_policy_and_tags_are_removed() {
    let w = World::new();
    let name = id(&w.answer(create(json!({"Tags": [{"Key": "a", "Value": "1"}]}))).await);
    let old = json!({});
    let a = w.answer(update(&name, &old, json!({"PolicyName": "Renamed"}))).await;
    assert_success(&a);
    assert_eq!(w.inline_policy_names(&name).await, ["Renamed"]);
    let role = w.role(&name).await.expect("role");
    assert!(!tags(&role).iter().any(|(k, _)| k == "a"), "tag a removed");
}

#[tokio::test]
async fn new_path_without_role_name_replaces_the_role_with_a_new_generated_name() {
    let w = World::new();
    let first = id(&w.answer(create(json!({}))).await);
    let u = w
        .answer(update(&first, &json!({}), json!({"Path": "/logzio/new/"})))
        .await;
    assert_success(&u);
    let second = id(&u);
    assert_ne!(first, second);
    assert_eq!(w.role(&second).await.expect("new role").path(), "/logzio/new/");
    assert_eq!(
        w.role(&first)
            .await
            .expect("old role kept for CloudFormation's Delete")
            .path(),
        "/logzio/"
    );

    // Rollback to the old path lands on the old role again, not on a third one.
    let r = w
        .answer(update(&second, &json!({"Path": "/logzio/new/"}), json!({})))
        .await;
    assert_eq!(id(&r), first);
    assert!(writes(&r).is_empty());
}

#[tokio::test]
async fn removing_role_name_is_a_replacement_by_the_generated_role() {
    // Like AWS::IAM::Role: a RoleName change, its removal included, replaces the role (and so the rollback of an
    // Update that added RoleName lands on the generated role again).
    let w = World::new();
    let c = w.answer(create(json!({"RoleName": "Named"}))).await;
    let u = w
        .answer(update(
            "Named",
            &json!({"RoleName": "Named"}),
            json!({"KeyPrefix": "x/"}),
        ))
        .await;
    assert_success(&u);
    assert_ne!(id(&u), id(&c));
    assert!(id(&u).starts_with("logs-archive-ArchiveRole-"), "{}", id(&u));
    assert!(
        w.role("Named").await.is_some(),
        "CloudFormation's Delete removes the old one"
    );
}

#[tokio::test]
async fn path_change_with_a_fixed_role_name_fails_and_names_path() {
    let w = World::new();
    w.answer(create(json!({"RoleName": "Fixed"}))).await;
    let u = w
        .answer(update(
            "Fixed",
            &json!({"RoleName": "Fixed"}),
            json!({"RoleName": "Fixed", "Path": "/logzio/x/"}),
        ))
        .await;
    assert_failed(&u, "Path:");
    assert_eq!(id(&u), "Fixed");
    assert_eq!(w.role("Fixed").await.expect("role").path(), "/logzio/");
}

#[tokio::test]
async fn drift_is_repaired_by_an_update() {
    let w = World::new();
    let name = id(&w.answer(create(json!({}))).await);
    w.iam
        .update_assume_role_policy()
        .role_name(&name)
        .policy_document(r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::999999999999:root"},"Action":"sts:AssumeRole"}]}"#)
        .send()
        .await
        .expect("drift trust");
    w.iam
        .delete_role_policy()
        .role_name(&name)
        .policy_name("LogzioArchiveAccess")
        .send()
        .await
        .expect("drift policy");
    w.iam
        .put_role_policy()
        .role_name(&name)
        .policy_name("AddedByHand")
        .policy_document(r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:*","Resource":"*"}]}"#)
        .send()
        .await
        .expect("extra policy");
    let a = w.answer(update(&name, &json!({}), json!({}))).await;
    assert_success(&a);
    assert_eq!(
        writes(&a),
        ["UpdateAssumeRolePolicy", "PutRolePolicy", "DeleteRolePolicy"]
    );
    let role = w.role(&name).await.expect("role");
    let trust = logzio_role::iam::decode_policy(role.assume_role_policy_document().expect("trust"));
    assert_eq!(
        trust["Statement"][0]["Principal"]["AWS"],
        "arn:aws:iam::406095609952:root"
    );
    assert_eq!(w.inline_policy_names(&name).await, ["LogzioArchiveAccess"]);
}

#[tokio::test]
async fn delete_sweeps_what_others_attached_and_names_an_instance_profile_it_may_not_change() {
    let w = World::new();
    let name = id(&w.answer(create(json!({}))).await);
    let arn = w.managed_policy("Managed").await;
    w.iam
        .attach_role_policy()
        .role_name(&name)
        .policy_arn(arn)
        .send()
        .await
        .expect("attach");
    w.iam
        .create_instance_profile()
        .instance_profile_name("Profile")
        .send()
        .await
        .expect("profile");
    w.iam
        .add_role_to_instance_profile()
        .instance_profile_name("Profile")
        .role_name(&name)
        .send()
        .await
        .expect("add to profile");
    let d = w.answer(delete(&name)).await;
    assert_failed(&d, "is in instance profile(s) Profile");
    assert!(
        !actions(&d)
            .iter()
            .any(|a| a.starts_with("RemoveRoleFromInstanceProfile"))
    );
    assert!(w.role(&name).await.is_some(), "{:?}", actions(&d));
    // Once someone with the right takes it out of the profile, CloudFormation's retried Delete succeeds.
    w.iam
        .remove_role_from_instance_profile()
        .instance_profile_name("Profile")
        .role_name(&name)
        .send()
        .await
        .expect("remove from profile");
    let d = w.answer(delete(&name)).await;
    assert_success(&d);
    assert_eq!(id(&d), name);
    assert!(w.role(&name).await.is_none());
    // A second Delete (redelivery) finds nothing and succeeds.
    assert_success(&w.answer(delete(&name)).await);
}

async fn make_foreign_role(w: &World, name: &str) {
    w.iam
        .create_role()
        .role_name(name)
        .assume_role_policy_document(r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"ec2.amazonaws.com"},"Action":"sts:AssumeRole"}]}"#)
        .send()
        .await
        .expect("foreign role");
}

#[tokio::test]
async fn create_over_a_foreign_role_fails_and_leaves_it_untouched_and_the_rollback_delete_too() {
    let w = World::new();
    make_foreign_role(&w, "ProdAdmin").await;
    let before = w.role("ProdAdmin").await.expect("role");
    let c = w.answer(create(json!({"RoleName": "ProdAdmin"}))).await;
    assert_failed(
        &c,
        "RoleName: role ProdAdmin already exists and is not managed by this resource",
    );
    assert_eq!(id(&c), "ProdAdmin");
    assert!(writes(&c).is_empty());
    let d = w.answer(delete("ProdAdmin")).await;
    assert_success(&d);
    assert!(writes(&d).is_empty());
    let after = w.role("ProdAdmin").await.expect("still there");
    assert_eq!(
        after.assume_role_policy_document(),
        before.assume_role_policy_document()
    );
    assert!(w.inline_policy_names("ProdAdmin").await.is_empty());
}

#[tokio::test]
async fn update_of_a_foreign_role_fails_untouched() {
    let w = World::new();
    make_foreign_role(&w, "Someone").await;
    let before = w.role("Someone").await.expect("role");
    let u = w
        .answer(update("Someone", &json!({}), json!({"RoleName": "Someone"})))
        .await;
    assert_failed(&u, "not managed by this resource");
    assert!(writes(&u).is_empty());
    let u = w.answer(update("Someone", &json!({}), json!({}))).await;
    assert_failed(&u, "not managed by this resource");
    assert!(w.inline_policy_names("Someone").await.is_empty());
    assert_eq!(
        w.role("Someone").await.expect("role"),
        before,
        "the foreign role changed"
    );
}

#[tokio::test]
async fn a_role_of_another_resource_in_the_same_stack_is_foreign() {
    let w = World::new();
    assert_success(&w.answer(create(json!({"RoleName": "Shared"}))).await);
    let mut other = create(json!({"RoleName": "Shared"}));
    other["LogicalResourceId"] = json!("OtherRole");
    assert_failed(&w.answer(other.clone()).await, "not managed by this resource");
    let mut d = delete("Shared");
    d["LogicalResourceId"] = json!("OtherRole");
    assert_success(&w.answer(d).await);
    assert!(w.role("Shared").await.is_some());
}

#[tokio::test]
async fn create_failing_after_the_role_exists_leaves_no_orphan() {
    let w = World::new();
    w.fail_action("PutRolePolicy");
    let c = w.answer(create(json!({}))).await;
    assert_failed(&c, "iam:PutRolePolicy on role logs-archive-ArchiveRole-");
    assert!(actions(&c).iter().any(|a| a == "DeleteRole"), "{:?}", actions(&c));
    assert!(
        w.role_names().await.is_empty(),
        "orphan left: {:?}",
        w.role_names().await
    );
    // And the rollback Delete of the answered id succeeds.
    w.heal();
    assert_success(&w.answer(delete(&id(&c))).await);
}

#[tokio::test]
async fn iam_errors_carry_their_code_and_message_into_the_reason() {
    // An IAM that denies everything, speaking IAM's wire protocol.
    let iam = wiremock::MockServer::start().await;
    wiremock::Mock::given(wiremock::matchers::method("POST"))
        .respond_with(
            wiremock::ResponseTemplate::new(403).set_body_string(crate::support::iam_error_xml(
                "AccessDenied",
                "User: arn:aws:sts::123456789012:assumed-role/deployer is not authorized to perform: iam:CreateRole",
            )),
        )
        .mount(&iam)
        .await;
    let w = World::with_endpoint(&iam.uri());
    let c = w.answer(create(json!({}))).await;
    assert_failed(&c, "iam:CreateRole on role logs-archive-ArchiveRole-");
    assert_failed(
        &c,
        "AccessDenied: User: arn:aws:sts::123456789012:assumed-role/deployer is not authorized",
    );
    let d = w.answer(delete("SomeRole")).await;
    assert_failed(&d, "AccessDenied");
    // The shipped retry configuration does not retry AccessDenied: one call per event, each refused.
    let sent = iam.received_requests().await.expect("recorded");
    let actions: Vec<String> = sent
        .iter()
        .map(|r| {
            let body = String::from_utf8_lossy(&r.body).into_owned();
            body.split('&')
                .find_map(|kv| kv.strip_prefix("Action="))
                .unwrap_or_default()
                .to_owned()
        })
        .collect();
    assert_eq!(actions, ["CreateRole", "GetRole"], "not retried");
}

#[tokio::test]
async fn iam_that_never_answers_gets_a_timed_out_failure_before_the_deadline() {
    // Accepts connections and never answers: every IAM call hangs.
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let endpoint = format!("http://{}", listener.local_addr().expect("addr"));
    let w = World::with_endpoint(&endpoint);
    let started = std::time::Instant::now();
    let c = w
        .answer_within(create(json!({})), std::time::Duration::from_secs(2))
        .await;
    assert_failed(&c, "timed out");
    assert!(
        started.elapsed() < std::time::Duration::from_secs(2),
        "answered after the deadline"
    );
    // The failure names the role a Create may have made, for the rollback Delete.
    assert!(id(&c).starts_with("logs-archive-ArchiveRole-"));
    drop(listener);
}

#[tokio::test]
async fn changing_only_the_session_length_keeps_the_description() {
    let w = World::new();
    let name = id(&w.answer(create(json!({"Description": "kept"}))).await);
    let a = w
        .answer(update(
            &name,
            &json!({}),
            json!({"Description": "kept", "MaxSessionDuration": 7200}),
        ))
        .await;
    assert_eq!(writes(&a), ["UpdateRole"]);
    let role = w.role(&name).await.expect("role");
    assert_eq!(role.description(), Some("kept"));
    assert_eq!(role.max_session_duration(), Some(7200));
}

#[tokio::test]
async fn iam_throttling_is_retried_by_the_sdk() {
    // GetRole is throttled four times (more than the SDK's default of 3 attempts allows), then answers that the role does not exist: the Delete must succeed.
    let iam = wiremock::MockServer::start().await;
    wiremock::Mock::given(wiremock::matchers::method("POST"))
        .respond_with(
            wiremock::ResponseTemplate::new(400)
                .set_body_string(crate::support::iam_error_xml("Throttling", "Rate exceeded")),
        )
        .up_to_n_times(4)
        .with_priority(1)
        .expect(4)
        .mount(&iam)
        .await;
    wiremock::Mock::given(wiremock::matchers::method("POST"))
        .respond_with(
            wiremock::ResponseTemplate::new(404)
                .set_body_string(crate::support::iam_error_xml("NoSuchEntity", "Role not found")),
        )
        .with_priority(2)
        .expect(1)
        .mount(&iam)
        .await;
    let w = World::with_endpoint(&iam.uri());
    let d = w.answer(delete("Gone")).await;
    assert_success(&d);
    assert_eq!(actions(&d), ["GetRole"], "one logical call, retried inside the SDK");
}

#[tokio::test]
async fn a_replacement_stopped_at_the_deadline_leaves_no_orphan() {
    let w = World::new();
    assert_success(&w.answer(create(json!({"RoleName": "Current"}))).await);
    w.hang_action("PutRolePolicy");
    let u = w
        .answer_within(
            update(
                "Current",
                &json!({"RoleName": "Current"}),
                json!({"RoleName": "Replacement"}),
            ),
            std::time::Duration::from_secs(3),
        )
        .await;
    assert_failed(&u, "timed out");
    assert_eq!(id(&u), "Current");
    assert!(actions(&u).iter().any(|a| a == "CreateRole"), "{:?}", actions(&u));
    assert!(
        w.role("Replacement").await.is_none(),
        "the stopped replacement was left behind"
    );
    assert!(w.role("Current").await.is_some());
}

#[tokio::test]
async fn a_create_stopped_at_the_deadline_names_the_role_for_the_rollback_delete() {
    let w = World::new();
    w.hang_action("PutRolePolicy");
    let c = w
        .answer_within(create(json!({})), std::time::Duration::from_secs(3))
        .await;
    assert_failed(&c, "timed out");
    let name = id(&c);
    assert!(w.role(&name).await.is_some(), "CreateRole went through before the hang");
    w.heal();
    assert_success(&w.answer(delete(&name)).await);
    assert!(
        w.role_names().await.is_empty(),
        "the rollback Delete left {:?}",
        w.role_names().await
    );
}

#[tokio::test]
async fn a_path_change_after_the_role_was_deleted_out_of_band_can_be_reverted() {
    let w = World::new();
    let first = id(&w.answer(create(json!({}))).await);
    w.delete_out_of_band(&first).await;
    let u = w
        .answer(update(&first, &json!({}), json!({"Path": "/logzio/new/"})))
        .await;
    assert_success(&u);
    let second = id(&u);
    assert_ne!(second, first, "a new path is a new role, even when the old one is gone");
    assert_eq!(w.role(&second).await.expect("role").path(), "/logzio/new/");
    // Revert (or roll back) to the old path: lands on the old name again, recreated.
    let r = w
        .answer(update(&second, &json!({"Path": "/logzio/new/"}), json!({})))
        .await;
    assert_success(&r);
    assert_eq!(id(&r), first);
    assert_eq!(w.role(&first).await.expect("role").path(), "/logzio/");
}

#[tokio::test]
async fn the_sample_events_run_in_order_as_cloudformation_sends_them() {
    let w = World::new();
    let c = w.answer(event("create.json")).await;
    assert_success(&c);
    let name = id(&c);
    assert_eq!(
        event("update.json")["PhysicalResourceId"],
        json!(name),
        "sample ids are consistent"
    );

    let u = w.answer(event("update.json")).await;
    assert_success(&u);
    assert_eq!(id(&u), name);

    let r = w.answer(event("update-replace.json")).await;
    assert_success(&r);
    let replacement = id(&r);
    assert_ne!(replacement, name);
    assert_eq!(w.role(&replacement).await.expect("new role").path(), "/logzio/archive/");

    // CloudFormation's cleanup deletes the old role.
    assert_eq!(event("delete.json")["PhysicalResourceId"], json!(name));
    assert_success(&w.answer(event("delete.json")).await);
    assert_eq!(w.role_names().await, [replacement]);

    // A Create with a bad BucketName fails with the id that the sample Delete-after-failed-Create carries.
    let after = event("delete-after-failed-create.json");
    let mut failed = event("create.json");
    failed["LogicalResourceId"] = after["LogicalResourceId"].clone();
    failed["ResourceProperties"] = after["ResourceProperties"].clone();
    let f = w.answer(failed).await;
    assert_failed(&f, "BucketName:");
    assert_eq!(f["PhysicalResourceId"], after["PhysicalResourceId"]);
    let d = w.answer(after).await;
    assert_success(&d);
    assert!(writes(&d).is_empty());
}
