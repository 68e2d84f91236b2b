use super::*;
use crate::config::model::Location;

fn config(file: std::path::PathBuf, fallthrough: Option<Vec<Name>>) -> HostsConfig {
    HostsConfig {
        location: Location {
            file: "Corefile".into(),
            line: 1,
        },
        file,
        zones: Vec::new(),
        inline: vec!["10.0.0.9 inline.example".into()],
        ttl: 60,
        reload: Duration::ZERO,
        fallthrough,
        no_reverse: false,
    }
}

fn ask(h: &Hosts, name: &str, qtype: RecordType) -> Option<(ResponseCode, Vec<String>)> {
    h.answer(&Name::from_ascii(name).unwrap(), qtype)
        .map(|a| (a.rcode, a.answers.iter().map(|r| r.to_string()).collect()))
}

#[test]
fn answers_from_the_file_and_inline_lines_and_rereads_changes() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("NodeHosts");
    std::fs::write(
        &path,
        "192.168.1.10 node-a NODE-A.lan # a node\nnot-an-ip x\nfd00::1 node-a\n",
    )
    .unwrap();
    let h = Hosts::new(config(path.clone(), None), &[Name::root()]);
    assert_eq!(
        ask(&h, "Node-A.", RecordType::A),
        Some((
            ResponseCode::NoError,
            vec!["Node-A. 60 IN A 192.168.1.10".into()]
        ))
    );
    assert_eq!(
        ask(&h, "node-a.", RecordType::AAAA),
        Some((
            ResponseCode::NoError,
            vec!["node-a. 60 IN AAAA fd00::1".into()]
        ))
    );
    assert_eq!(
        ask(&h, "inline.example.", RecordType::A),
        Some((
            ResponseCode::NoError,
            vec!["inline.example. 60 IN A 10.0.0.9".into()]
        ))
    );
    assert_eq!(
        ask(&h, "10.1.168.192.in-addr.arpa.", RecordType::PTR),
        Some((
            ResponseCode::NoError,
            vec![
                "10.1.168.192.in-addr.arpa. 60 IN PTR node-a.".into(),
                "10.1.168.192.in-addr.arpa. 60 IN PTR NODE-A.lan.".into()
            ]
        ))
    );
    assert_eq!(
        ask(&h, "node-a.", RecordType::MX),
        Some((ResponseCode::NoError, vec![]))
    );
    assert_eq!(
        ask(&h, "other.", RecordType::A),
        Some((ResponseCode::NXDomain, vec![]))
    );

    // A changed file is read again (size differs, so even a coarse mtime notices).
    std::fs::write(&path, "192.168.1.11 node-b\n").unwrap();
    h.reload();
    assert_eq!(
        ask(&h, "node-a.", RecordType::A),
        Some((ResponseCode::NXDomain, vec![]))
    );
    assert_eq!(
        ask(&h, "node-b.", RecordType::A),
        Some((
            ResponseCode::NoError,
            vec!["node-b. 60 IN A 192.168.1.11".into()]
        ))
    );
}

#[test]
fn unknown_names_fall_through_when_asked_to() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("hosts");
    std::fs::write(&path, "192.168.1.10 node-a\n").unwrap();
    let h = Hosts::new(config(path.clone(), Some(Vec::new())), &[Name::root()]);
    assert_eq!(ask(&h, "other.", RecordType::A), None);
    assert!(ask(&h, "node-a.", RecordType::A).is_some());
    let missing = Hosts::new(
        config(dir.path().join("absent"), Some(Vec::new())),
        &[Name::root()],
    );
    assert_eq!(
        ask(&missing, "inline.example.", RecordType::A),
        Some((
            ResponseCode::NoError,
            vec!["inline.example. 60 IN A 10.0.0.9".into()]
        ))
    );
}
