//! The passes a search runs over each segment: matching as bit sets, scoring only the
//! matches (adding scores as tantivy's boolean queries would), and keeping the best page.

use std::cell::RefCell;
use std::cmp::Ordering;
use std::collections::BinaryHeap;
use std::sync::Arc;

use tantivy::fieldnorm::FieldNormReader;
use tantivy::postings::BlockSegmentPostings;
use tantivy::query::{
    Bm25Weight, BooleanQuery, EnableScoring, Occur, Query, Scorer, TermQuery, Weight,
};
use tantivy::schema::{Field, IndexRecordOption};
use tantivy::{DocAddress, DocId, DocSet, Score, Searcher, SegmentReader, Term, TERMINATED};

use super::facets::{count_facets, Counts};
use super::Facets;
use crate::model::tree::{TermSet, TermTally};

/// One way for a document to satisfy a clause, and what it adds to the score when it does.
pub(super) enum Alternative {
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
pub(super) struct Plan {
    pub(super) must: Vec<Vec<Alternative>>,
    pub(super) should: Vec<Alternative>,
}

/// The best page of a search (score and address, best first), its total and its facets.
pub(super) struct Run {
    pub(super) top: Vec<(Score, DocAddress)>,
    pub(super) total: usize,
    pub(super) facets: Facets,
}

impl Plan {
    /// The terms searched as typed, for highlights.
    pub(super) fn terms(&self) -> BooleanQuery {
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

    pub(super) fn run(
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
            // Ties are broken by kind and id, not by where documents happen to sit, so the
            // order is the same however the index was built.
            let fast = reader.fast_fields();
            let kinds = fast.u64("kind")?.first_or_default_col(0);
            let ids = fast.u64("id")?.first_or_default_col(0);
            matches.for_each(|position, doc| {
                let score = scores[position];
                if keep == 0 || (top.len() == keep && score < worst) {
                    return;
                }
                let ranked = Ranked {
                    score,
                    key: (kinds.get_val(doc), ids.get_val(doc)),
                    address: DocAddress::new(ord as u32, doc),
                };
                if top.len() == keep {
                    if top.peek().is_some_and(|worst| ranked >= *worst) {
                        return;
                    }
                    top.pop();
                }
                top.push(ranked);
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
pub(super) struct Matches {
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
    pub(super) fn for_each(&self, mut f: impl FnMut(usize, DocId)) {
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

    pub(super) fn docs(&self) -> impl Iterator<Item = DocId> + '_ {
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

/// A hit kept for the page: better is less, by descending score then ascending kind and id.
struct Ranked {
    score: Score,
    /// (kind, id): the lower ranks first among equal scores.
    key: (u64, u64),
    address: DocAddress,
}

impl Ord for Ranked {
    fn cmp(&self, other: &Self) -> Ordering {
        other
            .score
            .partial_cmp(&self.score)
            .unwrap_or(Ordering::Equal)
            .then_with(|| self.key.cmp(&other.key))
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
