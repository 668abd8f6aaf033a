//! A playlist's order as a list of track ids: inserting and removing entries, checking that a
//! new order is the same entries rearranged, and where two orders part, so a write rewrites
//! only the entries that moved. Stored positions are sparse sort keys (`GAP` apart when
//! written afresh), so an entry goes in between two others by taking a key between theirs,
//! and no other row is rewritten until a gap is used up.

use std::collections::BTreeMap;

/// Ids named in a message, at most; the rest are counted.
const NAMED: usize = 20;

/// The distance between stored keys written afresh: inserting at one spot halves a gap, so
/// 32 inserts there fit before the playlist is renumbered, and 5,000 entries times this stay
/// far inside an `i64`.
pub const GAP: i64 = 1 << 32;

/// `count` increasing keys strictly between `low` (0 before the first entry) and `high` (the
/// next entry's key, `None` past the end), spread evenly; `None` when the gap is too small.
pub(super) fn keys_between(low: i64, high: Option<i64>, count: usize) -> Option<Vec<i64>> {
    let count = count as i64;
    let step = match high {
        None => GAP,
        Some(high) => (high - low) / (count + 1),
    };
    (step > 0).then(|| (1..=count).map(|i| low + step * i).collect())
}

/// Fresh keys for `count` entries: `GAP`, `2 * GAP`, ...
pub(super) fn fresh_keys(count: usize) -> impl Iterator<Item = i64> {
    (1..=count as i64).map(|i| i * GAP)
}

/// How `new` differs from `current` when it is one entry moved: `Some((from, to))`, indices
/// into `current` and `new`, or `None` when more moved (or nothing did).
pub(super) fn single_move(current: &[i64], new: &[i64]) -> Option<(usize, usize)> {
    if current.len() != new.len() {
        return None;
    }
    let start = common_prefix(current, new);
    if start == current.len() {
        return None;
    }
    let end = current.len()
        - current[start..]
            .iter()
            .rev()
            .zip(new[start..].iter().rev())
            .take_while(|(a, b)| a == b)
            .count();
    let (old, moved) = (&current[start..end], &new[start..end]);
    let last = old.len() - 1;
    if old[1..] == moved[..last] && old[0] == moved[last] {
        Some((start, end - 1))
    } else if old[..last] == moved[1..] && old[last] == moved[0] {
        Some((end - 1, start))
    } else {
        None
    }
}

/// `entries` with `tracks` inserted so that the first of them is at `position` (from 1, at
/// most one past the end).
pub(super) fn insert(entries: &[i64], position: usize, tracks: &[i64]) -> Vec<i64> {
    let at = position.saturating_sub(1).min(entries.len());
    let mut out = Vec::with_capacity(entries.len() + tracks.len());
    out.extend_from_slice(&entries[..at]);
    out.extend_from_slice(tracks);
    out.extend_from_slice(&entries[at..]);
    out
}

/// Ids that `ids` lists more than once, each once, in ascending order.
pub(super) fn repeated(ids: &[i64]) -> Vec<i64> {
    let mut seen = BTreeMap::new();
    for id in ids {
        *seen.entry(*id).or_insert(0u32) += 1;
    }
    seen.into_iter()
        .filter(|(_, n)| *n > 1)
        .map(|(id, _)| id)
        .collect()
}

/// Why `new` is not `current` rearranged (the same ids, each as often), or `None` when it is.
pub(super) fn not_a_rearrangement(current: &[i64], new: &[i64]) -> Option<String> {
    let mut balance: BTreeMap<i64, i64> = BTreeMap::new();
    for id in current {
        *balance.entry(*id).or_default() += 1;
    }
    for id in new {
        *balance.entry(*id).or_default() -= 1;
    }
    let expand = |keep: fn(i64) -> bool| -> Vec<i64> {
        balance
            .iter()
            .filter(|(_, n)| keep(**n))
            .flat_map(|(id, n)| std::iter::repeat_n(*id, n.unsigned_abs() as usize))
            .collect()
    };
    let missing = expand(|n| n > 0);
    let extra = expand(|n| n < 0);
    if missing.is_empty() && extra.is_empty() {
        return None;
    }
    let mut problems = Vec::new();
    if !missing.is_empty() {
        problems.push(format!("it leaves out {}", named(&missing)));
    }
    if !extra.is_empty() {
        problems.push(format!(
            "it adds {}, which the playlist does not have (that often)",
            named(&extra)
        ));
    }
    Some(format!(
        "track_ids must be the playlist's {} entries in a new order, each as often as now; {}",
        current.len(),
        problems.join(", and ")
    ))
}

