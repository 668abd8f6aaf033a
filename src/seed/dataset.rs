//! Import of the real Chinook dataset (`ChinookData.json`, one array per table).
//!
//! The file is parsed and checked whole before anything is written: every id is unique,
//! every reference resolves, every price is whole cents and every invoice total is the sum of
//! its lines. A problem is reported with the table, the row and the field.

use std::collections::{HashMap, HashSet};

use anyhow::{anyhow, bail, Context};
use serde::Deserialize;

use super::rows::{write_named, BatchInsert, Value};
use super::{AccountSeed, ACCOUNT_COLUMNS};
use crate::db::{Connected, Counted};
use crate::progress::Progress;
use crate::store::Role;

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

/// Ids of one table, for reference checks.
struct Ids(HashSet<i64>);

impl Ids {
    fn collect(table: &str, ids: impl Iterator<Item = i64>) -> anyhow::Result<Self> {
        let mut set = HashSet::new();
        for (index, id) in ids.enumerate() {
            if !set.insert(id) {
                bail!("{table}[{index}]: id {id} appears twice");
            }
        }
        Ok(Self(set))
    }

    fn require(&self, at: &str, field: &str, target: &str, id: i64) -> anyhow::Result<()> {
        if self.0.contains(&id) {
            Ok(())
        } else {
            bail!("{at}: {field} {id} matches no {target} in the dataset")
        }
    }
}

fn cents(amount: f64, at: &str, field: &str) -> anyhow::Result<i64> {
    let scaled = amount * 100.0;
    let whole = scaled.round();
    if !amount.is_finite() || whole < 0.0 || (scaled - whole).abs() > 1e-6 {
        bail!("{at}: {field} {amount} is not a non-negative amount in whole cents");
    }
    Ok(whole as i64)
}

/// `2021-01-01T00:00:00` as stored: RFC 3339 UTC.
fn timestamp(raw: &str, at: &str, field: &str) -> anyhow::Result<String> {
    let parsed = chrono::NaiveDateTime::parse_from_str(raw, "%Y-%m-%dT%H:%M:%S").map_err(|e| {
        anyhow!("{at}: {field} `{raw}` is not a date like 2021-01-01T00:00:00 ({e})")
    })?;
    Ok(crate::db::timestamp(parsed.and_utc()))
}

impl Dataset {
    fn check(&self) -> anyhow::Result<()> {
        let genres = Ids::collect("Genre", self.genre.iter().map(|g| g.id.id))?;
        let media = Ids::collect("MediaType", self.media_type.iter().map(|m| m.id.id))?;
        let artists = Ids::collect("Artist", self.artist.iter().map(|a| a.id.id))?;
        let albums = Ids::collect("Album", self.album.iter().map(|a| a.album_id))?;
        let tracks = Ids::collect("Track", self.track.iter().map(|t| t.track_id))?;
        let employees = Ids::collect("Employee", self.employee.iter().map(|e| e.employee_id))?;
        let customers = Ids::collect("Customer", self.customer.iter().map(|c| c.customer_id))?;
        let invoices = Ids::collect("Invoice", self.invoice.iter().map(|i| i.invoice_id))?;
        Ids::collect(
            "InvoiceLine",
            self.invoice_line.iter().map(|l| l.invoice_line_id),
        )?;
        let playlists = Ids::collect("Playlist", self.playlist.iter().map(|p| p.id.id))?;

        for (i, album) in self.album.iter().enumerate() {
            artists.require(
                &format!("Album[{i}]"),
                "ArtistId",
                "Artist",
                album.artist_id,
            )?;
        }
        for (i, track) in self.track.iter().enumerate() {
            let at = format!("Track[{i}] (TrackId {})", track.track_id);
            if let Some(album) = track.album_id {
                albums.require(&at, "AlbumId", "Album", album)?;
            }
            if let Some(genre) = track.genre_id {
                genres.require(&at, "GenreId", "Genre", genre)?;
            }
            media.require(&at, "MediaTypeId", "MediaType", track.media_type_id)?;
            if track.milliseconds < 0 || track.bytes.is_some_and(|b| b < 0) {
                bail!("{at}: Milliseconds and Bytes must not be negative");
            }
            cents(track.unit_price, &at, "UnitPrice")?;
        }
        for (i, employee) in self.employee.iter().enumerate() {
            let at = format!("Employee[{i}] (EmployeeId {})", employee.employee_id);
            if let Some(boss) = employee.reports_to {
                employees.require(&at, "ReportsTo", "Employee", boss)?;
            }
            for (field, date) in [
                ("BirthDate", &employee.birth_date),
                ("HireDate", &employee.hire_date),
            ] {
                if let Some(date) = date {
                    timestamp(date, &at, field)?;
                }
            }
        }
        self.employees_in_hierarchy_order()?;
        for (i, customer) in self.customer.iter().enumerate() {
            if let Some(rep) = customer.support_rep_id {
                employees.require(&format!("Customer[{i}]"), "SupportRepId", "Employee", rep)?;
            }
        }
        let mut line_sums: HashMap<i64, i64> = HashMap::new();
        for (i, line) in self.invoice_line.iter().enumerate() {
            let at = format!("InvoiceLine[{i}] (InvoiceLineId {})", line.invoice_line_id);
            invoices.require(&at, "InvoiceId", "Invoice", line.invoice_id)?;
            tracks.require(&at, "TrackId", "Track", line.track_id)?;
            if line.quantity <= 0 {
                bail!("{at}: Quantity {} must be positive", line.quantity);
            }
            let amount = cents(line.unit_price, &at, "UnitPrice")?
                .checked_mul(line.quantity)
                .with_context(|| format!("{at}: UnitPrice × Quantity is out of range"))?;
            let sum = line_sums.entry(line.invoice_id).or_default();
            *sum = sum
                .checked_add(amount)
                .with_context(|| format!("{at}: the invoice's total is out of range"))?;
        }
        for (i, invoice) in self.invoice.iter().enumerate() {
            let at = format!("Invoice[{i}] (InvoiceId {})", invoice.invoice_id);
            customers.require(&at, "CustomerId", "Customer", invoice.customer_id)?;
            timestamp(&invoice.invoice_date, &at, "InvoiceDate")?;
            let total = cents(invoice.total, &at, "Total")?;
            let lines = line_sums.get(&invoice.invoice_id).copied().unwrap_or(0);
            if total != lines {
                bail!(
                    "{at}: Total {} does not equal the sum of its lines {}",
                    crate::money::format_cents(total),
                    crate::money::format_cents(lines)
                );
            }
        }
        for (i, entry) in self.playlist_track.iter().enumerate() {
            let at = format!("PlaylistTrack[{i}]");
            playlists.require(&at, "PlaylistId", "Playlist", entry.playlist_id)?;
            tracks.require(&at, "TrackId", "Track", entry.track_id)?;
        }
        Ok(())
    }

