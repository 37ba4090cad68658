-- weir metadata store, version 8 (PostgreSQL): alert rules and alerts may be of kind
-- `checkpoint_failed` (a checkpoint of the instance failed or was aborted; it clears when
-- one completes). Keep in step with ../sqlite/0008_checkpoint_alerts.sql.

ALTER TABLE alert_rules DROP CONSTRAINT alert_rules_kind_check;
ALTER TABLE alert_rules ADD CONSTRAINT alert_rules_kind_check
    CHECK (kind IN ('lag', 'error_rate', 'no_output', 'watermark_delay', 'failed', 'checkpoint_failed'));
ALTER TABLE alerts DROP CONSTRAINT alerts_kind_check;
ALTER TABLE alerts ADD CONSTRAINT alerts_kind_check
    CHECK (kind IN ('lag', 'error_rate', 'no_output', 'watermark_delay', 'failed', 'checkpoint_failed'));
