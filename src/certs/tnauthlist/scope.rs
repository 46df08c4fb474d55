//! Which telephone numbers a TNAuthList covers: whether a PASSporT's `orig` is one of
//! them ([`covering`]), and whether a certificate's list is within its issuer's
//! ([`encompassed`], RFC 9060 section 4).
//!
//! A number entry covers that number, compared as written. A range (RFC 8226
//! `TelephoneNumberRange`: `start` and `count`) covers the `count` numbers from `start`
//! upwards *of the same length as `start`*: `12155550100` with count 100 covers
//! `12155550100` to `12155550199`, and `1215555010` with count 100 covers the ten-digit
//! `1215555010` to `1215555109`, never an eleven-digit number. A range runs no further
//! than the last number of its length, and a range whose start holds `#` or `*` covers
//! no number but an identical range. An SPC covers no telephone number that can be
//! told from the certificate: which numbers belong to a service provider is not in it.

use std::collections::BTreeMap;

use super::TnAuthEntry;

/// The longest telephone number (RFC 8226: `TelephoneNumber ::= IA5String (SIZE (1..15))`).
const MAX_DIGITS: usize = 15;

/// The entry of `list` that covers the telephone number `tn` (a PASSporT `orig`, in the
/// canonical form of RFC 8224 section 8.3: digits, no `+`), if any. A `tn` that is not
/// 1 to 15 of `0-9`, `#` and `*` is covered by nothing.
pub fn covering<'a>(list: &'a [TnAuthEntry], tn: &str) -> Option<&'a TnAuthEntry> {
    if !is_telephone_number(tn) {
        return None;
    }
    let number = Numbers::of_tn(tn);
    list.iter().find(|entry| match entry {
        TnAuthEntry::Spc(_) => false,
        TnAuthEntry::Tn(t) => t == tn,
        TnAuthEntry::Range { .. } => match (Numbers::of(entry), number) {
            (Some(range), Some(n)) => range.holds(&n),
            _ => false,
        },
    })
}

/// Whether a certificate's TNAuthList is encompassed by its issuer's (RFC 9060
/// section 4: "equal to or a subset of its parent certificate's scope").
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Encompassed {
    /// Every entry is within the issuer's list.
    Yes,
    /// Every entry is within the issuer's list or may be within one of its SPCs, which
    /// the certificates cannot tell (RFC 9060 section 4.1 leaves that check to the
    /// issuing CA or to data outside the certificate).
    Undecidable,
    /// This entry is outside the issuer's list: a number or range beyond its numbers
    /// when it holds no SPC, or an SPC it does not hold.
    No(TnAuthEntry),
}

/// Whether `child` (a certificate's TNAuthList) is within `issuer` (its issuer's). A
/// child range is within when the issuer's numbers and ranges of its length, taken
/// together, hold all of it.
pub fn encompassed(issuer: &[TnAuthEntry], child: &[TnAuthEntry]) -> Encompassed {
    let issuer_has_spc = issuer.iter().any(|e| matches!(e, TnAuthEntry::Spc(_)));
    let spans = merged_spans(issuer);
    let mut undecidable = false;
    for entry in child {
        if issuer.contains(entry) {
            continue;
        }
        let within = match entry {
            TnAuthEntry::Spc(_) => return Encompassed::No(entry.clone()),
            TnAuthEntry::Tn(_) | TnAuthEntry::Range { .. } => {
                Numbers::of(entry).is_some_and(|numbers| {
                    spans
                        .get(&numbers.len)
                        .is_some_and(|spans| spans.iter().any(|s| s.holds(&numbers)))
                })
            }
        };
        if within {
            continue;
        }
        if !issuer_has_spc {
            return Encompassed::No(entry.clone());
        }
        undecidable = true;
    }
    if undecidable {
        Encompassed::Undecidable
    } else {
        Encompassed::Yes
    }
}

