export { Admission, bearerToken, type AdmissionObserver, type AdmissionOptions, type AdmissionResult, type Admitted } from './admission.js';
export { DEFAULT_SECURITY_POLL_MS, FilePoller, type FilePollerOptions } from './file-poller.js';
export { refusal, type Refusal, type RefusalReason } from './refusal.js';
export { DEFAULT_SERIES_IDLE_TTL_MS, SeriesCheck, SeriesHasher, SeriesQuota, type SeriesQuotaOptions } from './series-quota.js';
export { loadTenantsFile, parseTenants, TenantDirectory, type ParsedTenants, type TenantPolicy } from './tenants.js';
export { TenantsSource, type TenantsSourceOptions } from './tenants-source.js';
export { contextOptions, describeCertificate, loadTlsMaterial, TlsError, TlsSource, type TlsErrorCode, type TlsFiles, type TlsMaterial, type TlsSourceOptions } from './tls.js';
export { TokenBucket, type RateLimit } from './token-bucket.js';
