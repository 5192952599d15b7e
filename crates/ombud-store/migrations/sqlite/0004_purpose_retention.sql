-- How long data collected for a purpose is kept, in days, as records of
-- processing activities must state; NULL when not yet decided.
ALTER TABLE data_controller_processing_purposes
    ADD COLUMN retention_days INTEGER CHECK (retention_days >= 0);
