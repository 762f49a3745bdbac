//! What a page of a re-evaluation has to do: its revisions, their earlier
//! evaluations and live approvals, and which rules can be carried over.

use super::*;

/// How the rules in force relate to those of each earlier rule set, so that
/// what an earlier evaluation of a revision showed carries over (see
/// `lineage`): a re-evaluation then runs only the rules, or the checks of a
/// rule, that changed (and the rules whose earlier outcome has violations to
/// report), on only the fields they read.
pub(super) struct Unchanged {
    pub(super) by_version: HashMap<String, Lineage>,
    /// The messages of the checks in force, for violations repeated from an
    /// evaluation stored without them (a rule of the same text has the same
    /// checks and messages).
    pub(super) in_force: RuleCatalog,
}

impl Unchanged {
    pub(super) fn load(conn: &mut DbConnection, policies: &PolicySet) -> Result<Unchanged, AppError> {
        let rows: Vec<(String, String)> = rule_sets::table
            .filter(rule_sets::version.ne(policies.version()))
            .select((rule_sets::version, rule_sets::sources))
            .load(conn)?;
        let mut by_version = HashMap::new();
        for (version, sources) in rows {
            let Some(by_rule) = crate::policy::catalog::rules_in(&sources) else {
                log::warn!("rule set {version}: its stored files do not read; its outcomes are not reused");
                continue;
            };
            by_version.insert(version, Lineage::between(policies, &by_rule));
        }
        Ok(Unchanged { by_version, in_force: RuleCatalog::of(policies) })
    }

    /// What the earlier evaluations of a revision say of each rule in force:
    /// for each rule, the prior that leaves the least to run. A rule of the
    /// same text that failed or warned repeats the violations the earlier
    /// evaluation stored (its outcome is read only then).
    pub(super) fn known(&self, policies: &PolicySet, earlier: &[Earlier]) -> Vec<Prior> {
        let mut priors = vec![Prior::Unknown; policies.rules().len()];
        for evaluation in earlier {
            let Some(lineage) = self.by_version.get(&evaluation.version) else {
                continue;
            };
            // Only the violations of the rules repeated are read.
            let mut stored: Option<Option<StoredRules<'_>>> = None;
            for (id, outcome) in compact_outcomes(&evaluation.outcomes) {
                let Some(i) = policies.rules().iter().position(|rule| &*rule.id == id) else { continue };
                let prior = lineage.prior(i, outcome, || {
                    let recorded = outcome?;
                    let text = evaluation.outcome.as_deref()?;
                    let rules = stored.get_or_insert_with(|| StoredRules::parse(text).ok()).as_ref()?;
                    let message = |check: &str| self.in_force.message(policies.version(), check);
                    Some((recorded, rules.rule(id, recorded, message)?))
                });
                let current = std::mem::replace(&mut priors[i], Prior::Unknown);
                priors[i] = current.or_better(prior);
            }
        }
        priors
    }
}

/// A page of revisions: id, the stored document (read as bytes: the JSON
/// parser checks the text as it reads it, so it is not checked twice more on
/// the way in), where its top-level fields lie in it (`json::field_offsets`;
/// none for revisions stored before they were kept), and whether it is the
/// latest revision of its service.
pub(super) type Page = Vec<(String, Vec<u8>, Option<String>, bool)>;

/// An earlier evaluation of a revision, in compact form: rule-set version,
/// verdict and rule outcomes (`R1=pass,…`), and, when a rule failed or
/// warned, the stored outcome with its violations.
pub(super) struct Earlier {
    pub(super) version: String,
    pub(super) verdict: String,
    pub(super) outcomes: String,
    pub(super) outcome: Option<String>,
}

/// A revision to evaluate, with what is known of it: its earlier evaluations
/// and its live approvals.
pub(super) struct Target {
    pub(super) revision_id: String,
    pub(super) document: Vec<u8>,
    pub(super) field_offsets: Option<String>,
    pub(super) earlier: Vec<Earlier>,
    pub(super) live: Vec<LiveApproval>,
}

/// A page's work for the evaluator.
pub(super) struct Work {
    pub(super) targets: Vec<Target>,
    /// The page's first and last revision id, and how many decisions (of any
    /// kind) its revisions had when read.
    pub(super) range: (String, String),
    pub(super) decisions_seen: usize,
}

/// A live approval of a revision: its id and the rule-set version it was
/// decided under.
pub(super) struct LiveApproval {
    pub(super) decision_id: String,
    pub(super) rule_set_version: String,
}

/// The next page of revisions after `after`, by id, each with whether it is
/// the latest revision of its service (an index probe per row, in the
/// database).
pub(super) fn read_page(conn: &mut DbConnection, after: &str, page_size: i64) -> Result<Page, AppError> {
    Ok(revisions::table
        .filter(revisions::id.gt(after))
        .order(revisions::id.asc())
        .limit(page_size)
        .select((
            revisions::id,
            diesel::dsl::sql::<diesel::sql_types::Binary>("document"),
            revisions::field_offsets,
            diesel::dsl::sql::<diesel::sql_types::Bool>(
                "NOT EXISTS (SELECT 1 FROM revisions later WHERE later.service_id = revisions.service_id \
                 AND later.revision > revisions.revision)",
            ),
        ))
        .load(conn)?)
}

