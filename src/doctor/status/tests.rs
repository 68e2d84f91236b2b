use std::net::SocketAddr;
use std::time::Duration;

use axum::routing::get;
use axum::Router;

use super::*;

async fn serve(router: Router) -> SocketAddr {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        let _ = axum::serve(listener, router).await;
    });
    addr
}

#[tokio::test]
async fn reads_the_document_and_treats_a_404_as_not_available() {
    let document = Status {
        version: "0.1.0".into(),
        live: true,
        ..Status::default()
    };
    let body = serde_json::to_string(&document).unwrap();
    let addr = serve(
        Router::new()
            .route("/status", get(move || async move { body }))
            .route("/other", get(|| async { "{}" })),
    )
    .await;
    let t = Duration::from_secs(2);

    let c = fetch(&format!("http://{addr}/status"), t).await;
    assert_eq!(c.outcome, StatusOutcome::Ok, "{c:?}");
    assert_eq!(c.status.as_ref(), Some(&document));

    let c = fetch(&format!("http://{addr}/missing"), t).await;
    assert_eq!(c.outcome, StatusOutcome::NotAvailable, "{c:?}");

    let c = fetch(&format!("http://{addr}/other"), t).await;
    assert_eq!(c.outcome, StatusOutcome::Error, "{c:?}");
}

#[tokio::test]
async fn nothing_listening_is_not_available() {
    let closed = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap()
    };
    let c = fetch(&format!("http://{closed}/status"), Duration::from_secs(2)).await;
    assert_eq!(c.outcome, StatusOutcome::NotAvailable, "{c:?}");
    let c = fetch("not a url", Duration::from_secs(2)).await;
    assert_eq!(c.outcome, StatusOutcome::Error, "{c:?}");
}
