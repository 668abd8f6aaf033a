//! The XML form of an answer, made from its JSON form by the rule the Subsonic schema
//! follows: an object is an element, its scalar fields are attributes, its `value` field is
//! the element's text (as in `<genre songCount="2">Rock</genre>`), and an array is the same
//! element repeated.

use serde_json::{Map, Value};

const NAMESPACE: &str = "http://subsonic.org/restapi";

/// The whole document for an envelope `{"subsonic-response": {...}}`.
pub fn document(envelope: &Value) -> String {
    let mut out = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>");
    if let Some(Value::Object(body)) = envelope.get("subsonic-response") {
        let mut body = body.clone();
        body.insert("xmlns".into(), Value::from(NAMESPACE));
        object(&mut out, "subsonic-response", &body);
    }
    out
}

fn scalar(value: &Value) -> Option<String> {
    match value {
        Value::String(s) => Some(s.clone()),
        Value::Bool(b) => Some(b.to_string()),
        Value::Number(n) => Some(n.to_string()),
        Value::Null | Value::Array(_) | Value::Object(_) => None,
    }
}

fn element(out: &mut String, name: &str, value: &Value) {
    match value {
        Value::Object(fields) => object(out, name, fields),
        Value::Array(items) => {
            for item in items {
                element(out, name, item);
            }
        }
        Value::Null => {}
        other => {
            let text = scalar(other).unwrap_or_default();
            out.push('<');
            out.push_str(name);
            out.push('>');
            escape(out, &text);
            out.push_str("</");
            out.push_str(name);
            out.push('>');
        }
    }
}

fn object(out: &mut String, name: &str, fields: &Map<String, Value>) {
    out.push('<');
    out.push_str(name);
    for (key, value) in fields {
        if key == "value" {
            continue;
        }
        if let Some(text) = scalar(value) {
            out.push(' ');
            out.push_str(key);
            out.push_str("=\"");
            escape(out, &text);
            out.push('"');
        }
    }
    let text = fields.get("value").and_then(scalar);
    let nested: Vec<(&String, &Value)> = fields
        .iter()
        .filter(|(_, v)| matches!(v, Value::Array(_) | Value::Object(_)))
        .collect();
    if text.is_none() && nested.is_empty() {
        out.push_str("/>");
        return;
    }
    out.push('>');
    if let Some(text) = text {
        escape(out, &text);
    }
    for (key, value) in nested {
        element(out, key, value);
    }
    out.push_str("</");
    out.push_str(name);
    out.push('>');
}

/// Escapes text for attributes and content alike. Characters XML 1.0 cannot carry at all
/// (most control characters) become U+FFFD, so the document stays well-formed whatever a
/// name contains.
fn escape(out: &mut String, text: &str) {
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            '\t' => out.push_str("&#9;"),
            '\n' => out.push_str("&#10;"),
            '\r' => out.push_str("&#13;"),
            c if (c as u32) < 0x20 || c == '\u{FFFE}' || c == '\u{FFFF}' => out.push('\u{FFFD}'),
            c => out.push(c),
        }
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    #[test]
    fn objects_become_elements_with_attributes_and_repeated_children() {
        let envelope = json!({"subsonic-response": {
            "status": "ok",
            "genres": {"genre": [{"value": "R&B", "songCount": 2}, {"value": "Rock", "songCount": 1}]},
            "note": "a\u{1}b\"<"
        }});
        let xml = super::document(&envelope);
        assert!(xml.contains("<genres><genre songCount=\"2\">R&amp;B</genre><genre songCount=\"1\">Rock</genre></genres>"), "{xml}");
        assert!(xml.contains("note=\"a\u{FFFD}b&quot;&lt;\""), "{xml}");
        assert!(xml.contains("xmlns=\"http://subsonic.org/restapi\""));
    }
}
