-- Intel links found from the other side: the intel events that meet an incident's observables
-- (or a feed event), read by the incident's page.

CREATE INDEX intel_external_links_target ON intel_external_links (kind, target);
