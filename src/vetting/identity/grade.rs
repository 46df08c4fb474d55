//! Grading: each field of a query against a record, the thresholds that separate the
//! levels, and Twilio's summary score.
//!
//! The levels and their rules are tabled in the [module docs](super).

use strsim::{jaro_winkler, osa_distance};

use super::address::{Address, is_generic};
use super::normalize::{compact, country_code, fold, national_id, postal_code, same_postal_code};
use super::regions::same_state;
use super::{Field, MatchLevel, MatchResult, Query, Record};

/// A string of at least this many characters may hold one typo and still be a
/// `high_partial_match` (`Robere` for `Robert`; `Jon` for `John` is too short).
pub const ONE_TYPO_FROM: usize = 5;
/// A string of at least this many characters may hold two typos.
pub const TWO_TYPOS_FROM: usize = 10;
/// Jaro-Winkler similarity from which two names that are no typo, prefix, subset or
/// nickname of each other are still a `partial_match` (`Stephen` / `Steven` is 0.89;
/// `John` / `Joan` is 0.87 and is not).
pub const NAME_PARTIAL_JW: f64 = 0.88;
/// Jaro-Winkler similarity from which two street texts whose name words do not match
/// one another are still a `partial_match` (`Imermanstrase` / `Immermannstrasse`).
pub const STREET_PARTIAL_JW: f64 = 0.92;
/// Texts longer than this (in characters, after folding) are compared only for
/// equality, prefixes and words: edit distance and Jaro-Winkler are quadratic, and no
/// real name or address is this long.
pub const MAX_FUZZY_CHARS: usize = 600;

/// Nicknames: each row is a formal name and the short forms people go by. Any two
/// names of one row are a `partial_match` (Twilio: "Bob" for "Robert"). Short forms
/// that are prefixes (`Rob`) need no row: a prefix is already partial.
pub const NICKNAMES: &[&[&str]] = &[
    &["robert", "bob", "bobby", "rob", "robbie", "bert"],
    &["william", "bill", "billy", "will", "willy", "liam"],
    &["richard", "rick", "ricky", "dick", "rich"],
    &["james", "jim", "jimmy", "jamie"],
    &["john", "jack", "johnny"],
    &[
        "elizabeth",
        "liz",
        "lizzie",
        "beth",
        "betty",
        "eliza",
        "libby",
    ],
    &["margaret", "maggie", "meg", "peggy", "marge"],
    &[
        "katherine",
        "catherine",
        "kate",
        "kathy",
        "cathy",
        "katie",
        "kat",
    ],
    &["michael", "mike", "mick", "mickey"],
    &["edward", "ed", "eddie", "ted", "ned"],
    &["charles", "charlie", "chuck"],
    &["joseph", "joe", "joey"],
    &["anthony", "tony"],
    &["christopher", "chris", "kit"],
    &["patricia", "pat", "patty", "trish"],
    &["alexander", "alex", "sandy"],
    &["nicholas", "nick", "nicky"],
    &["andrew", "andy", "drew"],
    &["stephen", "steven", "steve"],
    &["susan", "sue", "susie"],
    &["rebecca", "becky"],
    &["henry", "harry", "hank"],
    &["jose", "pepe"],
    &["francisco", "paco", "pancho"],
    &["giuseppe", "beppe", "peppe"],
    &["johannes", "johann", "hans"],
];

/// How many typos a string of `chars` characters may hold.
pub fn typo_budget(chars: usize) -> usize {
    match chars {
        c if c >= TWO_TYPOS_FROM => 2,
        c if c >= ONE_TYPO_FROM => 1,
        _ => 0,
    }
}

/// Whether `a` and `b` differ by at most the typo budget of the longer one.
fn is_typo(a: &str, b: &str) -> bool {
    let (la, lb) = (a.chars().count(), b.chars().count());
    let longest = la.max(lb);
    let budget = typo_budget(longest);
    budget > 0 && la.abs_diff(lb) <= budget && longest <= MAX_FUZZY_CHARS && {
        osa_distance(a, b) <= budget
    }
}

fn similar(a: &str, b: &str, threshold: f64) -> bool {
    a.chars().count().max(b.chars().count()) <= MAX_FUZZY_CHARS && jaro_winkler(a, b) >= threshold
}

