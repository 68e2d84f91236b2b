//! Kubernetes label selector syntax -> [`LabelSelector`]: `a=b`, `a==b`, `a!=b`, `a in (x,y)`,
//! `a notin (x)`, `a`, `!a`, comma separated, with keys and values validated as Kubernetes does
//! (`[prefix/]name`, names and values at most 63 characters of `[A-Za-z0-9._-]` starting and
//! ending alphanumeric). Matching lives with the type in `model`.

use std::str::FromStr;

use crate::cluster::model::Labels;

/// A Kubernetes label selector (`a=b,c!=d,e in (x,y),f notin (z),g,!h`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LabelSelector {
    pub requirements: Vec<Requirement>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Requirement {
    /// `key=value` / `key==value` / `key in (v1,v2)`.
    In(String, Vec<String>),
    /// `key!=value` / `key notin (v1,v2)`.
    NotIn(String, Vec<String>),
    /// `key`.
    Exists(String),
    /// `!key`.
    DoesNotExist(String),
}

impl LabelSelector {
    /// True when every requirement holds for `labels` (Kubernetes semantics: `notin` and `!=`
    /// also match objects without the key).
    pub fn matches(&self, labels: &Labels) -> bool {
        self.requirements.iter().all(|r| match r {
            Requirement::In(k, vs) => labels.get(k).is_some_and(|v| vs.iter().any(|x| x == v)),
            Requirement::NotIn(k, vs) => labels.get(k).is_none_or(|v| vs.iter().all(|x| x != v)),
            Requirement::Exists(k) => labels.contains_key(k),
            Requirement::DoesNotExist(k) => !labels.contains_key(k),
        })
    }
}

/// The Kubernetes selector syntax, as the API's `labelSelector` parameter takes it.
impl std::fmt::Display for LabelSelector {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let parts: Vec<String> = self
            .requirements
            .iter()
            .map(|r| match r {
                Requirement::In(k, vs) if vs.len() == 1 => format!("{k}={}", vs[0]),
                Requirement::In(k, vs) => format!("{k} in ({})", vs.join(",")),
                Requirement::NotIn(k, vs) if vs.len() == 1 => format!("{k}!={}", vs[0]),
                Requirement::NotIn(k, vs) => format!("{k} notin ({})", vs.join(",")),
                Requirement::Exists(k) => k.clone(),
                Requirement::DoesNotExist(k) => format!("!{k}"),
            })
            .collect();
        f.write_str(&parts.join(","))
    }
}

#[cfg(test)]
mod tests;

#[derive(Clone, Debug, PartialEq, Eq)]
enum Tok {
    Ident(String),
    Eq,
    NotEq,
    Bang,
    Open,
    Close,
    Comma,
}

impl Tok {
    fn show(&self) -> String {
        match self {
            Tok::Ident(s) => s.clone(),
            Tok::Eq => "=".into(),
            Tok::NotEq => "!=".into(),
            Tok::Bang => "!".into(),
            Tok::Open => "(".into(),
            Tok::Close => ")".into(),
            Tok::Comma => ",".into(),
        }
    }
}

fn tokenize(s: &str) -> Result<Vec<Tok>, String> {
    let mut toks = Vec::new();
    let mut chars = s.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            c if c.is_whitespace() => {}
            '=' => {
                chars.next_if_eq(&'=');
                toks.push(Tok::Eq);
            }
            '!' if chars.next_if_eq(&'=').is_some() => toks.push(Tok::NotEq),
            '!' => toks.push(Tok::Bang),
            '(' => toks.push(Tok::Open),
            ')' => toks.push(Tok::Close),
            ',' => toks.push(Tok::Comma),
            '<' | '>' => {
                return Err(format!(
                    "operator `{c}` is not supported in label selectors"
                ))
            }
            c => {
                let mut id = String::from(c);
                while let Some(c) = chars.next_if(|&c| !c.is_whitespace() && !"=!(),<>".contains(c))
                {
                    id.push(c);
                }
                toks.push(Tok::Ident(id));
            }
        }
    }
    Ok(toks)
}

impl FromStr for LabelSelector {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        let toks = tokenize(s)?;
        let mut p = SelParser { toks, pos: 0 };
        let mut requirements = Vec::new();
        if p.toks.is_empty() {
            return Ok(LabelSelector { requirements });
        }
        loop {
            requirements.push(p.requirement()?);
            match p.next() {
                None => break,
                Some(Tok::Comma) => {}
                Some(t) => {
                    return Err(format!(
                        "expected `,` between requirements, found `{}`",
                        t.show()
                    ))
                }
            }
        }
        Ok(LabelSelector { requirements })
    }
}

struct SelParser {
    toks: Vec<Tok>,
    pos: usize,
}

