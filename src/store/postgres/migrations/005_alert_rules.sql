-- A workspace's alert rules (versioned: a save names the version it replaces) and its prices.
CREATE TABLE alert_rules (
  workspace_id TEXT PRIMARY KEY,
  version INT NOT NULL,
  rules JSONB NOT NULL
);
CREATE TABLE workspace_prices (
  workspace_id TEXT PRIMARY KEY,
  prices JSONB NOT NULL
);