/// The work of a page: its targets (those with a live approval and the
/// latest of each service, minus those already evaluated with this
/// version), each with its live approvals and earlier evaluations.
/// A page is read while the pages ahead of it are evaluated and written; an
/// approval decided after that is caught when the page is written
/// (`late_flagged`).
pub(super) fn read_work(conn: &mut DbConnection, page: Page, version: &str) -> Result<Work, AppError> {
    // The page is a run of consecutive revision ids, so its decisions and
    // evaluations are ranges of the indexes by revision id: read as ranges
    // in revision order, and joined to the page's rows as they come.
    let (Some(first), Some(last)) = (page.first().map(|r| r.0.clone()), page.last().map(|r| r.0.clone())) else {
        return Ok(Work { targets: Vec::new(), range: (String::new(), String::new()), decisions_seen: 0 });
    };
    let in_range =
        || decisions::table.filter(decisions::revision_id.ge(&first)).filter(decisions::revision_id.le(&last));
    let decisions_seen: i64 = in_range().count().get_result(conn)?;
    let live: Vec<(String, (String, String))> = in_range()
        .filter(decisions::revoked_at.is_null())
        .filter(decisions::decision.ne("rejected"))
        .order(decisions::revision_id.asc())
        .select((decisions::revision_id, (decisions::id, decisions::rule_set_version)))
        .load(conn)?;
    // Every evaluation on the page, in compact form: those with this version
    // mark revisions already done (by an interrupted run); the earlier ones
    // are those the live approvals were taken on, and those whose unchanged
    // rules need not run again.
    type Row = (String, (String, String, String, Option<String>));
    let evaluated: Vec<Row> = evaluations::table
        .filter(evaluations::revision_id.ge(&first))
        .filter(evaluations::revision_id.le(&last))
        .order((evaluations::revision_id.asc(), evaluations::rule_set_version.asc()))
        .select((
            evaluations::revision_id,
            (
                evaluations::rule_set_version,
                evaluations::verdict,
                evaluations::rule_outcomes,
                // Violations are read only where there are some.
                diesel::dsl::sql::<diesel::sql_types::Nullable<diesel::sql_types::Text>>(
                    "CASE WHEN rule_outcomes LIKE '%=fail%' OR rule_outcomes LIKE '%=warn%' THEN outcome END",
                ),
            ),
        ))
        .load(conn)?;
    let evaluated = evaluated.into_iter().map(|(revision, (version, verdict, outcomes, outcome))| {
        (revision, Earlier { version, verdict, outcomes, outcome })
    });
    let mut live = live.into_iter().peekable();
    let mut evaluated = evaluated.peekable();
    let mut targets = Vec::new();
    for (revision_id, document, field_offsets, latest) in page {
        let mut earlier = rows_of(&mut evaluated, &revision_id);
        let done = earlier.iter().any(|e| e.version == version);
        earlier.retain(|e| e.version != version);
        let live: Vec<LiveApproval> = rows_of(&mut live, &revision_id)
            .into_iter()
            .map(|(decision_id, rule_set_version)| LiveApproval { decision_id, rule_set_version })
            .collect();
        if !done && (latest || !live.is_empty()) {
            targets.push(Target { revision_id, document, field_offsets, earlier, live });
        }
    }
    Ok(Work { targets, range: (first, last), decisions_seen: usize::try_from(decisions_seen).unwrap_or(usize::MAX) })
}

/// The rows of one revision, taken from rows in revision order. Rows of
/// revisions before it belong to none of the page's (a row added since the
/// page was read) and are passed over.
pub(super) fn rows_of<T>(rows: &mut std::iter::Peekable<impl Iterator<Item = (String, T)>>, revision: &str) -> Vec<T> {
    let mut out = Vec::new();
    while let Some((id, _)) = rows.peek() {
        if id.as_str() > revision {
            break;
        }
        if let Some((id, row)) = rows.next()
            && id == revision
        {
            out.push(row);
        }
    }
    out
}

/// A target's document, cut down to `fields` when the rules to run read
/// only those: straight to them through the revision's field offsets, or,
/// when it has none (stored before they were kept) or they do not fit the
/// document, through offsets made again from the document, which are also
/// returned to be stored (so the next re-evaluation goes straight to the
/// fields). The document is scanned when it gives no offsets.
pub(super) fn read_document(
    target: &Target,
    fields: Option<&[&str]>,
) -> (Result<serde_json::Value, serde_json::Error>, Option<String>) {
    let document = &target.document;
    let Some(fields) = fields else {
        let remade = if target.field_offsets.is_none() { crate::json::field_offsets(document) } else { None };
        return (crate::json::parse_strict(document), remade);
    };
    let stored = target.field_offsets.as_deref();
    if let Some(doc) = stored.and_then(|offsets| crate::json::parse_fields_at(document, offsets, fields)) {
        return (Ok(doc), None);
    }
    let remade = crate::json::field_offsets(document).filter(|remade| Some(remade.as_str()) != stored);
    let parsed = remade
        .as_deref()
        .and_then(|offsets| crate::json::parse_fields_at(document, offsets, fields))
        .map_or_else(|| crate::json::parse_fields(document, fields), Ok);
    (parsed, remade)
}