/// 1 to 15 of `0-9`, `#` and `*`.
fn is_telephone_number(tn: &str) -> bool {
    (1..=MAX_DIGITS).contains(&tn.len())
        && tn
            .bytes()
            .all(|b| b.is_ascii_digit() || b == b'#' || b == b'*')
}

/// Consecutive numbers of one length, `first` to `last` inclusive.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Numbers {
    len: usize,
    first: u64,
    last: u64,
}

impl Numbers {
    /// The numbers of a TN or range entry, when they are all digits; none for an SPC, a
    /// count of 0, or a start with `#` or `*`.
    fn of(entry: &TnAuthEntry) -> Option<Numbers> {
        match entry {
            TnAuthEntry::Spc(_) => None,
            TnAuthEntry::Tn(tn) => Numbers::of_tn(tn),
            TnAuthEntry::Range { start, count } => {
                let first = Numbers::of_tn(start)?;
                let span = count.checked_sub(1)?;
                // The last number of this length: 10^len - 1 (len is at most 15).
                let top = 10u64.checked_pow(u32::try_from(first.len).ok()?)? - 1;
                Some(Numbers {
                    last: first.first.saturating_add(span).min(top),
                    ..first
                })
            }
        }
    }

    fn of_tn(tn: &str) -> Option<Numbers> {
        if !(1..=MAX_DIGITS).contains(&tn.len()) || !tn.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        let n = tn.parse().ok()?;
        Some(Numbers {
            len: tn.len(),
            first: n,
            last: n,
        })
    }

    /// Whether every number of `other` is one of these.
    fn holds(&self, other: &Numbers) -> bool {
        self.len == other.len && self.first <= other.first && other.last <= self.last
    }
}

