//! The answer's PUT and redelivery: the ResponseURL's failures, what the Lambda runtime is told, and a request served before.

use super::*;

#[tokio::test]
async fn response_url_5xx_and_429_are_retried_until_accepted() {
    let s = MockServer::start().await;
    Mock::given(method("PUT"))
        .respond_with(ResponseTemplate::new(503))
        .up_to_n_times(2)
        .with_priority(1)
        .mount(&s)
        .await;
    Mock::given(method("PUT"))
        .respond_with(ResponseTemplate::new(429))
        .up_to_n_times(1)
        .with_priority(2)
        .mount(&s)
        .await;
    Mock::given(method("PUT"))
        .respond_with(ResponseTemplate::new(200))
        .with_priority(3)
        .mount(&s)
        .await;
    run(&handler(), event("Create", "ok", &s.uri()), soon(20))
        .await
        .expect("delivered");
    let b = bodies(&s).await;
    assert_eq!(b.len(), 4);
    assert!(b.iter().all(|x| x == &b[0]), "every attempt sends the same answer");
}

#[tokio::test]
async fn response_url_403_is_final_not_retried_and_not_redelivered() {
    let s = cfn(403).await;
    let h = handler();
    let e = event("Create", "ok", &s.uri());
    let served = h.handle_payload(e.clone(), soon(20)).await;
    let Delivery::Refused(err) = &served.delivery else {
        panic!("{:?}", served.delivery)
    };
    assert!(!err.to_string().contains("secret"), "the URL's query leaked: {err}");
    assert!(
        served.to_runtime().is_ok(),
        "refused for good: a redelivery must not run the work again"
    );
    assert_eq!(bodies(&s).await.len(), 1);
    // Delivered again anyway (Lambda's queue is at-least-once): not run, not answered again.
    assert!(matches!(
        h.handle_payload(e, soon(20)).await.delivery,
        Delivery::AlreadyAnswered
    ));
    assert_eq!((h.resource_runs(), bodies(&s).await.len()), (1, 1));
}

#[tokio::test]
async fn an_invalid_response_url_is_refused_for_good_with_the_work_run_once() {
    let h = handler();
    let e = event("Create", "ok", "not a url");
    let served = h.handle_payload(e.clone(), soon(20)).await;
    assert!(
        matches!(
            served.delivery,
            Delivery::Refused(logzio_role::cfn::sender::SendError::BadUrl)
        ),
        "{:?}",
        served.delivery
    );
    assert!(served.to_runtime().is_ok(), "no redelivery can mend the URL");
    assert!(matches!(
        h.handle_payload(e, soon(20)).await.delivery,
        Delivery::AlreadyAnswered
    ));
    assert_eq!(h.resource_runs(), 1);
}

#[tokio::test]
async fn unreachable_response_url_gives_up_at_the_deadline() {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .expect("bind")
        .local_addr()
        .expect("addr")
        .port();
    let deadline = Instant::now() + Duration::from_millis(1500);
    let err = run(
        &handler(),
        event("Delete", "ok", &format!("http://127.0.0.1:{port}")),
        deadline,
    )
    .await
    .expect_err("cannot deliver");
    assert!(
        Instant::now() <= deadline + Duration::from_millis(200),
        "kept trying past the deadline"
    );
    let msg = err.to_string();
    assert!(msg.contains("could not be reached"), "{msg}");
    let diagnostic = lambda_runtime::Diagnostic::from(err);
    assert_eq!(
        diagnostic.error_type, "ResponseNotDelivered",
        "the one error Lambda redelivers for"
    );
    assert!(!msg.contains("secret"), "{msg}");
}

#[tokio::test]
async fn a_delivered_request_delivered_again_runs_no_work_and_sends_no_second_answer() {
    let s = cfn(200).await;
    let h = handler();
    let e = event("Create", "ok", &s.uri());
    run(&h, e.clone(), soon(10)).await.expect("delivered");
    let again = h.handle_payload(e, soon(10)).await;
    assert!(
        matches!(again.delivery, Delivery::AlreadyAnswered),
        "{:?}",
        again.delivery
    );
    assert!(again.to_runtime().is_ok());
    assert_eq!((h.resource_runs(), bodies(&s).await.len()), (1, 1));
}

#[tokio::test]
async fn a_request_served_before_and_delivered_with_another_response_url_gets_the_same_answer_there() {
    // The same request (RequestId and logical id) arrives again with a new pre-signed ResponseURL: that URL
    // has had no answer, so it gets the remembered body; the work does not run again, and the first URL gets
    // nothing more.
    let (first_url, second_url) = (cfn(200).await, cfn(200).await);
    let h = handler();
    let e = event("Create", "ok", &first_url.uri());
    run(&h, e.clone(), soon(10)).await.expect("delivered");
    let mut moved = e.clone();
    moved["ResponseURL"] = json!(format!("{}/cfn/other?X-Amz-Signature=s", second_url.uri()));
    let again = h.handle_payload(moved.clone(), soon(10)).await;
    assert!(
        matches!(again.delivery, Delivery::Delivered { .. }),
        "{:?}",
        again.delivery
    );
    assert_eq!(bodies(&second_url).await, bodies(&first_url).await, "the same answer");
    assert_eq!(h.resource_runs(), 1, "the work ran once");
    // Each URL has had its answer now: neither gets a second one.
    for e in [e, moved] {
        assert!(matches!(
            h.handle_payload(e, soon(10)).await.delivery,
            Delivery::AlreadyAnswered
        ));
    }
    assert_eq!(
        (bodies(&first_url).await.len(), bodies(&second_url).await.len()),
        (1, 1)
    );
}

#[tokio::test]
async fn an_answer_not_delivered_is_redelivered_by_lambda_and_sent_again_without_running_the_work_again() {
    // The ResponseURL fails (503) until the deadline: the runtime gets the error, so Lambda delivers the event
    // again; by then the URL works. The warm process sends the same answer, and the work does not run twice.
    let s = MockServer::start().await;
    Mock::given(method("PUT"))
        .respond_with(ResponseTemplate::new(503))
        .up_to_n_times(3)
        .with_priority(1)
        .mount(&s)
        .await;
    Mock::given(method("PUT"))
        .respond_with(ResponseTemplate::new(200))
        .with_priority(2)
        .mount(&s)
        .await;
    let h = handler();
    let e = event("Create", "ok", &s.uri());
    let first = h
        .handle_payload(e.clone(), Instant::now() + Duration::from_millis(900))
        .await;
    let tries = bodies(&s).await.len();
    assert!(
        matches!(first.delivery, Delivery::NotDelivered(_)),
        "{:?}",
        first.delivery
    );
    assert!(
        first.to_runtime().is_err(),
        "only a transient failure is an error to the runtime"
    );
    let second = h.handle_payload(e.clone(), soon(10)).await;
    assert!(
        matches!(second.delivery, Delivery::Delivered { .. }),
        "{:?}",
        second.delivery
    );
    let b = bodies(&s).await;
    assert!(b[tries..].iter().all(|x| x == &b[0]), "the same answer");
    assert_eq!(h.resource_runs(), 1, "the work ran once");
    let third = h.handle_payload(e, soon(10)).await;
    assert!(matches!(third.delivery, Delivery::AlreadyAnswered));
    assert_eq!(bodies(&s).await.len(), b.len(), "no answer after the delivered one");
}
