//! Evaluating a page off the writing thread: the new evaluations, the
//! versions each is worse than, and the audit events naming them.

use super::*;

/// A page evaluated and ready to be written: the new evaluations (each with
/// the versions it is worse than) and the audit events naming each (with its
/// row digest), all made off the writing thread.
pub(super) struct Prepared {
    pub(super) evaluations: Vec<EvaluationRow>,
    pub(super) events: Vec<SealedEvent>,
    /// Live approvals whose outcome got worse (they now need re-review).
    pub(super) flagged: usize,
    /// Field offsets made again for revisions that had none or had ones
    /// that did not fit (revision id, offsets), to be stored.
    pub(super) offsets: Vec<(String, String)>,
    /// The live approvals counted, the page's range and how many decisions
    /// it had when read (see `write_page`).
    pub(super) live_ids: Vec<String>,
    pub(super) range: (String, String),
    pub(super) decisions_seen: usize,
}

impl Prepared {
    pub(super) fn empty() -> Self {
        Prepared {
            evaluations: Vec::new(),
            events: Vec::new(),
            flagged: 0,
            offsets: Vec::new(),
            live_ids: Vec::new(),
            range: (String::new(), String::new()),
            decisions_seen: 0,
        }
    }

    /// Adds another part of the same page (its rows and events, in order).
    pub(super) fn append(&mut self, other: Prepared) {
        self.evaluations.extend(other.evaluations);
        self.events.extend(other.events);
        self.flagged += other.flagged;
        self.offsets.extend(other.offsets);
    }
}

/// Evaluates a page's targets on two threads, decides which earlier
/// evaluations each new one is worse than (and so which live approvals
/// need re-review), and prepares the rows and audit events. A stored
/// revision passed the submission schema when it was stored, so only the
/// rules run; a document that no longer parses (which no stored revision
/// should) gets no evaluation.
pub(super) fn prepare(policies: &PolicySet, unchanged: &Unchanged, work: Work) -> Result<Prepared, AppError> {
    let now = db::now();
    // One batch of revisions: its evaluations and audit event.
    let batch = |chunk: &[Target]| -> Result<Prepared, AppError> {
        let mut out = Prepared::empty();
        out.evaluations.reserve(chunk.len());
        let mut event = NewEvent::new(AuditAction::RevisionReevaluated, None, None);
        for target in chunk {
            let known = unchanged.known(policies, &target.earlier);
            let (parsed, remade) = read_document(target, policies.fields_read(&known).as_deref());
            if let Some(offsets) = remade {
                out.offsets.push((target.revision_id.clone(), offsets));
            }
            let Ok(doc) = parsed else {
                log::error!("revision {}: the stored document does not parse; not re-evaluated", target.revision_id);
                continue;
            };
            let evaluation = policies.evaluate_stored_knowing(&doc, &known);
            let mut row = EvaluationRow::new(new_id(), &target.revision_id, &evaluation, now, OutcomeForm::Lean)?;
            let worse = worse_than(&target.earlier, row.verdict.as_str(), &row.rule_outcomes);
            if !worse.is_empty() {
                out.flagged += target.live.iter().filter(|approval| worse.lists(&approval.rule_set_version)).count();
            }
            row.worse_than = worse.stored();
            event = event.subject(&row);
            out.evaluations.push(row);
        }
        if !event.subjects.is_empty() {
            out.events.push(event.seal()?);
        }
        Ok(out)
    };
    // Each thread takes whole audit batches, so events are the same
    // whichever thread made them.
    let batches: Vec<&[Target]> = work.targets.chunks(EVENT_BATCH).collect();
    let half = batches.len().div_ceil(2);
    let run = |part: &[&[Target]]| -> Result<Prepared, AppError> {
        let mut all = Prepared::empty();
        for chunk in part {
            all.append(batch(chunk)?);
        }
        Ok(all)
    };
    let (first, second) = std::thread::scope(|scope| {
        let other = scope.spawn(|| run(&batches[half..]));
        let first = run(&batches[..half]);
        let second = other.join().unwrap_or_else(|_| Err(AppError::internal("an evaluation thread panicked")));
        (first, second)
    });
    let mut all = first?;
    all.append(second?);
    all.live_ids = work.targets.into_iter().flat_map(|t| t.live).map(|a| a.decision_id).collect();
    all.range = work.range;
    all.decisions_seen = work.decisions_seen;
    Ok(all)
}

/// The rule-set versions of the earlier evaluations (version, verdict, rule
/// outcomes) that a new one is worse than.
pub(super) fn worse_than(earlier: &[Earlier], verdict: &str, outcomes: &str) -> VersionList {
    VersionList(
        earlier
            .iter()
            .filter(|then| worse(&then.verdict, &then.outcomes, verdict, outcomes))
            .map(|then| then.version.clone())
            .collect(),
    )
}
