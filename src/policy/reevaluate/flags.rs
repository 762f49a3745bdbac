//! Re-review flags: when an evaluation is worse than an earlier one, and
//! which approvals that flags.

use super::*;

/// Rank of an outcome for "got worse": pass and not applicable are equal.
pub(super) fn rank(outcome: RuleOutcome) -> u8 {
    match outcome {
        RuleOutcome::Pass | RuleOutcome::NotApplicable => 0,
        RuleOutcome::Warn => 1,
        RuleOutcome::Fail => 2,
    }
}

/// Whether a new evaluation is worse than an earlier one for an approval:
/// the verdict turned from pass, or any rule's outcome got worse. Both are
/// read in their stored compact form: the verdict (`pass` or `fail`) and the
/// rule outcomes (`R1=pass,R2=warn,…`).
pub fn worse(old_verdict: &str, old_outcomes: &str, new_verdict: &str, new_outcomes: &str) -> bool {
    let pass = Verdict::Pass.as_str();
    if old_verdict == pass && new_verdict != pass {
        return true;
    }
    let before = |rule: &str| -> u8 { ranks(old_outcomes).find(|(id, _)| *id == rule).map_or(0, |(_, rank)| rank) };
    ranks(new_outcomes).any(|(rule, now)| now > before(rule))
}

/// The rules of a compact outcome list with the rank of each outcome.
pub(super) fn ranks(outcomes: &str) -> impl Iterator<Item = (&str, u8)> {
    compact_outcomes(outcomes).map(|(id, outcome)| (id, outcome.map_or(0, rank)))
}

/// Whether an evaluation's stored `worse_than` lists a rule-set version.
pub fn lists_version(worse_than: &str, version: &str) -> bool {
    worse_than.len() > 2 && VersionList::parse(worse_than).lists(version)
}

/// Whether any re-review flag was recorded as a row of its own (in
/// `re_reviews`, before migration 000010), so that readers skip the table
/// when it is empty.
pub fn has_legacy_flags(conn: &mut DbConnection) -> Result<bool, AppError> {
    let any: Option<String> = re_reviews::table.select(re_reviews::id).first(conn).optional()?;
    Ok(any.is_some())
}

/// The re-review flags that concern some decisions: the `worse_than` lists
/// of the evaluations of their revisions, and the flags recorded one by one
/// (in `re_reviews`) before migration 000010.
pub struct ReReviewFlags {
    pub(super) worse_than: HashMap<String, Vec<String>>,
    pub(super) legacy: HashSet<String>,
}

impl ReReviewFlags {
    /// For decisions given as (decision id, revision id).
    pub fn load<'a>(
        conn: &mut DbConnection,
        decisions: impl IntoIterator<Item = (&'a str, &'a str)>,
    ) -> Result<ReReviewFlags, AppError> {
        let (ids, mut revision_ids): (Vec<&str>, Vec<&str>) = decisions.into_iter().unzip();
        revision_ids.sort_unstable();
        revision_ids.dedup();
        let mut worse_than: HashMap<String, Vec<String>> = HashMap::new();
        for chunk in revision_ids.chunks(500) {
            let rows: Vec<(String, String)> = evaluations::table
                .filter(evaluations::revision_id.eq_any(chunk))
                .filter(evaluations::worse_than.ne(VersionList::NONE))
                .select((evaluations::revision_id, evaluations::worse_than))
                .load(conn)?;
            for (revision_id, versions) in rows {
                worse_than.entry(revision_id).or_default().push(versions);
            }
        }
        let mut legacy = HashSet::new();
        if has_legacy_flags(conn)? {
            for chunk in ids.chunks(500) {
                let flagged: Vec<String> = re_reviews::table
                    .filter(re_reviews::decision_id.eq_any(chunk))
                    .select(re_reviews::decision_id)
                    .load(conn)?;
                legacy.extend(flagged);
            }
        }
        Ok(ReReviewFlags { worse_than, legacy })
    }

    /// Whether a decision (by its id, its revision and the rule-set version
    /// it was decided under) is flagged. Whether it is still live is for the
    /// caller to check.
    pub fn flagged(&self, decision_id: &str, revision_id: &str, version: &str) -> bool {
        self.legacy.contains(decision_id)
            || self.worse_than.get(revision_id).is_some_and(|lists| lists.iter().any(|w| lists_version(w, version)))
    }
}
