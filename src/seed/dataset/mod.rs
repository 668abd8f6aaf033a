//! Import of the real Chinook dataset (`ChinookData.json`, one array per table).
//!
//! The file is parsed and checked whole before anything is written: every id is unique,
//! every reference resolves, every price is whole cents and every invoice total is the sum of
//! its lines. A problem is reported with the table, the row and the field.

mod check;
mod write;

use anyhow::{anyhow, Context};
use serde::Deserialize;

pub(super) use write::write;

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct Dataset {
    genre: Vec<Named<GenreId>>,
    media_type: Vec<Named<MediaTypeId>>,
    artist: Vec<Named<ArtistId>>,
    album: Vec<Album>,
    track: Vec<Track>,
    employee: Vec<Employee>,
    customer: Vec<Customer>,
    invoice: Vec<Invoice>,
    invoice_line: Vec<InvoiceLine>,
    playlist: Vec<Named<PlaylistId>>,
    playlist_track: Vec<PlaylistTrack>,
}

/// The rows of Genre, MediaType, Artist and Playlist: an id under a table-specific key, and a name.
#[derive(Debug, Deserialize)]
struct Named<Id> {
    #[serde(flatten)]
    id: Id,
    #[serde(rename = "Name")]
    name: String,
}

macro_rules! id_key {
    ($name:ident, $key:literal) => {
        #[derive(Debug, Deserialize)]
        struct $name {
            #[serde(rename = $key)]
            id: i64,
        }
    };
}
id_key!(GenreId, "GenreId");
id_key!(MediaTypeId, "MediaTypeId");
id_key!(ArtistId, "ArtistId");
id_key!(PlaylistId, "PlaylistId");

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct Album {
    album_id: i64,
    title: String,
    artist_id: i64,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct Track {
    track_id: i64,
    name: String,
    album_id: Option<i64>,
    media_type_id: i64,
    genre_id: Option<i64>,
    composer: Option<String>,
    milliseconds: i64,
    bytes: Option<i64>,
    unit_price: f64,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct Employee {
    employee_id: i64,
    last_name: String,
    first_name: String,
    title: Option<String>,
    reports_to: Option<i64>,
    birth_date: Option<String>,
    hire_date: Option<String>,
    #[serde(flatten)]
    contact: Contact,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct Contact {
    address: Option<String>,
    city: Option<String>,
    state: Option<String>,
    country: Option<String>,
    postal_code: Option<String>,
    phone: Option<String>,
    fax: Option<String>,
    email: String,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct Customer {
    customer_id: i64,
    first_name: String,
    last_name: String,
    company: Option<String>,
    #[serde(flatten)]
    contact: Contact,
    support_rep_id: Option<i64>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct Invoice {
    invoice_id: i64,
    customer_id: i64,
    invoice_date: String,
    billing_address: Option<String>,
    billing_city: Option<String>,
    billing_state: Option<String>,
    billing_country: Option<String>,
    billing_postal_code: Option<String>,
    total: f64,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct InvoiceLine {
    invoice_line_id: i64,
    invoice_id: i64,
    track_id: i64,
    unit_price: f64,
    quantity: i64,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct PlaylistTrack {
    playlist_id: i64,
    track_id: i64,
}

/// Parses and checks a dataset file. `name` is used in error messages.
pub fn parse(bytes: &[u8], name: &str) -> anyhow::Result<Dataset> {
    let data: Dataset = serde_json::from_slice(bytes)
        .map_err(|e| anyhow!("dataset {name} is not a valid Chinook dataset: {e}"))?;
    data.check()
        .with_context(|| format!("dataset {name} is inconsistent"))?;
    Ok(data)
}
