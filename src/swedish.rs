//! Swedish alphabetical order for lists shown to people (Å, Ä and Ö after
//! Z; case and accents second), with ICU's Swedish collation.

use std::cmp::Ordering;

use icu_collator::options::CollatorOptions;
use icu_collator::{Collator, CollatorBorrowed};
use icu_locale_core::locale;

/// Compares texts in Swedish order.
pub struct SwedishOrder {
    collator: Option<CollatorBorrowed<'static>>,
}

impl SwedishOrder {
    pub fn new() -> SwedishOrder {
        let collator = Collator::try_new(locale!("sv").into(), CollatorOptions::default())
            .map_err(|e| log::error!("Swedish collation unavailable ({e}); lists fall back to code-point order"))
            .ok();
        SwedishOrder { collator }
    }

    pub fn compare(&self, a: &str, b: &str) -> Ordering {
        match &self.collator {
            Some(collator) => collator.compare(a, b),
            None => a.cmp(b),
        }
    }

    /// Sorts items by a text of theirs.
    pub fn sort_by_key<T>(&self, items: &mut [T], key: impl Fn(&T) -> &str) {
        items.sort_by(|a, b| self.compare(key(a), key(b)));
    }
}

impl Default for SwedishOrder {
    fn default() -> Self {
        SwedishOrder::new()
    }
}

#[cfg(test)]
mod tests {
    use super::SwedishOrder;

    #[test]
    fn a_a_o_come_last_and_case_does_not_split_the_list() {
        let order = SwedishOrder::new();
        let mut names = vec!["Ödeshög", "ydre", "Åtvidaberg", "Boxholm", "Ärla", "kinda", "Vimmerby", "Zeta", "éclair"];
        order.sort_by_key(&mut names, |n| n);
        assert_eq!(names, ["Boxholm", "éclair", "kinda", "Vimmerby", "ydre", "Zeta", "Åtvidaberg", "Ärla", "Ödeshög"]);
    }
}
