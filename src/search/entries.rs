//! Entries looked up by kind and id: their stored JSON, and a playlist's members.

use tantivy::schema::{IndexRecordOption, Value};
use tantivy::{DocAddress, DocSet, Searcher, SegmentOrdinal, TantivyDocument, Term, TERMINATED};

use super::schema::{self, FirstStored};
use super::CatalogIndex;
use crate::catalog::Kind;

impl CatalogIndex {
    /// The JSON representation of one entry, or `None` when there is no such entry.
    pub fn get(&self, kind: Kind, id: i64) -> anyhow::Result<Option<String>> {
        let searcher = self.reader.searcher();
        match self.address(&searcher, kind, id)? {
            Some(address) => Ok(Some(self.body_at(&searcher, address)?)),
            None => Ok(None),
        }
    }

    /// A playlist's track ids in order; empty when there is no such playlist.
    pub fn members(&self, playlist: i64) -> anyhow::Result<Vec<i64>> {
        let searcher = self.reader.searcher();
        let Some(address) = self.address(&searcher, Kind::Playlist, playlist)? else {
            return Ok(Vec::new());
        };
        let doc: TantivyDocument = searcher.doc(address)?;
        let members = doc
            .get_first(self.schema.members)
            .and_then(|v| v.as_str())
            .unwrap_or("[]");
        Ok(serde_json::from_str(members)?)
    }

    /// An entry's stored JSON.
    pub(super) fn body_at(
        &self,
        searcher: &Searcher,
        address: DocAddress,
    ) -> anyhow::Result<String> {
        match searcher.doc::<FirstStored>(address)?.0 {
            Some((field, body)) if field == self.schema.body => Ok(body),
            _ => anyhow::bail!("an indexed entry does not store its body first"),
        }
    }

    /// Where the live document of an entry is. Its key's postings are read directly: a
    /// search with a collector would score and rank what is at most one document.
    fn address(
        &self,
        searcher: &Searcher,
        kind: Kind,
        id: i64,
    ) -> anyhow::Result<Option<DocAddress>> {
        let Ok(id) = u64::try_from(id) else {
            return Ok(None);
        };
        let term = Term::from_field_u64(self.schema.key, schema::key(kind, id));
        for (ordinal, segment) in searcher.segment_readers().iter().enumerate() {
            let inverted = segment.inverted_index(self.schema.key)?;
            let Some(mut postings) = inverted.read_postings(&term, IndexRecordOption::Basic)?
            else {
                continue;
            };
            let mut doc = postings.doc();
            while doc != TERMINATED {
                if segment
                    .alive_bitset()
                    .is_none_or(|alive| alive.is_alive(doc))
                {
                    return Ok(Some(DocAddress::new(ordinal as SegmentOrdinal, doc)));
                }
                doc = postings.advance();
            }
        }
        Ok(None)
    }
}
