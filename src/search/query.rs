//! Full-text search over tracks, albums and artists: typo-tolerant, prefix-matching on the
//! last word, accent- and case-folded, ranked by BM25 with field boosts, with highlights and
//! facet counts.
//!
//! Queries are built from the words of the text, never parsed as query syntax, so quotes,
//! parentheses, operators and regex characters are just text. Length and word count are
//! bounded, so no query is expensive to build or run.
//!
//! A search is run here rather than by tantivy's boolean queries and collectors, whose unions
//! score every posting of every word and whose per-document collectors cost more than the
//! search itself when a short prefix matches a large part of the catalog. Each segment is run
//! in passes: the matches as a bit set (the union of each clause's postings, intersected),
//! then the score of each match, adding the same scores in the same order as a boolean query
//! of boosted term, fuzzy and prefix queries would, then facets from one small number per
//! document, then the best page.

use std::cell::RefCell;
use std::cmp::Ordering;
use std::collections::{BinaryHeap, HashMap};
use std::ops::Bound;
use std::sync::{Arc, Mutex};

use tantivy::columnar::Column;
use tantivy::fieldnorm::FieldNormReader;
use tantivy::index::SegmentId;
use tantivy::postings::BlockSegmentPostings;
use tantivy::query::{
    Bm25Weight, BooleanQuery, EnableScoring, FuzzyTermQuery, Occur, Query, RangeQuery, Scorer,
    TermQuery, Weight,
};
use tantivy::schema::{Facet, Field, IndexRecordOption, Value};
use tantivy::snippet::SnippetGenerator;
use tantivy::{
    DocAddress, DocId, DocSet, Score, Searcher, SegmentReader, TantivyDocument, Term, TERMINATED,
};

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

    fn plan(
        &self,
        searcher: &Searcher,
        request: &SearchRequest,
        prefix_last: bool,
    ) -> anyhow::Result<Plan> {
        let mut plan = Plan::default();
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
            let mut alternatives = Vec::new();
            for (field, boost) in self.text_fields() {
                let term = Term::from_field_text(field, word);
                alternatives.push(Alternative::Term(
                    term.clone(),
                    IndexRecordOption::WithFreqs,
                    boost,
                ));
                let edits = allowed_edits(word);
                if edits > 0 && !known {
                    let fuzzy = FuzzyTermQuery::new(term, edits, true);
                    alternatives.push(Alternative::Constant(Box::new(fuzzy), boost * 0.5));
                }
                if prefix_last && i == last {
                    alternatives.push(Alternative::Prefix(field, word.clone(), boost * 0.75));
                }
            }
            plan.must.push(alternatives);
        }
        // When a word has a typo, its matches score alike; a query that is an entry's whole
        // name (within the same edits) then ranks that entry first, so "metalica" puts the
        // artist Metallica above albums named after them. It walks every name, so it runs
        // only in that case.
        if !all_known {
            let whole = request.words.join(" ");
            let term = Term::from_field_text(self.schema.name_exact, &whole);
            plan.should.push(Alternative::Term(
                term.clone(),
                IndexRecordOption::Basic,
                8.0,
            ));
            let edits = allowed_edits(&whole);
            if edits > 0 {
                let near = FuzzyTermQuery::new(term, edits, true);
                plan.should.push(Alternative::Constant(Box::new(near), 6.0));
            }
        }
        // Only tracks, albums and artists carry searchable text, so all three need no filter.
        if request.kinds.len() < 3 {
            let kind = self.schema.field("kind");
            plan.must.push(
                request
                    .kinds
                    .iter()
                    .map(|k| {
                        let term = Term::from_field_u64(kind, k.code());
                        Alternative::Term(term, IndexRecordOption::Basic, 1.0)
                    })
                    .collect(),
            );
        }
        for (field, value) in &request.equal {
            let term = Term::from_field_u64(self.schema.field(field), *value);
            plan.must
                .push(vec![Alternative::Term(term, IndexRecordOption::Basic, 1.0)]);
        }
        for facet in &request.facets {
            let facet = Facet::from_text(facet)
                .map_err(|e| anyhow::anyhow!("a stored term has an invalid facet {facet}: {e}"))?;
            let term = Term::from_facet(self.schema.taxonomy, &facet);
            plan.must
                .push(vec![Alternative::Term(term, IndexRecordOption::Basic, 1.0)]);
        }
        for (field, min, max) in &request.ranges {
            let field = self.schema.field(field);
            let range = RangeQuery::new(
                Bound::Included(Term::from_field_u64(field, *min)),
                Bound::Included(Term::from_field_u64(field, *max)),
            );
            plan.must.push(vec![Alternative::Scored(Box::new(range))]);
        }
        Ok(plan)
    }

    pub fn search(&self, request: &SearchRequest) -> anyhow::Result<SearchResults> {
        let searcher = self.reader.searcher();
        let plan = self.plan(&searcher, request, true)?;
        let terms = self.term_set()?;
        let run = plan.run(&searcher, request.offset, request.limit, Some(terms))?;
        let snippets = SnippetGenerator::create(&searcher, &plan.terms(), self.schema.name)?;
        let mut hits = Vec::with_capacity(run.top.len());
        for (score, address) in run.top {
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
            total: run.total,
            facets: run.facets,
        })
    }

    /// Names that complete the text as typed, best first.
    pub fn suggest(&self, request: &SearchRequest) -> anyhow::Result<Vec<(Kind, String)>> {
        let searcher = self.reader.searcher();
        let plan = self.plan(&searcher, request, true)?;
        let run = plan.run(&searcher, 0, request.limit, None)?;
        let mut out = Vec::with_capacity(run.top.len());
        for (_, address) in run.top {
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

    /// Builds the facet tables of the searched segments, so the first search does not.
    pub(super) fn warm_facets(&self) -> anyhow::Result<()> {
        let searcher = self.reader.searcher();
        for reader in searcher.segment_readers() {
            facet_table(&searcher, reader)?;
        }
        Ok(())
    }
}

/// One way for a document to satisfy a clause, and what it adds to the score when it does.
enum Alternative {
    /// A term, scored by BM25 times a boost, as a boosted `TermQuery` scores it.
    Term(Term, IndexRecordOption, Score),
    /// Words of a field that start with these letters; every match adds the same score, as a
    /// boosted prefix `FuzzyTermQuery` would.
    Prefix(Field, String, Score),
    /// Every match adds the same score.
    Constant(Box<dyn Query>, Score),
    /// Scored by the query's own scorer.
    Scored(Box<dyn Query>),
}

/// A document matches when it matches some alternative of every `must` clause. Its score is
/// the sum over the clauses, `should` included, of what its matching alternatives add, in
/// order, as tantivy's boolean queries add them.
#[derive(Default)]
struct Plan {
    must: Vec<Vec<Alternative>>,
    should: Vec<Alternative>,
}

/// The best page of a search (score and address, best first), its total and its facets.
struct Run {
    top: Vec<(Score, DocAddress)>,
    total: usize,
    facets: Facets,
}

impl Plan {
    /// The terms searched as typed, for highlights.
    fn terms(&self) -> BooleanQuery {
        let terms = self
            .must
            .iter()
            .chain(std::iter::once(&self.should))
            .flatten()
            .filter_map(|alternative| match alternative {
                Alternative::Term(term, option, _) => {
                    let query: Box<dyn Query> = Box::new(TermQuery::new(term.clone(), *option));
                    Some((Occur::Should, query))
                }
                _ => None,
            })
            .collect();
        BooleanQuery::new(terms)
    }

    fn run(
        &self,
        searcher: &Searcher,
        offset: usize,
        limit: usize,
        // Facets are counted only when the taxonomy terms are given.
        facets: Option<Arc<TermSet>>,
    ) -> tantivy::Result<Run> {
        let must = self
            .must
            .iter()
            .map(|clause| prepare(clause, searcher))
            .collect::<tantivy::Result<Vec<_>>>()?;
        let should = prepare(&self.should, searcher)?;
        let keep = offset + limit;
        // The worst kept is on top.
        let mut top: BinaryHeap<Ranked> = BinaryHeap::with_capacity(keep + 1);
        let mut worst = Score::INFINITY;
        let mut total = 0;
        let mut counts: [Counts; 3] = Default::default();
        let mut tally = facets.map(TermTally::new);
        for (ord, reader) in searcher.segment_readers().iter().enumerate() {
            let Some(matches) = matches(reader, &must)? else {
                continue;
            };
            let (matches, mut clauses) = matches;
            if matches.len == 0 {
                continue;
            }
            // Optional clauses only add to the score of what matches.
            let mut optional = Vec::new();
            for alternative in &should {
                optional.extend(alternative.collect(reader, None)?);
            }
            total += matches.len;
            let scores = matches.scores(&mut clauses, &mut optional);
            if let Some(tally) = tally.as_mut() {
                count_facets(searcher, reader, &matches, &mut counts, tally)?;
            }
            matches.for_each(|position, doc| {
                let score = scores[position];
                // Documents come by ascending address, so one that only ties the worst kept
                // ranks below it.
                if top.len() == keep && score <= worst {
                    return;
                }
                if top.len() == keep {
                    top.pop();
                }
                top.push(Ranked {
                    score,
                    address: DocAddress::new(ord as u32, doc),
                });
                if top.len() == keep {
                    worst = top.peek().map_or(Score::INFINITY, |worst| worst.score);
                }
            });
        }
        let [genre, media_type, price_cents] = counts.map(Counts::sorted);
        Ok(Run {
            top: top
                .into_sorted_vec()
                .into_iter()
                .skip(offset)
                .map(|ranked| (ranked.score, ranked.address))
                .collect(),
            total,
            facets: Facets {
                genre,
                media_type,
                price_cents,
                terms: tally
                    .map(|tally| tally.counts().collect())
                    .unwrap_or_default(),
            },
        })
    }
}

/// The live matches of a segment and what scores them, clause by clause; `None` when a clause
/// matches nothing there.
fn matches(
    reader: &SegmentReader,
    must: &[Vec<Prepared>],
) -> tantivy::Result<Option<(Matches, Vec<Vec<Live>>)>> {
    let max_doc = reader.max_doc();
    let mut all: Option<Bits> = None;
    let mut clauses = Vec::with_capacity(must.len() + 1);
    for clause in must {
        let mut either = Bits::new(max_doc);
        let mut live = Vec::with_capacity(clause.len());
        for alternative in clause {
            // A term's matches are among those of a prefix of it in the same field.
            let covered = match alternative {
                Prepared::Term(term, ..) => clause.iter().any(|other| {
                    matches!(other, Prepared::Prefix(field, prefix, _)
                        if *field == term.field()
                            && term.serialized_value_bytes().starts_with(str::as_bytes(prefix)))
                }),
                _ => false,
            };
            live.extend(alternative.collect(reader, (!covered).then_some(&mut either))?);
        }
        if live.is_empty() {
            return Ok(None);
        }
        match &mut all {
            None => all = Some(either),
            Some(all) => {
                for (word, this) in all.0.iter_mut().zip(&either.0) {
                    *word &= this;
                }
            }
        }
        clauses.push(live);
    }
    let Some(mut all) = all else {
        return Ok(None);
    };
    if let Some(alive) = reader.alive_bitset() {
        for (at, word) in all.0.iter_mut().enumerate() {
            let mut rest = *word;
            while rest != 0 {
                let bit = rest.trailing_zeros();
                rest &= rest - 1;
                if alive.is_deleted(at as u32 * 64 + bit) {
                    *word &= !(1 << bit);
                }
            }
        }
    }
    Ok(Some((Matches::new(all), clauses)))
}

fn prepare<'a>(
    clause: &'a [Alternative],
    searcher: &Searcher,
) -> tantivy::Result<Vec<Prepared<'a>>> {
    clause.iter().map(|a| a.prepare(searcher)).collect()
}

