## The lookup's answers to "Får jag använda X?" and the words of a
## decision's conditions.

answer-allowed = Yes, { $name } may be used in { $org }.
answer-allowed_on_conditions = Yes, { $name } may be used in { $org } on these conditions:
answer-allowed_with_conditions = Yes, but { $conditions }.
answer-expired = No, the approval in { $org } expired on { $until } and must be reviewed again.
answer-not_allowed = No, { $name } may not be used in { $org }.
answer-not_assessed = { $name } has not been assessed in { $org } yet. Do not use it until it is approved.
answer-re_review = Allowed — a new review is under way.
answer-revoked = No, the approval of { $name } has been revoked in { $org }.
answer-status-allowed = allowed
answer-status-allowed_with_conditions = allowed with conditions
answer-status-expired = the approval has expired
answer-status-not_allowed = not allowed
answer-status-not_assessed = not assessed
answer-status-under_review = under review
answer-under_review = { $name } is under review in { $org }: a new version awaits a decision. Do not use it until it is approved. The decision of { $on } was about an earlier version: { $before }.
condition-class_max-confidential = at most confidential information, not strictly confidential
condition-class_max-internal = only for public and internal information
condition-class_max-public = only for public information
condition-class_max-strictly_confidential = for every information class, including strictly confidential
condition-no_personal_data = without personal data
condition-no_special_category_data = without sensitive personal data (such as health, ethnicity, religion)
condition-permitted_tasks = only for: { $items }
condition-required_settings = with these settings: { $items }
list-and = and
