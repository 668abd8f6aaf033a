//! Every request's budget, over raw TCP as an attacker would send it: a body that stalls or
//! drips is cut with a 408 problem and a closed connection; connections over the cap per
//! client address, or over the overall cap, are answered 503 and closed; places come back
//! when connections close.

use std::time::{Duration, Instant};

use serde_json::Value;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use crate::helpers::TestApp;

/// One HTTP/1.1 answer read off a raw connection.
struct Answer {
    status: u16,
    headers: String,
    body: Vec<u8>,
}

impl Answer {
    fn problem(&self) -> Value {
        assert!(
            self.headers
                .to_ascii_lowercase()
                .contains("content-type: application/problem+json"),
            "{}",
            self.headers
        );
        serde_json::from_slice(&self.body).expect("a problem document")
    }

    fn closes(&self) -> bool {
        self.headers
            .to_ascii_lowercase()
            .contains("connection: close")
    }
}

/// Reads one answer (headers and a `Content-Length` body) within `limit`.
async fn read_answer(stream: &mut TcpStream, limit: Duration) -> Answer {
    tokio::time::timeout(limit, async {
        let mut buffer = Vec::new();
        let mut chunk = [0u8; 4096];
        let end = loop {
            if let Some(at) = buffer.windows(4).position(|w| w == b"\r\n\r\n") {
                break at + 4;
            }
            let n = stream.read(&mut chunk).await.expect("reading the answer");
            assert!(n > 0, "the connection closed without an answer");
            buffer.extend_from_slice(&chunk[..n]);
        };
        let headers = String::from_utf8_lossy(&buffer[..end]).to_string();
        let status = headers[9..12].parse().expect("a status code");
        let length: usize = headers
            .lines()
            .find_map(|l| {
                let (name, value) = l.split_once(':')?;
                name.eq_ignore_ascii_case("content-length")
                    .then(|| value.trim().parse().ok())?
            })
            .unwrap_or(0);
        let mut body = buffer[end..].to_vec();
        while body.len() < length {
            let n = stream.read(&mut chunk).await.expect("reading the body");
            assert!(n > 0, "the connection closed inside the body");
            body.extend_from_slice(&chunk[..n]);
        }
        Answer {
            status,
            headers,
            body,
        }
    })
    .await
    .expect("an answer in time")
}

/// Whether the server closes the connection within `limit`.
async fn closed(stream: &mut TcpStream, limit: Duration) -> bool {
    let mut byte = [0u8; 1];
    matches!(
        tokio::time::timeout(limit, stream.read(&mut byte)).await,
        Ok(Ok(0)) | Ok(Err(_))
    )
}

async fn connect(app: &TestApp) -> TcpStream {
    let address = app.url("/").replace("http://", "");
    TcpStream::connect(address.trim_end_matches('/'))
        .await
        .expect("the server accepts")
}

fn head(path: &str, length: usize) -> String {
    format!(
        "POST {path} HTTP/1.1\r\nHost: chinook\r\nContent-Type: application/json\r\n\
         Content-Length: {length}\r\n\r\n"
    )
}

#[tokio::test]
async fn a_stalled_body_is_cut_with_a_408_and_a_closed_connection() {
    let app = TestApp::spawn_with(|c| c.body_timeout = Duration::from_secs(1)).await;
    for path in ["/api/v1/auth/login", "/api/v1/auth/register"] {
        let mut stream = connect(&app).await;
        let started = Instant::now();
        stream
            .write_all(format!("{}{{", head(path, 60_000)).as_bytes())
            .await
            .unwrap();
        let answer = read_answer(&mut stream, Duration::from_secs(10)).await;
        let waited = started.elapsed();
        assert_eq!(answer.status, 408, "{path}: {}", answer.headers);
        assert!(answer.closes(), "{}", answer.headers);
        let problem = answer.problem();
        assert_eq!(problem["status"], 408);
        assert!(problem["detail"]
            .as_str()
            .unwrap()
            .contains("did not arrive in time"));
        assert!(
            waited >= Duration::from_millis(900) && waited < Duration::from_secs(4),
            "{path}: cut after {waited:?}, the budget is 1 s"
        );
        assert!(
            closed(&mut stream, Duration::from_secs(2)).await,
            "{path} stays open"
        );
    }
    app.stop().await.unwrap();
}