/// How many leading entries two orders share.
pub(super) fn common_prefix(a: &[i64], b: &[i64]) -> usize {
    a.iter().zip(b).take_while(|(x, y)| x == y).count()
}

/// Ids for a message: the first few, then how many more.
pub(super) fn named(ids: &[i64]) -> String {
    let shown: Vec<String> = ids.iter().take(NAMED).map(i64::to_string).collect();
    let mut text = shown.join(", ");
    if ids.len() > NAMED {
        text.push_str(&format!(" and {} more", ids.len() - NAMED));
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn inserting_puts_the_first_new_entry_at_the_position_and_moves_the_rest_down() {
        assert_eq!(insert(&[1, 2, 3], 1, &[9, 8]), vec![9, 8, 1, 2, 3]);
        assert_eq!(insert(&[1, 2, 3], 2, &[9]), vec![1, 9, 2, 3]);
        assert_eq!(insert(&[1, 2, 3], 4, &[9, 9]), vec![1, 2, 3, 9, 9]);
        assert_eq!(insert(&[], 1, &[5]), vec![5]);
    }

    #[test]
    fn repeats_are_named_once_each() {
        assert_eq!(repeated(&[3, 1, 3, 2, 1, 3]), vec![1, 3]);
        assert!(repeated(&[1, 2, 3]).is_empty());
    }

    #[test]
    fn a_rearrangement_keeps_every_entry_as_often_as_before() {
        assert_eq!(not_a_rearrangement(&[1, 2, 1], &[1, 1, 2]), None);
        assert_eq!(not_a_rearrangement(&[], &[]), None);
        let dropped = not_a_rearrangement(&[1, 2, 1], &[1, 2]).unwrap();
        assert!(dropped.contains("leaves out 1"), "{dropped}");
        let added = not_a_rearrangement(&[1, 2], &[1, 2, 7]).unwrap();
        assert!(added.contains("adds 7"), "{added}");
        let swapped = not_a_rearrangement(&[1, 2], &[1, 3]).unwrap();
        assert!(
            swapped.contains("leaves out 2") && swapped.contains("adds 3"),
            "{swapped}"
        );
    }

    #[test]
    fn keys_between_fall_strictly_inside_the_gap_or_past_the_end() {
        assert_eq!(keys_between(0, Some(8), 3), Some(vec![2, 4, 6]));
        assert_eq!(
            keys_between(10, None, 2),
            Some(vec![10 + GAP, 10 + 2 * GAP])
        );
        assert_eq!(keys_between(4, Some(6), 1), Some(vec![5]));
        assert_eq!(keys_between(4, Some(6), 2), None);
        assert_eq!(keys_between(4, Some(5), 1), None);
        assert_eq!(fresh_keys(2).collect::<Vec<_>>(), vec![GAP, 2 * GAP]);
    }

    #[test]
    fn one_entry_moved_is_found_either_way() {
        assert_eq!(single_move(&[1, 2, 3, 4], &[2, 3, 4, 1]), Some((0, 3)));
        assert_eq!(single_move(&[1, 2, 3, 4], &[4, 1, 2, 3]), Some((3, 0)));
        assert_eq!(single_move(&[1, 2, 3, 4], &[1, 3, 2, 4]), Some((1, 2)));
        assert_eq!(single_move(&[1, 2, 3, 4], &[1, 2, 3, 4]), None);
        assert_eq!(single_move(&[1, 2, 3, 4], &[4, 3, 2, 1]), None);
    }

    #[test]
    fn orders_part_after_their_common_prefix() {
        assert_eq!(common_prefix(&[1, 2, 3], &[1, 2, 4]), 2);
        assert_eq!(common_prefix(&[1, 2], &[1, 2, 3]), 2);
        assert_eq!(common_prefix(&[], &[1]), 0);
    }

    #[test]
    fn long_lists_of_ids_are_cut_short_in_messages() {
        let ids: Vec<i64> = (1..=25).collect();
        assert_eq!(
            named(&ids),
            "1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20 and 5 more"
        );
        assert_eq!(named(&[4]), "4");
    }
}
