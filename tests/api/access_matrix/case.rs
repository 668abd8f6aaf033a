//! The cases of the matrix: a request, who sends it, and what must come of it.

use std::fmt;

use reqwest::Method;
use serde_json::Value;

use super::{Who, World, MISSING};

impl World {
    /// Sends a case's request: (status, content type, body as JSON or `Null`).
    async fn send(&self, case: &Case, method: &Method, path: &str) -> (u16, String, Value) {
        let mut request = self.app.client.request(method.clone(), self.app.url(path));
        if let Some(token) = self.token(case.who) {
            request = request.bearer_auth(token);
        }
        for (name, value) in &case.headers {
            request = request.header(*name, value);
        }
        request = match &case.body {
            Body::None => request,
            Body::Json(value) => request.json(value),
            Body::Bytes(bytes) => request.body(bytes.clone()),
        };
        let response = request.send().await.expect("the request is answered");
        let status = response.status().as_u16();
        let content_type = response
            .headers()
            .get("content-type")
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_string();
        let bytes = response.bytes().await.unwrap_or_default();
        let body = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
        (status, content_type, body)
    }

    async fn check(&self, case: &Case) -> Result<(), String> {
        let (status, content_type, body) = self.send(case, &case.method, &case.path).await;
        let problem = |want: u16| -> Result<(), String> {
            let is_problem = content_type == "application/problem+json"
                && body["status"] == want
                && ["type", "title", "detail"]
                    .iter()
                    .all(|f| body[f].as_str().is_some_and(|s| !s.is_empty()));
            match (status == want, is_problem) {
                (true, true) => Ok(()),
                _ => Err(format!("got {status} {content_type}: {}", short(&body))),
            }
        };
        match &case.expect {
            Expect::Ok(want) if status != *want => {
                return Err(format!("got {status}: {}", short(&body)));
            }
            Expect::Ok(_) => {}
            Expect::Problem(want) => problem(*want)?,
            Expect::Like {
                status: want,
                id,
                reference: (method, reference),
            } => {
                problem(*want)?;
                let (_, _, like) = self.send(case, method, reference).await;
                let words = |v: &Value, id: i64| digits_as(v["detail"].as_str().unwrap_or(""), id);
                if like["status"] != *want
                    || like["type"] != body["type"]
                    || like["title"] != body["title"]
                    || words(&like, MISSING) != words(&body, *id)
                {
                    return Err(format!("{body} is not like {method} {reference}: {like}"));
                }
            }
            Expect::Allowed if matches!(status, 401 | 403) || status >= 500 => {
                return Err(format!("got {status}: {}", short(&body)));
            }
            Expect::Allowed => {}
        }
        for check in &case.checks {
            check.holds(&body)?;
        }
        Ok(())
    }

    /// Runs every case and fails with the list of those that did not hold.
    pub async fn run(&self, cases: &[Case]) {
        let mut failures = Vec::new();
        for case in cases {
            if let Err(why) = self.check(case).await {
                failures.push(format!("{case}\n    {why}"));
            }
        }
        assert!(
            failures.is_empty(),
            "{} of {} cases failed:\n{}",
            failures.len(),
            cases.len(),
            failures.join("\n")
        );
    }
}

/// A body, cut short enough to read in a list of failures.
fn short(body: &Value) -> String {
    let text = body.to_string();
    match text.char_indices().nth(300) {
        Some((at, _)) => format!("{}…", &text[..at]),
        None => text,
    }
}

/// `text` with every whole number equal to `id` written `#`.
fn digits_as(text: &str, id: i64) -> String {
    let id = id.to_string();
    let mut out = String::new();
    let mut run = String::new();
    for c in text.chars().chain(std::iter::once(' ')) {
        if c.is_ascii_digit() {
            run.push(c);
            continue;
        }
        out.push_str(if run == id { "#" } else { &run });
        run.clear();
        out.push(c);
    }
    out.pop();
    out
}

pub enum Body {
    None,
    Json(Value),
    Bytes(Vec<u8>),
}

pub enum Expect {
    Ok(u16),
    Problem(u16),
    /// This problem, with the title and words (but for the id) of the `reference` request,
    /// which names `MISSING` where this one names `id`.
    Like {
        status: u16,
        id: i64,
        reference: (Method, String),
    },
    /// Neither 401 nor 403 nor a 5xx.
    Allowed,
}