enum Prepared<'a> {
    Term(&'a Term, IndexRecordOption, Box<Bm25Weight>),
    Prefix(Field, &'a str, Score),
    Constant(Box<dyn Weight>, Score),
    Scored(Box<dyn Weight>),
}

impl Alternative {
    fn prepare(&self, searcher: &Searcher) -> tantivy::Result<Prepared<'_>> {
        Ok(match self {
            Alternative::Term(term, option, boost) => Prepared::Term(
                term,
                *option,
                Box::new(
                    Bm25Weight::for_terms(searcher, std::slice::from_ref(term))?.boost_by(*boost),
                ),
            ),
            Alternative::Prefix(field, prefix, score) => Prepared::Prefix(*field, prefix, *score),
            Alternative::Constant(query, score) => Prepared::Constant(
                query.weight(EnableScoring::disabled_from_searcher(searcher))?,
                *score,
            ),
            Alternative::Scored(query) => {
                Prepared::Scored(query.weight(EnableScoring::enabled_from_searcher(searcher))?)
            }
        })
    }
}

/// An alternative's matches within a segment, ready to score.
enum Live {
    Term(Box<BlockSegmentPostings>, FieldNormReader, Box<Bm25Weight>),
    Constant(Bits, Score),
    Scored(Box<dyn Scorer>),
}