/// Grades `query` against one record. `None`, no record for the number: every field
/// `no_data_available`, score 0.
pub fn grade(query: &Query, record: Option<&Record>) -> MatchResult {
    let Some(record) = record else {
        return MatchResult::no_data();
    };
    let both = |field: Field| query.get(field).zip(record.get(field));
    let text = |field: Field, compare: fn(&str, &str) -> MatchLevel| {
        both(field).map_or(MatchLevel::NoDataAvailable, |(q, r)| {
            let (q, r) = (fold(q), fold(r));
            if q.is_empty() || r.is_empty() {
                return MatchLevel::NoDataAvailable;
            }
            compare(&q, &r)
        })
    };
    // Compared in a key form (postal code, national ID...); empty there is no data.
    let keyed = |field: Field, key: fn(&str) -> String, same: fn(&str, &str) -> bool| {
        both(field).map_or(MatchLevel::NoDataAvailable, |(q, r)| {
            let (q, r) = (key(q), key(r));
            if q.is_empty() || r.is_empty() {
                return MatchLevel::NoDataAvailable;
            }
            exact(same(&q, &r))
        })
    };
    let first_name_match = text(Field::FirstName, name_level);
    let last_name_match = text(Field::LastName, name_level);
    let address_lines_match = address_level(
        &address_lines(
            query.get(Field::AddressLine1),
            query.get(Field::AddressLine2),
        ),
        &address_lines(
            record.get(Field::AddressLine1),
            record.get(Field::AddressLine2),
        ),
    );
    MatchResult {
        first_name_match,
        last_name_match,
        address_lines_match,
        city_match: text(Field::City, city_level),
        state_match: text(Field::State, |q, r| exact(same_state(q, r))),
        postal_code_match: keyed(Field::PostalCode, postal_code, same_postal_code),
        address_country_match: keyed(Field::AddressCountryCode, country_code, equal),
        national_id_match: keyed(Field::NationalId, national_id, equal),
        date_of_birth_match: keyed(Field::DateOfBirth, |d| d.trim().to_owned(), equal),
        summary_score: summary_score(first_name_match, last_name_match, address_lines_match),
    }
}

/// The best grade among several records of one number: the highest summary score,
/// then the most `exact_match` fields, then the most positive fields; the first such
/// record on a tie. No records: [`grade`] with `None`.
pub fn best(query: &Query, records: &[Record]) -> MatchResult {
    let key = |m: &MatchResult| {
        let levels = m.levels();
        let exact = levels
            .iter()
            .filter(|(_, l)| *l == MatchLevel::ExactMatch)
            .count();
        let positive = levels.iter().filter(|(_, l)| l.is_positive()).count();
        (m.summary_score, exact, positive)
    };
    let mut best: Option<(MatchResult, (u8, usize, usize))> = None;
    for record in records {
        let result = grade(query, Some(record));
        let k = key(&result);
        if best.as_ref().is_none_or(|(_, top)| k > *top) {
            best = Some((result, k));
        }
    }
    best.map_or_else(|| grade(query, None), |(result, _)| result)
}

/// Twilio's summary score, from the first name, last name and address lines levels,
/// P being positive ([`MatchLevel::is_positive`]) and N the rest:
///
/// | first | last | address | score |
/// |---|---|---|---|
/// | P | P | P | 100 |
/// | P | N | P | 80 |
/// | P | N | `no_data_available` | 70 |
/// | P | P | N | 40 |
/// | N | P | P | 20 |
/// | N | P | N | 20 |
/// | P | N | `no_match` | 0 |
/// | N | N | P | 0 |
/// | N | N | N | 0 |
pub fn summary_score(first: MatchLevel, last: MatchLevel, address: MatchLevel) -> u8 {
    match (
        first.is_positive(),
        last.is_positive(),
        address.is_positive(),
    ) {
        (true, true, true) => 100,
        (true, false, true) => 80,
        (true, false, false) if address == MatchLevel::NoDataAvailable => 70,
        (true, true, false) => 40,
        (false, true, _) => 20,
        _ => 0,
    }
}

fn equal(a: &str, b: &str) -> bool {
    a == b
}

fn exact(same: bool) -> MatchLevel {
    if same {
        MatchLevel::ExactMatch
    } else {
        MatchLevel::NoMatch
    }
}

/// A first or last name, both folded.
pub fn name_level(q: &str, r: &str) -> MatchLevel {
    if q.is_empty() || r.is_empty() {
        return MatchLevel::NoDataAvailable;
    }
    if q == r {
        return MatchLevel::ExactMatch;
    }
    if is_typo(q, r) || compact(q) == compact(r) || same_words(q, r) {
        return MatchLevel::HighPartialMatch;
    }
    let (qw, rw): (Vec<&str>, Vec<&str>) = (q.split(' ').collect(), r.split(' ').collect());
    if words_found(&qw, &rw, true) || nicknames(q, r) || similar(q, r, NAME_PARTIAL_JW) {
        return MatchLevel::PartialMatch;
    }
    MatchLevel::NoMatch
}

/// The same words in another order.
fn same_words(a: &str, b: &str) -> bool {
    let mut aw: Vec<&str> = a.split(' ').collect();
    let mut bw: Vec<&str> = b.split(' ').collect();
    aw.sort_unstable();
    bw.sort_unstable();
    aw == bw
}

