// The built-in rolling request view behind `telemux stat` and `GET /api/v1/stat`.
export { createStatAdapter, STAT_ADAPTER_NAME } from './adapter.js';
export { parseStatConfig, STAT_DEFAULTS, STAT_DIMENSIONS, STAT_LIMITS, type StatConfig, type StatRole } from './config.js';
export { STAT_EVENTS, StatHandler } from './handler.js';
export {
  DEFAULT_STAT_WINDOW_MS,
  parseStatQuery,
  STAT_GROUPINGS,
  STAT_KEY_COLUMNS,
  stableJson,
  type EdgeRow,
  type ServiceRow,
  type StatGrouping,
  type StatMeasures,
  type StatQuery,
  type StatResult,
  type StatResultFor,
  type StatRow,
  type WorkloadRow,
} from './query.js';
export { StatViews, type StatQueryable } from './registry.js';
export { RollingSeries, StatAccumulator, type Slice } from './series.js';
export { OVERFLOW, StatView, type StatKey } from './view.js';
