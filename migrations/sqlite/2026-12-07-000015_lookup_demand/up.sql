-- What employees ask the lookup that it cannot answer yes to: per
-- organisation, normalised question and Swedish day, how often, and what
-- the latest answer was. No address and no person is stored. Not audited:
-- a count, not a record of anyone's act.
CREATE TABLE lookup_demand (
    org_slug TEXT NOT NULL REFERENCES organisations (slug),
    query TEXT NOT NULL CHECK (length(query) BETWEEN 1 AND 200),
    day DATE NOT NULL,
    answer TEXT NOT NULL CHECK (answer IN ('not_found', 'not_assessed')),
    service_id TEXT,
    service_name TEXT,
    count INTEGER NOT NULL CHECK (count > 0),
    PRIMARY KEY (org_slug, query, day)
);
CREATE INDEX lookup_demand_by_day ON lookup_demand (org_slug, day);
