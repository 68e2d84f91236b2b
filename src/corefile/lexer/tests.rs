use std::path::Path;

use super::{lex, Kind, Token};

fn env(name: &str) -> Option<String> {
    match name {
        "ZONE" => Some("cluster.local".to_string()),
        "SPACED" => Some("a b".to_string()),
        _ => None,
    }
}

/// (kind, text, line) of a token.
type Tok = (Kind, String, usize);

fn toks(text: &str) -> Vec<Tok> {
    lex(text, Path::new("Corefile"), &env)
        .unwrap_or_else(|e| panic!("{text:?}: {e}"))
        .into_iter()
        .map(
            |Token {
                 kind, text, line, ..
             }| (kind, text, line),
        )
        .collect()
}

fn w(text: &str, line: usize) -> Tok {
    (Kind::Word, text.to_string(), line)
}

#[test]
fn tokens_and_lines() {
    use Kind::{Close, Open};
    let cases: Vec<(&str, Vec<Tok>)> = vec![
        (
            ".:53 {\n  errors\n}\n",
            vec![
                w(".:53", 1),
                (Open, "{".into(), 1),
                w("errors", 2),
                (Close, "}".into(), 3),
            ],
        ),
        ("a#comment\nb", vec![w("a", 1), w("b", 2)]),
        ("# only a comment\n\n  x # y z\n", vec![w("x", 3)]),
        ("\"a b\" c", vec![w("a b", 1), w("c", 1)]),
        ("\"a # not a comment\"", vec![w("a # not a comment", 1)]),
        (
            r#""say \"hi\"" "back\\slash" "keep\n""#,
            vec![w("say \"hi\"", 1), w("back\\slash", 1), w("keep\\n", 1)],
        ),
        (
            "\"two\nlines\" next\nafter",
            vec![w("two\nlines", 1), w("next", 2), w("after", 3)],
        ),
        ("{$ZONE}:53", vec![w("cluster.local:53", 1)]),
        ("x.{%ZONE%}", vec![w("x.cluster.local", 1)]),
        ("a{$UNSET}b", vec![w("ab", 1)]),
        ("a {$UNSET} b", vec![w("a", 1), w("b", 1)]),
        ("a \"{$UNSET}\" b", vec![w("a", 1), w("", 1), w("b", 1)]),
        ("\"{$SPACED}\"", vec![w("a b", 1)]),
        ("{$UNCLOSED", vec![w("{$UNCLOSED", 1)]),
        (
            "x {}",
            vec![w("x", 1), (Open, "{".into(), 1), (Close, "}".into(), 1)],
        ),
        ("{x}", vec![w("{x}", 1)]),
        ("\"{\"", vec![w("{", 1)]),
        ("a\r\nb", vec![w("a", 1), w("b", 2)]),
    ];
    for (text, want) in cases {
        assert_eq!(toks(text), want, "{text:?}");
    }
}

#[test]
fn quoted_brace_is_a_word() {
    let t = lex("\"}\"", Path::new("Corefile"), &env).expect("lexes");
    assert_eq!(t[0].kind, Kind::Word);
}

#[test]
fn unterminated_quote_names_its_line() {
    let err = lex("a\nb \"open\n\n", Path::new("Corefile"), &env).expect_err("unterminated");
    assert_eq!(
        err.to_string(),
        "Corefile:2: unterminated quoted string: expected a closing `\"`"
    );
}
