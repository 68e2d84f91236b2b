//! CoreDNS's command line, so a Deployment written for CoreDNS runs Cairn by changing the
//! image alone: `cairn -conf /etc/coredns/Corefile` serves that Corefile, `-dns.port` sets the
//! port of server blocks that name none, `-pidfile` writes the process id, `-quiet` drops the
//! start-up banner, `-plugins` lists the plugins, `-version` prints the version.
//!
//! CoreDNS parses these with Go's `flag` package, and this module reads them the same way,
//! by hand because clap has no single-dash long options with dots (`-dns.port`): `-flag` and
//! `--flag` are the same, a value follows as the next argument or after `=`, a boolean flag
//! takes `=true`/`=false` only after `=`, `--` or the first argument that is not a flag ends
//! the flags (what follows is ignored, as CoreDNS ignores it), and an unknown flag is an error
//! naming it.

use std::path::PathBuf;

/// What the command line asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Coredns {
    /// `-version`.
    Version,
    /// `-plugins`.
    Plugins,
    /// `-h`, `-help`: the usage text.
    Help,
    /// Serve (CoreDNS's default).
    Serve(Flags),
}

/// The flags of a serving CoreDNS.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Flags {
    /// `-conf FILE`; without it `Corefile` in the working directory, if there is one.
    pub conf: Option<PathBuf>,
    /// `-dns.port PORT`: the port of server blocks without one (default 53).
    pub port: Option<u16>,
    /// `-pidfile FILE`.
    pub pidfile: Option<PathBuf>,
    /// `-quiet`: no start-up banner on stdout.
    pub quiet: bool,
}

