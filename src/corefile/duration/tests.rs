use std::time::Duration;

use super::parse_duration;

#[test]
fn go_durations() {
    let ok: &[(&str, Duration)] = &[
        ("5s", Duration::from_secs(5)),
        ("500ms", Duration::from_millis(500)),
        ("1m30s", Duration::from_secs(90)),
        ("2h", Duration::from_secs(7200)),
        ("1.5s", Duration::from_millis(1500)),
        (".5s", Duration::from_millis(500)),
        ("0", Duration::ZERO),
        ("+3s", Duration::from_secs(3)),
        ("10us", Duration::from_micros(10)),
        ("10µs", Duration::from_micros(10)),
        ("7ns", Duration::from_nanos(7)),
        ("1h2m3s4ms", Duration::from_millis(3_723_004)),
    ];
    for (text, want) in ok {
        assert_eq!(parse_duration(text), Ok(*want), "{text}");
    }
}

#[test]
fn bad_durations() {
    let bad: &[(&str, &str)] = &[
        ("5", "expected a number with a unit"),
        ("", "expected a number with a unit"),
        ("s", "expected a number with a unit"),
        ("5d", "expected a number with a unit"),
        ("1..5s", "expected a number with a unit"),
        ("-5s", "must not be negative"),
        ("five", "expected a number with a unit"),
    ];
    for (text, want) in bad {
        let err = parse_duration(text).expect_err(text);
        assert!(err.contains(want), "{text}: {err}");
    }
}
