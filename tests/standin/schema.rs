//! Request bodies checked against the request schemas of Discord's OpenAPI description: the
//! subset vendored in `tests/fixtures/discord-api-spec`, read by a validator of the JSON Schema
//! keywords that subset uses.

use std::cmp::Ordering;
use std::collections::HashMap;
use std::sync::{LazyLock, Mutex};

use regex::Regex;
use serde_json::{Map, Value};

use super::rest::API_PREFIX;

/// The keywords the validator implements. Loading the spec fails if it uses any other.
const KEYWORDS: &[&str] = &[
    "$ref",
    "type",
    "properties",
    "required",
    "additionalProperties",
    "maxProperties",
    "oneOf",
    "anyOf",
    "allOf",
    "enum",
    "const",
    "minimum",
    "maximum",
    "minLength",
    "maxLength",
    "pattern",
    "minItems",
    "maxItems",
    "uniqueItems",
    "items",
    "format",
    // Annotations, no assertion.
    "title",
    "description",
    "x-discord-union",
];

/// The formats the validator checks. Loading the spec fails if it uses any other.
const FORMATS: &[&str] = &[
    "int32",
    "int64",
    "double",
    "snowflake",
    "uri",
    "date-time",
    "nonce",
];

static SPEC: LazyLock<Value> = LazyLock::new(|| {
    let spec: Value = serde_json::from_str(include_str!(
        "../fixtures/discord-api-spec/openapi-subset.json"
    ))
    .expect("the spec subset is JSON");
    let mut unsupported = Vec::new();
    for (name, schema) in spec["components"]["schemas"]
        .as_object()
        .into_iter()
        .flatten()
    {
        find_unsupported(
            schema,
            &format!("#/components/schemas/{name}"),
            &mut unsupported,
        );
    }
    for (path, operations) in spec["paths"].as_object().into_iter().flatten() {
        for (method, operation) in operations.as_object().into_iter().flatten() {
            let schema = &operation["requestBody"]["content"]["application/json"]["schema"];
            if !schema.is_null() {
                find_unsupported(schema, &format!("{method} {path}"), &mut unsupported);
            }
        }
    }
    assert!(
        unsupported.is_empty(),
        "the spec subset uses what the validator does not implement:\n{}",
        unsupported.join("\n")
    );
    spec
});

/// Checks the JSON `body` of a request `method` `path` (with or without the `/api/v10` prefix)
/// against the request body schema of the route in Discord's OpenAPI description. `Err` lists
/// every violation, each at a JSON pointer into the body. A route missing from the vendored
/// subset, a body sent to a route that takes none and a missing required body are errors too.
pub fn validate_body(method: &str, path: &str, body: &Value) -> Result<(), Vec<String>> {
    let path = path.strip_prefix(API_PREFIX).unwrap_or(path);
    let path = path.split('?').next().unwrap_or(path);
    let Some(template) = route_template(path) else {
        return Err(vec![format!("no route of the spec subset matches {path}")]);
    };
    let Some(operation) = SPEC["paths"][template].get(method.to_ascii_lowercase()) else {
        return Err(vec![format!(
            "{method} {template} is not in the spec subset"
        )]);
    };
    let Some(request_body) = operation.get("requestBody") else {
        return match body {
            Value::Null => Ok(()),
            _ => Err(vec![format!("{method} {template} takes no body")]),
        };
    };
    if body.is_null() {
        if request_body["required"] == true {
            return Err(vec![format!("{method} {template} requires a body")]);
        }
        return Ok(());
    }
    let mut errors = Vec::new();
    check(
        &request_body["content"]["application/json"]["schema"],
        body,
        "",
        &mut errors,
    );
    if errors.is_empty() {
        Ok(())
    } else {
        Err(errors)
    }
}

/// The spec's path template matching `path`, preferring literal segments over parameters (so
/// `.../messages/@original` is not `.../messages/{message_id}`).
fn route_template(path: &str) -> Option<&'static str> {
    let segments: Vec<&str> = path.split('/').collect();
    SPEC["paths"]
        .as_object()?
        .keys()
        .filter_map(|template| {
            let parts: Vec<&str> = template.split('/').collect();
            if parts.len() != segments.len() {
                return None;
            }
            let mut literals = 0;
            for (part, segment) in parts.iter().zip(&segments) {
                if part.starts_with('{') && part.ends_with('}') && !segment.is_empty() {
                    continue;
                }
                if part != segment {
                    return None;
                }
                literals += 1;
            }
            Some((literals, template.as_str()))
        })
        .max_by_key(|(literals, _)| *literals)
        .map(|(_, template)| template)
}