pub enum Check {
    /// The entries' (or the object's) `field` include every one of these.
    Lists(&'static str, Vec<i64>),
    /// ... and none of these.
    Never(&'static str, Vec<i64>),
    /// The value at a JSON pointer.
    Is(&'static str, Value),
    /// The amount `totals.total`, and the sum of the rows' `total`, in cents.
    Sums(i64),
}

fn ids(body: &Value, field: &str) -> Vec<i64> {
    match body["data"].as_array() {
        Some(rows) => rows.iter().filter_map(|r| r[field].as_i64()).collect(),
        None => body[field].as_i64().into_iter().collect(),
    }
}

fn cents(amount: &Value) -> i64 {
    chinook::money::parse_cents(amount.as_str().unwrap_or("?")).unwrap_or(i64::MIN)
}

impl Check {
    fn holds(&self, body: &Value) -> Result<(), String> {
        let fail = |what: String| Err(format!("{what} in {}", short(body)));
        if matches!(self, Check::Lists(..) | Check::Never(..))
            && body["page"]["next_cursor"].is_string()
        {
            return fail("a list that does not fit one page".into());
        }
        match self {
            Check::Lists(field, want) => {
                let got = ids(body, field);
                match want.iter().find(|id| !got.contains(id)) {
                    Some(id) => fail(format!("{field} {id} is missing")),
                    None => Ok(()),
                }
            }
            Check::Never(field, unwanted) => {
                let got = ids(body, field);
                match unwanted.iter().find(|id| got.contains(id)) {
                    Some(id) => fail(format!("LEAK: {field} {id} is there")),
                    None => Ok(()),
                }
            }
            Check::Is(pointer, want) if body.pointer(pointer) != Some(want) => {
                fail(format!("{pointer} is not {want}"))
            }
            Check::Is(..) => Ok(()),
            Check::Sums(want) => {
                let rows: i64 = body["data"]
                    .as_array()
                    .map(|rows| rows.iter().map(|r| cents(&r["total"])).sum())
                    .unwrap_or(-1);
                match (cents(&body["totals"]["total"]), rows) {
                    (total, rows) if total == *want && rows == *want => Ok(()),
                    (total, rows) => {
                        fail(format!("totals {total} and rows {rows}, not {want} cents"))
                    }
                }
            }
        }
    }
}

/// One request of the matrix and what must come of it.
pub struct Case {
    who: Who,
    method: Method,
    path: String,
    headers: Vec<(&'static str, String)>,
    body: Body,
    expect: Expect,
    checks: Vec<Check>,
}

impl fmt::Display for Case {
    fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result {
        write!(f, "{}: {} {} → ", self.who, self.method, self.path)?;
        match &self.expect {
            Expect::Ok(status) => write!(f, "{status}")?,
            Expect::Problem(status) => write!(f, "{status} problem")?,
            Expect::Like {
                status,
                reference: (method, path),
                ..
            } => write!(f, "{status}, as for {method} {path}")?,
            Expect::Allowed => write!(f, "allowed")?,
        }
        for check in &self.checks {
            match check {
                Check::Lists(field, ids) => write!(f, ", listing {field}s {ids:?}")?,
                Check::Never(field, ids) => write!(f, ", never {field}s {ids:?}")?,
                Check::Is(pointer, value) => write!(f, ", {pointer} = {value}")?,
                Check::Sums(cents) => write!(f, ", summing to {cents} cents")?,
            }
        }
        Ok(())
    }
}

impl Who {
    pub fn call(self, method: Method, path: impl Into<String>) -> Case {
        Case {
            who: self,
            method,
            path: path.into(),
            headers: Vec::new(),
            body: Body::None,
            expect: Expect::Ok(200),
            checks: Vec::new(),
        }
    }

    pub fn get(self, path: impl Into<String>) -> Case {
        self.call(Method::GET, path)
    }
}

impl Case {
    pub fn json(mut self, body: Value) -> Self {
        self.body = Body::Json(body);
        self
    }

    pub fn bytes(mut self, body: Vec<u8>) -> Self {
        self.body = Body::Bytes(body);
        self
    }

    pub fn header(mut self, name: &'static str, value: &str) -> Self {
        self.headers.push((name, value.to_string()));
        self
    }

    pub fn is(mut self, status: u16) -> Self {
        self.expect = Expect::Ok(status);
        self
    }

    pub fn problem(mut self, status: u16) -> Self {
        self.expect = Expect::Problem(status);
        self
    }

    pub fn allowed(mut self) -> Self {
        self.expect = Expect::Allowed;
        self
    }

    /// A 404 like the one for the same path with `id` (its last occurrence) made `MISSING`.
    pub fn hidden(mut self, id: i64) -> Self {
        let mut segments: Vec<String> = self.path.split('/').map(String::from).collect();
        let at = segments
            .iter()
            .rposition(|s| s.split('?').next() == Some(&id.to_string()));
        let at = at.unwrap_or_else(|| panic!("{} has no segment {id}", self.path));
        segments[at] = segments[at].replacen(&id.to_string(), &MISSING.to_string(), 1);
        self.expect = Expect::Like {
            status: 404,
            id,
            reference: (self.method.clone(), segments.join("/")),
        };
        self
    }

    /// A 403 with the words of `GET reference`, about `MISSING`.
    pub fn refused_as(mut self, id: i64, reference: String) -> Self {
        self.expect = Expect::Like {
            status: 403,
            id,
            reference: (Method::GET, reference),
        };
        self
    }

    pub fn lists(mut self, field: &'static str, ids: &[i64]) -> Self {
        self.checks.push(Check::Lists(field, ids.to_vec()));
        self
    }

    pub fn never(mut self, field: &'static str, ids: &[i64]) -> Self {
        self.checks.push(Check::Never(field, ids.to_vec()));
        self
    }

    pub fn with(mut self, pointer: &'static str, value: Value) -> Self {
        self.checks.push(Check::Is(pointer, value));
        self
    }

    pub fn sums(mut self, cents: i64) -> Self {
        self.checks.push(Check::Sums(cents));
        self
    }
}
