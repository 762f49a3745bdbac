//! The one diesel schema shared by both backends. Column types are limited to
//! what SQLite and PostgreSQL share: Text, Integer, BigInt, Bool, Timestamp, Date.

diesel::table! {
    organisations (slug) {
        slug -> Text,
        name -> Text,
        kind -> Text,
        function_name -> Text,
        function_email -> Text,
        created_at -> Timestamp,
    }
}

diesel::table! {
    users (id) {
        id -> Text,
        org_slug -> Text,
        name -> Text,
        salt -> Text,
        created_at -> Timestamp,
        deactivated_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    role_grants (id) {
        id -> Text,
        user_id -> Text,
        role -> Text,
        granted_at -> Timestamp,
        granted_by -> Nullable<Text>,
        revoked_at -> Nullable<Timestamp>,
        revoked_by -> Nullable<Text>,
    }
}

diesel::table! {
    api_tokens (id) {
        id -> Text,
        user_id -> Text,
        token_hash -> Text,
        label -> Text,
        created_at -> Timestamp,
        expires_at -> Timestamp,
        revoked_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    services (id) {
        id -> Text,
        org_slug -> Text,
        created_by -> Text,
        created_at -> Timestamp,
    }
}

diesel::table! {
    revisions (id) {
        id -> Text,
        service_id -> Text,
        revision -> Integer,
        document -> Text,
        document_sha256 -> Text,
        name -> Text,
        vendor -> Text,
        aliases -> Text,
        domains -> Text,
        publication -> Text,
        state -> Text,
        created_by -> Text,
        created_at -> Timestamp,
        submitted_by -> Nullable<Text>,
        submitted_at -> Nullable<Timestamp>,
        risk_class -> Text,
        field_offsets -> Nullable<Text>,
    }
}

diesel::table! {
    evaluations (id) {
        id -> Text,
        revision_id -> Text,
        rule_set_version -> Text,
        verdict -> Text,
        outcome -> Text,
        evaluated_at -> Timestamp,
        rule_outcomes -> Text,
        worse_than -> Text,
    }
}

diesel::table! {
    audit_events (seq) {
        seq -> BigInt,
        occurred_at -> Timestamp,
        actor_id -> Nullable<Text>,
        org_slug -> Nullable<Text>,
        via_delegation_id -> Nullable<Text>,
        action -> Text,
        subjects -> Text,
        prev_hash -> Text,
        entry_hash -> Text,
    }
}

diesel::table! {
    audit_head (id) {
        id -> Integer,
        seq -> BigInt,
        entry_hash -> Text,
    }
}

diesel::joinable!(users -> organisations (org_slug));
diesel::joinable!(role_grants -> users (user_id));
diesel::joinable!(api_tokens -> users (user_id));
diesel::joinable!(services -> organisations (org_slug));
diesel::joinable!(revisions -> services (service_id));
diesel::joinable!(evaluations -> revisions (revision_id));

diesel::table! {
    delegations (id) {
        id -> Text,
        org_slug -> Text,
        delegate_slug -> Text,
        decision_reference -> Text,
        valid_from -> Date,
        valid_until -> Nullable<Date>,
        scope -> Text,
        created_by -> Text,
        created_at -> Timestamp,
        revoked_at -> Nullable<Timestamp>,
        revoked_by -> Nullable<Text>,
        revocation_reason -> Nullable<Text>,
    }
}

diesel::table! {
    decisions (id) {
        id -> Text,
        service_id -> Text,
        revision_id -> Text,
        revision -> Integer,
        org_slug -> Text,
        decision -> Text,
        conditions -> Text,
        reason -> Nullable<Text>,
        valid_until -> Nullable<Date>,
        decision_reference -> Nullable<Text>,
        decided_by -> Text,
        deciding_org_slug -> Text,
        via_delegation_id -> Nullable<Text>,
        submitted_by -> Text,
        rule_set_version -> Text,
        verdict -> Text,
        decided_at -> Timestamp,
        revoked_at -> Nullable<Timestamp>,
        revoked_by -> Nullable<Text>,
        revocation_reason -> Nullable<Text>,
        public_reason -> Nullable<Text>,
    }
}

diesel::table! {
    idempotency_keys (user_id, idempotency_key) {
        user_id -> Text,
        idempotency_key -> Text,
        fingerprint -> Text,
        status -> Integer,
        body -> Text,
        location -> Nullable<Text>,
        created_at -> Timestamp,
    }
}

diesel::table! {
    rule_sets (version) {
        version -> Text,
        name -> Text,
        sources -> Text,
        registered_at -> Timestamp,
    }
}

diesel::table! {
    re_reviews (id) {
        id -> Text,
        decision_id -> Text,
        evaluation_id -> Text,
        flagged_at -> Timestamp,
    }
}

diesel::table! {
    reevaluation_jobs (id) {
        id -> Text,
        rule_set_version -> Text,
        status -> Text,
        total -> BigInt,
        done -> BigInt,
        flagged -> BigInt,
        started_at -> Timestamp,
        updated_at -> Timestamp,
        finished_at -> Nullable<Timestamp>,
    }
}

diesel::joinable!(decisions -> services (service_id));
diesel::joinable!(decisions -> revisions (revision_id));

diesel::table! {
    password_credentials (user_id) {
        user_id -> Text,
        org_slug -> Text,
        username -> Text,
        password_hash -> Text,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    web_sessions (id_hash) {
        id_hash -> Text,
        user_id -> Text,
        csrf_token -> Text,
        created_at -> Timestamp,
        last_seen_at -> Timestamp,
        expires_at -> Timestamp,
        ended_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    submission_drafts (id) {
        id -> Text,
        org_slug -> Text,
        service_id -> Nullable<Text>,
        document -> Text,
        created_by -> Text,
        created_at -> Timestamp,
        updated_by -> Text,
        updated_at -> Timestamp,
        import_key -> Nullable<Text>,
    }
}

diesel::table! {
    sso_logins (state_hash) {
        state_hash -> Text,
        org_slug -> Text,
        nonce -> Text,
        pkce_verifier -> Text,
        next_path -> Text,
        created_at -> Timestamp,
        expires_at -> Timestamp,
    }
}

diesel::table! {
    sso_identities (issuer, subject) {
        issuer -> Text,
        subject -> Text,
        org_slug -> Text,
        user_id -> Text,
        created_at -> Timestamp,
        last_sign_in_at -> Timestamp,
    }
}

diesel::table! {
    draft_contributors (draft_id, user_id) {
        draft_id -> Text,
        user_id -> Text,
    }
}

diesel::table! {
    revision_contributors (id) {
        id -> Text,
        revision_id -> Text,
        user_id -> Text,
    }
}

diesel::table! {
    unrecorded_credentials (table_name, row_id) {
        table_name -> Text,
        row_id -> Text,
    }
}

diesel::table! {
    lookup_demand (org_slug, query, day) {
        org_slug -> Text,
        query -> Text,
        day -> Date,
        answer -> Text,
        service_id -> Nullable<Text>,
        service_name -> Nullable<Text>,
        count -> BigInt,
    }
}

diesel::allow_tables_to_appear_in_same_query!(
    unrecorded_credentials,
    draft_contributors,
    revision_contributors,
    sso_logins,
    sso_identities,
    submission_drafts,
    password_credentials,
    web_sessions,
    organisations,
    users,
    role_grants,
    api_tokens,
    services,
    revisions,
    evaluations,
    audit_events,
    audit_head,
    delegations,
    decisions,
    idempotency_keys,
    rule_sets,
    re_reviews,
    reevaluation_jobs,
    lookup_demand,
);
