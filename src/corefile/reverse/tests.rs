use super::reverse_zones_for_cidr;

#[test]
fn cidr_expansion() {
    let cases: &[(&str, Option<&[&str]>)] = &[
        ("10.96.0.0/24", Some(&["0.96.10.in-addr.arpa."])),
        ("10.96.0.7/24", Some(&["0.96.10.in-addr.arpa."])),
        ("10.0.0.0/8", Some(&["10.in-addr.arpa."])),
        ("192.168.1.1/32", Some(&["1.1.168.192.in-addr.arpa."])),
        ("0.0.0.0/0", Some(&["in-addr.arpa."])),
        (
            "10.0.0.0/23",
            Some(&["0.0.10.in-addr.arpa.", "1.0.10.in-addr.arpa."]),
        ),
        ("fd00::/8", Some(&["d.f.ip6.arpa."])),
        ("::/0", Some(&["ip6.arpa."])),
        ("fd00:10::/32", Some(&["0.1.0.0.0.0.d.f.ip6.arpa."])),
        (
            "2001:db8::/31",
            Some(&["8.b.d.0.1.0.0.2.ip6.arpa.", "9.b.d.0.1.0.0.2.ip6.arpa."]),
        ),
        ("10.0.0.0", None),
        ("10.0.0.0/33", None),
        ("10.0.0.0/-1", None),
        ("10.0.0.0/", None),
        ("cluster.local", None),
        ("fd00::/129", None),
    ];
    for (cidr, want) in cases {
        let got = reverse_zones_for_cidr(cidr);
        let want = want.map(|w| w.iter().map(|s| s.to_string()).collect::<Vec<_>>());
        assert_eq!(got, want, "{cidr}");
    }
}

#[test]
fn non_aligned_v4_prefix_expands_to_sixteen_zones() {
    let zones = reverse_zones_for_cidr("10.96.0.0/12").expect("a CIDR");
    assert_eq!(zones.len(), 16);
    assert_eq!(zones[0], "96.10.in-addr.arpa.");
    assert_eq!(zones[15], "111.10.in-addr.arpa.");
}

#[test]
fn non_aligned_v6_prefix_expands_to_nibbles() {
    let zones = reverse_zones_for_cidr("fd00::/6").expect("a CIDR");
    assert_eq!(
        zones,
        [
            "c.f.ip6.arpa.",
            "d.f.ip6.arpa.",
            "e.f.ip6.arpa.",
            "f.f.ip6.arpa."
        ]
    );
    let zones = reverse_zones_for_cidr("fc00::/7").expect("a CIDR");
    assert_eq!(zones, ["c.f.ip6.arpa.", "d.f.ip6.arpa."]);
}