impl Live {
    /// How many documents it may match, as tantivy's scorer for it estimates.
    fn size(&self) -> u32 {
        match self {
            Live::Term(postings, ..) => postings.doc_freq(),
            Live::Constant(own, _) => own.0.iter().map(|word| word.count_ones()).sum(),
            Live::Scored(scorer) => scorer.size_hint(),
        }
    }
}

impl Prepared<'_> {
    /// Adds the matches of this alternative in `reader` to `into`; returns what scores them,
    /// or `None` when nothing matches.
    fn collect(
        &self,
        reader: &SegmentReader,
        into: Option<&mut Bits>,
    ) -> tantivy::Result<Option<Live>> {
        let max_doc = reader.max_doc();
        match self {
            Prepared::Term(term, option, weight) => {
                let inverted = reader.inverted_index(term.field())?;
                let Some(info) = inverted.get_term_info(term)? else {
                    return Ok(None);
                };
                if let Some(into) = into {
                    let mut postings = inverted
                        .read_block_postings_from_terminfo(&info, IndexRecordOption::Basic)?;
                    while !postings.docs().is_empty() {
                        postings.docs().iter().for_each(|&doc| into.insert(doc));
                        postings.advance();
                    }
                }
                // As `TermQuery` scores: without norms, every document has the same length.
                let norms = reader
                    .fieldnorms_readers()
                    .get_field(term.field())?
                    .unwrap_or_else(|| FieldNormReader::constant(max_doc, 1));
                let postings = inverted.read_block_postings_from_terminfo(&info, *option)?;
                Ok(Some(Live::Term(Box::new(postings), norms, weight.clone())))
            }
            Prepared::Prefix(field, prefix, score) => {
                let inverted = reader.inverted_index(*field)?;
                let prefix = str::as_bytes(prefix);
                let mut range = inverted.terms().range().ge(prefix);
                if let Some(end) = prefix_end(prefix) {
                    range = range.lt(end);
                }
                let mut terms = range.into_stream()?;
                let mut own: Option<Bits> = None;
                while terms.advance() {
                    let mut postings = inverted.read_block_postings_from_terminfo(
                        terms.value(),
                        IndexRecordOption::Basic,
                    )?;
                    let own = own.get_or_insert_with(|| Bits::new(max_doc));
                    while !postings.docs().is_empty() {
                        postings.docs().iter().for_each(|&doc| own.insert(doc));
                        postings.advance();
                    }
                }
                Ok(own.map(|own| Live::Constant(own.added_to(into), *score)))
            }
            Prepared::Constant(weight, score) => {
                let mut own: Option<Bits> = None;
                weight.for_each_no_score(reader, &mut |docs| {
                    let own = own.get_or_insert_with(|| Bits::new(max_doc));
                    docs.iter().for_each(|&doc| own.insert(doc));
                })?;
                Ok(own.map(|own| Live::Constant(own.added_to(into), *score)))
            }
            Prepared::Scored(weight) => {
                if let Some(into) = into {
                    weight.for_each_no_score(reader, &mut |docs| {
                        docs.iter().for_each(|&doc| into.insert(doc))
                    })?;
                }
                let scorer = weight.scorer(reader, 1.0)?;
                Ok((scorer.doc() != TERMINATED).then_some(Live::Scored(scorer)))
            }
        }
    }
}