/// Whether every word of the side with fewer words is found in a distinct word of the
/// other: equal, a typo of it, or (with `prefixes`) a prefix of it either way, so an
/// initial is found in the name it begins.
fn words_found(a: &[&str], b: &[&str], prefixes: bool) -> bool {
    let (few, many) = if a.len() <= b.len() { (a, b) } else { (b, a) };
    if few.is_empty() {
        return false;
    }
    let mut used = vec![false; many.len()];
    // Equal words first, so that a prefix does not take a word an equal one needs.
    let mut pending = Vec::with_capacity(few.len());
    for word in few {
        match (0..many.len()).find(|&j| !used[j] && many[j] == *word) {
            Some(j) => used[j] = true,
            None => pending.push(*word),
        }
    }
    pending.into_iter().all(|word| {
        let found = (0..many.len()).find(|&j| {
            let other = many[j];
            !used[j]
                && (is_typo(word, other)
                    || (prefixes && (other.starts_with(word) || word.starts_with(other))))
        });
        found.map(|j| used[j] = true).is_some()
    })
}

/// Two names of one row of [`NICKNAMES`].
fn nicknames(a: &str, b: &str) -> bool {
    NICKNAMES
        .iter()
        .any(|row| row.contains(&a) && row.contains(&b))
}

/// A city, both folded: exact when equal, also without spaces or with `St`/`Ste`/
/// `Ft`/`Mt` read as `Saint`/`Sainte`/`Fort`/`Mount`.
fn city_level(q: &str, r: &str) -> MatchLevel {
    let expand = |s: &str| -> String {
        s.split(' ')
            .map(|w| match w {
                "st" => "saint",
                "ste" => "sainte",
                "ft" => "fort",
                "mt" => "mount",
                w => w,
            })
            .collect::<Vec<_>>()
            .concat()
    };
    if q.is_empty() || r.is_empty() {
        return MatchLevel::NoDataAvailable;
    }
    exact(expand(q) == expand(r))
}

/// Address lines 1 and 2 as one text.
fn address_lines(line1: Option<&str>, line2: Option<&str>) -> Option<String> {
    match (line1, line2) {
        (None, None) => None,
        (Some(one), None) | (None, Some(one)) => Some(one.to_owned()),
        (Some(one), Some(two)) => Some(format!("{one} {two}")),
    }
}

/// How two streets (canonical words) relate.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Street {
    Same,
    Typo,
    Close,
    Different,
}

/// The address lines level.
fn address_level(q: &Option<String>, r: &Option<String>) -> MatchLevel {
    let (Some(q), Some(r)) = (q, r) else {
        return MatchLevel::NoDataAvailable;
    };
    let (q, r) = (Address::parse(q), Address::parse(r));
    if q.is_empty() || r.is_empty() {
        return MatchLevel::NoDataAvailable;
    }
    if q == r {
        return MatchLevel::ExactMatch;
    }
    let numbers_same = match (&q.number, &r.number) {
        (Some(a), Some(b)) if a == b => true,
        (None, None) => true,
        (Some(a), Some(b)) => {
            let digits = |s: &str| {
                s.chars()
                    .take_while(char::is_ascii_digit)
                    .collect::<String>()
            };
            if digits(a) != digits(b) {
                return MatchLevel::NoMatch;
            }
            false
        }
        _ => false,
    };
    match street(&q.street, &r.street) {
        Street::Different => MatchLevel::NoMatch,
        Street::Typo | Street::Same if numbers_same && q.same_subunits(&r) => {
            MatchLevel::HighPartialMatch
        }
        _ => MatchLevel::PartialMatch,
    }
}

/// Compares two streets.
fn street(a: &[String], b: &[String]) -> Street {
    if a == b {
        return Street::Same;
    }
    let (aj, bj) = (a.join(" "), b.join(" "));
    let generic_equal = a.len() == b.len()
        && a.iter()
            .zip(b)
            .all(|(x, y)| is_generic(x) == is_generic(y) && (!is_generic(x) || x == y));
    let names = |s: &[String]| {
        s.iter()
            .filter(|w| !is_generic(w))
            .cloned()
            .collect::<Vec<_>>()
    };
    let (an, bn) = (names(a), names(b));
    if (generic_equal && is_typo(&aj, &bj))
        || (!aj.is_empty() && compact(&aj) == compact(&bj))
        || (!a.is_empty() && same_words(&aj, &bj))
    {
        return Street::Typo;
    }
    let an: Vec<&str> = an.iter().map(String::as_str).collect();
    let bn: Vec<&str> = bn.iter().map(String::as_str).collect();
    if words_found(&an, &bn, true)
        || (!an.is_empty() && !bn.is_empty() && similar(&aj, &bj, STREET_PARTIAL_JW))
    {
        return Street::Close;
    }
    Street::Different
}
