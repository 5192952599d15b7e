-- How long data collected for a purpose is kept, in days, as records of
-- processing activities must state, up to 100 years; NULL when not yet
-- decided. The bound also keeps `_inc` far from integer overflow.
ALTER TABLE data_controller_processing_purposes
    ADD COLUMN retention_days INTEGER CHECK (retention_days BETWEEN 0 AND 36500);
