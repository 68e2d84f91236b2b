//! Label and field selectors, parsed from query parameters and matched against JSON objects.
//!
//! Pure: no I/O, no store. Label selectors follow the apimachinery grammar (`=`, `==`, `!=`,
//! `in`, `notin`, `key`, `!key`); field selectors support `=`, `==`, `!=` on dotted paths
//! (`metadata.name`, `metadata.namespace`, `spec.nodeName`, ...).

use serde_json::Value;

use crate::error::ApiError;

#[derive(Debug, Clone, PartialEq, Eq)]
enum Requirement {
    Equals(String, String),
    NotEquals(String, String),
    In(String, Vec<String>),
    NotIn(String, Vec<String>),
    Exists(String),
    NotExists(String),
}

/// A parsed label selector; the empty selector matches everything.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LabelSelector(Vec<Requirement>);

/// A parsed field selector; the empty selector matches everything.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FieldSelector(Vec<(Vec<String>, bool, String)>);

/// Splits at commas outside parentheses.
fn split_terms(text: &str) -> Vec<&str> {
    let mut terms = Vec::new();
    let (mut depth, mut start) = (0usize, 0usize);
    for (i, c) in text.char_indices() {
        match c {
            '(' => depth += 1,
            ')' => depth = depth.saturating_sub(1),
            ',' if depth == 0 => {
                terms.push(&text[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    terms.push(&text[start..]);
    terms
        .into_iter()
        .map(str::trim)
        .filter(|t| !t.is_empty())
        .collect()
}

fn bad(selector: &str, what: &str) -> ApiError {
    ApiError::BadRequest(format!(
        "unable to parse requirement: invalid selector {selector:?}: {what}"
    ))
}

fn key(selector: &str, key: &str) -> Result<String, ApiError> {
    let key = key.trim();
    let valid = !key.is_empty()
        && key
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_./".contains(c));
    if valid {
        Ok(key.to_string())
    } else {
        Err(bad(selector, &format!("invalid label key {key:?}")))
    }
}

impl LabelSelector {
    pub fn parse(text: &str) -> Result<LabelSelector, ApiError> {
        let mut requirements = Vec::new();
        for term in split_terms(text) {
            let requirement = if let Some(rest) = term.strip_prefix('!') {
                Requirement::NotExists(key(text, rest)?)
            } else if let Some((k, v)) = term.split_once("!=") {
                Requirement::NotEquals(key(text, k)?, v.trim().to_string())
            } else if let Some((k, v)) = term.split_once("==") {
                Requirement::Equals(key(text, k)?, v.trim().to_string())
            } else if let Some((k, v)) = term.split_once('=') {
                Requirement::Equals(key(text, k)?, v.trim().to_string())
            } else if let Some((head, rest)) = term.split_once('(') {
                let values = rest
                    .strip_suffix(')')
                    .ok_or_else(|| bad(text, "missing ')'"))?;
                let values: Vec<String> = values
                    .split(',')
                    .map(|v| v.trim().to_string())
                    .filter(|v| !v.is_empty())
                    .collect();
                let mut words = head.split_whitespace();
                let (k, op) = (words.next().unwrap_or(""), words.next().unwrap_or(""));
                if words.next().is_some() || values.is_empty() {
                    return Err(bad(text, "expected 'key in (v1,v2)'"));
                }
                match op {
                    "in" => Requirement::In(key(text, k)?, values),
                    "notin" => Requirement::NotIn(key(text, k)?, values),
                    _ => return Err(bad(text, &format!("unknown operator {op:?}"))),
                }
            } else if term.split_whitespace().count() == 1 {
                Requirement::Exists(key(text, term)?)
            } else {
                return Err(bad(text, &format!("cannot parse {term:?}")));
            };
            requirements.push(requirement);
        }
        Ok(LabelSelector(requirements))
    }

    pub fn matches(&self, object: &Value) -> bool {
        let labels = object.pointer("/metadata/labels");
        let get = |k: &str| labels.and_then(|l| l.get(k)).and_then(Value::as_str);
        self.0.iter().all(|r| match r {
            Requirement::Equals(k, v) => get(k) == Some(v.as_str()),
            Requirement::NotEquals(k, v) => get(k) != Some(v.as_str()),
            Requirement::In(k, vs) => get(k).is_some_and(|l| vs.iter().any(|v| v == l)),
            Requirement::NotIn(k, vs) => !get(k).is_some_and(|l| vs.iter().any(|v| v == l)),
            Requirement::Exists(k) => get(k).is_some(),
            Requirement::NotExists(k) => get(k).is_none(),
        })
    }
}

impl FieldSelector {
    pub fn parse(text: &str) -> Result<FieldSelector, ApiError> {
        let mut terms = Vec::new();
        for term in split_terms(text) {
            let (path, equal, value) = if let Some((p, v)) = term.split_once("!=") {
                (p, false, v)
            } else if let Some((p, v)) = term.split_once("==") {
                (p, true, v)
            } else if let Some((p, v)) = term.split_once('=') {
                (p, true, v)
            } else {
                return Err(ApiError::BadRequest(format!(
                    "invalid field selector {text:?}: {term:?} has no operator"
                )));
            };
            let path: Vec<String> = path.trim().split('.').map(str::to_string).collect();
            if path.iter().any(String::is_empty) {
                return Err(ApiError::BadRequest(format!(
                    "invalid field selector {text:?}: bad field path in {term:?}"
                )));
            }
            terms.push((path, equal, value.trim().to_string()));
        }
        Ok(FieldSelector(terms))
    }

    pub fn matches(&self, object: &Value) -> bool {
        self.0.iter().all(|(path, equal, value)| {
            let mut at = Some(object);
            for segment in path {
                at = at.and_then(|v| v.get(segment));
            }
            let actual = match at {
                Some(Value::String(s)) => s.clone(),
                Some(Value::Null) | None => String::new(),
                Some(other) => other.to_string(),
            };
            (actual == *value) == *equal
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn obj(labels: Value) -> Value {
        json!({"metadata": {"name": "a", "namespace": "ns1", "labels": labels}, "spec": {"nodeName": "n1"}})
    }

    #[test]
    fn label_selector_table() {
        let o = obj(json!({"app": "web", "tier": "front"}));
        let cases: &[(&str, bool)] = &[
            ("", true),
            ("app=web", true),
            ("app==web", true),
            ("app=db", false),
            ("app!=db", true),
            ("app!=web", false),
            ("missing!=x", true),
            ("app in (db, web)", true),
            ("app in (db)", false),
            ("app notin (db)", true),
            ("app notin (web,db)", false),
            ("missing notin (web)", true),
            ("app", true),
            ("missing", false),
            ("!missing", true),
            ("!app", false),
            ("app=web,tier=front", true),
            ("app=web, tier in (back)", false),
        ];
        for (selector, expected) in cases {
            let parsed = LabelSelector::parse(selector).unwrap();
            assert_eq!(parsed.matches(&o), *expected, "selector {selector:?}");
        }
    }

    #[test]
    fn label_selector_errors() {
        for bad in ["app in web", "app (a)", "x in ()", "a b", "=x"] {
            assert!(
                LabelSelector::parse(bad).is_err(),
                "{bad:?} should not parse"
            );
        }
    }

    #[test]
    fn field_selector_table() {
        let o = obj(json!({}));
        let cases: &[(&str, bool)] = &[
            ("metadata.name=a", true),
            ("metadata.name==b", false),
            ("metadata.name!=b", true),
            ("metadata.namespace=ns1,metadata.name=a", true),
            ("metadata.namespace=ns2", false),
            ("spec.nodeName=n1", true),
        ];
        for (selector, expected) in cases {
            let parsed = FieldSelector::parse(selector).unwrap();
            assert_eq!(parsed.matches(&o), *expected, "selector {selector:?}");
        }
        assert!(FieldSelector::parse("metadata.name").is_err());
    }
}
