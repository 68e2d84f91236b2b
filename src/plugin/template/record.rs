//! A rendered template, one zone-file line, read into the record it describes, as CoreDNS's
//! `dns.NewRR` reads it: names relative to the root, class IN and TTL 3600 unless given.
//! hickory-proto's zone parser reads the line; the text is checked first to be one line that
//! is not a `$` directive (a rendered `$INCLUDE` would read a file).

use hickory_proto::rr::{Name, Record};
use hickory_proto::serialize::txt::Parser;

/// The record `text` describes, or why it is not one.
pub fn parse(text: &str) -> Result<Record, String> {
    if text.contains(['\n', '\r']) {
        return Err("a record is one line; the template renders more than one".into());
    }
    let line = text;
    if line.trim().is_empty() {
        return Err("the template renders an empty record".into());
    }
    if line.trim_start().starts_with('$') {
        return Err("a record starts with its owner name, not a `$` directive".into());
    }
    // The owner must be the line's first token: a line starting with a blank would mean "the
    // previous owner" in a zone file, and there is none.
    let input = format!("$TTL 3600\n{line}\n");
    let (_, sets) = Parser::new(input, None, Some(Name::root()))
        .parse()
        .map_err(|e| e.to_string())?;
    let mut records = sets
        .into_values()
        .flat_map(|set| set.records_without_rrsigs().cloned().collect::<Vec<_>>());
    match (records.next(), records.next()) {
        (Some(record), None) => Ok(record),
        (None, _) => Err("the template renders no record".into()),
        (Some(_), Some(_)) => Err("the template renders more than one record".into()),
    }
}
