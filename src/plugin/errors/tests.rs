use std::time::Duration;

use super::{go_duration, Consolidate, ErrorsConfig, Level};
use crate::plugin::test_support::options;

fn c(period: u64, pattern: &str, level: Level, show_first: bool) -> Consolidate {
    Consolidate {
        period: Duration::from_secs(period),
        pattern: pattern.into(),
        level,
        show_first,
    }
}

#[test]
fn options_table() {
    let cases: &[(&str, Result<ErrorsConfig, &str>)] = &[
        ("errors", Ok(ErrorsConfig::default())),
        (
            "errors {\n    consolidate 5m \".* i/o timeout$\" warning\n    consolidate 30s \"^Failed to .+\"\n    stacktrace\n  }",
            Ok(ErrorsConfig {
                consolidate: vec![
                    c(300, ".* i/o timeout$", Level::Warning, false),
                    c(30, "^Failed to .+", Level::Error, false),
                ],
                stacktrace: true,
            }),
        ),
        (
            "errors {\n    consolidate 1m timeout info show_first\n  }",
            Ok(ErrorsConfig {
                consolidate: vec![c(60, "timeout", Level::Info, true)],
                stacktrace: false,
            }),
        ),
        ("errors stdout", Err("Corefile:2: `errors` takes no arguments (`errors [{ consolidate DURATION REGEXP [LEVEL] [show_first] }]`), got 1")),
        ("errors {\n    consolidate 5m\n  }", Err("Corefile:3: `consolidate` takes 2 to 4 arguments (`consolidate DURATION REGEXP [LEVEL] [show_first]`), got 1")),
        ("errors {\n    consolidate 5m \"(\"\n  }", Err("Corefile:3: consolidate: invalid REGEXP `(`: regex parse error:\n    (\n    ^\nerror: unclosed group")),
        ("errors {\n    consolidate 5m x loud\n  }", Err("Corefile:3: consolidate: unexpected `loud`: expected a LEVEL (`warning`, `error`, `info`, `debug`) then `show_first`")),
        ("errors {\n    consolidate 5m x show_first warning\n  }", Err("Corefile:3: consolidate: unexpected `show_first`: expected a LEVEL (`warning`, `error`, `info`, `debug`) then `show_first`")),
        ("errors {\n    consolidate soon x\n  }", Err("Corefile:3: consolidate: invalid duration `soon`: expected a number with a unit, such as `5s`, `500ms` or `1m30s`")),
        ("errors {\n    panic\n  }", Err("Corefile:3: unknown property `panic` in errors block")),
    ];
    for (line, want) in cases {
        let corefile = format!(".:53 {{\n  {line}\n}}\n");
        let got = options::<ErrorsConfig>(&corefile);
        assert_eq!(got, want.clone().map_err(|e| e.to_string()), "for `{line}`");
    }
}

#[test]
fn periods_are_written_as_go_writes_durations() {
    for (d, want) in [
        (Duration::from_secs(30), "30s"),
        (Duration::from_secs(300), "5m0s"),
        (Duration::from_secs(3725), "1h2m5s"),
        (Duration::from_millis(1500), "1.5s"),
        (Duration::from_millis(60_250), "1m0.25s"),
    ] {
        assert_eq!(go_duration(d), want, "{d:?}");
    }
}
