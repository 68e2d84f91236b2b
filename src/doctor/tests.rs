use std::time::Duration;

use super::*;
use crate::status::{ApiStatus, EndpointOrigin, EndpointStatus, Status};
use status::StatusOutcome;

fn endpoint(url: &str, origin: EndpointOrigin) -> EndpointStatus {
    EndpointStatus {
        url: url.into(),
        origin,
        healthy: false,
        active: false,
        last_success_age_seconds: None,
        last_error: None,
        latency_ms: None,
        consecutive_failures: 0,
    }
}

#[tokio::test]
async fn without_an_answering_api_the_endpoints_come_from_cairns_status() {
    let cairn = StatusCheck {
        url: "http://10.96.0.10:8080/status".into(),
        outcome: StatusOutcome::Ok,
        error: None,
        status: Some(Status {
            api: Some(ApiStatus {
                active: None,
                failovers: 0,
                endpoints: vec![
                    endpoint("https://10.96.0.1:443", EndpointOrigin::Configured),
                    endpoint("https://192.168.1.10:6443/", EndpointOrigin::Learned),
                    endpoint("https://192.168.1.11:6443", EndpointOrigin::Learned),
                ],
            }),
            ..Status::default()
        }),
        latency_ms: 1.0,
    };
    let (found, note) = discover(None, None, &[], Some(&cairn), Duration::from_secs(1)).await;
    assert_eq!(
        found,
        [
            (
                "https://192.168.1.10:6443".to_string(),
                AddressOrigin::Status
            ),
            (
                "https://192.168.1.11:6443".to_string(),
                AddressOrigin::Status
            ),
        ]
    );
    assert_eq!(
        note, None,
        "nothing was tried, so there is nothing to explain"
    );
    let (found, _) = discover(None, None, &[], None, Duration::from_secs(1)).await;
    assert!(found.is_empty());
}
