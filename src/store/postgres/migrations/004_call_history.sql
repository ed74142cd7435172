-- Call history: filter fields and a full-text search vector on every archived call, filled by the archive's
-- put and backfilled here from the calls already archived. The search document is the caller's name and
-- number and the whole transcript, as words (the 'simple' configuration: no stemming, the same words the
-- embedded store's FTS5 index finds). 21600000 (6 h) is LONG_CALL_MS of src/store/history.ts.
ALTER TABLE archived_calls
  ADD COLUMN agent TEXT NOT NULL DEFAULT '',
  ADD COLUMN call_type TEXT NOT NULL DEFAULT 'web',
  ADD COLUMN sentiment TEXT NOT NULL DEFAULT 'neutral',
  ADD COLUMN transfer_requested BOOLEAN NOT NULL DEFAULT false,
  ADD COLUMN end_reason TEXT,
  ADD COLUMN customer_name TEXT NOT NULL DEFAULT '',
  ADD COLUMN customer_phone TEXT NOT NULL DEFAULT '',
  ADD COLUMN search TSVECTOR NOT NULL DEFAULT ''::tsvector;

UPDATE archived_calls c SET
  agent = COALESCE(state->'agentName'->>'value',
    (SELECT COALESCE(p->'attributes'->>'lk.agent.name', p->>'name')
       FROM jsonb_array_elements(CASE WHEN jsonb_typeof(state->'participants') = 'array' THEN state->'participants' ELSE '[]'::jsonb END) p
      WHERE p->>'kind' = 'agent' LIMIT 1), ''),
  call_type = CASE WHEN EXISTS (
      SELECT 1 FROM jsonb_array_elements(CASE WHEN jsonb_typeof(state->'participants') = 'array' THEN state->'participants' ELSE '[]'::jsonb END) p
       WHERE p->>'kind' = 'sip') THEN 'phone' ELSE 'web' END,
  sentiment = COALESCE(state->>'sentiment', 'neutral'),
  transfer_requested = COALESCE(jsonb_typeof(state->'transfer') = 'object', false),
  end_reason = state->>'endReason',
  customer_name = COALESCE(state->'customerName'->>'value', state->'roomCustomerName'->>'value', ''),
  customer_phone = COALESCE(state->'customerPhone'->>'value',
    (SELECT p->'attributes'->>'sip.phoneNumber'
       FROM jsonb_array_elements(CASE WHEN jsonb_typeof(state->'participants') = 'array' THEN state->'participants' ELSE '[]'::jsonb END) p
      WHERE p->>'kind' = 'sip' AND COALESCE(p->'attributes'->>'sip.phoneNumber', '') <> '' LIMIT 1), '');

UPDATE archived_calls c SET search = to_tsvector('simple', lower(regexp_replace(
  left(c.customer_name || ' ' || regexp_replace(c.customer_phone, '\D', '', 'g') || ' ' ||
       COALESCE((SELECT string_agg(t.content, ' ' ORDER BY t.at, t.id) FROM archived_turns t WHERE t.call_id = c.id), ''), 200000),
  '[^[:alnum:]]+', ' ', 'g')));

-- INCLUDE: statistics read these of every call of a range from the index alone.
CREATE INDEX archived_calls_started ON archived_calls (workspace_id, started_at DESC, id DESC)
  INCLUDE (ended_at, agent, call_type, sentiment, transfer_requested);
CREATE INDEX archived_calls_agent ON archived_calls (workspace_id, agent, started_at DESC);
CREATE INDEX archived_calls_sentiment ON archived_calls (workspace_id, sentiment, started_at DESC);
-- Long calls: a small covering index, and statistics on the duration so the planner knows how few they are
-- (without them it guesses a third of all calls and walks a bigger index instead).
CREATE INDEX archived_calls_long ON archived_calls (workspace_id, started_at)
  INCLUDE (ended_at, agent, call_type, sentiment, transfer_requested) WHERE ended_at - started_at > 21600000;
CREATE STATISTICS archived_calls_duration ON (ended_at - started_at) FROM archived_calls;
ANALYZE archived_calls;
CREATE INDEX archived_calls_age ON archived_calls (ended_at);
CREATE INDEX archived_calls_search ON archived_calls USING GIN (search);
