"""py-opensonic against the real server on the real dataset: every way of signing in,
answers equal to SQL, the store's rules, JSON answers valid against the spec's OpenAPI
document, and XML answers well-formed with the same data under the spec's element names."""

import asyncio
import json
import urllib.parse
import urllib.request
import xml.etree.ElementTree as ET
from urllib.parse import urlparse

import libopensonic
import pytest
from libopensonic import errors

from conftest import OTHER, OWNER, PASSWORD

NS = "{http://subsonic.org/restapi}"


def connect(url, **auth):
    parsed = urlparse(url)
    return libopensonic.Connection(
        f"{parsed.scheme}://{parsed.hostname}", port=parsed.port, **auth
    )


@pytest.fixture
def token_client(url, owner_credentials):
    conn = connect(url, username=OWNER, password=owner_credentials["app_password"])
    yield conn
    conn.cleanup()


def numbers(ids):
    return [int(i.split("-", 1)[1]) for i in ids]


def column(db, sql, *args):
    return [row[0] for row in db.execute(sql, args)]


def raw(url, method, fmt, **params):
    query = {"v": "1.16.1", "c": "raw", "f": fmt, "u": OWNER, "p": PASSWORD, **params}
    with urllib.request.urlopen(f"{url}/rest/{method}?{urllib.parse.urlencode(query, doseq=True)}") as r:
        return r.status, r.headers.get("content-type"), r.read()


def test_each_way_of_signing_in(url, owner_credentials, token_client):
    assert token_client.ping()
    legacy = connect(url, username=OWNER, password=PASSWORD, legacy_auth=True)
    assert legacy.ping()
    legacy.cleanup()
    keyed = connect(url, api_key=owner_credentials["api_key"]["key"])
    assert keyed.get_user(OWNER).username == OWNER
    keyed.cleanup()
    # Token auth never takes the account password: with an app password made, it is
    # simply the wrong secret.
    wrong = connect(url, username=OWNER, password=PASSWORD)
    with pytest.raises(errors.SonicError):
        wrong.ping()
    wrong.cleanup()
    extensions = {e.name for e in token_client.get_open_subsonic_extensions()}
    assert extensions == {"apiKeyAuthentication", "formPost"}


def test_album_song_order_equals_sql(token_client, db):
    for album in (1, 3, 89, 200):
        got = token_client.get_album(f"al-{album}")
        expected = column(db, "SELECT track_id FROM track WHERE album_id = ? ORDER BY track_id", album)
        assert numbers([s.id for s in got.song]) == expected
        assert got.song_count == len(expected)


def test_genre_counts_equal_sql(token_client, db):
    got = {g.value: (g.song_count, g.album_count) for g in token_client.get_genres() if g.song_count}
    expected = {
        name: (songs, albums)
        for name, songs, albums in db.execute(
            "SELECT g.name, COUNT(t.track_id), COUNT(DISTINCT t.album_id) FROM genre g "
            "JOIN track t ON t.genre_id = g.genre_id GROUP BY g.name"
        )
    }
    assert got == expected


def test_an_empty_query_syncs_everything(token_client, db):
    songs, offset = [], 0
    while True:
        page = token_client.search3('""', artist_count=0, album_count=0, song_count=500, song_offset=offset)
        batch = page.song or []
        if not batch:
            break
        songs.extend(s.id for s in batch)
        offset += len(batch)
    assert numbers(songs) == column(db, "SELECT track_id FROM track ORDER BY track_id")
    albums, offset = [], 0
    while True:
        page = token_client.search3("", artist_count=0, album_count=100, album_offset=offset, song_count=0)
        batch = page.album or []
        if not batch:
            break
        albums.extend(a.id for a in batch)
        offset += len(batch)
    assert numbers(albums) == column(db, "SELECT album_id FROM album ORDER BY album_id")


def test_playlist_entries_equal_sql_and_stay_private(url, token_client, db, other_app_password):
    assert token_client.create_playlist(name="py-opensonic", song_ids=["tr-3", "tr-1", "tr-3"])
    made = next(p for p in token_client.get_playlists() if p.name == "py-opensonic")
    pid = int(made.id.split("-", 1)[1])
    got = token_client.get_playlist(made.id)
    assert numbers([e.id for e in got.entry]) == column(
        db, "SELECT track_id FROM playlist_track WHERE playlist_id = ? ORDER BY position", pid
    )
    other = connect(url, username=OTHER, password=other_app_password)
    with pytest.raises(errors.DataNotFoundError):
        other.get_playlist(made.id)
    assert made.id not in [p.id for p in other.get_playlists()]
    other.cleanup()
    token_client.delete_playlist(made.id)


def read_all(client, response):
    """The body of a response py-opensonic hands back unread; reading it ends the stream, so
    it stops counting against the account's open streams."""
    return asyncio.run_coroutine_threadsafe(response.read(), client._loop).result()


