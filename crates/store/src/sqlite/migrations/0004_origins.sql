-- revtrace SQLite schema, version 4: the web origins allowed to send a
-- company's events from a browser (CORS). None allowed until configured.
CREATE TABLE allowed_origins (
    company_id TEXT NOT NULL REFERENCES companies (company_id),
    origin     TEXT NOT NULL,            -- scheme://host[:port], no path
    PRIMARY KEY (company_id, origin)
) WITHOUT ROWID;
