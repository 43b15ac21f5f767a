/**
 * `compiledAdapter: circonus`: Mixer's Circonus adapter params, with dimensions kept as stream
 * tags, real counter values, circllhist distributions and a submitter that does not lose a
 * failed payload. See README.md in this folder.
 */
import { defineAdapter, type AnyAdapter } from '../../core/adapter.js';
import { parseCirconusConfig, type CirconusConfig } from './config.js';
import { CirconusHandler } from './handler.js';

export const circonusAdapter: AnyAdapter = defineAdapter<CirconusConfig>({
  name: 'circonus',
  templates: ['metric'],
  parseConfig: parseCirconusConfig,
  createHandler: (config, instances, env) => new CirconusHandler(config, instances, env),
});

export {
  CIRCONUS_DEFAULTS,
  CirconusMetricType,
  MAX_PENDING_BYTES_LIMIT,
  MAX_RETRIES_LIMIT,
  MAX_SERIES_LIMIT,
  MIN_SUBMISSION_INTERVAL_MS,
  parseCirconusConfig,
  redactUrl,
  type CirconusConfig,
  type CirconusMetricConfig,
} from './config.js';
export { CIRCONUS_CODES, CirconusError, type CirconusCode } from './errors.js';
export { CIRCONUS_EVENTS, CirconusHandler, type CirconusHandlerOptions } from './handler.js';
export { encodeEntry, encodePayload, encodePayloadInChunks, encodeValue, goJsonString, type CirconusSample, type CirconusType } from './payload.js';
export { encodeBodyInSlices, KeyOrder, type PayloadBody } from './payload-body.js';
export {
  InstanceRecorder,
  OVERFLOW_TAG_VALUE,
  type DropReason,
  type RecordOutcome,
  type RecorderEvents,
  type TagKeyers,
  type TupleBudget,
} from './recorder.js';
export { Series, SeriesStore, type SeriesMode } from './store.js';
export {
  isGoSpace,
  MAX_METRIC_NAME_BYTES,
  MAX_TAG_CATEGORY_BYTES,
  MAX_TAG_PAIR_BYTES,
  MAX_TAGS,
  streamTaggedName,
  tagCategory,
  trimGoSpace,
  type StreamTaggedName,
  type TagCategory,
} from './stream-tags.js';
export { TagKeyer } from './tag-keys.js';
export {
  DEFAULT_BACKOFF_BASE_MS,
  DEFAULT_BACKOFF_MAX_MS,
  HttpTrapSubmitter,
  parseRetryAfter,
  type BrokerReceipt,
  type SubmitOutcome,
  type SubmitterOptions,
  type TextBody,
} from './submitter.js';
