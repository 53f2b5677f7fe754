-- Demo migration in goose format: one file, Up and Down sections, one transaction.
-- Synthetic data only: the demo never holds patient data.

-- +goose Up
CREATE TABLE patients (
    id         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    mrn        text NOT NULL UNIQUE,
    full_name  text NOT NULL,
    born       date NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now()
);
ALTER TABLE patients ENABLE ROW LEVEL SECURITY;
CREATE POLICY patients_clinic_staff ON patients
    USING (current_setting('app.role', true) IN ('clinician', 'admin'));

INSERT INTO patients (mrn, full_name, born)
SELECT 'MRN-' || lpad(g::text, 6, '0'), 'Demo Patient ' || g, date '1950-01-01' + (g * 97) % 25000
FROM generate_series(1, 500) AS g;

-- +goose Down
DROP TABLE patients;