def test_owners_stream_in_full_and_others_hear_previews(url, token_client, other_app_password, db):
    # The owner's stream is the whole MP3 rendition (128 kbit/s unless asked otherwise); its
    # size is what ranges are out of.
    status, content_type, body = raw(url, "stream", "json", id="tr-1")
    assert status == 200 and content_type == "audio/mpeg" and (body[:3] == b"ID3" or body[0] == 0xFF)
    size = len(body)
    full = token_client.stream("tr-1", max_bit_rate=128, byte_range="bytes=0-99")
    assert full.status == 206 and full.headers["Content-Range"] == f"bytes 0-99/{size}"
    assert read_all(token_client, full) == body[:100]
    # The library's default, maxBitRate=0, is no limit: the 320 kbit/s MP3, larger.
    unlimited = token_client.stream("tr-1", byte_range="bytes=0-99")
    assert unlimited.status == 206 and unlimited.headers["Content-Type"] == "audio/mpeg"
    assert int(unlimited.headers["Content-Range"].split("/")[1]) > size * 2
    assert len(read_all(token_client, unlimited)) == 100
    # format=raw is the stored master itself, as its track_audio row describes it.
    (master_type, master_bytes), = db.execute(
        "SELECT content_type, bytes FROM track_audio WHERE track_id = 1").fetchall()
    original = token_client.stream("tr-1", tformat="raw", byte_range="bytes=0-99")
    assert original.status == 206 and original.headers["Content-Type"] == master_type
    assert original.headers["Content-Range"] == f"bytes 0-99/{master_bytes}"
    assert len(read_all(token_client, original)) == 100
    other = connect(url, username=OTHER, password=other_app_password)
    preview = other.stream("tr-1", byte_range="bytes=0-99")
    assert preview.status == 206 and int(preview.headers["Content-Range"].split("/")[1]) < size
    assert len(read_all(other, preview)) == 100
    other.cleanup()
    _, _, clip = raw(url, "stream", "json", id="tr-1", u=OTHER)
    assert len(clip) < size
    song = token_client.get_song("tr-1")
    assert song.title == "For Those About To Rock (We Salute You)"


# Methods whose JSON answers are checked against the spec, with parameters that exercise them.
CALLS = [
    ("ping", {}),
    ("getLicense", {}),
    ("getOpenSubsonicExtensions", {}),
    ("getUser", {"username": OWNER}),
    ("getScanStatus", {}),
    ("getMusicFolders", {}),
    ("getIndexes", {}),
    ("getMusicDirectory", {"id": "ar-1"}),
    ("getMusicDirectory", {"id": "al-1"}),
    ("getArtists", {}),
    ("getArtist", {"id": "ar-1"}),
    ("getAlbum", {"id": "al-1"}),
    ("getSong", {"id": "tr-1"}),
    ("getGenres", {}),
    ("getAlbumList2", {"type": "alphabeticalByArtist", "size": 5, "offset": 20}),
    ("getAlbumList2", {"type": "random", "size": 3}),
    ("getRandomSongs", {"size": 3}),
    ("getSongsByGenre", {"genre": "Rock", "count": 3}),
    ("getTopSongs", {"artist": "AC/DC"}),
    ("getStarred2", {}),
    ("search3", {"query": "iron"}),
    ("getPlaylists", {}),
    ("getPlaylist", {"id": "pl-3"}),
    ("getPlayQueue", {}),
    ("getArtistInfo2", {"id": "ar-1"}),
    ("getAlbumInfo2", {"id": "al-1"}),
    ("getSimilarSongs2", {"id": "tr-1", "count": 5}),
    ("getAlbum", {"id": "al-999999"}),
]


@pytest.mark.parametrize("method,params", CALLS, ids=[f"{m}-{i}" for i, (m, _) in enumerate(CALLS)])
def test_json_answers_follow_the_spec(url, spec_validator, method, params):
    status, content_type, body = raw(url, method, "json", **params)
    assert status == 200 and content_type.startswith("application/json")
    spec_validator(method, json.loads(body))


def element_as_json(element):
    """The JSON the server gives for an XML element, by the Subsonic convention."""
    out = dict(element.attrib)
    if element.text:
        out["value"] = element.text
    for child in element:
        name = child.tag.removeprefix(NS)
        out.setdefault(name, []).append(element_as_json(child))
    return out


def normalise(value):
    """JSON values as XML carries them: scalars as strings, arrays of one flattened the way
    XML cannot tell apart."""
    if isinstance(value, dict):
        # XML cannot tell an empty list from no list.
        return {k: normalise(v) for k, v in value.items() if v != []}
    if isinstance(value, list):
        return [normalise(v) for v in value]
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def listify(value):
    """Objects as lists of one, as `element_as_json` makes every child a list."""
    if isinstance(value, dict):
        return {k: listify(v) if isinstance(v, list) else [listify(v)] if isinstance(v, dict) else v for k, v in value.items()}
    if isinstance(value, list):
        return [listify(v) for v in value]
    return value


def scalars_in_lists(value):
    """Arrays of scalars (`versions: [1]`) become elements with text, as in XML."""
    if isinstance(value, dict):
        return {k: scalars_in_lists(v) for k, v in value.items()}
    if isinstance(value, list):
        return [{"value": v} if not isinstance(v, (dict, list)) else scalars_in_lists(v) for v in value]
    return value


@pytest.mark.parametrize("method,params", CALLS, ids=[f"{m}-{i}" for i, (m, _) in enumerate(CALLS)])
def test_xml_answers_carry_the_same_data(url, method, params):
    if method in ("getAlbumList2", "getRandomSongs") and params.get("type", "random") == "random":
        pytest.skip("random answers differ from one call to the next")
    _, content_type, xml_body = raw(url, method, "xml", **params)
    assert content_type.startswith("application/xml")
    root = ET.fromstring(xml_body)
    assert root.tag == f"{NS}subsonic-response"
    _, _, json_body = raw(url, method, "json", **params)
    expected = json.loads(json_body)["subsonic-response"]
    got = element_as_json(root)
    got.pop("value", None)
    assert got == normalise(scalars_in_lists(listify(expected)))
