//! The bit sets over a segment's documents, their buffers reused per thread, and a segment's
//! matches, each scored as tantivy's boolean queries would add its score.

use std::cell::RefCell;

use tantivy::query::Scorer;
use tantivy::{DocId, DocSet, Score, TERMINATED};

use super::matching::Live;

/// A plain bit set over a segment's documents.
pub(super) struct Bits(pub(super) Vec<u64>);

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
    pub(super) fn new(max_doc: DocId) -> Self {
        let mut buffer = SPARE_BITS
            .with(|spare| spare.borrow_mut().pop())
            .unwrap_or_default();
        buffer.clear();
        buffer.resize((max_doc as usize).div_ceil(64), 0);
        Bits(buffer)
    }

    pub(super) fn insert(&mut self, doc: DocId) {
        self.0[(doc / 64) as usize] |= 1 << (doc % 64);
    }

    /// Adds these documents to `into`, if any.
    pub(super) fn added_to(self, into: Option<&mut Bits>) -> Self {
        if let Some(into) = into {
            for (word, mine) in into.0.iter_mut().zip(&self.0) {
                *word |= mine;
            }
        }
        self
    }
}

/// The matches of a segment, in ascending order, each with its position in that order.
pub(in crate::search::query) struct Matches {
    bits: Bits,
    /// How many matches come before each word of `bits`.
    before: Vec<u32>,
    pub(super) len: usize,
}

impl Matches {
    pub(super) fn new(bits: Bits) -> Self {
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
    pub(in crate::search::query) fn for_each(&self, mut f: impl FnMut(usize, DocId)) {
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

    pub(in crate::search::query) fn docs(&self) -> impl Iterator<Item = DocId> + '_ {
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
    pub(super) fn scores(&self, required: &mut [Vec<Live>], optional: &mut [Live]) -> Vec<Score> {
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
