-- The demo's bad release (1.2.0-bad) ships this migration; its rollback runs
-- 004_clinical_notes.down.sql and the schema is back at version 3.
CREATE TABLE clinical_notes (
    id             bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    appointment_id bigint NOT NULL REFERENCES appointments (id),
    body           text NOT NULL,
    signed_at      timestamptz
);
CREATE INDEX clinical_notes_appointment_id ON clinical_notes (appointment_id);
ALTER TABLE clinical_notes ENABLE ROW LEVEL SECURITY;
CREATE POLICY clinical_notes_clinicians ON clinical_notes
    USING (current_setting('app.role', true) = 'clinician');
