## What a request that cannot be carried out is told: the message of
## the error envelope and of the error page, and the reasons for a 403.

error-already_deactivated = The person is already deactivated.
error-already_submitted = This revision is already submitted for review.
error-body_not_object = The body must be a JSON object.
error-character_not_allowed = Contains a character that is not allowed.
error-choose_decision = Choose approved, approved with conditions or rejected.
error-choose_revision = Choose a revision.
error-conditions_need_kind = Use approved_with_conditions for an approval with conditions.
error-conditions_required = An approval with conditions needs at least one condition.
error-control_character = Contains a control or text-direction character that is not allowed.
error-date_format = Write the date as YYYY-MM-DD.
error-days_whole_number = Write the number of days as a whole number.
error-deactivated = The person is deactivated.
error-deactivated_no_role = The person is deactivated; a role cannot be granted to them.
error-decision_exists = There is already a decision for this organisation on this revision. Revoke it first to decide again.
error-decision_revoked = The decision is already revoked.
error-delegation_revoked = The delegation is already revoked.
error-idempotency_key_reused = This Idempotency-Key was already used for a different request.
error-invalid_days = Use 0–3650 days.
error-invalid_delegate = Decisions can be delegated only to a federation, such as itsam.
error-invalid_format = Use csv, csv-excel, json, html or xlsx.
error-invalid_period = valid_until is before valid_from.
error-invalid_risk_class = Use prohibited, high_risk, limited_transparency, minimal or not_ai_system.
error-invalid_role = Choose coordinator, approver, auditor or admin.
error-invalid_scope = The scope must be "all" (every service).
error-invalid_status = Use allowed, allowed_with_conditions, not_allowed, expired or not_assessed.
error-invalid_username = A user name has 2 to 64 characters: letters a-z, digits, dot, underscore and hyphen.
error-invalid_version = A rule-set version looks like 2026.1+3f9a2c1b7d0e.
error-no_review_interval = The revision has no usable review interval (governance.review.interval_months); add a revision with one.
error-not_latest_revision = Only the latest revision can be submitted.
error-not_under_review = This revision is not the one under review: decide on the latest submitted revision.
error-policies_built_in = This server uses the policies built into the binary; start it with --policies DIR to reload them.
error-query_required = Type a name to look up.
error-reason_required = A rejection must give its reason.
error-rejection_conditions = A rejection has no conditions.
error-rejection_valid_until = A rejection has no valid-until date.
error-role_held = The person already holds this role.
error-role_not_held = The person does not hold this role.
error-submitted_meanwhile = The revision was submitted meanwhile.
error-token_revoked = The token is already revoked.
error-too_many_conditions = At most 50 conditions.
error-username_taken = Another person of the organisation has that user name.
error-valid_until_past = valid_until is in the past.
error-verdict_fail = The revision fails a blocking rule and cannot be approved.
error-whole_number = Write a whole number without decimals, for example 12, not 12.0.
why-form_expired = The form has expired or did not come from Tillit. Reload the page and try again.
why-form_foreign = Forms are only accepted from Tillit's own pages.
why-identity_linked_elsewhere = Another single sign-on account is already linked to a person of this name. Ask your administrator.
why-operator_reloads = only a deployment operator reloads the rule set (tillit policies reload, or --operators)
why-role_granted_by_author = your approver role was granted by someone who wrote, edited or submitted this service
why-sign_in_unconfirmed = The sign-in could not be confirmed. Start again from the sign-in page.
error-bad_request = The request could not be read: { $detail }
error-invalid_document =
    { $count ->
        [one] The document does not follow the submission schema (1 error).
       *[other] The document does not follow the submission schema ({ $count } errors).
    }
