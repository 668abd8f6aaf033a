// subsonic-api (npm) against the real server on the real dataset (scripts/test-subsonic
// serves it): API-key and token sign-in, POST forms, album order, genres, album lists and
// the empty-query sync, as a JavaScript player would call them.
import { test, before } from "node:test";
import assert from "node:assert/strict";
import { SubsonicAPI } from "subsonic-api";

const url = process.env.CHINOOK_URL;
const OWNER = "lucas.mancini@yahoo.it";
const PASSWORD = process.env.CHINOOK_DEMO_PASSWORD ?? "chinook-demo";

async function rest(method, path, token, body) {
  const response = await fetch(url + path, {
    method,
    headers: { "content-type": "application/json", ...(token ? { authorization: `Bearer ${token}` } : {}) },
    body: body ? JSON.stringify(body) : undefined,
  });
  assert.ok(response.ok, `${method} ${path}: ${response.status}`);
  return response.json();
}

let keyed;
let tokened;
before(async () => {
  const { token } = await rest("POST", "/api/v1/auth/login", null, { email: OWNER, password: PASSWORD });
  const { key } = await rest("POST", "/api/v1/me/subsonic/api-keys", token, { name: "subsonic-api" });
  const { password } = await rest("POST", "/api/v1/me/subsonic/app-password", token);
  keyed = new SubsonicAPI({ url, auth: { apiKey: key } });
  tokened = new SubsonicAPI({ url, auth: { username: OWNER, password }, post: true });
});

test("both sign-ins work, and the envelope says OpenSubsonic", async () => {
  for (const api of [keyed, tokened]) {
    const pong = await api.ping();
    assert.equal(pong.status, "ok");
    assert.equal(pong.openSubsonic, true);
    assert.equal(pong.type, "chinook");
  }
  const { openSubsonicExtensions } = await keyed.getOpenSubsonicExtensions();
  assert.deepEqual(openSubsonicExtensions.map((e) => e.name).sort(), ["apiKeyAuthentication", "formPost"]);
});

test("an album lists its songs in track order", async () => {
  const { album } = await tokened.getAlbum({ id: "al-1" });
  assert.equal(album.name, "For Those About To Rock We Salute You");
  assert.deepEqual(album.song.map((s) => s.track), [1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
  assert.equal(album.song[0].id, "tr-1");
  assert.equal(album.song[0].owned, true);
});

test("genres, album lists and a whole sync", async () => {
  const { genres } = await keyed.getGenres();
  const rock = genres.genre.find((g) => g.value === "Rock");
  assert.equal(rock.songCount, 1297);
  const seen = new Set();
  for (let offset = 0; ; offset += 100) {
    const { albumList2 } = await keyed.getAlbumList2({ type: "alphabeticalByName", size: 100, offset });
    if (!albumList2.album?.length) break;
    for (const a of albumList2.album) seen.add(a.id);
  }
  assert.equal(seen.size, 347);
  let songs = 0;
  for (let offset = 0; ; offset += 500) {
    const { searchResult3 } = await tokened.search3({ query: "", songCount: 500, songOffset: offset, artistCount: 0, albumCount: 0 });
    if (!searchResult3.song?.length) break;
    songs += searchResult3.song.length;
  }
  assert.equal(songs, 3503);
});
