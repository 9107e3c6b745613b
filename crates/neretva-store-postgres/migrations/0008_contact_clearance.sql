-- The highest TLP each contact may receive in notifications, as its label (`TLP:RED`);
-- NULL means the notifier's configured default clearance.
ALTER TABLE contacts ADD COLUMN clearance text;