/// The first byte string after every string that starts with `prefix`, if any.
fn prefix_end(prefix: &[u8]) -> Option<Vec<u8>> {
    let mut end = prefix.to_vec();
    while let Some(last) = end.pop() {
        if last < u8::MAX {
            end.push(last + 1);
            return Some(end);
        }
    }
    None
}

/// A plain bit set over a segment's documents.
struct Bits(Vec<u64>);

thread_local! {
    /// The buffers of bit sets dropped on this thread, so that a search reuses them rather
    /// than faulting in fresh pages for each of its bit sets.
    static SPARE_BITS: RefCell<Vec<Vec<u64>>> = const { RefCell::new(Vec::new()) };
}

/// Most spare bit set buffers kept per thread.
const MAX_SPARE_BITS: usize = 16;

impl Drop for Bits {
    fn drop(&mut self) {
        let buffer = std::mem::take(&mut self.0);
        SPARE_BITS.with(|spare| {
            let mut spare = spare.borrow_mut();
            if spare.len() < MAX_SPARE_BITS {
                spare.push(buffer);
            }
        });
    }
}

impl Bits {
    fn new(max_doc: DocId) -> Self {
        let mut buffer = SPARE_BITS
            .with(|spare| spare.borrow_mut().pop())
            .unwrap_or_default();
        buffer.clear();
        buffer.resize((max_doc as usize).div_ceil(64), 0);
        Bits(buffer)
    }

