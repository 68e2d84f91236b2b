use super::{LabelSelector, Requirement};
use crate::cluster::model::Labels;

fn s(v: &str) -> String {
    v.to_string()
}

fn labels(pairs: &[(&str, &str)]) -> Labels {
    pairs.iter().map(|(k, v)| (s(k), s(v))).collect()
}

#[test]
fn parses_every_form() {
    use Requirement::*;
    let cases: Vec<(&str, Vec<Requirement>)> = vec![
        ("", vec![]),
        ("a=b", vec![In(s("a"), vec![s("b")])]),
        ("a==b", vec![In(s("a"), vec![s("b")])]),
        ("a!=b", vec![NotIn(s("a"), vec![s("b")])]),
        ("a = b", vec![In(s("a"), vec![s("b")])]),
        ("a=", vec![In(s("a"), vec![s("")])]),
        ("a in (x,y)", vec![In(s("a"), vec![s("x"), s("y")])]),
        ("a in ( x , y )", vec![In(s("a"), vec![s("x"), s("y")])]),
        ("a notin (x)", vec![NotIn(s("a"), vec![s("x")])]),
        ("a", vec![Exists(s("a"))]),
        ("!a", vec![DoesNotExist(s("a"))]),
        (
            "app.kubernetes.io/name=dns,tier!=db,!legacy,env in (prod,stage),zone",
            vec![
                In(s("app.kubernetes.io/name"), vec![s("dns")]),
                NotIn(s("tier"), vec![s("db")]),
                DoesNotExist(s("legacy")),
                In(s("env"), vec![s("prod"), s("stage")]),
                Exists(s("zone")),
            ],
        ),
    ];
    for (text, want) in cases {
        let got: LabelSelector = text.parse().unwrap_or_else(|e| panic!("{text}: {e}"));
        assert_eq!(got.requirements, want, "{text}");
    }
}

#[test]
fn rejects_bad_selectors() {
    let cases: &[(&str, &str)] = &[
        ("a in ()", "must not be empty"),
        ("a in x", "expected `(` after `in`"),
        ("a in (x", "expected `,` or `)`"),
        (
            "a b",
            "expected `=`, `==`, `!=`, `in`, `notin` or `,` after `a`",
        ),
        ("a=b c", "expected `,` between requirements"),
        ("a=b,", "expected a label key, found the end"),
        (",a", "expected a label key, found `,`"),
        ("-a=b", "invalid label key `-a`"),
        ("a=b-", "invalid label value `b-`"),
        ("Foo_/a=b", "prefix must be a lower-case DNS subdomain"),
        ("a>1", "operator `>` is not supported"),
        (
            "k=vvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvv",
            "invalid label value",
        ),
        ("!", "expected a label key"),
    ];
    for (text, want) in cases {
        let err = text.parse::<LabelSelector>().expect_err(text);
        assert!(err.contains(want), "{text}: got {err:?}, want {want:?}");
    }
}

#[test]
fn matching_follows_kubernetes() {
    type Case<'a> = (&'a str, &'a [(&'a str, &'a str)], bool);
    let cases: &[Case] = &[
        ("a=b", &[("a", "b")], true),
        ("a=b", &[("a", "c")], false),
        ("a=b", &[], false),
        ("a!=b", &[], true),
        ("a!=b", &[("a", "b")], false),
        ("a in (x,y)", &[("a", "y")], true),
        ("a notin (x,y)", &[("a", "z")], true),
        ("a notin (x,y)", &[("a", "x")], false),
        ("a", &[("a", "")], true),
        ("!a", &[("a", "")], false),
        ("!a", &[("b", "")], true),
        ("a=b,c", &[("a", "b")], false),
        ("a=b,c", &[("a", "b"), ("c", "d")], true),
        ("", &[("x", "y")], true),
    ];
    for (text, pairs, want) in cases {
        let sel: LabelSelector = text.parse().unwrap_or_else(|e| panic!("{text}: {e}"));
        assert_eq!(sel.matches(&labels(pairs)), *want, "{text} on {pairs:?}");
    }
}
