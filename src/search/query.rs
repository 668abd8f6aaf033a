//! Full-text search over tracks, albums and artists: typo-tolerant, prefix-matching on the
//! last word, accent- and case-folded, ranked by BM25 with field boosts, with highlights and
//! facet counts.
//!
//! Queries are built from the words of the text, never parsed as query syntax, so quotes,
//! parentheses, operators and regex characters are just text. Length and word count are
//! bounded, so no query is expensive to build or run.

use std::collections::HashMap;
use std::ops::Bound;
use std::sync::Arc;

use tantivy::collector::{Collector, Count, SegmentCollector, TopDocs};
use tantivy::columnar::Column;
use tantivy::query::{
    BooleanQuery, BoostQuery, FuzzyTermQuery, Occur, Query, RangeQuery, TermQuery,
};
use tantivy::schema::{Field, IndexRecordOption, Value};
use tantivy::snippet::SnippetGenerator;
use tantivy::{DocId, Score, SegmentOrdinal, SegmentReader, TantivyDocument, Term};

use super::{schema, CatalogIndex};
use crate::catalog::Kind;
use crate::taxonomy::{TermSet, TermTally};

/// Longest search text accepted, in characters.
pub const MAX_QUERY_CHARS: usize = 200;
/// Most words a search may have.
pub const MAX_QUERY_WORDS: usize = 10;