    fn insert(&mut self, doc: DocId) {
        self.0[(doc / 64) as usize] |= 1 << (doc % 64);
    }

    /// Adds these documents to `into`, if any.
    fn added_to(self, into: Option<&mut Bits>) -> Self {
        if let Some(into) = into {
            for (word, mine) in into.0.iter_mut().zip(&self.0) {
                *word |= mine;
            }
        }
        self
    }
}

/// The matches of a segment, in ascending order, each with its position in that order.
struct Matches {
    bits: Bits,
    /// How many matches come before each word of `bits`.
    before: Vec<u32>,
    len: usize,
}

impl Matches {
    fn new(bits: Bits) -> Self {
        let mut before = Vec::with_capacity(bits.0.len());
        let mut len = 0;
        for word in &bits.0 {
            before.push(len);
            len += word.count_ones();
        }
        Matches {
            bits,
            before,
            len: len as usize,
        }
    }

    fn position(&self, doc: DocId) -> Option<usize> {
        let (at, bit) = ((doc / 64) as usize, doc % 64);
        let word = self.bits.0[at];
        (word & (1 << bit) != 0)
            .then(|| (self.before[at] + (word & ((1 << bit) - 1)).count_ones()) as usize)
    }

    /// Calls `f` with the position and document of each match, in order.
    fn for_each(&self, mut f: impl FnMut(usize, DocId)) {
        let mut position = 0;
        for (at, &word) in self.bits.0.iter().enumerate() {
            let mut word = word;
            while word != 0 {
                f(position, at as u32 * 64 + word.trailing_zeros());
                position += 1;
                word &= word - 1;
            }
        }
    }

