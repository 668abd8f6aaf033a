//! The checks a dataset passes before anything is written: unique ids, resolving references,
//! whole cents, valid dates, invoice totals that are the sum of their lines, and a hierarchy
//! without cycles.

use std::collections::{HashMap, HashSet};

use anyhow::{anyhow, bail, Context};

use super::{Dataset, Employee};

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

pub(super) fn cents(amount: f64, at: &str, field: &str) -> anyhow::Result<i64> {
    let scaled = amount * 100.0;
    let whole = scaled.round();
    if !amount.is_finite() || whole < 0.0 || (scaled - whole).abs() > 1e-6 {
        bail!("{at}: {field} {amount} is not a non-negative amount in whole cents");
    }
    Ok(whole as i64)
}

/// `2021-01-01T00:00:00` as stored: RFC 3339 UTC.
pub(super) fn timestamp(raw: &str, at: &str, field: &str) -> anyhow::Result<String> {
    let parsed = chrono::NaiveDateTime::parse_from_str(raw, "%Y-%m-%dT%H:%M:%S").map_err(|e| {
        anyhow!("{at}: {field} `{raw}` is not a date like 2021-01-01T00:00:00 ({e})")
    })?;
    Ok(crate::db::timestamp(parsed.and_utc()))
}

impl Dataset {
    pub(super) fn check(&self) -> anyhow::Result<()> {
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
    pub(super) fn employees_in_hierarchy_order(&self) -> anyhow::Result<Vec<&Employee>> {
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
}