#[derive(Debug, Clone)]
pub struct SearchRequest {
    /// The folded words of the text (see `words`).
    pub words: Vec<String>,
    pub kinds: Vec<Kind>,
    pub equal: Vec<(&'static str, u64)>,
    pub ranges: Vec<(&'static str, u64, u64)>,
    /// Taxonomy terms as asked for, (type, slug).
    pub terms: Vec<(String, String)>,
    /// Their facets, which the entries must have (or have below them).
    pub facets: Vec<String>,
    pub offset: usize,
    pub limit: usize,
}

#[derive(Debug)]
pub struct Hit {
    pub kind: Kind,
    pub score: f32,
    /// The stored JSON representation.
    pub body: String,
    /// The name with matched words in `<b>` tags, when any matched exactly.
    pub highlight: Option<String>,
}

#[derive(Debug, Default)]
pub struct Facets {
    /// (value, count), by descending count.
    pub genre: Vec<(u64, u64)>,
    pub media_type: Vec<(u64, u64)>,
    pub price_cents: Vec<(u64, u64)>,
    /// Matching entries per taxonomy term, each counted once under every term it is filed
    /// under or below.
    pub terms: HashMap<i64, u64>,
}

#[derive(Debug)]
pub struct SearchResults {
    pub hits: Vec<Hit>,
    pub total: usize,
    pub facets: Facets,
}

/// The words to search for, or why the text cannot be searched.
pub fn words(text: &str) -> Result<Vec<String>, String> {
    if text.chars().count() > MAX_QUERY_CHARS {
        return Err(format!("q has more than {MAX_QUERY_CHARS} characters"));
    }
    let mut analyzer = schema::folded_analyzer();
    let mut stream = analyzer.token_stream(text);
    let mut words = Vec::new();
    while stream.advance() {
        words.push(stream.token().text.clone());
    }
    if words.is_empty() {
        return Err("q needs at least one letter or digit".into());
    }
    if words.len() > MAX_QUERY_WORDS {
        return Err(format!("q has more than {MAX_QUERY_WORDS} words"));
    }
    Ok(words)
}

/// The edits a word may be off by: none below four letters, one from four, two from eight.
fn allowed_edits(word: &str) -> u8 {
    match word.chars().count() {
        0..=3 => 0,
        4..=7 => 1,
        _ => 2,
    }
}

impl CatalogIndex {
    fn text_fields(&self) -> [(Field, f32); 4] {
        // Track name > artist > album > composer.
        [
            (self.schema.name, 4.0),
            (self.schema.artist, 2.0),
            (self.schema.album, 1.5),
            (self.schema.composer, 1.0),
        ]
    }

    fn text_query(
        &self,
        searcher: &tantivy::Searcher,
        request: &SearchRequest,
        prefix_last: bool,
    ) -> anyhow::Result<BooleanQuery> {
        let mut clauses: Vec<(Occur, Box<dyn Query>)> = Vec::new();
        let last = request.words.len().saturating_sub(1);
        let mut all_known = true;
        for (i, word) in request.words.iter().enumerate() {
            // Typos are forgiven for words that appear nowhere as typed: a word that exists
            // is taken as meant, which keeps common words from expanding into huge unions.
            let mut known = false;
            for (field, _) in self.text_fields() {
                known |= searcher.doc_freq(&Term::from_field_text(field, word))? > 0;
            }
            all_known &= known;
            let mut alternatives: Vec<(Occur, Box<dyn Query>)> = Vec::new();
            for (field, boost) in self.text_fields() {
                let term = Term::from_field_text(field, word);
                let exact = TermQuery::new(term.clone(), IndexRecordOption::WithFreqs);
                alternatives.push((
                    Occur::Should,
                    Box::new(BoostQuery::new(Box::new(exact), boost)),
                ));
                let edits = allowed_edits(word);
                if edits > 0 && !known {
                    let fuzzy = FuzzyTermQuery::new(term.clone(), edits, true);
                    alternatives.push((
                        Occur::Should,
                        Box::new(BoostQuery::new(Box::new(fuzzy), boost * 0.5)),
                    ));
                }
                if prefix_last && i == last {
                    let prefix = FuzzyTermQuery::new_prefix(term, 0, true);
                    alternatives.push((
                        Occur::Should,
                        Box::new(BoostQuery::new(Box::new(prefix), boost * 0.75)),
                    ));
                }
            }
            clauses.push((Occur::Must, Box::new(BooleanQuery::new(alternatives))));
        }
        // When a word has a typo, its matches score alike; a query that is an entry's whole
        // name (within the same edits) then ranks that entry first, so "metalica" puts the
        // artist Metallica above albums named after them. It walks every name, so it runs
        // only in that case.
        if !all_known {
            let whole = request.words.join(" ");
            let term = Term::from_field_text(self.schema.name_exact, &whole);
            let exact = TermQuery::new(term.clone(), IndexRecordOption::Basic);
            clauses.push((
                Occur::Should,
                Box::new(BoostQuery::new(Box::new(exact), 8.0)),
            ));
            let edits = allowed_edits(&whole);
            if edits > 0 {
                let near = FuzzyTermQuery::new(term, edits, true);
                clauses.push((
                    Occur::Should,
                    Box::new(BoostQuery::new(Box::new(near), 6.0)),
                ));
            }
        }
        // Only tracks, albums and artists carry searchable text, so all three need no filter.
        if request.kinds.len() < 3 {
            let kinds: Vec<(Occur, Box<dyn Query>)> = request
                .kinds
                .iter()
                .map(|kind| {
                    let term = Term::from_field_u64(self.schema.field("kind"), kind.code());
                    (
                        Occur::Should,
                        Box::new(TermQuery::new(term, IndexRecordOption::Basic)) as Box<dyn Query>,
                    )
                })
                .collect();
            clauses.push((Occur::Must, Box::new(BooleanQuery::new(kinds))));
        }
        for (field, value) in &request.equal {
            let term = Term::from_field_u64(self.schema.field(field), *value);
            clauses.push((
                Occur::Must,
                Box::new(TermQuery::new(term, IndexRecordOption::Basic)),
            ));
        }
        for facet in &request.facets {
            clauses.push((Occur::Must, self.facet_query(facet)?));
        }
        for (field, min, max) in &request.ranges {
            let field = self.schema.field(field);
            let range = RangeQuery::new(
                Bound::Included(Term::from_field_u64(field, *min)),
                Bound::Included(Term::from_field_u64(field, *max)),
            );
            clauses.push((Occur::Must, Box::new(range)));
        }
        Ok(BooleanQuery::new(clauses))
    }

    pub fn search(&self, request: &SearchRequest) -> anyhow::Result<SearchResults> {
        let searcher = self.reader.searcher();
        let query = self.text_query(&searcher, request, true)?;
        let top = TopDocs::with_limit(request.limit).and_offset(request.offset);
        let counter = FacetCounter {
            terms: self.term_set()?,
        };
        let (top, total, facets) = searcher.search(&query, &(top, Count, counter))?;
        let snippets = SnippetGenerator::create(&searcher, &query, self.schema.name)?;
        let mut hits = Vec::with_capacity(top.len());
        for (score, address) in top {
            let doc: TantivyDocument = searcher.doc(address)?;
            let kind_code = doc
                .get_first(self.schema.field("kind"))
                .and_then(|v| v.as_u64())
                .unwrap_or(0);
            let Some(kind) = Kind::ALL.into_iter().find(|k| k.code() == kind_code) else {
                continue;
            };
            let body = doc
                .get_first(self.schema.body)
                .and_then(|v| v.as_str())
                .unwrap_or("{}")
                .to_string();
            let snippet = snippets.snippet_from_doc(&doc);
            hits.push(Hit {
                kind,
                score,
                body,
                highlight: (!snippet.is_empty()).then(|| snippet.to_html()),
            });
        }
        Ok(SearchResults {
            hits,
            total,
            facets,
        })
    }

    /// Names that complete the text as typed, best first.
    pub fn suggest(&self, request: &SearchRequest) -> anyhow::Result<Vec<(Kind, String)>> {
        let searcher = self.reader.searcher();
        let query = self.text_query(&searcher, request, true)?;
        let top = searcher.search(&query, &TopDocs::with_limit(request.limit))?;
        let mut out = Vec::with_capacity(top.len());
        for (_, address) in top {
            let doc: TantivyDocument = searcher.doc(address)?;
            let code = doc
                .get_first(self.schema.field("kind"))
                .and_then(|v| v.as_u64());
            let name = doc.get_first(self.schema.name).and_then(|v| v.as_str());
            if let (Some(kind), Some(name)) = (
                code.and_then(|c| Kind::ALL.into_iter().find(|k| k.code() == c)),
                name,
            ) {
                out.push((kind, name.to_string()));
            }
        }
        Ok(out)
    }
}

/// Counts matching documents by genre, media type, price and taxonomy term.
struct FacetCounter {
    terms: Arc<TermSet>,
}

struct FacetSegment {
    columns: [Column<u64>; 3],
    counts: [HashMap<u64, u64>; 3],
    term_ids: Column<u64>,
    terms: TermTally,
}

impl Collector for FacetCounter {
    type Fruit = Facets;
    type Child = FacetSegment;

    fn for_segment(
        &self,
        _: SegmentOrdinal,
        reader: &SegmentReader,
    ) -> tantivy::Result<FacetSegment> {
        let fast = reader.fast_fields();
        Ok(FacetSegment {
            columns: [
                fast.u64("genre_id")?,
                fast.u64("media_type_id")?,
                fast.u64("price_cents")?,
            ],
            counts: Default::default(),
            term_ids: fast.u64("term_id")?,
            terms: TermTally::new(self.terms.clone()),
        })
    }

    fn requires_scoring(&self) -> bool {
        false
    }

    fn merge_fruits(&self, fruits: Vec<FacetFruit>) -> tantivy::Result<Facets> {
        let mut merged: [HashMap<u64, u64>; 3] = Default::default();
        let mut terms: HashMap<i64, u64> = HashMap::new();
        for (fruit, term_counts) in fruits {
            for (id, count) in term_counts {
                *terms.entry(id).or_default() += count;
            }
            for (total, part) in merged.iter_mut().zip(fruit) {
                for (value, count) in part {
                    *total.entry(value).or_default() += count;
                }
            }
        }
        let sorted = |counts: HashMap<u64, u64>| {
            let mut v: Vec<(u64, u64)> = counts.into_iter().collect();
            v.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
            v
        };
        let [genre, media_type, price] = merged;
        Ok(Facets {
            genre: sorted(genre),
            media_type: sorted(media_type),
            price_cents: sorted(price),
            terms,
        })
    }
}

type FacetFruit = ([HashMap<u64, u64>; 3], HashMap<i64, u64>);

impl SegmentCollector for FacetSegment {
    type Fruit = FacetFruit;

    fn collect(&mut self, doc: DocId, _: Score) {
        for (column, counts) in self.columns.iter().zip(self.counts.iter_mut()) {
            if let Some(value) = column.first(doc) {
                *counts.entry(value).or_default() += 1;
            }
        }
        self.terms.add(self.term_ids.values_for_doc(doc));
    }

    fn harvest(self) -> Self::Fruit {
        (self.counts, self.terms.counts().collect())
    }
}
