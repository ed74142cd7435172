-- Deliveries held by a sender (or left held by one that crashed): a claim counts them per workspace, so that one
-- workspace's hanging endpoints cannot take every send slot. Settled deliveries have locked_until = 0.
CREATE INDEX webhook_deliveries_held ON webhook_deliveries (locked_until) WHERE status = 'pending' AND locked_until > 0;
