//! A new cluster state published to a running server changes its answers at once, over UDP (past
//! the per-thread cache of encoded answers) and TCP; an unsynced state turns NXDOMAIN into
//! SERVFAIL.

mod common;

use std::net::IpAddr;
use std::path::Path;

use hickory_proto::op::ResponseCode;
use hickory_proto::rr::RecordType;

use cairn::cluster::model::ServiceKind;
use common::{exchange, fixture_state, query, render_all, TRANSPORTS};

const COREFILE: &str = ".:0 {\n bind 127.0.0.1\n kubernetes cluster.local in-addr.arpa\n}\n";

#[test]
fn published_changes_are_answered_immediately() {
    let config = cairn::config::parse_corefile(COREFILE, Path::new("Corefile"), &|_: &str| None)
        .expect("Corefile parses");
    let mut state = fixture_state();
    let server = cairn::run::start(config, state.clone()).expect("server starts");
    let addr = server.local_addrs()[0];
    let ask = |name: &str, t| {
        exchange(addr, t, &query(name, RecordType::A, Some(1232))).expect("an answer")
    };

    // Warm every worker's cache with the old answer.
    for _ in 0..20 {
        for t in TRANSPORTS {
            let m = ask("svc1.testns.svc.cluster.local.", t);
            assert_eq!(
                render_all(&m.answers),
                ["svc1.testns.svc.cluster.local. 5 IN A 10.0.0.1"]
            );
        }
    }

    let key = ("testns".to_string(), "svc1".to_string());
    let svc = state
        .services
        .get_mut(&key)
        .expect("fixture has testns/svc1");
    svc.kind = ServiceKind::ClusterIp(vec!["10.0.0.99".parse::<IpAddr>().unwrap()]);
    state
        .services
        .remove(&("testns".to_string(), "svcempty".to_string()))
        .expect("fixture has testns/svcempty");
    server.publish(&state, 2, true);

    for _ in 0..20 {
        for t in TRANSPORTS {
            let m = ask("svc1.testns.svc.cluster.local.", t);
            assert_eq!(
                render_all(&m.answers),
                ["svc1.testns.svc.cluster.local. 5 IN A 10.0.0.99"],
                "{t:?} answer after publish"
            );
            let m = ask("svcempty.testns.svc.cluster.local.", t);
            assert_eq!(m.metadata.response_code, ResponseCode::NXDomain);
        }
    }

    server.publish(&state, 3, false);
    for t in TRANSPORTS {
        let m = ask("svcempty.testns.svc.cluster.local.", t);
        assert_eq!(
            m.metadata.response_code,
            ResponseCode::ServFail,
            "{t:?}: before sync a miss is not a proof of absence"
        );
        let m = ask("svc1.testns.svc.cluster.local.", t);
        assert_eq!(m.metadata.response_code, ResponseCode::NoError);
    }
}
