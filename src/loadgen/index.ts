// `telemux loadgen`: a simulated Bookinfo mesh reporting to a Mixer endpoint.
export { callAttributes, reportsOf } from './attributes.js';
export { BATCH_MAX_AGE_MS, BATCH_MAX_SETS, ProxyFleet, type Batch } from './fleet.js';
export { Prng } from './prng.js';
export { grpcSender, runLoad, type LoadOptions, type LoadSummary, type ReportSender } from './run.js';
export { BOOKINFO, type Behaviour, type Bookinfo, type Service, type Workload } from './topology.js';
export { TrafficModel, type Call } from './traffic.js';
