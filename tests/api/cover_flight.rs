//! A burst of first requests for a cover variant nobody asked for yet costs one render.

use crate::helpers::TestApp;

#[tokio::test]
async fn twenty_concurrent_first_requests_for_a_new_cover_size_make_one_render() {
    let app = TestApp::spawn().await;
    let before = app.state.media.cover_renders();
    let path = "/api/v1/albums/7/cover?size=600&format=jpeg";
    let requests = (0..20).map(|_| async {
        let response = app.get(path).await.unwrap();
        assert_eq!(response.status(), 200);
        response.bytes().await.unwrap()
    });
    let bodies = futures_util::future::join_all(requests).await;
    assert!(bodies.iter().all(|b| b == &bodies[0]), "one image");
    assert!(bodies[0].starts_with(&[0xFF, 0xD8]), "a JPEG");
    assert_eq!(app.state.media.cover_renders() - before, 1, "one render");
    // Cached now: asking again renders nothing.
    assert_eq!(app.get(path).await.unwrap().status(), 200);
    assert_eq!(app.state.media.cover_renders() - before, 1);
}
