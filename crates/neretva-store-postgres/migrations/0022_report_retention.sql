-- Report retention: a report's raw data may be purged after `pipeline.report_retention_days`
-- while its row (counts, SHA-256, errors) and its events stay. The index finds the reports that
-- still hold data by the time they were received.
ALTER TABLE reports ALTER COLUMN data DROP NOT NULL;
CREATE INDEX reports_received_with_data_idx ON reports (received_at) WHERE data IS NOT NULL;
