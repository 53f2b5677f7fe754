DROP TABLE clinical_notes;