error-unauthorized = Sign in or send a valid bearer token (Authorization: Bearer …).
error-forbidden = You do not have permission to do this: { $why }.
error-not_found = Not found.
error-method_not_allowed = This address does not take that method; see the Allow header.
error-route_not_found = There is no such page or endpoint.
error-payload_too_large = The request body is too large (at most 256 KiB).
error-unsupported_media_type = Send the body as application/json.
error-too_many_requests = Too many requests. Wait a moment and try again.
error-unavailable = The service is busy. Try again shortly.
error-internal = Something went wrong on our side. Quote the error id if you contact support.
error-condition_flag = This condition takes the value true (or none).
error-condition_invalid = Not a valid condition ({ $detail }). Types: information_class_max, no_personal_data, no_special_category_data, permitted_tasks, required_settings, other.
error-condition_items = List 1–50 items, each 1–500 characters.
error-condition_text = Describe the condition in 1–500 characters.
error-conditions_invalid = One or more conditions are not valid.
error-conflict = This conflicts with a record that already exists.
error-decision_reference = Give the municipality's decision reference (diarienummer), at most 100 characters.
error-file_not_json = The file is not valid JSON: { $detail }
error-invalid_name = The name is not usable: { $why }.
error-invalid_policy = The new rule set cannot be used: { $detail }
error-invalid_query = The query is too long (at most { $max } characters) or holds control characters.
error-password_length = A password has { $min } to { $max } characters.
error-request_characters = The request contains control or text-direction characters that are not allowed.
error-request_fields = The request does not have the expected fields: { $detail }.
error-revoke_reason = Give the reason for revoking the decision.
error-text_too_long = At most { $max } characters.
error-token_label = A token's label is at most { $max } characters.
error-token_lifetime = A token lives between 1 and { $max } days.
error-unknown_organisation = There is no organisation "{ $slug }". Use one of the slugs from /api/v1/organisations.
error-unknown_revision = The service has no revision { $revision }.
error-valid_until_after_review = valid_until may be at most { $latest } (the review interval of { $months } months).
schema-constant = Must be { $value }.
schema-country_code = Not an ISO 3166-1 alpha-2 country code (such as SE, FI, US).
schema-country_or_null = Must be an ISO 3166-1 alpha-2 country code or null.
schema-email = Must be an e-mail address.
schema-empty = Must not be empty.
schema-enum = Not an allowed value. Allowed: { $allowed }.
schema-https = Must be an https:// address.
schema-language_code = Not an ISO 639-1 language code (such as sv, en, fi).
schema-max_items = Too many items: at most { $limit }.
schema-max_length = Too long: at most { $limit } characters.
schema-maximum = Must be at most { $limit }.
schema-min_items = Too few items: at least { $limit }.
schema-min_length = Too short: at least { $limit } characters.
schema-minimum = Must be at least { $limit }.
schema-no_form = Does not match any allowed form.
schema-other = Not allowed here ({ $keyword }).
schema-pattern = Has the wrong form.
schema-required = The required field "{ $field }" is missing.
schema-sha256 = Must be a SHA-256 digest: 64 hexadecimal characters.
schema-unknown_field = Unknown field "{ $field }". Check the spelling; only the fields of the submission dictionary are allowed.
serde-missing_field = the field { $field } is missing
serde-other = the values do not have the expected form
serde-unknown_field = the field { $field } is not known
serde-unknown_value = { $value } is not allowed; use { $allowed }
why-admins_only = only the organisation's admins
why-approvers_decide = only approvers decide
why-demand_own_org = only the organisation's coordinators, approvers and admins see what its employees asked for
why-auditors_export = only auditors and admins export reports
why-coordinators_change = only the owning organisation's coordinators change a service
why-coordinators_create = only the organisation's coordinators create its services
why-drafts_private = drafts are private to the owning organisation
why-no_authority = no authority to decide for this organisation
why-own_role = nobody grants themself a role; another admin must
why-own_service = separation of duties: you created or submitted this service
why-person_or_admins = only the person or the organisation's admins
serde-wrong_kind =
    { $got ->
        [number] the number { $value }
        [text] the text "{ $value }"
        [boolean] { $value }
        [null] null
        [list] a list
       *[object] an object
    } where { $want ->
        [whole] a whole number
        [number] a number
        [text] text
        [boolean] true or false
        [list] a list
        [object] an object
       *[other] another kind of value
    } is expected
schema-type =
    Wrong type: expected { $kind ->
        [string] text
        [boolean] true or false
        [integer] a whole number
        [number] a number
        [array] a list
        [object] an object
        [null] null
       *[other] another type
    }{ $or ->
        [none] {""}
        [string] {" or text"}
        [boolean] {" or true or false"}
        [integer] {" or a whole number"}
        [number] {" or a number"}
        [array] {" or a list"}
        [object] {" or an object"}
        [null] {" or null"}
       *[other] {" or another type"}
    }.
schema-format =
    Must be { $format ->
        [date] a date written as YYYY-MM-DD
        [email] an e-mail address
        [uri] a complete web address (https://…)
        [hostname] a host name such as chat.example.com
       *[other] in the expected format
    }.
error-import_empty = The file is empty. Upload the template with one row per service.
error-import_unreadable = The file cannot be read. Use an Excel file (.xlsx) or a CSV file.
error-import_column_twice = The column “{ $column }” holds the same field as another column. Remove one of them.
error-import_no_name = The file has no column “Name of the service”. The first row must hold the column names, as in the template.
error-import_too_many_rows = The file has more than { $max } services. Split it into several files.
error-unknown_person = There is no active person called “{ $name }” in the organisation.
error-name_the_person = Say with --as who imports the file: the organisation does not have exactly one coordinator.
error-import_unpacked_too_large = The Excel file is too large once unpacked. Save only the sheet with the services, or use CSV.
