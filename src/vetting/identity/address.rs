//! Address lines parsed into the parts that are compared: unit, house number, floor,
//! building and street words, so that every way of writing one address parses the same.
//!
//! `AddressLine1` and `AddressLine2` are read as one text (Twilio grades them together
//! as `address_lines_match`, and asks Australian callers to put the unit in line 1).
//! After [`fold`](super::normalize::fold), keeping `/` and `#`:
//!
//! - `2/14` (Australian unit/number) is unit 2, number 14.
//! - `Unit`, `Apt`, `Apartment`, `Flat`, `Suite`, `Ste` and `#` take the next word as
//!   the unit; `U` and `F` do too when it starts with a digit (`U 2`, `F 2`, also
//!   written `U2`). So `2/14 Smith St`, `Unit 2 14 Smith St`, `U 2 14 Smith St`, `Flat 2
//!   14 Smith Street`, `F 2 14 Smith St` and `Apt 2 14 Smith St` are all unit 2, number
//!   14, street `smith street`.
//! - `Floor`, `Fl`, `Level`, `Lvl` take a floor; `Building`, `Bldg`, `Block`, `Blk`,
//!   `Bloco`, `Bl` (Brazil) take a building, when the next word starts with a digit.
//! - `PO Box`, `P.O. Box` and `POBox` are one word, `pobox`.
//! - The first remaining word that starts with a digit is the house number, wherever it
//!   stands (`via Garibaldi 27` = `27 via Garibaldi`).
//! - The other words are the street, with abbreviations made one ([`canonical`]): `St`
//!   is `street`, `N` is `north`, and so on; German `Str.`, `Straße` and `Strasse` are
//!   all `strasse`, and split off a compound (`Immermannstr.` = `Immermann Straße`).

use super::normalize::fold_keeping;

/// An address, parsed. Equal addresses are `exact_match`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Address {
    /// The apartment, unit, flat or suite.
    pub unit: Option<String>,
    /// The house number, with any letter (`6a`).
    pub number: Option<String>,
    /// The floor or level.
    pub floor: Option<String>,
    /// The building or block.
    pub building: Option<String>,
    /// The street and whatever else the lines hold, canonical words in order.
    pub street: Vec<String>,
}

/// What a designator word (`Unit`, `Floor`...) introduces.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Part {
    Unit,
    Floor,
    Building,
}

impl Address {
    /// Parses address lines, given as one text.
    pub fn parse(lines: &str) -> Address {
        let folded = fold_keeping(lines, &['/', '#']);
        let words: Vec<&str> = folded.split(' ').filter(|w| !w.is_empty()).collect();
        let mut address = Address::default();
        let mut rest: Vec<String> = Vec::new();
        let mut i = 0;
        while let Some(&word) = words.get(i) {
            let next = words.get(i + 1).copied();
            // 2/14: unit 2, number 14.
            if starts_digit(word)
                && next == Some("/")
                && let Some(&number) = words.get(i + 2).filter(|w| starts_digit(w))
            {
                address.unit.get_or_insert_with(|| word.to_owned());
                address.number.get_or_insert_with(|| number.to_owned());
                i += 3;
                continue;
            }
            if word == "/" {
                i += 1;
                continue;
            }
            // A designator glued to its value: U2, Apt4b.
            if let Some((part, value)) = glued(word) {
                address.set(part, value);
                i += 1;
                continue;
            }
            // `Apt # 2` is `Apt 2`.
            let (next, taken) = match next {
                Some("#") if word != "#" => (words.get(i + 2).copied(), 3),
                _ => (next, 2),
            };
            if let Some(value) = next
                && let Some(part) = designator(word, value)
            {
                address.set(part, value);
                i += taken;
                continue;
            }
            rest.push(word.to_owned());
            i += 1;
        }
        let rest = merge_po_box(rest);
        for word in rest {
            if address.number.is_none() && starts_digit(&word) {
                address.number = Some(word);
            } else {
                canonical(&word, &mut address.street);
            }
        }
        address
    }

    /// Whether nothing was found at all.
    pub fn is_empty(&self) -> bool {
        self.unit.is_none()
            && self.number.is_none()
            && self.floor.is_none()
            && self.building.is_none()
            && self.street.is_empty()
    }

    /// Whether unit, floor and building are the same (both absent counts as the same).
    pub(crate) fn same_subunits(&self, other: &Address) -> bool {
        self.unit == other.unit && self.floor == other.floor && self.building == other.building
    }

    fn set(&mut self, part: Part, value: &str) {
        let slot = match part {
            Part::Unit => &mut self.unit,
            Part::Floor => &mut self.floor,
            Part::Building => &mut self.building,
        };
        slot.get_or_insert_with(|| value.to_owned());
    }
}