#[tokio::test]
async fn a_dripping_body_is_cut_when_it_falls_below_the_minimum_rate() {
    let app = TestApp::spawn_with(|c| {
        c.body_timeout = Duration::from_secs(1);
        c.body_min_rate = 1000;
    })
    .await;
    let mut stream = connect(&app).await;
    let started = Instant::now();
    stream
        .write_all(head("/api/v1/auth/login", 60_000).as_bytes())
        .await
        .unwrap();
    // Ten bytes every 200 ms: progress, but 50 bytes a second against a floor of 1000.
    let mut answer = None;
    for _ in 0..50 {
        if stream.write_all(b"          ").await.is_err() {
            break;
        }
        let mut peek = [0u8; 1];
        if let Ok(Ok(n)) =
            tokio::time::timeout(Duration::from_millis(200), stream.peek(&mut peek)).await
        {
            if n > 0 {
                answer = Some(read_answer(&mut stream, Duration::from_secs(2)).await);
            }
            break;
        }
    }
    let answer = answer.expect("an answer before the drip ended");
    assert_eq!(answer.status, 408, "{}", answer.headers);
    assert!(answer.closes());
    assert!(
        started.elapsed() < Duration::from_secs(4),
        "cut after {:?}",
        started.elapsed()
    );
    app.stop().await.unwrap();
}

#[tokio::test]
async fn a_body_that_arrives_within_its_budget_is_served() {
    let app = TestApp::spawn_with(|c| c.body_timeout = Duration::from_secs(1)).await;
    let body = br#"{"email": "nobody@example.com", "password": "not the password"}"#;
    let mut stream = connect(&app).await;
    stream
        .write_all(head("/api/v1/auth/login", body.len()).as_bytes())
        .await
        .unwrap();
    stream.write_all(&body[..10]).await.unwrap();
    tokio::time::sleep(Duration::from_millis(300)).await;
    stream.write_all(&body[10..]).await.unwrap();
    let answer = read_answer(&mut stream, Duration::from_secs(10)).await;
    assert_eq!(answer.status, 401, "{}", answer.headers);
    assert!(
        !answer.closes(),
        "a whole body keeps the connection: {}",
        answer.headers
    );
    app.stop().await.unwrap();
}

/// Opens kept-alive connections one by one, each proved admitted by an answer, until one is
/// refused; returns them and the refusal.
async fn fill(app: &TestApp, most: usize) -> (Vec<TcpStream>, Option<(Answer, TcpStream)>) {
    let mut open = Vec::new();
    for _ in 0..most {
        let mut stream = connect(app).await;
        stream
            .write_all(b"GET /health/live HTTP/1.1\r\nHost: chinook\r\n\r\n")
            .await
            .unwrap();
        let answer = read_answer(&mut stream, Duration::from_secs(5)).await;
        if answer.status != 200 {
            return (open, Some((answer, stream)));
        }
        open.push(stream);
    }
    (open, None)
}

async fn check_cap(app: TestApp, cap: usize, says: &str) {
    let (open, refused) = fill(&app, cap + 2).await;
    let (answer, mut stream) = refused.expect("a connection over the cap is refused");
    // The test client's own pooled connection may hold a place too.
    assert!(
        open.len() <= cap && open.len() + 2 >= cap,
        "{} admitted",
        open.len()
    );
    assert_eq!(answer.status, 503, "{}", answer.headers);
    assert!(answer.closes());
    assert!(answer
        .headers
        .to_ascii_lowercase()
        .contains("retry-after: 1"));
    let problem = answer.problem();
    assert!(
        problem["detail"].as_str().unwrap().contains(says),
        "{problem}"
    );
    assert!(closed(&mut stream, Duration::from_secs(2)).await);
    drop(open);
    // Places come back once the server has seen the connections close.
    let started = Instant::now();
    loop {
        let (again, refused) = fill(&app, 1).await;
        if refused.is_none() && again.len() == 1 {
            break;
        }
        assert!(
            started.elapsed() < Duration::from_secs(5),
            "places never came back"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    app.stop().await.unwrap();
}

#[tokio::test]
async fn connections_over_the_cap_per_client_are_refused_and_places_come_back() {
    let app = TestApp::spawn_with(|c| c.max_connections_per_client = 4).await;
    check_cap(app, 4, "the limit per client").await;
}

#[tokio::test]
async fn connections_over_the_overall_cap_are_refused() {
    let app = TestApp::spawn_with(|c| c.max_connections = 5).await;
    check_cap(app, 5, "connections open, its limit").await;
}
