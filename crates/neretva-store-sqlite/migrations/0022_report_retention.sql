-- Report retention: a report's raw data (its report_data row) may be purged after
-- `pipeline.report_retention_days` while its row (counts, SHA-256, errors) and its events stay.
-- The index finds old reports by the time they were received.
CREATE INDEX reports_received_idx ON reports (received_at);
