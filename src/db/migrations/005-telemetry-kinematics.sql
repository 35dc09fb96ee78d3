-- telemetry kinematics: tool-tip position and gripper angle columns on raw_telemetry (force_n and latency_ms may be NULL)
-- Added by issue 15 (kinematics-only robots). FROZEN once released: never edit; fix a mistake in the next file.
-- force_n and latency_ms carry no NOT NULL in 001 (raw tables constrain only the key), so absent values need no change.

ALTER TABLE raw_telemetry ADD COLUMN IF NOT EXISTS tool_x_mm DOUBLE;

ALTER TABLE raw_telemetry ADD COLUMN IF NOT EXISTS tool_y_mm DOUBLE;

ALTER TABLE raw_telemetry ADD COLUMN IF NOT EXISTS tool_z_mm DOUBLE;

ALTER TABLE raw_telemetry ADD COLUMN IF NOT EXISTS gripper_angle_rad DOUBLE;