    /// Employees ordered so that everyone's manager comes first, as the foreign key needs.
    fn employees_in_hierarchy_order(&self) -> anyhow::Result<Vec<&Employee>> {
        let mut placed: HashSet<i64> = HashSet::new();
        let mut ordered = Vec::with_capacity(self.employee.len());
        while ordered.len() < self.employee.len() {
            let before = ordered.len();
            for employee in &self.employee {
                let ready = employee
                    .reports_to
                    .is_none_or(|boss| placed.contains(&boss));
                if !placed.contains(&employee.employee_id) && ready {
                    placed.insert(employee.employee_id);
                    ordered.push(employee);
                }
            }
            if ordered.len() == before {
                bail!("Employee: ReportsTo forms a cycle");
            }
        }
        Ok(ordered)
    }

    fn row_count(&self) -> u64 {
        (self.genre.len()
            + self.media_type.len()
            + self.artist.len()
            + self.album.len()
            + self.track.len()
            + 2 * self.employee.len()
            + 2 * self.customer.len()
            + self.invoice.len()
            + self.invoice_line.len()
            + self.playlist.len()
            + self.playlist_track.len()) as u64
    }
}

fn contact_values(c: &Contact) -> [Value; 8] {
    [
        c.address.clone().into(),
        c.city.clone().into(),
        c.state.clone().into(),
        c.country.clone().into(),
        c.postal_code.clone().into(),
        c.phone.clone().into(),
        c.fax.clone().into(),
        c.email.as_str().into(),
    ]
}