    fn docs(&self) -> impl Iterator<Item = DocId> + '_ {
        self.bits.0.iter().enumerate().flat_map(|(at, &word)| {
            let mut word = word;
            std::iter::from_fn(move || {
                (word != 0).then(|| {
                    let doc = at as u32 * 64 + word.trailing_zeros();
                    word &= word - 1;
                    doc
                })
            })
        })
    }

    /// The score of each match, added as tantivy adds the scores of a boolean query: each
    /// clause the sum of its matching alternatives in order; the required clauses as its
    /// intersection adds them, the two with the fewest documents first, then the sum of the
    /// others in that order; then the optional clauses.
    fn scores(&self, required: &mut [Vec<Live>], optional: &mut [Live]) -> Vec<Score> {
        let sum = |clause: &mut [Live]| {
            let mut scores = vec![0.0; self.len];
            for alternative in clause.iter_mut() {
                self.add_scores(alternative, &mut scores);
            }
            scores
        };
        let mut order: Vec<(u32, usize)> = required
            .iter()
            .enumerate()
            .map(|(at, clause)| {
                let size = match clause.as_slice() {
                    [one] => one.size(),
                    many => many.iter().map(Live::size).max().unwrap_or(0),
                };
                (size, at)
            })
            .collect();
        order.sort_by_key(|(size, _)| *size);
        let mut order = order.into_iter().map(|(_, at)| at);
        let Some(first) = order.next() else {
            return vec![0.0; self.len];
        };
        let mut scores = sum(&mut required[first]);
        if let Some(second) = order.next() {
            let mut others: Option<Vec<Score>> = None;
            for other in order {
                let add = sum(&mut required[other]);
                match &mut others {
                    None => others = Some(add),
                    Some(others) => others.iter_mut().zip(add).for_each(|(s, a)| *s += a),
                }
            }
            let second = sum(&mut required[second]);
            scores.iter_mut().zip(second).for_each(|(s, a)| *s += a);
            if let Some(others) = others {
                scores.iter_mut().zip(others).for_each(|(s, a)| *s += a);
            }
        }
        if !optional.is_empty() {
            let optional = sum(optional);
            scores.iter_mut().zip(optional).for_each(|(s, a)| *s += a);
        }
        scores
    }

    /// Adds what `alternative` scores to each match it matches.
    fn add_scores(&self, alternative: &mut Live, scores: &mut [Score]) {
        match alternative {
            Live::Term(postings, norms, weight) => {
                // Positions first, then scores, so that the reads of field norms overlap.
                let mut found: Vec<(usize, DocId, u32)> = Vec::with_capacity(128);
                while !postings.docs().is_empty() {
                    found.clear();
                    for (i, &doc) in postings.docs().iter().enumerate() {
                        if let Some(position) = self.position(doc) {
                            found.push((position, doc, postings.freq(i)));
                        }
                    }
                    for &(position, doc, freq) in &found {
                        scores[position] += weight.score(norms.fieldnorm_id(doc), freq);
                    }
                    postings.advance();
                }
            }
            Live::Constant(own, score) => {
                for (at, (&mine, &all)) in own.0.iter().zip(&self.bits.0).enumerate() {
                    let mut both = mine & all;
                    while both != 0 {
                        let below = (both & both.wrapping_neg()) - 1;
                        let position = self.before[at] + (all & below).count_ones();
                        scores[position as usize] += *score;
                        both &= both - 1;
                    }
                }
            }
            Live::Scored(scorer) => {
                for (position, doc) in self.docs().enumerate() {
                    let mut at = scorer.doc();
                    if at < doc {
                        at = scorer.seek(doc);
                    }
                    if at == TERMINATED {
                        break;
                    }
                    if at == doc {
                        scores[position] += scorer.score();
                    }
                }
            }
        }
    }
}

/// A hit kept for the page: better is less, by descending score then ascending address, as
/// tantivy's `TopDocs` orders them.
struct Ranked {
    score: Score,
    address: DocAddress,
}

impl Ord for Ranked {
    fn cmp(&self, other: &Self) -> Ordering {
        other
            .score
            .partial_cmp(&self.score)
            .unwrap_or(Ordering::Equal)
            .then_with(|| self.address.cmp(&other.address))
    }
}

impl PartialOrd for Ranked {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl PartialEq for Ranked {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other) == Ordering::Equal
    }
}

impl Eq for Ranked {}

/// Counts of one facet by value: small values in an array, others in a map.
#[derive(Default)]
struct Counts {
    small: Vec<u64>,
    other: HashMap<u64, u64>,
}

impl Counts {
    fn add(&mut self, value: u64, count: u64) {
        match usize::try_from(value) {
            Ok(at) if at < 1 << 16 => {
                if at >= self.small.len() {
                    self.small.resize(at + 1, 0);
                }
                self.small[at] += count;
            }
            _ => *self.other.entry(value).or_default() += count,
        }
    }

    /// (value, count), by descending count.
    fn sorted(self) -> Vec<(u64, u64)> {
        let mut counts: Vec<(u64, u64)> = self
            .small
            .into_iter()
            .enumerate()
            .filter(|(_, count)| *count > 0)
            .map(|(value, count)| (value as u64, count))
            .chain(self.other)
            .collect();
        counts.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
        counts
    }
}

const FACET_COLUMNS: [&str; 3] = ["genre_id", "media_type_id", "price_cents"];

/// The facets of a segment's documents as one small number each: the index of its
/// combination of genre, media type and price. Counting then reads one array, not three
/// columns.
struct FacetTable {
    combinations: Vec<Combination>,
    of_doc: Vec<u16>,
}

/// A document's genre, media type and price, and the ids of its taxonomy terms.
type Combination = ([Option<u64>; 3], Box<[u64]>);

