//! The envelope in XML, JSON and JSONP, GET and POST form, `.view`, arrays of one, and
//! errors: codes, HTTP 200, the requested format, never a 5xx for bad input.

use super::{call, call_status, code, ok, password, spawn, OWNER};

#[tokio::test]
async fn every_format_carries_the_envelope() {
    let app = spawn().await;
    let auth = password(OWNER);
    for path in ["/rest/ping", "/rest/ping.view"] {
        let xml = app
            .client
            .get(app.url(path))
            .query(&[
                ("v", "1.16.1"),
                ("c", "t"),
                ("u", OWNER),
                ("p", crate::helpers::DEMO_PASSWORD),
            ])
            .send()
            .await
            .unwrap();
        assert_eq!(xml.status(), 200);
        assert!(xml.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("application/xml"));
        let body = xml.text().await.unwrap();
        assert!(
            body.starts_with("<?xml version=\"1.0\" encoding=\"UTF-8\"?><subsonic-response "),
            "{body}"
        );
        for attribute in [
            "status=\"ok\"",
            "version=\"1.16.1\"",
            "type=\"chinook\"",
            "openSubsonic=\"true\"",
            "serverVersion=",
            "xmlns=\"http://subsonic.org/restapi\"",
        ] {
            assert!(body.contains(attribute), "{attribute} missing from {body}");
        }
    }
    let json = ok(&app, "ping", &auth, &[]).await;
    assert_eq!(json["version"], "1.16.1");
    assert_eq!(json["type"], "chinook");
    assert_eq!(json["openSubsonic"], true);
    assert!(json["serverVersion"].is_string());

    let jsonp = app
        .client
        .get(app.url("/rest/ping"))
        .query(&[
            ("v", "1.16.1"),
            ("c", "t"),
            ("u", OWNER),
            ("p", crate::helpers::DEMO_PASSWORD),
            ("f", "jsonp"),
            ("callback", "player.cb"),
        ])
        .send()
        .await
        .unwrap();
    assert!(jsonp.headers()["content-type"]
        .to_str()
        .unwrap()
        .starts_with("application/javascript"));
    let text = jsonp.text().await.unwrap();
    assert!(
        text.starts_with("/**/player.cb({\"subsonic-response\":") && text.ends_with(");"),
        "{text}"
    );

    let unsafe_callback = app
        .client
        .get(app.url("/rest/ping"))
        .query(&[("f", "jsonp"), ("callback", "alert(1)//")])
        .send()
        .await
        .unwrap();
    assert_eq!(unsafe_callback.status(), 200);
    let text = unsafe_callback.text().await.unwrap();
    assert!(
        text.contains("status=\"failed\"") && !text.contains("alert(1)//("),
        "{text}"
    );
}

#[tokio::test]
async fn post_forms_are_read_like_queries() {
    let app = spawn().await;
    let form = [
        ("v", "1.16.1"),
        ("c", "t"),
        ("u", OWNER),
        ("p", crate::helpers::DEMO_PASSWORD),
        ("f", "json"),
        ("id", "al-1"),
    ];
    let response = app
        .client
        .post(app.url("/rest/getAlbum.view"))
        .form(&form)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let body: serde_json::Value = response.json().await.unwrap();
    let album = &body["subsonic-response"]["album"];
    assert_eq!(album["id"], "al-1");
    assert_eq!(album["song"].as_array().unwrap().len(), 10);

    let not_a_form = app
        .client
        .post(app.url("/rest/ping?f=json"))
        .header("content-type", "application/json")
        .body("{\"u\":1}")
        .send()
        .await
        .unwrap();
    assert_eq!(not_a_form.status(), 200);
    let body: serde_json::Value = not_a_form.json().await.unwrap();
    assert_eq!(code(&body["subsonic-response"]), 0);
}