/// The digit-only numbers and ranges of `list`, by length, merged where they touch or
/// overlap, in order.
fn merged_spans(list: &[TnAuthEntry]) -> BTreeMap<usize, Vec<Numbers>> {
    let mut by_len: BTreeMap<usize, Vec<Numbers>> = BTreeMap::new();
    for numbers in list.iter().filter_map(Numbers::of) {
        by_len.entry(numbers.len).or_default().push(numbers);
    }
    for spans in by_len.values_mut() {
        spans.sort_by_key(|s| (s.first, s.last));
        let mut merged: Vec<Numbers> = Vec::with_capacity(spans.len());
        for span in spans.drain(..) {
            match merged.last_mut() {
                Some(last) if span.first <= last.last.saturating_add(1) => {
                    last.last = last.last.max(span.last);
                }
                _ => merged.push(span),
            }
        }
        *spans = merged;
    }
    by_len
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tn(t: &str) -> TnAuthEntry {
        TnAuthEntry::Tn(t.into())
    }

    fn range(start: &str, count: u64) -> TnAuthEntry {
        TnAuthEntry::Range {
            start: start.into(),
            count,
        }
    }

    fn spc(s: &str) -> TnAuthEntry {
        TnAuthEntry::Spc(s.into())
    }

    #[test]
    fn a_number_entry_covers_that_number_only() {
        let list = [tn("12155550121")];
        assert_eq!(covering(&list, "12155550121"), Some(&list[0]));
        for other in [
            "12155550122",
            "2155550121",
            "121555501210",
            "1215555012",
            "",
        ] {
            assert_eq!(covering(&list, other), None, "{other}");
        }
        // Special digits match as written; anything else is no telephone number.
        let list = [tn("1215555012#")];
        assert_eq!(covering(&list, "1215555012#"), Some(&list[0]));
        assert_eq!(covering(&[tn("+12155550121")], "+12155550121"), None);
    }

    #[test]
    fn a_range_covers_start_to_start_plus_count_minus_one_of_its_length() {
        let list = [range("12155550100", 100)];
        for inside in ["12155550100", "12155550150", "12155550199"] {
            assert_eq!(covering(&list, inside), Some(&list[0]), "{inside}");
        }
        for outside in [
            "12155550099",
            "12155550200",
            // The same digits one shorter or longer are other numbers.
            "1215555010",
            "121555501000",
            "121555501050",
        ] {
            assert_eq!(covering(&list, outside), None, "{outside}");
        }
        // Ten digits from 1215555010: 1215555010 to 1215555109, no eleven-digit number.
        let ten = [range("1215555010", 100)];
        assert_eq!(covering(&ten, "1215555109"), Some(&ten[0]));
        assert_eq!(covering(&ten, "1215555110"), None);
        assert_eq!(covering(&ten, "12155550121"), None);
    }

    #[test]
    fn huge_counts_stop_at_the_last_number_of_the_length_without_overflow() {
        let list = [range("999999999999998", u64::MAX)];
        assert!(covering(&list, "999999999999999").is_some());
        assert!(covering(&list, "999999999999997").is_none());
        let list = [range("5", u64::MAX)];
        assert!(covering(&list, "9").is_some());
        assert!(covering(&list, "10").is_none());
        // Decoding refuses counts below 2, but a list built by hand may hold them.
        assert!(covering(&[range("12155550121", 0)], "12155550121").is_none());
        assert!(covering(&[range("12155550121", 1)], "12155550121").is_some());
        // A start with special digits covers no number.
        assert!(covering(&[range("1215555012#", 10)], "1215555012#").is_none());
        assert!(covering(&[range("1215555012#", 10)], "12155550121").is_none());
    }

    #[test]
    fn an_spc_covers_no_number() {
        assert_eq!(covering(&[spc("1234")], "1234"), None);
        let list = [spc("1234"), tn("12155550121")];
        assert_eq!(covering(&list, "12155550121"), Some(&list[1]));
    }

    #[test]
    fn encompassing_by_numbers_is_decided() {
        // RFC 9060 section 4's example: 1000 to 1999 encompasses 1500 to 1599 and 1824.
        let parent = [range("12125551000", 1000)];
        assert_eq!(
            encompassed(&parent, &[range("12125551500", 100), tn("12125551824")]),
            Encompassed::Yes
        );
        assert_eq!(
            encompassed(&parent, &[range("12125551950", 100)]),
            Encompassed::No(range("12125551950", 100))
        );
        assert_eq!(
            encompassed(&parent, &[tn("12125552000")]),
            Encompassed::No(tn("12125552000"))
        );
        // Another length is another number.
        assert_eq!(
            encompassed(&parent, &[tn("2125551500")]),
            Encompassed::No(tn("2125551500"))
        );
        // Touching ranges and single numbers together cover a range across them.
        let parts = [
            range("12125551000", 10),
            tn("12125551010"),
            range("12125551011", 9),
        ];
        assert_eq!(
            encompassed(&parts, &[range("12125551005", 15)]),
            Encompassed::Yes
        );
        assert_eq!(
            encompassed(&parts, &[range("12125551005", 16)]),
            Encompassed::No(range("12125551005", 16))
        );
        assert_eq!(encompassed(&parts, &parts), Encompassed::Yes);
    }

    #[test]
    fn under_an_spc_numbers_cannot_be_decided_and_other_spcs_are_outside() {
        let sca = [spc("1234")];
        assert_eq!(
            encompassed(&sca, &[tn("12155550121"), range("12155550100", 100)]),
            Encompassed::Undecidable
        );
        assert_eq!(encompassed(&sca, &[spc("1234")]), Encompassed::Yes);
        assert_eq!(
            encompassed(&sca, &[tn("12155550121"), spc("5678")]),
            Encompassed::No(spc("5678"))
        );
        // Numbers the issuer lists are decided even beside its SPC.
        let mixed = [spc("1234"), range("12155550100", 100)];
        assert_eq!(encompassed(&mixed, &[tn("12155550150")]), Encompassed::Yes);
        assert_eq!(
            encompassed(&mixed, &[tn("12155550250")]),
            Encompassed::Undecidable
        );
        // Numbers cannot hold an SPC.
        assert_eq!(
            encompassed(&[range("12155550100", 100)], &[spc("1234")]),
            Encompassed::No(spc("1234"))
        );
    }
}
