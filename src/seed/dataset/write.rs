//! Writing a checked dataset: every table in the order its references need, and the seeded
//! accounts.

use std::collections::HashMap;

use super::check::{cents, timestamp};
use super::{Contact, Dataset};
use crate::db::{Connected, Counted};
use crate::progress::Progress;
use crate::seed::rows::{write_named, BatchInsert, Value};
use crate::seed::synthetic;
use crate::seed::{AccountSeed, ACCOUNT_COLUMNS};
use crate::store::Role;

impl Dataset {
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
pub(in crate::seed) async fn write(
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

    let mut tracks = BatchInsert::new("track", synthetic::TRACK_COLUMNS);
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

    let mut employees = BatchInsert::new("employee", synthetic::EMPLOYEE_COLUMNS);
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

    let mut customers = BatchInsert::new("customer", synthetic::CUSTOMER_COLUMNS);
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

    let mut invoices = BatchInsert::new("invoice", synthetic::INVOICE_COLUMNS);
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

    let mut lines = BatchInsert::new("invoice_line", synthetic::INVOICE_LINE_COLUMNS);
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
    let mut entries = BatchInsert::new("playlist_track", synthetic::PLAYLIST_TRACK_COLUMNS);
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
