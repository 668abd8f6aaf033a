//! The send timeout: a reader that reads the headers of a large stream and then takes
//! nothing has its connection closed after `CHINOOK_SEND_TIMEOUT_SECS`, and its place under
//! the stream cap is freed.

use std::time::{Duration, Instant};

use chinook::media::encode::Rendition;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use crate::helpers::{TestApp, DEMO_PASSWORD};
use crate::redis::until;
use crate::streaming::{give_audio, place_rendition};

const ADMIN: &str = "andrew@chinookcorp.com";
/// Far more than the socket buffers on both sides hold (a few MB at most).
const LARGE: usize = 64 * 1024 * 1024;

/// Sends a stream request and reads up to the end of the response's headers.
async fn stalled_reader(app: &TestApp, token: &str) -> (TcpStream, String) {
    let mut socket = TcpStream::connect(app.address.trim_start_matches("http://"))
        .await
        .unwrap();
    let request = format!(
        "GET /api/v1/tracks/1/stream HTTP/1.1\r\nHost: test\r\nAuthorization: Bearer {token}\r\n\r\n"
    );
    socket.write_all(request.as_bytes()).await.unwrap();
    let mut head = Vec::new();
    let mut byte = [0u8; 1];
    while !head.ends_with(b"\r\n\r\n") {
        assert_eq!(
            socket.read(&mut byte).await.unwrap(),
            1,
            "headers end first"
        );
        head.push(byte[0]);
    }
    (socket, String::from_utf8(head).unwrap())
}

async fn stream_status(app: &TestApp, token: &str) -> u16 {
    let response = app
        .client
        .get(app.url("/api/v1/tracks/1/stream"))
        .bearer_auth(token)
        .header("range", "bytes=0-0")
        .send()
        .await
        .unwrap();
    response.status().as_u16()
}

#[tokio::test]
async fn a_reader_that_stops_reading_is_cut_off_and_its_place_freed() {
    let timeout = Duration::from_secs(1);
    let app = TestApp::spawn_with(|config| {
        config.max_streams_per_account = 1;
        config.stream_linger = Duration::ZERO;
        config.send_timeout = timeout;
    })
    .await;
    give_audio(&app, 1, 1_000).await;
    place_rendition(&app, 1, Rendition::Stream, &vec![0x55; LARGE]).await;
    let admin = app.login(ADMIN, DEMO_PASSWORD).await;

    let started = Instant::now();
    let (mut socket, head) = stalled_reader(&app, &admin).await;
    assert!(head.starts_with("HTTP/1.1 200"), "{head}");
    assert!(head.contains(&format!("content-length: {LARGE}")), "{head}");
    assert_eq!(
        stream_status(&app, &admin).await,
        429,
        "the stalled stream holds the account's one place"
    );
    until(
        "the stalled stream's place freed",
        Duration::from_secs(20),
        async || stream_status(&app, &admin).await == 206,
    )
    .await;
    assert!(
        started.elapsed() >= timeout,
        "freed only after the timeout: {:?}",
        started.elapsed()
    );

    // What the kernel had buffered still arrives, then the connection ends short.
    let mut rest = 0usize;
    let mut buffer = vec![0u8; 1 << 20];
    let ended = tokio::time::timeout(Duration::from_secs(20), async {
        loop {
            match socket.read(&mut buffer).await {
                Ok(0) | Err(_) => return,
                Ok(n) => rest += n,
            }
        }
    })
    .await;
    assert!(ended.is_ok(), "the server closed the connection");
    assert!(
        rest < LARGE,
        "the response was cut short: {rest} of {LARGE} bytes"
    );
}
