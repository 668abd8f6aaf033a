"""The server under test (scripts/test-subsonic starts it) and what the tests share: its
URL, its SQLite database for the answers SQL gives, accounts with an app password and an
API key made through the REST API, and the spec's OpenAPI document as a validator."""

import json
import os
import pathlib
import sqlite3
import urllib.request

import pytest
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT4

OWNER = "lucas.mancini@yahoo.it"  # owns track 1
OTHER = "leonekohler@surfeu.de"  # does not
PASSWORD = os.environ.get("CHINOOK_DEMO_PASSWORD", "chinook-demo")
SPEC = pathlib.Path(os.environ.get("OPENSUBSONIC_SPEC", "../shared/opensubsonic")).resolve()


@pytest.fixture(scope="session")
def url():
    return os.environ["CHINOOK_URL"]


@pytest.fixture(scope="session")
def db():
    conn = sqlite3.connect(f"file:{os.environ['CHINOOK_DB']}?mode=ro", uri=True)
    yield conn
    conn.close()


def rest(url, method, path, token=None, body=None):
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(url + path, data=data, method=method)
    request.add_header("content-type", "application/json")
    if token:
        request.add_header("authorization", f"Bearer {token}")
    with urllib.request.urlopen(request) as response:
        text = response.read()
        return json.loads(text) if text else None


def login(url, email):
    return rest(url, "POST", "/api/v1/auth/login", body={"email": email, "password": PASSWORD})["token"]


@pytest.fixture(scope="session")
def owner_credentials(url):
    token = login(url, OWNER)
    app_password = rest(url, "POST", "/api/v1/me/subsonic/app-password", token)["password"]
    api_key = rest(url, "POST", "/api/v1/me/subsonic/api-keys", token, {"name": "py-opensonic"})
    return {"token": token, "app_password": app_password, "api_key": api_key}


@pytest.fixture(scope="session")
def other_app_password(url):
    token = login(url, OTHER)
    return rest(url, "POST", "/api/v1/me/subsonic/app-password", token)["password"]


def _retrieve(uri):
    path = pathlib.Path(uri.removeprefix("file://"))
    return Resource.from_contents(json.loads(path.read_text()), default_specification=DRAFT4)


@pytest.fixture(scope="session")
def spec_validator():
    """validate(method, body): checks a JSON answer against the spec's schema for that
    endpoint's 200 response, following the document's relative references."""
    from jsonschema import Draft4Validator

    registry = Registry(retrieve=_retrieve)
    base = SPEC / "openapi" / "endpoints"

    def validate(method, body):
        endpoint = json.loads((base / f"{method}.json").read_text())
        response, at = endpoint["get"]["responses"]["200"], base
        if "$ref" in response:
            at = (base / response["$ref"]).resolve().parent
            response = json.loads((base / response["$ref"]).read_text())
        schema = response["content"]["application/json"]["schema"]
        ref = (at / schema["$ref"]).resolve() if "$ref" in schema else None
        wrapper = {"$ref": ref.as_uri()} if ref else schema
        Draft4Validator(wrapper, registry=registry).validate(body)

    return validate