/// Adds to `errors` what `value`, at JSON pointer `at`, violates of `schema`.
fn check(schema: &Value, value: &Value, at: &str, errors: &mut Vec<String>) {
    let Some(schema) = schema.as_object() else {
        errors.push(format!("{at}: the schema is not an object: {schema}"));
        return;
    };
    let at_root = if at.is_empty() { "(body)" } else { at };
    for (keyword, argument) in schema {
        match keyword.as_str() {
            "$ref" => check(resolve(argument), value, at, errors),
            "type" => {
                let allowed: Vec<&str> = match argument {
                    Value::Array(types) => types.iter().filter_map(Value::as_str).collect(),
                    other => other.as_str().into_iter().collect(),
                };
                if !allowed.iter().any(|t| has_type(value, t)) {
                    errors.push(format!(
                        "{at_root}: expected {}, got {}",
                        allowed.join(" or "),
                        type_name(value)
                    ));
                }
            }
            "properties" => {
                if let (Some(properties), Some(object)) = (argument.as_object(), value.as_object())
                {
                    for (name, property) in properties {
                        if let Some(field) = object.get(name) {
                            check(property, field, &format!("{at}/{name}"), errors);
                        }
                    }
                }
            }
            "required" => {
                if let Some(object) = value.as_object() {
                    for name in argument.as_array().into_iter().flatten() {
                        let name = name.as_str().unwrap_or_default();
                        if !object.contains_key(name) {
                            errors.push(format!("{at_root}: missing required property {name:?}"));
                        }
                    }
                }
            }
            "additionalProperties" => {
                let declared = schema.get("properties").and_then(Value::as_object);
                for (name, field) in value.as_object().into_iter().flatten() {
                    if declared.is_some_and(|d| d.contains_key(name)) {
                        continue;
                    }
                    match argument {
                        Value::Bool(true) => {}
                        Value::Bool(false) => {
                            errors.push(format!("{at_root}: unexpected property {name:?}"))
                        }
                        schema => check(schema, field, &format!("{at}/{name}"), errors),
                    }
                }
            }
            "maxProperties" => {
                if let (Some(object), Some(max)) = (value.as_object(), argument.as_u64()) {
                    if object.len() as u64 > max {
                        errors.push(format!("{at_root}: more than {max} properties"));
                    }
                }
            }
            "oneOf" | "anyOf" => {
                let alternatives = argument.as_array().map(Vec::as_slice).unwrap_or_default();
                let failures: Vec<(String, Vec<String>)> = alternatives
                    .iter()
                    .enumerate()
                    .map(|(i, alternative)| {
                        let mut found = Vec::new();
                        check(alternative, value, at, &mut found);
                        (alternative_name(alternative, i), found)
                    })
                    .collect();
                let matching = failures.iter().filter(|(_, e)| e.is_empty()).count();
                if matching == 0 {
                    let why: Vec<String> = failures
                        .iter()
                        .map(|(name, e)| format!("{name}: {}", e.join("; ")))
                        .collect();
                    errors.push(format!(
                        "{at_root}: matches none of the {keyword} alternatives [{}]",
                        why.join(" | ")
                    ));
                } else if keyword == "oneOf" && matching > 1 {
                    let names: Vec<&str> = failures
                        .iter()
                        .filter(|(_, e)| e.is_empty())
                        .map(|(name, _)| name.as_str())
                        .collect();
                    errors.push(format!(
                        "{at_root}: matches {matching} oneOf alternatives ({}), not exactly one",
                        names.join(", ")
                    ));
                }
            }
            "allOf" => {
                for part in argument.as_array().into_iter().flatten() {
                    check(part, value, at, errors);
                }
            }
            "enum" => {
                let options = argument.as_array().map(Vec::as_slice).unwrap_or_default();
                if !options.iter().any(|option| same(option, value)) {
                    errors.push(format!("{at_root}: {value} is not one of {argument}"));
                }
            }
            "const" => {
                if !same(argument, value) {
                    errors.push(format!("{at_root}: {value} is not {argument}"));
                }
            }
            "minimum" | "maximum" => {
                if let (Some(number), Some(bound)) = (Number::of(value), Number::of(argument)) {
                    let outside = match keyword.as_str() {
                        "minimum" => number.cmp(bound) == Ordering::Less,
                        _ => number.cmp(bound) == Ordering::Greater,
                    };
                    if outside {
                        errors.push(format!(
                            "{at_root}: {value} is beyond the {keyword} {argument}"
                        ));
                    }
                }
            }
            "minLength" | "maxLength" => {
                if let (Some(text), Some(bound)) = (value.as_str(), argument.as_u64()) {
                    let length = text.chars().count() as u64;
                    if (keyword == "minLength" && length < bound)
                        || (keyword == "maxLength" && length > bound)
                    {
                        errors.push(format!(
                            "{at_root}: string of {length} characters breaks {keyword} {bound}"
                        ));
                    }
                }
            }
            "pattern" => {
                if let (Some(text), Some(pattern)) = (value.as_str(), argument.as_str()) {
                    if !regex(pattern).is_match(text) {
                        errors.push(format!("{at_root}: {value} does not match {pattern}"));
                    }
                }
            }
            "minItems" | "maxItems" => {
                if let (Some(items), Some(bound)) = (value.as_array(), argument.as_u64()) {
                    let count = items.len() as u64;
                    if (keyword == "minItems" && count < bound)
                        || (keyword == "maxItems" && count > bound)
                    {
                        errors.push(format!("{at_root}: {count} items breaks {keyword} {bound}"));
                    }
                }
            }
            "uniqueItems" => {
                if let (Some(items), true) = (value.as_array(), argument == true) {
                    let repeated = items
                        .iter()
                        .enumerate()
                        .any(|(i, item)| items[..i].iter().any(|earlier| same(earlier, item)));
                    if repeated {
                        errors.push(format!("{at_root}: items are not unique"));
                    }
                }
            }
            "items" => {
                for (i, item) in value.as_array().into_iter().flatten().enumerate() {
                    check(argument, item, &format!("{at}/{i}"), errors);
                }
            }
            "format" => {
                if let Some(problem) = format_problem(argument.as_str().unwrap_or_default(), value)
                {
                    errors.push(format!("{at_root}: {problem}"));
                }
            }
            "title" | "description" | "x-discord-union" => {}
            other => errors.push(format!(
                "{at_root}: the validator does not implement the keyword {other:?}"
            )),
        }
    }
}