impl SelParser {
    fn peek(&self) -> Option<&Tok> {
        self.toks.get(self.pos)
    }

    fn next(&mut self) -> Option<Tok> {
        let t = self.toks.get(self.pos).cloned();
        self.pos += 1;
        t
    }

    fn key(&mut self) -> Result<String, String> {
        match self.next() {
            Some(Tok::Ident(k)) => {
                validate_key(&k)?;
                Ok(k)
            }
            Some(t) => Err(format!("expected a label key, found `{}`", t.show())),
            None => Err("expected a label key, found the end".into()),
        }
    }

    fn requirement(&mut self) -> Result<Requirement, String> {
        if self.peek() == Some(&Tok::Bang) {
            self.pos += 1;
            return Ok(Requirement::DoesNotExist(self.key()?));
        }
        let key = self.key()?;
        match self.peek().cloned() {
            None | Some(Tok::Comma) => Ok(Requirement::Exists(key)),
            Some(Tok::Eq) => {
                self.pos += 1;
                Ok(Requirement::In(key, vec![self.value()?]))
            }
            Some(Tok::NotEq) => {
                self.pos += 1;
                Ok(Requirement::NotIn(key, vec![self.value()?]))
            }
            Some(Tok::Ident(op)) if op == "in" || op == "notin" => {
                self.pos += 1;
                let values = self.set(&op)?;
                Ok(if op == "in" {
                    Requirement::In(key, values)
                } else {
                    Requirement::NotIn(key, values)
                })
            }
            Some(t) => Err(format!(
                "expected `=`, `==`, `!=`, `in`, `notin` or `,` after `{key}`, found `{}`",
                t.show()
            )),
        }
    }

    /// A single value after `=`/`!=`; empty when the requirement ends there (`a=`).
    fn value(&mut self) -> Result<String, String> {
        match self.peek().cloned() {
            None | Some(Tok::Comma) => Ok(String::new()),
            Some(Tok::Ident(v)) => {
                self.pos += 1;
                validate_value(&v)?;
                Ok(v)
            }
            Some(t) => Err(format!("expected a label value, found `{}`", t.show())),
        }
    }

    /// `( v1, v2 )` after `in`/`notin`.
    fn set(&mut self, op: &str) -> Result<Vec<String>, String> {
        if self.next() != Some(Tok::Open) {
            return Err(format!("expected `(` after `{op}`"));
        }
        let mut values = Vec::new();
        loop {
            match self.next() {
                Some(Tok::Ident(v)) => {
                    validate_value(&v)?;
                    values.push(v);
                    match self.next() {
                        Some(Tok::Comma) => {}
                        Some(Tok::Close) => break,
                        _ => return Err(format!("expected `,` or `)` in the `{op}` value list")),
                    }
                }
                Some(Tok::Close) if values.is_empty() => {
                    return Err(format!("the `{op}` value list must not be empty"))
                }
                _ => return Err(format!("expected a value in the `{op}` value list")),
            }
        }
        Ok(values)
    }
}

fn is_name(s: &str) -> bool {
    let b = s.as_bytes();
    !b.is_empty()
        && b.len() <= 63
        && b[0].is_ascii_alphanumeric()
        && b[b.len() - 1].is_ascii_alphanumeric()
        && b.iter()
            .all(|&c| c.is_ascii_alphanumeric() || c == b'-' || c == b'_' || c == b'.')
}

fn validate_key(key: &str) -> Result<(), String> {
    let (prefix, name) = match key.split_once('/') {
        Some((prefix, name)) => (Some(prefix), name),
        None => (None, key),
    };
    if let Some(prefix) = prefix {
        let ok = !prefix.is_empty()
            && prefix.len() <= 253
            && prefix.split('.').all(|l| {
                let b = l.as_bytes();
                !b.is_empty()
                    && b.len() <= 63
                    && b[0].is_ascii_alphanumeric()
                    && b[b.len() - 1].is_ascii_alphanumeric()
                    && b.iter()
                        .all(|&c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == b'-')
            });
        if !ok {
            return Err(format!(
                "invalid label key `{key}`: the prefix must be a lower-case DNS subdomain"
            ));
        }
    }
    if !is_name(name) {
        return Err(format!(
            "invalid label key `{key}`: expected at most 63 characters of letters, digits, `-`, `_`, `.`, starting and ending with a letter or digit"
        ));
    }
    Ok(())
}

fn validate_value(value: &str) -> Result<(), String> {
    if !value.is_empty() && !is_name(value) {
        return Err(format!(
            "invalid label value `{value}`: expected at most 63 characters of letters, digits, `-`, `_`, `.`, starting and ending with a letter or digit"
        ));
    }
    Ok(())
}