fn starts_digit(word: &str) -> bool {
    word.bytes().next().is_some_and(|b| b.is_ascii_digit())
}

/// The part `word` introduces when followed by `value`, if it is a designator.
fn designator(word: &str, value: &str) -> Option<Part> {
    if value == "/" || value == "#" {
        return None;
    }
    let digit = starts_digit(value);
    match word {
        "unit" | "apt" | "apartment" | "flat" | "suite" | "ste" | "#" => Some(Part::Unit),
        "u" | "f" if digit => Some(Part::Unit),
        "floor" | "fl" | "level" | "lvl" if digit => Some(Part::Floor),
        "building" | "bldg" | "block" | "blk" | "bloco" | "bl" if digit => Some(Part::Building),
        _ => None,
    }
}

/// A designator and its value written as one word, e.g. `u2`, `apt4b`.
fn glued(word: &str) -> Option<(Part, &str)> {
    let split = word.find(|c: char| c.is_ascii_digit())?;
    let (head, value) = word.split_at(split);
    if head.is_empty() {
        return None;
    }
    let part = match head {
        "unit" | "u" | "apt" | "flat" | "f" | "ste" | "suite" => Part::Unit,
        "fl" | "lvl" | "level" => Part::Floor,
        "bldg" | "blk" => Part::Building,
        _ => return None,
    };
    Some((part, value))
}

/// `p o box`, `po box` and `pobox` as the one word `pobox`.
fn merge_po_box(words: Vec<String>) -> Vec<String> {
    let mut out: Vec<String> = Vec::with_capacity(words.len());
    for word in words {
        if word == "box" {
            let n = out.len();
            if n >= 2 && out[n - 2] == "p" && out[n - 1] == "o" {
                out.truncate(n - 2);
                out.push("pobox".to_owned());
                continue;
            }
            if out.last().is_some_and(|w| w == "po") {
                out.pop();
                out.push("pobox".to_owned());
                continue;
            }
        }
        out.push(word);
    }
    out
}

/// Abbreviations and their canonical words. Street types: USPS, UK and Australian
/// usage; directions; German `str`.
const ABBREVIATIONS: &[(&str, &str)] = &[
    ("st", "street"),
    ("str", "strasse"),
    ("ave", "avenue"),
    ("av", "avenue"),
    ("rd", "road"),
    ("blvd", "boulevard"),
    ("dr", "drive"),
    ("ln", "lane"),
    ("ct", "court"),
    ("pl", "place"),
    ("hwy", "highway"),
    ("pkwy", "parkway"),
    ("pky", "parkway"),
    ("sq", "square"),
    ("ter", "terrace"),
    ("terr", "terrace"),
    ("cres", "crescent"),
    ("cir", "circle"),
    ("pde", "parade"),
    ("n", "north"),
    ("s", "south"),
    ("e", "east"),
    ("w", "west"),
    ("ne", "northeast"),
    ("nw", "northwest"),
    ("se", "southeast"),
    ("sw", "southwest"),
];

/// Words that say what kind of street, or which part of it, rather than which street:
/// they must be equal for a typo to be forgiven, and do not count as a street name.
const GENERIC: &[&str] = &[
    "street",
    "avenue",
    "road",
    "boulevard",
    "drive",
    "lane",
    "court",
    "place",
    "highway",
    "parkway",
    "square",
    "terrace",
    "crescent",
    "circle",
    "parade",
    "way",
    "close",
    "strasse",
    "weg",
    "gasse",
    "platz",
    "allee",
    "via",
    "viale",
    "piazza",
    "rua",
    "avenida",
    "calle",
    "rue",
    "north",
    "south",
    "east",
    "west",
    "northeast",
    "northwest",
    "southeast",
    "southwest",
    "pobox",
];

/// Whether a canonical word is a street type or direction, not a name.
pub(crate) fn is_generic(word: &str) -> bool {
    GENERIC.contains(&word)
}

/// Pushes the canonical form of `word`: its abbreviation expanded, and a German
/// compound ending in `strasse` or `str` split in two (`immermannstr` →
/// `immermann strasse`).
pub fn canonical(word: &str, out: &mut Vec<String>) {
    if let Some((_, full)) = ABBREVIATIONS.iter().find(|(abbr, _)| *abbr == word) {
        out.push((*full).to_owned());
        return;
    }
    for suffix in ["strasse", "str"] {
        if let Some(stem) = word.strip_suffix(suffix)
            && stem.chars().count() >= 2
            && !starts_digit(stem)
        {
            out.push(stem.to_owned());
            out.push("strasse".to_owned());
            return;
        }
    }
    out.push(word.to_owned());
}
