-- Demo migration as an up/down pair: this file runs as one statement in one transaction.
CREATE TABLE appointments (
    id         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    patient_id bigint NOT NULL REFERENCES patients (id),
    starts_at  timestamptz NOT NULL,
    status     text NOT NULL DEFAULT 'booked' CHECK (status IN ('booked', 'done', 'cancelled'))
);
CREATE INDEX appointments_patient_id ON appointments (patient_id);
ALTER TABLE appointments ENABLE ROW LEVEL SECURITY;
CREATE POLICY appointments_clinic_staff ON appointments
    USING (current_setting('app.role', true) IN ('clinician', 'admin'));

INSERT INTO appointments (patient_id, starts_at, status)
SELECT 1 + g % 500, timestamptz '2025-01-06 08:00+00' + g * interval '20 minutes',
       (ARRAY['booked', 'done', 'cancelled'])[1 + g % 3]
FROM generate_series(1, 2000) AS g;