/// The flags CoreDNS knows, as `-h` lists them.
pub const USAGE: &str = "Usage of cairn (CoreDNS's command line):
  -conf string
    \tCorefile to load (default \"Corefile\")
  -dns.port string
    \tDefault port (default \"53\")
  -pidfile string
    \tPath to write pid file
  -plugins
    \tList installed plugins
  -quiet
    \tQuiet mode (no initialization output)
  -version
    \tShow version
Cairn's own commands: cairn serve | doctor | validate | plugins (cairn --help)";

/// True when `args` (without the program name) are CoreDNS's command line rather than one of
/// Cairn's commands: the first argument is a Go-style flag — one dash and a name of two or
/// more characters (`-conf`, `-dns.port`, also a flag CoreDNS does not know, which then gets
/// Go's error), or two dashes and one of CoreDNS's flags (`--conf`). `--help`, `--version`,
/// `-h` and `-V` stay Cairn's own (`-version`, with one dash, is CoreDNS's).
pub fn is_coredns_form(args: &[String]) -> bool {
    let Some(first) = args.first() else {
        return false;
    };
    let Some((name, _)) = flag_name(first) else {
        return false;
    };
    if first.starts_with("--") {
        matches!(name, "conf" | "dns.port" | "pidfile" | "quiet" | "plugins")
    } else {
        name.len() >= 2
    }
}

/// `-name`, `--name`, `-name=value` → (name, value after `=`); `None` for an argument that is
/// not a flag (no dash, a lone `-`, or `--`).
fn flag_name(arg: &str) -> Option<(&str, Option<&str>)> {
    let body = arg.strip_prefix("--").or_else(|| arg.strip_prefix('-'))?;
    if body.is_empty() || body.starts_with('-') || body.starts_with('=') {
        return None;
    }
    Some(match body.split_once('=') {
        Some((name, value)) => (name, Some(value)),
        None => (body, None),
    })
}

/// Reads CoreDNS's flags from `args` (without the program name). The error is the line Go's
/// `flag` package would print (CoreDNS then exits 2).
pub fn parse(args: &[String]) -> Result<Coredns, String> {
    let mut flags = Flags::default();
    let (mut version, mut plugins) = (false, false);
    let mut rest = args.iter();
    while let Some(arg) = rest.next() {
        if arg == "--" {
            break;
        }
        let Some((name, inline)) = flag_name(arg) else {
            break;
        };
        let mut value = |what: &str| -> Result<String, String> {
            match inline {
                Some(v) => Ok(v.to_string()),
                None => rest
                    .next()
                    .cloned()
                    .ok_or_else(|| format!("flag needs an argument: -{name} ({what})")),
            }
        };
        let boolean = |inline: Option<&str>| -> Result<bool, String> {
            match inline {
                None => Ok(true),
                Some(v) => parse_bool(v)
                    .ok_or_else(|| format!("invalid boolean value {v:?} for -{name}: parse error")),
            }
        };
        match name {
            "conf" => flags.conf = Some(PathBuf::from(value("a Corefile")?)),
            "dns.port" => {
                let v = value("a port")?;
                let port = v.parse::<u16>().map_err(|_| {
                    format!(
                        "invalid value {v:?} for flag -dns.port: expected a port from 0 to 65535"
                    )
                })?;
                flags.port = Some(port);
            }
            "pidfile" => flags.pidfile = Some(PathBuf::from(value("a file")?)),
            "quiet" => flags.quiet = boolean(inline)?,
            "plugins" => plugins = boolean(inline)?,
            "version" => version = boolean(inline)?,
            "h" | "help" => return Ok(Coredns::Help),
            other => return Err(format!("flag provided but not defined: -{other}")),
        }
    }
    // CoreDNS looks at -version before -plugins, and both before serving.
    Ok(if version {
        Coredns::Version
    } else if plugins {
        Coredns::Plugins
    } else {
        Coredns::Serve(flags)
    })
}

/// Go's `strconv.ParseBool`.
fn parse_bool(v: &str) -> Option<bool> {
    match v {
        "1" | "t" | "T" | "true" | "TRUE" | "True" => Some(true),
        "0" | "f" | "F" | "false" | "FALSE" | "False" => Some(false),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(line: &str) -> Vec<String> {
        line.split_whitespace().map(str::to_string).collect()
    }

    fn serve(conf: Option<&str>, port: Option<u16>, pidfile: Option<&str>, quiet: bool) -> Coredns {
        Coredns::Serve(Flags {
            conf: conf.map(PathBuf::from),
            port,
            pidfile: pidfile.map(PathBuf::from),
            quiet,
        })
    }

    #[test]
    fn flags_are_read_as_go_reads_them() {
        let cases: &[(&str, Result<Coredns, &str>)] = &[
            (
                "-conf /etc/coredns/Corefile",
                Ok(serve(Some("/etc/coredns/Corefile"), None, None, false)),
            ),
            (
                "--conf=/c -dns.port 1053",
                Ok(serve(Some("/c"), Some(1053), None, false)),
            ),
            (
                "-dns.port=5353 -quiet -pidfile /run/c.pid",
                Ok(serve(None, Some(5353), Some("/run/c.pid"), true)),
            ),
            (
                "-quiet=false -conf c",
                Ok(serve(Some("c"), None, None, false)),
            ),
            (
                "-conf c extra -quiet",
                Ok(serve(Some("c"), None, None, false)),
            ),
            ("-conf c -- -quiet", Ok(serve(Some("c"), None, None, false))),
            ("-version", Ok(Coredns::Version)),
            ("-plugins -version", Ok(Coredns::Version)),
            ("-plugins", Ok(Coredns::Plugins)),
            (
                "-plugins=0 -conf c",
                Ok(serve(Some("c"), None, None, false)),
            ),
            ("-h", Ok(Coredns::Help)),
            ("-conf", Err("flag needs an argument: -conf (a Corefile)")),
            (
                "-dns.port 70000",
                Err("invalid value \"70000\" for flag -dns.port: expected a port from 0 to 65535"),
            ),
            (
                "-quiet=maybe",
                Err("invalid boolean value \"maybe\" for -quiet: parse error"),
            ),
            (
                "-conf c -cpu 50%",
                Err("flag provided but not defined: -cpu"),
            ),
        ];
        for (line, want) in cases {
            let got = parse(&args(line));
            assert_eq!(got, want.clone().map_err(str::to_string), "for `{line}`");
        }
    }

    #[test]
    fn a_go_style_flag_first_means_the_coredns_form() {
        for line in [
            "-conf c",
            "--conf=c",
            "-dns.port 53",
            "-quiet",
            "-version",
            "-plugins",
            "-pidfile p",
            "-cpu 50%",
            "-help",
        ] {
            assert!(is_coredns_form(&args(line)), "{line}");
        }
        for line in [
            "",
            "serve --corefile c",
            "validate",
            "-",
            "--",
            "--corefile c",
            "--cpu 50%",
            "-V",
            "--version",
            "--help",
            "-h",
            "doctor -conf",
        ] {
            assert!(!is_coredns_form(&args(line)), "{line}");
        }
    }
}