/// Walks `schema` (at `at`) and notes keywords and formats the validator does not implement.
fn find_unsupported(schema: &Value, at: &str, unsupported: &mut Vec<String>) {
    let Some(schema) = schema.as_object() else {
        return unsupported.push(format!("{at}: a schema that is not an object"));
    };
    for (keyword, argument) in schema {
        if !KEYWORDS.contains(&keyword.as_str()) {
            unsupported.push(format!("{at}: keyword {keyword:?}"));
        }
        match keyword.as_str() {
            "format" if !FORMATS.contains(&argument.as_str().unwrap_or_default()) => {
                unsupported.push(format!("{at}: format {argument}"));
            }
            "properties" => {
                for (name, property) in argument.as_object().into_iter().flatten() {
                    find_unsupported(property, &format!("{at}/properties/{name}"), unsupported);
                }
            }
            "items" => find_unsupported(argument, &format!("{at}/items"), unsupported),
            "additionalProperties" if argument.is_object() => {
                find_unsupported(argument, &format!("{at}/additionalProperties"), unsupported);
            }
            "oneOf" | "anyOf" | "allOf" => {
                for (i, part) in argument.as_array().into_iter().flatten().enumerate() {
                    find_unsupported(part, &format!("{at}/{keyword}/{i}"), unsupported);
                }
            }
            _ => {}
        }
    }
}

/// The schema a `$ref` points at.
fn resolve(reference: &Value) -> &'static Value {
    let reference = reference.as_str().unwrap_or_default();
    let name = reference
        .strip_prefix("#/components/schemas/")
        .unwrap_or_else(|| panic!("unsupported $ref {reference}"));
    SPEC["components"]["schemas"]
        .get(name)
        .unwrap_or_else(|| panic!("the spec subset lacks {reference}"))
}