#[tokio::test]
async fn one_item_lists_are_arrays() {
    let app = spawn().await;
    let auth = password(OWNER);
    let folders = ok(&app, "getMusicFolders", &auth, &[]).await;
    let list = folders["musicFolders"]["musicFolder"].as_array().unwrap();
    assert_eq!(list.len(), 1);
    let one = ok(
        &app,
        "getAlbumList2",
        &auth,
        &[("type", "newest"), ("size", "1")],
    )
    .await;
    assert_eq!(one["albumList2"]["album"].as_array().unwrap().len(), 1);
    let song = ok(
        &app,
        "search3",
        &auth,
        &[
            ("query", "Balls to the Wall"),
            ("songCount", "1"),
            ("albumCount", "1"),
            ("artistCount", "0"),
        ],
    )
    .await;
    assert!(song["searchResult3"]["song"].is_array());
    assert!(song["searchResult3"]["artist"]
        .as_array()
        .unwrap()
        .is_empty());
}

#[tokio::test]
async fn errors_have_codes_http_200_and_the_requested_format() {
    let app = spawn().await;
    let auth = password(OWNER);
    let unknown = call(&app, "getEverything", &auth, &[]).await;
    assert_eq!(code(&unknown), 70);
    assert!(unknown["error"]["message"]
        .as_str()
        .unwrap()
        .contains("getEverything"));
    assert_eq!(code(&call(&app, "getAlbum", &auth, &[]).await), 10);
    assert_eq!(
        code(&call(&app, "getAlbum", &auth, &[("id", "al-99999")]).await),
        70
    );
    assert_eq!(
        code(&call(&app, "getAlbum", &auth, &[("id", "nonsense")]).await),
        70
    );
    assert_eq!(
        code(
            &call(
                &app,
                "getAlbumList2",
                &auth,
                &[("type", "newest"), ("size", "ten")]
            )
            .await
        ),
        0
    );
    assert_eq!(
        code(
            &call(
                &app,
                "getAlbumList2",
                &auth,
                &[("type", "newest"), ("size", "501")]
            )
            .await
        ),
        0
    );
    assert_eq!(
        code(&call(&app, "getAlbumList2", &auth, &[("type", "sideways")]).await),
        0
    );
    assert_eq!(
        code(&call(&app, "setRating", &auth, &[("id", "tr-1"), ("rating", "9")]).await),
        0
    );
    assert_eq!(
        code(&call(&app, "getAlbumList2", &auth, &[("type", "byYear")]).await),
        10
    );
    // An older major version must upgrade (20); a newer one than the server's is 30.
    let (status, old) = call_status(&app, "ping", &auth, &[("v", "0.9.0")]).await;
    assert_eq!((status, code(&old)), (200, 20));
    let newer = call(&app, "ping", &auth, &[("v", "1.99.0")]).await;
    assert_eq!(code(&newer), 30);

    let xml = app
        .client
        .get(app.url("/rest/getAlbum?v=1.16.1&c=t&id=al-1"))
        .send()
        .await
        .unwrap();
    assert_eq!(xml.status(), 200);
    let text = xml.text().await.unwrap();
    assert!(
        text.contains("status=\"failed\"") && text.contains("<error code=\"10\""),
        "{text}"
    );

    // Odd bytes, odd parameters, odd methods: never a 5xx.
    for path in [
        "/rest/getSong?f=json&v=1.16.1&u=%FF%FE&p=enc:zz&id=tr-1",
        "/rest/getAlbumList2?f=json&v=1.16.1&u=x&p=y&type=random&size=-1",
        "/rest/..%2F..%2Fetc?f=json",
        "/rest/stream?f=json&v=1.16.1&id=%00",
        "/rest/search3?f=json&v=a.b.c",
        "/rest/getAlbumList2?f=json&v=1.16.1&u=lucas.mancini@yahoo.it&p=chinook-demo&type=starred&offset=18446744073709551615",
        "/rest/getAlbumList2?f=json&v=1.16.1&u=lucas.mancini@yahoo.it&p=chinook-demo&type=frequent&offset=9223372036854775807",
        "/rest/search3?f=json&v=1.16.1&u=lucas.mancini@yahoo.it&p=chinook-demo&query=&songOffset=9223372036854775807",
        "/rest/getSong?f=json&v=1.16.1&u=lucas.mancini@yahoo.it&p=chinook-demo&id=tr-99999999999999999999",
        "/rest/scrobble?f=json&v=1.16.1&u=lucas.mancini@yahoo.it&p=chinook-demo&id=tr-1&time=99999999999999999",
    ] {
        let response = app.client.get(app.url(path)).send().await.unwrap();
        assert!(
            response.status().as_u16() < 500,
            "{path}: {}",
            response.status()
        );
    }
}