/// Writes a checked dataset inside the caller's transaction.
pub(super) async fn write(
    conn: &mut Counted<impl Connected>,
    data: &Dataset,
    accounts: &AccountSeed,
    interactive: bool,
) -> anyhow::Result<()> {
    let progress = Progress::new(
        "importing the Chinook dataset",
        data.row_count(),
        interactive,
    );

    let genres = data.genre.iter().map(|g| (g.id.id, g.name.as_str()));
    write_named(conn, "genre", &["genre_id", "name"], genres, &progress).await?;
    let media = data.media_type.iter().map(|m| (m.id.id, m.name.as_str()));
    write_named(
        conn,
        "media_type",
        &["media_type_id", "name"],
        media,
        &progress,
    )
    .await?;
    let artists = data.artist.iter().map(|a| (a.id.id, a.name.as_str()));
    write_named(conn, "artist", &["artist_id", "name"], artists, &progress).await?;

    let mut albums = BatchInsert::new("album", &["album_id", "title", "artist_id"]);
    for a in &data.album {
        let row = vec![
            a.album_id.into(),
            a.title.as_str().into(),
            a.artist_id.into(),
        ];
        albums.push(conn, row, &progress).await?;
    }
    albums.finish(conn, &progress).await?;

    let mut tracks = BatchInsert::new("track", super::synthetic::TRACK_COLUMNS);
    for t in &data.track {
        let row = vec![
            t.track_id.into(),
            t.name.as_str().into(),
            t.album_id.into(),
            t.media_type_id.into(),
            t.genre_id.into(),
            t.composer.clone().into(),
            t.milliseconds.into(),
            t.bytes.into(),
            cents(t.unit_price, "Track", "UnitPrice")?.into(),
        ];
        tracks.push(conn, row, &progress).await?;
    }
    tracks.finish(conn, &progress).await?;

    let mut employees = BatchInsert::new("employee", super::synthetic::EMPLOYEE_COLUMNS);
    for e in data.employees_in_hierarchy_order()? {
        let mut row = vec![
            e.employee_id.into(),
            e.last_name.as_str().into(),
            e.first_name.as_str().into(),
            e.title.clone().into(),
            e.reports_to.into(),
            e.birth_date
                .as_deref()
                .map(|d| timestamp(d, "Employee", "BirthDate"))
                .transpose()?
                .into(),
            e.hire_date
                .as_deref()
                .map(|d| timestamp(d, "Employee", "HireDate"))
                .transpose()?
                .into(),
        ];
        row.extend(contact_values(&e.contact));
        employees.push(conn, row, &progress).await?;
    }
    employees.finish(conn, &progress).await?;

    let mut customers = BatchInsert::new("customer", super::synthetic::CUSTOMER_COLUMNS);
    for c in &data.customer {
        let mut row = vec![
            c.customer_id.into(),
            c.first_name.as_str().into(),
            c.last_name.as_str().into(),
            c.company.clone().into(),
        ];
        row.extend(contact_values(&c.contact));
        row.push(c.support_rep_id.into());
        customers.push(conn, row, &progress).await?;
    }
    customers.finish(conn, &progress).await?;

    let mut invoices = BatchInsert::new("invoice", super::synthetic::INVOICE_COLUMNS);
    for i in &data.invoice {
        let row = vec![
            i.invoice_id.into(),
            i.customer_id.into(),
            timestamp(&i.invoice_date, "Invoice", "InvoiceDate")?.into(),
            i.billing_address.clone().into(),
            i.billing_city.clone().into(),
            i.billing_state.clone().into(),
            i.billing_country.clone().into(),
            i.billing_postal_code.clone().into(),
            cents(i.total, "Invoice", "Total")?.into(),
        ];
        invoices.push(conn, row, &progress).await?;
    }
    invoices.finish(conn, &progress).await?;

    let mut lines = BatchInsert::new("invoice_line", super::synthetic::INVOICE_LINE_COLUMNS);
    for l in &data.invoice_line {
        let row = vec![
            l.invoice_line_id.into(),
            l.invoice_id.into(),
            l.track_id.into(),
            cents(l.unit_price, "InvoiceLine", "UnitPrice")?.into(),
            l.quantity.into(),
        ];
        lines.push(conn, row, &progress).await?;
    }
    lines.finish(conn, &progress).await?;

    let playlists = data.playlist.iter().map(|p| (p.id.id, p.name.as_str()));
    write_named(
        conn,
        "playlist",
        &["playlist_id", "name"],
        playlists,
        &progress,
    )
    .await?;

    // The file's order is the playlist's order.
    let mut positions: HashMap<i64, i64> = HashMap::new();
    let mut entries = BatchInsert::new("playlist_track", super::synthetic::PLAYLIST_TRACK_COLUMNS);
    for e in &data.playlist_track {
        let position = positions.entry(e.playlist_id).or_default();
        *position += 1;
        let row = vec![e.playlist_id.into(), (*position).into(), e.track_id.into()];
        entries.push(conn, row, &progress).await?;
    }
    entries.finish(conn, &progress).await?;

    let mut logins =
        // An account already there, or one whose address looks like it (the same skeleton).
        BatchInsert::with_suffix("account", ACCOUNT_COLUMNS, "ON CONFLICT DO NOTHING");
    for c in &data.customer {
        let row = accounts.row(&c.contact.email, Role::Customer, Some(c.customer_id), None);
        logins.push(conn, row, &progress).await?;
    }
    for e in &data.employee {
        let role = Role::for_employee_title(e.title.as_deref());
        let row = accounts.row(&e.contact.email, role, None, Some(e.employee_id));
        logins.push(conn, row, &progress).await?;
    }
    logins.finish(conn, &progress).await?;
    progress.finish();
    Ok(())
}