fn alternative_name(alternative: &Value, index: usize) -> String {
    match alternative["$ref"].as_str() {
        Some(reference) => reference.rsplit('/').next().unwrap_or(reference).to_owned(),
        None => format!("#{index}"),
    }
}

fn has_type(value: &Value, name: &str) -> bool {
    match name {
        "null" => value.is_null(),
        "boolean" => value.is_boolean(),
        "object" => value.is_object(),
        "array" => value.is_array(),
        "string" => value.is_string(),
        "number" => value.is_number(),
        "integer" => Number::of(value).is_some_and(|n| n.is_integer()),
        _ => false,
    }
}

fn type_name(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "boolean",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}

/// JSON equality with numbers compared by value (`1` equals `1.0`).
fn same(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Number(_), Value::Number(_)) => {
            Number::of(a).zip(Number::of(b)).map(|(x, y)| x.cmp(y)) == Some(Ordering::Equal)
        }
        (Value::Array(x), Value::Array(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(x, y)| same(x, y))
        }
        (Value::Object(x), Value::Object(y)) => same_objects(x, y),
        _ => a == b,
    }
}

fn same_objects(x: &Map<String, Value>, y: &Map<String, Value>) -> bool {
    x.len() == y.len() && x.iter().all(|(k, v)| y.get(k).is_some_and(|w| same(v, w)))
}

/// What is wrong with `value` for the `format`, if anything. Formats constrain values of their
/// own type only.
fn format_problem(format: &str, value: &Value) -> Option<String> {
    static URI: LazyLock<Regex> =
        LazyLock::new(|| Regex::new(r"^[A-Za-z][A-Za-z0-9+.\-]*:\S+$").unwrap());
    static DATE_TIME: LazyLock<Regex> = LazyLock::new(|| {
        Regex::new(r"^\d{4}-\d{2}-\d{2}[Tt]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})$")
            .unwrap()
    });
    let in_range = |min: i128, max: i128| {
        Number::of(value)
            .and_then(Number::as_integer)
            .is_none_or(|n| (min..=max).contains(&n))
    };
    let ok = match (format, value) {
        ("int32", _) => in_range(i32::MIN.into(), i32::MAX.into()),
        ("int64", _) => in_range(i64::MIN.into(), i64::MAX.into()),
        ("snowflake", Value::String(s)) => s.parse::<u64>().is_ok(),
        ("uri", Value::String(s)) => URI.is_match(s),
        ("date-time", Value::String(s)) => DATE_TIME.is_match(s),
        ("double" | "nonce" | "snowflake" | "uri" | "date-time", _) => true,
        (other, _) => return Some(format!("the validator does not implement format {other:?}")),
    };
    (!ok).then(|| format!("{value} is not a valid {format}"))
}

/// Compiled once per pattern.
fn regex(pattern: &str) -> Regex {
    static CACHE: LazyLock<Mutex<HashMap<String, Regex>>> = LazyLock::new(Default::default);
    let mut cache = CACHE.lock().expect("regex cache");
    cache
        .entry(pattern.to_owned())
        .or_insert_with(|| {
            Regex::new(pattern).unwrap_or_else(|e| panic!("pattern {pattern:?}: {e}"))
        })
        .clone()
}

/// A JSON number, exact for integers.
#[derive(Clone, Copy)]
enum Number {
    Integer(i128),
    Float(f64),
}

impl Number {
    fn of(value: &Value) -> Option<Number> {
        if let Some(n) = value.as_i64() {
            Some(Number::Integer(n.into()))
        } else if let Some(n) = value.as_u64() {
            Some(Number::Integer(n.into()))
        } else {
            value.as_f64().map(Number::Float)
        }
    }

    fn is_integer(self) -> bool {
        self.as_integer().is_some()
    }

    fn as_integer(self) -> Option<i128> {
        match self {
            Number::Integer(n) => Some(n),
            Number::Float(f) if f.fract() == 0.0 && f.abs() < 1e38 => Some(f as i128),
            Number::Float(_) => None,
        }
    }

    fn cmp(self, other: Number) -> Ordering {
        match (self, other) {
            (Number::Integer(a), Number::Integer(b)) => a.cmp(&b),
            (a, b) => a.as_f64().total_cmp(&b.as_f64()),
        }
    }

    fn as_f64(self) -> f64 {
        match self {
            Number::Integer(n) => n as f64,
            Number::Float(f) => f,
        }
    }
}