/// The tables of the segments searched last, `None` for a segment with too many combinations.
/// A segment never changes, so its table holds for as long as it is searched.
type FacetTables = Vec<(SegmentId, Option<Arc<FacetTable>>)>;

static FACET_TABLES: Mutex<FacetTables> = Mutex::new(Vec::new());

/// The table of a segment, built on first use.
fn facet_table(
    searcher: &Searcher,
    reader: &SegmentReader,
) -> tantivy::Result<Option<Arc<FacetTable>>> {
    let id = reader.segment_id();
    let lock = || FACET_TABLES.lock().unwrap_or_else(|e| e.into_inner());
    let cached = |tables: &FacetTables| {
        tables
            .iter()
            .find(|(segment, _)| *segment == id)
            .map(|(_, table)| table.clone())
    };
    if let Some(table) = cached(&lock()) {
        return Ok(table);
    }
    // Built without the lock, so that searches meanwhile do not wait for it.
    let table = build_facet_table(reader)?.map(Arc::new);
    let mut tables = lock();
    if let Some(table) = cached(&tables) {
        return Ok(table);
    }
    let searched: Vec<SegmentId> = searcher
        .segment_readers()
        .iter()
        .map(|reader| reader.segment_id())
        .collect();
    tables.retain(|(segment, _)| searched.contains(segment));
    tables.push((id, table.clone()));
    Ok(table)
}

/// `None` when the segment has more combinations than a `u16` numbers.
fn build_facet_table(reader: &SegmentReader) -> tantivy::Result<Option<FacetTable>> {
    let fast = reader.fast_fields();
    let columns = FACET_COLUMNS
        .iter()
        .map(|name| fast.u64(name))
        .collect::<tantivy::Result<Vec<Column<u64>>>>()?;
    let term_ids = fast.u64("term_id")?;
    let mut codes: HashMap<Combination, u16> = HashMap::new();
    let mut combinations = Vec::new();
    let mut of_doc = Vec::with_capacity(reader.max_doc() as usize);
    let mut last: Option<(Combination, u16)> = None;
    for doc in 0..reader.max_doc() {
        let key: Combination = (
            [
                columns[0].first(doc),
                columns[1].first(doc),
                columns[2].first(doc),
            ],
            term_ids.values_for_doc(doc).collect(),
        );
        let code = match &last {
            Some((last_key, code)) if *last_key == key => *code,
            _ => match codes.get(&key) {
                Some(code) => *code,
                None => {
                    let Ok(code) = u16::try_from(combinations.len()) else {
                        return Ok(None);
                    };
                    combinations.push(key.clone());
                    codes.insert(key.clone(), code);
                    code
                }
            },
        };
        of_doc.push(code);
        last = Some((key, code));
    }
    Ok(Some(FacetTable {
        combinations,
        of_doc,
    }))
}

/// Counts the matches of a segment by genre, media type, price and taxonomy term.
fn count_facets(
    searcher: &Searcher,
    reader: &SegmentReader,
    matches: &Matches,
    counts: &mut [Counts; 3],
    tally: &mut TermTally,
) -> tantivy::Result<()> {
    if let Some(table) = facet_table(searcher, reader)? {
        // Four counters per combination, so that neighbours of the same combination do not
        // wait for each other's increment.
        let mut by_combination = vec![[0u64; 4]; table.combinations.len()];
        matches.for_each(|i, doc| {
            by_combination[table.of_doc[doc as usize] as usize][i % 4] += 1;
        });
        for ((values, terms), counters) in table.combinations.iter().zip(by_combination) {
            let count: u64 = counters.iter().sum();
            if count > 0 {
                for (facet, value) in counts.iter_mut().zip(values) {
                    if let Some(value) = value {
                        facet.add(*value, count);
                    }
                }
                // Every match of a combination has the same terms, so they count once each.
                tally.add_many(terms.iter().copied(), count);
            }
        }
    } else {
        let fast = reader.fast_fields();
        for (facet, name) in counts.iter_mut().zip(FACET_COLUMNS) {
            let column = fast.u64(name)?;
            for doc in matches.docs() {
                if let Some(value) = column.first(doc) {
                    facet.add(value, 1);
                }
            }
        }
        let term_ids = fast.u64("term_id")?;
        for doc in matches.docs() {
            tally.add(term_ids.values_for_doc(doc));
        }
    }
    Ok(())
}
