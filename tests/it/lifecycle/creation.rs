//! Create and Delete as IAM (moto) holds the role afterwards: the wire shapes, a redelivery, foreign roles, what others attached, CloudFormation's sample sequence.

use super::*;

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
